"""Slack listeners: thin shells that read storage, call pure functions, and answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncAck, AsyncApp

if TYPE_CHECKING:
    from bot.services import Services


async def ack_now(ack: AsyncAck) -> None:
    """The HTTP answer for a button or an event: at once. The work runs after it, as a lazy listener
    (the app processes each request before answering, so nothing slow may run before the ack)."""
    await ack()


def register(app: AsyncApp, services: "Services") -> None:
    from handlers import actions, alert_actions, command, events, remind

    command.register(app, services)
    actions.register(app, services)
    alert_actions.register(app, services)
    events.register(app, services)
    remind.register(app, services)
