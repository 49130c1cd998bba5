"""Filter dates (`since:`, `until:`): a phrase naming a whole period is read by the key's edge. `since:march`
is 1 March (not the end of March, as `due:march` is), `until:march` is 31 March, and `until:this month` is
today while the month is still running. A single day is the same whichever key names it."""

from __future__ import annotations

from datetime import date

import pytest

from commands.meeting_view import past_date
from commands.replies import UserError
from tests.conftest import Core

TODAY = date(2026, 11, 23)  # Monday 23 November 2026, the clock fixture's day
LEAP = date(2028, 12, 4)  # a Monday in a leap year


@pytest.mark.parametrize(
    "key, text, today, expected",
    [
        # a month: its first day for since:/from:, its last day for until:/before:
        ("since", "march", TODAY, date(2026, 3, 1)),
        ("since", "March 2026", TODAY, date(2026, 3, 1)),
        ("from", "mar", TODAY, date(2026, 3, 1)),
        ("until", "march", TODAY, date(2026, 3, 31)),
        ("before", "march", TODAY, date(2026, 3, 31)),
        ("since", "september", TODAY, date(2026, 9, 1)),
        ("until", "february", LEAP, date(2028, 2, 29)),
        ("since", "february", LEAP, date(2028, 2, 1)),
        # the month we are in: started already; for until: only up to today
        ("since", "november", TODAY, date(2026, 11, 1)),
        ("since", "this month", TODAY, date(2026, 11, 1)),
        ("until", "november", TODAY, TODAY),
        ("until", "this month", TODAY, TODAY),
        # weeks, quarters, years
        ("since", "this week", TODAY, TODAY),  # Monday
        ("since", "this week", date(2026, 11, 26), TODAY),  # on Thursday: still Monday
        ("since", "w/c 2 Nov 2026", TODAY, date(2026, 11, 2)),
        ("until", "w/c 2 Nov 2026", TODAY, date(2026, 11, 6)),
        ("since", "this quarter", TODAY, date(2026, 10, 1)),
        ("since", "this year", TODAY, date(2026, 1, 1)),
        ("until", "this year", TODAY, TODAY),
        # one day is one day, whichever key
        ("since", "1 Sep", TODAY, date(2026, 9, 1)),
        ("until", "1 Sep", TODAY, date(2026, 9, 1)),
        ("since", "31/03/2026", TODAY, date(2026, 3, 31)),
        # `end of march` says which day: taken as typed
        ("since", "end of march", TODAY, date(2026, 3, 31)),
        ("since", "start of march", TODAY, date(2026, 3, 1)),
        # another key reads a month as `due:` does (its end)
        ("date", "march", TODAY, date(2026, 3, 31)),
    ],
)
def test_a_filter_date_reads_a_period_by_its_edge(key: str, text: str, today: date, expected: date) -> None:
    assert past_date(text, today, key) == expected


@pytest.mark.parametrize(
    "key, text",
    [("since", "next month"), ("since", "next week"), ("until", "next year"), ("since", "1/1/2027")],
)
def test_a_period_still_ahead_is_refused(key: str, text: str) -> None:
    with pytest.raises(UserError) as info:
        past_date(text, TODAY, key)
    assert "in the future" in str(info.value)


def test_since_march_through_the_core(core: Core) -> None:
    (reply,) = core.run("attendance since:march", user="sam")
    assert not reply.is_error, reply.text
    assert "since Sun 1 Mar 2026" in reply.text + " ".join(str(s.text) for s in reply.sections)
