from datetime import date, timedelta

import pytest

from commands.workdays import (
    add_working_days,
    first_working_day_of_month,
    is_working_day,
    next_working_day,
    working_days_between,
)


@pytest.mark.parametrize(
    "d",
    [
        date(2026, 1, 1),  # New Year's Day
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),  # Early May bank holiday
        date(2026, 5, 25),  # Spring bank holiday
        date(2026, 8, 31),  # August bank holiday
        date(2026, 12, 25),  # Christmas Day (Friday)
        date(2026, 12, 28),  # Boxing Day falls on Saturday: substitute Monday
        date(2027, 12, 27),  # Christmas 2027 is Saturday: substitute Monday
        date(2027, 12, 28),  # Boxing Day 2027 is Sunday: substitute Tuesday
    ],
)
def test_bank_holidays_are_not_working_days(d: date) -> None:
    assert d.weekday() < 5
    assert not is_working_day(d)


@pytest.mark.parametrize("d", [date(2026, 11, 21), date(2026, 11, 22), date(2026, 12, 26)])
def test_weekends_are_not_working_days(d: date) -> None:
    assert not is_working_day(d)


@pytest.mark.parametrize(
    "d", [date(2026, 11, 23), date(2026, 11, 27), date(2026, 12, 24), date(2026, 12, 29)]
)
def test_ordinary_weekdays_are_working_days(d: date) -> None:
    assert is_working_day(d)


def test_scottish_only_holidays_do_not_count() -> None:
    assert is_working_day(date(2026, 1, 2))  # 2 January is a bank holiday in Scotland only
    assert is_working_day(date(2026, 11, 30))  # St Andrew's Day: Scotland only


def test_next_working_day() -> None:
    assert next_working_day(date(2026, 11, 23)) == date(2026, 11, 23)  # already a working day
    assert next_working_day(date(2026, 11, 21)) == date(2026, 11, 23)  # Saturday -> Monday
    assert next_working_day(date(2026, 4, 3)) == date(2026, 4, 7)  # Good Friday -> after Easter Monday
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)  # Christmas -> after substitute day


def test_add_working_days_over_a_weekend() -> None:
    fri = date(2026, 11, 27)
    assert add_working_days(fri, 1) == date(2026, 11, 30)
    assert add_working_days(fri, 5) == date(2026, 12, 4)
    assert add_working_days(date(2026, 11, 30), -1) == fri


def test_add_working_days_skips_bank_holiday_monday() -> None:
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 1)  # over August bank holiday
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)  # over the Easter weekend
    assert add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 2)


def test_add_working_days_across_christmas_and_new_year() -> None:
    # 24 Dec 2026 (Thu) -> 29, 30, 31 Dec, then 4 Jan (1 Jan is a bank holiday, 2-3 Jan a weekend).
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert add_working_days(date(2026, 12, 24), 3) == date(2026, 12, 31)
    assert add_working_days(date(2026, 12, 24), 4) == date(2027, 1, 4)
    assert add_working_days(date(2027, 1, 4), -4) == date(2026, 12, 24)


def test_add_working_days_from_a_weekend_and_zero() -> None:
    sat = date(2026, 11, 21)
    assert add_working_days(sat, 1) == date(2026, 11, 23)
    assert add_working_days(sat, -1) == date(2026, 11, 20)
    assert add_working_days(sat, 0) == sat


def test_working_days_between() -> None:
    mon = date(2026, 11, 23)
    assert working_days_between(mon, mon) == 0
    assert working_days_between(mon, mon - timedelta(days=3)) == 0
    assert working_days_between(mon, date(2026, 11, 24)) == 1
    assert working_days_between(mon, date(2026, 11, 29)) == 4  # Tue-Fri; the weekend adds nothing
    assert working_days_between(mon, date(2026, 11, 30)) == 5
    assert working_days_between(date(2026, 11, 27), date(2026, 11, 30)) == 1  # Fri -> Mon
    # Over Christmas: 29, 30, 31 Dec and 4, 5 Jan.
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 5)) == 5
    # Over August bank holiday: 1 and 2 Sept only.
    assert working_days_between(date(2026, 8, 28), date(2026, 9, 2)) == 2


def test_working_days_between_matches_a_day_by_day_count() -> None:
    start = date(2025, 12, 15)
    for length in range(0, 800, 7):
        end = start + timedelta(days=length + length % 5)
        slow = sum(1 for i in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=i)))
        assert working_days_between(start, end) == slow


def test_working_days_between_is_the_inverse_of_add_working_days() -> None:
    start = date(2026, 12, 18)
    for n in range(1, 30):
        assert working_days_between(start, add_working_days(start, n)) == n


def test_first_working_day_of_month() -> None:
    assert first_working_day_of_month(2026, 1) == date(2026, 1, 2)  # 1 Jan is a bank holiday
    assert first_working_day_of_month(2026, 2) == date(2026, 2, 2)  # 1 Feb is a Sunday
    assert first_working_day_of_month(2026, 8) == date(2026, 8, 3)  # 1 Aug is a Saturday
    assert first_working_day_of_month(2026, 9) == date(2026, 9, 1)
    assert first_working_day_of_month(2027, 3) == date(2027, 3, 1)


# The published England & Wales lists (gov.uk/bank-holidays), written out by hand so that a `holidays`
# release that drops or moves a day — or a dependency pin that freezes an old release — fails here.
ENGLAND_AND_WALES_BANK_HOLIDAYS = {
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
    2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
    2028: ["01-03", "04-14", "04-17", "05-01", "05-29", "08-28", "12-25", "12-26"],
    2029: ["01-01", "03-30", "04-02", "05-07", "05-28", "08-27", "12-25", "12-26"],
    2030: ["01-01", "04-19", "04-22", "05-06", "05-27", "08-26", "12-25", "12-26"],
}


@pytest.mark.parametrize("year", sorted(ENGLAND_AND_WALES_BANK_HOLIDAYS))
def test_every_weekday_of_the_year_is_a_working_day_except_the_bank_holidays(year: int) -> None:
    expected = {date.fromisoformat(f"{year}-{md}") for md in ENGLAND_AND_WALES_BANK_HOLIDAYS[year]}
    day, non_working_weekdays = date(year, 1, 1), set()
    while day.year == year:
        if day.weekday() < 5 and not is_working_day(day):
            non_working_weekdays.add(day)
        day += timedelta(days=1)
    assert non_working_weekdays == expected


def test_preload_builds_the_years_around_today_before_they_are_asked_for() -> None:
    from commands import workdays

    workdays.preload(date(2041, 3, 2))
    for cached in (workdays._weekday_bank_holidays, workdays._bank_holiday_names):
        misses = cached.cache_info().misses
        for year in (2040, 2041, 2042):
            cached(year)
        assert cached.cache_info().misses == misses  # all three were built already
    assert not is_working_day(date(2041, 12, 25))
