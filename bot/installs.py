"""Slack's side of many workspaces: where installations and OAuth states are kept (slack_sdk's stores), and
each workspace's bot token, renewed in time (token rotation)."""

from __future__ import annotations

import logging

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

from bot.following import SharedInstallationCache
from bot.settings import Settings
from bot.slack.errors import slack_error
from storage.ports import PracticeStore

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
# Bot tokens with token rotation on live 12 hours; each is renewed when it has less than this left.
ROTATE_BEFORE_MINUTES = 120
# How long an "Add to Slack" link's state is accepted, in seconds (slack_sdk's OAuthStateUtils.default_expiration_seconds).
OAUTH_STATE_SECONDS = 600


def async_engine_url(database_url: str) -> str:
    """DATABASE_URL (`postgresql://` or `postgres://`, a libpq URI) as SQLAlchemy's URL for psycopg 3's asyncio
    driver (`postgresql+psycopg://`, SQLAlchemy docs "Dialects: PostgreSQL: psycopg"); its query parameters
    (libpq's, e.g. `options`) are passed on to the connection as they are."""
    return make_url(database_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


class SlackInstalls:
    """Slack's installations and OAuth states, kept by slack_sdk's stores: the SQLite ones in the bot's
    database file (INTEGRATION_BOT_DB), or with DATABASE_URL its SQLAlchemy ones in that PostgreSQL database
    (tables `slack_installations`, `slack_bots`, `slack_oauth_states`, created by `create_oauth_tables`), so
    every process on the database finds every install (docs/scaling-out.md). The base of bot/hosting.py
    `Hosting`, which sets `store`."""

    store: PracticeStore  # the workspaces' records (who installed, where): set by Hosting

    def __init__(self, settings: Settings) -> None:
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
        # go through it, so rotated and removed tokens are never served from this process's cache, and the
        # other processes hear of them (bot/following.py).
        self.installations = SharedInstallationCache(
            self.installation_store, lambda workspace: self.store.note_workspace_changed(workspace)
        )
        self.rotator = AsyncTokenRotator(
            client_id=settings.client_id or "",
            client_secret=settings.client_secret or "",
            client=AsyncWebClient(base_url=settings.api_base_url),
        )

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
