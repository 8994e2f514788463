"""The schema, as versioned migrations applied at start-up (sqlite-utils records what ran)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("integration-bot")


@migrations(name="0001_practice")
def practice(db: Database) -> None:
    db["account"].create(
        {"id": str, "name": str, "holder_name": str, "holder_email": str, "updated_at": str},
        pk="id",
    )
    db["account_users"].create(
        {"email": str, "name": str, "all_companies": int, "company_ids": str},
        pk="email",
    )
    db["companies"].create(
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
    db["companies"].create_index(["name_key"])
    db["companies"].create_index(["integration_status"])
    db["poll_runs"].create(
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
    db["slack_users"].create(
        {"user_id": str, "email": str, "name": str, "fetched_at": str},
        pk="user_id",
    )
