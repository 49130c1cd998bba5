"""Someone who is not a member of the task group and records themselves (`/ecm here for:"Org"`) is a guest:
recorded and shown as a guest in the channel post, the minutes and the by-member counts, and never counted as
that organisation being represented. Representing an organisation needs membership, or a chair recording it.
The core tier first, then the same through signed slash commands."""

from __future__ import annotations

from bot.offline import OfflineWorkspace, block_text
from tests.conftest import Core
from tests.support import err, ok, readable


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def test_a_non_members_for_org_is_a_guest_not_the_organisation(core: Core) -> None:
    ok(core.command('meeting start "Board"'))
    out = ok(core.command("here for:chorley", user="visitor"))
    assert "<@U0VISITOR> — present as a guest, from Chorley" in out.text, out.text
    assert "does not count as Chorley being represented" in out.text
    ok(core.command('here for:"Preston PCT" as:virtual', user="guest2"))  # a new organisation: a guest too
    err(core.command('apologies for:"South Ribble"', user="guest3"), "Only members send apologies")
    err(core.command("here for:@dev", user="guest3"), "Only members")  # nor stand in for a member
    ok(core.command("here", user="dev"))  # a member represents their organisation
    ok(core.command("present @visitor4 for:wyre"))  # a chair records a non-member for an organisation
    minutes = ok(core.command("meeting end")).text

    assert "*Guests (2):* <@U0VISITOR> (from Chorley), <@U0GUEST2> (from Preston PCT)" in minutes, minutes
    not_represented = _line(minutes, "*Not represented")
    assert "Chorley" in not_represented and "South Ribble" in not_represented
    assert "Wyre" not in not_represented and "Lancashire Constabulary" not in not_represented

    counts = ok(core.command("attendance", user="sam")).text
    assert _line(counts, "• Chorley").startswith("• Chorley — represented at 0 of 1 meeting"), counts
    assert _line(counts, "• Wyre").startswith("• Wyre — represented at 1 of 1 meeting")
    assert _line(counts, "• Lancashire Constabulary").startswith(
        "• Lancashire Constabulary — represented at 1 of 1 meeting"
    )
    assert "Preston PCT" not in counts  # a guest's organisation is not listed as represented or missed
    by_member = ok(core.command("attendance by:member", user="sam")).text
    assert _line(by_member, "• <@U0VISITOR>").startswith("• <@U0VISITOR> (Chorley) — attended 1 of 1 meeting")


def test_a_guest_through_slack(group: OfflineWorkspace) -> None:
    ws = group
    ok(ws.command('meeting start "Board"'))
    out = ok(ws.command("here for:chorley", user="visitor"))
    assert "@visitor — present as a guest, from Chorley" in readable(out, ws), readable(out, ws)
    assert out.posted  # the channel sees it said as a guest
    out = ok(ws.command("meeting end"))
    minutes, summary = (ws.readable(block_text(m.blocks)) for m in out.posted)
    assert "*Guests (1):* @visitor (from Chorley)" in minutes, minutes
    assert "Chorley" in _line(minutes, "*Not represented")
    assert "Chorley — represented at 0 of 1 meeting" in summary, summary
