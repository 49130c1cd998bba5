"""What the listeners and jobs share: settings, database, clock and the Slack client."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.background import ComputeGate, run_gated, run_logged
from bot.config import Settings
from storage.clock import Clock

if TYPE_CHECKING:
    from bot.home import HomeRefresher


@dataclass
class Services:
    settings: Settings
    engine: Engine
    clock: Clock
    client: WebClient
    replies: Executor  # the slow half of a request (talking to Slack), off Bolt's ack pool
    homes: HomeRefresher | None = None  # republishes the Homes changes concern (bot/home.py)
    gate: ComputeGate | None = None  # how many replies compute at once (ECM_REPLY_COMPUTING); None: no limit

    def later(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Runs `fn` on the reply pool, after the listener has acked: the ack never waits for Slack."""
        if self.gate is None:
            self.replies.submit(run_logged, fn, *args, **kwargs)
        else:
            self.replies.submit(run_gated, self.gate, fn, *args, **kwargs)
