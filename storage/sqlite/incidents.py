"""What is wrong: condition states, incidents, and the alert messages and groups that tell them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

from sqlite_utils import Database

from bot.alerting.transitions import Condition, ConditionState, Phase
from bot.practice.devices import location_key
from bot.reminders.decide import DELIVERED
from storage.records import PollAgenda
from storage.sqlite.alert_records import AlertGroup, AlertMessage, Incident, _group, _incident, _message
from storage.sqlite.query import select
from storage.timefmt import from_iso, iso


class IncidentStore:
    """The `Store` mixin for conditions, incidents, alert messages and groups (storage/sqlite/db.py composes it)."""

    db: Database
    ws: str  # the workspace every read and write is scoped to

    # --- conditions --------------------------------------------------------------------

    def pending_condition_companies(self) -> set[str]:
        return {
            row[0]
            for row in self.db.execute(
                "select distinct company_id from conditions where workspace = ? and phase = 'pending'", [self.ws]
            )
        }

    def poll_agenda(self, now: datetime, *states: str) -> PollAgenda:
        """The PollAgenda at `now`, with the `settings_state` marks named in `states`: one statement instead of
        one per question (a poll of a practice where nothing changed asks only this)."""
        stamp = iso(now)
        names = ", ".join("?" * len(states)) or "null"
        delivered = ", ".join("?" * len(DELIVERED))
        ws = self.ws
        rows = self.db.execute(
            "select distinct '', company_id from conditions where workspace = ? and phase = 'pending'"
            " union all select 'f', '' from (select 1 from incidents where workspace = ? and flapping = 1 limit 1) f"
            " union all select 's', '' from (select 1 from snoozes where workspace = ? and until <= ? limit 1) s"
            " union all select 'd', '' from (select 1 from deferred_alerts where workspace = ? and until <= ? limit 1) d"
            " union all select 'a', '' from (select 1 from subscriptions where workspace = ? and lapsed_at is null limit 1) a"
            " union all select 'w', '' from (select 1 from subscriptions where workspace = ? and lapse_told_at is null"
            " and lapsed_at is not null limit 1) w"
            f" union all select 'r', '' from (select 1 from reminders where workspace = ? and outcome in ({delivered})"
            " and closed_at is null limit 1) r"
            f" union all select 'o' || name, value from settings_state where workspace = ? and name in ({names})",
            [ws, ws, ws, stamp, ws, stamp, ws, ws, ws, *DELIVERED, ws, *states],
        ).fetchall()
        kinds = {kind for kind, _ in rows}
        return PollAgenda(
            pending=frozenset(value for kind, value in rows if kind == ""),
            flapping="f" in kinds,
            expired_snoozes="s" in kinds,
            due_deferred="d" in kinds,
            states={kind[1:]: value for kind, value in rows if kind.startswith("o")},
            active_subscriptions="a" in kinds,
            watched_subscriptions="a" in kinds or "w" in kinds,
            open_reminders="r" in kinds,
        )

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

    def save_conditions(self, states: list[tuple[str, ConditionState]]) -> None:
        """save_condition for each (company id, state), as one batch (a practice's first poll tracks many)."""
        if not states:
            return
        sql = (
            "insert or replace into conditions (workspace, company_id, condition, phase, since, detail, incident_id)"
            " values (?, ?, ?, ?, ?, ?, ?)"
        )
        rows = [
            [self.ws, company_id, s.condition.value, s.phase.value, iso(s.since), s.detail, s.incident_id]
            for company_id, s in states
        ]
        executemany = getattr(self.db, "executemany", None)  # PostgreSQL's database object has its own
        (executemany or self.db.conn.executemany)(sql, rows)

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

    def incident_closed_at(self, company_id: str, condition: Condition, closed_at: datetime) -> Incident | None:
        """The company's incident of this condition that was resolved at exactly `closed_at` (to the second)."""
        rows = select(
            self.db,
            "incidents",
            "workspace = ? and company_id = ? and condition = ? and resolved_at = ?",
            [self.ws, company_id, condition.value, iso(closed_at)],
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

    def any_alerted(self, incident_ids: Iterable[int]) -> bool:
        """Whether any of these incidents has an alert message in some channel (one statement)."""
        ids = list(incident_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            if self.db.execute(
                f"select 1 from alert_messages where workspace = ? and incident_id in ({','.join('?' * len(chunk))}) limit 1",
                [self.ws, *chunk],
            ).fetchone():
                return True
        return False

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
