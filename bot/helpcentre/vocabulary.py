"""The synonym vocabulary of the own-words search: phrases people use for the same thing, read as
the articles' phrase (bot/helpcentre/data/vocabulary.json; docs/helpcentre.md)."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import Stemmer

from bot.helpcentre.text import HelpCentreError, _os_reason, _stem, normalise

OWN_WORDS_MAX_PHRASE = 5
# A phrase written with a gap ("take * off", "hand * over") matches with this many words at most
# in the gap: English puts the object between a verb and its particle ("take xero off").
OWN_WORDS_MAX_GAP = 2
_TOO_LONG = f"must have at most {OWN_WORDS_MAX_PHRASE} words"
# The vocabulary's lists of words or phrases besides `groups`, `elsewhere` and `software` (Vocabulary's keywords).
_WORD_LISTS = (
    "keep_apart",
    "same_stem",
    "packages",
    "light",
    "filler",
    "names",
    "business_suffixes",
    "named_things",
    "name_verbs",
    "business_trades",
    "brands",
)
# Of those, the lists whose entries are phrases of several words, split into words as they are read.
_PHRASE_LISTS = ("packages", "light", "filler")


def _phrase_problem(phrase: str) -> str | None:
    """Why a group's phrase could never be read (None: it can): too many words, or a gap ("take * off") without
    exactly one word before it and some after it."""
    head, gap, tail = phrase.partition("*")
    if not gap:
        return None if len(normalise(phrase).split()) <= OWN_WORDS_MAX_PHRASE else _TOO_LONG
    if "*" in tail or len(normalise(head).split()) != 1 or not normalise(tail).split():
        return "must have one word, one gap (*) and then words"
    return None if 1 + len(normalise(tail).split()) <= OWN_WORDS_MAX_PHRASE else _TOO_LONG


_INFLECTIONS = frozenset(("", "s", "es", "e", "ed", "d", "ing", "y", "ies", "ied"))


def _inflection(base: str, word: str) -> bool:
    """Whether word is base with an inflection's ending ("swap", "swapped"; "activity", "activities")."""
    common = os.path.commonprefix([base, word])
    rest = [base[len(common) :], word[len(common) :]]
    # A doubled last letter ("run", "running") belongs to the ending.
    rest = [r[1:] if r[:1] == common[-1:] and r[1:] in _INFLECTIONS - {""} else r for r in rest]
    return len(common) >= 2 and all(r in _INFLECTIONS for r in rest)


class VocabularyError(HelpCentreError):
    """The vocabulary file cannot be used; one line naming the file."""


