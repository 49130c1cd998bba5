"""`ecm-bot console`: the real app, offline. Each `/ecm ...` line goes through Bolt as a signed slash command
from the local Slack stand-in, and what Slack would show is printed."""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from bot.jobs.dispatcher import dispatch_due, local_today
from bot.jobs.planner import plan
from bot.offline import Exchange, OfflineWorkspace, block_text, button_near, find_button
from bot.standin import Message, OpenView
from commands.dates import DateError, format_date, parse_date
from commands.mrkdwn import person
from commands.posts.common import post_time, working
from commands.posts.registry import JOB_NAMES, kinds_for
from commands.text import esc

SWITCH_USER = re.compile(r"^as[:\s]\s*@?([a-z][\w.\-]*)\s*$", re.I)

BANNER = """ECM task-group bot: offline console (no Slack needed).
Type commands as in Slack, e.g. /ecm help   /ecm setup name:"My ECM Task Group" preset:lancashire
Switch person with `as @name`; mention people as @name. Ctrl-D or `quit` to leave.
Without typing commands: `home` shows your Home tab, `press LABEL [#N]` presses a button on it (or on the
open form), `new` opens the New action form, `say TEXT` writes a message and `make action` runs "Make this
an action" on the last one; `form` shows the open form, `submit field=value …` submits it (plain `submit`
asks field by field), `cancel` closes it. `jobs run [JOB]` sends today's scheduled posts (chaser DMs,
digests, reminders); `dms [@name]` shows the DMs a person has received. `press LABEL [#N]` also presses a
button on the messages shown last (a DM, the minutes' [Share in channel]).
"""


@dataclass
class Focus:
    """What the person last looked at: `press` looks for the button there first (the open form comes
    before anything; then the messages last shown, newest first, or the Home tab after `home`)."""

    messages: list[Message] = field(default_factory=list)
    home: bool = False

    def saw(self, messages: list[Message]) -> None:
        if messages:
            self.messages, self.home = list(messages), False


def where_of(ws: OfflineWorkspace, message: Message) -> str:
    if message.ephemeral:
        return "only you can see this"
    if message.channel.startswith("U"):
        return f"DM to @{ws.standin.user_name(message.channel)}"
    return f"#{ws.standin.channel_name(message.channel)}"


def show_message(ws: OfflineWorkspace, message: Message, out: TextIO, note: str = "") -> None:
    body = ws.readable(block_text(message.blocks) or message.text)
    out.write(f"┌─ {where_of(ws, message)}{note}\n")
    for line in body.splitlines() or [""]:
        out.write(f"│ {line}\n")
    out.write("└─\n")


def show(ws: OfflineWorkspace, exchange: Exchange, out: TextIO) -> None:
    if not exchange.messages:
        out.write("  (no reply)\n")
    for message in exchange.messages:
        show_message(ws, message, out)
    for f in exchange.files:
        where = ", ".join(
            f"#{ws.standin.channel_name(c)}" if not c.startswith("U") else f"DM to @{ws.standin.user_name(c)}"
            for c in f.channels
        )
        out.write(f"  📎 {f.name} ({len(f.content or b''):,} bytes) uploaded to {where}\n")
    out.flush()


# ----- views: the Home tab and forms ------------------------------------------------------------------------


def _state_text(element: dict[str, Any]) -> str:
    kind = element.get("type", "")
    if kind == "plain_text_input":
        return element.get("initial_value") or ""
    if kind == "datepicker":
        return element.get("initial_date") or ""
    if kind == "multi_users_select":
        return ", ".join(person(u) for u in element.get("initial_users") or [])
    if "initial_option" in element:
        return (element["initial_option"].get("text") or {}).get("text", "")
    if kind == "file_input":
        return "a file: give its path, e.g. `submit FIELD=plan.xlsx`"
    if "initial_options" in element:
        return ", ".join((o.get("text") or {}).get("text", "") for o in element["initial_options"])
    return ""


def _choices(element: dict[str, Any]) -> list[str]:
    return [(o.get("text") or {}).get("text", "") for o in element.get("options") or []]


def view_text(ws: OfflineWorkspace, view: dict[str, Any]) -> str:
    """A Home tab or modal as a person would read it; inputs as `field: value` with their choices."""
    lines: list[str] = []
    if view.get("type") == "modal":
        lines.append(f"[{(view.get('title') or {}).get('text', '')}]")
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            text = block_text([block])
            if text:
                lines.append(text)
            continue
        element = block["element"]
        label = (block.get("label") or {}).get("text", "")
        optional = "" if not block.get("optional") else ", optional"
        current = _state_text(element)
        line = f"• {label} ({block.get('block_id')}{optional}): {current or '—'}"
        choices = _choices(element)
        if choices:
            shown = ", ".join(choices[:12]) + (f", … {len(choices) - 12} more" if len(choices) > 12 else "")
            line += f"  [choices: {shown}]"
        elif element.get("type", "").startswith(("external", "multi_external")):
            line += "  [type to search]"
        lines.append(line)
    if view.get("submit"):
        lines.append(f"[{view['submit'].get('text', '')}] — `submit field=value …` or plain `submit`")
    return ws.readable("\n".join(lines))


