"""The buttons on chaser DMs: Done, Snooze a week, and Add update (a modal, then its view_submission).

Each change is an operation in `commands.action_ops` (the same permission rule, audit event and words as
the same change made with `/ecm`), is posted in the task group's channel so the group sees it, and the DM is refreshed in place (chat.update)
from current data with a line saying what was done; if the DM can't be updated, the clicker gets an
ephemeral note instead.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackClientError
from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from sqlmodel import Session

from bot.interactions import interaction_keys
from bot.jobs.dispatcher import local_today
from bot.render import render
from bot.services import Services
from bot.slack_api import post_reply, respond
from commands import action_ops
from commands.action_ops import SNOOZED_FROM_DM, VIA_CHASER_DM
from commands.action_view import action_line
from commands.dispatch import REPEATED, AlreadyHandled, RepeatedClick, claim_interaction
from commands.mrkdwn import Mrkdwn, text
from commands.posts import due_soon, owner_digest
from commands.posts.common import (
    DONE_ACTION,
    MAX_BUTTON_ACTIONS,
    NOTE_ACTION,
    NOTE_CALLBACK,
    SNOOZE_ACTION,
    ActionRef,
    action_buttons,
    split_kind,
)
from commands.replies import Reply, Section, UserError, Visibility
from commands.text import truncate
from storage.db import session_scope

log = logging.getLogger(__name__)

NOTE_BLOCK = "note"
NOTE_INPUT = "text"


@dataclass
class Outcome:
    note: Mrkdwn  # what the clicker is told
    channel: Reply | None = None  # the change, for the task group's channel
    channel_id: str | None = None


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The DM's channel and message ts, for chat.update."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return channel, ts or None


def apply_button(
    session: Session, ref: ActionRef, user_id: str, what: str, now: datetime, today: date
) -> Outcome:
    """Done or Snooze a week, for `user_id`, through the action operations (their permission rule, audit
    and words). A refusal raises `UserError`; the caller rolls back and tells the clicker."""
    actor = action_ops.actor_for(session, ref.group_id, user_id, now=now, today=today, via=VIA_CHASER_DM)
    if what == "done":
        result = action_ops.done(actor, ref.number)
    else:
        result = action_ops.snooze(actor, ref.number, SNOOZED_FROM_DM)
    return Outcome(result.confirmation, result.channel_post, actor.group.channel_id)


def apply_note(
    session: Session, ref: ActionRef, user_id: str, text: str, now: datetime, today: date
) -> Outcome:
    """Add update's note, typed into the modal (so nothing in it becomes a mention)."""
    actor = action_ops.actor_for(session, ref.group_id, user_id, now=now, today=today, via=VIA_CHASER_DM)
    result = action_ops.add_note(actor, ref.number, action_ops.typed_text(text))
    return Outcome(result.confirmation, result.channel_post, actor.group.channel_id)


def refreshed_dm(session: Session, kind: str, user_id: str, today: date, note: str) -> Reply:
    """The DM rebuilt from current data, topped with what just happened.

    A due-soon DM lists what was due soon on the day it was sent (its buttons carry that day), so clicking
    one the next day keeps the others in it; an owner digest shows what is overdue now."""
    base, sent_for = split_kind(kind)
    if base == due_soon.KIND:
        rows = due_soon.rows_for(session, user_id, sent_for or today)[:MAX_BUTTON_ACTIONS]
        sections = [Section(text(note))] + [
            Section(action_line(r, today), buttons=action_buttons(r, kind)) for r in rows
        ]
        if not rows:
            sections.append(Section(Mrkdwn("Nothing else is due soon.")))
        return Reply(
            text=note, visibility=Visibility.DM, recipient=user_id, header="Due soon", sections=sections
        )
    return owner_digest.render_digest(owner_digest.digest_for(session, user_id, today), note=note)


def _answer(
    services: Services,
    body: dict[str, Any],
    kind: str,
    user_id: str,
    note: str,
    channel: str | None,
    ts: str | None,
) -> None:
    """Updates the DM in place; falls back to an ephemeral note through response_url."""
    if channel and ts:
        try:
            with session_scope(services.engine, write=False) as session:
                today = local_today(services.clock.now(), services.settings.ecm_timezone)
                message = render(refreshed_dm(session, kind, user_id, today, note))[0]
            services.client.chat_update(
                channel=channel, ts=ts, text=message["text"], blocks=message["blocks"]
            )
            return
        except (SlackClientError, OSError) as exc:
            log.info("chat.update of a chaser DM failed (%s); answering ephemerally", exc)
    if body.get("response_url"):
        respond(body["response_url"], Reply.note(note))


def _post_change(services: Services, outcome: Outcome) -> None:
    if outcome.channel is not None and outcome.channel_id:
        result = post_reply(services.client, outcome.channel, channel=outcome.channel_id)
        if not result.ok:
            log.warning("could not post a chaser-button change in %s: %s", outcome.channel_id, result.error)


def _decode(value: str) -> tuple[str, ActionRef] | None:
    try:
        return ActionRef.decode(value)
    except ValueError:
        return None


