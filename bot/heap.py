"""Long-lived objects kept out of the cyclic garbage collector's way, without leaking what becomes garbage.

`gc.freeze()` moves every tracked object into a permanent generation that collections skip (Python docs,
`gc.freeze`): after a poll (the parsed companies) or a rebuilt name index (hundreds of thousands of objects),
so the collector's passes during the next requests and fetches stay short. But an object frozen that later
becomes unreachable inside a reference cycle is never collected while it stays frozen. So at most once every
RECLAIM_SECONDS a call unfreezes everything, runs one full collection and freezes again: what leaked since is
freed then, at the cost of one full pass (tens to hundreds of milliseconds with a large practice) that often,
however many workspaces' polls call this.
"""

from __future__ import annotations

import gc
import time

# The longest a frozen cycle that became garbage is kept, in seconds.
RECLAIM_SECONDS = 600.0

_last_reclaim = time.monotonic()


def keep_long_lived() -> None:
    """Freeze what is tracked now (gc.freeze); once RECLAIM_SECONDS have passed since the last full collection,
    collect all first (gc.unfreeze, gc.collect) so that frozen cycles which became garbage are freed."""
    global _last_reclaim
    now = time.monotonic()
    if now - _last_reclaim >= RECLAIM_SECONDS:
        _last_reclaim = now
        gc.unfreeze()
        gc.collect()
    gc.freeze()


# Gen-0 passes between two passes over generation 1 in a process polling many workspaces (CPython's default: 10).
MANY_POLLS_GEN1_EVERY = 20


def for_many_polls() -> None:
    """Pass over generation 1 half as often as CPython's default (gc.set_threshold's second value, 10 -> 20).
    A thousand polls in flight keep their requests, tasks and timers alive across their awaits: they survive
    the gen-0 passes and each gen-1 pass scans them again (3-8 ms each), and ten of those set off a full one,
    though reference counting frees them all when their polls end (a steady round makes no cyclic garbage).
    Measured with bench/bench_workspaces.py: a round's collector time 0.15-0.26 -> 0.09-0.12 s, no full pass,
    the same peak memory. Young objects (gen-0, 700) are collected as before."""
    first, _, third = gc.get_threshold()
    gc.set_threshold(first, MANY_POLLS_GEN1_EVERY, third)
