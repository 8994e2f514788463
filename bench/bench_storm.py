"""Alert storm and feed-change-to-post latency: the real poller, alert engine, outbox and delivery loop.

Run from the repository root:  python bench/bench_storm.py [--profile]

1. Storm. 1,100 companies (1,000 that will fail + 100 healthy) in a FakeFeed (tests/fakes/feed_server.py)
   over HTTP; ALERT_CHANNEL plus two subscribed channels (one `all`, one with 50 specific companies, 40 of
   which fail). A baseline poll, then one poll in which the 1,000 turn to error (an outage at Xero plus
   three other problems). The fake Slack Web API (tests/fakes/slack_api.py) answers one chat.postMessage in
   five with 429 + `Retry-After: 1`. Real pacing (CHANNEL_INTERVAL_SECONDS), the real AsyncWebClient with
   its retry handlers, and the real background delivery loop (build_web_app's Deliverer.run_forever) on the
   real clock. Per channel: top-level messages, thread replies, seconds from the end of the poll until the
   last top-level message and the last message landed, alerts lost (an expected company missing from the
   channel's full list), duplicates (an outbox key delivered twice, or a company listed twice), and Block
   Kit limits (<= 50 blocks, <= 3,000 characters of section text; a section clipped to fit has lost its end)
   that the fake does not enforce.
   Targets: <= 3 top-level messages a channel, all top-level within 10 s, everything within 60 s, 0 lost,
   0 duplicates.
2. Feed change -> post. POLL_INTERVAL_SECONDS=1, the app's own scheduler and delivery loop (build_web_app
   with the scheduler on, served on loopback), the real clock. One company turns to error at a random
   moment; the wall time until the fake Slack receives its chat.postMessage; 10 times.

Exits 1 when a target is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import logging  # noqa: E402
import pstats  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from typing import Any, AsyncIterator  # noqa: E402

from bench._common import SIGNING_SECRET, account_document, company_names, verdict  # noqa: E402
from tests.practice import company  # noqa: E402

ALERTS = "C0ALERTS01"
EVERY = "C0EVERY001"
SOME = "C0SOME0001"
CHANNELS = (ALERTS, EVERY, SOME)
FAILING = 1000
HEALTHY = 100
SOME_FAILING = 40  # of the 50 companies SOME subscribes to; the other 10 stay healthy

# (software, kind, message, how many): an outage at Xero plus three other problems.
STORM_KINDS = [
    ("Xero", "synchronisation", "Xero is currently unavailable. Please try again later.", 600),
    ("QuickBooks Online", "synchronisation", "Token Required", 200),
    (
        "Xero",
        "publication",
        "The contact specified has possibly been merged (or archived). Xero does not indicate if the contact is "
        "merged, therefore AutoEntry cannot know for sure, please contact support@autoentry.com if this contact "
        "is not merged.",
        100,
    ),
    ("Sage 50", "publication", "Invoice Date is blank.", 100),
]

TARGET_TOP_LEVEL = 3
TARGET_TOP_SECONDS = 10.0
TARGET_ALL_SECONDS = 60.0
STORM_TIMEOUT = 100.0
LATENCY_RUNS = 10

_LISTED = re.compile(r"^• \*(.+?)\* \(", re.M)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def block_problems(args: dict[str, Any]) -> list[str]:
    """What real Slack would refuse (invalid_blocks / msg_too_long) but the fake accepts."""
    blocks = args.get("blocks") or []
    problems = []
    if len(blocks) > 50:
        problems.append(f"{len(blocks)} blocks")
    for block in blocks:
        text = (block.get("text") or {}).get("text", "") if isinstance(block.get("text"), dict) else ""
        if block.get("type") == "section" and len(text) > 3000:
            problems.append(f"section text {len(text)} chars")
        elif block.get("type") == "section" and len(text) == 3000 and text.endswith("…"):
            problems.append("a section clipped at 3000 chars (its end cut off)")
    return problems


def practice() -> tuple[list[dict[str, Any]], dict[str, tuple[str, str, str]]]:
    """1,100 healthy companies, and the error each of the first 1,000 will turn to."""
    names = company_names(FAILING + HEALTHY, seed=21)
    turns: dict[str, tuple[str, str, str]] = {}
    plan = [(software, kind, message) for software, kind, message, n in STORM_KINDS for _ in range(n)]
    records = []
    for i, name in enumerate(names):
        software = plan[i][0] if i < FAILING else random.Random(i).choice(["Xero", "Sage 50", "FreeAgent"])
        records.append(company(f"c_{i}", name, software))
        if i < FAILING:
            turns[f"c_{i}"] = plan[i]
    return records, turns


@asynccontextmanager
async def running_app(tmp: str, slack: Any, feed: Any, *, poll_interval: int, with_scheduler: bool) -> AsyncIterator[Any]:
    """The real app on loopback, as `integration-bot serve` runs it (the real clock, real pacing)."""
    from aiohttp import web

    from bot.app import build_bolt_app, build_services, build_web_app
    from bot.practice.feed import HttpFeed
    from bot.settings import Settings

    settings = Settings(
        bot_token="xoxb-bench-token",
        signing_secret=SIGNING_SECRET,
        api_base_url=slack.base_url + "api/",
        db_path=str(Path(tmp) / "bot.db"),
        status_source=feed.base_url,
        status_api_token=feed.token,
        poll_interval_seconds=poll_interval,
        alert_channel=ALERTS,
    )
    services = build_services(settings, clock=utcnow, feed=HttpFeed(feed.base_url, feed.token, backoff_seconds=0.05))
    web_app = build_web_app(services, build_bolt_app(services), with_scheduler=with_scheduler, with_delivery=True)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield services
    finally:
        await runner.cleanup()


# --- 1. the storm --------------------------------------------------------------------------------


async def storm(profile: cProfile.Profile | None) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    from bot.slack.blockkit import escape
    from tests.blockkit import all_text
    from tests.fakes.feed_server import FakeFeed
    from tests.fakes.slack_api import Call, FakeSlack, Injected

    records, turns = practice()
    slack = FakeSlack()
    post_calls = 0
    delivered: list[tuple[float, Call]] = []  # (monotonic, call) of each chat.postMessage that landed
    refused: Counter[str] = Counter()

    def every_fifth(call: Call) -> Injected | None:
        nonlocal post_calls
        post_calls += 1
        if post_calls % 5 == 0:
            refused[str(call.args.get("channel"))] += 1
            return Injected(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
        delivered.append((time.monotonic(), call))
        return None

    slack.rule("chat.postMessage", every_fifth)
    await slack.start()
    feed = FakeFeed(account_document(), records)
    feed.token = "feed-token"
    await feed.start()
    info: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-storm-") as tmp:
            async with running_app(tmp, slack, feed, poll_interval=300, with_scheduler=False) as services:
                store = services.store
                baseline = await services.poller.poll_once()
                assert baseline.ok, baseline.error
                now = utcnow()
                store.subscribe(EVERY, None, "U_HOLDER", now)
                some_ids = [f"c_{i}" for i in range(0, FAILING, FAILING // SOME_FAILING)][:SOME_FAILING]
                some_ids += [f"c_{i}" for i in range(FAILING, FAILING + 50 - SOME_FAILING)]
                for company_id in some_ids:
                    store.subscribe(SOME, company_id, "U_HOLDER", now)
                await asyncio.sleep(0.5)
                assert not delivered, "the baseline poll alerted"

                for record in feed.companies:
                    if record["id"] in turns:
                        _, kind, message = turns[record["id"]]
                        record.update(
                            integration_status="error",
                            error={"kind": kind, "message": message},
                            publication_errors=1 if kind == "publication" else 0,
                        )
                stalls: list[float] = []

                async def watch_loop() -> None:
                    """How long the event loop was blocked (rendering, SQLite): a 10 ms sleep's lateness."""
                    while True:
                        t = time.monotonic()
                        await asyncio.sleep(0.01)
                        stalls.append(time.monotonic() - t - 0.01)

                watcher = asyncio.create_task(watch_loop())
                cpu = time.process_time()
                if profile:
                    profile.enable()
                started = time.monotonic()
                outcome = await services.poller.poll_once()
                poll_end = time.monotonic()
                assert outcome.ok, outcome.error
                info["poll_seconds"] = poll_end - started
                info["changes"] = len(outcome.changes)
                info["queued"] = store.pending_outbox_count()
                deadline = poll_end + STORM_TIMEOUT
                while time.monotonic() < deadline:
                    if store.pending_outbox_count() == 0:
                        break
                    await asyncio.sleep(0.05)
                if profile:
                    profile.disable()
                info["cpu_seconds"] = time.process_time() - cpu
                watcher.cancel()
                info["stall_max"] = max(stalls, default=0.0)
                info["stall_total"] = sum(x for x in stalls if x > 0.05)
                info["pending_left"] = store.pending_outbox_count()
                info["failed_rows"] = store.db.execute("select count(*) from outbox where state = 'failed'").fetchone()[0]
                info["refused_429"] = sum(refused.values())
                info["post_calls"] = post_calls
    finally:
        await feed.stop()
        await slack.stop()

    names = {r["id"]: escape(r["name"]) for r in records}
    expected = {
        ALERTS: set(turns),
        EVERY: set(turns),
        SOME: {cid for cid in some_ids if cid in turns},
    }
    results: dict[str, dict[str, Any]] = {}
    for channel in CHANNELS:
        mine = [(at, call) for at, call in delivered if call.args.get("channel") == channel]
        top = [at for at, call in mine if not call.args.get("thread_ts")]
        replies = [at for at, call in mine if call.args.get("thread_ts")]
        keys = Counter(((call.args.get("metadata") or {}).get("event_payload") or {}).get("key") for _, call in mine)
        listed = Counter(name for _, call in mine for name in _LISTED.findall(all_text(call.args)))
        text = "\n".join(all_text(call.args) for _, call in mine)
        want = {names[cid] for cid in expected[channel]}
        lost = sorted(n for n in want if n not in listed and n not in text)
        extra = sorted(set(listed) - want)
        problems = sorted({p for _, call in mine for p in block_problems(call.args)})
        results[channel] = {
            "top": len(top),
            "replies": len(replies),
            "t_top": (max(top) - poll_end) if top else float("nan"),
            "t_all": (max(at for at, _ in mine) - poll_end) if mine else float("nan"),
            "expected": len(want),
            "lost": len(lost),
            "lost_names": lost[:5],
            "dup_keys": sum(c - 1 for c in keys.values() if c > 1),
            "dup_names": sum(c - 1 for c in listed.values() if c > 1),
            "unexpected": len(extra),
            "refused": refused[channel],
            "block_problems": problems,
        }
    return results, info


