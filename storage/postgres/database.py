"""The part of sqlite-utils' `Database` that the store uses, over one psycopg 3 connection.

The store (storage/sqlite/) is written once, in SQL both databases run; `translate` turns the few
SQLite forms it uses into PostgreSQL's: `?` placeholders, `[name]` quoting, `insert or ignore` /
`insert or replace` (ON CONFLICT on the table's primary key), and `lastrowid` (RETURNING id).

The connection is synchronous and in autocommit mode, like the SQLite store's: each statement commits on
its own and `atomic()` opens a transaction (a savepoint when nested). Store calls are short (one or a few
indexed statements); a slow database blocks the event loop as a slow disk does under SQLite.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterable, Iterator, Sequence

import psycopg

from storage.postgres.schema import PRIMARY_KEYS, SERIAL_TABLES

_INSERT_OR = re.compile(r"^\s*insert\s+or\s+(ignore|replace)\s+into\s+(\w+)\s*\(([^)]*)\)", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*insert\s+into\s+(\w+)\b", re.IGNORECASE)
_BRACKETED = re.compile(r"\[(\w+)\]")


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """The PostgreSQL form of one statement of the store's SQLite SQL (cached: the store's SQL is a fixed set)."""
    conflict = ""
    found = _INSERT_OR.match(sql)
    if found:
        verb, table, columns = found.group(1).lower(), found.group(2), found.group(3)
        sql = f"insert into {table} ({columns})" + sql[found.end() :]
        if verb == "ignore":
            conflict = " on conflict do nothing"
        else:
            keys = PRIMARY_KEYS[table]
            names = [name.strip().strip('"[]') for name in columns.split(",")]
            updates = ", ".join(f"{name} = excluded.{name}" for name in names if name not in keys)
            conflict = f" on conflict ({', '.join(keys)}) do " + (f"update set {updates}" if updates else "nothing")
    sql = _BRACKETED.sub(r'"\1"', sql)
    # SQLite's max() over a comparison (0/1); PostgreSQL has bool_or for it.
    sql = sql.replace("max(i.resolved_at is null)", "bool_or(i.resolved_at is null)")
    # SQLite takes 0/1 as a condition; PostgreSQL wants a boolean.
    sql = sql.replace("case when ? then", "case when ?::int <> 0 then")
    sql = sql.replace("%", "%%").replace("?", "%s") + conflict
    inserted = _INSERT_INTO.match(sql)
    if inserted and inserted.group(1) in SERIAL_TABLES and " returning " not in sql.lower():
        sql += " returning id"
    return sql


class Cursor:
    """The results of one statement, as sqlite3's cursor gives them: rows as tuples, rowcount, lastrowid."""

    def __init__(self, cursor: psycopg.Cursor[Any], returns_id: bool) -> None:
        self._cursor = cursor
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self.lastrowid: int | None = None
        if returns_id:
            row = cursor.fetchone()
            self.lastrowid = row[0] if row else None

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class Table:
    """sqlite-utils' Table, for the calls the store makes: insert, insert_all, upsert, upsert_all, rows_where."""

    def __init__(self, db: "PostgresDatabase", name: str) -> None:
        self.db = db
        self.name = name
        self.last_pk: Any = None

    def _write(self, records: Iterable[dict[str, Any]], update: bool, pk: Sequence[str] | str | None) -> "Table":
        keys = tuple([pk] if isinstance(pk, str) else pk or PRIMARY_KEYS[self.name])
        rows = list(records)
        if not rows:
            return self
        columns = list(rows[0])
        sql = f"insert into {self.name} ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})"
        if update:
            updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in keys)
            sql += f" on conflict ({', '.join(keys)}) do " + (f"update set {updates}" if updates else "nothing")
        values = [[row.get(name) for name in columns] for row in rows]
        if self.name in SERIAL_TABLES and len(rows) == 1:
            with self.db.conn.cursor() as cursor:
                cursor.execute(sql + " returning id", values[0])
                found = cursor.fetchone()
                self.last_pk = found[0] if found else None
            return self
        with self.db.atomic(), self.db.conn.cursor() as cursor:
            cursor.executemany(sql, values)
        return self

    def insert(self, record: dict[str, Any], pk: Sequence[str] | str | None = None, replace: bool = False) -> "Table":
        return self._write([record], replace, pk)

    def insert_all(
        self,
        records: Iterable[dict[str, Any]],
        pk: Sequence[str] | str | None = None,
        replace: bool = False,
        batch_size: int = 100,
    ) -> "Table":
        return self._write(records, replace, pk)

    def upsert(self, record: dict[str, Any], pk: Sequence[str] | str | None = None) -> "Table":
        return self._write([record], True, pk)

    def upsert_all(
        self, records: Iterable[dict[str, Any]], pk: Sequence[str] | str | None = None, batch_size: int = 100
    ) -> "Table":
        return self._write(records, True, pk)

    def rows_where(self, where: str, params: Sequence[Any] = (), order_by: str = "") -> Iterator[dict[str, Any]]:
        sql = f"select * from {self.name} where {where}" + (f" order by {order_by}" if order_by else "")
        cursor = self.db.execute(sql, params)
        columns = [column[0] for column in cursor.description or ()]
        return (dict(zip(columns, row)) for row in cursor.fetchall())


class PostgresDatabase:
    """One PostgreSQL connection (autocommit) with sqlite-utils' `execute`, `table`, `atomic` and `close`."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        statement = translate(sql)
        cursor = self.conn.cursor()
        cursor.execute(statement, list(params or ()))
        return Cursor(cursor, statement.endswith(" returning id"))

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        """One statement of the store's SQLite SQL for each row of `params` (the store's batch writes)."""
        with self.conn.cursor() as cursor:
            cursor.executemany(translate(sql), [list(row) for row in params])

    def table(self, name: str) -> Table:
        return Table(self, name)

    @contextmanager
    def atomic(self) -> Iterator["PostgresDatabase"]:
        with self.conn.transaction():
            yield self

    def close(self) -> None:
        self.conn.close()
