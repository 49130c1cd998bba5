"""Posts whose outcome is unknown, and long posts: each reaches the person once.

Every scheduled message carries its outbox key in its metadata; a post that got no answer (the stand-in
accepts it and drops the connection, or answers after the client's timeout) is looked for in the
conversation's history before it is sent again, and a multi-page post resumes at the page that failed.
Counted where the posts land, at the stand-in."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from bot.jobs.dispatcher import (
    DEFAULT_UNKNOWN_PAUSE,
    HANDED_BACK,
    Heartbeat,
    Held,
    _deliver,
    dispatch_due,
    page_key,
)
from bot.offline import OfflineWorkspace
from bot.slack_api import make_client, outbox_metadata, post_message
from bot.standin import Message
from commands.posts import channel_digest
from storage import notifications
from storage.actions import NewActionRecord, create_action
from storage.groups import list_districts, set_districts
from storage.models import NotificationStatus, TaskGroup
from tests.support import add_directly, channel_posts, db, dms, group_id, outbox, run

TZ = "Europe/London"


# Slack's 5xx retries paced 50 times quicker than the deployment's default (ECM_SLACK_BACKOFF_SECONDS, through
# the same settings the app is built from): these tests count the retries, not their pace. A 429's
# Retry-After is obeyed as Slack sends it whatever this is (tests/test_slack_backoff.py).
@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ecm_slack_backoff_seconds": 0.01}


def key_of(message: Message) -> str | None:
    metadata = message.metadata or {}
    return (metadata.get("event_payload") or {}).get("key")


def posts_to(ws: OfflineWorkspace, name: str) -> list[Message]:
    return dms(ws, name)


def two_digests(ws: OfflineWorkspace) -> None:
    ok_setup = ws.command("setup escalate-after:0 digest:off")
    assert not ok_setup.is_error, ok_setup.text
    add_directly(ws, "Audit referrals @sam due:18/11/2026")
    add_directly(ws, "Map provision @priya due:19/11/2026")
    ws.standin.messages.clear()
    ws.standin.calls.clear()


def only_sam(ws: OfflineWorkspace):  # type: ignore[no-untyped-def]
    return lambda p: p.get("channel") == ws.user("sam")


def row_of(ws: OfflineWorkspace, name: str):  # type: ignore[no-untyped-def]
    (row,) = [n for n in outbox(ws) if n.recipient == ws.user(name)]
    return row


def test_every_scheduled_post_carries_its_outbox_key_in_its_metadata(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Audit referrals @sam due:18/11/2026")
    ws.standin.messages.clear()
    run(ws, "all")
    keys = {n.recipient: n.idempotency_key for n in outbox(ws)}
    assert len(keys) == 2  # sam's digest and the channel digest
    for message in ws.standin.messages:
        assert message.metadata == outbox_metadata(keys[message.channel])
        assert message.metadata["event_type"] == "ecm_outbox"


def test_a_post_accepted_but_never_answered_is_found_and_not_sent_again(group: OfflineWorkspace) -> None:
    ws = group
    two_digests(ws)
    ws.standin.inject("chat.postMessage", drop="after", times=1, match=only_sam(ws))
    first = run(ws, "chasers")
    assert first.counts["sent"] == 1 and first.counts["retry"] == 1
    row = row_of(ws, "sam")
    assert row.status == NotificationStatus.PENDING and row.attempt_state == notifications.UNKNOWN
    assert "no answer from Slack" in (row.last_error or "")
    assert len(posts_to(ws, "sam")) == 1  # Slack has it, though the bot could not know
    assert run(ws, "chasers").deliveries == []  # not looked for before the pause: a slow answer may land
    ws.clock.advance(DEFAULT_UNKNOWN_PAUSE + timedelta(seconds=1))  # type: ignore[attr-defined]
    second = run(ws, "chasers")
    (found,) = second.of("sent")
    assert "found in the conversation, not re-sent" in found.detail
    assert len(posts_to(ws, "sam")) == 1
    sam_posts = [c for c in ws.standin.calls_to("chat.postMessage") if c.params["channel"] == ws.user("sam")]
    assert len(sam_posts) == 1  # no automatic re-post by the client, none by the dispatcher
    (history,) = ws.standin.calls_to("conversations.history")
    assert history.params["channel"] == "D" + ws.user("sam")[1:]  # the DM conversations.open gave
    row = row_of(ws, "sam")
    assert row.status == NotificationStatus.SENT and row.attempt_state == notifications.SETTLED
    assert row.payload["ts"] == posts_to(ws, "sam")[0].ts


def test_an_operators_re_run_leaves_a_post_with_no_answer_to_its_pause(group: OfflineWorkspace) -> None:
    ws = group
    two_digests(ws)
    ws.standin.inject("chat.postMessage", drop="after", times=1, match=only_sam(ws))
    ws.standin.inject(
        "chat.postMessage", status=502, times=1, match=lambda p: p.get("channel") == ws.user("priya")
    )
    run(ws, "chasers")
    day = date(2026, 11, 23)
    # priya's transient failure is due again at once; sam's unknown post keeps its pause.
    assert notifications.retry_now(ws.engine, day=day, now=ws.clock.now()) == 1
    assert run(ws, "chasers").counts["sent"] == 1
    assert len(posts_to(ws, "sam")) == 1 and len(posts_to(ws, "priya")) == 1
    assert row_of(ws, "sam").attempt_state == notifications.UNKNOWN


def test_a_post_dropped_before_slack_saw_it_is_sent_once(group: OfflineWorkspace) -> None:
    ws = group
    two_digests(ws)
    ws.standin.inject("chat.postMessage", drop="before", times=1, match=only_sam(ws))
    run(ws, "chasers")
    assert posts_to(ws, "sam") == [] and row_of(ws, "sam").attempt_state == notifications.UNKNOWN
    ws.clock.advance(DEFAULT_UNKNOWN_PAUSE + timedelta(seconds=1))  # type: ignore[attr-defined]
    report = run(ws, "chasers")
    assert report.counts["sent"] == 1
    assert len(ws.standin.calls_to("conversations.history")) == 1  # looked, found nothing, posted
    assert len(posts_to(ws, "sam")) == 1 and len(posts_to(ws, "priya")) == 1


def test_a_post_answered_after_the_client_timeout_is_not_sent_twice(group: OfflineWorkspace) -> None:
    ws = group
    two_digests(ws)
    client = make_client(ws.standin.bot_token, ws.standin.api_url, timeout=1)
    ws.standin.inject("chat.postMessage", answer_delay=2.0, times=1, match=only_sam(ws))
    run(ws, "chasers", plan_only=True)
    first = dispatch_due(ws.engine, client, ws.clock, tz=TZ, unknown_pause=timedelta(seconds=5))
    assert first.counts["retry"] == 1 and "timed_out" in first.of("retry")[0].detail
    ws.clock.advance(timedelta(seconds=6))  # type: ignore[attr-defined]
    second = dispatch_due(ws.engine, client, ws.clock, tz=TZ, unknown_pause=timedelta(seconds=5))
    assert second.counts["sent"] == 1
    assert Counter(m.channel for m in ws.standin.messages) == Counter(
        {ws.user("sam"): 1, ws.user("priya"): 1}
    )


def test_a_row_whose_process_died_after_slack_took_the_post_is_not_posted_again(
    group: OfflineWorkspace,
) -> None:
    ws = group
    two_digests(ws)
    run(ws, "chasers", plan_only=True)
    # A process claims both rows and posts sam's digest; it dies before it can record that.
    claimed = notifications.claim(ws.engine, now=ws.clock.now(), limit=10)
    (sam_row,) = [c for c in claimed if c.recipient == ws.user("sam")]
    sent = post_message(
        ws.services.client,
        sam_row.recipient,
        {"text": "Your overdue actions", "blocks": []},
        metadata=outbox_metadata(sam_row.key),
    )
    assert sent.ok
    assert {n.attempt_state for n in outbox(ws)} == {notifications.POSTING}
    ws.clock.advance(notifications.DEFAULT_LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    report = run(ws, "chasers")
    assert report.counts["sent"] == 2
    assert len(posts_to(ws, "sam")) == 1 and len(posts_to(ws, "priya")) == 1
    assert len(ws.standin.calls_to("conversations.history")) == 2  # both were in doubt; one was found


def test_when_the_history_cannot_be_read_the_post_is_sent_rather_than_lost(group: OfflineWorkspace) -> None:
    ws = group
    two_digests(ws)
    ws.standin.inject("chat.postMessage", drop="before", times=1, match=only_sam(ws))
    ws.standin.inject("conversations.history", error="missing_scope", times=1)
    run(ws, "chasers")
    ws.clock.advance(DEFAULT_UNKNOWN_PAUSE + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert run(ws, "chasers").counts["sent"] == 1
    assert len(posts_to(ws, "sam")) == 1


def test_a_failed_history_look_up_is_retried_and_nothing_is_posted_meanwhile(group: OfflineWorkspace) -> None:
    ws = group
    two_digests(ws)
    ws.standin.inject("chat.postMessage", drop="after", times=1, match=only_sam(ws))
    ws.standin.inject("conversations.history", status=503, times=3)  # the client's 5xx retries run out
    run(ws, "chasers")
    ws.clock.advance(DEFAULT_UNKNOWN_PAUSE + timedelta(seconds=1))  # type: ignore[attr-defined]
    report = run(ws, "chasers")
    assert report.counts["retry"] == 1 and "could not check" in report.of("retry")[0].detail
    assert row_of(ws, "sam").attempt_state == notifications.UNKNOWN
    ws.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    assert run(ws, "chasers").counts["sent"] == 1
    assert len(posts_to(ws, "sam")) == 1


def test_the_client_never_re_posts_after_a_dropped_connection_but_re_reads(group: OfflineWorkspace) -> None:
    ws = group
    client = ws.services.client  # the app's own client, as replies and channel posts use it
    ws.standin.calls.clear()
    ws.standin.inject("chat.postMessage", drop="after", times=1)
    result = post_message(client, ws.channel, {"text": "hello", "blocks": []})
    assert not result.ok and result.unknown
    assert len(ws.standin.calls_to("chat.postMessage")) == 1
    assert len([m for m in ws.standin.messages if m.text == "hello"]) == 1
    ws.standin.inject("users.info", drop="after", times=1)
    assert client.users_info(user=ws.user("sam"))["ok"]  # a read is simply asked again
    assert len(ws.standin.calls_to("users.info")) == 2


# ----- long posts: one message per page ------------------------------------------------------------------


@pytest.fixture
def long_digest(group: OfflineWorkspace) -> OfflineWorkspace:
    """A weekly channel digest too long for one message: an overdue action in each of 70 districts (one
    section each, past Slack's 50 blocks a message)."""
    ws = group
    assert not ws.command("setup escalate-after:0").is_error
    with db(ws) as session:
        task_group = session.get(TaskGroup, group_id(ws))
        assert task_group is not None
        names = [(f"District {i:02d}", f"district-{i:02d}") for i in range(70)]
        set_districts(session, task_group, names, user_id=ws.user("chair"), at=ws.clock.now())
        for i, district in enumerate(list_districts(session, task_group.id or 0)):
            create_action(
                session,
                task_group,
                NewActionRecord(
                    title=f"Overdue action {i}",
                    owners=[ws.user("sam")],
                    organisation="Chorley",
                    due_date=date(2026, 11, 16),
                    district_ids=[district.id or 0],
                ),
                by=ws.user("chair"),
                at=ws.clock.now(),
            )
    ws.standin.messages.clear()
    ws.standin.calls.clear()
    return ws


def digest_key(ws: OfflineWorkspace) -> str:
    return channel_digest.key(group_id(ws), date(2026, 11, 23))


def pages_by_key(ws: OfflineWorkspace) -> Counter[str | None]:
    return Counter(key_of(m) for m in channel_posts(ws))


def digest_row(ws: OfflineWorkspace):  # type: ignore[no-untyped-def]
    (row,) = outbox(ws, channel_digest.KIND)
    return row


def page_is(key: str):  # type: ignore[no-untyped-def]
    return lambda p: ((p.get("metadata") or {}).get("event_payload") or {}).get("key") == key


def test_a_long_post_resumes_at_the_page_that_failed(long_digest: OfflineWorkspace) -> None:
    ws = long_digest
    key = digest_key(ws)
    ws.standin.inject(
        "chat.postMessage", status=429, retry_after=30, times=1, match=page_is(page_key(key, 1))
    )
    first = run(ws, "digest")
    assert first.counts["retry"] == 1
    assert pages_by_key(ws) == Counter({key: 1})
    row = digest_row(ws)
    assert row.pages_sent == 1 and row.status == NotificationStatus.PENDING
    assert row.attempt_state == notifications.SETTLED  # a 429 is an answer: nothing in doubt
    ws.clock.advance(timedelta(seconds=31))  # type: ignore[attr-defined]
    assert run(ws, "digest").counts["sent"] == 1
    counts = pages_by_key(ws)
    assert list(counts) == [key, page_key(key, 1)] and set(counts.values()) == {1}, counts  # page 1 once
    row = digest_row(ws)
    assert row.status == NotificationStatus.SENT and row.pages_sent == 2
    assert row.payload["page_ts"] == [m.ts for m in channel_posts(ws)]
    assert row.payload["ts"] == channel_posts(ws)[0].ts


def test_a_long_post_whose_second_page_got_no_answer_goes_on_from_the_third(
    long_digest: OfflineWorkspace,
) -> None:
    ws = long_digest
    key = digest_key(ws)
    ws.standin.inject("chat.postMessage", drop="after", times=1, match=page_is(page_key(key, 1)))
    run(ws, "digest")
    assert digest_row(ws).pages_sent == 1 and digest_row(ws).attempt_state == notifications.UNKNOWN
    assert list(pages_by_key(ws)) == [key, page_key(key, 1)]  # page 2 reached Slack; the bot cannot know
    ws.clock.advance(DEFAULT_UNKNOWN_PAUSE + timedelta(seconds=1))  # type: ignore[attr-defined]
    report = run(ws, "digest")
    assert report.counts["sent"] == 1 and "found in the conversation" in report.of("sent")[0].detail
    counts = pages_by_key(ws)
    assert list(counts) == [key, page_key(key, 1)] and set(counts.values()) == {1}, counts
    (history,) = ws.standin.calls_to("conversations.history")
    assert history.params.get("include_all_metadata") in ("1", "true", True)
    assert digest_row(ws).status == NotificationStatus.SENT


# ----- the heartbeat ------------------------------------------------------------------------------------


def test_the_heartbeat_renews_held_rows_and_a_row_taken_over_is_not_posted(group: OfflineWorkspace) -> None:
    ws = group
    two_digests(ws)
    run(ws, "chasers", plan_only=True)
    lease = timedelta(seconds=60)
    claimed = notifications.claim(ws.engine, now=ws.clock.now(), limit=10, lease=lease)
    held = Held()
    held.add(claimed)
    ws.clock.advance(timedelta(seconds=40))  # type: ignore[attr-defined]
    Heartbeat(ws.engine, ws.clock, held, lease).beat()
    assert {n.lease_until for n in outbox(ws)} == {ws.clock.now() + lease}  # renewed while it works
    assert all(held.lease_of(c) == ws.clock.now() + lease for c in claimed)
    # Its heartbeat stops (the database was away); once the lease runs out another process takes one row.
    ws.clock.advance(lease + timedelta(seconds=1))  # type: ignore[attr-defined]
    (other,) = notifications.claim(ws.engine, now=ws.clock.now(), limit=1, lease=lease)
    Heartbeat(ws.engine, ws.clock, held, lease).beat()
    lost = [c for c in claimed if held.lost(c)]
    assert [c.id for c in lost] == [other.id]
    delivery = _deliver(ws.engine, ws.services.client, ws.clock, lost[0], TZ, held=held)
    assert delivery.outcome == HANDED_BACK and ws.standin.messages == []
    assert _deliver(ws.engine, ws.services.client, ws.clock, other, TZ).outcome == "sent"
    assert len(ws.standin.messages) == 1
