"""The audit trail: one append-only row per change."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage.models import ActionOwner, AuditEvent, Member


@dataclass(frozen=True)
class Touched:
    """What one recorded change touched, copied out so it outlives the session."""

    group_id: int | None
    entity: str
    entity_id: int | None
    user_id: str
    owners: tuple[str, ...] = ()  # both sides of an owners change


# The changes recorded by the current unit of work (one request), for whoever asked to watch them.
_watched: ContextVar[list[Touched] | None] = ContextVar("audit_watched", default=None)


@contextmanager
def watching() -> Iterator[list[Touched]]:
    """Collects every audit event recorded in this thread while inside (committed or not): the adapter uses
    it to learn, after a request, who it affected."""
    events: list[Touched] = []
    token = _watched.set(events)
    try:
        yield events
    finally:
        _watched.reset(token)


def _plain(value: Any) -> Any:
    """JSON-safe form of a changed value (dates as ISO text, enums as their value)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def plain_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Changes as stored: every value JSON-safe."""
    return {k: _plain(v) for k, v in changes.items()}


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
        changes=plain_changes(changes or {}),
        note=note,
    )
    session.add(event)
    announce(group_id, entity, entity_id, user_id, event.changes)
    return event


def announce(
    group_id: int | None, entity: str, entity_id: int | None, user_id: str, changes: dict[str, Any] | None
) -> None:
    """Tells whoever is watching of one audited change: `record` does, and so does a write that sends its
    audit row itself (`storage.actions.create_action`). `changes` as stored."""
    watched = _watched.get()
    if watched is not None:
        owners = (changes or {}).get("owners")
        sides = [_ids(side) for side in owners] if isinstance(owners, list) else []
        watched.append(
            Touched(group_id, entity, entity_id, user_id, tuple(u for side in sides for u in side))
        )


def notify(touched: Iterable[Touched]) -> None:
    """For changes audited without `record` (multi-row inserts): tell whoever is watching (`touched` is
    only iterated then, so a bulk load nobody watches builds none)."""
    watched = _watched.get()
    if watched is not None:
        watched.extend(touched)


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value else []


def affected_users(session: Session, events: Sequence[Touched]) -> dict[int | None, set[str]]:
    """Per task group, who a set of changes concerns: whoever made them, the owners of each action changed
    (before and after a handover), and each member whose membership changed."""
    out: dict[int | None, set[str]] = {}
    action_ids: dict[int, int | None] = {}
    member_ids: dict[int, int | None] = {}
    for e in events:
        people = out.setdefault(e.group_id, set())
        people.add(e.user_id)
        people.update(e.owners)
        if e.entity == "action" and e.entity_id is not None:
            action_ids[e.entity_id] = e.group_id
        elif e.entity == "member" and e.entity_id is not None:
            member_ids[e.entity_id] = e.group_id
    if action_ids:
        for action_id, user_id in session.exec(
            select(ActionOwner.action_id, ActionOwner.user_id).where(
                col(ActionOwner.action_id).in_(list(action_ids))
            )
        ):
            out[action_ids[action_id]].add(user_id)
    if member_ids:
        for member_id, user_id in session.exec(
            select(Member.id, Member.user_id).where(col(Member.id).in_(list(member_ids)))
        ):
            out[member_ids[member_id]].add(user_id)  # type: ignore[index]
    return out


_HISTORY = (  # built once: each call binds its values
    select(AuditEvent)
    .where(col(AuditEvent.entity) == bindparam("entity"), col(AuditEvent.entity_id) == bindparam("entity_id"))
    .order_by(col(AuditEvent.id))
    .limit(bindparam("limit"))
)


def history(session: Session, entity: str, entity_id: int, limit: int = 200) -> list[AuditEvent]:
    return list(session.exec(_HISTORY, params={"entity": entity, "entity_id": entity_id, "limit": limit}))
