"""Server CPU per request: `ecm-bot run --no-scheduler` against the bare Bolt floor (bench/floor_app.py).

Wall-clock latency on a shared machine is mostly the machine's; the CPU a server process spends per request
(user + system time from /proc, read before and after a batch of sequential requests) is the cost the bot
adds, and it is what limits concurrent clients on one GIL. Seeds one SQLite group (or PostgreSQL with
--postgresql), starts both servers the way county_bench does, and prints CPU ms per request per command.

    .venv/bin/python bench/cpu_bench.py [--actions 10000] [--repeat 50] [--profile DIR]

--profile DIR samples the bot server with py-spy (if installed) while the commands run and writes one
collapsed-stack file per command there (`py-spy record --format raw`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.county_bench import COMMANDS, Client, County, analyse, concrete, free_port, server, server_env  # noqa: E402
from bench.pg_schema import private_schema  # noqa: E402
from bot.standin import SlackStandIn  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (ECM_WEB_WORKERS > 1: the server's worker processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (OSError, IndexError):
                continue  # gone meanwhile
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process and its worker processes (all their threads), seconds."""
    total = 0
    for each in process_tree(pid):
        try:
            fields = _stat(each)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def database_cpu_seconds() -> float:
    """User + system CPU so far of the machine's PostgreSQL processes (every backend, the bot's and the
    floor's alike; the floor has none): the database's share of a request, on the same cores. 0 without."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = _stat(int(entry.name))
        except OSError:
            continue  # gone meanwhile
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def measure(
    client: Client, pid: int, command: str, user: str, channel: str, repeat: int, high: int
) -> tuple[float, float]:
    """(server CPU ms per request, wall ms per request) over `repeat` sequential requests."""
    before, started = cpu_seconds(pid), time.perf_counter()
    for i in range(repeat):
        client.time(concrete(command, i, high), user, channel)
    wall = time.perf_counter() - started
    return (cpu_seconds(pid) - before) * 1000 / repeat, wall * 1000 / repeat


def run(label: str, url: str, args: argparse.Namespace) -> None:
    with SlackStandIn(signing_secret=uuid.uuid4().hex) as standin:
        engine = make_engine(url)
        migrate(engine)
        county = County(engine, standin)
        channel, _ = county.add_group("Task group 00", args.actions)
        analyse(engine)
        env = server_env(standin, url, args.web_workers)
        app_port, floor_port = free_port(), free_port()
        bot_argv = [sys.executable, "-m", "bot.cli", "run", "--no-scheduler", "--port", str(app_port)]
        floor_argv = [sys.executable, "bench/floor_app.py", "--port", str(floor_port)]
        with server(bot_argv, env, app_port) as bot, server(floor_argv, env, floor_port) as floor_process:
            app, floor = Client(standin, app_port), Client(standin, floor_port)
            for _ in range(10):  # warm up: imports, first connections, caches
                floor.time("help", county.me, channel)
                for command in COMMANDS:
                    app.time(concrete(command, 0, args.actions), county.me, channel)
            standin.reset()
            print(f"\n{label}, {args.actions:,} actions, load average {os.getloadavg()[0]:.1f}")
            print(f"  {'command':<42} {'CPU ms/req':>10} {'wall ms':>8}")
            spy_path = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
            profile = Path(args.profile) if args.profile and spy_path else None

            def sample(pid: int, name: str) -> subprocess.Popen[bytes] | None:
                if profile is None or spy_path is None:
                    return None
                argv = [
                    spy_path,
                    "record",
                    "--pid",
                    str(pid),
                    "--format",
                    "raw",
                    "--rate",
                    "500",
                    "--gil",
                    "--subprocesses",
                ]
                out = profile / f"{label.lower()}-{name}.txt"
                spy = subprocess.Popen(
                    [*argv, "--nonblocking", "-o", str(out)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(1.0)  # attached
                return spy

            def stop(spy: subprocess.Popen[bytes] | None) -> None:
                if spy is not None:
                    spy.send_signal(2)
                    spy.wait(30)

            spy = sample(floor_process.pid, "floor")
            floor_cpu, floor_wall = measure(
                floor, floor_process.pid, "help", county.me, channel, args.repeat, 1
            )
            stop(spy)
            print(f"  {'floor (bare Bolt, acks and says ok)':<42} {floor_cpu:10.2f} {floor_wall:8.1f}")
            for command in args.commands:
                spy = sample(bot.pid, "-".join(command.split()[:2]).replace(":", ""))
                cpu, wall = measure(app, bot.pid, command, county.me, channel, args.repeat, args.actions)
                stop(spy)
                print(f"  {command:<42} {cpu:10.2f} {wall:8.1f}  ({cpu / floor_cpu:.1f}× the floor's CPU)")
                standin.reset()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--postgresql", action="store_true", help="also on ECM_TEST_DATABASE_URL")
    parser.add_argument("--profile", help="directory for py-spy collapsed stacks of the bot server")
    parser.add_argument("--web-workers", type=int, default=1, help="the bot's ECM_WEB_WORKERS")
    parser.add_argument(
        "--only", choices=["sqlite", "postgresql"], help="one database (postgresql: implies --postgresql)"
    )
    parser.add_argument(
        "--commands", help=f"the commands to time, comma-separated (default all: {', '.join(COMMANDS)})"
    )
    args = parser.parse_args()
    args.commands = [c.strip() for c in args.commands.split(",")] if args.commands else COMMANDS
    unknown = [c for c in args.commands if c not in COMMANDS]
    if unknown:
        parser.error(f"unknown command(s) {unknown}; choose from {COMMANDS}")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{tmp}/cpu.db", args)
    pg = os.environ.get("ECM_TEST_DATABASE_URL")
    if (args.postgresql or args.only == "postgresql") and pg:
        with private_schema(pg) as schema:
            engine = make_engine(pg, connect_args={"options": f"-csearch_path={schema}"})
            url = engine.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False
            )
            engine.dispose()
            run("PostgreSQL", url, args)


if __name__ == "__main__":
    main()
