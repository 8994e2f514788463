"""One text form for every stored time, so that text order is time order."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import overload


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 to the second (`2026-11-30T09:00:00+00:00`), or None for None."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


@overload
def from_iso(text: str) -> datetime: ...
@overload
def from_iso(text: None) -> None: ...
@overload
def from_iso(text: str | None) -> datetime | None: ...
def from_iso(text: str | None) -> datetime | None:
    """The inverse of `iso`; None (or an empty text) for None."""
    return datetime.fromisoformat(text) if text else None
