"""`/ecm show N`: one action with its progress notes and full history (only you see it)."""

from __future__ import annotations

from commands.action_input import take_number
from commands.action_ops import can_change, load_action
from commands.action_view import action_detail
from commands.context import Call
from commands.home import UPDATE_FORM, action_ref
from commands.mrkdwn import md
from commands.registry import verb
from commands.replies import Button, Reply, UserError
from commands.text import truncate
from storage import actions as store
from storage import audit


@verb(
    "show",
    summary="One action in full, with its progress notes and history.",
    usage="/ecm show N",
    examples=["/ecm show 12", "/ecm show #12"],
    aliases=("view",),
)
def show(call: Call) -> list[Reply]:
    number, rest = take_number(call, "/ecm show 12")
    if rest:
        raise UserError("`/ecm show` takes just the action number.")
    row = load_action(call.actor(), number)
    action = row.action
    assert action.id is not None
    decision, meeting = store.links(call.session, action)
    sections = action_detail(
        row,
        call.today,
        audit.history(call.session, "action", action.id),
        store.notes(call.session, action.id),
        decision=decision,
        meeting=meeting,
        tz=call.timezone,
    )
    may_change = can_change(call.actor(), row)
    footer = (
        md('`/ecm update {0} "note" status:in-progress` · `/ecm done {0}`', number)
        if may_change
        else md("Owners or a chair can change #{}.", number)
    )
    if may_change:  # the Update form, for those who may use it
        sections[0].buttons.append(Button("Update", UPDATE_FORM, action_ref(call.group_id, number)))
    return [
        Reply(
            text=md("#{} {}", number, truncate(action.title, 200)),
            header=truncate(f"Action #{number}", 150),
            sections=sections,
            footer=footer,
        )
    ]
