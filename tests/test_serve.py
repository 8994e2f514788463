"""`integration-bot serve` as an operator runs it: a real process, the fake Slack Web API, a Socket Mode fake.

Start-up token checks, /healthz and /metrics on PORT in both modes, SIGTERM during a slow chat.postMessage
(the post finishes, exit 0, nothing sent twice), and what the log says on a normal start.
"""

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
import pytest

from bot import cli
from tests.fakes.slack_api import FakeSlack, Injected, shared_response
from tests.practice import ACCOUNT, company

ALERTS = "C0ALERTS1"


def free_port() -> int:
    """A free port below the ephemeral range, where no other test's port-0 server can land meanwhile."""
    while True:
        port = random.randint(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def write_feed(path: Path, failing: bool = True) -> None:
    error = {"integration_status": "error", "error": {"kind": "synchronisation", "message": "Token Required"}}
    path.write_text(
        json.dumps({"account": ACCOUNT, "companies": [company("s_1", "Serve Test Ltd", **(error if failing else {}))]})
    )


def bot_env(tmp_path: Path, slack: FakeSlack, port: int, *, socket_mode: bool, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SLACK_BOT_TOKEN": "xoxb-serve-test",
        "SLACK_API_BASE_URL": slack.base_url + "api/",
        "STATUS_SOURCE": f"file:{tmp_path / 'feed.json'}",
        "POLL_INTERVAL_SECONDS": "1",
        "OFFLINE_GRACE_SECONDS": "0",
        "ALERT_CHANNEL": ALERTS,
        "INTEGRATION_BOT_DB": str(tmp_path / "bot.db"),
        "PORT": str(port),
    }
    if socket_mode:
        env["SLACK_APP_TOKEN"] = "xapp-serve-test"
    else:
        env["SLACK_SIGNING_SECRET"] = "serve-test-secret"
    env.update(extra)
    return env


def start(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "bot.log", "ab"),  # noqa: SIM115 (closed with the process)
    )


async def wait_exit(bot: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while bot.poll() is None:
        if time.monotonic() > deadline:
            bot.kill()
            raise AssertionError("the bot did not exit")
        await asyncio.sleep(0.05)
    return bot.returncode


async def get(port: int, path: str, timeout: float = 20.0, bot: subprocess.Popen[bytes] | None = None) -> tuple[int, str]:
    """GET a path on the bot, waiting (with a bound) for it to listen."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            assert bot is None or bot.poll() is None, f"the bot exited with {bot.returncode}"
            try:
                async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                    return response.status, await response.text()
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)


async def wait_polled(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not json.loads((await get(port, "/healthz"))[1]).get("last_good_poll_at"):
        assert time.monotonic() < deadline, "the bot did not poll"
        await asyncio.sleep(0.05)


def warnings(log: str) -> list[str]:
    """Warning lines, less APScheduler's about a one-second poll skipped on a busy machine."""
    return [line for line in log.splitlines() if " WARNING " in line and " apscheduler" not in line]


def outbox_states(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("select state from outbox order by id")]


def test_serve_without_slack_credentials_says_which_one_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["serve"]) == 2
    assert capsys.readouterr().err.strip() == (
        "integration-bot: SLACK_BOT_TOKEN is required to serve (xoxb-...),"
        " or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for many workspaces"
    )


