"""The store's behaviour, the same on SQLite and on PostgreSQL: every test here runs on both backends.

The PostgreSQL half needs TEST_DATABASE_URL (tests/postgres.py): skipped without it on a developer's
machine, failed under CI.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from bot.alerting import outbox
from bot.alerting.transitions import Condition, ConditionState, Phase
from bot.practice.models import Account, AccountUser, CompanyStatus, IntegrationStatus, Person
from storage.open import open_store
from storage.sqlite.db import Store, company_to_row

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store of one workspace, on the backend named by the parameter."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    opened = open_store(str(tmp_path / "bot.db"), url)
    yield opened.for_workspace("T_ONE")
    opened.close()


def _row(company_id: str, name: str, status: IntegrationStatus = IntegrationStatus.ERROR) -> dict[str, object]:
    company = CompanyStatus(company_id, name, "Xero", status, None, None, 0, NOW)
    return {**company_to_row(company), "status_since": "2026-11-30T09:00:00+00:00", "first_seen_at": "2026-11-30T09:00:00+00:00"}


def test_companies_are_saved_read_changed_and_removed(store: Store) -> None:
    with store.atomic():
        store.save_companies([_row("c_1", "Acme Ltd"), _row("c_2", "Brook & Sons")], [])
    assert sorted(store.company_names()) == [("c_1", "Acme Ltd"), ("c_2", "Brook & Sons")]
    store.save_companies([], [_row("c_2", "Brook and Sons", IntegrationStatus.INTEGRATED)])
    changed = store.company("c_2")
    assert changed is not None and changed.status.name == "Brook and Sons"
    assert changed.status.integration_status is IntegrationStatus.INTEGRATED
    assert store.company_state_counts() == {("error", None): 1, ("integrated", None): 1}
    store.mark_missing(["c_1"], NOW)
    assert store.missing_companies() == {"c_1": NOW}
    assert store.mark_removed(["c_1"], NOW) == 1
    assert store.listed_company_ids() == ["c_2"]
    assert store.company("c_1") is None and store.company("c_1", include_removed=True) is not None
    assert store.company_count() == 1


def test_the_account_and_its_users_are_kept(store: Store) -> None:
    account = Account(
        "acc_1", "Smith & Co", Person("Ann", "ann@x.example"), (AccountUser("Ann", "ann@x.example", False, frozenset({"c_1"})),)
    )
    store.save_account(account, NOW)
    fresh = open_store_again(store)
    assert fresh.account() == account


def open_store_again(store: Store) -> Store:
    """A new handle of the same workspace on the same database, without the first's caches."""
    return Store(store.db, store.workspace)


def test_conditions_and_incidents_open_change_and_resolve(store: Store) -> None:
    incident = store.open_incident("c_1", Condition.ERROR, "Xero refused", "publication", NOW, NOW)
    store.save_condition("c_1", ConditionState(Condition.ERROR, Phase.OPEN, NOW, "Xero refused", incident))
    assert store.conditions_of(["c_1"])["c_1"][Condition.ERROR].incident_id == incident
    store.change_incident(incident, "Xero refused again", "publication", NOW + timedelta(minutes=5))
    assert [i.detail for i in store.open_incidents()] == ["Xero refused again"]
    store.resolve_incident(incident, NOW + timedelta(minutes=10))
    store.drop_condition("c_1", Condition.ERROR)
    assert store.open_incidents() == [] and store.conditions_of(["c_1"]) == {}
    latest = store.latest_incident("c_1", Condition.ERROR)
    assert latest is not None and latest.resolved_at == NOW + timedelta(minutes=10)
    second = store.open_incident("c_2", Condition.ERROR, "other", None, NOW, NOW)
    assert second > incident and set(store.incidents([incident, second])) == {incident, second}


def test_a_device_alert_is_found_while_a_company_on_it_is_offline(store: Store) -> None:
    incident = store.open_incident("c_1", Condition.SYNC_OFFLINE, "off", None, NOW, NOW)
    group = store.create_group("C_OPS", NOW, "DESKTOP-1")
    store.add_alert_message("C_OPS", incident, group)
    store.add_alert_message("C_OPS", incident, group)  # a second add changes nothing
    assert list(store.device_alerts("C_OPS", NOW).values()) == [group]
    assert store.group_incident_ids(group) == [incident]
    store.resolve_incident(incident, NOW)
    assert store.device_alerts("C_OPS", NOW + timedelta(minutes=1)) == {}


