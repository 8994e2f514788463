"""Many workspaces: 1,000 workspaces of 100 companies each (100,000 companies) on SQLite, in one process.

Run from the repository root:  python bench/bench_workspaces.py [--workspaces 1000] [--companies 100] [--requests 1000]

A feed server in its own process serves every workspace's AutoEntry feed under `/w/<n>` (`/account`,
`/companies`: 100 companies, one page), built with bench/_common.py's records (a different seed per
workspace, so names and ids overlap across workspaces); workspace 0's `/companies` hangs (headers never come).

The bot (this process): `build_hosted` + `build_bolt_app` + `build_hosted_web_app` on 127.0.0.1, the fake
Slack Web API (tests/fakes/slack_api.py) in-process, every workspace installed in slack_sdk's SQLite
installation store and connected (its feed token encrypted) before the app starts. Starting the app starts
every workspace's practice and schedules its first poll (all due at once: START_SPREAD_SECONDS set to 0).

- round 1: from the app's start until every workspace but the hanging one has finished its first poll (empty
  database: every company new). A practice's first poll is a one-off import: reported against the floor,
  not judged.
- steady round: ~1% of every feed changed, then `poll_once` on every workspace at once; STEADY_ROUNDS times.
- floor: in a fresh process, GET /account and /companies of every workspace but the hanging one with aiohttp
  (one session, at most 100 connections) and json.loads them, all at once; measured before round 1 and
  before each steady round. Target: the median of the steady rounds' ratios to their floors <= 2x. The bot
  reads pages with orjson.loads (twice as fast as json.loads): the ratio to a floor that does the same is
  printed beside it, not judged.
- hanging feed: two more rounds with nothing changed, with workspace 0 (its poll hanging) and without it; the
  latest finish of the others in the first minus in the second. Target <= 1 s.
- slash: signed `/integration-status <name>` requests to random workspaces, 20 at a time; then the same to a
  single-workspace app (SLACK_BOT_TOKEN mode, 100 companies) in this process. Target: median <= 1.5x.
- RSS: this process's resident memory at the end and its peak (VmHWM). Target < 500 MB.
- operator: GET /metrics, /healthz and /healthz/T00001, 50 each, one at a time (reported).
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
import multiprocessing as mp  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from bench._common import (  # noqa: E402
    SIGNING_SECRET,
    USERS,
    account_document,
    change_some,
    company_records,
    recv,
    serve_workspace_feeds,
    sign,
    verdict,
)

FEED_TOKEN = "feed-token"
STEADY_ROUNDS = 3
PROFILE = "--profile" in sys.argv


class GcTimer:
    """Seconds the cyclic garbage collector ran, and its passes by generation, while `running` (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.passes = [0, 0, 0]
        self._began = 0.0
        self.running = False
        import gc

        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if not self.running:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._began
            self.passes[info["generation"]] += 1

    def start(self) -> None:
        self.seconds, self.passes, self.running = 0.0, [0, 0, 0], True

    def stop(self) -> tuple[float, list[int]]:
        self.running = False
        return self.seconds, self.passes


def _kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# --- the feeds (their own process) ------------------------------------------------------------------------


def _feed_process(workspaces: int, companies: int, conn: Any) -> None:
    asyncio.run(_serve_feeds(workspaces, companies, conn))


async def _serve_feeds(workspaces: int, companies: int, conn: Any) -> None:
    from aiohttp import web

    records = [company_records(companies, seed=n) for n in range(workspaces)]
    account = json.dumps(account_document()).encode()
    pages = [json.dumps({"companies": r, "next_cursor": None}).encode() for r in records]

    async def account_doc(request: web.Request) -> web.Response:
        return web.Response(body=account, content_type="application/json")

    async def listing(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n == 0:
            await asyncio.sleep(3600)  # the hanging feed
        return web.Response(body=pages[n], content_type="application/json")

    url, runner = await serve_workspace_feeds(account_doc, listing, backlog=2048)
    conn.send(url)
    loop = asyncio.get_running_loop()
    while True:
        message = await loop.run_in_executor(None, conn.recv)
        if message == "change":
            for n, r in enumerate(records):
                change_some(r, 0.01, seed=n)
                pages[n] = json.dumps({"companies": r, "next_cursor": None}).encode()
            conn.send("changed")
        elif message == "stop":
            conn.send("stopped")
            await runner.cleanup()
            return


# --- the floor (a fresh process) --------------------------------------------------------------------------


def _floor_process(base_url: str, workspaces: int, conn: Any, reader: str = "json") -> None:
    conn.send(asyncio.run(_floor(base_url, workspaces, reader)))


def _fast_floor_process(base_url: str, workspaces: int, conn: Any) -> None:
    _floor_process(base_url, workspaces, conn, "orjson")


async def _floor(base_url: str, workspaces: int, reader: str = "json") -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of fetching and parsing every workspace's pages once, with
    json.loads (the floor judged) or orjson.loads (reported beside it: the bot reads pages with orjson)."""
    import aiohttp
    import orjson

    loads = json.loads if reader == "json" else orjson.loads

    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {FEED_TOKEN}"}) as session:

        async def one(n: int) -> int:
            async with session.get(f"{base_url}/w/{n}/account") as response:
                loads(await response.read())
            async with session.get(f"{base_url}/w/{n}/companies") as response:
                return len(loads(await response.read())["companies"])

        start, cpu = time.perf_counter(), time.process_time()
        counts = await asyncio.gather(*(one(n) for n in range(1, workspaces)))
        assert all(counts)
        return time.perf_counter() - start, time.process_time() - cpu


def in_child(target: Any, *args: Any) -> Any:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(*args, child), daemon=True)
    proc.start()
    try:
        return recv(parent, proc, 600)
    finally:
        proc.join(5)


# --- the bot (this process) -------------------------------------------------------------------------------


async def slash_latencies(port: int, teams: list[str], names: dict[str, list[str]], requests: int) -> list[float]:
    import aiohttp

    rng = random.Random(5)
    latencies: list[float] = []
    queue = [(rng.choice(teams), rng.choice(USERS)[0]) for _ in range(requests)]
    url = f"http://127.0.0.1:{port}/slack/events"

    async with aiohttp.ClientSession() as http:

        async def worker() -> None:
            while queue:
                team, user = queue.pop()
                body = urlencode(
                    {
                        "team_id": team,
                        "channel_id": "C_OPS",
                        "user_id": user,
                        "command": "/integration-status",
                        "text": rng.choice(names[team]),
                        "response_url": "http://127.0.0.1:9/none",
                        "trigger_id": "1.2.3",
                        "api_app_id": "A111",
                    }
                )
                headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
                start = time.perf_counter()
                async with http.post(url, data=body.encode(), headers=headers) as response:
                    text = await response.text()
                    assert response.status == 200 and "not connected" not in text, text[:200]
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(worker() for _ in range(20)))
    return latencies


async def operator_latencies(port: int, requests: int = 50) -> dict[str, tuple[float, float, int]]:
    """GET /metrics, /healthz and /healthz/<a workspace> `requests` times each, one at a time: path ->
    (median ms, max ms, body bytes)."""
    import aiohttp

    out: dict[str, tuple[float, float, int]] = {}
    async with aiohttp.ClientSession() as http:
        for path in ("/metrics", "/healthz", "/healthz/T00001"):
            times, size = [], 0
            for _ in range(requests):
                start = time.perf_counter()
                async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                    size = len(await response.read())
                times.append((time.perf_counter() - start) * 1000)
            out[path] = (statistics.median(times), max(times), size)
    return out


async def serve_site(web_app: Any) -> tuple[Any, int]:
    from aiohttp import web

    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def run(feed_url: str, feeds: Any, workspaces: int, companies: int, requests: int, tmp: str) -> dict[str, Any]:
    from cryptography.fernet import Fernet
    from slack_sdk.oauth.installation_store import Installation

    import bot.hosting as hosting_module
    from bot.app import build_bolt_app, build_services, build_web_app
    from bot.hosted_app import build_hosted_web_app
    from bot.hosting import build_hosted
    from bot.practice.feed import HttpFeed
    from bot.services import utcnow
    from bot.settings import Settings
    from tests.fakes.slack_api import FakeSlack

    slack = FakeSlack()
    for user_id, email, name in USERS:
        slack.add_user(user_id, email, name)
    await slack.start()
    settings = Settings(
        client_id="1.2",
        client_secret="s",
        secret_key=Fernet.generate_key().decode(),
        signing_secret=SIGNING_SECRET,
        api_base_url=slack.base_url + "api/",
        db_path=str(Path(tmp) / "bot.db"),
        poll_interval_seconds=3600,
        feed_allow_private_addresses=True,  # the feeds are on loopback
    )
    hosting_module.START_SPREAD_SECONDS = 0.0
    finished: dict[str, float] = {}

    practices = build_hosted(settings, clock=utcnow)
    hosting = practices.hosting
    assert hosting is not None
    teams = [f"T{n:05d}" for n in range(workspaces)]
    encrypted = hosting.cipher.encrypt(FEED_TOKEN)
    for n, team in enumerate(teams):
        hosting.sqlite_installations.save(
            Installation(
                app_id="A111",
                team_id=team,
                user_id="U_HOLDER",
                bot_token=f"xoxb-{team}",
                bot_id="B111",
                bot_user_id="UB",
                bot_scopes=["commands"],
            )
        )
        hosting.store.record_install(
            team, team_id=team, enterprise_id=None, is_enterprise_install=False, installer_user_id="U_HOLDER", now=utcnow()
        )
        hosting.store.connect_workspace(team, f"{feed_url}/w/{n}", encrypted, "U_HOLDER", utcnow())
    names = {team: [r["name"] for r in company_records(companies, seed=n)][:20] for n, team in enumerate(teams)}

    # Round 1: the app starts, every workspace's first poll is due at once (each its own job).
    original_start = hosting.start_workspace

    async def start_and_watch(workspace: str, first_poll_in: float = 0.0) -> Any:
        services = await original_start(workspace, first_poll_in)
        if services is not None:

            async def done(outcome: Any, ws: str = workspace) -> None:
                finished.setdefault(ws, time.perf_counter())

            services.poller.after_poll.append(done)
        return services

    hosting.start_workspace = start_and_watch  # type: ignore[method-assign]
    if PROFILE:
        import cProfile

        start_profiler = cProfile.Profile()
        start_profiler.enable()
    started = time.perf_counter()
    runner, port = await serve_site(build_hosted_web_app(practices, build_bolt_app(None, practices)))
    others = set(teams[1:])
    while not others <= finished.keys():
        await asyncio.sleep(0.05)
    round1 = max(finished[t] for t in others) - started
    if PROFILE:
        start_profiler.disable()
        start_profiler.dump_stats("/tmp/bench_workspaces_start.prof")
    errors = hosting.store.db.execute("select error, count(*) from poll_runs where ok = 0 group by error").fetchall()
    if errors:
        print("failed polls in round 1:", errors[:5])
    companies_stored = sum(hosting.store.for_workspace(t).company_count() for t in teams[1:])

    # Round 2 (~1% changed), with the hanging workspace polled too; then again without it.
    await asyncio.get_running_loop().run_in_executor(None, feeds.change)

    async def round_of(selected: list[str]) -> tuple[float, float]:
        ends: dict[str, float] = {}
        start = time.perf_counter()

        async def one(team: str) -> None:
            services = practices.get(team)
            assert services is not None
            await services.poller.poll_once()
            ends[team] = time.perf_counter() - start

        tasks = [asyncio.create_task(one(t)) for t in selected]
        others_done = [t for t, team in zip(tasks, selected) if team != teams[0]]
        await asyncio.gather(*others_done)
        return max(ends[t] for t in selected if t != teams[0]), statistics.median(ends[t] for t in selected if t != teams[0])

    # The steady round, STEADY_ROUNDS times: the floor measured just before each (a fresh process, the same
    # pages), then ~1% of every feed changed and every workspace polled at once. The machine's load drifts;
    # each round is judged against its own floor, and the median of those ratios against the target.
    loop = asyncio.get_running_loop()
    steady: list[tuple[float, float, float, float, float, tuple[float, list[int]]]] = []  # (floor, its CPU, round,
    # its CPU, median workspace, (the garbage collector's seconds, its passes by generation))
    gc_timer = GcTimer()
    fast_floors: list[float] = []
    for index in range(STEADY_ROUNDS):
        floor, floor_cpu = await loop.run_in_executor(None, in_child, _floor_process, feed_url, workspaces)
        fast_floors.append((await loop.run_in_executor(None, in_child, _fast_floor_process, feed_url, workspaces))[0])
        if index:
            await loop.run_in_executor(None, feeds.change)
        if PROFILE and index == STEADY_ROUNDS - 1:
            import cProfile

            poll_profiler = cProfile.Profile()
            poll_profiler.enable()
        cpu = time.process_time()
        gc_timer.start()
        round2, round2_median = await round_of(teams)
        steady.append((floor, floor_cpu, round2, time.process_time() - cpu, round2_median, gc_timer.stop()))
    if PROFILE:
        poll_profiler.disable()
        poll_profiler.dump_stats("/tmp/bench_workspaces_poll.prof")
    round3, _ = await round_of(teams)  # nothing changed: with the hanging workspace, then without it
    round4, _ = await round_of(teams[1:])
    rss_after_polls = _kb("VmRSS") / 1024
    rss_anon, rss_file = _kb("RssAnon") / 1024, _kb("RssFile") / 1024
    if "--memory" in sys.argv:
        import tracemalloc

        for stat in tracemalloc.take_snapshot().statistics("filename")[:15]:
            print(stat)

    # Slash: many workspaces, then a single-workspace app in the same process.
    from bot.slack.users import slack_viewer

    for services in list(practices):  # warm each workspace's users.info cache and name index, as bench_slash does
        for user_id, _, _ in USERS:
            await slack_viewer(services.client, services.store, user_id, services.clock())
        services.status.name_index()
    single_settings = Settings(
        bot_token="xoxb-single",
        signing_secret=SIGNING_SECRET,
        api_base_url=slack.base_url + "api/",
        db_path=str(Path(tmp) / "single.db"),
        status_source=f"{feed_url}/w/1",
        status_api_token=FEED_TOKEN,
    )
    single = build_services(single_settings, feed=HttpFeed(f"{feed_url}/w/1", FEED_TOKEN), help_centre=hosting.help_centre)
    single_runner, single_port = await serve_site(build_web_app(single, build_bolt_app(single), with_scheduler=False))
    await single.poller.poll_once()
    for user_id, _, _ in USERS:
        await slack_viewer(single.client, single.store, user_id, single.clock())
    single.status.name_index()
    single_names = {"T_SINGLE": names[teams[1]]}
    await slash_latencies(single_port, ["T_SINGLE"], single_names, 100)
    await slash_latencies(port, teams[1:], names, 100)  # per-token auth.test, once

    # Alternating batches, so both see the same machine load.
    calls_before = len(slack.calls)
    hosted_lat: list[float] = []
    single_lat: list[float] = []
    if PROFILE:
        import cProfile

        profiler = cProfile.Profile()
    for _ in range(5):
        if PROFILE:
            profiler.enable()
        hosted_lat += await slash_latencies(port, teams[1:], names, requests // 5)
        if PROFILE:
            profiler.disable()
        single_lat += await slash_latencies(single_port, ["T_SINGLE"], single_names, requests // 5)
    if PROFILE:
        profiler.dump_stats("/tmp/bench_workspaces.prof")
    slack_calls = [c.method for c in slack.calls[calls_before:]]
    operator = await operator_latencies(port)
    result = {
        "slack_calls_during_slash": {m: slack_calls.count(m) for m in set(slack_calls)},
        "operator": operator,
        "round1": round1,
        "steady": steady,
        "fast_floors": fast_floors,
        "round3": round3,
        "round4": round4,
        "companies_stored": companies_stored,
        "hosted_median_ms": statistics.median(hosted_lat) * 1000,
        "hosted_p99_ms": sorted(hosted_lat)[int(len(hosted_lat) * 0.99) - 1] * 1000,
        "single_median_ms": statistics.median(single_lat) * 1000,
        "single_p99_ms": sorted(single_lat)[int(len(single_lat) * 0.99) - 1] * 1000,
        "rss_after_polls_mb": rss_after_polls,
        "rss_anon_mb": rss_anon,
        "rss_file_mb": rss_file,
        "rss_mb": _kb("VmRSS") / 1024,
        "rss_peak_mb": _kb("VmHWM") / 1024,
    }
    await single_runner.cleanup()
    for task in asyncio.all_tasks():  # the hanging workspace's polls
        if task is not asyncio.current_task() and any(word in repr(task.get_coro()) for word in ("poll", "Poller")):
            task.cancel()
    await runner.cleanup()
    await slack.stop()
    return result


class Feeds:
    def __init__(self, workspaces: int, companies: int) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_feed_process, args=(workspaces, companies, child), daemon=True)
        self.proc.start()
        self.base_url = recv(self.conn, self.proc)

    def change(self) -> None:
        self.conn.send("change")
        recv(self.conn, self.proc)

    def stop(self) -> None:
        self.conn.send("stop")
        recv(self.conn, self.proc, 10)
        self.proc.join(5)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--companies", type=int, default=100)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--memory", action="store_true", help="tracemalloc's top files after the polls (slow)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the many-workspace slash run (/tmp/bench_workspaces.prof)"
    )
    args = parser.parse_args(argv)

    if args.memory:
        import tracemalloc

        tracemalloc.start()
    feeds = Feeds(args.workspaces, args.companies)
    try:
        floor, _ = in_child(_floor_process, feeds.base_url, args.workspaces)
        with tempfile.TemporaryDirectory(prefix="bench-workspaces-") as tmp:
            r = asyncio.run(run(feeds.base_url, feeds, args.workspaces, args.companies, args.requests, tmp))
    finally:
        feeds.stop()

    n = args.workspaces
    print(f"{n:,} workspaces x {args.companies} companies ({r['companies_stored']:,} stored, workspace 0's feed hanging)")
    print(f"floor: fetch + json.loads of {n - 1:,} workspaces at once, before round 1  {floor:7.2f} s")
    print(
        f"round 1 (app start, empty database, each its own job)        {r['round1']:7.2f} s = {r['round1'] / floor:.2f}x floor"
        " (a one-off import: reported, not judged)"
    )
    ratios, cpu_ratios = [], []
    for index, (steady_floor, floor_cpu, steady_round, round_cpu, steady_median, (gc_seconds, passes)) in enumerate(
        r["steady"], start=1
    ):
        ratios.append(steady_round / steady_floor)
        cpu_ratios.append(round_cpu / floor_cpu)
        print(
            f"steady round {index} (~1% changed, all at once, hanging one included) {steady_round:5.2f} s ="
            f" {steady_round / steady_floor:.2f}x its floor of {steady_floor:.2f} s (median workspace {steady_median:.2f} s);"
            f" CPU {round_cpu:.2f} s = {round_cpu / floor_cpu:.2f}x the floor's {floor_cpu:.2f} s;"
            f" garbage collector {gc_seconds:.2f} s ({'/'.join(map(str, passes))} passes by generation)"
        )
    steady_ratio = statistics.median(ratios)
    print(f"steady round, median of {len(ratios)} ratios to the floor               {steady_ratio:7.2f}x (target <= 2x)")
    print(f"  the same in CPU seconds (less moved by other load on the machine)   {statistics.median(cpu_ratios):7.2f}x")
    fast = statistics.median(rnd[2] / fast for rnd, fast in zip(r["steady"], r["fast_floors"]))
    print(
        f"  against a floor reading with orjson.loads, as the bot does ({', '.join(f'{f:.2f}' for f in r['fast_floors'])} s)"
        f" {fast:5.2f}x (reported, not judged)"
    )
    print(f"round 3 (nothing changed, hanging one included)              {r['round3']:7.2f} s")
    print(f"round 4 (the same without the hanging workspace)             {r['round4']:7.2f} s")
    delay = r["round3"] - r["round4"]
    print(f"delay the hanging feed caused to the others' polls           {delay:7.2f} s (target <= 1 s)")
    ratio = r["hosted_median_ms"] / r["single_median_ms"]
    print(
        f"slash median: many workspaces {r['hosted_median_ms']:.1f} ms (p99 {r['hosted_p99_ms']:.1f}),"
        f" single workspace {r['single_median_ms']:.1f} ms (p99 {r['single_p99_ms']:.1f}) = {ratio:.2f}x (target <= 1.5x)"
    )
    print(
        f"RSS: {r['rss_after_polls_mb']:.0f} MB after the polls ({r['rss_anon_mb']:.0f} anonymous,"
        f" {r['rss_file_mb']:.0f} file-backed: the database mapped), {r['rss_mb']:.0f} MB at the end, peak {r['rss_peak_mb']:.0f} MB"
        " (target < 500 MB)"
    )
    print(f"Slack Web API calls while measuring the slash command: {r['slack_calls_during_slash']}")
    for path, (median, most, size) in r["operator"].items():
        print(f"GET {path:<16} at {n:,} workspaces: median {median:.1f} ms, max {most:.1f} ms, {size:,} bytes")
    checks = {
        "steady poll round <= 2x floor": steady_ratio <= 2,
        "slash median <= 1.5x single": ratio <= 1.5,
        "RSS < 500 MB": r["rss_peak_mb"] < 500,
        "hanging feed delays others <= 1 s": delay <= 1.0,
    }
    for name, met in checks.items():
        print(f"  {name}: {'met' if met else 'MISSED'}")
    return verdict([name for name, met in checks.items() if not met])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
