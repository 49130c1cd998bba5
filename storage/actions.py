"""The action register: queries and changes. Every change writes one `AuditEvent`; nothing is deleted.

Filters run in SQL on the indexed columns; a page of actions gets its owners, outcomes and districts with
one query each (no per-action queries). Countywide actions carry `countywide=True` and no district rows,
so they also cover districts added later.

Audit `changes` use these keys, each `[old, new]`: `title`, `organisation`, `due_date` and `snoozed_until`
(ISO dates), `status`, `rag` (enum values), `owners` (user ids), `outcomes` (enum values), `districts`
(district names, or the string "countywide"), `decision` ("D3"), `meeting_id`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypedDict

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    text,
    union_all,
)
from sqlalchemy import select as core_select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import operators
from sqlmodel import Session, SQLModel, col, select

from storage import audit, tally
from storage.binds import in_listed, listed_count, listed_key, listed_params
from storage.groups import districts_held, take_number
from storage.models import (
    DUE_NEVER,
    LIVE_STATUSES,
    Action,
    ActionDistrict,
    ActionNote,
    ActionOutcome,
    ActionOwner,
    ActionStatus,
    AuditEvent,
    Decision,
    District,
    Meeting,
    Outcome,
    Rag,
    TaskGroup,
    district_mask,
    outcome_mask,
    outcomes_of_mask,
)

COUNTYWIDE = "countywide"
_OUTCOME_ORDER = {o: i for i, o in enumerate(Outcome)}


@dataclass
class ActionFilter:
    group_id: int | None = None  # None = every group (the chaser jobs use that)
    statuses: tuple[ActionStatus, ...] | None = LIVE_STATUSES  # None = any status
    outcomes: list[Outcome] = field(default_factory=list)  # any of
    district_ids: list[int] = field(default_factory=list)  # any of; countywide actions always match
    owner: str | None = None  # Slack user id
    due_before: date | None = None  # due_date < this (overdue when given today)
    due_on_or_before: date | None = None
    due_from: date | None = None  # due_date >= this
    meeting_id: int | None = None  # raised at this meeting
    created_before: datetime | None = None
    # A meeting's matters arising: overdue on `arising_on`, or raised at any meeting but `arising_meeting_id`.
    arising_on: date | None = None
    arising_meeting_id: int | None = None

    @classmethod
    def matters_arising(cls, group_id: int, today: date, meeting_id: int | None = None) -> ActionFilter:
        """Open actions from earlier meetings (any but `meeting_id`) and every overdue action."""
        return cls(group_id=group_id, arising_on=today, arising_meeting_id=meeting_id)

    @classmethod
    def raised_at(cls, meeting_id: int) -> ActionFilter:
        """Every action raised at a meeting, whatever its status."""
        return cls(meeting_id=meeting_id, statuses=None)


class ActionRecord(NamedTuple):
    """An action's columns as a list reads them: plain values, typed as on `Action`, with no ORM identity
    (nothing to change or flush). A page of these loads in about half the time of `Action` objects; whatever
    changes an action loads the `Action` itself (`get_action`)."""

    id: int
    group_id: int
    number: int
    title: str
    organisation: str
    countywide: bool
    due_date: date | None
    due_key: date
    status: ActionStatus
    rag: Rag | None
    snoozed_until: date | None
    meeting_id: int | None
    decision_id: int | None
    source_link: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    outcome_mask: int
    district_mask: int


# A column added to Action but not here (or the reverse) fails at import, not in some list much later.
if set(ActionRecord._fields) != set(Action.__table__.columns.keys()):  # type: ignore[attr-defined]
    raise TypeError("ActionRecord's fields must be Action's columns")
_RECORD_COLUMNS = [Action.__table__.c[name] for name in ActionRecord._fields]  # type: ignore[attr-defined]

# What an ActionRow shows: a list's records, or the Action that a change (or `get_action`) loaded.
ShownAction = Action | ActionRecord


@dataclass
class ActionRow:
    action: ShownAction
    owners: list[str]  # Slack user ids
    outcomes: list[Outcome]
    districts: list[District]  # empty when countywide

    @property
    def number(self) -> int:
        return self.action.number

    @property
    def changeable(self) -> Action:
        """The `Action` to change: rows a change works on are loaded by `get_action`; a list's rows hold
        records, which have nothing to save."""
        if not isinstance(self.action, Action):
            raise TypeError(
                f"#{self.action.number} was read for a list: load it with get_action to change it"
            )
        return self.action

    @property
    def district_names(self) -> list[str] | str:
        """For the audit trail: names, or "countywide"."""
        return COUNTYWIDE if self.action.countywide else [d.name for d in self.districts]


def _outcome_link(outcomes: Any) -> Any:
    """Correlated: probes action_outcome's primary key (action_id, outcome) for the row at hand."""
    return (
        exists()
        .where(col(ActionOutcome.action_id) == col(Action.id), col(ActionOutcome.outcome).in_(outcomes))
        .correlate(Action)
    )


def _district_link(district_ids: Any = None) -> Any:
    where = [col(ActionDistrict.action_id) == col(Action.id)]
    if district_ids is not None:
        where.append(col(ActionDistrict.district_id).in_(district_ids))
    return exists().where(*where).correlate(Action)


def _district_bits() -> Any:
    """The filter's districts as one `district_mask` (their bits summed: a group's are distinct), read by an
    uncorrelated subquery, so once per statement."""
    bit = literal(1, BigInteger).op("<<")(col(District.bit))
    return (
        select(cast(func.coalesce(func.sum(bit), 0), BigInteger))
        .where(col(District.id).in_(_p("district_ids", expanding=True)), col(District.bit).is_not(None))
        .scalar_subquery()
    )


def _district_without_bit() -> Any:
    """Whether any of the filter's districts has no bit (a group's 64th district or later): uncorrelated."""
    return exists().where(
        col(District.id).in_(_p("district_ids", expanding=True)), col(District.bit).is_(None)
    )


def _district_links_counted() -> Any:
    """How many of the filter's districts the action at hand is linked to (correlated, not hashable)."""
    return (
        select(func.count())
        .where(
            col(ActionDistrict.action_id) == col(Action.id),
            col(ActionDistrict.district_id).in_(_p("district_ids", expanding=True)),
        )
        .correlate(Action)
        .scalar_subquery()
    )


Shape = tuple[str, ...]  # which of a filter's fields are set: the statements are built once per shape


def _shape(session: Session, f: ActionFilter) -> tuple[Shape, dict[str, Any]]:
    """The filter's shape and its values, as the bound parameters of `_where(shape)`. The shape names the
    database where a condition is written for its planner (one person's actions on PostgreSQL)."""
    values: dict[str, Any] = {
        "group_id": f.group_id,
        "outcomes": list(f.outcomes) or None,
        "district_ids": list(f.district_ids) or None,
        "owner": f.owner,
        "due_before": f.due_before,
        "due_on_or_before": f.due_on_or_before,
        "due_from": f.due_from,
        "meeting_id": f.meeting_id,
        "created_before": f.created_before,
        "arising_on": f.arising_on,
    }
    given = {k: v for k, v in values.items() if v is not None}
    params = {f"f_{k}": v for k, v in given.items()}
    if f.statuses is not None:  # a few values from five: bound one by one (storage.binds)
        given[listed_key("statuses", len(f.statuses))] = True
        params.update(listed_params("f_statuses", list(f.statuses)))
    mask = _held_district_mask(session, f.district_ids) if f.district_ids else None
    if mask is not None:  # the districts' bits are known here: the filter is one test of the action's mask
        del given["district_ids"], params["f_district_ids"]
        given["district_mask"], params["f_district_mask"] = mask, mask
    if (f.owner is not None or "district_ids" in given) and session.get_bind().dialect.name == "postgresql":
        given["postgresql"] = True
    if f.arising_on is not None:
        params["f_arising_meeting_id"] = f.arising_meeting_id or -1
    if f.due_from is not None:
        params["f_due_never"] = DUE_NEVER
    if f.outcomes:
        params["f_outcome_mask"] = outcome_mask(params.pop("f_outcomes"))
    return tuple(given), params


def _held_district_mask(session: Session, district_ids: Sequence[int]) -> int | None:
    """The `district_mask` of these districts when this transaction holds them all (the command's group's,
    `groups.hold_group_districts`) and each has a bit; else None, and the statement reads their bits."""
    held = districts_held(session)
    found = [held.get(i) for i in district_ids]
    if any(d is None or d.bit is None for d in found):
        return None
    return district_mask(d for d in found if d is not None)


