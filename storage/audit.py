"""The audit trail: one append-only row per change."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlmodel import Session, col, select

from storage.models import AuditEvent


def _plain(value: Any) -> Any:
    """JSON-safe form of a changed value (dates as ISO text, enums as their value)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {
        k: [_plain(before.get(k)), _plain(v)] for k, v in after.items() if _plain(before.get(k)) != _plain(v)
    }


def record(
    session: Session,
    *,
    group_id: int | None,
    entity: str,
    entity_id: int | None,
    user_id: str,
    at: datetime,
    verb: str,
    changes: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        group_id=group_id,
        entity=entity,
        entity_id=entity_id,
        user_id=user_id,
        at=at,
        verb=verb,
        changes={k: _plain(v) for k, v in (changes or {}).items()},
        note=note,
    )
    session.add(event)
    return event


def history(session: Session, entity: str, entity_id: int, limit: int = 200) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(col(AuditEvent.id))
        .limit(limit)
    )
    return list(session.exec(query))
