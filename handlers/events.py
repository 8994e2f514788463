"""Events: the App Home tab."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp

from handlers import ack_now, home

if TYPE_CHECKING:
    from bot.services import Services


def register(app: AsyncApp, services: "Services") -> None:
    async def app_home_opened(event: dict[str, Any]) -> None:
        await home.home_opened(services, event)

    app.event("app_home_opened")(ack=ack_now, lazy=[app_home_opened])

    home.register(app, services)
    services.poller.after_poll.append(home.HomeRefresher(services))
