"""A whole meeting through the real app: matters arising, attendance (substitutes, corrections, absentees),
decisions with linked actions, notes, the minutes and the attendance summary, sharing, and a restart; the
smaller meeting stories (substitutes, cancelling, the minutes so far, the end time, councils by full name)
through the core."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.offline import OfflineWorkspace, block_text
from bot.standin import SlackStandIn
from commands.text import esc
from storage.clock import FixedClock
from storage.models import Action, AttendanceMode, Decision, MeetingNote, MeetingStatus
from tests.conftest import Core, Replies
from tests.support import (
    attendance_rows,
    audit_events,
    channel_text,
    db,
    err,
    meetings,
    mrkdwn,
    no_failed_posts,  # noqa: F401 - autouse: no post may fail
    ok,
    readable,
)

LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def _actions_before_meeting(ws: OfflineWorkspace) -> None:
    ok(
        ws.command('add "Map CAF champions in every school" due:30 Nov 2026 org:chorley', user="sam")
    )  # -> overdue
    ok(ws.command('add "Youth offer leaflet" due:31 Jan 2027 org:"Lancashire Constabulary"', user="dev"))
    ok(ws.command('add "Swimming passes audit" due:1 Dec 2026 org:"Lancashire County Council"', user="chair"))


def test_full_meeting(group: OfflineWorkspace, clock: FixedClock) -> None:
    ws = group
    ok(ws.command("member @lee district:preston"))
    _actions_before_meeting(ws)
    ok(ws.command("done 3", user="chair"))  # done: never a matter arising even when past its date

    clock.set(london(2026, 12, 2, 10, 0))
    out = ok(ws.command('meeting start "December task group"'))
    assert len(out.posted) == 1 and not out.ephemeral
    text = channel_text(out, ws)
    assert "Meeting started: December task group" in text
    assert "@chair opened Meeting 1" in text and "recorded as present" in text
    assert "Matters arising (1)" in text
    assert "*Chorley* (1)" in text and "#1" in text and "overdue" in text
    assert "#2" not in text and "#3" not in text

    # Attendance: self, by the chair, a substitute, remote, a correction, a guest organisation.
    assert "@sam — present for Chorley" in readable(ok(ws.command("here", user="sam")), ws)
    ok(ws.command("present @priya"))
    out = ok(ws.command("present @jo for:@dev"))
    assert "@jo — substitute for Lancashire Constabulary, standing in for @dev" in readable(out, ws)
    out = ok(ws.command("apologies @priya"))
    assert "corrected; was present for South Ribble" in readable(out, ws)
    ok(ws.command('present @kim for:"Preston Primary Care Trust" as:virtual'))

    out = ok(ws.command('decide "Adopt the joint CAF training plan across the county"'))
    assert "D1" in out.text and "agreed" in out.text and out.posted
    ok(ws.command('decide "Youth strategy consultation" status:deferred'))
    out = ok(
        ws.command(
            'add "Draft CAF training calendar" due:31 Mar 2027 org:south-ribble decision:D1', user="sam"
        )
    )
    ok(ws.command('note "Ofsted inspection of children\'s services confirmed for March"', user="sam"))

    clock.advance(timedelta(minutes=95))
    out = ok(ws.command("meeting end"))
    assert len(out.posted) == 2 and not out.ephemeral
    minutes, summary = (ws.readable(block_text(m.blocks)) for m in out.posted)
    assert "Minutes: December task group" in minutes
    assert "Wed 2 Dec 2026, 10:00–11:35 (Europe/London)" in minutes
    assert "*Chair:* @chair" in minutes
    assert "*Present (2):* @sam (Chorley), @chair (Lancashire County Council)" in minutes
    assert "*Substitutes (1):* @jo (Lancashire Constabulary, for @dev)" in minutes
    assert "*Joined remotely (1):* @kim (Preston Primary Care Trust)" in minutes
    assert (
        "*Apologies (2):*" in minutes
        and "@dev (Lancashire Constabulary)" in minutes
        and "@priya (South Ribble)" in minutes
    )
    assert "*Absent (1):* @lee (Preston)" in minutes
    not_rep = next(line for line in minutes.splitlines() if line.startswith("*Not represented"))
    for name in ("Burnley", "Preston", "South Ribble", "Wyre"):
        assert name in not_rep
    for name in ("Chorley", "Lancashire Constabulary", "Lancashire County Council"):
        assert name not in not_rep
    assert "*D1* _(agreed)_ Adopt the joint CAF training plan" in minutes
    assert "*D2* _(deferred)_ Youth strategy consultation" in minutes
    assert "Actions raised (1)" in minutes and "#4" in minutes and "Draft CAF training calendar" in minutes
    assert "Ofsted inspection" in minutes and "— @sam" in minutes
    assert "`/ecm minutes 1`" in minutes
    assert "Attendance: the last 6 meetings" in summary and "1 meeting held" in summary
    assert "Chorley — represented at 1 of 1 meeting" in summary
    assert (
        "Preston — represented at 0 of 1 meeting; absent from 1 — *represented at fewer than half*" in summary
    )

    [meeting] = meetings(ws)
    assert meeting.status == MeetingStatus.CLOSED and meeting.ended_at is not None
    rows = attendance_rows(ws, meeting.id)  # type: ignore[arg-type]
    final = {r.user_id: r for r in rows}  # later rows overwrite earlier ones: the latest wins
    assert final[ws.user("lee")].mode == AttendanceMode.ABSENT
    assert final[ws.user("dev")].mode == AttendanceMode.APOLOGIES  # a substitute came in their place
    assert final[ws.user("priya")].mode == AttendanceMode.APOLOGIES
    assert final[ws.user("jo")].substitute_for == ws.user("dev")
    assert [r.mode for r in rows if r.user_id == ws.user("priya")] == [
        AttendanceMode.PRESENT,
        AttendanceMode.APOLOGIES,
    ]
    verbs = [e.verb for e in audit_events(ws, "meeting")]
    assert verbs[0] == "started" and verbs[-1] == "ended"
    assert "attendance-corrected" in verbs and verbs.count("note") == 1
    corrected = next(e for e in audit_events(ws, "meeting", "attendance-corrected"))
    assert corrected.changes["mode"] == ["present", "apologies"] and corrected.changes["user_id"] == ws.user(
        "priya"
    )
    with db(ws) as session:
        action = session.exec(select(Action).where(Action.number == 4)).one()
        decision = session.exec(select(Decision).where(Decision.number == 1)).one()
        assert action.meeting_id == meeting.id and action.decision_id == decision.id
        assert decision.meeting_id == meeting.id and decision.recorded_by == ws.user("chair")
        assert len(list(session.exec(select(MeetingNote)))) == 1
    assert [e.verb for e in audit_events(ws, "decision")] == ["created", "created"]

    # The next meeting: open actions from earlier meetings and overdue ones, grouped by organisation.
    clock.set(london(2027, 1, 6, 10, 0))
    out = ok(ws.command("meeting start"))
    text = channel_text(out, ws)
    assert "Meeting started: Lancashire ECM Task Group meeting" in text
    assert "Matters arising (2)" in text
    chorley, south_ribble = text.index("*Chorley* (1)"), text.index("*South Ribble* (1)")
    assert chorley < text.index("*#1*") < south_ribble < text.index("*#4*")
    assert "#2" not in text  # not overdue, not from a meeting
    ok(ws.command("done 4", user="sam"))
    ok(ws.command("meeting end"))
    clock.set(london(2027, 2, 3, 10, 0))
    text = channel_text(ok(ws.command("meeting start")), ws)
    assert "#4" not in text and "#1" in text and "#2" in text  # #2 is overdue now

    out = ok(ws.command("decisions", user="priya"))
    assert out.ephemeral and not out.posted
    text = readable(out, ws)
    assert "*D1* _(agreed)_ Adopt the joint CAF training plan" in text and "Meeting 1" in text
    assert "#4 Draft CAF training calendar (done, due Wed 31 Mar 2027)" in text
    assert "*D2* _(deferred)_" in text and "no actions linked" in text
    text = readable(ok(ws.command("decisions status:deferred", user="priya")), ws)
    assert "D2" in text and "D1" not in text


def test_minutes_ephemeral_share_button_and_share_word(group: OfflineWorkspace, clock: FixedClock) -> None:
    ws = group
    ok(ws.command('meeting start "Budget meeting"'))
    ok(ws.command('decide "Pool the Children\'s Fund underspend"'))
    ok(ws.command("meeting end"))
    ws.standin.messages.clear()
    out = ok(ws.command("minutes", user="sam"))
    assert len(out.ephemeral) == 1 and not out.posted
    blocks = out.ephemeral[0].blocks
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["text"]["text"]) for b in buttons] == [
        ("ecm_share_minutes", "Share in channel")
    ]
    meeting_id = buttons[0]["value"]
    assert meeting_id == str(meetings(ws)[0].id)
    assert "Pool the Children's Fund underspend" in out.text

    shared = ws.click("ecm_share_minutes", meeting_id, user="sam")
    assert len(shared.posted) == 1 and shared.posted[0].channel == ws.channel
    text = ws.readable(block_text(shared.posted[0].blocks))
    assert "Minutes: Budget meeting" in text and "Shared by @sam" in text
    assert not any(b["type"] == "actions" for b in shared.posted[0].blocks)

    # A forged or foreign id shares nothing.
    bad = ws.click("ecm_share_minutes", "999999", user="sam")
    assert not bad.posted and bad.is_error
    other = ws.standin.add_channel("another-group")
    ok(ws.command('setup name:"Leicestershire" preset:leicestershire', user="kim", channel=other))
    bad = ws.click("ecm_share_minutes", meeting_id, user="kim", channel=other)
    assert not bad.posted and bad.is_error

    out = ok(ws.command("minutes 1 share", user="sam"))
    assert len(out.posted) == 1 and "Shared by" in out.text
    out = ok(ws.command(f"minutes {clock.now().astimezone(LONDON):%d/%m/%Y}", user="sam"))
    assert "Minutes: Budget meeting" in out.text
    err(ws.command("minutes 7", user="sam"), "no meeting 7")
    err(ws.command("minutes 20 Nov 2026", user="sam"), "No meeting was held on Fri 20 Nov 2026")
    err(ws.command("minutes banana", user="sam"), "don't know which meeting")
    err(ws.command("minutes 1 Jan 2030", user="sam"), "still to come")


def test_substitutes(core: Core) -> None:
    ok(core.command("meeting start"))
    out = ok(core.command("present @ann for:chorley as:substitute"))  # Chorley has one member: sam
    assert "@ann — substitute for Chorley, standing in for @sam" in readable(out, core)
    # A non-member can't make themselves a member's substitute (issue 12); a chair records it.
    assert core.command("here for:@priya", user="ben").is_error
    out = ok(core.command("present @ben for:@priya"))
    assert "@ben — substitute for South Ribble, standing in for @priya" in readable(out, core)
    out = ok(core.command("present @cat for:@dev as:virtual"))
    assert "@cat — present remotely for Lancashire Constabulary, standing in for @dev" in readable(out, core)
    out = ok(core.command('present @dan for:"Lancashire Fire and Rescue" as:substitute'))  # nobody named
    assert "@dan — substitute for Lancashire Fire and Rescue" in readable(out, core)
    assert "standing in" not in readable(out, core)
    out = ok(core.command("meeting end"))
    minutes = core.readable(Replies(out.posted[:1]).text)
    assert "@ann (Chorley, for @sam)" in minutes and "@ben (South Ribble, for @priya)" in minutes
    assert "@cat (Lancashire Constabulary, for @dev)" in minutes
    # Members who sent a substitute are recorded as apologies, not absent.
    assert "*Absent" not in minutes
    apologies = next(line for line in minutes.splitlines() if line.startswith("*Apologies"))
    for name in ("@sam", "@priya", "@dev"):
        assert name in apologies


def test_restart_in_the_middle_of_a_meeting(
    engine,
    clock: FixedClock,
    slack: SlackStandIn,  # type: ignore[no-untyped-def]
    group: OfflineWorkspace,
) -> None:
    ws = group
    ok(ws.command('meeting start "Before the restart"'))
    ok(ws.command("here", user="sam"))
    ok(ws.command('decide "Keep going after a restart"'))
    ws.close()  # the bot goes down mid-meeting

    clock.advance(timedelta(minutes=20))
    again = OfflineWorkspace(engine, clock, standin=slack)
    try:
        out = ok(again.command("meeting", user="priya"))
        assert "Open now: Meeting 1" in out.text and "Before the restart" in out.text
        assert "1 decision" in out.text
        err(again.command('meeting start "Another"'), "already open", "Before the restart")
        ok(again.command("here", user="priya"))
        ok(again.command('decide "Carry on"'))
        out = ok(again.command("meeting end"))
        minutes = again.readable(block_text(out.posted[0].blocks))
        assert "Minutes: Before the restart" in minutes
        assert "@sam (Chorley)" in minutes and "@priya (South Ribble)" in minutes
        assert "*D1*" in minutes and "*D2*" in minutes
        assert "09:30–09:50" in minutes
    finally:
        again.close()


def test_meeting_cancelled_while_open_keeps_records(core: Core) -> None:
    ok(core.command('meeting start "Not quorate"'))
    ok(core.command("here", user="sam"))
    out = ok(core.command('meeting cancel "Only two partners here"'))
    assert out.posted and "will not count in attendance" in out.text
    [meeting] = meetings(core)
    assert meeting.status == MeetingStatus.CANCELLED and meeting.cancel_reason == "Only two partners here"
    assert len(attendance_rows(core, meeting.id)) == 2  # type: ignore[arg-type]
    err(core.command("here", user="priya"), "no meeting open")
    text = readable(ok(core.command("minutes 1", user="sam")), core)
    assert "Cancelled" in text and "Only two partners here" in text
    text = readable(ok(core.command("meetings", user="sam")), core)
    assert "Meeting 1 · *Not quorate*" in text and "cancelled: Only two partners here" in text
    assert "No meetings held" in ok(core.command("attendance", user="sam")).text


def test_meeting_status_and_minutes_so_far(core: Core) -> None:
    out = ok(core.command("meeting", user="sam"))
    assert "No meeting is open" in out.text and out.ephemeral
    ok(core.command("meeting start"))
    ok(core.command('note "CAMHS waiting times down to 11 weeks" @priya', user="sam"))
    out = ok(core.command("minutes", user="sam"))
    text = readable(out, core)
    assert "still open" in text and "CAMHS waiting times down to 11 weeks @priya" in text
    with db(core) as session:
        note = session.exec(select(MeetingNote)).one()
        assert note.text.endswith(f"<@{core.user('priya')}>")


def test_user_text_is_escaped_everywhere(group: OfflineWorkspace) -> None:
    """What people type literally (`<!channel>`, `<@U…>`, links) never becomes a ping, a mention or a link —
    in blocks or in the fallback text. Slack sends typed <, > and & escaped, as the console does."""
    ws = group
    nasty = esc(" <!channel> & <@U0FORGED> <https://evil.example|click>")
    ok(ws.command(f'schedule "Board{nasty}" every:week at:10:00'))
    ok(ws.command(f'meeting start "Title{nasty}"'))
    ok(ws.command(f'present @kim for:"Org{nasty}"'))
    out = ok(ws.command(f'note "Note{nasty}" @priya', user="sam"))
    assert f"<@{ws.user('priya')}>" in out.text  # a real mention stays one
    assert "<@U0FORGED>" not in out.text and "<@U0FORGED>" not in out.messages[0].text
    ok(ws.command(f'decide "Decision{nasty}"'))
    ok(ws.command(f'meeting cancel "Reason{nasty}"'))
    for command in ("minutes 1", "meetings", "decisions", "attendance", "schedule"):
        text = mrkdwn(ok(ws.command(command, user="sam")))
        assert "<@U0FORGED>" not in text and "<https://evil" not in text
        assert "&lt;!channel&gt;" in text or command == "attendance"
    with db(ws) as session:
        note = session.exec(select(MeetingNote)).one()
        assert "<!channel>" in note.text  # stored as typed


def test_two_chairs_starting_at_once_open_one_meeting(group: OfflineWorkspace) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ws = group
    ok(ws.command("member @sam role:chair"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda who: ws.command(f'meeting start "By {who}"', user=who), ["chair", "sam"]))
    opened = [m for m in meetings(ws) if m.status == MeetingStatus.OPEN]
    assert len(opened) == 1


def test_minutes_of_a_meeting_ended_the_next_day_say_so(core: Core, clock: FixedClock) -> None:
    """A chair who forgets to end the meeting until the next morning: the minutes don't read "09:30–09:00"."""
    ok(core.command('meeting start "Late finish"'))
    clock.advance(timedelta(hours=23, minutes=30))
    out = ok(core.command("meeting end"))
    minutes = core.readable(Replies(out.posted[:1]).text)
    assert "*When:* Mon 23 Nov 2026, 09:30 – Tue 24 Nov 2026, 09:00 (Europe/London)" in minutes


def test_for_a_district_council_by_its_full_name_represents_the_district(core: Core) -> None:
    """Partners name councils in full: `for:"Chorley Borough Council"` is Chorley, so the minutes don't list
    Chorley as not represented."""
    ok(core.command("meeting start"))
    out = ok(core.command('present @ann for:"Chorley Borough Council" as:substitute'))
    assert "@ann — substitute for Chorley, standing in for @sam" in readable(out, core)
    out = ok(core.command('present @bo for:"Preston City Council"'))
    assert "@bo — present for Preston" in readable(out, core)
    out = ok(core.command("meeting end"))
    minutes = core.readable(Replies(out.posted[:1]).text)
    missing = next(line for line in minutes.splitlines() if line.startswith("*Not represented"))
    assert "Chorley" not in missing and "Preston" not in missing and "Burnley" in missing
