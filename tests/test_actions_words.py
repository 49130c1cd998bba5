"""What the action replies say, through the core: several actions at once, handovers, lines that say each
thing once, removing a member who owns actions, settings that agree; overdue in working days everywhere
(the list and the chaser DM) through the real app."""

from __future__ import annotations

from bot.offline import OfflineWorkspace
from storage.models import ActionStatus
from tests.conftest import Core
from tests.support import action_row, add, audit_trail, dms, error_text, run, text_of


def _three(ws: Core) -> None:
    for title in ("Audit referrals", "Map provision", "Share protocol"):
        add(ws, f"{title} due:20/11/2026 outcome:safe district:chorley", user="sam")


def test_done_closes_several_actions(core: Core) -> None:
    _three(core)
    out = core.command("done 1 2", user="sam")
    assert not out.is_error, out.text
    assert [action_row(core, n).action.status for n in (1, 2, 3)] == [
        ActionStatus.DONE,
        ActionStatus.DONE,
        ActionStatus.OPEN,
    ]
    assert len(out.posted) == 1 and "*#1* done" in out.text and "*#2* done" in out.text
    assert all(e.note is None for n in (1, 2) for e in audit_trail(core, n) if e.verb == "done")
    out = core.command("reopen 1,2", user="sam")
    assert not out.is_error and action_row(core, 2).action.status == ActionStatus.OPEN
    out = core.command('done 1,#3 "Both finished"', user="sam")
    assert not out.is_error and action_row(core, 3).action.status == ActionStatus.DONE
    assert [e.note for e in audit_trail(core, 3) if e.verb == "done"] == ["Both finished"]


def test_a_number_is_never_taken_as_a_note(core: Core) -> None:
    _three(core)
    text = error_text(core.command("done 1 2 reports sent", user="sam"))
    assert "Is “2” another action, or the start of a note? Nothing was changed." in text
    assert '`/ecm done 1 "2 reports sent"`' in text
    text = error_text(core.command("update 1 2", user="sam"))
    assert "looks like another action number" in text and "works on one action at a time" in text
    assert all(action_row(core, n).action.status == ActionStatus.OPEN for n in (1, 2, 3))
    # If any of them can't be closed, none is.
    add(core, "Priya's own action", user="priya")
    text = error_text(core.command("done 1 4", user="sam"))
    assert "#4" in text and action_row(core, 1).action.status == ActionStatus.OPEN
    # A quoted number is a note, as typed.
    out = core.command('done 1 "2"', user="sam")
    assert not out.is_error and [e.note for e in audit_trail(core, 1) if e.verb == "done"] == ["2"]


def test_handover_moves_the_organisation_with_the_new_owner(core: Core) -> None:
    add(core, "Audit referrals outcome:safe", user="sam")
    assert action_row(core, 1).action.organisation == "Chorley"
    out = core.command("update 1 owner:@dev", user="sam")
    assert not out.is_error, out.text
    assert action_row(core, 1).action.organisation == "Lancashire Constabulary"
    assert "organisation: Chorley → Lancashire Constabulary" in out.text
    assert "The organisation moved with the new owner" in core.readable(out.text)
    assert "`/ecm update 1 org:chorley`" in out.text or "`/ecm update 1 org:Chorley`" in out.text
    # org: given with the handover wins.
    out = core.command('update 1 owner:@priya org:"Lancashire Constabulary"', user="chair")
    assert action_row(core, 1).action.organisation == "Lancashire Constabulary"
    assert "moved with the new owner" not in out.text
    # Someone with no registered organisation: it stays, and the reply says why.
    out = core.command("update 1 owner:@newcomer", user="chair")
    assert action_row(core, 1).action.organisation == "Lancashire Constabulary"
    assert (
        "has no registered organisation, so #1's organisation stays with Lancashire Constabulary" in out.text
    )


def test_action_lines_say_each_thing_once(core: Core) -> None:
    add(core, "Map youth provision due:30/11/2026 outcome:enjoy district:chorley", user="sam")
    add(core, "Joint visits due:30/11/2026 outcome:enjoy district:chorley,preston", user="sam")
    out = core.command("actions", user="sam")
    lines = [line for line in out.text.splitlines() if "*#" in line]
    assert lines[0].count("Chorley") == 1, lines[0]
    assert "Chorley, Preston" in lines[1]
    assert "Outcomes: `healthy`" not in out.text


def test_removing_a_member_lists_their_open_actions(core: Core) -> None:
    add(core, "Audit referrals", user="sam")
    add(core, "Map provision", user="sam")
    core.command("done 2", user="sam")
    out = core.command("member @sam remove", user="chair")
    text = core.readable(out.text)
    assert "@sam is no longer a member, but still owns 1 open action" in text
    assert "*#1* Audit referrals" in text and "*#2*" not in text
    assert "`/ecm update 1 owner:@name`" in text
    out = core.command("member @priya remove", user="chair")
    assert "They own no open actions." in out.text


def test_setup_summary_agrees_with_itself(core: Core) -> None:
    out = core.command("setup chasers:off nudge-days:3", user="chair")
    assert "due-soon nudge (working days before): 2 → 3" in out.text
    assert "Due-soon nudge: *3 working days before the due date, paused while chasers are off*" in out.text


def test_overdue_is_counted_in_working_days_everywhere(group: OfflineWorkspace) -> None:
    ws = group  # today is Mon 23 Nov 2026
    add(ws, "Audit referrals due:13/11/2026 outcome:safe", user="sam")  # a Friday: 6 working days ago
    assert "overdue (6 working days)" in ws.command("actions", user="sam").text
    run(ws, "chasers")
    [dm] = dms(ws, "sam")
    assert "overdue (6 working days)" in text_of(ws, dm)
    assert "overdue (10 days)" not in text_of(ws, dm)
