"""Every workspace's practice (bot/services.py builds one), and which one a request from Slack goes to."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, Protocol

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.async_cacheable_installation_store import AsyncCacheableInstallationStore
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.helpcentre.matching import HelpCentre
from bot.metrics import Metrics
from bot.practice.demo import DEMO_ACCOUNT
from bot.practice.feed import REQUEST_TIMEOUT, FeedError, HttpFeed, StatusFeed, feed_from_source, fetch_deadline
from bot.practice.poller import PollOutcome, next_poll_delay
from bot.secrets import TokenCipher, last_four
from bot.services import Services, build_services
from bot.settings import Settings
from bot.slack.client import MeteredWebClient, slack_client
from bot.slack.errors import slack_error
from bot.workspaces import (
    SOURCE_BLOCK,
    TOKEN_BLOCK,
    connect_modal,
    installer_message,
    may_connect,
    not_allowed_text,
    source_problem,
    workspace_of,
)
from storage.open import open_store
from storage.sqlite.db import Store


class RequestContext(Protocol):
    """What Bolt's context says about where a request comes from (AsyncBoltContext has these)."""

    @property
    def team_id(self) -> str | None: ...

    @property
    def enterprise_id(self) -> str | None: ...

    @property
    def is_enterprise_install(self) -> bool | None: ...


class Practices:
    """The practices by workspace id. In single-workspace mode (SLACK_BOT_TOKEN) there is one, `single`, and
    every request goes to it, as before workspaces existed; with many workspaces a request goes to its own
    workspace's practice only, and to none when that workspace has not connected its feed."""

    def __init__(self, single: Services | None = None) -> None:
        self.single = single
        self._by_workspace: dict[str, Services] = {}
        # With many workspaces: installs, connections and each workspace's schedule (set by Hosting).
        self.hosting: Hosting | None = None

    @classmethod
    def of(cls, services: Services) -> Practices:
        return cls(single=services)

    def route(self, context: RequestContext) -> Services | None:
        if self.single is not None:
            return self.single
        workspace = workspace_of(context.team_id, context.enterprise_id, context.is_enterprise_install)
        return self._by_workspace.get(workspace) if workspace else None

    def get(self, workspace: str) -> Services | None:
        if self.single is not None:
            return self.single if workspace == self.single.store.workspace else None
        return self._by_workspace.get(workspace)

    def add(self, services: Services) -> None:
        self._by_workspace[services.store.workspace] = services

    def remove(self, workspace: str) -> Services | None:
        return self._by_workspace.pop(workspace, None)

    def __iter__(self) -> Iterator[Services]:
        if self.single is not None:
            yield self.single
        yield from list(self._by_workspace.values())

    def __len__(self) -> int:
        return len(self._by_workspace) + (self.single is not None)


# --- many workspaces: installs, connections, each workspace's schedule ------------------------------------

log = logging.getLogger(__name__)

# The bot scopes an install asks for: the same as manifest.yml's (tests/test_manifest.py checks they agree).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "users:read.email",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
)
# A workspace's data stays this long after the app is uninstalled, in case it is installed again (SPEC.md).
UNINSTALLED_DATA_KEPT = timedelta(days=30)
# Slack waits 3 s for a view_submission's answer; the feed check gets what is left of it.
CONNECT_CHECK_SECONDS = 2.5
# Bot tokens with token rotation on live 12 hours; each is renewed when it has less than this left.
ROTATE_BEFORE_MINUTES = 120
# SQLite's page cache for the one database of many workspaces (KiB).
HOSTED_CACHE_KIB = 16384
# Workspaces started together (at start-up) begin polling spread over this many seconds at most.
START_SPREAD_SECONDS = 10.0
# How long an "Add to Slack" link's state is accepted, in seconds (slack_sdk's OAuthStateUtils.default_expiration_seconds).
OAUTH_STATE_SECONDS = 600
# A poll lease lasts this many fetch deadlines (docs/scaling-out.md): a process killed mid-poll has its
# workspace polled by another within an interval and this lease.
POLL_LEASE_FACTOR = 2
# Polls one process runs at once (many workspaces). A process claims a due workspace only when it has a slot
# free, so several processes share a round by how fast each gets through its polls, instead of the first to
# start claiming every workspace and working through them alone (bench/bench_pg_scale.py). Enough that
# feeds far away, or a few hanging ones, do not hold the others up.
POLL_SLOTS = 32
# A process that did not make a workspace's last poll waits this long before asking for a due one, so the one
# that did, whose poll is cheap (its last listing is still the database's: unchanged records are not compared),
# polls it again when it has a slot free; a busy one leaves it to the others (bench/bench_pg_scale.py).
HANDOFF_SECONDS = 2.0
# Each workspace's delivery looks for due rows by itself this often only; one query a second for the whole
# database (Hosting.wake_due_deliveries) wakes the workspaces that have some, instead of a query a second for
# every workspace in every process (bench/bench_pg_scale.py: the idle work of 1,000 workspaces).
DELIVERY_IDLE_SECONDS = 60.0


