"""Empties the outbox into Slack: per channel in order, paced, retried, never dropped, never doubled."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerting.delivery_health import DeliveryHealth
from bot.alerting.engine import AlertRenderer
from bot.answers.render import Message
from bot.slack.errors import is_retryable, slack_error
from storage.sqlite.alerts import OutboxItem
from storage.sqlite.db import Store

log = logging.getLogger(__name__)

METADATA_EVENT = "integration_status_alert"
# Slack takes about one message a second per channel.
CHANNEL_INTERVAL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
MESSAGE_GONE = frozenset({"message_not_found", "cant_update_message", "thread_not_found"})
UNEXPECTED_FAILURES_BEFORE_GIVING_UP = 5


class Postpone(Exception):
    """The row cannot go yet (its parent message is not posted): try again shortly, not an error."""


class ParentLost(Exception):
    """The message this row belongs to was never delivered (its post failed for good)."""


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    postponed: int = 0
    errors: list[str] = field(default_factory=list)


class Deliverer:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        renderer: AlertRenderer,
        clock: Callable[[], datetime],
        *,
        channel_interval: float = CHANNEL_INTERVAL_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.client = client
        self.renderer = renderer
        self.clock = clock
        self.channel_interval = channel_interval
        self._sleep = sleep
        self._next_send: dict[str, float] = defaultdict(float)  # channel -> monotonic time
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        # What the attempts came to, for /healthz and /metrics.
        self.health = DeliveryHealth()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Take no new row: the calls in flight finish, `run_forever` returns; the rest waits in the outbox."""
        self._stopping = True
        self._wake.set()

    # --- the loop ----------------------------------------------------------------------------

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        while not self._stopping:
            try:
                await self.deliver_due()
            except Exception:  # the loop must outlive any one bad row
                log.exception("Alert delivery pass failed; retrying")
            if self._stopping:
                return
            self._wake.clear()
            try:
                async with asyncio.timeout(idle_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def drain(self, timeout: float = 60.0) -> DeliveryReport:
        """Deliver until nothing is due (what `integration-bot poll` and tests need), within a bound."""
        report = DeliveryReport()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            step = await self.deliver_due()
            report.sent += step.sent
            report.failed += step.failed
            report.errors += step.errors
            if self.store.pending_outbox_count() == 0:
                break
            next_due = self.store.next_due_at()
            wait = 0.05 if next_due is None else max(0.0, (next_due - self.clock()).total_seconds())
            await self._sleep(min(max(wait, 0.01), 1.0, max(0.0, deadline - time.monotonic())))
        return report

    async def deliver_due(self) -> DeliveryReport:
        async with self._lock:
            now = self.clock()
            queues: dict[str, list[OutboxItem]] = defaultdict(list)
            blocked: set[str] = set()
            for item, due in self.store.pending_outbox():
                # Per channel the queue is FIFO: a row waits while an earlier one for its channel waits.
                if item.channel in blocked:
                    continue
                if due > now:
                    blocked.add(item.channel)
                    continue
                queues[item.channel].append(item)
            report = DeliveryReport()
            await asyncio.gather(*(self._deliver_channel(items, report) for items in queues.values()))
            return report

    async def _deliver_channel(self, items: list[OutboxItem], report: DeliveryReport) -> None:
        for item in items:
            if self._stopping:
                return
            wait = self._next_send[item.channel] - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
            self._next_send[item.channel] = time.monotonic() + self.channel_interval
            if not await self._deliver_one(item, report):
                return  # keep this channel's order: the rest wait for this row

    async def _deliver_one(self, item: OutboxItem, report: DeliveryReport) -> bool:
        """True when the channel may go on to its next row."""
        store = self.store
        crashed_mid_send = item.in_flight_at is not None
        store.mark_in_flight(item.id, self.clock())
        try:
            if crashed_mid_send:
                ts = await self._find_sent(item)
                if ts is not None:
                    self._record_ts(item, ts)
                    store.mark_sent(item.id, ts, self.clock())
                    self.health.record_sent(self.clock())
                    log.info("Outbox %s had reached Slack before a restart; not sent again", item.key, extra=self._log_fields(item))
                    return True
            ts = await self._send(item)
        except Postpone:
            store.reschedule(item.id, self.clock() + timedelta(seconds=1), "waiting for the message it belongs to")
            report.postponed += 1
            return False
        except ParentLost:
            return self._give_up(item, "its alert message was never delivered", report)
        except Exception as exc:
            error = slack_error(exc)
            if error.startswith("unexpected_"):
                log.exception("Alert %s to %s failed unexpectedly", item.key, item.channel, extra=self._log_fields(item))
                if item.attempts + 1 >= UNEXPECTED_FAILURES_BEFORE_GIVING_UP:
                    return self._give_up(item, error, report)
            elif not is_retryable(exc):
                return self._give_up(item, error, report)
            status = exc.response.status_code if isinstance(exc, SlackApiError) else None
            headers = exc.response.headers if isinstance(exc, SlackApiError) else {}
            delay = self._retry_delay(item, headers, status)
            # After a 5xx or a lost connection Slack may have posted it: stay "in flight" so that the next
            # try looks in the channel first. A 429 or an `ok: false` means nothing was posted.
            ambiguous = error == "network_error" or (status is not None and status >= 500)
            store.reschedule(item.id, self.clock() + timedelta(seconds=delay), error, keep_in_flight=ambiguous)
            if error != "ratelimited":  # a 429 is Slack pacing a healthy bot
                self.health.record_failed(self.clock(), error, final=False)
            report.errors.append(f"{item.key}: {error}, retrying in {delay:.0f}s")
            log.warning("Alert %s to %s: %s; retrying in %.1fs", item.key, item.channel, error, delay, extra=self._log_fields(item))
            return False
        with store.atomic():
            self._record_ts(item, ts)
            store.mark_sent(item.id, ts, self.clock())
        self.health.record_sent(self.clock())
        report.sent += 1
        return True

    def _give_up(self, item: OutboxItem, error: str, report: DeliveryReport) -> bool:
        """A row no retry can mend is marked failed and logged; it must not hold up its channel."""
        self.store.mark_failed(item.id, error, self.clock())
        self.health.record_failed(self.clock(), error, final=True)
        report.failed += 1
        report.errors.append(f"{item.key}: {error}")
        log.error("Alert %s to %s cannot be delivered: %s", item.key, item.channel, error, extra=self._log_fields(item))
        return True

    def _retry_delay(self, item: OutboxItem, headers: Any, status: int | None) -> float:
        if status == 429:
            retry_after = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
            if isinstance(retry_after, list):
                retry_after = retry_after[0]
            try:
                seconds = float(retry_after)
            except (TypeError, ValueError):
                seconds = 1.0
            self._next_send[item.channel] = time.monotonic() + seconds
            return seconds
        return min(MAX_BACKOFF_SECONDS, 2.0 ** max(0, item.attempts))

    def _log_fields(self, item: OutboxItem) -> dict[str, object]:
        """Fields a JSON log line carries for an outbox row (LOG_FORMAT=json): key, channel, company."""
        fields: dict[str, object] = {"outbox_key": item.key, "channel": item.channel}
        incident = self.store.incident(item.incident_id) if item.incident_id is not None else None
        if incident is not None:
            fields["company"] = incident.company_id
        return fields

    # --- what each kind of row does ------------------------------------------------------------

    def _parent_ts(self, item: OutboxItem) -> str:
        if item.group_id is not None:
            group = self.store.group(item.group_id)
            ts = group.ts if group else None
        else:
            message = self.store.alert_message(item.channel, item.incident_id or 0)
            ts = message.ts if message else None
        if ts is not None:
            return ts
        if self.store.parent_post_pending(item.channel, item.incident_id, item.group_id):
            raise Postpone()
        raise ParentLost()

    def _record_ts(self, item: OutboxItem, ts: str | None) -> None:
        if ts is None:
            return
        if item.kind in ("post", "update") and item.incident_id is not None:
            self.store.set_alert_ts(item.channel, item.incident_id, ts)
        elif item.kind in ("group_post", "group_update") and item.group_id is not None:
            self.store.set_group_ts(item.group_id, ts)

    def _message(self, item: OutboxItem) -> Message | None:
        renderer = self.renderer
        kind = item.kind
        if kind in ("post", "update"):
            return renderer.incident_message(item.channel, item.incident_id or 0)
        if kind == "reply":
            return renderer.incident_reply(item.incident_id or 0, item.body)
        if kind in ("group_post", "group_update"):
            return renderer.group_message(item.group_id or 0)
        if kind == "group_list":
            return renderer.group_list(item.group_id or 0, item.body["part"], item.body["parts"])
        if kind == "group_reply":
            return renderer.group_reply(item.group_id or 0, item.body)
        if kind == "notice":
            return renderer.notice(item.body)
        raise ValueError(f"unknown outbox kind {kind!r}")

    async def _post(self, item: OutboxItem, message: Message, thread_ts: str | None = None) -> str | None:
        response = await self.client.chat_postMessage(
            channel=item.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            # The outbox key travels with the message, so a restart can tell a sent row from an unsent one.
            metadata={"event_type": METADATA_EVENT, "event_payload": {"key": item.key}},
        )
        return response.get("ts")

    async def _send(self, item: OutboxItem) -> str | None:
        message = self._message(item)
        if message is None:
            return None
        if item.kind in ("post", "group_post", "notice"):
            return await self._post(item, message)
        if item.kind in ("reply", "group_list", "group_reply"):
            return await self._post(item, message, thread_ts=self._parent_ts(item))
        # An update: edit the message in place, or post it anew when it is gone (or never arrived).
        try:
            ts = self._parent_ts(item)
        except ParentLost:
            return await self._post(item, message)
        try:
            await self.client.chat_update(channel=item.channel, ts=ts, text=message.text, blocks=message.blocks)
            return ts
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            if data.get("error") not in MESSAGE_GONE:
                raise
            log.info("Alert message %s in %s is gone (%s); posting it anew", ts, item.channel, data.get("error"))
            return await self._post(item, message)

    async def _find_sent(self, item: OutboxItem) -> str | None:
        """After a crash mid-send: did Slack get the message? Its metadata carries the row's key.

        Needs the channels:history (groups:history for private channels) scope; without it the answer
        is "unknown" and the row is sent again: at least once, never lost.
        """
        if item.kind not in ("post", "group_post", "notice", "reply", "group_list", "group_reply"):
            return None  # an update is idempotent: doing it again is harmless
        oldest = f"{item.created_at.timestamp() - 60:.6f}"
        try:
            if item.kind in ("reply", "group_list", "group_reply"):
                response = await self.client.conversations_replies(
                    channel=item.channel, ts=self._parent_ts(item), oldest=oldest, include_all_metadata=True, limit=200
                )
            else:
                response = await self.client.conversations_history(
                    channel=item.channel, oldest=oldest, include_all_metadata=True, limit=200
                )
        except (SlackApiError, Postpone, ParentLost, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("Could not check whether %s reached Slack (%s); sending it again", item.key, exc)
            return None
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and (metadata.get("event_payload") or {}).get("key") == item.key:
                return message.get("ts")
        return None
