"""The store on PostgreSQL: the same `Store` (storage/sqlite/db.py), its SQL run through `PostgresDatabase`.

`open_store(url)` connects, brings the schema up to date under an advisory lock and gives the handle of
the single workspace, as `Store.open(path)` does for SQLite; `store.for_workspace(team)` works the same.
"""

from __future__ import annotations

from typing import Any, cast

import psycopg
from sqlite_utils import Database

from storage.postgres.database import PostgresDatabase
from storage.postgres.schema import MIGRATION_LOCK_KEY, MIGRATIONS
from storage.sqlite.db import StorageError, Store

CONNECT_TIMEOUT_SECONDS = 10


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


def open_store(url: str) -> Store:
    """Connect to `url`, bring its schema up to date and give the single workspace's handle.
    Raises StorageError with one line when the server cannot be used."""
    conn = connect(url)
    try:
        migrate(conn)
        return Store(cast(Database, PostgresDatabase(conn)))
    except psycopg.Error as error:
        conn.close()
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise StorageError(f"DATABASE_URL cannot be used: {first_line}") from None
