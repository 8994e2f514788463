"""Wiring: the Bolt app, the aiohttp server, the scheduler. No product logic here."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from datetime import timezone
from typing import Any, AsyncIterator, Sequence

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import PayloadEncodingError
from aiohttp.web_log import AccessLogger
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.health import StoreCollector, health
from bot.leases import DIGESTS_EVERY_SECONDS, run_once
from bot.logs import workspace_logging
from bot.polling import schedule_polling
from bot.practice.poller import next_poll_delay
from bot.practices import Practices
from bot.services import Services, build_services, utcnow
from bot.settings import Settings, StartupError
from bot.slack.client import MeteredWebClient
from bot.slack.errors import slack_error
from bot.slack.guard import signature_headers_problem
from bot.slack.middleware import RejectMalformed
from handlers import register

__all__ = [
    "next_poll_delay",
    "QuietAccessLogger",
    "Services",
    "StartupError",
    "build_bolt_app",
    "build_scheduler",
    "build_services",
    "build_web_app",
    "health",
]

log = logging.getLogger(__name__)

# SPEC.md "Running it": on SIGTERM, Slack calls in flight get at most this long to finish.
STOP_GRACE_SECONDS = 10.0
# Slack's answers to a token it will not take (https://api.slack.com/methods/auth.test#errors).
REJECTED_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "not_allowed_token_type"}
)


class QuietAccessLogger(AccessLogger):
    """The access log, less a line per /healthz and /metrics probe (a monitor asks every few seconds)."""

    QUIET_PATHS = frozenset({"/healthz", "/metrics"})

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if request.path in self.QUIET_PATHS or request.path.startswith("/healthz/"):
            return
        super().log(request, response, time)


def build_bolt_app(services: Services | None, practices: Practices | None = None) -> AsyncApp:
    """The Bolt app. Requests go to `practices` (by workspace) when given, else all to `services`. With many
    workspaces (`practices.hosting`), Bolt's OAuth flow installs the app and authorizes each request with its
    workspace's installation (slack_sdk's SQLite installation store, token rotation on)."""
    if practices is None:
        assert services is not None
        practices = Practices.of(services)
    hosting = practices.hosting
    if hosting is not None:
        oauth: dict[str, Any] = {"oauth_settings": hosting.oauth_settings(), "client": hosting.client(None)}
        signing_secret = hosting.settings.signing_secret
    else:
        assert services is not None
        oauth = {"client": services.client}
        signing_secret = services.settings.signing_secret
    app = AsyncApp(
        **oauth,
        signing_secret=signing_secret,
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
    register(app, practices)
    return app


def build_scheduler(services: Services) -> AsyncIOScheduler:
    """One poll at start, then each poll scheduled from the end of the one before (next_poll_delay), so
    a poll that takes long or fails is never followed at once by another."""
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    schedule_polling(scheduler, services, "poll", utcnow())
    # Daily digests: checked each minute and at start-up, so one due while the bot was down goes out when it is back.
    scheduler.add_job(
        functools.partial(run_once, services.store, "digests", DIGESTS_EVERY_SECONDS, services.digests.tick),
        "interval",
        seconds=DIGESTS_EVERY_SECONDS,
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
    headers: dict[str, str | Sequence[str]] = dict(request.headers)
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


async def metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[SERVICES].metrics.exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})


async def check_bot_token(services: Services) -> None:
    """`auth.test` with SLACK_BOT_TOKEN. A token Slack rejects raises StartupError; Slack out of reach is
    logged and start-up goes on (delivery retries, /healthz says so)."""
    try:
        answer = await services.client.auth_test()
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in REJECTED_TOKEN_ERRORS:
            raise StartupError(f"SLACK_BOT_TOKEN was rejected by Slack ({error}); check the bot token") from None
        log.warning("Could not check SLACK_BOT_TOKEN with Slack (%s); starting anyway", error)
        return
    except Exception as exc:  # no answer at all: network, DNS, timeout
        log.warning("Could not reach Slack to check SLACK_BOT_TOKEN (%s); starting anyway", slack_error(exc))
        return
    workspace_logging(answer.get("team_id"))
    log.info("Connected to Slack workspace %s as %s", answer.get("team"), answer.get("user"))


async def open_socket_mode(settings: Settings, client: AsyncWebClient, bolt_app: AsyncApp) -> AsyncSocketModeHandler:
    """Bolt's Socket Mode handler inside this aiohttp app (bolt-python's documented aiohttp pattern:
    connect_async at start-up, close_async, which disconnects, at clean-up). The app token is checked by
    opening the connection: `apps.connections.open`, whose URL the handler then connects to. With many
    workspaces, Bolt authorizes each envelope from the installation store, as it does an HTTP request."""
    app_token = settings.app_token or ""
    url: str | None = None
    try:
        url = (await client.apps_connections_open(app_token=app_token))["url"]
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in REJECTED_TOKEN_ERRORS:
            raise StartupError(f"SLACK_APP_TOKEN was rejected by Slack ({error}); check the app-level token") from None
        log.warning("Could not open the Socket Mode connection (%s); retrying", error)
    except Exception as exc:
        log.warning("Could not reach Slack to open the Socket Mode connection (%s); retrying", slack_error(exc))
    handler = AsyncSocketModeHandler(bolt_app, app_token, web_client=client)
    handler.client.wss_uri = url  # None: the handler asks for a URL itself
    await handler.connect_async()  # retries by itself until it is connected
    return handler


def stop_envelopes(socket: AsyncSocketModeHandler) -> None:
    """Stopping: new envelopes are left unacknowledged (Slack sends them again); the socket stays open until
    the requests in flight have been answered, then closes cleanly."""
    socket.client.auto_reconnect_enabled = False
    socket.client.socket_mode_request_listeners.clear()


def build_web_app(
    services: Services,
    bolt_app: AsyncApp,
    *,
    with_scheduler: bool = True,
    with_delivery: bool = True,
    check_tokens: bool = False,
) -> web.Application:
    """The one aiohttp app of `serve`: POST /slack/events, GET /healthz, GET /metrics, the poll schedule,
    alert delivery and, with SLACK_APP_TOKEN set, the Socket Mode connection. Stopping it (SIGTERM, SIGINT)
    takes no new work, lets Slack calls in flight finish (at most STOP_GRACE_SECONDS) and closes the socket.
    check_tokens: check SLACK_BOT_TOKEN with auth.test at start (StartupError when Slack rejects it)."""
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app[SERVICES] = services
    web_app[BOLT] = bolt_app
    if not services.settings.socket_mode:  # in Socket Mode requests come over the socket, not to a URL
        web_app[VERIFIER] = SignatureVerifier(services.settings.signing_secret or "")
        web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    services.metrics.registry.register(StoreCollector(services))
    web_app.cleanup_ctx.append(Serving(services, bolt_app, with_scheduler, with_delivery, check_tokens).lifecycle)
    return web_app


class Serving:
    """What `serve` runs for one practice beside its routes (the poll schedule, delivery, the Socket Mode
    connection) and how it stops: on shutdown no new work is taken, then Slack calls in flight get at most
    STOP_GRACE_SECONDS to finish."""

    def __init__(self, services: Services, bolt_app: AsyncApp, with_scheduler: bool, with_delivery: bool, check_tokens: bool):
        self.services = services
        self.bolt_app = bolt_app
        self.with_scheduler = with_scheduler
        self.with_delivery = with_delivery
        self.check_tokens = check_tokens
        self.socket: AsyncSocketModeHandler | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.delivery: asyncio.Task[None] | None = None
        self.deadline: float | None = None
        self.polling_stopped = False

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        services = self.services
        if self.check_tokens:
            await check_bot_token(services)
        self.socket = (
            await open_socket_mode(services.settings, services.client, self.bolt_app) if services.settings.socket_mode else None
        )
        # APScheduler's AsyncIOScheduler needs the running loop, so it starts here, not at import.
        self.scheduler = build_scheduler(services) if self.with_scheduler else None
        if self.scheduler:
            self.scheduler.start()
        self.delivery = asyncio.create_task(services.deliverer.run_forever()) if self.with_delivery else None
        app.on_shutdown.append(self.stop_taking_work)
        yield
        await self.finish()

    def stop_polling(self) -> None:
        # Paused, not shut down: APScheduler's shutdown cancels a poll in progress, Slack calls and all.
        self.services.poller.stop()
        if self.scheduler and not self.polling_stopped:
            self.polling_stopped = True
            self.scheduler.pause()

    async def stop_taking_work(self, _: web.Application) -> None:
        # Runs first when the app stops: no new poll, no new outbox row, no new Socket Mode request.
        self.deadline = time.monotonic() + STOP_GRACE_SECONDS
        self.stop_polling()
        self.services.deliverer.stop()
        if self.socket is not None:
            stop_envelopes(self.socket)

    async def finish(self) -> None:
        services, delivery, scheduler, socket = self.services, self.delivery, self.scheduler, self.socket
        deadline = self.deadline if self.deadline is not None else time.monotonic() + STOP_GRACE_SECONDS
        self.stop_polling()
        services.deliverer.stop()
        if delivery:
            # The row being sent finishes; what was not sent stays in the outbox for the next start.
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(delivery), max(0.0, deadline - time.monotonic()))
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery
        # The poll in progress gets what is left of the grace, then is cancelled: it must not outlive the database.
        await services.poller.finish(max(0.0, deadline - time.monotonic()))
        if scheduler:
            scheduler.shutdown(wait=False)
        for client in {services.client, services.deliverer.client}:  # people's requests', the outbox's
            if isinstance(client, MeteredWebClient) and not await client.wait_idle(max(0.0, deadline - time.monotonic())):
                log.warning("Stopped with %d Slack calls unanswered", client.in_flight)
        if socket is not None:
            await socket.close_async()  # disconnects, then frees the handler's session
        await services.close()
