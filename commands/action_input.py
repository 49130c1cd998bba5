"""Reading an action's number and free text from a command's tokens (the slash-command side of the action
verbs; the fields are read by `commands.action_fields`, the operations live in `commands.action_ops`)."""

from __future__ import annotations

import re

from commands.context import Call
from commands.grammar import Kind, Token
from commands.mrkdwn import Mrkdwn, md
from commands.replies import UserError
from commands.text import truncate

_NUMBER = re.compile(r"^#?([0-9]{1,9})$")  # ASCII digits only, as commands.numbers reads them


def take_number(call: Call, example: str) -> tuple[int, list[Token]]:
    """The action number (`12` or `#12`) from the first free word; returns it and the tokens after it."""
    tokens = list(call.args.tokens)
    index = next((i for i, t in enumerate(tokens) if t.kind in (Kind.WORD, Kind.QUOTED)), None)
    if index is None:
        raise UserError(f"Which action? Give its number, e.g. `{example}`.")
    match = _NUMBER.match(tokens[index].text.strip())
    if not match:
        raise UserError(
            md(
                "“{}” is not an action number. Give the number shown as #N, e.g. `{}`.",
                truncate(tokens[index].text, 40),
                Mrkdwn(example),
            )
        )
    return int(match.group(1)), tokens[:index] + tokens[index + 1 :]


def free_text(tokens: list[Token]) -> str:
    return " ".join(t.text for t in tokens if t.kind in (Kind.WORD, Kind.QUOTED)).strip()
