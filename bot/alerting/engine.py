"""From a poll's changes to queued alerts, in the poll's own transaction; and from stored alerts to messages."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

from bot.alerting import outbox
from bot.alerting.flapping import FlapState, after_flap, mark_clears, reopens
from bot.alerting.group_messages import DEVICE_NAMES_SHOWN
from bot.alerting.messages import COMPANIES_PER_REPLY, STORM_THRESHOLD
from bot.alerting.routing import NewAlert, route
from bot.alerting.transitions import Condition, ConditionState, Phase, Transition, Verb, decide, observe
from bot.helpcentre.matching import HelpCentre
from bot.practice.poller import PollOutcome
from storage.ports import AlertRecords, CompanyRecords, PollRuns
from storage.records import AlertGroup, Incident
from storage.timefmt import iso

log = logging.getLogger(__name__)

FEED_OUTAGE_STATE = "feed_outage_since"
BASELINE_STATE = "alert_baseline_at"
FEED_FAILURES_BEFORE_NOTICE = 3  # "failing for more than three intervals"


class EngineStore(CompanyRecords, PollRuns, AlertRecords, Protocol):
    """What the alert engine reads and writes inside the poll's transaction."""


@dataclass
class PollNews:
    """What one poll changed in the incidents, for the channels to be told."""

    opened: list[int] = field(default_factory=list)
    updated: list[tuple[int, str]] = field(default_factory=list)  # (incident, its previous detail)
    back_in_feed: list[int] = field(default_factory=list)  # closed as removed, reopened: the company is back as it was
    resolved: list[tuple[int, str]] = field(default_factory=list)  # (incident, why: "cleared" or "removed")
    reopened: list[tuple[int, datetime]] = field(default_factory=list)  # (incident, when it had cleared)
    steadied: list[int] = field(default_factory=list)  # no longer flapping

    def __bool__(self) -> bool:
        return bool(self.opened or self.told_in_place)

    @property
    def told_in_place(self) -> bool:
        """News told where its incident was alerted already (message updates, thread replies)."""
        return bool(self.updated or self.resolved or self.back_in_feed or self.reopened or self.steadied)


