"""Every bad input and permission rule of the meeting verbs: a clear ephemeral error, and nothing stored."""

from __future__ import annotations

import pytest

from bot.offline import OfflineWorkspace
from tests.conftest import Core
from tests.support import (
    err,
    no_failed_posts,  # noqa: F401 - autouse: no post may fail
    ok,
    table_counts,
)

# (user, command, fragment of the error) — run with NO meeting open.
WITHOUT_MEETING = [
    # Chairs only.
    ("sam", "meeting start", "Only a chair"),
    ("sam", "meeting end", "Only a chair"),
    ("sam", "meeting cancel", "Only a chair"),
    ("sam", 'decide "Something"', "Only a chair"),
    ("sam", 'schedule "X" every:week at:10:00', "Only a chair"),
    ("sam", "schedule cancel 9 Dec", "Only a chair"),
    ("sam", "schedule stop", "Only a chair"),
    # Nothing open.
    ("chair", "meeting end", "no meeting open"),
    ("chair", 'decide "Adopt the plan"', "no meeting open"),
    ("sam", 'note "Some information"', "no meeting open"),
    ("sam", "here", "no meeting open"),
    ("chair", "present @sam", "no meeting open"),
    ("sam", "apologies", "no meeting open"),
    ("chair", "meeting cancel", "none scheduled"),
    ("sam", "minutes", "No meetings have been held"),
    # Bad input.
    ("chair", "meeting banana", "I don't know “banana”"),
    ("chair", "meeting start due:friday", "has no option “due:”"),
    ("chair", "meeting @sam", "doesn't take people"),
    ("chair", "meeting start " + "x" * 201, "title is too long"),
    ("chair", "meeting end now", "takes nothing else"),
    ("chair", "meeting cancel " + "y" * 501, "reason is too long"),
    ("chair", "meetings soon", "takes nothing else"),
    ("sam", "attendance last:0", "`last:` takes a number"),
    ("sam", "attendance last:many", "`last:` takes a number"),
    ("sam", "attendance last:101", "`last:` takes a number"),
    ("sam", "attendance since:whenever", "couldn't read"),
    ("sam", "attendance since:1 Jan 2030", "in the future"),
    ("sam", "attendance by:colour", "not a way to count"),
    ("sam", "attendance district:narnia", "no district “narnia”"),
    ("sam", "attendance everyone", "I don't understand"),
    ("sam", "decisions status:maybe", "not a decision status"),
    ("sam", "decisions since:someday", "couldn't read"),
    ("sam", "decisions D1", "I don't understand"),
    ("chair", "schedule every:week", "what time"),
    ("chair", "schedule at:10:00", "how often"),
    ("chair", 'schedule every:week rrule:"FREQ=WEEKLY" at:10:00', "not both"),
    ("chair", 'schedule every:"now and then" at:10:00', "couldn't read"),
    ("chair", "schedule every:week at:25:00", "as a time"),
    ("chair", "schedule every:week at:10", "as a time"),
    ("chair", 'schedule rrule:"FREQ=HOURLY" at:10:00', "FREQ must be"),
    ("chair", 'schedule rrule:"monthly" at:10:00', "iCalendar rule"),
    ("chair", "schedule every:week at:10:00 from:1 Mar 2027 until:1 Feb 2027", "before the first date"),
    ("chair", "schedule every:week at:10:00 until:1 Nov 2026", "before the first date"),
    ("chair", 'schedule rrule:"FREQ=WEEKLY;COUNT=1" at:9:00 from:1 Nov 2026', "no meetings still to come"),
    ("chair", "schedule every:week at:10:00 reason:why", "goes with `/ecm schedule cancel"),
    ("chair", "schedule cancel", "which date"),
    ("chair", "schedule cancel someday", "couldn't read"),
    ("chair", "schedule cancel 9 Dec", "No meeting is scheduled"),
    ("chair", "schedule stop", "no meeting schedule"),
    ("chair", "schedule @sam", "doesn't take people"),
]

# Run with a meeting open (started by the chair).
WITH_MEETING = [
    ("chair", 'meeting start "Second"', "already open"),
    ("sam", "present @priya", "Only a chair"),
    ("sam", "apologies @priya", "Only a chair"),
    ("chair", "present", "Say who is present"),
    ("chair", "present @stranger", "not a registered member"),
    ("stranger", "here", "You are not a registered member"),
    ("stranger", "apologies", "You are not a registered member"),
    ("chair", "present @sam for:@stranger", "not a registered member"),
    ("chair", "present @sam as:banana", "not a way of attending"),
    ("chair", "present @sam as:apologies", "not a way of attending"),
    ("chair", "present @jo as:substitute", "A substitute needs `for:`"),
    ("sam", "here as:substitute", "A substitute needs `for:`"),
    ("sam", "here for:@sam as:substitute", "can't stand in for themselves"),
    ("chair", "present @sam for:chorly", "Did you mean *Chorley*"),
    ("chair", "present @sam for:@sam,@priya", "one person"),
    ("chair", "present @sam for:" + "z" * 201, "too long"),
    ("chair", "present @sam yesterday", "I don't understand"),
    ("sam", "here @priya", "for yourself"),
    ("sam", "here please", "I don't understand"),
    ("chair", 'decide ""', "Say what was decided"),
    ("chair", "decide status:agreed", "Say what was decided"),
    ("chair", 'decide "Adopt" status:maybe', "not a decision status"),
    ("chair", "decide " + "d" * 2001, "too long"),
    ("sam", 'note ""', "Say what to note"),
    ("sam", "note " + "n" * 2001, "too long"),
    ("chair", "schedule cancel 23 Nov 2026", "No meeting is scheduled"),
]


def _check(core: Core, user: str, command: str, fragment: str) -> None:
    """Through the core directly (fast tier): the reply is an error and nothing was stored."""
    before = table_counts(core)
    err(core.command(command, user=user), fragment)
    assert table_counts(core) == before, f"{command!r} stored something"


@pytest.mark.parametrize(
    ("user", "command", "fragment"), WITHOUT_MEETING, ids=[c[1][:40] for c in WITHOUT_MEETING]
)
def test_errors_without_a_meeting(core: Core, user: str, command: str, fragment: str) -> None:
    _check(core, user, command, fragment)


@pytest.mark.parametrize(("user", "command", "fragment"), WITH_MEETING, ids=[c[1][:40] for c in WITH_MEETING])
def test_errors_during_a_meeting(core: Core, user: str, command: str, fragment: str) -> None:
    ok(core.command('meeting start "November"'))
    _check(core, user, command, fragment)


def test_not_set_up_channel(core: Core) -> None:
    for command in ("meeting start", "here", 'decide "x"', "attendance", "meetings", "minutes", "schedule"):
        err(core.command(command, user="sam", channel="C0ELSEWHERE"), "not a task group yet")


def test_members_may_record_themselves(core: Core) -> None:
    ok(core.command("meeting start"))
    ok(core.command("present @sam", user="sam"))  # oneself: no chair needed
    ok(core.command("apologies @priya", user="priya"))
    ok(core.command("here for:pre", user="dev"))  # a unique prefix of a district
    err(core.command("present @sam @priya", user="sam"), "Only a chair")


def test_a_retried_request_changes_nothing_twice(group: OfflineWorkspace) -> None:
    ws = group
    ok(ws.command("meeting start"))
    ok(ws.command('decide "Once only"', trigger_id="trig-1"))
    before = table_counts(ws)
    out = ws.command('decide "Once only"', trigger_id="trig-1", retry_num=1)
    assert not out.messages
    assert table_counts(ws) == before
