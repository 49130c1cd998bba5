"""One time-zone rule: the deployment's zone (ECM_TIMEZONE, here Europe/London) for parsing dates, "today",
working days, meeting times and post times, across the BST/GMT changes (29 March and 25 October 2026).

A group's stored `timezone` column is set to another zone here on purpose: nothing may read it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from commands.posts import meeting_reminder, owner_digest
from commands.posts.registry import builders, plan_rows
from storage.actions import get_action
from storage.groups import get_group
from storage.models import TaskGroup
from storage.notifications import Planned, preview
from tests.conftest import Core
from tests.support import db, ok

TZ = "Europe/London"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def group_of(session: Session, core: Core) -> TaskGroup:
    group = get_group(session, core.team_id, core.channel_id)
    assert group is not None and group.id is not None
    return group


@pytest.fixture
def elsewhere(core: Core) -> Core:
    """The fast tier's group, its stored zone set to one far from London (as an old `tz:` could have)."""
    with db(core) as session:
        group = group_of(session, core)
        group.timezone = "Asia/Tokyo"
        session.add(group)
    return core


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (utc(2026, 3, 28, 23, 30), date(2026, 3, 28)),  # Saturday 23:30 GMT
        (utc(2026, 3, 29, 23, 30), date(2026, 3, 30)),  # Monday 00:30 BST: already Monday in London
        (utc(2026, 10, 24, 23, 30), date(2026, 10, 25)),  # Sunday 00:30 BST, the night the clocks go back
        (utc(2026, 10, 25, 23, 30), date(2026, 10, 25)),  # Sunday 23:30 GMT: still Sunday
    ],
)
def test_today_and_typed_dates_are_londons_whatever_the_group_stored(
    elsewhere: Core, now: datetime, today: date
) -> None:
    core = elsewhere
    core.clock.set(now)
    ok(core.command("add Check the clocks @sam due:today"))
    ok(core.command("add Check again @sam due:tomorrow"))
    with db(core) as session:
        gid = group_of(session, core).id
        assert gid is not None
        first, second = get_action(session, gid, 1), get_action(session, gid, 2)
        assert first is not None and second is not None
        assert first.action.due_date == today
        assert (second.action.due_date - today).days == 1  # type: ignore[operator]
    # "Overdue" uses the same today: nothing due today is overdue yet.
    assert "#1" not in core.command("actions overdue").text


def test_monday_after_the_spring_change_is_a_working_day_from_00_30(elsewhere: Core) -> None:
    core = elsewhere
    core.clock.set(utc(2026, 3, 27, 12, 0))
    ok(core.command("add Spring forward @sam due:27/03/2026"))
    core.clock.set(
        utc(2026, 3, 29, 23, 30)
    )  # Mon 30 Mar 00:30 BST (Sunday in UTC and in Tokyo it's 08:30 Mon)
    with db(core) as session:
        rows = plan_rows(session, date(2026, 3, 30), TZ, "chasers")
    assert [r.key for r in rows] == [owner_digest.key("U0SAM", date(2026, 3, 30))]
    assert "#1" in core.command("actions overdue").text


@pytest.mark.parametrize(
    ("day", "post_at"),
    [
        (date(2026, 3, 27), utc(2026, 3, 27, 9, 0)),  # Friday before the change: 09:00 GMT
        (date(2026, 3, 30), utc(2026, 3, 30, 8, 0)),  # Monday after: 09:00 BST
        (date(2026, 10, 23), utc(2026, 10, 23, 8, 0)),  # Friday before the autumn change: 09:00 BST
        (date(2026, 10, 26), utc(2026, 10, 26, 9, 0)),  # Monday after: 09:00 GMT
    ],
)
def test_posts_go_at_0900_london_time_on_either_side_of_a_change(
    elsewhere: Core, day: date, post_at: datetime
) -> None:
    core = elsewhere
    core.clock.set(utc(2026, 3, 1, 12, 0))
    ok(core.command("add Long overdue @sam due:02/03/2026"))
    with db(core) as session:
        (row,) = plan_rows(session, day, TZ, "chasers")
    assert row.due_at == post_at


def _build(session: Session, row: Planned) -> str:
    reply = builders()[row.kind](session, preview(row), TZ)
    return "\n".join([reply.text, *(s.text for s in reply.sections)])


@pytest.mark.parametrize(
    ("reminded", "post_at", "meeting_at", "shown"),
    [
        # A 10:00 meeting on the Monday after the clocks go forward: 09:00 UTC, reminded on Friday at 09:00 GMT.
        (date(2026, 3, 27), utc(2026, 3, 27, 9, 0), utc(2026, 3, 30, 9, 0), "Mon 30 Mar 2026, 10:00"),
        # And after they go back: 10:00 UTC, reminded on Friday at 09:00 BST.
        (date(2026, 10, 23), utc(2026, 10, 23, 8, 0), utc(2026, 10, 26, 10, 0), "Mon 26 Oct 2026, 10:00"),
    ],
)
def test_meeting_reminders_keep_the_wall_clock_time_across_a_change(
    elsewhere: Core, reminded: date, post_at: datetime, meeting_at: datetime, shown: str
) -> None:
    core = elsewhere
    core.clock.set(utc(2026, 3, 1, 12, 0))
    ok(core.command('schedule "Task group" every:monday at:10:00'))
    with db(core) as session:
        (row,) = plan_rows(session, reminded, TZ, "meeting-reminders")
        assert row.kind == meeting_reminder.KIND
        assert row.due_at == post_at
        assert datetime.fromisoformat(row.payload["at"]) == meeting_at
        assert shown in _build(session, row)
