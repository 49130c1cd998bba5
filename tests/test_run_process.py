"""`ecm-bot run` as a user starts it: a real process in HTTP mode, Slack's Web API pointed at the stand-in."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.standin import SlackStandIn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_env(slack: SlackStandIn, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.update(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


def migrated(sqlite_template: Path, tmp_path: Path) -> None:
    """Puts a database already at the newest schema where `bot_env` points the bot. Migrating a new
    database is over a third of a start's CPU (alembic and seven revisions); the start on an empty database
    is proven by `test_run_serves_signed_commands_and_replies_through_the_api_url` (and `migrate`'s own
    tests), the rest start the way every later start of a deployment does."""
    shutil.copy(sqlite_template, tmp_path / "run.db")


class Output:
    """A process's output, read line by line as it comes (a thread drains the pipe), so a test can wait for
    a line instead of sleeping for a guessed time."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._stream = process.stdout
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: any(text in line for line in self.lines), timeout)

    def rest(self, timeout: float) -> str:
        """Everything, once the process has closed its output."""
        self._reader.join(timeout)
        return "".join(self.lines)


def start_bot(
    slack: SlackStandIn, tmp_path: Path, *args: str, log_level: str = "WARNING", **env: str
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--port", str(port), *args],
        env=bot_env(slack, tmp_path, LOG_LEVEL=log_level, ECM_TICK_SECONDS="1", **env),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"ecm-bot run exited: {process.stdout.read() if process.stdout else ''}")
            time.sleep(0.05)  # a refused connection costs nothing: notice the start promptly
    return process, url


@pytest.fixture
def running_bot(slack: SlackStandIn, tmp_path: Path) -> Iterator[str]:
    process, url = start_bot(slack, tmp_path, "--no-scheduler")
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def test_run_serves_signed_commands_and_replies_through_the_api_url(
    running_bot: str, slack: SlackStandIn
) -> None:
    chair = slack.add_user("chair")
    channel = slack.add_channel("ecm-run")
    assert slack.calls_to("auth.test"), "the token is checked at start"
    status, _ = slack.post(
        f"{running_bot}/slack/events",
        slack.slash_command('setup name:"Run Group" preset:lancashire', chair, channel),
    )
    assert status == 200
    assert slack.wait_for(lambda: any(m.channel == channel and not m.ephemeral for m in slack.messages), 15)
    status, _ = slack.post(f"{running_bot}/slack/events", slack.slash_command("nonsense", chair, channel))
    assert status == 200
    assert slack.wait_for(
        lambda: any(m.ephemeral and "don't know the command" in json.dumps(m.blocks) for m in slack.messages),
        15,
    )


def test_run_with_a_refused_token_says_so_in_one_line(
    slack: SlackStandIn, tmp_path: Path, sqlite_template: Path
) -> None:
    migrated(sqlite_template, tmp_path)
    env = bot_env(slack, tmp_path, SLACK_BOT_TOKEN="xoxb-wrong")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--no-scheduler", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_scheduler_stops_cleanly_on_sigterm(
    slack: SlackStandIn, tmp_path: Path, sqlite_template: Path
) -> None:
    migrated(sqlite_template, tmp_path)
    process, _url = start_bot(slack, tmp_path, log_level="INFO")
    output = Output(process)
    # The first tick runs at start; the signal comes once it has (APScheduler logs each run at INFO).
    assert output.wait_for("executed successfully", 30), output.rest(0)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, output.rest(5)
    assert "scheduler stopped" in output.rest(10)


def worker_processes(parent: int) -> list[int]:
    """The uvicorn worker processes `parent` started (multiprocessing's spawned children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts worker processes through /proc")
def test_run_with_web_workers_serves_from_several_processes_and_stops_them(
    slack: SlackStandIn, tmp_path: Path, sqlite_template: Path
) -> None:
    migrated(sqlite_template, tmp_path)
    process, url = start_bot(slack, tmp_path, "--no-scheduler", log_level="INFO", ECM_WEB_WORKERS="2")
    try:
        deadline = time.monotonic() + 60
        while len(worker_processes(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = worker_processes(process.pid)
        assert len(workers) == 2
        chair = slack.add_user("chair")
        channel = slack.add_channel("ecm-workers")
        status, _ = slack.post(
            f"{url}/slack/events",
            slack.slash_command('setup name:"Workers" preset:lancashire', chair, channel),
        )
        assert status == 200
        assert slack.wait_for(
            lambda: any(m.channel == channel and not m.ephemeral for m in slack.messages), 30
        )
        for i in range(6):  # served by whichever worker takes the connection, on the one database
            status, _ = slack.post(
                f"{url}/slack/events", slack.slash_command(f"add Task {i}", chair, channel)
            )
            assert status == 200
        assert slack.wait_for(
            lambda: sum(1 for m in slack.messages if m.channel == channel and "Task " in m.text) >= 6, 30
        )
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "the workers stop with the process"
    assert "Traceback" not in output


def _actions_in_the_database_file(path: Path) -> int:
    """Actions the main database file holds by itself (a copy without its -wal: what was checkpointed)."""
    import sqlite3

    copy = path.with_name("copy.db")
    copy.write_bytes(path.read_bytes())
    with sqlite3.connect(f"file:{copy}?immutable=1", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM action").fetchone()[0])


@pytest.mark.parametrize("interval", ["0.2", "0"])
def test_run_on_sqlite_checkpoints_on_a_thread_of_its_own(
    slack: SlackStandIn, tmp_path: Path, sqlite_template: Path, interval: str
) -> None:
    # With ECM_SQLITE_CHECKPOINT_SECONDS the server copies its commits into the database file within the
    # interval (no command waits for it); with 0, SQLite's own checkpoint waits for 1,000 pages of log.
    migrated(sqlite_template, tmp_path)
    process, url = start_bot(slack, tmp_path, "--no-scheduler", ECM_SQLITE_CHECKPOINT_SECONDS=interval)
    try:
        chair = slack.add_user("chair")
        channel = slack.add_channel("ecm-wal")
        slack.post(
            f"{url}/slack/events", slack.slash_command('setup name:"Wal" preset:lancashire', chair, channel)
        )
        assert slack.wait_for(
            lambda: any(m.channel == channel and not m.ephemeral for m in slack.messages), 30
        )
        for i in range(3):
            slack.post(f"{url}/slack/events", slack.slash_command(f"add Task {i}", chair, channel))
        assert slack.wait_for(
            lambda: sum(1 for m in slack.messages if m.channel == channel and "Task " in m.text) >= 3, 30
        )
        deadline = time.monotonic() + (10 if interval != "0" else 1.5)
        while _actions_in_the_database_file(tmp_path / "run.db") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _actions_in_the_database_file(tmp_path / "run.db") == (3 if interval != "0" else 0)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    if interval != "0":  # its last checkpoint runs as the server stops: the file alone holds every commit
        assert _actions_in_the_database_file(tmp_path / "run.db") == 3
