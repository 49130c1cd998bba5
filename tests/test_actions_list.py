"""`/ecm actions` (alias `list`): filters, grouping and paging through the core; the Next page button and
Slack's block limits through the real app."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.offline import Exchange, OfflineWorkspace
from commands.replies import RUN_COMMAND
from storage.actions import COUNT_CAP, NewActionRecord, bulk_create_actions
from storage.models import Outcome
from tests.conftest import Core, Replies
from tests.support import action_row, add_like, db, error_text, group_of, make_actions, ok

TODAY = date(2026, 11, 23)


def numbers(out: Exchange | Replies) -> list[int]:
    """Action numbers in the order the list shows them."""
    assert len(out.messages) == 1 and out.ephemeral, out.text
    return [int(n) for n in re.findall(r"\*#(\d+)\*", out.text)]


def buttons(out: Exchange | Replies) -> dict[str, str]:
    found = {}
    if isinstance(out, Replies):
        for section in out.messages[0].sections:
            for button in section.buttons:
                assert button.action_id == RUN_COMMAND
                found[button.label] = button.value
        return found
    for block in out.messages[0].blocks:
        if block["type"] == "actions":
            for element in block["elements"]:
                assert element["action_id"] == "ecm_run"
                found[element["text"]["text"]] = element["value"]
    return found


def seed(ws: OfflineWorkspace | Core) -> None:
    for command, user in [
        ("add Overdue safe chorley due:20/11/2026 outcome:safe district:chorley", "sam"),  # 1
        (
            "add Soon healthy+safe preston @priya @sam due:25/11/2026 outcome:healthy,safe district:preston",
            "priya",
        ),  # 2
        ("add Countywide econ outcome:economic district:all", "dev"),  # 3
        ("add Later wyre due:20/01/2027 district:wyre", "dev"),  # 4
        ("add Done one due:10/11/2026 outcome:safe district:chorley", "sam"),  # 5
    ]:
        out = ws.command(command, user=user)
        assert out.posted, out.text
    assert not ws.command("done 5", user="sam").is_error


def test_default_list(core: Core) -> None:
    seed(core)
    out = core.command("actions", user="dev")
    assert numbers(out) == [1, 2, 4, 3]  # by due date, no due date last; done ones left out
    assert "Open actions (4)" in out.text
    assert ":red_circle: overdue" in out.text and "due soon" in out.text
    assert "countywide" in out.text and "Showing" not in out.text  # one page: no paging
    assert numbers(core.command("list", user="dev")) == [1, 2, 4, 3]
    assert numbers(core.command("actions open", user="dev")) == [1, 2, 4, 3]


def test_word_filters(core: Core) -> None:
    seed(core)
    assert numbers(core.command("actions mine", user="sam")) == [1, 2]
    assert numbers(core.command("actions overdue", user="sam")) == [1]
    assert numbers(core.command("actions soon", user="sam")) == [2]
    assert numbers(core.command("actions done", user="sam")) == [5]
    assert numbers(core.command("actions all", user="sam")) == [5, 1, 2, 4, 3]
    assert numbers(core.command("actions mine all", user="sam")) == [5, 1, 2]
    assert "My open actions (2)" in core.command("actions mine", user="sam").text
    out = core.command("actions mine", user="chair")
    assert "You have no open actions." in out.text and not out.is_error


def test_key_filters(core: Core) -> None:
    seed(core)
    assert numbers(core.command("actions outcome:safe", user="sam")) == [1, 2]
    assert numbers(core.command("actions outcome:healthy,economic", user="sam")) == [2, 3]
    # district: includes countywide actions
    assert numbers(core.command("actions district:chorley", user="sam")) == [1, 3]
    assert numbers(core.command('actions district:"South Ribble"', user="sam")) == [3]
    assert numbers(core.command("actions owner:@priya", user="sam")) == [2]
    assert numbers(core.command("actions @dev", user="sam")) == [4, 3]
    assert numbers(core.command("actions all outcome:safe district:chorley owner:@sam", user="sam")) == [5, 1]
    out = core.command("actions outcome:safe district:chorley", user="sam")
    assert "Filters: outcome Stay Safe; district Chorley (or countywide)" in out.text


def test_grouped_by_outcome_district_owner(core: Core) -> None:
    seed(core)
    out = core.command("actions by:outcome", user="sam")
    text = out.text
    assert (
        text.index("*Be Healthy* (1 action)")
        < text.index("*Stay Safe* (2 actions)")
        < text.index("*Achieve Economic Well-being* (1 action)")
        < text.index("*No outcome* (1 action)")
    )
    assert numbers(out) == [2, 1, 2, 3, 4]  # #2 is under both of its outcomes
    assert "1 action with more than one outcome appears under each (#2)" in text
    assert "Open actions (4)" in text
    out = core.command("actions by:district", user="sam")
    assert "*Countywide* (1 action)" in out.text and "*Chorley* (1 action)" in out.text
    assert numbers(out) == [3, 1, 2, 4]
    out = core.command("actions all by:owner", user="sam")
    assert (
        f"*<@{core.user('sam')}>* (3 actions)" in out.text
        and f"*<@{core.user('dev')}>* (2 actions)" in out.text
    )
    out = core.command("actions by:org", user="sam")
    assert "*Lancashire Constabulary* (2 actions)" in out.text


def test_by_owner_heads_each_person_in_order_of_their_name(core: Core) -> None:
    people = {"dev": "Zoe Adams", "sam": "alan Brown", "priya": "Meera Shah"}  # ids sort dev, priya, sam
    for who, name in people.items():
        ok(core.command(f'member @{who} name:"{name}"', user="chair"))
        ok(core.command(f"add Task for {who} @{who}", user="chair"))
    text = core.command("actions by:owner", user="sam").text
    headings = [text.index(f"*<@{core.user(who)}>*") for who in ("sam", "priya", "dev")]
    assert headings == sorted(headings), text  # alan Brown, Meera Shah, Zoe Adams: case aside


def test_bad_input(core: Core) -> None:
    seed(core)
    cases = {
        "actions overdeu": "Did you mean `overdue`?",
        "actions by:colour": "can't group by “colour”",
        "actions outcome:helthy": "Did you mean *Be Healthy*?",
        "actions district:chorly": "Did you mean *Chorley*?",
        "actions page:0": "not a page number",
        "actions page:x": "not a page number",
        "actions page:2": "There is no page 2",
        "actions 12": "/ecm show 12",
        "actions sort:due": "has no option “sort:”",
        "actions owner:@sam owner:@dev": "one owner's actions at a time",
        "lsit": "Did you mean `/ecm actions`?",
    }
    for command, expected in cases.items():
        text = error_text(core.command(command, user="sam"))
        assert expected in text, (command, text)


def test_empty_lists(core: Core) -> None:
    out = core.command("actions", user="sam")
    assert not out.is_error and "No open actions." in out.text and out.ephemeral
    out = core.command("actions all", user="sam")
    assert "No actions." in out.text and "/ecm add" in out.text
    out = core.command("actions mine all", user="sam")
    assert "You have no actions." in out.text


def test_paging_beyond_40(group: OfflineWorkspace) -> None:
    ws = group
    make_actions(ws, 95, due=TODAY + timedelta(days=30))
    out = ws.command("actions outcome:safe", user="sam")
    assert "No open actions match those filters." in out.text  # none have outcomes
    out = ws.command("actions", user="sam")
    assert numbers(out) == list(range(1, 41))
    assert len(out.messages[0].blocks) <= 50
    assert "Showing 1–40 of 95 actions (page 1 of 3)" in out.text
    assert "Open actions (95)" in out.text
    nav = buttons(out)
    assert list(nav) == ["Next page"] and nav["Next page"] == "actions page:2"

    out = ws.click("ecm_run", nav["Next page"], user="sam")
    assert numbers(out) == list(range(41, 81))
    assert "Showing 41–80 of 95" in out.text
    nav = buttons(out)
    assert nav == {"Previous page": "actions page:1", "Next page": "actions page:3"}

    out = ws.click("ecm_run", nav["Next page"], user="sam")
    assert numbers(out) == list(range(81, 96))
    assert "Showing 81–95 of 95" in out.text
    assert list(buttons(out)) == ["Previous page"]


def test_paging_keeps_filters(core: Core) -> None:
    make_actions(core, 45, due=TODAY + timedelta(days=3), outcomes=[Outcome.STAY_SAFE], district="chorley")
    make_actions(core, 5, user="dev")
    out = core.command('actions mine outcome:safe district:"Chorley" by:outcome', user="sam")
    assert "Showing 1–40 of 45" in out.text and "*Stay Safe* (45 actions)" in out.text
    value = buttons(out)["Next page"]
    assert value == "actions mine outcome:safe district:Chorley by:outcome page:2"
    out = core.command(value, user="sam")  # what the Next page button runs
    assert numbers(out) == list(range(41, 46))
    assert "*Stay Safe* (45 actions) _continued_" in out.text


def test_grouped_paging_counts_entries(group: OfflineWorkspace) -> None:
    ws = group
    make_actions(ws, 30, outcomes=[Outcome.STAY_SAFE, Outcome.BE_HEALTHY])
    out = ws.command("actions by:outcome", user="sam")
    assert "Showing 1–40 of 60 entries" in out.text
    assert "30 actions with more than one outcome appear under each" in out.text
    assert len(out.messages[0].blocks) <= 50
    out = ws.click("ecm_run", buttons(out)["Next page"], user="sam")
    assert "Showing 41–60 of 60 entries" in out.text and "*Stay Safe* (30 actions) _continued_" in out.text


def test_long_titles_stay_within_limits(group: OfflineWorkspace) -> None:
    ws = group
    long_add = "add {}{} outcome:safe,healthy,enjoy district:all"
    ok(ws.command(long_add.format("Very long title " * 30, 0), user="sam"))  # its post within limits too
    # 44 more like it, straight into storage (the list is what is checked).
    assert action_row(ws, 1).action.title.endswith("0")
    add_like(ws, 1, [{"title": action_row(ws, 1).action.title[:-1] + str(i)} for i in range(1, 45)])
    out = ws.command("actions by:outcome", user="sam")
    assert len(out.messages) == 1 and len(out.messages[0].blocks) <= 50
    assert "…" in out.text  # titles are cut in lists; `show` has them in full


def test_paging_says_how_to_type_the_next_page(core: Core) -> None:
    # Where buttons can't be clicked (the console, screen readers, a command typed from history), the list
    # still says how to see the rest.
    make_actions(core, 45)
    out = core.command("actions", user="sam")
    assert "Showing 1–40 of 45 actions (page 1 of 2)" in out.text
    assert "`page:2`" in out.text
    out = core.command("actions page:2", user="sam")
    assert numbers(out) == list(range(41, 46)) and "`page:" not in out.text  # the last page


def test_a_long_list_counted_live_says_at_least_and_still_pages_on(core: Core) -> None:
    with db(core) as session:
        bulk_create_actions(
            session,
            group_of(session, core),
            [
                NewActionRecord(title=f"Many {i}", owners=[core.user("sam")], outcomes=[Outcome.STAY_SAFE])
                for i in range(COUNT_CAP + 100)
            ],
            by=core.user("chair"),
            at=core.clock.now(),
        )
    # Two outcomes: no counter says how many (one action may have both), so it is counted up to the cap.
    out = core.command("actions outcome:safe,healthy", user="sam")
    assert (
        "Open actions (1,000+)" in out.text and "Showing 1–40 of 1,000+ actions (page 1 of 25+)" in out.text
    )
    out = core.command("actions outcome:safe,healthy page:25", user="sam")
    assert "Showing 961–1000 of 1,040+ actions (page 25 of 26+)" in out.text
    assert "Next page" in buttons(out)  # more remain past what was counted
    out = core.command("actions outcome:safe,healthy page:28", user="sam")  # the end: exact again
    assert numbers(out)[-1] == COUNT_CAP + 100 and "of 1100 actions (page 28 of 28)" in out.text
    out = core.command("actions", user="sam")  # statuses alone: the counters give the exact count
    assert "Open actions (1100)" in out.text
    # One outcome (or district, both, owner): exact too.
    out = core.command("actions outcome:safe", user="sam")
    assert "Open actions (1100)" in out.text and "(page 1 of 28)" in out.text
