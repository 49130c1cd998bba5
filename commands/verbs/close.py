"""`/ecm done N ["note"]`, `/ecm reopen N ["note"]` (owners or chairs) and `/ecm drop N "reason"` (chairs)."""

from __future__ import annotations

from commands.action_input import (
    change_reply,
    check_note,
    load_action,
    require_owner_or_chair,
    take_number,
)
from commands.action_view import STATUS_LABEL, action_line
from commands.context import Call
from commands.grammar import text_with_mentions
from commands.registry import verb
from commands.replies import Reply, Section, UserError
from commands.text import esc, truncate
from storage import actions as store
from storage.actions import ActionRow
from storage.models import LIVE_STATUSES, ActionStatus


def _already(call: Call, row: ActionRow, what: str) -> list[Reply]:
    message = f"Nothing changed: *#{row.action.number}* is already {what}."
    return [Reply(text=message, sections=[Section(message + "\n" + action_line(row, call.today))])]


def _title(row: ActionRow) -> str:
    return esc(truncate(row.action.title, 200))


@verb(
    "done",
    summary="Mark an action done, with an optional closing note (owners or chairs).",
    usage='/ecm done N ["note"]',
    examples=["/ecm done 12", '/ecm done 12 "Pathway agreed and circulated to all GP practices"'],
    aliases=("complete", "completed"),
    changes=True,
)
def done(call: Call) -> list[Reply]:
    number, rest = take_number(call, "/ecm done 12")
    row = load_action(call, number)
    require_owner_or_chair(call, row, "mark it done")
    note = check_note(text_with_mentions(rest)) or None
    if row.action.status == ActionStatus.DONE:
        return _already(call, row, "done")
    if row.action.status == ActionStatus.DROPPED and not call.is_chair:
        raise UserError(f"#{number} was dropped by a chair; only a chair can change it now.")
    diff = store.update_action(
        call.session, row, {"status": ActionStatus.DONE}, by=call.user_id, at=call.now, note=note, verb="done"
    )
    return [
        change_reply(
            call,
            row,
            diff,
            note,
            "done",
            f":white_check_mark: <@{call.user_id}> marked *#{number}* done: {_title(row)}",
        )
    ]


@verb(
    "reopen",
    summary="Reopen a done action (owners or chairs) or a dropped one (chairs).",
    usage='/ecm reopen N ["note"]',
    examples=["/ecm reopen 12", '/ecm reopen 12 "GP practices asked for a second round"'],
    changes=True,
)
def reopen(call: Call) -> list[Reply]:
    number, rest = take_number(call, "/ecm reopen 12")
    row = load_action(call, number)
    require_owner_or_chair(call, row, "reopen it")
    note = check_note(text_with_mentions(rest)) or None
    if row.action.status in LIVE_STATUSES:
        return _already(call, row, f"{STATUS_LABEL[row.action.status]} (not done or dropped)")
    if row.action.status == ActionStatus.DROPPED and not call.is_chair:
        raise UserError(f"#{number} was dropped by a chair; only a chair can reopen it.")
    diff = store.update_action(
        call.session,
        row,
        {"status": ActionStatus.OPEN},
        by=call.user_id,
        at=call.now,
        note=note,
        verb="reopened",
    )
    return [
        change_reply(
            call,
            row,
            diff,
            note,
            "reopened",
            f":arrows_counterclockwise: <@{call.user_id}> reopened *#{number}*: {_title(row)}",
        )
    ]


@verb(
    "drop",
    summary="Drop an action that will not be done, saying why (chairs). It stays in the history.",
    usage='/ecm drop N "reason"',
    examples=['/ecm drop 12 "Superseded by the county-wide strategy"'],
    chair_only=True,
    changes=True,
)
def drop(call: Call) -> list[Reply]:
    number, rest = take_number(call, '/ecm drop 12 "reason"')
    row = load_action(call, number)
    reason = check_note(text_with_mentions(rest))
    if not reason:
        raise UserError(
            f"Say why #{number} is being dropped, in quotes.",
            f'For example `/ecm drop {number} "Superseded by the county-wide strategy"`.',
        )
    if row.action.status == ActionStatus.DROPPED:
        return _already(call, row, "dropped")
    diff = store.update_action(
        call.session,
        row,
        {"status": ActionStatus.DROPPED},
        by=call.user_id,
        at=call.now,
        note=reason,
        verb="dropped",
    )
    return [
        change_reply(
            call,
            row,
            diff,
            reason,
            "dropped",
            f":heavy_multiplication_x: <@{call.user_id}> dropped *#{number}*: {_title(row)}",
        )
    ]
