"""What /healthz and /metrics say: is the bot doing its job?"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.alerting.delivery_health import DeliveryHealth
from bot.hosted_health import WorkspaceHealth
from storage.timefmt import iso

if TYPE_CHECKING:
    from bot.services import Services

# SPEC.md "Running it": alerts older than this still undelivered mean alerts are not reaching Slack.
UNDELIVERED_LIMIT = timedelta(minutes=10)
# ... as does every delivery attempt failing for this many poll intervals (a revoked token).
FAILING_INTERVALS = 3
COMPANY_STATES = ("integrated", "not_integrated", "error")


def delivery_problem(now: datetime, interval: timedelta, oldest_pending: datetime | None, delivery: DeliveryHealth) -> str | None:
    """Why alerts are not reaching Slack, or None while they are. Pure: a function of its arguments."""
    if oldest_pending is not None and now - oldest_pending > UNDELIVERED_LIMIT:
        minutes = int((now - oldest_pending).total_seconds() // 60)
        return f"the oldest undelivered alert has waited {minutes} minutes"
    if delivery.consecutive_failures and delivery.all_failing_for(now) >= FAILING_INTERVALS * interval:
        return f"every post to Slack has failed since {iso(delivery.failing_since)} ({delivery.last_error})"
    return None


def polling_fresh(services: "Services", now: datetime) -> bool:
    """False once no poll has succeeded for more than three intervals (and 30 s), counted from the practice's
    start before its first good poll (SPEC.md "Running it"). From memory: no query."""
    interval = timedelta(seconds=services.settings.poll_interval_seconds)
    reference = services.status.feed_health().checked_at or services.started_at
    return now - reference <= FAILING_INTERVALS * interval + timedelta(seconds=30)


def delivery_failing(services: "Services", now: datetime, oldest_pending: datetime | None) -> bool:
    """Whether the practice's alerts are not reaching Slack (delivery_problem), given its oldest pending row
    outside broken channels (OutboxStore.outbox_summary's, or pending_by_workspace's for every workspace)."""
    interval = timedelta(seconds=services.settings.poll_interval_seconds)
    return delivery_problem(now, interval, oldest_pending, services.deliverer.health) is not None


def workspace_health(services: "Services", now: datetime, oldest_pending: datetime | None) -> WorkspaceHealth:
    """What the deployment's /healthz counts of one workspace, from memory and its oldest pending outbox row
    (read for every workspace in one query): the same judgments as `health`, without its queries."""
    polling_failing = not polling_fresh(services, now)
    undelivered = delivery_failing(services, now, oldest_pending)
    feed = services.status.feed_health()
    if polling_failing or undelivered:
        status = "failing"
    elif feed.problem is not None or services.poller.consecutive_failures:
        status = "degraded"
    else:
        status = "starting" if feed.checked_at is None else "ok"
    return WorkspaceHealth(services.store.workspace, polling_failing, undelivered, status)


def health(services: "Services") -> tuple[int, dict[str, object]]:
    """(HTTP status, JSON body). 200 while polling is fresh and alerts reach Slack; 503 once no poll has
    succeeded for more than three intervals, or alerts are not reaching Slack (`delivery_problem`), per
    SPEC.md. The body's `status` agrees with the code: "ok", "degraded" (something is wrong, still 200: a
    failed poll within three intervals, a channel the bot cannot post in), "failing" (503), "starting" (no
    poll yet). `problem` says why whenever the status is not "ok"; `delivery` details the outbox."""
    now = services.clock()
    interval = timedelta(seconds=services.settings.poll_interval_seconds)
    feed = services.status.feed_health()
    last = services.store.last_poll()
    polling_ok = polling_fresh(services, now)
    running_since = services.poller.running_since
    problem = feed.problem
    if problem is None and running_since is not None and now - running_since > interval:
        problem = f"a poll has been waiting for the status feed since {iso(running_since)}"
    # Channels the bot cannot post in (channel id -> Slack's error): their alerts wait for an invitation.
    broken = services.store.broken_channels()
    if problem is None and broken:
        problem = f"cannot post in {len(broken)} channel(s); their alerts wait until the bot is invited"
    counts, oldest = services.store.outbox_summary()
    deliveries = services.deliverer.health
    undelivered = delivery_problem(now, interval, oldest, deliveries)
    healthy = polling_ok and undelivered is None
    if not polling_ok:
        since = f"no good poll since {iso(feed.checked_at)}" if feed.checked_at else "no good poll yet"
        problem = f"{since}: {problem}" if problem else since
    if undelivered is not None:
        problem = f"{problem}; {undelivered}" if problem else undelivered
    body: dict[str, object] = {
        "status": _state(healthy, problem, starting=last is None),
        "problem": problem,
        "polling": "ok" if polling_ok else "failing",
        "last_poll_at": iso(last.finished_at or last.started_at) if last else None,
        "last_good_poll_at": iso(feed.checked_at),
        "companies": services.store.company_count(),
        "failing_polls": feed.failing_polls,
        # Feed records the last poll could not read at all (skipped and logged; their companies keep their state).
        "skipped_records": last.skipped if last else 0,
        "poll_running_since": iso(running_since),
        "feed": services.feed.description,
        "feed_problem": feed.problem,
        "broken_channels": broken,
        "delivery": {
            "status": "ok" if undelivered is None else "failing",
            "problem": undelivered,
            "undelivered": counts["pending"],
            "oldest_undelivered_at": iso(oldest),
            "last_successful_post_at": iso(deliveries.last_sent_at),
            "consecutive_failures": deliveries.consecutive_failures,
            "last_error": deliveries.last_error,
        },
    }
    return (200 if healthy else 503), body


def _state(healthy: bool, problem: str | None, *, starting: bool) -> str:
    """/healthz's `status`: "failing" (503), "degraded", "starting" (no poll yet) or "ok"."""
    if not healthy:
        return "failing"
    if problem is not None:
        return "degraded"
    return "starting" if starting else "ok"


