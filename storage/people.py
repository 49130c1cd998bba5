"""Personal data (UK GDPR): everything the bot holds about one person, and forgetting them.

A person is their Slack user id. It is found the same way everywhere: as a whole token in any text column
(owner and author columns, `<@U…>` mentions in notes, idempotency keys) and inside any JSON column (audit
changes, outbox payloads), of every table in the models — so a table added later is covered without a change
here. Forgetting replaces that id everywhere with one new pseudonym in a single transaction and then checks
that no trace is left (or rolls everything back): numbering, minutes and counts still add up, because the
pseudonym stands in for the person consistently; only who it was is gone.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, cast, or_, select, update
from sqlalchemy import Enum as SAEnum
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, col

from storage.audit import record
from storage.models import LIVE_STATUSES, Action, ActionOwner, Member, Notification, NotificationStatus

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
FORMER_MEMBER = "Former member"
# Tables whose rows are ours, not about anyone (alembic's bookkeeping is not in the models anyway).
SKIP_TABLES: frozenset[str] = frozenset()


class PersonError(Exception):
    """Forgetting could not be completed; nothing was changed."""


def is_user_id(value: str) -> bool:
    return bool(USER_ID.match(value))


def _token(user_id: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(user_id)}(?![A-Za-z0-9])")


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _is_text(column: Column[Any]) -> bool:
    kind = column.type
    if isinstance(kind, JSON | SAEnum):
        return False
    if isinstance(kind, TypeDecorator):  # sqlmodel's AutoString wraps String
        kind = kind.impl_instance
    return isinstance(kind, String | Text)


def _text_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if _is_text(c)]


def _json_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, JSON)]


def _tables() -> Iterator[Table]:
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in SKIP_TABLES:
            yield table


def _mentions(value: Any, pattern: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return bool(pattern.search(value))
    if isinstance(value, dict):
        return any(_mentions(k, pattern) or _mentions(v, pattern) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, pattern) for v in value)
    return False


def _replace(value: Any, pattern: re.Pattern[str], pseudonym: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(pseudonym, value)
    if isinstance(value, dict):
        return {_replace(k, pattern, pseudonym): _replace(v, pattern, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, pattern, pseudonym) for v in value]
    return value


def _rows_mentioning(session: Session, table: Table, user_id: str) -> list[dict[str, Any]]:
    """Rows of `table` with the id as a whole token in a text column or anywhere in a JSON column."""
    columns = _text_columns(table) + _json_columns(table)
    if not columns:
        return []
    like = f"%{user_id}%"
    # LIKE narrows the scan in the database; the token check then drops longer ids that contain this one.
    found = session.execute(
        select(table).where(
            or_(*[cast(c, Text).like(like) if isinstance(c.type, JSON) else c.like(like) for c in columns])
        )
    ).mappings()
    pattern = _token(user_id)
    return [dict(row) for row in found if any(_mentions(row[c.name], pattern) for c in columns)]


# ----- subject access ------------------------------------------------------------------------------------
def export_person(session: Session, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row that names the person, by table, plus `actions_owned` (the actions themselves)."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for table in _tables():
        rows = _rows_mentioning(session, table, user_id)
        if rows:
            sections[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    owned = session.execute(
        select(Action)
        .join(ActionOwner, col(ActionOwner.action_id) == col(Action.id))
        .where(col(ActionOwner.user_id) == user_id)
        .order_by(col(Action.group_id), col(Action.number))
    ).scalars()
    owned_rows = [
        {
            "group_id": a.group_id,
            "number": a.number,
            "title": a.title,
            "status": _plain(a.status),
            "due_date": _plain(a.due_date),
            "organisation": a.organisation,
            "completed_at": _plain(a.completed_at),
        }
        for a in owned
    ]
    if owned_rows:
        sections["actions_owned"] = owned_rows
    return sections


# ----- erasure -------------------------------------------------------------------------------------------
@dataclass
class Forgotten:
    pseudonym: str
    changed: dict[str, int] = field(default_factory=dict)  # "table.column" -> rows changed
    names_cleared: int = 0
    pending_skipped: int = 0
    live_actions: list[int] = field(default_factory=list)  # numbers of live actions they owned

    @property
    def rows(self) -> int:
        return sum(self.changed.values())


def forget_person(session: Session, user_id: str, *, now: datetime, by: str) -> Forgotten:
    """Pseudonymises the person everywhere, in the caller's transaction; raises PersonError if anything
    would be left behind (the caller rolls back, so it is all or nothing)."""
    pattern = _token(user_id)
    pseudonym = "UZ" + secrets.token_hex(5).upper()
    result = Forgotten(pseudonym=pseudonym)

    result.live_actions = sorted(
        a.number
        for a in session.execute(
            select(Action)
            .join(ActionOwner, col(ActionOwner.action_id) == col(Action.id))
            .where(col(ActionOwner.user_id) == user_id, col(Action.status).in_(LIVE_STATUSES))
        ).scalars()
    )
    # Their name as Slack showed it goes; the membership (and the organisation it counted for) stays.
    names = session.execute(
        update(Member)
        .where(Member.user_id == user_id, Member.display_name != FORMER_MEMBER)  # type: ignore[arg-type]
        .values(display_name=FORMER_MEMBER)
    )
    result.names_cleared = int(getattr(names, "rowcount", 0) or 0)
    # Posts still waiting for them would go to nobody.
    waiting = session.execute(
        update(Notification)
        .where(
            col(Notification.recipient) == user_id,
            col(Notification.status).in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
        )
        .values(status=NotificationStatus.SKIPPED, last_error="recipient forgotten (ecm-bot person forget)")
    )
    result.pending_skipped = int(getattr(waiting, "rowcount", 0) or 0)

    for table in _tables():
        columns = _text_columns(table) + _json_columns(table)
        keys = [c.name for c in table.primary_key.columns]
        for row in _rows_mentioning(session, table, user_id):
            values = {
                c.name: _replace(row[c.name], pattern, pseudonym)
                for c in columns
                if _mentions(row[c.name], pattern)
            }
            for column in values:
                result.changed[f"{table.name}.{column}"] = result.changed.get(f"{table.name}.{column}", 0) + 1
            session.execute(update(table).where(*[table.c[k] == row[k] for k in keys]).values(**values))
    session.flush()

    left = [table.name for table in _tables() if _rows_mentioning(session, table, user_id)]
    if left:
        raise PersonError(f"the id was still found in {', '.join(left)} after pseudonymising")
    record(
        session,
        group_id=None,
        entity="person",
        entity_id=None,
        user_id=by,
        at=now,
        verb="forgotten",
        changes={"pseudonym": [None, pseudonym], "rows": [None, result.rows]},
        note="Personal data erased on request: the person's Slack id was replaced by this pseudonym.",
    )
    return result
