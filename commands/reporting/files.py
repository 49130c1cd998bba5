"""Builds the report's files from the one view model, named after the group and the period."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from commands.replies import Attachment
from commands.reporting.csvfile import actions_csv
from commands.reporting.model import Report, ReportAction

FORMATS = ("docx", "xlsx", "csv")


def report_files(report: Report, formats: Collection[str] = FORMATS) -> list[Attachment]:
    """The document, workbook and CSV asked for, then the two charts (always: they go with the summary)."""
    # matplotlib, python-docx and openpyxl take a second or more to import: only when a report is made, not
    # whenever a process starts and loads the verbs.
    from commands.reporting.charts import actions_chart, attendance_chart
    from commands.reporting.word import report_docx
    from commands.reporting.workbook import report_xlsx

    stem = report.file_stem
    charts = {
        "Actions by outcome and status": actions_chart(report),
        "Attendance by organisation": attendance_chart(report),
    }
    files: list[Attachment] = []
    if "docx" in formats:
        files.append(
            Attachment(f"{stem}.docx", report_docx(report, charts), f"{report.group_name} report (Word)")
        )
    if "xlsx" in formats:
        files.append(Attachment(f"{stem}.xlsx", report_xlsx(report), f"{report.group_name} report (Excel)"))
    if "csv" in formats:
        files.append(
            Attachment(
                f"{stem}-actions.csv", actions_csv(report.actions), f"{report.group_name} actions (CSV)"
            )
        )
    files.append(
        Attachment(
            f"{stem}-actions-chart.png",
            charts["Actions by outcome and status"],
            "Actions by outcome and status",
        )
    )
    files.append(
        Attachment(
            f"{stem}-attendance-chart.png", charts["Attendance by organisation"], "Attendance by organisation"
        )
    )
    return files


def export_files(
    group_slug: str, on: str, actions: Sequence[ReportAction], formats: Collection[str] = ("xlsx", "csv")
) -> list[Attachment]:
    """The whole register, in the columns import reads: `GROUP-register-2026-12-01.xlsx` and `.csv`."""
    from commands.reporting.workbook import register_xlsx

    stem = f"{group_slug or 'task-group'}-register-{on}"
    files = []
    if "xlsx" in formats:
        files.append(Attachment(f"{stem}.xlsx", register_xlsx(actions), "Action register (Excel)"))
    if "csv" in formats:
        files.append(Attachment(f"{stem}.csv", actions_csv(actions), "Action register (CSV)"))
    return files
