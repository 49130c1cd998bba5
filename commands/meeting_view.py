"""How meetings look in Slack: the header and matters arising, the minutes, the attendance summary, and the
next scheduled dates. Plain reply data; user text escaped by `commands.mrkdwn`.

Slack limits: a section holds 3000 characters and a message 50 blocks (the renderer splits longer replies
across messages). Minutes posted in the channel keep one section per part and summarise a long part with a
pointer to `/ecm minutes N`, which shows every part in full (each still bounded).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from commands.action_view import action_line, progress_text
from commands.dates import DateError, format_date, format_datetime, read_date
from commands.grammar import Args
from commands.grammar import text_with_mentions as grammar_text_with_mentions
from commands.mrkdwn import Mrkdwn, clip, code, md, person, text, with_mentions
from commands.recurrence import describe_recurrence, occurrences
from commands.replies import Button, Reply, Section, UserError, Visibility
from commands.text import plural, truncate
from storage import attendance as attendance_store
from storage import decisions as decision_store
from storage import groups
from storage import meetings as meeting_store
from storage import members as member_store
from storage import schedules as schedule_store
from storage.actions import ActionFilter, ActionRow, Progress, as_it_stood, page_of_actions, progress_between
from storage.groups import name_key
from storage.models import (
    REPRESENTED_MODES,
    Attendance,
    AttendanceMode,
    Decision,
    Meeting,
    MeetingNote,
    MeetingSchedule,
    MeetingStatus,
    Member,
    TaskGroup,
)

SHARE_MINUTES = "ecm_share_minutes"
CHANNEL_PART = 2800  # one section (one block) per part of the minutes posted in the channel
# `/ecm minutes`: a part may run to 18 blocks, so even the longest minutes fit in three messages (the renderer
# splits at 50 blocks), well within the five replies Slack allows on one response_url.
FULL_PART = 18 * 2800
SUMMARY_PART = 6 * 2800  # the attendance summary posted in the channel
MAX_LINE = 2750  # a safety net: every line is built shorter (people lists are cut whole-entry)
DEFAULT_LAST = 6
MATTERS_ARISING_LIMIT = 150  # actions listed in the matters arising (the count covers them all)
MEETING_ACTIONS_LIMIT = 300  # actions raised, listed in the minutes

MODE_TITLES = {
    AttendanceMode.PRESENT: "Present",
    AttendanceMode.SUBSTITUTE: "Substitutes",
    AttendanceMode.VIRTUAL: "Joined remotely",
    AttendanceMode.APOLOGIES: "Apologies",
    AttendanceMode.ABSENT: "Absent",
    AttendanceMode.GUEST: "Guests",
}


# ----- small pieces ---------------------------------------------------------------------------------------


def text_with_mentions(args: Args) -> str:
    return grammar_text_with_mentions(args.tokens)


show_text = with_mentions


def org_text(organisation: str) -> Mrkdwn:
    return text(organisation) if organisation.strip() else Mrkdwn("organisation not set")


def local_midnight(d: date, tz: str) -> datetime:
    """The start of a local day, as aware UTC."""
    return datetime.combine(d, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


PERIOD_STARTS = frozenset({"since", "from"})  # keys whose month (week, year …) means its first day
PERIOD_ENDS = frozenset({"until", "before", "to"})  # keys whose month means its last day (or today)


def _year_earlier(first: date, last: date) -> tuple[date, date]:
    rolled = first - relativedelta(years=1)
    if last == date(last.year, last.month, calendar.monthrange(last.year, last.month)[1]) and last != first:
        return rolled, date(rolled.year, last.month, 1) + relativedelta(months=1, days=-1)
    return rolled, rolled + (last - first)


def past_date(text: str, today: date, key: str) -> date:
    """A `since:`-style date: `1 Sep` in November is the September gone, not next year's.

    A phrase naming a whole period (`march`, `this month`, `this week`, `w/c 2 Nov 2026` …) is read by the key's edge:
    `since:`/`from:` take its first day (`since:march` is 1 March), `until:`/`before:`/`to:` its last day, or
    today while the period is still running (`until:this month`). Other keys take the date as `due:` would.
    """
    try:
        reading = read_date(text, today)
    except DateError as error:
        raise UserError(str(error), f"For example `{key}:1 Sep 2026`.") from error
    first, last = (
        reading.period if reading.period and key in PERIOD_STARTS | PERIOD_ENDS else (reading.day,) * 2
    )
    if first > today + timedelta(days=7) and not re.search(
        r"\d{4}|\b(?:next|this|in|within)\b", text.lower()
    ):
        first, last = _year_earlier(first, last)  # 29 February a year earlier is the 28th
    day = first if key in PERIOD_STARTS else last
    if key in PERIOD_ENDS and first <= today < last:
        day = today  # the period so far
    if day > today:
        raise UserError(
            f"`{key}:` is in the future ({format_date(day)}).", f"Give a past date, e.g. `{key}:1 Sep 2026`."
        )
    return day


def when_of(meeting: Meeting) -> datetime:
    return meeting.started_at or meeting.scheduled_for or meeting.created_at


def meeting_name(meeting: Meeting, number: int | None) -> str:
    return f"Meeting {number}" if number else "Meeting"


def meeting_label(meeting: Meeting, number: int | None, tz: str) -> Mrkdwn:
    """`Meeting 3 · *Title* · Mon 23 Nov 2026, 10:00` (mrkdwn)."""
    return md(
        "{} · *{}* · {}", meeting_name(meeting, number), meeting.title, format_datetime(when_of(meeting), tz)
    )


def attendance_entry(record: Attendance) -> Mrkdwn:
    if record.mode == AttendanceMode.GUEST:  # under Guests: the organisation is only where they are from
        return md("{} (from {})", person(record.user_id), org_text(record.organisation))
    entry = md("{} ({}", person(record.user_id), org_text(record.organisation))
    if record.substitute_for:
        entry += md(", for {}", person(record.substitute_for))
    return entry + Mrkdwn(")")


def budgeted(
    title: Mrkdwn, lines: Sequence[Mrkdwn], budget: int, more: Mrkdwn | str, total: int | None = None
) -> tuple[Mrkdwn, bool]:
    """`title` and as many `lines` as fit in `budget` characters, then "… and N more — `more`".
    Returns (text, whether anything was left out)."""
    text = title
    shown = 0
    for line in lines:
        line = clip(line, MAX_LINE)
        if len(text) + len(line) + 1 > budget - 160:
            break
        text += Mrkdwn("\n") + line
        shown += 1
    left = (total if total is not None else len(lines)) - shown
    if left > 0:
        text += md("\n_… and {} more — {}_", left, more)
    return text, left > 0


def people_line(label: str, entries: Sequence[str], limit: int = 1400) -> Mrkdwn:
    """`*Present (3):* a, b, c` (entries escaped unless `Mrkdwn`), cut to `limit` characters with a count of
    the rest."""
    line = md("*{} ({}):* ", label, len(entries))
    shown: list[Mrkdwn] = []
    for entry in map(text, entries):
        if len(line) + sum(len(s) + 2 for s in shown) + len(entry) > limit:
            break
        shown.append(entry)
    line += Mrkdwn(", ").join(shown) if shown else Mrkdwn("none")
    if len(shown) < len(entries):
        line += md(" _and {} more_", len(entries) - len(shown))
    return line


# ----- schedules ------------------------------------------------------------------------------------------


def excluded_dates(schedule: MeetingSchedule) -> frozenset[date]:
    out = set()
    for day_text in schedule.cancelled_dates or []:
        try:
            out.add(date.fromisoformat(day_text))
        except ValueError:
            continue
    return frozenset(out)


def schedule_occurrences(
    schedule: MeetingSchedule,
    tz: str,
    after: datetime,
    count: int = 3,
    until: date | None = None,
    include_cancelled: bool = False,
) -> list[datetime]:
    last = schedule.until if until is None else (min(until, schedule.until) if schedule.until else until)
    return occurrences(
        schedule.rrule,
        schedule.start_date,
        schedule.local_time,
        tz,
        after,
        count=count,
        until=last,
        exclude=frozenset() if include_cancelled else excluded_dates(schedule),
    )


@dataclass
class Upcoming:
    at: datetime
    schedule: MeetingSchedule


def upcoming(session: Session, group: TaskGroup, after: datetime, tz: str, count: int = 3) -> list[Upcoming]:
    """The next `count` scheduled meetings of the group after `after`, cancelled dates left out, and so are
    dates already taken by a meeting started early (open now, held or cancelled while open)."""
    found: list[Upcoming] = []
    for s in schedule_store.active_schedules(session, group.id):  # type: ignore[arg-type]
        # Only a meeting started within two hours before its slot can have taken a future date: one spare.
        for at in schedule_occurrences(s, tz, after, count + 1):
            taken = meeting_store.meeting_for_occurrence(session, s.id, at)  # type: ignore[arg-type]
            if taken is None or taken.started_at is None:
                found.append(Upcoming(at, s))
    return sorted(found, key=lambda u: u.at)[:count]


def nearest_occurrence(
    session: Session, group: TaskGroup, now: datetime, tz: str, window: timedelta = timedelta(hours=2)
) -> Upcoming | None:
    """A scheduled meeting within `window` of now that has not been held or cancelled yet (cancelled dates are
    left out of the occurrences; a meeting cancelled after it was opened leaves its date free to start again)."""
    best: Upcoming | None = None
    for schedule in schedule_store.active_schedules(session, group.id):  # type: ignore[arg-type]
        for at in schedule_occurrences(schedule, tz, now - window - timedelta(microseconds=1), 3):
            if at > now + window:
                break
            taken = meeting_store.meeting_for_occurrence(session, schedule.id, at)  # type: ignore[arg-type]
            if taken is not None and taken.status != MeetingStatus.CANCELLED:
                continue  # held or open; a meeting cancelled while open may be started again in its place
            if best is None or abs(at - now) < abs(best.at - now):
                best = Upcoming(at, schedule)
    return best


def upcoming_lines(
    session: Session, group: TaskGroup, now: datetime, tz: str, count: int = 3
) -> list[Mrkdwn]:
    """The next meetings and the cancelled dates ahead, in date order (a cancelled date sits where the
    meeting would have been)."""
    dated = [
        (u.at, md("• {} — {}", format_datetime(u.at, tz), u.schedule.title))
        for u in upcoming(session, group, now, tz, count)
    ]
    for m in meeting_store.upcoming_cancelled(session, group.id, after=now):  # type: ignore[arg-type]
        reason = md(": {}", truncate(m.cancel_reason, 200)) if m.cancel_reason else ""
        at = when_of(m)
        dated.append((at, md("• ~{}~ — {} *cancelled*{}", format_datetime(at, tz), m.title, reason)))
    return [line for _, line in sorted(dated, key=lambda pair: pair[0])]


def schedule_line(schedule: MeetingSchedule, tz: str) -> Mrkdwn:
    line = md(
        "*{}*: {} at {:%H:%M} ({}), from {}",
        schedule.title,
        describe_recurrence(schedule.rrule),
        schedule.local_time,
        tz,
        format_date(schedule.start_date),
    )
    if schedule.until:
        line += md(" until {}", format_date(schedule.until))
    cancelled = sorted(excluded_dates(schedule))
    if cancelled:
        line += Mrkdwn("; cancelled: ") + Mrkdwn(", ").join(format_date(d) for d in cancelled[-6:])
    return line


# ----- matters arising --------------------------------------------------------------------------------------


def matters_arising_sections(
    rows: list[ActionRow], total: int, today: date, max_groups: int = 36
) -> list[Section]:
    """Open actions from earlier meetings and overdue actions, one section per owning organisation."""
    if not rows:
        return [
            Section(
                Mrkdwn("*Matters arising:* none — no open actions from earlier meetings and nothing overdue.")
            )
        ]
    sections = [
        Section(
            md(
                "*Matters arising ({})* — open actions from earlier meetings and overdue actions, by organisation:",
                total,
            )
        )
    ]
    grouped = [(org, list(items)) for org, items in groupby(rows, key=lambda r: r.action.organisation or "")]
    for org, items in grouped[:max_groups]:
        text, _ = budgeted(
            md("*{}* ({})", org_text(org) if org else "No organisation", len(items)),
            [action_line(r, today) for r in items],
            CHANNEL_PART,
            "`/ecm actions` lists them all",
        )
        sections.append(Section(text))
    left = total - sum(len(items) for _, items in grouped[:max_groups])
    if left > 0:
        sections.append(
            Section(
                md(
                    "_… and {}: `/ecm actions overdue` and `/ecm actions` list them all._",
                    plural(left, "more action"),
                )
            )
        )
    return sections


# ----- minutes -------------------------------------------------------------------------------------------------


def expected_organisations(districts: Sequence[str], members: Sequence[Member]) -> list[str]:
    """Every district of the group and every registered member's organisation, each once."""
    seen: dict[str, str] = {}
    for name in [*districts, *(m.organisation for m in members)]:
        key = name_key(name)
        if key and key not in seen:
            seen[key] = name
    return list(seen.values())


