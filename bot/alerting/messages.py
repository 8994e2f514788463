"""One alert's message and its thread replies, what people read about each condition, and notices about the
bot itself: pure functions of data. Grouped alerts: group_messages.py; the digest: digest_messages.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from bot.alerting.conditions import Condition
from bot.answers.render import article_mrkdwn, error_steps, plural, reconnect_step, restart_sync_app_step
from bot.helpcentre.matching import ArticleMatch
from bot.practice.models import ErrorKind
from bot.slack.actions import (
    ACK_ACTION,
    CHECK_ACTION,
    HELP_ACTION,
    REMIND_ACTION,
    SNOOZE_DAY_ACTION,
    SNOOZE_HOUR_ACTION,
)
from bot.slack.blockkit import (
    MESSAGE_TEXT_BUDGET,
    Block,
    Message,
    actions,
    button,
    clip,
    context,
    escape,
    escape_within,
    fit,
    section,
    slack_time,
    utc_text,
)

# More new alerts than this for one channel in one poll is a storm: one grouped message instead.
STORM_THRESHOLD = 3
GROUP_SECTIONS = 12  # kinds of problem spelled out in a grouped message; the rest are counted
NAMES_PER_SECTION = 8
# One line of a storm's full list is at most this long (its parts are clipped to fit), so a reply of
# COMPANIES_PER_REPLY lines stays within MESSAGE_TEXT_BUDGET whatever the names and messages.
LIST_LINE_LIMIT = 240
COMPANIES_PER_REPLY = (MESSAGE_TEXT_BUDGET - 200) // (LIST_LINE_LIMIT + 1)  # 40


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """One incident as a channel sees it."""

    incident_id: int
    company_id: str
    company: str
    software: str
    condition: Condition
    detail: str
    error_kind: str | None
    since: datetime
    resolved_at: datetime | None
    article: ArticleMatch
    acked_by: str | None = None
    snoozed_until: datetime | None = None
    checked_at: datetime | None = None
    # Other problems the company has now, for a resolved incident: "resolved" must not read "all fine".
    still_wrong: tuple[str, ...] = ()
    # Came back this many times within the flap window; marked flapping (bot.alerting.flapping).
    flaps: int = 0
    flapping: bool = False
    # When it last came back (reopened within the flap window): its latest episode starts there, not at `since`.
    back_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConditionText:
    """What people read about one condition (bot.alerting.conditions.Condition); every field a sentence part."""

    icon: str  # the alert's emoji while open
    phrase: Callable[[str], str]  # "<company> is ...": detail -> words, for "still wrong"
    headline: Callable[[str, str, str, str | None], str]  # (name, software, detail, error kind) -> one line
    what_changed: Callable[[str], str]  # (when, as Slack time) -> a sentence
    group_title: Callable[[str], str]  # (software) -> a storm's line heading
    list_line: Callable[[str], str]  # (detail) -> a storm list's problem text


def _error_headline(name: str, software: str, detail: str, error_kind: str | None) -> str:
    kind = "publication" if error_kind == ErrorKind.PUBLICATION.value else "synchronisation"
    return f"{name}: {kind} error in {software or 'the integration'}"


CONDITION_TEXT: dict[Condition, ConditionText] = {
    Condition.ERROR: ConditionText(
        icon=":no_entry_sign:",
        phrase=lambda detail: "in error",
        headline=_error_headline,
        what_changed=lambda since: f"The Home page status turned to *Error* {since}.",
        group_title=lambda software: f"{software}: Error",
        list_line=lambda detail: f"Error: {clip(detail, 100)}",
    ),
    Condition.DISCONNECTED: ConditionText(
        icon=":heavy_minus_sign:",
        phrase=lambda detail: "not integrated",
        headline=lambda name, software, detail, kind: (
            f"{name}: disconnected from {software or 'its accounting software'} (Not integrated)"
        ),
        what_changed=lambda since: f"The integration turned to *Not integrated* {since}: publishing has stopped.",
        group_title=lambda software: f"{software}: Not integrated (disconnected)",
        list_line=lambda detail: "Not integrated",
    ),
    Condition.SYNC_OFFLINE: ConditionText(
        icon=":electric_plug:",
        phrase=lambda where: f"its Sync App is offline{f' on {where}' if where else ''}",
        headline=lambda name, software, where, kind: f"{name}: the Desktop Sync App{f' on {where}' if where else ''} is offline",
        what_changed=lambda since: (
            f"Offline since {since}. The Home page can still say Integrated: a Sync App problem does not show there, "
            "but nothing publishes until it runs again."
        ),
        group_title=lambda software: f"{software}: Desktop Sync App offline",
        list_line=lambda where: f"Sync App offline on {where or 'its computer'}",
    ),
}


def problem_phrases(present: dict[Condition, str]) -> tuple[str, ...]:
    return tuple(CONDITION_TEXT[condition].phrase(detail) for condition, detail in present.items())


def duration_text(start: datetime, end: datetime) -> str:
    minutes = max(0, int((end - start).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def headline(facts: AlertFacts) -> str:
    """Plain text: what is wrong, in one line."""
    return CONDITION_TEXT[facts.condition].headline(facts.company, facts.software, facts.detail, facts.error_kind)


def what_changed(facts: AlertFacts) -> str:
    return CONDITION_TEXT[facts.condition].what_changed(slack_time(facts.since))


def alert_steps(facts: AlertFacts) -> list[str]:
    if facts.condition is Condition.ERROR:
        return error_steps(ErrorKind(facts.error_kind or ErrorKind.SYNCHRONISATION.value))
    if facts.condition is Condition.DISCONNECTED:
        return [reconnect_step(facts.software)]
    return [restart_sync_app_step(facts.detail or None)]


def needs_integrate_page(condition: Condition, error_kind: str | None) -> bool:
    """Where the fix is on the Integrate page, people without the permission need the account holder."""
    return condition is not Condition.ERROR or error_kind != ErrorKind.PUBLICATION.value


def flapping_note(flaps: int) -> str:
    return (
        f":repeat: *Flapping*: cleared and came back {plural(flaps, 'time')} in a short while. "
        "It stays this one message; each return is in the thread."
    )


def alert_message(facts: AlertFacts, *, value: str | None = None) -> Message:
    """One incident's message; `value`: its buttons' value when the message stands for a device alert (`g:<id>`)."""
    title = headline(facts)
    resolved = facts.resolved_at is not None
    icon = ":white_check_mark:" if resolved else CONDITION_TEXT[facts.condition].icon
    prefix = ("Cleared: " if facts.still_wrong else "Resolved: ") if resolved else ""
    blocks: list[Block] = [section(f"{icon} *{escape(prefix + title)}*")]
    if resolved:
        assert facts.resolved_at is not None
        after = duration_text(facts.since, facts.resolved_at)
        if facts.still_wrong:
            still = escape(" and ".join(facts.still_wrong))
            blocks.append(
                section(f"This cleared {slack_time(facts.resolved_at)}, after {after}, but the company is now {still}.")
            )
        else:
            blocks.append(section(f"Working again {slack_time(facts.resolved_at)}, after {after}."))
    else:
        blocks.append(section(what_changed(facts)))
    if facts.condition is Condition.ERROR and facts.detail:
        blocks.append(section(f"*Exact error message*\n```{escape_within(facts.detail, 2900)}```"))
    if not resolved:
        blocks.append(section("*What to do next*\n" + "\n".join(f"• {escape(step)}" for step in alert_steps(facts))))
    blocks.append(section(article_mrkdwn(facts.article)))
    status_notes = []
    if facts.acked_by:
        status_notes.append(f":eyes: Acknowledged by <@{facts.acked_by}>")
    if facts.snoozed_until and not resolved:
        status_notes.append(f":zzz: Snoozed in this channel until {slack_time(facts.snoozed_until)}")
    if facts.checked_at and not resolved:
        status_notes.append(f":arrows_counterclockwise: Checked again {slack_time(facts.checked_at)}: still a problem")
    if status_notes:
        blocks.append(context(" · ".join(status_notes)))
    if facts.flapping:
        blocks.append(context(flapping_note(facts.flaps)))
    value = value or f"i:{facts.incident_id}"
    if not resolved:
        buttons = alert_buttons(value, facts.article.article.url)
        if needs_integrate_page(facts.condition, facts.error_kind):
            buttons.append(button("Remind account holder to grant permission", REMIND_ACTION, facts.company_id))
        blocks.append(actions(buttons, block_id=f"alert:{value}"))
    text = prefix + title
    if facts.condition is Condition.ERROR and facts.detail and not resolved:
        text += f": {clip(facts.detail, 200)}"
    return fit(Message(text=escape(text), blocks=blocks))


def alert_buttons(value: str, article_url: str | None = None) -> list[Block]:
    """The buttons every open alert carries, one company's, a computer's or a storm's (`value`: what they act
    on, bot/slack/actions.py); the Help Centre article's when there is one article for it all."""
    buttons = [
        button("Acknowledge", ACK_ACTION, value),
        button("Snooze 1 hour", SNOOZE_HOUR_ACTION, value),
        button("Snooze 1 day", SNOOZE_DAY_ACTION, value),
        button("Check again", CHECK_ACTION, value),
    ]
    if article_url is not None:
        buttons.append(button("Help Centre article", HELP_ACTION, value, url=article_url))
    return buttons


