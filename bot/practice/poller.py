"""One poll cycle: fetch the feed, store what changed, and let the alert engine react, all in one transaction."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import compress
from operator import attrgetter, is_not
from typing import Awaitable, Callable, Protocol

from bot.heap import keep_long_lived, poll_ended, poll_started
from bot.practice.commit_group import CommitGroup
from bot.practice.feed import FeedError, HttpFeed, Snapshot, StatusFeed
from bot.practice.models import CompanyStatus, StoredCompany
from storage.ports import CompanyRecords, PollRuns
from storage.records import PollAgenda, PollRun, StoredChange
from storage.timefmt import iso

log = logging.getLogger(__name__)

# A company missing from complete listings for this long is closed as removed; until then it keeps its
# state and its open alerts (a listing can leave a company out by mistake, and bring it back).
REMOVED_AFTER = timedelta(days=1)
_company_id: Callable[[CompanyStatus], str] = attrgetter("id")


class PollerStore(CompanyRecords, PollRuns, Protocol):
    """What a poll writes: the listing, and the poll run."""


@dataclass(slots=True)
class PollOutcome:
    ok: bool
    started_at: datetime
    companies: int = 0
    # The companies whose news this poll is (before None: seen for the first time).
    changes: list[StoredChange] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: int = 0
    removed_ids: list[str] = field(default_factory=list)
    # Companies whose record was bad this time: judged on nothing this poll.
    skipped_ids: frozenset[str] = frozenset()
    # Companies left out of this listing, not (yet) for a whole day: judged on nothing this poll either.
    missing_ids: frozenset[str] = frozenset()
    # Companies listed again after they were closed as removed, and when that was.
    returned: dict[str, datetime] = field(default_factory=dict)
    error: str | None = None
    duration_seconds: float = 0.0  # wall time of fetch, compare and store (monotonic clock)
    # What the alert engine read inside the poll's transaction (None: not read): tells the steps after the
    # poll whether they have anything to read at all.
    agenda: PollAgenda | None = None


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


class Poller:
    def __init__(self, store: PollerStore, feed: StatusFeed, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.feed = feed
        self.clock = clock
        self.reactors: list[ChangeReactor] = []
        # What the last committed poll stored, by company: the feed hands back the same objects for
        # unchanged records, so those need no comparison with the database.
        self._stored: dict[str, CompanyStatus] = {}
        # (companies_version, how many ids were listed and their set's hash) after the last poll, when it found
        # no company left out: while all hold, the next poll need not read which companies are listed and
        # missing. A hash, not the set: a thousand workspaces' sets would cost megabytes.
        self._listing: tuple[int, int, int] | None = None
        # The store's companies_version once that poll committed: another change since (another process's
        # poll on PostgreSQL, a rollback) means the database may differ from `_stored`, so all is compared.
        self._stored_version = 0
        # The snapshot last committed, with (how many ids it listed, their set's hash).
        self._committed: tuple[Snapshot, tuple[int, int]] | None = None
        # The poll under way, if any: the schedule and a "Check again" press that come while it runs share
        # its outcome rather than queue a second fetch behind it.
        self._current: asyncio.Task[PollOutcome] | None = None
        self.running_since: datetime | None = None
        # Run after the transaction: Slack calls and other slow work that must not hold the database.
        self.after_poll: list[Callable[[PollOutcome], Awaitable[None]]] = []
        # Said once: whether polls are failing, and which bad records and notes the log has been told.
        self.failing_since: datetime | None = None
        self.consecutive_failures = 0
        self._told: set[str] = set()
        self._stopping = False
        # With many workspaces on one SQLite database: polls that finish fetching together share a commit.
        self.commits: CommitGroup | None = None

    async def poll_once(self) -> PollOutcome:
        """Polls now, or joins the poll under way; never raises (a failure is in the outcome)."""
        if self._stopping:  # the bot is stopping: a poll now could not finish before the database closes
            return PollOutcome(ok=False, started_at=self.clock(), error="the bot is stopping")
        task = self._current
        if task is None or task.done():
            task = self._current = asyncio.create_task(self._run())
        # Shielded: a caller that stops waiting (a Check again with its own deadline) leaves the poll running.
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and self._stopping and not (current is not None and current.cancelling()):
                # The poll was cancelled by `finish` (the workspace or the bot stopping), not this caller.
                return PollOutcome(ok=False, started_at=self.clock(), error="the bot is stopping")
            raise

    async def _run(self) -> PollOutcome:
        self.running_since = self.clock()
        began = time.monotonic()
        poll_started()  # a burst of polls has the cyclic collector wait (bot/heap.py)
        try:
            outcome = await self._poll()
        finally:
            self.running_since = None
            poll_ended()
        outcome.duration_seconds = time.monotonic() - began
        self._note(outcome)
        # Outside the poll: listeners talk to Slack (Home tabs, reminders) and must not hold up the next one.
        await self._after(outcome)
        return outcome

    def _note(self, outcome: PollOutcome) -> None:
        """One log line when polling starts failing and one when it works again, not one per try."""
        if outcome.ok:
            if self.failing_since is not None:
                log.warning(
                    "Polling works again after %d failed polls since %s (%s)",
                    self.consecutive_failures,
                    iso(self.failing_since),
                    self.feed.description,
                )
            self.failing_since = None
            self.consecutive_failures = 0
            return
        self.consecutive_failures += 1
        if self.failing_since is None:
            self.failing_since = outcome.started_at
            log.warning(
                "Polling failed (%s): %s; keeping the last good state and retrying with back-off",
                self.feed.description,
                outcome.error,
            )
        else:
            log.debug("Poll %d failing in a row: %s", self.consecutive_failures, outcome.error)

    async def _poll(self) -> PollOutcome:
        started = self.clock()
        outcome = PollOutcome(ok=False, started_at=started)
        if not self._stored and isinstance(self.feed, HttpFeed) and self.feed.last_records is None:
            # The first listing since a start is bounded by the practice the database knows, so an endless
            # cursor cannot run to MAX_PAGES (bot/practice/feed.py).
            known = self.store.company_count()
            if known:
                self.feed.last_records = known
        try:
            snapshot = await self.feed.fetch()
        except FeedError as exc:
            outcome.error = str(exc)[:500]  # as every failure's reason: a feed's text kept short
            return self._failed(outcome)
        except Exception as exc:  # a bug or an odd answer the client did not foresee: still a failed poll
            log.exception("Reading the status feed failed unexpectedly")
            outcome.error = f"reading the feed failed: {type(exc).__name__}: {exc}"[:500]
            return self._failed(outcome)
        try:
            if self.commits is None:
                self._stage(snapshot, outcome)()
            else:
                await self.commits.store(functools.partial(self._stage, snapshot, outcome), self.store.forget_uncommitted)
        except Exception as exc:
            # Everything the poll wrote is rolled back; it counts as failed, and /healthz says why.
            log.exception("Storing a poll failed; it was rolled back")
            outcome = PollOutcome(
                ok=False, started_at=started, error=f"storing the poll failed: {type(exc).__name__}: {exc}"[:500]
            )
            return self._failed(outcome)
        self._tell(snapshot)
        # What a poll keeps (a parsed company per record) lives until the next change: out of the cyclic
        # garbage collector's way, so that its passes during the next fetch stay short.
        keep_long_lived()
        return outcome

    def _failed(self, outcome: PollOutcome) -> PollOutcome:
        now = self.clock()
        try:
            with self.store.atomic():
                self.store.record_poll(PollRun(outcome.started_at, now, False, 0, 0, 0, outcome.error))
                for react in self.reactors:
                    react(outcome, now)
        except Exception:
            log.exception("Recording a failed poll failed")
            try:  # at least the failure itself, without the reactors' work
                with self.store.atomic():
                    self.store.record_poll(PollRun(outcome.started_at, now, False, 0, 0, 0, outcome.error))
            except Exception:
                log.exception("The database cannot record a poll")
        return outcome

    def _tell(self, snapshot: Snapshot) -> None:
        """Logs each bad record and each shortened one once, while it stays so: not at every poll."""
        current = set(snapshot.skipped) | set(snapshot.notes)
        for problem in snapshot.skipped:
            if problem not in self._told:
                log.warning("Skipped a bad feed record: %s", problem)
        for note in snapshot.notes:
            if note not in self._told:
                log.info("Kept a feed record with a change: %s", note)
        self._told = current if len(current) < 100_000 else set()

    def _stage(self, snapshot: Snapshot, outcome: PollOutcome) -> Callable[[], None]:
        """The poll's writes and its reactors, in one transaction (a savepoint, in a CommitGroup's); returns
        what to keep in memory once that has committed."""
        started = outcome.started_at
        now = self.clock()
        outcome.skipped = snapshot.skipped
        if self._stored and self.store.companies_version != self._stored_version:
            self._stored, self._committed = {}, None  # another process wrote since: compare every company
        # A record that parsed to the very object stored last time is unchanged: no row to compare. The very
        # snapshot committed last time (the feed's bytes all the same) has none.
        same = self._committed is not None and self._committed[0] is snapshot
        stored = self._stored
        companies = snapshot.companies
        # In C loops (map): those not the very object stored, by id.
        candidates = (
            [] if same else list(compress(companies, map(is_not, map(stored.get, map(_company_id, companies)), companies)))
        )
        with self.store.atomic():
            version = self.store.companies_version  # before this poll's writes
            self.store.save_account(snapshot.account, now)
            for change in self.store.save_listing(candidates, now, read_all=not self._stored):
                before, returned_from = change.before, change.returned_from
                if returned_from is not None:
                    outcome.returned[change.after.status.id] = returned_from
                # A fresher "last seen" or "updated at" is stored, but it is not news; a company back in the
                # feed is, whatever it says (its conditions were closed when it was removed).
                if before is None or returned_from is not None or _news_key(before) != _news_key(change.after):
                    outcome.changes.append(change)
            present: set[str] | None = None
            if self._committed is not None and same:
                listing = self._committed[1]
            else:
                present = {company.id for company in snapshot.companies} | snapshot.skipped_ids
                listing = (len(present), hash(frozenset(present)))
            listed: list[str] = []
            missing: dict[str, datetime] = {}
            if self._listing != (version, *listing):
                # Unless these are the companies the last poll listed, none left out, and nothing written since.
                listed, missing = self.store.listed_and_missing()
                if present is None:
                    present = {company.id for company in snapshot.companies} | snapshot.skipped_ids
            present = present or set()
            absent = [cid for cid in listed if cid not in present]
            self.store.mark_missing([cid for cid in absent if cid not in missing], now)
            self.store.clear_missing([cid for cid in missing if cid in present])
            gone = [cid for cid in absent if cid in missing and now - missing[cid] >= REMOVED_AFTER]
            outcome.removed = self.store.mark_removed(gone, now)
            outcome.removed_ids = gone
            outcome.missing_ids = frozenset(absent) - set(gone)
            outcome.skipped_ids = snapshot.skipped_ids
            outcome.ok = True
            outcome.companies = len(snapshot.companies)
            for react in self.reactors:
                react(outcome, now)
            self.store.record_poll(
                PollRun(started, self.clock(), True, outcome.companies, len(outcome.changes), len(outcome.skipped), None)
            )
        return functools.partial(self._keep, None if same else snapshot, listing, bool(absent), self.store.companies_version)

    def _keep(self, snapshot: Snapshot | None, listing: tuple[int, int], absent: bool, version: int) -> None:
        """Once the poll's transaction has committed (after a rollback, the next poll compares everything): keep
        `snapshot` (None: the one kept already), its listing's (count, hash), whether companies were left out,
        and the companies' version."""
        if snapshot is not None:
            self._stored = dict(zip(map(_company_id, snapshot.companies), snapshot.companies))
            self._committed = (snapshot, listing)
        self._listing = None if absent else (version, *listing)
        self._stored_version = version

    def polled_last(self) -> bool:
        """True when this process made the workspace's last good poll and nothing has changed its companies
        since (another process's poll, on PostgreSQL): a poll here now compares changed records only."""
        return bool(self._stored) and self.store.companies_version == self._stored_version

    def stop(self) -> None:
        """Start no new poll (the bot is stopping); `wait_idle` waits for the one in progress."""
        self._stopping = True

    @property
    def polling(self) -> bool:
        """False once stopped."""
        return not self._stopping

    @property
    def in_progress(self) -> "asyncio.Task[PollOutcome] | None":
        """The poll under way (its after-poll steps included), if any."""
        task = self._current
        return task if task is not None and not task.done() else None

    async def finish(self, timeout: float) -> None:
        """Once stopped: waits up to `timeout` seconds for the poll in progress (its after-poll steps included),
        then cancels it, and returns once it has ended, so that nothing it does outlives its database. A poll
        cancelled while fetching has written nothing (its transaction is not begun until the fetch is whole)."""
        task = self.in_progress
        if task is None:
            return
        if timeout > 0:
            await asyncio.wait([task], timeout=timeout)
        if not task.done():
            task.cancel()
            await asyncio.wait([task])

    async def wait_idle(self) -> None:
        """Return once no poll is running (its after-poll steps included)."""
        task = self._current
        if task is not None and not task.done():
            await asyncio.wait([task])

    async def _after(self, outcome: PollOutcome) -> None:
        for callback in self.after_poll:
            try:
                await callback(outcome)
            except Exception:  # a listener's bug must not stop polling
                log.exception("A poll listener failed")


# After a failed poll the next comes sooner than the interval, to notice a healed feed quickly, but backs
# off: 1 s, 2 s, 4 s... and never more often than that, up to the poll interval itself.
FIRST_RETRY_SECONDS = 1.0


def next_poll_delay(failures_in_a_row: int, interval_seconds: float) -> float:
    """Seconds from the end of a poll to the next: the interval after a good poll; after n failed polls in
    a row, FIRST_RETRY_SECONDS * 2**(n-1), at most the interval."""
    if failures_in_a_row <= 0:
        return interval_seconds
    return min(interval_seconds, FIRST_RETRY_SECONDS * 2 ** min(failures_in_a_row - 1, 30))
