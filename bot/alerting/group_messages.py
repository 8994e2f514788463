"""Grouped alerts: a storm's message, its list and news, and one computer's (device) alert. Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

from bot.alerting.conditions import Condition
from bot.alerting.messages import (
    COMPANIES_PER_REPLY,
    CONDITION_TEXT,
    GROUP_SECTIONS,
    NAMES_PER_SECTION,
    AlertFacts,
    alert_buttons,
    alert_message,
    duration_text,
    flapping_note,
)
from bot.answers.render import article_mrkdwn, plural, restart_sync_app_step
from bot.slack.blockkit import (
    MESSAGE_TEXT_BUDGET,
    Block,
    Message,
    actions,
    clip,
    context,
    escape,
    escape_within,
    fit,
    packed_sections,
    section,
    slack_time,
)

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
                alert_buttons(value, members[0].facts.article.article.url),
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


def _kind_section(kind: tuple[str, str, str], kind_members: Sequence[GroupMember]) -> str:
    """One kind of problem in a group message: its title, how many companies (still open), the error, the
    first names and the article."""
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
    return line


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
        line = _kind_section(kind, kind_members)
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
                alert_buttons(value),
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
