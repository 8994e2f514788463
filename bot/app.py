"""Wiring: one Web API client, the Bolt app, the aiohttp server, the scheduler. No product logic here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Awaitable, Callable

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import PayloadEncodingError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.alert_engine import AlertEngine, AlertRenderer
from bot.delivery import Deliverer
from bot.feed import StatusFeed, feed_from_source
from bot.helpcentre import HelpCentre
from bot.poller import Poller
from bot.settings import Settings
from bot.slack_payloads import shape_problem, signature_headers_problem
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


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 only when Slack asks for a short wait: a person is waiting for the answer, and a long
    Retry-After is better answered at once (the call fails and says so) than after minutes of silence."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[no-untyped-def]
        if response is None or response.status_code != 429:
            return False
        retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        try:
            return int(retry_after[0] if isinstance(retry_after, list) else retry_after) <= INTERACTIVE_RETRY_AFTER_SECONDS
        except (TypeError, ValueError, IndexError):
            return False


INTERACTIVE_RETRY_AFTER_SECONDS = 3


def slack_client(settings: Settings, *, outbox: bool = False) -> AsyncWebClient:
    """A Web API client. For people's requests (outbox=False): a connection error, a 5xx and a short 429 are
    retried inside the call. For the alert outbox (outbox=True): only a connection error on a call that
    cannot post; the outbox retries everything else itself, per channel (bot/delivery.py), so that one
    channel's Retry-After never holds a call, or any other channel, for its duration."""
    if outbox:
        handlers = [ConnectionErrorRetryHandler(max_retry_count=1)]
    else:
        handlers = [
            ConnectionErrorRetryHandler(max_retry_count=2),
            # A 429 means Slack did nothing: retrying after a short Retry-After is safe.
            ShortRateLimitRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ]
    return AsyncWebClient(token=settings.bot_token, base_url=settings.api_base_url, timeout=10, retry_handlers=handlers)


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
    feed = feed or feed_from_source(settings.status_source, settings.status_api_token, clock)
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
    deliverer = Deliverer(store, slack_client(settings, outbox=True), renderer, clock)
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


class RejectMalformed(AsyncMiddleware):
    """Bolt global middleware, first to run: 400 for a payload whose shape listeners cannot trust
    (bot/slack_payloads.py). A class, not a function: Bolt builds a function middleware's arguments from the
    body, which itself fails on such payloads."""

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        problem = shape_problem(req.body)
        if problem:
            log.warning("Rejected a malformed Slack payload: %s", problem)
            return BoltResponse(status=400, body={"error": f"malformed payload: {problem}"})
        return await next()


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
        # Runs first for every request, HTTP or Socket Mode: a payload of the wrong shape stops here with a 400.
        before_authorize=RejectMalformed(),
    )
    register(app, services)
    return app


def health(services: Services) -> tuple[int, dict[str, object]]:
    """200 while polling is fresh; 503 once it has been failing for more than three intervals."""
    now = services.clock()
    interval = timedelta(seconds=services.settings.poll_interval_seconds)
    feed = services.status.feed_health()
    last = services.store.last_poll()
    stale_after = 3 * interval + timedelta(seconds=30)
    reference = feed.checked_at or services.started_at
    healthy = now - reference <= stale_after
    broken = services.store.broken_channels()
    if last is None:
        state = "starting"
    elif feed.problem is None:
        state = "degraded" if broken else "ok"
    else:
        state = "degraded" if healthy else "failing"
    body: dict[str, object] = {
        "status": state,
        "last_poll_at": iso(last.finished_at or last.started_at) if last else None,
        "last_good_poll_at": iso(feed.checked_at),
        "companies": services.store.company_count(),
        "failing_polls": feed.failing_polls,
        "feed": services.feed.description,
        "feed_problem": feed.problem,
        # Channels the bot cannot post in (channel id -> Slack's error): their alerts wait for an invitation.
        "broken_channels": broken,
    }
    return (200 if healthy else 503), body


def build_scheduler(services: Services) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    scheduler.add_job(
        services.poller.poll_once,
        "interval",
        seconds=services.settings.poll_interval_seconds,
        id="poll",
        next_run_time=services.clock(),  # one poll at start-up
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    return scheduler


SERVICES = web.AppKey("services", Services)
BOLT = web.AppKey("bolt", AsyncApp)
VERIFIER = web.AppKey("verifier", SignatureVerifier)


# What parsing a signed body may raise: bad JSON, JSON nested past Python's recursion limit, or JSON of a shape
# Bolt's request context cannot read (a list, a number, `user: 5`).
_UNREADABLE = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)


async def slack_events(request: web.Request) -> web.Response:
    """POST /slack/events: 401 unless signed by Slack, 400 when signed but unreadable, else Bolt's answer.

    The signature is checked here, on the raw bytes, before Bolt parses the body (Bolt parses first and
    would answer a garbled body with a 500, whoever sent it). Slack sends UTF-8 whatever the Content-Type's
    charset says; a body that is not UTF-8 cannot carry a Slack signature."""
    try:
        raw = await request.read()
    except (ConnectionError, asyncio.IncompleteReadError, ClientPayloadError, PayloadEncodingError) as exc:
        # The client hung up (or garbled the framing) while sending: nobody is left to answer.
        log.info("A request to /slack/events ended before its body did: %s", type(exc).__name__)
        return web.json_response({"error": "incomplete request"}, status=400)
    headers = dict(request.headers)
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    if signature_headers_problem(timestamp, signature) is not None:
        return web.json_response({"error": "invalid request"}, status=401)
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return web.json_response({"error": "invalid request"}, status=401)
    if not request.app[VERIFIER].is_valid(body, timestamp, signature):
        return web.json_response({"error": "invalid request"}, status=401)
    try:
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
    except _UNREADABLE as exc:
        log.warning("Rejected a Slack payload that cannot be parsed: %s", type(exc).__name__)
        return web.json_response({"error": "malformed payload"}, status=400)
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
