"""Owner digest: on each working day at 09:00, one DM per person listing their overdue actions across all
their task groups, each with Done / Snooze a week / Add update buttons.

Escalation lives here too: a chair's digest also lists the actions of the groups they chair that are
overdue by `escalate-after` working days (default 10) or more, so nobody gets two DMs from the bot in a
morning. Both plans use the same key, `owner-digest:USER:DATE`: one message per person per day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from bot.jobs.common import (
    MAX_BUTTON_ACTIONS,
    NotWanted,
    action_buttons,
    awake,
    fallback_list,
    group_label,
    groups_by_id,
    post_time,
    settings_of,
    why_gone,
    working,
)
from commands.action_view import action_line
from commands.replies import Reply, Section, Visibility
from commands.text import plural
from commands.workdays import add_working_days, working_days_between
from storage.actions import ActionFilter, ActionRow, list_actions
from storage.members import chaired_group_ids, chairs_by_group
from storage.models import TaskGroup
from storage.notifications import Claimed, Planned
from storage.settings_schema import ChaserSettings

KIND = "owner_digest"
MAX_ESCALATION_LINES = 30
# The DM must stay one message (≤ 50 blocks): the chair's own actions take at most 35, so at most 10 groups'
# escalations are listed in full, each in one block (≤ 3000 characters), and any others in one line.
MAX_ESCALATION_GROUPS = 10
ESCALATION_SECTION_CHARS = 2900


def key(user_id: str, day: date) -> str:
    return f"owner-digest:{user_id}:{day.isoformat()}"


def escalation_cutoff(day: date, after: int) -> date:
    """Actions due before this date are overdue by at least `after` working days on `day` (a working day)."""
    return add_working_days(day, -(after - 1))


def _escalated(session: Session, group_id: int, settings: ChaserSettings, day: date) -> list[ActionRow]:
    if not settings.escalate_after:
        return []
    rows = list_actions(
        session, ActionFilter(group_id=group_id, due_before=escalation_cutoff(day, settings.escalate_after))
    )
    return [
        r
        for r in rows
        if awake(r, day) and working_days_between(r.action.due_date, day) >= settings.escalate_after
    ]  # type: ignore[arg-type]


def plan(
    session: Session, day: date, tz: str, *, owners: bool = True, escalations: bool = True
) -> list[Planned]:
    """Owners with overdue actions (`chasers` job) and chairs with escalations (`escalation` job)."""
    if not working(day):
        return []
    groups = groups_by_id(session)
    settings = settings_of(groups)
    refs: dict[str, list[list[int]]] = defaultdict(list)
    if owners and any(s.chasers for s in settings.values()):
        for row in list_actions(session, ActionFilter(due_before=day)):
            group_settings = settings.get(row.action.group_id)
            if group_settings and group_settings.chasers and awake(row, day):
                for owner in row.owners:
                    refs[owner].append([row.action.group_id, row.action.number])
    if escalations:
        escalating = [gid for gid, s in settings.items() if s.escalate_after]
        chairs = chairs_by_group(session, escalating)
        for gid in escalating:
            rows = _escalated(session, gid, settings[gid], day)
            for chair in chairs[gid] if rows else []:
                refs[chair].extend([gid, r.action.number] for r in rows)
    return [
        Planned(
            key=key(user, day),
            kind=KIND,
            recipient=user,
            for_date=day,
            due_at=post_time(day, tz),
            payload={"actions": actions[:200]},
        )
        for user, actions in sorted(refs.items())
    ]


@dataclass
class Digest:
    user_id: str
    day: date
    own: list[ActionRow] = field(default_factory=list)
    escalated: list[tuple[TaskGroup, ChaserSettings, list[ActionRow]]] = field(default_factory=list)
    groups: dict[int, TaskGroup] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.own and not any(rows for _, _, rows in self.escalated)


def digest_for(session: Session, user_id: str, day: date) -> Digest:
    """What this person's digest says on `day`, from current data."""
    own = list_actions(session, ActionFilter(owner=user_id, due_before=day))
    chaired = chaired_group_ids(session, user_id)
    groups = groups_by_id(session, {r.action.group_id for r in own} | set(chaired))
    settings = settings_of(groups)
    own = [
        r
        for r in own
        if r.action.group_id in groups and settings[r.action.group_id].chasers and awake(r, day)
    ]
    shown = {r.action.id for r in own}
    escalated = []
    for gid in chaired:
        rows = [r for r in _escalated(session, gid, settings[gid], day) if r.action.id not in shown]
        if rows:
            escalated.append((groups[gid], settings[gid], rows))
    return Digest(user_id=user_id, day=day, own=own, escalated=escalated, groups=groups)


