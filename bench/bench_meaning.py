"""A signal of meaning for the own-words search, measured against the lexical tier alone (not shipped).

Static word vectors (model2vec, distilled from sentence-transformers/all-MiniLM-L6-v2, Apache-2.0, by
bench/distill_meaning_model.py) give each text a vector: the mean of its WordPiece tokens' vectors,
scaled to length 1. Each article is a set of pieces (title, `asked_as`, messages, keywords, fix
summary); a text's similarity to an article is half its best cosine similarity to one piece, half its
similarity to the mean of the pieces. Fusion: the first MEANING_CANDIDATES articles the own-words tier
would show are reordered by (lexical score / best lexical score) + MEANING_WEIGHT x similarity; whether
a text gets a specific article stays the lexical tier's decision (precision first).

docs/helpcentre.md ("A signal of meaning: tried, not shipped") has the figures and why it is not
shipped. To measure it again (it reads the vectors from a folder, asks no hub):

    python bench/distill_meaning_model.py                    # in its own venv: see its docstring
    pip install tokenizers safetensors                       # in the project's venv
    python bench/bench_meaning.py [--model DIR] [--check3] [--check4] [--check5] [--cross]

Prints, in one run, each labelled set's figures with and without the signal, the time of a search
for both (CPU), the added load time, and with --cross a leave-one-set-out choice of the weight and
of how many articles are reordered.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import bench_helpcentre as bench  # noqa: E402

from bot.helpcentre.matching import OWN_WORDS_RUNNER_UP_SHARE, OWN_WORDS_SCORE_CEILING, HelpCentre  # noqa: E402
from bot.helpcentre.own_words import _own_words_clearly_ahead, _own_words_sure, _Ranked  # noqa: E402
from bot.helpcentre.text import MAX_FUZZY_CHARS, Article, ArticleMatch  # noqa: E402

MODEL = Path(tempfile.gettempdir()) / "helpcentre-meaning"
# Chosen by leaving each labelled set out in turn (--cross): the same on every set left out.
MEANING_WEIGHT = 1.0
MEANING_CANDIDATES = 2
CROSS_MEANING_WEIGHT = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
CROSS_MEANING_CANDIDATES = (2, 3, 5)


class MeaningModel:
    """Static token vectors and their tokenizer, read from a model2vec folder; `embed` turns texts into unit vectors."""

    def __init__(self, folder: Path) -> None:
        for name in ("model.safetensors", "tokenizer.json"):
            if not (folder / name).is_file():
                raise SystemExit(f"{folder / name} is missing: build it with bench/distill_meaning_model.py")
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._vectors = load_file(str(folder / "model.safetensors"))["embeddings"].astype(np.float32)
        self.dims = int(self._vectors.shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dims) float32, each row of length 1; zeros for a text with no token."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        encodings = self._tokenizer.encode_batch_fast([t[:MAX_FUZZY_CHARS] for t in texts], add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            if encoding.ids:
                out[row] = self._vectors[encoding.ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


def article_pieces(article: Article) -> list[str]:
    pieces = [article.title, *article.asked_as, *article.messages, *article.keywords, article.fix_summary]
    return [p for p in pieces if p.strip()]


class ArticleMeaning:
    """Every article's piece vectors and their mean, computed once; `similarities` of a text to each article."""

    def __init__(self, model: MeaningModel, articles: Sequence[Article]) -> None:
        self._model = model
        pieces = [article_pieces(a) for a in articles]
        self._pieces = model.embed([p for mine in pieces for p in mine])
        self._starts = np.cumsum([0] + [len(mine) for mine in pieces[:-1]])
        means = np.add.reduceat(self._pieces, self._starts, axis=0)
        self._means = means / np.linalg.norm(means, axis=1, keepdims=True)

    def similarities(self, text: str) -> np.ndarray:
        """(articles,) float32, -1..1."""
        vector = self._model.embed([text])[0]
        return 0.5 * np.maximum.reduceat(self._pieces @ vector, self._starts) + 0.5 * (self._means @ vector)


