"""The reminder buttons: "Remind account holder to grant permission" and the holder's "I've granted it"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond

from bot.slack.actions import GRANTED_ACTION, REMIND_ACTION
from handlers import ack_now, tell_not_connected

if TYPE_CHECKING:
    from bot.practices import Practices


def register(app: AsyncApp, practices: "Practices") -> None:
    async def remind_account_holder(
        body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        if services := practices.route(context):
            await services.reminders.press_remind(body, action, respond)
        else:
            await tell_not_connected(practices, body, respond, context)

    async def reminder_granted(
        body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        if services := practices.route(context):
            await services.reminders.press_granted(body, action, respond)
        else:
            await tell_not_connected(practices, body, respond, context)

    app.action(REMIND_ACTION)(ack=ack_now, lazy=[remind_account_holder])
    app.action(GRANTED_ACTION)(ack=ack_now, lazy=[reminder_granted])
