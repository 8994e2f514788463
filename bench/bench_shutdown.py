"""SIGTERM while chat.postMessage is slow: time to exit, and what reached Slack, in both modes.

Run from the repository root:  python bench/bench_shutdown.py

Runs the real `integration-bot serve` (HTTP mode, then Socket Mode against a local Socket Mode fake) with a
fake Slack Web API whose chat.postMessage takes 3 s, and then one that hangs for 60 s; sends SIGTERM while a
post is in flight and measures SIGTERM to exit. Then starts the bot again on the same database and counts
the posts once it has caught up. Targets: exit 0 in under 11 s, nothing lost (every alert posted once it
is restarted), nothing sent twice (one top-level post per alert).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncio  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.test_serve import (  # noqa: E402
    ALERTS,
    bot_env,
    free_port,
    outbox_states,
    start,
    wait_exit,
    wait_polled,
    write_feed,
)

TARGET_S = 11.0


async def one(socket_mode: bool, latency: float) -> tuple[float, int, int, list[str]]:
    """(seconds from SIGTERM to exit, exit code, posts after the restart, outbox states)."""
    slack = FakeSlack()
    await slack.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            write_feed(tmp / "feed.json", failing=False)
            slack.method_latency["chat.postMessage"] = latency
            port = free_port()
            env = bot_env(tmp, slack, port, socket_mode=socket_mode)
            bot = start(tmp, env)
            await wait_polled(port)
            write_feed(tmp / "feed.json")
            await slack.wait_for(lambda: any(c.method == "chat.postMessage" for c in slack.arrived), timeout=30)
            sent = time.monotonic()
            bot.send_signal(signal.SIGTERM)
            code = await wait_exit(bot, timeout=60)
            took = time.monotonic() - sent
            # The next start sends what was not sent, and nothing twice.
            slack.method_latency.clear()
            again = start(tmp, env)
            await wait_polled(port)
            deadline = time.monotonic() + 30
            while "pending" in outbox_states(tmp / "bot.db") and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            again.send_signal(signal.SIGTERM)
            await wait_exit(again)
            top_level = [m for m in slack.channels_history.get(ALERTS, []) if not m.get("thread_ts")]
            return took, code, len(top_level), outbox_states(tmp / "bot.db")
    finally:
        await slack.stop()


async def run() -> int:
    print("SIGTERM during a slow chat.postMessage: `integration-bot serve`, a real process")
    header = f"{'mode':<12} {'post takes':>10} {'SIGTERM to exit':>16} {'exit':>5} {'posts':>6}  outbox after restart"
    print(header)
    print("-" * len(header))
    ok = True
    for socket_mode in (False, True):
        for latency in (3.0, 60.0):
            took, code, posts, states = await one(socket_mode, latency)
            mode = "Socket Mode" if socket_mode else "HTTP"
            print(f"{mode:<12} {latency:>9.0f}s {took:>15.2f}s {code:>5} {posts:>6}  {states}")
            ok = ok and code == 0 and took < TARGET_S and posts == 1 and states == ["sent"]
    print(f"target: exit 0 within {TARGET_S:.0f} s, one post per alert, nothing pending: {'met' if ok else 'MISSED'}")
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(run()))
