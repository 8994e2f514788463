"""What /healthz says: is the bot doing its job?"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from storage.timefmt import iso

if TYPE_CHECKING:
    from bot.services import Services


def health(services: "Services") -> tuple[int, dict[str, object]]:
    """200 while polling is fresh; 503 once it has been failing for more than three intervals."""
    now = services.clock()
    interval = timedelta(seconds=services.settings.poll_interval_seconds)
    feed = services.status.feed_health()
    last = services.store.last_poll()
    stale_after = 3 * interval + timedelta(seconds=30)
    reference = feed.checked_at or services.started_at
    healthy = now - reference <= stale_after
    broken = services.store.broken_channels()
    if last is None:
        state = "starting"
    elif feed.problem is None:
        state = "degraded" if broken else "ok"
    else:
        state = "degraded" if healthy else "failing"
    body: dict[str, object] = {
        "status": state,
        "last_poll_at": iso(last.finished_at or last.started_at) if last else None,
        "last_good_poll_at": iso(feed.checked_at),
        "companies": services.store.company_count(),
        "failing_polls": feed.failing_polls,
        "feed": services.feed.description,
        "feed_problem": feed.problem,
        # Channels the bot cannot post in (channel id -> Slack's error): their alerts wait for an invitation.
        "broken_channels": broken,
    }
    return (200 if healthy else 503), body
