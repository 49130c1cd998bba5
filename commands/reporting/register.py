"""The register's columns: what export writes, the report's workbook and CSV list, and import reads back."""

from __future__ import annotations

from datetime import date
from typing import Any

from commands.names import OUTCOME_NAMES
from commands.reporting.model import RAG_NAMES, STATUS_NAMES, ReportAction

ALL_DISTRICTS = "All districts"
LIST_SEPARATOR = "; "

# (heading, width in characters) in the order written.
COLUMNS: list[tuple[str, int]] = [
    ("Ref", 6),
    ("Action", 60),
    ("Owners", 24),
    ("Owner IDs", 14),
    ("Organisation", 28),
    ("Due date", 12),
    ("Outcomes", 30),
    ("Districts", 28),
    ("Status", 12),
    ("RAG", 10),
    ("Notes", 60),
    ("Created", 12),
    ("Completed", 12),
    ("Decision", 9),
]
HEADINGS = [name for name, _width in COLUMNS]


def register_values(a: ReportAction) -> list[Any]:
    """One row, in COLUMNS order; dates stay dates (the workbook writes date cells, CSV writes dd/mm/yyyy)."""
    return [
        a.number,
        a.title,
        LIST_SEPARATOR.join(a.owner_names),
        LIST_SEPARATOR.join(a.owners),
        a.organisation,
        a.due,
        LIST_SEPARATOR.join(OUTCOME_NAMES[o] for o in a.outcomes),
        ALL_DISTRICTS if a.countywide else LIST_SEPARATOR.join(a.districts),
        STATUS_NAMES[a.status],
        RAG_NAMES[a.rag] if a.rag else "",
        "\n".join(a.notes),
        a.created,
        a.completed,
        a.decision or "",
    ]


def text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)
