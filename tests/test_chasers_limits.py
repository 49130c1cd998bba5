"""Big task groups: chaser DMs and the channel digest stay within Slack's limits (≤ 50 blocks, sections
≤ 3000 characters) and say how to see the rest, rather than failing to post."""

from __future__ import annotations

import re
from datetime import date

from bot.offline import OfflineWorkspace
from storage.actions import NewActionRecord, bulk_create_actions
from storage.groups import list_districts
from storage.models import Outcome, TaskGroup
from tests.conftest import prepare
from tests.support import channel_posts, check_all_messages, db, dms, group_id, run, text_of


def seed(ws: OfflineWorkspace, count: int, owner: str, due: date) -> None:
    """`count` actions straight into storage, in one `bulk_create_actions` (the rows `create_action` leaves)."""
    gid = group_id(ws)
    with db(ws) as session:
        group = session.get(TaskGroup, gid)
        assert group is not None
        districts = list_districts(session, gid)
        records = [
            NewActionRecord(
                title=f"A long action title number {i} " + "x" * 200,
                owners=[ws.user(owner)],
                organisation="Chorley",
                due_date=due,
                outcomes=[list(Outcome)[i % 5]],
                district_ids=[districts[i % len(districts)].id],  # type: ignore[list-item]
            )
            for i in range(count)
        ]
        bulk_create_actions(session, group, records, by=ws.user("chair"), at=ws.clock.now())


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
    assert "60 actions overdue by 10 working days or more" in text
    assert re.search(
        r"…and \d+ more \(`/ecm actions overdue` in the channel\)", text
    )  # as many as fit one block
    digest = channel_posts(ws)
    assert digest and "103 overdue actions" in text_of(ws, digest[0])
    assert "…and" in "\n".join(text_of(ws, m) for m in digest)
    check_all_messages(ws)


def test_a_chair_of_many_groups_still_gets_one_message(group: OfflineWorkspace) -> None:
    ws = group
    seed(ws, 20, "chair", date(2026, 11, 19))  # the chair's own, with buttons
    seed(ws, 35, "sam", date(2026, 10, 1))
    for i in range(7):  # six more groups, all chaired by `chair`, each with long-overdue actions
        channel = ws.standin.add_channel(f"ecm-group-{i}")
        prepare(ws, f'setup name:"Task group {i}" preset:lancashire', channel=channel)
        gid = group_id(ws, channel)
        with db(ws) as session:
            other = session.get(TaskGroup, gid)
            assert other is not None
            escalated = [
                NewActionRecord(
                    title=f"Escalated {k} " + "y" * 150,
                    owners=[ws.user("sam")],
                    organisation="Chorley",
                    due_date=date(2026, 10, 1),
                    outcomes=[Outcome.BE_HEALTHY],
                    countywide=True,
                )
                for k in range(35)
            ]
            bulk_create_actions(session, other, escalated, by=ws.user("chair"), at=ws.clock.now())
    ws.standin.messages.clear()
    run(ws, "chasers")
    (chair,) = dms(ws, "chair")  # one message, not split in two
    text = text_of(ws, chair)
    assert "Task group 6" in text and "Escalation" in text
    check_all_messages(ws)
