"""`/integration-status`: answered in the acknowledgement itself (one round trip); bot/slash.py answers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.answers import notices
from bot.answers.grammar import Verb, parse
from bot.slash import answer
from handlers import connect

if TYPE_CHECKING:
    from bot.practices import Practices

log = logging.getLogger(__name__)

COMMAND = "/integration-status"


def register(app: AsyncApp, practices: "Practices") -> None:
    @app.command(COMMAND)
    async def integration_status(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        try:
            request = parse(body.get("text"))
            services = practices.route(context)
            if practices.hosting is not None and request.verb in (Verb.CONNECT, Verb.DISCONNECT):
                message = await connect.connect_command(practices.hosting, request.verb, body, context)
            elif services is None:
                message = notices.not_connected()
            else:
                message = await answer(services, request, body)
        except Exception:
            log.exception("The slash command failed")
            message = notices.went_wrong()
        await ack(response_type="ephemeral", **message.as_kwargs())
