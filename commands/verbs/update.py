"""`/ecm update N ["note"] [due:] [owner:] [org:] [status:] [rag:] [outcome:] [district:] [decision:]`:
owners or chairs change an action; the channel is told what changed, from what to what."""

from __future__ import annotations

from commands import action_ops
from commands.action_fields import CHANGE_KEYS, KEY_ALIASES, merge_in_progress, read_fields
from commands.action_input import refuse_number_as_note, take_number
from commands.context import Call
from commands.grammar import text_with_mentions
from commands.registry import verb
from commands.replies import Reply


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
    keys=CHANGE_KEYS,
    key_aliases=KEY_ALIASES,
    changes=True,
    details="`owner:` replaces the owners (people mentioned in the note stay mentions in the note); `outcome:` and `district:` replace the lists. "
    '`due:none`, `rag:none`, `decision:none` clear a value. Dropping an action is for chairs: `/ecm drop N "reason"`.',
)
def update(call: Call) -> list[Reply]:
    number, rest = take_number(call, '/ecm update 12 "note" status:in-progress')
    refuse_number_as_note(call, number, rest)
    tokens = merge_in_progress(rest)
    actor = call.actor()
    action_ops.load_for_change(actor, number, "update it")  # who may, before what they typed is checked
    # Only `owner:` reassigns: "chased @priya for figures" is a note that mentions Priya, not a handover.
    note = text_with_mentions(tokens) or None
    return action_ops.change(actor, number, read_fields(call, tokens, call.today), note).replies
