"""The lines of `/ecm actions` and `actions mine`, character for character, over actions whose titles,
organisations and district names hold everything mrkdwn must escape (`<`, `>`, `&`, `*`, `@channel`, forged
mentions, bidi controls): each expected line is built here from the stored values alone, with this file's
own escaping and date writing, so a faster list (storage.actions.list_actions, commands.action_view) that
showed anything else, or in another order, fails here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import update
from sqlmodel import col

from storage import actions as store
from storage.groups import list_districts, set_districts
from storage.models import Action, ActionStatus, Outcome, Rag
from tests.conftest import Core
from tests.support import db, group_of

TODAY = date(2026, 11, 23)  # the `clock` fixture's day, a Monday
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
TRICKY = [
    "<!channel> urgent & <@U0FAKE> review",
    "Fish & chips > *bold* _it_ ~strike~ `code`",
    "rtl \u202eevil\u202c and iso \u2066x\u2069 text",
    "@channel @here <http://evil.example|click> &amp; done",
    "Plain title",
    "é ünïcode ☃ " + "long " * 80,
]
EMOJI = {
    "open": ":white_circle:",
    "in-progress": ":arrows_counterclockwise:",
    "blocked": ":no_entry:",
    "done": ":white_check_mark:",
    "dropped": ":heavy_multiplication_x:",
}
SHORT = {
    "be-healthy": "healthy",
    "stay-safe": "safe",
    "enjoy-and-achieve": "enjoy",
    "positive-contribution": "positive",
    "economic-wellbeing": "economic",
}
ORDER = list(SHORT)  # the outcomes' customary order
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def escaped(value: str) -> str:
    """Slack's escaping, written out here: bidi controls dropped, then & < > as entities."""
    kept = "".join(c for c in value if c not in BIDI)
    return "".join({"&": "&amp;", "<": "&lt;", ">": "&gt;"}.get(c, c) for c in kept)


@dataclass
class Seeded:
    number: int
    title: str
    owners: list[str]
    organisation: str
    due: date | None
    outcomes: list[Outcome]
    districts: list[tuple[int, str]]  # (position, name)
    countywide: bool
    status: ActionStatus
    rag: Rag | None = None
    marks: str = ""  # when live

    @property
    def live(self) -> bool:
        return self.status not in (ActionStatus.DONE, ActionStatus.DROPPED)

    def line(self) -> str:
        title = self.title if len(self.title) <= 300 else self.title[:299].rstrip() + "…"
        parts = [
            ", ".join(f"<@{u}>" for u in sorted(self.owners)),
            escaped(self.organisation) if self.organisation else "no organisation",
            "no due date"
            if self.due is None
            else f"due {DAYS[self.due.weekday()]} {self.due.day} {MONTHS[self.due.month - 1]} {self.due.year}"
            + (self.marks if self.live else ""),
            "_" + (", ".join(SHORT[o] for o in sorted(self.outcomes, key=ORDER.index)) or "no outcome") + "_",
        ]
        names = [name for _, name in sorted(self.districts)]
        if self.countywide:
            parts.append("countywide")
        elif not names:
            parts.append("no district")
        elif names != [self.organisation]:
            parts.append(", ".join(escaped(n) for n in names))
        if self.status != ActionStatus.OPEN:
            parts.append(self.status.value.replace("-", " "))
        if self.rag:
            parts.append(f":large_red_square: {self.rag.value}")
        return f"{EMOJI[self.status.value]} *#{self.number}* {escaped(title)} · " + " · ".join(parts)


