"""Buttons: open a company's card from a pick list."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncRespond

from bot.answers.render import Message, notice
from bot.home.view import card_modal
from bot.presses import press_key
from bot.slack.actions import OPEN_CARD_ACTION
from bot.slack.errors import slack_error
from bot.slack.users import EMAIL_CACHE_AGE, slack_viewer
from handlers import ack_now

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

COMPANY_ID_LIMIT = 100  # characters; the feed's own limit for a company id (bot/models.py)


def register(app: AsyncApp, services: "Services") -> None:
    async def open_status_card(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        user_id = body["user"]["id"]
        in_a_view = not body.get("response_url") or (body.get("container") or {}).get("type") == "view"
        company_id = action.get("value")
        now = services.clock()
        # The same card from the same message or view, by the same person: once (double clicks, Slack's retries).
        where = str((body.get("view") or {}).get("id") or (body.get("container") or {}).get("message_ts") or "")
        press = press_key(OPEN_CARD_ACTION, f"{where}:{company_id}", user_id, now)
        if services.store.claim_press(press.key, user_id, now, press.until) is None:
            return
        if not in_a_view:
            message = await card_for(user_id, company_id)
            try:
                await respond(replace_original=True, response_type="ephemeral", **message.as_kwargs())
            except Exception as exc:  # the response_url has expired or Slack said no: nowhere else to show it
                log.warning("Could not answer %s with a card: %s", user_id, slack_error(exc))
            return
        # A Home tab (or modal) button has no response_url: the card goes in a modal. Its trigger lasts 3 s,
        # so when the asker's email is not known yet (a users.info call away), a modal opens first and the
        # card follows into it.
        known, _ = services.store.slack_user_email(user_id, services.clock(), EMAIL_CACHE_AGE)
        trigger = str(body.get("trigger_id") or "")
        try:
            if known:
                await services.client.views_open(trigger_id=trigger, view=card_modal(await card_for(user_id, company_id)))
                return
            opened = await services.client.views_open(trigger_id=trigger, view=card_modal(notice("Looking it up…")))
            message = await card_for(user_id, company_id)
            await services.client.views_update(view_id=opened["view"]["id"], view=card_modal(message))
        except Exception as exc:  # an expired trigger or Slack saying no: there is nothing to show it in
            log.warning("Could not open the card for %s: %s", user_id, slack_error(exc))

    app.action(re.compile(rf"^{OPEN_CARD_ACTION}:[0-9]{{1,6}}$"))(ack=ack_now, lazy=[open_status_card])

    async def card_for(user_id: str, company_id: object) -> Message:
        viewer = await slack_viewer(services.client, services.store, user_id, services.clock())
        if not isinstance(company_id, str) or not company_id or len(company_id) > COMPANY_ID_LIMIT:
            return notice("I could not read that button. Nothing changed.")
        return services.status.card(company_id, viewer) or notice("That company is no longer in the practice.")
