"""Which companies share a computer: the Desktop Sync App's location, as the feed gives it. Pure.

Source: SPEC.md, "The status feed" (`sync_app.location`) and "One computer, one alert". A location is a
Windows computer name, which Windows compares without regard to case; one with no name is unknown, and
companies whose location is unknown are never taken to share a computer.
"""

from __future__ import annotations

from typing import Iterable


def location_key(location: str | None) -> str | None:
    """The computer a location names, for comparing (trimmed, case-folded); None when it is unknown."""
    if location is None:
        return None
    key = " ".join(location.split()).casefold()
    return key or None


def sharing(companies: Iterable[tuple[str, str, str | None]]) -> dict[str, list[str]]:
    """(company id, name, Sync App location) -> company id -> the names of the other companies whose Sync App
    is on the same computer, sorted by name; companies alone on theirs (or with no known location) are left out."""
    by_key: dict[str, list[tuple[str, str]]] = {}
    for company_id, name, location in companies:
        key = location_key(location)
        if key is not None:
            by_key.setdefault(key, []).append((company_id, name))
    found: dict[str, list[str]] = {}
    for members in by_key.values():
        if len(members) < 2:
            continue
        for company_id, _ in members:
            found[company_id] = sorted((n for i, n in members if i != company_id), key=str.casefold)
    return found
