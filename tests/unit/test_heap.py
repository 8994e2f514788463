"""bot/heap.py: frozen objects that become cyclic garbage are freed at the next reclaim."""

from __future__ import annotations

import gc
import weakref

from bot import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_a_frozen_cycle_that_becomes_garbage_is_freed_within_reclaim_every_calls() -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: reference counting alone never frees it
    alive = weakref.ref(first)
    heap.keep_long_lived()  # frozen while still in use
    del first, second
    gc.collect()
    assert alive() is not None  # frozen: the collector does not look at it
    for _ in range(heap.RECLAIM_EVERY):
        heap.keep_long_lived()
    assert alive() is None
    gc.unfreeze()
