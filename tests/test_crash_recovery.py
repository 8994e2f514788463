"""`kill -9` at random moments while alerts flow: after restarts, every alert is in Slack exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.fakes.slack_api import FakeSlack
from tests.practice import ACCOUNT, company

ALERTS = "C0ALERTS1"
COMPANIES = 12


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_feed(path: Path, failing: set[int]) -> None:
    companies = [
        company(
            f"k_{n}",
            f"Kill Test {n:02d} Ltd",
            **(
                {"integration_status": "error", "error": {"kind": "synchronisation", "message": f"Failure {n}"}}
                if n in failing
                else {}
            ),
        )
        for n in range(COMPANIES)
    ]
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"account": ACCOUNT, "companies": companies}))
    temporary.replace(path)  # the bot never reads a half-written file


def start_bot(tmp_path: Path, slack: FakeSlack, port: int) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SLACK_BOT_TOKEN": "xoxb-crash-test",
        "SLACK_SIGNING_SECRET": "crash-test-secret",
        "SLACK_API_BASE_URL": slack.base_url + "api/",
        "STATUS_SOURCE": f"file:{tmp_path / 'feed.json'}",
        "POLL_INTERVAL_SECONDS": "1",
        "OFFLINE_GRACE_SECONDS": "0",
        "ALERT_CHANNEL": ALERTS,
        "INTEGRATION_BOT_DB": str(tmp_path / "bot.db"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "bot.log", "ab"),  # noqa: SIM115 (closed with the process)
    )


async def wait_until_polled(bot: subprocess.Popen[bytes], port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert bot.poll() is None, f"the bot exited with {bot.returncode}"
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if (await response.json()).get("last_good_poll_at"):
                        return
            except (aiohttp.ClientError, ValueError):
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the bot did not start polling")


def pending_alerts(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("select count(*) from outbox where state = 'pending'").fetchone()[0]


async def test_kill_9_at_random_moments_loses_no_alert_and_repeats_none(tmp_path: Path, slack: FakeSlack) -> None:
    chance = random.Random(20261125)
    slack.latency = 0.25  # widen the window between Slack accepting a message and the bot marking it sent
    write_feed(tmp_path / "feed.json", set())
    port = free_port()
    bot = start_bot(tmp_path, slack, port)
    try:
        await wait_until_polled(bot, port)
        failing: set[int] = set()
        for n in range(COMPANIES):
            failing.add(n)
            write_feed(tmp_path / "feed.json", failing)
            await asyncio.sleep(chance.uniform(0.2, 1.6))
            if n % 2 == 0:
                bot.send_signal(signal.SIGKILL)
                bot.wait(timeout=10)
                bot = start_bot(tmp_path, slack, port)
                await wait_until_polled(bot, port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and pending_alerts(tmp_path / "bot.db"):
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # a poll or two more: nothing new may appear
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=10)

    assert pending_alerts(tmp_path / "bot.db") == 0
    top_level = [m for m in slack.channels_history.get(ALERTS, []) if not m.get("thread_ts")]
    names = sorted(m["text"].split(":")[0] for m in top_level)
    assert names == [f"Kill Test {n:02d} Ltd" for n in range(COMPANIES)], (tmp_path / "bot.log").read_text()[-3000:]
