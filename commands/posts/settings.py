"""Reading and changing a group's post settings, as the post kinds declare them (`PostKind.settings`).

Reading is tolerant: an unknown or malformed stored value falls back to its default rather than stopping
the posts of the whole group.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from commands.posts.kind import GroupSettings, Setting
from storage.models import TaskGroup
from storage.settings_schema import stored_settings, update_settings


def all_settings() -> tuple[Setting, ...]:
    # Late: the registry imports every kind module, and the kinds read their settings through this module.
    from commands.posts.registry import SETTINGS

    return SETTINGS


def chaser_settings(group: TaskGroup) -> GroupSettings:
    """The group's settings: what a chair stored, where it is valid, over the defaults."""
    stored = stored_settings(group)
    return GroupSettings(
        {
            s.name: stored[s.name] if s.name in stored and s.valid(stored[s.name]) else s.default
            for s in all_settings()
        }
    )


def settings_of(groups: dict[int, TaskGroup]) -> dict[int, GroupSettings]:
    return {gid: chaser_settings(g) for gid, g in groups.items()}


def update_chaser_settings(
    session: Session, group: TaskGroup, changes: dict[str, Any], *, user_id: str, at: datetime
) -> dict[str, list[Any]]:
    """Sets the given settings (already parsed), audits them, and returns {name: [old, new]}."""
    known = {s.name: s for s in all_settings()}
    for name, value in changes.items():
        if name not in known or not known[name].valid(value):
            raise ValueError(f"bad chaser setting {name}={value!r}")
    return update_settings(
        session,
        group,
        changes,
        current=chaser_settings(group).as_dict(),
        defaults={s.name: s.default for s in known.values()},
        user_id=user_id,
        at=at,
    )
