"""The parts of bench/bench_pg_scale.py: seeding workspaces, `serve` processes, CPU from /proc, and what a
round was (the feed server: bench/_pg_scale_feeds.py). Not a benchmark itself (run_all skips files starting with "_")."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from cryptography.fernet import Fernet

from bench._common import ROOT, SIGNING_SECRET, USERS
from tests.fakes.slack_api import FakeSlack
from tests.test_serve import free_port

SCHEMA = "bench_pg_scale"
FEED_TOKEN = "feed-token"
SECRET_KEY = Fernet.generate_key().decode()
ROUND_TIMEOUT_SECONDS = 1800
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- workspaces, installed and connected through the bot's code ------------------------------------------


def bot_settings(url: str, slack: FakeSlack, tmp: Path) -> Any:
    from bot.settings import Settings

    return Settings(
        client_id="1.2",
        client_secret="bench-client-secret",
        secret_key=SECRET_KEY,
        signing_secret=SIGNING_SECRET,
        api_base_url=slack.base_url + "api/",
        db_path=str(tmp / "unused.db"),
        database_url=url,
    )


async def seed_workspaces(url: str, slack: FakeSlack, feed_url: str, workspaces: int, tmp: Path) -> None:
    """Each workspace installed (slack_sdk's SQLAlchemy installation store) and connected to its feed, the
    token encrypted: what Add to Slack and the Connect AutoEntry form store."""
    from slack_sdk.oauth.installation_store import Installation

    from bot.hosting import build_hosted
    from bot.installs import BOT_SCOPES
    from bot.services import utcnow

    for user_id, email, name in USERS:
        slack.add_user(user_id, email, name)
    hosting = build_hosted(bot_settings(url, slack, tmp), clock=utcnow).hosting
    assert hosting is not None
    await hosting.create_oauth_tables()
    encrypted = hosting.cipher.encrypt(FEED_TOKEN)
    for n in range(workspaces):
        team = f"T{n:05d}"
        await hosting.installations.async_save(
            Installation(
                app_id="A111",
                team_id=team,
                user_id="U_HOLDER",
                bot_token=f"xoxb-{team}",
                bot_id="B111",
                bot_user_id="UB",
                bot_scopes=list(BOT_SCOPES),
            )
        )
        hosting.store.record_install(
            team, team_id=team, enterprise_id=None, is_enterprise_install=False, installer_user_id="U_HOLDER", now=utcnow()
        )
        hosting.store.connect_workspace(team, f"{feed_url}/w/{n}", encrypted, "U_HOLDER", utcnow())
    hosting.store.close()
    if hosting.sqlalchemy_engine is not None:
        await hosting.sqlalchemy_engine.dispose()


# --- serve processes ---------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark dies (Linux prctl PR_SET_PDEATHSIG), so a killed
    benchmark leaves no `serve` process behind."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Bots:
    """`count` real `python -m bot serve` processes (many workspaces) on the database."""

    def __init__(self, count: int, url: str, slack: FakeSlack, tmp: Path, interval: int) -> None:
        self.tmp = tmp
        self.envs = [
            {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "PYTHONPATH": str(ROOT),  # this checkout's code, whichever is installed
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "bench-client-secret",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "INTEGRATION_BOT_SECRET_KEY": SECRET_KEY,
                "SLACK_API_BASE_URL": slack.base_url + "api/",
                "DATABASE_URL": url,
                "INTEGRATION_BOT_DB": str(tmp / f"unused-{n}.db"),
                "POLL_INTERVAL_SECONDS": str(interval),
                "PORT": str(free_port()),
            }
            for n in range(count)
        ]
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for n, env in enumerate(self.envs):
            log = open(self.tmp / f"bot-{n}.log", "ab")  # noqa: SIM115 (closed with the process)
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "serve"], env=env, cwd=self.tmp, stderr=log, preexec_fn=_die_with_parent
                )
            )

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    async def _get(self, n: int, path: str) -> str:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{self.envs[n]['PORT']}{path}") as response:
                return await response.text()

    async def ready(self, timeout: float = 600.0) -> None:
        """Once every process answers /healthz (its workspaces started)."""
        deadline = time.monotonic() + timeout
        for n, proc in enumerate(self.procs):
            while True:
                assert proc.poll() is None, (self.tmp / f"bot-{n}.log").read_text()[-3000:]
                try:
                    await self._get(n, "/healthz")
                    break
                except aiohttp.ClientError:
                    assert time.monotonic() < deadline, "a serve process did not start"
                    await asyncio.sleep(0.2)

    async def polls(self) -> list[int]:
        """Each process's polls so far (`integration_bot_polls_total` on its /metrics)."""
        counts = []
        for n in range(len(self.procs)):
            text = await self._get(n, "/metrics")
            counts.append(
                sum(int(float(line.split()[-1])) for line in text.splitlines() if line.startswith("integration_bot_polls_total"))
            )
        return counts

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.get_running_loop().run_in_executor(None, proc.wait, 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- CPU from /proc ----------------------------------------------------------------------------------------


def cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime of `pid` (proc(5) fields 14 and 15), with cutime + cstime (16, 17) when `children`."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / CLOCK_TICKS


def postgres_server_cpu() -> float:
    """Every `postgres` process's CPU, and the postmaster's reaped children's (backends that ended)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            postmaster = Path(f"/proc/{parent}/comm").read_text().strip() != "postgres"
        except OSError:
            continue
        total += cpu_seconds(int(entry.name), children=postmaster)
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy (/proc/stat's first line, less idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS


def database_backends(url: str) -> dict[int, float]:
    """CPU of each backend connected to this database (the bots' connections), by pid."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    return {pid: cpu_seconds(pid) for pid in pids}


class CpuWindow:
    """CPU seconds over a window: each bot process, the feed server, PostgreSQL (all of the server, and this
    database's backends)."""

    def __init__(self, bots: Bots, feeds: Any, url: str) -> None:
        self.bots, self.feeds, self.url = bots, feeds, url
        self.started = time.monotonic()
        self.bot_base = {pid: cpu_seconds(pid) for pid in bots.pids}
        self.feed_base = cpu_seconds(feeds.pid)
        self.server_base = postgres_server_cpu()
        self.backends_base = database_backends(url)
        self.machine_base = machine_busy()

    def end(self) -> dict[str, Any]:
        backends = database_backends(self.url)
        return {
            "seconds": time.monotonic() - self.started,
            "bots": [cpu_seconds(pid) - self.bot_base.get(pid, 0.0) for pid in self.bots.pids],
            "feed": cpu_seconds(self.feeds.pid) - self.feed_base,
            "server": postgres_server_cpu() - self.server_base,
            "backends": sum(cpu - self.backends_base.get(pid, 0.0) for pid, cpu in backends.items()),
            "machine": machine_busy() - self.machine_base,
        }

    def idle(self) -> dict[str, float]:
        cpu = self.end()
        return {
            "idle_bot_cpu_per_s": sum(cpu["bots"]) / cpu["seconds"],
            "idle_pg_cpu_per_s": cpu["backends"] / cpu["seconds"],
            "idle_processes": float(len(cpu["bots"])),
        }


# --- a round -------------------------------------------------------------------------------------------------


@dataclass
class Round:
    label: str
    seconds: float  # from the processes' start (a steady round: its first poll) to the last workspace's poll finished
    span: float  # from the first poll started to the last finished
    polls: list[int]
    cpu: dict[str, Any] = field(default_factory=dict)
    failed: int = 0

    def print(self) -> None:
        cpu = self.cpu
        bots = ", ".join(f"{c:.1f}" for c in cpu["bots"])
        per_poll = sum(cpu["bots"]) / max(sum(self.polls), 1) * 1000
        if self.label.startswith("saturated"):
            head = (
                f"{self.label}: {sum(self.polls):,} polls in {self.seconds:.0f} s = {sum(self.polls) / self.seconds:.1f} polls/s"
            )
        else:
            head = f"{self.label}: {self.seconds:.1f} s to every workspace polled (first poll to last {self.span:.1f} s)"
        ours = sum(cpu["bots"]) + cpu["server"] + cpu["feed"]
        print(
            f"{head}; polls by process {self.polls}, {self.failed} failed\n"
            f"    CPU s: bots [{bots}] = {sum(cpu['bots']):.1f} ({per_poll:.1f} ms a poll),"
            f" PostgreSQL this database's backends {cpu['backends']:.1f} (whole server {cpu['server']:.1f}),"
            f" feed server {cpu['feed']:.1f}; the machine busy {cpu['machine']:.1f} of {2 * cpu['seconds']:.0f}"
            f" core-s, {max(0.0, cpu['machine'] - ours):.1f} of it other work; window {cpu['seconds']:.1f} s",
            flush=True,
        )


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="seconds")


async def wait_round(label: str, url: str, workspaces: int, since: float, window: CpuWindow, bots: Bots) -> Round:
    """Waits until every workspace has a good poll started at or after `since` (epoch seconds)."""
    polls_before = await bots.polls() if label.startswith("steady") else [0] * len(bots.procs)
    query = (
        "SELECT count(*), min(s), max(f) FROM (SELECT workspace, min(started_at) s, min(finished_at) f"
        " FROM poll_runs WHERE ok = 1 AND started_at >= %s GROUP BY workspace) x"
    )
    deadline = time.monotonic() + ROUND_TIMEOUT_SECONDS
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            count, first, last = conn.execute(query, [_iso(since)]).fetchone()
            if count >= workspaces:
                break
            assert time.monotonic() < deadline, f"{label}: {count} of {workspaces} polled in {ROUND_TIMEOUT_SECONDS} s"
            for n, proc in enumerate(bots.procs):
                assert proc.poll() is None, (bots.tmp / f"bot-{n}.log").read_text()[-3000:]
            await asyncio.sleep(0.5)
        failed = conn.execute("SELECT count(*) FROM poll_runs WHERE ok = 0 AND started_at >= %s", [_iso(since)]).fetchone()[0]
    cpu = window.end()
    polls = [b - a for a, b in zip(polls_before, await bots.polls())]
    first_s, last_s = (datetime.fromisoformat(t).timestamp() for t in (first, last))
    # A steady round's polls come due an interval after each one's last: its time is from first to last.
    seconds = last_s - first_s if label.startswith("steady") else last_s - since
    return Round(label, seconds, last_s - first_s, polls, cpu, failed)


def projection(busy: list[Round], idle: dict[str, float], workspaces: int, interval: int, target: int = 10_000) -> list[str]:
    """What `target` workspaces would need at `interval`: each poll's CPU (measured while every workspace was
    due, less the idle work over the window), and each process's idle work, which grows with the workspaces it
    holds (every process holds all of them)."""
    polls = max(sum(sum(r.polls) for r in busy), 1)
    window = sum(r.cpu["seconds"] for r in busy)
    bot_poll = max(0.0, sum(sum(r.cpu["bots"]) for r in busy) - idle["idle_bot_cpu_per_s"] * window) / polls
    pg_poll = max(0.0, sum(r.cpu["backends"] for r in busy) - idle["idle_pg_cpu_per_s"] * window) / polls
    feed_poll = sum(r.cpu["feed"] for r in busy) / polls
    idle_per_process = idle["idle_bot_cpu_per_s"] / idle["idle_processes"] * target / workspaces
    poll_cores = target * bot_poll / interval
    lines = [
        f"CPU a workspace poll (3 processes, every workspace due, ~1% changed): bot {bot_poll * 1000:.1f} ms,"
        f" PostgreSQL {pg_poll * 1000:.1f} ms, feed server {feed_poll * 1000:.2f} ms",
        f"{target:,} workspaces every {interval} s: polls {poll_cores:.2f} bot cores and {target * pg_poll / interval:.2f}"
        f" PostgreSQL cores; idle work (each process holds every workspace) {idle_per_process:.2f} cores a process",
    ]
    if idle_per_process >= 0.8:
        lines.append("  processes needed: none suffices while each process holds every workspace (its idle work alone)")
    else:
        processes = max(1, math.ceil(poll_cores / (0.8 - idle_per_process)))
        lines.append(f"  bot processes needed, each at most 80% busy: {processes} (one core each)")
    return lines
