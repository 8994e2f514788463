"""A learned text classifier for the own-words search: a linear model (multinomial logistic
regression) over a text's stems, neighbouring stem pairs and letter n-grams, trained on the labelled
own-words texts and the articles' own words (bench/train_helpcentre_classifier.py; docs/helpcentre.md,
"A learned classifier").

Inference is plain Python over the weights the training script writes (a JSON file): features of a
text, then a few dict look-ups per feature, then a softmax over the classes (the articles' ids and
"general", for texts no article is about). No new run-time dependency.

Not used by the bot: measured, it gains too little on fresh text for its cost (docs/helpcentre.md, "A
learned classifier"). `HelpCentre.load(classifier=Classifier.load(path))` puts it in `search()`.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from bot.helpcentre.text import MAX_FUZZY_CHARS, HelpCentreError, normalise

FORMAT = 1
# The class of texts no article is about (office texts): never shown as an article.
GENERAL = "general"
# When the classifier is asked (bench/train_helpcentre_classifier.py, `fused`): "fallback", only when the
# lexical tiers have no article; "among", the same, for an article the own-words tier ranks too; "first",
# also before an own-words answer (never before a quoted message or a keyword).
MODES = ("fallback", "among", "first")


def features(clauses: Iterable[Iterable[str]], text: str, char_weight: float, ngrams: tuple[int, int]) -> dict[str, float]:
    """A text's features, name to value: its stems ("w <stem>") and neighbouring stems of one clause
    ("p <stem> <stem>"), as the own-words tier reads them (vocabulary, typos, question words dropped),
    L2-normalised together; and the letter n-grams of its normalised words ("c <n-gram>", words padded
    with a space each side, n in ngrams inclusive), L2-normalised and scaled by char_weight."""
    words: dict[str, float] = {}
    for clause in clauses:
        stems = list(clause)
        for stem in stems:
            words[f"w {stem}"] = 1.0
        for a, b in zip(stems, stems[1:]):
            if a != b:
                words[f"p {a} {b}"] = 1.0
    chars: dict[str, float] = {}
    if char_weight > 0:
        low, high = ngrams
        for word in normalise(text[:MAX_FUZZY_CHARS]).split():
            padded = f" {word} "
            for n in range(low, high + 1):
                for i in range(len(padded) - n + 1):
                    chars[f"c {padded[i : i + n]}"] = 1.0
    out: dict[str, float] = {}
    for block, scale in ((words, 1.0), (chars, char_weight)):
        if block:
            value = scale / math.sqrt(len(block))
            out.update(dict.fromkeys(block, value))
    return out


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str  # an article's id, or GENERAL
    probability: float  # 0..1, the model's
    runner_up: float  # the next class's probability, 0..1


class Classifier:
    """The linear model's weights: per feature, (class index, weight) pairs; per class, a bias."""

    def __init__(
        self,
        classes: tuple[str, ...],
        bias: tuple[float, ...],
        weights: Mapping[str, tuple[tuple[int, float], ...] | str],
        char_weight: float,
        ngrams: tuple[int, int],
        min_probability: float = 1.0,
        mode: str = "fallback",
    ) -> None:
        self.classes = classes
        self.bias = bias
        # Per feature, (class index, weight) pairs, or the file's packed form of them ("3:0.51 17:-0.2"),
        # read on first use: reading all 190,000 at load would take 0.2 s.
        self.weights = dict(weights)
        self.char_weight = char_weight
        self.ngrams = ngrams
        # The fusion with the lexical tier, chosen by leaving one labelled set out (the training script):
        # an article only at this probability or more; mode (one of MODES) says when it is asked.
        self.min_probability = min_probability
        self.mode = mode

    def features(self, clauses: Iterable[Iterable[str]], text: str) -> dict[str, float]:
        return features(clauses, text, self.char_weight, self.ngrams)

    def scores(self, feats: Mapping[str, float]) -> list[float]:
        """One score (log-odds) per class, in the order of self.classes."""
        scores = list(self.bias)
        for name, value in feats.items():
            for i, w in self._weights_of(name):
                scores[i] += value * w
        return scores

    def _weights_of(self, name: str) -> tuple[tuple[int, float], ...]:
        found = self.weights.get(name, ())
        if isinstance(found, str):  # checked by from_data: indices in range, numbers well formed
            found = tuple((int(i), float(w)) for i, w in (p.split(":") for p in found.split()))
            self.weights[name] = found
        return found

    def predict(self, feats: Mapping[str, float]) -> Prediction:
        """The most probable class and its softmax probability."""
        scores = self.scores(feats)
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        order = sorted(range(len(exp)), key=lambda i: -exp[i])
        second = exp[order[1]] / total if len(order) > 1 else 0.0
        return Prediction(self.classes[order[0]], exp[order[0]] / total, second)

    def sure_article(self, clauses: Iterable[Iterable[str]], text: str, candidates: Iterable[str] = ()) -> Prediction | None:
        """The article the model is sure of for a text the lexical tier could not place; None when it is
        not sure, or takes the text for one no article is about (GENERAL)."""
        found = self.predict(self.features(clauses, text))
        if found.label == GENERAL or found.probability < self.min_probability:
            return None
        if self.mode == "among" and found.label not in set(candidates):
            return None
        return found

    @classmethod
    def never(cls) -> "Classifier":
        """A classifier that names no article: the lexical tiers alone."""
        return cls((GENERAL,), (0.0,), {}, 0.0, (3, 5))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Classifier":
        """The weights at path (the training script's --write); HelpCentreError naming the file when unusable."""
        where = Path(path)
        try:
            data = json.loads(where.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise HelpCentreError(f"Help Centre classifier {where}: cannot be read ({type(exc).__name__})") from None
        try:
            return cls.from_data(data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise HelpCentreError(f"Help Centre classifier {where}: not a classifier of format {FORMAT} ({exc})") from None

    @classmethod
    def from_data(cls, data: Any) -> "Classifier":
        """From the file's JSON: {"format": 1, "classes": [...], "bias": [...], "char_weight": x,
        "ngrams": [lo, hi], "fusion": {"min_probability": p, "mode": one of MODES}, "weights": {feature: "class:weight class:weight ..."}}; ValueError when not."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("wrong format")
        classes = tuple(str(c) for c in data["classes"])
        bias = tuple(float(b) for b in data["bias"])
        if len(bias) != len(classes) or GENERAL not in classes:
            raise ValueError("classes and bias differ, or no general class")
        packed = _packed_weights(len(classes))
        weights = data["weights"]
        for name, pairs in weights.items():
            if not isinstance(name, str) or not isinstance(pairs, str) or not packed.fullmatch(pairs):
                raise ValueError(f"weights of {name!r} are not class:weight pairs of known classes")
        low, high = (int(n) for n in data["ngrams"])
        fusion = data["fusion"]
        threshold = float(fusion["min_probability"])
        if not 0 < threshold <= 1:
            raise ValueError("min_probability must be in (0, 1]")
        mode = fusion["mode"]
        if mode not in MODES:
            raise ValueError(f"fusion mode must be one of {', '.join(MODES)}")
        return cls(classes, bias, weights, float(data["char_weight"]), (low, high), threshold, mode)

    def to_data(self) -> dict[str, Any]:
        """The JSON form load() reads (the training script writes it)."""
        return {
            "format": FORMAT,
            "classes": list(self.classes),
            "bias": [round(b, 4) for b in self.bias],
            "char_weight": self.char_weight,
            "ngrams": list(self.ngrams),
            "fusion": {"min_probability": self.min_probability, "mode": self.mode},
            "weights": {k: " ".join(f"{i}:{w:.4g}" for i, w in self._weights_of(k)) for k in sorted(self.weights)},
        }


def _packed_weights(classes: int) -> re.Pattern[str]:
    """The packed form of one feature's weights: "index:weight" pairs, each index one of the classes."""
    index = "|".join(str(i) for i in sorted(range(classes), key=lambda i: -len(str(i))))
    pair = rf"(?:{index}):-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
    return re.compile(rf"(?:{pair} )*{pair}")
