"""Engine, sessions and migrations.

SQLite (the default) gets WAL and a busy timeout so the web process and the scheduler can share one file;
PostgreSQL is used as is. Migrations are alembic's, run programmatically so `ecm-bot migrate` and start-up
need no alembic.ini on the user's side.
"""

from __future__ import annotations

import ast
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

if TYPE_CHECKING:  # alembic (with mako) is imported only when there is migrating to do: see `migrate`
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    # The ORM (sqlmodel, SQLAlchemy's orm: a sixth of a second) only for units of work: `migrate` and
    # `backup` never open one.
    from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# PostgreSQL advisory lock held while migrating, so replicas starting together migrate one at a time
# (the first upgrades, the others then find the schema current). Any fixed 64-bit number; this spells "ECMMIGR".
MIGRATION_LOCK = 0x45434D4D494752

log = logging.getLogger(__name__)

T = TypeVar("T")


class SchemaError(Exception):
    """The database's schema can't be used by this code; the CLI prints it as one line."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# Execution option of a connection whose transaction only reads (see `session_scope(write=False)`).
READ_ONLY = "ecm_read_only"


class WriteInReadOnlyUnit(Exception):
    """A unit of work declared read-only (`write=False`) tried to write: refused before the statement ran,
    so nothing changed, and the caller may run the unit again as a write."""


_WRITE_STATEMENT = re.compile(
    r"\s*(INSERT|UPDATE|DELETE|MERGE|REPLACE|UPSERT|CREATE|DROP|ALTER|TRUNCATE)\b", re.I
)
# A WITH whose CTEs write (`storage.actions.create_action` on PostgreSQL): refused too. A read that merely
# names such a word is refused as well and runs again as a write, which is slower but changes nothing.
_WITH_STATEMENT = re.compile(r"\s*WITH\b", re.I)
_WRITE_ANYWHERE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.I)


def _refuse_writes_in_read_only(
    _conn: Connection, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    if context.execution_options.get(READ_ONLY) and (
        _WRITE_STATEMENT.match(statement)
        or (_WITH_STATEMENT.match(statement) and _WRITE_ANYWHERE.search(statement))
    ):
        raise WriteInReadOnlyUnit(statement.split(None, 1)[0])


def must_run_as_write(error: BaseException) -> bool:
    """Read-only work that wrote: refused by the guard, or (SQLite) refused the write lock because another
    writer went first. Nothing was changed either way."""
    return isinstance(error, WriteInReadOnlyUnit) or is_lock_conflict(error)


def make_engine(url: str, *, pool_size: int | None = None, **kwargs: Any) -> Engine:
    """The engine for `url`. `pool_size`: connections kept open, one per thread that may use the database
    at once (listener, reply and scheduler threads), so no request waits for a connection."""
    if pool_size is not None:
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", max(2, pool_size // 4))
    if is_sqlite(url):
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, open transactions, so BEGIN IMMEDIATE takes the write lock up front.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            # WAL: readers never wait for the writer, nor it for them.
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL, NORMAL syncs at checkpoints, not at every commit: still never corrupt, and a crash of
            # the process loses nothing (only a power cut may lose the last commits).
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Writers queue for the write lock instead of failing with "database is locked".
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Reads: a deferred transaction, one WAL snapshot, never blocked by a writer. Writes: the write
            # lock at BEGIN (IMMEDIATE), so two writers queue on the busy timeout instead of deadlocking when
            # both try to upgrade a read lock (which SQLite answers with an immediate "database is locked").
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        event.listen(engine, "before_cursor_execute", _refuse_writes_in_read_only)
        return engine
    # No ping at every checkout (a round trip per command): a connection that dropped while in use or just
    # before is met by the command's first statement, and `in_transaction` runs the command again on a fresh
    # one (SQLAlchemy then discards every connection the pool held from before the drop, so a database
    # restart costs one failed statement, not one per pooled connection). A connection idle for longer than
    # IDLE_PING_SECONDS is still pinged before use, for work that runs outside `in_transaction`.
    kwargs.setdefault("pool_pre_ping", False)
    engine = create_engine(url, **kwargs)
    if not kwargs["pool_pre_ping"]:
        _ping_when_idle(engine)
    # Read-only work runs without a transaction (`_begin`): the guard keeps it from writing piecemeal.
    event.listen(engine, "before_cursor_execute", _refuse_writes_in_read_only)
    return engine


IDLE_PING_SECONDS = 30.0
_CHECKED_IN = "ecm_checked_in"


def _ping_when_idle(engine: Engine) -> None:
    """Pings a pooled connection before use only when it sat idle for IDLE_PING_SECONDS (a server restart or
    an idle-connection reaper is likely to have closed it); a dead one is replaced at checkout."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_conn.rollback()
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"idle connection dropped: {error}") from error


