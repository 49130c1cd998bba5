"""The `ecm-bot` command: run, worker, migrate, console (and jobs, for operators)."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

# Each sub-command imports what it needs when it runs: `backup`, `migrate`, `--help` and a bad setting need
# neither Slack's SDK nor the verbs and post kinds, and start in a fraction of the time (tests start many).
if TYPE_CHECKING:  # Bolt only for the commands that serve (run, worker, console)
    from slack_bolt import App
    from slack_sdk import WebClient
    from sqlalchemy import Engine

    from bot.config import Settings
    from bot.services import Services

log = logging.getLogger("ecm-bot")


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--as-of takes a date like 2026-11-23, not {value!r}") from error


class SlackUnreachable(Exception):
    """Slack could not be reached at start-up after the configured tries; the CLI exits 3."""


def _network_reason(error: BaseException) -> str:
    """ "connection refused", "timed out", "name not found" …: the cause, without Python's wrapping."""
    reason: object = getattr(error, "reason", None) or error
    if isinstance(reason, socket.gaierror):
        return "the name does not resolve (DNS)"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__


def wait_for_slack(settings: Settings, *, sleep: Callable[[float], None] = time.sleep) -> str:
    """Checks SLACK_BOT_TOKEN with auth.test before serving; returns "workspace as bot-name".

    A token Slack refuses is a ConfigError (one line, exit 2). No route to Slack (or Slack down) prints one
    line per try and waits, doubling up to a minute, so a bot started before its network comes up recovers
    by itself; after ECM_SLACK_CONNECT_ATTEMPTS tries it gives up with SlackUnreachable (exit 3).
    """
    from bot.slack_api import make_client

    client = make_client(settings.slack_bot_token, settings.api_url, timeout=10, max_retries=0)
    # slack_sdk logs each failed request as an ERROR with the raw exception; the line below says it better.
    sdk_log = logging.getLogger("slack_sdk.web.base_client")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)
    try:
        return _auth_test_until_answered(settings, client, sleep)
    finally:
        sdk_log.setLevel(level)


def _auth_test_until_answered(settings: Settings, client: WebClient, sleep: Callable[[float], None]) -> str:
    from slack_sdk.errors import SlackApiError

    from bot.config import ConfigError

    attempts = settings.ecm_slack_connect_attempts
    wait = settings.ecm_slack_retry_seconds
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.auth_test()
            return f"{response.get('team') or response.get('team_id')} as {response.get('user') or 'the bot'}"
        except SlackApiError as error:
            status = error.response.status_code
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            if status != 429 and status < 500:
                raise ConfigError(
                    f"Slack refused SLACK_BOT_TOKEN ({code or f'HTTP {status}'}) at {settings.api_url}: "
                    "check the bot token (xoxb-…) under OAuth & Permissions, and that the app is installed."
                ) from None
            problem = f"Slack at {settings.api_url} is not answering (HTTP {status})"
        except OSError as error:  # URLError, refused, reset, timed out, DNS
            problem = f"cannot reach Slack at {settings.api_url} ({_network_reason(error)})"
        if attempts and attempt >= attempts:
            raise SlackUnreachable(
                f"{problem} after {attempt} tries; giving up. "
                "Check the network or SLACK_API_URL (ECM_SLACK_CONNECT_ATTEMPTS=0 keeps trying)."
            )
        of = f" of {attempts}" if attempts else ""
        print(
            f"ecm-bot: {problem}; trying again in {wait:g}s (try {attempt}{of}).",
            file=sys.stderr,
            flush=True,
        )
        sleep(wait)
        wait = min(wait * 2, 60.0)


