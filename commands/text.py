"""Safe text for Slack mrkdwn: user text is escaped so nobody can ping @channel or forge a mention."""

from __future__ import annotations

import re

MAX_TEXT = 3000  # Slack's limit for one section's text


# Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): in text others
# read they can make "#12 done" display as something else, so they are removed from anything shown.
# NUL goes too: PostgreSQL cannot store it in text, so a typed "\x00" would fail the whole command.
_BIDI_CONTROLS = dict.fromkeys([0x00, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


_BIDI = re.compile("[" + re.escape("".join(map(chr, _BIDI_CONTROLS))) + "]")


def without_bidi(text: str) -> str:
    """`text` without bidi controls (and NUL)."""
    if text.isascii():  # the common case: only NUL can be there (one C-speed pass, no regex)
        return text.replace("\x00", "")
    return _BIDI.sub("", text)


def typed(text: str) -> str:
    """Text a person typed into a form: anything that would render as a mention or a broadcast is broken
    up with a zero-width space, so it stays text even where `commands.mrkdwn.with_mentions` shows real mentions (only
    mentions Slack itself sent are mentions). Bidi controls are removed. (Slash commands get the same from
    the grammar, which can tell typed entities by Slack's escaping.)"""
    return without_bidi(text).replace("<@", "<\u200b@").replace("<!", "<\u200b!")


def esc(text: str) -> str:
    """Escapes &, < and > as Slack asks; that neutralises <!channel>, <@U…> and link forgery. Bidi controls
    and NUL are removed first (`without_bidi`, the one rule for them)."""
    return without_bidi(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("&", " and ")).strip("-")


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """`3 actions`, `1 action`, `1,500 actions` (thousands grouped, as UK readers write them)."""
    return f"{count:,} {word if count == 1 else (plural_word or word + 's')}"
