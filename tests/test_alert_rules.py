"""The alert rules a practice lives with, end to end over HTTP with the fakes: one computer one alert,
flapping, and the daily digest (with a clock the tests control, and restarts around its time)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from bot.slack.actions import ACK_ACTION
from tests.blockkit import all_text
from tests.conftest import SHARED, Bot, FakeClock, running_bot
from tests.conftest import poll_and_deliver as deliver_after_poll
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.practice import ALERTS, HOLDER, PERMITTED, STRANGER, UNPERMITTED, company

OPS = "C_OPS"
PC = "RECEPTION-2"
DUPLICATE = {"kind": "publication", "message": "Invoice/Bill Already Exists in Xero"}


def on_pc(n: int) -> dict[str, Any]:
    return company(
        f"pc_{n}", f"PC Client {n:02d}", "Sage 50", sync_app={"status": "running", "location": PC, "last_seen_at": None}
    )


def set_sync(feed: FakeFeed, numbers: range | list[int], status: str, location: str | None = PC) -> None:
    for n in numbers:
        feed.update(f"pc_{n}", sync_app={"status": status, "location": location, "last_seen_at": None})


async def poll_and_deliver(bot: Bot, clock: FakeClock, minutes: float = 1) -> None:
    assert (await deliver_after_poll(bot, clock, minutes)).ok


@pytest.fixture
async def rules(tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock) -> AsyncIterator[Bot]:
    """ALERT_CHANNEL set, #ops subscribed to every company, thirteen companies' Sync Apps on one PC."""
    feed.companies.extend(on_pc(n) for n in range(1, 14))
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS) as bot:
        assert (await bot.poll()).ok
        answer = await bot.slash("subscribe all", channel=OPS)
        assert "now gets alerts" in answer["text"]
        yield bot


# --- one computer, one alert ----------------------------------------------------------------------


