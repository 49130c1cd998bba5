"""Reading an action's number and free text from a command's tokens (the slash-command side of the action
verbs; the fields are read by `commands.action_fields`, the operations live in `commands.action_ops`)."""

from __future__ import annotations

import re

from commands.context import Call
from commands.grammar import Kind, Token
from commands.mrkdwn import md
from commands.replies import UserError
from commands.text import truncate

_NUMBER = re.compile(r"^#?([0-9]{1,9})$")  # ASCII digits only, as commands.numbers reads them


_NUMBERS = re.compile(r"^[#\d,]*\d[#\d,]*$")  # 12, #12, 2,3, 2,#3 …
MAX_ACTIONS_AT_ONCE = 20


def _first_free(tokens: list[Token]) -> int | None:
    return next((i for i, t in enumerate(tokens) if t.kind in (Kind.WORD, Kind.QUOTED)), None)


def take_number(call: Call, example: str) -> tuple[int, list[Token]]:
    """The action number (`12` or `#12`) from the first free word; returns it and the tokens after it."""
    tokens = list(call.args.tokens)
    index = _first_free(tokens)
    if index is None:
        raise UserError(f"Which action? Give its number, e.g. `{example}`.")
    match = _NUMBER.match(tokens[index].text.strip())
    if not match:
        raise UserError(
            md(
                "“{}” is not an action number. Give the number shown as #N, e.g. `{}`.",
                truncate(tokens[index].text, 40),
                example,
            )
        )
    return int(match.group(1)), tokens[:index] + tokens[index + 1 :]


def refuse_number_as_note(call: Call, number: int, rest: list[Token]) -> None:
    """`/ecm update 2 3`: a bare number after the action's is refused, never read as the start of a note."""
    index = _first_free(rest)
    if index is not None and rest[index].kind == Kind.WORD and _NUMBERS.match(rest[index].text.strip()):
        verb = call.args.verb
        raise UserError(
            md(
                "“{}” after #{} looks like another action number, and `/ecm {}` works on one action at a time. Nothing was changed.",
                truncate(rest[index].text, 20),
                number,
                verb,
            ),
            md('If it is part of the note, put the note in quotes: `/ecm {} {} "…"`.', verb, number),
        )


def take_numbers(call: Call, example: str) -> tuple[list[int], list[Token]]:
    """One or more action numbers (`2 3`, `2,3`, `#2 #3`) from the first free words, and the tokens after.

    Numbers followed by more unquoted words are refused: “done 2 3 reports sent” might mean #3 or a note
    “3 reports sent”, and a number must never silently become a note."""
    numbers, rest = _numbers(call, example)
    index = _first_free(rest)
    if len(numbers) > 1 and index is not None and rest[index].kind == Kind.WORD:
        verb = call.args.verb
        last = numbers[-1]
        raise UserError(
            f"Is “{last}” another action, or the start of a note? Nothing was changed.",
            md(
                'For several actions, give just the numbers: `/ecm {0} {1}`. For one action with a note, put the note in quotes: `/ecm {0} {2} "{3} {4}"`.',
                verb,
                " ".join(map(str, numbers)),
                numbers[0],
                " ".join(str(n) for n in numbers[1:]),
                truncate(free_text(rest), 40),
            ),
        )
    return numbers, rest


def _numbers(call: Call, example: str) -> tuple[list[int], list[Token]]:
    tokens = list(call.args.tokens)
    index = _first_free(tokens)
    if index is None:
        raise UserError(f"Which action? Give its number, e.g. `{example}`.")
    first = tokens[index]
    if first.kind != Kind.WORD or not _NUMBERS.match(first.text.strip()):
        raise UserError(
            md(
                "“{}” is not an action number. Give the number shown as #N, e.g. `{}`.",
                truncate(first.text, 40),
                example,
            )
        )
    numbers: list[int] = []
    end = index
    while end < len(tokens) and tokens[end].kind == Kind.WORD and _NUMBERS.match(tokens[end].text.strip()):
        for part in tokens[end].text.split(","):
            match = _NUMBER.match(part.strip())
            if part.strip() and not match:
                raise UserError(
                    md("“{}” is not a list of action numbers.", truncate(tokens[end].text, 40)),
                    f"Write them like `2 3` or `2,3`, e.g. `{example}`.",
                )
            if match:
                numbers.append(int(match.group(1)))
        end += 1
    numbers = list(dict.fromkeys(numbers))
    if len(numbers) > MAX_ACTIONS_AT_ONCE:
        raise UserError(f"That is {len(numbers)} actions; give at most {MAX_ACTIONS_AT_ONCE} at once.")
    return numbers, tokens[:index] + tokens[end:]


def free_text(tokens: list[Token]) -> str:
    return " ".join(t.text for t in tokens if t.kind in (Kind.WORD, Kind.QUOTED)).strip()
