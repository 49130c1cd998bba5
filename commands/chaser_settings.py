"""The post options of `/ecm setup`: `chasers:off`, `digest:friday`, `nudge-days:3`, ...

Each option is declared by its post kind (`commands/posts/`, `PostKind.settings`); this module is the one
place that reads them for `/ecm setup`, `/ecm status` and `/ecm help setup`.
"""

from __future__ import annotations

from typing import Any

from commands.mrkdwn import Mrkdwn
from commands.posts.kind import GroupSettings, Setting
from commands.posts.registry import SETTINGS
from commands.replies import UserError

# Option key as typed (hyphen or underscore) -> setting.
OPTIONS: dict[str, Setting] = {option: s for s in SETTINGS for option in s.options}
OPTION_KEYS: dict[str, str] = {option: s.name for option, s in OPTIONS.items()}
KEYS = tuple(OPTIONS)

USAGE = " · ".join(s.usage for s in SETTINGS)
EXAMPLES = [
    "/ecm setup chasers:off",
    "/ecm setup digest:friday nudge-days:3",
    "/ecm setup escalate-after:15 reminders:off attendance-summary:off",
]
_BY_NAME = {s.name: s for s in SETTINGS}


def parse_options(keys: dict[str, str]) -> dict[str, Any]:
    """The post settings named in a command's keys, validated; {} when none were given."""
    changes: dict[str, Any] = {}
    for key, value in keys.items():
        setting = OPTIONS.get(key)
        if setting is None:
            continue
        if "," in value:
            raise UserError(f"`{key}:` was given twice; give it once.")
        changes[setting.name] = setting.parse(key, value)
    return changes


def describe(s: GroupSettings) -> Mrkdwn:
    """The settings as a chair reads them in `/ecm setup`, each with the option that changes it."""
    lines = ["*Chasers* (09:00 on working days, England & Wales bank holidays skipped):"]
    return Mrkdwn("\n").join([*lines, *(setting.describe(s) for setting in SETTINGS)])


def change_lines(changed: dict[str, list[Any]]) -> list[str]:
    def line(name: str, old: Any, new: Any) -> str:
        setting = _BY_NAME.get(name)
        if setting is None:
            return f"{name}: {old} → {new}"
        return f"{setting.label}: {setting.show(old)} → {setting.show(new)}"

    return [line(name, old, new) for name, (old, new) in changed.items()]
