"""`/ecm schedule`: the task group's regular meetings.

- `/ecm schedule "title" every:"2nd wednesday" at:10:00 [from:DATE] [until:DATE]` (or `rrule:"FREQ=…"`) — chairs;
  a schedule with the same title is replaced.
- `/ecm schedule cancel DATE ["reason"]` — chairs: cancels one scheduled meeting.
- `/ecm schedule stop ["title"]` — chairs: no more meetings on that schedule.
- `/ecm schedule` — the schedules and the next dates.

Recurrence is expanded in the group's time zone, so 10:00 stays 10:00 across BST and GMT.
"""

from __future__ import annotations

from datetime import timedelta

from commands import meeting_view as view
from commands.context import Call
from commands.dates import DateError, format_date, format_datetime, parse_date, parse_time
from commands.grammar import Kind
from commands.mrkdwn import Mrkdwn, code, md, person
from commands.recurrence import (
    RECURRENCE_EXAMPLES,
    RecurrenceError,
    describe_recurrence,
    occurrences,
    parse_recurrence,
)
from commands.registry import verb
from commands.replies import Reply, Section, UserError, Visibility
from commands.text import plural, slugify, truncate
from storage import meetings as meeting_store
from storage import schedules as schedule_store
from storage.models import MeetingSchedule

MAX_TITLE = 200
MAX_REASON = 500
CANCEL_AHEAD_YEARS = 5  # the schedule is expanded up to the date: keep that work small
EXAMPLE = '/ecm schedule "Task group" every:"2nd wednesday" at:10:00'


@verb(
    "schedule",
    summary="Set the task group's regular meetings, or cancel one date (chairs); on its own, the schedule.",
    usage='/ecm schedule ["title"] every:"2nd wednesday" at:10:00 [from:DATE] [until:DATE] | '
    'rrule:"FREQ=MONTHLY;BYDAY=2WE" at:10:00 | cancel DATE ["reason"] | stop ["title"]',
    examples=[
        EXAMPLE,
        '/ecm schedule "Chairs\' briefing" every:"2 weeks" at:9:30 from:5 Jan 2027',
        '/ecm schedule every:"last friday" at:2pm until:31 Jul 2027',
        '/ecm schedule rrule:"FREQ=MONTHLY;BYDAY=2WE" at:10:00',
        '/ecm schedule cancel 9 Dec "Christmas"',
    ],
    keys=("every", "at", "from", "until", "rrule", "title", "date", "reason"),
    section="Meetings",
    changes=True,
    details=f'`every:` takes week, "2 weeks", month, "2nd wednesday", "last friday" ({RECURRENCE_EXAMPLES}). '
    "Times are the group's local time all year round. A meeting started within two hours of a scheduled time "
    "belongs to that date. `/ecm meetings` shows the next three dates.",
)
def schedule(call: Call) -> list[Reply]:
    args = call.args
    first = args.positional[0] if args.positional else None
    sub = first.text.lower() if first is not None and first.kind == Kind.WORD else ""
    if args.mentions:
        raise UserError("`/ecm schedule` doesn't take people.")
    if sub == "cancel":
        return _cancel(call)
    if sub in ("stop", "remove", "end"):
        return _stop(call)
    if not args.tokens:
        return _show(call)
    return _create(call)