# --- thread replies: the incident's timeline ---------------------------------------------------


def changed_reply(facts: AlertFacts, previous: str, now: str) -> Message:
    """`now` is the message as it was when the change was seen (it may have changed again since)."""
    body = f":pencil2: The error message changed.\n*Now:* ```{escape_within(now, 1200)}```"
    if previous:
        body += f"\n*Before:* ```{escape_within(previous, 1200)}```"
    body += f"\n{article_mrkdwn(facts.article)}"
    return Message(text=escape(f"{facts.company}: the error message changed: {clip(now, 200)}"), blocks=[section(body)])


def resolved_reply(facts: AlertFacts, *, removed: bool = False) -> Message:
    assert facts.resolved_at is not None
    after = duration_text(facts.back_at or facts.since, facts.resolved_at)
    if removed:
        text = f"Closed: {facts.company} is no longer in the status feed (after {after}), so there is nothing more to tell."
        icon = ":wastebasket:"
    elif facts.still_wrong:
        text = f"Cleared after {after}, but {facts.company} is now {' and '.join(facts.still_wrong)}."
        icon = ":arrow_right:"
    else:
        text = f"Resolved: {facts.company} is working again after {after}."
        icon = ":white_check_mark:"
    return Message(text=escape(text), blocks=[section(f"{icon} {escape(text)}")])


