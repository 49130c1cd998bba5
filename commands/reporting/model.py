"""The progress report's view model: loaded once from storage, then rendered as the Slack summary, the Word
document, the workbook, the CSV and the charts — so every surface shows the same figures.

Plain data only (no Slack, no markup): text here is as people wrote it; each renderer escapes for its medium.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from commands.context import Directory
from commands.meeting_view import expected_organisations
from commands.names import OUTCOME_NAMES
from commands.text import slugify
from commands.workdays import working_days_between
from storage import attendance, groups, members, reports
from storage.attendance import MeetingChoice, Tally
from storage.models import LIVE_STATUSES, ActionStatus, MeetingStatus, Outcome, Rag, TaskGroup

NO_OUTCOME = "No outcome given"
STATUS_NAMES: dict[ActionStatus, str] = {
    ActionStatus.OPEN: "Open",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.BLOCKED: "Blocked",
    ActionStatus.DONE: "Done",
    ActionStatus.DROPPED: "Dropped",
}
RAG_NAMES: dict[Rag | None, str] = {Rag.RED: "Red", Rag.AMBER: "Amber", Rag.GREEN: "Green", None: "Not rated"}

# People are shown by name in documents; the bot side can supply Slack's names, else the member's own.
NameOf = Callable[[str], str]


@dataclass
class ReportAction:
    """One action as every report surface shows it."""

    number: int
    title: str
    owners: list[str]  # user ids
    owner_names: list[str]
    organisation: str
    due: date | None
    status: ActionStatus
    rag: Rag | None
    outcomes: list[Outcome]
    districts: list[str]
    countywide: bool
    created: date
    updated: date
    completed: date | None
    decision: str | None  # "D3"
    notes: list[str]  # every note, oldest first
    closing_note: str | None = None  # the note left when it was completed
    latest_note: str | None = None  # the latest note written in the period
    latest_note_on: date | None = None
    days_overdue: int = 0

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def district_text(self) -> str:
        if self.countywide:
            return "All districts"
        return ", ".join(self.districts) or "—"

    @property
    def basis(self) -> str:
        """District basis, as the Board reads it: all-district, multi-district, one district or none."""
        if self.countywide:
            return "all-district"
        if len(self.districts) > 1:
            return "multi-district"
        return "district" if self.districts else "not district-based"


@dataclass
class OutcomeSection:
    outcome: Outcome | None  # None: actions with no outcome given
    name: str
    completed: list[ReportAction] = field(default_factory=list)
    progress: list[ReportAction] = field(default_factory=list)
    new: list[ReportAction] = field(default_factory=list)
    overdue: list[ReportAction] = field(default_factory=list)
    live: int = 0
    rag: dict[str, int] = field(default_factory=dict)  # RAG name -> live actions
    by_status: dict[str, int] = field(default_factory=dict)  # status name -> actions (all not dropped)
    districts_without: list[str] = field(default_factory=list)  # districts with no action here
    actions: list[ReportAction] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.actions


@dataclass
class DistrictInvolvement:
    name: str
    leads: list[int] = field(default_factory=list)  # action numbers led by the district (its organisation)
    takes_part: list[int] = field(default_factory=list)  # named on the action, not leading
    all_district: int = 0  # countywide actions, which every district takes part in
    outcomes_without: list[str] = field(default_factory=list)


@dataclass
class ReportDecision:
    number: int
    text: str
    status: str
    on: date
    meeting: str | None


@dataclass
class AttendanceRow:
    organisation: str
    held: int
    represented: int
    apologies: int
    absent: int
    expected: bool


@dataclass
class Report:
    group_name: str
    since: date
    until: date
    made_at: datetime
    as_of: date  # overdue is measured at this date: the period's end, or today if sooner
    timezone: str
    previous_report: date | None
    outcome_filter: Outcome | None
    district_filter: str | None
    sections: list[OutcomeSection]
    districts: list[DistrictInvolvement]
    multi_district: list[ReportAction]
    all_district: list[ReportAction]
    decisions: list[ReportDecision]
    attendance: list[AttendanceRow]
    meetings_held: int
    meetings_cancelled: int
    actions: list[ReportAction]  # every action in scope, by number

    @property
    def period_text(self) -> str:
        return f"{uk_date(self.since)} to {uk_date(self.until)}"

    @property
    def file_stem(self) -> str:
        """`lancashire-ecm-task-group-report-2026-06-01-to-2026-12-01`."""
        return f"{slugify(self.group_name) or 'task-group'}-report-{self.since.isoformat()}-to-{self.until.isoformat()}"

    def totals(self) -> dict[str, int]:
        """Distinct actions in each list (an action under two outcomes counts once)."""
        return {
            "completed": len({a.number for s in self.sections for a in s.completed}),
            "progress": len({a.number for s in self.sections for a in s.progress}),
            "new": len({a.number for s in self.sections for a in s.new}),
            "overdue": len({a.number for s in self.sections for a in s.overdue}),
            "live": sum(1 for a in self.actions if a.live),
            "actions": len(self.actions),
        }


def uk_date(d: date) -> str:
    """28/08/2026: the date form committee papers and spreadsheets use."""
    return d.strftime("%d/%m/%Y")


def overdue_text(days: int) -> str:
    """Working days, as the action lists, the chasers and the escalation count them."""
    return f"{days} working day{'s' if days != 1 else ''}"


def default_since(session: Session, group_id: int, until: date) -> tuple[date, date | None]:
    """(since, previous report's date): the previous report's end date, or six months before `until` for
    the first report; a report made again on the day of the last one covers the same period."""
    previous = reports.last_report(session, group_id)
    if previous is not None and previous.period_to < until:
        return previous.period_to, previous.period_to
    if previous is not None and previous.period_from <= until:
        # Made again the same day (a correction): the same period as that report.
        return previous.period_from, None
    return until - relativedelta(months=6), previous.period_to if previous else None


def _local_date(dt: datetime, tz: ZoneInfo) -> date:
    return dt.astimezone(tz).date()


def _local_midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz)


def name_resolver(session: Session, group_id: int, directory: Directory | None = None) -> NameOf:
    """A person's name: the one registered with `/ecm member … name:`, else Slack's, else their id."""
    registered = {
        m.user_id: m.display_name for m in members.list_members(session, group_id) if m.display_name
    }
    cache: dict[str, str] = {}

    def name_of(user_id: str) -> str:
        if user_id not in cache:
            looked_up = directory.name_of(user_id) if directory and user_id not in registered else None
            cache[user_id] = registered.get(user_id) or looked_up or user_id
        return cache[user_id]

    return name_of


def _report_action(a: reports.RegisterAction, tz: ZoneInfo, name_of: NameOf) -> ReportAction:
    return ReportAction(
        number=a.number,
        title=a.title,
        owners=list(a.owners),
        owner_names=[name_of(u) for u in a.owners],
        organisation=a.organisation,
        due=a.due_date,
        status=a.status,
        rag=a.rag,
        outcomes=list(a.outcomes),
        districts=list(a.districts),
        countywide=a.countywide,
        created=_local_date(a.created_at, tz),
        updated=_local_date(a.updated_at, tz),
        completed=_local_date(a.completed_at, tz) if a.completed_at else None,
        decision=a.decision,
        notes=[text for text, _at in a.notes],
    )


def load_report(
    session: Session,
    group: TaskGroup,
    *,
    tz_name: str,
    since: date,
    until: date,
    now: datetime,
    outcome: Outcome | None = None,
    district: str | None = None,
    name_of: NameOf | None = None,
    previous_report: date | None = None,
) -> Report:
    """Everything the report shows for [since, until] (local dates, both included), from current data."""
    assert group.id is not None
    tz = ZoneInfo(tz_name)  # the deployment's zone (ECM_TIMEZONE)
    start, end = _local_midnight(since, tz), _local_midnight(until + timedelta(days=1), tz)
    today = _local_date(now, tz)
    as_of = min(until, today)
    name_of = name_of or name_resolver(session, group.id)
    register = reports.load_register(session, group.id, created_before=end)
    district_names = [d.name for d in groups.list_districts(session, group.id)]

    in_scope: list[ReportAction] = []
    for row in register:
        notes = row.notes
        item = _report_action(row, tz, name_of)
        if district is not None and not (
            item.countywide or district in item.districts or item.organisation == district
        ):
            continue
        if outcome is not None and outcome not in item.outcomes:
            continue
        completed_at = row.completed_at
        if item.status == ActionStatus.DONE and completed_at is not None:
            # The note left with "done" is the last one written up to (a moment after) completion.
            closing = [text for text, at in notes if at <= completed_at + timedelta(seconds=5)]
            item.closing_note = closing[-1] if closing else None
        in_period = [(text, at) for text, at in notes if start <= at < end]
        if in_period:
            item.latest_note, item.latest_note_on = in_period[-1][0], _local_date(in_period[-1][1], tz)
        if item.live and item.due is not None and item.due < as_of:
            item.days_overdue = working_days_between(item.due, as_of)  # as every other overdue count
        in_scope.append(item)

    def completed_in_period(a: ReportAction) -> bool:
        return a.status == ActionStatus.DONE and a.completed is not None and since <= a.completed <= until

    wanted_outcomes: list[Outcome | None] = [outcome] if outcome else [*Outcome, None]
    sections: list[OutcomeSection] = []
    for o in wanted_outcomes:
        under = [a for a in in_scope if (o in a.outcomes if o else not a.outcomes)]
        if o is None and not under:
            continue  # "no outcome given" only appears when some action has none
        section = OutcomeSection(outcome=o, name=OUTCOME_NAMES[o] if o else NO_OUTCOME, actions=under)
        section.completed = [a for a in under if completed_in_period(a)]
        section.new = [a for a in under if since <= a.created <= until]
        section.progress = [a for a in under if a.latest_note and not completed_in_period(a)]
        section.overdue = sorted((a for a in under if a.days_overdue), key=lambda a: -a.days_overdue)
        live = [a for a in under if a.live]
        section.live = len(live)
        rag = Counter(RAG_NAMES[a.rag] for a in live)
        section.rag = {name: rag.get(name, 0) for name in RAG_NAMES.values()}
        status = Counter(STATUS_NAMES[a.status] for a in under)
        section.by_status = {name: status.get(name, 0) for name in STATUS_NAMES.values()}
        if o is not None:
            standing = [a for a in under if a.status != ActionStatus.DROPPED]
            touched = {d for a in standing for d in a.districts} | {a.organisation for a in standing}
            countywide_here = any(a.countywide for a in standing)
            section.districts_without = (
                [] if countywide_here else [d for d in district_names if d not in touched]
            )
        sections.append(section)

    involvement = []
    for name in [district] if district else district_names:
        place = DistrictInvolvement(name=name)
        for a in in_scope:
            if a.status == ActionStatus.DROPPED:
                continue
            if a.organisation == name:
                place.leads.append(a.number)
            elif name in a.districts:
                place.takes_part.append(a.number)
            elif a.countywide:
                place.all_district += 1
        place.outcomes_without = [s.name for s in sections if s.outcome and name in s.districts_without]
        involvement.append(place)

    decisions = []
    meeting_titles: dict[int, str] = {}
    chosen = reports.meetings_between(session, group.id, start, end)
    held = [m for m in chosen if m.status == MeetingStatus.CLOSED]
    for m in chosen:
        if m.id is not None:
            meeting_titles[m.id] = m.title
    for d in reports.decisions_between(session, group.id, start, end):
        decisions.append(
            ReportDecision(
                number=d.number,
                text=d.text,
                status=d.status.value if hasattr(d.status, "value") else str(d.status),
                on=_local_date(d.created_at, tz),
                meeting=meeting_titles.get(d.meeting_id) if d.meeting_id else None,
            )
        )
    registered = members.list_members(session, group.id)
    tallies: list[Tally] = attendance.organisation_tallies(
        session, MeetingChoice(held), expected_organisations(district_names, registered), only=district
    )
    attendance_rows = [
        AttendanceRow(t.name, t.held, t.represented, t.apologies, t.absent, t.expected) for t in tallies
    ]

    live_not_dropped = [a for a in in_scope if a.status != ActionStatus.DROPPED]
    return Report(
        group_name=group.name,
        since=since,
        until=until,
        made_at=now,
        as_of=as_of,
        timezone=tz_name,
        previous_report=previous_report,
        outcome_filter=outcome,
        district_filter=district,
        sections=sections,
        districts=involvement,
        multi_district=[a for a in live_not_dropped if a.basis == "multi-district"],
        all_district=[a for a in live_not_dropped if a.basis == "all-district"],
        decisions=decisions,
        attendance=attendance_rows,
        meetings_held=len(held),
        meetings_cancelled=len(chosen) - len(held),
        actions=in_scope,
    )


def load_register_actions(
    session: Session, group: TaskGroup, tz_name: str, name_of: NameOf | None = None
) -> list[ReportAction]:
    """Every action of the group, by number, as export writes them."""
    assert group.id is not None
    tz = ZoneInfo(tz_name)
    name_of = name_of or name_resolver(session, group.id)
    return [_report_action(row, tz, name_of) for row in reports.load_register(session, group.id)]
