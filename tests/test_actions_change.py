"""`/ecm show`, `update`, `done`, `reopen` and `drop` through the core: permissions, every bad input,
another channel's actions, what the channel is told, and the audit trail; a retried request through the real
app."""

from __future__ import annotations

from datetime import date

from bot.offline import OfflineWorkspace
from storage.models import ActionStatus, Decision, Outcome, Rag
from tests.conftest import Core
from tests.support import (
    action_row,
    audit_trail,
    db,
    error_text,
    group_of,
)


def seed(ws: OfflineWorkspace | Core) -> None:
    out = ws.command(
        "add Audit school nurse referrals due:28/02/2027 outcome:healthy district:chorley", user="sam"
    )
    assert out.posted, out.text
    out = ws.command("add Youth provision map @priya due:end of month", user="chair")
    assert out.posted, out.text
    if isinstance(ws, OfflineWorkspace):
        ws.standin.messages.clear()


# show ---------------------------------------------------------------------------------------------------------


def test_show(core: Core) -> None:
    seed(core)
    core.command('update 1 "Spoke to the GPs" rag:green', user="sam")
    out = core.command("show #1", user="dev")
    assert len(out.ephemeral) == 1 and not out.posted
    text = out.text
    assert "Action #1" in text and "Audit school nurse referrals" in text
    assert f"*Owners:* <@{core.user('sam')}>" in text and "*Organisation:* Chorley" in text
    assert (
        "*Due:* Sun 28 Feb 2027" in text
        and "*Outcomes:* Be Healthy" in text
        and "*Districts:* Chorley" in text
    )
    assert "RAG:* :large_green_square: green" in text
    assert "*Progress notes (1)*" in text and "Spoke to the GPs" in text
    assert "*History*" in text and "added this action" in text and "RAG: — → green" in text
    assert "Mon 23 Nov 2026, 09:30" in text
    assert "Owners or a chair can change #1." in text  # dev is neither
    assert "/ecm done 1" in core.command("show 1", user="sam").text
    assert "/ecm done 1" in core.command("view 1", user="chair").text


def test_show_bad_input(core: Core) -> None:
    seed(core)
    cases = {
        "show": "Which action?",
        "show 99": "There is no action #99 in this task group.",
        "show abc": "is not an action number",
        "show 1 2": "takes just the action number",
        "show 1 due:friday": "has no option “due:”",
    }
    for command, expected in cases.items():
        assert expected in error_text(core.command(command, user="sam")), command


# update -------------------------------------------------------------------------------------------------------


def test_update_many_fields(core: Core) -> None:
    seed(core)
    out = core.command(
        'update 1 "Forms agreed with GPs" due:15/01/2027 status:in progress rag:a '
        "outcome:safe,healthy district:all org:preston owner:@sam,@dev",
        user="sam",
    )
    assert not out.is_error, out.text
    assert len(out.posted) == 1 and not out.ephemeral
    text = out.text
    assert f"<@{core.user('sam')}> updated *#1*" in text
    assert "due: Sun 28 Feb 2027 → Fri 15 Jan 2027" in text
    assert "status: open → in progress" in text and "RAG: — → amber" in text
    assert "outcomes: healthy → healthy, safe" in text and "districts: Chorley → countywide" in text
    assert "organisation: Chorley → Preston" in text
    assert f"owners: <@{core.user('sam')}> → " in text
    assert "> Forms agreed with GPs" in text
    row = action_row(core, 1)
    assert row.action.status == ActionStatus.IN_PROGRESS and row.action.rag == Rag.AMBER
    assert row.action.due_date == date(2027, 1, 15) and row.action.countywide
    assert row.outcomes == [Outcome.BE_HEALTHY, Outcome.STAY_SAFE] and row.action.organisation == "Preston"
    assert sorted(row.owners) == sorted([core.user("sam"), core.user("dev")])
    event = audit_trail(core, 1)[-1]
    assert (
        event.verb == "updated"
        and event.user_id == core.user("sam")
        and event.note == "Forms agreed with GPs"
    )
    assert event.changes["status"] == ["open", "in-progress"]
    assert event.changes["due_date"] == ["2027-02-28", "2027-01-15"]
    assert event.changes["districts"] == [["Chorley"], "countywide"]