def _begin(session: Session, write: bool) -> None:
    """Marks read-only work. On PostgreSQL it runs in autocommit, with no BEGIN and COMMIT round trips
    (a district list's two statements would be four): under READ COMMITTED each statement reads its own snapshot either way, and
    the guard (`_refuse_writes_in_read_only`) refuses a write before it runs, so nothing is written in
    pieces. SQLite keeps a deferred transaction: one WAL snapshot, and no round trips to save."""
    if not write:
        options: dict[str, Any] = {READ_ONLY: True}
        if session.get_bind().dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        session.connection(execution_options=options)


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception. `write=False` for work that only
    reads: on SQLite it runs in a deferred transaction beside the writer instead of queueing for its lock
    (a read-only unit that writes anyway fails with `OperationalError` and may be run again as a write).
    `in_transaction` is the same, run again once if the database connection drops."""
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        _begin(session, write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_disconnect(error: BaseException) -> bool:
    """The database connection dropped (server restarted, backend terminated, network cut). SQLAlchemy marks
    such an error `connection_invalidated` and throws the connection away (with every pooled one older than
    it), so the next checkout is a fresh one."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _first_line(error: BaseException) -> str:
    """What the driver said, without the statement and its parameters (people's text stays out of logs)."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def in_transaction(
    engine: Engine, work: Callable[[Session], T], *, write: bool = True, retry_commit: bool = False
) -> T:
    """`work(session)` as one unit of work (as `session_scope`), run once more on a fresh connection when
    the connection drops before anything was committed: the failed attempt was rolled back with its
    connection, so nothing is done twice. A drop during the COMMIT itself leaves the outcome unknown, so it
    is retried only for read-only work or with `retry_commit` (the caller's unit of work is guarded against
    running twice, e.g. by a processed-request key); otherwise it is raised."""
    from sqlmodel import Session

    for attempt in (1, 2):
        with Session(engine, expire_on_commit=False) as session:
            try:
                _begin(session, write)
                result = work(session)
            except BaseException as error:
                session.rollback()
                if attempt == 1 and is_disconnect(error):
                    log.warning("the database connection dropped (%s); running it again", _first_line(error))
                    continue
                raise
            try:
                session.commit()
            except DBAPIError as error:
                session.rollback()
                if attempt == 1 and is_disconnect(error) and (retry_commit or not write):
                    log.warning(
                        "the database connection dropped at commit (%s); running it again", _first_line(error)
                    )
                    continue
                raise
            return result
    raise AssertionError("unreachable: the second attempt returns or raises")


def is_lock_conflict(error: BaseException) -> bool:
    """SQLite refusing a write in a read transaction because another writer got there first."""
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


def alembic_config(engine: Engine, connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _refuse_newer_schema(conn: Connection, script: ScriptDirectory) -> None:
    """A database upgraded by newer code has revisions this code doesn't know: running on it (or
    "upgrading" it) could corrupt data, so stop before anything is touched."""
    from alembic.runtime.migration import MigrationContext
    from alembic.util import CommandError

    for revision in MigrationContext.configure(conn).get_current_heads():
        try:
            known = script.get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise _newer_schema(revision, script.get_current_head())


def _newer_schema(revision: str, newest: str | None) -> SchemaError:
    return SchemaError(
        f"the database is at schema revision {revision}, which this ecm-bot does not know (its newest "
        f"is {newest}): a newer version upgraded it. Run that version or newer, "
        "or restore the backup taken before the upgrade."
    )


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (safe to run on every start, from many processes at once).

    Raises SchemaError, changing nothing, when the database is newer than this code. A database already at
    the newest revision (every start but the first after an upgrade) is left as it is without loading
    alembic, which costs a process about a quarter of its start-up; so is one the files show is newer
    (refused)."""
    if _at_head(engine):
        return
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if postgres:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": MIGRATION_LOCK}).scalar():
                log.info("another process is migrating the database; waiting for it to finish")
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()  # the lock is the session's; the migration runs in its own transaction
        try:
            if postgres and _at_head(engine):
                return  # a replica that waited for the lock: the one holding it before has migrated
            from alembic import command
            from alembic.script import ScriptDirectory

            script = ScriptDirectory.from_config(alembic_config(engine))
            _refuse_newer_schema(conn, script)
            conn.commit()
            command.upgrade(alembic_config(engine, conn), "head")
        finally:
            if postgres:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                conn.commit()


