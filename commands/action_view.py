"""How actions look in Slack (mrkdwn): the one-line form for lists, the detail view, and history lines.

User text (titles, organisations, notes, district names) is escaped by `commands.mrkdwn`; people are mentions.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from commands.dates import format_date, format_datetime
from commands.mrkdwn import Mrkdwn, italic, link, md, mentions, person, text, with_mentions
from commands.names import OUTCOME_NAMES, OUTCOME_SHORT
from commands.replies import Section
from commands.text import esc, plural, truncate
from commands.workdays import working_days_between
from storage.actions import COUNTYWIDE, ActionRow, ShownAction
from storage.models import (
    LIVE_STATUSES,
    ActionNote,
    ActionStatus,
    AuditEvent,
    Decision,
    Meeting,
    Outcome,
    Rag,
)

DUE_SOON_DAYS = 7  # "due soon" and `/ecm actions soon`: due within this many days from today
LIST_TITLE_LIMIT = 300  # titles are cut in one-line views so a page of 40 stays within Slack's limits

STATUS_EMOJI: dict[ActionStatus, str] = {
    ActionStatus.OPEN: ":white_circle:",
    ActionStatus.IN_PROGRESS: ":arrows_counterclockwise:",
    ActionStatus.BLOCKED: ":no_entry:",
    ActionStatus.DONE: ":white_check_mark:",
    ActionStatus.DROPPED: ":heavy_multiplication_x:",
}
STATUS_LABEL: dict[ActionStatus, str] = {
    ActionStatus.OPEN: "open",
    ActionStatus.IN_PROGRESS: "in progress",
    ActionStatus.BLOCKED: "blocked",
    ActionStatus.DONE: "done",
    ActionStatus.DROPPED: "dropped",
}
RAG_EMOJI: dict[Rag, str] = {
    Rag.RED: ":large_red_square:",
    Rag.AMBER: ":large_orange_square:",
    Rag.GREEN: ":large_green_square:",
}

FIELD_LABELS = {
    "title": "title",
    "organisation": "organisation",
    "due_date": "due",
    "status": "status",
    "rag": "RAG",
    "owners": "owners",
    "outcomes": "outcomes",
    "districts": "districts",
    "snoozed_until": "snoozed until",
    "decision": "decision",
    "meeting_id": "meeting",
}
VERB_LABELS = {
    "created": "added this action",
    "imported": "imported this action from a plan",
    "updated": "updated it",
    "done": "marked it done",
    "reopened": "reopened it",
    "dropped": "dropped it",
    "note": "added a note",
    "snoozed": "snoozed it",
    "unsnoozed": "ended its snooze",
}


# The bot's own words in a list line, made mrkdwn once rather than escaped again on every line.
_STATUS_EMOJI_MD = {status: text(emoji) for status, emoji in STATUS_EMOJI.items()}
_STATUS_LABEL_MD = {status: text(label) for status, label in STATUS_LABEL.items()}
_RAG_MD = {rag: md("{} {}", emoji, rag.value) for rag, emoji in RAG_EMOJI.items()}
_OUTCOME_MD = {
    False: {o: text(name) for o, name in OUTCOME_SHORT.items()},
    True: {o: text(name) for o, name in OUTCOME_NAMES.items()},
}
_COMMA = Mrkdwn(", ")
_DOT = Mrkdwn(" · ")

MAX_LINK = 500


def is_permalink(url: str | None) -> bool:
    """A plain https address as chat.getPermalink gives it: nothing that could break out of a mrkdwn link."""
    if not url or len(url) > MAX_LINK or not url.startswith("https://"):
        return False
    return not any(c in url for c in "<>| \n")


def source_link(action: Any, label: str = "the message it came from") -> Mrkdwn:
    """`<permalink|the message it came from>` for an action made from a message, else ""."""
    url = getattr(action, "source_link", None)
    return link(url, label) if url and is_permalink(url) else Mrkdwn()


def due_text(row: ActionRow, today: date, *, prefix: str = "due ") -> Mrkdwn:
    """`due Fri 28 Aug 2026`, with `:red_circle: overdue` or `due soon` marks while the action is live."""
    return Mrkdwn(_due(row.action, today, prefix))


def _due(a: ShownAction, today: date, prefix: str) -> str:
    """`due_text` as safe mrkdwn in a plain `str` (for joining into a line without re-escaping it)."""
    due = a.due_date
    if due is None:
        return "no due date"
    shown = _dated(prefix, due)
    if a.status in LIVE_STATUSES:
        if due < today:
            # Counted in working days everywhere (lists, DMs, digests, escalation), as the chasers count.
            days = working_days_between(due, today)
            return shown + (
                f" :red_circle: overdue ({plural(days, 'working day')})" if days else " :red_circle: overdue"
            )
        if due == today:
            return shown + " :large_orange_circle: due today"
        if due <= today + _SOON:
            return shown + " :large_yellow_circle: due soon"
    return shown


_SOON = timedelta(days=DUE_SOON_DAYS)


@lru_cache(maxsize=4096)  # a pure function of its arguments; a list shows the same few hundred dates
def _dated(prefix: str, due: date) -> str:
    return esc(prefix + format_date(due))


def outcomes_text(outcomes: list[Outcome], *, full: bool = False) -> Mrkdwn:
    if not outcomes:
        return Mrkdwn("no outcome")
    names = _OUTCOME_MD[full]
    return _COMMA.join([names[o] for o in outcomes])


def districts_text(row: ActionRow) -> Mrkdwn:
    if row.action.countywide:
        return Mrkdwn("countywide")
    if not row.districts:
        return Mrkdwn("no district")
    return _COMMA.join([d.name for d in row.districts])


def action_line(row: ActionRow, today: date) -> Mrkdwn:
    """One line for lists: status, `#N`, title, owners, organisation, due, outcomes, districts.

    Built as one plain string of escaped parts and made `Mrkdwn` once (a list makes 40 of these per page):
    every piece of user text goes through `esc`, exactly as `md`, `text` and `Mrkdwn.join` would escape it."""
    a = row.action
    owners = row.owners
    districts = row.districts
    parts = [
        ", ".join([person(u) for u in owners]) if owners else "nobody",
        esc(a.organisation) if a.organisation else "no organisation",
        _due(a, today, "due "),
        _OUTCOMES_LINE[tuple(row.outcomes)] if row.outcomes else "_no outcome_",
    ]
    # Said once: a district council's action for its own district alone needs the name only once.
    if a.countywide:
        parts.append("countywide")
    elif not districts:
        parts.append("no district")
    elif len(districts) != 1 or districts[0].name != a.organisation:
        parts.append(", ".join([esc(d.name) for d in districts]))
    status = a.status
    if status != ActionStatus.OPEN:
        parts.append(_STATUS_LABEL_MD[status])
    if a.rag:
        parts.append(_RAG_MD[a.rag])
    return Mrkdwn(
        f"{_STATUS_EMOJI_MD[status]} *#{a.number}* {esc(truncate(a.title, LIST_TITLE_LIMIT))} · {' · '.join(parts)}"
    )


class _OutcomesLine(dict[tuple[Outcome, ...], str]):
    """`_healthy, safe_` for a row's outcomes (`italic(outcomes_text(...))`), made once per combination."""

    def __missing__(self, outcomes: tuple[Outcome, ...]) -> str:
        line = self[outcomes] = italic(outcomes_text(list(outcomes)))
        return line


