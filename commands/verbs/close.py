"""`/ecm done N ["note"]`, `/ecm reopen N ["note"]` (owners or chairs) and `/ecm drop N "reason"` (chairs)."""

from __future__ import annotations

from commands import action_ops
from commands.action_input import take_number
from commands.context import Call
from commands.grammar import text_with_mentions
from commands.registry import verb
from commands.replies import Reply


@verb(
    "done",
    summary="Mark an action done, with an optional closing note (owners or chairs).",
    usage='/ecm done N ["note"]',
    examples=["/ecm done 12", '/ecm done 12 "Pathway agreed and circulated to all GP practices"'],
    aliases=("complete", "completed"),
    changes=True,
)
def done(call: Call) -> list[Reply]:
    number, rest = take_number(call, "/ecm done 12")
    return action_ops.done(call.actor(), number, text_with_mentions(rest)).replies


@verb(
    "reopen",
    summary="Reopen a done action (owners or chairs) or a dropped one (chairs).",
    usage='/ecm reopen N ["note"]',
    examples=["/ecm reopen 12", '/ecm reopen 12 "GP practices asked for a second round"'],
    changes=True,
)
def reopen(call: Call) -> list[Reply]:
    number, rest = take_number(call, "/ecm reopen 12")
    return action_ops.reopen(call.actor(), number, text_with_mentions(rest)).replies


@verb(
    "drop",
    summary="Drop an action that will not be done, saying why (chairs). It stays in the history.",
    usage='/ecm drop N "reason"',
    examples=['/ecm drop 12 "Superseded by the county-wide strategy"'],
    changes=True,
)
def drop(call: Call) -> list[Reply]:
    number, rest = take_number(call, '/ecm drop 12 "reason"')
    return action_ops.drop(call.actor(), number, text_with_mentions(rest)).replies