class StoreCollector(Collector):
    """Figures read at scrape time: companies by state, the outbox, delivery and the last good poll.
    Companies by state are counted again only when a poll changed them (3 ms at 10,000 companies); the
    outbox is two indexed queries. A scrape: about 2 ms at 10,000 companies (bench/bench_metrics.py)."""

    def __init__(self, services: "Services") -> None:
        self.services = services
        self._states: dict[tuple[str, str | None], int] = {}
        self._states_version = -1

    def _company_states(self) -> dict[tuple[str, str | None], int]:
        store = self.services.store
        if self._states_version != store.companies_version:
            self._states = store.company_state_counts()
            self._states_version = store.companies_version
        return self._states

    def describe(self) -> list[Metric]:
        return []  # registering it reads nothing

    def collect(self) -> Iterator[Metric]:
        services = self.services
        now = services.clock()
        companies = GaugeMetricFamily("integration_bot_companies", "Listed companies by Home page status", labels=["state"])
        by_state = dict.fromkeys(COMPANY_STATES, 0)
        offline = 0
        for (state, sync), count in self._company_states().items():
            by_state[state] = by_state.get(state, 0) + count
            offline += count if sync == "offline" else 0
        for state in COMPANY_STATES:
            companies.add_metric([state], by_state[state])
        yield companies
        yield GaugeMetricFamily("integration_bot_sync_apps_offline", "Companies whose Desktop Sync App is offline", value=offline)

        counts, oldest = services.store.outbox_summary()
        yield CounterMetricFamily(
            "integration_bot_alerts_queued", "Alert messages ever queued in the outbox", value=sum(counts.values())
        )
        yield CounterMetricFamily("integration_bot_alerts_sent", "Alert messages delivered to Slack", value=counts["sent"])
        yield CounterMetricFamily(
            "integration_bot_alerts_failed", "Alert messages given up on (a retry cannot mend them)", value=counts["failed"]
        )
        yield GaugeMetricFamily("integration_bot_outbox_depth", "Alert messages waiting in the outbox", value=counts["pending"])
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "integration_bot_outbox_oldest_age_seconds", "Age of the oldest undelivered alert message (0: none)", value=age
        )

        deliveries = services.deliverer.health
        yield CounterMetricFamily(
            "integration_bot_delivery_failures",
            "Delivery attempts that met an error since start (429s excluded)",
            value=deliveries.failed,
        )
        yield GaugeMetricFamily(
            "integration_bot_delivery_consecutive_failures",
            "Delivery attempts failed in a row (revoked token, Slack outage)",
            value=deliveries.consecutive_failures,
        )
        last_sent = deliveries.last_sent_at.timestamp() if deliveries.last_sent_at else 0.0
        yield GaugeMetricFamily(
            "integration_bot_last_successful_post_timestamp_seconds",
            "When Slack last took an alert (0: not yet)",
            value=last_sent,
        )
        checked = services.status.feed_health().checked_at
        yield GaugeMetricFamily(
            "integration_bot_last_good_poll_timestamp_seconds",
            "When the feed was last read (0: never)",
            value=checked.timestamp() if checked else 0.0,
        )
