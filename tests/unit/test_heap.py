"""bot/heap.py: frozen objects that become cyclic garbage are freed at the next reclaim."""

from __future__ import annotations

import gc
import time
import weakref

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
