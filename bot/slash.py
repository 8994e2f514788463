"""What `/integration-status` answers: the request read by bot/answers/grammar.py, answered from storage.

One entry point, `answer`, called by the slash command's listener (handlers/command.py) inside Slack's
3-second acknowledgement.
"""

from __future__ import annotations

import logging
from datetime import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from bot.alerting.digest import DigestSchedule, next_send, zone
from bot.alerting.subscriptions import (
    current_problems,
    digest_off_answer,
    digest_set_answer,
    subscribed_answer,
    subscriptions_answer,
)
from bot.answers import notices
from bot.answers.grammar import Request, Verb
from bot.answers.overview import article_results, overview_line
from bot.answers.pages import read_page_value
from bot.answers.render import not_found, pick_list, usage
from bot.practice.lookup import Outcome
from bot.slack.blockkit import Message
from bot.slack.errors import slack_error
from bot.slack.users import slack_viewer, time_zone_of

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


async def answer(services: "Services", request: Request, body: dict[str, Any]) -> Message:
    status = services.status
    if request.verb is Verb.HELP:
        return usage()
    if request.verb is Verb.INVALID:
        return usage(request.problem)
    if request.verb is Verb.ARTICLE:
        return article_results(request.argument, services.help_centre.search(request.argument))
    if request.verb in (Verb.CONNECT, Verb.DISCONNECT):
        return notices.single_workspace_feed()
    if request.verb is Verb.DIGEST:
        return await digest_answer(services, request, body)
    if request.verb in (Verb.SUBSCRIBE, Verb.UNSUBSCRIBE, Verb.SUBSCRIPTIONS):
        return await subscription_answer(services, request, body)
    if not status.has_companies():
        return notices.no_statuses_yet()

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


async def subscription_answer(services: "Services", request: Request, body: dict[str, Any]) -> Message:
    store = services.store
    channel = str(body.get("channel_id") or "")
    if request.verb is Verb.SUBSCRIPTIONS:
        digest = next(iter(store.digests(channel)), None)
        return subscriptions_answer(
            channel,
            store.channel_subscriptions(channel),
            {company_id: company.name for company_id, company in store.companies().items()},
            store.active_snoozes(services.clock()),
            everything_channel=services.settings.alert_channel,
            broken_error=store.broken_channels().get(channel),
            digest=digest,
            digest_next=next_send(digest, services.clock()) if digest else None,
        )
    if not channel or channel.startswith("D"):
        return notices.alerts_go_to_channels()

    company_id: str | None = None
    company_name = "every company"
    if not request.everything:
        found = services.status.find(request.argument)
        if found.outcome is not Outcome.FOUND or found.company_id is None:
            names = [hit.name for hit in found.hits]
            if found.outcome is Outcome.CHOOSE:
                return notices.several_match(request.argument, names)
            return notices.no_such_company(request.argument, names)
        company_id = found.company_id
        company = store.company(company_id)
        company_name = company.name if company else request.argument

    viewer = await slack_viewer(services.client, store, str(body.get("user_id")), services.clock())
    companies = store.companies()
    in_scope = [companies[company_id]] if company_id in companies else list(companies.values()) if not company_id else []
    refused = [company.name for company in in_scope if not viewer.has_company_settings(company.id)]

    if request.verb is Verb.UNSUBSCRIBE:
        existing = [s for s in store.channel_subscriptions(channel) if s.company_id == company_id]
        if not existing:
            return notices.was_not_subscribed(company_name)
        # Silencing a channel loses alerts: it takes the same permission as subscribing, or being the subscriber.
        if refused and existing[0].created_by != viewer.slack_user_id:
            return notices.unsubscribe_refused(existing[0].created_by, company_name)
        store.unsubscribe(channel, company_id)
        return notices.unsubscribed(company_name)

    if refused:
        return notices.subscribe_refused(company_name if company_id else None, len(refused), len(in_scope))
    created = store.subscribe(channel, company_id, viewer.slack_user_id or "", services.clock())
    problems = current_problems([overview_line(company, details=True) for company in in_scope])
    return subscribed_answer(company_name, created, problems)


async def digest_answer(services: "Services", request: Request, body: dict[str, Any]) -> Message:
    store = services.store
    channel = str(body.get("channel_id") or "")
    if not channel or channel.startswith("D"):
        return notices.digest_goes_to_a_channel()
    user_id = str(body.get("user_id") or "")
    # The digest's silence says the bot is down, so changing it takes what silencing the channel takes: an
    # AutoEntry user of the practice may set one; another's digest is changed or stopped only by the person
    # who set it or someone with the Company settings permission on every company.
    viewer = await slack_viewer(services.client, store, user_id, services.clock())
    if not viewer.is_account_user:
        return notices.digest_needs_account_user()
    existing = next(iter(store.digests(channel)), None)
    if existing is not None and existing.created_by != user_id:
        if not all(viewer.has_company_settings(company_id) for company_id in store.companies()):
            return notices.digest_belongs_to(existing.created_by)
    if request.argument == "off":
        return digest_off_answer(store.remove_digest(channel))
    tz = await time_zone_of(services.client, user_id)
    zone_known = zone(tz) is not None
    now = services.clock()
    schedule = DigestSchedule(
        channel=channel,
        at=time.fromisoformat(request.argument),
        tz=tz if zone_known and tz else "UTC",
        every_day=request.every_day,
        created_by=user_id,
        created_at=now,
    )
    store.set_digest(schedule)
    companies = sum(1 for _ in services.digests.companies_for(channel))
    return digest_set_answer(schedule, next_send(schedule, now), zone_known=zone_known, companies=companies)


async def overview_page(
    services: "Services", body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Awaitable[Any]]
) -> None:
    """`list`'s Previous / Next button: that page in place of the one pressed, for the presser as they may
    see it now (their permissions are read again)."""
    page = read_page_value(action.get("value"))
    if page is None:
        message = notices.unreadable_button()
    elif not services.status.has_companies():
        message = notices.no_statuses_yet()
    else:
        viewer = await slack_viewer(services.client, services.store, body["user"]["id"], services.clock())
        message = services.status.overview(viewer, errors_only=page.errors_only, at=page)
    try:
        await respond(replace_original=True, response_type="ephemeral", **message.as_kwargs())
    except Exception as exc:  # the response_url has expired or Slack said no: nowhere else to show it
        log.warning("Could not show a page of the list: %s", slack_error(exc))
