"""Vietnamese formatting of dates and numbers for templates."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale


def init_app(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["date"] = _date
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.globals["get_locale"] = get_locale


def _datetime(value: dt.datetime | None, fmt: str = "dd/MM/yyyy HH:mm") -> str:
    return "" if value is None else format_datetime(value, fmt)


def _date(value: dt.date | dt.datetime | None, fmt: str = "dd/MM/yyyy") -> str:
    return "" if value is None else format_date(value, fmt)
