"""Who may press what, and every press counted once: a second press, Slack's retry or two people at once
change and post nothing twice; ids in button values are ASCII digits within range."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.actions import (
    ACK_ACTION,
    CHECK_ACTION,
    GRANTED_ACTION,
    REMIND_ACTION,
    SNOOZE_DAY_ACTION,
    SNOOZE_HOUR_ACTION,
)
from tests.blockkit import all_text
from tests.conftest import BACKENDS, SHARED, Bot, FakeClock, sign
from tests.conftest import poll_and_deliver as deliver_after_poll
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.practice import ALERTS, HOLDER, PERMITTED, STRANGER, UNPERMITTED

OPS = "C_OPS"
DUPLICATE = {"kind": "publication", "message": "Invoice/Bill Already Exists in Xero"}
on_both_backends = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


async def poll_and_deliver(bot: Bot, clock: FakeClock, minutes: float = 1) -> None:
    assert (await deliver_after_poll(bot, clock, minutes)).ok


async def alert(
    bot: Bot, clock: FakeClock, feed: FakeFeed, company_id: str = "c_2", channel: str = ALERTS
) -> tuple[str, dict[str, Any]]:
    """Turns a company to error and returns (the alert's button value, its message)."""
    feed.update(company_id, integration_status="error", error=DUPLICATE)
    await poll_and_deliver(bot, clock)
    post = bot.slack.posts(channel, top_level=True)[-1]
    value = next(b["elements"][0]["value"] for b in post.args["blocks"] if b["type"] == "actions")
    message = next(m for m in bot.slack.channels_history[channel] if m["ts"] == bot.slack.channels_history[channel][-1]["ts"])
    return value, message


def press_body(
    action_id: str, value: str, user: tuple[str, str, str], channel: str, message: dict[str, Any], response: str
) -> str:
    template = json.loads((SHARED / "slack" / "bolt-python.block_actions.button.json").read_text())
    template["user"] = {"id": user[0], "username": user[2], "name": user[2], "team_id": "T0G9PQBBK"}
    template["team"]["id"] = "T0G9PQBBK"
    template["channel"] = {"id": channel, "name": "alerts"}
    template["response_url"] = response
    template["container"] = {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False}
    template["message"] = message
    template["actions"] = [
        {
            "action_id": action_id,
            "block_id": "b",
            "value": value,
            "type": "button",
            "action_ts": "1.2",
            "text": {"type": "plain_text", "text": "Button"},
        }
    ]
    return urlencode({"payload": json.dumps(template)})


async def settle(bot: Bot) -> None:
    """Lets presses' lazy listeners and the outbox finish before counting what Slack got."""
    await asyncio.sleep(0.2)
    await bot.services.deliverer.drain(timeout=10)


def replies(slack: FakeSlack, channel: str = ALERTS) -> list[str]:
    return [call.args["text"] for call in slack.posts(channel, top_level=False)]


def snoozes(bot: Bot) -> list[tuple[Any, ...]]:
    return bot.services.store.db.execute("select channel, company_id, until, by_user from snoozes").fetchall()


# --- who may press what ---------------------------------------------------------------------------


async def test_someone_who_is_not_an_autoentry_user_cannot_snooze_or_acknowledge(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    value, message = await alert(alerting, clock, feed)
    for action in (SNOOZE_DAY_ACTION, SNOOZE_HOUR_ACTION, ACK_ACTION):
        await alerting.click(action, value, user=STRANGER, channel=ALERTS, message=message)
    answers = [call.args["text"] for call in await slack.wait_for_responses(3)]
    assert sum("Snoozing silences this channel" in a and "Nothing changed" in a for a in answers) == 2
    assert any(a == "Only AutoEntry users of this practice can acknowledge alerts. Nothing changed." for a in answers)
    await settle(alerting)
    assert snoozes(alerting) == [] and slack.of("chat.update") == [] and replies(slack) == []
    # The company's next alert in the channel is not held back.
    feed.update("c_2", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    clock.advance(minutes=61)  # past the flap window: a new alert, not the old one reopened
    await alert(alerting, clock, feed)
    assert len(slack.posts(ALERTS, top_level=True)) == 2


async def test_snooze_takes_what_unsubscribing_takes(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    # c_2 is not among Tom's companies, and Priya has no permission: neither may silence it in #ops ...
    await alerting.slash("subscribe all", user=HOLDER, channel=OPS)
    value, message = await alert(alerting, clock, feed, channel=OPS)
    for user in (PERMITTED, UNPERMITTED):
        await alerting.click(SNOOZE_HOUR_ACTION, value, user=user, channel=OPS, message=message)
    answers = await slack.wait_for_responses(2)
    assert all("the Company settings permission on Bright &amp; Sons" in a.args["text"] for a in answers)
    assert all("<@U_HOLDER> subscribed it" in a.args["text"] for a in answers)
    await settle(alerting)
    assert snoozes(alerting) == []
    # ... but an AutoEntry user who cannot snooze may still acknowledge,
    await alerting.click(ACK_ACTION, value, user=UNPERMITTED, channel=OPS, message=message)
    await slack.wait_for(lambda: replies(slack, OPS) == ["Acknowledged by <@U_PRIYA>."])
    # and the person who subscribed the channel may snooze it.
    await alerting.click(SNOOZE_HOUR_ACTION, value, user=HOLDER, channel=OPS, message=message)
    await slack.wait_for(lambda: snoozes(alerting))
    assert [row[3] for row in snoozes(alerting)] == ["U_HOLDER"]


async def test_remind_tells_a_guest_nothing_about_the_account(bot: Bot, slack: FakeSlack) -> None:
    await bot.click(REMIND_ACTION, "c_1", user=STRANGER)
    (answer,) = await slack.wait_for_responses()
    text = all_text(answer.args)
    assert "you are not one of this practice's AutoEntry users" in text and "Ask the practice" in text
    for secret in ("Jane", "jane@smithco.example", "Smith & Co", "U_HOLDER"):
        assert secret not in text
    assert slack.of("users.lookupByEmail") == [] and slack.of("chat.postMessage") == []


async def test_a_subscription_lapses_when_its_subscriber_loses_the_permission_and_can_be_renewed(
    alerting: Bot, feed: FakeFeed, clock: FakeClock
) -> None:
    slack = alerting.slack
    answer = await alerting.slash("subscribe Acme Ltd", user=PERMITTED, channel=OPS)
    assert "now gets alerts for Acme Ltd" in answer["text"]
    tom = next(u for u in feed.account["users"] if u["email"] == PERMITTED[1])
    tom["company_settings"] = ["c_7"]  # the account holder takes Company settings on Acme Ltd away from Tom
    await poll_and_deliver(alerting, clock)
    notices = [call.args["text"] for call in slack.posts(OPS)]
    assert len(notices) == 1 and "This channel no longer gets alerts for Acme Ltd" in notices[0]
    assert "<@U_TOM>" in notices[0] and "/integration-status subscribe Acme Ltd" in notices[0]
    # Told once; Acme's next error is not posted in #ops (it still goes to the alert channel).
    feed.update("c_1", error={"kind": "synchronisation", "message": "Access Token"})
    await poll_and_deliver(alerting, clock)
    await poll_and_deliver(alerting, clock)
    assert len(slack.posts(OPS)) == 1 and len(slack.posts(ALERTS, top_level=True)) == 1
    listing = all_text(await alerting.slash("subscriptions", channel=OPS))
    assert "lapsed" in listing and "renew it by subscribing again" in listing
    # Tom cannot renew it; the holder can, and alerts follow again.
    refused = await alerting.slash("subscribe Acme Ltd", user=PERMITTED, channel=OPS)
    assert "Nothing changed" in refused["text"]
    renewed = await alerting.slash("subscribe Acme Ltd", user=HOLDER, channel=OPS)
    assert "now gets alerts for Acme Ltd" in all_text(renewed)
    feed.update("c_1", integration_status="integrated", error=None)
    await poll_and_deliver(alerting, clock)
    feed.update("c_1", integration_status="error", error={"kind": "synchronisation", "message": "Token Required"})
    await poll_and_deliver(alerting, clock)
    assert len(slack.posts(OPS, top_level=True)) == 2 and "Acme Ltd" in slack.posts(OPS, top_level=True)[-1].args["text"]


# --- once per person, target and action ------------------------------------------------------------


@pytest.mark.parametrize("action", [ACK_ACTION, SNOOZE_HOUR_ACTION, SNOOZE_DAY_ACTION])
@on_both_backends
async def test_a_second_press_a_retry_or_a_second_person_changes_nothing_twice(
    alerting: Bot, feed: FakeFeed, clock: FakeClock, action: str
) -> None:
    slack = alerting.slack
    value, message = await alert(alerting, clock, feed, company_id="c_7")  # Tom and Jane may both silence it
    body = press_body(action, value, HOLDER, ALERTS, message, slack.response_url("p1"))
    headers = sign(body)
    assert (await alerting.post(body, "application/x-www-form-urlencoded", headers)).status == 200
    # Slack retrying the same request, the same person a second later, and two others at the same moment.
    retry = {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await alerting.post(body, "application/x-www-form-urlencoded", retry)).status == 200
    clock.advance(seconds=1)
    await alerting.click(action, value, user=HOLDER, channel=ALERTS, message=message)
    await asyncio.gather(
        alerting.click(action, value, user=PERMITTED, channel=ALERTS, message=message),
        alerting.click(action, value, user=HOLDER, channel=ALERTS, message=message),
    )
    await settle(alerting)
    assert len(replies(slack)) == 1 and len(slack.of("chat.update")) == 1
    assert slack.responses == []  # and nobody is told anything twice
    if action != ACK_ACTION:
        assert len(snoozes(alerting)) == 1


async def test_a_snooze_that_has_ended_can_be_pressed_again(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    value, message = await alert(alerting, clock, feed)
    await alerting.click(SNOOZE_HOUR_ACTION, value, channel=ALERTS, message=message)
    await slack.wait_for(lambda: len(replies(slack)) == 1)
    clock.advance(hours=1, seconds=1)
    await alerting.click(SNOOZE_HOUR_ACTION, value, channel=ALERTS, message=message)
    await slack.wait_for(lambda: len(replies(slack)) == 2)


@on_both_backends
async def test_check_again_twice_in_a_second_checks_and_answers_once(alerting: Bot, feed: FakeFeed, clock: FakeClock) -> None:
    slack = alerting.slack
    value, message = await alert(alerting, clock, feed)
    clock.advance(seconds=10)
    fetches = len(feed.requests)
    await alerting.click(CHECK_ACTION, value, channel=ALERTS, message=message)
    clock.advance(seconds=1)
    await alerting.click(CHECK_ACTION, value, channel=ALERTS, message=message)
    await settle(alerting)
    # One press, one check: "checking..." at once, then its result; the second press adds nothing.
    assert [a.args["text"] for a in slack.responses] == [
        "Checking the status feed now…",
        "Checked again just now: still a problem.",
    ]
    assert feed.requests[fetches:].count("/companies") == 1  # one poll
    assert len(slack.of("chat.update")) == 1


@on_both_backends
async def test_i_have_granted_it_pressed_twice_tells_the_requester_once(bot: Bot, slack: FakeSlack, feed: FakeFeed) -> None:
    await bot.click(REMIND_ACTION, "c_1", user=UNPERMITTED)
    await slack.wait_for_responses()
    (reminder,) = bot.services.store.reminders(requester_user_id=UNPERMITTED[0])
    dms_before = len(slack.of("chat.postMessage"))
    await asyncio.gather(
        bot.click(GRANTED_ACTION, str(reminder.id), user=HOLDER, channel="D_HOLDER"),
        bot.click(GRANTED_ACTION, str(reminder.id), user=HOLDER, channel="D_HOLDER"),
    )
    await settle(bot)
    assert len(slack.of("chat.postMessage")) == dms_before + 1  # one DM to the requester
    assert len(slack.of("chat.update")) == 1  # the holder's DM updated once


@on_both_backends
async def test_home_paging_and_a_pick_list_button_act_once_per_press(bot: Bot, slack: FakeSlack) -> None:
    from tests.test_home import home_click

    await asyncio.gather(
        home_click(bot, "home_page:next", '{"f":"all","p":1}'), home_click(bot, "home_page:next", '{"f":"all","p":1}')
    )
    await settle(bot)
    assert len(slack.of("views.publish")) == 1
    answer = await bot.slash("acme")  # a pick list or the card: press a name from a pick list twice
    picks = await bot.slash("Bright")
    assert answer and picks
    message = {"ts": "5.5", "blocks": []}
    await bot.click("open_status_card:0", "c_1", message=message)
    await bot.click("open_status_card:0", "c_1", message=message)
    await settle(bot)
    assert len(slack.responses) == 1 and slack.responses[0].args["text"].startswith("Acme Ltd")


# --- ids in button values -------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["١", "9" * 30, "²", " 1", "1_0", "-1", "0", "1.0"])
async def test_an_id_that_is_not_ascii_digits_within_range_is_refused_clearly(
    alerting: Bot, feed: FakeFeed, clock: FakeClock, number: str
) -> None:
    slack = alerting.slack
    _, message = await alert(alerting, clock, feed)
    await alerting.click(ACK_ACTION, f"i:{number}", channel=ALERTS, message=message)
    await alerting.click(GRANTED_ACTION, number, channel="D_HOLDER")
    answers = sorted(call.args["text"] for call in await slack.wait_for_responses(2))
    assert answers == ["I could not read that button. Nothing changed.", "I could not read that button. Nothing was changed."]
    await settle(alerting)
    assert slack.of("chat.update") == [] and replies(slack) == []


# --- the pure rules ---------------------------------------------------------------------------------


def test_shared_actions_have_one_key_for_everyone_and_others_one_per_person() -> None:
    from datetime import datetime, timedelta, timezone

    from bot.presses import press_key

    now = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
    assert press_key(ACK_ACTION, "C1:i5", "U1", now).key == press_key(ACK_ACTION, "C1:i5", "U2", now).key
    assert press_key(ACK_ACTION, "C1:i5", "U1", now).until is None
    assert press_key(SNOOZE_HOUR_ACTION, "C1:i5", "U1", now).key != press_key(SNOOZE_DAY_ACTION, "C1:i5", "U1", now).key
    assert press_key(SNOOZE_DAY_ACTION, "C1:i5", "U1", now).until == now + timedelta(days=1)
    assert press_key(CHECK_ACTION, "C1:i5", "U1", now).key != press_key(CHECK_ACTION, "C1:i5", "U2", now).key


def test_who_may_silence_a_channel() -> None:
    from datetime import datetime, timezone

    from bot.practice.models import parse_account
    from bot.practice.permissions import may_not_silence, viewer_for
    from storage.sqlite.alerts import Subscription
    from tests.practice import practice

    account, _ = parse_account(practice()[0])
    tom = viewer_for(account, "U_TOM", PERMITTED[1])
    priya = viewer_for(account, "U_PRIYA", UNPERMITTED[1])
    at = datetime(2026, 11, 25, tzinfo=timezone.utc)
    assert may_not_silence(tom, ["c_1", "c_2"], []) == ["c_2"]
    assert may_not_silence(priya, ["c_2"], [Subscription("C", "c_2", "U_PRIYA", at)]) == []
    assert may_not_silence(priya, ["c_2", "c_3"], [Subscription("C", None, "U_PRIYA", at)]) == []
    assert may_not_silence(priya, ["c_2"], [Subscription("C", None, "U_TOM", at)]) == ["c_2"]


def test_a_subscription_lapses_only_for_a_subscriber_known_to_have_lost_the_permission() -> None:
    from datetime import datetime, timezone

    from bot.alerting.subscriptions import lapsing
    from bot.practice.models import parse_account
    from bot.practice.permissions import viewer_for
    from storage.sqlite.alerts import Subscription
    from tests.practice import practice

    account, _ = parse_account(practice()[0])
    at = datetime(2026, 11, 25, tzinfo=timezone.utc)
    subs = [
        Subscription("C", "c_1", "U_TOM", at),
        Subscription("C", "c_2", "U_TOM", at),
        Subscription("C", None, "U_TOM", at),
        Subscription("C", "c_2", "U_GONE", at),
        Subscription("C", "c_2", "U_PRIYA", at, lapsed_at=at),
    ]
    viewers = {"U_TOM": viewer_for(account, "U_TOM", PERMITTED[1]), "U_PRIYA": viewer_for(account, "U_PRIYA", UNPERMITTED[1])}
    assert [(s.company_id, s.created_by) for s in lapsing(subs, viewers, ["c_1", "c_2"])] == [("c_2", "U_TOM"), (None, "U_TOM")]


def test_the_home_tab_marks_a_lapsed_subscription() -> None:
    from datetime import datetime, timezone

    from bot.home.view import subscription_rows
    from storage.sqlite.alerts import Subscription

    at = datetime(2026, 11, 25, tzinfo=timezone.utc)
    rows = subscription_rows(
        [Subscription("C123", "c_1", "U_TOM", at, lapsed_at=at), Subscription("C124", "c_1", "U_TOM", at)], {"c_1": "Acme Ltd"}
    )
    assert rows == [
        "• <#C123>: Acme Ltd (lapsed: you no longer have the Company settings permission; no alerts)",
        "• <#C124>: Acme Ltd",
    ]
