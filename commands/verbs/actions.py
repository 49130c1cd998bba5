"""`/ecm actions [mine|overdue|soon|open|done|all] [outcome:] [district:] [owner:] [by:] [page:N]`: the plan,
as an ephemeral list sorted by due date, paged so every message stays within Slack's 50 blocks."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from commands.action_fields import KEY_ALIASES, parse_district_choice, status_words
from commands.action_view import DUE_SOON_DAYS, action_line
from commands.context import Call
from commands.grammar import Args, Kind, mention_ids
from commands.names import OUTCOME_NAMES, outcome_examples, parse_outcomes
from commands.numbers import whole_number
from commands.registry import verb
from commands.replies import Button, Reply, Section, UserError
from commands.text import esc, plural
from storage import actions as store
from storage.actions import ActionFilter, ActionRow
from storage.models import LIVE_STATUSES, ActionStatus, Outcome

PAGE_SIZE = 40  # one section per action: 40 + header, paging and footer stays under Slack's 50 blocks
RUN_COMMAND = "ecm_run"  # bot.listeners.buttons re-runs the button's value as a command
_WORDS = [
    "mine",
    "my",
    "overdue",
    "late",
    "soon",
    "open",
    "live",
    "done",
    "dropped",
    "blocked",
    "all",
    "any",
    "in-progress",
    "wip",
    "closed",
    "completed",
    "everything",
]
_BY = {
    "outcome": "outcome",
    "outcomes": "outcome",
    "district": "district",
    "districts": "district",
    "owner": "owner",
    "owners": "owner",
    "org": "organisation",
    "organisation": "organisation",
    "organization": "organisation",
}
_USAGE_BY = "`by:outcome`, `by:district`, `by:owner` or `by:org`"


@dataclass
class _Query:
    filter: ActionFilter
    label: str  # "Open actions", "My overdue actions", ...
    described: list[str]  # the filters, as mrkdwn
    mine: bool = False


def _read_query(call: Call) -> _Query:
    args = call.args
    keys = args.keys
    f = ActionFilter(group_id=call.group_id)
    statuses: list[ActionStatus] = []
    any_status = mine = overdue = soon = False
    for word in args.words:
        w = word.lower()
        if w in ("mine", "my"):
            mine = True
        elif w in ("overdue", "late"):
            overdue = True
        elif w == "soon":
            soon = True
        elif w in ("all", "any", "everything"):
            any_status = True
        elif w in ("open", "live"):
            statuses += LIVE_STATUSES
        elif status_words(w) is not None:
            statuses.append(status_words(w))  # type: ignore[arg-type]
        elif re.fullmatch(r"#?[0-9]+", w):
            raise UserError(f"To see one action, use `/ecm show {w.lstrip('#')}`.")
        else:
            found = difflib.get_close_matches(w, _WORDS, n=1, cutoff=0.6)
            hint = f" Did you mean `{found[0]}`?" if found else ""
            raise UserError(
                f"I don't understand “{esc(word)}” in a list of actions.{hint}",
                "Say `mine`, `overdue`, `soon`, `open`, `done`, `dropped` or `all`, and filter with "
                "`outcome:`, `district:`, `owner:@name`; group with " + _USAGE_BY + ".",
            )
    if args.quoted:
        raise UserError(f"I don't understand “{esc(args.quoted[0])}” in a list of actions.")
    f.statuses = None if any_status else (tuple(dict.fromkeys(statuses)) or LIVE_STATUSES)
    described: list[str] = []
    owners = list(args.mentions)
    if "owner" in keys:
        owners += mention_ids(keys["owner"])
    owners = list(dict.fromkeys(owners))
    if mine:
        owners = list(dict.fromkeys([call.user_id, *owners]))
    if len(owners) > 1:
        raise UserError("List one owner's actions at a time.", "For example `/ecm actions owner:@sam`.")
    if owners:
        f.owner = owners[0]
        if not mine:
            described.append(f"owner <@{owners[0]}>")
    if overdue:
        f.due_before = call.today
    if soon:
        f.due_from = call.today
        f.due_on_or_before = call.today + timedelta(days=DUE_SOON_DAYS)
    outcome_value = keys.get("outcome")
    if outcome_value is not None:
        f.outcomes = parse_outcomes(outcome_value)
        described.append("outcome " + " or ".join(OUTCOME_NAMES[o] for o in f.outcomes))
    district_value = keys.get("district")
    if district_value is not None:
        choice = parse_district_choice(call, district_value)
        f.district_ids = [d.id for d in choice.districts]
        described.append(
            "any district (countywide included)"
            if choice.countywide
            else "district " + " or ".join(esc(d.name) for d in choice.districts) + " (or countywide)"
        )

    if f.statuses is None:
        label = "All actions" + (", overdue" if overdue else "") + (", due soon" if soon else "")
    elif set(f.statuses) == set(LIVE_STATUSES):
        label = "Overdue actions" if overdue else ("Actions due soon" if soon else "Open actions")
    else:
        names = {
            ActionStatus.OPEN: "Open",
            ActionStatus.IN_PROGRESS: "In-progress",
            ActionStatus.BLOCKED: "Blocked",
            ActionStatus.DONE: "Done",
            ActionStatus.DROPPED: "Dropped",
        }
        label = " and ".join(names[s] for s in f.statuses) + " actions"
        if overdue:
            label += ", overdue"
        if soon:
            label += ", due soon"
    if mine:
        label = "My " + label[0].lower() + label[1:]
    return _Query(filter=f, label=label, described=described, mine=mine)


def _page_number(value: str | None) -> int:
    if value is None:
        return 1
    page = whole_number(value, 1, 999_999)
    if page is None:
        raise UserError(f"“{esc(value)}” is not a page number.", "Pages are numbered from 1: `page:2`.")
    return page


def _command_text(args: Args, page: int) -> str:
    """The same command with another page, for the button (bot.listeners.buttons runs it again)."""
    parts = ["actions"]
    for t in args.tokens:
        if t.kind == Kind.KEY:
            if t.key == "page":
                continue
            value = f'"{t.text}"' if (" " in t.text and '"' not in t.text) else t.text
            parts.append(f"{t.key}:{value}")
        elif t.kind == Kind.MENTION:
            parts.append(f"<@{t.text}>")
        elif t.kind == Kind.QUOTED:
            parts.append(f'"{t.text}"')
        else:
            parts.append(t.text)
    parts.append(f"page:{page}")
    return " ".join(parts)


def _groups_of(row: ActionRow, by: str) -> list[tuple[tuple[int, str], str]]:
    """((sort key), label) of every group the action belongs to."""
    if by == "outcome":
        if not row.outcomes:
            return [((99, ""), "No outcome")]
        order = list(Outcome)
        return [((order.index(o), o.value), OUTCOME_NAMES[o]) for o in row.outcomes]
    if by == "district":
        if row.action.countywide:
            return [((-1, ""), "Countywide")]
        if not row.districts:
            return [((1 << 30, ""), "No district")]
        return [((d.position, d.name.lower()), esc(d.name)) for d in row.districts]
    if by == "owner":
        return [((0, u), f"<@{u}>") for u in row.owners]
    org = row.action.organisation
    return [((0, org.lower()), esc(org))] if org else [((1, ""), "No organisation")]


def _paging(args: Args, page: int, pages: int, first: int, last: int, total: int, what: str) -> Section:
    buttons = []
    if page > 1:
        buttons.append(
            Button(label="Previous page", action_id=RUN_COMMAND, value=_command_text(args, page - 1))
        )
    if page < pages:
        buttons.append(
            Button(
                label="Next page", action_id=RUN_COMMAND, value=_command_text(args, page + 1), style="primary"
            )
        )
    text = f"_Showing {first}–{last} of {total} {what} (page {page} of {pages})._"
    if page < pages:  # for when the button can't be clicked (the console, a command typed again)
        text += f" For the rest, press *Next page* or add `page:{page + 1}` to the command."
    return Section(text, buttons=buttons)


@verb(
    "actions",
    summary="List actions (only you see it): open ones by default, by due date.",
    usage="/ecm actions [mine|overdue|soon|open|done|dropped|all] [outcome:NAME,...] [district:NAME,...] "
    "[owner:@user] [by:outcome|district|owner|org] [page:N]",
    examples=[
        "/ecm actions",
        "/ecm actions mine overdue",
        "/ecm actions outcome:safe district:chorley",
        "/ecm actions all by:outcome",
        "/ecm actions done owner:@sam",
    ],
    aliases=("list",),
    keys=("outcome", "district", "owner", "by", "page"),
    key_aliases=KEY_ALIASES,
    details=f"`soon` means due in the next {DUE_SOON_DAYS} days. `district:` includes countywide actions. "
    f"`by:` groups the list with a count per group; an action with two outcomes (or districts, or owners) "
    f"appears under each. Long lists come {PAGE_SIZE} to a page with a *Next page* button.",
)
def actions(call: Call) -> list[Reply]:
    args = call.args
    query = _read_query(call)
    page = _page_number(args.key("page"))
    by_value = args.key("by")
    by = None
    if by_value is not None:
        by = _BY.get(by_value.strip().lower())
        if by is None:
            raise UserError(f"I can't group by “{esc(by_value)}”.", f"Group with {_USAGE_BY}.")
    filters = ("Filters: " + "; ".join(query.described) + ". ") if query.described else ""
    all_entries: list[tuple[str | None, str]] = []

    if by is None:
        total = store.count_actions(call.session, query.filter)
        rows = store.list_actions(call.session, query.filter, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        entries: list[tuple[str | None, str]] = [(None, action_line(r, call.today)) for r in rows]
        what = "actions"
        counted = total
    else:
        everything = store.list_actions(call.session, query.filter)
        total = len(everything)
        grouped: dict[tuple[int, str], list[ActionRow]] = defaultdict(list)
        labels: dict[tuple[int, str], str] = {}
        repeated: list[int] = []
        for row in everything:
            found = _groups_of(row, by)
            if len(found) > 1:
                repeated.append(row.action.number)
            for key, label in found:
                grouped[key].append(row)
                labels[key] = label
        for key in sorted(grouped):
            heading = f"*{labels[key]}* ({plural(len(grouped[key]), 'action')})"
            all_entries += [(heading, action_line(r, call.today)) for r in grouped[key]]
        counted = len(all_entries)
        entries = all_entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        what = "entries" if repeated else "actions"
        if repeated:
            shown = ", ".join(f"#{n}" for n in repeated[:10]) + (" …" if len(repeated) > 10 else "")
            filters += (
                f"{plural(len(repeated), 'action')} with more than one {by} "
                f"appear{'s' if len(repeated) == 1 else ''} under each ({shown}), so "
                f"{counted} entries list {plural(total, 'action')}. "
            )

    if total == 0:
        hint = (
            "`/ecm actions all` includes done and dropped ones."
            if query.filter.statuses is not None
            else "Add one with `/ecm add TITLE due:DATE outcome:NAME`."
        )
        base = query.label.removeprefix("My ")
        base = base[0].lower() + base[1:]
        if base.startswith("all actions"):
            base = "actions" + base.removeprefix("all actions")
        message = (f"You have no {base}" if query.mine else f"No {base}") + (
            " match those filters." if query.described else "."
        )
        return [Reply(text=message, sections=[Section(f"{message} {filters}{hint}".strip())])]
    pages = max(1, -(-counted // PAGE_SIZE))
    if page > pages:
        raise UserError(
            f"There is no page {page}: the list has {plural(pages, 'page')}.",
            "Use `page:1` or leave it out for the first page.",
        )
    first = (page - 1) * PAGE_SIZE + 1
    last = first + len(entries) - 1

    sections: list[Section] = []
    previous: str | None = None
    for heading, line in entries:
        if heading is not None and heading != previous:
            start = (page - 1) * PAGE_SIZE
            began_earlier = previous is None and start > 0 and all_entries[start - 1][0] == heading
            continued = " _continued_" if began_earlier else ""
            sections.append(Section(f"{heading}{continued}\n{line}"))
            previous = heading
        else:
            sections.append(Section(line))
    if pages > 1:
        sections.append(_paging(args, page, pages, first, last, counted, what))
    header = f"{query.label} ({total})"
    footer = (
        f"{filters}Sorted by due date. `/ecm show N` for one action's history. "
        f"Outcomes: {outcome_examples()}."
    )
    return [
        Reply(
            text=f"{query.label}: {total} (showing {first}–{last})",
            header=header,
            sections=sections,
            footer=footer,
        )
    ]
