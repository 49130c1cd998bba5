"""`/ecm import` (chairs): bring an existing action-plan spreadsheet in; `import confirm N` / `import cancel N`
finish a previewed import (the preview's buttons run these)."""

from __future__ import annotations

from commands import plan_import
from commands.context import Call
from commands.mrkdwn import md
from commands.numbers import whole_number
from commands.registry import verb
from commands.replies import Reply, UserError
from commands.text import truncate

USAGE = "/ecm import   (opens a form to share the spreadsheet) · /ecm import confirm N · /ecm import cancel N"


@verb(
    "import",
    summary="Bring an existing action-plan spreadsheet (.xlsx or .csv) into the register, after a preview.",
    usage=USAGE,
    examples=["/ecm import", "/ecm import confirm 3"],
    section="Task group",
    chair_only=True,
    changes=True,
    details="Columns are found by their headings (Action or Title, Owner by name or e-mail, Organisation, Due "
    "date, Outcome, District, Status, RAG, Notes). You see a preview first: how many rows will be added and "
    "each row that can't be read, with the reason. Nothing is stored until you confirm; then all the rows "
    "are added, or none. The same file twice adds nothing the second time. Operators can also run "
    "`ecm-bot import FILE --channel C…`.",
)
def import_plan(call: Call) -> list[Reply]:
    words = call.args.free_text().split()
    if not words:
        # The slash listener opens the form when Slack gave a trigger; without one, say how else to do it.
        return [
            Reply.note(
                md(
                    "Run `/ecm import` in the task group's channel to open the import form and share the spreadsheet there, or ask whoever runs the bot for `ecm-bot import FILE --channel {}`.\n{}",
                    call.ctx.channel_id,
                    plan_import.HOW_TO,
                )
            )
        ]
    action = words[0].lower()
    import_id = whole_number(words[1].lstrip("#"), 1) if len(words) == 2 else None
    if action not in ("confirm", "cancel") or import_id is None:
        raise UserError(md("I don't understand “{}” here.", truncate(" ".join(words), 60)))
    actor = call.actor()
    if action == "confirm":
        return plan_import.confirm_import(actor, import_id)
    return plan_import.cancel_import(actor, import_id)
