"""The practice at a glance (`list`, `list errors`), Help Centre search results (`article ...`) and the
one-line news of a poll: pure functions of data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from bot.answers.pages import KEY_ID_CHARS, KEY_NAME_CHARS, PageAt, PageKey, Window, page_value, window
from bot.answers.render import STATUS_ICONS, plural
from bot.helpcentre.matching import ArticleMatch
from bot.practice.models import IntegrationStatus, StoredCompany
from bot.slack.actions import OVERVIEW_PAGE_ACTION
from bot.slack.blockkit import (
    MESSAGE_TEXT_BUDGET,
    Block,
    Message,
    actions,
    age_text,
    button,
    clip,
    context,
    escape,
    escape_within,
    header,
    packed_sections,
    section,
    utc_text,
)

# --- the practice at a glance -----------------------------------------------------------------

OVERVIEW_LINES = 40


@dataclass(frozen=True, slots=True)
class OverviewLine:
    """One company as this viewer may see it."""

    name: str
    home_status: IntegrationStatus
    since: datetime | None
    sync_offline_at: str | None  # the location, only when the viewer may see the Sync App
    company_id: str = ""  # places it in a paged list (bot/answers/pages.py)

    @property
    def needs_attention(self) -> bool:
        return self.home_status is not IntegrationStatus.INTEGRATED or self.sync_offline_at is not None

    def describe(self) -> str:
        parts = [self.home_status.label]
        if self.since and self.home_status is not IntegrationStatus.INTEGRATED:
            parts[0] += f" since {utc_text(self.since)}"
        if self.sync_offline_at is not None:
            parts.append(f"Sync App offline on {self.sync_offline_at or 'its computer'}")
        return "; ".join(parts)


def overview_line(company: StoredCompany, details: bool) -> OverviewLine:
    status = company.status
    offline_at = None
    if details and status.sync_app and status.sync_app.offline:
        offline_at = status.sync_app.location or ""
    return OverviewLine(status.name, status.integration_status, company.status_since, offline_at, company.id)


def attention_order(line: OverviewLine) -> tuple[int, str]:
    rank = {IntegrationStatus.ERROR: 0, IntegrationStatus.NOT_INTEGRATED: 2, IntegrationStatus.INTEGRATED: 3}
    order = 1 if line.sync_offline_at is not None and line.home_status is IntegrationStatus.INTEGRATED else rank[line.home_status]
    return order, line.name.casefold()


def page_key(line: OverviewLine) -> PageKey:
    """`attention_order`, the name cut to what a button's value holds, then the id: unique in a practice."""
    order, name = attention_order(line)
    return order, name[:KEY_NAME_CHARS], line.company_id[:KEY_ID_CHARS]


def practice_overview(
    lines: Sequence[OverviewLine],
    *,
    errors_only: bool,
    checked_at: datetime | None,
    feed_problem: str | None,
    now: datetime,
    at: PageAt | None = None,
) -> Message:
    """`list` / `list errors`: the counts, then a page of up to OVERVIEW_LINES companies in attention order
    (the first page, or the one `at` says), with Previous / Next buttons when there are more."""
    summary = overview_summary(lines)
    shown = sorted((line for line in lines if line.needs_attention or not errors_only), key=page_key)
    keys = [page_key(line) for line in shown]
    blocks: list[Block] = [header("Integration status at a glance"), section(f"*{escape(summary)}*")]
    if not shown:
        blocks.append(section(":white_check_mark: Nothing needs attention." if errors_only else "No companies yet."))

    def row(index: int) -> str:
        line = shown[index]
        return f"{STATUS_ICONS[line.home_status]} *{escape_within(line.name, 300)}*: {escape_within(line.describe(), 600)}"

    # The room left for rows: the budget less the header, summary and notes.
    page = window(keys, row, at or PageAt(errors_only), OVERVIEW_LINES, MESSAGE_TEXT_BUDGET - 1_500)
    blocks.extend(packed_sections(page.rows))
    if len(page.rows) < len(shown):
        blocks.extend(page_blocks(errors_only, page, keys))
    note = f"Last checked {utc_text(checked_at)} ({age_text(checked_at, now)})."
    if feed_problem:
        note += f" The status feed cannot be read right now ({escape(feed_problem)}): these are the last known statuses."
    blocks.append(context(note))
    return Message(text=escape(summary), blocks=blocks)


