"""The report as a Word document in the shape of a committee paper: purpose, period, progress by outcome
(tables), district involvement, decisions, attendance and the charts."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from docx import Document
from docx.document import Document as DocumentType
from docx.shared import Inches, Pt

from commands.reporting.model import Report, ReportAction, overdue_text, uk_date
from commands.text import plural, truncate

# A committee paper lists at most this many actions per table; the workbook has every one.
MAX_TABLE_ROWS = 40
NOTE_LIMIT = 600


def _lead(a: ReportAction) -> str:
    return a.organisation or ", ".join(a.owner_names) or "—"


def _table(doc: DocumentType, headings: Sequence[str], rows: Sequence[Sequence[str]], total: int) -> None:
    table = doc.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, headings, strict=True):
        cell.text = heading
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    if total > len(rows):
        doc.add_paragraph(f"… and {total - len(rows)} more (every action is in the workbook).")


def _action_table(
    doc: DocumentType,
    caption: str,
    actions: Sequence[ReportAction],
    headings: Sequence[str],
    values: Callable[[ReportAction], Sequence[str]],
) -> None:
    doc.add_paragraph(f"{caption} ({len(actions)})", style="Heading 3")
    if not actions:
        doc.add_paragraph("None in this period.")
        return
    _table(doc, headings, [values(a) for a in actions[:MAX_TABLE_ROWS]], len(actions))


def report_docx(report: Report, charts: dict[str, bytes]) -> bytes:
    doc: Any = Document()
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading(f"{report.group_name}: progress report", level=0)
    doc.add_paragraph(
        f"Period: {report.period_text}. Prepared {uk_date(report.made_at.date())} from the task group's "
        "action plan."
    )

    doc.add_heading("1. Purpose of report", level=1)
    since_last = (
        f"since the last report on {uk_date(report.previous_report)}"
        if report.previous_report
        else f"since {uk_date(report.since)}"
    )
    doc.add_paragraph(
        "To update the Board on consolidated action by the task group and its partners against each of the "
        f"Every Child Matters outcomes {since_last}."
    )
    scope = []
    if report.outcome_filter:
        scope.append(f"the outcome {report.sections[0].name}" if report.sections else "one outcome")
    if report.district_filter:
        scope.append(f"actions involving {report.district_filter}")
    if scope:
        doc.add_paragraph("This report is limited to " + " and ".join(scope) + ".")

    totals = report.totals()
    doc.add_heading("2. Period and summary", level=1)
    doc.add_paragraph(
        f"This report covers {report.period_text}. In the period: {plural(totals['completed'], 'action')} "
        f"completed, {totals['progress']} reporting progress and {totals['new']} added. "
        f"{plural(totals['live'], 'action')} open, {totals['overdue']} of them overdue (as at "
        f"{uk_date(report.as_of)}). {plural(len(report.decisions), 'decision')} recorded at "
        f"{plural(report.meetings_held, 'meeting')}."
    )

    doc.add_heading("3. Progress by outcome", level=1)
    for n, section in enumerate(report.sections, start=1):
        doc.add_heading(f"3.{n} {section.name}", level=2)
        rag = ", ".join(f"{count} {name.lower()}" for name, count in section.rag.items() if count)
        doc.add_paragraph(
            f"{plural(section.live, 'open action')}" + (f" (RAG: {rag})" if rag else "") + "; "
            f"{len(section.completed)} completed, {len(section.new)} new and {len(section.overdue)} overdue "
            "in the period."
        )
        _action_table(
            doc,
            "Completed",
            section.completed,
            ["Ref", "Action", "Lead", "Completed", "Closing note"],
            lambda a: [
                f"#{a.number}",
                a.title,
                _lead(a),
                uk_date(a.completed) if a.completed else "",
                truncate(a.closing_note or "", NOTE_LIMIT),
            ],
        )
        _action_table(
            doc,
            "Progress made",
            section.progress,
            ["Ref", "Action", "Lead", "Latest update"],
            lambda a: [
                f"#{a.number}",
                a.title,
                _lead(a),
                truncate(a.latest_note or "", NOTE_LIMIT)
                + (f" ({uk_date(a.latest_note_on)})" if a.latest_note_on else ""),
            ],
        )
        _action_table(
            doc,
            "New actions",
            section.new,
            ["Ref", "Action", "Lead", "Due", "Districts"],
            lambda a: [f"#{a.number}", a.title, _lead(a), uk_date(a.due) if a.due else "—", a.district_text],
        )
        _action_table(
            doc,
            "Overdue",
            section.overdue,
            ["Ref", "Action", "Lead", "Due", "Overdue by"],
            lambda a: [
                f"#{a.number}",
                a.title,
                _lead(a),
                uk_date(a.due) if a.due else "",
                overdue_text(a.days_overdue),
            ],
        )
        if section.districts_without:
            doc.add_paragraph(
                "Districts with no action under this outcome: " + ", ".join(section.districts_without) + "."
            )

    doc.add_heading("4. District involvement", level=1)
    if report.districts:
        _table(
            doc,
            ["District", "Leads", "Takes part in", "All-district actions", "Outcomes with no action"],
            [
                [
                    d.name,
                    _numbers(d.leads),
                    _numbers(d.takes_part),
                    str(d.all_district),
                    ", ".join(d.outcomes_without) or "—",
                ]
                for d in report.districts
            ],
            len(report.districts),
        )
    else:
        doc.add_paragraph("The task group has no districts.")
    doc.add_paragraph(
        f"Carried on an all-district basis ({len(report.all_district)}): "
        + (_titles(report.all_district) or "none")
        + "."
    )
    doc.add_paragraph(
        f"Carried on a multi-district basis ({len(report.multi_district)}): "
        + (_titles(report.multi_district, with_districts=True) or "none")
        + "."
    )

    doc.add_heading("5. Decisions", level=1)
    if report.decisions:
        _table(
            doc,
            ["Ref", "Date", "Decision", "Status"],
            [[f"D{d.number}", uk_date(d.on), d.text, d.status] for d in report.decisions[:MAX_TABLE_ROWS]],
            len(report.decisions),
        )
    else:
        doc.add_paragraph("No decisions were recorded in the period.")

    doc.add_heading("6. Attendance", level=1)
    doc.add_paragraph(
        f"{plural(report.meetings_held, 'meeting')} held in the period"
        + (
            f" ({report.meetings_cancelled} cancelled meetings are not counted)"
            if report.meetings_cancelled
            else ""
        )
        + ". For each organisation: the meetings it was represented at, sent apologies to, or was absent from."
    )
    if report.attendance:
        _table(
            doc,
            ["Organisation", "Meetings held", "Represented", "Apologies", "Absent"],
            [
                [r.organisation, str(r.held), str(r.represented), str(r.apologies), str(r.absent)]
                for r in report.attendance
            ],
            len(report.attendance),
        )

    doc.add_heading("7. Charts", level=1)
    for title, png in charts.items():
        doc.add_paragraph(title)
        doc.add_picture(io.BytesIO(png), width=Inches(6.0))

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _numbers(numbers: Sequence[int], most: int = 40) -> str:
    text = ", ".join(f"#{n}" for n in numbers[:most])
    if len(numbers) > most:
        text += f" and {len(numbers) - most} more"
    return text or "—"


def _titles(actions: Sequence[ReportAction], *, with_districts: bool = False, most: int = 30) -> str:
    parts = [
        f"#{a.number} {truncate(a.title, 80)}" + (f" ({', '.join(a.districts)})" if with_districts else "")
        for a in actions[:most]
    ]
    if len(actions) > most:
        parts.append(f"and {len(actions) - most} more")
    return "; ".join(parts)
