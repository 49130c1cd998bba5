"""What the action verbs share: reading action numbers, statuses, RAG, organisations, dates and decisions
from a command, finding the action, and checking who may change it."""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any

from commands.action_view import action_line, change_lines
from commands.context import Call
from commands.dates import DATE_EXAMPLES, DateError, format_date, parse_date
from commands.grammar import Kind, Token, mention_ids
from commands.names import DistrictChoice, DistrictRef, parse_districts
from commands.replies import Reply, Section, UserError, Visibility
from commands.text import esc, esc_keep_mentions, mentions, slugify, truncate
from storage import actions as store
from storage import decisions as decision_store
from storage import groups
from storage import members as member_store
from storage.actions import ActionRow
from storage.models import ActionStatus, Decision, Rag

MAX_TITLE = 500
MAX_NOTE = 3000
MAX_ORG = 200
CLEAR_WORDS = frozenset({"none", "clear", "-", "no", "nothing", "remove"})

_STATUS_WORDS: dict[str, ActionStatus] = {
    "open": ActionStatus.OPEN,
    "todo": ActionStatus.OPEN,
    "not-started": ActionStatus.OPEN,
    "in-progress": ActionStatus.IN_PROGRESS,
    "inprogress": ActionStatus.IN_PROGRESS,
    "progress": ActionStatus.IN_PROGRESS,
    "wip": ActionStatus.IN_PROGRESS,
    "started": ActionStatus.IN_PROGRESS,
    "ongoing": ActionStatus.IN_PROGRESS,
    "doing": ActionStatus.IN_PROGRESS,
    "blocked": ActionStatus.BLOCKED,
    "stuck": ActionStatus.BLOCKED,
    "on-hold": ActionStatus.BLOCKED,
    "done": ActionStatus.DONE,
    "complete": ActionStatus.DONE,
    "completed": ActionStatus.DONE,
    "finished": ActionStatus.DONE,
    "closed": ActionStatus.DONE,
    "dropped": ActionStatus.DROPPED,
    "drop": ActionStatus.DROPPED,
    "cancelled": ActionStatus.DROPPED,
    "canceled": ActionStatus.DROPPED,
}
_RAG_WORDS: dict[str, Rag] = {
    "red": Rag.RED,
    "r": Rag.RED,
    "amber": Rag.AMBER,
    "a": Rag.AMBER,
    "yellow": Rag.AMBER,
    "orange": Rag.AMBER,
    "green": Rag.GREEN,
    "g": Rag.GREEN,
}
STATUS_HELP = "Statuses: `open`, `in-progress` (or `wip`), `blocked`, `done`, `dropped`."
RAG_HELP = "RAG: `red`, `amber`, `green` (or `r`, `a`, `g`); `rag:none` clears it."
_NUMBER = re.compile(r"^#?(\d{1,9})$")


def _did_you_mean(word: str, choices: list[str]) -> str:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" Did you mean `{found[0]}`?" if found else ""


def status_words(value: str) -> ActionStatus | None:
    """The status a word names, or None."""
    return _STATUS_WORDS.get(re.sub(r"[\s_]+", "-", value.strip().lower()))


def parse_status(value: str) -> ActionStatus:
    status = status_words(value)
    if status is None:
        hint = _did_you_mean(re.sub(r"[\s_]+", "-", value.strip().lower()), [s.value for s in ActionStatus])
        raise UserError(f"“{esc(value)}” is not a status.{hint}", STATUS_HELP)
    return status


def parse_rag(value: str) -> Rag | None:
    word = value.strip().lower()
    if word in CLEAR_WORDS:
        return None
    if word in _RAG_WORDS:
        return _RAG_WORDS[word]
    raise UserError(
        f"“{esc(value)}” is not a RAG rating.{_did_you_mean(word, ['red', 'amber', 'green'])}", RAG_HELP
    )


def parse_due(value: str, today: date) -> date:
    try:
        return parse_date(value, today)
    except DateError as error:
        raise UserError(
            esc(str(error)), f"Dates are UK style: {DATE_EXAMPLES}. `due:none` removes a due date."
        ) from error


def past_due_warning(due: date | None, today: date, number: int) -> str | None:
    if due is not None and due < today:
        return (
            f":information_source: The due date {format_date(due)} is in the past. I saved it as given (groups record "
            f"history too); change it with `/ecm update {number} due:DATE` if that was a slip."
        )
    return None


def take_number(call: Call, example: str) -> tuple[int, list[Token]]:
    """The action number (`12` or `#12`) from the first free word; returns it and the tokens after it."""
    tokens = list(call.args.tokens)
    index = next((i for i, t in enumerate(tokens) if t.kind in (Kind.WORD, Kind.QUOTED)), None)
    if index is None:
        raise UserError(f"Which action? Give its number, e.g. `{example}`.")
    match = _NUMBER.match(tokens[index].text.strip())
    if not match:
        raise UserError(
            f"“{esc(truncate(tokens[index].text, 40))}” is not an action number. "
            f"Give the number shown as #N, e.g. `{example}`."
        )
    return int(match.group(1)), tokens[:index] + tokens[index + 1 :]


def free_text(tokens: list[Token]) -> str:
    return " ".join(t.text for t in tokens if t.kind in (Kind.WORD, Kind.QUOTED)).strip()


