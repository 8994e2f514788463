"""bot.alerting.conditions and the pure state machine in bot.alerting.transitions, without any I/O."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.alerting.conditions import SPECS, Condition, observe
from bot.alerting.messages import CONDITION_TEXT
from bot.alerting.transitions import ConditionState, Phase, Verb, decide
from bot.practice.models import parse_company
from tests.practice import company

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
GRACE = timedelta(minutes=10)


def status(**fields: Any):  # type: ignore[no-untyped-def]
    return parse_company(company("c_1", "Acme Ltd", **fields))


def test_every_condition_has_a_spec_and_its_words() -> None:
    assert set(SPECS) == set(Condition)
    assert set(CONDITION_TEXT) == set(Condition)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, {}),
        ({"integration_status": "not_integrated"}, {Condition.DISCONNECTED: ""}),
        (
            {"integration_status": "error", "error": {"kind": "publication", "message": "Account Code 4010 is archived"}},
            {Condition.ERROR: "Account Code 4010 is archived"},
        ),
        (
            {"sync_app": {"status": "offline", "location": "RECEPTION-PC", "last_seen_at": "2026-11-30T08:00:00Z"}},
            {Condition.SYNC_OFFLINE: "RECEPTION-PC"},
        ),
        (
            {
                "integration_status": "not_integrated",
                "sync_app": {"status": "offline", "location": None, "last_seen_at": None},
            },
            {Condition.DISCONNECTED: "", Condition.SYNC_OFFLINE: ""},
        ),
    ],
)
def test_observe_reads_each_condition_off_the_status(fields: dict[str, Any], expected: dict[Condition, str]) -> None:
    assert observe(status(**fields)) == expected


def _verbs(present: dict[Condition, str], known: dict[Condition, ConditionState], **kw: Any) -> list[tuple[Verb, Condition]]:
    kw = {"baseline": False, "new_company": False} | kw
    return [(t.verb, t.condition) for t in decide(present, known, NOW, GRACE, **kw)]


@pytest.mark.parametrize(
    ("present", "known", "kw", "expected"),
    [
        # The first poll is the state of the world, not news.
        ({Condition.ERROR: "x"}, {}, {"baseline": True}, [(Verb.TRACK, Condition.ERROR)]),
        ({Condition.ERROR: "x"}, {}, {}, [(Verb.OPEN, Condition.ERROR)]),
        # A company never connected is not "disconnected"; one that was, is.
        ({Condition.DISCONNECTED: ""}, {}, {"new_company": True}, [(Verb.TRACK, Condition.DISCONNECTED)]),
        ({Condition.DISCONNECTED: ""}, {}, {}, [(Verb.OPEN, Condition.DISCONNECTED)]),
        # A Sync App waits out its grace period.
        ({Condition.SYNC_OFFLINE: "PC"}, {}, {}, [(Verb.TRACK, Condition.SYNC_OFFLINE)]),
        (
            {Condition.SYNC_OFFLINE: "PC"},
            {Condition.SYNC_OFFLINE: ConditionState(Condition.SYNC_OFFLINE, Phase.PENDING, NOW - GRACE, "PC")},
            {},
            [(Verb.OPEN, Condition.SYNC_OFFLINE)],
        ),
        # A new error message is a new problem, told as a change of the open incident.
        (
            {Condition.ERROR: "new"},
            {Condition.ERROR: ConditionState(Condition.ERROR, Phase.OPEN, NOW, "old", 1)},
            {},
            [(Verb.CHANGE, Condition.ERROR)],
        ),
        (
            {Condition.ERROR: "new"},
            {Condition.ERROR: ConditionState(Condition.ERROR, Phase.QUIET, NOW, "old")},
            {},
            [(Verb.OPEN, Condition.ERROR)],
        ),
        # Cleared: told only where it was alerted.
        ({}, {Condition.ERROR: ConditionState(Condition.ERROR, Phase.OPEN, NOW, "x", 1)}, {}, [(Verb.RESOLVE, Condition.ERROR)]),
        ({}, {Condition.ERROR: ConditionState(Condition.ERROR, Phase.QUIET, NOW, "x")}, {}, [(Verb.DROP, Condition.ERROR)]),
    ],
)
def test_decide(
    present: dict[Condition, str], known: dict[Condition, ConditionState], kw: dict[str, Any], expected: list[Any]
) -> None:
    assert _verbs(present, known, **kw) == expected
