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
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nexport POLL_INTERVAL_SECONDS=45\nSTATUS_SOURCE="file:feed.json"\nPORT=4000 # note\n')
    settings = load_settings({"PORT": "5000"}, dotenv=env_file)
    assert (settings.poll_interval_seconds, settings.status_source, settings.port) == (45, "file:feed.json", 5000)


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