def print_storm(results: dict[str, dict[str, Any]], info: dict[str, Any]) -> list[str]:
    print(f"1. Alert storm: {FAILING} of {FAILING + HEALTHY} companies turn to error in one poll")
    print(
        f"   storm poll {info['poll_seconds']:.2f} s ({info['changes']} changes, {info['queued']} outbox rows queued);"
        f" chat.postMessage calls {info['post_calls']}, answered 429 {info['refused_429']};"
        f" rows left pending {info['pending_left']}, failed {info['failed_rows']}"
    )
    print(
        f"   from the poll to the last delivery: CPU {info['cpu_seconds']:.2f} s (this process: app, fake Slack, fake feed);"
        f" event loop blocked at most {info['stall_max'] * 1000:.0f} ms at a time, {info['stall_total']:.2f} s in stalls > 50 ms"
    )
    header = f"   {'channel':<22}{'expect':>7}{'top':>5}{'replies':>8}{'429s':>6}{'t_top s':>9}{'t_all s':>9}{'lost':>6}{'dups':>6}{'extra':>7}"
    print(header)
    labels = {ALERTS: "ALERT_CHANNEL", EVERY: "subscribe all", SOME: "50 companies"}
    missed = []
    for channel in CHANNELS:
        r = results[channel]
        dups = r["dup_keys"] + r["dup_names"]
        print(
            f"   {labels[channel]:<22}{r['expected']:>7}{r['top']:>5}{r['replies']:>8}{r['refused']:>6}"
            f"{r['t_top']:>9.2f}{r['t_all']:>9.2f}{r['lost']:>6}{dups:>6}{r['unexpected']:>7}"
        )
        if r["top"] > TARGET_TOP_LEVEL:
            missed.append(f"{labels[channel]}: {r['top']} top-level messages (target <= {TARGET_TOP_LEVEL})")
        if not r["t_top"] <= TARGET_TOP_SECONDS:
            missed.append(f"{labels[channel]}: top-level after {r['t_top']:.1f} s (target <= {TARGET_TOP_SECONDS:.0f} s)")
        if not r["t_all"] <= TARGET_ALL_SECONDS:
            missed.append(f"{labels[channel]}: full list after {r['t_all']:.1f} s (target <= {TARGET_ALL_SECONDS:.0f} s)")
        if r["lost"]:
            missed.append(f"{labels[channel]}: {r['lost']} alerts lost, e.g. {r['lost_names']}")
        if dups:
            missed.append(f"{labels[channel]}: {r['dup_keys']} duplicate keys, {r['dup_names']} companies listed twice")
        if r["unexpected"]:
            missed.append(f"{labels[channel]}: {r['unexpected']} companies listed that the channel does not follow")
        if r["block_problems"]:
            missed.append(f"{labels[channel]}: Block Kit problems: {', '.join(r['block_problems'][:4])}")
    if info["pending_left"] or info["failed_rows"]:
        missed.append(f"outbox: {info['pending_left']} rows still pending, {info['failed_rows']} failed")
    print(
        f"   targets: top-level <= {TARGET_TOP_LEVEL} a channel within {TARGET_TOP_SECONDS:.0f} s, everything within "
        f"{TARGET_ALL_SECONDS:.0f} s, 0 lost, 0 duplicates, Block Kit limits (<= 50 blocks, <= 3000 chars a section)"
    )
    return missed


