"""What an operator watches: /healthz says when alerts stop reaching Slack, /metrics in Prometheus' format."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.alerting.delivery_health import DeliveryHealth
from bot.app import SERVICES, build_bolt_app, build_services, build_web_app
from bot.health import delivery_problem
from tests.conftest import Bot, FakeClock, make_settings, running_bot
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack, Injected, shared_response

ALERTS = "C_ALERTS"
TOKEN_ERROR = {"kind": "synchronisation", "message": "Token Required"}
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def alerting(tmp_path: Path, slack: FakeSlack, feed: FakeFeed, clock: FakeClock) -> AsyncIterator[Bot]:
    """ALERT_CHANNEL set, the practice polled once; delivery runs when the test says (deliver_due)."""
    async with running_bot(tmp_path, slack, feed, clock, alert_channel=ALERTS, background_delivery=False) as bot:
        assert (await bot.poll()).ok
        yield bot


async def healthz(bot: Bot) -> tuple[int, dict[str, Any]]:
    async with bot.http.get(f"{bot.base_url}/healthz") as response:
        return response.status, await response.json()


async def metrics(bot: Bot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, parsed by prometheus-client's own parser: (name, labels) -> value."""
    async with bot.http.get(f"{bot.base_url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


# --- the rule, as a pure function ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("oldest_pending", "failing_since", "failures", "expected"),
    [
        (None, None, 0, None),
        (NOW - 9 * MINUTE, None, 0, None),
        (NOW - 11 * MINUTE, None, 0, "the oldest undelivered alert has waited 11 minutes"),
        (None, NOW - 2 * MINUTE, 3, None),  # two intervals of failures: not yet
        (None, NOW - 3 * MINUTE, 4, "every post to Slack has failed since 2026-11-25T09:57:00+00:00 (invalid_auth)"),
    ],
)
def test_when_alerts_are_not_reaching_slack(
    oldest_pending: datetime | None, failing_since: datetime | None, failures: int, expected: str | None
) -> None:
    delivery = DeliveryHealth(consecutive_failures=failures, failing_since=failing_since, last_error="invalid_auth")
    assert delivery_problem(NOW, MINUTE, oldest_pending, delivery) == expected


def test_a_429_or_one_channels_problem_is_not_slack_being_out_of_reach() -> None:
    delivery = DeliveryHealth()
    delivery.record_failed(NOW - 5 * MINUTE, "channel_not_found", final=True)
    delivery.record_failed(NOW - 5 * MINUTE, "not_in_channel", final=True)
    assert delivery.consecutive_failures == 0 and delivery_problem(NOW, MINUTE, None, delivery) is None
    delivery.record_failed(NOW - 5 * MINUTE, "invalid_auth", final=False)
    assert delivery_problem(NOW, MINUTE, None, delivery) is not None
    delivery.record_sent(NOW)
    assert delivery_problem(NOW, MINUTE, None, delivery) is None and delivery.last_sent_at == NOW


# --- /healthz ---------------------------------------------------------------------------------


