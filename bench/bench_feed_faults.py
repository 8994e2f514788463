"""Soak under a hostile status feed: the real app, its own scheduler and delivery loop, POLL_INTERVAL_SECONDS=1.

Run from the repository root:  python bench/bench_feed_faults.py [--seconds 60] (300 for the five-minute run)

The feed (tests/fakes/feed_server.py, on loopback) serves 200 healthy companies and six faults at once:
  1. a record with publication_errors 1e300 and one with 10**30, all the time;
  2. long texts: every other company that turns to error does so with a 2,400-character message;
  3. a company in error (there at the start) left out of about half the listings, at random;
  4. one id carried by two records that disagree (integrated / in error), their order swapping every 0.25 s;
  5. a hung page: for 8 s of every 30, /companies sends its headers and then one byte every 0.2 s;
  6. an endless cursor: for 6 s of every 30, the listing never ends (a new cursor, and new companies, on
     every page; then the same companies again under new cursors).
Meanwhile a healthy company turns to error every 5 s (a new one each time; --change-every) and clears 15 s
later.

Measured: alerts lost (a company that turned to error and stayed so for 12 s, never named in the alert
channel; and recoveries never told), false alerts (a company named that never changed, a "Closed: ... no
longer in the status feed", an alert for a duplicate-id or endless-cursor company), /healthz sampled every
0.5 s (truthful: 503 exactly when its status says "failing"; never "ok" while the latest finished poll
failed, while a poll has waited on the feed for more than an interval, or while a feed fault has lasted
longer than the fetch deadline plus an interval), and feed requests per page per interval (all requests,
the account's included, over (pages + 1) x intervals; and the worst 5-second window).
Targets: 0 lost, 0 false, healthz truthful at every sample, <= 2 requests per page per interval.
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
import json  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from typing import Any  # noqa: E402

from bench._common import SIGNING_SECRET, account_document, verdict  # noqa: E402
from tests.practice import company  # noqa: E402

ALERTS = "C0ALERTS01"
HEALTHY = 200
PAGE_SIZE = 50
INTERVAL = 1
CYCLE = 30.0
HUNG = (14.0, 22.0)  # seconds into each cycle
ENDLESS = (24.0, 30.0)
# Each change costs the alert channel three messages (the alert, its update when resolved, the reply), and
# delivery paces a channel at one a second (bot/alerting/delivery.py): a change every 5 s stays within that.
CHANGE_EVERY = 5.0
STAYS_IN_ERROR = 15.0
LONG_MESSAGE = "Line 1: Account Code 4010 is not valid for this document. " + "Line n: Tax rate missing. " * 90


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def fault_now(elapsed: float) -> str | None:
    phase = elapsed % CYCLE
    if HUNG[0] <= phase < HUNG[1]:
        return "hung"
    if ENDLESS[0] <= phase < ENDLESS[1]:
        return "endless"
    return None


def fault_started(elapsed: float) -> float:
    """Seconds since the current whole-feed fault began (0 when none)."""
    phase = elapsed % CYCLE
    for start, end in (HUNG, ENDLESS):
        if start <= phase < end:
            return phase - start
    return 0.0


def build_practice() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    records = [company(f"h_{n:03d}", f"Healthy Company {n:03d}") for n in range(HEALTHY)]
    faulty = {
        "huge_float": company("f_1", "Huge Float Ltd", publication_errors=1e300),
        "huge_int": company("f_2", "Huge Int Ltd", publication_errors=10**30),
        "missing": company(
            "f_3",
            "Sometimes Missing Ltd",
            integration_status="error",
            error={"kind": "synchronisation", "message": "Token Required"},
        ),
        "dup_a": company("f_4", "Twin Records Ltd"),
        "dup_b": company(
            "f_4",
            "Twin Records Ltd",
            integration_status="error",
            error={"kind": "publication", "message": "Invoice/Bill Already Exists in Xero"},
        ),
    }
    return records + list(faulty.values()), faulty


async def run(seconds: float, change_every: float) -> dict[str, Any]:
    from aiohttp import ClientSession, web

    from bot.app import build_bolt_app, build_services, build_web_app, fetch_deadline
    from bot.practice.feed import HttpFeed
    from bot.settings import Settings
    from tests.blockkit import all_text
    from tests.fakes.feed_server import FakeFeed
    from tests.fakes.slack_api import FakeSlack

    records, faulty = build_practice()
    slack = FakeSlack()
    await slack.start()
    feed = FakeFeed(account_document(), records, page_size=PAGE_SIZE)
    feed.token = "feed-token"
    await feed.start()
    pages = -(-len(records) // PAGE_SIZE)
    deadline = fetch_deadline(INTERVAL)
    rng = random.Random(10)
    changes: list[tuple[str, float]] = []  # (company name, when it turned to error)
    samples: list[dict[str, Any]] = []
    untruthful: list[str] = []
    request_times: list[float] = []

    class Timed(list):  # type: ignore[type-arg]
        def append(self, path: str) -> None:
            request_times.append(time.monotonic())
            super().append(path)

    feed.requests = Timed()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-feed-faults-") as tmp:
            settings = Settings(
                bot_token="xoxb-bench-token",
                signing_secret=SIGNING_SECRET,
                api_base_url=slack.base_url + "api/",
                db_path=str(Path(tmp) / "bot.db"),
                status_source=feed.base_url,
                status_api_token=feed.token,
                poll_interval_seconds=INTERVAL,
                alert_channel=ALERTS,
            )
            http_feed = HttpFeed(feed.base_url, feed.token, backoff_seconds=0.05, fetch_deadline=deadline)
            services = build_services(settings, clock=utcnow, feed=http_feed)
            web_app = build_web_app(services, build_bolt_app(services), with_scheduler=True, with_delivery=True)
            runner = web.AppRunner(web_app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            try:
                while services.store.last_poll() is None:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1.5)
                start = time.monotonic()
                requests_before = len(request_times)

                async def swap_twins() -> None:
                    while True:
                        await asyncio.sleep(0.25)
                        a, b = faulty["dup_a"], faulty["dup_b"]
                        ia, ib = feed.companies.index(a), feed.companies.index(b)
                        feed.companies[ia], feed.companies[ib] = b, a

                async def hide_sometimes() -> None:
                    while True:
                        await asyncio.sleep(rng.uniform(0.3, 1.5))
                        feed.hidden = {"f_3"} if rng.random() < 0.5 else set()

                async def faults() -> None:
                    endless_kind = "new"
                    while True:
                        fault = fault_now(time.monotonic() - start)
                        feed.drip_seconds = 0.2 if fault == "hung" else None
                        if fault == "endless" and feed.endless_cursor is None:
                            feed.endless_cursor = endless_kind
                            endless_kind = "same" if endless_kind == "new" else "new"
                        elif fault != "endless":
                            feed.endless_cursor = None
                        await asyncio.sleep(0.05)

                async def turn_companies() -> None:
                    n = 0
                    while True:
                        await asyncio.sleep(change_every)
                        cid, name = f"h_{n:03d}", f"Healthy Company {n:03d}"
                        message = LONG_MESSAGE if n % 2 else "Token Required"
                        feed.update(cid, integration_status="error", error={"kind": "synchronisation", "message": message})
                        changes.append((name, time.monotonic()))
                        asyncio.get_running_loop().call_later(
                            STAYS_IN_ERROR, lambda cid=cid: feed.update(cid, integration_status="integrated", error=None)
                        )
                        n += 1

                async def sample_health(http: ClientSession) -> None:
                    while True:
                        await asyncio.sleep(0.5)
                        elapsed = time.monotonic() - start
                        before = services.store.last_poll()
                        running_before = services.poller.running_since
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                            code, body = response.status, await response.json()
                        after = services.store.last_poll()
                        state = body["status"]
                        sample = {"t": round(elapsed, 1), "code": code, "status": state, "fault": fault_now(elapsed)}
                        samples.append(sample)
                        problems = []
                        if (code == 503) != (state == "failing"):
                            problems.append("code and status disagree")
                        if state == "ok":
                            if before is not None and after is not None and not before.ok and not after.ok:
                                problems.append("ok while the latest poll failed")
                            if running_before is not None and (utcnow() - running_before).total_seconds() > INTERVAL + 0.5:
                                problems.append("ok while a poll waits on the feed")
                            if fault_started(elapsed) > deadline + INTERVAL + 1.5:
                                problems.append(f"ok {fault_started(elapsed):.1f} s into a feed fault")
                        elif (
                            before is not None
                            and after is not None
                            and before.ok
                            and after.ok
                            and services.poller.running_since is None
                        ):
                            if state != "ok" and body.get("problem") is None:
                                problems.append(f"{state} with no problem given")
                        if problems:
                            untruthful.append(f"t={sample['t']} {state}/{code} fault={sample['fault']}: {', '.join(problems)}")

                async with ClientSession() as http:
                    tasks = [
                        asyncio.create_task(c)
                        for c in (swap_twins(), hide_sometimes(), faults(), turn_companies(), sample_health(http))
                    ]
                    await asyncio.sleep(seconds)
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                elapsed = time.monotonic() - start
                feed_requests = request_times[requests_before:]
                feed.drip_seconds = None
                feed.endless_cursor = None
                feed.hidden = set()
                # Let the last changes be seen, cleared and told.
                await asyncio.sleep(STAYS_IN_ERROR + 4)
                await services.deliverer.drain(timeout=20)
                failed_polls = services.store.db.execute("select count(*) from poll_runs where ok = 0").fetchone()[0]
                good_polls = services.store.db.execute("select count(*) from poll_runs where ok = 1").fetchone()[0]
            finally:
                await runner.cleanup()
    finally:
        await feed.stop()
        await slack.stop()

    posts = slack.posts(ALERTS)
    top = [all_text(p.args) for p in posts if not p.args.get("thread_ts")]
    replies = [all_text(p.args) for p in posts if p.args.get("thread_ts")]
    everything = "\n".join(top + replies)
    expected = [name for name, at in changes]
    # An alert is rendered when it is sent: one sent after its company cleared says "Resolved: ..." at once.
    # It still reached the channel; it is counted apart, as late.
    lost = [name for name in expected if not any(name in text for text in top + replies)]
    late = [name for name in expected if not any(name in text for text in top + replies if "Resolved" not in text[:9])]
    if lost and "--debug" in sys.argv:
        for p in posts:
            print("   POST", p.args.get("thread_ts") is not None, all_text(p.args)[:150].replace("\n", " | "))
    resolved_lost = [
        name for name in expected if not any(name in text and ("working again" in text or "Resolved" in text) for text in replies)
    ]
    false = []
    for text in top:
        if not any(name in text for name in expected) and "status feed" not in text:
            false.append(text[:80])
    for word in ("Huge Float", "Huge Int", "Sometimes Missing", "Twin Records", "Endless"):
        if word in everything:
            false.append(f"{word} named in the channel")
    if "no longer in the status feed" in everything:
        false.append("a company closed as removed")
    named = Counter(name for name in expected for text in top if text.startswith(name) or f"{name}:" in text[:60])
    duplicates = [name for name, n in named.items() if n > 1]

    intervals = elapsed / INTERVAL
    per_page = len(feed_requests) / ((pages + 1) * intervals)
    worst = 0.0
    for i, t in enumerate(feed_requests):
        j = i
        while j < len(feed_requests) and feed_requests[j] - t < 5.0:
            j += 1
        worst = max(worst, (j - i) / ((pages + 1) * 5.0 / INTERVAL))
    return {
        "seconds": elapsed,
        "change_every": change_every,
        "changes": len(expected),
        "lost": lost,
        "resolved_lost": resolved_lost,
        "late": late,
        "false": false,
        "duplicates": duplicates,
        "samples": samples,
        "untruthful": untruthful,
        "requests": len(feed_requests),
        "pages": pages,
        "per_page": per_page,
        "worst": worst,
        "polls": (good_polls, failed_polls),
        "feed_notices": sum(1 for text in top if "status feed" in text),
    }


def report(r: dict[str, Any]) -> list[str]:
    by_state = Counter((s["status"], s["code"]) for s in r["samples"])
    print(
        f"Soak under a hostile feed: {r['seconds']:.0f} s, POLL_INTERVAL_SECONDS={INTERVAL}, {HEALTHY} healthy companies + 5 faulty records, "
        f"a change every {r['change_every']:g} s"
    )
    print(f"   polls: {r['polls'][0]} good, {r['polls'][1]} failed; feed outage notices posted: {r['feed_notices']}")
    print(
        f"   healthy companies turned to error: {r['changes']}; alerts lost: {len(r['lost'])}; recoveries not told: {len(r['resolved_lost'])}; "
        f"alerts that reached Slack only after their company had cleared ({STAYS_IN_ERROR:g} s later): {len(r['late'])}"
    )
    print(f"   false alerts: {len(r['false'])}; companies alerted twice for one change: {len(r['duplicates'])}")
    print(
        f"   /healthz samples: {len(r['samples'])} ({', '.join(f'{s}/{c}: {n}' for (s, c), n in sorted(by_state.items()))}); untruthful: {len(r['untruthful'])}"
    )
    print(
        f"   feed requests: {r['requests']} for a listing of {r['pages']} pages + the account: "
        f"{r['per_page']:.2f} per page per interval (worst 5 s window {r['worst']:.2f})"
    )
    missed = []
    if r["lost"] or r["resolved_lost"]:
        missed.append(f"lost: {r['lost'][:5]} recoveries: {r['resolved_lost'][:5]}")
    if r["false"] or r["duplicates"]:
        missed.append(f"false: {r['false'][:5]} twice: {r['duplicates'][:5]}")
    if r["untruthful"]:
        missed.append("healthz: " + "; ".join(r["untruthful"][:5]))
    if r["per_page"] > 2:
        missed.append(f"{r['per_page']:.2f} feed requests per page per interval")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the faults run (300 for five minutes)")
    parser.add_argument(
        "--change-every", type=float, default=CHANGE_EVERY, help="seconds between healthy companies turning to error"
    )
    parser.add_argument("--debug", action="store_true", help="print every post when one is lost")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="   log %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    result = asyncio.run(run(args.seconds, args.change_every))
    missed = report(result)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "samples"}, default=str))
    return verdict(missed)


if __name__ == "__main__":
    sys.exit(main())
