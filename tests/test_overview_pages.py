"""`list` and `list errors` over more companies than one message holds: Previous / Next buttons page
through them in place, every company once."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from typing import Any

import pytest

from bot.answers.overview import OVERVIEW_LINES, OverviewLine, practice_overview
from bot.answers.pages import PageAt, read_page_value
from bot.practice.models import IntegrationStatus
from bot.slack.actions import OVERVIEW_PAGE_ACTION
from tests.blockkit import all_text, buttons
from tests.conftest import Bot, FakeClock
from tests.fakes.feed_server import FakeFeed
from tests.fakes.slack_api import FakeSlack
from tests.practice import UNPERMITTED, company

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
BROKEN = 95


def lines(errors: int, fine: int, name: str = "Err {i:03d}") -> list[OverviewLine]:
    return [OverviewLine(name.format(i=i), IntegrationStatus.ERROR, NOW, None, f"e{i}") for i in range(errors)] + [
        OverviewLine(f"Fine {i:03d}", IntegrationStatus.INTEGRATED, None, None, f"f{i}") for i in range(fine)
    ]


def render(rows: list[OverviewLine], at: PageAt | None = None, errors_only: bool = True) -> dict[str, Any]:
    message = practice_overview(rows, errors_only=errors_only, checked_at=NOW, feed_problem=None, now=NOW, at=at)
    return {"text": message.text, "blocks": message.blocks}


def press(answer: dict[str, Any], which: str) -> PageAt | None:
    found = [b for b in buttons(answer) if b["action_id"] == f"{OVERVIEW_PAGE_ACTION}:{which}"]
    return read_page_value(found[0]["value"]) if found else None


def names(answer: dict[str, Any]) -> list[str]:
    return re.findall(r"\*(Err \d{3})\*", all_text(answer))


def test_a_long_list_shows_a_page_and_a_next_button() -> None:
    first = render(lines(BROKEN, 30))
    assert f"Showing 1–{OVERVIEW_LINES} of {BROKEN}." in all_text(first)
    assert names(first) == [f"Err {i:03d}" for i in range(OVERVIEW_LINES)]
    assert [b["text"]["text"] for b in buttons(first)] == ["Next"]
    last = render(lines(BROKEN, 30), press(render(lines(BROKEN, 30), press(first, "next")), "next"))
    assert "Showing 81–95 of 95." in all_text(last) and names(last)[0] == "Err 080"
    assert [b["text"]["text"] for b in buttons(last)] == ["Previous"]


def test_a_short_list_has_no_buttons_and_a_place_past_the_end_shows_the_first_page() -> None:
    assert buttons(render(lines(5, 30))) == [] and "Showing" not in all_text(render(lines(5, 30)))
    past = PageAt(True, "after", (9, "zzz", "zzz"))
    assert "Showing 1–40 of 95." in all_text(render(lines(BROKEN, 30), past))
    assert press(render(lines(BROKEN, 30), errors_only=False), "next") == PageAt(False, "after", (0, "err 039", "e39"))


def test_a_company_fixed_or_broken_between_presses_is_neither_lost_nor_shown_twice() -> None:
    rows = lines(BROKEN, 30)
    first = render(rows)
    rows[5] = OverviewLine("Err 005", IntegrationStatus.INTEGRATED, None, None, "e5")  # fixed after page 1 was drawn
    second = render(rows, press(first, "next"))
    assert names(second)[0] == "Err 040"  # an offset would have skipped it
    rows.append(OverviewLine("Err 100", IntegrationStatus.ERROR, NOW, None, "e100"))
    rows.append(OverviewLine("Err 001", IntegrationStatus.ERROR, NOW, None, "e1b"))  # same name, sorts on
    third = render(rows, press(second, "next"))
    assert names(third)[0] == "Err 080" and names(third)[-1] == "Err 100"
    seen = names(first) + names(second) + names(third)
    assert len(set(seen) - {"Err 005"}) == len(seen) - 1  # nobody twice
    assert {f"Err {i:03d}" for i in range(BROKEN)} <= set(seen)  # nobody lost


def test_previous_goes_back_to_the_page_before_when_long_names_cut_pages_short() -> None:
    rows = lines(120, 0, name="Company {i:03d} " + "Holdings & Partners (Northern Region) " * 6)
    pages = [render(rows)]
    while (after := press(pages[-1], "next")) is not None:
        pages.append(render(rows, after))
    firsts = [re.search(r"Showing (\d+)–(\d+)", all_text(p)) for p in pages]
    assert len(pages) > 3 and all(m for m in firsts)
    assert [int(m.group(1)) for m in firsts if m][1:] == [int(m.group(2)) + 1 for m in firsts if m][:-1]
    for before, page in zip(pages, pages[1:]):
        back = press(page, "previous")
        assert back is not None and all_text(render(rows, back)) == all_text(before)


@pytest.mark.parametrize(
    "value",
    [
        '["errors","after",0,"a"]',
        '["T0OTHER","after",0,"a","b"]',
        '["errors","sideways",0,"a","b"]',
        '["errors","after",true,"a","b"]',
        '["errors","after",-1,"a","b"]',
        '["errors","after",0,"' + "a" * 151 + '","b"]',
        "errors:40",
        "",
        "[",
        40,
        None,
    ],
)
def test_page_values_are_read_strictly(value: object) -> None:
    assert read_page_value(value) is None


def test_previous_shows_the_very_page_next_showed_when_pages_differ_in_length() -> None:
    rows = lines(40, 0, name="A{i:02d}") + lines(30, 0, name="B{i:02d} " + "x" * 280)
    rows = [OverviewLine(line.name, line.home_status, line.since, None, f"id{n}") for n, line in enumerate(rows)]
    pages = [render(rows)]
    while (after := press(pages[-1], "next")) is not None:
        pages.append(render(rows, after))
    assert len({len(re.findall(r"\*[AB]\d\d", all_text(p))) for p in pages}) > 1  # pages of different lengths
    for before, page in zip(pages, pages[1:]):
        back = press(page, "previous")
        assert back is not None and all_text(render(rows, back)) == all_text(before)


def test_a_value_nested_past_the_recursion_limit_is_refused() -> None:
    # A listener runs deep in Bolt's stack: 1,000 brackets (2,000 characters) exceed what is left of it there.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        assert read_page_value("[" * 1000 + "]" * 1000) is None
    finally:
        sys.setrecursionlimit(limit)


def test_a_page_value_reads_back() -> None:
    value = '["all","before",2,"acme ltd","c_1"]'
    assert read_page_value(value) == PageAt(False, "before", (2, "acme ltd", "c_1"))


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
    response = await bot.click("overview_page:next", '["T0OTHER","after",0,"a","b"]')
    assert response.status == 200
    call = (await slack.wait_for_responses(1))[0]
    assert "could not read that button" in all_text(call.args)
