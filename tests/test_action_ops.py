"""Fast tier: the action operations (`commands.action_ops`), the field reader and the dispatcher, called
directly — no Bolt, no HTTP. Checks reply fields (`is_error`, `visibility`) and stored data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import TypeVar

import pytest
from sqlmodel import Session, col, select

from commands import action_ops
from commands.action_fields import ActionChange, NewAction, merge_in_progress, read_fields
from commands.context import Actor
from commands.dispatch import run_args
from commands.grammar import parse
from commands.replies import Reply, UserError, Visibility
from commands.verbs.minutes import share_args
from storage import actions as store
from storage.db import session_scope
from storage.groups import get_group
from storage.models import ActionStatus, AuditEvent, Outcome, Rag
from tests.conftest import CHAIR, DEV, PRIYA, SAM, Core

TODAY = date(2026, 11, 23)  # the `clock` fixture's Monday
T = TypeVar("T")


@contextmanager
def acting(core: Core, user: str, via: str = "") -> Iterator[Actor]:
    """An actor in the core's group, inside one transaction (rolled back if the operation refuses)."""
    with session_scope(core.engine) as session:
        group = get_group(session, core.team_id, core.channel_id)
        assert group is not None and group.id is not None
        yield action_ops.actor_for(session, group.id, user, now=core.clock.now(), today=TODAY, via=via)


def do(core: Core, user: str, operation: Callable[[Actor], T], via: str = "") -> T:
    with acting(core, user, via) as actor:
        return operation(actor)


def refused(core: Core, user: str, operation: Callable[[Actor], object], via: str = "") -> str:
    with pytest.raises(UserError) as caught:
        do(core, user, operation, via)
    return caught.value.message


def row_of(core: Core, number: int) -> store.ActionRow:
    with acting(core, CHAIR) as actor:
        return action_ops.load_action(actor, number)


def audit_verbs(core: Core) -> list[str]:
    with Session(core.engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.entity == "action").order_by(col(AuditEvent.id))
        )
        return [e.verb for e in events]


def only_error(replies: list[Reply]) -> Reply:
    assert len(replies) == 1, replies
    reply = replies[0]
    assert reply.is_error and reply.visibility == Visibility.EPHEMERAL, reply
    return reply


def not_errors(replies: list[Reply]) -> list[Reply]:
    assert replies and not any(r.is_error for r in replies), replies
    return replies


def new_action(core: Core, user: str = SAM, **fields: object) -> int:
    result = do(core, user, lambda a: action_ops.create(a, NewAction(title="Audit referrals", **fields)))  # type: ignore[arg-type]
    return result.row.number


# ----- create and change -----------------------------------------------------------------------------------


def test_create_posts_in_the_channel_with_the_owner_and_their_organisation(core: Core) -> None:
    result = do(core, SAM, lambda a: action_ops.create(a, NewAction(title="  Map   youth provision ")))
    assert result.changed and [r.visibility for r in result.replies] == [Visibility.CHANNEL]
    assert result.row.owners == [SAM] and result.row.action.organisation == "Chorley"
    assert result.row.action.title == "Map youth provision"
    # Someone with no registered organisation: the action is added, with a note only they see.
    result = do(core, "U0GUEST", lambda a: action_ops.create(a, NewAction(title="Second")))
    assert [r.visibility for r in result.replies] == [Visibility.CHANNEL, Visibility.EPHEMERAL]
    assert "no registered organisation" in result.replies[1].sections[0].text
    assert audit_verbs(core) == ["created", "created"]


def test_change_touches_only_the_fields_given(core: Core) -> None:
    number = new_action(core, due_date=date(2026, 12, 4), outcomes=[Outcome.STAY_SAFE])
    result = do(core, SAM, lambda a: action_ops.change(a, number, ActionChange(rag=Rag.RED)))
    assert set(result.diff) == {"rag"} and result.channel_post is not None
    row = row_of(core, number)
    assert row.action.due_date == date(2026, 12, 4) and row.outcomes == [Outcome.STAY_SAFE]
    result = do(core, SAM, lambda a: action_ops.change(a, number, ActionChange(due_date=None)))
    assert set(result.diff) == {"due_date"} and row_of(core, number).action.due_date is None
    assert (
        ActionChange(due_date=None).set_fields() == {"due_date": None} and ActionChange().set_fields() == {}
    )


def test_change_with_nothing_to_change_refuses_and_the_same_values_change_nothing(core: Core) -> None:
    number = new_action(core)
    assert "Say what to change on #1" in refused(
        core, SAM, lambda a: action_ops.change(a, number, ActionChange())
    )
    result = do(core, SAM, lambda a: action_ops.change(a, number, ActionChange(owners=[SAM])))
    assert not result.changed and result.replies[0].visibility == Visibility.EPHEMERAL
    assert not result.replies[0].is_error and "Nothing changed" in result.confirmation
    assert audit_verbs(core) == ["created"]


