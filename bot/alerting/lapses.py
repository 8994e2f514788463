"""Subscriptions whose subscriber lost the Company settings permission lapse, and their channel is told once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.alerting.subscriptions import lapsed_notice, lapsing
from bot.practice.permissions import Viewer, viewer_for
from bot.practice.poller import PollOutcome
from bot.slack.errors import is_retryable, slack_error
from bot.slack.users import EMAIL_CACHE_AGE, email_of

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


class LapseWatch:
    """After each good poll: subscriptions whose subscriber lost the Company settings permission lapse (no more
    alerts), and their channel is told once. A subscriber whose email cannot be read just now is not judged."""

    def __init__(self, services: "Services") -> None:
        self.services = services

    async def __call__(self, outcome: PollOutcome) -> None:
        if not outcome.ok or (outcome.agenda is not None and not outcome.agenda.watched_subscriptions):
            return  # none active, none lapsed and untold, as the poll's transaction saw them
        services, store = self.services, self.services.store
        now = services.clock()
        # Active subscriptions and lapsed ones not told yet, in one read.
        watched = store.watched_subscriptions()
        active = [s for s in watched if s.lapsed_at is None]
        untold = len(active) < len(watched)
        account = store.account()
        viewers: dict[str, Viewer] = {}
        for user_id in {s.created_by for s in active if s.created_by}:
            email = await email_of(services.client, store, user_id, now)
            known, _ = store.slack_user_email(user_id, now, EMAIL_CACHE_AGE)
            if known:
                viewers[user_id] = viewer_for(account, user_id, email)
        # Every listed company is read only for an `all` subscription (the only one judged on all of them).
        listed = store.listed_company_ids() if any(s.company_id is None for s in active if s.created_by in viewers) else []
        for subscription in lapsing(active, viewers, listed):
            log.info("The subscription of %s to %s lapsed", subscription.channel, subscription.company_id or "all")
            store.lapse_subscription(subscription.channel, subscription.company_id, now)
            untold = True
        for subscription in store.lapsed_untold_subscriptions() if untold else ():
            company = store.company(subscription.company_id, include_removed=True) if subscription.company_id else None
            message = lapsed_notice(subscription, company.name if company else None)
            try:
                await services.client.chat_postMessage(channel=subscription.channel, **message.as_kwargs())
            except Exception as exc:
                log.warning("Could not tell %s its subscription lapsed: %s", subscription.channel, slack_error(exc))
                if is_retryable(exc):
                    continue  # the next poll tries again
            store.subscription_lapse_told(subscription.channel, subscription.company_id, now)
