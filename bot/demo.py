"""`ecm-bot console --demo`: a realistic Lancashire task group to explore, loaded through the real app.

Every line below is an ordinary `/ecm` command sent through Bolt as the console sends it, at a time in the
past, so the plan has history: set up nine weeks ago, a meeting three weeks ago with decisions and minutes,
progress since, and some actions now overdue. People are roles (`@police.lead`), never real names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.offline import OfflineWorkspace
from commands.text import esc
from commands.workdays import add_working_days, is_working_day, next_working_day
from storage.clock import Clock

GROUP_NAME = "Lancashire ECM Task Group"
CHAIR = "chair"


class DemoClock:
    """The console's clock, held at chosen moments while the demo's history is replayed."""

    def __init__(self, base: Clock) -> None:
        self._base = base
        self._held: datetime | None = None

    def now(self) -> datetime:
        return self._held or self._base.now()

    def hold(self, at: datetime) -> None:
        self._held = at

    def release(self) -> None:
        self._held = None


@dataclass
class DemoSummary:
    commands: int
    actions: int
    meeting_day: date


class DemoFailed(Exception):
    """A demo command got an error reply: the demo is out of step with the commands."""


def _dmy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _working(d: date) -> date:
    return next_working_day(d)


def _last_wednesday_before(d: date) -> date:
    while d.weekday() != 2 or not is_working_day(d):
        d -= timedelta(days=1)
    return d


def demo_script(today: date) -> list[tuple[date, str, str]]:
    """(day, who, command) in order, with every date relative to `today`."""
    setup_day = _working(today - timedelta(days=63))
    meeting_day = _last_wednesday_before(today - timedelta(days=21))
    after_meeting = add_working_days(meeting_day, 2)
    overdue = [add_working_days(today, -n) for n in (3, 6, 9, 12)]
    long_overdue = add_working_days(today, -18)  # past the chairs' escalation threshold
    before_meeting = add_working_days(meeting_day, -2)
    soon = [_working(today + timedelta(days=n)) for n in (12, 20, 33, 45)]
    steps: list[tuple[date, str, str]] = []

    def at(day: date, who: str, *commands: str) -> None:
        steps.extend((day, who, c) for c in commands)

    at(
        setup_day,
        CHAIR,
        f'/ecm setup name:"{GROUP_NAME}" preset:lancashire',
        '/ecm member @chair org:"Lancashire County Council" role:chair',
        '/ecm member @lcc.education org:"Lancashire County Council"',
        '/ecm member @police.lead org:"Lancashire Constabulary"',
        '/ecm member @health.lead org:"NHS Lancashire and South Cumbria"',
        '/ecm member @fire.lead org:"Lancashire Fire and Rescue Service"',
        '/ecm member @vcfs.lead org:"Lancashire Voluntary Sector Network"',
        "/ecm member @chorley.officer district:chorley",
        "/ecm member @preston.officer district:preston",
        "/ecm member @burnley.officer district:burnley",
        "/ecm member @lancaster.officer district:lancaster",
        "/ecm member @pendle.officer district:pendle",
        f'/ecm schedule "{GROUP_NAME}" every:"2nd wednesday" at:10:00',
    )
    at(
        setup_day,
        "health.lead",
        f'/ecm add "Audit the school nurse referral pathway" due:{_dmy(overdue[1])} outcome:healthy district:all',
        f'/ecm add "Breastfeeding support drop-ins in family hubs" due:{_dmy(overdue[3])} outcome:healthy '
        "district:chorley,south-ribble",
    )
    at(
        setup_day,
        "chorley.officer",
        f'/ecm add "Map youth provision across Chorley" due:{_dmy(soon[0])} outcome:enjoy district:chorley',
    )
    at(
        setup_day,
        "police.lead",
        '/ecm add "Share the missing-from-home protocol with district safeguarding leads" '
        f"due:{_dmy(overdue[0])} outcome:safe district:all",
    )
    at(
        setup_day,
        "lcc.education",
        '/ecm add "Review take-up of holiday activities and food" '
        f"due:{_dmy(soon[2])} outcome:healthy,economic district:preston,burnley",
        f'/ecm add "Apprenticeship pathway for care leavers" due:{_dmy(soon[3])} outcome:economic '
        "district:lancaster",
    )
    at(
        setup_day,
        "fire.lead",
        '/ecm add "Home fire safety visits for families with under-fives" '
        f"due:{_dmy(before_meeting)} outcome:safe district:burnley,pendle",
    )
    at(
        setup_day,
        CHAIR,
        '/ecm add "Agree terms of reference for the youth voice forum" '
        f"due:{_dmy(overdue[2])} outcome:positive district:all",
    )
    at(
        setup_day,
        "burnley.officer",
        '/ecm add "Debt advice sessions in children\'s centres" '
        f"due:{_dmy(long_overdue)} outcome:economic district:burnley,pendle",
    )
    at(
        setup_day,
        "lancaster.officer",
        '/ecm add "Summer reading challenge in Lancaster libraries" '
        f"due:{_dmy(before_meeting)} outcome:enjoy district:lancaster",
    )
    # The meeting: attendance, progress on existing actions (matters arising), decisions and new actions.
    at(meeting_day, CHAIR, '/ecm meeting start "Task group meeting"')
    at(meeting_day, "chorley.officer", "/ecm here")
    at(meeting_day, "preston.officer", "/ecm here as:virtual")
    at(
        meeting_day,
        CHAIR,
        "/ecm here",
        "/ecm present @police.deputy for:@police.lead as:substitute",
        "/ecm present @fire.lead @lcc.education @lancaster.officer",
        "/ecm apologies @health.lead",
    )
    at(
        meeting_day,
        "fire.lead",
        '/ecm done 7 "Visits completed for 140 families; referrals to health visitors"',
    )
    at(meeting_day, "lancaster.officer", '/ecm done 10 "412 children took part, up a third on last year"')
    at(
        meeting_day,
        CHAIR,
        '/ecm update 4 status:in-progress "Protocol shared with eight districts; the rest by the next meeting"',
        '/ecm decide "Adopt a joint CAF training programme for district housing and leisure staff"',
        '/ecm decide "The youth voice forum reports to the task group each quarter"',
        '/ecm decide "Holiday hunger pilot to wait for the spring funding round" status:deferred',
        f'/ecm add "Invite youth forum representatives to the next meeting" @vcfs.lead due:{_dmy(soon[1])} '
        "decision:D2 outcome:positive district:all",
    )
    at(
        meeting_day,
        "chorley.officer",
        f'/ecm add "Book CAF training dates for housing officers" due:{_dmy(soon[1])} decision:D1 '
        "outcome:safe,economic district:chorley,preston",
    )
    at(
        meeting_day,
        "preston.officer",
        '/ecm note "Preston leisure centres report more under-16s using free swimming since the summer"',
    )
    at(meeting_day, CHAIR, "/ecm meeting end")
    # Progress since.
    at(after_meeting, "health.lead", '/ecm update 1 rag:red "GP practices slow to return referral data"')
    at(
        after_meeting,
        "lcc.education",
        '/ecm update 5 status:in-progress rag:amber "Data from 9 of 12 districts"',
    )
    return steps


def load_demo(ws: OfflineWorkspace, clock: DemoClock, today: date, tz: str = "Europe/London") -> DemoSummary:
    """Replays the demo's history through the app; raises DemoFailed on any error reply."""
    steps = demo_script(today)
    minute: dict[date, int] = {}
    for day, who, command in steps:
        # From 10:00 (the meeting's start), two minutes a command, so the history keeps its order.
        n = minute.get(day, 0)
        minute[day] = n + 1
        start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=ZoneInfo(tz))
        clock.hold(start + timedelta(minutes=2 * n))
        out = ws.command(esc(command), user=who)
        if out.is_error:
            raise DemoFailed(f"{command} (as @{who}): {ws.readable(out.text)}")
    clock.release()
    actions = sum(1 for _, _, c in steps if c.startswith("/ecm add"))
    return DemoSummary(len(steps), actions, _meeting_day(steps))


def _meeting_day(steps: list[tuple[date, str, str]]) -> date:
    return next(day for day, _, c in steps if c.startswith("/ecm meeting start"))


def banner(summary: DemoSummary) -> str:
    return (
        f"Loaded the demo: {GROUP_NAME} — the 12 Lancashire districts, the county council and partners "
        f"(police, health, fire, voluntary sector), {summary.actions} actions across the five outcomes, and a "
        f"meeting on {summary.meeting_day:%a %d %b %Y} with decisions and minutes. People are roles, not "
        "real names.\n"
        "You are @chair. Try:  /ecm actions overdue   /ecm actions by:outcome   /ecm show 4   /ecm minutes\n"
        "   /ecm attendance   /ecm decisions   /ecm members   as @police.lead   /ecm actions mine\n"
    )
