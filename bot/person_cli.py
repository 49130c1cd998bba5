"""`ecm-bot person export USER`, `ecm-bot person forget USER` and `ecm-bot prune`: answering subject access
and erasure requests, and applying the retention period, from the operator's shell (who holds the database).

The audit trail records these as `ecm-bot-cli`.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.config import ConfigError, Settings
from storage.clock import SystemClock
from storage.db import make_engine, migrate, session_scope
from storage.people import PersonError, export_person, forget_person, is_user_id
from storage.retention import prune

CLI_USER = "ecm-bot-cli"


def add_person_arguments(person: argparse.ArgumentParser) -> None:
    person_sub = person.add_subparsers(dest="person_command", required=True)

    export = person_sub.add_parser(
        "export", help="write everything held about a person as JSON and CSV (a subject access request)"
    )
    export.add_argument("user", help="their Slack user id (U…), e.g. from their profile's ⋮ > Copy member ID")
    export.add_argument("--out", default=".", help="folder to write the files into (default: here)")
    export.set_defaults(func=cmd_person_export)

    forget = person_sub.add_parser(
        "forget",
        help="pseudonymise a person everywhere, audit trail included (an erasure request)",
        description="Replaces the person's Slack id everywhere with a pseudonym, in one transaction. Without "
        "--yes it only says what it would change.",
    )
    forget.add_argument("user", help="their Slack user id (U…)")
    forget.add_argument("--yes", action="store_true", help="do it (it cannot be undone)")
    forget.set_defaults(func=cmd_person_forget)


def add_prune_arguments(retention: argparse.ArgumentParser) -> None:
    retention.add_argument("--days", type=int, help="retention in days (default: ECM_RETENTION_DAYS)")
    retention.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
    retention.set_defaults(func=cmd_prune)


def _engine(settings: Settings) -> Engine:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


def _user(value: str) -> str:
    user_id = value.strip().removeprefix("<@").removesuffix(">").split("|")[0].upper()
    if not is_user_id(user_id):
        raise ConfigError(
            f"{value!r} is not a Slack user id. Give the member ID, like U04ABCD1234 "
            "(Slack: their profile, ⋮, Copy member ID)."
        )
    return user_id


def _csv_cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def cmd_person_export(settings: Settings, args: argparse.Namespace) -> int:
    user_id = _user(args.user)
    engine = _engine(settings)
    with session_scope(engine) as session:
        sections = export_person(session, user_id)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "user_id": user_id,
        "exported_at": SystemClock().now().isoformat(),
        "about": "Every record the ECM bot holds that names this person, by table.",
        "sections": sections,
    }
    json_path = out / f"person-{user_id}.json"
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written = [json_path]
    for name, rows in sections.items():
        path = out / f"person-{user_id}-{name}.csv"
        columns = list(dict.fromkeys(k for row in rows for k in row))
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)
        written.append(path)
    if not sections:
        print(f"Nothing held about {user_id}; wrote {json_path} (empty).")
        return 0
    summary = ", ".join(f"{name} {len(rows)}" for name, rows in sections.items())
    print(f"Everything held about {user_id}: {summary}.")
    for path in written:
        print(f"  {path}")
    return 0


def cmd_person_forget(settings: Settings, args: argparse.Namespace) -> int:
    user_id = _user(args.user)
    engine = _engine(settings)
    now = SystemClock().now()
    try:
        with session_scope(engine) as session:
            result = forget_person(session, user_id, now=now, by=CLI_USER)
            if not result.rows and not result.names_cleared:
                print(f"Nothing held about {user_id}: nothing to forget.")
                session.rollback()
                return 0
            if not args.yes:
                session.rollback()
    except PersonError as error:
        print(f"ecm-bot: forgetting {user_id} failed ({error}); nothing was changed.")
        return 1
    except Exception as error:  # a database error mid-way: the transaction rolled back as a whole
        print(f"ecm-bot: forgetting {user_id} failed ({type(error).__name__}: {error}); nothing was changed.")
        return 1
    verb = "Forgot" if args.yes else "Would forget"
    print(
        f"{verb} {user_id}: replaced by {result.pseudonym if args.yes else 'a pseudonym'} in {result.rows} rows"
        + (f", name cleared in {result.names_cleared} memberships" if result.names_cleared else "")
        + (f", {result.pending_skipped} waiting posts skipped" if result.pending_skipped else "")
        + "."
    )
    for column, count in sorted(result.changed.items()):
        print(f"  {column:32} {count}")
    if result.live_actions:
        numbers = ", ".join(str(n) for n in result.live_actions)
        print(
            f"  Still open and owned by them: actions {numbers}. Hand them over: /ecm update N owner:@someone"
        )
    if not args.yes:
        print("Nothing changed yet. Run again with --yes to do it (it cannot be undone).")
    else:
        print("Numbering, minutes and counts are unchanged; the audit trail records the erasure.")
    return 0


def cmd_prune(settings: Settings, args: argparse.Namespace) -> int:
    days = settings.ecm_retention_days if args.days is None else args.days
    if days <= 0:
        raise ConfigError(
            "No retention period: set ECM_RETENTION_DAYS (e.g. 2190 for six years) or give --days N."
        )
    engine = _engine(settings)
    with session_scope(engine) as session:
        result = prune(session, now=SystemClock().now(), days=days, by=CLI_USER)
        if args.dry_run:
            session.rollback()
    verb = "Would delete" if args.dry_run else "Deleted"
    print(
        f"{verb} what closed or finished before {result.cutoff:%d %b %Y} ({days} days): "
        f"{result.action_notes} notes of closed actions, {result.audit_notes} audit-note texts, "
        f"{result.outbox_rows} outbox rows, {result.request_keys} request keys. "
        "The action register and decisions are kept."
    )
    return 0
