"""`subscribe`, `unsubscribe`, `subscriptions`: which channels get which companies' alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.commands import Request, Verb
from bot.lookup import Outcome
from bot.render import Message, escape, notice, overview_line, section
from bot.slack_users import slack_viewer
from bot.subscriptions import current_problems, subscribed_answer, subscriptions_answer

if TYPE_CHECKING:
    from bot.app import Services


async def subscription_answer(services: "Services", request: Request, body: dict[str, Any]) -> Message:
    store = services.store
    channel = str(body.get("channel_id") or "")
    if request.verb is Verb.SUBSCRIPTIONS:
        return subscriptions_answer(
            channel,
            store.channel_subscriptions(channel),
            {company_id: company.name for company_id, company in store.companies().items()},
            store.active_snoozes(services.clock()),
            everything_channel=services.settings.alert_channel,
            broken_error=store.broken_channels().get(channel),
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
