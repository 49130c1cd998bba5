"""Readers and writers at once: reads never wait for the writer, writers queue, and nobody is ever told
"database is locked" (SQLite always; PostgreSQL too with ECM_TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from bot.offline import OfflineWorkspace
from commands.context import Context
from commands.dispatch import run_command
from commands.registry import VERBS
from commands.replies import Reply
from storage.db import (
    READ_ONLY,
    WriteInReadOnlyUnit,
    is_lock_conflict,
    must_run_as_write,
    session_scope,
)
from tests.support import make_actions


def context(ws: OfflineWorkspace, user: str) -> Context:
    return Context(
        engine=ws.engine,
        clock=ws.clock,
        team_id=ws.standin.team_id,
        channel_id=ws.channel,
        user_id=ws.user(user),
        request_key=uuid.uuid4().hex,
    )


def text_of(replies: list[Reply]) -> str:
    return " ".join(r.text + " ".join(s.text for s in r.sections) for r in replies)


def test_lists_answer_while_a_write_is_held_open(group: OfflineWorkspace) -> None:
    ws = group
    make_actions(ws, 45)
    holding, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with session_scope(ws.engine) as session:  # a write transaction that takes its time
            session.execute(text("UPDATE task_group SET name = name"))
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        replies = run_command(context(ws, "sam"), "actions mine")
        waited = time.monotonic() - started
        assert "Showing 1–40 of 45 actions" in text_of(replies)
        assert not release.is_set() and waited < 5, "the list waited for the writer"
    finally:
        release.set()
        writer.join()


def test_many_readers_and_writers_overlap_without_errors(group: OfflineWorkspace) -> None:
    ws = group
    make_actions(ws, 60)
    users = ["sam", "priya", "dev", "chair"]
    for user in users:
        ws.user(user)

    def write(i: int) -> str:
        return text_of(run_command(context(ws, users[i % 4]), f"add Parallel action {i} outcome:safe"))

    def read(i: int) -> str:
        command = ["actions", "actions outcome:safe by:outcome", "actions mine", "show 3"][i % 4]
        return text_of(run_command(context(ws, users[i % 4]), command))

    with ThreadPoolExecutor(max_workers=8) as pool:
        writes = [pool.submit(write, i) for i in range(24)]
        reads = [pool.submit(read, i) for i in range(48)]
        answers = [f.result(timeout=60) for f in writes + reads]
    for answer in answers:
        assert "locked" not in answer and "went wrong" not in answer, answer
    added = sorted(int(a.split("#")[1].split(":")[0]) for a in answers[:24])
    assert added == list(range(61, 85))  # every add numbered once, none lost


def test_a_read_transaction_that_writes_after_another_writer_is_refused(group: OfflineWorkspace) -> None:
    # Why reads must say so: SQLite cannot turn a stale read snapshot into a write. The dispatcher runs such
    # a verb again as a write (commands.dispatch), so this error never reaches a user.
    ws = group
    if ws.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's snapshot rule")
    with session_scope(ws.engine, write=False) as reader:
        reader.execute(text("SELECT count(*) FROM action")).one()
        with session_scope(ws.engine) as writer:
            writer.execute(text("UPDATE task_group SET name = name || ' (renamed)'"))
        with pytest.raises(Exception) as refused:
            # Past the guard (which would refuse it first), to show what SQLite itself says.
            reader.connection().exec_driver_sql(
                "UPDATE task_group SET name = name || ' (again)'",
                execution_options={READ_ONLY: False},
            )
    assert is_lock_conflict(refused.value) and must_run_as_write(refused.value)


def test_read_only_work_that_writes_is_refused_before_the_write_and_changes_nothing(
    group: OfflineWorkspace,
) -> None:
    ws = group
    with session_scope(ws.engine) as session:
        before = session.execute(text("SELECT name FROM task_group")).scalar_one()
    for statement in (
        "UPDATE task_group SET name = 'renamed'",
        "  insert into audit_event (id) values (-1)",
        "DELETE FROM task_group",
        "WITH gone AS (DELETE FROM task_group RETURNING id) SELECT count(*) FROM gone",
    ):
        with pytest.raises(WriteInReadOnlyUnit) as refused, session_scope(ws.engine, write=False) as reader:
            reader.execute(text("SELECT count(*) FROM action")).one()
            reader.execute(text(statement))
        assert must_run_as_write(refused.value)
    with session_scope(ws.engine) as session:
        assert session.execute(text("SELECT name FROM task_group")).scalar_one() == before


def test_read_only_work_on_postgresql_sends_no_begin_or_commit(group: OfflineWorkspace) -> None:
    """Each statement is its own transaction (as READ COMMITTED reads anyway): its start is the statement's."""
    ws = group
    if ws.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's autocommit reads")
    probe = text("SELECT now() = statement_timestamp()")
    with session_scope(ws.engine, write=False) as reader:
        reader.execute(text("SELECT pg_sleep(0.02)"))
        assert reader.execute(probe).scalar_one() is True
    with session_scope(ws.engine) as writer:  # a write is one transaction, started at its first statement
        writer.execute(text("SELECT pg_sleep(0.02)"))
        assert writer.execute(probe).scalar_one() is False


def test_a_verb_that_writes_where_it_said_it_would_not_is_run_again_as_a_write(
    group: OfflineWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = group
    monkeypatch.setattr(VERBS["add"], "changes", False)  # a verb whose `writes()` is wrong about this form
    replies = run_command(context(ws, "chair"), "add Check the rota outcome:safe")
    assert "went wrong" not in text_of(replies) and "#1" in text_of(replies), text_of(replies)
    with session_scope(ws.engine) as session:
        titles = session.execute(text("SELECT title FROM action")).scalars().all()
    assert titles == ["Check the rota"]  # added once, by the second run