_OWNED_BY_PG = text(
    "action.id = ANY(ARRAY(SELECT action_owner.action_id FROM action_owner WHERE action_owner.user_id = :f_owner))"
)


def _p(name: str, *, expanding: bool = False) -> Any:
    return bindparam(f"f_{name}", expanding=expanding)


@lru_cache(maxsize=256)  # shapes are few (one per combination of fields a command sets)
def _where(shape: Shape) -> tuple[Any, ...]:
    """The filter as SQL, with its values as bound parameters (`_shape`). Link filters are correlated EXISTS
    on the link tables' primary keys, so a list that walks the order index stops as soon as its page is full
    instead of reading every link row of the table. Due filters use `due_key` (no due date = DUE_NEVER),
    which the order indexes carry."""
    where: list[Any] = []
    if "group_id" in shape:
        where.append(col(Action.group_id) == _p("group_id"))
    statuses = listed_count(shape, "statuses")
    if statuses is not None:
        where.append(in_listed(col(Action.status), "f_statuses", statuses))
    # A list walking the order index tests each action it passes against these in the order written: the
    # district first, as it turns most of them away (one district of a dozen, against one outcome of five),
    # so fewer go on to the outcome probe (a third less work per page with both).
    # Both are tested on the action's masks, which the order index carries: no link table is read for an
    # action the walk turns away. The districts' mask is bound when the transaction holds them (a command's
    # group), else the statement reads their bits; only a district without a bit falls back to link rows.
    if "district_mask" in shape:
        where.append(
            or_(col(Action.countywide).is_(True), col(Action.district_mask).op("&")(_p("district_mask")) != 0)
        )
    elif "district_ids" in shape:
        if "postgresql" in shape:
            # PostgreSQL turns an EXISTS under OR into a hash of every link row of the district (11,000 at
            # 100k actions, read before the first row) when it expects to test many rows; a count it cannot
            # hash is one probe of the link's primary key per action, as on SQLite.
            linked = _district_links_counted() > 0
        else:
            linked = _district_link(_p("district_ids", expanding=True))
        where.append(
            or_(
                col(Action.countywide).is_(True),
                col(Action.district_mask).op("&")(_district_bits()) != 0,
                and_(_district_without_bit(), linked),
            )
        )
    if "outcomes" in shape:
        where.append(col(Action.outcome_mask).op("&")(_p("outcome_mask")) != 0)
    if "owner" in shape and "postgresql" in shape:
        # One person's actions are few: their ids first (an init plan), then those rows by primary key. As
        # `IN (SELECT …)` PostgreSQL's generic plan hashes every action of the group instead.
        where.append(_OWNED_BY_PG)
    elif "owner" in shape:
        # One person's actions are few: let the owner index drive (IN), rather than probing every action.
        owned = select(ActionOwner.action_id).where(col(ActionOwner.user_id) == _p("owner")).correlate(None)
        where.append(col(Action.id).in_(owned))
    if "due_before" in shape:
        where.append(col(Action.due_key) < _p("due_before"))
    if "due_on_or_before" in shape:
        where.append(col(Action.due_key) <= _p("due_on_or_before"))
    if "due_from" in shape:
        where.append(col(Action.due_key) >= _p("due_from"))
        where.append(col(Action.due_key) < _p("due_never"))
    if "meeting_id" in shape:
        where.append(col(Action.meeting_id) == _p("meeting_id"))
    if "created_before" in shape:
        where.append(col(Action.created_at) < _p("created_before"))
    if "arising_on" in shape:
        where.append(
            or_(
                col(Action.due_date) < _p("arising_on"),
                col(Action.meeting_id).is_not(None) & (col(Action.meeting_id) != _p("arising_meeting_id")),
            )
        )
    return tuple(where)


def _order(order: str) -> list[Any]:
    if order == "due":
        # due_key puts "no due date" last; with group_id fixed this is ix_action_group_due_key's order.
        return [col(Action.due_key), col(Action.group_id), col(Action.number)]
    if order == "organisation":  # matters arising: by owning organisation, then as "due"
        return [col(Action.organisation), col(Action.due_key), col(Action.number)]
    if order == "number":
        return [col(Action.group_id), col(Action.number)]
    if order == "created":
        return [col(Action.created_at), col(Action.id)]
    if order == "updated":
        return [col(Action.updated_at).desc(), col(Action.id).desc()]
    raise ValueError(f"unknown order {order!r}")


# A page's links, by the page's action ids: built once (an expanding IN), so each page only binds its ids.
_IDS: Any = bindparam("ids", expanding=True)
_PAGE_LINKS: Any = (
    union_all(  # (kind, action id, owner or outcome, district id): every link of a page's actions
        select(
            literal("w"), col(ActionOwner.action_id), col(ActionOwner.user_id), cast(null(), Integer)
        ).where(col(ActionOwner.action_id).in_(_IDS)),
        select(
            literal("o"), col(ActionOutcome.action_id), cast(col(ActionOutcome.outcome), String), null()
        ).where(col(ActionOutcome.action_id).in_(_IDS)),
        select(literal("d"), col(ActionDistrict.action_id), null(), col(ActionDistrict.district_id)).where(
            col(ActionDistrict.action_id).in_(_IDS)
        ),
    )
)


def load_rows(session: Session, actions: Sequence[ShownAction]) -> list[ActionRow]:
    """Wraps actions with their owners, outcomes and districts, whatever the count: their links in one
    statement (plain rows, prebuilt), and the districts from those the transaction already read, else in
    one more."""
    ids = [a.id for a in actions if a.id is not None]
    owners: dict[int, list[str]] = defaultdict(list)
    outcomes: dict[int, list[Any]] = defaultdict(list)
    district_ids: dict[int, list[int]] = defaultdict(list)
    if ids:
        for kind, action_id, value, district_id in (
            session.connection().execute(_PAGE_LINKS, {"ids": ids}).all()
        ):
            if kind == "w":
                owners[action_id].append(value)
            elif kind == "o":
                outcomes[action_id].append(value)
            else:
                district_ids[action_id].append(district_id)
    return _rows(session, actions, owners, outcomes, district_ids)


_NONE: list[Any] = []


def _rows(
    session: Session,
    actions: Sequence[ShownAction],
    owners: dict[int, list[str]],
    outcomes: dict[int, list[Any]],
    district_ids: dict[int, list[int]],
) -> list[ActionRow]:
    """`ActionRow`s from the actions and their links by action id (owners, outcome values, district ids):
    owners sorted, outcomes in their customary order, districts in their shown order (`_districts_by_id`)."""
    wanted = {i for found in district_ids.values() for i in found}
    known = {d.id: d for d in _districts_by_id(session, list(wanted)) if d.id is not None} if wanted else {}
    shown = {i: (d.position, d.name) for i, d in known.items()}
    rows = []
    for a in actions:  # (most actions have one owner, outcome or district: those need no sorting)
        key = a.id or 0
        its_owners = owners.get(key, _NONE)
        its_outcomes = outcomes.get(key, _NONE)
        its_districts = [] if a.countywide else [i for i in district_ids.get(key, _NONE) if i in known]
        if len(its_districts) > 1:
            its_districts.sort(key=shown.__getitem__)
        rows.append(
            ActionRow(
                action=a,
                owners=sorted(its_owners) if len(its_owners) > 1 else list(its_owners),
                outcomes=sorted(map(Outcome, its_outcomes), key=_OUTCOME_ORDER.__getitem__)
                if len(its_outcomes) > 1
                else [Outcome(o) for o in its_outcomes],
                districts=[known[i] for i in its_districts],
            )
        )
    return rows


@lru_cache(maxsize=256)
def _page_statement(shape: Shape, order: str, limited: bool, offset: bool) -> Any:
    query = core_select(*_RECORD_COLUMNS).where(*_where(shape)).order_by(*_order(order))
    if limited:
        query = query.limit(bindparam("f_limit"))
    if offset:
        query = query.offset(bindparam("f_offset"))
    return query


