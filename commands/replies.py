"""Plain reply data returned by every verb. `bot.render` turns it into Block Kit; nothing here knows Slack."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from commands import mrkdwn
from commands.mrkdwn import Mrkdwn, md


class Visibility(StrEnum):
    EPHEMERAL = "ephemeral"  # only the person who typed the command sees it
    CHANNEL = "channel"  # posted in the task group's channel for everyone
    DM = "dm"  # a direct message to `Reply.recipient`


# A button whose value is an `/ecm` command, re-run as the person who clicks (bot.listeners.buttons).
RUN_COMMAND = "ecm_run"


@dataclass
class Button:
    label: str
    action_id: str
    value: str
    style: str | None = None  # "primary" | "danger" | None


@dataclass
class Section:
    """A block of mrkdwn text, optionally with buttons under it. Build the text with `commands.mrkdwn`
    (`md`, `text`, `mention`, …); the type says so, and a plain `str` that reaches it anyway is escaped here,
    so it shows as text."""

    text: Mrkdwn
    buttons: list[Button] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.text = mrkdwn.text(self.text)


@dataclass
class Attachment:
    """A file that goes with a reply (uploaded beside the message)."""

    filename: str
    content: bytes
    title: str


@dataclass
class Reply:
    text: str  # plain fallback: notifications, screen readers and clients without blocks
    visibility: Visibility = Visibility.EPHEMERAL
    header: str | None = None  # plain text, shown as a heading
    sections: list[Section] = field(default_factory=list)
    footer: Mrkdwn | None = None  # small print (mrkdwn)
    recipient: str | None = None  # user id, for DMs
    is_error: bool = False
    files: list[Attachment] = field(default_factory=list)  # uploaded with the message (reports, exports)

    def __post_init__(self) -> None:
        if self.footer is not None:
            self.footer = mrkdwn.text(self.footer)

    @classmethod
    def error(cls, message: str, usage: str | None = None) -> Reply:
        """`message` and `usage` are kept if built as `Mrkdwn`; a plain `str` is escaped (shown as typed)."""
        sections = [Section(md(":warning: {}", message))]
        if usage:
            sections.append(Section(mrkdwn.text(usage)))
        return cls(text=message, sections=sections, is_error=True)

    @classmethod
    def note(cls, message: str) -> Reply:
        return cls(text=message, sections=[Section(mrkdwn.text(message))])


class UserError(Exception):
    """Bad input or no permission: the user gets `message` (and `usage`) ephemerally and nothing changes.
    Both are mrkdwn: built as `Mrkdwn` (`md(...)`) they are kept, and a plain `str` is escaped here."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = mrkdwn.text(message)
        self.usage = None if usage is None else mrkdwn.text(usage)
