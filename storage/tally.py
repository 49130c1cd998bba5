"""The register's counters (`ActionTally`): how many actions a group holds per status and due key, and per
outcome, district, outcome and district together, owner and organisation, so a count (one outcome, one
district, both, or one owner) or a `by:` grouping reads a few hundred counter rows whatever the size of the
group, instead of every matching action.

`storage.actions` keeps them in step in the same transaction as every change it makes to an action (create,
bulk create, update): each change adds the action's new `contribution` and takes away its old one, with one
upsert. They are derived data, never audited themselves (the audit trail records the change to the action).
`rebuild` recounts them from the register (the migration that added them runs the same statements); the
tests check that the counters kept in step equal a rebuild and the live counts after random changes.

A filter the counters cannot answer (several outcomes or districts, an owner with an outcome, a meeting…)
is counted live.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, event, func, text
from sqlmodel import Session, col, select

from storage.binds import in_listed, listed_count, listed_key, listed_params
from storage.models import DUE_NEVER, ActionStatus, ActionTally, Outcome

ALL, OUTCOME, DISTRICT = "all", "outcome", "district"
OWNER, ORGANISATION = "owner", "organisation"
PAIR = "outcome-district"  # bucket "OUTCOME|DISTRICT_ID" or "OUTCOME|countywide": one per outcome × district
ANY, MANY = "*any", "*many"  # actions with at least one / more than one link of the dimension
COUNTYWIDE = "countywide"


def pair(outcome: Outcome | str, district: int | str) -> str:
    """The `PAIR` bucket of an outcome and a district id (or COUNTYWIDE)."""
    return f"{Outcome(outcome).value}|{district}"


Cell = tuple[int, str, ActionStatus, date, str]  # group_id, dimension, status, due_key, bucket


def contribution(
    group_id: int,
    status: ActionStatus | str,
    due_key: date,
    countywide: bool,
    outcomes: Iterable[Outcome | str],
    district_ids: Iterable[int],
    owners: Iterable[str] = (),
    organisation: str = "",
) -> Counter[Cell]:
    """What one action adds to its group's counters."""
    cells: Counter[Cell] = Counter()
    add_action(
        cells,
        group_id,
        ActionStatus(status),
        due_key,
        countywide,
        outcomes,
        district_ids,
        owners,
        organisation,
    )
    return cells


def add_action(
    cells: Counter[Cell],
    group_id: int,
    status: ActionStatus,
    due_key: date,
    countywide: bool,
    outcomes: Iterable[Outcome | str],
    district_ids: Iterable[int],
    owners: Iterable[str] = (),
    organisation: str = "",
) -> None:
    """Adds one action's contribution to `cells` (many actions: one Counter for all of them)."""
    outcome_set = {o.value if isinstance(o, Outcome) else Outcome(o).value for o in outcomes}
    cells[(group_id, ALL, status, due_key, "")] += 1
    cells[(group_id, ORGANISATION, status, due_key, organisation or "")] += 1
    owner_set = set(owners)
    for user_id in owner_set:
        cells[(group_id, OWNER, status, due_key, user_id)] += 1
    if len(owner_set) > 1:
        cells[(group_id, OWNER, status, due_key, MANY)] += 1
    for value in outcome_set:
        cells[(group_id, OUTCOME, status, due_key, value)] += 1
    if outcome_set:
        cells[(group_id, OUTCOME, status, due_key, ANY)] += 1
        if len(outcome_set) > 1:
            cells[(group_id, OUTCOME, status, due_key, MANY)] += 1
    if countywide:  # in the "Countywide" group only, whatever district rows it may have
        cells[(group_id, DISTRICT, status, due_key, COUNTYWIDE)] += 1
        for value in outcome_set:
            cells[(group_id, PAIR, status, due_key, f"{value}|{COUNTYWIDE}")] += 1
        return
    district_set = set(district_ids)
    for district_id in district_set:
        cells[(group_id, DISTRICT, status, due_key, str(district_id))] += 1
        for value in outcome_set:
            cells[(group_id, PAIR, status, due_key, f"{value}|{district_id}")] += 1
    if district_set:
        cells[(group_id, DISTRICT, status, due_key, ANY)] += 1
        if len(district_set) > 1:
            cells[(group_id, DISTRICT, status, due_key, MANY)] += 1


