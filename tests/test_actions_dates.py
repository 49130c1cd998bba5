"""Due dates and titles as officers type them, through the core (`commands.dispatch`, no Bolt): what is
stored and what the replies say."""

from __future__ import annotations

from datetime import UTC, date, datetime

from storage.clock import FixedClock
from tests.conftest import Core, Replies
from tests.support import action_count, action_row, error_text


def _ephemeral_text(out: Replies) -> str:
    return Replies(out.ephemeral).text


def test_words_that_belong_to_the_date_are_read_as_the_date(core: Core) -> None:
    out = core.command("add Review CAF due:in 2 weeks time outcome:safe", user="sam")
    assert not out.is_error, out.text
    row = action_row(core, 1)
    assert row.action.title == "Review CAF" and row.action.due_date == date(2026, 12, 7)
    out = core.command("add Review CAF due:friday 11/12", user="sam")
    assert not out.is_error, out.text
    row = action_row(core, 2)
    assert row.action.title == "Review CAF" and row.action.due_date == date(2026, 12, 11)
    assert "Review CAF 11/12" not in out.text


def test_words_after_a_date_that_would_join_the_title_are_refused(core: Core) -> None:
    text = error_text(core.command("add Review CAF due:friday with schools outcome:safe", user="sam"))
    assert "I read `due:friday` as Fri 27 Nov 2026" in text
    assert "“with schools” would become part of the title (“Review CAF with schools”)" in text
    assert '`due:"friday with schools"`' in text
    assert "`/ecm add Review CAF with schools due:friday outcome:safe`" in text
    assert action_count(core) == 0


def test_date_errors_quote_the_whole_phrase(core: Core) -> None:
    text = error_text(core.command("add Review CAF due:next blursday outcome:safe", user="sam"))
    assert "“next blursday”" in text or '"next blursday"' in text
    assert "thursday" in text
    text = error_text(core.command("add Review CAF due:31/02", user="sam"))
    assert "February 2027 has 28 days" in text
    assert action_count(core) == 0


def test_loose_phrases_and_next_year_are_said_back_to_the_author(core: Core) -> None:
    out = core.command("add Share protocol due:next friday", user="sam")
    assert not out.is_error and len(out.posted) == 1
    note = _ephemeral_text(out)
    assert "Read “next friday” as *Fri 27 Nov 2026* (the coming Friday" in note
    assert "friday week" in note
    out = core.command("add Audit referrals due:28/01", user="sam")
    assert action_row(core, 2).action.due_date == date(2027, 1, 28)
    assert "no year was given and that has passed in 2026" in _ephemeral_text(out)
    out = core.command("add Report to the Board due:March 2027", user="sam")
    assert action_row(core, 3).action.due_date == date(2027, 3, 31)
    assert "(the end of March)" in _ephemeral_text(out)
    # A plain date needs no note, so the author only sees the channel post.
    out = core.command("add Plain due:26/11/2026", user="sam")
    assert not out.ephemeral


def test_weekend_and_bank_holiday_due_dates_are_kept_with_a_note(core: Core) -> None:
    out = core.command("add Christmas cover rota due:christmas day", user="sam")
    assert action_row(core, 1).action.due_date == date(2026, 12, 25)
    assert (
        "Fri 25 Dec 2026 is a bank holiday (Christmas Day). I kept it as the due date; the next working day is "
        "Tue 29 Dec 2026." in _ephemeral_text(out)
    )
    out = core.command("update 1 due:saturday", user="sam")
    assert not out.is_error, out.text
    assert action_row(core, 1).action.due_date == date(2026, 11, 28)
    assert "Sat 28 Nov 2026 is a Saturday" in _ephemeral_text(out) and "Mon 30 Nov 2026" in _ephemeral_text(
        out
    )


def test_today_is_the_london_day_across_bst(core: Core, clock: FixedClock) -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST): "end of month" is the end of July.
    clock.set(datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    out = core.command("add Summer plan due:end of month", user="chair")
    assert not out.is_error, out.text
    assert action_row(core, 1).action.due_date == date(2026, 7, 31)


def test_length_limit_counts_characters_as_typed(core: Core) -> None:
    core.command("add Budget review", user="sam")
    note = "Costs & savings " * 180  # 2,880 characters typed; Slack sends each & as &amp;
    out = core.command(f'update 1 "{note.strip()}"'.replace("&", "&amp;"), user="sam")
    assert not out.is_error, out.text
    title = "R&D <pilot> " * 41  # 492 characters typed
    out = core.command(
        f'add "{title.strip()}"'.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), user="sam"
    )
    assert not out.is_error, out.text
    assert action_row(core, 2).action.title == title.strip()