def schedule_polling(
    scheduler: AsyncIOScheduler, services: Services, job_id: str, first_at: datetime, slots: asyncio.Semaphore | None = None
) -> None:
    """Polls `services` as its own job, `job_id`: first at `first_at`, then each poll scheduled from the end
    of the one before (next_poll_delay), so one that takes long or fails is never followed at once by
    another, and a workspace whose feed hangs holds up only its own job (APScheduler runs each coroutine job
    as its own task). With `slots`, the claim and the poll wait for one of them."""
    interval = services.settings.poll_interval_seconds

    async def scheduled_poll() -> None:
        delay: float = interval
        try:
            if slots is not None and services.settings.database_url and not services.poller.polled_last():
                await asyncio.sleep(HANDOFF_SECONDS)  # the process that polled it last goes first
            async with slots or contextlib.nullcontext():
                delay = await claim_and_poll(services, interval)
        finally:
            if scheduler.running and services.poller.polling:
                scheduler.add_job(
                    scheduled_poll,
                    "date",
                    run_date=datetime.now(timezone.utc) + timedelta(seconds=delay),
                    id=job_id,
                    replace_existing=True,
                    misfire_grace_time=None,
                )

    scheduler.add_job(scheduled_poll, "date", run_date=first_at, id=job_id, replace_existing=True, misfire_grace_time=None)


async def claim_and_poll(services: Services, interval: float) -> float:
    """Polls the workspace if this process gets its lease (several processes on PostgreSQL: one polls it an
    interval); the seconds until the job should run again."""
    if not services.poller.polling:
        return interval  # stopping: the workspace stays due, for another process
    wait = services.store.claim_poll(POLL_LEASE_FACTOR * fetch_deadline(interval))
    if wait > 0:
        return wait
    outcome: PollOutcome | None = None
    try:
        outcome = await services.poller.poll_once()
    finally:
        # A poll the process's stop cut short leaves the workspace due now, not an interval on.
        polled = outcome is not None and (outcome.ok or services.poller.polling)
        delay = next_poll_delay(services.poller.consecutive_failures, interval) if polled else 0.0
        services.store.finish_poll(delay)
    return delay