def _overdue_by(row: ActionRow, day: date) -> str:
    return plural(working_days_between(row.action.due_date, day), "working day")  # type: ignore[arg-type]


def render_digest(digest: Digest, *, note: str | None = None) -> Reply:
    """The DM; `note` (e.g. "✓ #3 marked done") tops it when a button click refreshes it."""
    day, user = digest.day, digest.user_id
    multi_group = len({r.action.group_id for r in digest.own}) > 1
    sections: list[Section] = [Section(note)] if note else []
    text_parts: list[str] = []
    if digest.own:
        count = len(digest.own)
        sections.append(
            Section(f"<@{user}>, {plural(count, 'of your actions is', 'of your actions are')} overdue:")
        )
        for row in digest.own[:MAX_BUTTON_ACTIONS]:
            where = f" · _{group_label(digest.groups[row.action.group_id])}_" if multi_group else ""
            sections.append(Section(f"{action_line(row, day)}{where}", buttons=action_buttons(row, KIND)))
        if count > MAX_BUTTON_ACTIONS:
            sections.append(
                Section(
                    f"…and {count - MAX_BUTTON_ACTIONS} more: `/ecm actions mine overdue` in the "
                    "task group's channel lists them all."
                )
            )
        text_parts.append(f"{plural(count, 'overdue action')} of yours: {fallback_list(digest.own)}")
    for group, settings, rows in digest.escalated[:MAX_ESCALATION_GROUPS]:
        text = (
            f":rotating_light: *Escalation — {group_label(group)}:* {plural(len(rows), 'action')} overdue by "
            f"{plural(settings.escalate_after, 'working day')} or more. As chair you may want to follow these up."
        )
        shown = 0
        for r in rows[:MAX_ESCALATION_LINES]:
            line = f"\n• {action_line(r, day)} · *overdue by {_overdue_by(r, day)}*"
            if len(text) + len(line) > ESCALATION_SECTION_CHARS - 80:
                break
            text += line
            shown += 1
        if len(rows) > shown:
            text += f"\n…and {len(rows) - shown} more (`/ecm actions overdue` in the channel)."
        sections.append(Section(text))
        text_parts.append(
            f"{plural(len(rows), 'action')} to escalate in {group_label(group)}: {fallback_list(rows)}"
        )
    if len(digest.escalated) > MAX_ESCALATION_GROUPS:
        rest = digest.escalated[MAX_ESCALATION_GROUPS:]
        sections.append(
            Section(
                ":rotating_light: *Also to escalate:* "
                + "; ".join(f"{group_label(g)}: {plural(len(rows), 'action')}" for g, _, rows in rest)[:2000]
                + ". `/ecm actions overdue` in each group's channel lists them."
            )
        )
        text_parts.append(f"more to escalate in {plural(len(rest), 'other group')}")
    if not digest.own and not digest.escalated:
        sections.append(Section("Nothing of yours is overdue now. :tada:"))
        text_parts.append("nothing overdue")
    header = "Your overdue actions" if digest.own else "Overdue actions to follow up"
    if digest.own or not digest.escalated:
        footer = (
            "*Done* closes an action, *Snooze a week* pauses its chasers, *Add update* records progress. "
            'For more, `/ecm update N` or `/ecm snooze N until:DATE "reason"` in the task group\'s channel. '
            "Chairs can change chasers with `/ecm setup`."
        )
    else:  # only escalations, which have no buttons
        footer = (
            "Follow these up with their owners; `/ecm actions overdue` in the task group's channel lists them. "
            "Chairs change when actions are escalated with `/ecm setup escalate-after:N` (0 = never)."
        )
    return Reply(
        text="; ".join(text_parts),
        visibility=Visibility.DM,
        recipient=user,
        header=header,
        sections=sections,
        footer=footer,
    )


def build(session: Session, item: Claimed, tz: str) -> Reply:
    digest = digest_for(session, item.recipient, item.for_date)
    if digest.empty:
        reason = why_gone(session, item.payload.get("actions", []), item.for_date)
        raise NotWanted("nothing overdue any more" + (f": {reason}" if reason else ""))
    return render_digest(digest)
