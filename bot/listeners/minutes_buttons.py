"""The "Share in channel" button under `/ecm minutes`: runs `/ecm minutes id:N share` through the same
dispatch as the typed command (same channel check, permission check and retry guard)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.interactions import interaction_keys
from bot.listeners.slash_commands import SORRY
from bot.services import Services
from bot.slack_api import deliver
from commands.context import Context
from commands.dispatch import run_args
from commands.meeting_view import SHARE_MINUTES
from commands.verbs.minutes import share_args

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.action(SHARE_MINUTES)
    def on_share_minutes(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        services.later(share, body, action)

    def share(body: dict[str, Any], action: dict[str, Any]) -> None:
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        user = (body.get("user") or {}).get("id", "")
        ctx = Context(
            engine=services.engine,
            clock=services.clock,
            team_id=(body.get("team") or {}).get("id", ""),
            channel_id=channel,
            user_id=user,
            request_key=body.get("trigger_id"),
            repeat_key=interaction_keys(body).repeat,  # a double click shares the minutes once
            default_timezone=services.settings.ecm_timezone,
        )
        try:
            replies = run_args(ctx, share_args(str(action.get("value") or "")))
        except Exception:
            log.exception("sharing minutes failed")
            replies = [SORRY]
        deliver(
            services.client, replies, channel_id=channel, user_id=user, response_url=body.get("response_url")
        )
