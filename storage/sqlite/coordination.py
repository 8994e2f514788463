"""Work shared between processes: renewing leases, periodic jobs run by one process at a time, and news of
a workspace changed by another process. One process on SQLite: every claim succeeds, nothing is renewed,
no other process changes anything. PostgreSQL does them for real (storage/postgres/coordination.py)."""

from __future__ import annotations

from storage.records import WorkspaceEvent


class CoordinationStore:
    """The single-process forms (SQLite). Lease lengths are attributes, so a test may shorten them."""

    # True where several processes share the database (PostgreSQL): workspace events are worth following.
    shared = False
    # An outbox row's claim lasts this long unless renewed (SPEC.md: a dead process's alerts "within a minute").
    outbox_lease_seconds = 60.0

    def renew_outbox_claim(self, item_id: int) -> bool:
        """Extend this process's claim on outbox row `item_id` by `outbox_lease_seconds`; False when it no
        longer holds it (another process took it over). Always True on SQLite."""
        return True

    def renew_poll(self, lease_seconds: float) -> bool:
        """Extend this process's poll lease of the workspace by `lease_seconds`; False when it no longer holds
        it. Always True on SQLite."""
        return True

    def claim_job(self, job: str, lease_seconds: float, every_seconds: float) -> bool:
        """Take periodic `job` of this workspace (e.g. "digests") for `lease_seconds`, when no process ran it in
        the last `every_seconds` and no live process holds it: True when this process is to run it now.
        Always True on SQLite."""
        return True

    def renew_job(self, job: str, lease_seconds: float) -> bool:
        """Extend this process's lease of `job` by `lease_seconds`; False when it no longer holds it."""
        return True

    def finish_job(self, job: str) -> None:
        """End this process's lease of `job` (its next run is due as `claim_job` set). No-op on SQLite."""

    def note_workspace_changed(self, workspace: str) -> None:
        """Tell the other processes that `workspace`'s install or connection changed. No-op on SQLite."""

    def workspace_events(self, after: int) -> list[WorkspaceEvent]:
        """Events after id `after`, and those of the last few seconds (a transaction may commit a lower id
        late: the caller skips ids it has seen), oldest first. Always empty on SQLite."""
        return []

    def last_workspace_event(self) -> int:
        """The id of the newest event so far (0 when none): where a starting process begins to follow."""
        return 0
