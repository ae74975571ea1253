"""Helpers for the deployment tests: render the shipped files, read units, wait for servers."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SERVER = DEPLOY / "server"
PI = DEPLOY / "raspberrypi"


def require(*tools: str) -> None:
    """The Debian tools these tests run for real (installed by `make test`): fail, never skip."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    assert not missing, f"missing {missing}: run `make test` (it installs them)"


def render_server(destdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run deploy/server/install.sh in DESTDIR mode, as a province would without DESTDIR."""
    settings = {"SERVER_NAME": "khaosat.example.gov.vn", "APP_DIR": str(REPO), **env}
    return subprocess.run(
        [str(SERVER / "install.sh")],
        env={**os.environ, **settings, "DESTDIR": str(destdir)},
        capture_output=True,
        text=True,
        check=True,
    )


def unit_settings(unit: Path) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit file, by key (a key may repeat)."""
    settings: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def unit_command(unit: Path, key: str = "ExecStart") -> list[str]:
    (command,) = unit_settings(unit)[key]
    return shlex.split(command)


def unit_environment(unit: Path) -> dict[str, str]:
    """The unit's ``Environment=`` assignments (EnvironmentFile is supplied by each test)."""
    env: dict[str, str] = {}
    for assignment in unit_settings(unit).get("Environment", []):
        for item in shlex.split(assignment):
            key, value = item.split("=", 1)
            env[key] = value
    return env


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
