"""A local status feed over HTTP, shaped as SPEC.md says, with failures on demand.

Hostile inputs: any record in `companies` is served as it is (1e300, 10**30, NaN, texts of any length,
one id twice); `hidden` leaves companies out of listings; `drip_seconds` sends a /companies page's headers
and then one byte every so often; `endless_cursor` never ends the listing ("same": the last page again
under a new cursor; "new": a page of companies never seen before, under a new cursor)."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from typing import Any

from aiohttp import web

from tests.practice import company as company_record


class FakeFeed:
    def __init__(self, account: dict[str, Any], companies: list[dict[str, Any]], page_size: int = 500) -> None:
        self.account = account
        self.companies = companies
        self.page_size = page_size
        self.token: str | None = None
        self.requests: list[str] = []
        self.fail_next: list[tuple[int, str | bytes]] = []  # (status, body) for the next requests
        self.hidden: set[str] = set()  # ids left out of every listing
        self.drip_seconds: float | None = None  # a /companies page drips one byte this often
        self.latency = 0.0  # seconds a /companies page takes to start (a slow feed)
        self.endless_cursor: str | None = None  # None, "same" or "new"
        self.endless_body = False  # a /companies page that never stops sending
        self._endless = itertools.count(1)
        self._fresh = itertools.count(1)
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    def company(self, company_id: str) -> dict[str, Any]:
        return next(c for c in self.companies if c["id"] == company_id)

    def update(self, company_id: str, **fields: Any) -> None:
        self.company(company_id).update(copy.deepcopy(fields))

    def _failure(self) -> web.Response | None:
        if self.fail_next:
            status, body = self.fail_next.pop(0)
            if isinstance(body, bytes):  # bytes as they are (another encoding)
                return web.Response(status=status, body=body, content_type="application/json")
            return web.Response(status=status, text=body, content_type="application/json")
        return None

    def _authorised(self, request: web.Request) -> bool:
        return self.token is None or request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _account(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        if not self._authorised(request):
            return web.json_response({"error": "unauthorised"}, status=401)
        return self._failure() or web.json_response(self.account)

    async def _companies(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        if not self._authorised(request):
            return web.json_response({"error": "unauthorised"}, status=401)
        failure = self._failure()
        if failure:
            return failure
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.endless_body:
            return await self._endless_body(request)
        listed = [c for c in self.companies if not (isinstance(c, dict) and c.get("id") in self.hidden)]
        cursor = request.query.get("cursor", "0") or "0"
        if cursor.startswith("endless-"):
            if self.endless_cursor == "new":
                page = [company_record(f"x_{n}", f"Endless {n}") for n in itertools.islice(self._fresh, self.page_size)]
            else:
                page = listed[-self.page_size :]
            body = {"companies": page, "next_cursor": f"endless-{next(self._endless)}"}
        else:
            start = int(cursor)
            page = listed[start : start + self.page_size]
            following = start + self.page_size
            next_cursor = str(following) if following < len(listed) else None
            if next_cursor is None and self.endless_cursor:
                next_cursor = f"endless-{next(self._endless)}"
            body = {"companies": page, "next_cursor": next_cursor}
        if self.drip_seconds is None:
            return web.json_response(body)
        return await self._drip(request, json.dumps(body).encode())

    async def _endless_body(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            await response.write(b'{"companies": ')
            while self.endless_body:
                await response.write(b" " * 65536)
        except ConnectionError:  # the bot stopped reading
            pass
        return response

    async def _drip(self, request: web.Request, payload: bytes) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(payload)
        await response.prepare(request)
        try:
            for index in range(len(payload)):
                if self.drip_seconds is None:  # healed: the rest at once
                    await response.write(payload[index:])
                    break
                await response.write(payload[index : index + 1])
                await asyncio.sleep(self.drip_seconds)
            await response.write_eof()
        except ConnectionError:  # the bot gave up on the page
            pass
        return response

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/account", self._account)
        app.router.add_get("/companies", self._companies)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