def not_represented(expected: Sequence[str], records: Sequence[Attendance]) -> list[str]:
    represented = {name_key(r.organisation) for r in records if r.mode in REPRESENTED_MODES}
    return [name for name in expected if name_key(name) not in represented]


@dataclass
class Minutes:
    """Everything the minutes of one meeting show, loaded in one go (`load_minutes`); `render_minutes`
    formats it without touching the database."""

    group_name: str
    tz: str
    meeting: Meeting
    number: int | None
    today: date
    attendance: list[Attendance]  # the latest record per person
    missing: list[str] | None  # organisations not represented; None for a cancelled meeting nobody attended
    decisions: list[Decision]
    actions: list[ActionRow]
    actions_total: int
    notes: list[MeetingNote]
    # Progress reported on earlier actions while the meeting was open (its matters arising), each action as
    # it stood when the meeting ended; `today` is then the day it ended, so the minutes read the same later.
    arising: list[Progress] = field(default_factory=list)
    arising_total: int = 0


def load_minutes(session: Session, group: TaskGroup, meeting: Meeting, today: date, tz: str) -> Minutes:
    assert group.id is not None and meeting.id is not None
    records = attendance_store.current_attendance(session, meeting.id)
    missing = None
    if meeting.status != MeetingStatus.CANCELLED or records:
        districts = [d.name for d in groups.list_districts(session, group.id)]
        members = member_store.list_members(session, group.id)
        missing = not_represented(expected_organisations(districts, members), records)
    rows, total = page_of_actions(
        session, ActionFilter.raised_at(meeting.id), limit=MEETING_ACTIONS_LIMIT, order="number"
    )
    arising: list[Progress] = []
    arising_total = 0
    window = meeting_store.meeting_window(session, meeting)
    if window is not None:
        arising, arising_total = progress_between(
            session,
            group.id,
            after_event=window.first,
            up_to_event=window.last,
            limit=MATTERS_ARISING_LIMIT,
        )
        if window.last is not None:  # the record: every action as it stood when the meeting ended
            rows = as_it_stood(session, rows, window.last)
            stood = as_it_stood(session, [p.row for p in arising], window.last)
            arising = [Progress(row, p.events) for row, p in zip(stood, arising, strict=True)]
    if meeting.status != MeetingStatus.OPEN and meeting.ended_at is not None:
        today = meeting.ended_at.astimezone(ZoneInfo(tz)).date()
    return Minutes(
        group_name=group.name,
        tz=tz,
        meeting=meeting,
        number=meeting_store.meeting_number(session, meeting),
        today=today,
        arising=arising,
        arising_total=arising_total,
        attendance=records,
        missing=missing,
        decisions=decision_store.meeting_decisions(session, meeting.id),
        actions=rows,
        actions_total=total,
        notes=meeting_store.meeting_notes(session, meeting.id),
    )


