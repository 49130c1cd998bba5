"""The chair's meeting forms without Slack: "Take attendance" (one row per member, one submit records them
all) and "Record decision" (text, status, the actions it links).

They go through the same code as `/ecm present`, `/ecm apologies` and `/ecm decide` (`record_one`,
`describe`, `attendance_post`, `decide.record`) and link actions with `commands.action_ops.change`, so the
rules, the audit trail (a correction keeps the earlier record) and the channel's words are the commands'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from commands import action_ops as ops
from commands.action_fields import ActionChange
from commands.context import Call
from commands.forms import OPTION_TEXT, Choice, FormErrors
from commands.meeting_input import RECORD_DECISION, TAKE_ATTENDANCE, parse_decision_status, require_open
from commands.mrkdwn import Mrkdwn, md, person
from commands.replies import Reply, Section, UserError
from commands.text import truncate
from commands.verbs import decide
from commands.verbs.attendance import ForWhom, attendance_post, describe, record_one
from storage import actions as store
from storage import attendance as attendance_store
from storage import members as member_store
from storage.actions import ActionFilter
from storage.models import AttendanceMode, Meeting

__all__ = ["RECORD_DECISION", "TAKE_ATTENDANCE"]  # re-exported for the Slack side

MAX_ROWS = 80  # members shown as rows (a modal holds 100 blocks); the rest by command
SUBSTITUTE_ROWS = 3
DECISION_TEXT = "text"
DECISION_STATUS = "status"
DECISION_ACTIONS = "actions"

ROW_CHOICES = [
    Choice(AttendanceMode.PRESENT.value, "Present"),
    Choice(AttendanceMode.VIRTUAL.value, "Joined remotely"),
    Choice(AttendanceMode.APOLOGIES.value, "Apologies"),
    Choice(AttendanceMode.ABSENT.value, "Absent"),
]
DECISION_STATUS_CHOICES = [Choice(s, s.capitalize()) for s in ("agreed", "deferred", "rejected", "noted")]


def row_field(user_id: str) -> str:
    return f"att-{user_id}"


def substitute_field(i: int) -> str:
    return f"sub-{i}"


def substitute_for_field(i: int) -> str:
    return f"subfor-{i}"


@dataclass
class AttendanceRow:
    user_id: str
    organisation: str
    current: str | None  # the mode recorded now, if any


@dataclass
class AttendanceOffer:
    meeting_id: int
    title: str
    rows: list[AttendanceRow]
    members: list[Choice]  # whom a substitute can stand in for
    left_out: int = 0


def _open_meeting(call: Call, doing: str, meeting_id: int | None = None) -> Meeting:
    call.require_chair(doing)
    meeting = require_open(call, doing)
    if meeting_id is not None and meeting.id != meeting_id:
        raise UserError(
            "That meeting is no longer open, so nothing was recorded.",
            "Use the buttons on the post of the meeting now open.",
        )
    return meeting


def member_choices(call: Call) -> list[Choice]:
    """Whom a substitute can stand in for: the group's members, by name and organisation."""
    return [
        Choice(
            m.user_id,
            truncate(" — ".join(x for x in (m.display_name, m.organisation) if x) or m.user_id, OPTION_TEXT),
        )
        for m in member_store.list_members(call.session, call.group_id)
    ]


def action_choices(call: Call) -> list[Choice]:
    """The group's open actions a decision can link, newest first."""
    rows = store.list_actions(call.session, ActionFilter(group_id=call.group_id), limit=1000, order="number")
    return [
        Choice(str(r.number), truncate(f"#{r.number} {r.action.title}", OPTION_TEXT)) for r in reversed(rows)
    ]


def offer_attendance(call: Call, meeting_id: int | None = None) -> AttendanceOffer:
    """Chairs only, while a meeting is open (UserError with the commands' words otherwise)."""
    meeting = _open_meeting(call, "take attendance", meeting_id)
    assert meeting.id is not None
    current = {a.user_id: a.mode.value for a in attendance_store.current_attendance(call.session, meeting.id)}
    members = member_store.list_members(call.session, call.group_id)
    rows = [AttendanceRow(m.user_id, m.organisation, current.get(m.user_id)) for m in members]
    choices = [
        Choice(m.user_id, truncate(m.display_name or m.organisation or m.user_id, OPTION_TEXT))
        for m in members
    ]
    return AttendanceOffer(meeting.id, meeting.title, rows[:MAX_ROWS], choices, max(0, len(rows) - MAX_ROWS))


