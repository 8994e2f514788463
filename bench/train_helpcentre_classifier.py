"""Train the own-words tier's learned classifier, and measure it by leaving one labelled set out.

Needs scikit-learn (the `train` extra: `pip install -e ".[train]"`), at development time only: the
weights it writes are read in plain Python (bot/helpcentre/learned.py). The bot does not use them
(docs/helpcentre.md, "A learned classifier"); `python bench/bench_helpcentre.py --classifier PATH`
measures them.

Run from the repository root:
  python bench/train_helpcentre_classifier.py            # leave-one-set-out figures only
  python bench/train_helpcentre_classifier.py --write PATH   # and write the weights, trained on every set
  (--grid: try every setting of GRID; --cache: keep the held-out predictions in the temporary folder;
   --prune W: leave out weights smaller than W, PRUNE when not given)

Data: every labelled own-words set in tests/ (texts with an article, office texts labelled "general")
except tests/helpcentre_own_words_check8.json, which is never read here; and each article's title,
usual questions (asked_as), quoted messages and fix summary, labelled with the article.

Leave one set out: for each set, the model is trained on the others (and the articles' words) and
predicts the set left out. The settings (regularisation C, the weight of letter n-grams) are chosen by
these held-out predictions over all sets; the fusion with the lexical tier (the least probability the
classifier needs, and whether the lexical tier must have the article among its candidates) is chosen
for each set left out on the other sets' held-out predictions only: no office text given an article
there, then the most texts right, then the fewest wrong. The shipped fusion is chosen the same way on
all sets.
"""

from __future__ import annotations

import json
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.helpcentre.learned import GENERAL, MODES, Classifier, features  # noqa: E402
from bot.helpcentre.matching import HelpCentre  # noqa: E402

TESTS = ROOT / "tests"
# Every labelled own-words set but check8 (never read: it measures the result once, untuned).
SETS = {
    "check": "helpcentre_own_words_check.json",
    "check2": "helpcentre_own_words_check2.json",
    "check3": "helpcentre_own_words_check3.json",
    "check4": "helpcentre_own_words_check4.json",
    "check5": "helpcentre_own_words_check5.json",
    "check6": "helpcentre_own_words_check6.json",
    "check7": "helpcentre_own_words_check7.json",
    "dev": "helpcentre_own_words_dev.json",
    "dev5": "helpcentre_own_words_dev5.json",
    "dev8": "helpcentre_own_words_dev8.json",
    "round5": "helpcentre_own_words_round5.json",
}
# (C, weight of letter n-grams): the settings tried (--grid); the first is the shipped one.
GRID = ((10.0, 1.0), (3.0, 0.5), (10.0, 0.5), (30.0, 0.5), (10.0, 0.0))
NGRAMS = (3, 5)
PRUNE = 0.05  # weights smaller than this are left out of the shipped file (measured with them left out)
THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))  # 0.30 .. 0.95


def load_sets() -> dict[str, list[dict[str, Any]]]:
    """Labelled texts by set: the first file's tuning and held-out parts are two sets."""
    out: dict[str, list[dict[str, Any]]] = {}
    for case in json.loads((TESTS / "helpcentre_own_words.json").read_text(encoding="utf-8"))["cases"]:
        out.setdefault(case["part"], []).append(case)
    for name, file in SETS.items():
        out[name] = json.loads((TESTS / file).read_text(encoding="utf-8"))["cases"]
    return out


def article_examples(hc: HelpCentre) -> list[tuple[str, str]]:
    """(text, article id): each article's title, usual questions, quoted messages and fix summary."""
    out: list[tuple[str, str]] = []
    for a in hc.articles:
        for text in (a.title, *a.asked_as, *a.messages, a.fix_summary):
            if text.strip():
                out.append((text, a.id))
    return out


class Featuriser:
    """The stems of each text (cached: the own-words tier's reading is the slow part)."""

    def __init__(self, hc: HelpCentre) -> None:
        self.hc = hc
        self._stems: dict[str, list[list[str]]] = {}

    def __call__(self, text: str, char_weight: float) -> dict[str, float]:
        clauses = self._stems.get(text)
        if clauses is None:
            clauses = [[t.stem for t in c] for c in self.hc._own.clauses(text)]
            self._stems[text] = clauses
        return features(clauses, text, char_weight, NGRAMS)


