"""Alert messages, their thread replies and storm grouping: pure functions of data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Callable, Mapping, Sequence

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
    packed_sections,
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
        buttons = [
            button("Acknowledge", ACK_ACTION, value),
            button("Snooze 1 hour", SNOOZE_HOUR_ACTION, value),
            button("Snooze 1 day", SNOOZE_DAY_ACTION, value),
            button("Check again", CHECK_ACTION, value),
            button("Help Centre article", HELP_ACTION, value, url=facts.article.article.url),
        ]
        if needs_integrate_page(facts.condition, facts.error_kind):
            buttons.append(button("Remind account holder to grant permission", REMIND_ACTION, facts.company_id))
        blocks.append(actions(buttons, block_id=f"alert:{value}"))
    text = prefix + title
    if facts.condition is Condition.ERROR and facts.detail and not resolved:
        text += f": {clip(facts.detail, 200)}"
    return fit(Message(text=escape(text), blocks=blocks))


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
    after = duration_text(facts.since, facts.resolved_at)
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
    when = f" (it had cleared {slack_time(cleared_at)})" if cleared_at else ""
    text = f"Back again: {headline(facts)}{when}. This alert is open again."
    if facts.condition is Condition.ERROR and facts.detail:
        text += f" The message: {clip(facts.detail, 300)}"
    if facts.flapping:
        text += f" It is flapping: back {plural(facts.flaps, 'time')} in a short while."
    return Message(text=escape(text), blocks=[section(f":repeat: {escape(text)}")])


def acknowledged_reply(user_id: str) -> Message:
    return Message(text=f"Acknowledged by <@{user_id}>.", blocks=[section(f":eyes: Acknowledged by <@{user_id}>.")])


def snoozed_reply(user_id: str, until: datetime, companies: int = 1) -> Message:
    what = "alerts for this company" if companies == 1 else f"alerts for these {companies} companies"
    text = f"<@{user_id}> snoozed {what} in this channel until {slack_time(until)}."
    return Message(text=text, blocks=[section(f":zzz: {text}")])


# --- storms --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupMember:
    facts: AlertFacts

    @property
    def kind(self) -> tuple[str, str, str]:
        """(condition, the error's message or the Sync App's computer, software): one line of a storm each."""
        facts = self.facts
        shown = facts.detail if facts.condition in (Condition.ERROR, Condition.SYNC_OFFLINE) else ""
        return (facts.condition.value, shown, facts.software)


def group_kinds(members: Sequence[GroupMember]) -> list[tuple[tuple[str, str, str], list[GroupMember]]]:
    """Members grouped by condition, error message and software; the biggest group first."""
    grouped: dict[tuple[str, str, str], list[GroupMember]] = {}
    for member in members:
        grouped.setdefault(member.kind, []).append(member)
    return sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))


def _kind_title(kind: tuple[str, str, str]) -> str:
    condition, detail, software = kind
    title = CONDITION_TEXT[Condition(condition)].group_title(software or "unknown software")
    if condition == Condition.SYNC_OFFLINE.value and detail:
        return f"{detail}: {title}"  # one line per computer: one next step for all its companies
    return title


def group_message(group_id: int, members: Sequence[GroupMember], *, acked_by: str | None = None) -> Message:
    total = len(members)
    resolved = sum(1 for m in members if m.facts.resolved_at is not None)
    all_resolved = resolved == total
    kinds = group_kinds(members)
    if all_resolved:
        title = f"Resolved: all {total} companies are working again"
        icon = ":white_check_mark:"
    else:
        title = f"{total} companies went wrong at once ({plural(len(kinds), 'kind')} of problem)"
        icon = ":rotating_light:"
    blocks: list[Block] = [
        section(f"{icon} *{escape(title)}*"),
        context(
            "Probably one cause (an outage at the accounting software, say): one message here instead of "
            f"{total}. The full list is in the thread."
            + (f" {resolved} of {total} resolved so far." if resolved and not all_resolved else "")
        ),
    ]
    # The biggest kinds spelled out while they fit in the budget (a 500-character message each can fill it);
    # the rest are counted, and every company is in the thread's list.
    room = MESSAGE_TEXT_BUDGET - 1_500 - len(title) - sum(len(b.get("text", {}).get("text", "")) for b in blocks)
    shown_kinds = 0
    for kind, kind_members in kinds[:GROUP_SECTIONS]:
        names = [m.facts.company for m in kind_members]
        open_count = sum(1 for m in kind_members if m.facts.resolved_at is None)
        shown = ", ".join(escape_within(n, 100) for n in names[:NAMES_PER_SECTION])
        more = f" and {len(names) - NAMES_PER_SECTION} more" if len(names) > NAMES_PER_SECTION else ""
        line = f"*{escape_within(_kind_title(kind), 200)}*: {plural(len(names), 'company')}"
        if open_count != len(names):
            line += f" ({open_count} still open)"
        if kind[1] and kind[0] == Condition.ERROR.value:
            line += f"\n```{escape_within(kind[1], 600)}```"
        line += f"\n{shown}{more}"
        line += f"\n{article_mrkdwn(kind_members[0].facts.article)}"
        if len(line) > room and shown_kinds:
            break
        room -= len(line)
        blocks.append(section(line))
        shown_kinds += 1
    if len(kinds) > shown_kinds:
        rest = sum(len(m) for _, m in kinds[shown_kinds:])
        blocks.append(
            context(
                f"…and {plural(len(kinds) - shown_kinds, 'other kind')} of problem ({plural(rest, 'company')}): see the thread."
            )
        )
    if acked_by:
        blocks.append(context(f":eyes: Acknowledged by <@{acked_by}>"))
    if not all_resolved:
        value = f"g:{group_id}"
        blocks.append(
            actions(
                [
                    button("Acknowledge", ACK_ACTION, value),
                    button("Snooze 1 hour", SNOOZE_HOUR_ACTION, value),
                    button("Snooze 1 day", SNOOZE_DAY_ACTION, value),
                    button("Check again", CHECK_ACTION, value),
                ],
                block_id=f"group:{group_id}",
            )
        )
    return fit(Message(text=escape(title), blocks=blocks))


def group_list_reply(members: Sequence[GroupMember], part: int, parts: int) -> Message:
    """One part of a storm's full list, for its thread; names grouped 25 to a section."""
    lines = []
    for member in members:
        facts = member.facts
        problem = CONDITION_TEXT[facts.condition].list_line(facts.detail)
        # At most LIST_LINE_LIMIT characters: 9 + 80 + 40 + 110.
        lines.append(
            f"• *{escape_within(facts.company, 80)}* ({escape_within(facts.software, 40)}): {escape_within(problem, 110)}"
        )
    blocks: list[Block] = [context(f"Full list, part {part} of {parts}"), *packed_sections(lines)]
    return fit(Message(text=f"Full list, part {part} of {parts}: {plural(len(members), 'company')}", blocks=blocks))


