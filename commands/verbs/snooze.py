"""`/ecm snooze N [until:DATE] "reason"`: no chasers for an action until then (owners or chairs).

`until` is the last quiet day (as `/ecm show` displays it); chasers resume on the next working day. The
default is a week: quiet for seven days, chased again a week today. `/ecm snooze N off` ends a snooze.
"""

from __future__ import annotations

from commands import action_ops
from commands.action_input import free_text, take_number
from commands.context import Call
from commands.dates import DATE_EXAMPLES, DateError, parse_date
from commands.grammar import text_with_mentions
from commands.registry import verb
from commands.replies import Reply, UserError

OFF_WORDS = frozenset({"off", "stop", "end", "clear", "none", "cancel", "wake"})


@verb(
    "snooze",
    summary="Pause the chasers for an action, a week or until a date, saying why (owners or chairs).",
    usage='/ecm snooze N [until:DATE] "reason"',
    examples=[
        '/ecm snooze 12 "Waiting for the Board on 3 Dec"',
        action_ops.SNOOZE_EXAMPLE,
        "/ecm snooze 12 off",
    ],
    keys=("until",),
    changes=True,
    details="No DMs, nudges or escalations about the action up to and including that day (default: for a "
    "week); it still shows in the channel digest, marked snoozed. `/ecm snooze N off` ends it early.",
)
def snooze(call: Call) -> list[Reply]:
    number, rest = take_number(call, action_ops.SNOOZE_EXAMPLE)
    actor = call.actor()
    words = free_text(rest)
    until_text = call.args.key("until")
    if words.lower() in OFF_WORDS and until_text is None:
        return action_ops.end_snooze(actor, number).replies
    action_ops.load_for_change(actor, number, "snooze its chasers")  # who may, before the date is read
    until = None
    if until_text is not None:
        try:
            until = parse_date(until_text, call.today)
        except DateError as error:
            raise UserError(str(error), f"Dates are UK style: {DATE_EXAMPLES}.") from error
    # The reason is shown like a note: real mentions stay mentions, typed-out ones stay text.
    return action_ops.snooze(actor, number, text_with_mentions(rest), until).replies
