"""The migrations build the whole schema from an empty database, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from builders import BACKENDS, make_app
from survey_server.extensions import db

pytestmark = BACKENDS


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
