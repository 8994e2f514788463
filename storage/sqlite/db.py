"""The one place the bot's state lives: SQLite through sqlite-utils, WAL, short transactions."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from sqlite_utils import Database

from bot.practice.models import Account, StoredCompany
from storage.records import PollRun, StorageError
from storage.sqlite.alerts import AlertStore
from storage.sqlite.companies import CompanyStore, company_to_row
from storage.sqlite.coordination import CoordinationStore
from storage.sqlite.home import HomeStore
from storage.sqlite.migrations import SINGLE_WORKSPACE, migrations
from storage.sqlite.polls import PollStore
from storage.sqlite.presses import PressStore
from storage.sqlite.reminders import ReminderStore
from storage.sqlite.workspaces import WorkspaceStore

# Named here as before the split: the tests and benchmarks build rows and poll runs with them.
__all__ = ["PollRun", "StorageError", "Store", "company_to_row"]


class Store(CompanyStore, PollStore, AlertStore, HomeStore, ReminderStore, PressStore, WorkspaceStore, CoordinationStore):
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
        conn = self.db.conn
        try:
            # Nested on SQLite (a poll in a group's transaction, bot/practice/commit_group.py): a savepoint of one
            # name, so its statements are prepared once (sqlite-utils names each one anew).
            with _savepoint(conn) if isinstance(conn, sqlite3.Connection) and conn.in_transaction else self.db.atomic():
                yield
        except BaseException:
            self.forget_uncommitted()
            raise

    def forget_uncommitted(self) -> None:
        """What the caches read inside a transaction that was rolled back after all is dropped with it."""
        self.companies_version += 1
        self._account = None


@contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    """A savepoint inside the transaction under way: its writes are rolled back alone when the body raises."""
    conn.execute("SAVEPOINT store")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # an error that ended the whole transaction (some I/O errors) left none to undo
            conn.execute("ROLLBACK TO SAVEPOINT store")
            conn.execute("RELEASE SAVEPOINT store")
        raise
    conn.execute("RELEASE SAVEPOINT store")
