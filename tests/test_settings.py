"""Settings: SPEC.md's names and defaults; a bad value stops start-up with one line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_are_the_specs() -> None:
    settings = load_settings({}, dotenv=None)
    assert settings.status_source == "demo"
    assert settings.db_path == "integration-bot.db"
    assert settings.api_base_url == "https://slack.com/api/"
    assert (settings.poll_interval_seconds, settings.offline_grace_seconds, settings.port) == (300, 600, 3000)
    assert settings.alert_channel is None and not settings.socket_mode


def test_every_setting_is_read() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_APP_TOKEN": "xapp-1",
            "SLACK_API_BASE_URL": "http://127.0.0.1:9/api",
            "INTEGRATION_BOT_DB": "/tmp/x.db",
            "STATUS_SOURCE": "https://status.example/v1/",
            "STATUS_API_TOKEN": "t",
            "POLL_INTERVAL_SECONDS": "30",
            "OFFLINE_GRACE_SECONDS": "0",
            "ALERT_CHANNEL": "C0123ABC",
            "PORT": "8080",
        },
        dotenv=None,
    )
    assert settings.socket_mode and settings.api_base_url == "http://127.0.0.1:9/api/"
    assert settings.status_source == "https://status.example/v1"
    assert (settings.poll_interval_seconds, settings.offline_grace_seconds, settings.port) == (30, 0, 8080)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("POLL_INTERVAL_SECONDS", "five", "POLL_INTERVAL_SECONDS must be a whole number"),
        ("POLL_INTERVAL_SECONDS", "0", "POLL_INTERVAL_SECONDS must be between"),
        ("OFFLINE_GRACE_SECONDS", "-5", "OFFLINE_GRACE_SECONDS must be between"),
        ("STATUS_SOURCE", "ftp://x", "STATUS_SOURCE must be"),
        ("STATUS_SOURCE", "file:", "STATUS_SOURCE file: needs a path"),
        ("SLACK_BOT_TOKEN", "xoxp-user", "SLACK_BOT_TOKEN must start with 'xoxb-'"),
        ("SLACK_APP_TOKEN", "xoxb-1", "SLACK_APP_TOKEN must start with 'xapp-'"),
        ("SLACK_API_BASE_URL", "slack.com/api", "SLACK_API_BASE_URL must be an http(s) URL"),
        ("ALERT_CHANNEL", "#alerts", "ALERT_CHANNEL must be a channel id"),
        ("HELP_CENTRE_ARTICLES", "/no/such/file.json", "HELP_CENTRE_ARTICLES"),
        ("PORT", "http", "PORT must be a port number"),
        ("STATUS_SOURCE", "file:/missing/feed.json", "STATUS_SOURCE: no such file '/missing/feed.json'"),
        ("INTEGRATION_BOT_DB", "/no/such/folder/bot.db", "INTEGRATION_BOT_DB: the folder '/no/such/folder' does not exist"),
        ("INTEGRATION_BOT_DB", "/tmp", "INTEGRATION_BOT_DB is a directory"),
        # A path the system cannot look up (a name over 255 bytes) is one line naming the setting, not a traceback.
        ("INTEGRATION_BOT_DB", "/" + "a" * 300, "INTEGRATION_BOT_DB: cannot look up '/aaaa"),
        ("INTEGRATION_BOT_DB", "/" + "a" * 300 + "/bot.db", "INTEGRATION_BOT_DB: cannot look up '/aaaa"),
        ("STATUS_SOURCE", "file:/" + "a" * 300, "STATUS_SOURCE: cannot look up '/aaaa"),
        ("HELP_CENTRE_ARTICLES", "/" + "a" * 300, "HELP_CENTRE_ARTICLES: cannot look up '/aaaa"),
        ("HELP_CENTRE_ARTICLES", "/tmp", "HELP_CENTRE_ARTICLES: '/tmp' is a folder, not a file"),
        ("STATUS_SOURCE", "file:/tmp", "STATUS_SOURCE: '/tmp' is a folder, not a file"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be DEBUG, INFO"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be text or json"),
    ],
)
def test_a_malformed_value_names_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings({name: value}, dotenv=None)


def test_serving_needs_slack_credentials() -> None:
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN is required"):
        load_settings({}, dotenv=None).require_slack()
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET is required"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, dotenv=None).require_slack()
    load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, dotenv=None).require_slack()


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / "feed.json").write_text("{}")
    env_file = tmp_path / ".env"
    # A byte-order mark (Windows editors write one), `export`, quotes with a comment after them.
    env_file.write_bytes(
        (
            "\ufeffPOLL_INTERVAL_SECONDS=45\n# comment\n"
            f'export STATUS_SOURCE="file:{tmp_path / "feed.json"}" # the test feed\n'
            "PORT=4000 # note\nLOG_FORMAT='json'\n"
        ).encode()
    )
    settings = load_settings({"PORT": "5000"}, dotenv=env_file)
    assert (settings.poll_interval_seconds, settings.port, settings.log_format) == (45, 5000, "json")
    assert settings.status_source == f"file:{tmp_path / 'feed.json'}"


def test_a_dotenv_that_is_a_folder_is_named_not_ignored(tmp_path: Path) -> None:
    folder = tmp_path / ".env"
    folder.mkdir()
    with pytest.raises(SettingsError, match="is a folder, not a file of settings"):
        load_settings({}, dotenv=folder)


def test_a_malformed_dotenv_line_is_named(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GOOD=1\nthis is not a setting\n")
    with pytest.raises(SettingsError, match="line 2"):
        load_settings({}, dotenv=env_file)


def test_start_up_with_a_bad_setting_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "poll"],
        env={"POLL_INTERVAL_SECONDS": "soon", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "integration-bot: POLL_INTERVAL_SECONDS must be a whole number of seconds, got 'soon'"
    assert "Traceback" not in result.stderr


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("missing/bot.db", "integration-bot: INTEGRATION_BOT_DB: the folder 'missing' does not exist"),
        (".", "integration-bot: INTEGRATION_BOT_DB is a directory, not a database file: '.'"),
        ("notes.txt", "integration-bot: INTEGRATION_BOT_DB 'notes.txt' cannot be used: the file is not a SQLite database"),
    ],
)
def test_an_unusable_database_is_one_line(tmp_path: Path, setting: str, expected: str) -> None:
    (tmp_path / "notes.txt").write_text("these are not the tables you are looking for\n" * 200)
    result = run_cli("status", "acme", cwd=tmp_path, INTEGRATION_BOT_DB=setting)
    assert result.returncode == 2
    assert result.stderr.strip() == expected and result.stdout == ""


def test_a_read_only_database_is_one_line(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root may write to a read-only file")
    run_cli("poll", cwd=tmp_path)
    (tmp_path / "integration-bot.db").chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        result = run_cli("poll", cwd=tmp_path)
    finally:
        tmp_path.chmod(0o755)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "read-only" in result.stderr


def test_a_missing_feed_file_is_refused_at_start(tmp_path: Path) -> None:
    result = run_cli("serve", cwd=tmp_path, STATUS_SOURCE="file:/missing", SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1")
    assert result.returncode == 2
    assert result.stderr.strip() == "integration-bot: STATUS_SOURCE: no such file '/missing'"


KEY = "Qf0TWlVbA4rF2hYkRJ2zV4cP5l6v9m3t0WqS8aXyZkE="  # a Fernet key: 32 url-safe base64 bytes


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "s",
                "INTEGRATION_BOT_SECRET_KEY": KEY,
            },
            "Set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (many workspaces), not both",
        ),
        ({"SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_SECRET is required with SLACK_CLIENT_ID (many workspaces)"),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"}, "INTEGRATION_BOT_SECRET_KEY is required with many workspaces"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "INTEGRATION_BOT_SECRET_KEY": f"{KEY},short"},
            "INTEGRATION_BOT_SECRET_KEY key 2 is not a Fernet key",
        ),
    ],
)
def test_many_workspaces_settings_are_checked(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(environ, dotenv=None)


def test_many_workspaces_need_no_bot_token() -> None:
    settings = load_settings(
        {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "INTEGRATION_BOT_SECRET_KEY": KEY, "SLACK_SIGNING_SECRET": "x"},
        dotenv=None,
    )
    assert settings.many_workspaces and settings.bot_token is None
    settings.require_slack()


def test_many_workspaces_in_socket_mode_need_the_app_token_and_no_signing_secret() -> None:
    base = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "INTEGRATION_BOT_SECRET_KEY": KEY}
    settings = load_settings({**base, "SLACK_APP_TOKEN": "xapp-1"}, dotenv=None)
    assert settings.many_workspaces and settings.socket_mode
    settings.require_slack()
    with pytest.raises(SettingsError, match=r"SLACK_SIGNING_SECRET is required .* \(or set SLACK_APP_TOKEN for Socket Mode\)"):
        load_settings(base, dotenv=None).require_slack()


def test_private_feed_addresses_are_allowed_only_when_the_operator_says_so() -> None:
    assert load_settings({}, dotenv=None).feed_allow_private_addresses is False
    assert load_settings({"FEED_ALLOW_PRIVATE_ADDRESSES": "true"}, dotenv=None).feed_allow_private_addresses is True
    with pytest.raises(SettingsError, match="FEED_ALLOW_PRIVATE_ADDRESSES must be true or false"):
        load_settings({"FEED_ALLOW_PRIVATE_ADDRESSES": "maybe"}, dotenv=None)
