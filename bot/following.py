"""Several processes on one PostgreSQL database, many workspaces: each process hears, within FOLLOW_SECONDS,
of a workspace another process changed (installed, its bot token rotated, connected, disconnected,
uninstalled or its tokens revoked), drops what it cached of it and runs it as the database now says.

Why a log table read every two seconds, not LISTEN/NOTIFY or a cache expiry (docs/scaling-out.md): the
change is written in the transaction that makes it (storage/postgres/coordination.py), so it cannot be
lost while a process is down or reconnecting, as a notification sent meanwhile would be; reading it is
one indexed query a process every two seconds, whatever the number of workspaces; and a cache expiry
would either keep a revoked token for its whole length or read every installation again and again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_cacheable_installation_store import AsyncCacheableInstallationStore
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.workspaces import workspace_of
from storage.ports import PracticeStore

if TYPE_CHECKING:
    from bot.hosting import Hosting

log = logging.getLogger(__name__)

# How often a process reads the other processes' workspace changes: the longest it serves a rotated or
# revoked token, or polls and delivers for a workspace another process has uninstalled.
FOLLOW_SECONDS = 2.0


class SharedInstallationCache(AsyncCacheableInstallationStore):
    """slack_sdk's in-memory cache in front of the installation store, which also tells the other processes
    of each save and delete (`changed(workspace)`), and can `forget` a workspace another process changed."""

    def __init__(self, installation_store: AsyncInstallationStore, changed: Callable[[str], None]) -> None:
        super().__init__(installation_store)
        self._changed = changed

    def _tell(self, team_id: str | None, enterprise_id: str | None, is_enterprise_install: bool | None) -> None:
        workspace = workspace_of(team_id, enterprise_id, is_enterprise_install)
        if workspace:
            self._changed(workspace)

    async def async_save(self, installation: Installation) -> None:
        await super().async_save(installation)
        self._tell(installation.team_id, installation.enterprise_id, installation.is_enterprise_install)

    async def async_save_bot(self, bot: Bot) -> None:
        await super().async_save_bot(bot)
        self._tell(bot.team_id, bot.enterprise_id, bot.is_enterprise_install)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await super().async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self._tell(team_id, enterprise_id, team_id is None)

    def forget(self, enterprise_id: str | None, team_id: str | None) -> None:
        """Drop the cached bot and installations of one workspace (the next read goes to the database)."""
        prefix = f"{enterprise_id or ''}-{team_id or ''}"
        for cache in (self.cached_bots, self.cached_installations):
            for key in [key for key in cache if key == prefix or key.startswith(prefix + "-")]:
                del cache[key]


class WorkspaceFollower:
    """The scheduled job (every FOLLOW_SECONDS) of a process of many workspaces on PostgreSQL."""

    def __init__(self, hosting: "Hosting") -> None:
        self.hosting = hosting
        # Taken before the process reads its workspaces at start: no change made meanwhile is missed.
        self.cursor = hosting.store.last_workspace_event()
        self._seen: set[int] = set()

    def changed_by_others(self, store: PracticeStore) -> list[str]:
        """The workspaces other processes changed since the last call, each once, oldest change first."""
        events = store.workspace_events(self.cursor)
        fresh = [event for event in events if event.id not in self._seen]
        self._seen = {event.id for event in events}  # those read again next time (recent ones) are skipped
        self.cursor = max([self.cursor, *(event.id for event in events)])
        owner = getattr(store, "owner", None)
        workspaces = [event.workspace for event in fresh if event.origin != owner]
        return list(dict.fromkeys(workspaces))

    async def tick(self) -> None:
        try:
            changed = self.changed_by_others(self.hosting.store)
        except Exception:  # the database is away: the next tick reads from the same point
            log.exception("Could not read the other processes' workspace changes; trying again")
            return
        for workspace in changed:
            try:
                await follow(self.hosting, workspace)
            except Exception:  # one workspace's trouble does not hold up the others'
                log.exception("Could not follow the change of workspace %s made by another process", workspace)


async def follow(hosting: "Hosting", workspace: str) -> None:
    """Run `workspace` here as the database now says: its cached installation dropped; stopped when it is
    uninstalled or disconnected; started (or restarted on another feed) when connected; else its Slack
    clients given the current bot token."""
    record = hosting.store.workspace_record(workspace)
    installations = hosting.installations
    if record is not None and isinstance(installations, SharedInstallationCache):
        installations.forget(record.enterprise_id, None if record.is_enterprise_install else record.team_id)
    running = hosting.practices.get(workspace)
    if record is None or record.uninstalled_at is not None or not record.connected or record.status_source is None:
        if running is not None:
            log.info("Workspace %s was uninstalled or disconnected by another process: stopping it here", workspace)
            await hosting.stop_workspace(workspace)
        return
    feed_token = hosting.cipher.decrypt(record.feed_token) if record.feed_token else None
    if running is None or (running.settings.status_source, running.settings.status_api_token) != (
        record.status_source,
        feed_token,
    ):
        log.info("Workspace %s was connected by another process: running it here too", workspace)
        await hosting.start_workspace(workspace)
        return
    await hosting.use_token(running)
