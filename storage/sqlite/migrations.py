"""The schema, as versioned migrations applied at start-up (sqlite-utils records what ran)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("integration-bot")


@migrations(name="0001_practice")
def practice(db: Database) -> None:
    db.table("account").create(
        {"id": str, "name": str, "holder_name": str, "holder_email": str, "updated_at": str},
        pk="id",
    )
    db.table("account_users").create(
        {"email": str, "name": str, "all_companies": int, "company_ids": str},
        pk="email",
    )
    db.table("companies").create(
        {
            "id": str,
            "name": str,
            "name_key": str,
            "software": str,
            "integration_status": str,
            "error_kind": str,
            "error_message": str,
            "sync_status": str,
            "sync_location": str,
            "sync_last_seen_at": str,
            "publication_errors": int,
            "feed_updated_at": str,
            "status_since": str,
            "sync_since": str,
            "first_seen_at": str,
            "removed_at": str,
        },
        pk="id",
        not_null={"name", "name_key", "integration_status", "publication_errors"},
    )
    db.table("companies").create_index(["name_key"])
    db.table("companies").create_index(["integration_status"])
    db.table("poll_runs").create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "ok": int,
            "companies": int,
            "changes": int,
            "skipped": int,
            "error": str,
        },
        pk="id",
    )
    db.table("slack_users").create(
        {"user_id": str, "email": str, "name": str, "fetched_at": str},
        pk="user_id",
    )


@migrations(name="0002_alerts")
def alerts(db: Database) -> None:
    """One schema step in two parts: the alert tables (subscriptions, conditions, incidents, alert groups and
    messages, snoozes), then the outbox and the named state."""
    _alert_tables(db)
    _outbox_tables(db)


def _alert_tables(db: Database) -> None:
    db.table("subscriptions").create(
        # company_id "*" stands for every company: a primary key cannot hold NULL.
        {"channel": str, "company_id": str, "created_by": str, "created_at": str},
        pk=("channel", "company_id"),
    )
    db.table("conditions").create(
        {"company_id": str, "condition": str, "phase": str, "since": str, "detail": str, "incident_id": int},
        pk=("company_id", "condition"),
    )
    db.table("incidents").create(
        {
            "id": int,
            "company_id": str,
            "condition": str,
            "detail": str,
            "error_kind": str,
            "since": str,
            "opened_at": str,
            "changed_at": str,
            "resolved_at": str,
            "version": int,
        },
        pk="id",
    )
    db.table("incidents").create_index(["company_id", "condition", "since"])
    db.table("alert_groups").create(
        {"id": int, "channel": str, "created_at": str, "ts": str, "acked_by": str, "acked_at": str},
        pk="id",
    )
    db.table("alert_messages").create(
        {
            "channel": str,
            "incident_id": int,
            "group_id": int,
            "ts": str,
            "acked_by": str,
            "acked_at": str,
            "checked_at": str,
        },
        pk=("channel", "incident_id"),
    )
    db.table("alert_messages").create_index(["group_id"])
    db.table("snoozes").create(
        {"channel": str, "company_id": str, "until": str, "by_user": str, "created_at": str},
        pk=("channel", "company_id"),
    )


def _outbox_tables(db: Database) -> None:
    db.table("outbox").create(
        {
            "id": int,
            "key": str,
            "channel": str,
            "kind": str,
            "incident_id": int,
            "group_id": int,
            "body": str,
            "created_at": str,
            "due_at": str,
            "attempts": int,
            "in_flight_at": str,
            "sent_at": str,
            "ts": str,
            "state": str,
            "last_error": str,
        },
        pk="id",
        not_null={"key", "channel", "kind", "state", "attempts"},
        defaults={"attempts": 0, "state": "pending"},
    )
    # The unique key is what makes a replayed poll unable to queue the same alert twice.
    db.table("outbox").create_index(["key"], unique=True)
    db.table("outbox").create_index(["state", "due_at"])
    db.table("settings_state").create({"name": str, "value": str}, pk="name")


@migrations(name="0003_reminders")
def reminders(db: Database) -> None:
    # Reminders to the account holder to grant the Company settings permission, and how each loop closed.
    db.table("reminders").create(
        {
            "id": int,
            "company_id": str,
            "company_name": str,
            "requester_user_id": str,
            "requester_email": str,
            "requester_name": str,
            "holder_email": str,
            "holder_name": str,
            "holder_user_id": str,
            "dm_channel": str,
            "dm_ts": str,
            "requested_at": str,
            "sent_at": str,
            "outcome": str,
            "error": str,
            "claimed_at": str,
            "claimed_polls": int,
            "unconfirmed_told_at": str,
            "confirmed_at": str,
            "access_told_at": str,
            "closed_at": str,
        },
        pk="id",
        not_null={"company_id", "requester_user_id", "requested_at", "outcome", "claimed_polls"},
        defaults={"claimed_polls": 0},
    )
    db.table("reminders").create_index(["requester_user_id", "company_id", "requested_at"])
    db.table("reminders").create_index(["closed_at", "outcome"])


@migrations(name="0004_home")
def home(db: Database) -> None:
    # Who opened the App Home tab lately, so a changing poll can refresh it (throttled).
    db.table("home_viewers").create(
        {"user_id": str, "opened_at": str, "published_at": str, "filter": str, "page": int, "stale": int},
        pk="user_id",
        not_null={"opened_at"},
    )
    db.table("home_viewers").create_index(["stale", "opened_at"])


@migrations(name="0005_deferred_alerts")
def deferred_alerts(db: Database) -> None:
    # An alert held back by a snooze, to be posted when the snooze ends if the problem is still there.
    db.table("deferred_alerts").create({"channel": str, "incident_id": int, "until": str}, pk=("channel", "incident_id"))


@migrations(name="0006_presses")
def presses(db: Database) -> None:
    # One row per button press that took effect, under its dedup key (person or target, action, target):
    # a second press, a retry from Slack or a second person at once finds the key taken and does nothing.
    # `until`: when the same key may act again (null: never); `claims` counts how often it did.
    db.table("presses").create(
        {"key": str, "user_id": str, "pressed_at": str, "until": str, "claims": int},
        pk="key",
        not_null={"pressed_at", "claims"},
        defaults={"claims": 1},
    )
    db.table("presses").create_index(["until"])


@migrations(name="0007_subscription_lapse")
def subscription_lapse(db: Database) -> None:
    # A subscription whose subscriber lost the Company settings permission lapses: no alerts until renewed.
    db.table("subscriptions").add_column("lapsed_at", str)
    db.table("subscriptions").add_column("lapse_told_at", str)


@migrations(name="0008_outbox_channels")
def outbox_channels(db: Database) -> None:
    # The outbox is read one channel at a time (each channel's head row first), so no channel waits behind
    # another channel's backlog.
    db.table("outbox").create_index(["state", "channel", "id"])
    # A channel the bot cannot post in (channel_not_found, not_in_channel, is_archived): its alerts wait
    # there, its subscribers are told once, and it is tried again when the bot is invited (or hourly).
    db.table("broken_channels").create({"channel": str, "error": str, "since": str, "retry_at": str}, pk="channel")


@migrations(name="0009_missing_companies")
def missing_companies(db: Database) -> None:
    # When a listed company was first left out of a complete listing; it is closed as removed only after a
    # whole day of that (bot/practice/poller.py REMOVED_AFTER), and cleared when it is listed again.
    db.table("companies").add_column("missing_since", str)


@migrations(name="0010_alert_rules")
def alert_rules(db: Database) -> None:
    # A device alert is a group of Sync App alerts on one computer: its location (null for a storm's group).
    db.table("alert_groups").add_column("location", str)
    # Flapping: how often an incident came back within the flap window (ever, and the recent times as a JSON
    # list of ISO instants), and whether it is marked flapping now.
    db.table("incidents").add_column("reopens", int, not_null_default=0)
    db.table("incidents").add_column("flaps", str)
    db.table("incidents").add_column("flapping", int, not_null_default=0)
    db.table("incidents").create_index(["flapping"])
    # A channel's daily digest: local time HH:MM in the IANA zone of the person who set it.
    db.table("digests").create(
        {"channel": str, "at": str, "tz": str, "every_day": int, "created_by": str, "created_at": str},
        pk="channel",
        not_null={"at", "tz", "every_day", "created_at"},
    )


# The workspace that a database made before workspaces existed (and single-workspace mode, SLACK_BOT_TOKEN)
# keeps its data under: a fixed id, since such a bot never needed to know its team's.
SINGLE_WORKSPACE = "single"

# Every practice table and its key with the workspace in front (tables keyed by a global integer id keep it,
# and every read of them also says the workspace).
WORKSPACE_KEYS: dict[str, tuple[str, ...] | None] = {
    "account": ("workspace", "id"),
    "account_users": ("workspace", "email"),
    "companies": ("workspace", "id"),
    "poll_runs": None,
    "slack_users": ("workspace", "user_id"),
    "subscriptions": ("workspace", "channel", "company_id"),
    "conditions": ("workspace", "company_id", "condition"),
    "incidents": None,
    "alert_groups": None,
    "alert_messages": ("workspace", "channel", "incident_id"),
    "snoozes": ("workspace", "channel", "company_id"),
    "outbox": None,
    "settings_state": ("workspace", "name"),
    "reminders": None,
    "home_viewers": ("workspace", "user_id"),
    "deferred_alerts": ("workspace", "channel", "incident_id"),
    "presses": ("workspace", "key"),
    "broken_channels": ("workspace", "channel"),
    "digests": ("workspace", "channel"),
}

# Indexes with the workspace in front: (table, columns, unique).
WORKSPACE_INDEXES: list[tuple[str, list[str], bool]] = [
    ("companies", ["workspace", "name_key"], False),
    ("companies", ["workspace", "integration_status"], False),
    ("poll_runs", ["workspace", "ok", "id"], False),
    ("incidents", ["workspace", "company_id", "condition", "since"], False),
    ("incidents", ["workspace", "flapping"], False),
    ("incidents", ["workspace", "resolved_at"], False),
    ("alert_groups", ["workspace", "channel"], False),
    # The unique dedup key, per workspace: what makes a replayed poll unable to queue the same alert twice.
    ("outbox", ["workspace", "key"], True),
    ("outbox", ["state", "due_at"], False),
    ("outbox", ["workspace", "state", "channel", "id"], False),
    ("reminders", ["workspace", "requester_user_id", "company_id", "requested_at"], False),
    ("reminders", ["closed_at", "outcome"], False),
    ("home_viewers", ["workspace", "stale", "opened_at"], False),
    ("presses", ["until"], False),
]


@migrations(name="0011_workspaces")
def workspaces(db: Database) -> None:
    # The workspace (Slack team, or Enterprise Grid org for an org-wide install) is the unit of storage:
    # every practice table gains it, in every key and unique index; existing rows are the single workspace's.
    for table_name in WORKSPACE_KEYS:
        table = db.table(table_name)
        for index in table.indexes:
            if not index.name.startswith("sqlite_autoindex"):
                db.execute(f"drop index [{index.name}]")
    for table_name, pk in WORKSPACE_KEYS.items():
        table = db.table(table_name)
        table.add_column("workspace", str, not_null_default=SINGLE_WORKSPACE)
        # Rebuilt without the default, so a write that forgets its workspace fails instead of landing in one.
        table.transform(pk=pk or "id", defaults={"workspace": None}, not_null={"workspace"})
    for table_name, columns, unique in WORKSPACE_INDEXES:
        db.table(table_name).create_index(columns, unique=unique)


@migrations(name="0012_workspace_connections")
def workspace_connections(db: Database) -> None:
    # Each installed workspace and its AutoEntry connection (many workspaces, SPEC.md "Many practices").
    # `feed_token` is Fernet ciphertext (bot/secrets.py), never the token; `uninstalled_at` starts the 30 days
    # after which the workspace's data is deleted unless it is installed again.
    db.table("workspaces").create(
        {
            "workspace": str,
            "team_id": str,
            "enterprise_id": str,
            "is_enterprise_install": int,
            "installer_user_id": str,
            "installed_at": str,
            "status_source": str,
            "feed_token": str,
            "connected_by": str,
            "connected_at": str,
            "uninstalled_at": str,
        },
        pk="workspace",
        not_null={"is_enterprise_install"},
        defaults={"is_enterprise_install": 0},
    )
