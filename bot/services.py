"""The running bot's parts, built once, and the poll pipeline in the order data flows through it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.alerting.delivery import Deliverer
from bot.alerting.digest_queue import DigestQueue
from bot.alerting.engine import AlertEngine, AlertRenderer
from bot.answers.status import StatusService
from bot.helpcentre.matching import HelpCentre
from bot.practice.feed import StatusFeed, feed_from_source
from bot.practice.poller import Poller
from bot.settings import Settings
from bot.slack.client import slack_client
from storage.sqlite.db import Store


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
    digests: DigestQueue
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
        flap_window=timedelta(seconds=settings.flap_window_seconds),
    )
    renderer = AlertRenderer(store, help_centre, clock)
    deliverer = Deliverer(store, slack_client(settings, outbox=True), renderer, clock)
    poller.reactors.append(alerts)
    digests = DigestQueue(store, clock, alert_channel=settings.alert_channel, wake=deliverer.wake)

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
        digests=digests,
        clock=clock,
        started_at=clock(),
    )
