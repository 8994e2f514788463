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
