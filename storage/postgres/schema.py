"""The PostgreSQL schema: numbered migrations, applied in one transaction under an advisory lock.

The tables, columns and keys are those of the SQLite schema (storage/sqlite/migrations.py, all its
migrations applied): the same store code reads and writes both. Translation: TEXT -> text, INTEGER ->
bigint, an `id INTEGER PRIMARY KEY` -> `bigserial`. Times stay ISO 8601 UTC text (storage/timefmt.py), as in
SQLite: text order is time order, the queries are the same, and `migrate --from-sqlite` copies them as they
are. Lease times (`claimed_until`, `lease_until`) are `timestamptz`, compared with the server's `now()`
only, never with a process's clock (docs/scaling-out.md).
"""

from __future__ import annotations

# pg_advisory_xact_lock's key: any fixed bigint, the same in every process of this bot.
MIGRATION_LOCK_KEY = 7_311_442_016

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_schema",
        """
CREATE TABLE account (
    workspace text NOT NULL, id text, name text, holder_name text, holder_email text, updated_at text,
    PRIMARY KEY (workspace, id)
);
CREATE TABLE account_users (
    workspace text NOT NULL, email text, name text, all_companies bigint, company_ids text,
    PRIMARY KEY (workspace, email)
);
CREATE TABLE companies (
    workspace text NOT NULL, id text, name text NOT NULL, name_key text NOT NULL, software text,
    integration_status text NOT NULL, error_kind text, error_message text, sync_status text, sync_location text,
    sync_last_seen_at text, publication_errors bigint NOT NULL, feed_updated_at text, status_since text,
    sync_since text, first_seen_at text, removed_at text, missing_since text,
    PRIMARY KEY (workspace, id)
);
CREATE INDEX companies_name_key ON companies (workspace, name_key);
CREATE INDEX companies_integration_status ON companies (workspace, integration_status);
CREATE TABLE poll_runs (
    id bigserial PRIMARY KEY, workspace text NOT NULL, started_at text, finished_at text, ok bigint,
    companies bigint, changes bigint, skipped bigint, error text
);
CREATE INDEX poll_runs_ok ON poll_runs (workspace, ok, id);
CREATE TABLE slack_users (
    workspace text NOT NULL, user_id text, email text, name text, fetched_at text,
    PRIMARY KEY (workspace, user_id)
);
CREATE TABLE subscriptions (
    workspace text NOT NULL, channel text, company_id text, created_by text, created_at text, lapsed_at text,
    lapse_told_at text,
    PRIMARY KEY (workspace, channel, company_id)
);
CREATE TABLE conditions (
    workspace text NOT NULL, company_id text, condition text, phase text, since text, detail text,
    incident_id bigint,
    PRIMARY KEY (workspace, company_id, condition)
);
CREATE TABLE incidents (
    id bigserial PRIMARY KEY, workspace text NOT NULL, company_id text, condition text, detail text,
    error_kind text, since text, opened_at text, changed_at text, resolved_at text, version bigint,
    reopens bigint NOT NULL DEFAULT 0, flaps text, flapping bigint NOT NULL DEFAULT 0
);
CREATE INDEX incidents_company ON incidents (workspace, company_id, condition, since);
CREATE INDEX incidents_flapping ON incidents (workspace, flapping);
CREATE INDEX incidents_resolved_at ON incidents (workspace, resolved_at);
CREATE TABLE alert_groups (
    id bigserial PRIMARY KEY, workspace text NOT NULL, channel text, created_at text, ts text, acked_by text,
    acked_at text, location text
);
CREATE INDEX alert_groups_channel ON alert_groups (workspace, channel);
CREATE TABLE alert_messages (
    workspace text NOT NULL, channel text, incident_id bigint, group_id bigint, ts text, acked_by text,
    acked_at text, checked_at text,
    PRIMARY KEY (workspace, channel, incident_id)
);
CREATE TABLE snoozes (
    workspace text NOT NULL, channel text, company_id text, until text, by_user text, created_at text,
    PRIMARY KEY (workspace, channel, company_id)
);
CREATE TABLE outbox (
    id bigserial PRIMARY KEY, workspace text NOT NULL, key text NOT NULL, channel text NOT NULL,
    kind text NOT NULL, incident_id bigint, group_id bigint, body text, created_at text, due_at text,
    attempts bigint NOT NULL DEFAULT 0, in_flight_at text, sent_at text, ts text,
    state text NOT NULL DEFAULT 'pending', last_error text,
    claimed_by text, claimed_until timestamptz
);
CREATE UNIQUE INDEX outbox_key ON outbox (workspace, key);
CREATE INDEX outbox_state_due_at ON outbox (state, due_at);
CREATE INDEX outbox_channel_head ON outbox (workspace, state, channel, id);
CREATE TABLE settings_state (
    workspace text NOT NULL, name text, value text,
    PRIMARY KEY (workspace, name)
);
CREATE TABLE reminders (
    id bigserial PRIMARY KEY, workspace text NOT NULL, company_id text NOT NULL, company_name text,
    requester_user_id text NOT NULL, requester_email text, requester_name text, holder_email text,
    holder_name text, holder_user_id text, dm_channel text, dm_ts text, requested_at text NOT NULL,
    sent_at text, outcome text NOT NULL, error text, claimed_at text, claimed_polls bigint NOT NULL DEFAULT 0,
    unconfirmed_told_at text, confirmed_at text, access_told_at text, closed_at text
);
CREATE INDEX reminders_requester ON reminders (workspace, requester_user_id, company_id, requested_at);
CREATE INDEX reminders_closed_at_outcome ON reminders (closed_at, outcome);
CREATE TABLE home_viewers (
    workspace text NOT NULL, user_id text, opened_at text NOT NULL, published_at text, filter text,
    page bigint, stale bigint,
    PRIMARY KEY (workspace, user_id)
);
CREATE INDEX home_viewers_stale ON home_viewers (workspace, stale, opened_at);
CREATE TABLE deferred_alerts (
    workspace text NOT NULL, channel text, incident_id bigint, until text,
    PRIMARY KEY (workspace, channel, incident_id)
);
-- rowid: SQLite's implicit row id, which a press's claim token names.
CREATE TABLE presses (
    rowid bigserial, workspace text NOT NULL, key text, user_id text, pressed_at text NOT NULL, until text,
    claims bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (workspace, key)
);
CREATE INDEX presses_until ON presses (until);
CREATE TABLE broken_channels (
    workspace text NOT NULL, channel text, error text, since text, retry_at text,
    PRIMARY KEY (workspace, channel)
);
CREATE TABLE digests (
    workspace text NOT NULL, channel text, at text NOT NULL, tz text NOT NULL, every_day bigint NOT NULL,
    created_by text, created_at text NOT NULL,
    PRIMARY KEY (workspace, channel)
);
CREATE TABLE workspaces (
    workspace text PRIMARY KEY, team_id text, enterprise_id text, is_enterprise_install bigint NOT NULL DEFAULT 0,
    installer_user_id text, installed_at text, status_source text, feed_token text, connected_by text,
    connected_at text, uninstalled_at text
);
-- Which process polls a workspace, until when (docs/scaling-out.md).
CREATE TABLE workspace_polls (
    workspace text PRIMARY KEY, next_poll_at timestamptz NOT NULL, lease_owner text, lease_until timestamptz,
    last_poll_at timestamptz, failures bigint NOT NULL DEFAULT 0
);
CREATE INDEX workspace_polls_due ON workspace_polls (next_poll_at);
""",
    ),
    (
        "0002_jobs_and_workspace_events",
        """
CREATE TABLE job_leases (
    workspace text NOT NULL, job text NOT NULL, next_run_at timestamptz NOT NULL, lease_owner text,
    lease_until timestamptz, PRIMARY KEY (workspace, job)
);
CREATE TABLE workspace_events (
    id bigserial PRIMARY KEY, workspace text NOT NULL, origin text NOT NULL, at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_events_at ON workspace_events (at);
""",
    ),
)

