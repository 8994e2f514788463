"""Train the own-words tier's learned classifier, and measure it on writers it has not seen.

Needs scikit-learn (the `train` extra: `pip install -e ".[train]"`), at development time only: the
weights it writes are read with numpy (bot/helpcentre/learned.py).

Run from the repository root:
  python bench/train_helpcentre_classifier.py            # the whole choice procedure and held-out figures (minutes)
  python bench/train_helpcentre_classifier.py --write    # rewrite the weights with SETTINGS (about half a minute)
  (--write PATH writes elsewhere; --cache keeps the held-out predictions in the temporary folder)

Data: every labelled own-words set in tests/ (texts with an article, office texts labelled "general"),
and each article's title, usual questions (asked_as), quoted messages and fix summary, labelled with it.

Held out by folds: each fresh writer's set (FRESH: written blind, each by a different person) is a fold
of its own; the earlier sets, which resemble one another, make three folds by the rounds they were
written in. For each fold, a model trained on the other folds (and the articles' words) predicts it.
For each fresh set, the settings (C, the weight of letter n-grams) and the fusion with the lexical tier
(learned.Fusion: a threshold to override an own-words answer, one where the lexical tiers have none,
whether the article must then be among the own-words candidates, and one at which the classifier's
"no article is about this" turns an own-words answer down) are chosen on the OTHER folds' held-out
predictions only: the lowest COST (office texts given an article, wrong articles, texts left with the general
one, weighed), then the highest thresholds. The shipped SETTINGS are chosen
the same way on all folds.
"""

from __future__ import annotations

import json
import pickle
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.helpcentre.learned import GENERAL, NEVER, Classifier, Fusion, Prediction, features, fuse, inputs_digest  # noqa: E402
from bot.helpcentre.matching import HelpCentre  # noqa: E402

TESTS = ROOT / "tests"
DATA = ROOT / "bot" / "helpcentre" / "data"
WEIGHTS = DATA / "classifier.json"
# Every labelled own-words set (the first file's tuning and held-out parts are two sets).
SETS = {
    "check": "helpcentre_own_words_check.json",
    "check2": "helpcentre_own_words_check2.json",
    "check3": "helpcentre_own_words_check3.json",
    "check4": "helpcentre_own_words_check4.json",
    "check5": "helpcentre_own_words_check5.json",
    "check6": "helpcentre_own_words_check6.json",
    "check7": "helpcentre_own_words_check7.json",
    "check8": "helpcentre_own_words_check8.json",
    "check9": "helpcentre_own_words_check9.json",
    "check10": "helpcentre_own_words_check10.json",
    "check11": "helpcentre_own_words_check11.json",
    "check12": "helpcentre_own_words_check12.json",
    "check13": "helpcentre_own_words_check13.json",
    "check14": "helpcentre_own_words_check14.json",
    "check15": "helpcentre_own_words_check15.json",
    "check16": "helpcentre_own_words_check16.json",
    "check17": "helpcentre_own_words_check17.json",
    **{f"train{n}": f"helpcentre_own_words_train{n}.json" for n in range(1, 21)},
    **{f"office{n}": f"helpcentre_own_words_office{n}.json" for n in range(1, 5)},
    "dev": "helpcentre_own_words_dev.json",
    "dev5": "helpcentre_own_words_dev5.json",
    "dev8": "helpcentre_own_words_dev8.json",
    "dev10": "helpcentre_own_words_dev10.json",
    "round5": "helpcentre_own_words_round5.json",
}
FRESH = tuple(f"check{n}" for n in range(8, 18))
FOLDS = {
    "rounds 1-3": ("tuning", "held_out", "check", "check2", "check3", "dev"),
    "rounds 4-6": ("check4", "check5", "dev5", "round5"),
    "rounds 7-10": ("check6", "check7", "dev8", "dev10"),
    "written to train 1-8": tuple(f"train{n}" for n in range(1, 9)),
    "written to train 9-20": tuple(f"train{n}" for n in range(9, 21)),
    "office texts written to train": tuple(f"office{n}" for n in range(1, 5)),
    **{name: (name,) for name in FRESH},
}
# (C, weight of letter n-grams, weight of an office text in training): the settings tried. An office text weighing
# more makes the model slower to give an article to text like one.
GRID = ((10.0, 1.0, 1.0), (10.0, 2.0, 1.0), (30.0, 2.0, 1.0), (10.0, 3.0, 1.0), (10.0, 3.0, 2.0))
NGRAMS = (3, 5)
PRUNE = 0.05  # weights smaller than this are left out (the held-out predictions are the pruned model's)
THRESHOLDS = (*(round(0.30 + 0.05 * i, 2) for i in range(14)), NEVER)  # 0.30 .. 0.95, and never
# An override needs the classifier surer of its article than not (0.5 or more): its answer then goes before one
# whose words the person typed, with "N % sure" as its reason, and below even odds that reads as a guess. Measured
# held out by fresh writer after round 12, overrides from 0.3 gained 3 texts of 1,776 at most.
OVERRIDES = tuple(t for t in THRESHOLDS if t >= 0.5)
# A veto, the same way: the classifier at least even odds sure that no article is about the text.
VETOES = OVERRIDES
FUSIONS = tuple(
    Fusion(o, f, a, v) for o in OVERRIDES for f in THRESHOLDS for a in (False, True) for v in VETOES if not (a and f == NEVER)
)
# The one-threshold kinds measured before (first: the same threshold both ways; fallback and among: no override).
ONE_THRESHOLD = tuple(f for f in FUSIONS if f.override in (f.fill, NEVER) and f.veto == NEVER)
# What a choice costs, per text: an office text given an article as much as twenty questions left with the general
# article (precision first: the general article and the Help Centre search still help; a confident wrong answer to
# a matter no article is about misleads), an article other than the right one as much as three. Until the third
# training round the key was lexicographic (the fewest office texts first, at any price): with twelve more sets it
# turns the fill off, 88.3 % top-1 on the fresh checks held out against 97.3 % with this cost, to spare 7 office
# texts in 4,228 (14 given an article, against 21; docs/helpcentre.md, "A third training round").
COST = {"leaks": 20, "wrong": 3, "fell_back": 1}
# What --write trains with: chosen on all folds by the procedure above (its last line).
SETTINGS: dict[str, Any] = {
    "C": 10.0,
    "char_weight": 2.0,
    "general_weight": 1.0,
    "ngrams": list(NGRAMS),
    "prune": PRUNE,
    "fusion": {"override": 0.5, "fill": 0.85, "fill_among": False, "veto": 0.55},
}


