"""Status feed clients: the built-in demo, a JSON file, and the HTTP feed. Validation is strict here."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol

import aiohttp

from bot.practice.demo import DEMO_ACCOUNT, demo_companies
from bot.practice.models import (
    Account,
    CompanyStatus,
    FeedRecordError,
    parse_account,
    parse_company,
)

log = logging.getLogger(__name__)

MAX_PAGES = 10_000
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)


class FeedError(Exception):
    """The feed as a whole could not be read: keep the last good state and say nothing of companies."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    account: Account
    companies: list[CompanyStatus]
    skipped: list[str] = field(default_factory=list)
    # Companies whose record was bad this time: their known state stays, they are not "removed".
    skipped_ids: frozenset[str] = frozenset()


def fingerprint(record: dict[str, Any]) -> int | None:
    """A hash of a record's fields and values (one level of nesting, as the feed's records have);
    None for a record of another shape, which is then simply parsed."""
    try:
        return hash(tuple((key, tuple(value.items()) if isinstance(value, dict) else value) for key, value in record.items()))
    except TypeError:  # a list or a deeper object somewhere: unhashable
        return None


class ParsedRecords:
    """What each record parsed to last time, by a fingerprint of its fields: an unchanged record (nearly
    all of them, poll after poll) is not validated again, and parses to the very same object, which lets
    the poller skip it at once."""

    def __init__(self) -> None:
        self._by_id: dict[str, tuple[int, CompanyStatus]] = {}

    def parse(self, record: Any) -> CompanyStatus:
        record_id = record.get("id") if isinstance(record, dict) else None
        if not isinstance(record_id, str):
            return parse_company(record)
        digest = fingerprint(record)
        if digest is None:
            return parse_company(record)
        known = self._by_id.get(record_id)
        if known is not None and known[0] == digest:
            return known[1]
        company = parse_company(record)
        self._by_id[record_id] = (digest, company)
        return company

    def keep_only(self, company_ids: set[str]) -> None:
        for gone in self._by_id.keys() - company_ids:
            del self._by_id[gone]


def build_snapshot(account_document: Any, records: list[Any], parsed: ParsedRecords | None = None) -> Snapshot:
    """Validate a whole fetch. One bad company is skipped; a bad account fails the fetch."""
    try:
        account, problems = parse_account(account_document)
    except FeedRecordError as exc:
        raise FeedError(f"account: {exc}") from None
    skipped = [f"account {problem}" for problem in problems]
    skipped_ids: set[str] = set()
    companies: list[CompanyStatus] = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        record_id = record.get("id") if isinstance(record, dict) else None
        try:
            company = parsed.parse(record) if parsed is not None else parse_company(record)
        except FeedRecordError as exc:
            skipped.append(f"company #{index} (id {record_id!r}): {exc}")
            if isinstance(record_id, str):
                skipped_ids.add(record_id)
            continue
        if company.id in seen:
            skipped.append(f"company #{index} (id {company.id!r}): duplicate id, first record kept")
            continue
        seen.add(company.id)
        companies.append(company)
    if parsed is not None:
        parsed.keep_only(seen)
    return Snapshot(account, companies, skipped, frozenset(skipped_ids))


class StatusFeed(Protocol):
    description: str

    async def fetch(self) -> Snapshot: ...

    async def close(self) -> None: ...


class DemoFeed:
    description = "the built-in demo practice"

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._parsed = ParsedRecords()

    async def fetch(self) -> Snapshot:
        return build_snapshot(DEMO_ACCOUNT, demo_companies(self._clock()), self._parsed)

    async def close(self) -> None:
        return None


class FileFeed:
    """One JSON document `{"account": ..., "companies": [...]}`, re-read at every poll."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"the file {path}"
        self._parsed = ParsedRecords()

    async def fetch(self) -> Snapshot:
        try:
            document = json.loads(await asyncio.to_thread(self.path.read_bytes))
        except FileNotFoundError:
            raise FeedError(f"{self.path}: no such file") from None
        except (OSError, ValueError) as exc:
            raise FeedError(f"{self.path}: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("companies"), list):
            raise FeedError(f"{self.path}: expected an object with 'account' and a 'companies' list")
        return build_snapshot(document.get("account"), document["companies"], self._parsed)

    async def close(self) -> None:
        return None


class HttpFeed:
    """`GET BASE/account` and `GET BASE/companies?cursor=C`, bearer token, retries with back-off."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        attempts: int = 4,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.description = f"the status API at {self.base_url}"
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        self._parsed = ParsedRecords()

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT, headers=self._headers)
        url = f"{self.base_url}{path}"
        problem = ""
        for attempt in range(self._attempts):
            retry_after: float | None = None
            try:
                async with self._session.get(url, params=params) as response:
                    if response.status == 200:
                        body = await response.read()
                        try:
                            return json.loads(body)
                        except ValueError:
                            raise FeedError(f"{path}: the answer is not JSON") from None
                    problem = f"{path}: HTTP {response.status}"
                    if response.status in (401, 403, 404):
                        raise FeedError(f"{problem} (check STATUS_SOURCE and STATUS_API_TOKEN)")
                    if response.status == 429:
                        retry_after = _seconds(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                problem = f"{path}: {type(exc).__name__} {exc}".strip()
            if attempt + 1 < self._attempts:
                delay = retry_after if retry_after is not None else self._backoff * 2**attempt
                await self._sleep(min(delay, 60.0) + random.uniform(0, self._backoff / 4))
        raise FeedError(f"{problem} after {self._attempts} attempts")

    async def fetch(self) -> Snapshot:
        account_document = await self._get("/account")
        records: list[Any] = []
        cursor: str | None = None
        seen_cursors: set[str] = set()
        for _ in range(MAX_PAGES):
            page = await self._get("/companies", {"cursor": cursor} if cursor else None)
            if not isinstance(page, dict) or not isinstance(page.get("companies"), list):
                raise FeedError("/companies: expected an object with a 'companies' list")
            records.extend(page["companies"])
            cursor = page.get("next_cursor")
            if cursor is None or cursor == "":
                return build_snapshot(account_document, records, self._parsed)
            if not isinstance(cursor, str):
                raise FeedError("/companies: 'next_cursor' must be a string or null")
            if cursor in seen_cursors:
                raise FeedError(f"/companies: the cursor {cursor[:40]!r} came back twice; the feed loops")
            seen_cursors.add(cursor)
        raise FeedError(f"/companies: more than {MAX_PAGES} pages")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def feed_from_source(source: str, token: str | None, clock: Callable[[], datetime]) -> StatusFeed:
    if source == "demo":
        return DemoFeed(clock)
    if source.startswith("file:"):
        return FileFeed(Path(source[len("file:") :]))
    return HttpFeed(source, token)