async def test_twelve_companies_on_one_computer_are_one_alert_per_channel_kept_current_until_all_are_back(
    rules: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = rules.slack
    set_sync(feed, range(1, 13), "offline")
    await poll_and_deliver(rules, clock)
    assert slack.posts() == []  # within the grace period: PCs reboot
    await poll_and_deliver(rules, clock, minutes=10)
    for channel in (ALERTS, OPS):
        (top,) = slack.posts(channel, top_level=True)
        assert top.args["text"] == "RECEPTION-2 is offline: 12 companies cannot sync; restart the Sync App there"
        text = all_text(top.args)
        assert all(f"PC Client {n:02d}" in text for n in range(1, 13)) and "PC Client 13" not in text
        assert text.count("Restart the Desktop Sync App on RECEPTION-2") == 1
        assert len(top.args["blocks"]) <= 50

    # The card and the Home tab say which other companies share that computer.
    card = await rules.slash("PC Client 03")
    assert "*Same computer as*\nPC Client 01, PC Client 02, PC Client 04," in all_text(card) and "and 2 more" in all_text(card)
    event = json.loads((SHARED / "slack" / "composed.event_callback.app_home_opened.home_tab.json").read_text())["event"]
    event.update(user=HOLDER[0], tab="home")
    event["view"]["blocks"] = []
    await rules.event(event)
    (published,) = await slack.wait_for_calls("views.publish")
    assert "Same computer as" in all_text(published.args["view"])

    # A thirteenth company on that computer goes offline: the same message, updated, and said in its thread.
    set_sync(feed, [13], "offline")
    await poll_and_deliver(rules, clock)
    await poll_and_deliver(rules, clock, minutes=10)
    for channel in (ALERTS, OPS):
        assert len(slack.posts(channel, top_level=True)) == 1
        (joined,) = slack.posts(channel, top_level=False)
        assert joined.args["text"] == "PC Client 13's Sync App is offline on RECEPTION-2 too: 13 companies cannot sync now."
    assert slack.of("chat.update")[-1].args["text"].startswith("RECEPTION-2 is offline: 13 companies")

    # Each return is told in the thread; the alert resolves when all are back.
    set_sync(feed, [1], "running")
    await poll_and_deliver(rules, clock)
    back = slack.posts(ALERTS, top_level=False)[-1]
    assert back.args["text"].startswith("PC Client 01 can sync again after ") and back.args["text"].endswith(
        "Still offline on RECEPTION-2: 12 companies."
    )
    set_sync(feed, range(2, 14), "running")
    await poll_and_deliver(rules, clock)
    for channel in (ALERTS, OPS):
        assert len(slack.posts(channel, top_level=True)) == 1
        replies = [c.args["text"] for c in slack.posts(channel, top_level=False)]
        # One reply a poll, naming each company that came back.
        assert len(replies) == 3 and replies[-1].endswith(
            "PC Client 12 and PC Client 13 can sync again. All back on RECEPTION-2: resolved."
        )
        assert all(f"PC Client {n:02d}" in replies[-1] for n in range(2, 14))
    last = [c for c in slack.of("chat.update") if c.args["channel"] == ALERTS][-1]
    assert last.args["text"] == "Resolved: the Sync App on RECEPTION-2 runs again; all 13 companies can sync"


async def test_companies_whose_location_is_unknown_are_not_grouped_together(rules: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    set_sync(feed, [1, 2, 3], "offline", location=None)  # the feed has no location for them
    await poll_and_deliver(rules, clock)
    await poll_and_deliver(rules, clock, minutes=10)
    texts = sorted(c.args["text"] for c in rules.slack.posts(ALERTS, top_level=True))
    assert texts == [f"PC Client 0{n}: the Desktop Sync App is offline" for n in (1, 2, 3)]


# --- flapping ------------------------------------------------------------------------------------


async def test_a_flapping_company_keeps_one_alert_and_is_shown_flapping_until_a_stable_hour(
    rules: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = rules.slack
    for flip in range(6):  # error, fine, error, fine, error, fine: six flips in twelve minutes
        if flip % 2 == 0:
            feed.update("c_2", integration_status="error", error=DUPLICATE)
        else:
            feed.update("c_2", integration_status="integrated", error=None)
        await poll_and_deliver(rules, clock, minutes=2)
    for channel in (ALERTS, OPS):
        (top,) = slack.posts(channel, top_level=True)
        assert top.args["text"].startswith("Bright &amp; Sons: publication error")
        thread = [c.args["text"] for c in slack.posts(channel, top_level=False)]
        assert [t.split(":")[0] for t in thread] == ["Resolved", "Back again", "Resolved", "Back again", "Resolved"]
        # Each episode is timed from its own return, not from the first alert; Slack's date token is not escaped.
        assert thread[-1].endswith("working again after 2 min.")
        back = [c for c in slack.posts(channel, top_level=False) if c.args["text"].startswith("Back again")]
        assert all("<!date^" in all_text(c.args) and "&lt;!date" not in all_text(c.args) for c in back)
    assert slack.of("chat.update")[-1].args["text"].startswith("Resolved: Bright &amp; Sons")

    feed.update("c_2", integration_status="error", error=DUPLICATE)  # a third return within the hour
    await poll_and_deliver(rules, clock, minutes=2)
    assert len(slack.posts(ALERTS, top_level=True)) == 1
    flapping = [c for c in slack.of("chat.update") if c.args["channel"] == ALERTS][-1]
    assert "Flapping" in all_text(flapping.args) and not flapping.args["text"].startswith("Resolved")
    assert "It is flapping" in slack.posts(ALERTS, top_level=False)[-1].args["text"]

    updates = len(slack.of("chat.update"))
    await poll_and_deliver(rules, clock, minutes=30)
    assert len(slack.of("chat.update")) == updates  # not yet a stable hour
    await poll_and_deliver(rules, clock, minutes=31)
    steady = [c for c in slack.of("chat.update")[updates:] if c.args["channel"] == ALERTS]
    assert len(steady) == 1 and "Flapping" not in all_text(steady[0].args)
    assert len(slack.posts(ALERTS, top_level=True)) == 1


# --- the daily digest ----------------------------------------------------------------------------

MONDAY_0859_LONDON = datetime(2026, 11, 30, 8, 59, tzinfo=timezone.utc)  # GMT in winter


async def queue_and_deliver(bot: Bot) -> None:
    """What the scheduler's minute check does, then delivery."""
    await bot.services.digests.tick()
    await bot.services.deliverer.drain(timeout=10)


def digests(slack: FakeSlack, channel: str = OPS) -> list[Any]:
    return [c for c in slack.posts(channel, top_level=True) if c.args["text"].startswith("Daily digest")]


async def test_a_digest_at_a_set_time_in_the_setters_time_zone_on_working_days(
    rules: Bot, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    slack.add_user(HOLDER[0], HOLDER[1], HOLDER[2], tz="Europe/London")
    clock.now = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)  # Friday afternoon
    answer = await rules.slash("digest 09:00", channel=OPS)
    assert "daily digest at 09:00 Europe/London, Monday to Friday" in answer["text"]
    assert "daily digest" in all_text(await rules.slash("subscriptions", channel=OPS)).casefold()
    # An alert acknowledged in #ops shows as acknowledged in its digest.
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(rules, clock)
    post = slack.posts(OPS, top_level=True)[-1]
    value = next(b["elements"][0]["value"] for b in post.args["blocks"] if b["type"] == "actions")
    await rules.click(ACK_ACTION, value, channel=OPS, message=slack.channels_history[OPS][-1])
    await slack.wait_for(lambda: [c for c in slack.of("chat.update") if "Acknowledged" in all_text(c.args)])

    clock.now = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)  # Saturday: not a working day
    await queue_and_deliver(rules)
    assert digests(slack) == []
    clock.now = MONDAY_0859_LONDON
    await queue_and_deliver(rules)
    assert digests(slack) == []
    clock.advance(minutes=1)
    await queue_and_deliver(rules)
    (digest,) = digests(slack)
    text = all_text(digest.args)
    assert digest.args["text"].startswith("Daily digest, Monday 30 November 2026: ")
    assert "need attention" in digest.args["text"] and len(digest.args["blocks"]) < 50
    assert "Bright &amp; Sons*: Error, for 2 days" in text and "acknowledged by <@U_HOLDER>" in text
    assert "Dunmore Dental Practice" in text and "not acknowledged" in text
    for _ in range(3):  # the minute check goes on: once a day
        clock.advance(minutes=1)
        await queue_and_deliver(rules)
    assert len(digests(slack)) == 1
    assert (await rules.slash("digest off", channel=OPS))["text"] == "This channel no longer gets a daily digest."
    clock.advance(days=1)
    await queue_and_deliver(rules)
    assert len(digests(slack)) == 1


async def test_the_digest_says_all_is_fine_too_and_daily_means_every_day(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    for record in feed.companies:
        record.update(integration_status="integrated", error=None, sync_app=None)
    clock.now = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)
    async with running_bot(tmp_path, slack, feed, clock) as bot:
        assert (await bot.poll()).ok
        await bot.slash("subscribe all", channel=OPS)
        await bot.slash("digest 7:30 daily", channel=OPS)  # the template's Los Angeles: 15:30 UTC in winter
        clock.now = datetime(2026, 11, 28, 15, 30, tzinfo=timezone.utc)  # a Saturday
        await queue_and_deliver(bot)
    (digest,) = digests(slack)
    assert digest.args["text"] == "Daily digest, Saturday 28 November 2026: all 10 companies fine"


async def test_a_restart_just_before_and_just_after_the_digest_time_loses_none_and_doubles_none(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    slack.add_user(HOLDER[0], HOLDER[1], HOLDER[2], tz="Europe/London")
    clock.now = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS) as bot:
        assert (await bot.poll()).ok
        await bot.slash("digest 09:00", channel=ALERTS)
        clock.now = MONDAY_0859_LONDON
        await queue_and_deliver(bot)  # just before: nothing yet, and then the bot stops
    assert digests(slack, ALERTS) == []
    clock.advance(minutes=2)  # down across 09:00
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS, background_delivery=False) as bot:
        await bot.services.digests.tick()  # the start-up check queues it; the bot dies before sending it
    assert digests(slack, ALERTS) == []
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS) as bot:
        await queue_and_deliver(bot)  # queued already: sent once, not queued again
    assert len(digests(slack, ALERTS)) == 1
    clock.advance(minutes=5)
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS) as bot:
        await queue_and_deliver(bot)  # just after, once more: nothing doubled
    (digest,) = digests(slack, ALERTS)
    assert digest.args["text"].startswith("Daily digest, Monday 30 November 2026")


