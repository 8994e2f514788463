"""`migrate --from-sqlite PATH`, many workspaces: Slack's installations, bots and OAuth states, kept in the
SQLite file by slack_sdk's SQLite3 stores, copied into the tables of its SQLAlchemy stores on PostgreSQL
(the ones `serve` reads with DATABASE_URL), so a many-workspace deployment moves without reinstalling.

The tables are slack_sdk's own (`SQLAlchemyInstallationStore.build_*_table`, `SQLAlchemyOAuthStateStore.
build_oauth_states_table`), created here if missing, in the copy's transaction. Each row goes through
slack_sdk's entities (`Installation`, `Bot`), so its values are written as the SQLAlchemy store writes them:
no enterprise or team is NULL there where SQLite's store wrote '', times are naive UTC `timestamp`s where
SQLite held epoch seconds or `current_timestamp` text.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import Any, Callable

import psycopg
from psycopg import sql
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from storage.sqlite.db import StorageError

_TIMES = ("installed_at", "bot_token_expires_at", "user_token_expires_at")


def _tables() -> dict[str, tuple[Table, Callable[[dict[str, Any]], dict[str, Any]]]]:
    """SQLite table name -> (slack_sdk's SQLAlchemy table on PostgreSQL, how a SQLite row becomes its row)."""
    metadata = MetaData()
    return {
        "slack_installations": (
            SQLAlchemyInstallationStore.build_installations_table(
                metadata, SQLAlchemyInstallationStore.default_installations_table_name
            ),
            lambda row: _entity_row(Installation, row),
        ),
        "slack_bots": (
            SQLAlchemyInstallationStore.build_bots_table(metadata, SQLAlchemyInstallationStore.default_bots_table_name),
            lambda row: _entity_row(Bot, row),
        ),
        "oauth_states": (
            SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, SQLAlchemyOAuthStateStore.default_table_name),
            lambda row: {"state": row["state"], "expire_at": _naive_utc(float(row["expire_at"]))},
        ),
    }


def _naive_utc(epoch_seconds: float) -> datetime | None:
    return normalize_datetime_for_db(datetime.fromtimestamp(epoch_seconds, tz=timezone.utc))


def _entity_row(entity: type[Installation] | type[Bot], row: dict[str, Any]) -> dict[str, Any]:
    """A SQLite store row as the SQLAlchemy store writes it: through slack_sdk's entity and its to_dict()."""
    fields = {name: value for name, value in row.items() if name not in ("id", "client_id")}
    for name in ("enterprise_id", "team_id"):
        fields[name] = fields.get(name) or None  # SQLite's store writes '' for none
    fields["is_enterprise_install"] = bool(fields.get("is_enterprise_install"))
    values = entity(**fields).to_dict()
    for name in _TIMES:
        if name in values:
            values[name] = normalize_datetime_for_db(values[name])
    return {"client_id": row["client_id"], **values}


def _create(conn: psycopg.Connection[Any], table: Table) -> None:
    dialect = postgresql.dialect()
    conn.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)).encode())
    for index in table.indexes:
        conn.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)).encode())


def copy_slack_stores(source: sqlite3.Connection, conn: psycopg.Connection[Any]) -> list[tuple[str, int, int]]:
    """Inside the caller's transaction on `conn`: each of slack_sdk's tables the SQLite file has, copied
    into its SQLAlchemy table on PostgreSQL. Returns (PostgreSQL table, SQLite rows, PostgreSQL rows) per
    table copied; none for a single-workspace file (it has no such table).
    Raises StorageError when a PostgreSQL table already holds rows (a second copy would duplicate installs)."""
    copied: list[tuple[str, int, int]] = []
    for name, (table, to_row) in _tables().items():
        if not source.execute("select 1 from sqlite_master where type = 'table' and name = ?", [name]).fetchone():
            continue
        _create(conn, table)
        target = sql.Identifier(table.name)
        if conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(target)).fetchone():
            raise StorageError(f"this PostgreSQL database is not empty (table {table.name} holds rows): copy into an empty one")
        cursor = source.execute(f"select * from [{name}] order by id")
        columns = [column[0] for column in cursor.description]
        rows = 0
        for values in cursor:
            row = to_row(dict(zip(columns, values)))
            row = {key: value for key, value in row.items() if key in table.c}
            conn.execute(
                sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    target, sql.SQL(", ").join(map(sql.Identifier, row)), sql.SQL(", ").join(sql.Placeholder() * len(row))
                ),
                list(row.values()),
            )
            rows += 1
        counted = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()
        copied.append((table.name, rows, int(counted[0]) if counted else 0))
    return copied
