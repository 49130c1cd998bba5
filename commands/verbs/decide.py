"""`/ecm decide "text" [status:agreed|deferred|rejected|noted]`: chairs record a numbered decision."""

from __future__ import annotations

from commands.context import Call
from commands.dates import format_date
from commands.meeting_input import parse_decision_status, require_open
from commands.meeting_view import meeting_name, show_text, text_with_mentions
from commands.mrkdwn import md, person
from commands.registry import verb
from commands.replies import Reply, Section, UserError, Visibility
from storage import decisions as decision_store
from storage import meetings as meeting_store
from storage.models import Decision, DecisionStatus

MAX_DECISION = 2000


@verb(
    "decide",
    summary="Record a decision of the meeting now open (chairs): numbered D1, D2, …",
    usage='/ecm decide "text" [status:agreed|deferred|rejected|noted]',
    examples=[
        '/ecm decide "Adopt the joint CAF training plan"',
        '/ecm decide "Youth strategy consultation" status:deferred',
    ],
    keys=("status",),
    section="Meetings",
    chair_only=True,
    changes=True,
    details="Link an action to the decision it carries out with `/ecm add TITLE decision:D3` or "
    "`/ecm update N decision:D3`. `/ecm decisions` is the register.",
)
def decide(call: Call) -> list[Reply]:
    text = text_with_mentions(call.args)
    status = (
        parse_decision_status(call.args.keys["status"])
        if "status" in call.args.keys
        else DecisionStatus.AGREED
    )
    return record(call, text, status)[1]


def record(call: Call, text: str, status: DecisionStatus) -> tuple[Decision, list[Reply]]:
    """Records a decision of the open meeting (chairs; `decide` and the Record decision form): the decision
    and its channel post."""
    call.require_chair("record a decision")
    if not text:
        raise UserError("Say what was decided, in quotes.")
    if len(text) > MAX_DECISION:
        raise UserError(f"That decision is too long ({len(text)} characters; {MAX_DECISION} at most).")
    meeting = require_open(call, "record a decision")
    decision = decision_store.record_decision(
        call.session, call.task_group, meeting, text=text, status=status, by=call.user_id, at=call.now
    )
    number = meeting_store.meeting_number(call.session, meeting)
    label = f"D{decision.number}"
    return decision, [
        Reply(
            text=f"Decision {label} ({status.value}): {show_text(text)}",
            visibility=Visibility.CHANNEL,
            sections=[
                Section(
                    md(
                        ":ballot_box_with_check: *{}* _({})_ {}\nRecorded by {} at {} (*{}*), {}.",
                        label,
                        status.value,
                        show_text(text),
                        person(call.user_id),
                        meeting_name(meeting, number),
                        meeting.title,
                        format_date(call.today),
                    )
                )
            ],
            footer=md("Link actions to it: `/ecm add TITLE decision:{}`.", label),
        )
    ]