def show_view(ws: OfflineWorkspace, view: OpenView | None, out: TextIO, where: str) -> None:
    if view is None:
        out.write(f"  (no {where})\n")
        return
    out.write(f"╔═ {where}\n")
    for line in view_text(ws, view.view).splitlines() or [""]:
        out.write(f"║ {line}\n")
    out.write("╚═\n")


def _answer(ws: OfflineWorkspace, view: OpenView, block_id: str, typed: str) -> Any:
    """What was typed for a field, as Slack would send it: option values, user ids, ISO dates."""
    block = next((b for b in view.view.get("blocks") or [] if b.get("block_id") == block_id), None)
    if block is None or block.get("type") != "input":
        raise LookupError(f"the form has no field “{block_id}”")
    element = block["element"]
    kind = element.get("type", "")
    if kind == "file_input":
        # A path on this machine, shared as the person would share a file in Slack.
        path = Path(typed.strip()).expanduser()
        try:
            content = path.read_bytes()
        except OSError as error:
            raise LookupError(f"can't read the file “{typed.strip()}” ({error.strerror})") from error
        return [ws.standin.share_file(path.name, content, view.user)]
    parts = [p.strip() for p in typed.split(",") if p.strip()]
    if kind == "multi_users_select":
        return [ws.user(p.lstrip("@")) for p in parts]
    if kind == "datepicker":
        if not typed.strip():
            return ""
        try:
            return date.fromisoformat(typed.strip()).isoformat()
        except ValueError:
            pass
        try:
            return parse_date(typed, ws.clock.now().date()).isoformat()
        except DateError as error:
            raise LookupError(str(error)) from error
    options = element.get("options")
    if options is not None:
        picked = [_pick(options, p) for p in parts]
        return picked if kind.startswith("multi_") else (picked[0] if picked else "")
    if kind.startswith(("external", "multi_external")):
        found = [_pick(ws.suggest(view, block_id, p), p) for p in parts]
        return found if kind.startswith("multi_") else (found[0] if found else "")
    return typed


def _pick(options: list[dict[str, Any]], typed: str) -> str:
    wanted = typed.strip().lower()
    for test in (
        lambda o: o["value"].lower() == wanted or o["text"]["text"].lower() == wanted,
        lambda o: o["text"]["text"].lower().startswith(wanted),
        lambda o: wanted in o["text"]["text"].lower(),
    ):
        found = [o for o in options if test(o)]
        if found:
            return str(found[0]["value"])
    labels = ", ".join(o["text"]["text"] for o in options[:12])
    raise LookupError(f"“{typed}” is not one of the choices ({labels})")


def _can_press(ws: OfflineWorkspace, user: str, message: Message) -> bool:
    """Only what the person can see: the channel, their own DMs and their own ephemeral replies."""
    me = ws.user(user)
    if message.ephemeral:
        return message.user in (None, me)
    return not message.channel.startswith("U") or message.channel == me


def _message_button(
    messages: list[Message], label: str, number: int | None
) -> tuple[Message, dict[str, Any], str] | None:
    for message in reversed(messages):
        try:
            if number is not None:
                button, block_id = button_near(message.blocks, label, number)
            else:
                button, block_id = find_button({"blocks": message.blocks}, label)
        except LookupError:
            continue
        return message, button, block_id
    return None


def _press_message(
    ws: OfflineWorkspace, user: str, label: str, number: int | None, focus: Focus, out: TextIO
) -> tuple[bool, Exchange | None]:
    """Presses a button on the messages last shown: (whether one of them has it, what pressing it did)."""
    found = _message_button(focus.messages, label, number)
    if found is None:
        return False, None
    message, button, block_id = found
    if not _can_press(ws, user, message):
        owner = ws.standin.user_name(message.user or message.channel)
        out.write(f"  (that message is @{owner}'s: `as @{owner}` first)\n")
        return True, None
    before = (message.text, str(message.blocks))
    exchange = ws.press_message(message, button, block_id, user)
    if (message.text, str(message.blocks)) != before:
        show_message(ws, message, out, " (updated)")
    if not exchange.messages:
        out.write(f"  (pressed [{(button.get('text') or {}).get('text', label)}])\n")
    return True, exchange


