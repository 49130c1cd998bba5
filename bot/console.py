"""`ecm-bot console`: the real app, offline. Each `/ecm ...` line goes through Bolt as a signed slash command
from the local Slack stand-in, and what Slack would show is printed."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.offline import Exchange, OfflineWorkspace, block_text
from commands.text import esc

SWITCH_USER = re.compile(r"^as[:\s]\s*@?([a-z][\w.\-]*)\s*$", re.I)

BANNER = """ECM task-group bot: offline console (no Slack needed).
Type commands as in Slack, e.g. /ecm help   /ecm setup name:"My ECM Task Group" preset:lancashire
Switch person with `as @name`; mention people as @name. Ctrl-D or `quit` to leave.
"""


def show(ws: OfflineWorkspace, exchange: Exchange, out: TextIO) -> None:
    if not exchange.messages:
        out.write("  (no reply)\n")
    for message in exchange.messages:
        if message.ephemeral:
            where = "only you can see this"
        elif message.channel.startswith("U"):
            where = f"DM to @{ws.standin.user_name(message.channel)}"
        else:
            where = f"#{ws.standin.channel_name(message.channel)}"
        body = ws.readable(block_text(message.blocks) or message.text)
        out.write(f"┌─ {where}\n")
        for line in body.splitlines() or [""]:
            out.write(f"│ {line}\n")
        out.write("└─\n")
    for f in exchange.files:
        where = ", ".join(
            f"#{ws.standin.channel_name(c)}" if not c.startswith("U") else f"DM to @{ws.standin.user_name(c)}"
            for c in f.channels
        )
        out.write(f"  📎 {f.name} ({len(f.content or b''):,} bytes) uploaded to {where}\n")
    out.flush()


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
    for raw in lines:
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
        # Slack escapes &, < and > in what people type (should_escape); do the same so the console is faithful.
        exchange = ws.command(esc(line), user=user)
        show(ws, exchange, out)
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