@pytest.mark.parametrize(
    ("socket_mode", "method", "variable"),
    [(False, "auth.test", "SLACK_BOT_TOKEN"), (True, "apps.connections.open", "SLACK_APP_TOKEN")],
)
async def test_a_token_slack_rejects_stops_start_up_with_one_line(
    tmp_path: Path, slack: FakeSlack, socket_mode: bool, method: str, variable: str
) -> None:
    write_feed(tmp_path / "feed.json")
    slack.rule(method, lambda call: Injected(200, shared_response("error.invalid_auth")))
    bot = start(tmp_path, bot_env(tmp_path, slack, free_port(), socket_mode=socket_mode))
    assert await wait_exit(bot) == 2
    log = (tmp_path / "bot.log").read_text()
    assert (
        log.strip().splitlines()[-1]
        == f"integration-bot: {variable} was rejected by Slack (invalid_auth); check the {'app-level' if socket_mode else 'bot'} token"
    ), log
    assert "Traceback" not in log
    assert not slack.of("chat.postMessage")  # nothing was sent with a token Slack refuses


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
async def test_sigterm_during_a_slow_post_lets_it_finish_and_exits_0(tmp_path: Path, slack: FakeSlack, socket_mode: bool) -> None:
    write_feed(tmp_path / "feed.json", failing=False)
    slack.method_latency["chat.postMessage"] = 2.0
    port = free_port()
    bot = start(tmp_path, bot_env(tmp_path, slack, port, socket_mode=socket_mode))
    try:
        # /healthz and /metrics on PORT, in Socket Mode too.
        status, body = await get(port, "/healthz", bot=bot)
        assert status == 200 and "delivery" in json.loads(body)
        assert (await get(port, "/metrics"))[0] == 200
        if socket_mode:
            await slack.wait_for(lambda: slack.socket_connections == 1, timeout=10)
        await wait_polled(port)
        write_feed(tmp_path / "feed.json")  # the company breaks: an alert is queued at the next poll
        await slack.wait_for(lambda: any(c.method == "chat.postMessage" for c in slack.arrived), timeout=15)
        bot.send_signal(signal.SIGTERM)
        assert await wait_exit(bot) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
    log = (tmp_path / "bot.log").read_text()
    assert "Traceback" not in log and not warnings(log), log
    # The post in flight was answered and recorded as sent: the next start has nothing to send again.
    assert len(slack.posts(ALERTS)) == 1
    assert outbox_states(tmp_path / "bot.db") == ["sent"], log
    if socket_mode:
        assert slack.socket_closed == 1  # closed by the bot, cleanly


async def test_socket_mode_answers_a_slash_command_over_the_socket_and_logs_no_warning(tmp_path: Path, slack: FakeSlack) -> None:
    write_feed(tmp_path / "feed.json", failing=False)
    port = free_port()
    bot = start(tmp_path, bot_env(tmp_path, slack, port, socket_mode=True))
    try:
        await get(port, "/healthz", bot=bot)
        await slack.wait_for(lambda: slack.socket_connections == 1, timeout=10)
        envelope = json.loads(
            (
                Path(__file__).resolve().parents[2] / "shared" / "slack" / "bolt-python.socket_mode_envelope.slash_commands.json"
            ).read_text()
        )
        envelope["payload"].update(command="/integration-status", text="Serve Test", user_id="U_HOLDER", team_id="T0G9PQBBK")
        for _ in range(20):  # a probe or two: none of them may be logged
            await get(port, "/healthz")
        await slack.send_envelope(envelope)
        (ack,) = await slack.wait_for(lambda: slack.socket_messages, timeout=10)
        assert ack["envelope_id"] == envelope["envelope_id"]
        assert "Serve Test Ltd" in json.dumps(ack["payload"])
        bot.send_signal(signal.SIGINT)
        assert await wait_exit(bot) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
    log = (tmp_path / "bot.log").read_text()
    assert not warnings(log) and "Traceback" not in log, log
    assert "/healthz" not in log


async def test_json_logs_are_one_object_a_line_with_the_workspace_and_outbox_key(tmp_path: Path, slack: FakeSlack) -> None:
    write_feed(tmp_path / "feed.json", failing=False)
    slack.rule("chat.postMessage", lambda call: Injected(200, {"ok": False, "error": "internal_error"}))
    port = free_port()
    bot = start(tmp_path, bot_env(tmp_path, slack, port, socket_mode=False, LOG_FORMAT="json", LOG_LEVEL="INFO"))
    try:
        await wait_polled(port)
        write_feed(tmp_path / "feed.json")
        await slack.wait_for_calls("chat.postMessage")
        deadline = time.monotonic() + 10
        while "internal_error" not in (tmp_path / "bot.log").read_text() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        bot.send_signal(signal.SIGTERM)
        assert await wait_exit(bot) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
    lines = [json.loads(line) for line in (tmp_path / "bot.log").read_text().splitlines()]
    retry = next(line for line in lines if "internal_error" in line["message"])
    assert retry["level"] == "WARNING" and retry["workspace"] == "T0G9PQBBK" and retry["channel"] == ALERTS
    assert retry["outbox_key"].startswith("post:") and retry["company"] == "s_1"


async def test_a_port_in_use_is_one_line(tmp_path: Path, slack: FakeSlack) -> None:
    write_feed(tmp_path / "feed.json", failing=False)
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", port))
        taken.listen()
        bot = start(tmp_path, bot_env(tmp_path, slack, port, socket_mode=False))
        assert await wait_exit(bot) == 2
    log = (tmp_path / "bot.log").read_text()
    assert log.strip().splitlines()[-1] == f"integration-bot: PORT {port}: cannot listen (address already in use)", log
    assert "Traceback" not in log
