"""Several `integration-bot serve` processes on one PostgreSQL database: 1,000 workspaces of 1,000 companies.

Run from the repository root:
    DATABASE_URL=postgresql://user:password@127.0.0.1:5432/db python bench/bench_pg_scale.py
    (or --database-url URL; --workspaces 1000 --companies 1000 by default)

Everything lives in a schema of its own (`bench_pg_scale`, or --schema), dropped at the end.

- Feeds: one process (aiohttp) serves every workspace's AutoEntry feed under `/w/<n>` (`/account`, and
  `/companies` in pages of 500). Workspace n lists one of TEMPLATES practices of bench/_common.py's
  companies (pre-rendered JSON, so serving costs little: its CPU is reported); "a change" moves ~1% of every
  practice's companies on (errors, clears, Sync Apps offline) and renders the pages again.
- Workspaces: installed and connected through the bot's own code (slack_sdk's SQLAlchemy installation
  store, `record_install`, `connect_workspace`, tokens encrypted), as the Add to Slack and Connect flows do.
- Bots: real `python -m bot serve` processes (many-workspace mode; POLL_INTERVAL_SECONDS below),
  against the fake Slack Web API (tests/fakes/slack_api.py) in this process. No channel subscribes, so the
  rounds measure polling.
- Rounds (a round: every workspace polled once, read from `poll_runs`):
  1. fill: three processes on the empty database (every company new), then 20 s with no poll due (the idle
     work of holding 1,000 workspaces);
  2. then, 1 process and 3 processes in turn (twice: --repeats), each started on the filled database with
     every workspace due and ~1% changed: the start-up round (every listing parsed and compared), then 60 s
     (--window) with every workspace due again 10 s after its poll and the feeds changing: the throughput.
  CPU seconds of each bot process, of the feed server and of PostgreSQL (every `postgres` process of the
  server, and the backends of this database alone) from /proc over each, and the whole machine's busy time
  (/proc/stat): the machine is shared, and what the others ran is printed beside.
  The projection for 10,000 workspaces at the default interval: bot and PostgreSQL CPU a poll (3 processes,
  idle work taken out), plus each process's idle work, which grows with the workspaces it holds.
- The storm of 1,000 companies with a process killed is a test: tests/test_serve_postgres.py.

Targets (SPEC.md "Scaling out: PostgreSQL"): a three-process round (start-up, and 1,000 / its throughput) < 300 s
(the default poll interval); three processes' throughput >= 1.3x one's on this 2-core machine.
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
from bench._pg_scale_feeds import Feeds  # noqa: E402
from bench._pg_scale_parts import (  # noqa: E402
    SCHEMA,
    Bots,
    CpuWindow,
    Round,
    projection,
    seed_workspaces,
    wait_round,
)
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.postgres import with_search_path  # noqa: E402

IDLE_SECONDS = 20.0
DEFAULT_INTERVAL = 300
# Throughput is measured with every workspace due again this soon after its poll, so the processes never
# wait for a due time: each polls as fast as it can (1,000 workspaces at 10 s would be 100 polls/s, more than
# this machine makes). The feeds change (~1% each time) every FEED_CHANGE_SECONDS.
SATURATED_INTERVAL = 10
FEED_CHANGE_SECONDS = 15.0


async def start_up(label: str, bots: Bots, feeds: Feeds, url: str, workspaces: int) -> Round:
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


async def saturated(label: str, bots: Bots, feeds: Feeds, url: str, seconds: float) -> Round:
    """Polls made in `seconds` while every workspace is due: the processes' throughput."""
    loop = asyncio.get_running_loop()
    before = await bots.polls()
    window = CpuWindow(bots, feeds, url)
    while time.monotonic() - window.started < seconds:
        await loop.run_in_executor(None, feeds.change)
        await asyncio.sleep(min(FEED_CHANGE_SECONDS, max(0.0, seconds - (time.monotonic() - window.started))))
    polls = [b - a for a, b in zip(before, await bots.polls())]
    cpu = window.end()  # its seconds: the window as it was, a little over `seconds`
    result = Round(label, cpu["seconds"], cpu["seconds"], polls, cpu)
    result.print()
    return result


