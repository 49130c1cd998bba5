"""`/ecm export`, `/ecm import` (the form, the preview, confirm) and `ecm-bot import`: checked through signed
payloads and against the files' contents; round trip export -> import into a fresh group."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.cli import main as cli_main
from bot.listeners.plan_import import FILE_BLOCK
from bot.offline import Exchange, OfflineWorkspace
from commands.context import Context
from commands.plan_import import start_from_form
from storage.actions import load_rows
from storage.models import Action, AuditEvent, PlanImport, TaskGroup
from tests.test_report import build_plan, database_url


def xlsx_bytes(rows: list[list[object]], *, sheet: str = "Plan") -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def register_of(engine: Engine, channel: str) -> list[tuple[object, ...]]:
    """Each action's fields as a chair would compare two registers (numbers, people, dates, links)."""
    with Session(engine) as session:
        group = session.exec(select(TaskGroup).where(TaskGroup.channel_id == channel)).one()
        actions = list(
            session.exec(select(Action).where(Action.group_id == group.id).order_by(Action.number))
        )
        return [
            (
                r.action.number,
                r.action.title,
                tuple(r.owners),
                r.action.organisation,
                r.action.due_date,
                tuple(o.value for o in r.outcomes),
                r.action.countywide,
                tuple(d.name for d in r.districts),
                r.action.status.value,
                r.action.rag.value if r.action.rag else None,
            )
            for r in load_rows(session, actions)
        ]


def second_group(ws: OfflineWorkspace) -> str:
    channel = ws.standin.add_channel("fresh-group")
    for command in [
        'setup name:"Fresh ECM Group" preset:lancashire',
        "member @sam district:chorley",
        "member @priya district:south-ribble",
        'member @dev org:"Lancashire Constabulary"',
    ]:
        assert not ws.command(command, channel=channel).is_error
    return channel


def import_through_form(
    ws: OfflineWorkspace, name: str, content: bytes, channel: str, user: str = "chair"
) -> Exchange:
    opened = ws.command("import", user=user, channel=channel)
    modal = ws.modal(user)
    assert modal is not None, opened.text
    assert modal.view["blocks"][1]["element"]["type"] == "file_input"
    shared = ws.standin.share_file(name, content, ws.user(user))
    return ws.submit(modal, {FILE_BLOCK: [shared]})


def confirm(ws: OfflineWorkspace, preview: Exchange, channel: str) -> Exchange:
    match = re.search(r"import confirm (\d+)", preview.text)
    assert match, preview.text
    return ws.click("ecm_run", f"import confirm {match.group(1)}", channel=channel)


def test_export_sends_the_register_and_it_imports_back_into_a_fresh_group(
    group: OfflineWorkspace, clock, engine: Engine
) -> None:
    build_plan(group, clock)
    out = group.command("export", user="sam")
    assert not out.is_error and "4 actions" in out.text
    assert group.standin.calls_to("conversations.open")
    files = {f.name: f for f in group.standin.uploaded_files(group.users["sam"])}
    xlsx = files["lancashire-ecm-task-group-register-2026-11-23.xlsx"]
    table = list(
        csv.reader(
            io.StringIO(
                (files["lancashire-ecm-task-group-register-2026-11-23.csv"].content or b"").decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert [row[1] for row in table[1:]] == [
        "Map youth provision",
        "Share missing-from-home protocol",
        "Joint safeguarding training",
        '\'=HYPERLINK("http://x")',
    ]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content or b""))
    assert book["Actions"]["F2"].value == datetime(2026, 11, 1)

    fresh = second_group(group)
    preview = import_through_form(group, xlsx.name, xlsx.content or b"", fresh)
    assert "4 rows* will be added" in preview.text and all(m.ephemeral for m in preview.messages)
    assert register_of(engine, fresh) == []  # nothing stored before the chair confirms
    done = confirm(group, preview, fresh)
    assert "imported *4 actions* (#1–#4)" in group.readable(done.text)
    assert register_of(engine, fresh) == register_of(engine, group.channel)
    with Session(engine) as session:
        verbs = [e.verb for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "action"))]
        assert verbs.count("imported") == 4

    # The same file again adds nothing.
    again = import_through_form(group, xlsx.name, xlsx.content or b"", fresh)
    assert "already imported" in again.text and "*0 rows* will be added" in again.text
    assert "import confirm" not in again.text.split("Or type")[0]
    assert len(register_of(engine, fresh)) == 4


