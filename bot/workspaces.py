"""Which workspace a request belongs to: pure functions of what Slack sends (docs/workspaces.md)."""

from __future__ import annotations


def workspace_of(team_id: str | None, enterprise_id: str | None, is_enterprise_install: bool | None) -> str | None:
    """The workspace id a request is answered from: the Enterprise Grid org id (`E...`) for an org-wide install
    (one installation serves every workspace of the org), else the team id (`T...`); None when the request
    names neither. Slack sends both in every request (https://api.slack.com/enterprise/apps)."""
    if is_enterprise_install and enterprise_id:
        return enterprise_id
    return team_id or None
