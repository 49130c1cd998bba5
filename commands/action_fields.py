"""An action's fields as typed input: `ActionChange` (what to change; only the fields that were set count,
like a pydantic update model dumped with `exclude_unset`), and the one reader of `key:value` fields from a
command (`due:`, `owner:`, `org:`, `outcome:`, `district:`, `decision:`, `rag:`, `status:`, `title:`) that
`/ecm add` and `/ecm update` share.

To add an action field: add it to `ActionChange`, read it in `read_fields` (and list its key in
`CHANGE_KEYS`, plus `CREATE_KEYS` if `/ecm add` takes it); storage applies it by the same name.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from commands.dates import DATE_EXAMPLES, DateError, parse_date
from commands.grammar import Kind, Token, mention_ids
from commands.mrkdwn import Mrkdwn, code, md
from commands.names import DistrictChoice, DistrictRef, parse_districts, parse_outcomes
from commands.replies import UserError
from commands.text import slugify, truncate
from storage import decisions, groups, members
from storage.models import ActionStatus, Decision, Outcome, Rag

MAX_ORG = 200
CLEAR_WORDS = frozenset({"none", "clear", "-", "no", "nothing", "remove"})

# Other spellings of the field keys; declared on `@verb(key_aliases=...)` and normalised by the grammar.
KEY_ALIASES = {"owners": "owner", "organisation": "org", "outcomes": "outcome", "districts": "district"}
CREATE_KEYS = ("owner", "org", "due", "outcome", "district", "decision")
CHANGE_KEYS = (*CREATE_KEYS, "status", "rag", "title")

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


class ActionChange(BaseModel):
    """The fields to change on an action. Only the fields given count (`set_fields()`), so
    `ActionChange(due_date=None)` clears the due date while `ActionChange()` changes nothing.

    `organisation=""` clears it; `district_ids=[]` with `countywide=False` clears the districts; owners
    are Slack user ids (an action always keeps at least one). Field names are the ones
    `storage.actions.update_action` applies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str | None = None
    owners: list[str] | None = None
    organisation: str | None = None
    due_date: date | None = None
    status: ActionStatus | None = None
    rag: Rag | None = None
    outcomes: list[Outcome] | None = None
    district_ids: list[int] | None = None
    countywide: bool | None = None
    decision_id: int | None = None

    def set_fields(self) -> dict[str, Any]:
        """The fields that were given, as {name: value} (pydantic's `exclude_unset`)."""
        return {name: getattr(self, name) for name in self.model_fields_set}

    def has(self, name: str) -> bool:
        return name in self.model_fields_set


