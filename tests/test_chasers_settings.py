"""Chairs' chaser settings (`/ecm setup chasers:…`), `/ecm snooze` and `/ecm status`: the settings and snooze
replies through the core; what the scheduled posts then deliver, and `/ecm status` after them, through the
app."""

from __future__ import annotations

from datetime import date

from bot.offline import OfflineWorkspace
from commands.posts import due_soon, owner_digest
from commands.posts.registry import DEFAULTS
from commands.posts.settings import chaser_settings
from tests.conftest import Core, prepare
from tests.support import (
    action_record,
    add,
    add_directly,
    audit_events,
    channel_posts,
    dms,
    err,
    group_row,
    ok,
    outbox,
    run,
    run_on,
    set_day,
    text_of,
)

# ----- settings ---------------------------------------------------------------------------------------


def test_setup_shows_the_chaser_defaults(core: Core) -> None:
    text = ok(core.command("setup", user="sam")).text
    assert "Owner digest DMs of overdue actions: *on*" in text
    assert "Due-soon nudge: *2 working days before the due date*" in text
    assert "Channel digest: *weekly on Monday* (or the next working day)" in text
    assert "Escalation to chairs: *overdue by 10 working days or more*" in text
    assert "Meeting reminders the working day before: *on*" in text
    assert "Monthly attendance summary: *on*" in text
    assert chaser_settings(group_row(core)) == DEFAULTS


def test_chairs_change_the_settings_with_an_audit_entry(core: Core) -> None:
    out = ok(
        core.command(
            "setup chasers:off digest:friday nudge-days:3 escalate-after:15 reminders:off "
            "attendance-summary:off"
        )
    )
    assert out.posted
    text = out.text
    for fragment in (
        "chasers: on → off",
        "channel digest: monday → friday",
        "escalate after (working days): 10 → 15",
        "meeting reminders: on → off",
        "attendance summary: on → off",
    ):
        assert fragment in text, fragment
    settings = chaser_settings(group_row(core))
    assert (
        settings.chasers,
        settings.digest_day,
        settings.nudge_days,
        settings.escalate_after,
        settings.reminders,
        settings.attendance_summary,
    ) == (False, "friday", 3, 15, False, False)
    event = audit_events(core, "task_group", "settings")[-1]
    assert event.user_id == core.user("chair") and event.changes["digest_day"] == ["monday", "friday"]
    shown = ok(core.command("setup", user="sam")).text
    assert "Owner digest DMs of overdue actions: *off*" in shown and "weekly on Friday" in shown

    # Back to a default: the stored override goes, so later defaults reach the group too.
    ok(core.command("setup chasers:on digest:monday"))
    stored = group_row(core).settings
    assert "chasers" not in stored and "digest_day" not in stored and stored["nudge_days"] == 3
    nothing = core.command("setup chasers:on")
    assert "Nothing changed" in nothing.text


def test_setting_errors_and_permissions(core: Core) -> None:
    err(core.command("setup chasers:off", user="sam"), "Only a chair")
    err(core.command("setup chasers:maybe"), "`chasers:` takes `on` or `off`")
    err(core.command("setup digest:someday"), "`digest:` takes a weekday")
    err(core.command("setup nudge-days:99"), "from 0 to 20")
    err(core.command("setup escalate-after:soon"), "from 0 to 120")
    assert chaser_settings(group_row(core)) == DEFAULTS
    assert audit_events(core, "task_group", "settings") == []
    assert "chasers:on|off" in ok(core.command("help setup")).text


