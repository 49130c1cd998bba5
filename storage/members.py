"""Membership of task groups: who is a member or chair of which group, and the changes to it (each audited,
entity "member"; a removed member is kept, marked removed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, event
from sqlmodel import Session, col, select

from storage import audit, groups
from storage.models import Action, ActionOwner, Member, Role, TaskGroup


def chaired_group_ids(session: Session, user_id: str) -> list[int]:
    """The task groups this person chairs (current membership only)."""
    return list(
        session.exec(
            select(Member.group_id)
            .where(Member.user_id == user_id, Member.role == Role.CHAIR, col(Member.removed_at).is_(None))
            .order_by(col(Member.group_id))
        )
    )


def chairs_by_group(session: Session, group_ids: list[int]) -> dict[int, list[str]]:
    """Chairs' user ids per group, for many groups in one query."""
    out: dict[int, list[str]] = {gid: [] for gid in group_ids}
    if not group_ids:
        return out
    for group_id, user_id in session.exec(
        select(Member.group_id, Member.user_id)
        .where(
            col(Member.group_id).in_(group_ids), Member.role == Role.CHAIR, col(Member.removed_at).is_(None)
        )
        .order_by(col(Member.group_id), col(Member.user_id))
    ):
        out[group_id].append(user_id)
    return out


def member_ids(session: Session, group_id: int) -> list[str]:
    return list(
        session.exec(
            select(Member.user_id).where(Member.group_id == group_id, col(Member.removed_at).is_(None))
        )
    )


def recipient_ids(session: Session, group_id: int) -> list[str]:
    """Everyone the group's DMs may go to: its current members and the owners of its actions (an owner need
    not be a registered member), so `/ecm status` shows their chasers and failures too."""
    owners = session.exec(
        select(ActionOwner.user_id)
        .join(Action, col(Action.id) == col(ActionOwner.action_id))
        .where(Action.group_id == group_id)
        .distinct()
    )
    return sorted({*member_ids(session, group_id), *owners})


_HELD = "ecm_members"  # session.info key: {(group_id, user_id): Member | None} read in this transaction


def get_member(session: Session, group_id: int, user_id: str) -> Member | None:
    """The current member, or None. Read once per transaction (the command's caller is read with its group
    by `group_and_member`; an action's owner is often that caller); `upsert_member` and `remove_member` forget
    what they change."""
    held: dict[tuple[int, str], Member | None] = session.info.setdefault(_HELD, {})
    key = (group_id, user_id)
    if key not in held:
        held[key] = session.exec(
            select(Member).where(
                Member.group_id == group_id, Member.user_id == user_id, col(Member.removed_at).is_(None)
            )
        ).first()
    return held[key]


_CALLER = and_(
    col(Member.group_id) == col(TaskGroup.id),
    col(Member.user_id) == bindparam("user_id"),
    col(Member.removed_at).is_(None),
)
_CHANNEL = (
    col(TaskGroup.team_id) == bindparam("team_id"),
    col(TaskGroup.channel_id) == bindparam("channel_id"),
)
# Built once: each command only binds its team, channel and user.
_GROUP_AND_MEMBER = select(TaskGroup, Member).outerjoin(Member, _CALLER).where(*_CHANNEL)


def group_and_member(
    session: Session, team_id: str, channel_id: str, user_id: str
) -> tuple[TaskGroup | None, Member | None]:
    """The channel's group and `user_id`'s current membership of it, in one statement (every command needs
    both); the membership is remembered for `get_member`, and the group's districts are held for
    `groups.list_districts` (`groups.hold_group_districts`: read only the first time this process sees the
    group's districts as they are now)."""
    params = {"team_id": team_id, "channel_id": channel_id, "user_id": user_id}
    found = session.exec(_GROUP_AND_MEMBER, params=params).first()
    if found is None:
        return None, None
    group, member = found
    groups.hold_group_districts(session, group)
    if group.id is not None:
        session.info.setdefault(_HELD, {})[(group.id, user_id)] = member
    return group, member


def _forget(session: Session, group_id: int | None, user_id: str) -> None:
    session.info.get(_HELD, {}).pop((group_id, user_id), None)


@event.listens_for(Session, "after_transaction_end")
def _forget_members(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction (flushes run in inner ones)
        session.info.pop(_HELD, None)


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
    _forget(session, group.id, user_id)
    member = session.exec(
        select(Member).where(Member.group_id == group.id, Member.user_id == user_id)
    ).first()
    created = member is None or member.removed_at is not None
    if member is None:
        assert group.id is not None
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
    _forget(session, group.id, member.user_id)
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


def display_names(session: Session, team_id: str, user_ids: list[str]) -> dict[str, str]:
    """Stored display names of these people in one workspace's groups (empty names left out)."""
    if not user_ids:
        return {}
    rows = session.exec(
        select(Member.user_id, Member.display_name)
        .join(TaskGroup, col(TaskGroup.id) == col(Member.group_id))
        .where(TaskGroup.team_id == team_id, col(Member.user_id).in_(user_ids), Member.display_name != "")
    )
    return {user_id: name for user_id, name in rows}