def training_files() -> list[Path]:
    """The files the weights are trained on, in the order inputs_digest reads them."""
    sets = [TESTS / "helpcentre_own_words.json", *(TESTS / f for f in sorted(SETS.values()))]
    return [*sets, DATA / "articles.json", DATA / "vocabulary.json"]


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


def fit(
    examples: list[tuple[str, str]], feats: Featuriser, c: float, char_weight: float, prune: float, general_weight: float
) -> Classifier:
    """A multinomial logistic regression (scikit-learn), office texts weighing general_weight, weights under prune
    left out."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer()
    x = vec.fit_transform([feats(t, char_weight) for t, _ in examples])
    model = LogisticRegression(C=c, max_iter=3000)
    labels = [label for _, label in examples]
    model.fit(x, labels, sample_weight=[general_weight if label == GENERAL else 1.0 for label in labels])
    coef = model.coef_.round(4)
    coef[abs(coef) < prune] = 0.0
    coef = coef.astype("<f2").astype(np.float32)  # as the file keeps them
    used = coef.any(axis=0).nonzero()[0]
    names = [str(n) for n in vec.get_feature_names_out()[used]]
    bias = [round(float(b), 4) for b in model.intercept_]
    return Classifier([str(k) for k in model.classes_], bias, names, coef[:, used].T, char_weight, NGRAMS)


Lexical = tuple[str | None, tuple[str, ...], bool]


def lexical(hc: HelpCentre, sets: dict[str, list[dict[str, Any]]]) -> dict[str, Lexical]:
    """Per text: the lexical tiers' first article (None: the general one), the own-words tier's candidates,
    and whether that article came from the own-words tier (not a quoted message or keyword)."""
    out: dict[str, Lexical] = {}
    for cases in sets.values():
        for case in cases:
            top = hc.search(case["text"])[0]
            candidates = tuple(hc.articles[r.index].id for r in hc._own.rank(case["text"]))
            out[case["text"]] = (top.article.id if top.specific else None, candidates, top.how == "own words")
    return out


def _held_out_fold(args: tuple[str, float, float, float]) -> dict[str, list[Prediction]]:
    """One fold's predictions by a model trained on the other folds and the articles' words (a worker)."""
    fold, c, cw, gw = args
    hc = HelpCentre.load(classifier=Classifier.never())
    sets, feats = load_sets(), Featuriser(hc)
    train = article_examples(hc) + [(k["text"], k["expect"]) for n, ks in sets.items() if n not in FOLDS[fold] for k in ks]
    model = fit(train, feats, c, cw, PRUNE, gw)
    return {n: [model.predict(feats(k["text"], cw)) for k in sets[n]] for n in FOLDS[fold]}


def held_out(c: float, cw: float, gw: float, cache: bool) -> dict[str, list[Prediction]]:
    """Every set's held-out predictions at one grid point (two processes), kept in the temporary folder when cache."""
    path = (
        Path(tempfile.gettempdir())
        / f"helpcentre_heldout_{inputs_digest(training_files(), {'c': c, 'cw': cw, 'p': PRUNE, **({'gw': gw} if gw != 1.0 else {})})[:16]}.pickle"
    )
    if cache and path.exists():
        found: dict[str, list[Prediction]] = pickle.loads(path.read_bytes())
        return found
    preds: dict[str, list[Prediction]] = {}
    with ProcessPoolExecutor(max_workers=2) as pool:
        for part in pool.map(_held_out_fold, [(fold, c, cw, gw) for fold in FOLDS]):
            preds.update(part)
    if cache:
        path.write_bytes(pickle.dumps(preds))
    return preds


