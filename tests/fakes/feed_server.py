"""A local status feed over HTTP, shaped as SPEC.md says, with failures on demand."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web


class FakeFeed:
    def __init__(self, account: dict[str, Any], companies: list[dict[str, Any]], page_size: int = 500) -> None:
        self.account = account
        self.companies = companies
        self.page_size = page_size
        self.token: str | None = None
        self.requests: list[str] = []
        self.fail_next: list[tuple[int, str]] = []  # (status, body) for the next requests
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    def company(self, company_id: str) -> dict[str, Any]:
        return next(c for c in self.companies if c["id"] == company_id)

    def update(self, company_id: str, **fields: Any) -> None:
        self.company(company_id).update(copy.deepcopy(fields))

    def _failure(self) -> web.Response | None:
        if self.fail_next:
            status, body = self.fail_next.pop(0)
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
        start = int(request.query.get("cursor", "0") or 0)
        page = self.companies[start : start + self.page_size]
        following = start + self.page_size
        return web.json_response(
            {"companies": page, "next_cursor": str(following) if following < len(self.companies) else None}
        )

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
