"""Short lists bound as one parameter per value, their length part of a cached statement's shape.

SQLAlchemy's expanding IN (`bindparam(..., expanding=True)`) rewrites the compiled SQL on every execution to
fit the list it is given. A filter's statuses, or the counters' dimensions and buckets, are lists of one to
five values from a small set, so a statement built once per (shape, length) binds them as `:name_0, …`
instead and runs with no rewriting: the same SQL as the expanded form, without its cost per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam


def listed_key(key: str, count: int) -> str:
    """A shape's entry for a list of `count` values under `key` (see `listed_count`)."""
    return f"{key}[{count}]"


def listed_count(shape: Sequence[str], key: str) -> int | None:
    """How many values the shape's list under `key` holds, or None when the shape has no such list."""
    prefix = f"{key}["
    for entry in shape:
        if entry.startswith(prefix) and entry.endswith("]"):
            return int(entry[len(prefix) : -1])
    return None


def listed_params(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters `in_listed(column, name, len(values))` binds."""
    return {f"{name}_{i}": value for i, value in enumerate(values)}


def in_listed(column: Any, name: str, count: int) -> Any:
    """`column IN (:name_0, …, :name_{count-1})`, each bound with the column's type (an empty list matches
    nothing, as an empty expanding IN does)."""
    return column.in_([bindparam(f"{name}_{i}") for i in range(count)])
