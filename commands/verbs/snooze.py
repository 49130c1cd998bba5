"""`/ecm snooze N [until:DATE] "reason"`: no chasers for an action until then (owners or chairs).

`until` is the last quiet day (as `/ecm show` displays it); chasers resume on the next working day. The
default is a week: quiet for seven days, chased again a week today. `/ecm snooze N off` ends a snooze.
"""

from __future__ import annotations

from datetime import date, timedelta

from commands.action_input import (
    change_reply,
    check_note,
    free_text,
    load_action,
    require_owner_or_chair,
    take_number,
)
from commands.action_view import STATUS_LABEL
from commands.context import Call
from commands.dates import DATE_EXAMPLES, DateError, format_date, parse_date
from commands.registry import verb
from commands.replies import Reply, UserError
from commands.text import esc, truncate
from commands.workdays import next_working_day
from storage import actions as store
from storage.models import LIVE_STATUSES

DEFAULT_DAYS = 7
MAX_DAYS = 366
OFF_WORDS = frozenset({"off", "stop", "end", "clear", "none", "cancel", "wake"})
EXAMPLE = '/ecm snooze 12 until:end of month "Waiting for the Board decision"'


def default_until(today: date) -> date:
    """A week of quiet: the last quiet day is six days on, so the chasers resume a week today."""
    return today + timedelta(days=DEFAULT_DAYS - 1)


@verb(
    "snooze",
    summary="Pause the chasers for an action, a week or until a date, saying why (owners or chairs).",
    usage='/ecm snooze N [until:DATE] "reason"',
    examples=['/ecm snooze 12 "Waiting for the Board on 3 Dec"', EXAMPLE, "/ecm snooze 12 off"],
    keys=("until",),
    changes=True,
    details="No DMs, nudges or escalations about the action up to and including that day (default: for a "
    "week); it still shows in the channel digest, marked snoozed. `/ecm snooze N off` ends it early.",
)
def snooze(call: Call) -> list[Reply]:
    number, rest = take_number(call, EXAMPLE)
    row = load_action(call, number)
    require_owner_or_chair(call, row, "snooze its chasers")
    words = free_text(rest)
    title = esc(truncate(row.action.title, 200))
    if words.lower() in OFF_WORDS and "until" not in call.args.keys:
        if row.action.snoozed_until is None or row.action.snoozed_until < call.today:
            raise UserError(f"#{number} is not snoozed, so there is nothing to end.")
        diff = store.update_action(
            call.session, row, {"snoozed_until": None}, by=call.user_id, at=call.now, verb="unsnoozed"
        )
        return [
            change_reply(
                call,
                row,
                diff,
                None,
                "unsnoozed",
                f":alarm_clock: <@{call.user_id}> ended the snooze on *#{number}*: {title}",
            )
        ]
    if row.action.status not in LIVE_STATUSES:
        raise UserError(
            f"#{number} is {STATUS_LABEL[row.action.status]}, so nobody is being chased about it."
        )
    reason = check_note(words)
    if not reason:
        raise UserError(
            f"Say why the chasers for #{number} should pause, in quotes.", f"For example `{EXAMPLE}`."
        )
    if "until" in call.args.keys:
        try:
            until = parse_date(call.args.keys["until"], call.today)
        except DateError as error:
            raise UserError(esc(str(error)), f"Dates are UK style: {DATE_EXAMPLES}.") from error
        if until < call.today:
            raise UserError(
                f"{format_date(until)} is in the past; give the last day with no chasers.",
                f"For example `{EXAMPLE}`.",
            )
        if (until - call.today).days > MAX_DAYS:
            raise UserError(
                "A snooze can last a year at most. If the action is on hold for longer, say so with "
                f"`/ecm update {number} status:blocked` or change its due date."
            )
    else:
        until = default_until(call.today)
    diff = store.update_action(
        call.session, row, {"snoozed_until": until}, by=call.user_id, at=call.now, note=reason, verb="snoozed"
    )
    resume = next_working_day(until + timedelta(days=1))
    return [
        change_reply(
            call,
            row,
            diff,
            reason,
            "snoozed",
            f":zzz: <@{call.user_id}> snoozed the chasers for *#{number}* up to and including "
            f"{format_date(until)} (they resume {format_date(resume)}): {title}",
        )
    ]
