"""The buttons on alerts: Acknowledge, Snooze 1 hour / 1 day and Check again. The listeners are in handlers/alert_actions.py."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncRespond

from bot.alerting import action_messages as words
from bot.alerting import outbox
from bot.answers.overview import feed_not_answering
from bot.answers.render import notice
from bot.practice.permissions import may_not_silence
from bot.presses import press_key
from bot.slack.actions import (
    ACK_ACTION,
    CHECK_ACTION,
    SNOOZE_DAY_ACTION,
    SNOOZE_HOUR_ACTION,
    parse_target,
)
from bot.slack.blockkit import Message
from bot.slack.errors import slack_error
from bot.slack.users import slack_viewer
from storage.timefmt import iso

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

SNOOZES = {SNOOZE_HOUR_ACTION: timedelta(hours=1), SNOOZE_DAY_ACTION: timedelta(days=1)}
RECHECK_AFTER = timedelta(seconds=5)
# How long a Check again waits for the feed before saying it is not answering (the poll goes on).
CHECK_AGAIN_WAIT = timedelta(seconds=10)


class AlertActions:
    """What the buttons on an alert do: Acknowledge, Snooze 1 hour / 1 day, Check again (one company's
    alert, or a storm's or a computer's grouped one). Each press acts once (bot.presses)."""

    def __init__(self, services: "Services") -> None:
        self.services = services
        self.store = services.store

    def queue_update(self, kind: str, number: int, channel: str, event: dict[str, Any], claim: str) -> None:
        """The message is changed and the timeline told through the outbox, so a 429 loses neither. `claim`
        is the press's own token (storage/presses.py): a press queues its update and reply once."""
        now = self.services.clock()
        stamp = f"press{claim}"
        if kind == "i":
            self.store.enqueue(outbox.update(channel, number, stamp), now)
            self.store.enqueue(outbox.reply(channel, number, stamp, event), now)
        else:
            self.store.enqueue(outbox.group_update(channel, number, stamp), now)
            self.store.enqueue(outbox.group_reply(channel, number, stamp, event), now)
        self.services.deliverer.wake()

    def companies_of(self, kind: str, number: int) -> list[str]:
        ids = [number] if kind == "i" else self.store.group_incident_ids(number)
        return sorted({incident.company_id for incident in self.store.incidents(ids).values()})

    def known_target(self, kind: str, number: int, channel: str) -> bool:
        if kind == "i":
            return self.store.alert_message(channel, number) is not None
        group = self.store.group(number)
        return group is not None and group.channel == channel

    async def say(self, respond: AsyncRespond, text: str | Message) -> None:
        """Privately to the presser, under the alert; an expired response_url loses only this answer. Plain
        text is escaped; a Message is sent as it is."""
        message = notice(text) if isinstance(text, str) else text
        try:
            await respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())
        except Exception as exc:
            log.warning("Could not answer a press on an alert: %s", slack_error(exc))

    async def target_of(self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> tuple[str, int, str] | None:
        parsed = parse_target(action.get("value"))
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")
        if parsed is None:
            await self.say(respond, words.cannot_read())
            return None
        if not self.known_target(parsed[0], parsed[1], channel):
            await self.say(respond, words.unknown_alert())
            return None
        return parsed[0], parsed[1], channel

    def claim(self, action: str, target: str, user: str, until: datetime | None = None) -> str | None:
        now = self.services.clock()
        press = press_key(action, target, user, now)
        return self.store.claim_press(press.key, user, now, until or press.until)

    async def acknowledge(self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        target = await self.target_of(body, action, respond)
        if target is None:
            return
        kind, number, channel = target
        user = body["user"]["id"]
        viewer = await slack_viewer(self.services.client, self.store, user, self.services.clock())
        if not viewer.is_account_user:
            await self.say(respond, words.ack_needs_account_user())
            return
        with self.store.atomic():
            token = self.claim(ACK_ACTION, f"{channel}:{kind}{number}", user)
            if token is None:
                return  # acknowledged already (this press again, a retry, or someone else just now)
            if kind == "i":
                self.store.ack_alert(channel, number, user, self.services.clock())
            else:
                self.store.ack_group(number, user, self.services.clock())
            self.queue_update(kind, number, channel, {"event": "acknowledged", "user": user}, token)

    async def snooze(self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        target = await self.target_of(body, action, respond)
        if target is None:
            return
        kind, number, channel = target
        user = body["user"]["id"]
        now = self.services.clock()
        until = now + SNOOZES[action["action_id"]]
        companies = self.companies_of(kind, number)
        viewer = await slack_viewer(self.services.client, self.store, user, now)
        subscriptions = [s for s in self.store.channel_subscriptions(channel) if s.lapsed_at is None]
        refused = may_not_silence(viewer, companies, subscriptions)
        if refused:
            await self.say(respond, self.snooze_refused(refused, subscriptions))
            return
        with self.store.atomic():
            token = self.claim(action["action_id"], f"{channel}:{kind}{number}", user, until)
            if token is None:
                return  # snoozed already by this press, a retry of it, or someone else's at the same moment
            for company_id in companies:
                self.store.snooze(channel, company_id, until, user, now)
            self.queue_update(
                kind, number, channel, {"event": "snoozed", "user": user, "until": iso(until), "companies": len(companies)}, token
            )

    def snooze_refused(self, refused: list[str], subscriptions: list[Any]) -> Message:
        names = [company.name for company_id in refused[:3] if (company := self.store.company(company_id))]
        subscribers = sorted({s.created_by for s in subscriptions if s.created_by})
        return words.snooze_refused(names, len(refused), subscribers)

    async def check_again(self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        target = await self.target_of(body, action, respond)
        if target is None:
            return
        kind, number, channel = target
        # The feed has no per-company endpoint: checking again is a poll now (one at a time), unless one
        # has just finished, so that a row of eager presses is not a row of full feed fetches.
        user = body["user"]["id"]
        if self.claim(CHECK_ACTION, f"{channel}:{kind}{number}", user) is None:
            return  # this person pressed it moments ago (or Slack retried the press): one check, one answer
        last = self.store.last_poll()
        fresh = last is not None and last.ok and self.services.clock() - (last.finished_at or last.started_at) < RECHECK_AFTER
        if not fresh:
            await self.say(respond, words.checking())
            try:
                # Joins a poll already under way; the wait is bounded, the poll is not cut short.
                outcome = await asyncio.wait_for(self.services.poller.poll_once(), CHECK_AGAIN_WAIT.total_seconds())
                problem = None if outcome.ok else outcome.error
            except TimeoutError:
                problem = f"no answer within {CHECK_AGAIN_WAIT.total_seconds():g} s"
            if problem is not None:
                text = feed_not_answering(problem, self.services.status.feed_health().checked_at, self.services.clock())
                await self.say(respond, text)
                return
        ids = [number] if kind == "i" else self.store.group_incident_ids(number)
        still_open = [i for i in self.store.incidents(ids).values() if i.resolved_at is None]
        now = self.services.clock()
        with self.store.atomic():
            if kind == "i" and still_open:
                self.store.mark_checked(channel, number, now)
            if still_open:
                # One update per poll, however many people checked again after it.
                finished = self.store.last_poll()
                stamp = f"checked:{iso(finished.finished_at or finished.started_at) if finished else iso(now)}"
                if kind == "i":
                    self.store.enqueue(outbox.update(channel, number, stamp), now)
                else:
                    self.store.enqueue(outbox.group_update(channel, number, stamp), now)
        self.services.deliverer.wake()
        await self.say(respond, words.checked(len(still_open), len(ids), grouped=kind != "i"))
