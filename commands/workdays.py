"""England & Wales working days: Monday to Friday, minus bank holidays (including substitute days).

Task groups chase actions in working days ("overdue by 10 working days"), so weekends and bank holidays
must never count. Pure functions; no clock is read here.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from functools import lru_cache

_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=128)
def _bank_holidays(year: int) -> frozenset[date]:
    # Building a holidays calendar is slow compared with a set lookup, and these functions run in loops,
    # so each year is built once. subdiv="ENG" gives the England & Wales list, substitute days included.
    # `holidays` is imported here, when a year is first needed, not by every process that imports this.
    import holidays

    calendar = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(d for d in calendar if d.year == year)


@lru_cache(maxsize=128)
def _weekday_bank_holidays(year: int) -> tuple[date, ...]:
    """The year's bank holidays that fall Monday to Friday, in date order (for counting with bisect)."""
    return tuple(sorted(h for h in _bank_holidays(year) if h.weekday() < 5))


@lru_cache(maxsize=128)
def _bank_holiday_names(year: int) -> dict[date, str]:
    import holidays

    calendar = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return {
        d: name.replace("(observed)", "(substitute day)") for d, name in calendar.items() if d.year == year
    }


def preload(today: date) -> None:
    """Builds last year's, this year's and next year's calendars now: a server does so before its first
    request (which would otherwise import `holidays` and build them while people wait)."""
    for year in (today.year - 1, today.year, today.year + 1):
        _weekday_bank_holidays(year)
        _bank_holiday_names(year)


def bank_holiday_name(d: date) -> str | None:
    """ "Christmas Day", "Boxing Day (substitute day)" …, or None when `d` is no England & Wales bank holiday."""
    return _bank_holiday_names(d.year).get(d)


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and d not in _bank_holidays(d.year)


def next_working_day(d: date) -> date:
    """`d` itself if it is a working day, otherwise the next one."""
    while not is_working_day(d):
        d += _ONE_DAY
    return d


def add_working_days(d: date, n: int) -> date:
    """Move `n` working days from `d` (backwards if `n` is negative); `n == 0` returns `d` unchanged.

    `d` itself never counts, so add_working_days(friday, 1) is the following Monday (or Tuesday after a
    bank holiday Monday), and a Saturday plus one working day is the Monday.
    """
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        d += step
        if is_working_day(d):
            remaining -= 1
    return d


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after `start`, up to and including `end`; 0 if `end` is not after `start`.

    Counted arithmetically rather than day by day because it is used for long overdue spans.
    """
    return _working_days_between(start, end)


@lru_cache(maxsize=4096)  # a list asks for each overdue line, mostly the same few hundred dates
def _working_days_between(start: date, end: date) -> int:
    if end <= start:
        return 0
    full_weeks, extra_days = divmod((end - start).days, 7)
    count = full_weeks * 5
    # The leftover days (fewer than 7) are checked one by one for being Mon-Fri.
    count += sum(1 for i in range(1, extra_days + 1) if (start + timedelta(days=i)).weekday() < 5)
    for year in range(start.year, end.year + 1):
        # Bank holidays on weekends were never counted above, so only weekday ones are taken off.
        weekday_holidays = _weekday_bank_holidays(year)
        count -= bisect_right(weekday_holidays, end) - bisect_right(weekday_holidays, start)
    return count


def first_working_day_of_month(year: int, month: int) -> date:
    return next_working_day(date(year, month, 1))
