"""`/ecm meetings`: recent meetings and the next scheduled ones."""

from __future__ import annotations

from commands import meeting_view as view
from commands.context import Call
from commands.dates import format_datetime
from commands.mrkdwn import Mrkdwn, italic, md, person
from commands.registry import verb
from commands.replies import Reply, Section, UserError
from commands.text import truncate
from storage import meetings as meeting_store
from storage import schedules as schedule_store

RECENT = 8


@verb(
    "meetings",
    summary="Recent meetings and the next three scheduled dates.",
    usage="/ecm meetings",
    examples=["/ecm meetings"],
    section="Meetings",
)
def meetings(call: Call) -> list[Reply]:
    if call.args.tokens:
        raise UserError(
            "`/ecm meetings` takes nothing else.", "`/ecm minutes N` shows one meeting's minutes."
        )
    tz = call.timezone
    recent = meeting_store.recent_meetings(call.session, call.group_id, before=call.now, limit=RECENT)
    numbers = meeting_store.meeting_numbers(call.session, recent)
    lines = []
    for m in recent:
        number = numbers.get(m.id or 0)
        line = md(
            "• {} · *{}* · {} — {}",
            view.meeting_name(m, number),
            m.title,
            format_datetime(view.when_of(m), tz),
            view.status_word(m),
        )
        if m.cancel_reason:
            line += md(": {}", truncate(m.cancel_reason, 200))
        if m.chair_user_id:
            line += md(" · chair {}", person(m.chair_user_id))
        lines.append(line)
    recent_text = md("*Recent meetings*\n{}", Mrkdwn("\n").join(lines) if lines else "None yet.")
    if lines:
        recent_text += Mrkdwn("\n`/ecm minutes N` shows a meeting's minutes.")
    nxt = view.upcoming_lines(call.session, call.task_group, call.now, call.timezone, 3)
    schedules = schedule_store.active_schedules(call.session, call.group_id)
    if schedules:
        next_text = md(
            "*Next meetings*\n{}", Mrkdwn("\n").join(nxt) if nxt else "No more dates on the schedule."
        )
        next_text += Mrkdwn("\n") + Mrkdwn("\n").join(
            italic(view.schedule_line(s, tz)) for s in schedules[:5]
        )
    else:
        next_text = Mrkdwn(
            "*Next meetings:* no schedule yet. A chair sets one with "
            '`/ecm schedule "Task group" every:"2nd wednesday" at:10:00`.'
        )
    return [
        Reply(
            text=f"{len(recent)} recent meetings; next: {len(nxt)} scheduled",
            header="Meetings",
            sections=[Section(recent_text), Section(next_text)],
        )
    ]
