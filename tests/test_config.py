"""Settings: every one is documented in .env.example, and a missing token is one clear line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot import cli
from bot.config import Settings
from bot.offline import OfflineWorkspace

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_lists_every_setting_with_a_comment() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    names = {m.group(1) for line in lines if (m := re.match(r"^([A-Z_]+)=", line))}
    assert names == {f.upper() for f in Settings.model_fields}
    for i, line in enumerate(lines):
        if re.match(r"^[A-Z_]+=", line):
            assert lines[i - 1].startswith("#"), f"{line} has no comment above it"


def test_run_without_token_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "SLACK_BOT_TOKEN is not set" in err and "Traceback" not in err


def test_worker_without_token_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert cli.main(["worker"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_database_pool_has_a_connection_for_every_thread(tmp_path: Path) -> None:
    from storage.db import make_engine

    settings = Settings(ecm_ack_workers=3, ecm_reply_workers=5, _env_file=None)  # type: ignore[call-arg]
    assert settings.db_pool_size == 3 + 5 + 4
    assert Settings(ecm_db_pool_size=7, _env_file=None).db_pool_size == 7  # type: ignore[call-arg]
    engine = make_engine(f"sqlite:///{tmp_path}/pool.db", pool_size=settings.db_pool_size)
    assert engine.pool.size() == 12  # type: ignore[attr-defined]


def test_the_heartbeat_period_is_a_third_of_the_lease_unless_set_and_under_half_of_it() -> None:
    from datetime import timedelta

    from pydantic import ValidationError

    from bot.jobs.dispatcher import dispatch_settings

    assert dispatch_settings(Settings(_env_file=None))["heartbeat"] is None  # type: ignore[call-arg]
    chosen = Settings(ecm_lease_seconds=30, ecm_heartbeat_seconds=2.5, _env_file=None)  # type: ignore[call-arg]
    assert dispatch_settings(chosen)["heartbeat"] == timedelta(seconds=2.5)
    # A beat as long as half the lease would let every row's lease run short between two beats.
    with pytest.raises(ValidationError, match="less than half of ECM_LEASE_SECONDS"):
        Settings(ecm_lease_seconds=30, ecm_heartbeat_seconds=15, _env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("url", "value", "expected"),
    [
        ("sqlite:///ecm.db", None, 1),  # the default, "auto": one reply computing at a time on SQLite
        ("postgresql+psycopg://bot@db/ecm", None, 0),  # and no limit on PostgreSQL
        ("sqlite:///ecm.db", "auto", 1),
        ("sqlite:///ecm.db", "0", 0),  # a number is taken as it is, on either database
        ("postgresql+psycopg://bot@db/ecm", "2", 2),
    ],
)
def test_reply_computing_auto_follows_the_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, value: str | None, expected: int
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DATABASE_URL", url)
    if value is None:
        monkeypatch.delenv("ECM_REPLY_COMPUTING", raising=False)
    else:
        monkeypatch.setenv("ECM_REPLY_COMPUTING", value)
    assert Settings().reply_computing == expected


@pytest.mark.parametrize("value", ["-1", "257", "several"])
def test_reply_computing_refuses_what_it_cannot_mean(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECM_REPLY_COMPUTING", value)
    with pytest.raises(ValueError, match="ecm_reply_computing"):
        Settings()


def test_the_app_gates_replies_by_default_on_sqlite_only(ws: OfflineWorkspace, engine: Engine) -> None:
    gate = ws.services.gate
    if engine.dialect.name == "sqlite":
        assert gate is not None and gate.slots == 1
    else:
        assert gate is None
