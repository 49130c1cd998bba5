"""The date and time grammar behind `due:` and friends: UK order always, Europe/London wall time.

A small hand-written grammar on purpose: dateutil.parser guesses month-first and happily accepts junk,
and a wrong due date is worse than an error. Nothing here reads the clock; callers pass `today`.

What the loose phrases mean (said back to the user in a note, so a slip is caught at once):
- `friday`, `next friday`, `this coming friday`: the first Friday after today (on a Friday, a week
  today). `this friday` is today on a Friday. `friday week` (or `a week on friday`) is a week after that.
  `friday next week` is the Friday of next week (weeks run Monday to Sunday).
- `this week` / `end of week`: Friday of this week (at the weekend, the coming Friday); `next week`,
  `end of next week`: Friday of next week. `next month`, `March`, `March 2027`: the end of that month.
- `w/c 7 Dec` (week commencing, a Monday): the Friday of that week. `mid March`: the 15th.
- `by Christmas` / `by Easter`: the last working day before Christmas Day / Good Friday.
- A day and month with no year is the next one on or after today (`28/01` in November is next January).
- Times (`friday 5pm`, `cob friday`) are allowed, but due dates are whole days, so only the day is kept.
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

from commands.mrkdwn import Mrkdwn, md
from commands.numbers import MAX_DIGITS, is_number, whole_number
from commands.workdays import add_working_days, bank_holiday_name, is_working_day, next_working_day

DATE_EXAMPLES = "28/08/2026, 28 Aug, next friday, in 2 weeks, end of month"
MORE_DATE_EXAMPLES = (
    "friday week, next week, in 2 weeks' time, in 3 working days, end of next month, March 2027, "
    "w/c 7 Dec, mid-January, by Christmas"
)
# What the loose phrases mean, for `/ecm help` (kept next to the grammar that implements it).
DATE_MEANINGS = (
    "`next friday` is the coming Friday (on a Friday, a week today); `friday week` the one after. "
    "`next week` and `w/c 7 Dec` mean the Friday of that week; `next month` and `March 2027` the end of "
    "that month; `by Christmas` the last working day before it. A date with no year is the next one."
)
TIME_EXAMPLES = "10:00, 9:30, 10am, 2.30pm, 14:00"

MAX_PREFIX_WORDS = 8  # "by close of play on friday 11 dec 2026"
_MAX_WORKING_DAYS = 5000  # about 20 years; stops "in 999999999 working days" from spinning

_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_WEEKDAYS: dict[str, int] = {
    **{name.lower(): i for i, name in enumerate(_DAY_NAMES)},
    **{abbr.lower(): i for i, abbr in enumerate(_DAY_ABBR)},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}  # fmt: skip
_MONTHS: dict[str, int] = {
    **{name.lower(): i + 1 for i, name in enumerate(_MONTH_NAMES)},
    **{abbr.lower(): i + 1 for i, abbr in enumerate(_MONTH_ABBR)},
    "sept": 9,
}
_SMALL_NUMBERS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2,
}  # fmt: skip

_WD = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))  # longest first so "thursday" beats "thu"
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUM = r"\d+|" + "|".join(sorted(_SMALL_NUMBERS, key=len, reverse=True))
_YEAR = r"\d{4}|'\d{2}"  # word forms take a four-digit year (or '27), so "28 Aug 12 schools" isn't 2012
_ORD = r"(\d{1,2})(st|nd|rd|th)"

_ISO_RE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
_DMY_RE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})")
_DM_RE = re.compile(r"(\d{1,2})[/.-](\d{1,2})")
_DAY_MONTH_RE = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? ({_MON})(?: ({_YEAR}))?")
_MONTH_DAY_RE = re.compile(rf"({_MON}) (?:the )?(\d{{1,2}})(?:st|nd|rd|th)?(?: ({_YEAR}))?")
_ORDINAL_RE = re.compile(rf"(?:the )?{_ORD}(?: of (this|next) month)?")
_WEEKDAY_PREFIX_RE = re.compile(rf"({_WD}) (?:the )?(.+)")
_WEEKDAY_RE = re.compile(rf"(?:(next|this|this coming|the coming|coming) )?({_WD})")
_WEEKDAY_WEEK_RE = re.compile(rf"({_WD}) week|a week (?:on )?({_WD})|(?:the )?({_WD}) after next")
_WEEKDAY_NEXT_WEEK_RE = re.compile(
    rf"({_WD}) (?:of )?(next|this) week|(next|this) week(?: on)? ({_WD})|(?:on )?({_WD}) of (next|this) week"
)
_WEEK_TODAY_RE = re.compile(rf"({_NUM}) (weeks?|fortnights?) (today|tomorrow)")
_IN_RE = re.compile(
    rf"(?:in |within )?({_NUM}) (working |business )?(days?|weeks?|fortnights?|months?|years?)"
    r"(?:'s|')?(?: time)?(?: from (?:now|today))?"
)
_PERIOD_RE = re.compile(
    r"(?:the )?(?:(this|next) (week|month|year|quarter)|(week|month) after next)|(?:the |this )?weekend"
)
_END_RE = re.compile(
    rf"(?:the )?end of (?:the |this )?(?:(week|month|year|quarter|financial year|fy)"
    rf"|next (week|month|year|quarter|financial year)|(?:the )?(week|month) after next"
    rf"|(?:next )?({_MON})(?: ({_YEAR}))?|(\d{{4}}))"
    r"|(?:month|quarter)[- ]end"
)
_START_RE = re.compile(
    rf"(?:the )?(?:start|beginning) of (?:the )?(?:next (week|month|year)|(?:next )?({_MON})(?: ({_YEAR}))?)"
)
_MID_RE = re.compile(
    rf"(?:mid|the middle of|middle of)[- ](?:next (month)|(?:next )?({_MON})(?: ({_YEAR}))?)"
)
_MONTH_RE = re.compile(rf"(?:(next) )?({_MON})(?: ({_YEAR}))?")
_WEEK_COMMENCING_RE = re.compile(
    r"(?:w/c|w/b|wc|wb|week commencing|week beginning|week starting|the week of|week of) (?:mon(?:day)? )?(.+)"
)
_FESTIVALS = ("christmas", "xmas", "easter")
_FIXED_DAYS = {
    "christmas eve": (12, 24), "christmas day": (12, 25), "boxing day": (12, 26),
    "new year's eve": (12, 31), "new years eve": (12, 31), "new year's day": (1, 1), "new years day": (1, 1),
}  # fmt: skip

# Times are read and then dropped: a due date is a day.
_CLOCK = r"\d{1,2}(?:[:.]\d{2})? ?(?:am|pm)|\d{1,2}:\d{2}|noon|midday"
_DAY_PARTS = (
    r"eod|cob|cop|close of (?:play|business)|end of (?:the )?(?:working )?day|end of play|first thing"
    r"|lunchtime|morning|afternoon|evening|am|pm"
)
_TIME_12H_RE = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?(am|pm)")
_TIME_24H_RE = re.compile(r"(\d{1,2})[:.](\d{2})")
_TIME_PREFIX_RE = re.compile(rf"(?:(?:at|by|before) )?(?:({_CLOCK})|{_DAY_PARTS})(?: (?:on|of))? (.+)")
_TIME_SUFFIX_RE = re.compile(
    rf"(.+?) (?:(?:at|by|before|around|in the|on the) )?(?:({_CLOCK})|{_DAY_PARTS})|(.+?) at (\d{{1,2}}(?:[.]\d{{2}})?)"
)
_TIME_ONLY_RE = re.compile(rf"(?:by |at )?(?:{_DAY_PARTS}|end of (?:the )?(?:working )?day)(?: today)?")
_FILLER_PREFIX_RE = re.compile(r"(?:by|on|for|due|due by|due on|(?:no|not) later than|latest) (.+)")
_FILLER_SUFFIX_RE = re.compile(r"(.+?) (?:at the latest|at latest|latest|or sooner|or earlier)")

_NOT_DATES: dict[str, str] = {
    **dict.fromkeys(("asap", "soon", "urgent", "urgently", "immediately", "now"), "urgent"),
    **dict.fromkeys(("tbc", "tba", "tbd", "ongoing", "n/a", "na", "none", "unknown", "rolling"), "none"),
    **dict.fromkeys(
        ("half term", "end of term", "end of the term", "summer holidays", "the summer holidays", "summer",
         "the summer", "end of the school year", "end of the academic year", "autumn", "spring", "winter"),
        "term",
    ),
}  # fmt: skip

# Words that can belong to a date phrase: a word after a date that is one of these (or has a digit in it)
# was probably meant as part of the date, so it must not quietly become part of a title.
DATE_WORDS = frozenset(
    set(_WEEKDAYS) | set(_MONTHS) | (set(_SMALL_NUMBERS) - {"a", "an", "a couple of"})
    | {"today", "tomorrow", "tmrw", "tonight", "week", "weeks", "week's", "weeks'", "fortnight",
       "fortnights", "fortnight's", "time", "day", "days", "month", "months", "year", "years", "next",
       "this", "coming", "of", "the", "end", "start", "beginning", "mid", "middle", "by", "on", "at", "am",
       "pm", "noon", "midday", "eod", "cob", "eow", "eom", "eoy", "latest", "working", "business",
       "christmas", "xmas", "easter", "w/c", "wc", "w/b", "commencing", "after", "from", "now",
       "quarter", "morning", "afternoon", "evening", "close", "play", "weekend", "financial", "fy", "ish",
       "or", "sooner", "earlier", "within"}
)  # fmt: skip
# What a misspelt word in a date is compared with, for "did you mean".
_SPELLINGS = tuple(n.lower() for n in _DAY_NAMES + _MONTH_NAMES) + (
    "today", "tomorrow", "week", "weeks", "fortnight", "month", "months", "next", "working", "christmas",
    "easter", "end", "time", "days",
)  # fmt: skip


class DateError(ValueError):
    """Bad date or time input; `str(e)` is a sentence for the user saying what was wrong, with examples."""


class _ImpossibleDate(DateError):
    """The text had the shape of a date but names no real day (31/02/2026, a weekday that doesn't match).

    parse_date_prefix stops on this rather than falling back to a shorter prefix: the user clearly meant
    the longer text, and quietly using "29 feb" out of "29 feb 2027" would set the wrong date.
    """


@dataclass(frozen=True)
class DateReading:
    """A date as read from what someone typed, and how a loose phrase was understood."""

    typed: str
    day: date
    meaning: str = ""  # "the end of next week": said back, so a loose phrase is checked by its author
    next_year: bool = False  # no year was typed and this year's has passed
    dropped_time: str = ""  # "5pm" of "friday 5pm": a due date is a whole day
    # When the phrase names a whole period (`March`, `March 2026`, `this month`, `next week`, `w/c 7 Dec`,
    # `this quarter`, `next year`), its first and last day. `day` is its end (a due date); a `since:`
    # filter reads the start instead (`since:march` is 1 March): see `commands.meeting_view.past_date`.
    period: tuple[date, date] | None = None

    def notes(self) -> list[Mrkdwn]:
        """Sentences (mrkdwn, escaped) saying how the phrase was read; none for a plain date."""
        notes: list[Mrkdwn] = []
        if self.meaning or self.next_year:
            how = f" ({self.meaning})" if self.meaning else ""
            if self.next_year:
                how += f": no year was given and that has passed in {self.day.year - 1}"
            notes.append(md("Read “{}” as *{}*{}.", self.typed.strip(), format_date(self.day), how))
        if self.dropped_time:
            notes.append(md("Due dates are whole days, so the time ({}) isn't kept.", self.dropped_time))
        return notes


def working_day_note(d: date) -> str | None:
    """For a due date on a weekend or bank holiday: which day it is and the next working day."""
    if is_working_day(d):
        return None
    holiday = bank_holiday_name(d)
    if d.weekday() >= 5:
        what = f"a {_DAY_NAMES[d.weekday()]}" + (f" ({holiday})" if holiday else "")
    else:
        what = f"a bank holiday ({holiday})"
    return (
        f"{format_date(d)} is {what}. I kept it as the due date; the next working day is "
        f"{format_date(next_working_day(d))}."
    )


def _try_line() -> str:
    head, _, last = DATE_EXAMPLES.rpartition(", ")
    return f"Try {head} or {last}."


def _did_you_mean(s: str) -> str:
    for word in s.split():
        if len(word) < 3 or word in DATE_WORDS or word in _SPELLINGS or not word.isalpha():
            continue
        close = difflib.get_close_matches(word, _SPELLINGS, n=1, cutoff=0.7)
        if close:
            return f" (did you mean “{close[0]}”?)"
    return ""


def _unreadable(text: str) -> DateError:
    s = _normalise(text)
    if s in _NOT_DATES:
        reason = _NOT_DATES[s]
        if reason == "urgent":
            why = "give the day it is needed by, e.g. `due:friday` or `due:in 3 working days`"
        elif reason == "none":
            why = "leave `due:` out until there is a date (`due:none` clears one)"
        else:
            why = "school terms and holidays differ between schools and districts, so give the day, e.g. `due:17/07/2027`"
        return DateError(f'"{text.strip()}" isn\'t a date: {why}.')
    return DateError(f'I couldn\'t read "{text.strip()}" as a date{_did_you_mean(s)}. {_try_line()}')


def _impossible(text: str, why: str) -> _ImpossibleDate:
    return _ImpossibleDate(f'"{text.strip()}" isn\'t a real date: {why}. {_try_line()}')


def _too_far(text: str) -> _ImpossibleDate:
    return _ImpossibleDate(f'"{text.strip()}" is too far ahead. {_try_line()}')


def _normalise(text: str) -> str:
    s = text.strip().strip('"“”`').strip().lower()
    s = s.replace("’", "'").replace("‘", "'").strip("'").strip()
    s = s.rstrip(",;:!?.")  # "friday," or "28 aug." as typed mid-sentence
    s = s.replace(",", " ")  # "friday, 28 august 2026" / "august 28, 2026"
    s = re.sub(r"(?<=[a-z])\.", "", s)  # "28 aug. 2026", "w.c." -> "wc"; numeric "28.08.2026" keeps its dots
    s = re.sub(r"\b(mid|w/c|w/b)-", r"\1 ", s)  # "mid-march", "w/c-7 dec"
    return re.sub(r"\s+", " ", s).strip()


def _year(raw: str) -> int:
    raw = raw.lstrip("'")
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _make(text: str, year: int, month: int, day: int, *, day_first_hint: bool = False) -> date:
    """date(year, month, day), or a user-facing _ImpossibleDate saying why not."""
    if not 1 <= month <= 12:
        why = f"there's no month {month}"
        if day_first_hint and 1 <= day <= 12:
            # Most likely typed in US order: point that out rather than guess.
            why += f" (dates are day first: did you mean {month:02d}/{day:02d}/{year}?)"
        raise _impossible(text, why)
    if year < 1 or year > 9999:
        raise _impossible(text, f"the year {year} is out of range")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise _impossible(text, f"{_MONTH_NAMES[month - 1]} {year} has {last} days")
    return date(year, month, day)


def _on_or_after(text: str, today: date, month: int, day: int, *, day_first_hint: bool = False) -> date:
    """The next `day` `month` on or after today: this year's, or next year's once this year's has passed.

    The year is settled first and the day checked in it, so "29/02" in November 2026 is refused
    (February 2027 has 28 days) rather than quietly meaning 29 Feb 2028.
    """
    if not 1 <= month <= 12:
        why = f"there's no month {month}"
        if day_first_hint and 1 <= day <= 12:
            why += f" (dates are day first: did you mean {month:02d}/{day:02d}?)"
        raise _impossible(text, why)
    year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    return _make(text, year, month, day)


def _next_weekday(today: date, weekday: int) -> date:
    """The next such weekday strictly after today (on a Friday, "friday" means a week today)."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _check_weekday(text: str, d: date, weekday: str | None) -> date:
    if weekday is not None and d.weekday() != _WEEKDAYS[weekday]:
        # "Fri 28 Aug 2027" when the 28th is a Saturday: one of the two is a typo, so ask.
        actual, typed = _DAY_NAMES[d.weekday()], _DAY_NAMES[_WEEKDAYS[weekday]]
        raise _ImpossibleDate(
            f'"{text.strip()}" doesn\'t add up: {d.day} {_MONTH_ABBR[d.month - 1]} {d.year} is a {actual}, '
            f"not a {typed}. {_try_line()}"
        )
    return d


def _amount(raw: str) -> int:
    # The patterns' \d also matches other scripts' digits; only ASCII digits are read as a number here.
    if raw in _SMALL_NUMBERS:
        return _SMALL_NUMBERS[raw]
    if is_number(raw) and len(raw) > MAX_DIGITS:
        return 10**MAX_DIGITS  # far past any horizon: refused below as "too far ahead"
    number = whole_number(raw)
    if number is None:
        raise DateError(f'"{raw}" is not a number I can read; write it with digits 0-9.')
    return number


def _in(text: str, today: date, amount: str, working: bool, unit: str) -> date:
    n = _amount(amount)
    if working:
        if not unit.startswith("day"):
            raise _unreadable(text)  # "in 2 working weeks" is not a thing people mean precisely
        if n > _MAX_WORKING_DAYS:
            raise _too_far(text)
        return add_working_days(today, n)
    try:
        if unit.startswith("day"):
            return today + timedelta(days=n)
        if unit.startswith("week"):
            return today + timedelta(weeks=n)
        if unit.startswith("fortnight"):
            return today + timedelta(weeks=2 * n)
        if unit.startswith("month"):
            return today + relativedelta(months=n)  # 31 Jan + 1 month = 28/29 Feb, never 3 Mar
        return today + relativedelta(years=n)
    except (OverflowError, ValueError):  # past year 9999
        raise _too_far(text) from None


def _end_of_quarter(d: date) -> date:
    month = (d.month - 1) // 3 * 3 + 3
    return _last_day(d.year, month)


def _end_of(today: date, what: str) -> date:
    if what == "week":
        # Friday of this week; at the weekend the week's work is done, so the coming Friday.
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if what == "month":
        return _last_day(today.year, today.month)
    if what == "year":
        return date(today.year, 12, 31)
    if what == "quarter":
        return _end_of_quarter(today)
    if what in ("financial year", "fy"):  # the public sector's year ends on 31 March
        return date(today.year if today.month <= 3 else today.year + 1, 3, 31)
    month = _MONTHS[what]
    year = today.year if month >= today.month else today.year + 1
    return _last_day(year, month)


def _month_year(text: str, today: date, name: str, year: str | None, *, skip_this: bool = False) -> date:
    """The month named, in the year given, else the coming one (this month counts unless `skip_this`)."""
    month = _MONTHS[name]
    if year:
        return _make(text, _year(year), month, 1)
    if month > today.month or (month == today.month and not skip_this):
        return date(today.year, month, 1)
    return date(today.year + 1, month, 1)


def _festival(name: str, today: date) -> tuple[date, str]:
    """By Christmas / by Easter: the last working day before Christmas Day / Good Friday."""
    year = today.year
    while True:
        if name == "easter":
            holiday, label = easter(year) - timedelta(days=2), "Good Friday"
        else:
            holiday, label = date(year, 12, 25), "Christmas Day"
        day = add_working_days(holiday, -1)
        if day >= today:
            return day, f"the last working day before {label}"
        year += 1


@dataclass
class _Read:
    day: date
    meaning: str = ""
    next_year: bool = False
    period: tuple[date, date] | None = None  # the first and last day of a period named (`March`, `next week`)


def _explicit(text: str, s: str, today: date) -> _Read | None:
    """Dates written out: 28/08/2026, 28/08, 2026-08-28, 28 Aug [2026], Aug 28th, the 28th."""
    if m := _ISO_RE.fullmatch(s):
        return _Read(_make(text, int(m[1]), int(m[3]), int(m[4])))
    if m := _DMY_RE.fullmatch(s):
        return _Read(_make(text, _year(m[4]), int(m[3]), int(m[1]), day_first_hint=True))
    if m := _DM_RE.fullmatch(s):
        d = _on_or_after(text, today, int(m[2]), int(m[1]), day_first_hint=True)
        return _Read(d, next_year=d.year > today.year)
    day_month: tuple[int, int, str | None] | None = None
    if m := _DAY_MONTH_RE.fullmatch(s):
        day_month = int(m[1]), _MONTHS[m[2]], m[3]
    elif m := _MONTH_DAY_RE.fullmatch(s):
        day_month = int(m[2]), _MONTHS[m[1]], m[3]
    if day_month:
        day, month, year = day_month
        if year:
            return _Read(_make(text, _year(year), month, day))
        d = _on_or_after(text, today, month, day)
        return _Read(d, next_year=d.year > today.year)
    if m := _ORDINAL_RE.fullmatch(s):
        day = int(m[1])
        first = today.replace(day=1)
        if m[3] == "next" or (m[3] is None and day < today.day):
            first += relativedelta(months=1)
        d = _make(text, first.year, first.month, day)
        return _Read(d, meaning=f"the {m[1]}{m[2]} of {_MONTH_NAMES[d.month - 1]}")
    return None


def _read_core(text: str, s: str, today: date) -> _Read | None:
    """The date phrase `s` (normalised, fillers and times removed) relative to `today`, or None."""
    if s in ("today", "tonight"):
        return _Read(today)
    if s in ("tomorrow", "tmrw", "tomoz"):
        return _Read(today + timedelta(days=1))
    if s in ("the day after tomorrow", "day after tomorrow"):
        return _Read(today + timedelta(days=2))
    shortcuts = {"eow": "week", "eom": "month", "eoy": "year"}
    if s in shortcuts:
        return _Read(_end_of(today, shortcuts[s]))
    if s in _FIXED_DAYS:
        month, day = _FIXED_DAYS[s]
        d = _on_or_after(text, today, month, day)
        return _Read(d, next_year=d.year > today.year)
    if s in _FESTIVALS:
        before, meaning = _festival("easter" if s == "easter" else "christmas", today)
        return _Read(before, meaning=meaning)

    if found := _explicit(text, s, today):
        return found
    if (m := _WEEKDAY_PREFIX_RE.fullmatch(s)) and (found := _explicit(text, m[2], today)):
        found.day = _check_weekday(text, found.day, m[1])
        found.meaning = ""  # the weekday already confirms it
        return found

    if m := _WEEKDAY_RE.fullmatch(s):
        weekday = _WEEKDAYS[m[2]]
        name = _DAY_NAMES[weekday]
        if m[1] == "this" and today.weekday() <= weekday:
            return _Read(today + timedelta(days=weekday - today.weekday()))  # still ahead (or today)
        d = _next_weekday(today, weekday)
        if m[1] == "next":
            # British usage differs here, so the reading is always said back.
            return _Read(d, meaning=f"the coming {name}; for the one after, write “{name.lower()} week”")
        return _Read(d)
    if m := _WEEKDAY_WEEK_RE.fullmatch(s):
        weekday = _WEEKDAYS[m[1] or m[2] or m[3]]
        name = _DAY_NAMES[weekday]
        return _Read(
            _next_weekday(today, weekday) + timedelta(weeks=1), meaning=f"a week after the coming {name}"
        )
    if m := _WEEKDAY_NEXT_WEEK_RE.fullmatch(s):
        weekday = _WEEKDAYS[m[1] or m[4] or m[5]]
        which = m[2] or m[3] or m[6]
        monday = _monday(today) + timedelta(weeks=1 if which == "next" else 0)
        return _Read(monday + timedelta(days=weekday), meaning=f"{which} week's {_DAY_NAMES[weekday]}")
    if m := _WEEK_TODAY_RE.fullmatch(s):
        base = today if m[3] == "today" else today + timedelta(days=1)
        weeks = _amount(m[1]) * (2 if m[2].startswith("fortnight") else 1)
        return _Read(base + timedelta(weeks=weeks))
    if m := _IN_RE.fullmatch(s):
        meaning = "a couple taken as two" if m[1] == "a couple of" else ""
        return _Read(_in(text, today, m[1], bool(m[2]), m[3]), meaning=meaning)

    if m := _PERIOD_RE.fullmatch(s):
        which, unit = (m[1], m[2]) if m[1] else ("after next", m[3]) if m[3] else ("this", "weekend")
        return _period(today, which, unit)
    if m := _END_RE.fullmatch(s):
        return _end_phrase(text, s, m, today)
    if m := _START_RE.fullmatch(s):
        if m[1] == "week":
            return _Read(_monday(today) + timedelta(weeks=1), meaning="the Monday of next week")
        if m[1] == "month":
            first = today.replace(day=1) + relativedelta(months=1)
            return _Read(first, meaning="the first day of next month")
        if m[1] == "year":
            return _Read(date(today.year + 1, 1, 1), meaning="the first day of next year")
        first = _month_year(text, today, m[2], m[3], skip_this=True)
        return _Read(
            first,
            meaning=f"the start of {_MONTH_NAMES[first.month - 1]}",
            next_year=_rolled(m[3], first, today),
        )
    if m := _MID_RE.fullmatch(s):
        if m[1]:
            mid = (today.replace(day=1) + relativedelta(months=1)).replace(day=15)
        else:
            mid = _month_year(text, today, m[2], m[3]).replace(day=15)
            if mid < today and not m[3]:
                mid = mid.replace(year=mid.year + 1)
        return _Read(
            mid,
            meaning=f"the middle of {_MONTH_NAMES[mid.month - 1]}",
            next_year=not m[1] and _rolled(m[3], mid, today),
        )
    if m := _WEEK_COMMENCING_RE.fullmatch(s):
        inner = _explicit(text, m[1], today)
        if inner is None:
            return None
        monday = inner.day
        if monday.weekday() != 0:
            raise _ImpossibleDate(
                f'"{text.strip()}" doesn\'t add up: a week commencing is a Monday, and {format_date(monday)} '
                f"is a {_DAY_NAMES[monday.weekday()]} (did you mean w/c {format_date(_monday(monday))}?)."
            )
        return _Read(
            monday + timedelta(days=4),
            meaning=f"the end of the week commencing {format_date(monday)}",
            next_year=inner.next_year,
            period=(monday, monday + timedelta(days=4)),
        )
    if m := _MONTH_RE.fullmatch(s):
        first = _month_year(text, today, m[2], m[3], skip_this=bool(m[1]))
        end = _last_day(first.year, first.month)
        return _Read(
            end,
            meaning=f"the end of {_MONTH_NAMES[end.month - 1]}",
            next_year=_rolled(m[3], end, today),
            period=(first, end),
        )
    return None


def _rolled(year_typed: str | None, d: date, today: date) -> bool:
    return not year_typed and d.year > today.year


def _period(today: date, which: str, unit: str) -> _Read:
    """this/next week|month|year|quarter, the week/month after next, the weekend."""
    if unit in ("week", "weekend"):
        if which == "this":
            end = _end_of(today, "week")
            return _Read(end, meaning="the end of this week", period=(end - timedelta(days=4), end))
        weeks = 1 if which == "next" else 2
        label = "next week" if which == "next" else "the week after next"
        monday = _monday(today) + timedelta(weeks=weeks)
        return _Read(
            monday + timedelta(days=4),
            meaning=f"the end of {label}",
            period=(monday, monday + timedelta(days=4)),
        )
    if unit == "month":
        months = {"this": 0, "next": 1}.get(which, 2)
        first = today.replace(day=1) + relativedelta(months=months)
        label = {"this": "this month", "next": "next month"}.get(which, "the month after next")
        end = _last_day(first.year, first.month)
        return _Read(end, meaning=f"the end of {label}", period=(first, end))
    if unit == "quarter":
        d = _end_of_quarter(today)
        if which == "next":
            d = _end_of_quarter(d + timedelta(days=1))
        return _Read(d, meaning=f"the end of {which} quarter", period=(date(d.year, d.month - 2, 1), d))
    year = today.year + (1 if which == "next" else 0)
    return _Read(
        date(year, 12, 31), meaning=f"the end of {which} year", period=(date(year, 1, 1), date(year, 12, 31))
    )


def _ended(read: _Read) -> _Read:
    """`end of next week` names a day, the period's end, not the period: `since:` reads it as typed."""
    read.period = None
    return read


def _end_phrase(text: str, s: str, m: re.Match[str], today: date) -> _Read:
    if s in ("month end", "month-end"):
        return _Read(_end_of(today, "month"))
    if s in ("quarter end", "quarter-end"):
        return _Read(_end_of(today, "quarter"), meaning="the end of this quarter")
    if m[1]:
        meanings = {
            "quarter": "the end of this quarter",
            "financial year": "the end of the financial year",
            "fy": "the end of the financial year",
        }
        return _Read(_end_of(today, m[1]), meaning=meanings.get(m[1], ""))
    if m[2]:
        if m[2] == "financial year":
            d = _end_of(today, "financial year")
            return _Read(d.replace(year=d.year + 1), meaning="the end of next financial year")
        return _ended(_period(today, "next", m[2]))
    if m[3]:
        return _ended(_period(today, "after next", m[3]))
    if m[4]:
        first = _month_year(text, today, m[4], m[5], skip_this=s.startswith("end of next "))
        end = _last_day(first.year, first.month)
        return _Read(end, next_year=_rolled(m[5], end, today))
    return _Read(_make(text, int(m[6]), 12, 31))


def _strip(s: str) -> tuple[str, str]:
    """Removes fillers ("by", "at the latest") and times of day; returns (the date part, a clock time)."""
    clock = ""
    for _ in range(3):  # "by close of play on friday", "friday 5pm at the latest"
        before = s
        if m := _FILLER_PREFIX_RE.fullmatch(s):
            s = m[1]
        if m := _FILLER_SUFFIX_RE.fullmatch(s):
            s = m[1]
        if _TIME_ONLY_RE.fullmatch(s):
            return "today", clock
        if m := _TIME_PREFIX_RE.fullmatch(s):
            clock, s = clock or (m[1] or ""), m[2]
        elif m := _TIME_SUFFIX_RE.fullmatch(s):
            if m[1] is not None:
                clock, s = clock or (m[2] or ""), m[1]
            else:
                clock, s = clock or m[4], m[3]
        if s == before:
            break
    return s, clock


def read_date(text: str, today: date) -> DateReading:
    """Reads a date the way a UK user types it (day first, always), relative to `today`, and says how.

    Raises DateError with a user-facing message for anything it cannot read or that is not a real date.
    """
    s = _normalise(text)
    if not s:
        raise DateError(f"Please give a date. {_try_line()}")
    found = _read_core(text, s, today)
    clock = ""
    if found is None:
        core, clock = _strip(s)
        if core != s:
            found = _read_core(text, core, today)
    if found is None:
        raise _unreadable(text)
    if found.day.year > 9999:
        raise _too_far(text)
    return DateReading(text.strip(), found.day, found.meaning, found.next_year, clock, found.period)


def parse_date(text: str, today: date) -> date:
    """Reads a date the way a UK user types it (day first, always), relative to `today`.

    Raises DateError with a user-facing message for anything it cannot read or that is not a real date.
    """
    return read_date(text, today).day


def read_date_prefix(
    words: list[str], today: date, *, strict: bool = False
) -> tuple[DateReading, int] | None:
    """The longest run of leading words (up to MAX_PREFIX_WORDS) that reads as a date, with how many.

    Lets users type `due:next friday` or `due:in 2 weeks' time` without quotes.
    If a longer run is clearly meant as a date but is impossible ("29 feb 2027", "fri 29 aug 2026" when
    that is a Saturday) it does not settle for a shorter run such as "29 feb": it returns None, or with
    `strict=True` raises that DateError so the caller can show it.
    """
    for n in range(min(MAX_PREFIX_WORDS, len(words)), 0, -1):
        try:
            return read_date(" ".join(words[:n]), today), n
        except _ImpossibleDate:
            if strict:
                raise
            return None
        except DateError:
            continue
    return None


def parse_date_prefix(words: list[str], today: date, *, strict: bool = False) -> tuple[date, int] | None:
    """As read_date_prefix, giving just the date."""
    found = read_date_prefix(words, today, strict=strict)
    return (found[0].day, found[1]) if found else None


def is_date_word(word: str) -> bool:
    """Could this word be part of a date phrase (a number, a month, "time", a misspelt weekday …)?"""
    w = word.strip().lower().strip("\"'“”‘’,.;:!?()")
    if not w:
        return False
    if any(c.isdigit() for c in w) or w in DATE_WORDS:
        return True
    return len(w) >= 4 and bool(difflib.get_close_matches(w, _SPELLINGS[:19], n=1, cutoff=0.75))


def parse_time(text: str) -> time:
    """Reads "10:00", "9:30", "10am", "2.30pm", "14:00", "noon"; raises DateError otherwise."""
    s = re.sub(r"\s+", "", text.strip().lower()).rstrip(",;!?").replace("a.m.", "am").replace("p.m.", "pm")
    if s in ("noon", "midday", "12noon"):
        return time(12, 0)
    if m := _TIME_12H_RE.fullmatch(s):
        hour, minute = int(m[1]), int(m[2] or 0)
        if 1 <= hour <= 12 and minute < 60:
            return time(hour % 12 + (12 if m[3] == "pm" else 0), minute)
    elif (m := _TIME_24H_RE.fullmatch(s)) and int(m[1]) < 24 and int(m[2]) < 60:
        # A bare "10" is not accepted: 10 in the morning or 22:00 is a guess we won't make.
        return time(int(m[1]), int(m[2]))
    head, _, last = TIME_EXAMPLES.rpartition(", ")
    raise DateError(f'I couldn\'t read "{text.strip()}" as a time. Try {head} or {last}.')


def format_date(d: date) -> str:
    """UK style "Fri 28 Aug 2026"; built by hand so the server's locale can't change it."""
    return f"{_DAY_ABBR[d.weekday()]} {d.day} {_MONTH_ABBR[d.month - 1]} {d.year}"


def format_datetime(dt: datetime, tz: str = "Europe/London") -> str:
    """ "Fri 28 Aug 2026, 10:00" as wall time in `tz`.

    A naive `dt` is taken to be UTC: that is how SQLite hands back stored UTC timestamps.
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    local = dt.astimezone(ZoneInfo(tz))
    return f"{format_date(local.date())}, {local:%H:%M}"
