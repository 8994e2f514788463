"""Wiring: one Web API client, the Bolt app, the aiohttp server, the scheduler. No product logic here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Callable

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.alert_engine import AlertEngine, AlertRenderer
from bot.delivery import Deliverer
from bot.feed import FETCH_DEADLINE_SECONDS, StatusFeed, feed_from_source
from bot.helpcentre import HelpCentre
from bot.poller import Poller
from bot.settings import Settings
from bot.slack_payloads import shape_problem
from bot.status import StatusService
from storage.db import Store, iso

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _NoBlindRepost:
    """A new message that met a 5xx or a dropped connection may have been posted all the same. Retrying it
    blindly could post it twice, so these are left to the alert outbox, which looks first (bot/delivery.py)."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[no-untyped-def]
        if request.url.endswith("/chat.postMessage"):
            return False
        return await super()._can_retry_async(  # type: ignore[misc]
            state=state, request=request, response=response, error=error
        )


class ConnectionErrorRetryHandler(_NoBlindRepost, AsyncConnectionErrorRetryHandler):
    pass


class ServerErrorRetryHandler(_NoBlindRepost, AsyncServerErrorRetryHandler):
    pass


def slack_client(settings: Settings) -> AsyncWebClient:
    """The one Web API client; slack_sdk retries only connection errors unless told otherwise."""
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_base_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            # A 429 means Slack did nothing: retrying after Retry-After is always safe.
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Services:
    settings: Settings
    store: Store
    help_centre: HelpCentre
    feed: StatusFeed
    poller: Poller
    status: StatusService
    client: AsyncWebClient
    alerts: AlertEngine
    renderer: AlertRenderer
    deliverer: Deliverer
    clock: Callable[[], datetime]
    started_at: datetime = field(default_factory=utcnow)

    async def close(self) -> None:
        await self.feed.close()
        self.store.close()


def build_services(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    help_centre: HelpCentre | None = None,
    feed: StatusFeed | None = None,
) -> Services:
    store = Store.open(settings.db_path)
    help_centre = help_centre or HelpCentre.load(settings.help_centre_articles)
    feed = feed or feed_from_source(
        settings.status_source, settings.status_api_token, clock, fetch_deadline=fetch_deadline(settings.poll_interval_seconds)
    )
    poller = Poller(store, feed, clock)
    client = slack_client(settings)
    alerts = AlertEngine(
        store,
        help_centre,
        clock,
        alert_channel=settings.alert_channel,
        offline_grace=timedelta(seconds=settings.offline_grace_seconds),
        poll_interval=timedelta(seconds=settings.poll_interval_seconds),
    )
    renderer = AlertRenderer(store, help_centre, clock)
    deliverer = Deliverer(store, client, renderer, clock)
    poller.reactors.append(alerts)

    async def deliver_soon(_: object) -> None:
        deliverer.wake()

    poller.after_poll.append(deliver_soon)
    return Services(
        settings=settings,
        store=store,
        help_centre=help_centre,
        feed=feed,
        poller=poller,
        status=StatusService(store, help_centre, clock),
        client=client,
        alerts=alerts,
        renderer=renderer,
        deliverer=deliverer,
        clock=clock,
        started_at=clock(),
    )


def build_bolt_app(services: Services) -> AsyncApp:
    from handlers import register

    app = AsyncApp(
        client=services.client,
        signing_secret=services.settings.signing_secret,
        # HTTP requests are verified by the route before Bolt sees them (slack_events); Socket Mode
        # requests come over the authenticated WebSocket.
        request_verification_enabled=False,
        # Each request is answered when its listener has acked: the slash command acks with its answer,
        # buttons and events ack at once and do their work as lazy listeners. Bolt otherwise answers
        # through a 10 ms polling loop.
        process_before_response=True,
    )
    register(app, services)
    return app


def fetch_deadline(poll_interval_seconds: float) -> float:
    """Seconds a whole fetch may take: FETCH_DEADLINE_SECONDS (60), or the poll interval when that is
    shorter, but never under MIN_FETCH_DEADLINE_SECONDS (5: time for a practice of thousands on loopback)."""
    return max(MIN_FETCH_DEADLINE_SECONDS, min(FETCH_DEADLINE_SECONDS, poll_interval_seconds))


MIN_FETCH_DEADLINE_SECONDS = 5.0


