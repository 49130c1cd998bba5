"""The verb table: each verb module registers itself with `@verb(...)`."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

from commands.context import Call
from commands.replies import Reply

Handler = Callable[[Call], list[Reply]]

SECTIONS = ("Actions", "Meetings", "Task group", "Help")


@dataclass
class Verb:
    name: str
    handler: Handler
    summary: str
    usage: str
    examples: list[str] = field(default_factory=list)
    aliases: tuple[str, ...] = ()
    keys: frozenset[str] = frozenset()
    section: str = "Actions"
    needs_group: bool = True
    chair_only: bool = False
    changes: bool = False  # writes something: guarded against Slack retries
    details: str = ""


VERBS: dict[str, Verb] = {}
_ALIASES: dict[str, str] = {}


def verb(
    name: str,
    *,
    summary: str,
    usage: str,
    examples: list[str] | None = None,
    aliases: tuple[str, ...] = (),
    keys: tuple[str, ...] = (),
    section: str = "Actions",
    needs_group: bool = True,
    chair_only: bool = False,
    changes: bool = False,
    details: str = "",
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        spec = Verb(
            name=name,
            handler=handler,
            summary=summary,
            usage=usage,
            examples=examples or [],
            aliases=aliases,
            keys=frozenset(keys),
            section=section,
            needs_group=needs_group,
            chair_only=chair_only,
            changes=changes,
            details=details,
        )
        VERBS[name] = spec
        for alias in aliases:
            _ALIASES[alias] = name
        return handler

    return register


def load_verbs() -> None:
    """Imports every module in commands/verbs so their @verb decorators run (one file per verb)."""
    import commands.verbs as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


def lookup(word: str) -> Verb | None:
    if not VERBS:
        load_verbs()
    name = _ALIASES.get(word, word)
    return VERBS.get(name)


def suggest(word: str) -> str | None:
    if not VERBS:
        load_verbs()
    names = list(VERBS) + list(_ALIASES)
    found = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return _ALIASES.get(found[0], found[0]) if found else None
