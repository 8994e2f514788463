"""What an operator of many workspaces watches: /healthz per workspace (one practice's failing feed or
revoked token is listed, not the deployment's 503) and /metrics with a `workspace` label
(docs/operations.md "Many workspaces")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import FakeClock
from tests.fakes.slack_api import Call, FakeSlack, Injected
from tests.hosted import Hosted, bot_token, hosted_bot
from tests.practice import HOLDER
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

        status, body, _ = await get(hosted, f"/healthz?workspace={broken_feed}")
        assert status == 503 and body["workspace"] == broken_feed and body["polling"] == "failing"
        assert "HTTP 401" in body["problem"]
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