def overview_summary(lines: Sequence[OverviewLine]) -> str:
    counts = {status: 0 for status in IntegrationStatus}
    offline = 0
    for line in lines:
        counts[line.home_status] += 1
        offline += line.sync_offline_at is not None
    summary = (
        f"{plural(len(lines), 'company')}: {counts[IntegrationStatus.INTEGRATED]} integrated, "
        f"{counts[IntegrationStatus.ERROR]} in error, {counts[IntegrationStatus.NOT_INTEGRATED]} not integrated"
    )
    if offline:
        summary += f", {plural(offline, 'Sync App')} offline"
    return summary


def page_blocks(errors_only: bool, page: Window, keys: Sequence[PageKey]) -> list[Block]:
    """ "Showing 41–80 of 123" and the buttons to the pages before and after it."""
    last = page.first + len(page.rows) - 1
    buttons = []
    if page.first > 0:
        buttons.append(
            button("Previous", f"{OVERVIEW_PAGE_ACTION}:previous", page_value(errors_only, "before", keys[page.first]))
        )
    if last < page.total - 1:
        buttons.append(button("Next", f"{OVERVIEW_PAGE_ACTION}:next", page_value(errors_only, "after", keys[last])))
    where = f"Showing {page.first + 1}–{last + 1} of {page.total}. Ask for a company by name to see its card."
    return [context(where), actions(buttons, block_id="overview_pages")]


# --- Help Centre search ------------------------------------------------------------------------


def article_results(message: str, matches: Sequence[ArticleMatch]) -> Message:
    """The answer to `article <text>`: the articles best first (numbered), each with why it matched."""
    intro = f"Help Centre articles for “{message}”"
    blocks: list[Block] = [section(f"*{escape(clip(intro, 300))}*")]
    specific = [m for m in matches if m.specific]
    for n, match in enumerate(matches, start=1):
        line = f"<{match.article.url}|{escape(match.article.title)}>"
        if len(specific) > 1:
            line = f"{n}. {line}"
        if match.specific:
            line += f"\n_Why: {escape(match.reason)}_"
        else:
            line += "\n_No article is about this for sure; this is the general article._"
            if match.search_url:
                line += f" <{match.search_url}|Search the Help Centre for it>"
        if match.article.fix_summary:
            line += f"\n{escape(match.article.fix_summary)}"
        blocks.append(section(line))
    return Message(text=escape(clip(intro, 300)), blocks=blocks)


def describe_change(before: StoredCompany | None, after: StoredCompany) -> str:
    """One line for the terminal's `poll`: what the feed says changed."""
    new = after.status
    if before is None:
        return f"{new.name}: new, {new.integration_status.label}"
    old = before.status
    parts: list[str] = []
    if old.integration_status is not new.integration_status:
        parts.append(f"{old.integration_status.label} -> {new.integration_status.label}")
    if new.error and (old.error is None or old.error.message != new.error.message):
        parts.append(f"{new.error.kind.value} error: {new.error.message}")
    if old.error and not new.error:
        parts.append("error cleared")
    old_sync = old.sync_app.status.value if old.sync_app else None
    new_sync = new.sync_app.status.value if new.sync_app else None
    if old_sync != new_sync:
        where = f" on {new.sync_app.location}" if new.sync_app and new.sync_app.location else ""
        parts.append(f"Sync App {old_sync or 'none'} -> {new_sync or 'none'}{where}")
    if old.publication_errors != new.publication_errors:
        parts.append(f"triangles {old.publication_errors} -> {new.publication_errors}")
    return f"{new.name}: {'; '.join(parts) or 'details updated'}"


def feed_not_answering(problem: str | None, last_good: datetime | None, now: datetime) -> str:
    """What a Check again says when the feed cannot give an answer now: why, and how old the data is."""
    why = f" ({problem})" if problem else ""
    if last_good is None:
        return f"The status feed is not answering{why}; there is no good data from it yet. Nothing changed."
    stamp = last_good.astimezone(timezone.utc).strftime("%H:%M UTC on %d %b")
    return (
        f"The status feed is not answering{why}; the last good data is from {stamp} ({age_text(last_good, now)}). "
        "Nothing changed; the alert will follow the feed when it answers again."
    )
