"""Modals as Block Kit (slack_sdk.models): the New action and Update action forms, the chair's meeting
forms, and a plain message view; and reading a submitted view's state back into plain values.

Block ids are the field names in `commands.forms`, so an error from the core lands on its field. A select
with more than 100 choices becomes an external select answered by `block_suggestion`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from commands import forms as f
from commands import meeting_forms as mf
from commands.action_ops import MAX_NOTE, MAX_TITLE
from commands.forms import Choice, NewActionOffer, UpdateOffer
from commands.mrkdwn import md, person
from commands.text import truncate

NEW_ACTION_CALLBACK = "ecm_new_action_form"
UPDATE_CALLBACK = "ecm_update_action_form"
MESSAGE_CALLBACK = "ecm_message"
MAX_STATIC_OPTIONS = 100
MAX_MODAL_BLOCKS = 100


def _plain(text: str, limit: int = 75) -> PlainTextObject:
    return PlainTextObject(text=truncate(text, limit), emoji=True)


def _option(choice: Choice) -> Option:
    return Option(value=choice.value, text=_plain(choice.label))


def select(
    action_id: str,
    choices: list[Choice],
    *,
    placeholder: str,
    multi: bool = False,
    initial: list[str] | None = None,
) -> Any:
    """A static select, or an external one (block_suggestion) when there are more than Slack's 100."""
    chosen = [c for c in choices if c.value in (initial or [])]
    external = len(choices) > MAX_STATIC_OPTIONS
    if multi:
        if external:
            return ExternalDataMultiSelectElement(
                action_id=action_id,
                placeholder=_plain(placeholder),
                min_query_length=0,
                initial_options=[_option(c) for c in chosen] or None,
            )
        return StaticMultiSelectElement(
            action_id=action_id,
            placeholder=_plain(placeholder),
            options=[_option(c) for c in choices],
            initial_options=[_option(c) for c in chosen] or None,
        )
    first = _option(chosen[0]) if chosen else None
    if external:
        return ExternalDataSelectElement(
            action_id=action_id, placeholder=_plain(placeholder), min_query_length=0, initial_option=first
        )
    return StaticSelectElement(
        action_id=action_id,
        placeholder=_plain(placeholder),
        options=[_option(c) for c in choices],
        initial_option=first,
    )


def _input(
    block_id: str, label: str, element: Any, *, optional: bool = True, hint: str | None = None
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=_plain(label, 2000),
        element=element,
        optional=optional,
        hint=_plain(hint, 2000) if hint else None,
    )


def _modal(
    callback_id: str, title: str, blocks: list[Block], meta: dict[str, Any], submit: str | None
) -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        title=_plain(title, 24),
        submit=_plain(submit, 24) if submit else None,
        close=_plain("Cancel" if submit else "Close", 24),
        private_metadata=meta_json(meta),
        blocks=blocks[:MAX_MODAL_BLOCKS],
    )


