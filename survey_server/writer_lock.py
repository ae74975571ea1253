"""The kiosk API's turn to write on SQLite: a lock file shared by the server's processes.

SQLite lets one writer in at a time. A writer that finds the write lock taken sleeps in SQLite's
busy handler, 1, 2, 5, 10 … ms between tries, although the kiosk API's writes (two INSERTs and
a commit) hold the lock for well under a millisecond plus the fsync: under load the workers
spent more time asleep than the writes took (bench/ingest.py measured 0.65 ms of sleep per
request, a fifth of a request's time). The API's writers queue on an ``fcntl`` lock of a file
next to the database instead, tried every 0.1 ms, and take SQLite's lock (BEGIN IMMEDIATE) once
it is their turn. SQLite's lock is then free unless another kind of writer holds it (the
dashboard, the CLI, the rating job): that one is waited for by SQLite's busy handler, as before.

The kernel releases the lock of a process that dies, so a killed worker never blocks the others.
A wait past the busy timeout raises :class:`WriterBusy` (the API answers 503 ``busy``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

#: Keys of a SQLite connection's ``info`` dict, set when it is opened (survey_server/__init__).
LOCK_PATH = "writer_lock_path"
BUSY_TIMEOUT_MS = "busy_timeout_ms"
#: How long a waiting writer sleeps between tries (the busy handler's first sleep is 1 ms).
POLL_SECONDS = 0.0001


class WriterBusy(Exception):
    """Another writer kept the lock longer than the busy timeout; nothing was written."""


# One open file per thread and process: fcntl locks belong to an open file, so two threads (or
# a worker and the master it was forked from) sharing one would not exclude each other.
_files = threading.local()


def lock_path_for(database: str | None) -> str | None:
    """The lock file of a SQLite database file (None for an in-memory database)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}.writers"


def _file(path: str) -> int:
    opened: tuple[int, str, int] | None = getattr(_files, "opened", None)
    if opened is not None and opened[:2] == (os.getpid(), path):
        return opened[2]
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    _files.opened = (os.getpid(), path, descriptor)
    return descriptor


@contextlib.contextmanager
def write_turn(info: Mapping[str, Any], begin: Callable[[], None]) -> Iterator[None]:
    """Wait for this process's turn among the API's writers, then ``begin`` (BEGIN IMMEDIATE).

    ``info`` is the connection's ``info`` dict (the pool's, which holds the lock file's path).
    The turn lasts until the block ends (after the caller's commit or rollback). Only for a
    connection with no transaction open (the response API's lock-free checks); on a database
    with no lock file it is a plain ``begin``.
    """
    path = info.get(LOCK_PATH)
    if path is None:
        begin()
        yield
        return
    descriptor = _file(path)
    deadline = time.monotonic() + info.get(BUSY_TIMEOUT_MS, 30_000) / 1000
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise WriterBusy(path) from None
            time.sleep(POLL_SECONDS)
    try:
        begin()
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
