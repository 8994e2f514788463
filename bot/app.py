"""Wiring: the Bolt app, the aiohttp server, the scheduler. No product logic here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timezone
from typing import AsyncIterator

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import PayloadEncodingError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.health import health
from bot.services import Services, build_services
from bot.slack.guard import signature_headers_problem
from bot.slack.middleware import RejectMalformed
from handlers import register

__all__ = ["Services", "build_bolt_app", "build_scheduler", "build_services", "build_web_app", "health"]

log = logging.getLogger(__name__)


def build_bolt_app(services: Services) -> AsyncApp:
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
    # Daily digests: checked each minute and at start-up, so one due while the bot was down goes out when it is back.
    scheduler.add_job(
        services.digests.tick,
        "interval",
        seconds=60,
        id="digests",
        next_run_time=services.clock(),
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
