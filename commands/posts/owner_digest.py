"""Owner digest: on each working day at 09:00, one DM per person listing their overdue actions across all
their task groups, each with Done / Snooze a week / Add update buttons.

A chair's digest also carries the escalations of the groups they chair (commands/posts/escalation.py), and
everyone's carries their due-soon nudge (commands/posts/due_soon.py): all three plan under the key
`owner-digest:USER:DATE`, so each person gets one message a working day. Load, then render:
`digest_for` reads the data into a `Digest`, `render_digest` formats it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from commands.action_view import action_line
from commands.mrkdwn import Mrkdwn, md, person, text
from commands.posts import due_soon
from commands.posts.common import (
    CHASERS,
    CHASERS_JOB,
    MAX_BUTTON_ACTIONS,
    OWNER_DIGEST,
    action_buttons,
    awake,
    awake_after,
    fallback_list,
    group_label,
    nudged_under_legacy_keys,
    owner_digest_key,
    owner_digest_rows,
    why_gone,
    working,
)
from commands.posts.escalation import Escalation, escalations_for, render_escalations
from commands.posts.kind import NotWanted, PostKind
from commands.posts.settings import settings_of
from commands.replies import Reply, Section, Visibility
from commands.text import plural
from storage.actions import ActionFilter, ActionRow, chase_refs, list_actions
from storage.groups import groups_by_id
from storage.models import TaskGroup
from storage.notifications import Claimed, Planned

KIND = OWNER_DIGEST
key = owner_digest_key


def plan(session: Session, day: date, tz: str) -> list[Planned]:
    """Owners with overdue actions in groups whose chasers are on (the chairs' escalations plan apart)."""
    if not working(day):
        return []
    settings = settings_of(groups_by_id(session))
    refs: dict[str, list[list[int]]] = defaultdict(list)
    if any(s.chasers for s in settings.values()):
        for ref in chase_refs(session, ActionFilter(due_before=day)):
            group_settings = settings.get(ref.group_id)
            if group_settings and group_settings.chasers and awake_after(ref.snoozed_until, day):
                for owner in ref.owners:
                    refs[owner].append([ref.group_id, ref.number])
    return owner_digest_rows(refs, day, tz)


@dataclass
class Digest:
    """What one person's digest says on `day`: their overdue actions and, for a chair, the escalations."""

    user_id: str
    day: date
    own: list[ActionRow] = field(default_factory=list)
    escalated: list[Escalation] = field(default_factory=list)
    groups: dict[int, TaskGroup] = field(default_factory=dict)
    soon: list[ActionRow] = field(default_factory=list)  # the due-soon nudge, folded in (one DM a day)

    @property
    def empty(self) -> bool:
        return not self.own and not self.soon and not any(e.rows for e in self.escalated)


def digest_for(session: Session, user_id: str, day: date) -> Digest:
    """What this person's digest says on `day`, from current data."""
    own = list_actions(session, ActionFilter(owner=user_id, due_before=day))
    groups = groups_by_id(session, {r.action.group_id for r in own})
    settings = settings_of(groups)
    own = [
        r
        for r in own
        if r.action.group_id in groups and settings[r.action.group_id].chasers and awake(r, day)
    ]
    escalated = escalations_for(session, user_id, day, {r.action.id for r in own if r.action.id is not None})
    soon = due_soon.rows_for(session, user_id, day)
    groups.update(groups_by_id(session, {r.action.group_id for r in soon} - set(groups)))
    return Digest(user_id=user_id, day=day, own=own, escalated=escalated, groups=groups, soon=soon)


def render_digest(digest: Digest, *, note: str | None = None) -> Reply:
    """The DM; `note` (e.g. "✓ #3 marked done") tops it when a button click refreshes it."""
    day, user = digest.day, digest.user_id
    multi_group = len({r.action.group_id for r in digest.own}) > 1
    sections: list[Section] = [Section(text(note))] if note else []
    text_parts: list[str] = []
    if digest.own:
        count = len(digest.own)
        sections.append(
            Section(
                md(
                    "{}, {} overdue:",
                    person(user),
                    plural(count, "of your actions is", "of your actions are"),
                )
            )
        )
        for row in digest.own[:MAX_BUTTON_ACTIONS]:
            where = md(" · _{}_", group_label(digest.groups[row.action.group_id])) if multi_group else ""
            sections.append(Section(action_line(row, day) + where, buttons=action_buttons(row, KIND)))
        if count > MAX_BUTTON_ACTIONS:
            sections.append(
                Section(
                    md(
                        "…and {} more: `/ecm actions mine overdue` in the task group's channel lists them all.",
                        count - MAX_BUTTON_ACTIONS,
                    )
                )
            )
        text_parts.append(f"{plural(count, 'overdue action')} of yours: {fallback_list(digest.own)}")
    if digest.soon:
        # Shares the button budget with the overdue list, so the DM stays within Slack's 50 blocks.
        room = max(0, MAX_BUTTON_ACTIONS - min(len(digest.own), MAX_BUTTON_ACTIONS))
        soon_multi = len({r.action.group_id for r in [*digest.own, *digest.soon]}) > 1
        lead = "Due soon" if digest.own else md("{}, due soon", person(user))
        sections.append(Section(md("{}: {}", lead, plural(len(digest.soon), "action"))))
        for row in digest.soon[:room]:
            where = md(" · _{}_", group_label(digest.groups[row.action.group_id])) if soon_multi else ""
            sections.append(Section(action_line(row, day) + where, buttons=action_buttons(row, KIND)))
        if len(digest.soon) > room:
            sections.append(
                Section(
                    md(
                        "…{}{} due soon{}: `/ecm actions mine soon` in the task group's channel lists them.",
                        "and " if room else "",
                        len(digest.soon) - room,
                        " not shown" if room else "",
                    )
                )
            )
        text_parts.append(f"due soon: {fallback_list(digest.soon)}")
    escalation_sections, escalation_text = render_escalations(digest.escalated, day)
    sections += escalation_sections
    text_parts += escalation_text
    if not digest.own and not digest.escalated and not digest.soon:
        sections.append(Section(Mrkdwn("Nothing of yours is overdue now. :tada:")))
        text_parts.append("nothing overdue")
    header = (
        "Your overdue actions"
        if digest.own
        else ("Due soon" if digest.soon else "Overdue actions to follow up")
    )
    if digest.own or digest.soon or not digest.escalated:
        footer = Mrkdwn(
            "*Done* closes an action, *Snooze a week* pauses its chasers, *Add update* records progress. "
            'For more, `/ecm update N` or `/ecm snooze N until:DATE "reason"` in the task group\'s channel. '
            "Chairs can change chasers with `/ecm setup`."
        )
    else:  # only escalations, which have no buttons
        footer = Mrkdwn(
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
    if digest.soon and nudged_under_legacy_keys(session, [(item.recipient, item.for_date)]):
        digest.soon = []  # today's nudge went out on its own before an upgrade: not again
    if digest.empty:
        reason = why_gone(session, item.payload.get("actions", []), item.for_date)
        raise NotWanted("nothing overdue any more" + (f": {reason}" if reason else ""))
    return render_digest(digest)


POST = PostKind(
    name=KIND,
    label="owner digest",
    job=CHASERS_JOB,
    plan=plan,
    build=build,
    settings=(CHASERS,),
)
