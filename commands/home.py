"""The App Home tab, without Slack: `load_home` reads what one person needs (a plain view model) and
`home_page` lays it out as plain parts within Slack's budget of 100 blocks; `bot/home.py` turns the parts
into Block Kit. Every part's text is `Mrkdwn` (a `Section` of `commands.replies`, or a `Context`), built with
`commands.mrkdwn`, so user text in it (titles, names, organisations, meeting titles) is escaped by type;
headings are the bot's own plain text.

What a person sees: their open actions across every task group (overdue first, then by due date) with Done,
Update and Snooze buttons; for chairs, what is overdue in the groups they chair and how much is due soon; the
next meeting of each group with its matters arising; a New action button; and, for someone in no group, what
a task group is and how to start one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands import mrkdwn
from commands.action_view import DUE_SOON_DAYS, action_line, source_link
from commands.dates import format_datetime
from commands.meeting_view import upcoming
from commands.mrkdwn import Mrkdwn, bold, clip, md
from commands.replies import Button, Section
from commands.text import plural, truncate
from storage import actions as store
from storage import groups as group_store
from storage import meetings as meeting_store
from storage import members as member_store
from storage.actions import ActionFilter, ActionRow
from storage.models import Role, TaskGroup

MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab
MAX_TEXT = 3000  # one section's text
MY_ACTIONS_SHOWN = 30  # at most; each takes two blocks (the line and its buttons)
CHAIR_OVERDUE_SHOWN = 8  # per chaired group, in one section
GROUPS_SHOWN = 10  # chaired groups shown in full; the rest are counted

# Button action ids (bot/listeners/home.py answers them). Values are "GROUP_ID:NUMBER".
NEW_ACTION = "home_new_action"
DONE = "home_done"
UPDATE = "home_update"
SNOOZE = "home_snooze"
UPDATE_FORM = "ecm_update_form"  # "Update" under `/ecm show N` (and wherever else an action is shown)

NO_GROUP = Mrkdwn(
    "You're not in an ECM task group yet. A task group is a Slack channel where a county council, its "
    "district councils and partners keep one joint action plan: who does what, by when, towards which of "
    "the five Every Child Matters outcomes."
)
HOW_TO_START = Mrkdwn(
    "*To join one*, ask its chair to add you (`/ecm member @you district:NAME` in the group's channel). "
    '*To start one*, run `/ecm setup name:"Chorley ECM Task Group" preset:lancashire` in a channel; you '
    "become its chair. `/ecm help` shows everything."
)


@dataclass
class HomeAction:
    group: TaskGroup
    row: ActionRow


@dataclass
class HomeMeeting:
    title: str
    at: datetime | None  # None for a meeting that is open now
    is_open: bool
    matters_arising: int


@dataclass
class HomeGroup:
    group: TaskGroup
    is_chair: bool
    next_meeting: HomeMeeting | None
    overdue: list[ActionRow] = field(default_factory=list)  # chairs only: the first few
    overdue_total: int = 0
    due_soon: int = 0


@dataclass
class HomeView:
    """Everything one person's Home tab shows, read in one go."""

    user_id: str
    today: date
    groups: list[HomeGroup]  # the groups they are a member of, by name
    actions: list[HomeAction]  # the first MY_ACTIONS_SHOWN open actions they own
    actions_total: int
    overdue_total: int
    timezone: str = "Europe/London"  # the deployment's (ECM_TIMEZONE)

    @property
    def chaired(self) -> list[HomeGroup]:
        return [g for g in self.groups if g.is_chair]


