"""The AutoEntry Help Centre article for a status or an exact error message.

Precision first: a wrong specific article sends a bookkeeper down the wrong path, so
a message only gets a specific article when an article quotes it (exact tier) or
its words are confidently close (words tier); otherwise it gets the general article
for its state plus a Help Centre search link for the exact message.

`/integration-status article <text>` (``search``) also takes a question or description in
the person's own words: BM25 (bm25s, Snowball stems from PyStemmer) over each article's title,
messages, keywords, asked_as phrases and fix, single words and neighbouring pairs, read through the
synonym vocabulary in bot/helpcentre/data/vocabulary.json, and only when the best article covers
the question well and is for the package it names (docs/helpcentre.md). A learned classifier
(bot/helpcentre/learned.py, trained on the labelled own-words sets) puts its article first when it is
sure and the lexical tiers have none or only an own-words answer; never before a quoted message.

Everything expensive (normalising, compiling placeholders into regexes, word
weights, the token index, the BM25 index) happens once in ``HelpCentre.load``; ``match``
only normalises the incoming message and looks it up.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

from bot.helpcentre.exact import (
    _KEYWORD_REASON,
    AMBIGUITY_MARGIN,
    MESSAGE_MIN_SHARE,
    QUOTED_MIN_CHARS,
    WORDS_THRESHOLD,
    MessageIndex,
    _confident,
    _Pattern,
    _WordsEntry,
    prepare_messages,
)
from bot.helpcentre.learned import GENERAL, Classifier, bundled, fuse
from bot.helpcentre.loading import parse_article_list, parse_search_base, read_articles
from bot.helpcentre.own_words import (
    OWN_WORDS_RUNNER_UP_SHARE,
    OWN_WORDS_SCORE_CEILING,
    _own_words_clearly_ahead,
    _own_words_sure,
    _OwnWords,
    _Term,
)
from bot.helpcentre.text import (
    ENV_VAR,
    MAX_FUZZY_CHARS,
    MAX_MATCH_CHARS,
    SEARCH_BASE_URL,
    TOPICS,
    Article,
    ArticleMatch,
    HelpCentreError,
    _topic_words,
    normalise,
    search_url,
    well_formed,
    without_addresses,
)
from bot.helpcentre.vocabulary import Vocabulary, VocabularyError

# Why an article whose Help Centre link the text holds comes first.
LINKED_REASON = "its Help Centre link is in your text"
# The learned classifier's matches sit below own-words matches (up to 0.75): a model's guess, not shared words.
LEARNED_SCORE_CEILING = 0.7

# Where callers have always imported them from.
__all__ = [
    "AMBIGUITY_MARGIN",
    "ENV_VAR",
    "SEARCH_BASE_URL",
    "TOPICS",
    "WORDS_THRESHOLD",
    "Article",
    "ArticleMatch",
    "HelpCentre",
    "HelpCentreError",
    "Vocabulary",
    "VocabularyError",
    "normalise",
    "search_url",
]


class _ReadOnce(_OwnWords):
    """The own-words tier, keeping its reading of the last text: search() reads a text for the ranking and
    again for the classifier's features (a reading is about 40 µs)."""

    _last: tuple[str, list[list[_Term]]] | None = None

    def clauses(self, text: str) -> list[list[_Term]]:
        last = self._last
        if last is None or last[0] != text:
            last = (text, super().clauses(text))
            self._last = last
        return last[1]


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
        classifier: "Classifier | None" = None,
    ) -> None:
        self.articles = articles
        # A learned classifier: asked when the lexical tiers have no article or theirs is an own-words answer
        # (learned.fuse; docs/helpcentre.md, "A learned classifier"). None, or one with no weights: none.
        self._learned = classifier if classifier is not None and classifier.names else None
        learned = self._learned
        unknown = sorted(set(learned.classes) - {GENERAL} - {a.id for a in articles}) if learned else []
        if learned and unknown:
            raise HelpCentreError(
                f"Help Centre classifier {learned.origin}: classes that are not articles of the article list in use: "
                f"{', '.join(unknown[:5])}"
            )
        self._own = _ReadOnce(articles, vocabulary if vocabulary is not None else Vocabulary.load())
        # Words of the articles and vocabulary that Snowball gives one stem though they differ
        # ("set", "settings"), not declared in the vocabulary's keep_apart or same_stem: [] is clean.
        self.stem_collisions = self._own.stem_collisions
        self.source = source
        self._matches: dict[tuple[str | None, str], ArticleMatch] = {}
        self._search_base = search_base
        self._general = dict(general)
        self._by_id = {a.id: a for a in articles}
        self._index = MessageIndex(articles, patterns, words_entries)

    # ---- loading -------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        vocabulary: "Vocabulary | None" = None,
        classifier: "Classifier | None" = None,
    ) -> "HelpCentre":
        """The bundled list (path None or empty) or the JSON file at path; vocabulary: the bundled one when None;
        classifier: when None, the bundled one (bot/helpcentre/learned.py) with the bundled articles and vocabulary,
        else none (it was trained for them); Classifier.never() for the lexical tiers alone."""
        data, shown = read_articles(path)
        if classifier is None and not path and vocabulary is None:
            classifier = bundled()
        return cls._from_data(data, shown, vocabulary, classifier)

    @classmethod
    def _from_data(
        cls, data: Any, shown: str, vocabulary: "Vocabulary | None" = None, classifier: "Classifier | None" = None
    ) -> "HelpCentre":
        checked = parse_article_list(data, shown)
        patterns, words_entries = prepare_messages(checked.articles, checked.mapped, shown)
        search_base = parse_search_base(data, shown)
        return cls(
            checked.articles, checked.general, patterns, words_entries, checked.source, search_base, vocabulary, classifier
        )

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
        message = None if message is None else well_formed(message)
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
        text_given = bool(message and message.strip())
        message, ids = without_addresses(well_formed(message or ""))
        linked = [ArticleMatch(self._by_id[i], "exact", 1.0, LINKED_REASON, None) for i in ids if i in self._by_id]
        if not message.strip():
            reason = "nothing to look up but mentions and links" if text_given else "no message given"
            return linked[: max(1, limit)] or [ArticleMatch(self.general("publication"), "general", 0.0, reason, None)]
        # Unlike match(), close runners-up are shown: the person picks from the list.
        text = normalise(message[:MAX_MATCH_CHARS])
        tokens = text.split()
        exact = self._index.exact(text, tokens) if tokens else []
        # A quoted message that is most of the text, or a whole message of four words or so read off the
        # screen with a description around it: the person pasted or quoted the message.
        pasted = (
            (self._index.exact(text, tokens, MESSAGE_MIN_SHARE) or self._index.exact(text, tokens, min_chars=QUOTED_MIN_CHARS))
            if exact
            else []
        )
        words = [m for m in self._index.by_words(text[:MAX_FUZZY_CHARS], tokens) if m.score >= WORDS_THRESHOLD] if tokens else []
        close = [m for m in words if not m.reason.startswith(_KEYWORD_REASON)]
        if pasted or close:
            # A text that is an article's title in other words names that article, even when it is
            # close to another article's message ("add a payment account").
            titled = [] if pasted else [m for m in self._by_own_words(message) if self._own.is_title(m.article, message)]
            ordered = pasted + titled[:1] + close + words + exact
        else:
            # A question or a description: the articles it is about first, then any keyword it
            # names or a short message it mentions ("... not integrated").
            ordered = self._by_own_words(message) + words + exact
        found: list[ArticleMatch] = []
        for m in linked + ordered:
            if all(m.article.id != f.article.id for f in found):
                found.append(m)
        if self._learned is not None and (not found or found[0].how == "own words"):
            learned = self._by_classifier(self._learned, message, found[0].article.id if found else None)
            if learned is not None and not learned.specific:
                return [learned]  # the classifier is sure no article is about the text: an office matter
            if learned is not None:
                # An article the lexical tiers show too keeps their reason (the words the text shares).
                same = [m for m in found if m.article.id == learned.article.id]
                found = (same or [learned]) + [m for m in found if m.article.id != learned.article.id]
        if found:
            return found[: max(1, limit)]
        return [self._general_match(self.general("publication"), message, "publication")]

    def _by_classifier(self, learned: Classifier, message: str, lexical: str | None) -> ArticleMatch | None:
        """The learned classifier's article for a text, when it goes first (learned.fuse), the general article
        when it turns the own-words answer down, or None; lexical: the lexical tiers' first article, from the
        own-words tier (None: they have none)."""
        fusion = learned.fusion
        if (fusion.fill if lexical is None else min(fusion.override, fusion.veto)) > 1:
            return None  # that way of giving an article is off: no need to ask
        clauses = [[t.stem for t in clause] for clause in self._own.clauses(message)]
        candidates = [self.articles[r.index].id for r in self._own.rank(message)] if lexical is None and fusion.fill_among else []
        found = learned.predict_text(clauses, message)
        verdict = fuse(lexical, lexical is not None, candidates, found, fusion)
        if verdict == GENERAL:
            general = self._general_match(self.general("publication"), message, "publication")
            reason = f"it reads as an office matter no article is about (learned classifier, {found.probability:.0%} sure)"
            return dataclasses.replace(general, reason=reason)
        article = self._by_id.get(verdict or "")
        if article is None:
            return None
        reason = f"worded like the questions people ask about it (learned classifier, {found.probability:.0%} sure)"
        return ArticleMatch(article, "learned", round(LEARNED_SCORE_CEILING * found.probability, 3), reason, None)

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
        exact = self._index.exact(text, tokens)
        if exact and exact_is_enough:
            return exact
        words = self._index.by_words(text[:MAX_FUZZY_CHARS], tokens)
        results: list[ArticleMatch] = []
        seen: set[str] = set()
        for m in exact + words:
            if m.article.id not in seen:
                seen.add(m.article.id)
                results.append(m)
        return results
