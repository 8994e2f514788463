"""What people see: Block Kit messages and their plain-text twins. Pure functions of data, no I/O."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from bot.helpcentre.matching import ArticleMatch
from bot.practice.lookup import LookupResult, NameHit
from bot.practice.models import (
    CompanyStatus,
    ErrorKind,
    IntegrationStatus,
    StoredCompany,
)
from bot.slack.actions import OPEN_CARD_ACTION, REMIND_ACTION

Block = dict[str, Any]

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75


def escape(text: str) -> str:
    """Untrusted text in mrkdwn: `<!channel>` and `<@U1>` must reach nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_within(text: str, limit: int) -> str:
    """Escaped text no longer than limit: clipped before escaping, so no entity or markup is cut in two."""
    raw = text
    escaped = escape(raw)
    while len(escaped) > limit:
        raw = clip(raw, max(2, len(raw) - (len(escaped) - limit) - 1))
        escaped = escape(raw)
    return escaped


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    blocks: list[Block] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


# --- the size of a whole message ---------------------------------------------------------------

# Slack refuses a message whose blocks hold about 12,000 characters of text in total with
# `msg_blocks_too_long`, even when every block is within its own documented limit. That total is not
# documented: reports put it between 11,300 and 13,300 characters. Every message the bot sends (alerts,
# storm messages and their lists, replies, cards, lists, the Home tab) stays within this budget of text,
# counted over the top-level text and every text in its blocks, well under the lowest report.
MESSAGE_TEXT_BUDGET = 10_000
# What Slack answers when a message is too big or its blocks will not do: the message is sent again,
# smaller (plain text at worst), never dropped (docs.slack.dev/reference/methods/chat.postMessage, Errors).
TOO_BIG_ERRORS = frozenset({"msg_too_long", "msg_blocks_too_long", "invalid_blocks", "invalid_blocks_format"})
CUT_MARK = "\n…and more (cut to fit Slack's size limit)"
PLAIN_TEXT_LIMIT = 3_900  # Slack shows up to 4,000 characters of a message's text before "Show more"


def _text_objects(node: Any, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            found.append(node)
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                _text_objects(value, found)
    elif isinstance(node, list):
        for item in node:
            _text_objects(item, found)
    return found


def text_size(text: str, blocks: Sequence[Block]) -> int:
    """Characters of text in a message: its top-level text plus every text object in its blocks."""
    return len(text) + sum(len(obj["text"]) for obj in _text_objects(list(blocks), []))


def plain_version(message: Message, limit: int = PLAIN_TEXT_LIMIT) -> Message:
    """The message as plain text without blocks, for when Slack refuses its blocks."""
    parts = [message.text]
    for block in message.blocks:
        if block.get("type") in ("section", "context", "header"):
            parts += [obj["text"] for obj in _text_objects(block, [])]
    text = "\n".join(part for part in dict.fromkeys(parts) if part)
    return Message(text=clip(text, limit), blocks=[])


def fit(message: Message, budget: int = MESSAGE_TEXT_BUDGET) -> Message:
    """The message within `budget` characters of text (MESSAGE_TEXT_BUDGET): unchanged when it fits; else its
    longest texts lose lines from their end (CUT_MARK says so); plain text when even that is not enough.
    Builders stay within the budget by design (lists are split across replies); this is the safety net."""
    if text_size(message.text, message.blocks) <= budget:
        return message
    blocks = copy.deepcopy(message.blocks)
    text = clip(message.text, 2_000)
    for _ in range(200):
        excess = text_size(text, blocks) - budget
        if excess <= 0:
            return Message(text=text, blocks=blocks)
        objects = [obj for obj in _text_objects(blocks, []) if len(obj["text"]) > 200]
        if not objects:
            break
        longest = max(objects, key=lambda obj: len(obj["text"]))
        body = longest["text"]
        keep = max(150, len(body) - excess - len(CUT_MARK))
        cut = body.rfind("\n", 0, keep)
        longest["text"] = (body[:cut] if cut > 0 else body[:keep]) + CUT_MARK
    return plain_version(message)


# --- building blocks -------------------------------------------------------------------------


def section(mrkdwn: str, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, SECTION_LIMIT)}}
    if accessory:
        block["accessory"] = accessory
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_LIMIT), "emoji": False}}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, SECTION_LIMIT)}]}


def button(text: str, action_id: str, value: str = "", *, url: str | None = None, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT_LIMIT), "emoji": False},
        "action_id": action_id,
    }
    if value:
        element["value"] = value[:2000]
    if url:
        element["url"] = url
    if style:
        element["style"] = style
    return element


