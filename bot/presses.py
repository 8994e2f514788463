"""Which presses of a button are the same press: dedup keys, pure.

Every button acts once per person, target and action. A second press by the same person, Slack retrying the
request (X-Slack-Retry-Num) or, for actions whose effect everyone shares (acknowledge, snooze), a second
person pressing at the same moment finds the key already claimed (storage/presses.py) and changes and posts
nothing. A key may act again after `hold`, where acting again makes sense (a snooze that has ended, checking
again later); None holds for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.slack.actions import (
    ACK_ACTION,
    CHECK_ACTION,
    GRANTED_ACTION,
    OPEN_CARD_ACTION,
    REMIND_ACTION,
    SNOOZE_DAY_ACTION,
    SNOOZE_HOUR_ACTION,
)

# How long the same person's press of a button that only reads (open a card, page the Home tab) counts as the
# same press: double clicks and Slack's retries (it retries after 3 s, up to 3 times) fall inside.
READ_HOLD = timedelta(seconds=10)
# Check again: a press within this time of the last one is the same press (bot/handlers check RECHECK_AFTER too).
CHECK_HOLD = timedelta(seconds=5)
# A reminder being sent: the same press again within this time is a double click (bot/reminders/decide.py).
IN_FLIGHT = timedelta(minutes=2)
TARGET_LIMIT = 200  # characters of a target kept in a key


@dataclass(frozen=True, slots=True)
class PressRule:
    shared: bool  # one press for everyone (the effect is the same whoever presses)
    hold: timedelta | None  # None: the key never acts again


RULES: dict[str, PressRule] = {
    ACK_ACTION: PressRule(shared=True, hold=None),
    # Held until the snooze ends (see press_key's `until`); 1 hour and 1 day are different actions.
    SNOOZE_HOUR_ACTION: PressRule(shared=True, hold=timedelta(hours=1)),
    SNOOZE_DAY_ACTION: PressRule(shared=True, hold=timedelta(days=1)),
    CHECK_ACTION: PressRule(shared=False, hold=CHECK_HOLD),
    REMIND_ACTION: PressRule(shared=False, hold=IN_FLIGHT),
    GRANTED_ACTION: PressRule(shared=True, hold=None),
    OPEN_CARD_ACTION: PressRule(shared=False, hold=READ_HOLD),
    "home": PressRule(shared=False, hold=READ_HOLD),
}


@dataclass(frozen=True, slots=True)
class Press:
    key: str
    user_id: str
    until: datetime | None


def press_key(action: str, target: str, user_id: str, now: datetime) -> Press:
    """The dedup key of `user_id` pressing `action` on `target` (an alert, a company, a reminder, a view).

    `action` is a key of RULES (an unknown one is per person, held READ_HOLD)."""
    rule = RULES.get(action, PressRule(shared=False, hold=READ_HOLD))
    who = "*" if rule.shared else user_id
    until = None if rule.hold is None else now + rule.hold
    return Press(f"{action}|{target[:TARGET_LIMIT]}|{who}", user_id, until)
