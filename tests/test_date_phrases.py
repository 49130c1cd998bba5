"""The due-date phrases officers write, each read relative to a fixed "today": accepted with its date, or
refused with its message. Covers year ends, the BST/GMT changes and England & Wales bank holidays."""

from __future__ import annotations

from datetime import date

import pytest

from commands.dates import DateError, read_date, working_day_note

MON = date(2026, 11, 23)  # Monday 23 November 2026, the clock fixture's day
YEAR_END = date(2026, 12, 30)  # Wednesday, between Christmas and New Year
NYE = date(2026, 12, 31)
BST_STARTS = date(2026, 3, 28)  # Saturday; clocks go forward on Sunday 29 March, Easter follows
BST_ENDS = date(2026, 10, 25)  # Sunday; clocks go back today
BANK_HOLIDAY_WEEKEND = date(2026, 8, 28)  # Friday before the late summer bank holiday (Mon 31 Aug)
LEAP_NEW_YEAR = date(2028, 1, 1)


def d(year: int, month: int, day: int) -> date:
    return date(year, month, day)


ACCEPTED: list[tuple[str, date, date]] = [
    # "in N … time", fortnights, weeks today
    ("in 2 weeks' time", MON, d(2026, 12, 7)),
    ("in 2 weeks time", MON, d(2026, 12, 7)),
    ("in two weeks\u2019 time", MON, d(2026, 12, 7)),
    ("in a fortnight", MON, d(2026, 12, 7)),
    ("in a fortnight's time", MON, d(2026, 12, 7)),
    ("a fortnight today", MON, d(2026, 12, 7)),
    ("a week today", MON, d(2026, 11, 30)),
    ("a week tomorrow", MON, d(2026, 12, 1)),
    ("2 weeks", MON, d(2026, 12, 7)),
    ("within 2 weeks", MON, d(2026, 12, 7)),
    ("2 weeks from today", MON, d(2026, 12, 7)),
    ("in 10 days", MON, d(2026, 12, 3)),
    ("in 10 days' time", MON, d(2026, 12, 3)),
    ("in a couple of weeks", MON, d(2026, 12, 7)),
    ("in 3 months", MON, d(2027, 2, 23)),
    ("in 6 months' time", MON, d(2027, 5, 23)),
    ("in a year's time", MON, d(2027, 11, 23)),
    ("in 5 working days", MON, d(2026, 11, 30)),
    ("within 5 working days", MON, d(2026, 11, 30)),
    ("in 2 fortnights", MON, d(2026, 12, 21)),
    # weeks and months as periods
    ("next week", MON, d(2026, 12, 4)),
    ("this week", MON, d(2026, 11, 27)),
    ("by the weekend", MON, d(2026, 11, 27)),
    ("end of next week", MON, d(2026, 12, 4)),
    ("by the end of next week", MON, d(2026, 12, 4)),
    ("the week after next", MON, d(2026, 12, 11)),
    ("end of the week after next", MON, d(2026, 12, 11)),
    ("next month", MON, d(2026, 12, 31)),
    ("end of next month", MON, d(2026, 12, 31)),
    ("by end of month", MON, d(2026, 11, 30)),
    ("by the end of the month", MON, d(2026, 11, 30)),
    ("month end", MON, d(2026, 11, 30)),
    ("the month after next", MON, d(2027, 1, 31)),
    ("this month", MON, d(2026, 11, 30)),
    ("next year", MON, d(2027, 12, 31)),
    ("end of the year", MON, d(2026, 12, 31)),
    ("end of 2027", MON, d(2027, 12, 31)),
    ("end of quarter", MON, d(2026, 12, 31)),
    ("end of next quarter", MON, d(2027, 3, 31)),
    ("end of the financial year", MON, d(2027, 3, 31)),
    # months
    ("March 2027", MON, d(2027, 3, 31)),
    ("Mar 2027", MON, d(2027, 3, 31)),
    ("march '27", MON, d(2027, 3, 31)),
    ("march", MON, d(2027, 3, 31)),
    ("by March", MON, d(2027, 3, 31)),
    ("end of march 2027", MON, d(2027, 3, 31)),
    ("november", MON, d(2026, 11, 30)),
    ("next november", MON, d(2027, 11, 30)),
    ("mid december", MON, d(2026, 12, 15)),
    ("mid-January", MON, d(2027, 1, 15)),
    ("the middle of march", MON, d(2027, 3, 15)),
    ("mid next month", MON, d(2026, 12, 15)),
    ("start of next month", MON, d(2026, 12, 1)),
    ("beginning of next week", MON, d(2026, 11, 30)),
    ("start of february", MON, d(2027, 2, 1)),
    # week commencing
    ("w/c 7 Dec", MON, d(2026, 12, 11)),
    ("w/c 7/12", MON, d(2026, 12, 11)),
    ("wc 7th December", MON, d(2026, 12, 11)),
    ("w.c. 7 Dec", MON, d(2026, 12, 11)),
    ("week commencing 7 December 2026", MON, d(2026, 12, 11)),
    ("w/b 4 Jan", MON, d(2027, 1, 8)),
    # weekdays
    ("friday", MON, d(2026, 11, 27)),
    ("next friday", MON, d(2026, 11, 27)),
    ("this coming friday", MON, d(2026, 11, 27)),
    ("friday week", MON, d(2026, 12, 4)),
    ("a week on friday", MON, d(2026, 12, 4)),
    ("friday next week", MON, d(2026, 12, 4)),
    ("next week friday", MON, d(2026, 12, 4)),
    ("the friday after next", MON, d(2026, 12, 4)),
    ("friday 11/12", MON, d(2026, 12, 11)),
    ("fri 11 dec", MON, d(2026, 12, 11)),
    ("friday the 11th", MON, d(2026, 12, 11)),
    ("monday", MON, d(2026, 11, 30)),
    ("this monday", MON, MON),
    # days of the month
    ("the 30th", MON, d(2026, 11, 30)),
    ("30th", MON, d(2026, 11, 30)),
    ("the 15th", MON, d(2026, 12, 15)),
    ("15th of next month", MON, d(2026, 12, 15)),
    ("20/11", MON, d(2027, 11, 20)),
    ("23/11", MON, MON),
    ("28/01", MON, d(2027, 1, 28)),
    # festivals
    ("by christmas", MON, d(2026, 12, 24)),
    ("christmas", MON, d(2026, 12, 24)),
    ("by xmas", MON, d(2026, 12, 24)),
    ("christmas eve", MON, d(2026, 12, 24)),
    ("christmas day", MON, d(2026, 12, 25)),
    ("boxing day", MON, d(2026, 12, 26)),
    ("by easter", MON, d(2027, 3, 25)),
    # fillers and times of day
    ("by friday", MON, d(2026, 11, 27)),
    ("on friday", MON, d(2026, 11, 27)),
    ("friday at the latest", MON, d(2026, 11, 27)),
    ("no later than 11/12", MON, d(2026, 12, 11)),
    ("friday 5pm", MON, d(2026, 11, 27)),
    ("cob friday", MON, d(2026, 11, 27)),
    ("close of play on friday", MON, d(2026, 11, 27)),
    ("by close of play friday", MON, d(2026, 11, 27)),
    ("friday eod", MON, d(2026, 11, 27)),
    ("eod", MON, MON),
    ("tomorrow morning", MON, d(2026, 11, 24)),
    ("friday at 10:00", MON, d(2026, 11, 27)),
    ("the day after tomorrow", MON, d(2026, 11, 25)),
    # year end
    ("tomorrow", YEAR_END, d(2026, 12, 31)),
    ("friday", YEAR_END, d(2027, 1, 1)),
    ("next week", YEAR_END, d(2027, 1, 8)),
    ("next month", YEAR_END, d(2027, 1, 31)),
    ("end of next month", YEAR_END, d(2027, 1, 31)),
    ("1/1", YEAR_END, d(2027, 1, 1)),
    ("end of year", YEAR_END, d(2026, 12, 31)),
    ("next year", YEAR_END, d(2027, 12, 31)),
    ("christmas", YEAR_END, d(2027, 12, 24)),
    ("in 2 working days", YEAR_END, d(2027, 1, 4)),
    ("w/c 4 jan", YEAR_END, d(2027, 1, 8)),
    ("in 1 month", NYE, d(2027, 1, 31)),
    ("end of february", NYE, d(2027, 2, 28)),
    ("march", NYE, d(2027, 3, 31)),
    ("29/02", LEAP_NEW_YEAR, d(2028, 2, 29)),
    # clocks go forward (Sun 29 Mar 2026), with Easter the week after
    ("tomorrow", BST_STARTS, d(2026, 3, 29)),
    ("in 1 working day", BST_STARTS, d(2026, 3, 30)),
    ("next week", BST_STARTS, d(2026, 4, 3)),
    ("by easter", BST_STARTS, d(2026, 4, 2)),
    ("end of the financial year", BST_STARTS, d(2026, 3, 31)),
    ("end of march", BST_STARTS, d(2026, 3, 31)),
    ("in 5 working days", BST_STARTS, d(2026, 4, 7)),
    # clocks go back (Sun 25 Oct 2026)
    ("tomorrow", BST_ENDS, d(2026, 10, 26)),
    ("this week", BST_ENDS, d(2026, 10, 30)),
    ("end of month", BST_ENDS, d(2026, 10, 31)),
    ("next friday", BST_ENDS, d(2026, 10, 30)),
    ("friday week", BST_ENDS, d(2026, 11, 6)),
    # bank holiday weekend
    ("monday", BANK_HOLIDAY_WEEKEND, d(2026, 8, 31)),
    ("in 1 working day", BANK_HOLIDAY_WEEKEND, d(2026, 9, 1)),
    ("end of month", BANK_HOLIDAY_WEEKEND, d(2026, 8, 31)),
    ("in 2 weeks' time", BANK_HOLIDAY_WEEKEND, d(2026, 9, 11)),
]

