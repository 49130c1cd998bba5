"""What the kinds of scheduled post share: when posts go out, the chasers' switch and job, the buttons on
chaser DMs, and small helpers for reading actions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from commands.dates import format_date
from commands.home import UPDATE_FORM, action_ref
from commands.mrkdwn import Mrkdwn, text
from commands.posts.kind import GroupSettings, Job, NotWanted, switch
from commands.replies import Button
from commands.text import truncate
from commands.workdays import is_working_day
from storage import notifications
from storage.actions import ActionRow, get_action
from storage.clock import london_datetime
from storage.groups import get_group_by_id
from storage.models import LIVE_STATUSES, NotificationStatus, TaskGroup
from storage.notifications import Claimed, Planned

POST_HOUR = 9  # every scheduled post goes at 09:00 local time on a working day

# Button action ids on chaser DMs (handled in bot/listeners/chaser_buttons.py).
DONE_ACTION = "ecm_chaser_done"
SNOOZE_ACTION = "ecm_chaser_snooze"
NOTE_ACTION = "ecm_chaser_note"
NOTE_CALLBACK = "ecm_chaser_note_modal"


# The owner digest and the due-soon nudge are both "the chasers": one job, one switch.
CHASERS_JOB = Job("chasers", "owner digest DMs and due-soon nudges, 09:00 each working day")


def _describe_chasers(s: GroupSettings) -> str:
    return f"• Owner digest DMs of overdue actions: *{'on' if s.chasers else 'off'}* (`chasers:{'off' if s.chasers else 'on'}`)"


CHASERS = switch("chasers", ("chasers",), label="chasers", describe=_describe_chasers)


def post_time(day: date, tz: str) -> datetime:
    return london_datetime(day, POST_HOUR, 0, tz)


def working(day: date) -> bool:
    return is_working_day(day)


def awake(row: ActionRow, day: date) -> bool:
    """Not snoozed on `day` (see `awake_after`)."""
    return awake_after(row.action.snoozed_until, day)


def awake_after(snoozed_until: date | None, day: date) -> bool:
    """Not snoozed on `day`: `snoozed_until` is the last quiet day, as `/ecm show` displays it."""
    return snoozed_until is None or snoozed_until < day


def live(row: ActionRow) -> bool:
    return row.action.status in LIVE_STATUSES


@dataclass(frozen=True)
class ActionRef:
    """An action named the way buttons and payloads carry it: group id and number."""

    group_id: int
    number: int

    def encode(self, kind: str) -> str:
        return f"{kind}:{self.group_id}:{self.number}"

    @classmethod
    def decode(cls, value: str) -> tuple[str, ActionRef]:
        kind, group_id, number = value.rsplit(":", 2)
        return kind, cls(int(group_id), int(number))

    @classmethod
    def of(cls, row: ActionRow) -> ActionRef:
        return cls(row.action.group_id, row.action.number)


def dated_kind(kind: str, day: date) -> str:
    """The kind a DM's buttons carry, with the day the DM was for: `due_soon@2026-11-23`."""
    return f"{kind}@{day.isoformat()}"


def split_kind(kind: str) -> tuple[str, date | None]:
    """`due_soon@2026-11-23` -> ("due_soon", that day); a kind without a day -> (kind, None)."""
    base, _, day = kind.partition("@")
    try:
        return base, date.fromisoformat(day) if day else None
    except ValueError:
        return base, None


def action_buttons(row: ActionRow, kind: str) -> list[Button]:
    value = ActionRef.of(row).encode(kind)
    return [
        Button("Done", DONE_ACTION, value, style="primary"),
        Button("Snooze a week", SNOOZE_ACTION, value),
        Button("Add update", NOTE_ACTION, value),
        # The full Update form (status, RAG, due date, owners, organisation), as on the Home tab.
        Button("Update action", UPDATE_FORM, action_ref(row.action.group_id, row.action.number)),
    ]


def why_gone(session: Session, refs: list[list[int]], day: date) -> str:
    """Why the actions a post was planned for no longer need it, e.g. "#3 is done; #5 is snoozed"."""
    reasons: list[str] = []
    for group_id, number in refs[:10]:
        row = get_action(session, group_id, number)
        if row is None:
            reasons.append(f"#{number} is gone")
        elif not live(row):
            reasons.append(f"#{number} is {row.action.status.value}")
        elif not awake(row, day):
            reasons.append(f"#{number} is snoozed until {format_date(row.action.snoozed_until)}")  # type: ignore[arg-type]
        else:
            reasons.append(f"#{number} was moved or reassigned")
    return "; ".join(reasons)


def group_label(group: TaskGroup) -> Mrkdwn:
    return text(truncate(group.name, 80))


MAX_BUTTON_ACTIONS = 15  # each costs two blocks; Slack allows 50 blocks in a message


def fallback_list(rows: list[ActionRow], limit: int = 8) -> str:
    """`#3, #5 and 2 more` for notification text."""
    numbers = [f"#{r.action.number}" for r in rows[:limit]]
    more = len(rows) - len(numbers)
    return ", ".join(numbers) + (f" and {more} more" if more > 0 else "")


# The owner digest DM: one a day per person, which also carries a chair's escalations (commands/posts/escalation.py).
OWNER_DIGEST = "owner_digest"


def owner_digest_key(user_id: str, day: date) -> str:
    return f"owner-digest:{user_id}:{day.isoformat()}"


def legacy_nudge_key(user_id: str, day: date) -> str:
    """The due-soon nudge's own key before it was folded into the owner digest (0.1.0): a database upgraded
    during a working day may already have sent that day's nudge under it."""
    return f"due-soon:{user_id}:{day.isoformat()}"


LEGACY_NUDGED = (NotificationStatus.SENT, NotificationStatus.SENDING, NotificationStatus.PENDING)


def nudged_under_legacy_keys(session: Session, people: Iterable[tuple[str, date]]) -> set[tuple[str, date]]:
    """Which (person, day) already had that day's nudge sent (or on its way) under its 0.1.0 key: that
    nudge counts as sent, so neither a bare nudge nor the due-soon part of their digest goes out again."""
    wanted = {legacy_nudge_key(user, day): (user, day) for user, day in people}
    return {wanted[k] for k in notifications.keys_with_status(session, list(wanted), LEGACY_NUDGED)}


def owner_digest_rows(refs: dict[str, list[list[int]]], day: date, tz: str) -> list[Planned]:
    """One owner-digest row per person, carrying the [group id, number] of the actions it was planned for
    (the owners' plan and the chairs' escalations both make these; the planner merges rows with one key)."""
    return [
        Planned(
            key=owner_digest_key(user, day),
            kind=OWNER_DIGEST,
            recipient=user,
            for_date=day,
            due_at=post_time(day, tz),
            payload={"actions": actions[:200]},
        )
        for user, actions in sorted(refs.items())
    ]


def group_still_there(session: Session, item: Claimed) -> TaskGroup:
    """The task group a channel post was planned for; NotWanted once it is gone."""
    group = get_group_by_id(session, item.group_id)
    if group is None:
        raise NotWanted("the task group no longer exists")
    return group
