"""`/ecm report` and `/ecm export` on a large group: the whole command end to end through Bolt and the stand-in
(view model, Word, Excel, CSV, charts, upload), and each stage on its own.

Seeds a Lancashire group with N actions (default 5000; a fifth of them completed with a closing note, a
third with progress notes, a few dropped) and a dozen meetings, then times the report. The goal is under
10 s for 5,000 actions. SQLite always; PostgreSQL too when ECM_TEST_DATABASE_URL is set.

    .venv/bin/python bench/report_bench.py [--actions 5000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.pg_schema import each_database  # noqa: E402
from bot.offline import OfflineWorkspace  # noqa: E402
from commands.reporting.charts import actions_chart, attendance_chart  # noqa: E402
from commands.reporting.csvfile import actions_csv  # noqa: E402
from commands.reporting.model import load_report  # noqa: E402
from commands.reporting.word import report_docx  # noqa: E402
from commands.reporting.workbook import report_xlsx  # noqa: E402
from storage import actions, groups  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.models import ActionStatus, Outcome, Rag  # noqa: E402

LONDON = ZoneInfo("Europe/London")


def seed(ws: OfflineWorkspace, clock: FixedClock, count: int) -> None:
    ws.command('setup name:"Bench Group" preset:lancashire')
    names = ("sam", "priya", "dev", "alex", "jo")
    owners = [ws.user(n) for n in names]
    for name, where in zip(names, ("chorley", "preston", "burnley", "wyre", "fylde"), strict=True):
        ws.command(f"member @{name} district:{where}")
    for month in range(6, 12):  # two meetings a month, one of them cancelled in November
        for day in (8, 22):
            clock.set(datetime(2026, month, day, 10, 0, tzinfo=LONDON))
            ws.command("meeting start")
            ws.command("present @sam @priya")
            ws.command("apologies @dev")
            ws.command(f'decide "Decision of {day}/{month}"')
            ws.command("meeting cancel" if (month, day) == (11, 8) else "meeting end")
    rng = random.Random(7)
    with session_scope(ws.engine) as session:
        group = groups.get_group(session, ws.standin.team_id, ws.channel)
        assert group is not None
        districts = groups.list_districts(session, group.id)  # type: ignore[arg-type]
        for i in range(count):
            at = datetime(2026, 5, 1, 9, 0, tzinfo=LONDON) + timedelta(hours=rng.randint(0, 24 * 200))
            row = actions.create_action(
                session,
                group,
                actions.NewActionRecord(
                    title=f"Seeded action {i}",
                    owners=[rng.choice(owners)],
                    organisation=rng.choice([d.name for d in districts] + ["Lancashire Constabulary"]),
                    due_date=date(2026, 11, 23) + timedelta(days=rng.randint(-90, 120)),
                    outcomes=rng.sample(list(Outcome), k=rng.randint(1, 2)),
                    district_ids=[d.id for d in rng.sample(districts, k=rng.randint(1, 3))],
                    countywide=rng.random() < 0.1,
                ),
                by=owners[0],
                at=at,
            )
            roll = rng.random()
            later = at + timedelta(days=rng.randint(1, 30))
            if roll < 0.2:
                actions.update_action(
                    session,
                    row,
                    {"status": ActionStatus.DONE},
                    by=owners[0],
                    at=later,
                    note=f"Closed {i}",
                    verb="done",
                )
            elif roll < 0.55:
                actions.update_action(
                    session,
                    row,
                    {"rag": rng.choice(list(Rag))},
                    by=owners[0],
                    at=later,
                    note=f"Progress on {i}",
                )
            elif roll < 0.58:
                actions.update_action(
                    session, row, {"status": ActionStatus.DROPPED}, by=owners[0], at=later, note="Not needed"
                )
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=LONDON))


def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"  {label:<44} {time.perf_counter() - t0:7.2f} s")
    return result


def bench(url: str, label: str, count: int, connect_args: dict | None = None) -> None:
    engine = make_engine(url, connect_args=connect_args) if connect_args else make_engine(url)
    migrate(engine)
    clock = FixedClock(datetime(2026, 6, 1, 9, 30, tzinfo=LONDON))
    ws = OfflineWorkspace(engine, clock)
    try:
        started = time.perf_counter()
        seed(ws, clock, count)
        print(f"\n{label}: seeded {count} actions in {time.perf_counter() - started:.1f}s")
        with session_scope(engine) as session:
            group = groups.get_group(session, ws.standin.team_id, ws.channel)
            assert group is not None
            report = timed(
                "view model (load_report)",
                load_report,
                session,
                group,
                tz_name="Europe/London",
                since=date(2026, 6, 1),
                until=date(2026, 11, 30),
                now=clock.now(),
            )
        charts = {
            "a": timed("chart: actions by outcome and status", actions_chart, report),
            "b": timed("chart: attendance by organisation", attendance_chart, report),
        }
        docx = timed("Word document", report_docx, report, charts)
        xlsx = timed("Excel workbook", report_xlsx, report)
        csv = timed("CSV", actions_csv, report.actions)
        print(
            f"  sizes: docx {len(docx) / 1024:.0f} KiB, xlsx {len(xlsx) / 1024:.0f} KiB, csv {len(csv) / 1024:.0f} KiB"
        )
        t0 = time.perf_counter()
        out = ws.command("report since:1/6/2026", user="chair")
        total = time.perf_counter() - t0
        assert not out.is_error, out.text
        blocks = max(len(m.blocks) for m in out.posted)
        print(
            f"  /ecm report end to end (all files uploaded)    {total:7.2f} s  ({blocks} blocks; goal < 10 s)"
        )
        t0 = time.perf_counter()
        out = ws.command("export", user="chair")
        assert not out.is_error, out.text
        print(f"  /ecm export end to end                         {time.perf_counter() - t0:7.2f} s")
    finally:
        ws.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=5000)
    args = parser.parse_args()
    for url, label, connect_args in each_database():
        bench(url, label, args.actions, connect_args)


if __name__ == "__main__":
    main()
