"""The chaser options of `/ecm setup`: `chasers:off`, `digest:friday`, `nudge-days:3`, ...

Kept apart from the setup verb so the grammar for these options, and how they read back, live in one
place that `/ecm setup`, `/ecm status` and `/ecm help setup` share.
"""

from __future__ import annotations

from typing import Any

from commands.numbers import whole_number
from commands.replies import UserError
from commands.text import esc
from storage.settings_schema import OFF, WEEKDAYS, ChaserSettings

# Option key as typed (hyphen or underscore) -> setting name.
OPTION_KEYS: dict[str, str] = {
    "chasers": "chasers",
    "digest": "digest_day",
    "nudge-days": "nudge_days", "nudge_days": "nudge_days", "nudge": "nudge_days",
    "escalate-after": "escalate_after", "escalate_after": "escalate_after", "escalate": "escalate_after",
    "reminders": "reminders",
    "attendance-summary": "attendance_summary", "attendance_summary": "attendance_summary",
}  # fmt: skip
KEYS = tuple(OPTION_KEYS)

USAGE = (
    "chasers:on|off · nudge-days:N (0 = none) · digest:monday…friday|off · escalate-after:N (0 = never) · "
    "reminders:on|off · attendance-summary:on|off"
)
EXAMPLES = [
    "/ecm setup chasers:off",
    "/ecm setup digest:friday nudge-days:3",
    "/ecm setup escalate-after:15 reminders:off attendance-summary:off",
]

_ON = {"on", "yes", "true", "1"}
_OFF = {"off", "no", "false", "0", "none", "never"}
_DAY_ALIASES = (
    {d[:3]: d for d in WEEKDAYS}
    | {d: d for d in WEEKDAYS}
    | {"tues": "tuesday", "weds": "wednesday", "thur": "thursday", "thurs": "thursday"}
)


def _switch(key: str, value: str) -> bool:
    word = value.strip().lower()
    if word in _ON:
        return True
    if word in _OFF:
        return False
    raise UserError(
        f"`{key}:` takes `on` or `off`, not “{esc(value)}”.", f"For example `/ecm setup {key}:off`."
    )


def _number(key: str, value: str, low: int, high: int) -> int:
    word = value.strip().lower()
    if word in _OFF:
        return 0
    number = whole_number(word, low, high)
    if number is None:
        raise UserError(
            f"`{key}:` takes a number of working days from {low} to {high} (0 = off), not “{esc(value)}”.",
            f"For example `/ecm setup {key}:3`.",
        )
    return number


def parse_options(keys: dict[str, str]) -> dict[str, Any]:
    """The chaser settings named in a command's keys, validated; {} when none were given."""
    changes: dict[str, Any] = {}
    for key, value in keys.items():
        name = OPTION_KEYS.get(key)
        if name is None:
            continue
        if "," in value:
            raise UserError(f"`{key}:` was given twice; give it once.")
        if name in ("chasers", "reminders", "attendance_summary"):
            changes[name] = _switch(key, value)
        elif name == "nudge_days":
            changes[name] = _number(key, value, 0, 20)
        elif name == "escalate_after":
            changes[name] = _number(key, value, 0, 120)
        elif name == "digest_day":
            word = value.strip().lower()
            if word in _OFF:
                changes[name] = OFF
            elif word in _DAY_ALIASES:
                changes[name] = _DAY_ALIASES[word]
            else:
                raise UserError(
                    f"`digest:` takes a weekday (monday to friday) or `off`, not “{esc(value)}”.",
                    "For example `/ecm setup digest:monday`.",
                )
    return changes


def _days(n: int) -> str:
    return f"{n} working day{'s' if n != 1 else ''}"


def describe(s: ChaserSettings) -> str:
    """The settings as a chair reads them in `/ecm setup`, each with the option that changes it."""
    on_off = {True: "on", False: "off"}
    lines = [
        "*Chasers* (09:00 on working days, England & Wales bank holidays skipped):",
        f"• Owner digest DMs of overdue actions: *{on_off[s.chasers]}* (`chasers:{on_off[not s.chasers]}`)",
        "• Due-soon nudge: "
        + (f"*{_days(s.nudge_days)} before the due date*" if s.nudge_days and s.chasers else "*off*")
        + " (`nudge-days:N`, 0 = none)",
        "• Channel digest: "
        + (
            f"*weekly on {s.digest_day.capitalize()}* (or the next working day)"
            if s.digest_day != OFF
            else "*off*"
        )
        + " (`digest:monday…friday|off`)",
        "• Escalation to chairs: "
        + (f"*overdue by {_days(s.escalate_after)} or more*" if s.escalate_after else "*off*")
        + " (`escalate-after:N`, 0 = never)",
        f"• Meeting reminders the working day before: *{on_off[s.reminders]}* (`reminders:on|off`)",
        f"• Monthly attendance summary: *{on_off[s.attendance_summary]}* (`attendance-summary:on|off`)",
    ]
    return "\n".join(lines)


LABELS = {
    "chasers": "chasers",
    "nudge_days": "due-soon nudge (working days before)",
    "digest_day": "channel digest",
    "escalate_after": "escalate after (working days)",
    "reminders": "meeting reminders",
    "attendance_summary": "attendance summary",
}


def change_lines(changed: dict[str, list[Any]]) -> list[str]:
    def show(value: Any) -> str:
        if isinstance(value, bool):
            return "on" if value else "off"
        if value == 0:
            return "off"
        return str(value)

    return [f"{LABELS.get(name, name)}: {show(old)} → {show(new)}" for name, (old, new) in changed.items()]