class Vocabulary:
    """Phrases people use for the same thing, read as the articles' phrase (data: vocabulary.json).

    Phrases are compared stem by stem (Snowball English stems from PyStemmer), so "warning
    triangles" is the phrase "warning triangle"; the longest phrase at a position wins.
    `elsewhere` holds words that name other systems or office matters ("payroll", "windows",
    "email"): text with one that the article does not mention is not about that article.
    Snowball gives some different words one stem ("accounting" and "account", "settings" and
    "set"): `keep_apart` words keep their own (plural folded), and `same_stem` lists the
    derived words accepted to share one ("integration", "integrate"); see `stem_collisions`.
    `light` lists everyday words that seldom say what a text is about ("take", "various", "side"):
    they weigh less when the search decides whether an article covers a question.
    `filler` lists phrases of talk around a question, read as nothing ("where do i start", "ends
    up", "could it be"): each of their words alone may be a topic ("start date", "year end").
    `names`, `business_suffixes`, `named_things` and `name_verbs` say where a text names a person or a
    client ("Okafor says", "Hendry Ltd", "the Fairview client"): read as nothing (own_words_names.py);
    `business_trades` ("Carter Electrical") and `brands` (suppliers: "Screwfix") too (round 10).
    """

    def __init__(
        self,
        groups: list[list[str]],
        elsewhere: Sequence[str] = (),
        software: Sequence[str] = (),
        keep_apart: Sequence[str] = (),
        same_stem: Sequence[str] = (),
        packages: Sequence[str] = (),
        light: Sequence[str] = (),
        filler: Sequence[str] = (),
        names: Sequence[str] = (),
        business_suffixes: Sequence[str] = (),
        named_things: Sequence[str] = (),
        name_verbs: Sequence[str] = (),
        business_trades: Sequence[str] = (),
        brands: Sequence[str] = (),
    ) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._stems: dict[str, str] = {}
        self._keep_apart = frozenset(normalise(w) for w in keep_apart)
        self._same_stem = frozenset(normalise(w) for w in same_stem)
        self._phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        # By the stem of the word before the gap: (the stems after it, the group's first phrase).
        self._gapped: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for group in groups:
            canonical = tuple(normalise(group[0]).split())
            for phrase in group:
                head, gap, tail = phrase.partition("*")
                if gap:
                    before = [self.stem(w) for w in normalise(head).split()]
                    after = tuple(self.stem(w) for w in normalise(tail).split())
                    if len(before) == 1 and after:
                        self._gapped.setdefault(before[0], []).append((after, canonical))
                    continue
                key = tuple(self.stem(w) for w in normalise(phrase).split())
                if key and len(key) <= OWN_WORDS_MAX_PHRASE:
                    self._phrases.setdefault(key, canonical)
        for phrase in filler:
            key = tuple(self.stem(w) for w in normalise(phrase).split())
            if key and len(key) <= OWN_WORDS_MAX_PHRASE:
                self._phrases.setdefault(key, ())  # read as no word at all
        self._longest = max((len(k) for k in self._phrases), default=1)
        # Known words, never "corrected" into another: those of the groups and of the filler phrases
        # ("even though" is not "even through").
        self.words = frozenset(w for phrases in (*groups, filler) for p in phrases for w in normalise(p).split() if w != "*")
        self.elsewhere = frozenset(self.stem(w) for w in (normalise(e) for e in elsewhere) if w)
        self.software = frozenset(self.stem(w) for s in software for w in normalise(s).split())
        # Words that say which accounting package a text is about: the software names, and
        # names read as one word ("sage50") that do not count half.
        self.packages = self.software | frozenset(self.stem(w) for s in packages for w in normalise(s).split())
        # Everyday words that seldom say what a text is about ("take", "little", "various"): stems.
        self.light = frozenset(self.stem(w) for s in light for w in normalise(s).split())
        # The words of those two lists as written: known words, not typos of the articles' words.
        self.listed = frozenset(w for s in (*elsewhere, *light) for w in normalise(s).split())
        # People's and clients' names, read as nothing (bot/helpcentre/own_words_names.py): lower case.
        self.names = frozenset(normalise(w) for w in names)
        self.business_suffixes = frozenset(normalise(w) for w in business_suffixes)
        self.named_things = frozenset(normalise(w) for w in named_things)
        self.name_verbs = frozenset(normalise(w) for w in name_verbs)
        self.business_trades, self.brands = (frozenset(normalise(w) for w in words) for words in (business_trades, brands))

    def stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            if len(self._stems) > 50_000:
                self._stems.clear()
            if word in self._keep_apart:
                stem = _stem(word) + "~"  # its own term, not Snowball's: "settings" is not "set"
            else:
                stem = self._stemmer.stemWord(word)
            self._stems[word] = stem
        return stem

    def stem_collisions(self, words: Iterable[str]) -> list[tuple[str, ...]]:
        """Groups of these words that share a stem without one being an inflection of another
        ("set", "settings") and are not declared in `same_stem`: each group is read as one word,
        which may join articles or questions that are about different things. Sorted."""
        by_stem: dict[str, set[str]] = {}
        for word in words:
            if word and not word.isdigit():
                by_stem.setdefault(self.stem(word), set()).add(word)
        out: list[tuple[str, ...]] = []
        for group in by_stem.values():
            if len(group) < 2:
                continue
            base = min(group, key=lambda w: (len(w), w))
            odd = sorted(w for w in group if w != base and not _inflection(base, w) and w not in self._same_stem)
            if odd:
                out.append((base, *odd))
        return sorted(out)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> "Vocabulary":
        """The bundled bot/helpcentre/data/vocabulary.json, or the file at path; VocabularyError when unusable."""
        if path is None or str(path) == "":
            resource = resources.files("bot.helpcentre").joinpath("data", "vocabulary.json")
            shown = str(resource)
            reader = resource.read_text
        else:
            shown = os.fspath(path)
            reader = Path(path).read_text
        try:
            data = json.loads(reader(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise VocabularyError(f"vocabulary {shown} cannot be read ({_os_reason(exc)})") from None
        except json.JSONDecodeError as exc:
            raise VocabularyError(f"vocabulary {shown} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
        except RecursionError:  # JSON nested past Python's recursion limit
            raise VocabularyError(f"vocabulary {shown} is nested too deeply to read") from None
        groups = data.get("groups") if isinstance(data, dict) else None
        if not isinstance(groups, list) or not all(
            isinstance(g, list) and g and all(isinstance(p, str) and normalise(p) for p in g) for g in groups
        ):
            raise VocabularyError(f"vocabulary {shown} must hold 'groups': a list of non-empty lists of phrases")
        elsewhere = data.get("elsewhere", [])
        if not isinstance(elsewhere, list) or not all(isinstance(w, str) for w in elsewhere):
            raise VocabularyError(f"vocabulary {shown} field 'elsewhere' must be a list of words")
        software = data.get("software", [])
        if not isinstance(software, list) or not all(isinstance(w, str) for w in software):
            raise VocabularyError(f"vocabulary {shown} field 'software' must be a list of names")
        stemming: dict[str, list[str]] = {}
        for field in _WORD_LISTS:
            value = data.get(field, [])
            if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
                raise VocabularyError(f"vocabulary {shown} field '{field}' must be a list of words")
            stemming[field] = value
        _check_readable(shown, groups, {"elsewhere": elsewhere, **stemming})
        return cls(groups, elsewhere, software, **stemming)

    def rewrite(self, words: list[str]) -> list[tuple[str, str, str]]:
        """(word as the articles say it, what was typed, the articles' phrase) per word, longest phrase first."""
        stems = [self.stem(w) for w in words]
        out: list[tuple[str, str, str]] = []
        i = 0
        n = len(words)
        while i < n:
            size, canonical = self._phrase_at(stems, i)
            gapped = self._gapped_at(stems, i) if size < 2 else None
            if gapped is not None:
                # "take xero off": the phrase's words, then the words in the gap as they are read.
                gap, tail, canonical = gapped
                typed = " ".join([words[i], "…", *words[i + 1 + gap : i + 1 + gap + tail]])
                out.extend((w, typed, " ".join(canonical)) for w in canonical)
                out.extend(self.rewrite(words[i + 1 : i + 1 + gap]))
                i += 1 + gap + tail
            elif canonical is not None:
                typed = " ".join(words[i : i + size])
                out.extend((w, typed, " ".join(canonical)) for w in canonical)
                i += size
            else:
                out.append((words[i], words[i], words[i]))
                i += 1
        return out

    def _phrase_at(self, stems: list[str], i: int) -> tuple[int, tuple[str, ...] | None]:
        """(its length, the group's first phrase) of the longest phrase starting at i; (1, None) when none."""
        for size in range(min(self._longest, len(stems) - i), 0, -1):
            canonical = self._phrases.get(tuple(stems[i : i + size]))
            if canonical is not None:
                return size, canonical
        return 1, None

    def _gapped_at(self, stems: list[str], i: int) -> tuple[int, int, tuple[str, ...]] | None:
        """(words in the gap, words after it, the group's first phrase) of a gapped phrase at i, the shortest gap first."""
        for gap in range(1, OWN_WORDS_MAX_GAP + 1):
            for after, canonical in self._gapped.get(stems[i], ()):
                if tuple(stems[i + 1 + gap : i + 1 + gap + len(after)]) == after:
                    return gap, len(after), canonical
        return None


# Lists read word by word: an entry of two words ("e-mail" is "e mail") could never be found.
_ONE_WORD_LISTS = ("elsewhere", *(field for field in _WORD_LISTS if field not in _PHRASE_LISTS))


def _check_readable(shown: str, groups: list[list[str]], lists: Mapping[str, list[str]]) -> None:
    """VocabularyError naming the first entry that could never be read: a group's phrase (_phrase_problem), an
    entry of more than one word in a list read word by word, a filler phrase too long or with a gap."""
    for phrase in (p for g in groups for p in g):
        if (problem := _phrase_problem(phrase)) is not None:
            raise VocabularyError(f"vocabulary {shown}: the phrase {phrase[:60]!r} {problem}")
    for field in _ONE_WORD_LISTS:
        for word in lists[field]:
            if len(normalise(word).split()) != 1:
                raise VocabularyError(f"vocabulary {shown} field '{field}': {word[:60]!r} must be one word (letters and digits)")
    for phrase in lists["filler"]:
        if len(normalise(phrase).split()) > OWN_WORDS_MAX_PHRASE or "*" in phrase:
            raise VocabularyError(f"vocabulary {shown}: the filler phrase {phrase[:60]!r} {_TOO_LONG}, and no gap")