def _press(ws: OfflineWorkspace, user: str, words: str, out: TextIO, focus: Focus) -> Exchange | None:
    """`press Done #3`: the button with that label next to action #3 (on the open form, else the messages
    last shown or the Home tab, whichever was looked at last)."""
    label, _, near = words.partition("#")
    label = label.strip()
    number = int(near.strip()) if near.strip().isascii() and near.strip().isdigit() else None
    if ws.modal(user) is None and not focus.home:
        found, pressed = _press_message(ws, user, label, number, focus, out)
        if found:
            return pressed
    view = ws.modal(user) or ws.home_of(user) or ws.open_home(user)
    if view is None:
        out.write("  (nothing to press: no Home tab or form)\n")
        return None
    if number is not None:
        try:
            button, block_id = ws.button_for(view, label, number)
        except LookupError as error:
            out.write(f"  ({error})\n")
            return None
        return ws.press_button(view, button, block_id)
    try:
        return ws.press(view, label)
    except LookupError as error:
        if ws.modal(user) is None and focus.home:  # looked at the Home last: the messages come next
            found, pressed = _press_message(ws, user, label, number, focus, out)
            if found:
                return pressed
        out.write(f"  ({error})\n")
        return None


def _dms(ws: OfflineWorkspace, user: str, rest: str, out: TextIO, focus: Focus) -> None:
    """`dms [@name]`: every DM the person has received from the bot, as it reads now."""
    name = rest.strip().lstrip("@") or user
    if not re.fullmatch(r"[a-z][\w.\-]*", name, re.I):
        out.write("  (write `dms` for your own DMs, or `dms @name`)\n")
        return
    messages = ws.dms_of(name)
    if not messages:
        out.write(f"  (no DMs to @{name} yet: `jobs run chasers` sends today's chaser DMs)\n")
        return
    out.write(f"  {len(messages)} DM{'s' if len(messages) != 1 else ''} to @{name}, oldest first:\n")
    for i, message in enumerate(messages, 1):
        show_message(ws, message, out, f" ({i} of {len(messages)})")
    focus.saw(messages)


def _jobs(ws: OfflineWorkspace, rest: str, out: TextIO, focus: Focus) -> None:
    """`jobs run [JOB]`: what the scheduler does at a tick, now: plans today's posts of the job and sends
    them (an operator's `ecm-bot jobs run JOB`), then shows what went out."""
    words = rest.split()
    if not words or words[0] != "run" or len(words) > 2 or (len(words) == 2 and words[1] not in JOB_NAMES):
        out.write(f"  (write `jobs run [JOB]`; jobs: {', '.join(JOB_NAMES)})\n")
        return
    job = words[1] if len(words) == 2 else "all"
    tz = ws.settings.ecm_timezone
    now = ws.clock.now()
    day = local_today(now, tz)
    before = len(ws.standin.messages)
    planned = plan(ws.engine, day, tz=tz, now=now, job=job)
    report = dispatch_due(
        ws.engine,
        ws.services.client,
        ws.clock,
        tz=tz,
        kinds=kinds_for(job),
        due_by=max(now, post_time(day, tz)),
    )
    ws.drain()
    counts = report.counts
    out.write(
        f"  {job} for {format_date(day)}: {planned.planned} planned ({planned.new} new)"
        + ("" if working(day) else " — not a working day, so nothing is posted")
        + f"; sent {counts['sent']}, skipped {counts['skipped']}, failed {counts['failed']}\n"
    )
    sent = [m for m in ws.standin.messages[before:] if m.via != "person"]
    for message in sent:
        show_message(ws, message, out)
    focus.saw(sent)


def _submit(
    ws: OfflineWorkspace, user: str, args: str, lines: Iterator[str], out: TextIO, *, prompt: bool
) -> Exchange | None:
    view = ws.modal(user)
    if view is None:
        out.write("  (no form is open)\n")
        return None
    answers: dict[str, Any] = {}
    try:
        pairs = shlex.split(args)
    except ValueError as error:
        out.write(f"  ({error})\n")
        return None
    try:
        for pair in pairs:
            key, eq, value = pair.partition("=")
            if not eq:
                raise LookupError(f"write fields as field=value (got “{pair}”)")
            answers[key.strip()] = _answer(ws, view, key.strip(), value)
        if not pairs:
            for block in view.view.get("blocks") or []:
                if block.get("type") != "input":
                    continue
                label = (block.get("label") or {}).get("text", "")
                current = ws.readable(_state_text(block["element"])) or "empty"
                try:
                    # At a terminal each field gets its own prompt; a script gives one line per field.
                    typed = (input(f"  {label} [{current}]: ") if prompt else next(lines, "")).strip()
                except EOFError:
                    typed = ""
                if typed:
                    answers[block["block_id"]] = _answer(ws, view, block["block_id"], typed)
    except LookupError as error:
        out.write(f"  ({error}; nothing was submitted)\n")
        return None
    exchange = ws.submit(view, answers)
    for block_id, message in exchange.errors.items():
        out.write(f"  ✗ {block_id}: {ws.readable(message)}\n")
    if not exchange.errors:
        after = ws.modal(user)
        if after is None:
            out.write("  (form submitted and closed)\n")
        else:
            show_view(ws, after, out, "form")
    return exchange


