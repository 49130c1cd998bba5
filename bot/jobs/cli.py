"""`ecm-bot jobs list` and `ecm-bot jobs run JOB [--as-of DATE] [--dry-run]`, for operators and tests.

`jobs run` plans the job's posts for the date and dispatches them synchronously, printing what was sent,
skipped or failed, then every outbox row of that date and its state. It exits 0 when it ran (a recorded
Slack failure is an outcome, not a crash) and 1 on a crash. Running it again for one date sends nothing
already sent (the outbox remembers) and retries what is due for retry: the transient failures of earlier
runs at once, and the rows of a run that was killed once its lease runs out.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections import Counter
from datetime import date, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import ConfigError, Settings
from bot.directory import RecipientNames, SlackDirectory
from bot.jobs.dispatcher import BUILDERS, RETRY, dispatch_due, dispatch_settings, local_today
from bot.jobs.outbox_report import outbox_states, print_outbox
from bot.jobs.planner import plan
from commands.dates import format_date, format_datetime
from commands.posts.common import post_time, working
from commands.posts.kind import NotWanted
from commands.posts.registry import JOB_NAMES, JOBS, job_summary, kinds_for, plan_rows
from commands.posts.settings import chaser_settings
from commands.workdays import next_working_day
from storage import members, notifications
from storage.clock import Clock, DayShiftedClock, clock_for
from storage.db import SchemaError, make_engine, migrate
from storage.groups import groups_by_id
from storage.models import NotificationStatus


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--as-of takes a date like 2026-11-23, not {value!r}") from error


def add_jobs_arguments(jobs: argparse.ArgumentParser) -> None:
    """`ecm-bot jobs`'s own sub-commands (bot.cli names `jobs` and imports this only when it is run)."""
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)

    listing = jobs_sub.add_parser("list", help="when each job runs next, and today's outbox")
    listing.add_argument("--as-of", type=_as_of, help="pretend today is this date (YYYY-MM-DD)")
    listing.set_defaults(func=cmd_jobs_list)

    run = jobs_sub.add_parser(
        "run",
        help="plan and send a job's posts for a date, now",
        description="Plans the job's posts for the date and dispatches them. Safe to repeat: "
        "what was already sent is not sent again.",
    )
    run.add_argument("job", choices=JOB_NAMES, help="which posts: " + ", ".join(JOB_NAMES))
    run.add_argument(
        "--as-of",
        type=_as_of,
        help="run as if today were this date, at the time of day it is now (YYYY-MM-DD)",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="show what would be posted; store and send nothing"
    )
    run.add_argument(
        "--rows",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the run, list every post of the date with its state (default); --no-rows: counts only",
    )
    run.set_defaults(func=cmd_jobs_run)


def _clock(settings: Settings, as_of: date | None) -> Clock:

    return clock_for(as_of, settings.ecm_timezone)


def _engine(settings: Settings) -> Engine:
    logging.getLogger("alembic").setLevel(
        logging.WARNING
    )  # keep the operator's output to the job's own lines
    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


def cmd_jobs_run(settings: Settings, args: argparse.Namespace) -> int:
    tz = settings.ecm_timezone
    # The date's wall-clock time now, not a frozen 09:30: leases and back-offs an earlier run (or the live
    # ticker) left are judged by real time passing, the same in every process.
    clock: Clock = DayShiftedClock(args.as_of, tz) if args.as_of else _clock(settings, None)
    day = args.as_of or local_today(clock.now(), tz)
    if not args.dry_run and not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set, so nothing can be posted. Set it, or use --dry-run.")
    try:
        engine = _engine(settings)
        from bot.slack_api import make_client

        client = (
            make_client(
                settings.slack_bot_token,
                settings.api_url,
                timeout=settings.ecm_slack_timeout_seconds,
                backoff=settings.ecm_slack_backoff_seconds,
            )
            if settings.slack_bot_token
            else None
        )
        if args.dry_run:
            return _dry_run(engine, day, tz, args.job, _names(engine, client))
        assert client is not None
        now = clock.now()
        planned = plan(engine, day, tz=tz, now=now, job=args.job)
        print(
            f"{args.job} for {format_date(day)}: {planned.planned} planned ({planned.new} new)"
            + ("" if working(day) else " — not a working day, so nothing is posted")
        )
        # An operator running the job asks for the date's posts now, even before their 09:00, and for what
        # earlier runs left to retry.
        retried = notifications.retry_now(engine, day=day, now=now, kinds=kinds_for(args.job))
        if retried:
            print(f"  retrying {retried} earlier transient failures now")
        report = dispatch_due(
            engine,
            client,
            clock,
            tz=tz,
            kinds=kinds_for(args.job),
            due_by=max(now, post_time(day, tz)),
            **dispatch_settings(settings),
        )
    except SchemaError:
        raise  # one line from main(), not a crash
    except Exception:
        traceback.print_exc()
        print("ecm-bot jobs run: crashed (see above); nothing after the crash was sent.", file=sys.stderr)
        return 1
    names = _names(engine, client)
    for d in report.deliveries:
        print(f"  {d.outcome:8} {d.kind:18} {names.recipient(d.recipient):16} {names.readable(d.detail)}")
    counts = report.counts
    if report.stale_skipped:
        print(f"  skipped {report.stale_skipped} older posts missed on earlier days (not sent late)")
    print(
        f"sent {counts['sent']}, skipped {counts['skipped']}, failed {counts['failed']}"
        + (f", to retry {counts[RETRY]}" if counts[RETRY] else "")
    )
    print_outbox(
        outbox_states(engine, day, now=clock.now(), tz=tz, kinds=kinds_for(args.job)),
        day,
        args.job,
        names,
        rows=args.rows,
    )
    if report.crashed:
        for error in report.errors:
            print(f"  {error}")
        print(
            "ecm-bot jobs run: crashed on some posts (see above; they are retried later); the others went out.",
            file=sys.stderr,
        )
        return 1
    return 0


