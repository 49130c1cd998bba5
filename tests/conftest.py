"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when ECM_TEST_DATABASE_URL is
set), an injected clock, and the real Bolt app wired to the local Slack stand-in."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, Table, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from bot.directory import SlackDirectory
from bot.offline import OfflineWorkspace, offline_settings
from bot.standin import SlackStandIn
from commands.context import Context
from commands.dispatch import run_command
from commands.replies import Reply, Visibility
from storage.clock import FixedClock
from storage.db import make_engine, migrate
from tests.blockkit import check_message, check_view

PG_URL = os.environ.get("ECM_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


# Modules whose tests mostly wait (real processes, injected timeouts, slow Slack) or run long, those with the
# longest single test first (measured with --durations on both databases). They are collected first: xdist's
# work stealing gives the first half of the collection to one worker and the second to the other, and a
# worker that runs out takes the far end of the other's queue, so the long tests start early (their waits
# overlap the other worker's quick tests), what is left at the end is quick, and both finish together.
LONG_FIRST = [
    "test_dispatch_replicas.py",
    "test_dispatch_faults.py",
    "test_fuzz.py",
    "test_db_reconnect.py",
    "test_run_process.py",
    "test_backup.py",
    "test_jobs_rerun.py",
    "test_migrate_processes.py",
    "test_socket_mode.py",
    "test_acks.py",
    "test_run_start.py",
    "test_dispatch_outbox.py",
    "test_dispatch_unknown.py",
    "test_dispatch_cli.py",
    "test_chasers_limits.py",
    "test_intake.py",
    "test_console_demo.py",
    "test_report.py",
    "test_registry.py",
    "test_http_mode.py",
    "test_upgrade.py",
    "test_dispatch_scheduler.py",
]


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """`-n N` without `--dist` hands tests out by work stealing: xdist's default (`load`) sends a worker
    its share up front, and one worker was left with a minute of waiting tests after the other had run
    out of work (130 s wall against 65 s); stealing keeps both busy to the end. Runs before xdist's own
    hook, which would make it `load`."""
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", None) == "no":
        config.option.dist = "worksteal"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept otherwise


@pytest.fixture(scope="session")
def db_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where this worker's test databases live: in memory (/dev/shm) where there is one. Closing a SQLite
    database checkpoints its WAL and syncs the file, which on a disk is most of a test's set-up and
    tear-down (about 15 ms of waiting against 1 ms); the tests check nothing that needs a disk."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(prefix="ecm-tests-", dir=shm) as memory:
            yield Path(memory)
    else:
        yield tmp_path_factory.mktemp("db")


@pytest.fixture(scope="session")
def sqlite_template(db_dir: Path) -> Path:
    """Migrating once and copying the file keeps each test's fresh database cheap."""
    path = db_dir / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str | None]:
    """One private schema per test session, so parallel runs on the shared `test` database never meet."""
    if not PG_URL:
        yield None
        return
    schema = f"ecm_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    migrate(engine)
    engine.dispose()
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


_SCHEMA_RELATIONS = (
    "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'S') AND n.nspname = current_schema() AND c.relname <> 'alembic_version'"
)


def _empty_schema(engine: Engine) -> None:
    """Every table of this session's schema emptied and every sequence back at 1, in one round trip after
    the catalogue query: DELETE, children first, rather than TRUNCATE, which makes new files for each table
    and index and syncs them at commit (about 0.2 s a test on a busy disk, against 2 ms for deleting the few
    rows a test leaves). A table the models don't know (none today) is truncated."""
    with engine.begin() as conn:
        found = conn.exec_driver_sql(_SCHEMA_RELATIONS).all()
        tables = {name for name, kind in found if kind == "r"}
        known = [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name in tables]
        unknown = sorted(tables - set(known))
        statements = [f'DELETE FROM "{name}"' for name in known]
        if unknown:
            statements.insert(0, "TRUNCATE " + ", ".join(f'"{t}"' for t in unknown) + " CASCADE")
        sequences = [name for name, kind in found if kind == "S"]
        if sequences:
            statements.append("SELECT " + ", ".join(f"setval('\"{s}\"', 1, false)" for s in sequences))
        if statements:
            conn.exec_driver_sql("; ".join(statements))


