"""``memory://`` rate limits (survey_server.extensions.SweptMemoryStorage): same counting as
limits' MemoryStorage, without starting a thread per request."""

from __future__ import annotations

import threading

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from survey_server.extensions import SweptMemoryStorage


def test_memory_storage_counts_per_key_without_a_thread_per_hit() -> None:
    storage = storage_from_string("memory://")
    assert isinstance(storage, SweptMemoryStorage)
    limiter = FixedWindowRateLimiter(storage)
    three = parse("3 per minute")
    threads_before = threading.active_count()
    hits = [limiter.hit(three, "kiosk-a") for _ in range(5)]
    assert hits == [True, True, True, False, False]
    assert limiter.hit(three, "kiosk-b")  # another key has its own count
    assert threading.active_count() <= threads_before


def test_expired_counters_are_swept_inline() -> None:
    storage = SweptMemoryStorage("memory://")
    storage.incr("old", expiry=0)  # expired at once
    storage.incr("new", expiry=60)  # within the sweep interval: nothing swept yet
    assert "old" in storage.storage
    storage._next_sweep = 0.0  # the interval has passed
    storage.incr("new", expiry=60)
    assert "old" not in storage.storage
    assert storage.get("new") == 2
