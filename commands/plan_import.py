"""Bringing an existing action-plan spreadsheet (XLSX or CSV) into the register: read, preview, confirm.

`start_import` reads the file and keeps what it read as a pending `PlanImport`, answering with a preview:
how many rows will be added and each row that cannot be read, with its row number and the reason. Nothing
is added until a chair confirms (`confirm_import`); then every readable row is added through the action
operations (`commands.action_ops.check_new` and `create_many`: `create`'s rules, audited as "imported", in a
few statements for all rows; then each row's status, RAG and note through `change`/`add_note`) in one
transaction, or none is. A file already imported, or rows already in the register, add nothing the second
time.

Slack-free: the bot side (or the CLI) hands over the file's name and bytes and a `Directory` for owners
given by e-mail.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands import action_ops
from commands.action_fields import ActionChange, NewAction, parse_rag, status_words
from commands.context import Actor, Context, Directory
from commands.dates import DateError, parse_date
from commands.mrkdwn import Mrkdwn, clip, md, person
from commands.names import COUNTYWIDE_WORDS, OUTCOME_NAMES, parse_outcome
from commands.replies import RUN_COMMAND, Button, Reply, Section, UserError, Visibility
from commands.reporting.cells import uninert
from commands.text import plural, slugify, truncate
from storage import groups, imports, members
from storage.db import session_scope
from storage.models import ActionStatus, ImportStatus, Outcome, PlanImport

T = TypeVar("T")

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
MAX_TITLE, MAX_NOTE, MAX_ORG = 500, 3000, 200
HEADER_SEARCH_ROWS = 10  # the heading row may sit under a title or two
PREVIEW_ROWS = 8
PREVIEW_PROBLEMS = 25
HOW_TO = (
    "Save the plan as .xlsx or .csv with one action per row and a heading row naming the columns: "
    "*Action* (or Title), *Owner* (name or e-mail), *Organisation*, *Due date* (dd/mm/yyyy), *Outcome*, "
    "*District*, *Status*, *RAG*, *Notes*. `/ecm export` gives a file in exactly that shape."
)

# Normalised heading (lower case, letters and digits only) -> the field it fills.
HEADINGS: dict[str, str] = {}
for _field, _names in {
    "title": ["action", "actions", "title", "actiontitle", "task", "description", "activity", "whatwillbedone",
              "actionrequired", "action description"],
    "owners": ["owner", "owners", "lead", "leadofficer", "responsible", "responsibleofficer", "who",
               "assignedto", "actionowner", "officer", "leadperson"],
    "owner_ids": ["ownerids", "ownerid", "slackid", "slackids", "slackuser", "slackusers"],
    "emails": ["owneremail", "owneremails", "email", "emails", "emailaddress", "leademail", "owneremailaddress"],
    "organisation": ["organisation", "organization", "org", "agency", "leadagency", "leadorganisation",
                     "leadorganization", "partner", "service"],
    "due": ["due", "duedate", "deadline", "targetdate", "bywhen", "when", "timescale", "timescales", "by",
            "completionby", "targetcompletion", "target"],
    "outcomes": ["outcome", "outcomes", "ecmoutcome", "ecmoutcomes", "ecmgoal", "ecmgoals", "goal", "goals",
                 "theme", "everychildmattersoutcome", "everychildmatters", "ecm"],
    "districts": ["district", "districts", "area", "areas", "locality", "localities", "districtsinvolved"],
    "status": ["status", "progressstatus", "state"],
    "rag": ["rag", "ragstatus", "ragrating", "rating", "redambergreen"],
    "notes": ["notes", "note", "progress", "update", "updates", "comments", "comment", "latestupdate",
              "progressnotes", "progressupdate"],
    "ignored": ["ref", "reference", "no", "number", "id", "created", "completed", "decision", "dateadded"],
}.items():  # fmt: skip
    for _name in _names:
        HEADINGS[re.sub(r"[^a-z0-9]", "", _name)] = _field

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_USER_ID = re.compile(r"^<?@?([UW][A-Z0-9]{2,})(\|[^>]*)?>?$")
_SPLIT = re.compile(r"\s*(?:;|\n|,|/|&|\band\b)\s*")


@dataclass
class ImportRow:
    """One readable row, as JSON-friendly values (kept in `PlanImport.rows` until the chair confirms)."""

    row: int
    title: str
    owners: list[str] = field(default_factory=list)
    organisation: str | None = None
    due: str | None = None  # ISO date
    outcomes: list[str] = field(default_factory=list)
    district_ids: list[int] = field(default_factory=list)
    countywide: bool = False
    status: str | None = None
    rag: str | None = None
    note: str | None = None


@dataclass
class Problem:
    row: int
    reason: str

    @property
    def line(self) -> str:
        return f"row {self.row}: {self.reason}"


@dataclass
class ReadPlan:
    rows: list[ImportRow]
    problems: list[Problem]
    skipped: list[Problem]  # already in the register, or twice in the file
    ignored_columns: list[str]
    sheet: str | None


def _norm_heading(value: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value or "").lower())


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return uninert(" ".join(str(value).replace("\r", "").split(" ")).strip())


# ----- reading the file ------------------------------------------------------------------------------


def _refuse(message: str) -> UserError:
    return UserError(message, HOW_TO)


def read_tables(filename: str, content: bytes) -> list[tuple[str | None, list[list[Any]]]]:
    """The file's sheets as rows of cell values. Refuses what is not a spreadsheet we can read safely."""
    if len(content) > MAX_BYTES:
        raise _refuse(md("“{}” is {:.1f} MB; the most I read is 10 MB.", filename, len(content) / 1_048_576))
    if not content.strip():
        raise _refuse(md("“{}” is empty.", filename))
    lower = filename.lower()
    if content[:4] == b"PK\x03\x04":
        return _read_xlsx(filename, content)
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or lower.endswith((".xls", ".xlsb")):
        raise _refuse(md("“{}” is an old-style Excel file (.xls). Save it as .xlsx and try again.", filename))
    if lower.endswith((".xlsx", ".xlsm", ".docx", ".pdf", ".ods")) or b"\x00" in content[:4096]:
        raise _refuse(md("“{}” is not a spreadsheet I can read.", filename))
    return [(None, _read_csv(filename, content))]


