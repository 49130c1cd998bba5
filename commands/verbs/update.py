"""`/ecm update N ["note"] [due:] [owner:] [org:] [status:] [rag:] [outcome:] [district:] [decision:]`:
owners or chairs change an action; the channel is told what changed, from what to what."""

from __future__ import annotations

from typing import Any

from commands.action_input import (
    CLEAR_WORDS,
    STATUS_HELP,
    change_reply,
    check_note,
    check_title,
    key_values,
    load_action,
    owners_from,
    parse_decision,
    parse_district_choice,
    parse_due,
    parse_rag,
    parse_status,
    past_due_warning,
    require_owner_or_chair,
    resolve_org,
    take_number,
)
from commands.action_view import action_line
from commands.context import Call
from commands.grammar import Kind, Token, text_with_mentions
from commands.names import parse_outcomes
from commands.registry import verb
from commands.replies import Reply, Section, UserError
from storage import actions as store
from storage.actions import ActionRow
from storage.models import LIVE_STATUSES, ActionStatus

UPDATE_KEYS = (
    "due",
    "owner",
    "owners",
    "org",
    "organisation",
    "status",
    "rag",
    "outcome",
    "outcomes",
    "district",
    "districts",
    "decision",
    "title",
)


def _merge_in_progress(tokens: list[Token]) -> list[Token]:
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


def read_changes(call: Call, row: ActionRow, tokens: list[Token]) -> dict[str, Any]:
    """The changes a command asks for (validated; nothing applied yet)."""
    keys = key_values(tokens)
    changes: dict[str, Any] = {}
    if "title" in keys:
        changes["title"] = check_title(keys["title"])
    if "due" in keys:
        value = keys["due"]
        changes["due_date"] = None if value.strip().lower() in CLEAR_WORDS else parse_due(value, call.today)
    # Only `owner:` reassigns: "chased @priya for figures" is a note that mentions Priya, not a handover.
    owners = owners_from(call, tokens, bare=False)
    if owners:
        changes["owners"] = owners
    org = keys.get("org") or keys.get("organisation")
    if org is not None:
        changes["organisation"] = "" if org.strip().lower() in CLEAR_WORDS else resolve_org(call, org)
    if "status" in keys:
        changes["status"] = parse_status(keys["status"])
    if "rag" in keys:
        changes["rag"] = parse_rag(keys["rag"])
    outcome = keys.get("outcome") or keys.get("outcomes")
    if outcome is not None:
        changes["outcomes"] = [] if outcome.strip().lower() in CLEAR_WORDS else parse_outcomes(outcome)
    district = keys.get("district") or keys.get("districts")
    if district is not None:
        if district.strip().lower() in CLEAR_WORDS:
            changes["district_ids"], changes["countywide"] = [], False
        else:
            choice = parse_district_choice(call, district)
            changes["countywide"] = choice.countywide
            changes["district_ids"] = [] if choice.countywide else [d.id for d in choice.districts]
    if "decision" in keys:
        decision = parse_decision(call, keys["decision"])
        changes["decision_id"] = decision.id if decision else None
    return changes


def status_verb(old: ActionStatus, new: ActionStatus) -> str:
    if new == old:
        return "updated"
    if new == ActionStatus.DONE:
        return "done"
    if new == ActionStatus.DROPPED:
        return "dropped"
    if old in (ActionStatus.DONE, ActionStatus.DROPPED) and new in LIVE_STATUSES:
        return "reopened"
    return "updated"


@verb(
    "update",
    summary="Change an action or add a progress note (owners or chairs); the channel sees what changed.",
    usage='/ecm update N ["note"] [due:DATE] [owner:@user] [org:...] [status:open|in-progress|blocked|done] '
    '[rag:red|amber|green] [outcome:NAME,...] [district:NAME,...|all] [decision:D3] [title:"..."]',
    examples=[
        '/ecm update 12 "Referral forms agreed with GPs" status:in-progress rag:green',
        "/ecm update 12 due:end of month owner:@priya",
        "/ecm update #7 outcome:safe,healthy district:all",
        "/ecm update 7 due:none rag:none",
    ],
    aliases=("edit",),
    keys=UPDATE_KEYS,
    changes=True,
    details="`owner:` replaces the owners (people mentioned in the note stay mentions in the note); `outcome:` and `district:` replace the lists. "
    '`due:none`, `rag:none`, `decision:none` clear a value. Dropping an action is for chairs: `/ecm drop N "reason"`.',
)
def update(call: Call) -> list[Reply]:
    number, rest = take_number(call, '/ecm update 12 "note" status:in-progress')
    tokens = _merge_in_progress(rest)
    row = load_action(call, number)
    require_owner_or_chair(call, row, "update it")
    note = check_note(text_with_mentions(tokens)) or None
    changes = read_changes(call, row, tokens)
    if not changes and not note:
        raise UserError(f"Say what to change on #{number}, or add a note in quotes.")
    old_status = row.action.status
    new_status = changes.get("status", old_status)
    if new_status == ActionStatus.DROPPED and old_status != ActionStatus.DROPPED:
        if not call.is_chair:
            raise UserError(f"Only a chair can drop #{number}.", STATUS_HELP)
        if not note:
            raise UserError(
                f"Say why #{number} is being dropped, in quotes.",
                f'For example `/ecm drop {number} "covered by the county strategy"`.',
            )
    if old_status == ActionStatus.DROPPED and new_status != ActionStatus.DROPPED and not call.is_chair:
        raise UserError(f"#{number} was dropped by a chair; only a chair can bring it back.")
    verb_name = status_verb(old_status, new_status)
    old_due = row.action.due_date
    diff = store.update_action(
        call.session, row, changes, by=call.user_id, at=call.now, note=note, verb=verb_name
    )
    if not diff and not note:
        return [
            Reply(
                text=f"Nothing changed: #{number} already has those values.",
                sections=[
                    Section(
                        f"Nothing changed: *#{number}* already has those values.\n"
                        + action_line(row, call.today)
                    )
                ],
            )
        ]
    lead = (
        f"<@{call.user_id}> updated *#{number}*:"
        if diff
        else f":memo: <@{call.user_id}> added a note to *#{number}*:"
    )
    replies = [change_reply(call, row, diff, note, verb_name, lead)]
    if "due_date" in diff and row.action.due_date != old_due:
        warning = past_due_warning(row.action.due_date, call.today, number)
        if warning:
            replies.append(Reply.note(warning))
    return replies
