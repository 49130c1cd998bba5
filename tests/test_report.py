"""`/ecm report` and `ecm-bot report`: the summary in the channel and the files, checked against the data."""

from __future__ import annotations

import csv
import io
import struct
from datetime import date, datetime, timedelta
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from bot.cli import main as cli_main
from bot.offline import OfflineWorkspace
from bot.standin import StoredFile
from storage.clock import FixedClock
from storage.models import AuditEvent, ReportRun
from tests.conftest import Core, london, prepare
from tests.support import ok


def database_url(engine: Engine) -> str:
    """The test database's URL for a CLI process (on PostgreSQL, with this session's private schema)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    return url


def build_plan(ws: OfflineWorkspace | Core, clock: FixedClock) -> None:
    """Six months of a task group's work: actions under several outcomes, notes, a completion, meetings.
    Through the core (the tests look at the report that follows, not at these replies)."""

    def run(command: str, user: str = "chair") -> None:
        if isinstance(ws, Core):
            ok(ws.command(command, user=user))
        else:
            prepare(ws, command, user=user)

    clock.set(london(2026, 9, 1, 10, 0))
    for command in [
        "add Map youth provision @sam due:1/11/2026 outcome:enjoy district:chorley",
        'add Share missing-from-home protocol @dev due:30/11/2026 outcome:safe district:all org:"Lancashire Constabulary"',
        "add Joint safeguarding training @priya outcome:safe,healthy district:chorley,south-ribble",
        'add =HYPERLINK("http://x") @dev outcome:economic district:preston',
    ]:
        run(command)
    clock.set(london(2026, 10, 5, 10, 0))
    run('update 1 "Half the wards mapped" rag:amber', user="sam")
    run('done 2 "Protocol agreed by all partners"', user="dev")
    run('update 3 "Trainers booked" rag:green', user="priya")
    clock.set(london(2026, 10, 14, 10, 0))
    run("meeting start")
    run("present @sam")
    run("apologies @dev")
    run('decide "Adopt the countywide play strategy"')
    run("meeting end")
    clock.set(london(2026, 11, 11, 10, 0))
    run("meeting start")
    run('meeting cancel "Room unavailable"')
    clock.set(london(2026, 11, 23, 9, 30))
    if isinstance(ws, OfflineWorkspace):
        ws.standin.reset()


def uploaded(ws: OfflineWorkspace, suffix: str) -> StoredFile:
    found = [f for f in ws.standin.uploaded_files(ws.channel) if f.name.endswith(suffix)]
    assert len(found) == 1, [f.name for f in ws.standin.uploaded_files()]
    assert found[0].content is not None
    return found[0]


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def test_report_posts_summary_and_uploads_files_built_from_the_data(
    group: OfflineWorkspace, clock: FixedClock
) -> None:
    build_plan(group, clock)
    out = group.command("report since:1/9/2026", user="chair")
    assert not out.is_error, out.text
    [post] = out.posted
    summary = group.readable(out.text)
    assert "01/09/2026 to 23/11/2026" in summary
    assert "*Stay Safe* — 1 completed" in summary
    assert "#2 Share missing-from-home protocol" in summary
    assert "#1 Map youth provision (longest 16 working days)" in summary  # due Sun 1 Nov; 23 Nov
    # The upload flow went through Slack's three steps, and the files landed in the channel.
    methods = [c.method for c in group.standin.calls if c.method.startswith("files.")]
    assert methods.count("files.getUploadURLExternal") == methods.count("files.upload") == 5
    assert methods[-1] == "files.completeUploadExternal"
    stem = "lancashire-ecm-task-group-report-2026-09-01-to-2026-11-23"
    assert sorted(f.name for f in group.standin.uploaded_files(group.channel)) == sorted(
        [
            f"{stem}.docx",
            f"{stem}.xlsx",
            f"{stem}-actions.csv",
            f"{stem}-actions-chart.png",
            f"{stem}-attendance-chart.png",
        ]
    )

    document = docx.Document(io.BytesIO(uploaded(group, ".docx").content or b""))
    text = "\n".join(p.text for p in document.paragraphs)
    for heading in ["1. Purpose of report", "2. Period and summary", "3. Progress by outcome",
                    "4. District involvement", "5. Decisions", "6. Attendance", "7. Charts"]:  # fmt: skip
        assert heading in text
    assert "This report covers 01/09/2026 to 23/11/2026" in text
    cells = [[c.text for c in row.cells] for table in document.tables for row in table.rows]
    assert ["#2", "Share missing-from-home protocol", "Lancashire Constabulary", "05/10/2026",
            "Protocol agreed by all partners"] in cells  # fmt: skip
    assert ["#1", "Map youth provision", "Chorley", "01/11/2026", "16 working days"] in cells
    assert ["#3", "Joint safeguarding training", "South Ribble", "Trainers booked (05/10/2026)"] in cells
    assert ["D1", "14/10/2026", "Adopt the countywide play strategy", "agreed"] in cells
    # Attendance counts one held meeting (the cancelled one never counts): Chorley there, the police sent apologies.
    assert ["Chorley", "1", "1", "0", "0"] in cells
    assert ["Lancashire Constabulary", "1", "0", "1", "0"] in cells
    assert "1 meeting held in the period (1 cancelled meetings are not counted)" in text
    assert len(document.inline_shapes) == 2

    book = openpyxl.load_workbook(io.BytesIO(uploaded(group, ".xlsx").content or b""))
    assert book.sheetnames[:2] == ["Summary", "Actions"]
    assert {
        "Be Healthy",
        "Stay Safe",
        "Enjoy and Achieve",
        "Achieve Economic Well-being",
        "Attendance",
    } <= set(book.sheetnames)
    rows = list(book["Actions"].iter_rows(values_only=True))
    assert rows[0][:6] == ("Ref", "Action", "Owners", "Owner IDs", "Organisation", "Due date")
    assert [r[0] for r in rows[1:]] == [1, 2, 3, 4]
    due_cell = book["Actions"]["F2"]
    assert due_cell.value == datetime(2026, 11, 1) and due_cell.number_format == "dd/mm/yyyy"
    assert book["Actions"]["M3"].value == datetime(2026, 10, 5)  # completed
    safe = [r[0] for r in book["Stay Safe"].iter_rows(min_row=2, values_only=True)]
    assert safe == [2, 3]
    attendance = {r[0]: r[1:] for r in book["Attendance"].iter_rows(min_row=2, values_only=True)}
    assert attendance["Chorley"] == (1, 1, 0, 0)
    # Formula injection: the title is stored as text, never as a formula.
    formula_like = book["Actions"]["B5"]
    assert formula_like.value == '=HYPERLINK("http://x")' and formula_like.data_type == "s"

    table = list(csv.reader(io.StringIO((uploaded(group, ".csv").content or b"").decode("utf-8-sig"))))
    assert table[0][0] == "Ref" and len(table) == 5
    assert table[4][1] == '\'=HYPERLINK("http://x")'
    assert table[1][5] == "01/11/2026"

    for suffix in ("-actions-chart.png", "-attendance-chart.png"):
        assert png_size(uploaded(group, suffix).content or b"") == (800, 450)
    assert post.blocks


def test_since_defaults_to_the_previous_report_then_six_months(core: Core, clock: FixedClock) -> None:
    out = core.command("report format:csv", user="chair")
    assert "23/05/2026 to 23/11/2026" in out.text
    again = core.command("report format:csv", user="chair")  # a correction the same day: the same period
    assert "23/05/2026 to 23/11/2026" in again.text
    clock.advance(timedelta(days=30))
    out = core.command("report format:csv", user="chair")
    assert "23/11/2026 to 23/12/2026" in out.text, out.text
    with Session(core.engine) as session:
        runs = list(session.exec(select(ReportRun).order_by(ReportRun.id)))
        assert [(r.period_from, r.period_to) for r in runs] == [
            (date(2026, 5, 23), date(2026, 11, 23)),
            (date(2026, 5, 23), date(2026, 11, 23)),
            (date(2026, 11, 23), date(2026, 12, 23)),
        ]
        events = list(session.exec(select(AuditEvent).where(AuditEvent.entity == "report")))
        assert len(events) == 3 and all(e.verb == "reported" for e in events)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("report format:pdf", "is not a report format"),
        ("report since:1/12/2026", "in the future"),
        ("report since:1/11/2026 until:1/10/2026", "starts (01/11/2026) after it ends"),
        ("report outcome:safty", "Did you mean *Stay Safe*"),
        ("report district:chorly", "Did you mean *Chorley*"),
        ("report everything", "I don't understand"),
    ],
)
def test_bad_options_explain_and_record_nothing(core: Core, command: str, expected: str) -> None:
    out = core.command(command, user="chair")
    assert out.is_error and expected in out.text, out.text
    assert not any(r.files for r in out.messages)  # nothing to upload
    with Session(core.engine) as session:
        assert not list(session.exec(select(ReportRun)))


def test_only_chairs_report(core: Core) -> None:
    out = core.command("report", user="sam")
    assert out.is_error and "Only a chair" in out.text
    with Session(core.engine) as session:
        assert not list(session.exec(select(ReportRun)))


def test_outcome_and_district_narrow_the_report(core: Core, clock: FixedClock) -> None:
    build_plan(core, clock)
    out = core.command("report since:1/9/2026 outcome:safe district:south-ribble format:xlsx", user="chair")
    assert not out.is_error, out.text
    assert "*Stay Safe*" in out.text and "*Be Healthy*" not in out.text
    files = [f for r in out.messages for f in r.files]
    [workbook] = [f for f in files if f.filename.endswith(".xlsx")]
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    # #2 is all-district (South Ribble takes part), #3 names South Ribble; #1 (Chorley only) is out.
    assert [r[0] for r in book["Actions"].iter_rows(min_row=2, values_only=True)] == [2, 3]
    assert not [f for f in files if f.filename.endswith(".docx")]


def test_upload_failure_is_explained_and_the_summary_still_posts(group: OfflineWorkspace) -> None:
    group.standin.inject("files.getUploadURLExternal", error="missing_scope")
    out = group.command("report format:csv", user="chair")
    assert out.posted
    assert "couldn't attach the files" in out.text and "missing_scope" in out.text


def test_cli_report_writes_the_same_files(
    group: OfflineWorkspace,
    clock: FixedClock,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_plan(group, clock)
    monkeypatch.setenv("DATABASE_URL", database_url(engine))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    code = cli_main(
        [
            "report",
            "--channel",
            group.channel,
            "--since",
            "1/9/2026",
            "--out",
            str(tmp_path),
            "--as-of",
            "2026-11-23",
        ]
    )
    assert code == 0
    stem = "lancashire-ecm-task-group-report-2026-09-01-to-2026-11-23"
    assert (tmp_path / f"{stem}.docx").exists() and (tmp_path / f"{stem}-attendance-chart.png").exists()
    book = openpyxl.load_workbook(tmp_path / f"{stem}.xlsx")
    assert [r[1] for r in book["Actions"].iter_rows(min_row=2, max_row=2, values_only=True)] == [
        "Map youth provision"
    ]
    assert cli_main(["report", "--channel", "CNOPE", "--out", str(tmp_path)]) == 2


def test_console_shows_the_uploaded_files(group: OfflineWorkspace) -> None:
    from bot.console import run_lines

    out = io.StringIO()
    assert run_lines(group, ["report format:csv"], "chair", out) == 0
    text = out.getvalue()
    assert "📎 lancashire-ecm-task-group-report-2026-05-23-to-2026-11-23-actions.csv" in text
    assert "uploaded to #ecm-task-group" in text


def test_cli_draft_report_is_not_recorded_and_a_real_one_is(
    group: OfflineWorkspace,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url(engine))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    argv = [
        "report",
        "--channel",
        group.channel,
        "--format",
        "csv",
        "--out",
        str(tmp_path),
        "--as-of",
        "2026-11-23",
    ]

    def recorded() -> int:
        with Session(engine) as session:
            return len(list(session.exec(select(ReportRun))))

    assert cli_main([*argv, "--draft"]) == 0
    assert recorded() == 0 and "Recorded" not in capsys.readouterr().out
    assert cli_main(argv) == 0
    assert recorded() == 1 and "Recorded as a report made." in capsys.readouterr().out


def test_the_summary_names_the_districts_leading_actions_most_first(core: Core, clock: FixedClock) -> None:
    clock.set(london(2026, 11, 2, 10, 0))
    for command in [
        "add Audit play areas org:Preston district:preston",
        "add Map youth provision org:Chorley district:chorley",
        "add Preston holiday clubs org:Preston district:preston",
        "add County strategy district:all",
    ]:
        ok(core.command(command, user="chair"))
    out = core.command("report since:1/11/2026", user="chair")
    assert not out.is_error, out.text
    assert (
        "Led by district councils: Preston (2), Chorley (1)" in out.text
    )  # Chorley is first in order, out.text
