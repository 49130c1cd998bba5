"""The test suite. Collecting it is mostly pytest rewriting the asserts of every test module (about 3 s of CPU
a worker): the rewritten modules, and the project's own bytecode, are cached for the next run even where
PYTHONDONTWRITEBYTECODE is set (`__pycache__` is git-ignored). This package is imported before
tests/conftest.py and so before anything else of ours."""

import sys

sys.dont_write_bytecode = False
