"""`/ecm decisions [since:DATE] [status:...]`: the decision register, with each decision's actions."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands import meeting_view as view
from commands.action_view import STATUS_LABEL
from commands.context import Call
from commands.dates import format_date
from commands.grammar import split_list
from commands.meeting_input import parse_decision_status
from commands.mrkdwn import Mrkdwn, md, person
from commands.registry import verb
from commands.replies import Reply, Section, UserError
from commands.text import plural, truncate
from storage import decisions as decision_store
from storage import meetings as meeting_store
from storage.models import Decision, Meeting

PAGE = 30
MAX_TEXT = 600


@verb(
    "decisions",
    summary="The decision register: each decision with its linked actions and their status.",
    usage="/ecm decisions [since:DATE] [status:agreed,deferred,rejected,noted]",
    examples=["/ecm decisions", "/ecm decisions since:1 Sep 2026", "/ecm decisions status:deferred"],
    keys=("since", "status"),
    section="Meetings",
)
def decisions(call: Call) -> list[Reply]:
    keys = call.args.keys
    if call.args.positional or call.args.mentions:
        raise UserError(md("I don't understand “{}” here.", truncate(call.args.free_text() or "@…", 60)))
    since = None
    if "since" in keys:
        since_day = view.past_date(keys["since"], call.today, "since")
        since = view.local_midnight(since_day, call.timezone)
    statuses = list(dict.fromkeys(parse_decision_status(s) for s in split_list(keys.get("status", ""))))
    if "status" in keys and not statuses:
        raise UserError("`status:` needs a status.")
    page = decision_store.list_decisions(
        call.session, call.group_id, since=since, statuses=statuses, limit=PAGE
    )
    tz = call.timezone
    if not page.decisions:
        what = "that match" if since or statuses else "yet"
        return [
            Reply(
                text=f"No decisions {what}.",
                sections=[
                    Section(
                        md(
                            'No decisions {}. A chair records one during a meeting: `/ecm decide "text"`.',
                            what,
                        )
                    )
                ],
            )
        ]
    meetings: dict[int, Meeting] = {}
    for d in page.decisions:
        if d.meeting_id and d.meeting_id not in meetings:
            m = meeting_store.get_meeting(call.session, call.group_id, d.meeting_id)
            if m is not None:
                meetings[d.meeting_id] = m
    numbers = meeting_store.meeting_numbers(call.session, list(meetings.values()))
    lines = [
        _line(d, meetings.get(d.meeting_id or 0), numbers, page.actions.get(d.id or 0, []), tz)
        for d in page.decisions
    ]
    intro = md("{}", plural(page.total, "decision"))
    if page.total > len(page.decisions):
        intro += md("; the latest {} shown. Narrow it with `since:DATE` or `status:`.", len(page.decisions))
    return [
        Reply(
            text=f"Decision register: {intro}",
            header="Decision register",
            sections=[Section(intro), Section(Mrkdwn("\n").join(lines))],
            footer=Mrkdwn(
                "Link an action to a decision: `/ecm add TITLE decision:D3` or `/ecm update N decision:D3`."
            ),
        )
    ]


def _line(d: Decision, meeting: Meeting | None, numbers: dict[int, int], actions: list, tz: str) -> Mrkdwn:
    day = format_date(d.created_at.astimezone(ZoneInfo(tz)).date())
    where = f"{view.meeting_name(meeting, numbers.get(meeting.id or 0))}, " if meeting else ""
    line = md(
        "• *D{}* _({})_ {} — {}{}, {}",
        d.number,
        d.status.value,
        view.show_text(truncate(d.text, MAX_TEXT)),
        where,
        day,
        person(d.recorded_by),
    )
    if actions:
        line += Mrkdwn("\n") + Mrkdwn("\n").join(
            md("      ↳ {}", view.linked_action_text(a.number, a.title, STATUS_LABEL[a.status], a.due_date))
            for a in actions
        )
    else:
        line += Mrkdwn("\n      ↳ _no actions linked_")
    return line