def health(services: Services) -> tuple[int, dict[str, object]]:
    """(HTTP status, JSON body). 200 while polling is fresh; 503 once no poll has succeeded for more than
    three intervals (SPEC.md). The body's `status` agrees with the code: "ok" (the latest poll worked),
    "degraded" (it failed, still within three intervals: 200), "failing" (503), "starting" (no poll yet,
    within three intervals). `problem` says why whenever the status is not "ok"."""
    now = services.clock()
    interval = timedelta(seconds=services.settings.poll_interval_seconds)
    feed = services.status.feed_health()
    last = services.store.last_poll()
    stale_after = 3 * interval + timedelta(seconds=30)
    reference = feed.checked_at or services.started_at
    healthy = now - reference <= stale_after
    running_since = services.poller.running_since
    problem = feed.problem
    if problem is None and running_since is not None and now - running_since > interval:
        problem = f"a poll has been waiting for the status feed since {iso(running_since)}"
    if not healthy:
        since = f"no good poll since {iso(feed.checked_at)}" if feed.checked_at else "no good poll yet"
        problem = f"{since}: {problem}" if problem else since
        state = "failing"
    elif problem is not None:
        state = "degraded"
    elif last is None:
        state = "starting"
    else:
        state = "ok"
    body: dict[str, object] = {
        "status": state,
        "problem": problem,
        "last_poll_at": iso(last.finished_at or last.started_at) if last else None,
        "last_good_poll_at": iso(feed.checked_at),
        "companies": services.store.company_count(),
        "failing_polls": feed.failing_polls,
        "poll_running_since": iso(running_since),
        "feed": services.feed.description,
        "feed_problem": feed.problem,
    }
    return (200 if healthy else 503), body


# After a failed poll the next comes sooner than the interval, to notice a healed feed quickly, but backs
# off: 1 s, 2 s, 4 s... and never more often than that, up to the poll interval itself.
FIRST_RETRY_SECONDS = 1.0


def next_poll_delay(failures_in_a_row: int, interval_seconds: float) -> float:
    """Seconds from the end of a poll to the next: the interval after a good poll; after n failed polls in
    a row, FIRST_RETRY_SECONDS * 2**(n-1), at most the interval."""
    if failures_in_a_row <= 0:
        return interval_seconds
    return min(interval_seconds, FIRST_RETRY_SECONDS * 2 ** min(failures_in_a_row - 1, 30))


def build_scheduler(services: Services) -> AsyncIOScheduler:
    """One poll at start, then each poll scheduled from the end of the one before (next_poll_delay), so
    a poll that takes long or fails is never followed at once by another."""
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    interval = services.settings.poll_interval_seconds

    async def scheduled_poll() -> None:
        try:
            await services.poller.poll_once()
        finally:
            delay = next_poll_delay(services.poller.consecutive_failures, interval)
            if scheduler.running:
                scheduler.add_job(
                    scheduled_poll, "date", run_date=utcnow() + timedelta(seconds=delay), id="poll",
                    replace_existing=True, misfire_grace_time=None,
                )

    scheduler.add_job(scheduled_poll, "date", run_date=utcnow(), id="poll", misfire_grace_time=None)
    return scheduler


SERVICES = web.AppKey("services", Services)
BOLT = web.AppKey("bolt", AsyncApp)
VERIFIER = web.AppKey("verifier", SignatureVerifier)


async def slack_events(request: web.Request) -> web.Response:
    # The signature is checked here, before Bolt parses the body: Bolt parses first and would answer a
    # garbled body with a 500, whoever sent it.
    body = await request.text()
    headers = dict(request.headers)
    if not request.app[VERIFIER].is_valid_request(body, headers):
        return web.json_response({"error": "invalid request"}, status=401)
    try:
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
    except ValueError:
        return web.json_response({"error": "malformed payload"}, status=400)
    problem = shape_problem(bolt_request.body)
    if problem:
        log.warning("Rejected a malformed Slack payload: %s", problem)
        return web.json_response({"error": f"malformed payload: {problem}"}, status=400)
    return await to_aiohttp_response(await request.app[BOLT].async_dispatch(bolt_request))


async def healthz(request: web.Request) -> web.Response:
    status, body = health(request.app[SERVICES])
    return web.json_response(body, status=status)


def build_web_app(
    services: Services, bolt_app: AsyncApp, *, with_scheduler: bool = True, with_delivery: bool = True
) -> web.Application:
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app[SERVICES] = services
    web_app[BOLT] = bolt_app
    web_app[VERIFIER] = SignatureVerifier(services.settings.signing_secret or "")
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        # APScheduler's AsyncIOScheduler needs the running loop, so it starts here, not at import.
        scheduler = build_scheduler(services) if with_scheduler else None
        if scheduler:
            scheduler.start()
        delivery = asyncio.create_task(services.deliverer.run_forever()) if with_delivery else None
        yield
        if scheduler:
            scheduler.shutdown(wait=False)
        if delivery:
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery
        await services.close()

    web_app.cleanup_ctx.append(lifecycle)
    return web_app
