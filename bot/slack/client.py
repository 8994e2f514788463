"""The one Web API client: retries that are safe, none that could post a message twice."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings


class _NoBlindRepost:
    """A new message that met a 5xx or a dropped connection may have been posted all the same. Retrying it
    blindly could post it twice, so these are left to the alert outbox, which looks first (bot/delivery.py)."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[no-untyped-def]
        if request.url.endswith("/chat.postMessage"):
            return False
        return await super()._can_retry_async(  # type: ignore[misc]
            state=state, request=request, response=response, error=error
        )


class ConnectionErrorRetryHandler(_NoBlindRepost, AsyncConnectionErrorRetryHandler):
    pass


class ServerErrorRetryHandler(_NoBlindRepost, AsyncServerErrorRetryHandler):
    pass


def slack_client(settings: Settings) -> AsyncWebClient:
    """The one Web API client; slack_sdk retries only connection errors unless told otherwise."""
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_base_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            # A 429 means Slack did nothing: retrying after Retry-After is always safe.
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
