"""The `/ecm VERB ARGS` grammar: turns the text Slack sends into tokens.

Arguments are free words, "quoted text" (straight or curly quotes), `key:value` or `key:"several words"`,
user mentions as Slack sends them with `should_escape: true` (`<@U123|name>`, `<@U123>`), and comma lists
(`outcome:safe,healthy`). Date keys also take the following words while they still read as a date, so
`due:next friday` and `due:28 Aug 2026` need no quotes.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from commands.dates import (
    DATE_EXAMPLES,
    MAX_PREFIX_WORDS,
    DateError,
    DateReading,
    format_date,
    is_date_word,
    read_date,
    read_date_prefix,
)
from commands.mrkdwn import code, md, person
from commands.replies import UserError
from commands.text import without_bidi

# Slack clients often send "smart" quotes; all of these open or close a quoted phrase.
_QUOTES = {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"'}
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_SPECIAL = re.compile(r"<([^<>]*)>")
_KEY = re.compile(r"^([A-Za-z][A-Za-z_-]{0,20}):(.*)$", re.S)
_QUOTED_ITEM = re.compile(r'"([^"]*)"')

DATE_KEYS = frozenset({"due", "since", "until", "from", "date"})
MAX_COMMAND_LENGTH = 3000


class Kind(StrEnum):
    WORD = "word"
    QUOTED = "quoted"
    KEY = "key"
    MENTION = "mention"


@dataclass
class Token:
    kind: Kind
    text: str  # the word, the quoted text, the key's value, or the mentioned user id
    key: str = ""  # for KEY tokens, lower-cased
    label: str = ""  # for MENTION tokens, the name Slack showed (`<@U123|sam>`), when it sent one


@dataclass
class Args:
    verb: str
    tokens: list[Token] = field(default_factory=list)
    # How each date key's value was read (for the notes on loose phrases, weekends and bank holidays).
    dates: dict[str, DateReading] = field(default_factory=dict)

    @property
    def positional(self) -> list[Token]:
        """Free words and quoted phrases, in order (what forms a title or a note)."""
        return [t for t in self.tokens if t.kind in (Kind.WORD, Kind.QUOTED)]

    @property
    def words(self) -> list[str]:
        return [t.text for t in self.tokens if t.kind == Kind.WORD]

    @property
    def quoted(self) -> list[str]:
        return [t.text for t in self.tokens if t.kind == Kind.QUOTED]

    @property
    def mentions(self) -> list[str]:
        return [t.text for t in self.tokens if t.kind == Kind.MENTION]

    @property
    def keys(self) -> dict[str, str]:
        """Key -> value; a key given twice has its values joined with commas (`outcome:safe outcome:healthy`)."""
        merged: dict[str, str] = {}
        for t in self.tokens:
            if t.kind == Kind.KEY:
                merged[t.key] = f"{merged[t.key]},{t.text}" if t.key in merged else t.text
        return merged

    def key(self, name: str) -> str | None:
        return self.keys.get(name)

    def normalise_keys(self, aliases: Mapping[str, str]) -> None:
        """Renames alias keys to the key they stand for (`outcomes:` -> `outcome:`), as the verb declares."""
        for t in self.tokens:
            if t.kind == Kind.KEY and t.key in aliases:
                t.key = aliases[t.key]

    def free_text(self) -> str:
        return " ".join(t.text for t in self.positional).strip()


def _readable_special(inner: str) -> str:
    """Slack's escaped entities other than user mentions, turned into harmless readable text."""
    if inner.startswith("!"):
        name = inner[1:].split("|")[0].split("^")[0]
        return "@" + (name.removeprefix("subteam") or name)
    if inner.startswith("#"):
        channel, _, label = inner[1:].partition("|")
        return "#" + (label or channel)
    if inner.startswith("@"):  # a person mentioned inside quotes: their name, as Slack showed it
        user, _, label = inner[1:].partition("|")
        return "@" + (label or user)
    url, _, label = inner.partition("|")
    return label if label and label != url else url


