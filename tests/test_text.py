"""`commands.text`: counts as people read them."""

from __future__ import annotations

import re

from commands.text import plural
from tests.conftest import Core
from tests.support import ok


def test_counts_group_their_thousands() -> None:
    assert plural(1, "action") == "1 action"
    assert plural(2, "working day") == "2 working days"
    assert plural(1500, "person", "people") == "1,500 people"


def test_a_long_overdue_count_is_written_with_its_thousands(core: Core) -> None:
    ok(core.command("add Old audit due:01/01/1990", user="sam"))
    shown = core.command("show 1", user="sam").text
    assert re.search(r"overdue \(\d{1,3},\d{3} working days\)", shown), shown
