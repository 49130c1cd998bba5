"""Forms without Slack: what the New action and Update action forms offer (choices), and reading what was
submitted into the core's typed input, each error attached to the field it is about.

Nothing here checks anything itself: titles, organisations, districts, decisions, dates and notes go through
the same readers `/ecm add` and `/ecm update` use, and the change through `commands.action_ops`, so a form
answers with the command's words. A field error is the core's message for that field; a refusal (not an
owner or chair) is a `FormRefused` for the whole form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlmodel import Session, col, select

from commands import action_ops as ops
from commands.action_fields import (
    ActionChange,
    NewAction,
    parse_decision,
    parse_district_choice,
    parse_due,
    parse_rag,
    parse_status,
    resolve_org,
)
from commands.action_view import STATUS_LABEL, action_line, is_permalink
from commands.context import Actor
from commands.dates import read_date_prefix
from commands.names import OUTCOME_NAMES, parse_outcomes
from commands.registry import lookup
from commands.replies import UserError
from commands.text import slugify, truncate
from storage import actions as store
from storage import decisions as decision_store
from storage import groups as group_store
from storage import members as member_store
from storage.actions import ActionRow
from storage.models import Action, ActionStatus, Rag, TaskGroup

# Field names; the Slack side uses them as block ids, so an error lands on its field.
GROUP = "group"
TITLE = "title"
OWNERS = "owners"
ORG = "org"
DUE = "due"
OUTCOMES = "outcomes"
DISTRICTS = "districts"
DECISION = "decision"
NOTE = "note"
STATUS = "status"
RAG = "rag"

COUNTYWIDE_VALUE = "all"
NO_RAG = "none"
OPTION_TEXT = 75  # Slack's limit for an option's text

T = TypeVar("T")


class FormErrors(Exception):
    """Field -> what is wrong with it (the core's words); nothing was changed."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class FormRefused(Exception):
    """The person may not do this at all (e.g. not an owner or chair); `message` says so (mrkdwn)."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


# ----- what the forms offer ------------------------------------------------------------------------------


def group_choices(session: Session, team_id: str, user_id: str) -> list[Choice]:
    """The person's task groups in this workspace, by name."""
    return [
        Choice(str(g.id), truncate(g.name, OPTION_TEXT))
        for g, _member in member_store.memberships(session, team_id, user_id)
    ]


def organisation_choices(session: Session, group_id: int) -> list[Choice]:
    """The group's districts, then every organisation its members and actions use, each once."""
    seen: dict[str, str] = {}
    names = [d.name for d in group_store.list_districts(session, group_id)]
    names += [m.organisation for m in member_store.list_members(session, group_id) if m.organisation]
    names += list(
        session.exec(
            select(Action.organisation)
            .where(Action.group_id == group_id, Action.organisation != "")
            .distinct()
            .order_by(col(Action.organisation))
            .limit(1000)
        )
    )
    for name in names:
        seen.setdefault(" ".join(name.lower().split()), name)
    # Values are the names as stored; Slack limits a value to 150 characters, names are at most 200.
    return [Choice(name[:150], truncate(name, OPTION_TEXT)) for name in seen.values()]


def district_choices(session: Session, group_id: int) -> list[Choice]:
    districts = group_store.list_districts(session, group_id)
    return [Choice(COUNTYWIDE_VALUE, "Countywide (every district)")] + [
        Choice(d.slug, truncate(d.name, OPTION_TEXT)) for d in districts
    ]


def outcome_choices() -> list[Choice]:
    return [Choice(o.value, name) for o, name in OUTCOME_NAMES.items()]


def decision_choices(session: Session, group_id: int) -> list[Choice]:
    """The group's decisions, newest first."""
    page = decision_store.list_decisions(session, group_id, limit=500)
    return [
        Choice(str(d.number), truncate(f"D{d.number} {d.text}", OPTION_TEXT))
        for d in reversed(page.decisions)
    ]


STATUS_CHOICES = [Choice(s.value, STATUS_LABEL[s]) for s in ActionStatus]
RAG_CHOICES = [Choice(NO_RAG, "no RAG rating")] + [Choice(r.value, r.value) for r in Rag]


def matching(choices: list[Choice], typed: str, limit: int = 100) -> list[Choice]:
    """What an external select offers while someone types: choices containing the typed words."""
    words = typed.lower().split()
    found = [c for c in choices if all(w in c.label.lower() for w in words)]
    return found[:limit]


# ----- what was submitted --------------------------------------------------------------------------------


@dataclass
class ActionForm:
    """A submitted action form as plain values (None = the field was not on the form or left empty)."""

    title: str | None = None
    owners: list[str] = field(default_factory=list)
    organisation: str | None = None
    due: str | None = None  # ISO date, from a date picker
    outcomes: list[str] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    decision: str | None = None  # a decision number
    note: str | None = None
    status: str | None = None
    rag: str | None = None
    source_link: str | None = None  # permalink of the message the action was made from


class _Collect:
    """Runs each field's reader, keeping its UserError as that field's error."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def field(self, name: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except UserError as error:
            self.errors.setdefault(name, error.message)
            return None

    def check(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


def picked_date(value: str | None) -> date | None:
    """A date picker's value (YYYY-MM-DD) as a date, or None for none or anything else."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _due(value: str, today: date) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return parse_due(value, today)  # the command's words for a date it can't read


def _districts(actor: Actor, values: list[str]) -> tuple[list[int], bool]:
    choice = parse_district_choice(actor, ",".join(values))
    return ([] if choice.countywide else [d.id for d in choice.districts]), choice.countywide


def clean_link(link: str | None) -> str | None:
    """A permalink as Slack gave it, or None (only plain https addresses are kept)."""
    return link if is_permalink(link) else None


def create_from_form(actor: Actor, form: ActionForm) -> ops.ActionResult:
    """The New action form: stored and posted exactly as `/ecm add` does (`ops.create`), plus the first
    note. Raises FormErrors (nothing stored) when a field is wrong."""
    c = _Collect()
    title = c.field(TITLE, lambda: ops.check_title(ops.typed_text(form.title or "")))
    org = form.organisation
    organisation = c.field(ORG, lambda: resolve_org(actor, org)) if org else None
    due = c.field(DUE, lambda: _due(form.due or "", actor.today)) if form.due else None
    outcomes = c.field(OUTCOMES, lambda: parse_outcomes(",".join(form.outcomes))) if form.outcomes else []
    districts = (
        c.field(DISTRICTS, lambda: _districts(actor, form.districts)) if form.districts else ([], False)
    )
    decision = (
        c.field(DECISION, lambda: parse_decision(actor, f"D{form.decision}")) if form.decision else None
    )
    note = c.field(NOTE, lambda: ops.check_note(ops.typed_text(form.note or "")))
    c.check()
    assert title is not None  # check() raised otherwise
    new = NewAction(
        title=title,
        owners=list(dict.fromkeys(form.owners)),
        organisation=organisation,
        due_date=due,
        outcomes=outcomes or [],
        district_ids=districts[0] if districts else [],
        countywide=districts[1] if districts else False,
        decision_id=decision.id if decision else None,
        source_link=clean_link(form.source_link),
    )
    try:
        result = ops.create(actor, new)
    except UserError as error:
        raise FormErrors({TITLE: error.message}) from error
    if note:
        # The first note belongs to the new action; it is shown in `/ecm show`, not posted separately.
        store.add_note(actor.session, result.row, note, by=actor.user_id, at=actor.now)
    return result


def check_may_change(actor: Actor, number: int) -> ActionRow:
    """The action, if the person may change it; FormRefused (the core's words) otherwise."""
    try:
        return ops.load_for_change(actor, number, "update it")
    except UserError as error:
        raise FormRefused(error.message, error.usage) from error


def change_from_form(actor: Actor, number: int, form: ActionForm) -> ops.ActionResult:
    """The Update action form: each field as given (unchanged ones change nothing), through `ops.change`,
    so the channel is told what changed from → to, as with `/ecm update`."""
    row = check_may_change(actor, number)
    c = _Collect()
    fields: dict[str, object] = {}
    if form.status:
        fields["status"] = c.field(STATUS, lambda: parse_status(form.status or ""))
    if form.rag:
        fields["rag"] = c.field(RAG, lambda: parse_rag(form.rag or ""))
    fields["due_date"] = c.field(DUE, lambda: _due(form.due or "", actor.today)) if form.due else None
    if form.owners:
        fields["owners"] = list(dict.fromkeys(form.owners))
    if form.organisation is not None:
        org = form.organisation
        fields["organisation"] = c.field(ORG, lambda: resolve_org(actor, org)) if org else ""
    note = c.field(NOTE, lambda: ops.check_note(ops.typed_text(form.note or "")))
    c.check()
    # Only what differs from the action now, so an untouched field is not "changed" to itself.
    current = {
        "status": row.action.status,
        "rag": row.action.rag,
        "due_date": row.action.due_date,
        "owners": sorted(row.owners),
        "organisation": row.action.organisation,
    }
    wanted = {k: v for k, v in fields.items() if (sorted(v) if isinstance(v, list) else v) != current.get(k)}
    if not wanted and not note:
        raise FormErrors({NOTE: f"Nothing to change on #{number}: change a field or write a progress note."})
    try:
        return ops.change(actor, number, ActionChange(**wanted), note)  # type: ignore[arg-type]
    except UserError as error:
        raise FormErrors({NOTE: error.message}) from error


# ----- what a form shows when it opens ---------------------------------------------------------------------


@dataclass
class NewActionOffer:
    """The New action form for one person: their groups, the chosen group's choices, and anything
    filled in already (a message's text and author, from the message shortcut)."""

    groups: list[Choice]
    group_id: int | None  # the chosen group (None: the person is in no group)
    fixed: bool  # opened in a group's channel: the group is not a choice
    title: str = ""
    owners: list[str] = field(default_factory=list)
    organisations: list[Choice] = field(default_factory=list)
    districts: list[Choice] = field(default_factory=list)
    decisions: list[Choice] = field(default_factory=list)
    notice: str | None = None  # mrkdwn shown above the fields
    # Read from a message (`message_hints`): filled in for the person to check, never saved unseen.
    due: date | None = None
    chosen_districts: list[str] = field(default_factory=list)  # district choice values
    outcomes: list[str] = field(default_factory=list)  # outcome values chosen already (kept across groups)

    @property
    def group_name(self) -> str:
        return next((c.label for c in self.groups if c.value == str(self.group_id)), "")


def offer_new_action(
    session: Session,
    team_id: str,
    user_id: str,
    *,
    group: TaskGroup | None = None,
    group_id: int | None = None,
    title: str = "",
    owners: list[str] | None = None,
    notice: str | None = None,
    due: date | None = None,
    outcomes: list[str] | None = None,
    message: tuple[str, date] | None = None,
) -> NewActionOffer:
    """`group` fixes the group (the form was opened in its channel); otherwise `group_id`, or the first of
    the person's groups, is chosen and can be changed. `due`, `outcomes`: chosen already (kept when the
    group changes: the same in every group). `message`: the text an action is made from, and today, for
    the due date and districts it names (`message_hints`)."""
    choices = group_choices(session, team_id, user_id)
    if group is not None and group.id is not None:
        if not any(c.value == str(group.id) for c in choices):
            choices.insert(0, Choice(str(group.id), truncate(group.name, OPTION_TEXT)))
        chosen: int | None = group.id
    elif group_id is not None and any(c.value == str(group_id) for c in choices):
        chosen = group_id
    else:
        chosen = int(choices[0].value) if choices else None
    offer = NewActionOffer(
        choices, chosen, group is not None, title=title, owners=list(owners or []), notice=notice, due=due
    )
    known_outcomes = {c.value for c in outcome_choices()}
    offer.outcomes = [o for o in outcomes or [] if o in known_outcomes]
    if chosen is not None:
        offer.organisations = organisation_choices(session, chosen)
        offer.districts = district_choices(session, chosen)
        offer.decisions = decision_choices(session, chosen)
        if message is not None:
            offer.due, offer.chosen_districts = message_hints(message[0], message[1], offer.districts)
            read = {
                (True, True): "due date and districts are",
                (True, False): "due date is",
                (False, True): "districts are",
            }.get((offer.due is not None, bool(offer.chosen_districts)))
            if read:
                said = f":pencil2: The {read} as the message says: check before adding."
                offer.notice = f"{offer.notice}\n{said}" if offer.notice else said
    return offer


_DUE_WORDS = frozenset({"by", "due", "before", "until", "till", "deadline"})


def message_hints(text: str, today: date, districts: list[Choice]) -> tuple[date | None, list[str]]:
    """What a message says of an action, for the form made from it: the due date after "by", "due",
    "before"… ("… pilot the holiday club by end of January"), if one reads as a date from today on, and the
    districts it names by their full names (values of `districts`, countywide never)."""
    words = title_from_message(text, limit=3000).split()
    due: date | None = None
    for i, word in enumerate(words):
        if word.lower().strip(",.;:!?()") not in _DUE_WORDS:
            continue
        found = read_date_prefix(words[i + 1 : i + 9], today)
        if found is not None and found[0].day >= today:
            due = found[0].day
            break
    said = f"-{slugify(text)}-"  # whole words only: "Chorleywood" does not name Chorley
    named = [c.value for c in districts if c.value != COUNTYWIDE_VALUE and f"-{slugify(c.label)}-" in said]
    return due, named


@dataclass
class UpdateOffer:
    """The Update action form: the action as it is now, and the group's organisations."""

    group: TaskGroup
    row: ActionRow
    line: str  # the action's one-line form (mrkdwn)
    organisations: list[Choice]


def offer_update(actor: Actor, number: int) -> UpdateOffer:
    """Raises FormRefused when the person may not change the action (the core's words)."""
    row = check_may_change(actor, number)
    organisations = organisation_choices(actor.session, actor.group_id)
    if row.action.organisation and not any(c.value == row.action.organisation for c in organisations):
        organisations.insert(0, Choice(row.action.organisation[:150], truncate(row.action.organisation, 75)))
    return UpdateOffer(actor.group, row, action_line(row, actor.today), organisations)


def mentioned_ids(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"<@([UW][A-Z0-9]+)(?:\|[^>]+)?>", text)))


