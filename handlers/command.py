"""`/integration-status`: parse, read, render, and answer in the acknowledgement itself (one round trip)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.answers.grammar import Request, Verb, parse
from bot.answers.render import (
    Message,
    article_results,
    not_found,
    notice,
    pick_list,
    usage,
)
from bot.practice.lookup import Outcome
from bot.slack.users import slack_viewer
from handlers.digest import digest_answer
from handlers.subscriptions import subscription_answer

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

COMMAND = "/integration-status"


async def answer(services: "Services", request: Request, body: dict[str, Any]) -> Message:
    status = services.status
    if request.verb is Verb.HELP:
        return usage()
    if request.verb is Verb.INVALID:
        return usage(request.problem)
    if request.verb is Verb.ARTICLE:
        return article_results(request.argument, services.help_centre.search(request.argument))
    if request.verb is Verb.DIGEST:
        return await digest_answer(services, request, body)
    if request.verb in (Verb.SUBSCRIBE, Verb.UNSUBSCRIBE, Verb.SUBSCRIPTIONS):
        return await subscription_answer(services, request, body)
    if not status.has_companies():
        return notice("No statuses yet: the first poll of the status feed has not finished. Try again in a minute.")

    viewer = await slack_viewer(services.client, services.store, body["user_id"], services.clock())
    if request.verb is Verb.LIST:
        return status.overview(viewer, errors_only=request.argument == "errors")

    result = status.find(request.argument)
    if result.outcome is Outcome.FOUND and result.company_id:
        card = status.card(result.company_id, viewer)
        if card is not None:
            return card
    if result.outcome is Outcome.CHOOSE:
        return pick_list(request.argument, result)
    return not_found(request.argument, result.hits)


def register(app: AsyncApp, services: "Services") -> None:
    @app.command(COMMAND)
    async def integration_status(ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            message = await answer(services, parse(body.get("text")), body)
        except Exception:
            log.exception("The slash command failed")
            message = notice("Something went wrong on our side; nothing was changed. Please try again.")
        await ack(response_type="ephemeral", **message.as_kwargs())
