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
    default_timezone: str = "Europe/London"
    # People's names and e-mail look-ups for documents and imports; None where no chat side is attached.
    directory: Directory | None = None


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
        return self.group.timezone if self.group else self.ctx.default_timezone

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

    def require_chair(self, doing: str) -> None:
        if not self.is_chair:
            raise UserError(
                f"Only a chair of this task group can {doing}.",
                "Ask a chair (see `/ecm members`) to do it, or to make you a chair with "
                "`/ecm member @you role:chair`.",
            )
