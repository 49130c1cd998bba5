"""The report and the register as an Excel workbook (openpyxl): every action field, dates as real date cells
shown dd/mm/yyyy, a sheet per outcome, attendance and decisions. Text is always written as text, so a cell
starting with `=`, `+`, `-` or `@` is never run as a formula."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from commands.reporting.cells import FORMULA_STARTS
from commands.reporting.model import RAG_NAMES, STATUS_NAMES, Report, ReportAction, overdue_text
from commands.reporting.register import COLUMNS, register_values

DATE_FORMAT = "dd/mm/yyyy"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = _BAD_SHEET_CHARS.sub("-", name)[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


class _Sheets:
    def __init__(self) -> None:
        self.book = Workbook(write_only=True)
        self.taken: set[str] = set()

    def sheet(self, name: str, columns: Sequence[tuple[str, int]]) -> WriteOnlyWorksheet:
        ws = self.book.create_sheet(sheet_title(name, self.taken))
        for index, (_heading, width) in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = "A2"
        bold = Font(bold=True)
        ws.append([self.cell(ws, heading, font=bold) for heading, _width in columns])
        return ws

    @staticmethod
    def cell(ws: WriteOnlyWorksheet, value: Any, font: Font | None = None) -> Any:
        if value is None or isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, date):
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        text = str(value)
        if font is None and not text.startswith(FORMULA_STARTS) and "\n" not in text:
            return text
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"  # text, whatever it starts with: never a formula
        if font is not None:
            cell.font = font
        if "\n" in text:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell

    def row(self, ws: WriteOnlyWorksheet, values: Sequence[Any]) -> None:
        ws.append([self.cell(ws, v) for v in values])

    def save(self) -> bytes:
        out = io.BytesIO()
        self.book.save(out)
        return out.getvalue()


def _actions_sheet(sheets: _Sheets, name: str, actions: Sequence[ReportAction]) -> None:
    ws = sheets.sheet(name, COLUMNS)
    for a in actions:
        sheets.row(ws, register_values(a))


def register_xlsx(actions: Sequence[ReportAction], sheet_name: str = "Actions") -> bytes:
    """The whole register on one sheet, in the columns import reads."""
    sheets = _Sheets()
    _actions_sheet(sheets, sheet_name, actions)
    return sheets.save()


def report_xlsx(report: Report) -> bytes:
    sheets = _Sheets()
    summary = sheets.sheet(
        "Summary",
        [
            ("Outcome", 32),
            ("Completed in period", 12),
            ("Progress reported", 12),
            ("New", 8),
            ("Overdue", 9),
            ("Open", 8),
            ("Red", 6),
            ("Amber", 7),
            ("Green", 7),
            ("Not rated", 9),
            ("Districts with no action", 40),
        ],
    )
    for s in report.sections:
        sheets.row(
            summary,
            [
                s.name,
                len(s.completed),
                len(s.progress),
                len(s.new),
                len(s.overdue),
                s.live,
                s.rag.get("Red", 0),
                s.rag.get("Amber", 0),
                s.rag.get("Green", 0),
                s.rag.get("Not rated", 0),
                ", ".join(s.districts_without),
            ],
        )
    sheets.row(summary, [])
    sheets.row(summary, [f"{report.group_name}: {report.period_text}"])

    _actions_sheet(sheets, "Actions", report.actions)
    # A sheet per outcome: the Board's view of each action there (every field is on the Actions sheet).
    outcome_columns = [
        ("Ref", 6),
        ("Action", 60),
        ("Owners", 24),
        ("Organisation", 28),
        ("Due date", 12),
        ("Status", 12),
        ("RAG", 10),
        ("Districts", 28),
        ("In period", 22),
        ("Closing note or latest update", 60),
        ("Overdue by", 12),
    ]
    for s in report.sections:
        ws = sheets.sheet(s.name, outcome_columns)
        completed = {a.number for a in s.completed}
        new = {a.number for a in s.new}
        for a in s.actions:
            done_here = a.number in completed
            flags = [w for w, on in (("completed", done_here), ("new", a.number in new)) if on]
            if a.latest_note and not done_here:
                flags.append("progress")
            sheets.row(
                ws,
                [
                    a.number,
                    a.title,
                    "; ".join(a.owner_names),
                    a.organisation,
                    a.due,
                    STATUS_NAMES[a.status],
                    RAG_NAMES[a.rag] if a.rag else "",
                    a.district_text,
                    ", ".join(flags),
                    a.closing_note if done_here else a.latest_note,
                    overdue_text(a.days_overdue) if a.days_overdue else "",
                ],
            )

    districts = sheets.sheet(
        "Districts",
        [
            ("District", 24),
            ("Leads", 40),
            ("Takes part in", 40),
            ("All-district actions", 12),
            ("Outcomes with no action", 60),
        ],
    )
    for d in report.districts:
        sheets.row(
            districts,
            [
                d.name,
                ", ".join(f"#{n}" for n in d.leads),
                ", ".join(f"#{n}" for n in d.takes_part),
                d.all_district,
                ", ".join(d.outcomes_without),
            ],
        )

    decisions = sheets.sheet(
        "Decisions", [("Ref", 6), ("Date", 12), ("Decision", 80), ("Status", 10), ("Meeting", 30)]
    )
    for dec in report.decisions:
        sheets.row(decisions, [f"D{dec.number}", dec.on, dec.text, dec.status, dec.meeting or ""])

    attendance = sheets.sheet(
        "Attendance",
        [("Organisation", 40), ("Meetings held", 10), ("Represented", 12), ("Apologies", 10), ("Absent", 8)],
    )
    for r in report.attendance:
        sheets.row(attendance, [r.organisation, r.held, r.represented, r.apologies, r.absent])
    return sheets.save()
