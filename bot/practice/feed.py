"""Status feed clients: the built-in demo, a JSON file, and the HTTP feed. Validation is strict here."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol

import aiohttp
import orjson

from bot.practice.demo import DEMO_ACCOUNT, demo_companies
from bot.practice.models import (
    FeedRecordError,
    parse_account,
    shorten,
)
from bot.practice.snapshot import FeedError, ParsedRecords, Snapshot, build_snapshot

log = logging.getLogger(__name__)

# A listing longer than this is refused: 2,000 pages of 500 is a million companies, far beyond any practice.
MAX_PAGES = 2_000
# Once a listing has been read whole, a later one may hold at most twice as many records plus two of its
# first page: a cursor that never ends (a new one on every page) is stopped after about twice the real
# pages, not after MAX_PAGES, so a failing poll costs the feed about two requests per real page. A practice
# that truly grew more than that between two polls fails them until the bot restarts (the first listing
# after a start may be MAX_PAGES); /healthz and the log say so.
GROWTH_FACTOR = 2
# A page (or the account) bigger than this is refused, read no further: 500 companies with 2,400-character
# messages are about 1.5 MB, so 16 MiB is room for any real page, and a feed that never stops sending
# cannot take the bot's memory with it.
MAX_PAGE_BYTES = 16 * 1024 * 1024
# Pages in a row that bring no company not already seen in this listing: the cursor runs in a circle.
STALE_PAGES = 2
# Each request: 10 s to connect, 30 s in all. A page that drips one byte a second is stopped by the
# whole-fetch deadline (FETCH_DEADLINE_SECONDS), not by these.
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10, sock_read=15)
# The whole fetch (the account and every page, retries included) has this long, and at most the poll
# interval (bot/app.py passes it): past it, the poll fails and the last good state stays.
FETCH_DEADLINE_SECONDS = 60.0
# Characters of a failed request's reason kept (it is logged, and shown on /healthz and in status answers).
MAX_PROBLEM = 300


class FeedAnswered(FeedError):
    """The feed answered with `status`, not 200."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class FeedUnreachable(FeedError):
    """No answer: the connection failed (the aiohttp error is the __cause__), or `timed_out`."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


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
        except RecursionError:
            raise FeedError(f"{self.path}: nested too deeply to read") from None
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
        fetch_deadline: float = FETCH_DEADLINE_SECONDS,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """`session`: one shared by many feeds (many workspaces), left open by close(); else the feed's own."""
        self.base_url = base_url.rstrip("/")
        self.description = f"the status API at {self.base_url}"
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = session
        self._shared_session = session is not None
        self._parsed = ParsedRecords()
        # Seconds the whole fetch may take, retries included.
        self.fetch_deadline = fetch_deadline
        # The last listing read whole: a hash of the account's and each page's bytes, each page's next
        # cursor, and its snapshot. The very same bytes again (most polls) give the same snapshot, unparsed.
        self._last: _Listing | None = None
        # Records in the last listing read whole: bound the next one. Before the first, the poller sets it
        # from the practice the database holds, so a restart does not lift the bound.
        self.last_records: int | None = None

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return _decode(path, await self._get_body(path, params))

    async def _get_body(self, path: str, params: dict[str, str] | None = None) -> bytes:
        if self._session is None or (self._session.closed and not self._shared_session):
            self._session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT, headers=self._headers)
        url = f"{self.base_url}{path}"
        problem = ""
        status: int | None = None
        failure: BaseException | None = None
        for attempt in range(self._attempts):
            retry_after: float | None = None
            try:
                async with self._session.get(url, params=params, headers=self._headers) as response:
                    if response.status == 200:
                        return await _read_capped(response, path)
                    problem, status, failure = f"{path}: HTTP {response.status}", response.status, None
                    if response.status in (401, 403, 404):
                        raise FeedAnswered(f"{problem} (check STATUS_SOURCE and STATUS_API_TOKEN)", response.status)
                    if response.status == 429:
                        retry_after = _seconds(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                # aiohttp's text may quote what the feed sent (a bad status line or header: kilobytes).
                problem, status, failure = shorten(f"{path}: {type(exc).__name__} {exc}".strip(), MAX_PROBLEM), None, exc
            if attempt + 1 < self._attempts:
                delay = retry_after if retry_after is not None else self._backoff * 2**attempt
                await self._sleep(min(delay, 60.0) + random.uniform(0, self._backoff / 4))
        if status is not None:
            raise FeedAnswered(f"{problem} after {self._attempts} attempts", status)
        timed_out = isinstance(failure, asyncio.TimeoutError)
        raise FeedUnreachable(f"{problem} after {self._attempts} attempts", timed_out=timed_out) from failure

    async def fetch(self) -> Snapshot:
        """The account and the whole listing, within `fetch_deadline` seconds; FeedError otherwise."""
        try:
            async with asyncio.timeout(self.fetch_deadline):
                return await self._fetch()
        except TimeoutError:
            raise FeedError(f"no complete answer within {self.fetch_deadline:g} s (the fetch's deadline)") from None

    async def _fetch(self) -> Snapshot:
        account_body = await self._get_body("/account")
        digests = [_digest(account_body)]
        last = self._last
        # While every body read so far is byte for byte the last listing's, pages are kept unparsed: the whole
        # listing the same gives the last snapshot back (its records were checked then); the first
        # difference has the kept pages read as usual.
        unparsed: list[bytes] | None = [] if last is not None and last.digests[0] == digests[0] else None
        account_document = _decode("/account", account_body) if unparsed is None else None
        reader = _PageReader(self.last_records)
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            body = await self._get_body("/companies", {"cursor": cursor} if cursor else None)
            digests.append(_digest(body))
            place = len(digests) - 1
            if unparsed is not None and last is not None and place < len(last.digests) and last.digests[place] == digests[-1]:
                cursor = last.cursors[place - 1]
                if cursor is None:
                    self.last_records = last.records
                    return last.snapshot
                unparsed.append(body)
                continue
            if unparsed is not None:
                # The account's bytes are the last listing's: its parse is kept (ParsedRecords.account).
                account_document = None if self._parsed.knows_account(digests[0]) else _decode("/account", account_body)
                for earlier in unparsed:
                    reader.read(_decode("/companies", earlier))
                unparsed = None
            cursor = reader.read(_decode("/companies", body))
            if cursor is None:
                # Every record came from _decode: orjson.dumps writes each exactly (see _NonFinite).
                snapshot = build_snapshot(account_document, reader.records, self._parsed, digests[0], orjson.dumps)
                self.last_records = len(reader.records)
                self._last = _Listing(tuple(digests), tuple(reader.cursors), len(reader.records), snapshot)
                return snapshot
        raise FeedError(f"/companies: more than {MAX_PAGES} pages")

    async def check_account(self) -> str:
        """`GET BASE/account` within `fetch_deadline` seconds: the account's name. FeedError with the reason
        (refused token, not found, not an account, no answer in time) otherwise. Used before a connection is
        saved (SPEC.md "Many practices")."""
        try:
            async with asyncio.timeout(self.fetch_deadline):
                document = await self._get("/account")
        except TimeoutError:
            raise FeedUnreachable(f"/account: no answer within {self.fetch_deadline:g} s", timed_out=True) from None
        finally:
            await self.close()
        try:
            account, _ = parse_account(document)
        except FeedRecordError as exc:
            raise FeedError(f"/account: {exc}") from None
        return account.name

    async def close(self) -> None:
        if self._session is not None and not self._shared_session:
            await self._session.close()


@dataclass(frozen=True, slots=True)
class _Listing:
    digests: tuple[int, ...]  # of the account's bytes, then of each page's
    cursors: tuple[str | None, ...]  # each page's next cursor (None: the last page)
    records: int
    snapshot: Snapshot


def _digest(body: bytes) -> int:
    """Python's hash of a body (64-bit SipHash, keyed anew by each process: no feed can aim at a collision):
    equal hashes are taken for equal bytes, as equal fingerprints are for equal records
    (bot/practice/snapshot.py). A fifth of the time of a 128-bit BLAKE2b, and only the hash is kept."""
    return hash(body)


class _NonFinite(float):
    """A NaN or infinite number in a feed's JSON. orjson.dumps, which writes the records of _decode for their
    fingerprints, would write such a float as null (as if the record said null); it refuses this subclass
    (TypeError), so a record holding one has no fingerprint and is parsed each time. Otherwise a float."""


def _float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(value)


# json.loads, but for NaN, Infinity and floats too large for a double (1e400): see _NonFinite.
_FEED_JSON = json.JSONDecoder(parse_float=_float, parse_constant=_NonFinite)


def _decode(path: str, body: bytes) -> Any:
    """A body as json.loads reads bytes (UTF-8, -16 or -32); FeedError when it is not JSON, or nested too deeply
    to read (past Python's recursion limit).

    orjson.loads first: twice as fast as json.loads on a 100-company page (39 vs 81 us, measured with
    bench/_common.py's records), the whole of nearly every answer. It refuses what json.loads accepts and
    reads otherwise (NaN and infinities, a byte order mark, UTF-16/32, lone surrogates, nesting past 1,024):
    those answers are read by json.loads as before. It reads an integer outside 64 bits as a float
    (-9223372036854775809 has 19 digits), so a body holding a run of 19 digits or more (found in 13 us on such
    a page) is read by json.loads too: where both read a body, they give the same values."""
    if _LONG_DIGITS not in body.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return _FEED_JSON.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except json.JSONDecodeError:
        raise FeedError(f"{path}: the answer is not JSON") from None
    except ValueError as exc:  # not text, or an integer past Python's 4,300 digits
        raise FeedError(f"{path}: the answer cannot be read ({shorten(str(exc), 120)})") from None
    except RecursionError:
        raise FeedError(f"{path}: the answer is nested too deeply to read") from None


# Every digit as "0", for finding a run of 19 with one `in`.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19


class _PageReader:
    """One listing's pages in order: their records, and the checks on its cursor (MAX_PAGES aside)."""

    def __init__(self, last_records: int | None) -> None:
        self.last_records = last_records
        self.records: list[Any] = []
        self.cursors: list[str | None] = []
        self._seen_cursors: set[str] = set()
        self._seen_ids: set[Any] = set()
        self._stale = 0
        self._most: int | None = None

    def read(self, page: Any) -> str | None:
        """Adds a page's records; returns its next cursor (None: the listing is complete). FeedError for a
        page that is not one, or a cursor that is not a string, comes back, or seems endless."""
        if not isinstance(page, dict) or not isinstance(page.get("companies"), list):
            raise FeedError("/companies: expected an object with a 'companies' list")
        pages = len(self.cursors) + 1
        batch = page["companies"]
        self.records.extend(batch)
        if self._most is None and self.last_records is not None:
            self._most = GROWTH_FACTOR * self.last_records + 2 * max(len(batch), 1)
        cursor = page.get("next_cursor")
        if cursor is None or cursor == "":
            self.cursors.append(None)
            return None
        if not isinstance(cursor, str):
            raise FeedError("/companies: 'next_cursor' must be a string or null")
        if cursor in self._seen_cursors:
            raise FeedError(f"/companies: the cursor {cursor[:40]!r} came back twice; the feed loops")
        self._seen_cursors.add(cursor)
        ids = {record.get("id") for record in batch if isinstance(record, dict) and isinstance(record.get("id"), str)}
        self._stale = self._stale + 1 if not ids - self._seen_ids else 0
        self._seen_ids |= ids
        if self._stale >= STALE_PAGES:
            raise FeedError(f"/companies: {self._stale} pages in a row with no new company; the cursor seems endless")
        if self._most is not None and len(self.records) > self._most:
            raise FeedError(
                f"/companies: more than {self._most} companies in {pages} pages and still going (the last complete"
                f" listing had {self.last_records}); the cursor seems endless (if the practice really grew"
                " that much, restart the bot to read it whole once)"
            )
        self.cursors.append(cursor)
        return cursor


async def _read_capped(response: aiohttp.ClientResponse, path: str) -> bytes:
    """The body, unless it is longer than MAX_PAGE_BYTES: then FeedError, having read no more than that."""
    if response.content_length is not None:
        if response.content_length > MAX_PAGE_BYTES:
            raise FeedError(f"{path}: the answer is {response.content_length} bytes, more than {MAX_PAGE_BYTES} allowed")
        return await response.read()  # its length is known and allowed: read in one go
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body.extend(chunk)
        if len(body) > MAX_PAGE_BYTES:
            raise FeedError(f"{path}: the answer is more than {MAX_PAGE_BYTES} bytes; read no further")
    return bytes(body)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def feed_from_source(
    source: str, token: str | None, clock: Callable[[], datetime], *, fetch_deadline: float = FETCH_DEADLINE_SECONDS
) -> StatusFeed:
    if source == "demo":
        return DemoFeed(clock)
    if source.startswith("file:"):
        return FileFeed(Path(source[len("file:") :]))
    return HttpFeed(source, token, fetch_deadline=fetch_deadline)


def fetch_deadline(poll_interval_seconds: float) -> float:
    """Seconds a whole fetch may take: FETCH_DEADLINE_SECONDS (60), or the poll interval when that is
    shorter, but never under MIN_FETCH_DEADLINE_SECONDS (5: time for a practice of thousands on loopback)."""
    return max(MIN_FETCH_DEADLINE_SECONDS, min(FETCH_DEADLINE_SECONDS, poll_interval_seconds))


MIN_FETCH_DEADLINE_SECONDS = 5.0
