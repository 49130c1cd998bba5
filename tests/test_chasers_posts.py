"""Each kind of scheduled post, its content, and its working-day rules (bank holidays included), driven by
the injected clock through the real app and the local Slack stand-in."""

from __future__ import annotations

from datetime import date, timedelta

from bot.offline import OfflineWorkspace, block_text
from commands.home import UPDATE_FORM
from commands.posts import attendance_summary, channel_digest, due_soon, meeting_reminder, owner_digest
from commands.posts.common import (
    DONE_ACTION,
    NOTE_ACTION,
    SNOOZE_ACTION,
    legacy_nudge_key,
    owner_digest_key,
    post_time,
)
from storage import notifications
from storage.models import NotificationStatus
from storage.notifications import Planned
from tests.conftest import prepare
from tests.support import (
    TZ,
    add_directly,
    channel_posts,
    check_all_messages,
    db,
    dms,
    outbox,
    run,
    run_on,
    set_day,
    text_of,
)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def planned_dates(ws: OfflineWorkspace, kind: str) -> list[date]:
    return sorted({n.for_date for n in outbox(ws, kind)})


# ----- owner digest -------------------------------------------------------------------------------------


def test_owner_digest_is_one_dm_per_person_across_groups(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Audit school nurse referrals @sam due:18/11/2026 outcome:safe district:chorley")
    add_directly(
        ws, "Share the <!channel> protocol & map @sam @priya due:20/11/2026 outcome:healthy district:all"
    )
    add_directly(ws, "Not overdue yet @sam due:30/11/2026 outcome:enjoy")
    other = ws.standin.add_channel("blaby-task-group")
    prepare(ws, 'setup name:"Blaby Task Group" districts:"Blaby, Melton"', user="chair2", channel=other)
    add_directly(ws, "Youth forum venue @sam due:16/11/2026 outcome:positive", user="chair2", channel=other)
    ws.standin.messages.clear()

    report = run(ws, "chasers")

    sam = dms(ws, "sam")
    assert len(sam) == 1, [text_of(ws, m) for m in sam]
    text = text_of(ws, sam[0])
    assert "Your overdue actions" in text and "3 of your actions are overdue" in text
    assert "Audit school nurse referrals" in text and "Youth forum venue" in text
    assert "Not overdue yet" not in text
    assert "Lancashire ECM Task Group" in text and "Blaby Task Group" in text  # groups named when several
    raw = str(sam[0].blocks)
    assert "protocol &amp; map" in raw and "<!channel>" not in raw
    buttons = [b for b in sam[0].blocks if b["type"] == "actions"]
    assert len(buttons) == 3
    assert [e["action_id"] for e in buttons[0]["elements"]] == [
        DONE_ACTION,
        SNOOZE_ACTION,
        NOTE_ACTION,
        UPDATE_FORM,
    ]
    assert [e["text"]["text"] for e in buttons[0]["elements"]] == [
        "Done",
        "Snooze a week",
        "Add update",
        "Update action",
    ]
    priya = dms(ws, "priya")
    assert len(priya) == 1 and "protocol" in text_of(ws, priya[0]) and "Audit" not in text_of(ws, priya[0])
    assert report.counts["sent"] == 2 and not report.of("failed")
    assert {n.idempotency_key for n in outbox(ws, owner_digest.KIND)} == {
        f"owner-digest:{ws.user('sam')}:2026-11-23",
        f"owner-digest:{ws.user('priya')}:2026-11-23",
    }
    check_all_messages(ws)

    again = run(ws, "chasers")
    assert again.deliveries == [] and len(dms(ws, "sam")) == 1


def test_owner_digest_only_on_working_days(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Overdue for ages @sam due:01/10/2026")
    ws.standin.messages.clear()
    for day in days(date(2026, 12, 21), date(2026, 12, 31)):
        run_on(ws, day, "chasers")
    # 25 Dec (Christmas), 26-27 (weekend) and 28 Dec (Boxing Day's substitute day) are not working days.
    assert planned_dates(ws, owner_digest.KIND) == [
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
        date(2026, 12, 24),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
    ]
    assert len(dms(ws, "sam")) == 7


def test_done_or_snoozed_actions_are_not_chased(group: OfflineWorkspace) -> None:
    ws = group
    one = add_directly(ws, "First @sam due:18/11/2026")
    two = add_directly(ws, "Second @sam due:19/11/2026")
    prepare(ws, f'done {one} "Finished"', user="sam")
    prepare(ws, f'snooze {two} "Waiting for the Board"', user="sam")
    ws.standin.messages.clear()
    report = run(ws, "chasers")
    assert dms(ws, "sam") == [] and report.deliveries == []


# ----- due-soon nudges ----------------------------------------------------------------------------------


def test_due_soon_nudge_two_working_days_before(group: OfflineWorkspace) -> None:
    ws = group
    set_day(ws, date(2026, 11, 16))
    add_directly(ws, "Book the venue @sam due:25/11/2026 outcome:enjoy")  # a Wednesday
    ws.standin.messages.clear()
    for day in days(date(2026, 11, 19), date(2026, 11, 25)):
        run_on(ws, day, "chasers")
    assert planned_dates(ws, due_soon.KIND) == [date(2026, 11, 23)]
    nudges = [m for m in dms(ws, "sam") if "Due soon" in text_of(ws, m)]
    assert len(nudges) == 1
    text = text_of(ws, nudges[0])
    assert "Book the venue" in text and "due Wed 25 Nov 2026" in text
    assert [e["action_id"] for b in nudges[0].blocks if b["type"] == "actions" for e in b["elements"]] == [
        DONE_ACTION,
        SNOOZE_ACTION,
        NOTE_ACTION,
        UPDATE_FORM,
    ]


def test_due_soon_is_folded_into_the_owner_digest_one_dm_a_day(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Late report @sam due:18/11/2026 outcome:safe")
    add_directly(ws, "Book the venue @sam due:25/11/2026 outcome:enjoy")  # due in 2 working days
    add_directly(ws, "Only soon for priya @priya due:25/11/2026")
    ws.standin.messages.clear()
    before = len(ws.standin.calls)

    run(ws, "all")

    sam = dms(ws, "sam")
    assert len(sam) == 1, [text_of(ws, m) for m in sam]
    text = text_of(ws, sam[0])
    assert "Late report" in text and "Book the venue" in text and "Due soon" in text
    assert len([b for b in sam[0].blocks if b["type"] == "actions"]) == 2  # buttons for both
    assert len(sam[0].blocks) <= 50
    priya = dms(ws, "priya")
    assert len(priya) == 1 and "Only soon for priya" in text_of(ws, priya[0])
    # Every person once, the channel once: as many Slack posts as recipients.
    posted = [
        c.params["channel"] for c in ws.standin.calls[before:] if c.method == "chat.postMessage" and c.ok
    ]
    assert len(posted) == len(set(posted)) == 3  # sam, priya, the channel's Monday digest
    run(ws, "all")  # the same day again sends nothing
    assert len(dms(ws, "sam")) == 1 and len(dms(ws, "priya")) == 1


def test_due_soon_counts_working_days_over_easter(group: OfflineWorkspace) -> None:
    ws = group
    set_day(ws, date(2026, 3, 20))
    add_directly(
        ws, "After Easter @sam due:08/04/2026"
    )  # Wed after Easter Monday (6 Apr); Good Friday is 3 Apr
    add_directly(ws, "Due on a Saturday @priya due:11/04/2026")
    ws.standin.messages.clear()
    for day in days(date(2026, 3, 30), date(2026, 4, 10)):
        run_on(ws, day, "chasers")
    sent = {(n.recipient, n.for_date) for n in outbox(ws, due_soon.KIND)}
    # 2 working days before Wed 8 Apr is Thu 2 Apr; before Sat 11 Apr it is Thu 9 Apr.
    assert sent == {(ws.user("sam"), date(2026, 4, 2)), (ws.user("priya"), date(2026, 4, 9))}


def test_nudge_days_setting(group: OfflineWorkspace) -> None:
    ws = group
    set_day(ws, date(2026, 11, 16))
    prepare(ws, "setup nudge-days:3")
    add_directly(ws, "Book the venue @sam due:25/11/2026")
    for day in days(date(2026, 11, 18), date(2026, 11, 24)):
        run_on(ws, day, "chasers")
    assert planned_dates(ws, due_soon.KIND) == [date(2026, 11, 20)]
    prepare(ws, "setup nudge-days:0")
    add_directly(ws, "Another @sam due:03/12/2026")
    for day in days(date(2026, 11, 25), date(2026, 12, 2)):
        run_on(ws, day, "chasers")
    assert planned_dates(ws, due_soon.KIND) == [date(2026, 11, 20)]


# ----- channel digest -----------------------------------------------------------------------------------


def test_channel_digest_on_monday_grouped_with_counts_and_mentions(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Chorley safe one @sam due:16/11/2026 outcome:safe district:chorley")
    add_directly(ws, "Chorley healthy one @sam due:17/11/2026 outcome:healthy district:chorley")
    # Typed as "<b>bold</b> & co"; Slack escapes it that way before sending (should_escape).
    add_directly(
        ws, "Ribble &lt;b&gt;bold&lt;/b&gt; &amp; co @priya due:18/11/2026 outcome:safe district:south-ribble"
    )
    add_directly(ws, "Countywide one @dev due:19/11/2026 outcome:economic district:all")
    add_directly(ws, "Not overdue @dev due:30/11/2026 outcome:economic district:all")
    ws.standin.messages.clear()

    run(ws, "digest")
    posts = channel_posts(ws)
    assert len(posts) == 1
    text = text_of(ws, posts[0])
    assert "Weekly digest: overdue actions" in text
    assert "4 overdue actions" in text and "owned by 3 people" in text
    assert "By district:* Countywide 1 · Chorley 2 · South Ribble 1" in text
    assert "By outcome:* Be Healthy 1 · Stay Safe 2 · Achieve Economic Well-being 1" in text
    assert "*Chorley* (2: healthy 1, safe 1)" in text
    assert "Not overdue" not in text
    raw = block_text(posts[0].blocks)
    assert f"<@{ws.user('sam')}>" in raw and f"<@{ws.user('priya')}>" in raw  # owners are mentioned
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in raw
    assert "overdue by 5 working days" in text  # #1: due Mon 16 Nov, digest Mon 23 Nov
    check_all_messages(ws)

    run(ws, "digest")
    run_on(ws, date(2026, 11, 24), "digest")
    assert len(channel_posts(ws)) == 1


def test_channel_digest_with_nothing_overdue_says_so(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Future @sam due:30/11/2026")
    ws.standin.messages.clear()
    run(ws, "digest")
    (post,) = channel_posts(ws)
    assert "No overdue actions in Lancashire ECM Task Group this week (1 open action)" in text_of(ws, post)


def test_channel_digest_moves_off_bank_holidays(group: OfflineWorkspace) -> None:
    ws = group
    # Easter Monday 6 Apr 2026, the August bank holiday 31 Aug 2026, and 28 Dec 2026 (Boxing Day's substitute).
    for monday in (date(2026, 4, 6), date(2026, 8, 31), date(2026, 12, 28)):
        for day in days(monday - timedelta(days=1), monday + timedelta(days=4)):
            run_on(ws, day, "digest")
        assert [
            d for d in planned_dates(ws, channel_digest.KIND) if monday <= d < monday + timedelta(days=7)
        ] == [monday + timedelta(days=1)]
    assert channel_digest.next_digest_day(date(2026, 12, 25), 0) == date(2026, 12, 29)


def test_channel_digest_day_setting_and_good_friday(group: OfflineWorkspace) -> None:
    ws = group
    prepare(ws, "setup digest:friday")
    for day in days(date(2026, 3, 23), date(2026, 4, 10)):
        run_on(ws, day, "digest")
    # Fri 27 Mar; Good Friday 3 Apr -> Tue 7 Apr (Easter Monday too); Fri 10 Apr.
    assert planned_dates(ws, channel_digest.KIND) == [date(2026, 3, 27), date(2026, 4, 7), date(2026, 4, 10)]
    prepare(ws, "setup digest:off")
    run_on(ws, date(2026, 4, 17), "digest")
    assert planned_dates(ws, channel_digest.KIND)[-1] == date(2026, 4, 10)


# ----- escalation ---------------------------------------------------------------------------------------


def test_escalation_at_ten_working_days_counts_the_christmas_holidays(group: OfflineWorkspace) -> None:
    ws = group
    set_day(ws, date(2026, 12, 14))
    add_directly(ws, "Winter plan @sam due:21/12/2026 outcome:safe")
    ws.standin.messages.clear()
    # Working days after 21 Dec: 22, 23, 24, 29, 30, 31 Dec, 4, 5, 6, 7 Jan (25, 28 Dec and 1 Jan are holidays).
    for day in (date(2027, 1, 5), date(2027, 1, 6)):
        run_on(ws, day, "escalation")
        assert dms(ws, "chair") == [], day
    run_on(ws, date(2027, 1, 7), "escalation")
    (dm,) = dms(ws, "chair")
    text = text_of(ws, dm)
    assert (
        "Escalation — Lancashire ECM Task Group" in text
        and "1 action overdue by 10 working days or more" in text
    )
    assert "Winter plan" in text and "overdue by 10 working days" in text
    assert dms(ws, "sam") == []  # the escalation job DMs chairs only; owners get their digest from `chasers`


def test_chair_gets_one_dm_with_own_actions_and_escalations(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Chair's own @chair due:19/11/2026")
    add_directly(ws, "Long overdue @sam due:02/11/2026")  # 15 working days before Mon 23 Nov
    add_directly(ws, "Nearly there @sam due:10/11/2026")  # 9 working days
    ws.standin.messages.clear()
    run(ws, "all")
    (dm,) = dms(ws, "chair")
    text = text_of(ws, dm)
    assert "Chair's own" in text and "Escalation" in text and "Long overdue" in text
    assert "Nearly there" not in text
    assert len([b for b in dm.blocks if b["type"] == "actions"]) == 1  # buttons for the chair's own action
    assert len(dms(ws, "sam")) == 1


def test_escalation_setting(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Long overdue @sam due:02/11/2026")
    prepare(ws, "setup escalate-after:0")
    ws.standin.messages.clear()
    run(ws, "escalation")
    assert dms(ws, "chair") == []
    prepare(ws, "setup escalate-after:20")
    run_on(ws, date(2026, 11, 27), "escalation")
    assert dms(ws, "chair") == []  # 19 working days
    run_on(ws, date(2026, 11, 30), "escalation")
    assert len(dms(ws, "chair")) == 1


# ----- meeting reminders --------------------------------------------------------------------------------


def test_meeting_reminder_the_working_day_before(group: OfflineWorkspace) -> None:
    ws = group
    prepare(ws, 'schedule "Task group meeting" every:"2nd wednesday" at:10:00')
    add_directly(ws, "Overdue item @sam due:16/11/2026 outcome:safe")
    ws.standin.messages.clear()
    for day in days(date(2026, 12, 1), date(2026, 12, 9)):
        run_on(ws, day, "meeting-reminders")
    assert planned_dates(ws, meeting_reminder.KIND) == [date(2026, 12, 8)]
    (post,) = channel_posts(ws)
    text = text_of(ws, post)
    assert "Meeting tomorrow: Task group meeting" in text
    assert "Wed 9 Dec 2026, 10:00" in text
    assert "Matters arising" in text and "Overdue item" in text
    check_all_messages(ws)


def test_meeting_reminder_before_easter_goes_on_the_thursday(group: OfflineWorkspace) -> None:
    ws = group
    set_day(ws, date(2026, 3, 16))
    prepare(ws, 'schedule "Spring meeting" every:"1st tuesday" at:14:00')
    ws.standin.messages.clear()
    for day in days(date(2026, 3, 30), date(2026, 4, 7)):
        run_on(ws, day, "meeting-reminders")
    assert planned_dates(ws, meeting_reminder.KIND) == [date(2026, 4, 2)]
    (post,) = channel_posts(ws)
    assert "Meeting on Tue 7 Apr 2026: Spring meeting" in text_of(ws, post)
    assert "Tue 7 Apr 2026, 14:00" in text_of(ws, post)


def test_meeting_reminder_skipped_when_the_date_is_cancelled(group: OfflineWorkspace) -> None:
    ws = group
    prepare(ws, 'schedule "Task group meeting" every:"2nd wednesday" at:10:00')
    set_day(ws, date(2026, 12, 8), 7, 0)
    run(ws, "meeting-reminders", plan_only=True)
    prepare(ws, 'schedule cancel 9 Dec "Christmas lunch instead"')
    set_day(ws, date(2026, 12, 8))
    ws.standin.messages.clear()
    report = run(ws, "meeting-reminders")
    assert channel_posts(ws) == []
    (skipped,) = report.of("skipped")
    assert "cancelled" in skipped.detail
    (row,) = outbox(ws, meeting_reminder.KIND)
    assert row.status.value == "skipped" and "cancelled" in (row.last_error or "")


def test_meeting_reminders_can_be_turned_off(group: OfflineWorkspace) -> None:
    ws = group
    prepare(ws, 'schedule "Task group meeting" every:"2nd wednesday" at:10:00')
    prepare(ws, "setup reminders:off")
    run_on(ws, date(2026, 12, 8), "meeting-reminders")
    assert outbox(ws, meeting_reminder.KIND) == []


# ----- attendance summary -------------------------------------------------------------------------------


def _hold_meeting(ws: OfflineWorkspace, day: date, *present: str) -> None:
    set_day(ws, day, 10, 0)
    prepare(ws, "meeting start")
    if present:
        prepare(ws, "present " + " ".join(f"@{p}" for p in present))
    set_day(ws, day, 12, 0)
    prepare(ws, "meeting end")


def test_attendance_summary_on_the_first_working_day_of_the_month(group: OfflineWorkspace) -> None:
    ws = group
    _hold_meeting(ws, date(2026, 9, 9), "sam", "priya")
    _hold_meeting(ws, date(2026, 10, 14), "sam")
    ws.standin.messages.clear()
    for day in days(date(2026, 10, 30), date(2026, 11, 4)):
        run_on(ws, day, "attendance-summary")
    assert planned_dates(ws, attendance_summary.KIND) == [date(2026, 11, 2)]  # 1 Nov 2026 is a Sunday
    (post,) = channel_posts(ws)
    text = text_of(ws, post)
    assert "Monthly attendance summary: the last 6 meetings" in text
    assert "2 meetings held" in text
    # Exactly what `/ecm attendance` says, section for section.
    asked = ws.command("attendance", user="sam")
    sections = [b for b in post.blocks if b["type"] == "section"]
    assert sections == [b for b in asked.messages[0].blocks if b["type"] == "section"]
    check_all_messages(ws)


def test_attendance_summary_dates_and_nothing_to_count(group: OfflineWorkspace) -> None:
    ws = group
    assert attendance_summary.is_summary_day(date(2027, 1, 4))  # 1 Jan is a bank holiday, then a weekend
    assert not attendance_summary.is_summary_day(date(2027, 1, 1))
    assert attendance_summary.is_summary_day(date(2026, 9, 1))  # after the August bank holiday
    ws.standin.messages.clear()
    report = run_on(ws, date(2026, 12, 1), "attendance-summary")
    assert channel_posts(ws) == []
    (skipped,) = report.of("skipped")
    assert "no meetings held yet" in skipped.detail
    prepare(ws, "setup attendance-summary:off")
    run_on(ws, date(2027, 1, 4), "attendance-summary")
    assert len(outbox(ws, attendance_summary.KIND)) == 1


def test_meeting_reminder_names_the_date_once(group: OfflineWorkspace) -> None:
    ws = group
    set_day(ws, date(2026, 3, 16))
    prepare(ws, 'schedule "Spring meeting" every:"1st tuesday" at:14:00')
    ws.standin.messages.clear()
    run_on(ws, date(2026, 4, 2), "meeting-reminders")
    (post,) = channel_posts(ws)
    text = text_of(ws, post)
    assert "*Spring meeting* is on *Tue 7 Apr 2026, 14:00*." in text, text
    assert text.count("Tue 7 Apr 2026") == 2  # the header and the sentence, nothing repeated
    assert post.text == "Reminder: Spring meeting on Tue 7 Apr 2026, 14:00"


# ----- user text in fallback texts ----------------------------------------------------------------------


def test_user_text_is_escaped_in_the_fallback_texts_of_dms_and_posts(group: OfflineWorkspace) -> None:
    ws = group
    # Slack sends typed <, > and & escaped (should_escape); the bot stores them as typed.
    prepare(ws, 'setup name:"Lancs &lt;https://evil.example|Click&gt; &amp; Co"')
    prepare(ws, 'schedule "Board &lt;!here&gt; &amp; co" every:"2nd wednesday" at:10:00')
    add_directly(ws, "Long overdue @sam due:02/11/2026")
    ws.standin.messages.clear()
    run(ws, "escalation")
    (chair,) = dms(ws, "chair")
    assert "Lancs &lt;https://evil.example|Click&gt; &amp; Co" in chair.text, chair.text
    run_on(ws, date(2026, 12, 8), "meeting-reminders")
    (reminder,) = channel_posts(ws)
    assert "Board &lt;!here&gt; &amp; co" in reminder.text, reminder.text
    for message in (chair, reminder):
        assert "<" not in message.text and ">" not in message.text


def test_an_escalation_only_dm_does_not_talk_about_buttons_it_has_not_got(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Long overdue @sam due:02/11/2026")
    ws.standin.messages.clear()
    run(ws, "all")
    (chair,) = dms(ws, "chair")
    assert not [b for b in chair.blocks if b["type"] == "actions"]
    text = text_of(ws, chair)
    assert "Escalation" in text and "Snooze a week" not in text and "*Done*" not in text
    assert "escalate-after" in text


def _sent_under_the_old_key(ws: OfflineWorkspace, user: str, day: date) -> None:
    """What 0.1.0 stored when it had nudged someone that morning: a sent `due-soon:USER:DATE` row."""
    key = legacy_nudge_key(ws.user(user), day)
    with db(ws) as session:
        notifications.plan(
            session,
            [Planned(key, due_soon.KIND, ws.user(user), day, post_time(day, TZ), payload={"actions": []})],
            now=ws.clock.now(),
        )
        row = notifications.get(session, key)
        assert row is not None
        row.status, row.sent_at = NotificationStatus.SENT, ws.clock.now()
        session.add(row)
        session.commit()


def test_a_nudge_sent_under_the_old_key_that_day_is_not_sent_again(group: OfflineWorkspace) -> None:
    # The database was upgraded mid-morning: 0.1.0 had already nudged sam and priya under `due-soon:`.
    ws = group
    add_directly(ws, "Late report @sam due:18/11/2026 outcome:safe")
    add_directly(ws, "Book the venue @sam due:25/11/2026 outcome:enjoy")  # due in 2 working days
    add_directly(ws, "Only soon for priya @priya due:25/11/2026")
    add_directly(ws, "Only soon for dev @dev due:25/11/2026")
    today = date(2026, 11, 23)
    _sent_under_the_old_key(ws, "sam", today)
    _sent_under_the_old_key(ws, "priya", today)
    ws.standin.messages.clear()

    run(ws, "all")

    assert dms(ws, "priya") == []  # her only post today was the nudge: already sent
    (sam,) = dms(ws, "sam")  # his digest still goes, without the nudge's part
    text = text_of(ws, sam)
    assert "Late report" in text and "Book the venue" not in text and "Due soon" not in text
    (dev,) = dms(ws, "dev")  # nobody nudged dev under the old key: his nudge goes
    assert "Only soon for dev" in text_of(ws, dev)
    assert owner_digest_key(ws.user("priya"), today) not in {n.idempotency_key for n in outbox(ws)}
    run(ws, "all")  # and again the same day: still nothing more
    assert dms(ws, "priya") == [] and len(dms(ws, "sam")) == 1 and len(dms(ws, "dev")) == 1
