"""Bolt middleware that runs before any listener, for every request, HTTP or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.guard import shape_problem

log = logging.getLogger(__name__)

# The context key of when the request reached Bolt (the event loop's clock, seconds): a listener that must
# answer within Slack's 3 s measures from it (bot/connecting.py).
ARRIVED = "arrived"


class RejectMalformed(AsyncMiddleware):
    """Bolt global middleware, first to run: 400 for a payload whose shape listeners cannot trust
    (bot/slack/guard.py). A class, not a function: Bolt builds a function middleware's arguments from the
    body, which itself fails on such payloads."""

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        req.context[ARRIVED] = asyncio.get_running_loop().time()
        problem = shape_problem(req.body)
        if problem:
            log.warning("Rejected a malformed Slack payload: %s", problem)
            return BoltResponse(status=400, body={"error": f"malformed payload: {problem}"})
        return await next()
