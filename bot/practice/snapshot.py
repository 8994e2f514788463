"""A fetch of the status feed as one snapshot: the account and every company record, validated, bad records
skipped and said; records unchanged since the last fetch are not parsed again (ParsedRecords)."""

from __future__ import annotations

import copy
import marshal
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter
from typing import Any, Callable

from bot.practice.models import (
    Account,
    CompanyStatus,
    FeedRecordError,
    normal_id,
    parse_account,
    parse_company,
)


class FeedError(Exception):
    """The feed as a whole could not be read: keep the last good state and say nothing of companies."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    account: Account
    companies: list[CompanyStatus]
    skipped: list[str] = field(default_factory=list)
    # Companies whose record was bad this time: their known state stays, they are not "removed".
    skipped_ids: frozenset[str] = frozenset()
    # Records kept with a change (text shortened, a count clamped): said once per record, in the log.
    notes: list[str] = field(default_factory=list)


def marshal_bytes(record: Any) -> bytes:
    """A record's bytes in marshal's format version 2 (no back-references, so equal records give equal bytes):
    for any record json.loads gives."""
    return marshal.dumps(record, 2)


# How a record is written as bytes for its fingerprint: equal records must give equal bytes, unequal ones
# unequal bytes; a value it cannot write raises ValueError or TypeError (the record is then simply parsed).
RecordBytes = Callable[[Any], bytes]


def fingerprint(record: dict[str, Any], dumps: RecordBytes = marshal_bytes) -> int | None:
    """A hash of a record's fields and values, in their order: of its bytes as `dumps` writes them (marshal's
    by default; the HTTP feed gives orjson.dumps, three times faster, for records from its own decoder, see
    bot/practice/feed.py). None for a value `dumps` cannot write, which is then simply parsed. Two records
    with equal fingerprints are taken as equal (a 64-bit hash); unequal bytes for equal records (a string
    interned in one) only cost a parse."""
    try:
        return hash(dumps(record))
    except (ValueError, TypeError):
        return None


class ParsedRecords:
    """What each record parsed to last time, by a fingerprint of its fields: an unchanged record (nearly
    all of them, poll after poll) is not validated again, and parses to the very same object, which lets
    the poller skip it at once. A record's notes (text shortened...) are given the first time only."""

    def __init__(self) -> None:
        # Record id -> (its fingerprint, what it parsed to); read by build_snapshot, written by `parse`.
        self.known: dict[str, tuple[int, CompanyStatus]] = {}
        self._account: tuple[Any, tuple[Account, list[str]]] | None = None

    def account(self, document: Any, key: object = None) -> tuple[Account, list[str]]:
        """parse_account, skipped when the document equals the last one (it nearly always does). `key`: a
        digest of the document's bytes, compared instead of the document (no copy of it kept)."""
        try:
            if self._account is not None and self._account[0] == (key if key is not None else document):
                return self._account[1]
        except RecursionError:  # a value nested past Python's recursion limit (parse_account ignores it)
            pass
        parsed = parse_account(document)
        try:
            self._account = (key if key is not None else copy.deepcopy(document), parsed)
        except RecursionError:
            self._account = None  # nothing kept to compare with: the next fetch reads the account again
        return parsed

    def knows_account(self, key: object) -> bool:
        """True when `account(document, key)` would give the last account without reading `document`."""
        return self._account is not None and key is not None and self._account[0] == key

    def parse(self, record: Any, notes: list[str] | None = None, dumps: RecordBytes = marshal_bytes) -> CompanyStatus:
        record_id = record.get("id") if isinstance(record, dict) else None
        if not isinstance(record_id, str):
            return parse_company(record, notes)
        digest = fingerprint(record, dumps)
        if digest is None:
            return parse_company(record, notes)
        known = self.known.get(record_id)
        if known is not None and known[0] == digest:
            return known[1]
        company = parse_company(record, notes)
        self.known[record_id] = (digest, company)
        return company

    def keep_only(self, company_ids: set[str]) -> None:
        for gone in self.known.keys() - company_ids:
            del self.known[gone]


def _unchanged(
    records: list[Any], known: dict[str, tuple[int, CompanyStatus]], dumps: RecordBytes
) -> list[CompanyStatus | None] | None:
    """For each record, what it parsed to last time if its fingerprint is the same (else None), in one pass of
    C loops (map) over the listing. None when a record is not an object, has an id that is not hashable, or
    cannot be written by `dumps`: then each record is looked at in turn."""
    try:
        digests = map(hash, map(dumps, records))
        last_of: Callable[[Any], tuple[int, CompanyStatus] | None] = known.get  # an unhashable id: TypeError
        lasts = map(last_of, map(dict.get, records, repeat("id")))
        return [last[1] if last is not None and last[0] == digest else None for last, digest in zip(lasts, digests)]
    except (TypeError, ValueError):
        return None