def message_view(title: str, text: str, *, footer: str | None = None) -> View:
    """A modal that only says something (a refusal, or how to start)."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))]
    if footer:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(footer, 3000))]))
    return _modal(MESSAGE_CALLBACK, title, blocks, {}, None)


def new_action_view(offer: NewActionOffer, meta: dict[str, Any]) -> View:
    blocks: list[Block] = []
    if offer.notice:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(offer.notice, 3000))))
    if offer.fixed:
        blocks.append(
            SectionBlock(
                block_id=f.GROUP, text=MarkdownTextObject(text=md("*Task group:* {}", offer.group_name))
            )
        )
    else:
        group_select = select(
            f.GROUP, offer.groups, placeholder="Choose a task group", initial=[str(offer.group_id)]
        )
        blocks.append(
            InputBlock(
                block_id=f.GROUP,
                label=_plain("Task group"),
                element=group_select,
                dispatch_action=True,  # choosing another group reloads its organisations and districts
            )
        )
    blocks += [
        _input(
            f.TITLE,
            "Title",
            PlainTextInputElement(
                action_id=f.TITLE,
                initial_value=offer.title or None,
                max_length=MAX_TITLE,
                placeholder=_plain("What will be done?"),
            ),
            optional=False,
        ),
        _input(
            f.OWNERS,
            "Owners",
            UserMultiSelectElement(
                action_id=f.OWNERS, placeholder=_plain("Who will do it?"), initial_users=offer.owners or None
            ),
            hint="You, if nobody is chosen.",
        ),
    ]
    if offer.organisations:
        blocks.append(
            _input(
                f.ORG,
                "Organisation",
                select(f.ORG, offer.organisations, placeholder="District or organisation"),
                hint="The first owner's registered organisation, if none is chosen.",
            )
        )
    blocks.append(
        _input(
            f.DUE,
            "Due date",
            DatePickerElement(
                action_id=f.DUE,
                placeholder=_plain("Pick a date"),
                initial_date=offer.due.isoformat() if offer.due else None,
            ),
        )
    )
    blocks.append(
        _input(
            f.OUTCOMES,
            "Outcomes",
            select(
                f.OUTCOMES,
                f.outcome_choices(),
                placeholder="Every Child Matters outcomes",
                multi=True,
                initial=offer.outcomes,
            ),
        )
    )
    if len(offer.districts) > 1:
        blocks.append(
            _input(
                f.DISTRICTS,
                "Districts",
                select(
                    f.DISTRICTS,
                    offer.districts,
                    placeholder="Districts, or countywide",
                    multi=True,
                    initial=offer.chosen_districts,
                ),
            )
        )
    if offer.decisions:
        blocks.append(
            _input(
                f.DECISION, "Linked decision", select(f.DECISION, offer.decisions, placeholder="A decision")
            )
        )
    blocks.append(
        _input(
            f.NOTE,
            "First note",
            PlainTextInputElement(action_id=f.NOTE, multiline=True, max_length=MAX_NOTE),
        )
    )
    return _modal(NEW_ACTION_CALLBACK, "New action", blocks, meta, "Add action")


def update_action_view(offer: UpdateOffer, meta: dict[str, Any]) -> View:
    a = offer.row.action
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(offer.line, 3000))),
        _input(
            f.STATUS,
            "Status",
            select(f.STATUS, f.STATUS_CHOICES, placeholder="Status", initial=[a.status.value]),
            optional=False,
        ),
        _input(
            f.RAG,
            "RAG rating",
            select(f.RAG, f.RAG_CHOICES, placeholder="RAG", initial=[a.rag.value if a.rag else f.NO_RAG]),
            optional=False,
        ),
        _input(
            f.DUE,
            "Due date",
            DatePickerElement(
                action_id=f.DUE,
                initial_date=a.due_date.isoformat() if a.due_date else None,
                placeholder=_plain("No due date"),
            ),
            hint="Leave empty for no due date.",
        ),
        _input(
            f.OWNERS,
            "Owners",
            UserMultiSelectElement(action_id=f.OWNERS, initial_users=offer.row.owners or None),
            optional=False,
        ),
    ]
    if offer.organisations:
        blocks.append(
            _input(
                f.ORG,
                "Organisation",
                select(
                    f.ORG,
                    offer.organisations,
                    placeholder="District or organisation",
                    initial=[a.organisation],
                ),
            )
        )
    blocks.append(
        _input(
            f.NOTE,
            "Progress note",
            PlainTextInputElement(
                action_id=f.NOTE,
                multiline=True,
                max_length=MAX_NOTE,
                placeholder=_plain("What has happened since? (needed to drop it)"),
            ),
        )
    )
    return _modal(UPDATE_CALLBACK, truncate(f"Update #{a.number}", 24), blocks, meta, "Save")


# ----- reading a submitted view --------------------------------------------------------------------------


def state_value(values: dict[str, Any], block_id: str) -> Any:
    """The value of the input in `block_id`: a string, a list, or None when empty or absent."""
    for state in (values.get(block_id) or {}).values():
        kind = state.get("type", "")
        if kind == "datepicker":
            return state.get("selected_date")
        if kind == "multi_users_select":
            return list(state.get("selected_users") or [])
        if kind == "users_select":
            return state.get("selected_user")
        if kind.startswith("multi_") or kind == "checkboxes":
            return [o.get("value") for o in state.get("selected_options") or []]
        if "selected_option" in state:
            return (state.get("selected_option") or {}).get("value")
        return state.get("value")
    return None


def action_form(view: dict[str, Any], meta: dict[str, Any]) -> f.ActionForm:
    values = (view.get("state") or {}).get("values") or {}

    def text(block: str) -> str | None:
        value = state_value(values, block)
        return value if isinstance(value, str) and value.strip() else None

    def many(block: str) -> list[str]:
        value = state_value(values, block)
        return [str(v) for v in value] if isinstance(value, list) else []

    return f.ActionForm(
        title=text(f.TITLE),
        owners=many(f.OWNERS),
        organisation=text(f.ORG) if f.ORG in values else None,
        due=text(f.DUE),
        outcomes=many(f.OUTCOMES),
        districts=many(f.DISTRICTS),
        decision=text(f.DECISION),
        note=text(f.NOTE),
        status=text(f.STATUS),
        rag=text(f.RAG),
        source_link=meta.get("link"),
    )


def meta_json(meta: dict[str, Any]) -> str:
    """A form's private metadata (Slack allows 3000 characters; ours is a few ids and a permalink)."""
    return json.dumps(meta, separators=(",", ":"))[:3000]