_OUTCOMES_LINE = _OutcomesLine()


def _plain_value(field: str, value: Any) -> Mrkdwn:
    """A value from the audit trail, readable and escaped."""
    if value is None or value == "" or value == []:
        return Mrkdwn("—")
    if field in ("due_date", "snoozed_until"):
        try:
            return text(format_date(date.fromisoformat(str(value))))
        except ValueError:
            return text(value)
    if field == "owners":
        return Mrkdwn(", ").join(person(v) for v in (value if isinstance(value, list) else [value]))
    if field == "outcomes":
        labels = []
        for v in value if isinstance(value, list) else [value]:
            try:
                labels.append(OUTCOME_SHORT[Outcome(v)])
            except ValueError:
                labels.append(str(v))
        return Mrkdwn(", ").join(labels)
    if field == "districts":
        if value == COUNTYWIDE:
            return Mrkdwn("countywide")
        return Mrkdwn(", ").join(str(v) for v in value) if isinstance(value, list) else text(value)
    if field == "status":
        try:
            return text(STATUS_LABEL[ActionStatus(value)])
        except ValueError:
            return text(value)
    if field == "title":
        return md("“{}”", truncate(str(value), 200))
    if isinstance(value, list):
        return Mrkdwn(", ").join(str(v) for v in value)
    return text(value)


