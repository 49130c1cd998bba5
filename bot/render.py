"""Reply data -> Block Kit, built with slack_sdk.models, within Slack's limits."""

from __future__ import annotations

import copy
import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from commands.replies import Reply
from commands.text import truncate

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER = 150
MAX_FALLBACK = 3000


def _split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Splits long mrkdwn on line breaks so no section exceeds Slack's 3000 characters."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


# Slack's broadcasts. The bot never sends one, so any that reaches the renderer came from user text that
# escaped its escaping; it is sent as text. (Real `<@U…>` mentions and `<!date^…>` are left alone.)
_BROADCAST = re.compile(r"<!(channel|here|everyone|subteam\^)")


def refuse_broadcasts(mrkdwn: str) -> str:
    if "<!" not in mrkdwn:  # most text: no regex pass over every line of a list
        return mrkdwn
    return _BROADCAST.sub(r"&lt;!\1", mrkdwn)


_PLACEHOLDER = "\x00"
# The block every line and paragraph becomes, as slack_sdk.models builds and validates it (once, here):
# rendering one more is a copy of this with its text, ~2 µs instead of ~100 µs of model validation per block.
_SECTION = SectionBlock(text=MarkdownTextObject(text=_PLACEHOLDER)).to_dict()
assert _SECTION["text"]["text"] == _PLACEHOLDER, _SECTION


def mrkdwn_section(text: str) -> dict[str, Any]:
    """`SectionBlock(text=MarkdownTextObject(text=text)).to_dict()`, from the shape the models made: the one
    thing their validation checks in this shape (at most 3000 characters of text) is checked here."""
    if len(text) > SectionBlock.text_max_length:
        raise SlackObjectFormationError(
            f"text attribute cannot exceed {SectionBlock.text_max_length} characters"
        )
    block = copy.copy(_SECTION)
    block["text"] = {**_SECTION["text"], "text": text}
    return block


_HEADER = HeaderBlock(text=PlainTextObject(text=_PLACEHOLDER, emoji=True)).to_dict()
_CONTEXT = ContextBlock(elements=[MarkdownTextObject(text=_PLACEHOLDER)]).to_dict()


def header_block(text: str) -> dict[str, Any]:
    """`HeaderBlock(text=PlainTextObject(text=text, emoji=True)).to_dict()`, from the shape the models made;
    its one check (at most 150 characters) is made here."""
    if len(text) > HeaderBlock.text_max_length:
        raise SlackObjectFormationError(
            f"text attribute cannot exceed {HeaderBlock.text_max_length} characters"
        )
    return {**_HEADER, "text": {**_HEADER["text"], "text": text}}


def context_mrkdwn(text: str) -> dict[str, Any]:
    """`ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()`, from the shape the models made
    (they check nothing in it that can vary)."""
    return {**_CONTEXT, "elements": [{**_CONTEXT["elements"][0], "text": text}]}


_BUTTON = ButtonElement(
    text=PlainTextObject(text=_PLACEHOLDER), action_id=_PLACEHOLDER, value=_PLACEHOLDER
).to_dict()
_BUTTON_STYLES = ("primary", "danger")


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    """`ButtonElement(text=PlainTextObject(text=label), action_id=, value=, style=).to_dict()`, from the shape
    the models made: what their validation checks in this shape (the label's, value's and action id's
    lengths, the style) is checked here. An empty value is left out, as the models leave it out."""
    if len(label) > ButtonElement.text_max_length:
        raise SlackObjectFormationError(
            f"text attribute cannot exceed {ButtonElement.text_max_length} characters"
        )
    if len(value) > ButtonElement.value_max_length:
        raise SlackObjectFormationError(
            f"value attribute cannot exceed {ButtonElement.value_max_length} characters"
        )
    if len(action_id) > ButtonElement.action_id_max_length:
        raise SlackObjectFormationError(
            f"action_id attribute cannot exceed {ButtonElement.action_id_max_length} characters"
        )
    if style is not None and style not in _BUTTON_STYLES:
        raise SlackObjectFormationError(f"style must be one of {_BUTTON_STYLES}")
    element = {**_BUTTON, "text": {**_BUTTON["text"], "text": label}, "action_id": action_id, "value": value}
    if not value:
        del element["value"]
    if style:
        element["style"] = style
    return element


def actions_block(elements: list[dict[str, Any]], block_id: str | None = None) -> dict[str, Any]:
    """`ActionsBlock(elements=, block_id=).to_dict()` for elements made by `button`, its limits checked."""
    if len(elements) > ActionsBlock.elements_max_length:
        raise SlackObjectFormationError(
            f"elements attribute cannot exceed {ActionsBlock.elements_max_length} elements"
        )
    if block_id is not None and len(block_id) > ActionsBlock.block_id_max_length:
        raise SlackObjectFormationError(
            f"block_id cannot exceed {ActionsBlock.block_id_max_length} characters"
        )
    block: dict[str, Any] = {"type": "actions", "elements": elements}
    if block_id:
        block["block_id"] = block_id
    return block


def reply_blocks(reply: Reply) -> list[dict[str, Any]]:
    """The reply's blocks as Slack takes them, each built (or shaped, `mrkdwn_section`) by slack_sdk.models."""
    blocks: list[dict[str, Any]] = []
    if reply.header:
        blocks.append(header_block(truncate(reply.header, MAX_HEADER)))
    for section in reply.sections:
        for chunk in _split_text(refuse_broadcasts(section.text)):
            if chunk.strip():
                blocks.append(mrkdwn_section(chunk))
        if section.buttons:
            blocks.append(
                actions_block(
                    [
                        button(truncate(b.label, 75), b.action_id, b.value[:2000], b.style)
                        for b in section.buttons[:25]
                    ]
                )
            )
    if reply.footer:
        blocks.append(context_mrkdwn(truncate(refuse_broadcasts(reply.footer), MAX_SECTION_TEXT)))
    return blocks


def render(reply: Reply) -> list[dict[str, Any]]:
    """One or more Slack messages ({"text", "blocks"}) for a reply; more than one only past 50 blocks."""
    blocks = reply_blocks(reply)
    # User text is escaped by commands.mrkdwn; this is the backstop: the fallback text must never carry a broadcast
    # (<!channel>, <!here>, <!everyone>, <!subteam^…>), whatever a verb forgot.
    text = truncate(reply.text.replace("<!", "&lt;!"), MAX_FALLBACK)
    if len(blocks) <= MAX_BLOCKS:
        return [{"text": text, "blocks": blocks}]
    pages = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]
    return [
        {"text": text if i == 0 else f"{text} (continued)", "blocks": page} for i, page in enumerate(pages)
    ]