def select_actions(
    session: Session,
    f: ActionFilter,
    *,
    limit: int | None = None,
    offset: int = 0,
    order: str = "due",
    extra: Sequence[Any] = (),
) -> list[ActionRecord]:
    """The matching actions alone, as records (see `list_actions`); `extra` adds SQL conditions. Without
    `extra` the statement is built once per filter shape, and each call only binds its values."""
    shape, params = _shape(session, f)
    if extra:
        query = core_select(*_RECORD_COLUMNS).where(*_where(shape), *extra).order_by(*_order(order))
        query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
    else:
        query = _page_statement(shape, order, limit is not None, bool(offset))
        if limit is not None:
            params["f_limit"] = limit
        if offset:
            params["f_offset"] = offset
    session.flush()  # this transaction's own changes are read back, as a query for Action objects would
    return [ActionRecord._make(r) for r in session.connection().execute(query, params)]


def list_actions(
    session: Session, f: ActionFilter, *, limit: int | None = None, offset: int = 0, order: str = "due"
) -> list[ActionRow]:
    """Matching actions, by due date (no due date last) then number unless `order` says otherwise
    ("number", "created", "updated", "organisation"). A page (`limit`) comes with its links in the same
    statement (`_linked_page_statement`); a whole list reads its links as `load_rows` does."""
    if limit is None:
        return load_rows(session, select_actions(session, f, order=order))
    return _linked_page(session, f, limit=limit, offset=offset, order=order, counted=False)[0]


def _linked_page(
    session: Session, f: ActionFilter, *, limit: int, offset: int, order: str, counted: bool
) -> tuple[list[ActionRow], int | None]:
    """A page of `list_actions` and, when `counted` and the counters can say (`_counter_cells`), how many
    actions match in all, read by the same statement (None when they cannot, or no row came back)."""
    shape, params = _shape(session, f)
    params["f_limit"] = limit
    if offset:
        params["f_offset"] = offset
    tallied: Shape | None = None
    if (
        counted and f.owner is None
    ):  # one person's actions are few: their page is seldom full, and needs no count
        cells = _counter_cells(f)
        if cells is not None:
            tallied, total_params = _total_parameters(f, cells)
            params.update(total_params)
    dialect = session.get_bind().dialect.name
    session.flush()  # this transaction's own changes are read back, as a query for Action objects would
    records: list[ShownAction] = []
    owners: dict[int, list[str]] = {}
    outcomes: dict[int, list[Any]] = {}
    district_ids: dict[int, list[int]] = {}
    total: int | None = None
    statement = _linked_page_statement(shape, order, bool(offset), dialect, tallied)
    found = session.connection().execute(statement, params)
    width = len(_RECORD_COLUMNS)
    if dialect == "postgresql":  # arrays, as lists (NULL when there are none)
        for row in found:
            record = ActionRecord._make(row[:width])
            records.append(record)
            its_owners, its_districts = row[width : width + 2]
            if its_owners:
                owners[record.id] = its_owners
            if record.outcome_mask:
                outcomes[record.id] = outcomes_of_mask(record.outcome_mask)
            if its_districts:
                district_ids[record.id] = its_districts
            if tallied is not None:
                total = int(row[width + 2] or 0)
    else:  # owners as a JSON array, district ids comma-separated
        for row in found:
            record = ActionRecord._make(row[:width])
            records.append(record)
            its_owners, its_districts = row[width : width + 2]
            if its_owners != "[]":
                owners[record.id] = _json_strings(its_owners)
            if record.outcome_mask:
                outcomes[record.id] = outcomes_of_mask(record.outcome_mask)
            if its_districts:
                district_ids[record.id] = [int(i) for i in its_districts.split(",")]
            if tallied is not None:
                total = int(row[width + 2] or 0)
    return _rows(session, records, owners, outcomes, district_ids), total


class _DueWindow(TypedDict):
    due_before: date | None
    due_on_or_before: date | None
    due_from: date | None


def _due_window(f: ActionFilter) -> _DueWindow:
    """The filter's due dates as the counters take them (`tally.sums`, `tally.total_parameters`)."""
    return {"due_before": f.due_before, "due_on_or_before": f.due_on_or_before, "due_from": f.due_from}


def _total_parameters(f: ActionFilter, cells: list[tuple[str, str]]) -> tuple[Shape, dict[str, Any]]:
    """The arguments `_counted_by_tally` passes to `tally.sums`, as `tally.total_statement`'s shape and
    parameters: the cells share one dimension (`_counter_cells`), so the sum over the dimension and buckets
    given is the sum over the cells."""
    assert f.group_id is not None
    dimensions = list(dict.fromkeys(d for d, _ in cells))
    buckets = None if cells == [(tally.ALL, "")] else list(dict.fromkeys(b for _, b in cells))
    return tally.total_parameters(f.group_id, dimensions, f.statuses, buckets=buckets, **_due_window(f))


def _json_strings(found: str) -> list[str]:
    """A JSON array of strings as SQLite's json_group_array writes it (`["U1","U2"]`: nothing escaped that
    need not be). With no backslash in it no string holds a quote (JSON writes one as a backslash and a
    quote), so it splits exactly on `","`; anything escaped is decoded in full."""
    if "\\" in found:
        return list(json.loads(found))
    return found[2:-2].split('","')


_OWNER_ACTION, _DISTRICT_ACTION = col(ActionOwner.action_id), col(ActionDistrict.action_id)


@lru_cache(maxsize=256)
def _linked_page_statement(
    shape: Shape, order: str, offset: bool, dialect: str, tallied: Shape | None
) -> Any:
    """One page of records (`_page_statement`) and, per action, its owners and district ids: each a
    correlated aggregate over its link table's primary key (action_id first), run for the page's rows alone
    (the page is a limited subquery), so a page and its links are one statement. Its outcomes need no read:
    the record's `outcome_mask` holds them exactly. PostgreSQL gives arrays; SQLite a JSON array of the
    owners (any text) and the district ids (integers) comma-separated. With `tallied`, a last column says
    how many match in all, from the counters (`tally.total_statement`: uncorrelated, so read once)."""
    page = _page_statement(shape, order, True, offset).subquery("page")

    def linked(aggregate: Any, action_id: Any) -> Any:
        return select(aggregate).where(action_id == page.c.id).scalar_subquery()

    if dialect == "postgresql":
        links = [
            linked(func.array_agg(col(ActionOwner.user_id)), _OWNER_ACTION),
            linked(func.array_agg(col(ActionDistrict.district_id)), _DISTRICT_ACTION),
        ]
    else:
        links = [
            linked(func.json_group_array(col(ActionOwner.user_id)), _OWNER_ACTION),
            linked(func.group_concat(col(ActionDistrict.district_id), ","), _DISTRICT_ACTION),
        ]
    ordering = []
    for term in _order(order):
        descending = getattr(term, "modifier", None) is operators.desc_op
        column = page.c[(term.element if descending else term).name]
        ordering.append(column.desc() if descending else column)
    if tallied is not None:
        links.append(tally.total_statement(tallied).scalar_subquery())
    return core_select(*[page.c[c.name] for c in _RECORD_COLUMNS], *links).order_by(*ordering)


@dataclass(frozen=True)
class ChaseRef:
    """An action as the chaser jobs plan it: where it is, when it was due, whether it is snoozed, and who
    owns it. Planning needs no more (the message is built from current data when it is sent), so a day's
    10,000 overdue actions load as plain rows, not as ORM objects with their links."""

    group_id: int
    number: int
    due_date: date | None
    snoozed_until: date | None
    owners: tuple[str, ...]


def chase_refs(session: Session, f: ActionFilter) -> list[ChaseRef]:
    """The actions matching `f`, in list order ("due"), as `ChaseRef`s: one statement of plain rows (an action
    with two owners comes twice), built once per filter shape, whatever the count."""
    shape, params = _shape(session, f)
    found: dict[int, tuple[int, int, date | None, date | None, list[str]]] = {}
    for action_id, group_id, number, due_date, snoozed_until, owner in session.connection().execute(
        _chase_statement(shape), params
    ):
        ref = found.setdefault(action_id, (group_id, number, due_date, snoozed_until, []))
        if owner is not None:
            ref[4].append(owner)
    return [
        ChaseRef(group_id, number, due_date, snoozed_until, tuple(sorted(owners)))
        for group_id, number, due_date, snoozed_until, owners in found.values()
    ]


