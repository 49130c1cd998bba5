"""What the tests share, in one place: database access beside the app, reading replies (`ok`, `err`),
running the scheduled posts as the scheduler would, and reading back what Slack received.

`ok(out)`: no error and a reply came back (`out` is an end-to-end `Exchange` or the fast tier's `Replies`). `err(out, *fragments)`: an error, nothing posted in the channel,
and each fragment in its text. `action_row` is an action with its owners, outcomes and districts
(`storage.actions.ActionRow`); `action_record` is the bare `Action` row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from bot.jobs.dispatcher import DispatchReport, dispatch_due, local_today
from bot.jobs.planner import plan
from bot.offline import Exchange, OfflineWorkspace, block_text
from bot.standin import Message, SlackStandIn
from commands.posts import owner_digest
from commands.posts.registry import kinds_for
from storage import actions as store
from storage.clock import FixedClock
from storage.db import session_scope
from storage.groups import create_group, get_group, list_districts, set_districts
from storage.models import (
    Action,
    Attendance,
    AuditEvent,
    Decision,
    Meeting,
    MeetingNote,
    MeetingSchedule,
    Notification,
    Outcome,
    TaskGroup,
)
from tests.blockkit import check_blocks
from tests.conftest import Core, Replies, london, prepare

TZ = "Europe/London"
Out = TypeVar("Out", Exchange, Replies)  # an end-to-end exchange, or the fast tier's replies


# ----- the database beside the app ------------------------------------------------------------------------


def storage_group(
    session: Session,
    channel: str,
    districts: tuple[str, ...] = ("Chorley", "Preston", "Wyre"),
    *,
    at: datetime,
    name: str | None = None,
    county: str | None = "Lancashire",
) -> tuple[TaskGroup, list[int]]:
    """A task group made through storage alone (the storage tier's tests), chaired by UCHAIR in team T1,
    with `districts` given in that order; returns it and its districts' ids as `list_districts` lists them."""
    group = create_group(
        session,
        team_id="T1",
        channel_id=channel,
        name=name or f"Group {channel}",
        county=county,
        timezone="Europe/London",
        user_id="UCHAIR",
        at=at,
    )
    if districts:
        set_districts(session, group, [(d, d.lower()) for d in districts], user_id="UCHAIR", at=at)
    return group, [d.id for d in list_districts(session, group.id)]  # type: ignore[arg-type,misc]


@contextmanager
def db(ws: OfflineWorkspace | Core) -> Iterator[Session]:
    with session_scope(ws.engine) as session:
        yield session


def group_of(session: Session, ws: OfflineWorkspace | Core, channel: str | None = None) -> TaskGroup:
    if isinstance(ws, Core):
        group = get_group(session, ws.team_id, channel or ws.channel_id)
    else:
        group = get_group(session, ws.standin.team_id, channel or ws.channel)
    assert group is not None
    return group


def group_row(ws: OfflineWorkspace | Core, channel: str | None = None) -> TaskGroup:
    with db(ws) as session:
        return group_of(session, ws, channel)


def group_id(ws: OfflineWorkspace | Core, channel: str | None = None) -> int:
    group = group_row(ws, channel)
    assert group.id is not None
    return group.id


def action_row(ws: OfflineWorkspace | Core, number: int, channel: str | None = None) -> store.ActionRow:
    with db(ws) as session:
        row = store.get_action(session, group_of(session, ws, channel).id, number)  # type: ignore[arg-type]
        assert row is not None
        return row


def action_record(ws: OfflineWorkspace | Core, number: int, channel: str | None = None) -> Action:
    return action_row(ws, number, channel).action


def add_like(ws: OfflineWorkspace | Core, number: int, changes: Sequence[dict[str, Any]]) -> None:
    """More actions like #number as a command stored it, one per entry of `changes` (`NewActionRecord`
    fields on top of #number's), straight into storage in one `bulk_create_actions`: the set-up of a test
    about a long list or a long view, where adding each through a command would be most of its time."""
    first = action_row(ws, number)
    like: dict[str, Any] = {
        "title": first.action.title,
        "owners": first.owners,
        "organisation": first.action.organisation,
        "due_date": first.action.due_date,
        "outcomes": first.outcomes,
        "district_ids": [d.id for d in first.districts],
        "countywide": first.action.countywide,
    }
    with db(ws) as session:
        records = [store.NewActionRecord(**{**like, **change}) for change in changes]
        store.bulk_create_actions(
            session, group_of(session, ws), records, by=first.action.created_by, at=ws.clock.now()
        )


def action_count(ws: OfflineWorkspace | Core) -> int:
    with db(ws) as session:
        return len(list(session.exec(select(Action))))


def make_actions(
    ws: OfflineWorkspace | Core,
    count: int,
    *,
    user: str = "sam",
    due: date | None = None,
    outcomes: list[Outcome] | None = None,
    district: str | None = None,
    at: datetime | None = None,
) -> None:
    """Adds actions straight through storage, all owned by `user`: in one `bulk_create_actions` (the rows
    `create_action` would leave, one by one, as tests/test_bulk_create.py checks; a few statements in all
    rather than ~8 per action)."""
    user_id = ws.user(user)
    with db(ws) as session:
        group = group_of(session, ws)
        district_ids = (
            [d.id for d in list_districts(session, group.id) if d.slug == district] if district else []  # type: ignore[arg-type]
        )
        records = [
            store.NewActionRecord(
                title=f"Action number {i + 1}",
                owners=[user_id],
                organisation="Chorley",
                due_date=due,
                outcomes=outcomes or [],
                district_ids=district_ids,  # type: ignore[arg-type]
            )
            for i in range(count)
        ]
        store.bulk_create_actions(session, group, records, by=user_id, at=at or ws.clock.now())


def audit_events(ws: OfflineWorkspace | Core, entity: str, verb: str | None = None) -> list[AuditEvent]:
    with db(ws) as session:
        query = select(AuditEvent).where(AuditEvent.entity == entity)
        if verb:
            query = query.where(AuditEvent.verb == verb)
        return list(session.exec(query.order_by(col(AuditEvent.id))))


def audit_trail(ws: OfflineWorkspace | Core, number: int) -> list[AuditEvent]:
    """One action's audit events, oldest first."""
    row = action_row(ws, number)
    with db(ws) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "action", AuditEvent.entity_id == row.action.id)
                .order_by(col(AuditEvent.id))
            )
        )


