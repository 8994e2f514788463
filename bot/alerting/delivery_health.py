"""Is the outbox reaching Slack? What each delivery attempt came to, kept in memory for /healthz and /metrics.

Pure bookkeeping: the deliverer reports each attempt's outcome (`sent`, `failed`); `bot.health` judges it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.slack.error_names import OUTAGE_ERRORS, TOKEN_ERRORS

# Errors that say Slack as a whole is out of reach for this bot (a revoked token, an outage), as opposed
# to one channel's problem (channel_not_found, not_in_channel, is_archived) or a 429, which is Slack pacing
# a healthy bot. Names: https://api.slack.com/methods/chat.postMessage#errors
SYSTEMIC_ERRORS = TOKEN_ERRORS | OUTAGE_ERRORS | frozenset({"missing_scope", "network_error"})


def is_systemic(error: str) -> bool:
    """True for an error that every post would meet (auth, outage, no network), not one channel's."""
    return error in SYSTEMIC_ERRORS or error.startswith("http_5")


@dataclass
class DeliveryHealth:
    """Outcomes of delivery attempts since start: counts, the last success and the current failure streak."""

    sent: int = 0
    failed: int = 0  # attempts that met an error, retried or not
    gave_up: int = 0  # rows marked failed for good
    last_sent_at: datetime | None = None
    consecutive_failures: int = 0  # systemic failures since the last success
    failing_since: datetime | None = None  # the first of them
    last_error: str | None = None

    def record_sent(self, now: datetime) -> None:
        self.sent += 1
        self.last_sent_at = now
        self.consecutive_failures = 0
        self.failing_since = None

    def record_failed(self, now: datetime, error: str, *, final: bool) -> None:
        self.failed += 1
        self.gave_up += int(final)
        self.last_error = error
        if is_systemic(error):
            self.consecutive_failures += 1
            if self.failing_since is None:
                self.failing_since = now

    def all_failing_for(self, now: datetime) -> timedelta:
        """How long every attempt has failed (zero while the last one succeeded or none failed)."""
        return now - self.failing_since if self.failing_since is not None else timedelta(0)
