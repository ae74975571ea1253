"""Submissions racing each other against a real server (gunicorn, 2 workers × 8 threads)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from builders import BACKENDS, World, dossier_body, response_body
from gunicorn_support import Gunicorn, post_json, running
from survey_server.extensions import db
from survey_server.models import Response

pytestmark = BACKENDS

CONCURRENT = 50


@pytest.fixture
def server(app: Flask, world: World, database_url: str, tmp_path: Path) -> Iterator[str]:
    with running(Gunicorn(database_url, tmp_path, threads=8, preload=False)) as gunicorn:
        yield gunicorn.base


def all_at_once(url: str, bodies: list[Any], token: str) -> Counter[int]:
    """Send every body from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []
    lock = threading.Lock()

    def send(body: Any) -> None:
        barrier.wait()
        status = post_json(url, body, token, timeout=60)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


def stored(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Response)) or 0)


def test_identical_submissions_store_one_and_answer_200(
    app: Flask, world: World, server: str
) -> None:
    body = response_body()
    statuses = all_at_once(f"{server}/api/v1/responses", [body] * CONCURRENT, world.device_token)
    assert statuses == Counter({201: 1, 200: CONCURRENT - 1})
    assert stored(app) == 1


def test_conflicting_submissions_store_one_and_answer_409(
    app: Flask, world: World, server: str
) -> None:
    first = response_body()
    bodies = [{**first, "answers": {"overall": 1 + n % 5, "comment": f"#{n}"}} for n in range(50)]
    statuses = all_at_once(f"{server}/api/v1/responses", bodies, world.device_token)
    assert statuses == Counter({201: 1, 409: CONCURRENT - 1})
    assert stored(app) == 1


def test_many_answers_to_one_dossier_keep_only_the_first(
    app: Flask, world: World, server: str
) -> None:
    reply = post_json(f"{server}/api/v1/dossiers", dossier_body(), world.integration_key, 60)
    assert reply == 201
    bodies = [response_body(dossier_code="HS-0001") for _ in range(CONCURRENT)]
    statuses = all_at_once(f"{server}/api/v1/responses", bodies, world.device_token)
    assert statuses == Counter({201: 1, 409: CONCURRENT - 1})
    assert stored(app) == 1