# --- 2. feed change -> post ------------------------------------------------------------------------


async def change_to_post() -> tuple[list[float], list[float]]:
    from tests.fakes.feed_server import FakeFeed
    from tests.fakes.slack_api import FakeSlack

    records, _ = practice()
    slack = FakeSlack()
    await slack.start()
    feed = FakeFeed(account_document(), records)
    feed.token = "feed-token"
    await feed.start()
    rng = random.Random(5)
    latencies: list[float] = []
    polls: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-storm-latency-") as tmp:
            async with running_app(tmp, slack, feed, poll_interval=1, with_scheduler=True) as services:
                poller = services.poller
                original = poller._poll

                async def timed_poll() -> Any:
                    t = time.monotonic()
                    try:
                        return await original()
                    finally:
                        polls.append(time.monotonic() - t)

                poller._poll = timed_poll  # type: ignore[method-assign]
                deadline = time.monotonic() + 15
                while services.store.last_poll() is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1.5)
                assert not slack.posts(), "the baseline poll alerted"
                for run in range(LATENCY_RUNS):
                    await asyncio.sleep(1.0 + rng.random())  # a random phase against the poll interval
                    feed.update(
                        f"c_{FAILING + run}",
                        integration_status="error",
                        error={"kind": "synchronisation", "message": "Token Required"},
                    )
                    changed = time.monotonic()
                    calls = await slack.wait_for(lambda: len(slack.posts()) > run and slack.posts(), timeout=15)
                    latencies.append(calls[run].at - changed)
    finally:
        await feed.stop()
        await slack.stop()
    return latencies, polls


