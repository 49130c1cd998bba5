"""Due-soon nudge: a DM to each owner N working days (default 2) before an action's due date.

Keyed like the owner digest (`owner-digest:USER:DATE`), so the planner merges it into that day's digest
when the owner has one (overdue actions, or a chair's escalations): one DM per person per working day. Only
someone with nothing overdue gets the nudge as a message of its own. An action
due on a weekend or bank holiday is nudged N working days before that day, so its nudge still falls on a
working day; planning only happens on working days.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from commands.action_view import action_line
from commands.dates import format_date
from commands.mrkdwn import Mrkdwn, md, person
from commands.posts.common import (
    CHASERS_JOB,
    MAX_BUTTON_ACTIONS,
    action_buttons,
    awake,
    dated_kind,
    fallback_list,
    group_label,
    live,
    nudged_under_legacy_keys,
    owner_digest_key,
    post_time,
    why_gone,
    working,
)
from commands.posts.kind import GroupSettings, NotWanted, PostKind, days_text, working_days
from commands.posts.settings import chaser_settings, settings_of
from commands.replies import Reply, Section, Visibility
from commands.workdays import add_working_days
from storage.actions import ActionFilter, ActionRow, list_actions
from storage.groups import groups_by_id
from storage.models import TaskGroup
from storage.notifications import Claimed, Planned

KIND = "due_soon"
MAX_NUDGE_DAYS = 20


def _describe(s: GroupSettings) -> str:
    if not s.nudge_days:
        state = "*off*"
    elif s.chasers:
        state = f"*{days_text(s.nudge_days)} before the due date*"
    else:  # the setting is kept; it is the chasers switch that holds it back
        state = f"*{days_text(s.nudge_days)} before the due date, paused while chasers are off*"
    return f"• Due-soon nudge: {state} (`nudge-days:N`, 0 = none)"


NUDGE_DAYS = working_days(
    "nudge_days",
    ("nudge-days", "nudge_days", "nudge"),
    default=2,
    high=MAX_NUDGE_DAYS,
    label="due-soon nudge (working days before)",
    zero="none",
    describe=_describe,
)


def _nudged_on(row: ActionRow, settings: GroupSettings, day: date) -> bool:
    due = row.action.due_date
    return (
        due is not None
        and settings.chasers
        and settings.nudge_days > 0
        and live(row)
        and awake(row, day)
        and add_working_days(due, -settings.nudge_days) == day
    )


def _candidates(session: Session, day: date, owner: str | None = None) -> list[ActionRow]:
    # Everything due within the longest possible nudge window; each group's own setting is applied after.
    horizon = add_working_days(day, MAX_NUDGE_DAYS)
    return list_actions(
        session, ActionFilter(owner=owner, due_from=day + timedelta(days=1), due_on_or_before=horizon)
    )


def plan(session: Session, day: date, tz: str) -> list[Planned]:
    if not working(day):
        return []
    settings = settings_of(groups_by_id(session))
    if not any(s.chasers and s.nudge_days for s in settings.values()):
        return []
    refs: dict[str, list[list[int]]] = defaultdict(list)
    for row in _candidates(session, day):
        group_settings = settings.get(row.action.group_id)
        if group_settings and _nudged_on(row, group_settings, day):
            for owner in row.owners:
                refs[owner].append([row.action.group_id, row.action.number])
    return [
        Planned(
            key=owner_digest_key(owner, day),
            kind=KIND,
            recipient=owner,
            for_date=day,
            due_at=post_time(day, tz),
            payload={"actions": actions},
        )
        for owner, actions in sorted(refs.items())
    ]


def rows_for(session: Session, owner: str, day: date) -> list[ActionRow]:
    """The owner's actions to nudge about on `day`, from current data."""
    rows = _candidates(session, day, owner)
    groups = groups_by_id(session, {r.action.group_id for r in rows})
    return [
        r
        for r in rows
        if r.action.group_id in groups and _nudged_on(r, chaser_settings(groups[r.action.group_id]), day)
    ]


@dataclass
class Nudge:
    """One owner's due-soon DM on `day`: the actions to nudge about and their groups."""

    owner: str
    day: date
    rows: list[ActionRow]
    groups: dict[int, TaskGroup]


def nudge_for(session: Session, owner: str, day: date) -> Nudge:
    rows = rows_for(session, owner, day)
    return Nudge(owner, day, rows, groups_by_id(session, {r.action.group_id for r in rows}))


def render_nudge(nudge: Nudge) -> Reply:
    rows, groups, day = nudge.rows, nudge.groups, nudge.day
    multi_group = len(groups) > 1
    sections = [
        Section(
            md(
                "{}, {} due soon:",
                person(nudge.owner),
                "these actions are" if len(rows) > 1 else "this action is",
            )
        )
    ]
    for row in rows[:MAX_BUTTON_ACTIONS]:
        where = md(" · _{}_", group_label(groups[row.action.group_id])) if multi_group else Mrkdwn()
        sections.append(
            Section(action_line(row, day) + where, buttons=action_buttons(row, dated_kind(KIND, day)))
        )
    if len(rows) > MAX_BUTTON_ACTIONS:
        sections.append(
            Section(
                md(
                    "…and {} more: `/ecm actions mine soon` in the task group's channel lists them all.",
                    len(rows) - MAX_BUTTON_ACTIONS,
                )
            )
        )
    first_due = min(r.action.due_date for r in rows if r.action.due_date)
    only_group = next(iter(groups.values()))
    return Reply(
        text=f"Due soon: {fallback_list(rows)} (from {format_date(first_due)})",
        visibility=Visibility.DM,
        recipient=nudge.owner,
        header="Due soon",
        sections=sections,
        footer=md(
            "Use the buttons, or `/ecm update N` in the task group's channel. {}"
            "Chairs can change these with `/ecm setup nudge-days:N` or `chasers:off`.",
            "" if multi_group else md("From {}. ", group_label(only_group)),
        ),
    )


def build(session: Session, item: Claimed, tz: str) -> Reply:
    if nudged_under_legacy_keys(session, [(item.recipient, item.for_date)]):
        raise NotWanted("today's nudge was already sent under its old key (before the upgrade)")
    nudge = nudge_for(session, item.recipient, item.for_date)
    if not nudge.rows:
        raise NotWanted(
            "nothing due soon any more: "
            + (why_gone(session, item.payload.get("actions", []), item.for_date) or "no actions")
        )
    return render_nudge(nudge)


POST = PostKind(
    name=KIND,
    label="due-soon nudge",
    job=CHASERS_JOB,
    plan=plan,
    build=build,
    settings=(NUDGE_DAYS,),
)
