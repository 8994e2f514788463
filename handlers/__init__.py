"""Slack listeners: thin shells that read storage, call pure functions, and answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncAck, AsyncApp

if TYPE_CHECKING:
    from bot.practices import Practices


async def ack_now(ack: AsyncAck) -> None:
    """The HTTP answer for a button or an event: at once. The work runs after it, as a lazy listener
    (the app processes each request before answering, so nothing slow may run before the ack)."""
    await ack()


def register(app: AsyncApp, practices: "Practices") -> None:
    from handlers import actions, alert_actions, command, connect, events, remind

    command.register(app, practices)
    actions.register(app, practices)
    alert_actions.register(app, practices)
    events.register(app, practices)
    remind.register(app, practices)
    connect.register(app, practices)
