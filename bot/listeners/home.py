"""The App Home tab: published when someone opens it (`app_home_opened`). Its buttons are answered in
`bot/listeners/forms.py`; every change anywhere refreshes it (see `bot/home.py`)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.home import publish_home
from bot.services import Services


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab: nothing to publish
        # Bolt acked the event already; publishing talks to Slack, so it runs on the reply pool.
        services.later(publish_home, services, body.get("team_id") or "", event.get("user") or "")
