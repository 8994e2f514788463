"""The App Home tab's listeners: opening it, and its filter and page buttons (bot/home/refresh.py does the work)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond

from bot.home import refresh
from bot.home.view import HOME_ACTION_PATTERN
from handlers import ack_now, connect, tell_not_connected

if TYPE_CHECKING:
    from bot.practices import Practices


def register(app: AsyncApp, practices: "Practices") -> None:
    async def app_home_opened(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if services := practices.route(context):
            await refresh.home_opened(services, event)
        elif practices.hosting is not None:
            await connect.show_unconnected_home(practices.hosting, event, context)

    async def home_navigate(
        body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        if services := practices.route(context):
            await refresh.navigate(services, body, action)
        else:
            await tell_not_connected(practices, body, respond, context)

    app.event("app_home_opened")(ack=ack_now, lazy=[app_home_opened])
    app.action(re.compile(HOME_ACTION_PATTERN))(ack=ack_now, lazy=[home_navigate])
