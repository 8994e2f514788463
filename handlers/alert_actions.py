"""The buttons on alerts: Acknowledge, Snooze 1 hour / 1 day, Check again, and the Help Centre link."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncRespond

from bot.alerting import outbox
from bot.answers.render import Message, escape, feed_not_answering, notice, section
from bot.practice.permissions import may_not_silence
from bot.presses import press_key
from bot.slack.actions import (
    ACK_ACTION,
    CHECK_ACTION,
    HELP_ACTION,
    SNOOZE_DAY_ACTION,
    SNOOZE_HOUR_ACTION,
    parse_target,
)
from bot.slack.errors import slack_error
from bot.slack.users import slack_viewer
from handlers import ack_now
from storage.timefmt import iso

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

SNOOZES = {SNOOZE_HOUR_ACTION: timedelta(hours=1), SNOOZE_DAY_ACTION: timedelta(days=1)}
RECHECK_AFTER = timedelta(seconds=5)
# How long a Check again waits for the feed before saying it is not answering (the poll goes on).
CHECK_AGAIN_WAIT = timedelta(seconds=10)


CANNOT_READ = "I could not read that button. Nothing changed."




def register(app: AsyncApp, services: "Services") -> None:
    store = services.store

    def queue_update(kind: str, number: int, channel: str, event: dict[str, Any], claim: str) -> None:
        """The message is changed and the timeline told through the outbox, so a 429 loses neither. `claim`
        is the press's own token (storage/presses.py): a press queues its update and reply once."""
        now = services.clock()
        stamp = f"press{claim}"
        if kind == "i":
            store.enqueue(outbox.update(channel, number, stamp), now)
            store.enqueue(outbox.reply(channel, number, stamp, event), now)
        else:
            store.enqueue(outbox.group_update(channel, number, stamp), now)
            store.enqueue(outbox.group_reply(channel, number, stamp, event), now)
        services.deliverer.wake()

    def companies_of(kind: str, number: int) -> list[str]:
        ids = [number] if kind == "i" else store.group_incident_ids(number)
        return sorted({incident.company_id for incident in store.incidents(ids).values()})

    def known_target(kind: str, number: int, channel: str) -> bool:
        if kind == "i":
            return store.alert_message(channel, number) is not None
        group = store.group(number)
        return group is not None and group.channel == channel

    async def say(respond: AsyncRespond, text: str | Message) -> None:
        """Privately to the presser, under the alert; an expired response_url loses only this answer. Plain
        text is escaped; a Message is sent as it is."""
        message = notice(text) if isinstance(text, str) else text
        try:
            await respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())
        except Exception as exc:
            log.warning("Could not answer a press on an alert: %s", slack_error(exc))

    async def target_of(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> tuple[str, int, str] | None:
        parsed = parse_target(action.get("value"))
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")
        if parsed is None:
            await say(respond, CANNOT_READ)
            return None
        if not known_target(parsed[0], parsed[1], channel):
            await say(respond, "That alert is not known here any more.")
            return None
        return parsed[0], parsed[1], channel

    def claim(action: str, target: str, user: str, until: datetime | None = None) -> str | None:
        now = services.clock()
        press = press_key(action, target, user, now)
        return store.claim_press(press.key, user, now, until or press.until)

    async def acknowledge(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        target = await target_of(body, action, respond)
        if target is None:
            return
        kind, number, channel = target
        user = body["user"]["id"]
        viewer = await slack_viewer(services.client, store, user, services.clock())
        if not viewer.is_account_user:
            await say(respond, "Only AutoEntry users of this practice can acknowledge alerts. Nothing changed.")
            return
        with store.atomic():
            token = claim(ACK_ACTION, f"{channel}:{kind}{number}", user)
            if token is None:
                return  # acknowledged already (this press again, a retry, or someone else just now)
            if kind == "i":
                store.ack_alert(channel, number, user, services.clock())
            else:
                store.ack_group(number, user, services.clock())
            queue_update(kind, number, channel, {"event": "acknowledged", "user": user}, token)

    async def snooze(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        target = await target_of(body, action, respond)
        if target is None:
            return
        kind, number, channel = target
        user = body["user"]["id"]
        now = services.clock()
        until = now + SNOOZES[action["action_id"]]
        companies = companies_of(kind, number)
        viewer = await slack_viewer(services.client, store, user, now)
        subscriptions = [s for s in store.channel_subscriptions(channel) if s.lapsed_at is None]
        refused = may_not_silence(viewer, companies, subscriptions)
        if refused:
            await say(respond, snooze_refused(refused, subscriptions))
            return
        with store.atomic():
            token = claim(action["action_id"], f"{channel}:{kind}{number}", user, until)
            if token is None:
                return  # snoozed already by this press, a retry of it, or someone else's at the same moment
            for company_id in companies:
                store.snooze(channel, company_id, until, user, now)
            queue_update(kind, number, channel, {"event": "snoozed", "user": user, "until": iso(until), "companies": len(companies)}, token)

    def snooze_refused(refused: list[str], subscriptions: list[Any]) -> Message:
        names = [escape(company.name) for company_id in refused[:3] if (company := store.company(company_id))]
        what = ", ".join(names) + (f" and {len(refused) - 3} more" if len(refused) > 3 else "") if names else "these companies"
        subscribers = sorted({f"<@{s.created_by}>" for s in subscriptions if s.created_by})
        who = f" ({', '.join(subscribers)} subscribed it)" if subscribers else ""
        text = (
            "Snoozing silences this channel, so it takes what unsubscribing takes: the Company settings permission "
            f"on {what}, or having subscribed this channel{who}. Nothing changed."
        )
        return Message(text=text, blocks=[section(text)])

    async def check_again(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        target = await target_of(body, action, respond)
        if target is None:
            return
        kind, number, channel = target
        # The feed has no per-company endpoint: checking again is a poll now (one at a time), unless one
        # has just finished, so that a row of eager presses is not a row of full feed fetches.
        user = body["user"]["id"]
        if claim(CHECK_ACTION, f"{channel}:{kind}{number}", user) is None:
            return  # this person pressed it moments ago (or Slack retried the press): one check, one answer
        last = store.last_poll()
        fresh = last is not None and last.ok and services.clock() - (last.finished_at or last.started_at) < RECHECK_AFTER
        if not fresh:
            await say(respond, "Checking the status feed now…")
            try:
                # Joins a poll already under way; the wait is bounded, the poll is not cut short.
                outcome = await asyncio.wait_for(services.poller.poll_once(), CHECK_AGAIN_WAIT.total_seconds())
                problem = None if outcome.ok else outcome.error
            except TimeoutError:
                problem = f"no answer within {CHECK_AGAIN_WAIT.total_seconds():g} s"
            if problem is not None:
                text = feed_not_answering(problem, services.status.feed_health().checked_at, services.clock())
                await say(respond, text)
                return
        ids = [number] if kind == "i" else store.group_incident_ids(number)
        still_open = [i for i in store.incidents(ids).values() if i.resolved_at is None]
        now = services.clock()
        with store.atomic():
            if kind == "i" and still_open:
                store.mark_checked(channel, number, now)
            if still_open:
                # One update per poll, however many people checked again after it.
                finished = store.last_poll()
                stamp = f"checked:{iso(finished.finished_at or finished.started_at) if finished else iso(now)}"
                if kind == "i":
                    store.enqueue(outbox.update(channel, number, stamp), now)
                else:
                    store.enqueue(outbox.group_update(channel, number, stamp), now)
        services.deliverer.wake()
        if not still_open:
            text = "Checked again: it is resolved. The alert is being updated."
        elif kind == "i":
            text = "Checked again just now: still a problem."
        else:
            text = f"Checked again just now: {len(still_open)} of {len(ids)} companies still have the problem."
        await say(respond, text)

    app.action(ACK_ACTION)(ack=ack_now, lazy=[acknowledge])
    app.action(SNOOZE_HOUR_ACTION)(ack=ack_now, lazy=[snooze])
    app.action(SNOOZE_DAY_ACTION)(ack=ack_now, lazy=[snooze])
    app.action(CHECK_ACTION)(ack=ack_now, lazy=[check_again])
    # A link button still sends an action; Slack wants it acknowledged, and that is all.
    app.action(HELP_ACTION)(ack_now)
