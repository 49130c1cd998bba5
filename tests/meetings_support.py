"""Helpers for the meeting tests: database access beside the app, times in London, and the Block Kit check
every message the bot sends in those tests goes through (parsed back, ≤ 50 blocks, no failed post)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlmodel import Session, col, select

from bot.offline import Exchange, OfflineWorkspace
from bot.standin import SlackStandIn
from storage.db import session_scope
from storage.groups import get_group
from storage.models import Attendance, AuditEvent, Meeting, TaskGroup
from tests.conftest import london


@pytest.fixture(autouse=True)
def no_failed_posts(slack: SlackStandIn) -> Iterator[None]:
    """Meetings never inject faults: after each test, every post the bot made must have succeeded."""
    yield
    for call in slack.calls:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "response_url"):
            assert call.ok, (call.method, call.response)


@contextmanager
def db(ws: OfflineWorkspace) -> Iterator[Session]:
    with session_scope(ws.engine) as session:
        yield session


def group_of(session: Session, ws: OfflineWorkspace) -> TaskGroup:
    group = get_group(session, ws.standin.team_id, ws.channel)
    assert group is not None
    return group


def ok(out: Exchange) -> Exchange:
    assert not out.is_error, out.text
    assert out.messages, "no reply"
    return out


def err(out: Exchange, *fragments: str) -> Exchange:
    assert out.is_error, out.text
    assert not out.posted, "an error must not be posted in the channel"
    text = out.text
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    return out


def meetings(ws: OfflineWorkspace) -> list[Meeting]:
    with db(ws) as session:
        group = group_of(session, ws)
        return list(
            session.exec(select(Meeting).where(Meeting.group_id == group.id).order_by(col(Meeting.id)))
        )


def attendance_rows(ws: OfflineWorkspace, meeting_id: int) -> list[Attendance]:
    with db(ws) as session:
        return list(
            session.exec(
                select(Attendance).where(Attendance.meeting_id == meeting_id).order_by(col(Attendance.id))
            )
        )


def audit_events(ws: OfflineWorkspace, entity: str, verb: str | None = None) -> list[AuditEvent]:
    with db(ws) as session:
        query = select(AuditEvent).where(AuditEvent.entity == entity)
        if verb:
            query = query.where(AuditEvent.verb == verb)
        return list(session.exec(query.order_by(col(AuditEvent.id))))


def table_counts(ws: OfflineWorkspace) -> dict[str, int]:
    """Row counts of the tables a meeting command may write (to prove an error stored nothing)."""
    from sqlalchemy import func

    from storage.models import Action, Decision, MeetingNote, MeetingSchedule

    with db(ws) as session:
        return {
            model.__name__: int(session.exec(select(func.count()).select_from(model)).one())
            for model in (Meeting, Attendance, Decision, MeetingNote, MeetingSchedule, Action, AuditEvent)
        }


def at(*args: int) -> datetime:
    return london(*args)


def channel_text(out: Exchange, ws: OfflineWorkspace) -> str:
    """What the channel saw, with mentions as @names."""
    from bot.offline import block_text

    return ws.readable("\n".join(block_text(m.blocks) or m.text for m in out.posted))


def mrkdwn(out: Exchange) -> str:
    """Everything Slack would parse as mrkdwn: fallback texts and every block but plain-text headers."""
    from bot.offline import block_text

    return "\n".join(
        [m.text for m in out.messages]
        + [block_text([b for b in m.blocks if b.get("type") != "header"]) for m in out.messages]
    )


def readable(out: Exchange, ws: OfflineWorkspace) -> str:
    return ws.readable(out.text)
