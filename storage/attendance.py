"""Attendance at meetings, and the counts over a choice of meetings.

Attendance is append-only: every record is a new row and the latest per (meeting, user) wins, so a
correction keeps the earlier record for the audit trail. Cancelled meetings never count in attendance
figures. Every record writes an `AuditEvent` (entity "meeting").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage import audit
from storage.groups import name_key
from storage.models import (
    REPRESENTED_MODES,
    Attendance,
    AttendanceMode,
    Meeting,
    MeetingStatus,
    Member,
)


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
        meeting_id=meeting.id,  # type: ignore[arg-type]
        user_id=user_id,
        organisation=organisation,
        mode=mode,
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
    changes["user_id"] = user_id  # type: ignore[assignment]
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
            names.setdefault(name_key(name), name)
    expected_keys = set(names)
    per_meeting: dict[tuple[int, str], set[AttendanceMode]] = defaultdict(set)
    if choice.ids:
        latest = _latest_ids(choice.ids)
        rows = session.exec(
            select(Attendance.meeting_id, Attendance.organisation, Attendance.mode)
            # A guest is there in their own name: their organisation is not represented, nor listed for it.
            .where(col(Attendance.id).in_(latest), col(Attendance.mode) != AttendanceMode.GUEST)
            .group_by(col(Attendance.meeting_id), col(Attendance.organisation), col(Attendance.mode))
        )
        for meeting_id, organisation, mode in rows:
            key = name_key(organisation or "")
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
        result = [t for t in result if name_key(t.name) == name_key(only)]
    return sorted(result, key=lambda t: (not t.expected, name_key(t.name)))


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
            if mode == AttendanceMode.GUEST:  # a guest attended, in their own name
                tally.represented += count
                tally.present += count
            elif mode in REPRESENTED_MODES:
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
        result = [r for r in result if name_key(r[1]) == name_key(organisation)]
    return sorted(result, key=lambda r: (not r[2].expected, name_key(r[1]), r[0]))
