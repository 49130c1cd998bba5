"""Task groups, their districts and members."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from storage import audit
from storage.models import DISTRICT_BITS, District, TaskGroup


def get_group(session: Session, team_id: str, channel_id: str) -> TaskGroup | None:
    return session.exec(
        select(TaskGroup).where(TaskGroup.team_id == team_id, TaskGroup.channel_id == channel_id)
    ).first()


def create_group(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    name: str,
    county: str | None,
    timezone: str,
    user_id: str,
    at: datetime,
    settings: dict[str, Any] | None = None,
) -> TaskGroup:
    group = TaskGroup(
        team_id=team_id,
        channel_id=channel_id,
        name=name,
        county=county,
        timezone=timezone,
        settings=settings or {},
        created_by=user_id,
        created_at=at,
        updated_at=at,
    )
    session.add(group)
    session.flush()
    audit.record(
        session,
        group_id=group.id,
        entity="task_group",
        entity_id=group.id,
        user_id=user_id,
        at=at,
        verb="created",
        changes={"name": [None, name], "county": [None, county], "timezone": [None, timezone]},
    )
    return group


def lock_group(session: Session, group_id: int) -> TaskGroup:
    """The group row, locked for this transaction and freshly read: serialises numbering and meeting
    state per group (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers)."""
    return session.exec(
        select(TaskGroup)
        .where(TaskGroup.id == group_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def take_number(session: Session, group_id: int, counter: str, count: int = 1) -> int:
    """The next per-group number (`next_action_number`, `next_decision_number`), or the first of `count`
    consecutive ones. One UPDATE … RETURNING: the increment happens in the database under the row's write
    lock (held to commit, as FOR UPDATE would be), so two people adding at once never get the same number."""
    column = getattr(TaskGroup, counter)
    taken = session.execute(
        update(TaskGroup)
        .where(col(TaskGroup.id) == group_id)
        .values({counter: column + count})
        .returning(column)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    held = session.identity_map.get(session.identity_key(TaskGroup, group_id))
    if held is not None:  # keep the loaded group in step without writing it again
        set_committed_value(held, counter, taken)
    return int(taken) - count


def update_group(
    session: Session, group: TaskGroup, changes: dict[str, Any], *, user_id: str, at: datetime
) -> dict[str, list[Any]]:
    before = {k: getattr(group, k) for k in changes}
    changed = audit.diff(before, changes)
    if changed:
        for k, v in changes.items():
            setattr(group, k, v)
        group.updated_at = at
        session.add(group)
        audit.record(
            session,
            group_id=group.id,
            entity="task_group",
            entity_id=group.id,
            user_id=user_id,
            at=at,
            verb="updated",
            changes=changed,
        )
    return changed


_DISTRICTS = "ecm_districts"  # session.info key: {group_id: [District, ...]} for this transaction


_CURRENT_DISTRICTS = (  # built once: each transaction only binds its group
    select(District)
    .where(col(District.group_id) == bindparam("group_id"), col(District.removed_at).is_(None))
    .order_by(col(District.position), col(District.name))
)


def list_districts(session: Session, group_id: int) -> list[District]:
    """The group's current districts in order. Read once per transaction: parsing `district:`, `org:` and
    storing an action all need them, and they only change through `set_districts`."""
    held: dict[int, list[District]] = session.info.setdefault(_DISTRICTS, {})
    if group_id not in held:
        held[group_id] = list(session.exec(_CURRENT_DISTRICTS, params={"group_id": group_id}))
    return list(held[group_id])


# Process-wide: each token's districts (`TaskGroup.districts_token`), as copies no session holds, shared by
# every transaction that reads them (read-only: a new District costs ~100 µs, a dozen of them more than the
# statement saved). A token is never reused, so an entry is right for as long as a group row shows it.
_REMEMBERED: dict[str, tuple[District, ...]] = {}
_REMEMBER_MOST = 4096  # tokens (a county's groups, and those replaced since); then it starts again


def _copy(d: District) -> District:
    return District(id=d.id, group_id=d.group_id, name=d.name, slug=d.slug, position=d.position, bit=d.bit)


def hold_group_districts(session: Session, group: TaskGroup) -> None:
    """Makes the group's current districts what `list_districts` returns for the rest of the transaction:
    none without a statement for a group whose districts were never set (no token), the ones this process
    read under the group's token without a statement, or else read (and remembered under the token)."""
    if group.id is None:
        return
    token = group.districts_token
    remembered = _REMEMBERED.get(token) if token else ()
    if remembered is not None:
        session.info.setdefault(_DISTRICTS, {})[group.id] = list(remembered)
        return
    assert token is not None
    districts = list_districts(session, group.id)
    if len(_REMEMBERED) >= _REMEMBER_MOST:
        _REMEMBERED.clear()
    _REMEMBERED[token] = tuple(_copy(d) for d in districts)


