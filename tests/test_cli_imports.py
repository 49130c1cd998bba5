"""`ecm-bot` imports only what the sub-command run needs: tests and operators start many short processes
(`backup`, `migrate`, `--help`, a wrong setting), and importing the verbs, post kinds, Slack's SDK or Bolt
costs each about a second of CPU."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Runs `ecm-bot ARGS...` in a fresh interpreter and prints the top-level packages it imported, as JSON.
_PROBE = """
import json, sys
from bot.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _imported(tmp_path: Path, *args: str, **env: str) -> tuple[object, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'ecm.db'}", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    return result["code"], set(result["modules"])


def _loaded(modules: set[str], *names: str) -> set[str]:
    return {m for m in modules if any(m == n or m.startswith(n + ".") for n in names)}


SLACK_AND_VERBS = ("slack_bolt", "slack_sdk", "commands", "bot.jobs", "bot.app")


def test_migrate_at_head_imports_neither_alembic_nor_slack_nor_the_verbs(tmp_path: Path) -> None:
    code, first = _imported(tmp_path, "migrate")
    assert code == 0
    assert _loaded(first, "alembic")  # there was migrating to do: the probe sees alembic when it is used
    code, modules = _imported(tmp_path, "migrate")
    assert code == 0
    assert not _loaded(modules, "alembic", *SLACK_AND_VERBS)


def test_backup_imports_no_slack_and_no_post_kinds(tmp_path: Path, sqlite_template: Path) -> None:
    # A migrated database (`migrate` run as a process is the test above's).
    shutil.copy(sqlite_template, tmp_path / "ecm.db")
    code, modules = _imported(tmp_path, "backup", str(tmp_path / "copy.db"))
    assert code == 0
    assert (tmp_path / "copy.db").exists()
    assert not _loaded(modules, *SLACK_AND_VERBS)


def test_help_and_a_bad_setting_import_no_database_layer(tmp_path: Path) -> None:
    code, modules = _imported(tmp_path, "--help")
    assert code == 0
    assert not _loaded(modules, "sqlalchemy", "pydantic", *SLACK_AND_VERBS)
    code, modules = _imported(tmp_path, "migrate", ECM_DB_POOL_SIZE="lots")
    assert code == 2
    assert not _loaded(modules, "sqlalchemy", *SLACK_AND_VERBS)


def test_jobs_still_gets_its_full_parser(tmp_path: Path) -> None:
    """Its job names come from the post kinds, so `jobs` imports them (and only `jobs` of these)."""
    code, modules = _imported(tmp_path, "jobs", "run", "no-such-job")
    assert code == 2  # argparse's "invalid choice": the choices were there
    assert _loaded(modules, "commands.posts")