@pytest.fixture(scope="session")
def shared_engines(db_dir: Path, pg_schema: str | None) -> Iterator[dict[str, tuple[Engine, Path | None]]]:
    """One engine per backend for the whole worker, each test's database swapped in under it (`engine`):
    SQLAlchemy compiles statements once per engine (its cache is the engine's, keyed by the dialect object),
    and a fresh engine per test compiled every statement of every test again (about a fifth of a command's
    CPU). SQLite's is on one path in this worker's own directory."""
    path = db_dir / "ecm.db"
    engines: dict[str, tuple[Engine, Path | None]] = {}
    engines["sqlite"] = (make_engine(f"sqlite:///{path}"), path)
    if PG_URL and pg_schema:
        # Commits not waiting for the WAL to reach the disk (a few ms each while the disk is busy): what a
        # commit makes visible, and when, is the same; only a crash of the server could lose the last ones.
        options = f"-csearch_path={pg_schema} -csynchronous_commit=off"
        engines["postgresql"] = (make_engine(PG_URL, connect_args={"options": options}), None)
    yield engines
    for engine, _path in engines.values():
        engine.dispose()


def _pool_listeners(engine: Engine) -> dict[str, list[object]]:
    dispatch = engine.pool.dispatch
    return {name: list(getattr(dispatch, name)) for name in dispatch._event_names}


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    shared_engines: dict[str, tuple[Engine, Path | None]],
) -> Iterator[Engine]:
    """A fresh, migrated database. The engine is the worker's (see `shared_engines`): SQLite's file is a new
    copy of the template (a new file, not written over the old one, so a connection some earlier test left
    open still has its own) under an emptied pool. PostgreSQL's schema is emptied in place and its pool
    kept: opening a connection (a new server process) is 10-15 ms, several times in an end-to-end test,
    and the rows are all the next test sees of the last. The pool is emptied anyway when a connection is
    still out (a thread of an earlier test), when its connections were cut (the retry below), and around a
    test marked `fresh_pool` (one that needs to see every connection its engine opens). Engine events a
    test adds (`before_cursor_execute`, ...) stay with this test's engine, an `execution_options()` copy;
    the pool is shared, so a pool event (`connect`, ...) a test adds must be removed by it, and the test
    fails here if not."""
    shared, path = shared_engines[request.param]
    fresh_pool = path is not None or request.node.get_closest_marker("fresh_pool") is not None
    if fresh_pool or shared.pool.checkedout():  # type: ignore[attr-defined]
        shared.dispose()
    if path is not None:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copy(sqlite_template, path)
    else:
        try:
            _empty_schema(shared)
        except DBAPIError as error:  # a kept connection was cut: SQLAlchemy has discarded the pool's
            if not error.connection_invalidated:
                raise
            shared.dispose()
            _empty_schema(shared)
    listeners = _pool_listeners(shared)
    engine = shared.execution_options()
    yield engine
    if fresh_pool:
        engine.dispose()
    assert _pool_listeners(shared) == listeners, "a pool event listener the test added is still there"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fresh_pool: the test's engine starts and ends with no pooled connection (PostgreSQL)"
    )


@pytest.fixture
def clock() -> FixedClock:
    # Monday 23 November 2026, 09:30 in London: a working day.
    return FixedClock(london(2026, 11, 23, 9, 30))


@pytest.fixture(scope="session")
def standin_server() -> Iterator[SlackStandIn]:
    with SlackStandIn(signing_secret=uuid.uuid4().hex) as standin:
        yield standin


