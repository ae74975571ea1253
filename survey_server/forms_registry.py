"""The survey forms the server offers, loaded and validated once at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

from forms import load_forms

if TYPE_CHECKING:
    from forms import FormDefinition


def init_app(app: Flask) -> None:
    # A broken form file stops the server at start-up with the file and field named, rather
    # than refusing every citizen's answer later.
    app.extensions["survey_forms"] = load_forms(app.config["FORMS_DIR"])


def survey_forms() -> dict[str, FormDefinition]:
    forms: dict[str, FormDefinition] = current_app.extensions["survey_forms"]
    return forms