async def test_a_long_digest_keeps_to_slacks_limits_with_the_full_list_in_its_thread(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    feed.companies.extend(
        company(f"e_{n}", f"Errored Client {n:03d}", integration_status="error", error=DUPLICATE) for n in range(90)
    )
    clock.now = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS) as bot:
        assert (await bot.poll()).ok
        await bot.slash("digest 09:00 daily", channel=ALERTS)
        clock.now = datetime(2026, 11, 28, 18, 0, tzinfo=timezone.utc)
        await queue_and_deliver(bot)
    (digest,) = digests(slack, ALERTS)
    assert len(digest.args["blocks"]) < 50 and "the full list is in the thread" in all_text(digest.args)
    digest_ts = next(m["ts"] for m in slack.channels_history[ALERTS] if m.get("text", "").startswith("Daily digest"))
    thread = [c for c in slack.posts(ALERTS, top_level=False) if c.args.get("thread_ts") == digest_ts]
    listed = "\n".join(all_text(c.args) for c in thread)
    assert len(thread) == 3 and all(f"Errored Client {n:03d}" in listed for n in range(90))


async def test_bad_digest_commands_get_a_clear_answer_and_change_nothing(rules: Bot) -> None:
    for text in ("digest", "digest 25:00", "digest 9am", "digest 09:00 weekly"):
        answer = await rules.slash(text, channel=OPS)
        assert "digest 09:00" in all_text(answer)
    answer = await rules.slash("digest 09:00", channel="D_DIRECT")
    assert "goes to a channel" in answer["text"]
    assert rules.services.store.digests() == []
    assert (await rules.slash("digest off", channel=OPS))["text"] == "This channel had no daily digest; nothing changed."