def fit(examples: list[tuple[str, str]], feats: Featuriser, c: float, char_weight: float) -> Classifier:
    """A multinomial logistic regression (scikit-learn), pruned to weights of PRUNE or more."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer()
    x = vec.fit_transform([feats(t, char_weight) for t, _ in examples])
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(x, [label for _, label in examples])
    names = vec.get_feature_names_out()
    weights: dict[str, list[tuple[int, float]]] = {}
    rows, cols = (abs(model.coef_) >= PRUNE).nonzero()
    for k, j in zip(rows.tolist(), cols.tolist()):
        weights.setdefault(str(names[j]), []).append((k, round(float(model.coef_[k, j]), 4)))
    bias = tuple(round(float(b), 4) for b in model.intercept_)
    classes = tuple(str(c) for c in model.classes_)
    return Classifier(classes, bias, {k: tuple(v) for k, v in weights.items()}, char_weight, NGRAMS)


Lexical = tuple[str, tuple[str, ...], bool]


def lexical(hc: HelpCentre, sets: dict[str, list[dict[str, Any]]]) -> dict[str, Lexical]:
    """Per text: the lexical tier's first answer (an id, or GENERAL), its own-words candidates, and
    whether that answer came from the own-words tier (not a quoted message or keyword)."""
    out: dict[str, Lexical] = {}
    for cases in sets.values():
        for case in cases:
            top = hc.search(case["text"])[0]
            candidates = tuple(hc.articles[r.index].id for r in hc._own.rank(case["text"]))
            out[case["text"]] = (top.article.id if top.specific else GENERAL, candidates, top.how == "own words")
    return out


def fused(lex: Lexical, pred: Any, threshold: float, mode: str) -> str:
    """The fused answer. "fallback": the lexical answer when specific, else the classifier's article
    when sure; "among": the same, only an article the lexical tier ranks; "first": the classifier's
    article when sure before an own-words answer (never before a quoted message or keyword)."""
    top, candidates, own_words = lex
    sure = pred.label != GENERAL and pred.probability >= threshold
    if top != GENERAL and not (mode == "first" and own_words and sure):
        return top
    if sure and (mode != "among" or pred.label in candidates):
        return str(pred.label)
    return GENERAL


def tally(cases: list[dict[str, Any]], answers: list[str]) -> tuple[int, int, int, int, int]:
    """(right, with an article, office texts given an article, office texts, wrong specific)."""
    right = labelled = leaks = office = wrong = 0
    for case, got in zip(cases, answers):
        if case["expect"] == GENERAL:
            office += 1
            leaks += got != GENERAL
        else:
            labelled += 1
            right += got == case["expect"]
            wrong += got not in (GENERAL, case["expect"])
    return right, labelled, leaks, office, wrong


def held_out(
    sets: dict[str, list[dict[str, Any]]], arts: list[tuple[str, str]], feats: Featuriser, c: float, cw: float
) -> dict[str, list[Any]]:
    """Each set's predictions by a model trained on the other sets and the articles' words."""
    out: dict[str, list[Any]] = {}
    for name, cases in sets.items():
        train = arts + [(k["text"], k["expect"]) for other, ks in sets.items() if other != name for k in ks]
        model = fit(train, feats, c, cw)
        out[name] = [model.predict(feats(k["text"], cw)) for k in cases]
    return out


def cached_held_out(
    sets: dict[str, list[dict[str, Any]]], arts: list[tuple[str, str]], feats: Featuriser, c: float, cw: float, cache: bool
) -> dict[str, list[Any]]:
    """held_out(), kept in a file under the system's temporary folder when cache (to try fusions again quickly)."""
    path = Path(tempfile.gettempdir()) / f"helpcentre_heldout_{c}_{cw}_{PRUNE}.pickle"
    if cache and path.exists():
        found: dict[str, list[Any]] = pickle.loads(path.read_bytes())
        return found
    preds = held_out(sets, arts, feats, c, cw)
    if cache:
        path.write_bytes(pickle.dumps(preds))
    return preds


