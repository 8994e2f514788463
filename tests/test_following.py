"""Two app processes of many workspaces on one PostgreSQL database: what one process changes about a
workspace (connected, a new bot token stored, uninstalled) the other follows within seconds, without a
restart: it runs the workspace, uses the new token, stops it (bot/following.py)."""

from __future__ import annotations

import time
from pathlib import Path

from bot.following import FOLLOW_SECONDS
from tests.fakes.slack_api import FakeSlack
from tests.hosted import bot_token, hosted_bot
from tests.practice import HOLDER

# The other process hears of a change at its next read (every FOLLOW_SECONDS); the rest is its own work.
WITHIN = FOLLOW_SECONDS + 8


async def test_a_workspace_connected_given_a_new_token_and_uninstalled_by_one_process_is_followed_by_the_other(
    tmp_path: Path, slack: FakeSlack, postgres_url: str
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    async with (
        hosted_bot(tmp_path / "one", slack, database_url=postgres_url) as one,
        hosted_bot(tmp_path / "two", slack, database_url=postgres_url) as two,
    ):
        one.hosting.store.owner, two.hosting.store.owner = "host-one:1:a", "host-two:2:b"  # two processes
        await one.install("T_ONE", HOLDER[0])
        assert (await one.submit_connect("T_ONE", HOLDER[0], "demo", ""))[0] == 200
        await one.connected("T_ONE")
        # The other process runs the workspace too, with its token, and answers for it from the shared database.
        running = await slack.wait_for(lambda: two.practice("T_ONE"), timeout=WITHIN)
        assert running.client.token == bot_token("T_ONE")
        assert "Acme Ltd" in (await two.slash("T_ONE", "Acme Ltd", HOLDER[0]))["text"]  # its install is cached now

        # A new bot token, stored by the first process: the second stops using the old one.
        stored = time.monotonic()
        await one.install("T_ONE", HOLDER[0], token="xoxb-T_ONE-second")
        running = await slack.wait_for(
            lambda: (p := two.practice("T_ONE")) and p.client.token == "xoxb-T_ONE-second" and p, timeout=WITHIN
        )
        followed_in = time.monotonic() - stored
        assert running.deliverer.client.token == "xoxb-T_ONE-second"
        cached = await two.hosting.installations.async_find_installation(enterprise_id=None, team_id="T_ONE")
        assert cached.bot_token == "xoxb-T_ONE-second"
        slack.calls.clear()
        await two.slash("T_ONE", "Acme Ltd", "U_SOMEONE_NEW")  # looks the person up with the workspace's token
        assert {call.token for call in slack.calls if call.token} <= {"xoxb-T_ONE-second"}

        # Uninstalled, handled by the first process: the second stops polling and delivering, and forgets the token.
        assert await one.event("T_ONE", {"type": "app_uninstalled"}) == 200
        await slack.wait_for(lambda: two.practice("T_ONE") is None, timeout=WITHIN)
        assert await two.hosting.installations.async_find_installation(enterprise_id=None, team_id="T_ONE") is None
        assert await two.hosting.installations.async_find_bot(enterprise_id=None, team_id="T_ONE") is None
    print(f"a new token followed in {followed_in:.1f} s")


def test_forgetting_a_workspace_drops_its_cached_bot_and_installations_only() -> None:
    from bot.following import SharedInstallationCache

    cache = SharedInstallationCache(None, lambda workspace: None)  # type: ignore[arg-type]
    keys = ["-T_ONE", "-T_ONE2", "E_ORG-", "E_ORG-T_TEAM"]
    cache.cached_bots = dict.fromkeys(keys)  # type: ignore[arg-type]
    cache.cached_installations = dict.fromkeys(["-T_ONE-", "-T_ONE-U_1", "-T_ONE2-", "E_ORG--", "E_ORG-T_TEAM-"])  # type: ignore[arg-type]
    cache.forget(None, "T_ONE")
    assert list(cache.cached_bots) == ["-T_ONE2", "E_ORG-", "E_ORG-T_TEAM"]
    assert list(cache.cached_installations) == ["-T_ONE2-", "E_ORG--", "E_ORG-T_TEAM-"]
    cache.forget("E_ORG", None)  # an org-wide install: not the org's workspace installs
    assert list(cache.cached_bots) == ["-T_ONE2", "E_ORG-T_TEAM"]
    assert list(cache.cached_installations) == ["-T_ONE2-", "E_ORG-T_TEAM-"]
