"""The JSON APIs of ``contract.md``: dossiers from the dossier system, responses from kiosks."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import openapi, views  # noqa: E402,F401  (routes register themselves on bp)