@lru_cache(maxsize=64)
def _chase_statement(shape: Shape) -> Any:
    return (
        core_select(  # SQLAlchemy's: sqlmodel's select types at most four columns
            col(Action.id),
            col(Action.group_id),
            col(Action.number),
            col(Action.due_date),
            col(Action.snoozed_until),
            col(ActionOwner.user_id),
        )
        .outerjoin(ActionOwner, col(ActionOwner.action_id) == col(Action.id))
        .where(*_where(shape))
        .order_by(*_order("due"))
    )


def _tallied_filter(f: ActionFilter) -> bool:
    """Whether the counters (`storage.tally`) answer a grouping of the filter: a group's statuses and due
    dates alone (an outcome, district or owner filter is grouped live)."""
    return not (
        f.group_id is None
        or f.outcomes
        or f.district_ids
        or f.owner is not None
        or f.meeting_id is not None
        or f.created_before is not None
        or f.arising_on is not None
    )


def _counter_cells(f: ActionFilter) -> list[tuple[str, str]] | None:
    """The counters whose sum is how many actions match, or None when they cannot say: a group's statuses
    and due dates with at most one outcome, one district (countywide actions match too) or one owner (not
    with an outcome or district). Several outcomes or districts would count an action in two of them twice."""
    if (
        f.group_id is None
        or f.meeting_id is not None
        or f.created_before is not None
        or f.arising_on is not None
    ):
        return None
    outcomes, districts = set(f.outcomes), set(f.district_ids)
    if len(outcomes) > 1 or len(districts) > 1:
        return None
    if f.owner is not None:
        return None if outcomes or districts else [(tally.OWNER, f.owner)]
    if outcomes and districts:
        outcome, district = next(iter(outcomes)), next(iter(districts))
        return [
            (tally.PAIR, tally.pair(outcome, district)),
            (tally.PAIR, tally.pair(outcome, tally.COUNTYWIDE)),
        ]
    if outcomes:
        return [(tally.OUTCOME, Outcome(next(iter(outcomes))).value)]
    if districts:
        return [(tally.DISTRICT, str(next(iter(districts)))), (tally.DISTRICT, tally.COUNTYWIDE)]
    return [(tally.ALL, "")]


def _tally_sums(
    session: Session, f: ActionFilter, dimensions: list[str], buckets: list[str] | None = None
) -> dict[tuple[str, str], int]:
    assert f.group_id is not None
    return tally.sums(session, f.group_id, dimensions, f.statuses, buckets=buckets, **_due_window(f))


def _counted_by_tally(session: Session, f: ActionFilter) -> int | None:
    cells = _counter_cells(f)
    if cells is None:
        return None
    if cells == [(tally.ALL, "")]:
        sums = _tally_sums(session, f, [tally.ALL])
    else:
        sums = _tally_sums(
            session, f, list(dict.fromkeys(d for d, _ in cells)), list(dict.fromkeys(b for _, b in cells))
        )
    return sum(sums.get(cell, 0) for cell in cells)


def count_actions(session: Session, f: ActionFilter) -> int:
    """How many actions match: from the counters where they can say (`_counter_cells`), else live."""
    counted = _counted_by_tally(session, f)
    return count_live(session, f) if counted is None else counted


@lru_cache(maxsize=64)
def _count_statement(shape: Shape) -> Any:
    return select(func.count()).select_from(Action).where(*_where(shape))


@lru_cache(maxsize=64)
def _capped_count_statement(shape: Shape) -> Any:
    first = select(col(Action.id)).where(*_where(shape)).limit(bindparam("f_bound")).subquery()
    return select(func.count()).select_from(first)


def count_live(session: Session, f: ActionFilter) -> int:
    """`count_actions` from the actions themselves (every match is read)."""
    shape, params = _shape(session, f)
    return int(session.exec(_count_statement(shape), params=params).one())


def page_of_actions(
    session: Session, f: ActionFilter, *, limit: int, offset: int = 0, order: str = "due"
) -> tuple[list[ActionRow], int]:
    """One page of matching actions and how many match in all. The count is only run when the page cannot
    tell it: a short page already says where the list ends."""
    rows = list_actions(session, f, limit=limit, offset=offset, order=order)
    if 0 < len(rows) < limit or (offset == 0 and not rows):
        return rows, offset + len(rows)
    return rows, count_actions(session, f)


COUNT_CAP = 1000  # a list counted live stops counting here: "1,000+ actions"


@dataclass(frozen=True)
class Page:
    rows: list[ActionRow]
    total: int  # matching actions; at least this many when not `exact`
    exact: bool

    @property
    def shown_total(self) -> str:
        return f"{self.total:,}" if self.exact else f"{self.total:,}+"


def capped_page(
    session: Session, f: ActionFilter, *, limit: int, offset: int = 0, cap: int = COUNT_CAP
) -> Page:
    """One page of matching actions (due order) and how many match, exactly where that is cheap: a short
    page says where the list ends, and the counters (`storage.tally`) answer status and due filters with one
    outcome, one district, both, or one owner. Any other filter is counted only up to `cap` (or the page's end, if further): cost follows the page, and a
    long list says "1,000+" rather than read every match."""
    rows, counted = _linked_page(session, f, limit=limit, offset=offset, order="due", counted=True)
    if 0 < len(rows) < limit or (offset == 0 and not rows):
        return Page(rows, offset + len(rows), True)
    if counted is None:  # the counters cannot say, or no row came back to say it (a page past the end)
        counted = _counted_by_tally(session, f)
    if counted is not None:
        return Page(rows, counted, True)
    bound = max(cap, offset + 2 * limit)  # past the next page: a "Next page" is offered while more remain
    shape, params = _shape(session, f)
    params["f_bound"] = bound + 1
    found = int(session.exec(_capped_count_statement(shape), params=params).one())
    return Page(rows, min(found, bound), found <= bound)


# --- `by:` groupings: counts in SQL, rows only for the page shown ------------------------------------------

GroupKey = str | int | None  # outcome value, district id or COUNTYWIDE, user id, organisation; None = "none"


@dataclass(frozen=True)
class GroupCount:
    by: str
    key: GroupKey
    count: int  # matching actions in this group
    district: District | None = None  # by district: the district (removed ones too: old actions keep theirs)


@dataclass(frozen=True)
class GroupSummary:
    actions: int  # matching actions
    repeated: int  # of which in more than one group (shown under each)


def _link_count(by: str) -> Any:
    """How many groups of `by` one action is in (correlated, on the link table's primary key)."""
    link = {"outcome": ActionOutcome, "district": ActionDistrict, "owner": ActionOwner}[by]
    counted = (
        select(func.count())
        .select_from(link)
        .where(col(link.action_id) == col(Action.id))  # type: ignore[attr-defined]
        .correlate(Action)
        .scalar_subquery()
    )
    if by == "district":  # countywide actions are in the "Countywide" group only
        return case((col(Action.countywide).is_(True), 1), else_=counted)
    return counted


_GROUPINGS = (tally.OUTCOME, tally.DISTRICT, tally.OWNER, tally.ORGANISATION)


def _tallied(session: Session, f: ActionFilter, by: str) -> dict[tuple[str, str], int] | None:
    """The counters a `by:` grouping needs, or None when they cannot answer it."""
    if not _tallied_filter(f) or by not in _GROUPINGS:
        return None
    return _tally_sums(session, f, [tally.ALL, by])


def group_counts(session: Session, f: ActionFilter, by: str) -> list[GroupCount]:
    """Matching actions per group (an action in two groups counts in both), from the counters where they
    answer the filter, else one GROUP BY. Unordered."""
    sums = _tallied(session, f, by)
    if sums is None:
        return group_counts_live(session, f, by)
    actions = sums.get((tally.ALL, ""), 0)
    linked = sums.get((by, tally.ANY), 0)
    found: list[GroupCount] = []
    if by == tally.OWNER:
        return [GroupCount(by, b, n) for (d, b), n in sums.items() if d == by and n > 0 and b != tally.MANY]
    if by == tally.ORGANISATION:
        return [GroupCount(by, b or None, n) for (d, b), n in sums.items() if d == by and n > 0]
    if by == "outcome":
        found = [GroupCount(by, o.value, sums[(by, o.value)]) for o in Outcome if sums.get((by, o.value))]
        if actions - linked:
            found.append(GroupCount(by, None, actions - linked))
        return found
    countywide = sums.get((by, tally.COUNTYWIDE), 0)
    ids = [int(b) for (d, b), n in sums.items() if d == by and n and b.isdigit()]
    districts = {d.id: d for d in _districts_by_id(session, ids)}
    found = [GroupCount(by, i, sums[(by, str(i))], districts.get(i)) for i in ids]
    if countywide:
        found.append(GroupCount(by, COUNTYWIDE, countywide))
    if actions - countywide - linked:
        found.append(GroupCount(by, None, actions - countywide - linked))
    return found


