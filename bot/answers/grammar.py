"""What the text after `/integration-status` asks for. Pure: text in, a request out."""

from __future__ import annotations

import re
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
    DIGEST = "digest"
    CONNECT = "connect"  # many workspaces: connect this workspace to its AutoEntry feed
    DISCONNECT = "disconnect"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Request:
    verb: Verb
    argument: str = ""
    problem: str | None = None
    every_day: bool = False  # `digest 09:00 daily`: every day, not only Monday to Friday

    @property
    def everything(self) -> bool:
        """`subscribe all`: the argument means every company, not one called "all"."""
        return self.argument.casefold() == "all"


_CLOCK = re.compile(r"([01]?\d|2[0-3])[:.h]([0-5]\d)")
DIGEST_USAGE = (
    "`digest` takes a time on the 24-hour clock, in your time zone: `digest 09:00` (Monday to Friday), "
    "`digest 09:00 daily` (every day), or `digest off`."
)


def clock_time(text: str) -> str | None:
    """ "9:00", "09:00", "9.00", "17h30" -> "HH:MM" on the 24-hour clock; None when it is not such a time."""
    match = _CLOCK.fullmatch(text.strip())
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else None


def parse_digest(rest: str) -> Request:
    words = rest.casefold().split()
    if words == ["off"]:
        return Request(Verb.DIGEST, "off")
    if len(words) in (1, 2) and (len(words) == 1 or words[1] in ("daily", "everyday")):
        at = clock_time(words[0])
        if at is not None:
            return Request(Verb.DIGEST, at, every_day=len(words) == 2)
    return Request(Verb.INVALID, problem=DIGEST_USAGE)


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

    if text.casefold() in ("connect", "disconnect"):  # alone: `connect Ltd` is still a company's name
        return Request(Verb(text.casefold()))
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
    if verb == "digest":
        return parse_digest(rest)
    if verb == "article":
        if not rest:
            return Request(Verb.INVALID, problem="Give the exact error message, or your question, after `article`.")
        return Request(Verb.ARTICLE, rest)
    return Request(Verb.LOOKUP, text)
