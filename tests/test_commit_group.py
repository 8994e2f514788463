"""bot/practice/commit_group.py: polls of several workspaces stored in one SQLite transaction, each in its own
savepoint: one workspace's failure is its own, a failed commit fails them all, a cancelled poll writes nothing."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pytest

from bot.practice.commit_group import CommitGroup
from storage.records import PollRun
from storage.sqlite.db import Store

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "bot.db"))
    yield opened
    opened.close()


def poll_run(handle: Store, fail: bool = False) -> Callable[[], Callable[[], None]]:
    """A poll's stage: records a poll run in the handle's own savepoint; `fail` raises after writing it."""

    def stage() -> Callable[[], None]:
        with handle.atomic():
            handle.record_poll(PollRun(NOW, NOW, True, 1, 0, 0, None))
            if fail:
                raise RuntimeError("this workspace's writes failed")
        return lambda: finished.append(handle.workspace)

    return stage


finished: list[str] = []


def runs(handle: Store) -> int:
    return int(handle.db.execute("select count(*) from poll_runs where workspace = ?", [handle.workspace]).fetchone()[0])


async def test_one_workspaces_failure_rolls_back_its_own_writes_only(store: Store) -> None:
    finished.clear()
    one, two, three = (store.for_workspace(team) for team in ("T1", "T2", "T3"))
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    group = CommitGroup(store.atomic)
    results = await asyncio.gather(
        group.store(poll_run(one), one.forget_uncommitted),
        group.store(poll_run(two, fail=True), two.forget_uncommitted),
        group.store(poll_run(three), three.forget_uncommitted),
        return_exceptions=True,
    )
    store.db.conn.set_trace_callback(None)
    assert results[0] is None and isinstance(results[1], RuntimeError)
    assert (runs(one), runs(two), runs(three)) == (1, 0, 1)
    assert finished == ["T1", "T3"]  # only what committed is kept in memory
    assert statements.count("COMMIT") == 2  # T1 with T2's rolled-back savepoint; T3 in the next group


async def test_polls_that_finish_together_share_one_commit(store: Store) -> None:
    finished.clear()
    handles = [store.for_workspace(f"T{n}") for n in range(5)]
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    group = CommitGroup(store.atomic)
    await asyncio.gather(*(group.store(poll_run(handle), handle.forget_uncommitted) for handle in handles))
    store.db.conn.set_trace_callback(None)
    assert [runs(handle) for handle in handles] == [1] * 5
    assert statements.count("BEGIN") == 1 and statements.count("COMMIT") == 1


async def test_a_failed_commit_fails_every_poll_of_the_group_and_drops_their_caches(store: Store) -> None:
    finished.clear()
    one, two = store.for_workspace("T1"), store.for_workspace("T2")
    rolled_back: list[str] = []

    @contextmanager
    def failing_commit() -> Iterator[None]:
        with store.atomic():
            yield
            raise OSError("disk I/O error")  # as COMMIT failing would: the whole transaction rolled back

    group = CommitGroup(failing_commit)
    results = await asyncio.gather(
        group.store(poll_run(one), lambda: rolled_back.append("T1")),
        group.store(poll_run(two), lambda: rolled_back.append("T2")),
        return_exceptions=True,
    )
    assert all(isinstance(result, OSError) for result in results)
    assert (runs(one), runs(two)) == (0, 0) and finished == [] and rolled_back == ["T1", "T2"]


async def test_a_poll_cancelled_before_its_group_runs_writes_nothing(store: Store) -> None:
    finished.clear()
    one, two = store.for_workspace("T1"), store.for_workspace("T2")
    group = CommitGroup(store.atomic)
    cancelled = asyncio.ensure_future(group.store(poll_run(one), one.forget_uncommitted))
    kept = asyncio.ensure_future(group.store(poll_run(two), two.forget_uncommitted))
    await asyncio.sleep(0)  # both waiting for the group
    cancelled.cancel()
    await kept
    assert cancelled.cancelled() and (runs(one), runs(two)) == (0, 1) and finished == ["T2"]


async def test_a_transaction_that_cannot_begin_fails_the_group_rather_than_leave_it_waiting(store: Store) -> None:
    one = store.for_workspace("T1")

    @contextmanager
    def cannot_begin() -> Iterator[None]:
        raise OSError("database is locked")
        yield

    group = CommitGroup(cannot_begin)
    with pytest.raises(OSError, match="locked"):
        await asyncio.wait_for(group.store(poll_run(one), one.forget_uncommitted), 5)
    assert runs(one) == 0
