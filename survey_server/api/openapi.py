"""The OpenAPI document of the two APIs, served at ``GET /api/v1/openapi.json``.

The document is a data file beside this module (``openapi.json``); the tests check the server
against it (``tests/survey_server/test_openapi_conformance.py``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Response as FlaskResponse
from flask import jsonify

from ..extensions import limiter
from . import bp

DOCUMENT = Path(__file__).with_name("openapi.json")


@cache
def openapi_document() -> dict[str, Any]:
    """The parsed document (read once per process)."""
    document: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return document


@bp.get("/openapi.json")
@limiter.exempt
def openapi() -> FlaskResponse:
    return jsonify(openapi_document())
