"""Running many workspaces: what an operator watches, /healthz per workspace (one practice's failing feed or
revoked token is listed, not the deployment's 503) and /metrics with a `workspace` label (docs/operations.md
"Many workspaces"); what a practice sees of its connection on the App Home; Socket Mode with many workspaces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.workspaces import CONNECT_ACTION, CONNECT_VIEW, DISCONNECT_ACTION
from tests.blockkit import all_text
from tests.conftest import SHARED, FakeClock
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import Call, FakeSlack, Injected
from tests.hosted import Hosted, bot_token, hosted_bot
from tests.practice import HOLDER, UNPERMITTED
from tests.test_workspaces import connect_workspaces, practices_feeds


async def get(hosted: Hosted, path: str) -> tuple[int, Any, str]:
    async with hosted.http.get(f"{hosted.base_url}{path}") as response:
        text = await response.text()
        return response.status, (json.loads(text) if response.content_type == "application/json" else None), text


async def test_healthz_lists_each_failing_workspace_and_answers_for_one(
    tmp_path: Path, slack: FakeSlack, clock: FakeClock
) -> None:
    async with practices_feeds(3) as feeds, hosted_bot(tmp_path, slack, clock=clock) as hosted:
        broken_feed, revoked, healthy = teams = await connect_workspaces(hosted, feeds)
        status, body, _ = await get(hosted, "/healthz")
        assert status == 200 and body["status"] == "ok" and body["workspaces"] == 3

        # T0001's alerts cannot reach Slack (its token is refused); T0000's feed refuses its token.
        slack.rule(
            "chat.postMessage",
            lambda call: Injected(200, {"ok": False, "error": "invalid_auth"}, {}) if call.token == bot_token(revoked) else None,
        )
        await hosted.slash(revoked, "subscribe all", HOLDER[0], channel="C_ONE")
        feeds[1].update("c_2", integration_status="error", error={"kind": "publication", "message": "Duplicate"})
        feeds[0].token = "rotated-by-the-practice"
        await hosted.practice(revoked).poller.poll_once()  # type: ignore[union-attr]
        await slack.wait_for(lambda: [c for c in slack.of("chat.postMessage") if c.token == bot_token(revoked)])
        clock.advance(minutes=40)  # more than three 10-minute intervals
        for team in teams:
            await hosted.practice(team).poller.poll_once()  # type: ignore[union-attr]

        status, body, text = await get(hosted, "/healthz")
        assert status == 200 and body["status"] == "degraded"
        assert body["feed_failing"] == {"count": 1, "workspaces": [broken_feed]}
        assert body["alerts_not_reaching_slack"] == {"count": 1, "workspaces": [revoked]}
        for secret in ("feed-token", "xoxb-", "Acme", "Bright", "rotated", feeds[0].base_url):
            assert secret not in text  # ids and counts only

        status, body, text = await get(hosted, f"/healthz?workspace={broken_feed}")
        assert status == 503 and body["workspace"] == broken_feed and body["polling"] == "failing"
        assert body["status"] == "failing" and body["failing_polls"] >= 1
        # Public like /slack/events, and team ids are not secret: states, times and counts, no feed address,
        # no error text (a feed's error can name its host), no channel ids.
        for secret in (feeds[0].base_url, feeds[1].base_url, "127.0.0.1", "HTTP 401", "feed-token", "C_ONE"):
            assert secret not in text
        assert "problem" not in body and "feed" not in body
        status, body, _ = await get(hosted, f"/healthz/{revoked}")
        assert status == 503 and body["delivery"]["status"] == "failing" and body["polling"] == "ok"
        assert (await get(hosted, f"/healthz/{healthy}"))[0] == 200

        # The practice fixes its token: its own /healthz is 200 again at its next good poll.
        feeds[0].token = "feed-token-0"
        await hosted.practice(broken_feed).poller.poll_once()  # type: ignore[union-attr]
        status, body, _ = await get(hosted, f"/healthz/{broken_feed}")
        assert status == 200 and body["status"] == "ok"
        assert (await get(hosted, "/healthz"))[1]["feed_failing"] == {"count": 0, "workspaces": []}

        # Installed but not connected; not installed; not an id at all.
        await hosted.install("T_NEW", HOLDER[0])
        status, body, _ = await get(hosted, "/healthz?workspace=T_NEW")
        assert (status, body["status"]) == (200, "not_connected")
        assert (await get(hosted, "/healthz/T9999"))[0] == 404
        assert (await get(hosted, "/healthz?workspace=%3Cscript%3E"))[0] == 400
        assert (await get(hosted, "/healthz?workspace=T_NEW%0A"))[0] == 400  # a trailing newline is not an id


async def test_metrics_label_the_per_workspace_figures_and_keep_the_totals(
    tmp_path: Path, slack: FakeSlack, clock: FakeClock
) -> None:
    async with practices_feeds(2) as feeds, hosted_bot(tmp_path, slack, clock=clock) as hosted:
        failing, waiting = await connect_workspaces(hosted, feeds)

        def refused(call: Call) -> Injected | None:
            return Injected(200, {"ok": False, "error": "invalid_auth"}, {}) if call.token == bot_token(waiting) else None

        slack.rule("chat.postMessage", refused)
        await hosted.slash(waiting, "subscribe all", HOLDER[0], channel="C_ONE")
        feeds[1].update("c_2", integration_status="error", error={"kind": "publication", "message": "Duplicate"})
        feeds[0].token = "rotated-by-the-practice"
        clock.advance(minutes=5)
        for team in (waiting, failing):
            await hosted.practice(team).poller.poll_once()  # type: ignore[union-attr]

        status, _, text = await get(hosted, "/metrics")
        assert status == 200
        lines = set(text.splitlines())
        assert f'integration_bot_workspace_consecutive_poll_failures{{workspace="{failing}"}} 1.0' in lines
        assert f'integration_bot_workspace_consecutive_poll_failures{{workspace="{waiting}"}} 0.0' in lines
        assert f'integration_bot_workspace_last_good_poll_age_seconds{{workspace="{failing}"}} 300.0' in lines
        assert f'integration_bot_workspace_last_good_poll_age_seconds{{workspace="{waiting}"}} 0.0' in lines
        assert f'integration_bot_workspace_outbox_depth{{workspace="{waiting}"}} 1.0' in lines
        assert f'integration_bot_workspace_outbox_depth{{workspace="{failing}"}} 0.0' in lines
        assert "integration_bot_workspaces 2.0" in lines and "integration_bot_workspaces_polls_failing 1.0" in lines
        assert "integration_bot_outbox_depth 1.0" in lines and "integration_bot_poll_failures_total 1.0" in lines
        for secret in ("feed-token", "xoxb-", "Acme", "Bright", feeds[0].base_url):
            assert secret not in text


async def test_the_app_home_of_a_connected_workspace_changes_or_disconnects_it(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed
) -> None:
    slack.users[UNPERMITTED[0]]["is_admin"] = False  # the users.info template is an admin
    token = feed.token or ""
    async with hosted_bot(tmp_path, slack) as hosted:
        await hosted.install("T_ONE", HOLDER[0])
        await hosted.submit_connect("T_ONE", HOLDER[0], feed.base_url, token)
        await hosted.connected("T_ONE")

        # The installer's Home: where the statuses come from, the token as its last four, both buttons.
        await hosted.event("T_ONE", {"type": "app_home_opened", "user": HOLDER[0], "tab": "home", "channel": "D1"})
        (home,) = await slack.wait_for_calls("views.publish")
        view = home.args["view"]
        shown = json.dumps(view, ensure_ascii=False)
        assert f"AutoEntry connection:* {feed.base_url} (API token …{token[-4:]})" in all_text(view)
        assert token not in shown
        buttons = {e["action_id"]: e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]}
        assert buttons[CONNECT_ACTION]["text"]["text"] == "Change connection"
        assert buttons[DISCONNECT_ACTION]["confirm"]["title"]["text"] == "Disconnect AutoEntry?"

        # Someone who may not change it is told who can, and sees neither button.
        await hosted.event("T_ONE", {"type": "app_home_opened", "user": UNPERMITTED[0], "tab": "home", "channel": "D2"})
        other = (await slack.wait_for_calls("views.publish", 2))[1]
        assert other.args["user_id"] == UNPERMITTED[0]
        assert "can change or disconnect it" in all_text(other.args["view"])
        assert CONNECT_ACTION not in str(other.args["view"]) and DISCONNECT_ACTION not in str(other.args["view"])

        # Change connection opens the same modal, the address filled in, the token never.
        assert await hosted.click("T_ONE", CONNECT_ACTION, "change", HOLDER[0]) == 200
        (opened,) = await slack.wait_for_calls("views.open")
        modal = json.dumps(opened.args["view"], ensure_ascii=False)
        assert opened.args["view"]["callback_id"] == CONNECT_VIEW
        assert f'"initial_value": "{feed.base_url}"' in modal and f"…{token[-4:]}" in modal and token not in modal

        # A Disconnect pressed by someone who may not (a forged press: they have no such button) changes nothing.
        assert await hosted.click("T_ONE", DISCONNECT_ACTION, "disconnect", UNPERMITTED[0]) == 200
        await slack.wait_for(lambda: [c for c in slack.of("chat.postMessage") if c.args.get("channel") == UNPERMITTED[0]])
        assert "Only the person who installed" in slack.of("chat.postMessage")[-1].args["text"]
        assert hosted.practice("T_ONE") is not None

        # The installer confirms Disconnect: no more polling, the token deleted, the Home offers Connect again.
        assert await hosted.click("T_ONE", DISCONNECT_ACTION, "disconnect", HOLDER[0]) == 200
        told = await slack.wait_for(
            lambda: [c for c in slack.of("chat.postMessage") if "Disconnected from AutoEntry" in c.args.get("text", "")]
        )
        assert told[0].args["channel"] == HOLDER[0]
        assert hosted.practice("T_ONE") is None and hosted.hosting.store.workspace_record("T_ONE").feed_token is None
        last = (await slack.wait_for_calls("views.publish", 3))[2]
        assert last.args["user_id"] == HOLDER[0] and "not connected to AutoEntry yet" in all_text(last.args["view"])
        assert CONNECT_ACTION in str(last.args["view"])


async def test_many_workspaces_in_socket_mode_install_over_http_and_answer_over_the_socket(
    tmp_path: Path, slack: FakeSlack, feed: FakeFeed
) -> None:
    async with hosted_bot(tmp_path, slack, app_token="xapp-1-hosted", signing_secret=None) as hosted:
        await slack.wait_for(lambda: slack.socket_connections == 1, timeout=10)
        # "Add to Slack" and its redirect stay on PORT (the installer's browser goes there); events do not.
        await hosted.install("T_ONE", HOLDER[0])
        await hosted.install("T_TWO", HOLDER[0])
        async with hosted.http.post(f"{hosted.base_url}/slack/events", data=b"{}") as response:
            assert response.status == 404
        assert (await hosted.hosting.connect("T_ONE", HOLDER[0], feed.base_url, feed.token or ""))[0] == {}
        await hosted.hosting.start_workspace("T_ONE")
        await hosted.connected("T_ONE")

        envelope = json.loads((SHARED / "slack" / "bolt-python.socket_mode_envelope.slash_commands.json").read_text())

        async def ask(team: str, envelope_id: str) -> dict[str, Any]:
            envelope["envelope_id"] = envelope_id
            envelope["payload"].update(
                command="/integration-status", text="Acme Ltd", user_id=HOLDER[0], team_id=team, api_app_id="A111"
            )
            await slack.send_envelope(envelope)
            acks = await slack.wait_for(lambda: [m for m in slack.socket_messages if m.get("envelope_id") == envelope_id])
            return acks[0].get("payload") or {}

        # Each envelope is authorized from its own workspace's installation and answered from its data only.
        assert "Acme Ltd" in json.dumps(await ask("T_ONE", "env-one"))
        assert "not connected to AutoEntry" in json.dumps(await ask("T_TWO", "env-two"))
        status, body, _ = await get(hosted, "/healthz/T_ONE")
        assert status == 200 and body["workspace"] == "T_ONE"
    assert slack.socket_closed == 1  # closed by the bot when it stopped