def _read_xlsx(filename: str, content: bytes) -> list[tuple[str | None, list[list[Any]]]]:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as error:
        raise _refuse(md("“{}” is damaged or not a spreadsheet.", filename)) from error
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _refuse(
            md("“{}” contains macros. Save a copy as a plain .xlsx workbook (no macros).", filename)
        )
    if "xl/workbook.xml" not in names:
        raise _refuse(md("“{}” is not an Excel workbook (a Word or other document?).", filename))
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise _refuse(md("“{}” could not be opened as a workbook.", filename)) from error
    tables: list[tuple[str | None, list[list[Any]]]] = []
    try:
        for ws in book.worksheets:
            rows: list[list[Any]] = []
            for r, cells in enumerate(ws.iter_rows(), start=1):
                if r > MAX_ROWS + HEADER_SEARCH_ROWS:
                    raise _refuse(
                        md("Sheet “{}” has more than {:,} rows; split the plan.", ws.title, MAX_ROWS)
                    )
                values = []
                for cell in cells:
                    if getattr(cell, "data_type", None) == "f":
                        where = f"{getattr(cell, 'column_letter', '')}{r}"
                        raise _refuse(
                            md(
                                "“{}” has a formula in sheet “{}”, cell {}. I don't run formulas: copy the sheet and paste it as values, then import that.",
                                filename,
                                ws.title,
                                where,
                            )
                        )
                    values.append(cell.value)
                rows.append(values)
            tables.append((ws.title, rows))
    finally:
        book.close()
    return tables


