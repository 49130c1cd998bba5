from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.dates import (
    DATE_EXAMPLES,
    MORE_DATE_EXAMPLES,
    DateError,
    format_date,
    format_datetime,
    parse_date,
    parse_date_prefix,
    parse_time,
)

SUN = date(2026, 11, 22)  # a Sunday
WED = date(2026, 11, 25)
FRI = date(2026, 11, 27)
SAT = date(2026, 11, 28)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-08-28", date(2026, 8, 28)),
        ("2026-8-5", date(2026, 8, 5)),
        ("2026/08/28", date(2026, 8, 28)),
        ("28/08/2026", date(2026, 8, 28)),
        ("28/8/26", date(2026, 8, 28)),
        ("28-08-2026", date(2026, 8, 28)),
        ("28.08.2026", date(2026, 8, 28)),
        ("1/1/27", date(2027, 1, 1)),
        ("28 Aug 2026", date(2026, 8, 28)),
        ("28 August 2026", date(2026, 8, 28)),
        ("28th August 2026", date(2026, 8, 28)),
        ("28th of August 2026", date(2026, 8, 28)),
        ("1st Sept 2026", date(2026, 9, 1)),
        ("August 28 2026", date(2026, 8, 28)),
        ("August 28, 2026", date(2026, 8, 28)),
        ("Aug. 28th 2026", date(2026, 8, 28)),
        ("Fri 28 Aug 2026", date(2026, 8, 28)),
        ("Friday, 28 August 2026", date(2026, 8, 28)),
    ],
)
def test_absolute_dates(text: str, expected: date) -> None:
    assert parse_date(text, SUN) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("05/09/2026", date(2026, 9, 5)),  # day first, always: 5 September, never 9 May
        ("05.09.2026", date(2026, 9, 5)),
        ("05-09-2026", date(2026, 9, 5)),
        ("2026-04-03", date(2026, 4, 3)),  # ISO is year-month-day: 3 April
        ("03/04/2026", date(2026, 4, 3)),
        ("12/11/26", date(2026, 11, 12)),
    ],
)
def test_ambiguous_numeric_dates_are_day_first(text: str, expected: date) -> None:
    assert parse_date(text, SUN) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("28/08", date(2027, 8, 28)),  # already past this year -> next year
        ("28/01", date(2027, 1, 28)),  # year rollover
        ("22/11", SUN),  # today counts
        ("30/11", date(2026, 11, 30)),
        ("28.08", date(2027, 8, 28)),
        ("28 Aug", date(2027, 8, 28)),
        ("28 August", date(2027, 8, 28)),
        ("28th August", date(2027, 8, 28)),
        ("Aug 28", date(2027, 8, 28)),
        ("August 28th", date(2027, 8, 28)),
        ("1 Dec", date(2026, 12, 1)),
        ("Dec 25", date(2026, 12, 25)),
    ],
)
def test_dates_without_a_year_are_the_next_one_on_or_after_today(text: str, expected: date) -> None:
    assert parse_date(text, SUN) == expected


@pytest.mark.parametrize(
    "text, today, expected",
    [
        ("today", SUN, SUN),
        ("tomorrow", SUN, date(2026, 11, 23)),
        ("tomorrow", date(2026, 12, 31), date(2027, 1, 1)),
        # A bare weekday is the next one strictly after today.
        ("friday", SUN, FRI),
        ("fri", SUN, FRI),
        ("Friday", FRI, date(2026, 12, 4)),
        ("monday", SUN, date(2026, 11, 23)),
        ("sunday", SUN, date(2026, 11, 29)),
        ("thurs", WED, date(2026, 11, 26)),
        ("tues", WED, date(2026, 12, 1)),
        # "next friday" means the same as "friday".
        ("next friday", SUN, FRI),
        ("next friday", WED, FRI),
        ("next fri", FRI, date(2026, 12, 4)),
        # "this friday": this week's if it hasn't passed (today counts), else the coming one.
        ("this friday", WED, FRI),
        ("this friday", FRI, FRI),
        ("this friday", SAT, date(2026, 12, 4)),
        ("this friday", SUN, FRI),
        ("this wednesday", FRI, date(2026, 12, 2)),
    ],
)
def test_day_words(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    "text, today, expected",
    [
        ("in 3 days", SUN, date(2026, 11, 25)),
        ("in 1 day", SUN, date(2026, 11, 23)),
        ("in 2 weeks", SUN, date(2026, 12, 6)),
        ("in a week", SUN, date(2026, 11, 29)),
        ("in one week", SUN, date(2026, 11, 29)),
        ("in two weeks", SUN, date(2026, 12, 6)),
        ("in 1 month", SUN, date(2026, 12, 22)),
        ("in a month", date(2026, 1, 31), date(2026, 2, 28)),  # clamps to the month's end
        ("in 3 months", SUN, date(2027, 2, 22)),
        ("in a year", SUN, date(2027, 11, 22)),
        ("in 3 working days", SUN, date(2026, 11, 25)),
        ("in 1 working day", FRI, date(2026, 11, 30)),
        ("in 2 business days", date(2026, 12, 24), date(2026, 12, 30)),  # skips Christmas and 28 Dec
    ],
)
def test_relative_periods(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    "text, today, expected",
    [
        ("end of week", WED, FRI),
        ("end of week", FRI, FRI),
        ("end of week", SAT, date(2026, 12, 4)),
        ("end of week", SUN, FRI),
        ("end of the week", WED, FRI),
        ("eow", WED, FRI),
        ("end of month", SUN, date(2026, 11, 30)),
        ("end of this month", SUN, date(2026, 11, 30)),
        ("eom", date(2028, 2, 3), date(2028, 2, 29)),
        ("EOM", date(2026, 2, 28), date(2026, 2, 28)),
        ("end of year", SUN, date(2026, 12, 31)),
        ("end of the year", SUN, date(2026, 12, 31)),
        ("end of september", SUN, date(2027, 9, 30)),  # next September
        ("end of september", date(2026, 9, 30), date(2026, 9, 30)),  # in September: this one
        ("end of sept", date(2026, 3, 1), date(2026, 9, 30)),
        ("end of feb", SUN, date(2027, 2, 28)),
        ("end of november", SUN, date(2026, 11, 30)),
        ("end of december", SUN, date(2026, 12, 31)),
    ],
)
def test_end_of(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    "text",
    [
        "  28 Aug  2026 ",
        "28 AUG 2026",
        "28 aug 2026,",
        "28/08/2026.",
        "'28/08/2026'",
        '"28 Aug 2026"',
        "28/08/2026;",
    ],
)
def test_case_spaces_quotes_and_trailing_punctuation_are_tolerated(text: str) -> None:
    assert parse_date(text, SUN) == date(2026, 8, 28)