class NewAction(BaseModel):
    """A new action. `owners` empty means whoever adds it; `organisation` None means the first owner's
    registered organisation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    owners: list[str] = []
    organisation: str | None = None
    due_date: date | None = None
    outcomes: list[Outcome] = []
    district_ids: list[int] = []
    countywide: bool = False
    decision_id: int | None = None
    source_link: str | None = None  # the Slack message it was made from (a permalink)

    @classmethod
    def of(cls, title: str, owners: list[str], fields: ActionChange) -> NewAction:
        """A new action from a title, its owners and the fields `read_fields` found (status, RAG and
        "none" values are not for a new action and are left out)."""
        given = {
            k: v
            for k, v in fields.set_fields().items()
            if k in cls.model_fields and k not in ("title", "owners") and v is not None
        }
        return cls(title=title, owners=owners or list(fields.owners or []), **given)


class GroupScope(Protocol):
    """Anything with an open session in a task group: a `Call` or an `Actor`."""

    @property
    def session(self) -> Session: ...

    @property
    def group_id(self) -> int: ...


def _did_you_mean(word: str, choices: list[str]) -> Mrkdwn:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return md(" Did you mean {}?", code(found[0])) if found else Mrkdwn()


def _clears(value: str) -> bool:
    return value.strip().lower() in CLEAR_WORDS


def status_words(value: str) -> ActionStatus | None:
    """The status a word names, or None."""
    return _STATUS_WORDS.get(re.sub(r"[\s_]+", "-", value.strip().lower()))


def parse_status(value: str) -> ActionStatus:
    status = status_words(value)
    if status is None:
        hint = _did_you_mean(re.sub(r"[\s_]+", "-", value.strip().lower()), [s.value for s in ActionStatus])
        raise UserError(md("“{}” is not a status.{}", value, hint), STATUS_HELP)
    return status


def parse_rag(value: str) -> Rag | None:
    word = value.strip().lower()
    if word in CLEAR_WORDS:
        return None
    if word in _RAG_WORDS:
        return _RAG_WORDS[word]
    raise UserError(
        md("“{}” is not a RAG rating.{}", value, _did_you_mean(word, ["red", "amber", "green"])),
        RAG_HELP,
    )


def parse_due(value: str, today: date) -> date:
    try:
        return parse_date(value, today)
    except DateError as error:
        raise UserError(
            str(error), f"Dates are UK style: {DATE_EXAMPLES}. `due:none` removes a due date."
        ) from error


def district_refs(scope: GroupScope) -> list[DistrictRef]:
    return [
        DistrictRef(d.id, d.name, d.slug)  # type: ignore[arg-type]
        for d in groups.list_districts(scope.session, scope.group_id)
    ]


def parse_district_choice(scope: GroupScope, value: str) -> DistrictChoice:
    refs = district_refs(scope)
    if not refs:
        raise UserError(
            "This task group has no districts yet.",
            'A chair can add them: `/ecm setup districts:"A, B"` or `/ecm setup preset:lancashire`.',
        )
    return parse_districts(value, refs)


def resolve_org(scope: GroupScope, value: str) -> str:
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
    for d in district_refs(scope):
        if wanted in (d.slug, slugify(d.name)):
            return d.name
    for m in members.list_members(scope.session, scope.group_id):
        if m.organisation and slugify(m.organisation) == wanted:
            return m.organisation
    return value


def parse_decision(scope: GroupScope, value: str) -> Decision | None:
    """`D3`, `d3`, `3` or `#3` -> that decision of this group; `none` -> None (unlink)."""
    word = value.strip()
    if word.lower() in CLEAR_WORDS:
        return None
    match = re.fullmatch(r"[#dD]?([0-9]{1,9})", word)
    if not match:
        raise UserError(
            md("“{}” is not a decision number.", truncate(word, 40)),
            "Decisions are numbered D1, D2, …: `decision:D3`.",
        )
    decision = decisions.get_decision(scope.session, scope.group_id, int(match.group(1)))
    if decision is None:
        raise UserError(
            f"There is no decision D{match.group(1)} in this task group.",
            "Decisions are recorded in meetings; `decision:D3` links an action to D3.",
        )
    return decision


def key_values(tokens: list[Token]) -> dict[str, str]:
    """Key -> value; a key given twice has its values joined with commas (as `Args.keys`)."""
    merged: dict[str, str] = {}
    for t in tokens:
        if t.kind == Kind.KEY:
            merged[t.key] = f"{merged[t.key]},{t.text}" if t.key in merged else t.text
    return merged


def merge_in_progress(tokens: list[Token]) -> list[Token]:
    """`status:in progress` arrives as key `status:in` and the word `progress`: put them back together."""
    out: list[Token] = []
    for t in tokens:
        previous = out[-1] if out else None
        if (
            t.kind == Kind.WORD
            and t.text.lower() == "progress"
            and previous is not None
            and previous.kind == Kind.KEY
            and previous.key == "status"
            and previous.text.lower() == "in"
        ):
            out[-1] = Token(Kind.KEY, "in-progress", key="status")
            continue
        out.append(t)
    return out


def read_fields(scope: GroupScope, tokens: list[Token], today: date) -> ActionChange:
    """The fields a command gives, validated against the group (nothing applied). Keys are the canonical
    ones (the grammar has already turned `outcomes:` into `outcome:` and so on); "none" clears a value.
    Only `owner:` names owners here: bare mentions are `/ecm add`'s rule, not a field."""
    keys = key_values(tokens)
    fields: dict[str, Any] = {}
    if "title" in keys:
        fields["title"] = keys["title"]
    if "due" in keys:
        fields["due_date"] = None if _clears(keys["due"]) else parse_due(keys["due"], today)
    if "owner" in keys:
        owners = list(dict.fromkeys(mention_ids(keys["owner"])))
        if owners:
            fields["owners"] = owners
    if "org" in keys:
        fields["organisation"] = "" if _clears(keys["org"]) else resolve_org(scope, keys["org"])
    if "status" in keys:
        fields["status"] = parse_status(keys["status"])
    if "rag" in keys:
        fields["rag"] = parse_rag(keys["rag"])
    if "outcome" in keys:
        fields["outcomes"] = [] if _clears(keys["outcome"]) else parse_outcomes(keys["outcome"])
    if "district" in keys:
        if _clears(keys["district"]):
            fields["district_ids"], fields["countywide"] = [], False
        else:
            choice = parse_district_choice(scope, keys["district"])
            fields["countywide"] = choice.countywide
            fields["district_ids"] = [] if choice.countywide else [d.id for d in choice.districts]
    if "decision" in keys:
        decision = parse_decision(scope, keys["decision"])
        fields["decision_id"] = decision.id if decision else None
    return ActionChange(**fields)
