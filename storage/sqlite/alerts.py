"""Alert state: subscriptions, conditions, incidents, the messages that tell them, snoozes and the outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Iterable

from sqlite_utils import Database

from bot.alerting.digest import DigestSchedule
from bot.alerting.outbox import Entry
from bot.alerting.transitions import Condition, ConditionState, Phase
from bot.practice.devices import location_key
from storage.sqlite.query import select
from storage.timefmt import from_iso, iso

EVERY_COMPANY = "*"


@dataclass(frozen=True, slots=True)
class Subscription:
    channel: str
    company_id: str | None  # None: every company
    created_by: str
    created_at: datetime
    lapsed_at: datetime | None = None  # the subscriber lost the Company settings permission: no alerts until renewed
    lapse_told_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Snooze:
    channel: str
    company_id: str
    until: datetime
    by_user: str


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    company_id: str
    condition: Condition
    detail: str
    error_kind: str | None
    since: datetime
    opened_at: datetime
    changed_at: datetime | None
    resolved_at: datetime | None
    version: int
    reopens: int = 0  # times it came back within the flap window, ever
    flaps: tuple[datetime, ...] = ()  # the recent ones (bot.alerting.flapping)
    flapping: bool = False


@dataclass(frozen=True, slots=True)
class AlertMessage:
    channel: str
    incident_id: int
    group_id: int | None
    ts: str | None
    acked_by: str | None
    acked_at: datetime | None
    checked_at: datetime | None


@dataclass(frozen=True, slots=True)
class AlertGroup:
    id: int
    channel: str
    created_at: datetime
    ts: str | None
    acked_by: str | None
    acked_at: datetime | None
    location: str | None = None  # a device alert: the computer its Sync Apps are on


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    key: str
    channel: str
    kind: str
    incident_id: int | None
    group_id: int | None
    body: dict[str, Any]
    created_at: datetime
    attempts: int
    in_flight_at: datetime | None


def _incident(row: dict[str, Any]) -> Incident:
    return Incident(
        id=row["id"],
        company_id=row["company_id"],
        condition=Condition(row["condition"]),
        detail=row["detail"] or "",
        error_kind=row["error_kind"],
        since=from_iso(row["since"]),
        opened_at=from_iso(row["opened_at"]),
        changed_at=from_iso(row["changed_at"]),
        resolved_at=from_iso(row["resolved_at"]),
        version=row["version"] or 0,
        reopens=row.get("reopens") or 0,
        flaps=tuple(from_iso(t) for t in json.loads(row.get("flaps") or "[]")),
        flapping=bool(row.get("flapping")),
    )


def _message(row: dict[str, Any]) -> AlertMessage:
    return AlertMessage(
        channel=row["channel"],
        incident_id=row["incident_id"],
        group_id=row["group_id"],
        ts=row["ts"],
        acked_by=row["acked_by"],
        acked_at=from_iso(row["acked_at"]),
        checked_at=from_iso(row["checked_at"]),
    )


def _group(row: dict[str, Any]) -> AlertGroup:
    return AlertGroup(
        id=row["id"],
        channel=row["channel"],
        created_at=from_iso(row["created_at"]),
        ts=row["ts"],
        acked_by=row["acked_by"],
        acked_at=from_iso(row["acked_at"]),
        location=row.get("location"),
    )


class AlertStore:
    db: Database
    ws: str  # the workspace every read and write is scoped to

    # --- subscriptions -----------------------------------------------------------------

    def subscribe(self, channel: str, company_id: str | None, user_id: str, now: datetime) -> bool:
        """True when this is a new subscription, or renews a lapsed one (now in `user_id`'s name)."""
        key = company_id or EVERY_COMPANY
        existing = list(
            select(self.db, "subscriptions", "workspace = ? and channel = ? and company_id = ?", [self.ws, channel, key])
        )
        if existing:
            if existing[0]["lapsed_at"] is None:
                return False
            self.db.execute(
                "update subscriptions set created_by = ?, created_at = ?, lapsed_at = null, lapse_told_at = null"
                " where workspace = ? and channel = ? and company_id = ?",
                [user_id, iso(now), self.ws, channel, key],
            )
            return True
        self.db.table("subscriptions").insert(
            {"workspace": self.ws, "channel": channel, "company_id": key, "created_by": user_id, "created_at": iso(now)}
        )
        return True

    def unsubscribe(self, channel: str, company_id: str | None) -> bool:
        key = company_id or EVERY_COMPANY
        cursor = self.db.execute(
            "delete from subscriptions where workspace = ? and channel = ? and company_id = ?", [self.ws, channel, key]
        )
        return cursor.rowcount > 0

    def _subscriptions(self, where: str, params: list[Any]) -> list[Subscription]:
        return [
            Subscription(
                row["channel"],
                None if row["company_id"] == EVERY_COMPANY else row["company_id"],
                row["created_by"],
                from_iso(row["created_at"]),
                from_iso(row["lapsed_at"]),
                from_iso(row["lapse_told_at"]),
            )
            for row in select(self.db, "subscriptions", f"workspace = ? and {where}", [self.ws, *params], order_by="created_at")
        ]

    def active_subscriptions(self) -> list[Subscription]:
        return self._subscriptions("lapsed_at is null", [])

    def lapsed_untold_subscriptions(self) -> list[Subscription]:
        return self._subscriptions("lapsed_at is not null and lapse_told_at is null", [])

    def lapse_subscription(self, channel: str, company_id: str | None, now: datetime) -> None:
        self.db.execute(
            "update subscriptions set lapsed_at = ? where workspace = ? and channel = ? and company_id = ? and lapsed_at is null",
            [iso(now), self.ws, channel, company_id or EVERY_COMPANY],
        )

    def subscription_lapse_told(self, channel: str, company_id: str | None, now: datetime) -> None:
        self.db.execute(
            "update subscriptions set lapse_told_at = ? where workspace = ? and channel = ? and company_id = ?",
            [iso(now), self.ws, channel, company_id or EVERY_COMPANY],
        )

    def channel_subscriptions(self, channel: str) -> list[Subscription]:
        return self._subscriptions("channel = ?", [channel])

    def subscriptions_created_by(self, user_id: str) -> list[Subscription]:
        return self._subscriptions("created_by = ?", [user_id])

    def subscription_map(self) -> tuple[set[str], dict[str, set[str]]]:
        """(channels that take every company, company id -> channels that take it); lapsed ones take nothing."""
        everything: set[str] = set()
        by_company: dict[str, set[str]] = {}
        for channel, company_id in self.db.execute(
            "select channel, company_id from subscriptions where workspace = ? and lapsed_at is null", [self.ws]
        ):
            if company_id == EVERY_COMPANY:
                everything.add(channel)
            else:
                by_company.setdefault(company_id, set()).add(channel)
        return everything, by_company

    # --- snoozes -----------------------------------------------------------------------

    def snooze(self, channel: str, company_id: str, until: datetime, user_id: str, now: datetime) -> None:
        self.db.table("snoozes").upsert(
            {
                "workspace": self.ws,
                "channel": channel,
                "company_id": company_id,
                "until": iso(until),
                "by_user": user_id,
                "created_at": iso(now),
            },
            pk=("workspace", "channel", "company_id"),
        )

    def active_snoozes(self, now: datetime) -> dict[tuple[str, str], datetime]:
        return {
            (channel, company_id): from_iso(until)
            for channel, company_id, until in self.db.execute(
                "select channel, company_id, until from snoozes where workspace = ? and until > ?", [self.ws, iso(now)]
            )
        }

    def forget_expired_snoozes(self, now: datetime) -> None:
        self.db.execute("delete from snoozes where workspace = ? and until <= ?", [self.ws, iso(now)])

    def defer_alert(self, channel: str, incident_id: int, until: datetime) -> None:
        self.db.execute(
            "insert or replace into deferred_alerts (workspace, channel, incident_id, until) values (?, ?, ?, ?)",
            [self.ws, channel, incident_id, iso(until)],
        )

    def take_due_deferred_alerts(self, now: datetime) -> list[tuple[str, int]]:
        """Alerts whose snooze has ended, removed from the waiting list as they are handed out."""
        due = [
            tuple(row)
            for row in self.db.execute(
                "select channel, incident_id from deferred_alerts where workspace = ? and until <= ?", [self.ws, iso(now)]
            )
        ]
        self.db.execute("delete from deferred_alerts where workspace = ? and until <= ?", [self.ws, iso(now)])
        return due

    def snoozes_created_by(self, user_id: str, now: datetime) -> list[Snooze]:
        return [
            Snooze(row["channel"], row["company_id"], from_iso(row["until"]), row["by_user"])
            for row in select(
                self.db, "snoozes", "workspace = ? and by_user = ? and until > ?", [self.ws, user_id, iso(now)], order_by="until"
            )
        ]

    # --- conditions --------------------------------------------------------------------

    def pending_condition_companies(self) -> set[str]:
        return {
            row[0]
            for row in self.db.execute(
                "select distinct company_id from conditions where workspace = ? and phase = 'pending'", [self.ws]
            )
        }

    def conditions_of(self, company_ids: Iterable[str]) -> dict[str, dict[Condition, ConditionState]]:
        ids = list(company_ids)
        known: dict[str, dict[Condition, ConditionState]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self._read_conditions(
                f"where workspace = ? and company_id in ({','.join('?' * len(chunk))})", [self.ws, *chunk], known
            )
        return known

    def _read_conditions(self, where: str, params: list[Any], known: dict[str, dict[Condition, ConditionState]]) -> None:
        for company_id, condition, phase, since, detail, incident_id in self.db.execute(
            f"select company_id, condition, phase, since, detail, incident_id from conditions {where}", params
        ):
            known.setdefault(company_id, {})[Condition(condition)] = ConditionState(
                Condition(condition),
                Phase(phase),
                from_iso(since),
                detail or "",
                incident_id,
            )

    # The writes below run once per company in a storm: plain SQL, without sqlite-utils' table introspection.

    def save_condition(self, company_id: str, state: ConditionState) -> None:
        self.db.execute(
            "insert or replace into conditions (workspace, company_id, condition, phase, since, detail, incident_id)"
            " values (?, ?, ?, ?, ?, ?, ?)",
            [self.ws, company_id, state.condition.value, state.phase.value, iso(state.since), state.detail, state.incident_id],
        )

    def drop_condition(self, company_id: str, condition: Condition) -> None:
        self.db.execute(
            "delete from conditions where workspace = ? and company_id = ? and condition = ?",
            [self.ws, company_id, condition.value],
        )

    # --- incidents ---------------------------------------------------------------------

    def open_incident(
        self, company_id: str, condition: Condition, detail: str, error_kind: str | None, since: datetime, now: datetime
    ) -> int:
        cursor = self.db.execute(
            "insert into incidents (workspace, company_id, condition, detail, error_kind, since, opened_at, version)"
            " values (?, ?, ?, ?, ?, ?, ?, 1)",
            [self.ws, company_id, condition.value, detail, error_kind, iso(since), iso(now)],
        )
        return int(cursor.lastrowid)  # type: ignore[arg-type]

    def change_incident(self, incident_id: int, detail: str, error_kind: str | None, now: datetime) -> None:
        self.db.execute(
            "update incidents set detail = ?, error_kind = ?, changed_at = ?, version = version + 1"
            " where id = ? and workspace = ?",
            [detail, error_kind, iso(now), incident_id, self.ws],
        )

    def resolve_incident(self, incident_id: int, now: datetime) -> None:
        self.db.execute(
            "update incidents set resolved_at = ?, version = version + 1 where id = ? and workspace = ?",
            [iso(now), incident_id, self.ws],
        )

    def reopen_removed_incident(self, incident_id: int, now: datetime) -> None:
        """A company closed as removed is back with the same problem: its incident is open again."""
        self.db.execute(
            "update incidents set resolved_at = null, changed_at = ?, version = version + 1 where id = ? and workspace = ?",
            [iso(now), incident_id, self.ws],
        )

    def incident_closed_at(self, company_id: str, condition: Condition, closed_at: str) -> Incident | None:
        """The company's incident of this condition that was resolved at exactly `closed_at` (an ISO time)."""
        rows = select(
            self.db,
            "incidents",
            "workspace = ? and company_id = ? and condition = ? and resolved_at = ?",
            [self.ws, company_id, condition.value, closed_at],
            order_by="id desc",
        )
        return _incident(rows[0]) if rows else None

    def latest_incident(self, company_id: str, condition: Condition) -> Incident | None:
        """The company's most recent incident of this condition, open or not."""
        rows = list(
            select(
                self.db,
                "incidents",
                "workspace = ? and company_id = ? and condition = ?",
                [self.ws, company_id, condition.value],
                order_by="id desc limit 1",
            )
        )
        return _incident(rows[0]) if rows else None

    def reopen_incident(
        self, incident_id: int, detail: str, error_kind: str | None, flaps: tuple[datetime, ...], flapping: bool, now: datetime
    ) -> None:
        """The problem came back within the flap window: the same incident is open again (a new version)."""
        self.db.execute(
            "update incidents set resolved_at = null, detail = ?, error_kind = ?, changed_at = ?, version = version + 1,"
            " reopens = reopens + 1, flaps = ?, flapping = ? where id = ? and workspace = ?",
            [detail, error_kind, iso(now), json.dumps([iso(t) for t in flaps]), int(flapping), incident_id, self.ws],
        )

    def flapping_incidents(self) -> list[Incident]:
        return [
            _incident(row) for row in select(self.db, "incidents", "workspace = ? and flapping = 1", [self.ws], order_by="id")
        ]

    def clear_flapping(self, incident_id: int) -> None:
        self.db.execute(
            "update incidents set flapping = 0, flaps = '[]', version = version + 1 where id = ? and workspace = ?",
            [incident_id, self.ws],
        )

    def incident(self, incident_id: int) -> Incident | None:
        rows = list(select(self.db, "incidents", "id = ? and workspace = ?", [incident_id, self.ws]))
        return _incident(rows[0]) if rows else None

    def incidents(self, incident_ids: Iterable[int]) -> dict[int, Incident]:
        ids = list(incident_ids)
        found: dict[int, Incident] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in select(self.db, "incidents", f"workspace = ? and id in ({','.join('?' * len(chunk))})", [self.ws, *chunk]):
                found[row["id"]] = _incident(row)
        return found

    def open_incidents(self) -> list[Incident]:
        return [
            _incident(row)
            for row in select(self.db, "incidents", "workspace = ? and resolved_at is null", [self.ws], order_by="id")
        ]

    # --- messages and groups -----------------------------------------------------------

    def add_alert_message(self, channel: str, incident_id: int, group_id: int | None = None) -> None:
        self.db.execute(
            "insert or ignore into alert_messages (workspace, channel, incident_id, group_id) values (?, ?, ?, ?)",
            [self.ws, channel, incident_id, group_id],
        )

    def alert_message(self, channel: str, incident_id: int) -> AlertMessage | None:
        rows = list(
            select(
                self.db, "alert_messages", "workspace = ? and channel = ? and incident_id = ?", [self.ws, channel, incident_id]
            )
        )
        return _message(rows[0]) if rows else None

    def alert_messages_for(self, incident_id: int) -> list[AlertMessage]:
        return [
            _message(row)
            for row in select(self.db, "alert_messages", "workspace = ? and incident_id = ?", [self.ws, incident_id])
        ]

    def set_alert_ts(self, channel: str, incident_id: int, ts: str) -> None:
        self.db.execute(
            "update alert_messages set ts = ? where workspace = ? and channel = ? and incident_id = ?",
            [ts, self.ws, channel, incident_id],
        )

    def ack_alert(self, channel: str, incident_id: int, user_id: str, now: datetime) -> None:
        self.db.execute(
            "update alert_messages set acked_by = ?, acked_at = ? where workspace = ? and channel = ? and incident_id = ?",
            [user_id, iso(now), self.ws, channel, incident_id],
        )

    def mark_checked(self, channel: str, incident_id: int, now: datetime) -> None:
        self.db.execute(
            "update alert_messages set checked_at = ? where workspace = ? and channel = ? and incident_id = ?",
            [iso(now), self.ws, channel, incident_id],
        )

    def create_group(self, channel: str, now: datetime, location: str | None = None) -> int:
        """A storm's group, or with `location` a device alert (the computer its Sync Apps are on)."""
        cursor = self.db.execute(
            "insert into alert_groups (workspace, channel, created_at, location) values (?, ?, ?, ?)",
            [self.ws, channel, iso(now), location],
        )
        return int(cursor.lastrowid)  # type: ignore[arg-type]

    def device_alerts(self, channel: str, cleared_after: datetime) -> dict[str, int]:
        """Computer key -> the channel's latest device alert there that a new Sync App alert joins: one with a
        company still offline, or whose last company came back after `cleared_after` (the flap window)."""
        found: dict[str, int] = {}
        for group_id, location, still_open, last in self.db.execute(
            "select g.id, g.location, max(i.resolved_at is null), max(i.resolved_at) from alert_groups g"
            " join alert_messages m on m.group_id = g.id join incidents i on i.id = m.incident_id"
            " where g.workspace = ? and g.channel = ? and g.location is not null group by g.id order by g.id",
            [self.ws, channel],
        ):
            key = location_key(location)
            if key is not None and (still_open or (last is not None and last > iso(cleared_after))):
                found[key] = group_id
        return found

    def group(self, group_id: int) -> AlertGroup | None:
        rows = list(select(self.db, "alert_groups", "id = ? and workspace = ?", [group_id, self.ws]))
        return _group(rows[0]) if rows else None

    def group_incident_ids(self, group_id: int) -> list[int]:
        return [
            row[0]
            for row in self.db.execute(
                "select incident_id from alert_messages where group_id = ? and workspace = ? order by incident_id",
                [group_id, self.ws],
            )
        ]

    def set_group_ts(self, group_id: int, ts: str) -> None:
        self.db.execute("update alert_groups set ts = ? where id = ? and workspace = ?", [ts, group_id, self.ws])

    def ack_group(self, group_id: int, user_id: str, now: datetime) -> None:
        self.db.execute(
            "update alert_groups set acked_by = ?, acked_at = ? where id = ? and workspace = ?",
            [user_id, iso(now), group_id, self.ws],
        )

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
        return cursor.rowcount > 0

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

    def outbox_row(self, key: str) -> tuple[str, str | None] | None:
        """(state, ts) of the outbox row with this dedup key, or None when there is none."""
        row = self.db.execute("select state, ts from outbox where workspace = ? and key = ?", [self.ws, key]).fetchone()
        return (row[0], row[1]) if row else None

    # --- daily digests -----------------------------------------------------------------

    def set_digest(self, schedule: DigestSchedule) -> None:
        self.db.execute(
            "insert or replace into digests (workspace, channel, at, tz, every_day, created_by, created_at)"
            " values (?, ?, ?, ?, ?, ?, ?)",
            [
                self.ws,
                schedule.channel,
                schedule.at.strftime("%H:%M"),
                schedule.tz,
                int(schedule.every_day),
                schedule.created_by,
                iso(schedule.created_at),
            ],
        )

    def remove_digest(self, channel: str) -> bool:
        return self.db.execute("delete from digests where workspace = ? and channel = ?", [self.ws, channel]).rowcount > 0

    def digests(self, channel: str | None = None) -> list[DigestSchedule]:
        where, params = ("workspace = ? and channel = ?", [self.ws, channel]) if channel else ("workspace = ?", [self.ws])
        return [
            DigestSchedule(
                channel=row["channel"],
                at=time.fromisoformat(row["at"]),
                tz=row["tz"],
                every_day=bool(row["every_day"]),
                created_by=row["created_by"] or "",
                created_at=from_iso(row["created_at"]),
            )
            for row in select(self.db, "digests", where, params, order_by="channel")
        ]

    def acknowledged_companies(self, channel: str) -> dict[str, str]:
        """Company id -> who acknowledged an open alert of it in `channel` (its own, or its group's)."""
        return {
            company_id: user
            for company_id, user in self.db.execute(
                "select i.company_id, coalesce(m.acked_by, g.acked_by) from alert_messages m"
                " join incidents i on i.id = m.incident_id left join alert_groups g on g.id = m.group_id"
                " where m.workspace = ? and m.channel = ? and i.resolved_at is null"
                " and coalesce(m.acked_by, g.acked_by) is not null",
                [self.ws, channel],
            )
        }

    # --- small named state -------------------------------------------------------------

    def get_state(self, name: str) -> str | None:
        row = self.db.execute("select value from settings_state where workspace = ? and name = ?", [self.ws, name]).fetchone()
        return row[0] if row else None

    def set_state(self, name: str, value: str | None) -> None:
        if value is None:
            self.db.execute("delete from settings_state where workspace = ? and name = ?", [self.ws, name])
        else:
            self.db.table("settings_state").upsert({"workspace": self.ws, "name": name, "value": value}, pk=("workspace", "name"))
