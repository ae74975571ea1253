"""The index pages' forms."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class DaklakForm(FlaskForm):
    """The Đắk Lắk 2025 CSV to assess (read, never stored)."""

    file = FileField(
        lazy_gettext("CSV file (.csv, UTF-8)"),
        validators=[FileRequired(lazy_gettext("Choose a CSV file."))],
    )
