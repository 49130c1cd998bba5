#!/usr/bin/env bash
# Regenerates the initial migration from storage/models.py (only while the project is unreleased).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
tmp=$(mktemp -d)
rm -f storage/migrations/versions/0001_initial_schema.py
"$py" - "$tmp/gen.db" <<'PY'
import sys
from alembic import command
from storage.db import alembic_config, make_engine
command.revision(alembic_config(make_engine(f"sqlite:///{sys.argv[1]}")), message="initial schema",
                 autogenerate=True, rev_id="0001")
PY
sed -i 's/[[:space:]]*$//' storage/migrations/versions/0001_initial_schema.py
rm -rf "$tmp"
