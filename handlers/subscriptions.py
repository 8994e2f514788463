"""`subscribe`, `unsubscribe`, `subscriptions`: which channels get which companies' alerts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp

from bot.alerting.digest import next_send
from bot.alerting.subscriptions import (
    current_problems,
    lapsed_notice,
    lapsing,
    subscribed_answer,
    subscriptions_answer,
)
from bot.answers.grammar import Request, Verb
from bot.answers.render import Message, escape, notice, overview_line, section
from bot.practice.lookup import Outcome
from bot.practice.permissions import Viewer, viewer_for
from bot.practice.poller import PollOutcome
from bot.slack.errors import is_retryable, slack_error
from bot.slack.users import EMAIL_CACHE_AGE, email_of, slack_viewer

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


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
        return notice("Alerts go to channels: run this in the channel that should get them (and invite me there).")

    company_id: str | None = None
    company_name = "every company"
    if not request.everything:
        found = services.status.find(request.argument)
        if found.outcome is not Outcome.FOUND or found.company_id is None:
            names = ", ".join(f"“{hit.name}”" for hit in found.hits)
            if found.outcome is Outcome.CHOOSE:
                return notice(f"Several companies match “{request.argument}”: {names}. Give the full name, in quotes.")
            return notice(f"No company called “{request.argument}”." + (f" Did you mean {names}?" if names else ""))
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
            return notice(f"This channel was not subscribed to {company_name}; nothing changed.")
        # Silencing a channel loses alerts: it takes the same permission as subscribing, or being the subscriber.
        if refused and existing[0].created_by != viewer.slack_user_id:
            text = (
                f"Only <@{existing[0].created_by}> or someone with the Company settings permission on "
                f"{escape(company_name)} can stop these alerts. Nothing changed."
            )
            return Message(text=text, blocks=[section(text)])
        store.unsubscribe(channel, company_id)
        return notice(f"This channel no longer gets alerts for {company_name}.")

    if refused:
        scope = company_name if company_id else f"every company ({len(refused)} of {len(in_scope)} are not yours)"
        return notice(
            f"Subscribing a channel to {scope} needs the Company settings permission on "
            f"{'it' if company_id else 'each of them'}, and you don't have it. Nothing changed. "
            "Ask the account holder for the permission, or ask someone who has it to subscribe."
        )
    created = store.subscribe(channel, company_id, viewer.slack_user_id or "", services.clock())
    problems = current_problems([overview_line(company, details=True) for company in in_scope])
    return subscribed_answer(company_name, created, problems)


class LapseWatch:
    """After each good poll: subscriptions whose subscriber lost the Company settings permission lapse (no more
    alerts), and their channel is told once. A subscriber whose email cannot be read just now is not judged."""

    def __init__(self, services: "Services") -> None:
        self.services = services

    async def __call__(self, outcome: PollOutcome) -> None:
        if not outcome.ok:
            return
        services, store = self.services, self.services.store
        now = services.clock()
        active = store.active_subscriptions()
        account = store.account()
        viewers: dict[str, Viewer] = {}
        for user_id in {s.created_by for s in active if s.created_by}:
            email = await email_of(services.client, store, user_id, now)
            known, _ = store.slack_user_email(user_id, now, EMAIL_CACHE_AGE)
            if known:
                viewers[user_id] = viewer_for(account, user_id, email)
        for subscription in lapsing(active, viewers, store.listed_company_ids()):
            log.info("The subscription of %s to %s lapsed", subscription.channel, subscription.company_id or "all")
            store.lapse_subscription(subscription.channel, subscription.company_id, now)
        for subscription in store.lapsed_untold_subscriptions():
            company = store.company(subscription.company_id, include_removed=True) if subscription.company_id else None
            message = lapsed_notice(subscription, company.name if company else None)
            try:
                await services.client.chat_postMessage(channel=subscription.channel, **message.as_kwargs())
            except Exception as exc:
                log.warning("Could not tell %s its subscription lapsed: %s", subscription.channel, slack_error(exc))
                if is_retryable(exc):
                    continue  # the next poll tries again
            store.subscription_lapse_told(subscription.channel, subscription.company_id, now)


def register(app: AsyncApp, services: "Services") -> None:
    services.poller.after_poll.append(LapseWatch(services))
