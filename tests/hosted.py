"""The real app with many workspaces ("Add to Slack"), served over HTTP on loopback, and what a test does to it:
install through Bolt's OAuth flow against the fake Slack, connect a feed with the modal, ask, press, uninstall."""

from __future__ import annotations

import asyncio
import json
import re
import time
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, AsyncIterator, Callable
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet

from bot.app import build_bolt_app
from bot.hosted_app import build_hosted_web_app
from bot.hosting import build_hosted
from bot.practice.feed import HttpFeed, StatusFeed, feed_from_source
from bot.practices import Practices
from bot.services import Services, utcnow
from bot.workspaces import CONNECT_VIEW, INPUT_ACTION, SOURCE_BLOCK, TOKEN_BLOCK
from tests.conftest import SHARED, make_settings, sign
from tests.fakes.slack_api import FakeSlack

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret"


def bot_token(team_id: str) -> str:
    return f"xoxb-{team_id}-bot"


class Hosted:
    """The app with many workspaces; `team` names the workspace each request comes from."""

    def __init__(self, practices: Practices, base_url: str, http: aiohttp.ClientSession, slack: FakeSlack) -> None:
        self.practices = practices
        self.base_url = base_url
        self.http = http
        self.slack = slack
        self._n = 0
        self.gates: list[asyncio.Event] = []  # opened at the end, so no Slack call is left hanging

    @property
    def hosting(self) -> Any:
        return self.practices.hosting

    def practice(self, team_id: str) -> Services | None:
        return self.practices.get(team_id)

    async def install(self, team_id: str, installer: str, *, expires_in: int | None = None, token: str | None = None) -> str:
        """The whole OAuth flow: GET /slack/install (state cookie, Add to Slack link), Slack's grant, then
        GET /slack/oauth_redirect?code&state. Returns the success page's HTML."""
        async with self.http.get(f"{self.base_url}/slack/install") as response:
            assert response.status == 200, await response.text()
            page = await response.text()
            cookie = response.cookies["slack-app-oauth-state"].value
        link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
        assert link, page
        state = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)["state"][0]
        code = f"code-{team_id}"
        grant: dict[str, Any] = {
            "access_token": token or bot_token(team_id),
            "team": {"id": team_id, "name": f"Practice {team_id}"},
            "enterprise": None,
            "authed_user": {"id": installer},
            "bot_user_id": f"U_BOT_{team_id}",
        }
        if expires_in is not None:  # token rotation on
            grant |= {"refresh_token": f"xoxe-1-{team_id}", "expires_in": expires_in}
        self.slack.oauth_grants[code] = grant
        async with self.http.get(
            f"{self.base_url}/slack/oauth_redirect",
            params={"code": code, "state": state},
            headers={"Cookie": f"slack-app-oauth-state={cookie}"},
        ) as response:
            assert response.status == 200, await response.text()
            return await response.text()

    async def post(self, body: str, content_type: str) -> aiohttp.ClientResponse:
        headers = {"Content-Type": content_type, **sign(body)}
        async with self.http.post(f"{self.base_url}/slack/events", data=body.encode(), headers=headers) as response:
            await response.read()
            return response

    async def post_json(self, body: str, content_type: str) -> tuple[int, Any]:
        headers = {"Content-Type": content_type, **sign(body)}
        async with self.http.post(f"{self.base_url}/slack/events", data=body.encode(), headers=headers) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else {})

    async def slash(self, team_id: str, text: str, user: str, channel: str = "C_OPS") -> dict[str, Any]:
        self._n += 1
        body = urlencode(
            {
                "token": "verification_token",
                "team_id": team_id,
                "team_domain": team_id.lower(),
                "channel_id": channel,
                "channel_name": "ops",
                "user_id": user,
                "user_name": user,
                "command": "/integration-status",
                "text": text,
                "response_url": self.slack.response_url(f"cmd{self._n}"),
                "trigger_id": f"trigger-{self._n}",
                "api_app_id": "A111",
            }
        )
        status, answer = await self.post_json(body, "application/x-www-form-urlencoded")
        assert status == 200, answer
        return answer

    async def submit_connect(self, team_id: str, user: str, source: str, token: str) -> tuple[int, Any]:
        """The Connect AutoEntry modal submitted (view_submission, shaped as ../shared/slack's)."""
        payload = json.loads((SHARED / "slack" / "bolt-python.view_submission.json").read_text())
        payload["team"] = {"id": team_id, "domain": team_id.lower()}
        payload["user"] = {"id": user, "username": user, "name": user, "team_id": team_id}
        view = payload["view"]
        view.update(team_id=team_id, app_installed_team_id=team_id, callback_id=CONNECT_VIEW, private_metadata="")
        view["state"] = {
            "values": {
                SOURCE_BLOCK: {INPUT_ACTION: {"type": "plain_text_input", "value": source}},
                TOKEN_BLOCK: {INPUT_ACTION: {"type": "plain_text_input", "value": token}},
            }
        }
        return await self.post_json(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def click(
        self, team_id: str, action_id: str, value: str, user: str, channel: str = "C_OPS", *, on_home: bool = False
    ) -> int:
        """A button pressed on a message, or (`on_home`) on the App Home tab: no channel, no response_url."""
        self._n += 1
        template = json.loads((SHARED / "slack" / "bolt-python.block_actions.button.json").read_text())
        template["user"] = {"id": user, "username": user, "name": user, "team_id": team_id}
        template["team"] = {"id": team_id, "domain": team_id.lower()}
        template["channel"] = {"id": channel, "name": "ops"}
        template["response_url"] = self.slack.response_url(f"act{self._n}")
        if on_home:
            for key in ("channel", "response_url", "message"):
                template.pop(key, None)
            template["container"] = {"type": "view", "view_id": "V_HOME"}
            template["view"] = {"id": "V_HOME", "type": "home", "team_id": team_id, "blocks": []}
        template["actions"] = [
            {
                "action_id": action_id,
                "block_id": "b",
                "text": {"type": "plain_text", "text": "Button"},
                "value": value,
                "type": "button",
                "action_ts": "1596530385.194939",
            }
        ]
        response = await self.post(urlencode({"payload": json.dumps(template)}), "application/x-www-form-urlencoded")
        return response.status

    async def event(self, team_id: str, event: dict[str, Any]) -> int:
        envelope = {
            "token": "verification_token",
            "team_id": team_id,
            "api_app_id": "A111",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": f"U_BOT_{team_id}", "is_bot": True}],
        }
        response = await self.post(json.dumps(envelope), "application/json")
        return response.status

    async def connected(self, team_id: str, timeout: float = 10.0) -> Services:
        """Waits until the workspace's practice runs and its first poll has stored companies."""
        return await self.slack.wait_for(
            lambda: (p := self.practice(team_id)) is not None and p.store.company_count() > 0 and p, timeout
        )


@asynccontextmanager
async def hosted_bot(
    tmp_path: Path,
    slack: FakeSlack,
    *,
    clock: Callable[[], datetime] = utcnow,
    own_feeds: bool = True,
    **overrides: Any,
) -> AsyncIterator[Hosted]:
    """The many-workspace app on a loopback port, the scheduler running (each workspace polls on its own);
    every practice reads the time from `clock`. The fake feeds are on 127.0.0.1: private addresses are
    allowed unless `feed_allow_private_addresses=False`. `own_feeds`: the tests' quick-retrying feed client;
    False, the deployment's own."""
    values: dict[str, Any] = dict(
        bot_token=None,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        secret_key=Fernet.generate_key().decode(),
        status_source="demo",
        poll_interval_seconds=600,
        feed_allow_private_addresses=True,
    )
    values.update(overrides)
    settings = make_settings(tmp_path, slack, **values)

    def feed_factory(source: str, token: str | None) -> StatusFeed:
        if source.startswith("http"):
            return HttpFeed(source, token, backoff_seconds=0.01, fetch_deadline=5.0)
        return feed_from_source(source, token, clock)

    practices = build_hosted(settings, clock=clock, feed_factory=feed_factory if own_feeds else None)
    web_app = build_hosted_web_app(practices, build_bolt_app(None, practices))
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            hosted = Hosted(practices, f"http://127.0.0.1:{port}", http, slack)
            try:
                yield hosted
            finally:
                for gate in hosted.gates:
                    gate.set()
    finally:
        await runner.cleanup()
