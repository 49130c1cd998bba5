"""Every table of the bot, in one place.

Conventions: timestamps are timezone-aware UTC (`UtcDateTime`), due dates are plain dates, nothing is
hard-deleted (rows carry `deleted_at`/`removed_at` or a terminal status), and every change is written to
`AuditEvent` by the query functions in this package.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, UniqueConstraint, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always hands back aware UTC ones.

    SQLite has no time zones, so without this a value read back would be naive and compare wrongly
    against the injected clock.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable, index=index))


def enum_column(
    enum: type[StrEnum], default: Any = None, *, nullable: bool = False, index: bool = False
) -> Any:
    """Stores the enum's value as plain text (no native DB enum), so adding a value needs no type migration."""
    sa_type = SAEnum(enum, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])
    return Field(default=default, sa_column=Column(sa_type, nullable=nullable, index=index))


def json_column(default_factory: Any) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


class Outcome(StrEnum):
    """The five Every Child Matters outcomes, in their customary order."""

    BE_HEALTHY = "be-healthy"
    STAY_SAFE = "stay-safe"
    ENJOY_AND_ACHIEVE = "enjoy-and-achieve"
    POSITIVE_CONTRIBUTION = "positive-contribution"
    ECONOMIC_WELLBEING = "economic-wellbeing"


class Role(StrEnum):
    CHAIR = "chair"
    MEMBER = "member"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in-progress"
    BLOCKED = "blocked"
    DONE = "done"
    DROPPED = "dropped"


# The sort key of "no due date": after every real date.
DUE_NEVER = date(9999, 12, 31)

# Statuses that still need doing: chasers, "open" lists and matters arising use these.
LIVE_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED)


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class AttendanceMode(StrEnum):
    PRESENT = "present"
    SUBSTITUTE = "substitute"
    VIRTUAL = "virtual"
    APOLOGIES = "apologies"
    ABSENT = "absent"
    # Someone who is not a member of the task group, there in their own name: recorded, shown as a guest, and
    # never counted as their organisation being represented (that needs membership, or a chair recording it).
    GUEST = "guest"


# Modes that count as the organisation being represented at the meeting (never GUEST).
REPRESENTED_MODES = (AttendanceMode.PRESENT, AttendanceMode.SUBSTITUTE, AttendanceMode.VIRTUAL)


class DecisionStatus(StrEnum):
    AGREED = "agreed"
    DEFERRED = "deferred"
    REJECTED = "rejected"
    NOTED = "noted"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class TaskGroup(SQLModel, table=True):
    """One task group = one Slack channel in one workspace."""

    __tablename__ = "task_group"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_task_group_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    name: str = Field(max_length=200)
    county: str | None = Field(default=None, max_length=100)
    timezone: str = Field(default="Europe/London", max_length=64)
    # Chaser and digest settings (see storage.settings_schema for keys and defaults).
    settings: dict[str, Any] = json_column(dict)
    next_action_number: int = Field(default=1)
    next_decision_number: int = Field(default=1)
    created_by: str = Field(max_length=32)
    created_at: datetime = utc_column(nullable=False)
    updated_at: datetime = utc_column(nullable=False)
    # A new value, never used before, each time its districts change (`storage.groups.set_districts`): a
    # process that read the districts under one token reuses them until the group row shows another.
    districts_token: str | None = Field(default=None, max_length=32)


