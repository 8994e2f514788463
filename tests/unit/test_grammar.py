"""bot.answers.grammar: the slash command's text in, a request out; no I/O."""

from __future__ import annotations

import pytest

from bot.answers.grammar import MAX_TEXT_LENGTH, Verb, clock_time, parse


@pytest.mark.parametrize(
    ("text", "verb", "argument"),
    [
        (None, Verb.HELP, ""),
        ("", Verb.HELP, ""),
        ("  help ", Verb.HELP, ""),
        ("Acme Ltd", Verb.LOOKUP, "Acme Ltd"),
        ("acme   hold", Verb.LOOKUP, "acme hold"),
        ('"List Brothers Ltd"', Verb.LOOKUP, "List Brothers Ltd"),
        ("“Subscribe & Co”", Verb.LOOKUP, "Subscribe & Co"),
        ("list", Verb.LIST, ""),
        ("list errors", Verb.LIST, "errors"),
        ("LIST problems", Verb.LIST, "errors"),
        ("subscribe Acme Ltd", Verb.SUBSCRIBE, "Acme Ltd"),
        ('subscribe "Acme Ltd"', Verb.SUBSCRIBE, "Acme Ltd"),
        ("unsubscribe all", Verb.UNSUBSCRIBE, "all"),
        ("subscriptions", Verb.SUBSCRIPTIONS, ""),
        ("article Token Required", Verb.ARTICLE, "Token Required"),
        ("digest 9:00", Verb.DIGEST, "09:00"),
        ("digest 17h30 daily", Verb.DIGEST, "17:30"),
        ("digest off", Verb.DIGEST, "off"),
        ("&lt;!channel&gt; Ltd", Verb.LOOKUP, "<!channel> Ltd"),
        ("Acme\u200b Ltd", Verb.LOOKUP, "Acme Ltd"),
    ],
)
def test_parse(text: str | None, verb: Verb, argument: str) -> None:
    request = parse(text)
    assert (request.verb, request.argument) == (verb, argument)


@pytest.mark.parametrize(
    "text",
    [
        "list everything",
        "subscribe",
        "subscriptions all",
        "article",
        "digest 25:00",
        "digest 9:00 weekly",
        '""',
        "x" * (MAX_TEXT_LENGTH + 1),
    ],
)
def test_bad_requests_say_what_is_wrong(text: str) -> None:
    request = parse(text)
    assert request.verb is Verb.INVALID
    assert request.problem


def test_subscribe_all_means_every_company() -> None:
    assert parse("subscribe all").everything
    assert not parse("subscribe Allied Ltd").everything


def test_digest_daily_is_every_day() -> None:
    assert parse("digest 09:00 daily").every_day
    assert not parse("digest 09:00").every_day


@pytest.mark.parametrize(
    ("text", "expected"), [("9:00", "09:00"), ("23.59", "23:59"), ("24:00", None), ("9", None), ("09:60", None)]
)
def test_clock_time(text: str, expected: str | None) -> None:
    assert clock_time(text) == expected
