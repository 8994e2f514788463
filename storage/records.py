"""The records the store gives back and takes: plain values, whichever database keeps them (storage/ports.py
names the protocols that use them; storage/sqlite/ and storage/postgres/ build them from rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from bot.alerting.transitions import Condition
from bot.practice.models import IntegrationStatus, StoredCompany, SyncAppStatus


class StorageError(Exception):
    """The database cannot be used (not SQLite, read-only, out of reach): one line, naming the file."""


# --- the practice, as polled ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollRun:
    started_at: datetime
    finished_at: datetime | None
    ok: bool
    companies: int
    changes: int
    skipped: int
    error: str | None


@dataclass(frozen=True, slots=True)
class StoredChange:
    """A company whose stored state a poll rewrote: `before` None for one seen for the first time; `returned_from`
    when it was listed again after being closed as removed (the time it was closed)."""

    before: StoredCompany | None
    after: StoredCompany
    returned_from: datetime | None = None


class CompanyLine(NamedTuple):
    """A listed company as the practice overview shows it (a tuple: 10,000 of them are read at once)."""

    id: str
    name: str
    integration_status: IntegrationStatus
    status_since: datetime | None
    sync_status: SyncAppStatus | None
    sync_location: str | None


# --- alerts -----------------------------------------------------------------------------------------


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


class OutboxState(NamedTuple):
    """Where an outbox row stands: `state` pending, sent or failed; `ts` its Slack message once sent."""

    state: str
    ts: str | None


# --- App Home, workspaces ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HomeViewer:
    user_id: str
    opened_at: datetime
    published_at: datetime | None
    filter: str
    page: int
    stale: bool  # something changed since the last publish


@dataclass(frozen=True, slots=True)
class WorkspaceRecord:
    workspace: str  # team id, or the Enterprise Grid org id of an org-wide install
    team_id: str | None
    enterprise_id: str | None
    is_enterprise_install: bool
    installer_user_id: str | None
    installed_at: datetime | None
    status_source: str | None  # http(s)://... or demo; None: not connected
    feed_token: str | None  # encrypted (bot/secrets.py)
    connected_by: str | None
    connected_at: datetime | None
    uninstalled_at: datetime | None

    @property
    def connected(self) -> bool:
        return self.status_source is not None and self.uninstalled_at is None


@dataclass(frozen=True, slots=True)
class WorkspaceEvent:
    """Another process changed `workspace` (installed, token rotated, connected, disconnected, uninstalled):
    re-read it. `id` orders the events; `origin` is the lease owner of the process that wrote it."""

    id: int
    workspace: str
    origin: str


@dataclass(frozen=True, slots=True)
class PollAgenda:
    """What a good poll's alert engine has to do besides the poll's own changes, read in one query: companies
    with a condition pending its grace period, whether any incident is marked flapping, any snooze has
    expired, any snoozed alert is due, and the named marks asked for (`settings_state`: name -> value, the
    names not set left out). And for the steps after the poll, as the transaction saw it: whether any
    subscription is active, any is active or lapsed and not told yet, any delivered reminder is not closed;
    without one, the step has nothing to read (True: read as usual)."""

    pending: frozenset[str]
    flapping: bool
    expired_snoozes: bool
    due_deferred: bool
    states: dict[str, str]
    active_subscriptions: bool = True
    watched_subscriptions: bool = True
    open_reminders: bool = True