def test_the_outbox_queues_a_dedup_key_once_and_keeps_channel_order(store: Store) -> None:
    assert store.enqueue(outbox.post("C_A", 1), NOW)
    assert not store.enqueue(outbox.post("C_A", 1), NOW)  # a replay queues nothing twice
    assert store.enqueue(outbox.update("C_A", 1, "r2"), NOW)
    assert store.enqueue(outbox.post("C_B", 2), NOW + timedelta(seconds=1))
    assert [item.key for item, _ in store.channel_queue("C_A")] == ["post:C_A:1", outbox.update("C_A", 1, "r2").key]
    assert store.due_channels(NOW + timedelta(seconds=1)) == ["C_A", "C_B"]
    head = store.channel_queue("C_A")[0][0]
    store.mark_in_flight(head.id, NOW)
    store.reschedule(head.id, NOW + timedelta(minutes=1), "ratelimited", keep_in_flight=True)
    again = store.channel_queue("C_A")[0][0]
    assert again.in_flight_at == NOW and again.attempts == 1
    store.reschedule(head.id, NOW, "ratelimited")
    assert store.channel_queue("C_A")[0][0].in_flight_at is None
    store.mark_sent(head.id, "111.222", NOW)
    assert store.outbox_row("post:C_A:1") == ("sent", "111.222")
    assert store.pending_outbox_count() == 2
    assert store.prune_outbox(NOW + timedelta(days=1)) == 1  # incident 1 is not open: its sent row goes
    assert store.outbox_row("post:C_A:1") is None


def test_a_broken_channel_holds_its_rows_until_it_works(store: Store) -> None:
    store.enqueue(outbox.post("C_A", 1), NOW)
    assert store.mark_channel_broken("C_A", "not_in_channel", NOW, NOW + timedelta(hours=1))
    assert not store.mark_channel_broken("C_A", "not_in_channel", NOW, NOW + timedelta(hours=2))
    assert store.due_channels(NOW) == [] and store.deliverable_count() == 0
    assert store.broken_channels() == {"C_A": "not_in_channel"}
    assert store.mark_channel_working("C_A")
    assert store.due_channels(NOW) == ["C_A"]


def test_subscriptions_and_snoozes(store: Store) -> None:
    assert store.subscribe("C_A", None, "U_1", NOW)
    assert store.subscribe("C_B", "c_1", "U_1", NOW)
    assert store.subscription_map() == ({"C_A"}, {"c_1": {"C_B"}})
    store.lapse_subscription("C_B", "c_1", NOW)
    assert [s.channel for s in store.lapsed_untold_subscriptions()] == ["C_B"]
    assert store.unsubscribe("C_A", None) and not store.unsubscribe("C_A", None)
    store.snooze("C_A", "c_1", NOW + timedelta(hours=1), "U_1", NOW)
    store.snooze("C_A", "c_1", NOW + timedelta(hours=2), "U_1", NOW)  # a second snooze moves the first
    assert store.active_snoozes(NOW) == {("C_A", "c_1"): NOW + timedelta(hours=2)}
    assert store.active_snoozes(NOW + timedelta(hours=3)) == {}
    store.defer_alert("C_A", 7, NOW + timedelta(minutes=5))
    assert store.take_due_deferred_alerts(NOW) == []
    assert store.take_due_deferred_alerts(NOW + timedelta(minutes=5)) == [("C_A", 7)]


def test_a_press_is_claimed_once(store: Store) -> None:
    first = store.claim_press("ack:1", "U_1", NOW, None)
    assert first is not None
    assert store.claim_press("ack:1", "U_2", NOW, None) is None
    timed = store.claim_press("snooze:1", "U_1", NOW, NOW + timedelta(seconds=30))
    assert timed is not None
    assert store.claim_press("snooze:1", "U_2", NOW + timedelta(seconds=31), NOW + timedelta(seconds=60)) not in (None, timed)


def test_reminders_are_added_and_followed(store: Store) -> None:
    holder = Person("Ann", "ann@x.example")
    first = store.add_reminder(
        company_id="c_1",
        company_name="Acme",
        requester_user_id="U_2",
        requester=Person("Bob", "bob@x.example"),
        holder=holder,
        now=NOW,
    )
    store.reminder_sent(first, "U_1", "D_1", "1.2", NOW)
    found = store.reminder(first)
    assert found is not None and found.dm_ts == "1.2" and found.holder_user_id == "U_1"
    assert [r.id for r in store.recent_reminders("U_2", "c_1", NOW - timedelta(hours=1))] == [first]


def test_home_viewers_are_refreshed_when_stale(store: Store) -> None:
    store.home_opened("U_1", NOW)
    store.home_published("U_1", "all", 0, NOW)
    assert store.mark_home_stale(NOW - timedelta(days=1)) == 1
    assert [v.user_id for v in store.home_viewers_to_refresh(NOW - timedelta(days=1), NOW, 10)] == ["U_1"]
    assert store.forget_home_viewers(NOW + timedelta(days=1)) == 1


def test_digests_and_named_state(store: Store) -> None:
    from bot.alerting.digest import DigestSchedule

    schedule = DigestSchedule("C_A", datetime(2026, 1, 1, 9, 0).time(), "Europe/London", True, "U_1", NOW)
    store.set_digest(schedule)
    store.set_digest(schedule)
    assert store.digests() == [schedule]
    store.set_state("feed", "down")
    store.set_state("feed", "up")
    assert store.get_state("feed") == "up"
    store.set_state("feed", None)
    assert store.get_state("feed") is None


