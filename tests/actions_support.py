"""Helpers for the action register tests: database access beside the app, and the Block Kit check every
message the bot sends in those tests goes through."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.offline import Exchange, OfflineWorkspace
from storage import actions as store
from storage.db import session_scope
from storage.groups import get_group, list_districts
from storage.models import Action, AuditEvent, Outcome, TaskGroup


@contextmanager
def db(ws: OfflineWorkspace) -> Iterator[Session]:
    with session_scope(ws.engine) as session:
        yield session


def group_of(session: Session, ws: OfflineWorkspace, channel: str | None = None) -> TaskGroup:
    group = get_group(session, ws.standin.team_id, channel or ws.channel)
    assert group is not None
    return group


def make_actions(
    ws: OfflineWorkspace,
    count: int,
    *,
    user: str = "sam",
    due: date | None = None,
    outcomes: list[Outcome] | None = None,
    district: str | None = None,
    at: datetime | None = None,
) -> None:
    """Adds actions straight through storage (fast), all owned by `user`."""
    user_id = ws.user(user)
    with db(ws) as session:
        group = group_of(session, ws)
        district_ids = (
            [d.id for d in list_districts(session, group.id) if d.slug == district] if district else []
        )
        for i in range(count):
            store.create_action(
                session,
                group,
                title=f"Action number {i + 1}",
                owners=[user_id],
                organisation="Chorley",
                due_date=due,
                outcomes=outcomes or [],
                district_ids=district_ids,  # type: ignore[arg-type]
                countywide=False,
                by=user_id,
                at=at or ws.clock.now(),
            )


def action(ws: OfflineWorkspace, number: int, channel: str | None = None) -> store.ActionRow:
    with db(ws) as session:
        row = store.get_action(session, group_of(session, ws, channel).id, number)  # type: ignore[arg-type]
        assert row is not None
        return row


def action_count(ws: OfflineWorkspace) -> int:
    with db(ws) as session:
        return len(list(session.exec(select(Action))))


def audit_trail(ws: OfflineWorkspace, number: int) -> list[AuditEvent]:
    row = action(ws, number)
    with db(ws) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "action", AuditEvent.entity_id == row.action.id)
                .order_by(col(AuditEvent.id))
            )
        )


def error_text(out: Exchange) -> str:
    assert out.is_error, out.text
    assert not out.posted, "an error must not post in the channel"
    return out.text