@dataclass
class AttendanceForm:
    modes: dict[str, str] = field(default_factory=dict)  # user id -> mode chosen (rows left empty absent)
    substitutes: list[tuple[str, str | None]] = field(default_factory=list)  # (who came, for whom)


def record_attendance_form(call: Call, meeting_id: int, form: AttendanceForm) -> list[Reply]:
    """Records every row that changed, in one go, as `/ecm present`/`apologies` would; FormErrors (nothing
    recorded) when a row can't be."""
    meeting = _open_meeting(call, "take attendance", meeting_id)
    assert meeting.id is not None
    current = {a.user_id: a.mode.value for a in attendance_store.current_attendance(call.session, meeting.id)}
    lines: list[Mrkdwn] = []
    errors: dict[str, str] = {}
    for user_id, mode in form.modes.items():
        if not mode or current.get(user_id) == mode:
            continue  # unchanged: nothing to record (and no "already recorded" noise)
        try:
            lines.append(describe(*record_one(call, meeting, user_id, AttendanceMode(mode), None)))
        except (UserError, ValueError) as error:
            errors[row_field(user_id)] = getattr(error, "message", str(error))
    for i, (user_id, whom) in enumerate(form.substitutes):
        if not user_id:
            continue
        if not whom:
            errors[substitute_for_field(i)] = "Choose the member they stand in for."
            continue
        member = member_store.get_member(call.session, call.group_id, whom)
        try:
            if member is None:
                raise UserError(md("{} is not a registered member of this task group.", person(whom)))
            record = record_one(
                call, meeting, user_id, AttendanceMode.SUBSTITUTE, ForWhom(member.organisation, member)
            )
            lines.append(describe(*record))
        except UserError as error:
            errors[substitute_field(i)] = error.message
    if errors:
        raise FormErrors(errors)
    if not lines:
        first = row_field(next(iter(form.modes), "")) if form.modes else substitute_field(0)
        raise FormErrors({first: "Nothing has changed: choose how someone attended, or close the form."})
    return attendance_post(call, meeting, lines)


@dataclass
class DecisionOffer:
    meeting_id: int
    title: str
    actions: list[Choice]  # open actions it can link, newest first


def offer_decision(call: Call, meeting_id: int | None = None) -> DecisionOffer:
    meeting = _open_meeting(call, "record a decision", meeting_id)
    assert meeting.id is not None
    rows = store.list_actions(call.session, ActionFilter(group_id=call.group_id), limit=500, order="number")
    choices = [
        Choice(str(r.number), truncate(f"#{r.number} {r.action.title}", OPTION_TEXT)) for r in reversed(rows)
    ]
    return DecisionOffer(meeting.id, meeting.title, choices)


def record_decision_form(
    call: Call, meeting_id: int, text: str, status: str | None, numbers: list[str]
) -> list[Reply]:
    """`/ecm decide "text" status:…`, then each chosen action linked to it (as `/ecm update N decision:D…`)."""
    _open_meeting(call, "record a decision", meeting_id)
    try:
        decision_status = parse_decision_status(status or "agreed")
    except UserError as error:
        raise FormErrors({DECISION_STATUS: error.message}) from error
    try:
        decision, replies = decide.record(call, ops.typed_text(text), decision_status)
    except UserError as error:
        raise FormErrors({DECISION_TEXT: error.message}) from error
    linked: list[Mrkdwn] = []
    for value in numbers:
        try:
            number = int(value)
            ops.change(call.actor(), number, ActionChange(decision_id=decision.id))
        except (UserError, ValueError) as error:
            raise FormErrors({DECISION_ACTIONS: getattr(error, "message", str(error))}) from error
        linked.append(md("*#{}*", number))
    if linked:
        post = replies[0]
        post.sections.append(Section(md("Carried out by {}.", Mrkdwn(", ").join(linked))))
    return replies
