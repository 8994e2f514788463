"""Button presses, each claimed once under its dedup key (unique in the `presses` table)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.timefmt import iso

# Keys that may act again are kept this long after they could, then forgotten.
KEEP_EXPIRED = timedelta(days=1)


class PressStore:
    db: Database
    ws: str

    def claim_press(self, key: str, user_id: str, now: datetime, until: datetime | None) -> str | None:
        """Claims `key` for this press; None when it is taken (the same press again, or someone else's first).

        A key whose `until` has passed may be claimed again; a null `until` never lapses. Returns a token
        unique to this claim (`<row>.<claims>`), for the keys of what the press queues. Atomic: the unique
        key in SQLite decides between two presses at once."""
        self.db.execute("delete from presses where workspace = ? and until < ?", [self.ws, iso(now - KEEP_EXPIRED)])
        cursor = self.db.execute(
            "insert into presses (workspace, key, user_id, pressed_at, until, claims) values (?, ?, ?, ?, ?, 1)"
            " on conflict (workspace, key) do update set user_id = excluded.user_id, pressed_at = excluded.pressed_at,"
            " until = excluded.until, claims = presses.claims + 1"
            " where presses.until is not null and presses.until <= excluded.pressed_at",
            [self.ws, key, user_id, iso(now), iso(until)],
        )
        if cursor.rowcount != 1:
            return None
        row = self.db.execute("select rowid, claims from presses where workspace = ? and key = ?", [self.ws, key]).fetchone()
        return f"{row[0]}.{row[1]}"

    def release_press(self, key: str) -> None:
        """Frees a key whose press did not take effect (Slack failed), so pressing again works."""
        self.db.execute("delete from presses where workspace = ? and key = ?", [self.ws, key])