REFUSED: list[tuple[str, date, str]] = [
    ("31/02", MON, '"31/02" isn\'t a real date: February 2027 has 28 days.'),
    ("29/02", MON, '"29/02" isn\'t a real date: February 2027 has 28 days.'),
    ("31/02", LEAP_NEW_YEAR, "February 2028 has 29 days"),
    ("31/04", MON, "April 2027 has 30 days"),
    ("next blursday", MON, 'I couldn\'t read "next blursday" as a date (did you mean “thursday”?).'),
    ("end of smarch", MON, 'I couldn\'t read "end of smarch" as a date (did you mean “march”?).'),
    (
        "w/c 8 Dec",
        MON,
        "a week commencing is a Monday, and Tue 8 Dec 2026 is a Tuesday (did you mean w/c Mon 7",
    ),
    ("friday 12/12", MON, "12 Dec 2026 is a Saturday, not a Friday"),
    ("asap", MON, '"asap" isn\'t a date: give the day it is needed by'),
    ("soon", MON, "give the day it is needed by"),
    ("tbc", MON, "leave `due:` out until there is a date"),
    ("end of term", MON, "school terms and holidays differ"),
    ("half term", MON, "school terms and holidays differ"),
    ("in 2 working weeks", MON, 'I couldn\'t read "in 2 working weeks" as a date.'),
    ("friday 3", MON, 'I couldn\'t read "friday 3" as a date.'),
    ("next", MON, 'I couldn\'t read "next" as a date.'),
    ("28", MON, 'I couldn\'t read "28" as a date.'),
    ("2026", MON, 'I couldn\'t read "2026" as a date.'),
    ("end of", MON, 'I couldn\'t read "end of" as a date.'),
    ("in a few weeks", MON, 'I couldn\'t read "in a few weeks" as a date.'),
]


