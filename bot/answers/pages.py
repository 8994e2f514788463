"""Paging through `list` / `list errors`: which companies a page shows, and the Previous / Next buttons'
values. Pure: data in, data out.

A page is anchored on a company, not on a count: Next shows what sorts after the last company shown,
Previous the page before the first. When companies join or leave the list between two presses (one fixed,
another turning to error), the companies still to come are neither skipped nor shown again, as they would
be with an offset; a company that moves in the order (renamed, or its state changed) shows where it sorts
now, and one that joins before the page is on the pages before it. The sort key ends with the company's id,
so two companies of the same name keep their places.

Pages are cut by OVERVIEW_LINES rows and by the message's text budget, so they are not all the same length;
Previous finds the page before by cutting the list into pages from its start, as Next does, so it shows
the very page Next had shown.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

# Characters of a casefolded name kept in a page key: a button's value holds at most 2,000 characters
# (docs.slack.dev/reference/block-kit/block-elements/button-element), and the sort uses the same key.
KEY_NAME_CHARS = 150
# A company id longer than this is not one (bot/practice/models.py MAX_ID_LENGTH is smaller).
KEY_ID_CHARS = 200

PageKey = tuple[int, str, str]  # (attention rank, casefolded name cut to KEY_NAME_CHARS, company id)


@dataclass(frozen=True, slots=True)
class PageAt:
    """Where a page starts: the first (`key` None), or just after / just before a company's key."""

    errors_only: bool
    direction: Literal["after", "before"] = "after"
    key: PageKey | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """The rows a page shows: `first`..`first + len(rows) - 1` of `total` (0-based)."""

    first: int
    rows: list[str]
    total: int


def window(keys: Sequence[PageKey], render: Callable[[int], str], at: PageAt, lines: int, room: int) -> Window:
    """The page `at` of a list whose sorted keys are `keys`: at most `lines` rows, as many as fit in `room`
    characters (one row at least, so paging always moves). A key past either end (the list shrank since
    the button was drawn) gives the first page."""
    total = len(keys)
    if at.key is not None and at.direction == "before":
        end = bisect_left(keys, at.key)
        if end > 0:
            start = 0  # the start of the last page, cut from the list's start, that begins before `end`
            while (after := start + len(_fill(range(start, end), render, lines, room))) < end:
                start = after
            return Window(start, _fill(range(start, end), render, lines, room), total)
    start = bisect_right(keys, at.key) if at.key is not None and at.direction == "after" else 0
    start = start if start < total else 0
    return Window(start, _fill(range(start, total), render, lines, room), total)


def _fill(indices: range, render: Callable[[int], str], lines: int, room: int) -> list[str]:
    """The rows of `indices`, in their order, while at most `lines` and within `room` characters (one at least)."""
    rows: list[str] = []
    for index in indices[:lines]:
        row = render(index)
        if rows and room - len(row) - 1 < 0:
            break
        rows.append(row)
        room -= len(row) + 1
    return rows


def page_value(errors_only: bool, direction: str, key: PageKey) -> str:
    """A Previous / Next button's value: the list it pages and the company it pages from (JSON)."""
    return json.dumps(["errors" if errors_only else "all", direction, *key], ensure_ascii=False, separators=(",", ":"))


def read_page_value(value: object) -> PageAt | None:
    """A page button's value read back, or None for anything else (values are untrusted: Slack returns
    what the presser's client sent). The key only places the page in the presser's own workspace's list."""
    if not isinstance(value, str) or len(value) > 2_000:
        return None
    try:
        parts = json.loads(value)
    except (ValueError, RecursionError):  # RecursionError: "[[[[...]]]]" nested past Python's limit
        return None
    if not isinstance(parts, list) or len(parts) != 5:
        return None
    kind, direction, rank, name, company_id = parts
    if kind not in ("all", "errors") or direction not in ("after", "before"):
        return None
    if type(rank) is not int or not 0 <= rank <= 9 or not isinstance(name, str) or not isinstance(company_id, str):
        return None
    if len(name) > KEY_NAME_CHARS or len(company_id) > KEY_ID_CHARS:
        return None
    return PageAt(kind == "errors", direction, (rank, name, company_id))
