"""Cell text that spreadsheets never run (CSV/formula injection), and its reverse for import."""

from __future__ import annotations

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (tab and CR too,
# since some programs strip them first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """`=HYPERLINK(...)` -> `'=HYPERLINK(...)`: shown as typed, never evaluated."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def uninert(text: str) -> str:
    """The text `inert` was given (for reading our own exports back)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
