"""`/ecm meeting start ["title"] | end | cancel ["reason"]`: chairs run the channel's meeting.

`start` opens it (attached to a scheduled occurrence within two hours) and posts the matters arising; `end`
closes it, records absentees and posts the minutes and the attendance summary; `cancel` cancels the open
meeting or, with none open, the next scheduled one. With nothing after it, `meeting` shows the open meeting.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands import meeting_view as view
from commands.context import Call
from commands.dates import format_datetime
from commands.meeting_input import RECORD_DECISION, TAKE_ATTENDANCE, require_open
from commands.mrkdwn import Mrkdwn, md, person
from commands.registry import verb
from commands.replies import Button, Reply, Section, UserError, Visibility
from commands.text import plural, truncate
from storage import attendance as attendance_store
from storage import decisions as decision_store
from storage import groups
from storage import meetings as meeting_store
from storage.actions import ActionFilter, count_actions, page_of_actions
from storage.models import REPRESENTED_MODES, AttendanceMode

MAX_TITLE = 200
MAX_REASON = 500
SUBCOMMANDS = Mrkdwn('`/ecm meeting start ["title"]`, `/ecm meeting end` or `/ecm meeting cancel ["reason"]`')


def _rest(call: Call) -> str:
    """The free text after the sub-command (a title or a reason)."""
    return " ".join(t.text for t in call.args.positional[1:]).strip()


@verb(
    "meeting",
    summary="Start, end or cancel the task group's meeting (chairs); on its own, the meeting now open.",
    usage='/ecm meeting start ["title"] | end | cancel ["reason"]',
    examples=[
        '/ecm meeting start "November task group"',
        "/ecm meeting end",
        '/ecm meeting cancel "Not quorate"',
        "/ecm meeting",
    ],
    keys=("title", "reason"),
    section="Meetings",
    changes=True,
    details="`start` posts the matters arising (open actions from earlier meetings and overdue actions, by "
    "organisation); a meeting started within two hours of a scheduled time belongs to that date. `end` posts "
    "the minutes and the attendance summary; registered members with no attendance record are absent. "
    "`cancel` with no meeting open cancels the next scheduled one. Cancelled meetings never count in attendance.",
)
def meeting(call: Call) -> list[Reply]:
    words = call.args.positional
    sub = words[0].text.lower() if words and words[0].kind == "word" else ""
    if call.args.mentions:
        raise UserError("`/ecm meeting` doesn't take people. Record attendance with `/ecm present @name`.")
    if sub in ("start", "open", "begin"):
        return _start(call)
    if sub in ("end", "close", "finish"):
        return _end(call)
    if sub == "cancel":
        return _cancel(call)
    if sub in ("", "status", "now"):
        if len(words) > 1 or call.args.keys:
            raise UserError(f"Say what to do: {SUBCOMMANDS}.")
        return _status(call)
    raise UserError(md("I don't know “{}” here. Say {}.", truncate(words[0].text, 40), SUBCOMMANDS))


def _start(call: Call) -> list[Reply]:
    call.require_chair("start a meeting")
    if "reason" in call.args.keys:
        raise UserError("`reason:` goes with `/ecm meeting cancel`.")
    groups.lock_group(call.session, call.group_id)
    current = meeting_store.open_meeting(call.session, call.group_id)
    if current is not None:
        number = meeting_store.meeting_number(call.session, current)
        raise UserError(
            md(
                "A meeting is already open in this channel: {}, chaired by {}.",
                view.meeting_label(current, number, call.timezone),
                person(current.chair_user_id),
            ),
            "End it with `/ecm meeting end` (or `/ecm meeting cancel`) before starting another.",
        )
    title = call.args.key("title") or _rest(call)
    if len(title) > MAX_TITLE:
        raise UserError(f"That title is too long ({len(title)} characters; {MAX_TITLE} at most).")
    group = call.task_group
    slot = view.nearest_occurrence(call.session, group, call.now, call.timezone)
    if not title:
        title = slot.schedule.title if slot else truncate(f"{group.name} meeting", MAX_TITLE)
    started = meeting_store.start_meeting(
        call.session,
        group,
        title=title,
        by=call.user_id,
        at=call.now,
        schedule_id=slot.schedule.id if slot else None,
        scheduled_for=slot.at if slot else None,
    )
    number = meeting_store.meeting_number(call.session, started)
    if call.caller is not None:  # whoever opens the meeting is there; `/ecm here as:virtual` corrects it
        attendance_store.record_attendance(
            call.session,
            started,
            user_id=call.user_id,
            organisation=call.caller.organisation,
            mode=AttendanceMode.PRESENT,
            substitute_for=None,
            by=call.user_id,
            at=call.now,
        )
    tz = call.timezone
    intro = md(
        "{} opened {} at {}",
        person(call.user_id),
        view.meeting_name(started, number),
        format_datetime(call.now, tz),
    )
    if slot:
        intro += f" (scheduled for {format_datetime(slot.at, tz)})"
    intro += (
        " and is recorded as present.\nRecord attendance: `/ecm here` for yourself (`for:ORG`, `as:virtual`), or a chair "
        '`/ecm present @a @b` and `/ecm apologies @c`. Record decisions with `/ecm decide "…"`, '
        'information with `/ecm note "…"`; actions added now belong to this meeting.'
    )
    rows, total = page_of_actions(
        call.session,
        ActionFilter.matters_arising(call.group_id, call.today, started.id),
        limit=view.MATTERS_ARISING_LIMIT,
        order="organisation",
    )
    forms = [  # the chair's forms, for those who would rather click (chairs only; others are refused)
        Button("Take attendance", TAKE_ATTENDANCE, str(started.id)),
        Button("Record decision", RECORD_DECISION, str(started.id)),
    ]
    sections = [Section(intro, buttons=forms), *view.matters_arising_sections(rows, total, call.today)]
    return [
        Reply(
            text=md("Meeting started: {}. Matters arising: {}.", title, plural(total, "action")),
            visibility=Visibility.CHANNEL,
            header=truncate(f"Meeting started: {title}", 150),
            sections=sections,
            footer=Mrkdwn("`/ecm meeting end` closes it and posts the minutes."),
        )
    ]


def _end(call: Call) -> list[Reply]:
    call.require_chair("end the meeting")
    if len(call.args.positional) > 1 or call.args.keys:
        raise UserError("`/ecm meeting end` takes nothing else.")
    groups.lock_group(call.session, call.group_id)  # ending twice at once posts the minutes once
    current = require_open(call, "end one")
    meeting_store.end_meeting(call.session, current, by=call.user_id, at=call.now)
    group = call.task_group
    minutes = view.minutes_reply(call.session, group, current, call.today, call.timezone, full=False)
    choice = attendance_store.closed_meetings(call.session, call.group_id, last=view.DEFAULT_LAST)
    summary = view.attendance_reply(
        call.session,
        group,
        choice,
        call.timezone,
        by_member=False,
        organisation=None,
        visibility=Visibility.CHANNEL,
        scope=f"the last {plural(view.DEFAULT_LAST, 'meeting')}",
        channel=True,
    )
    return [minutes, summary]


def _cancel(call: Call) -> list[Reply]:
    call.require_chair("cancel a meeting")
    reason = call.args.key("reason") or _rest(call) or None
    if reason and len(reason) > MAX_REASON:
        raise UserError(f"That reason is too long ({len(reason)} characters; {MAX_REASON} at most).")
    tz = call.timezone
    groups.lock_group(call.session, call.group_id)
    current = meeting_store.open_meeting(call.session, call.group_id)
    if current is not None:
        number = meeting_store.meeting_number(call.session, current)
        meeting_store.cancel_meeting(call.session, current, by=call.user_id, at=call.now, reason=reason)
        why = md(": {}", reason) if reason else ""
        return [
            Reply(
                text=md("{} ({}) is cancelled.", view.meeting_name(current, number), current.title),
                visibility=Visibility.CHANNEL,
                sections=[
                    Section(
                        md(
                            ":no_entry_sign: {} cancelled {}{}.\nIt will not count in attendance figures; anything recorded in it stays on record.",
                            person(call.user_id),
                            view.meeting_label(current, number, tz),
                            why,
                        )
                    )
                ],
            )
        ]
    slot = view.nearest_occurrence(call.session, call.task_group, call.now, call.timezone) or next(
        iter(view.upcoming(call.session, call.task_group, call.now, call.timezone, 1)), None
    )
    if slot is None:
        raise UserError(
            "There is no meeting open and none scheduled, so there is nothing to cancel.",
            'Chairs set a schedule with `/ecm schedule "title" every:"2nd wednesday" at:10:00`.',
        )
    day = slot.at.astimezone(ZoneInfo(tz)).date()
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
    nxt = view.upcoming(call.session, call.task_group, call.now, call.timezone, 1)
    why = md(": {}", reason) if reason else ""
    after = md("\nThe next meeting is {}.", format_datetime(nxt[0].at, tz)) if nxt else ""
    return [
        Reply(
            text=f"The meeting on {format_datetime(slot.at, tz)} is cancelled.",
            visibility=Visibility.CHANNEL,
            sections=[
                Section(
                    md(
                        ":no_entry_sign: {} cancelled the meeting on {} (*{}*){}.{}",
                        person(call.user_id),
                        format_datetime(slot.at, tz),
                        slot.schedule.title,
                        why,
                        after,
                    )
                )
            ],
        )
    ]


def _status(call: Call) -> list[Reply]:
    current = meeting_store.open_meeting(call.session, call.group_id)
    tz = call.timezone
    if current is None:
        lines = [Mrkdwn("No meeting is open in this channel.")]
        nxt = view.upcoming_lines(call.session, call.task_group, call.now, call.timezone, 1)
        if nxt:
            lines.append(md("*Next:*\n{}", Mrkdwn("\n").join(nxt)))
        lines.append(
            Mrkdwn('A chair starts one with `/ecm meeting start "title"`; `/ecm meetings` lists past ones.')
        )
        return [Reply(text=lines[0], sections=[Section(Mrkdwn("\n").join(lines))])]
    number = meeting_store.meeting_number(call.session, current)
    records = attendance_store.current_attendance(call.session, current.id)  # type: ignore[arg-type]
    represented = sum(1 for r in records if r.mode in REPRESENTED_MODES)
    apologies = sum(1 for r in records if r.mode == AttendanceMode.APOLOGIES)
    decisions = decision_store.meeting_decisions(call.session, current.id)  # type: ignore[arg-type]
    actions = count_actions(call.session, ActionFilter.raised_at(current.id))  # type: ignore[arg-type]
    lines = [
        md(
            "Open now: {}, chaired by {}.",
            view.meeting_label(current, number, tz),
            person(current.chair_user_id),
        ),
        md(
            "So far: {} attending, {} apologies, {}, {}, {}.",
            represented,
            apologies,
            plural(len(decisions), "decision"),
            plural(actions, "action"),
            plural(meeting_store.count_notes(call.session, current.id), "note"),  # type: ignore[arg-type]
        ),
        Mrkdwn("`/ecm minutes` shows the minutes so far; a chair ends it with `/ecm meeting end`."),
    ]
    return [Reply(text=lines[0], sections=[Section(Mrkdwn("\n").join(lines))])]
