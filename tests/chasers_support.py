"""Helpers for the chaser and dispatch tests: move the injected clock, run a job as the scheduler would
(plan for today, dispatch what is due), and read back what Slack received, per recipient."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from bot.jobs.dispatcher import DispatchReport, dispatch_due, local_today
from bot.jobs.planner import plan
from bot.offline import Exchange, OfflineWorkspace, block_text
from bot.standin import Message
from commands.posts.registry import kinds_for
from storage.clock import FixedClock
from storage.db import session_scope
from storage.groups import get_group
from storage.models import Action, AuditEvent, Notification, TaskGroup
from tests.blockkit import check_blocks
from tests.conftest import london

TZ = "Europe/London"


def set_day(ws: OfflineWorkspace, day: date, hour: int = 9, minute: int = 30) -> None:
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


def ok(out: Exchange) -> Exchange:
    assert not out.is_error, out.text
    return out


def err(out: Exchange, *fragments: str) -> Exchange:
    assert out.is_error, out.text
    for fragment in fragments:
        assert fragment in out.text, (fragment, out.text)
    return out


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


@contextmanager
def db(ws: OfflineWorkspace) -> Iterator[Session]:
    with session_scope(ws.engine) as session:
        yield session


def group_id(ws: OfflineWorkspace, channel: str | None = None) -> int:
    with db(ws) as session:
        group = get_group(session, ws.standin.team_id, channel or ws.channel)
        assert group is not None and group.id is not None
        return group.id


def action(ws: OfflineWorkspace, number: int, channel: str | None = None) -> Action:
    gid = group_id(ws, channel)
    with db(ws) as session:
        found = session.exec(select(Action).where(Action.group_id == gid, Action.number == number)).one()
        return found


def outbox(ws: OfflineWorkspace, kind: str | None = None) -> list[Notification]:
    with db(ws) as session:
        query = select(Notification)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(session.exec(query.order_by(col(Notification.id))))


def audit(ws: OfflineWorkspace, entity: str, verb: str | None = None) -> list[AuditEvent]:
    with db(ws) as session:
        query = select(AuditEvent).where(AuditEvent.entity == entity)
        if verb:
            query = query.where(AuditEvent.verb == verb)
        return list(session.exec(query.order_by(col(AuditEvent.id))))


def group_row(ws: OfflineWorkspace, channel: str | None = None) -> TaskGroup:
    with db(ws) as session:
        group = get_group(session, ws.standin.team_id, channel or ws.channel)
        assert group is not None
        return group


def add(ws: OfflineWorkspace, text: str, user: str = "chair", channel: str | None = None) -> int:
    """Adds an action through the app; returns its number."""
    out = ok(ws.command(f"add {text}", user=user, channel=channel))
    import re

    found = re.search(r"#(\d+)", out.text)
    assert found, out.text
    return int(found.group(1))


def database_url(ws_or_engine: OfflineWorkspace | Any) -> str:
    """A URL another process can open on this test's database (PostgreSQL: with the test's schema)."""
    from sqlalchemy import text

    engine = ws_or_engine.engine if isinstance(ws_or_engine, OfflineWorkspace) else ws_or_engine
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)
