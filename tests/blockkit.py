"""Reading Block Kit as a person (or Slack's mention parser) would: shared by the tests and benchmarks."""

from __future__ import annotations

from typing import Any


def all_text(answer: dict[str, Any]) -> str:
    """Everything a person can read in an answer: top-level text and every text in its blocks."""
    found: list[str] = [answer.get("text", "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(answer.get("blocks", []))
    return "\n".join(found)


def mrkdwn_texts(answer: dict[str, Any]) -> list[str]:
    """The texts Slack parses for mentions and links: the top-level text and every mrkdwn object."""
    found = [answer.get("text", "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(answer.get("blocks", []))
    return found


def buttons(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in answer.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    ]
