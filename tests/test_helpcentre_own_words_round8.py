"""The own-words search on the seventh and eighth checks (tests/helpcentre_own_words_check6.json and
check7.json), written apart from the matcher, measured before and after round 7, then tuned on in round 8
(check6 first, check7 held out until its figure was written down), on the round's development set of
office texts (tests/helpcentre_own_words_dev8.json), and on the kinds of leaks that round fixed: a
year end, a software update or a data repair, a package's own contacts, a word with a prefix read as a
typo (docs/helpcentre.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.helpcentre.matching import HelpCentre
from bot.helpcentre.own_words_checks import for_no_package, is_prefixed_word, says_not


def _cases(name: str) -> list[dict[str, Any]]:
    return json.loads(Path(__file__).with_name(name).read_text(encoding="utf-8"))["cases"]


CHECK6 = _cases("helpcentre_own_words_check6.json")
CHECK7 = _cases("helpcentre_own_words_check7.json")
DEV8 = _cases("helpcentre_own_words_dev8.json")
# Top-1 as last measured (check6 265/296, check7 251/296), give or take two texts: floors against
# regressions. check7 was measured held out at 244/296 before its misses were listed; both tuned on since.
FLOORS = {"check6": (CHECK6, 0.888), "check7": (CHECK7, 0.841)}
# The office texts of these sets that still get an article, each with it (docs/helpcentre.md, round 8).
# Office texts known to get an article, with why. None since the classifier turns such answers down: "how do I
# add a new nominal code to the chart of accounts in Sage 50" (a task in the package itself) got 8820241 through
# "chart of accounts", "add" and "nominal code" in its fix.
UNRELATED_GIVEN_AN_ARTICLE: dict[str, str] = {}
UNRELATED = [c for c in CHECK6 + CHECK7 + DEV8 if c["expect"] == "general" and c["text"] not in UNRELATED_GIVEN_AN_ARTICLE]


@pytest.fixture(scope="module")
def hc() -> HelpCentre:
    return HelpCentre.load()


def _general_only(hc: HelpCentre, text: str) -> bool:
    return [(r.how, r.article.id) for r in hc.search(text)] == [("general", hc.general("publication").id)]


@pytest.mark.parametrize("part", sorted(FLOORS))
def test_the_seventh_and_eighth_checks_meet_their_floors(hc: HelpCentre, part: str) -> None:
    cases, floor = FLOORS[part]
    labelled = [c for c in cases if c["expect"] != "general"]
    right = sum(1 for c in labelled if (top := hc.search(c["text"])[0]).specific and top.article.id == c["expect"])
    assert right / len(labelled) >= floor, f"{right}/{len(labelled)}"


@pytest.mark.parametrize("case", UNRELATED, ids=lambda c: c["text"][:50])
def test_an_office_text_of_these_sets_gets_no_specific_article(hc: HelpCentre, case: dict[str, Any]) -> None:
    assert _general_only(hc, case["text"])


def test_the_development_set_has_sixty_office_texts_or_more() -> None:
    assert len([c for c in DEV8 if c["expect"] == "general"]) >= 60


@pytest.mark.parametrize(
    "text",
    [
        "client wants to move their year end to march",  # a year end is an office matter, not a lock date
        "quickbooks online keeps asking to update",  # the package's own update, not an invoice amended
        "sage 50 data check keeps failing",  # a data repair
        "our relationship manager at the bank has changed",  # a person, not account settings
        # "import the customer list into quickbooks from a spreadsheet": now given an article by the classifier
        # (tests/unit/test_helpcentre_learned.py, FILLED_IN)
        "recode a batch of bank transactions in xero",  # "recode" is not "record"
    ],
)
def test_this_rounds_kinds_give_office_texts_no_article(hc: HelpCentre, text: str) -> None:
    assert _general_only(hc, text)


def test_the_lock_date_message_still_gets_its_article(hc: HelpCentre) -> None:
    # "end of year lock date" is one thing (lockdate): its message and a question about it keep 12035205.
    message = "The document date cannot be before the end of year lock date, currently set at 31/03/2025"
    assert hc.search(message)[0].article.id == "12035205"
    assert hc.search("invoice date is before the end of year lock date")[0].article.id == "12035205"


def test_an_article_for_companies_with_no_package_is_not_for_a_text_naming_one(hc: HelpCentre) -> None:
    assert for_no_package(["non-integrated companies"]) and not for_no_package(["all", "Xero"])
    # Unless the text says the company has none ("isn't on xero").
    assert says_not("the client isn't on xero yet") and not says_not("the client is on xero")
    assert hc.search("upload contacts for a client that isn't on xero")[0].article.id == "3438947"


def test_a_known_word_under_a_prefix_is_not_a_typo(hc: HelpCentre) -> None:
    known = frozenset(["code", "upload"])
    assert is_prefixed_word("recode", known) and is_prefixed_word("reupload", known)
    assert not is_prefixed_word("record", known)
    assert hc._own._correct("recode") == "recode"


def test_paye_is_not_paying(hc: HelpCentre) -> None:
    # Snowball reads "PAYE" (a payroll tax, elsewhere) as "pay": kept apart, paying for a company (a text
    # of check6) is not payroll.
    own = hc._own
    assert own._vocabulary.stem("paye") != own._vocabulary.stem("paying")
    assert hc.search("client wants to take over paying for their own company in autoentry")[0].article.id == "8943377"