def returned_reply(facts: AlertFacts) -> Message:
    """A company closed as removed is back in the feed with the same problem: its alert is open again."""
    text = f"Back in the status feed, and still the same problem: {facts.company}. This alert is open again."
    return Message(text=escape(text), blocks=[section(f":leftwards_arrow_with_hook: {escape(text)}")])


def back_again_reply(facts: AlertFacts, cleared_at: datetime | None) -> Message:
    """A problem back within the flap window: told in the thread of its own alert, which is open again."""
    # The time goes into the mrkdwn as Slack's date token, unescaped; everything around it is escaped.
    first = f"Back again: {headline(facts)}"
    rest = ". This alert is open again."
    if facts.condition is Condition.ERROR and facts.detail:
        rest += f" The message: {clip(facts.detail, 300)}"
    if facts.flapping:
        rest += f" It is flapping: back {plural(facts.flaps, 'time')} in a short while."
    plain = f" (it had cleared {utc_text(cleared_at)})" if cleared_at else ""
    token = f" (it had cleared {slack_time(cleared_at)})" if cleared_at else ""
    return Message(text=escape(first + plain + rest), blocks=[section(f":repeat: {escape(first)}{token}{escape(rest)}")])


def acknowledged_reply(user_id: str) -> Message:
    return Message(text=f"Acknowledged by <@{user_id}>.", blocks=[section(f":eyes: Acknowledged by <@{user_id}>.")])


def snoozed_reply(user_id: str, until: datetime, companies: int = 1) -> Message:
    what = "alerts for this company" if companies == 1 else f"alerts for these {companies} companies"
    text = f"<@{user_id}> snoozed {what} in this channel until {slack_time(until)}."
    return Message(text=text, blocks=[section(f":zzz: {text}")])


# --- the feed itself ------------------------------------------------------------------------------


def feed_outage_notice(since: datetime | None, problem: str, polls: int) -> Message:
    text = (
        f"The status feed has been failing for {polls} polls (since {utc_text(since)}): {problem}. "
        "Company statuses are frozen at their last known state; no company alerts until it recovers."
    )
    return Message(text=escape(text), blocks=[section(f":warning: {escape(text)}")])


def feed_recovered_notice(since: datetime | None) -> Message:
    text = f"The status feed is back (it had been failing since {utc_text(since)}). Alerts follow changes again."
    return Message(text=escape(text), blocks=[section(f":white_check_mark: {escape(text)}")])


# --- a channel the bot cannot post in -------------------------------------------------------------

BROKEN_REASONS = {
    "not_in_channel": "I'm not a member of it",
    "is_archived": "it is archived",
    "channel_not_found": "I can't find it (deleted, or private and I'm not in it)",
}


def broken_reason(error: str) -> str:
    """Why the bot cannot post in a channel, from Slack's error (channel_not_found, not_in_channel, is_archived)."""
    return BROKEN_REASONS.get(error, f"Slack says {error}")


def channel_broken_notice(channel: str, error: str) -> Message:
    """The direct message to whoever subscribed a channel the bot cannot post in."""
    text = (
        f"I can't post to <#{channel}>: {broken_reason(error)}. Invite me there (`/invite @` me in the channel), "
        "or unsubscribe it (`/integration-status unsubscribe all`, or the company, in that channel). "
        "Its alerts wait, and go out as soon as I'm in."
    )
    return Message(text=text, blocks=[section(f":warning: {text}")])
