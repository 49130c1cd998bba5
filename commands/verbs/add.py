"""`/ecm add TITLE [@owner ...] [org:] [due:] [outcome:] [district:] [decision:]`: a new action, posted in the channel."""

from __future__ import annotations

from commands import action_ops
from commands.action_fields import CREATE_KEYS, KEY_ALIASES, NewAction, read_fields
from commands.action_input import free_text
from commands.context import Call
from commands.grammar import Kind
from commands.registry import verb
from commands.replies import Reply
from commands.title_dates import hint_reply, trailing_date


@verb(
    "add",
    summary="Add an action to the plan; it is posted in the channel.",
    usage="/ecm add TITLE [@owner ...] [owner:@user] [org:DISTRICT-OR-ORG] [due:DATE] [outcome:NAME,...] "
    "[district:NAME,...|all] [decision:D3]",
    examples=[
        "/ecm add Audit school nurse referrals @sam due:end of month outcome:healthy district:chorley",
        '/ecm add "Map youth provision" org:"Lancashire County Council" due:28/02/2027 outcome:enjoy,positive '
        "district:all",
        "/ecm add Share missing-from-home protocol @dev @priya due:next friday outcome:safe",
    ],
    aliases=("new",),
    keys=CREATE_KEYS,
    key_aliases=KEY_ALIASES,
    changes=True,
    details="The free words form the title; people mentioned are its owners (you, if nobody is). The "
    "organisation defaults to the first owner's registered one; `org:` takes a district name or any "
    "organisation. `district:all` (or `countywide`) means every district. During a meeting the action is "
    "recorded as agreed at it.",
)
def add(call: Call) -> list[Reply]:
    tokens = call.args.tokens
    title = action_ops.check_title(free_text(tokens))
    fields = read_fields(call, tokens, call.today)
    # In `add`, everyone mentioned owns the action, as well as anyone named with `owner:`.
    owners = [t.text for t in tokens if t.kind == Kind.MENTION] + list(fields.owners or [])
    result = action_ops.create(call.actor(), NewAction.of(title, owners, fields))
    replies = result.replies
    # No `due:` given, and the title ends in what reads as a date: kept as typed, and the reply says so.
    found = None if "due" in call.args.keys else trailing_date(tokens, call.today)
    if found is not None:
        replies.append(hint_reply(found, title, result.row.action.number))
    return replies
