"""Reading and checking the article list (HELP_CENTRE_ARTICLES, else bot/helpcentre/data/articles.json).

Every problem is a `HelpCentreError` whose one line names the file and the article; the shape
of the file is described in docs/helpcentre.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from bot.helpcentre.text import SEARCH_BASE_URL, TOPICS, Article, _fail, _os_reason


@dataclass(frozen=True, slots=True)
class ArticleList:
    """A checked article list: the articles in file order, the general article per topic (TOPICS)."""

    articles: tuple[Article, ...]
    mapped: list[list[tuple[str, str]]]  # per article: (mapped message, where it came from)
    general: Mapping[str, Article]
    source: str


def read_articles(path: str | os.PathLike[str] | None = None) -> tuple[Any, str]:
    """(the parsed JSON, the file's name as shown in errors): the bundled list when path is None or empty."""
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
        return json.loads(text), shown
    except json.JSONDecodeError as exc:
        raise _fail(shown, f"is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:  # JSON nested past Python's recursion limit
        raise _fail(shown, "is nested too deeply to read") from None


def parse_article_list(data: Any, shown: str) -> ArticleList:
    """The checked list from the parsed JSON; HelpCentreError naming the first problem."""
    if not isinstance(data, dict):
        raise _fail(shown, "must hold a JSON object with 'general' and 'articles'")
    raw_articles = data.get("articles")
    if not isinstance(raw_articles, list) or not raw_articles:
        raise _fail(shown, "must have a non-empty list 'articles'")
    articles: list[Article] = []
    mapped: list[list[tuple[str, str]]] = []
    seen: set[str] = set()
    for n, record in enumerate(raw_articles):
        article, extra = _parse_article(record, f"{shown} articles[{n}]", shown, seen)
        articles.append(article)
        mapped.append(extra)
    general = _parse_general(data, articles, shown)
    source = str(data["source"]) if isinstance(data.get("source"), str) else ""
    return ArticleList(tuple(articles), mapped, general, source)


def parse_search_base(data: Mapping[str, Any], shown: str) -> str:
    """The Help Centre's search address ('search_url', else SEARCH_BASE_URL); HelpCentreError when not http(s)."""
    search_base = data.get("search_url", SEARCH_BASE_URL)
    if not isinstance(search_base, str):
        raise _fail(shown, "field 'search_url' must be a string")
    _check_url(search_base, shown)
    if "?" in search_base or "#" in search_base:
        # The search is the address and ?q=<the text> (text.search_url): a query of its own would be doubled.
        raise _fail(
            shown, "field 'search_url' must be the search page's address without '?' or '#' (the text is added as ?q=...)"
        )
    return search_base


def _parse_article(record: Any, where: str, shown: str, seen: set[str]) -> tuple[Article, list[tuple[str, str]]]:
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
    extra = _mapped_messages(record, where)
    article = Article(
        id=article_id,
        title=" ".join(title.split()),
        url=url,
        messages=quoted + tuple(text for text, _ in extra),
        keywords=_str_list(record["keywords"], where, "keywords"),
        fix_summary=_required_str(record, "fix_summary", where, empty_ok=True),
        integrations=_str_list(record["integrations"], where, "integrations"),
        asked_as=_str_list(record.get("asked_as", []), where, "asked_as"),
    )
    return article, extra


def _mapped_messages(record: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
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
    return extra


def _parse_general(data: Mapping[str, Any], articles: list[Article], shown: str) -> dict[str, Article]:
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
    return general


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
