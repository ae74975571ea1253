"""Who may see what: roles, and the units a user's pages and exports are limited to.

Anything outside a user's scope answers 404, never 403: a guessed id must not reveal that the
unit, officer or report exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import DbSession, db
from ..models import Officer, Unit, User

F = TypeVar("F", bound=Callable[..., Any])
APPRAISER_ROLES = ("admin",)


def role_required(*roles: str) -> Callable[[F], F]:
    """Log in first; then a user whose role is not among ``roles`` gets 404."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return cast(F, login_required(wrapped))

    return decorate


def descendant_unit_ids(session: DbSession, root_id: int) -> set[int]:
    """The unit and all its sub-units (one query; the tree is walked in memory)."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    found = {root_id}
    stack = [root_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def visible_unit_ids(user: User, session: DbSession | None = None) -> set[int] | None:
    """None (every unit) for an admin; a head's or viewer's unit and its sub-units; else none."""
    if user.role == "admin":
        return None
    if user.unit_id is None:
        return set()
    return descendant_unit_ids(session or db.session, user.unit_id)


def can_see_unit(user: User, unit_id: int) -> bool:
    visible = visible_unit_ids(user)
    return visible is None or unit_id in visible


def can_decide(user: User) -> bool:
    """Heads and admins act (decide, record, approve); viewers only read."""
    return user.role in ("admin", "head")


def can_appraise(user: User) -> bool:
    """The appraised index scores (điểm thẩm định) are the Department of Home Affairs' to
    enter, through its province administrators; a unit head enters self-assessed ones only."""
    return user.role in APPRAISER_ROLES


def get_unit_or_404(user: User, unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None or not can_see_unit(user, unit.id):
        abort(404)
    return unit


def get_unit_by_code_or_404(user: User, code: str) -> Unit:
    unit: Unit | None = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not can_see_unit(user, unit.id):
        abort(404)
    return unit


def visible_active_units(user: User) -> list[Unit]:
    """The active units a user may see, by code."""
    allowed = visible_unit_ids(user)
    query = select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)
    if allowed is not None:
        query = query.where(Unit.id.in_(list(allowed)))
    return list(db.session.scalars(query))


def get_officer_or_404(user: User, officer_id: int) -> Officer:
    officer = db.session.get(Officer, officer_id)
    if officer is None or not can_see_unit(user, officer.unit_id):
        abort(404)
    return officer
