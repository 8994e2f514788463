"""What the reminder loop says: to the person who asks, to the account holder, and after. No I/O."""

from __future__ import annotations

import re
from datetime import datetime

from bot.practice.models import Person
from bot.practice.permissions import Viewer
from bot.reminders.decide import CONFIRM_POLLS, REMIND_INTERVAL, Reminder
from bot.slack.actions import GRANTED_ACTION
from bot.slack.blockkit import Block, Message, actions, button, context, escape, section, slack_time

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


def holder_request(requester_user_id: str, requester: Person, company_name: str, practice_name: str, reminder_id: int) -> Message:
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


def unreadable_button(*, sent: bool) -> Message:
    return simple(f"I could not read that button. Nothing was {'sent' if sent else 'changed'}.")


def no_practice_yet() -> Message:
    return simple("No statuses yet: the first poll has not finished. Nothing was sent.")


def company_gone() -> Message:
    return simple("That company is no longer in the practice. Nothing was sent.")


def will_retry_telling() -> Message:
    return simple("Thanks. I could not message them just now; I will try again.")


def remind_failed() -> Message:
    return simple("Something went wrong on our side; no reminder was sent. Please try again.")


def granted_failed() -> Message:
    return simple("Something went wrong on our side. Please try again.")
