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


def test_a_shaped_section_is_what_the_models_build_and_keeps_their_limit() -> None:
    import pytest
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

    from bot.render import mrkdwn_section

    for text in ("x", "*#12* Title · <@U1> · _safe_", "é" * 3000):
        assert mrkdwn_section(text) == SectionBlock(text=MarkdownTextObject(text=text)).to_dict()
    assert mrkdwn_section("a") is not mrkdwn_section("a")  # a fresh dict each time: callers may change it
    with pytest.raises(SlackObjectFormationError):
        SectionBlock(text=MarkdownTextObject(text="x" * 3001)).to_dict()
    with pytest.raises(SlackObjectFormationError):
        mrkdwn_section("x" * 3001)


def test_shaped_header_and_context_blocks_are_what_the_models_build() -> None:
    import pytest
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, PlainTextObject

    from bot.render import context_mrkdwn, header_block

    for text in ("x", "Actions · Stay Safe · Chorley", "é" * 150):
        assert header_block(text) == HeaderBlock(text=PlainTextObject(text=text, emoji=True)).to_dict()
        assert context_mrkdwn(text) == ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()
    first, second = header_block("a"), header_block("a")
    first["text"]["text"] = "changed"  # fresh dicts, nested ones too: callers may change them
    assert second["text"]["text"] == "a" and header_block("b")["text"]["text"] == "b"
    shown = context_mrkdwn("a")
    shown["elements"][0]["text"] = "changed"
    assert context_mrkdwn("a")["elements"][0]["text"] == "a"
    with pytest.raises(SlackObjectFormationError):
        HeaderBlock(text=PlainTextObject(text="x" * 151)).to_dict()
    with pytest.raises(SlackObjectFormationError):
        header_block("x" * 151)


def test_broadcasts_in_sections_and_footers_are_sent_as_text_and_dates_left_alone() -> None:
    from commands.mrkdwn import Mrkdwn

    # Mrkdwn trusts its text, as a verb that forgot to escape would: the renderer is the backstop.
    reply = Reply(
        text="t",
        sections=[Section(Mrkdwn("due <!date^1700000000^{date_short}|14 Nov> · <!here> and <!subteam^S1>"))],
        footer=Mrkdwn("<!channel> <@U1>"),
    )
    [message] = render(reply)
    section, footer = message["blocks"][0]["text"]["text"], message["blocks"][1]["elements"][0]["text"]
    assert section == "due <!date^1700000000^{date_short}|14 Nov> · &lt;!here> and &lt;!subteam^S1>"
    assert footer == "&lt;!channel> <@U1>"
