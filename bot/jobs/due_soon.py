"""Due-soon nudge: a DM to each owner N working days (default 2) before an action's due date.

One DM per owner per day (however many of their actions fall due), keyed `due-soon:USER:DATE`. An action
due on a weekend or bank holiday is nudged N working days before that day, so its nudge still falls on a
working day; planning only happens on working days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlmodel import Session

from bot.jobs.common import (
    MAX_BUTTON_ACTIONS,
    NotWanted,
    action_buttons,
    awake,
    dated_kind,
    fallback_list,
    group_label,
    groups_by_id,
    live,
    post_time,
    settings_of,
    why_gone,
    working,
)
from commands.action_view import action_line
from commands.dates import format_date
from commands.replies import Reply, Section, Visibility
from commands.workdays import add_working_days
from storage.actions import ActionFilter, ActionRow, list_actions
from storage.notifications import Claimed, Planned
from storage.settings_schema import ChaserSettings, chaser_settings

KIND = "due_soon"
MAX_NUDGE_DAYS = 20


def _nudged_on(row: ActionRow, settings: ChaserSettings, day: date) -> bool:
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
            key=f"due-soon:{owner}:{day.isoformat()}",
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


def build(session: Session, item: Claimed, tz: str) -> Reply:
    day = item.for_date
    rows = rows_for(session, item.recipient, day)
    if not rows:
        raise NotWanted(
            "nothing due soon any more: "
            + (why_gone(session, item.payload.get("actions", []), day) or "no actions")
        )
    groups = groups_by_id(session, {r.action.group_id for r in rows})
    multi_group = len(groups) > 1
    sections = [
        Section(
            f"<@{item.recipient}>, {'these actions are' if len(rows) > 1 else 'this action is'} due soon:"
        )
    ]
    for row in rows[:MAX_BUTTON_ACTIONS]:
        where = f" · _{group_label(groups[row.action.group_id])}_" if multi_group else ""
        sections.append(
            Section(action_line(row, day) + where, buttons=action_buttons(row, dated_kind(KIND, day)))
        )
    if len(rows) > MAX_BUTTON_ACTIONS:
        sections.append(
            Section(
                f"…and {len(rows) - MAX_BUTTON_ACTIONS} more: `/ecm actions mine soon` in the "
                "task group's channel lists them all."
            )
        )
    first_due = min(r.action.due_date for r in rows if r.action.due_date)
    only_group = next(iter(groups.values()))
    return Reply(
        text=f"Due soon: {fallback_list(rows)} (from {format_date(first_due)})",
        visibility=Visibility.DM,
        recipient=item.recipient,
        header="Due soon",
        sections=sections,
        footer="Use the buttons, or `/ecm update N` in the task group's channel. "
        + ("" if multi_group else f"From {group_label(only_group)}. ")
        + "Chairs can change these with `/ecm setup nudge-days:N` or `chasers:off`.",
    )
