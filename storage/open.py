"""Which database the bot keeps its state in: SQLite by default, PostgreSQL when DATABASE_URL is set."""

from __future__ import annotations

from storage.ports import PracticeStore
from storage.sqlite.db import Store


def open_store(db_path: str, database_url: str | None = None, *, cache_kib: int | None = None) -> PracticeStore:
    """The single workspace's handle on PostgreSQL at `database_url` when given (storage/postgres/), else on
    the SQLite file `db_path`: the same `Store` class either way, checked against every feature's protocol
    (storage/ports.py) by this return type. Raises StorageError with one line when the database cannot be used."""
    if database_url:
        from storage.postgres.store import open_store as open_postgres  # psycopg only where it is used

        return open_postgres(database_url)
    return Store.open(db_path) if cache_kib is None else Store.open(db_path, cache_kib=cache_kib)
