"""Per-group chaser and digest settings, kept in `TaskGroup.settings` (JSON), with defaults.

Only values a chair changed are stored, so a group that sets nothing follows the defaults (and better
defaults later reach it too). Reading is tolerant: an unknown or malformed stored value falls back to its
default rather than stopping the chasers of the whole group.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage import audit
from storage.models import TaskGroup

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
OFF = "off"


@dataclass(frozen=True)
class ChaserSettings:
    chasers: bool = True  # owner digests and due-soon nudges by DM
    nudge_days: int = 2  # due-soon nudge this many working days before the due date; 0 = none
    digest_day: str = "monday"  # weekly channel digest on this weekday (or the next working day); "off"
    escalate_after: int = 10  # overdue by this many working days -> listed to the chairs; 0 = never
    reminders: bool = True  # meeting reminder in the channel the working day before
    attendance_summary: bool = True  # on the first working day of each month, in the channel

    @property
    def digest_weekday(self) -> int | None:
        return WEEKDAYS.index(self.digest_day) if self.digest_day in WEEKDAYS else None


DEFAULTS = ChaserSettings()
LIMITS = {"nudge_days": (0, 20), "escalate_after": (0, 120)}


def _valid(name: str, value: Any) -> bool:
    default = getattr(DEFAULTS, name)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        low, high = LIMITS[name]
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if name == "digest_day":
        return value in (*WEEKDAYS, OFF)
    return False


def chaser_settings(group: TaskGroup) -> ChaserSettings:
    stored = group.settings or {}
    known = {f.name for f in fields(ChaserSettings)}
    values = {k: v for k, v in stored.items() if k in known and _valid(k, v)}
    return ChaserSettings(**values)


def update_chaser_settings(
    session: Session, group: TaskGroup, changes: dict[str, Any], *, user_id: str, at: datetime
) -> dict[str, list[Any]]:
    """Sets the given settings (already validated), audits them, and returns {name: [old, new]}."""
    for name, value in changes.items():
        if not _valid(name, value):
            raise ValueError(f"bad chaser setting {name}={value!r}")
    current = asdict(chaser_settings(group))
    changed = audit.diff(current, changes)
    if not changed:
        return {}
    stored = dict(group.settings or {})
    for name, value in changes.items():
        if value == getattr(DEFAULTS, name):
            stored.pop(name, None)  # back to the default: follow future defaults too
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
