"""`/ecm report` (chairs): the Board's progress report, posted as a summary with the files attached."""

from __future__ import annotations

from datetime import date

from commands.context import Call
from commands.meeting_view import past_date
from commands.mrkdwn import md
from commands.names import DistrictRef, match_district, parse_outcome
from commands.registry import verb
from commands.replies import Attachment, Reply, UserError
from commands.reporting.files import FORMATS, report_files
from commands.reporting.model import Report, default_since, load_report, name_resolver, uk_date
from commands.reporting.summary import summary_reply
from storage import groups, reports

USAGE = "/ecm report [since:DATE] [until:DATE] [outcome:NAME] [district:NAME] [format:docx|xlsx|csv]"


def parse_formats(value: str | None) -> list[str]:
    if value is None:
        return list(FORMATS)
    wanted = [w.strip().lower().lstrip(".") for w in value.replace(";", ",").split(",") if w.strip()]
    wanted = ["docx" if w in ("word", "doc") else "xlsx" if w in ("excel", "xls") else w for w in wanted]
    unknown = [w for w in wanted if w not in FORMATS]
    if unknown or not wanted:
        raise UserError(
            md("“{}” is not a report format.", unknown[0] if unknown else value),
            "Formats: `format:docx` (Word), `format:xlsx` (Excel), `format:csv`; several: `format:docx,xlsx`.",
        )
    return list(dict.fromkeys(wanted))


def build_report(
    call: Call,
    *,
    since_text: str | None,
    until_text: str | None,
    outcome_text: str | None,
    district_text: str | None,
) -> Report:
    """Reads the options as every surface gives them (command, CLI) and loads the report's view model."""
    until = past_date(until_text, call.today, "until") if until_text else call.today
    previous: date | None
    if since_text:
        since = past_date(since_text, call.today, "since")
        last = reports.last_report(call.session, call.group_id)
        previous = last.period_to if last else None
    else:
        since, previous = default_since(call.session, call.group_id, until)
    if since > until:
        raise UserError(
            f"The period starts ({uk_date(since)}) after it ends ({uk_date(until)}).",
            "Give `since:` before `until:`, e.g. `/ecm report since:1 Jun 2026 until:30 Nov 2026`.",
        )
    outcome = parse_outcome(outcome_text) if outcome_text else None
    district = None
    if district_text:
        refs = [DistrictRef(d.id, d.name, d.slug) for d in groups.list_districts(call.session, call.group_id)]  # type: ignore[arg-type]
        district = match_district(district_text, refs).name
    return load_report(
        call.session,
        call.task_group,
        tz_name=call.timezone,
        since=since,
        until=until,
        now=call.now,
        outcome=outcome,
        district=district,
        previous_report=previous,
        name_of=name_resolver(call.session, call.group_id, call.ctx.directory),
    )


def produce_report(
    call: Call,
    *,
    since_text: str | None,
    until_text: str | None,
    outcome_text: str | None,
    district_text: str | None,
    formats: list[str],
    draft: bool = False,
) -> tuple[Report, list[Attachment]]:
    """The report and its files, as every surface makes them; unless a draft, it is recorded as issued so
    the next report's `since:` starts where this one ended."""
    built = build_report(
        call,
        since_text=since_text,
        until_text=until_text,
        outcome_text=outcome_text,
        district_text=district_text,
    )
    files = report_files(built, formats)
    if not draft:
        reports.record_report(
            call.session,
            call.group_id,
            period_from=built.since,
            period_to=built.until,
            formats=",".join(formats),
            by=call.user_id,
            at=call.now,
        )
    return built, files


@verb(
    "report",
    summary="The Board's progress report by ECM outcome: a summary here, with Word, Excel, CSV and charts.",
    usage=USAGE,
    examples=["/ecm report", "/ecm report since:1 Jun 2026", "/ecm report outcome:safe format:docx"],
    keys=("since", "until", "outcome", "district", "format"),
    section="Meetings",
    chair_only=True,
    changes=True,
    details="Per outcome: actions completed in the period (with closing notes), progress (each action's latest "
    "update), new and overdue actions and the RAG mix; which districts lead or take part; decisions; and "
    "attendance by organisation (cancelled meetings excluded). `since:` defaults to the previous report's end, "
    "or six months ago.",
)
def report(call: Call) -> list[Reply]:
    if call.args.free_text():
        raise UserError(md("I don't understand “{}” here.", call.args.free_text()[:60]))
    keys = call.args.keys
    built, files = produce_report(
        call,
        since_text=keys.get("since"),
        until_text=keys.get("until"),
        outcome_text=keys.get("outcome"),
        district_text=keys.get("district"),
        formats=parse_formats(keys.get("format")),
    )
    reply = summary_reply(built, [f.filename for f in files])
    reply.files = files
    return [reply]
