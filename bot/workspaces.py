"""Which workspace a request belongs to: pure functions of what Slack sends (docs/workspaces.md)."""

from __future__ import annotations

from typing import Any

from yarl import URL


def workspace_of(team_id: str | None, enterprise_id: str | None, is_enterprise_install: bool | None) -> str | None:
    """The workspace id a request is answered from: the Enterprise Grid org id (`E...`) for an org-wide install
    (one installation serves every workspace of the org), else the team id (`T...`); None when the request
    names neither. Slack sends both in every request (https://api.slack.com/enterprise/apps)."""
    if is_enterprise_install and enterprise_id:
        return enterprise_id
    return team_id or None


# --- connecting AutoEntry (SPEC.md "Many practices") ---------------------------------------------------

CONNECT_ACTION = "connect_autoentry"  # the button in the installer's DM and on the App Home
DISCONNECT_ACTION = "disconnect_autoentry"  # the App Home's Disconnect button (a confirm dialog first)
CONNECT_VIEW = "connect_autoentry"  # the modal's callback_id
SOURCE_BLOCK = "status_source"
TOKEN_BLOCK = "api_token"
INPUT_ACTION = "value"
SOURCE_LIMIT = 500
TOKEN_LIMIT = 500
WHO_MAY_CONNECT = "the person who installed the app, or a workspace admin or owner"


def may_connect(user_id: str, installer_user_id: str | None, is_admin: bool, is_owner: bool) -> bool:
    """Only the installer and the workspace's admins and owners (users.info is_admin / is_owner) may connect,
    change or disconnect AutoEntry."""
    return bool(user_id) and (user_id == installer_user_id or is_admin or is_owner)


def source_problem(source: str) -> str | None:
    """Why a status source typed in the modal cannot be used, or None: `demo`, or an http(s):// URL that yarl
    (aiohttp's URL parser) reads whole, with a host, a valid port, no user or password (the token goes in its
    own field) and no whitespace or control characters. Any error of the parse is a refusal."""
    if source == "demo":
        return None
    if not source:
        return "Enter the status API's address (https://...), or demo to try the sample practice."
    if len(source) > SOURCE_LIMIT:
        return f"That address is longer than {SOURCE_LIMIT} characters."
    not_url = "That is not an http(s):// address (or demo)."
    if any(c.isspace() or not c.isprintable() for c in source):
        return not_url
    try:
        url = URL(source)
        if url.scheme not in ("http", "https") or not url.host or url.port is None:
            return not_url
        if url.user is not None or url.password is not None:
            return "Leave the user and password out of the address; put the API token in its own field."
    except Exception:
        return not_url
    return None


def token_problem(token: str) -> str | None:
    """Why an API token typed in the modal cannot be sent as `Authorization: Bearer`, or None: at most
    TOKEN_LIMIT characters, printable ASCII without spaces (RFC 6750's b64token is narrower still). '' is no
    token."""
    if len(token) > TOKEN_LIMIT:
        return f"That token is longer than {TOKEN_LIMIT} characters."
    if not all("!" <= c <= "~" for c in token):
        return "That token has spaces, line breaks or other characters a token cannot hold."
    return None


def submitted(view: dict[str, Any]) -> tuple[str, str]:
    """(status source, API token) from the connect modal's view_submission, stripped; '' for a missing one."""

    def field(node: Any, key: str) -> Any:
        return node.get(key) if isinstance(node, dict) else None

    values = field(field(view, "state"), "values")

    def value(block: str) -> str:
        raw = field(field(field(values, block), INPUT_ACTION), "value")
        return raw.strip() if isinstance(raw, str) else ""

    source = value(SOURCE_BLOCK)
    return (source.rstrip("/") if source != "demo" else source), value(TOKEN_BLOCK)