async def fill(args: argparse.Namespace, url: str, slack: FakeSlack, tmp: Path, feeds: Feeds) -> tuple[Round, dict[str, float]]:
    """Three processes' first round on the empty database, then IDLE_SECONDS with no poll due."""
    three = Bots(3, url, slack, tmp, DEFAULT_INTERVAL)
    window = CpuWindow(three, feeds, url)
    since = time.time()
    three.start()
    try:
        await three.ready()
        first = await wait_round("fill: 3 processes, empty database", url, args.workspaces, since, window, three)
        first.print()
        before = await three.polls()
        idle = CpuWindow(three, feeds, url)
        await asyncio.sleep(IDLE_SECONDS)
        extra = idle.idle()
        extra["idle_polls"] = float(sum(await three.polls()) - sum(before))
    finally:
        await three.stop()
    return first, extra


async def phases(args: argparse.Namespace, url: str, slack: FakeSlack, tmp: Path) -> tuple[list[Round], dict[str, float]]:
    feeds = Feeds(args.workspaces, args.companies)
    rounds: list[Round] = []
    try:
        await seed_workspaces(url, slack, feeds.base_url, args.workspaces, tmp)
        print(f"seeded {args.workspaces:,} workspaces; feeds served by pid {feeds.pid}", flush=True)
        first, extra = await fill(args, url, slack, tmp, feeds)
        rounds.append(first)
        for count in [1, 3] * args.repeats:
            bots = Bots(count, url, slack, tmp, SATURATED_INTERVAL)
            name = f"{count} process{'es' if count > 1 else ''}"
            try:
                rounds.append(await start_up(f"start-up round: {name}", bots, feeds, url, args.workspaces))
                rounds.append(await saturated(f"saturated: {name}", bots, feeds, url, args.window))
            finally:
                await bots.stop()
        extra["feed_requests"] = feeds.requests()
    finally:
        feeds.stop()
    return rounds, extra


def mean_throughput(rounds: list[Round], label: str) -> float:
    chosen = [sum(r.polls) / r.seconds for r in rounds if r.label == label]
    if not chosen or not sum(chosen):
        return float("nan")
    return sum(chosen) / len(chosen)


def report(rounds: list[Round], extra: dict[str, float], workspaces: int) -> list[str]:
    missed: list[str] = []
    one, three = mean_throughput(rounds, "saturated: 1 process"), mean_throughput(rounds, "saturated: 3 processes")
    ratio = three / one
    print(
        f"throughput: 1 process {one:.1f} polls/s (a round of {workspaces:,} in {workspaces / one:.0f} s),"
        f" 3 processes {three:.1f} polls/s (a round in {workspaces / three:.0f} s) = {ratio:.2f}x (target >= 1.3x)"
    )
    print(
        f"idle (no poll due; {extra['idle_polls']:.0f} polls in it), {workspaces:,} workspaces, 3 processes:"
        f" bots {extra['idle_bot_cpu_per_s']:.3f} CPU s/s ({extra['idle_bot_cpu_per_s'] / 3:.3f} a process),"
        f" PostgreSQL (this database's backends) {extra['idle_pg_cpu_per_s']:.3f} CPU s/s"
    )
    print(f"feed requests served: {extra['feed_requests']:,.0f}")
    busy = [r for r in rounds if r.label == "saturated: 3 processes"]
    for line in projection(busy, extra, workspaces, DEFAULT_INTERVAL):
        print(line)
    startups = [r.seconds for r in rounds if r.label == "start-up round: 3 processes"]
    worst = max(max(startups), workspaces / three)
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
    schema = args.schema
    url = with_search_path(base_url, schema)
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
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
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return verdict(missed)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: DATABASE_URL)")
    parser.add_argument("--schema", default=SCHEMA, help="the schema it makes, uses and drops")
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2, help="measure 1 then 3 processes this many times")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of each throughput measurement")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
