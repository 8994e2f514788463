"""Remind the account holder: from "I can't see it" to "I can", end to end against the fake Web API,
plus the pure decisions and messages of bot.reminders.decide without any I/O."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_interval_calculators import (
    BackoffRetryIntervalCalculator,
)
from slack_sdk.models.blocks import Block

from bot.practice.models import (
    Account,
    AccountUser,
    CompanyStatus,
    IntegrationStatus,
    Person,
    StoredCompany,
)
from bot.practice.permissions import viewer_for
from bot.reminders import decide as r
from bot.reminders import messages as m
from bot.slack.actions import GRANTED_ACTION, REMIND_ACTION
from tests.blockkit import all_text, buttons, mrkdwn_texts
from tests.conftest import BACKENDS, Bot, FakeClock
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.practice import HOLDER, PERMITTED, STRANGER, UNPERMITTED

HOLDER_DM = "D" + HOLDER[0]
PRIYA_DM = "D" + UNPERMITTED[0]


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's client still retries 429 and 5xx as in production, without the waits (up to 2 s each)."""
    monkeypatch.setattr(builtin_async_handlers.random, "random", lambda: 0.0)
    monkeypatch.setattr(BackoffRetryIntervalCalculator, "calculate_sleep_duration", lambda self, attempt: 0.0)


async def press(bot: Bot, user: tuple[str, str, str] = UNPERMITTED, company_id: str = "c_1", **kwargs: Any) -> dict[str, Any]:
    """Presses "Remind account holder" and returns what the presser is told (the response_url post)."""
    before = len(bot.slack.responses)
    response = await bot.click(REMIND_ACTION, company_id, user=user, **kwargs)
    assert response.status == 200
    responses = await bot.slack.wait_for_responses(before + 1)
    return responses[before].args


async def granted(bot: Bot, reminder_id: int, user: tuple[str, str, str] = HOLDER) -> None:
    response = await bot.click(GRANTED_ACTION, str(reminder_id), user=user, channel=HOLDER_DM)
    assert response.status == 200


def posts_to(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [call.args for call in slack.of("chat.postMessage") if call.args.get("channel") == channel]


def stored(bot: Bot, user: tuple[str, str, str] = UNPERMITTED) -> list[r.Reminder]:
    return bot.services.store.reminders(requester_user_id=user[0])


def grant_in_feed(feed: FakeFeed, email: str, company_id: str) -> None:
    for user in feed.account["users"]:
        if user["email"] == email:
            user["company_settings"] = [*user["company_settings"], company_id]


def says_ephemerally(answer: dict[str, Any]) -> None:
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert answer["text"]


# --- the button on the card --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "company", "shown"),
    [
        (UNPERMITTED, "Acme Ltd", True),
        (PERMITTED, "Acme Ltd", False),
        (PERMITTED, "Bright & Sons", True),
        (HOLDER, "Acme Ltd", False),
        (STRANGER, "Acme Ltd", False),
    ],
)
async def test_the_remind_button_is_on_the_card_only_for_an_account_user_without_the_permission(
    bot: Bot, user: tuple[str, str, str], company: str, shown: bool
) -> None:
    answer = await bot.slash(company, user=user)
    remind = [b for b in buttons(answer) if b["action_id"] == REMIND_ACTION]
    assert bool(remind) is shown
    if shown:
        assert remind[0]["text"]["text"] == "Remind account holder to grant permission"


