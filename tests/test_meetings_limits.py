"""A very long meeting: 60 members, decisions, notes and actions. Every message stays within Slack's limits
(≤ 50 blocks, 3000 characters a section; checked on every post by the `slack` fixture), long parts of the
channel minutes are summarised with a pointer to `/ecm minutes`, and no post ever fails."""

from __future__ import annotations

from datetime import date, timedelta

from bot.offline import OfflineWorkspace, block_text
from storage import actions as action_store
from storage import decisions as decision_store
from storage import meetings as meeting_store
from storage import members as member_store
from storage.clock import FixedClock
from storage.models import DecisionStatus, Outcome
from tests.support import (
    db,
    group_of,
    no_failed_posts,  # noqa: F401 - autouse: no post may fail
    ok,
)

COUNT = 60
NASTY = " <!channel> & <@U0FORGED> <https://evil.example|click> "


def _big_meeting(ws: OfflineWorkspace, clock: FixedClock) -> None:
    names = [f"partner{i:02d}" for i in range(COUNT)]
    with db(ws) as session:
        group = group_of(session, ws)
        for i, name in enumerate(names):
            member_store.upsert_member(
                session,
                group,
                ws.user(name),
                by=ws.user("chair"),
                at=clock.now(),
                organisation=f"Partner organisation number {i:02d} for children's services",
            )
    ok(ws.command("meeting start " + '"A very long meeting' + NASTY.replace('"', "") + '"'))
    ok(ws.command("present " + " ".join(f"@{n}" for n in names[:30])))
    ok(ws.command("apologies " + " ".join(f"@{n}" for n in names[30:50])))
    ok(ws.command("present " + " ".join(f"@guest{i:02d}" for i in range(10)) + ' for:"Visiting partners"'))
    with db(ws) as session:
        group = group_of(session, ws)
        meeting = meeting_store.open_meeting(session, group.id)  # type: ignore[arg-type]
        assert meeting is not None
        for i in range(COUNT):
            decision_store.record_decision(
                session,
                group,
                meeting,
                text=f"Decision {i}: " + "agreed wording " * 25 + NASTY,
                status=DecisionStatus.AGREED,
                by=ws.user("chair"),
                at=clock.now(),
            )
            meeting_store.add_note(
                session,
                meeting,
                f"Note {i}: " + "information item " * 30 + NASTY,
                by=ws.user("sam"),
                at=clock.now(),
            )
            action_store.create_action(
                session,
                group,
                action_store.NewActionRecord(
                    title=f"Action {i} " + "a long action title " * 14 + NASTY,
                    owners=[ws.user(names[i])],
                    organisation=f"Partner organisation number {i:02d}",
                    due_date=date(2026, 12, 31),
                    outcomes=[Outcome.STAY_SAFE],
                    countywide=True,
                ),
                by=ws.user("chair"),
                at=clock.now(),
                meeting_id=meeting.id,
            )


def test_long_meeting_stays_within_slack_limits(group: OfflineWorkspace, clock: FixedClock) -> None:
    ws = group
    _big_meeting(ws, clock)
    out = ok(ws.command("meeting end"))
    assert len(out.posted) >= 2
    minutes = ws.readable(block_text(out.posted[0].blocks))
    assert "Minutes: A very long meeting" in minutes
    assert "more — `/ecm decisions` lists them all" in minutes
    assert "more — `/ecm actions all` lists them all" in minutes
    assert "more — `/ecm minutes 1`" in minutes
    assert "Some parts are summarised: `/ecm minutes 1` shows them in full" in minutes
    assert "*Absent (" in minutes and "*Apologies (" in minutes
    raw = "\n".join(block_text(m.blocks) for m in out.messages)
    assert "<!channel>" not in raw and "<https://evil" not in raw and "&lt;!channel&gt;" in raw
    assert len(out.posted[0].blocks) <= 12  # one section per part: readable, not a wall

    out = ok(ws.command("minutes", user="sam"))
    assert 1 <= len(out.ephemeral) <= 3 and not out.posted
    full = "\n".join(block_text(m.blocks) for m in out.ephemeral)
    assert "Decision 59" in full and "Note 59" in full and "Action 59" in full
    assert "[Share in channel]" in block_text(out.ephemeral[-1].blocks)

    out = ok(ws.command("attendance by:member", user="sam"))
    assert "partner00" not in out.text and f"<@{ws.user('partner00')}>" in out.text  # people are mentions
    ok(ws.command("attendance", user="sam"))
    out = ok(ws.command("decisions", user="sam"))
    assert "60 decisions; the latest 30 shown" in out.text

    clock.advance(timedelta(days=40))  # everything is overdue now, and from an earlier meeting
    out = ok(ws.command("meeting start"))
    assert len(out.posted) == 1
    text = block_text(out.posted[0].blocks)
    assert "Matters arising (60)" in text and "`/ecm actions` list them all" in text
    assert len(out.posted[0].blocks) <= 50
    out = ok(ws.command("minutes 1 share", user="sam"))
    assert out.posted


def test_many_people_recorded_at_once(group: OfflineWorkspace, clock: FixedClock) -> None:
    ws = group
    ok(ws.command("meeting start"))
    out = ok(ws.command("present " + " ".join(f"@visitor{i:02d}" for i in range(COUNT)) + ' for:"Guests"'))
    assert len(out.posted) == 1 and out.posted[0].blocks
    out = ok(ws.command("meeting end"))
    minutes = ws.readable(block_text(out.posted[0].blocks))
    present = next(line for line in minutes.splitlines() if line.startswith("*Present (61):*"))
    assert present.endswith(" more_") and "…" not in present  # cut between people, with a count of the rest
