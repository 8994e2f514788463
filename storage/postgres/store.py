"""The store on PostgreSQL: the same `Store` (storage/sqlite/db.py), its SQL run through `PostgresDatabase`.

`open_store(url)` connects, brings the schema up to date under an advisory lock and gives the handle of
the single workspace, as `Store.open(path)` does for SQLite; `store.for_workspace(team)` works the same.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlite_utils import Database

from bot.practice.models import Account, StoredCompany
from storage.postgres.coordination import PostgresCoordination
from storage.postgres.database import PostgresDatabase
from storage.postgres.schema import MIGRATION_LOCK_KEY, MIGRATIONS
from storage.sqlite.alerts import OutboxItem
from storage.sqlite.db import StorageError, Store

CONNECT_TIMEOUT_SECONDS = 10
# This process, as the owner of its leases: host, pid and a random part (a pid is reused after a restart).
OWNER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

# The head of its channel's queue, pending, not held by another process's live lease; locked rows skipped.
_CLAIM_OUTBOX_ROW = """
UPDATE outbox SET claimed_by = %(me)s, claimed_until = now() + make_interval(secs => %(lease)s)
WHERE id = (
    SELECT o.id FROM outbox o
    WHERE o.id = %(id)s AND o.workspace = %(ws)s AND o.state = 'pending'
      AND (o.claimed_until IS NULL OR o.claimed_until < now() OR o.claimed_by = %(me)s)
      AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.workspace = o.workspace AND p.channel = o.channel
                      AND p.state = 'pending' AND p.id < o.id)
    FOR UPDATE SKIP LOCKED)
RETURNING id
"""

_CLAIM_POLL = """
UPDATE workspace_polls w SET lease_owner = %(me)s, lease_until = now() + make_interval(secs => %(lease)s)
FROM (SELECT workspace FROM workspace_polls
      WHERE workspace = %(ws)s AND next_poll_at <= now() AND (lease_until IS NULL OR lease_until < now())
      FOR UPDATE SKIP LOCKED) due