@pytest.fixture
def slack(standin_server: SlackStandIn) -> Iterator[SlackStandIn]:
    """The stand-in, emptied; afterwards every message and view the bot sent is checked as Block Kit."""
    standin_server.reset()
    yield standin_server
    for message in list(standin_server.messages):
        if message.via != "person":
            check_message(message)
    for call in standin_server.calls:
        if call.method.startswith("views.") and isinstance(call.params.get("view"), dict):
            check_view(call.params["view"])


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Settings the `ws` app runs with beyond the offline defaults; a test module overrides this fixture
    (e.g. a quicker ECM_SLACK_BACKOFF_SECONDS) rather than building its own workspace."""
    return {}


@pytest.fixture
def ws(
    engine: Engine, clock: FixedClock, slack: SlackStandIn, settings_overrides: dict[str, Any]
) -> Iterator[OfflineWorkspace]:
    """The real Bolt app on a fresh database, talking to the stand-in; users are created by name. Bolt's
    listeners run in the request's thread (`inline_acks`), so no command waits out Bolt's 10 ms ack polling;
    the production pools are exercised by the tests that run `ecm-bot run` processes (tests/test_acks.py)."""
    settings = offline_settings(slack, engine, **settings_overrides) if settings_overrides else None
    workspace = OfflineWorkspace(engine, clock, standin=slack, inline_acks=True, settings=settings)
    yield workspace
    workspace.close()


GROUP_SETUP = [
    'setup name:"Lancashire ECM Task Group" preset:lancashire',
    "member @sam district:chorley",
    "member @priya district:south-ribble",
    'member @dev org:"Lancashire Constabulary"',
]


@pytest.fixture
def group(ws: OfflineWorkspace) -> OfflineWorkspace:
    """A Lancashire task group chaired by `chair`, with a few registered members. The rows are those the
    commands of GROUP_SETUP write when run through the core with the stand-in as Slack's directory
    (`set_up_group`: what `/ecm setup` and `/ecm member` write through Bolt, without a Bolt round trip, a
    post and Home refreshes each); they are run once per worker and the rows copied in for each later test
    (`GroupRows`). What the test then does goes through Bolt. tests/test_group_setup.py runs the same
    commands through Slack and compares, and checks that the copy is what the commands write."""
    return restore_group(ws)


def set_up_group(ws: OfflineWorkspace) -> OfflineWorkspace:
    prepare(ws, *GROUP_SETUP)
    return ws


def prepare(
    ws: OfflineWorkspace, *commands: str, user: str = "chair", channel: str | None = None
) -> list[Reply]:
    """Runs `/ecm` commands through the core on the workspace's database and Slack directory, as `user`
    in `channel` (the workspace's by default): the set-up a test builds on when what it checks comes after
    (no Bolt round trip, channel post or Home refresh each, which is what the end-to-end tests are for).
    Each must succeed; the last one's replies are returned."""
    replies: list[Reply] = []
    for command in commands:
        ctx = Context(
            engine=ws.engine,
            clock=ws.clock,
            team_id=ws.standin.team_id,
            channel_id=channel or ws.channel,
            user_id=ws.user(user),
            default_timezone=ws.settings.ecm_timezone,
            directory=SlackDirectory(ws.services.client),
        )
        replies = run_command(ctx, ws.render_mentions(command))
        assert replies and not any(r.is_error for r in replies), (command, [r.text for r in replies])
    return replies


def restore_group(ws: OfflineWorkspace) -> OfflineWorkspace:
    """`set_up_group`'s rows, from this worker's copy of them (taken by running it the first time)."""
    people = [ws.user(name) for name in ("chair", "sam", "priya", "dev")]  # as the commands name them
    key = (
        "ws",
        ws.engine.dialect.name,
        ws.clock.now(),
        ws.settings.ecm_timezone,
        ws.standin.team_id,
        ws.channel,
        *people,
    )
    GroupRows.restore_or_take(key, ws.engine, lambda: set_up_group(ws))
    return ws


def _sqlite_backup(source: str | Path, target: str | Path) -> None:
    """SQLite's online backup: a consistent copy (through the WAL), safe with other connections open."""
    with closing(sqlite3.connect(source)) as read, closing(sqlite3.connect(target)) as write:
        read.backup(write)


class GroupRows:
    """Every row (and the numbering: SQLite's file, PostgreSQL's sequences) of a database just after a
    group's set-up, kept per worker by what the set-up depends on (backend, clock, ids), so each later test
    starting from the same group gets it copied in rather than re-running the commands (about 0.1 s of
    CPU a test). The database it is restored into must be fresh (the engine fixture's)."""

    _taken: ClassVar[dict[tuple[object, ...], GroupRows]] = {}

    def __init__(self, engine: Engine) -> None:
        self.sqlite_copy: Path | None = None
        self.tables: list[tuple[Table, list[dict[str, object]]]] = []
        self.sequences: list[tuple[str, int, bool]] = []
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            assert database
            self.sqlite_copy = Path(f"{database}.group-{len(self._taken)}")
            _sqlite_backup(database, self.sqlite_copy)
            return
        with engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                rows = [dict(r) for r in conn.execute(select(table)).mappings()]
                self.tables.append((table, rows))
            names = conn.execute(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
                )
            ).scalars()
            for name in list(names):
                last, called = conn.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one()
                self.sequences.append((name, int(last), bool(called)))

    def restore(self, engine: Engine) -> None:
        if self.sqlite_copy is not None:
            database = engine.url.database
            assert database
            engine.dispose()
            if Path(f"{database}-wal").exists():  # a connection is still open: copy through SQLite
                _sqlite_backup(self.sqlite_copy, database)
            else:  # nobody has the file open (the last to close removes the WAL): copy the file, faster
                shutil.copy(self.sqlite_copy, database)
            return
        with engine.begin() as conn:
            for table, rows in self.tables:
                if rows:
                    conn.execute(table.insert(), rows)
            if self.sequences:  # one round trip for all of them
                values = ", ".join(
                    f"setval('\"{n}\"', {last}, {called})" for n, last, called in self.sequences
                )
                conn.exec_driver_sql(f"SELECT {values}")

    @classmethod
    def restore_or_take(cls, key: tuple[object, ...], engine: Engine, set_up: Callable[[], object]) -> None:
        taken = cls._taken.get(key)
        if taken is None:
            set_up()
            cls._taken[key] = cls(engine)
        else:
            taken.restore(engine)