def register(app: App, services: Services) -> None:
    def on_change(body: dict[str, Any], action: dict[str, Any], what: str) -> None:
        user_id = body["user"]["id"]
        decoded = _decode(action.get("value", ""))
        channel, ts = _where(body)
        if decoded is None:
            if body.get("response_url"):
                respond(body["response_url"], Reply.note("I couldn't read that button; nothing changed."))
            return
        kind, ref = decoded
        now = services.clock.now()
        today = local_today(now, services.settings.ecm_timezone)
        keys = interaction_keys(body)
        try:
            with session_scope(services.engine) as session:
                claim_interaction(session, retry_key=keys.retry, repeat_key=keys.repeat, now=now)
                outcome = apply_button(session, ref, user_id, what, now, today)
        except RepeatedClick:
            outcome = Outcome(REPEATED)
        except AlreadyHandled:
            return  # Slack retried a click already answered
        except UserError as error:
            outcome = Outcome(error.message)
        except Exception:
            log.exception("chaser button %s failed", what)
            outcome = Outcome(
                Mrkdwn("Sorry, something went wrong on my side and nothing was changed. Please try again.")
            )
        _post_change(services, outcome)
        if outcome.channel is None:  # nothing changed: just tell the clicker why, the DM stays as it is
            if body.get("response_url"):
                respond(body["response_url"], Reply.note(outcome.note))
            return
        _answer(services, body, kind, user_id, outcome.note, channel, ts)

    @app.action(DONE_ACTION)
    def on_done(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        services.later(on_change, body, action, "done")

    @app.action(SNOOZE_ACTION)
    def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        services.later(on_change, body, action, "snooze")

    @app.action(NOTE_ACTION)
    def on_note(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        services.later(open_note_form, body, action)

    def open_note_form(body: dict[str, Any], action: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        value = action.get("value", "")
        decoded = _decode(value)
        refusal = "I couldn't read that button; nothing changed."
        line = ""
        if decoded is not None:
            now = services.clock.now()
            today = local_today(now, services.settings.ecm_timezone)
            with session_scope(services.engine, write=False) as session:
                try:
                    actor = action_ops.actor_for(session, decoded[1].group_id, user_id, now=now, today=today)
                    row = action_ops.load_for_change(actor, decoded[1].number, action_ops.ADD_NOTE_DOING)
                    line = action_line(row, today)
                except UserError as error:
                    refusal = error.message
        if not line:
            if body.get("response_url"):
                respond(body["response_url"], Reply.note(refusal))
            return
        channel, ts = _where(body)
        view = View(
            type="modal",
            callback_id=NOTE_CALLBACK,
            title=PlainTextObject(text="Add update"),
            submit=PlainTextObject(text="Save"),
            close=PlainTextObject(text="Cancel"),
            private_metadata=json.dumps({"ref": value, "channel": channel, "ts": ts}),
            blocks=[
                SectionBlock(text=MarkdownTextObject(text=truncate(line, 3000))),
                InputBlock(
                    block_id=NOTE_BLOCK,
                    label=PlainTextObject(text="Progress update"),
                    element=PlainTextInputElement(
                        action_id=NOTE_INPUT,
                        multiline=True,
                        max_length=action_ops.MAX_NOTE,
                        placeholder=PlainTextObject(text="What has happened since?"),
                    ),
                ),
            ],
        )
        try:
            services.client.views_open(trigger_id=body["trigger_id"], view=view)
        except (SlackClientError, OSError) as exc:
            log.warning("views.open failed: %s", exc)
            if body.get("response_url"):
                respond(
                    body["response_url"],
                    Reply.note(
                        'I couldn\'t open the form. Add the update with `/ecm update N "progress"` in the channel.'
                    ),
                )

    @app.view(NOTE_CALLBACK)
    def on_note_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        values = (view.get("state") or {}).get("values") or {}
        text = ((values.get(NOTE_BLOCK) or {}).get(NOTE_INPUT) or {}).get("value") or ""
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            kind, ref = ActionRef.decode(meta["ref"])
        except (ValueError, KeyError, TypeError):
            ack(response_action="errors", errors={NOTE_BLOCK: "This form is out of date; nothing was saved."})
            return
        now = services.clock.now()
        today = local_today(now, services.settings.ecm_timezone)
        keys = interaction_keys(body)
        try:
            with session_scope(services.engine) as session:
                claim_interaction(session, retry_key=keys.retry, repeat_key=None, now=now)
                outcome = apply_note(session, ref, user_id, text, now, today)
        except AlreadyHandled:  # the same form again (a retry, or submitted twice): saved once already
            ack()
            return
        except UserError as error:  # rolled back: nothing saved
            ack(response_action="errors", errors={NOTE_BLOCK: error.message})
            return
        except Exception:
            log.exception("saving a chaser update failed")
            ack(response_action="errors", errors={NOTE_BLOCK: "Sorry, that didn't save. Please try again."})
            return
        ack()  # closes the modal; the note is already committed
        services.later(after_note, outcome, kind, user_id, meta)

    def after_note(outcome: Outcome, kind: str, user_id: str, meta: dict[str, Any]) -> None:
        _post_change(services, outcome)
        _answer(services, {}, kind, user_id, outcome.note, meta.get("channel"), meta.get("ts"))
