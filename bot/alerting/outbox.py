"""The outbox's vocabulary: every kind of row and every dedup key is spelled here, and only here.

An outbox row is one Slack call to make: its `kind` says which, its dedup key makes queueing it twice
impossible (a unique column: a replayed poll or a second press of a button queues nothing new). Keys are
built from what makes the message distinct, never from a clock, so the same event always has the same key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Sequence


class Kind(StrEnum):
    POST = "post"  # a new alert for one incident in one channel
    UPDATE = "update"  # chat.update of that alert
    REPLY = "reply"  # a line in that alert's thread
    GROUP_POST = "group_post"  # a new grouped (storm) alert
    GROUP_UPDATE = "group_update"  # chat.update of the grouped alert
    GROUP_LIST = "group_list"  # one part of the grouped alert's company list, in its thread
    GROUP_REPLY = "group_reply"  # a line in the grouped alert's thread
    NOTICE = "notice"  # a message about the bot itself (the feed is down, it is back)
    DIGEST = "digest"  # a channel's daily digest
    DIGEST_LIST = "digest_list"  # one part of a long digest's full list, in its thread

    @property
    def posts_new_message(self) -> bool:
        """A chat.postMessage at the top of the channel: its `ts` is kept for later edits and replies."""
        return self in NEW_MESSAGES

    @property
    def in_thread(self) -> bool:
        """A chat.postMessage in the thread of an earlier message, which must be delivered first."""
        return self in THREADED

    @property
    def edits(self) -> bool:
        """A chat.update of an earlier message."""
        return self in EDITS

    @property
    def for_group(self) -> bool:
        return self in GROUP_KINDS


NEW_MESSAGES = frozenset({Kind.POST, Kind.GROUP_POST, Kind.NOTICE, Kind.DIGEST})
THREADED = frozenset({Kind.REPLY, Kind.GROUP_LIST, Kind.GROUP_REPLY, Kind.DIGEST_LIST})
EDITS = frozenset({Kind.UPDATE, Kind.GROUP_UPDATE})
GROUP_KINDS = frozenset({Kind.GROUP_POST, Kind.GROUP_UPDATE, Kind.GROUP_LIST, Kind.GROUP_REPLY})


@dataclass(frozen=True, slots=True)
class Entry:
    """One row to queue: `key` is its dedup key (unique in the outbox)."""

    key: str
    channel: str
    kind: Kind
    incident_id: int | None = None
    group_id: int | None = None
    body: dict[str, Any] | None = field(default=None)


# --- one incident's message -------------------------------------------------------------------


def post(channel: str, incident_id: int) -> Entry:
    return Entry(f"post:{channel}:{incident_id}", channel, Kind.POST, incident_id=incident_id)


def update(channel: str, incident_id: int, revision: str) -> Entry:
    """`revision` names what changed the message (`v3` for the incident's third detail, `ack:U1`...)."""
    return Entry(f"update:{channel}:{incident_id}:{revision}", channel, Kind.UPDATE, incident_id=incident_id)


def reply(channel: str, incident_id: int, event: str, body: dict[str, Any]) -> Entry:
    """`event` names the thread line (`v3`, `resolved`, `ack:U1`...): one line per event, ever."""
    return Entry(f"reply:{channel}:{incident_id}:{event}", channel, Kind.REPLY, incident_id=incident_id, body=body)


# --- a grouped (storm) message ----------------------------------------------------------------


def group_post(channel: str, group_id: int) -> Entry:
    return Entry(f"group:{group_id}", channel, Kind.GROUP_POST, group_id=group_id)


def group_list(channel: str, group_id: int, part: int, parts: int, per: int) -> Entry:
    """Part `part` of `parts` of the group's company list, `per` companies a part."""
    body = {"part": part, "parts": parts, "per": per}
    return Entry(f"group:{group_id}:list:{part}", channel, Kind.GROUP_LIST, group_id=group_id, body=body)


def group_update(channel: str, group_id: int, revision: str) -> Entry:
    return Entry(f"group_update:{group_id}:{revision}", channel, Kind.GROUP_UPDATE, group_id=group_id)


def group_reply(channel: str, group_id: int, event: str, body: dict[str, Any]) -> Entry:
    return Entry(f"group_reply:{group_id}:{event}", channel, Kind.GROUP_REPLY, group_id=group_id, body=body)


# --- a device alert (a group whose Sync Apps are on one computer): the group kinds above, these events --


def device_event(channel: str, group_id: int, event: str, incidents: Sequence[tuple[int, int]]) -> Entry:
    """One line in a device alert's thread about the companies of one poll: `event` is `joined`, `returned`
    or `back`; `incidents` are (incident id, its version) pairs. The key is built from those pairs, so the
    same company returning twice is told twice, and a replayed poll never."""
    pairs = sorted(incidents)
    digest = hashlib.sha1(",".join(f"{i}v{v}" for i, v in pairs).encode()).hexdigest()[:16]
    body = {"event": event, "incidents": [i for i, _ in pairs]}
    return Entry(f"group_reply:{group_id}:{event}:{digest}", channel, Kind.GROUP_REPLY, group_id=group_id, body=body)


# --- the daily digest: one per channel and local date, whichever process queues it --------------


def digest_key(channel: str, day: str) -> str:
    return f"digest:{channel}:{day}"


def digest(channel: str, day: str, body: dict[str, Any]) -> Entry:
    """`day`: the local date (ISO) it is for; the unique key makes it once a day per channel, also across
    restarts and processes sharing the outbox."""
    return Entry(digest_key(channel, day), channel, Kind.DIGEST, body=body)


def digest_list(channel: str, day: str, part: int, body: dict[str, Any]) -> Entry:
    """Part `part` of that digest's full list; its thread parent is the digest's row (`parent` in the body)."""
    return Entry(
        f"{digest_key(channel, day)}:list:{part}", channel, Kind.DIGEST_LIST, body={**body, "parent": digest_key(channel, day)}
    )


# --- the bot about itself ---------------------------------------------------------------------


def feed_down(channel: str, at: str, body: dict[str, Any]) -> Entry:
    return Entry(f"feed_down:{at}", channel, Kind.NOTICE, body=body)


def feed_up(channel: str, since: str) -> Entry:
    return Entry(f"feed_up:{since}", channel, Kind.NOTICE, body={"event": "feed_up", "since": since})


def channel_broken(user_id: str, channel: str, error: str, at: str) -> Entry:
    """A direct message to the person who subscribed `channel`: the bot cannot post there."""
    body = {"event": "channel_broken", "channel": channel, "error": error}
    return Entry(f"channel_broken:{channel}:{user_id}:{at}", user_id, Kind.NOTICE, body=body)
