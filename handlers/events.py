"""Events: the App Home tab."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp

from handlers import home

if TYPE_CHECKING:
    from bot.app import Services


def register(app: AsyncApp, services: "Services") -> None:
    @app.event("app_home_opened")
    async def app_home_opened(event: dict[str, Any]) -> None:
        await home.home_opened(services, event)

    home.register(app, services)
    services.poller.after_poll.append(home.HomeRefresher(services))
