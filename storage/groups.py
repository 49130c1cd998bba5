"""Task groups, their districts and members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage import audit
from storage.models import District, TaskGroup


def get_group(session: Session, team_id: str, channel_id: str) -> TaskGroup | None:
    return session.exec(
        select(TaskGroup).where(TaskGroup.team_id == team_id, TaskGroup.channel_id == channel_id)
    ).first()


def create_group(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    name: str,
    county: str | None,
    timezone: str,
    user_id: str,
    at: datetime,
    settings: dict[str, Any] | None = None,
) -> TaskGroup:
    group = TaskGroup(
        team_id=team_id,
        channel_id=channel_id,
        name=name,
        county=county,
        timezone=timezone,
        settings=settings or {},
        created_by=user_id,
        created_at=at,
        updated_at=at,
    )
    session.add(group)
    session.flush()
    audit.record(
        session,
        group_id=group.id,
        entity="task_group",
        entity_id=group.id,
        user_id=user_id,
        at=at,
        verb="created",
        changes={"name": [None, name], "county": [None, county], "timezone": [None, timezone]},
    )
    return group


def lock_group(session: Session, group_id: int) -> TaskGroup:
    """The group row, locked for this transaction and freshly read: serialises numbering and meeting
    state per group (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers)."""
    return session.exec(
        select(TaskGroup)
        .where(TaskGroup.id == group_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def take_number(session: Session, group_id: int, counter: str) -> int:
    """The next per-group number (`next_action_number`, `next_decision_number`), taken under the row lock."""
    locked = lock_group(session, group_id)
    number = getattr(locked, counter)
    setattr(locked, counter, number + 1)
    session.add(locked)
    return int(number)


def update_group(
    session: Session, group: TaskGroup, changes: dict[str, Any], *, user_id: str, at: datetime
) -> dict[str, list[Any]]:
    before = {k: getattr(group, k) for k in changes}
    changed = audit.diff(before, changes)
    if changed:
        for k, v in changes.items():
            setattr(group, k, v)
        group.updated_at = at
        session.add(group)
        audit.record(
            session,
            group_id=group.id,
            entity="task_group",
            entity_id=group.id,
            user_id=user_id,
            at=at,
            verb="updated",
            changes=changed,
        )
    return changed


def list_districts(session: Session, group_id: int) -> list[District]:
    return list(
        session.exec(
            select(District)
            .where(District.group_id == group_id, col(District.removed_at).is_(None))
            .order_by(col(District.position), col(District.name))
        )
    )


def set_districts(
    session: Session, group: TaskGroup, names: Sequence[tuple[str, str]], *, user_id: str, at: datetime
) -> tuple[list[str], list[str]]:
    """Makes the group's districts exactly `names` ((name, slug) pairs). Removed ones are kept, marked removed,
    so old actions still show where they were. Returns (added, removed) names."""
    existing = {d.slug: d for d in session.exec(select(District).where(District.group_id == group.id))}
    wanted = {slug for _, slug in names}
    added: list[str] = []
    removed: list[str] = []
    for position, (name, slug) in enumerate(names):
        d = existing.get(slug)
        if d is None:
            session.add(District(group_id=group.id, name=name, slug=slug, position=position))
            added.append(name)
        else:
            if d.removed_at is not None:
                added.append(name)
            d.name, d.position, d.removed_at = name, position, None
            session.add(d)
    for slug, d in existing.items():
        if slug not in wanted and d.removed_at is None:
            d.removed_at = at
            session.add(d)
            removed.append(d.name)
    if added or removed:
        audit.record(
            session,
            group_id=group.id,
            entity="task_group",
            entity_id=group.id,
            user_id=user_id,
            at=at,
            verb="districts",
            changes={"added": added, "removed": removed},
        )
    session.flush()
    return added, removed


def name_key(name: str) -> str:
    """How names of organisations, districts and schedules compare: case and spacing ignored."""
    return " ".join(name.lower().split())


def groups_by_id(session: Session, group_ids: Sequence[int]) -> dict[int, TaskGroup]:
    if not group_ids:
        return {}
    return {
        g.id: g  # type: ignore[misc]
        for g in session.exec(select(TaskGroup).where(col(TaskGroup.id).in_(list(set(group_ids)))))
    }
