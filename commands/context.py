"""What a verb is given: who asked, where, when, and an open unit of work. No Slack objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from commands.grammar import Args
from commands.replies import UserError
from storage.clock import Clock
from storage.models import Member, Role, TaskGroup


class Directory(Protocol):
    """The workspace's people, as the chat side can look them up (Slack: users.info, users.lookupByEmail).
    Both answer None when they cannot tell; neither raises."""

    def name_of(self, user_id: str) -> str | None: ...

    def user_for_email(self, email: str) -> str | None: ...


@dataclass
class Context:
    """One request, as the chat adapter saw it."""

    engine: Engine
    clock: Clock
    team_id: str
    channel_id: str
    user_id: str
    # Slack's trigger id (or another per-request key): the same request twice changes nothing twice.
    request_key: str | None = None
    # What a click is, whoever clicks it when (person, message, button, value): the same click twice
    # within a moment is a double click, acted on once (`commands.dispatch.claim_interaction`).
    repeat_key: str | None = None
    # The deployment's time zone (ECM_TIMEZONE): the one zone for parsing dates, "today", working days and
    # every date and time shown, whatever the group (TaskGroup.timezone is no longer read).
    default_timezone: str = "Europe/London"
    # People's names and e-mail look-ups for documents and imports; None where no chat side is attached.
    directory: Directory | None = None


def require_chair(is_chair: bool, doing: str) -> None:
    """The one "chairs only" rule and its words, for commands and operations alike."""
    if not is_chair:
        raise UserError(
            f"Only a chair of this task group can {doing}.",
            "Ask a chair (see `/ecm members`) to do it, or to make you a chair with "
            "`/ecm member @you role:chair`.",
        )


@dataclass(frozen=True)
class Actor:
    """Who is changing something, in which task group, when, and through which surface: what every
    operation in `commands.action_ops` takes instead of a parsed command, so a slash command, a button, a
    modal and an import all call the same code. Build one with `Call.actor()` or `commands.action_ops.actor_for`."""

    session: Session
    group: TaskGroup
    user_id: str
    is_chair: bool
    now: datetime
    today: date
    # How the change was made, added to what the channel is told, e.g. " (from their chaser DM)"; "" for a command.
    via: str = ""

    @property
    def group_id(self) -> int:
        assert self.group.id is not None
        return self.group.id


@dataclass
class Call:
    """A parsed command inside its transaction; verbs read and write through `session`."""

    ctx: Context
    args: Args
    session: Session
    group: TaskGroup | None
    caller: Member | None
    now: datetime

    @property
    def user_id(self) -> str:
        return self.ctx.user_id

    @property
    def timezone(self) -> str:
        """The deployment's zone: the command was parsed in it before the group was loaded, so the verb
        uses it too (one rule, never the group's stored zone)."""
        return self.ctx.default_timezone

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def is_chair(self) -> bool:
        return self.caller is not None and self.caller.role == Role.CHAIR

    @property
    def task_group(self) -> TaskGroup:
        """The group; verbs registered with needs_group=True can rely on it."""
        assert self.group is not None and self.group.id is not None
        return self.group

    @property
    def group_id(self) -> int:
        return self.task_group.id  # type: ignore[return-value]

    def actor(self) -> Actor:
        """This command's caller, for the operations in `commands.action_ops`."""
        return Actor(
            session=self.session,
            group=self.task_group,
            user_id=self.user_id,
            is_chair=self.is_chair,
            now=self.now,
            today=self.today,
        )

    def require_chair(self, doing: str) -> None:
        require_chair(self.is_chair, doing)
