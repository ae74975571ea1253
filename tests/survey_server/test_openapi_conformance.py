"""The server against its published OpenAPI document (schemathesis, in-process, bounded).

Positive and negative bodies generated from ``survey_server/api/openapi.json`` are sent to both
APIs with valid credentials; schemathesis checks status codes, content types, headers and bodies
against the document, and that bodies the document forbids are refused. Not checked:
``positive_data_acceptance``: a body valid by the document may still name an officer or a
dossier the server does not know, which the contract refuses with 422.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import func, select

from builders import BACKENDS, World, dossier_body, response_body
from survey_server.api.openapi import openapi_document
from survey_server.extensions import db
from survey_server.models import Dossier, Response

pytestmark = BACKENDS

EXAMPLES = 60  # per operation and generation mode: bounded, the suite must stay fast


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The app without rate limits: hundreds of requests from one kiosk in a few seconds."""
    return {"RATELIMIT_ENABLED": False}


# A body the document forbids must be refused with one of the contract's statuses; 413 too
# (schemathesis does not count it by default).
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [401, 409, 413, 422, 429]}}}
)


def conforms(app: Flask, path: str, auth: dict[str, str], mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    strategy = schema[path]["POST"].as_strategy(generation_mode=mode)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])

    check()


def count(app: Flask, model: type[Response] | type[Dossier]) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_document_is_served_and_names_both_apis(app: Flask) -> None:
    reply = app.test_client().get("/api/v1/openapi.json")
    assert reply.status_code == 200
    assert reply.json == openapi_document()
    assert reply.json["openapi"].startswith("3.")
    assert {"/api/v1/responses", "/api/v1/dossiers", "/healthz"} <= set(reply.json["paths"])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_responses_api_conforms_to_the_document(
    app: Flask, world: World, mode: GenerationMode
) -> None:
    conforms(app, "/api/v1/responses", world.device_auth, mode)
    if mode is GenerationMode.NEGATIVE:
        assert count(app, Response) == 0  # nothing the document forbids was stored


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_dossiers_api_conforms_to_the_document(
    app: Flask, world: World, mode: GenerationMode
) -> None:
    conforms(app, "/api/v1/dossiers", world.key_auth, mode)
    if mode is GenerationMode.NEGATIVE:
        assert count(app, Dossier) == 0


def test_success_and_error_replies_match_the_document(app: Flask, world: World) -> None:
    """The generated bodies rarely name known codes: send the contract's own cases too."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    dossiers, responses = schema["/api/v1/dossiers"]["POST"], schema["/api/v1/responses"]["POST"]
    answer = response_body()
    cases = [
        (dossiers, dossier_body(), world.key_auth, 201),
        (dossiers, dossier_body(procedure="Cấp đổi"), world.key_auth, 200),
        (dossiers, dossier_body(), {"Authorization": "Bearer nope"}, 401),
        (responses, answer, world.device_auth, 201),
        (responses, answer, world.device_auth, 200),
        (responses, {**answer, "answers": {"overall": 1}}, world.device_auth, 409),
        (responses, response_body(officer="NOBODY"), world.device_auth, 422),
        (responses, response_body(), {"Authorization": "Bearer nope"}, 401),
    ]
    for operation, body, auth, status in cases:
        case = operation.Case(body=body, media_type="application/json")
        reply = case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])
        assert reply.status_code == status, (body, reply.text)
    assert count(app, Response) == 1 and count(app, Dossier) == 1


def test_health_check_conforms_to_the_document(app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    @settings(max_examples=3, deadline=None, database=None)
    @given(case=schema["/healthz"]["GET"].as_strategy(), _=st.none())
    def check(case: schemathesis.Case, _: None) -> None:
        case.call_and_validate()

    check()
