"""The date and time grammar behind `due:` and friends: UK order always, Europe/London wall time.

A small hand-written grammar on purpose: dateutil.parser guesses month-first and happily accepts junk,
and a wrong due date is worse than an error. Nothing here reads the clock; callers pass `today`.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from commands.workdays import add_working_days

DATE_EXAMPLES = "28/08/2026, 28 Aug, next friday, in 2 weeks, end of month"
TIME_EXAMPLES = "10:00, 9:30, 10am, 2.30pm, 14:00"

_MAX_PREFIX_WORDS = 4
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
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

_WD = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))  # longest first so "thursday" beats "thu"
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUM = r"\d+|" + "|".join(_SMALL_NUMBERS)

_ISO_RE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
_DMY_RE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})")
_DM_RE = re.compile(r"(\d{1,2})[/.-](\d{1,2})")
_WEEKDAY_RE = re.compile(rf"(?:(next|this) )?({_WD})")
_IN_RE = re.compile(rf"in ({_NUM}) (working |business )?(days?|weeks?|months?|years?)")
_END_RE = re.compile(rf"end of (?:the |this )?(week|month|year|{_MON})")
# Word forms take a four-digit year only, so `due:28 Aug 12 schools` is not read as 28 Aug 2012.
_DAY_MONTH_RE = re.compile(rf"(?:({_WD}) )?(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? ({_MON})(?: (\d{{4}}))?")
_MONTH_DAY_RE = re.compile(rf"(?:({_WD}) )?({_MON}) (\d{{1,2}})(?:st|nd|rd|th)?(?: (\d{{4}}))?")

_TIME_12H_RE = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?(am|pm)")
_TIME_24H_RE = re.compile(r"(\d{1,2})[:.](\d{2})")


class DateError(ValueError):
    """Bad date or time input; `str(e)` is a sentence for the user saying what was wrong, with examples."""


class _ImpossibleDate(DateError):
    """The text had the shape of a date but names no real day (31/02/2026, a weekday that doesn't match).

    parse_date_prefix stops on this rather than falling back to a shorter prefix: the user clearly meant
    the longer text, and quietly using "29 feb" out of "29 feb 2027" would set the wrong date.
    """


def _try_line() -> str:
    head, _, last = DATE_EXAMPLES.rpartition(", ")
    return f"Try {head} or {last}."


def _unreadable(text: str) -> DateError:
    return DateError(f'I couldn\'t read "{text.strip()}" as a date. {_try_line()}')


def _impossible(text: str, why: str) -> _ImpossibleDate:
    return _ImpossibleDate(f'"{text.strip()}" isn\'t a real date: {why}. {_try_line()}')


def _too_far(text: str) -> _ImpossibleDate:
    return _ImpossibleDate(f'"{text.strip()}" is too far ahead. {_try_line()}')


def _normalise(text: str) -> str:
    s = text.strip().strip("\"'“”‘’`").strip().lower()
    s = s.rstrip(",;:!?.")  # "friday," or "28 aug." as typed mid-sentence
    s = s.replace(",", " ")  # "friday, 28 august 2026" / "august 28, 2026"
    s = re.sub(r"(?<=[a-z])\.", "", s)  # "28 aug. 2026"; numeric "28.08.2026" keeps its dots
    return re.sub(r"\s+", " ", s).strip()


def _year(raw: str) -> int:
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


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
    """The first `day` `month` on or after today; a date without a year never means the past."""
    if not 1 <= month <= 12:
        why = f"there's no month {month}"
        if day_first_hint and 1 <= day <= 12:
            why += f" (dates are day first: did you mean {month:02d}/{day:02d}?)"
        raise _impossible(text, why)
    most = 29 if month == 2 else calendar.monthrange(2001, month)[1]
    if not 1 <= day <= most:
        raise _impossible(text, f"{_MONTH_NAMES[month - 1]} has {most} days")
    year = today.year
    while True:  # at most a few turns: 29 Feb waits for the next leap year
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= today:
            return date(year, month, day)
        year += 1


def _next_weekday(today: date, weekday: int) -> date:
    """The next such weekday strictly after today (on a Friday, "friday" means a week today)."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _check_weekday(text: str, d: date, weekday: str | None) -> date:
    if weekday is not None and d.weekday() != _WEEKDAYS[weekday]:
        # "Fri 28 Aug 2027" when the 28th is a Saturday: one of the two is a typo, so ask.
        actual, typed = _DAY_NAMES[d.weekday()], _DAY_NAMES[_WEEKDAYS[weekday]]
        raise _ImpossibleDate(
            f'"{text.strip()}" doesn\'t add up: {d.day} {_MONTH_ABBR[d.month - 1]} {d.year} is a {actual}, '
            f"not a {typed}. {_try_line()}"
        )
    return d


def _in(text: str, today: date, amount: str, working: bool, unit: str) -> date:
    n = int(amount) if amount.isdigit() else _SMALL_NUMBERS[amount]
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
        if unit.startswith("month"):
            return today + relativedelta(months=n)  # 31 Jan + 1 month = 28/29 Feb, never 3 Mar
        return today + relativedelta(years=n)
    except (OverflowError, ValueError):  # past year 9999
        raise _too_far(text) from None


def _end_of(today: date, what: str) -> date:
    if what == "week":
        # Friday of this week; at the weekend the week's work is done, so the coming Friday.
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if what == "month":
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if what == "year":
        return date(today.year, 12, 31)
    month = _MONTHS[what]
    year = today.year if month >= today.month else today.year + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_date(text: str, today: date) -> date:
    """Reads a date the way a UK user types it (day first, always), relative to `today`.

    Raises DateError with a user-facing message for anything it cannot read or that is not a real date.
    """
    s = _normalise(text)
    if not s:
        raise DateError(f"Please give a date. {_try_line()}")

    if s == "today":
        return today
    if s in ("tomorrow", "tmrw"):
        return today + timedelta(days=1)
    shortcuts = {"eow": "week", "eom": "month", "eoy": "year"}
    if s in shortcuts:
        return _end_of(today, shortcuts[s])

    if m := _ISO_RE.fullmatch(s):
        return _make(text, int(m[1]), int(m[3]), int(m[4]))
    if m := _DMY_RE.fullmatch(s):
        return _make(text, _year(m[4]), int(m[3]), int(m[1]), day_first_hint=True)
    if m := _DM_RE.fullmatch(s):
        return _on_or_after(text, today, int(m[2]), int(m[1]), day_first_hint=True)
    if m := _WEEKDAY_RE.fullmatch(s):
        weekday = _WEEKDAYS[m[2]]
        if m[1] == "this" and today.weekday() <= weekday:
            return today + timedelta(days=weekday - today.weekday())  # still ahead (or today) this week
        return _next_weekday(today, weekday)
    if m := _IN_RE.fullmatch(s):
        return _in(text, today, m[1], bool(m[2]), m[3])
    if m := _END_RE.fullmatch(s):
        return _end_of(today, m[1])
    if m := _DAY_MONTH_RE.fullmatch(s):
        weekday, day, month, year = m[1], int(m[2]), _MONTHS[m[3]], m[4]
    elif m := _MONTH_DAY_RE.fullmatch(s):
        weekday, month, day, year = m[1], _MONTHS[m[2]], int(m[3]), m[4]
    else:
        raise _unreadable(text)
    d = _make(text, int(year), month, day) if year else _on_or_after(text, today, month, day)
    return _check_weekday(text, d, weekday)


def parse_date_prefix(words: list[str], today: date, *, strict: bool = False) -> tuple[date, int] | None:
    """The longest run of up to 4 leading words that reads as a date, as (date, words used); None if none.

    Lets users type `due:next friday` or `due:28 Aug 2026 Safeguarding audit` without quotes.
    If a longer run is clearly meant as a date but is impossible ("29 feb 2027", "fri 29 aug 2026" when
    that is a Saturday) it does not settle for a shorter run such as "29 feb" (which would quietly mean
    2028): it returns None, or with `strict=True` raises that DateError so the caller can show it.
    """
    for n in range(min(_MAX_PREFIX_WORDS, len(words)), 0, -1):
        try:
            return parse_date(" ".join(words[:n]), today), n
        except _ImpossibleDate:
            if strict:
                raise
            return None
        except DateError:
            continue
    return None


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
