"""Many workspaces: each connected workspace's practice (bot/services.py) started, stopped, connected to its
feed and removed on uninstall; Slack's installs in bot/installs.py, the poll schedule in bot/polling.py."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import connect_feed
from bot.connect_feed import CONNECT_DEADLINE_SECONDS
from bot.feed_addresses import feed_connector
from bot.heap import for_many_polls
from bot.helpcentre.matching import HelpCentre
from bot.installs import BOT_SCOPES, ROTATE_BEFORE_MINUTES, SlackInstalls
from bot.leases import DIGESTS_EVERY_SECONDS, TOKENS_EVERY_SECONDS, run_once
from bot.metrics import Metrics
from bot.polling import POLL_SLOTS, poll_job, schedule_polling
from bot.practice.commit_group import CommitGroup
from bot.practice.feed import REQUEST_TIMEOUT, HttpFeed, StatusFeed, feed_from_source, fetch_deadline
from bot.practices import Practices
from bot.secrets import TokenCipher, last_four
from bot.services import Services, build_services
from bot.settings import Settings
from bot.slack.client import MeteredWebClient, slack_client
from bot.slack.errors import slack_error
from bot.workspaces import (
    connection_blocks,
    installer_message,
    may_connect,
    workspace_of,
)
from storage.open import open_store
from storage.ports import PracticeStore

log = logging.getLogger(__name__)

# A workspace's data stays this long after the app is uninstalled, in case it is installed again (SPEC.md).
UNINSTALLED_DATA_KEPT = timedelta(days=30)
# SQLite's page cache for the one database of many workspaces (KiB).
HOSTED_CACHE_KIB = 16384
# Workspaces started together (at start-up) begin polling spread over this many seconds at most.
START_SPREAD_SECONDS = 10.0
# Each workspace's delivery looks for due rows by itself this often only; its own poll's rows, and one query a
# second for all (wake_due_deliveries), wake it (docs/scaling-out.md: the idle work of 1,000 workspaces).
DELIVERY_IDLE_SECONDS = 60.0
# A stopped workspace's poll in progress gets this long, then is cancelled (it must not outlive its database).
POLL_STOP_SECONDS = 1.0
# How long the App Home keeps showing someone the Change connection button without asking Slack again.
ALLOWED_SHOWN_SECONDS = 600.0


class Hosting(SlackInstalls):
    """Many workspaces (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET): Bolt's OAuth install flow, the Connect
    AutoEntry flow, and each connected workspace's practice (bot/services.py) with its own token, feed, poll
    job and delivery task. Slack's installations and OAuth states: bot/installs.py `SlackInstalls`."""

    store: PracticeStore  # the deployment's handle: workspaces' records, and each workspace's handle from it

    def __init__(
        self,
        settings: Settings,
        store: PracticeStore,
        practices: Practices,
        *,
        clock: Callable[[], datetime],
        help_centre: HelpCentre,
        metrics: Metrics,
        feed_factory: Callable[[str, str | None], StatusFeed] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.practices = practices
        self.clock = clock
        self.help_centre = help_centre
        self.metrics = metrics
        self.feed_factory = feed_factory or self._feed
        self.cipher = TokenCipher(settings.secret_key or "")
        super().__init__(settings)
        self.scheduler: AsyncIOScheduler | None = None
        self._feed_session: aiohttp.ClientSession | None = None
        self._delivery: dict[str, asyncio.Task[None]] = {}
        self.poll_slots = asyncio.Semaphore(POLL_SLOTS)
        # On SQLite (one process): polls that finish fetching together share one commit.
        self.commits = CommitGroup(store.atomic) if settings.database_url is None else None
        # (workspace, user) -> (may connect, when asked, monotonic): what the App Home shows them.
        self._allowed_shown: dict[tuple[str, str], tuple[bool, float]] = {}
        practices.hosting = self

    def _feed(self, source: str, token: str | None) -> StatusFeed:
        """A workspace's feed; HTTP feeds share one aiohttp session (one connection pool, no limit, so a hanging
        feed holds only its own connection) instead of a session, its buffers and sockets each."""
        deadline = fetch_deadline(self.settings.poll_interval_seconds)
        if source.startswith(("http://", "https://")):
            return HttpFeed(source, token, fetch_deadline=deadline, session=self.feed_session())
        return feed_from_source(source, token, self.clock, fetch_deadline=deadline)

    def feed_session(self) -> aiohttp.ClientSession:
        """The session of every workspace's feed and of the connect check: public addresses only, unless
        FEED_ALLOW_PRIVATE_ADDRESSES (bot/feed_addresses.py)."""
        if self._feed_session is None or self._feed_session.closed:
            connector = feed_connector(self.settings.feed_allow_private_addresses)
            self._feed_session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT, connector=connector)
        return self._feed_session

    # --- Bolt's OAuth ------------------------------------------------------------------------------

    def oauth_settings(self) -> AsyncOAuthSettings:
        settings = AsyncOAuthSettings(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
            installation_store=self.installations,
            # Only bot tokens are asked for (no user scopes): authorize looks up the workspace's bot alone.
            installation_store_bot_only=True,
            state_store=self.state_store,
            token_rotation_expiration_minutes=ROTATE_BEFORE_MINUTES,
            callback_options=AsyncCallbackOptions(success=self._installed, failure=self._install_failed),
        )
        # Bolt renews tokens on incoming requests too: through SLACK_API_BASE_URL, as every other call. Its
        # authorize otherwise calls auth.test on every request; the answer per bot token is kept instead.
        rotator = getattr(settings.authorize, "token_rotator", None)
        if rotator is not None:
            rotator.client = self.rotator.client
        if hasattr(settings.authorize, "cache_enabled"):
            settings.authorize.cache_enabled = True
        return settings

    async def _installed(self, args: AsyncSuccessArgs) -> BoltResponse:
        """Slack completed an install: remember who installed it, DM them the Connect AutoEntry button."""
        installation = args.installation
        workspace = workspace_of(installation.team_id, installation.enterprise_id, installation.is_enterprise_install)
        if workspace:
            self.store.record_install(
                workspace,
                team_id=installation.team_id,
                enterprise_id=installation.enterprise_id,
                is_enterprise_install=bool(installation.is_enterprise_install),
                installer_user_id=installation.user_id,
                now=self.clock(),
            )
            log.info("Installed in workspace %s by %s", workspace, installation.user_id)
            text, blocks = installer_message()
            try:
                await self.client(installation.bot_token).chat_postMessage(channel=installation.user_id, text=text, blocks=blocks)
            except Exception as exc:
                log.warning("Could not send the installer of %s the Connect AutoEntry message (%s)", workspace, slack_error(exc))
            record = self.store.workspace_record(workspace)
            if record is not None and record.connected and self.practices.get(workspace) is not None:
                await self.start_workspace(workspace)  # installed again while connected: the new token at once
        return await args.default.success(args)

    async def _install_failed(self, args: AsyncFailureArgs) -> BoltResponse:
        log.info("An install did not complete: %s", args.reason)
        return await args.default.failure(args)

    def client(self, token: str | None) -> MeteredWebClient:
        return slack_client(replace(self.settings, bot_token=token), self.metrics)

    async def refresh_tokens(self) -> None:
        """The scheduled job: every running practice's Slack clients get a token renewed in time, each
        workspace's by one process at a time (the others hear of the new token: bot/following.py)."""
        for services in list(self.practices):
            await run_once(services.store, "tokens", TOKENS_EVERY_SECONDS, functools.partial(self.use_token, services))

    async def use_token(self, services: Services) -> None:
        """The workspace's Slack clients use its current bot token (renewed first if it expires soon)."""
        token = await self.bot_token(services.store.workspace)
        if token:
            services.client.token = token
            services.deliverer.client.token = token

    # --- each workspace's practice -----------------------------------------------------------------

    async def start(self, scheduler: AsyncIOScheduler) -> None:
        """At start-up: Slack's OAuth tables, then every connected workspace, its first polls spread over
        START_SPREAD_SECONDS."""
        await self.create_oauth_tables()
        self.scheduler = scheduler
        scheduler.add_job(
            self.wake_due_deliveries, "interval", seconds=1, id="outbox", max_instances=1, coalesce=True, misfire_grace_time=None
        )
        records = self.store.connected_workspaces()
        spread = min(START_SPREAD_SECONDS, float(self.settings.poll_interval_seconds)) / max(len(records), 1)
        for index, record in enumerate(records):
            await self.start_workspace(record.workspace, first_poll_in=index * spread)

    async def wake_due_deliveries(self) -> None:
        """The scheduled job, every second: wakes the delivery of each workspace with outbox rows due (queued
        by any process, or due again after a retry wait)."""
        for workspace in self.store.workspaces_with_due_outbox(self.clock()):
            services = self.practices.get(workspace)
            if services is not None:
                services.deliverer.wake()

    async def start_workspace(self, workspace: str, first_poll_in: float = 0.0) -> Services | None:
        """Builds and runs the workspace's practice (a reconnect replaces the old one); None when it is not
        installed, not connected, or its feed token cannot be decrypted with INTEGRATION_BOT_SECRET_KEY."""
        record = self.store.workspace_record(workspace)
        if record is None or not record.connected or record.status_source is None:
            return None
        feed_token = self.cipher.decrypt(record.feed_token) if record.feed_token else None
        if record.feed_token and feed_token is None:
            log.error("The feed token of %s cannot be decrypted with INTEGRATION_BOT_SECRET_KEY; not polling it", workspace)
            return None
        token = await self.bot_token(workspace)
        if token is None:
            return None
        await self.stop_workspace(workspace)
        settings = replace(self.settings, bot_token=token, status_source=record.status_source, status_api_token=feed_token)
        services = build_services(
            settings,
            clock=self.clock,
            help_centre=self.help_centre,
            feed=self.feed_factory(record.status_source, feed_token),
            store=self.store.for_workspace(workspace),
            metrics=self.metrics,
        )
        services.poller.commits = self.commits
        services.home_connection = functools.partial(self.home_connection, workspace, services.client)
        self.practices.add(services)
        if self.scheduler is not None:
            self._delivery[workspace] = asyncio.create_task(services.deliverer.run_forever(DELIVERY_IDLE_SECONDS))
            first_at = datetime.now(timezone.utc) + timedelta(seconds=first_poll_in)
            schedule_polling(self.scheduler, services, poll_job(workspace), first_at, self.poll_slots)
        return services

    async def stop_workspace(self, workspace: str, poll_grace: float = POLL_STOP_SECONDS) -> None:
        """Stops the workspace's polling and delivery at once (a Slack call in flight is cancelled: what it
        was sending stays in the outbox); a poll in progress gets `poll_grace` seconds to finish, then is
        cancelled, and has ended when this returns."""
        services = self.practices.remove(workspace)
        if services is None:
            return
        services.poller.stop()
        services.deliverer.stop()
        await services.poller.finish(poll_grace)
        if self.scheduler is not None and self.scheduler.get_job(poll_job(workspace)) is not None:
            self.scheduler.remove_job(poll_job(workspace))
        task = self._delivery.pop(workspace, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await services.close()

    async def stop(self, grace_seconds: float = 0.0) -> None:
        """The process is stopping: no new poll and no new outbox row in any workspace; the polls and Slack
        calls in flight get `grace_seconds` to finish, together (what was not sent stays in the outbox; a poll
        cancelled while fetching wrote nothing), then all stop, and none is left running."""
        for services in list(self.practices):
            services.poller.stop()
            services.deliverer.stop()
        running: list[asyncio.Task[Any]] = [task for task in self._delivery.values() if not task.done()]
        running += [poll for services in list(self.practices) if (poll := services.poller.in_progress) is not None]
        if running and grace_seconds > 0:
            await asyncio.wait(running, timeout=grace_seconds)
        for services in list(self.practices):
            await self.stop_workspace(services.store.workspace, poll_grace=0.0)
        if self._feed_session is not None:
            await self._feed_session.close()
        if self.sqlalchemy_engine is not None:
            await self.sqlalchemy_engine.dispose()

    async def digests_tick(self) -> None:
        """The scheduled job: each workspace's due digests queued, by one process at a time."""
        for services in list(self.practices):
            await run_once(services.store, "digests", DIGESTS_EVERY_SECONDS, services.digests.tick)

    # --- connecting AutoEntry ----------------------------------------------------------------------

    async def may_connect(self, client: AsyncWebClient, workspace: str, user_id: str) -> bool:
        record = self.store.workspace_record(workspace)
        installer = record.installer_user_id if record else None
        if user_id and user_id == installer:
            return True
        try:
            user = (await client.users_info(user=user_id)).get("user") or {}
        except Exception as exc:
            log.warning("users.info failed while checking who may connect %s (%s)", workspace, slack_error(exc))
            return False
        return may_connect(user_id, installer, bool(user.get("is_admin")), bool(user.get("is_owner")))

    async def home_connection(self, workspace: str, client: AsyncWebClient, user_id: str) -> list[dict[str, Any]]:
        """The App Home's connection part for `user_id` (bot.workspaces.connection_blocks). Whether they may
        change it is remembered for ALLOWED_SHOWN_SECONDS (a Home refresh is not a users.info call per
        viewer); pressing a button checks afresh."""
        source, hint = self.token_hint(workspace)
        if source is None:
            return []
        key = (workspace, user_id)
        known = self._allowed_shown.get(key)
        if known is None or time.monotonic() - known[1] > ALLOWED_SHOWN_SECONDS:
            known = self._allowed_shown[key] = (await self.may_connect(client, workspace, user_id), time.monotonic())
        return connection_blocks(source, hint, known[0])

    def token_hint(self, workspace: str) -> tuple[str | None, str]:
        """(the connected status source, the last four characters of its token) for the modal."""
        record = self.store.workspace_record(workspace)
        if record is None or not record.connected:
            return None, ""
        token = self.cipher.decrypt(record.feed_token) if record.feed_token else None
        return record.status_source, last_four(token)

    async def connect(self, workspace: str, user_id: str, source: str, token: str) -> tuple[dict[str, str], str]:
        """Checks the feed and saves the connection, within CONNECT_DEADLINE_SECONDS from now
        (bot/connect_feed.py `connect`): ({}, account name), or (errors by the modal's block id, "")."""
        deadline = asyncio.get_running_loop().time() + CONNECT_DEADLINE_SECONDS
        return await connect_feed.connect(self, workspace, user_id, source, token, deadline)

    async def disconnect(self, workspace: str) -> bool:
        await self.stop_workspace(workspace)
        return self.store.disconnect_workspace(workspace)

    # --- uninstall -----------------------------------------------------------------------------------

    async def uninstalled(self, workspace: str) -> None:
        """app_uninstalled, or the bot's tokens revoked: polling and delivery stop now, the tokens (Slack's
        and the feed's) are deleted; the rest goes after UNINSTALLED_DATA_KEPT unless installed again."""
        record = self.store.workspace_record(workspace)
        self.store.workspace_uninstalled(workspace, self.clock())  # no start, no restart from here on
        await self.stop_workspace(workspace)
        if record is not None:
            await self.installations.async_delete_all(
                enterprise_id=record.enterprise_id, team_id=None if record.is_enterprise_install else record.team_id
            )
        log.info("Uninstalled from workspace %s: polling and delivery stopped, tokens deleted", workspace)

    async def purge_uninstalled(self) -> list[str]:
        """The daily job: deletes the data of workspaces uninstalled more than UNINSTALLED_DATA_KEPT ago."""
        gone = self.store.workspaces_uninstalled_before(self.clock() - UNINSTALLED_DATA_KEPT)
        for workspace in gone:
            self.store.purge_workspace(workspace)
            log.info("Deleted the data of workspace %s, uninstalled %d days ago", workspace, UNINSTALLED_DATA_KEPT.days)
        return gone


def build_hosted(
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    help_centre: HelpCentre | None = None,
    feed_factory: Callable[[str, str | None], StatusFeed] | None = None,
) -> Practices:
    """The registry of practices of a many-workspace deployment, with its Hosting; nothing runs until the
    web app starts (bot.hosted_app.build_hosted_web_app)."""
    practices = Practices()
    for_many_polls()
    Hosting(
        settings,
        # A smaller page cache than one practice's: the file is memory-mapped anyway, and the answers of all
        # workspaces come from each one's in-memory caches (bench/bench_workspaces.py: RSS at 1,000 workspaces).
        open_store(settings.db_path, settings.database_url, cache_kib=HOSTED_CACHE_KIB),
        practices,
        clock=clock,
        help_centre=help_centre or HelpCentre.load(settings.help_centre_articles),
        metrics=Metrics(),
        feed_factory=feed_factory,
    )
    return practices
