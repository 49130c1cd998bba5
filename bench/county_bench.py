"""County scale, over real HTTP: `ecm-bot run --no-scheduler` against a bare Bolt app (the floor), same run.

Seeds 50 task groups with 100,000 actions through the storage layer (`bulk_create_actions`), starts the
real server (`python -m bot.cli run --no-scheduler`, Starlette + uvicorn) and `bench/floor_app.py` (a bare
slack-bolt app whose `/ecm` only acks and says "ok"), each as its own process talking to the local Slack
stand-in. Signed slash commands go over HTTP; a request is timed from sending it until its reply reaches
the stand-in. Floor and bot requests alternate, so both see the same load. Prints, per database:

- p50/p99 per command and the ratio to the floor's (sequential), then 8 concurrent clients;
- the scaling table: one group growing 1k -> 10k -> 100k actions, p50 per command, and the server's RSS;
- chasers for one working day with 10,000 overdue actions and 1,500 owners: Slack calls ÷ distinct
  recipients, planning time, and what a second run of the same day sends (nothing, it should be).

SQLite always; PostgreSQL too when ECM_TEST_DATABASE_URL is set (a private schema, dropped afterwards).
The machine may be shared: the load average is printed, and the ratios are the figures to compare.

    .venv/bin/python bench/county_bench.py [--repeat 100] [--quick] [--seed-only]

A/B of settings under 8 concurrent clients (`--variant`, repeatable: one bot server per variant, each with
those extra settings, and the floor, all running at once and measured in interleaved rounds, so each sees
the same minute's load on a shared machine; prints p99 ÷ the floor's and server CPU per request):

    .venv/bin/python bench/county_bench.py --only sqlite --rounds 6 \
        --variant "ECM_REPLY_COMPUTING=0" --variant "ECM_REPLY_COMPUTING=2"
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine  # noqa: E402

from bench.pg_schema import private_schema  # noqa: E402
from bot.jobs.dispatcher import dispatch_due  # noqa: E402
from bot.jobs.planner import plan  # noqa: E402
from bot.slack_api import make_client  # noqa: E402
from bot.standin import SlackStandIn  # noqa: E402
from commands.presets import PRESETS  # noqa: E402
from commands.text import slugify  # noqa: E402
from storage import actions, groups, members  # noqa: E402
from storage.actions import NewActionRecord  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.models import ActionStatus, Outcome, Role, TaskGroup  # noqa: E402

TZ = "Europe/London"
TODAY = datetime.now(ZoneInfo(TZ)).date()  # the server runs on the system clock
NOW = datetime.now(ZoneInfo(TZ))
DISTRICTS = PRESETS["lancashire"].districts
COMMANDS = [
    "help",
    "actions outcome:safe district:chorley",
    "actions overdue by:district",
    "actions mine",
    "add",
    "show",
]
SCALE_COMMANDS = [
    "actions outcome:safe district:chorley",
    "actions mine",
    "actions overdue by:district",
    "actions by:outcome",
    "show",
]
STATUSES = (
    [ActionStatus.OPEN] * 14
    + [ActionStatus.IN_PROGRESS] * 2
    + [ActionStatus.DONE] * 3
    + [ActionStatus.DROPPED]
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def records(
    rng: random.Random, count: int, owners: list[str], districts: list[int], me: str
) -> list[NewActionRecord]:
    out = []
    for i in range(count):
        status = rng.choice(STATUSES)
        out.append(
            NewActionRecord(
                title=f"Seeded action {i}: review provision and report to the board",
                owners=[me if rng.random() < 0.01 else rng.choice(owners)],
                organisation=rng.choice(["Chorley", "Lancashire Constabulary", "NHS Lancashire", "Preston"]),
                due_date=None if rng.random() < 0.1 else TODAY + timedelta(days=rng.randint(-90, 120)),
                outcomes=rng.sample(list(Outcome), k=rng.randint(1, 2)),
                district_ids=rng.sample(districts, k=rng.randint(1, 2)),
                countywide=rng.random() < 0.1,
                status=status,
            )
        )
    return out


class County:
    """The seeded database: channels, people, and the ids the commands need."""

    def __init__(self, engine: Engine, standin: SlackStandIn) -> None:
        self.engine, self.standin = engine, standin
        self.chair = standin.add_user("bench-chair")
        self.clients = [standin.add_user(f"bench-user{i}") for i in range(8)]
        self.me = self.clients[0]
        self.owners = [standin.add_user(f"owner{i:04d}") for i in range(1500)]
        self.channels: list[str] = []
        self.rng = random.Random(7)

    def add_group(self, name: str, actions_count: int) -> tuple[str, int]:
        channel = self.standin.add_channel(slugify(name))
        with session_scope(self.engine) as session:
            group = groups.create_group(
                session,
                team_id=self.standin.team_id,
                channel_id=channel,
                name=name,
                county="Lancashire",
                timezone=TZ,
                user_id=self.chair,
                at=NOW,
            )
            groups.set_districts(
                session, group, [(d, slugify(d)) for d in DISTRICTS], user_id=self.chair, at=NOW
            )
            members.upsert_member(session, group, self.chair, by=self.chair, at=NOW, role=Role.CHAIR)
            for user in self.clients:
                members.upsert_member(session, group, user, by=self.chair, at=NOW, organisation="Chorley")
            group_id = group.id
        assert group_id is not None
        self.channels.append(channel)
        self.grow(group_id, actions_count)
        return channel, group_id

    def grow(self, group_id: int, count: int, mine: int = 0) -> None:
        """`count` more actions, 1% of them `me`'s, and the first `mine` of them `me`'s whatever the dice say."""
        with session_scope(self.engine) as session:
            group = session.get(TaskGroup, group_id)
            assert group is not None
            districts = [d.id for d in groups.list_districts(session, group_id)]  # type: ignore[misc]
            owners = self.rng.sample(self.owners, 30)
            for start in range(0, count, 5000):
                batch = records(self.rng, min(5000, count - start), owners, districts, self.me)
                for i in range(max(0, min(len(batch), mine - start))):
                    batch[i] = dataclasses.replace(batch[i], owners=[self.me])
                actions.bulk_create_actions(session, group, batch, by=self.chair, at=NOW)


def analyse(engine: Engine) -> None:
    """PostgreSQL: the rows just bulk-loaded as autovacuum leaves them within a minute of an insert-heavy
    load: statistics (measured straight after the load, the planner picks plans for empty tables) and the
    visibility map (without it every index-only probe of a link or counter also reads its table row).
    SQLite: the server runs ANALYZE itself at start-up (storage.db.refresh_statistics), nothing more here."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def server_env(standin: SlackStandIn, url: str, web_workers: int) -> dict[str, str]:
    """The environment both servers run in: this shell's, without its Slack, database and ECM settings, and
    pointed at the stand-in and the bench's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "ECM_"))}
    env.update(
        SLACK_BOT_TOKEN=standin.bot_token,
        SLACK_SIGNING_SECRET=standin.signing_secret,
        SLACK_API_URL=standin.api_url,
        DATABASE_URL=url,
        HOST="127.0.0.1",
        LOG_LEVEL="WARNING",
        ECM_WEB_WORKERS=str(web_workers),
    )
    return env


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    log = tempfile.TemporaryFile()  # noqa: SIM115 - a file, not a pipe: a chatty server never blocks
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{argv} exited: {log.read().decode()[-2000:]}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident set of a server, MiB: summed over the process and its children (with
    ECM_WEB_WORKERS > 1, the supervisor, its workers and multiprocessing's resource tracker), so a server in
    several processes is not reported as its supervisor alone. Peak is the sum of each process's peak."""
    from bench.cpu_bench import process_tree

    current = peak = 0
    for each in process_tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        current += int(fields["VmRSS"].split()[0])
        peak += int(fields["VmHWM"].split()[0])
    return current / 1024, peak / 1024


