"""Attendance summary: on the first working day of each month, in the task group's channel, the attendance
counts of the last 6 meetings by organisation, built exactly as `/ecm attendance` builds them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from commands import meeting_view as view
from commands.posts.common import group_still_there, post_time, working
from commands.posts.kind import GroupSettings, Job, NextPost, NotWanted, PostKind, switch
from commands.posts.settings import chaser_settings
from commands.replies import Reply, Visibility
from commands.text import plural
from commands.workdays import first_working_day_of_month
from storage import attendance as attendance_store
from storage.groups import groups_by_id
from storage.models import TaskGroup
from storage.notifications import Claimed, Planned

KIND = "attendance_summary"

ATTENDANCE_SUMMARY = switch(
    "attendance_summary",
    ("attendance-summary", "attendance_summary"),
    label="attendance summary",
    describe=lambda s: (
        f"• Monthly attendance summary: *{'on' if s.attendance_summary else 'off'}* (`attendance-summary:on|off`)"
    ),
)


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
    group = group_still_there(session, item)
    if not chaser_settings(group).attendance_summary:
        raise NotWanted("the attendance summary was turned off (`/ecm setup attendance-summary:off`)")
    last = view.DEFAULT_LAST
    # The same choice of meetings and the same reply as `/ecm attendance` with no options.
    chosen = attendance_store.closed_meetings(session, group.id, last=last)  # type: ignore[arg-type]
    if not chosen.ids:
        raise NotWanted("no meetings held yet, so there is nothing to count")
    counts = view.load_attendance(session, group, chosen, tz, by_member=False, organisation=None)
    reply = view.render_attendance(
        counts, visibility=Visibility.CHANNEL, scope=f"the last {plural(last, 'meeting')}", channel=True
    )
    reply.header = f"Monthly attendance summary: the last {plural(last, 'meeting')}"
    reply.text = "Monthly attendance summary. " + reply.text
    return reply


def _next_month_start(day: date) -> date:
    month_after = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_working_day_of_month(month_after.year, month_after.month)


def next_post(session: Session, group: TaskGroup, settings: GroupSettings, first: date, tz: str) -> NextPost:
    if not settings.attendance_summary:
        return NextPost(None, "off")
    return NextPost(post_time(first if is_summary_day(first) else _next_month_start(first), tz))


POST = PostKind(
    name=KIND,
    label="attendance summary",
    job=Job("attendance-summary", "attendance counts, first working day of each month"),
    plan=plan,
    build=build,
    settings=(ATTENDANCE_SUMMARY,),
    next_post=next_post,
)
