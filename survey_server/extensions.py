"""Extensions, created unbound and bound to the app in :func:`survey_server.create_app`."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import TypeAlias

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

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
        if candidate is not None and candidate in languages:
            return candidate
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


class SweptMemoryStorage(MemoryStorage):
    """``memory://`` (the default rate-limit storage) without a thread per request.

    limits' MemoryStorage starts a ``threading.Timer`` to purge expired counters on every hit
    that finds the previous timer finished, i.e. on almost every request of a kiosk API that
    is not flooded, and ``Thread.start`` waits for the new thread to run: a context switch on
    the ingest path (bench/ingest.py). The counters themselves already expire on read, so this
    class purges the other keys inline, at most once per :attr:`SWEEP_SECONDS`. Registered
    under the same scheme, it is what ``RATELIMIT_STORAGE_URI=memory://`` gives.
    """

    STORAGE_SCHEME = ["memory"]
    SWEEP_SECONDS = 1.0
    _next_sweep = 0.0
    _sweeping = threading.Lock()  # one sweep at a time (gthread workers)

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802  (overrides the private hook)
        now = time.monotonic()
        if now < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.SWEEP_SECONDS
            # A hit may expire a key while the sweep looks at it; the next sweep goes on.
            with contextlib.suppress(KeyError):
                self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweeping.release()


class JSONText(str):
    """Text that is already JSON: a JSON column stores it as it is, instead of encoding the
    string once more. The rating job has each result's reasons as JSON text already (it hashes
    it for the digest); encoding the same structures again was a fifth of a month's run."""


def json_serializer(value: object) -> str:
    """The engines' JSON encoder: ``json.dumps``, except for :class:`JSONText`."""
    if isinstance(value, JSONText):
        return str.__str__(value)
    return json.dumps(value)


db = SQLAlchemy(model_class=Base, engine_options={"json_serializer": json_serializer})
#: The session a use-case is given: ``db.session`` (the scoped session of the app context: views,
#: CLI, scheduler), or a plain :class:`~sqlalchemy.orm.Session` (a run's own session, tests).
#: Both offer the Session methods the use-cases call.
DbSession: TypeAlias = Session | scoped_session[FlaskSession]
migrate = Migrate(render_as_batch=True, compare_type=True)
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
# The user loader and the login view are the dashboard's (survey_server/dashboard/).
login_manager = LoginManager()
login_manager.login_view = "dashboard.login"
