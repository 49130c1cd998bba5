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
    return md("{}{}{}", shown, more, extra)


def summary_reply(report: Report, file_names: list[str]) -> Reply:
    totals = report.totals()
    lines = [
        md("*{}*: progress report for {}.", report.group_name, report.period_text),
        md(
            "{} completed, {} with progress reported, {} new; {} open, {} overdue (at {}).",
            plural(totals["completed"], "action"),
            totals["progress"],
            totals["new"],
            totals["live"],
            totals["overdue"],
            report.as_of.strftime("%d/%m/%Y"),
        ),
    ]
    sections = [Section(Mrkdwn("\n").join(lines))]
    for s in report.sections:
        rag = " · ".join(f"{count} {name.lower()}" for name, count in s.rag.items() if count) or "none open"
        body = [
            md(
                "{} — {} completed · {} progress · {} new · {} overdue · RAG: {}",
                bold(s.name),
                len(s.completed),
                len(s.progress),
                len(s.new),
                len(s.overdue),
                rag,
            )
        ]
        if s.completed:
            body.append(md(":white_check_mark: {}", _named(s.completed)))
        if s.overdue:
            longest = overdue_text(s.overdue[0].days_overdue)
            body.append(md(":red_circle: {}", _named(s.overdue, f" (longest {longest})")))
        if s.districts_without:
            body.append(md("No action in: {}", ", ".join(s.districts_without)))
        sections.append(Section(Mrkdwn("\n").join(body)))
    district_line = md(
        "*Districts*: {} all-district and {} multi-district actions.",
        len(report.all_district),
        len(report.multi_district),
    )
    # Most actions first (ties in the group's district order): the Board reads who carries the plan.
    leading = sorted((d for d in report.districts if d.leads), key=lambda d: -len(d.leads))
    if leading:
        district_line += md(
            " Led by district councils: {}{}",
            ", ".join(f"{d.name} ({len(d.leads)})" for d in leading[:12]),
            f" and {len(leading) - 12} more" if len(leading) > 12 else "",
        )
    sections.append(Section(district_line))
    represented = sum(r.represented for r in report.attendance)
    sections.append(
        Section(
            md(
                "*Decisions*: {} · *Meetings*: {} held{} · {}, {} attendances in all",
                len(report.decisions),
                report.meetings_held,
                f" ({report.meetings_cancelled} cancelled, not counted)" if report.meetings_cancelled else "",
                plural(len(report.attendance), "organisation"),
                represented,
            )
        )
    )
    return Reply(
        text=md("Progress report: {}, {}", report.group_name, report.period_text),
        visibility=Visibility.CHANNEL,
        header=truncate(f"Progress report: {report.period_text}", 150),
        sections=sections,
        footer=md("Files: {}", ", ".join(file_names)) if file_names else None,
    )
