"""Two bots on one PostgreSQL database, both delivering: every alert is posted once, in order, whichever
sends it (outbox rows claimed under a lease, storage/postgres/store.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.polling import claim_and_poll
from tests.blockkit import all_text
from tests.conftest import FakeClock, running_bot
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.practice import company

ALERTS = "C_ALERTS"


async def test_two_processes_deliver_a_storm_once(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, postgres_url: str
) -> None:
    feed.companies.extend(company(f"x_{n}", f"Storm Client {n:03d} Ltd") for n in range(120))
    settings = dict(alert_channel=ALERTS, database_url=postgres_url)
    async with (
        running_bot(tmp_path / "a", slack, feed, clock, **settings) as a,
        running_bot(tmp_path / "b", slack, feed, clock, **settings) as b,
    ):
        setattr(a.services.store, "owner", "host-a:1:a")  # two processes: two lease owners
        setattr(b.services.store, "owner", "host-b:2:b")
        assert (await a.poll()).ok  # the baseline
        for record in feed.companies:
            if record["id"].startswith("x_"):
                record.update(integration_status="error", error={"kind": "synchronisation", "message": "Xero is unavailable"})
        clock.advance(minutes=1)
        assert (await b.poll()).ok  # either process polls; both deliver
        await asyncio.gather(a.services.deliverer.drain(timeout=20), b.services.deliverer.drain(timeout=20))
        assert a.services.store.pending_outbox_count() == 0
    assert len(slack.posts()) == 4  # one post and three replies, between the two
    (top,) = slack.posts(ALERTS, top_level=True)
    assert top.args["text"] == "120 companies went wrong at once (1 kind of problem)"
    replies = slack.posts(ALERTS, top_level=False)
    listed = [all_text(reply.args) for reply in replies]
    assert len(listed) == len(set(listed)) == 3  # 40 companies a reply, none twice
    assert all(f"Storm Client {n:03d} Ltd" in "\n".join(listed) for n in range(120))


async def test_a_process_that_polls_after_another_compares_with_what_the_other_stored(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, postgres_url: str
) -> None:
    """A goes wrong in b's poll and comes back in a's: a, whose last listing said it was fine, tells the recovery."""
    settings = dict(alert_channel=ALERTS, database_url=postgres_url)
    async with (
        running_bot(tmp_path / "a", slack, feed, clock, **settings) as a,
        running_bot(tmp_path / "b", slack, feed, clock, **settings) as b,
    ):
        setattr(a.services.store, "owner", "host-a:1:a")
        setattr(b.services.store, "owner", "host-b:2:b")
        assert (await a.poll()).ok  # the baseline: Bright & Sons integrated
        feed.update("c_2", integration_status="error", error={"kind": "synchronisation", "message": "Token Required"})
        clock.advance(minutes=1)
        assert (await b.poll()).ok
        await b.services.deliverer.drain(timeout=10)
        feed.update("c_2", integration_status="integrated", error=None)  # the very listing a saw last time
        clock.advance(minutes=30)
        assert (await a.poll()).ok
        await a.services.deliverer.drain(timeout=10)
    (alert,) = slack.posts(ALERTS, top_level=True)
    assert alert.args["text"].startswith("Bright &amp; Sons: ")
    (reply,) = slack.posts(ALERTS, top_level=False)
    assert reply.args["text"] == "Resolved: Bright &amp; Sons is working again after 30 min."


async def test_a_stopping_process_leaves_a_due_workspace_for_the_others(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, postgres_url: str
) -> None:
    """A poll job that gets its turn while its process stops neither polls nor moves the workspace's next poll on."""
    async with (
        running_bot(tmp_path / "a", slack, feed, clock, database_url=postgres_url) as a,
        running_bot(tmp_path / "b", slack, feed, clock, database_url=postgres_url) as b,
    ):
        setattr(a.services.store, "owner", "host-a:1:a")
        setattr(b.services.store, "owner", "host-b:2:b")
        a.services.poller.stop()
        assert await claim_and_poll(a.services, 300) == 300
        assert a.services.store.last_poll() is None
        assert await claim_and_poll(b.services, 300) == 300  # still due: b polls it now, the next in an interval
        last = b.services.store.last_poll()
        assert last is not None and last.ok
        assert await claim_and_poll(a.services, 300) == 300 and await claim_and_poll(b.services, 300) > 200
