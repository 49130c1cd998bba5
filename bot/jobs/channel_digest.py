"""Channel digest: weekly (Monday 09:00 by default, or the next working day after a bank holiday) in the
task group's channel: the overdue actions grouped by district, with counts by district and outcome, and
their owners mentioned so each is notified."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from sqlmodel import Session

from bot.jobs.common import NotWanted, awake, group_label, groups_by_id, post_time, working
from commands.action_view import outcomes_text
from commands.dates import format_date
from commands.names import OUTCOME_NAMES
from commands.replies import Reply, Section, Visibility
from commands.text import esc, mentions, plural, truncate
from commands.workdays import next_working_day, working_days_between
from storage.actions import ActionFilter, ActionRow, count_actions, list_actions
from storage.models import Outcome, TaskGroup
from storage.notifications import Claimed, Planned
from storage.settings_schema import chaser_settings

KIND = "channel_digest"
MAX_LINES = 80
COUNTYWIDE = "Countywide"
NO_DISTRICT = "No district"
_OUTCOME_INDEX = {o: i for i, o in enumerate(Outcome)}


def is_digest_day(day: date, weekday: int | None) -> bool:
    """True when `day` is this week's digest day, or the working day a bank holiday pushed it to."""
    if weekday is None or not working(day):
        return False
    monday = day - timedelta(days=day.weekday())
    # Christmas and Easter can push a digest into the following week, so look back two weeks.
    return any(next_working_day(monday + timedelta(days=weekday + 7 * k)) == day for k in (0, -1, -2))


def next_digest_day(after: date, weekday: int) -> date:
    """The first digest day on or after `after`."""
    day = after
    while not is_digest_day(day, weekday):
        day += timedelta(days=1)
    return day


def key(group_id: int, day: date) -> str:
    return f"channel-digest:{group_id}:{day.isoformat()}"


def plan(session: Session, day: date, tz: str) -> list[Planned]:
    planned = []
    for gid, group in groups_by_id(session).items():
        if is_digest_day(day, chaser_settings(group).digest_weekday):
            planned.append(
                Planned(
                    key=key(gid, day),
                    kind=KIND,
                    recipient=group.channel_id,
                    group_id=gid,
                    for_date=day,
                    due_at=post_time(day, tz),
                )
            )
    return planned


def _district_names(row: ActionRow) -> list[str]:
    if row.action.countywide:
        return [COUNTYWIDE]
    return [d.name for d in row.districts] or [NO_DISTRICT]


def _line(row: ActionRow, day: date) -> str:
    a = row.action
    overdue = plural(working_days_between(a.due_date, day), "working day")  # type: ignore[arg-type]
    line = (
        f"• *#{a.number}* {esc(truncate(a.title, 200))} · {mentions(row.owners)} · due "
        f"{format_date(a.due_date)} (overdue by {overdue}) · _{outcomes_text(row.outcomes)}_"
    )  # type: ignore[arg-type]
    if not awake(row, day):
        line += f" · snoozed until {format_date(a.snoozed_until)}"  # type: ignore[arg-type]
    return line


def render(session: Session, group: TaskGroup, day: date) -> Reply:
    assert group.id is not None
    rows = list_actions(session, ActionFilter(group_id=group.id, due_before=day))
    name = group_label(group)
    if not rows:
        open_count = count_actions(session, ActionFilter(group_id=group.id))
        text = f"No overdue actions in {esc(group.name)} this week ({plural(open_count, 'open action')})."
        return Reply(
            text=text,
            visibility=Visibility.CHANNEL,
            header="Weekly digest: nothing overdue",
            sections=[
                Section(
                    f":white_check_mark: No overdue actions in {name} this week "
                    f"({plural(open_count, 'open action')}). Thank you all."
                )
            ],
        )
    by_district: dict[str, list[ActionRow]] = defaultdict(list)
    for row in rows:
        for district in _district_names(row):
            by_district[district].append(row)
    outcome_counts: Counter[Outcome] = Counter(o for r in rows for o in r.outcomes)
    # Countywide first, then districts alphabetically, actions with no district last.
    districts = sorted(by_district, key=lambda n: (n == NO_DISTRICT, n != COUNTYWIDE, n.lower()))
    summary = [
        f"*{plural(len(rows), 'overdue action')}* in {name} as of {format_date(day)}, "
        f"owned by {plural(len({o for r in rows for o in r.owners}), 'person', 'people')}.",
        "*By district:* " + " · ".join(f"{esc(d)} {len(by_district[d])}" for d in districts),
        "*By outcome:* "
        + (
            " · ".join(f"{OUTCOME_NAMES[o]} {outcome_counts[o]}" for o in Outcome if outcome_counts[o])
            or "none recorded"
        ),
    ]
    sections = [Section("\n".join(summary))]
    shown = 0
    for district in districts:
        group_rows = sorted(
            by_district[district],
            key=lambda r: (
                _OUTCOME_INDEX.get(r.outcomes[0], 9) if r.outcomes else 9,
                r.action.due_date,
                r.action.number,
            ),
        )
        outcomes = Counter(o for r in group_rows for o in r.outcomes)
        breakdown = ", ".join(f"{outcomes_text([o])} {outcomes[o]}" for o in Outcome if outcomes[o])
        lines = [_line(r, day) for r in group_rows[: max(0, MAX_LINES - shown)]]
        shown += len(lines)
        more = len(group_rows) - len(lines)
        if more:
            lines.append(f"…and {more} more")
        sections.append(
            Section(
                f"*{esc(district)}* ({len(group_rows)}"
                + (f": {breakdown}" if breakdown else "")
                + ")\n"
                + "\n".join(lines)
            )
        )
    return Reply(
        text=f"Weekly digest: {plural(len(rows), 'overdue action')} in {esc(group.name)}",
        visibility=Visibility.CHANNEL,
        header="Weekly digest: overdue actions",
        sections=sections,
        footer='Owners: `/ecm done N`, `/ecm update N "progress" due:DATE`, or `/ecm snooze N until:DATE '
        '"reason"`. `/ecm actions overdue by:district` lists them. Chairs: `/ecm setup digest:monday|off`.',
    )


def build(session: Session, item: Claimed, tz: str) -> Reply:
    group = session.get(TaskGroup, item.group_id) if item.group_id is not None else None
    if group is None:
        raise NotWanted("the task group no longer exists")
    if chaser_settings(group).digest_weekday is None:
        raise NotWanted("the channel digest was turned off (`/ecm setup digest:off`)")
    if group.channel_id != item.recipient:
        raise NotWanted("the task group moved to another channel")
    return render(session, group, item.for_date)
