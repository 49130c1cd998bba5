"""The minutes are the record of the meeting: progress reported on earlier actions while it was open appears
under matters arising, every action shows as it stood when the meeting ended (later changes do not rewrite
the minutes), and the meeting's time reads sensibly. Fast tier (the core) and one end-to-end run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.offline import OfflineWorkspace
from storage.clock import FixedClock
from tests.conftest import Core
from tests.support import ok, readable

LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def _part(text: str, heading: str) -> str:
    """The lines of one part of the minutes, from its heading to the next part's heading."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("*")), len(lines))
    return "\n".join(lines[start:end])


def _meeting_with_progress(command: Callable[..., Any], clock: FixedClock) -> None:
    """Three earlier actions; during the meeting #1 is updated with a note, #2 closed, #3 left alone, and a
    new action #4 is raised."""
    ok(command('add "Map CAF champions in every school" due:30 Nov 2026 org:chorley', user="sam"))
    ok(command('add "Youth offer leaflet" due:31 Jan 2027', user="priya"))
    ok(command('add "Swimming passes audit" due:18 Dec 2026', user="chair"))
    clock.set(london(2026, 12, 2, 10, 0))
    ok(command('meeting start "December task group"'))
    clock.advance(timedelta(minutes=10))
    ok(command('update 1 status:in-progress "Half the schools mapped"', user="sam"))
    ok(command('done 2 "Printed and sent to schools"', user="priya"))
    ok(command('add "Draft CAF training calendar" due:31 Mar 2027', user="sam"))
    clock.advance(timedelta(minutes=80))
    ok(command("meeting end"))


def test_minutes_list_progress_and_keep_statuses_as_at_the_end(core: Core, clock: FixedClock) -> None:
    _meeting_with_progress(core.command, clock)
    before = ok(core.command("minutes 1", user="sam")).text
    assert "*When:* Wed 2 Dec 2026, 10:00–11:30 (Europe/London)" in before
    arising = _part(before, "*Matters arising")
    assert arising.startswith("*Matters arising (2)*")
    assert "#1" in arising and "#2" in arising and "#3" not in arising and "#4" not in arising
    assert "<@U0SAM> updated it: status: open → in progress — “Half the schools mapped”" in arising
    assert "<@U0PRIYA> marked it done — “Printed and sent to schools”" in arising
    assert ":white_check_mark: *#2* Youth offer leaflet" in arising
    # On 2 Dec, #1 (due 30 Nov) was overdue: the minutes say so, counted on the day of the meeting.
    assert (
        ":arrows_counterclockwise: *#1* Map CAF champions" in arising
        and "overdue (2 working days)" in arising
    )
    raised = _part(before, "*Actions raised")
    assert "#4" in raised and "Draft CAF training calendar" in raised and "#1" not in raised

    # A week later the actions move on; the minutes of meeting 1 still read as they did.
    clock.set(london(2026, 12, 9, 9, 0))
    ok(core.command('done 1 "All schools mapped"', user="sam"))
    ok(core.command("reopen 2", user="priya"))
    ok(core.command("update 4 due:30 Apr 2027 status:blocked", user="sam"))
    ok(core.command('update 2 title:"Youth offer leaflet, second print"', user="priya"))
    after = ok(core.command("minutes 1", user="sam")).text
    assert after == before
    # …while the register itself shows today's state.
    shown = ok(core.command("show 4", user="sam")).text
    assert "30 Apr 2027" in shown and "blocked" in shown


def test_minutes_of_an_open_meeting_say_so_far(core: Core, clock: FixedClock) -> None:
    ok(core.command('add "Map CAF champions" due:30 Jan 2027', user="sam"))
    ok(core.command('meeting start "Task group"'))
    text = ok(core.command("minutes", user="sam")).text
    assert "*Matters arising:* no progress was reported so far on earlier actions." in text
    ok(core.command('update 1 "Started with the secondary schools"', user="sam"))
    text = ok(core.command("minutes", user="sam")).text
    assert "<@U0SAM> added a note — “Started with the secondary schools”" in _part(
        text, "*Matters arising (1)"
    )
    # Started and read in the same minute: the start alone, never "09:30–09:30".
    assert "*When:* Mon 23 Nov 2026, 09:30 (Europe/London)" in text


def test_meeting_ended_the_minute_it_started_shows_the_start_only(core: Core, clock: FixedClock) -> None:
    ok(core.command('meeting start "Quick one"'))
    ok(core.command("meeting end"))
    text = ok(core.command("minutes 1", user="sam")).text
    assert "*When:* Mon 23 Nov 2026, 09:30 (Europe/London)" in text
    assert "09:30–09:30" not in text
    assert "*Matters arising:* no progress was reported on earlier actions." in text


def test_meeting_over_midnight_shows_both_dates(core: Core, clock: FixedClock) -> None:
    clock.set(london(2026, 11, 23, 23, 30))
    ok(core.command('meeting start "Late one"'))
    clock.advance(timedelta(hours=1))
    ok(core.command("meeting end"))
    text = ok(core.command("minutes 1", user="sam")).text
    assert "*When:* Mon 23 Nov 2026, 23:30 – Tue 24 Nov 2026, 00:30 (Europe/London)" in text


def test_changes_in_the_same_second_as_the_end_fall_on_the_right_side(core: Core, clock: FixedClock) -> None:
    """The fixed clock does not move: what was done before `meeting end` is in the minutes, what came after
    is not, though both carry the same time."""
    ok(core.command('add "Map CAF champions" due:30 Jan 2027', user="sam"))
    ok(core.command('meeting start "Task group"'))
    ok(core.command("update 1 status:blocked", user="sam"))
    ok(core.command("meeting end"))
    ok(core.command("done 1", user="sam"))
    text = ok(core.command("minutes 1", user="sam")).text
    arising = _part(text, "*Matters arising (1)")
    assert ":no_entry: *#1*" in arising and "blocked" in arising
    assert "marked it done" not in arising


def test_e2e_minutes_after_the_meeting_still_show_the_end(group: OfflineWorkspace, clock: FixedClock) -> None:
    """The same meeting through signed slash commands; the channel copy posted at the end and `/ecm minutes 1`
    a week later agree on the matters arising and statuses."""
    ws = group
    _meeting_with_progress(ws.command, clock)
    clock.set(london(2026, 12, 9, 9, 0))
    ok(ws.command('done 1 "All schools mapped"', user="sam"))
    ok(ws.command("reopen 2", user="priya"))
    text = readable(ok(ws.command("minutes 1", user="sam")), ws)
    assert "When: Wed 2 Dec 2026, 10:00–11:30" in text.replace("*", "")
    arising = text[text.index("Matters arising (2)") : text.index("Decisions")]
    assert "@sam updated it: status: open → in progress — “Half the schools mapped”" in arising
    assert "@priya marked it done — “Printed and sent to schools”" in arising
    assert ":white_check_mark: *#2*" in arising and ":arrows_counterclockwise: *#1*" in arising
    assert "All schools mapped" not in text and "reopened" not in text