def refresh_statistics(engine: Engine) -> None:
    """SQLite: `ANALYZE`, so the query planner knows which indexes are selective (one person's actions by the
    owner index, not by walking the whole group); run at start-up (about a second at 100,000 actions).
    PostgreSQL's autovacuum keeps its own statistics: nothing to do there."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


class WalCheckpointer:
    """SQLite's WAL checkpoints taken off the requests' path, for a server process.

    In WAL mode SQLite copies the log back into the database file (a checkpoint) when a commit finds the log
    past 1,000 pages, and that commit waits for it: one `/ecm add` in about ninety took 10-30 ms longer,
    the register's slowest adds. Here a thread of its own checkpoints every `interval` seconds, PASSIVE (it
    neither waits for nor blocks readers and writers; the sqlite3 module lets go of the interpreter lock
    meanwhile), and this engine's connections no longer checkpoint at commit (`wal_autocheckpoint=0`).
    Other processes on the same file (the CLI, a scheduler worker) keep SQLite's own checkpoints."""

    def __init__(self, engine: Engine, interval: float) -> None:
        if engine.dialect.name != "sqlite" or interval <= 0:
            raise ValueError("a WAL checkpointer is for SQLite, with an interval over 0")
        self.engine, self.interval = engine, interval
        self.runs = 0
        self.last: tuple[int, int, int] | None = None  # (busy, frames in the log, frames checkpointed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WalCheckpointer:
        event.listen(self.engine, "connect", _no_checkpoint_at_commit)
        self.engine.dispose()  # connections opened before (migrating, ANALYZE) would still checkpoint
        self._thread = threading.Thread(target=self._run, name="ecm-wal-checkpoint", daemon=True)
        self._thread.start()
        return self

    def run_once(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (1 if it could not finish for a reader or writer, frames in the log,
        frames now in the database file)."""
        raw = self.engine.raw_connection()
        try:
            row = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()  # type: ignore[union-attr]
        finally:
            raw.close()
        self.runs += 1
        self.last = (int(row[0]), int(row[1]), int(row[2]))
        return self.last

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # a checkpoint missed is taken at the next one; the thread must not end
                log.exception("WAL checkpoint failed")

    def stop(self) -> None:
        """Stops the thread after a last checkpoint, so the database file holds every commit."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
            try:
                self.run_once()
            except Exception:
                log.exception("WAL checkpoint failed")


def _no_checkpoint_at_commit(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def checkpoint_in_background(engine: Engine, interval: float) -> WalCheckpointer | None:
    """A started `WalCheckpointer` for a SQLite server (ECM_SQLITE_CHECKPOINT_SECONDS); None on
    PostgreSQL or with an interval of 0 (SQLite's own checkpoints at commit)."""
    if engine.dialect.name != "sqlite" or interval <= 0:
        return None
    return WalCheckpointer(engine, interval).start()


_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=(.*)$", re.MULTILINE)


def head_revisions() -> set[str] | None:
    """The newest revision(s), from the `revision` and `down_revision` lines of the revision files (what
    alembic's ScriptDirectory works out, without importing alembic); None if a file can't be read that way,
    and then `migrate` asks alembic."""
    found = _revision_files()
    return found[1] if found else None


def _revision_files() -> tuple[set[str], set[str]] | None:
    """Every revision the files define and the newest of them, or None (see `head_revisions`)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(found["revision"].strip())
            down = ast.literal_eval(found["down_revision"].strip())
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str) or not (down is None or isinstance(down, str | tuple)):
            return None
        revisions.add(revision)
        parents.update([down] if isinstance(down, str) else (down or ()))
    heads = revisions - parents
    return (revisions, heads) if heads else None


def _at_head(engine: Engine) -> bool:
    """The database's recorded revisions are exactly the newest ones: there is nothing to migrate. Raises
    SchemaError for a revision no file defines (a newer ecm-bot's), as alembic would be loaded to do."""
    found = _revision_files()
    if not found:
        return False
    known, heads = found
    try:
        with engine.connect() as conn:
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except DBAPIError:  # no alembic_version table yet: a new database
        return False
    unknown = sorted(current - known)
    if unknown and len(heads) == 1:
        raise _newer_schema(unknown[0], next(iter(heads)))
    return current == heads


def schema_is_current(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return set(current) == set(script.get_heads())
