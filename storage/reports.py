"""Reads for the progress report and the register export, and the record of reports made.

The whole register of a group is loaded with one query per table, joined on the group (no per-action
queries and no long IN lists), so a 5,000-action group loads in a few queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from storage import audit
from storage.actions import ActionRow
from storage.models import (
    Action,
    ActionDistrict,
    ActionNote,
    ActionOutcome,
    ActionOwner,
    Decision,
    District,
    Meeting,
    MeetingStatus,
    Outcome,
    ReportRun,
    TaskGroup,
)

_OUTCOME_ORDER = {o: i for i, o in enumerate(Outcome)}


@dataclass
class Register:
    """Every action of a group with its links, its notes (oldest first) and its decision labels."""

    rows: list[ActionRow]
    notes: dict[int, list[ActionNote]] = field(default_factory=dict)  # action id -> notes, oldest first
    decisions: dict[int, str] = field(default_factory=dict)  # decision id -> "D3"


def load_register(session: Session, group_id: int, *, created_before: datetime | None = None) -> Register:
    """The group's actions (by number) with owners, outcomes, districts, notes and decision labels."""
    where = [col(Action.group_id) == group_id]
    if created_before is not None:
        where.append(col(Action.created_at) < created_before)
    actions = list(session.exec(select(Action).where(*where).order_by(col(Action.number))))
    wanted = {a.id for a in actions}
    owners: dict[int, list[str]] = defaultdict(list)
    outcomes: dict[int, list[Outcome]] = defaultdict(list)
    districts: dict[int, list[District]] = defaultdict(list)
    notes: dict[int, list[ActionNote]] = defaultdict(list)
    for owner in session.exec(
        select(ActionOwner)
        .join(Action, col(Action.id) == col(ActionOwner.action_id))
        .where(col(Action.group_id) == group_id)
        .order_by(col(ActionOwner.user_id))
    ):
        owners[owner.action_id].append(owner.user_id)
    for link in session.exec(
        select(ActionOutcome)
        .join(Action, col(Action.id) == col(ActionOutcome.action_id))
        .where(col(Action.group_id) == group_id)
    ):
        outcomes[link.action_id].append(Outcome(link.outcome))
    for action_id, district in session.exec(
        select(ActionDistrict.action_id, District)
        .join(District, col(District.id) == col(ActionDistrict.district_id))
        .where(col(District.group_id) == group_id)
        .order_by(col(District.position), col(District.name))
    ):
        districts[action_id].append(district)
    for note in session.exec(
        select(ActionNote)
        .join(Action, col(Action.id) == col(ActionNote.action_id))
        .where(col(Action.group_id) == group_id)
        .order_by(col(ActionNote.created_at), col(ActionNote.id))
    ):
        if note.action_id in wanted:
            notes[note.action_id].append(note)
    decisions = {
        d.id: f"D{d.number}"
        for d in session.exec(select(Decision).where(col(Decision.group_id) == group_id))
        if d.id is not None
    }
    rows = [
        ActionRow(
            action=a,
            owners=owners[a.id or 0],
            outcomes=sorted(outcomes[a.id or 0], key=_OUTCOME_ORDER.__getitem__),
            districts=[] if a.countywide else districts[a.id or 0],
        )
        for a in actions
    ]
    return Register(rows=rows, notes=dict(notes), decisions=decisions)


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