class AlertEngine:
    """The poll's reactor: decides transitions, records incidents, and queues what each channel must be told."""

    def __init__(
        self,
        store: EngineStore,
        help_centre: HelpCentre,
        clock: Callable[[], datetime],
        *,
        alert_channel: str | None,
        offline_grace: timedelta,
        poll_interval: timedelta,
        flap_window: timedelta = timedelta(0),
    ) -> None:
        self.store = store
        self.help_centre = help_centre
        self.clock = clock
        self.alert_channel = alert_channel
        self.offline_grace = offline_grace
        self.poll_interval = poll_interval
        self.flap_window = flap_window
        self._tracked: list[tuple[str, ConditionState]] = []  # this poll's TRACK transitions, written as one batch

    def __call__(self, outcome: PollOutcome, now: datetime) -> None:
        if not outcome.ok:
            self._feed_failing(outcome, now)
            return
        store = self.store
        # What is due besides this poll's changes, in one read: most polls of most practices need nothing else.
        agenda = outcome.agenda = store.poll_agenda(now, FEED_OUTAGE_STATE, BASELINE_STATE)
        self._feed_recovered(now, agenda.states.get(FEED_OUTAGE_STATE))
        baseline = BASELINE_STATE not in agenda.states  # the first good poll: what is, is not news
        changed = {change.after.id: change for change in outcome.changes}
        # Companies that changed, and those whose Sync App grace period may run out with no change at all.
        candidates = set(changed) | agenda.pending
        known = store.conditions_of(candidates | set(outcome.removed_ids))
        news = PollNews()
        self._tracked = []
        # A bad record this time, or none (left out of this listing), says nothing about the company: its
        # grace period is not judged on it, and its open alerts stay open.
        for company_id in sorted(candidates - outcome.skipped_ids - outcome.missing_ids - set(outcome.removed_ids)):
            change = changed.get(company_id)
            company = change.after if change else store.company(company_id)
            if company is None:
                continue
            states = known.get(company_id, {})
            for transition in decide(
                observe(company.status),
                states,
                now,
                self.offline_grace,
                baseline=baseline,
                new_company=change is not None and change.before is None,
            ):
                if transition.verb is Verb.OPEN and company_id in outcome.returned:
                    # Back in the feed with the problem it had when it was closed as removed: the same incident.
                    closed = store.incident_closed_at(company_id, transition.condition, outcome.returned[company_id])
                    if closed is not None and closed.detail == transition.detail:
                        store.reopen_removed_incident(closed.id, now)
                        store.save_condition(
                            company_id, ConditionState(transition.condition, Phase.OPEN, closed.since, closed.detail, closed.id)
                        )
                        news.back_in_feed.append(closed.id)
                        continue
                self._apply(
                    company.id, company.status.error.kind.value if company.status.error else None, transition, states, now, news
                )
        store.save_conditions(self._tracked)
        self._forget_removed(outcome.removed_ids, known, now, news)
        for incident in store.flapping_incidents() if agenda.flapping else ():
            # A whole flap window with no change clears the mark (bot.alerting.flapping).
            if mark_clears(FlapState(incident.flaps, True), incident.resolved_at, now, self.flap_window):
                store.clear_flapping(incident.id)
                news.steadied.append(incident.id)
        if baseline:
            store.set_state(BASELINE_STATE, iso(now))
        if agenda.expired_snoozes:
            store.forget_expired_snoozes(now)
        self._queue(news, store.take_due_deferred_alerts(now) if agenda.due_deferred else [], now, agenda.active_subscriptions)

    def _forget_removed(
        self, removed: list[str], known: dict[str, dict[Condition, ConditionState]], now: datetime, news: PollNews
    ) -> None:
        """Companies gone from complete listings for a whole day: open alerts closed (saying why), the rest forgotten."""
        for company_id in removed:
            for condition, state in known.get(company_id, {}).items():
                if state.phase is Phase.OPEN and state.incident_id is not None:
                    self.store.resolve_incident(state.incident_id, now)
                    news.resolved.append((state.incident_id, "removed"))
                self.store.drop_condition(company_id, condition)

    def _apply(
        self,
        company_id: str,
        error_kind: str | None,
        transition: Transition,
        known: dict[Condition, ConditionState],
        now: datetime,
        news: PollNews,
    ) -> None:
        store = self.store
        condition = transition.condition
        since = transition.since or now
        if transition.verb is Verb.TRACK:
            # One transition per condition and company (bot.alerting.transitions.decide): batched safely.
            assert transition.phase is not None
            self._tracked.append(
                (company_id, ConditionState(condition, transition.phase, since, transition.detail, transition.incident_id))
            )
        elif transition.verb is Verb.DROP:
            store.drop_condition(company_id, condition)
        elif transition.verb is Verb.OPEN:
            latest = store.latest_incident(company_id, condition)
            if latest is not None and latest.resolved_at is not None and reopens(latest.resolved_at, now, self.flap_window):
                # Back within the flap window: its own alert reopens (updated in place), no new one.
                flap = after_flap(FlapState(latest.flaps, latest.flapping), now, self.flap_window)
                store.reopen_incident(latest.id, transition.detail, error_kind, flap.flaps, flap.flapping, now)
                store.save_condition(
                    company_id, ConditionState(condition, Phase.OPEN, latest.since, transition.detail, latest.id)
                )
                news.reopened.append((latest.id, latest.resolved_at))
                return
            incident_id = store.open_incident(company_id, condition, transition.detail, error_kind, since, now)
            store.save_condition(company_id, ConditionState(condition, Phase.OPEN, since, transition.detail, incident_id))
            news.opened.append(incident_id)
        elif transition.verb is Verb.CHANGE:
            assert transition.incident_id is not None
            store.change_incident(transition.incident_id, transition.detail, error_kind, now)
            store.save_condition(
                company_id, ConditionState(condition, Phase.OPEN, since, transition.detail, transition.incident_id)
            )
            news.updated.append((transition.incident_id, known[condition].detail))
        elif transition.verb is Verb.RESOLVE:
            assert transition.incident_id is not None
            store.resolve_incident(transition.incident_id, now)
            store.drop_condition(company_id, condition)
            news.resolved.append((transition.incident_id, "cleared"))

    def channels_for(self, company_id: str, everything: set[str], by_company: dict[str, set[str]]) -> set[str]:
        channels = everything | by_company.get(company_id, set())
        if self.alert_channel:
            channels.add(self.alert_channel)
        return channels

    def _queue(self, news: PollNews, deferred: list[tuple[str, int]], now: datetime, subscriptions: bool = True) -> None:
        if not (news or deferred):
            return
        store = self.store
        subscribed: tuple[set[str], dict[str, set[str]]] = store.subscription_map() if subscriptions else (set(), {})
        if not (subscribed[0] or subscribed[1] or self.alert_channel or deferred):
            # No channel to tell of new alerts: news is told only where its incident was alerted before.
            if not (news.told_in_place and store.any_alerted(_told_ids(news))):
                return
        snoozes = store.active_snoozes(now)
        incidents = store.incidents([*news.opened, *_told_ids(news), *(i for _, i in deferred)])
        new_by_channel, reopened_here = self._openings(news, deferred, incidents, snoozes, subscribed)
        for channel, incident_ids in new_by_channel.items():
            self._queue_new(channel, incident_ids, incidents, now)
        self._queue_news(_told(news, incidents), incidents, snoozes, reopened_here, now)

    def _openings(
        self,
        news: PollNews,
        deferred: list[tuple[str, int]],
        incidents: dict[int, Incident],
        snoozes: dict[tuple[str, str], datetime],
        subscribed: tuple[set[str], dict[str, set[str]]],
    ) -> tuple[dict[str, list[int]], set[tuple[str, int]]]:
        """The new alerts per channel (snoozed ones deferred instead), and the (channel, incident) pairs
        where a reopened incident is told anew."""
        store = self.store
        everything, by_company = subscribed

        def tell_new(channel: str, incident_id: int, company_id: str) -> None:
            until = snoozes.get((channel, company_id))
            if until is None:
                new_by_channel[channel].append(incident_id)
            else:
                # Snoozed: held back, and posted when the snooze ends if the problem is still there.
                store.defer_alert(channel, incident_id, until)

        new_by_channel: dict[str, list[int]] = defaultdict(list)
        for incident_id in news.opened:
            company_id = incidents[incident_id].company_id
            for channel in sorted(self.channels_for(company_id, everything, by_company)):
                tell_new(channel, incident_id, company_id)
        reopened_here: set[tuple[str, int]] = set()
        for incident_id, _ in news.reopened:
            # Back again: where it was alerted, its message reopens; a channel that never had it is told anew.
            company_id = incidents[incident_id].company_id
            alerted = {message.channel for message in store.alert_messages_for(incident_id)}
            for channel in sorted(self.channels_for(company_id, everything, by_company) - alerted):
                tell_new(channel, incident_id, company_id)
                reopened_here.add((channel, incident_id))
        for channel, incident_id in deferred:
            incident = incidents.get(incident_id)
            if incident is not None and incident.resolved_at is None and (channel, incident.company_id) not in snoozes:
                new_by_channel[channel].append(incident_id)
        return new_by_channel, reopened_here

    def _queue_news(
        self,
        told: list[tuple[int, str, str | None, dict]],
        incidents: dict[int, Incident],
        snoozes: dict[tuple[str, str], datetime],
        reopened_here: set[tuple[str, int]],
        now: datetime,
    ) -> None:
        # A change, a recovery or a return is told only where the incident was alerted: one message's update
        # and a reply in its thread; for a device alert, its update and one reply a poll naming each company;
        # for a storm's members, one line in the group's news for this poll. A flapping mark that clears is
        # an update alone.
        store = self.store
        group_news: dict[int, dict[str, list]] = defaultdict(lambda: {"resolved": [], "changed": [], "back": []})
        stamp = iso(now)
        groups: dict[int, AlertGroup | None] = {}
        device_news: dict[tuple[str, int, str], list[tuple[int, int]]] = defaultdict(list)
        for incident_id, event, reply_key, body in told:
            incident = incidents[incident_id]
            for message in store.alert_messages_for(incident_id):
                channel = message.channel
                if (channel, incident_id) in reopened_here:
                    continue
                # A snooze silences a changed message and a return; a recovery, and a company back in the
                # feed after it was closed as removed, are always told.
                quiet = event not in ("resolved", "back_in_feed") and (channel, incident.company_id) in snoozes
                if message.group_id is not None:
                    if message.group_id not in groups:
                        groups[message.group_id] = store.group(message.group_id)
                    group = groups[message.group_id]
                    if group is not None and group.location:  # a device alert
                        store.enqueue(outbox.group_update(channel, message.group_id, stamp), now)
                        device_event = {"resolved": "returned", "back": "back"}.get(event)
                        if device_event and not quiet:
                            device_news[(channel, message.group_id, device_event)].append((incident_id, incident.version))
                    elif event in group_news[message.group_id] and not quiet:
                        group_news[message.group_id][event].append(incident_id)
                    elif event == "steadied" or quiet:
                        store.enqueue(outbox.group_update(channel, message.group_id, stamp), now)
                    continue
                store.enqueue(outbox.update(channel, incident_id, f"v{incident.version}"), now)
                if reply_key is not None and not quiet:
                    store.enqueue(outbox.reply(channel, incident_id, reply_key, body), now)
        for (channel, group_id, device_event), pairs in device_news.items():
            # One reply per device alert and poll, naming each company that came back (or went again).
            store.enqueue(outbox.device_event(channel, group_id, device_event, pairs), now)
        for group_id, group_items in group_news.items():
            if not any(group_items.values()):
                continue
            group = store.group(group_id)
            if group is None:
                continue
            store.enqueue(outbox.group_update(group.channel, group_id, stamp), now)
            store.enqueue(outbox.group_reply(group.channel, group_id, stamp, dict(group_items)), now)

    def _queue_new(self, channel: str, incident_ids: list[int], incidents: dict[int, Incident], now: datetime) -> None:
        store = self.store
        alerts = [NewAlert(i, incidents[i].condition, incidents[i].detail) for i in incident_ids if i in incidents]
        has_computer = any(alert.computer is not None for alert in alerts)
        device_alerts = store.device_alerts(channel, now - self.flap_window) if has_computer else {}
        plan = route(alerts, device_alerts, STORM_THRESHOLD)
        stamp = iso(now)
        for group_id, joiners in plan.joins.items():
            # Another company on a computer that already has its alert: that message, updated.
            for incident_id in joiners:
                store.add_alert_message(channel, incident_id, group_id)
            pairs = [(incident_id, incidents[incident_id].version) for incident_id in joiners]
            store.enqueue(outbox.device_event(channel, group_id, "joined", pairs), now)
            store.enqueue(outbox.group_update(channel, group_id, stamp), now)
        for location, members in plan.devices:
            group_id = store.create_group(channel, now, location)
            for incident_id in members:
                store.add_alert_message(channel, incident_id, group_id)
            store.enqueue(outbox.group_post(channel, group_id), now)
            if len(members) > DEVICE_NAMES_SHOWN:
                self._queue_list(channel, group_id, len(members), now)
        for incident_id in plan.singles:
            store.add_alert_message(channel, incident_id)
            store.enqueue(outbox.post(channel, incident_id), now)
        if plan.storm:
            group_id = store.create_group(channel, now)
            for incident_id in plan.storm:
                store.add_alert_message(channel, incident_id, group_id)
            store.enqueue(outbox.group_post(channel, group_id), now)
            self._queue_list(channel, group_id, len(plan.storm), now)

    def _queue_list(self, channel: str, group_id: int, members: int, now: datetime) -> None:
        parts = math.ceil(members / COMPANIES_PER_REPLY)
        for part in range(1, parts + 1):
            self.store.enqueue(outbox.group_list(channel, group_id, part, parts, COMPANIES_PER_REPLY), now)

    # --- the feed's own health -------------------------------------------------------------

    def _feed_failing(self, outcome: PollOutcome, now: datetime) -> None:
        if not self.alert_channel or self.store.get_state(FEED_OUTAGE_STATE) is not None:
            return
        good = self.store.last_good_poll()
        # Counted in time, not in failed polls: "Check again" presses are polls too.
        since = good.finished_at if good else self.store.first_poll_at()
        if since is None or now - since <= FEED_FAILURES_BEFORE_NOTICE * self.poll_interval:
            return
        self.store.set_state(FEED_OUTAGE_STATE, iso(since))
        body = {
            "event": "feed_down",
            "since": iso(since),
            "problem": outcome.error or "",
            "polls": self.store.failing_polls_since_last_good(),
        }
        self.store.enqueue(outbox.feed_down(self.alert_channel, iso(now), body), now)

    def _feed_recovered(self, now: datetime, since: str | None) -> None:
        if since is None:
            return
        self.store.set_state(FEED_OUTAGE_STATE, None)
        if self.alert_channel:
            self.store.enqueue(outbox.feed_up(self.alert_channel, since), now)


