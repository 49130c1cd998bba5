"""Forms and their openers: the New action modal (global shortcut, the Home tab's button, `/ecm add` with no
text), the "Make this an action" message shortcut, the Update action modal (Home tab, `/ecm show N`, DM
digests), and the Home tab's Done and Snooze buttons.

Views are opened first, at once (a trigger id lasts 3 seconds); slower work (a message's permalink) is done
after, with `views.update`. Every submission goes through the core (`commands.forms` -> `commands.action_ops`):
its field errors come back on the field (`response_action: errors`), a refusal replaces the form with the
core's words, and the core's retry guard (keyed on the view) makes a resubmitted form change nothing twice.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackClientError
from slack_sdk.models.views import View
from sqlmodel import Session

from bot import forms as views
from bot.directory import SlackDirectory
from bot.home import publish_home
from bot.interactions import interaction_keys
from bot.jobs.dispatcher import local_today
from bot.services import Services
from bot.slack_api import deliver
from commands import action_ops as ops
from commands import forms as f
from commands import home
from commands import meeting_forms as mf
from commands.context import Call, Context
from commands.dispatch import REPEATED, AlreadyHandled, RepeatedClick, claim_interaction, claim_request
from commands.grammar import Args
from commands.mrkdwn import Mrkdwn, md
from commands.replies import Reply, UserError, Visibility
from storage.db import session_scope
from storage.groups import get_group
from storage.members import get_member
from storage.models import Meeting, TaskGroup

log = logging.getLogger(__name__)

NEW_ACTION_SHORTCUT = "ecm_new_action"  # global shortcut (manifest.yml)
MESSAGE_SHORTCUT = "ecm_message_to_action"  # message shortcut (manifest.yml)
VIA_HOME = " (from their Home tab)"
SNOOZED_FROM_HOME = "Snoozed for a week from the Home tab"
SORRY = "Sorry, something went wrong on my side and nothing was saved. Please try again."


def _open(services: Services, trigger_id: str, view: View) -> dict[str, Any] | None:
    try:
        return dict(services.client.views_open(trigger_id=trigger_id, view=view).get("view") or {})
    except (SlackClientError, OSError) as exc:
        log.warning("views.open failed: %s", exc)
        return None


def _update(services: Services, view_id: str, view: View, view_hash: str | None = None) -> None:
    try:
        services.client.views_update(view_id=view_id, view=view, hash=view_hash)
    except (SlackClientError, OSError) as exc:
        log.info("views.update failed: %s", exc)


def _actor(services: Services, session: Session, group_id: int, user_id: str, via: str = "") -> ops.Actor:
    now = services.clock.now()
    return ops.actor_for(session, group_id, user_id, now=now, today=_today(services), via=via)


def new_action_view(
    services: Services,
    team_id: str,
    user_id: str,
    *,
    channel_id: str | None = None,
    group_id: int | None = None,
    title: str = "",
    owners: list[str] | None = None,
    meta: dict[str, Any] | None = None,
    from_message: bool = False,
    message_text: str | None = None,
    due: date | None = None,
    outcomes: list[str] | None = None,
) -> View:
    """The New action form, or a message saying how to start when the person has no group to add to."""
    with Session(services.engine) as session:
        group = get_group(session, team_id, channel_id) if channel_id else None
        notice = None
        if from_message and channel_id and group is None:
            notice = (
                ":information_source: That channel is not a task group, so the action can't be added there. "
                "Choose one of your task groups instead:"
            )
        offer = f.offer_new_action(
            session,
            team_id,
            user_id,
            group=group,
            group_id=group_id,
            title=title,
            owners=owners,
            notice=notice,
            due=due,
            outcomes=outcomes,
            message=None if message_text is None else (message_text, _today(services)),
        )
    if offer.group_id is None:
        text = home.NO_GROUP if not from_message else "That channel is not a task group, and you are in none."
        return views.message_view("New action", text, footer=home.HOW_TO_START)
    return views.new_action_view(offer, {**(meta or {}), "g": offer.group_id, "fixed": offer.fixed})


def _today(services: Services) -> date:
    """Today where the deployment is, as every command reads it (`Actor.today`)."""
    return local_today(services.clock.now(), services.settings.ecm_timezone)


def open_new_action(services: Services, body: dict[str, Any], channel_id: str | None = None) -> None:
    user_id, team_id = body["user"]["id"], _team(body)
    _open(services, body["trigger_id"], new_action_view(services, team_id, user_id, channel_id=channel_id))


def _team(body: dict[str, Any]) -> str:
    return (body.get("team") or {}).get("id") or body.get("team_id") or ""


def _ref(value: str) -> tuple[int, int] | None:
    return home.parse_action_ref(value)


def _tell(services: Services, body: dict[str, Any], message: Mrkdwn) -> None:
    """Tells the clicker something: on their Home tab when they clicked there, else ephemerally."""
    user_id, team_id = body["user"]["id"], _team(body)
    if (body.get("container") or {}).get("type") == "view" or not body.get("response_url"):
        publish_home(services, team_id, user_id, notice=message)
        return
    deliver(
        services.client,
        [Reply.note(message)],
        channel_id="",
        user_id=user_id,
        response_url=body["response_url"],
    )


def _post(services: Services, group: TaskGroup, user_id: str, result: ops.ActionResult) -> None:
    """The channel post (and any notes for the person) of an operation, where `/ecm` would put them."""
    deliver(services.client, result.replies, channel_id=group.channel_id, user_id=user_id, response_url=None)


def register(app: App, services: Services) -> None:
    # ----- opening the New action form ---------------------------------------------------------------------
    @app.shortcut(NEW_ACTION_SHORTCUT)
    def on_new_action_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        open_new_action(services, body)

    @app.action(home.NEW_ACTION)
    def on_home_new_action(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        open_new_action(services, body)

    @app.shortcut(MESSAGE_SHORTCUT)
    def on_message_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id, team_id = body["user"]["id"], _team(body)
        message = body.get("message") or {}
        channel_id = (body.get("channel") or {}).get("id") or ""
        ts = message.get("ts") or body.get("message_ts") or ""
        author = message.get("user")
        text = message.get("text") or ""
        with Session(
            services.engine
        ) as session:  # names the bot holds already: no Slack call before the view
            names = f.stored_names(session, team_id, f.mentioned_ids(text))
        view = new_action_view(
            services,
            team_id,
            user_id,
            channel_id=channel_id,
            title=f.title_from_message(text, names),
            owners=[author] if author and author.startswith(("U", "W")) else None,
            meta={"ch": channel_id, "ts": ts},
            from_message=True,
            message_text=text,
        )
        opened = _open(services, body["trigger_id"], view)
        if opened is not None and view.callback_id == views.NEW_ACTION_CALLBACK:
            # Slow work after the view is open: the message's permalink, kept on the form until submitted.
            unknown = [u for u in f.mentioned_ids(text) if u not in names]
            services.later(_add_permalink, services, view, opened, channel_id, ts, text, names, unknown)

    @app.action(f.GROUP)
    def on_group_chosen(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Another group chosen in the New action form: its organisations, districts and decisions."""
        ack()
        view = body.get("view") or {}
        meta = views.read_meta(view)
        values = (view.get("state") or {}).get("values") or {}
        chosen = views.state_value(values, f.GROUP)
        form = views.action_form(view, meta)
        rebuilt = new_action_view(
            services,
            _team(body),
            body["user"]["id"],
            group_id=int(chosen) if isinstance(chosen, str) and chosen.isdigit() else None,
            title=form.title or "",
            owners=form.owners,
            # A date and the outcomes are the same in any group; organisations and districts are not.
            due=f.picked_date(form.due),
            outcomes=form.outcomes,
            meta={k: v for k, v in meta.items() if k in ("ch", "ts", "link")},
        )
        services.later(_update, services, view.get("id", ""), rebuilt, view.get("hash"))

    @app.options(f.ORG)
    @app.options(f.DISTRICTS)
    @app.options(f.DECISION)
    @app.options(f.GROUP)
    def on_suggest(ack: Ack, body: dict[str, Any]) -> None:
        """External selects (more than 100 choices): the choices matching what is typed, at most 100."""
        meta = views.read_meta(body.get("view") or {})
        group_id = meta.get("g")
        action_id = body.get("action_id") or ""
        with Session(services.engine) as session:
            if action_id == f.GROUP:
                choices = f.group_choices(session, _team(body), body["user"]["id"])
            elif not isinstance(group_id, int):
                choices = []
            elif action_id == f.ORG:
                choices = f.organisation_choices(session, group_id)
            elif action_id == f.DISTRICTS:
                choices = f.district_choices(session, group_id)
            else:
                choices = f.decision_choices(session, group_id)
        found = f.matching(choices, str(body.get("value") or ""))
        ack(options=[{"text": {"type": "plain_text", "text": c.label}, "value": c.value} for c in found])

    # ----- the New action form submitted ---------------------------------------------------------------------
    @app.view(views.NEW_ACTION_CALLBACK)
    def on_new_action_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = views.read_meta(view)
        values = (view.get("state") or {}).get("values") or {}
        chosen = meta.get("g") if meta.get("fixed") else views.state_value(values, f.GROUP)
        try:
            group_id = int(chosen)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            ack(response_action="errors", errors={f.GROUP: "Choose the task group for this action."})
            return
        form = views.action_form(view, meta)
        try:
            with session_scope(services.engine) as session:
                claim_request(session, f"view:{view.get('id')}", services.clock.now())
                actor = _actor(services, session, group_id, user_id)
                result = f.create_from_form(actor, form)
                group = actor.group
        except f.FormErrors as error:
            ack(response_action="errors", errors=_errors(error, values))
            return
        except AlreadyHandled:
            ack()
            return
        except UserError as error:
            ack(response_action="errors", errors={_first_field(values): views.plain_error(error.message)})
            return
        except Exception:
            log.exception("New action form failed")
            ack(response_action="errors", errors={_first_field(values): SORRY})
            return
        ack()
        services.later(_post, services, group, user_id, result)

    # ----- the Update action form ----------------------------------------------------------------------------
    def open_update(body: dict[str, Any], value: str) -> None:
        user_id = body["user"]["id"]
        ref = _ref(value)
        if ref is None:
            _open(
                services,
                body["trigger_id"],
                views.message_view("Update action", "I couldn't read that button."),
            )
            return
        group_id, number = ref
        try:
            with Session(services.engine) as session:
                actor = _actor(services, session, group_id, user_id)
                offer = f.offer_update(actor, number)
                view = views.update_action_view(offer, {"g": group_id, "n": number})
        except f.FormRefused as refused:
            view = views.message_view("Update action", f":no_entry: {refused.message}", footer=refused.usage)
        except UserError as error:
            view = views.message_view("Update action", f":warning: {error.message}")
        _open(services, body["trigger_id"], view)

    @app.action(home.UPDATE)
    def on_home_update(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        open_update(body, str(action.get("value") or ""))

    @app.action(home.UPDATE_FORM)
    def on_update_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        open_update(body, str(action.get("value") or ""))

    @app.view(views.UPDATE_CALLBACK)
    def on_update_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        meta = views.read_meta(view)
        values = (view.get("state") or {}).get("values") or {}
        group_id, number = meta.get("g"), meta.get("n")
        if not isinstance(group_id, int) or not isinstance(number, int):
            ack(response_action="errors", errors={f.NOTE: "This form is out of date; nothing was saved."})
            return
        form = views.action_form(view, meta)
        try:
            with session_scope(services.engine) as session:
                claim_request(session, f"view:{view.get('id')}", services.clock.now())
                actor = _actor(services, session, group_id, user_id)
                result = f.change_from_form(actor, number, form)
                group = actor.group
        except f.FormErrors as error:
            ack(response_action="errors", errors=_errors(error, values))
            return
        except f.FormRefused as refused:
            refusal = views.message_view(
                "Update action", f":no_entry: {refused.message}", footer=refused.usage
            )
            ack(response_action="update", view=refusal)
            return
        except AlreadyHandled:
            ack()
            return
        except UserError as error:
            ack(response_action="errors", errors={f.NOTE: views.plain_error(error.message)})
            return
        except Exception:
            log.exception("Update action form failed")
            ack(response_action="errors", errors={f.NOTE: SORRY})
            return
        ack()
        services.later(_post, services, group, user_id, result)

    # ----- the Home tab's Done and Snooze a week -------------------------------------------------------------
    def home_button(body: dict[str, Any], value: str, what: str) -> None:
        user_id = body["user"]["id"]
        ref = _ref(value)
        if ref is None:
            _tell(services, body, Mrkdwn(":warning: I couldn't read that button; nothing changed."))
            return
        group_id, number = ref
        try:
            with session_scope(services.engine) as session:
                keys = interaction_keys(body)
                claim_interaction(
                    session, retry_key=keys.retry, repeat_key=keys.repeat, now=services.clock.now()
                )
                actor = _actor(services, session, group_id, user_id, via=VIA_HOME)
                if what == "done":
                    result = ops.done(actor, number)
                else:
                    result = ops.snooze(actor, number, SNOOZED_FROM_HOME)
                group = actor.group
        except RepeatedClick:
            _tell(services, body, REPEATED)
            return
        except AlreadyHandled:
            return
        except UserError as error:
            _tell(services, body, md(":warning: {}", error.message))
            return
        except Exception:
            log.exception("Home button %s failed", what)
            _tell(services, body, md(":warning: {}", SORRY))
            return
        channel_posts = [r for r in result.replies if r.visibility == Visibility.CHANNEL]
        deliver(
            services.client, channel_posts, channel_id=group.channel_id, user_id=user_id, response_url=None
        )
        _tell(services, body, result.confirmation)

    # The change and what the clicker is told both run on the reply pool: the ack never waits for Slack.
    @app.action(home.DONE)
    def on_home_done(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        services.later(home_button, body, str(action.get("value") or ""), "done")

    @app.action(home.SNOOZE)
    def on_home_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        services.later(home_button, body, str(action.get("value") or ""), "snooze")

    @app.view(views.MESSAGE_CALLBACK)
    def on_message_view_closed(ack: Ack) -> None:
        ack()

    # ----- the chair's meeting forms -------------------------------------------------------------------------
    def open_meeting_form(body: dict[str, Any], value: str, which: str) -> None:
        user_id = body["user"]["id"]
        title = "Take attendance" if which == "attendance" else "Record decision"
        meeting_id = int(value) if value.isascii() and value.isdigit() else None
        try:
            with Session(services.engine) as session:
                call = _meeting_call(services, session, meeting_id, user_id)
                meta = {"m": meeting_id}
                if which == "attendance":
                    view = views.attendance_view(mf.offer_attendance(call, meeting_id), meta)
                else:
                    view = views.decision_view(mf.offer_decision(call, meeting_id), meta)
        except UserError as error:
            view = views.message_view(title, f":no_entry: {error.message}", footer=error.usage)
        _open(services, body["trigger_id"], view)

    @app.action(mf.TAKE_ATTENDANCE)
    def on_take_attendance(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        open_meeting_form(body, str(action.get("value") or ""), "attendance")

    @app.action(mf.RECORD_DECISION)
    def on_record_decision(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        open_meeting_form(body, str(action.get("value") or ""), "decision")

    @app.action(re.compile(r"^att-"))
    def on_attendance_row(ack: Ack) -> None:
        ack()  # a row's choice is read when the form is submitted

    def submit_meeting_form(ack: Ack, body: dict[str, Any], view: dict[str, Any], which: str) -> None:
        user_id = body["user"]["id"]
        meeting_id = views.read_meta(view).get("m")
        values = (view.get("state") or {}).get("values") or {}
        try:
            with session_scope(services.engine) as session:
                claim_request(session, f"view:{view.get('id')}", services.clock.now())
                call = _meeting_call(services, session, meeting_id, user_id)
                if which == "attendance":
                    replies = mf.record_attendance_form(call, meeting_id, views.attendance_form(view))  # type: ignore[arg-type]
                else:
                    replies = mf.record_decision_form(
                        call,
                        meeting_id,  # type: ignore[arg-type]
                        str(views.state_value(values, mf.DECISION_TEXT) or ""),
                        views.state_value(values, mf.DECISION_STATUS),
                        list(views.state_value(values, mf.DECISION_ACTIONS) or []),
                    )
                channel_id = call.task_group.channel_id
        except f.FormErrors as error:
            if which == "attendance":
                ack(response_action="errors", errors=views.attendance_errors(error.errors, view))
            else:
                ack(response_action="errors", errors=_errors(error, values))
            return
        except AlreadyHandled:
            ack()
            return
        except UserError as error:  # not a chair, or the meeting has ended
            title = "Take attendance" if which == "attendance" else "Record decision"
            ack(
                response_action="update",
                view=views.message_view(title, f":no_entry: {error.message}", footer=error.usage),
            )
            return
        except Exception:
            log.exception("meeting form %s failed", which)
            ack(response_action="errors", errors={_first_field(values): SORRY})
            return
        ack()
        services.later(
            deliver, services.client, replies, channel_id=channel_id, user_id=user_id, response_url=None
        )

    @app.options(re.compile(r"^subfor-\d$"))
    @app.options(mf.DECISION_ACTIONS)
    def on_meeting_suggest(ack: Ack, body: dict[str, Any]) -> None:
        """External selects on the meeting forms (groups with more than 100 members or actions)."""
        meeting_id = views.read_meta(body.get("view") or {}).get("m")
        try:
            with Session(services.engine) as session:
                call = _meeting_call(services, session, meeting_id, body["user"]["id"])
                if body.get("action_id") == mf.DECISION_ACTIONS:
                    choices = mf.action_choices(call)
                else:
                    choices = mf.member_choices(call)
        except UserError:
            choices = []
        found = f.matching(choices, str(body.get("value") or ""))
        ack(options=[{"text": {"type": "plain_text", "text": c.label}, "value": c.value} for c in found])

    @app.view(views.ATTENDANCE_CALLBACK)
    def on_attendance_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_meeting_form(ack, body, view, "attendance")

    @app.view(views.DECISION_CALLBACK)
    def on_decision_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_meeting_form(ack, body, view, "decision")


def _meeting_call(services: Services, session: Session, meeting_id: Any, user_id: str) -> Call:
    """The chair's form as a command in the meeting's group would be: the same Call the verbs get."""
    meeting = session.get(Meeting, meeting_id) if isinstance(meeting_id, int) else None
    group = session.get(TaskGroup, meeting.group_id) if meeting is not None else None
    if group is None or group.id is None:
        raise UserError("That meeting no longer exists, so nothing was recorded.")
    ctx = Context(
        engine=services.engine,
        clock=services.clock,
        team_id=group.team_id,
        channel_id=group.channel_id,
        user_id=user_id,
        default_timezone=services.settings.ecm_timezone,
    )
    caller = get_member(session, group.id, user_id)
    return Call(
        ctx=ctx, args=Args(verb=""), session=session, group=group, caller=caller, now=services.clock.now()
    )


def _add_permalink(
    services: Services,
    view: View,
    opened: dict[str, Any],
    channel_id: str,
    ts: str,
    text: str,
    names: dict[str, str],
    unknown: list[str],
) -> None:
    """After the form is open: the message's permalink (kept on the form until it is submitted), and the
    names of people mentioned whom the bot didn't know (users.info), in the suggested title."""
    try:
        link = services.client.chat_getPermalink(channel=channel_id, message_ts=ts).get("permalink")
    except (SlackClientError, OSError) as exc:
        log.info("chat.getPermalink failed: %s", exc)
        link = None
    directory = SlackDirectory(services.client)
    found = {u: name for u in unknown[:10] if (name := directory.name_of(u))}
    if not link and not found:
        return
    meta = {**views.read_meta(view.to_dict()), "link": f.clean_link(link)}
    view.private_metadata = views.meta_json(meta)
    if found:
        for block in view.blocks or []:
            if getattr(block, "block_id", None) == f.TITLE:
                block.element.initial_value = f.title_from_message(text, {**names, **found})  # type: ignore[attr-defined]
    _update(services, opened.get("id", ""), view, opened.get("hash"))


def _first_field(values: dict[str, Any]) -> str:
    return next(iter(values), f.TITLE)


def _errors(error: f.FormErrors, values: dict[str, Any]) -> dict[str, str]:
    """The core's field errors as Slack shows them; one for a field not on the form goes on the first."""
    out: dict[str, str] = {}
    for field_name, message in error.errors.items():
        block = field_name if field_name in values else _first_field(values)
        out.setdefault(block, views.plain_error(message))
    return out