def test_two_workspaces_on_one_database_share_nothing(store: Store) -> None:
    other = store.for_workspace("T_TWO")
    store.save_companies([_row("c_1", "Acme Ltd")], [])
    incident = store.open_incident("c_1", Condition.ERROR, "x", None, NOW, NOW)
    store.enqueue(outbox.post("C_A", incident), NOW)
    assert other.enqueue(outbox.post("C_A", incident), NOW)  # the dedup key is unique per workspace
    assert other.company_names() == [] and other.incident(incident) is None
    assert other.claim_press("ack:1", "U_1", NOW, None) is not None
    assert store.claim_press("ack:1", "U_1", NOW, None) is not None
    store.purge_workspace("T_TWO")
    assert other.pending_outbox_count() == 0 and store.pending_outbox_count() == 1


def test_one_process_alone_claims_every_head_row_and_poll(store: Store) -> None:
    store.enqueue(outbox.post("C_A", 1), NOW)
    ((head, _),) = store.channel_queue("C_A")
    claimed = store.claim_outbox_row(head)
    assert claimed is not None and claimed.key == head.key
    assert store.claim_poll(10) == 0.0
    store.finish_poll(0)


def test_a_polls_agenda_is_one_read_of_what_is_due(store: Store) -> None:
    empty = store.poll_agenda(NOW, "feed_outage_since", "alert_baseline_at")
    assert (empty.pending, empty.flapping, empty.expired_snoozes, empty.due_deferred, empty.states) == (
        frozenset(),
        False,
        False,
        False,
        {},
    )
    store.save_conditions(
        [
            ("c_1", ConditionState(Condition.SYNC_OFFLINE, Phase.PENDING, NOW, "PC-1", None)),
            ("c_2", ConditionState(Condition.ERROR, Phase.QUIET, NOW, "Token Required", None)),
        ]
    )
    incident = store.open_incident("c_3", Condition.ERROR, "Duplicate", "publication", NOW, NOW)
    store.defer_alert("C_ONE", incident, NOW - timedelta(minutes=1))
    store.snooze("C_ONE", "c_3", NOW - timedelta(minutes=1), "U1", NOW - timedelta(hours=1))
    store.set_state("alert_baseline_at", "2026-11-30T08:00:00+00:00")
    agenda = store.poll_agenda(NOW, "feed_outage_since", "alert_baseline_at")
    assert agenda.pending == {"c_1"} and agenda.expired_snoozes and agenda.due_deferred and not agenda.flapping
    assert agenda.states == {"alert_baseline_at": "2026-11-30T08:00:00+00:00"}
    assert store.poll_agenda(NOW - timedelta(hours=2)).due_deferred is False


def test_a_polls_agenda_says_whether_the_after_poll_steps_have_subscriptions_or_reminders_to_read(store: Store) -> None:
    def flags() -> tuple[bool, bool, bool]:
        agenda = store.poll_agenda(NOW)
        return agenda.active_subscriptions, agenda.watched_subscriptions, agenda.open_reminders

    other = store.for_workspace("T_TWO")
    other.subscribe("C_OTHER", None, "U1", NOW)  # another workspace's say nothing here
    assert flags() == (False, False, False)
    store.subscribe("C_ONE", "c_1", "U1", NOW)
    assert flags() == (True, True, False)
    store.lapse_subscription("C_ONE", "c_1", NOW)  # lapsed, its channel not told yet
    assert flags() == (False, True, False)
    store.subscription_lapse_told("C_ONE", "c_1", NOW)
    assert flags() == (False, False, False)
    person = Person("Jane Smith", "jane@smithco.example")
    reminder = store.add_reminder(
        company_id="c_1", company_name="One", requester_user_id="U2", requester=person, holder=person, now=NOW
    )
    assert flags() == (False, False, False)  # pending: not delivered yet
    store.reminder_sent(reminder, "U1", "D1", "1.2", NOW)
    assert flags() == (False, False, True)
    store.reminders_confirmed([reminder], NOW)
    assert flags() == (False, False, False)


def test_every_workspaces_waiting_alerts_are_read_at_once(store: Store) -> None:
    other = store.for_workspace("T_TWO")
    store.enqueue(outbox.post("C_ONE", 1), NOW)
    store.enqueue(outbox.post("C_BROKEN", 2), NOW - timedelta(hours=1))
    store.mark_channel_broken("C_BROKEN", "not_in_channel", NOW, NOW + timedelta(hours=1))
    other.enqueue(outbox.post("C_ONE", 3), NOW - timedelta(minutes=5))
    assert store.pending_by_workspace() == {"T_ONE": (2, NOW), "T_TWO": (1, NOW - timedelta(minutes=5))}