class Table:
    """The texts of some sets side by side (numpy arrays), to try every fusion quickly."""

    def __init__(self, sets: dict[str, list[dict[str, Any]]], names: list[str], lex: dict[str, Lexical], preds: Any) -> None:
        self.cases = [k for n in names for k in sets[n]]
        self.found = [p for n in names for p in preds[n]] if preds else [Prediction(GENERAL, 0.0, 0.0)] * len(self.cases)
        self.lex = [lex[k["text"]] for k in self.cases]
        self.expect = np.array([k["expect"] for k in self.cases])
        self.lexical = np.array([top or GENERAL for top, _, _ in self.lex])
        self.own_words = np.array([own_words for _, _, own_words in self.lex])
        self.label = np.array([p.label for p in self.found])
        self.probability = np.array([p.probability for p in self.found])
        self.among = np.array([p.label in candidates for (_, candidates, _), p in zip(self.lex, self.found)])

    def answers(self, fusion: Fusion) -> np.ndarray:
        """Each text's first answer (an article's id, or GENERAL): learned.fuse's, for every text at once."""
        article = self.label != GENERAL
        fill = (self.lexical == GENERAL) & article & (self.probability >= fusion.fill) & (self.among | (not fusion.fill_among))
        over = (self.lexical != GENERAL) & self.own_words & article & (self.probability >= fusion.override)
        veto = (self.lexical != GENERAL) & self.own_words & ~article & (self.probability >= fusion.veto)
        return np.where(fill | over | veto, self.label, self.lexical)

    def agrees_with_fuse(self, fusion: Fusion) -> bool:
        """Whether answers() is what the bot's learned.fuse gives, text by text."""
        one_by_one = [fuse(top, own, cands, p, fusion) or top or GENERAL for (top, cands, own), p in zip(self.lex, self.found)]
        return one_by_one == self.answers(fusion).tolist()

    def figures(self, fusion: Fusion) -> dict[str, int]:
        """right, with an article, wrong (another article), fell back (the general one), office texts given an
        article, office texts."""
        got = self.answers(fusion)
        office = self.expect == GENERAL
        return {
            "right": int(((got == self.expect) & ~office).sum()),
            "labelled": int((~office).sum()),
            "wrong": int(((got != self.expect) & (got != GENERAL) & ~office).sum()),
            "fell_back": int(((got == GENERAL) & ~office).sum()),
            "leaks": int(((got != GENERAL) & office).sum()),
            "office": int(office.sum()),
        }


def figures(
    sets: dict[str, list[dict[str, Any]]], names: list[str], lex: dict[str, Lexical], preds: Any, fusion: Fusion
) -> dict[str, int]:
    """Table.figures over these sets with the fusion (preds None: the lexical tiers alone)."""
    return Table(sets, names, lex, preds).figures(fusion)


