"""Fuzzed requests against the real app: how many get a status >= 500 (the target is 0) or log an error.

Run from the repository root:  python bench/bench_fuzz.py [--requests 10000] [--concurrency 16] [--seed 1]

The app runs as in the tests (tests/conftest.py running_bot): build_services -> build_bolt_app ->
build_web_app on 127.0.0.1, a fake Slack Web API (tests/fakes/slack_api.py) and the test practice polled once
from a local feed (tests/fakes/feed_server.py). The client sends the seeded requests of tests/fuzzing.py over
HTTP on loopback: slash commands, block_actions, view submissions and events, bent (wrong types, deep nesting,
ids in other scripts, bodies that are not objects), a fifth of them forged or garbled (timestamps `abc`, `1e9`,
5,000 digits, non-ASCII signatures, utf-16 and unknown charsets, byte 0xFF). Prints the count per status, the
count >= 500 and the count of ERROR log records; exits 1 unless both are 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import logging  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import aiohttp  # noqa: E402

from tests.conftest import SIGNING_SECRET, FakeClock, running_bot  # noqa: E402
from tests.fakes.feed_server import FakeFeed  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.fuzzing import Fuzzer  # noqa: E402
from tests.practice import HOLDER, PERMITTED, STRANGER, UNPERMITTED, practice  # noqa: E402


class ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def run(requests: int, concurrency: int, seed: int) -> int:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("bot").setLevel(logging.ERROR)  # each refused request logs a warning: keep the output short
    logging.getLogger("handlers").setLevel(logging.ERROR)
    slack = FakeSlack()
    for user_id, email, name in (HOLDER, PERMITTED, UNPERMITTED, STRANGER):
        slack.add_user(user_id, email, name)
    await slack.start()
    account, companies = practice()
    feed = FakeFeed(account, companies)
    feed.token = "feed-token"
    await feed.start()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with running_bot(Path(tmp), slack, feed, FakeClock()) as bot:
            assert (await bot.poll()).ok
            fuzzer = Fuzzer(SIGNING_SECRET, seed=seed, response_url=slack.response_url("fuzz"))
            queue = [fuzzer.request() for _ in range(requests)]
            url = f"{bot.base_url}/slack/events"
            started = time.perf_counter()

            async def worker(http: aiohttp.ClientSession) -> None:
                while queue:
                    request = queue.pop()
                    try:
                        async with http.post(url, data=request.body, headers=request.headers) as response:
                            await response.read()
                            statuses[response.status] += 1
                            if response.status >= 500 and len(failures) < 5:
                                failures.append(f"{response.status} {request.what}: {request.body[:160]!r}")
                    except aiohttp.ClientError as exc:  # the server hung up: count it as a failure
                        statuses[599] += 1
                        failures.append(f"no answer ({exc}) {request.what}")

            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
                await asyncio.gather(*(worker(http) for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
            await asyncio.sleep(1)  # the presses' lazy listeners finish (their errors count too)
    await feed.stop()
    await slack.stop()
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    print(f"fuzzed requests: {sum(statuses.values())} in {elapsed:.1f} s ({concurrency} at a time, seed {seed})")
    print("by status: " + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items())))
    print(f"status >= 500: {server_errors} (target 0)")
    print(f"ERROR log records: {len(errors.records)} (target 0)")
    for line in failures:
        print("  " + line)
    for record in errors.records[:5]:
        print(f"  {record.name}: {record.getMessage()[:200]}")
    return 0 if server_errors == 0 and not errors.records else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.requests, args.concurrency, args.seed)))


if __name__ == "__main__":
    main()
