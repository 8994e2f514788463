"""Buttons: open a company's card from a pick list or the Home tab (bot/home/card.py does the work), and
page through `list` (bot/slash.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond

from bot.home.card import open_status_card
from bot.slack.actions import OPEN_CARD_ACTION, OVERVIEW_PAGE_ACTION
from bot.slash import overview_page
from handlers import ack_now, tell_not_connected

if TYPE_CHECKING:
    from bot.practices import Practices


def register(app: AsyncApp, practices: "Practices") -> None:
    async def open_card(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        if services := practices.route(context):
            await open_status_card(services, body, action, respond)
        else:
            await tell_not_connected(practices, body, respond, context)

    async def page(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        if services := practices.route(context):
            await overview_page(services, body, action, respond)
        else:
            await tell_not_connected(practices, body, respond, context)

    app.action(re.compile(rf"^{OPEN_CARD_ACTION}:[0-9]{{1,6}}$"))(ack=ack_now, lazy=[open_card])
    app.action(re.compile(rf"^{OVERVIEW_PAGE_ACTION}:(next|previous)$"))(ack=ack_now, lazy=[page])
