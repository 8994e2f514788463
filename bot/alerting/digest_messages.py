"""The daily digest's message and its thread: pure functions of the digest's facts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from bot.alerting.messages import (
    LIST_LINE_LIMIT,
    duration_text,
)
from bot.answers.render import plural
from bot.slack.blockkit import (
    Block,
    Message,
    context,
    escape,
    escape_within,
    fit,
    packed_sections,
    section,
)

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
