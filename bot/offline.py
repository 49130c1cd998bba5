"""The real app wired to the local Slack stand-in: used by `ecm-bot console`, the tests and the benchmarks.

Every command goes in as a signed Slack payload through the Bolt app, and what comes back is read from the
stand-in, exactly as Slack would have received it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltResponse
from sqlalchemy import Engine

from bot.app import create_app
from bot.background import DrainableExecutor
from bot.config import Settings
from bot.services import Services
from bot.standin import Message, SlackStandIn
from storage.clock import Clock


def block_text(blocks: list[dict[str, Any]]) -> str:
    """Blocks as a person would read them, one line per text element."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("header", "section"):
            lines.append((block.get("text") or {}).get("text", ""))
            for f in block.get("fields") or []:
                lines.append(f.get("text", ""))
        elif kind == "context":
            lines.extend(e.get("text", "") for e in block.get("elements", []))
        elif kind == "actions":
            labels = [f"[{(e.get('text') or {}).get('text', '')}]" for e in block.get("elements", [])]
            lines.append(" ".join(labels))
        elif kind == "divider":
            lines.append("---")
    return "\n".join(lines)


@dataclass
class Exchange:
    """What one request into the app produced at the stand-in."""

    response: BoltResponse
    messages: list[Message] = field(default_factory=list)

    @property
    def ephemeral(self) -> list[Message]:
        return [m for m in self.messages if m.ephemeral]

    @property
    def posted(self) -> list[Message]:
        return [m for m in self.messages if not m.ephemeral]

    @property
    def text(self) -> str:
        return "\n".join(block_text(m.blocks) or m.text for m in self.messages)

    @property
    def is_error(self) -> bool:
        return any(":warning:" in block_text(m.blocks) for m in self.messages)


class OfflineWorkspace:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        standin: SlackStandIn | None = None,
        channel_name: str = "ecm-task-group",
        settings: Settings | None = None,
    ) -> None:
        self.standin = standin or SlackStandIn(signing_secret=secrets.token_hex(16)).start()
        self._own_standin = standin is None
        self.settings = settings or Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=self.standin.bot_token,
            slack_signing_secret=self.standin.signing_secret,
            slack_api_url=self.standin.api_url,
            database_url=str(engine.url),
        )
        # Bolt's ack pool and the reply pool, as in production; each request is drained through both.
        self.executor = DrainableExecutor(self.settings.ecm_ack_workers, "bolt-ack")
        self.replies = DrainableExecutor(self.settings.ecm_reply_workers, "ecm-reply")
        self.engine = engine
        self.clock = clock
        self.app: App
        self.services: Services
        self.app, self.services = create_app(
            self.settings, engine, clock, listener_executor=self.executor, reply_executor=self.replies
        )
        self.channel = self.standin.add_channel(channel_name)
        self.users: dict[str, str] = {}

    def user(self, name: str) -> str:
        if name not in self.users:
            self.users[name] = self.standin.add_user(name)
        return self.users[name]

    def _exchange(self, body: str, retry_num: int | None = None) -> Exchange:
        before = len(self.standin.messages)
        response = self.standin.dispatch(self.app, body, retry_num=retry_num)
        self.drain()
        return Exchange(response=response, messages=list(self.standin.messages[before:]))

    def command(
        self,
        text: str,
        user: str = "chair",
        channel: str | None = None,
        trigger_id: str | None = None,
        retry_num: int | None = None,
    ) -> Exchange:
        """Runs `/ecm text` as `user` (a name; created on first use) in the channel."""
        text = re.sub(r"^/ecm\b\s*", "", text.strip())
        body = self.standin.slash_command(
            self.render_mentions(text), self.user(user), channel or self.channel, trigger_id=trigger_id
        )
        return self._exchange(body, retry_num)

    def click(
        self,
        action_id: str,
        value: str,
        user: str = "chair",
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> Exchange:
        body = self.standin.block_action(
            self.user(user), channel or self.channel, action_id, value, message_ts
        )
        return self._exchange(body)

    def submit_view(
        self, callback_id: str, private_metadata: str, values: dict[str, Any], user: str = "chair"
    ) -> Exchange:
        return self._exchange(
            self.standin.view_submission(self.user(user), callback_id, private_metadata, values)
        )

    def render_mentions(self, text: str) -> str:
        """`@name` -> `<@U…>` as Slack sends mentions when the command has should_escape on."""

        def to_entity(match: re.Match[str]) -> str:
            name = match.group(1)
            return f"<!{name}>" if name in ("channel", "here", "everyone") else f"<@{self.user(name)}>"

        return re.sub(r"(?<![\w<])@([a-z][\w.\-]*[\w])", to_entity, text)

    def readable(self, text: str) -> str:
        """`<@U…>` -> `@name`, and Slack's entities back to characters, for people reading the console."""
        text = re.sub(r"<@([UW][A-Z0-9]+)>", lambda m: "@" + self.standin.user_name(m.group(1)), text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def drain(self) -> None:
        """Waits until every ack and every reply of what was sent so far is done."""
        self.executor.drain()
        self.replies.drain()

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.replies.shutdown(wait=True)
        if self._own_standin:
            self.standin.stop()
