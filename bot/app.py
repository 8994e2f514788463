"""Wiring: the Bolt app, the aiohttp server, the scheduler. No product logic here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timezone
from typing import AsyncIterator

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.health import health
from bot.services import Services, build_services
from bot.slack.guard import shape_problem
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
