"""Survey form definitions (Phiếu số 1, Phiếu số 2, a province's own) and their loader.

The forms are data files in this directory; :func:`load_forms` reads and validates them.
``build_form_class`` (WTForms) lives in :mod:`forms.wtf` and is imported lazily, so reading a
form never needs Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forms.loader import (
    SCALE5,
    Answer,
    CleanAnswers,
    FormDefinition,
    FormError,
    Option,
    Question,
    clean_text,
    load_form,
    load_forms,
)

if TYPE_CHECKING:
    from forms.wtf import build_form_class

__all__ = [
    "SCALE5",
    "Answer",
    "CleanAnswers",
    "FormDefinition",
    "FormError",
    "Option",
    "Question",
    "build_form_class",
    "clean_text",
    "load_form",
    "load_forms",
]


def __getattr__(name: str) -> Any:
    if name == "build_form_class":
        from forms.wtf import build_form_class

        return build_form_class
    raise AttributeError(f"module 'forms' has no attribute {name!r}")