def group_progress_reply(
    resolved: Sequence[str], changed: Sequence[tuple[str, str]], remaining: int, *, back: Sequence[str] = ()
) -> Message:
    """A poll's news for a storm, in one reply however many companies it concerns; `back`: companies whose
    problem came back within the flap window."""
    parts: list[str] = []
    if back:
        names = ", ".join(escape_within(n, 60) for n in back[:40]) + (f" and {len(back) - 40} more" if len(back) > 40 else "")
        parts.append(f":repeat: Back again ({len(back)}): {names}")
    if resolved:
        names = ", ".join(escape_within(n, 60) for n in resolved[:40]) + (
            f" and {len(resolved) - 40} more" if len(resolved) > 40 else ""
        )
        parts.append(f":white_check_mark: Working again ({len(resolved)}): {names}")
    for name, detail in changed[:10]:
        parts.append(f":pencil2: {escape_within(name, 100)}: the error message changed to ```{escape_within(detail, 300)}```")
    if len(changed) > 10:
        parts.append(f"…and {len(changed) - 10} more changed messages.")
    parts.append(f"{plural(remaining, 'company')} still affected." if remaining else "All resolved.")
    text = f"{len(resolved)} working again, {len(changed)} changed, {remaining} still affected"
    if back:
        text = f"{len(back)} back again, " + text
    return Message(text=text, blocks=packed_sections(parts))


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


# --- one computer, one alert ----------------------------------------------------------------------

DEVICE_NAMES_SHOWN = COMPANIES_PER_REPLY  # companies named in a device alert; the rest are in its thread


