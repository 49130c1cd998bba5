"""Big task groups: chaser DMs and the channel digest stay within Slack's limits (≤ 50 blocks, sections
≤ 3000 characters) and say how to see the rest, rather than failing to post."""

from __future__ import annotations

from datetime import date

from bot.offline import OfflineWorkspace
from storage.actions import create_action
from storage.groups import list_districts
from storage.models import Outcome, TaskGroup
from tests.chasers_support import channel_posts, check_all_messages, db, dms, group_id, run, text_of


def seed(ws: OfflineWorkspace, count: int, owner: str, due: date) -> None:
    gid = group_id(ws)
    with db(ws) as session:
        group = session.get(TaskGroup, gid)
        assert group is not None
        districts = list_districts(session, gid)
        for i in range(count):
            create_action(session, group, title=f"A long action title number {i} " + "x" * 200,
                          owners=[ws.user(owner)], organisation="Chorley", due_date=due,
                          outcomes=[list(Outcome)[i % 5]], district_ids=[districts[i % len(districts)].id],  # type: ignore[list-item]
                          countywide=False, by=ws.user("chair"), at=ws.clock.now())


def test_a_long_digest_stays_within_slacks_limits(group: OfflineWorkspace) -> None:
    ws = group
    seed(ws, 40, "sam", date(2026, 11, 18))
    seed(ws, 60, "priya", date(2026, 10, 1))  # escalated: listed to the chair
    seed(ws, 3, "chair", date(2026, 11, 19))
    ws.standin.messages.clear()
    report = run(ws, "all")
    assert not report.of("failed") and not report.of("retry")
    (sam,) = dms(ws, "sam")
    assert "…and 25 more: `/ecm actions mine overdue`" in text_of(ws, sam)
    (chair,) = dms(ws, "chair")
    text = text_of(ws, chair)
    assert "60 actions overdue by 10 working days or more" in text and "…and 30 more" in text
    digest = channel_posts(ws)
    assert digest and "103 overdue actions" in text_of(ws, digest[0])
    assert "…and" in "\n".join(text_of(ws, m) for m in digest)
    check_all_messages(ws)
