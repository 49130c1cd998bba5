"""Attendance counts over several meetings: per organisation and per member, cancelled meetings excluded,
`last:`, `since:`, `district:`, and organisations represented at fewer than half named in words (through the
core; the summary posted after a meeting through the real app)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.offline import OfflineWorkspace, block_text
from storage import attendance as attendance_store
from storage.clock import FixedClock
from storage.models import MeetingStatus
from tests.conftest import Core
from tests.support import (
    db,
    group_of,
    meetings,
    no_failed_posts,  # noqa: F401 - autouse: no post may fail
    ok,
    readable,
)

LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def line_for(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def _four_meetings(ws: OfflineWorkspace | Core, clock: FixedClock) -> None:
    """M1, M2 and M4 are held; M3 is opened then cancelled; one scheduled date is cancelled in advance."""
    ok(ws.command('schedule "Task group" every:"1st wednesday" at:10:00'))
    # M1, Wed 2 Dec 2026: sam here, priya apologies, dev absent.
    clock.set(london(2026, 12, 2, 10, 0))
    ok(ws.command("meeting start"))
    ok(ws.command("here", user="sam"))
    ok(ws.command("apologies", user="priya"))
    ok(ws.command("meeting end"))
    # M2, Wed 6 Jan 2027: sam, priya; jo stands in for dev.
    clock.set(london(2027, 1, 6, 10, 0))
    ok(ws.command("meeting start"))
    ok(ws.command("present @sam @priya"))
    ok(ws.command("present @jo for:@dev"))
    ok(ws.command("meeting end"))
    # M3, Wed 3 Feb 2027: opened, then cancelled: never counts.
    clock.set(london(2027, 2, 3, 10, 0))
    ok(ws.command("meeting start"))
    ok(ws.command("present @sam @priya @dev"))
    ok(ws.command('meeting cancel "Fire alarm"'))
    # Wed 3 Mar 2027 is cancelled ahead of time; the group meets on Thu 4 Mar instead (M4).
    clock.set(london(2027, 2, 20, 9, 0))
    ok(ws.command("meeting cancel"))
    clock.set(london(2027, 3, 4, 14, 0))
    ok(ws.command("meeting start"))
    ok(ws.command("apologies @sam"))
    ok(ws.command("here", user="dev"))
    ok(ws.command("meeting end"))  # priya: absent


def test_counts_over_several_meetings(core: Core, clock: FixedClock) -> None:
    _four_meetings(core, clock)
    statuses = [m.status for m in meetings(core)]
    assert statuses == [
        MeetingStatus.CLOSED,
        MeetingStatus.CLOSED,
        MeetingStatus.CANCELLED,
        MeetingStatus.CANCELLED,
        MeetingStatus.CLOSED,
    ]

    out = ok(core.command("attendance", user="sam"))
    assert out.ephemeral and not out.posted
    text = readable(out, core)
    assert "Over the last 6 meetings: 3 meetings held, Wed 2 Dec 2026 – Thu 4 Mar 2027" in text
    assert "Cancelled meetings are not counted" in text
    assert line_for(text, "• Chorley") == "• Chorley — represented at 2 of 3 meetings; 1 apology"
    assert (
        line_for(text, "• South Ribble")
        == "• South Ribble — represented at 1 of 3 meetings; 1 apology, absent from 1 — *represented at fewer than half*"
    )
    assert (
        line_for(text, "• Lancashire Constabulary")
        == "• Lancashire Constabulary — represented at 2 of 3 meetings (1 present, 1 by substitute); absent from 1"
    )
    assert line_for(text, "• Lancashire County Council").startswith(
        "• Lancashire County Council — represented at 3 of 3 meetings"
    )
    # Burnley has no registered member: named once, as a gap in membership, not as missing meetings.
    assert not any(line.startswith("• Burnley") for line in text.splitlines())
    gap = line_for(text, "No member is registered for")
    assert "Burnley" in gap and "a gap in membership rather than missed meetings" in gap
    flagged = line_for(text, "Represented at fewer than half")
    assert "South Ribble" in flagged and "Burnley" not in flagged and "Chorley" not in flagged
    # Districts first, then the other organisations, each alphabetically.
    names = [line.split(" — ")[0][2:] for line in text.splitlines() if line.startswith("• ")]
    assert names.index("South Ribble") < names.index("Lancashire Constabulary")
    assert names[names.index("Lancashire Constabulary") :] == sorted(
        names[names.index("Lancashire Constabulary") :]
    )
    assert "%" not in text

    text = readable(ok(core.command("attendance by:member", user="sam")), core)
    assert line_for(text, "• @sam") == "• @sam (Chorley) — attended 2 of 3 meetings; 1 apology"
    assert (
        line_for(text, "• @priya")
        == "• @priya (South Ribble) — attended 1 of 3 meetings; 1 apology, absent from 1 — *attended fewer than half*"
    )
    assert line_for(text, "• @dev") == (
        "• @dev (Lancashire Constabulary) — attended 1 of 3 meetings; 1 apology, "
        "absent from 1 — *attended fewer than half*"
    )
    assert (
        line_for(text, "• @jo")
        == "• @jo (Lancashire Constabulary) — attended 1 of 3 meetings (1 as substitute)"
    )
    assert "@jo" not in line_for(text, "Attended fewer than half")  # guests are not expected every time

    text = readable(ok(core.command("attendance last:2", user="sam")), core)
    assert "2 meetings held, Wed 6 Jan 2027 – Thu 4 Mar 2027" in text
    assert (
        line_for(text, "• South Ribble") == "• South Ribble — represented at 1 of 2 meetings; absent from 1"
    )

    text = readable(ok(core.command("attendance since:1 Feb 2027", user="sam")), core)
    assert "1 meeting held, Thu 4 Mar 2027" in text and "since Mon 1 Feb 2027" in text
    assert (
        line_for(text, "• Chorley") == "• Chorley — represented at 0 of 1 meeting; 1 apology — "
        "*represented at fewer than half*"
    )

    text = readable(ok(core.command("attendance district:south-ribble", user="sam")), core)
    assert line_for(text, "• South Ribble")
    assert "• Chorley" not in text and "• Burnley" not in text
    text = readable(ok(core.command("attendance district:chorley by:member", user="sam")), core)
    assert "• @sam" in text and "• @priya" not in text

    # In SQL: the same figures straight from storage.
    with db(core) as session:
        group_row = group_of(session, core)
        choice = attendance_store.closed_meetings(session, group_row.id, last=6)  # type: ignore[arg-type]
        assert len(choice.ids) == 3
        tallies = {
            t.name: t
            for t in attendance_store.organisation_tallies(session, choice, ["Chorley", "South Ribble"])
        }
        assert (tallies["Chorley"].represented, tallies["Chorley"].apologies) == (2, 1)
        assert tallies["South Ribble"].below_half


def test_summary_after_each_meeting_counts_only_held_meetings(
    group: OfflineWorkspace, clock: FixedClock
) -> None:
    ws = group
    _four_meetings(ws, clock)
    clock.advance(timedelta(days=30))
    ok(ws.command("meeting start"))
    ok(ws.command("present @sam @priya @dev"))
    out = ok(ws.command("meeting end"))
    summary = ws.readable(block_text(out.posted[1].blocks))
    assert "4 meetings held" in summary
    assert "• South Ribble — represented at 2 of 4 meetings; 1 apology, absent from 1" in summary
    assert "fewer than half" not in line_for(summary, "• South Ribble")


def test_since_without_a_year_means_the_one_gone(core: Core, clock: FixedClock) -> None:
    clock.set(london(2027, 3, 10, 12, 0))
    text = ok(core.command("attendance since:1 Dec", user="sam")).text
    assert "since Tue 1 Dec 2026" in text


def test_counts_add_up_for_districts_nobody_attends_and_members_who_joined_later(
    core: Core, clock: FixedClock
) -> None:
    """Which districts keep missing meetings: a district nobody came for is absent from every meeting held, not
    "absent 0". A member who joined part-way is counted over the meetings since they joined, so attending every
    one of those is not "fewer than half"."""
    for day in (2, 9, 16):  # three meetings; kim joins Burnley after the first and attends the next two
        clock.set(london(2026, 12, day, 10, 0))
        if day == 9:
            ok(core.command("member @kim district:burnley"))
        ok(core.command("meeting start"))
        ok(core.command("present @sam" + (" @kim" if day > 2 else "")))
        ok(core.command("meeting end"))
    text = readable(ok(core.command("attendance", user="sam")), core)
    assert "Fylde" in line_for(text, "No member is registered for")  # named once, as a membership gap
    assert line_for(text, "• Burnley") == "• Burnley — represented at 2 of 3 meetings; absent from 1"
    text = readable(ok(core.command("attendance by:member", user="sam")), core)
    assert line_for(text, "• @kim") == "• @kim (Burnley) — attended 2 of 2 meetings"
    assert "@kim" not in line_for(text, "Attended fewer than half")
    assert (
        line_for(text, "• @priya")
        == "• @priya (South Ribble) — attended 0 of 3 meetings; absent from 3 — *attended fewer than half*"
    )
    ok(core.command("member @lou district:fylde"))  # joined after every meeting so far
    text = readable(ok(core.command("attendance by:member", user="sam")), core)
    assert line_for(text, "• @lou") == "• @lou (Fylde) — joined since these meetings"
