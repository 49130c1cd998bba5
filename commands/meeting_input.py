"""What the meeting verbs share when reading a command: the meeting that must be open, and decision statuses."""

from __future__ import annotations

from commands import meeting_view as view
from commands.context import Call
from commands.dates import format_datetime
from commands.mrkdwn import md
from commands.replies import UserError
from commands.text import slugify, truncate
from storage import meetings as meeting_store
from storage.models import DecisionStatus, Meeting

STATUS_WORDS = {
    "agreed": DecisionStatus.AGREED,
    "agree": DecisionStatus.AGREED,
    "approved": DecisionStatus.AGREED,
    "deferred": DecisionStatus.DEFERRED,
    "defer": DecisionStatus.DEFERRED,
    "rejected": DecisionStatus.REJECTED,
    "reject": DecisionStatus.REJECTED,
    "declined": DecisionStatus.REJECTED,
    "noted": DecisionStatus.NOTED,
    "note": DecisionStatus.NOTED,
}
# The chair's form buttons on the meeting-started post (values: the meeting's id); see commands.meeting_forms.
TAKE_ATTENDANCE = "ecm_meeting_attendance"
RECORD_DECISION = "ecm_meeting_decision"

STATUS_HINT = "Statuses: `agreed` (the default), `deferred`, `rejected`, `noted`."


def parse_decision_status(value: str) -> DecisionStatus:
    status = STATUS_WORDS.get(slugify(value))
    if status is None:
        raise UserError(md("“{}” is not a decision status.", truncate(value, 40)), STATUS_HINT)
    return status


def no_open_meeting(call: Call, doing: str) -> UserError:
    nxt = view.upcoming(call.session, call.task_group, call.now, call.timezone, 1)
    when = f" The next scheduled one is {format_datetime(nxt[0].at, call.timezone)}." if nxt else ""
    return UserError(
        f"There is no meeting open in this channel, so I can't {doing}.{when}",
        'A chair starts one with `/ecm meeting start "title"`.',
    )


def require_open(call: Call, doing: str) -> Meeting:
    meeting = meeting_store.open_meeting(call.session, call.group_id)
    if meeting is None:
        raise no_open_meeting(call, doing)
    return meeting
