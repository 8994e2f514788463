"""Leases kept while their work runs, and periodic jobs run by one process at a time (docs/scaling-out.md).

A poll, an outbox row's send or a periodic job may outlive its lease (a slow feed, a slow Slack): while it
runs, its lease is renewed every third of its length, so no other process takes the work over and does it
twice. A process that dies stops renewing, and the others take over when the lease ends. A renewal that
finds the lease gone (the process was paused past it, or the database was unreachable that long) cancels
the work: another process has it now.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable

from storage.ports import Coordination

log = logging.getLogger(__name__)

# The periodic jobs, each run by one process at a time per workspace (bot/app.py schedules them this often).
DIGESTS_EVERY_SECONDS = 60.0  # queue the daily digests that are due
TOKENS_EVERY_SECONDS = 600.0  # renew rotating bot tokens that expire soon
PURGE_EVERY_SECONDS = 3600.0  # delete the data of workspaces uninstalled 30 days ago
# A lease is renewed this many times in its length: two renewals may fail (a slow database) before it ends.
RENEWALS_PER_LEASE = 3


class LeaseLost(Exception):
    """The work's lease was taken over by another process while it ran: the work was cancelled."""


@asynccontextmanager
async def renewing(renew: Callable[[], bool], lease_seconds: float, what: str) -> AsyncIterator[None]:
    """Run the body while `renew()` (True: still held) is called every `lease_seconds / RENEWALS_PER_LEASE`.
    A renewal that raises is tried again at the next; one that returns False cancels the body, which then
    raises LeaseLost. On SQLite `renew` always says True."""
    body = asyncio.current_task()
    lost = False

    async def keep() -> None:
        nonlocal lost
        while True:
            await asyncio.sleep(lease_seconds / RENEWALS_PER_LEASE)
            try:
                held = renew()
            except Exception as exc:  # the database is away for now: the lease may still be ours
                log.warning("Could not renew the lease of %s (%s); trying again", what, exc)
                continue
            if not held:
                lost = True
                log.warning("The lease of %s was taken over by another process; stopping it here", what)
                if body is not None:
                    body.cancel()
                return

    keeper = asyncio.create_task(keep())
    try:
        yield
    except asyncio.CancelledError:
        if not lost or body is None:
            raise
        body.uncancel()
        raise LeaseLost(what) from None
    else:
        if lost and body is not None and body.cancelling():
            body.uncancel()  # the body swallowed the cancel and finished: take it back all the same
    finally:
        keeper.cancel()


async def run_once(store: Coordination, job: str, every_seconds: float, work: Callable[[], Awaitable[object]]) -> bool:
    """Run periodic `job` of the workspace of `store` if no process ran it in the last `every_seconds` and no
    live process runs it now (several processes on PostgreSQL; always on SQLite): True when it ran here.
    The job's lease is `every_seconds`, renewed while it runs; a process killed mid-job has it run by
    another within two periods."""
    if not store.claim_job(job, every_seconds, every_seconds):
        return False
    try:
        async with renewing(
            lambda: store.renew_job(job, every_seconds), every_seconds, f"{job} of {store.workspace or 'the bot'}"
        ):
            await work()
    except LeaseLost:
        return False
    finally:
        store.finish_job(job)
    return True
