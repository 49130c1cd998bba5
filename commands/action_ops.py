"""The operations on an action, once for every surface: create, change, done, reopen, drop, snooze (and
end a snooze), add a note, hand over.

Each operation takes an `Actor` (who, in which group, when: `Call.actor()` for a slash command,
`actor_for(...)` for a button, modal or import) and plain typed input — never parsed command text — and
owns its permission rule, its audit event (through `storage.actions`) and the words the channel and the
person are told. Bad input or no permission raises `UserError` with the same words whatever the surface;
the caller's transaction then rolls back, so nothing changes.

Every operation returns an `ActionResult`: `replies` (the channel post first when something changed,
then any notes only the person sees), `changed`, and `confirmation` (one line for a person who cannot see
the channel post, e.g. after clicking a button in a DM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from commands.action_fields import STATUS_HELP, ActionChange, NewAction
from commands.action_view import STATUS_LABEL, action_line, change_lines, is_permalink, source_link
from commands.context import Actor, require_chair
from commands.dates import format_date
from commands.mrkdwn import Mrkdwn, code, md, mentions, person, quote, with_mentions
from commands.replies import Reply, Section, UserError, Visibility
from commands.text import truncate, typed
from commands.workdays import next_working_day
from storage import actions as store
from storage import meetings, members
from storage.actions import ActionRow
from storage.models import LIVE_STATUSES, ActionStatus, Role, TaskGroup

MAX_TITLE = 500
MAX_NOTE = 3000
SNOOZE_A_WEEK_DAYS = 7  # "Snooze a week" (button) and `/ecm snooze N "reason"` with no `until:`
MAX_SNOOZE_DAYS = 366
SNOOZE_EXAMPLE = '/ecm snooze 12 until:end of month "Waiting for the Board decision"'
VIA_CHASER_DM = " (from their chaser DM)"
SNOOZED_FROM_DM = "Snoozed for a week from the chaser DM"
ADD_NOTE_DOING = "add an update to it"  # the refusal's words, also shown before a note form opens


@dataclass
class ActionResult:
    """What an operation did: the action as it is now, the replies, and a line for the person."""

    row: ActionRow
    replies: list[Reply]
    changed: bool
    confirmation: Mrkdwn
    diff: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def channel_post(self) -> Reply | None:
        return next((r for r in self.replies if r.visibility == Visibility.CHANNEL), None)


# ----- who may do what -----------------------------------------------------------------------------------


def actor_for(
    session: Session, group_id: int, user_id: str, *, now: datetime, today: date, via: str = ""
) -> Actor:
    """The actor for a surface that names the group itself (a DM button, a modal, an import)."""
    group = session.get(TaskGroup, group_id)
    if group is None:
        raise UserError("That task group no longer exists, so nothing was changed.")
    member = members.get_member(session, group_id, user_id)
    return Actor(
        session=session,
        group=group,
        user_id=user_id,
        is_chair=member is not None and member.role == Role.CHAIR,
        now=now,
        today=today,
        via=via,
    )


def can_change(actor: Actor, row: ActionRow) -> bool:
    """The one rule for changing an action: its owners or a chair of its group."""
    return actor.is_chair or actor.user_id in row.owners


def load_action(actor: Actor, number: int) -> ActionRow:
    row = store.get_action(actor.session, actor.group_id, number)
    if row is None:
        raise UserError(
            f"There is no action #{number} in this task group.", "`/ecm actions all` lists every action here."
        )
    return row


def load_for_change(actor: Actor, number: int, doing: str = "change it") -> ActionRow:
    """The action, if `actor` may change it (owners or a chair); otherwise a `UserError` saying who can."""
    row = load_action(actor, number)
    if not can_change(actor, row):
        raise UserError(
            md("Only the owners of #{} or a chair can {} (owners: {}).", number, doing, mentions(row.owners)),
            f"Ask one of them, or a chair (see `/ecm members`). Anyone can see it with `/ecm show {number}`.",
        )
    return row


def _require_chair_to_leave_dropped(actor: Actor, row: ActionRow, message: str) -> None:
    if row.action.status == ActionStatus.DROPPED and not actor.is_chair:
        raise UserError(message)


# ----- checks on typed input -----------------------------------------------------------------------------


def check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise UserError(
            "An action needs a title: say what will be done.",
            "For example `/ecm add Review school nurse referral pathway due:end of month`.",
        )
    if len(title) > MAX_TITLE:
        raise UserError(
            f"That title is too long ({len(title)} characters; the most is {MAX_TITLE}).",
            'Keep the title short and add detail as a note: `/ecm update N "note"`.',
        )
    return title


def check_note(note: str | None) -> str | None:
    """A note's text, or None when blank. Real mentions are `<@U…>`; text typed into a modal should go
    through `typed_text` first, so nothing in it becomes a mention."""
    if note is None or not note.strip():
        return None
    if len(note) > MAX_NOTE:
        raise UserError(f"That note is too long ({len(note)} characters; the most is {MAX_NOTE}).")
    return note


def typed_text(text: str) -> str:
    """Text a person typed into a form: anything that would render as a mention or broadcast is broken up
    (only mentions Slack itself sent are mentions)."""
    return typed(text.strip())


def past_due_warning(due: date | None, today: date, number: int) -> str | None:
    if due is not None and due < today:
        return (
            f":information_source: The due date {format_date(due)} is in the past. I saved it as given (groups record "
            f"history too); change it with `/ecm update {number} due:DATE` if that was a slip."
        )
    return None


def default_snooze_until(today: date) -> date:
    """A week of quiet: the last quiet day is six days on, so the chasers resume a week today."""
    return today + timedelta(days=SNOOZE_A_WEEK_DAYS - 1)


# ----- what people are told ------------------------------------------------------------------------------


def _title(row: ActionRow) -> str:
    return truncate(row.action.title, 200)


def change_post(
    actor: Actor, row: ActionRow, diff: dict[str, list[Any]], note: str | None, verb_name: str, lead: Mrkdwn
) -> Reply:
    """The channel post for a change: who, which action, each field from → to, the note, the action now."""
    number = row.action.number
    lines = [lead]
    lines += [md("• {}", line) for line in change_lines(diff)]
    if note:
        lines.append(quote(with_mentions(note)))
    lines.append(action_line(row, actor.today))
    summary = "; ".join(change_lines(diff)) or "note added"
    return Reply(
        text=f"#{number} {verb_name}: {summary}",
        visibility=Visibility.CHANNEL,
        sections=[Section(Mrkdwn("\n").join(lines))],
        footer=md("`/ecm show {}` for the full history", number),
    )


def _unchanged(actor: Actor, row: ActionRow, message: Mrkdwn) -> ActionResult:
    reply = Reply(text=message, sections=[Section(md("{}\n{}", message, action_line(row, actor.today)))])
    return ActionResult(row=row, replies=[reply], changed=False, confirmation=message)


def _already(actor: Actor, row: ActionRow, what: str) -> ActionResult:
    return _unchanged(actor, row, md("Nothing changed: *#{}* is already {}.", row.action.number, what))


def _changed(
    actor: Actor,
    row: ActionRow,
    diff: dict[str, list[Any]],
    note: str | None,
    verb_name: str,
    lead: Mrkdwn,
    confirmation: Mrkdwn,
) -> ActionResult:
    post = change_post(actor, row, diff, note, verb_name, lead)
    return ActionResult(row=row, replies=[post], changed=True, confirmation=confirmation, diff=diff)


def _apply(
    actor: Actor, row: ActionRow, fields: dict[str, Any], note: str | None, verb_name: str
) -> dict[str, list[Any]]:
    return store.update_action(
        actor.session, row, fields, by=actor.user_id, at=actor.now, note=note, verb=verb_name
    )


# ----- the operations ------------------------------------------------------------------------------------


def create(actor: Actor, new: NewAction, *, imported_from: str | None = None) -> ActionResult:
    """Adds an action (numbered next in the group), recorded as agreed at the meeting now open, if any.
    Owners default to the actor; the organisation to the first owner's registered one (with a note saying
    so when there is none). Audit verb "created" (or "imported", noting the file, for a row of an imported
    plan, which is never linked to the meeting that happens to be open); the channel is told."""
    record = _checked(actor, new)
    warnings: list[str] = []
    if not record.organisation and new.organisation is None:
        warnings.append(
            md(
                "{} has no registered organisation, so this action has none. A chair can register it with `/ecm member @name district:NAME`, or give `org:` on the action.",
                person(record.owners[0]),
            )
        )
    meeting = None if imported_from is not None else meetings.open_meeting(actor.session, actor.group_id)
    row = store.create_action(
        actor.session,
        actor.group,
        record,
        by=actor.user_id,
        at=actor.now,
        meeting_id=meeting.id if meeting else None,
        decision_id=new.decision_id,
        source_link=new.source_link if is_permalink(new.source_link) else None,
        verb="created" if imported_from is None else "imported",
        note=None if imported_from is None else f"Imported from {imported_from}",
    )
    number = row.action.number
    warning = past_due_warning(new.due_date, actor.today, number)
    if warning:
        warnings.insert(0, warning)
    decision, _meeting = store.links(actor.session, row.action)
    lines: list[Mrkdwn] = [
        md(":new: {} added action *#{}*{}", person(actor.user_id), number, actor.via),
        action_line(row, actor.today),
    ]
    if decision is not None:
        lines.append(md("From decision *D{}*: {}", decision.number, truncate(decision.text, 200)))
    if meeting is not None:
        lines.append(md("Agreed at {}.", meeting.title))
    if source_link(row.action):
        lines.append(md("Made from {}.", source_link(row.action)))
    replies = [
        Reply(
            text=md("New action #{}: {}", number, truncate(record.title, 200)),
            visibility=Visibility.CHANNEL,
            sections=[Section(Mrkdwn("\n").join(lines))],
            footer=md(
                "`/ecm show {0}` for details · `/ecm update {0} status:in-progress` · `/ecm done {0}`", number
            ),
        )
    ]
    if warnings:
        replies.append(
            Reply(
                text=f"Added #{number}, with a warning.",
                sections=[Section(md("Added *#{}*. {}", number, Mrkdwn("\n").join(warnings)))],
            )
        )
    return ActionResult(row=row, replies=replies, changed=True, confirmation=md(":new: Added #{}.", number))


def _checked(actor: Actor, new: NewAction) -> store.NewActionRecord:
    """A new action as stored: its title (checked), owners (the actor when none) and organisation (the
    first owner's registered one when not given, "" when they have none): `create`'s rules, which
    `create_many` shares."""
    owners = list(dict.fromkeys(new.owners)) or [actor.user_id]
    organisation = new.organisation
    if organisation is None:
        member = members.get_member(actor.session, actor.group_id, owners[0])
        organisation = member.organisation if member else ""
    return store.NewActionRecord(
        title=check_title(new.title),
        owners=owners,
        organisation=organisation,
        due_date=new.due_date,
        outcomes=new.outcomes,
        district_ids=new.district_ids,
        countywide=new.countywide,
    )


@dataclass(frozen=True)
class Checked:
    """A row of an imported plan that `check_new` accepted, ready for `create_many`."""

    record: store.NewActionRecord


def check_new(actor: Actor, new: NewAction) -> Checked:
    """`create`'s checks and defaults for one row of an imported plan (raises `UserError` as `create`
    would). An imported row has no decision and no source message."""
    if new.decision_id is not None or new.source_link is not None:
        raise ValueError("an imported action has no decision or source message")
    return Checked(_checked(actor, new))


def create_many(actor: Actor, rows: list[Checked], *, imported_from: str) -> list[int]:
    """Adds the rows of an imported plan as `create(..., imported_from=...)` adds one each (numbered
    next, in order; audited "imported", noting the file; never linked to the meeting now open), in a few
    statements for all of them (`storage.actions.bulk_create_actions`). No channel post: the import posts
    one line for all. Returns their numbers."""
    if not rows:
        return []
    ids = store.bulk_create_actions(
        actor.session,
        actor.group,
        [r.record for r in rows],
        by=actor.user_id,
        at=actor.now,
        verb="imported",
        note=f"Imported from {imported_from}",
    )
    first = store.number_of(actor.session, ids[0])
    return list(range(first, first + len(ids)))


def _status_verb(old: ActionStatus, new: ActionStatus) -> str:
    if new == old:
        return "updated"
    if new == ActionStatus.DONE:
        return "done"
    if new == ActionStatus.DROPPED:
        return "dropped"
    if old in (ActionStatus.DONE, ActionStatus.DROPPED) and new in LIVE_STATUSES:
        return "reopened"
    return "updated"


def change(actor: Actor, number: int, fields: ActionChange, note: str | None = None) -> ActionResult:
    """Changes the fields given in `fields` (owners or chairs), with an optional progress note. Setting
    status dropped is for chairs and needs the note as the reason; only a chair brings back a dropped
    action. Audit verb "updated" (or "done"/"dropped"/"reopened" when the status says so; "note" when only
    a note was added). The channel is told each field from → to."""
    row = load_for_change(actor, number, "update it")
    note = check_note(note)
    if fields.has("title"):
        fields = fields.model_copy(update={"title": check_title(fields.title or "")})
    wanted = fields.set_fields()
    if not wanted:
        if not note:
            raise UserError(f"Say what to change on #{number}, or add a note in quotes.")
        return add_note(actor, number, note)
    if fields.has("owners") and not fields.owners:
        raise UserError(f"#{number} needs at least one owner.", "Name them with `owner:@name`.")
    old_status = row.action.status
    new_status = fields.status if fields.has("status") and fields.status else old_status
    if new_status == ActionStatus.DROPPED and old_status != ActionStatus.DROPPED:
        if not actor.is_chair:
            raise UserError(f"Only a chair can drop #{number}.", STATUS_HELP)
        if not note:
            raise UserError(
                f"Say why #{number} is being dropped, in quotes.",
                f'For example `/ecm drop {number} "covered by the county strategy"`.',
            )
    if old_status == ActionStatus.DROPPED and new_status != ActionStatus.DROPPED and not actor.is_chair:
        raise UserError(f"#{number} was dropped by a chair; only a chair can bring it back.")
    verb_name = _status_verb(old_status, new_status)
    old_due = row.action.due_date
    org_note = _organisation_follows_owner(actor, row, wanted)
    diff = _apply(actor, row, wanted, note, verb_name)
    if not diff and not note:
        return _unchanged(actor, row, md("Nothing changed: *#{}* already has those values.", number))
    lead = (
        md("{} updated *#{}*{}:", person(actor.user_id), number, actor.via)
        if diff
        else _note_lead(actor, row)
    )
    result = _changed(actor, row, diff, note, verb_name, lead, md("#{} is updated.", number))
    if "due_date" in diff and row.action.due_date != old_due:
        warning = past_due_warning(row.action.due_date, actor.today, number)
        if warning:
            result.replies.append(Reply.note(warning))
    if org_note and "owners" in diff:
        result.replies.append(Reply.note(org_note))
    return result


def _organisation_follows_owner(actor: Actor, row: ActionRow, wanted: dict[str, Any]) -> Mrkdwn | None:
    """A handover moves the action to the new (first) owner's registered organisation, unless `org:` was
    given with it. Puts the organisation into `wanted` and returns the sentence saying so (or why not)."""
    owners = wanted.get("owners")
    if not owners or "organisation" in wanted or (row.owners and owners[0] == row.owners[0]):
        return None
    number, old = row.action.number, row.action.organisation
    member = members.get_member(actor.session, actor.group_id, owners[0])
    new = member.organisation if member else ""
    if not new:
        kept = md("stays with {}", old) if old else "still has none"
        return md(
            "{0} has no registered organisation, so #{1}'s organisation {2}. Give it with `/ecm update {1} org:NAME` if that is wrong.",
            person(owners[0]),
            number,
            kept,
        )
    if new == old:
        return None
    wanted["organisation"] = new
    keep = code(f"/ecm update {number} org:{_org_word(old) if old else 'none'}")
    return (
        md("The organisation moved with the new owner: #{} is now {}'s", number, new)
        + (md(" (was {})", old) if old else "")
        + md(". To keep it with {}, run {}, or give `org:` with the handover.", old or "none", keep)
    )


def _org_word(name: str) -> str:
    return f'"{name}"' if " " in name else name


def done(actor: Actor, number: int, note: str | None = None) -> ActionResult:
    """Marks the action done (owners or chairs; a dropped one, chairs only). Audit verb "done"."""
    row = load_for_change(actor, number, "mark it done")
    note = check_note(note)
    if row.action.status == ActionStatus.DONE:
        return _already(actor, row, "done")
    _require_chair_to_leave_dropped(
        actor, row, f"#{number} was dropped by a chair; only a chair can change it now."
    )
    diff = _apply(actor, row, {"status": ActionStatus.DONE}, note, "done")
    lead = md(
        ":white_check_mark: {} marked *#{}* done{}: {}",
        person(actor.user_id),
        number,
        actor.via,
        _title(row),
    )
    return _changed(
        actor, row, diff, note, "done", lead, md(":white_check_mark: #{} is marked done. Thank you!", number)
    )


def reopen(actor: Actor, number: int, note: str | None = None) -> ActionResult:
    """Reopens a done action (owners or chairs) or a dropped one (chairs). Audit verb "reopened"."""
    row = load_for_change(actor, number, "reopen it")
    note = check_note(note)
    if row.action.status in LIVE_STATUSES:
        return _already(actor, row, f"{STATUS_LABEL[row.action.status]} (not done or dropped)")
    _require_chair_to_leave_dropped(
        actor, row, f"#{number} was dropped by a chair; only a chair can reopen it."
    )
    diff = _apply(actor, row, {"status": ActionStatus.OPEN}, note, "reopened")
    lead = md(
        ":arrows_counterclockwise: {} reopened *#{}*{}: {}",
        person(actor.user_id),
        number,
        actor.via,
        _title(row),
    )
    return _changed(
        actor, row, diff, note, "reopened", lead, md(":arrows_counterclockwise: #{} is open again.", number)
    )


def drop(actor: Actor, number: int, reason: str | None) -> ActionResult:
    """Drops an action that will not be done (chairs), with the reason. It stays in the history. Audit verb
    "dropped"."""
    require_chair(actor.is_chair, "drop an action")
    row = load_action(actor, number)
    reason = check_note(reason)
    if not reason:
        raise UserError(
            f"Say why #{number} is being dropped, in quotes.",
            f'For example `/ecm drop {number} "Superseded by the county-wide strategy"`.',
        )
    if row.action.status == ActionStatus.DROPPED:
        return _already(actor, row, "dropped")
    diff = _apply(actor, row, {"status": ActionStatus.DROPPED}, reason, "dropped")
    lead = md(
        ":heavy_multiplication_x: {} dropped *#{}*{}: {}",
        person(actor.user_id),
        number,
        actor.via,
        _title(row),
    )
    return _changed(
        actor, row, diff, reason, "dropped", lead, md(":heavy_multiplication_x: #{} is dropped.", number)
    )


def snooze(actor: Actor, number: int, reason: str | None, until: date | None = None) -> ActionResult:
    """No chasers (DMs, nudges, escalations) for the action up to and including `until` — the last quiet
    day; default a week (`SNOOZE_A_WEEK_DAYS`), at most a year (owners or chairs; live actions only; a reason
    is required). Audit verb "snoozed"."""
    row = load_for_change(actor, number, "snooze its chasers")
    if row.action.status not in LIVE_STATUSES:
        raise UserError(
            f"#{number} is {STATUS_LABEL[row.action.status]}, so nobody is being chased about it."
        )
    reason = check_note(reason)
    if not reason:
        raise UserError(
            f"Say why the chasers for #{number} should pause, in quotes.", f"For example `{SNOOZE_EXAMPLE}`."
        )
    if until is None:
        until = default_snooze_until(actor.today)
    elif until < actor.today:
        raise UserError(
            f"{format_date(until)} is in the past; give the last day with no chasers.",
            f"For example `{SNOOZE_EXAMPLE}`.",
        )
    elif (until - actor.today).days > MAX_SNOOZE_DAYS:
        raise UserError(
            "A snooze can last a year at most. If the action is on hold for longer, say so with "
            f"`/ecm update {number} status:blocked` or change its due date."
        )
    diff = _apply(actor, row, {"snoozed_until": until}, reason, "snoozed")
    resume = next_working_day(until + timedelta(days=1))
    lead = md(
        ":zzz: {} snoozed the chasers for *#{}*{} up to and including {} (they resume {}): {}",
        person(actor.user_id),
        number,
        actor.via,
        format_date(until),
        format_date(resume),
        _title(row),
    )
    return _changed(
        actor,
        row,
        diff,
        reason,
        "snoozed",
        lead,
        md(":zzz: No chasers for #{} until {}.", number, format_date(resume)),
    )


def end_snooze(actor: Actor, number: int) -> ActionResult:
    """Ends a snooze early (owners or chairs). Audit verb "unsnoozed"."""
    row = load_for_change(actor, number, "snooze its chasers")
    if row.action.snoozed_until is None or row.action.snoozed_until < actor.today:
        raise UserError(f"#{number} is not snoozed, so there is nothing to end.")
    diff = _apply(actor, row, {"snoozed_until": None}, None, "unsnoozed")
    lead = md(
        ":alarm_clock: {} ended the snooze on *#{}*{}: {}",
        person(actor.user_id),
        number,
        actor.via,
        _title(row),
    )
    return _changed(
        actor, row, diff, None, "unsnoozed", lead, md(":alarm_clock: #{} will be chased again.", number)
    )


def add_note(actor: Actor, number: int, text: str) -> ActionResult:
    """A progress note on the action (owners or chairs). Audit verb "note"."""
    row = load_for_change(actor, number, ADD_NOTE_DOING)
    note = check_note(text)
    if not note:
        raise UserError(f"Write a few words about progress on #{number}.")
    store.add_note(actor.session, row, note, by=actor.user_id, at=actor.now)
    return _changed(
        actor,
        row,
        {},
        note,
        "note",
        _note_lead(actor, row),
        md(":memo: Your update on #{} is saved.", number),
    )


def _note_lead(actor: Actor, row: ActionRow) -> Mrkdwn:
    # A DM button's "Add update" reads as an update; a command's note as a note.
    noun = "an update" if actor.via else "a note"
    return md(
        ":memo: {} added {} to *#{}*{}: {}",
        person(actor.user_id),
        noun,
        row.action.number,
        actor.via,
        _title(row),
    )


def hand_over(actor: Actor, number: int, owners: list[str], note: str | None = None) -> ActionResult:
    """Gives the action to new owners (owners or chairs), with an optional note. Audit verb "updated"
    with the owners from → to."""
    row = load_for_change(actor, number, "hand it over")
    owners = list(dict.fromkeys(owners))
    if not owners:
        raise UserError(f"Who should #{number} go to?", f"For example `/ecm update {number} owner:@priya`.")
    note = check_note(note)
    wanted: dict[str, Any] = {"owners": owners}
    org_note = _organisation_follows_owner(actor, row, wanted)
    diff = _apply(actor, row, wanted, note, "updated")
    if not diff:
        return _unchanged(
            actor, row, md("Nothing changed: {} already own *#{}*.", mentions(row.owners), number)
        )
    lead = md(
        ":handshake: {} handed *#{}* over to {}{}: {}",
        person(actor.user_id),
        number,
        mentions(row.owners),
        actor.via,
        _title(row),
    )
    result = _changed(actor, row, diff, note, "updated", lead, md(":handshake: #{} is handed over.", number))
    if org_note:
        result.replies.append(Reply.note(org_note))
    return result
