"""Remind the account holder to grant the Company settings permission: decisions and messages, no I/O.

The loop: a user without the permission presses "Remind account holder" -> the holder gets a DM with an
"I've granted it" button -> the requester is told they have access (when the holder says so, or when
the feed shows it, whichever comes first, once) -> the holder's DM is updated to show it is done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Iterable

from bot.answers.render import (
    Block,
    Message,
    actions,
    button,
    context,
    escape,
    section,
    slack_time,
)
from bot.practice.models import Account, Person, StoredCompany
from bot.practice.permissions import Viewer
from bot.slack.actions import GRANTED_ACTION

# One reminder a day per person and company; a send in flight blocks a double click, but not for ever.
REMIND_INTERVAL = timedelta(hours=24)
IN_FLIGHT = timedelta(minutes=2)
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


# --- messages -----------------------------------------------------------------------------------

_SLACK_ID = re.compile(r"[A-Z0-9_]{2,40}")


def mention(user_id: str | None) -> str:
    """`<@U123>` for a real-looking Slack user id; anything else is not put in a mention."""
    return f"<@{user_id}>" if user_id and _SLACK_ID.fullmatch(user_id) else ""


def person_text(person: Person) -> str:
    """Name and email, mrkdwn-escaped."""
    name = person.name or person.email
    return f"{escape(name)} ({escape(person.email)})" if person.name else escape(person.email)


def how_to_grant(requester: Person, company_name: str) -> str:
    who = escape(requester.name or requester.email)
    return (
        f"In AutoEntry, open *Users* (account settings), edit *{who}* ({escape(requester.email)}), and give "
        f"them the *Company settings* permission for *{escape(company_name)}*."
    )


WHAT_IT_OPENS = (
    "*What it opens:* the company's *Integrate* page in AutoEntry, with the details of the integration "
    "(the exact error message, the Desktop Sync App's status and location) and reconnecting, and the "
    "company's Company Settings."
)


def holder_request(
    requester_user_id: str, requester: Person, company_name: str, practice_name: str, reminder_id: int
) -> Message:
    """The account holder's DM: who asks, for which company, what it opens, where to grant it."""
    who_mention = mention(requester_user_id)
    known_as = escape(requester.name) + ", " + escape(requester.email) if requester.name else escape(requester.email)
    who = f"{who_mention} (in AutoEntry: {known_as})" if who_mention else person_text(requester)
    company = escape(company_name)
    blocks: list[Block] = [
        section(f":key: {who} asks you for the *Company settings* permission on *{company}*."),
        section(WHAT_IT_OPENS),
        section("*How to grant it:* " + how_to_grant(requester, company_name)),
        actions(
            [button("I've granted it", GRANTED_ACTION, str(reminder_id), style="primary")],
            block_id=f"reminder:{reminder_id}",
        ),
        context(
            f"You get this because you are the account holder of {escape(practice_name)} in AutoEntry. "
            "Press the button once it is done and I will tell them."
        ),
    ]
    text = f"{escape(requester.name or requester.email)} asks for the Company settings permission on {company}"
    return Message(text=text, blocks=blocks)


def holder_done(reminder: Reminder, *, confirmed: bool, now: datetime) -> Message:
    """The holder's DM once the loop is closed: no button any more."""
    requester = reminder.requester
    who = mention(reminder.requester_user_id) or escape(requester.name or requester.email)
    company = escape(reminder.company_name)
    if confirmed:
        line = (
            f":white_check_mark: Done: AutoEntry shows that {who} ({person_text(requester)}) has the "
            f"*Company settings* permission on *{company}*. I have told them."
        )
    else:
        line = (
            f":hourglass_flowing_sand: Thanks: I have told {who} ({person_text(requester)}) that you granted the "
            f"*Company settings* permission on *{company}*. I will send them the details as soon as AutoEntry "
            "shows it."
        )
    blocks = [section(line), context(f"Asked {slack_time(reminder.sent_at or reminder.requested_at)}; closed {slack_time(now)}.")]
    text = f"Done: {escape(requester.name or requester.email)} has the Company settings permission on {company}"
    return Message(text=text, blocks=blocks)


def access_claimed(reminder: Reminder) -> Message:
    """The requester's DM when the holder says it is granted but the feed does not show it yet."""
    company = escape(reminder.company_name)
    holder = escape(reminder.holder_name or reminder.holder_email)
    text = f"{holder} has granted you the Company settings permission on {company}"
    body = (
        f":unlock: {holder}, the account holder, says you now have the *Company settings* permission on "
        f"*{company}*. AutoEntry does not show it yet: I will send you the company's full status as soon as it does."
    )
    return Message(text=text, blocks=[section(body)])


def access_granted(reminder: Reminder, card: Message | None, *, confirmed: bool) -> Message:
    """The requester's DM: they now have access, with the company's full card."""
    company = escape(reminder.company_name)
    holder = escape(reminder.holder_name or reminder.holder_email)
    if confirmed:
        line = f":unlock: You now have the *Company settings* permission on *{company}*: AutoEntry shows it."
    else:
        line = (
            f":unlock: You now have the *Company settings* permission on *{company}*: {holder}, the account "
            "holder, has granted it."
        )
    if card is not None:
        line += " Here is its full status."
    blocks: list[Block] = [section(line)]
    if card is not None:
        blocks += card.blocks[:48]
    return Message(text=f"You now have the Company settings permission on {company}", blocks=blocks)