def _read_csv(filename: str, content: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _refuse(md("“{}” is not a text CSV file I can read.", filename))
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise _refuse(md("“{}” has more than {:,} rows; split the plan.", filename, MAX_ROWS))
    for r, cells in enumerate(rows, start=1):
        for cell in cells:
            if cell.startswith("="):
                raise _refuse(
                    md(
                        "“{}” has a formula on row {} (“{}”). I don't run formulas: save the values instead, then import that.",
                        filename,
                        r,
                        truncate(cell, 40),
                    )
                )
    return rows


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[int, str], list[str]] | None:
    """(index of the heading row, column -> field, headings not understood), for the first row naming a title."""
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        fields: dict[int, str] = {}
        for c, value in enumerate(cells):
            name = HEADINGS.get(_norm_heading(value))
            if name and name not in fields.values():
                fields[c] = name
        if "title" in fields.values():
            unknown = [
                str(v).strip()
                for c, v in enumerate(cells)
                if c not in fields and str(v or "").strip() and HEADINGS.get(_norm_heading(v)) != "ignored"
            ]
            return index, fields, unknown
    return None


# ----- reading the rows ------------------------------------------------------------------------------


class _RowError(Exception):
    pass


def _did_you_mean(word: str, choices: dict[str, str]) -> str:
    found = difflib.get_close_matches(slugify(word), list(choices), n=1, cutoff=0.6)
    return f" — did you mean {choices[found[0]]}?" if found else ""