def connect_modal(current_source: str | None, token_hint: str) -> dict[str, Any]:
    """The Connect AutoEntry modal: status source and API token. A stored token is never shown, at most
    its last four characters (`token_hint`)."""
    token_label = "API token" + (f" (saved: {token_hint}; enter it again to keep it)" if token_hint else "")
    source_element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": INPUT_ACTION,
        "max_length": SOURCE_LIMIT,
        "placeholder": {"type": "plain_text", "text": "https://status.example.com/api or demo"},
    }
    if current_source:
        source_element["initial_value"] = current_source
    return {
        "type": "modal",
        "callback_id": CONNECT_VIEW,
        "title": {"type": "plain_text", "text": "Connect AutoEntry"},
        "submit": {"type": "plain_text", "text": "Connect"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Where this workspace's AutoEntry statuses come from. I check the address and token"
                    " with AutoEntry before saving anything.",
                },
            },
            {
                "type": "input",
                "block_id": SOURCE_BLOCK,
                "label": {"type": "plain_text", "text": "Status source"},
                "hint": {"type": "plain_text", "text": "The status API's address, or demo for the sample practice."},
                "element": source_element,
            },
            {
                "type": "input",
                "block_id": TOKEN_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": token_label[:150]},
                "hint": {"type": "plain_text", "text": "Stored encrypted; never shown again. Not needed for demo."},
                "element": {"type": "plain_text_input", "action_id": INPUT_ACTION, "max_length": TOKEN_LIMIT},
            },
        ],
    }


def _connect_button() -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": CONNECT_ACTION,
                "text": {"type": "plain_text", "text": "Connect AutoEntry"},
                "style": "primary",
                "value": "connect",
            }
        ],
    }


def installer_message() -> tuple[str, list[dict[str, Any]]]:
    """(text, blocks) of the direct message to whoever installed the app."""
    text = (
        "Thanks for adding Integration Status. Connect this workspace to AutoEntry so I can show your"
        " companies' integration status and alert your channels when publishing stops."
    )
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, _connect_button()]


def unconnected_home(allowed: bool) -> dict[str, Any]:
    """The App Home of a workspace not connected yet: the Connect button for those who may connect."""
    text = "*This workspace is not connected to AutoEntry yet.*\n"
    if allowed:
        text += "Connect it to see your companies' integration status here and get alerts in your channels."
        blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, _connect_button()]
    else:
        text += f"{WHO_MAY_CONNECT[:1].upper()}{WHO_MAY_CONNECT[1:]} can connect it."
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    return {"type": "home", "blocks": blocks}


def connected_text(account_name: str, source: str) -> str:
    where = "the demo practice" if source == "demo" else source
    return f"Connected to AutoEntry: {account_name} ({where}). The first poll is running; ask me in a minute."


def not_allowed_text() -> str:
    return f"Only {WHO_MAY_CONNECT} can connect or disconnect AutoEntry. Nothing changed."


def connection_blocks(source: str, token_hint: str, allowed: bool) -> list[dict[str, Any]]:
    """The App Home's "AutoEntry connection" part for a connected workspace: where its statuses come from (the
    token at most as its last four characters, `token_hint`) and, for those who may change it, Change
    connection (the Connect modal, prefilled) and Disconnect (behind Slack's confirm dialog); others are told
    who can."""
    where = "the demo practice" if source == "demo" else source.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = f"*AutoEntry connection:* {where}" + (f" (API token {token_hint})" if token_hint else "")
    if not allowed:
        text += f"\n{WHO_MAY_CONNECT[:1].upper()}{WHO_MAY_CONNECT[1:]} can change or disconnect it."
        return [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]
    buttons: list[dict[str, Any]] = [
        {
            "type": "button",
            "action_id": CONNECT_ACTION,
            "text": {"type": "plain_text", "text": "Change connection"},
            "value": "change",
        },
        {
            "type": "button",
            "action_id": DISCONNECT_ACTION,
            "text": {"type": "plain_text", "text": "Disconnect"},
            "style": "danger",
            "value": "disconnect",
            "confirm": {
                "title": {"type": "plain_text", "text": "Disconnect AutoEntry?"},
                "text": {
                    "type": "mrkdwn",
                    "text": "No more polls or alerts in this workspace, and the API token is deleted."
                    " Subscriptions and history stay; connect again any time.",
                },
                "confirm": {"type": "plain_text", "text": "Disconnect"},
                "deny": {"type": "plain_text", "text": "Cancel"},
                "style": "danger",
            },
        },
    ]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}, {"type": "actions", "elements": buttons}]


def disconnected_text() -> str:
    return "Disconnected from AutoEntry: no more polls or alerts here, and the token is deleted. Connect again any time."
