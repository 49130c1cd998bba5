"""Mrkdwn by construction: the only way user text reaches Slack.

`Mrkdwn` is a `str` that is already safe to send as Slack mrkdwn (markupsafe's `Markup` pattern). Building one
from parts escapes every part that is not already `Mrkdwn` — `md(template, *args)`, `Mrkdwn.format`, `+`, `%`
and `Mrkdwn.join` — so a title, note or name typed as `<!channel>` or `<@U123>` arrives as text, never as a
ping or a forged mention. Mentions, channels and links are made only by their constructors, from validated
ids and addresses. Forgetting to wrap something can only over-escape it; it cannot let a ping through.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, SupportsIndex

from commands.text import esc

_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]+")
_REAL_MENTION = re.compile(r"(<@[UW][A-Z0-9]+>)")
_LINK_URL = re.compile(r"https?://[^\s<>|]+")
# An entity (&amp;) or a <…> token left open at the end of a cut string.
_OPEN_TAIL = re.compile(r"(&[a-z]*|<[^>]*)$")


class Mrkdwn(str):
    """Text that is already safe mrkdwn. `Mrkdwn("*x*")` trusts its argument: use it for the bot's own
    literals only; anything from a person goes through `text`, `md` or the operators."""

    __slots__ = ()

    @classmethod
    def escape(cls, value: object) -> Mrkdwn:
        """`value` as safe mrkdwn: unchanged if it is already `Mrkdwn`, else escaped (& < >)."""
        if isinstance(value, Mrkdwn):
            return value
        return cls(esc(str(value)))

    def __add__(self, other: str) -> Mrkdwn:
        return Mrkdwn(str.__add__(self, _safe(other)))

    def __radd__(self, other: str) -> Mrkdwn:
        return Mrkdwn(str.__add__(_safe(other), self))

    def __mod__(self, args: Any) -> Mrkdwn:
        if isinstance(args, tuple):
            escaped: Any = tuple(_escape_arg(a) for a in args)
        elif isinstance(args, Mapping):
            escaped = {k: _escape_arg(v) for k, v in args.items()}
        else:
            escaped = _escape_arg(args)
        return Mrkdwn(str.__mod__(self, escaped))

    def __mul__(self, count: SupportsIndex) -> Mrkdwn:
        return Mrkdwn(str.__mul__(self, count))

    def format(self, *args: object, **kwargs: object) -> Mrkdwn:
        if _plain_fields(self):  # the same result as the escaping formatter, without its Python-level parse
            return Mrkdwn(str.format(self, *map(_safe, args), **{k: _safe(v) for k, v in kwargs.items()}))
        return Mrkdwn(_FORMATTER.vformat(self, args, kwargs))

    def format_map(self, mapping: Mapping[str, object]) -> Mrkdwn:  # type: ignore[override]
        return Mrkdwn(_FORMATTER.vformat(self, (), mapping))

    def join(self, parts: Iterable[str]) -> Mrkdwn:
        return Mrkdwn(str.join(self, [p if isinstance(p, Mrkdwn) else esc(str(p)) for p in parts]))  # _safe

    def strip(self, chars: str | None = None) -> Mrkdwn:
        return Mrkdwn(str.strip(self, chars))

    def rstrip(self, chars: str | None = None) -> Mrkdwn:
        return Mrkdwn(str.rstrip(self, chars))

    def lstrip(self, chars: str | None = None) -> Mrkdwn:
        return Mrkdwn(str.lstrip(self, chars))

    def __repr__(self) -> str:
        return f"Mrkdwn({str.__repr__(self)})"


def _safe(value: object) -> str:
    """`value` as a piece of safe mrkdwn, for joining into a `Mrkdwn` (what `Mrkdwn.escape` gives, as plain str)."""
    return value if isinstance(value, Mrkdwn) else esc(str(value))


@lru_cache(maxsize=4096)
def _plain_fields(template: str) -> bool:
    """True when every `{}` field of `template` is bare (`{}`, `{0}`, `{name}`: no conversion, format spec,
    attribute or index), so formatting it is `str.format` of the escaped arguments: a bare field is
    `format(value, "")`, which is `str(value)`, and the escaping formatter escapes exactly that."""
    try:
        fields = list(_FORMATTER.parse(template))
    except ValueError:
        return False  # let the formatter raise its own error
    return all(
        name is None
        or (not spec and conversion is None and (name == "" or name.isdigit() or name.isidentifier()))
        for _, name, spec, conversion in fields
    )


def _escape_arg(value: object) -> object:
    """For `%`: strings are escaped, numbers stay numbers so `%d` and `%.1f` keep working."""
    if isinstance(value, (Mrkdwn, int, float)):
        return value
    return Mrkdwn.escape(value)


class _EscapingFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        formatted = format(value, format_spec)
        return formatted if isinstance(value, Mrkdwn) else esc(formatted)


_FORMATTER = _EscapingFormatter()


def text(value: object) -> Mrkdwn:
    """User (or any untrusted) text, escaped."""
    return Mrkdwn.escape(value)


def md(template: str, *args: object, **kwargs: object) -> Mrkdwn:
    """`template` (the bot's own mrkdwn) with `{}` fields filled from escaped arguments."""
    if _plain_fields(template):  # as Mrkdwn.format, without making a Mrkdwn of the template first
        safe_kwargs = {k: _safe(v) for k, v in kwargs.items()} if kwargs else {}
        return Mrkdwn(str.format(template, *[_safe(a) for a in args], **safe_kwargs))
    return Mrkdwn(template).format(*args, **kwargs)


def with_mentions(value: str) -> Mrkdwn:
    """Stored user text escaped, except real `<@U…>` mentions (kept from Slack's own mention tokens when the
    text was read; text that only looked like one was broken up then — see `commands.grammar`)."""
    return Mrkdwn("".join(p if _REAL_MENTION.fullmatch(p) else esc(p) for p in _REAL_MENTION.split(value)))


def mention(user_id: str) -> Mrkdwn:
    """`<@U…>` for a Slack user id; anything else is refused rather than rendered."""
    if not _USER_ID.fullmatch(user_id):
        raise ValueError(f"not a Slack user id: {user_id!r}")
    return Mrkdwn(f"<@{user_id}>")


def person(user_id: object) -> Mrkdwn:
    """A stored user id as a mention, where one may be missing or odd (old audit rows): anything that is not
    a user id is shown as text, never as a mention."""
    if isinstance(user_id, str) and _USER_ID.fullmatch(user_id):
        return Mrkdwn(f"<@{user_id}>")  # what mention() makes of an id that has just passed its check
    return text("nobody" if user_id is None else user_id)


def mentions(user_ids: Iterable[str], empty: str = "nobody") -> Mrkdwn:
    ids = list(user_ids)
    return Mrkdwn(", ").join(person(u) for u in ids) if ids else text(empty)


def channel(channel_id: str) -> Mrkdwn:
    """`<#C…>` for a Slack channel id; anything else is refused rather than rendered."""
    if not _CHANNEL_ID.fullmatch(channel_id):
        raise ValueError(f"not a Slack channel id: {channel_id!r}")
    return Mrkdwn(f"<#{channel_id}>")


def quote(value: object) -> Mrkdwn:
    """`value` (escaped unless `Mrkdwn`) as a block quote, every line of it."""
    return Mrkdwn("> " + text(value).replace("\n", "\n> "))  # escaped text with "> " added is still safe


def clip(value: Mrkdwn, limit: int) -> Mrkdwn:
    """`value` cut to `limit` characters with "…", never through an entity (`&amp;`) or a `<…>` token."""
    if len(value) <= limit:
        return value
    cut = _OPEN_TAIL.sub("", value[: limit - 1]).rstrip()
    return Mrkdwn(cut + "…")  # a prefix of safe mrkdwn, cut outside any entity or token, is safe


def recipient(target: object) -> Mrkdwn:
    """A stored post target: a channel id as `<#C…>`, a user id as a mention, anything else as text."""
    if isinstance(target, str) and _CHANNEL_ID.fullmatch(target) and not target.startswith("D"):
        return channel(target)
    return person(target)


def bold(value: object) -> Mrkdwn:
    return Mrkdwn("*" + _safe(value) + "*")


def italic(value: object) -> Mrkdwn:
    return Mrkdwn("_" + _safe(value) + "_")


def code(value: object) -> Mrkdwn:
    return Mrkdwn("`" + _safe(value) + "`")


def link(url: str, label: object) -> Mrkdwn:
    """`<url|label>` for a plain http(s) address; any other address gives the label alone (never a link
    that could break out of its brackets)."""
    if not _LINK_URL.fullmatch(url):
        return text(label)
    return Mrkdwn(f"<{url}|") + text(label) + Mrkdwn(">")
