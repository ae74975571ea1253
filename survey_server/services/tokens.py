"""Signed tokens for the receipt QR code (contract.md, "QR code").

A token names a dossier (its row id) and the last local day it is valid, and carries a
truncated HMAC-SHA256 signature made with the server's secret key (itsdangerous ``Signer``):
it cannot be guessed or altered, and it holds no personal data. It is short on purpose: the
whole URL must fit a small QR version that stays easy to scan when printed 2 × 2 cm.

Format: ``<dossier id, base 36>-<expiry day, base 36 days since 2020-01-01>.<signature>``,
e.g. ``1z-2b7.q0J3mGf5r8Zs`` (about 20 characters).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer
from itsdangerous.signer import HMACAlgorithm

from ..extensions import DbSession
from ..models import Dossier
from ..timeutil import LOCAL_TZ

SALT = "receipt-qr-v1"
EPOCH = dt.date(2020, 1, 1)
# 72 bits: forging one would take ~2^71 guesses, against a server that rate-limits each address.
SIGNATURE_BYTES = 9
MAX_TOKEN_CHARS = 64
DEFAULT_TTL_DAYS = 30
MAX_DOSSIER_ID = 2**31 - 1  # dossiers.id is a 32-bit integer on PostgreSQL
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class _TruncatedHMAC(HMACAlgorithm):
    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return super().get_signature(key, value)[:SIGNATURE_BYTES]


@dataclass(frozen=True)
class QrToken:
    dossier_id: int
    expires_on: dt.date  # the last local day on which the token opens the forms


class TokenError(Exception):
    """Why a token opens nothing; ``status`` is the page's HTTP status (400, 404 or 410)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


def _signer(secret_key: str) -> Signer:
    return Signer(
        secret_key, salt=SALT, key_derivation="hmac", algorithm=_TruncatedHMAC(hashlib.sha256)
    )


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError("negative")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if number == 0:
            return digits


def expiry_for(due_at: dt.datetime, ttl_days: int = DEFAULT_TTL_DAYS) -> dt.date:
    """The last valid day of a dossier's token: ``ttl_days`` after its due (local) date.

    A due date at the edge of the calendar (the dossier API accepts year 9999) saturates at
    the last or first representable day instead of overflowing.
    """
    try:
        return due_at.astimezone(LOCAL_TZ).date() + dt.timedelta(days=ttl_days)
    except OverflowError:
        return dt.date.max if due_at.year > EPOCH.year else dt.date.min


def make_token(secret_key: str, dossier_id: int, expires_on: dt.date) -> str:
    # A day before the epoch (a dossier due before 2020) is long past: the epoch says as much.
    days = max(0, (expires_on - EPOCH).days)
    payload = f"{_base36(dossier_id)}-{_base36(days)}"
    return _signer(secret_key).sign(payload).decode("ascii")


def token_for_dossier(secret_key: str, dossier: Dossier, ttl_days: int = DEFAULT_TTL_DAYS) -> str:
    """The dossier's token; the same dossier and due date always give the same token."""
    return make_token(secret_key, dossier.id, expiry_for(dossier.due_at, ttl_days))


def read_token(secret_key: str, token: str) -> QrToken:
    """Check the signature and decode; raises :class:`TokenError` (400) if forged or altered."""
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise TokenError(400, "malformed")
    try:
        payload = _signer(secret_key).unsign(token).decode("ascii")
        id_part, _, day_part = payload.partition("-")
        dossier_id = int(id_part, 36)
        expires_on = EPOCH + dt.timedelta(days=int(day_part, 36))
    except (BadSignature, ValueError, OverflowError):
        raise TokenError(400, "forged") from None
    return QrToken(dossier_id, expires_on)


def dossier_for_token(
    session: DbSession,
    secret_key: str,
    token: str,
    now: dt.datetime,
    ttl_days: int = DEFAULT_TTL_DAYS,
) -> Dossier:
    """The dossier a token opens, or :class:`TokenError`: 400 forged, 404 unknown, 410 expired.

    A dossier returned late keeps its forms open ``ttl_days`` after the return, so that a
    citizen can still answer Phiếu số 2 about it.
    """
    parsed = read_token(secret_key, token)
    if not 0 < parsed.dossier_id <= MAX_DOSSIER_ID:
        raise TokenError(404, "unknown_dossier")  # no such row; the database cannot even look
    dossier = session.get(Dossier, parsed.dossier_id)
    if dossier is None:
        raise TokenError(404, "unknown_dossier")
    last_day = parsed.expires_on
    if dossier.returned_at is not None:
        last_day = max(last_day, expiry_for(dossier.returned_at, ttl_days))
    if now.astimezone(LOCAL_TZ).date() > last_day:
        raise TokenError(410, "expired")
    return dossier
