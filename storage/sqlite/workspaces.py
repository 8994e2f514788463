"""The installed workspaces and their AutoEntry connections (the `workspaces` table, migration 0012)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlite_utils import Database

from storage.records import WorkspaceRecord
from storage.sqlite.migrations import WORKSPACE_KEYS
from storage.sqlite.query import select
from storage.timefmt import from_iso, iso


def _record(row: dict[str, Any]) -> WorkspaceRecord:
    return WorkspaceRecord(
        workspace=row["workspace"],
        team_id=row["team_id"],
        enterprise_id=row["enterprise_id"],
        is_enterprise_install=bool(row["is_enterprise_install"]),
        installer_user_id=row["installer_user_id"],
        installed_at=from_iso(row["installed_at"]),
        status_source=row["status_source"],
        feed_token=row["feed_token"],
        connected_by=row["connected_by"],
        connected_at=from_iso(row["connected_at"]),
        uninstalled_at=from_iso(row["uninstalled_at"]),
    )


class WorkspaceStore:
    """A mixin for Store: the workspaces of the whole database (not scoped to one, unlike the rest)."""

    db: Database

    def workspace_record(self, workspace: str) -> WorkspaceRecord | None:
        rows = select(self.db, "workspaces", "workspace = ?", [workspace])
        return _record(rows[0]) if rows else None

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
        """An install (or a new one after an uninstall, which keeps the data): the installer may connect."""
        self.db.execute(
            "insert into workspaces (workspace, team_id, enterprise_id, is_enterprise_install, installer_user_id, installed_at)"
            " values (?, ?, ?, ?, ?, ?) on conflict (workspace) do update set team_id = excluded.team_id,"
            " enterprise_id = excluded.enterprise_id, is_enterprise_install = excluded.is_enterprise_install,"
            " installer_user_id = excluded.installer_user_id, installed_at = excluded.installed_at, uninstalled_at = null",
            [workspace, team_id, enterprise_id, int(is_enterprise_install), installer_user_id, iso(now)],
        )

    def connect_workspace(self, workspace: str, status_source: str, feed_token: str | None, user_id: str, now: datetime) -> None:
        """Saves the AutoEntry connection (`feed_token` already encrypted)."""
        self.db.execute(
            "update workspaces set status_source = ?, feed_token = ?, connected_by = ?, connected_at = ? where workspace = ?",
            [status_source, feed_token, user_id, iso(now), workspace],
        )

    def disconnect_workspace(self, workspace: str) -> bool:
        """Forgets the AutoEntry connection and its token; True when there was one."""
        cursor = self.db.execute(
            "update workspaces set status_source = null, feed_token = null where workspace = ? and status_source is not null",
            [workspace],
        )
        return cursor.rowcount > 0

    def connected_workspaces(self) -> list[WorkspaceRecord]:
        rows = select(self.db, "workspaces", "status_source is not null and uninstalled_at is null", order_by="workspace")
        return [_record(row) for row in rows]

    def workspace_uninstalled(self, workspace: str, now: datetime) -> None:
        """The app was removed (or its tokens revoked): the feed token goes now, the rest after 30 days."""
        self.db.execute(
            "update workspaces set status_source = null, feed_token = null, uninstalled_at = coalesce(uninstalled_at, ?)"
            " where workspace = ?",
            [iso(now), workspace],
        )

    def workspaces_uninstalled_before(self, before: datetime) -> list[str]:
        return [
            row[0]
            for row in self.db.execute(
                "select workspace from workspaces where uninstalled_at is not null and uninstalled_at < ?", [iso(before)]
            )
        ]

    def purge_workspace(self, workspace: str) -> None:
        """Deletes every row of the workspace, in every practice table, and its record."""
        with self.db.atomic():
            for table in WORKSPACE_KEYS:
                self.db.execute(f"delete from [{table}] where workspace = ?", [workspace])
            self.db.execute("delete from workspaces where workspace = ?", [workspace])

    def reencrypt_feed_tokens(self, rotate: Callable[[str], str | None]) -> tuple[int, int]:
        """Encrypts every stored feed token again with `rotate` (TokenCipher.rotate: under the newest key).
        Returns (re-encrypted, unreadable: left as they were)."""
        rows = self.db.execute("select workspace, feed_token from workspaces where feed_token is not null").fetchall()
        done = 0
        with self.db.atomic():
            for workspace, token in rows:
                fresh = rotate(token)
                if fresh is not None:
                    self.db.execute("update workspaces set feed_token = ? where workspace = ?", [fresh, workspace])
                    done += 1
        return done, len(rows) - done
