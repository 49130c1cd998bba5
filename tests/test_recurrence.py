from datetime import UTC, date, datetime, time

import pytest
from dateutil.rrule import rrulestr

from commands.recurrence import RecurrenceError, describe_recurrence, occurrences, parse_recurrence

LONDON = "Europe/London"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- parse_recurrence -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, rule",
    [
        ("week", "FREQ=WEEKLY"),
        ("weekly", "FREQ=WEEKLY"),
        ("every week", "FREQ=WEEKLY"),
        ("Weekly.", "FREQ=WEEKLY"),
        ("2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
        ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
        ("two weeks", "FREQ=WEEKLY;INTERVAL=2"),
        ("fortnight", "FREQ=WEEKLY;INTERVAL=2"),
        ("fortnightly", "FREQ=WEEKLY;INTERVAL=2"),
        ("every other week", "FREQ=WEEKLY;INTERVAL=2"),
        ("3 weeks", "FREQ=WEEKLY;INTERVAL=3"),
        ("tuesday", "FREQ=WEEKLY;BYDAY=TU"),
        ("every Tuesday", "FREQ=WEEKLY;BYDAY=TU"),
        ("fortnightly on thursday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"),
        ("month", "FREQ=MONTHLY"),
        ("monthly", "FREQ=MONTHLY"),
        ("3 months", "FREQ=MONTHLY;INTERVAL=3"),
        ("every 3 months", "FREQ=MONTHLY;INTERVAL=3"),
        ("quarterly", "FREQ=MONTHLY;INTERVAL=3"),
        ("every other month", "FREQ=MONTHLY;INTERVAL=2"),
        ("2nd wednesday", "FREQ=MONTHLY;BYDAY=+2WE"),
        ("second wednesday", "FREQ=MONTHLY;BYDAY=+2WE"),
        ("every second Wednesday of the month", "FREQ=MONTHLY;BYDAY=+2WE"),
        ("2nd wed", "FREQ=MONTHLY;BYDAY=+2WE"),
        ("first monday", "FREQ=MONTHLY;BYDAY=+1MO"),
        ("1st mon of each month", "FREQ=MONTHLY;BYDAY=+1MO"),
        ("third thursday", "FREQ=MONTHLY;BYDAY=+3TH"),
        ("4th friday", "FREQ=MONTHLY;BYDAY=+4FR"),
        ("last friday", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("every last Friday of the month", "FREQ=MONTHLY;BYDAY=-1FR"),
    ],
)
def test_parse_recurrence_words(text: str, rule: str) -> None:
    assert parse_recurrence(text) == rule
    rrulestr(rule, dtstart=datetime(2026, 9, 1, 10))  # and dateutil accepts it


@pytest.mark.parametrize(
    "text, rule",
    [
        ("FREQ=MONTHLY;BYDAY=2WE", "FREQ=MONTHLY;BYDAY=2WE"),
        ("freq=weekly;byday=mo,th", "FREQ=WEEKLY;BYDAY=MO,TH"),
        ("RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR", "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR"),
        ("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=6", "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=6"),
        ("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=-1", "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=-1"),
        # A date-only UNTIL covers the whole of that day.
        ("FREQ=WEEKLY;UNTIL=20270331", "FREQ=WEEKLY;UNTIL=20270331T235959"),
    ],
)
def test_parse_recurrence_raw_rules(text: str, rule: str) -> None:
    assert parse_recurrence(text) == rule


@pytest.mark.parametrize(
    "text, match",
    [
        ("FREQ=HOURLY", "FREQ must be"),
        ("FREQ=WEEKLY;BYHOUR=10", "BYHOUR can't be used"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20270101", "not both"),
        ("FREQ=WEEKLY;UNTIL=20270101T000000Z", "UNTIL must be a local date"),
        ("FREQ=MONTHLY;BYDAY=XX", "isn't a valid rule"),
        ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "never happens"),
        ("FREQ=WEEKLY;FREQ=MONTHLY", "couldn't read"),
        ("FREQ=", "couldn't read"),
    ],
)
def test_parse_recurrence_bad_raw_rules(text: str, match: str) -> None:
    with pytest.raises(RecurrenceError, match=match):
        parse_recurrence(text)


@pytest.mark.parametrize(
    "text", ["foo", "sometimes", "0 weeks", "fifth monday", "every", "2nd", "last", "daily"]
)
def test_parse_recurrence_unknown(text: str) -> None:
    with pytest.raises(RecurrenceError) as info:
        parse_recurrence(text)
    assert f'I couldn\'t read "{text}" as a schedule.' in str(info.value)
    assert "2nd wednesday" in str(info.value)


def test_parse_recurrence_empty() -> None:
    with pytest.raises(RecurrenceError, match="how often"):
        parse_recurrence("  ")


def test_recurrence_error_is_a_value_error() -> None:
    assert issubclass(RecurrenceError, ValueError)


# --- occurrences ----------------------------------------------------------------------------------


def test_monthly_second_wednesday_keeps_london_wall_time_across_the_clock_change() -> None:
    rule = parse_recurrence("2nd wednesday")
    got = occurrences(rule, date(2026, 9, 1), time(10, 0), LONDON, after=utc(2026, 9, 1), count=4)
    assert got == [
        utc(2026, 9, 9, 9, 0),  # BST: 10:00 London is 09:00 UTC
        utc(2026, 10, 14, 9, 0),  # still BST (clocks go back on 25 Oct)
        utc(2026, 11, 11, 10, 0),  # GMT
        utc(2026, 12, 9, 10, 0),
    ]
    assert all(dt.tzinfo == UTC for dt in got)


def test_weekly_across_the_spring_clock_change() -> None:
    got = occurrences("FREQ=WEEKLY", date(2027, 3, 22), time(10, 0), LONDON, after=utc(2027, 3, 1), count=3)
    # Clocks go forward on Sunday 28 March 2027.
    assert got == [utc(2027, 3, 22, 10, 0), utc(2027, 3, 29, 9, 0), utc(2027, 4, 5, 9, 0)]


def test_strictly_after() -> None:
    rule = parse_recurrence("2nd wednesday")
    start = date(2026, 9, 1)
    # Exactly at the October meeting: that one is not "after", November is next.
    got = occurrences(rule, start, time(10, 0), LONDON, after=utc(2026, 10, 14, 9, 0), count=1)
    assert got == [utc(2026, 11, 11, 10, 0)]
    got = occurrences(rule, start, time(10, 0), LONDON, after=utc(2026, 10, 14, 8, 59), count=1)
    assert got == [utc(2026, 10, 14, 9, 0)]


def test_default_count_is_three() -> None:
    got = occurrences("FREQ=WEEKLY", date(2026, 11, 23), time(9, 30), LONDON, after=utc(2026, 11, 1))
    assert got == [utc(2026, 11, 23, 9, 30), utc(2026, 11, 30, 9, 30), utc(2026, 12, 7, 9, 30)]


def test_weekly_without_byday_uses_the_start_weekday() -> None:
    start = date(2026, 11, 24)  # a Tuesday
    got = occurrences("FREQ=WEEKLY;INTERVAL=2", start, time(14, 0), LONDON, after=utc(2026, 12, 1), count=3)
    assert [dt.date() for dt in got] == [date(2026, 12, 8), date(2026, 12, 22), date(2027, 1, 5)]
    assert all(dt.weekday() == 1 for dt in got)


def test_weekly_byday_starts_on_the_first_matching_day() -> None:
    got = occurrences("FREQ=WEEKLY;BYDAY=TH", date(2026, 11, 22), time(10), LONDON, after=utc(2026, 1, 1))
    assert [dt.date() for dt in got] == [date(2026, 11, 26), date(2026, 12, 3), date(2026, 12, 10)]


def test_last_friday() -> None:
    rule = parse_recurrence("last friday")
    got = occurrences(rule, date(2026, 11, 1), time(13, 0), LONDON, after=utc(2026, 11, 1), count=4)
    assert [dt.date() for dt in got] == [
        date(2026, 11, 27),
        date(2026, 12, 25),
        date(2027, 1, 29),
        date(2027, 2, 26),
    ]
    assert got[0] == utc(2026, 11, 27, 13, 0)


def test_plain_monthly_repeats_the_start_day() -> None:
    got = occurrences("FREQ=MONTHLY", date(2026, 9, 15), time(10), LONDON, after=utc(2026, 9, 1), count=3)
    assert got == [utc(2026, 9, 15, 9, 0), utc(2026, 10, 15, 9, 0), utc(2026, 11, 15, 10, 0)]


def test_monthly_from_the_31st_falls_on_the_last_day_of_short_months() -> None:
    got = occurrences("FREQ=MONTHLY", date(2027, 1, 31), time(10), LONDON, after=utc(2027, 1, 1), count=4)
    assert [dt.date() for dt in got] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


def test_every_three_months() -> None:
    rule = parse_recurrence("3 months")
    got = occurrences(rule, date(2026, 9, 10), time(10), LONDON, after=utc(2026, 9, 1), count=3)
    assert [dt.date() for dt in got] == [date(2026, 9, 10), date(2026, 12, 10), date(2027, 3, 10)]


def test_exclusions_are_skipped_and_still_count_fills_up() -> None:
    rule = parse_recurrence("2nd wednesday")
    got = occurrences(
        rule, date(2026, 9, 1), time(10), LONDON, after=utc(2026, 9, 1), count=3, exclude={date(2026, 10, 14)}
    )
    assert [dt.date() for dt in got] == [date(2026, 9, 9), date(2026, 11, 11), date(2026, 12, 9)]


def test_exclusions_accept_a_frozenset() -> None:
    got = occurrences(
        "FREQ=WEEKLY",
        date(2026, 12, 1),
        time(10),
        LONDON,
        after=utc(2026, 11, 1),
        count=2,
        exclude=frozenset({date(2026, 12, 22), date(2026, 12, 29)}),
    )
    assert [dt.date() for dt in got] == [date(2026, 12, 1), date(2026, 12, 8)]
    got = occurrences(
        "FREQ=WEEKLY",
        date(2026, 12, 1),
        time(10),
        LONDON,
        after=utc(2026, 12, 10),
        count=2,
        exclude=frozenset({date(2026, 12, 22), date(2026, 12, 29)}),
    )
    assert [dt.date() for dt in got] == [date(2026, 12, 15), date(2027, 1, 5)]


def test_until_is_inclusive_and_limits_the_count() -> None:
    rule = parse_recurrence("2nd wednesday")
    start = date(2026, 9, 1)
    got = occurrences(
        rule, start, time(10), LONDON, after=utc(2026, 9, 1), count=10, until=date(2026, 11, 11)
    )
    assert [dt.date() for dt in got] == [date(2026, 9, 9), date(2026, 10, 14), date(2026, 11, 11)]
    got = occurrences(
        rule, start, time(10), LONDON, after=utc(2026, 9, 1), count=10, until=date(2026, 11, 10)
    )
    assert len(got) == 2
    assert occurrences(rule, start, time(10), LONDON, after=utc(2027, 1, 1), until=date(2026, 12, 31)) == []


def test_rule_count_and_until_are_honoured() -> None:
    got = occurrences(
        "FREQ=WEEKLY;COUNT=2", date(2026, 12, 1), time(10), LONDON, after=utc(2026, 1, 1), count=5
    )
    assert len(got) == 2
    rule = parse_recurrence("FREQ=WEEKLY;UNTIL=20261208")
    got = occurrences(rule, date(2026, 12, 1), time(10), LONDON, after=utc(2026, 1, 1), count=5)
    assert [dt.date() for dt in got] == [date(2026, 12, 1), date(2026, 12, 8)]  # the UNTIL day itself counts


def test_count_zero_and_naive_after() -> None:
    assert (
        occurrences("FREQ=WEEKLY", date(2026, 12, 1), time(10), LONDON, after=utc(2026, 1, 1), count=0) == []
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences("FREQ=WEEKLY", date(2026, 12, 1), time(10), LONDON, after=datetime(2026, 1, 1))


def test_after_long_after_start() -> None:
    got = occurrences("FREQ=WEEKLY", date(2020, 1, 6), time(10), LONDON, after=utc(2026, 11, 22), count=1)
    assert got == [utc(2026, 11, 23, 10, 0)]


def test_other_timezone() -> None:
    got = occurrences(
        "FREQ=WEEKLY", date(2026, 7, 1), time(10), "America/New_York", after=utc(2026, 1, 1), count=1
    )
    assert got == [utc(2026, 7, 1, 14, 0)]


def test_invalid_rule_in_occurrences() -> None:
    with pytest.raises(RecurrenceError):
        occurrences("FREQ=MONTHLY;BYDAY=XX", date(2026, 12, 1), time(10), LONDON, after=utc(2026, 1, 1))


# --- describe_recurrence --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, words",
    [
        ("weekly", "every week"),
        ("fortnightly", "every 2 weeks"),
        ("tuesday", "every week on Tuesday"),
        ("fortnightly on thursday", "every 2 weeks on Thursday"),
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "every week on Monday, Wednesday and Friday"),
        ("monthly", "every month"),
        ("3 months", "every 3 months"),
        ("2nd wednesday", "every 2nd Wednesday of the month"),
        ("FREQ=MONTHLY;BYDAY=2WE", "every 2nd Wednesday of the month"),
        ("first monday", "every 1st Monday of the month"),
        ("last friday", "every last Friday of the month"),
        ("FREQ=MONTHLY;INTERVAL=3;BYDAY=+2WE", "every 3 months on the 2nd Wednesday"),
        ("FREQ=MONTHLY;BYDAY=1MO,3MO", "every 1st Monday and 3rd Monday of the month"),
        ("FREQ=MONTHLY;BYDAY=-2FR", "every 2nd-to-last Friday of the month"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "every month on the 15th"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "every month on the last day"),
        ("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=6", "every month on the 15th, 6 times in all"),
        ("FREQ=WEEKLY;UNTIL=20270331", "every week, until Wed 31 Mar 2027"),
        ("FREQ=DAILY;INTERVAL=2", "every 2 days"),
        ("FREQ=YEARLY", "every year"),
    ],
)
def test_describe_recurrence(text: str, words: str) -> None:
    assert describe_recurrence(parse_recurrence(text)) == words


def test_describe_recurrence_falls_back_for_unusual_rules() -> None:
    rule = "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=-1"
    assert describe_recurrence(rule) == f"a custom schedule ({rule})"
    assert describe_recurrence("FREQ=YEARLY;BYMONTH=3") == "a custom schedule (FREQ=YEARLY;BYMONTH=3)"


def test_describe_recurrence_refuses_garbage() -> None:
    with pytest.raises(RecurrenceError):
        describe_recurrence("nonsense")
