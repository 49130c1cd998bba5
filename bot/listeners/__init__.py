"""Listener wiring: one module per kind of Slack payload, each with `register(app, services)`."""

from __future__ import annotations

import importlib
import pkgutil

from slack_bolt import App

from bot.services import Services


def register_all(app: App, services: Services) -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}").register(app, services)