def _create(call: Call) -> list[Reply]:
    call.require_chair("set the meeting schedule")
    keys = call.args.keys
    for key in ("date", "reason"):
        if key in keys:
            raise UserError(f"`{key}:` goes with `/ecm schedule cancel DATE`.")
    if "every" in keys and "rrule" in keys:
        raise UserError("Give `every:` or `rrule:`, not both.")
    how = keys.get("every") or keys.get("rrule")
    if not how:
        raise UserError(
            "Say how often the meeting happens: `every:` (or a raw `rrule:`).", f"For example `{EXAMPLE}`."
        )
    if "rrule" in keys and "freq=" not in how.lower():
        raise UserError(
            '`rrule:` takes an iCalendar rule such as `rrule:"FREQ=MONTHLY;BYDAY=2WE"`.',
            f'Or say it in words: `every:"2nd wednesday"` ({RECURRENCE_EXAMPLES}).',
        )
    if "at" not in keys:
        raise UserError("Say what time the meeting starts: `at:10:00`.", f"For example `{EXAMPLE}`.")
    try:
        rule = parse_recurrence(how)
        at = parse_time(keys["at"])
    except (RecurrenceError, DateError) as error:
        raise UserError(str(error)) from error
    try:
        start = parse_date(keys["from"], call.today) if "from" in keys else call.today
        until = parse_date(keys["until"], call.today) if "until" in keys else None
    except DateError as error:
        raise UserError(str(error)) from error
    if until is not None and until < start:
        raise UserError(f"`until:` ({format_date(until)}) is before the first date ({format_date(start)}).")
    title = (
        keys.get("title") or call.args.free_text() or truncate(f"{call.task_group.name} meeting", MAX_TITLE)
    )
    if len(title) > MAX_TITLE:
        raise UserError(f"That title is too long ({len(title)} characters; {MAX_TITLE} at most).")
    tz = call.timezone
    try:
        upcoming = occurrences(rule, start, at, tz, call.now, count=3, until=until)
    except RecurrenceError as error:
        raise UserError(str(error)) from error
    if not upcoming:
        raise UserError(
            "That schedule has no meetings still to come.",
            "Check `from:` and `until:` (and any COUNT or UNTIL in the rule).",
        )
    saved, replaced = schedule_store.add_schedule(
        call.session,
        call.task_group,
        title=title,
        rrule=rule,
        start_date=start,
        local_time=at,
        until=until,
        by=call.user_id,
        at=call.now,
    )
    lines = [
        md(
            "{} {} the meeting schedule: {}.",
            person(call.user_id),
            "changed" if replaced else "set",
            view.schedule_line(saved, tz),
        ),
        md("*Next:* {}", "; ".join(format_datetime(when, tz) for when in upcoming)),
    ]
    lines.append(
        Mrkdwn("Start each meeting with `/ecm meeting start`; `/ecm schedule cancel DATE` cancels one date.")
    )
    return [
        Reply(
            text=md("Meetings scheduled: {}, {} at {:%H:%M}", title, describe_recurrence(rule), at),
            visibility=Visibility.CHANNEL,
            sections=[Section(Mrkdwn("\n").join(lines))],
        )
    ]


def _cancel(call: Call) -> list[Reply]:
    call.require_chair("cancel a scheduled meeting")
    keys = call.args.keys
    words = [t.text for t in call.args.tokens[1:] if t.kind == Kind.WORD]
    reason = keys.get("reason") or " ".join(t.text for t in call.args.tokens if t.kind == Kind.QUOTED) or None
    if set(keys) - {"date", "reason"}:
        raise UserError(
            "`/ecm schedule cancel` takes a date and, in quotes, a reason.",
            '`/ecm schedule cancel 9 Dec "Christmas"`',
        )
    text = keys.get("date") or " ".join(words)
    if not text:
        raise UserError("Say which date to cancel.", '`/ecm schedule cancel 9 Dec "Christmas"`')
    if keys.get("date") and words:
        raise UserError(md("I don't understand “{}” here.", truncate(" ".join(words), 60)))
    try:
        day = parse_date(text, call.today)
    except DateError as error:
        raise UserError(str(error)) from error
    if reason and len(reason) > MAX_REASON:
        raise UserError(f"That reason is too long ({len(reason)} characters; {MAX_REASON} at most).")
    if day > call.today + timedelta(days=366 * CANCEL_AHEAD_YEARS):
        raise UserError(
            f"{format_date(day)} is too far ahead: meetings can be cancelled up to "
            f"{CANCEL_AHEAD_YEARS} years in advance.",
            '`/ecm schedule cancel 9 Dec "Christmas"`',
        )
    tz = call.timezone
    start = view.local_midnight(day, tz)
    found: list[view.Upcoming] = []
    already: list[MeetingSchedule] = []
    for s in schedule_store.active_schedules(call.session, call.group_id):
        for when in view.schedule_occurrences(
            s, tz, start - timedelta(microseconds=1), 1, until=day, include_cancelled=True
        ):
            if day.isoformat() in (s.cancelled_dates or []):
                already.append(s)
            else:
                found.append(view.Upcoming(when, s))
    if not found:
        if already:
            raise UserError(f"The meeting on {format_date(day)} is already cancelled.")
        nxt = view.upcoming(call.session, call.task_group, call.now, call.timezone, 3)
        listing = "; ".join(format_datetime(u.at, tz) for u in nxt) or "none"
        raise UserError(
            f"No meeting is scheduled on {format_date(day)}.", f"The next scheduled meetings: {listing}."
        )
    lines = []
    for slot in found:
        held = meeting_store.meeting_for_occurrence(call.session, slot.schedule.id, slot.at)  # type: ignore[arg-type]
        if held is not None and held.started_at is not None:
            raise UserError(
                f"The meeting of {format_datetime(slot.at, tz)} has already been held or is open.",
                "A chair cancels the open meeting with `/ecm meeting cancel`.",
            )
        if slot.at <= call.now:
            raise UserError(f"The meeting of {format_datetime(slot.at, tz)} has already passed.")
        meeting_store.cancel_occurrence(
            call.session,
            slot.schedule,
            slot.at,
            day,
            title=slot.schedule.title,
            by=call.user_id,
            at=call.now,
            reason=reason,
        )
        lines.append(md("{} (*{}*)", format_datetime(slot.at, tz), slot.schedule.title))
    why = md(": {}", reason) if reason else ""
    nxt = view.upcoming(call.session, call.task_group, call.now, call.timezone, 1)
    after = md("\nThe next meeting is {}.", format_datetime(nxt[0].at, tz)) if nxt else ""
    return [
        Reply(
            text=f"Meeting on {format_date(day)} cancelled.",
            visibility=Visibility.CHANNEL,
            sections=[
                Section(
                    md(
                        ":no_entry_sign: {} cancelled the meeting on {}{}.{}",
                        person(call.user_id),
                        Mrkdwn(", ").join(lines),
                        why,
                        after,
                    )
                )
            ],
        )
    ]