def group_counts_live(session: Session, f: ActionFilter, by: str) -> list[GroupCount]:
    """`group_counts` from the actions themselves: one GROUP BY over every match."""
    shape, params = _shape(session, f)
    where = _where(shape)
    key: Any
    if by == "outcome":
        key = col(ActionOutcome.outcome)
        query = (
            select(key, func.count())
            .select_from(Action)
            .outerjoin(ActionOutcome, col(ActionOutcome.action_id) == col(Action.id))
        )
    elif by == "district":
        key = case((col(Action.countywide).is_(True), -1), else_=col(ActionDistrict.district_id))
        query = (
            select(key, func.count())
            .select_from(Action)
            .outerjoin(
                ActionDistrict,
                and_(col(ActionDistrict.action_id) == col(Action.id), col(Action.countywide).is_(False)),
            )
        )
    elif by == "owner":
        key = col(ActionOwner.user_id)
        query = (
            select(key, func.count())
            .select_from(Action)
            .join(ActionOwner, col(ActionOwner.action_id) == col(Action.id))
        )
    elif by == "organisation":
        key = col(Action.organisation)
        query = select(key, func.count()).select_from(Action)
    else:
        raise ValueError(f"unknown grouping {by!r}")
    found = [(k, int(n)) for k, n in session.exec(query.where(*where).group_by(key), params=params)]
    if by == "district":
        districts = {d.id: d for d in _districts_by_id(session, [k for k, _ in found if k not in (None, -1)])}
        return [
            GroupCount(by, COUNTYWIDE if k == -1 else k, n, districts.get(k) if k not in (None, -1) else None)
            for k, n in found
        ]
    if by == "outcome":
        return [GroupCount(by, Outcome(k).value if k is not None else None, n) for k, n in found]
    if by == "organisation":
        return [GroupCount(by, k or None, n) for k, n in found]
    return [GroupCount(by, k, n) for k, n in found]


def group_summary(session: Session, f: ActionFilter, by: str) -> GroupSummary:
    """How many actions match, and how many of them are in more than one group: one pass."""
    if by == tally.ORGANISATION:
        return GroupSummary(count_actions(session, f), 0)
    sums = _tallied(session, f, by)
    if sums is not None:
        return GroupSummary(sums.get((tally.ALL, ""), 0), sums.get((by, tally.MANY), 0))
    return group_summary_live(session, f, by)


def group_summary_live(session: Session, f: ActionFilter, by: str) -> GroupSummary:
    """`group_summary` from the actions themselves: one pass over every match."""
    if by == "organisation":
        return GroupSummary(count_live(session, f), 0)
    many = case((_link_count(by) > 1, 1), else_=0)
    shape, params = _shape(session, f)
    total, repeated = session.exec(
        select(func.count(), func.coalesce(func.sum(many), 0)).select_from(Action).where(*_where(shape)),
        params=params,
    ).one()
    return GroupSummary(int(total), int(repeated))


def repeated_numbers(session: Session, f: ActionFilter, by: str, *, limit: int) -> list[int]:
    """Numbers of the first matching actions (due order) that are in more than one group."""
    if by == "organisation":
        return []
    shape, params = _shape(session, f)
    query = (
        select(col(Action.number))
        .where(*_where(shape), _link_count(by) > 1)
        .order_by(*_order("due"))
        .limit(limit)
    )
    return [int(n) for n in session.exec(query, params=params)]


def _in_group(by: str, key: GroupKey) -> Any:
    if by == "outcome":
        if key is None:
            return ~exists().where(col(ActionOutcome.action_id) == col(Action.id)).correlate(Action)
        return _outcome_link([Outcome(str(key))])
    if by == "district":
        if key == COUNTYWIDE:
            return col(Action.countywide).is_(True)
        linked = _district_link() if key is None else _district_link([int(key)])
        return and_(col(Action.countywide).is_(False), ~linked if key is None else linked)
    if by == "owner":
        return (
            exists()
            .where(col(ActionOwner.action_id) == col(Action.id), col(ActionOwner.user_id) == key)
            .correlate(Action)
        )
    if by == "organisation":
        return col(Action.organisation) == (key or "")
    raise ValueError(f"unknown grouping {by!r}")


def actions_in_group(
    session: Session, f: ActionFilter, by: str, keys: Sequence[GroupKey], *, limit: int, offset: int = 0
) -> list[ActionRecord]:
    """A slice (due order) of the matching actions in the group named by `keys` (several keys: one group
    shown under one heading, e.g. two spellings of an organisation)."""
    return select_actions(
        session, f, limit=limit, offset=offset, extra=[or_(*[_in_group(by, k) for k in keys])]
    )


_BY_NUMBER = select(Action).where(
    col(Action.group_id) == bindparam("group_id"), col(Action.number) == bindparam("number")
)


def get_action(session: Session, group_id: int, number: int) -> ActionRow | None:
    action = session.exec(_BY_NUMBER, params={"group_id": group_id, "number": number}).first()
    return load_rows(session, [action])[0] if action else None


def get_action_by_id(session: Session, action_id: int) -> ActionRow | None:
    """For buttons and jobs that carry the action's id rather than its number."""
    action = session.get(Action, action_id)
    return load_rows(session, [action])[0] if action else None


def links(session: Session, action: ShownAction) -> tuple[Decision | None, Meeting | None]:
    """The decision and the meeting an action came from, if any."""
    decision = session.get(Decision, action.decision_id) if action.decision_id is not None else None
    meeting = session.get(Meeting, action.meeting_id) if action.meeting_id is not None else None
    return decision, meeting


_DISTRICTS_BY_ID: Any = select(District).where(col(District.id).in_(bindparam("ids", expanding=True)))


def _districts_by_id(session: Session, district_ids: Sequence[int]) -> list[District]:
    """Districts in their shown order. When the command already read the group's districts (to parse
    `district:`), they are taken from there and no query is sent."""
    wanted = list(dict.fromkeys(district_ids))
    if not wanted:
        return []
    held = districts_held(session)
    if all(i in held for i in wanted):
        found = [held[i] for i in wanted]
    else:
        found = list(session.exec(_DISTRICTS_BY_ID, params={"ids": wanted}))
    return sorted(found, key=lambda d: (d.position, d.name))


def _decision_label(session: Session, decision_id: int | None) -> str | None:
    if decision_id is None:
        return None
    decision = session.get(Decision, decision_id)
    return f"D{decision.number}" if decision else f"decision {decision_id}"


def create_action(
    session: Session,
    group: TaskGroup,
    record: NewActionRecord,
    *,
    by: str,
    at: datetime,
    meeting_id: int | None = None,
    decision_id: int | None = None,
    source_link: str | None = None,
    verb: str = "created",
    note: str | None = None,
) -> ActionRow:
    """Adds an action with the group's next number and audits it (`verb`: "created", or "imported" with
    the file's name as the note).

    The number is taken with one UPDATE … RETURNING on the group row (`storage.groups.take_number`), so two
    people adding at once never get the same number.
    """
    if record.status != ActionStatus.OPEN:
        raise ValueError("a new action starts open")
    title, organisation, due_date, countywide = (
        record.title,
        record.organisation,
        record.due_date,
        record.countywide,
    )
    assert group.id is not None
    owner_ids = list(dict.fromkeys(record.owners))
    outcome_list = sorted(dict.fromkeys(record.outcomes), key=_OUTCOME_ORDER.__getitem__)
    districts = [] if countywide else _districts_by_id(session, list(dict.fromkeys(record.district_ids)))
    changes: dict[str, Any] = {
        "title": [None, title],
        "owners": [None, sorted(owner_ids)],
        "organisation": [None, organisation],
        "due_date": [None, due_date],
        "outcomes": [None, outcome_list],
        "districts": [None, COUNTYWIDE if countywide else [d.name for d in districts]],
    }
    if meeting_id is not None:
        changes["meeting_id"] = [None, meeting_id]
    if decision_id is not None:
        changes["decision"] = [None, _decision_label(session, decision_id)]
    if source_link is not None:
        changes["source_link"] = [None, source_link]
    action = Action(
        group_id=group.id,
        number=0,  # taken below
        title=title,
        organisation=organisation,
        countywide=countywide,
        due_date=due_date,
        due_key=due_date or DUE_NEVER,
        status=ActionStatus.OPEN,
        meeting_id=meeting_id,
        decision_id=decision_id,
        source_link=source_link,
        created_by=by,
        created_at=at,
        updated_at=at,
        outcome_mask=outcome_mask(outcome_list),
        district_mask=district_mask(districts),
    )
    row = ActionRow(action=action, owners=sorted(owner_ids), outcomes=outcome_list, districts=districts)
    new = _NewAction(action, row, changes, by, at, verb, note)
    if session.get_bind().dialect.name == "postgresql":
        _insert_action_at_once(session, new)
    else:
        _insert_action_rows(session, new)
    return row


