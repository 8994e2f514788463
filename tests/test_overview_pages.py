"""`list` and `list errors` over more companies than one message holds: Previous / Next buttons page
through them in place, every company once."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest

from bot.answers.overview import OVERVIEW_LINES, OverviewLine, overview_page_request, practice_overview
from bot.practice.models import IntegrationStatus
from tests.blockkit import all_text, buttons
from tests.conftest import Bot, FakeClock
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.practice import UNPERMITTED, company

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
BROKEN = 95


def lines(errors: int, fine: int) -> list[OverviewLine]:
    return [OverviewLine(f"Err {i:03d}", IntegrationStatus.ERROR, NOW, None) for i in range(errors)] + [
        OverviewLine(f"Fine {i:03d}", IntegrationStatus.INTEGRATED, None, None) for i in range(fine)
    ]


def page(start: int, errors_only: bool = True, count: int = BROKEN) -> dict[str, Any]:
    message = practice_overview(
        lines(count, 30), errors_only=errors_only, checked_at=NOW, feed_problem=None, now=NOW, start=start
    )
    return {"text": message.text, "blocks": message.blocks}


def test_a_long_list_shows_a_page_and_a_next_button() -> None:
    first = page(0)
    text = all_text(first)
    assert f"Showing 1–{OVERVIEW_LINES} of {BROKEN}." in text
    assert "Err 000" in text and f"Err {OVERVIEW_LINES - 1:03d}" in text and f"Err {OVERVIEW_LINES:03d}" not in text
    assert [(b["text"]["text"], b["value"]) for b in buttons(first)] == [(f"Next {OVERVIEW_LINES}", f"errors:{OVERVIEW_LINES}")]
    last = page(80)
    assert "Showing 81–95 of 95." in all_text(last)
    assert [(b["text"]["text"], b["value"]) for b in buttons(last)] == [("Previous", "errors:40")]


def test_a_short_list_has_no_buttons_and_a_start_past_the_end_shows_the_first_page() -> None:
    assert buttons(page(0, count=5)) == [] and "Showing" not in all_text(page(0, count=5))
    assert "Showing 1–40 of 95." in all_text(page(500))
    assert [b["value"] for b in buttons(page(0, errors_only=False))] == ["all:40"]  # the whole list pages too


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("errors:40", (True, 40)),
        ("all:0", (False, 0)),
        ("errors:-1", None),
        ("errors:١٢", None),
        ("errors:1234567", None),
        ("T0OTHER:c_1", None),
        ("errors", None),
        (40, None),
        (None, None),
    ],
)
def test_page_values_are_read_strictly(value: object, expected: tuple[bool, int] | None) -> None:
    assert overview_page_request(value) == expected


async def walk(bot: Bot, slack: FakeSlack, answer: dict[str, Any], user: tuple[str, str, str]) -> list[dict[str, Any]]:
    """Presses Next until there is none; every page seen, the first included."""
    pages = [answer]
    while nexts := [b for b in buttons(pages[-1]) if b["action_id"].endswith(":next")]:
        response = await bot.click(nexts[0]["action_id"], nexts[0]["value"], user=user)
        assert response.status == 200
        call = (await slack.wait_for_responses(len(pages)))[len(pages) - 1]
        assert call.args["replace_original"] is True and call.args["response_type"] == "ephemeral"
        pages.append(call.args)
    return pages


async def test_pressing_next_pages_through_every_company_once(
    bot: Bot, slack: FakeSlack, feed: FakeFeed, clock: FakeClock
) -> None:
    broken = [
        company(
            f"z_{i}", f"Zeta Co {i:03d}", integration_status="error", error={"kind": "publication", "message": "Token Required"}
        )
        for i in range(BROKEN)
    ]
    feed.companies = feed.companies + broken
    clock.advance(seconds=60)
    assert (await bot.poll()).ok
    answer = await bot.slash("list errors", user=UNPERMITTED)
    pages = await walk(bot, slack, answer, UNPERMITTED)
    listed = [name for p in pages for name in re.findall(r"\*(Zeta Co \d{3})\*", all_text(p))]
    assert sorted(listed) == [f"Zeta Co {i:03d}" for i in range(BROKEN)]  # every one, none twice
    assert len(pages) >= 3
    shown = [re.search(r"Showing (\d+)–(\d+) of (\d+)", all_text(p)) for p in pages]
    assert all(m is not None for m in shown)
    assert [int(m.group(1)) for m in shown if m] == [1] + [int(m.group(2)) + 1 for m in shown[:-1] if m]
    assert "JOHN-LAPTOP" not in "".join(all_text(p) for p in pages)  # no Sync App details without the permission


async def test_an_unreadable_page_button_changes_nothing(bot: Bot, slack: FakeSlack) -> None:
    response = await bot.click("overview_page:next", "T0OTHER:999")
    assert response.status == 200
    call = (await slack.wait_for_responses(1))[0]
    assert "could not read that button" in all_text(call.args)