def _told_ids(news: PollNews) -> list[int]:
    """The incidents whose news is told where they were alerted (`_told`)."""
    pairs: list[tuple[int, object]] = [*news.updated, *news.resolved, *news.reopened]
    return [incident_id for incident_id, _ in pairs] + news.back_in_feed + news.steadied


def _told(news: PollNews, incidents: dict[int, Incident]) -> list[tuple[int, str, str | None, dict]]:
    """(incident, event, reply dedup key or None for an update alone, reply body) per change of this poll."""
    told: list[tuple[int, str, str | None, dict]] = []
    for incident_id, previous in news.updated:
        body = {"event": "changed", "previous": previous, "now": incidents[incident_id].detail}
        told.append((incident_id, "changed", f"v{incidents[incident_id].version}", body))
    for incident_id, why in news.resolved:
        reopened = incidents[incident_id].reopens
        told.append(
            (incident_id, "resolved", f"resolved:{reopened}" if reopened else "resolved", {"event": "resolved", "why": why})
        )
    for incident_id in news.back_in_feed:
        body = {"event": "back_in_feed"}
        told.append((incident_id, "back_in_feed", f"back_in_feed:v{incidents[incident_id].version}", body))
    for incident_id, cleared_at in news.reopened:
        body = {"event": "back", "cleared_at": iso(cleared_at)}
        told.append((incident_id, "back", f"back:{incidents[incident_id].reopens}", body))
    told.extend((incident_id, "steadied", None, {}) for incident_id in news.steadied)
    return told