def change(before: Counter[Cell], after: Counter[Cell]) -> Counter[Cell]:
    delta = Counter(after)
    delta.subtract(before)
    return delta


def apply(session: Session, delta: Counter[Cell]) -> None:
    """Adds `delta` to the counters in one statement, nothing when it is all zero: on PostgreSQL the cells
    as arrays (`unnest`), so a bulk load's thousands of cells cost one execution, not one each; on SQLite
    one upsert sent with every cell's parameters (executemany) straight to the driver, whose C loop runs
    it far faster than SQLAlchemy prepares a row's parameters. Cells go in sorted order, so two PostgreSQL
    transactions touching the same counters lock them in the same order."""
    cells = sorted((cell, n) for cell, n in delta.items() if n)
    if not cells:
        return
    forget_sums(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PG_UPSERT, pg_upsert_params(delta))
        return
    # Driver-level values as SQLAlchemy would store them: the status's value, the date as ISO text.
    session.connection().exec_driver_sql(
        _SQLITE_UPSERT, [(g, d, s.value, k.isoformat(), b, n) for (g, d, s, k, b), n in cells]
    )


def pg_upsert_params(delta: Counter[Cell]) -> dict[str, str]:
    """The parameters of `PG_UPSERT_SQL` for `delta` (its non-zero cells, sorted), for a statement that
    carries the upsert among others (`storage.actions.create_action`). Whoever runs it calls `forget_sums`."""
    cells = sorted((cell, n) for cell, n in delta.items() if n)
    columns = zip(*((g, d, s.value, k, b, n) for (g, d, s, k, b), n in cells), strict=True)
    return {k: _pg_array(v) for k, v in zip(_PG_COLUMNS, columns, strict=True)}


def forget_sums(session: Session) -> None:
    """The counters changed outside `apply`: sums this transaction remembered are stale."""
    session.info.pop(_SUMS, None)


