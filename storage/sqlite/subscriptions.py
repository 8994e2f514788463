"""Who is told: channel subscriptions, snoozes and deferred alerts, daily digests."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlite_utils import Database

from bot.alerting.digest import DigestSchedule
from storage.sqlite.alert_records import EVERY_COMPANY, Snooze, Subscription
from storage.sqlite.query import select
from storage.timefmt import from_iso, iso


class SubscriptionStore:
    """The `Store` mixin for subscriptions, snoozes and digests (storage/sqlite/db.py composes it)."""

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

    def watched_subscriptions(self) -> list[Subscription]:
        """active_subscriptions() and lapsed_untold_subscriptions() in one query (read after every poll)."""
        return self._subscriptions("(lapsed_at is null or lapse_told_at is null)", [])

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