class _Reader:
    """Reads one row's cells into an ImportRow, against the group's districts, members and the directory."""

    def __init__(self, actor: Actor, directory: Directory | None) -> None:
        self.actor = actor
        self.directory = directory
        self.today = actor.today
        self.districts = {d.slug: d for d in groups.list_districts(actor.session, actor.group_id)}
        self.district_names = {slug: d.name for slug, d in self.districts.items()}
        for d in list(self.districts.values()):
            self.districts.setdefault(slugify(d.name), d)
        self.members = members.list_members(actor.session, actor.group_id)
        self.people: dict[str, str] = {}  # name slug -> user id
        for m in self.members:
            if m.display_name:
                self.people.setdefault(slugify(m.display_name), m.user_id)
        for m in self.members:
            # Members registered without a name are known by their Slack name (real name or display name).
            if not m.display_name and directory is not None:
                slack_name = directory.name_of(m.user_id)
                if slack_name:
                    self.people.setdefault(slugify(slack_name), m.user_id)
        self.people_names = {slug: slug.replace("-", " ").title() for slug in self.people}
        self.orgs = {slugify(m.organisation): m.organisation for m in self.members if m.organisation}

    def read(self, number: int, cells: dict[str, str], raw_due: Any) -> ImportRow:
        """The row, or `_RowError` naming every cell of it that can't be read (so one fix-up of the file
        mends the row, rather than one cell per import)."""
        problems: list[str] = []

        def cell(read: Callable[[], T], otherwise: T) -> T:
            try:
                return read()
            except _RowError as error:
                problems.append(str(error))
                return otherwise

        title = " ".join(cells.get("title", "").split())
        if len(title) > MAX_TITLE:
            problems.append(f"the action is too long ({len(title)} characters; the most is {MAX_TITLE})")
        row = ImportRow(row=number, title=title)
        row.owners = cell(lambda: self.owners(cells), [])
        row.organisation = cell(lambda: self.organisation(cells.get("organisation", "")), None)
        due = cell(lambda: self.due(raw_due), None)
        row.due = due.isoformat() if due else None
        no_outcomes: list[Outcome] = []
        row.outcomes = [o.value for o in cell(lambda: self.outcomes(cells.get("outcomes", "")), no_outcomes)]
        row.countywide, row.district_ids = cell(
            lambda: self.districts_of(cells.get("districts", "")), (False, list[int]())
        )
        if cells.get("status"):
            status = status_words(cells["status"])
            if status is None:
                problems.append(
                    f"unknown status “{cells['status']}” (use open, in progress, blocked, done or dropped)"
                )
            else:
                row.status = status.value
        if cells.get("rag"):
            try:
                rag = parse_rag(cells["rag"])
                row.rag = rag.value if rag else None
            except UserError:
                problems.append(f"unknown RAG “{cells['rag']}” (use red, amber or green)")
        note = cells.get("notes", "").strip()
        if len(note) > MAX_NOTE:
            problems.append(f"the notes are too long ({len(note)} characters; the most is {MAX_NOTE})")
        row.note = note or None
        if problems:
            raise _RowError("; ".join(problems))
        return row

    def owners(self, cells: dict[str, str]) -> list[str]:
        found: list[str] = []
        ids = [w for w in _SPLIT.split(cells.get("owner_ids", "")) if w.strip()]
        if ids:
            for word in ids:
                match = _USER_ID.match(word.strip())
                if not match:
                    raise _RowError(f"“{word}” in Owner IDs is not a Slack user id (U…)")
                found.append(match.group(1))
            return list(dict.fromkeys(found))
        words = [w for w in _SPLIT.split(cells.get("owners", "")) if w.strip()]
        words += [w for w in _SPLIT.split(cells.get("emails", "")) if w.strip()]
        for word in words:
            word = word.strip()
            match = _USER_ID.match(word)
            if match:
                found.append(match.group(1))
            elif _EMAIL.match(word):
                user = self.directory.user_for_email(word) if self.directory else None
                if user is None:
                    raise _RowError(f"no one in this Slack workspace has the e-mail address “{word}”")
                found.append(user)
            else:
                user = self.people.get(slugify(word.lstrip("@")))
                if user is None:
                    hint = _did_you_mean(word, self.people_names)
                    raise _RowError(
                        f"unknown owner “{word}”{hint}. Give their e-mail address, or register them with "
                        f'`/ecm member @them name:"{truncate(word, 40)}"`'
                    )
                found.append(user)
        return list(dict.fromkeys(found))

    def organisation(self, value: str) -> str | None:
        value = " ".join(value.split())
        if not value:
            return None
        if len(value) > MAX_ORG:
            raise _RowError(f"the organisation is too long ({len(value)} characters; the most is {MAX_ORG})")
        district = self.districts.get(slugify(value))
        if district is not None:
            return district.name
        return self.orgs.get(slugify(value), value)

    def due(self, raw: Any) -> date | None:
        if raw is None or raw == "":
            return None
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            if 1 <= raw < 200_000:  # an Excel serial date (days since 30/12/1899)
                return date(1899, 12, 30) + timedelta(days=int(raw))
            raise _RowError(f"the due date {raw} is not a date")
        text = _cell_text(raw)
        if not text or text.lower() in ("none", "n/a", "na", "-", "tbc", "ongoing"):
            return None
        if re.fullmatch(r"\d{4}-\d\d-\d\d([ T].*)?", text):  # ISO, as some systems export dates
            try:
                return date.fromisoformat(text[:10])
            except ValueError as error:
                raise _RowError(f"the due date “{text}” is not a real date") from error
        try:
            return parse_date(text, self.today)
        except DateError as error:
            raise _RowError(f"the due date “{text}” is not a date I can read (use dd/mm/yyyy)") from error

    def outcomes(self, value: str) -> list[Outcome]:
        found: list[Outcome] = []
        for word in _SPLIT.split(value):
            if not word.strip():
                continue
            try:
                outcome = parse_outcome(word)
            except UserError as error:
                names = {slugify(n): n for n in OUTCOME_NAMES.values()}
                raise _RowError(f"unknown outcome “{word.strip()}”{_did_you_mean(word, names)}") from error
            if outcome not in found:
                found.append(outcome)
        return found

    def districts_of(self, value: str) -> tuple[bool, list[int]]:
        words = [w.strip() for w in re.split(r"\s*(?:;|\n|,|/)\s*", value) if w.strip()]
        if any(slugify(w) in COUNTYWIDE_WORDS | {"all-districts", "county-wide", "all-areas"} for w in words):
            return True, []
        ids: list[int] = []
        for word in words:
            district = self.districts.get(slugify(word))
            if district is None:
                raise _RowError(f"unknown district “{word}”{_did_you_mean(word, self.district_names)}")
            if district.id not in ids:
                ids.append(district.id)  # type: ignore[arg-type]
        return False, ids


def _title_key(title: str) -> str:
    return " ".join(title.casefold().split())


