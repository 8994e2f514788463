"""When does a change become an alert, and when is it over? A pure state machine per company and condition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.alerting.conditions import SPECS, Condition, observe

__all__ = ["Condition", "ConditionState", "Phase", "Transition", "Verb", "decide", "observe"]


class Phase(StrEnum):
    PENDING = "pending"  # seen, not yet alertable (a Sync App inside its grace period)
    OPEN = "open"  # alerted: its recovery will be told
    QUIET = "quiet"  # known, never alerted (there at the first poll, or a company never connected)


@dataclass(frozen=True, slots=True)
class ConditionState:
    condition: Condition
    phase: Phase
    since: datetime
    detail: str
    incident_id: int | None = None


class Verb(StrEnum):
    OPEN = "open"  # a new incident: alert
    CHANGE = "change"  # the open incident's detail changed (a new error message): update and say so
    RESOLVE = "resolve"  # the open incident is over: update and say so
    TRACK = "track"  # remember without alerting (pending or quiet, or a silent detail change)
    DROP = "drop"  # forget a pending or quiet condition that cleared: nothing was said, nothing to say


@dataclass(frozen=True, slots=True)
class Transition:
    verb: Verb
    condition: Condition
    detail: str = ""
    since: datetime | None = None
    phase: Phase | None = None
    incident_id: int | None = None


def decide(
    present: dict[Condition, str],
    known: dict[Condition, ConditionState],
    now: datetime,
    grace: timedelta,
    *,
    baseline: bool,
    new_company: bool,
) -> list[Transition]:
    """What happens to each condition of one company, given what it shows now and what was known.

    `baseline`: the bot's first good poll; what exists then is the state of the world, not news.
    `new_company`: first seen in this poll; a company that was never connected is not "disconnected".
    """
    transitions: list[Transition] = []
    for condition, detail in present.items():
        state = known.get(condition)
        spec = SPECS[condition]
        if state is None:
            if baseline or (spec.quiet_on_new_company and new_company):
                transitions.append(Transition(Verb.TRACK, condition, detail, now, Phase.QUIET))
            elif spec.uses_grace and grace > timedelta(0):
                transitions.append(Transition(Verb.TRACK, condition, detail, now, Phase.PENDING))
            else:
                transitions.append(Transition(Verb.OPEN, condition, detail, now))
        elif state.phase is Phase.PENDING:
            if now - state.since >= grace:
                transitions.append(Transition(Verb.OPEN, condition, detail, state.since))
            elif detail != state.detail:
                transitions.append(Transition(Verb.TRACK, condition, detail, state.since, Phase.PENDING))
        elif state.phase is Phase.QUIET:
            if spec.new_detail_is_news and detail != state.detail:
                # A new message is a new problem, even on a company whose old one was never alerted.
                transitions.append(Transition(Verb.OPEN, condition, detail, now))
            elif detail != state.detail:
                transitions.append(Transition(Verb.TRACK, condition, detail, state.since, Phase.QUIET))
        elif detail != state.detail:
            verb = Verb.CHANGE if spec.new_detail_is_news else Verb.TRACK
            transitions.append(Transition(verb, condition, detail, state.since, Phase.OPEN, state.incident_id))
    for condition, state in known.items():
        if condition in present:
            continue
        if state.phase is Phase.OPEN:
            transitions.append(Transition(Verb.RESOLVE, condition, state.detail, state.since, incident_id=state.incident_id))
        else:
            transitions.append(Transition(Verb.DROP, condition))
    return transitions
