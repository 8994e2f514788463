"""Exact-message matching: the article that quotes a message (exact tier) or whose quoted
messages and keywords share its words closely (words tier); see docs/helpcentre.md.

`MessageIndex.build` compiles the quoted messages into regexes and weighs their words once,
at load; `exact` and `by_words` only look the normalised message up.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from rapidfuzz import fuzz, process

from bot.helpcentre.text import (
    _OPTIONAL_LABELS,
    _PLACEHOLDER,
    _TRAILING_ELLIPSIS,
    Article,
    ArticleMatch,
    _content_tokens,
    _fail,
    _squash,
    _stem,
    normalise,
)

# Tuned on tests/helpcentre_cases.json (see docs/helpcentre.md): the lowest words
# score of a labelled paraphrase sits above it, the highest unrelated message below.
WORDS_THRESHOLD = 0.78
# Two different articles this close are a coin toss: precision first, so neither.
AMBIGUITY_MARGIN = 0.03
# A quoted message found in a text is the text (pasted) when its words are at least this
# share of the text's letters; a shorter one is merely mentioned in a question.
MESSAGE_MIN_SHARE = 0.5
# A quoted message of this many letters or more (spaces not counted, about four words), found whole in a
# longer description ("it says 'All payment accounts are added' but the card isn't there"), was read off
# the screen: it names its article before the description's words do (round 11, docs/helpcentre.md).
QUOTED_MIN_CHARS = 20
_KEYWORD_REASON = "matches the search words"
# Letter-level similarity below this is not a typo any more, just shared letters.
LETTERS_MIN = 0.85
FRAGMENT_MIN_CHARS = 20
PREFIX_MIN_CHARS = 30
FRAGMENT_MIN_SHARE = 0.5
# A keyword is a weaker witness than a quoted message.
KEYWORD_FACTOR = 0.9
# A placeholder stands for a value (code, number, date, name): bounded, so that a
# long pasted message cannot make a pattern with several wildcards backtrack for long.
_WILDCARD = r"[^ ](?:[^ ]| ){0,79}?"


@dataclass(frozen=True, slots=True)
class _Pattern:
    article_index: int
    text: str  # as written in the data file, for the reason line
    origin: str | None  # None: the article quotes it; else where a mapped message came from
    regex: re.Pattern[str]
    literal_chars: int  # more literal text = more specific, wins a tie between articles
    key_token: str  # the rarest literal word: the pattern can only match if the message has it


@dataclass(frozen=True, slots=True)
class _WordsEntry:
    article_index: int
    text: str
    is_keyword: bool
    squashed: str  # normalised, placeholders removed: for character-level similarity
    weights: Mapping[str, float]
    total: float


def _compile_message(text: str) -> tuple[re.Pattern[str], int, list[str]] | None:
    """A quoted message as a regex over normalised text; None when it has no words of its own."""
    raw = _TRAILING_ELLIPSIS.sub("", text.strip())
    items: list[str | None] = []  # a word, or None for a placeholder
    pos = 0
    for m in _PLACEHOLDER.finditer(raw):
        items.extend(normalise(raw[pos : m.start()]).split())
        items.append(None)
        pos = m.end()
    items.extend(normalise(raw[pos:]).split())
    words = [w for w in items if w is not None]
    if not words:
        return None
    body = ""
    need_sep = False
    previous: str | None = ""
    for i, item in enumerate(items):
        if item is None and previous is None:
            continue  # two placeholders in a row say no more than one
        previous = item
        if item is None:
            # A placeholder stands for a value, and a value can be blank ("Account Code ").
            piece, optional = _WILDCARD, True
        else:
            piece, optional = re.escape(item), i == 0 and item in _OPTIONAL_LABELS and len(words) > 1
        if optional and not need_sep:
            body += f"(?:{piece} )?"
        elif optional:
            body += f"(?: {piece})?"
        else:
            body += (" " if need_sep else "") + piece
            need_sep = True
    # Matching inside a longer message (a vendor wrapper, a "Publishing failed:" prefix)
    # is still the quoted message; the boundaries keep it to whole words.
    regex = re.compile(rf"(?<![^ ]){body}(?![^ ])")
    return regex, sum(len(w) for w in words), words


def _letters_score(query: str, text: str) -> float:
    """Letter-level closeness for what word overlap misses: typos, "doesnt", a cut-off end."""
    whole = fuzz.ratio(query, text) / 100
    score = whole if whole >= LETTERS_MIN else 0.0
    if len(query) < len(text):
        # A message cut short (a narrow column, a notification) is the start of the quoted one.
        if len(query) >= PREFIX_MIN_CHARS:
            start = fuzz.ratio(query, text[: len(query)]) / 100
            if start >= LETTERS_MIN:
                score = max(score, start)
        # Any other piece of it must carry at least half of it to say which article it is.
        if len(query) >= FRAGMENT_MIN_CHARS and FRAGMENT_MIN_SHARE * len(text) <= len(query):
            part = fuzz.partial_ratio(query, text) / 100
            if part >= LETTERS_MIN:
                score = max(score, part)
    return score


def _confident(found: list[ArticleMatch]) -> bool:
    top = found[0]
    if top.how == "exact":
        return True
    if top.score < WORDS_THRESHOLD:
        return False
    # Two articles neck and neck on words alone: either could be wrong.
    return not (len(found) > 1 and top.score - found[1].score < AMBIGUITY_MARGIN)


def prepare_messages(
    articles: Sequence[Article], mapped: list[list[tuple[str, str]]], shown: str
) -> tuple[tuple[_Pattern, ...], tuple[_WordsEntry, ...]]:
    """Quoted messages compiled, messages' and keywords' word weights (IDF); mapped: (message, from) per article.

    HelpCentreError when a message has no words of its own (only placeholders)."""
    compiled: list[tuple[int, str, str | None, re.Pattern[str], int, list[str]]] = []
    texts: list[tuple[int, str, bool]] = []  # (article, text, is_keyword)
    for index, article in enumerate(articles):
        origins = dict(mapped[index])
        for text in article.messages:
            result = _compile_message(text)
            if result is None:
                raise _fail(f"{shown} article {article.id}", f"has a message with no words of its own: {text!r}")
            regex, literal_chars, words = result
            compiled.append((index, text, origins.get(text), regex, literal_chars, words))
            texts.append((index, text, False))
        for keyword in article.keywords:
            texts.append((index, keyword, True))

    # Keywords shared by several articles point nowhere in particular.
    keyword_articles: dict[str, set[int]] = {}
    for index, text, is_keyword in texts:
        if is_keyword:
            keyword_articles.setdefault(normalise(text), set()).add(index)

    # Word weights: a word found in few articles says more than one found in many.
    doc_tokens: dict[int, set[str]] = {}
    for index, text, _ in texts:
        doc_tokens.setdefault(index, set()).update(_content_tokens(_squash(text)))
    df: dict[str, int] = {}
    for doc in doc_tokens.values():
        for t in doc:
            df[t] = df.get(t, 0) + 1
    n_docs = max(1, len(doc_tokens))
    idf = {t: math.log(1 + n_docs / c) for t, c in df.items()}

    patterns: list[_Pattern] = []
    for index, text, origin, regex, literal_chars, words in compiled:
        # Any literal word of the pattern must be in the message; the rarest narrows most.
        key = min(words, key=lambda w: (df.get(_stem(w), 0), -len(w)))
        if key in _OPTIONAL_LABELS and len(words) > 1:
            key = min(words[1:], key=lambda w: (df.get(_stem(w), 0), -len(w)))
        patterns.append(_Pattern(index, text, origin, regex, literal_chars, key))

    entries: list[_WordsEntry] = []
    for index, text, is_keyword in texts:
        squashed = _squash(text)
        tokens = _content_tokens(squashed)
        if is_keyword:
            if len(keyword_articles[normalise(text)]) > 1:
                continue
            if len(set(tokens)) < 2 and not _is_acronym(text):
                continue
        weights = {t: idf[t] for t in tokens}
        if not weights:
            continue
        entries.append(_WordsEntry(index, text, is_keyword, squashed, weights, sum(weights.values())))
    return tuple(patterns), tuple(entries)


def _is_acronym(keyword: str) -> bool:
    # "GUID", "2FA", "OFX": one word, but nobody types it by accident.
    k = keyword.strip()
    return 3 <= len(k) <= 6 and k.isupper() and k.isalnum()


class MessageIndex:
    """The quoted messages and keywords of the articles, indexed by their words."""

    def __init__(
        self, articles: tuple[Article, ...], patterns: tuple[_Pattern, ...], words_entries: tuple[_WordsEntry, ...]
    ) -> None:
        self.articles = articles
        self.patterns = patterns
        self.words_entries = words_entries
        self._pattern_index: dict[str, list[_Pattern]] = {}
        for p in patterns:
            self._pattern_index.setdefault(p.key_token, []).append(p)
        self._words_index: dict[str, list[int]] = {}
        for i, entry in enumerate(words_entries):
            for token in entry.weights:
                self._words_index.setdefault(token, []).append(i)
        self._idf_max = max((w for e in words_entries for w in e.weights.values()), default=1.0)
        self._idf = {t: w for e in words_entries for t, w in e.weights.items()}
        # Typos are looked up among vocabulary words with the same first letter only:
        # a tenth of the vocabulary, which keeps a miss cheap.
        self._vocab_by_initial: dict[str, list[str]] = {}
        for token in self._words_index:
            if len(token) >= 4:
                self._vocab_by_initial.setdefault(token[0], []).append(token)

    def exact(self, text: str, tokens: list[str], min_share: float = 0.0, min_chars: int = 0) -> list[ArticleMatch]:
        """Articles quoting a message found in text (normalised; tokens: its words), most literal first."""
        # min_share: the least share of the text's letters the quoted message's own words must be;
        # min_chars: the least number of them.
        least = max(min_share * (len(text) - text.count(" ")), min_chars)
        found: dict[int, tuple[_Pattern, int]] = {}  # by id: a pattern is listed under each of its words
        for token in dict.fromkeys(tokens):
            for pattern in self._pattern_index.get(token, ()):
                if id(pattern) not in found and pattern.literal_chars >= least and (m := pattern.regex.search(text)):
                    found[id(pattern)] = (pattern, m.start())
        if not found:
            return []
        # The most literal text wins: "Invoice was not approved, please check..." beats
        # "Invoice xxx was not approved..." for the same words; then the one said first, so that one text
        # always has one reason (not the order of a set, which changes from process to process).
        hits = sorted(found.values(), key=lambda h: (-h[0].literal_chars, h[0].article_index, h[1], h[0].text))
        out: list[ArticleMatch] = []
        for p, _ in hits:
            article = self.articles[p.article_index]
            if p.origin is None:
                reason = f'quotes "{p.text}"'
            else:
                reason = f'covers the {p.origin} message "{p.text}"'
            out.append(ArticleMatch(article, "exact", 1.0, reason, None))
        return out

    def by_words(self, text: str, tokens: list[str]) -> list[ArticleMatch]:
        """Articles whose quoted message or keyword shares text's words, best first, score 0..1."""
        query = self._query_weights(tokens)
        if not query:
            return []
        q_total = sum(query.values())
        candidates: set[int] = set()
        for token in query:
            candidates.update(self._words_index.get(token, ()))
        squashed = " ".join(t for t in tokens if not t.isdigit())
        best: dict[int, tuple[float, _WordsEntry]] = {}
        for i in sorted(candidates):  # in order: of equal scores for one article, always the same entry
            entry = self.words_entries[i]
            common = [w for t, w in entry.weights.items() if t in query]
            # One shared word ("Token", "Invoice", "Error") says which topic, not which article.
            if len(common) < min(2, len(entry.weights)):
                continue
            shared = sum(common)
            # Word overlap, both ways: the article's words the message has (recall) and
            # the message's words the article has (precision), rare words counting more.
            recall = shared / entry.total
            precision = shared / q_total
            score = 2 * recall * precision / (recall + precision)
            if entry.is_keyword:
                score *= KEYWORD_FACTOR
            elif precision >= 0.5:
                # Letters only matter when most of the message's words are the article's:
                # a typo or a cut-off end leaves those, unrelated text does not.
                score = max(score, _letters_score(squashed, entry.squashed))
            if score > best.get(entry.article_index, (0.0, entry))[0]:
                best[entry.article_index] = (score, entry)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        out: list[ArticleMatch] = []
        for index, (score, entry) in ranked:
            # Runners-up just under the threshold are kept: they can make the top one unsure.
            if score < WORDS_THRESHOLD - AMBIGUITY_MARGIN:
                break
            if entry.is_keyword:
                reason = f'{_KEYWORD_REASON} "{entry.text}" (score {score:.2f})'
            else:
                reason = f'close to the message "{entry.text}" (score {score:.2f})'
            out.append(ArticleMatch(self.articles[index], "words", round(score, 3), reason, None))
        return out

    def _query_weights(self, tokens: list[str]) -> dict[str, float]:
        weights: dict[str, float] = {}
        for token in _content_tokens(" ".join(tokens)):
            known = token if token in self._idf else self._correct(token)
            weights[known] = self._idf.get(known, self._idf_max)
        return weights

    def _correct(self, token: str) -> str:
        if len(token) < 4:
            return token
        choices = self._vocab_by_initial.get(token[0])
        if not choices:
            return token
        hit = process.extractOne(token, choices, scorer=fuzz.ratio, score_cutoff=85)
        return hit[0] if hit else token
