"""Attendance summary: on the first working day of each month, in the task group's channel, the attendance
counts of the last 6 meetings by organisation, built exactly as `/ecm attendance` builds them."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from bot.jobs.common import NotWanted, groups_by_id, post_time, working
from commands import meeting_view as view
from commands.replies import Reply, Visibility
from commands.text import plural
from commands.workdays import first_working_day_of_month
from storage import attendance as attendance_store
from storage.models import TaskGroup
from storage.notifications import Claimed, Planned
from storage.settings_schema import chaser_settings

KIND = "attendance_summary"


def is_summary_day(day: date) -> bool:
    return working(day) and first_working_day_of_month(day.year, day.month) == day


def key(group_id: int, day: date) -> str:
    return f"attendance-summary:{group_id}:{day:%Y-%m}"


def plan(session: Session, day: date, tz: str) -> list[Planned]:
    if not is_summary_day(day):
        return []
    return [
        Planned(
            key=key(gid, day),
            kind=KIND,
            recipient=group.channel_id,
            group_id=gid,
            for_date=day,
            due_at=post_time(day, tz),
        )
        for gid, group in groups_by_id(session).items()
        if chaser_settings(group).attendance_summary
    ]


def build(session: Session, item: Claimed, tz: str) -> Reply:
    group = session.get(TaskGroup, item.group_id) if item.group_id is not None else None
    if group is None:
        raise NotWanted("the task group no longer exists")
    if not chaser_settings(group).attendance_summary:
        raise NotWanted("the attendance summary was turned off (`/ecm setup attendance-summary:off`)")
    last = view.DEFAULT_LAST
    # The same choice of meetings and the same reply as `/ecm attendance` with no options.
    chosen = attendance_store.closed_meetings(session, group.id, last=last)  # type: ignore[arg-type]
    if not chosen.ids:
        raise NotWanted("no meetings held yet, so there is nothing to count")
    reply = view.attendance_reply(
        session,
        group,
        chosen,
        by_member=False,
        organisation=None,
        visibility=Visibility.CHANNEL,
        scope=f"the last {plural(last, 'meeting')}",
        channel=True,
    )
    reply.header = f"Monthly attendance summary: the last {plural(last, 'meeting')}"
    reply.text = "Monthly attendance summary. " + reply.text
    return reply
