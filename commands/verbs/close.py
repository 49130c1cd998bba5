"""`/ecm done N ["note"]`, `/ecm reopen N ["note"]` (owners or chairs) and `/ecm drop N "reason"` (chairs)."""

from __future__ import annotations

from collections.abc import Callable

from commands import action_ops
from commands.action_input import take_numbers
from commands.context import Actor, Call
from commands.grammar import text_with_mentions
from commands.registry import verb
from commands.replies import Reply, Visibility


def _each(
    call: Call, example: str, operation: Callable[[Actor, int, str | None], action_ops.ActionResult]
) -> list[Reply]:
    """Runs the operation on each action named (`done 2 3`, `done 2,3`), in one transaction: if any is
    refused, none is changed. The channel gets one post for them all."""
    numbers, rest = take_numbers(call, example)
    note = text_with_mentions(rest) or None
    actor = call.actor()
    results = [operation(actor, number, note) for number in numbers]
    if len(results) == 1:
        return results[0].replies
    posts = [r for result in results for r in result.replies if r.visibility == Visibility.CHANNEL]
    others = [r for result in results for r in result.replies if r.visibility != Visibility.CHANNEL]
    if not posts:
        return others
    combined = Reply(
        text="; ".join(p.text for p in posts),
        visibility=Visibility.CHANNEL,
        sections=[section for p in posts for section in p.sections],
        footer=posts[0].footer,
    )
    return [combined, *others]


@verb(
    "done",
    summary="Mark an action done, with an optional closing note (owners or chairs).",
    usage='/ecm done N [N …] ["note"]',
    examples=[
        "/ecm done 12",
        '/ecm done 12 "Pathway agreed and circulated to all GP practices"',
        "/ecm done 12 14",
    ],
    aliases=("complete", "completed"),
    changes=True,
)
def done(call: Call) -> list[Reply]:
    return _each(call, "/ecm done 12", action_ops.done)


@verb(
    "reopen",
    summary="Reopen a done action (owners or chairs) or a dropped one (chairs).",
    usage='/ecm reopen N [N …] ["note"]',
    examples=["/ecm reopen 12", '/ecm reopen 12 "GP practices asked for a second round"'],
    changes=True,
)
def reopen(call: Call) -> list[Reply]:
    return _each(call, "/ecm reopen 12", action_ops.reopen)


@verb(
    "drop",
    summary="Drop an action that will not be done, saying why (chairs). It stays in the history.",
    usage='/ecm drop N [N …] "reason"',
    examples=['/ecm drop 12 "Superseded by the county-wide strategy"'],
    changes=True,
)
def drop(call: Call) -> list[Reply]:
    return _each(call, '/ecm drop 12 "reason"', action_ops.drop)
