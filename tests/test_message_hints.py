"""`commands.forms.message_hints`: what a message says of the action made from it (the form fills it in for
the person to check)."""

from __future__ import annotations

from datetime import date

import pytest

from commands.forms import COUNTYWIDE_VALUE, Choice, message_hints

TODAY = date(2026, 12, 3)  # a Thursday
DISTRICTS = [
    Choice(COUNTYWIDE_VALUE, "Countywide (every district)"),
    Choice("chorley", "Chorley"),
    Choice("south-ribble", "South Ribble"),
    Choice("ribble-valley", "Ribble Valley"),
    Choice("preston", "Preston"),
]


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Preston will pilot the holiday club by 15/01/2027.", date(2027, 1, 15)),
        ("Can *you* send the CAF figures by friday please?", date(2026, 12, 4)),
        ("Report due 18 Dec to the Board", date(2026, 12, 18)),
        ("Circulate the protocol before next friday, thanks", date(2026, 12, 4)),  # the coming one
        ("Last chased on 1/12/2026 with no reply", None),  # no word saying it is due
        ("It was due by 1/11/2026", None),  # past: not a due date to set now
        ("By the way, the room is booked", None),
        ("", None),
    ],
)
def test_the_due_date_follows_by_due_before_or_until(text: str, due: date | None) -> None:
    assert message_hints(text, TODAY, DISTRICTS)[0] == due


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Chorley and South Ribble to share the list", ["chorley", "south-ribble"]),
        ("ribble valley (and PRESTON) agreed", ["ribble-valley", "preston"]),
        ("The Ribble crossing in Chorleywood", []),  # parts of words or of names are not names
        ("Every district, countywide", []),  # countywide is never guessed
    ],
)
def test_districts_are_named_in_full_as_whole_words(text: str, named: list[str]) -> None:
    assert message_hints(text, TODAY, DISTRICTS)[1] == named
