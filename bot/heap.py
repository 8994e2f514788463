"""Long-lived objects kept out of the cyclic garbage collector's way, without leaking what becomes garbage.

`gc.freeze()` moves every tracked object into a permanent generation that collections skip (Python docs,
`gc.freeze`): after a poll (the parsed companies) or a rebuilt name index (hundreds of thousands of objects),
so the collector's passes during the next requests and fetches stay short. But an object frozen that later
becomes unreachable inside a reference cycle is never collected while it stays frozen. So every
RECLAIM_EVERY-th call unfreezes everything, runs one full collection and freezes again: what leaked since is
freed then, at the cost of one full pass (tens of milliseconds at 100,000 companies) that often.
"""

from __future__ import annotations

import gc

# Calls between full collections: at a poll every 5 minutes per practice, about every 8 hours for one practice,
# and every half a minute or so with a thousand.
RECLAIM_EVERY = 100

_calls = 0


def keep_long_lived() -> None:
    """Freeze what is tracked now (gc.freeze); every RECLAIM_EVERY-th call, collect all first (gc.unfreeze,
    gc.collect) so that frozen cycles which became garbage are freed."""
    global _calls
    _calls += 1
    if _calls % RECLAIM_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