def _whole(
    records: list[Any], unchanged: list[CompanyStatus | None], parsed: ParsedRecords, dumps: RecordBytes, notes: list[str]
) -> list[CompanyStatus] | None:
    """`unchanged` with its gaps parsed, in place (their notes added to `notes`), when every record parses and
    no two give the same company id (nearly every listing): the listing's companies, in order (`parsed` then
    keeps only theirs). Else None, the gaps filled up to the first bad record, for build_snapshot's
    record-by-record pass."""
    for index in [index for index, company in enumerate(unchanged) if company is None]:
        record_notes: list[str] = []
        try:
            company = unchanged[index] = parsed.parse(records[index], record_notes, dumps)
        except FeedRecordError:
            return None
        if record_notes:
            notes.extend(f"{_record_name(index, company.id)}: {note}" for note in record_notes)
    companies: list[CompanyStatus] = unchanged  # type: ignore[assignment]  # no gap left
    ids = set(map(_company_id, companies))
    if len(ids) != len(companies):
        return None
    parsed.keep_only(ids)
    return companies


def _account(document: Any, parsed: ParsedRecords | None, key: object) -> tuple[Account, list[str]]:
    try:
        return parsed.account(document, key) if parsed is not None else parse_account(document)
    except FeedRecordError as exc:
        raise FeedError(f"account: {exc}") from None


_company_id: Callable[[CompanyStatus], str] = attrgetter("id")


def _record_name(index: int, record_id: Any) -> str:
    # By id where there is one, so the same bad record reads the same, poll after poll, wherever it sits.
    return f"company {record_id[:100]!r}" if isinstance(record_id, str) else f"company #{index}"


def build_snapshot(
    account_document: Any,
    records: list[Any],
    parsed: ParsedRecords | None = None,
    account_key: object = None,
    dumps: RecordBytes = marshal_bytes,
) -> Snapshot:
    """Validate a whole fetch. One bad company is skipped; a bad account fails the fetch. `dumps`: how records
    are written for their fingerprints (`fingerprint`); `account_key`: see ParsedRecords.account.
    Records that disagree about one company id (one integrated, one in error) are malformed: none of them
    counts and the company keeps its last known state. Identical repeats are harmless: one is kept."""
    account, problems = _account(account_document, parsed, account_key)
    skipped = [f"account {problem}" for problem in problems]
    skipped_ids: set[str] = set()
    notes: list[str] = []
    by_id: dict[str, CompanyStatus] = {}
    disagreeing: dict[str, int] = {}
    known = parsed.known if parsed is not None else {}
    # Nearly every record is as it was last time: the same company, unparsed.
    unchanged = _unchanged(records, known, dumps) if known else None
    whole = _whole(records, unchanged, parsed, dumps, notes) if unchanged is not None and parsed is not None else None
    if whole is not None:
        return Snapshot(account, whole, skipped, frozenset(), notes)
    for index, record in enumerate(records):
        company = unchanged[index] if unchanged is not None else None
        if company is None:
            record_id = record.get("id") if isinstance(record, dict) else None
            kept = known.get(record_id) if type(record_id) is str and unchanged is None else None
            try:
                company = kept[1] if kept is not None and kept[0] == hash(dumps(record)) else None
            except (ValueError, TypeError):
                company = None
        if company is None:
            record_notes: list[str] = []
            try:
                company = parsed.parse(record, record_notes, dumps) if parsed is not None else parse_company(record, record_notes)
            except FeedRecordError as exc:
                skipped.append(f"{_record_name(index, record_id)}: {exc}")
                if isinstance(record_id, str):
                    bad_id = normal_id(record_id)
                    skipped_ids.add(bad_id)
                    if bad_id in by_id:
                        disagreeing[bad_id] = disagreeing.get(bad_id, 1) + 1
                continue
            if record_notes:
                notes.extend(f"{_record_name(index, company.id)}: {note}" for note in record_notes)
        first = by_id.get(company.id)
        if first is None:
            by_id[company.id] = company
        elif first != company:
            disagreeing[company.id] = disagreeing.get(company.id, 1) + 1
    for company_id, count in disagreeing.items():
        skipped.append(f"company {company_id[:100]!r}: {count} records disagree about it; its last known state is kept")
        skipped_ids.add(company_id)
    companies = [company for company_id, company in by_id.items() if company_id not in skipped_ids]
    if parsed is not None:
        parsed.keep_only(set(by_id))
    return Snapshot(account, companies, skipped, frozenset(skipped_ids), notes)
