"""A hostile status feed, over the real poll path: one bad record, a missing company, a duplicate id, a hung
page or an endless cursor must not silence alerts, lie in /healthz or hammer the feed."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.alerting.messages import CHECK_ACTION
from bot.app import build_scheduler, next_poll_delay
from bot.practice.models import MAX_MESSAGE_LENGTH
from tests.blockkit import all_text
from tests.conftest import Bot, FakeClock, poll_and_deliver, running_bot
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.practice import ALERTS

DUPLICATE = {"kind": "publication", "message": "Invoice/Bill Already Exists in Xero"}


async def health(bot: Bot) -> tuple[int, dict[str, Any]]:
    async with bot.http.get(f"{bot.base_url}/healthz") as response:
        return response.status, await response.json()


def card_text(answer: dict[str, Any]) -> str:
    return str(answer["blocks"])


def check_value(post: Any) -> str:
    for block in post.args["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == CHECK_ACTION:
                return element["value"]
    raise AssertionError("no Check again button")


# --- 1. a value the storage cannot hold; any exception inside a poll ------------------------------------


@pytest.mark.parametrize("huge", [1e300, 10**30])
async def test_a_number_sqlite_cannot_hold_stops_nothing(alerting: Bot, feed: FakeFeed, clock: FakeClock, huge: Any) -> None:
    feed.update("c_3", publication_errors=huge)
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    outcome = await poll_and_deliver(alerting, clock)
    assert outcome.ok
    (post,) = alerting.slack.posts(ALERTS)
    assert post.args["text"].startswith("Bright &amp; Sons: publication error")
    status, body = await health(alerting)
    assert status == 200 and body["status"] == "ok" and body["failing_polls"] == 0
    assert "1000000000" in card_text(await alerting.slash("Carter Plumbing"))  # clamped, and said so in the log


@pytest.mark.parametrize("bad", [float("nan"), -3, True, "many"])
async def test_a_nonsense_count_makes_that_record_bad_and_the_rest_count(
    alerting: Bot, feed: FakeFeed, clock: FakeClock, bad: Any
) -> None:
    feed.update("c_3", publication_errors=bad, integration_status="integrated", error=None)
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    outcome = await poll_and_deliver(alerting, clock)
    assert outcome.ok and len(outcome.skipped) == 1
    (post,) = alerting.slack.posts(ALERTS)
    assert post.args["text"].startswith("Bright &amp; Sons")
    assert "Home page status: Error" in card_text(await alerting.slash("Carter Plumbing"))  # its last known state


async def test_an_exception_inside_a_poll_is_a_failed_poll_rolled_back_and_healthz_says_why(
    alerting: Bot, feed: FakeFeed, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = alerting.services.store
    feed.update("c_2", integration_status="error", error=DUPLICATE)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(alerting.services.alerts, "_queue", broken)
    outcome = await poll_and_deliver(alerting, clock)
    assert not outcome.ok and "OverflowError" in (outcome.error or "")
    assert alerting.slack.posts() == [] and store.open_incidents() == []  # rolled back, all of it
    assert "Home page status: Integrated" in card_text(await alerting.slash("Bright & Sons"))
    status, body = await health(alerting)
    assert status == 200 and body["status"] == "degraded" and body["failing_polls"] == 1
    assert "storing the poll failed: OverflowError" in body["problem"]
    for _ in range(4):
        await poll_and_deliver(alerting, clock)
    status, body = await health(alerting)
    assert status == 503 and body["status"] == "failing" and "OverflowError" in body["problem"]

    monkeypatch.undo()
    await poll_and_deliver(alerting, clock)
    assert [p.args["text"][:18] for p in alerting.slack.posts(ALERTS)][-1] == "Bright &amp; Sons:"
    status, body = await health(alerting)
    assert status == 200 and body["status"] == "ok" and body["problem"] is None


# --- 2. an over-long text ------------------------------------------------------------------------------------


async def test_an_over_long_error_message_is_shortened_and_alerted(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    message = "Line 1: Account Code 4010 is not valid for this document. " + "Tax rate missing on line. " * 92
    assert len(message) > 2400
    feed.update(
        "c_2", integration_status="error", error={"kind": "publication", "message": message}, name="Bright & Sons " + "x" * 300
    )
    outcome = await poll_and_deliver(alerting, clock)
    assert outcome.ok and outcome.skipped == []
    (post,) = alerting.slack.posts(ALERTS)
    assert "Line 1: Account Code 4010 is not valid" in all_text(post.args)
    card = card_text(await alerting.slash("Bright & Sons"))
    assert "Home page status: Error" in card and "Line 1: Account Code 4010" in card and "…" in card
    stored = alerting.services.store.company("c_2")
    assert stored is not None and stored.status.error is not None and len(stored.status.error.message) <= MAX_MESSAGE_LENGTH
    # The same long message at the next poll is the same problem: nothing new is said.
    await poll_and_deliver(alerting, clock)
    assert len(alerting.slack.posts(ALERTS)) == 1


# --- 3. a company missing from one listing --------------------------------------------------------------------


async def test_a_company_missing_from_one_listing_keeps_its_state_and_its_alert(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    (post,) = slack.posts(ALERTS)
    feed.hidden = {"c_2"}
    await poll_and_deliver(alerting, clock)
    card = card_text(await alerting.slash("Bright & Sons"))
    assert "Home page status: Error" in card and "left this company out of its listings since" in card
    feed.hidden = set()
    await poll_and_deliver(alerting, clock)
    assert slack.posts(ALERTS) == [post]  # no "Closed", no second alert
    assert not any(call.args["text"].startswith(("Resolved", "Closed")) for call in slack.of("chat.update"))
    (incident,) = alerting.services.store.open_incidents()
    assert incident.company_id == "c_2"
    card = card_text(await alerting.slash("Bright & Sons"))
    assert "Home page status: Error" in card and "left this company out" not in card
    # Cleared later: the very same alert says so.
    feed.update("c_2", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    assert slack.of("chat.update")[-1].args["text"].startswith("Resolved: Bright &amp; Sons")


async def test_a_company_missing_for_a_whole_day_is_closed_as_removed(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    feed.hidden = {"c_2"}
    await poll_and_deliver(alerting, clock)
    await poll_and_deliver(alerting, clock, minutes=23 * 60)
    assert slack.posts(ALERTS, top_level=False) == []
    await poll_and_deliver(alerting, clock, minutes=60)
    (reply,) = slack.posts(ALERTS, top_level=False)
    assert reply.args["text"].startswith("Closed: Bright &amp; Sons is no longer in the status feed")
    assert alerting.services.store.open_incidents() == []
    assert "Bright" not in card_text(await alerting.slash("list"))

    # Back later with the same problem: the same incident, open again, in the same message.
    feed.hidden = set()
    await poll_and_deliver(alerting, clock, minutes=60)
    (post,) = slack.posts(ALERTS, top_level=True)
    back = slack.posts(ALERTS, top_level=False)[-1]
    assert back.args["text"].startswith("Back in the status feed, and still the same problem: Bright &amp; Sons")
    assert not slack.of("chat.update")[-1].args["text"].startswith(("Resolved", "Closed"))
    (incident,) = alerting.services.store.open_incidents()
    assert incident.company_id == "c_2"
    # And it resolves as usual.
    feed.update("c_2", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    assert slack.of("chat.update")[-1].args["text"].startswith("Resolved: Bright &amp; Sons")


# --- 4. a duplicate id whose records disagree -------------------------------------------------------------------


async def test_records_that_disagree_about_one_id_keep_its_last_state_and_alert_nothing(
    alerting: Bot, feed: FakeFeed, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    healthy = dict(feed.company("c_2"))
    broken = {**healthy, "integration_status": "error", "error": DUPLICATE}
    caplog.set_level(logging.WARNING, logger="bot.practice.poller")
    for turn in range(6):
        others = [c for c in feed.companies if c["id"] != "c_2" and not c["id"].startswith("dup")]
        feed.companies = others + ([healthy, broken] if turn % 2 else [broken, healthy])
        outcome = await poll_and_deliver(alerting, clock, minutes=0.1)
        assert outcome.ok and "c_2" in outcome.skipped_ids
    assert alerting.slack.posts() == [] and alerting.slack.of("chat.update") == []
    assert "Home page status: Integrated" in card_text(await alerting.slash("Bright & Sons"))
    said = [r.getMessage() for r in caplog.records if "disagree" in r.getMessage()]
    assert len(said) == 1 and "'c_2'" in said[0]
    # Once the feed agrees with itself again, the company is judged as usual.
    feed.companies = [c for c in feed.companies if c is not healthy]
    await poll_and_deliver(alerting, clock)
    (post,) = alerting.slack.posts(ALERTS)
    assert post.args["text"].startswith("Bright &amp; Sons: publication error")


# --- 5. a hung feed ---------------------------------------------------------------------------------------------


async def test_a_hung_page_fails_the_poll_at_its_deadline_and_check_again_answers_at_once(
    alerting: Bot, feed: FakeFeed, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.alerting import actions as alert_actions

    slack = alerting.slack
    poller = alerting.services.poller
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    (post,) = slack.posts(ALERTS)

    alerting.services.feed.fetch_deadline = 1.5  # type: ignore[attr-defined]
    monkeypatch.setattr(alert_actions, "CHECK_AGAIN_WAIT", alert_actions.timedelta(seconds=0.3))
    feed.drip_seconds = 0.5
    clock.advance(minutes=0.5)
    hung = asyncio.create_task(alerting.poll())
    await slack.wait_for(lambda: poller.running_since is not None)
    clock.advance(minutes=1.1)  # the poll is still waiting on the feed, longer than the interval
    status, body = await health(alerting)
    assert status == 200 and body["status"] == "degraded" and "waiting for the status feed" in body["problem"]

    await alerting.click(CHECK_ACTION, check_value(post), channel=ALERTS, message=slack.channels_history[ALERTS][0])
    checking, answer = await slack.wait_for_responses(2)
    assert checking.args["text"] == "Checking the status feed now…"
    assert answer.args["text"].startswith("The status feed is not answering (no answer within 0.3 s)")
    assert "the last good data is from 10:01 UTC on 25 Nov" in answer.args["text"]
    assert not hung.done()  # both answers came while the poll was still hanging

    outcome = await hung
    assert not outcome.ok and "deadline" in (outcome.error or "")
    status, body = await health(alerting)
    assert body["status"] == "degraded" and "deadline" in body["problem"] and body["failing_polls"] == 1
    assert slack.posts(ALERTS) == [post]  # a feed outage is not a company outage

    feed.drip_seconds = None
    feed.update("c_2", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    assert slack.of("chat.update")[-1].args["text"].startswith("Resolved: Bright &amp; Sons")
    assert (await health(alerting))[1]["status"] == "ok"


def test_failed_polls_back_off_up_to_the_interval() -> None:
    assert next_poll_delay(0, 300) == 300
    assert [next_poll_delay(n, 300) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert next_poll_delay(5, 1) == 1


# --- 6. an endless cursor ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["same", "new"])
async def test_an_endless_cursor_is_stopped_after_a_few_pages(alerting: Bot, feed: FakeFeed, clock: FakeClock, kind: str) -> None:
    feed.page_size = 3
    assert (await poll_and_deliver(alerting, clock)).ok  # four pages, read whole
    feed.endless_cursor = kind
    before = len(feed.requests)
    outcome = await poll_and_deliver(alerting, clock)
    assert not outcome.ok and "endless" in (outcome.error or "")
    pages = len(feed.requests) - before - 1  # less the account
    assert pages <= 2 * 4 + 2
    status, body = await health(alerting)
    assert body["status"] == "degraded" and "endless" in body["problem"]
    assert alerting.slack.posts() == []
    assert alerting.services.store.company_count() == 10  # nothing erased, nothing added


async def test_one_company_a_page_an_endless_cursor_is_still_stopped_by_pages(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    feed.page_size = 1
    assert (await poll_and_deliver(alerting, clock)).ok  # ten pages, read whole
    feed.endless_cursor = "new"
    before = len(feed.requests)
    assert not (await poll_and_deliver(alerting, clock)).ok
    assert (
        len(feed.requests) - before - 1 <= 2 * 10 + 2 + 1
    )  # pages (less the account): GROWTH_FACTOR x 10 records + 2 of the first page, and the page past it


async def test_the_first_listing_after_a_restart_is_bounded_by_the_practice_the_database_knows(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    feed.page_size = 1
    async with running_bot(tmp_path, slack, feed, clock) as bot:
        assert (await bot.poll()).ok
    feed.endless_cursor = "new"
    async with running_bot(tmp_path, slack, feed, clock) as bot:  # a restart: the feed object is new
        before = len(feed.requests)
        outcome = await bot.poll()
    assert not outcome.ok and "endless" in (outcome.error or "")
    assert len(feed.requests) - before - 1 <= 2 * 10 + 2 * 1 + 1


async def test_a_page_that_never_stops_sending_is_refused_at_a_size_not_read_into_memory(
    alerting: Bot, feed: FakeFeed, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.practice import feed as feed_module

    monkeypatch.setattr(feed_module, "MAX_PAGE_BYTES", 256 * 1024)
    feed.endless_body = True
    try:
        outcome = await poll_and_deliver(alerting, clock)
    finally:
        feed.endless_body = False
    assert not outcome.ok and "bytes" in (outcome.error or "")
    assert alerting.services.store.company_count() == 10  # the last good state stays
    assert (await poll_and_deliver(alerting, clock)).ok


class RealClock(FakeClock):
    def __call__(self) -> datetime:
        return datetime.now(timezone.utc)


async def test_failing_polls_on_the_schedule_do_not_hammer_the_feed(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.practice.poller")
    async with running_bot(tmp_path, slack, feed, RealClock(), poll_interval_seconds=1) as bot:
        assert (await bot.poll()).ok
        feed.endless_cursor = "new"
        before = len(feed.requests)
        scheduler = build_scheduler(bot.services)
        scheduler.start()
        try:
            started = asyncio.get_running_loop().time()
            await asyncio.sleep(3.2)
            elapsed = asyncio.get_running_loop().time() - started
        finally:
            scheduler.shutdown(wait=False)
        await slack.wait_for(lambda: bot.services.poller.running_since is None)
    requests = len(feed.requests) - before
    polls = bot.services.poller.consecutive_failures
    assert polls >= 2
    # The listing is one page (and the account): at most two requests per page per interval.
    assert requests <= 2 * 2 * (int(elapsed) + 1)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Polling failed")]
    assert len(said) == 1  # one line when polling started failing, not one per try


async def test_a_poll_hanging_when_the_bot_stops_is_cancelled_before_the_database_closes(
    tmp_path: Path,
    slack: FakeSlack,
    feed: FakeFeed,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGTERM's grace ends a poll that hangs on its feed: cancelled (having written nothing), not left to write
    to the database closed after the grace."""
    monkeypatch.setattr("bot.app.STOP_GRACE_SECONDS", 0.3)
    caplog.set_level(logging.WARNING)
    async with running_bot(tmp_path, slack, feed, clock) as bot:
        await bot.services.poller.poll_once()
        runs = bot.services.store.db.execute("select count(*) from poll_runs").fetchone()[0]
        asked = len([r for r in feed.requests if "/companies" in r])
        feed.drip_seconds = 0.5  # a page's headers, then a byte every half second: a hanging feed
        hanging = asyncio.create_task(bot.services.poller.poll_once())
        await slack.wait_for(lambda: len([r for r in feed.requests if "/companies" in r]) > asked)
    outcome = await asyncio.wait_for(hanging, 5)  # the app has stopped, its poll with it
    assert not outcome.ok and outcome.error == "the bot is stopping"
    assert bot.services.poller.in_progress is None
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        assert conn.execute("select count(*) from poll_runs").fetchone()[0] == runs  # it recorded nothing
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
