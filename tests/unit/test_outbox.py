"""bot.alerting.outbox: every kind has one delivery shape, every key is spelled once and is stable."""

from __future__ import annotations

import pytest

from bot.alerting import outbox
from bot.alerting.outbox import EDITS, NEW_MESSAGES, THREADED, Kind


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_is_exactly_one_of_new_threaded_or_edit(kind: Kind) -> None:
    shapes = [kind in NEW_MESSAGES, kind in THREADED, kind in EDITS]
    assert shapes.count(True) == 1
    assert (kind.posts_new_message, kind.in_thread, kind.edits) == tuple(shapes)


ENTRIES = {
    "post": outbox.post("C1", 7),
    "update": outbox.update("C1", 7, "v2"),
    "reply": outbox.reply("C1", 7, "resolved", {"event": "resolved"}),
    "group_post": outbox.group_post("C1", 3),
    "group_list": outbox.group_list("C1", 3, 2, 5, 40),
    "group_update": outbox.group_update("C1", 3, "2026-11-30T09:00:00Z"),
    "group_reply": outbox.group_reply("C1", 3, "2026-11-30T09:00:00Z", {"resolved": [7]}),
    "feed_down": outbox.feed_down("C9", "2026-11-30T09:00:00Z", {"event": "feed_down"}),
    "feed_up": outbox.feed_up("C9", "2026-11-30T08:00:00Z"),
    "channel_broken": outbox.channel_broken("U1", "C1", "not_in_channel", "2026-11-30T09:00:00Z"),
    "device_event": outbox.device_event("C1", 3, "returned", [(7, 2)]),
    "digest": outbox.digest("C1", "2026-11-30", {"event": "digest"}),
    "digest_list": outbox.digest_list("C1", "2026-11-30", 2, {"lines": []}),
}


def test_every_kind_has_a_builder() -> None:
    assert {entry.kind for entry in ENTRIES.values()} == set(Kind)


def test_keys_are_distinct_and_built_from_their_inputs_only() -> None:
    keys = [entry.key for entry in ENTRIES.values()]
    assert len(set(keys)) == len(keys)
    assert outbox.post("C1", 7) == outbox.post("C1", 7)
    assert outbox.post("C1", 7).key != outbox.post("C2", 7).key
    assert outbox.update("C1", 7, "v2").key != outbox.update("C1", 7, "v3").key


@pytest.mark.parametrize(
    ("entry", "incident", "group"),
    [
        (ENTRIES["post"], 7, None),
        (ENTRIES["reply"], 7, None),
        (ENTRIES["group_list"], None, 3),
        (ENTRIES["feed_up"], None, None),
    ],
)
def test_entries_carry_the_target_they_are_for(entry: outbox.Entry, incident: int | None, group: int | None) -> None:
    assert (entry.incident_id, entry.group_id) == (incident, group)


def test_a_group_list_part_says_how_many_companies_it_holds() -> None:
    assert ENTRIES["group_list"].body == {"part": 2, "parts": 5, "per": 40}


def test_a_digest_is_keyed_by_channel_and_local_date_only() -> None:
    # Once a day per channel, whichever process or restart queues it: no clock, no process in the key.
    assert outbox.digest("C1", "2026-11-30", {"at": "a"}).key == outbox.digest("C1", "2026-11-30", {"at": "b"}).key
    assert outbox.digest("C1", "2026-11-30", {}).key != outbox.digest("C1", "2026-12-01", {}).key
    assert outbox.digest("C1", "2026-11-30", {}).key != outbox.digest("C2", "2026-11-30", {}).key
    part = outbox.digest_list("C1", "2026-11-30", 2, {"lines": []})
    assert part.kind.in_thread and part.body is not None and part.body["parent"] == outbox.digest_key("C1", "2026-11-30")
    assert outbox.digest("C1", "2026-11-30", {}).kind.posts_new_message


def test_a_device_event_is_told_once_per_version_of_its_incidents() -> None:
    first = outbox.device_event("C1", 3, "returned", [(7, 2), (9, 1)])
    assert first == outbox.device_event("C1", 3, "returned", [(9, 1), (7, 2)])
    assert first.key != outbox.device_event("C1", 3, "returned", [(7, 4), (9, 1)]).key  # back again, then returned again
    assert first.key != outbox.device_event("C1", 3, "joined", [(7, 2), (9, 1)]).key
    assert first.key != outbox.device_event("C1", 3, "returned", [(7, 2)]).key
    assert first.group_id == 3 and first.kind.for_group and first.body == {"event": "returned", "incidents": [7, 9]}