def test_update_status_words_and_clearing(core: Core) -> None:
    seed(core)
    for word, expected in [
        ("wip", ActionStatus.IN_PROGRESS),
        ("blocked", ActionStatus.BLOCKED),
        ('"in progress"', ActionStatus.IN_PROGRESS),
        ("open", ActionStatus.OPEN),
        ("progress", ActionStatus.IN_PROGRESS),
    ]:
        core.command("update 1 status:open", user="sam")
        out = core.command(f"update 1 status:{word}", user="sam")
        assert not out.is_error, (word, out.text)
        assert action_row(core, 1).action.status == expected, word
    core.command("update 1 rag:r", user="sam")
    assert action_row(core, 1).action.rag == Rag.RED
    out = core.command("update 1 due:none rag:none district:none outcome:none", user="sam")
    assert "due: Sun 28 Feb 2027 → —" in out.text and "RAG: red → —" in out.text
    row = action_row(core, 1)
    assert (
        row.action.due_date is None and row.action.rag is None and row.districts == [] and row.outcomes == []
    )


def test_update_status_done_via_update(core: Core) -> None:
    seed(core)
    out = core.command("update 1 status:done", user="sam")
    assert out.posted and "status: open → done" in out.text
    row = action_row(core, 1)
    assert row.action.status == ActionStatus.DONE and row.action.completed_at == core.clock.now()
    assert audit_trail(core, 1)[-1].verb == "done"
    core.command("update 1 status:open", user="sam")
    assert audit_trail(core, 1)[-1].verb == "reopened" and action_row(core, 1).action.completed_at is None


def test_update_note_only_and_nothing_changed(core: Core) -> None:
    seed(core)
    out = core.command("update 1 \u201cChased the GP practices\u201d", user="sam")  # curly quotes
    assert out.posted and "added a note to *#1*" in out.text and "> Chased the GP practices" in out.text
    event = audit_trail(core, 1)[-1]
    assert event.verb == "note" and event.note == "Chased the GP practices" and event.changes == {}
    out = core.command("update 1 due:28/02/2027 outcome:healthy", user="sam")
    assert not out.posted and out.ephemeral and "Nothing changed" in out.text and not out.is_error
    assert len(audit_trail(core, 1)) == 2


def test_update_past_due_warns(core: Core) -> None:
    seed(core)
    out = core.command("update 1 due:1/11/2026", user="sam")
    assert out.posted and out.ephemeral and "in the past" in out.ephemeral[0].sections[0].text
    assert action_row(core, 1).action.due_date == date(2026, 11, 1)


def test_update_decision_link(core: Core) -> None:
    seed(core)
    with db(core) as s:
        g = group_of(s, core)
        s.add(
            Decision(
                group_id=g.id,
                number=2,
                text="Map provision",
                recorded_by=core.user("chair"),  # type: ignore[arg-type]
                created_at=core.clock.now(),
            )
        )
    out = core.command("update 1 decision:D2", user="sam")
    assert "decision: — → D2" in out.text
    assert "no decision D7" in error_text(core.command("update 1 decision:D7", user="sam"))
    out = core.command("update 1 decision:none", user="sam")
    assert "decision: D2 → —" in out.text and action_row(core, 1).action.decision_id is None


def test_update_permissions(core: Core) -> None:
    seed(core)
    text = error_text(core.command("update 1 rag:red", user="dev"))
    assert "Only the owners of #1" in text and f"<@{core.user('sam')}>" in text
    assert action_row(core, 1).action.rag is None
    assert not core.command("update 1 rag:red", user="chair").is_error  # chairs may
    assert not core.command("update 2 rag:green", user="priya").is_error  # owners may
    # Dropping through update is for chairs, with a reason.
    assert "Only a chair can drop #1" in error_text(
        core.command('update 1 status:dropped "gone"', user="sam")
    )
    assert "Say why" in error_text(core.command("update 1 status:dropped", user="chair"))
    assert not core.command('update 1 status:dropped "merged into #2"', user="chair").is_error
    assert "only a chair can bring it back" in error_text(core.command("update 1 status:open", user="sam"))


