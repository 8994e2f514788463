"""Block Kit: the building blocks of every message and view, their limits, and the size of a whole message.

Pure: no I/O. Limits are Slack's own (docs.slack.dev/reference/block-kit/blocks): 50 blocks a message, 100
in a Home tab, section text 3,000 characters, header 150, button text 75; MESSAGE_TEXT_BUDGET is ours.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

Block = dict[str, Any]

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75


def escape(text: str) -> str:
    """Untrusted text in mrkdwn: `<!channel>` and `<@U1>` must reach nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_within(text: str, limit: int) -> str:
    """Escaped text no longer than limit: clipped before escaping, so no entity or markup is cut in two."""
    raw = text
    escaped = escape(raw)
    while len(escaped) > limit:
        raw = clip(raw, max(2, len(raw) - (len(escaped) - limit) - 1))
        escaped = escape(raw)
    return escaped


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    blocks: list[Block] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


# --- the size of a whole message ---------------------------------------------------------------

# Slack refuses a message whose blocks hold about 12,000 characters of text in total with
# `msg_blocks_too_long`, even when every block is within its own documented limit. That total is not
# documented: reports put it between 11,300 and 13,300 characters. Every message the bot sends (alerts,
# storm messages and their lists, replies, cards, lists, the Home tab) stays within this budget of text,
# counted over the top-level text and every text in its blocks, well under the lowest report.
MESSAGE_TEXT_BUDGET = 10_000
# What Slack answers when a message is too big or its blocks will not do: the message is sent again,
# smaller (plain text at worst), never dropped (docs.slack.dev/reference/methods/chat.postMessage, Errors).
TOO_BIG_ERRORS = frozenset({"msg_too_long", "msg_blocks_too_long", "invalid_blocks", "invalid_blocks_format"})
CUT_MARK = "\n…and more (cut to fit Slack's size limit)"
PLAIN_TEXT_LIMIT = 3_900  # Slack shows up to 4,000 characters of a message's text before "Show more"


def _text_objects(node: Any, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            found.append(node)
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                _text_objects(value, found)
    elif isinstance(node, list):
        for item in node:
            _text_objects(item, found)
    return found


def text_size(text: str, blocks: Sequence[Block]) -> int:
    """Characters of text in a message: its top-level text plus every text object in its blocks."""
    return len(text) + sum(len(obj["text"]) for obj in _text_objects(list(blocks), []))


def plain_version(message: Message, limit: int = PLAIN_TEXT_LIMIT) -> Message:
    """The message as plain text without blocks, for when Slack refuses its blocks."""
    parts = [message.text]
    for block in message.blocks:
        if block.get("type") in ("section", "context", "header"):
            parts += [obj["text"] for obj in _text_objects(block, [])]
    text = "\n".join(part for part in dict.fromkeys(parts) if part)
    return Message(text=clip(text, limit), blocks=[])


def fit(message: Message, budget: int = MESSAGE_TEXT_BUDGET) -> Message:
    """The message within `budget` characters of text (MESSAGE_TEXT_BUDGET): unchanged when it fits; else its
    longest texts lose lines from their end (CUT_MARK says so); plain text when even that is not enough.
    Builders stay within the budget by design (lists are split across replies); this is the safety net."""
    if text_size(message.text, message.blocks) <= budget:
        return message
    blocks = copy.deepcopy(message.blocks)
    text = clip(message.text, 2_000)
    for _ in range(200):
        excess = text_size(text, blocks) - budget
        if excess <= 0:
            return Message(text=text, blocks=blocks)
        objects = [obj for obj in _text_objects(blocks, []) if len(obj["text"]) > 200]
        if not objects:
            break
        longest = max(objects, key=lambda obj: len(obj["text"]))
        body = longest["text"]
        keep = max(150, len(body) - excess - len(CUT_MARK))
        cut = body.rfind("\n", 0, keep)
        longest["text"] = (body[:cut] if cut > 0 else body[:keep]) + CUT_MARK
    return plain_version(message)


# --- building blocks -------------------------------------------------------------------------


def section(mrkdwn: str, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, SECTION_LIMIT)}}
    if accessory:
        block["accessory"] = accessory
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_LIMIT), "emoji": False}}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, SECTION_LIMIT)}]}


def button(text: str, action_id: str, value: str = "", *, url: str | None = None, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT_LIMIT), "emoji": False},
        "action_id": action_id,
    }
    if value:
        element["value"] = value[:2000]
    if url:
        element["url"] = url
    if style:
        element["style"] = style
    return element


def actions(elements: Sequence[Block], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def packed_sections(lines: Iterable[str], limit: int = SECTION_LIMIT) -> list[Block]:
    """mrkdwn lines in as few sections as fit, never cutting a line in two (a cut can split a link)."""
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) + 1 > limit:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def fields_section(pairs: Iterable[tuple[str, str]]) -> Block:
    """Label and value pairs (already mrkdwn) as a two-column section; Slack takes 10 fields at most."""
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": clip(f"*{label}*\n{value}", 2000)} for label, value in list(pairs)[:10]],
    }


# --- times -----------------------------------------------------------------------------------


def utc_text(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def slack_time(moment: datetime | None) -> str:
    """Slack shows this in each reader's own time zone, with the UTC text as the fallback."""
    if moment is None:
        return "never"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{utc_text(moment)}>"


def age_text(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"