def title_from_message(text: str, names: dict[str, str] | None = None, limit: int = ops.MAX_TITLE) -> str:
    """A message's text as a title: mentions (as `names` has them), channels, links and mrkdwn marks turned
    into plain words, on one line, cut to the title limit."""
    known = names or {}

    def person(m: re.Match[str]) -> str:
        return "@" + (m.group(2) or known.get(m.group(1)) or m.group(1))

    text = re.sub(r"<@([UW][A-Z0-9]+)(?:\|([^>]+))?>", person, text)
    text = re.sub(r"<#C[A-Z0-9]+\|([^>]+)>", r"#\1", text)
    text = re.sub(r"<#(C[A-Z0-9]+)>", r"#\1", text)
    text = re.sub(r"<!(channel|here|everyone)(?:\|[^>]*)?>", r"@\1", text)
    text = re.sub(r"<!subteam\^[A-Z0-9]+(?:\|([^>]+))?>", lambda m: m.group(1) or "@team", text)
    text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]+)>", r"\1", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = re.sub(r"<mailto:[^|>]+\|([^>]+)>", r"\1", text)
    text = re.sub(r"(?<!\w)[*_~]+|[*_~]+(?!\w)", "", text)  # bold, italics, strike marks
    text = text.replace("```", "").replace("`", "")
    text = re.sub(r"^&gt;\s?", "", text, flags=re.M)  # quote marks
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return truncate(" ".join(text.split()), limit)


def opens_new_action_form(text: str) -> bool:
    """`/ecm add` (or an alias) with nothing after it opens the New action form instead of an error."""
    words = text.split()
    if len(words) != 1:
        return False
    spec = lookup(words[0].lower())
    return spec is not None and spec.name == "add"


def stored_names(session: Session, team_id: str, user_ids: list[str]) -> dict[str, str]:
    """The display names the bot already holds for these people (from any group's membership)."""
    return member_store.display_names(session, team_id, user_ids)