class _NewAction(NamedTuple):
    """What `create_action` writes: the action (its number and id still to come) in its row, and its audit."""

    action: Action
    row: ActionRow
    changes: dict[str, Any]
    by: str
    at: datetime
    verb: str
    note: str | None


def _insert_action_rows(session: Session, new: _NewAction) -> None:
    """`create_action` elsewhere (SQLite): the number (`take_number`), then the action, its links and its
    audit event straight to the driver, each value through its column type as SQLAlchemy would send it
    (`_load`): the ORM's unit of work cost more than these writes. `row.action` then joins the session as
    the stored row, as on PostgreSQL."""
    action, row, changes, by, at, verb, note = new
    assert action.group_id is not None
    action.number = take_number(session, action.group_id, "next_action_number")
    session.flush()  # anything the ORM holds (a meeting, a decision) before the rows that refer to it
    connection = session.connection()
    columns = _ACTION_COLUMNS
    processors = _bind_processors(Action, columns, connection.dialect)
    values = [getattr(action, c) for c in columns]
    cursor = connection.exec_driver_sql(
        f"INSERT INTO action ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        tuple(v if p is None else p(v) for p, v in zip(processors, values, strict=True)),
    )
    action.id = cursor.lastrowid
    _load(session, ActionOwner, ("action_id", "user_id"), [(action.id, u) for u in row.owners])
    _load(session, ActionOutcome, ("action_id", "outcome"), [(action.id, o) for o in row.outcomes])
    _load(session, ActionDistrict, ("action_id", "district_id"), [(action.id, d.id) for d in row.districts])
    tally.apply(session, _counted(row))
    stored = audit.plain_changes(changes)
    _load(
        session,
        AuditEvent,
        ("group_id", "entity", "entity_id", "user_id", "at", "verb", "changes", "note"),
        [(action.group_id, "action", action.id, by, _utc(at), verb, stored, note)],
    )
    make_transient_to_detached(action)
    session.add(action)
    audit.announce(action.group_id, "action", action.id, by, stored)


_ACTION_COLUMNS = tuple(c.name for c in Action.__table__.columns if c.name != "id")  # type: ignore[attr-defined]


