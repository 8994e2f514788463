"""/healthz of a deployment with many workspaces, from each workspace's own health: pure, no I/O."""

from __future__ import annotations

from bot.hosted_health import LISTED_AT_MOST, WorkspaceHealth, deployment_health, unknown_workspace


def report(workspace: str, *, polling: str = "ok", delivery: str = "ok") -> WorkspaceHealth:
    failing = polling == "failing" or delivery == "failing"
    return WorkspaceHealth(workspace, polling == "failing", delivery == "failing", "failing" if failing else "ok")


def test_one_practices_failing_feed_is_listed_but_the_deployment_stays_up() -> None:
    status, body = deployment_health([report("T1", polling="failing"), report("T2", delivery="failing"), report("T3")])
    assert status == 200 and body["status"] == "degraded" and body["workspaces"] == 3
    assert body["feed_failing"] == {"count": 1, "workspaces": ["T1"]}
    assert body["alerts_not_reaching_slack"] == {"count": 1, "workspaces": ["T2"]}
    assert body["workspace_status"] == {"failing": 2, "ok": 1}


def test_every_workspace_failing_at_once_is_the_deployments_problem() -> None:
    status, body = deployment_health([report("T1", polling="failing"), report("T2", polling="failing")])
    assert status == 503 and body["status"] == "failing" and "share" in str(body["problem"])
    # A deployment of one practice: its feed is its own problem.
    assert deployment_health([report("T1", polling="failing")])[0] == 200
    assert deployment_health([]) == (
        200,
        {
            "status": "ok",
            "workspaces": 0,
            "workspace_status": {},
            "feed_failing": {"count": 0, "workspaces": []},
            "alerts_not_reaching_slack": {"count": 0, "workspaces": []},
        },
    )


def test_the_lists_are_bounded_and_the_counts_whole() -> None:
    reports = [report(f"T{n:05d}", polling="failing") for n in range(LISTED_AT_MOST + 50)] + [report("TOK")]
    _, body = deployment_health(reports)
    assert body["feed_failing"]["count"] == LISTED_AT_MOST + 50  # type: ignore[index]
    assert len(body["feed_failing"]["workspaces"]) == LISTED_AT_MOST  # type: ignore[index]


def test_a_malformed_workspace_id_is_a_400_an_unknown_one_a_404() -> None:
    assert unknown_workspace("T<script>")[0] == 400
    assert unknown_workspace("T404")[0] == 404
