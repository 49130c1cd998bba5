"""Meetings, attendance, decisions and schedules."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import Decision, Meeting, MeetingStatus


def open_meeting(session: Session, group_id: int) -> Meeting | None:
    """The meeting now running in this group, if any (there is at most one)."""
    return session.exec(
        select(Meeting).where(Meeting.group_id == group_id, Meeting.status == MeetingStatus.OPEN)
        .order_by(col(Meeting.id).desc())
    ).first()


def get_decision(session: Session, group_id: int, number: int) -> Decision | None:
    return session.exec(select(Decision).where(Decision.group_id == group_id, Decision.number == number)).first()
