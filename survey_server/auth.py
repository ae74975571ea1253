"""Who is logged in to the dashboard (Flask-Login's user loader)."""

from __future__ import annotations

from .extensions import db, login_manager
from .models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The active user of the session's id, or None (then the person is anonymous)."""
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None
