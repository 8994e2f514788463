"""Name lookup as a pure function of the practice's names."""

from __future__ import annotations

import pytest

from bot.practice.lookup import NameIndex, Outcome, base_key, name_key

NAMES = [
    "Acme Ltd",
    "Acme Holdings Limited",
    "Bright & Sons",
    "Smith and Co Accountants",
    "Zebra Widgets Ltd",
    "<!channel> Evil & Co",
    "Zoë's Café Ltd",
    "Carter Plumbing Ltd",
]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return NameIndex((f"c_{n}", name) for n, name in enumerate(NAMES))


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Acme Limited", "acme ltd"),
        ("  ACME   ltd. ", "acme ltd"),
        ("Bright & Sons", "bright and sons"),
        ("Zoë's Café", "zoe s cafe"),
        ("Ａｃｍｅ", "acme"),
    ],
)
def test_name_key_forgets_what_does_not_tell_companies_apart(raw: str, key: str) -> None:
    assert name_key(raw) == key


def test_base_key_drops_trailing_legal_words_but_never_the_whole_name() -> None:
    assert base_key("acme holdings ltd") == "acme holdings"
    assert base_key("ltd") == "ltd"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("acme", "Acme Ltd"),
        ("ACME LIMITED", "Acme Ltd"),
        ("acme hold", "Acme Holdings Limited"),
        ("bright and sons", "Bright & Sons"),
        ("smith & co", "Smith and Co Accountants"),
        ("evil & co", "<!channel> Evil & Co"),
        ("widgets", "Zebra Widgets Ltd"),
        ("zoes cafe", "Zoë's Café Ltd"),
        ("Xarter Plumbing", "Carter Plumbing Ltd"),  # a typo in the first letter
        ("Carter Plumbinx", "Carter Plumbing Ltd"),  # ... or in the last
        ("Crater Plumbing", "Carter Plumbing Ltd"),  # two letters swapped
        ("brigth & sons", "Bright & Sons"),
    ],
)
def test_found(index: NameIndex, query: str, found: str) -> None:
    result = index.find(query)
    assert result.outcome is Outcome.FOUND, result
    assert result.hits[0].name == found


def test_several_matches_ask_which(index: NameIndex) -> None:
    result = index.find("ac")
    assert result.outcome is Outcome.CHOOSE
    assert {hit.name for hit in result.hits} == {"Acme Ltd", "Acme Holdings Limited"}


@pytest.mark.parametrize("query", ["", "   ", "&&&", "zzqxj"])
def test_nothing_found(index: NameIndex, query: str) -> None:
    assert index.find(query).outcome is Outcome.NOT_FOUND


def test_a_name_too_far_off_is_suggested_not_taken(index: NameIndex) -> None:
    result = index.find("Zebra Gizmo Makers")
    assert result.outcome is Outcome.NOT_FOUND
    assert result.hits and result.hits[0].name == "Zebra Widgets Ltd"


def test_short_names_forgive_no_typo() -> None:
    index = NameIndex([("1", "Abc Ltd"), ("2", "Abd Ltd")])
    assert index.find("abx").outcome is not Outcome.FOUND


def test_a_common_word_alone_asks_rather_than_scanning_forever() -> None:
    index = NameIndex((str(n), f"Company {n} Ltd") for n in range(20_000))
    result = index.find("company")
    assert result.outcome is Outcome.CHOOSE and len(result.hits) == 5


@pytest.mark.parametrize(
    ("query", "outcome", "found"),
    [
        ("Desk Co 99", Outcome.NOT_FOUND, None),  # one edit from "Desk Co 9", but a number is not a typo
        ("Unknown Loc 3", Outcome.NOT_FOUND, None),
        ("Dsek Co 9", Outcome.FOUND, "Desk Co 9"),  # a typo in the words still finds it
        ("Unknown Lco 1", Outcome.FOUND, "Unknown Loc 1"),
    ],
)
def test_numbers_in_a_name_are_never_taken_for_typos(query: str, outcome: Outcome, found: str | None) -> None:
    numbered = NameIndex((f"n_{n}", name) for n, name in enumerate(["Desk Co 9", "Desk Co 10", "Unknown Loc 1", "Unknown Loc 2"]))
    result = numbered.find(query)
    assert result.outcome is outcome
    if found:
        assert [hit.name for hit in result.hits][:1] == [found]
