"""What the text after `/integration-status` asks for. Pure: text in, a request out."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_TEXT_LENGTH = 500
_QUOTES = {'"': '"', "“": "”", "”": "”", "'": "'", "‘": "’", "’": "’", "«": "»"}


class Verb(StrEnum):
    HELP = "help"
    LOOKUP = "lookup"
    LIST = "list"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    SUBSCRIPTIONS = "subscriptions"
    ARTICLE = "article"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Request:
    verb: Verb
    argument: str = ""
    problem: str | None = None

    @property
    def everything(self) -> bool:
        """`subscribe all`: the argument means every company, not one called "all"."""
        return self.argument.casefold() == "all"


def unescape_slack(text: str) -> str:
    """Slack sends `&`, `<`, `>` escaped in a command's text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clean(text: str) -> str:
    """Drop control and invisible characters that people paste by accident; keep every letter."""
    if text.isascii() and text.isprintable():  # what people nearly always type: nothing to drop
        return " ".join(text.split())
    text = unicodedata.normalize("NFKC", text)
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(kept.split())


def unquote(text: str) -> str | None:
    """The name inside matching quotes, or None when the text is not quoted."""
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == _QUOTES[text[0]]:
        return text[1:-1].strip()
    return None


def parse(raw_text: str | None) -> Request:
    text = clean(unescape_slack(raw_text or ""))
    if len(text) > MAX_TEXT_LENGTH:
        return Request(Verb.INVALID, problem=f"That is {len(text)} characters long; ask with at most {MAX_TEXT_LENGTH}.")
    if not text or text.casefold() in ("help", "?", "-h", "--help"):
        return Request(Verb.HELP)

    quoted = unquote(text)
    if quoted is not None:
        if not quoted:
            return Request(Verb.INVALID, problem="The quotes are empty: put a company name inside them.")
        return Request(Verb.LOOKUP, quoted)

    word, _, rest = text.partition(" ")
    verb = word.casefold()
    rest = rest.strip()
    rest = unquote(rest) or rest  # `subscribe "Acme Ltd"` reads as well as without quotes
    if verb == "list":
        if rest.casefold() in ("", "all"):
            return Request(Verb.LIST)
        if rest.casefold() in ("errors", "error", "problems", "attention"):
            return Request(Verb.LIST, "errors")
        return Request(Verb.INVALID, problem=f"`list` takes nothing or `errors`, not “{rest}”.")
    if verb in ("subscribe", "unsubscribe"):
        if not rest:
            return Request(Verb.INVALID, problem=f"Say what to {verb} to: a company name, or `all`.")
        return Request(Verb(verb), rest)
    if verb == "subscriptions":
        if rest:
            return Request(Verb.INVALID, problem="`subscriptions` takes nothing after it.")
        return Request(Verb.SUBSCRIPTIONS)
    if verb == "article":
        if not rest:
            return Request(Verb.INVALID, problem="Give the exact error message, or your question, after `article`.")
        return Request(Verb.ARTICLE, rest)
    return Request(Verb.LOOKUP, text)
