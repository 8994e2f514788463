"""The one place the bot's state lives: SQLite through sqlite-utils, WAL, short transactions."""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator, Sequence

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
from storage.sqlite.alerts import AlertStore
from storage.sqlite.home import HomeStore
from storage.sqlite.migrations import SINGLE_WORKSPACE, migrations
from storage.sqlite.presses import PressStore
from storage.sqlite.query import select
from storage.sqlite.reminders import ReminderStore
from storage.sqlite.workspaces import WorkspaceStore
from storage.timefmt import from_iso, iso

# Old poll runs are trimmed at the first poll recorded by a process and every this many after it.
TRIM_POLL_RUNS_EVERY = 100


class StorageError(Exception):
    """The database cannot be used (not SQLite, read-only, out of reach): one line, naming the file."""


@dataclass(frozen=True, slots=True)
class PollRun:
    started_at: datetime
    finished_at: datetime | None
    ok: bool
    companies: int
    changes: int
    skipped: int
    error: str | None


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


class Store(AlertStore, HomeStore, ReminderStore, PressStore, WorkspaceStore):
    """One workspace's practice, stored: every read and write is scoped to `workspace` (docs/workspaces.md).

    `Store.open(path)` gives the database bound to the single workspace (SINGLE_WORKSPACE, the only one in
    single-workspace mode); `store.for_workspace(team_id)` gives the handle of another workspace on the same
    database, with its own caches (one handle per workspace, kept)."""

    def __init__(self, db: Database, workspace: str = SINGLE_WORKSPACE, handles: dict[str, "Store"] | None = None) -> None:
        self.db = db
        self.ws = workspace
        self._handles: dict[str, Store] = handles if handles is not None else {}
        self._handles.setdefault(workspace, self)
        # Bumped on every change to the company list, so caches (the name index) know to rebuild.
        self.companies_version = 0
        # The account is read on every slash command and written once a poll: keep it in memory.
        self._account: Account | None = None
        self._company_cache: dict[str, StoredCompany | None] = {}
        self._companies_seen = 0
        # Bumped by every recorded poll, so the feed's health can be kept in memory between polls.
        self.polls_version = 0
        # users.info answers, in front of the slack_users table (user id -> (email, fetched at)).
        self._slack_users: dict[str, tuple[str | None, datetime | None]] = {}
        self._polls_recorded = 0
        self.queued_rows = 0

    @classmethod
    def open(cls, path: str, *, cache_kib: int = 65536) -> "Store":
        """Open (or create) the database and bring its schema up to date.
        Raises StorageError with one line when SQLite cannot use the file."""
        try:
            return cls._open(path, cache_kib)
        except sqlite3.Error as exc:
            reason = str(exc)
            if "not a database" in reason:
                reason = "the file is not a SQLite database"
            elif "readonly" in reason or "read-only" in reason:
                reason = "the file (or its folder) is read-only"
            raise StorageError(f"INTEGRATION_BOT_DB {path!r} cannot be used: {reason}") from None

    @classmethod
    def _open(cls, path: str, cache_kib: int = 65536) -> "Store":
        conn = sqlite3.connect(path, timeout=10.0)
        try:
            return cls(cls._prepare(conn, path, cache_kib))
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _prepare(conn: sqlite3.Connection, path: str, cache_kib: int = 65536) -> Database:
        db = Database(conn)
        if path != ":memory:":
            db.enable_wal()
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        # Reads on the slash command's path come from memory: a larger page cache, and the file mapped.
        conn.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        conn.execute("PRAGMA mmap_size=268435456")
        conn.execute("PRAGMA foreign_keys=ON")
        migrations.apply(db)
        return db

    def for_workspace(self, workspace: str) -> "Store":
        """The handle of `workspace` (a Slack team id, or an Enterprise Grid org id for an org-wide install)
        on this database: the same one on every call, so its caches stay true."""
        handle = self._handles.get(workspace)
        if handle is None:
            handle = self._handles[workspace] = type(self)(self.db, workspace, self._handles)
        return handle

    @property
    def workspace(self) -> str:
        return self.ws

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        try:
            with self.db.atomic():
                yield
        except BaseException:
            # What the caches read inside the transaction was rolled back with it.
            self.companies_version += 1
            self._account = None
            raise

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

    def feed_rows(self, company_ids: list[str] | None = None) -> dict[str, tuple[Any, ...]]:
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

    def overview_rows(self) -> list[tuple[Any, ...]]:
        """(id, name, integration_status, status_since, sync_status, sync_location) of every listed company:
        plain tuples, for the practice overview (building 10,000 StoredCompany objects costs ~150 ms)."""
        return self.db.execute(
            "select id, name, integration_status, status_since, sync_status, sync_location"
            " from companies where workspace = ? and removed_at is null",
            [self.ws],
        ).fetchall()

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

    # --- poll leases (several processes: storage/postgres/store.py) ---------------------

    def claim_poll(self, lease_seconds: float) -> float:
        """Take this workspace's poll for up to `lease_seconds`: 0.0 when this process is to poll now, else
        the seconds to wait before asking again (another process holds it, or polled it lately).
        One process on SQLite: always 0.0."""
        return 0.0

    def finish_poll(self, next_in_seconds: float) -> None:
        """End this process's poll lease; the next poll is due in `next_in_seconds`. No-op on SQLite."""

    # --- poll runs ---------------------------------------------------------------------

    def record_poll(self, run: PollRun) -> None:
        self.polls_version += 1
        self._polls_recorded += 1
        # Plain SQL: sqlite-utils' insert inspects the table's columns, at every poll of every workspace.
        self.db.execute(
            "insert into poll_runs (workspace, started_at, finished_at, ok, companies, changes, skipped, error)"
            " values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.ws,
                iso(run.started_at),
                iso(run.finished_at),
                int(run.ok),
                run.companies,
                run.changes,
                run.skipped,
                run.error,
            ],
        )
        if self._polls_recorded % TRIM_POLL_RUNS_EVERY == 1:
            # A year of five-minute polls is enough history; older rows only cost space (trimmed now and then).
            self.db.execute(
                "delete from poll_runs where workspace = ? and id <= (select max(id) from poll_runs where workspace = ?) - 100000",
                [self.ws, self.ws],
            )

    def _poll(self, where: str) -> PollRun | None:
        row = self.db.execute(
            "select started_at, finished_at, ok, companies, changes, skipped, error from poll_runs"
            f" where workspace = ? {where} order by id desc limit 1",
            [self.ws],
        ).fetchone()
        if row is None:
            return None
        return PollRun(from_iso(row[0]) or datetime.min, from_iso(row[1]), bool(row[2]), row[3], row[4], row[5], row[6])

    def last_poll(self) -> PollRun | None:
        return self._poll("")

    def last_good_poll(self) -> PollRun | None:
        return self._poll("and ok = 1")

    def first_poll_at(self) -> datetime | None:
        row = self.db.execute("select min(started_at) from poll_runs where workspace = ?", [self.ws]).fetchone()
        return from_iso(row[0]) if row else None

    def failing_polls_since_last_good(self) -> int:
        return self.db.execute(
            "select count(*) from poll_runs where workspace = ? and ok = 0"
            " and id > coalesce((select max(id) from poll_runs where workspace = ? and ok = 1), 0)",
            [self.ws, self.ws],
        ).fetchone()[0]

    # --- Slack users -------------------------------------------------------------------

    def slack_user_email(self, user_id: str, now: datetime, max_age: timedelta) -> tuple[bool, str | None]:
        """(known, email): a cached users.info answer younger than max_age."""
        cached = self._slack_users.get(user_id)
        if cached is None:
            rows = list(select(self.db, "slack_users", "workspace = ? and user_id = ?", [self.ws, user_id]))
            if not rows:
                return False, None
            cached = self._slack_users[user_id] = (rows[0]["email"], from_iso(rows[0]["fetched_at"]))
        email, fetched = cached
        if fetched is None or now - fetched > max_age:
            return False, None
        return True, email

    def remember_slack_user(self, user_id: str, email: str | None, name: str | None, now: datetime) -> None:
        self._slack_users[user_id] = (email, now)
        self.db.table("slack_users").upsert(
            {"workspace": self.ws, "user_id": user_id, "email": email, "name": name, "fetched_at": iso(now)},
            pk=("workspace", "user_id"),
        )
