"""Poll runs and leases (table `poll_runs`; leases for several processes in storage/postgres/store.py), and
the users.info answers kept in front of Slack (table `slack_users`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.records import PollRun
from storage.sqlite.query import select
from storage.timefmt import from_iso, iso

# Old poll runs are trimmed at the first poll recorded by a process and every this many after it.
TRIM_POLL_RUNS_EVERY = 100


class PollStore:
    """A mixin for Store (storage/sqlite/db.py), which sets `polls_version` and `_slack_users` in its __init__."""

    db: Database
    ws: str  # the workspace every read and write is scoped to
    polls_version: int
    _slack_users: dict[str, tuple[str | None, datetime | None]]
    _polls_recorded: int

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