def fuse(ranked: list[_Ranked], similarities: np.ndarray, weight: float, candidates: int) -> list[_Ranked]:
    """The first `candidates` by score / best score + weight x similarity (ties keep the lexical order); the rest as they were."""
    best = ranked[0].score
    head = sorted(ranked[:candidates], key=lambda r: -(r.score / best + weight * float(similarities[r.index])))
    return head + ranked[candidates:]


class MeaningHelpCentre(HelpCentre):
    """HelpCentre whose own-words tier orders its first articles by meaning too (the hook it would need)."""

    meaning: ArticleMeaning

    def _by_own_words(self, message: str) -> list[ArticleMatch]:
        ranked = self._own.rank(message)
        if not ranked or not (_own_words_sure(ranked[0]) or _own_words_clearly_ahead(ranked)):
            return []
        best = ranked[0].score
        shown = [r for r in ranked if r is ranked[0] or (r.score >= OWN_WORDS_RUNNER_UP_SHARE * best and _own_words_sure(r))]
        if len(shown) > 1 and MEANING_CANDIDATES > 1:
            shown = fuse(shown, self.meaning.similarities(message), MEANING_WEIGHT, MEANING_CANDIDATES)
        return [
            ArticleMatch(
                self.articles[r.index],
                "own words",
                round(OWN_WORDS_SCORE_CEILING * r.coverage * r.score / best, 3),
                self._own.reason(r),
                None,
            )
            for r in shown
        ]


def cross_check(hc: HelpCentre, flagged: tuple[str, ...]) -> None:
    """Leave one set out: the (weight, candidates) best on the others, its figure on the one left out."""
    global MEANING_WEIGHT, MEANING_CANDIDATES
    cases = bench.own_words_cases(check3=True, flagged=flagged)
    shipped = (MEANING_WEIGHT, MEANING_CANDIDATES)
    tallies = {}
    try:
        for point in [(w, n) for w in CROSS_MEANING_WEIGHT for n in CROSS_MEANING_CANDIDATES]:
            MEANING_WEIGHT, MEANING_CANDIDATES = point
            tallies[point] = bench._tally(hc, cases)
    finally:
        MEANING_WEIGHT, MEANING_CANDIDATES = shipped
    print(f"cross-check (meaning weight, articles reordered); measured {shipped}, weight 0.0 = without:")
    for left_out in sorted({str(c["part"]) for c in cases}):

        def others(point: tuple[float, int], left_out: str = left_out) -> tuple[int, int, int]:
            # The fewest unrelated texts given an article, then the most right, then the fewest wrong.
            rest = [v for part, v in tallies[point].items() if part != left_out]
            return -sum(v[2] for v in rest), sum(v[0] for v in rest), -sum(v[3] for v in rest)

        best = max(tallies, key=others)  # the first of equals: the smaller weight, the fewer articles
        right, labelled, unrelated, wrong = tallies[best][left_out]
        n_right, _, n_unrelated, n_wrong = tallies[(0.0, 2)][left_out]
        print(
            f"  {left_out} left out: chosen {best}, top-1 {right}/{labelled}, wrong {wrong}, unrelated given an "
            f"article {unrelated}; without: {n_right}, {n_wrong}, {n_unrelated}"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL, help="the folder bench/distill_meaning_model.py wrote")
    for flag in ("--check3", "--check4", "--check5", "--check6", "--check7", "--cross"):
        parser.add_argument(flag, action="store_true")
    args = parser.parse_args(argv)
    flagged = tuple(part for part in bench.FLAGGED_CHECKS if getattr(args, part))
    started = time.perf_counter()
    lexical = HelpCentre.load()
    lexical_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    hc = MeaningHelpCentre.load()
    hc.meaning = ArticleMeaning(MeaningModel(args.model), hc.articles)
    print(f"load: {(time.perf_counter() - started) * 1000:.1f} ms with the meaning vectors, {lexical_ms:.1f} ms without")
    print("with the meaning signal:")
    bench.own_words(hc, False, args.check3, flagged)
    print("without (the lexical tier alone):")
    bench.own_words(lexical, False, args.check3, flagged)
    if args.cross:
        cross_check(hc, flagged)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
