"""`/ecm actions [mine|overdue|soon|open|done|all] [outcome:] [district:] [owner:] [by:] [page:N]`: the plan,
as an ephemeral list sorted by due date, paged so every message stays within Slack's 50 blocks."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import timedelta

from commands.action_fields import KEY_ALIASES, parse_district_choice, status_words
from commands.action_view import DUE_SOON_DAYS, action_line
from commands.context import Call
from commands.grammar import Args, Kind, mention_ids
from commands.mrkdwn import Mrkdwn, md, person, text
from commands.names import OUTCOME_NAMES, parse_outcomes
from commands.numbers import whole_number
from commands.registry import verb
from commands.replies import RUN_COMMAND, Button, Reply, Section, UserError
from commands.text import plural
from storage import actions as store
from storage import members as member_store
from storage.actions import COUNTYWIDE, ActionFilter, ActionRecord, GroupCount, GroupKey
from storage.models import LIVE_STATUSES, ActionStatus, Outcome

PAGE_SIZE = 40  # one section per action: 40 + header, paging and footer stays under Slack's 50 blocks
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
    described: list[Mrkdwn]  # the filters
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
            hint = md(" Did you mean `{}`?", found[0]) if found else ""
            raise UserError(
                md("I don't understand “{}” in a list of actions.{}", word, hint),
                "Say `mine`, `overdue`, `soon`, `open`, `done`, `dropped` or `all`, and filter with "
                "`outcome:`, `district:`, `owner:@name`; group with " + _USAGE_BY + ".",
            )
    if args.quoted:
        raise UserError(md("I don't understand “{}” in a list of actions.", args.quoted[0]))
    f.statuses = None if any_status else (tuple(dict.fromkeys(statuses)) or LIVE_STATUSES)
    described: list[Mrkdwn] = []
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
            described.append(md("owner {}", person(owners[0])))
    if overdue:
        f.due_before = call.today
    if soon:
        f.due_from = call.today
        f.due_on_or_before = call.today + timedelta(days=DUE_SOON_DAYS)
    outcome_value = keys.get("outcome")
    if outcome_value is not None:
        f.outcomes = parse_outcomes(outcome_value)
        described.append(md("outcome {}", " or ".join(OUTCOME_NAMES[o] for o in f.outcomes)))
    district_value = keys.get("district")
    if district_value is not None:
        choice = parse_district_choice(call, district_value)
        f.district_ids = [d.id for d in choice.districts]
        described.append(
            Mrkdwn("any district (countywide included)")
            if choice.countywide
            else md("district {} (or countywide)", Mrkdwn(" or ").join(d.name for d in choice.districts))
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
        raise UserError(md("“{}” is not a page number.", value), "Pages are numbered from 1: `page:2`.")
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
            parts.append(person(t.text))
        elif t.kind == Kind.QUOTED:
            parts.append(f'"{t.text}"')
        else:
            parts.append(t.text)
    parts.append(f"page:{page}")
    return " ".join(parts)


@dataclass
class _Group:
    sort_key: tuple[int, str]
    label: Mrkdwn
    keys: list[GroupKey]  # the storage keys shown under this heading
    count: int


def _groups(found: list[GroupCount], by: str, names: dict[str, str] | None = None) -> list[_Group]:
    """The `by:` groups in the order they are shown, each with its heading label; owners by their names
    (`names`: user id -> the name the bot holds; Slack shows the mention as that name)."""
    merged: dict[tuple[int, str], _Group] = {}
    names = names or {}
    order = list(Outcome)
    for g in found:
        if by == "outcome":
            if g.key is None:
                sort_key, label = (99, ""), "No outcome"
            else:
                outcome = Outcome(str(g.key))
                sort_key, label = (order.index(outcome), outcome.value), OUTCOME_NAMES[outcome]
        elif by == "district":
            if g.key == COUNTYWIDE:
                sort_key, label = (-1, ""), "Countywide"
            elif g.district is None:
                sort_key, label = (1 << 30, ""), "No district"
            else:
                sort_key, label = (
                    (g.district.position, g.district.name.lower()),
                    g.district.name,
                )
        elif by == "owner":
            user_id = str(g.key)
            sort_key, label = (0, f"{names.get(user_id, user_id).casefold()}\x00{user_id}"), person(g.key)
        else:  # one organisation spelt in two cases is one group
            org = str(g.key or "")
            sort_key, label = ((0, org.lower()), org) if org else ((1, ""), "No organisation")
        if sort_key in merged:
            merged[sort_key].keys.append(g.key)
            merged[sort_key].count += g.count
        else:
            merged[sort_key] = _Group(sort_key, text(label), [g.key], g.count)
    return [merged[k] for k in sorted(merged)]


def _paging(args: Args, page: int, pages: int, first: int, last: int, total: str, what: str) -> Section:
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
    of_pages = f"{pages}+" if total.endswith("+") else str(pages)
    shown = md("_Showing {}–{} of {} {} (page {} of {})._", first, last, total, what, page, of_pages)
    if page < pages:  # for when the button can't be clicked (the console, a command typed again)
        shown += md(" For the rest, press *Next page* or add `page:{}` to the command.", page + 1)
    return Section(shown, buttons=buttons)


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
            raise UserError(md("I can't group by “{}”.", by_value), f"Group with {_USAGE_BY}.")
    filters = md("Filters: {}. ", Mrkdwn("; ").join(query.described)) if query.described else Mrkdwn()
    start = (page - 1) * PAGE_SIZE
    continued_heading: Mrkdwn | None = None  # the first heading on this page, when its group began earlier
    shown_total: str | None = None  # "1,000+" when a long list was counted only so far

    if by is None:
        found_page = store.capped_page(call.session, query.filter, limit=PAGE_SIZE, offset=start)
        rows, total = found_page.rows, found_page.total
        if not found_page.exact:
            shown_total = found_page.shown_total
        today = call.today  # once, not per line (it converts the clock's time to the zone each time)
        entries: list[tuple[Mrkdwn | None, Mrkdwn]] = [(None, action_line(r, today)) for r in rows]
        what = "actions"
        counted = total
    else:
        summary = store.group_summary(call.session, query.filter, by)
        total = summary.actions
        counts = store.group_counts(call.session, query.filter, by)
        names = (
            member_store.display_names(call.session, call.ctx.team_id, [str(g.key) for g in counts])
            if by == "owner"
            else None
        )
        groups = _groups(counts, by, names)
        counted = sum(g.count for g in groups)
        # Only the groups this page reaches are read, and only their slice of it.
        sliced: list[tuple[Mrkdwn, list[ActionRecord]]] = []
        position = 0
        for g in groups:
            g_start, position = position, position + g.count
            if position <= start or g_start >= start + PAGE_SIZE:
                continue
            lo = max(start, g_start) - g_start
            hi = min(start + PAGE_SIZE, position) - g_start
            group_heading = md("*{}* ({})", g.label, plural(g.count, "action"))
            if g_start < start:
                continued_heading = group_heading
            found = store.actions_in_group(call.session, query.filter, by, g.keys, limit=hi - lo, offset=lo)
            sliced.append((group_heading, found))
        loaded = {
            r.action.id: r
            for r in store.load_rows(
                call.session, list({a.id: a for _, found in sliced for a in found}.values())
            )
        }
        today = call.today
        entries = [
            (group_heading, action_line(loaded[a.id], today))
            for group_heading, found in sliced
            for a in found
        ]
        what = "entries" if summary.repeated else "actions"
        if summary.repeated:
            numbers = store.repeated_numbers(call.session, query.filter, by, limit=10)
            shown = ", ".join(f"#{n}" for n in numbers) + (" …" if summary.repeated > 10 else "")
            filters += md(
                "{} with more than one {} appear{} under each ({}), so {} entries list {}. ",
                plural(summary.repeated, "action"),
                by,
                "s" if summary.repeated == 1 else "",
                shown,
                counted,
                plural(total, "action"),
            )

    if total == 0:
        hint = Mrkdwn(
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
        return [Reply(text=message, sections=[Section(md("{} {}{}", message, filters, hint).strip())])]
    pages = max(1, -(-counted // PAGE_SIZE))
    if page > pages:
        raise UserError(
            f"There is no page {page}: the list has {plural(pages, 'page')}.",
            "Use `page:1` or leave it out for the first page.",
        )
    first = (page - 1) * PAGE_SIZE + 1
    last = first + len(entries) - 1

    sections: list[Section] = []
    previous: Mrkdwn | None = None
    for heading, line in entries:
        if heading is not None and heading != previous:
            continued = Mrkdwn(" _continued_") if previous is None and heading == continued_heading else ""
            sections.append(Section(md("{}{}\n{}", heading, continued, line)))
            previous = heading
        else:
            sections.append(Section(line))
    if pages > 1:
        sections.append(_paging(args, page, pages, first, last, shown_total or str(counted), what))
    header = f"{query.label} ({shown_total or total})"
    footer = md("{}Sorted by due date. `/ecm show N` for one action's history.", filters)
    return [
        Reply(
            text=f"{query.label}: {shown_total or total} (showing {first}–{last})",
            header=header,
            sections=sections,
            footer=footer,
        )
    ]
