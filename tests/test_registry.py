"""The verb table is whole whichever verb module is imported first, and verb modules stand alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from commands.registry import VERBS, load_verbs

VERBS_DIR = Path(__file__).resolve().parent.parent / "commands" / "verbs"


def test_importing_one_verb_module_first_still_finds_every_verb() -> None:
    # A fresh interpreter, so no other test has loaded the table already.
    script = (
        "import commands.verbs.decide\n"
        "from commands.registry import VERBS, lookup\n"
        "assert lookup('add') is not None, sorted(VERBS)\n"
        "assert lookup('new').name == 'add' and lookup('minutes') is not None\n"
        "print(' '.join(sorted(VERBS)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    load_verbs()
    assert out.stdout.split() == sorted(VERBS)


def test_verb_modules_do_not_import_each_other() -> None:
    for path in VERBS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("commands.verbs"), (path.name, node.module)
