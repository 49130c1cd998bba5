"""Forms: the New action and Update action modals, the "Make this an action" message shortcut, the Home
tab's buttons and the chair's meeting forms. Every submission goes through the core's operations."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services

NEW_ACTION_SHORTCUT = "ecm_new_action"  # global shortcut (manifest.yml)
MESSAGE_SHORTCUT = "ecm_message_to_action"  # message shortcut (manifest.yml)


def register(app: App, services: Services) -> None:
    return None