def groups_held(session: Session) -> set[int]:
    """The groups whose districts `list_districts` already read in this transaction."""
    return set(session.info.get(_DISTRICTS, {}))


def districts_held(session: Session) -> dict[int, District]:
    """Districts `list_districts` already read in this transaction, by id."""
    return {d.id: d for found in session.info.get(_DISTRICTS, {}).values() for d in found}


@event.listens_for(Session, "after_transaction_end")
def _forget_districts(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction (flushes run in inner ones)
        session.info.pop(_DISTRICTS, None)


def set_districts(
    session: Session, group: TaskGroup, names: Sequence[tuple[str, str]], *, user_id: str, at: datetime
) -> tuple[list[str], list[str]]:
    """Makes the group's districts exactly `names` ((name, slug) pairs). Removed ones are kept, marked removed,
    so old actions still show where they were. Returns (added, removed) names."""
    session.info.get(_DISTRICTS, {}).pop(group.id, None)
    group.districts_token = uuid.uuid4().hex  # every process reads them again
    session.add(group)
    existing = {d.slug: d for d in session.exec(select(District).where(District.group_id == group.id))}
    wanted = {slug for _, slug in names}
    added: list[str] = []
    removed: list[str] = []
    taken = [d.bit for d in existing.values() if d.bit is not None]
    next_bit = max(taken) + 1 if taken else 0
    for position, (name, slug) in enumerate(names):
        d = existing.get(slug)
        if d is None:
            assert group.id is not None
            bit = next_bit if next_bit < DISTRICT_BITS else None
            next_bit += 1
            session.add(District(group_id=group.id, name=name, slug=slug, position=position, bit=bit))
            added.append(name)
        else:
            if d.removed_at is not None:
                added.append(name)
            d.name, d.position, d.removed_at = name, position, None
            session.add(d)
    for slug, d in existing.items():
        if slug not in wanted and d.removed_at is None:
            d.removed_at = at
            session.add(d)
            removed.append(d.name)
    if added or removed:
        audit.record(
            session,
            group_id=group.id,
            entity="task_group",
            entity_id=group.id,
            user_id=user_id,
            at=at,
            verb="districts",
            changes={"added": added, "removed": removed},
        )
    session.flush()
    return added, removed


def name_key(name: str) -> str:
    """How names of organisations, districts and schedules compare: case and spacing ignored."""
    return " ".join(name.lower().split())


def get_group_by_id(session: Session, group_id: int | None) -> TaskGroup | None:
    return session.get(TaskGroup, group_id) if group_id is not None else None


def groups_by_id(session: Session, ids: Iterable[int] | None = None) -> dict[int, TaskGroup]:
    """Every task group (or those with `ids`), by id, in id order."""
    query = select(TaskGroup)
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = query.where(col(TaskGroup.id).in_(wanted))
    return {g.id: g for g in session.exec(query.order_by(col(TaskGroup.id)))}  # type: ignore[misc]
