"""What went wrong talking to Slack, as one short name, and what may be retried."""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.error_names import OUTAGE_ERRORS, TOKEN_ERRORS

# `ok: false` answers that a later try can mend; every other one is final for that call.
# A revoked or replaced token fails every call until someone fixes it: keep the alerts until then.
RETRYABLE_ERRORS = frozenset({"ratelimited"}) | OUTAGE_ERRORS | TOKEN_ERRORS


def slack_error(exc: BaseException) -> str:
    """A short, storable name for what went wrong talking to Slack."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        if status == 429:
            return "ratelimited"
        return str(data.get("error") or f"http_{status}")[:100]
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError, SlackClientError)):
        return "network_error"
    return f"unexpected_{type(exc).__name__}"


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, SlackApiError):
        return exc.response.status_code >= 500 or slack_error(exc) in RETRYABLE_ERRORS
    return slack_error(exc) == "network_error"


def is_user_id(conversation: str) -> bool:
    """A user id (U…, or W… in Enterprise Grid) rather than a channel: posting to it is a direct message."""
    return conversation[:1] in ("U", "W")
