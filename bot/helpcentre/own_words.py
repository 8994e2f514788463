"""The own-words search: BM25 over each article's words for a question or description in a person's
own words (`/integration-status article <text>`; docs/helpcentre.md)."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import bm25s
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.helpcentre import own_words_checks as checks
from bot.helpcentre.own_words_checks import for_no_package, is_prefixed_word, is_typo, says_not
from bot.helpcentre.own_words_names import names_read
from bot.helpcentre.text import _STOPWORDS, MAX_FUZZY_CHARS, Article, _squash, normalise
from bot.helpcentre.vocabulary import Vocabulary

# Words that carry no topic in a question ("how do I ...", "it says ...", "getting an error").
_QUESTION_STOPWORDS = _STOPWORDS | frozenset(
    "how why where whats what whether im ive id dont doesnt didnt cant cannot wont isnt arent wasnt "
    "hasnt havent shouldnt couldnt wouldnt us them they he she him her his hers it its theres heres "
    "thats theyre youre weve theyve youve itll whos wheres "
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
    "last month months week weeks day days ages idea clue sure "
    # Contractions with their apostrophe removed ("she's" is "shes"), and words of talk about a
    # text rather than of its topic.
    "shes hes weve wed theyd hed youd itd wouldve couldve shouldve lets apparently "
    "stuff whatnot etc kinda sorta gonna wanna gotta hmm um cheers thank thx pls plz tbh fyi btw".split()
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
# A word this long or longer that no article has is read as the known word one typo away;
# a shorter one only when two neighbouring letters are swapped ("xreo"), else left as typed
# ("rules" is not "roles").
OWN_WORDS_TYPO_MIN_LETTERS = 6
# A phrase read as n words of the articles weighs n ** (1 - this) words in the share of the
# question an article has: 1, as one word.
OWN_WORDS_PHRASE_SPLIT = 1.0
# How much the name of an accounting package counts in a question, against other words.
OWN_WORDS_SOFTWARE_FACTOR = 0.5
# How much an everyday word of the vocabulary's `light` list ("take", "little", "various", "side")
# weighs in the share of the question an article has: it rarely says what a text is about, and
# weighing it in full made real questions fall back to the general article
# (cross-checked on every labelled set: docs/helpcentre.md).
OWN_WORDS_LIGHT_FACTOR = 0.3
# How much two of the text's words side by side count when an article has them side by side.
OWN_WORDS_PAIR_FACTOR = 0.25
# The BM25 score is multiplied by the share of the question's weight the article has, to this power,
OWN_WORDS_COVERAGE_POWER = 1.0
# and by 1 + this times the share of the article's title words the text has,
OWN_WORDS_TITLE_BONUS = 0.5
# and by this when the text names an accounting package the article is not for.
OWN_WORDS_OTHER_PACKAGE_FACTOR = 0.3
# and by this when the article is for some packages only and the text names none (round 7, docs/helpcentre.md).
OWN_WORDS_NO_PACKAGE_FACTOR = 0.9


# Where a text's clauses part: a phrase of the vocabulary, or a pair of neighbouring words, is
# read within one clause only (a full stop between letters or digits, as in "2.5MB", is not one).
_CLAUSE_BREAK = re.compile(r"[,;:!?()\[\]\n]+|\.(?!\w)")


def _pairs(stems: list[str]) -> list[str]:
    """Neighbouring stems as one term ("compani setting~"): phrases, for BM25 (a space never occurs in a stem)."""
    return [f"{a} {b}" for a, b in zip(stems, stems[1:]) if a != b]


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
    by_title: bool = False  # the one term shared is a word of this article's title only ("unpublish")


@dataclass(frozen=True, slots=True)
class _Asked:
    terms: dict[str, _Term]  # by stem, the first term typed for it
    typed: dict[str, frozenset[str]]  # by stem, the words typed for it
    weights: dict[str, float]  # by stem, what it weighs in the share of the text an article has
    total: float
    elsewhere: tuple[str, ...]  # stems naming other systems and office matters
    named: frozenset[str]  # stems naming an accounting package
    negated: bool = False  # the text says what is not ("not on xero yet"): a named package may be one it lacks


def _own_words_sure(r: "_Ranked") -> bool:
    shared = len(r.typed) >= OWN_WORDS_MIN_SHARED or r.by_title
    return r.coverage >= OWN_WORDS_MIN_COVERAGE and shared and not r.elsewhere


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


class _OwnWords:
    """BM25 (bm25s, with Snowball stems from PyStemmer) over each article's title, quoted
    messages, keywords, fix summary and software, read through the vocabulary."""

    def __init__(self, articles: tuple[Article, ...], vocabulary: Vocabulary) -> None:
        self._vocabulary = vocabulary
        self._stop_stems = frozenset(vocabulary.stem(w) for w in _QUESTION_STOPWORDS)
        self.fields: list[dict[str, frozenset[str]]] = []
        self.packages: list[frozenset[str]] = []
        self.no_package: list[bool] = []  # for companies with no package connected (round 8)
        self._index = {a.id: i for i, a in enumerate(articles)}
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
            self.no_package.append(for_no_package(article.integrations))
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)
        self._term_scores: dict[str, tuple[tuple[int, float], ...]] = {}
        self._all_stems = [frozenset().union(*f.values()) for f in self.fields]
        self._topic_stems = [frozenset().union(*(v for k, v in f.items() if k != "fix")) for f in self.fields]
        # The articles whose title has each stem, and each short title's first term: names_one_title.
        self._titles_with = checks.counts(f["title"] for f in self.fields)
        titles = [[t.stem for t in self._terms(normalise(a.title).split())] for a in articles]
        self._title_first = [checks.first_of_title(title, vocabulary.light) for title in titles]
        n = max(1, len(articles))
        self._idf = {s: math.log(1 + n / c) for s, c in checks.counts(self._all_stems).items()}
        self._idf_unknown = OWN_WORDS_UNKNOWN_WEIGHT * max(self._idf.values(), default=1.0)
        # Checked at load: different words Snowball reads as one (tests hold the bundled data to none).
        self.stem_collisions = vocabulary.stem_collisions(known)
        self._known_any = frozenset(known | vocabulary.listed)  # of any length, for telling names apart
        self._index_known(self._known_any)

    def _index_known(self, known: set[str] | frozenset[str]) -> None:
        """The words a typo is corrected to, by first letter, and their stems (at load)."""
        # Words the vocabulary lists as elsewhere or everyday are words too: never "corrected" into
        # an article's word ("valuation" is not "validation").
        self._known = frozenset(w for w in known if len(w) >= 4)
        self._known_by_initial: dict[str, list[str]] = {}
        # The same by stem, for a typo in a word's root under an ending ("ammending": "amend").
        self._word_of_stem: dict[str, str] = {}
        for word in sorted(self._known):  # sorted: a tie between two corrections goes the same way every run
            self._known_by_initial.setdefault(word[0], []).append(word)
            self._word_of_stem.setdefault(self._vocabulary.stem(word), word)
        self._stems_by_initial: dict[str, list[str]] = {}
        for stem in sorted(self._word_of_stem):
            self._stems_by_initial.setdefault(stem[0], []).append(stem)

    def _terms(self, words: list[str]) -> list[_Term]:
        return [
            _Term(self._vocabulary.stem(word), word, typed, said)
            for word, typed, said in self._vocabulary.rewrite(words)
            if word not in _QUESTION_STOPWORDS and not word.isdigit() and not self._is_stop_form(word, typed)
        ]

    def _is_stop_form(self, word: str, typed: str) -> bool:
        """Another form of a question word, typed as such ("meanings" of "meaning", "issues" of "issue")."""
        return word == typed and self._vocabulary.stem(word) in self._stop_stems

    def _correct(self, word: str) -> str:
        """A misspelt word as the known word it is closest to: same first letter, one typo
        (Damerau-Levenshtein: a letter missing, extra, wrong or swapped), two in a word of 8+
        letters. More is another word ("confirmation" is not "configuration")."""
        stem = self._vocabulary.stem(word)
        if (
            word in self._known
            or word in _QUESTION_STOPWORDS
            or stem in self._idf
            or stem in self._stop_stems
            or (len(stem) >= 3 and stem in self._word_of_stem)
            or is_prefixed_word(word, self._known)
        ):
            # Known, or another form of a known word ("coding" of "code", "choosing" of the
            # vocabulary's "choose", "paying" of "pay"): not a typo.
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
        hits = process.extract(word, choices, scorer=DamerauLevenshtein.distance, score_cutoff=most, limit=8)
        for hit, _, _ in sorted(hits, key=lambda h: h[1]):
            if is_typo(word, hit):
                return hit
        if hits:
            return word  # only another word one consonant away ("remote" is not "remove")
        # One typo in the root, under an ending the known forms lack ("ammending": "amend").
        by_stem = process.extractOne(
            stem, self._stems_by_initial.get(stem[0], []), scorer=DamerauLevenshtein.distance, score_cutoff=1
        )
        if not by_stem or stem == word or len(stem) < OWN_WORDS_TYPO_MIN_LETTERS - 1 or not is_typo(stem, by_stem[0]):
            return word  # no ending taken off ("server" is not "several"), or too short a root to tell
        found = self._word_of_stem[by_stem[0]]
        return word if found in self._vocabulary.listed else found

    def clauses(self, text: str) -> list[list[_Term]]:
        """The text's terms, clause by clause: a phrase does not run over a comma or a full stop.
        People's and clients' names are read as one everyday word ("Okafor says", "the Fairview client")."""
        text = names_read(text[:MAX_FUZZY_CHARS], self._vocabulary, self.is_known)
        return [self._terms([self._correct(w) for w in normalise(c).split()]) for c in _CLAUSE_BREAK.split(text)]

    def is_known(self, word: str) -> bool:
        """Whether the articles or the vocabulary know a word (lower case), or another form of one."""
        return word in self._known_any or self._vocabulary.stem(word) in self._idf

    def rank(self, text: str, limit: int = 5) -> list[_Ranked]:
        """Up to `limit` articles with a BM25 score for this text, best first."""
        clauses = self.clauses(text)
        terms = [t for clause in clauses for t in clause]
        if not terms:
            return []
        asked = dataclasses.replace(self._asked(terms), negated=says_not(text))
        # BM25 adds up per word; a software's name counts less (it narrows, it is not the topic).
        scores = [0.0] * len(self._all_stems)
        for stem in asked.terms:
            factor = OWN_WORDS_SOFTWARE_FACTOR if stem in self._vocabulary.software else 1.0
            for i, x in self._scores(stem):
                scores[i] += factor * x
        # The text's words side by side, where an article has them side by side too.
        for pair in dict.fromkeys(p for clause in clauses for p in _pairs([t.stem for t in clause])):
            for i, x in self._scores(pair):
                scores[i] += OWN_WORDS_PAIR_FACTOR * x
        ranked = [self._judge(i, x, asked) for i, x in enumerate(scores) if x > 0]
        ranked.sort(key=lambda r: (-r.score, r.index))
        return ranked[:limit]

    def _asked(self, terms: list[_Term]) -> "_Asked":
        """What a text asks: its terms once each, and what each weighs (IDF, lightened, phrases once)."""
        unique: dict[str, _Term] = {}
        typed_by_stem: dict[str, set[str]] = {}
        # One phrase typed counts as one thing asked, however many words the articles use for it
        # ("customer" read as "supplier contact").
        size: dict[tuple[str, str], int] = {}
        for term in terms:
            unique.setdefault(term.stem, term)
            typed_by_stem.setdefault(term.stem, set()).update(term.typed.split())
            size[term.typed, term.said] = size.get((term.typed, term.said), 0) + 1
        weights = {
            s: self._idf.get(s, self._idf_unknown)
            * (OWN_WORDS_LIGHT_FACTOR if t.typed == t.said and s in self._vocabulary.light else 1.0)
            / size[t.typed, t.said] ** OWN_WORDS_PHRASE_SPLIT
            for s, t in unique.items()
        }
        return _Asked(
            unique,
            {s: frozenset(w) for s, w in typed_by_stem.items()},
            weights,
            sum(weights.values()),
            tuple(s for s in unique if s in self._vocabulary.elsewhere),
            frozenset(s for s in unique if s in self._vocabulary.packages),
        )

    def _judge(self, i: int, score: float, asked: "_Asked") -> _Ranked:
        """Article i's final score for the text, from its BM25 score, and what it has of the text."""
        unique = asked.terms
        have = self._all_stems[i]
        found = tuple(t for s, t in unique.items() if s in have)
        coverage = sum(asked.weights[t.stem] for t in found) / asked.total
        # Another system's name counts for an article only where the article is about it
        # (title, messages, keywords, usual questions), not named in passing in its fix
        # ("no email is sent" does not make an article about e-mail).
        lacks = tuple(unique[s].typed for s in asked.elsewhere if s not in self._topic_stems[i])
        if asked.named and (
            (self.no_package[i] and not asked.negated) or (self.packages[i] and not asked.named & self.packages[i])
        ):
            # The text names a package this article is not for ("merge contacts in quickbooks"
            # is not about a Xero contact merged): not this article.
            lacks += tuple(dict.fromkeys(unique[s].typed for s in asked.named))
            score *= OWN_WORDS_OTHER_PACKAGE_FACTOR
        elif not asked.named and self.packages[i]:
            score *= OWN_WORDS_NO_PACKAGE_FACTOR  # "credit balance and subscription": Account Settings, not the Sage 50 bundle
        # An article that has more of what was asked ranks higher than one that has some of it often.
        typed = frozenset(w for t in found for w in asked.typed[t.stem])
        # A text that names most of an article's title names that article ("account settings").
        title = self.fields[i]["title"]
        title_share = len(title & unique.keys()) / len(title) if title else 0.0
        score *= coverage**OWN_WORDS_COVERAGE_POWER * (1 + OWN_WORDS_TITLE_BONUS * title_share)
        by_title = checks.names_one_title((t.stem for t in found), self._title_first[i], self._titles_with)
        return _Ranked(i, score, coverage, found, typed, lacks, by_title)

    def is_title(self, article: Article, text: str) -> bool:
        """Whether the text's words, read through the vocabulary, are exactly the article's title words."""
        i = self._index[article.id]
        stems = {t.stem for t in self._terms([self._correct(w) for w in normalise(text[:MAX_FUZZY_CHARS]).split()])}
        return bool(stems) and stems == self.fields[i]["title"]

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
        found = [(t.typed, t.said, [name for key, name in _FIELD_NAMES.items() if t.stem in fields[key]]) for t in ranked.found]
        return checks.reason_words(found)
