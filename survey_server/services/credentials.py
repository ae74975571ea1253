"""Kiosk devices and integration keys: registered here, their secrets shown once."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import bindparam, select, update

from ..direct import DirectConnection, Prepared
from ..extensions import DbSession
from ..models import Counter, Device, IntegrationKey
from ..security import hash_secret, new_secret
from . import audit


class UnknownCounter(LookupError):
    pass


def register_device(
    session: DbSession, counter_code: str, name: str | None, actor: str
) -> tuple[Device, str]:
    """Register a kiosk at a counter. Returns the device and its token (not stored in clear)."""
    counter = session.scalar(select(Counter).where(Counter.code == counter_code))
    if counter is None:
        raise UnknownCounter(counter_code)
    token = new_secret("dev")
    device = Device(
        name=name or f"Kiosk {counter.code}", token_hash=hash_secret(token), counter=counter
    )
    session.add(device)
    session.flush()
    audit.record(session, actor, "register", "device", device.id, counter=counter.code)
    session.commit()
    return device, token


def revoke_device(session: DbSession, device: Device, actor: str, now: dt.datetime) -> None:
    device.revoked_at = now
    audit.record(session, actor, "revoke", "device", device.id)
    session.commit()


def create_integration_key(session: DbSession, name: str, actor: str) -> tuple[IntegrationKey, str]:
    """Create a key for the dossier system. Returns the row and the key (shown once)."""
    secret = new_secret("key")
    key = IntegrationKey(name=name, key_hash=hash_secret(secret))
    session.add(key)
    session.flush()
    audit.record(session, actor, "create", "integration_key", key.id, name=name)
    session.commit()
    return key, secret


def device_for_token(session: DbSession, token: str) -> Device | None:
    return session.scalar(select(Device).where(Device.token_hash == hash_secret(token)))


# How stale ``Device.last_seen_at`` may get before a submission writes it again: the fleet
# screens and the offline alert (KIOSK_OFFLINE_MINUTES) count in minutes, and one write per
# answer would cost the kiosk API an UPDATE per request.
LAST_SEEN_RESOLUTION = dt.timedelta(minutes=1)


class Kiosk(NamedTuple):
    """What the response API needs of a kiosk."""

    id: int
    counter_id: int
    revoked_at: dt.datetime | None
    last_seen_at: dt.datetime | None


_KIOSK_BY_TOKEN_HASH = Prepared(
    select(Device.id, Device.counter_id, Device.revoked_at, Device.last_seen_at).where(
        Device.token_hash == bindparam("token_hash")
    ),
    Kiosk,
)
_MARK_SEEN = Prepared(
    update(Device)
    .where(Device.id == bindparam("device_id"))
    .values(last_seen_at=bindparam("last_seen_at"))
)


def kiosk_for_token(connection: DirectConnection, token: str) -> Kiosk | None:
    return connection.first(_KIOSK_BY_TOKEN_HASH, token_hash=hash_secret(token))


def mark_seen(
    connection: DirectConnection,
    device_id: int,
    last_seen_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """Record that the kiosk was heard from, at most once per :data:`LAST_SEEN_RESOLUTION`
    (in the caller's transaction)."""
    if last_seen_at is None or now - last_seen_at >= LAST_SEEN_RESOLUTION:
        connection.execute(_MARK_SEEN, device_id=device_id, last_seen_at=now)


def integration_key_for_secret(session: DbSession, secret: str) -> IntegrationKey | None:
    return session.scalar(
        select(IntegrationKey).where(IntegrationKey.key_hash == hash_secret(secret))
    )
