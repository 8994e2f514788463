"""`integration-bot migrate --from-sqlite PATH`: copy a SQLite deployment's data into PostgreSQL.

The SQLite file is opened read-only and must have all this version's migrations; the PostgreSQL database
must hold no practice rows (a second run changes nothing). Every practice table is copied in one
transaction with COPY, column for column (both schemas have the same columns: storage/postgres/schema.py);
times are the same ISO text in both. Outbox rows keep `in_flight_at`, so the first sender on PostgreSQL
looks in the channel before posting one that may have been sent. Slack's installation and OAuth state
tables (slack_sdk's, many-workspace mode) are copied into its SQLAlchemy stores' tables, in the same
transaction (storage/postgres/slack_copy.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlite_utils import Database

from storage.postgres.schema import PRIMARY_KEYS, SERIAL_TABLES
from storage.postgres.slack_copy import copy_slack_stores
from storage.postgres.store import migrate
from storage.sqlite.db import StorageError
from storage.sqlite.migrations import migrations

# Parents first is not needed (no foreign keys); this order is the one printed.
COPIED_TABLES: tuple[str, ...] = tuple(PRIMARY_KEYS)


@dataclass(frozen=True, slots=True)
class Copied:
    """Rows of one table: in the SQLite file, and in PostgreSQL after the copy (they must match)."""

    table: str
    sqlite_rows: int
    postgres_rows: int


def _open_sqlite(path: str) -> sqlite3.Connection:
    try:
        found = Path(path).is_file()
    except (OSError, ValueError) as exc:  # a name too long for the system, a NUL byte
        raise StorageError(f"--from-sqlite {path[:80]!r}: cannot look it up: {getattr(exc, 'strerror', None) or exc}") from None
    if not found:
        raise StorageError(f"--from-sqlite {path[:80]!r}: no such file")
    try:
        # A file: URI (read-only) built by pathlib, which escapes `%`, `#` and `?` in the name: pasted into the URI
        # as it is, "a%41.db" would open "aA.db" and "a#b.db" a file called "a".
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        pending = migrations.pending(Database(conn))
    except sqlite3.Error as error:
        raise StorageError(f"--from-sqlite {path!r} cannot be read: {error}") from None
    if pending:
        conn.close()
        raise StorageError(
            f"--from-sqlite {path!r} is from an older version: run `INTEGRATION_BOT_DB={path} integration-bot migrate`"
            " (without DATABASE_URL) first"
        )
    return conn


def copy_from_sqlite(path: str, conn: psycopg.Connection[Any]) -> list[Copied]:
    """Copy every practice table of the SQLite file at `path` into the database of `conn` (autocommit),
    whose schema is brought up to date first. All or nothing: one transaction.
    Raises StorageError (one line) when the file is not an up-to-date bot database, or the target holds rows."""
    source = _open_sqlite(path)
    try:
        migrate(conn)
        copied: list[Copied] = []
        with conn.transaction():
            for table in COPIED_TABLES:
                if conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(table))).fetchone():
                    raise StorageError(
                        f"this PostgreSQL database is not empty (table {table} holds rows): copy into an empty one"
                    )
            for table in COPIED_TABLES:
                known = source.execute("select 1 from sqlite_master where type = 'table' and name = ?", [table]).fetchone()
                if not known:
                    copied.append(Copied(table, 0, 0))
                    continue
                cursor = source.execute(f"select * from [{table}]")
                columns = [column[0] for column in cursor.description]
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(name) for name in columns)
                )
                rows = 0
                with conn.cursor().copy(statement) as copy:
                    for row in cursor:
                        copy.write_row(row)
                        rows += 1
                if table in SERIAL_TABLES:
                    conn.execute(
                        sql.SQL(
                            "SELECT setval(pg_get_serial_sequence({}, 'id'), coalesce(max(id), 0) + 1, false) FROM {}"
                        ).format(sql.Literal(table), sql.Identifier(table))
                    )
                counted = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
                copied.append(Copied(table, rows, counted[0] if counted else 0))
            copied += [Copied(*counts) for counts in copy_slack_stores(source, conn)]
        return copied
    finally:
        source.close()