def read_plan(actor: Actor, filename: str, content: bytes, directory: Directory | None) -> ReadPlan:
    """Reads every row of the plan; raises UserError when the file as a whole can't be used."""
    tables = read_tables(filename, content)
    found = None
    for sheet, rows in tables:
        header = _find_header(rows)
        if header is not None:
            found = (sheet, rows, header)
            break
    if found is None:
        if all(not any(_cell_text(v) for r in rows for v in r) for _sheet, rows in tables):
            raise _refuse(md("“{}” has no rows.", filename))
        first = next((r for _s, rows in tables for r in rows if any(_cell_text(v) for v in r)), [])
        seen = clip(
            Mrkdwn(", ").join(md("“{}”", truncate(_cell_text(v), 30)) for v in first if _cell_text(v)), 400
        )
        raise _refuse(
            md(
                "I couldn't find the column of actions in “{}”: no heading called Action or Title in the first {} rows (the first row has {}).",
                filename,
                HEADER_SEARCH_ROWS,
                seen or "nothing",
            )
        )
    sheet, rows, (header_index, fields, unknown) = found
    reader = _Reader(actor, directory)
    existing = {_title_key(t): n for n, t in imports.action_titles(actor.session, actor.group_id)}
    plan = ReadPlan(rows=[], problems=[], skipped=[], ignored_columns=unknown, sheet=sheet)
    in_file: dict[str, int] = {}
    for index in range(header_index + 1, len(rows)):
        number = index + 1  # as the spreadsheet numbers its rows
        values = rows[index]
        cells = {name: _cell_text(values[c]) if c < len(values) else "" for c, name in fields.items()}
        if not any(v for name, v in cells.items() if name != "ignored"):
            continue
        raw_due = next((values[c] for c, name in fields.items() if name == "due" and c < len(values)), None)
        if not cells.get("title"):
            plan.problems.append(Problem(number, "no action given (the Action/Title cell is empty)"))
            continue
        key = _title_key(cells["title"])
        if key in existing:
            plan.skipped.append(Problem(number, f"already in the register as #{existing[key]}"))
            continue
        if key in in_file:
            plan.skipped.append(Problem(number, f"the same action as row {in_file[key]}"))
            continue
        try:
            plan.rows.append(reader.read(number, cells, raw_due))
        except _RowError as error:
            plan.problems.append(Problem(number, str(error)))
            continue
        in_file[key] = number
    if not plan.rows and not plan.problems and not plan.skipped:
        raise _refuse(md("“{}” has a heading row but no actions under it.", filename))
    return plan


# ----- preview, confirm, cancel ----------------------------------------------------------------------


def _require_chair(actor: Actor) -> None:
    if not actor.is_chair:
        raise UserError(
            "Only a chair of this task group can import an action plan.",
            "Ask a chair (see `/ecm members`), or send them the spreadsheet.",
        )


def start_import(actor: Actor, filename: str, content: bytes, directory: Directory | None) -> list[Reply]:
    """Reads the file and keeps it as a pending import; answers with the preview (only the chair sees it)."""
    _require_chair(actor)
    filename = truncate(filename.strip() or "plan", 300)
    plan = read_plan(actor, filename, content, directory)
    digest = hashlib.sha256(content).hexdigest()
    before = imports.imported_file(actor.session, actor.group_id, digest)
    pending = imports.add_pending(
        actor.session,
        actor.group_id,
        user_id=actor.user_id,
        file_name=filename,
        sha256=digest,
        rows=[asdict(r) for r in plan.rows],
        problems=[asdict(p) for p in plan.problems],
        at=actor.now,
    )
    return [preview_reply(actor, pending, plan, before)]


