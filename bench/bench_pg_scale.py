"""Several `integration-bot serve` processes on one PostgreSQL database: 1,000 workspaces of 1,000 companies.

Run from the repository root:
    DATABASE_URL=postgresql://user:password@127.0.0.1:5432/db python bench/bench_pg_scale.py
    (or --database-url URL; --workspaces 1000 --companies 1000 by default)

Everything lives in a schema of its own (`bench_pg_scale`), dropped at the end.

- Feeds: one process (aiohttp) serves every workspace's AutoEntry feed under `/w/<n>` (`/account`, and
  `/companies` in pages of 500). Workspace n lists one of TEMPLATES practices of bench/_common.py's
  companies (pre-rendered JSON, so serving costs little: its CPU is reported); "a change" moves ~1% of every
  practice's companies on (errors, clears, Sync Apps offline) and renders the pages again.
- Workspaces: installed and connected through the bot's own code (slack_sdk's SQLAlchemy installation
  store, `record_install`, `connect_workspace`, tokens encrypted), as the Add to Slack and Connect flows do.
- Bots: real `python -m bot serve` processes (many-workspace mode, POLL_INTERVAL_SECONDS 300, the default),
  against the fake Slack Web API (tests/fakes/slack_api.py) in this process. No channel subscribes, so the
  rounds measure polling; the storm (below) measures alerts.
- Rounds (a round: every workspace polled once, read from `poll_runs`):
  1. fill: three processes on the empty database (every company new);
  2. one process started on the filled database, ~1% changed (a start-up: every listing parsed and compared);
  3. the same with three processes; then 20 s idle (no poll due), and the steady round: the next polls,
     an interval after the last, ~1% changed, in the same three processes.
  CPU seconds of each bot process, of the feed server and of PostgreSQL (every `postgres` process of the
  server, and the backends of this database alone) from /proc over each round.
- The storm of 1,000 companies with a process killed is a test: tests/test_serve_postgres.py.

Targets (issue "Must reach", SPEC.md "Scaling out: PostgreSQL"): the three-process round < 300 s (the default
poll interval); three processes' throughput >= 1.3x one's on this 2-core machine.
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
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import psycopg  # noqa: E402

from bench._common import verdict  # noqa: E402
from bench._pg_scale_parts import (  # noqa: E402
    SCHEMA,
    Bots,
    CpuWindow,
    Feeds,
    Round,
    projection,
    seed_workspaces,
    wait_round,
)
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.postgres import with_search_path  # noqa: E402

IDLE_SECONDS = 20.0
DEFAULT_INTERVAL = 300


async def restart_round(label: str, bots: Bots, feeds: Feeds, url: str, workspaces: int) -> Round:
    """Every workspace due now, ~1% changed, `bots` started: the time until every workspace was polled."""
    feeds.change()
    with psycopg.connect(url, autocommit=True) as conn:  # the interval has passed, for every workspace
        conn.execute("UPDATE workspace_polls SET next_poll_at = now()")
    since = time.time()
    window = CpuWindow(bots, feeds, url)
    bots.start()
    await bots.ready()
    result = await wait_round(label, url, workspaces, since, window, bots)
    result.print()
    return result


async def phases(args: argparse.Namespace, url: str, slack: FakeSlack, tmp: Path) -> tuple[list[Round], dict[str, float]]:
    feeds = Feeds(args.workspaces, args.companies)
    rounds: list[Round] = []
    extra: dict[str, float] = {}
    try:
        await seed_workspaces(url, slack, feeds.base_url, args.workspaces, tmp)
        print(f"seeded {args.workspaces:,} workspaces; feeds served by pid {feeds.pid}", flush=True)
        three = Bots(3, url, slack, tmp, DEFAULT_INTERVAL)
        window = CpuWindow(three, feeds, url)
        since = time.time()
        three.start()
        await three.ready()
        rounds.append(await wait_round("fill: 3 processes, empty database", url, args.workspaces, since, window, three))
        rounds[-1].print()
        await three.stop()
        one = Bots(1, url, slack, tmp, DEFAULT_INTERVAL)
        rounds.append(await restart_round("start-up round: 1 process", one, feeds, url, args.workspaces))
        await one.stop()
        three = Bots(3, url, slack, tmp, DEFAULT_INTERVAL)
        rounds.append(await restart_round("start-up round: 3 processes", three, feeds, url, args.workspaces))
        idle = CpuWindow(three, feeds, url)
        await asyncio.sleep(IDLE_SECONDS)
        extra.update(idle.idle(IDLE_SECONDS, url, args.workspaces))
        if not args.no_steady:
            feeds.change()
            since = time.time()
            window = CpuWindow(three, feeds, url)
            rounds.append(await wait_round("steady round: 3 processes, 1% changed", url, args.workspaces, since, window, three))
            rounds[-1].print()
        await three.stop()
        extra["feed_requests"] = feeds.requests()
    finally:
        feeds.stop()
    return rounds, extra


def report(rounds: list[Round], extra: dict[str, float], workspaces: int) -> list[str]:
    missed: list[str] = []
    one = next(r for r in rounds if r.label == "start-up round: 1 process")
    three = next(r for r in rounds if r.label == "start-up round: 3 processes")
    ratio = one.seconds / three.seconds
    print(f"throughput, 3 processes vs 1 (same round, same work): {ratio:.2f}x (target >= 1.3x)")
    print(
        f"idle (no poll due), {workspaces:,} workspaces, 3 processes: bots {extra['idle_bot_cpu_per_s']:.3f} CPU s/s"
        f" ({extra['idle_bot_cpu_per_s'] / 3:.3f} a process), PostgreSQL (this database's backends)"
        f" {extra['idle_pg_cpu_per_s']:.3f} CPU s/s"
    )
    print(f"feed requests served: {extra['feed_requests']:,.0f}")
    steady = next((r for r in rounds if r.label.startswith("steady")), three)
    for line in projection(steady, extra, workspaces, DEFAULT_INTERVAL):
        print(line)
    worst = max(r.seconds for r in rounds if "3 processes" in r.label and not r.label.startswith("fill"))
    if worst >= DEFAULT_INTERVAL:
        missed.append(f"a three-process round took {worst:.0f} s (target < {DEFAULT_INTERVAL} s)")
    if ratio < 1.3:
        missed.append(f"three processes' throughput {ratio:.2f}x one's (target >= 1.3x)")
    return missed


async def run(args: argparse.Namespace) -> int:
    base_url = args.database_url or os.environ.get("DATABASE_URL", "").strip()
    if not base_url:
        print("Set DATABASE_URL (or --database-url) to a PostgreSQL database this benchmark may use.")
        return 0
    url = with_search_path(base_url, SCHEMA)
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    slack = FakeSlack()
    await slack.start()
    missed: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pg-scale-") as tmp:
            rounds, extra = await phases(args, url, slack, Path(tmp))
            missed += report(rounds, extra, args.workspaces)
    finally:
        await slack.stop()
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    return verdict(missed)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: DATABASE_URL)")
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--no-steady", action="store_true", help="skip the steady round (it waits an interval)")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