def meetings(ws: OfflineWorkspace | Core) -> list[Meeting]:
    with db(ws) as session:
        group = group_of(session, ws)
        return list(
            session.exec(select(Meeting).where(Meeting.group_id == group.id).order_by(col(Meeting.id)))
        )


def attendance_rows(ws: OfflineWorkspace | Core, meeting_id: int) -> list[Attendance]:
    with db(ws) as session:
        return list(
            session.exec(
                select(Attendance).where(Attendance.meeting_id == meeting_id).order_by(col(Attendance.id))
            )
        )


def table_counts(ws: OfflineWorkspace | Core) -> dict[str, int]:
    """Row counts of the tables a meeting command may write (to prove an error stored nothing)."""
    with db(ws) as session:
        return {
            model.__name__: int(session.exec(select(func.count()).select_from(model)).one())
            for model in (Meeting, Attendance, Decision, MeetingNote, MeetingSchedule, Action, AuditEvent)
        }


def outbox(ws: OfflineWorkspace | Core, kind: str | None = None) -> list[Notification]:
    with db(ws) as session:
        query = select(Notification)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(session.exec(query.order_by(col(Notification.id))))


def database_url(ws_or_engine: OfflineWorkspace | Any) -> str:
    """A URL another process can open on this test's database (PostgreSQL: with the test's schema)."""
    engine = ws_or_engine.engine if isinstance(ws_or_engine, OfflineWorkspace) else ws_or_engine
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


# ----- replies ---------------------------------------------------------------------------------------------


def ok(out: Out) -> Out:
    assert not out.is_error, out.text
    assert out.messages, "no reply"
    return out


def err(out: Out, *fragments: str) -> Out:
    assert out.is_error, out.text
    assert not out.posted, "an error must not be posted in the channel"
    for fragment in fragments:
        assert fragment in out.text, (fragment, out.text)
    return out


def error_text(out: Exchange | Replies) -> str:
    return err(out).text


def add(ws: OfflineWorkspace | Core, text: str, user: str = "chair", channel: str | None = None) -> int:
    """Adds an action through the app; returns its number."""
    out = ok(ws.command(f"add {text}", user=user, channel=channel))
    found = re.search(r"#(\d+)", out.text)
    assert found, out.text
    return int(found.group(1))


