"""What a post kind declares: its name, label, job, settings, `plan` and `build`. Slack-free.

A kind module (`commands/posts/<kind>.py`) defines one `PostKind` named `POST` and is listed once in
`commands.posts.KINDS`; `/ecm status`, `/ecm setup`, `ecm-bot jobs` and the dispatcher all read that list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from commands.mrkdwn import md
from commands.numbers import whole_number
from commands.replies import Reply, UserError
from storage.models import TaskGroup
from storage.notifications import Claimed, Planned


class NotWanted(Exception):  # noqa: N818 - reads as the outcome it is, not an error
    """Raised while building a post that should no longer go out; the message is the recorded reason."""


class GroupSettings:
    """A group's post settings by name (`settings.nudge_days`): the stored values over the defaults."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def value(self, setting: Setting) -> Any:
        return self._values[setting.name]

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GroupSettings) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self) -> str:
        return f"GroupSettings({self._values!r})"


_ON = {"on", "yes", "true", "1"}
_OFF = {"off", "no", "false", "0", "none", "never"}


@dataclass(frozen=True)
class Setting:
    """One `/ecm setup` option of a post kind, kept in `TaskGroup.settings[name]` when not the default.

    `parse(key, typed)` turns what a chair typed into the value (or raises UserError); `valid(value)` says
    whether a stored value can be used (a malformed one falls back to the default); `describe(settings)` is
    the line `/ecm setup` and `/ecm status` show; `show(value)` is how a value reads in "old → new".
    """

    name: str
    options: tuple[str, ...]  # as typed: the first is the one shown (`nudge-days`), the rest are aliases
    default: Any
    label: str  # in change lines: "due-soon nudge (working days before)"
    usage: str  # in `/ecm help setup`: "nudge-days:N (0 = none)"
    parse: Callable[[str, str], Any]
    valid: Callable[[Any], bool]
    describe: Callable[[GroupSettings], str]
    show: Callable[[Any], str] = field(default=lambda value: str(value))

    @property
    def option(self) -> str:
        return self.options[0]


def _on_off(value: Any) -> str:
    return "on" if value else "off"


def switch(
    name: str, options: tuple[str, ...], *, label: str, describe: Callable[[GroupSettings], str]
) -> Setting:
    """An on/off setting, on by default."""

    def parse(key: str, typed: str) -> bool:
        word = typed.strip().lower()
        if word in _ON:
            return True
        if word in _OFF:
            return False
        raise UserError(
            md("`{}:` takes `on` or `off`, not “{}”.", key, typed), f"For example `/ecm setup {key}:off`."
        )

    return Setting(
        name=name,
        options=options,
        default=True,
        label=label,
        usage=f"{options[0]}:on|off",
        parse=parse,
        valid=lambda value: isinstance(value, bool),
        describe=describe,
        show=_on_off,
    )


def working_days(
    name: str,
    options: tuple[str, ...],
    *,
    default: int,
    high: int,
    label: str,
    zero: str,
    describe: Callable[[GroupSettings], str],
) -> Setting:
    """A number of working days from 0 (`zero` says what 0 means: "none", "never") to `high`."""

    def parse(key: str, typed: str) -> int:
        word = typed.strip().lower()
        if word in _OFF:
            return 0
        number = whole_number(word, 0, high)
        if number is None:
            raise UserError(
                md(
                    "`{}:` takes a number of working days from 0 to {} (0 = off), not “{}”.", key, high, typed
                ),
                f"For example `/ecm setup {key}:3`.",
            )
        return number

    return Setting(
        name=name,
        options=options,
        default=default,
        label=label,
        usage=f"{options[0]}:N (0 = {zero})",
        parse=parse,
        valid=lambda value: isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= high,
        describe=describe,
        show=lambda value: "off" if value == 0 else str(value),
    )


def days_text(n: int) -> str:
    return f"{n} working day{'s' if n != 1 else ''}"


PlanFn = Callable[[Session, date, str], list[Planned]]
BuildFn = Callable[[Session, Claimed, str], Reply]


@dataclass(frozen=True)
class NextPost:
    """For `ecm-bot jobs list`: when a group's next post of a kind goes (or why none is planned)."""

    at: datetime | None
    status: str = ""  # when `at` is None: "off", "none"
    note: str = ""  # after the group's name: " (weekly, monday)"


NextFn = Callable[[Session, TaskGroup, GroupSettings, date, str], NextPost]


@dataclass(frozen=True)
class Job:
    """What `ecm-bot jobs run NAME` plans; several kinds may share one (the chasers)."""

    name: str
    summary: str


@dataclass(frozen=True)
class PostKind:
    """One kind of scheduled post.

    `name` is the outbox kind its rows carry; a kind whose lines go out inside another kind's message (the
    chairs' escalations in the owner digest) sets `posts_as` to that kind and has no `build` of its own.
    `next_post` (per group) is for `ecm-bot jobs list`; without it the job is listed once, every working day.
    """

    name: str
    label: str  # how `/ecm status` names its posts: "owner digest"
    job: Job
    plan: PlanFn
    build: BuildFn | None = None
    settings: tuple[Setting, ...] = ()
    posts_as: str | None = None
    next_post: NextFn | None = None

    @property
    def outbox_kind(self) -> str:
        return self.posts_as or self.name
