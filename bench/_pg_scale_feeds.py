"""The feed server of bench/bench_pg_scale.py: every workspace's AutoEntry feed from one process, pre-rendered.
Not a benchmark itself (run_all skips files starting with "_")."""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
from typing import Any

from bench._common import account_document, change_some, company_records, recv, serve_workspace_feeds

TEMPLATES = 10  # distinct practices the feed serves (workspace n lists practice n % TEMPLATES)
PAGE_SIZE = 500


def _render(practices: list[list[dict[str, Any]]]) -> list[list[bytes]]:
    pages = []
    for records in practices:
        chunks = [records[i : i + PAGE_SIZE] for i in range(0, len(records), PAGE_SIZE)]
        pages.append(
            [
                json.dumps({"companies": chunk, "next_cursor": f"p{p + 1}" if p + 1 < len(chunks) else None}).encode()
                for p, chunk in enumerate(chunks)
            ]
        )
    return pages


async def _serve_feeds(companies: int, conn: Any) -> None:
    from aiohttp import web

    practices = [company_records(companies, seed=n) for n in range(TEMPLATES)]
    pages = _render(practices)
    account = json.dumps(account_document()).encode()
    served = [0]

    async def account_doc(request: web.Request) -> web.Response:
        served[0] += 1
        return web.Response(body=account, content_type="application/json")

    async def listing(request: web.Request) -> web.Response:
        served[0] += 1
        cursor = request.query.get("cursor", "p0")
        return web.Response(
            body=pages[int(request.match_info["n"]) % TEMPLATES][int(cursor[1:])], content_type="application/json"
        )

    url, runner = await serve_workspace_feeds(account_doc, listing, backlog=4096)
    conn.send(url)
    loop = asyncio.get_running_loop()
    generation = 0
    while True:
        message = await loop.run_in_executor(None, conn.recv)
        if message == "change":
            generation += 1
            changed = sum(change_some(records, 0.01, seed=1000 * generation + n) for n, records in enumerate(practices))
            pages[:] = _render(practices)
            conn.send(changed)
        elif message == "requests":
            conn.send(served[0])
        elif message == "stop":
            conn.send("stopped")
            await runner.cleanup()
            return


def _feed_process(companies: int, conn: Any) -> None:
    asyncio.run(_serve_feeds(companies, conn))


class Feeds:
    """Every workspace's feed, served from a child process (its CPU is its own, reported)."""

    def __init__(self, workspaces: int, companies: int) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_feed_process, args=(companies, child), daemon=True)
        self.proc.start()
        self.base_url = recv(self.conn, self.proc, 300)
        self.pid = int(self.proc.pid or 0)

    def change(self) -> int:
        self.conn.send("change")
        return int(recv(self.conn, self.proc))

    def requests(self) -> int:
        self.conn.send("requests")
        return int(recv(self.conn, self.proc))

    def stop(self) -> None:
        try:
            self.conn.send("stop")
            recv(self.conn, self.proc, 10)
        except (OSError, EOFError, RuntimeError):
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.terminate()