# --- pressing it --------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_pressing_it_sends_the_account_holder_a_dm_and_tells_the_presser(bot: Bot, slack: FakeSlack) -> None:
    answer = await press(bot)

    (lookup,) = slack.of("users.lookupByEmail")
    assert lookup.args["email"] == HOLDER[1]
    assert slack.of("conversations.open")[0].args["users"] == HOLDER[0]
    (dm,) = posts_to(slack, HOLDER_DM)
    text = all_text(dm)
    for expected in (
        "<@U_PRIYA>",
        "Priya Patel",
        "priya@smithco.example",
        "Acme Ltd",
        "Company settings",
        "Integrate",
        "reconnecting",
        "Company Settings",
        "open *Users*",
        "edit *Priya Patel*",
    ):
        assert expected in text, expected
    assert dm["text"] == "Priya Patel asks for the Company settings permission on Acme Ltd"
    (reminder,) = stored(bot)
    (done_button,) = buttons(dm)
    assert done_button["text"]["text"] == "I've granted it"
    assert (done_button["action_id"], done_button["value"]) == (GRANTED_ACTION, str(reminder.id))

    says_ephemerally(answer)
    assert "Sent" in answer["text"] + all_text(answer)
    assert "Jane Smith" in all_text(answer) and "<@U_HOLDER>" in all_text(answer)

    assert reminder.outcome == "sent"
    assert (reminder.requester_email, reminder.holder_email, reminder.holder_user_id) == (UNPERMITTED[1], HOLDER[1], HOLDER[0])
    assert reminder.company_id == "c_1" and reminder.sent_at == bot.services.clock()
    assert reminder.dm_channel == HOLDER_DM and reminder.dm_ts


async def test_it_works_from_a_channel_message_such_as_an_alert(bot: Bot, slack: FakeSlack) -> None:
    alert = {"type": "message", "ts": "1700000000.000100", "text": "Acme Ltd: error", "blocks": []}
    answer = await press(bot, message=alert, channel="C_ALERTS")
    says_ephemerally(answer)
    assert len(posts_to(slack, HOLDER_DM)) == 1
    assert not slack.of("chat.update")  # the alert itself is left alone


async def test_untrusted_names_are_escaped_in_the_holders_dm(bot: Bot, slack: FakeSlack, feed: FakeFeed) -> None:
    feed.account["users"][1]["name"] = "<!here> Priya & Co"
    await bot.poll()
    await press(bot, company_id="c_9")
    (dm,) = posts_to(slack, HOLDER_DM)
    for text in mrkdwn_texts(dm):
        assert "<!channel>" not in text and "<!here>" not in text
    assert "&lt;!channel&gt; Evil &amp; Co" in all_text(dm)
    assert "&lt;!here&gt; Priya &amp; Co" in all_text(dm)


async def test_a_presser_who_has_the_permission_by_now_gets_the_card_and_nothing_is_sent(
    bot: Bot, slack: FakeSlack, feed: FakeFeed
) -> None:
    grant_in_feed(feed, UNPERMITTED[1], "c_1")
    await bot.poll()
    answer = await press(bot)
    says_ephemerally(answer)
    assert "You already have the Company settings permission on Acme Ltd" in answer["text"]
    assert "Token Required" in all_text(answer)  # the full card
    assert not slack.of("users.lookupByEmail") and not slack.of("chat.postMessage")
    assert stored(bot) == []


async def test_a_presser_who_is_not_an_account_user_is_told_clearly_and_nothing_is_sent(bot: Bot, slack: FakeSlack) -> None:
    answer = await press(bot, user=STRANGER)
    says_ephemerally(answer)
    text = all_text(answer)
    assert "No reminder was sent" in text and "guest@elsewhere.example" in text and "Ask the practice" in text
    # Nothing about the account: not its holder, their email, nor the practice's name.
    assert "Jane" not in text and "jane@" not in text and "Smith & Co" not in text
    assert not slack.of("users.lookupByEmail") and not slack.of("chat.postMessage")


async def test_an_unknown_company_sends_nothing(bot: Bot, slack: FakeSlack) -> None:
    answer = await press(bot, company_id="c_404")
    assert "no longer in the practice" in answer["text"]
    assert not slack.of("users.lookupByEmail")


# --- once a day ----------------------------------------------------------------------------------


async def test_a_second_press_within_24_hours_sends_nothing_and_says_when_the_last_went(
    bot: Bot, slack: FakeSlack, clock: FakeClock
) -> None:
    first_at = clock()
    await press(bot)
    clock.advance(hours=23, minutes=59)
    answer = await press(bot)

    assert len(posts_to(slack, HOLDER_DM)) == 1
    assert len(slack.of("users.lookupByEmail")) == 1
    says_ephemerally(answer)
    assert f"<!date^{int(first_at.timestamp())}^" in answer["text"]
    assert "Nothing new was sent" in all_text(answer)
    assert f"<!date^{int((first_at + timedelta(hours=24)).timestamp())}^" in all_text(answer)
    assert [x.outcome for x in stored(bot)] == ["sent"]


