"""A learned text classifier for the own-words search: a linear model (multinomial logistic
regression) over a text's stems, neighbouring stem pairs and letter n-grams, trained on the labelled
own-words texts and the articles' own words (bench/train_helpcentre_classifier.py; docs/helpcentre.md,
"A learned classifier").

Inference is numpy (which bm25s brings already): a text's features become row indices of a
features x classes weight matrix, one product gives each class's score, then a softmax. No new
run-time dependency, no download.

`HelpCentre.load()` puts the bundled one (BUNDLED) in `search()` for the bundled articles and vocabulary;
`fuse` says when its article goes first.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping, Sequence

import numpy as np

from bot.helpcentre.text import MAX_FUZZY_CHARS, HelpCentreError, normalise

FORMAT = 2
# The class of texts no article is about (office texts): never shown as an article.
GENERAL = "general"
# A probability threshold above any probability: that way of giving an article is off.
NEVER = 1.01
# What a weights file may hold (load() refuses more): letter n-grams of up to 8 letters (the shipped ones: 3-5; a
# longer n makes every word cost more to read), and the letter block weighing at most 100 times the words.
MAX_NGRAM = 8
MAX_CHAR_WEIGHT = 100.0
# The weights the bot uses, for the bundled articles and vocabulary (bench/train_helpcentre_classifier.py --write).
BUNDLED = Path(__file__).parent / "data" / "classifier.json"


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
        words_typed = normalise(text[:MAX_FUZZY_CHARS]).split()
        chars = dict.fromkeys(chain.from_iterable(_letter_ngrams(word, ngrams) for word in words_typed), 1.0)
    out: dict[str, float] = {}
    for block, scale in ((words, 1.0), (chars, char_weight)):
        if block:
            value = scale / math.sqrt(len(block))
            out.update(dict.fromkeys(block, value))
    return out


@functools.lru_cache(maxsize=8192)
def _letter_ngrams(word: str, ngrams: tuple[int, int]) -> tuple[str, ...]:
    """A word's letter n-gram features ("c <n-gram>", the word padded with a space each side), in order;
    kept for the words met most (a search's text repeats the vocabulary of the office)."""
    padded = f" {word} "
    low, high = ngrams
    return tuple(f"c {padded[i : i + n]}" for n in range(low, high + 1) for i in range(len(padded) - n + 1))


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str  # an article's id, or GENERAL
    probability: float  # 0..1, the model's
    runner_up: float  # the next class's probability, 0..1


@dataclass(frozen=True, slots=True)
class Fusion:
    """When the classifier's article goes first (chosen by leaving sets out: the training script).

    override: the least probability at which it goes before an own-words answer (never before a quoted
    message or a keyword); fill: the least at which it is given where the lexical tiers have no article;
    fill_among: there, only an article the own-words tier ranks; veto: the least probability of GENERAL (no
    article is about the text) at which an own-words answer gives way to the general article. NEVER (above 1)
    turns one off."""

    override: float = NEVER
    fill: float = NEVER
    fill_among: bool = False
    veto: float = NEVER


def fuse(lexical: str | None, own_words: bool, candidates: Collection[str], found: Prediction, fusion: Fusion) -> str | None:
    """The article the classifier puts first, GENERAL when it turns an own-words answer down (the text is
    about no article: veto), or None (the lexical answer stands).

    lexical: the lexical tiers' first article (None: the general one); own_words: whether it came from the
    own-words tier (not a quoted message or keyword); candidates: the articles the own-words tier ranks."""
    if found.label == GENERAL:
        return GENERAL if lexical is not None and own_words and found.probability >= fusion.veto else None
    if lexical is None:
        sure = found.probability >= fusion.fill and (not fusion.fill_among or found.label in candidates)
    else:
        sure = own_words and found.probability >= fusion.override
    return found.label if sure else None


def inputs_digest(paths: Iterable[str | os.PathLike[str]], settings: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the training inputs: each file's name and bytes, in the order given, then the
    settings as sorted JSON. OSError when a file cannot be read."""
    digest = hashlib.sha256()
    for path in paths:
        where = Path(path)
        digest.update(where.name.encode() + b"\0" + where.read_bytes() + b"\0")
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


class Classifier:
    """The linear model: classes, a bias per class, a features x classes weight matrix (float32)."""

    def __init__(
        self,
        classes: Sequence[str],
        bias: Sequence[float],
        names: Sequence[str],
        matrix: np.ndarray,
        char_weight: float,
        ngrams: tuple[int, int],
        fusion: Fusion = Fusion(),
        inputs: str = "",
    ) -> None:
        self.classes = tuple(classes)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.names = tuple(names)
        self._index = {name: i for i, name in enumerate(self.names)}
        # The weights, features x classes, and below them a zero row: a feature the model does not know.
        self._rows = np.zeros((len(self.names) + 1, len(self.classes)), dtype=np.float32)
        self._rows[:-1] = np.asarray(matrix, dtype=np.float32).reshape(len(self.names), len(self.classes))
        self.matrix = self._rows[:-1]
        self._ngrams_seen: dict[str, dict[str, int]] = {}
        self.char_weight = char_weight
        self.ngrams = ngrams
        self.fusion = fusion
        self.inputs = inputs  # inputs_digest() of what it was trained on ("" when unknown)
        self.origin = "built in memory"  # where it was read from, for errors (load(): the file)

    @classmethod
    def from_weights(
        cls,
        classes: Sequence[str],
        bias: Sequence[float],
        weights: Mapping[str, Iterable[tuple[int, float]]],
        char_weight: float,
        ngrams: tuple[int, int],
        fusion: Fusion = Fusion(),
    ) -> "Classifier":
        """From per-feature (class index, weight) pairs."""
        names = sorted(weights)
        matrix = np.zeros((len(names), len(classes)), dtype=np.float32)
        for row, name in enumerate(names):
            for k, w in weights[name]:
                matrix[row, k] = w
        return cls(classes, bias, names, matrix, char_weight, ngrams, fusion)

    @classmethod
    def never(cls) -> "Classifier":
        """A classifier that names no article: the lexical tiers alone."""
        return cls((GENERAL,), (0.0,), (), np.zeros((0, 1)), 0.0, (3, 5))

    def features(self, clauses: Iterable[Iterable[str]], text: str) -> dict[str, float]:
        return features(clauses, text, self.char_weight, self.ngrams)

    def scores(self, feats: Mapping[str, float]) -> np.ndarray:
        """One score (log-odds) per class, in the order of self.classes: the bias plus one product of the
        features' values with their rows of the matrix (a feature the model does not know: its zero last row)."""
        unknown = len(self.names)
        rows = np.fromiter(map(self._index.get, feats, repeat(unknown)), dtype=np.intp, count=len(feats))
        values = np.fromiter(feats.values(), dtype=np.float32, count=len(feats))
        return self.bias + values @ self._rows.take(rows, axis=0)

    def predict(self, feats: Mapping[str, float]) -> Prediction:
        """The most probable class and its softmax probability, and the runner-up's."""
        return self._softmax(self.scores(feats))

    def predict_text(self, clauses: Iterable[Iterable[str]], text: str) -> Prediction:
        """predict(self.features(clauses, text)), faster: each block's rows are summed once and scaled by its one
        value, and a word's letter n-grams are looked up once and kept (the office's words come back)."""
        unknown = len(self.names)
        scores = self.bias.copy()
        stems = features(clauses, "", 0.0, self.ngrams)  # the stems block alone: the same values
        if stems:
            rows = [self._index.get(name, unknown) for name in stems]
            scores += next(iter(stems.values())) * self._rows.take(rows, axis=0).sum(axis=0, dtype=np.float64)
        if self.char_weight > 0:
            chars: dict[str, int] = {}
            for word in normalise(text[:MAX_FUZZY_CHARS]).split():
                chars.update(self._ngram_rows(word))
            if chars:
                summed = self._rows.take(list(chars.values()), axis=0).sum(axis=0, dtype=np.float64)
                scores += self.char_weight / math.sqrt(len(chars)) * summed
        return self._softmax(scores)

    def _ngram_rows(self, word: str) -> dict[str, int]:
        """A word's letter n-gram features and their rows (the zero last row when unknown), kept for 8,192 words."""
        found = self._ngrams_seen.get(word)
        if found is None:
            found = {name: self._index.get(name, len(self.names)) for name in _letter_ngrams(word, self.ngrams)}
            if len(self._ngrams_seen) >= 8192:
                self._ngrams_seen.clear()
            self._ngrams_seen[word] = found
        return found

    def _softmax(self, scores: np.ndarray) -> Prediction:
        best = int(scores.argmax())
        exp = np.exp(scores - scores[best])
        total = float(exp.sum())
        exp[best] = 0.0
        return Prediction(self.classes[best], 1.0 / total, float(exp.max()) / total)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Classifier":
        """The weights at path (the training script's --write); HelpCentreError naming the file when unusable."""
        where = Path(path)
        try:
            data = json.loads(where.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise HelpCentreError(f"Help Centre classifier {where}: cannot be read ({type(exc).__name__})") from None
        except RecursionError:  # JSON nested past Python's recursion limit
            raise HelpCentreError(f"Help Centre classifier {where}: nested too deeply to read") from None
        try:
            model = cls.from_data(data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise HelpCentreError(f"Help Centre classifier {where}: not a classifier of format {FORMAT} ({exc})") from None
        model.origin = str(where)
        return model

    @classmethod
    def from_data(cls, data: Any) -> "Classifier":
        """From the file's JSON (to_data); ValueError, KeyError or TypeError when it is not one."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("wrong format")
        classes = [str(c) for c in data["classes"]]
        bias = [float(b) for b in data["bias"]]
        if len(bias) != len(classes) or GENERAL not in classes or len(classes) > 255 or len(set(classes)) != len(classes):
            raise ValueError("classes and bias differ, a class twice, no general class, or over 255 classes")
        if not all(math.isfinite(b) for b in bias):
            raise ValueError("a bias that is not a number")
        names = [str(n) for n in data["features"]]
        counts = np.frombuffer(base64.b64decode(data["counts"], validate=True), dtype=np.uint8)
        columns = np.frombuffer(base64.b64decode(data["columns"], validate=True), dtype=np.uint8)
        values = np.frombuffer(base64.b64decode(data["values"], validate=True), dtype="<f2")
        if len(counts) != len(names) or len(set(names)) != len(names) or not len(columns) == len(values) == int(counts.sum()):
            raise ValueError("features, counts, columns and values differ in length")
        if len(columns) and (int(columns.max()) >= len(classes) or not np.isfinite(values).all()):
            raise ValueError("a weight of an unknown class, or not a number")
        matrix = np.zeros((len(names), len(classes)), dtype=np.float32)
        matrix[np.repeat(np.arange(len(names)), counts), columns] = values
        low, high = (int(n) for n in data["ngrams"])
        if not 1 <= low <= high <= MAX_NGRAM:
            raise ValueError(f"letter n-grams must be of 1 to {MAX_NGRAM} letters, the shorter first")
        char_weight = float(data["char_weight"])
        if not 0 <= char_weight <= MAX_CHAR_WEIGHT:
            raise ValueError(f"the letter n-grams' weight must be 0 to {MAX_CHAR_WEIGHT}")
        override, fill, among = data["fusion"]["override"], data["fusion"]["fill"], data["fusion"]["fill_among"]
        if not isinstance(among, bool):
            raise ValueError("fill_among must be true or false")
        fusion = Fusion(float(override), float(fill), among, float(data["fusion"].get("veto", NEVER)))
        if not all(0 < t <= NEVER for t in (fusion.override, fusion.fill, fusion.veto)):
            raise ValueError(f"fusion thresholds must be over 0 and at most {NEVER} (never)")
        return cls(classes, bias, names, matrix, char_weight, (low, high), fusion, str(data.get("inputs", "")))

    def to_data(self) -> dict[str, Any]:
        """The JSON form load() reads: weights as float16, per feature (names sorted) how many classes it
        weighs and which (bytes, base64), features with no weight left out; the same bytes for the same model."""
        kept = [row for row in range(len(self.names)) if self.matrix[row].any()]
        kept.sort(key=lambda row: self.names[row])
        sub = self.matrix[kept].astype("<f2")
        counts = (sub != 0).sum(axis=1).astype(np.uint8)
        rows, columns = np.nonzero(sub)

        def packed(array: np.ndarray) -> str:
            return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")

        return {
            "format": FORMAT,
            "inputs": self.inputs,
            "classes": list(self.classes),
            "bias": [round(float(b), 4) for b in self.bias],
            "char_weight": self.char_weight,
            "ngrams": list(self.ngrams),
            "fusion": {
                "override": self.fusion.override,
                "fill": self.fusion.fill,
                "fill_among": self.fusion.fill_among,
                "veto": self.fusion.veto,
            },
            "features": [self.names[row] for row in kept],
            "counts": packed(counts),
            "columns": packed(columns.astype(np.uint8)),
            "values": packed(sub[rows, columns]),
        }


@functools.lru_cache(maxsize=1)
def bundled() -> Classifier:
    """The bundled weights (BUNDLED), read once per process; HelpCentreError when unusable."""
    return Classifier.load(BUNDLED)
