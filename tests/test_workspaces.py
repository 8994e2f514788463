"""Many practices: "Add to Slack" through Bolt's OAuth flow, connecting each workspace to its own AutoEntry
feed, and every request, alert and button kept within its own workspace (SPEC.md "Many practices")."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from bot.slack.actions import ACK_ACTION, HOME_PAGE_ACTION, OPEN_CARD_ACTION, OVERVIEW_PAGE_ACTION
from bot.workspaces import CONNECT_ACTION, DISCONNECT_ACTION
from tests.blockkit import all_text
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.hosted import Hosted, bot_token, hosted_bot
from tests.practice import HOLDER, PERMITTED, UNPERMITTED, practice


async def test_install_sends_the_installer_a_connect_button_and_commands_say_who_can_connect(
    tmp_path: Path, slack: FakeSlack
) -> None:
    async with hosted_bot(tmp_path, slack) as hosted:
        page = await hosted.install("T_ONE", "U_INSTALLER")
        assert "slack://app?team=T_ONE" in page  # Bolt's success page opens the app in Slack

        dm = (await slack.wait_for(lambda: slack.posts("U_INSTALLER")))[0]
        assert dm.token == bot_token("T_ONE")
        assert [e["action_id"] for b in dm.args["blocks"] if b["type"] == "actions" for e in b["elements"]] == [CONNECT_ACTION]

        answer = await hosted.slash("T_ONE", "Acme Ltd", "U_SOMEONE")
        assert "not connected to AutoEntry" in answer["text"]
        assert "installed the app, or a workspace admin or owner" in answer["text"]
        async with hosted.http.get(f"{hosted.base_url}/healthz") as response:
            assert response.status == 200 and (await response.json())["workspaces"] == 0  # installed, none connected


async def test_on_postgresql_an_install_is_found_by_every_process_on_the_database(
    tmp_path: Path, slack: FakeSlack, postgres_url: str
) -> None:
    """With DATABASE_URL, Slack's installations and OAuth states are in PostgreSQL (slack_sdk's SQLAlchemy
    stores), not in each process's SQLite file: a second process finds the install and answers for it."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    async with hosted_bot(tmp_path / "one", slack, database_url=postgres_url) as one:
        page = await one.install("T_ONE", "U_INSTALLER")
        assert "slack://app?team=T_ONE" in page
        dm = (await slack.wait_for(lambda: slack.posts("U_INSTALLER")))[0]
        assert dm.token == bot_token("T_ONE")
        async with hosted_bot(tmp_path / "two", slack, database_url=postgres_url) as two:
            assert two.hosting.sqlite_installations is None
            found = await two.hosting.installation_store.async_find_installation(enterprise_id=None, team_id="T_ONE")
            assert found is not None and found.bot_token == bot_token("T_ONE") and found.user_id == "U_INSTALLER"
            # Bolt's authorize in the second process finds the bot token: the command is answered, not refused.
            answer = await two.slash("T_ONE", "Acme Ltd", "U_SOMEONE")
            assert "not connected to AutoEntry" in answer["text"]
            # An "Add to Slack" link made by one process is accepted once, by whichever process Slack sends back to.
            state = await one.hosting.state_store.async_issue()
            assert await two.hosting.state_store.async_consume(state)
            assert not await one.hosting.state_store.async_consume(state)
    for name in ("one", "two"):
        with sqlite3.connect(tmp_path / name / "bot.db") as conn:
            tables = {row[0] for row in conn.execute("select name from sqlite_master")}
        assert not tables & {"slack_installations", "slack_bots", "slack_oauth_states"}


async def test_connect_checks_the_feed_before_saving_and_keeps_the_token_encrypted(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed
) -> None:
    async with hosted_bot(tmp_path, slack) as hosted:
        await hosted.install("T_ONE", "U_INSTALLER")
        # A wrong token: the reason beside the token field, nothing saved.
        status, answer = await hosted.submit_connect("T_ONE", "U_INSTALLER", feed.base_url, "wrong-token")
        assert status == 200 and answer["response_action"] == "errors"
        assert "HTTP 401" in answer["errors"]["api_token"]
        assert hosted.hosting.store.workspace_record("T_ONE").status_source is None
        # Not an address at all: beside the source field.
        status, answer = await hosted.submit_connect("T_ONE", "U_INSTALLER", "ftp://x", "t")
        assert "not an http(s):// address" in answer["errors"]["status_source"]

        status, answer = await hosted.submit_connect("T_ONE", "U_INSTALLER", feed.base_url, feed.token)
        assert status == 200 and not answer
        services = await hosted.connected("T_ONE")
        assert services.settings.status_api_token == feed.token
        stored = hosted.hosting.store.db.execute("select feed_token from workspaces").fetchone()[0]
        assert feed.token not in stored and stored.startswith("gAAAA")  # Fernet ciphertext
        told = await slack.wait_for(lambda: [c for c in slack.posts("U_INSTALLER") if "Connected to AutoEntry" in c.args["text"]])
        assert "Smith & Co Accountants" in told[0].args["text"]

        answer = await hosted.slash("T_ONE", "Acme Ltd", "U_INSTALLER")
        assert "Acme Ltd" in answer["text"]


