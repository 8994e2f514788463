"""The AutoEntry Help Centre article for a status or an exact error message.

Precision first: a wrong specific article sends a bookkeeper down the wrong path, so
a message only gets a specific article when an article quotes it (exact tier) or
its words are confidently close (words tier); otherwise it gets the general article
for its state plus a Help Centre search link for the exact message.

`/integration-status article <text>` (``search``) also takes a question or description in
the person's own words: BM25 (bm25s, Snowball stems from PyStemmer) over each article's title,
messages, keywords, asked_as phrases and fix, single words and neighbouring pairs, read through the
synonym vocabulary in bot/helpcentre/data/vocabulary.json, and only when the best article covers
the question well and is for the package it names (docs/helpcentre.md).

Everything expensive (normalising, compiling placeholders into regexes, word
weights, the token index, the BM25 index) happens once in ``HelpCentre.load``; ``match``
only normalises the incoming message and looks it up.
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlencode, urlsplit

import bm25s
import Stemmer
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

ENV_VAR = "HELP_CENTRE_ARTICLES"
TOPICS = ("status", "publication", "sync_app", "not_integrated")
SEARCH_BASE_URL = "https://help.autoentry.com/en/"

# Tuned on tests/helpcentre_cases.json (see docs/helpcentre.md): the lowest words
# score of a labelled paraphrase sits above it, the highest unrelated message below.
WORDS_THRESHOLD = 0.78
# Two different articles this close are a coin toss: precision first, so neither.
AMBIGUITY_MARGIN = 0.03
# A quoted message found in a text is the text (pasted) when its words are at least this
# share of the text's letters; a shorter one is merely mentioned in a question.
MESSAGE_MIN_SHARE = 0.5
_KEYWORD_REASON = "matches the search words"
# Letter-level similarity below this is not a typo any more, just shared letters.
LETTERS_MIN = 0.85
FRAGMENT_MIN_CHARS = 20
PREFIX_MIN_CHARS = 30
FRAGMENT_MIN_SHARE = 0.5
# A keyword is a weaker witness than a quoted message.
KEYWORD_FACTOR = 0.9
# Feed messages are bounded upstream (2000 chars); the cap keeps matching fast on
# anything else a user pastes.
MAX_MATCH_CHARS = 2000
MAX_FUZZY_CHARS = 300
MAX_SEARCH_QUERY_CHARS = 200
MAX_SEARCH_ENCODED_CHARS = 600

_APOSTROPHES = re.compile(r"[’‘ʼ`´']")
_NON_WORD = re.compile(r"[\W_]+")
_PLACEHOLDER = re.compile(
    r"<[^<>]{1,40}>"  # <date>, <CODE>, <TAX CODE>
    r"|\[[^\[\]]{1,40}\]"  # [number]
    r"|#{2,}"  # ###
    r"|\b(?:DD|MM|YYYY|YY)(?:[/.-](?:DD|MM|YYYY|YY)){1,2}\b"  # DD/MM/YYYY, DD-MM-YYYY
    r"|\b[xX]{2,}\b"  # xx, xxx, XXXX
)
_TRAILING_ELLIPSIS = re.compile(r"(?:\.\.\.|…)[\s\W]*$")
# A label the article may print before a message, or the feed may leave off.
_OPTIONAL_LABELS = ("information", "error", "warning")
# A placeholder stands for a value (code, number, date, name): bounded, so that a
# long pasted message cannot make a pattern with several wildcards backtrack for long.
_WILDCARD = r"[^ ](?:[^ ]| ){0,79}?"

_STOPWORDS = frozenset(
    "a an the to of in on at for by with from as is it its be been being are was were "
    "has have had this that these those or and your you we our my i me please can could "
    "would should will do does did so if than then there their into per but because when which who what".split()
)


class HelpCentreError(Exception):
    """The article list cannot be used; the message is one line naming HELP_CENTRE_ARTICLES."""


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str
    url: str
    messages: tuple[str, ...]
    keywords: tuple[str, ...]
    fix_summary: str
    integrations: tuple[str, ...]
    # How people ask for it, written by the Help Centre's editors from the article (optional):
    # read by the own-words tier only, never by message matching.
    asked_as: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ArticleMatch:
    article: Article
    how: str  # "exact" | "words" | "own words" (a question: search() only) | "general"
    score: float
    reason: str
    search_url: str | None

    @property
    def specific(self) -> bool:
        return self.how != "general"


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


def normalise(text: str) -> str:
    """Case, quotes, dashes, punctuation and white space folded away: the form matching compares."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def search_url(message: str, base: str = SEARCH_BASE_URL) -> str:
    """The Help Centre's search for this message, short enough for a Slack link."""
    query = " ".join(message.split())[:MAX_SEARCH_QUERY_CHARS]
    encoded = urlencode({"q": query})
    # Non-Latin text grows up to 9-fold when encoded; the words at the start find the article.
    while len(encoded) > MAX_SEARCH_ENCODED_CHARS:
        query = query[: len(query) * 3 // 4].rstrip()
        encoded = urlencode({"q": query})
    return f"{base}?{encoded}"


def _stem(token: str) -> str:
    # Only the plural: "invoices" should meet "invoice"; anything stronger merges distinct words.
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def _content_tokens(normalised: str) -> list[str]:
    # Numbers are values (codes, amounts, dates), not words an article is found by.
    return [_stem(t) for t in normalised.split() if t not in _STOPWORDS and not t.isdigit()]


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


def _fail(where: str, problem: str) -> HelpCentreError:
    return HelpCentreError(f"{ENV_VAR}: {where} {problem}")


def _str_list(value: Any, where: str, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, f"field '{field}' must be a list of strings")
    return tuple(value)


def _required_str(record: Mapping[str, Any], field: str, where: str, *, empty_ok: bool = False) -> str:
    if field not in record:
        raise _fail(where, f"is missing field '{field}'")
    value = record[field]
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise _fail(where, f"field '{field}' must be a non-empty string")
    return value


def _check_url(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise _fail(where, f"has a bad URL {url!r} (need an http(s) address)")


class HelpCentre:
    """The curated article list, ready to match messages against."""

    def __init__(
        self,
        articles: tuple[Article, ...],
        general: Mapping[str, Article],
        patterns: tuple[_Pattern, ...],
        words_entries: tuple[_WordsEntry, ...],
        source: str,
        search_base: str = SEARCH_BASE_URL,
        vocabulary: "Vocabulary | None" = None,
    ) -> None:
        self.articles = articles
        self._own = _OwnWords(articles, vocabulary if vocabulary is not None else Vocabulary.load())
        # Words of the articles and vocabulary that Snowball gives one stem though they differ
        # ("set", "settings"), not declared in the vocabulary's keep_apart or same_stem: [] is clean.
        self.stem_collisions = self._own.stem_collisions
        self.source = source
        self._matches: dict[tuple[str | None, str], ArticleMatch] = {}
        self._search_base = search_base
        self._general = dict(general)
        self._by_id = {a.id: a for a in articles}
        self._patterns = patterns
        self._words = words_entries
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

    # ---- loading -------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, vocabulary: "Vocabulary | None" = None) -> "HelpCentre":
        """The bundled list (path None or empty) or the JSON file at path; vocabulary: the bundled one when None."""
        if path is None or str(path) == "":
            resource = resources.files("bot.helpcentre").joinpath("data", "articles.json")
            shown = str(resource)
            try:
                text = resource.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise _fail(shown, f"cannot be read ({_os_reason(exc)})") from None
        else:
            shown = os.fspath(path)
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise _fail(shown, f"cannot be read ({_os_reason(exc)})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(shown, f"is not valid JSON (line {exc.lineno}: {exc.msg})") from None
        return cls._from_data(data, shown, vocabulary)

    @classmethod
    def _from_data(cls, data: Any, shown: str, vocabulary: "Vocabulary | None" = None) -> "HelpCentre":
        if not isinstance(data, dict):
            raise _fail(shown, "must hold a JSON object with 'general' and 'articles'")
        raw_articles = data.get("articles")
        if not isinstance(raw_articles, list) or not raw_articles:
            raise _fail(shown, "must have a non-empty list 'articles'")

        articles: list[Article] = []
        mapped: list[list[tuple[str, str]]] = []
        seen: set[str] = set()
        for n, record in enumerate(raw_articles):
            where = f"{shown} articles[{n}]"
            if not isinstance(record, dict):
                raise _fail(where, "must be a JSON object")
            article_id = record.get("id")
            if isinstance(article_id, int) and not isinstance(article_id, bool):
                article_id = str(article_id)
            if not isinstance(article_id, str) or not article_id.strip():
                raise _fail(where, "is missing field 'id' (a non-empty string)")
            where = f"{shown} article {article_id}"
            if article_id in seen:
                raise _fail(where, "appears twice")
            seen.add(article_id)
            title = _required_str(record, "title", where)
            url = _required_str(record, "url", where)
            _check_url(url, where)
            for field in ("messages", "keywords", "integrations"):
                if field not in record:
                    raise _fail(where, f"is missing field '{field}'")
            quoted = _str_list(record["messages"], where, "messages")
            extra: list[tuple[str, str]] = []
            raw_mapped = record.get("mapped_messages", [])
            if not isinstance(raw_mapped, list):
                raise _fail(where, "field 'mapped_messages' must be a list")
            for item in raw_mapped:
                if isinstance(item, str):
                    extra.append((item, "related"))
                elif isinstance(item, dict) and isinstance(item.get("text"), str):
                    extra.append((item["text"], str(item.get("from") or "related")))
                else:
                    raise _fail(where, 'field \'mapped_messages\' must hold strings or {"text", "from"} objects')
            articles.append(
                Article(
                    id=article_id,
                    title=" ".join(title.split()),
                    url=url,
                    messages=quoted + tuple(text for text, _ in extra),
                    keywords=_str_list(record["keywords"], where, "keywords"),
                    fix_summary=_required_str(record, "fix_summary", where, empty_ok=True),
                    integrations=_str_list(record["integrations"], where, "integrations"),
                    asked_as=_str_list(record.get("asked_as", []), where, "asked_as"),
                )
            )
            mapped.append(extra)

        by_id = {a.id: a for a in articles}
        raw_general = data.get("general")
        if not isinstance(raw_general, dict):
            raise _fail(shown, f"must have an object 'general' naming an article for each of {', '.join(TOPICS)}")
        general: dict[str, Article] = {}
        for topic in TOPICS:
            ref = raw_general.get(topic)
            if isinstance(ref, int) and not isinstance(ref, bool):
                ref = str(ref)
            if not isinstance(ref, str):
                raise _fail(shown, f"'general' has no article for '{topic}'")
            # A general article may be named by id or by its URL.
            found = by_id.get(ref) or next((a for a in articles if a.url == ref), None)
            if found is None:
                raise _fail(shown, f"'general' names article {ref!r} for '{topic}', which is not in 'articles'")
            general[topic] = found

        patterns, words_entries = _prepare(articles, mapped, shown)
        source = str(data["source"]) if isinstance(data.get("source"), str) else ""
        search_base = data.get("search_url", SEARCH_BASE_URL)
        if not isinstance(search_base, str):
            raise _fail(shown, "field 'search_url' must be a string")
        _check_url(search_base, shown)
        return cls(tuple(articles), general, patterns, words_entries, source, search_base, vocabulary)

    # ---- queries ---------------------------------------------------------------

    def general(self, topic: str) -> Article:
        try:
            return self._general[topic]
        except KeyError:
            raise ValueError(f"unknown Help Centre topic {topic!r} (one of {', '.join(TOPICS)})") from None

    def get(self, article_id: str) -> Article | None:
        return self._by_id.get(article_id)

    def match(self, message: str | None, topic: str) -> ArticleMatch:
        """The one article to link for this message; the topic's general article when none is sure."""
        # A storm renders the same few messages a thousand times: remember the answers (they are pure).
        key = (message, topic)
        cached = self._matches.get(key)
        if cached is None:
            cached = self._match(message, topic)
            if len(self._matches) >= 4096:
                self._matches.clear()
            self._matches[key] = cached
        return cached

    def _match(self, message: str | None, topic: str) -> ArticleMatch:
        fallback = self.general(topic)
        if message is None or not message.strip():
            return ArticleMatch(fallback, "general", 0.0, f"no message: general article for {_topic_words(topic)}", None)
        found = self._candidates(message, exact_is_enough=True)
        if found and _confident(found):
            return found[0]
        return self._general_match(fallback, message, topic)

    def search(self, message: str, limit: int = 3) -> list[ArticleMatch]:
        """For `/integration-status article <text>`: up to `limit` specific matches, best first, else the general one.

        A pasted message (an article quotes most of it, or it is close to a quoted message)
        is answered by the message tiers; a question or description by the own-words tier
        (docs/helpcentre.md), then any keyword or short message it mentions.
        """
        if not message or not message.strip():
            return [ArticleMatch(self.general("publication"), "general", 0.0, "no message given", None)]
        # Unlike match(), close runners-up are shown: the person picks from the list.
        text = normalise(message[:MAX_MATCH_CHARS])
        tokens = text.split()
        exact = self._exact(text, tokens) if tokens else []
        # A quoted message that is most of the text: the person pasted the message.
        pasted = self._exact(text, tokens, MESSAGE_MIN_SHARE) if exact else []
        words = [m for m in self._by_words(text[:MAX_FUZZY_CHARS], tokens) if m.score >= WORDS_THRESHOLD] if tokens else []
        close = [m for m in words if not m.reason.startswith(_KEYWORD_REASON)]
        if pasted or close:
            ordered = pasted + close + words + exact
        else:
            # A question or a description: the articles it is about first, then any keyword it
            # names or a short message it mentions ("... not integrated").
            ordered = self._by_own_words(message) + words + exact
        found: list[ArticleMatch] = []
        for m in ordered:
            if all(m.article.id != f.article.id for f in found):
                found.append(m)
        if found:
            return found[: max(1, limit)]
        return [self._general_match(self.general("publication"), message, "publication")]

    def _by_own_words(self, message: str) -> list[ArticleMatch]:
        """Articles a question or description is about; none unless the best one is sure."""
        ranked = self._own.rank(message)
        if not ranked or not (_own_words_sure(ranked[0]) or _own_words_clearly_ahead(ranked)):
            return []
        best = ranked[0].score
        out: list[ArticleMatch] = []
        for r in ranked:
            if r is not ranked[0] and (r.score < OWN_WORDS_RUNNER_UP_SHARE * best or not _own_words_sure(r)):
                continue
            shown = round(OWN_WORDS_SCORE_CEILING * r.coverage * r.score / best, 3)
            out.append(ArticleMatch(self.articles[r.index], "own words", shown, self._own.reason(r), None))
        return out

    # ---- internals -------------------------------------------------------------

    def _general_match(self, article: Article, message: str, topic: str) -> ArticleMatch:
        return ArticleMatch(
            article,
            "general",
            0.0,
            f"no article quotes this message: general article for {_topic_words(topic)}",
            search_url(message, self._search_base),
        )

    def _candidates(self, message: str, exact_is_enough: bool = False) -> list[ArticleMatch]:
        """Specific matches, one per article, best first."""
        text = normalise(message[:MAX_MATCH_CHARS])
        if not text:
            return []
        tokens = text.split()
        exact = self._exact(text, tokens)
        if exact and exact_is_enough:
            return exact
        words = self._by_words(text[:MAX_FUZZY_CHARS], tokens)
        results: list[ArticleMatch] = []
        seen: set[str] = set()
        for m in exact + words:
            if m.article.id not in seen:
                seen.add(m.article.id)
                results.append(m)
        return results

    def _exact(self, text: str, tokens: list[str], min_share: float = 0.0) -> list[ArticleMatch]:
        # min_share: the least share of the text's letters the quoted message's own words must be.
        least = min_share * (len(text) - text.count(" "))
        hits: list[_Pattern] = []
        for token in set(tokens):
            for pattern in self._pattern_index.get(token, ()):
                if pattern.literal_chars >= least and pattern.regex.search(text):
                    hits.append(pattern)
        if not hits:
            return []
        # The most literal text wins: "Invoice was not approved, please check..." beats
        # "Invoice xxx was not approved..." for the same words.
        hits.sort(key=lambda p: (-p.literal_chars, p.article_index))
        out: list[ArticleMatch] = []
        for p in hits:
            article = self.articles[p.article_index]
            if p.origin is None:
                reason = f'quotes "{p.text}"'
            else:
                reason = f'covers the {p.origin} message "{p.text}"'
            out.append(ArticleMatch(article, "exact", 1.0, reason, None))
        return out

    def _by_words(self, text: str, tokens: list[str]) -> list[ArticleMatch]:
        query = self._query_weights(tokens)
        if not query:
            return []
        q_total = sum(query.values())
        candidates: set[int] = set()
        for token in query:
            candidates.update(self._words_index.get(token, ()))
        squashed = " ".join(t for t in tokens if not t.isdigit())
        best: dict[int, tuple[float, _WordsEntry]] = {}
        for i in candidates:
            entry = self._words[i]
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


_INFLECTIONS = frozenset(("", "s", "es", "e", "ed", "d", "ing", "y", "ies", "ied"))


def _inflection(base: str, word: str) -> bool:
    """Whether word is base with an inflection's ending ("swap", "swapped"; "activity", "activities")."""
    common = os.path.commonprefix([base, word])
    rest = [base[len(common) :], word[len(common) :]]
    # A doubled last letter ("run", "running") belongs to the ending.
    rest = [r[1:] if r[:1] == common[-1:] and r[1:] in _INFLECTIONS - {""} else r for r in rest]
    return len(common) >= 2 and all(r in _INFLECTIONS for r in rest)


def _own_words_sure(r: "_Ranked") -> bool:
    return r.coverage >= OWN_WORDS_MIN_COVERAGE and len(r.typed) >= OWN_WORDS_MIN_SHARED and not r.elsewhere


def _own_words_clearly_ahead(ranked: list["_Ranked"]) -> bool:
    """A second chance for the best article below the coverage gate: a longer text shares many
    things typed (words or phrases: "two factor" is one) with it, it has half the text's weight, and it scores well ahead of the next one
    (a description with filler the articles lack, not a text about something else)."""
    best = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    return (
        best.coverage >= OWN_WORDS_AHEAD_MIN_COVERAGE
        and len({t.typed for t in best.found}) >= OWN_WORDS_AHEAD_MIN_SHARED  # a phrase is one thing
        and not best.elsewhere
        and best.score >= OWN_WORDS_AHEAD_FACTOR * second
    )


def _topic_words(topic: str) -> str:
    return {
        "status": "the integration status",
        "publication": "publication errors",
        "sync_app": "the Desktop Sync App",
        "not_integrated": "reconnecting the integration",
    }.get(topic, topic)


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def _prepare(
    articles: list[Article], mapped: list[list[tuple[str, str]]], shown: str
) -> tuple[tuple[_Pattern, ...], tuple[_WordsEntry, ...]]:
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


def _squash(text: str) -> str:
    """Normalised with placeholders and a trailing ellipsis left out: the words a person would type."""
    text = _TRAILING_ELLIPSIS.sub("", text)
    return normalise(_PLACEHOLDER.sub(" ", text))


def _is_acronym(keyword: str) -> bool:
    # "GUID", "2FA", "OFX": one word, but nobody types it by accident.
    k = keyword.strip()
    return 3 <= len(k) <= 6 and k.isupper() and k.isalnum()


# ---- own words: questions and descriptions -------------------------------------------------

# Words that carry no topic in a question ("how do I ...", "it says ...", "getting an error").
_QUESTION_STOPWORDS = _STOPWORDS | frozenset(
    "how why where whats what whether im ive id dont doesnt didnt cant cannot wont isnt arent wasnt "
    "hasnt havent shouldnt couldnt wouldnt us them they he she him her his hers it its theres heres "
    "some any all each every no not just still now also only very really again anyway already yet "
    "get gets getting got make makes made need needs want wants wanted see seen show shows showing "
    "say says said keep keeps tell know think try trying tried use using used go goes going went "
    "there here about after before since while until through up down out off over under "
    "error errors message problem issue help please thanks hi hello ok okay saying someone anyone "
    "one two mean means meaning happen happens happened do done work works working way thing things "
    "should shall may might must am vs instead ago never next page steps earlier later ask asked asking "
    "today todays yesterday yesterdays tomorrow overnight morning afternoon "
    # Filler of everyday speech: it says how the person feels or when, not what about.
    "nothing anything something everything fine actually honestly basically literally totally "
    "completely simply bit lot guys hey hiya urgent urgently asap quick quickly question query "
    "wondering wonder advice able else currently recently suddenly anymore exactly properly "
    "last month months week weeks day days ages idea clue sure".split()
    # The product itself: every article is about AutoEntry.
    + ["autoentry"]
)
# bm25s's BM25 (Lucene variant, its defaults k1 1.5, b 0.75) over one bag of words per article,
# each field counted this many times: a title says most about what an article is for.
_FIELD_REPEATS = {"title": 8, "messages": 2, "keywords": 2, "asked_as": 2, "fix": 1, "integrations": 2}
_FIELD_NAMES = {
    "title": "title",
    "messages": "quoted messages",
    "keywords": "keywords",
    "asked_as": "usual questions",
    "fix": "fix",
    "integrations": "software",
}
# Tuned on the tuning part of tests/helpcentre_own_words.json (docs/helpcentre.md):
# the share of the question's weight (IDF) the best article must have,
OWN_WORDS_MIN_COVERAGE = 0.6
# the question's words it must have (one shared word says which topic, not which article),
OWN_WORDS_MIN_SHARED = 2
# and a word no article has weighs this many times the rarest known word: "printer" or
# "payroll" is what the text is about, and no article has it.
OWN_WORDS_UNKNOWN_WEIGHT = 1.0
# Second chance (_own_words_clearly_ahead): an article with this share of the question's weight,
# this many of the things typed (a phrase is one) and this many times the next article's score is sure too.
OWN_WORDS_AHEAD_MIN_COVERAGE = 0.5
OWN_WORDS_AHEAD_MIN_SHARED = 4
OWN_WORDS_AHEAD_FACTOR = 1.5
# Runners-up are shown only when they score at least this share of the best.
OWN_WORDS_RUNNER_UP_SHARE = 0.6
# Own-words scores sit below any message match (0.78 and up): a question is a weaker witness.
OWN_WORDS_SCORE_CEILING = 0.75
OWN_WORDS_MAX_PHRASE = 5
# A word this long or longer that no article has is read as the known word one typo away;
# a shorter one only when two neighbouring letters are swapped ("xreo"), else left as typed
# ("rules" is not "roles").
OWN_WORDS_TYPO_MIN_LETTERS = 6
# A phrase read as n words of the articles weighs n ** (1 - this) words in the share of the
# question an article has: 1, as one word.
OWN_WORDS_PHRASE_SPLIT = 1.0
# How much the name of an accounting package counts in a question, against other words.
OWN_WORDS_SOFTWARE_FACTOR = 0.5
# How much two of the text's words side by side count when an article has them side by side.
OWN_WORDS_PAIR_FACTOR = 0.25
# The BM25 score is multiplied by the share of the question's weight the article has, to this power,
OWN_WORDS_COVERAGE_POWER = 1.0
# and by 1 + this times the share of the article's title words the text has,
OWN_WORDS_TITLE_BONUS = 0.5
# and by this when the text names an accounting package the article is not for.
OWN_WORDS_OTHER_PACKAGE_FACTOR = 0.3


def _pairs(stems: list[str]) -> list[str]:
    """Neighbouring stems as one term ("compani setting~"): phrases, for BM25 (a space never occurs in a stem)."""
    return [f"{a} {b}" for a, b in zip(stems, stems[1:]) if a != b]


class VocabularyError(HelpCentreError):
    """The vocabulary file cannot be used; one line naming the file."""


@dataclass(frozen=True, slots=True)
class _Term:
    stem: str
    word: str  # the word as the articles say it (after the vocabulary)
    typed: str  # what the person typed for it
    said: str  # the articles' phrase it was read as


@dataclass(frozen=True, slots=True)
class _Ranked:
    index: int  # into HelpCentre.articles
    score: float  # BM25
    coverage: float  # share of the question's weight this article has, 0..1
    found: tuple[_Term, ...]  # the question's terms this article has
    typed: frozenset[str]  # the words typed for them ("benefits of integrating": both)
    elsewhere: tuple[str, ...]  # words naming something no article is about, which this one lacks


class Vocabulary:
    """Phrases people use for the same thing, read as the articles' phrase (data: vocabulary.json).

    Phrases are compared stem by stem (Snowball English stems from PyStemmer), so "warning
    triangles" is the phrase "warning triangle"; the longest phrase at a position wins.
    `elsewhere` holds words that name other systems or office matters ("payroll", "windows",
    "email"): text with one that the article does not mention is not about that article.
    Snowball gives some different words one stem ("accounting" and "account", "settings" and
    "set"): `keep_apart` words keep their own (plural folded), and `same_stem` lists the
    derived words accepted to share one ("integration", "integrate"); see `stem_collisions`.
    """

    def __init__(
        self,
        groups: list[list[str]],
        elsewhere: Sequence[str] = (),
        software: Sequence[str] = (),
        keep_apart: Sequence[str] = (),
        same_stem: Sequence[str] = (),
        packages: Sequence[str] = (),
    ) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._stems: dict[str, str] = {}
        self._keep_apart = frozenset(normalise(w) for w in keep_apart)
        self._same_stem = frozenset(normalise(w) for w in same_stem)
        self._phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        for group in groups:
            canonical = tuple(normalise(group[0]).split())
            for phrase in group:
                key = tuple(self.stem(w) for w in normalise(phrase).split())
                if key and len(key) <= OWN_WORDS_MAX_PHRASE:
                    self._phrases.setdefault(key, canonical)
        self._longest = max((len(k) for k in self._phrases), default=1)
        self.words = frozenset(w for group in groups for p in group for w in normalise(p).split())
        self.elsewhere = frozenset(self.stem(w) for w in (normalise(e) for e in elsewhere) if w)
        self.software = frozenset(self.stem(w) for s in software for w in normalise(s).split())
        # Words that say which accounting package a text is about: the software names, and
        # names read as one word ("sage50") that do not count half.
        self.packages = self.software | frozenset(self.stem(w) for s in packages for w in normalise(s).split())

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
        for field in ("keep_apart", "same_stem", "packages"):
            value = data.get(field, [])
            if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
                raise VocabularyError(f"vocabulary {shown} field '{field}' must be a list of words")
            stemming[field] = value
        return cls(groups, elsewhere, software, **stemming)

    def rewrite(self, words: list[str]) -> list[tuple[str, str, str]]:
        """(word as the articles say it, what was typed, the articles' phrase) per word, longest phrase first."""
        stems = [self.stem(w) for w in words]
        out: list[tuple[str, str, str]] = []
        i = 0
        n = len(words)
        while i < n:
            for size in range(min(self._longest, n - i), 0, -1):
                canonical = self._phrases.get(tuple(stems[i : i + size]))
                if canonical is not None:
                    typed = " ".join(words[i : i + size])
                    said = " ".join(canonical)
                    out.extend((w, typed, said) for w in canonical)
                    i += size
                    break
            else:
                out.append((words[i], words[i], words[i]))
                i += 1
        return out


class _OwnWords:
    """BM25 (bm25s, with Snowball stems from PyStemmer) over each article's title, quoted
    messages, keywords, fix summary and software, read through the vocabulary."""

    def __init__(self, articles: tuple[Article, ...], vocabulary: Vocabulary) -> None:
        self._vocabulary = vocabulary
        self.fields: list[dict[str, frozenset[str]]] = []
        self.packages: list[frozenset[str]] = []
        corpus: list[list[str]] = []
        known: set[str] = set(vocabulary.words)
        for article in articles:
            texts = {
                "title": [article.title],
                "messages": [_squash(m) for m in article.messages],
                "keywords": list(article.keywords),
                "asked_as": list(article.asked_as),
                "fix": [article.fix_summary],
                "integrations": list(article.integrations),
            }
            fields: dict[str, frozenset[str]] = {}
            bag: list[str] = []
            for field, pieces in texts.items():
                stems: list[str] = []
                pairs: list[str] = []
                for piece in pieces:
                    words = normalise(piece).split()
                    known.update(words)
                    piece_stems = [t.stem for t in self._terms(words)]
                    stems.extend(piece_stems)
                    pairs.extend(_pairs(piece_stems))
                fields[field] = frozenset(stems)
                # Two words side by side ("company settings", "account settings") are indexed too:
                # they tell near neighbours apart where single words cannot.
                bag.extend((stems + pairs) * _FIELD_REPEATS[field])
            self.fields.append(fields)
            corpus.append(bag)
            # The accounting packages an article is for; none when it is for all of them.
            for_all = any(normalise(i) == "all" or normalise(i).startswith("all ") for i in article.integrations)
            # Read both through the vocabulary ("sage50") and as written ("sage"), so that a text
            # naming the family ("sage id") is not taken for another package.
            named = fields["integrations"] | {vocabulary.stem(w) for i in article.integrations for w in normalise(i).split()}
            self.packages.append(frozenset() if for_all else named & vocabulary.packages)
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)
        self._term_scores: dict[str, tuple[tuple[int, float], ...]] = {}
        self._all_stems = [frozenset().union(*f.values()) for f in self.fields]
        self._topic_stems = [frozenset().union(*(v for k, v in f.items() if k != "fix")) for f in self.fields]
        df: dict[str, int] = {}
        for article_stems in self._all_stems:
            for stem in article_stems:
                df[stem] = df.get(stem, 0) + 1
        n = max(1, len(articles))
        self._idf = {s: math.log(1 + n / c) for s, c in df.items()}
        self._idf_unknown = OWN_WORDS_UNKNOWN_WEIGHT * max(self._idf.values(), default=1.0)
        # Checked at load: different words Snowball reads as one (tests hold the bundled data to none).
        self.stem_collisions = vocabulary.stem_collisions(known)
        self._known = frozenset(w for w in known if len(w) >= 4)
        self._known_by_initial: dict[str, list[str]] = {}
        for word in sorted(self._known):  # sorted: a tie between two corrections goes the same way every run
            self._known_by_initial.setdefault(word[0], []).append(word)

    def _terms(self, words: list[str]) -> list[_Term]:
        return [
            _Term(self._vocabulary.stem(word), word, typed, said)
            for word, typed, said in self._vocabulary.rewrite(words)
            if word not in _QUESTION_STOPWORDS and not word.isdigit()
        ]

    def _correct(self, word: str) -> str:
        """A misspelt word as the known word it is closest to: same first letter, one typo
        (Damerau-Levenshtein: a letter missing, extra, wrong or swapped), two in a word of 8+
        letters. More is another word ("confirmation" is not "configuration")."""
        if word in self._known or word in _QUESTION_STOPWORDS:
            return word
        if len(word) < OWN_WORDS_TYPO_MIN_LETTERS:
            # A short word is corrected only for two neighbouring letters swapped ("xreo", "sgae"):
            # any other edit of a short word is too often another word.
            for i in range(1, len(word) - 1):
                swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
                if swapped in self._known:
                    return swapped
            return word
        choices = self._known_by_initial.get(word[0])
        if not choices:
            return word
        most = 1 if len(word) < 8 else 2
        hit = process.extractOne(word, choices, scorer=DamerauLevenshtein.distance, score_cutoff=most)
        return hit[0] if hit else word

    def rank(self, text: str, limit: int = 5) -> list[_Ranked]:
        """Up to `limit` articles with a BM25 score for this text, best first."""
        words = [self._correct(w) for w in normalise(text[:MAX_FUZZY_CHARS]).split()]
        unique: dict[str, _Term] = {}
        terms = self._terms(words)
        typed_by_stem: dict[str, set[str]] = {}
        for term in terms:
            unique.setdefault(term.stem, term)
            typed_by_stem.setdefault(term.stem, set()).update(term.typed.split())
        if not unique:
            return []
        # One phrase typed counts as one thing asked, however many words the articles use for it
        # ("customer" read as "supplier contact").
        size: dict[tuple[str, str], int] = {}
        for term in terms:
            size[term.typed, term.said] = size.get((term.typed, term.said), 0) + 1
        weights = {
            s: self._idf.get(s, self._idf_unknown) / size[t.typed, t.said] ** OWN_WORDS_PHRASE_SPLIT for s, t in unique.items()
        }
        total = sum(weights.values())
        elsewhere = [s for s in unique if s in self._vocabulary.elsewhere]
        named = frozenset(s for s in unique if s in self._vocabulary.packages)
        # BM25 adds up per word; a software's name counts less (it narrows, it is not the topic).
        scores = [0.0] * len(self._all_stems)
        for stem in unique:
            factor = OWN_WORDS_SOFTWARE_FACTOR if stem in self._vocabulary.software else 1.0
            for i, x in self._scores(stem):
                scores[i] += factor * x
        # The text's words side by side, where an article has them side by side too.
        for pair in dict.fromkeys(_pairs([t.stem for t in terms])):
            for i, x in self._scores(pair):
                scores[i] += OWN_WORDS_PAIR_FACTOR * x
        ranked: list[_Ranked] = []
        for i, score in enumerate(scores):
            if score <= 0:
                continue
            have = self._all_stems[i]
            found = tuple(t for s, t in unique.items() if s in have)
            coverage = sum(weights[t.stem] for t in found) / total
            # Another system's name counts for an article only where the article is about it
            # (title, messages, keywords, usual questions), not named in passing in its fix
            # ("no email is sent" does not make an article about e-mail).
            lacks = tuple(unique[s].typed for s in elsewhere if s not in self._topic_stems[i])
            if named and self.packages[i] and not named & self.packages[i]:
                # The text names a package this article is not for ("merge contacts in quickbooks"
                # is not about a Xero contact merged): not this article.
                lacks += tuple(dict.fromkeys(unique[s].typed for s in named))
                score *= OWN_WORDS_OTHER_PACKAGE_FACTOR
            # An article that has more of what was asked ranks higher than one that has some of it often.
            typed = frozenset(w for t in found for w in typed_by_stem[t.stem])
            # A text that names most of an article's title names that article ("account settings").
            title = self.fields[i]["title"]
            title_share = len(title & unique.keys()) / len(title) if title else 0.0
            score *= coverage**OWN_WORDS_COVERAGE_POWER * (1 + OWN_WORDS_TITLE_BONUS * title_share)
            ranked.append(_Ranked(i, score, coverage, found, typed, lacks))
        ranked.sort(key=lambda r: (-r.score, r.index))
        return ranked[:limit]

    def _scores(self, term: str) -> tuple[tuple[int, float], ...]:
        """(article, BM25 score) for one term, where not 0; remembered: a few thousand terms at most."""
        found = self._term_scores.get(term)
        if found is None:
            if len(self._term_scores) > 20_000:
                self._term_scores.clear()
            found = tuple((i, float(x)) for i, x in enumerate(self._bm25.get_scores([term])) if x)
            self._term_scores[term] = found
        return found

    def reason(self, ranked: _Ranked) -> str:
        """Why: the question's words the article has, and where ("your words disconnect (“unlink”) in its title")."""
        fields = self.fields[ranked.index]
        parts: list[str] = []
        shown_typed: set[str] = set()
        for term in ranked.found:
            if term.typed in shown_typed:
                continue  # one phrase typed, read as several words ("qbo": quickbooks online)
            shown_typed.add(term.typed)
            shown = f"“{term.typed}”" if term.typed == term.said else f"“{term.typed}” ({term.said})"
            where = [name for key, name in _FIELD_NAMES.items() if term.stem in fields[key]]
            parts.append(f"{shown} in its {' and '.join(where[:2])}")
        return "your words " + "; ".join(parts)
