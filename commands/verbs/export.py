"""`/ecm export`: the whole register as Excel and CSV, in the columns `/ecm import` reads, sent to you."""

from __future__ import annotations

from commands.context import Call
from commands.mrkdwn import md
from commands.registry import verb
from commands.replies import Reply, Section, UserError, Visibility
from commands.reporting.files import export_files
from commands.reporting.model import load_register_actions, name_resolver
from commands.text import plural, slugify

FORMATS = ("xlsx", "csv")


def export_register(call: Call, formats: tuple[str, ...] = FORMATS) -> Reply:
    """The register's files and a note saying what they hold (every surface: command and CLI)."""
    actions = load_register_actions(
        call.session,
        call.task_group,
        call.timezone,
        name_resolver(call.session, call.group_id, call.ctx.directory),
    )
    files = export_files(slugify(call.task_group.name), call.today.isoformat(), actions, formats)
    return Reply(
        text=md("Action register of {}: {}", call.task_group.name, plural(len(actions), "action")),
        visibility=Visibility.DM,
        recipient=call.user_id,
        sections=[
            Section(
                md(
                    "The action register of *{}*: {}, every field, in the columns `/ecm import` reads (so it imports back into an empty group).",
                    call.task_group.name,
                    plural(len(actions), "action"),
                )
            )
        ],
        footer=md("Files: {}", ", ".join(f.filename for f in files)),
        files=files,
    )


@verb(
    "export",
    summary="The whole action register as Excel and CSV, sent to you in a DM.",
    usage="/ecm export [format:xlsx|csv]",
    examples=["/ecm export", "/ecm export format:csv"],
    keys=("format",),
    section="Task group",
)
def export(call: Call) -> list[Reply]:
    if call.args.free_text():
        raise UserError(md("I don't understand “{}” here.", call.args.free_text()[:60]))
    formats: tuple[str, ...] = FORMATS
    if "format" in call.args.keys:
        wanted = call.args.keys["format"].strip().lower().lstrip(".")
        wanted = {"excel": "xlsx", "xls": "xlsx"}.get(wanted, wanted)
        if wanted not in FORMATS:
            raise UserError(md("“{}” is not an export format.", wanted), "Use `format:xlsx` or `format:csv`.")
        formats = (wanted,)
    return [
        export_register(call, formats),
        Reply.note("I've sent you the register in a DM."),
    ]
