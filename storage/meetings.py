"""Meetings, attendance, decisions and schedules.

Attendance is append-only: every record is a new row and the latest per (meeting, user) wins, so a
correction keeps the earlier record for the audit trail. Cancelled meetings never count in attendance
figures. Every change writes an `AuditEvent` (entities "meeting", "decision", "schedule").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from storage import audit
from storage.actions import ActionRow, load_rows
from storage.groups import take_number
from storage.models import (
    LIVE_STATUSES,
    REPRESENTED_MODES,
    Action,
    Attendance,
    AttendanceMode,
    Decision,
    DecisionStatus,
    Meeting,
    MeetingNote,
    MeetingSchedule,
    MeetingStatus,
    Member,
    TaskGroup,
)

# Statuses of meetings that took place (or are taking place); cancelled ones never count.
HELD_STATUSES = (MeetingStatus.OPEN, MeetingStatus.CLOSED)


# ----- meetings ---------------------------------------------------------------------------------------


def open_meeting(session: Session, group_id: int) -> Meeting | None:
    """The meeting now running in this group, if any (there is at most one)."""
    return session.exec(
        select(Meeting)
        .where(Meeting.group_id == group_id, Meeting.status == MeetingStatus.OPEN)
        .order_by(col(Meeting.id).desc())
    ).first()


def get_meeting(session: Session, group_id: int, meeting_id: int) -> Meeting | None:
    """A meeting by its database id, only if it belongs to this group."""
    meeting = session.get(Meeting, meeting_id)
    return meeting if meeting is not None and meeting.group_id == group_id else None


def _numbered() -> Any:
    """Meeting numbers within a group: 1, 2, 3 … in the order meetings were started (cancelled occurrences
    that never started have no number)."""
    return (
        select(
            col(Meeting.id).label("id"),
            func.row_number()
            .over(partition_by=col(Meeting.group_id), order_by=col(Meeting.id))
            .label("number"),
        )
        .where(col(Meeting.started_at).is_not(None))
        .subquery()
    )


def meeting_number(session: Session, meeting: Meeting) -> int | None:
    if meeting.started_at is None:
        return None
    return int(
        session.exec(
            select(func.count(col(Meeting.id))).where(
                Meeting.group_id == meeting.group_id,
                col(Meeting.started_at).is_not(None),
                col(Meeting.id) <= meeting.id,
            )
        ).one()
    )


def meeting_by_number(session: Session, group_id: int, number: int) -> Meeting | None:
    if number < 1:
        return None
    return session.exec(
        select(Meeting)
        .where(Meeting.group_id == group_id, col(Meeting.started_at).is_not(None))
        .order_by(col(Meeting.id))
        .offset(number - 1)
        .limit(1)
    ).first()


def meeting_numbers(session: Session, meetings: Sequence[Meeting]) -> dict[int, int]:
    ids = [m.id for m in meetings if m.id is not None and m.started_at is not None]
    if not ids:
        return {}
    numbered = _numbered()
    return {
        int(i): int(n)
        for i, n in session.exec(select(numbered.c.id, numbered.c.number).where(numbered.c.id.in_(ids)))
    }


def last_meeting(session: Session, group_id: int) -> Meeting | None:
    """The most recent meeting that took place (closed, or still open)."""
    return session.exec(
        select(Meeting)
        .where(Meeting.group_id == group_id, col(Meeting.status).in_(HELD_STATUSES))
        .order_by(col(Meeting.started_at).desc(), col(Meeting.id).desc())
    ).first()


def meetings_on(session: Session, group_id: int, start: datetime, end: datetime) -> list[Meeting]:
    """Meetings held (started) in [start, end): for `minutes DATE`."""
    return list(
        session.exec(
            select(Meeting)
            .where(
                Meeting.group_id == group_id,
                col(Meeting.status).in_(HELD_STATUSES),
                col(Meeting.started_at) >= start,
                col(Meeting.started_at) < end,
            )
            .order_by(col(Meeting.started_at), col(Meeting.id))
        )
    )


def recent_meetings(session: Session, group_id: int, *, before: datetime, limit: int = 8) -> list[Meeting]:
    """Meetings (held or cancelled) up to `before`, newest first."""
    when = func.coalesce(col(Meeting.started_at), col(Meeting.scheduled_for), col(Meeting.created_at))
    return list(
        session.exec(
            select(Meeting)
            .where(Meeting.group_id == group_id, when <= before)
            .order_by(when.desc(), col(Meeting.id).desc())
            .limit(limit)
        )
    )


def upcoming_cancelled(session: Session, group_id: int, *, after: datetime, limit: int = 5) -> list[Meeting]:
    """Scheduled occurrences already cancelled, still in the future."""
    return list(
        session.exec(
            select(Meeting)
            .where(
                Meeting.group_id == group_id,
                Meeting.status == MeetingStatus.CANCELLED,
                col(Meeting.started_at).is_(None),
                col(Meeting.scheduled_for) > after,
            )
            .order_by(col(Meeting.scheduled_for))
            .limit(limit)
        )
    )


def meeting_for_occurrence(session: Session, schedule_id: int, scheduled_for: datetime) -> Meeting | None:
    return session.exec(
        select(Meeting)
        .where(Meeting.schedule_id == schedule_id, Meeting.scheduled_for == scheduled_for)
        .order_by(col(Meeting.id).desc())
    ).first()


def start_meeting(
    session: Session,
    group: TaskGroup,
    *,
    title: str,
    by: str,
    at: datetime,
    schedule_id: int | None = None,
    scheduled_for: datetime | None = None,
) -> Meeting:
    meeting = Meeting(
        group_id=group.id,
        title=title,
        status=MeetingStatus.OPEN,
        schedule_id=schedule_id,  # type: ignore[arg-type]
        scheduled_for=scheduled_for,
        started_at=at,
        chair_user_id=by,
        created_at=at,
    )
    session.add(meeting)
    session.flush()
    changes: dict[str, Any] = {"title": [None, title], "status": [None, MeetingStatus.OPEN]}
    if schedule_id is not None:
        changes["schedule_id"] = [None, schedule_id]
        changes["scheduled_for"] = [None, scheduled_for]
    audit.record(
        session,
        group_id=group.id,
        entity="meeting",
        entity_id=meeting.id,
        user_id=by,
        at=at,
        verb="started",
        changes=changes,
    )
    return meeting


def end_meeting(session: Session, meeting: Meeting, *, by: str, at: datetime) -> list[Attendance]:
    """Closes the meeting. Registered members with no attendance record are recorded absent, except those a
    substitute attended for, who are recorded as having sent apologies. Returns the rows added."""
    current = {a.user_id: a for a in current_attendance(session, meeting.id)}  # type: ignore[arg-type]
    substituted = {
        a.substitute_for for a in current.values() if a.substitute_for and a.mode in REPRESENTED_MODES
    }
    added: list[Attendance] = []
    for member in session.exec(
        select(Member)
        .where(
            Member.group_id == meeting.group_id,
            col(Member.removed_at).is_(None),
            col(Member.created_at) <= at,
        )
        .order_by(col(Member.id))
    ):
        if member.user_id in current:
            continue
        mode = AttendanceMode.APOLOGIES if member.user_id in substituted else AttendanceMode.ABSENT
        row = Attendance(
            meeting_id=meeting.id,
            user_id=member.user_id,
            organisation=member.organisation,  # type: ignore[arg-type]
            mode=mode,
            recorded_by=by,
            recorded_at=at,
        )
        session.add(row)
        added.append(row)
    meeting.status = MeetingStatus.CLOSED
    meeting.ended_at = at
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        group_id=meeting.group_id,
        entity="meeting",
        entity_id=meeting.id,
        user_id=by,
        at=at,
        verb="ended",
        changes={
            "status": [MeetingStatus.OPEN, MeetingStatus.CLOSED],
            "absent": [None, sorted(a.user_id for a in added if a.mode == AttendanceMode.ABSENT)],
            "apologies": [None, sorted(a.user_id for a in added if a.mode == AttendanceMode.APOLOGIES)],
        },
    )
    return added


def cancel_meeting(session: Session, meeting: Meeting, *, by: str, at: datetime, reason: str | None) -> None:
    """Cancels an open meeting: it stays on record but never counts in attendance."""
    before = meeting.status
    meeting.status = MeetingStatus.CANCELLED
    meeting.ended_at = at
    meeting.cancel_reason = reason
    session.add(meeting)
    audit.record(
        session,
        group_id=meeting.group_id,
        entity="meeting",
        entity_id=meeting.id,
        user_id=by,
        at=at,
        verb="cancelled",
        changes={"status": [before, MeetingStatus.CANCELLED]},
        note=reason,
    )


def cancel_occurrence(
    session: Session,
    schedule: MeetingSchedule,
    scheduled_for: datetime,
    local_day: date,
    *,
    title: str,
    by: str,
    at: datetime,
    reason: str | None,
) -> Meeting:
    """Cancels one scheduled meeting before it happens: the date is added to the schedule's cancelled dates
    and a CANCELLED meeting row records it (so it is listed, and never counts)."""
    day = local_day.isoformat()
    if day not in schedule.cancelled_dates:
        schedule.cancelled_dates = sorted(
            [*schedule.cancelled_dates, day]
        )  # a new list, so the change is saved
        session.add(schedule)
        audit.record(
            session,
            group_id=schedule.group_id,
            entity="schedule",
            entity_id=schedule.id,
            user_id=by,
            at=at,
            verb="date-cancelled",
            changes={"cancelled_dates": [None, day]},
            note=reason,
        )
    meeting = meeting_for_occurrence(session, schedule.id, scheduled_for)  # type: ignore[arg-type]
    if meeting is None:
        meeting = Meeting(
            group_id=schedule.group_id,
            title=title,
            status=MeetingStatus.CANCELLED,
            schedule_id=schedule.id,
            scheduled_for=scheduled_for,
            cancel_reason=reason,
            created_at=at,
        )
        session.add(meeting)
        session.flush()
        audit.record(
            session,
            group_id=schedule.group_id,
            entity="meeting",
            entity_id=meeting.id,
            user_id=by,
            at=at,
            verb="cancelled",
            changes={"status": [None, MeetingStatus.CANCELLED], "scheduled_for": [None, scheduled_for]},
            note=reason,
        )
    return meeting


# ----- attendance -------------------------------------------------------------------------------------


def _latest_ids(meeting_ids: Sequence[int] | Any) -> Any:
    """Ids of the latest record per (meeting, user): the ones that count."""
    return (
        select(func.max(col(Attendance.id)))
        .where(col(Attendance.meeting_id).in_(meeting_ids))
        .group_by(col(Attendance.meeting_id), col(Attendance.user_id))
    )


def current_attendance(session: Session, meeting_id: int) -> list[Attendance]:
    """Who is recorded at a meeting, one row per person (their latest record)."""
    return list(
        session.exec(
            select(Attendance)
            .where(col(Attendance.id).in_(_latest_ids([meeting_id])))
            .order_by(col(Attendance.organisation), col(Attendance.id))
        )
    )


def latest_record(session: Session, meeting_id: int, user_id: str) -> Attendance | None:
    return session.exec(
        select(Attendance)
        .where(Attendance.meeting_id == meeting_id, Attendance.user_id == user_id)
        .order_by(col(Attendance.id).desc())
    ).first()


def record_attendance(
    session: Session,
    meeting: Meeting,
    *,
    user_id: str,
    organisation: str,
    mode: AttendanceMode,
    substitute_for: str | None,
    by: str,
    at: datetime,
) -> tuple[Attendance, Attendance | None]:
    """Adds a record (a correction is just a newer record). Returns (new, previous latest or None)."""
    previous = latest_record(session, meeting.id, user_id)  # type: ignore[arg-type]
    row = Attendance(
        meeting_id=meeting.id,
        user_id=user_id,
        organisation=organisation,
        mode=mode,  # type: ignore[arg-type]
        substitute_for=substitute_for,
        recorded_by=by,
        recorded_at=at,
    )
    session.add(row)
    session.flush()
    before = (
        {
            "mode": previous.mode,
            "organisation": previous.organisation,
            "substitute_for": previous.substitute_for,
        }
        if previous
        else {}
    )
    changes = audit.diff(
        before, {"mode": mode, "organisation": organisation, "substitute_for": substitute_for}
    )
    changes["user_id"] = user_id
    audit.record(
        session,
        group_id=meeting.group_id,
        entity="meeting",
        entity_id=meeting.id,
        user_id=by,
        at=at,
        verb="attendance-corrected" if previous else "attendance",
        changes=changes,
    )
    return row, previous


@dataclass
class MeetingChoice:
    """The meetings an attendance report covers (held and closed, never cancelled), oldest first."""

    meetings: list[Meeting]

    @property
    def ids(self) -> list[int]:
        return [m.id for m in self.meetings if m.id is not None]


def closed_meetings(
    session: Session,
    group_id: int,
    *,
    last: int | None = None,
    since: datetime | None = None,
    limit: int = 500,
) -> MeetingChoice:
    """Closed meetings, newest `last` (and/or since a time), returned oldest first; cancelled never count."""
    query = select(Meeting).where(Meeting.group_id == group_id, Meeting.status == MeetingStatus.CLOSED)
    if since is not None:
        query = query.where(col(Meeting.started_at) >= since)
    query = query.order_by(col(Meeting.started_at).desc(), col(Meeting.id).desc()).limit(
        min(last or limit, limit)
    )
    return MeetingChoice(list(reversed(list(session.exec(query)))))


@dataclass
class Tally:
    """Attendance counts for one organisation or one member over `held` meetings."""

    name: str
    held: int
    represented: int = 0
    present: int = 0
    substitute: int = 0
    virtual: int = 0
    apologies: int = 0
    absent: int = 0
    expected: bool = True  # a district or a registered member's organisation (or a registered member)

    @property
    def below_half(self) -> bool:
        return self.expected and self.held > 0 and self.represented * 2 < self.held


def _org_key(name: str) -> str:
    return " ".join(name.lower().split())


def organisation_tallies(
    session: Session, choice: MeetingChoice, expected: Sequence[str], only: str | None = None
) -> list[Tally]:
    """Per organisation: at how many of the chosen meetings it was represented (anyone present, substitute or
    virtual for it); of the others, at how many it sent apologies; and at how many it was absent (for an
    expected organisation, every other meeting held, so the three add up).

    One grouped query over the latest records; `expected` organisations (districts, members' organisations)
    are listed even when nobody ever came. `only` keeps one organisation.
    """
    held = len(choice.ids)
    names: dict[str, str] = {}
    for name in expected:
        if name.strip():
            names.setdefault(_org_key(name), name)
    expected_keys = set(names)
    per_meeting: dict[tuple[int, str], set[AttendanceMode]] = defaultdict(set)
    if choice.ids:
        latest = _latest_ids(choice.ids)
        rows = session.exec(
            select(Attendance.meeting_id, Attendance.organisation, Attendance.mode)
            .where(col(Attendance.id).in_(latest))
            .group_by(col(Attendance.meeting_id), col(Attendance.organisation), col(Attendance.mode))
        )
        for meeting_id, organisation, mode in rows:
            key = _org_key(organisation or "")
            names.setdefault(key, organisation or "")
            per_meeting[(meeting_id, key)].add(AttendanceMode(mode))
    tallies = {
        key: Tally(
            name=name or "(organisation not set)", held=held, expected=key in expected_keys and bool(key)
        )
        for key, name in names.items()
    }
    for (_meeting_id, key), modes in per_meeting.items():
        tally = tallies[key]
        if modes & set(REPRESENTED_MODES):
            tally.represented += 1
            tally.present += AttendanceMode.PRESENT in modes
            tally.substitute += AttendanceMode.SUBSTITUTE in modes
            tally.virtual += AttendanceMode.VIRTUAL in modes
        elif AttendanceMode.APOLOGIES in modes:
            tally.apologies += 1
        elif AttendanceMode.ABSENT in modes:
            tally.absent += 1
    for tally in tallies.values():
        if tally.expected:  # an expected organisation neither represented nor sending apologies was absent
            tally.absent = held - tally.represented - tally.apologies
    result = list(tallies.values())
    if only is not None:
        result = [t for t in result if _org_key(t.name) == _org_key(only)]
    return sorted(result, key=lambda t: (not t.expected, _org_key(t.name)))


def member_tallies(
    session: Session, choice: MeetingChoice, members: Sequence[Member], organisation: str | None = None
) -> list[tuple[str, str, Tally]]:
    """Per person: (user id, organisation, counts) over the chosen meetings — registered members first (each
    over the meetings held since they joined), then anyone else recorded (guests, substitutes), over them all.
    `organisation` keeps the people of one organisation."""
    held = len(choice.ids)
    orgs = {m.user_id: m.organisation for m in members}
    tallies = {m.user_id: Tally(name=m.user_id, held=held) for m in members}
    if choice.ids:
        latest = _latest_ids(choice.ids)
        counts = session.exec(
            select(Attendance.user_id, Attendance.mode, func.count(col(Attendance.id)))
            .where(col(Attendance.id).in_(latest))
            .group_by(col(Attendance.user_id), col(Attendance.mode))
        )
        for user_id, mode, count in counts:
            tally = tallies.setdefault(user_id, Tally(name=user_id, held=held, expected=False))
            mode = AttendanceMode(mode)
            if mode in REPRESENTED_MODES:
                tally.represented += count
                setattr(tally, mode.value, getattr(tally, mode.value) + count)
            elif mode == AttendanceMode.APOLOGIES:
                tally.apologies += count
            else:
                tally.absent += count
        for user_id in orgs:
            # A registered member has a record at every meeting held since they joined (absent if nothing
            # else): those are the meetings they are counted over.
            tally = tallies[user_id]
            tally.held = tally.represented + tally.apologies + tally.absent
        guests = [u for u in tallies if u not in orgs]
        if guests:
            # A guest's organisation: the one on their latest record in these meetings.
            for user_id, org in session.exec(
                select(Attendance.user_id, Attendance.organisation).where(
                    col(Attendance.id).in_(
                        select(func.max(col(Attendance.id)))
                        .where(
                            col(Attendance.meeting_id).in_(choice.ids), col(Attendance.user_id).in_(guests)
                        )
                        .group_by(col(Attendance.user_id))
                    )
                )
            ):
                orgs[user_id] = org
    result = [(u, orgs.get(u, ""), t) for u, t in tallies.items()]
    if organisation is not None:
        result = [r for r in result if _org_key(r[1]) == _org_key(organisation)]
    return sorted(result, key=lambda r: (not r[2].expected, _org_key(r[1]), r[0]))


# ----- notes and decisions ----------------------------------------------------------------------------


def add_note(session: Session, meeting: Meeting, text: str, *, by: str, at: datetime) -> MeetingNote:
    note = MeetingNote(meeting_id=meeting.id, text=text, author=by, created_at=at)  # type: ignore[arg-type]
    session.add(note)
    session.flush()
    audit.record(
        session,
        group_id=meeting.group_id,
        entity="meeting",
        entity_id=meeting.id,
        user_id=by,
        at=at,
        verb="note",
        changes={"note_id": [None, note.id]},
        note=text,
    )
    return note


def meeting_notes(session: Session, meeting_id: int, limit: int = 500) -> list[MeetingNote]:
    return list(
        session.exec(
            select(MeetingNote)
            .where(MeetingNote.meeting_id == meeting_id)
            .order_by(col(MeetingNote.id))
            .limit(limit)
        )
    )


def count_notes(session: Session, meeting_id: int) -> int:
    return int(
        session.exec(
            select(func.count(col(MeetingNote.id))).where(MeetingNote.meeting_id == meeting_id)
        ).one()
    )


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
        group_id=group.id,
        number=number,
        meeting_id=meeting.id,
        text=text,
        status=status,  # type: ignore[arg-type]
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


# ----- actions seen from a meeting ---------------------------------------------------------------------


def matters_arising(
    session: Session, group_id: int, meeting_id: int | None, today: date, limit: int = 150
) -> tuple[list[ActionRow], int]:
    """Open actions from earlier meetings and every overdue action, by organisation then due date.
    Returns (rows, total matching)."""
    where = [
        Action.group_id == group_id,
        col(Action.status).in_(list(LIVE_STATUSES)),
        or_(
            col(Action.due_date) < today,
            (col(Action.meeting_id).is_not(None)) & (col(Action.meeting_id) != (meeting_id or -1)),
        ),
    ]
    total = int(session.exec(select(func.count(col(Action.id))).where(*where)).one())
    actions = list(
        session.exec(
            select(Action)
            .where(*where)
            .order_by(
                col(Action.organisation),
                col(Action.due_date).is_(None),
                col(Action.due_date),
                col(Action.number),
            )
            .limit(limit)
        )
    )
    return load_rows(session, actions), total


def meeting_actions(session: Session, meeting_id: int, limit: int = 300) -> tuple[list[ActionRow], int]:
    """Actions raised at a meeting (linked to it), by number; returns (rows, total)."""
    where = [Action.meeting_id == meeting_id]
    total = int(session.exec(select(func.count(col(Action.id))).where(*where)).one())
    actions = list(session.exec(select(Action).where(*where).order_by(col(Action.number)).limit(limit)))
    return load_rows(session, actions), total


# ----- schedules ----------------------------------------------------------------------------------------


def active_schedules(session: Session, group_id: int) -> list[MeetingSchedule]:
    return list(
        session.exec(
            select(MeetingSchedule)
            .where(MeetingSchedule.group_id == group_id, col(MeetingSchedule.removed_at).is_(None))
            .order_by(col(MeetingSchedule.id))
        )
    )


def add_schedule(
    session: Session,
    group: TaskGroup,
    *,
    title: str,
    rrule: str,
    start_date: date,
    local_time: time,
    until: date | None,
    by: str,
    at: datetime,
) -> tuple[MeetingSchedule, MeetingSchedule | None]:
    """Stores a schedule; one with the same title is replaced (kept, marked removed). Returns (new, replaced)."""
    replaced = None
    for old in active_schedules(session, group.id):  # type: ignore[arg-type]
        if _org_key(old.title) == _org_key(title):
            replaced = old
            remove_schedule(session, old, by=by, at=at, verb="replaced")
    schedule = MeetingSchedule(
        group_id=group.id,
        title=title,
        rrule=rrule,
        start_date=start_date,  # type: ignore[arg-type]
        local_time=local_time,
        until=until,
        cancelled_dates=[],
        created_by=by,
        created_at=at,
    )
    session.add(schedule)
    session.flush()
    audit.record(
        session,
        group_id=group.id,
        entity="schedule",
        entity_id=schedule.id,
        user_id=by,
        at=at,
        verb="created",
        changes={
            "title": [None, title],
            "rrule": [None, rrule],
            "start_date": [None, start_date],
            "local_time": [None, local_time.isoformat("minutes")],
            "until": [None, until],
        },
    )
    return schedule, replaced


def remove_schedule(
    session: Session, schedule: MeetingSchedule, *, by: str, at: datetime, verb: str = "removed"
) -> None:
    schedule.removed_at = at
    session.add(schedule)
    audit.record(
        session,
        group_id=schedule.group_id,
        entity="schedule",
        entity_id=schedule.id,
        user_id=by,
        at=at,
        verb=verb,
        changes={"removed_at": [None, at]},
    )
