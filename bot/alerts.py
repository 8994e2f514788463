"""Alert messages, their thread replies and storm grouping: pure functions of data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from bot.helpcentre import ArticleMatch
from bot.models import ErrorKind
from bot.render import (
    REMIND_ACTION,
    Block,
    Message,
    actions,
    article_mrkdwn,
    button,
    clip,
    context,
    error_steps,
    escape,
    escape_within,
    packed_sections,
    plural,
    reconnect_step,
    restart_sync_app_step,
    section,
    slack_time,
    utc_text,
)
from bot.transitions import Condition

ACK_ACTION = "alert_ack"
SNOOZE_HOUR_ACTION = "alert_snooze_1h"
SNOOZE_DAY_ACTION = "alert_snooze_1d"
CHECK_ACTION = "alert_check"
HELP_ACTION = "alert_help"

# More new alerts than this for one channel in one poll is a storm: one grouped message instead.
STORM_THRESHOLD = 3
GROUP_SECTIONS = 12  # kinds of problem spelled out in a grouped message; the rest are counted
NAMES_PER_SECTION = 8
COMPANIES_PER_REPLY = 100  # a thread reply of the full list: 4 sections of 25 names


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


def problem_phrases(present: dict[Condition, str]) -> tuple[str, ...]:
    phrases = []
    if Condition.ERROR in present:
        phrases.append("in error")
    if Condition.DISCONNECTED in present:
        phrases.append("not integrated")
    if Condition.SYNC_OFFLINE in present:
        where = present[Condition.SYNC_OFFLINE]
        phrases.append(f"its Sync App is offline{f' on {where}' if where else ''}")
    return tuple(phrases)


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
    name = facts.company
    if facts.condition is Condition.ERROR:
        kind = "publication" if facts.error_kind == ErrorKind.PUBLICATION.value else "synchronisation"
        return f"{name}: {kind} error in {facts.software or 'the integration'}"
    if facts.condition is Condition.DISCONNECTED:
        return f"{name}: disconnected from {facts.software or 'its accounting software'} (Not integrated)"
    where = f" on {facts.detail}" if facts.detail else ""
    return f"{name}: the Desktop Sync App{where} is offline"


def what_changed(facts: AlertFacts) -> str:
    since = slack_time(facts.since)
    if facts.condition is Condition.ERROR:
        return f"The Home page status turned to *Error* {since}."
    if facts.condition is Condition.DISCONNECTED:
        return f"The integration turned to *Not integrated* {since}: publishing has stopped."
    return (
        f"Offline since {since}. The Home page can still say Integrated: a Sync App problem does not show there, "
        "but nothing publishes until it runs again."
    )


def alert_steps(facts: AlertFacts) -> list[str]:
    if facts.condition is Condition.ERROR:
        return error_steps(ErrorKind(facts.error_kind or ErrorKind.SYNCHRONISATION.value))
    if facts.condition is Condition.DISCONNECTED:
        return [reconnect_step(facts.software)]
    return [restart_sync_app_step(facts.detail or None)]


def needs_integrate_page(condition: Condition, error_kind: str | None) -> bool:
    """Where the fix is on the Integrate page, people without the permission need the account holder."""
    return condition is not Condition.ERROR or error_kind != ErrorKind.PUBLICATION.value


def alert_message(facts: AlertFacts) -> Message:
    title = headline(facts)
    resolved = facts.resolved_at is not None
    icon = ":white_check_mark:" if resolved else {
        Condition.ERROR: ":no_entry_sign:",
        Condition.DISCONNECTED: ":heavy_minus_sign:",
        Condition.SYNC_OFFLINE: ":electric_plug:",
    }[facts.condition]
    prefix = ("Cleared: " if facts.still_wrong else "Resolved: ") if resolved else ""
    blocks: list[Block] = [section(f"{icon} *{escape(prefix + title)}*")]
    if resolved:
        assert facts.resolved_at is not None
        after = duration_text(facts.since, facts.resolved_at)
        if facts.still_wrong:
            still = escape(" and ".join(facts.still_wrong))
            blocks.append(section(f"This cleared {slack_time(facts.resolved_at)}, after {after}, but the company is now {still}."))
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
    value = f"i:{facts.incident_id}"
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
        blocks.append(actions(buttons, block_id=f"alert:{facts.incident_id}"))
    text = prefix + title
    if facts.condition is Condition.ERROR and facts.detail and not resolved:
        text += f": {clip(facts.detail, 200)}"
    return Message(text=escape(text), blocks=blocks)


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
        facts = self.facts
        return (facts.condition.value, facts.detail if facts.condition is Condition.ERROR else "", facts.software)


def group_kinds(members: Sequence[GroupMember]) -> list[tuple[tuple[str, str, str], list[GroupMember]]]:
    """Members grouped by condition, error message and software; the biggest group first."""
    grouped: dict[tuple[str, str, str], list[GroupMember]] = {}
    for member in members:
        grouped.setdefault(member.kind, []).append(member)
    return sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))


def _kind_title(kind: tuple[str, str, str]) -> str:
    condition, detail, software = kind
    on = software or "unknown software"
    if condition == Condition.ERROR.value:
        return f"{on}: Error"
    if condition == Condition.DISCONNECTED.value:
        return f"{on}: Not integrated (disconnected)"
    return f"{on}: Desktop Sync App offline"


def group_message(
    group_id: int, members: Sequence[GroupMember], *, acked_by: str | None = None
) -> Message:
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
    for kind, kind_members in kinds[:GROUP_SECTIONS]:
        names = [m.facts.company for m in kind_members]
        open_count = sum(1 for m in kind_members if m.facts.resolved_at is None)
        shown = ", ".join(escape_within(n, 100) for n in names[:NAMES_PER_SECTION])
        more = f" and {len(names) - NAMES_PER_SECTION} more" if len(names) > NAMES_PER_SECTION else ""
        line = f"*{escape_within(_kind_title(kind), 200)}*: {plural(len(names), 'company')}"
        if open_count != len(names):
            line += f" ({open_count} still open)"
        if kind[1]:
            line += f"\n```{escape_within(kind[1], 600)}```"
        line += f"\n{shown}{more}"
        line += f"\n{article_mrkdwn(kind_members[0].facts.article)}"
        blocks.append(section(line))
    if len(kinds) > GROUP_SECTIONS:
        rest = sum(len(m) for _, m in kinds[GROUP_SECTIONS:])
        blocks.append(context(f"…and {plural(len(kinds) - GROUP_SECTIONS, 'other kind')} of problem ({plural(rest, 'company')}): see the thread."))
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
    return Message(text=escape(title), blocks=blocks)


def group_list_reply(members: Sequence[GroupMember], part: int, parts: int) -> Message:
    """One part of a storm's full list, for its thread; names grouped 25 to a section."""
    lines = []
    for member in members:
        facts = member.facts
        problem = {
            Condition.ERROR: f"Error: {clip(facts.detail, 120)}",
            Condition.DISCONNECTED: "Not integrated",
            Condition.SYNC_OFFLINE: f"Sync App offline on {facts.detail or 'its computer'}",
        }[facts.condition]
        lines.append(f"• *{escape_within(facts.company, 200)}* ({escape_within(facts.software, 100)}): {escape_within(problem, 300)}")
    blocks: list[Block] = [context(f"Full list, part {part} of {parts}"), *packed_sections(lines)]
    return Message(text=f"Full list, part {part} of {parts}: {plural(len(members), 'company')}", blocks=blocks)


def group_progress_reply(resolved: Sequence[str], changed: Sequence[tuple[str, str]], remaining: int) -> Message:
    """A poll's news for a storm, in one reply however many companies it concerns."""
    parts: list[str] = []
    if resolved:
        names = ", ".join(escape_within(n, 60) for n in resolved[:40]) + (f" and {len(resolved) - 40} more" if len(resolved) > 40 else "")
        parts.append(f":white_check_mark: Working again ({len(resolved)}): {names}")
    for name, detail in changed[:10]:
        parts.append(f":pencil2: {escape_within(name, 100)}: the error message changed to ```{escape_within(detail, 300)}```")
    if len(changed) > 10:
        parts.append(f"…and {len(changed) - 10} more changed messages.")
    parts.append(f"{plural(remaining, 'company')} still affected." if remaining else "All resolved.")
    text = f"{len(resolved)} working again, {len(changed)} changed, {remaining} still affected"
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