def test_dropping_through_change_is_for_chairs_and_needs_a_reason(core: Core) -> None:
    number = new_action(core)
    dropped = ActionChange(status=ActionStatus.DROPPED)
    assert "Only a chair can drop #1" in refused(
        core, SAM, lambda a: action_ops.change(a, number, dropped, "x")
    )
    assert "Say why #1" in refused(core, CHAIR, lambda a: action_ops.change(a, number, dropped))
    do(core, CHAIR, lambda a: action_ops.change(a, number, dropped, "covered elsewhere"))
    message = refused(
        core, SAM, lambda a: action_ops.change(a, number, ActionChange(status=ActionStatus.OPEN))
    )
    assert "only a chair can bring it back" in message
    assert audit_verbs(core) == ["created", "dropped"]


# ----- one rule, one text, every surface -------------------------------------------------------------------


def test_the_permission_refusal_is_the_same_words_from_a_command_and_a_dm_button(core: Core) -> None:
    number = new_action(core)
    command = only_error(core.run(f"done {number}", user=DEV))
    button = refused(core, DEV, lambda a: action_ops.done(a, number), via=action_ops.VIA_CHASER_DM)
    assert command.text == button
    assert button.startswith("Only the owners of #1 or a chair can mark it done") and SAM in button
    assert row_of(core, number).action.status == ActionStatus.OPEN


@pytest.mark.parametrize(
    ("user", "operation", "words"),
    [
        (PRIYA, lambda a: action_ops.reopen(a, 1), "Only the owners of #1 or a chair can reopen it"),
        (PRIYA, lambda a: action_ops.snooze(a, 1, "busy"), "Only the owners of #1 or a chair can snooze"),
        (
            PRIYA,
            lambda a: action_ops.add_note(a, 1, "hi"),
            "Only the owners of #1 or a chair can add an update",
        ),
        (PRIYA, lambda a: action_ops.hand_over(a, 1, [PRIYA]), "Only the owners of #1 or a chair can hand"),
        (SAM, lambda a: action_ops.drop(a, 1, "gone"), "Only a chair of this task group can drop an action"),
        (CHAIR, lambda a: action_ops.done(a, 9), "There is no action #9 in this task group"),
    ],
)
def test_every_operation_refuses_with_its_rule(
    core: Core, user: str, operation: Callable[[Actor], object], words: str
) -> None:
    new_action(core)
    assert refused(core, user, operation).startswith(words)
    assert audit_verbs(core) == ["created"]


def test_done_twice_says_nothing_changed_without_an_error(core: Core) -> None:
    number = new_action(core)
    first = do(core, SAM, lambda a: action_ops.done(a, number), via=action_ops.VIA_CHASER_DM)
    assert first.changed and first.confirmation.endswith("is marked done. Thank you!")
    post = first.channel_post
    assert post is not None and "done (from their chaser DM)" in post.sections[0].text
    again = do(core, SAM, lambda a: action_ops.done(a, number))
    assert not again.changed and again.channel_post is None and not again.replies[0].is_error
    assert "already done" in again.confirmation and audit_verbs(core) == ["created", "done"]


def test_snooze_a_week_is_the_same_week_from_the_button_and_the_command(core: Core) -> None:
    first, second = new_action(core), new_action(core)
    do(
        core,
        SAM,
        lambda a: action_ops.snooze(a, first, action_ops.SNOOZED_FROM_DM),
        via=action_ops.VIA_CHASER_DM,
    )
    replies = not_errors(core.run(f'snooze {second} "Waiting for the Board"', user=SAM))
    assert replies[0].visibility == Visibility.CHANNEL
    week = TODAY + timedelta(days=action_ops.SNOOZE_A_WEEK_DAYS - 1)
    assert row_of(core, first).action.snoozed_until == week == row_of(core, second).action.snoozed_until
    ended = do(core, SAM, lambda a: action_ops.end_snooze(a, first))
    assert ended.diff == {"snoozed_until": ["2026-11-29", None]}
    assert "not snoozed" in refused(core, SAM, lambda a: action_ops.end_snooze(a, first))