def preview_reply(actor: Actor, pending: PlanImport, plan: ReadPlan, before: PlanImport | None) -> Reply:
    count = len(plan.rows)
    lines: list[Mrkdwn] = [
        md("*{}*", pending.file_name) + (md(" (sheet “{}”)", plan.sheet) if plan.sheet else "")
    ]
    if before is not None and before.imported_at is not None:
        lines.append(
            md(
                ":information_source: This file was already imported on {}; what it holds is in the register, "
                "so it adds nothing again.",
                before.imported_at.strftime("%d/%m/%Y"),
            )
        )
    lines.append(
        md(
            "*{}* will be added as new actions{}.",
            plural(count, "row"),
            f", #{_next_number(actor)} onwards" if count else "",
        )
    )
    for r in plan.rows[:PREVIEW_ROWS]:
        extra = [r.due and date.fromisoformat(r.due).strftime("%d/%m/%Y"), r.status, r.rag]
        lines.append(
            md("• row {}: {}", r.row, truncate(r.title, 120))
            + Mrkdwn("").join(md(" · {}", x) for x in extra if x)
        )
    if count > PREVIEW_ROWS:
        lines.append(md("• … and {} more", count - PREVIEW_ROWS))
    sections = [Section(Mrkdwn("\n").join(lines))]
    if plan.problems:
        sections.append(
            Section(
                md(
                    ":warning: *{} can't be read* and will be left out (fix them and import the file again; rows "
                    "already added are recognised and skipped):\n{}",
                    plural(len(plan.problems), "row"),
                    _listed([p.line for p in plan.problems]),
                )
            )
        )
    if plan.skipped:
        sections.append(
            Section(
                md(
                    "*{} left out*, already there:\n{}",
                    plural(len(plan.skipped), "row"),
                    _listed([p.line for p in plan.skipped]),
                )
            )
        )
    if plan.ignored_columns:
        sections.append(
            Section(
                md(
                    "Columns not used: {}",
                    ", ".join(f"“{truncate(c, 40)}”" for c in plan.ignored_columns[:20]),
                )
            )
        )
    buttons = [Button("Cancel", RUN_COMMAND, f"import cancel {pending.id}")]
    if count:
        buttons.insert(
            0,
            Button(
                f"Import {plural(count, 'action')}", RUN_COMMAND, f"import confirm {pending.id}", "primary"
            ),
        )
    sections.append(Section(Mrkdwn("Nothing is stored until you confirm."), buttons=buttons))
    return Reply(
        text=md("Import preview: {} to add from {}", plural(count, "row"), pending.file_name),
        header="Import preview",
        sections=sections,
        footer=md("Or type `/ecm import confirm {0}` · `/ecm import cancel {0}`", pending.id),
    )


def _listed(problems: list[str]) -> Mrkdwn:
    """The first `PREVIEW_PROBLEMS` as bullets, then how many more."""
    shown = Mrkdwn("\n").join(md("• {}", p) for p in problems[:PREVIEW_PROBLEMS])
    if len(problems) > PREVIEW_PROBLEMS:
        shown += md("\n• … and {} more", len(problems) - PREVIEW_PROBLEMS)
    return shown


def _next_number(actor: Actor) -> int:
    return actor.group.next_action_number


def _pending(actor: Actor, import_id: int) -> PlanImport:
    found = imports.get_import(actor.session, import_id)
    if found is None or found.group_id != actor.group_id:
        raise UserError(
            f"There is no import {import_id} in this task group.", "Start one with `/ecm import`."
        )
    if found.status == ImportStatus.IMPORTED:
        numbers = found.action_numbers
        span = f" as #{numbers[0]}–#{numbers[-1]}" if numbers else ""
        raise UserError(
            md(
                "Import {} ({}) was already imported{}; nothing more to do.",
                import_id,
                found.file_name,
                span,
            )
        )
    if found.status == ImportStatus.CANCELLED:
        raise UserError(f"Import {import_id} was cancelled. Start again with `/ecm import`.")
    return found


@contextmanager
def _row_refused(r: ImportRow) -> Iterator[None]:
    """A row the action operations refuse stops the whole import, saying which row and why."""
    try:
        yield
    except UserError as error:
        raise UserError(
            md("Row {} could not be added ({}), so nothing was imported.", r.row, error.message)
        ) from error