def not_confirmed(reminder: Reminder) -> Message:
    """Said once, when the holder's "I've granted it" is not in the feed after CONFIRM_POLLS polls."""
    company = escape(reminder.company_name)
    holder = escape(reminder.holder_name or reminder.holder_email)
    text = f"{holder} says it is granted; AutoEntry does not show it yet"
    body = (
        f":hourglass_flowing_sand: {holder} says the *Company settings* permission on *{company}* is granted; "
        f"AutoEntry does not show it yet ({CONFIRM_POLLS} checks since). Until it does, the status card shows "
        f"you the Home page level only. If it does not appear soon, ask {holder} to check it in AutoEntry "
        f"(Users, {escape(reminder.requester_email)}, Company settings for {company})."
    )
    return Message(text=text, blocks=[section(body)])


def _note(mrkdwn: str, text: str | None = None) -> Message:
    return Message(text=text or mrkdwn, blocks=[section(mrkdwn)])


def reminder_sent(holder: Person, holder_user_id: str | None, company_name: str) -> Message:
    who = mention(holder_user_id)
    name = person_text(holder)
    line = (
        f":incoming_envelope: Sent: I asked the account holder, {name}{' ' + who if who else ''}, to give you "
        f"the *Company settings* permission on *{escape(company_name)}*. I will message you when it is done."
    )
    return _note(line, f"Reminder sent to {escape(holder.name or holder.email)}")


def repeat(last: Reminder, now: datetime) -> Message:
    sent = last.sent_at or last.requested_at
    line = (
        f"You already reminded {escape(last.holder_name or last.holder_email)} about *{escape(last.company_name)}* "
        f"{slack_time(sent)}. Nothing new was sent: one reminder a day. You can send another after "
        f"{slack_time(sent + REMIND_INTERVAL)}."
    )
    return _note(line, f"Already reminded {slack_time(sent)}; nothing new was sent")


def in_flight(company_name: str) -> Message:
    return _note(f"A reminder about *{escape(company_name)}* is being sent right now; nothing new was sent.")


def holder_not_in_slack(holder: Person, requester: Person, company_name: str) -> Message:
    line = (
        f"The account holder, {person_text(holder)}, is not in this Slack workspace, so I could not message "
        f"them. Nothing was sent. Please contact {escape(holder.name or holder.email)} at "
        f"{escape(holder.email)} and ask for the *Company settings* permission on *{escape(company_name)}*.\n"
        f"What they need to do: {how_to_grant(requester, company_name)}"
    )
    text = f"The account holder is not in Slack: contact {escape(holder.name or holder.email)} ({escape(holder.email)})"
    return _note(line, text)


def slack_failure_reason(error: str) -> str:
    if error == "ratelimited":
        return "Slack is limiting how fast the bot may send right now"
    if error == "network_error":
        return "the bot could not reach Slack"
    if error in ("channel_not_found", "not_in_channel", "cannot_dm_bot", "user_disabled", "user_not_found"):
        return f"Slack would not let the bot message them ({error})"
    return f"Slack answered with an error ({error})"


def send_failed(holder: Person, company_name: str, error: str) -> Message:
    reason = slack_failure_reason(error)
    line = (
        f":warning: The reminder about *{escape(company_name)}* did not go: {escape(reason)}. Nothing was sent "
        f"to {person_text(holder)}. Please try again in a few minutes, or contact them directly."
    )
    return _note(line, f"The reminder did not go: {escape(reason)}")


def already_permitted(company_name: str, card: Message | None) -> Message:
    line = (
        f"You already have the *Company settings* permission on *{escape(company_name)}*, so no reminder is "
        "needed and nothing was sent."
    )
    if card is not None:
        line += " Here is its full status."
    blocks = [section(line)] + (card.blocks[:48] if card else [])
    return Message(text=f"You already have the Company settings permission on {escape(company_name)}", blocks=blocks)


def not_account_user(viewer: Viewer) -> Message:
    """For a presser who is not one of the account's AutoEntry users: nothing about the account (not its name,
    nor its holder's name or email), only what to do. Their own email is theirs to see."""
    if viewer.email:
        why = f"your Slack email ({escape(viewer.email)}) is not one of this practice's AutoEntry users"
    else:
        why = "I could not read the email on your Slack profile, so I cannot match you to an AutoEntry user"
    line = (
        f"No reminder was sent: {why}, and a permission can only be given to an AutoEntry user. Ask the practice "
        "to add you as a user in AutoEntry first."
    )
    return _note(line, "No reminder was sent: you are not one of this practice's AutoEntry users")


def simple(text: str) -> Message:
    return _note(escape(text))


def granted_by_someone_else() -> Message:
    return simple("Only the account holder who got this reminder can confirm it.")


def unknown_reminder() -> Message:
    return simple("That reminder is no longer known; nothing was changed.")
