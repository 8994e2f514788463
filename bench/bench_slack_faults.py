"""Slack's faults: one channel's 429s must not delay another channel; a big storm must never be too big to send.

Run from the repository root:  python bench/bench_slack_faults.py

Both parts run the real app (build_web_app: the poller, the alert engine, the outbox and its background
delivery loop, real pacing, the real AsyncWebClient) on the real clock against the fake Slack Web API
(tests/fakes/slack_api.py, which refuses a message whose blocks hold more than 12,000 characters of text
with msg_blocks_too_long, as Slack does) and the fake status feed over HTTP.

1. Head-of-line blocking. ALERT_CHANNEL is healthy; a second channel, subscribed to every company, answers
   every chat.postMessage with 429 and `Retry-After: 20` (and, in a second run, with HTTP 500). One
   company turns to error, 5 times a few seconds apart; for each, the seconds from the start of the poll
   until the healthy channel's post lands. Target: every one under 2 s.
2. Too big to send. 1,000 of 1,100 companies turn to error in one poll, with 15 different 500-character
   messages. ALERT_CHANNEL must list every one of the 1,000 in the storm's thread. Targets: 1,000 listed,
   0 refused for size, 0 failed rows, within 120 s.

Exits 1 when a target is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncio  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench._common import account_document, company_names, verdict  # noqa: E402
from bench.bench_storm import ALERTS, running_app, utcnow  # noqa: E402
from tests.practice import company  # noqa: E402

BLOCKED = "C0BLOCKED1"
RUNS = 5
TARGET_DELAY_SECONDS = 2.0
STORM_FAILING = 1000
STORM_HEALTHY = 100
STORM_KINDS = 15
STORM_TIMEOUT = 120.0
_LISTED = re.compile(r"^• \*(.+?)\* \(", re.M)


def long_message(n: int) -> str:
    """A 500-character error message, different for each n."""
    text = f"Error {n}: the accounting software refused the document. " + "It says more about why, at length. " * 20
    return text[:500]


async def head_of_line(status: int, headers: dict[str, str]) -> list[float]:
    from tests.fakes.feed_server import FakeFeed
    from tests.fakes.slack_api import Call, FakeSlack, Injected

    slack = FakeSlack()
    blocked_calls = 0

    def blocked(call: Call) -> Injected | None:
        nonlocal blocked_calls
        if call.args.get("channel") != BLOCKED:
            return None
        blocked_calls += 1
        return Injected(status, {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}, headers)

    slack.rule("chat.postMessage", blocked)
    await slack.start()
    records = [company(f"c_{i}", name) for i, name in enumerate(company_names(50, seed=4))]
    feed = FakeFeed(account_document(), records)
    feed.token = "feed-token"
    await feed.start()
    delays: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
            async with running_app(tmp, slack, feed, poll_interval=300, with_scheduler=False) as services:
                assert (await services.poller.poll_once()).ok
                services.store.subscribe(BLOCKED, None, "U_HOLDER", utcnow())
                for run in range(RUNS):
                    feed.update(
                        f"c_{run}", integration_status="error", error={"kind": "synchronisation", "message": "Token Required"}
                    )
                    polled = time.monotonic()
                    assert (await services.poller.poll_once()).ok
                    landed = await slack.wait_for(
                        lambda: len(slack.channels_history.get(ALERTS, [])) > run and slack.posts(ALERTS), timeout=60
                    )
                    delays.append(landed[-1].at - polled)
                    await asyncio.sleep(1.5)  # the next alert is not held by the healthy channel's own pacing
    finally:
        await feed.stop()
        await slack.stop()
    print(f"   blocked channel: {blocked_calls} refused calls in all")
    return delays


async def big_storm() -> dict[str, Any]:
    from bot.slack.blockkit import escape
    from tests.blockkit import all_text
    from tests.fakes.feed_server import FakeFeed
    from tests.fakes.slack_api import FakeSlack

    names = company_names(STORM_FAILING + STORM_HEALTHY, seed=21)
    records = [company(f"c_{i}", name, "Xero") for i, name in enumerate(names)]
    slack = FakeSlack()
    await slack.start()
    feed = FakeFeed(account_document(), records)
    feed.token = "feed-token"
    await feed.start()
    info: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-faults-storm-") as tmp:
            async with running_app(tmp, slack, feed, poll_interval=300, with_scheduler=False) as services:
                store = services.store
                assert (await services.poller.poll_once()).ok
                for i, record in enumerate(feed.companies[:STORM_FAILING]):
                    record.update(
                        integration_status="error", error={"kind": "publication", "message": long_message(i % STORM_KINDS)}
                    )
                started = time.monotonic()
                assert (await services.poller.poll_once()).ok
                deadline = started + STORM_TIMEOUT
                while store.pending_outbox_count() and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                info["seconds"] = time.monotonic() - started
                info["pending"] = store.pending_outbox_count()
                info["failed"] = store.db.execute("select count(*) from outbox where state = 'failed'").fetchone()[0]
    finally:
        await feed.stop()
        await slack.stop()
    landed = slack.channels_history.get(ALERTS, [])
    listed = {name for message in landed if message.get("thread_ts") for name in _LISTED.findall(all_text(message))}
    want = {escape(name) for name in names[:STORM_FAILING]}
    sizes = [len(all_text(call.args)) for call in slack.posts(ALERTS)]
    info.update(
        top=sum(1 for m in landed if not m.get("thread_ts")),
        replies=sum(1 for m in landed if m.get("thread_ts")),
        listed=len(want & listed),
        missing=len(want - listed),
        refused_for_size=len(slack.refused_for_size),
        largest=max(sizes, default=0),
    )
    return info


async def main() -> int:
    logging.basicConfig(level=logging.ERROR, format="   log %(levelname)s %(name)s: %(message)s")
    missed: list[str] = []
    wall = time.monotonic()
    print("1. Head-of-line blocking: a healthy channel's alert while another channel is refused")
    for label, status, headers in (("429 Retry-After: 20", 429, {"Retry-After": "20"}), ("HTTP 500", 500, {})):
        delays = await head_of_line(status, headers)
        print(
            f"   {label}: healthy channel's alert after "
            + ", ".join(f"{d:.2f}" for d in delays)
            + f" s (max {max(delays):.2f} s)"
        )
        if max(delays) >= TARGET_DELAY_SECONDS:
            missed.append(f"{label}: a healthy channel waited {max(delays):.2f} s (target < {TARGET_DELAY_SECONDS} s)")

    print(f"\n2. A {STORM_FAILING:,}-company storm, {STORM_KINDS} different 500-character messages")
    info = await big_storm()
    print(
        f"   delivered in {info['seconds']:.1f} s: {info['top']} top-level, {info['replies']} replies; "
        f"{info['listed']} of {STORM_FAILING} companies listed ({info['missing']} missing); "
        f"refused for size {info['refused_for_size']}; failed rows {info['failed']}; pending {info['pending']}; "
        f"largest message {info['largest']:,} characters of text"
    )
    if info["missing"] or info["refused_for_size"] or info["failed"] or info["pending"]:
        missed.append("the storm lost companies or had messages refused")
    print(f"\ntotal {time.monotonic() - wall:.0f} s")
    return verdict(missed)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
