"""Settings from the environment (and a `.env` file), validated once at start-up."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse


class SettingsError(Exception):
    """One clear line naming the variable that is missing or malformed."""


DEFAULT_API_BASE_URL = "https://slack.com/api/"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


@dataclass(frozen=True, slots=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    db_path: str = "integration-bot.db"
    status_source: str = "demo"
    status_api_token: str | None = None
    poll_interval_seconds: int = 300
    offline_grace_seconds: int = 600
    # A problem back within this long after it cleared reopens its alert (SPEC.md "Flapping"); 0: never.
    flap_window_seconds: int = 3600
    alert_channel: str | None = None
    help_centre_articles: str | None = None
    port: int = 3000

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    def require_slack(self) -> None:
        """`serve` needs Slack credentials; `status` and `poll` do not."""
        if not self.bot_token:
            raise SettingsError("SLACK_BOT_TOKEN is required to serve (xoxb-...)")
        if not self.socket_mode and not self.signing_secret:
            raise SettingsError("SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)")


def read_dotenv(path: Path) -> dict[str, str]:
    """The small subset of .env syntax people write: KEY=value, quotes, comments, `export`."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise SettingsError(f"{path}: line {number} is not KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int, what: str = "a whole number of seconds") -> int:
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
        if not value[len("file:") :]:
            raise SettingsError("STATUS_SOURCE file: needs a path, e.g. file:statuses.json")
        return value
    parsed = urlparse(value)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return value.rstrip("/")
    raise SettingsError(f"STATUS_SOURCE must be demo, file:PATH or an http(s):// URL, got {value[:80]!r}")


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

    db_path = env.get("INTEGRATION_BOT_DB", "").strip() or "integration-bot.db"
    articles = env.get("HELP_CENTRE_ARTICLES", "").strip() or None
    if articles and not Path(articles).is_file():
        raise SettingsError(f"HELP_CENTRE_ARTICLES: no such file {articles!r}")

    return Settings(
        bot_token=_token(env, "SLACK_BOT_TOKEN", "xoxb-"),
        signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip() or None,
        app_token=_token(env, "SLACK_APP_TOKEN", "xapp-"),
        api_base_url=api_base_url,
        db_path=db_path,
        status_source=_status_source(env),
        status_api_token=env.get("STATUS_API_TOKEN", "").strip() or None,
        poll_interval_seconds=_int(env, "POLL_INTERVAL_SECONDS", 300, 1, 86_400),
        offline_grace_seconds=_int(env, "OFFLINE_GRACE_SECONDS", 600, 0, 7 * 86_400),
        flap_window_seconds=_int(env, "FLAP_WINDOW_SECONDS", 3600, 0, 7 * 86_400),
        alert_channel=alert_channel,
        help_centre_articles=articles,
        port=_int(env, "PORT", 3000, 1, 65_535, "a port number"),
    )
