"""The console shows the DMs each person receives and presses buttons on messages: `jobs run [JOB]` sends
the day's scheduled posts, `dms [@name]` lists what a person's DM holds, and `press LABEL [#N]` presses a
button on the messages last shown (a chaser DM, the minutes' [Share in channel]) through Bolt."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_console import run_console

SETUP = """
/ecm setup name:"Chorley Group" preset:lancashire
/ecm member @sam district:chorley
/ecm member @priya district:south-ribble
/ecm add Map youth provision @sam due:18/11/2026
/ecm add Audit school nurse referrals @sam due:25/11/2026
/ecm add Swimming passes audit @priya due:19/11/2026
"""


def _boxes(out: str, heading: str) -> list[str]:
    """The printed messages whose heading line starts with `heading` (e.g. "┌─ DM to @sam")."""
    found, current = [], None
    for line in out.splitlines():
        if line.startswith("┌─"):
            current = [line] if line.startswith(heading) else None
        elif current is not None:
            current.append(line)
            if line.startswith("└─"):
                found.append("\n".join(current))
                current = None
    return found


def test_jobs_run_sends_chaser_dms_and_dms_lists_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_console(
        tmp_path,
        SETUP
        + """
dms @sam
jobs run chasers
jobs run chasers
dms @sam
dms @priya
dms @nobody
""",
        "--strict",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "(no DMs to @sam yet: `jobs run chasers` sends today's chaser DMs)" in out
    assert "chasers for Mon 23 Nov 2026: 2 planned (2 new); sent 2, skipped 0, failed 0" in out
    assert "chasers for Mon 23 Nov 2026: 2 planned (0 new); sent 0" in out  # the outbox remembers
    listed = out[out.index("@chair> dms @sam\n", out.index("jobs run chasers")) :]
    assert "1 DM to @sam, oldest first:" in listed
    (sam,) = _boxes(listed[: listed.index("@chair> dms @priya")], "┌─ DM to @sam (1 of 1)")
    assert "Map youth provision" in sam and "overdue (3 working days)" in sam
    assert "Audit school nurse referrals" in sam and "Swimming passes audit" not in sam
    assert "[Done] [Snooze a week] [Add update] [Update action]" in sam
    priya = _boxes(listed, "┌─ DM to @priya (1 of 1)")
    assert len(priya) == 1 and "Swimming passes audit" in priya[0] and "Map youth provision" not in priya[0]
    assert "(no DMs to @nobody yet" in out


def test_press_a_button_on_a_chaser_dm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_console(
        tmp_path,
        SETUP
        + """
jobs run chasers
as @priya
dms @sam
press Done #1
as @sam
dms
press Done #1
/ecm show 1
dms
press Add update #2
submit note="Half the school nurses' returns are in"
/ecm show 2
""",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    # Only the person whose DM it is can press its buttons.
    assert "(that message is @sam's: `as @sam` first)" in out
    pressed = out[out.index("@sam> press Done #1") : out.index("@sam> /ecm show 1")]
    (updated,) = _boxes(pressed, "┌─ DM to @sam (updated)")
    assert "#1 is marked done" in updated and "Map youth provision" not in updated
    assert "@sam marked *#1* done (from their chaser DM)" in pressed  # the channel post
    assert "*Status:* :white_check_mark: done" in out[out.index("@sam> /ecm show 1") :]
    # "Add update" opens its form, submitted like any other.
    assert "(form submitted and closed)" in out
    shown = out[out.index("@sam> /ecm show 2") :]
    assert "Half the school nurses' returns are in" in shown


def test_press_share_in_channel_on_the_minutes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_console(
        tmp_path,
        """
/ecm setup name:"Chorley Group" preset:lancashire
/ecm meeting start "November task group"
/ecm meeting end
/ecm minutes 1
press Share in channel
jobs
jobs run nonsense
""",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    after = out[out.index("@chair> press Share in channel") :]
    shared = _boxes(after, "┌─ #ecm-task-group")
    assert shared and "Shared by @chair" in shared[0] and "Minutes: November task group" in shared[0]
    assert "(write `jobs run [JOB]`; jobs: chasers, digest" in out
