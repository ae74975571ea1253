"""The migrations build the whole schema from an empty database, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from builders import BACKENDS, make_app
from pg_support import PostgresServer
from survey_server.extensions import db

pytestmark = BACKENDS


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"empty_{tmp_path.name.replace('-', '_').lower()}"[:60]
    server.execute(f"CREATE DATABASE {name}")
    request.addfinalizer(lambda: server.execute(f"DROP DATABASE {name} WITH (FORCE)"))
    return server.url(name)


def test_upgrade_from_empty_matches_the_models_and_downgrades(
    empty_database_url: str, tmp_path: Path
) -> None:
    app = make_app(empty_database_url, tmp_path / "instance")
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()
