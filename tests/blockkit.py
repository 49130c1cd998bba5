"""The Block Kit check every message the bot sends in the tests goes through (see the `slack` fixture).

Parsing back through slack_sdk's models is slow (a Home tab's is ~10 ms) and the bot sends the same blocks
again and again (each Home refresh, the same replies in many tests): what passed is remembered for the
worker, by its JSON, and not checked again (the checks depend on nothing else)."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block

from bot.standin import Message

_PASSED: set[str] = set()  # the JSON of blocks and views that passed their check


def _key(kind: str, value: object) -> str:
    return kind + json.dumps(value, sort_keys=True, default=repr)


def check_block(raw: dict[str, Any]) -> None:
    key = _key("block", raw)
    if key in _PASSED:
        return
    parsed = Block.parse(raw)
    assert parsed is not None, raw
    assert parsed.to_dict() == raw  # to_dict() also runs slack_sdk's length validations
    _PASSED.add(key)


def check_blocks(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50, f"{len(blocks)} blocks"
    for raw in blocks:
        check_block(raw)


def check_message(message: Message) -> None:
    """Parses back as Block Kit within Slack's limits, with a plain-text fallback that cannot ping anyone."""
    assert message.text, "every message needs a plain-text fallback"
    assert len(message.text) <= 3000
    # The fallback is mrkdwn too (notifications): user text in it must be escaped as well.
    assert "<!channel>" not in message.text and "<!here>" not in message.text
    # Headers are plain_text, which Slack never turns into pings; everything else is mrkdwn.
    assert "<!channel>" not in str([b for b in message.blocks if b.get("type") != "header"])
    check_blocks(message.blocks)


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(block.get("elements") or []) if block.get("type") == "actions" else []
    for key in ("element", "accessory"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return found


def check_view(view: dict[str, Any]) -> None:
    """A modal or Home tab within Slack's limits: parses back as Block Kit, ≤ 100 blocks, a modal title of
    ≤ 24 characters, option text ≤ 75 characters and ≤ 100 options in a static select, unique block ids."""
    from slack_sdk.models.views import View

    key = _key("view", view)
    if key in _PASSED:
        return
    assert view["type"] in ("modal", "home"), view.get("type")
    assert len(view.get("blocks") or []) <= 100, f"{len(view['blocks'])} blocks"
    if view["type"] == "modal":
        assert len(view["title"]["text"]) <= 24, view["title"]
        for key in ("submit", "close"):
            if view.get(key):
                assert len(view[key]["text"]) <= 24, view[key]
        assert len(view.get("private_metadata") or "") <= 3000
    block_ids = [b["block_id"] for b in view.get("blocks") or [] if b.get("block_id")]
    assert len(block_ids) == len(set(block_ids)), block_ids
    for raw in view.get("blocks") or []:
        check_block(raw)
        assert "<!channel>" not in str(raw) and "<!here>" not in str(raw)
        for element in _elements(raw):
            options = list(element.get("options") or [])
            for group in element.get("option_groups") or []:
                options += group.get("options") or []
            if element.get("type", "").endswith("static_select"):
                assert len(options) <= 100, f"{len(options)} options in {element.get('action_id')}"
            for option in options:
                assert len(option["text"]["text"]) <= 75, option
    kept = {
        k: v
        for k, v in view.items()
        if k
        in (
            "type",
            "title",
            "blocks",
            "close",
            "submit",
            "private_metadata",
            "callback_id",
            "external_id",
            "clear_on_close",
            "notify_on_close",
            "submit_disabled",
        )
    }
    View(**kept).validate_json()
    _PASSED.add(key)
