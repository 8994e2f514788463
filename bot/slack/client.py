"""The Web API clients: retries that are safe, none that could post a message twice; every call counted."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.metrics import Metrics
from bot.settings import Settings


class _NoBlindRepost:
    """A new message that met a 5xx or a dropped connection may have been posted all the same. Retrying it
    blindly could post it twice, so these are left to the alert outbox, which looks first (bot/alerting/delivery.py)."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if request.url.endswith("/chat.postMessage"):
            return False
        return await super()._can_retry_async(  # type: ignore[misc]
            state=state, request=request, response=response, error=error
        )


class ConnectionErrorRetryHandler(_NoBlindRepost, AsyncConnectionErrorRetryHandler):
    pass


class ServerErrorRetryHandler(_NoBlindRepost, AsyncServerErrorRetryHandler):
    pass


class CountingRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Counts every 429 seen (the handler is asked about every answer) and retries one after Retry-After
    (Slack did nothing, so it is always safe) only when that wait is at most `max_retry_after` seconds: a
    person is waiting for the answer, and a long Retry-After is better answered at once (the call fails and
    says so) than after minutes of silence. `max_retry_count=0`: count, never retry (the outbox's client)."""

    def __init__(self, metrics: Metrics | None, max_retry_count: int = 3, max_retry_after: int | None = None) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.metrics = metrics
        self.max_retry_after = max_retry_after

    async def can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if self.metrics is not None and response is not None and response.status_code == 429:
            self.metrics.slack_429(request.url.rsplit("/", 1)[-1])
        return await super().can_retry_async(state=state, request=request, response=response, error=error)

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if response is None or response.status_code != 429:
            return False
        if self.max_retry_after is None:
            return True
        retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        try:
            return int(retry_after[0] if isinstance(retry_after, list) else retry_after) <= self.max_retry_after
        except (TypeError, ValueError, IndexError):
            return False


class InFlight:
    """How many Web API calls wait for an answer, shared by a client and the copies Bolt makes of it."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def __deepcopy__(self, memo: dict[int, object]) -> "InFlight":
        return self

    def started(self) -> None:
        self.count += 1
        self.idle.clear()

    def ended(self) -> None:
        self.count -= 1
        if self.count == 0:
            self.idle.set()


class MeteredWebClient(AsyncWebClient):
    """AsyncWebClient that counts each call by method and outcome and knows how many are in flight, so
    that a stopping bot can let them finish (`wait_idle`). Bolt deep-copies the client for each request:
    the copies share the counters."""

    def __init__(self, *args: Any, metrics: Metrics | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics
        self.calls_in_flight = InFlight()

    @property
    def in_flight(self) -> int:
        return self.calls_in_flight.count

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        self.calls_in_flight.started()
        if self.metrics is not None:
            self.metrics.slack_in_flight.inc()
        outcome = "network_error"
        try:
            response = await super().api_call(api_method, **kwargs)
            outcome = "ok"
            return response
        except SlackApiError as exc:
            outcome = "ratelimited" if exc.response.status_code == 429 else "error"
            raise
        finally:
            self.calls_in_flight.ended()
            if self.metrics is not None:
                self.metrics.slack_in_flight.dec()
                self.metrics.slack_call(api_method, outcome)

    async def wait_idle(self, timeout: float) -> bool:
        """Wait at most `timeout` seconds for the calls in flight to be answered; True if none is left."""
        if self.calls_in_flight.count == 0:
            return True
        try:
            await asyncio.wait_for(self.calls_in_flight.idle.wait(), max(0.001, timeout))
        except TimeoutError:
            return False
        return True


INTERACTIVE_RETRY_AFTER_SECONDS = 3


def slack_client(settings: Settings, metrics: Metrics | None = None, *, outbox: bool = False) -> MeteredWebClient:
    """A Web API client, every call counted. For people's requests (outbox=False): a connection error, a
    5xx and a 429 asking for at most INTERACTIVE_RETRY_AFTER_SECONDS are retried inside the call. For the
    alert outbox (outbox=True): only a connection error on a call that cannot post; the outbox retries
    everything else itself, per channel (bot/alerting/delivery.py), so that one channel's Retry-After never
    holds a call, or any other channel, for its duration."""
    if outbox:
        handlers: list[Any] = [
            CountingRateLimitRetryHandler(metrics, max_retry_count=0),
            ConnectionErrorRetryHandler(max_retry_count=1),
        ]
    else:
        handlers = [
            # First: it sees every answer, to count the 429s.
            CountingRateLimitRetryHandler(metrics, max_retry_count=3, max_retry_after=INTERACTIVE_RETRY_AFTER_SECONDS),
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ]
    return MeteredWebClient(
        token=settings.bot_token, base_url=settings.api_base_url, timeout=10, metrics=metrics, retry_handlers=handlers
    )
