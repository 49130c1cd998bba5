"""`ecm-bot jobs …` through bot.cli.main, configured by environment to use the test's database and the
local Slack stand-in (configuration, not a fake: the real client posts over HTTP to the stand-in)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import pytest
from sqlmodel import col, update

from bot.cli import main
from bot.offline import OfflineWorkspace
from storage.clock import DayShiftedClock
from storage.models import Notification, NotificationStatus
from tests.support import TZ, add_directly, database_url, db, outbox


@pytest.fixture
def cli_env(group: OfflineWorkspace, monkeypatch: pytest.MonkeyPatch) -> OfflineWorkspace:
    ws = group
    monkeypatch.setenv("DATABASE_URL", database_url(ws))
    monkeypatch.setenv("SLACK_API_URL", ws.standin.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", ws.standin.bot_token)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    add_directly(ws, "Audit referrals @sam due:18/11/2026 outcome:safe district:chorley")
    add_directly(ws, "Map provision @priya due:19/11/2026 outcome:enjoy district:south-ribble")
    add_directly(ws, "Long overdue @dev due:02/11/2026 outcome:economic district:all")
    ws.standin.messages.clear()
    ws.standin.calls.clear()
    return ws


def posted(ws: OfflineWorkspace) -> Counter[str]:
    return Counter(c.params["channel"] for c in ws.standin.calls_to("chat.postMessage") if c.ok)


def test_jobs_run_all_as_of_a_date_then_again(
    cli_env: OfflineWorkspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = cli_env
    assert main(["jobs", "run", "all", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "all for Mon 23 Nov 2026: 5 planned (5 new)" in out
    assert "sent 5, skipped 0, failed 0" in out
    # Owner digests for sam, priya and dev; the chair's digest with the escalation; the channel digest.
    assert posted(ws) == Counter(
        {ws.user("sam"): 1, ws.user("priya"): 1, ws.user("dev"): 1, ws.user("chair"): 1, ws.channel: 1}
    )
    first = posted(ws)

    assert main(["jobs", "run", "all", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "(0 new)" in out and "sent 0, skipped 0, failed 0" in out
    assert posted(ws) == first  # counted at the stand-in: nothing the second time


def test_jobs_run_one_job(cli_env: OfflineWorkspace, capsys: pytest.CaptureFixture[str]) -> None:
    ws = cli_env
    assert main(["jobs", "run", "digest", "--as-of", "2026-11-23"]) == 0
    assert "sent 1," in capsys.readouterr().out
    assert posted(ws) == Counter({ws.channel: 1})
    assert main(["jobs", "run", "escalation", "--as-of", "2026-11-23"]) == 0
    assert "sent 1," in capsys.readouterr().out
    assert posted(ws)[ws.user("chair")] == 1 and ws.user("sam") not in posted(ws)
    assert main(["jobs", "run", "chasers", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "sent 3," in out  # sam, priya, dev; the chair already had today's digest
    assert main(["jobs", "run", "attendance-summary", "--as-of", "2026-12-01"]) == 0
    assert "skipped 1" in capsys.readouterr().out  # no meetings held yet


def test_a_bank_holiday_posts_nothing(cli_env: OfflineWorkspace, capsys: pytest.CaptureFixture[str]) -> None:
    ws = cli_env
    assert main(["jobs", "run", "all", "--as-of", "2026-12-28"]) == 0
    out = capsys.readouterr().out
    assert "not a working day" in out and "sent 0" in out
    assert posted(ws) == Counter()


def test_dry_run_stores_and_sends_nothing(
    cli_env: OfflineWorkspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = cli_env
    assert main(["jobs", "run", "all", "--as-of", "2026-11-23", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and out.count("would send") == 5, out
    assert outbox(ws) == [] and posted(ws) == Counter()
    assert main(["jobs", "run", "all", "--as-of", "2026-11-23"]) == 0
    capsys.readouterr()
    assert main(["jobs", "run", "all", "--as-of", "2026-11-23", "--dry-run"]) == 0
    assert capsys.readouterr().out.count("already sent") == 5


def test_a_recorded_slack_failure_is_not_a_crash(
    cli_env: OfflineWorkspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = cli_env
    ws.standin.inject(
        "chat.postMessage", error="not_in_channel", times=-1, match=lambda p: p.get("channel") == ws.channel
    )
    assert main(["jobs", "run", "all", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "failed 1" in out and "Slack said not_in_channel" in out
    (row,) = [n for n in outbox(ws) if n.recipient == ws.channel]
    assert row.status == NotificationStatus.FAILED


def test_a_crash_exits_non_zero(
    cli_env: OfflineWorkspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent-dir/for/sure/ecm.db")
    assert main(["jobs", "run", "all", "--as-of", "2026-11-23"]) == 1
    assert "crashed" in capsys.readouterr().err


def test_missing_token_is_one_clear_line(
    cli_env: OfflineWorkspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    assert main(["jobs", "run", "all", "--as-of", "2026-11-23"]) == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err


def test_jobs_list_shows_the_next_runs(cli_env: OfflineWorkspace, capsys: pytest.CaptureFixture[str]) -> None:
    ws = cli_env
    ws.command('schedule "Task group meeting" every:"2nd wednesday" at:10:00')
    assert main(["jobs", "list", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "ticks every 60s" in out
    # --as-of is 09:30, after today's 09:00 run: the next morning is Tuesday.
    assert "chasers             Tue 24 Nov 2026, 09:00" in out
    assert "digest              Mon 30 Nov 2026, 09:00  Lancashire ECM Task Group (weekly, monday)" in out
    assert (
        "meeting-reminders   Tue 8 Dec 2026, 09:00  Lancashire ECM Task Group: Task group meeting on Wed 9 Dec"
        in out
    )
    assert "attendance-summary  Tue 1 Dec 2026, 09:00" in out
    assert "Outbox for Mon 23 Nov 2026: nothing planned yet" in out


def test_a_post_that_crashes_while_being_built_exits_non_zero_and_the_others_go(
    cli_env: OfflineWorkspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.jobs import dispatcher
    from commands.posts import channel_digest

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug in the digest")

    monkeypatch.setitem(dispatcher.BUILDERS, channel_digest.KIND, broken)
    ws = cli_env
    assert main(["jobs", "run", "all", "--as-of", "2026-11-23"]) == 1
    captured = capsys.readouterr()
    assert "sent 4" in captured.out and "a bug in the digest" in captured.out
    assert "crashed" in captured.err
    assert ws.channel not in posted(ws) and len(posted(ws)) == 4


def test_dry_run_shows_names_not_slack_ids(
    cli_env: OfflineWorkspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = cli_env
    assert main(["jobs", "run", "all", "--as-of", "2026-11-23", "--dry-run"]) == 0
    out = capsys.readouterr().out
    for name in ("sam", "priya", "dev", "chair"):
        assert "would send owner_digest" in out and f" @{name} " in out, out
    assert f"#{ws.standin.channel_name(ws.channel)}" in out
    ids = [ws.user(n) for n in ("sam", "priya", "dev", "chair")] + [ws.channel]
    assert not any(i in out for i in ids), out
    # Each person and the channel were looked up once, however many lines name them.
    looked_up = [c.params.get("user") for c in ws.standin.calls_to("users.info")]
    assert len(looked_up) == len(set(looked_up))
    assert len(ws.standin.calls_to("conversations.info")) == 1


def test_jobs_run_names_who_was_sent_what(
    cli_env: OfflineWorkspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = cli_env
    assert main(["jobs", "run", "chasers", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert " @sam " in out and ws.user("sam") not in out, out


def test_jobs_run_uses_the_client_timeout_setting_and_a_late_answer_is_not_sent_twice(
    cli_env: OfflineWorkspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = cli_env
    monkeypatch.setenv("ECM_SLACK_TIMEOUT_SECONDS", "1")
    sam = ws.user("sam")
    ws.standin.inject("chat.postMessage", answer_delay=2.0, times=1, match=lambda p: p.get("channel") == sam)
    started = time.monotonic()
    assert main(["jobs", "run", "chasers", "--as-of", "2026-11-23"]) == 0
    assert "no answer from Slack (timed_out)" in capsys.readouterr().out
    (row,) = [n for n in outbox(ws) if n.recipient == sam]
    assert row.status == NotificationStatus.PENDING and row.attempt_state == "unknown"
    # Looked for no sooner than twice the timeout (at least 5 s), so a late answer lands first: the pause
    # is read off the row (its lease), then moved back rather than waited for.
    clock = DayShiftedClock(date(2026, 11, 23), TZ)
    assert row.lease_until is not None
    left = (row.lease_until - clock.now()).total_seconds()
    assert 2.5 < left <= 5.0, left  # 5 s from when it was marked, not the 2 s of twice the timeout
    time.sleep(max(0.0, 2.0 - (time.monotonic() - started)))  # Slack's late answer has landed
    with db(ws) as session:
        session.exec(
            update(Notification).where(col(Notification.id) == row.id).values(lease_until=clock.now())
        )  # type: ignore[call-overload]
        session.commit()
    assert main(["jobs", "run", "chasers", "--as-of", "2026-11-23"]) == 0
    capsys.readouterr()
    assert posted(ws)[sam] == 1 and len([m for m in ws.standin.messages if m.channel == sam]) == 1
    assert len(ws.standin.calls_to("conversations.history")) == 1
    (row,) = [n for n in outbox(ws) if n.recipient == sam]
    assert row.status == NotificationStatus.SENT
