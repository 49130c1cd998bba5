"""Only mentions Slack itself sent are mentions; typed-out ones (which Slack escapes) stay text wherever the
text is stored and shown, in every verb and key; bidi controls never reach what others read."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from bot.offline import OfflineWorkspace

BIDI = "\u202e\u2066\u202a"


def _texts(node: Any, mrkdwn_only: bool) -> list[str]:
    if isinstance(node, list):
        return [t for item in node for t in _texts(item, mrkdwn_only)]
    if not isinstance(node, dict):
        return []
    found = [t for value in node.values() for t in _texts(value, mrkdwn_only)]
    if isinstance(node.get("text"), str) and (not mrkdwn_only or node.get("type") in ("mrkdwn", None)):
        found.append(node["text"])  # a mrkdwn object, or a message's top-level text (read as mrkdwn)
    return found


def everything_sent(ws: OfflineWorkspace, mrkdwn_only: bool = True) -> str:
    """The text of every message, ephemeral and view the bot sent to Slack: only what Slack renders as
    mrkdwn (where a mention or @channel would ping), or everything (plain text too)."""
    return "\n".join(t for c in ws.standin.calls for t in _texts(c.params, mrkdwn_only))


def stored_text(engine: Engine) -> str:
    out: list[str] = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                out.extend(
                    json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                    for v in row
                    if isinstance(v, str | dict | list)
                )
    return "\n".join(out)


def test_typed_out_mentions_stay_text_everywhere(group: OfflineWorkspace, engine: Engine) -> None:
    ws = group
    ws.standin.calls.clear()  # the fixture's own `member @sam` post mentions sam, rightly
    sam = ws.user("victim")  # not a member, so nothing the bot writes itself would mention them
    typed = f"&lt;@{sam}&gt;"  # what Slack sends when someone types "<@U…>" as text
    loud = "&lt;!channel&gt; &lt;!here&gt;"
    junk = f"{typed} {loud} {BIDI}"
    commands = [
        f'add "Title {junk}" due:friday',
        f'update 1 "Update {junk}"',
        f'snooze 1 until:friday "Reason {junk}"',
        "snooze 1 off",
        f'done 1 "Done {junk}"',
        f'reopen 1 "Reopened {junk}"',
        f'add "Second {junk}" due:friday',
        f'drop 2 "Dropped {junk}"',
        "show 1",
        "actions all",
        f'member @priya org:"Org {junk}"',
        f'meeting start "Meeting {junk}"',
        f'decide "Decision {junk}"',
        f'note "Note {junk}"',
        "here",
        f'present @dev for:"Org {junk}"',
        "meeting end",
        "minutes",
        "decisions",
        f'schedule "Sched {junk}" every:"2nd wednesday" at:10:00',
        f'schedule cancel 9 Dec "Reason {junk}"',
        f'setup name:"Name {junk}"',
    ]
    for text in commands:
        out = ws.command(text)
        assert "Sorry" not in out.text, (text, out.text)
    # A typed-out mention in a key that takes people is refused, and makes nobody an owner.
    out = ws.command(f"add Owned by text owner:{typed}")
    assert out.is_error and "not a Slack user" in out.text, out.text
    out = ws.command(f'update 1 owner:{typed} "x"')
    assert out.is_error, out.text
    ws.command("show 1")

    sent = everything_sent(ws)
    assert f"<@{sam}>" not in sent, _debug(ws, f"<@{sam}>")
    assert "<!channel>" not in sent and "<!here>" not in sent
    assert not any(ch in everything_sent(ws, mrkdwn_only=False) for ch in BIDI)
    assert f"@{sam}" in sent, "the typed text is still shown, as text"
    stored = stored_text(engine)
    # Titles and names are stored as typed (esc shows them as text); nothing stored keeps a bidi control.
    assert "<!channel>" in stored and not any(ch in stored for ch in BIDI)


def test_real_mentions_still_mention(group: OfflineWorkspace) -> None:
    out = group.command('add "Call the school" @sam due:friday')
    assert not out.is_error, out.text
    sam = group.user("sam")
    assert f"<@{sam}>" in json.dumps(out.posted[0].blocks)
    out = group.command("update 1 owner:@priya")
    assert not out.is_error, out.text
    assert f"<@{group.user('priya')}>" in json.dumps([m.blocks for m in out.messages])


def _debug(ws: OfflineWorkspace, needle: str) -> list[str]:
    found = [json.dumps(c.params, ensure_ascii=False) for c in ws.standin.calls]
    return [t[max(0, t.index(needle) - 150) : t.index(needle) + 40] for t in found if needle in t]
