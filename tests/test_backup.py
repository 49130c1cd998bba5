"""`ecm-bot backup PATH` while a real `ecm-bot run` keeps writing: the copy is consistent, and restoring it
(putting the file back as the database) gives a working bot."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.standin import SlackStandIn
from tests.test_run_process import bot_env, migrated, start_bot


def _backup(slack: SlackStandIn, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "backup", *args],
        env=bot_env(slack, tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_backup_while_the_bot_writes_is_consistent_and_restores(
    slack: SlackStandIn, tmp_path: Path, sqlite_template: Path
) -> None:
    migrated(sqlite_template, tmp_path)
    chair = slack.add_user("chair")
    channel = slack.add_channel("ecm-backup")
    process, url = start_bot(slack, tmp_path, "--no-scheduler")
    try:
        status, _ = slack.post(
            f"{url}/slack/events", slack.slash_command('setup name:"Backup Group"', chair, channel)
        )
        assert status == 200
        assert slack.wait_for(
            lambda: any(m.channel == channel and not m.ephemeral for m in slack.messages), 15
        )
        stop = threading.Event()

        def keep_adding() -> None:
            # One add at a time, the next sent once the last one's post is in: the bot writes all along,
            # without a backlog of queued replies that its stop would then wait for (seconds of them).
            n = 0
            while not stop.is_set():
                n += 1
                slack.post(
                    f"{url}/slack/events", slack.slash_command(f'add "Action {n}" due:friday', chair, channel)
                )
                slack.wait_for(lambda n=n: sum(1 for m in slack.messages if "Action" in m.text) >= n, 10)

        writer = threading.Thread(target=keep_adding)
        writer.start()
        try:
            assert slack.wait_for(lambda: sum(1 for m in slack.messages if "Action" in m.text) >= 3, 30)
            copies = [tmp_path / "backups" / f"ecm-{i}.db" for i in range(2)]
            # Both at once (each process spends most of its time importing), while the bot writes.
            with ThreadPoolExecutor(max_workers=len(copies)) as pool:
                results = list(pool.map(lambda copy: _backup(slack, tmp_path, str(copy)), copies))
            for result in results:
                assert result.returncode == 0, result.stderr
                assert "integrity ok" in result.stdout
        finally:
            stop.set()
            writer.join(timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=20)

    for copy in copies:
        db = sqlite3.connect(copy)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            actions = db.execute("SELECT count(*), coalesce(max(number), 0) FROM action").fetchone()
            next_number = db.execute("SELECT next_action_number FROM task_group").fetchone()[0]
            created = db.execute(
                "SELECT count(*) FROM audit_event WHERE entity = 'action' AND verb = 'created'"
            ).fetchone()[0]
        finally:
            db.close()
        # One snapshot: the numbering, the rows and their audit entries all agree.
        assert actions[0] >= 1 and actions[0] == actions[1] == next_number - 1 == created
    assert not list((tmp_path / "backups").glob("*.partial"))

    # Restore: the backup file becomes the database, and the bot carries on from it.
    restored = tmp_path / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{restored}{suffix}").unlink(missing_ok=True)
    shutil.copy(copies[-1], restored)
    slack.reset()
    process, url = start_bot(slack, tmp_path, "--no-scheduler")
    try:
        slack.post(f"{url}/slack/events", slack.slash_command("actions all", chair, channel))
        assert slack.wait_for(
            lambda: any(m.ephemeral and "Action 1" in str(m.blocks) for m in slack.messages), 15
        )
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_backup_explains_what_it_cannot_copy(slack: SlackStandIn, tmp_path: Path) -> None:
    missing = _backup(slack, tmp_path, str(tmp_path / "out.db"))
    assert missing.returncode == 2 and "there is no database at" in missing.stderr
    pg = _backup(slack, tmp_path, "out.db", DATABASE_URL="postgresql+psycopg://ecm@127.0.0.1/ecm")
    assert pg.returncode == 2 and "pg_dump" in pg.stderr
    assert "Traceback" not in missing.stderr + pg.stderr
