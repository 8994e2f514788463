"""The workspace as the unit of storage: two handles on one database never see each other's rows, and a
database made before workspaces keeps its data as the single workspace's."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlite_utils import Database

from bot.alerting import outbox
from bot.alerting.transitions import Condition
from bot.practice.models import Account, AccountUser, CompanyStatus, IntegrationStatus, Person
from storage.sqlite.db import Store, company_to_row
from storage.sqlite.migrations import SINGLE_WORKSPACE, migrations

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def _company(company_id: str, name: str) -> dict[str, object]:
    status = CompanyStatus(company_id, name, "Xero", IntegrationStatus.ERROR, None, None, 0, NOW)
    return {**company_to_row(status), "status_since": "2026-11-30T09:00:00+00:00", "first_seen_at": "2026-11-30T09:00:00+00:00"}


def _fill(store: Store, holder: str, name: str) -> int:
    account = Account(
        "acc_1",
        f"{name} Accountants",
        Person(holder, f"{holder}@x.example"),
        (AccountUser(holder, f"{holder}@x.example", True, frozenset()),),
    )
    store.save_account(account, NOW)
    store.save_companies([_company("c_1", name)], [])
    store.subscribe("C_SHARED", "c_1", "U_1", NOW)
    store.snooze("C_SHARED", "c_1", NOW + timedelta(hours=1), "U_1", NOW)
    incident = store.open_incident("c_1", Condition.ERROR, name, "publication", NOW, NOW)
    store.add_alert_message("C_SHARED", incident, None)
    assert store.enqueue(outbox.post("C_SHARED", incident), NOW)
    assert store.claim_press(f"ack:{incident}", "U_1", NOW, None) is not None
    store.set_state("feed", name)
    store.remember_slack_user("U_1", f"{holder}@x.example", holder, NOW)
    store.home_opened("U_1", NOW)
    return incident


def test_two_workspaces_on_one_database_share_nothing() -> None:
    first = Store.open(":memory:").for_workspace("T_ONE")
    second = first.for_workspace("T_TWO")
    assert first.for_workspace("T_TWO") is second  # one handle per workspace, so its caches hold
    one = _fill(first, "ann", "Acme Ltd")
    two = _fill(second, "bob", "Acme Limited")  # the same company id, channel, user and dedup keys

    assert first.company("c_1").status.name == "Acme Ltd"  # type: ignore[union-attr]
    assert second.company("c_1").status.name == "Acme Limited"  # type: ignore[union-attr]
    assert first.account().holder.name == "ann"  # type: ignore[union-attr]
    assert second.account().holder.name == "bob"  # type: ignore[union-attr]
    assert first.get_state("feed") == "Acme Ltd" and second.get_state("feed") == "Acme Limited"
    assert [item.incident_id for item, _ in first.pending_outbox()] == [one]
    assert [item.incident_id for item, _ in second.pending_outbox()] == [two]
    # A global id from another workspace reaches nothing.
    assert first.incident(two) is None and second.incident(one) is None
    first.ack_alert("C_SHARED", two, "U_1", NOW)
    assert second.alert_message("C_SHARED", two).acked_by is None  # type: ignore[union-attr]
    first.resolve_incident(two, NOW)
    assert second.incident(two).resolved_at is None  # type: ignore[union-attr]
    # Removing a subscription in one leaves the other's.
    assert first.unsubscribe("C_SHARED", "c_1")
    assert [s.company_id for s in second.channel_subscriptions("C_SHARED")] == ["c_1"]
    assert first.slack_user_email("U_1", NOW, timedelta(days=1)) == (True, "ann@x.example")


def test_a_database_from_before_workspaces_keeps_its_data(tmp_path) -> None:
    path = str(tmp_path / "old.db")
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="0011_workspaces")
    db.table("companies").insert(_company("c_1", "Acme Ltd") | {"name_key": "acme"})
    db.table("outbox").insert({"key": "post:C1:1", "channel": "C1", "kind": "post", "state": "pending", "attempts": 0})
    db.table("subscriptions").insert({"channel": "C1", "company_id": "*", "created_by": "U1", "created_at": "x"})
    db.close()

    store = Store.open(path)
    assert store.workspace == SINGLE_WORKSPACE
    assert store.company("c_1").status.name == "Acme Ltd"  # type: ignore[union-attr]
    assert store.pending_outbox_count() == 1
    assert store.subscription_map() == ({"C1"}, {})
    assert store.for_workspace("T_OTHER").company("c_1") is None
    # A write that forgets its workspace fails rather than landing in one.
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("insert into outbox (key, channel, kind, state, attempts) values ('k', 'C', 'post', 'pending', 0)")
