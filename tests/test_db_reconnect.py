"""PostgreSQL connections dropped while commands run: a command whose connection is cut mid-transaction
(the backend terminated from another connection, as a database restart, a failover or a connection reaper
would) is run once more on a fresh connection, through the real path (signed slash commands into Bolt). No
"Sorry" reply, and nothing saved twice. SQLite has no server connection to drop, so these run on PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import NullPool
from sqlmodel import col, select

from bot.offline import OfflineWorkspace
from storage.models import Action, ActionNote, AuditEvent
from tests.support import db, ok

SORRY = "Sorry"


# The killer ends every backend the engine's pool opened, as it sees them open: none kept from before.
pytestmark = pytest.mark.fresh_pool


class BackendKiller:
    """Terminates the backend of one of `engine`'s connections from a separate connection, at the first
    statement matching the armed pattern (then disarms), waiting until the backend has gone: the statement
    then meets a dead connection, as it would after a restart or failover."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.admin = create_engine(engine.url, poolclass=NullPool)
        self.armed: re.Pattern[str] | None = None
        self.kills: list[str] = []
        # With `kill_every`: threads whose next matching statements are the retry's, which is not cut again.
        self.spare: dict[int, int] = {}
        self.every = 0  # with `kill_every(n)`: terminate at every n-th matching statement
        self.seen = 0
        self._lock = threading.Lock()
        self.pids: set[int] = set()  # every backend this engine's pool opened
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "connect", self._connected)

    def _connected(self, dbapi_conn: Any, _record: Any) -> None:
        self.pids.add(dbapi_conn.info.backend_pid)

    def terminate_pool(self) -> int:
        """Every backend of the pool, idle or not, as a database restart would: how many were alive."""
        with self.admin.connect() as conn:
            return sum(
                bool(conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar())
                for pid in list(self.pids)
                if conn.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).first()
            )

    def arm(self, pattern: str) -> None:
        self.armed = re.compile(pattern)

    def kill_every(self, pattern: str, n: int) -> None:
        self.armed, self.every, self.seen = re.compile(pattern), n, 0

    def _before(self, _conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        thread = threading.get_ident()
        with self._lock:
            if self.armed is None or not self.armed.search(statement):
                return
            if self.every:
                if self.spare.get(thread):
                    self.spare[thread] -= 1
                    return
                self.seen += 1
                if self.seen % self.every:
                    return
                self.spare[thread] = 3  # an `add` writes these three tables once each
            else:
                self.armed = None
            self.kills.append(statement.split("\n")[0][:50])
        with self.admin.connect() as conn:
            pid = cursor.connection.info.backend_pid
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "connect", self._connected)
        self.admin.dispose()


@pytest.fixture
def killer(engine: Engine) -> Iterator[BackendKiller]:
    """On the test's engine (the one `group` runs on); skipped before any set-up on SQLite."""
    if engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no server connection to drop")
    found = BackendKiller(engine)
    yield found
    found.close()


# A command, and the statement of its transaction at which its connection is cut.
CASES = [
    # An add's action, links, counters and audit event are one statement on PostgreSQL (WITH n AS …).
    ("add Audit referrals @sam due:27/11/2026", r"^(INSERT INTO action\b|WITH n AS)"),
    ("add Map provision @priya due:27/11/2026", r"INSERT INTO audit_event"),
    ("add Book the venue @dev due:27/11/2026", r"^INSERT INTO processed_request"),
    ("actions", r"FROM action\b"),
    ("show 2", r"FROM action\b"),
    ("done 1", r"^UPDATE action\b"),
    ('update 3 "Venue booked for the 4th"', r"^INSERT INTO action_note"),
    ("update 2 due:04/12/2026", r"^UPDATE action\b"),
]


def _all_text(ws: OfflineWorkspace) -> str:
    return "\n".join(m.text + str(m.blocks) for m in ws.standin.messages)


def test_a_dropped_connection_mid_command_is_retried_on_a_fresh_one(
    killer: BackendKiller, group: OfflineWorkspace
) -> None:
    ws = group
    for command, statement in CASES:
        killer.arm(statement)
        out = ws.command(command, user="chair")
        assert killer.armed is None, f"{command}: never reached {statement}"
        assert not out.is_error and SORRY not in out.text, (command, out.text)
    assert len(killer.kills) == len(CASES)
    # The whole pool dropped between commands (a database restart): the checkout's pre-ping replaces them.
    assert killer.terminate_pool() >= 1
    ok(ws.command("add Restarted meanwhile @sam due:27/11/2026", user="chair"))
    assert SORRY not in _all_text(ws)
    with db(ws) as session:
        titles = Counter(a.title for a in session.exec(select(Action)))
        notes = list(session.exec(select(ActionNote)))
        events = Counter(
            (e.entity_id, e.verb) for e in session.exec(select(AuditEvent)) if e.entity == "action"
        )
    assert titles == Counter(
        {"Audit referrals": 1, "Map provision": 1, "Book the venue": 1, "Restarted meanwhile": 1}
    )
    assert [n.text for n in notes] == ["Venue booked for the 4th"]
    assert all(n == 1 for n in events.values()), events  # each change recorded once
    print(f"dropped connections: {len(killer.kills)} commands cut mid-transaction, 0 Sorry, 0 saved twice")


def test_under_load_every_command_survives_dropped_connections(
    killer: BackendKiller, group: OfflineWorkspace
) -> None:
    ws = group
    for name in ("sam", "priya", "dev"):
        ws.user(name)
    # Four people adding at once; every third write into the register loses its connection mid-transaction.
    killer.kill_every(r"^(INSERT INTO (action|audit_event|processed_request)\b|WITH n AS)", 3)
    errors: list[str] = []

    def work(who: str) -> None:
        for i in range(12):
            out = ws.command(f"add Load {who} {i} @sam due:27/11/2026", user="chair")
            if out.is_error or SORRY in out.text:
                errors.append(out.text)

    threads = [threading.Thread(target=work, args=(w,)) for w in ("a", "b", "c", "d")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    killer.armed = None
    assert not errors, errors[:3]
    assert SORRY not in _all_text(ws)
    with db(ws) as session:
        titles = Counter(
            a.title for a in session.exec(select(Action).where(col(Action.title).like("Load %")))
        )
    assert len(titles) == 48 and set(titles.values()) == {1}, titles.most_common(3)
    assert len(killer.kills) >= 16
    print(f"under load: 48 commands, {len(killer.kills)} connections cut, 0 Sorry, 0 saved twice")


def test_an_idle_connection_is_pinged_and_replaced_before_use(
    killer: BackendKiller, group: OfflineWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Commands don't ping at checkout (`in_transaction` meets a drop at the first statement and runs the
    # command again); work outside it, such as this plain `session_scope`, relies on the idle ping instead.
    import storage.db

    killer.engine.dispose()  # the set-up's connections predate the killer: open ones it knows of
    ok(group.command("add Before the restart @sam due:27/11/2026", user="chair"))
    assert killer.terminate_pool() >= 1
    monkeypatch.setattr(storage.db, "IDLE_PING_SECONDS", 0.0)  # every pooled connection counts as idle
    with storage.db.session_scope(killer.engine, write=False) as session:
        assert [a.title for a in session.exec(select(Action))] == ["Before the restart"]