def choose(
    sets: dict[str, list[dict[str, Any]]], preds: dict[str, list[Any]], lex: dict[str, Any], names: list[str]
) -> tuple[float, str]:
    """The fusion best on these sets: no office text given an article beyond the lexical tier's, then most right, then fewest wrong."""

    def key(point: tuple[float, str]) -> tuple[int, int, int]:
        leaks = right = wrong = 0
        for n in names:
            base = tally(sets[n], [lex[k["text"]][0] for k in sets[n]])
            t = tally(sets[n], [fused(lex[k["text"]], p, *point) for k, p in zip(sets[n], preds[n])])
            leaks += t[2] - base[2]
            right += t[0]
            wrong += t[4]
        return -leaks, right, -wrong

    return max(((t, m) for m in MODES for t in THRESHOLDS), key=key)


def report(sets: dict[str, list[dict[str, Any]]], preds: dict[str, list[Any]], lex: dict[str, Any]) -> tuple[int, int, int]:
    """Per set left out: the fusion chosen on the others, and its figures beside the lexical tier's."""
    tot_base = [0, 0, 0]
    tot = [0, 0, 0]
    for name in sets:
        point = choose(sets, preds, lex, [n for n in sets if n != name])
        base = tally(sets[name], [lex[k["text"]][0] for k in sets[name]])
        t = tally(sets[name], [fused(lex[k["text"]], p, *point) for k, p in zip(sets[name], preds[name])])
        alone = sum(p.label == k["expect"] for k, p in zip(sets[name], preds[name]) if k["expect"] != GENERAL)
        alone_office = sum(
            p.label != GENERAL and p.probability >= point[0] for k, p in zip(sets[name], preds[name]) if k["expect"] == GENERAL
        )
        print(
            f"  {name:9} chosen p>={point[0]:.2f} {point[1]}: "
            f"lexical {base[0]}/{base[1]} ({base[0] / max(1, base[1]):.1%}), office {base[2]}/{base[3]}, wrong {base[4]}; "
            f"fused {t[0]}/{t[1]} ({t[0] / max(1, t[1]):.1%}), office {t[2]}/{t[3]}, wrong {t[4]}; "
            f"classifier alone top-1 {alone}/{t[1]}, office given an article at that p {alone_office}"
        )
        for i, v in enumerate((base[0], base[1], base[2])):
            tot_base[i] += v
        for i, v in enumerate((t[0], t[1], t[2])):
            tot[i] += v
    print(
        f"  all sets: lexical {tot_base[0]}/{tot_base[1]} ({tot_base[0] / tot_base[1]:.1%}), office {tot_base[2]}; "
        f"fused {tot[0]}/{tot[1]} ({tot[0] / tot[1]:.1%}), office {tot[2]}"
    )
    return tot[0], tot[1], tot[2]


def main(argv: list[str]) -> int:
    global PRUNE
    if "--prune" in argv:
        PRUNE = float(argv[argv.index("--prune") + 1])
    hc = HelpCentre.load()  # the lexical tiers alone
    sets = load_sets()
    arts = article_examples(hc)
    feats = Featuriser(hc)
    lex = lexical(hc, sets)
    best: tuple[tuple[int, int], float, float, dict[str, list[Any]]] | None = None
    for c, cw in GRID if "--grid" in argv else GRID[:1]:
        started = time.perf_counter()
        preds = cached_held_out(sets, arts, feats, c, cw, "--cache" in argv)
        print(f"C={c} char_weight={cw} ({time.perf_counter() - started:.0f} s):")
        right, _, leaks = report(sets, preds, lex)
        if best is None or (-leaks, right) > best[0]:
            best = ((-leaks, right), c, cw, preds)
    assert best is not None
    _, c, cw, preds = best
    threshold, mode = choose(sets, preds, lex, list(sets))
    print(f"settings: C={c}, char_weight={cw}; fusion on all sets: p>={threshold} {mode}")
    if "--write" in argv:
        model = fit(arts + [(k["text"], k["expect"]) for ks in sets.values() for k in ks], feats, c, cw)
        model.min_probability, model.mode = threshold, mode
        data = model.to_data()
        out = Path(argv[argv.index("--write") + 1])
        out.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out}: {out.stat().st_size / 1e6:.2f} MB, {len(model.weights)} features")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