# Primary keys, for `insert or replace` and sqlite-utils' upserts (storage/postgres/database.py).
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "account": ("workspace", "id"),
    "account_users": ("workspace", "email"),
    "companies": ("workspace", "id"),
    "poll_runs": ("id",),
    "slack_users": ("workspace", "user_id"),
    "subscriptions": ("workspace", "channel", "company_id"),
    "conditions": ("workspace", "company_id", "condition"),
    "incidents": ("id",),
    "alert_groups": ("id",),
    "alert_messages": ("workspace", "channel", "incident_id"),
    "snoozes": ("workspace", "channel", "company_id"),
    "outbox": ("id",),
    "settings_state": ("workspace", "name"),
    "reminders": ("id",),
    "home_viewers": ("workspace", "user_id"),
    "deferred_alerts": ("workspace", "channel", "incident_id"),
    "presses": ("workspace", "key"),
    "broken_channels": ("workspace", "channel"),
    "digests": ("workspace", "channel"),
    "workspaces": ("workspace",),
    "workspace_polls": ("workspace",),
}

# Practice tables in the order rows can be copied into them (parents first); every one has a `workspace`.
PRACTICE_TABLES: tuple[str, ...] = tuple(name for name in PRIMARY_KEYS if name not in ("workspaces", "workspace_polls"))

# Tables whose rows are numbered by a bigserial `id`: an insert returns it, as SQLite's lastrowid does.
SERIAL_TABLES = frozenset(name for name, pk in PRIMARY_KEYS.items() if pk == ("id",))
