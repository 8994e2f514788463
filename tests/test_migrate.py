"""`integration-bot migrate`: the schema brought up to date on either database, and a SQLite deployment's
data copied into PostgreSQL with `--from-sqlite PATH` (refused into a database that holds rows)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.slack_api import FakeSlack
from tests.hosted import bot_token, hosted_bot
from tests.practice import HOLDER
from tests.test_cli import run


def test_migrate_brings_a_postgres_database_up_to_date_once_even_with_two_processes_at_once(
    tmp_path: Path, postgres_url: str
) -> None:
    both = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "migrate"],
            env={"PATH": "/usr/bin:/bin", "DATABASE_URL": postgres_url},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = sorted(process.communicate(timeout=60)[0].strip() for process in both)
    assert [process.returncode for process in both] == [0, 0]
    assert outputs == ["Applied 0001_schema, 0002_jobs_and_workspace_events.", "The PostgreSQL database is up to date."]


def test_migrate_without_database_url_migrates_the_sqlite_file(tmp_path: Path) -> None:
    result = run("migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "The SQLite database integration-bot.db is up to date."
    assert (tmp_path / "integration-bot.db").exists()


def test_a_sqlite_deployment_is_copied_into_postgres_and_read_from_there(tmp_path: Path, postgres_url: str) -> None:
    assert run("poll", cwd=tmp_path).returncode == 0  # the demo practice, kept in integration-bot.db
    copied = run("migrate", "--from-sqlite", "integration-bot.db", cwd=tmp_path, DATABASE_URL=postgres_url)
    assert copied.returncode == 0, copied.stderr
    assert "  companies: 13 / 13" in copied.stdout
    assert "  poll_runs: 1 / 1" in copied.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    status = run("status", "Acme Ltd", cwd=elsewhere, DATABASE_URL=postgres_url)
    assert status.returncode == 0, status.stderr
    assert "Token Required" in status.stdout and "RECEPTION-PC" in status.stdout
    assert not (tmp_path / "elsewhere" / "integration-bot.db").exists()
    again = run("migrate", "--from-sqlite", "integration-bot.db", cwd=tmp_path, DATABASE_URL=postgres_url)
    assert again.returncode == 2
    assert "this PostgreSQL database is not empty (table account holds rows)" in again.stderr


def test_a_file_name_with_uri_characters_is_copied_from_that_file_alone(tmp_path: Path, postgres_url: str) -> None:
    assert run("poll", cwd=tmp_path).returncode == 0  # the demo practice, kept in integration-bot.db
    (tmp_path / "integration-bot.db").rename(tmp_path / "a%41 #1?.db")
    (tmp_path / "aA.db").write_text("not this one")  # what "a%41" would name inside a URI
    copied = run("migrate", "--from-sqlite", "a%41 #1?.db", cwd=tmp_path, DATABASE_URL=postgres_url)
    assert copied.returncode == 0, copied.stderr
    assert "  companies: 13 / 13" in copied.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db" or p.name == "a") == ["a%41 #1?.db", "aA.db"]


def test_copying_needs_database_url_and_a_bot_database(tmp_path: Path, postgres_url: str) -> None:
    no_target = run("migrate", "--from-sqlite", "integration-bot.db", cwd=tmp_path)
    assert no_target.returncode == 2
    assert "--from-sqlite needs DATABASE_URL" in no_target.stderr
    missing = run("migrate", "--from-sqlite", "nothing.db", cwd=tmp_path, DATABASE_URL=postgres_url)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "integration-bot: --from-sqlite 'nothing.db': no such file"
    (tmp_path / "notes.db").write_text("not a database")
    garbage = run("migrate", "--from-sqlite", "notes.db", cwd=tmp_path, DATABASE_URL=postgres_url)
    assert garbage.returncode == 2 and "cannot be read" in garbage.stderr and "Traceback" not in garbage.stderr


def test_an_unreachable_or_wrong_database_url_is_one_clear_line(tmp_path: Path) -> None:
    wrong = run("migrate", cwd=tmp_path, DATABASE_URL="mysql://x@localhost/db")
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == "integration-bot: DATABASE_URL must be a postgresql:// URL (or unset, for SQLite)"
    down = run("migrate", cwd=tmp_path, DATABASE_URL="postgresql://nobody:x@127.0.0.1:1/none?connect_timeout=2")
    assert down.returncode == 2
    assert down.stderr.startswith("integration-bot: DATABASE_URL cannot be used:") and "Traceback" not in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1


async def test_a_many_workspace_sqlite_deployment_moves_to_postgres_without_installing_again(
    tmp_path: Path, slack: FakeSlack, postgres_url: str
) -> None:
    """Slack's installations, bots and OAuth states (slack_sdk's SQLite stores in the bot's file) are copied
    into its SQLAlchemy stores' tables: the workspace is answered on PostgreSQL with the token it had."""
    (tmp_path / "sqlite").mkdir()
    async with hosted_bot(tmp_path / "sqlite", slack) as before:
        await before.install("T_ONE", HOLDER[0], expires_in=43200)  # token rotation on: a refresh token and expiry
        await before.install("T_TWO", HOLDER[0])
        assert (await before.submit_connect("T_ONE", HOLDER[0], "demo", ""))[0] == 200
        await before.connected("T_ONE")
        await before.hosting.state_store.async_issue()  # an "Add to Slack" link in flight
    copied = run("migrate", "--from-sqlite", "bot.db", cwd=tmp_path / "sqlite", DATABASE_URL=postgres_url)
    assert copied.returncode == 0, copied.stderr
    for line in ("  workspaces: 2 / 2", "  slack_installations: 2 / 2", "  slack_bots: 2 / 2", "  slack_oauth_states: 1 / 1"):
        assert line in copied.stdout
    (tmp_path / "postgres").mkdir()
    async with hosted_bot(tmp_path / "postgres", slack, database_url=postgres_url) as after:
        services = await after.connected("T_ONE")  # polling again, with the token the install had
        assert services.client.token == bot_token("T_ONE")
        assert "Acme Ltd" in (await after.slash("T_ONE", "Acme Ltd", HOLDER[0]))["text"]
        assert "not connected to AutoEntry" in (await after.slash("T_TWO", "Acme Ltd", HOLDER[0]))["text"]
        found = await after.hosting.installation_store.async_find_installation(enterprise_id=None, team_id="T_ONE")
        assert found.bot_refresh_token == "xoxe-1-T_ONE" and found.bot_token_expires_at > time.time() + 40000
    again = run("migrate", "--from-sqlite", "bot.db", cwd=tmp_path / "sqlite", DATABASE_URL=postgres_url)
    assert again.returncode == 2 and "is not empty" in again.stderr