def load_home(session: Session, team_id: str, user_id: str, now: datetime, timezone: str) -> HomeView:
    today = _today(now, timezone)
    mine = ActionFilter(owner=user_id)
    rows = store.list_actions(session, mine, limit=MY_ACTIONS_SHOWN * 2, order="due")
    by_id = group_store.groups_by_id(session, [r.action.group_id for r in rows])
    # Another workspace's groups stay out of this one's Home.
    actions = [
        HomeAction(by_id[r.action.group_id], r) for r in rows if by_id[r.action.group_id].team_id == team_id
    ][:MY_ACTIONS_SHOWN]
    total = store.count_actions(session, mine)
    overdue_total = store.count_actions(session, ActionFilter(owner=user_id, due_before=today))

    groups: list[HomeGroup] = []
    for group, member in member_store.memberships(session, team_id, user_id):
        gid: int = group.id  # type: ignore[assignment]
        home_group = HomeGroup(
            group, member.role == Role.CHAIR, _next_meeting(session, group, now, today, timezone)
        )
        if home_group.is_chair:
            overdue = ActionFilter(group_id=gid, due_before=today)
            home_group.overdue = store.list_actions(session, overdue, limit=CHAIR_OVERDUE_SHOWN)
            home_group.overdue_total = store.count_actions(session, overdue)
            home_group.due_soon = store.count_actions(
                session,
                ActionFilter(group_id=gid, due_from=today, due_on_or_before=today + timedelta(DUE_SOON_DAYS)),
            )
        groups.append(home_group)
    return HomeView(user_id, today, groups, actions, total, overdue_total, timezone)


def _today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _next_meeting(
    session: Session, group: TaskGroup, now: datetime, today: date, timezone: str
) -> HomeMeeting | None:
    gid: int = group.id  # type: ignore[assignment]
    meeting = meeting_store.open_meeting(session, gid)
    if meeting is not None:
        count = store.count_actions(session, ActionFilter.matters_arising(gid, today, meeting.id))
        return HomeMeeting(meeting.title, None, True, count)
    nxt = upcoming(session, group, now, timezone, 1)
    if not nxt:
        return None
    count = store.count_actions(session, ActionFilter.matters_arising(gid, today))
    return HomeMeeting(nxt[0].schedule.title, nxt[0].at, False, count)


# ----- layout ----------------------------------------------------------------------------------------------


@dataclass
class Header:
    """A heading: the bot's own plain text (Slack shows it as typed, never as mrkdwn)."""

    text: str


@dataclass
class Context:
    """Small print, as mrkdwn. Build it with `commands.mrkdwn`; a plain `str` that reaches it anyway is
    escaped here (as in `Section`), so it shows as text."""

    text: Mrkdwn

    def __post_init__(self) -> None:
        self.text = mrkdwn.text(self.text)


@dataclass
class Divider:
    pass


# A Home tab part: a heading, a mrkdwn `Section` (with buttons under it, if any), small print or a line.
Part = Header | Section | Context | Divider


def part_blocks(part: Part) -> int:
    """The Block Kit blocks a part becomes (a section's buttons are a block of their own)."""
    return 2 if isinstance(part, Section) and part.buttons else 1


def action_ref(group_id: int, number: int) -> str:
    return f"{group_id}:{number}"


def parse_action_ref(value: str) -> tuple[int, int] | None:
    group, _, number = value.partition(":")
    if not (group.isascii() and group.isdigit() and number.isascii() and number.isdigit()):
        return None
    return int(group), int(number)


def action_buttons(group_id: int, number: int) -> list[Button]:
    ref = action_ref(group_id, number)
    return [
        Button("Done", DONE, ref, style="primary"),
        Button("Update", UPDATE, ref),
        Button("Snooze a week", SNOOZE, ref),
    ]


def _action_text(item: HomeAction, today: date) -> Mrkdwn:
    line = md("_{}_ · {}", truncate(item.group.name, 80), action_line(item.row, today))
    link = source_link(item.row.action, "original message")
    return clip(line + (md(" · {}", link) if link else Mrkdwn()), MAX_TEXT)


def own_title(title: str, group_name: str) -> str:
    """What a meeting's title adds to the group's name, said once: "Lancashire ECM Task Group meeting" in
    the Lancashire ECM Task Group says nothing more (""); "Lancashire ECM Task Group: budget" is "budget"."""
    head, name = " ".join(title.split()), " ".join(group_name.split())
    if name and head.lower().startswith(name.lower()) and not head[len(name) : len(name) + 1].isalnum():
        rest = head[len(name) :].strip(" -–—:·,")
        return "" if rest.lower() in ("", "meeting") else rest
    return title.strip()


