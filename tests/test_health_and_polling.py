"""`GET /healthz` and what a poll stores."""

from __future__ import annotations

from tests.conftest import Bot, FakeClock
from tests.fakes.feed_server import FakeFeed


async def health(bot: Bot) -> tuple[int, dict]:
    async with bot.http.get(f"{bot.base_url}/healthz") as response:
        return response.status, await response.json()


async def test_healthz_is_200_while_polls_are_fresh(bot: Bot) -> None:
    status, body = await health(bot)
    assert status == 200
    assert body["status"] == "ok" and body["companies"] == 10 and body["last_poll_at"].startswith("2026-11-25T10:00")


async def test_healthz_turns_503_after_three_failing_intervals(bot: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    feed.fail_next = [(502, "{}")] * 100
    clock.advance(seconds=60)
    await bot.poll()
    status, body = await health(bot)
    assert status == 200 and body["status"] == "degraded" and "HTTP 502" in body["feed_problem"]
    for _ in range(3):
        clock.advance(seconds=60)
        await bot.poll()
    status, body = await health(bot)
    assert status == 503 and body["status"] == "failing" and body["failing_polls"] == 4
    assert body["companies"] == 10  # the last good state is kept
    feed.fail_next = []
    clock.advance(seconds=60)
    await bot.poll()
    assert (await health(bot))[0] == 200


async def test_status_since_moves_only_when_the_status_changes(bot: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    first = bot.services.store.company("c_1")
    clock.advance(minutes=5)
    feed.update("c_1", publication_errors=5)
    outcome = await bot.poll()
    assert [change.after.id for change in outcome.changes] == ["c_1"]
    after = bot.services.store.company("c_1")
    assert after is not None and first is not None
    assert after.status_since == first.status_since and after.status.publication_errors == 5
    clock.advance(minutes=5)
    feed.update("c_1", integration_status="integrated", error=None)
    await bot.poll()
    cleared = bot.services.store.company("c_1")
    assert cleared is not None and cleared.status_since == clock.now


async def test_an_unchanged_feed_writes_nothing(bot: Bot) -> None:
    outcome = await bot.poll()
    assert outcome.ok and outcome.changes == []
