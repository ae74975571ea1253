"""Extensions, created unbound and bound to the app in :func:`survey_server.create_app`."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that Alembic migrations work the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def locale_from_request() -> str:
    """Vietnamese unless the person chose another language (``?lang=`` or the ``lang`` cookie)."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get("lang")):
        if candidate in languages:
            return candidate
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
# The user loader and the login view are the dashboard's (survey_server/dashboard/).
login_manager = LoginManager()
login_manager.login_view = "dashboard.login"