def _pg_array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of the values' text, every element quoted (inside quotes only `"` and
    `\\` are special): built by joining, several times faster than the driver's per-element list dumping,
    which was a bulk load's largest cost in Python."""
    quoted = ['"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]
    return "{" + ",".join(quoted) + "}"


_CONFLICT = (
    "ON CONFLICT (group_id, dimension, status, due_key, bucket) DO UPDATE SET n = action_tally.n + excluded.n"
)
_PG_COLUMNS = ("group_ids", "dimensions", "statuses", "due_keys", "buckets", "ns")
# unnest keeps the arrays' (sorted) order, and the insert takes the rows in that order.
PG_UPSERT_SQL = (
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT * FROM unnest(CAST(:group_ids AS integer[]), CAST(:dimensions AS varchar[]), "
    "CAST(:statuses AS varchar[]), CAST(:due_keys AS date[]), CAST(:buckets AS varchar[]), "
    f"CAST(:ns AS integer[])) {_CONFLICT}"
)
_PG_UPSERT = text(PG_UPSERT_SQL)
_SQLITE_UPSERT = f"INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) VALUES (?, ?, ?, ?, ?, ?) {_CONFLICT}"


def sums(
    session: Session,
    group_id: int,
    dimensions: Sequence[str],
    statuses: Sequence[ActionStatus] | None,
    *,
    due_before: date | None = None,
    due_on_or_before: date | None = None,
    due_from: date | None = None,
    buckets: Sequence[str] | None = None,
) -> dict[tuple[str, str], int]:
    """{(dimension, bucket): actions or links} over the statuses (None: any) and due keys given (`due_from`
    leaves out "no due date", as `storage.actions` filters do), for every bucket or only `buckets` (read
    through `ix_action_tally_bucket`). Remembered until the transaction ends or changes a counter, so a
    grouping's summary and its counts read the counters once."""
    key = (
        group_id,
        tuple(dimensions),
        None if buckets is None else tuple(buckets),
        None if statuses is None else tuple(statuses),
        due_before,
        due_on_or_before,
        due_from,
    )
    remembered: dict[Any, dict[tuple[str, str], int]] = session.info.setdefault(_SUMS, {})
    if key in remembered:
        return remembered[key]
    given, params = total_parameters(
        group_id,
        dimensions,
        statuses,
        due_before=due_before,
        due_on_or_before=due_on_or_before,
        due_from=due_from,
        buckets=buckets,
        prefix="",
    )
    # Plain rows on the connection: the counters are only ever written by `apply`'s statements, never as
    # ORM objects, so there is nothing for the session to flush first (and its ORM layer is skipped).
    found = session.connection().execute(_sums_statement(given), params)
    remembered[key] = {(d, b): int(n) for d, b, n in found if n}
    return remembered[key]


def _conditions(given: tuple[str, ...], prefix: str = "") -> list[Any]:
    """The counters' WHERE for the arguments given, its parameters named `prefix` + argument: one rule for
    `sums` and for `total_statement` (read inside another statement, hence a prefix)."""

    def param(name: str) -> Any:
        return bindparam(prefix + name)

    def listed(column: Any, name: str) -> list[Any]:
        count = listed_count(given, name)
        return [] if count is None else [in_listed(column, prefix + name, count)]

    due = col(ActionTally.due_key)
    where = [
        col(ActionTally.group_id) == param("group_id"),
        *listed(col(ActionTally.dimension), "dimensions"),
        *listed(col(ActionTally.bucket), "buckets"),
        *listed(col(ActionTally.status), "statuses"),
    ]
    if "due_before" in given:
        where.append(due < param("due_before"))
    if "due_on_or_before" in given:
        where.append(due <= param("due_on_or_before"))
    if "due_from" in given:
        where += [due >= param("due_from"), due < param("due_never")]
    return where


@lru_cache(maxsize=64)
def _sums_statement(given: tuple[str, ...]) -> Any:
    """`sums`'s statement for the arguments given, built once (each call binds its values)."""
    return (
        select(col(ActionTally.dimension), col(ActionTally.bucket), func.sum(col(ActionTally.n)))
        .where(*_conditions(given))
        .group_by(col(ActionTally.dimension), col(ActionTally.bucket))
    )


def total_parameters(
    group_id: int,
    dimensions: Sequence[str],
    statuses: Sequence[ActionStatus] | None,
    *,
    due_before: date | None = None,
    due_on_or_before: date | None = None,
    due_from: date | None = None,
    buckets: Sequence[str] | None = None,
    prefix: str = "tally_",
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """`sums`'s arguments for `total_statement` (and for `sums` itself, with no prefix): its shape (the
    arguments given) and its parameters, named `prefix` + argument so they sit beside another statement's."""
    values: dict[str, Any] = {
        "group_id": group_id,
        "due_before": due_before,
        "due_on_or_before": due_on_or_before,
        "due_from": due_from,
    }
    params = {f"{prefix}{k}": v for k, v in values.items() if v is not None}
    given = [k for k in values if f"{prefix}{k}" in params]
    # The lists are short (a few dimensions, buckets and statuses): bound one by one (storage.binds).
    lists = {"dimensions": dimensions, "buckets": buckets, "statuses": statuses}
    for name, listed in lists.items():
        if listed is not None:
            given.append(listed_key(name, len(listed)))
            params.update(listed_params(prefix + name, list(listed)))
    if due_from is not None:
        params[f"{prefix}due_never"] = DUE_NEVER
    return tuple(given), params


@lru_cache(maxsize=64)
def total_statement(given: tuple[str, ...]) -> Any:
    """The sum of every counter `sums` would return for the same arguments (one number, NULL when none),
    with `total_parameters`' parameters: for reading a count inside another statement."""
    return select(func.sum(col(ActionTally.n))).where(*_conditions(given, "tally_"))


_SUMS = "ecm_tally_sums"


@event.listens_for(Session, "after_transaction_end")
def _forget_sums(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_SUMS, None)


# The counters of revision 0007 (owner, organisation, outcome × district) recounted from the register, in
# plain SQL that SQLite and PostgreSQL both run (that revision runs a copy of these).
NEWER = [
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT a.group_id, 'owner', a.status, a.due_key, o.user_id, count(*) FROM action a "
    "JOIN action_owner o ON o.action_id = a.id GROUP BY a.group_id, a.status, a.due_key, o.user_id",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT group_id, 'owner', status, due_key, '*many', count(*) FROM action a "
    "WHERE (SELECT count(*) FROM action_owner o WHERE o.action_id = a.id) > 1 GROUP BY group_id, status, due_key",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT group_id, 'organisation', status, due_key, organisation, count(*) FROM action "
    "GROUP BY group_id, status, due_key, organisation",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT a.group_id, 'outcome-district', a.status, a.due_key, o.outcome || '|countywide', count(*) "
    "FROM action a JOIN action_outcome o ON o.action_id = a.id WHERE a.countywide "
    "GROUP BY a.group_id, a.status, a.due_key, o.outcome",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT a.group_id, 'outcome-district', a.status, a.due_key, "
    "o.outcome || '|' || CAST(d.district_id AS VARCHAR(32)), count(*) FROM action a "
    "JOIN action_outcome o ON o.action_id = a.id JOIN action_district d ON d.action_id = a.id "
    "WHERE NOT a.countywide GROUP BY a.group_id, a.status, a.due_key, o.outcome, d.district_id",
]

# Every counter recounted from the register, in plain SQL that SQLite and PostgreSQL both run (the migrations
# that added them run copies of these).
REBUILD = [
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT group_id, 'all', status, due_key, '', count(*) FROM action GROUP BY group_id, status, due_key",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT a.group_id, 'outcome', a.status, a.due_key, o.outcome, count(*) FROM action a "
    "JOIN action_outcome o ON o.action_id = a.id GROUP BY a.group_id, a.status, a.due_key, o.outcome",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT group_id, 'outcome', status, due_key, '*any', count(*) FROM action a "
    "WHERE EXISTS (SELECT 1 FROM action_outcome o WHERE o.action_id = a.id) GROUP BY group_id, status, due_key",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT group_id, 'outcome', status, due_key, '*many', count(*) FROM action a "
    "WHERE (SELECT count(*) FROM action_outcome o WHERE o.action_id = a.id) > 1 "
    "GROUP BY group_id, status, due_key",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT group_id, 'district', status, due_key, 'countywide', count(*) FROM action a "
    "WHERE a.countywide GROUP BY group_id, status, due_key",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT a.group_id, 'district', a.status, a.due_key, CAST(d.district_id AS VARCHAR(32)), count(*) "
    "FROM action a JOIN action_district d ON d.action_id = a.id WHERE NOT a.countywide "
    "GROUP BY a.group_id, a.status, a.due_key, d.district_id",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT group_id, 'district', status, due_key, '*any', count(*) FROM action a WHERE NOT a.countywide "
    "AND EXISTS (SELECT 1 FROM action_district d WHERE d.action_id = a.id) GROUP BY group_id, status, due_key",
    "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
    "SELECT group_id, 'district', status, due_key, '*many', count(*) FROM action a WHERE NOT a.countywide "
    "AND (SELECT count(*) FROM action_district d WHERE d.action_id = a.id) > 1 GROUP BY group_id, status, due_key",
    *NEWER,
]


def rebuild(session: Session) -> None:
    """Recounts every group's counters from the register (a repair; the counters are kept in step anyway)."""
    session.info.pop(_SUMS, None)
    session.execute(delete(ActionTally))
    for statement in REBUILD:
        session.execute(text(statement))


def snapshot(session: Session) -> dict[Cell, int]:
    """Every non-zero counter (for checks)."""
    rows = session.exec(select(ActionTally).where(col(ActionTally.n) != 0))
    return {(r.group_id, r.dimension, ActionStatus(r.status), r.due_key, r.bucket): r.n for r in rows}
