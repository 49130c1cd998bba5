"""The chair's meeting forms through Bolt: Take attendance and Record decision, from the buttons on the
meeting-started post."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.forms import ATTENDANCE_CALLBACK, DECISION_CALLBACK
from bot.offline import Exchange, OfflineWorkspace, block_text
from commands.meeting_input import RECORD_DECISION, TAKE_ATTENDANCE
from storage.members import get_member, upsert_member
from storage.models import Action, Attendance, AuditEvent, Decision
from tests.support import db, group_of, ok


def started(ws: OfflineWorkspace) -> Exchange:
    out = ws.command('meeting start "November meeting"', user="chair")
    assert not out.is_error, out.text
    return out


def button(out: Exchange, action_id: str) -> dict[str, Any]:
    for message in out.posted:
        for block in message.blocks:
            for element in block.get("elements") or []:
                if element.get("action_id") == action_id:
                    return element
    raise AssertionError(f"no {action_id} button")


def attendance(ws: OfflineWorkspace) -> dict[str, str]:
    with Session(ws.engine) as session:
        rows = session.exec(select(Attendance).order_by(col(Attendance.id))).all()
        latest = {r.user_id: r.mode.value for r in rows}
    return {ws.standin.user_name(u): m for u, m in latest.items()}


def test_meeting_started_post_offers_the_chairs_forms(group: OfflineWorkspace) -> None:
    out = started(group)
    assert "[Take attendance] [Record decision]" in out.text


def test_take_attendance_records_every_row_in_one_submit(group: OfflineWorkspace) -> None:
    out = started(group)
    b = button(out, TAKE_ATTENDANCE)
    group.click(b["action_id"], b["value"], user="chair")
    modal = group.modal("chair")
    assert modal is not None and modal.view["callback_id"] == ATTENDANCE_CALLBACK
    answers = {
        f"who-{group.user('sam')}": "present",
        f"who-{group.user('priya')}": "apologies",
        f"who-{group.user('dev')}": "virtual",
        "sub-0": group.user("jo"),
        "subfor-0": group.user("priya"),
    }
    done = group.submit(modal, answers)
    assert done.errors == {}, done.errors
    assert attendance(group) == {
        "chair": "present",
        "sam": "present",
        "priya": "apologies",
        "dev": "virtual",
        "jo": "substitute",
    }
    [post] = done.posted
    text = group.readable(block_text(post.blocks))
    assert "@priya — apologies (South Ribble)" in text and "@jo — substitute for South Ribble" in text
    assert "standing in for @priya" in text


def test_correction_keeps_the_audit_trail(group: OfflineWorkspace) -> None:
    out = started(group)
    group.command("present @sam", user="chair")
    b = button(out, TAKE_ATTENDANCE)
    group.click(b["action_id"], b["value"], user="chair")
    modal = group.modal("chair")
    row = next(bl for bl in modal.view["blocks"] if bl.get("block_id") == f"who-{group.user('sam')}")  # type: ignore[union-attr]
    assert row["accessory"]["initial_option"]["value"] == "present"  # the form shows what is recorded
    done = group.submit(modal, {f"who-{group.user('sam')}": "apologies"})  # type: ignore[arg-type]
    assert "corrected; was present" in block_text(done.posted[0].blocks)
    with Session(group.engine) as session:
        sams = session.exec(select(Attendance).where(Attendance.user_id == group.user("sam"))).all()
        assert [r.mode.value for r in sams] == ["present", "apologies"]


def test_non_chair_clicking_is_refused(group: OfflineWorkspace) -> None:
    out = started(group)
    for action_id in (TAKE_ATTENDANCE, RECORD_DECISION):
        b = button(out, action_id)
        group.click(b["action_id"], b["value"], user="sam")
        modal = group.modal("sam")
        assert modal is not None and not modal.view.get("submit")
        assert "Only a chair of this task group can" in block_text(modal.view["blocks"])
        group.standin.close_views(group.user("sam"))


def test_record_decision_links_actions(group: OfflineWorkspace) -> None:
    group.command("add Draft the CAF plan @sam", user="chair")
    group.command("add Train the trainers @priya", user="chair")
    out = started(group)
    b = button(out, RECORD_DECISION)
    group.click(b["action_id"], b["value"], user="chair")
    modal = group.modal("chair")
    assert modal is not None and modal.view["callback_id"] == DECISION_CALLBACK
    done = group.submit(
        modal, {"text": "Adopt the joint CAF training plan", "status": "agreed", "actions": ["1", "2"]}
    )
    assert done.errors == {}
    text = block_text(done.posted[0].blocks)
    assert "*D1* _(agreed)_ Adopt the joint CAF training plan" in text and "Carried out by *#1*, *#2*" in text
    with Session(group.engine) as session:
        [decision] = session.exec(select(Decision)).all()
        linked = session.exec(select(Action).where(Action.decision_id == decision.id)).all()
        assert len(linked) == 2
        assert session.exec(select(AuditEvent).where(AuditEvent.entity == "decision")).all()


def test_decision_too_long_is_refused_on_its_field(group: OfflineWorkspace) -> None:
    out = started(group)
    b = button(out, RECORD_DECISION)
    group.click(b["action_id"], b["value"], user="chair")
    modal = group.modal("chair")
    done = group.submit(modal, {"text": "x" * 2001})  # type: ignore[arg-type]
    assert "too long" in done.errors["text"]
    with Session(group.engine) as session:
        assert not session.exec(select(Decision)).all()


def test_form_of_an_ended_meeting_records_nothing(group: OfflineWorkspace) -> None:
    out = started(group)
    b = button(out, RECORD_DECISION)
    group.click(b["action_id"], b["value"], user="chair")
    modal = group.modal("chair")
    group.command("meeting end", user="chair")
    done = group.submit(modal, {"text": "Too late"})  # type: ignore[arg-type]
    assert done.body.get("response_action") == "update"
    assert "no meeting open" in str(done.body["view"])
    with Session(group.engine) as session:
        assert not session.exec(select(Decision)).all()


def test_retried_attendance_submission_records_once(group: OfflineWorkspace) -> None:
    out = started(group)
    b = button(out, TAKE_ATTENDANCE)
    group.click(b["action_id"], b["value"], user="chair")
    modal = group.modal("chair")
    body = group.standin.submit(modal, {f"who-{group.user('sam')}": "present"})  # type: ignore[arg-type]
    group.resubmit(body)
    again = group.resubmit(body, retry_num=1)
    assert again.posted == []
    with Session(group.engine) as session:
        assert len(session.exec(select(Attendance).where(Attendance.user_id == group.user("sam"))).all()) == 1


def test_a_large_group_stays_within_limits_and_searches_members(group: OfflineWorkspace) -> None:
    ok(group.command('member @m000 org:"Partner 000"'))  # one through Slack, the rest set up directly
    with db(group) as session:  # 104 more like m000, straight into storage (as `member` stores them)
        task_group = group_of(session, group)
        first = get_member(session, task_group.id, group.user("m000"))  # type: ignore[arg-type]
        assert first is not None and first.organisation == "Partner 000"
        for i in range(1, 105):
            upsert_member(
                session,
                task_group,
                group.user(f"m{i:03d}"),
                by=group.user("chair"),
                at=group.clock.now(),
                organisation=f"Partner {i:03d}",
            )
    out = started(group)
    b = button(out, TAKE_ATTENDANCE)
    group.click(b["action_id"], b["value"], user="chair")
    modal = group.modal("chair")
    assert modal is not None
    blocks = modal.view["blocks"]
    assert len(blocks) <= 100  # every view is also checked against Slack's limits by the `slack` fixture
    assert "more members: record them with `/ecm present @name`" in block_text(blocks)
    subfor = next(bl for bl in blocks if bl.get("block_id") == "subfor-0")
    assert subfor["element"]["type"] == "external_select"
    options = group.suggest(modal, "subfor-0", "partner 104")
    assert [o["value"] for o in options] == [group.user("m104")]
    done = group.submit(modal, {"sub-0": group.user("kim"), "subfor-0": group.user("m104")})
    assert done.errors == {}
    assert attendance(group)["kim"] == "substitute"
