"""Buttons: open a company's card from a pick list or the Home tab (bot/home/card.py does the work)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond

from bot.home.card import open_status_card
from bot.slack.actions import OPEN_CARD_ACTION
from handlers import ack_now

if TYPE_CHECKING:
    from bot.practices import Practices


def register(app: AsyncApp, practices: "Practices") -> None:
    async def open_card(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        if services := practices.route(context):
            await open_status_card(services, body, action, respond)

    app.action(re.compile(rf"^{OPEN_CARD_ACTION}:[0-9]{{1,6}}$"))(ack=ack_now, lazy=[open_card])
