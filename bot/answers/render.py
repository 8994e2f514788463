"""What people see: Block Kit messages and their plain-text twins. Pure functions of data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from bot.helpcentre.matching import ArticleMatch
from bot.practice.lookup import LookupResult, NameHit
from bot.practice.models import (
    CompanyStatus,
    ErrorKind,
    IntegrationStatus,
    StoredCompany,
)
from bot.slack.actions import OPEN_CARD_ACTION, REMIND_ACTION
from bot.slack.blockkit import (
    SECTION_LIMIT,
    Block,
    Message,
    actions,
    age_text,
    button,
    context,
    escape,
    escape_within,
    fields_section,
    header,
    section,
    utc_text,
)

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
    return CardFacts(
        title=status.name,
        headline=headline,
        facts=facts,
        error_message=error_message,
        next_steps=next_steps(status, details),
        article=article,
        notes=_card_notes(company, feed_problem, known_user=known_user, details=details),
    )


def _card_notes(company: StoredCompany, feed_problem: str | None, *, known_user: bool, details: bool) -> list[str]:
    """Why the card may be out of date, and what the viewer cannot see."""
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
    return notes


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
        "`/integration-status article &lt;error message or question&gt;`",
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
