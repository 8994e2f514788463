"""The "Open card" button: a company's card from a pick list (in place) or the Home tab (in a modal)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncRespond

from bot.answers import notices
from bot.home.view import card_modal
from bot.practice.models import MAX_ID_LENGTH
from bot.presses import press_key
from bot.slack.actions import OPEN_CARD_ACTION
from bot.slack.blockkit import Message
from bot.slack.errors import slack_error
from bot.slack.users import EMAIL_CACHE_AGE, slack_viewer

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


async def open_status_card(services: "Services", body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
    """ "Open card" on a pick list (answered in place) or a Home tab (a modal): once per press."""
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
        message = await card_for(services, user_id, company_id)
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
            await services.client.views_open(trigger_id=trigger, view=card_modal(await card_for(services, user_id, company_id)))
            return
        opened = await services.client.views_open(trigger_id=trigger, view=card_modal(notices.looking_it_up()))
        message = await card_for(services, user_id, company_id)
        await services.client.views_update(view_id=opened["view"]["id"], view=card_modal(message))
    except Exception as exc:  # an expired trigger or Slack saying no: there is nothing to show it in
        log.warning("Could not open the card for %s: %s", user_id, slack_error(exc))


async def card_for(services: "Services", user_id: str, company_id: object) -> Message:
    viewer = await slack_viewer(services.client, services.store, user_id, services.clock())
    if not isinstance(company_id, str) or not company_id or len(company_id) > MAX_ID_LENGTH:
        return notices.unreadable_button()
    return services.status.card(company_id, viewer) or notices.company_gone()
