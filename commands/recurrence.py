"""Meeting schedules: a small English grammar that becomes an RRULE body, expanded with dateutil.rrule.

Rules are expanded on naive local wall-clock datetimes and only then given the task group's timezone, so a
10:00 meeting stays at 10:00 in London across BST/GMT changes (09:00 UTC in July, 10:00 UTC in December).
Nothing here reads the clock; callers pass `after`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from commands.dates import format_date
from commands.numbers import whole_number

RECURRENCE_EXAMPLES = "weekly, fortnightly, monthly, 2nd wednesday, last friday, 3 months"

_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS: dict[str, str] = {
    **{name.lower(): code for name, code in zip(_DAY_NAMES, _DAY_CODES, strict=True)},
    **{name[:3].lower(): code for name, code in zip(_DAY_NAMES, _DAY_CODES, strict=True)},
    "tues": "TU", "weds": "WE", "thur": "TH", "thurs": "TH",
}  # fmt: skip
_ORDINALS: dict[str, int] = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": -1,
}  # fmt: skip
_NUMBERS: dict[str, int] = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

_WD = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_NUM = r"[0-9]{1,9}|" + "|".join(_NUMBERS)
MAX_INTERVAL = 99  # "every 99 weeks" is already rarer than any task group meets
MAX_COUNT = 1000
# Expanding a rule looks at no more occurrences than this (about 27 years of a daily rule), so no request
# can make the bot walk millions of dates (`schedule cancel 31/12/9999` on a daily schedule).
MAX_STEPS = 10_000
_NTH_DAY_RE = re.compile(rf"({'|'.join(_ORDINALS)}) ({_WD})s?")
_WEEKLY_RE = re.compile(
    rf"(?:(week|weekly|fortnight|fortnightly|other week)|({_NUM}) weeks?)(?: on ({_WD})s?)?"
)
_ON_DAY_RE = re.compile(rf"(?:weekly on )?({_WD})s?")
_MONTHLY_RE = re.compile(rf"month|monthly|other month|quarter|quarterly|({_NUM}) months?")

# Raw rules may only use parts that make sense for a meeting at a fixed time of day: the time comes from
# the meeting, so BYHOUR/BYMINUTE/BYSECOND are refused, and so are sub-daily frequencies.
_RAW_KEYS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "BYYEARDAY", "BYWEEKNO",
             "WKST", "COUNT", "UNTIL"}  # fmt: skip
_RAW_FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
# Only these change which day a plain monthly rule lands on; without them it repeats start's day-of-month.
_MONTHLY_DAY_KEYS = {"BYDAY", "BYMONTHDAY", "BYSETPOS", "BYYEARDAY", "BYWEEKNO"}
_PROBE_START = datetime(2026, 1, 1, 10, 0)
# A start near the end of dateutil's calendar: a rule with no occurrences at all (30 February) makes
# dateutil search until year 9999, which takes seconds from 2026 but milliseconds from here.
_EMPTY_PROBE_START = datetime(9980, 1, 1, 10, 0)


class RecurrenceError(ValueError):
    """Unreadable or unusable schedule; `str(e)` is a sentence for the user, with examples."""


def _unreadable(text: str) -> RecurrenceError:
    head, _, last = RECURRENCE_EXAMPLES.rpartition(", ")
    return RecurrenceError(
        f'I couldn\'t read "{text.strip()}" as a schedule. Try {head} or {last} '
        "(or a rule like FREQ=MONTHLY;BYDAY=+2WE)."
    )


def _number(raw: str) -> int:
    """A count in words or digits; 0 (refused by the callers) when out of range."""
    if raw in _NUMBERS:
        return _NUMBERS[raw]
    return whole_number(raw, 1, MAX_INTERVAL) or 0


def _rule(freq: str, interval: int = 1, byday: str | None = None) -> str:
    parts = [f"FREQ={freq}"]
    if interval != 1:
        parts.append(f"INTERVAL={interval}")
    if byday:
        parts.append(f"BYDAY={byday}")
    return ";".join(parts)


def _split(rule: str) -> dict[str, str]:
    """ "FREQ=MONTHLY;BYDAY=+2WE" -> {"FREQ": "MONTHLY", "BYDAY": "+2WE"}; RecurrenceError if malformed."""
    body = re.sub(r"\s+", "", rule).upper().removeprefix("RRULE:").strip(";")
    parts: dict[str, str] = {}
    for item in body.split(";"):
        key, sep, value = item.partition("=")
        if not sep or not key or not value or key in parts:
            raise _unreadable(rule)
        parts[key] = value
    return parts


def _join(parts: dict[str, str]) -> str:
    return ";".join(f"{k}={v}" for k, v in parts.items())


def _validate_raw(text: str) -> str:
    parts = _split(text)
    problem = None
    if parts.get("FREQ") not in _RAW_FREQS:
        problem = "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"
    elif unknown := sorted(set(parts) - _RAW_KEYS):
        problem = f"{', '.join(unknown)} can't be used here (the meeting's time is set separately)"
    elif whole_number(parts.get("INTERVAL", "1"), 1, MAX_INTERVAL) is None:
        problem = f"INTERVAL must be a whole number from 1 to {MAX_INTERVAL}"
    elif "COUNT" in parts and whole_number(parts["COUNT"], 1, MAX_COUNT) is None:
        problem = f"COUNT must be a whole number from 1 to {MAX_COUNT}"
    elif any(re.search(r"[0-9]{4,}", v) for k, v in parts.items() if k not in ("UNTIL", "COUNT")):
        problem = "its numbers are too large (days, weeks and months have at most 3 digits)"
    elif "COUNT" in parts and "UNTIL" in parts:
        problem = "use COUNT or UNTIL, not both"
    elif "UNTIL" in parts and not re.fullmatch(r"\d{8}(T\d{6})?", parts["UNTIL"]):
        # A UTC "...Z" end can't be compared with local wall-clock times without knowing the timezone.
        problem = "UNTIL must be a local date like 20261231 (or use the meeting's own end date)"
    if problem:
        raise RecurrenceError(f'"{text.strip()}" isn\'t a usable rule: {problem}.')
    if "UNTIL" in parts and len(parts["UNTIL"]) == 8:
        parts["UNTIL"] += "T235959"  # a date-only end includes that whole day, whatever the meeting time
    body = _join(parts)
    try:
        rrulestr(body, dtstart=_PROBE_START)
        endless = {k: v for k, v in parts.items() if k not in ("COUNT", "UNTIL")}
        has_any = next(iter(rrulestr(_join(endless), dtstart=_EMPTY_PROBE_START)), None) is not None
    except (ValueError, TypeError, IndexError, OverflowError) as exc:  # dateutil's ways of refusing
        raise RecurrenceError(f'"{text.strip()}" isn\'t a valid rule: {exc}.') from None
    if not has_any:
        raise RecurrenceError(f'"{text.strip()}" never happens (or less than once in 20 years).')
    return body


def parse_recurrence(every: str) -> str:
    """Turns what follows `every:` into an RRULE body, e.g. "2nd wednesday" -> "FREQ=MONTHLY;BYDAY=+2WE".

    Weekly and plain monthly rules carry no day: the meeting's start date supplies the weekday or the
    day of the month when the rule is expanded.
    """
    s = re.sub(r"\s+", " ", every.strip().lower()).rstrip(".,;!")
    if not s:
        head, _, last = RECURRENCE_EXAMPLES.rpartition(", ")
        raise RecurrenceError(f"Please say how often the meeting happens, e.g. {head} or {last}.")
    if "freq=" in s:
        return _validate_raw(every)
    s = re.sub(r"^(?:every|each) ", "", s)
    s = re.sub(r" (?:of|in) (?:the|each|every) month$| of month$| monthly$", "", s)

    if m := _NTH_DAY_RE.fullmatch(s):
        n = _ORDINALS[m[1]]
        return _rule("MONTHLY", byday=f"{n:+d}{_WEEKDAYS[m[2]]}")
    if m := _WEEKLY_RE.fullmatch(s):
        interval = _number(m[2]) if m[2] else (1 if m[1] in ("week", "weekly") else 2)
        if interval < 1:
            raise _unreadable(every)
        return _rule("WEEKLY", interval, _WEEKDAYS[m[3]] if m[3] else None)
    if m := _ON_DAY_RE.fullmatch(s):
        return _rule("WEEKLY", byday=_WEEKDAYS[m[1]])
    if m := _MONTHLY_RE.fullmatch(s):
        interval = _number(m[1]) if m[1] else {"other month": 2, "quarter": 3, "quarterly": 3}.get(s, 1)
        if interval < 1:
            raise _unreadable(every)
        return _rule("MONTHLY", interval)
    raise _unreadable(every)


def _expandable(rule: str, start: date) -> str:
    parts = _split(rule)
    if parts.get("FREQ") == "MONTHLY" and start.day > 28 and not _MONTHLY_DAY_KEYS & set(parts):
        # RFC 5545 skips months that lack the 29th-31st; a "monthly" meeting started on 31 Jan should
        # fall on the last day of shorter months instead, so take the start's day or the month's last day.
        parts["BYMONTHDAY"] = f"{start.day},-1"
        parts["BYSETPOS"] = "1"
    return _join(parts)


def occurrences(
    rule: str,
    start: date,
    at: time,
    tz: str,
    after: datetime,
    count: int = 3,
    until: date | None = None,
    exclude: set[date] | frozenset[date] = frozenset(),
) -> list[datetime]:
    """The next `count` meetings strictly after `after`, as aware UTC datetimes.

    `start` is the first date the schedule may fall on, `at` the local wall-clock time in `tz`, `until`
    the last local date allowed (inclusive), and `exclude` local dates of cancelled meetings.
    """
    if after.tzinfo is None:
        raise ValueError("occurrences() needs a timezone-aware `after`")
    if count <= 0:
        return []
    zone = ZoneInfo(tz)
    # Naive local datetimes on purpose: the rule steps in wall-clock time, then each occurrence gets the
    # offset in force on its own date. (A time inside the spring-forward gap comes out an hour later.)
    dtstart = datetime.combine(start, at.replace(tzinfo=None))
    try:
        schedule = rrulestr(_expandable(rule, start), dtstart=dtstart)
    except (ValueError, TypeError, IndexError, OverflowError) as exc:  # dateutil's ways of refusing
        raise RecurrenceError(f'"{rule}" isn\'t a valid schedule: {exc}.') from None
    found: list[datetime] = []
    for step, local in enumerate(schedule):
        if step >= MAX_STEPS or (until is not None and local.date() > until):
            break
        when = local.replace(tzinfo=zone).astimezone(UTC)
        if when <= after or local.date() in exclude:
            continue
        found.append(when)
        if len(found) == count:
            break
    return found


def _ordinal(n: int) -> str:
    if n == -1:
        return "last"
    if n < 0:
        return f"{_ordinal(-n)}-to-last"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _days(byday: str) -> list[tuple[int | None, str]]:
    """ "+2WE,-1FR" -> [(2, "Wednesday"), (-1, "Friday")]; ValueError if unreadable."""
    out: list[tuple[int | None, str]] = []
    for item in byday.split(","):
        m = re.fullmatch(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)", item)
        if not m:
            raise ValueError(item)
        out.append((int(m[1]) if m[1] else None, _DAY_NAMES[_DAY_CODES.index(m[2])]))
    return out


def describe_recurrence(rule: str) -> str:
    """Plain words for a rule: "every 2nd Wednesday of the month", "every week on Tuesday", "every 2 weeks".

    Rules beyond the everyday shapes are described as "a custom schedule (…)" rather than guessed at.
    """
    parts = _split(rule)
    custom = f"a custom schedule ({_join(parts)})"
    freq = parts.pop("FREQ", "")
    interval = whole_number(parts.pop("INTERVAL", "1"), 1) or 0
    count, until = parts.pop("COUNT", None), parts.pop("UNTIL", None)
    byday, bymonthday = parts.pop("BYDAY", None), parts.pop("BYMONTHDAY", None)
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}.get(freq)
    if unit is None or interval < 1 or parts:
        return custom
    every = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"

    try:
        days = _days(byday) if byday else []
        monthdays = [int(x) for x in bymonthday.split(",")] if bymonthday else []
    except ValueError:
        return custom
    if days and monthdays:
        return custom
    if days and all(n is None for n, _ in days) and unit == "week":
        text = f"{every} on {_and([name for _, name in days])}"
    elif days and all(n is not None for n, _ in days) and unit == "month":
        nth = _and([f"{_ordinal(n)} {name}" for n, name in days if n is not None])
        text = f"every {nth} of the month" if interval == 1 else f"{every} on the {nth}"
    elif monthdays and unit == "month" and all(d != 0 for d in monthdays):
        text = f"{every} on the {_and([_ordinal(d) if d > 0 else _ordinal(d) + ' day' for d in monthdays])}"
    elif days or monthdays:
        return custom
    else:
        text = every

    if count:
        text += f", {count} time{'s' if count != '1' else ''} in all"
    if until:
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(?:T\d{6}Z?)?", until)
        try:
            last = date(int(m[1]), int(m[2]), int(m[3])) if m else None
        except ValueError:
            last = None
        if last is None:
            return custom
        text += f", until {format_date(last)}"
    return text
