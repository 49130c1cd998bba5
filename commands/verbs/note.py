"""`/ecm note "text"`: an information item for the minutes of the open meeting (MeetBot's `#info`)."""

from __future__ import annotations

from commands.context import Call
from commands.meeting_input import require_open
from commands.meeting_view import show_text, text_with_mentions
from commands.mrkdwn import md, person
from commands.registry import verb
from commands.replies import Reply, Section, UserError, Visibility
from storage import meetings as meeting_store

MAX_NOTE = 2000


@verb(
    "note",
    summary="Add an information item to the minutes of the meeting now open.",
    usage='/ecm note "text"',
    examples=[
        '/ecm note "Ofsted inspection of children\'s services confirmed for March"',
        '/ecm note "Chorley CAF pilot: 40 assessments so far"',
    ],
    aliases=("info",),
    section="Meetings",
    changes=True,
)
def note(call: Call) -> list[Reply]:
    text = text_with_mentions(call.args)
    if not text:
        raise UserError("Say what to note, in quotes.")
    if len(text) > MAX_NOTE:
        raise UserError(f"That note is too long ({len(text)} characters; {MAX_NOTE} at most).")
    meeting = require_open(call, "add a note to its minutes")
    meeting_store.add_note(call.session, meeting, text, by=call.user_id, at=call.now)
    return [
        Reply(
            text=f"Noted for the minutes: {show_text(text)}",
            visibility=Visibility.CHANNEL,
            sections=[
                Section(
                    md(
                        ":memo: *Noted for the minutes:* {} — {}",
                        show_text(text),
                        person(call.user_id),
                    )
                )
            ],
        )
    ]
