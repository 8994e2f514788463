"""Who has the App Home tab open lately, and what they last saw: so a poll can refresh it, throttled."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from storage.records import HomeViewer
from storage.timefmt import iso

if TYPE_CHECKING:
    from sqlite_utils import Database


def _iso(moment: datetime) -> str:
    return iso(moment) or ""


class HomeStore:
    """A mixin for Store: the `home_viewers` table (migration 0004_home)."""

    db: "Database"
    ws: str

    def _home_viewer(self, row: tuple) -> HomeViewer:
        return HomeViewer(
            user_id=row[0],
            opened_at=datetime.fromisoformat(row[1]),
            published_at=datetime.fromisoformat(row[2]) if row[2] else None,
            filter=row[3] or "all",
            page=row[4] or 0,
            stale=bool(row[5]),
        )

    def home_viewer(self, user_id: str) -> HomeViewer | None:
        row = self.db.execute(
            "select user_id, opened_at, published_at, filter, page, stale from home_viewers where workspace = ? and user_id = ?",
            [self.ws, user_id],
        ).fetchone()
        return self._home_viewer(row) if row else None

    def home_opened(self, user_id: str, now: datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                "insert into home_viewers (workspace, user_id, opened_at, filter, page, stale) values (?, ?, ?, 'all', 0, 0) "
                "on conflict(workspace, user_id) do update set opened_at = excluded.opened_at",
                [self.ws, user_id, _iso(now)],
            )

    def home_published(self, user_id: str, filter: str, page: int, now: datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                "insert into home_viewers (workspace, user_id, opened_at, published_at, filter, page, stale) "
                "values (?, ?, ?, ?, ?, ?, 0) on conflict(workspace, user_id) do update set "
                "published_at = excluded.published_at, filter = excluded.filter, page = excluded.page, stale = 0",
                [self.ws, user_id, _iso(now), _iso(now), filter, page],
            )

    def mark_home_stale(self, opened_since: datetime) -> int:
        """Every recent viewer's Home tab now shows old data; returns how many. One statement: inside the
        poll's transaction (bot/home/refresh.py), or a transaction of its own."""
        cursor = self.db.execute(
            "update home_viewers set stale = 1 where workspace = ? and opened_at >= ? and stale = 0",
            [self.ws, _iso(opened_since)],
        )
        return cursor.rowcount

    def home_viewers_to_refresh(self, opened_since: datetime, published_before: datetime, limit: int) -> list[HomeViewer]:
        """Stale views of recent viewers not published lately, the longest-waiting first, so that past the
        limit every viewer still gets a turn."""
        rows = self.db.execute(
            "select user_id, opened_at, published_at, filter, page, stale from home_viewers "
            "where workspace = ? and stale = 1 and opened_at >= ? and (published_at is null or published_at <= ?) "
            "order by coalesce(published_at, '') asc, opened_at desc limit ?",
            [self.ws, _iso(opened_since), _iso(published_before), limit],
        ).fetchall()
        return [self._home_viewer(row) for row in rows]

    def forget_home_viewers(self, opened_before: datetime) -> int:
        with self.db.atomic():
            return self.db.execute(
                "delete from home_viewers where workspace = ? and opened_at < ?", [self.ws, _iso(opened_before)]
            ).rowcount
