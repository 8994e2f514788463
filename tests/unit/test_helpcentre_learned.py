"""The learned classifier's inference, pure: features of a text, scores, bad files, and how search() uses it."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.helpcentre.learned import GENERAL, NEVER, Classifier, Fusion, Prediction, bundled, features, fuse, inputs_digest
from bot.helpcentre.matching import HelpCentre
from bot.helpcentre.text import HelpCentreError

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_ARTICLES = ROOT / "bot" / "helpcentre" / "data" / "articles.json"


def _tiny(fusion: Fusion = Fusion(NEVER, 0.6)) -> Classifier:
    weights = {"w xero": ((0, 2.0),), "w disconnect": ((0, 1.5), (2, -1.0)), "w lunch": ((1, 3.0),)}
    return Classifier.from_weights(("111", GENERAL, "222"), (0.0, 0.5, 0.0), weights, 0.5, (3, 4), fusion)


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
    assert model.scores({"w xero": 1.0, "w disconnect": 0.5, "w unknown": 1.0}).tolist() == [2.75, 0.5, -0.5]
    assert model.scores({"w unknown": 1.0}).tolist() == [0.0, 0.5, 0.0]  # the bias alone


def test_predict_is_a_softmax_over_the_scores() -> None:
    found = _tiny().predict({"w xero": 1.0})
    total = math.exp(2.0) + math.exp(0.5) + math.exp(0.0)
    assert found.label == "111"
    assert math.isclose(found.probability, math.exp(2.0) / total)
    assert math.isclose(found.runner_up, math.exp(0.5) / total)


@pytest.mark.parametrize(
    "text",
    ["can autoentry collect bills from supplier portals by itself", "unlink xero from autoentry", "lunch on friday?", ""],
)
def test_predict_text_is_predict_of_the_features_summed_block_by_block(text: str) -> None:
    hc = HelpCentre.load()
    clauses = [[t.stem for t in clause] for clause in hc._own.clauses(text)]
    for model in (bundled(), _tiny()):
        slow, fast = model.predict(model.features(clauses, text)), model.predict_text(clauses, text)
        assert fast.label == slow.label
        assert math.isclose(fast.probability, slow.probability, abs_tol=1e-6)
        assert math.isclose(fast.runner_up, slow.runner_up, abs_tol=1e-6)


def _said(label: str, probability: float) -> Prediction:
    return Prediction(label, probability, 0.0)


def test_fuse_overrides_an_own_words_answer_only_above_the_higher_threshold() -> None:
    two = Fusion(override=0.9, fill=0.6)
    assert fuse("111", True, (), _said("222", 0.95), two) == "222"
    assert fuse("111", True, (), _said("222", 0.85), two) is None  # the own-words answer stands
    assert fuse("111", False, (), _said("222", 0.99), two) is None  # never before a quoted message or keyword
    assert fuse("111", True, (), _said(GENERAL, 0.99), two) is None  # no veto: the lexical answer stands


def test_fuse_turns_an_own_words_answer_down_when_sure_no_article_is_about_the_text() -> None:
    veto = Fusion(override=0.9, fill=0.6, veto=0.5)
    assert fuse("111", True, (), _said(GENERAL, 0.55), veto) == GENERAL
    assert fuse("111", True, (), _said(GENERAL, 0.45), veto) is None  # not sure enough: the answer stands
    assert fuse("111", False, (), _said(GENERAL, 0.99), veto) is None  # never a quoted message or keyword
    assert fuse(None, False, (), _said(GENERAL, 0.99), veto) is None  # the general article already


# The veto's known cost: texts with an article that the lexical tiers get right and the bundled classifier turns
# down (docs/helpcentre.md: when it came, held out by fresh writer it cost 0.7 points of top-1 and took office texts
# given an article from 45 to 10). Known, not hidden: when a change gives one its article again, take it off the list.
TURNED_DOWN = [
    ("Toolstation bills keep bouncing back from xero", "4719975"),
]


@pytest.mark.parametrize(("text", "article_id"), TURNED_DOWN)
def test_the_texts_the_veto_is_known_to_turn_down_are_listed(text: str, article_id: str) -> None:
    assert HelpCentre.load(classifier=Classifier.never()).search(text)[0].article.id == article_id
    turned_down = HelpCentre.load().search(text)
    assert [m.how for m in turned_down] == ["general"]
    assert turned_down[0].reason.startswith("it reads as an office matter no article is about (learned classifier, ")


# The fill's known cost: office texts written for the round tests (never training data) that the lexical tiers give
# no article and the bundled classifier gives one, being at least 85 % sure. The fill was chosen at 0.85 by weighing
# an office text given an article as twenty questions left without theirs (bench/train_helpcentre_classifier.py,
# COST): held out by fresh writer, 96 % top-1 and 4 office texts in 1,000 given an article; held out by office-text
# writer, 10 in 1,198 (docs/helpcentre.md). Known, not hidden: when a change answers one with the general article
# again, take it off this list and put it back in its round's list.
FILLED_IN = [
    ("should we connect with the client on linkedin", "1312821"),  # round 13: "connect" read as integrating
    ("another company wants to buy the client's business", "5385542"),  # round 13: a client's business as access
    ("import the customer list into quickbooks from a spreadsheet", "3438947"),  # round 8: the package's own contacts
]


@pytest.mark.parametrize(("text", "article_id"), FILLED_IN)
def test_the_office_texts_the_fill_is_known_to_give_an_article_are_listed(text: str, article_id: str) -> None:
    assert not HelpCentre.load(classifier=Classifier.never()).search(text)[0].specific
    filled = HelpCentre.load().search(text)
    assert [(m.how, m.article.id) for m in filled][:1] == [("learned", article_id)]


def test_fuse_fills_where_the_lexical_tiers_have_none_above_the_lower_threshold() -> None:
    two = Fusion(override=0.9, fill=0.6)
    assert fuse(None, False, (), _said("222", 0.65), two) == "222"
    assert fuse(None, False, (), _said("222", 0.55), two) is None
    assert fuse(None, False, (), _said(GENERAL, 0.99), two) is None
    among = Fusion(override=NEVER, fill=0.6, fill_among=True)
    assert fuse(None, False, ("111",), _said("222", 0.99), among) is None  # not an own-words candidate
    assert fuse(None, False, ("222",), _said("222", 0.99), among) == "222"
    assert fuse("111", True, (), _said("222", 1.0), among) is None  # NEVER: no override


def test_inputs_digest_changes_with_a_files_bytes_and_with_the_settings(tmp_path: Path) -> None:
    one = tmp_path / "a.json"
    one.write_text("{}", encoding="utf-8")
    first = inputs_digest([one], {"C": 10.0})
    assert inputs_digest([one], {"C": 10.0}) == first
    assert inputs_digest([one], {"C": 3.0}) != first
    one.write_text("{ }", encoding="utf-8")
    assert inputs_digest([one], {"C": 10.0}) != first


def test_to_data_round_trips_through_from_data_to_the_same_bytes() -> None:
    model = _tiny(Fusion(0.9, 0.8, True))
    data = model.to_data()
    again = Classifier.from_data(json.loads(json.dumps(data)))
    assert again.classes == model.classes and again.bias.tolist() == model.bias.tolist()
    feats = {"w xero": 1.0, "w disconnect": 1.0}
    assert again.scores(feats).tolist() == model.scores(feats).tolist()  # float16 holds these weights exactly
    assert (again.char_weight, again.ngrams, again.fusion) == (0.5, (3, 4), Fusion(0.9, 0.8, True))
    assert json.dumps(again.to_data()) == json.dumps(data)


def _valid(**changed: Any) -> str:
    """A small weights file load() accepts, with `changed` fields replaced."""
    data = {
        "format": 2,
        "classes": ["general", "2801425"],
        "bias": [0.0, 0.0],
        "features": ["w fetch"],
        "counts": "AQ==",
        "columns": "AQ==",
        "values": "ADw=",
        "char_weight": 1.0,
        "ngrams": [3, 5],
        "fusion": {"override": 0.5, "fill": 0.9, "fill_among": False},
    }
    return json.dumps({**data, **changed})


def test_the_small_file_the_refusals_start_from_loads() -> None:
    assert Classifier.from_data(json.loads(_valid())).classes == ("general", "2801425")


def test_a_classifier_of_classes_that_are_not_articles_is_refused_at_load(tmp_path: Path) -> None:
    data = json.loads(_valid(classes=["general", "999999"]))
    with pytest.raises(HelpCentreError, match="classes that are not articles of the article list in use: 999999"):
        HelpCentre.load(classifier=Classifier.from_data(data))
    path = tmp_path / "classifier.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(HelpCentreError) as caught:
        HelpCentre.load(classifier=Classifier.load(path))
    assert str(caught.value).startswith(f"Help Centre classifier {path}: classes that are not articles")


@pytest.mark.parametrize(
    "content, says",
    [
        ("{not json", "cannot be read"),
        ('{"format": 1}', "not a classifier of format 2"),
        ('{"format": 2, "classes": ["general"], "bias": [0.0]}', "not a classifier of format 2"),
        (
            '{"format": 2, "classes": ["general"], "bias": [0.0], "features": ["w x"], "counts": "AQ==",'
            ' "columns": "Bw==", "values": "ADw=", "char_weight": 0, "ngrams": [3, 5],'
            ' "fusion": {"override": 0.9, "fill": 0.8, "fill_among": false}}',
            "a weight of an unknown class",
        ),
        (
            '{"format": 2, "classes": ["general"], "bias": [0.0], "features": ["w x", "w y"], "counts": "AQ==",'
            ' "columns": "AA==", "values": "ADw="}',
            "differ in length",
        ),
        ('{"format": 2, "classes": ["general"], "bias": [0.0], "features": [], "counts": "not base64!"}', "base64"),
        ('{"format": 2, "classes": ["1"], "bias": [0.0], "features": []}', "no general class"),
        ('{"format": 2, "classes": ["general", "general"], "bias": [0.0, 0.0], "features": []}', "a class twice"),
        ('{"format": 2, "classes": ["general"], "bias": [NaN], "features": []}', "a bias that is not a number"),
        (_valid(ngrams=[3, 100000]), "letter n-grams must be of 1 to 8 letters"),
        (_valid(ngrams=[5, 3]), "letter n-grams must be of 1 to 8 letters"),
        (_valid(char_weight=float("nan")), "weight must be 0 to 100"),
        (_valid(char_weight=-1), "weight must be 0 to 100"),
        (_valid(fusion={"override": 0.5, "fill": 0.9, "fill_among": "no"}), "fill_among must be true or false"),
        (_valid(fusion={"override": float("nan"), "fill": 0.9, "fill_among": False}), "fusion thresholds"),
        (_valid(fusion={"override": 0.5, "fill": 0, "fill_among": False}), "fusion thresholds"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to read"),  # past Python's recursion limit
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


def _one_word(article: str, stem: str, override: float = 0.85) -> Classifier:
    """A model sure of article for a text with stem, else of GENERAL."""
    return Classifier.from_weights(
        (article, GENERAL), (0.0, 1.0), {f"w {stem}": ((0, 20.0),)}, 0.0, (3, 5), Fusion(override, 0.85)
    )


def test_the_bundled_classifier_answers_with_the_bundled_articles_only(tmp_path: Path) -> None:
    # A labelled text the classifier learned from, for which the lexical tiers have no article.
    text = "changed the supplier name in xero but autoentry still shows the old one"
    got = HelpCentre.load().search(text)[0]
    assert (got.article.id, got.how) == ("12975458", "learned")
    assert HelpCentre.load(classifier=Classifier.never()).search(text)[0].how == "general"
    elsewhere = tmp_path / "articles.json"
    elsewhere.write_bytes(BUNDLED_ARTICLES.read_bytes())
    assert HelpCentre.load(elsewhere).search(text)[0].how == "general"  # weights are for the bundled list


def _training_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "train_helpcentre_classifier", ROOT / "bench" / "train_helpcentre_classifier.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_weights_were_trained_on_the_current_sets_articles_vocabulary_and_settings() -> None:
    script = _training_script()
    expected = inputs_digest(script.training_files(), script.SETTINGS)
    shipped = bundled()
    assert shipped.inputs == expected, (
        "bot/helpcentre/data/classifier.json is stale: the labelled sets, articles.json, vocabulary.json or the "
        "settings changed since it was written. Rewrite it: python bench/train_helpcentre_classifier.py --write"
    )
    assert shipped.fusion == Fusion(**script.SETTINGS["fusion"])


def test_search_gives_the_classifiers_article_where_the_lexical_tiers_have_none() -> None:
    hc = HelpCentre.load(classifier=_one_word("2801425", "fetch", override=NEVER))
    got = hc.search("will it fetch the water rates paperwork without us")
    assert [(m.article.id, m.how) for m in got] == [("2801425", "learned")]
    assert "learned classifier" in got[0].reason and got[0].score < 0.75  # below any own-words match


def test_an_office_text_the_classifier_takes_for_general_keeps_the_general_article() -> None:
    hc = HelpCentre.load(classifier=_one_word("2801425", "fetch"))
    assert hc.search("what time is the team lunch on friday")[0].how == "general"


def test_a_sure_classifier_goes_before_an_own_words_answer_unless_override_is_off() -> None:
    text = "unlink xero from autoentry"
    assert HelpCentre.load().search(text)[0].article.id == "4799340"
    first = HelpCentre.load(classifier=_one_word("2801425", "xero")).search(text)
    assert (first[0].article.id, first[0].how) == ("2801425", "learned") and first[1].article.id == "4799340"
    fallback = HelpCentre.load(classifier=_one_word("2801425", "xero", override=NEVER)).search(text)
    assert fallback[0].article.id == "4799340"


def test_an_article_the_lexical_tiers_show_too_keeps_their_reason() -> None:
    got = HelpCentre.load(classifier=_one_word("4799340", "xero")).search("unlink xero from autoentry")[0]
    assert (got.article.id, got.how) == ("4799340", "own words")
    assert got.reason.startswith("your words")


def test_an_exact_message_is_never_overridden() -> None:
    hc = HelpCentre.load(classifier=_one_word("2801425", "xero"))
    assert hc.search("Invoice already exists in Xero. Add to Xero anyway.")[0].how != "learned"