def test_update_bad_input(core: Core) -> None:
    seed(core)
    cases = {
        "update": "Which action?",
        "update x rag:red": "is not an action number",
        "update 1": "Say what to change on #1",
        "update 99 rag:red": "There is no action #99 in this task group.",
        "update 1 status:finished-ish": "is not a status",
        "update 1 status:blokced": "Did you mean `blocked`?",
        "update 1 rag:purple": "is not a RAG rating",
        "update 1 due:32/01/2027": "32/01/2027",
        "update 1 due:whenever": "Try",
        "update 1 outcome:helthy": "Did you mean *Be Healthy*?",
        "update 1 district:chorly": "Did you mean *Chorley*?",
        "update 1 owner:sam": "is not a Slack user",
        "update 1 colour:red": "has no option “colour:”",
        "update 1 title:" + "t" * 501: "too long",
        'update 1 "' + "n" * 2990 + '"': "too long",
        "udpate 1 rag:red": "Did you mean `/ecm update`?",
    }
    for command, expected in cases.items():
        text = error_text(core.command(command, user="sam"))
        assert expected in text, (command, text)
    assert [e.verb for e in audit_trail(core, 1)] == ["created"]


def test_update_escapes(core: Core) -> None:
    seed(core)
    out = core.command(
        'update 1 "Told <!channel> &amp; &lt;@U0FORGED&gt;" title:"New &lt;b&gt; title &amp; more"',
        user="sam",
    )
    assert "<!channel>" not in out.text and "<@U0FORGED" not in out.text
    # The typed-out mention is shown as text (broken up so it can never become a real mention).
    assert "&lt;\u200b@U0FORGED&gt;" in out.text and "New &lt;b&gt; title &amp; more" in out.text
    assert action_row(core, 1).action.title == "New <b> title & more"


def test_retried_update_applies_once(group: OfflineWorkspace) -> None:
    ws = group
    seed(ws)
    first = ws.command('update 1 "once"', user="sam", trigger_id="same-update")
    again = ws.command('update 1 "once"', user="sam", trigger_id="same-update")
    assert first.posted and not again.messages
    assert [e.verb for e in audit_trail(ws, 1)] == ["created", "note"]


# done / reopen / drop -----------------------------------------------------------------------------------------


def test_done_and_reopen(core: Core) -> None:
    seed(core)
    out = core.command('done 1 "All GP practices signed up"', user="sam")
    assert len(out.posted) == 1 and not out.ephemeral
    assert "marked *#1* done" in out.text and "> All GP practices signed up" in out.text
    row = action_row(core, 1)
    assert row.action.status == ActionStatus.DONE and row.action.completed_at == core.clock.now()
    event = audit_trail(core, 1)[-1]
    assert event.verb == "done" and event.changes == {"status": ["open", "done"]}
    assert event.note == "All GP practices signed up"
    out = core.command("complete 1", user="sam")  # alias; already done
    assert not out.posted and "already done" in out.text
    out = core.command("reopen 1", user="sam")
    assert out.posted and "reopened *#1*" in out.text and "status: done → open" in out.text
    assert (
        action_row(core, 1).action.status == ActionStatus.OPEN
        and action_row(core, 1).action.completed_at is None
    )
    assert audit_trail(core, 1)[-1].verb == "reopened"
    out = core.command("reopen 1", user="sam")
    assert not out.posted and "Nothing changed" in out.text
    assert [e.verb for e in audit_trail(core, 1)] == ["created", "done", "reopened"]


def test_done_reopen_permissions(core: Core) -> None:
    seed(core)
    assert "Only the owners of #1" in error_text(core.command("done 1", user="dev"))
    assert action_row(core, 1).action.status == ActionStatus.OPEN
    assert not core.command("done 1", user="chair").is_error
    assert "Only the owners of #1" in error_text(core.command("reopen 1", user="priya"))
    assert action_row(core, 1).action.status == ActionStatus.DONE


