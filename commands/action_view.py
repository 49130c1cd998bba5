"""How actions look in Slack (mrkdwn): the one-line form for lists, the detail view, and history lines.

User text (titles, organisations, notes, district names) is escaped here; people are `<@U…>` mentions.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from commands.dates import format_date, format_datetime
from commands.names import OUTCOME_NAMES, OUTCOME_SHORT
from commands.replies import Section
from commands.text import esc, esc_keep_mentions, mentions, plural, truncate
from commands.workdays import working_days_between
from storage.actions import COUNTYWIDE, ActionRow
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
}


MAX_LINK = 500


def is_permalink(url: str | None) -> bool:
    """A plain https address as chat.getPermalink gives it: nothing that could break out of a mrkdwn link."""
    if not url or len(url) > MAX_LINK or not url.startswith("https://"):
        return False
    return not any(c in url for c in "<>| \n")


def source_link(action: Any, label: str = "the message it came from") -> str:
    """`<permalink|the message it came from>` for an action made from a message, else ""."""
    url = getattr(action, "source_link", None)
    return f"<{url}|{label}>" if is_permalink(url) else ""


def due_text(row: ActionRow, today: date, *, prefix: str = "due ") -> str:
    """`due Fri 28 Aug 2026`, with `:red_circle: overdue` or `due soon` marks while the action is live."""
    due = row.action.due_date
    if due is None:
        return "no due date"
    text = f"{prefix}{format_date(due)}"
    if row.action.status in LIVE_STATUSES:
        if due < today:
            # Counted in working days everywhere (lists, DMs, digests, escalation), as the chasers count.
            days = working_days_between(due, today)
            text += " :red_circle: overdue" + (f" ({plural(days, 'working day')})" if days else "")
        elif due == today:
            text += " :large_orange_circle: due today"
        elif due <= today + timedelta(days=DUE_SOON_DAYS):
            text += " :large_yellow_circle: due soon"
    return text


def outcomes_text(outcomes: list[Outcome], *, full: bool = False) -> str:
    if not outcomes:
        return "no outcome"
    names = OUTCOME_NAMES if full else OUTCOME_SHORT
    return ", ".join(names[o] for o in outcomes)


def districts_text(row: ActionRow) -> str:
    if row.action.countywide:
        return "countywide"
    if not row.districts:
        return "no district"
    return ", ".join(esc(d.name) for d in row.districts)


def action_line(row: ActionRow, today: date) -> str:
    """One line for lists: status, `#N`, title, owners, organisation, due, outcomes, districts."""
    a = row.action
    parts = [
        mentions(row.owners),
        esc(a.organisation) if a.organisation else "no organisation",
        due_text(row, today),
        f"_{outcomes_text(row.outcomes)}_",
    ]
    # Said once: a district council's action for its own district alone needs the name only once.
    only_its_own = not a.countywide and len(row.districts) == 1 and row.districts[0].name == a.organisation
    if not only_its_own:
        parts.append(districts_text(row))
    status = STATUS_LABEL[a.status]
    if a.status != ActionStatus.OPEN:
        parts.append(status)
    if a.rag:
        parts.append(f"{RAG_EMOJI[a.rag]} {a.rag.value}")
    title = esc(truncate(a.title, LIST_TITLE_LIMIT))
    return f"{STATUS_EMOJI[a.status]} *#{a.number}* {title} · " + " · ".join(parts)


def _plain_value(field: str, value: Any) -> str:
    """A value from the audit trail, readable and escaped."""
    if value is None or value == "" or value == []:
        return "—"
    if field in ("due_date", "snoozed_until"):
        try:
            return format_date(date.fromisoformat(str(value)))
        except ValueError:
            return esc(str(value))
    if field == "owners":
        return mentions([str(v) for v in value]) if isinstance(value, list) else f"<@{esc(str(value))}>"
    if field == "outcomes":
        labels = []
        for v in value if isinstance(value, list) else [value]:
            try:
                labels.append(OUTCOME_SHORT[Outcome(v)])
            except ValueError:
                labels.append(esc(str(v)))
        return ", ".join(labels)
    if field == "districts":
        if value == COUNTYWIDE:
            return "countywide"
        return ", ".join(esc(str(v)) for v in value) if isinstance(value, list) else esc(str(value))
    if field == "status":
        try:
            return STATUS_LABEL[ActionStatus(value)]
        except ValueError:
            return esc(str(value))
    if field == "title":
        return f"“{esc(truncate(str(value), 200))}”"
    if isinstance(value, list):
        return ", ".join(esc(str(v)) for v in value)
    return esc(str(value))


def change_text(field: str, old: Any, new: Any) -> str:
    """`due: Fri 28 Aug 2026 → Fri 4 Sep 2026`."""
    label = FIELD_LABELS.get(field, field.replace("_", " "))
    return f"{label}: {_plain_value(field, old)} → {_plain_value(field, new)}"


def change_lines(changes: dict[str, list[Any]]) -> list[str]:
    """A diff from storage.actions.update_action as readable `field: old → new` lines."""
    return [change_text(k, *v) for k, v in changes.items() if isinstance(v, list) and len(v) == 2]


def history_line(event: AuditEvent, tz: str) -> str:
    """`Mon 23 Nov 2026, 09:30 · <@U…> updated it: due … → …; “note”`."""
    when = format_datetime(event.at, tz)
    what = VERB_LABELS.get(event.verb, esc(event.verb))
    line = f"{when} · <@{event.user_id}> {what}"
    if event.verb != "created":
        details = change_lines(event.changes or {})
        if details:
            line += ": " + "; ".join(details)
    if event.note:
        line += f" — “{esc(truncate(event.note, 300))}”"
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
        f"*#{a.number}* {esc(a.title)}",
        f"*Owners:* {mentions(row.owners)}",
        f"*Organisation:* {esc(a.organisation) if a.organisation else 'not set'}",
        f"*Due:* {due_text(row, today, prefix='')}",
        f"*Status:* {STATUS_EMOJI[a.status]} {STATUS_LABEL[a.status]}"
        + (f" · *RAG:* {RAG_EMOJI[a.rag]} {a.rag.value}" if a.rag else ""),
        f"*Outcomes:* {outcomes_text(row.outcomes, full=True)}",
        f"*Districts:* {districts_text(row)}",
    ]
    if a.snoozed_until and a.snoozed_until >= today:
        lines.append(f"*Reminders snoozed until:* {format_date(a.snoozed_until)}")
    if source_link(a):
        lines.append(f"*Made from:* {source_link(a)}")
    if decision is not None:
        lines.append(f"*Decision:* D{decision.number} {esc(truncate(decision.text, 300))}")
    if meeting is not None:
        when = meeting.started_at or meeting.scheduled_for or meeting.created_at
        lines.append(
            f"*Agreed at:* {esc(meeting.title)}, {format_date(when.date()) if when else ''}".rstrip(", ")
        )
    lines.append(f"*Added by* <@{a.created_by}> on {format_datetime(a.created_at, tz)}")
    if a.completed_at and a.status == ActionStatus.DONE:
        lines.append(f"*Completed:* {format_datetime(a.completed_at, tz)}")
    sections = [Section("\n".join(lines))]
    if notes:
        body = "\n".join(
            f"• {format_datetime(n.created_at, tz)} <@{n.author}>: {esc_keep_mentions(n.text)}" for n in notes
        )
        sections.append(Section(f"*Progress notes ({len(notes)})*\n{body}"))
    if history:
        body = "\n".join(f"• {history_line(e, tz)}" for e in history)
        sections.append(Section(f"*History*\n{body}"))
    return sections
