"""The App Home tab in Slack: `commands.home` parts -> a `home` view (slack_sdk.models), `views.publish`, and
the one place that keeps everyone's Home current.

Keeping Homes current: every Bolt listener runs on the listener executor, and `RefreshingExecutor` runs each
one inside `storage.audit.watching()`. When a listener has recorded changes (from a command, a button, a
modal or a shortcut, whichever surface), the Homes of the people those changes concern are published again,
in the same worker thread after the listener has acked and answered, so it never delays Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

from slack_sdk.errors import SlackClientError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.services import Services
from commands.home import MAX_HOME_BLOCKS, Part, PartKind, home_page, load_home
from commands.text import truncate
from storage import audit
from storage.db import session_scope
from storage.models import TaskGroup

log = logging.getLogger(__name__)

# People whose Home the running listener has already published from current data (e.g. with a line saying
# what their click did): the refresh after it leaves them be.
_published: ContextVar[set[str] | None] = ContextVar("home_published", default=None)


def home_blocks(parts: list[Part], notice: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    if notice:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(notice, 3000))))
    for i, part in enumerate(parts):
        if part.kind == PartKind.HEADER:
            blocks.append(HeaderBlock(text=PlainTextObject(text=truncate(part.text, 150), emoji=True)))
        elif part.kind == PartKind.DIVIDER:
            blocks.append(DividerBlock())
        elif part.kind == PartKind.CONTEXT:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(part.text, 3000))]))
        else:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(part.text, 3000))))
        if part.buttons:
            blocks.append(
                ActionsBlock(
                    block_id=f"home-{i}",
                    elements=[
                        ButtonElement(
                            text=PlainTextObject(text=truncate(b.label, 75)),
                            action_id=b.action_id,
                            value=b.value[:2000] or "-",
                            style=b.style,
                        )
                        for b in part.buttons[:25]
                    ],
                )
            )
    # The notice is one block more than the page planned for: drop from the end rather than exceed.
    return blocks[:MAX_HOME_BLOCKS]


def home_view(services: Services, team_id: str, user_id: str, notice: str | None = None) -> View:
    with session_scope(services.engine, write=False) as session:
        model = load_home(session, team_id, user_id, services.clock.now(), services.settings.ecm_timezone)
    return View(type="home", callback_id="ecm_home", blocks=home_blocks(home_page(model), notice))


def publish_home(services: Services, team_id: str, user_id: str, notice: str | None = None) -> bool:
    """Publishes the person's Home tab from current data; False (logged) if Slack refused."""
    try:
        view = home_view(services, team_id, user_id, notice)
        services.client.views_publish(user_id=user_id, view=view)
        published = _published.get()
        if published is not None:
            published.add(user_id)
        return True
    except (SlackClientError, OSError) as exc:
        log.info("views.publish for %s failed: %s", user_id, exc)
        return False


def refresh_affected(
    services: Services, changes: list[audit.Touched], already: set[str] | None = None
) -> None:
    """Republishes the Home of everyone the recorded changes concern, but those in `already` (never
    raises)."""
    try:
        with session_scope(services.engine, write=False) as session:
            people = audit.affected_users(session, changes)
            teams: dict[int | None, str] = {}
            for gid in people:
                group = session.get(TaskGroup, gid) if gid is not None else None
                if group is not None:
                    teams[gid] = group.team_id
        for group_id, user_ids in people.items():
            team_id = teams.get(group_id)
            if team_id is None:
                continue
            for user_id in sorted(user_ids - (already or set())):
                publish_home(services, team_id, user_id)
    except Exception:  # a stale Home is better than a crashed worker
        log.exception("refreshing Home tabs failed")


class RefreshingExecutor(Executor):
    """Runs Bolt's listeners on `inner`, each watched for changes; afterwards the affected Homes are
    republished (see the module docstring)."""

    def __init__(
        self, inner: Executor | None, refresh: Callable[[list[audit.Touched], set[str]], None]
    ) -> None:
        self.inner = inner or ThreadPoolExecutor(max_workers=10, thread_name_prefix="bolt-listener")
        self.refresh = refresh

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def watched() -> Any:
            published: set[str] = set()
            token = _published.set(published)
            try:
                with audit.watching() as changes:
                    try:
                        return fn(*args, **kwargs)
                    finally:
                        if changes:
                            self.refresh(list(changes), published)
            finally:
                _published.reset(token)

        return self.inner.submit(watched)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)
