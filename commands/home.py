"""The App Home tab, without Slack: `load_home` reads what one person needs (a plain view model) and
`home_page` lays it out as plain parts within Slack's budget of 100 blocks; `bot/home.py` turns the parts
into Block Kit. User text is escaped by `commands.mrkdwn`.

What a person sees: their open actions across every task group (overdue first, then by due date) with Done,
Update and Snooze buttons; for chairs, what is overdue in the groups they chair and how much is due soon; the
next meeting of each group with its matters arising; a New action button; and, for someone in no group, what
a task group is and how to start one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.action_view import DUE_SOON_DAYS, action_line, source_link
from commands.dates import format_datetime
from commands.meeting_view import upcoming
from commands.mrkdwn import Mrkdwn, bold, md
from commands.replies import Button
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

NO_GROUP = (
    "You're not in an ECM task group yet. A task group is a Slack channel where a county council, its "
    "district councils and partners keep one joint action plan: who does what, by when, towards which of "
    "the five Every Child Matters outcomes."
)
HOW_TO_START = (
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


class PartKind(StrEnum):
    HEADER = "header"  # plain text
    TEXT = "text"  # mrkdwn, with optional buttons under it
    CONTEXT = "context"  # small mrkdwn
    DIVIDER = "divider"


@dataclass
class Part:
    kind: PartKind
    text: str = ""
    buttons: list[Button] = field(default_factory=list)

    @property
    def blocks(self) -> int:
        return 1 + (1 if self.buttons else 0)


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


def _action_text(item: HomeAction, today: date) -> str:
    line = md("_{}_ · {}", truncate(item.group.name, 80), action_line(item.row, today))
    link = source_link(item.row.action, "original message")
    return truncate(line + (md(" · {}", link) if link else Mrkdwn()), MAX_TEXT)


def own_title(title: str, group_name: str) -> str:
    """What a meeting's title adds to the group's name, said once: "Lancashire ECM Task Group meeting" in
    the Lancashire ECM Task Group says nothing more (""); "Lancashire ECM Task Group: budget" is "budget"."""
    head, name = " ".join(title.split()), " ".join(group_name.split())
    if name and head.lower().startswith(name.lower()) and not head[len(name) : len(name) + 1].isalnum():
        rest = head[len(name) :].strip(" -–—:·,")
        return "" if rest.lower() in ("", "meeting") else rest
    return title.strip()


def _meeting_line(g: HomeGroup, tz: str) -> str:
    name = bold(truncate(g.group.name, 100))
    m = g.next_meeting
    if m is None:
        return f"• {name}: no meeting scheduled (`/ecm schedule` sets one up)"
    arising = plural(m.matters_arising, "open action")
    title = truncate(own_title(m.title, g.group.name), 100)
    if m.is_open:
        what = md("{} is open now", bold(title)) if title else Mrkdwn("a meeting is open now")
        return md("• {}: {} · {} as matters arising", name, what, arising)
    when = format_datetime(m.at, tz) if m.at else ""
    if title:
        return md("• {}: {} — {} · {} as matters arising", name, when, title, arising)
    return md("• {}: {} · {} as matters arising", name, when, arising)


def _chair_text(g: HomeGroup, today: date) -> str:
    head = (
        f"{bold(truncate(g.group.name, 100))} (you chair it): "
        f"{plural(g.overdue_total, 'action')} overdue · {plural(g.due_soon, 'action')} due in the next "
        f"{DUE_SOON_DAYS} days"
    )
    lines = [head]
    used = len(head)
    shown = 0
    for row in g.overdue:
        line = f"• {action_line(row, today)}"
        if used + len(line) + 200 > MAX_TEXT:
            break
        lines.append(line)
        used += len(line) + 1
        shown += 1
    if g.overdue_total > shown:
        lines.append(
            f"_… and {plural(g.overdue_total - shown, 'more overdue action')}: "
            "`/ecm actions overdue` in the group's channel lists them all._"
        )
    return "\n".join(lines)


def home_page(view: HomeView) -> list[Part]:
    """The Home tab as plain parts, never more than MAX_HOME_BLOCKS blocks."""
    today = view.today
    if not view.groups and not view.actions:
        return [
            Part(PartKind.HEADER, "ECM task groups"),
            Part(PartKind.TEXT, NO_GROUP),
            Part(PartKind.TEXT, HOW_TO_START),
        ]
    summary = (
        f"You have {plural(view.actions_total, 'open action')}"
        + (f", {view.overdue_total} overdue" if view.overdue_total else "")
        + f", in {plural(len({a.group.id for a in view.actions} | {g.group.id for g in view.groups}), 'task group')}."
    )
    top = [
        Part(PartKind.HEADER, "Your ECM actions"),
        Part(PartKind.TEXT, summary, [Button("New action", NEW_ACTION, "", style="primary")]),
    ]

    tail: list[Part] = []
    if view.groups:
        tail += [Part(PartKind.DIVIDER), Part(PartKind.HEADER, "Next meetings")]
        lines = [_meeting_line(g, view.timezone) for g in view.groups]
        text, cut = _fit_lines(lines, MAX_TEXT - 100)
        if cut:
            text += f"\n_… and {plural(cut, 'more group')}: `/ecm meetings` in each channel._"
        tail.append(Part(PartKind.TEXT, text))
    chaired = view.chaired
    if chaired:
        tail += [Part(PartKind.DIVIDER), Part(PartKind.HEADER, "Groups you chair")]
        tail += [Part(PartKind.TEXT, _chair_text(g, today)) for g in chaired[:GROUPS_SHOWN]]
        if len(chaired) > GROUPS_SHOWN:
            tail.append(
                Part(
                    PartKind.CONTEXT,
                    f"… and {plural(len(chaired) - GROUPS_SHOWN, 'more group')} you chair: "
                    "`/ecm actions overdue` in each channel.",
                )
            )

    middle: list[Part] = [Part(PartKind.DIVIDER), Part(PartKind.HEADER, "Your open actions")]
    if not view.actions:
        middle.append(Part(PartKind.TEXT, "Nothing open is yours. :tada:"))
    budget = MAX_HOME_BLOCKS - sum(p.blocks for p in top + tail + middle) - 1  # one for the "and more" line
    shown = view.actions[: max(0, budget // 2)]
    for item in shown:
        middle.append(
            Part(PartKind.TEXT, _action_text(item, today), action_buttons(item.group.id, item.row.number))  # type: ignore[arg-type]
        )
    left = view.actions_total - len(shown)
    if left > 0:
        middle.append(
            Part(
                PartKind.CONTEXT,
                f"… and {plural(left, 'more open action')} of yours: `/ecm actions mine` in a group's "
                "channel lists them all.",
            )
        )
    return top + middle + tail


def _fit_lines(lines: list[str], limit: int) -> tuple[str, int]:
    """As many whole lines as fit in `limit` characters, and how many were left out."""
    out: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > limit:
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out), len(lines) - len(out)
