"""What the benchmarks share (not a benchmark itself: ``make bench`` skips ``_*.py``).

- :class:`Results`: one JSON line per figure in ``bench/results.jsonl`` (or ``$BENCH_RESULTS``),
  in the format bench/README.md documents;
- :class:`Gunicorn` and :func:`free_port`: a real gunicorn server on localhost, started in its own
  process group and stopped with it;
- :func:`survey_database`, :func:`one_counter` and :func:`survey_env`: the survey server's own
  database for a benchmark, the one-counter commune several of them use, and the server's
  environment.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS") or ROOT / "bench" / "results.jsonl")


def machine() -> str:
    """Host name, architecture and CPU count: the ``machine`` of every figure."""
    return f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs"


class Results:
    """The figures of one run of one benchmark, appended to the results file as they come."""

    def __init__(self, bench: str) -> None:
        self.base = {
            "bench": bench,
            "at": dt.datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine(),
        }

    def add(
        self,
        figure: str,
        value: float,
        unit: str,
        target: str | None = None,
        **context: Any,
    ) -> None:
        line: dict[str, Any] = {**self.base, "figure": figure, "value": value, "unit": unit}
        if target is not None:
            line["target"] = target
        line.update(context)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(line, ensure_ascii=False) + "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Gunicorn:
    """``gunicorn --workers N app`` on 127.0.0.1, ready once ``GET /healthz`` answers 200."""

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        log: Path,
        *,
        workers: int = 2,
        port: int | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.port = port or free_port()
        command = [
            sys.executable, "-m", "gunicorn", "--workers", str(workers),
            "--bind", f"127.0.0.1:{self.port}",
            "--pythonpath", str(ROOT / "bench"), "--chdir", str(ROOT), *extra, app,
        ]  # fmt: skip
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                command,
                env={**os.environ, **env},
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start ({app}); see {log}")
            time.sleep(0.2)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# -- the survey server's database -------------------------------------------------------------


def survey_database(folder: Path, secret: str) -> tuple[Any, str]:
    """The survey server on a new SQLite file ``folder/survey.db``, migrated; and the file's URL.

    Sets INSTANCE_PATH (``folder/instance``) and puts the repository first on ``sys.path``, so
    that the app's ``kiosk`` package wins over ``bench/kiosk.py``.
    """
    sys.path.insert(0, str(ROOT))
    os.environ["INSTANCE_PATH"] = str(folder / "instance")
    from flask_migrate import upgrade

    from survey_server import create_app

    url = f"sqlite:///{folder / 'survey.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret, "LOG_LEVEL": "ERROR"})
    with app.app_context():
        upgrade()
    return app, url


def one_counter(session: Any) -> tuple[Any, Any, Any, Any]:
    """A commune, its one-stop centre, one counter and its desk officer, added to ``session``."""
    from survey_server.models import Centre, Counter, Officer, Unit

    unit = Unit(code="U-BENCH", name="UBND phường Đo Tải", level="commune")
    centre = Centre(code="C-BENCH", name="Trung tâm Phục vụ hành chính công", unit=unit)
    counter = Counter(code="K-BENCH", name="Quầy 1", centre=centre)
    officer = Officer(code="CB001", name="Lò Thị Hoa", unit=unit, group="reception")
    session.add_all([unit, centre, counter, officer])
    return unit, centre, counter, officer


def survey_env(folder: Path, url: str, secret: str, **settings: str) -> dict[str, str]:
    """The environment of a gunicorn survey server on ``url`` (plus ``settings``)."""
    return {
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(folder / "instance"),
        "SECRET_KEY": secret,
        "LOG_LEVEL": "WARNING",
        **settings,
    }
