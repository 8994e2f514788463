"""Wiring: the Bolt app, the aiohttp server, the scheduler. No product logic here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timezone
from typing import Any, AsyncIterator, Sequence

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import PayloadEncodingError
from aiohttp.web_log import AccessLogger
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.health import StoreCollector, health, workspace_health
from bot.hosted_health import WORKSPACE_ID, deployment_health, unconnected_workspace, unknown_workspace
from bot.logs import workspace_logging
from bot.practice.poller import next_poll_delay
from bot.practices import Practices, schedule_polling
from bot.services import Services, build_services, utcnow
from bot.settings import Settings, StartupError
from bot.slack.client import MeteredWebClient
from bot.slack.errors import slack_error
from bot.slack.guard import signature_headers_problem
from bot.slack.middleware import RejectMalformed
from bot.workspace_metrics import WorkspacesCollector
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
    state: dict[str, float] = {}

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        if check_tokens:
            await check_bot_token(services)
        socket = await open_socket_mode(services.settings, services.client, bolt_app) if services.settings.socket_mode else None
        # APScheduler's AsyncIOScheduler needs the running loop, so it starts here, not at import.
        scheduler = build_scheduler(services) if with_scheduler else None
        if scheduler:
            scheduler.start()
        delivery = asyncio.create_task(services.deliverer.run_forever()) if with_delivery else None

        def stop_polling() -> None:
            # Paused, not shut down: APScheduler's shutdown cancels a poll in progress, Slack calls and all.
            services.poller.stop()
            if scheduler and "polling_stopped" not in state:
                state["polling_stopped"] = 1
                scheduler.pause()

        async def stop_taking_work(_: web.Application) -> None:
            # Runs first when the app stops: no new poll, no new outbox row, no new Socket Mode request.
            state["deadline"] = time.monotonic() + STOP_GRACE_SECONDS
            stop_polling()
            services.deliverer.stop()
            if socket is not None:
                stop_envelopes(socket)

        app.on_shutdown.append(stop_taking_work)
        yield
        deadline = state.get("deadline", time.monotonic() + STOP_GRACE_SECONDS)
        stop_polling()
        services.deliverer.stop()
        if delivery:
            # The row being sent finishes; what was not sent stays in the outbox for the next start.
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(delivery), max(0.0, deadline - time.monotonic()))
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(services.poller.wait_idle(), max(0.0, deadline - time.monotonic()))
        if scheduler:
            scheduler.shutdown(wait=False)
        for client in {services.client, services.deliverer.client}:  # people's requests', the outbox's
            if isinstance(client, MeteredWebClient) and not await client.wait_idle(max(0.0, deadline - time.monotonic())):
                log.warning("Stopped with %d Slack calls unanswered", client.in_flight)
        if socket is not None:
            await socket.close_async()  # disconnects, then frees the handler's session
        await services.close()

    web_app.cleanup_ctx.append(lifecycle)
    return web_app


async def oauth_install(request: web.Request) -> web.Response:
    """GET /slack/install: Bolt's "Add to Slack" page, with a fresh OAuth state (cookie and store)."""
    bolt = request.app[BOLT]
    assert bolt.oauth_flow is not None
    return await to_aiohttp_response(await bolt.oauth_flow.handle_installation(await to_bolt_request(request)))


async def oauth_redirect(request: web.Request) -> web.Response:
    """GET /slack/oauth_redirect: Slack's OAuth v2 callback, handled by Bolt (state checked, single use)."""
    bolt = request.app[BOLT]
    assert bolt.oauth_flow is not None
    return await to_aiohttp_response(await bolt.oauth_flow.handle_callback(await to_bolt_request(request)))


PRACTICES = web.AppKey("practices", Practices)


async def hosted_healthz(request: web.Request) -> web.Response:
    """GET /healthz with many workspaces: the deployment (bot/hosted_health.py: one workspace's failing feed
    or delivery is listed, not a 503); `?workspace=T123` or /healthz/T123: that workspace's own /healthz
    (503 when its polls or deliveries are failing), 404 for one not installed, 400 for a malformed id."""
    practices = request.app[PRACTICES]
    hosting = practices.hosting
    assert hosting is not None  # build_hosted_web_app's
    workspace = request.match_info.get("workspace") or request.query.get("workspace")
    if workspace is None:
        now = hosting.clock()
        pending = hosting.store.pending_by_workspace()  # every workspace's oldest waiting alert, one query
        status, body = deployment_health(
            workspace_health(s, now, pending.get(s.store.workspace, (0, None))[1]) for s in list(practices)
        )
    elif (services := practices.get(workspace)) is not None:
        status, body = health(services)
        body = {"workspace": workspace, **body}
    else:
        record = hosting.store.workspace_record(workspace) if WORKSPACE_ID.match(workspace) else None
        installed = record is not None and record.uninstalled_at is None
        status, body = unconnected_workspace(workspace) if installed else unknown_workspace(workspace)
    return web.json_response(body, status=status)


async def hosted_metrics(request: web.Request) -> web.Response:
    hosting = request.app[PRACTICES].hosting
    assert hosting is not None
    body, content_type = hosting.metrics.exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})


def build_hosted_web_app(practices: Practices, bolt_app: AsyncApp, *, with_scheduler: bool = True) -> web.Application:
    """`serve` with many workspaces: POST /slack/events (or, with SLACK_APP_TOKEN, one Socket Mode connection
    for every workspace), GET /slack/install and /slack/oauth_redirect (Bolt's OAuth: the installer's browser
    is sent there, so they stay on PORT in Socket Mode too), /healthz, /metrics; each connected workspace
    polled as its own job and delivered by its own task (bot/practices.py Hosting). Stopping it stops every
    workspace's polling and delivery; what was not sent stays in the outbox."""
    hosting = practices.hosting
    assert hosting is not None
    socket_mode = hosting.settings.socket_mode
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app[PRACTICES] = practices
    web_app[BOLT] = bolt_app
    if not socket_mode:
        web_app[VERIFIER] = SignatureVerifier(hosting.settings.signing_secret or "")
        web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/slack/install", oauth_install)
    web_app.router.add_get("/slack/oauth_redirect", oauth_redirect)
    web_app.router.add_get("/healthz", hosted_healthz)
    web_app.router.add_get("/healthz/{workspace}", hosted_healthz)
    web_app.router.add_get("/metrics", hosted_metrics)
    hosting.metrics.registry.register(WorkspacesCollector(hosting.store, lambda: list(practices), hosting.clock))

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        scheduler = AsyncIOScheduler(timezone=timezone.utc)
        scheduler.start()
        if with_scheduler:
            every = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
            scheduler.add_job(hosting.digests_tick, "interval", seconds=60, id="digests", **every)
            scheduler.add_job(hosting.refresh_tokens, "interval", minutes=10, id="tokens", **every)
            scheduler.add_job(hosting.purge_uninstalled, "interval", hours=1, id="purge", next_run_time=utcnow(), **every)
        else:
            scheduler.pause()
        await hosting.start(scheduler)
        socket = await open_socket_mode(hosting.settings, hosting.client(None), bolt_app) if socket_mode else None
        if socket is not None:

            async def stop_taking_envelopes(_: web.Application) -> None:
                stop_envelopes(socket)

            app.on_shutdown.append(stop_taking_envelopes)
        yield
        scheduler.pause()
        await hosting.stop(STOP_GRACE_SECONDS)
        if socket is not None:
            await socket.close_async()
        scheduler.shutdown(wait=False)
        hosting.store.close()

    web_app.cleanup_ctx.append(lifecycle)
    return web_app
