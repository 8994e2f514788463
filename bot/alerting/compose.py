"""From stored alerts to Slack messages, built from the current stored state at the moment each is sent."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Protocol

from bot.alerting.conditions import SPECS
from bot.alerting.digest_messages import digest_list_reply, digest_message
from bot.alerting.group_messages import (
    GroupMember,
    device_message,
    device_news_reply,
    group_list_reply,
    group_message,
    group_progress_reply,
)
from bot.alerting.messages import (
    COMPANIES_PER_REPLY,
    AlertFacts,
    acknowledged_reply,
    alert_message,
    back_again_reply,
    changed_reply,
    channel_broken_notice,
    feed_outage_notice,
    feed_recovered_notice,
    problem_phrases,
    resolved_reply,
    returned_reply,
    snoozed_reply,
)
from bot.alerting.transitions import (
    observe,
)
from bot.helpcentre.matching import ArticleMatch, HelpCentre
from bot.slack.blockkit import Message
from storage.ports import CompanyRecords, IncidentRecords, SubscriptionRecords
from storage.records import Incident
from storage.timefmt import from_iso

log = logging.getLogger(__name__)


class RendererStore(CompanyRecords, IncidentRecords, SubscriptionRecords, Protocol):
    """What rendering an outbox row reads: its company, incidents, alert messages and snoozes."""


class AlertRenderer:
    """Builds each queued message from the current stored state, at the moment it is sent."""

    def __init__(self, store: RendererStore, help_centre: HelpCentre, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.help_centre = help_centre
        self.clock = clock

    def facts(self, incident: Incident, channel: str | None = None) -> AlertFacts:
        company = self.store.company(incident.company_id)
        still_wrong: tuple[str, ...] = ()
        if company is None:  # gone from the feed: its name is still known
            company = self.store.company(incident.company_id, include_removed=True)
        elif incident.resolved_at is not None:
            still_wrong = problem_phrases({c: d for c, d in observe(company.status).items() if c is not incident.condition})
        message = self.store.alert_message(channel, incident.id) if channel else None
        snoozed_until = None
        if channel:
            snoozed_until = self.store.active_snoozes(self.clock()).get((channel, incident.company_id))
        return AlertFacts(
            incident_id=incident.id,
            company_id=incident.company_id,
            company=company.name if company else incident.company_id,
            software=company.status.software if company else "",
            condition=incident.condition,
            detail=incident.detail,
            error_kind=incident.error_kind,
            since=incident.since,
            resolved_at=incident.resolved_at,
            article=article_for_incident(self.help_centre, incident),
            acked_by=message.acked_by if message else None,
            snoozed_until=snoozed_until,
            checked_at=message.checked_at if message else None,
            still_wrong=still_wrong,
            flaps=len(incident.flaps),
            flapping=incident.flapping,
            back_at=max(incident.flaps) if incident.reopens and incident.flaps else None,
        )

    def incident_message(self, channel: str, incident_id: int) -> Message | None:
        incident = self.store.incident(incident_id)
        return alert_message(self.facts(incident, channel)) if incident else None

    def incident_reply(self, incident_id: int, body: dict) -> Message | None:
        incident = self.store.incident(incident_id)
        if incident is None:
            return None
        event = body.get("event")
        if event == "changed":
            return changed_reply(self.facts(incident), body.get("previous", ""), body.get("now", incident.detail))
        if event == "resolved":
            return resolved_reply(self.facts(incident), removed=body.get("why") == "removed")
        if event == "back_in_feed":
            return returned_reply(self.facts(incident))
        if event == "back":
            return back_again_reply(self.facts(incident), from_iso(body.get("cleared_at")))
        return self.people_reply(body)

    @staticmethod
    def people_reply(body: dict) -> Message | None:
        """What someone did to an alert (or a storm's message), for its thread."""
        if body.get("event") == "acknowledged":
            return acknowledged_reply(body["user"])
        if body.get("event") == "snoozed":
            return snoozed_reply(body["user"], from_iso(body["until"]), body.get("companies", 1))
        return None

    def members(self, group_id: int) -> list[GroupMember]:
        incidents = self.store.incidents(self.store.group_incident_ids(group_id))
        return [GroupMember(self.facts(incidents[i])) for i in sorted(incidents)]

    def group_message(self, group_id: int) -> Message | None:
        group = self.store.group(group_id)
        if group is None:
            return None
        if group.location:
            return device_message(group_id, group.location, self.members(group_id), acked_by=group.acked_by)
        return group_message(group_id, self.members(group_id), acked_by=group.acked_by)

    def group_list(self, group_id: int, part: int, parts: int, per: int = COMPANIES_PER_REPLY) -> Message:
        """Part `part` of `parts` of a storm's full list, `per` companies a part (as they were queued)."""
        # Only this part's incidents: building all the group's members for each part costs parts x the work.
        ids = self.store.group_incident_ids(group_id)[(part - 1) * per : part * per]
        incidents = self.store.incidents(ids)
        chunk = [GroupMember(self.facts(incidents[i])) for i in ids if i in incidents]
        return group_list_reply(chunk, part, parts)

    def group_reply(self, group_id: int, body: dict) -> Message | None:
        if body.get("event") in ("acknowledged", "snoozed"):
            return self.people_reply(body)
        if body.get("event") in ("joined", "returned", "back"):
            return self.device_reply(group_id, body)
        incidents = self.store.incidents([*body.get("resolved", []), *body.get("changed", []), *body.get("back", [])])
        names = {i: self.facts(incident).company for i, incident in incidents.items()}
        remaining = sum(1 for m in self.members(group_id) if m.facts.resolved_at is None)
        return group_progress_reply(
            [names[i] for i in body.get("resolved", []) if i in names],
            [(names[i], incidents[i].detail) for i in body.get("changed", []) if i in incidents],
            remaining,
            back=[names[i] for i in body.get("back", []) if i in names],
        )

    def device_reply(self, group_id: int, body: dict) -> Message | None:
        """A poll's news in a device alert's thread: companies that joined, returned (can sync again) or are
        back again, each named."""
        group = self.store.group(group_id)
        incidents = self.store.incidents(int(i) for i in body.get("incidents", []) if isinstance(i, int))
        if group is None or not incidents:
            return None
        told = sorted((self.facts(incident) for incident in incidents.values()), key=lambda facts: facts.company.casefold())
        location = group.location or ""
        members = self.members(group_id)
        offline = sum(1 for m in members if m.facts.resolved_at is None)
        if len(members) == 1:  # a computer with one company reads as that company's own alert
            return resolved_reply(told[0]) if body["event"] == "returned" else back_again_reply(told[0], None)
        return device_news_reply(body["event"], told, location, offline)

    def digest(self, body: dict) -> Message:
        return digest_message(body)

    def digest_list(self, body: dict) -> Message:
        return digest_list_reply(body)

    def notice(self, body: dict) -> Message:
        if body.get("event") == "channel_broken":
            return channel_broken_notice(str(body.get("channel")), str(body.get("error")))
        if body.get("event") == "feed_down":
            return feed_outage_notice(from_iso(body.get("since")), body.get("problem", ""), body.get("polls", 0))
        return feed_recovered_notice(from_iso(body.get("since")))


def article_for_incident(help_centre: HelpCentre, incident: Incident) -> ArticleMatch:
    spec = SPECS[incident.condition]
    topic = spec.help_topic(incident.error_kind)
    # The detail is an exact message only where a new one is news (an error's message, not a location).
    return help_centre.match(incident.detail if spec.new_detail_is_news else None, topic)
