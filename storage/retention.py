"""Retention: what is pruned once it is older than the deployment's retention period (ECM_RETENTION_DAYS).

Pruned: the progress notes of actions closed (done or dropped) before the cut-off, the note text the audit
trail copied from them, outbox rows that finished (sent, skipped, failed) before it, and Slack request keys
kept for de-duplication. Kept for good: the action register itself (numbers, titles, owners, dates, status),
decisions, meetings, attendance and the audit trail's record of who changed what, when.
These are real deletes, unlike everything else in the bot: keeping the rows would defeat the policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlmodel import Session, col

from storage.audit import record
from storage.models import (
    Action,
    ActionNote,
    ActionStatus,
    AuditEvent,
    Notification,
    NotificationStatus,
    ProcessedRequest,
)


def _count(result: Any) -> int:
    """Rows a DELETE/UPDATE touched (a CursorResult's rowcount)."""
    return int(getattr(result, "rowcount", 0) or 0)


FINISHED = (NotificationStatus.SENT, NotificationStatus.SKIPPED, NotificationStatus.FAILED)


@dataclass(frozen=True)
class Pruned:
    cutoff: datetime
    action_notes: int
    audit_notes: int
    outbox_rows: int
    request_keys: int

    @property
    def total(self) -> int:
        return self.action_notes + self.audit_notes + self.outbox_rows + self.request_keys


def prune(session: Session, *, now: datetime, days: int, by: str = "ecm-bot") -> Pruned:
    """Deletes what the retention period no longer allows, in the caller's transaction; records one audit
    event with the counts (never the content) when anything went."""
    cutoff = now - timedelta(days=days)
    closed_before = (
        select(col(Action.id))
        .where(
            col(Action.status).in_([ActionStatus.DONE, ActionStatus.DROPPED]),
            func.coalesce(col(Action.completed_at), col(Action.updated_at)) < cutoff,
        )
        .scalar_subquery()
    )
    notes = session.execute(delete(ActionNote).where(col(ActionNote.action_id).in_(closed_before)))
    audit_notes = session.execute(
        update(AuditEvent)
        .where(
            col(AuditEvent.entity) == "action",
            col(AuditEvent.entity_id).in_(closed_before),
            col(AuditEvent.note).is_not(None),
        )
        .values(note=None)
    )
    outbox = session.execute(
        delete(Notification).where(
            col(Notification.status).in_(FINISHED),
            or_(
                and_(col(Notification.sent_at).is_not(None), col(Notification.sent_at) < cutoff),
                and_(col(Notification.sent_at).is_(None), col(Notification.created_at) < cutoff),
            ),
        )
    )
    keys = session.execute(delete(ProcessedRequest).where(col(ProcessedRequest.at) < cutoff))
    result = Pruned(
        cutoff=cutoff,
        action_notes=_count(notes),
        audit_notes=_count(audit_notes),
        outbox_rows=_count(outbox),
        request_keys=_count(keys),
    )
    if result.total:
        record(
            session,
            group_id=None,
            entity="retention",
            entity_id=None,
            user_id=by,
            at=now,
            verb="pruned",
            changes={
                "retention_days": [None, days],
                "action_notes": [None, result.action_notes],
                "audit_notes": [None, result.audit_notes],
                "outbox_rows": [None, result.outbox_rows],
                "request_keys": [None, result.request_keys],
            },
        )
    return result
