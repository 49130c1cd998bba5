"""Seeded mutations of real `/ecm` commands, for the fuzz test: the kinds of input that have broken verbs
(Unicode digits, huge numbers, long values, stray quotes, escaped mentions, control and bidi characters)
applied to the examples every verb documents."""

from __future__ import annotations

import random

from commands.registry import VERBS, load_verbs

SKIPPED_VERBS = {"report", "export"}  # they build files: slow, and fuzzed by their own tests

NUMBERISH = [
    "²",
    "٣",
    "１２",
    "߀",
    "0",
    "-1",
    "00000000000000000000001",
    "99999999999999999999",
    "9" * 40,
    "1e10",
    "3.5",
    "0x10",
    "+7",
    "#0",
    "#99999999999",
    "１",
    "½",
    "",
]
NASTY = [
    "\u202e",
    "\u2066",
    "\u0000",
    "\x1b[31m",
    "\n",
    "\r\n",
    "\t",
    '"',
    "'",
    "“",
    "”",
    ":",
    "::",
    "&lt;@U0SAMSAM&gt;",
    "&lt;!channel&gt;",
    "<!channel>",
    "<!here>",
    "<@>",
    "<#C123|x>",
    "*bold*",
    "`code`",
    "```",
    "&amp;",
    "&",
    "<",
    ">",
    "🙂",
    "\u200b",
    "e\u0301",
    "ﬁ",
    "ǅ",
    "İ",
    "ß",
]
KEYS = [
    "due",
    "until",
    "since",
    "from",
    "last",
    "nudge-days",
    "escalate-after",
    "digest",
    "tz",
    "timezone",
    "outcome",
    "district",
    "owner",
    "org",
    "status",
    "rag",
    "for",
    "as",
    "at",
    "every",
    "rrule",
    "page",
    "by",
    "date",
    "id",
    "role",
    "title",
    "decision",
]
VALUES = [
    "²",
    "99999999999999999999",
    "x" * 256,
    "Europe/" + "A" * 250,
    "../../etc/passwd",
    "UTC",
    "FREQ=DAILY;COUNT=²",
    "FREQ=DAILY;COUNT=99999999999",
    "FREQ=SECONDLY",
    "FREQ=DAILY;INTERVAL=0",
    "FREQ=YEARLY;BYMONTH=13",
    "FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=99991231",
    "31/12/9999",
    "1/1/1",
    "29/02/2027",
    "0/0/0",
    "99:99",
    "25:00",
    "24:00",
    "-5",
    '"2nd wednesday"',
    '"every day"',
    '"99999 weeks"',
    "in 99999999 days",
    "next " * 30,
    "none",
    "@sam",
    "&lt;@U0SAMSAM&gt;",
    "",
    '""',
    "all",
    "safe,safe,safe",
    "chorley," * 40,
]


def _base_commands() -> list[str]:
    load_verbs()
    bases: list[str] = []
    for spec in VERBS.values():
        if spec.name in SKIPPED_VERBS:
            continue
        bases.append(spec.name)
        bases.extend(e.removeprefix("/ecm ").strip() for e in spec.examples)
    bases.extend(
        [
            "minutes 1",
            "show 1",
            "update 1 due:friday",
            "snooze 1 until:friday",
            "attendance last:3",
            "setup nudge-days:3",
            "schedule cancel 31/12/9999",
            'schedule "Daily" rrule:"FREQ=DAILY" at:10:00',
            "actions page:2",
            "here for:@dev",
        ]
    )
    return bases


def _mutate_token(token: str, rng: random.Random) -> str:
    if any(c.isdigit() for c in token) and rng.random() < 0.6:
        return "".join(rng.choice(NUMBERISH) if c.isdigit() else c for c in token)
    if ":" in token and rng.random() < 0.6:
        key = token.split(":", 1)[0]
        return f"{key}:{rng.choice(VALUES + NUMBERISH)}"
    choice = rng.random()
    if choice < 0.25:
        return token + rng.choice(NASTY)
    if choice < 0.5:
        return rng.choice(NASTY) + token
    if choice < 0.6:
        return token * rng.randint(2, 40)
    if choice < 0.7:
        return token.upper()
    if choice < 0.8:
        return token[: rng.randint(0, len(token))]
    return rng.choice(NUMBERISH)


def mutate(command: str, rng: random.Random) -> str:
    tokens = command.split(" ")
    for _ in range(rng.randint(1, 3)):
        move = rng.random()
        at = rng.randrange(len(tokens)) if tokens else 0
        if move < 0.45 and tokens:
            # The verb itself (the first token) is mutated less often, so mutants reach the verbs' code.
            at = at or (0 if rng.random() < 0.1 or len(tokens) == 1 else rng.randrange(1, len(tokens)))
            tokens[at] = _mutate_token(tokens[at], rng)
        elif move < 0.7:
            tokens.insert(at, f"{rng.choice(KEYS)}:{rng.choice(VALUES)}")
        elif move < 0.8 and len(tokens) > 1:
            del tokens[at]
        elif move < 0.9 and tokens:
            tokens.insert(at, tokens[at])
        else:
            tokens.insert(at, rng.choice(NASTY + NUMBERISH))
    return " ".join(tokens)


def commands(seed: int, count: int) -> list[str]:
    """`count` commands: mostly mutants, one in ten an unchanged base command so the state moves on."""
    rng = random.Random(seed)
    bases = _base_commands()
    out: list[str] = []
    for _ in range(count):
        base = rng.choice(bases)
        out.append(base if rng.random() < 0.1 else mutate(base, rng))
    return out
