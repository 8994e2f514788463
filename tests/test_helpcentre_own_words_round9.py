"""The own-words search after round 9 (docs/helpcentre.md): people's and clients' names in a colleague's
report read as one everyday word (bot/helpcentre/own_words_names.py, pure), the vocabulary's new kinds
(cutting a connection, an outlined button, doubled lines, talk such as "can't see why"), the usual
questions written this round, and the ninth check (tests/helpcentre_own_words_check8.json), measured
before the round and tuned on in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.helpcentre.matching import HelpCentre
from bot.helpcentre.own_words_names import NAME_WORD, name_spans, names_read
from bot.helpcentre.text import normalise
from tests.own_words_sets import WRITTEN_AFTER_ROUND_12, cases, copied, office, top1

CHECK8 = cases("helpcentre_own_words_check8.json")
# Top-1 as last measured (241/296), give or take two texts: a floor against regressions. Measured before
# round 9 at 217/296 (73.3 %), never tuned on until then; no longer clean.
CHECK8_TOP1_FLOOR = 0.807


@dataclass(frozen=True)
class _Lists:
    names: frozenset[str] = frozenset({"callum", "niamh"})
    business_suffixes: frozenset[str] = frozenset({"ltd", "co", "sons"})
    named_things: frozenset[str] = frozenset({"client", "company", "bills"})
    name_verbs: frozenset[str] = frozenset({"says", "wants"})
    business_trades: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()
    known: frozenset[str] = field(default=frozenset({"xero", "sage", "one", "vat", "the"}))


LISTS = _Lists()


def _names(text: str) -> list[str]:
    return [text[a:b] for a, b in name_spans(text, LISTS, LISTS.known.__contains__)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("callum says the link is down", ["callum"]),  # a given name, however written
        ("ask Niamh's client for the pdf", ["Niamh's"]),
        ("bills from Hendry Ltd and Kowalski & Co", ["Hendry Ltd", "Kowalski & Co"]),  # a business name
        ("the Fairview Joinery client is not publishing", ["Fairview Joinery"]),  # before what it names
        ("the Hendry Sage One company", ["Hendry"]),  # the package in the name is kept
        ("the Xero company", []),  # a word the articles know is no name
        ("Okafor wants access", ["Okafor"]),  # before a verb of report, at a clause's start
        ("the report Okafor wants", []),  # not at a clause's start
        ("Okafor's bills", ["Okafor's"]),  # an unknown capitalised word with an apostrophe-s
        ("the bakery bills", []),  # lower case: a word, not a name
        ("", []),
    ],
)
def test_names_are_found_where_a_text_names_someone(text: str, names: list[str]) -> None:
    assert _names(text) == names


def test_a_text_with_names_reads_them_as_one_word() -> None:
    read = names_read("Okafor says the Hendry Ltd bills", LISTS, LISTS.known.__contains__)
    assert read.split() == [NAME_WORD, "says", "the", NAME_WORD, "bills"]
    assert names_read("no names here", LISTS, LISTS.known.__contains__) == "no names here"


@pytest.fixture(scope="module")
def hc() -> HelpCentre:
    return HelpCentre.load()


def test_the_bundled_names_are_no_word_of_the_articles_or_the_vocabulary(hc: HelpCentre) -> None:
    own = hc._own
    vocabulary = own._vocabulary
    assert vocabulary.names and not [n for n in vocabulary.names if own.is_known(n)]
    assert vocabulary.stem(NAME_WORD) in vocabulary.light


@pytest.mark.parametrize(
    ("text", "article_id"),
    [
        ("Okafor says the Fairview Joinery invoices have warning triangles after publishing", "12035205"),
        ("Callum wants to unlink xero from the Ashdown & Sons company", "4799340"),
        ("the Fairview client's sage accounting link has gone idle", "4815695"),
    ],
)
def test_a_colleagues_report_with_names_gets_the_article(hc: HelpCentre, text: str, article_id: str) -> None:
    top = hc.search(text)[0]
    assert (top.how, top.article.id) == ("own words", article_id)


@pytest.mark.parametrize(
    "text",
    [
        "Okafor says the printer on the second floor is jammed",
        "Callum from Ashdown & Sons wants a meeting about their year end",
        "the Hendry Ltd payroll needs running on Friday",
        "Niamh is chasing the Fairview client for their bank statements",
        "can someone chase the Hendry Ltd invoice, it is overdue",
    ],
)
def test_an_office_text_with_names_gets_no_specific_article(hc: HelpCentre, text: str) -> None:
    assert not hc.search(text)[0].specific


@pytest.mark.parametrize(
    ("text", "article_id", "said"),
    [
        ("cut the connection to quickbooks online", "4799340", "“cut the connection” (disconnect)"),
        ("hollow publish button", "5173281", "“hollow” (outlined)"),
        ("statement lines doubled up in sage accounting", "5599375", "“doubled up” (duplicate)"),
        ("mileage claims waiting for the approver", "8930789", "“mileage claims” (expense report)"),
        ("simply accounting bank statements", "2825395", "“simply accounting” (canada)"),
        ("analysis codes for a standalone client", "3049413", "“analysis codes” (tracking categories)"),
        ("supplier combined with another one in xero and now publishing fails", "4661693", "“combined” (merged)"),
    ],
)
def test_this_rounds_vocabulary_reads_everyday_words(hc: HelpCentre, text: str, article_id: str, said: str) -> None:
    top = hc.search(text)[0]
    assert top.article.id == article_id and said in top.reason


def test_saying_one_cannot_see_why_is_talk_around_a_question(hc: HelpCentre) -> None:
    own = hc._own
    assert own._terms(normalise("I can't see why").split()) == []
    assert hc.search("invoices aren't syncing to xero and I can't see why")[0].article.id == "4719975"


# The usual questions written in round 9: each from its article's title, fix and keywords, none equal
# to a labelled text or sharing four words in a row with one of any set (older phrases may, with the
# sets written after them: tests/test_helpcentre_own_words.py).
ROUND9_ASKED_AS = (
    "correct a field after it was posted",
    "change something already sent to the package",
    "auto publish rule set up but invoices still waiting",
    "auto publish rule ignored for a supplier",
    "bill refused as it predates the accounts start",
    "package refuses an invoice number as too long",
    "package refuses a long invoice number",
    "supplier reference longer than the package allows",
    "quickbooks closing date blocks bills from publishing",
    "make a new customer from autoentry before it exists in quickbooks",
    "supplier created during publishing",
    "which fields must be filled in before publishing",
    "own nominal codes and tax rates with no package connected",
    "supplier renamed in the accounting software still has its old name here",
    "pick up supplier edits made in the package",
    "vendor edited in the package but the change is not showing",
    "remove a supplier we no longer use from the contacts",
    "vat code picked for a supplier autoentry has never seen",
    "default tax treatment per vat rate",
    "credit card absent from the list of payment accounts",
    "entry level sage plan without supplier invoices",
    "prevent sage 50 searching every past invoice for duplicates",
    "card details asked for though sage invoices us for autoentry",
    "statement pages into sage accounting rather than keying them",
    "withdrawals exported as deposits",
    "money paid out shown as paid in after export",
    "new employee needs a login",
    "set up a login for a new starter",
    "tick boxes that unlock the integrate page",
    "two step verification required for all users",
    "access per single company versus whole account",
    "give several new users the same access in one go",
    "which template was applied to a user",
    "colleague to see one additional client",
    "extra company for an existing colleague",
    "widen what an existing user can see",
    "who grants access to the integration page",
    "signing off an expense claim",
    "expense claims waiting for approval",
    "choose who approves expense reports",
    "expenses tab missing for a member of staff",
    "when are duplicates checked",
    "stages where duplicates are checked",
    "file already there warning with process anyway",
    "one bill entered twice and no duplicate warning",
    "analysis categories without any accounting package",
    "how many custom lists are allowed without an integration",
)


def test_this_rounds_usual_questions_are_written_not_copied(hc: HelpCentre) -> None:
    asked = {p for a in hc.articles for p in a.asked_as}
    assert set(ROUND9_ASKED_AS) <= asked
    later = {
        "helpcentre_own_words_check9.json",
        "helpcentre_own_words_check10.json",
        "helpcentre_own_words_check11.json",
        "helpcentre_own_words_dev10.json",
    }
    assert copied(ROUND9_ASKED_AS, later | WRITTEN_AFTER_ROUND_12) == []


def test_the_ninth_check_meets_its_floor(hc: HelpCentre) -> None:
    right, labelled = top1(hc, CHECK8)
    assert right / labelled >= CHECK8_TOP1_FLOOR, f"{right}/{labelled}"


@pytest.mark.parametrize("case", office(CHECK8), ids=lambda c: c["text"][:50])
def test_an_office_text_of_the_ninth_check_gets_no_specific_article(hc: HelpCentre, case: dict[str, Any]) -> None:
    assert not hc.search(case["text"])[0].specific
