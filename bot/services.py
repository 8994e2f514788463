"""The running bot's parts, built once, and the poll pipeline in the order data flows through it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

from bot.alerting.actions import AlertActions
from bot.alerting.compose import AlertRenderer
from bot.alerting.delivery import Deliverer
from bot.alerting.digest_queue import DigestQueue
from bot.alerting.engine import AlertEngine
from bot.alerting.lapses import LapseWatch
from bot.answers.status import StatusService
from bot.helpcentre.matching import HelpCentre
from bot.home.refresh import HomeRefresher
from bot.metrics import Metrics
from bot.practice.feed import StatusFeed, feed_from_source, fetch_deadline
from bot.practice.poller import Poller, PollOutcome
from bot.reminders.loop import Reminders
from bot.settings import Settings
from bot.slack.client import MeteredWebClient, slack_client
from storage.open import open_store
from storage.ports import PracticeStore


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    settings: Settings
    store: PracticeStore
    help_centre: HelpCentre
    feed: StatusFeed
    poller: Poller
    status: StatusService
    client: MeteredWebClient
    alerts: AlertEngine
    renderer: AlertRenderer
    deliverer: Deliverer
    digests: DigestQueue
    clock: Callable[[], datetime]
    metrics: Metrics = field(default_factory=Metrics)
    started_at: datetime = field(default_factory=utcnow)
    # With many workspaces each practice's store is a handle on the one shared database, closed by its owner.
    owns_store: bool = True
    # With many workspaces: the App Home's "AutoEntry connection" blocks for a viewer (set by bot/hosting.py).
    home_connection: Callable[[str], Awaitable[list[dict[str, Any]]]] | None = None
    # Built once the rest is (they read it): see build_services.
    reminders: Reminders = field(init=False)
    alert_actions: AlertActions = field(init=False)
    home: HomeRefresher = field(init=False)

    async def close(self) -> None:
        await self.feed.close()
        if self.owns_store:
            self.store.close()


def build_services(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    help_centre: HelpCentre | None = None,
    feed: StatusFeed | None = None,
    store: PracticeStore | None = None,
    metrics: Metrics | None = None,
) -> Services:
    """One practice's running parts. Single-workspace mode: the whole bot, on its own database. With many
    workspaces (bot/hosting.py): one per connected workspace, given its `store` handle on the shared
    database, the shared `metrics` and Help Centre, and `settings` carrying that workspace's bot token and
    feed (dataclasses.replace of the deployment's)."""
    owns_store = store is None
    store = store or open_store(settings.db_path, settings.database_url)
    help_centre = help_centre or HelpCentre.load(settings.help_centre_articles)
    feed = feed or feed_from_source(
        settings.status_source, settings.status_api_token, clock, fetch_deadline=fetch_deadline(settings.poll_interval_seconds)
    )
    poller = Poller(store, feed, clock)
    metrics = metrics or Metrics()
    client = slack_client(settings, metrics)
    alerts = AlertEngine(
        store,
        help_centre,
        clock,
        alert_channel=settings.alert_channel,
        offline_grace=timedelta(seconds=settings.offline_grace_seconds),
        poll_interval=timedelta(seconds=settings.poll_interval_seconds),
        flap_window=timedelta(seconds=settings.flap_window_seconds),
    )
    renderer = AlertRenderer(store, help_centre, clock)
    deliverer = Deliverer(store, slack_client(settings, metrics, outbox=True), renderer, clock)
    digests = DigestQueue(store, clock, alert_channel=settings.alert_channel, wake=deliverer.wake)
    services = Services(
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
        digests=digests,
        clock=clock,
        metrics=metrics,
        started_at=clock(),
        owns_store=owns_store,
    )
    services.reminders = Reminders(services)
    services.alert_actions = AlertActions(services)
    services.home = HomeRefresher(services)
    poll_pipeline(services)
    return services


def poll_pipeline(services: Services) -> None:
    """The poll pipeline, in the order data flows. Inside the poll's transaction: the alert engine turns the
    poll's changes into incidents and outbox rows, and open Home tabs are marked stale. After it commits, each
    step in turn: the poll is counted (/metrics), delivery empties the outbox, subscriptions whose subscriber lost the permission lapse, the
    reminder loop closes on permissions the feed now shows, open Home tabs are refreshed."""
    deliverer, metrics, store = services.deliverer, services.metrics, services.store
    queued_seen = [store.queued_rows]

    async def deliver_soon(_: object) -> None:
        # Only when the poll queued something: delivery looks at its outbox now and then anyway.
        if store.queued_rows != queued_seen[0]:
            queued_seen[0] = store.queued_rows
            deliverer.wake()

    async def count_poll(outcome: PollOutcome) -> None:
        metrics.record_poll(outcome.ok, outcome.duration_seconds)

    services.poller.reactors[:] = [services.alerts, services.home.mark]
    services.poller.after_poll[:] = [count_poll, deliver_soon, LapseWatch(services), services.reminders.after_poll, services.home]
