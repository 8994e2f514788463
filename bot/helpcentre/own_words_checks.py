"""Small judgements of the own-words search, kept apart from its ranking (bot/helpcentre/own_words.py;
docs/helpcentre.md): whether a word is a typo of a known one, and which articles no accounting package
is for."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

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
# names_one_title: a title of this many terms or fewer is a name, not a sentence ("Currency", "Delete a contact",
# not "Error: Invalid Account Code - ..."), so its first word names it (round 10).
TITLE_MAX_TERMS = 3
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


def names_one_title(found: Iterable[str], first_of_title: str | None, titles_with: Mapping[str, int]) -> bool:
    """Whether a text that shares one term (a stem) with an article names it by its title: the term is the
    first of the article's short title (`first_of_title`, None for a long one) and in no other article's title ("how do I unpublish": *Unpublish and
    republish an invoice*; "currency settings": *Currency*; round 10). A later word of a title says less
    ("report" of *Approve an Expense Report*, "notes" of *Credit notes in AutoEntry*). `titles_with` counts the
    articles whose title has each stem."""
    stems = set(found)
    return first_of_title is not None and stems == {first_of_title} and titles_with.get(first_of_title, 0) == 1


def first_of_title(title: Sequence[str], light: frozenset[str]) -> str | None:
    """A title's first term (stems, in order), when the title is short (`TITLE_MAX_TERMS`) and that term is no
    everyday word (`light`): what names_one_title compares a text with. None otherwise."""
    if not title or len(set(title)) > TITLE_MAX_TERMS or title[0] in light:
        return None
    return title[0]


def counts(bags: Iterable[Iterable[str]]) -> dict[str, int]:
    """In how many of the bags each term is (document frequency)."""
    out: dict[str, int] = {}
    for bag in bags:
        for term in set(bag):
            out[term] = out.get(term, 0) + 1
    return out


def reason_words(found: Iterable[tuple[str, str, list[str]]]) -> str:
    """Why an article matched, from (what was typed, the articles' phrase it was read as, the article's fields
    that have it) per term: "your words “unlink” (disconnect) in its title and keywords". One phrase typed and
    read as several words ("qbo": quickbooks online) is shown once."""
    parts: list[str] = []
    shown_typed: set[str] = set()
    for typed, said, where in found:
        if typed in shown_typed:
            continue
        shown_typed.add(typed)
        shown = f"“{typed}”" if typed == said else f"“{typed}” ({said})"
        parts.append(f"{shown} in its {' and '.join(where[:2])}")
    return "your words " + "; ".join(parts)