def read_meta(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def plain_error(message: str) -> str:
    """A core message (mrkdwn) as the plain text Slack shows under a field."""
    text = re.sub(r"<@([UW][A-Z0-9]+)>", r"@\1", message)
    text = re.sub(r"[*`]", "", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return truncate(text, 2000)


# ----- the chair's meeting forms -----------------------------------------------------------------------------

ATTENDANCE_CALLBACK = "ecm_attendance_form"
DECISION_CALLBACK = "ecm_decision_form"


def attendance_view(offer: mf.AttendanceOffer, meta: dict[str, Any]) -> View:
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=truncate(
                    md(
                        "*{}*: how each member is attending. Rows left as they are change nothing; a change corrects the record (the earlier one stays in the history).",
                        offer.title,
                    ),
                    3000,
                )
            )
        )
    ]
    for row in offer.rows:
        org = md(" — {}", row.organisation) if row.organisation else ""
        blocks.append(
            SectionBlock(
                block_id=f"who-{row.user_id}",
                text=MarkdownTextObject(text=truncate(md("{}{}", person(row.user_id), org), 3000)),
                accessory=select(
                    mf.row_field(row.user_id),
                    mf.ROW_CHOICES,
                    placeholder="Not recorded",
                    initial=[row.current] if row.current else None,
                ),
            )
        )
    if offer.left_out:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{offer.left_out} more members: record them with `/ecm present @name` or "
                        "`/ecm apologies @name`."
                    )
                ]
            )
        )
    for i in range(mf.SUBSTITUTE_ROWS):
        blocks.append(
            _input(
                mf.substitute_field(i),
                "Substitute" if i == 0 else f"Substitute {i + 1}",
                UserSelectElement(action_id=mf.substitute_field(i), placeholder=_plain("Who came instead")),
            )
        )
        blocks.append(
            _input(
                mf.substitute_for_field(i),
                "Standing in for",
                select(mf.substitute_for_field(i), offer.members, placeholder="The member they replace"),
            )
        )
    return _modal(ATTENDANCE_CALLBACK, "Take attendance", blocks, meta, "Record")


def attendance_form(view: dict[str, Any]) -> mf.AttendanceForm:
    values = (view.get("state") or {}).get("values") or {}
    form = mf.AttendanceForm()
    for actions in values.values():
        for action_id, state in actions.items():
            if action_id.startswith("att-"):
                chosen = (state.get("selected_option") or {}).get("value")
                if chosen:
                    form.modes[action_id.removeprefix("att-")] = chosen
    for i in range(mf.SUBSTITUTE_ROWS):
        who = state_value(values, mf.substitute_field(i))
        whom = state_value(values, mf.substitute_for_field(i))
        if who or whom:
            form.substitutes.append((str(who or ""), str(whom) if whom else None))
    return form


def attendance_errors(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Errors by block: a member's row is a section (Slack shows errors on input blocks only), so a row's
    error goes on the first substitute input, naming the row."""
    values = (view.get("state") or {}).get("values") or {}
    out: dict[str, str] = {}
    for key, message in errors.items():
        if key in values and not key.startswith("att-"):
            out[key] = plain_error(message)
        else:
            out.setdefault(mf.substitute_field(0), plain_error(message))
    return out


def decision_view(offer: mf.DecisionOffer, meta: dict[str, Any]) -> View:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(md("A decision of *{}*.", offer.title), 3000))),
        _input(
            mf.DECISION_TEXT,
            "Decision",
            PlainTextInputElement(action_id=mf.DECISION_TEXT, multiline=True, max_length=2000),
            optional=False,
        ),
        _input(
            mf.DECISION_STATUS,
            "Status",
            select(mf.DECISION_STATUS, mf.DECISION_STATUS_CHOICES, placeholder="Status", initial=["agreed"]),
            optional=False,
        ),
    ]
    if offer.actions:
        blocks.append(
            _input(
                mf.DECISION_ACTIONS,
                "Actions carrying it out",
                select(mf.DECISION_ACTIONS, offer.actions, placeholder="Link actions", multi=True),
            )
        )
    return _modal(DECISION_CALLBACK, "Record decision", blocks, meta, "Record")