# ----- the fast tier: the Slack-free core, called directly -------------------------------------------------

CHAIR, SAM, PRIYA, DEV = "U0CHAIR", "U0SAM", "U0PRIYA", "U0DEV"
_AT_NAME = re.compile(r"(?<![<\w])@([a-z][a-z0-9_]*)")


def user_id(name: str) -> str:
    """The user id the fast tier gives a person: `sam` -> `U0SAM` (ids pass through unchanged)."""
    return name if name.startswith("U0") else f"U0{name.upper()}"


@dataclass
class Replies:
    """What the core answered one command with: the `Reply` data itself (no Slack, no rendering)."""

    messages: list[Reply]

    @property
    def posted(self) -> list[Reply]:
        return [r for r in self.messages if r.visibility == Visibility.CHANNEL]

    @property
    def ephemeral(self) -> list[Reply]:
        return [r for r in self.messages if r.visibility == Visibility.EPHEMERAL]

    @property
    def is_error(self) -> bool:
        return any(r.is_error for r in self.messages)

    @property
    def text(self) -> str:
        """Every reply's heading, sections and small print, as a person would read them."""
        parts = [
            "\n".join(p for p in (r.header, *(s.text for s in r.sections), r.footer) if p) or r.text
            for r in self.messages
        ]
        return "\n".join(parts)


@dataclass
class Core:
    """Runs `/ecm` commands straight through `commands.dispatch` (no Bolt, no HTTP): a fast test checks
    the reply data itself (`is_error`, `visibility`, text). People are named as in the end-to-end tests
    (`user="sam"`, `@sam` in the text) and become ids by `user_id`."""

    engine: Engine
    clock: FixedClock
    team_id: str = "T0CORE"
    channel_id: str = "C0CORE"

    def context(
        self, user: str = CHAIR, *, channel: str | None = None, request_key: str | None = None
    ) -> Context:
        return Context(
            engine=self.engine,
            clock=self.clock,
            team_id=self.team_id,
            channel_id=channel or self.channel_id,
            user_id=user_id(user),
            request_key=request_key,
        )

    def run(
        self, text: str, user: str = CHAIR, *, channel: str | None = None, request_key: str | None = None
    ) -> list[Reply]:
        return run_command(self.context(user, channel=channel, request_key=request_key), text)

    def command(
        self,
        text: str,
        user: str = "chair",
        channel: str | None = None,
        *,
        request_key: str | None = None,
    ) -> Replies:
        """`@name` mentions become Slack's `<@U0NAME>`, as a Slack client would send them."""
        typed = _AT_NAME.sub(lambda m: f"<@{user_id(m.group(1))}>", text)
        return Replies(self.run(typed, user, channel=channel, request_key=request_key))

    def user(self, name: str) -> str:
        """As `OfflineWorkspace.user`: a person's id by name."""
        return user_id(name)

    def readable(self, text: str) -> str:
        """As `OfflineWorkspace.readable`: `<@U0SAM>` -> `@sam`, and entities back to characters."""
        text = re.sub(r"<@U0([A-Z0-9]+)>", lambda m: "@" + m.group(1).lower(), text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.fixture
def core(engine: Engine, clock: FixedClock) -> Core:
    """A Lancashire task group chaired by CHAIR, with SAM (Chorley), PRIYA (South Ribble) and DEV
    (Lancashire Constabulary), set up through the core: the fast tier's `group` (run once per worker, its
    rows copied in after that, as `group`'s are)."""
    found = Core(engine, clock)
    key = ("core", engine.dialect.name, clock.now(), found.team_id, found.channel_id)
    GroupRows.restore_or_take(key, engine, lambda: set_up_core(found))
    return found


def set_up_core(found: Core) -> Core:
    for command in GROUP_SETUP:
        out = found.command(command)
        assert out.messages and not out.is_error, out.text
    return found
