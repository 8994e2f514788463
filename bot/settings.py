"""Settings from the environment (and a `.env` file), validated once at start-up."""

from __future__ import annotations

import io
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

from dotenv import dotenv_values

from bot.secrets import secret_key_problem


class SettingsError(Exception):
    """One clear line naming the variable that is missing or malformed."""


class StartupError(SettingsError):
    """A setting Slack will not take (a rejected token): one line naming the variable, found at start-up."""


DEFAULT_API_BASE_URL = "https://slack.com/api/"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


@dataclass(frozen=True, slots=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    db_path: str = "integration-bot.db"
    # DATABASE_URL: PostgreSQL (`postgresql://user:password@host:port/db`) instead of the SQLite file.
    database_url: str | None = None
    status_source: str = "demo"
    status_api_token: str | None = None
    poll_interval_seconds: int = 300
    offline_grace_seconds: int = 600
    # A problem back within this long after it cleared reopens its alert (SPEC.md "Flapping"); 0: never.
    flap_window_seconds: int = 3600
    alert_channel: str | None = None
    help_centre_articles: str | None = None
    port: int = 3000
    log_level: str = "INFO"
    log_format: str = "text"
    # Many workspaces ("Add to Slack", SPEC.md "Many practices"): the app's OAuth credentials, and the
    # Fernet key(s) that encrypt the stored feed tokens (comma-separated, newest first: the first encrypts).
    client_id: str | None = None
    client_secret: str | None = None
    secret_key: str | None = None
    # FEED_ALLOW_PRIVATE_ADDRESSES: many workspaces' feeds may be on loopback, link-local or private addresses
    # (an on-premises deployment); off, such feeds are refused (bot/feed_addresses.py).
    feed_allow_private_addresses: bool = False

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def many_workspaces(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def require_slack(self) -> None:
        """`serve` needs Slack credentials; `status` and `poll` do not."""
        if self.many_workspaces:
            if not self.socket_mode and not self.signing_secret:
                raise SettingsError(
                    "SLACK_SIGNING_SECRET is required with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"
                    " (or set SLACK_APP_TOKEN for Socket Mode)"
                )
            return
        if not self.bot_token:
            raise SettingsError(
                "SLACK_BOT_TOKEN is required to serve (xoxb-...), or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for many workspaces"
            )
        if not self.socket_mode and not self.signing_secret:
            raise SettingsError("SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)")


def _kind(variable: str, value: str | Path) -> str:
    """What a path from the settings names: "file", "folder" or "none"; SettingsError naming the setting when the
    system cannot look it up (a name too long for it, a folder on the way that cannot be entered)."""
    try:
        path = Path(value)
        return "folder" if path.is_dir() else "file" if path.is_file() else "none"
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SettingsError(f"{variable}: cannot look up {str(value)[:80]!r}: {reason}") from None


def _a_file(variable: str, value: str) -> None:
    """SettingsError naming the setting unless the path is a file that exists."""
    kind = _kind(variable, value)
    if kind == "folder":
        raise SettingsError(f"{variable}: {value[:80]!r} is a folder, not a file")
    if kind == "none":
        raise SettingsError(f"{variable}: no such file {value[:80]!r}")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=value lines of a `.env` file, parsed by python-dotenv (quotes, `export`, `# comments`, a
    byte-order mark); a missing file is no settings. A line python-dotenv cannot parse is named."""
    kind = _kind(str(path), path)
    if kind == "folder":
        raise SettingsError(f"{path}: is a folder, not a file of settings")
    if kind == "none":
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot be read ({exc})") from None
    problems: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            problems.append(record.getMessage())

    # python-dotenv logs a line it cannot parse and goes on; here it stops start-up instead.
    dotenv_log = logging.getLogger("dotenv.main")
    collect = _Collect()
    dotenv_log.addHandler(collect)
    propagate, dotenv_log.propagate = dotenv_log.propagate, False
    try:
        values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    finally:
        dotenv_log.removeHandler(collect)
        dotenv_log.propagate = propagate
    if problems:
        found = re.search(r"starting at line (\d+)", problems[0])
        where = f"line {found.group(1)}" if found else "a line"
        raise SettingsError(f"{path}: {where} is not KEY=value")
    return {key: value for key, value in values.items() if value is not None}


def _int(
    env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int, what: str = "a whole number of seconds"
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be {what}, got {raw[:40]!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _token(env: Mapping[str, str], name: str, prefix: str) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    if not value.startswith(prefix):
        raise SettingsError(f"{name} must start with {prefix!r}")
    return value


def _status_source(env: Mapping[str, str]) -> str:
    value = env.get("STATUS_SOURCE", "").strip() or "demo"
    if value == "demo":
        return value
    if value.startswith("file:"):
        path = value[len("file:") :]
        if not path:
            raise SettingsError("STATUS_SOURCE file: needs a path, e.g. file:statuses.json")
        _a_file("STATUS_SOURCE", path)
        return value
    parsed = urlparse(value)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return value.rstrip("/")
    raise SettingsError(f"STATUS_SOURCE must be demo, file:PATH or an http(s):// URL, got {value[:80]!r}")


def _db_path(value: str) -> str:
    """INTEGRATION_BOT_DB: a file (made on first start) in a folder that exists; not a directory."""
    if value == ":memory:":
        return value
    if _kind("INTEGRATION_BOT_DB", value) == "folder":
        raise SettingsError(f"INTEGRATION_BOT_DB is a directory, not a database file: {value[:80]!r}")
    parent = Path(value).parent
    if _kind("INTEGRATION_BOT_DB", parent) != "folder":
        raise SettingsError(f"INTEGRATION_BOT_DB: the folder {str(parent)[:80]!r} does not exist")
    return value


def _database_url(value: str) -> str | None:
    """DATABASE_URL: empty for SQLite (INTEGRATION_BOT_DB), else a libpq URI (`postgresql://` or `postgres://`,
    PostgreSQL docs "Connection URIs")."""
    if not value:
        return None
    if urlparse(value).scheme not in ("postgresql", "postgres"):
        raise SettingsError("DATABASE_URL must be a postgresql:// URL (or unset, for SQLite)")
    return value


def _check_many_workspaces(
    env: Mapping[str, str], bot_token: str | None, client_id: str | None, client_secret: str | None, secret_key: str | None
) -> None:
    """One workspace (SLACK_BOT_TOKEN) or many (SLACK_CLIENT_ID and SECRET, with INTEGRATION_BOT_SECRET_KEY; over
    HTTP or in Socket Mode); SettingsError naming what is missing or conflicting."""
    if bool(client_id) != bool(client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise SettingsError(
            f"{missing} is required with {'SLACK_CLIENT_ID' if client_id else 'SLACK_CLIENT_SECRET'} (many workspaces)"
        )
    if client_id and bot_token:
        raise SettingsError(
            "Set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (many workspaces), not both"
        )
    if client_id:
        if not secret_key:
            raise SettingsError("INTEGRATION_BOT_SECRET_KEY is required with many workspaces (it encrypts the feed tokens)")
        problem = secret_key_problem(secret_key)
        if problem:
            raise SettingsError(f"INTEGRATION_BOT_SECRET_KEY {problem}")


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "false", "0", "no", "off"):
        return False
    if raw in ("true", "1", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be true or false, got {raw[:40]!r}")


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    """Environment wins over `.env`, as with every twelve-factor tool."""
    env: dict[str, str] = dict(read_dotenv(dotenv)) if dotenv is not None else {}
    env.update(os.environ if environ is None else environ)

    api_base_url = env.get("SLACK_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
    parsed = urlparse(api_base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"SLACK_API_BASE_URL must be an http(s) URL, got {api_base_url[:80]!r}")
    if not api_base_url.endswith("/"):
        api_base_url += "/"

    alert_channel = env.get("ALERT_CHANNEL", "").strip() or None
    if alert_channel and not _CHANNEL_ID.match(alert_channel):
        raise SettingsError(f"ALERT_CHANNEL must be a channel id such as C0123456789, got {alert_channel[:40]!r}")

    db_path = _db_path(env.get("INTEGRATION_BOT_DB", "").strip() or "integration-bot.db")
    log_level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {log_level[:40]!r}")
    log_format = (env.get("LOG_FORMAT", "").strip() or "text").lower()
    if log_format not in ("text", "json"):
        raise SettingsError(f"LOG_FORMAT must be text or json, got {log_format[:40]!r}")
    articles = env.get("HELP_CENTRE_ARTICLES", "").strip() or None
    if articles:
        _a_file("HELP_CENTRE_ARTICLES", articles)

    bot_token = _token(env, "SLACK_BOT_TOKEN", "xoxb-")
    client_id = env.get("SLACK_CLIENT_ID", "").strip() or None
    client_secret = env.get("SLACK_CLIENT_SECRET", "").strip() or None
    secret_key = env.get("INTEGRATION_BOT_SECRET_KEY", "").strip() or None
    _check_many_workspaces(env, bot_token, client_id, client_secret, secret_key)

    return Settings(
        bot_token=bot_token,
        client_id=client_id,
        client_secret=client_secret,
        secret_key=secret_key,
        signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip() or None,
        app_token=_token(env, "SLACK_APP_TOKEN", "xapp-"),
        api_base_url=api_base_url,
        db_path=db_path,
        database_url=_database_url(env.get("DATABASE_URL", "").strip()),
        status_source=_status_source(env),
        status_api_token=env.get("STATUS_API_TOKEN", "").strip() or None,
        poll_interval_seconds=_int(env, "POLL_INTERVAL_SECONDS", 300, 1, 86_400),
        offline_grace_seconds=_int(env, "OFFLINE_GRACE_SECONDS", 600, 0, 7 * 86_400),
        flap_window_seconds=_int(env, "FLAP_WINDOW_SECONDS", 3600, 0, 7 * 86_400),
        alert_channel=alert_channel,
        help_centre_articles=articles,
        port=_int(env, "PORT", 3000, 1, 65_535, "a port number"),
        log_level=log_level,
        log_format=log_format,
        feed_allow_private_addresses=_flag(env, "FEED_ALLOW_PRIVATE_ADDRESSES"),
    )
