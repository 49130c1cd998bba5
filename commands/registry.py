"""The verb table: each verb module registers itself with `@verb(...)`."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from commands.context import Call
from commands.grammar import Args
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
    # Other spellings of keys (`outcomes:` for `outcome:`), turned into the key itself by the grammar.
    key_aliases: Mapping[str, str] = field(default_factory=dict)
    section: str = "Actions"
    needs_group: bool = True
    chair_only: bool = False
    changes: bool = False  # writes something: guarded against Slack retries
    details: str = ""
    # For a verb that writes only in some forms (`/ecm minutes 3 share` posts): which arguments do.
    changes_when: Callable[[Args], bool] | None = None

    def writes(self, args: Args) -> bool:
        """Whether this call changes something (and so is guarded against Slack retries)."""
        return self.changes or (self.changes_when is not None and self.changes_when(args))


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
    key_aliases: Mapping[str, str] | None = None,
    section: str = "Actions",
    needs_group: bool = True,
    chair_only: bool = False,
    changes: bool = False,
    details: str = "",
    changes_when: Callable[[Args], bool] | None = None,
) -> Callable[[Handler], Handler]:
    """Registers a verb. `keys` are the `key:` options it takes; `key_aliases` maps other spellings to
    them; `changes` (or `changes_when(args)`) marks a call that writes, so a Slack retry runs it once."""

    def register(handler: Handler) -> Handler:
        spec = Verb(
            name=name,
            handler=handler,
            summary=summary,
            usage=usage,
            examples=examples or [],
            aliases=aliases,
            keys=frozenset(keys),
            key_aliases=dict(key_aliases or {}),
            section=section,
            needs_group=needs_group,
            chair_only=chair_only,
            changes=changes,
            details=details,
            changes_when=changes_when,
        )
        VERBS[name] = spec
        for alias in aliases:
            _ALIASES[alias] = name
        return handler

    return register


_loaded = False


def load_verbs() -> None:
    """Imports every module in commands/verbs, in name order, so their @verb decorators run (one file per
    verb). Called when the app is created; `lookup` calls it too, so the table is always whole, whichever
    verb module happened to be imported first."""
    global _loaded
    if _loaded:
        return
    import commands.verbs as package

    for name in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        importlib.import_module(f"{package.__name__}.{name}")
    _loaded = True


def lookup(word: str) -> Verb | None:
    load_verbs()
    name = _ALIASES.get(word, word)
    return VERBS.get(name)


def suggest(word: str) -> str | None:
    load_verbs()
    names = list(VERBS) + list(_ALIASES)
    found = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return _ALIASES.get(found[0], found[0]) if found else None
