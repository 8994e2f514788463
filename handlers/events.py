"""Events: the App Home tab, and the bot being invited to a channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from handlers import ack_now, home

if TYPE_CHECKING:
    from bot.services import Services


def register(app: AsyncApp, services: "Services") -> None:
    async def app_home_opened(event: dict[str, Any]) -> None:
        await home.home_opened(services, event)

    app.event("app_home_opened")(ack=ack_now, lazy=[app_home_opened])

    async def member_joined_channel(event: dict[str, Any], context: AsyncBoltContext) -> None:
        # Only the bot itself joining matters: a channel it could not post in may work now.
        channel = event.get("channel")
        if event.get("user") != context.bot_user_id or not isinstance(channel, str):
            return
        if services.store.mark_channel_working(channel):
            services.deliverer.wake()

    app.event("member_joined_channel")(ack=ack_now, lazy=[member_joined_channel])

    home.register(app, services)
    services.poller.after_poll.append(home.HomeRefresher(services))
