"""backup.sh and restore.sh for real: a backup restored into a fresh database has every row."""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from deploy_support import SERVER, require
from flask import Flask
from sqlalchemy import create_engine, inspect, select, text

from builders import BACKENDS, World
from pg_support import PostgresServer
from survey_server.extensions import db

_restores = itertools.count()


def _script_env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **extra}


def _backup(database_url: str, backups: Path) -> Path:
    done = subprocess.run(
        [str(SERVER / "backup.sh")],
        env=_script_env(DATABASE_URL=database_url, BACKUP_DIR=str(backups)),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (path,) = done.stdout.split()
    return Path(path)


def _restore(backup: Path, target_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SERVER / "restore.sh"), str(backup), target_url],
        env=_script_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip


def _every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            rows = {}
            for name in tables:
                table = db.metadata.tables.get(name)
                if table is None:  # alembic_version
                    result = connection.execute(text(f"SELECT * FROM {name}"))
                else:
                    result = connection.execute(select(table).order_by(*table.primary_key))
                rows[name] = sorted(map(tuple, result), key=repr)
            return rows
    finally:
        engine.dispose()


@BACKENDS
def test_backup_restored_into_a_fresh_database_has_every_row(
    app: Flask, world: World, database_url: str, backend: str, tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    require("sqlite3", "pg_dump", "pg_restore", "psql")
    with app.app_context():
        db.engine.dispose()
    original = _every_row(database_url)
    assert original["officers"] and original["devices"] and original["audit_log"]

    backup = _backup(database_url, tmp_path / "backups")
    assert backup.suffix == (".dump" if backend == "postgresql" else ".gz")
    assert oct(backup.stat().st_mode & 0o777) == "0o600"

    if backend == "sqlite":
        target = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        name = f"restored_{next(_restores)}"
        server.execute(f"CREATE DATABASE {name}")
        target = server.url(name)
    done = _restore(backup, target)
    assert done.returncode == 0, done.stderr
    assert _every_row(target) == original

    # Restoring over a database that has data is refused, and changes nothing.
    again = _restore(backup, target)
    assert again.returncode == 1
    assert _every_row(target) == original


def test_backup_refuses_an_unknown_database_url(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SERVER / "backup.sh")],
        env=_script_env(DATABASE_URL="mysql://x/y", BACKUP_DIR=str(tmp_path)),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert list(tmp_path.iterdir()) == []


def test_retention_keeps_recent_days_and_monthly_backups(tmp_path: Path) -> None:
    require("sqlite3")
    database = tmp_path / "survey.db"
    subprocess.run(["sqlite3", str(database), "CREATE TABLE t (x); INSERT INTO t VALUES (1);"],
                   check=True)  # fmt: skip
    backups = tmp_path / "backups"
    backups.mkdir()
    now = time.time()
    ages = {
        "survey-20261120T173000Z.sqlite.gz": 3,  # recent: kept
        "survey-20261105T173000Z.sqlite.gz": 18,  # a daily one past 14 days: deleted
        "survey-20261001T173000Z.dump": 53,  # the 1st of a month: kept for 12 months
        "survey-20250901T173000Z.dump": 448,  # a monthly one past 12 months: deleted
        "survey-20261122T173000Z.dump.partial": 1,  # an interrupted run: deleted
        "notes.txt": 900,  # not ours: never touched
    }
    for name, days in ages.items():
        path = backups / name
        path.write_bytes(b"x")
        os.utime(path, (now - days * 86400, now - days * 86400))
    new = _backup(f"sqlite:///{database}", backups)
    assert sorted(path.name for path in backups.iterdir()) == sorted(
        [new.name, "survey-20261120T173000Z.sqlite.gz", "survey-20261001T173000Z.dump",
         "notes.txt"]
    )  # fmt: skip


def test_setup_postgresql_creates_the_role_and_database_once(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    env_file = tmp_path / "server.env"
    env_file.write_text("PUBLIC_BASE_URL=https://khaosat.example.gov.vn\nDATABASE_URL=old\n")
    env = _script_env(
        PGHOST="127.0.0.1", PGPORT=str(postgres.port), ENV_FILE=str(env_file),
        DB_NAME="motcua_setup", DB_USER="motcua_setup",
    )  # fmt: skip
    script = str(SERVER / "setup-postgresql.sh")
    first = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    written = env_file.read_text()
    assert written.startswith("PUBLIC_BASE_URL=https://khaosat.example.gov.vn\n")
    (url,) = [line[13:] for line in written.splitlines() if line.startswith("DATABASE_URL=")]
    assert url.startswith("postgresql://motcua_setup:") and url.endswith("/motcua_setup")

    second = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    assert env_file.read_text() == written
    assert "created" not in second.stdout

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            owner = connection.execute(
                text(
                    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'motcua_setup'"
                )
            ).scalar_one()
            assert owner == "motcua_setup"
            assert connection.execute(text("SELECT current_user")).scalar_one() == "motcua_setup"
    finally:
        engine.dispose()
