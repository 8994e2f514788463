"""The buttons on alerts: Acknowledge, Snooze 1 hour / 1 day, Check again, and the Help Centre link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond

from bot.slack.actions import (
    ACK_ACTION,
    CHECK_ACTION,
    HELP_ACTION,
    SNOOZE_DAY_ACTION,
    SNOOZE_HOUR_ACTION,
)
from handlers import ack_now, tell_not_connected

if TYPE_CHECKING:
    from bot.practices import Practices


def register(app: AsyncApp, practices: "Practices") -> None:
    async def acknowledge(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        if services := practices.route(context):
            await services.alert_actions.acknowledge(body, action, respond)
        else:
            await tell_not_connected(practices, body, respond, context)

    async def snooze(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        if services := practices.route(context):
            await services.alert_actions.snooze(body, action, respond)
        else:
            await tell_not_connected(practices, body, respond, context)

    async def check_again(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        if services := practices.route(context):
            await services.alert_actions.check_again(body, action, respond)
        else:
            await tell_not_connected(practices, body, respond, context)

    app.action(ACK_ACTION)(ack=ack_now, lazy=[acknowledge])
    app.action(SNOOZE_HOUR_ACTION)(ack=ack_now, lazy=[snooze])
    app.action(SNOOZE_DAY_ACTION)(ack=ack_now, lazy=[snooze])
    app.action(CHECK_ACTION)(ack=ack_now, lazy=[check_again])
    # A link button still sends an action; Slack wants it acknowledged, and that is all.
    app.action(HELP_ACTION)(ack_now)
