"""Decisions D1, D2, … recorded at meetings, and the actions linked to them. Every decision writes an
`AuditEvent` (entity "decision")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage import audit
from storage.groups import take_number
from storage.models import Action, Decision, DecisionStatus, Meeting, TaskGroup


def get_decision(session: Session, group_id: int, number: int) -> Decision | None:
    return session.exec(
        select(Decision).where(Decision.group_id == group_id, Decision.number == number)
    ).first()


def record_decision(
    session: Session,
    group: TaskGroup,
    meeting: Meeting,
    *,
    text: str,
    status: DecisionStatus,
    by: str,
    at: datetime,
) -> Decision:
    """A numbered decision (D1, D2, … per group). The group row is locked so numbers never collide."""
    number = take_number(session, group.id, "next_decision_number")  # type: ignore[arg-type]
    decision = Decision(
        group_id=group.id,  # type: ignore[arg-type]
        number=number,
        meeting_id=meeting.id,
        text=text,
        status=status,
        recorded_by=by,
        created_at=at,
    )
    session.add(decision)
    session.flush()
    audit.record(
        session,
        group_id=group.id,
        entity="decision",
        entity_id=decision.id,
        user_id=by,
        at=at,
        verb="created",
        changes={
            "number": [None, f"D{number}"],
            "text": [None, text],
            "status": [None, status],
            "meeting_id": [None, meeting.id],
        },
    )
    return decision


def meeting_decisions(session: Session, meeting_id: int, limit: int = 500) -> list[Decision]:
    return list(
        session.exec(
            select(Decision)
            .where(Decision.meeting_id == meeting_id)
            .order_by(col(Decision.number))
            .limit(limit)
        )
    )


@dataclass
class DecisionPage:
    decisions: list[Decision]
    total: int
    actions: dict[int, list[Action]] = field(default_factory=dict)  # decision id -> linked actions


def list_decisions(
    session: Session,
    group_id: int,
    *,
    since: datetime | None = None,
    statuses: Sequence[DecisionStatus] = (),
    limit: int = 30,
) -> DecisionPage:
    """The latest `limit` matching decisions (shown oldest first) with their linked actions."""
    where: list[Any] = [Decision.group_id == group_id]
    if since is not None:
        where.append(col(Decision.created_at) >= since)
    if statuses:
        where.append(col(Decision.status).in_(list(statuses)))
    total = int(session.exec(select(func.count(col(Decision.id))).where(*where)).one())
    found = list(
        reversed(
            list(
                session.exec(
                    select(Decision).where(*where).order_by(col(Decision.number).desc()).limit(limit)
                )
            )
        )
    )
    return DecisionPage(decisions=found, total=total, actions=linked_actions(session, [d.id for d in found]))  # type: ignore[misc]


def linked_actions(
    session: Session, decision_ids: Sequence[int], per_decision: int = 20
) -> dict[int, list[Action]]:
    if not decision_ids:
        return {}
    out: dict[int, list[Action]] = defaultdict(list)
    for action in session.exec(
        select(Action)
        .where(col(Action.decision_id).in_(list(decision_ids)))
        .order_by(col(Action.number))
        .limit(per_decision * len(decision_ids))
    ):
        if len(out[action.decision_id]) < per_decision:  # type: ignore[index]
            out[action.decision_id].append(action)  # type: ignore[index]
    return dict(out)
