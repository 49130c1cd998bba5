"""Meeting reminder: in the task group's channel on the working day before a scheduled meeting, with its
date and time and the matters arising (open actions from earlier meetings, and overdue actions).

Occurrences come from the group's schedules (`/ecm schedule`); a cancelled date or a removed schedule is
not reminded about, and a reminder planned before the cancellation is skipped with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands import meeting_view as view
from commands.dates import format_date, format_datetime
from commands.mrkdwn import Mrkdwn, bold, md
from commands.posts.common import group_label, group_still_there, post_time, working
from commands.posts.kind import GroupSettings, Job, NextPost, NotWanted, PostKind, switch
from commands.posts.settings import chaser_settings
from commands.replies import Reply, Section, Visibility
from commands.workdays import add_working_days
from storage import meetings as meeting_store
from storage import schedules as schedule_store
from storage.actions import ActionFilter, ActionRow, page_of_actions
from storage.groups import groups_by_id
from storage.models import MeetingSchedule, MeetingStatus, TaskGroup
from storage.notifications import Claimed, Planned

KIND = "meeting_reminder"
LOOKAHEAD_DAYS = 14  # Christmas can put five days between a meeting and the working day before it
NEXT_REMINDER_DAYS = 60  # how far `ecm-bot jobs list` looks for the next one

REMINDERS = switch(
    "reminders",
    ("reminders",),
    label="meeting reminders",
    describe=lambda s: (
        f"• Meeting reminders the working day before: *{'on' if s.reminders else 'off'}* (`reminders:on|off`)"
    ),
)


def _end_of_day(day: date, tz: str) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz)) - timedelta(microseconds=1)


def reminders_due(
    session: Session, group: TaskGroup, day: date, tz: str
) -> list[tuple[MeetingSchedule, datetime]]:
    """(schedule, occurrence) pairs whose reminder goes out on `day`: meetings after today whose previous
    working day is `day`."""
    found = []
    for schedule in schedule_store.active_schedules(session, group.id):  # type: ignore[arg-type]
        for at in view.schedule_occurrences(
            schedule,
            tz,
            _end_of_day(day, tz),
            count=LOOKAHEAD_DAYS,
            until=day + timedelta(days=LOOKAHEAD_DAYS),
        ):
            meeting_day = at.astimezone(ZoneInfo(tz)).date()
            if add_working_days(meeting_day, -1) == day:
                found.append((schedule, at))
    return found


def key(group_id: int, schedule_id: int, at: datetime) -> str:
    return f"meeting-reminder:{group_id}:{schedule_id}:{at.strftime('%Y%m%dT%H%MZ')}"


def plan(session: Session, day: date, tz: str) -> list[Planned]:
    if not working(day):
        return []
    planned = []
    for gid, group in groups_by_id(session).items():
        if not chaser_settings(group).reminders:
            continue
        for schedule, at in reminders_due(session, group, day, tz):
            planned.append(
                Planned(
                    key=key(gid, schedule.id, at),  # type: ignore[arg-type]
                    kind=KIND,
                    recipient=group.channel_id,
                    group_id=gid,
                    for_date=day,
                    due_at=post_time(day, tz),
                    payload={"schedule_id": schedule.id, "at": at.isoformat()},
                )
            )
    return planned


@dataclass
class Reminder:
    """What a reminder says: the meeting, when, and the matters arising on the day it goes out."""

    group: TaskGroup
    schedule: MeetingSchedule
    at: datetime
    day: date
    arising: list[ActionRow]
    arising_total: int
    tz: str


def load_reminder(session: Session, item: Claimed, tz: str) -> Reminder:
    """The reminder `item` was planned for, from current data; NotWanted if it should no longer go out."""
    group = group_still_there(session, item)
    if not chaser_settings(group).reminders:
        raise NotWanted("meeting reminders were turned off (`/ecm setup reminders:off`)")
    schedule = session.get(MeetingSchedule, item.payload.get("schedule_id"))
    at = datetime.fromisoformat(item.payload["at"])
    if schedule is None or schedule.removed_at is not None:
        raise NotWanted("the meeting schedule was removed")
    meeting = meeting_store.meeting_for_occurrence(session, schedule.id, at)  # type: ignore[arg-type]
    if meeting is not None and meeting.status == MeetingStatus.CANCELLED:
        raise NotWanted(f"the meeting of {format_date(at.astimezone(ZoneInfo(tz)).date())} was cancelled")
    occurrences = view.schedule_occurrences(schedule, tz, at - timedelta(minutes=1), count=1)
    if not occurrences or occurrences[0] != at:
        raise NotWanted(
            f"the meeting of {format_date(at.astimezone(ZoneInfo(tz)).date())} "
            "is no longer scheduled (cancelled or moved)"
        )
    rows, total = page_of_actions(
        session,
        ActionFilter.matters_arising(group.id, item.for_date),  # type: ignore[arg-type]
        limit=view.MATTERS_ARISING_LIMIT,
        order="organisation",
    )
    return Reminder(group, schedule, at, item.for_date, rows, total, tz)


def render_reminder(r: Reminder) -> Reply:
    group, schedule, at, day, tz = r.group, r.schedule, r.at, r.day, r.tz
    meeting_day = at.astimezone(ZoneInfo(tz)).date()
    tomorrow = meeting_day == day + timedelta(days=1)
    when = "tomorrow" if tomorrow else f"on {format_date(meeting_day)}"
    at_text = format_datetime(at, tz)  # carries the date, so "on DATE" is not said twice
    said = f"tomorrow, {at_text}" if tomorrow else f"on {at_text}"
    intro = Section(
        md(
            ":calendar: *{}* is {}. Matters arising for {} are below; owners, please update them before "
            'the meeting (`/ecm update N "progress"`).',
            schedule.title,
            md("tomorrow, {}", bold(at_text)) if tomorrow else md("on {}", bold(at_text)),
            group_label(group),
        )
    )
    return Reply(
        text=md("Reminder: {} {}", schedule.title, said),
        visibility=Visibility.CHANNEL,
        header=f"Meeting {when}: {schedule.title}",
        sections=[intro, *view.matters_arising_sections(r.arising, r.arising_total, day)],
        footer=Mrkdwn(
            "Chairs: `/ecm meeting start` opens it; `/ecm schedule cancel DATE` cancels a date; "
            "`/ecm setup reminders:off` stops these reminders."
        ),
    )


def build(session: Session, item: Claimed, tz: str) -> Reply:
    return render_reminder(load_reminder(session, item, tz))


def next_post(session: Session, group: TaskGroup, settings: GroupSettings, first: date, tz: str) -> NextPost:
    if not settings.reminders:
        return NextPost(None, "off")
    for offset in range(NEXT_REMINDER_DAYS):
        day = first + timedelta(days=offset)
        if not working(day):
            continue
        due = reminders_due(session, group, day, tz)
        if due:
            schedule, at = due[0]
            return NextPost(post_time(day, tz), note=f": {schedule.title[:40]} on {format_datetime(at, tz)}")
    return NextPost(None, "none", note=f" (no scheduled meeting in the next {NEXT_REMINDER_DAYS} days)")


POST = PostKind(
    name=KIND,
    label="meeting reminder",
    job=Job("meeting-reminders", "channel reminder the working day before a scheduled meeting"),
    plan=plan,
    build=build,
    settings=(REMINDERS,),
    next_post=next_post,
)