def seed(core: Core) -> list[Seeded]:
    """Sixty actions cycling through the tricky titles, organisations, owners, outcomes, districts,
    statuses and due dates (overdue by one working day, due today, due soon, later, none)."""
    sam, priya, dev = core.user("sam"), core.user("priya"), core.user("dev")
    organisations = ["Chorley", "", "Org & <Co>", "@channel", "Fylde & <Wyre> \u202eX"]
    dues: list[tuple[date | None, str]] = [
        (TODAY - timedelta(days=3), " :red_circle: overdue (1 working day)"),  # Fri 20 Nov
        (TODAY, " :large_orange_circle: due today"),
        (TODAY + timedelta(days=5), " :large_yellow_circle: due soon"),
        (TODAY + timedelta(days=40), ""),
        (None, ""),
    ]
    statuses = [ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED, ActionStatus.OPEN]
    statuses += [ActionStatus.DONE, ActionStatus.DROPPED]
    with db(core) as session:
        group = group_of(session, core)
        assert group.id is not None
        current = [(d.name, d.slug) for d in list_districts(session, group.id)]
        odd = ("Fylde & <Wyre> \u202eX", "odd")
        set_districts(session, group, [*current, odd], user_id=sam, at=core.clock.now())
        districts = list_districts(session, group.id)
        by_name = {d.name: d for d in districts}
        choices = [
            [by_name["Chorley"]],
            [by_name["Fylde & <Wyre> \u202eX"], by_name["Chorley"]],
            [],
            [by_name["Preston"], by_name["Fylde & <Wyre> \u202eX"], by_name["Burnley"]],
        ]
        seeded: list[Seeded] = []
        records = []
        for i in range(60):
            due, marks = dues[i % len(dues)]
            status = statuses[i % len(statuses)]
            chosen = choices[i % len(choices)]
            seeded.append(
                Seeded(
                    number=i + 1,
                    title=TRICKY[i % len(TRICKY)] + f" {i}",
                    owners=[[sam], [priya, sam], [dev, priya, sam]][i % 3],
                    organisation=organisations[i % len(organisations)],
                    due=due,
                    outcomes=[[Outcome.STAY_SAFE], [Outcome.ECONOMIC_WELLBEING, Outcome.BE_HEALTHY], []][
                        i % 4 % 3
                    ],
                    districts=[] if i % 7 == 0 else [(d.position, d.name) for d in chosen],
                    countywide=i % 7 == 0,
                    status=status,
                    marks=marks,
                )
            )
            s = seeded[-1]
            records.append(
                store.NewActionRecord(
                    title=s.title,
                    owners=s.owners,
                    organisation=s.organisation,
                    due_date=s.due,
                    outcomes=s.outcomes,
                    district_ids=[] if s.countywide else [d.id for d in chosen],  # type: ignore[misc]
                    countywide=s.countywide,
                    status=s.status,
                )
            )
        store.bulk_create_actions(session, group, records, by=sam, at=core.clock.now())
        for s in seeded[::9]:
            s.rag = Rag.RED
        red = [s.number for s in seeded if s.rag]
        session.execute(
            update(Action)
            .where(col(Action.group_id) == group.id, col(Action.number).in_(red))
            .values(rag=Rag.RED)
        )
    return seeded


def listed(core: Core, command: str, user: str = "sam") -> list[str]:
    out = core.command(command, user=user)
    assert not out.is_error and len(out.messages) == 1, out.text
    return [s.text for s in out.messages[0].sections if re.match(r"\S+ \*#\d+\*", s.text)]


def in_list_order(actions: list[Seeded]) -> list[Seeded]:
    return sorted(actions, key=lambda s: (s.due or date.max, s.number))


def test_list_pages_show_every_line_exactly(core: Core) -> None:
    seeded = seed(core)
    live = [s.line() for s in in_list_order([s for s in seeded if s.live])]
    assert len(live) == 40  # one full page: counted by the counters
    assert listed(core, "actions") == live
    everything = [s.line() for s in in_list_order(seeded)]
    assert listed(core, "actions all") == everything[:40]
    assert listed(core, "actions all page:2") == everything[40:]
    assert all(
        "<!channel>" not in line and "\u202e" not in line and "<@U0FAKE>" not in line for line in everything
    )


def test_filtered_and_own_lists_show_every_line_exactly(core: Core) -> None:
    seeded = seed(core)
    live = in_list_order([s for s in seeded if s.live])
    chorley = [s for s in live if s.countywide or "Chorley" in [n for _, n in s.districts]]
    safe_chorley = [s.line() for s in chorley if Outcome.STAY_SAFE in s.outcomes]
    assert 0 < len(safe_chorley) < 40
    assert listed(core, "actions outcome:safe district:chorley") == safe_chorley
    odd = [s.line() for s in live if s.countywide or any(n.startswith("Fylde &") for _, n in s.districts)]
    assert listed(core, "actions district:odd") == odd
    priya = [s.line() for s in live if core.user("priya") in s.owners]
    assert listed(core, "actions mine", user="priya") == priya
    overdue = [s.line() for s in live if s.due and s.due < TODAY]
    assert overdue and listed(core, "actions overdue") == overdue
    done = [s.line() for s in in_list_order(seeded) if s.status == ActionStatus.DONE]
    assert listed(core, "actions done") == done
