"""The own-words search on the sixth check (tests/helpcentre_own_words_check5.json), written apart from
the matcher and measured held out, then tuned on in round 7, and on the kinds of misses that round
fixed: everyday words the articles say otherwise, and which package an article is for (docs/helpcentre.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.helpcentre.matching import HelpCentre

CHECK5_FILE = Path(__file__).with_name("helpcentre_own_words_check5.json")
CHECK5: list[dict[str, Any]] = json.loads(CHECK5_FILE.read_text(encoding="utf-8"))["cases"]
# Its top-1 as last measured (210/222), give or take two texts: a floor against regressions. Measured
# held out at 88.3 % (196/222) before its misses were listed; tuned on since: no longer clean.
CHECK5_TOP1_FLOOR = 0.936
CHECK5_UNRELATED = [c for c in CHECK5 if c["expect"] == "general"]


@pytest.fixture(scope="module")
def hc() -> HelpCentre:
    return HelpCentre.load()


def _top(hc: HelpCentre, text: str) -> tuple[str, str]:
    top = hc.search(text)[0]
    return top.article.id, top.how


def test_the_sixth_check_meets_its_floor(hc: HelpCentre) -> None:
    labelled = [c for c in CHECK5 if c["expect"] != "general"]
    right = sum(1 for c in labelled if (top := hc.search(c["text"])[0]).specific and top.article.id == c["expect"])
    assert right / len(labelled) >= CHECK5_TOP1_FLOOR, f"{right}/{len(labelled)}"


@pytest.mark.parametrize("case", CHECK5_UNRELATED, ids=lambda c: c["text"][:50])
def test_an_office_text_of_the_sixth_check_gets_no_specific_article(hc: HelpCentre, case: dict[str, Any]) -> None:
    results = hc.search(case["text"])
    assert [(r.how, r.article.id) for r in results] == [("general", hc.general("publication").id)]


def test_every_article_has_at_least_ten_usual_questions(hc: HelpCentre) -> None:
    assert min(len(a.asked_as) for a in hc.articles) >= 10


def test_months_and_seasons_are_talk_around_a_question(hc: HelpCentre) -> None:
    own = hc._own
    assert own._terms("since the summer".split()) == own._terms("in december".split()) == []


def test_a_guide_is_not_a_guid(hc: HelpCentre) -> None:
    # Snowball reads "guide" as "guid": the Xero GUID error is not a getting-started guide.
    own = hc._own
    assert own._vocabulary.stem("guide") != own._vocabulary.stem("guid")
    assert _top(hc, "getting started guide for integrated companies") == ("1312997", "own words")


def test_the_object_between_a_verb_and_working_is_still_a_failure(hc: HelpCentre) -> None:
    # "isn't * working": a gap for the thing that fails ("why isn't auto publish working").
    assert {t.word for t in hc._own._terms("isnt autopublish working".split())} >= {"fail", "auto", "publish"}


def test_a_colleague_who_left_is_one_thing_asked(hc: HelpCentre) -> None:
    own = hc._own
    words = {t.word for t in own._terms("shes left the practice".split())}
    assert "leaver" in words and "left" not in words
    assert _top(hc, "the billing user left the firm, who takes over") == ("8943377", "own words")


def test_at_equal_words_a_text_naming_no_package_prefers_the_article_for_all(hc: HelpCentre) -> None:
    # Account Settings (all packages) and Sage 50 bundle subscriptions (Sage 50) both have credits and
    # subscription; a text that names no package is about the first, one naming Sage 50 the second.
    assert _top(hc, "where can we see the credit balance and subscription") == ("1312960", "own words")
    assert _top(hc, "sage 50 bundle credit balance and subscription") == ("12130556", "own words")


@pytest.mark.parametrize(
    "text",
    [
        "can autoentry do this on its own",  # "on its own" is not automatic publishing
        "client's business plan needs updating",  # a plan is not AutoEntry's subscription
        "the guide for new starters",  # a guide is not an overview article
        "what plan are we on for microsoft 365",
    ],
)
def test_this_rounds_words_do_not_give_office_texts_an_article(hc: HelpCentre, text: str) -> None:
    assert [(r.how, r.article.id) for r in hc.search(text)] == [("general", hc.general("publication").id)]
