"""TRUST_PROXY_HOPS: behind nginx the client's address and scheme come from its headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, request

from builders import make_app

FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "khaosat.example.gov.vn",
}


def _echo_app(tmp_path: Path, hops: int | None) -> Flask:
    app = make_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path / "instance", TRUST_PROXY_HOPS=hops)

    @app.get("/_whoami")
    def whoami() -> dict[str, str]:
        return {"addr": request.remote_addr or "", "scheme": request.scheme, "host": request.host}

    return app


@pytest.mark.parametrize(
    ("hops", "headers", "expected"),
    [
        # The default trusts no header: a client cannot claim another address.
        (None, FORWARDED, {"addr": "10.0.0.5", "scheme": "http", "host": "localhost"}),
        (0, FORWARDED, {"addr": "10.0.0.5", "scheme": "http", "host": "localhost"}),
        (
            1,
            FORWARDED,
            {"addr": "203.0.113.7", "scheme": "https", "host": FORWARDED["X-Forwarded-Host"]},
        ),
        # nginx appends the address it saw: with one hop only that last one is believed.
        (
            1,
            {**FORWARDED, "X-Forwarded-For": "1.2.3.4, 203.0.113.7"},
            {"addr": "203.0.113.7", "scheme": "https", "host": FORWARDED["X-Forwarded-Host"]},
        ),
    ],
)
def test_trust_proxy_hops(
    tmp_path: Path, hops: int | None, headers: dict[str, str], expected: dict[str, str]
) -> None:
    client = _echo_app(tmp_path, hops).test_client()
    response = client.get("/_whoami", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert response.get_json() == expected


def test_trust_proxy_hops_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUST_PROXY_HOPS", "1")
    app = make_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path / "instance")
    assert app.config["TRUST_PROXY_HOPS"] == 1
