"""The test PostgreSQL answers, gives each test its own schema, and its advisory locks work across connections."""

from __future__ import annotations

import secrets

import pytest

from tests.postgres import running_in_ci, with_search_path

psycopg = pytest.importorskip("psycopg")


def test_select_one_in_a_fresh_schema(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        assert schema.startswith("test_")
        conn.execute("CREATE TABLE outbox (id bigint PRIMARY KEY)")
        tables = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox' AND table_schema = %s", (schema,)
        ).fetchall()
        assert tables == [(schema,)]


def test_an_advisory_lock_is_held_by_one_connection_until_it_closes(postgres_url: str) -> None:
    key = secrets.randbits(62)  # others may run the suite on the same server at the same time
    holder = psycopg.connect(postgres_url, autocommit=True)
    with psycopg.connect(postgres_url, autocommit=True) as other:
        assert holder.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone() == (True,)
        assert other.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone() == (False,)
        holder.close()  # a process that dies loses its session, and with it the lock
        # The server ends the session just after the socket closes: wait for the lock (advisory locks obey
        # lock_timeout), rather than try once.
        other.execute("SET lock_timeout = '30s'")
        other.execute("SELECT pg_advisory_lock(%s)", (key,))  # raises LockNotAvailable after the timeout
        held = other.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
        ).fetchone()
        assert held == (1,)


def test_search_path_is_added_to_the_url_keeping_other_parameters() -> None:
    url = with_search_path("postgresql://u:p@127.0.0.1:5432/db?sslmode=disable", "test_ab12")
    assert url == "postgresql://u:p@127.0.0.1:5432/db?sslmode=disable&options=-c%20search_path%3Dtest_ab12"


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("", False), ("false", False), ("0", False)])
def test_ci_is_recognised_from_the_environment(value: str, expected: bool) -> None:
    assert running_in_ci({"CI": value}) is expected
    assert running_in_ci({}) is False
