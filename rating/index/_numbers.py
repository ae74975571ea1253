"""Exact decimal helpers shared by the index modules.

Every figure of the index is a ``Decimal``; rounding is always explicit and half up, as the
published tables are. Arithmetic runs in a fixed context so a caller's decimal context cannot
change a result.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import Final

ONE_DECIMAL: Final = Decimal("0.1")
TWO_DECIMALS: Final = Decimal("0.01")
HUNDRED: Final = Decimal(100)

_CONTEXT: Final = Context(prec=34, rounding=ROUND_HALF_EVEN)


def as_points(value: object) -> Decimal | None:
    """Read a number written in a data file or given by a caller as an exact ``Decimal``.

    Accepts ``int`` (not ``bool``), ``Decimal`` (TOML floats are parsed as ``Decimal``) and
    numeric strings with a dot. Returns None for anything else, including NaN and infinities,
    binary floats and strings such as ``"1,5"``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            return None
        return parsed if parsed.is_finite() else None
    return None


def round_half_up(value: Decimal, places: Decimal) -> Decimal:
    """Round ``value`` to the exponent of ``places`` (e.g. ``ONE_DECIMAL``), half up."""
    with localcontext(_CONTEXT):
        return value.quantize(places, rounding=ROUND_HALF_UP)


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """``100 × part ÷ whole`` to one decimal, half up. ``whole`` must be positive."""
    with localcontext(_CONTEXT):
        return round_half_up(part * HUNDRED / whole, ONE_DECIMAL)


def share_of(maximum: Decimal, percent_value: Decimal) -> Decimal:
    """``maximum × percent ÷ 100`` to two decimals, half up."""
    with localcontext(_CONTEXT):
        return round_half_up(maximum * percent_value / HUNDRED, TWO_DECIMALS)


def exact_sum(values: list[Decimal]) -> Decimal:
    """Sum in the fixed context (exact for the few-digit figures of the index)."""
    with localcontext(_CONTEXT):
        return sum(values, Decimal(0))
