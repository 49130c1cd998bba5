"""The workspace's people through Slack's Web API (users.info, users.lookupByEmail), cached per request.

Used for names in documents and for owners given by e-mail in imported spreadsheets; a Slack error means
"don't know" (None), never an exception.
"""

from __future__ import annotations

import logging

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
