"""One poll cycle: fetch the feed, store what changed, and let the alert engine react, all in one transaction."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Awaitable, Callable, Protocol

from bot.practice.feed import FeedError, StatusFeed
from bot.practice.models import CompanyStatus, StoredCompany
from storage.sqlite.db import FEED_COLUMNS, PollRun, Store, company_to_row, stored_from_tuple
from storage.timefmt import from_iso, iso

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompanyChange:
    before: StoredCompany | None
    after: StoredCompany


@dataclass(slots=True)
class PollOutcome:
    ok: bool
    started_at: datetime
    companies: int = 0
    changes: list[CompanyChange] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: int = 0
    removed_ids: list[str] = field(default_factory=list)
    # Companies whose record was bad this time: judged on nothing this poll.
    skipped_ids: frozenset[str] = frozenset()
    error: str | None = None
    duration_seconds: float = 0.0  # wall time of fetch, compare and store (monotonic clock)


class ChangeReactor(Protocol):
    """Runs inside the poll's transaction, so what it writes (alerts) stands or falls with the new state."""

    def __call__(self, outcome: PollOutcome, now: datetime) -> None: ...


def _news_key(company: StoredCompany) -> tuple[object, ...]:
    status = company.status
    sync = status.sync_app
    return (
        status.name,
        status.software,
        status.integration_status,
        status.error,
        sync.status if sync else None,
        sync.location if sync else None,
        status.publication_errors,
    )


def _status_key(status: CompanyStatus) -> tuple[object, ...]:
    return (status.integration_status, status.error)


def _sync_key(status: CompanyStatus) -> object:
    return status.sync_app.status if status.sync_app else None


def next_row(
    new: CompanyStatus, old: tuple[object, ...] | None, now: datetime
) -> tuple[dict[str, object], StoredCompany | None]:
    """The row to store for `new` (or None when nothing changed) and the old state as a company."""
    row = company_to_row(new)
    row["removed_at"] = None
    if old is not None and tuple(row[c] for c in FEED_COLUMNS) == old[: len(FEED_COLUMNS)]:
        return {}, None
    before = stored_from_tuple(old) if old is not None else None
    stamp = iso(now)
    if before is None:
        row.update(status_since=stamp, sync_since=stamp if new.sync_app else None, first_seen_at=stamp)
    else:
        status_since, sync_since, first_seen_at = old[len(FEED_COLUMNS) :]
        row["status_since"] = stamp if _status_key(before.status) != _status_key(new) else status_since
        row["sync_since"] = stamp if _sync_key(before.status) != _sync_key(new) else sync_since
        row["first_seen_at"] = first_seen_at
    return row, before


class Poller:
    def __init__(self, store: Store, feed: StatusFeed, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.feed = feed
        self.clock = clock
        self.reactors: list[ChangeReactor] = []
        # What the last committed poll stored, by company: the feed hands back the same objects for
        # unchanged records, so those need no comparison with the database.
        self._stored: dict[str, CompanyStatus] = {}
        # The schedule and a "Check again" button may ask at once; polls run one at a time.
        self._lock = asyncio.Lock()
        # Run after the transaction: Slack calls and other slow work that must not hold the database.
        self.after_poll: list[Callable[[PollOutcome], Awaitable[None]]] = []
        self._stopping = False

    async def poll_once(self) -> PollOutcome:
        if self._stopping:  # the bot is stopping: a poll now could not finish before the database closes
            return PollOutcome(ok=False, started_at=self.clock(), error="the bot is stopping")
        async with self._lock:
            began = time.monotonic()
            outcome = await self._poll()
            outcome.duration_seconds = time.monotonic() - began
        # Outside the lock: listeners talk to Slack (Home tabs, reminders) and must not hold up the next poll.
        await self._after(outcome)
        return outcome

    async def _poll(self) -> PollOutcome:
        started = self.clock()
        outcome = PollOutcome(ok=False, started_at=started)
        try:
            snapshot = await self.feed.fetch()
        except FeedError as exc:
            outcome.error = str(exc)
            log.warning("Status feed unavailable (%s): %s; keeping the last good state", self.feed.description, exc)
            now = self.clock()
            with self.store.atomic():
                self.store.record_poll(PollRun(started, now, False, 0, 0, 0, outcome.error))
                for react in self.reactors:
                    react(outcome, now)
            return outcome

        now = self.clock()
        outcome.skipped = snapshot.skipped
        for problem in snapshot.skipped:
            log.warning("Skipped a bad feed record: %s", problem)
        # A record that parsed to the very object stored last time is unchanged: no row to compare.
        candidates = [company for company in snapshot.companies if self._stored.get(company.id) is not company]
        with self.store.atomic():
            self.store.save_account(snapshot.account, now)
            old_rows = self.store.feed_rows([company.id for company in candidates] if self._stored else None)
            new_rows: list[dict[str, object]] = []
            changed_rows: list[dict[str, object]] = []
            for company in candidates:
                old = old_rows.get(company.id)
                row, before = next_row(company, old, now)
                if row:
                    (changed_rows if old is not None else new_rows).append(row)
                    after = StoredCompany(company, from_iso(row["status_since"]), from_iso(row["sync_since"]))  # type: ignore[arg-type]
                    # A fresher "last seen" or "updated at" is stored, but it is not news.
                    if before is None or _news_key(before) != _news_key(after):
                        outcome.changes.append(CompanyChange(before, after))
            if new_rows or changed_rows:
                self.store.save_companies(new_rows, changed_rows)
            present = {company.id for company in snapshot.companies} | snapshot.skipped_ids
            gone = [cid for cid in self.store.listed_company_ids() if cid not in present]
            outcome.removed = self.store.mark_removed(gone, now)
            outcome.removed_ids = gone
            outcome.skipped_ids = snapshot.skipped_ids
            outcome.ok = True
            outcome.companies = len(snapshot.companies)
            for react in self.reactors:
                react(outcome, now)
            self.store.record_poll(
                PollRun(started, self.clock(), True, outcome.companies, len(outcome.changes), len(outcome.skipped), None)
            )
        # Only once the transaction has committed: after a rollback, the next poll compares everything.
        self._stored = {company.id: company for company in snapshot.companies}
        # What a poll keeps (a parsed company per record) lives until the next change: out of the cyclic
        # garbage collector's way, so that its passes during the next fetch stay short.
        gc.freeze()
        return outcome

    def stop(self) -> None:
        """Start no new poll (the bot is stopping); `wait_idle` waits for the one in progress."""
        self._stopping = True

    async def wait_idle(self) -> None:
        """Return once no poll is running."""
        async with self._lock:
            return

    async def _after(self, outcome: PollOutcome) -> None:
        for callback in self.after_poll:
            try:
                await callback(outcome)
            except Exception:  # a listener's bug must not stop polling
                log.exception("A poll listener failed")