def _view_command(
    ws: OfflineWorkspace,
    user: str,
    line: str,
    lines: Iterator[str],
    out: TextIO,
    *,
    prompt: bool,
    focus: Focus | None = None,
) -> Exchange | None | bool:
    """Runs a Home/form/DM/jobs console command; False when `line` is not one."""
    focus = focus if focus is not None else Focus()
    word, _, rest = line.partition(" ")
    word = word.lower()
    if word == "home":
        view = ws.open_home(user)
        show_view(ws, view, out, f"Home tab of @{user}")
        focus.home = True
        return None
    if word in ("dms", "inbox"):
        _dms(ws, user, rest, out, focus)
        return None
    if word == "jobs":
        _jobs(ws, rest, out, focus)
        return None
    if word == "new":
        exchange = ws.shortcut("ecm_new_action", user=user)
        show_view(ws, ws.modal(user), out, "form")
        return exchange
    if word == "say":
        ws.say(rest, user=user)
        out.write(f"  (@{user} wrote in #{ws.standin.channel_name(ws.channel)})\n")
        return None
    if line.lower() == "make action":
        said = [m for m in ws.standin.messages if m.via == "person"]
        if not said:
            out.write("  (nobody has written a message yet: `say TEXT` first)\n")
            return None
        message: Message = said[-1]
        author = ws.standin.user_name(ws.standin.author_of(message) or "")
        exchange = ws.message_shortcut("ecm_message_to_action", message, user=user, author=author)
        show_view(ws, ws.modal(user), out, "form")
        return exchange
    if word == "form":
        show_view(ws, ws.modal(user), out, "form")
        return None
    if word == "cancel":
        ws.standin.close_views(ws.user(user))
        out.write("  (form closed)\n")
        return None
    if word == "press":
        pressed = _press(ws, user, rest, out, focus)
        modal = ws.modal(user)
        if modal is not None:
            show_view(ws, modal, out, "form")
        return pressed
    if word == "submit":
        return _submit(ws, user, rest, lines, out, prompt=prompt)
    return False


def run_lines(
    ws: OfflineWorkspace,
    lines: Iterable[str],
    user: str,
    out: TextIO,
    *,
    strict: bool = False,
    echo: bool = True,
) -> int:
    """Runs commands; returns the number of error replies (stops at the first one when strict)."""
    errors = 0
    feed = iter(lines)
    focus = Focus()
    for raw in feed:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() in ("quit", "exit"):
            break
        switch = SWITCH_USER.match(line)
        if switch:
            user = switch.group(1)
            if echo:
                out.write(f"(now acting as @{user})\n")
            continue
        if echo:
            out.write(f"@{user}> {line}\n")
        if not line.startswith("/"):
            handled = _view_command(ws, user, line, feed, out, prompt=not echo, focus=focus)
            if handled is not False:
                if isinstance(handled, Exchange) and handled.messages:
                    show(ws, handled, out)
                    focus.saw(handled.messages)
                continue
        # Slack escapes &, < and > in what people type (should_escape); do the same so the console is faithful.
        before = ws.modal(user)
        exchange = ws.command(esc(line), user=user)
        opened = ws.modal(user)
        if opened is not None and (before is None or opened.id != before.id):
            # The command opened a form (`/ecm add` alone, `/ecm import`): show it, as Slack would.
            if exchange.messages or exchange.files:
                show(ws, exchange, out)
            show_view(ws, opened, out, "form")
        else:
            show(ws, exchange, out)
        focus.saw(exchange.messages)
        if exchange.is_error:
            errors += 1
            if strict:
                out.write(f"Stopping: that command got an error reply (--strict): {line}\n")
                return errors
    return errors


def interactive(ws: OfflineWorkspace, user: str, out: TextIO = sys.stdout) -> None:
    out.write(BANNER)

    def prompts() -> Iterable[str]:
        nonlocal user
        while True:
            try:
                line = input(f"@{user}> ")
                if not sys.stdin.isatty():
                    out.write(line + "\n")  # piped input: show the command, as a terminal would
            except EOFError:
                out.write("\n")
                return
            switch = SWITCH_USER.match(line.strip())
            if switch:
                user = switch.group(1)
            yield line

    run_lines(ws, prompts(), user, out, echo=False)
