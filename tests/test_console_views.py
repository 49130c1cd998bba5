"""The console's Home tab and forms: `home`, `press`, `new`, `submit`, `say` / `make action`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_console import run_console


def test_home_press_and_submit_a_form_from_a_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_console(
        tmp_path,
        """
/ecm setup name:"Chorley Group" preset:lancashire
/ecm member @sam district:chorley
/ecm add Map youth provision @sam due:18/12/2026
as @sam
home
press Done #1
new
submit title="Audit school nurse referrals" due=19/12/2026 outcomes=enjoy,safe org=chorley
home
""",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Home tab of @sam" in out
    assert "Map youth provision" in out and "[Done] [Update] [Snooze a week]" in out
    assert "marked *#1* done (from their Home tab)" in out  # the channel post, as Slack shows it
    assert "[New action]" in out and "• Title (title): —" in out
    assert "(form submitted and closed)" in out
    assert "added action *#2*" in out and "Audit school nurse referrals" in out
    assert "due Sat 19 Dec 2026" in out


def test_submit_field_errors_and_prompting_field_by_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_console(
        tmp_path,
        """
/ecm setup name:"Chorley Group" preset:lancashire
new
submit due=someday
submit title=
cancel
new
submit

Prompted title
""",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "nothing was submitted" in out  # "someday" is not a date the console could read
    assert "✗ title: An action needs a title" in out
    assert "(form closed)" in out
    # Plain `submit` reads one line per field in order (an empty line keeps the field as it is).
    assert "Prompted title" in out and "added action *#1*" in out


def test_make_action_from_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_console(
        tmp_path,
        """
/ecm setup name:"Chorley Group" preset:lancashire
as @sam
say Can someone chase the *nurse rota*?
as @chair
make action
submit
""",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Can someone chase the nurse rota?" in out
    assert "Made from <https://ecm-standin.slack.com/archives/" in out