def _create_app_or_explain(settings: Settings, engine: Engine) -> tuple[App, Services]:
    """Checks Slack first (one clear line for each way that fails), then builds the app without Bolt's
    own auth.test, whose failure would be a traceback or a Python dict. The app (Bolt, the verbs, the post
    kinds: half a second of imports) is loaded only once Slack has accepted the token, so a refused token
    or no route to Slack is told without that wait."""
    where = wait_for_slack(settings)
    log.info("Slack accepted the bot token: %s", where)
    from bot.app import create_app
    from storage.clock import SystemClock

    return create_app(settings, engine, SystemClock(), verify_token=False)


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from storage.db import make_engine, migrate

    migrate(make_engine(settings.database_url))
    print(f"Database is up to date ({settings.database_url.split('@')[-1]}).")
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from storage.backup import backup_sqlite

    result = backup_sqlite(settings.database_url, Path(args.path))
    print(
        f"Backed up {result.source} to {result.destination} ({result.size:,} bytes, schema revision "
        f"{result.revision or 'none'}, {result.actions} actions; integrity ok)."
    )
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.config import require_slack
    from storage.db import checkpoint_in_background, make_engine, migrate, refresh_statistics

    require_slack(settings)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    migrate(engine)
    refresh_statistics(engine)
    port = args.port or settings.port
    if not settings.slack_app_token and settings.ecm_web_workers > 1 and args.no_scheduler:
        # Each worker builds its own app (bot.server.worker_app): with no scheduler to run, this process
        # only checks the token and supervises them, so it builds no app, pools or connections of its own.
        log.info("Slack accepted the bot token: %s", wait_for_slack(settings))
        engine.dispose()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # as below: uvicorn re-raises it once done
        _serve_workers(settings, port)
        return 0
    app, services = _create_app_or_explain(settings, engine)
    checkpointer = checkpoint_in_background(engine, settings.ecm_sqlite_checkpoint_seconds)
    # What start-up built (modules, the verb table, SQLAlchemy's mappers) lives as long as the process: keep
    # it out of the garbage collector's way, so each request's collections only walk that request's objects.
    gc.collect()
    gc.freeze()
    scheduler = None
    if not args.no_scheduler:
        from bot.scheduler import start_scheduler

        scheduler = start_scheduler(services)
    # SIGTERM (deployments stopping a container) becomes a normal exit, so `finally` below lets a running
    # tick finish; uvicorn re-raises the signal it caught after its own graceful shutdown, landing here too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if settings.slack_app_token:
            return _run_socket_mode(settings, app, engine, port)
        else:
            if settings.ecm_web_workers > 1:
                _serve_workers(settings, port)  # this process keeps the scheduler
                return 0
            import uvicorn

            from bot.server import create_web_app

            log.info("Serving Slack on http://%s:%s/slack/events", settings.host, port)
            uvicorn.run(
                create_web_app(
                    app,
                    engine,
                    signing_secret=settings.slack_signing_secret or "",
                    max_body=settings.ecm_max_request_bytes,
                ),
                host=settings.host,
                port=port,
                log_level=settings.log_level.lower(),
            )
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
            log.info("scheduler stopped")
        if services.homes is not None:
            services.homes.close()  # the Home refreshes still pending go out before the process ends
        if checkpointer is not None:
            checkpointer.stop()
    return 0


def _serve_workers(settings: Settings, port: int) -> None:
    """ECM_WEB_WORKERS server processes on one port; each builds its own app (bot.server.worker_app) from
    the same settings, and this process restarts a worker that dies."""
    import uvicorn

    log.info("Serving Slack on http://%s:%s/slack/events", settings.host, port)
    log.info("%d server processes", settings.ecm_web_workers)
    uvicorn.run(
        "bot.server:worker_app",
        factory=True,
        workers=settings.ecm_web_workers,
        host=settings.host,
        port=port,
        log_level=settings.log_level.lower(),
        # A worker answers the supervisor's health check only once its imports are done: on a busy machine
        # that takes longer than uvicorn's 5 s, which would kill it while starting.
        timeout_worker_healthcheck=60,
    )


def _run_socket_mode(settings: Settings, app: App, engine: Engine, port: int) -> int:
    from sqlalchemy import text

    from bot.config import ConfigError
    from bot.socket_mode import AppTokenRefused, SocketModeRunner

    def database_ok() -> bool:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # the health check reports, it never raises
            return False
        return True

    assert settings.slack_app_token
    runner = SocketModeRunner(
        app,
        settings.slack_app_token,
        max_offline=settings.ecm_socket_max_offline_seconds,
        database_ok=database_ok,
    )
    health_port = runner.serve_health(settings.host, port)
    log.info("Connecting to Slack in Socket Mode (health: http://%s:%s/healthz)", settings.host, health_port)
    try:
        return runner.run()
    except AppTokenRefused as refused:
        raise ConfigError(
            f"Slack did not accept SLACK_APP_TOKEN at {settings.api_url} ({refused.error}). It must be an "
            "app-level token (xapp-...) with connections:write, from Basic Information > App-Level Tokens."
        ) from None
    finally:
        runner.close()


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.config import require_slack
    from storage.db import make_engine, migrate, refresh_statistics

    require_slack(settings, serving=False)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    migrate(engine)
    refresh_statistics(engine)
    _app, services = _create_app_or_explain(settings, engine)
    from bot.scheduler import run_worker  # the post kinds: not loaded for a schema or token it refuses

    run_worker(services)
    return 0


