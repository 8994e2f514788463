"""Alert state records (storage/records.py) from their rows: incidents, alert messages and groups."""

from __future__ import annotations

import json
from typing import Any

from bot.alerting.transitions import Condition
from storage.records import AlertGroup, AlertMessage, Incident, OutboxItem, Snooze, Subscription
from storage.timefmt import from_iso

__all__ = ["EVERY_COMPANY", "AlertGroup", "AlertMessage", "Incident", "OutboxItem", "Snooze", "Subscription"]

# A subscription to every company, as its company_id column holds it.
EVERY_COMPANY = "*"


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
