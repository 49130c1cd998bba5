"""The one way a typed number is read: ASCII digits only, a bounded count of them, within given limits.

`str.isdigit()` is true for "²" and "１" (which `int()` then rejects or reads), and `int()` accepts any
length, so a database id or a loop bound could overflow. Every verb reads numbers through here and refuses
anything else with its own clear message.
"""

from __future__ import annotations

import re

MAX_DIGITS = 9  # fits every integer column (PostgreSQL INTEGER is 2**31 - 1) with room to spare
_ASCII_NUMBER = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")


def whole_number(text: str, low: int = 0, high: int = 10**MAX_DIGITS - 1) -> int | None:
    """`text` (surrounding spaces ignored) as an int from `low` to `high`; None if it is anything else."""
    stripped = text.strip()
    if not _ASCII_NUMBER.fullmatch(stripped):
        return None
    number = int(stripped)
    return number if low <= number <= high else None


def is_number(text: str) -> bool:
    """True for text made only of ASCII digits (of any length): a number, maybe out of range."""
    stripped = text.strip()
    return bool(stripped) and stripped.isascii() and stripped.isdigit()
