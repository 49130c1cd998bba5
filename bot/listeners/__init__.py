"""Listener wiring: one module per kind of Slack payload, each with `register(app, services)`."""

from __future__ import annotations

import importlib
import pkgutil

from slack_bolt import App

from bot.services import Services

# Bolt tries every listener in the order it was registered until one matches, and each try builds the full
# set of listener arguments (~40 µs): the slash command, most of the traffic, goes first rather than behind
# the forms' two dozen listeners. No other listener takes a slash command, so no payload changes hands.
FIRST = ("slash_commands",)


def register_all(app: App, services: Services) -> None:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__))
    for name in [*FIRST, *(n for n in names if n not in FIRST)]:
        importlib.import_module(f"{__name__}.{name}").register(app, services)
