"""A real gunicorn serving the app on a test database, for tests that need real processes.

Started on a free localhost port with the test database's environment, it is ready once
``/healthz`` answers 200. It runs in its own process group, so that ``kill`` (SIGKILL to the
group) cuts the master and every worker wherever they are, as a power cut of the process would;
``start`` again brings it back on the same port. When it does not come up, the error carries
its log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pg_support import free_port

START_SECONDS = 60


class Gunicorn:
    """gunicorn on one port, that can be killed outright and started again."""

    def __init__(
        self,
        database_url: str,
        directory: Path,
        *,
        app: str = "survey_server:create_app()",
        workers: int = 2,
        threads: int = 4,
        preload: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = directory / "gunicorn.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(directory / "server-instance"),
            "SECRET_KEY": "gunicorn-test",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        # --preload as in deploy/: the app is imported once, then forked (create_app opens no
        # database connection, so the workers share none); it also halves each restart.
        self.command = [
            sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
            *(["--preload"] if preload else []), "--bind", f"127.0.0.1:{self.port}", app,
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        """Start (or start again, on the same port) and wait until /healthz answers."""
        with self.log.open("ab") as sink:
            # Its own process group, so that one killpg reaches the master and every worker.
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the master and its workers (counted in ``kills``)."""
        self._kill_group()
        self.kills += 1

    def stop(self) -> None:
        """The end of the test: kill what still runs (not counted as a kill)."""
        if self.process is not None and self.process.poll() is None:
            self._kill_group()

    def _kill_group(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def running(server: Gunicorn) -> Iterator[Gunicorn]:
    """The server started, and stopped at the end whatever happened."""
    try:
        server.start()
        yield server
    finally:
        server.stop()


def post_json(url: str, body: Any, token: str, timeout: float) -> int:
    """POST ``body`` as JSON with a bearer token; the HTTP status (an OSError when no answer)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
