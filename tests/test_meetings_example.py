"""examples/meeting.ecm replayed through the real app: no error replies, and the minutes say what happened."""

from __future__ import annotations

import re
from pathlib import Path

from bot.offline import Exchange, OfflineWorkspace, block_text
from commands.text import esc
from tests.support import no_failed_posts  # noqa: F401 - autouse: no post may fail

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "meeting.ecm"
SWITCH = re.compile(r"^as:\s*@([a-z][\w.\-]*)$", re.I)


def replay(ws: OfflineWorkspace, path: Path) -> list[tuple[str, Exchange]]:
    user = "chair"
    done: list[tuple[str, Exchange]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        switch = SWITCH.match(line)
        if switch:
            user = switch.group(1)
            continue
        assert line.startswith("/ecm "), line
        # Slack escapes &, < and > in what people type (should_escape), as the console does.
        done.append((line, ws.command(esc(line), user=user)))
    return done


def test_example_meeting_script(ws: OfflineWorkspace) -> None:
    exchanges = replay(ws, SCRIPT)
    assert len(exchanges) > 25
    for line, out in exchanges:
        assert out.messages, f"no reply to {line}"
        assert not out.is_error, f"{line}\n{out.text}"

    start = next(out for line, out in exchanges if line.startswith("/ecm meeting start"))
    text = ws.readable(start.text)
    assert "Matters arising (1)" in text and "Map Children's Centre outreach across Chorley" in text

    end = next(out for line, out in exchanges if line == "/ecm meeting end")
    assert len(end.posted) == 2
    minutes = ws.readable(block_text(end.posted[0].blocks))
    assert "Minutes: November task group" in minutes and "*Chair:* @aisha" in minutes
    assert (
        "*Present (4):* @tom (Chorley), @li (Connexions Lancashire), @aisha (Lancashire County Council), "
        "@nadia (South Ribble)"
    ) in minutes
    assert "*Substitutes (1):* @fiona (Lancashire Constabulary, for @gareth)" in minutes
    assert "Joined remotely" not in minutes  # corrected: the last record wins
    assert "*Apologies (2):* @ruth (Central Lancashire PCT), @gareth (Lancashire Constabulary)" in minutes
    assert "*Absent (1):* @owen (Preston)" in minutes
    not_represented = next(line for line in minutes.splitlines() if line.startswith("*Not represented"))
    assert "Preston" in not_represented and "Central Lancashire PCT" in not_represented
    assert "Chorley" not in not_represented and "South Ribble" not in not_represented
    assert "*D1* _(agreed)_ Adopt the joint CAF training programme" in minutes
    assert "*D2* _(deferred)_" in minutes
    assert (
        "*Actions raised (2)*" in minutes
        and "Book CAF training dates" in minutes
        and "Brief neighbourhood policing teams" in minutes
    )
    assert "*Notes (2)*" in minutes and "free swimming" in minutes and "— @li" in minutes
    summary = ws.readable(block_text(end.posted[1].blocks))
    assert (
        "Attendance: the last 6 meetings" in summary and "Preston — represented at 0 of 1 meeting" in summary
    )

    decisions = next(out for line, out in exchanges if line == "/ecm decisions")
    text = ws.readable(decisions.text)
    assert "Book CAF training dates for housing officers (open" in text
    assert "Brief neighbourhood policing teams on CAF referrals (open" in text
