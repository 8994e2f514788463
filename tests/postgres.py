"""PostgreSQL for tests: a `postgres_url` fixture with a fresh schema per test, and a skip summary.

The server comes from `TEST_DATABASE_URL` (`postgresql://user:password@host:port/db`); `.ci/run` starts
the machine's PostgreSQL 15 and sets it. When it is unset or unreachable a test that needs it is skipped
on a developer's machine and fails under CI (`CI` set, as CI services do), so CI never passes by skipping.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest

UNREACHABLE = "PostgreSQL not reachable (set TEST_DATABASE_URL; .ci/run starts one)"
CONNECT_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class Server:
    """The outcome of one look for the test server: `url` when it answered, else `why` it did not."""

    url: str | None
    why: str = ""


def running_in_ci(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """True when `CI` is set to anything but empty, `0` or `false` (GitHub, GitLab and others set `CI=true`)."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def with_search_path(url: str, schema: str) -> str:
    """`url` with libpq's `options=-c search_path=<schema>` added, so every connection made from it uses `schema`.

    Query parameters of a `postgresql://` URL are libpq connection parameters (PostgreSQL docs, "Connection
    URIs"); any `options` already there is kept and extended.
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"{query.get('options', '')} -c search_path={schema}".strip()
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))  # libpq reads no "+" as a space


def _look_for_server() -> Server:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        return Server(None, "TEST_DATABASE_URL is not set")
    try:
        import psycopg
    except ImportError:
        return Server(None, 'psycopg is not installed (pip install -e ".[test]")')
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except (psycopg.Error, ValueError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return Server(None, f"cannot connect with TEST_DATABASE_URL: {first_line}")
    return Server(url)


_SKIPPED_KEY = pytest.StashKey[list[str]]()
_SERVER_KEY = pytest.StashKey[Server]()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A `postgresql://` URL whose connections use a fresh schema `test_<random>`, dropped after the test.

    Skips (or, under CI, fails) with `UNREACHABLE` when the server is not configured or does not answer.
    The server is looked for once per run; each look waits at most `CONNECT_TIMEOUT_SECONDS`.
    """
    config = request.config
    if _SERVER_KEY not in config.stash:
        config.stash[_SERVER_KEY] = _look_for_server()
    server = config.stash[_SERVER_KEY]
    if server.url is None:
        if running_in_ci():
            pytest.fail(f"{UNREACHABLE}: {server.why}", pytrace=False)
        config.stash.setdefault(_SKIPPED_KEY, []).append(server.why)
        pytest.skip(UNREACHABLE)

    import psycopg
    from psycopg import sql

    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield with_search_path(server.url, schema)
        finally:
            admin.execute("SET lock_timeout = '10s'")
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """Says how many tests were skipped for want of PostgreSQL, and why, so it is not missed in `-q` output."""
    reasons = config.stash.get(_SKIPPED_KEY, [])
    if not reasons:
        return
    terminalreporter.write_sep("-", "PostgreSQL", yellow=True)
    terminalreporter.write_line(
        f"{len(reasons)} test{'s' if len(reasons) != 1 else ''} skipped: {UNREACHABLE}: {reasons[0]}.", yellow=True
    )