def meeting_span(meeting: Meeting, tz: str) -> str:
    """`Wed 2 Dec 2026, 10:00–11:35`: the date once; the start alone when the meeting has no end yet or
    ended the minute it started; both dates when it ran past midnight."""
    started = when_of(meeting)
    when = format_datetime(started, tz)
    ended = meeting.ended_at
    if not (ended and meeting.started_at and meeting.status == MeetingStatus.CLOSED):
        return when
    zone = ZoneInfo(tz)
    start_local, end_local = started.astimezone(zone), ended.astimezone(zone)
    if f"{end_local:%Y-%m-%d %H:%M}" == f"{start_local:%Y-%m-%d %H:%M}":
        return when
    if end_local.date() == start_local.date():
        return f"{when}–{end_local:%H:%M}"
    return f"{when} – {format_datetime(ended, tz)}"  # left open overnight


def arising_section(m: Minutes, budget: int, ref: Mrkdwn) -> Section:
    """Matters arising: each earlier action progress was reported on while the meeting was open, as it stood
    at the end, with who reported what (updates, closures, reopenings, notes)."""
    if not m.arising:
        still = "so far " if m.meeting.status == MeetingStatus.OPEN else ""
        return Section(md("*Matters arising:* no progress was reported {}on earlier actions.", still))
    lines: list[Mrkdwn] = []
    for progress in m.arising:
        entry = action_line(progress.row, m.today)
        for event in progress.events[-6:]:
            entry += Mrkdwn("\n        ↳ ") + progress_text(event, 200)
        if len(progress.events) > 6:
            entry += md("\n        ↳ _and {} earlier_", plural(len(progress.events) - 6, "change"))
        lines.append(entry)
    as_at = "as they stood at the end" if m.meeting.status != MeetingStatus.OPEN else "as they stand now"
    shown, _ = budgeted(
        md(
            "*Matters arising ({})* — progress reported on earlier actions during the meeting, {}:",
            m.arising_total,
            as_at,
        ),
        lines,
        budget,
        ref,
        m.arising_total,
    )
    return Section(shown)


