"""`/ecm status` (chairs): the bot's recent scheduled posts for this task group, and any failures.

Chairs use it to answer "did the digest go out?" and "why did nobody get chased?": each post with its
date, recipient and outcome, the reason for anything skipped or failed, and the settings in force.
"""

from __future__ import annotations

from datetime import timedelta

from commands import chaser_settings
from commands.context import Call
from commands.dates import format_date, format_datetime
from commands.mrkdwn import Mrkdwn, md, recipient
from commands.posts import registry
from commands.posts.settings import chaser_settings as group_chaser_settings
from commands.registry import verb
from commands.replies import Reply, Section
from commands.text import plural, truncate
from storage import notifications
from storage.members import recipient_ids
from storage.models import Notification, NotificationStatus

STATUS_MARKS = {
    NotificationStatus.PENDING: ":hourglass_flowing_sand: waiting",
    NotificationStatus.SENDING: ":outbox_tray: sending",
    NotificationStatus.SENT: ":white_check_mark: sent",
    NotificationStatus.FAILED: ":x: failed",
    NotificationStatus.SKIPPED: ":fast_forward: skipped",
}
RECENT = 15
WEEK = 7


def delivery_line(n: Notification, tz: str) -> Mrkdwn:
    line = md(
        "• {} · {} → {} · {}",
        format_date(n.for_date),
        registry.label(n.kind) or n.kind,
        recipient(n.recipient),
        STATUS_MARKS[n.status],
    )
    if n.status == NotificationStatus.SENT and n.sent_at:
        line += md(" {}", format_datetime(n.sent_at, tz)[-5:])
    if n.attempts > 1:
        line += md(" (attempt {})", n.attempts)
    if n.last_error and n.status != NotificationStatus.SENT:
        line += md(" — {}", truncate(n.last_error, 200))
    return line


@verb(
    "status",
    summary="Recent chasers, digests and reminders the bot posted for this group, and any failures (chairs).",
    usage="/ecm status",
    examples=["/ecm status"],
    section="Task group",
    chair_only=True,
)
def status(call: Call) -> list[Reply]:
    group = call.task_group
    tz = call.timezone
    members = recipient_ids(call.session, call.group_id)
    counts = notifications.status_counts(
        call.session, call.group_id, members, since=call.today - timedelta(days=WEEK)
    )
    recent = notifications.recent(call.session, call.group_id, members, limit=RECENT)
    failures = notifications.recent(
        call.session, call.group_id, members, limit=5, statuses=[NotificationStatus.FAILED]
    )
    summary = (
        ", ".join(f"{counts.get(s, 0)} {s.value}" for s in NotificationStatus if counts.get(s)) or "none"
    )
    sections = [Section(md("*Last {} days:* {}.", WEEK, summary))]
    if recent:
        sections.append(
            Section(
                md(
                    "*Latest {}* (newest first):\n{}",
                    plural(len(recent), "post"),
                    Mrkdwn("\n").join(delivery_line(n, tz) for n in recent),
                )
            )
        )
    else:
        sections.append(
            Section(
                Mrkdwn(
                    "Nothing has been planned for this group yet. Chasers go out at 09:00 on working "
                    "days once actions are overdue."
                )
            )
        )
    if failures:
        sections.append(
            Section(
                md(
                    "*Failures* — Slack refused these; `channel_not_found` / `not_in_channel` usually mean the bot "
                    "must be invited (`/invite @ECM Task Group`), `account_inactive` / `user_not_found` a person "
                    "who left:\n{}",
                    Mrkdwn("\n").join(delivery_line(n, tz) for n in failures),
                )
            )
        )
    sections.append(Section(chaser_settings.describe(group_chaser_settings(group))))
    failed = counts.get(NotificationStatus.FAILED, 0)
    return [
        Reply(
            text=md("Chaser status for {}: {}", group.name, summary)
            + (f" ({failed} failed)" if failed else ""),
            header="Chasers and digests: status",
            sections=sections,
            footer=Mrkdwn("Operators: `ecm-bot jobs list` shows the next runs."),
        )
    ]