def test_messy_relative_text_is_tolerated() -> None:
    assert parse_date("  Next   FRIDAY, ", SUN) == FRI
    assert parse_date("End Of Month!", SUN) == date(2026, 11, 30)


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2026",
        "29/02/2027",
        "30 Feb",
        "32 Aug",
        "31 April 2026",
        "00/08/2026",
        "28/13/2026",
        "2026-02-30",
        "2026-13-01",
        "31/04",
    ],
)
def test_impossible_dates(text: str) -> None:
    with pytest.raises(DateError, match="isn't a real date"):
        parse_date(text, SUN)


def test_impossible_date_message_says_why() -> None:
    with pytest.raises(DateError) as info:
        parse_date("31/02/2026", SUN)
    assert str(info.value).startswith('"31/02/2026" isn\'t a real date: February 2026 has 28 days.')
    assert "Try 28/08/2026" in str(info.value)


def test_us_order_is_refused_with_a_hint() -> None:
    with pytest.raises(DateError) as info:
        parse_date("08/28/2026", SUN)
    assert "day first" in str(info.value)
    assert "28/08/2026" in str(info.value)
    with pytest.raises(DateError, match="day first"):
        parse_date("08/28", SUN)


def test_weekday_that_does_not_match_the_date_is_refused() -> None:
    with pytest.raises(DateError, match="is a Saturday, not a Friday"):
        parse_date("Fri 29 Aug 2026", SUN)


@pytest.mark.parametrize(
    "text",
    [
        "foo",
        "next",
        "28",
        "2026",
        "28 Aug 26",  # word forms need a four-digit year
        "28/08/202",
        "28/08-2026",  # mixed separators
        "in weeks",
        "in 2 working weeks",
        "last friday",
        "end of",
        "28 Aug 2026 review",
        "next friday please",
        "10:00",
        "2026-08-28T10:00",
    ],
)
def test_junk_is_refused(text: str) -> None:
    with pytest.raises(DateError) as info:
        parse_date(text, SUN)
    assert str(info.value) == (
        f'I couldn\'t read "{text}" as a date. '
        "Try 28/08/2026, 28 Aug, next friday, in 2 weeks or end of month."
    )


@pytest.mark.parametrize("text", ["", "   ", ",", '""'])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(DateError, match="Please give a date"):
        parse_date(text, SUN)


def test_absurdly_far_relative_dates_are_refused_not_crashing() -> None:
    for text in ["in 99999999 days", "in 9999 years", "in 999999 working days"]:
        with pytest.raises(DateError, match="too far ahead"):
            parse_date(text, SUN)


def test_date_error_is_a_value_error() -> None:
    assert issubclass(DateError, ValueError)


def test_date_examples_are_all_parseable() -> None:
    for example in [*DATE_EXAMPLES.split(", "), *MORE_DATE_EXAMPLES.split(", ")]:
        parse_date(example, SUN)


def test_a_day_and_month_with_no_year_is_checked_in_the_year_it_lands() -> None:
    # In November 2026, 29 Feb is next February, which has 28 days: refused, not moved to 2028.
    with pytest.raises(DateError, match="February 2027 has 28 days"):
        parse_date("29 Feb", SUN)


def test_round_trip_through_format_date() -> None:
    d = SUN
    for _ in range(400):
        assert parse_date(format_date(d), SUN) == d
        d += timedelta(days=1)


