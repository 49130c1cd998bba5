"""A title that ends in what reads as a due date, typed with no `due:` key (`/ecm add Review CAF by friday`):
the title is kept as typed (its meaning is never changed silently), and the reply says how the words were
read and how to make them the due date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from commands.dates import MAX_PREFIX_WORDS, DateError, DateReading, format_date, is_date_word, read_date
from commands.grammar import Kind, Token
from commands.mrkdwn import Mrkdwn, code, md
from commands.replies import RUN_COMMAND, Button, Reply, Section
from commands.text import truncate

# Words that introduce a due date at the end of a title ("… by friday", "… due end of month").
FILLERS = frozenset({"by", "due", "before", "until", "till", "on", "for"})
# Read as dates, but as the last words of a title they are as likely part of it ("Respite for 2 weeks",
# "… we may"): hinted only after a filler word.
_LOOSE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*|\d+\s+(?:day|week|month|year)s?",
    re.I,
)


@dataclass(frozen=True)
class TitleDate:
    phrase: str  # the date words, without the filler before them: "friday"
    reading: DateReading
    title_without: str  # the title with the filler and the date words taken off: "Review CAF"


def trailing_date(tokens: list[Token], today: date) -> TitleDate | None:
    """The longest run of the title's last plain words (quoted text is meant as typed) that reads as a date,
    leaving a title in front of it; None when there is none."""
    free = [t for t in tokens if t.kind in (Kind.WORD, Kind.QUOTED)]
    plain: list[str] = []
    for token in reversed(free):
        if token.kind != Kind.WORD:
            break
        plain.insert(0, token.text)
    title = [t.text for t in free]
    for n in range(min(MAX_PREFIX_WORDS, len(plain), len(title) - 1), 0, -1):
        phrase_words = title[-n:]
        filler = 0
        while filler < len(phrase_words) and phrase_words[filler].lower() in FILLERS:
            filler += 1
        phrase = " ".join(phrase_words[filler:])
        if not phrase or not any(is_date_word(w) for w in phrase_words[filler:]):
            continue
        if not filler and _LOOSE.fullmatch(phrase):
            continue
        try:
            reading = read_date(phrase, today)
        except DateError:
            continue
        return TitleDate(phrase, reading, " ".join(title[:-n]))
    return None


def hint(found: TitleDate, title: str, number: int) -> Mrkdwn:
    """`Did you mean due:friday (Fri 27 Nov 2026)? The title was saved as …` with the commands that set it."""
    day = format_date(found.reading.day)
    keep = code(f"/ecm update {number} due:{found.phrase}")
    shorten = code(f'/ecm update {number} due:{found.phrase} title:"{found.title_without}"')
    return md(
        ":calendar: Did you mean {} ({})? The title was saved as “{}”, with no due date. "
        "To make it the due date: {}, or {} to take the words off the title too.",
        code(f"due:{found.phrase}"),
        day,
        title,
        keep,
        shorten,
    )


def hint_reply(found: TitleDate, title: str, number: int) -> Reply:
    """The hint, asking with buttons: make the phrase the due date, keeping the title or taking the words
    off it. Each runs `/ecm update` as whoever clicks (the usual permission check and retry guard)."""
    note = hint(found, title, number)
    day = found.reading.day
    buttons = [
        Button(f"Make it due {format_date(day)}", RUN_COMMAND, f"update {number} due:{day}", "primary")
    ]
    # The value is read back as typed text: only a title with nothing Slack escapes (or that closes the
    # quotes) goes in it, so a button can never turn typed text into a mention or a link.
    if found.title_without and not any(c in found.title_without for c in '"<>&'):
        buttons.append(
            Button(
                truncate(f"Due {format_date(day)}, title “{found.title_without}”", 75),
                RUN_COMMAND,
                f'update {number} due:{day} title:"{found.title_without}"',
            )
        )
    return Reply(text=note, sections=[Section(note, buttons=buttons)])
