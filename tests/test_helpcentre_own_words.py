"""bot.helpcentre.matching for questions and descriptions in people's own words (`article <text>`).

The labelled set is tests/helpcentre_own_words.json: its tuning part was used to choose the
vocabulary and thresholds, its held-out part only measures them; tests/helpcentre_own_words_check.json
is a second held-out check written later, tests/helpcentre_own_words_check2.json a third,
tests/helpcentre_own_words_check3.json a fourth, and tests/helpcentre_own_words_dev.json the
development set of the third round (docs/helpcentre.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from bot.helpcentre.matching import HelpCentre, HelpCentreError, normalise
from bot.helpcentre.own_words import _own_words_clearly_ahead, _Ranked, _Term
from bot.helpcentre.vocabulary import Vocabulary, VocabularyError

SET_FILE = Path(__file__).with_name("helpcentre_own_words.json")
CHECK_FILE = Path(__file__).with_name("helpcentre_own_words_check.json")
CHECK2_FILE = Path(__file__).with_name("helpcentre_own_words_check2.json")
CHECK3_FILE = Path(__file__).with_name("helpcentre_own_words_check3.json")
DEV_FILE = Path(__file__).with_name("helpcentre_own_words_dev.json")
DEV5_FILE = Path(__file__).with_name("helpcentre_own_words_dev5.json")
ROUND5_FILE = Path(__file__).with_name("helpcentre_own_words_round5.json")
CASES: list[dict[str, Any]] = json.loads(SET_FILE.read_text(encoding="utf-8"))["cases"]


def _part(path: Path, part: str) -> list[dict[str, Any]]:
    return [{**c, "part": part} for c in json.loads(path.read_text(encoding="utf-8"))["cases"]]


CHECK = _part(CHECK_FILE, "check")
CHECK2 = _part(CHECK2_FILE, "check2")
CHECK3 = _part(CHECK3_FILE, "check3")
DEV = _part(DEV_FILE, "dev")
DEV5 = _part(DEV5_FILE, "dev5")
ROUND5 = _part(ROUND5_FILE, "round5")
ALL = CASES + CHECK + CHECK2 + CHECK3 + DEV + DEV5 + ROUND5
PARTS = ("tuning", "held_out", "check", "check2", "check3", "dev", "dev5", "round5")
# Office texts of the fifth round's development set that still get an article: each shares two or
# three of AutoEntry's own words with one and nothing the vocabulary knows as elsewhere. Known, not hidden.
# ("client wants their accounts by next week" no longer: a client's accounts being prepared is an office matter.)
# Office texts known to get an article, with why (none since the classifier turns such answers down: "send the
# client a copy of their invoice" got Unpublish and republish through "copy" in its fix). When a change gives one
# an article, list it here, with why; the test below then holds it.
UNRELATED_GIVEN_AN_ARTICLE: dict[str, str] = {}
UNRELATED = [c for c in ALL if c["expect"] == "general" and c["text"] not in UNRELATED_GIVEN_AN_ARTICLE]
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
# Each part's top-1 as last measured (docs/helpcentre.md), give or take one text: floors against
# regressions. Every part was seen while tuning by now; dev5 and dev, written to find weak spots,
# and check3 (95.3 % after round 7) sit at or below the 95 % target, and the floors say so.
TOP1_FLOOR = {
    "tuning": 0.98,
    "held_out": 0.98,
    "check": 0.98,
    "check2": 0.98,
    "check3": 0.94,
    "dev": 0.91,
    "dev5": 0.85,
    "round5": 0.92,
}


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
    per_article2 = Counter(c["expect"] for c in CHECK2 if c["expect"] != "general")
    assert set(per_article2) == ids and set(per_article2.values()) <= {1, 2}
    assert sum(c["expect"] == "general" for c in CHECK2) >= 30
    per_article3 = Counter(c["expect"] for c in CHECK3 if c["expect"] != "general")
    assert set(per_article3) == ids and set(per_article3.values()) == {2}
    assert sum(c["expect"] == "general" for c in CHECK3) >= 40
    per_article4 = Counter(c["expect"] for c in ROUND5 if c["expect"] != "general")
    assert set(per_article4) == ids and set(per_article4.values()) == {1}
    assert sum(c["expect"] == "general" for c in ROUND5) >= 30
    # One check2 text turned out, after its measurement, to be a tuning text once normalised.
    seen = Counter(normalise(c["text"]) for c in ALL)
    assert [t for t, n in seen.items() if n > 1] == ["nominal code cant be used on purchase invoices"]


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
    labelled = [c for c in ALL if c["part"] == part and c["expect"] != "general"]
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
            {
                "id": "1",
                "title": "General",
                "url": "https://help.example.com/en/articles/1-general",
                "messages": [],
                "keywords": [],
                "fix_summary": "",
                "integrations": ["all"],
            },
            {
                "id": "2",
                "title": "Unjam the widget feeder",
                "url": "https://help.example.com/en/articles/2-widget",
                "messages": [],
                "keywords": ["widget feeder jam"],
                "fix_summary": "Open the feeder tray.",
                "integrations": ["all"],
            },
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
        ("[" * 100_000 + "]" * 100_000, "is nested too deeply to read"),  # past Python's recursion limit
        ('{"groups": "2fa"}', "must hold 'groups'"),
        ('{"groups": [["sync app", "the thing on the office pc that sends"]]}', "must have at most 5 words"),
        ('{"groups": [["take off", "take * off * now"]]}', "must have one word, one gap (*) and then words"),
        ('{"groups": [["move data", "moved the * data"]]}', "must have one word, one gap (*) and then words"),
        ('{"groups": [["take off", "take *"]]}', "must have one word, one gap (*) and then words"),
        ('{"groups": [], "filler": ["if you would not mind at all"]}', "must have at most 5 words"),
        ('{"groups": [], "elsewhere": ["e-mail"]}', "field 'elsewhere': 'e-mail' must be one word"),
        ('{"groups": [], "brands": ["Tool Station"]}', "field 'brands': 'Tool Station' must be one word"),
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
    for pair in [
        ("2fa", "two step"),
        ("qbo", "quickbooks online"),
        ("sage business cloud", "sage accounting"),
        ("unlink", "disconnect"),
        ("bill", "invoice"),
        ("desktop connector", "sync app"),
    ]:
        assert any(set(pair) <= g for g in together), pair


# ---- per-article data: asked_as ------------------------------------------------------------


def _words(text: str, n: int = 4) -> set[tuple[str, ...]]:
    w = normalise(text).split()
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


# asked_as phrases written before check3 that a check3 text, written from the same titles and
# fix summaries, happens to share four words with (or, for "ex reference sage 50", equal).
ASKED_AS_BEFORE_CHECK3 = frozenset(
    [
        "company level settings",
        "invoices are not publishing to the accounting software",
        "nothing is getting through to the accounts package",
        "reference is too long",
        "tax amount but tax rate is zero",
        "vat amount on a zero rated line",
        "upload vat codes",
        "paid invoices",
        "mark as paid requirements sage 50",
        "publishing to sage accounting start",
        "ex reference sage 50",
        "bundle subscription",
        "export bank statements to sage accounting",
        "change the bank account for the export",
        "transactions the wrong way round in sage",
        "duplicate check when exporting statements",
        "ofx for sage 50 canada",
        "menu missing",
        "buy credits",
        "remove autoentry from a sage for accountants client",
        "why integrate",
        "benefits of connecting to the accounting software",
        "do i need to integrate",
    ]
)


LATER_SETS = (
    "helpcentre_own_words_check4.json",
    "helpcentre_own_words_check5.json",
    "helpcentre_own_words_dev5.json",
    "helpcentre_own_words_round5.json",
)
# asked_as phrases written before the later sets (check4, check5, dev5, round5) that a text of one
# of them, written apart, happens to share four words in a row with. Phrases written since may not.
ASKED_AS_BEFORE_LATER_SETS = frozenset(
    [
        "add a card or bank account for mark as paid",
        "amend an invoice after publishing",
        "approve expenses",
        "billing account admin column",
        "change the currency of a company",
        "change who owns a company",
        "choose which bank accounts are offered as payment accounts",
        "codes missing from the drop down",
        "connect a company to another xero organisation",
        "currency locked",
        "debits and credits reversed in sage",
        "dedicated login for the desktop sync app",
        "do i need to integrate",
        "duplicate bank transactions in sage accounting",
        "exporting the same statement dates again",
        "find who owns a company in autoentry",
        "fix a wrong amount on a published invoice",
        "guid format error when publishing to xero",
        "hand over ownership of a company",
        "how to set up auto publish",
        "how to tell if a company has a sync problem",
        "import statement data into sage 50 canada",
        "invite a new member of staff",
        "invite to account list is blank",
        "is the integration working",
        "mark as paid sage 50",
        "message about payment account defaults when marking paid",
        "move a company to another billing user",
        "new customer not in the list",
        "nominal code not allowed on purchase invoices",
        "nothing is getting through to the accounts package",
        "ofx for sage 50 canada",
        "pdf missing on the bill in xero",
        "publishing to sage accounting start",
        "record an invoice as paid when publishing",
        "reference is too long",
        "remove autoentry from a sage for accountants client",
        "remove xero from a company in autoentry",
        "reset password for the desktop sync app",
        "restore an archived contact in xero",
        "sage 50 publishing is slow",
        "sage business cloud not receiving anything from autoentry",
        "sage id login does not work in the sync app",
        "see all users and their access level",
        "set a separate password for the desktop sync app",
        "supplier name too long to create",
        "switch on auto publish for a supplier",
        "transactions the wrong way round in sage",
        "turn on automatic publishing",
        "update an invoice that has gone to the accounting software",
        "vat amount on a zero rated line",
        "what does each permission do",
        "which payment accounts are shown",
        "who can give me access to company settings",
        "who has access to what",
    ]
)


def test_asked_as_is_written_from_the_articles_not_copied_from_a_labelled_set() -> None:
    # asked_as must not carry a labelled text into the index: none is one (but the one check3
    # text written independently as an older phrase), and none shares four words in a row with a
    # text of check2, nor, if written after check3, with a text of check3: the sets written
    # before a round and measured after it.
    articles = json.loads(BUNDLED.read_text(encoding="utf-8"))["articles"]
    labelled = {normalise(c["text"]) for c in CASES + CHECK + CHECK2 + DEV}
    check2 = [(normalise(c["text"]), _words(c["text"])) for c in CHECK2]
    check3 = [(normalise(c["text"]), _words(c["text"])) for c in CHECK3]
    later = [
        c["text"] for name in LATER_SETS for c in json.loads(Path(__file__).with_name(name).read_text(encoding="utf-8"))["cases"]
    ]
    later_texts = {normalise(t) for t in later}
    later_grams = set().union(*(_words(t) for t in later))
    for article in articles:
        assert 10 <= len(article["asked_as"]) <= 16, article["id"]
        for phrase in article["asked_as"]:
            said = normalise(phrase)
            assert said not in labelled, (article["id"], phrase)
            assert not any(said in text or _words(phrase) & grams for text, grams in check2), (article["id"], phrase)
            if phrase not in ASKED_AS_BEFORE_CHECK3:
                assert not any(said in text or _words(phrase) & grams for text, grams in check3), (article["id"], phrase)
            if phrase not in ASKED_AS_BEFORE_LATER_SETS:
                assert said not in later_texts and not _words(phrase) & later_grams, (article["id"], phrase)


def test_asked_as_is_read_by_the_question_tier_only(tmp_path: Path) -> None:
    data = _tiny()
    data["articles"][1]["asked_as"] = ["gizmo hopper stuck"]
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    hc = HelpCentre.load(path, Vocabulary([]))
    top = hc.search("gizmo hopper stuck")[0]
    assert (top.article.id, top.how) == ("2", "own words")
    assert "in its usual questions" in top.reason
    assert not hc.match("gizmo hopper stuck", "publication").specific  # a feed message: no claim


def test_asked_as_must_be_a_list_of_strings(tmp_path: Path) -> None:
    data = _tiny()
    data["articles"][1]["asked_as"] = "gizmo hopper stuck"
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(HelpCentreError, match="field 'asked_as' must be a list of strings"):
        HelpCentre.load(path)


# ---- near neighbours, packages, stems ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        # Texts of the tuning part: pairs of articles whose words overlap most.
        ("change the bank account for the statement export to sage", "5598723"),
        ("export statements to sage business cloud", "5598539"),
        ("what does each setting on the company settings page do", "1312892"),
        ("what does the company settings permission give access to", "11991722"),
        ("mark as paid when publishing, paid from the bank account", "5029312"),
        ("can I mark an invoice as partly paid in sage 50", "5668094"),
        ("account settings page", "1312960"),
        ("list of all people on the account", "1313073"),
    ],
)
def test_near_neighbours_are_told_apart(hc: HelpCentre, text: str, expect: str) -> None:
    assert hc.search(text)[0].article.id == expect


def test_a_text_naming_another_package_is_not_about_an_article_for_one_package(hc: HelpCentre) -> None:
    # 4661693 is about a Xero contact merged; QuickBooks merges are not in the Help Centre.
    assert hc.search("xero contact merged, publish fails")[0].article.id == "4661693"
    assert not hc.search("merge two contacts in quickbooks")[0].specific
    # "sage" names the family: a Sage 50 article is still one for a Sage ID question.
    assert hc.search("sync app login with a sage id")[0].article.id in {"4179309", "5356013"}


def test_a_short_unknown_word_is_not_read_as_a_known_one(hc: HelpCentre) -> None:
    # "rules" is one letter from "roles" (permissions), but it is another word.
    assert not hc.search("xero bank rules not applying")[0].specific


def test_two_swapped_letters_in_a_short_word_are_read_as_the_word(hc: HelpCentre) -> None:
    top = hc.search("xreo disconnect")[0]
    assert top.article.id == "4799340"
    assert "“xero”" in top.reason


def test_a_system_named_only_in_an_articles_fix_does_not_make_it_about_that_system(hc: HelpCentre) -> None:
    # 5385542's fix says "no email is sent"; the article is not about e-mail.
    assert not hc.search("not receiving emails from clients")[0].specific


def _ranked(score: float, coverage: float, typed: int, elsewhere: tuple[str, ...] = ()) -> _Ranked:
    found = tuple(_Term(f"w{i}", f"w{i}", f"w{i}", f"w{i}") for i in range(typed))
    return _Ranked(0, score, coverage, found, frozenset(t.typed for t in found), elsewhere)


@pytest.mark.parametrize(
    ("best", "second", "sure"),
    [
        (_ranked(6.0, 0.55, 4), _ranked(3.9, 0.5, 3), True),  # half the weight, four words, well ahead
        (_ranked(6.0, 0.45, 4), _ranked(3.0, 0.5, 3), False),  # less than half the weight
        (_ranked(6.0, 0.55, 3), _ranked(3.0, 0.5, 3), False),  # three words: too few to be sure
        (_ranked(6.0, 0.55, 4), _ranked(4.1, 0.5, 3), False),  # not well ahead
        (_ranked(6.0, 0.55, 5, ("payroll",)), _ranked(1.0, 0.5, 3), False),  # another system
    ],
)
def test_a_second_chance_needs_a_long_text_clearly_ahead(best: _Ranked, second: _Ranked, sure: bool) -> None:
    assert _own_words_clearly_ahead([best, second]) is sure


def test_a_phrase_typed_counts_once_for_the_second_chance() -> None:
    words = ("bank", "website", "two", "factor")
    found = tuple(_Term(w, w, "two factor" if w in {"two", "factor"} else w, w) for w in words)
    best = _Ranked(0, 6.0, 0.55, found, frozenset(words), ())
    assert not _own_words_clearly_ahead([best, _ranked(1.0, 0.3, 2)])


def test_the_bundled_data_has_no_undeclared_stem_collision(hc: HelpCentre) -> None:
    assert hc.stem_collisions == []


def test_keep_apart_gives_a_word_its_own_term() -> None:
    plain = Vocabulary([])
    assert plain.stem("settings") == plain.stem("set")
    assert plain.stem_collisions(["set", "settings", "swap", "swapped", "activity", "activities"]) == [("set", "settings")]
    apart = Vocabulary([], keep_apart=["settings", "setting"])
    assert apart.stem("settings") == apart.stem("setting") != apart.stem("set")
    assert apart.stem_collisions(["set", "settings", "setting"]) == []
    assert Vocabulary([], same_stem=["settings"]).stem_collisions(["set", "settings"]) == []


@pytest.mark.parametrize("field", ["keep_apart", "same_stem", "packages", "light"])
def test_a_bad_stemming_field_is_one_clear_line(tmp_path: Path, field: str) -> None:
    path = tmp_path / "vocabulary.json"
    path.write_text(json.dumps({"groups": [], field: "settings"}), encoding="utf-8")
    with pytest.raises(VocabularyError, match=re.escape(f"field '{field}' must be a list of words")):
        Vocabulary.load(path)


# ---- everyday words, corrections, elsewhere ------------------------------------------------------


def test_everyday_words_weigh_lightly_when_deciding_whether_an_article_covers_a_text(tmp_path: Path) -> None:
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(_tiny()), encoding="utf-8")
    text = "widget feeder little various"
    # Weighed in full, two words no article has are half of what was asked: not sure.
    assert not HelpCentre.load(path, Vocabulary([])).search(text)[0].specific
    light = HelpCentre.load(path, Vocabulary([], light=["little", "various"])).search(text)[0]
    assert (light.article.id, light.how) == ("2", "own words")


def test_light_words_are_read_by_stem() -> None:
    vocabulary = Vocabulary([], light=["turn", "Taking"])
    assert {vocabulary.stem(w) for w in ("turned", "turning", "take", "takes")} <= vocabulary.light


def test_another_form_of_a_known_word_is_not_corrected_into_another_word(hc: HelpCentre) -> None:
    # "coding" is one letter from "coming", but it is a form of "code", which the articles have.
    assert hc._own._correct("coding") == "coding"
    assert hc._own._correct("disconect") == "disconnect"
    # A word the vocabulary lists (elsewhere or everyday) is a word, not a typo of "validation".
    assert hc._own._correct("valuation") == "valuation"


def test_elsewhere_words_are_not_words_many_articles_use(hc: HelpCentre) -> None:
    # An `elsewhere` word counts against every article not about it: one that shares a stem with
    # a word of many articles ("invoicing" and "invoice") would turn real questions away.
    own = hc._own
    common = {s: sum(s in stems for stems in own._all_stems) for s in own._vocabulary.elsewhere}
    assert {s: n for s, n in common.items() if n > 2} == {}


def test_a_phrase_is_read_within_one_clause(hc: HelpCentre) -> None:
    # "left hand" is a phrase of the vocabulary (the left-hand menus), but not across a comma.
    assert hc.search("the left hand menu")[0].article.id == "12459730"
    assert hc.search("someone left, hand their companies to another billing user")[0].article.id != "12459730"


def test_a_text_that_is_an_articles_title_names_that_article(hc: HelpCentre) -> None:
    # Close to 4720314's message "All payment accounts are added", but 8820241's title.
    top = hc.search("add a payment account")[0]
    assert (top.article.id, top.how) == ("8820241", "own words")
    # A pasted message is still the message's article.
    assert hc.search("All payment accounts are added")[0].article.id == "4720314"


def test_a_phrase_with_a_gap_takes_up_to_two_words_in_it() -> None:
    vocabulary = Vocabulary([["disconnect", "take * off", "unlink"], ["integration", "link up"]])
    said = vocabulary.rewrite("take xero off".split())
    assert said == [("disconnect", "take … off", "disconnect"), ("xero", "xero", "xero")]
    # The words in the gap are read as usual, phrases included.
    assert [w for w, _, _ in vocabulary.rewrite("take link up off".split())] == ["disconnect", "integration"]
    # Three words is too long a gap; a whole phrase without a gap is read first.
    assert [w for w, _, _ in vocabulary.rewrite("take the old xero off".split())] == "take the old xero off".split()
    assert vocabulary.rewrite(["unlink"]) == [("disconnect", "unlink", "disconnect")]
