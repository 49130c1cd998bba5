"""The real app wired to the local Slack stand-in: used by `ecm-bot console`, the tests and the benchmarks.

Every command goes in as a signed Slack payload through the Bolt app, and what comes back is read from the
stand-in, exactly as Slack would have received it.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltResponse
from sqlalchemy import Engine

from bot.app import create_app
from bot.background import DrainableExecutor, InlineExecutor
from bot.config import Settings
from bot.services import Services
from bot.standin import Message, OpenView, SlackStandIn, StoredFile
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
    files: list[StoredFile] = field(
        default_factory=list
    )  # files the bot uploaded meanwhile (reports, exports)

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

    @property
    def body(self) -> dict[str, Any]:
        """What the app answered Slack with (a view_submission's response_action, a block_suggestion's
        options), as JSON; {} for a plain ack."""
        raw = self.response.body
        if not raw:
            return {}
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def errors(self) -> dict[str, str]:
        """Field errors from a view_submission answered with `response_action: errors`, by block id."""
        return dict(self.body.get("errors") or {}) if self.body.get("response_action") == "errors" else {}


def offline_settings(standin: SlackStandIn, engine: Engine, **overrides: Any) -> Settings:
    """The settings an OfflineWorkspace runs with by default (no .env: the stand-in's token, secret and
    URL, and `engine`'s database), with `overrides` (e.g. `ecm_slack_backoff_seconds=0.01`) on top."""
    values: dict[str, Any] = {
        "slack_bot_token": standin.bot_token,
        "slack_signing_secret": standin.signing_secret,
        "slack_api_url": standin.api_url,
        "database_url": str(engine.url),
        "ecm_home_refresh_seconds": 0,  # each exchange is drained anyway: no need to wait for a burst
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]


class OfflineWorkspace:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        standin: SlackStandIn | None = None,
        channel_name: str = "ecm-task-group",
        settings: Settings | None = None,
        inline_acks: bool = False,
    ) -> None:
        """`inline_acks`: run Bolt's listeners in the request's own thread (`InlineExecutor`) rather than on
        an ack pool, so no request waits out Bolt's 10 ms ack polling (the test suite's end-to-end tier);
        the reply pool stays a real pool either way."""
        self.standin = standin or SlackStandIn(signing_secret=secrets.token_hex(16)).start()
        self._own_standin = standin is None
        self.settings = settings or offline_settings(self.standin, engine)
        # Bolt's ack pool and the reply pool, as in production; each request is drained through both.
        self.executor: DrainableExecutor | InlineExecutor = (
            InlineExecutor() if inline_acks else DrainableExecutor(self.settings.ecm_ack_workers, "bolt-ack")
        )
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
        files_before = {f.id for f in self.standin.uploaded_files()}
        response = self.standin.dispatch(self.app, body, retry_num=retry_num)
        self.drain()
        files = [f for f in self.standin.uploaded_files() if f.id not in files_before]
        return Exchange(response=response, messages=list(self.standin.messages[before:]), files=files)

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

    # ----- views: Home tab, shortcuts, modals ----------------------------------------------------------
    def open_home(self, user: str = "chair") -> OpenView | None:
        """Opens the person's Home tab (the app_home_opened event) and returns what the bot published."""
        user_id = self.user(user)
        self._exchange(self.standin.app_home_opened(user_id))
        return self.standin.homes.get(user_id)

    def home_of(self, user: str) -> OpenView | None:
        return self.standin.homes.get(self.user(user))

    def modal(self, user: str = "chair") -> OpenView | None:
        """The modal on top of the person's stack, if one is open."""
        return self.standin.top_modal(self.user(user))

    def shortcut(self, callback_id: str, user: str = "chair") -> Exchange:
        return self._exchange(self.standin.global_shortcut(self.user(user), callback_id))

    def message_shortcut(
        self, callback_id: str, message: Message, user: str = "chair", author: str | None = None
    ) -> Exchange:
        author_id = self.user(author) if author else None
        return self._exchange(
            self.standin.message_shortcut(self.user(user), callback_id, message, author=author_id)
        )

    def say(self, text: str, user: str = "sam", channel: str | None = None) -> Message:
        """A message a person writes in the channel (`@name` becomes a mention, as Slack sends it)."""
        self.user(user)
        return self.standin.post_message(
            channel or self.channel, self.render_mentions(text), self.users[user]
        )

    def press(
        self,
        view: OpenView,
        label_or_action: str,
        *,
        answers: dict[str, Any] | None = None,
    ) -> Exchange:
        """Presses a button on a Home tab or modal, by its label (or action id): the first from the top."""
        button, block_id = find_button(view.view, label_or_action)
        return self.press_button(view, button, block_id, answers=answers)

    def press_button(
        self,
        view: OpenView,
        button: dict[str, Any],
        block_id: str,
        *,
        answers: dict[str, Any] | None = None,
    ) -> Exchange:
        return self._exchange(
            self.standin.view_block_action(
                view, button["action_id"], button.get("value", ""), block_id=block_id, answers=answers
            )
        )

    def press_select(
        self, view: OpenView, block_id: str, value: str, *, answers: dict[str, Any] | None = None
    ) -> Exchange:
        """Chooses `value` in a select that reloads the form when it changes."""
        return self._exchange(self.standin.view_select_action(view, block_id, value, answers=answers))

    def button_for(self, view: OpenView, label: str, number: int) -> tuple[dict[str, Any], str]:
        """The button labelled `label` under the line for action #number (Home tab)."""
        return button_near(view.view.get("blocks") or [], label, number)

    def press_message(
        self, message: Message, button: dict[str, Any], block_id: str, user: str = "chair"
    ) -> Exchange:
        """Presses a button on a message the bot sent (in the channel, a DM, or an ephemeral reply), as
        `user`: the block_actions payload Slack sends, naming the message's channel and ts."""
        return self._exchange(
            self.standin.block_action(
                self.user(user),
                message.channel,
                button["action_id"],
                button.get("value", ""),
                message.ts,
                block_id=block_id or "b",
            )
        )

    def dms_of(self, name: str) -> list[Message]:
        """The messages the bot sent to the person's DM (their IM channel), oldest first, as they read now
        (a DM refreshed in place by chat.update shows its latest text)."""
        user_id = self.user(name)
        return [m for m in self.standin.messages if m.channel == user_id and not m.ephemeral]

    def submit(
        self, view: OpenView, answers: dict[str, Any] | None = None, *, retry_num: int | None = None
    ) -> Exchange:
        """Submits an open modal with `answers` (by block id) over its initial values; then does what Slack
        does with the answer: closes the stack, updates or pushes the view, or keeps it open with errors."""
        body = self.standin.submit(view, answers)
        exchange = self._exchange(body, retry_num)
        self.apply_view_response(view, exchange.body)
        return exchange

    def resubmit(self, body: str, retry_num: int | None = None) -> Exchange:
        """A view_submission body as it is (again, with `retry_num`, as Slack sends a retry)."""
        return self._exchange(body, retry_num)

    def apply_view_response(self, view: OpenView, answer: dict[str, Any]) -> None:
        action = answer.get("response_action")
        if action == "errors":
            return
        if action == "update" and isinstance(answer.get("view"), dict):
            view.view = answer["view"]
            return
        if action == "push" and isinstance(answer.get("view"), dict):
            pushed = OpenView(
                id=f"{view.id}P{len(self.standin.views)}",
                user=view.user,
                view=answer["view"],
                hash=view.hash,
                root_id=view.root_id or view.id,
            )
            self.standin.views[pushed.id] = pushed
            return
        self.standin.close_views(view.user)

    def suggest(self, view: OpenView, block_id: str, typed: str) -> list[dict[str, Any]]:
        """The options the bot offers for an external select while `typed` is being typed."""
        element = next(b["element"] for b in view.view.get("blocks", []) if b.get("block_id") == block_id)
        exchange = self._exchange(self.standin.block_suggestion(view, element["action_id"], block_id, typed))
        return list(exchange.body.get("options") or [])

    def render_mentions(self, text: str) -> str:
        """`@name` -> `<@U…>` as Slack sends mentions when the command has should_escape on."""

        def to_entity(match: re.Match[str]) -> str:
            name = match.group(1)
            return f"<!{name}>" if name in ("channel", "here", "everyone") else f"<@{self.user(name)}>"

        return re.sub(r"(?<![\w<])@([a-z][\w.\-]*[\w])", to_entity, text)

    def readable(self, text: str) -> str:
        """`<@U…>` -> `@name`, and Slack's entities back to characters, for people reading the console."""
        text = re.sub(r"<@([UW][A-Z0-9]+)>", lambda m: "@" + self.standin.user_name(m.group(1)), text)
        # Channel references as Slack shows them: #name.
        text = re.sub(
            r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>",
            lambda m: "#" + (m.group(2) or self.standin.channel_name(m.group(1))),
            text,
        )
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def drain(self) -> None:
        """Waits until every ack and every reply of what was sent so far is done."""
        self.executor.drain()
        self.replies.drain()
        if self.services.homes is not None:
            self.services.homes.drain()

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.replies.shutdown(wait=True)
        if self.services.homes is not None:
            self.services.homes.close()
        if self._own_standin:
            self.standin.stop()


