"""`/ecm add`: happy paths, every bad input, quotes and audit through the core; a full add, escaping as
Slack receives it and retries through the real app."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from bot.offline import OfflineWorkspace
from storage.models import ActionStatus, AuditEvent, Decision, Meeting, MeetingStatus, Outcome
from tests.conftest import Core
from tests.support import (
    action_count,
    action_row,
    audit_trail,
    db,
    error_text,
    group_of,
    ok,
)


def test_add_full(group: OfflineWorkspace) -> None:
    ws = group
    out = ws.command(
        "add Audit school nurse referrals @sam due:26/02/2027 outcome:healthy,safe district:chorley,preston",
        user="priya",
    )
    assert not out.is_error, out.text
    assert len(out.posted) == 1 and not out.ephemeral
    post = out.posted[0]
    assert post.channel == ws.channel
    text = out.text
    assert "*#1*" in text and "Audit school nurse referrals" in text
    assert f"<@{ws.user('sam')}>" in text and f"<@{ws.user('priya')}> added" in text
    assert "Fri 26 Feb 2027" in text and "healthy, safe" in text and "Chorley, Preston" in text
    row = action_row(ws, 1)
    assert row.action.title == "Audit school nurse referrals"
    assert row.owners == [ws.user("sam")]
    assert row.action.organisation == "Chorley"  # sam's registered organisation
    assert row.action.due_date == date(2027, 2, 26)
    assert row.outcomes == [Outcome.BE_HEALTHY, Outcome.STAY_SAFE]
    assert [d.name for d in row.districts] == ["Chorley", "Preston"]
    assert row.action.status == ActionStatus.OPEN and row.action.created_by == ws.user("priya")
    [event] = audit_trail(ws, 1)
    assert event.verb == "created" and event.user_id == ws.user("priya")
    assert event.changes["title"] == [None, "Audit school nurse referrals"]
    assert event.changes["due_date"] == [None, "2027-02-26"]
    assert event.changes["districts"] == [None, ["Chorley", "Preston"]]


def test_add_defaults_and_numbering(core: Core) -> None:
    out = core.command("new Share the protocol", user="dev")  # alias
    assert not out.is_error, out.text
    row = action_row(core, 1)
    assert row.owners == [core.user("dev")] and row.action.organisation == "Lancashire Constabulary"
    assert (
        row.action.due_date is None
        and row.outcomes == []
        and row.districts == []
        and not row.action.countywide
    )
    out = core.command("ADD Second one DUE:friday Outcome:EWB district:all", user="sam")
    assert not out.is_error, out.text
    row = action_row(core, 2)
    assert row.action.due_date == date(2026, 11, 27)  # the clock says Mon 23 Nov 2026
    assert row.outcomes == [Outcome.ECONOMIC_WELLBEING] and row.action.countywide
    assert "countywide" in out.text


def test_add_owners_and_org(core: Core) -> None:
    out = core.command(
        "add Joint visit @priya @dev owner:@sam org:south-ribble due:next friday", user="chair"
    )
    assert not out.is_error, out.text
    row = action_row(core, 1)
    assert sorted(row.owners) == sorted([core.user("priya"), core.user("dev"), core.user("sam")])
    assert row.action.organisation == "South Ribble"
    assert row.action.due_date == date(2026, 11, 27)  # the next Friday after today
    out = core.command('add Free text org org:"Central Lancashire PCT"', user="chair")
    assert action_row(core, 2).action.organisation == "Central Lancashire PCT"
    out = core.command('add Known org org:"lancashire constabulary"', user="chair")
    assert action_row(core, 3).action.organisation == "Lancashire Constabulary"
    # An owner with no registered organisation: saved without one, and told so privately.
    out = core.command("add Someone new @newbie", user="chair")
    assert out.posted and out.ephemeral and "no registered organisation" in out.ephemeral[0].sections[0].text
    assert action_row(core, 4).action.organisation == ""


def test_past_due_date_accepted_with_warning(core: Core) -> None:
    out = core.command("add Catch-up report due:01/11/2026", user="sam")
    assert len(out.posted) == 1 and len(out.ephemeral) == 1
    assert not out.is_error  # accepted: a warning, not an error (console --strict carries on)
    warning = out.ephemeral[0].sections[0].text
    assert "in the past" in warning and "Sun 1 Nov 2026" in warning
    assert action_row(core, 1).action.due_date == date(2026, 11, 1)
    assert ":red_circle: overdue" in out.posted[0].sections[0].text


def test_curly_quotes(core: Core) -> None:
    out = core.command(
        "add \u201cMap youth provision\u201d org:\u201cLancashire County Council\u201d due:\u201c28 Aug 2027\u201d",
        user="sam",
    )
    assert not out.is_error, out.text
    row = action_row(core, 1)
    assert row.action.title == "Map youth provision"
    assert row.action.organisation == "Lancashire County Council"
    assert row.action.due_date == date(2027, 8, 28)


def test_escaping(group: OfflineWorkspace) -> None:
    ws = group
    # As Slack sends it with should_escape on: a real @channel is an entity, typed brackets arrive as &lt;...
    raw = "add Fix <!channel> &amp; &lt;@U0FORGED|boss&gt; &lt;https://evil.example|click&gt; today"
    out = ws.command(raw, user="sam")
    assert not out.is_error, out.text
    stored = action_row(ws, 1).action.title
    assert stored == "Fix @channel & <@U0FORGED|boss> <https://evil.example|click> today"
    for message in out.messages:
        shown = message.text + " " + str(message.blocks)
        assert "<!channel>" not in shown and "<@U0FORGED" not in shown and "<https://evil" not in shown
    assert "&amp;" in out.text and "&lt;@U0FORGED|boss&gt;" in out.text
    out = ws.command("show 1", user="sam")
    assert "&lt;@U0FORGED|boss&gt;" in out.text and "<@U0FORGED" not in out.text
    # A forged org name is escaped too.
    ws.command('add Other org:"A &amp; B &lt;!here&gt;"', user="sam")
    out = ws.command("actions", user="sam")
    assert "A &amp; B &lt;!here&gt;" in out.text and "<!here>" not in out.text


def test_retried_request_creates_one_action(group: OfflineWorkspace) -> None:
    ws = group
    first = ws.command("add Only once due:friday", user="sam", trigger_id="same")
    again = ws.command("add Only once due:friday", user="sam", trigger_id="same", retry_num=1)
    assert first.posted and not again.messages
    assert action_count(ws) == 1
    assert [e.verb for e in audit_trail(ws, 1)] == ["created"]


def test_open_meeting_and_decision_are_linked(core: Core) -> None:
    with db(core) as s:
        g = group_of(s, core)
        meeting = Meeting(
            group_id=g.id,
            title="November task group",
            status=MeetingStatus.OPEN,  # type: ignore[arg-type]
            created_at=core.clock.now(),
            started_at=core.clock.now(),
        )
        s.add(meeting)
        s.flush()
        s.add(
            Decision(
                group_id=g.id,
                number=3,
                meeting_id=meeting.id,
                text="Agree the pathway & plan",  # type: ignore[arg-type]
                recorded_by=core.user("chair"),
                created_at=core.clock.now(),
            )
        )
        meeting_id = meeting.id
    out = core.command("add Write the pathway decision:D3 due:end of month", user="sam")
    assert not out.is_error, out.text
    assert (
        "D3" in out.text and "Agree the pathway &amp; plan" in out.text and "November task group" in out.text
    )
    row = action_row(core, 1)
    assert row.action.meeting_id == meeting_id and row.action.decision_id is not None
    out = core.command("add Another decision:3", user="sam")
    assert action_row(core, 2).action.decision_id == row.action.decision_id
    text = error_text(core.command("add Bad link decision:D9", user="sam"))
    assert "no decision D9" in text
    text = error_text(core.command("add Bad link decision:soon", user="sam"))
    assert "not a decision number" in text
    assert action_count(core) == 2


def test_bad_input(core: Core) -> None:
    # A bare `/ecm add` opens the New action form (tests/test_forms.py).
    cases = {
        "add due:friday outcome:safe": "needs a title",
        "add " + "x" * 501: "too long (501 characters; the most is 500)",
        "add Thing due:31/02/2027": "31/02/2027",
        "add Thing due:someday": "Try",
        "add Thing outcome:helthy": "Did you mean *Be Healthy*?",
        "add Thing district:chorly": "Did you mean *Chorley*?",
        "add Thing district:narnia": "no district “narnia”",
        "add Thing colour:red": "has no option “colour:”",
        "add Thing owner:sam": "is not a Slack user",
        'add "Thing': "no closing quote",
        "ad Thing": "Did you mean `/ecm add`?",
        "add Thing org:" + "o" * 201: "too long",
    }
    for command, expected in cases.items():
        out = core.command(command, user="sam")
        text = error_text(out)
        assert expected in text, (command, text)
        assert out.ephemeral
    assert action_count(core) == 0
    with db(core) as s:
        assert not list(s.exec(select(AuditEvent).where(AuditEvent.entity == "action")))
        assert group_of(s, core).next_action_number == 1


def test_date_error_shows_examples(core: Core) -> None:
    text = error_text(core.command("add Thing due:someday", user="sam"))
    assert "28/08/2026" in text or "next friday" in text


def test_channel_not_set_up(core: Core) -> None:
    elsewhere = "C0ELSEWHERE"  # a channel with no task group
    for command in (
        "add Something",
        "actions",
        "show 1",
        "update 1 rag:red",
        "done 1",
        "reopen 1",
        'drop 1 "x"',
    ):
        text = error_text(core.command(command, user="sam", channel=elsewhere))
        assert "/ecm setup" in text, command
    assert action_count(core) == 0


def test_help_for_add(core: Core) -> None:
    out = core.command("help add", user="sam")
    assert "/ecm add TITLE" in out.text and "Outcomes" in out.text and "Also:* `new`" in out.text


def test_fallback_text_is_escaped(group: OfflineWorkspace) -> None:
    out = group.command("add Fix <!channel> now", user="sam")
    assert "<!channel>" not in out.posted[0].text
    with db(group) as s:
        created = list(
            s.exec(select(AuditEvent).where(AuditEvent.entity == "action").order_by(col(AuditEvent.id)))
        )
    assert created[0].at == datetime.fromisoformat("2026-11-23T09:30:00+00:00")


def test_district_names_are_escaped_in_error_replies(ws: OfflineWorkspace) -> None:
    # District names are user text: a chair can type `&`, `<` or @here into them (as Slack sends them).
    out = ws.command(
        'setup name:"Odd" districts:"Hinckley &amp; Bosworth, &lt;Evil&gt;, <!here> Town, Here Again"',
        user="chair",
    )
    assert not out.is_error, out.text
    for command, expected in [
        ("add Thing district:narnia", "no district"),  # the list of districts in the usage line
        ("add Thing district:hinckley-bosworth", "Did you mean"),  # the did-you-mean hint
        ("add Thing district:here", "could be"),  # an ambiguous prefix
        ("member @sam district:narnia", "no district"),
    ]:
        reply = ws.command(command, user="chair")
        text = error_text(reply)
        assert expected in text, (command, text)
        for message in reply.messages:
            shown = message.text + " " + str(message.blocks)
            assert "<!here>" not in shown and "<Evil>" not in shown, (command, shown)
            assert "Hinckley & Bosworth" not in shown, (command, shown)
    assert action_count(ws) == 0


def test_help_for_a_mistyped_command_suggests_one(core: Core) -> None:
    text = error_text(core.command("help updat", user="sam"))
    assert "There is no command “updat”" in text and "Did you mean `/ecm help update`?" in text
    text = error_text(core.command("help &lt;b&gt;", user="sam"))
    assert "&lt;b&gt;" in text and "<b>" not in text


def test_member_org_takes_the_district_and_known_spellings(core: Core) -> None:
    # `member @x org:chorley` is the district Chorley, as `add … org:chorley` is; a known organisation keeps
    # its spelling, so `actions by:org` doesn't split one organisation in two.
    out = core.command("member @ann org:chorley", user="chair")
    assert "Chorley, member" in out.text, out.text
    out = core.command('member @pc org:"lancashire constabulary"', user="chair")
    assert "Lancashire Constabulary, member" in out.text, out.text
    core.command("add Patrol plan", user="pc")
    core.command("add Youth survey", user="ann")
    assert action_row(core, 1).action.organisation == "Lancashire Constabulary"
    assert action_row(core, 2).action.organisation == "Chorley"
    out = core.command("actions by:org", user="chair")
    assert "*Lancashire Constabulary* (1 action)" in out.text and "*Chorley* (1 action)" in out.text
    assert "lancashire constabulary" not in out.text and "chorley*" not in out.text
    out = core.command('member @pat org:"Central Lancashire PCT"', user="chair")  # anything else: as typed
    assert "Central Lancashire PCT, member" in out.text


def test_add_reads_the_groups_districts_once_after_they_change(core: Core) -> None:
    """Parsing district: and org: and storing the links use the districts held for the transaction. They
    are read by the first command after they change (a new token on the group row), and not again by a
    later one, in any process, while the group row shows that token."""
    assert not core.command('setup districts:"Chorley, Preston, Wyre, Fylde"', user="chair").is_error

    def district_reads(command: str) -> int:
        statements: list[str] = []
        listener = lambda *a: statements.append(" ".join(a[2].split()))  # noqa: E731
        event.listen(core.engine, "before_cursor_execute", listener)
        try:
            out = core.command(command, user="sam")
        finally:
            event.remove(core.engine, "before_cursor_execute", listener)
        assert out.posted and not out.is_error, out.text
        return sum(s.startswith("SELECT district.") for s in statements)

    assert district_reads("add Map provision @sam org:chorley outcome:safe district:chorley,fylde") == 1
    assert district_reads("add Map review @sam district:preston") == 0
    row = core.command("show 1", user="sam").text
    assert "Chorley" in row and "Fylde" in row


def test_words_after_org_that_would_join_the_title_are_refused_and_quotes_keep_them(core: Core) -> None:
    text = error_text(core.command("add Review the pathway org:NHS Lancashire outcome:safe", user="sam"))
    assert "I read `org:NHS` as the organisation, so “Lancashire” would become part of the title" in text
    assert '`org:"NHS Lancashire"`' in text
    assert "`/ecm add Review the pathway Lancashire org:NHS outcome:safe`" in text
    assert action_count(core) == 0
    out = core.command('add Review the pathway org:"NHS Lancashire" outcome:safe', user="sam")
    assert not out.is_error, out.text
    row = action_row(core, 1)
    assert (row.action.title, row.action.organisation) == ("Review the pathway", "NHS Lancashire")


@pytest.mark.parametrize(
    ("command", "refused", "how"),
    [
        ("update 1 due:", "`due:` has nothing after its colon", "as in `due:friday`"),
        ("update 1 status:", "`status:` has nothing after its colon", "as in `status:done`"),
        ("update 1 rag: amber", "`rag:` has nothing after its colon", "with no space: `rag:amber`"),
        ("update 1 owners:", "`owners:` has nothing after its colon", "as in `owner:@name`"),  # an alias
        ("add Map youth provision org:", "`org:` has nothing after its colon", "as in `org:Chorley`"),
        ('add Map provision due: "end of month"', "`due:`", 'no space: `due:"end of month"`'),
    ],
)
def test_a_key_with_nothing_after_its_colon_is_refused_not_saved_as_text(
    core: Core, command: str, refused: str, how: str
) -> None:
    ok(core.command("add Audit referrals due:friday", user="sam"))
    before = (action_count(core), len(audit_trail(core, 1)))
    text = error_text(core.command(command, user="sam"))
    assert refused in text and how in text and "Nothing was saved" in text, text
    assert "put them in quotes" in text
    assert (action_count(core), len(audit_trail(core, 1))) == before
    assert action_row(core, 1).action.due_date == date(2026, 11, 27)


def test_a_list_key_with_nothing_after_it_says_how_to_give_one(core: Core) -> None:
    text = error_text(core.command("actions outcome:", user="sam"))
    assert "`outcome:` has nothing after its colon." in text and "as in `outcome:safe`" in text, text
    assert "Nothing was saved" not in text and "quotes" not in text  # a list changes nothing anyway


def test_a_word_ending_in_a_colon_that_is_no_key_stays_text(core: Core) -> None:
    ok(core.command("add Audit referrals", user="sam"))
    ok(core.command("update 1 Progress: half the wards mapped", user="sam"))
    assert "Progress: half the wards mapped" in core.command("show 1", user="sam").text


def test_through_slack_a_bare_key_is_answered_only_to_the_person(group: OfflineWorkspace) -> None:
    ok(group.command("add Audit referrals due:friday", user="sam"))
    group.standin.reset()
    out = group.command("update 1 due:", user="sam")
    assert out.is_error and not out.posted, out.text  # ephemeral: nothing in the channel
    assert "`due:` has nothing after its colon" in out.text
    assert [m for m in group.standin.messages if not m.ephemeral] == []
    assert action_row(group, 1).action.due_date == date(2026, 11, 27)
