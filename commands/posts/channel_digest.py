"""Channel digest: weekly (Monday 09:00 by default, or the next working day after a bank holiday) in the
task group's channel: the overdue actions grouped by district, with counts by district and outcome, and
their owners mentioned so each is notified."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from commands.action_view import outcomes_text
from commands.dates import format_date
from commands.mrkdwn import Mrkdwn, md, mentions
from commands.names import OUTCOME_NAMES
from commands.posts.common import awake, group_label, group_still_there, post_time, working
from commands.posts.kind import GroupSettings, Job, NextPost, NotWanted, PostKind, Setting
from commands.posts.settings import chaser_settings
from commands.replies import Reply, Section, UserError, Visibility
from commands.text import plural, truncate
from commands.workdays import next_working_day, working_days_between
from storage.actions import ActionFilter, ActionRow, count_actions, list_actions
from storage.groups import groups_by_id
from storage.models import Outcome, TaskGroup
from storage.notifications import Claimed, Planned

KIND = "channel_digest"
MAX_LINES = 80
COUNTYWIDE = "Countywide"
NO_DISTRICT = "No district"
_OUTCOME_INDEX = {o: i for i, o in enumerate(Outcome)}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
OFF = "off"
_OFF_WORDS = {"off", "no", "false", "0", "none", "never"}
_DAY_ALIASES = (
    {d[:3]: d for d in WEEKDAYS}
    | {d: d for d in WEEKDAYS}
    | {"tues": "tuesday", "weds": "wednesday", "thur": "thursday", "thurs": "thursday"}
)


def _parse_day(key: str, typed: str) -> str:
    word = typed.strip().lower()
    if word in _OFF_WORDS:
        return OFF
    if word in _DAY_ALIASES:
        return _DAY_ALIASES[word]
    raise UserError(
        md("`digest:` takes a weekday (monday to friday) or `off`, not “{}”.", typed),
        "For example `/ecm setup digest:monday`.",
    )


def _describe(s: GroupSettings) -> str:
    return (
        "• Channel digest: "
        + (
            f"*weekly on {s.digest_day.capitalize()}* (or the next working day)"
            if s.digest_day != OFF
            else "*off*"
        )
        + " (`digest:monday…friday|off`)"
    )


DIGEST_DAY = Setting(
    name="digest_day",
    options=("digest",),
    default="monday",
    label="channel digest",
    usage="digest:monday…friday|off",
    parse=_parse_day,
    valid=lambda value: value in (*WEEKDAYS, OFF),
    describe=_describe,
)


def digest_weekday(settings: GroupSettings) -> int | None:
    """The weekday (0 = Monday) of the group's digest, or None when it is off."""
    day = settings.digest_day
    return WEEKDAYS.index(day) if day in WEEKDAYS else None


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
        if is_digest_day(day, digest_weekday(chaser_settings(group))):
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


def _line(row: ActionRow, day: date) -> Mrkdwn:
    a = row.action
    overdue = plural(working_days_between(a.due_date, day), "working day")  # type: ignore[arg-type]
    line = md(
        "• *#{}* {} · {} · due {} (overdue by {}) · _{}_",
        a.number,
        truncate(a.title, 200),
        mentions(row.owners),
        format_date(a.due_date),  # type: ignore[arg-type]
        overdue,
        outcomes_text(row.outcomes),
    )
    if not awake(row, day):
        line += md(" · snoozed until {}", format_date(a.snoozed_until))  # type: ignore[arg-type]
    return line


@dataclass
class ChannelDigest:
    """What the weekly digest says: the group's overdue actions on `day` (and, when none, how many are open)."""

    group: TaskGroup
    day: date
    overdue: list[ActionRow]
    open_count: int


def load_channel_digest(session: Session, group: TaskGroup, day: date) -> ChannelDigest:
    assert group.id is not None
    rows = list_actions(session, ActionFilter(group_id=group.id, due_before=day))
    open_count = 0 if rows else count_actions(session, ActionFilter(group_id=group.id))
    return ChannelDigest(group=group, day=day, overdue=rows, open_count=open_count)


def render_channel_digest(digest: ChannelDigest) -> Reply:
    group, day, rows = digest.group, digest.day, digest.overdue
    name = group_label(group)
    if not rows:
        open_count = digest.open_count
        text = md("No overdue actions in {} this week ({}).", group.name, plural(open_count, "open action"))
        return Reply(
            text=text,
            visibility=Visibility.CHANNEL,
            header="Weekly digest: nothing overdue",
            sections=[
                Section(
                    md(
                        ":white_check_mark: No overdue actions in {} this week ({}). Thank you all.",
                        name,
                        plural(open_count, "open action"),
                    )
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
        md(
            "*{}* in {} as of {}, owned by {}.",
            plural(len(rows), "overdue action"),
            name,
            format_date(day),
            plural(len({o for r in rows for o in r.owners}), "person", "people"),
        ),
        md("*By district:* {}", Mrkdwn(" · ").join(md("{} {}", d, len(by_district[d])) for d in districts)),
        md(
            "*By outcome:* {}",
            " · ".join(f"{OUTCOME_NAMES[o]} {outcome_counts[o]}" for o in Outcome if outcome_counts[o])
            or "none recorded",
        ),
    ]
    sections = [Section(Mrkdwn("\n").join(summary))]
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
        breakdown = Mrkdwn(", ").join(
            md("{} {}", outcomes_text([o]), outcomes[o]) for o in Outcome if outcomes[o]
        )
        lines = [_line(r, day) for r in group_rows[: max(0, MAX_LINES - shown)]]
        shown += len(lines)
        more = len(group_rows) - len(lines)
        if more:
            lines.append(md("…and {} more", more))
        sections.append(
            Section(
                md(
                    "*{}* ({}{})\n",
                    district,
                    len(group_rows),
                    md(": {}", breakdown) if breakdown else "",
                )
                + Mrkdwn("\n").join(lines)
            )
        )
    return Reply(
        text=md("Weekly digest: {} in {}", plural(len(rows), "overdue action"), group.name),
        visibility=Visibility.CHANNEL,
        header="Weekly digest: overdue actions",
        sections=sections,
        footer=Mrkdwn(
            'Owners: `/ecm done N`, `/ecm update N "progress" due:DATE`, or `/ecm snooze N until:DATE '
            '"reason"`. `/ecm actions overdue by:district` lists them. Chairs: `/ecm setup digest:monday|off`.'
        ),
    )


def build(session: Session, item: Claimed, tz: str) -> Reply:
    group = group_still_there(session, item)
    if digest_weekday(chaser_settings(group)) is None:
        raise NotWanted("the channel digest was turned off (`/ecm setup digest:off`)")
    if group.channel_id != item.recipient:
        raise NotWanted("the task group moved to another channel")
    return render_channel_digest(load_channel_digest(session, group, item.for_date))


def next_post(session: Session, group: TaskGroup, settings: GroupSettings, first: date, tz: str) -> NextPost:
    weekday = digest_weekday(settings)
    if weekday is None:
        return NextPost(None, OFF)
    return NextPost(post_time(next_digest_day(first, weekday), tz), note=f" (weekly, {settings.digest_day})")


POST = PostKind(
    name=KIND,
    label="channel digest",
    job=Job("digest", "weekly channel digest of overdue actions (Monday, or the next working day)"),
    plan=plan,
    build=build,
    settings=(DIGEST_DAY,),
    next_post=next_post,
)