def add_directly(ws: OfflineWorkspace, text: str, user: str = "chair", channel: str | None = None) -> int:
    """As `add`, through the core (`prepare`): an action an end-to-end test builds on, with no Bolt round
    trip, channel post or Home refresh (for tests of what comes after: scheduled posts, buttons)."""
    found = re.search(r"#(\d+)", Replies(prepare(ws, f"add {text}", user=user, channel=channel)).text)
    assert found
    return int(found.group(1))


def at(*args: int) -> datetime:
    return london(*args)


def channel_text(out: Exchange, ws: OfflineWorkspace) -> str:
    """What the channel saw, with mentions as @names."""
    return ws.readable("\n".join(block_text(m.blocks) or m.text for m in out.posted))


def mrkdwn(out: Exchange) -> str:
    """Everything Slack would parse as mrkdwn: fallback texts and every block but plain-text headers."""
    return "\n".join(
        [m.text for m in out.messages]
        + [block_text([b for b in m.blocks if b.get("type") != "header"]) for m in out.messages]
    )


def readable(out: Exchange, ws: OfflineWorkspace) -> str:
    return ws.readable(out.text)


# ----- what Slack received --------------------------------------------------------------------------------


def dms(ws: OfflineWorkspace, name: str) -> list[Message]:
    user = ws.user(name)
    return [m for m in ws.standin.messages if m.channel == user and not m.ephemeral]


def channel_posts(ws: OfflineWorkspace, channel: str | None = None) -> list[Message]:
    channel = channel or ws.channel
    return [m for m in ws.standin.messages if m.channel == channel and not m.ephemeral]


def text_of(ws: OfflineWorkspace, message: Message) -> str:
    return ws.readable(block_text(message.blocks) or message.text)


def posts_count(ws: OfflineWorkspace) -> int:
    return len([c for c in ws.standin.calls_to("chat.postMessage") if c.ok])


def check_all_messages(ws: OfflineWorkspace) -> None:
    for message in ws.standin.messages:
        assert message.text and len(message.text) <= 3000
        check_blocks(message.blocks)


@pytest.fixture(autouse=True)
def no_failed_posts(slack: SlackStandIn) -> Iterator[None]:
    """After each test of a module that imports this (the meeting tests inject no faults), every post the
    bot made must have succeeded."""
    yield
    for call in slack.calls:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "response_url"):
            assert call.ok, (call.method, call.response)


# ----- scheduled posts -------------------------------------------------------------------------------------


def set_day(ws: OfflineWorkspace | Core, day: date, hour: int = 9, minute: int = 30) -> None:
    clock = ws.clock
    assert isinstance(clock, FixedClock)
    clock.set(london(day.year, day.month, day.day, hour, minute))


def run(ws: OfflineWorkspace, job: str = "all", *, plan_only: bool = False) -> DispatchReport:
    """What one scheduler tick does for `job`: plan today, then dispatch what is due."""
    now = ws.clock.now()
    plan(ws.engine, local_today(now, TZ), tz=TZ, now=now, job=job)
    if plan_only:
        return DispatchReport()
    return dispatch_due(ws.engine, ws.services.client, ws.clock, tz=TZ, kinds=kinds_for(job))


def run_on(ws: OfflineWorkspace, day: date, job: str = "all") -> DispatchReport:
    set_day(ws, day)
    return run(ws, job)


def owners_with_overdue_actions(ws: OfflineWorkspace, count: int) -> list[str]:
    """`count` new people, each owning one action overdue since 18 Nov: `count` owner digest DMs planned (and
    nothing else: escalation and the channel digest off) for the workspace's day. The stand-in is reset."""
    assert not ws.command("setup escalate-after:0 digest:off").is_error
    owners = [ws.standin.add_user(f"owner{i:03d}") for i in range(count)]
    with db(ws) as session:
        task_group = session.get(TaskGroup, group_id(ws))
        assert task_group is not None
        for i, owner in enumerate(owners):
            store.create_action(
                session,
                task_group,
                store.NewActionRecord(
                    title=f"Action {i}",
                    owners=[owner],
                    organisation="Chorley",
                    due_date=date(2026, 11, 18),
                    countywide=True,
                ),
                by=ws.user("chair"),
                at=ws.clock.now(),
            )
    run(ws, "chasers", plan_only=True)
    assert len(outbox(ws, owner_digest.KIND)) == count
    ws.standin.reset()
    return owners