def test_drop(core: Core) -> None:
    seed(core)
    assert "Only a chair" in error_text(core.command('drop 1 "not needed"', user="sam"))
    assert "Say why #1" in error_text(core.command("drop 1", user="chair"))
    out = core.command("drop 1 \u201cCovered by the county strategy\u201d", user="chair")
    assert out.posted and "dropped *#1*" in out.text and "> Covered by the county strategy" in out.text
    assert action_row(core, 1).action.status == ActionStatus.DROPPED
    event = audit_trail(core, 1)[-1]
    assert event.verb == "dropped" and event.note == "Covered by the county strategy"
    assert event.user_id == core.user("chair")
    assert "already dropped" in core.command('drop 1 "again"', user="chair").text
    # Owners can't undo a chair's drop; chairs can.
    assert "only a chair can reopen it" in error_text(core.command("reopen 1", user="sam"))
    assert "only a chair can change it" in error_text(core.command("done 1", user="sam"))
    assert not core.command("reopen 1", user="chair").is_error
    assert action_row(core, 1).action.status == ActionStatus.OPEN
    # Nothing is deleted: it is still listed with `all`, and its history is complete.
    assert [e.verb for e in audit_trail(core, 1)] == ["created", "dropped", "reopened"]


def test_close_bad_input(core: Core) -> None:
    seed(core)
    cases = {
        ("done", "sam"): "Which action?",
        ("done 99", "sam"): "There is no action #99 in this task group.",
        ("done one", "sam"): "is not an action number",
        ("reopen 99", "sam"): "There is no action #99 in this task group.",
        ('drop 99 "x"', "chair"): "There is no action #99 in this task group.",
        ("done 1 due:friday", "sam"): "has no option “due:”",
        ('done 1 "' + "n" * 3001 + '"', "sam"): "too long",
    }
    for (command, user), expected in cases.items():
        assert expected in error_text(core.command(command, user=user)), command


def test_another_channels_actions_are_invisible(core: Core) -> None:
    seed(core)  # #1 and #2 here
    other = "C0OTHER"
    assert not core.command(
        'setup name:"Leicestershire" preset:leicestershire', user="chair", channel=other
    ).is_error
    for i in range(3):
        assert core.command(f"add Other channel action {i} @sam", user="chair", channel=other).posted
    # #3 exists only in the other channel.
    for command, user in [
        ("show 3", "sam"),
        ("update 3 rag:red", "sam"),
        ("done 3", "sam"),
        ("reopen 3", "sam"),
        ('drop 3 "x"', "chair"),
    ]:
        text = error_text(core.command(command, user=user))
        assert "There is no action #3 in this task group." in text, command
    # #1 here and #1 there are different actions.
    core.command("done 1", user="sam")
    assert action_row(core, 1).action.status == ActionStatus.DONE
    assert action_row(core, 1, channel=other).action.status == ActionStatus.OPEN
    out = core.command("actions all", user="sam", channel=other)
    assert "Other channel action" in out.text and "Audit school nurse" not in out.text
    out = core.command("actions all", user="sam")
    assert "Other channel action" not in out.text
    # Numbers run per channel.
    assert action_row(core, 3, channel=other).action.title == "Other channel action 2"


def test_people_mentioned_in_an_update_note_stay_mentions_and_owners_stay(core: Core) -> None:
    seed(core)
    priya, sam = core.user("priya"), core.user("sam")
    out = core.command("update 1 chased @priya for the figures", user="sam")
    assert out.posted and not out.is_error
    assert f"> chased <@{priya}> for the figures" in out.text  # a real mention: Priya is notified
    assert action_row(core, 1).owners == [sam]  # only owner: reassigns
    out = core.command("show 1", user="sam")
    assert f"<@{sam}>: chased <@{priya}> for the figures" in out.text
    out = core.command("update 1 owner:@priya", user="sam")
    assert action_row(core, 1).owners == [priya]


def test_done_note_keeps_mentions_but_not_typed_out_ones(core: Core) -> None:
    seed(core)
    out = core.command('done 1 thanks @dev "and &lt;@U0FORGED&gt;"', user="sam")
    assert f"thanks <@{core.user('dev')}>" in out.text
    assert "<@U0FORGED>" not in out.text
