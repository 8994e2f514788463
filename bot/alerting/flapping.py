"""Flapping: a problem that comes back soon after it cleared. Pure decisions over an incident's times.

Source: SPEC.md "Flapping" and the `FLAP_WINDOW_SECONDS` setting (default 3600 s). A problem back within the
window after it cleared reopens its own alert (updated in place) instead of posting a new one; each such
return is a *flap*. `FLAPS_TO_MARK` flaps within the window mark the incident flapping (shown in its
message); a whole window with no change at all (no flap, no clearing) clears the mark, so with the default
window "a stable hour" clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

FLAPS_TO_MARK = 3


def reopens(resolved_at: datetime | None, now: datetime, window: timedelta) -> bool:
    """Does a problem seen again at `now` reopen the incident that cleared at `resolved_at`?

    Only a cleared incident can reopen, and only within the window (a window of 0 turns flap handling off)."""
    return resolved_at is not None and window > timedelta(0) and timedelta(0) <= now - resolved_at <= window


@dataclass(frozen=True, slots=True)
class FlapState:
    """An incident's recent returns (instants, oldest first, all within the window) and its mark."""

    flaps: tuple[datetime, ...] = ()
    flapping: bool = False


def after_flap(state: FlapState, now: datetime, window: timedelta) -> FlapState:
    """The state once the incident came back at `now`: returns older than the window are forgotten."""
    recent = tuple(t for t in state.flaps if now - t <= window) + (now,)
    return FlapState(recent, state.flapping or len(recent) >= FLAPS_TO_MARK)


def last_change(flaps: Sequence[datetime], resolved_at: datetime | None) -> datetime | None:
    """The latest return or clearing: when the incident last changed between present and cleared."""
    moments = [*flaps, *([resolved_at] if resolved_at else [])]
    return max(moments) if moments else None


def mark_clears(state: FlapState, resolved_at: datetime | None, now: datetime, window: timedelta) -> bool:
    """True when a flapping incident has been stable (no return, no clearing) for a whole window."""
    if not state.flapping:
        return False
    changed = last_change(state.flaps, resolved_at)
    return changed is None or now - changed >= window
