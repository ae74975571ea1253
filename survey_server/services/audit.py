"""The audit log: every change to a band, a report decision, a rule set, a key or a device."""

from __future__ import annotations

import logging
from typing import Any

from ..extensions import DbSession
from ..models import AuditEntry

log = logging.getLogger(__name__)


def record(
    session: DbSession,
    actor: str,
    action: str,
    entity: str,
    entity_id: object = None,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to the session; it is committed with the change it describes."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        details=details,
    )
    session.add(entry)
    log.info("audit: %s %s %s %s %s", actor, action, entity, entity_id, details)
    return entry
