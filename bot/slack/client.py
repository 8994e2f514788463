"""The Web API clients: retries that are safe, none that could post a message twice."""

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


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 only when Slack asks for a short wait: a person is waiting for the answer, and a long
    Retry-After is better answered at once (the call fails and says so) than after minutes of silence."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[no-untyped-def]
        if response is None or response.status_code != 429:
            return False
        retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        try:
            return int(retry_after[0] if isinstance(retry_after, list) else retry_after) <= INTERACTIVE_RETRY_AFTER_SECONDS
        except (TypeError, ValueError, IndexError):
            return False


INTERACTIVE_RETRY_AFTER_SECONDS = 3


def slack_client(settings: Settings, *, outbox: bool = False) -> AsyncWebClient:
    """A Web API client. For people's requests (outbox=False): a connection error, a 5xx and a short 429 are
    retried inside the call. For the alert outbox (outbox=True): only a connection error on a call that
    cannot post; the outbox retries everything else itself, per channel (bot/delivery.py), so that one
    channel's Retry-After never holds a call, or any other channel, for its duration."""
    if outbox:
        handlers = [ConnectionErrorRetryHandler(max_retry_count=1)]
    else:
        handlers = [
            ConnectionErrorRetryHandler(max_retry_count=2),
            # A 429 means Slack did nothing: retrying after a short Retry-After is safe.
            ShortRateLimitRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ]
    return AsyncWebClient(token=settings.bot_token, base_url=settings.api_base_url, timeout=10, retry_handlers=handlers)
