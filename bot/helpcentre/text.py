"""Article records and the text form Help Centre matching compares.

Shared by exact-message matching (exact.py), the own-words search (own_words.py, vocabulary.py),
the article list's loading (loading.py) and `HelpCentre` (matching.py), so that none of them
imports another for its records.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

ENV_VAR = "HELP_CENTRE_ARTICLES"
TOPICS = ("status", "publication", "sync_app", "not_integrated")
SEARCH_BASE_URL = "https://help.autoentry.com/en/"

# Feed messages are bounded upstream (2000 chars); the cap keeps matching fast on
# anything else a user pastes.
MAX_MATCH_CHARS = 2000
MAX_FUZZY_CHARS = 300
MAX_SEARCH_QUERY_CHARS = 200
MAX_SEARCH_ENCODED_CHARS = 600

_APOSTROPHES = re.compile(r"[’‘ʼ`´']")
_NON_WORD = re.compile(r"[\W_]+")
# What names no article in a text someone types into Slack, though its letters would count as words: a mention or
# channel as plain text ("@bob", "#ops": the manifest sends them unescaped) or as Slack's markup ("<@U0123>",
# "<#C0123|ops>", "<!here>"), and a web link. An e-mail address ("bob@example.com") and an invoice number
# ("#INV-001", "#1234": not lower-case letters first) stay.
_MENTIONS = re.compile(r"<[@#!][^>]*>|(?<![\w@])@\w[\w.-]*|(?<![\w#&])#[a-z][a-z0-9_-]*")
# A link: in Slack's markup with any label ("<https://...|the article>"), or as typed, up to the next space.
_LINKS = re.compile(r"<((?:https?://|mailto:)[^>|]*)(?:\|[^>]*)?>|(?<![\w@.-])((?:https?://|www\.)\S+)", re.IGNORECASE)
HELP_CENTRE_HOST = "help.autoentry.com"
# A Help Centre article's path: its id (https://help.autoentry.com/en/articles/4799340-how-to-disconnect-...).
_ARTICLE_PATH = re.compile(r"/(?:[a-z-]+/)?articles/(\d+)", re.IGNORECASE)
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
    how: str  # "exact" | "words" | "own words" | "learned" (a question: search() only) | "general"
    score: float
    reason: str
    search_url: str | None

    @property
    def specific(self) -> bool:
        return self.how != "general"


def without_addresses(text: str) -> tuple[str, list[str]]:
    """(text without mentions, channels and web links, the ids of the Help Centre articles it links to, in
    order): what the person wrote about, and the articles they pasted."""
    linked: list[str] = []

    def drop(link: re.Match[str]) -> str:
        address = link.group(1) or link.group(2)
        try:
            parts = urlsplit(address if "://" in address else f"https://{address}")
            host = parts.hostname
        except ValueError:  # "http://[" and the like: not a link to anything
            return " "
        article = _ARTICLE_PATH.match(parts.path) if host == HELP_CENTRE_HOST else None
        if article:
            linked.append(article.group(1))
        return " "

    text = _MENTIONS.sub(" ", _LINKS.sub(drop, text))
    return text, list(dict.fromkeys(linked))


def well_formed(text: str) -> str:
    """text with any lone UTF-16 surrogate (valid in JSON as "\\ud800", not in UTF-8: a Socket Mode payload or a
    caller may hold one) as U+FFFD, so that encoding it for a link cannot fail; other text unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


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


def _squash(text: str) -> str:
    """Normalised with placeholders and a trailing ellipsis left out: the words a person would type."""
    text = _TRAILING_ELLIPSIS.sub("", text)
    return normalise(_PLACEHOLDER.sub(" ", text))


def _fail(where: str, problem: str) -> HelpCentreError:
    return HelpCentreError(f"{ENV_VAR}: {where} {problem}")


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
