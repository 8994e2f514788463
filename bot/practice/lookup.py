"""Finding a company by the name a person types: forgiving, fast, and honest when unsure."""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

_NUMBERS = re.compile(r"\d+")

# Words that say what kind of company it is, not which one: "Acme" means "Acme Ltd".
_LEGAL_SUFFIXES = frozenset({"ltd", "limited", "plc", "llp", "llc", "inc", "incorporated", "co", "company", "cic"})
_CANONICAL_WORDS = {"limited": "ltd", "&": "and", "+": "and", "company": "co", "incorporated": "inc"}
_NON_WORD = re.compile(r"[^\w&+]+")

SUGGESTION_CUTOFF = 50.0  # below this a name is not worth suggesting
MAX_CHOICES = 5
SUGGESTION_CANDIDATES = 5000  # names compared for "did you mean": enough to find the near ones, quick at any size


def allowed_typos(key: str) -> int:
    """A typo or two is forgiven in a long name; in a short one a single edit already makes another word."""
    length = len(key)
    if length <= 3:
        return 0
    if length <= 6:
        return 1
    return 2 if length <= 14 else 3


def name_key(name: str) -> str:
    """Case, accents, punctuation, `&`/`and` and `Ltd`/`Limited` do not tell companies apart."""
    if name.isascii():  # nearly every name: no accents to strip
        text = name.lower()
    else:
        text = unicodedata.normalize("NFKD", name)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " & ").replace("+", " + ")
    words = [_CANONICAL_WORDS.get(word, word) for word in _NON_WORD.sub(" ", text).split()]
    return " ".join(words)


def base_key(key: str) -> str:
    """The key without trailing legal suffixes: "acme ltd" -> "acme"."""
    words = key.split()
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


class Outcome(StrEnum):
    FOUND = "found"
    CHOOSE = "choose"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class NameHit:
    company_id: str
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class LookupResult:
    outcome: Outcome
    hits: tuple[NameHit, ...]

    @property
    def company_id(self) -> str | None:
        return self.hits[0].company_id if self.outcome is Outcome.FOUND else None


