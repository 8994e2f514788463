"""Every button's action id, and the reading of the values buttons carry back: one owner for both.

Slack sends back a button's `action_id` and `value` as the presser's client sent them, so a value is
untrusted input: ids in it are read only as 1-18 ASCII digits (`parse_id`), never as whatever `int()`
accepts (it takes `١٢` and 30-digit numbers).
"""

from __future__ import annotations

# The status card and the pick list.
OPEN_CARD_ACTION = "open_status_card"
REMIND_ACTION = "remind_account_holder"
# The account holder's reminder DM.
GRANTED_ACTION = "reminder_granted"
# Alerts (one company's, or a storm's grouped message).
ACK_ACTION = "alert_ack"
SNOOZE_HOUR_ACTION = "alert_snooze_1h"
SNOOZE_DAY_ACTION = "alert_snooze_1d"
CHECK_ACTION = "alert_check"
HELP_ACTION = "alert_help"
# The App Home.
HOME_FILTER_ACTION = "home_filter"
HOME_PAGE_ACTION = "home_page"
# `list` / `list errors`: the next or previous companies of a long list (`overview_page:next`).
OVERVIEW_PAGE_ACTION = "overview_page"

ALL_ACTIONS = frozenset(
    {
        OPEN_CARD_ACTION,
        REMIND_ACTION,
        GRANTED_ACTION,
        ACK_ACTION,
        SNOOZE_HOUR_ACTION,
        SNOOZE_DAY_ACTION,
        CHECK_ACTION,
        HELP_ACTION,
        HOME_FILTER_ACTION,
        HOME_PAGE_ACTION,
        OVERVIEW_PAGE_ACTION,
    }
)

ID_DIGITS = 18  # within SQLite's signed 64-bit INTEGER


def parse_id(text: object, *, digits: int = ID_DIGITS) -> int | None:
    """A positive id from a button value: 1 to `digits` ASCII digits, else None."""
    if not isinstance(text, str) or not 0 < len(text) <= digits or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number > 0 else None


def parse_target(value: object) -> tuple[str, int] | None:
    """An alert button's value: `i:<incident>` for one company's alert, `g:<group>` for a storm's message."""
    if not isinstance(value, str):
        return None
    kind, _, number = value.partition(":")
    parsed = parse_id(number)
    if kind not in ("i", "g") or parsed is None:
        return None
    return kind, parsed
