"""People's and clients' names in a question, read as one everyday word by the own-words search (round 9;
docs/helpcentre.md): "Okafor says the Fairview Joinery company has a grey icon" is about a company's
status, and "Okafor", "Fairview" and "Joinery" are words no article has, which would otherwise weigh as the
rarest word and turn the question away.

Pure functions of the text and the vocabulary's lists (bot/helpcentre/data/vocabulary.json `names`,
`business_suffixes`, `named_things`, `name_verbs`, and since round 10 `business_trades` and `brands`); no I/O."""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, Protocol

# A word as typed, accented letters included ("Seán", "Gráinne", "Łukasz"), with an apostrophe-s after it
# ("Niamh's", "Okafor’s") or "&" (as in "Kowalski & Co").
_TOKEN = re.compile(r"[^\W\d_][^\W\d_\-]*(?:-[^\W\d_]+)*(?:['’]s\b)?|&")
_POSSESSIVE = re.compile(r"['’]s$")
# What a name is read as: one word no article has, listed as an everyday word in the vocabulary (round 9).
NAME_WORD = "personname"


def _bare(token: str) -> str:
    """The word as the lists hold it: lower case, no apostrophe-s or hyphen, accents folded ("Seán": "sean"; round 13)."""
    word = unicodedata.normalize("NFKD", _POSSESSIVE.sub("", token).lower().replace("-", ""))
    return "".join(c for c in word if not unicodedata.combining(c)).replace("ł", "l")


def _capitalised(token: str) -> bool:
    """ "Callum", "Okafor", "KPL": an initial capital (or a short all-capital name), not a lower-case word."""
    return token[:1].isupper()


class NameLists(Protocol):
    """The vocabulary's lists of names (bot/helpcentre/vocabulary.py `Vocabulary`), lower case."""

    names: frozenset[str]
    business_suffixes: frozenset[str]
    named_things: frozenset[str]
    name_verbs: frozenset[str]
    business_trades: frozenset[str]
    brands: frozenset[str]


def name_spans(text: str, lists: NameLists, is_known: Callable[[str], bool]) -> list[tuple[int, int]]:
    """(start, end) offsets into text of the people's and clients' names it holds, in order (none: []):

    - a given name of the vocabulary's `names` list ("Callum", "dylan", "Niamh's"), or a supplier's brand of
      its `brands` list ("Screwfix", "wickes"), however written, or a capitalised word the articles and
      vocabulary do not know with an apostrophe-s ("Okafor's");
    - a business name: capitalised words ending in a company suffix ("Hendry Ltd", "Kowalski & Co",
      "Ashdown & Sons", "Green & Co": a known word too, right before "&"), the suffix included; or
      capitalised words the articles and vocabulary do not know ending in a capitalised trade of
      `business_trades` ("Carter Electrical", "Moorland Cafe", "Oakfield Vets"), the trade included;
    - capitalised words the articles and vocabulary do not know (`is_known` of the lower-case word),
      right before a word that names what they own (`named_things`: "the Fairview client", "the Lowmoor
      Farms file", "the Ashdown bills"), or at a clause's start before a verb of report (`name_verbs`:
      "Callum wants", "Dylan asked").

    A capitalised word the articles or the vocabulary know ("Xero", "Sage", "VAT") is never a name here:
    "the Xero company" keeps its package."""
    names, suffixes, named_things, name_verbs = lists.names, lists.business_suffixes, lists.named_things, lists.name_verbs
    trades = lists.business_trades
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    spans: list[tuple[int, int]] = []
    taken = [False] * len(tokens)

    def unknown_capital(k: int) -> bool:
        token = tokens[k][2]
        return token != "&" and _capitalised(token) and not is_known(_bare(token))

    for k, (_, _, token) in enumerate(tokens):
        bare = _bare(token)
        if bare in names or bare in lists.brands or (_POSSESSIVE.search(token) and unknown_capital(k)):
            # A given name, a supplier's brand, or a capitalised word no article knows with an apostrophe-s ("Okafor's").
            taken[k] = True
        elif (bare in suffixes and (token[:1].isupper() or token == "&")) or (bare in trades and _capitalised(token)):
            # Walk back over the business name: capitalised words and "&" ("Kowalski & Co", "Ashdown & Sons",
            # "Carter Electrical"); a known word only right before "&" ("Green & Co").
            j = k - 1
            while j >= 0 and k - j <= 4 and (tokens[j][2] == "&" or unknown_capital(j) or _before_and(tokens, j)):
                j -= 1
            if j < k - 1 and tokens[j + 1][2] != "&":
                for i in range(j + 1, k + 1):
                    taken[i] = True
        elif bare in named_things or bare in name_verbs:
            # The capitalised words right before it name which one ("the Okafor company", "the Hendry
            # Sage One company"): those the articles do not know are the name, the others are kept.
            j = k - 1
            while j >= 0 and tokens[j][2] != "&" and _capitalised(tokens[j][2]) and k - j <= 4:
                j -= 1
            if bare in name_verbs and j >= 0 and not _clause_start(text, tokens[j][1], tokens[j + 1][0]):
                continue  # "Callum wants" at a clause's start, not "the Okafor wants"
            for i in range(j + 1, k):
                taken[i] = taken[i] or unknown_capital(i)
    for k, (start, end, _) in enumerate(tokens):
        if taken[k]:
            if spans and spans[-1][1] >= start - 1 and taken[k - 1]:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return spans


def _before_and(tokens: list[tuple[int, int, str]], j: int) -> bool:
    """Whether token j is a capitalised word right before "&" ("Green" in "Green & Co")."""
    return _capitalised(tokens[j][2]) and j + 1 < len(tokens) and tokens[j + 1][2] == "&"


def _clause_start(text: str, after: int, before: int) -> bool:
    """Whether the text between two words parts clauses (a comma, a full stop, a dash...)."""
    return bool(re.search(r"[,;:.!?()\-–—]", text[after:before]))


def names_read(text: str, lists: NameLists, is_known: Callable[[str], bool]) -> str:
    """The text with each name replaced by `NAME_WORD` (clause marks kept): "Okafor says the Fairview
    Joinery company..." reads "personname says the personname company...". The vocabulary lists NAME_WORD as an
    everyday word (`light`): a name weighs little, and however many a text has, they are one word."""
    spans = name_spans(text, lists, is_known)
    return without_names(text, spans, f" {NAME_WORD} ") if spans else text


def without_names(text: str, spans: list[tuple[int, int]], placeholder: str = " ") -> str:
    """The text with each span replaced by placeholder."""
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(placeholder)
        last = end
    out.append(text[last:])
    return "".join(out)
