"""Alerts end to end: transitions, recoveries, grace, restarts, storms, buttons, and Slack saying no."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.slack.actions import ACK_ACTION, CHECK_ACTION, SNOOZE_HOUR_ACTION
from tests.blockkit import all_text
from tests.conftest import BACKENDS, Bot, FakeClock, poll_and_deliver, running_bot
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack, Injected
from tests.practice import ALERTS, HOLDER, PERMITTED, UNPERMITTED, company

OPS = "C_OPS"
TOKEN_ERROR = {"kind": "synchronisation", "message": "Token Required"}
DUPLICATE = {"kind": "publication", "message": "Invoice/Bill Already Exists in Xero"}
on_both_backends = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


def texts(calls: list) -> list[str]:
    return [call.args["text"] for call in calls]


async def test_the_first_poll_is_the_baseline_and_alerts_nothing(alerting: Bot) -> None:
    await alerting.services.deliverer.drain(timeout=5)
    assert alerting.slack.posts() == []


@on_both_backends
async def test_nul_in_a_companys_text_is_stored_and_alerted_on_either_database(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    # PostgreSQL's text refuses NUL ("\u0000" in JSON): it is read as U+FFFD, and the poll stands.
    feed.update(
        "c_2",
        name="Bright\u0000Sons",
        software="Xe\u0000ro",
        integration_status="error",
        error={"kind": "publication", "message": "Invoice\u0000 rejected"},
        sync_app={"status": "offline", "location": "PC\u0000", "last_seen_at": None},
    )
    outcome = await poll_and_deliver(alerting, clock)
    assert outcome.ok and outcome.skipped == [], outcome.error
    (post,) = alerting.slack.posts(ALERTS)
    assert post.args["text"] == "Bright\ufffdSons: publication error in Xe\ufffdro: Invoice\ufffd rejected"


@on_both_backends
async def test_a_turn_to_error_is_alerted_and_its_recovery_told_in_the_thread(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE, publication_errors=1)
    await poll_and_deliver(alerting, clock)
    (post,) = slack.posts(ALERTS)
    assert post.args["text"] == "Bright &amp; Sons: publication error in Xero: Invoice/Bill Already Exists in Xero"
    text = all_text(post.args)
    assert "Invoice/Bill Already Exists in Xero" in text and "help.autoentry.com" in text
    assert "Don't disconnect and reconnect by reflex" in text
    labels = [e["text"]["text"] for b in post.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels[:5] == ["Acknowledge", "Snooze 1 hour", "Snooze 1 day", "Check again", "Help Centre article"]
    assert "Remind account holder to grant permission" not in labels  # a publication error is fixed in the Inbox

    feed.update("c_2", integration_status="integrated", error=None, publication_errors=0)
    await poll_and_deliver(alerting, clock, minutes=90)
    ts = slack.channels_history[ALERTS][0]["ts"]
    (update,) = slack.of("chat.update")
    assert update.args["ts"] == ts and update.args["text"].startswith("Resolved: Bright &amp; Sons")
    (reply,) = slack.posts(ALERTS, top_level=False)
    assert reply.args["thread_ts"] == ts
    assert reply.args["text"] == "Resolved: Bright &amp; Sons is working again after 1 h 30 min."
    assert len(slack.posts(ALERTS, top_level=True)) == 1


async def test_a_changed_error_message_updates_the_alert_and_says_so(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    feed.update("c_2", error={"kind": "publication", "message": "Invoice Date is blank."})
    await poll_and_deliver(alerting, clock)
    assert len(slack.posts(ALERTS, top_level=True)) == 1
    (update,) = slack.of("chat.update")
    assert "Invoice Date is blank." in all_text(update.args)
    (reply,) = slack.posts(ALERTS, top_level=False)
    assert "the error message changed" in reply.args["text"]
    assert "Invoice/Bill Already Exists" in all_text(reply.args)  # what it was before


async def test_an_error_there_at_the_baseline_is_alerted_when_its_message_changes(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    feed.update("c_3", error={"kind": "publication", "message": "Invoice Date is blank."})
    await poll_and_deliver(alerting, clock)
    (post,) = alerting.slack.posts(ALERTS)
    assert post.args["text"].startswith("Carter Plumbing Ltd: publication error")


async def test_a_disconnection_is_alerted_but_a_new_company_never_connected_is_not(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    feed.update("c_7", integration_status="not_integrated")
    feed.companies.append(company("c_new", "Newly Added Ltd", integration_status="not_integrated"))
    await poll_and_deliver(alerting, clock)
    (post,) = alerting.slack.posts(ALERTS)
    assert post.args["text"] == "Greenway Cafe: disconnected from QuickBooks Online (Not integrated)"
    assert "Reconnect" in all_text(post.args)
    labels = [e["text"]["text"] for b in post.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "Remind account holder to grant permission" in labels


async def test_a_sync_app_is_alerted_only_after_its_grace_period_even_when_the_home_page_is_fine(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    feed.update("c_5", sync_app={"status": "offline", "location": "OFFICE-PC-2", "last_seen_at": None})
    await poll_and_deliver(alerting, clock)
    await poll_and_deliver(alerting, clock, minutes=5)
    assert slack.posts() == []
    await poll_and_deliver(alerting, clock, minutes=5)
    (post,) = slack.posts(ALERTS)
    assert post.args["text"] == "Evergreen Gardens Limited: the Desktop Sync App on OFFICE-PC-2 is offline"
    assert "Restart the Desktop Sync App on OFFICE-PC-2" in all_text(post.args)
    assert "Home page can still say Integrated" in all_text(post.args)
    feed.update("c_5", sync_app={"status": "running", "location": "OFFICE-PC-2", "last_seen_at": None})
    await poll_and_deliver(alerting, clock)
    (reply,) = slack.posts(ALERTS, top_level=False)
    assert reply.args["text"].startswith("Resolved: Evergreen Gardens Limited is working again")


async def test_a_sync_app_back_within_its_grace_period_is_never_mentioned(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    feed.update("c_5", sync_app={"status": "offline", "location": "OFFICE-PC-2", "last_seen_at": None})
    await poll_and_deliver(alerting, clock)
    feed.update("c_5", sync_app={"status": "running", "location": "OFFICE-PC-2", "last_seen_at": None})
    await poll_and_deliver(alerting, clock, minutes=20)
    assert alerting.slack.posts() == []


@on_both_backends
async def test_no_repeat_after_a_restart_on_the_same_database(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock, database_url: str | None
) -> None:
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS, database_url=database_url) as bot:
        await bot.poll()
        feed.update("c_2", integration_status="error", error=DUPLICATE)
        await poll_and_deliver(bot, clock)
    assert len(slack.posts(ALERTS)) == 1
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS, database_url=database_url) as restarted:
        await poll_and_deliver(restarted, clock)
        await poll_and_deliver(restarted, clock)
        assert len(slack.posts(ALERTS)) == 1
        feed.update("c_2", integration_status="integrated", error=None)
        await poll_and_deliver(restarted, clock)
        assert [c.args["text"] for c in slack.posts(ALERTS, top_level=False)] == [
            "Resolved: Bright &amp; Sons is working again after 3 min."
        ]


async def test_queued_alerts_survive_a_restart_before_delivery(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS, background_delivery=False) as bot:
        await bot.poll()
        feed.update("c_2", integration_status="error", error=DUPLICATE)
        clock.advance(minutes=1)
        await bot.poll()
        # The process dies right after the poll's transaction: nothing has been sent.
    assert slack.posts() == []
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS) as restarted:
        await restarted.services.deliverer.drain(timeout=10)
        await poll_and_deliver(restarted, clock)
        assert restarted.services.store.pending_outbox_count() == 0
    (post,) = slack.posts(ALERTS)
    assert post.args["text"].startswith("Bright &amp; Sons: publication error")


@on_both_backends
async def test_a_storm_is_one_grouped_message_with_the_full_list_in_its_thread(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    feed.companies.extend(company(f"x_{n}", f"Storm Client {n:03d} Ltd") for n in range(250))
    await poll_and_deliver(alerting, clock)  # the new companies arrive healthy
    for record in feed.companies:
        if record["id"].startswith("x_"):
            number = int(record["id"][2:])
            message = "Xero is unavailable" if number % 5 else "Token expired"
            record.update(integration_status="error", error={"kind": "synchronisation", "message": message})
    await poll_and_deliver(alerting, clock)
    (top,) = slack.posts(ALERTS, top_level=True)
    assert top.args["text"] == "250 companies went wrong at once (2 kinds of problem)"
    assert len(top.args["blocks"]) <= 50
    text = all_text(top.args)
    assert "200 companies" in text and "50 companies" in text and "Xero is unavailable" in text
    replies = slack.posts(ALERTS, top_level=False)
    assert len(replies) == 7  # 40 companies a reply, within the text budget
    listed = "\n".join(all_text(r.args) for r in replies)
    assert all(f"Storm Client {n:03d} Ltd" in listed for n in range(250))
    for reply in replies:
        assert len(reply.args["blocks"]) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in reply.args["blocks"])

    # The outage ends: one update of the grouped message and one reply, not 250.
    for record in feed.companies:
        if record["id"].startswith("x_"):
            record.update(integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    assert len(slack.posts(ALERTS, top_level=True)) == 1
    (update,) = slack.of("chat.update")
    assert update.args["text"] == "Resolved: all 250 companies are working again"
    progress = slack.posts(ALERTS, top_level=False)[-1]
    assert "Working again (250)" in all_text(progress.args) and "All resolved." in all_text(progress.args)


async def test_a_few_at_once_are_still_one_message_each(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    for company_id in ("c_2", "c_7", "c_8"):
        feed.update(company_id, integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    assert len(alerting.slack.posts(ALERTS, top_level=True)) == 3


@on_both_backends
async def test_acknowledge_shows_who(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    (post,) = slack.posts(ALERTS)
    message = slack.channels_history[ALERTS][0]
    await alerting.click(ACK_ACTION, _value(post), user=PERMITTED, channel=ALERTS, message=message)
    (update,) = await slack.wait_for_calls("chat.update")
    assert "Acknowledged by <@U_TOM>" in all_text(update.args)
    (reply,) = await slack.wait_for(lambda: slack.posts(ALERTS, top_level=False))
    assert reply.args["text"] == "Acknowledged by <@U_TOM>." and reply.args["thread_ts"] == message["ts"]


@on_both_backends
async def test_snooze_silences_new_alerts_for_that_company_in_that_channel_until_it_ends(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    (post,) = slack.posts(ALERTS)
    await alerting.click(SNOOZE_HOUR_ACTION, _value(post), channel=ALERTS, message=slack.channels_history[ALERTS][0])
    (update,) = await slack.wait_for_calls("chat.update")
    assert "Snoozed in this channel until" in all_text(update.args)
    await slack.wait_for(lambda: slack.posts(ALERTS, top_level=False))

    # Recovery still updates the message; a new problem within the hour is not alerted.
    feed.update("c_2", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    assert slack.of("chat.update")[-1].args["text"].startswith("Resolved")
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock, minutes=10)
    assert len(slack.posts(ALERTS, top_level=True)) == 1
    feed.update("c_2", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock, minutes=60)
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock, minutes=61)  # past the flap window too: a new alert, not a reopened one
    assert len(slack.posts(ALERTS, top_level=True)) == 2


async def test_check_again_polls_now_and_updates_the_message(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    (post,) = slack.posts(ALERTS)
    requests_before = len(feed.requests)
    clock.advance(seconds=10)
    await alerting.click(CHECK_ACTION, _value(post), channel=ALERTS, message=slack.channels_history[ALERTS][0])
    checking, answer = await slack.wait_for_responses(2)
    assert checking.args["text"] == "Checking the status feed now…"
    assert answer.args["text"] == "Checked again just now: still a problem."
    assert len(feed.requests) > requests_before
    (update,) = await slack.wait_for_calls("chat.update")
    assert "Checked again" in all_text(update.args)

    feed.update("c_2", integration_status="integrated", error=None)
    clock.advance(seconds=10)
    await alerting.click(CHECK_ACTION, _value(post), channel=ALERTS, message=slack.channels_history[ALERTS][0])
    answers = await slack.wait_for_responses(4)
    assert answers[3].args["text"] == "Checked again: it is resolved. The alert is being updated."
    await slack.wait_for(lambda: any(c.args["text"].startswith("Resolved") for c in slack.of("chat.update")))


@on_both_backends
async def test_rate_limits_and_server_errors_lose_nothing_and_double_nothing(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    slack.inject("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}, times=2)
    slack.inject("chat.postMessage", 503, {"ok": False, "error": "service_unavailable"}, times=5)
    for company_id in ("c_2", "c_7", "c_8"):
        feed.update(company_id, integration_status="error", error=DUPLICATE)
    clock.advance(minutes=1)
    await alerting.poll()
    for _ in range(20):
        await alerting.services.deliverer.drain(timeout=2)
        if alerting.services.store.pending_outbox_count() == 0:
            break
        clock.advance(seconds=30)  # back-off is measured on the bot's clock
    attempts = slack.posts(ALERTS)
    delivered = [m["text"] for m in slack.channels_history[ALERTS]]
    assert sorted(delivered) == sorted(
        f"{name}: publication error in {software}: Invoice/Bill Already Exists in Xero"
        for name, software in (
            ("Bright &amp; Sons", "Xero"),
            ("Greenway Cafe", "QuickBooks Online"),
            ("Acme Holdings Ltd", "Xero"),
        )
    )
    assert len(attempts) == 3 + 2 + 5  # every refused attempt was retried; each alert landed exactly once


async def test_an_alert_message_deleted_in_slack_is_posted_anew(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    slack.channels_history[ALERTS].clear()  # someone deleted it
    feed.update("c_2", error={"kind": "publication", "message": "Invoice Date is blank."})
    await poll_and_deliver(alerting, clock)
    top = slack.posts(ALERTS, top_level=True)
    assert len(top) == 2 and "Invoice Date is blank." in all_text(top[1].args)
    (reposted,) = [m for m in slack.channels_history[ALERTS] if not m.get("thread_ts")]
    incident_id = int(_value(top[0]).split(":")[1])
    message = alerting.services.store.alert_message(ALERTS, incident_id)
    assert message is not None and message.ts == reposted["ts"]
    # and the next change edits the new message, not the deleted one
    feed.update("c_2", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    assert alerting.slack.of("chat.update")[-1].args["ts"] == reposted["ts"]


@on_both_backends
async def test_a_crash_between_slack_accepting_and_the_row_being_marked_sends_nothing_twice(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    store = alerting.services.store
    deliverer = alerting.services.deliverer
    deliverer.wake = lambda: None  # type: ignore[method-assign]
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    clock.advance(minutes=1)
    await alerting.poll()
    (item, _) = store.pending_outbox()[0]
    # Slack accepts the message, then the process dies before marking the row.
    store.mark_in_flight(item.id, clock())
    await deliverer._post(item, deliverer._message(item))  # type: ignore[arg-type]
    assert len(slack.posts(ALERTS)) == 1
    await deliverer.drain(timeout=5)
    assert len(slack.posts(ALERTS)) == 1
    assert slack.of("conversations.history")
    message = store.alert_message(ALERTS, item.incident_id or 0)
    assert message is not None and message.ts == slack.channels_history[ALERTS][0]["ts"]


async def test_a_channel_the_bot_cannot_post_in_does_not_block_the_others(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    await alerting.slash("subscribe Bright & Sons", user=HOLDER, channel="C_GONE")
    slack.rule(
        "chat.postMessage",
        lambda call: Injected(200, {"ok": False, "error": "channel_not_found"}) if call.args.get("channel") == "C_GONE" else None,
    )
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    assert len(slack.posts(ALERTS)) == 1
    # Its alert waits for the bot to be invited (tests/test_slack_faults.py); nothing failed.
    waiting = alerting.services.store.db.execute("select channel, last_error from outbox where state = 'pending'").fetchall()
    assert waiting == [("C_GONE", "channel_not_found")]


def _value(post: Any) -> str:
    for block in post.args["blocks"]:
        if block["type"] == "actions":
            return block["elements"][0]["value"]
    raise AssertionError("no buttons")


# --- subscriptions ---------------------------------------------------------------------------


async def test_subscribing_answers_with_the_problems_now_and_alerts_follow(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    answer = await alerting.slash("subscribe Acme Ltd", user=PERMITTED, channel=OPS)
    text = all_text(answer)
    assert "This channel now gets alerts for Acme Ltd." in text
    assert "Problems right now (1)" in text and "Sync App offline on RECEPTION-PC" in text
    again = await alerting.slash("subscribe acme", user=PERMITTED, channel=OPS)
    assert "already subscribed" in again["text"]
    feed.update("c_1", error={"kind": "synchronisation", "message": "Access Token"})
    await poll_and_deliver(alerting, clock)
    assert len(alerting.slack.posts(OPS)) == 1 and len(alerting.slack.posts(ALERTS)) == 1
    listing = await alerting.slash("subscriptions", user=UNPERMITTED, channel=OPS)
    assert "Acme Ltd (subscribed by <@U_TOM>" in all_text(listing)
    refused = await alerting.slash("unsubscribe Acme Ltd", user=UNPERMITTED, channel=OPS)
    assert refused["text"] == (
        "Only <@U_TOM> or someone with the Company settings permission on Acme Ltd can stop these alerts. Nothing changed."
    )
    gone = await alerting.slash("unsubscribe Acme Ltd", user=PERMITTED, channel=OPS)
    assert gone["text"] == "This channel no longer gets alerts for Acme Ltd."
    feed.update("c_1", error={"kind": "synchronisation", "message": "Token Required"})
    await poll_and_deliver(alerting, clock)
    assert len(alerting.slack.posts(OPS, top_level=True)) == 1


async def test_subscribing_is_refused_without_the_permission(alerting: Bot) -> None:
    refused = await alerting.slash("subscribe Bright & Sons", user=PERMITTED, channel=OPS)
    assert "needs the Company settings permission" in refused["text"] and "Nothing changed" in refused["text"]
    everything = await alerting.slash("subscribe all", user=PERMITTED, channel=OPS)
    assert "every company" in everything["text"] and "Nothing changed" in everything["text"]
    assert alerting.services.store.channel_subscriptions(OPS) == []
    ok = await alerting.slash("subscribe all", user=HOLDER, channel=OPS)
    assert "This channel now gets alerts for every company." in all_text(ok)
    assert "Problems right now (5)" in all_text(ok)


async def test_subscribing_in_a_direct_message_is_refused_clearly(alerting: Bot) -> None:
    answer = await alerting.slash("subscribe all", user=HOLDER, channel="D_SOMEONE")
    assert "run this in the channel" in answer["text"]


async def test_the_alert_channel_is_listed_as_getting_everything(alerting: Bot) -> None:
    answer = await alerting.slash("subscriptions", channel=ALERTS)
    assert "ALERT_CHANNEL" in all_text(answer)
    nothing = await alerting.slash("subscriptions", channel=OPS)
    assert nothing["text"].startswith("This channel gets no alerts.")


# --- the feed's own outages ---------------------------------------------------------------------


async def test_a_feed_outage_alerts_no_company_and_is_noticed_once_after_three_intervals(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    feed.fail_next = [(503, "{}")] * 1000
    for _ in range(3):
        await poll_and_deliver(alerting, clock)
    assert slack.posts() == []
    for _ in range(3):
        await poll_and_deliver(alerting, clock)
    (notice,) = slack.posts(ALERTS)
    assert notice.args["text"].startswith("The status feed has been failing for 4 polls")
    feed.fail_next = []
    await poll_and_deliver(alerting, clock)
    await poll_and_deliver(alerting, clock)
    assert [c.args["text"][:28] for c in slack.posts(ALERTS)] == ["The status feed has been fai", "The status feed is back (it "]


async def test_check_again_right_after_a_poll_does_not_fetch_the_feed_again(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    (post,) = slack.posts(ALERTS)
    requests_before = len(feed.requests)
    for user in (HOLDER, PERMITTED, UNPERMITTED):
        await alerting.click(CHECK_ACTION, _value(post), user=user, channel=ALERTS, message=slack.channels_history[ALERTS][0])
    await slack.wait_for_responses(3)
    assert len(feed.requests) == requests_before


# --- problems that are more than one thing ---------------------------------------------------------


async def test_an_error_that_turns_into_a_disconnection_is_not_called_working_again(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    feed.update("c_2", integration_status="not_integrated", error=None)
    await poll_and_deliver(alerting, clock)
    replies = [c.args["text"] for c in slack.posts(ALERTS, top_level=False)]
    assert replies == ["Cleared after 1 min, but Bright &amp; Sons is now not integrated."]
    assert not any("working again" in text for text in texts(slack.posts(ALERTS)))
    assert slack.of("chat.update")[-1].args["text"].startswith("Cleared: Bright &amp; Sons")
    assert [c.args["text"] for c in slack.posts(ALERTS, top_level=True)][-1].startswith("Bright &amp; Sons: disconnected")


async def test_a_company_that_leaves_the_feed_for_a_day_has_its_open_alert_closed(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(alerting, clock)
    feed.companies = [c for c in feed.companies if c["id"] != "c_2"]
    await poll_and_deliver(alerting, clock)
    assert slack.posts(ALERTS, top_level=False) == []
    await poll_and_deliver(alerting, clock, minutes=24 * 60)
    (reply,) = slack.posts(ALERTS, top_level=False)
    assert reply.args["text"].startswith("Closed: Bright &amp; Sons is no longer in the status feed")
    assert alerting.services.store.open_incidents() == []


async def alerted_then_snoozed_for_an_hour(bot: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    feed.update("c_2", integration_status="error", error=DUPLICATE)
    await poll_and_deliver(bot, clock)
    (post,) = bot.slack.posts(ALERTS)
    await bot.click(SNOOZE_HOUR_ACTION, _value(post), channel=ALERTS, message=bot.slack.channels_history[ALERTS][0])
    await bot.slack.wait_for_calls("chat.update")


async def test_a_problem_that_starts_during_a_snooze_is_alerted_when_the_snooze_ends(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    await alerted_then_snoozed_for_an_hour(alerting, feed, clock)
    feed.update("c_2", integration_status="not_integrated", error=None)
    await poll_and_deliver(alerting, clock, minutes=5)
    assert len(slack.posts(ALERTS, top_level=True)) == 1  # snoozed: held back
    await poll_and_deliver(alerting, clock, minutes=30)
    assert len(slack.posts(ALERTS, top_level=True)) == 1
    await poll_and_deliver(alerting, clock, minutes=30)  # the hour is over and it is still disconnected
    top = slack.posts(ALERTS, top_level=True)
    assert len(top) == 2 and top[1].args["text"].startswith("Bright &amp; Sons: disconnected")
    await poll_and_deliver(alerting, clock, minutes=30)
    assert len(slack.posts(ALERTS, top_level=True)) == 2


async def test_a_problem_that_starts_and_ends_inside_a_snooze_is_never_posted(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    await alerted_then_snoozed_for_an_hour(alerting, feed, clock)
    feed.update("c_2", integration_status="not_integrated", error=None)
    await poll_and_deliver(alerting, clock, minutes=5)
    feed.update("c_2", integration_status="integrated")
    await poll_and_deliver(alerting, clock, minutes=5)
    await poll_and_deliver(alerting, clock, minutes=90)
    assert len(slack.posts(ALERTS, top_level=True)) == 1


async def test_the_feed_notice_counts_time_not_failed_polls(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    feed.fail_next = [(503, "{}")] * 1000
    for _ in range(8):  # eight failed polls within one interval (presses of Check again, say)
        clock.advance(seconds=5)
        await alerting.poll()
    await alerting.services.deliverer.drain(timeout=5)
    assert alerting.slack.posts() == []


async def test_a_bad_record_does_not_let_a_sync_app_grace_period_run_out(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    feed.update("c_5", sync_app={"status": "offline", "location": "OFFICE-PC-2", "last_seen_at": None})
    await poll_and_deliver(alerting, clock)
    feed.update("c_5", integration_status="???")
    await poll_and_deliver(alerting, clock, minutes=15)
    assert alerting.slack.posts() == []
    feed.update("c_5", integration_status="integrated")
    await poll_and_deliver(alerting, clock)
    assert len(alerting.slack.posts(ALERTS)) == 1  # judged again once the record is good
