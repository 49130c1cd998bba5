"""ECM_SLACK_BACKOFF_SECONDS paces the retries of a 5xx answer, for replies and scheduled posts alike; a
429 still waits for the Retry-After Slack sends, however short that back-off is."""

from __future__ import annotations

import time

from bot.offline import OfflineWorkspace, offline_settings
from bot.slack_api import delivery_client
from bot.standin import SlackStandIn
from storage.clock import FixedClock
from storage.db import make_engine


def _workspace(slack: SlackStandIn, clock: FixedClock, backoff: float) -> OfflineWorkspace:
    """The app as deployed with ECM_SLACK_BACKOFF_SECONDS=`backoff`; only its Slack client is used, so its
    database is an empty one (and the test runs once, not per backend)."""
    engine = make_engine("sqlite://")
    settings = offline_settings(slack, engine, ecm_slack_backoff_seconds=backoff)
    return OfflineWorkspace(engine, clock, standin=slack, inline_acks=True, settings=settings)


def _statuses(slack: SlackStandIn, method: str) -> list[int]:
    return [c.http_status for c in slack.calls_to(method)]


def test_server_errors_are_retried_after_the_configured_back_off(
    clock: FixedClock, slack: SlackStandIn
) -> None:
    ws = _workspace(slack, clock, 0.1)
    try:
        user = ws.user("sam")
        for client in (ws.services.client, delivery_client(ws.services.client)):
            slack.calls.clear()
            slack.inject("users.info", status=503, times=2)
            started = time.monotonic()
            assert client.users_info(user=user)["ok"]
            waited = time.monotonic() - started
            assert _statuses(slack, "users.info") == [503, 503, 200]
            # 0.1 s, then 0.2 s, each plus up to twice that at random: 0.3 to 0.9 s, short of the 1.5 s
            # the default (0.5) waits at the least, so the setting is what paced them.
            assert 0.3 <= waited < 1.5, waited
    finally:
        ws.close()


def test_a_rate_limit_waits_for_slacks_retry_after_however_short_the_back_off(
    clock: FixedClock, slack: SlackStandIn
) -> None:
    ws = _workspace(slack, clock, 0.01)
    try:
        user = ws.user("sam")
        slack.calls.clear()
        slack.inject("users.info", status=429, retry_after=1, times=1)
        started = time.monotonic()
        assert ws.services.client.users_info(user=user)["ok"]
        assert time.monotonic() - started >= 1.0  # Retry-After: 1, as Slack said
        assert _statuses(slack, "users.info") == [429, 200]
    finally:
        ws.close()