def async_engine_url(database_url: str) -> str:
    """DATABASE_URL (`postgresql://` or `postgres://`, a libpq URI) as SQLAlchemy's URL for psycopg 3's asyncio
    driver (`postgresql+psycopg://`, SQLAlchemy docs "Dialects: PostgreSQL: psycopg"); its query parameters
    (libpq's, e.g. `options`) are passed on to the connection as they are."""
    return make_url(database_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


class Hosting:
    """Many workspaces (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET): Bolt's OAuth install flow, the Connect
    AutoEntry flow, and each connected workspace's practice (bot/services.py) with its own token, feed, poll
    job and delivery task.

    Slack's installations and OAuth states are kept by slack_sdk's stores: the SQLite ones in the bot's
    database file (INTEGRATION_BOT_DB), or with DATABASE_URL its SQLAlchemy ones in that PostgreSQL database
    (tables `slack_installations`, `slack_bots`, `slack_oauth_states`, created by `start`), so every process
    on the database finds every install (docs/scaling-out.md)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
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
        self.sqlite_installations: SQLite3InstallationStore | None = None
        self.sqlalchemy_engine: AsyncEngine | None = None
        self.installation_store: AsyncInstallationStore
        self.state_store: AsyncOAuthStateStore
        if settings.database_url is None:
            self.sqlite_installations = SQLite3InstallationStore(database=settings.db_path, client_id=settings.client_id or "")
            sqlite_states = SQLite3OAuthStateStore(database=settings.db_path, expiration_seconds=OAUTH_STATE_SECONDS)
            self.sqlite_installations.init()
            sqlite_states.init()
            self.installation_store, self.state_store = self.sqlite_installations, sqlite_states
        else:
            # One small pool per process for Slack's stores: they are read on installs, token renewals and
            # cache misses only; the store's own psycopg connection carries everything else.
            self.sqlalchemy_engine = create_async_engine(
                async_engine_url(settings.database_url), pool_size=2, max_overflow=2, pool_pre_ping=True
            )
            self.installation_store = AsyncSQLAlchemyInstallationStore(
                client_id=settings.client_id or "", engine=self.sqlalchemy_engine
            )
            self.state_store = AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=OAUTH_STATE_SECONDS, engine=self.sqlalchemy_engine
            )
        # Read on every request (Bolt's authorize): kept in memory in front of the database; saves and deletes
        # go through it, so rotated and removed tokens are never served from this process's cache.
        self.installations = AsyncCacheableInstallationStore(self.installation_store)
        self.rotator = AsyncTokenRotator(
            client_id=settings.client_id or "",
            client_secret=settings.client_secret or "",
            client=AsyncWebClient(base_url=settings.api_base_url),
        )
        self.scheduler: AsyncIOScheduler | None = None
        self._feed_session: aiohttp.ClientSession | None = None
        self._delivery: dict[str, asyncio.Task[None]] = {}
        self.poll_slots = asyncio.Semaphore(POLL_SLOTS)
        # The account name each workspace's feed check found, for the "Connected" message.
        self.checked_accounts: dict[str, str] = {}
        practices.hosting = self

    def _feed(self, source: str, token: str | None) -> StatusFeed:
        """A workspace's feed; HTTP feeds share one aiohttp session (one connection pool, no limit, so a hanging
        feed holds only its own connection) instead of a session, its buffers and sockets each."""
        deadline = fetch_deadline(self.settings.poll_interval_seconds)
        if source.startswith(("http://", "https://")):
            if self._feed_session is None or self._feed_session.closed:
                self._feed_session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT, connector=aiohttp.TCPConnector(limit=0))
            return HttpFeed(source, token, fetch_deadline=deadline, session=self._feed_session)
        return feed_from_source(source, token, self.clock, fetch_deadline=deadline)

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

    async def bot_token(self, workspace: str) -> str | None:
        """The workspace's bot token from its installation, renewed first when token rotation is on and it
        expires within ROTATE_BEFORE_MINUTES (slack_sdk's AsyncTokenRotator); None when not installed."""
        record = self.store.workspace_record(workspace)
        if record is None or record.uninstalled_at is not None:
            return None
        installation = await self.installations.async_find_installation(
            enterprise_id=record.enterprise_id,
            team_id=None if record.is_enterprise_install else record.team_id,
            is_enterprise_install=record.is_enterprise_install,
        )
        if installation is None:
            return None
        if installation.bot_refresh_token:
            try:
                rotated = await self.rotator.perform_token_rotation(
                    installation=installation, minutes_before_expiration=ROTATE_BEFORE_MINUTES
                )
            except Exception as exc:
                log.warning("Could not renew the bot token of %s (%s)", workspace, slack_error(exc))
                rotated = None
            if rotated is not None:
                await self.installations.async_save(rotated)
                installation = rotated
        return installation.bot_token

    async def refresh_tokens(self) -> None:
        """The scheduled job: every running practice's Slack clients get a token renewed in time."""
        for services in list(self.practices):
            token = await self.bot_token(services.store.workspace)
            if token:
                services.client.token = token
                services.deliverer.client.token = token

    # --- each workspace's practice -----------------------------------------------------------------

    async def create_oauth_tables(self) -> None:
        """With DATABASE_URL: slack_sdk's SQLAlchemy stores create their tables if missing (SQLite's did so at
        construction). Two processes starting together may both try; the one that loses the race sees a
        duplicate-object error (psycopg.errors.UniqueViolation on pg_type) and looks again, finding them."""
        if self.sqlalchemy_engine is None:
            return
        assert isinstance(self.installation_store, AsyncSQLAlchemyInstallationStore)
        assert isinstance(self.state_store, AsyncSQLAlchemyOAuthStateStore)
        for store in (self.installation_store, self.state_store):
            try:
                await store.create_tables()
            except DBAPIError:
                await store.create_tables()

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
        self.practices.add(services)
        if self.scheduler is not None:
            self._delivery[workspace] = asyncio.create_task(services.deliverer.run_forever(DELIVERY_IDLE_SECONDS))
            first_at = datetime.now(timezone.utc) + timedelta(seconds=first_poll_in)
            schedule_polling(self.scheduler, services, poll_job(workspace), first_at, self.poll_slots)
        return services

    async def stop_workspace(self, workspace: str) -> None:
        """Stops the workspace's polling and delivery at once (a Slack call in flight is cancelled: what it
        was sending stays in the outbox)."""
        services = self.practices.remove(workspace)
        if services is None:
            return
        services.poller.stop()
        services.deliverer.stop()
        if self.scheduler is not None and self.scheduler.get_job(poll_job(workspace)) is not None:
            self.scheduler.remove_job(poll_job(workspace))
        task = self._delivery.pop(workspace, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await services.close()

    async def stop(self, grace_seconds: float = 0.0) -> None:
        """The process is stopping: no new poll and no new outbox row in any workspace; the polls and Slack calls
        in flight get `grace_seconds` to finish (what was not sent stays in the outbox), then all stop."""
        for services in list(self.practices):
            services.poller.stop()
            services.deliverer.stop()
        running: list[asyncio.Future[None]] = [task for task in self._delivery.values() if not task.done()]
        # Polls under way finish within the same grace, rather than fail on the feed session closed under them.
        running += [asyncio.ensure_future(services.poller.wait_idle()) for services in self.practices]
        if running and grace_seconds > 0:
            await asyncio.wait(running, timeout=grace_seconds)
        for services in list(self.practices):
            await self.stop_workspace(services.store.workspace)
        if self._feed_session is not None:
            await self._feed_session.close()
        if self.sqlalchemy_engine is not None:
            await self.sqlalchemy_engine.dispose()

    async def digests_tick(self) -> None:
        for services in list(self.practices):
            await services.digests.tick()

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

    def token_hint(self, workspace: str) -> tuple[str | None, str]:
        """(the connected status source, the last four characters of its token) for the modal."""
        record = self.store.workspace_record(workspace)
        if record is None or not record.connected:
            return None, ""
        token = self.cipher.decrypt(record.feed_token) if record.feed_token else None
        return record.status_source, last_four(token)

    async def connect(self, workspace: str, user_id: str, source: str, token: str) -> tuple[dict[str, str], str]:
        """Checks the feed (GET /account with the token) and saves the connection: ({}, account name), or
        (errors by the modal's block id, "") with nothing saved."""
        problem = source_problem(source)
        if problem:
            return {SOURCE_BLOCK: problem}, ""
        if self.store.workspace_record(workspace) is None:
            return {SOURCE_BLOCK: "This workspace has not installed the app (or removed it): add it to Slack first."}, ""
        if source == "demo":
            name = DEMO_ACCOUNT["name"]
        else:
            feed = HttpFeed(source, token or None, attempts=1, fetch_deadline=CONNECT_CHECK_SECONDS)
            try:
                name = await feed.check_account()
            except FeedError as exc:
                reason = str(exc)
                field = TOKEN_BLOCK if ("HTTP 401" in reason or "HTTP 403" in reason) else SOURCE_BLOCK
                return {field: f"AutoEntry did not accept this: {reason}"[:150]}, ""
        encrypted = self.cipher.encrypt(token) if token and source != "demo" else None
        self.store.connect_workspace(workspace, source, encrypted, user_id, self.clock())
        self.checked_accounts[workspace] = str(name)
        log.info("Workspace %s connected to %s by %s", workspace, "demo" if source == "demo" else source, user_id)
        return {}, str(name)

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


def poll_job(workspace: str) -> str:
    return f"poll:{workspace}"


def build_hosted(
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    help_centre: HelpCentre | None = None,
    feed_factory: Callable[[str, str | None], StatusFeed] | None = None,
) -> Practices:
    """The registry of practices of a many-workspace deployment, with its Hosting; nothing runs until the
    web app starts (bot.app.build_hosted_web_app)."""
    practices = Practices()
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


async def open_connect(hosting: Hosting, client: AsyncWebClient, workspace: str, user_id: str, trigger_id: str) -> str | None:
    """The Connect AutoEntry modal for someone who may connect (views.open); otherwise the reason, to tell them."""
    if not await hosting.may_connect(client, workspace, user_id):
        return not_allowed_text()
    source, hint = hosting.token_hint(workspace)
    try:
        await client.views_open(trigger_id=trigger_id, view=connect_modal(source, hint))
    except Exception as exc:
        log.warning("Could not open the Connect AutoEntry modal (%s)", slack_error(exc))
        return "I could not open the Connect AutoEntry form; please try again."
    return None
