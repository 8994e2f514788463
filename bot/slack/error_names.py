"""Slack Web API error names the bot acts on, grouped by what they mean for it (pure data).

Names: docs.slack.dev/reference/methods/chat.postMessage, "Errors" (and the common errors of every method).
"""

from __future__ import annotations

# A revoked or replaced token fails every call until someone fixes it.
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "team_access_not_granted"}
)
# Slack (or the way to it) is down or slow for everyone; a later try can work.
OUTAGE_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
