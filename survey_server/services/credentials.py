"""Kiosk devices and integration keys: registered here, their secrets shown once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Counter, Device, IntegrationKey
from ..security import hash_secret, new_secret
from . import audit


class UnknownCounter(LookupError):
    pass


def register_device(
    session: Session, counter_code: str, name: str | None, actor: str
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


def revoke_device(session: Session, device: Device, actor: str, now: dt.datetime) -> None:
    device.revoked_at = now
    audit.record(session, actor, "revoke", "device", device.id)
    session.commit()


def create_integration_key(session: Session, name: str, actor: str) -> tuple[IntegrationKey, str]:
    """Create a key for the dossier system. Returns the row and the key (shown once)."""
    secret = new_secret("key")
    key = IntegrationKey(name=name, key_hash=hash_secret(secret))
    session.add(key)
    session.flush()
    audit.record(session, actor, "create", "integration_key", key.id, name=name)
    session.commit()
    return key, secret


def device_for_token(session: Session, token: str) -> Device | None:
    return session.scalar(select(Device).where(Device.token_hash == hash_secret(token)))


def integration_key_for_secret(session: Session, secret: str) -> IntegrationKey | None:
    return session.scalar(
        select(IntegrationKey).where(IntegrationKey.key_hash == hash_secret(secret))
    )