def _stop(call: Call) -> list[Reply]:
    call.require_chair("stop a meeting schedule")
    if call.args.keys:
        raise UserError("`/ecm schedule stop` takes only a title.")
    title = " ".join(t.text for t in call.args.positional[1:]).strip()
    schedules = schedule_store.active_schedules(call.session, call.group_id)
    if not schedules:
        raise UserError("There is no meeting schedule to stop.")
    if title:
        chosen = [s for s in schedules if slugify(s.title) == slugify(title)]
        if not chosen:
            raise UserError(
                md("There is no schedule called “{}”.", truncate(title, 60)),
                md("Schedules: {}.", Mrkdwn(", ").join(md("“{}”", s.title) for s in schedules)),
            )
    elif len(schedules) > 1:
        raise UserError(
            "There are several schedules; say which one to stop.",
            md("Schedules: {}.", Mrkdwn(", ").join(md("“{}”", s.title) for s in schedules)),
        )
    else:
        chosen = schedules
    for s in chosen:
        schedule_store.remove_schedule(call.session, s, by=call.user_id, at=call.now)
    names = Mrkdwn(", ").join(md("*{}*", s.title) for s in chosen)
    return [
        Reply(
            text=md("Schedule stopped: {}", ", ".join(s.title for s in chosen)),
            visibility=Visibility.CHANNEL,
            sections=[
                Section(
                    md(
                        "{} stopped the meeting schedule {}. Meetings already held keep their records.",
                        person(call.user_id),
                        names,
                    )
                )
            ],
        )
    ]


def _show(call: Call) -> list[Reply]:
    schedules = schedule_store.active_schedules(call.session, call.group_id)
    tz = call.timezone
    if not schedules:
        return [
            Reply(
                text="No meeting schedule yet.",
                sections=[Section(md("No meeting schedule yet. A chair sets one: {}.", code(EXAMPLE)))],
            )
        ]
    lines = [md("• {}", view.schedule_line(s, tz)) for s in schedules]
    nxt = view.upcoming_lines(call.session, call.task_group, call.now, call.timezone, 3)
    body = md(
        "{}\n*Next:*\n{}", Mrkdwn("\n").join(lines), Mrkdwn("\n").join(nxt) if nxt else "no more dates."
    )
    return [
        Reply(
            text=f"{plural(len(schedules), 'schedule')}", header="Meeting schedule", sections=[Section(body)]
        )
    ]
