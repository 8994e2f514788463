"""The shape a Slack payload must have before any listener sees it; Bolt trusts it blindly."""

from __future__ import annotations

from typing import Any


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def shape_problem(body: Any) -> str | None:
    """None when the payload is one this app can handle safely, else what is wrong with it."""
    if not isinstance(body, dict) or not body:
        return "the payload is not an object"
    if "command" in body:
        if not (_is_str(body.get("command")) and _is_str(body.get("user_id"))):
            return "a slash command needs command and user_id"
        return None
    kind = body.get("type")
    if kind in ("url_verification", "ssl_check"):
        return None
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not _is_str(event.get("type")):
            return "an event needs an event object with a type"
        return None
    if kind == "block_actions":
        user = body.get("user")
        if not isinstance(user, dict) or not _is_str(user.get("id")):
            return "an action needs a user id"
        action_list = body.get("actions")
        if not isinstance(action_list, list) or not action_list:
            return "an action needs a list of actions"
        for action in action_list:
            if not isinstance(action, dict) or not _is_str(action.get("action_id")):
                return "every action needs an action_id"
            if "value" in action and not isinstance(action["value"], str):
                return "an action's value must be text"
        return None
    if kind in ("view_submission", "view_closed", "shortcut", "message_action", "block_suggestion"):
        return None
    return f"unknown payload type {str(kind)[:40]!r}"
