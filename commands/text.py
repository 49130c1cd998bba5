"""Safe text for Slack mrkdwn: user text is escaped so nobody can ping @channel or forge a mention."""

from __future__ import annotations

import re

MAX_TEXT = 3000  # Slack's limit for one section's text


def esc(text: str) -> str:
    """Escapes &, < and > as Slack asks; that neutralises <!channel>, <@U…> and link forgery."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def mentions(user_ids: list[str]) -> str:
    return ", ".join(mention(u) for u in user_ids) if user_ids else "nobody"


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("&", " and ")).strip("-")


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"
