"""The `/ecm` slash command: ack at once, then run the command and deliver its replies on the reply pool."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.ack_handover import run_in_place
from bot.directory import SlackDirectory
from bot.listeners.forms import open_new_action
from bot.listeners.plan_import import open_import_form, opens_import_form
from bot.services import Services
from bot.slack_api import deliver
from commands.context import Context
from commands.dispatch import run_command
from commands.forms import opens_new_action_form
from commands.replies import Reply

log = logging.getLogger(__name__)

SORRY = Reply.error(
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a "
    "minute; if it keeps happening, tell whoever runs the bot."
)


def run_and_deliver(
    services: Services,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    text: str,
    response_url: str | None,
    request_key: str | None,
    repeat_key: str | None = None,
) -> None:
    ctx = Context(
        engine=services.engine,
        clock=services.clock,
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        request_key=request_key,
        repeat_key=repeat_key,
        default_timezone=services.settings.ecm_timezone,
        directory=SlackDirectory(services.client),
    )
    try:
        replies = run_command(ctx, text)
    except Exception:
        log.exception("command failed: %r", text[:200])
        replies = [SORRY]
    deliver(services.client, replies, channel_id=channel_id, user_id=user_id, response_url=response_url)


def hands_over_only(body: dict[str, Any], next: Callable[[], None]) -> None:  # noqa: A002 - Bolt's name
    """Listener middleware: `on_ecm` only acks and hands its work to the reply pool, but when it opens the
    new-action form (a Slack call after its ack), so it may run in the request's own thread."""
    if not opens_new_action_form(body.get("text") or ""):
        run_in_place()
    next()


def register(app: App, services: Services) -> None:
    @app.command("/ecm", middleware=[hands_over_only])
    def on_ecm(ack: Ack, command: dict[str, Any]) -> None:
        # Slack wants the ack within 3 seconds: ack now, and run the command on the reply pool.
        ack()
        if opens_new_action_form(command.get("text") or "") and command.get("trigger_id"):
            # A trigger id lasts 3 seconds: the form is opened here, at once, not behind the reply pool.
            open_new_action(
                services,
                {
                    "user": {"id": command["user_id"]},
                    "team_id": command["team_id"],
                    "trigger_id": command["trigger_id"],
                },
                channel_id=command["channel_id"],
            )
            return
        if opens_import_form(command.get("text") or "") and command.get("trigger_id"):
            # The trigger id lasts 3 seconds: open the form on the reply pool straight away.
            services.later(open_import_form, services, command)
            return
        services.later(
            run_and_deliver,
            services,
            team_id=command["team_id"],
            channel_id=command["channel_id"],
            user_id=command["user_id"],
            text=command.get("text") or "",
            response_url=command.get("response_url"),
            request_key=command.get("trigger_id"),
        )