DUPLICATE = {"kind": "publication", "message": "Invoice/Bill Already Exists in Xero"}


def alert_value(post: Any) -> str:
    for block in post.args["blocks"]:
        if block["type"] == "actions":
            return block["elements"][0]["value"]
    raise AssertionError("no buttons")


@asynccontextmanager
async def practices_feeds(count: int) -> AsyncIterator[list[FakeFeed]]:
    """`count` AutoEntry feeds with the same company ids and names (the test practice), each workspace's
    own: the error message of Acme Ltd names its workspace."""
    feeds = []
    for number in range(count):
        account, companies = practice()
        feed = FakeFeed(account, companies)
        feed.token = f"feed-token-{number}"
        feed.update("c_1", error={"kind": "synchronisation", "message": f"Token Required in practice {number}"})
        await feed.start()
        feeds.append(feed)
    try:
        yield feeds
    finally:
        for feed in feeds:
            await feed.stop()


async def connect_workspaces(hosted: Hosted, feeds: list[FakeFeed]) -> list[str]:
    teams = [f"T{number:04d}" for number in range(len(feeds))]
    for team, feed in zip(teams, feeds):
        await hosted.install(team, HOLDER[0])
        status, answer = await hosted.submit_connect(team, HOLDER[0], feed.base_url, feed.token or "")
        assert status == 200 and not answer, answer
    for team in teams:
        await hosted.connected(team)
    return teams


async def each_workspace_asks_subscribes_alerts_and_presses(hosted: Hosted, feeds: list[FakeFeed], teams: list[str]) -> None:
    slack = hosted.slack
    for number, team in enumerate(teams):
        card = await hosted.slash(team, "Acme Ltd", HOLDER[0])
        assert f"Token Required in practice {number}" in all_text(card)
        assert "practice" not in all_text(card).replace(f"practice {number}", "")  # no other workspace's message
        answer = await hosted.slash(team, "subscribe all", HOLDER[0], channel="C_SHARED")
        assert "alerts for every company" in all_text(answer).lower() or "subscribed" in all_text(answer).lower()

    # Every workspace's Bright & Sons fails at once; each is told in its own channel, with its own token.
    for number, (team, feed) in enumerate(zip(teams, feeds)):
        feed.update("c_2", integration_status="error", error={"kind": "publication", "message": f"Duplicate in {number}#"})
    for team in teams:
        await hosted.practice(team).poller.poll_once()  # type: ignore[union-attr]

    def alerts_of(number: int) -> list[Any]:
        return [
            c
            for c in slack.posts("C_SHARED", top_level=True)
            if c.token == bot_token(teams[number]) and "Bright" in c.args["text"]
        ]

    await slack.wait_for(lambda: all(alerts_of(n) for n in range(len(teams))), timeout=20)
    for number in range(len(teams)):
        (post,) = alerts_of(number)
        assert f"Duplicate in {number}#" in all_text(post.args)
        for other in range(len(teams)):
            if other != number:
                assert f"Duplicate in {other}#" not in all_text(post.args)

    # Each acknowledges its own alert; the other workspace's forged value (its own incident id) reaches nothing.
    for number, team in enumerate(teams):
        value = alert_value(alerts_of(number)[0])
        foreign = alert_value(alerts_of((number + 1) % len(teams))[0])
        if foreign != value:  # ids are global, so a workspace never sees another's id as its own
            assert await hosted.click(team, ACK_ACTION, foreign, HOLDER[0], channel="C_SHARED") == 200
            said = await slack.wait_for(lambda: [r for r in slack.responses if "not known here" in str(r.args)])
            assert said
            slack.responses.clear()
            assert not [c for c in slack.of("chat.update") if c.token == bot_token(team)]  # nothing changed
        assert await hosted.click(team, ACK_ACTION, value, HOLDER[0], channel="C_SHARED") == 200
    await slack.wait_for(
        lambda: (
            {c.token for c in slack.of("chat.update") if "Acknowledged by" in all_text(c.args)}
            == {bot_token(team) for team in teams}
        ),
        timeout=20,
    )
    for team in teams:
        services = hosted.practice(team)
        assert services is not None
        acked = services.store.db.execute(
            "select count(*) from alert_messages where workspace = ? and acked_by is not null", [team]
        ).fetchone()[0]
        assert acked == 1