async def test_after_24_hours_a_press_sends_again(bot: Bot, slack: FakeSlack, clock: FakeClock) -> None:
    await press(bot)
    clock.advance(hours=24, seconds=1)
    answer = await press(bot)
    assert "Sent" in all_text(answer)
    assert len(posts_to(slack, HOLDER_DM)) == 2
    assert [x.outcome for x in stored(bot)] == ["sent", "sent"]


async def test_a_double_click_sends_one_reminder_and_answers_once(bot: Bot, slack: FakeSlack) -> None:
    before = len(slack.responses)
    await asyncio.gather(bot.click(REMIND_ACTION, "c_1", user=UNPERMITTED), bot.click(REMIND_ACTION, "c_1", user=UNPERMITTED))
    answers = [call.args for call in (await slack.wait_for_responses(before + 1))[before:]]
    await bot.click(REMIND_ACTION, "c_1", user=UNPERMITTED)  # and once more, a moment later
    await slack.wait_for_calls("users.info")
    assert len(posts_to(slack, HOLDER_DM)) == 1
    assert [a["text"].startswith("Reminder sent") for a in answers] == [True]
    assert len(slack.responses) == before + 1
    assert [x.outcome for x in stored(bot)] == ["sent"]


async def test_the_24_hours_are_per_person_and_company(bot: Bot, slack: FakeSlack) -> None:
    await press(bot)
    await press(bot, company_id="c_2")
    await press(bot, user=PERMITTED, company_id="c_2")
    assert len(posts_to(slack, HOLDER_DM)) == 3


async def test_a_failed_reminder_does_not_block_a_retry(bot: Bot, slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", 200, {"ok": False, "error": "channel_not_found"})
    first = await press(bot)
    assert "did not go" in first["text"]
    answer = await press(bot)
    assert "Sent" in all_text(answer)
    assert [x.outcome for x in stored(bot)] == ["failed:channel_not_found", "sent"]


# --- the account holder is not in Slack -----------------------------------------------------------


async def test_when_the_holder_is_not_in_the_workspace_the_presser_is_told_whom_to_contact(bot: Bot, slack: FakeSlack) -> None:
    del slack.users[HOLDER[0]]
    answer = await press(bot)
    says_ephemerally(answer)
    text = all_text(answer)
    assert "not in this Slack workspace" in text
    assert "Jane Smith" in text and "jane@smithco.example" in text
    assert "Company settings" in text and "Acme Ltd" in text
    assert not slack.of("conversations.open") and not slack.of("chat.postMessage")
    assert [x.outcome for x in stored(bot)] == ["holder_not_in_slack"]


async def test_a_deactivated_holder_counts_as_not_in_the_workspace(bot: Bot, slack: FakeSlack) -> None:
    slack.users[HOLDER[0]]["deleted"] = True
    answer = await press(bot)
    assert "not in this Slack workspace" in answer["text"] + all_text(answer)
    assert not slack.of("chat.postMessage")


# --- Slack errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "body", "headers", "times", "outcome", "said"),
    [
        (
            "conversations.open",
            200,
            {"ok": False, "error": "channel_not_found"},
            None,
            1,
            "failed:channel_not_found",
            "would not let the bot message them",
        ),
        (
            "chat.postMessage",
            200,
            {"ok": False, "error": "not_in_channel"},
            None,
            1,
            "failed:not_in_channel",
            "would not let the bot message them",
        ),
        (
            "chat.postMessage",
            429,
            {"ok": False, "error": "ratelimited"},
            {"Retry-After": "0"},
            4,
            "failed:ratelimited",
            "limiting how fast",
        ),
        ("users.lookupByEmail", 200, {"ok": False, "error": "invalid_auth"}, None, 1, "failed:invalid_auth", "invalid_auth"),
        # A new message is not re-sent blindly after a 5xx (Slack may have posted it): one try, then told.
        (
            "chat.postMessage",
            503,
            {"ok": False, "error": "service_unavailable"},
            None,
            1,
            "failed:service_unavailable",
            "service_unavailable",
        ),
        (
            "users.lookupByEmail",
            503,
            {"ok": False, "error": "service_unavailable"},
            None,
            3,
            "failed:service_unavailable",
            "service_unavailable",
        ),
    ],
)
async def test_slack_errors_are_told_to_the_presser_and_stored(
    bot: Bot,
    slack: FakeSlack,
    method: str,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None,
    times: int,
    outcome: str,
    said: str,
) -> None:
    slack.inject(method, status, body, headers, times=times)
    answer = await press(bot)
    says_ephemerally(answer)
    assert "did not go" in answer["text"]
    assert said in all_text(answer)
    assert "Nothing was sent" in all_text(answer)
    assert [x.outcome for x in stored(bot)] == [outcome]
    assert stored(bot)[0].sent_at is None
    assert len(slack.of(method)) == times  # the client retried as configured, then gave up