def cmd_console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console import interactive, run_lines
    from bot.offline import OfflineWorkspace
    from storage.clock import Clock, clock_for
    from storage.db import make_engine, migrate

    url = args.database or ("sqlite:///ecm-demo.db" if args.demo else "sqlite:///ecm-console.db")
    if args.demo and not args.database:
        Path("ecm-demo.db").unlink(missing_ok=True)  # the demo always starts from its own fresh database
    engine = make_engine(url)
    migrate(engine)
    clock: Clock = clock_for(args.as_of, settings.ecm_timezone, ticking=True)
    if args.demo:
        from bot.demo import DemoClock

        clock = DemoClock(clock)
    ws = OfflineWorkspace(engine, clock, channel_name=args.channel)
    try:
        if args.demo:
            from bot.demo import DemoClock, DemoFailed, banner, load_demo

            assert isinstance(clock, DemoClock)
            today = clock.now().astimezone(ZoneInfo(settings.ecm_timezone)).date()
            try:
                summary = load_demo(ws, clock, today, settings.ecm_timezone)
            except DemoFailed as failed:
                print(f"ecm-bot: the demo could not be loaded: {failed}", file=sys.stderr)
                return 1
            print(banner(summary))
        if args.script:
            lines = Path(args.script).read_text(encoding="utf-8").splitlines()
            errors = run_lines(ws, lines, args.user, sys.stdout, strict=args.strict)
            return 1 if errors and args.strict else 0
        interactive(ws, args.user)
        return 0
    finally:
        ws.close()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """`ecm-bot`'s parser, complete for `command` (and for every sub-command defined here)."""
    parser = argparse.ArgumentParser(
        prog="ecm-bot", description="Slack bot for Every Child Matters task groups."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="serve Slack (Socket Mode if SLACK_APP_TOKEN is set, else HTTP) and run the scheduler"
    )
    run.add_argument(
        "--no-scheduler", action="store_true", help="serve Slack only (use with `ecm-bot worker`)"
    )
    run.add_argument("--port", type=int, default=None, help="HTTP port (default: PORT or 3000)")
    run.set_defaults(func=cmd_run)

    worker = sub.add_parser("worker", help="run only the scheduler (chasers and digests)")
    worker.set_defaults(func=cmd_worker)

    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    mig.set_defaults(func=cmd_migrate)

    backup = sub.add_parser(
        "backup",
        help="write a consistent copy of the SQLite database, safe while the bot runs (PostgreSQL: pg_dump)",
    )
    backup.add_argument("path", help="the backup file to write (replaced if it exists)")
    backup.set_defaults(func=cmd_backup)

    console = sub.add_parser("console", help="try the bot offline: a local stand-in for Slack")
    console.add_argument("--user", default="chair", help="who you are (default: chair)")
    console.add_argument("--channel", default="ecm-task-group", help="the channel's name")
    console.add_argument("--script", help="run the commands in this file (`as:@user` lines switch user)")
    console.add_argument(
        "--strict", action="store_true", help="with --script: stop and exit 1 on an error reply"
    )
    console.add_argument(
        "--demo",
        action="store_true",
        help="load a realistic Lancashire task group first (its own fresh ecm-demo.db unless --database)",
    )
    console.add_argument("--database", help="database URL (default: sqlite:///ecm-console.db)")
    console.add_argument("--as-of", type=_as_of, help="pretend today is this date (YYYY-MM-DD)")
    console.set_defaults(func=cmd_console)

    for name, (summary, arguments) in ELSEWHERE.items():
        elsewhere = sub.add_parser(name, help=summary)
        if name == command:  # only the command being run imports its module (`ecm-bot --help` none)
            module, function = arguments.split(":")
            getattr(importlib.import_module(module), function)(elsewhere)
    return parser


# The sub-commands defined in other modules: their one-line help, and the function adding their arguments.
# `jobs` imports every post kind and `person` the storage models, so a module is imported only when its
# command is the one given (`ecm-bot --help` lists them all from here, importing none).
ELSEWHERE: dict[str, tuple[str, str]] = {
    "report": (
        "write the progress report's files (Word, Excel, CSV, charts)",
        "bot.documents_cli:add_report_arguments",
    ),
    "export": (
        "write the whole register as XLSX and CSV (the columns import reads)",
        "bot.documents_cli:add_export_arguments",
    ),
    "import": (
        "bring an action-plan spreadsheet (.xlsx/.csv) into a task group",
        "bot.documents_cli:add_import_arguments",
    ),
    "person": (
        "personal data: export everything about a person, or forget them",
        "bot.person_cli:add_person_arguments",
    ),
    "prune": (
        "delete what the retention period (ECM_RETENTION_DAYS) no longer allows, now",
        "bot.person_cli:add_prune_arguments",
    ),
    "jobs": ("scheduled posts: list the next runs, or run one now", "bot.jobs.cli:add_jobs_arguments"),
}


def _command_in(argv: list[str]) -> str | None:
    """The sub-command named on the command line (the first word not an option: `ecm-bot` has only -h)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    args = build_parser(_command_in(words)).parse_args(words)
    from bot.config import LOG_FORMAT, ConfigError, Settings

    try:
        settings = Settings()
    except Exception as error:  # pydantic's message names the bad setting
        print(f"ecm-bot: bad setting: {error}", file=sys.stderr)
        return 2
    from storage.db import SchemaError

    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    if args.command == "console":
        logging.getLogger().setLevel(logging.WARNING)
    try:
        return int(args.func(settings, args))
    except (ConfigError, SchemaError) as error:
        print(f"ecm-bot: {error}", file=sys.stderr)
        return 2
    except SlackUnreachable as error:
        print(f"ecm-bot: {error}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
