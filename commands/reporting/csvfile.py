"""The actions as CSV (UTF-8 with a BOM so Excel reads accents), formula-safe."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from commands.reporting.cells import inert
from commands.reporting.model import ReportAction
from commands.reporting.register import HEADINGS, register_values, text_value


def actions_csv(actions: Sequence[ReportAction]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    for a in actions:
        writer.writerow([inert(text_value(v)) for v in register_values(a)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
