"""The province server's shipped configuration, run for real: units, nginx, gunicorn, scheduler."""

from __future__ import annotations

import gc
import gzip
import http.client
import json
import os
import re
import runpy
import signal
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    DEPLOY,
    REPO,
    SERVER,
    render_server,
    require,
    unit_command,
    unit_environment,
    unit_settings,
    wait_for,
)

from pg_support import free_port

UNITS = (
    "mot-cua-web.service",
    "mot-cua-scheduler.service",
    "mot-cua-backup.service",
    "mot-cua-backup.timer",
    "mot-cua-healthcheck.service",
    "mot-cua-healthcheck.timer",
)


def _render(dest: Path) -> str:
    """install.sh in DESTDIR mode, with the test certificate made beside ``dest``."""
    tls = dest.parent / "tls"
    if not tls.exists():
        tls.mkdir()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-keyout", str(tls / "key.pem"),
             "-out", str(tls / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
    done = render_server(dest, TLS_CERT=str(tls / "cert.pem"), TLS_KEY=str(tls / "key.pem"))
    return done.stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("server-root") / "dest"
    _render(dest)
    return dest


def _unit(rendered: Path, name: str) -> Path:
    return rendered / "etc/systemd/system" / name


def test_install_renders_every_file_and_a_second_run_changes_nothing(rendered: Path) -> None:
    assert sorted(p.name for p in (rendered / "etc/systemd/system").iterdir()) == sorted(UNITS)
    assert (rendered / "etc/nginx/sites-enabled/mot-cua").resolve() == (
        rendered / "etc/nginx/sites-available/mot-cua"
    )
    files = sorted(p for p in rendered.rglob("*") if p.is_file() and not p.is_symlink())
    assert len(files) == len(UNITS) + 3  # site, logrotate, server.env
    for path in files:
        assert not re.search("@[A-Z_]+@", path.read_text()), path
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in files}
    assert _render(rendered) == ""
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in files} == before


def test_systemd_analyze_verify_accepts_every_unit(rendered: Path) -> None:
    require("systemd-analyze")
    units = [str(_unit(rendered, name)) for name in UNITS]
    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # Unknown keys and bad values are only warnings: there must be none about our units.
    assert "mot-cua" not in result.stderr, result.stderr


def test_systemd_analyze_verify_catches_a_broken_unit(rendered: Path, tmp_path: Path) -> None:
    """The check above can fail: a unit whose program does not exist is refused."""
    broken = tmp_path / "mot-cua-web.service"
    text = _unit(rendered, "mot-cua-web.service").read_text()
    broken.write_text(text.replace(".venv/bin/gunicorn", ".venv/bin/no-such-gunicorn"))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0


def test_exactly_one_scheduler_is_declared(rendered: Path) -> None:
    schedulers = [
        unit
        for unit in (rendered / "etc/systemd/system").iterdir()
        if "scheduler" in " ".join(unit_settings(unit).get("ExecStart", []))
    ]
    assert [unit.name for unit in schedulers] == ["mot-cua-scheduler.service"]
    web = " ".join(unit_command(_unit(rendered, "mot-cua-web.service")))
    assert "scheduler" not in web


