"""GET /metrics and GET /healthz at 10,000 companies, over HTTP on loopback.

Run from the repository root:  python bench/bench_metrics.py [--companies 10000] [--outbox 20000] [--requests 500]

The practice is polled once from a file feed; the outbox holds `--outbox` delivered alert messages and 1,000
waiting ones (a storm's history), so the scrape-time queries (companies by state, the outbox by state and its
oldest row) run over realistic tables. Exits 1 when the target is missed (/metrics p50 under 10 ms).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bench._common import account_document, company_records, summary  # noqa: E402
from bot.alerting.outbox import Entry, Kind  # noqa: E402
from bot.app import build_bolt_app, build_services, build_web_app  # noqa: E402
from bot.settings import Settings  # noqa: E402

TARGET_MS = 10.0


async def run(companies: int, outbox: int, requests: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        feed = Path(folder) / "feed.json"
        feed.write_text(json.dumps({"account": account_document(), "companies": company_records(companies)}))
        settings = Settings(
            bot_token="xoxb-bench",
            signing_secret="bench",
            api_base_url="http://127.0.0.1:9/api/",
            db_path=str(Path(folder) / "bench.db"),
            status_source=f"file:{feed}",
        )
        services = build_services(settings)
        outcome = await services.poller.poll_once()
        assert outcome.ok and outcome.companies == companies, outcome.error
        store, now = services.store, services.clock()
        with store.atomic():
            for n in range(outbox + 1000):
                store.enqueue(Entry(f"bench:{n}", f"C{n % 50:08d}", Kind.NOTICE, body={"n": n}), now)
            store.db.execute("update outbox set state = 'sent' where id <= ?", [outbox])
        app = build_web_app(services, build_bolt_app(services), with_scheduler=False, with_delivery=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        timings: dict[str, list[float]] = {"/metrics": [], "/healthz": [], "/metrics (exposition only)": []}
        size = 0
        async with aiohttp.ClientSession() as http:
            for path in ("/metrics", "/healthz"):
                for n in range(requests + 20):
                    started = time.perf_counter()
                    async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                        body = await response.read()
                        assert response.status in (200, 503)
                    if n >= 20:  # warm-up
                        timings[path].append((time.perf_counter() - started) * 1000)
                    size = len(body) if path == "/metrics" else size
        for n in range(requests):
            started = time.perf_counter()
            services.metrics.exposition()
            timings["/metrics (exposition only)"].append((time.perf_counter() - started) * 1000)
        await runner.cleanup()

    print(f"/metrics and /healthz: {companies:,} companies, {outbox + 1000:,} outbox rows, {requests} requests each")
    print(f"/metrics body: {size:,} bytes")
    header = f"{'request':<28} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    print(header)
    print("-" * len(header))
    for path, values in timings.items():
        s = summary(values)
        print(f"{path:<28} {s['median']:>8.2f} {s['p90']:>8.2f} {s['p99']:>8.2f} {s['max']:>8.2f}")
    p50 = summary(timings["/metrics"])["median"]
    ok = p50 < TARGET_MS
    print(f"target: /metrics p50 under {TARGET_MS:.0f} ms: {p50:.2f} ms: {'met' if ok else 'MISSED'}")
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--outbox", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.companies, args.outbox, args.requests))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
