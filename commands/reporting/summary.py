"""The report's summary for the channel: plain reply data (bot.render makes the Block Kit), a few lines per
outcome and the headline figures. The files hold everything; this stays well inside Slack's limits."""

from __future__ import annotations

from commands.mrkdwn import Mrkdwn, bold, md
from commands.replies import Reply, Section, Visibility
from commands.reporting.model import Report, ReportAction, overdue_text
from commands.text import plural, truncate

PER_LIST = 3  # actions named under each outcome; the rest are counted
TITLE_LIMIT = 90


def _named(actions: list[ReportAction], extra: str = "") -> Mrkdwn:
    shown = Mrkdwn(", ").join(
        md("#{} {}", a.number, truncate(a.title, TITLE_LIMIT)) for a in actions[:PER_LIST]
    )
    more = f" and {len(actions) - PER_LIST} more" if len(actions) > PER_LIST else ""
    return shown + more + extra  # `more` and `extra` are plain text, escaped by the `+`


def summary_reply(report: Report, file_names: list[str]) -> Reply:
    totals = report.totals()
    lines = [
        md("*{}*: progress report for {}.", report.group_name, report.period_text),
        f"{plural(totals['completed'], 'action')} completed, {totals['progress']} with progress reported, "
        f"{totals['new']} new; {totals['live']} open, {totals['overdue']} overdue (at {report.as_of.strftime('%d/%m/%Y')}).",
    ]
    sections = [Section("\n".join(lines))]
    for s in report.sections:
        rag = " · ".join(f"{count} {name.lower()}" for name, count in s.rag.items() if count) or "none open"
        body = [
            f"{bold(s.name)} — {len(s.completed)} completed · {len(s.progress)} progress · {len(s.new)} new · "
            f"{len(s.overdue)} overdue · RAG: {rag}"
        ]
        if s.completed:
            body.append(":white_check_mark: " + _named(s.completed))
        if s.overdue:
            longest = overdue_text(s.overdue[0].days_overdue)
            body.append(":red_circle: " + _named(s.overdue, f" (longest {longest})"))
        if s.districts_without:
            body.append(Mrkdwn("No action in: ") + ", ".join(s.districts_without))
        sections.append(Section("\n".join(body)))
    district_line = Mrkdwn(
        f"*Districts*: {len(report.all_district)} all-district and {len(report.multi_district)} "
        "multi-district actions."
    )
    leading = [d for d in report.districts if d.leads]
    if leading:
        district_line += Mrkdwn(" Leading: ") + (
            ", ".join(f"{d.name} ({len(d.leads)})" for d in leading[:12])
            + (f" and {len(leading) - 12} more" if len(leading) > 12 else "")
        )
    sections.append(Section(district_line))
    represented = sum(r.represented for r in report.attendance)
    sections.append(
        Section(
            f"*Decisions*: {len(report.decisions)} · *Meetings*: {report.meetings_held} held"
            + (f" ({report.meetings_cancelled} cancelled, not counted)" if report.meetings_cancelled else "")
            + f" · {plural(len(report.attendance), 'organisation')}, {represented} attendances in all"
        )
    )
    return Reply(
        text=md("Progress report: {}, {}", report.group_name, report.period_text),
        visibility=Visibility.CHANNEL,
        header=truncate(f"Progress report: {report.period_text}", 150),
        sections=sections,
        footer=Mrkdwn("Files: ") + ", ".join(file_names) if file_names else None,
    )
