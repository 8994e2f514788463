"""The learned classifier's inference, pure: features of a text, scores, bad files, and how search() uses it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bot.helpcentre.learned import GENERAL, Classifier, features
from bot.helpcentre.matching import HelpCentre
from bot.helpcentre.text import HelpCentreError


def _tiny(min_probability: float = 0.6, mode: str = "fallback") -> Classifier:
    weights = {"w xero": ((0, 2.0),), "w disconnect": ((0, 1.5), (2, -1.0)), "w lunch": ((1, 3.0),)}
    return Classifier(("111", GENERAL, "222"), (0.0, 0.5, 0.0), weights, 0.5, (3, 4), min_probability, mode)


def test_features_are_stems_pairs_and_letter_ngrams_each_block_unit_length() -> None:
    got = features([["xero", "disconnect"], ["bank"]], "Xero off", 0.5, (3, 3))
    words = {k: v for k, v in got.items() if not k.startswith("c ")}
    assert set(words) == {"w xero", "w disconnect", "w bank", "p xero disconnect"}
    assert math.isclose(sum(v * v for v in words.values()), 1.0)
    chars = {k: v for k, v in got.items() if k.startswith("c ")}
    assert {"c  xe", "c xer", "c ero", "c ro ", "c  of", "c off", "c ff "} == set(chars)
    assert math.isclose(sum(v * v for v in chars.values()), 0.25)


def test_features_of_a_text_with_no_words_are_empty_and_no_pair_of_one_stem_twice() -> None:
    assert features([], "", 1.0, (3, 5)) == {}
    assert "p xero xero" not in features([["xero", "xero"]], "", 0.0, (3, 5))


def test_scores_add_each_feature_weight_to_its_class_bias() -> None:
    model = _tiny()
    assert model.scores({"w xero": 1.0, "w disconnect": 0.5, "w unknown": 1.0}) == [2.75, 0.5, -0.5]


def test_predict_is_a_softmax_over_the_scores() -> None:
    found = _tiny().predict({"w xero": 1.0})
    total = math.exp(2.0) + math.exp(0.5) + math.exp(0.0)
    assert found.label == "111"
    assert math.isclose(found.probability, math.exp(2.0) / total)
    assert math.isclose(found.runner_up, math.exp(0.5) / total)


def test_sure_article_needs_the_probability_an_article_and_when_asked_a_lexical_candidate() -> None:
    assert _tiny(0.6).sure_article([["xero", "disconnect"]], "") is not None
    assert _tiny(0.99).sure_article([["xero", "disconnect"]], "") is None
    assert _tiny(0.3).sure_article([["lunch"]], "") is None  # the general class: no article
    assert _tiny(0.6, mode="among").sure_article([["xero", "disconnect"]], "", ["222"]) is None
    assert _tiny(0.6, mode="among").sure_article([["xero", "disconnect"]], "", ["111"]) is not None


def test_to_data_round_trips_through_from_data() -> None:
    model = _tiny(0.8, mode="among")
    again = Classifier.from_data(json.loads(json.dumps(model.to_data())))
    assert again.classes == model.classes and again.bias == model.bias
    assert again.scores({"w xero": 1.0, "w disconnect": 1.0}) == model.scores({"w xero": 1.0, "w disconnect": 1.0})
    assert (again.char_weight, again.ngrams, again.min_probability, again.mode) == (0.5, (3, 4), 0.8, "among")


@pytest.mark.parametrize(
    "content, says",
    [
        ("{not json", "cannot be read"),
        ('{"format": 2}', "not a classifier of format 1"),
        ('{"format": 1, "classes": ["general"], "bias": [0.0]}', "not a classifier of format 1"),
        (
            '{"format": 1, "classes": ["general"], "bias": [0.0], "char_weight": 0, "ngrams": [3, 5],'
            ' "fusion": {"min_probability": 0.9, "mode": "fallback"}, "weights": {"w x": "7:1.0"}}',
            "not class:weight pairs of known classes",
        ),
        ('{"format": 1, "classes": ["1"], "bias": [0.0], "weights": {}}', "no general class"),
    ],
)
def test_a_corrupt_file_gives_a_clear_error_naming_it(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "classifier.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(HelpCentreError) as caught:
        Classifier.load(path)
    assert str(path) in str(caught.value) and says in str(caught.value)


def test_a_missing_file_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HelpCentreError, match="cannot be read"):
        Classifier.load(tmp_path / "absent.json")


def _one_word(article: str, stem: str, mode: str = "first") -> Classifier:
    """A model sure of article for a text with stem, else of GENERAL."""
    return Classifier((article, GENERAL), (0.0, 1.0), {f"w {stem}": ((0, 20.0),)}, 0.0, (3, 5), 0.85, mode)


def test_search_without_a_classifier_is_the_lexical_tiers_alone() -> None:
    text = "will it fetch the water rates paperwork without us"
    assert HelpCentre.load().search(text)[0].how == "general"
    assert HelpCentre.load(classifier=Classifier.never()).search(text)[0].how == "general"


def test_search_gives_the_classifiers_article_where_the_lexical_tiers_have_none() -> None:
    hc = HelpCentre.load(classifier=_one_word("2801425", "fetch", mode="fallback"))
    got = hc.search("will it fetch the water rates paperwork without us")
    assert [(m.article.id, m.how) for m in got] == [("2801425", "learned")]
    assert "learned classifier" in got[0].reason and got[0].score < 0.75  # below any own-words match


def test_an_office_text_the_classifier_takes_for_general_keeps_the_general_article() -> None:
    hc = HelpCentre.load(classifier=_one_word("2801425", "fetch"))
    assert hc.search("what time is the team lunch on friday")[0].how == "general"


def test_first_mode_puts_the_classifiers_article_before_an_own_words_answer_fallback_does_not() -> None:
    text = "unlink xero from autoentry"
    assert HelpCentre.load().search(text)[0].article.id == "4799340"
    first = HelpCentre.load(classifier=_one_word("2801425", "xero")).search(text)
    assert (first[0].article.id, first[0].how) == ("2801425", "learned") and first[1].article.id == "4799340"
    fallback = HelpCentre.load(classifier=_one_word("2801425", "xero", mode="fallback")).search(text)
    assert fallback[0].article.id == "4799340"


def test_an_article_the_lexical_tiers_show_too_keeps_their_reason() -> None:
    got = HelpCentre.load(classifier=_one_word("4799340", "xero")).search("unlink xero from autoentry")[0]
    assert (got.article.id, got.how) == ("4799340", "own words")
    assert got.reason.startswith("your words")


def test_an_exact_message_is_never_overridden() -> None:
    hc = HelpCentre.load(classifier=_one_word("2801425", "xero"))
    assert hc.search("Invoice already exists in Xero. Add to Xero anyway.")[0].how != "learned"
