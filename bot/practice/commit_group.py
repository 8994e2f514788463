"""Group commit: the polls of many workspaces on one SQLite database that finish fetching in the same turn of
the event loop are stored in one transaction, each in a savepoint of its own."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger(__name__)

# Polls stored in one transaction at most: it holds the database's write lock for their writes only (about
# 0.1-0.3 ms each, bench/bench_workspaces.py), so a few milliseconds.
MAX_GROUP = 64

# A poll's writes (run inside the group's transaction, in its own savepoint): returns what to do once the
# transaction has committed (keep what was stored in memory).
Stage = Callable[[], Callable[[], None]]


@dataclass(slots=True)
class _Member:
    stage: Stage
    rolled_back: Callable[[], None]
    future: asyncio.Future[None]
    finish: Callable[[], None] = field(default=lambda: None)


class CommitGroup:
    """Stores polls in groups: one commit (one write of the WAL, one lock taken) for the workspaces whose
    fetch finished together, instead of one each; at 1,000 workspaces polled at once, the commits were about a
    tenth of a round.

    Other connections to the same file (slack_sdk's installation store) never wait on it while this process
    does something else: the transaction is begun and committed inside one call from the event loop, with no
    await between, so nothing else of this process runs while it holds the write lock, for MAX_GROUP polls'
    writes at most. Isolation: a poll whose writes raise is rolled back to its savepoint alone (Store.atomic,
    nested) and fails; the others commit. A failed commit fails every poll of the group: each one's
    `rolled_back` is called (its store's caches) and each records its failed poll on its own afterwards."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[None]]) -> None:
        """`transaction`: the database's outermost transaction (Store.atomic of the shared database)."""
        self._transaction = transaction
        self._waiting: list[_Member] = []

    async def store(self, stage: Stage, rolled_back: Callable[[], None]) -> None:
        """Runs `stage` in the next group's transaction and returns once that has committed; raises what
        `stage` raised, or the commit's error. Cancelled before its group runs: nothing of it is written."""
        loop = asyncio.get_running_loop()
        member = _Member(stage, rolled_back, loop.create_future())
        self._waiting.append(member)
        if len(self._waiting) == 1:
            loop.call_soon(self._flush)
        await member.future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        for start in range(0, len(waiting), MAX_GROUP):
            self._commit([member for member in waiting[start : start + MAX_GROUP] if not member.future.cancelled()])

    def _commit(self, members: list[_Member]) -> None:
        staged: list[_Member] = []
        later: list[_Member] = []
        try:
            with self._transaction():
                for index, member in enumerate(members):
                    try:
                        member.finish = member.stage()
                    except Exception as exc:  # rolled back to its own savepoint
                        member.future.set_exception(exc)
                        # The error may have ended the whole transaction (SQLite does on some I/O errors): the
                        # polls after it wait for the next group rather than run outside one.
                        later = members[index + 1 :]
                        self._requeue(later)
                        break
                    staged.append(member)
        except Exception as exc:  # the commit failed (or the transaction could not begin): none of it stands
            log.warning("A group of %d polls could not be committed: %s", len(staged), exc)
            for member in staged:
                member.rolled_back()
            for member in members:
                if member not in later and not member.future.done():
                    member.future.set_exception(exc)
            return
        for member in staged:
            member.finish()
            member.future.set_result(None)

    def _requeue(self, members: list[_Member]) -> None:
        if not members:
            return
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)
        self._waiting[:0] = members
