"""What /healthz says: is the bot doing its job?"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from storage.timefmt import iso

if TYPE_CHECKING:
    from bot.services import Services


def health(services: "Services") -> tuple[int, dict[str, object]]:
    """(HTTP status, JSON body). 200 while polling is fresh; 503 once no poll has succeeded for more than
    three intervals (SPEC.md). The body's `status` agrees with the code: "ok" (the latest poll worked),
    "degraded" (it failed, still within three intervals: 200), "failing" (503), "starting" (no poll yet,
    within three intervals). `problem` says why whenever the status is not "ok"."""
    now = services.clock()
    interval = timedelta(seconds=services.settings.poll_interval_seconds)
    feed = services.status.feed_health()
    last = services.store.last_poll()
    stale_after = 3 * interval + timedelta(seconds=30)
    reference = feed.checked_at or services.started_at
    healthy = now - reference <= stale_after
    running_since = services.poller.running_since
    problem = feed.problem
    if problem is None and running_since is not None and now - running_since > interval:
        problem = f"a poll has been waiting for the status feed since {iso(running_since)}"
    # Channels the bot cannot post in (channel id -> Slack's error): their alerts wait for an invitation.
    broken = services.store.broken_channels()
    if problem is None and broken:
        problem = f"cannot post in {len(broken)} channel(s); their alerts wait until the bot is invited"
    if not healthy:
        since = f"no good poll since {iso(feed.checked_at)}" if feed.checked_at else "no good poll yet"
        problem = f"{since}: {problem}" if problem else since
        state = "failing"
    elif problem is not None:
        state = "degraded"
    elif last is None:
        state = "starting"
    else:
        state = "ok"
    body: dict[str, object] = {
        "status": state,
        "problem": problem,
        "last_poll_at": iso(last.finished_at or last.started_at) if last else None,
        "last_good_poll_at": iso(feed.checked_at),
        "companies": services.store.company_count(),
        "failing_polls": feed.failing_polls,
        "poll_running_since": iso(running_since),
        "feed": services.feed.description,
        "feed_problem": feed.problem,
        "broken_channels": broken,
    }
    return (200 if healthy else 503), body
