"""Long-lived objects kept out of the cyclic garbage collector's way, without leaking what becomes garbage.

`gc.freeze()` moves every tracked object into a permanent generation that collections skip (Python docs,
`gc.freeze`): after a poll (the parsed companies) or a rebuilt name index (hundreds of thousands of objects),
so the collector's passes during the next requests and fetches stay short. But an object frozen that later
becomes unreachable inside a reference cycle is never collected while it stays frozen. So at most once every
RECLAIM_SECONDS a call unfreezes everything, runs one full collection and freezes again: what leaked since is
freed then, at the cost of one full pass (tens to hundreds of milliseconds with a large practice) that often,
however many workspaces' polls call this.

And while a burst of polls is in flight (BURST_POLLS at once), the collector waits until it is over: its passes
would scan the polls' objects, alive until each poll ends, again and again (`poll_started`).
"""

from __future__ import annotations

import asyncio
import gc
import time

# The longest a frozen cycle that became garbage is kept, in seconds.
RECLAIM_SECONDS = 600.0

_last_reclaim = time.monotonic()


def keep_long_lived() -> None:
    """Freeze what is tracked now (gc.freeze); once RECLAIM_SECONDS have passed since the last full collection,
    collect all first (gc.unfreeze, gc.collect) so that frozen cycles which became garbage are freed. Nothing
    while a burst of polls has the collector wait (`poll_started`)."""
    global _last_reclaim
    if _paused_at is not None:
        return  # nothing is frozen while the collector waits: the pass at the burst's end sees it all
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


# Polls in flight at once from which the collector waits for them (a burst: the start of a many-workspace
# process, or every workspace polled together). A process polls a workspace at a time otherwise.
BURST_POLLS = 32
# The longest the collector waits during a burst, in seconds: past it, it runs (and the burst may pause it again).
MAX_PAUSE_SECONDS = 1.0

_in_flight = 0
_paused_at: float | None = None
# The event loop the polls counted run on: a poll on another one (the first loop closed with polls never
# ended, as a test's may be) starts the count anew and ends a wait left over from it.
_loop: asyncio.AbstractEventLoop | None = None


def poll_started() -> None:
    """A poll begins (the Poller calls this, then `poll_ended` however it ends). From BURST_POLLS in flight on,
    the cyclic collector waits (gc.disable) until the burst is over, or MAX_PAUSE_SECONDS.

    Why: a thousand polls in flight hold their requests, tasks, timers and pages across their awaits; the
    collector's passes during the burst scan all of that again and again, and free nothing: it is freed by
    reference counting when each poll ends (a steady round makes no cyclic garbage: gc.DEBUG_SAVEALL over the
    rounds of bench/bench_workspaces.py collects nothing). Measured there: 131-136 passes and 0.06-0.15 s of a
    0.55-0.7 s round, against 11-13 and 0.02-0.05 s. Nothing is frozen while the collector waits nor by its
    end, so its pass at the end frees whatever did become cyclic garbage (failing polls' exceptions, say), and
    later ones free what becomes garbage after."""
    global _in_flight, _paused_at, _loop
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not _loop:
        _loop, _in_flight = loop, 0
        _resume()
    _in_flight += 1
    if loop is not None and _paused_at is None and _in_flight >= BURST_POLLS and gc.isenabled():
        gc.disable()
        _paused_at = time.monotonic()
        # However the burst goes (polls hanging until their deadline), the collector runs again in time.
        loop.call_later(MAX_PAUSE_SECONDS, resume_if_due)
    else:
        resume_if_due()


def poll_ended() -> None:
    """A poll has ended (done, failed or cancelled): see `poll_started`."""
    global _in_flight
    _in_flight = max(_in_flight - 1, 0)
    resume_if_due()


def resume_if_due() -> None:
    """Ends the collector's wait once at most a quarter of BURST_POLLS are in flight or it has waited
    MAX_PAUSE_SECONDS."""
    if _paused_at is not None and (_in_flight <= BURST_POLLS // 4 or time.monotonic() - _paused_at >= MAX_PAUSE_SECONDS):
        _resume()


def _resume() -> None:
    """The collector runs again, with one pass over the young generations now (what became cyclic garbage
    during the wait is freed). Nothing is frozen here: what polls still in flight hold may yet become garbage."""
    global _paused_at
    if _paused_at is None:
        return
    _paused_at = None
    gc.enable()
    gc.collect(1)


def collector_waiting() -> bool:
    """True while a burst of polls has the collector wait."""
    return _paused_at is not None
