"""Action-plan imports: the pending preview, and the record of files already imported."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage import audit
from storage.models import Action, ImportStatus, PlanImport


def imported_file(session: Session, group_id: int, sha256: str) -> PlanImport | None:
    """The earlier import of exactly this file into the group, if any."""
    return session.exec(
        select(PlanImport).where(
            col(PlanImport.group_id) == group_id,
            col(PlanImport.sha256) == sha256,
            col(PlanImport.status) == ImportStatus.IMPORTED,
        )
    ).first()


def action_titles(session: Session, group_id: int) -> list[tuple[int, str]]:
    """(number, title) of every action in the group, dropped ones too."""
    return [
        (n, t)
        for n, t in session.exec(select(Action.number, Action.title).where(col(Action.group_id) == group_id))
    ]


def add_pending(
    session: Session,
    group_id: int,
    *,
    user_id: str,
    file_name: str,
    sha256: str,
    rows: list[dict[str, Any]],
    problems: list[dict[str, Any]],
    at: datetime,
) -> PlanImport:
    pending = PlanImport(
        group_id=group_id,
        user_id=user_id,
        file_name=file_name,
        sha256=sha256,
        rows=rows,
        problems=problems,
        created_at=at,
    )
    session.add(pending)
    session.flush()
    return pending


def finish(
    session: Session, pending: PlanImport, status: ImportStatus, *, by: str, at: datetime, numbers: list[int]
) -> None:
    """Marks the import imported (with the numbers it added) or cancelled, and audits it."""
    old = pending.status
    pending.status = status
    if status == ImportStatus.IMPORTED:
        pending.imported_at = at
        pending.action_numbers = numbers
    session.add(pending)
    audit.record(
        session,
        group_id=pending.group_id,
        entity="plan_import",
        entity_id=pending.id,
        user_id=by,
        at=at,
        verb=status.value,
        changes={"status": [old.value, status.value], "actions": [None, numbers]},
        note=pending.file_name,
    )


def get_import(session: Session, import_id: int) -> PlanImport | None:
    return session.get(PlanImport, import_id)


def latest_pending(session: Session, group_id: int, user_id: str) -> PlanImport | None:
    return session.exec(
        select(PlanImport)
        .where(
            col(PlanImport.group_id) == group_id,
            col(PlanImport.user_id) == user_id,
            col(PlanImport.status) == ImportStatus.PENDING,
        )
        .order_by(col(PlanImport.id).desc())
    ).first()