# --- parse_date_prefix ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words, expected",
    [
        (["next", "friday", "Safeguarding", "audit"], (FRI, 2)),
        (["28", "Aug", "2026", "Safeguarding", "audit"], (date(2026, 8, 28), 3)),
        (["28", "Aug", "Safeguarding", "audit"], (date(2027, 8, 28), 2)),
        (["Fri", "28", "Aug", "2026", "audit"], (date(2026, 8, 28), 4)),
        (["28/08/2026", "Send", "minutes"], (date(2026, 8, 28), 1)),
        (["friday", "3", "reports"], (FRI, 1)),
        (["28", "Aug", "12", "schools"], (date(2027, 8, 28), 2)),  # "12" is part of the title
        (["in", "3", "working", "days", "chase", "GP"], (date(2026, 11, 25), 4)),
        (["end", "of", "month", "report"], (date(2026, 11, 30), 3)),
        (["eom"], (date(2026, 11, 30), 1)),
        (["tomorrow,", "please"], (date(2026, 11, 23), 1)),
    ],
)
def test_parse_date_prefix(words: list[str], expected: tuple[date, int]) -> None:
    assert parse_date_prefix(words, SUN) == expected


@pytest.mark.parametrize("words", [[], ["Safeguarding", "audit"], ["review", "friday"], ["soon"]])
def test_parse_date_prefix_none(words: list[str]) -> None:
    assert parse_date_prefix(words, SUN) is None


def test_parse_date_prefix_does_not_fall_back_past_an_impossible_date() -> None:
    # "29 feb" alone would quietly mean 29 Feb 2028; "fri" alone the wrong Friday.
    assert parse_date_prefix(["29", "feb", "2027", "audit"], SUN) is None
    assert parse_date_prefix(["fri", "29", "aug", "2026", "audit"], SUN) is None
    assert parse_date_prefix(["31/02/2026", "audit"], SUN) is None


def test_parse_date_prefix_strict_raises_the_reason() -> None:
    with pytest.raises(DateError, match="February 2027 has 28 days"):
        parse_date_prefix(["29", "feb", "2027", "audit"], SUN, strict=True)
    with pytest.raises(DateError, match="not a Friday"):
        parse_date_prefix(["fri", "29", "aug", "2026", "audit"], SUN, strict=True)
    with pytest.raises(DateError, match="isn't a real date"):
        parse_date_prefix(["31/02/2026", "audit"], SUN, strict=True)
    assert parse_date_prefix(["next", "friday", "audit"], SUN, strict=True) == (FRI, 2)
    assert parse_date_prefix(["audit"], SUN, strict=True) is None


def test_parse_date_prefix_leaves_words_alone() -> None:
    words = ["next", "friday", "x"]
    parse_date_prefix(words, SUN)
    assert words == ["next", "friday", "x"]


# --- parse_time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10:00", time(10, 0)),
        ("9:30", time(9, 30)),
        ("09:30", time(9, 30)),
        ("10am", time(10, 0)),
        ("10 AM", time(10, 0)),
        ("10a.m.", time(10, 0)),
        ("2.30pm", time(14, 30)),
        ("2:30 pm", time(14, 30)),
        ("2pm", time(14, 0)),
        ("14:00", time(14, 0)),
        ("14.00", time(14, 0)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("12:15pm", time(12, 15)),
        ("noon", time(12, 0)),
        ("midday", time(12, 0)),
        (" 10:00, ", time(10, 0)),
    ],
)
def test_parse_time(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "10", "1000", "24:00", "10:60", "13pm", "0am", "14:00pm", "10:5", "ten", "10:00:00", "morning"],
)
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(DateError, match="as a time. Try 10:00, 9:30, 10am, 2.30pm or 14:00."):
        parse_time(text)


# --- formatting -----------------------------------------------------------------------------------


def test_format_date() -> None:
    assert format_date(date(2026, 8, 28)) == "Fri 28 Aug 2026"
    assert format_date(date(2026, 9, 5)) == "Sat 5 Sep 2026"
    assert format_date(SUN) == "Sun 22 Nov 2026"


def test_format_datetime_converts_to_london_wall_time() -> None:
    assert format_datetime(datetime(2026, 8, 28, 9, 0, tzinfo=UTC)) == "Fri 28 Aug 2026, 10:00"  # BST
    assert format_datetime(datetime(2026, 12, 9, 10, 0, tzinfo=UTC)) == "Wed 9 Dec 2026, 10:00"  # GMT
    assert format_datetime(datetime(2026, 8, 28, 23, 30, tzinfo=UTC)) == "Sat 29 Aug 2026, 00:30"  # next day


def test_format_datetime_other_zone_and_input_offsets() -> None:
    dt = datetime(2026, 8, 28, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    assert format_datetime(dt) == "Fri 28 Aug 2026, 10:00"
    assert format_datetime(datetime(2026, 8, 28, 9, 0, tzinfo=UTC), tz="UTC") == "Fri 28 Aug 2026, 09:00"


def test_format_datetime_treats_naive_as_utc() -> None:
    assert format_datetime(datetime(2026, 8, 28, 9, 0)) == "Fri 28 Aug 2026, 10:00"
