"""The buttons on alerts: Acknowledge, Snooze 1 hour / 1 day, Check again, and the Help Centre link."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncRespond

from bot.alerts import ACK_ACTION, CHECK_ACTION, HELP_ACTION, SNOOZE_DAY_ACTION, SNOOZE_HOUR_ACTION
from bot.render import feed_not_answering, notice
from handlers import ack_now
from storage.timefmt import iso

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)

SNOOZES = {SNOOZE_HOUR_ACTION: timedelta(hours=1), SNOOZE_DAY_ACTION: timedelta(days=1)}
RECHECK_AFTER = timedelta(seconds=5)
# How long a Check again waits for the feed before saying it is not answering (the poll goes on).
CHECK_AGAIN_WAIT = timedelta(seconds=10)


def parse_target(value: str) -> tuple[str, int] | None:
    """`i:<incident>` for one company's alert, `g:<group>` for a storm's message."""
    kind, _, number = value.partition(":")
    if kind not in ("i", "g") or not number.isdigit():
        return None
    return kind, int(number)


def register(app: AsyncApp, services: "Services") -> None:
    store = services.store

    def queue_update(kind: str, number: int, channel: str, event: dict[str, Any]) -> None:
        """The message is changed and the timeline told through the outbox, so a 429 loses neither."""
        now = services.clock()
        stamp = f"{iso(now)}:{event.get('user')}:{event['event']}"
        if kind == "i":
            store.enqueue(f"update:{channel}:{number}:{stamp}", channel, "update", now, incident_id=number)
            store.enqueue(f"reply:{channel}:{number}:{stamp}", channel, "reply", now, incident_id=number, body=event)
        else:
            store.enqueue(f"group_update:{number}:{stamp}", channel, "group_update", now, group_id=number)
            store.enqueue(f"group_reply:{number}:{stamp}", channel, "group_reply", now, group_id=number, body=event)
        services.deliverer.wake()

    def companies_of(kind: str, number: int) -> list[str]:
        ids = [number] if kind == "i" else store.group_incident_ids(number)
        return sorted({incident.company_id for incident in store.incidents(ids).values()})

    def known_target(kind: str, number: int, channel: str) -> bool:
        if kind == "i":
            return store.alert_message(channel, number) is not None
        group = store.group(number)
        return group is not None and group.channel == channel

    async def target_of(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> tuple[str, int, str] | None:
        parsed = parse_target(str(action.get("value", "")))
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")
        if parsed is None or not known_target(parsed[0], parsed[1], channel):
            await respond(response_type="ephemeral", replace_original=False, **notice("That alert is not known here any more.").as_kwargs())
            return None
        return parsed[0], parsed[1], channel

    async def acknowledge(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        target = await target_of(body, action, respond)
        if target is None:
            return
        kind, number, channel = target
        user = body["user"]["id"]
        with store.atomic():
            if kind == "i":
                store.ack_alert(channel, number, user, services.clock())
            else:
                store.ack_group(number, user, services.clock())
            queue_update(kind, number, channel, {"event": "acknowledged", "user": user})

    async def snooze(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        target = await target_of(body, action, respond)
        if target is None:
            return
        kind, number, channel = target
        user = body["user"]["id"]
        now = services.clock()
        until = now + SNOOZES[action["action_id"]]
        companies = companies_of(kind, number)
        with store.atomic():
            for company_id in companies:
                store.snooze(channel, company_id, until, user, now)
            queue_update(kind, number, channel, {"event": "snoozed", "user": user, "until": iso(until), "companies": len(companies)})

    async def check_again(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        target = await target_of(body, action, respond)
        if target is None:
            return
        kind, number, channel = target
        # The feed has no per-company endpoint: checking again is a poll now (one at a time), unless one
        # has just finished, so that a row of eager presses is not a row of full feed fetches.
        last = store.last_poll()
        fresh = last is not None and last.ok and services.clock() - (last.finished_at or last.started_at) < RECHECK_AFTER
        if not fresh:
            await respond(response_type="ephemeral", replace_original=False, **notice("Checking the status feed now…").as_kwargs())
            try:
                # Joins a poll already under way; the wait is bounded, the poll is not cut short.
                outcome = await asyncio.wait_for(services.poller.poll_once(), CHECK_AGAIN_WAIT.total_seconds())
                problem = None if outcome.ok else outcome.error
            except TimeoutError:
                problem = f"no answer within {CHECK_AGAIN_WAIT.total_seconds():g} s"
            if problem is not None:
                text = feed_not_answering(problem, services.status.feed_health().checked_at, services.clock())
                await respond(response_type="ephemeral", replace_original=False, **notice(text).as_kwargs())
                return
        ids = [number] if kind == "i" else store.group_incident_ids(number)
        still_open = [i for i in store.incidents(ids).values() if i.resolved_at is None]
        now = services.clock()
        with store.atomic():
            if kind == "i" and still_open:
                store.mark_checked(channel, number, now)
            if still_open:
                stamp = f"{iso(now)}:{body['user']['id']}:checked"
                if kind == "i":
                    store.enqueue(f"update:{channel}:{number}:{stamp}", channel, "update", now, incident_id=number)
                else:
                    store.enqueue(f"group_update:{number}:{stamp}", channel, "group_update", now, group_id=number)
        services.deliverer.wake()
        if not still_open:
            text = "Checked again: it is resolved. The alert is being updated."
        elif kind == "i":
            text = "Checked again just now: still a problem."
        else:
            text = f"Checked again just now: {len(still_open)} of {len(ids)} companies still have the problem."
        await respond(response_type="ephemeral", replace_original=False, **notice(text).as_kwargs())

    app.action(ACK_ACTION)(ack=ack_now, lazy=[acknowledge])
    app.action(SNOOZE_HOUR_ACTION)(ack=ack_now, lazy=[snooze])
    app.action(SNOOZE_DAY_ACTION)(ack=ack_now, lazy=[snooze])
    app.action(CHECK_ACTION)(ack=ack_now, lazy=[check_again])
    # A link button still sends an action; Slack wants it acknowledged, and that is all.
    app.action(HELP_ACTION)(ack_now)
