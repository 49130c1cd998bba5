"""`ecm-bot report`, `ecm-bot export` and `ecm-bot import`: the same files and import as in Slack, locally.

They act for a channel's task group as the operator (who has the database, so is trusted as a chair); the
audit trail records them as `ecm-bot-cli` unless `--as USER_ID` names someone.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings
from commands.context import Call, Context, Directory
from commands.grammar import Args
from commands.replies import Attachment, UserError
from storage.db import make_engine, migrate, session_scope
from storage.reports import groups_for_channel

CLI_USER = "ecm-bot-cli"


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--as-of takes a date like 2026-11-23, not {value!r}") from error


def add_report_arguments(report: argparse.ArgumentParser) -> None:
    report.add_argument("--channel", required=True, help="the task group's Slack channel id (C…)")
    report.add_argument(
        "--since", help="start of the period (UK date; default: the previous report, or 6 months)"
    )
    report.add_argument("--until", help="end of the period (UK date; default: today)")
    report.add_argument("--outcome", help="only this ECM outcome")
    report.add_argument("--district", help="only actions involving this district")
    report.add_argument("--format", help="docx, xlsx and/or csv, comma separated (default: all)")
    report.add_argument("--out", required=True, type=Path, help="directory to write the files to")
    report.add_argument("--draft", action="store_true", help="don't record it as a report made")
    report.add_argument("--as", dest="as_user", help="Slack user id to record as making it")
    report.add_argument("--as-of", type=_as_of, help="pretend today is this date (YYYY-MM-DD)")
    report.set_defaults(func=cmd_report)


def add_export_arguments(export: argparse.ArgumentParser) -> None:
    export.add_argument("--channel", required=True, help="the task group's Slack channel id (C…)")
    export.add_argument("--out", required=True, type=Path, help="directory to write the files to")
    export.add_argument("--as-of", type=_as_of, help="pretend today is this date (YYYY-MM-DD)")
    export.set_defaults(func=cmd_export)


def add_import_arguments(imp: argparse.ArgumentParser) -> None:
    imp.add_argument("file", type=Path, help="the spreadsheet")
    imp.add_argument("--channel", required=True, help="the task group's Slack channel id (C…)")
    imp.add_argument("--yes", action="store_true", help="add the rows without asking (after the preview)")
    imp.add_argument(
        "--as", dest="as_user", help="the chair (Slack user id) it is recorded as; default: the first chair"
    )
    imp.add_argument("--as-of", type=_as_of, help="pretend today is this date (YYYY-MM-DD)")
    imp.set_defaults(func=cmd_import)


def _directory(settings: Settings) -> Directory | None:
    """Slack's names and e-mail look-ups when a bot token is configured; without one, registered names."""
    if not settings.slack_bot_token:
        return None
    from bot.directory import SlackDirectory
    from bot.slack_api import make_client

    return SlackDirectory(
        make_client(settings.slack_bot_token, settings.api_url, backoff=settings.ecm_slack_backoff_seconds)
    )


@contextmanager
def cli_call(settings: Settings, args: argparse.Namespace, verb: str) -> Iterator[Call]:
    """A Call for the channel's group, in one transaction (committed when the block ends without error)."""
    from storage.clock import clock_for

    logging.getLogger("alembic").setLevel(logging.WARNING)
    engine = make_engine(settings.database_url)
    migrate(engine)
    clock = clock_for(args.as_of, settings.ecm_timezone)
    with session_scope(engine) as session:
        found = groups_for_channel(session, args.channel)
        if not found:
            raise ConfigError(f"channel {args.channel} has no task group (run /ecm setup there first).")
        group = found[0]
        user = getattr(args, "as_user", None) or CLI_USER
        ctx = Context(
            engine=engine,
            clock=clock,
            team_id=group.team_id,
            channel_id=group.channel_id,
            user_id=user,
            default_timezone=settings.ecm_timezone,
            directory=_directory(settings),
        )
        yield Call(ctx=ctx, args=Args(verb=verb), session=session, group=group, caller=None, now=clock.now())


def _write(out: Path, files: list[Attachment]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        (out / f.filename).write_bytes(f.content)
        print(f"wrote {out / f.filename} ({len(f.content):,} bytes)")


def _plain(message: str) -> str:
    return (
        message.replace("*", "")
        .replace("`", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from commands.verbs.report import parse_formats, produce_report

    try:
        with cli_call(settings, args, "report") as call:
            built, files = produce_report(
                call,
                since_text=args.since,
                until_text=args.until,
                outcome_text=args.outcome,
                district_text=args.district,
                formats=parse_formats(args.format),
                draft=args.draft,
            )
    except UserError as error:
        print(f"ecm-bot report: {_plain(error.message)}", file=sys.stderr)
        return 2
    _write(args.out, files)
    totals = built.totals()
    print(
        f"{built.group_name}, {built.period_text}: {totals['actions']} actions, {totals['completed']} completed, "
        f"{totals['new']} new, {totals['overdue']} overdue."
        + ("" if args.draft else " Recorded as a report made.")
    )
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from commands.verbs.export import export_register

    with cli_call(settings, args, "export") as call:
        reply = export_register(call)
    _write(args.out, reply.files)
    return 0


def _print_reply(reply: Any) -> None:
    from bot.offline import block_text
    from bot.render import render

    for message in render(reply):
        print(_plain(block_text(message["blocks"]) or message["text"]))


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Preview, then (with --yes, or a 'y' at the prompt) add every readable row: the same core as Slack."""
    from commands import action_ops, plan_import
    from storage import members

    try:
        content = args.file.read_bytes()
    except OSError as error:
        print(f"ecm-bot import: can't read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        with cli_call(settings, args, "import") as call:
            user = args.as_user or next(
                (m.user_id for m in members.chairs(call.session, call.group_id)), None
            )
            if user is None:
                raise ConfigError("the task group has no chair to record the import as; give --as USER_ID.")
            actor = action_ops.actor_for(call.session, call.group_id, user, now=call.now, today=call.today)
            [preview] = plan_import.start_import(actor, args.file.name, content, call.ctx.directory)
            _print_reply(preview)
            pending = plan_import.latest_pending(actor)
            if not pending.rows:
                return 0
            if not args.yes:
                if not sys.stdin.isatty():
                    print("Nothing added. Run again with --yes to add these rows.")
                    return 0
                if input(f"Add {len(pending.rows)} actions? [y/N] ").strip().lower() not in ("y", "yes"):
                    print("Nothing added.")
                    return 0
            for reply in plan_import.confirm_import(actor, pending.id or 0):
                _print_reply(reply)
    except UserError as error:
        print(f"ecm-bot import: {_plain(error.message)}", file=sys.stderr)
        if error.usage:
            print(_plain(error.usage), file=sys.stderr)
        return 2
    return 0
