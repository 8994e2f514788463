"""`integration-bot serve`: which mode starts, with what, and what it refuses to start without."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.settings import Settings


def test_serve_without_slack_credentials_says_which_one_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["serve"]) == 2
    assert capsys.readouterr().err.strip() == "integration-bot: SLACK_BOT_TOKEN is required to serve (xoxb-...)"


async def test_socket_mode_starts_the_handler_with_the_app_token_and_the_poller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    from bot.app import build_bolt_app, build_services

    started: dict[str, Any] = {}

    async def start_async(self: AsyncSocketModeHandler) -> None:
        started["app_token"] = self.app_token
        started["app"] = self.app

    monkeypatch.setattr(AsyncSocketModeHandler, "start_async", start_async)
    settings = Settings(
        bot_token="xoxb-test",
        app_token="xapp-test",
        db_path=str(tmp_path / "bot.db"),
        api_base_url="http://127.0.0.1:9/api/",
    )
    services = build_services(settings)
    bolt_app = build_bolt_app(services)
    assert await cli._serve_socket_mode(services, bolt_app) == 0
    assert started["app_token"] == "xapp-test" and started["app"] is bolt_app