def _names(engine: Engine, client: WebClient | None) -> RecipientNames:
    """Who each post goes to, by name: stored display names, else Slack's, looked up once per id."""
    with Session(engine) as session:
        groups = groups_by_id(session)
        people = {
            m.user_id: m.display_name
            for group_id in groups
            for m in members.list_members(session, group_id)
            if m.display_name
        }
    channels = {g.channel_id: g.name for g in groups.values()}
    return RecipientNames(people, channels, SlackDirectory(client) if client is not None else None)


def _dry_run(engine: Engine, day: date, tz: str, job: str, names: RecipientNames) -> int:
    with Session(engine) as session:
        rows = plan_rows(session, day, tz, job)
        existing = {n.idempotency_key: n for n in notifications.for_date(session, day, kinds=kinds_for(job))}
        print(
            f"{job} for {format_date(day)} (dry run: nothing stored or sent): {len(rows)} planned"
            + ("" if working(day) else " — not a working day")
        )
        for row in rows:
            seen = existing.get(row.key)
            if seen is not None and seen.status not in (
                NotificationStatus.PENDING,
                NotificationStatus.SENDING,
            ):
                print(f"  already {seen.status.value:8} {row.kind:18} {names.recipient(row.recipient)}")
                continue
            item = notifications.preview(row)
            try:
                reply = BUILDERS[row.kind](session, item, tz)
            except NotWanted as why:
                print(f"  would skip {row.kind:18} {names.recipient(row.recipient):16} {why}")
            else:
                text = names.readable(reply.text)
                print(f"  would send {row.kind:18} {names.recipient(row.recipient):16} {text[:100]}")
        session.rollback()
    return 0


def cmd_jobs_list(settings: Settings, args: argparse.Namespace) -> int:
    tz = settings.ecm_timezone
    clock = _clock(settings, args.as_of)
    now = clock.now()
    today = local_today(now, tz)
    # The next posting morning: today if its 09:00 is still ahead, otherwise the next working day.
    first = (
        today
        if working(today) and now < post_time(today, tz)
        else next_working_day(today + timedelta(days=1))
    )
    engine = _engine(settings)
    print(
        f"Each `ecm-bot run` / `ecm-bot worker` process ticks every {settings.ecm_tick_seconds}s: it plans "
        f"today's posts and sends what is due (09:00 {tz}, working days, England & Wales bank holidays)."
    )
    print(f"As of {_when(now, tz)}:")
    with Session(engine) as session:
        groups = groups_by_id(session)
        # Jobs whose kinds post every working morning are listed once; the others per group, as each is set.
        per_group = [k for kind in JOBS.values() for k in kind if k.next_post is not None]
        for job, kinds in JOBS.items():
            if all(k.next_post is None for k in kinds):
                print(f"  {job:19} {_when(post_time(first, tz), tz)}  {job_summary(job)}")
        for group in groups.values():
            s = chaser_settings(group)
            name = group.name[:40]
            for kind in per_group:
                assert kind.next_post is not None
                nxt = kind.next_post(session, group, s, first, tz)
                when = _when(nxt.at, tz) if nxt.at else f"{nxt.status:22}"
                print(f"  {kind.job.name:19} {when}  {name}{nxt.note}")
        if not groups:
            print("  (no task groups yet: `/ecm setup` in a channel)")
        todays = notifications.for_date(session, today)
        tally = Counter((n.kind, n.status.value) for n in todays)
        print(
            f"Outbox for {format_date(today)}: "
            + (
                ", ".join(f"{kind} {status} {count}" for (kind, status), count in sorted(tally.items()))
                or "nothing planned yet"
            )
        )
    return 0


def _when(at: datetime, tz: str) -> str:
    return format_datetime(at, tz)
