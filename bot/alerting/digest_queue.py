"""Queues each channel's daily digest when it falls due: a periodic check (each minute, and at start-up).

The decision is `bot.alerting.digest.due_date` (pure); this module reads the schedules and the practice and
writes the digest's outbox rows. Exactly once per channel and local date: the rows' dedup key holds both, and
the outbox's unique key refuses a second copy, whether it comes from a restart or another process.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Iterable, Protocol

from bot.alerting import outbox
from bot.alerting.digest import digest_bodies, digest_facts, due_date
from bot.alerting.digest_messages import DIGEST_LINES_SHOWN
from bot.alerting.messages import COMPANIES_PER_REPLY
from bot.practice.models import StoredCompany
from storage.ports import CompanyRecords, OutboxQueue, SubscriptionRecords

log = logging.getLogger(__name__)


class DigestStore(CompanyRecords, SubscriptionRecords, OutboxQueue, Protocol):
    """What queueing the daily digests reads and writes."""


class DigestQueue:
    def __init__(
        self,
        store: DigestStore,
        clock: Callable[[], datetime],
        *,
        alert_channel: str | None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.alert_channel = alert_channel
        self.wake = wake

    def companies_for(self, channel: str) -> Iterable[StoredCompany]:
        """The companies a channel's digest covers: those it gets alerts for (all, for `ALERT_CHANNEL`)."""
        everything, by_company = self.store.subscription_map()
        companies = self.store.companies()
        if channel in everything or channel == self.alert_channel:
            return companies.values()
        return [company for company_id, company in companies.items() if channel in by_company.get(company_id, ())]

    def queue_due(self) -> int:
        """Queue every digest due now that is not queued yet; returns how many were queued."""
        store, now = self.store, self.clock()
        queued = 0
        for schedule in store.digests():
            day = due_date(schedule, now)
            if day is None or store.outbox_row(outbox.digest_key(schedule.channel, day.isoformat())) is not None:
                continue
            facts = digest_facts(self.companies_for(schedule.channel), store.acknowledged_companies(schedule.channel))
            main, parts = digest_bodies(facts, schedule, day, now, shown=DIGEST_LINES_SHOWN, per_reply=COMPANIES_PER_REPLY)
            with store.atomic():
                if store.enqueue(outbox.digest(schedule.channel, day.isoformat(), main), now):
                    for number, body in enumerate(parts, start=1):
                        store.enqueue(outbox.digest_list(schedule.channel, day.isoformat(), number, body), now)
                    queued += 1
            log.info("Queued the digest of %s for %s", schedule.channel, day.isoformat())
        return queued

    async def tick(self) -> None:
        """The scheduled job (on the event loop: storage stays on its thread)."""
        try:
            if self.queue_due():
                self.wake()
        except Exception:
            log.exception("Queueing the daily digests failed; the next check tries again")
