"""Small judgements of the own-words search, kept apart from its ranking (bot/helpcentre/own_words.py;
docs/helpcentre.md): whether a word is a typo of a known one, and which articles no accounting package
is for."""

from __future__ import annotations

from typing import Iterable

from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from bot.helpcentre.text import normalise

_VOWELS = frozenset("aeiouy")
# Prefixes that make another word of a known one ("recode" of "code", "reupload" of "upload"):
# such a word is not a typo of a known word one letter away ("recode" is not "record"; round 8).
_WORD_PREFIXES = ("re",)
# Words naming the companies an article is for when no accounting package is connected: a text naming
# a package is about an integrated company, so not about such an article (round 8).
_NO_PACKAGE = ("non integrated", "not integrated", "nonintegrated")
# A text that says what a company lacks ("the client isn't on xero yet") may name a package it has not.
_NEGATIONS = frozenset("not no non without isnt doesnt dont arent never nor yet instead".split())


def is_typo(typed: str, known: str) -> bool:
    """Whether known is what typed misspells: letters missing or extra, two neighbours swapped, one vowel
    for another ("catagories", "recipt"); not one consonant for another ("remote" is not "remove")."""
    if DamerauLevenshtein.distance(typed, known) < Levenshtein.distance(typed, known):
        return True  # two neighbouring letters swapped
    return all(
        op.tag != "replace" or (typed[op.src_pos] in _VOWELS and known[op.dest_pos] in _VOWELS)
        for op in Levenshtein.editops(typed, known)
    )


def is_prefixed_word(word: str, known: frozenset[str]) -> bool:
    """Whether word is a known word of four letters or more under a prefix ("recode": re + code)."""
    return any(word.startswith(p) and len(word) - len(p) >= 4 and word[len(p) :] in known for p in _WORD_PREFIXES)


def for_no_package(integrations: Iterable[str]) -> bool:
    """Whether an article is only for companies with no accounting package connected
    (articles.json `integrations`: "non-integrated companies")."""
    said = [normalise(i) for i in integrations]
    return bool(said) and all(any(s.startswith(n) for n in _NO_PACKAGE) for s in said)


def says_not(text: str) -> bool:
    """Whether a text has a word of negation ("not", "without", "isn't"): it may name a package the company lacks."""
    return not _NEGATIONS.isdisjoint(normalise(text).split())
