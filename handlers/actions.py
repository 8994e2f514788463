"""Buttons: open a company's card from a pick list."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.home import card_modal
from bot.render import OPEN_CARD_ACTION, notice
from bot.slack_errors import slack_error
from bot.slack_users import slack_viewer

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: "Services") -> None:
    @app.action(re.compile(rf"^{OPEN_CARD_ACTION}:\d+$"))
    async def open_status_card(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        viewer = await slack_viewer(services.client, services.store, body["user"]["id"], services.clock())
        card = services.status.card(str(action.get("value", "")), viewer)
        message = card or notice("That company is no longer in the practice.")
        if not body.get("response_url") or (body.get("container") or {}).get("type") == "view":
            # A Home tab (or modal) button has no response_url: show the card in a modal instead.
            try:
                await services.client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=card_modal(message))
            except Exception as exc:  # an expired trigger (over 3 s) or Slack saying no: nothing to show it in
                log.warning("Could not open the card for %s: %s", body["user"]["id"], slack_error(exc))
            return
        await respond(replace_original=True, response_type="ephemeral", **message.as_kwargs())
