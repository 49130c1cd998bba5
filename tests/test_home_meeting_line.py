"""The Home tab's next-meeting line says each thing once: the group's name, then the meeting's own title
only when it adds something (fast tier: the core, then `load_home` / `home_page`)."""

from __future__ import annotations

from commands.home import Header, home_page, load_home, own_title
from storage.clock import FixedClock
from tests.conftest import Core, user_id
from tests.support import db, ok

GROUP = "Lancashire ECM Task Group"


def _meetings_text(core: Core, clock: FixedClock, who: str = "sam") -> str:
    with db(core) as session:
        view = load_home(session, core.team_id, user_id(who), clock.now(), "Europe/London")
        parts = home_page(view)
    heading = next(i for i, p in enumerate(parts) if isinstance(p, Header) and p.text == "Next meetings")
    return parts[heading + 1].text


def test_default_title_is_not_repeated_after_the_group_name(core: Core, clock: FixedClock) -> None:
    ok(core.command('schedule every:"2nd wednesday" at:10:00'))
    ok(core.command("add Overdue one @sam due:02/11/2026"))
    line = _meetings_text(core, clock)
    assert line == f"• *{GROUP}*: Wed 9 Dec 2026, 10:00 · 1 open action as matters arising"
    assert line.count("Lancashire ECM Task Group") == 1


def test_a_title_of_its_own_is_shown_once(core: Core, clock: FixedClock) -> None:
    ok(core.command('schedule "Budget review" every:"2nd wednesday" at:10:00'))
    line = _meetings_text(core, clock)
    assert line == f"• *{GROUP}*: Wed 9 Dec 2026, 10:00 — Budget review · 0 open actions as matters arising"


def test_open_meeting_named_after_the_group(core: Core, clock: FixedClock) -> None:
    ok(core.command("meeting start"))
    assert (
        _meetings_text(core, clock)
        == f"• *{GROUP}*: a meeting is open now · 0 open actions as matters arising"
    )
    ok(core.command("meeting end"))
    ok(core.command('meeting start "Extraordinary meeting: CAF"'))
    line = _meetings_text(core, clock)
    assert (
        line == f"• *{GROUP}*: *Extraordinary meeting: CAF* is open now · 0 open actions as matters arising"
    )


def test_own_title() -> None:
    assert own_title("Lancashire ECM Task Group meeting", GROUP) == ""
    assert own_title("lancashire ecm task group", GROUP) == ""
    assert own_title("Lancashire ECM Task Group: budget", GROUP) == "budget"
    assert own_title("Task group", GROUP) == "Task group"
    assert own_title("Lancashire ECM", GROUP) == "Lancashire ECM"