def device_title(location: str, members: Sequence[GroupMember]) -> str:
    offline = sum(1 for m in members if m.facts.resolved_at is None)
    if not offline:
        return f"Resolved: the Sync App on {location} runs again; all {plural(len(members), 'company')} can sync"
    cannot = "1 company cannot sync" if offline == 1 else f"{offline} companies cannot sync"
    return f"{location} is offline: {cannot}; restart the Sync App there"


def device_message(group_id: int, location: str, members: Sequence[GroupMember], *, acked_by: str | None = None) -> Message:
    """A device alert: the Sync Apps of `members` on the computer `location` are offline (SPEC.md "One
    computer, one alert"). With one company it reads as that company's own alert, so the next company on the
    computer joins a message that already exists."""
    value = f"g:{group_id}"
    if len(members) == 1:
        facts = members[0].facts
        return alert_message(replace(facts, acked_by=acked_by or facts.acked_by), value=value)
    title = device_title(location, members)
    open_members = [m for m in members if m.facts.resolved_at is None]
    resolved = not open_members
    first = min(m.facts.since for m in (open_members or members))
    blocks: list[Block] = [
        section(f"{':white_check_mark:' if resolved else CONDITION_TEXT[Condition.SYNC_OFFLINE].icon} *{escape(title)}*")
    ]
    if not resolved:
        blocks.append(section(CONDITION_TEXT[Condition.SYNC_OFFLINE].what_changed(slack_time(first))))
    rows = []
    for member in sorted(members, key=lambda m: (m.facts.resolved_at is not None, m.facts.company.casefold()))[
        :DEVICE_NAMES_SHOWN
    ]:
        facts = member.facts
        state = "back" if facts.resolved_at is not None else "offline"
        rows.append(f"• *{escape_within(facts.company, 80)}* ({escape_within(facts.software, 40)}): {state}")
    heading = f"*Companies whose Sync App is on {escape_within(location, 100)}* ({len(open_members)} of {len(members)} offline)"
    sections = packed_sections([heading, *rows])
    blocks.extend(sections)
    if len(members) > DEVICE_NAMES_SHOWN:
        blocks.append(context(f"…and {len(members) - DEVICE_NAMES_SHOWN} more: the full list is in the thread."))
    if not resolved:
        blocks.append(section(f"*What to do next*\n• {escape(restart_sync_app_step(location))}"))
    blocks.append(section(article_mrkdwn(members[0].facts.article)))
    notes = []
    if acked_by:
        notes.append(f":eyes: Acknowledged by <@{acked_by}>")
    flapping = [m.facts for m in open_members if m.facts.flapping]
    if flapping:
        notes.append(flapping_note(max(f.flaps for f in flapping)))
    if notes:
        blocks.append(context(" · ".join(notes)))
    if not resolved:
        blocks.append(
            actions(
                [
                    button("Acknowledge", ACK_ACTION, value),
                    button("Snooze 1 hour", SNOOZE_HOUR_ACTION, value),
                    button("Snooze 1 day", SNOOZE_DAY_ACTION, value),
                    button("Check again", CHECK_ACTION, value),
                    button("Help Centre article", HELP_ACTION, value, url=members[0].facts.article.article.url),
                ],
                block_id=f"device:{group_id}",
            )
        )
    return fit(Message(text=escape(title), blocks=blocks))


def _names(told: Sequence[AlertFacts], shown: int = 40) -> str:
    names = [clip(facts.company, 80) for facts in told]
    if len(names) > shown:
        return ", ".join(names[:shown]) + f" and {len(names) - shown} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def device_news_reply(event: str, told: Sequence[AlertFacts], location: str, offline: int) -> Message:
    """One poll's news in a device alert's thread: `event` `joined` (went offline too), `returned` (can
    sync again) or `back` (offline again within the flap window); `offline`: companies still offline there."""
    names = _names(told)
    one = len(told) == 1
    still = f"{plural(offline, 'company')} cannot sync now" if offline else "none is offline now"
    if event == "joined":
        icon = CONDITION_TEXT[Condition.SYNC_OFFLINE].icon
        text = f"{names}{chr(39) + 's Sync App is' if one else ': their Sync Apps are'} offline on {location} too: {still}."
    elif event == "back":
        icon = ":repeat:"
        text = f"Back again: {names} {'is' if one else 'are'} offline on {location} again: {still}."
    else:
        icon = ":white_check_mark:"
        facts = told[0]
        after = f" after {duration_text(facts.since, facts.resolved_at)}" if one and facts.resolved_at else ""
        text = f"{names} can sync again{after}."
        text += (
            f" Still offline on {location}: {plural(offline, 'company')}." if offline else f" All back on {location}: resolved."
        )
    return fit(Message(text=escape(clip(text, 3000)), blocks=[section(f"{icon} {escape_within(text, 2900)}")]))