def context_switches(pid: int) -> int:
    """Voluntary and involuntary context switches so far of a server's threads, all its processes: a
    server whose threads hand the interpreter lock back and forth shows many per request."""
    from bench.cpu_bench import process_tree

    total = 0
    for each in process_tree(pid):
        try:
            tasks = list(Path(f"/proc/{each}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                lines = (task / "status").read_text().splitlines()
            except OSError:
                continue
            total += sum(int(line.split()[1]) for line in lines if "ctxt_switches" in line)
    return total


class Client:
    """Sends signed slash commands to one server and times them until their reply reaches the stand-in."""

    def __init__(self, standin: SlackStandIn, port: int) -> None:
        self.standin, self.url = standin, f"http://127.0.0.1:{port}/slack/events"

    def replies_for(self, user: str, channel: str) -> int:
        return sum(
            1 for m in self.standin.messages if m.channel == channel and (m.user == user or not m.ephemeral)
        )

    def time(self, command: str, user: str, channel: str) -> float:
        body = self.standin.slash_command(command, user, channel)
        before = self.replies_for(user, channel)
        started = time.perf_counter()
        status, answer = self.standin.post(self.url, body, timeout=60)
        if status != 200:
            raise RuntimeError(f"{command!r}: HTTP {status} {answer[:200]}")
        if not self.standin.wait_for(lambda: self.replies_for(user, channel) > before, timeout=60):
            raise RuntimeError(f"{command!r}: no reply within 60 s")
        elapsed = time.perf_counter() - started
        last = [m for m in self.standin.messages if m.channel == channel][-1]
        if "went wrong" in last.text or "locked" in last.text:
            raise RuntimeError(f"{command!r} answered: {last.text}")
        return elapsed


@contextmanager
def bench_gc_paused() -> Iterator[None]:
    """The bench process's own garbage collector held off while requests are timed, and run after.

    The clients and the stand-in share this process: a full collection here (~90 ms once the stand-in has
    parsed a few thousand replies) stalled every request in flight, and it fell mostly on the bot's rounds,
    whose 40-line replies are what fills the heap. Measured, not served: a pause in the apparatus is no
    part of either server's latency."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def concrete(command: str, i: int, high: int) -> str:
    if command == "add":
        return f"add Bench action {i} outcome:safe district:chorley"
    if command == "show":
        return f"show {1 + (i * 37) % high}"
    return command


def sequential(
    app: Client, floor: Client, commands: list[str], channel: str, user: str, repeat: int, high: int
) -> dict[str, tuple[list[float], list[float]]]:
    out: dict[str, tuple[list[float], list[float]]] = {}
    for command in commands:
        mine, base = [], []
        with bench_gc_paused():
            for i in range(repeat):
                base.append(floor.time(command, user, channel))
                mine.append(app.time(concrete(command, i, high), user, channel))
        out[command] = (mine, base)
        app.standin.reset()
    return out


def concurrent(client: Client, command: str, channel: str, users: list[str], per_client: int) -> list[float]:
    timings: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(user: str) -> None:
        try:
            for _ in range(per_client):
                t = client.time(command, user, channel)
                with lock:
                    timings.append(t)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    with bench_gc_paused():
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    client.standin.reset()
    if errors:
        raise errors[0]
    return timings


def chasers(engine: Engine, standin: SlackStandIn, day: date) -> None:
    """10,000 overdue actions, 1,500 owners in 10 groups (some in two), plus due-soon ones: one day's posts."""
    rng = random.Random(11)
    now = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo(TZ))
    owners = [standin.add_user(f"chased{i:04d}") for i in range(1500)]
    chair = standin.add_user("chaser-chair")
    with session_scope(engine) as session:
        for g in range(10):
            channel = standin.add_channel(f"chased-group-{g}")
            group = groups.create_group(
                session,
                team_id=standin.team_id,
                channel_id=channel,
                name=f"Chased group {g}",
                county="Lancashire",
                timezone=TZ,
                user_id=chair,
                at=now,
            )
            members.upsert_member(session, group, chair, by=chair, at=now, role=Role.CHAIR)
            people = owners[g * 150 : (g + 1) * 150] + rng.sample(owners, 20)
            overdue = [
                NewActionRecord(
                    title=f"Overdue {g}-{i}",
                    owners=[rng.choice(people)],
                    organisation="Chorley",
                    due_date=day - timedelta(days=rng.randint(1, 40)),
                    countywide=True,
                )
                for i in range(1000)
            ]
            soon = [
                NewActionRecord(
                    title=f"Soon {g}-{i}",
                    owners=[rng.choice(people)],
                    organisation="Chorley",
                    due_date=day + timedelta(days=rng.randint(1, 3)),
                    countywide=True,
                )
                for i in range(60)
            ]
            actions.bulk_create_actions(session, group, overdue + soon, by=chair, at=now)
    analyse(engine)
    client = make_client(standin.bot_token, standin.api_url)
    clock = FixedClock(now)
    for run in (1, 2):
        standin.reset()
        started = time.perf_counter()
        planned = plan(engine, day, tz=TZ, now=now, job="all")
        planning = time.perf_counter() - started
        started = time.perf_counter()
        dispatch_due(engine, client, clock, tz=TZ)
        sending = time.perf_counter() - started
        posts = [c for c in standin.calls_to("chat.postMessage") if c.ok]
        recipients = Counter(c.params["channel"] for c in posts)
        twice = sum(1 for n in recipients.values() if n > 1)
        ratio = len(posts) / len(recipients) if recipients else 0.0
        print(
            f"  chasers run {run}: planned {planned.new} posts in {planning:.2f} s; sent {len(posts)} Slack posts "
            f"to {len(recipients)} recipients in {sending:.1f} s (calls ÷ recipients {ratio:.2f}; "
            f"{twice} recipients got more than one)"
        )


def seed(label: str, engine: Engine, standin: SlackStandIn, args: argparse.Namespace) -> tuple[County, str]:
    """Migrates, then seeds `args.actions` in `args.groups` groups; returns the county and its first channel."""
    migrate(engine)
    county = County(engine, standin)
    started = time.perf_counter()
    per_group = args.actions // args.groups
    first_channel = ""
    for g in range(args.groups):
        channel, _ = county.add_group(f"Task group {g:02d}", per_group)
        first_channel = first_channel or channel
    print(
        f"\n{label}: seeded {args.actions:,} actions in {args.groups} groups in {time.perf_counter() - started:.1f} s"
        f" (load average {os.getloadavg()[0]:.1f})"
    )
    return county, first_channel


def settle(pids: list[int], quiet: float = 0.02, window: float = 0.5, limit: float = 60.0) -> None:
    """Waits until none of the servers (each with its worker processes) spends more than `quiet` seconds of
    CPU in `window`: a server whose second worker is still importing would otherwise load the machine under
    whichever server is measured first."""
    from bench.cpu_bench import cpu_seconds

    deadline = time.monotonic() + limit
    before = [cpu_seconds(pid) for pid in pids]
    while time.monotonic() < deadline:
        time.sleep(window)
        now = [cpu_seconds(pid) for pid in pids]
        if all(b - a <= quiet for a, b in zip(before, now, strict=True)):
            return
        before = now


def many_clients_header(first: str) -> str:
    return (
        f"  {first:<38} {'p50':>5} {'p90':>5} {'p99':>5} {'÷ floor p99':>11} {'CPU ms/req':>10} "
        f"{'switches/req':>12} {'bench CPU':>9} {'DB CPU':>9}"
    )


def many_clients(
    servers: dict[str, tuple[Client, int]],
    command: str,
    channel: str,
    users: list[str],
    per_client: int,
    *,
    rounds: int,
) -> None:
    """Concurrent clients (one per user) on `command` against each server in turn, `rounds` times (so each sees the same
    minutes' load on a shared machine); the first server is the floor. Prints p50/p90/p99, p99 ÷ the floor's,
    the server's CPU per request (all its processes), its context switches per request, and the bench
    process's own CPU per request (the clients and the stand-in, which share the machine), and PostgreSQL's
    CPU per request (its backends share the machine too)."""
    from bench.cpu_bench import cpu_seconds, database_cpu_seconds

    for client, _ in servers.values():  # every server warm under the same load (each of its workers too)
        concurrent(client, command, channel, users, 3)
    settle([pid for _, pid in servers.values()])
    timings: dict[str, list[float]] = {name: [] for name in servers}
    cpu = dict.fromkeys(servers, 0.0)
    own = dict.fromkeys(servers, 0.0)
    database = dict.fromkeys(servers, 0.0)
    switches = dict.fromkeys(servers, 0)
    for _ in range(rounds):
        for name, (client, pid) in servers.items():
            cpu_before, switches_before, own_before, database_before = (
                cpu_seconds(pid),
                context_switches(pid),
                time.process_time(),
                database_cpu_seconds(),
            )
            timings[name] += concurrent(client, command, channel, users, per_client)
            cpu[name] += cpu_seconds(pid) - cpu_before
            own[name] += time.process_time() - own_before
            database[name] += database_cpu_seconds() - database_before
            switches[name] += context_switches(pid) - switches_before
    floor_p99 = pct(next(iter(timings.values())), 0.99)
    for name, times in timings.items():
        n = len(times)
        print(
            f"  {name:<38} {pct(times, 0.5):5.0f} {pct(times, 0.9):5.0f} {pct(times, 0.99):5.0f} "
            f"{pct(times, 0.99) / floor_p99:11.2f} {cpu[name] * 1000 / n:10.2f} {switches[name] / n:12.0f} "
            f"{own[name] * 1000 / n:9.2f} {database[name] * 1000 / n:9.2f}"
        )


def compare(county: County, channel: str, url: str, standin: SlackStandIn, args: argparse.Namespace) -> None:
    """--variant: one bot server per variant (its extra settings) and the floor, all running at once;
    `--clients` concurrent clients (8) on `--command` (the filtered list), a round each in turn (the floor
    too) so that every variant and the floor see the same minute's load (`many_clients`)."""
    command = args.command
    users = county.clients[: args.clients]
    env = server_env(standin, url, args.web_workers)
    names = ["floor", *args.variant]
    with ExitStack() as stack:
        clients: dict[str, tuple[Client, int]] = {}
        for name in names:
            port = free_port()
            if name == "floor":
                argv = [sys.executable, "bench/floor_app.py", "--port", str(port)]
                extra: dict[str, str] = {}
            else:
                argv = [sys.executable, "-m", "bot.cli", "run", "--no-scheduler", "--port", str(port)]
                extra = dict(part.split("=", 1) for part in name.split())
            process = stack.enter_context(server(argv, {**env, **extra}, port))
            clients[name] = (Client(standin, port), process.pid)
        for client, _ in clients.values():
            for _ in range(5):
                client.time(command, county.me, channel)
        standin.reset()
        print(
            f"  {len(users)} clients, `{command}`, {args.rounds} interleaved rounds of {len(users) * (args.repeat // 4)}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(many_clients_header("server (extra settings)"))
        many_clients(
            {name or "(defaults)": each for name, each in clients.items()},
            command,
            channel,
            users,
            args.repeat // 4,
            rounds=args.rounds,
        )


def bench(label: str, engine: Engine, url: str, standin: SlackStandIn, args: argparse.Namespace) -> None:
    county, first_channel = seed(label, engine, standin, args)
    if args.seed_only:
        return
    analyse(engine)
    if args.variant:
        compare(county, first_channel, url, standin, args)
        return
    per_group = args.actions // args.groups

    env = server_env(standin, url, args.web_workers)
    app_port, floor_port = free_port(), free_port()
    app_env = {**env, **args.server_env}
    with (
        server(
            [sys.executable, "-m", "bot.cli", "run", "--no-scheduler", "--port", str(app_port)],
            app_env,
            app_port,
        ) as app_process,
        server(
            [sys.executable, "bench/floor_app.py", "--port", str(floor_port)], env, floor_port
        ) as floor_process,
    ):
        app, floor = Client(standin, app_port), Client(standin, floor_port)
        for _ in range(5):  # warm both up (imports, first connections)
            floor.time("help", county.me, first_channel)
            app.time("actions", county.me, first_channel)
        standin.reset()
        print(
            f"  load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores shared); the bot in "
            f"{args.web_workers} server process(es) (ECM_WEB_WORKERS), the floor in 1"
        )
        print(
            f"  {'command (sequential)':<42} {'p50 ms':>8} {'p99 ms':>8} {'floor p50':>9} {'floor p99':>9} {'p99 ÷ floor':>11}"
        )
        for command, (mine, base) in sequential(
            app, floor, args.commands, first_channel, county.me, args.repeat, per_group
        ).items():
            print(
                f"  {command:<42} {pct(mine, 0.5):8.1f} {pct(mine, 0.99):8.1f} {pct(base, 0.5):9.1f} "
                f"{pct(base, 0.99):9.1f} {pct(mine, 0.99) / pct(base, 0.99):11.2f}"
            )
        if not args.skip_concurrent:
            command = "actions outcome:safe district:chorley"
            print(
                f"  8 concurrent clients, `{command}`, {8 * (args.repeat // 4)} requests per server and round, "
                "bot and floor in alternate rounds:"
            )
            print(many_clients_header("server"))
            servers = {f"bot, {args.web_workers} process(es)": (app, app_process.pid)}
            with ExitStack() as extra:
                for workers in args.concurrent_workers:
                    if workers == args.web_workers:
                        continue
                    port = free_port()
                    process = extra.enter_context(
                        server(
                            [sys.executable, "-m", "bot.cli", "run", "--no-scheduler", "--port", str(port)],
                            server_env(standin, url, workers),
                            port,
                        )
                    )
                    client = Client(standin, port)
                    for _ in range(5):
                        client.time("actions", county.me, first_channel)
                    servers[f"bot, {workers} processes (ECM_WEB_WORKERS={workers})"] = (client, process.pid)
                many_clients(
                    {"floor (bare Bolt)": (floor, floor_process.pid), **servers},
                    command,
                    first_channel,
                    county.clients,
                    args.repeat // 4,
                    rounds=args.rounds,
                )

        print(
            f"  {'one group':<10} "
            + " ".join(f"{c[:24]:>24}" for c in SCALE_COMMANDS)
            + f" {'floor':>7} {'RSS MiB':>8}"
        )
        channel, group_id = county.add_group("Scaling group", 0)
        size = 0
        for target in [] if args.skip_scaling else args.scale:
            # `me` owns a page's worth from the first size on (60 actions, ~48 of them live), so `mine`
            # shows the same 40-line page at every size; with 1% alone it showed 7 lines at 1k.
            county.grow(group_id, target - size, mine=60 if size == 0 else 0)
            size = target
            analyse(engine)
            row = []
            for command in SCALE_COMMANDS:
                row.append(
                    statistics.median(
                        app.time(concrete(command, i, size), county.me, channel)
                        for i in range(args.repeat // 4)
                    )
                    * 1000
                )
            base_p50 = (
                statistics.median(floor.time("help", county.me, channel) for _ in range(args.repeat // 4))
                * 1000
            )
            standin.reset()
            now_rss, _ = rss_mib(app_process.pid)
            print(
                f"  {size:>10,} "
                + " ".join(f"{v:>21.1f} ms" for v in row)
                + f" {base_p50:>4.1f} ms {now_rss:>8.0f}"
            )
        print(
            f"  server peak RSS {rss_mib(app_process.pid)[1]:.0f} MiB (floor {rss_mib(floor_process.pid)[1]:.0f} MiB)"
        )
    print(f"  load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=100, help="requests per command (p99 needs ~100)")
    parser.add_argument("--scale", default="1000,10000,100000", help="sizes of the one growing group")
    parser.add_argument(
        "--quick", action="store_true", help="10k actions, 20 repeats, scale to 10k: a smoke run"
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--skip-chasers", action="store_true")
    parser.add_argument(
        "--web-workers", type=int, default=1, help="the bot's ECM_WEB_WORKERS (server processes)"
    )
    parser.add_argument(
        "--concurrent-workers",
        default="1,2",
        help="the 8-client figures for the bot in each of these numbers of server processes (comma-separated)",
    )
    parser.add_argument(
        "--skip-scaling", action="store_true", help="only the sequential and concurrent figures"
    )
    parser.add_argument(
        "--seed-only", action="store_true", help="only seed (and time) each database, no server"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="A/B: a bot server with these extra settings (e.g. 'ECM_REPLY_COMPUTING=0'; repeatable; '' for "
        "none): only the 8-client figures, every variant and the floor in interleaved rounds",
    )
    parser.add_argument("--rounds", type=int, default=3, help="8 clients: rounds per server, in turn")
    parser.add_argument(
        "--commands",
        default=",".join(COMMANDS),
        help="the sequential commands to time (comma-separated, of: " + ", ".join(COMMANDS) + ")",
    )
    parser.add_argument(
        "--skip-concurrent",
        action="store_true",
        help="no 8-client figures (with --commands: one command's tail)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="K=V",
        help="an extra setting for the bot server (repeatable), e.g. ECM_HOME_REFRESH_SECONDS=0",
    )
    parser.add_argument(
        "--command",
        default="actions outcome:safe district:chorley",
        help="--variant: the command the clients send",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=8,
        choices=range(1, 9),
        metavar="1-8",
        help="--variant: concurrent clients",
    )
    args = parser.parse_args()
    if args.variant:
        args.skip_chasers = True
    if args.seed_only:
        args.skip_chasers = True
    if args.quick:
        args.actions, args.repeat, args.scale = 10_000, 20, "1000,10000"
    args.scale = [int(s) for s in args.scale.split(",")]
    args.concurrent_workers = [int(w) for w in args.concurrent_workers.split(",") if w]
    args.commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    if unknown := set(args.commands) - set(COMMANDS):
        parser.error(f"--commands: not benchmarked: {', '.join(sorted(unknown))}")
    args.server_env = dict(part.split("=", 1) for part in args.server_env)
    pg = os.environ.get("ECM_TEST_DATABASE_URL")
    print(f"county bench: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, today {TODAY}")
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp, SlackStandIn(signing_secret=uuid.uuid4().hex) as standin:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            bench("SQLite", engine, f"sqlite:///{tmp}/bench.db", standin, args)
            engine.dispose()
            if not args.skip_chasers:
                chaser_engine = make_engine(f"sqlite:///{tmp}/chasers.db")
                migrate(chaser_engine)
                chasers(chaser_engine, standin, monday_on_or_after(TODAY))
    if pg and args.only != "sqlite":
        for part in ("commands", "chasers"):
            if part == "chasers" and args.skip_chasers:
                continue
            with private_schema(pg) as schema:
                engine = make_engine(pg, connect_args={"options": f"-csearch_path={schema}"})
                url = engine.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                    hide_password=False
                )
                with SlackStandIn(signing_secret=uuid.uuid4().hex) as standin:
                    if part == "commands":
                        bench("PostgreSQL", engine, url, standin, args)
                    else:
                        print("\nPostgreSQL chasers:")
                        migrate(engine)
                        chasers(engine, standin, monday_on_or_after(TODAY))
                engine.dispose()


def monday_on_or_after(day: date) -> date:
    """A working Monday (channel digest day): not a bank holiday in the benchmark's window."""
    while day.weekday() != 0 or (day.month == 12 and day.day >= 24):
        day += timedelta(days=1)
    return day


if __name__ == "__main__":
    main()
