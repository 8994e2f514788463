"""The practice as the feed last described it: the account, its users and its companies (tables `account`,
`account_users`, `companies`), and the poll's write of a listing, which gives back what changed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlite_utils import Database

from bot.practice.lookup import name_key
from bot.practice.models import (
    Account,
    AccountUser,
    CompanyError,
    CompanyStatus,
    ErrorKind,
    IntegrationStatus,
    Person,
    StoredCompany,
    SyncApp,
    SyncAppStatus,
)
from storage.records import CompanyLine, StoredChange
from storage.sqlite.query import select
from storage.timefmt import from_iso, iso


def company_to_row(status: CompanyStatus) -> dict[str, Any]:
    sync = status.sync_app
    return {
        "id": status.id,
        "name": status.name,
        "name_key": name_key(status.name),
        "software": status.software,
        "integration_status": status.integration_status.value,
        "error_kind": status.error.kind.value if status.error else None,
        "error_message": status.error.message if status.error else None,
        "sync_status": sync.status.value if sync else None,
        "sync_location": sync.location if sync else None,
        "sync_last_seen_at": iso(sync.last_seen_at) if sync else None,
        "publication_errors": status.publication_errors,
        "feed_updated_at": iso(status.updated_at),
    }


FEED_COLUMNS = (
    "id",
    "name",
    "name_key",
    "software",
    "integration_status",
    "error_kind",
    "error_message",
    "sync_status",
    "sync_location",
    "sync_last_seen_at",
    "publication_errors",
    "feed_updated_at",
    "removed_at",
)


# What the bot keeps about a company beyond what the feed says.
KEPT_COLUMNS = ("status_since", "sync_since", "first_seen_at")


def stored_from_tuple(values: tuple[Any, ...]) -> StoredCompany:
    return row_to_company(dict(zip(FEED_COLUMNS + KEPT_COLUMNS, values)))


def row_to_company(row: dict[str, Any]) -> StoredCompany:
    error = None
    if row["error_kind"]:
        error = CompanyError(ErrorKind(row["error_kind"]), row["error_message"] or "")
    sync = None
    if row["sync_status"]:
        sync = SyncApp(SyncAppStatus(row["sync_status"]), row["sync_location"], from_iso(row["sync_last_seen_at"]))
    status = CompanyStatus(
        id=row["id"],
        name=row["name"],
        software=row["software"] or "",
        integration_status=IntegrationStatus(row["integration_status"]),
        error=error,
        sync_app=sync,
        publication_errors=row["publication_errors"] or 0,
        updated_at=from_iso(row["feed_updated_at"]),
    )
    return StoredCompany(
        status=status,
        status_since=from_iso(row["status_since"]),
        sync_since=from_iso(row["sync_since"]),
        missing_since=from_iso(row.get("missing_since")),
    )


_INTEGRATION_STATUSES = {status.value: status for status in IntegrationStatus}
_SYNC_STATUSES = {status.value: status for status in SyncAppStatus}
REMOVED_AT = FEED_COLUMNS.index("removed_at")


def _status_key(status: CompanyStatus) -> tuple[object, ...]:
    return (status.integration_status, status.error)


def _sync_key(status: CompanyStatus) -> object:
    return status.sync_app.status if status.sync_app else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def next_row(new: CompanyStatus, old: tuple[object, ...] | None, now: datetime) -> tuple[dict[str, object], StoredCompany | None]:
    """The row to store for `new` (or None when nothing changed) and the old state as a company."""
    row = company_to_row(new)
    row["removed_at"] = None
    if old is not None and tuple(row[c] for c in FEED_COLUMNS) == old[: len(FEED_COLUMNS)]:
        return {}, None
    stamp = iso(now)
    if old is None:
        row.update(status_since=stamp, sync_since=stamp if new.sync_app else None, first_seen_at=stamp)
        return row, None
    before = stored_from_tuple(old)
    status_since, sync_since, first_seen_at = old[len(FEED_COLUMNS) :]
    row["status_since"] = stamp if _status_key(before.status) != _status_key(new) else status_since
    row["sync_since"] = stamp if _sync_key(before.status) != _sync_key(new) else sync_since
    row["first_seen_at"] = first_seen_at
    return row, before


class CompanyStore:
    """A mixin for Store (storage/sqlite/db.py), which sets the caches in its __init__."""

    db: Database
    ws: str  # the workspace every read and write is scoped to
    companies_version: int
    _account: Account | None
    _company_cache: dict[str, StoredCompany | None]
    _companies_seen: int

    # --- the account -------------------------------------------------------------------

    def save_account(self, account: Account, now: datetime) -> None:
        # The feed client hands back the very object of an unchanged account: no comparison of its users.
        if self._account is account or self.account() == account:
            return  # the same account, poll after poll: nothing to write
        self._account = None  # re-read after the write (also right if the transaction rolls back)
        with self.db.atomic():
            # Plain SQL: sqlite-utils' insert and insert_all read the schema first, at every workspace's first poll.
            self.db.execute("delete from account where workspace = ?", [self.ws])
            self.db.execute(
                "insert into account (workspace, id, name, holder_name, holder_email, updated_at) values (?, ?, ?, ?, ?, ?)",
                [self.ws, account.id, account.name, account.holder.name, account.holder.email, iso(now)],
            )
            self.db.execute("delete from account_users where workspace = ?", [self.ws])
            users = {user.email: user for user in account.users}  # one row an email, the last one kept (as before)
            self._executemany(
                "insert into account_users (workspace, email, name, all_companies, company_ids) values (?, ?, ?, ?, ?)",
                [
                    [self.ws, user.email, user.name, int(user.all_companies), json.dumps(sorted(user.company_ids))]
                    for user in users.values()
                ],
            )
        # Kept as written, so the next poll's equal account writes nothing (a rolled-back transaction clears it).
        self._account = account

    def account(self) -> Account | None:
        if self._account is None:
            self._account = self._read_account()
        return self._account

    def _read_account(self) -> Account | None:
        rows = list(select(self.db, "account", "workspace = ?", [self.ws]))
        if not rows:
            return None
        row = rows[0]
        users = tuple(
            AccountUser(
                name=user["name"],
                email=user["email"],
                all_companies=bool(user["all_companies"]),
                company_ids=frozenset(json.loads(user["company_ids"] or "[]")),
            )
            for user in select(self.db, "account_users", "workspace = ?", [self.ws])
        )
        return Account(row["id"], row["name"], Person(row["holder_name"], row["holder_email"]), users)

    # --- companies ---------------------------------------------------------------------

    def companies(self) -> dict[str, StoredCompany]:
        return {
            row["id"]: row_to_company(row)
            for row in select(self.db, "companies", "workspace = ? and removed_at is null", [self.ws])
        }

    def _feed_rows(self, company_ids: list[str] | None = None) -> dict[str, tuple[Any, ...]]:
        """Companies (all, or these) as tuples of FEED_COLUMNS then KEPT_COLUMNS: cheap to hold and compare."""
        columns = ", ".join(FEED_COLUMNS + KEPT_COLUMNS)
        if company_ids is None:
            return {row[0]: row for row in self.db.execute(f"select {columns} from companies where workspace = ?", [self.ws])}
        found: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(company_ids), 500):
            chunk = company_ids[start : start + 500]
            placeholders = ",".join("?" * len(chunk))
            for row in self.db.execute(
                f"select {columns} from companies where workspace = ? and id in ({placeholders})", [self.ws, *chunk]
            ):
                found[row[0]] = row
        return found

    def listed_company_ids(self) -> list[str]:
        return [
            row[0] for row in self.db.execute("select id from companies where workspace = ? and removed_at is null", [self.ws])
        ]

    def company(self, company_id: str, *, include_removed: bool = False) -> StoredCompany | None:
        if include_removed:
            rows = select(self.db, "companies", "workspace = ? and id = ?", [self.ws, company_id])
            return row_to_company(rows[0]) if rows else None
        # Companies change only in a poll; between polls every card reads them from memory.
        if self._companies_seen != self.companies_version:
            self._company_cache.clear()
            self._companies_seen = self.companies_version
        if company_id not in self._company_cache:
            rows = select(self.db, "companies", "workspace = ? and id = ? and removed_at is null", [self.ws, company_id])
            self._company_cache[company_id] = row_to_company(rows[0]) if rows else None
        return self._company_cache[company_id]

    def company_names(self) -> list[tuple[str, str]]:
        return [
            (row[0], row[1])
            for row in self.db.execute("select id, name from companies where workspace = ? and removed_at is null", [self.ws])
        ]

    def company_lines(self) -> list[CompanyLine]:
        """Every listed company as one line of the practice overview: plain tuples (building 10,000 StoredCompany
        objects costs ~150 ms)."""
        statuses = _INTEGRATION_STATUSES
        syncs = _SYNC_STATUSES
        return [
            CompanyLine(company_id, name, statuses[status], from_iso(since), syncs.get(sync), location)
            for company_id, name, status, since, sync, location in self.db.execute(
                "select id, name, integration_status, status_since, sync_status, sync_location"
                " from companies where workspace = ? and removed_at is null",
                [self.ws],
            )
        ]

    def company_count(self) -> int:
        return self.db.execute("select count(*) from companies where workspace = ? and removed_at is null", [self.ws]).fetchone()[
            0
        ]

    def company_state_counts(self) -> dict[tuple[str, str | None], int]:
        """Listed companies by (integration_status, sync_status): e.g. {("error", "offline"): 3}."""
        return {
            (row[0], row[1]): row[2]
            for row in self.db.execute(
                "select integration_status, sync_status, count(*) from companies"
                " where workspace = ? and removed_at is null group by integration_status, sync_status",
                [self.ws],
            )
        }

    def save_listing(self, companies: Sequence[CompanyStatus], now: datetime, *, read_all: bool = False) -> list[StoredChange]:
        """Store `companies` as the feed describes them now (the caller holds the poll's transaction): a new or
        changed company is written, with since when its status and its Sync App's state hold (`now` when they
        changed); an unchanged one writes nothing. `read_all`: compare with every stored company, read in one
        query (cheaper when most are compared: the first poll since a start). Returns a StoredChange per company
        written, in the order given."""
        old_rows = self._feed_rows(None if read_all else [company.id for company in companies])
        new_rows: list[dict[str, Any]] = []
        changed_rows: list[dict[str, Any]] = []
        changes: list[StoredChange] = []
        for company in companies:
            old = old_rows.get(company.id)
            row, before = next_row(company, old, now)
            if row:
                (changed_rows if old is not None else new_rows).append(row)
                after = StoredCompany(company, from_iso(str(row["status_since"])), from_iso(_text(row["sync_since"])))
                removed_at = old[REMOVED_AT] if old is not None else None
                changes.append(StoredChange(before, after, from_iso(_text(removed_at))))
        if new_rows or changed_rows:
            self.save_companies(new_rows, changed_rows)
        return changes

    def save_companies(self, new_rows: list[dict[str, Any]], changed_rows: list[dict[str, Any]]) -> None:
        """Store companies seen for the first time and changed ones (callers hold the transaction)."""
        # A plain insert for the new ones: half the statements of an upsert, which the first poll feels. Plain
        # executemany: sqlite-utils' insert_all inspects every value (about half the first poll's store time).
        self._write_companies(new_rows, "")
        self._write_companies(changed_rows, " on conflict (workspace, id) do update set {updates}")
        self.companies_version += 1

    def _write_companies(self, rows: list[dict[str, Any]], conflict: str) -> None:
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            by_columns.setdefault(tuple(row), []).append(row)
        for columns, group in by_columns.items():
            names = ", ".join(f"[{column}]" for column in columns)
            updates = ", ".join(f"[{column}] = excluded.[{column}]" for column in columns if column != "id")
            sql = f"insert into companies (workspace, {names}) values (?, {', '.join('?' * len(columns))})"
            sql += conflict.format(updates=updates)
            self._executemany(sql, ([self.ws, *(row[column] for column in columns)] for row in group))

    def _executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        # PostgreSQL's database object (storage/postgres/database.py) has its own; sqlite-utils' has none.
        executemany = getattr(self.db, "executemany", None)
        (executemany or self.db.conn.executemany)(sql, params)

    def mark_removed(self, company_ids: Iterable[str], now: datetime) -> int:
        ids = list(company_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self.db.execute(
                "update companies set removed_at = ?, missing_since = null"
                f" where workspace = ? and id in ({','.join('?' * len(chunk))})",
                [iso(now), self.ws, *chunk],
            )
        if ids:
            self.companies_version += 1
        return len(ids)

    def listed_and_missing(self) -> tuple[list[str], dict[str, datetime]]:
        """`listed_company_ids()` and `missing_companies()` in one query (the poll reads both)."""
        listed: list[str] = []
        missing: dict[str, datetime] = {}
        for company_id, missing_since in self.db.execute(
            "select id, missing_since from companies where workspace = ? and removed_at is null", [self.ws]
        ):
            listed.append(company_id)
            if missing_since is not None:
                missing[company_id] = from_iso(missing_since)
        return listed, missing

    def missing_companies(self) -> dict[str, datetime]:
        """Listed companies that recent complete listings left out, and since when."""
        return {
            row[0]: from_iso(row[1])
            for row in self.db.execute(
                "select id, missing_since from companies"
                " where workspace = ? and removed_at is null and missing_since is not null",
                [self.ws],
            )
        }

    def mark_missing(self, company_ids: list[str], now: datetime) -> None:
        self._set_missing(company_ids, iso(now))

    def clear_missing(self, company_ids: list[str]) -> None:
        self._set_missing(company_ids, None)

    def _set_missing(self, company_ids: list[str], value: str | None) -> None:
        if company_ids:
            self.companies_version += 1  # cards read companies from memory
        for start in range(0, len(company_ids), 500):
            chunk = company_ids[start : start + 500]
            self.db.execute(
                f"update companies set missing_since = ? where workspace = ? and id in ({','.join('?' * len(chunk))})",
                [value, self.ws, *chunk],
            )
