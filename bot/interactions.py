"""What identifies an interaction (a click, a form, a shortcut) for the core's one guard,
`commands.dispatch.claim_interaction`: every listener takes its keys from here.

- the retry key is the request itself: Slack's retries of it, and a view submitted twice, carry the same;
- the repeat key is what was clicked (person, message or view, button, value), so the same click made
  twice in a moment is recognised although each click has its own trigger id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InteractionKeys:
    retry: str | None
    repeat: str | None = None


def interaction_keys(body: dict[str, Any]) -> InteractionKeys:
    kind = body.get("type")
    trigger = body.get("trigger_id")
    if kind == "view_submission":
        view_id = (body.get("view") or {}).get("id")
        return InteractionKeys(retry=f"view:{view_id}" if view_id else None)
    retry = f"act:{trigger}" if trigger else None
    if kind != "block_actions":
        return InteractionKeys(retry=retry)
    action = (body.get("actions") or [{}])[0]
    container = body.get("container") or {}
    where = (
        container.get("message_ts") or container.get("view_id") or (body.get("view") or {}).get("id") or ""
    )
    user = (body.get("user") or {}).get("id", "")
    what = f"{user}|{container.get('channel_id', '')}|{where}|{action.get('action_id', '')}|{action.get('value', '')}"
    return InteractionKeys(retry=retry, repeat="click:" + hashlib.sha256(what.encode()).hexdigest()[:40])
