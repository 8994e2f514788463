"""Only Slack may talk to the bot: forged, stale and malformed requests get a 4xx and change nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from tests.conftest import Bot, sign

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


async def test_a_forged_signature_gets_401(bot: Bot) -> None:
    response = await bot.post(SLASH, "application/x-www-form-urlencoded", sign(SLASH, secret="not-the-secret"))
    assert response.status == 401
    assert bot.slack.of("users.info") == []


async def test_a_stale_timestamp_gets_401(bot: Bot) -> None:
    response = await bot.post(SLASH, "application/x-www-form-urlencoded", sign(SLASH, timestamp=int(time.time()) - 6 * 60))
    assert response.status == 401


async def test_no_signature_gets_401(bot: Bot) -> None:
    response = await bot.post(SLASH, "application/x-www-form-urlencoded", {})
    assert response.status == 401


async def test_a_body_changed_after_signing_gets_401(bot: Bot) -> None:
    headers = sign(SLASH)
    response = await bot.post(SLASH.replace("Acme", "Evil"), "application/x-www-form-urlencoded", headers)
    assert response.status == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback", "event": ', "application/json"),
        ("payload=" + json.dumps({"type": "block_actions", "actions": "nope"}), "application/x-www-form-urlencoded"),
        ("", "application/json"),
        ("\x00\x01\x02", "application/octet-stream"),
    ],
)
async def test_a_malformed_payload_gets_a_4xx_and_no_crash(bot: Bot, body: str, content_type: str) -> None:
    before = bot.services.store.db.execute("select count(*) from poll_runs").fetchone()
    response = await bot.post(body, content_type)
    assert 400 <= response.status < 500
    answer = await bot.slash("Acme Ltd")  # still answering
    assert answer["text"].startswith("Acme Ltd:")
    assert bot.services.store.db.execute("select count(*) from poll_runs").fetchone() == before


async def test_url_verification_is_answered(bot: Bot) -> None:
    body = json.dumps({"token": "t", "challenge": "c0ffee", "type": "url_verification"})
    async with bot.http.post(
        f"{bot.base_url}/slack/events", data=body, headers={"Content-Type": "application/json", **sign(body)}
    ) as response:
        assert response.status == 200
        assert "c0ffee" in await response.text()