def _unescape(text: str) -> str:
    """With should_escape on, Slack sends &, < and > as entities; store what the user actually typed
    (`esc` keeps it text wherever it is shown), less any bidi controls."""
    return without_bidi(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def _split(text: str) -> list[tuple[str, bool]]:
    """Splits into (chunk, was_quoted) pieces; a key immediately followed by a quote keeps them together."""
    for curly, straight in _QUOTES.items():
        text = text.replace(curly, straight)
    pieces: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end == -1:
                raise UserError(
                    'There is a quote (") with no closing quote.',
                    'Put quotes round the whole phrase: `"like this"`.',
                )
            pieces.append((text[i + 1 : end], True))
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace():
            if text[j] == "<" and (close := text.find(">", j)) != -1:
                j = close + 1  # Slack entities such as <https://x|two words> stay whole
                continue
            if (
                text[j] == '"'
                and j > i
                and (text[j - 1] == ":" or (text[j - 1] == "," and _KEY.match(text[i:j])))
            ):
                # key:"several words", or a quoted item in a comma list: key:"South Ribble",chorley
                end = text.find('"', j + 1)
                if end == -1:
                    raise UserError(
                        'There is a quote (") with no closing quote.', 'Write `key:"several words"`.'
                    )
                j = end + 1
                if j < n and text[j] == ",":
                    continue
                break
            j += 1
        pieces.append((text[i:j], False))
        i = j
    return pieces


def tokenize(text: str) -> list[Token]:
    # Counted as typed: Slack sends & < > as entities, which must not make a command "longer".
    typed = len(_unescape(text))
    if typed > MAX_COMMAND_LENGTH:
        raise UserError(
            f"That command is too long ({typed} characters; the most is {MAX_COMMAND_LENGTH}).",
            'Keep titles and notes short, and add detail later with `/ecm update N "note"`.',
        )
    tokens: list[Token] = []
    for chunk, was_quoted in _split(text):
        if was_quoted:
            tokens.append(
                Token(Kind.QUOTED, _unescape(_SPECIAL.sub(lambda m: _readable_special(m.group(1)), chunk)))
            )
            continue
        mention = _MENTION.match(chunk)
        if mention:
            tokens.append(Token(Kind.MENTION, mention.group(1), label=mention.group(2) or ""))
            continue
        key = _KEY.match(chunk)
        if key and key.group(2) and not key.group(2).startswith("//"):
            value = key.group(2)
            # key:"several words", and quoted items in a comma list: key:"South Ribble",chorley
            value = _QUOTED_ITEM.sub(lambda m: m.group(1), value)
            # Links, #channels and @here become readable text; people stay mentions (`owner:@sam`).
            value = _SPECIAL.sub(
                lambda m: m.group(0) if _MENTION.match(m.group(0)) else _readable_special(m.group(1)), value
            )
            # A mention typed out as text (`owner:&lt;@U1&gt;`) must not pass for the real entity it is
            # kept beside: broken up while still escaped, so only what Slack sent unescaped is a person.
            value = value.replace("&lt;@", "&lt;\u200b@")
            tokens.append(Token(Kind.KEY, _unescape(value).strip(), key=key.group(1).lower()))
            continue
        tokens.append(
            Token(Kind.WORD, _unescape(_SPECIAL.sub(lambda m: _readable_special(m.group(1)), chunk)))
        )
    return tokens


_BARE_KEY = re.compile(r"^([A-Za-z][A-Za-z_-]{0,20}):$")
_KEY_EXAMPLES = {
    "due": "due:friday",
    "org": "org:Chorley",
    "rag": "rag:amber",
    "status": "status:done",
    "title": 'title:"Map youth provision"',
    "outcome": "outcome:safe",
    "district": "district:chorley",
    "owner": "owner:@name",
    "page": "page:2",
    "by": "by:outcome",
}


def refuse_empty_keys(
    tokens: list[Token], keys: Collection[str], aliases: Mapping[str, str], *, changes: bool
) -> None:
    """One of the verb's keys typed with nothing after its colon (`update 3 due:`, or `due: friday` with a
    space) is refused: taken as a plain word it would slip into a title or note, or be posted as one.
    `changes`: the verb changes something (the message says nothing was saved, and how to keep the word)."""
    for i, token in enumerate(tokens):
        bare = _BARE_KEY.match(token.text) if token.kind == Kind.WORD else None
        if bare is None:
            continue
        key = aliases.get(bare.group(1).lower(), bare.group(1).lower())
        if key not in keys:
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if after is not None and after.kind in (Kind.WORD, Kind.QUOTED):
            quoted = after.kind == Kind.QUOTED or " " in after.text
            meant = f'{bare.group(1)}:"{after.text}"' if quoted else f"{bare.group(1)}:{after.text}"
            how = md("Write the value straight after the colon, with no space: {}.", code(meant))
        else:
            how = md(
                "Give it a value straight after the colon, as in {}, or leave it out.",
                code(_KEY_EXAMPLES.get(key, f"{key}:…")),
            )
        if not changes:
            raise UserError(md("{} has nothing after its colon.", code(token.text)), how)
        raise UserError(
            md(
                "{} has nothing after its colon, so I can't tell what you meant. Nothing was saved.",
                code(token.text),
            ),
            how + md(" If “{}” is meant as words of a title or note, put them in quotes.", token.text),
        )


# What the free words are to each verb, for the message when a date would leave words in them.
_FREE_TEXT_NAMES = {"add": "title", "new": "title", "snooze": "reason", "drop": "reason"}
_ACTION_NUMBER = re.compile(r"^#?\d{1,9}$")


def _write_token(t: Token) -> str:
    if t.kind == Kind.QUOTED:
        return f'"{t.text}"'
    if t.kind == Kind.KEY:
        return f'{t.key}:"{t.text}"' if " " in t.text else f"{t.key}:{t.text}"
    if t.kind == Kind.MENTION:
        return f"@{t.label or 'name'}"
    return t.text


def _text_before(verb: str, tokens: list[Token]) -> tuple[list[Token], list[Token]]:
    """The free text before a key, and before it the action number a verb such as `update 3` starts with
    (which is not part of the note): (number, text)."""
    before = [t for t in tokens if t.kind in (Kind.WORD, Kind.QUOTED)]
    if verb not in ("add", "new") and before and _ACTION_NUMBER.match(before[0].text):
        return before[:1], before[1:]
    return [], before


def _text_first(verb: str, lead: list[Token], text: str, key: Token, others: list[Token]) -> str:
    """The command rewritten with its text before `key`: `/ecm VERB [N] TEXT KEY OTHERS…`."""
    parts = [f"/ecm {verb}", *(_write_token(t) for t in lead), text, _write_token(key)]
    return " ".join(p for p in [*parts, *(_write_token(t) for t in others)] if p)


def _refuse_trailing_words(
    verb: str,
    lead: list[Token],
    before: list[Token],
    key: Token,
    reading: DateReading,
    tail: list[Token],
    rest: list[Token],
) -> UserError:
    """Words after a date that would quietly become part of the title (or note): say how it was read.
    `lead` is the action number a verb such as `update 3` starts with, kept first in the rewritten command."""
    what = _FREE_TEXT_NAMES.get(verb, "note")
    tail_text = " ".join(t.text for t in tail)
    before_text = " ".join(_write_token(t) for t in before)
    joined = f"{before_text} {tail_text}".strip()
    where = md("the {} (“{}”)", what, joined) if before_text else f"the {what}"
    date_words = f'{key.key}:"{key.text} {tail_text}"'
    title_first = _text_first(verb, lead, joined, key, rest)
    return UserError(
        md(
            "I read `{}:{}` as {}, so “{}” would become part of {}. Nothing was saved.",
            key.key,
            key.text,
            format_date(reading.day),
            tail_text,
            where,
        ),
        md(
            "If “{0}” is part of the date, put the whole date in quotes: `{1}`. If it belongs to the {2}, put the {2} first and the date after it: `{3}`.",
            tail_text,
            date_words,
            what,
            title_first,
        ),
    )


def _quoted(value: str) -> str:
    return f'"{value}"' if " " in value else value


def _absorb_date_words(
    verb: str, tokens: list[Token], today: date
) -> tuple[list[Token], dict[str, DateReading]]:
    """`due:next friday` arrives as key `due:next` plus word `friday`: join while the phrase reads as a date.

    Words after a date never silently join the title or note: if they look like part of a date
    (`due:friday 11/12`, `due:in 2 weeks time`) or would split the text around the date, the command is
    refused, saying how the date was read and how to write it. Returns the tokens and each date key's reading.
    """
    out: list[Token] = []
    readings: dict[str, DateReading] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        out.append(token)
        i += 1
        if token.kind != Kind.KEY or token.key not in DATE_KEYS:
            continue
        following: list[str] = []
        if " " not in token.text:
            for t in tokens[i : i + MAX_PREFIX_WORDS - 1]:
                if t.kind != Kind.WORD:
                    break
                following.append(t.text)
        try:
            found = read_date_prefix([token.text, *following], today, strict=True)
        except DateError as error:
            raise UserError(str(error), f"Dates are UK style: {DATE_EXAMPLES}.") from error
        if found is None:
            # Quote the whole phrase meant as the date (`due:next blursday`), not just its first word.
            phrase = [token.text]
            for word in following:
                if not is_date_word(word):
                    break
                phrase.append(word)
            if len(phrase) > 1:
                try:
                    read_date(" ".join(phrase), today)
                except DateError as error:
                    raise UserError(str(error), f"Dates are UK style: {DATE_EXAMPLES}.") from error
            continue
        reading, used = found
        if used > 1:
            token.text = " ".join([token.text, *following[: used - 1]])
            i += used - 1
        readings[token.key] = reading
        tail: list[Token] = []
        for t in tokens[i:]:
            if t.kind != Kind.WORD:
                break
            tail.append(t)
        if not tail:
            continue
        lead, before = _text_before(verb, out[:-1])
        if before or is_date_word(tail[0].text):
            shown = {id(t) for t in (*lead, token, *before, *tail)}
            rest = [t for t in tokens if id(t) not in shown]
            raise _refuse_trailing_words(verb, lead, before, token, reading, tail, rest)
    return out, readings


# Keys whose value is any text, and what each is called in the refusal: `org:NHS Lancashire` arrives as
# `org:NHS` and the word `Lancashire`, which would quietly join the title, the note or the group's name, or be
# dropped. Only the verbs below are checked: other verbs' words are not text (`actions overdue mine`).
_TEXT_KEYS = {
    "org": "organisation",
    "organisation": "organisation",
    "title": "title",
    "name": "name",
    "for": "organisation",  # attendance: `for:"Lancashire Constabulary"` (or `for:@member`)
    "county": "county",
    "district": "districts",  # `districts:"Burnley,South Ribble"`
    "districts": "districts",
    "reason": "reason",
}
# Verbs whose free words are a title or note: words after these keys are refused when they would split it
# (an add's district list is checked by name instead: `district:South` is no district).
_TEXT_VERB_KEYS = {k: ("org", "organisation", "title") for k in ("add", "new", "update")}
# Verbs whose words after these keys can only be the rest of the value: they have no free text, or (`setup`)
# free text that is the group's name, which `setup districts:Burnley,South Ribble` would have set to "Ribble".
_VALUE_ONLY_KEYS = {
    "member": ("org", "organisation", "name", "district"),
    **dict.fromkeys(("here", "present", "apologies"), ("for",)),
    "setup": ("name", "county", "district", "districts"),
    **dict.fromkeys(("meeting", "schedule"), ("title", "reason")),
}


def _refuse_words_after_text_keys(verb: str, tokens: list[Token]) -> None:
    """Words right after a text key's value. In the verbs of `_VALUE_ONLY_KEYS` they are refused as left
    over. In an add or update, when free text came before the key too, they would split the title (or note)
    around it and take the end of the value with them: refused, saying how to write it. With no free text
    before, an add's words are its title (`add org:Chorley Map provision`); an update's are refused all the
    same."""
    value_only = verb in _VALUE_ONLY_KEYS
    keys: tuple[str, ...] = _VALUE_ONLY_KEYS.get(verb) or _TEXT_VERB_KEYS.get(verb) or ()
    for i, token in enumerate(tokens):
        if token.kind != Kind.KEY or token.key not in keys:
            continue
        tail: list[Token] = []
        for t in tokens[i + 1 :]:
            if t.kind != Kind.WORD:
                break
            tail.append(t)
        if tail and value_only:
            tail_text = " ".join(t.text for t in tail)
            raise UserError(
                md(
                    "I read `{}` as the {}, so “{}” after it is left over. Nothing was saved.",
                    _write_token(token),
                    _TEXT_KEYS[token.key],
                    tail_text,
                ),
                md(
                    "If “{}” is part of the {}, put it all in quotes: `{}`.",
                    tail_text,
                    _TEXT_KEYS[token.key],
                    f'{token.key}:"{token.text} {tail_text}"',
                ),
            )
        lead, before = _text_before(verb, tokens[:i])
        # `add org:Chorley Map provision`: the title after the key. An update's note is seldom all after a
        # text key (`update 3 title:Map youth provision`): those words are refused there too.
        if not tail or (not before and verb != "update"):
            continue
        what = _FREE_TEXT_NAMES.get(verb, "note")
        tail_text = " ".join(t.text for t in tail)
        joined = " ".join(_write_token(t) for t in [*before, *tail])
        where = md("part of the {} (“{}”)", what, joined) if before else f"the {what}"
        shown = {id(t) for t in (*lead, token, *before, *tail)}
        whole = f'{token.key}:"{token.text} {tail_text}"'
        text_first = _text_first(verb, lead, joined, token, [t for t in tokens if id(t) not in shown])
        raise UserError(
            md(
                "I read `{}` as the {}, so “{}” would become {}. Nothing was saved.",
                _write_token(token),
                _TEXT_KEYS[token.key],
                tail_text,
                where,
            ),
            md(
                "If “{0}” is part of the {1}, put it all in quotes: `{2}`. If it belongs to the {3}, put the {3} first: `{4}`.",
                tail_text,
                _TEXT_KEYS[token.key],
                whole,
                what,
                text_first,
            ),
        )


def parse(text: str, today: date) -> Args:
    tokens = tokenize(text.strip())
    verb = tokens[0].text.lower() if tokens and tokens[0].kind == Kind.WORD else ""
    rest, readings = _absorb_date_words(verb, tokens[1:] if verb else tokens, today)
    _refuse_words_after_text_keys(verb, rest)
    return Args(verb=verb, tokens=rest, dates=readings)


def text_with_mentions(tokens: list[Token]) -> str:
    """Free words and quoted text with the people mentioned kept in place as `<@U…>`. Text that merely looks
    like a mention (typed out literally) is broken up, so only real mentions ever render as one."""
    return " ".join(
        person(t.text) if t.kind == Kind.MENTION else t.text.replace("<@", "<\u200b@")
        for t in tokens
        if t.kind in (Kind.WORD, Kind.QUOTED, Kind.MENTION)
    ).strip()


def split_list(value: str) -> list[str]:
    """`safe,healthy` or `"South Ribble, Chorley"` -> items, blanks dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


def mention_ids(value: str) -> list[str]:
    """User ids in a key's value such as `owner:<@U1>,<@U2>`; raises if any item is not a mention."""
    ids: list[str] = []
    for item in split_list(value):
        match = _MENTION.match(item)
        if not match:
            raise UserError(
                md("`{}` is not a Slack user.", item), "Mention people with @, e.g. `owner:@jo.bloggs`."
            )
        ids.append(match.group(1))
    return ids