# --- the daily digest -----------------------------------------------------------------------------

DIGEST_LINES_SHOWN = 15  # companies named in the digest itself; all of them are in its thread when more
DIGEST_LINE_LIMIT = LIST_LINE_LIMIT


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def digest_line(line: Mapping[str, Any], at: datetime) -> str:
    """One company of a digest (a line of `bot.alerting.digest.digest_bodies`), within DIGEST_LINE_LIMIT."""
    since = _moment(line.get("since"))
    how_long = f"for {duration_text(since, at)}" if since else "since before the bot watched"
    acked = line.get("acked_by")
    who = f"acknowledged by <@{acked}>" if acked else "not acknowledged"
    problems = "; ".join(line.get("problems") or [])
    return f"• *{escape_within(str(line.get('name', '')), 80)}*: {escape_within(problems, 100)}, {how_long} · {who}"


def digest_message(body: Mapping[str, Any]) -> Message:
    """The digest itself, from its outbox body (counts, the first lines, how many need attention, parts)."""
    day = date.fromisoformat(body["date"])
    at = _moment(body.get("at")) or datetime.fromisoformat(body["date"] + "T00:00:00+00:00")
    counts = body.get("counts", {})
    total = int(counts.get("total", 0))
    attention = int(body.get("attention", 0))
    heading = f"Daily digest, {day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"
    blocks: list[Block] = []
    if total == 0:
        text = f"{heading}: this channel is subscribed to no companies"
        blocks.append(
            section(
                f":sunrise: *{escape(heading)}*\nThis channel is subscribed to no companies yet: "
                "`/integration-status subscribe all` (or a company) to get them here."
            )
        )
    elif attention == 0:
        text = f"{heading}: all {plural(total, 'company')} fine"
        blocks.append(section(f":white_check_mark: *{escape(heading)}*\nAll {plural(total, 'company')} fine."))
    else:
        text = f"{heading}: {attention} of {plural(total, 'company')} need attention"
        summary = (
            f"{plural(total, 'company')}: {counts.get('integrated', 0)} integrated, {counts.get('error', 0)} in error, "
            f"{counts.get('not_integrated', 0)} not integrated"
        )
        if counts.get("sync_offline"):
            summary += f", {plural(int(counts['sync_offline']), 'Sync App')} offline"
        blocks.append(section(f":sunrise: *{escape(heading)}*\n{escape(summary)}"))
        rows = [digest_line(line, at) for line in body.get("lines", [])]
        blocks.extend(packed_sections([f"*Needs attention ({attention}), longest first*", *rows]))
        if attention > len(rows):
            blocks.append(context(f"…and {attention - len(rows)} more: the full list is in the thread."))
    schedule = "every day" if body.get("every_day") else "each working day (Monday to Friday)"
    blocks.append(
        context(
            f"Sent {schedule} at {escape(str(body.get('time', '')))} ({escape(str(body.get('tz', '')))}). "
            "`/integration-status digest off` stops it."
        )
    )
    return fit(Message(text=escape(text), blocks=blocks))


def digest_list_reply(body: Mapping[str, Any]) -> Message:
    """One part of a long digest's full list, for its thread: COMPANIES_PER_REPLY lines within the budget."""
    at = _moment(body.get("at")) or datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    part, parts = int(body.get("part", 1)), int(body.get("parts", 1))
    lines = [digest_line(line, at) for line in body.get("lines", [])]
    blocks: list[Block] = [context(f"Needs attention, longest first: part {part} of {parts}"), *packed_sections(lines)]
    return fit(Message(text=f"Needs attention, part {part} of {parts}: {plural(len(lines), 'company')}", blocks=blocks))
