"""Escalation: the actions of a group overdue by `escalate-after` working days (default 10) or more, listed
to its chairs. They go out inside the chair's owner digest DM (same key, `owner-digest:USER:DATE`), so
nobody gets two DMs from the bot in a morning; this module plans them and renders their part of the DM.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from commands.action_view import action_line
from commands.mrkdwn import Mrkdwn, clip, md
from commands.posts.common import (
    OWNER_DIGEST,
    awake_after,
    fallback_list,
    group_label,
    owner_digest_rows,
    working,
)
from commands.posts.kind import GroupSettings, Job, PostKind, days_text, working_days
from commands.posts.settings import settings_of
from commands.replies import Section
from commands.text import plural
from commands.workdays import add_working_days, working_days_between
from storage.actions import ActionFilter, ActionRow, chase_refs, list_actions
from storage.groups import groups_by_id
from storage.members import chaired_group_ids, chairs_by_group
from storage.models import TaskGroup
from storage.notifications import Planned

MAX_ESCALATION_LINES = 30
# The DM must stay one message (≤ 50 blocks): the chair's own actions take at most 35, so at most 10 groups'
# escalations are listed in full, each in one block (≤ 3000 characters), and any others in one line.
MAX_ESCALATION_GROUPS = 10
ESCALATION_SECTION_CHARS = 2900


def _describe(s: GroupSettings) -> str:
    return (
        "• Escalation to chairs: "
        + (f"*overdue by {days_text(s.escalate_after)} or more*" if s.escalate_after else "*off*")
        + " (`escalate-after:N`, 0 = never)"
    )


ESCALATE_AFTER = working_days(
    "escalate_after",
    ("escalate-after", "escalate_after", "escalate"),
    default=10,
    high=120,
    label="escalate after (working days)",
    zero="never",
    describe=_describe,
)


def escalation_cutoff(day: date, after: int) -> date:
    """Actions due before this date are overdue by at least `after` working days on `day` (a working day)."""
    return add_working_days(day, -(after - 1))


def escalated(session: Session, group_id: int, settings: GroupSettings, day: date) -> list[ActionRow]:
    """The group's actions overdue by `escalate_after` working days or more on `day`, not snoozed."""
    if not settings.escalate_after:
        return []
    rows = list_actions(session, _overdue_enough(group_id, settings, day))
    return [r for r in rows if _escalates(r.action.due_date, r.action.snoozed_until, settings, day)]


def _overdue_enough(group_id: int, settings: GroupSettings, day: date) -> ActionFilter:
    return ActionFilter(group_id=group_id, due_before=escalation_cutoff(day, settings.escalate_after))


def _escalates(due: date | None, snoozed_until: date | None, settings: GroupSettings, day: date) -> bool:
    """Overdue by `escalate_after` working days or more on `day`, and not snoozed."""
    return (
        due is not None
        and awake_after(snoozed_until, day)
        and working_days_between(due, day) >= settings.escalate_after
    )


def plan(session: Session, day: date, tz: str) -> list[Planned]:
    """Chairs with escalations: rows keyed like the owner digest, so the planner merges them into it."""
    if not working(day):
        return []
    settings = settings_of(groups_by_id(session))
    escalating = [gid for gid, s in settings.items() if s.escalate_after]
    chairs = chairs_by_group(session, escalating)
    refs: dict[str, list[list[int]]] = defaultdict(list)
    for gid in escalating:
        # Plain rows: planning needs only which actions; the chair's message is built when it is sent.
        numbers = [
            r.number
            for r in chase_refs(session, _overdue_enough(gid, settings[gid], day))
            if _escalates(r.due_date, r.snoozed_until, settings[gid], day)
        ]
        for chair in chairs[gid] if numbers else []:
            refs[chair].extend([gid, n] for n in numbers)
    return owner_digest_rows(refs, day, tz)


@dataclass
class Escalation:
    """One group's escalated actions, for a chair's digest."""

    group: TaskGroup
    after: int  # working days
    rows: list[ActionRow]


def escalations_for(session: Session, user_id: str, day: date, shown: set[int]) -> list[Escalation]:
    """The escalations in this person's digest on `day`: the groups they chair, leaving out actions already
    listed as their own (`shown`, action ids)."""
    chaired = chaired_group_ids(session, user_id)
    groups = groups_by_id(session, chaired)
    settings = settings_of(groups)
    found = []
    for gid in chaired:
        rows = [r for r in escalated(session, gid, settings[gid], day) if r.action.id not in shown]
        if rows:
            found.append(Escalation(groups[gid], settings[gid].escalate_after, rows))
    return found


def render_escalations(escalations: list[Escalation], day: date) -> tuple[list[Section], list[str]]:
    """The chair's part of the digest: (sections, parts of the notification text)."""
    sections: list[Section] = []
    text_parts: list[str] = []
    for e in escalations[:MAX_ESCALATION_GROUPS]:
        text = md(
            ":rotating_light: *Escalation — {}:* {} overdue by {} or more. As chair you may want to follow these up.",
            group_label(e.group),
            plural(len(e.rows), "action"),
            plural(e.after, "working day"),
        )
        shown = 0
        for r in e.rows[:MAX_ESCALATION_LINES]:
            line = md("\n• {}", action_line(r, day))  # the line says how overdue, in working days
            if len(text) + len(line) > ESCALATION_SECTION_CHARS - 80:
                break
            text += line
            shown += 1
        if len(e.rows) > shown:
            text += md("\n…and {} more (`/ecm actions overdue` in the channel).", len(e.rows) - shown)
        sections.append(Section(text))
        text_parts.append(
            f"{plural(len(e.rows), 'action')} to escalate in {group_label(e.group)}: {fallback_list(e.rows)}"
        )
    if len(escalations) > MAX_ESCALATION_GROUPS:
        rest = escalations[MAX_ESCALATION_GROUPS:]
        sections.append(
            Section(
                md(
                    ":rotating_light: *Also to escalate:* {}. `/ecm actions overdue` in each group's channel lists them.",
                    clip(
                        Mrkdwn("; ").join(
                            md("{}: {}", group_label(e.group), plural(len(e.rows), "action")) for e in rest
                        ),
                        2000,
                    ),
                )
            )
        )
        text_parts.append(f"more to escalate in {plural(len(rest), 'other group')}")
    return sections, text_parts


POST = PostKind(
    name="escalation",
    label="escalation",
    job=Job("escalation", "actions overdue by escalate-after working days, in the chairs' digest DMs"),
    plan=plan,
    posts_as=OWNER_DIGEST,  # built and sent as part of the chair's owner digest
    settings=(ESCALATE_AFTER,),
)
