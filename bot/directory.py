"""The workspace's people through Slack's Web API (users.info, users.lookupByEmail), cached per request.

Used for names in documents and for owners given by e-mail in imported spreadsheets; a Slack error means
"don't know" (None), never an exception.
"""

from __future__ import annotations

import logging
import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

log = logging.getLogger(__name__)


class SlackDirectory:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._names: dict[str, str | None] = {}
        self._emails: dict[str, str | None] = {}

    def name_of(self, user_id: str) -> str | None:
        if user_id not in self._names:
            name = None
            try:
                user = self.client.users_info(user=user_id).get("user") or {}
                profile = user.get("profile") or {}
                name = profile.get("real_name") or profile.get("display_name") or user.get("name") or None
            except (SlackClientError, OSError) as exc:
                log.info("users.info %s: %s", user_id, exc)
            self._names[user_id] = name
        return self._names[user_id]

    def user_for_email(self, email: str) -> str | None:
        key = email.strip().lower()
        if key not in self._emails:
            found = None
            try:
                user = self.client.users_lookupByEmail(email=key).get("user") or {}
                if not user.get("deleted") and not user.get("is_bot"):
                    found = user.get("id")
            except (SlackClientError, OSError) as exc:
                log.info("users.lookupByEmail: %s", exc)
            self._emails[key] = found
        return self._emails[key]


class RecipientNames:
    """Names for the Slack ids in operator output (`jobs run`): a member's stored display name first, then
    Slack's (users.info / conversations.info, once per id); the raw id only when neither knows."""

    def __init__(
        self,
        stored_people: dict[str, str],
        group_channels: dict[str, str],
        directory: SlackDirectory | None,
    ) -> None:
        self._people = dict(stored_people)
        self._groups = group_channels  # channel id -> task group name
        self._directory = directory
        self._channels: dict[str, str | None] = {}

    def person(self, user_id: str) -> str:
        if user_id not in self._people and self._directory is not None:
            self._people[user_id] = self._directory.name_of(user_id) or ""
        name = self._people.get(user_id)
        return f"@{name}" if name else user_id

    def channel(self, channel_id: str) -> str:
        if channel_id not in self._channels:
            name = None
            if self._directory is not None:
                try:
                    info = self._directory.client.conversations_info(channel=channel_id).get("channel") or {}
                    name = info.get("name")
                except (SlackClientError, OSError) as exc:
                    log.info("conversations.info %s: %s", channel_id, exc)
            self._channels[channel_id] = name
        name = self._channels[channel_id]
        if name:
            return f"#{name}"
        group = self._groups.get(channel_id)
        return f"{group} ({channel_id})" if group else channel_id

    def recipient(self, slack_id: str) -> str:
        return self.person(slack_id) if slack_id[:1] in ("U", "W") else self.channel(slack_id)

    def readable(self, text: str) -> str:
        """`<@U…>` and `<#C…|name>` in message text as @name and #name."""
        text = re.sub(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", lambda m: self.person(m.group(1)), text)
        text = re.sub(
            r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>",
            lambda m: f"#{m.group(2)}" if m.group(2) else self.channel(m.group(1)),
            text,
        )
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
