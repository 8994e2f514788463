"""Alert state: subscriptions, conditions, incidents, the messages that tell them, snoozes and the outbox.

One mixin per feature (subscriptions.py, incidents.py, outbox.py; records in alert_records.py);
`AlertStore` joins them for `Store` (storage/sqlite/db.py).
"""

from __future__ import annotations

from sqlite_utils import Database

from storage.sqlite.alert_records import (
    EVERY_COMPANY,
    AlertGroup,
    AlertMessage,
    Incident,
    OutboxItem,
    Snooze,
    Subscription,
)
from storage.sqlite.incidents import IncidentStore
from storage.sqlite.outbox import OutboxStore
from storage.sqlite.subscriptions import SubscriptionStore

__all__ = [
    "EVERY_COMPANY",
    "AlertGroup",
    "AlertMessage",
    "AlertStore",
    "Incident",
    "OutboxItem",
    "Snooze",
    "Subscription",
]


class AlertStore(SubscriptionStore, IncidentStore, OutboxStore):
    db: Database
    ws: str  # the workspace every read and write is scoped to

    # --- small named state -------------------------------------------------------------

    def get_state(self, name: str) -> str | None:
        row = self.db.execute("select value from settings_state where workspace = ? and name = ?", [self.ws, name]).fetchone()
        return row[0] if row else None

    def set_state(self, name: str, value: str | None) -> None:
        if value is None:
            self.db.execute("delete from settings_state where workspace = ? and name = ?", [self.ws, name])
        else:
            self.db.execute(
                "insert into settings_state (workspace, name, value) values (?, ?, ?)"
                " on conflict (workspace, name) do update set value = excluded.value",
                [self.ws, name, value],
            )
