"""Wiring with many workspaces ("Add to Slack"): Bolt's OAuth routes, the deployment's /healthz and /metrics,
and the web app that runs every connected workspace (bot/hosting.py). One workspace's wiring: bot/app.py."""

from __future__ import annotations

import functools
from datetime import timezone
from typing import AsyncIterator

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.app import BOLT, STOP_GRACE_SECONDS, VERIFIER, open_socket_mode, slack_events, stop_envelopes
from bot.following import FOLLOW_SECONDS, WorkspaceFollower
from bot.health import health, workspace_health
from bot.hosted_health import (
    WORKSPACE_ID,
    deployment_health,
    public_workspace_health,
    unconnected_workspace,
    unknown_workspace,
)
from bot.leases import DIGESTS_EVERY_SECONDS, PURGE_EVERY_SECONDS, TOKENS_EVERY_SECONDS, run_once
from bot.practices import Practices
from bot.services import utcnow
from bot.workspace_metrics import WorkspacesCollector


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
        status, full = health(services)
        body = public_workspace_health(workspace, full)
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
    polled as its own job and delivered by its own task (bot/hosting.py Hosting). Stopping it stops every workspace's polling and delivery; what was not sent
    stays in the outbox."""
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
            # Each runs in one process at a time per workspace (bot/leases.py), however many share the database.
            scheduler.add_job(hosting.digests_tick, "interval", seconds=DIGESTS_EVERY_SECONDS, id="digests", **every)
            scheduler.add_job(hosting.refresh_tokens, "interval", seconds=TOKENS_EVERY_SECONDS, id="tokens", **every)
            purge = functools.partial(run_once, hosting.store, "purge", PURGE_EVERY_SECONDS, hosting.purge_uninstalled)
            scheduler.add_job(purge, "interval", seconds=PURGE_EVERY_SECONDS, id="purge", next_run_time=utcnow(), **every)
            if hosting.store.shared:  # other processes on the database: hear of the workspaces they change
                follower = WorkspaceFollower(hosting)
                scheduler.add_job(follower.tick, "interval", seconds=FOLLOW_SECONDS, id="follow", **every)
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