# --- main ----------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="   log %(levelname)s %(name)s: %(message)s")
    profile = cProfile.Profile() if args.profile else None
    wall = time.monotonic()
    results, info = await storm(profile)
    missed = print_storm(results, info)
    if profile:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
        stats.print_stats(30)
        print("\n   profile of the storm poll and its delivery (cumulative):")
        print("\n".join("   " + line for line in out.getvalue().splitlines()[:60]))
    if not args.storm_only:
        latencies, polls = await change_to_post()
        print(f"\n2. Feed change -> chat.postMessage, POLL_INTERVAL_SECONDS=1, {FAILING + HEALTHY} companies, real scheduler")
        print(
            f"   runs {len(latencies)}: median {statistics.median(latencies):.2f} s, mean {statistics.mean(latencies):.2f} s, max {max(latencies):.2f} s, "
            f"min {min(latencies):.2f} s; poll cycle median {statistics.median(polls) * 1000:.0f} ms, max {max(polls) * 1000:.0f} ms"
        )
        print("   all: " + " ".join(f"{x:.2f}" for x in latencies))
    print(f"\ntotal {time.monotonic() - wall:.0f} s")
    return verdict(missed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", action="store_true", help="cProfile the storm poll and its delivery")
    parser.add_argument("--storm-only", action="store_true", help="skip part 2")
    sys.exit(asyncio.run(main(parser.parse_args())))
