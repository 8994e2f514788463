"""A fake Slack Web API on loopback: answers like Slack (shapes from ../shared/slack), records every call."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl

from aiohttp import web

SHARED_SLACK = Path(__file__).resolve().parents[3] / "shared" / "slack"


def shared_response(name: str) -> dict[str, Any]:
    """A real Web API response from ../shared/slack, read in place."""
    return json.loads((SHARED_SLACK / f"webapi-response.{name}.json").read_text())


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    token: str | None = None  # the bearer token the call was made with (each workspace has its own)


@dataclass
class Injected:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


# Slack refuses a message whose blocks hold about 12,000 characters of text in total (reports: 11,300 to
# 13,300; not documented) with msg_blocks_too_long, and a text over 40,000 characters with msg_too_long.
BLOCKS_TEXT_LIMIT = 12_000
TEXT_LIMIT = 40_000


def blocks_text_size(blocks: Any) -> int:
    """Characters of text in blocks: every "text" string, at any depth."""
    if isinstance(blocks, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else blocks_text_size(v) for k, v in blocks.items())
    if isinstance(blocks, list):
        return sum(blocks_text_size(item) for item in blocks)
    return 0


def size_error(args: dict[str, Any]) -> str | None:
    """What Slack answers to a message too big to post, or None."""
    if blocks_text_size(args.get("blocks") or []) > BLOCKS_TEXT_LIMIT:
        return "msg_blocks_too_long"
    if len(str(args.get("text") or "")) > TEXT_LIMIT:
        return "msg_too_long"
    return None


class FakeSlack:
    """`/api/<method>` like slack.com/api, and `/response/<id>` standing in for response_url."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[Call] = []  # posts to response_url
        self.users: dict[str, dict[str, Any]] = {}  # user id -> users.info "user"
        self.channels_history: dict[str, list[dict[str, Any]]] = {}
        self._injected: dict[str, list[Injected]] = {}
        self._rules: dict[str, Callable[[Call], Injected | None]] = {}
        self._ts = itertools.count(1)
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self.latency = 0.0  # seconds each Web API call takes, to widen windows in crash tests
        self.refused_for_size: list[Call] = []  # posts and edits refused as msg_blocks_too_long / msg_too_long
        self.held: dict[str, asyncio.Event] = {}  # channel -> calls about it hang until the event is set
        self.method_latency: dict[str, float] = {}  # seconds one method takes (a slow chat.postMessage)
        self.arrived: list[Call] = []  # every Web API call as it arrives, before it is answered
        # oauth.v2.access: code -> the grant's answer (the shared oauth.v2.access shape, with these changes).
        self.oauth_grants: dict[str, dict[str, Any]] = {}
        # Socket Mode: apps.connections.open answers ws://.../link, served here; what came over it.
        self.socket_connections = 0
        self.socket_closed = 0
        self.socket_messages: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []

    # --- set-up ---------------------------------------------------------------------------

    def add_user(self, user_id: str, email: str | None, name: str = "Someone", tz: str | None = None) -> None:
        """A user as users.info answers; `tz` (an IANA zone) replaces the template's America/Los_Angeles."""
        user = json.loads(json.dumps(shared_response("users.info.ok")["user"]))
        if tz is not None:
            user["tz"] = tz
        user["id"] = user_id
        user["name"] = name.lower().replace(" ", ".")
        user["real_name"] = name
        user["profile"]["real_name"] = name
        if email is None:
            user["profile"].pop("email", None)
        else:
            user["profile"]["email"] = email
        self.users[user_id] = user

    def inject(
        self, method: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        """The next `times` calls of `method` get this answer instead of the normal one."""
        self._injected.setdefault(method, []).extend(Injected(status, body, headers or {}) for _ in range(times))

    def rule(self, method: str, decide: Callable[[Call], Injected | None]) -> None:
        """A standing rule: called for each call of `method`; None means answer normally."""
        self._rules[method] = decide

    # --- what tests read -------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait, with a bound, for background work to reach Slack."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self.calls]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.05))
            except asyncio.TimeoutError:
                pass

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        return await self.wait_for(lambda: len(self.of(method)) >= count and self.of(method), timeout)

    async def wait_for_responses(self, count: int = 1, timeout: float = 5.0) -> list[Call]:
        return await self.wait_for(lambda: len(self.responses) >= count and self.responses, timeout)

    def posts(self, channel: str | None = None, *, top_level: bool | None = None) -> list[Call]:
        """chat.postMessage calls, optionally for one channel, top-level only or replies only."""
        found = []
        for call in self.of("chat.postMessage"):
            if channel is not None and call.args.get("channel") != channel:
                continue
            if top_level is not None and bool(call.args.get("thread_ts")) == top_level:
                continue
            found.append(call)
        return found

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}response/{name}"

    # --- the server ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/link", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner:
            await self._runner.cleanup()

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        """A Socket Mode connection: says hello like Slack, records what the app sends (acks)."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self.socket_connections += 1
        self._sockets.append(socket)
        self._changed.set()
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A111"}})
        async for message in socket:
            if message.type == web.WSMsgType.TEXT:
                self.socket_messages.append(json.loads(message.data))
                self._changed.set()
        self._sockets.remove(socket)
        self.socket_closed += 1
        self._changed.set()
        return socket

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Sends a Socket Mode envelope (events_api, slash_commands, interactive) to every open socket."""
        for socket in list(self._sockets):
            await socket.send_json(envelope)

    async def _args(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if request.content_type == "application/json":
            return json.loads(raw or b"{}")
        args: dict[str, Any] = dict(parse_qsl(raw.decode()))
        for key in ("blocks", "metadata"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append(Call(request.match_info["name"], await self._args(request), time.monotonic()))
        self._changed.set()
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        args.update({k: v for k, v in request.query.items() if k not in args})
        bearer = request.headers.get("Authorization", "")
        token = bearer[len("Bearer ") :] if bearer.startswith("Bearer ") else args.get("token")
        call = Call(method, args, time.monotonic(), token)
        self.arrived.append(call)
        self._changed.set()
        if self.latency or method in self.method_latency:
            await asyncio.sleep(self.method_latency.get(method, self.latency))
        gate = self.held.get(str(args.get("channel")))
        if gate is not None:
            await gate.wait()  # a channel Slack is slow to answer for
        self.calls.append(call)
        self._changed.set()
        injected = self._injected.get(method)
        answer = injected.pop(0) if injected else None
        if answer is None and method in self._rules:
            answer = self._rules[method](call)
        if answer is not None:
            return web.json_response(answer.body, status=answer.status, headers=answer.headers)
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral") and (error := size_error(args)):
            self.refused_for_size.append(call)
            return web.json_response({"ok": False, "error": error})
        return web.json_response(self.answer(method, args))

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "oauth.v2.access":
            if args.get("grant_type") == "refresh_token":  # token rotation: a new bot token for the refresh token
                for grant in self.oauth_grants.values():
                    if grant.get("refresh_token") == args.get("refresh_token"):
                        refreshed = {"access_token": f"{grant['access_token']}-refreshed", "team": grant["team"]}
                        return shared_response("oauth.v2.access.bot_refresh") | refreshed | {"enterprise": None}
                return {"ok": False, "error": "invalid_refresh_token"}
            grant = self.oauth_grants.get(str(args.get("code")))
            if grant is None:
                return {"ok": False, "error": "invalid_code"}
            return shared_response("oauth.v2.access") | grant
        if method == "auth.test":
            return shared_response("auth.test.bot")
        if method == "apps.connections.open":
            return {"ok": True, "url": f"{self.base_url.replace('http://', 'ws://')}link"}
        if method == "users.info":
            user = self.users.get(args.get("user", ""))
            return {"ok": True, "user": user} if user else shared_response("users.info.error")
        if method == "users.lookupByEmail":
            for user in self.users.values():
                if user["profile"].get("email", "").casefold() == str(args.get("email", "")).casefold():
                    return {"ok": True, "user": user}
            return shared_response("users.lookupByEmail.error")
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X")).split(",")[0]}}
        if method == "chat.postMessage":
            body = shared_response("chat.postMessage.ok")
            ts = f"{1700000000 + next(self._ts)}.000100"
            body.update(channel=args.get("channel"), ts=ts)
            body["message"] = {
                "text": args.get("text"),
                "blocks": args.get("blocks"),
                "ts": ts,
                "metadata": args.get("metadata"),
                "thread_ts": args.get("thread_ts"),
            }
            self.channels_history.setdefault(str(args.get("channel")), []).append(body["message"])
            return body
        if method == "chat.update":
            history = self.channels_history.get(str(args.get("channel")), [])
            if not any(m["ts"] == args.get("ts") for m in history):
                return {"ok": False, "error": "message_not_found"}
            body = shared_response("chat.update.ok")
            body.update(channel=args.get("channel"), ts=args.get("ts"), text=args.get("text"))
            return body
        if method == "chat.postEphemeral":
            return shared_response("chat.postEphemeral.ok")
        if method == "conversations.history":
            history = self.channels_history.get(str(args.get("channel")), [])
            messages = [m for m in reversed(history) if not m.get("thread_ts")]
            return {"ok": True, "messages": messages, "has_more": False}
        if method == "conversations.replies":
            parent = str(args.get("ts"))
            history = self.channels_history.get(str(args.get("channel")), [])
            thread = [m for m in history if m["ts"] == parent or m.get("thread_ts") == parent]
            return {"ok": True, "messages": thread, "has_more": False}
        if method == "views.publish":
            return shared_response("views.publish.ok")
        if method in ("views.open", "views.update"):
            return shared_response("views.open.ok")
        return {"ok": False, "error": "unknown_method"}