def test_snooze_checks_its_reason_and_its_date(core: Core) -> None:
    number = new_action(core)
    assert "Say why the chasers" in refused(core, SAM, lambda a: action_ops.snooze(a, number, " "))
    past = TODAY - timedelta(days=1)
    assert "is in the past" in refused(core, SAM, lambda a: action_ops.snooze(a, number, "r", past))
    far = TODAY + timedelta(days=400)
    assert "a year at most" in refused(core, SAM, lambda a: action_ops.snooze(a, number, "r", far))
    do(core, SAM, lambda a: action_ops.done(a, number))
    assert "nobody is being chased" in refused(core, SAM, lambda a: action_ops.snooze(a, number, "r"))


def test_notes_and_hand_over(core: Core) -> None:
    number = new_action(core)
    typed = action_ops.typed_text(" Told <!channel> and <@U0FORGED> ")
    assert "<!channel>" not in typed and "<@U0FORGED>" not in typed
    result = do(core, SAM, lambda a: action_ops.add_note(a, number, typed), via=action_ops.VIA_CHASER_DM)
    post = result.channel_post
    assert post is not None and "added an update to *#1*" in post.sections[0].text
    assert "Write a few words" in refused(core, SAM, lambda a: action_ops.add_note(a, number, "  "))
    result = do(core, SAM, lambda a: action_ops.hand_over(a, number, [PRIYA], "Priya leads now"))
    # The organisation follows the new owner (Priya is registered for South Ribble), and she is told so.
    assert result.diff == {"owners": [[SAM], [PRIYA]], "organisation": ["Chorley", "South Ribble"]}
    assert row_of(core, number).owners == [PRIYA]
    assert any("moved with the new owner" in r.text for r in result.replies)
    # Sam no longer owns it, so Sam can't change it any more.
    assert refused(core, SAM, lambda a: action_ops.done(a, number)).startswith("Only the owners of #1")
    assert audit_verbs(core) == ["created", "note", "updated"]


# ----- the field reader ------------------------------------------------------------------------------------


def test_the_field_reader_returns_only_what_was_given(core: Core) -> None:
    new_action(core)
    args = parse(
        f"1 due:none status:in progress rag:g outcome:safe,healthy district:all owner:<@{PRIYA}>", TODAY
    )
    with acting(core, SAM) as actor:
        fields = read_fields(actor, merge_in_progress(args.tokens), TODAY)
    assert fields.set_fields() == {
        "due_date": None,
        "status": ActionStatus.IN_PROGRESS,
        "rag": Rag.GREEN,
        "outcomes": [Outcome.STAY_SAFE, Outcome.BE_HEALTHY],
        "countywide": True,
        "district_ids": [],
        "owners": [PRIYA],
    }
    with acting(core, SAM) as actor:
        assert read_fields(actor, parse("1 rag:none", TODAY).tokens, TODAY).set_fields() == {"rag": None}
        with pytest.raises(UserError, match="is not a RAG rating"):
            read_fields(actor, parse("1 rag:purple", TODAY).tokens, TODAY)


# ----- the dispatcher --------------------------------------------------------------------------------------


def test_key_aliases_are_normalised_by_the_grammar(core: Core) -> None:
    replies = not_errors(core.run("add Map provision outcomes:safe districts:chorley organisation:chorley"))
    assert replies[0].visibility == Visibility.CHANNEL
    row = row_of(core, 1)
    assert row.outcomes == [Outcome.STAY_SAFE] and [d.slug for d in row.districts] == ["chorley"]
    assert "has no option “colour:”" in only_error(core.run("add Thing colour:red")).text
    assert "has no option “outcomes:”" in only_error(core.run("show 1 outcomes:safe")).text


def test_a_retried_request_changes_nothing_twice(core: Core) -> None:
    not_errors(core.run("add Map provision", request_key="trigger-1"))
    assert core.run("add Map provision", request_key="trigger-1") == []
    assert audit_verbs(core) == ["created"]


def test_the_share_button_runs_the_minutes_verb_with_its_guard(core: Core) -> None:
    not_errors(core.run('meeting start "Budget"'))
    not_errors(core.run("meeting end"))
    with Session(core.engine) as session:
        from storage import meetings

        group = get_group(session, core.team_id, core.channel_id)
        meeting = meetings.last_meeting(session, group.id)  # type: ignore[arg-type, union-attr]
        assert meeting is not None
    shared = not_errors(run_args(core.context(SAM, request_key="click-1"), share_args(str(meeting.id))))
    assert [r.visibility for r in shared] == [Visibility.CHANNEL]
    assert run_args(core.context(SAM, request_key="click-1"), share_args(str(meeting.id))) == []
    assert only_error(run_args(core.context(SAM), share_args("999999"))).text.startswith("I can't find those")
    # Not set up in another channel: the same "not a task group" reply as any command there.
    other = run_args(core.context(SAM, channel="C0OTHER"), share_args(str(meeting.id)))
    assert "not a task group" in only_error(other).text