async def test_two_workspaces_with_the_same_companies_never_see_each_others(tmp_path: Path, slack: FakeSlack) -> None:
    async with practices_feeds(2) as feeds, hosted_bot(tmp_path, slack) as hosted:
        teams = await connect_workspaces(hosted, feeds)
        await each_workspace_asks_subscribes_alerts_and_presses(hosted, feeds, teams)


async def test_fifty_workspaces_each_ask_subscribe_get_alerts_and_press(tmp_path: Path, slack: FakeSlack) -> None:
    async with practices_feeds(50) as feeds, hosted_bot(tmp_path, slack) as hosted:
        teams = await connect_workspaces(hosted, feeds)
        await each_workspace_asks_subscribes_alerts_and_presses(hosted, feeds, teams)


async def test_only_the_installer_and_admins_may_connect_and_the_token_shows_as_its_last_four(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed
) -> None:
    slack.users[UNPERMITTED[0]]["is_admin"] = False  # the users.info template is an admin
    async with hosted_bot(tmp_path, slack) as hosted:
        await hosted.install("T_ONE", HOLDER[0])
        answer = await hosted.slash("T_ONE", "connect", UNPERMITTED[0])
        assert "Only the person who installed the app, or a workspace admin or owner" in answer["text"]
        assert slack.of("views.open") == []
        status, answer = await hosted.submit_connect("T_ONE", UNPERMITTED[0], feed.base_url, feed.token or "")
        assert answer["response_action"] == "errors"
        assert hosted.hosting.store.workspace_record("T_ONE").status_source is None
        # Someone else's App Home says who can connect, without the button.
        await hosted.event("T_ONE", {"type": "app_home_opened", "user": UNPERMITTED[0], "tab": "home", "channel": "D1"})
        (home,) = await slack.wait_for_calls("views.publish")
        assert "can connect it" in all_text(home.args["view"]) and CONNECT_ACTION not in str(home.args["view"])
        assert home.token == bot_token("T_ONE")

        # An admin (not the installer) may; the modal comes up.
        answer = await hosted.slash("T_ONE", "connect", PERMITTED[0])
        (opened,) = await slack.wait_for_calls("views.open")
        assert opened.args["view"]["callback_id"] == "connect_autoentry"
        await hosted.submit_connect("T_ONE", PERMITTED[0], feed.base_url, feed.token or "")
        await hosted.connected("T_ONE")
        # Opened again: the source is filled in, the token only as its last four characters.
        await hosted.slash("T_ONE", "connect", HOLDER[0])
        views = await slack.wait_for_calls("views.open", 2)
        shown = json.dumps(views[1].args["view"], ensure_ascii=False)
        assert feed.base_url in shown and f"…{(feed.token or '')[-4:]}" in shown and (feed.token or "") not in shown

        answer = await hosted.slash("T_ONE", "disconnect", UNPERMITTED[0])
        assert "Only the person who installed" in answer["text"] and hosted.practice("T_ONE") is not None
        answer = await hosted.slash("T_ONE", "disconnect", HOLDER[0])
        assert "Disconnected from AutoEntry" in answer["text"]
        assert hosted.practice("T_ONE") is None
        assert hosted.hosting.store.workspace_record("T_ONE").feed_token is None
        assert "not connected to AutoEntry" in (await hosted.slash("T_ONE", "Acme Ltd", HOLDER[0]))["text"]
        # Buttons drawn before the disconnect say so too, rather than nothing.
        before = len(slack.responses)
        for action_id, value in ((OVERVIEW_PAGE_ACTION + ":next", '["errors","after",0,"acme ltd","c_1"]'), (ACK_ACTION, "i:1")):
            assert await hosted.click("T_ONE", action_id, value, HOLDER[0]) == 200
        answers = (await slack.wait_for_responses(before + 2))[before:]
        assert all("not connected to AutoEntry" in call.args["text"] for call in answers)
        assert all(call.args["replace_original"] is False for call in answers)
        # Pressed on a Home tab drawn before the disconnect: the tab is shown as not connected.
        for action_id, value in ((OPEN_CARD_ACTION + ":0", "c_1"), (HOME_PAGE_ACTION + ":next", "garbage")):
            published = len(slack.of("views.publish"))
            assert await hosted.click("T_ONE", action_id, value, HOLDER[0], on_home=True) == 200
            view = (await slack.wait_for_calls("views.publish", published + 1))[-1].args["view"]
            assert "Connect AutoEntry" in json.dumps(view)