def change_text(field: str, old: Any, new: Any) -> Mrkdwn:
    """`due: Fri 28 Aug 2026 → Fri 4 Sep 2026`."""
    label = FIELD_LABELS.get(field, field.replace("_", " "))
    return md("{}: {} → {}", label, _plain_value(field, old), _plain_value(field, new))


def change_lines(changes: dict[str, list[Any]]) -> list[Mrkdwn]:
    """A diff from storage.actions.update_action as readable `field: old → new` lines."""
    return [change_text(k, *v) for k, v in changes.items() if isinstance(v, list) and len(v) == 2]


def history_line(event: AuditEvent, tz: str) -> Mrkdwn:
    """`Mon 23 Nov 2026, 09:30 · <@U…> updated it: due … → …; “note”`."""
    when = format_datetime(event.at, tz)
    what = VERB_LABELS.get(event.verb, event.verb)
    line = md("{} · {} {}", when, person(event.user_id), what)
    if event.verb != "created":
        details = change_lines(event.changes or {})
        if details:
            line += Mrkdwn(": ") + Mrkdwn("; ").join(details)
    if event.note:
        line += md(" — “{}”", truncate(event.note, 300))
    return line


STATUS_VERBS = ("done", "dropped", "reopened")  # the verb already says what the status became


def progress_text(event: AuditEvent, note_limit: int = 300) -> Mrkdwn:
    """`<@U…> marked it done — “note”` or `<@U…> updated it: due … → …`: one change, without its time (the
    minutes of a meeting list what was reported while it ran)."""
    line = md("{} {}", person(event.user_id), VERB_LABELS.get(event.verb, event.verb))
    changes = {
        k: v for k, v in (event.changes or {}).items() if not (k == "status" and event.verb in STATUS_VERBS)
    }
    details = change_lines(changes)
    if details:
        line += Mrkdwn(": ") + Mrkdwn("; ").join(details)
    if event.note:
        line += md(" — “{}”", with_mentions(truncate(event.note, note_limit)))
    return line


def action_detail(
    row: ActionRow,
    today: date,
    history: list[AuditEvent],
    notes: list[ActionNote],
    *,
    decision: Decision | None = None,
    meeting: Meeting | None = None,
    tz: str = "Europe/London",
) -> list[Section]:
    """The full view of one action: its fields, progress notes, and every change in its history."""
    a = row.action
    lines = [
        md("*#{}* {}", a.number, a.title),
        md("*Owners:* {}", mentions(row.owners)),
        md("*Organisation:* {}", a.organisation or "not set"),
        md("*Due:* {}", due_text(row, today, prefix="")),
        md("*Status:* {} {}", STATUS_EMOJI[a.status], STATUS_LABEL[a.status])
        + (md(" · *RAG:* {} {}", RAG_EMOJI[a.rag], a.rag.value) if a.rag else Mrkdwn()),
        md("*Outcomes:* {}", outcomes_text(row.outcomes, full=True)),
        md("*Districts:* {}", districts_text(row)),
    ]
    if a.snoozed_until and a.snoozed_until >= today:
        lines.append(md("*Reminders snoozed until:* {}", format_date(a.snoozed_until)))
    if source_link(a):
        lines.append(md("*Made from:* {}", source_link(a)))
    if decision is not None:
        lines.append(md("*Decision:* D{} {}", decision.number, truncate(decision.text, 300)))
    if meeting is not None:
        when = meeting.started_at or meeting.scheduled_for or meeting.created_at
        lines.append(
            md("*Agreed at:* {}, {}", meeting.title, format_date(when.date()) if when else "").rstrip(", ")
        )
    lines.append(md("*Added by* {} on {}", person(a.created_by), format_datetime(a.created_at, tz)))
    if a.completed_at and a.status == ActionStatus.DONE:
        lines.append(md("*Completed:* {}", format_datetime(a.completed_at, tz)))
    sections = [Section(Mrkdwn("\n").join(lines))]
    if notes:
        body = Mrkdwn("\n").join(
            md("• {} {}: {}", format_datetime(n.created_at, tz), person(n.author), with_mentions(n.text))
            for n in notes
        )
        sections.append(Section(md("*Progress notes ({})*\n{}", len(notes), body)))
    if history:
        body = Mrkdwn("\n").join(md("• {}", history_line(e, tz)) for e in history)
        sections.append(Section(md("*History*\n{}", body)))
    return sections
