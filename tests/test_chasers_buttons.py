"""The buttons on a chaser DM, clicked through the Bolt app with real block_actions and view_submission
payloads: each changes the action through storage.actions with an audit entry, tells the channel, and
refreshes the DM in place."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlmodel import select

from bot.offline import OfflineWorkspace, block_text
from bot.standin import Message
from commands.posts.common import DONE_ACTION, NOTE_ACTION, NOTE_CALLBACK, SNOOZE_ACTION
from storage.models import ActionNote, ActionStatus
from tests.support import (
    action_record,
    add_directly,
    audit_events,
    channel_posts,
    check_all_messages,
    db,
    dms,
    ok,
    run,
    run_on,
    set_day,
    text_of,
)


def digest_for_sam(ws: OfflineWorkspace) -> tuple[int, int, Message]:
    first = add_directly(ws, "Audit school nurse referrals @sam due:18/11/2026 outcome:safe district:chorley")
    second = add_directly(ws, "Map youth provision @sam due:19/11/2026 outcome:enjoy district:chorley")
    ws.standin.messages.clear()
    run(ws, "chasers")
    (dm,) = dms(ws, "sam")
    return first, second, dm


def button_value(dm: Message, number: int, action_id: str) -> str:
    for block in dm.blocks:
        if block["type"] != "actions":
            continue
        for element in block["elements"]:
            if element["action_id"] == action_id and element["value"].endswith(f":{number}"):
                return str(element["value"])
    raise AssertionError(f"no {action_id} button for #{number}")


def click(ws: OfflineWorkspace, dm: Message, number: int, action_id: str, user: str = "sam") -> Any:
    out = ws.click(
        action_id, button_value(dm, number, action_id), user=user, channel=dm.channel, message_ts=dm.ts
    )
    assert out.response.status == 200
    return out


def test_done_button_closes_the_action_with_an_audit_entry(group: OfflineWorkspace) -> None:
    ws = group
    first, second, dm = digest_for_sam(ws)
    click(ws, dm, first, DONE_ACTION)

    assert action_record(ws, first).status == ActionStatus.DONE
    assert action_record(ws, first).completed_at is not None
    event = audit_events(ws, "action", "done")[-1]
    assert event.user_id == ws.user("sam") and event.changes["status"] == ["open", "done"]
    (post,) = channel_posts(ws)
    assert f"@sam marked *#{first}* done (from their chaser DM)" in text_of(ws, post)
    # The DM was refreshed in place: the done action is gone, the other keeps its buttons.
    assert [c.params["ts"] for c in ws.standin.calls_to("chat.update")] == [dm.ts]
    refreshed = text_of(ws, dm)
    assert f"#{first} is marked done" in refreshed and "Audit school nurse" not in refreshed
    assert "Map youth provision" in refreshed
    button_value(dm, second, DONE_ACTION)
    check_all_messages(ws)

    # Clicking again (e.g. on an old copy) changes nothing and says so.
    ws.standin.messages.clear()
    out = ws.click(
        DONE_ACTION,
        f"owner_digest:{event.group_id}:{first}",
        user="sam",
        channel=dm.channel,
        message_ts=dm.ts,
    )
    assert "already done" in out.text and len(audit_events(ws, "action", "done")) == 1


def test_snooze_button_pauses_chasers_for_a_week(group: OfflineWorkspace) -> None:
    ws = group
    first, second, dm = digest_for_sam(ws)
    click(ws, dm, first, SNOOZE_ACTION)

    assert action_record(ws, first).snoozed_until == date(2026, 11, 29)
    event = audit_events(ws, "action", "snoozed")[-1]
    assert event.user_id == ws.user("sam") and event.changes["snoozed_until"] == [None, "2026-11-29"]
    assert "chaser DM" in (event.note or "")
    assert "No chasers for #1 until Mon 30 Nov 2026" in text_of(ws, dm)
    assert "snoozed the chasers" in text_of(ws, channel_posts(ws)[0])
    show = ws.command(f"show {first}", user="sam").text
    assert "Reminders snoozed until:* Sun 29 Nov 2026" in show

    ws.standin.messages.clear()
    run_on(ws, date(2026, 11, 24), "chasers")
    (tuesday,) = dms(ws, "sam")
    assert "Audit school nurse" not in text_of(ws, tuesday) and "Map youth provision" in text_of(ws, tuesday)
    run_on(ws, date(2026, 11, 30), "chasers")
    assert "Audit school nurse" in text_of(ws, dms(ws, "sam")[-1])  # a week later it is chased again


def test_add_update_opens_a_modal_and_saves_the_note(group: OfflineWorkspace) -> None:
    ws = group
    first, _second, dm = digest_for_sam(ws)
    click(ws, dm, first, NOTE_ACTION)

    (opened,) = ws.standin.calls_to("views.open")
    assert opened.params["trigger_id"]
    view = opened.params["view"]
    assert view["type"] == "modal" and view["callback_id"] == NOTE_CALLBACK
    assert any(b["type"] == "input" for b in view["blocks"])
    meta = view["private_metadata"]
    assert json.loads(meta)["ts"] == dm.ts

    empty = ws.submit_view(
        NOTE_CALLBACK, meta, {"note": {"text": {"type": "plain_text_input", "value": "  "}}}, user="sam"
    )
    assert empty.response.status == 200 and "errors" in str(empty.response.body)
    with db(ws) as session:
        assert list(session.exec(select(ActionNote))) == []

    note = "Met the head teachers; &lt;report&gt; due next week"
    saved = ws.submit_view(
        NOTE_CALLBACK, meta, {"note": {"text": {"type": "plain_text_input", "value": note}}}, user="sam"
    )
    assert saved.response.status == 200 and "errors" not in str(saved.response.body)
    with db(ws) as session:
        (stored,) = session.exec(select(ActionNote)).all()
        assert stored.text == note and stored.author == ws.user("sam")
    event = audit_events(ws, "action", "note")[-1]
    assert event.note == note and event.user_id == ws.user("sam")
    post = channel_posts(ws)[-1]
    assert "added an update to *#1*" in text_of(ws, post)
    assert "&amp;lt;report&amp;gt;" in block_text(post.blocks)  # user text escaped
    assert "Your update on #1 is saved" in text_of(ws, dm)
    assert "Met the head teachers" in ok(ws.command(f"show {first}", user="sam")).text


def test_only_owners_or_chairs_can_use_the_buttons(group: OfflineWorkspace) -> None:
    ws = group
    first, _second, dm = digest_for_sam(ws)
    value = button_value(dm, first, DONE_ACTION)
    ws.standin.messages.clear()
    out = ws.click(DONE_ACTION, value, user="priya", channel=ws.user("priya"))
    assert "Only the owners of #1 or a chair" in out.text
    assert action_record(ws, first).status == ActionStatus.OPEN and audit_events(ws, "action", "done") == []
    assert channel_posts(ws) == []
    out = ws.click(NOTE_ACTION, value, user="priya", channel=ws.user("priya"))
    assert ws.standin.calls_to("views.open") == [] and "Only the owners" in out.text

    # A chair may act on anyone's action.
    out = ws.click(SNOOZE_ACTION, value, user="chair", channel=ws.user("chair"))
    assert action_record(ws, first).snoozed_until is not None


def test_a_due_soon_nudge_has_working_buttons_too(group: OfflineWorkspace) -> None:
    ws = group
    number = add_directly(ws, "Book the venue @sam due:25/11/2026")
    ws.standin.messages.clear()
    run(ws, "chasers")
    (dm,) = dms(ws, "sam")
    assert "Due soon" in text_of(ws, dm)
    click(ws, dm, number, DONE_ACTION)
    assert action_record(ws, number).status == ActionStatus.DONE
    assert "Nothing else is due soon" in text_of(ws, dm)


def test_a_due_soon_dm_clicked_the_next_day_keeps_its_other_actions(group: OfflineWorkspace) -> None:
    ws = group
    venue = add_directly(ws, "Book the venue @sam due:25/11/2026")
    agenda = add_directly(ws, "Send the agenda @sam due:25/11/2026")
    ws.standin.messages.clear()
    run(ws, "chasers")  # Monday: both are due on Wednesday
    (dm,) = dms(ws, "sam")
    set_day(ws, date(2026, 11, 24))  # sam reads Monday's nudge on Tuesday
    click(ws, dm, venue, DONE_ACTION)
    assert action_record(ws, venue).status == ActionStatus.DONE
    refreshed = text_of(ws, dm)
    assert "Send the agenda" in refreshed and "Nothing else is due soon" not in refreshed
    button_value(dm, agenda, DONE_ACTION)  # still has working buttons
    check_all_messages(ws)


def test_a_note_typed_in_the_modal_never_becomes_a_mention_or_broadcast(group: OfflineWorkspace) -> None:
    ws = group
    first, _second, dm = digest_for_sam(ws)
    click(ws, dm, first, NOTE_ACTION)
    meta = ws.standin.calls_to("views.open")[-1].params["view"]["private_metadata"]
    typed = "Told <@U0FORGED> and <!channel>"  # a modal's text arrives exactly as typed
    saved = ws.submit_view(
        NOTE_CALLBACK, meta, {"note": {"text": {"type": "plain_text_input", "value": typed}}}, user="sam"
    )
    assert saved.response.status == 200
    post = channel_posts(ws)[-1]
    assert "<@U0FORGED>" not in block_text(post.blocks) and "<!channel>" not in block_text(post.blocks)
    shown = ok(ws.command(f"show {first}", user="sam")).text
    assert "<@U0FORGED>" not in shown and "Told" in shown


def test_a_dm_button_refreshes_the_owners_home_tab(group: OfflineWorkspace) -> None:
    ws = group
    first, _second, dm = digest_for_sam(ws)
    ws.open_home("sam")
    ws.standin.calls.clear()
    click(ws, dm, first, DONE_ACTION)
    published = [c.params["user_id"] for c in ws.standin.calls_to("views.publish")]
    assert ws.user("sam") in published
    home = ws.home_of("sam")
    assert home is not None and "Audit school nurse" not in str(home.view["blocks"])
