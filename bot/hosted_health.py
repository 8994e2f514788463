"""What /healthz says with many workspaces (docs/operations.md "Many workspaces"). Pure: functions of each
workspace's own health (bot/health.py `health`), no I/O.

One practice's failing feed or revoked token is that practice's problem: it is shown to that practice (its
App Home, its ALERT_CHANNEL) and listed here by workspace id, but it does not turn the deployment's /healthz
503. The deployment's /healthz is 503 only when every connected workspace, at least DEPLOYMENT_QUORUM of them,
is failing at once: a cause they share (the process's network, Slack, AutoEntry's API, the database).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

# With fewer connected workspaces than this, their all failing says nothing of the deployment.
DEPLOYMENT_QUORUM = 2
# Workspace ids listed per kind of failure at most; the count is always whole.
LISTED_AT_MOST = 200
# A workspace id as Slack gives them: a team id (`T...`) or an Enterprise Grid org id (`E...`), letters and
# digits (an underscore allowed too); anything else is refused before any lookup.
WORKSPACE_ID = re.compile(r"\A[A-Za-z0-9_]{2,40}\Z")


@dataclass(frozen=True, slots=True)
class WorkspaceHealth:
    """One connected workspace, as the deployment's /healthz counts it (bot/health.py `workspace_health`):
    its polls failing for more than three intervals, its alerts not reaching Slack, and its status ("ok",
    "degraded": its last poll failed, "starting": no good poll yet, "failing": either of the two)."""

    workspace: str
    polling_failing: bool
    delivery_failing: bool
    status: str


def deployment_health(reports: Iterable[WorkspaceHealth]) -> tuple[int, dict[str, object]]:
    """(HTTP status, JSON body) of the deployment from each connected workspace's health.

    The body: `status` ("ok"; "degraded" when any workspace is failing; "failing" with 503), `workspaces`
    (how many connected), `workspace_status` (how many of each status), `feed_failing` and
    `alerts_not_reaching_slack`, each {"count": n, "workspaces": [ids, sorted, at most LISTED_AT_MOST]}. Ids
    only: no token, feed address, account or company of any practice."""
    statuses: dict[str, int] = {}
    feeds: list[str] = []
    deliveries: list[str] = []
    failing = 0
    total = 0
    for report in reports:
        total += 1
        statuses[report.status] = statuses.get(report.status, 0) + 1
        if report.polling_failing:
            feeds.append(report.workspace)
        if report.delivery_failing:
            deliveries.append(report.workspace)
        failing += report.polling_failing or report.delivery_failing
    everyone_failing = total >= DEPLOYMENT_QUORUM and failing == total
    state = "failing" if everyone_failing else ("degraded" if failing else "ok")
    body_out: dict[str, object] = {
        "status": state,
        "workspaces": total,
        "workspace_status": statuses,
        "feed_failing": _listed(feeds),
        "alerts_not_reaching_slack": _listed(deliveries),
    }
    if everyone_failing:
        body_out["problem"] = f"all {total} connected workspaces are failing: a cause they share"
    return (503 if everyone_failing else 200), body_out


def _listed(workspaces: list[str]) -> dict[str, object]:
    return {"count": len(workspaces), "workspaces": sorted(workspaces)[:LISTED_AT_MOST]}


def unknown_workspace(workspace: str) -> tuple[int, dict[str, object]]:
    """/healthz?workspace=X for an id that is malformed (400) or not installed here (404)."""
    if not WORKSPACE_ID.match(workspace):
        return 400, {"status": "unknown", "problem": "a workspace id is a Slack team or org id (T..., E...)"}
    return 404, {"status": "unknown", "workspace": workspace, "problem": "no such workspace is installed"}


def unconnected_workspace(workspace: str) -> tuple[int, dict[str, object]]:
    """/healthz?workspace=X for a workspace installed but not connected to AutoEntry: nothing to fail yet."""
    return 200, {"status": "not_connected", "workspace": workspace, "problem": "not connected to AutoEntry yet"}


# What one workspace's /healthz shows with many workspaces, from its full body (bot/health.py `health`). That
# URL is as public as /slack/events and team ids are not secret, so it carries states, times and counts only:
# no feed address, no error text (a feed's error can name its host), no channel ids. The full story is in the
# logs and, by workspace, in /metrics (docs/operations.md).
PUBLIC_FIELDS = (
    "status",
    "polling",
    "last_poll_at",
    "last_good_poll_at",
    "failing_polls",
    "skipped_records",
    "poll_running_since",
)
PUBLIC_DELIVERY_FIELDS = ("status", "undelivered", "oldest_undelivered_at", "last_successful_post_at", "consecutive_failures")


def public_workspace_health(workspace: str, body: dict[str, object]) -> dict[str, object]:
    """`body` (bot/health.py `health`) cut to PUBLIC_FIELDS, for `GET /healthz?workspace=...`; the same
    HTTP status goes with it."""
    delivery = body.get("delivery")
    shown: dict[str, object] = {"workspace": workspace, **{key: body.get(key) for key in PUBLIC_FIELDS}}
    if isinstance(delivery, dict):
        shown["delivery"] = {key: delivery.get(key) for key in PUBLIC_DELIVERY_FIELDS}
    broken = body.get("broken_channels")
    shown["broken_channels"] = len(broken) if isinstance(broken, (dict, list)) else 0  # how many, not which
    return shown
