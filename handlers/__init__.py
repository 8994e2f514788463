"""Slack listeners: thin shells that read storage, call pure functions, and answer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.answers import notices
from bot.slack.errors import slack_error

if TYPE_CHECKING:
    from bot.practices import Practices


async def ack_now(ack: AsyncAck) -> None:
    """The HTTP answer for a button or an event: at once. The work runs after it, as a lazy listener
    (the app processes each request before answering, so nothing slow may run before the ack)."""
    await ack()


log = logging.getLogger(__name__)


async def tell_not_connected(
    practices: "Practices", body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    """A button pressed in a workspace with no practice to answer it (installed, not connected, or
    disconnected since the message or tab was drawn): said to the presser as the slash command says it, or,
    pressed on a Home tab (no response_url), that tab shown as a workspace not connected shows it."""
    hosting = practices.hosting
    if hosting is None:
        return
    try:
        if body.get("response_url"):
            await respond(response_type="ephemeral", replace_original=False, **notices.not_connected().as_kwargs())
        elif (body.get("view") or {}).get("type") == "home":
            from handlers import connect  # it imports this module

            user = (body.get("user") or {}).get("id")
            await connect.show_unconnected_home(hosting, {"user": user, "tab": "home"}, context)
    except Exception as exc:  # an expired response_url, Slack saying no: nowhere else to say it
        log.warning("Could not tell a presser the workspace is not connected: %s", slack_error(exc))


def register(app: AsyncApp, practices: "Practices") -> None:
    from handlers import actions, alert_actions, command, connect, events, remind

    command.register(app, practices)
    actions.register(app, practices)
    alert_actions.register(app, practices)
    events.register(app, practices)
    remind.register(app, practices)
    connect.register(app, practices)
