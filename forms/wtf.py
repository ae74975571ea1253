"""Build a WTForms class from a :class:`~forms.loader.FormDefinition`.

The kiosk page and the QR page render the same definition through this class (like Indico's
``make_survey_form``); the submitted data then goes through
:meth:`FormDefinition.validate_answers`, the same check as the JSON API.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs: 3.2
from wtforms.validators import DataRequired, Length, Optional

from forms.loader import DEFAULT_LANG, FormDefinition, Question, clean_text

__all__ = ["MESSAGES", "build_form_class", "form_answers"]

#: Field error messages per language; other languages fall back to Vietnamese.
MESSAGES: dict[str, dict[str, str]] = {
    "vi": {
        "required": "Vui lòng chọn mức độ hài lòng của Ông/Bà.",
        "invalid_choice": "Lựa chọn không hợp lệ.",
        "too_long": "Ý kiến dài tối đa %(max)d ký tự.",
    },
    "en": {
        "required": "Please choose how satisfied you are.",
        "invalid_choice": "Not a valid choice.",
        "too_long": "Please keep your comment to %(max)d characters at most.",
    },
}


def _message(key: str, lang: str) -> str:
    return MESSAGES.get(lang, {}).get(key) or MESSAGES[DEFAULT_LANG][key]


def _clean_filter(value: object) -> object:
    # Same cleaning as validate_answers, so Length counts what will be stored.
    return clean_text(value) if isinstance(value, str) else value


def _field(definition: FormDefinition, question: Question, lang: str) -> Any:
    label = question.text_in(lang)
    if question.kind == "text":
        assert question.max_length is not None, "the loader requires max_length on text questions"
        return TextAreaField(
            label,
            validators=[
                Optional(),
                Length(max=question.max_length, message=_message("too_long", lang)),
            ],
            filters=[_clean_filter],
        )
    choices = [
        SelectChoice(option.value, definition.option_label(question.id, option.value, lang))
        for option in question.options
    ]
    validators = (
        [DataRequired(message=_message("required", lang))] if question.required else [Optional()]
    )
    return RadioField(
        label,
        validators=validators,
        choices=choices,
        coerce=str,
        invalid_choice_message=_message("invalid_choice", lang),  # type: ignore[call-arg]  # WTForms 3.3
    )


def form_answers(form: Any) -> dict[str, object]:
    """The raw answers of a bound form, keyed by question id, for ``validate_answers``."""
    definition: FormDefinition = form.definition
    return {question.id: form[question.id].data for question in definition.questions}


def build_form_class(
    definition: FormDefinition, lang: str = DEFAULT_LANG, base: type[Any] = FlaskForm
) -> type[Any]:
    """A form class with one field per question, in question order, worded in ``lang``.

    Scale and choice questions are radio buttons whose values are the answer codes; the text
    question is a text area limited to its ``max_length``. The class carries ``definition``
    and ``lang``, and an ``answers()`` method (see :func:`form_answers`).
    """
    attrs: dict[str, Any] = {
        "definition": definition,
        "lang": lang,
        "answers": form_answers,
    }
    for question in definition.questions:
        attrs[question.id] = _field(definition, question, lang)
    name = "".join(part.capitalize() for part in definition.id.split("_")) + "Form"
    # Through the base's metaclass (WTForms' FormMeta), not type(): FormMeta.__init__ must run.
    metaclass: type[Any] = type(base)
    form_class: type[Any] = metaclass(name, (base,), attrs)
    return form_class