def confirm_import(actor: Actor, import_id: int) -> list[Reply]:
    """Adds every previewed row through the action operations, in this one transaction: all or none."""
    _require_chair(actor)
    pending = _pending(actor, import_id)
    groups.lock_group(actor.session, actor.group_id)  # one import at a time; rows keep consecutive numbers
    actor.session.refresh(pending)
    if pending.status != ImportStatus.PENDING:
        return [Reply.note(f"Import {import_id} was already handled; nothing more to do.")]
    rows = [ImportRow(**r) for r in pending.rows]
    existing = {_title_key(t) for _n, t in imports.action_titles(actor.session, actor.group_id)}
    adding: list[tuple[ImportRow, action_ops.Checked]] = []
    for r in rows:
        if _title_key(r.title) in existing:  # added since the preview (another import, or by hand)
            continue
        new = NewAction(
            title=r.title,
            owners=r.owners,
            organisation=r.organisation,
            due_date=date.fromisoformat(r.due) if r.due else None,
            outcomes=[Outcome(o) for o in r.outcomes],
            district_ids=r.district_ids,
            countywide=r.countywide,
        )
        with _row_refused(r):
            adding.append((r, action_ops.check_new(actor, new)))
        existing.add(_title_key(r.title))
    # Every row in a few statements (a plan of thousands of rows is seconds, not minutes), then each row's
    # status, RAG and note as the action operations change them.
    numbers = action_ops.create_many(actor, [c for _r, c in adding], imported_from=pending.file_name)
    for (r, _checked), number in zip(adding, numbers, strict=True):
        with _row_refused(r):
            status = ActionStatus(r.status) if r.status else None
            change: dict[str, Any] = {}
            if status is not None and status != ActionStatus.OPEN:
                change["status"] = status
            if r.rag:
                change["rag"] = r.rag
            note = r.note
            if change.get("status") == ActionStatus.DROPPED and not note:
                note = f"Dropped in the imported plan {pending.file_name}"
            if change:
                action_ops.change(actor, number, ActionChange(**change), note)
            elif note:
                action_ops.add_note(actor, number, note)
    imports.finish(
        actor.session, pending, ImportStatus.IMPORTED, by=actor.user_id, at=actor.now, numbers=numbers
    )
    span = f"#{numbers[0]}–#{numbers[-1]}" if len(numbers) > 1 else (f"#{numbers[0]}" if numbers else "none")
    return [
        Reply(
            text=md("Imported {} from {}", plural(len(numbers), "action"), pending.file_name),
            visibility=Visibility.CHANNEL,
            sections=[
                Section(
                    md(
                        ":inbox_tray: {} imported *{}* ({}) from *{}*.",
                        person(actor.user_id),
                        plural(len(numbers), "action"),
                        span,
                        pending.file_name,
                    )
                )
            ],
            footer=Mrkdwn("`/ecm actions all` lists them · `/ecm report` for the Board"),
        )
    ]


def cancel_import(actor: Actor, import_id: int) -> list[Reply]:
    _require_chair(actor)
    pending = _pending(actor, import_id)
    imports.finish(actor.session, pending, ImportStatus.CANCELLED, by=actor.user_id, at=actor.now, numbers=[])
    return [Reply.note(md("Import {} ({}) cancelled; nothing was added.", import_id, pending.file_name))]


# ----- the import form (Slack modal): who may open it, and what to do with the file shared in it --------


def form_actor(ctx: Context, session: Session) -> Actor:
    """The chair opening or submitting the import form in this channel; UserError if not set up or not a chair."""
    from commands.dispatch import NOT_SET_UP

    group = groups.get_group(session, ctx.team_id, ctx.channel_id)
    if group is None or group.id is None:
        raise UserError(*NOT_SET_UP)
    now = ctx.clock.now()
    today = now.astimezone(ZoneInfo(ctx.default_timezone)).date()
    actor = action_ops.actor_for(session, group.id, ctx.user_id, now=now, today=today)
    _require_chair(actor)
    return actor


def start_from_form(ctx: Context, filename: str, content: bytes) -> list[Reply]:
    """A file shared through the import form: the preview, or why the file can't be used (nothing stored)."""
    try:
        with session_scope(ctx.engine) as session:
            actor = form_actor(ctx, session)
            return start_import(actor, filename, content, ctx.directory)
    except UserError as error:
        return [Reply.error(error.message, error.usage)]


def latest_pending(actor: Actor) -> PlanImport:
    """The import this actor just previewed (the CLI confirms it in the same run)."""
    found = imports.latest_pending(actor.session, actor.group_id, actor.user_id)
    if found is None:
        raise UserError("There is no import waiting to be confirmed.")
    return found
