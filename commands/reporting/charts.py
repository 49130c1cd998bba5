"""The report's charts as PNG (matplotlib, headless): actions by outcome and status, attendance by organisation."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on servers; must come before pyplot

from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from commands.reporting.model import STATUS_NAMES, Report  # noqa: E402
from commands.text import truncate  # noqa: E402

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100  # 800 x 450 pixels
STATUS_COLOURS = {
    "Open": "#9e9e9e",
    "In progress": "#1d5c8a",
    "Blocked": "#c0392b",
    "Done": "#2e8b57",
    "Dropped": "#d9d9d9",
}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def actions_chart(report: Report) -> bytes:
    """A stacked bar per outcome: how many actions in each status."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    labels = [truncate(s.name, 22) for s in report.sections]
    bottoms = [0] * len(report.sections)
    for status in STATUS_NAMES.values():
        values = [s.by_status.get(status, 0) for s in report.sections]
        ax.barh(labels, values, left=bottoms, label=status, color=STATUS_COLOURS[status])
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("Actions")
    ax.set_title(f"Actions by outcome and status, {report.period_text}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def attendance_chart(report: Report, most: int = 20) -> bytes:
    """A stacked bar per organisation: meetings represented, apologies, absent (cancelled never count)."""
    rows = report.attendance[:most]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    labels = [truncate(r.organisation, 28) for r in rows]
    represented = [r.represented for r in rows]
    apologies = [r.apologies for r in rows]
    absent = [r.absent for r in rows]
    ax.barh(labels, represented, label="Represented", color="#2e8b57")
    ax.barh(labels, apologies, left=represented, label="Apologies", color="#f0a500")
    ax.barh(
        labels,
        absent,
        left=[a + b for a, b in zip(represented, apologies, strict=True)],
        label="Absent",
        color="#c0392b",
    )
    ax.invert_yaxis()
    ax.set_xlabel(f"Meetings (of {report.meetings_held} held)")
    ax.set_title(f"Attendance by organisation, {report.period_text}")
    if rows:
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "No meetings held in the period", ha="center", va="center", transform=ax.transAxes)
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return _png(fig)