def test_every_shell_script_passes_shellcheck() -> None:
    require("shellcheck")
    scripts = sorted(
        path
        for path in DEPLOY.rglob("*")
        if path.is_file() and path.read_bytes().startswith(b"#!/usr/bin/env bash")
    )
    assert len(scripts) >= 7, scripts
    result = subprocess.run(
        ["shellcheck", "--severity=style", *map(str, scripts)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_logrotate_rotates_the_site_logs(rendered: Path, tmp_path: Path) -> None:
    """The shipped file, with this test's log directory, forced to rotate once."""
    require("logrotate")
    text = (rendered / "etc/logrotate.d/mot-cua").read_text()
    assert text.startswith("# ") and "/var/log/mot-cua/*.log {" in text
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "nginx-access.log").write_text("203.0.113.7 - - GET /healthz 200\n")
    config = tmp_path / "mot-cua"
    config.write_text(text.replace("/var/log/mot-cua", str(logs)))
    result = subprocess.run(
        ["logrotate", "--force", "--state", str(tmp_path / "state"), str(config)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = sorted(path.name for path in logs.iterdir())
    assert len(names) == 2 and names[0] == "nginx-access.log", names
    assert names[1].startswith("nginx-access.log-")  # dateext; compressed at the next rotation
    assert (logs / "nginx-access.log").read_text() == ""
    assert oct((logs / "nginx-access.log").stat().st_mode & 0o777) == "0o640"


# -- nginx and gunicorn, for real ------------------------------------------------------------


def _minimal_nginx(prefix: Path, site: Path) -> Path:
    (prefix / "logs").mkdir(exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/logs/error.log;\n"
        "events {}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        f"    access_log {prefix}/logs/access.log;\n"
        f"    include {site};\n"
        "}\n"
    )
    return conf


def _site_for_test(rendered: Path, tmp_path: Path, http: int, https: int, upstream: int) -> Path:
    """The rendered site with this test's ports and log directory (the only changes)."""
    text = (rendered / "etc/nginx/sites-available/mot-cua").read_text()
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http};")
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;")
    text = "\n".join(line for line in text.splitlines() if "listen [::]" not in line)
    text = text.replace("127.0.0.1:8000", f"127.0.0.1:{upstream}")
    text = text.replace("/var/log/mot-cua", str(tmp_path))
    site = tmp_path / "site.conf"
    site.write_text(text)
    return site


def test_nginx_accepts_the_site_with_a_test_certificate(rendered: Path, tmp_path: Path) -> None:
    require("nginx")
    site = _site_for_test(rendered, tmp_path, free_port(), free_port(), 8000)
    conf = _minimal_nginx(tmp_path, site)
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def _run_pre(unit: Path, working_directory: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        unit_command(unit, "ExecStartPre"), cwd=working_directory, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def gunicorn(rendered: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """gunicorn started exactly as mot-cua-web.service starts it (ExecStartPre, then ExecStart,
    with the unit's environment), on a SQLite database; yields its port once it said READY.
    Started once for the module (the machine may be slow)."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    unit = _unit(rendered, "mot-cua-web.service")
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        **unit_environment(unit),
        # What /etc/mot-cua/server.env and the state directory would give:
        "INSTANCE_PATH": str(tmp_path / "state"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}",
        "TRUST_PROXY_HOPS": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
    }
    (working_directory,) = unit_settings(unit)["WorkingDirectory"]
    assert Path(working_directory) == REPO
    _run_pre(unit, working_directory, env)
    # Type=notify: gunicorn must tell systemd it is ready, or systemd would kill it.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(30)
    process = subprocess.Popen(
        unit_command(unit),
        cwd=working_directory,
        env={**env, "NOTIFY_SOCKET": str(tmp_path / "notify")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        message = notify.recv(4096).decode()
        assert "READY=1" in message
        yield port
    finally:
        notify.close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr.decode()[-2000:]


def test_gunicorn_started_as_its_unit_answers_healthz(gunicorn: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=30)
    status, _, body = _request(connection, "GET", "/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "db": "ok"}


def test_gunicorn_freezes_the_preloaded_app_before_each_fork() -> None:
    settings = runpy.run_path(str(SERVER / "gunicorn.conf.py"))
    assert settings["preload_app"] is True
    gc.unfreeze()
    try:
        settings["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.fixture
def nginx(rendered: Path, tmp_path: Path, gunicorn: int) -> Iterator[tuple[int, int]]:
    """nginx running the rendered site in front of the gunicorn above: (http, https) ports."""
    require("nginx")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    ports = (free_port(), free_port())
    conf = _minimal_nginx(prefix, _site_for_test(rendered, prefix, *ports, gunicorn))
    process = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: _port_open(ports[1]), "nginx to listen")
        yield ports
    finally:
        process.send_signal(signal.SIGQUIT)
        process.communicate(timeout=30)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


Reply = tuple[int, http.client.HTTPMessage, bytes]


def _request(connection: http.client.HTTPConnection, method: str, path: str, **kw: Any) -> Reply:
    try:
        connection.request(method, path, **kw)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _https(port: int, method: str, path: str, **kw: Any) -> Reply:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    return _request(connection, method, path, **kw)


def test_nginx_site_in_front_of_gunicorn(nginx: tuple[int, int]) -> None:
    http_port, https_port = nginx

    plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
    status, headers, _ = _request(
        plain, "GET", "/healthz", headers={"Host": "khaosat.example.gov.vn"}
    )
    assert status == 301
    assert headers["Location"] == "https://khaosat.example.gov.vn/healthz"

    status, headers, body = _https(https_port, "GET", "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    # Exactly one HSTS header (the app's own is hidden behind nginx's).
    assert headers.get_all("Strict-Transport-Security") == ["max-age=63072000; includeSubDomains"]

    # Static files come from the repository's static/ folder, gzipped, with HSTS too.
    css = max((REPO / "static").rglob("*.css"), key=lambda path: path.stat().st_size)
    assert css.stat().st_size > 512  # gzip_min_length
    status, headers, body = _https(
        https_port,
        "GET",
        "/" + str(css.relative_to(REPO)),
        headers={"Accept-Encoding": "gzip"},
    )
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == css.read_bytes()
    assert headers["Strict-Transport-Security"]

    # nginx refuses an oversized API body before it reaches the app.
    status, _, _ = _https(
        https_port, "POST", "/api/v1/responses", body=b"x" * 200_000,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 413


def test_scheduler_started_as_its_unit_runs(rendered: Path, tmp_path: Path) -> None:
    unit = _unit(rendered, "mot-cua-scheduler.service")
    command = unit_command(unit)
    assert command[1:] == ["--app", "survey_server", "scheduler"]
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        **unit_environment(unit),
        "INSTANCE_PATH": str(tmp_path / "state"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}",
    }
    (working_directory,) = unit_settings(unit)["WorkingDirectory"]
    log = tmp_path / "scheduler.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=working_directory, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: "Scheduler started" in log.read_text(), "the scheduler to start")
        started = [line for line in log.read_text().splitlines() if "Scheduler started" in line]
        assert "rating-previous-month" in started[0]
        assert process.poll() is None  # it keeps running, waiting for its jobs
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    # systemd counts death by SIGTERM as a clean stop.
    assert process.returncode in (0, -signal.SIGTERM)


def test_health_check_script(gunicorn: int, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HEALTHCHECK_URL": f"http://127.0.0.1:{gunicorn}/healthz",
        "BACKUP_DIR": str(backups),
    }
    script = str(SERVER / "healthcheck.sh")
    no_backup = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert no_backup.returncode == 1
    assert "ok web" in no_backup.stdout
    assert "FAIL backup" in no_backup.stderr
    (backups / "survey-20261001T173000Z.dump").write_bytes(b"x")
    healthy = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert healthy.returncode == 0, healthy.stderr
    down = {**env, "HEALTHCHECK_URL": f"http://127.0.0.1:{free_port()}/healthz"}
    failing = subprocess.run([script], env=down, capture_output=True, text=True, check=False)
    assert failing.returncode == 1
    assert "FAIL web" in failing.stderr
