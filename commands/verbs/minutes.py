"""`/ecm minutes [N|DATE] [share]`: the minutes of a meeting (default: the latest), only for you, with a
button to share them in the channel; `share` posts them straight away."""

from __future__ import annotations

from datetime import timedelta

from commands import meeting_view as view
from commands.context import Call
from commands.dates import DateError, format_date, parse_date
from commands.grammar import Args, Kind, Token
from commands.mrkdwn import md
from commands.numbers import is_number, whole_number
from commands.registry import verb
from commands.replies import Reply, UserError
from commands.text import truncate
from storage import meetings as meeting_store
from storage.models import Meeting


def find_meeting(call: Call, words: list[str]) -> Meeting:
    if not words or [w.lower() for w in words] in (["last"], ["latest"]):
        meeting = meeting_store.last_meeting(call.session, call.group_id)
        if meeting is None:
            raise UserError(
                "No meetings have been held here yet, so there are no minutes.",
                'A chair starts one with `/ecm meeting start "title"`.',
            )
        return meeting
    text = " ".join(words)
    number = text.lower().removeprefix("meeting").strip().lstrip("#m")
    if is_number(number):
        wanted = whole_number(number, 1)
        meeting = meeting_store.meeting_by_number(call.session, call.group_id, wanted) if wanted else None
        if meeting is None:
            raise UserError(
                md("There is no meeting {} in this task group.", number),
                "`/ecm meetings` lists recent meetings and their numbers.",
            )
        return meeting
    try:
        parse_date(text, call.today)
    except DateError as error:
        raise UserError(
            md("I don't know which meeting “{}” is.", truncate(text, 60)),
            "Give its number (`/ecm minutes 3`), its date (`/ecm minutes 23 Nov`), or nothing "
            "for the latest.",
        ) from error
    try:
        day = view.past_date(text, call.today, "date")
    except UserError as error:
        raise UserError(
            "That date is still to come, so there are no minutes yet.",
            "`/ecm meetings` lists recent meetings and the next ones.",
        ) from error
    start = view.local_midnight(day, call.timezone)
    found = meeting_store.meetings_on(
        call.session, call.group_id, start, view.local_midnight(day + timedelta(days=1), call.timezone)
    )
    if not found:
        raise UserError(
            f"No meeting was held on {format_date(day)}.",
            "`/ecm meetings` lists recent meetings and their numbers.",
        )
    return found[-1]


SHARE_WORD = "share"


def _split_share(words: list[str]) -> tuple[list[str], bool]:
    share = bool(words) and words[-1].lower() == SHARE_WORD
    return (words[:-1] if share else words), share


def _shares(args: Args) -> bool:
    return _split_share([t.text for t in args.positional])[1]


def share_args(meeting_id: str) -> Args:
    """`/ecm minutes id:N share`, as the "Share in channel" button runs it (the button carries the
    meeting's id, which stays right however meetings are numbered)."""
    return Args(verb="minutes", tokens=[Token(Kind.KEY, meeting_id, key="id"), Token(Kind.WORD, SHARE_WORD)])


def _meeting_by_id(call: Call, value: str) -> Meeting:
    meeting_id = whole_number(value, 1)
    meeting = meeting_store.get_meeting(call.session, call.group_id, meeting_id) if meeting_id else None
    if meeting is None:
        raise UserError(
            "I can't find those minutes in this channel's task group.",
            "`/ecm minutes` shows the latest minutes.",
        )
    return meeting


@verb(
    "minutes",
    summary="The minutes of a meeting (default: the latest), with a button to share them in the channel.",
    usage="/ecm minutes [N|DATE] [share]",
    examples=["/ecm minutes", "/ecm minutes 3", "/ecm minutes 23 Nov", "/ecm minutes 3 share"],
    aliases=("mins",),
    keys=("date", "id"),
    section="Meetings",
    changes_when=_shares,  # sharing posts in the channel: a retry or double click posts once
)
def minutes(call: Call) -> list[Reply]:
    words, share = _split_share([t.text for t in call.args.positional])
    if "id" in call.args.keys:
        meeting = _meeting_by_id(call, call.args.keys["id"])
    else:
        if "date" in call.args.keys:
            if words:
                raise UserError("Give the meeting's number or its date, not both.")
            words = [call.args.keys["date"]]
        meeting = find_meeting(call, words)
    return [
        view.minutes_reply(
            call.session,
            call.task_group,
            meeting,
            call.today,
            call.timezone,
            full=not share,
            shared_by=call.user_id if share else None,
        )
    ]
