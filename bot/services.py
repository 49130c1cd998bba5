"""What the listeners and jobs share: settings, database, clock and the Slack client."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.config import Settings
from storage.clock import Clock


@dataclass
class Services:
    settings: Settings
    engine: Engine
    clock: Clock
    client: WebClient