async def test_only_account_users_set_a_digest_and_only_its_setter_or_a_permitted_user_stops_it(rules: Bot) -> None:
    """Stopping a channel's digest silences its daily sign of life: a guest cannot, nor can a colleague without
    the permission on every company stop or change the one someone else set."""
    answer = await rules.slash("digest 09:00", channel=OPS, user=STRANGER)
    assert "Only AutoEntry users" in answer["text"] and rules.services.store.digests() == []
    await rules.slash("digest 09:00", channel=OPS, user=UNPERMITTED)  # an account user without the permission
    (before,) = rules.services.store.digests()
    for user in (STRANGER, PERMITTED):  # a guest; a colleague with the permission on two companies only
        answer = await rules.slash("digest off", channel=OPS, user=user)
        assert "Nothing changed" in answer["text"]
        await rules.slash("digest 17:00", channel=OPS, user=user)
    assert rules.services.store.digests() == [before]
    await rules.slash("digest off", channel=OPS, user=HOLDER)  # the permission on every company
    assert rules.services.store.digests() == []


async def test_a_computer_switched_off_again_within_the_flap_window_reopens_its_alert(
    rules: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = rules.slack
    set_sync(feed, range(1, 5), "offline")
    await poll_and_deliver(rules, clock)
    await poll_and_deliver(rules, clock, minutes=10)
    set_sync(feed, range(1, 5), "running")
    await poll_and_deliver(rules, clock)
    assert slack.of("chat.update")[-1].args["text"].startswith("Resolved: the Sync App on RECEPTION-2 runs again")
    set_sync(feed, range(1, 5), "offline")  # switched off again twenty minutes later
    await poll_and_deliver(rules, clock, minutes=10)
    await poll_and_deliver(rules, clock, minutes=10)
    assert len(slack.posts(ALERTS, top_level=True)) == 1
    assert slack.posts(ALERTS, top_level=False)[-1].args["text"] == (
        "Back again: PC Client 01, PC Client 02, PC Client 03 and PC Client 04 are offline on RECEPTION-2 again: "
        "4 companies cannot sync now."
    )
    last = [c for c in slack.of("chat.update") if c.args["channel"] == ALERTS][-1]
    assert last.args["text"] == "RECEPTION-2 is offline: 4 companies cannot sync; restart the Sync App there"


async def test_a_storm_with_a_computer_in_it_names_the_computer(rules: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    set_sync(feed, range(1, 13), "offline")
    await poll_and_deliver(rules, clock)
    for company_id in ("c_2", "c_7", "c_8", "c_10"):  # an outage at Xero in the poll the grace period ends
        feed.update(company_id, integration_status="error", error={"kind": "synchronisation", "message": "Xero is unavailable"})
    await poll_and_deliver(rules, clock, minutes=10)
    (top,) = rules.slack.posts(ALERTS, top_level=True)
    assert top.args["text"] == "16 companies went wrong at once (3 kinds of problem)"
    assert "RECEPTION-2: Sage 50: Desktop Sync App offline*: 12 companies" in all_text(top.args)


async def test_a_digest_set_by_someone_slack_gives_no_time_zone_is_in_utc_and_says_so(rules: Bot, slack: FakeSlack) -> None:
    slack.add_user(HOLDER[0], HOLDER[1], HOLDER[2], tz="")
    answer = await rules.slash("digest 08:15 daily", channel=OPS)
    assert "at 08:15 UTC, every day" in answer["text"] and "did not tell me your time zone" in all_text(answer)
    (schedule,) = rules.services.store.digests()
    assert (schedule.tz, schedule.every_day, schedule.created_by) == ("UTC", True, HOLDER[0])
