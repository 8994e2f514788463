"""bot.helpcentre.matching for questions and descriptions in people's own words (`article <text>`).

The labelled set is tests/helpcentre_own_words.json: its tuning part was used to choose the
vocabulary and thresholds, its held-out part only measures them; tests/helpcentre_own_words_check.json
is a second held-out check written later (docs/helpcentre.md).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from bot.helpcentre.matching import (
    HelpCentre,
    HelpCentreError,
    Vocabulary,
    VocabularyError,
)

SET_FILE = Path(__file__).with_name("helpcentre_own_words.json")
CHECK_FILE = Path(__file__).with_name("helpcentre_own_words_check.json")
CASES: list[dict[str, Any]] = json.loads(SET_FILE.read_text(encoding="utf-8"))["cases"]
CHECK: list[dict[str, Any]] = [
    {**c, "part": "check"} for c in json.loads(CHECK_FILE.read_text(encoding="utf-8"))["cases"]
]
PARTS = ("tuning", "held_out", "check")
UNRELATED = [c for c in CASES + CHECK if c["expect"] == "general"]
BUNDLED = Path(__file__).resolve().parents[1] / "bot" / "helpcentre" / "data" / "articles.json"
BUNDLED_VOCABULARY = Path(__file__).resolve().parents[1] / "bot" / "helpcentre" / "data" / "vocabulary.json"

# The five texts a user reported, each with the article a person who knows the Help Centre picks.
REPORTED = [
    ("how can I see whether a company's integration is working", "8540596"),
    ("unlink xero from autoentry", "4799340"),
    ("bill already exists in xero", "3950247"),
    ("the desktop connector wants a code since we switched on 2FA", "5356013"),
    ("sage accounting invoices stuck, not publishing", "4815695"),
]
# The 95 % target holds on the tuning part only. The held-out parts missed it (87.8 % and
# 82.4 % when last measured: docs/helpcentre.md); those figures are kept as floors against regressions.
TOP1_FLOOR = {"tuning": 0.95, "held_out": 0.85, "check": 0.80}


@pytest.fixture(scope="module")
def hc() -> HelpCentre:
    return HelpCentre.load()


def _id(case: dict[str, Any]) -> str:
    return f"{case['part']}:{case['text'][:50]}"


# ---- the set itself ---------------------------------------------------------------------


def test_the_set_has_three_texts_per_article_and_sixty_unrelated() -> None:
    ids = {a["id"] for a in json.loads(BUNDLED.read_text(encoding="utf-8"))["articles"]}
    per_article = Counter(c["expect"] for c in CASES if c["expect"] != "general")
    assert set(per_article) == ids
    assert min(per_article.values()) >= 3
    assert sum(c["expect"] == "general" for c in CASES) >= 60
    assert {c["expect"] for c in CHECK} == ids | {"general"}


def test_the_split_follows_its_fixed_rule() -> None:
    # Within each expect group, in file order, every third text is held out.
    position: dict[str, int] = defaultdict(int)
    for case in CASES:
        n = position[case["expect"]]
        position[case["expect"]] += 1
        assert case["part"] == ("held_out" if n % 3 == 2 else "tuning"), case["text"]


def test_the_reported_texts_are_in_the_tuning_part() -> None:
    by_text = {c["text"]: c for c in CASES}
    for text, expect in REPORTED:
        assert by_text[text]["expect"] == expect
        assert by_text[text]["part"] == "tuning"


# ---- figures on each part ------------------------------------------------------------------


@pytest.mark.parametrize("part", PARTS)
def test_top1_on_each_part_meets_its_floor(hc: HelpCentre, part: str) -> None:
    labelled = [c for c in CASES + CHECK if c["part"] == part and c["expect"] != "general"]
    right = 0
    for case in labelled:
        top = hc.search(case["text"])[0]
        right += top.specific and top.article.id == case["expect"]
    assert right / len(labelled) >= TOP1_FLOOR[part], f"{part}: {right}/{len(labelled)}"


@pytest.mark.parametrize("case", UNRELATED, ids=_id)
def test_unrelated_text_gets_no_specific_article(hc: HelpCentre, case: dict[str, Any]) -> None:
    results = hc.search(case["text"])
    assert [(r.how, r.article.id) for r in results] == [("general", hc.general("publication").id)]
    assert results[0].search_url is not None


@pytest.mark.parametrize(("text", "expect"), REPORTED)
def test_reported_texts_get_their_article_first_with_a_reason(hc: HelpCentre, text: str, expect: str) -> None:
    results = hc.search(text)
    assert results[0].article.id == expect
    assert 1 <= len(results) <= 3
    assert all(r.specific and r.reason for r in results)
    assert len({r.article.id for r in results}) == len(results)
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


# ---- behaviour --------------------------------------------------------------------------


def test_the_reason_names_the_words_typed_and_what_they_were_read_as(hc: HelpCentre) -> None:
    top = hc.search("unlink xero from autoentry")[0]
    assert top.how == "own words"
    assert top.reason.startswith("your words “unlink” (disconnect) in its title")
    assert "“xero”" in top.reason


def test_synonyms_reach_the_same_article(hc: HelpCentre) -> None:
    said = [
        "sync app wants a token since we turned on two factor authentication",
        "sync app wants a token since we turned on two-step verification",
        "sync app wants a token since we turned on 2FA",
    ]
    assert {hc.search(text)[0].article.id for text in said} == {"5356013"}


def test_a_pasted_message_still_matches_exactly_first(hc: HelpCentre) -> None:
    top = hc.search("Invoice already exists in Xero. Add to Xero anyway.")[0]
    assert (top.article.id, top.how) == ("3950247", "exact")


def test_a_short_message_mentioned_in_a_question_does_not_outrank_what_it_is_about(hc: HelpCentre) -> None:
    # "not integrated" is 8540596's quoted message, but the question is about tracking categories.
    results = hc.search("tracking categories for a company that is not integrated")
    assert results[0].article.id == "3049413"


def test_a_word_naming_another_system_keeps_the_answer_general(hc: HelpCentre) -> None:
    assert not hc.search("forgot my password for the payroll software")[0].specific
    assert hc.search("create an autoentry password for a sage id user")[0].article.id == "4179309"


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_never_more_than_the_limit(hc: HelpCentre, limit: int) -> None:
    assert 1 <= len(hc.search("sage accounting invoices stuck, not publishing", limit=limit)) <= limit


def test_the_feed_matcher_is_unchanged_by_own_words(hc: HelpCentre) -> None:
    # Alerts and cards use match(): a question there is not a feed message, so no article is claimed.
    assert not hc.match("unlink xero from autoentry", "not_integrated").specific


# ---- the vocabulary is data ----------------------------------------------------------------


def _tiny() -> dict[str, Any]:
    return {
        "version": 1,
        "general": {"status": "1", "publication": "1", "sync_app": "1", "not_integrated": "1"},
        "articles": [
            {"id": "1", "title": "General", "url": "https://help.example.com/en/articles/1-general",
             "messages": [], "keywords": [], "fix_summary": "", "integrations": ["all"]},
            {"id": "2", "title": "Unjam the widget feeder", "url": "https://help.example.com/en/articles/2-widget",
             "messages": [], "keywords": ["widget feeder jam"], "fix_summary": "Open the feeder tray.",
             "integrations": ["all"]},
        ],
    }


def test_a_vocabulary_change_needs_no_code_change(tmp_path: Path) -> None:
    articles = tmp_path / "articles.json"
    articles.write_text(json.dumps(_tiny()), encoding="utf-8")
    without = HelpCentre.load(articles, Vocabulary([]))
    assert not without.search("gizmo hopper stuck")[0].specific
    vocabulary = tmp_path / "vocabulary.json"
    vocabulary.write_text(json.dumps({"groups": [["widget feeder", "gizmo hopper"], ["jam", "stuck"]]}), encoding="utf-8")
    top = HelpCentre.load(articles, Vocabulary.load(vocabulary)).search("gizmo hopper stuck")[0]
    assert top.article.id == "2"
    assert "“gizmo hopper” (widget feeder)" in top.reason


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "is not valid JSON"),
        ('{"groups": "2fa"}', "must hold 'groups'"),
        ('{"groups": [[]]}', "must hold 'groups'"),
        ('{"groups": [["a", 3]]}', "must hold 'groups'"),
        ('{"groups": [], "elsewhere": "payroll"}', "'elsewhere' must be a list"),
        ('{"groups": [], "software": [1]}', "'software' must be a list"),
    ],
)
def test_a_bad_vocabulary_file_is_one_clear_line(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "vocabulary.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError) as caught:
        Vocabulary.load(path)
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, HelpCentreError)


def test_a_missing_vocabulary_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="cannot be read"):
        Vocabulary.load(tmp_path / "nope.json")


def test_the_bundled_vocabulary_has_the_groups_people_use() -> None:
    groups = json.loads(BUNDLED_VOCABULARY.read_text(encoding="utf-8"))["groups"]
    together = [{p.lower() for p in g} for g in groups]
    for pair in [("2fa", "two step"), ("qbo", "quickbooks online"), ("sage business cloud", "sage accounting"),
                 ("unlink", "disconnect"), ("bill", "invoice"), ("desktop connector", "sync app")]:
        assert any(set(pair) <= g for g in together), pair
