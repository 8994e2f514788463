"""Events: the bot being invited to a channel (the App Home tab's are in handlers/home.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from handlers import ack_now, home

if TYPE_CHECKING:
    from bot.practices import Practices


def register(app: AsyncApp, practices: "Practices") -> None:
    async def member_joined_channel(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if services := practices.route(context):
            services.deliverer.channel_joined(event.get("channel"), event.get("user"), context.bot_user_id)

    app.event("member_joined_channel")(ack=ack_now, lazy=[member_joined_channel])
    home.register(app, practices)
