"""bot/heap.py: frozen objects that become cyclic garbage are freed at the next reclaim."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from typing import Iterator

import pytest

from bot import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_a_frozen_cycle_that_becomes_garbage_is_freed_at_the_next_reclaim(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: reference counting alone never frees it
    alive = weakref.ref(first)
    monkeypatch.setattr(heap, "_last_reclaim", time.monotonic())
    heap.keep_long_lived()  # frozen while still in use
    del first, second
    gc.collect()
    assert alive() is not None  # frozen: the collector does not look at it
    heap.keep_long_lived()
    assert alive() is not None  # not yet RECLAIM_SECONDS since the last full collection
    monkeypatch.setattr(heap, "_last_reclaim", heap._last_reclaim - heap.RECLAIM_SECONDS)
    heap.keep_long_lived()
    assert alive() is None
    gc.unfreeze()


def test_many_polls_pass_over_generation_one_half_as_often() -> None:
    before = gc.get_threshold()
    try:
        heap.for_many_polls()
        assert gc.get_threshold() == (before[0], heap.MANY_POLLS_GEN1_EVERY, before[2])
    finally:
        gc.set_threshold(*before)


@pytest.fixture
def no_polls() -> Iterator[None]:
    assert heap._in_flight == 0 and gc.isenabled()
    yield
    while heap._in_flight:
        heap.poll_ended()
    heap.resume_if_due()
    assert gc.isenabled()
    gc.unfreeze()


async def test_a_burst_of_polls_has_the_collector_wait_and_its_end_frees_what_became_garbage(no_polls: None) -> None:
    for _ in range(heap.BURST_POLLS - 1):
        heap.poll_started()
    assert gc.isenabled()  # a few polls at once: the collector runs as usual
    heap.poll_started()
    assert not gc.isenabled() and heap.collector_waiting()
    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    frozen = gc.get_freeze_count()
    heap.keep_long_lived()  # a poll ends well during the burst: nothing is frozen, the garbage-to-be included
    assert gc.get_freeze_count() == frozen
    del first, second
    while heap._in_flight > heap.BURST_POLLS // 4 + 1:
        heap.poll_ended()
    assert not gc.isenabled() and alive() is not None  # still a burst
    heap.poll_ended()
    assert gc.isenabled() and not heap.collector_waiting()
    assert alive() is None  # the pass at the burst's end freed the cycle


async def test_the_collector_waits_no_longer_than_its_limit_however_long_the_polls_hang(
    no_polls: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heap, "MAX_PAUSE_SECONDS", 0.05)
    for _ in range(heap.BURST_POLLS):
        heap.poll_started()
    assert not gc.isenabled()
    await asyncio.sleep(0.1)  # no poll ends: the timer set at the pause ends it
    assert gc.isenabled() and heap._in_flight == heap.BURST_POLLS


async def test_what_polls_in_flight_hold_when_the_wait_ends_is_not_frozen(no_polls: None) -> None:
    # A failing poll holds its exception (a cycle through its traceback) across its retries: garbage only later.
    for _ in range(heap.BURST_POLLS):
        heap.poll_started()
    assert not gc.isenabled()
    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    held = [first]
    del first, second
    while heap.collector_waiting():
        heap.poll_ended()
    assert gc.isenabled() and alive() is not None  # still held by a poll in flight
    held.clear()  # that poll ends: now garbage
    gc.collect()
    assert alive() is None  # collected, not frozen


def test_a_wait_left_by_a_closed_loop_ends_with_the_next_poll_on_another(no_polls: None) -> None:
    async def burst() -> None:
        for _ in range(heap.BURST_POLLS):
            heap.poll_started()

    old = asyncio.new_event_loop()
    old.run_until_complete(burst())
    old.close()  # its polls never ended
    assert not gc.isenabled() and heap._in_flight == heap.BURST_POLLS

    async def one_poll() -> None:
        heap.poll_started()
        assert gc.isenabled() and heap._in_flight == 1
        heap.poll_ended()

    asyncio.run(one_poll())
    assert gc.isenabled() and heap._in_flight == 0
