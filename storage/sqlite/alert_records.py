"""Alert state records as the store returns them: subscriptions, snoozes, incidents, alert messages and groups, outbox rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.alerting.transitions import Condition
from storage.timefmt import from_iso

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
