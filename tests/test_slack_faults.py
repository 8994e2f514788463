"""Slack saying no: rate limits, 5xx backlogs, messages too big to post, channels the bot cannot post in."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.alerting import outbox
from bot.alerting.group_messages import GroupMember, group_list_reply, group_message
from bot.alerting.messages import AlertFacts, alert_message
from bot.alerting.transitions import Condition
from bot.answers.overview import OverviewLine, practice_overview
from bot.helpcentre.matching import HelpCentre
from bot.practice.models import IntegrationStatus
from bot.slack.blockkit import MESSAGE_TEXT_BUDGET, Message, fit, section, text_size
from storage.timefmt import iso
from tests.blockkit import all_text
from tests.conftest import Bot, FakeClock
from tests.conftest import poll_and_deliver as deliver_after_poll
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import BLOCKS_TEXT_LIMIT, FakeSlack, Injected
from tests.practice import ALERTS, HOLDER, PERMITTED, company

SLOW = "C_SLOW"
BAD = "C_BAD"
GONE = "C_GONE"
BOT_USER = "W23456789"  # auth.test's user_id in ../shared/slack/webapi-response.auth.test.bot.json
DUPLICATE = {"kind": "publication", "message": "Invoice/Bill Already Exists in Xero"}


def refuse(channel: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """A standing answer for every post to one channel; the others are answered normally."""
    return lambda call: Injected(status, body, headers or {}) if call.args.get("channel") == channel else None


def delivered(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """What people in the channel see (messages Slack accepted)."""
    return slack.channels_history.get(channel, [])


async def poll_and_deliver(bot: Bot, clock: FakeClock, minutes: float = 1) -> None:
    assert (await deliver_after_poll(bot, clock, minutes)).ok


# --- 1. one channel's rate limit delays only that channel ---------------------------------------


async def test_a_channel_answering_429_delays_only_itself_and_is_retried_after_retry_after(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    await alerting.slash("subscribe all", user=HOLDER, channel=SLOW)
    slack.rule("chat.postMessage", refuse(SLOW, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "20"}))
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    clock.advance(minutes=1)
    await alerting.poll()  # the background delivery loop takes it from here

    def slow_row() -> Any:
        row = alerting.services.store.db.execute("select due_at, last_error from outbox where channel = ?", [SLOW]).fetchone()
        return row if row[1] else None

    await slack.wait_for(lambda: delivered(slack, ALERTS) and slow_row())
    assert delivered(slack, ALERTS)[0]["text"].startswith("Bright &amp; Sons: publication error")
    # One try: the Web API client did not sleep through Retry-After inside the call; the outbox waits instead.
    assert len(slack.posts(SLOW)) == 1
    assert tuple(slow_row()) == (iso(clock() + timedelta(seconds=20)), "ratelimited")

    slack.rule("chat.postMessage", lambda call: None)
    clock.advance(seconds=21)
    alerting.services.deliverer.wake()
    await slack.wait_for(lambda: delivered(slack, SLOW))
    assert len(slack.posts(SLOW)) == 2 and len(delivered(slack, SLOW)) == 1


async def test_a_channel_slack_is_slow_to_answer_delays_only_itself(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    await alerting.slash("subscribe all", user=HOLDER, channel=SLOW)
    slack.held[SLOW] = asyncio.Event()
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    clock.advance(minutes=1)
    await alerting.poll()
    await slack.wait_for(lambda: len(delivered(slack, ALERTS)) == 1)
    # A later poll's alert is not held up behind the slow channel's unanswered post.
    feed.update("c_8", integration_status="error", error=DUPLICATE)
    clock.advance(minutes=1)
    await alerting.poll()
    await slack.wait_for(lambda: len(delivered(slack, ALERTS)) == 2)
    assert delivered(slack, SLOW) == []  # its first post is still waiting for Slack's answer
    slack.held[SLOW].set()
    await slack.wait_for(lambda: len(delivered(slack, SLOW)) == 2)


async def test_a_person_waiting_is_not_held_by_a_long_retry_after(alerting: Bot) -> None:
    slack = alerting.slack
    slack.inject("users.info", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "20"}, times=5)
    answer = await alerting.slash("Bright & Sons", user=PERMITTED)
    assert "Bright &amp; Sons" in all_text(answer)  # answered at once, at the level it could check
    assert len(slack.of("users.info")) == 1


# --- 2. a backlog in one channel starves no other -----------------------------------------------


async def test_a_failing_channels_backlog_of_5000_does_not_starve_a_healthy_channel(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    store = alerting.services.store
    slack.rule("chat.postMessage", refuse(BAD, 500, {"ok": False, "error": "internal_error"}))
    with store.atomic():
        for n in range(5000):
            body = {"event": "feed_down", "since": iso(clock()), "problem": "HTTP 500", "polls": 4}
            store.enqueue(outbox.feed_down(BAD, f"backlog:{n}", body), clock())
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    clock.advance(minutes=1)
    await alerting.poll()
    await slack.wait_for(lambda: store.pending_outbox_count() == 5000)
    assert delivered(slack, ALERTS)[0]["text"].startswith("Bright &amp; Sons: publication error")
    assert len(slack.posts(BAD)) == 1  # its head row, backing off; the rest wait behind it


async def test_delivered_rows_are_pruned_once_nothing_needs_them(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    store = alerting.services.store
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    feed.update("c_8", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    feed.update("c_2", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    (acme_post,) = [m for m in delivered(slack, ALERTS) if m["text"].startswith("Acme Holdings")]

    clock.advance(days=8)
    alerting.services.deliverer.prune()
    keys = [row[0] for row in store.db.execute("select key from outbox order by id")]
    acme = store.alert_message(ALERTS, int(acme_post["metadata"]["event_payload"]["key"].split(":")[-1]))
    assert acme is not None
    # Bright & Sons' incident is closed: its rows are gone. Acme's is open: its post is kept.
    assert keys == [f"post:{ALERTS}:{acme.incident_id}"]

    # The open incident's thread and message still work after the prune.
    feed.update("c_8", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    assert slack.of("chat.update")[-1].args["ts"] == acme_post["ts"]
    assert slack.posts(ALERTS, top_level=False)[-1].args["thread_ts"] == acme_post["ts"]


# --- 3. nothing too big to send -----------------------------------------------------------------


def long_message(n: int) -> str:
    return (f"Error {n}: the accounting software refused the document because " + "details follow. " * 40)[:500]


async def test_a_storm_of_long_different_messages_is_delivered_whole_and_never_refused_for_size(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    names = {f"s_{n}": f"Storm Client {n:03d} " + "Accountancy Services Partnership " * 3 for n in range(100)}
    feed.companies.extend(company(company_id, name.strip()) for company_id, name in names.items())
    await poll_and_deliver(alerting, clock)
    for record in feed.companies:
        if record["id"] in names:
            number = int(record["id"][2:])
            record.update(integration_status="error", error={"kind": "synchronisation", "message": long_message(number % 15)})
    await poll_and_deliver(alerting, clock)

    assert slack.refused_for_size == []
    (top,) = slack.posts(ALERTS, top_level=True)
    assert top.args["text"] == "100 companies went wrong at once (15 kinds of problem)"
    assert "other kind" in all_text(top.args)  # the kinds that did not fit are counted, not cut off
    listed = "\n".join(m["text"] + all_text(m) for m in delivered(slack, ALERTS) if m.get("thread_ts"))
    assert all(f"Storm Client {n:03d}" in listed for n in range(100))
    for call in slack.posts(ALERTS):
        assert text_size(call.args["text"], call.args.get("blocks") or []) <= MESSAGE_TEXT_BUDGET


async def test_a_message_slack_refuses_as_too_long_is_sent_again_smaller_not_dropped(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    slack.inject("chat.postMessage", 200, {"ok": False, "error": "msg_blocks_too_long"}, times=1)
    slack.inject("chat.postMessage", 200, {"ok": False, "error": "invalid_blocks"}, times=1)
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    assert len(slack.posts(ALERTS)) == 3
    (seen,) = delivered(slack, ALERTS)
    assert not seen["blocks"] and "Bright &amp; Sons" in seen["text"] and "Invoice/Bill Already Exists" in seen["text"]
    assert alerting.services.store.pending_outbox_count() == 0
    assert alerting.services.store.db.execute("select count(*) from outbox where state = 'failed'").fetchone()[0] == 0


def test_the_fake_refuses_what_slack_refuses() -> None:
    from tests.fakes.slack_api import size_error

    assert size_error({"text": "x", "blocks": [section("a" * 2990)] * 4}) is None
    assert size_error({"text": "x", "blocks": [section("a" * 2990)] * 5}) == "msg_blocks_too_long"
    assert BLOCKS_TEXT_LIMIT > MESSAGE_TEXT_BUDGET


def _facts(n: int, detail: str, name: str) -> AlertFacts:
    return AlertFacts(
        incident_id=n,
        company_id=f"c_{n}",
        company=name,
        software="Xero " * 30,
        condition=Condition.ERROR,
        detail=detail,
        error_kind="synchronisation",
        since=datetime(2026, 11, 25, tzinfo=timezone.utc),
        resolved_at=None,
        article=HelpCentre.load().match(detail, "status"),
    )


def test_every_alert_builder_stays_within_the_budget_whatever_its_input() -> None:
    huge = "<&>" * 2000
    members = [GroupMember(_facts(n, f"{n % 40} {huge}", f"{n} {huge}")) for n in range(400)]
    messages = [
        alert_message(members[0].facts),
        group_message(1, members),
        group_list_reply(members[:40], 1, 10),
        practice_overview(
            [OverviewLine(huge, IntegrationStatus.ERROR, None, huge) for _ in range(60)],
            errors_only=False,
            checked_at=None,
            feed_problem=huge,
            now=datetime(2026, 11, 25, tzinfo=timezone.utc),
        ),
    ]
    for message in messages:
        assert text_size(message.text, message.blocks) <= MESSAGE_TEXT_BUDGET


def test_fit_cuts_the_longest_texts_and_falls_back_to_plain_text() -> None:
    big = Message(text="summary", blocks=[section("line\n" * 590)] * 5)
    fitted = fit(big)
    assert text_size(fitted.text, fitted.blocks) <= MESSAGE_TEXT_BUDGET and len(fitted.blocks) == 5
    assert "cut to fit" in all_text({"text": fitted.text, "blocks": fitted.blocks})
    many = Message(text="summary", blocks=[section("x" * 150)] * 100)
    plain = fit(many)
    assert plain.blocks == [] and len(plain.text) <= MESSAGE_TEXT_BUDGET


# --- 4. a channel the bot cannot post in ---------------------------------------------------------


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_a_dead_channel_tells_its_subscriber_waits_and_is_retried_when_the_bot_is_invited(
    alerting: Bot, feed: FakeFeed, clock: FakeClock, error: str
) -> None:
    slack = alerting.slack
    await alerting.slash("subscribe Bright & Sons", user=HOLDER, channel=GONE)
    slack.rule("chat.postMessage", refuse(GONE, 200, {"ok": False, "error": error}))
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)

    assert len(delivered(slack, ALERTS)) == 1  # the others are not held up
    (dm,) = delivered(slack, HOLDER[0])
    assert f"I can't post to <#{GONE}>" in dm["text"] and "Invite me" in dm["text"] and "unsubscribe" in dm["text"]
    answer = await alerting.slash("subscriptions", user=HOLDER, channel=GONE)
    assert "I can't post here" in all_text(answer)

    # A later alert waits too: no new attempt, no second message to the subscriber.
    feed.update("c_2", error={"kind": "publication", "message": "Invoice Date is blank."})
    await poll_and_deliver(alerting, clock)
    assert len(slack.posts(GONE)) == 1 and len(slack.posts(HOLDER[0])) == 1

    # Someone invites the bot: what waited goes out, in order, once.
    slack.rule("chat.postMessage", lambda call: None)
    response = await alerting.event({"type": "member_joined_channel", "user": BOT_USER, "channel": GONE, "channel_type": "C"})
    assert response.status == 200
    await slack.wait_for(lambda: len(delivered(slack, GONE)) >= 2)
    top, reply = delivered(slack, GONE)
    assert top["text"].startswith("Bright &amp; Sons: publication error") and "Invoice Date is blank." in all_text(top)
    assert reply["thread_ts"] == top["ts"] and "The error message changed" in all_text(reply)
    answer = await alerting.slash("subscriptions", user=HOLDER, channel=GONE)
    assert "I can't post here" not in all_text(answer)


async def test_someone_else_joining_a_dead_channel_changes_nothing(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    await alerting.slash("subscribe Bright & Sons", user=HOLDER, channel=GONE)
    slack.rule("chat.postMessage", refuse(GONE, 200, {"ok": False, "error": "not_in_channel"}))
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    response = await alerting.event({"type": "member_joined_channel", "user": PERMITTED[0], "channel": GONE, "channel_type": "C"})
    assert response.status == 200
    await poll_and_deliver(alerting, clock)
    assert len(slack.posts(GONE)) == 1
    assert alerting.services.store.broken_channels() == {GONE: "not_in_channel"}


async def test_the_home_tab_shows_a_subscription_the_bot_cannot_post_to(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    await alerting.slash("subscribe Bright & Sons", user=HOLDER, channel=GONE)
    slack.rule("chat.postMessage", refuse(GONE, 200, {"ok": False, "error": "is_archived"}))
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    await alerting.event({"type": "app_home_opened", "user": HOLDER[0], "channel": "D1", "tab": "home"})
    (publish,) = await slack.wait_for_calls("views.publish")
    assert "I can't post there (it is archived): invite me, or unsubscribe" in all_text(publish.args["view"])


async def test_a_dead_alert_channel_shows_on_healthz_and_holds_no_one_else_up(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    await alerting.slash("subscribe all", user=HOLDER, channel="C_OPS")
    slack.rule("chat.postMessage", refuse(ALERTS, 200, {"ok": False, "error": "channel_not_found"}))
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    assert len(delivered(slack, "C_OPS")) == 1
    assert [c for c in slack.posts() if c.args["channel"].startswith("U")] == []  # no subscriber to tell
    async with alerting.http.get(f"{alerting.base_url}/healthz") as response:
        body = await response.json()
    assert body["broken_channels"] == {ALERTS: "channel_not_found"} and body["status"] == "degraded"
