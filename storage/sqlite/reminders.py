"""Stored reminders to the account holder: who asked whom, for which company, when, and what came of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlite_utils import Database

from bot.practice.models import Person
from bot.reminders.decide import DELIVERED, WATCH_FOR, Outcome, Reminder
from storage.sqlite.query import select
from storage.timefmt import from_iso as _from_iso
from storage.timefmt import iso as _iso

TABLE = "reminders"


def _row_to_reminder(row: dict[str, Any]) -> Reminder:
    t = _from_iso
    return Reminder(
        id=row["id"],
        company_id=row["company_id"],
        company_name=row["company_name"] or row["company_id"],
        requester_user_id=row["requester_user_id"],
        requester_email=row["requester_email"] or "",
        requester_name=row["requester_name"] or "",
        holder_email=row["holder_email"] or "",
        holder_name=row["holder_name"] or "",
        holder_user_id=row["holder_user_id"],
        dm_channel=row["dm_channel"],
        dm_ts=row["dm_ts"],
        requested_at=t(row["requested_at"]) or datetime.min,
        sent_at=t(row["sent_at"]),
        outcome=row["outcome"],
        error=row["error"],
        claimed_at=t(row["claimed_at"]),
        claimed_polls=row["claimed_polls"] or 0,
        unconfirmed_told_at=t(row["unconfirmed_told_at"]),
        confirmed_at=t(row["confirmed_at"]),
        access_told_at=t(row["access_told_at"]),
        closed_at=t(row["closed_at"]),
    )


class ReminderStore:
    """Mixed into Store; every write is one short transaction."""

    db: Database
    ws: str

    def _reminders_where(self, where: str, args: Iterable[Any] = ()) -> list[Reminder]:
        # Plain SQL: rows_where inspects the schema first, and open_reminders runs after every poll.
        rows = select(self.db, TABLE, f"workspace = ? and ({where})", [self.ws, *args], order_by="id")
        return [_row_to_reminder(row) for row in rows]

    def reminder(self, reminder_id: int) -> Reminder | None:
        found = self._reminders_where("id = ?", [reminder_id])
        return found[0] if found else None

    def reminders(self, requester_user_id: str | None = None, company_id: str | None = None) -> list[Reminder]:
        clauses, args = [], []
        if requester_user_id is not None:
            clauses.append("requester_user_id = ?")
            args.append(requester_user_id)
        if company_id is not None:
            clauses.append("company_id = ?")
            args.append(company_id)
        return self._reminders_where(" and ".join(clauses) or "1 = 1", args)

    def recent_reminders(self, requester_user_id: str, company_id: str, since: datetime) -> list[Reminder]:
        """This person's reminders about this company asked for since `since` (the once-a-day window)."""
        return self._reminders_where(
            "requester_user_id = ? and company_id = ? and requested_at >= ?",
            [requester_user_id, company_id, _iso(since)],
        )

    def open_reminders(self, now: datetime) -> list[Reminder]:
        """Delivered reminders whose loop is not closed yet, younger than WATCH_FOR."""
        marks = ", ".join("?" * len(DELIVERED))
        return self._reminders_where(
            f"outcome in ({marks}) and closed_at is null and sent_at >= ?",
            [*DELIVERED, _iso(now - WATCH_FOR)],
        )

    def open_reminders_for(self, requester_email: str, company_id: str, now: datetime) -> list[Reminder]:
        return [r for r in self.open_reminders(now) if r.requester_email == requester_email and r.company_id == company_id]

    def add_reminder(
        self,
        *,
        company_id: str,
        company_name: str,
        requester_user_id: str,
        requester: Person,
        holder: Person,
        now: datetime,
    ) -> int:
        with self.db.atomic():
            table = self.db.table(TABLE).insert(
                {
                    "workspace": self.ws,
                    "company_id": company_id,
                    "company_name": company_name,
                    "requester_user_id": requester_user_id,
                    "requester_email": requester.email,
                    "requester_name": requester.name,
                    "holder_email": holder.email,
                    "holder_name": holder.name,
                    "requested_at": _iso(now),
                    "outcome": Outcome.PENDING.value,
                    "claimed_polls": 0,
                }
            )
            return int(table.last_pk)  # type: ignore[arg-type]

    def _update(self, reminder_ids: Iterable[int], values: dict[str, Any]) -> None:
        ids = list(reminder_ids)
        if not ids:
            return
        with self.db.atomic():
            columns = ", ".join(f"[{column}] = ?" for column in values)
            for reminder_id in ids:
                self.db.execute(
                    f"update {TABLE} set {columns} where id = ? and workspace = ?", [*values.values(), reminder_id, self.ws]
                )

    def reminder_sent(self, reminder_id: int, holder_user_id: str, channel: str, ts: str, now: datetime) -> None:
        self._update(
            [reminder_id],
            {
                "outcome": Outcome.SENT.value,
                "holder_user_id": holder_user_id,
                "dm_channel": channel,
                "dm_ts": ts,
                "sent_at": _iso(now),
                "error": None,
            },
        )

    def reminder_failed(
        self, reminder_id: int, outcome: str, holder_user_id: str | None = None, error: str | None = None
    ) -> None:
        values: dict[str, Any] = {"outcome": outcome, "error": error}
        if holder_user_id:
            values["holder_user_id"] = holder_user_id
        self._update([reminder_id], values)

    def reminders_claimed(self, reminder_ids: Iterable[int], now: datetime) -> None:
        """The holder pressed "I've granted it": from now on, polls without it in the feed are counted."""
        with self.db.atomic():
            for reminder_id in reminder_ids:
                found = self.reminder(reminder_id)
                if found is None or found.claimed_at:
                    continue  # another workspace's, or a second press, which does not restart the count
                values: dict[str, Any] = {"claimed_at": _iso(now), "claimed_polls": 0}
                if found.outcome == Outcome.SENT.value:
                    values["outcome"] = Outcome.GRANTED_CLAIMED.value
                self._update([reminder_id], values)

    def reminders_confirmed(self, reminder_ids: Iterable[int], now: datetime) -> None:
        self._update(
            reminder_ids,
            {"outcome": Outcome.GRANTED_CONFIRMED.value, "confirmed_at": _iso(now), "closed_at": _iso(now)},
        )

    def reminders_access_told(self, reminder_ids: Iterable[int], now: datetime) -> None:
        self._update(reminder_ids, {"access_told_at": _iso(now)})

    def reminders_unconfirmed_told(self, reminder_ids: Iterable[int], now: datetime) -> None:
        self._update(reminder_ids, {"unconfirmed_told_at": _iso(now)})

    def reminders_poll_counted(self, reminder_ids: Iterable[int]) -> None:
        ids = list(reminder_ids)
        if not ids:
            return
        with self.db.atomic():
            self.db.execute(
                f"update {TABLE} set claimed_polls = claimed_polls + 1 where workspace = ? and id in ({','.join('?' * len(ids))})",
                [self.ws, *ids],
            )

    def reminder_note(self, reminder_id: int, error: str) -> None:
        """A Slack problem after delivery (telling the requester, updating the holder's DM)."""
        self._update([reminder_id], {"error": error})
