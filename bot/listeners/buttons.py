"""Generic buttons: "ecm_run" re-runs a command (e.g. the next page of a list) as the person who clicked."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.interactions import interaction_keys
from bot.listeners.slash_commands import run_and_deliver
from bot.services import Services
from commands.replies import RUN_COMMAND


def register(app: App, services: Services) -> None:
    @app.action(RUN_COMMAND)
    def on_run(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id", "")
        services.later(
            run_and_deliver,
            services,
            team_id=body["team"]["id"],
            channel_id=channel,
            user_id=body["user"]["id"],
            text=action.get("value", ""),
            response_url=body.get("response_url"),
            request_key=body.get("trigger_id"),
            repeat_key=interaction_keys(body).repeat,
        )