def test_preview_names_each_unreadable_row_and_reads_heading_variants(
    group: OfflineWorkspace, engine: Engine
) -> None:
    content = xlsx_bytes(
        [
            ["Lancashire joint action plan"],
            [],
            [
                "Ref",
                "Action required",
                "Lead officer",
                "Lead agency",
                "Target date",
                "ECM outcome",
                "Area",
                "RAG status",
                "Progress",
                "Budget",
            ],
            [
                1,
                "Audit nurse referrals",
                "sam@example.org",
                "Chorley",
                "28/02/2027",
                "Be healthy",
                "Chorley",
                "Green",
                "Started",
            ],
            [2, "Map play areas", "", "", 46100, "Enjoy & Achieve", "all districts", "", ""],
            [3, "Youth forum", "sam", "", datetime(2027, 3, 31), "Positive contribution", "Chorly", "", ""],
            [4, "Safer routes", "Nobody Known", "", "", "safe", "Preston", "", ""],
            [5, "Budget line", "", "", "31/02/2027", "economic", "", "", ""],
            [6, "Health check", "", "", "", "Helthy", "", "purple", ""],
            [7, "", "", "", "", "", "", "", ""],
        ]
    )
    preview = import_through_form(group, "joint plan.xlsx", content, group.channel)
    text = group.readable(preview.text)
    assert "*2 rows* will be added" in text, text
    assert "row 6: unknown district “Chorly” — did you mean Chorley?" in text
    assert "row 7: unknown owner “Nobody Known”" in text
    assert "row 8: the due date “31/02/2027” is not a date I can read" in text
    # Every cell of a row that can't be read is named at once, so one fix-up of the file mends the row.
    assert "row 9: unknown outcome “Helthy” — did you mean Be Healthy?; unknown RAG “purple”" in text
    assert "Columns not used: “Budget”" in text
    assert group.standin.calls_to("users.lookupByEmail")
    assert register_of(engine, group.channel) == []
    confirm(group, preview, group.channel)
    rows = register_of(engine, group.channel)
    assert [r[1] for r in rows] == ["Audit nurse referrals", "Map play areas"]
    assert rows[0][2] == (group.users["sam"],) and rows[0][4] == date(2027, 2, 28) and rows[0][9] == "green"
    assert rows[1][4] == date(2026, 3, 19) and rows[1][6] is True  # Excel serial 46100; all districts
    assert rows[1][2] == (group.users["chair"],)  # no owner given: the chair who imported it


def test_a_row_with_several_faults_names_them_all_and_is_left_out(
    group: OfflineWorkspace, engine: Engine
) -> None:
    content = (
        b"Action,Owner,Due date,Outcome,District,Status\n"
        b"Map provision,nobody@example.org,31/02/2027,happy,Atlantis,finished-ish\n"
        b"Good row,,15/01/2027,Be Healthy,Preston,\n"
    )
    preview = import_through_form(group, "plan.csv", content, group.channel)
    text = group.readable(preview.text)
    assert "*1 row* will be added" in text, text
    (line,) = [ln for ln in text.splitlines() if ln.startswith("• row 2:")]
    for fault in [
        "no one in this Slack workspace has the e-mail address “nobody@example.org”",
        "the due date “31/02/2027” is not a date I can read",
        "unknown outcome “happy”",
        "unknown district “Atlantis”",
        "unknown status “finished-ish”",
    ]:
        assert fault in line, line
    confirm(group, preview, group.channel)
    assert [r[1] for r in register_of(engine, group.channel)] == ["Good row"]


def core_context(ws: OfflineWorkspace, user: str = "chair") -> Context:
    return Context(
        engine=ws.engine,
        clock=ws.clock,
        team_id=ws.standin.team_id,
        channel_id=ws.channel,
        user_id=ws.users.get(user) or ws.user(user),
    )


def _zip_with(name: str) -> bytes:
    base = xlsx_bytes([["Action"], ["One"]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            target.writestr(item, source.read(item))
        target.writestr(name, b"macro")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("plan.pdf", b"%PDF-1.4\x00\x01binary", "is not a spreadsheet I can read"),
        ("plan.csv", b"", "is empty"),
        ("plan.csv", b"\n\n", "is empty"),
        ("plan.csv", b"Owner,Due date\nsam,1/1/2027\n", "couldn't find the column of actions"),
        ("plan.csv", b"Action,Owner\n", "no actions under it"),
        ("plan.csv", b"Action,Due\nOne,=TODAY()+7\n", "has a formula on row 2"),
        (
            "plan.xlsx",
            xlsx_bytes([["Action", "Due"], ["One", "=TODAY()"]]),
            "has a formula in sheet “Plan”, cell B2",
        ),
        ("plan.xlsm", _zip_with("xl/vbaProject.bin"), "contains macros"),
        ("plan.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old-style Excel file"),
        ("big.csv", b"Action\n" + b"x" * (10 * 1024 * 1024), "the most I read is 10 MB"),
    ],
)
def test_bad_files_are_explained_and_store_nothing(
    group: OfflineWorkspace, engine: Engine, name: str, content: bytes, expected: str
) -> None:
    [reply] = start_from_form(core_context(group), name, content)
    assert reply.is_error and expected in reply.text, reply.text
    with Session(engine) as session:
        assert not list(session.exec(select(PlanImport)))
        assert not list(session.exec(select(Action)))


