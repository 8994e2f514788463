"""What is to be sent: the outbox of Slack posts and updates, and channels the bot cannot post in."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.alerting.outbox import Entry
from storage.records import OutboxState
from storage.sqlite.alert_records import OutboxItem
from storage.timefmt import from_iso, iso


class OutboxStore:
    """The `Store` mixin for the outbox and broken channels (storage/sqlite/db.py composes it)."""

    db: Database
    ws: str  # the workspace every read and write is scoped to
    queued_rows: int  # outbox rows this handle has queued (set by Store): what is queued is delivered soon

    # --- the outbox --------------------------------------------------------------------

    def enqueue(self, entry: Entry, now: datetime) -> bool:
        """Queue a Slack call; False when the same dedup key is already queued (a replay queues nothing twice)."""
        cursor = self.db.execute(
            "insert or ignore into outbox"
            " (workspace, key, channel, kind, incident_id, group_id, body, created_at, due_at, attempts, state)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'pending')",
            [
                self.ws,
                entry.key,
                entry.channel,
                entry.kind.value,
                entry.incident_id,
                entry.group_id,
                json.dumps(entry.body or {}),
                iso(now),
                iso(now),
            ],
        )
        if cursor.rowcount > 0:
            self.queued_rows += 1
            return True
        return False

    def claim_outbox_row(self, item: OutboxItem) -> OutboxItem | None:
        """Take `item`, the head of its channel's queue, for this process to send: the row as it is now, or
        None when another process holds it (or it is no longer pending and first). One process on SQLite:
        the row itself. PostgreSQL claims it under a lease (storage/postgres/store.py)."""
        return item

    def pending_outbox(self, limit: int = 5000) -> list[tuple[OutboxItem, datetime]]:
        """Pending rows in queue order, each with when it is due (for inspection; delivery reads per channel)."""
        return self._outbox_rows("state = 'pending'", [], limit)

    def channel_queue(self, channel: str, limit: int = 50) -> list[tuple[OutboxItem, datetime]]:
        """One channel's pending rows in queue order (FIFO: a reply never overtakes its parent)."""
        return self._outbox_rows("state = 'pending' and channel = ?", [channel], limit)

    def workspaces_with_due_outbox(self, now: datetime) -> list[str]:
        """Every workspace (of the whole database, not only this handle's) with a pending row due by `now`: one
        query a second wakes the delivery of those alone (many workspaces, docs/scaling-out.md)."""
        return [
            row[0]
            for row in self.db.execute(
                "select distinct workspace from outbox where state = 'pending' and due_at <= ?", [iso(now)]
            )
        ]

    def due_channels(self, now: datetime) -> list[str]:
        """Channels whose next row is due now, the longest-waiting first; a broken channel only when its
        retry time has come. Each channel is one row here however long its backlog: none starves."""
        return [
            row[0]
            for row in self.db.execute(
                "select o.channel from outbox o"
                " join (select channel, min(id) as id from outbox where workspace = ? and state = 'pending' group by channel)"
                " head on o.id = head.id"
                " left join broken_channels b on b.workspace = o.workspace and b.channel = o.channel"
                " where o.due_at <= ? and (b.channel is null or b.retry_at <= ?)"
                " order by o.due_at, o.id",
                [self.ws, iso(now), iso(now)],
            )
        ]

    def _outbox_rows(self, where: str, params: list[Any], limit: int) -> list[tuple[OutboxItem, datetime]]:
        return [
            (
                OutboxItem(
                    id=row[0],
                    key=row[1],
                    channel=row[2],
                    kind=row[3],
                    incident_id=row[4],
                    group_id=row[5],
                    body=json.loads(row[6] or "{}"),
                    created_at=from_iso(row[7]),
                    attempts=row[8],
                    in_flight_at=from_iso(row[9]),
                ),
                from_iso(row[10]),
            )
            for row in self.db.execute(
                "select id, key, channel, kind, incident_id, group_id, body, created_at, attempts, in_flight_at, due_at"
                f" from outbox where workspace = ? and {where} order by id limit ?",
                [self.ws, *params, limit],
            )
        ]

    def next_due_at(self) -> datetime | None:
        """When the next row of a channel that is not broken falls due."""
        row = self.db.execute(
            "select min(due_at) from outbox where workspace = ? and state = 'pending'"
            " and channel not in (select channel from broken_channels where workspace = ?)",
            [self.ws, self.ws],
        ).fetchone()
        return from_iso(row[0]) if row and row[0] else None

    def pending_outbox_count(self) -> int:
        return self.db.execute("select count(*) from outbox where workspace = ? and state = 'pending'", [self.ws]).fetchone()[0]

    def deliverable_count(self) -> int:
        """Pending rows outside broken channels: what a drain can hope to send now."""
        return self.db.execute(
            "select count(*) from outbox where workspace = ? and state = 'pending'"
            " and channel not in (select channel from broken_channels where workspace = ?)",
            [self.ws, self.ws],
        ).fetchone()[0]

    def prune_outbox(self, before: datetime) -> int:
        """Delete finished rows (sent or failed) older than `before` that nothing needs any more.

        Kept: pending rows; rows of an incident still open, and of a storm group with a member still open
        (their keys stop a replayed poll from queueing them twice). Threads and edits need only the message
        ts, which alert_messages and alert_groups hold; the after-a-crash history check reads pending rows.
        Returns how many rows went.
        """
        cursor = self.db.execute(
            "delete from outbox where workspace = ? and state in ('sent', 'failed') and coalesce(sent_at, created_at) < ?"
            " and (incident_id is null or incident_id not in"
            "   (select id from incidents where workspace = ? and resolved_at is null))"
            " and (group_id is null or group_id not in ("
            "   select m.group_id from alert_messages m join incidents i on i.id = m.incident_id"
            "   where m.workspace = ? and m.group_id is not null and i.resolved_at is null))",
            [self.ws, iso(before), self.ws, self.ws],
        )
        return cursor.rowcount

    # --- channels the bot cannot post in -----------------------------------------------

    def mark_channel_broken(self, channel: str, error: str, now: datetime, retry_at: datetime) -> bool:
        """Record that posting in `channel` fails for good; True when it was working until now."""
        known = self.db.execute(
            "select 1 from broken_channels where workspace = ? and channel = ?", [self.ws, channel]
        ).fetchone()
        self.db.execute(
            "insert or replace into broken_channels (workspace, channel, error, since, retry_at) values (?, ?, ?,"
            " coalesce((select since from broken_channels where workspace = ? and channel = ?), ?), ?)",
            [self.ws, channel, error, self.ws, channel, iso(now), iso(retry_at)],
        )
        return known is None

    def mark_channel_working(self, channel: str) -> bool:
        """The bot can post in `channel` again (it was invited); True when it had been broken."""
        return self.db.execute("delete from broken_channels where workspace = ? and channel = ?", [self.ws, channel]).rowcount > 0

    def broken_channels(self) -> dict[str, str]:
        """Channel id -> the Slack error that broke it."""
        return {
            channel: error
            for channel, error in self.db.execute("select channel, error from broken_channels where workspace = ?", [self.ws])
        }

    def outbox_summary(self) -> tuple[dict[str, int], datetime | None]:
        """(rows by state: pending, sent, failed; created_at of the oldest pending row) for health and metrics."""
        counts = {"pending": 0, "sent": 0, "failed": 0}
        for state, count in self.db.execute("select state, count(*) from outbox where workspace = ? group by state", [self.ws]):
            counts[state] = count
        # A channel the bot cannot post in is told to its subscribers and shown as degraded; its waiting rows
        # are not "alerts not reaching Slack" for the whole bot (docs/operations.md).
        row = self.db.execute(
            "select min(created_at) from outbox where workspace = ? and state = 'pending'"
            " and channel not in (select channel from broken_channels where workspace = ?)",
            [self.ws, self.ws],
        ).fetchone()
        return counts, (from_iso(row[0]) if row and row[0] else None)

    def pending_by_workspace(self) -> dict[str, tuple[int, datetime | None]]:
        """Every workspace's waiting alert messages, in one query (the deployment's /healthz and /metrics, not
        one workspace's view): workspace -> (pending rows, created_at of the oldest outside the channels the
        bot cannot post in, as outbox_summary's)."""
        return {
            row[0]: (row[1], from_iso(row[2]))
            for row in self.db.execute(
                "select o.workspace, count(*), min(case when b.channel is null then o.created_at end) from outbox o"
                " left join broken_channels b on b.workspace = o.workspace and b.channel = o.channel"
                " where o.state = 'pending' group by o.workspace"
            )
        }

    def mark_in_flight(self, item_id: int, now: datetime) -> None:
        self.db.execute(
            "update outbox set in_flight_at = ?, attempts = attempts + 1 where id = ? and workspace = ?",
            [iso(now), item_id, self.ws],
        )

    def mark_sent(self, item_id: int, ts: str | None, now: datetime) -> None:
        self.db.execute(
            "update outbox set state = 'sent', sent_at = ?, ts = ? where id = ? and workspace = ?",
            [iso(now), ts, item_id, self.ws],
        )

    def reschedule(self, item_id: int, due_at: datetime, error: str, *, keep_in_flight: bool = False) -> None:
        """Try again at due_at. keep_in_flight: the last try may have reached Slack; look before sending."""
        self.db.execute(
            "update outbox set due_at = ?, last_error = ?, in_flight_at = case when ? then in_flight_at end"
            " where id = ? and workspace = ?",
            [iso(due_at), error, int(keep_in_flight), item_id, self.ws],
        )

    def parent_post_pending(self, channel: str, incident_id: int | None, group_id: int | None) -> bool:
        """Is the message a reply or an update belongs to still waiting in the outbox?"""
        params: list[object]
        if group_id is not None:
            sql, params = "kind = 'group_post' and group_id = ?", [group_id]
        else:
            sql, params = "kind in ('post', 'update') and incident_id = ? and channel = ?", [incident_id, channel]
        row = self.db.execute(
            f"select 1 from outbox where workspace = ? and state = 'pending' and {sql} limit 1", [self.ws, *params]
        ).fetchone()
        return row is not None

    def mark_failed(self, item_id: int, error: str, now: datetime) -> None:
        self.db.execute(
            "update outbox set state = 'failed', last_error = ?, sent_at = ? where id = ? and workspace = ?",
            [error, iso(now), item_id, self.ws],
        )

    def outbox_row(self, key: str) -> OutboxState | None:
        """Where the outbox row with this dedup key stands, or None when there is none."""
        row = self.db.execute("select state, ts from outbox where workspace = ? and key = ?", [self.ws, key]).fetchone()
        return OutboxState(row[0], row[1]) if row else None
