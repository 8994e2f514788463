"""Empties the outbox into Slack: per channel in order, paced, retried, never dropped, never doubled."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerting import outbox
from bot.alerting.compose import AlertRenderer
from bot.alerting.delivery_health import DeliveryHealth
from bot.alerting.sending import OutboxSender, ParentLost, Postpone
from bot.leases import LeaseLost, renewing
from bot.slack.errors import is_retryable, is_user_id, slack_error
from storage.ports import Coordination, IncidentRecords, OutboxQueue, SubscriptionRecords
from storage.records import OutboxItem
from storage.timefmt import iso

log = logging.getLogger(__name__)

# Slack takes about one message a second per channel.
CHANNEL_INTERVAL_SECONDS = 1.0
# A channel whose next row another process holds (PostgreSQL, storage/postgres/store.py) is asked for again
# after this long.
CLAIM_RETRY_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
UNEXPECTED_FAILURES_BEFORE_GIVING_UP = 5
# The bot cannot post in the channel until someone invites it (or unarchives the channel): its alerts wait,
# the subscribers are told once, and it is tried again when the bot joins (member_joined_channel) or hourly.
CHANNEL_DEAD = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
BROKEN_CHANNEL_RETRY = timedelta(hours=1)
# Finished outbox rows are kept this long (and longer while their incident is open), then pruned.
OUTBOX_RETENTION = timedelta(days=7)
PRUNE_EVERY = timedelta(hours=1)
ROWS_PER_READ = 50


class DeliveryStore(OutboxQueue, SubscriptionRecords, IncidentRecords, Coordination, Protocol):
    """What delivery reads and writes: the outbox, and who to tell when a channel refuses posts."""


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    postponed: int = 0
    errors: list[str] = field(default_factory=list)


class Deliverer(OutboxSender):
    """Empties the outbox: one task per channel with due work, so that a channel Slack rate-limits, refuses
    or answers slowly delays only itself. The outbox owns retries of posts (per channel back-off from
    `Retry-After`, exponential after a 5xx); its Web API client must not sleep through them itself."""

    store: DeliveryStore

    def __init__(
        self,
        store: DeliveryStore,
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
        self._tasks: dict[str, asyncio.Task[None]] = {}  # channel -> the task delivering it now
        self._pruned_at: datetime | None = None
        # What the attempts came to, for /healthz and /metrics.
        self.health = DeliveryHealth()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def channel_joined(self, channel: object, user: object, bot_user_id: str | None) -> None:
        """member_joined_channel: when the bot itself joins a channel it could not post in, try it again."""
        if user == bot_user_id and isinstance(channel, str) and self.store.mark_channel_working(channel):
            self.wake()

    def stop(self) -> None:
        """Take no new row: the calls in flight finish, `run_forever` returns; the rest waits in the outbox."""
        self._stopping = True
        self._wake.set()

    # --- the loop ----------------------------------------------------------------------------

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        try:
            while not self._stopping:
                try:
                    self._wake.clear()
                    await self.deliver_due(wait=0)
                    self.prune()
                except Exception:  # the loop must outlive any one bad row
                    log.exception("Alert delivery pass failed; retrying")
                if self._stopping:
                    break
                try:
                    async with asyncio.timeout(idle_seconds):
                        await self._wake.wait()
                except TimeoutError:
                    pass
            # Stopping: each channel finishes the row it is sending (its Slack call) and takes no other.
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        finally:
            for task in self._tasks.values():
                task.cancel()

    async def drain(self, timeout: float = 60.0) -> DeliveryReport:
        """Deliver until nothing is due (what `integration-bot poll` and tests need), within a bound.
        Rows of a broken channel wait for the bot to be invited: they do not hold a drain."""
        report = DeliveryReport()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            step = await self.deliver_due(wait=max(0.0, deadline - time.monotonic()))
            report.sent += step.sent
            report.failed += step.failed
            report.errors += step.errors
            if self.store.deliverable_count() == 0:
                break
            next_due = self.store.next_due_at()
            wait = 0.05 if next_due is None else max(0.0, (next_due - self.clock()).total_seconds())
            await self._sleep(min(max(wait, 0.01), 1.0, max(0.0, deadline - time.monotonic())))
        return report

    async def deliver_due(self, wait: float | None = None) -> DeliveryReport:
        """Start a task for each channel with due work that has none running; wait up to `wait` seconds
        (None: until they finish) for them. The report counts what finished within the wait."""
        report = DeliveryReport()
        if self._stopping:
            return report
        for channel in self.store.due_channels(self.clock()):
            if channel not in self._tasks:
                task = asyncio.create_task(self._deliver_channel(channel, report))
                self._tasks[channel] = task
                task.add_done_callback(functools.partial(self._channel_done, channel))
        running = list(self._tasks.values())
        if running and (wait is None or wait > 0):
            await asyncio.wait(running, timeout=wait)
        return report

    def _channel_done(self, channel: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(channel) is task:
            del self._tasks[channel]
        if not task.cancelled() and task.exception() is not None:
            log.error("Delivery to %s failed", channel, exc_info=task.exception())
        self._wake.set()  # the channel may have more due work

    async def _deliver_channel(self, channel: str, report: DeliveryReport) -> None:
        """This channel's due rows in order, paced; stops at the first row that must wait."""
        while True:
            rows = self.store.channel_queue(channel, ROWS_PER_READ)
            for item, due in rows:
                if self._stopping or due > self.clock():
                    return
                wait = self._next_send[channel] - time.monotonic()
                if wait > 0:
                    await self._sleep(wait)
                self._next_send[channel] = time.monotonic() + self.channel_interval
                claimed = self.store.claim_outbox_row(item)
                if claimed is None:
                    # Another process is sending this channel's head: ask again in a while, not in a loop.
                    self._next_send[channel] = time.monotonic() + CLAIM_RETRY_SECONDS
                    return
                if not await self._deliver_claimed(claimed, report):
                    return  # keep this channel's order: the rest wait for this row
            if len(rows) < ROWS_PER_READ:
                return

    async def _deliver_claimed(self, item: OutboxItem, report: DeliveryReport) -> bool:
        """`_deliver_one` with the row's claim renewed while it runs (a slow Slack, a long Retry-After wait in
        the client): no other process sends it meanwhile. A claim lost all the same cancels the send."""
        lease = self.store.outbox_lease_seconds
        try:
            async with renewing(lambda: self.store.renew_outbox_claim(item.id), lease, f"outbox row {item.key}"):
                return await self._deliver_one(item, report)
        except LeaseLost:
            return False  # another process sends it; the row stays in flight, so it looks in the channel first

    def prune(self) -> int:
        """Prune finished outbox rows nothing needs any more (storage: prune_outbox), at most hourly."""
        now = self.clock()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return 0
        self._pruned_at = now
        pruned = self.store.prune_outbox(now - OUTBOX_RETENTION)
        if pruned:
            log.info("Pruned %d delivered outbox rows", pruned)
        return pruned

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
                    log.info(
                        "Outbox %s had reached Slack before a restart; not sent again", item.key, extra=self._log_fields(item)
                    )
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
            if error in CHANNEL_DEAD and not is_user_id(item.channel):
                self._channel_dead(item, error)
                return False
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
            log.warning(
                "Alert %s to %s: %s; retrying in %.1fs", item.key, item.channel, error, delay, extra=self._log_fields(item)
            )
            return False
        with store.atomic():
            self._record_ts(item, ts)
            store.mark_sent(item.id, ts, self.clock())
            if store.mark_channel_working(item.channel):
                log.info("Posting in %s works again", item.channel)
        self.health.record_sent(self.clock())
        report.sent += 1
        return True

    def _channel_dead(self, item: OutboxItem, error: str) -> None:
        """The bot cannot post in this channel: its rows wait (nothing was posted), each subscriber is told
        once by direct message, and the channel is tried again when the bot joins it, or hourly."""
        store = self.store
        now = self.clock()
        with store.atomic():
            store.reschedule(item.id, now, error)
            newly = store.mark_channel_broken(item.channel, error, now, now + BROKEN_CHANNEL_RETRY)
            subscribers = sorted({s.created_by for s in store.channel_subscriptions(item.channel) if s.created_by})
            if newly:
                for user_id in subscribers:
                    store.enqueue(outbox.channel_broken(user_id, item.channel, error, iso(now)), now)
        if newly:
            log.error(
                "Cannot post in %s (%s): its alerts wait until I am invited; %s",
                item.channel,
                error,
                f"told {len(subscribers)} subscriber(s)" if subscribers else "no subscriber to tell (see /healthz)",
            )
        self.wake()

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
                seconds = float(str(retry_after))
            except (TypeError, ValueError):
                seconds = 1.0
            return min(max(seconds, 0.0), 3600.0)  # the row's due time holds the channel back, on the bot's clock
        return min(MAX_BACKOFF_SECONDS, 2.0 ** max(0, item.attempts))

    def _log_fields(self, item: OutboxItem) -> dict[str, object]:
        """Fields a JSON log line carries for an outbox row (LOG_FORMAT=json): key, channel, company."""
        fields: dict[str, object] = {"outbox_key": item.key, "channel": item.channel}
        incident = self.store.incident(item.incident_id) if item.incident_id is not None else None
        if incident is not None:
            fields["company"] = incident.company_id
        return fields