WHERE w.workspace = due.workspace
RETURNING w.workspace
"""


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection to `url` (`postgresql://user:password@host:port/db`).
    Raises StorageError with one line (no password) when the server cannot be used."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except (psycopg.Error, ValueError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise StorageError(f"DATABASE_URL cannot be used: {first_line}") from None


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply the migrations this database lacks, in one transaction that first takes
    `pg_advisory_xact_lock(MIGRATION_LOCK_KEY)`: processes starting together wait, then find nothing to do,
    and a process dying mid-way leaves nothing half done (PostgreSQL DDL is transactional).
    Returns the names applied now (empty when the schema was up to date)."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK_KEY])
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL)")
        done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            conn.execute(sql.encode())  # several statements: sent as one simple query
            conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (%s, now())", [name])
            applied_now.append(name)
    return applied_now


# How long a look for other processes' polls holds (PostgresStore._follow_other_processes), in seconds.
FOLLOW_POLLS_SECONDS = 0.01


class PostgresStore(PostgresCoordination, Store):
    """The store on PostgreSQL, shared by several processes: outbox rows and polls are claimed under leases
    (docs/scaling-out.md). Leases are compared with the server's now(), never a process's clock."""

    owner = OWNER  # who holds this process's leases

    # The in-memory caches (the account, companies read by cards, the name index, the feed's health) follow
    # companies_version and polls_version, which this process bumps on its own writes. Another process's poll
    # shows as a new poll_runs row: each read of a version first looks for one (one indexed query) and
    # bumps both when there is, so any process answers from what the last poll, by whichever process, found.

    def for_workspace(self, workspace: str) -> Store:
        handle = super().for_workspace(workspace)
        setattr(handle, "owner", self.owner)  # one process, one lease owner, whichever workspace
        return handle

    def _follow_other_processes(self) -> None:
        # One look per FOLLOW_POLLS_SECONDS at most: a slash command reads the versions about six times, and
        # each look is a round trip (bench/bench_slash.py with DATABASE_URL: 36.8 ms median with a look at
        # every read, against SQLite's 12.9 ms). Another process's poll is seen that much later at most.
        now = time.monotonic()
        if now - self.__dict__.get("_followed_at", -1.0) < FOLLOW_POLLS_SECONDS:
            return
        self.__dict__["_followed_at"] = now
        row = self._conn.execute("SELECT max(id) FROM poll_runs WHERE workspace = %s", [self.ws]).fetchone()
        latest = row[0] if row else None
        if latest != self.__dict__.get("_latest_poll_run"):
            self.__dict__["_latest_poll_run"] = latest
            self.__dict__["_companies_version"] = self.__dict__.get("_companies_version", 0) + 1
            self.__dict__["_polls_version"] = self.__dict__.get("_polls_version", 0) + 1
            self._account = None

    @property
    def companies_version(self) -> int:
        self._follow_other_processes()
        return int(self.__dict__.get("_companies_version", 0))

    @companies_version.setter
    def companies_version(self, value: int) -> None:
        self.__dict__["_companies_version"] = value

    @property
    def polls_version(self) -> int:
        self._follow_other_processes()
        return int(self.__dict__.get("_polls_version", 0))

    @polls_version.setter
    def polls_version(self, value: int) -> None:
        self.__dict__["_polls_version"] = value

    def account(self) -> Account | None:
        self._follow_other_processes()
        return super().account()

    def company(self, company_id: str, *, include_removed: bool = False) -> StoredCompany | None:
        """As the SQLite store's, but the first read after the companies changed loads them all in one query:
        on PostgreSQL each read is a round trip, and cards ask for one company after another (SQLite reads
        them one at a time, in-process). A workspace nobody asks about loads nothing."""
        if include_removed:
            return super().company(company_id, include_removed=True)
        version = self.companies_version
        if self.__dict__.get("_loaded_version") != version:
            self._company_cache.clear()
            self._company_cache.update(self.companies())
            self._companies_seen = version
            self.__dict__["_loaded_version"] = version
        return self._company_cache.get(company_id)

    @property
    def _conn(self) -> psycopg.Connection[Any]:
        return cast(PostgresDatabase, self.db).conn

    def close(self) -> None:
        """End this process's leases (its outbox rows and polls are free for the others at once), then close
        the connection. A row cancelled mid-call keeps `in_flight_at`: its next sender looks first."""
        try:
            with self.atomic():
                self._conn.execute(
                    "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = %s", [self.owner]
                )
                self._conn.execute(
                    "UPDATE workspace_polls SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = %s", [self.owner]
                )
                self.end_job_leases()
        except psycopg.Error:
            pass  # the server is gone: the leases end by themselves
        super().close()

    def claim_outbox_row(self, item: OutboxItem) -> OutboxItem | None:
        """Claim `item` for `outbox_lease_seconds` (renewed while it is sent) if it is still pending, first in its channel and not held by
        another live process; the row as it is now (its `in_flight_at` set by a process that died makes
        delivery look in the channel first), or None."""
        claimed = self._conn.execute(
            _CLAIM_OUTBOX_ROW, {"me": self.owner, "lease": self.outbox_lease_seconds, "id": item.id, "ws": self.ws}
        ).fetchone()
        if claimed is None:
            return None
        rows = self._outbox_rows("id = ?", [item.id], 1)
        return rows[0][0] if rows else None

    def reschedule(self, item_id: int, due_at: datetime, error: str, *, keep_in_flight: bool = False) -> None:
        """As on SQLite, and the claim ends: whichever process is free when the row is due sends it."""
        with self.atomic():
            super().reschedule(item_id, due_at, error, keep_in_flight=keep_in_flight)
            self._conn.execute(
                "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = %s AND workspace = %s AND claimed_by = %s",
                [item_id, self.ws, self.owner],
            )

    def claim_poll(self, lease_seconds: float) -> float:
        """0.0 when this process now holds the workspace's poll lease for `lease_seconds`; else the seconds
        until its next poll is due or the holder's lease ends (at least 1)."""
        conn = self._conn
        conn.execute("INSERT INTO workspace_polls (workspace, next_poll_at) VALUES (%s, now()) ON CONFLICT DO NOTHING", [self.ws])
        if conn.execute(_CLAIM_POLL, {"me": self.owner, "lease": lease_seconds, "ws": self.ws}).fetchone():
            return 0.0
        row = conn.execute(
            "SELECT extract(epoch FROM greatest(next_poll_at, coalesce(lease_until, next_poll_at)) - now())"
            " FROM workspace_polls WHERE workspace = %s",
            [self.ws],
        ).fetchone()
        return max(1.0, float(row[0])) if row and row[0] is not None else 1.0

    def finish_poll(self, next_in_seconds: float) -> None:
        """The next poll is due `next_in_seconds` from now; the lease ends (only if this process held it)."""
        self._conn.execute(
            "UPDATE workspace_polls SET next_poll_at = now() + make_interval(secs => %s), last_poll_at = now(),"
            " lease_owner = NULL, lease_until = NULL WHERE workspace = %s AND lease_owner = %s",
            [next_in_seconds, self.ws, self.owner],
        )


def open_store(url: str) -> Store:
    """Connect to `url`, bring its schema up to date and give the single workspace's handle.
    Raises StorageError with one line when the server cannot be used."""
    conn = connect(url)
    try:
        migrate(conn)
        return PostgresStore(cast(Database, PostgresDatabase(conn)))
    except psycopg.Error as error:
        conn.close()
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise StorageError(f"DATABASE_URL cannot be used: {first_line}") from None