@lru_cache(maxsize=32)
def _bind_processors(model: type[SQLModel], columns: tuple[str, ...], dialect: Any) -> list[Any]:
    """Each column's bind processor on `dialect` (None where it has none), as SQLAlchemy applies them."""
    table = _table(model)
    return [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


# PostgreSQL: a new action in one statement (a round trip, where the ORM sends seven): its number from the
# group's counter (the UPDATE's row lock, held to commit, as `take_number`), the action, its link rows, its
# counters (`storage.tally`) and its audit event. Data-modifying CTEs run once each, on one snapshot; the
# links' foreign keys are checked at the statement's end, when the action row is there.
_INSERT_ACTION_AT_ONCE = text(
    "WITH n AS ("
    " UPDATE task_group SET next_action_number = next_action_number + 1 WHERE id = :group_id"
    " RETURNING next_action_number - 1 AS number"
    "), a AS ("
    " INSERT INTO action (group_id, number, title, organisation, countywide, due_date, due_key, status,"
    " rag, snoozed_until, meeting_id, decision_id, source_link, created_by, created_at, updated_at,"
    " completed_at, outcome_mask, district_mask)"
    " SELECT :group_id, n.number, CAST(:title AS varchar), CAST(:organisation AS varchar),"
    " CAST(:countywide AS boolean), CAST(:due_date AS date), CAST(:due_key AS date), CAST(:status AS varchar),"
    " NULL, NULL, CAST(:meeting_id AS integer), CAST(:decision_id AS integer), CAST(:source_link AS varchar),"
    " CAST(:by AS varchar), CAST(:at AS timestamptz), CAST(:at AS timestamptz), NULL,"
    " CAST(:outcome_mask AS integer), CAST(:district_mask AS bigint) FROM n"
    " RETURNING id, number"
    "), owners AS ("
    " INSERT INTO action_owner (action_id, user_id)"
    " SELECT a.id, u FROM a, unnest(CAST(:owners AS varchar[])) AS u"
    "), outcomes AS ("
    " INSERT INTO action_outcome (action_id, outcome)"
    " SELECT a.id, o FROM a, unnest(CAST(:outcomes AS varchar[])) AS o"
    "), districts AS ("
    " INSERT INTO action_district (action_id, district_id)"
    " SELECT a.id, d FROM a, unnest(CAST(:districts AS integer[])) AS d"
    f"), counters AS ({tally.PG_UPSERT_SQL}"
    "), event AS ("
    " INSERT INTO audit_event (group_id, entity, entity_id, user_id, at, verb, changes, note)"
    " SELECT :group_id, 'action', a.id, CAST(:by AS varchar), CAST(:at AS timestamptz),"
    " CAST(:verb AS varchar), CAST(:changes AS json), CAST(:note AS varchar) FROM a"
    ") SELECT id, number FROM a"
)


def _insert_action_at_once(session: Session, new: _NewAction) -> None:
    """`create_action` on PostgreSQL: `_INSERT_ACTION_AT_ONCE`, then `row.action` joins the session as the
    stored row (no read back), and the group's loaded counter and this transaction's remembered sums are
    kept in step as the ORM path keeps them (`row` holds `action`)."""
    action, row, changes, by, at, verb, note = new
    stored = audit.plain_changes(changes)
    session.flush()  # anything the ORM holds (a meeting, a decision) before the rows that refer to it
    action_id, number = session.execute(
        _INSERT_ACTION_AT_ONCE,
        {
            "group_id": action.group_id,
            "title": action.title,
            "organisation": action.organisation,
            "countywide": action.countywide,
            "due_date": action.due_date,
            "due_key": action.due_key,
            "status": action.status.value,
            "meeting_id": action.meeting_id,
            "decision_id": action.decision_id,
            "source_link": action.source_link,
            "by": by,
            "at": _utc(at),
            "outcome_mask": action.outcome_mask,
            "district_mask": action.district_mask,
            "owners": row.owners,
            "outcomes": [Outcome(o).value for o in row.outcomes],
            "districts": [d.id for d in row.districts],
            "verb": verb,
            "changes": json.dumps(stored),
            "note": note,
            **tally.pg_upsert_params(_counted(row)),
        },
    ).one()
    action.id, action.number = action_id, number
    make_transient_to_detached(action)
    session.add(action)
    held = session.identity_map.get(session.identity_key(TaskGroup, action.group_id))
    if held is not None:
        set_committed_value(held, "next_action_number", number + 1)
    tally.forget_sums(session)
    audit.announce(action.group_id, "action", action_id, by, stored)


@dataclass
class NewActionRecord:
    """One action for `bulk_create_actions` (as `create_action` takes it)."""

    title: str
    owners: Sequence[str]
    organisation: str = ""
    due_date: date | None = None
    outcomes: Sequence[Outcome] = ()
    district_ids: Sequence[int] = ()
    countywide: bool = False
    status: ActionStatus = ActionStatus.OPEN


def bulk_create_actions(
    session: Session,
    group: TaskGroup,
    records: Sequence[NewActionRecord],
    *,
    by: str,
    at: datetime,
    verb: str = "created",
    note: str | None = None,
) -> list[int]:
    """Adds many actions at once (a spreadsheet import, benchmarks): numbered in order under one UPDATE of
    the group's counter, each with its audit event (`verb` and `note` as `create_action` takes them) and
    the same rows, links and counters as `create_action` would leave, in a handful of statements instead
    of ~8 per action. Returns the new actions' ids, in the records' order (their numbers are consecutive).

    The rows go in with `_load` (COPY on PostgreSQL, one executemany elsewhere), without RETURNING: the
    numbers first…first+n-1 are this call's alone (taken under the group row's lock), so one indexed
    SELECT on (group_id, number) reads the ids back."""
    if not records:
        return []
    assert group.id is not None
    first = take_number(session, group.id, "next_action_number", len(records))
    stamp = _utc(at)
    action_columns = (
        "group_id",
        "number",
        "title",
        "organisation",
        "countywide",
        "due_date",
        "due_key",
        "status",
        "created_by",
        "created_at",
        "updated_at",
        "completed_at",
        "outcome_mask",
        "district_mask",
    )
    statuses = [ActionStatus(r.status) for r in records]
    owners = [list(dict.fromkeys(r.owners)) for r in records]
    outcomes = [sorted(dict.fromkeys(r.outcomes), key=_OUTCOME_ORDER.__getitem__) for r in records]
    wanted = {d for r in records if not r.countywide for d in r.district_ids}
    held = {d.id: d for d in _districts_by_id(session, list(wanted))}
    # As `create_action`: only districts that exist, in their shown order.
    districts = [
        []
        if r.countywide
        else sorted((held[d] for d in dict.fromkeys(r.district_ids) if d in held), key=_shown)
        for r in records
    ]
    _load(
        session,
        Action,
        action_columns,
        [
            (
                group.id,
                first + i,
                r.title,
                r.organisation,
                r.countywide,
                r.due_date,
                r.due_date or DUE_NEVER,
                status.value,
                by,
                stamp,
                stamp,
                stamp if status == ActionStatus.DONE else None,
                outcome_mask(os_),
                district_mask(ds),
            )
            for i, (r, status, os_, ds) in enumerate(zip(records, statuses, outcomes, districts, strict=True))
        ],
    )
    by_number: dict[int, int] = {
        number: action_id
        for number, action_id in session.execute(
            _IDS_BY_NUMBER, {"group_id": group.id, "first": first, "last": first + len(records) - 1}
        )
    }
    ids: list[int] = [by_number[first + i] for i in range(len(records))]
    _load(
        session,
        ActionOwner,
        ("action_id", "user_id"),
        [(i, u) for i, us in zip(ids, owners, strict=True) for u in us],
    )
    _load(
        session,
        ActionOutcome,
        ("action_id", "outcome"),
        [(i, Outcome(o).value) for i, os_ in zip(ids, outcomes, strict=True) for o in os_],
    )
    _load(
        session,
        ActionDistrict,
        ("action_id", "district_id"),
        [(i, d.id) for i, ds in zip(ids, districts, strict=True) for d in ds],
    )
    counted: Counter[tally.Cell] = Counter()
    for r, status, us, os_, ds in zip(records, statuses, owners, outcomes, districts, strict=True):
        tally.add_action(
            counted,
            group.id,
            status,
            r.due_date or DUE_NEVER,
            r.countywide,
            os_,
            [d.id for d in ds if d.id is not None],
            us,
            r.organisation,
        )
    tally.apply(session, counted)
    _load(
        session,
        AuditEvent,
        ("group_id", "entity", "entity_id", "user_id", "at", "verb", "changes", "note"),
        [
            (
                group.id,
                "action",
                i,
                by,
                stamp,
                verb,
                {  # what `create_action` records, built JSON-safe (`audit.plain_changes` is the slow way)
                    "title": [None, r.title],
                    "owners": [None, sorted(us)],
                    "organisation": [None, r.organisation],
                    "due_date": [None, r.due_date.isoformat() if r.due_date else None],
                    "outcomes": [None, [Outcome(o).value for o in os_]],
                    "districts": [None, COUNTYWIDE if r.countywide else [d.name for d in ds]],
                },
                note,
            )
            for i, r, us, os_, ds in zip(ids, records, owners, outcomes, districts, strict=True)
        ],
    )
    audit.notify(
        audit.Touched(group.id, "action", i, by, tuple(us)) for i, us in zip(ids, owners, strict=True)
    )
    return ids


def number_of(session: Session, action_id: int) -> int:
    """An action's number in its group (a bulk create's are consecutive from its first one's)."""
    return int(session.exec(select(col(Action.number)).where(col(Action.id) == action_id)).one())


_IDS_BY_NUMBER = select(col(Action.number), col(Action.id)).where(
    col(Action.group_id) == bindparam("group_id"),
    col(Action.number) >= bindparam("first"),
    col(Action.number) <= bindparam("last"),
)


def _shown(district: District) -> tuple[int, str]:
    return (district.position, district.name)


def _utc(at: datetime) -> datetime:
    """As `models.UtcDateTime` stores it (rows that `_load` copies bypass the column type)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return at.astimezone(UTC)


def _load(
    session: Session, model: type[SQLModel], columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Inserts `rows` (values as stored: enum values, UTC datetimes) in this transaction, straight to the
    driver: SQLAlchemy's per-row work (a parameter dict, its processing) cost more than the writes.
    PostgreSQL: COPY through the session's own connection (an INSERT's rows would each be an execution);
    SQLite: one executemany, each value through its column type's bind processor as SQLAlchemy would."""
    if not rows:
        return
    table = _table(model)
    session.flush()  # nothing the ORM holds may reach the database after these rows
    connection = session.connection()
    dialect = connection.dialect
    names = ", ".join(f'"{c}"' for c in columns)
    if dialect.name != "postgresql":
        assert dialect.paramstyle == "qmark", dialect.paramstyle  # SQLite's
        # The dialect's own processors (the generic types' have none for dates on SQLite).
        processors = _bind_processors(model, tuple(columns), dialect)
        if any(processors):
            rows = [tuple(v if p is None else p(v) for p, v in zip(processors, r, strict=True)) for r in rows]
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', list(rows))
        return
    as_json = [k for k, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    if as_json:
        rows = [tuple(json.dumps(v) if k in as_json else v for k, v in enumerate(r)) for r in rows]
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined]  # SQLModel tables always have one


def _counted(row: ActionRow) -> Counter[tally.Cell]:
    """What the action adds to its group's counters (`storage.tally`), as the row now stands."""
    a = row.action
    return tally.contribution(
        a.group_id,
        a.status,
        a.due_date or DUE_NEVER,
        a.countywide,
        row.outcomes,
        [d.id for d in row.districts if d.id is not None],
        row.owners,
        a.organisation,
    )


_SCALARS = ("title", "organisation", "due_date", "status", "rag", "snoozed_until", "meeting_id")


def update_action(
    session: Session,
    row: ActionRow,
    changes: dict[str, Any],
    *,
    by: str,
    at: datetime,
    note: str | None = None,
    verb: str = "updated",
) -> dict[str, list[Any]]:
    """Applies `changes` to the action and returns what actually changed as {field: [old, new]}.

    Keys: title, organisation, due_date, status, rag, snoozed_until, meeting_id, decision_id, owners
    (user ids), outcomes, district_ids and/or countywide. Setting status done stamps completed_at; leaving
    done clears it. A `note` is kept as an ActionNote. One AuditEvent is written when anything changed or a
    note was given (verb "note" when only a note was given to a plain update). `row` is updated in place. An empty result with no note means nothing happened.
    """
    known = {*_SCALARS, "decision_id", "owners", "outcomes", "district_ids", "countywide"}
    unknown = set(changes) - known
    if unknown:
        raise ValueError(f"update_action: unknown fields {sorted(unknown)}")
    action = row.changeable
    assert action.id is not None
    diff: dict[str, list[Any]] = {}
    counted_before = _counted(row)

    scalars = {k: changes[k] for k in _SCALARS if k in changes}
    if "status" in scalars and scalars["status"] is not None:
        scalars["status"] = ActionStatus(scalars["status"])
    if "rag" in scalars and scalars["rag"] is not None:
        scalars["rag"] = Rag(scalars["rag"])
    diff.update(audit.diff({k: getattr(action, k) for k in scalars}, scalars))
    for k in scalars:
        if k in diff:
            setattr(action, k, scalars[k])
    if "status" in diff:
        if action.status == ActionStatus.DONE:
            action.completed_at = at
        elif action.completed_at is not None:
            action.completed_at = None

    if "decision_id" in changes and changes["decision_id"] != action.decision_id:
        diff["decision"] = [
            _decision_label(session, action.decision_id),
            _decision_label(session, changes["decision_id"]),
        ]
        action.decision_id = changes["decision_id"]

    if "owners" in changes:
        new_owners = sorted(dict.fromkeys(changes["owners"]))
        if not new_owners:
            raise ValueError("an action needs at least one owner")
        if new_owners != row.owners:
            diff["owners"] = [list(row.owners), new_owners]
            for user_id in set(row.owners) - set(new_owners):
                link = session.get(ActionOwner, (action.id, user_id))
                if link is not None:
                    session.delete(link)
            for user_id in set(new_owners) - set(row.owners):
                session.add(ActionOwner(action_id=action.id, user_id=user_id))
            row.owners = new_owners

    if "outcomes" in changes:
        new_outcomes = sorted(
            dict.fromkeys(Outcome(o) for o in changes["outcomes"]), key=_OUTCOME_ORDER.__getitem__
        )
        if new_outcomes != row.outcomes:
            diff["outcomes"] = [[o.value for o in row.outcomes], [o.value for o in new_outcomes]]
            for outcome in set(row.outcomes) - set(new_outcomes):
                outcome_link = session.get(ActionOutcome, (action.id, outcome))
                if outcome_link is not None:
                    session.delete(outcome_link)
            for outcome in set(new_outcomes) - set(row.outcomes):
                session.add(ActionOutcome(action_id=action.id, outcome=outcome))
            row.outcomes = new_outcomes
            action.outcome_mask = outcome_mask(new_outcomes)

    if "district_ids" in changes or "countywide" in changes:
        countywide = bool(changes.get("countywide", False))
        new_ids = [] if countywide else list(dict.fromkeys(changes.get("district_ids") or []))
        old_ids = [d.id for d in row.districts]
        if countywide != action.countywide or sorted(new_ids) != sorted(old_ids):  # type: ignore[type-var]
            before = row.district_names
            for district_id in set(old_ids) - set(new_ids):
                district_link = session.get(ActionDistrict, (action.id, district_id))
                if district_link is not None:
                    session.delete(district_link)
            for district_id in set(new_ids) - set(old_ids):
                session.add(ActionDistrict(action_id=action.id, district_id=district_id))
            action.countywide = countywide
            row.districts = _districts_by_id(session, new_ids)
            action.district_mask = district_mask(row.districts)
            diff["districts"] = [before, row.district_names]

    if diff:
        action.updated_at = at
        tally.apply(session, tally.change(counted_before, _counted(row)))
    if diff or note:
        if not diff and verb == "updated":
            verb = "note"  # only a note was added
        session.add(action)
        if note:
            session.add(ActionNote(action_id=action.id, text=note, author=by, created_at=at))
        audit.record(
            session,
            group_id=action.group_id,
            entity="action",
            entity_id=action.id,
            user_id=by,
            at=at,
            verb=verb,
            changes=diff,
            note=note,
        )
        session.flush()
    return diff


def add_note(session: Session, row: ActionRow, text: str, *, by: str, at: datetime) -> ActionNote:
    """A progress note (e.g. from a chaser DM's "Add update" button), audited as verb "note"."""
    action = row.changeable
    note = ActionNote(action_id=action.id, text=text, author=by, created_at=at)  # type: ignore[arg-type]
    session.add(note)
    action.updated_at = at
    session.add(action)
    audit.record(
        session,
        group_id=action.group_id,
        entity="action",
        entity_id=action.id,
        user_id=by,
        at=at,
        verb="note",
        note=text,
    )
    session.flush()
    return note


_NOTES = (  # built once: each call binds its action
    select(ActionNote).where(col(ActionNote.action_id) == bindparam("action_id")).order_by(col(ActionNote.id))
)


def notes(session: Session, action_id: int) -> list[ActionNote]:
    return list(session.exec(_NOTES, params={"action_id": action_id}))


# --- the record of a meeting: progress made while it ran, and actions as they stood when it ended ----------

PROGRESS_VERBS_LEFT_OUT = ("created", "imported")  # an action added at a meeting is "raised" there instead


@dataclass
class Progress:
    """One existing action and the changes made to it while a meeting ran, oldest first."""

    row: ActionRow
    events: list[AuditEvent]


def progress_between(
    session: Session,
    group_id: int,
    *,
    after_event: int,
    up_to_event: int | None,
    limit: int = 150,
    events_limit: int = 1000,
) -> tuple[list[Progress], int]:
    """The changes audited after `after_event` and up to `up_to_event` (None: to now) on the group's actions
    that existed before — updates, closures, reopenings, notes — grouped per action in number order: the
    first `limit` actions and how many there are in all. An action added within the window is left out
    (it was raised then, not progressed). At most `events_limit` changes are read (the oldest)."""
    where: list[Any] = [
        col(AuditEvent.id) > after_event,
        AuditEvent.group_id == group_id,
        AuditEvent.entity == "action",
    ]
    if up_to_event is not None:
        where.append(col(AuditEvent.id) <= up_to_event)
    events = list(
        session.exec(select(AuditEvent).where(*where).order_by(col(AuditEvent.id)).limit(events_limit))
    )
    added = {e.entity_id for e in events if e.verb in PROGRESS_VERBS_LEFT_OUT}
    by_action: dict[int, list[AuditEvent]] = defaultdict(list)
    for e in events:
        if e.entity_id is not None and e.entity_id not in added:
            by_action[e.entity_id].append(e)
    if not by_action:
        return [], 0
    actions = list(
        session.exec(select(Action).where(col(Action.id).in_(list(by_action))).order_by(col(Action.number)))
    )
    rows = load_rows(session, actions[:limit])
    return [Progress(row, by_action[row.action.id or 0]) for row in rows], len(actions)


def _undo_value(field: str, old: Any) -> Any:
    if field in ("due_date", "snoozed_until"):
        return date.fromisoformat(old) if isinstance(old, str) and old else None
    if field == "status":
        return ActionStatus(old) if old else ActionStatus.OPEN
    if field == "rag":
        return Rag(old) if old else None
    return old


def _undo(row: ActionRow, action: Action, name: str, old: Any, districts: dict[str, District]) -> None:
    """Puts one field of a detached row (and `action`, its detached copy) back to the value it had before a
    change."""
    if name in ("title", "organisation"):
        setattr(action, name, old or "")
    elif name in ("due_date", "snoozed_until", "status", "rag"):
        setattr(action, name, _undo_value(name, old))
    elif name == "owners" and isinstance(old, list):
        row.owners = sorted(str(u) for u in old)
    elif name == "outcomes" and isinstance(old, list):
        row.outcomes = sorted(
            (Outcome(o) for o in old if o in _OUTCOME_VALUES), key=_OUTCOME_ORDER.__getitem__
        )
    elif name == "districts":
        action.countywide = old == COUNTYWIDE
        row.districts = [] if action.countywide else [districts[n] for n in (old or []) if n in districts]


def as_it_stood(session: Session, rows: Sequence[ActionRow], after_event: int) -> list[ActionRow]:
    """The actions as they stood once the audit trail had reached `after_event`: every change audited since
    is undone, newest first, on a detached copy (the stored actions are not touched). Owners, outcomes,
    districts, title, organisation, due date, status, RAG and snooze are put back."""
    ids = [r.action.id for r in rows if r.action.id is not None]
    if not ids:
        return list(rows)
    later: dict[int, list[AuditEvent]] = defaultdict(list)
    for e in session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "action",
            col(AuditEvent.entity_id).in_(ids),
            col(AuditEvent.id) > after_event,
        )
        .order_by(col(AuditEvent.id).desc())
    ):
        later[e.entity_id or 0].append(e)
    if not later:
        return list(rows)
    names: dict[str, District] = {}
    group_ids = {r.action.group_id for r in rows}
    for d in session.exec(select(District).where(col(District.group_id).in_(list(group_ids)))):
        names.setdefault(d.name, d)
    out = []
    for row in rows:
        events = later.get(row.action.id or 0)
        if not events:
            out.append(row)
            continue
        shown = row.action
        action = Action.model_validate(
            shown._asdict() if isinstance(shown, ActionRecord) else shown.model_dump()
        )
        stood = ActionRow(action, list(row.owners), list(row.outcomes), list(row.districts))
        for event in events:
            for name, change in (event.changes or {}).items():
                if isinstance(change, list) and len(change) == 2:
                    _undo(stood, action, name, change[0], names)
        out.append(stood)
    return out


_OUTCOME_VALUES = {o.value for o in Outcome}
