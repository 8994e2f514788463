"""manifest.yml: valid on Slack's official schema, and asking for exactly what the bot uses."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.json"


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_the_manifest_is_valid_on_slacks_schema() -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(manifest())]
    assert errors == []


def test_the_manifest_declares_the_command_scopes_event_and_urls() -> None:
    m = manifest()
    (command,) = m["features"]["slash_commands"]
    assert command["command"] == "/integration-status"
    assert set(m["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "im:write",
        "users:read",
        "users:read.email",
        # reading a channel only to tell, after a crash mid-send, whether an alert already went
        "channels:history",
        "groups:history",
        # member_joined_channel: a channel the bot could not post in is retried when it is invited
        "channels:read",
        "groups:read",
    }
    assert "member_joined_channel" in m["settings"]["event_subscriptions"]["bot_events"]
    assert "app_home_opened" in m["settings"]["event_subscriptions"]["bot_events"]
    assert m["settings"]["interactivity"]["is_enabled"] is True
    urls = [command["url"], m["settings"]["event_subscriptions"]["request_url"], m["settings"]["interactivity"]["request_url"]]
    assert all(url.endswith("/slack/events") for url in urls)
    assert m["features"]["app_home"]["home_tab_enabled"] is True


def test_the_manifest_has_what_many_workspaces_need() -> None:
    from bot.installs import BOT_SCOPES

    m = manifest()
    assert set(BOT_SCOPES) == set(m["oauth_config"]["scopes"]["bot"])  # an install asks for what the manifest says
    assert [url.rsplit("/", 2)[-2:] for url in m["oauth_config"]["redirect_urls"]] == [["slack", "oauth_redirect"]]
    assert {"app_uninstalled", "tokens_revoked"} <= set(m["settings"]["event_subscriptions"]["bot_events"])
