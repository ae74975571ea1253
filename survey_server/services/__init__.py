"""Use-cases: each takes the session it is given, does the work, and commits once."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A submission we will not store, with a stable error code and the fields at fault.

    ``status`` is the HTTP status the contract gives for it (409, 422...). The web layer turns it
    into the contract's JSON body and records it in the refused-submission log.
    """

    def __init__(self, status: int, error: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {error} {fields or {}}")
        self.status = status
        self.error = error
        self.fields = fields or {}
