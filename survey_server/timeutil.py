"""Time helpers: the server keeps UTC; people read Asia/Ho_Chi_Minh."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def parse_iso_datetime(value: object) -> dt.datetime:
    """Parse an ISO 8601 time that carries its offset; raise ValueError otherwise."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not_a_time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not_a_time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("offset_required")
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 has no UTC time
        raise ValueError("out_of_range") from None


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants that start this calendar month and the next one in local time."""
    start = dt.datetime(year, month, 1, tzinfo=LOCAL_TZ)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def local_month(moment: dt.datetime) -> dt.date:
    """The month (its first day) that ``moment`` falls in, in local time."""
    local = moment.astimezone(LOCAL_TZ)
    return dt.date(local.year, local.month, 1)