@pytest.mark.parametrize("text, today, expected", ACCEPTED)
def test_accepted_phrases(text: str, today: date, expected: date) -> None:
    assert read_date(text, today).day == expected


@pytest.mark.parametrize("text, today, message", REFUSED)
def test_refused_phrases(text: str, today: date, message: str) -> None:
    with pytest.raises(DateError) as info:
        read_date(text, today)
    assert message in str(info.value)


def test_there_are_over_a_hundred_phrasings() -> None:
    assert len(ACCEPTED) + len(REFUSED) >= 100
    assert len({(text, today) for text, today, _ in ACCEPTED}) == len(ACCEPTED)


@pytest.mark.parametrize(
    "text, today, note",
    [
        (
            "next friday",
            MON,
            "Read “next friday” as *Fri 27 Nov 2026* (the coming Friday; for the one after, write “friday week”).",
        ),
        ("next week", MON, "as *Fri 4 Dec 2026* (the end of next week)."),
        ("March 2027", MON, "as *Wed 31 Mar 2027* (the end of March)."),
        ("w/c 7 Dec", MON, "as *Fri 11 Dec 2026* (the end of the week commencing Mon 7 Dec 2026)."),
        ("by christmas", MON, "as *Thu 24 Dec 2026* (the last working day before Christmas Day)."),
        ("28/01", MON, "Read “28/01” as *Thu 28 Jan 2027*: no year was given and that has passed in 2026."),
        ("march", MON, "(the end of March): no year was given and that has passed in 2026."),
        ("friday 5pm", MON, "Due dates are whole days, so the time (5pm) isn't kept."),
    ],
)
def test_loose_phrases_say_how_they_were_read(text: str, today: date, note: str) -> None:
    assert any(note in n for n in read_date(text, today).notes())


@pytest.mark.parametrize("text", ["28/11/2026", "friday 11/12", "in 2 weeks", "tomorrow", "28 Aug 2027"])
def test_plain_dates_need_no_note(text: str) -> None:
    assert read_date(text, MON).notes() == []


@pytest.mark.parametrize(
    "day, note",
    [
        (
            d(2026, 12, 25),
            "Fri 25 Dec 2026 is a bank holiday (Christmas Day). I kept it as the due date; the next working day is Tue 29 Dec 2026.",
        ),
        (
            d(2026, 12, 26),
            "Sat 26 Dec 2026 is a Saturday (Boxing Day). I kept it as the due date; the next working day is Tue 29 Dec 2026.",
        ),
        (d(2026, 12, 28), "Mon 28 Dec 2026 is a bank holiday (Boxing Day (substitute day))."),
        (
            d(2026, 11, 29),
            "Sun 29 Nov 2026 is a Sunday. I kept it as the due date; the next working day is Mon 30 Nov 2026.",
        ),
        (d(2026, 8, 31), "the next working day is Tue 1 Sep 2026"),
        (
            d(2026, 4, 3),
            "Fri 3 Apr 2026 is a bank holiday (Good Friday). I kept it as the due date; the next working day is Tue 7 Apr 2026.",
        ),
    ],
)
def test_weekend_and_bank_holiday_due_dates_name_the_next_working_day(day: date, note: str) -> None:
    assert note in (working_day_note(day) or "")


def test_working_days_need_no_note() -> None:
    assert working_day_note(d(2026, 12, 24)) is None