async def test_a_network_error_is_told_and_stored(bot: Bot, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    async def unreachable(**_: Any) -> Any:
        raise aiohttp.ClientConnectionError("connection refused")

    monkeypatch.setattr(bot.services.client, "users_lookupByEmail", unreachable)
    answer = await press(bot)
    assert "could not reach Slack" in all_text(answer)
    assert [x.outcome for x in stored(bot)] == ["failed:network_error"]
    assert not slack.of("chat.postMessage")


# --- closing the loop -----------------------------------------------------------------------------


async def test_the_holders_i_have_granted_it_tells_the_requester_and_the_details_follow_the_feed(
    bot: Bot, slack: FakeSlack, feed: FakeFeed
) -> None:
    await press(bot)
    (reminder,) = stored(bot)
    await granted(bot, reminder.id)

    (claimed,) = await slack.wait_for(lambda: posts_to(slack, PRIYA_DM))
    assert claimed["text"] == "Jane Smith has granted you the Company settings permission on Acme Ltd"
    text = all_text(claimed)
    assert "AutoEntry does not show it yet" in text
    for detail in ("Token Required", "RECEPTION-PC", "Synchronisation"):  # the holder's word opens no details
        assert detail not in text

    (update,) = await slack.wait_for_calls("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (reminder.dm_channel, reminder.dm_ts)
    assert update.args["text"].startswith("Done") and "I will send them the details" in all_text(update.args)
    assert not buttons(update.args)
    assert stored(bot)[0].outcome == "granted_claimed"

    grant_in_feed(feed, UNPERMITTED[1], "c_1")
    await bot.poll()
    messages = posts_to(slack, PRIYA_DM)
    assert len(messages) == 2 and messages[1]["text"] == "You now have the Company settings permission on Acme Ltd"
    for detail in ("Token Required", "RECEPTION-PC", "Synchronisation"):  # the full card, now that AutoEntry shows it
        assert detail in all_text(messages[1])
    assert not [b for b in buttons(messages[1]) if b["action_id"] == REMIND_ACTION]
    assert "AutoEntry shows" in all_text(slack.of("chat.update")[-1].args)
    assert stored(bot)[0].outcome == "granted_confirmed"


async def test_a_later_poll_showing_the_permission_closes_the_loop_once(bot: Bot, slack: FakeSlack, feed: FakeFeed) -> None:
    await press(bot)
    (reminder,) = stored(bot)
    await bot.poll()
    assert not posts_to(slack, PRIYA_DM)

    grant_in_feed(feed, UNPERMITTED[1], "c_1")
    await bot.poll()
    (access,) = posts_to(slack, PRIYA_DM)
    assert "AutoEntry shows it" in all_text(access)
    assert "Token Required" in all_text(access)
    (update,) = slack.of("chat.update")
    assert update.args["ts"] == reminder.dm_ts and "AutoEntry shows" in all_text(update.args)
    (closed,) = stored(bot)
    assert closed.outcome == "granted_confirmed" and closed.closed_at is not None

    await bot.poll()
    await bot.poll()
    await granted(bot, reminder.id)  # the holder presses too, late: still one DM
    await slack.wait_for_calls("chat.update", 2)
    assert len(posts_to(slack, PRIYA_DM)) == 1


async def test_both_reminders_of_two_days_close_with_one_dm(bot: Bot, slack: FakeSlack, feed: FakeFeed, clock: FakeClock) -> None:
    await press(bot)
    clock.advance(hours=25)
    await press(bot)
    grant_in_feed(feed, UNPERMITTED[1], "c_1")
    await bot.poll()
    assert len(posts_to(slack, PRIYA_DM)) == 1
    assert len(slack.of("chat.update")) == 2
    assert [x.outcome for x in stored(bot)] == ["granted_confirmed", "granted_confirmed"]


async def test_a_claim_the_feed_does_not_confirm_within_3_polls_is_said_honestly_once(
    bot: Bot, slack: FakeSlack, feed: FakeFeed
) -> None:
    await press(bot)
    (reminder,) = stored(bot)
    await granted(bot, reminder.id)
    await slack.wait_for(lambda: posts_to(slack, PRIYA_DM))

    await bot.poll()
    await bot.poll()
    assert len(posts_to(slack, PRIYA_DM)) == 1
    await bot.poll()
    messages = posts_to(slack, PRIYA_DM)
    assert len(messages) == 2
    assert messages[1]["text"] == "Jane Smith says it is granted; AutoEntry does not show it yet"
    for _ in range(3):
        await bot.poll()
    assert len(posts_to(slack, PRIYA_DM)) == 2  # exactly once

    grant_in_feed(feed, UNPERMITTED[1], "c_1")
    await bot.poll()
    await bot.poll()
    messages = posts_to(slack, PRIYA_DM)
    assert len(messages) == 3 and messages[2]["text"].startswith("You now have")  # once, when AutoEntry shows it
    (closed,) = stored(bot)
    assert closed.outcome == "granted_confirmed" and closed.unconfirmed_told_at is not None
    assert "AutoEntry shows" in all_text(slack.of("chat.update")[-1].args)


async def test_a_claim_confirmed_in_time_never_gets_the_honesty_message(bot: Bot, slack: FakeSlack, feed: FakeFeed) -> None:
    await press(bot)
    await granted(bot, stored(bot)[0].id)
    await slack.wait_for(lambda: posts_to(slack, PRIYA_DM))
    await bot.poll()
    grant_in_feed(feed, UNPERMITTED[1], "c_1")
    await bot.poll()
    for _ in range(4):
        await bot.poll()
    assert [m["text"][:12] for m in posts_to(slack, PRIYA_DM)] == ["Jane Smith h", "You now have"]


async def test_failed_polls_do_not_count(bot: Bot, slack: FakeSlack, feed: FakeFeed) -> None:
    await press(bot)
    await granted(bot, stored(bot)[0].id)
    await slack.wait_for(lambda: posts_to(slack, PRIYA_DM))
    feed.fail_next = [(500, "{}")] * 50
    for _ in range(3):
        await bot.poll()
    feed.fail_next = []
    assert len(posts_to(slack, PRIYA_DM)) == 1


async def test_only_the_holder_can_press_i_have_granted_it(bot: Bot, slack: FakeSlack) -> None:
    await press(bot)
    before = len(slack.responses)
    await granted(bot, stored(bot)[0].id, user=UNPERMITTED)
    (answer,) = (await slack.wait_for_responses(before + 1))[before:]
    assert "Only the account holder" in answer.args["text"]
    assert not posts_to(slack, PRIYA_DM) and not slack.of("chat.update")
    assert stored(bot)[0].outcome == "sent"


async def test_slack_errors_while_closing_the_loop_are_stored_not_raised(bot: Bot, slack: FakeSlack, feed: FakeFeed) -> None:
    await press(bot)
    slack.inject("conversations.open", 200, {"ok": False, "error": "user_disabled"})
    grant_in_feed(feed, UNPERMITTED[1], "c_1")
    outcome = await bot.poll()
    assert outcome.ok
    (reminder,) = stored(bot)
    assert reminder.outcome == "granted_confirmed"  # a permanent error: closed, and said in the record
    assert reminder.error == "access_dm:user_disabled"
    assert not posts_to(slack, PRIYA_DM)
    assert not slack.of("chat.update")  # the holder is not told "I have told them" when nobody was


async def test_a_rate_limited_access_dm_is_retried_on_the_next_poll(bot: Bot, slack: FakeSlack, feed: FakeFeed) -> None:
    await press(bot)
    slack.inject("conversations.open", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}, times=4)
    grant_in_feed(feed, UNPERMITTED[1], "c_1")
    await bot.poll()
    assert not posts_to(slack, PRIYA_DM)
    assert stored(bot)[0].closed_at is None
    await bot.poll()
    assert len(posts_to(slack, PRIYA_DM)) == 1
    assert stored(bot)[0].outcome == "granted_confirmed"


# --- the pure core --------------------------------------------------------------------------------

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
ACCOUNT = Account(
    "acc_1",
    "Smith & Co",
    Person("Jane Smith", "jane@smithco.example"),
    (
        AccountUser("Priya Patel", "priya@smithco.example", False, frozenset()),
        AccountUser("Tom Brown", "tom@smithco.example", False, frozenset({"c_1"})),
        AccountUser("Jane Smith", "jane@smithco.example", True),
    ),
)
COMPANY = StoredCompany(CompanyStatus("c_1", "Acme Ltd", "Xero", IntegrationStatus.INTEGRATED, None, None, 0, None), None, None)


def reminder(**fields: Any) -> r.Reminder:
    base = r.Reminder(
        id=1,
        company_id="c_1",
        company_name="Acme Ltd",
        requester_user_id="U_PRIYA",
        requester_email="priya@smithco.example",
        requester_name="Priya Patel",
        holder_email="jane@smithco.example",
        holder_name="Jane Smith",
        holder_user_id="U_HOLDER",
        dm_channel="DU_HOLDER",
        dm_ts="1.1",
        requested_at=NOW,
        sent_at=NOW,
        outcome="sent",
        error=None,
        claimed_at=None,
        claimed_polls=0,
        unconfirmed_told_at=None,
        confirmed_at=None,
        access_told_at=None,
        closed_at=None,
    )
    return replace(base, **fields)


@pytest.mark.parametrize(
    ("email", "account", "company", "previous", "verdict"),
    [
        ("priya@smithco.example", None, COMPANY, [], r.Verdict.NO_PRACTICE),
        ("priya@smithco.example", ACCOUNT, None, [], r.Verdict.UNKNOWN_COMPANY),
        ("tom@smithco.example", ACCOUNT, COMPANY, [], r.Verdict.ALREADY_PERMITTED),
        ("jane@smithco.example", ACCOUNT, COMPANY, [], r.Verdict.ALREADY_PERMITTED),
        ("guest@elsewhere.example", ACCOUNT, COMPANY, [], r.Verdict.NOT_ACCOUNT_USER),
        (None, ACCOUNT, COMPANY, [], r.Verdict.NOT_ACCOUNT_USER),
        ("priya@smithco.example", ACCOUNT, COMPANY, [], r.Verdict.SEND),
        ("priya@smithco.example", ACCOUNT, COMPANY, [reminder(sent_at=NOW - timedelta(hours=23))], r.Verdict.REPEAT),
        ("priya@smithco.example", ACCOUNT, COMPANY, [reminder(sent_at=NOW - timedelta(hours=24))], r.Verdict.SEND),
        ("priya@smithco.example", ACCOUNT, COMPANY, [reminder(outcome="failed:ratelimited", sent_at=None)], r.Verdict.SEND),
        ("priya@smithco.example", ACCOUNT, COMPANY, [reminder(outcome="holder_not_in_slack", sent_at=None)], r.Verdict.SEND),
        ("priya@smithco.example", ACCOUNT, COMPANY, [reminder(outcome="granted_claimed")], r.Verdict.REPEAT),
        ("priya@smithco.example", ACCOUNT, COMPANY, [reminder(outcome="pending", sent_at=None)], r.Verdict.IN_FLIGHT),
        (
            "priya@smithco.example",
            ACCOUNT,
            COMPANY,
            [reminder(outcome="pending", sent_at=None, requested_at=NOW - timedelta(minutes=5))],
            r.Verdict.SEND,
        ),
    ],
)
def test_decide(
    email: str | None, account: Account | None, company: StoredCompany | None, previous: list[r.Reminder], verdict: r.Verdict
) -> None:
    viewer = viewer_for(account or ACCOUNT, "U_X", email)
    assert r.decide(viewer, account, company, previous, NOW).verdict is verdict


def test_the_latest_delivered_reminder_is_the_one_a_repeat_names() -> None:
    older = reminder(id=1, sent_at=NOW - timedelta(hours=20))
    newer = reminder(id=2, sent_at=NOW - timedelta(hours=2))
    assert r.blocking([newer, older], NOW) == newer
    assert r.blocking([older, newer], NOW) == newer


def test_poll_steps() -> None:
    granted_account = replace(ACCOUNT, users=(AccountUser("Priya Patel", "priya@smithco.example", False, frozenset({"c_1"})),))
    (step,) = r.poll_steps([reminder()], granted_account)
    assert step.confirmed and step.tell_access
    (step,) = r.poll_steps([reminder(access_told_at=NOW, claimed_at=NOW)], granted_account)
    assert step.confirmed and not step.tell_access
    assert r.poll_steps([reminder()], ACCOUNT) == []  # not claimed, not granted: wait
    (step,) = r.poll_steps([reminder(claimed_at=NOW, claimed_polls=1)], ACCOUNT)
    assert step.count_poll and not step.tell_unconfirmed
    (step,) = r.poll_steps([reminder(claimed_at=NOW, claimed_polls=2)], ACCOUNT)
    assert step.tell_unconfirmed
    (step,) = r.poll_steps([reminder(claimed_at=NOW, claimed_polls=5, unconfirmed_told_at=NOW)], ACCOUNT)
    assert not step.tell_unconfirmed
    steps = r.poll_steps([reminder(id=1), reminder(id=2), reminder(id=3, company_id="c_2")], granted_account)
    assert [len(s.reminders) for s in steps] == [2]  # one person, one company: one group; c_2 is not granted


def test_messages_are_valid_block_kit_with_text_and_escaped() -> None:
    evil = Person("<!channel> Bob & Co", "bob@x.example")
    messages = [
        m.holder_request("U_PRIYA", evil, "<@U1> Acme", "Smith & Co", 7),
        m.holder_done(reminder(requester_name="<!here>"), confirmed=True, now=NOW),
        m.holder_done(reminder(), confirmed=False, now=NOW),
        m.access_granted(reminder(company_name="<!everyone>"), None, confirmed=False),
        m.access_claimed(reminder(company_name="<!everyone>", holder_name="<b>")),
        m.not_confirmed(reminder(holder_name="<b>")),
        m.reminder_sent(Person("Jane", "jane@x.example"), "U_HOLDER", "A & B"),
        m.repeat(reminder(), NOW),
        m.holder_not_in_slack(evil, evil, "<!channel>"),
        m.send_failed(evil, "<x>", "ratelimited"),
        m.already_permitted("<x>", None),
    ]
    for message in messages:
        assert message.text
        for block in message.blocks:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
        text = all_text({"text": message.text, "blocks": message.blocks})
        for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U1>", "<b>", "<x>"):
            assert ping not in text


def test_a_mention_is_only_made_of_a_slack_id() -> None:
    assert m.mention("U_PRIYA") == "<@U_PRIYA>"
    assert m.mention("U1|x> <!channel") == ""
    assert m.mention(None) == ""
