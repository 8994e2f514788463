"""The terminal: `status`, `article` and `poll` on the built-in demo feed, with nothing else set up."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_prints_the_card_as_the_account_holder_sees_it(tmp_path: Path) -> None:
    result = run("status", "Acme Ltd", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "Acme Ltd",
        "Home page status: Error",
        "Sage 50",
        "Token Required",
        "RECEPTION-PC",
        "Restart the Desktop Sync App on RECEPTION-PC",
        "https://help.autoentry.com/",
    ):
        assert expected in out, expected
    assert (tmp_path / "integration-bot.db").exists()


def test_status_of_an_unknown_company_suggests_names(tmp_path: Path) -> None:
    result = run("status", "Acme", "Holdngs", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("Acme Holdings Ltd")
    result = run("status", "Nothing Like It", cwd=tmp_path)
    assert result.returncode == 1
    assert "No company called 'Nothing Like It'" in result.stdout


def test_article_prints_the_articles_for_a_question_best_first_with_why(tmp_path: Path) -> None:
    result = run("article", "unlink", "xero", "from", "autoentry", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1. How to disconnect your integration"
    assert lines[1] == "   https://help.autoentry.com/en/articles/4799340-how-to-disconnect-your-integration"
    assert lines[2].startswith("   Why: your words “unlink” (disconnect)")


def test_article_refuses_a_text_longer_than_slack_takes(tmp_path: Path) -> None:
    result = run("article", "x" * 501, cwd=tmp_path)
    assert result.returncode == 2
    # Counted as Slack counts the command's text, `article ` included.
    assert "That is 509 characters long; ask with at most 500." in result.stderr and result.stdout == ""


def test_article_answers_and_refuses_the_texts_slack_does(tmp_path: Path) -> None:
    # Spaces around the text are not counted, as in Slack: 492 letters and `article ` make 500.
    padded = run("article", "  " + "x" * 492 + "  ", cwd=tmp_path)
    assert padded.returncode == 1 and padded.stderr == ""
    over = run("article", "x" * 493, cwd=tmp_path)
    assert over.returncode == 2 and "That is 501 characters long" in over.stderr
    empty = run("article", "  ", cwd=tmp_path)
    assert empty.returncode == 2 and empty.stdout == ""
    assert "Give the exact error message, or your question, after `article`." in empty.stderr
    # A text Slack would escape reads the same: "&lt;" typed stays "&lt;", not "<".
    escaped = run("article", "&lt;b&gt;", cwd=tmp_path)
    assert escaped.returncode == 1 and "q=%26lt%3Bb%26gt%3B" in escaped.stdout


def test_article_text_beginning_with_a_dash_is_the_question_not_an_option(tmp_path: Path) -> None:
    result = run("article", "--- Token Required ---", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1. ")
    assert run("article", "-x", cwd=tmp_path).returncode == 1  # a search, as Slack answers it
    assert "usage:" in run("article", "--help", cwd=tmp_path).stdout


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path: Path) -> None:
    # As `integration-bot article ... | head -1`: the pipe is closed before the answer is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "article", "unlink", "xero", "from", "autoentry"],
            env={"PATH": "/usr/bin:/bin"},
            cwd=tmp_path,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert result.returncode == 1


def test_article_for_an_office_text_prints_the_general_article_and_the_search_link(tmp_path: Path) -> None:
    result = run("article", "what time is the team lunch on friday", cwd=tmp_path)
    assert result.returncode == 1
    assert "Search the Help Centre: https://help.autoentry.com/en/?q=what+time+is+the+team+lunch" in result.stdout


def test_poll_prints_what_changed(tmp_path: Path) -> None:
    first = run("poll", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Polled the built-in demo practice: 13 companies, 13 changed." in first.stdout
    assert "Acme Ltd: new, Error" in first.stdout
    again = run("poll", cwd=tmp_path)
    assert "13 companies, 0 changed." in again.stdout


def test_a_missing_feed_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = run("poll", cwd=tmp_path, STATUS_SOURCE="file:missing.json")
    assert result.returncode == 2
    assert result.stderr.strip() == "integration-bot: STATUS_SOURCE: no such file 'missing.json'"
    assert not (tmp_path / "integration-bot.db").exists()


def test_status_with_the_feed_unreachable_and_nothing_known_says_the_feed_could_not_be_read(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    result = run("status", "acme", cwd=tmp_path, STATUS_SOURCE="http://127.0.0.1:9")
    assert result.returncode == 1
    assert result.stdout.startswith("The status feed could not be read: ")
    assert "No companies are known yet." in result.stdout and "No company called" not in result.stdout


def test_version(tmp_path: Path) -> None:
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"integration-bot {version('integration-bot')}"


def test_help(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "status", "poll"):
        assert command in result.stdout


def test_reencrypt_tokens_moves_every_feed_token_to_the_new_key(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from cryptography.fernet import Fernet

    from bot.secrets import TokenCipher
    from storage.sqlite.db import Store

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    now = datetime(2026, 11, 30, tzinfo=timezone.utc)
    store = Store.open(str(tmp_path / "integration-bot.db"))
    for workspace in ("T1", "T2"):
        store.record_install(
            workspace, team_id=workspace, enterprise_id=None, is_enterprise_install=False, installer_user_id="U1", now=None
        )  # type: ignore[arg-type]
        store.connect_workspace(workspace, "https://feed.example", TokenCipher(old).encrypt(f"token-{workspace}"), "U1", now)
    store.close()
    hosted = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "INTEGRATION_BOT_SECRET_KEY": f"{new},{old}"}

    result = run("reencrypt-tokens", cwd=tmp_path, **hosted)
    assert result.returncode == 0, result.stderr
    assert "2 feed tokens now encrypted under the first key" in result.stdout
    store = Store.open(str(tmp_path / "integration-bot.db"))
    assert TokenCipher(new).decrypt(store.workspace_record("T1").feed_token or "") == "token-T1"  # type: ignore[union-attr]
    store.close()

    result = run("reencrypt-tokens", cwd=tmp_path)
    assert result.returncode == 2 and "needs SLACK_CLIENT_ID" in result.stderr


def test_migrate_brings_the_schema_up_to_date_and_can_run_again(tmp_path: Path) -> None:
    for _ in range(2):
        result = run("migrate", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "The SQLite database integration-bot.db is up to date."
    assert (tmp_path / "integration-bot.db").exists()
