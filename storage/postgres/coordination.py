"""Work shared between processes on PostgreSQL (docs/scaling-out.md): leases renewed while their work runs,
periodic jobs run by one process at a time per workspace (`job_leases`), and a log of workspace changes
(`workspace_events`) each process follows to drop a cached token or stop a workspace another has uninstalled.

Every lease time is the server's `now()`, never a process's clock; every renewal and release says
`lease_owner = <me>` (or `claimed_by`), so a process that lost its lease changes nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator

import psycopg

from storage.records import WorkspaceEvent

if TYPE_CHECKING:
    # For the type checker only: the overrides below call the SQLite workspace store's methods through super()
    # (PostgresStore's next base in its MRO). At run time the mixin has no base of its own.
    from storage.sqlite.workspaces import WorkspaceStore as _Overridden
else:
    _Overridden = object

# A periodic job is due again this fraction of its period after a run was claimed, so that one process
# ticking every period never finds its own last run too recent (60 s -> 54 s).
JOB_DUE_FRACTION = 0.9
# Events are read again for this long after they are written: a transaction that took its id earlier may
# commit after a later one (ids are taken at insert, seen at commit).
EVENT_REREAD_SECONDS = 30
# Events are kept this long, then deleted (by the next process that writes one).
EVENT_RETENTION = "1 day"

_CLAIM_JOB = """
UPDATE job_leases SET lease_owner = %(me)s, lease_until = now() + make_interval(secs => %(lease)s),
                      next_run_at = now() + make_interval(secs => %(due)s)
WHERE workspace = %(ws)s AND job = %(job)s AND next_run_at <= now() AND (lease_until IS NULL OR lease_until < now())
RETURNING 1
"""


class PostgresCoordination(_Overridden):
    """The mixin of PostgresStore that overrides storage/sqlite/coordination.py's single-process forms."""

    shared = True
    ws: str
    owner: str
    outbox_lease_seconds: float

    if TYPE_CHECKING:

        @contextmanager
        def atomic(self) -> Iterator[None]: ...  # Store's

        @property
        def _conn(self) -> psycopg.Connection[Any]: ...  # PostgresStore's

    def renew_outbox_claim(self, item_id: int) -> bool:
        row = self._conn.execute(
            "UPDATE outbox SET claimed_until = now() + make_interval(secs => %s)"
            " WHERE id = %s AND workspace = %s AND claimed_by = %s RETURNING id",
            [self.outbox_lease_seconds, item_id, self.ws, self.owner],
        ).fetchone()
        return row is not None

    def renew_poll(self, lease_seconds: float) -> bool:
        row = self._conn.execute(
            "UPDATE workspace_polls SET lease_until = now() + make_interval(secs => %s)"
            " WHERE workspace = %s AND lease_owner = %s RETURNING 1",
            [lease_seconds, self.ws, self.owner],
        ).fetchone()
        return row is not None

    def claim_job(self, job: str, lease_seconds: float, every_seconds: float) -> bool:
        conn = self._conn
        conn.execute(
            "INSERT INTO job_leases (workspace, job, next_run_at) VALUES (%s, %s, now()) ON CONFLICT DO NOTHING", [self.ws, job]
        )
        claimed = conn.execute(
            _CLAIM_JOB,
            {"me": self.owner, "lease": lease_seconds, "due": every_seconds * JOB_DUE_FRACTION, "ws": self.ws, "job": job},
        ).fetchone()
        return claimed is not None

    def renew_job(self, job: str, lease_seconds: float) -> bool:
        row = self._conn.execute(
            "UPDATE job_leases SET lease_until = now() + make_interval(secs => %s)"
            " WHERE workspace = %s AND job = %s AND lease_owner = %s RETURNING 1",
            [lease_seconds, self.ws, job, self.owner],
        ).fetchone()
        return row is not None

    def finish_job(self, job: str) -> None:
        self._conn.execute(
            "UPDATE job_leases SET lease_owner = NULL, lease_until = NULL WHERE workspace = %s AND job = %s AND lease_owner = %s",
            [self.ws, job, self.owner],
        )

    def end_job_leases(self) -> None:
        """Stopping: this process's job leases end, so another process may run them at once when due."""
        self._conn.execute("UPDATE job_leases SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = %s", [self.owner])

    # --- news of workspaces changed by another process -------------------------------------------------

    def note_workspace_changed(self, workspace: str) -> None:
        conn = self._conn
        conn.execute("INSERT INTO workspace_events (workspace, origin) VALUES (%s, %s)", [workspace, self.owner])
        conn.execute(f"DELETE FROM workspace_events WHERE at < now() - interval '{EVENT_RETENTION}'")

    def workspace_events(self, after: int) -> list[WorkspaceEvent]:
        rows = self._conn.execute(
            "SELECT id, workspace, origin FROM workspace_events"
            " WHERE id > %s OR at > now() - make_interval(secs => %s) ORDER BY id",
            [after, EVENT_REREAD_SECONDS],
        ).fetchall()
        return [WorkspaceEvent(int(row[0]), str(row[1]), str(row[2])) for row in rows]

    def last_workspace_event(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(id), 0) FROM workspace_events").fetchone()
        return int(row[0]) if row else 0

    # --- the workspace changes the other processes must hear of (each in the change's transaction) -----

    def record_install(
        self,
        workspace: str,
        *,
        team_id: str | None,
        enterprise_id: str | None,
        is_enterprise_install: bool,
        installer_user_id: str | None,
        now: datetime,
    ) -> None:
        with self.atomic():
            super().record_install(
                workspace,
                team_id=team_id,
                enterprise_id=enterprise_id,
                is_enterprise_install=is_enterprise_install,
                installer_user_id=installer_user_id,
                now=now,
            )
            self.note_workspace_changed(workspace)

    def connect_workspace(self, workspace: str, status_source: str, feed_token: str | None, user_id: str, now: datetime) -> None:
        with self.atomic():
            super().connect_workspace(workspace, status_source, feed_token, user_id, now)
            self.note_workspace_changed(workspace)

    def disconnect_workspace(self, workspace: str) -> bool:
        with self.atomic():
            changed = bool(super().disconnect_workspace(workspace))
            self.note_workspace_changed(workspace)
        return changed

    def workspace_uninstalled(self, workspace: str, now: datetime) -> None:
        with self.atomic():
            super().workspace_uninstalled(workspace, now)
            self.note_workspace_changed(workspace)
