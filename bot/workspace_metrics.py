"""/metrics with many workspaces: deployment totals, and a `workspace` label on the three figures an operator
needs per practice (docs/operations.md "Many workspaces").

Cardinality: three series per connected workspace (3,000 at 1,000 workspaces), whatever happens: failing
polls in a row, seconds since the last good poll, alert messages waiting. Everything else stays unlabelled
(totals), so a scrape stays a few milliseconds (bench/bench_workspaces.py measures it at 1,000).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from bot.services import Services
    from storage.ports import PracticeStore


class WorkspacesCollector(Collector):
    """Figures read at scrape time from every running practice (`practices()`) and, in one query, the outbox
    of the whole database (`store`)."""

    def __init__(
        self, store: "PracticeStore", practices: Callable[[], Iterable["Services"]], clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.practices = practices
        self.clock = clock

    def describe(self) -> list[Metric]:
        return []  # registering it reads nothing

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        running = list(self.practices())
        pending = self.store.pending_by_workspace()
        failing = GaugeMetricFamily(
            "integration_bot_workspace_consecutive_poll_failures",
            "Polls of this workspace's feed failed in a row (0: its last poll was good)",
            labels=["workspace"],
        )
        age = GaugeMetricFamily(
            "integration_bot_workspace_last_good_poll_age_seconds",
            "Seconds since this workspace's feed was last read (since its practice started, before the first)",
            labels=["workspace"],
        )
        waiting = GaugeMetricFamily(
            "integration_bot_workspace_outbox_depth",
            "Alert messages of this workspace waiting in the outbox",
            labels=["workspace"],
        )
        failing_workspaces = 0
        for services in running:
            workspace = services.store.workspace
            failures = services.poller.consecutive_failures
            failing_workspaces += failures > 0
            failing.add_metric([workspace], failures)
            checked = services.status.feed_health().checked_at or services.started_at
            age.add_metric([workspace], max(0.0, (now - checked).total_seconds()))
            waiting.add_metric([workspace], pending.get(workspace, (0, None))[0])
        yield failing
        yield age
        yield waiting
        yield GaugeMetricFamily("integration_bot_workspaces", "Connected workspaces polled by this process", value=len(running))
        yield GaugeMetricFamily(
            "integration_bot_workspaces_polls_failing", "Connected workspaces whose last poll failed", value=failing_workspaces
        )
        yield GaugeMetricFamily(
            "integration_bot_outbox_depth",
            "Alert messages waiting in the outbox, every workspace",
            value=sum(count for count, _ in pending.values()),
        )
        oldest = min((at for _, at in pending.values() if at is not None), default=None)
        yield GaugeMetricFamily(
            "integration_bot_outbox_oldest_age_seconds",
            "Age of the oldest undelivered alert message of any workspace (0: none)",
            value=(now - oldest).total_seconds() if oldest is not None else 0.0,
        )