def test_chasers_off_stops_owner_dms_but_not_escalation(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Long overdue @sam due:02/11/2026")
    add_directly(ws, "Due soon @sam due:25/11/2026")
    prepare(ws, "setup chasers:off")
    ws.standin.messages.clear()
    run(ws, "all")
    assert dms(ws, "sam") == []
    assert outbox(ws, due_soon.KIND) == []
    (chair_dm,) = dms(ws, "chair")
    assert "Escalation" in text_of(ws, chair_dm) and "Long overdue" in text_of(ws, chair_dm)


def test_turning_chasers_off_after_planning_skips_with_a_reason(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Overdue @sam due:18/11/2026")
    set_day(ws, date(2026, 11, 23), 7, 0)
    run(ws, "chasers", plan_only=True)
    prepare(ws, "setup chasers:off")
    set_day(ws, date(2026, 11, 23))
    ws.standin.messages.clear()
    report = run(ws, "chasers")
    assert dms(ws, "sam") == []
    (skipped,) = report.of("skipped")
    assert skipped.detail.startswith("nothing overdue any more")


# ----- snooze -------------------------------------------------------------------------------------------


def test_snooze_a_week_by_default_audited_and_shown(group: OfflineWorkspace) -> None:
    ws = group
    number = add(ws, "Overdue @sam due:18/11/2026")
    out = ok(ws.command(f'snooze {number} "Waiting for the Board on 3 Dec"', user="sam"))
    assert out.posted
    assert (
        "snoozed the chasers for *#1* up to and including Sun 29 Nov 2026 (they resume Mon 30 Nov 2026)"
        in out.text
    )
    assert action_record(ws, number).snoozed_until == date(2026, 11, 29)
    event = audit_events(ws, "action", "snoozed")[-1]
    assert event.note == "Waiting for the Board on 3 Dec" and event.changes["snoozed_until"] == [
        None,
        "2026-11-29",
    ]
    show = ok(ws.command(f"show {number}", user="priya")).text
    assert "Reminders snoozed until:* Sun 29 Nov 2026" in show and "snoozed it" in show

    ws.standin.messages.clear()
    run(ws, "all")
    assert dms(ws, "sam") == []
    digest = text_of(ws, channel_posts(ws)[0])
    assert "Overdue" in digest and "snoozed until Sun 29 Nov 2026" in digest  # the group still sees it
    run_on(ws, date(2026, 11, 30), "chasers")
    assert len(dms(ws, "sam")) == 1


def test_snooze_until_a_date_and_off(group: OfflineWorkspace) -> None:
    ws = group
    number = add(ws, "Overdue @sam due:18/11/2026")
    ok(ws.command(f'snooze {number} until:end of month "Budget decision pending"', user="chair"))
    assert action_record(ws, number).snoozed_until == date(2026, 11, 30)
    ok(ws.command(f"snooze {number} off", user="sam"))
    assert action_record(ws, number).snoozed_until is None
    assert [e.verb for e in audit_events(ws, "action") if e.verb in ("snoozed", "unsnoozed")] == [
        "snoozed",
        "unsnoozed",
    ]
    run(ws, "chasers")
    assert len(dms(ws, "sam")) == 1


def test_snooze_errors(core: Core) -> None:
    number = add(core, "Overdue @sam due:18/11/2026")
    err(core.command(f'snooze {number} "No"', user="priya"), "Only the owners of #1")
    err(core.command(f"snooze {number}", user="sam"), "Say why")
    err(core.command(f'snooze {number} until:01/11/2026 "Past"', user="sam"), "is in the past")
    err(core.command(f'snooze {number} until:someday "x"', user="sam"))
    err(core.command('snooze 99 "x"', user="sam"), "no action #99")
    err(core.command(f"snooze {number} off", user="sam"), "not snoozed")
    ok(core.command(f"done {number}", user="sam"))
    err(core.command(f'snooze {number} "x"', user="sam"), "is done")
    assert action_record(core, number).snoozed_until is None
    assert audit_events(core, "action", "snoozed") == []


# ----- status -------------------------------------------------------------------------------------------


def test_status_shows_recent_deliveries_and_failures(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Overdue @sam due:18/11/2026")
    add_directly(ws, "Also overdue @priya due:18/11/2026")
    ws.standin.users[ws.user("priya")]["deleted"] = True  # priya left: Slack answers account_inactive
    run(ws, "all")
    err(ws.command("status", user="sam"), "Only a chair")
    out = ok(ws.command("status"))
    assert out.ephemeral and not out.posted
    text = ws.readable(out.text)
    assert "Last 7 days:* 2 sent, 1 failed" in text
    assert "owner digest → @sam · :white_check_mark: sent" in text
    assert f"channel digest → #{ws.standin.channel_name(ws.channel)}" in text  # shown as #name
    assert "*Failures*" in text and "owner digest → @priya · :x: failed — Slack said account_inactive" in text
    assert len(outbox(ws, owner_digest.KIND)) == 2


def test_status_shows_failures_of_owners_who_are_not_registered_members(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(
        ws, "Overdue @alex due:18/11/2026"
    )  # alex owns an action but was never registered with /ecm member
    ws.standin.users[ws.user("alex")]["deleted"] = True
    run(ws, "chasers")
    text = ws.readable(ok(ws.command("status")).text)
    assert "1 failed" in text
    assert "owner digest → @alex · :x: failed — Slack said account_inactive" in text