def load_action(call: Call, number: int) -> ActionRow:
    row = store.get_action(call.session, call.group_id, number)
    if row is None:
        raise UserError(
            f"There is no action #{number} in this task group.", "`/ecm actions all` lists every action here."
        )
    return row


def can_change(call: Call, row: ActionRow) -> bool:
    return call.is_chair or call.user_id in row.owners


def require_owner_or_chair(call: Call, row: ActionRow, doing: str) -> None:
    if not can_change(call, row):
        raise UserError(
            f"Only the owners of #{row.action.number} ({mentions(row.owners)}) or a chair can {doing}.",
            "Ask one of them, or a chair (see `/ecm members`). Anyone can see it with "
            f"`/ecm show {row.action.number}`.",
        )


def district_refs(call: Call) -> list[DistrictRef]:
    return [
        DistrictRef(d.id, d.name, d.slug)  # type: ignore[arg-type]
        for d in groups.list_districts(call.session, call.group_id)
    ]


def parse_district_choice(call: Call, value: str) -> DistrictChoice:
    refs = district_refs(call)
    if not refs:
        raise UserError(
            "This task group has no districts yet.",
            'A chair can add them: `/ecm setup districts:"A, B"` or `/ecm setup preset:lancashire`.',
        )
    return parse_districts(value, refs)


def resolve_org(call: Call, value: str) -> str:
    """`org:chorley` -> the district's name; an organisation already used in the group keeps its spelling;
    anything else is kept as typed."""
    value = " ".join(value.split())
    if not value:
        raise UserError(
            "`org:` needs a name.", 'For example `org:chorley` or `org:"Lancashire County Council"`.'
        )
    if len(value) > MAX_ORG:
        raise UserError(
            f"The organisation name is too long ({len(value)} characters; the most is {MAX_ORG})."
        )
    wanted = slugify(value)
    for d in district_refs(call):
        if wanted in (d.slug, slugify(d.name)):
            return d.name
    for m in member_store.list_members(call.session, call.group_id):
        if m.organisation and slugify(m.organisation) == wanted:
            return m.organisation
    return value


def member_org(call: Call, user_id: str) -> str:
    member = member_store.get_member(call.session, call.group_id, user_id)
    return member.organisation if member else ""


def key_values(tokens: list[Token]) -> dict[str, str]:
    """Key -> value; a key given twice has its values joined with commas (as `Args.keys`)."""
    merged: dict[str, str] = {}
    for t in tokens:
        if t.kind == Kind.KEY:
            merged[t.key] = f"{merged[t.key]},{t.text}" if t.key in merged else t.text
    return merged


def owners_from(call: Call, tokens: list[Token], *, bare: bool = True) -> list[str]:
    """`owner:` / `owners:` values, plus bare mentions when `bare` (as `add` takes them), in the order given,
    without repeats."""
    found = [t.text for t in tokens if t.kind == Kind.MENTION] if bare else []
    keys = key_values(tokens)
    for key in ("owner", "owners"):
        if key in keys:
            found += mention_ids(keys[key])
    return list(dict.fromkeys(found))


def parse_decision(call: Call, value: str) -> Decision | None:
    """`D3`, `d3`, `3` or `#3` -> that decision of this group; `none` -> None (unlink)."""
    word = value.strip()
    if word.lower() in CLEAR_WORDS:
        return None
    match = re.fullmatch(r"[#dD]?(\d{1,9})", word)
    if not match:
        raise UserError(
            f"“{esc(truncate(word, 40))}” is not a decision number.",
            "Decisions are numbered D1, D2, …: `decision:D3`.",
        )
    decision = decision_store.get_decision(call.session, call.group_id, int(match.group(1)))
    if decision is None:
        raise UserError(
            f"There is no decision D{match.group(1)} in this task group.",
            "Decisions are recorded in meetings; `decision:D3` links an action to D3.",
        )
    return decision


def check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise UserError(
            "An action needs a title: say what will be done.",
            "For example `/ecm add Review school nurse referral pathway due:end of month`.",
        )
    if len(title) > MAX_TITLE:
        raise UserError(
            f"That title is too long ({len(title)} characters; the most is {MAX_TITLE}).",
            'Keep the title short and add detail as a note: `/ecm update N "note"`.',
        )
    return title


def check_note(note: str) -> str:
    if len(note) > MAX_NOTE:
        raise UserError(f"That note is too long ({len(note)} characters; the most is {MAX_NOTE}).")
    return note


def change_reply(
    call: Call, row: ActionRow, diff: dict[str, list[Any]], note: str | None, verb_name: str, lead: str
) -> Reply:
    """The channel post for a change: who, which action, each field from → to, the note, the action now."""
    number = row.action.number
    lines = [lead]
    lines += [f"• {line}" for line in change_lines(diff)]
    if note:
        lines.append(f"> {esc_keep_mentions(note)}".replace("\n", "\n> "))
    lines.append(action_line(row, call.today))
    summary = "; ".join(change_lines(diff)) or "note added"
    return Reply(
        text=f"#{number} {verb_name}: {summary}",
        visibility=Visibility.CHANNEL,
        sections=[Section("\n".join(lines))],
        footer=f"`/ecm show {number}` for the full history",
    )
