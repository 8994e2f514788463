"""Fixtures: the real app over HTTP on loopback, a fake Slack Web API, a local status feed, a settable clock."""

from __future__ import annotations

import json
import os
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.app import Services, build_bolt_app, build_services, build_web_app
from bot.practice.feed import HttpFeed
from bot.settings import Settings
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.practice import ALERTS, HOLDER, PERMITTED, STRANGER, UNPERMITTED, practice

pytest_plugins = ["tests.postgres"]

SIGNING_SECRET = "test-signing-secret"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def _no_slack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, AsyncApp silently switches to OAuth mode.
    for name in list(os.environ):
        if name.startswith(("SLACK_", "STATUS_", "INTEGRATION_BOT_", "ALERT_", "POLL_", "OFFLINE_", "HELP_CENTRE_", "FLAP_")):
            monkeypatch.delenv(name, raising=False)


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    for user_id, email, name in (HOLDER, PERMITTED, UNPERMITTED, STRANGER):
        fake.add_user(user_id, email, name)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def feed() -> AsyncIterator[FakeFeed]:
    account, companies = practice()
    fake = FakeFeed(account, companies)
    fake.token = "feed-token"
    await fake.start()
    yield fake
    await fake.stop()


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


class Bot:
    """The real app, served over HTTP on loopback, and what a test does to it."""

    def __init__(self, services: Services, base_url: str, http: aiohttp.ClientSession, slack: FakeSlack) -> None:
        self.services = services
        self.base_url = base_url
        self.http = http
        self.slack = slack
        self._responses = 0

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        all_headers = {"Content-Type": content_type, **(sign(body) if headers is None else headers)}
        async with self.http.post(f"{self.base_url}/slack/events", data=body.encode(), headers=all_headers) as response:
            await response.read()
            return response

    async def slash(self, text: str, user: tuple[str, str, str] = HOLDER, channel: str = "C_OPS") -> dict[str, Any]:
        """Sends `/integration-status text` and returns the JSON of the HTTP answer."""
        self._responses += 1
        body = urlencode(
            {
                "token": "verification_token",
                "team_id": "T0G9PQBBK",
                "team_domain": "smithco",
                "channel_id": channel,
                "channel_name": "ops",
                "user_id": user[0],
                "user_name": user[2],
                "command": "/integration-status",
                "text": text,
                "response_url": self.slack.response_url(f"cmd{self._responses}"),
                "trigger_id": "111.222.xxx",
                "api_app_id": "A111",
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        async with self.http.post(f"{self.base_url}/slack/events", data=body.encode(), headers=headers) as response:
            assert response.status == 200, await response.text()
            text_body = await response.text()
            return json.loads(text_body) if text_body else {}

    async def click(
        self,
        action_id: str,
        value: str,
        user: tuple[str, str, str] = HOLDER,
        channel: str = "C_OPS",
        message: dict[str, Any] | None = None,
        block_id: str = "b",
    ) -> aiohttp.ClientResponse:
        """Presses a button, as Slack sends it (a form body with payload=<json>)."""
        self._responses += 1
        template = json.loads((SHARED / "slack" / "bolt-python.block_actions.button.json").read_text())
        template["user"] = {"id": user[0], "username": user[2], "name": user[2], "team_id": "T0G9PQBBK"}
        template["team"]["id"] = "T0G9PQBBK"
        template["channel"] = {"id": channel, "name": "ops"}
        template["response_url"] = self.slack.response_url(f"act{self._responses}")
        template["actions"] = [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": "Button"},
                "value": value,
                "type": "button",
                "action_ts": "1596530385.194939",
            }
        ]
        if message is not None:
            template["container"] = {
                "type": "message",
                "message_ts": message.get("ts", "1.1"),
                "channel_id": channel,
                "is_ephemeral": False,
            }
            template["message"] = message
        body = urlencode({"payload": json.dumps(template)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any]) -> aiohttp.ClientResponse:
        envelope = {
            "token": "verification_token",
            "team_id": "T0G9PQBBK",
            "api_app_id": "A111",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0G9PQBBK", "user_id": "W23456789", "is_bot": True}],
        }
        return await self.post(json.dumps(envelope), "application/json")

    async def poll(self) -> Any:
        return await self.services.poller.poll_once()


def make_settings(tmp_path: Path, slack: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        bot_token="xoxb-test-token",
        signing_secret=SIGNING_SECRET,
        api_base_url=slack.base_url + "api/",
        db_path=str(tmp_path / "bot.db"),
        status_source="http://placeholder",
        poll_interval_seconds=60,
        offline_grace_seconds=600,
    )
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_bot(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, *, background_delivery: bool = True, **overrides: Any
) -> AsyncIterator[Bot]:
    """Starts the real app on a loopback port; a second start on the same tmp_path is a restart."""
    settings = make_settings(tmp_path, slack, status_source=feed.base_url, status_api_token=feed.token, **overrides)
    http_feed = HttpFeed(feed.base_url, feed.token, backoff_seconds=0.01)
    services = build_services(settings, clock=clock, feed=http_feed)
    services.deliverer.channel_interval = 0.0  # pacing has its own test; the rest need no waiting
    web_app = build_web_app(services, build_bolt_app(services), with_scheduler=False, with_delivery=background_delivery)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        yield Bot(services, f"http://127.0.0.1:{port}", http, slack)
    await runner.cleanup()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database the app keeps its state in: "sqlite" (a file in tmp_path), unless a test parametrizes it
    indirectly, e.g. `@pytest.mark.parametrize("backend", BACKENDS, indirect=True)`, to run on both."""
    return str(getattr(request, "param", "sqlite"))


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str) -> str | None:
    """DATABASE_URL for the backend: None for SQLite; a fresh PostgreSQL schema (tests/postgres.py) otherwise."""
    return str(request.getfixturevalue("postgres_url")) if backend == "postgres" else None


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, database_url: str | None) -> AsyncIterator[Bot]:
    """The app with the test practice polled once (on SQLite, or the `backend` a test parametrizes)."""
    async with running_bot(tmp_path, slack, feed, clock, database_url=database_url) as running:
        outcome = await running.poll()
        assert outcome.ok, outcome.error
        yield running


@pytest.fixture
async def alerting(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, database_url: str | None
) -> AsyncIterator[Bot]:
    """The app with ALERT_CHANNEL set and the practice polled once (the baseline: no alerts); on SQLite, or
    on the `backend` a test parametrizes."""
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS, database_url=database_url) as running:
        assert (await running.poll()).ok
        yield running


async def poll_and_deliver(bot: Bot, clock: FakeClock, minutes: float = 1) -> Any:
    """Time passes, a poll runs, and what it queued is delivered; the poll's outcome."""
    clock.advance(minutes=minutes)
    outcome = await bot.poll()
    await bot.services.deliverer.drain(timeout=10)
    return outcome
