"""Every interaction is acted on once: a Slack retry (same request), a double click (same button on the
same message, a moment apart) and a form submitted twice all change nothing twice. One guard in the core
(`commands.dispatch.claim_interaction`), keys from one place (`bot.interactions`)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.offline import OfflineWorkspace
from commands.dispatch import REPEAT_WINDOW
from commands.posts.common import NOTE_ACTION, NOTE_CALLBACK, SNOOZE_ACTION
from storage.clock import FixedClock
from storage.models import ActionNote
from tests.support import audit_events, channel_posts, db, ok
from tests.test_chasers_buttons import button_value, click, digest_for_sam


def test_snooze_clicked_twice_or_retried_applies_once(group: OfflineWorkspace, clock: FixedClock) -> None:
    ws = group
    first, _second, dm = digest_for_sam(ws)
    value = button_value(dm, first, SNOOZE_ACTION)  # the DM is refreshed after the first click

    def snooze() -> str:
        return ws.click(SNOOZE_ACTION, value, user="sam", channel=dm.channel, message_ts=dm.ts).text

    snooze()
    assert "a moment ago" in snooze()  # the double click
    body = ws.standin.block_action(ws.user("sam"), dm.channel, SNOOZE_ACTION, value, dm.ts)
    clock.advance(REPEAT_WINDOW + timedelta(seconds=1))
    ws._exchange(body)  # a new click, a while later: goes ahead
    retried = ws._exchange(body, retry_num=1)  # Slack retrying that same request
    assert not retried.messages
    events = audit_events(ws, "action", "snoozed")
    posts = [p for p in channel_posts(ws) if "snoozed" in json.dumps(p.blocks)]
    print(f"snooze: 4 requests, {len(events)} audit events, {len(posts)} channel posts")
    assert len(events) == 2 and len(posts) == 2


def test_add_update_submitted_twice_saves_one_note(group: OfflineWorkspace) -> None:
    ws = group
    first, _second, dm = digest_for_sam(ws)
    click(ws, dm, first, NOTE_ACTION)
    meta = ws.standin.calls_to("views.open")[-1].params["view"]["private_metadata"]
    values = {"note": {"text": {"type": "plain_text_input", "value": "Met the heads"}}}
    body = ws.standin.view_submission(ws.user("sam"), NOTE_CALLBACK, meta, values)
    ok_first = ws.resubmit(body)
    ws.resubmit(body)  # the same view submitted again
    ws.resubmit(body, retry_num=1)  # and Slack's retry of it
    assert ok_first.response.status == 200
    with db(ws) as session:
        assert len(session.exec(select(ActionNote)).all()) == 1
    assert len(audit_events(ws, "action", "note")) == 1
    assert len([p for p in channel_posts(ws) if "added an update" in json.dumps(p.blocks)]) == 1


def test_share_minutes_clicked_twice_posts_once(group: OfflineWorkspace) -> None:
    ws = group
    ok(ws.command('meeting start "Budget meeting"'))
    ok(ws.command("meeting end"))
    out = ok(ws.command("minutes", user="sam"))
    meeting_id = next(
        e["value"] for b in out.ephemeral[0].blocks if b["type"] == "actions" for e in b["elements"]
    )
    ws.standin.messages.clear()
    where = out.ephemeral[0].ts
    first = ws.click("ecm_share_minutes", meeting_id, user="sam", message_ts=where)
    second = ws.click("ecm_share_minutes", meeting_id, user="sam", message_ts=where)
    assert len(first.posted) == 1 and not second.posted and "a moment ago" in second.text
