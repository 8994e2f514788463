"""Each practice's poll schedule: one job per workspace, each poll scheduled from the end of the one before."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.leases import LeaseLost, renewing
from bot.practice.feed import fetch_deadline
from bot.practice.poller import PollOutcome, next_poll_delay
from bot.services import Services

# A poll lease lasts this many fetch deadlines, at most one interval, and is renewed every third of it while
# the poll runs (bot/leases.py): a process killed mid-poll has its workspace polled by another within one
# interval (docs/scaling-out.md).
POLL_LEASE_FACTOR = 2
# Polls one process runs at once (many workspaces). A process claims a due workspace only when it has a slot
# free, so several processes share a round by how fast each gets through its polls, instead of the first to
# start claiming every workspace and working through them alone (bench/bench_pg_scale.py). Enough that
# feeds far away, or a few hanging ones, do not hold the others up.
POLL_SLOTS = 32
# A process that did not make a workspace's last poll waits this long before asking for a due one, so the one
# that did, whose poll is cheap (its last listing is still the database's: unchanged records are not compared),
# polls it again when it has a slot free; a busy one leaves it to the others (bench/bench_pg_scale.py).
HANDOFF_SECONDS = 2.0


def schedule_polling(
    scheduler: AsyncIOScheduler, services: Services, job_id: str, first_at: datetime, slots: asyncio.Semaphore | None = None
) -> None:
    """Polls `services` as its own job, `job_id`: first at `first_at`, then each poll scheduled from the end
    of the one before (next_poll_delay), so one that takes long or fails is never followed at once by
    another, and a workspace whose feed hangs holds up only its own job (APScheduler runs each coroutine job
    as its own task). With `slots`, the claim and the poll wait for one of them."""
    interval = services.settings.poll_interval_seconds

    async def scheduled_poll() -> None:
        delay: float = interval
        try:
            if slots is not None and services.settings.database_url and not services.poller.polled_last():
                await asyncio.sleep(HANDOFF_SECONDS)  # the process that polled it last goes first
            async with slots or contextlib.nullcontext():
                delay = await claim_and_poll(services, interval, job_id)
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


async def claim_and_poll(services: Services, interval: float, job_id: str = "poll") -> float:
    """Polls the workspace if this process gets its lease (several processes on PostgreSQL: one polls it an
    interval), renewing the lease while the poll runs; the seconds until the job should run again."""
    if not services.poller.polling:
        return interval  # stopping: the workspace stays due, for another process
    lease = min(POLL_LEASE_FACTOR * fetch_deadline(interval), float(interval))
    wait = services.store.claim_poll(lease)
    if wait > 0:
        return wait
    outcome: PollOutcome | None = None
    lost = False
    try:  # a poll that outlives its lease (a slow feed) renews it: no other process polls meanwhile
        async with renewing(lambda: services.store.renew_poll(lease), lease, f"the poll of {job_id}"):
            outcome = await services.poller.poll_once()
    except LeaseLost:
        lost = True  # another process polls it now; this poll's changes are saved all the same (idempotent)
    finally:
        # A poll the process's stop cut short leaves the workspace due now, not an interval on.
        polled = lost or (outcome is not None and (outcome.ok or services.poller.polling))
        delay = next_poll_delay(services.poller.consecutive_failures, interval) if polled else 0.0
        services.store.finish_poll(delay)
    return delay


def poll_job(workspace: str) -> str:
    return f"poll:{workspace}"
