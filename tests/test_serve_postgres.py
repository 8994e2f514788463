"""Three `integration-bot serve` processes on one PostgreSQL database through a storm: one killed with SIGKILL
mid-storm, or all three restarted in turn, and every alert message is posted exactly once, none lost."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from tests.blockkit import all_text
from tests.fakes.slack_api import FakeSlack
from tests.practice import ACCOUNT, company
from tests.test_serve import ALERTS, bot_env, free_port, start, wait_polled

COMPANIES = 300  # one grouped message and 8 replies of 40 companies (SPEC.md "Storms")
STORM_COMPANIES = 1000  # the storm a process is killed in: one grouped message and 25 replies


def write_feed(path: Path, failing: bool, companies: int = COMPANIES) -> None:
    error = {"integration_status": "error", "error": {"kind": "synchronisation", "message": "Xero is unavailable"}}
    records = [company(f"s_{n}", f"Storm Client {n:04d} Ltd", **(error if failing else {})) for n in range(companies)]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"account": ACCOUNT, "companies": records}))
    tmp.replace(path)  # a process polling now reads the old file or the new one, never half of one


async def wait_all_sent(url: str, bots: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + 120
    while any(state == "pending" for _, state in outbox(url)) or not outbox(url):
        assert time.monotonic() < deadline, pending(url)
        assert all(bot.poll() is None for bot in bots), log.read_text()[-3000:]
        await asyncio.sleep(0.2)


def assert_storm_posted_once(slack: FakeSlack, url: str, companies: int = COMPANIES) -> None:
    rows = outbox(url)
    assert {state for _, state in rows} == {"sent"}, rows
    posts = slack.posts(ALERTS)
    (top,) = [post for post in posts if not post.args.get("thread_ts")]  # SPEC.md allows 3 a channel; we need 1
    assert top.args["text"] == f"{companies} companies went wrong at once (1 kind of problem)"
    replies = [all_text(post.args) for post in posts if post.args.get("thread_ts")]
    assert len(replies) == len(set(replies)) == -(-companies // 40)  # 40 a reply: none twice, none lost
    listed = "\n".join(replies)
    assert all(f"Storm Client {n:04d} Ltd" in listed for n in range(companies))
    assert len(posts) == len([key for key, _ in rows if not key.startswith(("update:", "group_update:"))])


def stop(bots: list[subprocess.Popen[bytes]]) -> None:
    for bot in bots:
        if bot.poll() is None:
            bot.send_signal(signal.SIGTERM)
    for bot in bots:
        bot.wait(timeout=30)


def pending(url: str) -> list[tuple[object, ...]]:
    """Pending rows with their claims, timing and the server's time: what a test that waited too long shows."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT key, due_at, in_flight_at, attempts, claimed_by, claimed_until, now(), last_error FROM outbox"
            " WHERE state = 'pending' ORDER BY id"
        ).fetchall()


def outbox(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [(row[0], row[1]) for row in conn.execute("SELECT key, state FROM outbox ORDER BY id")]


async def test_three_processes_one_killed_mid_storm_post_every_alert_once(
    tmp_path: Path, slack: FakeSlack, postgres_url: str
) -> None:
    write_feed(tmp_path / "feed.json", failing=False, companies=STORM_COMPANIES)
    ports = [free_port() for _ in range(3)]
    bots = [start(tmp_path, bot_env(tmp_path, slack, port, socket_mode=False, DATABASE_URL=postgres_url)) for port in ports]
    try:
        for port in ports:
            await wait_polled(port, timeout=60)
        write_feed(tmp_path / "feed.json", failing=True, companies=STORM_COMPANIES)
        # Delivery is paced at one message a second a channel: kill a process once the storm is under way.
        await slack.wait_for(lambda: len(slack.posts(ALERTS)) >= 2, timeout=30)
        bots[0].send_signal(signal.SIGKILL)
        bots[0].wait(timeout=10)
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            # What waiting out its leases (a minute for an outbox row) does, at once.
            conn.execute("UPDATE outbox SET claimed_until = now() WHERE claimed_until IS NOT NULL")
        await wait_all_sent(postgres_url, bots[1:], tmp_path / "bot.log")
    finally:
        stop(bots)
    assert_storm_posted_once(slack, postgres_url, STORM_COMPANIES)


async def test_a_rolling_restart_of_all_three_mid_storm_loses_nothing_and_doubles_nothing(
    tmp_path: Path, slack: FakeSlack, postgres_url: str
) -> None:
    write_feed(tmp_path / "feed.json", failing=False)
    envs = [bot_env(tmp_path, slack, free_port(), socket_mode=False, DATABASE_URL=postgres_url) for _ in range(3)]
    bots = [start(tmp_path, env) for env in envs]
    try:
        for env in envs:
            await wait_polled(int(env["PORT"]), timeout=60)
        write_feed(tmp_path / "feed.json", failing=True)
        await slack.wait_for(lambda: len(slack.posts(ALERTS)) >= 2, timeout=30)
        for n, env in enumerate(envs):  # each in turn: SIGTERM (it finishes what it sends), then started again
            bots[n].send_signal(signal.SIGTERM)
            assert bots[n].wait(timeout=30) == 0
            bots[n] = start(tmp_path, env)
            await wait_polled(int(env["PORT"]), timeout=60)
        await wait_all_sent(postgres_url, bots, tmp_path / "bot.log")
    finally:
        stop(bots)
    assert_storm_posted_once(slack, postgres_url)
