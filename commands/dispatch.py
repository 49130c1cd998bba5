"""Runs one `/ecm` command: parse, find the verb, check the channel and permission, run it in a transaction.

Every failure a user can cause comes back as an ephemeral error reply and rolls the transaction back, so a
bad command changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from commands.context import Call, Context
from commands.dates import working_day_note
from commands.grammar import Args, parse, refuse_empty_keys
from commands.mrkdwn import Mrkdwn, code, md
from commands.registry import Verb, lookup, suggest
from commands.replies import Reply, Section, UserError, Visibility
from storage.db import WriteInReadOnlyUnit, in_transaction, must_run_as_write
from storage.members import group_and_member
from storage.models import ProcessedRequest

log = logging.getLogger(__name__)

NOT_SET_UP = (
    "This channel is not a task group yet, so there is no action plan here.",
    'To start one, run `/ecm setup name:"Chorley ECM Task Group" preset:lancashire` '
    '(or `districts:"A, B, C"`). Whoever runs it becomes the group\'s chair. `/ecm help` shows everything.',
)


def _usage(spec: Verb) -> Mrkdwn:
    examples = Mrkdwn("\n").join(code(e) for e in spec.examples[:3])
    return md("Usage: {}", code(spec.usage)) + (md("\nFor example:\n{}", examples) if examples else "")


def run_command(ctx: Context, text: str) -> list[Reply]:
    """Handles the text after `/ecm`; returns the replies to show (never raises for user mistakes)."""
    return _guarded(ctx, lambda: _run(ctx, _parse(ctx, text)))


def run_args(ctx: Context, args: Args) -> list[Reply]:
    """Runs an already-tokenised command (a button that names what it acts on): the same verb lookup,
    channel check, permission check, retry guard and transaction as a typed `/ecm` command."""
    return _guarded(ctx, lambda: _run(ctx, args))


def _guarded(ctx: Context, run: Callable[[], list[Reply]]) -> list[Reply]:
    try:
        return run()
    except UserError as error:
        return [Reply.error(error.message, error.usage)]
    except RepeatedClick:
        log.info("repeated click %s ignored", ctx.repeat_key)
        return [Reply.note(REPEATED)]
    except AlreadyHandled:
        log.info("duplicate request %s ignored", ctx.request_key)
        return []


class AlreadyHandled(Exception):  # noqa: N818 - reads as the outcome it is
    """This request (a command, a click, a form) was acted on before: do nothing now."""


def claim_request(session: Session, key: str, now: datetime) -> None:
    """The one retry guard, for every surface: records `key` in this unit of work, or raises AlreadyHandled
    when it was recorded before (Slack retried, or the same form came twice). Rolled back with the unit of
    work, so a request refused for bad input can be made again."""
    session.add(ProcessedRequest(key=key, at=now))
    try:
        session.flush()
    except IntegrityError as error:
        raise AlreadyHandled from error


# A second identical click (same person, message, button and value) this soon after the first is a double
# click or an impatient repeat: acted on once. Slack's own retries carry the first request's key instead.
REPEAT_WINDOW = timedelta(seconds=30)
REPEATED = Mrkdwn("You clicked that a moment ago: it is already done, and nothing was changed twice.")


class RepeatedClick(AlreadyHandled):
    """The same click again within REPEAT_WINDOW: the clicker is told, nothing changes."""


def claim_interaction(
    session: Session, *, retry_key: str | None, repeat_key: str | None, now: datetime
) -> None:
    """The one guard for buttons, forms and shortcuts (commands use it too), in the change's unit of work:
    - `retry_key` (the trigger id, or a view's id): a Slack retry of this very request, or the same view
      submitted twice, raises AlreadyHandled, for ever;
    - `repeat_key` (what was clicked, see Context.repeat_key): the same click again within REPEAT_WINDOW
      raises RepeatedClick; later, it is a new click and goes ahead.
    Rolled back with the unit of work, so a refused request can be made again."""
    if retry_key:
        claim_request(session, retry_key, now)
    if not repeat_key:
        return
    seen = session.get(ProcessedRequest, repeat_key)
    if seen is not None:
        if seen.at > now - REPEAT_WINDOW:
            raise RepeatedClick
        seen.at = now
        session.add(seen)
        return
    session.add(ProcessedRequest(key=repeat_key, at=now))
    try:
        session.flush()
    except IntegrityError as error:  # the twin click, committed a moment ago by another thread
        raise RepeatedClick from error


def _parse(ctx: Context, text: str) -> Args:
    now = ctx.clock.now()
    today = now.astimezone(ZoneInfo(ctx.default_timezone)).date()
    return parse(text, today)


def _claim_request(ctx: Context, session: Session, now: datetime) -> None:
    """A command's retry guard: the first request with this key goes ahead; a Slack retry or double click of
    it changes nothing twice."""
    claim_interaction(
        session,
        retry_key=f"cmd:{ctx.request_key}" if ctx.request_key else None,
        repeat_key=ctx.repeat_key,
        now=now,
    )


def _run(ctx: Context, args: Args) -> list[Reply]:
    now = ctx.clock.now()
    if not args.verb:
        args.verb = "help"
    spec = lookup(args.verb)
    if spec is None:
        guess = suggest(args.verb)
        hint = md(" Did you mean `/ecm {}`?", guess) if guess else ""
        raise UserError(
            md("I don't know the command “{}”.{}", args.verb, hint),
            "`/ecm help` lists every command.",
        )
    args.normalise_keys(spec.key_aliases)
    unknown = sorted(set(args.keys) - spec.keys)
    if unknown:
        allowed = Mrkdwn(", ").join(code(f"{k}:") for k in sorted(spec.keys)) or "none"
        raise UserError(
            md("`/ecm {}` has no option “{}:”. It takes: {}.", spec.name, unknown[0], allowed),
            _usage(spec),
        )
    refuse_empty_keys(args.tokens, spec.keys, spec.key_aliases, changes=spec.changes)

    write = spec.writes(args)
    try:
        replies = _in_transaction(ctx, args, spec, now, write=write)
    except (OperationalError, WriteInReadOnlyUnit) as error:
        # A verb that writes in a form `writes()` does not know: its write was refused inside the read-only
        # work (by the guard, or by SQLite when another writer went first). Nothing was changed; run it
        # again as a write.
        if write or not must_run_as_write(error):
            raise
        log.warning("/ecm %s wrote in a read-only transaction; ran it again as a write", spec.name)
        replies = _in_transaction(ctx, args, spec, now, write=True)
    if spec.changes:
        _add_date_notes(args, replies)
    return replies


def _in_transaction(ctx: Context, args: Args, spec: Verb, now: datetime, *, write: bool) -> list[Reply]:
    """The verb in one unit of work: reads in a read-only one (SQLite: beside the writer, not behind it).
    Run again once on a fresh connection if the database connection drops (`storage.db.in_transaction`); a
    write whose COMMIT was cut off is run again only behind its retry guard (the request key), which makes a
    second commit of the same request impossible."""

    def work(session: Session) -> list[Reply]:
        group, caller = group_and_member(session, ctx.team_id, ctx.channel_id, ctx.user_id)
        if spec.needs_group and group is None:
            raise UserError(*NOT_SET_UP)
        call = Call(ctx=ctx, args=args, session=session, group=group, caller=caller, now=now)
        if spec.chair_only:
            call.require_chair(f"use `/ecm {spec.name}`")
        if write:
            _claim_request(ctx, session, now)
        try:
            return spec.handler(call)
        except UserError as error:
            if error.usage is None:
                error.usage = _usage(spec)
            raise

    return in_transaction(ctx.engine, work, write=write, retry_commit=bool(ctx.request_key))


def _add_date_notes(args: Args, replies: list[Reply]) -> None:
    """Says back how a loose date phrase was read (and when a due date falls on a non-working day), to the
    person who typed it only, so a slip is caught without adding noise to the channel."""
    notes: list[str] = []
    for key in ("due", "until"):
        reading = args.dates.get(key)
        if reading is None:
            continue
        notes += reading.notes()
        if key == "due" and (holiday := working_day_note(reading.day)):
            notes.append(holiday)
    if not notes or any(r.is_error for r in replies):
        return
    text = Mrkdwn("\n").join(md(":calendar: {}", n) for n in notes)
    for reply in replies:
        if reply.visibility == Visibility.EPHEMERAL:
            reply.sections.append(Section(text))
            return
    replies.append(Reply(text=notes[0], sections=[Section(text)]))
