"""The live server of the browser tests closes every response, even one whose connection the
browser resets (a page that navigates away while an audio prompt downloads). Werkzeug's own
server skips the close then, and the static file left open failed an unrelated test later with
a ResourceWarning (CI of stop 13)."""

from __future__ import annotations

import gc
import socket
import struct
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from browser_support import start_server

BODY = b"x" * 50_000


class Tracked:
    """A response body like send_file's: an iterable with a close() that must be called."""

    instances: list[Tracked] = []

    def __init__(self) -> None:
        self.closed = False
        Tracked.instances.append(self)

    def __iter__(self) -> Iterator[bytes]:
        yield BODY

    def close(self) -> None:
        self.closed = True


def tracked_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Tracked:
    start_response("200 OK", [("Content-Length", str(len(BODY)))])
    return Tracked()


def reset_after_response(port: int) -> None:
    """Ask, read the whole answer, then reset the connection (SO_LINGER 0) instead of closing it."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        received = b""
        while len(received) < len(BODY):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def all_closed(times: int) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warning the unclosed bodies would give is the bug
        gc.collect()
    return len(Tracked.instances) == times and all(body.closed for body in Tracked.instances)


def test_a_reset_connection_still_closes_the_response() -> None:
    times = 20
    Tracked.instances.clear()
    server = start_server(tracked_app)
    try:
        for _ in range(times):
            reset_after_response(server.server_port)
        deadline = time.monotonic() + 5
        while not all_closed(times) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.shutdown()
        server.server_close()
    assert len(Tracked.instances) == times
    assert all(body.closed for body in Tracked.instances)
