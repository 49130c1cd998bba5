"""Meeting schedules: recurrence in Europe/London (10:00 stays 10:00 across BST/GMT), the next three dates,
cancelling one date, attaching a started meeting to its scheduled occurrence. Setting a schedule runs through
the real app; the rest through the core."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.offline import OfflineWorkspace
from storage.clock import FixedClock
from storage.models import MeetingSchedule, MeetingStatus
from tests.conftest import Core
from tests.support import (
    audit_events,
    db,
    err,
    meetings,
    no_failed_posts,  # noqa: F401 - autouse: no post may fail
    ok,
    readable,
)

LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def schedules(ws: OfflineWorkspace | Core) -> list[MeetingSchedule]:
    with db(ws) as session:
        return list(session.exec(select(MeetingSchedule).order_by(MeetingSchedule.id)))  # type: ignore[arg-type]


def next_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("*Next meetings*")
    return [line for line in lines[start + 1 :] if line.startswith("• ")]


def test_schedule_and_next_three(group: OfflineWorkspace) -> None:
    ws = group
    out = ok(ws.command('schedule "Lancashire ECM Task Group" every:"2nd wednesday" at:10:00'))
    assert out.posted
    text = readable(out, ws)
    assert "@chair set the meeting schedule" in text
    assert "every 2nd Wednesday of the month at 10:00 (Europe/London)" in text
    assert "Wed 9 Dec 2026, 10:00; Wed 13 Jan 2027, 10:00; Wed 10 Feb 2027, 10:00" in text
    [saved] = schedules(ws)
    assert saved.rrule == "FREQ=MONTHLY;BYDAY=+2WE" and saved.local_time.hour == 10
    assert [e.verb for e in audit_events(ws, "schedule")] == ["created"]

    text = readable(ok(ws.command("meetings", user="sam")), ws)
    assert "None yet." in text
    assert next_lines(text) == [
        "• Wed 9 Dec 2026, 10:00 — Lancashire ECM Task Group",
        "• Wed 13 Jan 2027, 10:00 — Lancashire ECM Task Group",
        "• Wed 10 Feb 2027, 10:00 — Lancashire ECM Task Group",
    ]
    text = readable(ok(ws.command("schedule", user="sam")), ws)  # anyone may look
    assert "every 2nd Wednesday" in text and "Wed 9 Dec 2026, 10:00" in text


def test_ten_stays_ten_across_bst_and_gmt(core: Core, clock: FixedClock) -> None:
    clock.set(london(2027, 3, 1, 9, 0))
    ok(core.command('schedule "Spring" every:"2nd wednesday" at:10:00'))
    text = readable(ok(core.command("meetings")), core)
    # 10 March is GMT, 14 April and 12 May are BST: all at 10:00 local.
    assert next_lines(text) == [
        "• Wed 10 Mar 2027, 10:00 — Spring",
        "• Wed 14 Apr 2027, 10:00 — Spring",
        "• Wed 12 May 2027, 10:00 — Spring",
    ]
    clock.set(london(2027, 4, 14, 10, 5))
    ok(core.command("meeting start"))
    [meeting] = meetings(core)
    assert meeting.scheduled_for == datetime(2027, 4, 14, 9, 0, tzinfo=UTC)  # 10:00 BST
    clock.set(london(2027, 10, 1, 9, 0))
    ok(core.command("meeting end"))
    text = readable(ok(core.command("meetings")), core)
    assert next_lines(text) == [
        "• Wed 13 Oct 2027, 10:00 — Spring",
        "• Wed 10 Nov 2027, 10:00 — Spring",
        "• Wed 8 Dec 2027, 10:00 — Spring",
    ]


@pytest.mark.parametrize(
    ("started", "attached"),
    [
        ((2026, 12, 9, 8, 0), True),  # two hours early
        ((2026, 12, 9, 11, 59), True),
        ((2026, 12, 9, 7, 59), False),
        ((2026, 12, 9, 12, 1), False),
    ],
)
def test_start_attaches_to_an_occurrence_within_two_hours(
    core: Core, clock: FixedClock, started: tuple[int, ...], attached: bool
) -> None:
    ok(core.command('schedule "December" every:"2nd wednesday" at:10:00'))
    clock.set(london(*started))
    out = ok(core.command("meeting start"))
    [meeting] = meetings(core)
    if attached:
        assert meeting.scheduled_for == london(2026, 12, 9, 10, 0).astimezone(UTC)
        assert meeting.schedule_id == schedules(core)[0].id and meeting.title == "December"
        assert "scheduled for Wed 9 Dec 2026, 10:00" in out.text
    else:
        assert meeting.scheduled_for is None and meeting.schedule_id is None


def test_an_occurrence_is_attached_once(core: Core, clock: FixedClock) -> None:
    ok(core.command('schedule "December" every:"2nd wednesday" at:10:00'))
    clock.set(london(2026, 12, 9, 10, 0))
    ok(core.command("meeting start"))
    ok(core.command("meeting end"))
    ok(core.command('meeting start "Extra session"'))
    first, second = meetings(core)
    assert first.scheduled_for is not None and second.scheduled_for is None
    ok(core.command("meeting end"))
    text = readable(ok(core.command("meetings")), core)
    assert next_lines(text)[0] == "• Wed 13 Jan 2027, 10:00 — December"


def test_schedule_cancel_date(core: Core, clock: FixedClock) -> None:
    ok(core.command('schedule "Task group" every:"2nd wednesday" at:10:00'))
    out = ok(core.command('schedule cancel 13 Jan "New Year"'))
    assert out.posted
    text = readable(out, core)
    assert "cancelled the meeting on Wed 13 Jan 2027, 10:00 (*Task group*): New Year" in text
    assert schedules(core)[0].cancelled_dates == ["2027-01-13"]
    [row] = meetings(core)
    assert row.status == MeetingStatus.CANCELLED and row.started_at is None
    assert row.scheduled_for == london(2027, 1, 13, 10, 0).astimezone(UTC) and row.cancel_reason == "New Year"
    text = readable(ok(core.command("meetings")), core)
    assert next_lines(text)[:4] == [  # the cancelled date where the meeting would have been
        "• Wed 9 Dec 2026, 10:00 — Task group",
        "• ~Wed 13 Jan 2027, 10:00~ — Task group *cancelled*: New Year",
        "• Wed 10 Feb 2027, 10:00 — Task group",
        "• Wed 10 Mar 2027, 10:00 — Task group",
    ]
    err(core.command("schedule cancel 13 Jan"), "already cancelled")
    err(
        core.command("schedule cancel 14 Jan"), "No meeting is scheduled on Thu 14 Jan 2027", "Wed 9 Dec 2026"
    )
    assert [e.verb for e in audit_events(core, "schedule")] == ["created", "date-cancelled"]
    # The cancelled date is never attached to, even when a meeting starts at that time.
    clock.set(london(2027, 1, 13, 10, 0))
    ok(core.command("meeting start"))
    assert meetings(core)[-1].scheduled_for is None


def test_meeting_cancel_with_nothing_open_cancels_the_next_date(core: Core, clock: FixedClock) -> None:
    err(core.command("meeting cancel"), "none scheduled")
    ok(core.command('schedule "Task group" every:"2nd wednesday" at:10:00'))
    out = ok(core.command('meeting cancel "Clashes with the Ofsted visit"'))
    text = readable(out, core)
    assert (
        "cancelled the meeting on Wed 9 Dec 2026, 10:00" in text and "next meeting is Wed 13 Jan 2027" in text
    )
    assert schedules(core)[0].cancelled_dates == ["2026-12-09"]
    [row] = meetings(core)
    assert row.status == MeetingStatus.CANCELLED and row.cancel_reason == "Clashes with the Ofsted visit"
    # Within two hours of a date, that date is the one cancelled.
    clock.set(london(2027, 1, 13, 10, 30))
    ok(core.command("meeting cancel"))
    assert schedules(core)[0].cancelled_dates == ["2026-12-09", "2027-01-13"]
    assert len(meetings(core)) == 2
    assert "No meetings held" in ok(core.command("attendance")).text


@pytest.mark.parametrize(
    ("every", "rule", "described", "first_three"),
    [
        ("week", "FREQ=WEEKLY", "every week", ["Mon 23 Nov 2026", "Mon 30 Nov 2026", "Mon 7 Dec 2026"]),
        (
            '"2 weeks"',
            "FREQ=WEEKLY;INTERVAL=2",
            "every 2 weeks",
            ["Mon 23 Nov 2026", "Mon 7 Dec 2026", "Mon 21 Dec 2026"],
        ),
        ("month", "FREQ=MONTHLY", "every month", ["Mon 23 Nov 2026", "Wed 23 Dec 2026", "Sat 23 Jan 2027"]),
        (
            '"last friday"',
            "FREQ=MONTHLY;BYDAY=-1FR",
            "every last Friday of the month",
            ["Fri 27 Nov 2026", "Fri 25 Dec 2026", "Fri 29 Jan 2027"],
        ),
    ],
)
def test_every_forms(core: Core, every: str, rule: str, described: str, first_three: list[str]) -> None:
    text = readable(ok(core.command(f'schedule "Regular" every:{every} at:10am')), core)
    assert schedules(core)[0].rrule == rule
    assert described in text
    assert "; ".join(f"{d}, 10:00" for d in first_three) in text


def test_raw_rrule_from_until_replace_and_stop(core: Core) -> None:
    text = readable(
        ok(
            core.command(
                'schedule "Raw" rrule:"FREQ=MONTHLY;BYDAY=2WE" at:14:00 from:1 Jan 2027 until:31 Mar 2027'
            )
        ),
        core,
    )
    assert "Wed 13 Jan 2027, 14:00; Wed 10 Feb 2027, 14:00; Wed 10 Mar 2027, 14:00" in text
    assert "until Wed 31 Mar 2027" in text
    first = schedules(core)[0]
    assert first.rrule == "FREQ=MONTHLY;BYDAY=2WE" and str(first.start_date) == "2027-01-01"
    text = readable(
        ok(core.command('schedule "raw" every:"2nd thursday" at:14:00')), core
    )  # same title: replaced
    assert "changed the meeting schedule" in text
    old, new = schedules(core)
    assert old.removed_at is not None and new.removed_at is None
    text = readable(ok(core.command("meetings")), core)
    assert "Thursday" in text and "Wednesday" not in text
    ok(core.command('schedule "Chairs briefing" every:week at:9:00'))
    err(core.command("schedule stop"), "several schedules")
    out = ok(core.command('schedule stop "Chairs briefing"'))
    assert out.posted and "stopped" in out.text
    ok(core.command("schedule stop"))
    assert all(s.removed_at is not None for s in schedules(core))
    assert [e.verb for e in audit_events(core, "schedule")] == [
        "created",
        "replaced",
        "created",
        "created",
        "removed",
        "removed",
    ]
    text = readable(ok(core.command("meetings")), core)
    assert "no schedule yet" in text
    err(core.command("schedule stop"), "no meeting schedule")


def test_an_occurrence_held_early_is_not_next_nor_cancelled_again(core: Core, clock: FixedClock) -> None:
    """A meeting started (and even ended) before its 10:00 slot has taken that slot: `meetings` no longer
    lists it as next, and `meeting cancel` afterwards cancels the following date, not the one just held."""
    ok(core.command('schedule "Task group" every:"2nd wednesday" at:10:00'))
    clock.set(london(2026, 12, 9, 9, 40))
    ok(core.command("meeting start"))
    text = readable(ok(core.command("meetings", user="sam")), core)
    assert next_lines(text)[0] == "• Wed 13 Jan 2027, 10:00 — Task group"
    assert "Wed 9 Dec 2026, 10:00 — Task group" not in text
    clock.set(london(2026, 12, 9, 9, 55))
    ok(core.command("meeting end"))
    text = readable(ok(core.command("meetings", user="sam")), core)
    assert next_lines(text) == [
        "• Wed 13 Jan 2027, 10:00 — Task group",
        "• Wed 10 Feb 2027, 10:00 — Task group",
        "• Wed 10 Mar 2027, 10:00 — Task group",
    ]
    out = ok(core.command("meeting cancel"))
    assert "cancelled the meeting on Wed 13 Jan 2027, 10:00" in readable(out, core)
    assert schedules(core)[0].cancelled_dates == ["2027-01-13"]
    assert [m.status for m in meetings(core)] == [MeetingStatus.CLOSED, MeetingStatus.CANCELLED]


def test_restarting_a_meeting_cancelled_while_open_keeps_its_scheduled_date(
    core: Core, clock: FixedClock
) -> None:
    """Opened by mistake (or under the wrong title) and cancelled: the meeting started again at the scheduled
    time still belongs to that date, so attendance lines up with the schedule."""
    ok(core.command('schedule "December" every:"2nd wednesday" at:10:00'))
    clock.set(london(2026, 12, 9, 9, 50))
    ok(core.command('meeting start "Wrong title"'))
    ok(core.command('meeting cancel "Started under the wrong title"'))
    clock.set(london(2026, 12, 9, 9, 52))
    out = ok(core.command("meeting start"))
    assert "scheduled for Wed 9 Dec 2026, 10:00" in out.text
    first, second = meetings(core)
    assert first.status == MeetingStatus.CANCELLED
    assert second.scheduled_for == london(2026, 12, 9, 10, 0).astimezone(UTC) and second.title == "December"
    ok(core.command("meeting end"))
    text = readable(ok(core.command("meetings")), core)
    assert next_lines(text)[0] == "• Wed 13 Jan 2027, 10:00 — December"
