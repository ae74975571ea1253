"""Fixtures: the app on SQLite (default) or on the real PostgreSQL server of the session."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade

from builders import World, build_world, make_app  # noqa: E402  (tests/ is on sys.path)
from pg_support import PostgresServer
from survey_server.extensions import db

_database_numbers = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test gets a copy of the file."""
    directory = tmp_path_factory.mktemp("sqlite-template")
    path = directory / "template.db"
    app = make_app(f"sqlite:///{path}", directory)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, with a migrated template database.

    No skip: if the server cannot start, the PostgreSQL tests fail (CI must run them).
    """
    server = PostgresServer().start()
    try:
        server.execute("CREATE DATABASE survey_template")
        app = make_app(server.url("survey_template"), Path(server.root))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless a test module parametrizes it (indirect) with ``postgresql``."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"test_{next(_database_numbers)}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE survey_template")
    try:
        yield server.url(name)
    finally:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """A database with no tables at all (the migration tests build on it)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"empty_{tmp_path.name.replace('-', '_').lower()}"[:60]
    server.execute(f"CREATE DATABASE {name}")
    request.addfinalizer(lambda: server.execute(f"DROP DATABASE {name} WITH (FORCE)"))
    return server.url(name)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Settings of the ``app`` fixture over the test defaults; a module overrides this fixture
    (the fuzz and conformance tests turn the rate limits off)."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_overrides: dict[str, Any]) -> Iterator[Flask]:
    app = make_app(database_url, tmp_path / "instance", **app_overrides)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def world(app: Flask) -> World:
    """A small province: one unit, centre, counter, three officers, a kiosk and a key."""
    with app.app_context():
        return build_world(db.session)