def _meeting_line(g: HomeGroup, tz: str) -> Mrkdwn:
    name = bold(truncate(g.group.name, 100))
    m = g.next_meeting
    if m is None:
        return md("• {}: no meeting scheduled (`/ecm schedule` sets one up)", name)
    arising = plural(m.matters_arising, "open action")
    title = truncate(own_title(m.title, g.group.name), 100)
    if m.is_open:
        what = md("{} is open now", bold(title)) if title else Mrkdwn("a meeting is open now")
        return md("• {}: {} · {} as matters arising", name, what, arising)
    when = format_datetime(m.at, tz) if m.at else ""
    if title:
        return md("• {}: {} — {} · {} as matters arising", name, when, title, arising)
    return md("• {}: {} · {} as matters arising", name, when, arising)


def _chair_text(g: HomeGroup, today: date) -> Mrkdwn:
    head = md(
        "{} (you chair it): {} overdue · {} due in the next {} days",
        bold(truncate(g.group.name, 100)),
        plural(g.overdue_total, "action"),
        plural(g.due_soon, "action"),
        DUE_SOON_DAYS,
    )
    lines = [head]
    used = len(head)
    shown = 0
    for row in g.overdue:
        line = md("• {}", action_line(row, today))
        if used + len(line) + 200 > MAX_TEXT:
            break
        lines.append(line)
        used += len(line) + 1
        shown += 1
    if g.overdue_total > shown:
        lines.append(
            md(
                "_… and {}: `/ecm actions overdue` in the group's channel lists them all._",
                plural(g.overdue_total - shown, "more overdue action"),
            )
        )
    return Mrkdwn("\n").join(lines)


def home_page(view: HomeView) -> list[Part]:
    """The Home tab as plain parts, never more than MAX_HOME_BLOCKS blocks."""
    today = view.today
    if not view.groups and not view.actions:
        return [Header("ECM task groups"), Section(NO_GROUP), Section(HOW_TO_START)]
    groups = len({a.group.id for a in view.actions} | {g.group.id for g in view.groups})
    summary = md(
        "You have {}{}, in {}.",
        plural(view.actions_total, "open action"),
        md(", {} overdue", view.overdue_total) if view.overdue_total else Mrkdwn(),
        plural(groups, "task group"),
    )
    top: list[Part] = [
        Header("Your ECM actions"),
        Section(summary, [Button("New action", NEW_ACTION, "", style="primary")]),
    ]

    tail: list[Part] = []
    if view.groups:
        tail += [Divider(), Header("Next meetings")]
        lines = [_meeting_line(g, view.timezone) for g in view.groups]
        text, cut = _fit_lines(lines, MAX_TEXT - 100)
        if cut:
            text += md("\n_… and {}: `/ecm meetings` in each channel._", plural(cut, "more group"))
        tail.append(Section(text))
    chaired = view.chaired
    if chaired:
        tail += [Divider(), Header("Groups you chair")]
        tail += [Section(_chair_text(g, today)) for g in chaired[:GROUPS_SHOWN]]
        if len(chaired) > GROUPS_SHOWN:
            tail.append(
                Context(
                    md(
                        "… and {} you chair: `/ecm actions overdue` in each channel.",
                        plural(len(chaired) - GROUPS_SHOWN, "more group"),
                    )
                )
            )

    middle: list[Part] = [Divider(), Header("Your open actions")]
    if not view.actions:
        middle.append(Section(Mrkdwn("Nothing open is yours. :tada:")))
    # One block for the "and more" line.
    budget = MAX_HOME_BLOCKS - sum(part_blocks(p) for p in top + tail + middle) - 1
    shown = view.actions[: max(0, budget // 2)]
    for item in shown:
        middle.append(
            Section(_action_text(item, today), action_buttons(item.group.id, item.row.number))  # type: ignore[arg-type]
        )
    left = view.actions_total - len(shown)
    if left > 0:
        middle.append(
            Context(
                md(
                    "… and {} of yours: `/ecm actions mine` in a group's channel lists them all.",
                    plural(left, "more open action"),
                )
            )
        )
    return top + middle + tail


def _fit_lines(lines: list[Mrkdwn], limit: int) -> tuple[Mrkdwn, int]:
    """As many whole lines as fit in `limit` characters, and how many were left out."""
    out: list[Mrkdwn] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > limit:
            break
        out.append(line)
        used += len(line) + 1
    return Mrkdwn("\n").join(out), len(lines) - len(out)
