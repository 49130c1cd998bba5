"""A title ending in a date-like phrase with no `due:` key: saved as typed (nothing silently moved), and the
reply says how the words read and asks, with buttons that set the due date (fast tier: the core; one
end-to-end click)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from bot.offline import OfflineWorkspace, block_text, find_button
from storage.models import Action
from tests.conftest import Core
from tests.support import action_record, db, ok


def _action(core: Core, number: int) -> Action:
    with db(core) as session:
        found = session.exec(select(Action).where(Action.number == number)).one()
        session.expunge(found)
        return found


def test_title_ending_in_by_friday_is_kept_and_the_reply_says_how_to_set_the_due_date(core: Core) -> None:
    out = ok(core.command("add Review CAF by friday outcome:safe", user="sam"))
    action = _action(core, 1)
    assert action.title == "Review CAF by friday" and action.due_date is None
    hint = out.ephemeral[-1].text
    assert "Did you mean `due:friday` (Fri 27 Nov 2026)?" in hint
    assert "The title was saved as “Review CAF by friday”, with no due date." in hint
    assert "`/ecm update 1 due:friday`" in hint
    assert '`/ecm update 1 due:friday title:"Review CAF"`' in hint
    # The channel post is unchanged: it shows the action as saved.
    assert "Review CAF by friday" in out.posted[0].text and "no due date" in out.posted[0].sections[0].text

    # Doing what the hint says gives the due date (and the shorter title).
    ok(core.command('update 1 due:friday title:"Review CAF"', user="sam"))
    action = _action(core, 1)
    assert action.title == "Review CAF" and str(action.due_date) == "2026-11-27"


@pytest.mark.parametrize(
    ("typed", "phrase", "day", "short"),
    [
        ("add Review CAF end of month", "end of month", "Mon 30 Nov 2026", "Review CAF"),
        (
            "add Circulate the protocol by next friday",
            "next friday",
            "Fri 27 Nov 2026",
            "Circulate the protocol",
        ),
        ("add Book venue due 11/12", "11/12", "Fri 11 Dec 2026", "Book venue"),
        ("add Report to the board by March", "March", "Wed 31 Mar 2027", "Report to the board"),
        ("add Chase GP returns @priya tomorrow", "tomorrow", "Tue 24 Nov 2026", "Chase GP returns"),
    ],
)
def test_date_phrases_at_the_end_of_a_title(
    core: Core, typed: str, phrase: str, day: str, short: str
) -> None:
    out = ok(core.command(typed, user="sam"))
    hint = out.ephemeral[-1].text
    assert f"Did you mean `due:{phrase}` ({day})?" in hint
    assert f'title:"{short}"' in hint
    assert _action(core, 1).due_date is None


@pytest.mark.parametrize(
    "typed",
    [
        "add Review CAF due:friday",  # the due date was given
        'add "Review CAF by friday"',  # quoted: meant as typed
        "add Audit school nurse referrals",  # nothing date-like
        "add Respite breaks 2 weeks",  # a length of time with no "by"/"due"/"for" before it
        "add Plan what we may",  # a month name alone, no filler
        "add Friday",  # nothing would be left of the title
    ],
)
def test_no_hint(core: Core, typed: str) -> None:
    out = ok(core.command(typed, user="sam"))
    assert not any("Did you mean" in r.text for r in out.ephemeral)


def test_the_hint_asks_with_buttons_that_run_update(core: Core) -> None:
    out = ok(core.command("add Review CAF by friday outcome:safe", user="sam"))
    (section,) = out.ephemeral[-1].sections
    assert [(b.label, b.action_id, b.value) for b in section.buttons] == [
        ("Make it due Fri 27 Nov 2026", "ecm_run", "update 1 due:2026-11-27"),
        ("Due Fri 27 Nov 2026, title “Review CAF”", "ecm_run", 'update 1 due:2026-11-27 title:"Review CAF"'),
    ]


def test_e2e_pressing_the_hint_button_sets_the_due_date(group: OfflineWorkspace) -> None:
    ws = group
    out = ok(ws.command("add Review CAF by friday outcome:safe", user="sam"))
    (hint,) = [m for m in out.ephemeral if "Did you mean" in block_text(m.blocks)]
    assert "[Make it due Fri 27 Nov 2026] [Due Fri 27 Nov 2026, title “Review CAF”]" in block_text(
        hint.blocks
    )
    assert action_record(ws, 1).due_date is None and action_record(ws, 1).title == "Review CAF by friday"
    button, block_id = find_button({"blocks": hint.blocks}, "Due Fri 27 Nov 2026, title “Review CAF”")
    clicked = ws.press_message(hint, button, block_id, user="sam")
    assert not clicked.is_error, clicked.text
    assert action_record(ws, 1).due_date == date(2026, 11, 27) and action_record(ws, 1).title == "Review CAF"
    assert "due: — → Fri 27 Nov 2026" in ws.readable(clicked.text)


def test_a_title_slack_escapes_gets_only_the_due_date_button(core: Core) -> None:
    out = ok(core.command("add Fix &lt;@U0FORGED|boss&gt; &amp; co by friday", user="sam"))
    (section,) = out.ephemeral[-1].sections
    assert [b.value for b in section.buttons] == ["update 1 due:2026-11-27"]
    assert "&lt;@U0FORGED|boss&gt;" in section.text and "<@U0FORGED" not in section.text