class NameIndex:
    """An in-memory index of the practice's company names, rebuilt when the names change."""

    def __init__(self, companies: Iterable[tuple[str, str]]) -> None:
        entries = sorted((name_key(name), name, company_id) for company_id, name in companies)
        self._keys = [key for key, _, _ in entries]
        self._entries = entries
        self._bases = [base_key(key) for key in self._keys]
        self._by_base: dict[str, list[int]] = {}
        for position, base in enumerate(self._bases):
            self._by_base.setdefault(base, []).append(position)
        # Typo candidates: names of about the query's length that share its first or its last letter.
        # Scanning every name costs ~5 ms at 100,000; these buckets hold a few percent of them, and keep
        # their names beside their positions so that a search copies nothing.
        self._buckets: dict[tuple[str, int, str], tuple[list[int], list[str]]] = {}
        # Names by the words in them: for "words inside a name" and for suggestions.
        self._by_word: dict[str, list[int]] = {}
        for position, base in enumerate(self._bases):
            if base:
                for bucket in (("first", len(base), base[0]), ("last", len(base), base[-1])):
                    positions, names = self._buckets.setdefault(bucket, ([], []))
                    positions.append(position)
                    names.append(base)
            for word in set(self._keys[position].split()):
                self._by_word.setdefault(word, []).append(position)

    def __len__(self) -> int:
        return len(self._entries)

    def _hit(self, position: int, score: float) -> NameHit:
        _, name, company_id = self._entries[position]
        return NameHit(company_id=company_id, name=name, score=score)

    def _result(self, positions: list[int], score: float) -> LookupResult:
        hits = tuple(self._hit(p, score) for p in positions[:MAX_CHOICES])
        return LookupResult(Outcome.FOUND if len(positions) == 1 else Outcome.CHOOSE, hits)

    def _containing(self, key: str) -> list[int]:
        """Names in which the query's words appear together, whole: among the names with its rarest word."""
        postings = [self._by_word.get(word) for word in key.split()]
        if not postings or any(p is None for p in postings):
            return []
        rarest = min(postings, key=len)  # type: ignore[arg-type]
        needle = f" {key} "
        found: list[int] = []
        for position in rarest:  # type: ignore[union-attr]
            if needle in f" {self._keys[position]} ":
                found.append(position)
                if len(found) > MAX_CHOICES:
                    break  # enough to ask which one
        return found

    def find(self, query: str) -> LookupResult:
        key = name_key(query)
        if not key:
            return LookupResult(Outcome.NOT_FOUND, ())

        # 1. The same name, ignoring case, punctuation and legal suffixes.
        start = bisect.bisect_left(self._keys, key)
        # The keys are sorted: the equal ones are the run [start, end), not a scan to the end of the list.
        exact = list(range(start, bisect.bisect_right(self._keys, key, start)))
        if exact:
            return self._result(exact, 100.0)
        same_base = self._by_base.get(base_key(key))
        if same_base:
            return self._result(same_base, 100.0)

        # 2. A prefix of names: "acme" finds "Acme Ltd", and asks when it also finds "Acme Holdings".
        prefixed: list[int] = []
        for position in range(start, len(self._keys)):
            if not self._keys[position].startswith(key):
                break
            prefixed.append(position)
            if len(prefixed) > MAX_CHOICES:
                break
        if prefixed:
            whole_word = [p for p in prefixed if self._keys[p][len(key) : len(key) + 1] in ("", " ")]
            if len(whole_word) == 1 or len(prefixed) == 1:
                return self._result(whole_word or prefixed, 95.0)
            return self._result(whole_word + [p for p in prefixed if p not in whole_word], 90.0)

        # 3. The words somewhere inside a name: "evil & co" finds "<!channel> Evil & Co".
        inside = self._containing(key)
        if inside:
            return self._result(inside, 85.0)

        # 4. Small typos, counted as edits against the name without its legal suffix.
        typo_result = self._by_typos(base_key(key))
        if typo_result is not None:
            return typo_result

        # 5. Nothing close enough to take: offer the nearest names, among those sharing a word with the
        # query (or its first letter, when no word is shared).
        positions = self._suggestion_candidates(key)
        nearest = process.extract(
            key,
            [self._keys[position] for position in positions],
            scorer=fuzz.WRatio,
            processor=None,
            limit=3,
            score_cutoff=SUGGESTION_CUTOFF,
        )
        return LookupResult(Outcome.NOT_FOUND, tuple(self._hit(positions[index], score) for _, score, index in nearest))

    def _by_typos(self, query_base: str) -> LookupResult | None:
        """Names a few edits away (allowed_typos), the fewest first. A name whose first and last letters
        are both mistyped is not looked for: the suggestions still offer it."""
        typos = allowed_typos(query_base)
        if typos:
            # Most typos are not in the first letter: look there first, and among names sharing the last
            # letter only when that found nothing a single edit away.
            distances = self._close_names(query_base, typos, "first", query_base[0])
            if not distances or min(distances.values()) > 1:
                distances.update(self._close_names(query_base, typos, "last", query_base[-1]))
            # Numbers are not typos: "Desk Co 99" is not "Desk Co 9", "Unit 3" is not "Unit 1".
            numbers = _NUMBERS.findall(query_base)
            distances = {p: d for p, d in distances.items() if _NUMBERS.findall(self._keys[p]) == numbers}
            if distances:
                fewest = min(distances.values())
                best = sorted(position for position, distance in distances.items() if distance == fewest)
                return self._result(best, 100.0 * (1 - fewest / max(len(query_base), 1)))
        return None

    def _close_names(self, query_base: str, typos: int, end: str, letter: str) -> dict[int, float]:
        """Positions of names within `typos` edits, among those of a near length with that first/last letter."""
        distances: dict[int, float] = {}
        for length in range(len(query_base) - typos, len(query_base) + typos + 1):
            bucket = self._buckets.get((end, length, letter))
            if bucket is None:
                continue
            positions, names = bucket
            for _, distance, index in process.extract(
                query_base, names, scorer=Levenshtein.distance, processor=None, limit=MAX_CHOICES, score_cutoff=typos
            ):
                distances[positions[index]] = distance
        return distances

    def _suggestion_candidates(self, key: str) -> list[int]:
        found: set[int] = set()
        for word in key.split():
            if word in _LEGAL_SUFFIXES or word == "and":
                continue  # in half the names: it narrows nothing
            found.update(self._by_word.get(word, ())[:SUGGESTION_CANDIDATES])
            if len(found) >= SUGGESTION_CANDIDATES:
                break
        if not found:
            first = key[0]
            start = bisect.bisect_left(self._keys, first)
            end = bisect.bisect_left(self._keys, chr(ord(first) + 1))
            found.update(range(start, min(end, start + SUGGESTION_CANDIDATES)))
        return sorted(found)
