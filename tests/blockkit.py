"""The Block Kit check every message the bot sends in the tests goes through (see the `slack` fixture)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from bot.standin import Message


def check_blocks(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50, f"{len(blocks)} blocks"
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None, raw
        assert parsed.to_dict() == raw  # to_dict() also runs slack_sdk's length validations


def check_message(message: Message) -> None:
    """Parses back as Block Kit within Slack's limits, with a plain-text fallback that cannot ping anyone."""
    assert message.text, "every message needs a plain-text fallback"
    assert len(message.text) <= 3000
    # The fallback is mrkdwn too (notifications): user text in it must be escaped as well.
    assert "<!channel>" not in message.text and "<!here>" not in message.text
    # Headers are plain_text, which Slack never turns into pings; everything else is mrkdwn.
    assert "<!channel>" not in str([b for b in message.blocks if b.get("type") != "header"])
    check_blocks(message.blocks)
