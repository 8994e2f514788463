"""Nothing a client sends gets a 5xx or a traceback: unsigned or forged gets 401, signed but malformed 400."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import SIGNING_SECRET, Bot, sign
from tests.fuzzing import Fuzzer

SLASH = urlencode(
    {
        "command": "/integration-status",
        "text": "Acme Ltd",
        "user_id": "U_HOLDER",
        "team_id": "T0G9PQBBK",
        "channel_id": "C1",
        "response_url": "http://127.0.0.1:9/none",
        "trigger_id": "1.2",
    }
)
FORM = "application/x-www-form-urlencoded"
STATE_TABLES = ("subscriptions", "snoozes", "outbox", "alert_messages", "alert_groups", "reminders", "presses", "poll_runs")
# Presses that only read or answered (a Home page, a card, a refused reminder) are remembered for their hold.
READING_PRESSES = ("home|", "open_status_card|", "alert_check|", "remind_account_holder|")
SLACK_WRITES = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "conversations.open")


def state(bot: Bot) -> dict[str, list[Any]]:
    db = bot.services.store.db
    return {table: db.execute(f"select * from {table}").fetchall() for table in STATE_TABLES}


def slack_writes(bot: Bot) -> list[Any]:
    return [call for call in bot.slack.calls if call.method in SLACK_WRITES]


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


async def raw_post(bot: Bot, body: bytes, headers: dict[str, str]) -> int:
    async with bot.http.post(f"{bot.base_url}/slack/events", data=body, headers=headers) as response:
        await response.read()
        return response.status


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        pytest.param(
            {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64}, SLASH.encode(), id="timestamp-abc"
        ),
        pytest.param(
            {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=" + "0" * 64}, SLASH.encode(), id="timestamp-1e9"
        ),
        pytest.param(
            {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=" + "0" * 64},
            SLASH.encode(),
            id="timestamp-5000-digits",
        ),
        pytest.param(
            {"X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠", "X-Slack-Signature": "v0=" + "0" * 64},
            SLASH.encode(),
            id="timestamp-arabic-digits",
        ),
        pytest.param({"X-Slack-Signature": "v0=" + "é" * 64}, SLASH.encode(), id="non-ascii-signature"),
        pytest.param(
            {"Content-Type": FORM + "; charset=utf-16", "X-Slack-Signature": "v0=" + "0" * 64},
            SLASH.encode("utf-16"),
            id="utf-16",
        ),
        pytest.param(
            {"Content-Type": FORM + "; charset=no-such-charset", "X-Slack-Signature": "v0=" + "0" * 64},
            SLASH.encode(),
            id="unknown-charset",
        ),
        pytest.param({"X-Slack-Signature": "v0=" + "0" * 64}, SLASH.encode() + b"\xff", id="byte-0xff"),
    ],
)
async def test_unsigned_garbage_gets_401_and_no_traceback(
    bot: Bot, caplog: pytest.LogCaptureFixture, headers: dict[str, str], body: bytes
) -> None:
    all_headers = {"Content-Type": FORM, **sign(SLASH), **headers}
    # aiohttp refuses to send a non-latin-1 header; a raw socket sends the bytes as a client would.
    status = await raw_http(bot, body, all_headers)
    assert status == 401
    assert bot.slack.of("users.info") == []
    no_errors_logged(caplog)


async def raw_http(bot: Bot, body: bytes, headers: dict[str, str]) -> int:
    """Sends one request over a plain socket (headers as UTF-8 bytes) and returns the status code."""
    host, port = bot.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = ["POST /slack/events HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


async def test_a_body_signed_then_sent_with_byte_0xff_added_gets_401(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    assert await raw_post(bot, SLASH.encode() + b"\xff", {"Content-Type": FORM, **sign(SLASH)}) == 401
    no_errors_logged(caplog)


async def test_a_signed_body_is_read_as_utf8_whatever_the_charset_says(bot: Bot) -> None:
    status = await raw_post(bot, SLASH.encode(), {"Content-Type": FORM + "; charset=utf-16", **sign(SLASH)})
    assert status == 200


def block_actions(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U_HOLDER"},
        "channel": {"id": "C_OPS"},
        "team": {"id": "T0G9PQBBK"},
        "response_url": "http://127.0.0.1:9/none",
        "trigger_id": "1.2",
        "actions": [{"action_id": "alert_ack", "value": "i:1", "type": "button", "block_id": "b"}],
    }
    body.update(changes)
    return body


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param("payload=" + json.dumps(block_actions(user="U_HOLDER")), FORM, id="user-a-string"),
        pytest.param("payload=" + json.dumps(block_actions(user={"id": 5})), FORM, id="user-id-a-number"),
        pytest.param("payload=" + json.dumps(block_actions(user=[1])), FORM, id="user-a-list"),
        pytest.param("payload=" + json.dumps(block_actions(channel="C_OPS")), FORM, id="channel-a-string"),
        pytest.param("payload=" + json.dumps(block_actions(channel=7)), FORM, id="channel-a-number"),
        pytest.param("payload=" + json.dumps(block_actions(view=None, type="view_submission")), FORM, id="view-null"),
        pytest.param(
            "payload=" + json.dumps(block_actions(view={"id": "V1"}, type="view_submission")), FORM, id="view-without-type"
        ),
        pytest.param("payload=" + json.dumps(block_actions(view=[], type="view_closed")), FORM, id="view-a-list"),
        pytest.param("payload=[1, 2]", FORM, id="payload-a-list"),
        pytest.param("payload=5", FORM, id="payload-a-number"),
        pytest.param("payload=%22text%22", FORM, id="payload-a-string"),
        pytest.param("[1, 2]", "application/json", id="json-a-list"),
        pytest.param("null", "application/json", id="json-null"),
        pytest.param(deep(5000), "application/json", id="json-5000-deep"),
        pytest.param("payload=" + deep(5000), FORM, id="payload-5000-deep"),
        pytest.param(
            json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "user": {"id": 1}}}),
            "application/json",
            id="event-user-an-object",
        ),
        pytest.param(
            json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "user": "U1", "view": 3}}),
            "application/json",
            id="event-view-a-number",
        ),
        pytest.param(
            json.dumps({"type": "event_callback", "authorizations": {"a": 1}, "event": {"type": "x"}}),
            "application/json",
            id="authorizations-an-object",
        ),
        pytest.param(
            "payload=" + json.dumps(block_actions(actions=[{"action_id": "alert_ack", "value": 5}])), FORM, id="value-a-number"
        ),
    ],
)
async def test_a_signed_malformed_payload_gets_400_and_changes_nothing(
    bot: Bot, caplog: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    before = state(bot)
    status = await raw_post(bot, body.encode(), {"Content-Type": content_type, **sign(body)})
    assert status == 400
    assert state(bot) == before and slack_writes(bot) == [] and bot.slack.responses == []
    no_errors_logged(caplog)


async def test_the_shape_check_is_a_bolt_middleware_so_socket_mode_gets_it_too(bot: Bot) -> None:
    # Socket Mode hands Bolt a parsed request with no HTTP route in front: the middleware must refuse it.
    from slack_bolt.request.async_request import AsyncBoltRequest

    from bot.app import build_bolt_app

    app = build_bolt_app(bot.services)
    request = AsyncBoltRequest(body=block_actions(view=None, type="view_submission"), mode="socket_mode")
    response = await app.async_dispatch(request)
    assert response.status == 400
    request = AsyncBoltRequest(body=block_actions(channel="C_OPS"), mode="socket_mode")
    assert (await app.async_dispatch(request)).status == 400
    assert slack_writes(bot) == []


async def test_a_client_that_sends_its_body_slowly_and_hangs_up_leaves_no_traceback(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = bot.base_url.removeprefix("http://").split(":")
    body = SLASH.encode()
    for sent in (0, 10, len(body) - 1):
        reader, writer = await asyncio.open_connection(host, int(port))
        head = f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: {FORM}\r\nContent-Length: {len(body)}\r\n"
        signature = sign(SLASH)
        head += "".join(f"{k}: {v}\r\n" for k, v in signature.items()) + "\r\n"
        writer.write(head.encode() + body[:sent])
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        await writer.wait_closed()
    answer = await bot.slash("Acme Ltd")  # still answering, and nothing was logged as an error
    assert answer["text"].startswith("Acme Ltd:")
    await asyncio.sleep(0.1)
    no_errors_logged(caplog)


async def test_fuzzed_requests_get_no_5xx_and_change_nothing(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    fuzzer = Fuzzer(SIGNING_SECRET, seed=11, response_url=bot.slack.response_url("fuzz"))
    before = state(bot)
    failures = []
    for _ in range(300):
        request = fuzzer.request()
        status = await raw_post(bot, request.body, request.headers)
        if status >= 500 or (not request.signed and status != 401 and status < 500 and status != 400):
            failures.append((status, request.what, request.body[:200]))
    assert failures == []
    await asyncio.sleep(0.3)  # let the presses' lazy listeners finish before looking
    after = state(bot)
    assert [key for key, *_ in after.pop("presses") if not key.startswith(READING_PRESSES)] == []
    before.pop("presses")
    assert after == before
    assert [c.method for c in slack_writes(bot)] == []
    no_errors_logged(caplog)


# --- the pure checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamp", "signature", "ok"),
    [
        ("1700000000", "v0=" + "a" * 64, True),
        ("abc", "v0=" + "a" * 64, False),
        ("1e9", "v0=" + "a" * 64, False),
        ("9" * 5000, "v0=" + "a" * 64, False),
        ("١٧٠٠٠٠٠٠٠٠", "v0=" + "a" * 64, False),
        ("1700000000", "v0=" + "é" * 64, False),
        ("1700000000", "v0=" + "A" * 64, False),
        ("1700000000", "v0=abc", False),
        (None, None, False),
    ],
)
def test_signature_headers_are_checked_before_any_arithmetic(timestamp: str | None, signature: str | None, ok: bool) -> None:
    from bot.slack.guard import signature_headers_problem

    assert (signature_headers_problem(timestamp, signature) is None) is ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("42", 42),
        ("9" * 18, int("9" * 18)),
        ("9" * 19, None),
        ("9" * 30, None),
        ("١", None),
        ("²", None),
        (" 1", None),
        ("1_0", None),
        ("0", None),
        ("-1", None),
        ("", None),
        (None, None),
        (5, None),
    ],
)
def test_ids_are_ascii_digits_within_range(text: object, expected: int | None) -> None:
    from bot.slack.actions import parse_id

    assert parse_id(text) == expected


def test_depth_is_measured_without_recursion() -> None:
    from bot.slack.guard import MAX_DEPTH, shape_problem, too_deep

    nested: object = {}
    for _ in range(100_000):
        nested = [nested]
    assert too_deep(nested)
    assert not too_deep({"a": [{"b": 1}]})
    body = block_actions()
    body["state"] = {"values": json.loads(deep(MAX_DEPTH + 1))}
    assert shape_problem(body) is not None
    assert shape_problem(block_actions()) is None