def test_bad_file_through_the_form_gets_a_clear_message(group: OfflineWorkspace) -> None:
    out = import_through_form(group, "notes.csv", b"Owner\nsam\n", group.channel)
    assert out.is_error and "couldn't find the column of actions" in out.text


def test_only_chairs_import_and_cancel_adds_nothing(group: OfflineWorkspace, engine: Engine) -> None:
    out = group.command("import", user="sam")
    assert out.is_error and "Only a chair" in out.text and group.modal("sam") is None
    preview = import_through_form(group, "plan.csv", b"Action,Owner\nOne,sam\n", group.channel)
    number = re.search(r"import confirm (\d+)", preview.text).group(1)  # type: ignore[union-attr]
    refused = group.click("ecm_run", f"import confirm {number}", user="sam")
    assert refused.is_error and "Only a chair" in refused.text
    group.click("ecm_run", f"import cancel {number}")
    late = group.click("ecm_run", f"import confirm {number}")
    assert late.is_error and "was cancelled" in late.text
    assert register_of(engine, group.channel) == []


def test_a_second_click_on_confirm_adds_nothing_twice(group: OfflineWorkspace, engine: Engine) -> None:
    preview = import_through_form(group, "plan.csv", b"Action,Owner\nOne,sam\nTwo,dev\n", group.channel)
    confirm(group, preview, group.channel)
    again = confirm(group, preview, group.channel)
    assert again.is_error and "already imported as #1–#2" in again.text
    assert len(register_of(engine, group.channel)) == 2


def test_cli_export_then_import_into_another_group(
    group: OfflineWorkspace,
    clock,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_plan(group, clock)
    fresh = second_group(group)
    monkeypatch.setenv("DATABASE_URL", database_url(engine))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert (
        cli_main(["export", "--channel", group.channel, "--out", str(tmp_path), "--as-of", "2026-11-23"]) == 0
    )
    exported = tmp_path / "lancashire-ecm-task-group-register-2026-11-23.csv"
    assert cli_main(["import", str(exported), "--channel", fresh, "--as-of", "2026-11-23"]) == 0
    assert "4 rows will be added" in capsys.readouterr().out
    assert register_of(engine, fresh) == []  # no --yes, no terminal: nothing added
    assert cli_main(["import", str(exported), "--channel", fresh, "--yes", "--as-of", "2026-11-23"]) == 0
    assert "imported 4 actions" in capsys.readouterr().out
    assert register_of(engine, fresh) == register_of(engine, group.channel)
    assert cli_main(["import", str(tmp_path / "missing.csv"), "--channel", fresh]) == 2


def test_confirm_adds_all_rows_or_none(group: OfflineWorkspace, engine: Engine) -> None:
    preview = import_through_form(
        group, "plan.csv", b"Action,Owner\nOne,sam\nTwo,dev\nThree,sam\n", group.channel
    )
    with Session(engine) as session:
        pending = session.exec(select(PlanImport)).one()
        rows = [dict(r) for r in pending.rows]
        rows[2]["title"] = ""  # a row that can no longer be added (as if the plan changed under it)
        pending.rows = rows
        session.add(pending)
        session.commit()
    out = confirm(group, preview, group.channel)
    assert out.is_error and "Row 4 could not be added" in out.text and "nothing was imported" in out.text
    assert register_of(engine, group.channel) == []
    with Session(engine) as session:
        assert session.exec(select(PlanImport)).one().status == "pending"


def test_console_imports_a_file_through_the_form(
    group: OfflineWorkspace, engine: Engine, tmp_path: Path
) -> None:
    from bot.console import run_lines

    plan = tmp_path / "plan.csv"
    plan.write_text("Action,Owner,Due date\nAudit referrals,sam,28/02/2027\n", encoding="utf-8")
    out = io.StringIO()
    run_lines(group, ["import", f"submit plan_file={plan}"], "chair", out)
    text = out.getvalue()
    assert "[Import an action plan]" in text and "1 row* will be added" in text, text
    run_lines(group, ["import confirm 1"], "chair", out)
    assert [r[1] for r in register_of(engine, group.channel)] == ["Audit referrals"]