async def test_one_workspaces_hanging_feed_does_not_hold_up_anothers_alert(tmp_path: Path, slack: FakeSlack) -> None:
    async with practices_feeds(2) as feeds, hosted_bot(tmp_path, slack) as hosted:
        teams = await connect_workspaces(hosted, feeds)
        slow, fast = (hosted.practice(team) for team in teams)
        assert slow is not None and fast is not None
        await hosted.slash(teams[1], "subscribe all", HOLDER[0], channel="C_FAST")
        feeds[0].drip_seconds = 0.5  # a page's headers, then a byte every half second: a hanging feed
        hanging = asyncio.create_task(slow.poller.poll_once())
        try:
            await slack.wait_for(lambda: any("/companies" in r for r in feeds[0].requests))
            feeds[1].update("c_2", integration_status="error", error=DUPLICATE)
            await fast.poller.poll_once()
            (post,) = await slack.wait_for(lambda: slack.posts("C_FAST"))
            assert post.token == bot_token(teams[1]) and "Bright" in post.args["text"]
            assert not hanging.done()  # the other workspace's poll is still waiting on its feed
        finally:
            hanging.cancel()


async def test_a_poll_hanging_when_the_bot_stops_ends_with_it_and_writes_nothing_after(
    tmp_path: Path, slack: FakeSlack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disconnecting a workspace, or stopping the process, ends a poll that hangs on its feed: it is cancelled
    (having written nothing) rather than left to write to a database closed under it."""
    monkeypatch.setattr("bot.hosted_app.STOP_GRACE_SECONDS", 0.3)
    caplog.set_level(logging.WARNING)
    async with practices_feeds(3) as feeds:
        async with hosted_bot(tmp_path, slack) as hosted:
            teams = await connect_workspaces(hosted, feeds)
            polls = []
            for feed, team in zip(feeds[:2], teams):
                feed.drip_seconds = 0.5  # a page's headers, then a byte every half second: a hanging feed
                polls.append(asyncio.create_task(hosted.practice(team).poller.poll_once()))  # type: ignore[union-attr]
            await slack.wait_for(lambda: all(any("/companies" in r for r in feed.requests) for feed in feeds[:2]))
            runs = hosted.hosting.store.db.execute("select count(*) from poll_runs").fetchone()[0]
            assert await hosted.click(teams[0], DISCONNECT_ACTION, "disconnect", HOLDER[0]) == 200
            first = await asyncio.wait_for(polls[0], 5)
            assert not first.ok and first.error == "the bot is stopping"
            assert hosted.practice(teams[0]) is None and hosted.practice(teams[2]) is not None
        second = await asyncio.wait_for(polls[1], 5)  # the process stopped, its poll with it
        assert not second.ok and second.error == "the bot is stopping"
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        assert conn.execute("select count(*) from poll_runs").fetchone()[0] == runs  # neither recorded anything
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_uninstall_mid_delivery_stops_that_workspace_at_once_and_loses_nothing_of_the_others(
    tmp_path: Path, slack: FakeSlack
) -> None:
    async with practices_feeds(2) as feeds, hosted_bot(tmp_path, slack) as hosted:
        teams = await connect_workspaces(hosted, feeds)
        await hosted.slash(teams[0], "subscribe all", HOLDER[0], channel="C_GONE")
        await hosted.slash(teams[1], "subscribe all", HOLDER[0], channel="C_STAYS")
        gate = slack.held["C_GONE"] = asyncio.Event()
        hosted.gates.append(gate)  # Slack is slow to answer for the leaving workspace
        for feed in feeds:
            for company_id in ("c_2", "c_7", "c_10"):
                feed.update(company_id, integration_status="error", error=DUPLICATE)
        for team in teams:
            await hosted.practice(team).poller.poll_once()  # type: ignore[union-attr]
        await slack.wait_for(lambda: any(c.args.get("channel") == "C_GONE" for c in slack.arrived))

        assert await hosted.event(teams[0], {"type": "app_uninstalled"}) == 200
        installations = hosted.hosting.sqlite_installations
        await slack.wait_for(
            lambda: (
                hosted.practice(teams[0]) is None
                and installations.find_installation(enterprise_id=None, team_id=teams[0]) is None
            )
        )
        record = hosted.hosting.store.workspace_record(teams[0])
        assert record.uninstalled_at is not None and record.feed_token is None and record.status_source is None
        gate.set()

        # The other workspace's alerts all arrive, with its own token; the leaving one sends nothing more.
        # The other workspace's alerts all arrive, with its own token; the leaving one sends nothing more.
        def told() -> str:
            return " ".join(all_text(c.args) for c in slack.posts("C_STAYS"))

        await slack.wait_for(lambda: all(name in told() for name in ("Bright", "Greenway", "List Brothers")), timeout=10)
        assert {c.token for c in slack.posts("C_STAYS")} == {bot_token(teams[1])}
        await asyncio.sleep(0.2)
        assert len([c for c in slack.calls if c.args.get("channel") == "C_GONE"]) <= 1  # the one in flight


async def test_tokens_revoked_stops_the_workspace_and_its_data_goes_after_thirty_days(tmp_path: Path, slack: FakeSlack) -> None:
    async with practices_feeds(2) as feeds, hosted_bot(tmp_path, slack) as hosted:
        teams = await connect_workspaces(hosted, feeds)
        store = hosted.hosting.store
        await hosted.event(teams[0], {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [f"U_BOT_{teams[0]}"]}})
        await slack.wait_for(lambda: hosted.practice(teams[0]) is None)
        assert hosted.practice(teams[1]) is not None
        assert store.for_workspace(teams[0]).company_count() > 0  # kept for now
        assert await hosted.hosting.purge_uninstalled() == []
        store.db.execute("update workspaces set uninstalled_at = '2020-01-01T00:00:00+00:00' where workspace = ?", [teams[0]])
        assert await hosted.hosting.purge_uninstalled() == [teams[0]]
        assert store.for_workspace(teams[0]).company_count() == 0 and store.workspace_record(teams[0]) is None
        assert store.for_workspace(teams[1]).company_count() > 0


async def test_a_rotating_bot_token_is_renewed_before_it_expires(tmp_path: Path, slack: FakeSlack, feed: FakeFeed) -> None:
    async with hosted_bot(tmp_path, slack) as hosted:
        await hosted.install("T_ONE", HOLDER[0], expires_in=60)  # expires within the renewal margin
        await hosted.submit_connect("T_ONE", HOLDER[0], feed.base_url, feed.token or "")
        services = await hosted.connected("T_ONE")
        assert services.client.token == f"{bot_token('T_ONE')}-refreshed"
        assert [c.args.get("grant_type") for c in slack.of("oauth.v2.access")][-1] == "refresh_token"


async def test_single_workspace_mode_has_nothing_to_connect(bot: Any) -> None:
    answer = await bot.slash("connect")
    assert "STATUS_SOURCE" in answer["text"]


async def test_installing_again_keeps_the_connection_and_uses_the_new_token(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed
) -> None:
    async with hosted_bot(tmp_path, slack) as hosted:
        await hosted.install("T_ONE", HOLDER[0])
        await hosted.submit_connect("T_ONE", HOLDER[0], feed.base_url, feed.token or "")
        await hosted.connected("T_ONE")
        await asyncio.sleep(1.05)  # slack_sdk's SQLite store keeps install times in whole seconds: the latest wins
        await hosted.install("T_ONE", HOLDER[0], token="xoxb-T_ONE-second")
        services = await slack.wait_for(lambda: (p := hosted.practice("T_ONE")) and p.client.token == "xoxb-T_ONE-second" and p)
        assert services.deliverer.client.token == "xoxb-T_ONE-second"
        assert "Acme Ltd" in (await hosted.slash("T_ONE", "Acme Ltd", HOLDER[0]))["text"]


async def test_stopping_lets_a_post_in_flight_finish_and_takes_no_new_work(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed
) -> None:
    slack.method_latency["chat.postMessage"] = 0.5
    async with hosted_bot(tmp_path, slack) as hosted:
        await hosted.install("T_ONE", HOLDER[0])
        await hosted.submit_connect("T_ONE", HOLDER[0], feed.base_url, feed.token or "")
        services = await hosted.connected("T_ONE")
        await hosted.slash("T_ONE", "subscribe all", HOLDER[0], channel="C_OPS")
        feed.update("c_2", integration_status="error", error=DUPLICATE)
        await services.poller.poll_once()
        await slack.wait_for(lambda: any(c.args.get("channel") == "C_OPS" for c in slack.arrived))
    # The app has stopped: the post that was in flight finished and is recorded as sent.
    assert [c.args["channel"] for c in slack.posts("C_OPS")] == ["C_OPS"]
    with sqlite3.connect(tmp_path / "bot.db") as db:
        states = db.execute("select state from outbox where workspace = 'T_ONE' and channel = 'C_OPS'").fetchall()
    assert states == [("sent",)]
