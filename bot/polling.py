"""Each practice's poll schedule: one job per workspace, each poll scheduled from the end of the one before."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.leases import LeaseLost, renewing
from bot.practice.feed import fetch_deadline
from bot.practice.poller import next_poll_delay
from bot.services import Services

# A poll lease lasts this many fetch deadlines, at most one interval, and is renewed every third of it while
# the poll runs (bot/leases.py): a process killed mid-poll has its workspace polled by another within one
# interval (docs/scaling-out.md).
POLL_LEASE_FACTOR = 2


def schedule_polling(scheduler: AsyncIOScheduler, services: Services, job_id: str, first_at: datetime) -> None:
    """Polls `services` as its own job, `job_id`: first at `first_at`, then each poll scheduled from the end
    of the one before (next_poll_delay), so one that takes long or fails is never followed at once by
    another, and a workspace whose feed hangs holds up only its own job (APScheduler runs each coroutine job
    as its own task)."""
    interval = services.settings.poll_interval_seconds

    async def scheduled_poll() -> None:
        delay: float = interval
        try:
            # Several processes on PostgreSQL: one polls the workspace an interval; the others ask again when due.
            lease = min(POLL_LEASE_FACTOR * fetch_deadline(interval), float(interval))
            wait = services.store.claim_poll(lease)
            if wait > 0:
                delay = wait
            else:
                try:  # a poll that outlives its lease (a slow feed) renews it: no other process polls meanwhile
                    async with renewing(lambda: services.store.renew_poll(lease), lease, f"the poll of {job_id}"):
                        await services.poller.poll_once()
                except LeaseLost:
                    pass  # another process polls it now; this poll's changes are saved all the same (idempotent)
                finally:
                    delay = next_poll_delay(services.poller.consecutive_failures, interval)
                    services.store.finish_poll(delay)
        finally:
            if scheduler.running and services.poller.polling:
                scheduler.add_job(
                    scheduled_poll,
                    "date",
                    run_date=datetime.now(timezone.utc) + timedelta(seconds=delay),
                    id=job_id,
                    replace_existing=True,
                    misfire_grace_time=None,
                )

    scheduler.add_job(scheduled_poll, "date", run_date=first_at, id=job_id, replace_existing=True, misfire_grace_time=None)


def poll_job(workspace: str) -> str:
    return f"poll:{workspace}"
