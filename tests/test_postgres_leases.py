"""Several processes on one PostgreSQL database: an outbox row is sent by one process at a time, a channel's
rows in order, a dead process's row taken over when its lease ends (and looked for first); a workspace is
polled by one process an interval. Each store here stands for a process: its own connection and lease owner."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Iterator, cast

import psycopg
import pytest

from bot.alerting import outbox
from storage.postgres.database import PostgresDatabase
from storage.postgres.store import FOLLOW_POLLS_SECONDS, PostgresStore, open_store

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def processes(postgres_url: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    first, second = open_store(postgres_url), open_store(postgres_url)
    assert isinstance(first, PostgresStore) and isinstance(second, PostgresStore)
    first.owner, second.owner = "host:1:a", "host:2:b"
    yield first, second
    first.close()
    second.close()


def kill(process: PostgresStore) -> None:
    """The process dies: its connection drops, nothing of it runs again (a closed store would end its leases)."""
    cast(PostgresDatabase, process.db).conn.close()


def _expire_leases(url: str) -> None:
    """What waiting out every lease does (a minute for an outbox row), at once."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE outbox SET claimed_until = now() - interval '1 second' WHERE claimed_until IS NOT NULL")
        conn.execute("UPDATE workspace_polls SET lease_until = now() - interval '1 second' WHERE lease_until IS NOT NULL")


def test_a_channels_head_is_claimed_by_one_process_and_the_next_row_waits_for_it(
    processes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = processes
    a.enqueue(outbox.post("C_A", 1), NOW)
    a.enqueue(outbox.update("C_A", 1, "r2"), NOW)
    (head, _), (second, _) = a.channel_queue("C_A")
    assert a.claim_outbox_row(head) is not None
    assert b.claim_outbox_row(head) is None  # held by a
    assert b.claim_outbox_row(second) is None  # not the head: order holds across processes
    assert a.claim_outbox_row(head) is not None  # its owner may go on
    a.mark_sent(head.id, "1.1", NOW)
    claimed = b.claim_outbox_row(second)
    assert claimed is not None and claimed.key == second.key


def test_a_row_held_by_a_dead_process_is_taken_over_when_its_lease_ends_and_looked_for_first(
    processes: tuple[PostgresStore, PostgresStore], postgres_url: str
) -> None:
    a, b = processes
    a.enqueue(outbox.post("C_A", 1), NOW)
    ((head, _),) = a.channel_queue("C_A")
    assert a.claim_outbox_row(head) is not None
    a.mark_in_flight(head.id, NOW)  # then the process is killed, mid-call to Slack
    kill(a)
    assert b.claim_outbox_row(head) is None
    _expire_leases(postgres_url)
    taken = b.claim_outbox_row(head)
    assert taken is not None and taken.in_flight_at == NOW  # delivery looks in the channel before posting


def test_a_rescheduled_row_is_free_for_any_process_when_it_is_due(processes: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = processes
    a.enqueue(outbox.post("C_A", 1), NOW)
    ((head, _),) = a.channel_queue("C_A")
    assert a.claim_outbox_row(head) is not None
    a.reschedule(head.id, NOW, "ratelimited")
    assert b.claim_outbox_row(head) is not None


def test_a_workspace_is_polled_by_one_process_an_interval_and_taken_over_from_a_dead_one(
    processes: tuple[PostgresStore, PostgresStore], postgres_url: str
) -> None:
    a, b = processes
    a_ws, b_ws = a.for_workspace("T_ONE"), b.for_workspace("T_ONE")
    assert a_ws.claim_poll(10) == 0.0
    wait = b_ws.claim_poll(10)
    assert 1.0 <= wait <= 10.0  # a holds it: ask again when its lease ends
    a_ws.finish_poll(60)
    assert 50 < b_ws.claim_poll(10) <= 60  # polled just now: the next is due in an interval
    assert b.for_workspace("T_TWO").claim_poll(10) == 0.0  # each workspace on its own
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE workspace_polls SET next_poll_at = now() WHERE workspace = 'T_ONE'")
    assert b_ws.claim_poll(10) == 0.0
    kill(b)  # mid-poll: its lease runs out, then another process takes the workspace over
    c = open_store(postgres_url)
    try:
        assert c.for_workspace("T_ONE").claim_poll(10) > 0
        _expire_leases(postgres_url)
        assert c.for_workspace("T_ONE").claim_poll(10) == 0.0
    finally:
        c.close()


def test_a_process_that_stops_ends_its_leases_at_once(processes: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = processes
    a.enqueue(outbox.post("C_A", 1), NOW)
    ((head, _),) = a.channel_queue("C_A")
    assert a.claim_outbox_row(head) is not None
    assert a.for_workspace("T_ONE").claim_poll(10) == 0.0
    a.close()  # SIGTERM: what it was sending is sent; what it holds is free for the others
    assert b.claim_outbox_row(head) is not None
    assert b.for_workspace("T_ONE").claim_poll(10) == 0.0


def test_a_poll_by_another_process_is_seen_by_every_cache(processes: tuple[PostgresStore, PostgresStore]) -> None:
    from bot.practice.models import CompanyStatus, IntegrationStatus
    from storage.sqlite.db import PollRun, company_to_row

    a, b = processes
    assert b.company("c_1") is None and b.last_good_poll() is None
    version = b.companies_version
    status = CompanyStatus("c_1", "Acme Ltd", "Xero", IntegrationStatus.ERROR, None, None, 0, NOW)
    with a.atomic():
        a.save_companies([{**company_to_row(status), "status_since": "2026-11-30T09:00:00+00:00"}], [])
        a.record_poll(PollRun(NOW, NOW, True, 1, 1, 0, None))
    time.sleep(FOLLOW_POLLS_SECONDS)  # the longest another process's poll goes unseen
    assert b.companies_version != version  # the name index and cards are rebuilt from the database
    found = b.company("c_1")
    assert found is not None and found.status.name == "Acme Ltd"
