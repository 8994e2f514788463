"""The own-words labelled sets (tests/helpcentre_own_words*.json) as the round tests read them: a set's cases,
its office texts, the top-1 count on its texts with an article, and whether usual questions were copied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from bot.helpcentre.matching import HelpCentre
from bot.helpcentre.text import normalise

HERE = Path(__file__).parent
# Sets written apart after the usual questions of rounds 9-12, by people who never saw them: the checks written
# before rounds 12 and 13, and the sets written to train the classifier (docs/helpcentre.md).
WRITTEN_AFTER_ROUND_12 = frozenset(
    {f"helpcentre_own_words_check{n}.json" for n in (12, 13, 14, 15, 16, 17, 18, 19, 20, 21)}
    | {f"helpcentre_own_words_train{n}.json" for n in range(1, 21)}
    | {f"helpcentre_own_words_office{n}.json" for n in range(1, 5)}
)


def cases(name: str) -> list[dict[str, Any]]:
    """The cases of tests/<name>: {"text": ..., "expect": an article id or "general"}."""
    return json.loads((HERE / name).read_text(encoding="utf-8"))["cases"]


def office(labelled: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cases no article is about ("general")."""
    return [case for case in labelled if case["expect"] == "general"]


def top1(hc: HelpCentre, labelled: list[dict[str, Any]]) -> tuple[int, int]:
    """(texts whose first answer is their article, texts with an article)."""
    with_article = [case for case in labelled if case["expect"] != "general"]
    right = sum(1 for c in with_article if (top := hc.search(c["text"])[0]).specific and top.article.id == c["expect"])
    return right, len(with_article)


def _four(text: str) -> set[tuple[str, ...]]:
    words = normalise(text).split()
    return {tuple(words[i : i + 4]) for i in range(len(words) - 3)}


def copied(phrases: Iterable[str], later: set[str]) -> list[str]:
    """The phrases equal, once normalised, to a labelled text, or sharing four words in a row with one, of every
    set but `later` (file names: sets written afterwards, apart, by people who never saw the phrases either; a
    blind check may share four words with one by chance, which says nothing of where it came from)."""
    texts = [c["text"] for path in HERE.glob("helpcentre_own_words*.json") if path.name not in later for c in cases(path.name)]
    said = {normalise(text) for text in texts}
    grams = set().union(*(_four(text) for text in texts))
    return [phrase for phrase in phrases if normalise(phrase) in said or _four(phrase) & grams]