def choose(
    sets: dict[str, list[dict[str, Any]]],
    names: list[str],
    lex: dict[str, Lexical],
    grid: dict[Any, Any],
    fusions: tuple[Fusion, ...] = FUSIONS,
) -> tuple[Any, Fusion]:
    """The grid point and fusion best on these sets: the lowest cost (COST: office texts given an article, wrong
    articles and texts left with the general one, weighed), then the highest thresholds."""
    best: tuple[Any, ...] | None = None
    for point, preds in grid.items():
        table = Table(sets, names, lex, preds)
        for fusion in fusions:
            t = table.figures(fusion)
            key = (
                -sum(weight * t[kind] for kind, weight in COST.items()),
                fusion.override,
                fusion.fill,
                fusion.veto,
                not fusion.fill_among,
            )
            if best is None or key > best[0]:
                best = (key, point, fusion)
    assert best is not None
    return best[1], best[2]


def _line(t: dict[str, int]) -> str:
    return (
        f"{t['right']}/{t['labelled']} ({t['right'] / max(1, t['labelled']):.1%}), wrong {t['wrong']}, "
        f"fell back {t['fell_back']}, office given an article {t['leaks']}/{t['office']}"
    )


def procedure(argv: list[str]) -> None:
    """The whole choice: held-out predictions at each grid point, each fresh set's figures with the settings
    and fusion chosen on the other folds, then the settings chosen on all folds."""
    hc = HelpCentre.load(classifier=Classifier.never())
    sets = load_sets()
    lex = lexical(hc, sets)
    grid: dict[tuple[float, float, float], dict[str, list[Prediction]]] = {}
    for c, cw, gw in GRID:
        started = time.perf_counter()
        grid[(c, cw, gw)] = held_out(c, cw, gw, "--cache" in argv)
        t = figures(sets, list(sets), lex, grid[(c, cw, gw)], Fusion(0.85, 0.85))
        print(
            f"C={c} char_weight={cw} general_weight={gw} ({time.perf_counter() - started:.0f} s): all sets held out, "
            f"p>=0.85 both ways: {_line(t)}",
            flush=True,
        )
    gains: dict[str, list[float]] = {"two": [], "one": []}
    for name in FRESH:
        others = [n for fold, names in FOLDS.items() if fold != name for n in names]
        base = figures(sets, [name], lex, None, Fusion())
        print(f"{name} held out; lexical tier alone: {_line(base)}")
        for kind, fusions in (("two", FUSIONS), ("one", ONE_THRESHOLD)):
            point, fusion = choose(sets, others, lex, grid, fusions)
            t = figures(sets, [name], lex, grid[point], fusion)
            gains[kind].append((t["right"] - base["right"]) / base["labelled"] * 100)
            print(
                f"  {kind} threshold(s), chosen on the other folds: C={point[0]} char_weight={point[1]} general_weight={point[2]}"
            )
            print(f"    {fusion}")
            print(f"    with the classifier: {_line(t)}  ({gains[kind][-1]:+.1f} points)")
    for kind, got in gains.items():
        print(f"fresh-writer sets, {kind} threshold(s): {sum(got) / len(got):+.1f} points top-1 on average")
    point, fusion = choose(sets, list(sets), lex, grid)
    assert Table(sets, list(sets), lex, grid[point]).agrees_with_fuse(fusion), "the fusion tried is not the bot's"
    print(f"chosen on all folds: C={point[0]} char_weight={point[1]} general_weight={point[2]} {fusion}")
    for fold, names in FOLDS.items():
        base, t = figures(sets, list(names), lex, None, Fusion()), figures(sets, list(names), lex, grid[point], fusion)
        print(f"  {fold} held out: lexical tier alone {_line(base)}; with the classifier {_line(t)}")


def write(path: Path) -> None:
    """The weights trained on every set with SETTINGS, to path (the same bytes on every run)."""
    hc = HelpCentre.load(classifier=Classifier.never())
    sets = load_sets()
    feats = Featuriser(hc)
    examples = article_examples(hc) + [(k["text"], k["expect"]) for ks in sets.values() for k in ks]
    model = fit(examples, feats, SETTINGS["C"], SETTINGS["char_weight"], SETTINGS["prune"], SETTINGS["general_weight"])
    model.fusion = Fusion(**SETTINGS["fusion"])
    model.inputs = inputs_digest(training_files(), SETTINGS)
    path.write_text(json.dumps(model.to_data(), separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}: {path.stat().st_size / 1e6:.2f} MB, {len(model.names)} features")


def main(argv: list[str]) -> int:
    if "--write" in argv:
        at = argv.index("--write") + 1
        write(Path(argv[at]) if at < len(argv) and not argv[at].startswith("--") else WEIGHTS)
    else:
        procedure(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
