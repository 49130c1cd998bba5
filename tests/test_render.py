"""Block Kit rendering: built with slack_sdk.models, round-trips, and stays inside Slack's limits."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.render import MAX_BLOCKS, render
from commands.replies import Button, Reply, Section


def test_round_trip_and_fallback_text() -> None:
    reply = Reply(
        text="fallback",
        header="Heading " * 40,
        footer="small print",
        sections=[Section("*bold* line", buttons=[Button("Next page", "ecm_run", "actions page:2")])],
    )
    [message] = render(reply)
    assert message["text"] == "fallback"
    kinds = [b["type"] for b in message["blocks"]]
    assert kinds == ["header", "section", "actions", "context"]
    assert len(message["blocks"][0]["text"]["text"]) <= 150
    for block in message["blocks"]:
        assert Block.parse(block).to_dict() == block


def test_long_sections_split_under_3000_chars_and_messages_under_50_blocks() -> None:
    lines = "\n".join(f"• line {i} " + "x" * 80 for i in range(2500))
    messages = render(Reply(text="big", sections=[Section(lines)]))
    assert len(messages) > 1
    seen = []
    for message in messages:
        assert len(message["blocks"]) <= MAX_BLOCKS
        for block in message["blocks"]:
            assert len(block["text"]["text"]) <= 3000
            Block.parse(block)
            seen.extend(block["text"]["text"].split("\n"))
    assert seen == lines.split("\n")  # nothing lost in the split


def test_fallback_text_never_carries_a_broadcast() -> None:
    [message] = render(Reply(text="Group <!channel> and <!here|here>", sections=[Section("x")]))
    assert "<!" not in message["text"]
    assert "&lt;!channel>" in message["text"]
