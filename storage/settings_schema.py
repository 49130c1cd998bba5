"""Per-group settings kept in `TaskGroup.settings` (JSON): only values a chair changed are stored, so a group
that sets nothing follows the defaults (and better defaults later reach it too).

Which settings exist, their defaults and how each is validated is declared by the post kinds
(`commands/posts/`); this module only reads and writes the stored values, with an audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage import audit
from storage.models import TaskGroup


def stored_settings(group: TaskGroup) -> dict[str, Any]:
    """The values a chair set, as stored (not yet checked: the caller falls back to defaults)."""
    return dict(group.settings or {})


def update_settings(
    session: Session,
    group: TaskGroup,
    changes: Mapping[str, Any],
    *,
    current: Mapping[str, Any],
    defaults: Mapping[str, Any],
    user_id: str,
    at: datetime,
) -> dict[str, list[Any]]:
    """Sets the given settings (already validated), audits them, and returns {name: [old, new]}.
    A value equal to its default is dropped from the stored ones, so the group follows future defaults."""
    changed = audit.diff(dict(current), dict(changes))
    if not changed:
        return {}
    stored = stored_settings(group)
    for name, value in changes.items():
        if value == defaults[name]:
            stored.pop(name, None)
        else:
            stored[name] = value
    group.settings = stored  # a new dict, so SQLAlchemy sees the JSON change
    group.updated_at = at
    session.add(group)
    audit.record(
        session,
        group_id=group.id,
        entity="task_group",
        entity_id=group.id,
        user_id=user_id,
        at=at,
        verb="settings",
        changes=changed,
    )
    return changed
