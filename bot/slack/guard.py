"""What a request from Slack must look like before any listener sees it; Bolt trusts it blindly.

Pure functions: the HTTP route (bot/app.py) and a Bolt global middleware (every request, HTTP or Socket Mode)
call them, and a request that fails gets a 4xx and changes nothing.
"""

from __future__ import annotations

from typing import Any

# Slack's timestamps are Unix seconds (10 digits until 2286); its signatures are `v0=` and 64 hex digits
# (https://api.slack.com/authentication/verifying-requests-from-slack).
TIMESTAMP_DIGITS = 12
SIGNATURE_LENGTH = 3 + 64
# Slack's payloads nest about 12 levels deep (a view's blocks' elements' options); far more is not Slack.
MAX_DEPTH = 40
# The ids this app puts in button values (incidents, groups, reminders) are SQLite integers: 18 ASCII digits
# stay below 2**63.
_HEX = frozenset("0123456789abcdef")


def signature_headers_problem(timestamp: object, signature: object) -> str | None:
    """None when the two headers could be Slack's, else what is wrong; checked before any arithmetic on them.

    `timestamp` is X-Slack-Request-Timestamp (ASCII digits, at most 12), `signature` X-Slack-Signature
    (`v0=` and 64 lower-case hex digits)."""
    if not isinstance(timestamp, str) or not timestamp:
        return "no timestamp"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= TIMESTAMP_DIGITS):
        return "the timestamp is not a number of seconds"
    if not isinstance(signature, str) or len(signature) != SIGNATURE_LENGTH or not signature.startswith("v0="):
        return "no signature of the right form"
    if not set(signature[3:]) <= _HEX:
        return "no signature of the right form"
    return None


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when objects and lists nest more than `limit` levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _optional(body: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> bool:
    """True when `key` is absent, null, or of `kind`."""
    value = body.get(key)
    return value is None or isinstance(value, kind)


def _optional_id(body: dict[str, Any], key: str) -> bool:
    """`user`, `channel`, `team`...: absent, or an object whose id (if any) is text."""
    value = body.get(key)
    if value is None:
        return True
    return isinstance(value, dict) and _optional(value, "id", str)


def shape_problem(body: Any) -> str | None:
    """None when the payload is one this app can handle safely, else what is wrong with it (for the log).

    Checks what listeners and Bolt's own middleware read: types of user, channel, team, container, view,
    message, actions and event, and nesting depth (MAX_DEPTH)."""
    if not isinstance(body, dict) or not body:
        return "the payload is not an object"
    if too_deep(body):
        return f"the payload nests more than {MAX_DEPTH} levels"
    for key in ("response_url", "trigger_id", "api_app_id", "token", "user_id", "channel_id", "team_id", "enterprise_id"):
        if not _optional(body, key, str):
            return f"{key} must be text"
    if not _optional(body, "authorizations", list) or not all(isinstance(a, dict) for a in body.get("authorizations") or []):
        return "authorizations must be a list of objects"
    url = body.get("response_url")
    if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        return "response_url must be a web address"
    if "event" in body and not isinstance(body["event"], dict):  # Bolt's own middleware reads it as an object
        return "event must be an object"
    if "command" in body:
        if not (_is_str(body.get("command")) and _is_str(body.get("user_id"))):
            return "a slash command needs command and user_id"
        if not _optional(body, "text", str):
            return "a slash command's text must be text"
        return None
    kind = body.get("type")
    if kind in ("url_verification", "ssl_check"):
        return None
    if kind == "event_callback":
        return _event_problem(body.get("event"))
    for key in ("user", "channel", "team", "enterprise"):
        if not _optional_id(body, key):
            return f"{key} must be an object with a text id"
    if "view" in body and not _view_ok(body["view"], required=True):  # Bolt's logging reads view.type
        return "a view must be an object with a type"
    for key in ("container", "message", "state"):
        if not _optional(body, key, dict):
            return f"{key} must be an object"
    if kind == "block_actions":
        return _actions_problem(body)
    if kind in ("view_submission", "view_closed"):
        if not isinstance(body.get("user"), dict) or not _is_str(body["user"].get("id")):
            return "a view submission needs a user id"
        if not _view_ok(body.get("view"), required=True):
            return "a view must be an object with a type"
        return None
    if kind in ("shortcut", "message_action", "block_suggestion"):
        return None
    return f"unknown payload type {str(kind)[:40]!r}"


def _event_problem(event: Any) -> str | None:
    """What is wrong with an event_callback's event, or None."""
    if not isinstance(event, dict) or not _is_str(event.get("type")):
        return "an event needs an event object with a type"
    for key in ("user", "channel", "tab", "bot_id", "subtype", "text"):
        if not _optional(event, key, str):
            return f"an event's {key} must be text"
    if not _optional(event, "view", dict):
        return "an event's view must be an object"
    return None


def _actions_problem(body: dict[str, Any]) -> str | None:
    """What is wrong with a block_actions payload's user and actions, or None."""
    user = body.get("user")
    if not isinstance(user, dict) or not _is_str(user.get("id")):
        return "an action needs a user id"
    action_list = body.get("actions")
    if not isinstance(action_list, list) or not action_list:
        return "an action needs a list of actions"
    for action in action_list:
        if not isinstance(action, dict) or not _is_str(action.get("action_id")):
            return "every action needs an action_id"
        for key in ("value", "block_id", "type", "action_ts"):
            if not _optional(action, key, str):
                return f"an action's {key} must be text"
    return None


def _view_ok(view: Any, *, required: bool) -> bool:
    """A view (modal, Home tab): an object with a text type; None passes only when not required."""
    if view is None:
        return not required
    if not isinstance(view, dict) or not _is_str(view.get("type")):
        return False
    return all(_optional(view, key, str) for key in ("id", "hash", "callback_id", "private_metadata")) and _optional(
        view, "state", dict
    )