async def test_a_revoked_token_turns_healthz_503_within_three_intervals_and_a_good_post_clears_it(
    alerting: Bot, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    slack.rule("chat.postMessage", lambda call: Injected(200, shared_response("error.invalid_auth")))
    feed.update("c_2", integration_status="error", error=TOKEN_ERROR)
    clock.advance(minutes=1)
    await alerting.poll()
    await alerting.services.deliverer.deliver_due()
    status, body = await healthz(alerting)
    assert status == 200 and body["delivery"]["consecutive_failures"] == 1
    assert body["delivery"]["undelivered"] == 1 and body["delivery"]["last_error"] == "invalid_auth"

    statuses = []
    for _ in range(3):  # the feed is fine; each interval the alert is tried again and refused
        clock.advance(minutes=1)
        await alerting.poll()
        await alerting.services.deliverer.deliver_due()
        statuses.append((await healthz(alerting))[0])
    assert statuses == [200, 200, 503]
    status, body = await healthz(alerting)
    assert body["status"] == "failing" and body["delivery"]["status"] == "failing"
    assert "every post to Slack has failed" in body["delivery"]["problem"]
    assert body["delivery"]["last_successful_post_at"] is None and body["last_poll_at"]

    slack.rule("chat.postMessage", lambda call: None)  # the token is fixed
    clock.advance(minutes=1)
    await alerting.services.deliverer.deliver_due()
    status, body = await healthz(alerting)
    assert status == 200 and body["status"] == "ok"
    assert body["delivery"] == {
        "status": "ok",
        "problem": None,
        "undelivered": 0,
        "oldest_undelivered_at": None,
        "last_successful_post_at": clock.now.isoformat(),
        "consecutive_failures": 0,
        "last_error": "invalid_auth",
    }
    assert len(slack.posts(ALERTS)) == 5  # four refused, one delivered: the alert was kept, not dropped


async def test_alerts_waiting_more_than_ten_minutes_turn_healthz_503(
    alerting: Bot, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    feed.update("c_2", integration_status="error", error=TOKEN_ERROR)
    clock.advance(minutes=1)
    await alerting.poll()  # queued, never delivered (as if delivery had stalled)
    for minute in range(11):
        clock.advance(minutes=1)
        await alerting.poll()
        status, body = await healthz(alerting)
        assert status == (503 if minute == 10 else 200), body
    assert "oldest undelivered alert has waited 11 minutes" in body["delivery"]["problem"]


# --- /metrics ---------------------------------------------------------------------------------


async def test_metrics_parse_and_move_when_alerts_are_sent(
    alerting: Bot, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    before = await metrics(alerting)
    assert before[("integration_bot_polls_total", ())] == 1
    assert before[("integration_bot_poll_duration_seconds_count", ())] == 1
    errors = before[("integration_bot_companies", (("state", "error"),))]
    assert (
        sum(before[("integration_bot_companies", (("state", state),))] for state in ("integrated", "not_integrated", "error"))
        == 10
    )
    assert before[("integration_bot_alerts_sent_total", ())] == 0
    assert before[("integration_bot_slack_api_calls_total", (("method", "chat.postMessage"), ("outcome", "ok")))] == 0

    slack.inject("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "0"})
    feed.update("c_2", integration_status="error", error=TOKEN_ERROR)
    feed.fail_next = [(502, "{}")] * 4
    clock.advance(minutes=1)
    assert not (await alerting.poll()).ok  # a failed poll is counted too
    clock.advance(minutes=1)
    assert (await alerting.poll()).ok
    queued = await metrics(alerting)
    assert queued[("integration_bot_outbox_depth", ())] == 1
    assert queued[("integration_bot_outbox_oldest_age_seconds", ())] == 0
    clock.advance(seconds=30)
    assert (await metrics(alerting))[("integration_bot_outbox_oldest_age_seconds", ())] == 30

    await alerting.services.deliverer.drain(timeout=10)
    after = await metrics(alerting)
    assert after[("integration_bot_polls_total", ())] == 3
    assert after[("integration_bot_poll_failures_total", ())] == 1
    assert after[("integration_bot_companies", (("state", "error"),))] == errors + 1
    assert after[("integration_bot_alerts_queued_total", ())] == 1
    assert after[("integration_bot_alerts_sent_total", ())] == 1
    assert after[("integration_bot_outbox_depth", ())] == 0
    assert after[("integration_bot_slack_api_calls_total", (("method", "chat.postMessage"), ("outcome", "ok")))] == 1
    assert after[("integration_bot_slack_ratelimited_total", (("method", "chat.postMessage"),))] == 1
    assert after[("integration_bot_last_successful_post_timestamp_seconds", ())] == clock.now.timestamp()


async def test_metric_labels_stay_bounded(alerting: Bot) -> None:
    client = alerting.services.client
    for method in ("no.such.method", "another.made.up", "chat.postMessage"):
        try:
            await client.api_call(method, json={"channel": ALERTS, "text": "x"})
        except Exception:
            pass
    samples = await metrics(alerting)
    methods = {dict(labels)["method"] for name, labels in samples if name == "integration_bot_slack_api_calls_total"}
    assert "other" in methods and "no.such.method" not in methods
    assert samples[("integration_bot_slack_api_calls_total", (("method", "other"), ("outcome", "error")))] == 2


async def test_each_app_has_its_own_registry(tmp_path: Path, slack: FakeSlack) -> None:
    apps = []
    for name in ("one", "two"):
        services = build_services(make_settings(tmp_path, slack, db_path=str(tmp_path / f"{name}.db")))
        apps.append(build_web_app(services, build_bolt_app(services), with_scheduler=False, with_delivery=False))
        services.metrics.record_poll(True, 0.1)
    registries = [app[SERVICES].metrics.registry for app in apps]
    assert [registry.get_sample_value("integration_bot_polls_total") for registry in registries] == [1, 1]
    for app in apps:
        await app[SERVICES].close()
