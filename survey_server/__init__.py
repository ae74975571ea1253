"""The survey server: a Flask application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import writer_lock
from .config import load_config
from .extensions import babel, csrf, db, limiter, locale_from_request, login_manager, migrate

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Execution option of a session's first connection, on SQLite: a plain (deferred) BEGIN, one
# consistent snapshot for several reads without the write lock, so that a long read (the rating
# job's month of GROUP BYs) does not hold up the kiosks' writes. It must not write.
READ_SNAPSHOT_BEGIN = "sqlite_read_snapshot_begin"
# Shared CSS, fonts, icons and audio prompts live at the top of the repository (STYLE.md).
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the application. ``test_config`` overrides the environment's configuration."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or None,
        instance_relative_config=True,
        static_folder=str(STATIC_DIR),
    )
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(instance_path, test_config))
    hops = int(app.config["TRUST_PROXY_HOPS"])
    if hops > 0:
        # The real client address (rate limits, logs) comes from the proxy's headers.
        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]

    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    babel.init_app(app, locale_selector=locale_from_request)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        _configure_engine(db.engine, int(app.config["SQLITE_BUSY_TIMEOUT_MS"]))

    from kiosk import bp as kiosk_bp

    from . import auth, cli, formatting, forms_registry  # noqa: F401  (auth: the user loader)
    from .admin import alerts_bp as admin_alerts_bp
    from .admin import bp as admin_bp
    from .admin import photos_bp as officer_photos_bp
    from .api import bp as api_bp
    from .dashboard import bp as dashboard_bp
    from .index_web import bp as index_bp
    from .qr import bp as qr_bp
    from .tt01_web import bp as tt01_bp
    from .web import bp as web_bp

    forms_registry.init_app(app)
    formatting.init_app(app)
    app.register_blueprint(web_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(admin_alerts_bp)
    app.register_blueprint(officer_photos_bp)
    app.register_blueprint(index_bp)
    app.register_blueprint(qr_bp)
    app.register_blueprint(tt01_bp)
    auth.init_app(app)
    cli.init_app(app)
    return app


def _configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """SQLite: WAL, foreign keys, busy timeout, synchronous=FULL and write transactions that
    take the write lock up front (BEGIN IMMEDIATE), so that concurrent writers wait for each
    other instead of failing with "database is locked" half way through."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()
        # For writer_lock.write_turn, the kiosk API's turn among writers.
        record.info[writer_lock.LOCK_PATH] = writer_lock.lock_path_for(engine.url.database)
        record.info[writer_lock.BUSY_TIMEOUT_MS] = busy_timeout_ms

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        connection.exec_driver_sql(
            "BEGIN" if options.get(READ_SNAPSHOT_BEGIN, False) else "BEGIN IMMEDIATE"
        )
