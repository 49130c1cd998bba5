"""Numbers are read one way, with bounds, and no command does unbounded work (the inputs that crashed or
stalled verbs before: Unicode digits, huge numbers, a long `tz:`, a far-off cancellation), through the core."""

from __future__ import annotations

import time

import pytest

from commands.numbers import whole_number
from tests.conftest import Core

REFUSED = [
    "setup nudge-days:²",
    "setup escalate-after:99999999999999999999",
    "attendance last:²",
    "attendance last:99999999999999999999",
    "minutes ²",
    "minutes ١",
    "minutes 99999999999999999999",
    "show ١",
    "show 99999999999999999999",
    "done １２",
    "update 99999999999999999999 due:friday",
    "actions page:²",
    "actions page:99999999999999999999",
    'schedule "x" rrule:"FREQ=DAILY;COUNT=²" at:10:00',
    'schedule "x" rrule:"FREQ=DAILY;COUNT=99999999999" at:10:00',
    'schedule "x" rrule:"FREQ=DAILY;INTERVAL=99999999999" at:10:00',
    'schedule "x" rrule:"FREQ=MONTHLY;BYDAY=99999999999999999999WE" at:10:00',
    'schedule "x" every:"99999999999 weeks" at:10:00',
    "setup tz:" + "A" * 256,
    "setup tz:Europe/" + "A" * 250,
    "setup tz:../../etc/passwd",
    "add x decision:D99999999999999999999",
    "schedule cancel 31/12/9999",
]


@pytest.mark.parametrize("text", REFUSED)
def test_bad_numbers_get_a_clear_refusal(core: Core, text: str) -> None:
    core.command('schedule "Daily" rrule:"FREQ=DAILY" at:10:00')
    started = time.monotonic()
    out = core.command(text)
    elapsed = time.monotonic() - started
    assert out.is_error and "Sorry" not in out.text, out.text
    assert elapsed < 2, f"{text!r} took {elapsed:.1f} s"


def test_cancelling_a_near_meeting_of_a_daily_schedule_still_works(core: Core) -> None:
    core.command('schedule "Daily" rrule:"FREQ=DAILY" at:10:00')
    out = core.command("schedule cancel 1/12/2026")
    assert not out.is_error, out.text
    assert "cancelled the meeting on Tue 1 Dec 2026" in out.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("0", None),
        ("²", None),
        ("١", None),
        ("１２", None),
        ("1" * 10, None),
        ("", None),
    ],
)
def test_whole_number_reads_ascii_digits_within_bounds(text: str, expected: int | None) -> None:
    assert whole_number(text, 1, 10**9) == expected


def test_a_non_member_cannot_stand_in_for_a_member(core: Core) -> None:
    assert not core.command('meeting start "Board"').is_error
    out = core.command("here for:@dev", user="outsider")
    assert out.is_error and "Only members" in out.text, out.text
    out = core.command('here for:"Barnardo\'s North West"', user="outsider")
    assert not out.is_error, out.text  # a guest, from their own organisation
    out = core.command("here for:@dev", user="sam")  # a member may stand in
    assert not out.is_error, out.text