def actions(elements: Sequence[Block], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def packed_sections(lines: Iterable[str], limit: int = SECTION_LIMIT) -> list[Block]:
    """mrkdwn lines in as few sections as fit, never cutting a line in two (a cut can split a link)."""
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) + 1 > limit:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def fields_section(pairs: Iterable[tuple[str, str]]) -> Block:
    """Label and value pairs (already mrkdwn) as a two-column section; Slack takes 10 fields at most."""
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": clip(f"*{label}*\n{value}", 2000)} for label, value in list(pairs)[:10]],
    }


# --- times -----------------------------------------------------------------------------------


def utc_text(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def slack_time(moment: datetime | None) -> str:
    """Slack shows this in each reader's own time zone, with the UTC text as the fallback."""
    if moment is None:
        return "never"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{utc_text(moment)}>"


def age_text(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


# --- the status card -------------------------------------------------------------------------


STATUS_ICONS = {
    IntegrationStatus.INTEGRATED: ":white_check_mark:",
    IntegrationStatus.NOT_INTEGRATED: ":heavy_minus_sign:",
    IntegrationStatus.ERROR: ":no_entry_sign:",
}


def help_topic(status: CompanyStatus, home_page_only: bool = False) -> str:
    """Which general Help Centre article covers this state (as far as the viewer may know it)."""
    if status.integration_status is IntegrationStatus.NOT_INTEGRATED:
        return "not_integrated"
    if home_page_only:
        return (
            "publication" if status.integration_status is IntegrationStatus.INTEGRATED and status.publication_errors else "status"
        )
    if status.error is not None:
        return "publication" if status.error.kind is ErrorKind.PUBLICATION else "status"
    if status.sync_app and status.sync_app.offline:
        return "sync_app"
    if status.publication_errors:
        return "publication"
    return "status"


def plural(count: int, word: str) -> str:
    if count == 1:
        return f"{count} {word}"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return f"{count} {word[:-1]}ies"
    return f"{count} {word}s"


def reconnect_step(software: str) -> str:
    return f"Reconnect: open the company's Integrate page in AutoEntry and connect it to {software or 'its accounting software'} again."


def error_steps(kind: ErrorKind) -> list[str]:
    steps = ["Don't disconnect and reconnect by reflex: most errors are not a broken connection."]
    if kind is ErrorKind.PUBLICATION:
        steps.append(
            "Open the documents with a triangle in the Inbox to read why each one failed, "
            "and look the exact message up in the Help Centre."
        )
    else:
        steps.append(
            "Look the exact message up in the Help Centre (linked below); reconnect only for a token or credential error."
        )
    return steps


def restart_sync_app_step(location: str | None) -> str:
    where = f"on {location}" if location else "on the computer where it is installed"
    return f"Restart the Desktop Sync App {where}. In a multi-user setup that may be someone else's computer."


def next_steps(status: CompanyStatus, details: bool) -> list[str]:
    """The help article's advice for this state, in plain text."""
    steps: list[str] = []
    if status.integration_status is IntegrationStatus.NOT_INTEGRATED:
        steps.append(reconnect_step(status.software))
    elif status.error is not None:
        steps.extend(error_steps(status.error.kind))
    elif status.publication_errors:
        steps.append(
            f"{plural(status.publication_errors, 'document')} in the Inbox "
            f"{'has' if status.publication_errors == 1 else 'have'} a triangle: open them to read why they did not publish."
        )
    if details and status.sync_app and status.sync_app.offline:
        steps.append(restart_sync_app_step(status.sync_app.location))
    if not steps:
        steps.append("Nothing to do: publishing is working.")
    if not details:
        steps.append(
            "The details (the exact error and the Desktop Sync App) are on the Integrate page, which needs the "
            "Company settings permission: ask the account holder for it."
        )
    return steps


@dataclass(frozen=True, slots=True)
class CardFacts:
    """The card's content once, for both Block Kit and the terminal. Values are plain text."""

    title: str
    headline: str
    facts: list[tuple[str, str]]
    error_message: str | None
    next_steps: list[str]
    article: ArticleMatch
    notes: list[str]


def card_facts(
    company: StoredCompany,
    *,
    details: bool,
    known_user: bool = True,
    article: ArticleMatch,
    checked_at: datetime | None,
    feed_problem: str | None,
    now: datetime,
    same_computer: Sequence[str] = (),
) -> CardFacts:
    """`same_computer`: the names of the other companies whose Sync App is on this one's computer."""
    status = company.status
    home = status.integration_status.label
    headline = f"Home page status: {home}"
    if status.integration_status is not IntegrationStatus.INTEGRATED and company.status_since:
        headline += f" (since {utc_text(company.status_since)})"
    facts: list[tuple[str, str]] = [
        ("Accounting software", status.software or "unknown"),
        ("Home page status", home),
        ("Inbox documents with a triangle", str(status.publication_errors)),
        ("Last checked", f"{utc_text(checked_at)} ({age_text(checked_at, now)})"),
    ]
    error_message = None
    if details:
        if status.error is not None:
            facts.append(("Error kind", status.error.kind.value.capitalize()))
            error_message = status.error.message
        if status.sync_app is not None:
            sync = status.sync_app
            state = "Running" if not sync.offline else "Offline (not running)"
            if sync.offline and sync.last_seen_at is None and company.sync_since:
                state += f", seen offline since {utc_text(company.sync_since)}"
            facts.append(("Desktop Sync App", state))
            facts.append(("Sync App location", sync.location or "unknown"))
            facts.append(("Sync App last seen", utc_text(sync.last_seen_at)))
            if same_computer:
                facts.append(("Same computer as", names_text(same_computer)))
    notes = []
    if feed_problem:
        notes.append(f"The status feed cannot be read right now ({feed_problem}): this is the last known status.")
    elif company.missing_since is not None:
        notes.append(
            f"The status feed has left this company out of its listings since {utc_text(company.missing_since)}: "
            "this is its last known status."
        )
    if not known_user:
        notes.append(
            "You see the Home page level only: your Slack email is not one of this practice's AutoEntry users. "
            "Ask the account holder to add you."
        )
    elif not details:
        notes.append("You see the Home page level only: you don't have the Company settings permission on this company.")
    return CardFacts(
        title=status.name,
        headline=headline,
        facts=facts,
        error_message=error_message,
        next_steps=next_steps(status, details),
        article=article,
        notes=notes,
    )


def names_text(names: Sequence[str], shown: int = 10) -> str:
    """ "A, B and C", at most `shown` names, then "and N more"."""
    if len(names) > shown:
        return ", ".join(names[:shown]) + f" and {len(names) - shown} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def article_mrkdwn(match: ArticleMatch) -> str:
    link = f"<{match.article.url}|{escape(match.article.title)}>"
    if match.specific:
        line = f":book: Help Centre: {link} ({escape(match.reason)})"
        if match.article.fix_summary:
            line += f"\n_{escape(match.article.fix_summary)}_"
        return line
    line = f":book: Help Centre: {link}"
    if match.search_url:
        line += f" · <{match.search_url}|search the Help Centre for this message>"
    return line


def status_card(facts: CardFacts, company_id: str, *, remind_button: bool) -> Message:
    status_line = f"{facts.title}: {facts.headline}"
    blocks: list[Block] = [header(facts.title), section(f"*{escape(facts.headline)}*")]
    blocks.append(fields_section((label, escape(value)) for label, value in facts.facts))
    if facts.error_message is not None:
        blocks.append(section(f"*Exact error message*\n```{escape_within(facts.error_message, SECTION_LIMIT - 40)}```"))
    blocks.append(section("*What to do next*\n" + "\n".join(f"• {escape(step)}" for step in facts.next_steps)))
    blocks.append(section(article_mrkdwn(facts.article)))
    if remind_button:
        blocks.append(
            actions(
                [button("Remind account holder to grant permission", REMIND_ACTION, company_id, style="primary")],
                block_id=f"remind:{company_id}",
            )
        )
    for note in facts.notes:
        blocks.append(context(escape(note)))
    return Message(text=escape(status_line), blocks=blocks)


def status_text(facts: CardFacts) -> str:
    """The same card for a terminal."""
    lines = [facts.title, "=" * min(len(facts.title), 80), facts.headline, ""]
    width = max(len(label) for label, _ in facts.facts)
    lines += [f"{label + ':':<{width + 1}} {value}" for label, value in facts.facts]
    if facts.error_message is not None:
        lines += ["", "Exact error message:", f"  {facts.error_message}"]
    lines += ["", "What to do next:"] + [f"  - {step}" for step in facts.next_steps]
    article = facts.article
    lines += ["", f"Help Centre: {article.article.title}", f"  {article.article.url}"]
    if article.specific:
        lines.append(f"  ({article.reason})")
        if article.article.fix_summary:
            lines.append(f"  {article.article.fix_summary}")
    elif article.search_url:
        lines.append(f"  Search for this message: {article.search_url}")
    if facts.notes:
        lines += [""] + facts.notes
    return "\n".join(lines)


# --- lookup answers ----------------------------------------------------------------------------


def pick_list(query: str, result: LookupResult) -> Message:
    intro = f"Several companies match “{escape(query)}”. Which one?"
    buttons = [button(hit.name, f"{OPEN_CARD_ACTION}:{index}", hit.company_id) for index, hit in enumerate(result.hits)]
    return Message(text=intro, blocks=[section(intro), actions(buttons, block_id="pick_company")])


def not_found(query: str, suggestions: Sequence[NameHit]) -> Message:
    text = f"No company called “{escape(query)}” in this practice."
    blocks = [section(text)]
    if suggestions:
        blocks.append(section("Did you mean one of these?"))
        blocks.append(
            actions(
                [button(hit.name, f"{OPEN_CARD_ACTION}:{index}", hit.company_id) for index, hit in enumerate(suggestions)],
                block_id="suggest_company",
            )
        )
    else:
        blocks.append(context("Try part of the name, or `/integration-status list` to see every company."))
    return Message(text=text, blocks=blocks)


def plain_lookup_text(query: str, result: LookupResult) -> str:
    if result.hits and result.outcome.value == "choose":
        return "Several companies match. Which one?\n" + "\n".join(f"  - {hit.name}" for hit in result.hits)
    text = f"No company called {query!r} in this practice."
    if result.hits:
        text += "\nDid you mean:\n" + "\n".join(f"  - {hit.name}" for hit in result.hits)
    return text


# --- help and errors ---------------------------------------------------------------------------

USAGE_LINES = [
    ("`/integration-status Acme Ltd`", "the company's integration status, the next step and the Help Centre article"),
    ("`/integration-status list`", "the practice at a glance (`list errors`: only the companies that need attention)"),
    ("`/integration-status subscribe Acme Ltd`", "alerts for that company in this channel (`subscribe all`: every company)"),
    ("`/integration-status unsubscribe Acme Ltd`", "stop them (`unsubscribe all`)"),
    ("`/integration-status subscriptions`", "what this channel is subscribed to, its digest and snoozes"),
    (
        "`/integration-status digest 09:00`",
        "a daily summary in this channel at 09:00 your time, Monday to Friday (`digest 09:00 daily`: every day; `digest off`)",
    ),
    (
        "`/integration-status article <error message or question>`",
        "the Help Centre articles for an exact error message, or for a question in your own words",
    ),
]


def usage(problem: str | None = None) -> Message:
    lines = [f"• {command}: {what}" for command, what in USAGE_LINES]
    body = "*How to use /integration-status*\n" + "\n".join(lines)
    body += '\nA company whose name starts with one of these words can be looked up in quotes: `"List Brothers Ltd"`.'
    blocks = []
    if problem:
        blocks.append(section(f":warning: {escape(problem)}"))
    blocks.append(section(body))
    text = escape(problem) if problem else "How to use /integration-status"
    return Message(text=text, blocks=blocks)


def notice(text: str) -> Message:
    """A one-line answer; the text is plain and escaped here."""
    return Message(text=escape(text), blocks=[section(escape(text))])


# --- the practice at a glance -----------------------------------------------------------------

OVERVIEW_LINES = 40


@dataclass(frozen=True, slots=True)
class OverviewLine:
    """One company as this viewer may see it."""

    name: str
    home_status: IntegrationStatus
    since: datetime | None
    sync_offline_at: str | None  # the location, only when the viewer may see the Sync App

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
    return OverviewLine(status.name, status.integration_status, company.status_since, offline_at)


def attention_order(line: OverviewLine) -> tuple[int, str]:
    rank = {IntegrationStatus.ERROR: 0, IntegrationStatus.NOT_INTEGRATED: 2, IntegrationStatus.INTEGRATED: 3}
    order = 1 if line.sync_offline_at is not None and line.home_status is IntegrationStatus.INTEGRATED else rank[line.home_status]
    return order, line.name.casefold()


def practice_overview(
    lines: Sequence[OverviewLine],
    *,
    errors_only: bool,
    checked_at: datetime | None,
    feed_problem: str | None,
    now: datetime,
) -> Message:
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
    shown = sorted((line for line in lines if line.needs_attention or not errors_only), key=attention_order)
    blocks: list[Block] = [header("Integration status at a glance"), section(f"*{escape(summary)}*")]
    if not shown:
        blocks.append(section(":white_check_mark: Nothing needs attention." if errors_only else "No companies yet."))
    rows: list[str] = []
    room = MESSAGE_TEXT_BUDGET - 1_500  # the header, summary and notes
    for line in shown[:OVERVIEW_LINES]:
        row = f"{STATUS_ICONS[line.home_status]} *{escape_within(line.name, 300)}*: {escape_within(line.describe(), 600)}"
        if room - len(row) - 1 < 0:
            break
        rows.append(row)
        room -= len(row) + 1
    blocks.extend(packed_sections(rows))
    if len(shown) > len(rows):
        blocks.append(context(f"…and {len(shown) - len(rows)} more. Ask for a company by name to see its card."))
    note = f"Last checked {utc_text(checked_at)} ({age_text(checked_at, now)})."
    if feed_problem:
        note += f" The status feed cannot be read right now ({escape(feed_problem)}): these are the last known statuses."
    blocks.append(context(note))
    return Message(text=escape(summary), blocks=blocks)


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