def button_near(blocks: list[dict[str, Any]], label: str, number: int) -> tuple[dict[str, Any], str]:
    """The button labelled `label` for action #number: in the actions block under the line for #number
    (Home tab, chaser DMs), else any such button whose value ends in `:number`."""
    for i, block in enumerate(blocks[:-1]):
        if block.get("type") == "section" and f"*#{number}*" in (block.get("text") or {}).get("text", ""):
            try:
                return find_button({"blocks": [blocks[i + 1]]}, label)
            except LookupError:
                continue
    wanted = label.strip().lower()
    for block in blocks:
        elements = block.get("elements") or [] if block.get("type") == "actions" else []
        for element in elements:
            text = ((element.get("text") or {}).get("text") or "").strip().lower()
            value = str(element.get("value", ""))
            if element.get("type") == "button" and text == wanted and value.endswith(f":{number}"):
                return element, block.get("block_id", "")
    raise LookupError(f"no [{label}] button for #{number}")


def find_button(view: dict[str, Any], label_or_action: str) -> tuple[dict[str, Any], str]:
    """The button in a view whose label (case-insensitive) or action id is `label_or_action`, and its
    block id; the first such button from the top."""
    wanted = label_or_action.strip().lower()
    for block in view.get("blocks") or []:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") != "button":
                continue
            label = ((element.get("text") or {}).get("text") or "").strip().lower()
            if wanted in (
                label,
                str(element.get("action_id", "")).lower(),
                str(element.get("value", "")).lower(),
            ):
                return element, block.get("block_id", "")
    raise LookupError(f"no button {label_or_action!r} here")
