"""Remind the account holder to grant the Company settings permission: the decisions, no I/O (words: messages.py).

The loop: a user without the permission presses "Remind account holder" -> the holder gets a DM with an
"I've granted it" button -> the requester is told they have access (when the holder says so, or when
the feed shows it, whichever comes first, once) -> the holder's DM is updated to show it is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Iterable

from bot.practice.models import Account, Person, StoredCompany
from bot.practice.permissions import Viewer
from bot.presses import IN_FLIGHT

# One reminder a day per person and company; a send in flight blocks a double click, but not for ever.
REMIND_INTERVAL = timedelta(hours=24)
# The holder's word stands this many good polls before the requester is told AutoEntry does not show it.
CONFIRM_POLLS = 3
# Older unanswered reminders are no longer watched by the poll hook.
WATCH_FOR = timedelta(days=30)


class Outcome(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    HOLDER_NOT_IN_SLACK = "holder_not_in_slack"
    GRANTED_CLAIMED = "granted_claimed"  # the holder pressed "I've granted it"
    GRANTED_CONFIRMED = "granted_confirmed"  # the feed shows the permission
    # and "failed:<slack error>"


def failed(error: str) -> str:
    return f"failed:{error}"


# Outcomes of a reminder that reached the account holder: these count for the once-a-day rule.
DELIVERED = (Outcome.SENT.value, Outcome.GRANTED_CLAIMED.value, Outcome.GRANTED_CONFIRMED.value)


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    company_id: str
    company_name: str
    requester_user_id: str
    requester_email: str
    requester_name: str
    holder_email: str
    holder_name: str
    holder_user_id: str | None
    dm_channel: str | None
    dm_ts: str | None
    requested_at: datetime
    sent_at: datetime | None
    outcome: str
    error: str | None
    claimed_at: datetime | None
    claimed_polls: int
    unconfirmed_told_at: datetime | None
    confirmed_at: datetime | None
    access_told_at: datetime | None
    closed_at: datetime | None

    @property
    def requester(self) -> Person:
        return Person(self.requester_name, self.requester_email)

    @property
    def holder(self) -> Person:
        return Person(self.holder_name, self.holder_email)


# --- may I send? --------------------------------------------------------------------------------


class Verdict(StrEnum):
    SEND = "send"
    NO_PRACTICE = "no_practice"  # no poll has finished yet
    UNKNOWN_COMPANY = "unknown_company"
    NOT_ACCOUNT_USER = "not_account_user"
    ALREADY_PERMITTED = "already_permitted"
    REPEAT = "repeat"  # reminded less than a day ago
    IN_FLIGHT = "in_flight"  # the same reminder is being sent right now (a double click)


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    last: Reminder | None = None

    @property
    def send(self) -> bool:
        return self.verdict is Verdict.SEND


def blocking(previous: Iterable[Reminder], now: datetime) -> Reminder | None:
    """The reminder that makes a new one a repeat: one delivered within a day, or one being sent now."""
    found: Reminder | None = None
    for reminder in previous:
        if reminder.outcome in DELIVERED and reminder.sent_at and now - reminder.sent_at < REMIND_INTERVAL:
            current = found.sent_at if found and found.sent_at else None
            if current is None or reminder.sent_at > current:
                found = reminder
        elif reminder.outcome == Outcome.PENDING and now - reminder.requested_at < IN_FLIGHT and found is None:
            found = reminder
    return found


def decide(
    viewer: Viewer,
    account: Account | None,
    company: StoredCompany | None,
    previous: Iterable[Reminder],
    now: datetime,
) -> Decision:
    """May this person's press send the account holder a reminder now?"""
    if account is None:
        return Decision(Verdict.NO_PRACTICE)
    if company is None:
        return Decision(Verdict.UNKNOWN_COMPANY)
    if viewer.has_company_settings(company.id):
        return Decision(Verdict.ALREADY_PERMITTED)
    if not viewer.is_account_user:
        return Decision(Verdict.NOT_ACCOUNT_USER)
    last = blocking(previous, now)
    if last is not None:
        return Decision(Verdict.IN_FLIGHT if last.outcome == Outcome.PENDING else Verdict.REPEAT, last)
    return Decision(Verdict.SEND)


def has_permission(account: Account | None, email: str, company_id: str) -> bool:
    """What the feed says now."""
    if account is None:
        return False
    if account.is_holder(email):
        return True
    user = account.user_by_email(email)
    return user is not None and user.has_company_settings(company_id)


# --- after a poll -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollStep:
    """What a poll means for one requester's reminders about one company."""

    reminders: tuple[Reminder, ...]
    confirmed: bool  # the feed shows the permission: close the loop
    tell_access: bool  # the requester has not yet been told they have access
    count_poll: bool  # the holder claimed it and the feed does not show it: one more poll without it
    tell_unconfirmed: bool  # ... and that was the CONFIRM_POLLS-th: say so, once

    @property
    def first(self) -> Reminder:
        return self.reminders[0]


def group_key(reminder: Reminder) -> tuple[str, str]:
    return reminder.requester_email, reminder.company_id


def grouped(reminders: Iterable[Reminder]) -> list[tuple[Reminder, ...]]:
    groups: dict[tuple[str, str], list[Reminder]] = {}
    for reminder in reminders:
        groups.setdefault(group_key(reminder), []).append(reminder)
    return [tuple(sorted(group, key=lambda r: r.id)) for group in groups.values()]


def poll_steps(open_reminders: Iterable[Reminder], account: Account | None) -> list[PollStep]:
    """For each person and company with an open reminder: what the latest good poll changes."""
    steps: list[PollStep] = []
    for group in grouped(open_reminders):
        first = group[0]
        told = any(r.access_told_at for r in group)
        if has_permission(account, first.requester_email, first.company_id):
            steps.append(PollStep(group, True, not told, False, False))
            continue
        claimed = [r for r in group if r.claimed_at]
        if not claimed:
            continue
        polls = max(r.claimed_polls for r in claimed) + 1
        already = any(r.unconfirmed_told_at for r in group)
        steps.append(PollStep(group, False, False, True, polls >= CONFIRM_POLLS and not already))
    return steps
