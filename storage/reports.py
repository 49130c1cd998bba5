"""Reads for the progress report and the register export, and the record of reports made.

The whole register of a group is loaded with one query per table, joined on the group (no per-action
queries and no long IN lists), so a 5,000-action group loads in a few queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage import audit
from storage.models import (
    Action,
    ActionDistrict,
    ActionNote,
    ActionOutcome,
    ActionOwner,
    ActionStatus,
    Decision,
    District,
    Meeting,
    MeetingStatus,
    Outcome,
    Rag,
    ReportRun,
    TaskGroup,
)

_OUTCOME_ORDER = {o: i for i, o in enumerate(Outcome)}


@dataclass
class RegisterAction:
    """One action with its links, read as plain values (no ORM objects: a 5,000-action register loads fast)."""

    id: int
    number: int
    title: str
    organisation: str
    countywide: bool
    due_date: date | None
    status: ActionStatus
    rag: Rag | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    decision: str | None  # "D3"
    owners: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)  # names; empty when countywide
    notes: list[tuple[str, datetime]] = field(default_factory=list)  # (text, written at), oldest first


def load_register(
    session: Session, group_id: int, *, created_before: datetime | None = None
) -> list[RegisterAction]:
    """Every action of the group by number, with owners, outcomes, districts, notes and decision labels:
    one query per table, joined on the group."""
    where = [col(Action.group_id) == group_id]
    if created_before is not None:
        where.append(col(Action.created_at) < created_before)
    decisions = {
        d_id: f"D{number}"
        for d_id, number in session.exec(
            select(Decision.id, Decision.number).where(col(Decision.group_id) == group_id)
        )
    }
    found: dict[int, RegisterAction] = {}
    a: Any
    # Core select (sqlmodel's select types at most four columns); plain rows, no ORM instances.
    for a in session.connection().execute(
        sa_select(
            *[
                col(c)
                for c in (
                    Action.id,
                    Action.number,
                    Action.title,
                    Action.organisation,
                    Action.countywide,
                    Action.due_date,
                    Action.status,
                    Action.rag,
                    Action.created_at,
                    Action.updated_at,
                    Action.completed_at,
                    Action.decision_id,
                )
            ]
        )
        .where(*where)
        .order_by(col(Action.number))
    ):
        found[a[0]] = RegisterAction(
            id=a[0],
            number=a[1],
            title=a[2],
            organisation=a[3],
            countywide=bool(a[4]),
            due_date=a[5],
            status=ActionStatus(a[6]),
            rag=Rag(a[7]) if a[7] else None,
            created_at=a[8],
            updated_at=a[9],
            completed_at=a[10],
            decision=decisions.get(a[11]) if a[11] is not None else None,
        )
    in_group = col(Action.group_id) == group_id
    for action_id, user_id in session.exec(
        select(ActionOwner.action_id, ActionOwner.user_id)
        .join(Action, col(Action.id) == col(ActionOwner.action_id))
        .where(in_group)
        .order_by(col(ActionOwner.user_id))
    ):
        if action_id in found:
            found[action_id].owners.append(user_id)
    for action_id, outcome in session.exec(
        select(ActionOutcome.action_id, ActionOutcome.outcome)
        .join(Action, col(Action.id) == col(ActionOutcome.action_id))
        .where(in_group)
    ):
        if action_id in found:
            found[action_id].outcomes.append(Outcome(outcome))
    for action_id, name in session.exec(
        select(ActionDistrict.action_id, District.name)
        .join(District, col(District.id) == col(ActionDistrict.district_id))
        .where(col(District.group_id) == group_id)
        .order_by(col(District.position), col(District.name))
    ):
        if action_id in found and not found[action_id].countywide:
            found[action_id].districts.append(name)
    for action_id, text, at in session.exec(
        select(ActionNote.action_id, ActionNote.text, ActionNote.created_at)
        .join(Action, col(Action.id) == col(ActionNote.action_id))
        .where(in_group)
        .order_by(col(ActionNote.created_at), col(ActionNote.id))
    ):
        if action_id in found:
            found[action_id].notes.append((text, at))
    for item in found.values():
        item.outcomes.sort(key=_OUTCOME_ORDER.__getitem__)
    return list(found.values())


def decisions_between(session: Session, group_id: int, start: datetime, end: datetime) -> list[Decision]:
    return list(
        session.exec(
            select(Decision)
            .where(
                col(Decision.group_id) == group_id,
                col(Decision.created_at) >= start,
                col(Decision.created_at) < end,
            )
            .order_by(col(Decision.number))
        )
    )


def meetings_between(session: Session, group_id: int, start: datetime, end: datetime) -> list[Meeting]:
    """Meetings held (closed) or cancelled in the period, oldest first; a cancelled one counts by its date."""
    found = session.exec(
        select(Meeting)
        .where(
            col(Meeting.group_id) == group_id,
            col(Meeting.status).in_([MeetingStatus.CLOSED, MeetingStatus.CANCELLED]),
        )
        .order_by(col(Meeting.id))
    )
    chosen = []
    for meeting in found:
        when = meeting.started_at or meeting.scheduled_for or meeting.created_at
        if start <= when < end:
            chosen.append(meeting)
    return sorted(chosen, key=lambda m: m.started_at or m.scheduled_for or m.created_at)


def last_report(session: Session, group_id: int) -> ReportRun | None:
    return session.exec(
        select(ReportRun)
        .where(col(ReportRun.group_id) == group_id)
        .order_by(col(ReportRun.made_at).desc(), col(ReportRun.id).desc())
    ).first()


def record_report(
    session: Session,
    group_id: int,
    *,
    period_from: date,
    period_to: date,
    formats: str,
    by: str,
    at: datetime,
) -> ReportRun:
    run = ReportRun(
        group_id=group_id,
        period_from=period_from,
        period_to=period_to,
        formats=formats,
        made_by=by,
        made_at=at,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        group_id=group_id,
        entity="report",
        entity_id=run.id,
        user_id=by,
        at=at,
        verb="reported",
        changes={
            "period": [None, [period_from.isoformat(), period_to.isoformat()]],
            "formats": [None, formats],
        },
    )
    return run


def groups_for_channel(session: Session, channel_id: str) -> list[TaskGroup]:
    """Task groups set up in a channel (normally one; a channel id is unique within a workspace)."""
    return list(session.exec(select(TaskGroup).where(col(TaskGroup.channel_id) == channel_id)))