def render_minutes(m: Minutes, *, full: bool, shared_by: str | None = None) -> Reply:
    """The minutes of one meeting. `full`: every part at length (ephemeral, with a share button); otherwise
    the channel version: one section per part, long parts summarised with a pointer to `/ecm minutes N`."""
    meeting, number, tz, today = m.meeting, m.number, m.tz, m.today
    ref = code(f"/ecm minutes {number}" if number else "/ecm minutes")
    budget = FULL_PART if full else CHANNEL_PART
    summarised = False

    started = when_of(meeting)
    when = meeting_span(meeting, tz)
    head: list[Mrkdwn] = [
        md("*{}* · {}", m.group_name, meeting_name(meeting, number)),
        md("*When:* {} ({})", when, tz),
    ]
    if meeting.chair_user_id:
        head.append(md("*Chair:* {}", person(meeting.chair_user_id)))
    if meeting.scheduled_for and meeting.started_at:
        head.append(md("*Scheduled for:* {}", format_datetime(meeting.scheduled_for, tz)))
    if meeting.status == MeetingStatus.OPEN:
        head.append(Mrkdwn("_The meeting is still open: these are the minutes so far._"))
    elif meeting.status == MeetingStatus.CANCELLED:
        reason = md(": {}", meeting.cancel_reason) if meeting.cancel_reason else ""
        head.append(md(":no_entry_sign: *Cancelled*{}. It does not count in attendance figures.", reason))
    sections = [Section(Mrkdwn("\n").join(head))]

    records = m.attendance
    by_mode: dict[AttendanceMode, list[Mrkdwn]] = {mode: [] for mode in MODE_TITLES}
    for record in records:
        by_mode[record.mode].append(attendance_entry(record))
    if records:
        shown = [
            (mode, entries)
            for mode, entries in by_mode.items()
            if entries or mode in (AttendanceMode.PRESENT, AttendanceMode.APOLOGIES)
        ]
        # In the channel every kind of attendance gets its line in the one section, each cut to its share.
        limit = 2700 if full else max(300, 2500 // len(shown))
        lines = [people_line(MODE_TITLES[mode], entries, limit) for mode, entries in shown]
        summarised |= any(line.endswith("more_") for line in lines)
        text, cut = budgeted(
            Mrkdwn("*Attendance*"), lines, budget, md("{} or `/ecm attendance by:member`", ref)
        )
        summarised |= cut
    else:
        text = Mrkdwn("*Attendance:* nobody was recorded.")
    sections.append(Section(text))

    if m.missing is not None:
        line = people_line("Not represented", m.missing, 2600 if not full else 2700)
        summarised |= line.endswith("more_")
        sections.append(
            Section(
                line
                if m.missing
                else Mrkdwn("*Not represented:* every district and partner was represented.")
            )
        )

    sections.append(arising_section(m, budget, ref))
    summarised |= m.arising_total > len(m.arising) or sections[-1].text.endswith(f"{ref}_")

    decisions = m.decisions
    lines = [md("• *D{}* _({})_ {}", d.number, d.status.value, show_text(d.text)) for d in decisions]
    text, cut = budgeted(
        md("*Decisions ({})*", len(decisions)), lines, budget, Mrkdwn("`/ecm decisions` lists them all")
    )
    summarised |= cut
    sections.append(Section(text if decisions else Mrkdwn("*Decisions:* none recorded.")))

    total = m.actions_total
    text, cut = budgeted(
        md("*Actions raised ({})*", total),
        [action_line(r, today) for r in m.actions],
        budget,
        Mrkdwn("`/ecm actions all` lists them all"),
        total,
    )
    summarised |= cut
    sections.append(Section(text if total else Mrkdwn("*Actions raised:* none.")))

    lines = [md("• {} — {}", show_text(n.text), person(n.author)) for n in m.notes]
    text, cut = budgeted(md("*Notes ({})*", len(m.notes)), lines, budget, ref)
    summarised |= cut
    sections.append(Section(text if m.notes else Mrkdwn("*Notes:* none.")))

    footer = md("{} · {} shows these minutes again", meeting_name(meeting, number), ref)
    if summarised and not full:
        footer = md("Some parts are summarised: {} shows them in full. ", ref) + footer
    if shared_by:
        footer = md("Shared by {} · ", person(shared_by)) + footer
    if full:
        command = f"/ecm minutes {number} share" if number else "/ecm minutes share"
        sections.append(
            Section(
                md("Only you can see this. Share it with the group with the button, or {}.", code(command)),
                buttons=[Button("Share in channel", SHARE_MINUTES, str(meeting.id), "primary")],
            )
        )
    represented = sum(len(by_mode[m]) for m in REPRESENTED_MODES)
    plain = md(
        "Minutes of {}, {}: {} attending, {} apologies, {}, {} raised.",
        meeting.title,
        format_date(started.astimezone(ZoneInfo(tz)).date()),
        represented,
        len(by_mode[AttendanceMode.APOLOGIES]),
        plural(len(decisions), "decision"),
        plural(total, "action"),
    )
    return Reply(
        text=plain,
        visibility=Visibility.EPHEMERAL if full else Visibility.CHANNEL,
        header=truncate(f"Minutes: {meeting.title}", 150),
        sections=sections,
        footer=footer,
    )


def minutes_reply(
    session: Session,
    group: TaskGroup,
    meeting: Meeting,
    today: date,
    tz: str,
    *,
    full: bool,
    shared_by: str | None = None,
) -> Reply:
    """Load, then render: the minutes of one meeting as a reply."""
    return render_minutes(load_minutes(session, group, meeting, today, tz), full=full, shared_by=shared_by)


# ----- attendance summary --------------------------------------------------------------------------------------


def tally_line(name: str, t: attendance_store.Tally) -> Mrkdwn:
    parts = []
    for count, word in ((t.present, "present"), (t.substitute, "by substitute"), (t.virtual, "remotely")):
        if count:
            parts.append(f"{count} {word}")
    line = md("• {} — represented at {} of {}", name, t.represented, plural(t.held, "meeting"))
    if parts and (t.substitute or t.virtual):
        line += md(" ({})", ", ".join(parts))
    line += _misses(t)
    if t.below_half:
        line += Mrkdwn(" — *represented at fewer than half*")
    return line


def _misses(t: attendance_store.Tally) -> str:
    """ "; 1 apology, absent from 2" — only what happened, with plurals right."""
    parts = []
    if t.apologies:
        parts.append(plural(t.apologies, "apology", "apologies"))
    if t.absent:
        parts.append(f"absent from {t.absent}")
    return "; " + ", ".join(parts) if parts else ""


def member_line(user_id: str, organisation: str, t: attendance_store.Tally) -> Mrkdwn:
    parts = []
    for count, word in ((t.substitute, "as substitute"), (t.virtual, "remotely")):
        if count:
            parts.append(f"{count} {word}")
    if not t.held:
        return md("• {} ({}) — joined since these meetings", person(user_id), org_text(organisation))
    line = md(
        "• {} ({}) — attended {} of {}",
        person(user_id),
        org_text(organisation),
        t.represented,
        plural(t.held, "meeting"),
    )
    if parts:
        line += md(" ({})", ", ".join(parts))
    line += _misses(t)
    if t.expected and t.held and t.represented * 2 < t.held:
        line += Mrkdwn(" — *attended fewer than half*")
    return line


@dataclass
class AttendanceCounts:
    """The counts an attendance summary shows, loaded in one go (`load_attendance`): per organisation, or
    per member (user id, organisation, counts) when `by_member`."""

    tz: str
    meetings: list[Meeting]  # the meetings counted, oldest first
    by_member: bool
    organisations: list[attendance_store.Tally]
    members: list[tuple[str, str, attendance_store.Tally]]
    # Districts nobody is registered for: a gap in membership, named once, not counted as missing meetings.
    unregistered: list[str] = field(default_factory=list)


def load_attendance(
    session: Session,
    group: TaskGroup,
    choice: attendance_store.MeetingChoice,
    tz: str,
    *,
    by_member: bool,
    organisation: str | None,
) -> AttendanceCounts:
    assert group.id is not None
    members = member_store.list_members(session, group.id)
    if by_member:
        per_member = attendance_store.member_tallies(session, choice, members, organisation)
        return AttendanceCounts(tz, choice.meetings, True, [], per_member)
    districts = [d.name for d in groups.list_districts(session, group.id)]
    tallies = attendance_store.organisation_tallies(
        session, choice, expected_organisations(districts, members), organisation
    )
    registered = {name_key(m.organisation) for m in members if m.organisation}
    district_keys = {name_key(d) for d in districts}
    gap = {name_key(d) for d in districts if name_key(d) not in registered}
    # A district with no member is a membership gap unless someone still came for it.
    unregistered = sorted(
        (t.name for t in tallies if name_key(t.name) in gap and not t.represented), key=str.lower
    )
    kept = [t for t in tallies if t.name not in unregistered]
    # Districts first, then the other organisations, each alphabetically.
    kept.sort(key=lambda t: (name_key(t.name) not in district_keys, t.name.lower()))
    return AttendanceCounts(tz, choice.meetings, False, kept, [], unregistered)


def render_attendance(
    counts: AttendanceCounts, *, visibility: Visibility, scope: str, channel: bool
) -> Reply:
    """Counts per organisation (or per member) over the chosen meetings; cancelled meetings never count."""
    tz = counts.tz
    held = len(counts.meetings)
    budget = SUMMARY_PART if channel else FULL_PART
    intro: list[Mrkdwn] = []
    if held:
        first, last = counts.meetings[0], counts.meetings[-1]
        span = format_date(when_of(first).astimezone(ZoneInfo(tz)).date())
        if held > 1:
            span += " – " + format_date(when_of(last).astimezone(ZoneInfo(tz)).date())
        intro.append(
            md(
                "Over {}: {} held, {}. Cancelled meetings are not counted.",
                scope,
                plural(held, "meeting"),
                span,
            )
        )
    else:
        intro.append(
            md(
                "No meetings held {}, so there is nothing to count. Cancelled meetings are not counted.",
                "yet" if scope.startswith("the last") else "in that period",
            )
        )
    sections: list[Section] = []
    if counts.by_member:
        rows = counts.members
        lines = [member_line(u, org, t) for u, org, t in rows]
        title = Mrkdwn("*By member*")
        low = [person(u) for u, _, t in rows if t.expected and t.held and t.represented * 2 < t.held]
        if held and low:
            intro.append(
                md(
                    "Attended fewer than half of these meetings: {}{}.",
                    Mrkdwn(", ").join(low[:40]),
                    f" and {len(low) - 40} more" if len(low) > 40 else "",
                )
            )
    else:
        tallies = counts.organisations
        lines = [tally_line(t.name, t) for t in tallies]
        title = Mrkdwn("*By organisation*")
        low = [text(t.name) for t in tallies if t.below_half]
        if held and low:
            intro.append(md("Represented at fewer than half of these meetings: {}.", Mrkdwn(", ").join(low)))
        elif held:
            intro.append(
                Mrkdwn("Every district and partner was represented at half of these meetings or more.")
            )
        if held and counts.unregistered:
            intro.append(
                md(
                    "No member is registered for {}: {} — a gap in membership rather than missed meetings "
                    "(`/ecm member @name district:NAME`).",
                    plural(len(counts.unregistered), "district"),
                    Mrkdwn(", ").join(counts.unregistered),
                )
            )
    sections.append(Section(Mrkdwn("\n").join(intro)))
    if held:
        body, _ = budgeted(title, lines, budget, Mrkdwn("narrow it with `district:NAME` or `since:DATE`"))
        sections.append(Section(body if lines else md("{}: nobody to count.", title)))
    plain = f"Attendance over {scope}: {plural(held, 'meeting')} held."
    if low and held:
        plain += f" Fewer than half: {len(low)}."
    footer = Mrkdwn(
        "Counts, not percentages. `/ecm attendance by:member`, `last:N`, `since:DATE`, `district:NAME`."
        if not channel
        else "`/ecm attendance` any time; `by:member` for each person."
    )
    return Reply(
        text=plain, visibility=visibility, header=f"Attendance: {scope}", sections=sections, footer=footer
    )


def attendance_reply(
    session: Session,
    group: TaskGroup,
    choice: attendance_store.MeetingChoice,
    tz: str,
    *,
    by_member: bool,
    organisation: str | None,
    visibility: Visibility,
    scope: str,
    channel: bool,
) -> Reply:
    """Load, then render: the attendance counts over the chosen meetings as a reply."""
    counts = load_attendance(session, group, choice, tz, by_member=by_member, organisation=organisation)
    return render_attendance(counts, visibility=visibility, scope=scope, channel=channel)


def status_word(meeting: Meeting) -> str:
    return {
        MeetingStatus.OPEN: "open now",
        MeetingStatus.CLOSED: "held",
        MeetingStatus.CANCELLED: "cancelled",
        MeetingStatus.SCHEDULED: "scheduled",
    }[meeting.status]


def linked_action_text(action_number: int, title: str, status: str, due: date | None) -> Mrkdwn:
    due_part = f", due {format_date(due)}" if due else ""
    return md("#{} {} ({}{})", action_number, truncate(title, 120), status, due_part)
