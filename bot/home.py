"""The App Home tab in Slack: `commands.home` parts -> a `home` view (slack_sdk.models), `views.publish`, and
the one place that keeps everyone's Home current.

Keeping Homes current: every Bolt listener runs on the listener executor, and `RefreshingExecutor` runs each
one inside `storage.audit.watching()`. When a listener has recorded changes (from a command, a button, a
modal or a shortcut, whichever surface), the Homes of the people those changes concern are published again
by `HomeRefresher`: one thread of its own, never the ack or reply pools, so the refresh never sits on the
path of a reply. It waits `ECM_HOME_REFRESH_SECONDS` for more changes and publishes each affected person's
Home once for all of them (ten quick `/ecm add`s mean one refresh, from the data after the tenth).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

from slack_sdk.errors import SlackClientError, SlackObjectFormationError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.render import actions_block, button, mrkdwn_section, refuse_broadcasts
from bot.services import Services
from commands.home import MAX_HOME_BLOCKS, Context, Divider, Header, Part, home_page, load_home
from commands.mrkdwn import Mrkdwn, clip
from commands.replies import Section
from commands.text import truncate
from storage import audit
from storage.db import session_scope
from storage.models import TaskGroup

log = logging.getLogger(__name__)

# People whose Home the running listener has already published from current data (e.g. with a line saying
# what their click did): the refresh after it leaves them be.
_published: ContextVar[set[str] | None] = ContextVar("home_published", default=None)


def _mrkdwn(text: Mrkdwn) -> MarkdownTextObject:
    """Mrkdwn within a section's 3000 characters (cut outside any entity or mention), with any broadcast
    that reached it anyway sent as text (as `bot.render` does for replies)."""
    return MarkdownTextObject(text=refuse_broadcasts(clip(text, 3000)))


def home_blocks(parts: list[Part], notice: Mrkdwn | None = None) -> list[Block | dict[str, Any]]:
    """`notice` is the bot's own mrkdwn (what a click did), shown above the page. Sections are shaped as
    `bot.render` shapes a reply's (`mrkdwn_section`: the models' block, without validating each again)."""
    blocks: list[Block | dict[str, Any]] = []
    if notice:
        blocks.append(mrkdwn_section(refuse_broadcasts(truncate(notice, 3000))))
    for i, part in enumerate(parts):
        if isinstance(part, Header):
            blocks.append(HeaderBlock(text=PlainTextObject(text=truncate(part.text, 150), emoji=True)))
        elif isinstance(part, Divider):
            blocks.append(DividerBlock())
        elif isinstance(part, Context):
            blocks.append(ContextBlock(elements=[_mrkdwn(part.text)]))
        else:
            blocks.append(mrkdwn_section(refuse_broadcasts(clip(part.text, 3000))))
        if isinstance(part, Section) and part.buttons:
            blocks.append(
                actions_block(
                    [
                        button(truncate(b.label, 75), b.action_id, b.value[:2000] or "-", b.style)
                        for b in part.buttons[:25]
                    ],
                    block_id=f"home-{i}",
                )
            )
    # The notice is one block more than the page planned for: drop from the end rather than exceed.
    return blocks[:MAX_HOME_BLOCKS]


# The Home view as the models make it (built once; a view needs a block to be valid): `home_view` puts the
# page's blocks in. `View(blocks=...)` would parse every block back into a model and validate it again.
_VIEW = View(type="home", callback_id="ecm_home", blocks=[DividerBlock()]).to_dict()


def home_view(services: Services, team_id: str, user_id: str, notice: Mrkdwn | None = None) -> dict[str, Any]:
    with session_scope(services.engine, write=False) as session:
        model = load_home(session, team_id, user_id, services.clock.now(), services.settings.ecm_timezone)
    blocks = home_blocks(home_page(model), notice)
    if not 1 <= len(blocks) <= MAX_HOME_BLOCKS:  # the one check `View` makes of its blocks here
        raise SlackObjectFormationError(f"views must contain between 1 and {MAX_HOME_BLOCKS} blocks")
    return {**_VIEW, "blocks": [b if isinstance(b, dict) else b.to_dict() for b in blocks]}


def publish_home(services: Services, team_id: str, user_id: str, notice: Mrkdwn | None = None) -> bool:
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


Batch = tuple[list[audit.Touched], set[str]]  # what a listener changed, and whose Home it published itself


def refresh_affected(
    services: Services, changes: list[audit.Touched], already: set[str] | None = None
) -> None:
    """Republishes the Home of everyone the recorded changes concern, but those in `already` (never
    raises)."""
    refresh_batches(services, [(changes, already or set())])


def refresh_batches(services: Services, batches: list[Batch]) -> None:
    """Republishes, once each, the Home of everyone some batch's changes concern (but those that batch's
    listener published itself). Never raises."""
    try:
        wanted: set[tuple[str, str]] = set()
        with session_scope(services.engine, write=False) as session:
            teams: dict[int, str | None] = {}
            for changes, already in batches:
                for gid, user_ids in audit.affected_users(session, changes).items():
                    if gid is None:
                        continue
                    if gid not in teams:
                        group = session.get(TaskGroup, gid)
                        teams[gid] = group.team_id if group is not None else None
                    team_id = teams[gid]
                    if team_id is not None:
                        wanted.update((team_id, u) for u in user_ids - already)
        for team_id, user_id in sorted(wanted):
            publish_home(services, team_id, user_id)
    except Exception:  # a stale Home is better than a crashed worker
        log.exception("refreshing Home tabs failed")


class HomeRefresher:
    """Publishes the Homes that recorded changes concern, on one thread of its own, coalesced: it waits
    `delay` seconds after the first change for more, then refreshes each affected person once. `drain()`
    waits until everything requested so far is published (tests, the console, shutdown)."""

    def __init__(self, refresh: Callable[[list[Batch]], None], delay: float) -> None:
        self.refresh, self.delay = refresh, delay
        self._cond = threading.Condition()
        self._pending: list[Batch] = []
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def request(self, changes: list[audit.Touched], already: set[str]) -> None:
        with self._cond:
            if self._closed:
                return
            self._pending.append((changes, set(already)))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ecm-home", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                self._busy = True
                closing = self._closed
            if self.delay and not closing:
                # Let the changes that come with it (a burst of adds) join; a close ends the wait at once.
                with self._cond:
                    self._cond.wait_for(lambda: self._closed, timeout=self.delay)
            with self._cond:
                batches, self._pending = self._pending, []
            try:
                self.refresh(batches)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def drain(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("Home refresh still running")
                self._cond.wait(left)

    def close(self) -> None:
        """Publishes what is pending (without waiting out the delay), then stops the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=60)


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
