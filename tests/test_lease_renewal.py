"""Leases renewed while their work runs, on the real PostgreSQL server: a Slack call or a feed that takes
longer than its lease keeps it, so no other process posts or polls a second time; a process that dies stops
renewing, and its work is taken over when the lease ends (bot/leases.py, storage/postgres/coordination.py).
Leases here are a second or two, not a minute, so the tests wait for real but briefly."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import polling
from bot.alerting import outbox
from bot.leases import LeaseLost, renewing, run_once
from storage.postgres.database import PostgresDatabase
from storage.postgres.store import PostgresStore, open_store
from tests.conftest import FakeClock, running_bot
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.practice import HOLDER, company
from tests.test_home import home_event

ALERTS = "C_ALERTS"
LEASE = 1.2  # seconds: renewed every 0.4 s


def _as_processes(*bots: Any) -> None:
    for number, bot in enumerate(bots):
        store = bot.services.store
        store.owner = f"host-{number}:{number}:x"  # one lease owner a process
        store.outbox_lease_seconds = LEASE


async def test_a_slack_call_slower_than_its_claim_keeps_it_and_the_alert_is_posted_once(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, postgres_url: str
) -> None:
    feed.companies.extend(company(f"x_{n}", f"Slow Client {n} Ltd") for n in range(2))
    settings = dict(alert_channel=ALERTS, database_url=postgres_url)
    async with (
        running_bot(tmp_path / "a", slack, feed, clock, background_delivery=False, **settings) as a,
        running_bot(tmp_path / "b", slack, feed, clock, background_delivery=False, **settings) as b,
    ):
        _as_processes(a, b)
        assert (await a.poll()).ok
        for record in feed.companies:
            if record["id"].startswith("x_"):
                record.update(integration_status="error", error={"kind": "synchronisation", "message": "Xero is unavailable"})
        clock.advance(minutes=1)
        assert (await a.poll()).ok
        slack.method_latency["chat.postMessage"] = 2.5 * LEASE  # each post outlives the claim it was sent under
        await asyncio.gather(a.services.deliverer.drain(timeout=30), b.services.deliverer.drain(timeout=30))
        assert a.services.store.pending_outbox_count() == 0
    posts = [post.args["text"] for post in slack.posts(ALERTS)]
    assert sorted(posts) == [
        f"Slow Client {n} Ltd: synchronisation error in Xero: Xero is unavailable" for n in range(2)
    ]  # none twice


async def test_a_feed_slower_than_the_poll_lease_keeps_it_and_three_processes_poll_once(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(polling, "POLL_LEASE_FACTOR", LEASE / 5)  # the lease: LEASE (a 5 s interval: a 5 s fetch deadline)
    settings = dict(database_url=postgres_url, poll_interval_seconds=5)
    async with (
        running_bot(tmp_path / "a", slack, feed, clock, **settings) as a,
        running_bot(tmp_path / "b", slack, feed, clock, **settings) as b,
        running_bot(tmp_path / "c", slack, feed, clock, **settings) as c,
    ):
        _as_processes(a, b, c)
        assert (await a.poll()).ok
        assert (await a.event(home_event(HOLDER))).status == 200  # HOLDER opened the App Home (published once)
        await slack.wait_for(lambda: (viewer := a.services.store.home_viewer(HOLDER[0])) and viewer.published_at)
        clock.advance(minutes=2)  # a minute since: a changing poll may refresh it
        feed.update("c_2", integration_status="error", error={"kind": "synchronisation", "message": "Xero is unavailable"})
        feed.requests.clear()
        feed.latency = 3 * LEASE  # the listing outlives the lease three times
        schedulers = [AsyncIOScheduler(timezone=timezone.utc) for _ in range(3)]
        for scheduler, bot in zip(schedulers, (a, b, c)):
            scheduler.start()
            polling.schedule_polling(scheduler, bot.services, "poll", datetime.now(timezone.utc))
        try:
            await slack.wait_for(lambda: len(slack.of("views.publish")) == 2, timeout=15)  # whoever polled
            await asyncio.sleep(LEASE)  # the others ask again, and are told when it is due: in an interval
        finally:
            for scheduler in schedulers:
                scheduler.shutdown(wait=False)
    listings = [path for path in feed.requests if path.startswith("/companies")]
    assert len(listings) == 1
    # The poll's after-steps (App Home refresh, reminders, lapsed subscriptions) ran once, in the process that polled.
    assert [call.args["user_id"] for call in slack.of("views.publish")] == [HOLDER[0], HOLDER[0]]


async def test_a_dead_process_stops_renewing_and_its_claim_and_poll_are_taken_over_when_the_lease_ends(
    postgres_url: str,
) -> None:
    a, b = open_store(postgres_url), open_store(postgres_url)
    assert isinstance(a, PostgresStore) and isinstance(b, PostgresStore)
    a.owner, b.owner = "host:1:a", "host:2:b"
    a.outbox_lease_seconds = b.outbox_lease_seconds = LEASE
    try:
        a.enqueue(outbox.post("C_A", 1), datetime.now(timezone.utc))
        ((head, _),) = a.channel_queue("C_A")
        a_poll = a.for_workspace("T_ONE")
        assert a.claim_outbox_row(head) is not None and a_poll.claim_poll(LEASE) == 0.0

        async def works_for_a_while() -> None:
            async with renewing(lambda: a.renew_outbox_claim(head.id), LEASE, "row"):
                async with renewing(lambda: a_poll.renew_poll(LEASE), LEASE, "poll"):
                    await asyncio.sleep(60)

        working = asyncio.create_task(works_for_a_while())
        await asyncio.sleep(3 * LEASE)  # three leases: held all along, by renewals
        assert b.claim_outbox_row(head) is None and b.for_workspace("T_ONE").claim_poll(LEASE) > 0
        working.cancel()  # kill -9: nothing of it runs again, and it ends no lease
        cast(PostgresDatabase, a.db).conn.close()
        killed = time.monotonic()
        while b.claim_outbox_row(head) is None and time.monotonic() - killed < 10 * LEASE:
            await asyncio.sleep(0.1)
        taken = b.claim_outbox_row(head)
        assert taken is not None and taken.key == head.key
        assert b.for_workspace("T_ONE").claim_poll(LEASE) == 0.0
    finally:
        b.close()


async def test_work_whose_lease_is_taken_over_is_cancelled_and_says_so() -> None:
    renewals: list[bool] = []

    def renew() -> bool:
        renewals.append(len(renewals) < 1)  # held at the first renewal, gone at the second
        return renewals[-1]

    done = False
    with pytest.raises(LeaseLost):
        async with renewing(renew, 0.15, "the test's work"):
            await asyncio.sleep(5)
            done = True
    assert renewals == [True, False] and not done
    await asyncio.sleep(0)  # the task is usable after: the cancel was taken back
    assert not asyncio.current_task().cancelling()  # type: ignore[union-attr]


async def test_a_periodic_job_runs_in_one_of_three_processes_and_after_a_killed_one_when_its_lease_ends(
    postgres_url: str,
) -> None:
    stores = [open_store(postgres_url).for_workspace("T_ONE") for _ in range(3)]
    for number, store in enumerate(stores):
        setattr(store, "owner", f"host:{number}:x")
    ran: list[int] = []

    async def digests(number: int) -> None:
        ran.append(number)
        await asyncio.sleep(0.3)

    results = await asyncio.gather(*(run_once(s, "digests", 60, lambda n=n: digests(n)) for n, s in enumerate(stores)))
    assert sorted(results) == [False, False, True] and len(ran) == 1
    assert not any(await asyncio.gather(*(run_once(s, "digests", 60, lambda: digests(9)) for s in stores)))  # ran lately
    # A process dies mid-job: the job is run by another once its lease (its period, here 2 s) ends.
    holder = open_store(postgres_url).for_workspace("T_TWO")
    setattr(holder, "owner", "host:dead:x")
    assert holder.claim_job("home", 2, 2)
    cast(PostgresDatabase, holder.db).conn.close()
    assert not await run_once(stores[0].for_workspace("T_TWO"), "home", 2, lambda: digests(5))
    began = time.monotonic()
    other = stores[1].for_workspace("T_TWO")
    while not await run_once(other, "home", 2, lambda: digests(6)) and time.monotonic() - began < 20:
        await asyncio.sleep(0.2)
    assert ran[-1] == 6
    for store in stores:
        store.close()