class District(SQLModel, table=True):
    __tablename__ = "district"
    __table_args__ = (UniqueConstraint("group_id", "slug", name="uq_district_slug"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="task_group.id", index=True)
    name: str = Field(max_length=100)
    slug: str = Field(max_length=100)
    position: int = Field(default=0)
    removed_at: datetime | None = utc_column()
    # Its bit in its actions' `district_mask`: a group's districts take 0, 1, 2… in the order they are made,
    # never reused (removed ones keep theirs), so a list's district filter tests one integer per action. None
    # past DISTRICT_BITS in one group: actions in those districts are found by their link rows alone.
    bit: int | None = Field(default=None)


class Member(SQLModel, table=True):
    """A registered member of a task group and the organisation they represent."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("group_id", "user_id", name="uq_member_user"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="task_group.id", index=True)
    user_id: str = Field(max_length=32, index=True)
    display_name: str = Field(default="", max_length=200)
    organisation: str = Field(default="", max_length=200)
    role: Role = enum_column(Role, Role.MEMBER)
    created_at: datetime = utc_column(nullable=False)
    removed_at: datetime | None = utc_column()


class Action(SQLModel, table=True):
    __tablename__ = "action"
    __table_args__ = (
        UniqueConstraint("group_id", "number", name="uq_action_number"),
        # Lists walk these in their shown order (due_key, number) and stop at the page's end: one for the
        # usual live lists (three statuses, checked inside the index), one per status for counts and
        # single-status lists, one across groups for the chaser jobs.
        # The first also carries what a list's filter tests (countywide, the outcome and district masks), so a
        # walk turns an action away from the index entry alone, without reading its row or its link rows.
        Index(
            "ix_action_group_due_key",
            "group_id",
            "due_key",
            "number",
            "status",
            "countywide",
            "outcome_mask",
            "district_mask",
        ),
        Index("ix_action_group_status_due_key", "group_id", "status", "due_key", "number"),
        Index("ix_action_status_due_key", "status", "due_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="task_group.id")
    number: int
    title: str = Field(max_length=500)
    organisation: str = Field(default="", max_length=200)
    countywide: bool = Field(default=False)
    due_date: date | None = Field(default=None)
    # due_date with "no due date" as DUE_NEVER, so one ascending index gives the lists' order (no due date
    # last) on SQLite, whose indexes cannot put NULLs last. Kept in step by `_keep_due_key` below.
    due_key: date = Field(default=DUE_NEVER, sa_column_kwargs={"server_default": DUE_NEVER.isoformat()})
    status: ActionStatus = enum_column(ActionStatus, ActionStatus.OPEN)
    rag: Rag | None = enum_column(Rag, nullable=True)
    snoozed_until: date | None = Field(default=None)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    decision_id: int | None = Field(default=None, foreign_key="decision.id", index=True)
    # The Slack message the action was made from ("Make this an action"), as chat.getPermalink gave it.
    source_link: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=32)
    created_at: datetime = utc_column(nullable=False)
    updated_at: datetime = utc_column(nullable=False)
    completed_at: datetime | None = utc_column()
    # Its outcomes (`outcome_mask`) and its districts (`district_mask`, by `District.bit`) as bits: derived
    # from its link rows, which stay the record, and kept in step with them by storage.actions.
    outcome_mask: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    district_mask: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})


DISTRICT_BITS = 63  # a signed 64-bit integer's bits but its sign
_OUTCOME_BIT = {o: 1 << i for i, o in enumerate(Outcome)}


def outcome_mask(outcomes: Iterable[Outcome | str]) -> int:
    """`Action.outcome_mask` of these outcomes (a filter's "any of" too)."""
    mask = 0
    for o in outcomes:
        mask |= _OUTCOME_BIT[Outcome(o)]
    return mask


def outcomes_of_mask(mask: int) -> list[Outcome]:
    """The outcomes an `Action.outcome_mask` holds, in their customary order (the bits' order)."""
    return list(_OUTCOMES_BY_MASK[mask & _ALL_OUTCOMES])


_ALL_OUTCOMES = (1 << len(Outcome)) - 1
_OUTCOMES_BY_MASK = [tuple(o for o, bit in _OUTCOME_BIT.items() if m & bit) for m in range(_ALL_OUTCOMES + 1)]


def district_mask(districts: Iterable[District]) -> int:
    """`Action.district_mask` of these districts: the bits of those that have one."""
    mask = 0
    for d in districts:
        if d.bit is not None:
            mask |= 1 << d.bit
    return mask


@event.listens_for(Action, "before_insert")
@event.listens_for(Action, "before_update")
def _keep_due_key(_mapper: Any, _connection: Any, action: Action) -> None:
    action.due_key = action.due_date or DUE_NEVER


class ActionOwner(SQLModel, table=True):
    __tablename__ = "action_owner"

    action_id: int = Field(foreign_key="action.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True, index=True)


class ActionOutcome(SQLModel, table=True):
    __tablename__ = "action_outcome"

    action_id: int = Field(foreign_key="action.id", primary_key=True)
    outcome: Outcome = Field(
        sa_column=Column(
            SAEnum(Outcome, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
            primary_key=True,
            index=True,
        )
    )


class ActionDistrict(SQLModel, table=True):
    __tablename__ = "action_district"

    action_id: int = Field(foreign_key="action.id", primary_key=True)
    district_id: int = Field(foreign_key="district.id", primary_key=True, index=True)


class ActionTally(SQLModel, table=True):
    """How many actions each group holds, per status and due key, and per outcome, district, owner and
    organisation: counters kept by `storage.tally` in the same transaction as every change to an action, so counts and `by:` groupings
    read a few hundred counter rows instead of every matching action. Derived data (the audit trail records
    the changes themselves); `storage.tally.rebuild` recounts it from the register.

    `dimension` "all" (bucket ""): actions. "outcome": link rows per outcome value, plus "*any"/"*many"
    (actions with at least one / more than one outcome). "district": "countywide" actions, link rows per
    district id of the others, plus "*any"/"*many" among the others. "owner": link rows per user id, plus
    "*many". "organisation": actions per organisation as stored ("" for none). "outcome-district": one per
    outcome and district id ("OUTCOME|ID") of each action, or "OUTCOME|countywide" for countywide ones.
    `ix_action_tally_bucket` reads one bucket's counters (one owner's, one outcome and district's) directly."""

    __tablename__ = "action_tally"
    __table_args__ = (
        Index("ix_action_tally_bucket", "group_id", "dimension", "bucket", "status", "due_key", "n"),
    )

    group_id: int = Field(foreign_key="task_group.id", primary_key=True)
    dimension: str = Field(max_length=16, primary_key=True)
    status: ActionStatus = Field(
        sa_column=Column(
            SAEnum(
                ActionStatus, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]
            ),
            primary_key=True,
        )
    )
    due_key: date = Field(primary_key=True)
    bucket: str = Field(max_length=200, primary_key=True)  # an organisation is up to 200 characters
    n: int = Field(default=0)


class ActionNote(SQLModel, table=True):
    """A progress note on an action (from update/done/drop or the DM "Add update" button)."""

    __tablename__ = "action_note"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    text: str = Field(max_length=3000)
    author: str = Field(max_length=32)
    created_at: datetime = utc_column(nullable=False)


class AuditEvent(SQLModel, table=True):
    """Append-only trail of every change: who, when, what changed from -> to, and why."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int | None = Field(default=None, foreign_key="task_group.id", index=True)
    entity: str = Field(max_length=32)  # "action", "member", "task_group", "meeting", "decision", ...
    entity_id: int | None = Field(default=None)
    user_id: str = Field(max_length=32)
    at: datetime = utc_column(nullable=False)
    verb: str = Field(max_length=32)  # "created", "updated", "done", "snoozed", ...
    changes: dict[str, Any] = json_column(dict)  # {"field": [old, new], ...}
    note: str | None = Field(default=None, max_length=3000)


class Meeting(SQLModel, table=True):
    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_group_status", "group_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="task_group.id")
    title: str = Field(max_length=200)
    status: MeetingStatus = enum_column(MeetingStatus, MeetingStatus.OPEN)
    schedule_id: int | None = Field(default=None, foreign_key="meeting_schedule.id", index=True)
    scheduled_for: datetime | None = utc_column()
    started_at: datetime | None = utc_column()
    ended_at: datetime | None = utc_column()
    chair_user_id: str | None = Field(default=None, max_length=32)
    cancel_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = utc_column(nullable=False)


class Attendance(SQLModel, table=True):
    """One attendance record; the latest per (meeting, user) wins, older ones stay for the audit trail."""

    __tablename__ = "attendance"
    __table_args__ = (Index("ix_attendance_meeting_user", "meeting_id", "user_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id")
    user_id: str = Field(max_length=32)
    organisation: str = Field(default="", max_length=200)
    mode: AttendanceMode = enum_column(AttendanceMode)
    substitute_for: str | None = Field(default=None, max_length=32)
    recorded_by: str = Field(max_length=32)
    recorded_at: datetime = utc_column(nullable=False)


class MeetingNote(SQLModel, table=True):
    __tablename__ = "meeting_note"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    text: str = Field(max_length=3000)
    author: str = Field(max_length=32)
    created_at: datetime = utc_column(nullable=False)


class Decision(SQLModel, table=True):
    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("group_id", "number", name="uq_decision_number"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="task_group.id", index=True)
    number: int
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    text: str = Field(max_length=3000)
    status: DecisionStatus = enum_column(DecisionStatus, DecisionStatus.AGREED)
    recorded_by: str = Field(max_length=32)
    created_at: datetime = utc_column(nullable=False)


class MeetingSchedule(SQLModel, table=True):
    __tablename__ = "meeting_schedule"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="task_group.id", index=True)
    title: str = Field(max_length=200)
    rrule: str = Field(max_length=500)
    start_date: date
    local_time: time
    until: date | None = Field(default=None)
    # ISO dates of cancelled occurrences.
    cancelled_dates: list[str] = json_column(list)
    created_by: str = Field(max_length=32)
    created_at: datetime = utc_column(nullable=False)
    removed_at: datetime | None = utc_column()


class Notification(SQLModel, table=True):
    """Outbox row: one planned post. The idempotency key makes planning safe to repeat anywhere."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=40)
    group_id: int | None = Field(default=None, foreign_key="task_group.id", index=True)
    recipient: str = Field(max_length=32)  # channel id or user id
    for_date: date
    due_at: datetime = utc_column(nullable=False)
    payload: dict[str, Any] = json_column(dict)
    status: NotificationStatus = enum_column(NotificationStatus, NotificationStatus.PENDING)
    attempts: int = Field(default=0)
    lease_until: datetime | None = utc_column()
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = utc_column()
    created_at: datetime = utc_column(nullable=False)
    # Where the delivery stands, so a post whose outcome is unknown is never simply sent again:
    # "" nothing in doubt; "posting" claimed by a process that may be talking to Slack right now (if it died,
    # what it sent is unknown); "unknown" the last post got no answer (timed out, connection dropped).
    # A row in doubt is looked for in the conversation's history (by the key in its metadata) before re-posting.
    attempt_state: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    first_tried_at: datetime | None = utc_column()  # its first claim: where the history search starts
    pages_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # of a multi-page post


class ProcessedRequest(SQLModel, table=True):
    """Keys of Slack requests already acted on, so a retried request never changes anything twice."""

    __tablename__ = "processed_request"

    key: str = Field(primary_key=True, max_length=200)
    at: datetime = utc_column(nullable=False)


class ReportRun(SQLModel, table=True):
    """A progress report made for a group: the next report's period starts where this one ended."""

    __tablename__ = "report_run"
    __table_args__ = (Index("ix_report_run_group_made", "group_id", "made_at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="task_group.id")
    period_from: date
    period_to: date
    made_by: str = Field(max_length=32)
    made_at: datetime = utc_column(nullable=False)
    # Which files were produced, e.g. "docx,xlsx,csv".
    formats: str = Field(default="", max_length=100)


class ImportStatus(StrEnum):
    PENDING = "pending"  # previewed, waiting for the chair to confirm
    IMPORTED = "imported"
    CANCELLED = "cancelled"


class PlanImport(SQLModel, table=True):
    """An action-plan spreadsheet read for import: the rows as previewed, kept until the chair confirms.

    `sha256` of the file lets the same file a second time be recognised and add nothing.
    """

    __tablename__ = "plan_import"
    __table_args__ = (Index("ix_plan_import_group_sha", "group_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="task_group.id")
    user_id: str = Field(max_length=32)
    file_name: str = Field(max_length=300)
    sha256: str = Field(max_length=64)
    status: ImportStatus = enum_column(ImportStatus, ImportStatus.PENDING)
    # The readable rows, as plain JSON (see commands.plan_import.ImportRow), and the rows that could not be read.
    rows: list[Any] = json_column(list)
    problems: list[Any] = json_column(list)
    action_numbers: list[Any] = json_column(list)
    created_at: datetime = utc_column(nullable=False)
    imported_at: datetime | None = utc_column()
