"""Small queries the chaser jobs need beyond the action register's (who chairs what)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import Action, ActionOwner, Member, Role


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
