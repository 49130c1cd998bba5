"""Task groups, their districts and members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage import audit
from storage.models import District, Member, Role, TaskGroup


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


def get_member(session: Session, group_id: int, user_id: str) -> Member | None:
    return session.exec(
        select(Member).where(
            Member.group_id == group_id, Member.user_id == user_id, col(Member.removed_at).is_(None)
        )
    ).first()


def list_members(session: Session, group_id: int) -> list[Member]:
    return list(
        session.exec(
            select(Member)
            .where(Member.group_id == group_id, col(Member.removed_at).is_(None))
            .order_by(col(Member.organisation), col(Member.display_name), col(Member.user_id))
        )
    )


def chairs(session: Session, group_id: int) -> list[Member]:
    return [m for m in list_members(session, group_id) if m.role == Role.CHAIR]


def upsert_member(
    session: Session,
    group: TaskGroup,
    user_id: str,
    *,
    by: str,
    at: datetime,
    organisation: str | None = None,
    role: Role | None = None,
    display_name: str | None = None,
) -> tuple[Member, dict[str, list[Any]]]:
    """Adds or updates a member; returns it and what changed (empty when nothing did)."""
    member = session.exec(
        select(Member).where(Member.group_id == group.id, Member.user_id == user_id)
    ).first()
    created = member is None or member.removed_at is not None
    if member is None:
        member = Member(group_id=group.id, user_id=user_id, created_at=at)
    before = {
        "organisation": member.organisation,
        "role": member.role,
        "display_name": member.display_name,
        "removed_at": member.removed_at,
    }
    after: dict[str, Any] = {"removed_at": None}
    if organisation is not None:
        after["organisation"] = organisation
    if role is not None:
        after["role"] = role
    if display_name:
        after["display_name"] = display_name
    if created and "role" not in after:
        after["role"] = Role.MEMBER
    changed = audit.diff(before, after)
    for k, v in after.items():
        setattr(member, k, v)
    session.add(member)
    session.flush()
    if changed or created:
        audit.record(
            session,
            group_id=group.id,
            entity="member",
            entity_id=member.id,
            user_id=by,
            at=at,
            verb="added" if created else "updated",
            changes=changed,
        )
    return member, changed


def remove_member(session: Session, group: TaskGroup, member: Member, *, by: str, at: datetime) -> None:
    member.removed_at = at
    session.add(member)
    audit.record(
        session,
        group_id=group.id,
        entity="member",
        entity_id=member.id,
        user_id=by,
        at=at,
        verb="removed",
        changes={"user_id": [member.user_id, None]},
    )


def memberships(session: Session, team_id: str, user_id: str) -> list[tuple[TaskGroup, Member]]:
    """The task groups of one workspace this person is a current member of, by name."""
    return [
        (group, member)
        for group, member in session.exec(
            select(TaskGroup, Member)
            .join(Member, col(Member.group_id) == col(TaskGroup.id))
            .where(
                TaskGroup.team_id == team_id,
                Member.user_id == user_id,
                col(Member.removed_at).is_(None),
            )
            .order_by(col(TaskGroup.name), col(TaskGroup.id))
        )
    ]


def groups_by_id(session: Session, group_ids: Sequence[int]) -> dict[int, TaskGroup]:
    if not group_ids:
        return {}
    return {
        g.id: g  # type: ignore[misc]
        for g in session.exec(select(TaskGroup).where(col(TaskGroup.id).in_(list(set(group_ids)))))
    }
