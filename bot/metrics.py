"""The bot's Prometheus figures: one registry per running app (never the global one), bounded labels.

Counters and histograms live here and are moved by the parts that see the events (the poller's hook, the
Web API client); figures read at scrape time (companies by state, the outbox, delivery health) are added
by a collector in `bot.health`. Exposition and content negotiation: prometheus-client's own.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

# Web API methods the bot calls, by name; anything else is counted as "other" so that the label set stays
# bounded whatever a listener calls.
SLACK_METHODS = frozenset(
    {
        "auth.test",
        "apps.connections.open",
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "conversations.open",
        "conversations.history",
        "conversations.replies",
        "users.info",
        "users.lookupByEmail",
        "views.open",
        "views.update",
        "views.publish",
    }
)
# The outcome of one Web API call: `ok`, `ratelimited` (429), `error` (an `ok: false` answer or a 4xx/5xx),
# `network_error` (no answer: connection, timeout).
SLACK_OUTCOMES = ("ok", "ratelimited", "error", "network_error")


def method_label(method: str) -> str:
    """`chat.postMessage` stays itself; a method not in SLACK_METHODS becomes `other`."""
    return method if method in SLACK_METHODS else "other"


class Metrics:
    """The counters one running bot moves. Each instance has its own CollectorRegistry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter("integration_bot_polls", "Poll cycles run", registry=r)
        self.poll_failures = Counter("integration_bot_poll_failures", "Poll cycles whose feed could not be read", registry=r)
        self.poll_duration = Histogram(
            "integration_bot_poll_duration_seconds",
            "Wall time of one poll cycle (fetch, compare, store, queue alerts)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=r,
        )
        self.slack_calls = Counter(
            "integration_bot_slack_api_calls",
            "Slack Web API calls by method and outcome (ok, ratelimited, error, network_error)",
            ["method", "outcome"],
            registry=r,
        )
        self.slack_ratelimited = Counter(
            "integration_bot_slack_ratelimited",
            "HTTP 429 answers from the Slack Web API, retried ones included",
            ["method"],
            registry=r,
        )
        self.slack_in_flight = Gauge(
            "integration_bot_slack_api_calls_in_flight", "Slack Web API calls waiting for an answer", registry=r
        )
        # Labels known up front appear at 0 from the first scrape.
        for method in sorted(SLACK_METHODS) + ["other"]:
            for outcome in SLACK_OUTCOMES:
                self.slack_calls.labels(method, outcome)

    def __deepcopy__(self, memo: dict[int, object]) -> "Metrics":
        # Bolt deep-copies the Web API client for each request; the copies count into the same registry.
        return self

    def record_poll(self, ok: bool, seconds: float) -> None:
        self.polls.inc()
        if not ok:
            self.poll_failures.inc()
        self.poll_duration.observe(seconds)

    def slack_call(self, method: str, outcome: str) -> None:
        self.slack_calls.labels(method_label(method), outcome).inc()

    def slack_429(self, method: str) -> None:
        self.slack_ratelimited.labels(method_label(method)).inc()

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """(body, Content-Type) of every figure in this registry, in the format the scraper's Accept header
        asks for (prometheus-client's negotiation): the Prometheus text format unless it asks for OpenMetrics."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type
