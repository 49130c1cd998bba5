"""`/ecm import`'s form: a modal with a file input. The shared spreadsheet is fetched (files.info, then the
download with the bot token) and handed to `commands.plan_import`, which answers with the preview."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.models.blocks import InputBlock, MarkdownTextObject, PlainTextObject, SectionBlock
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from bot.directory import SlackDirectory
from bot.services import Services
from bot.slack_api import deliver, respond
from commands import plan_import
from commands.context import Context
from commands.replies import Reply, UserError
from storage.db import session_scope

log = logging.getLogger(__name__)

IMPORT_CALLBACK = "ecm_import_plan"
FILE_BLOCK = "plan_file"
FILE_INPUT = "file"


def opens_import_form(text: str) -> bool:
    return text.strip().lower() == "import"


def import_view(channel_id: str) -> View:
    return View(
        type="modal",
        callback_id=IMPORT_CALLBACK,
        title=PlainTextObject(text="Import an action plan"),
        submit=PlainTextObject(text="Preview"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"channel": channel_id}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text="Share the plan as *.xlsx* or *.csv* (up to 10 MB), one action per row under a heading "
                    "row. You'll see a preview first; nothing is added until you confirm."
                )
            ),
            InputBlock(
                block_id=FILE_BLOCK,
                label=PlainTextObject(text="Action plan spreadsheet"),
                element=FileInputElement(action_id=FILE_INPUT, filetypes=["xlsx", "csv"], max_files=1),
            ),
        ],
    )


def _context(services: Services, team_id: str, channel_id: str, user_id: str) -> Context:
    return Context(
        engine=services.engine,
        clock=services.clock,
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        default_timezone=services.settings.ecm_timezone,
        directory=SlackDirectory(services.client),
    )


def open_import_form(services: Services, command: dict[str, Any]) -> None:
    """Opens the form for a chair; anyone else (or a channel not set up) is told why, ephemerally."""
    ctx = _context(services, command["team_id"], command["channel_id"], command["user_id"])
    try:
        with session_scope(services.engine) as session:
            plan_import.form_actor(ctx, session)
    except UserError as error:
        if command.get("response_url"):
            respond(command["response_url"], Reply.error(error.message, error.usage))
        return
    try:
        services.client.views_open(trigger_id=command["trigger_id"], view=import_view(command["channel_id"]))
    except (SlackClientError, OSError) as exc:
        log.warning("views.open for the import form failed: %s", exc)
        if command.get("response_url"):
            respond(
                command["response_url"],
                Reply.note(":warning: I couldn't open the import form; please run `/ecm import` again."),
            )


def fetch_file(client: WebClient, file_id: str) -> tuple[str, bytes]:
    """files.info, then the download with the bot token; UserError for anything a person should be told."""
    try:
        info = client.files_info(file=file_id).get("file") or {}
    except (SlackClientError, OSError) as exc:
        log.warning("files.info %s failed: %s", file_id, exc)
        raise UserError("I couldn't see the file you shared (Slack refused it); nothing was stored.") from exc
    name = str(info.get("name") or "plan")
    if int(info.get("size") or 0) > plan_import.MAX_BYTES:
        raise UserError(f"“{name}” is over 10 MB, the most I read; nothing was stored.", plan_import.HOW_TO)
    url = info.get("url_private_download") or info.get("url_private")
    if not url:
        raise UserError("Slack gave no way to download that file; nothing was stored.")
    request = urllib.request.Request(str(url), headers={"Authorization": f"Bearer {client.token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - Slack's (or the stand-in's) file URL
            content = response.read(plan_import.MAX_BYTES + 1)
            kind = response.headers.get("Content-Type", "")
    except (OSError, ValueError) as exc:  # ValueError: a URL http.client refuses
        log.warning("downloading %s failed: %s", file_id, exc)
        raise UserError(
            "I couldn't download the file you shared; nothing was stored. Please try again."
        ) from exc
    if "text/html" in kind:
        raise UserError("Slack sent a sign-in page instead of the file (the bot needs `files:read`).")
    if len(content) > plan_import.MAX_BYTES:
        raise UserError(f"“{name}” is over 10 MB, the most I read; nothing was stored.", plan_import.HOW_TO)
    return name, content


def read_shared_file(services: Services, body: dict[str, Any], view: dict[str, Any], file_id: str) -> None:
    """After the form closed: fetch the file, read it, and show the chair the preview (or why not)."""
    user_id = body["user"]["id"]
    try:
        channel_id = json.loads(view.get("private_metadata") or "{}")["channel"]
    except (ValueError, KeyError, TypeError):
        log.warning("import form without its channel")
        return
    team_id = (body.get("team") or {}).get("id") or ""
    ctx = _context(services, team_id, channel_id, user_id)
    try:
        name, content = fetch_file(services.client, file_id)
        replies = plan_import.start_from_form(ctx, name, content)
    except UserError as error:
        replies = [Reply.error(error.message, error.usage)]
    except Exception:
        log.exception("reading an imported plan failed")
        replies = [Reply.error("Sorry, I couldn't read that file and nothing was stored. Please try again.")]
    deliver(services.client, replies, channel_id=channel_id, user_id=user_id, response_url=None)


def register(app: App, services: Services) -> None:
    @app.view(IMPORT_CALLBACK)
    def on_import_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        files = ((values.get(FILE_BLOCK) or {}).get(FILE_INPUT) or {}).get("files") or []
        if not files:
            ack(response_action="errors", errors={FILE_BLOCK: "Choose the spreadsheet to import."})
            return
        ack()  # closes the form; the preview follows as a message only the chair sees
        services.later(read_shared_file, services, body, view, str(files[0].get("id") or ""))
