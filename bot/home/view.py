"""The App Home tab: the practice at a glance for one viewer. Pure functions of data, no I/O."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Iterable, Mapping, Protocol, Sequence

from bot.alerting.messages import broken_reason
from bot.answers.overview import OverviewLine, attention_order, overview_line
from bot.answers.render import STATUS_ICONS, names_text, plural
from bot.practice.devices import sharing
from bot.practice.models import CompanyError, IntegrationStatus, StoredCompany
from bot.practice.permissions import Viewer
from bot.slack.actions import HOME_FILTER_ACTION, HOME_PAGE_ACTION, OPEN_CARD_ACTION
from bot.slack.blockkit import (
    BUTTON_TEXT_LIMIT,
    SECTION_LIMIT,
    Block,
    Message,
    actions,
    age_text,
    button,
    clip,
    context,
    escape,
    escape_within,
    fit,
    header,
    section,
    slack_time,
)

HOME_BLOCK_LIMIT = 100
PAGE_SIZE = 25  # one section (with its own Open button) per company: 25 a page keeps the view near 40 blocks
LIST_LINES = 40  # subscriptions / snoozes shown before "and N more"
MESSAGE_CLIP = 300  # an error message on the Home tab; the card has it whole
MODAL_TITLE_LIMIT = 24

HOME_ACTION_PATTERN = rf"^(?:{HOME_FILTER_ACTION}|{HOME_PAGE_ACTION}):[A-Za-z0-9_]{{1,40}}$"

_CHANNEL_ID = re.compile(r"^[A-Z0-9]{2,30}$")


class HomeFilter(StrEnum):
    ALL = "all"
    ATTENTION = "attention"


@dataclass(frozen=True, slots=True)
class HomeState:
    """What the viewer chose to see; it travels in the buttons' values."""

    filter: HomeFilter = HomeFilter.ALL
    page: int = 0

    def encode(self) -> str:
        return json.dumps({"f": self.filter.value, "p": self.page}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: object) -> "HomeState":
        """A button value from Slack; anything odd gives the default view, never an error."""
        try:
            data = json.loads(value) if isinstance(value, str) else {}
            chosen = HomeFilter(data["f"])
            page = data["p"]
            if not isinstance(page, int) or isinstance(page, bool):
                raise ValueError(page)
            return cls(chosen, min(max(page, 0), 100_000))
        except (ValueError, TypeError, KeyError, RecursionError):
            return cls()


@dataclass(frozen=True, slots=True)
class HomeLine:
    """One company as this viewer may see it on the Home tab."""

    company_id: str
    line: OverviewLine
    error: CompanyError | None  # only with the Company settings permission
    details: bool  # whether the viewer has that permission on this company
    same_computer: tuple[str, ...] = ()  # the other companies whose Sync App is on its computer (with details)

    @property
    def needs_attention(self) -> bool:
        return self.line.needs_attention


@dataclass(frozen=True, slots=True)
class HomeHealth:
    last_poll_at: datetime | None  # the latest poll, good or not
    checked_at: datetime | None  # the end of the last good poll
    problem: str | None  # why the latest poll failed
    healthy: bool


class SubscriptionLike(Protocol):
    @property
    def channel(self) -> str: ...
    @property
    def company_id(self) -> str | None: ...


class SnoozeLike(Protocol):
    @property
    def channel(self) -> str: ...
    @property
    def company_id(self) -> str: ...
    @property
    def until(self) -> datetime: ...


def home_lines(companies: Iterable[StoredCompany], viewer: Viewer) -> list[HomeLine]:
    """Each company at the level this viewer may see, in attention order."""
    companies = list(companies)
    neighbours = sharing((c.id, c.name, c.status.sync_app.location) for c in companies if c.status.sync_app is not None)
    lines = []
    for company in companies:
        details = viewer.has_company_settings(company.id)
        error = company.status.error if details else None
        shared = tuple(neighbours.get(company.id, ())) if details else ()
        lines.append(HomeLine(company.id, overview_line(company, details), error, details, shared))
    lines.sort(key=lambda home: attention_order(home.line))
    return lines


# --- pieces ------------------------------------------------------------------------------------


def channel_mention(channel: str) -> str:
    return f"<#{channel}>" if _CHANNEL_ID.match(channel) else escape(channel)


def counts_text(lines: Sequence[HomeLine]) -> str:
    counts = {status: 0 for status in IntegrationStatus}
    offline = 0
    for home in lines:
        counts[home.line.home_status] += 1
        offline += home.line.sync_offline_at is not None
    text = (
        f"{len(lines)} {'company' if len(lines) == 1 else 'companies'}: "
        f"{counts[IntegrationStatus.INTEGRATED]} integrated, {counts[IntegrationStatus.ERROR]} in error, "
        f"{counts[IntegrationStatus.NOT_INTEGRATED]} not integrated"
    )
    if offline:
        text += f", {plural(offline, 'Sync App')} offline"
    return text


def company_mrkdwn(home: HomeLine) -> str:
    line = home.line
    status = line.home_status.label
    if line.since and line.home_status is not IntegrationStatus.INTEGRATED:
        status += f" since {slack_time(line.since)}"
    rows = [f"{STATUS_ICONS[line.home_status]} *{escape(line.name)}*", status]
    if home.error is not None:
        rows.append(f"{home.error.kind.value.capitalize()} error: `{escape_within(home.error.message, MESSAGE_CLIP)}`")
    if line.sync_offline_at is not None:
        rows.append(f":warning: Desktop Sync App offline on {escape(line.sync_offline_at or 'its computer')}")
        if home.same_computer:
            rows.append(f":desktop_computer: Same computer as {escape_within(names_text(home.same_computer, 5), 400)}")
    return clip("\n".join(rows), SECTION_LIMIT)


def bounded_lines(rows: Sequence[str], limit: int = LIST_LINES) -> str:
    """Rows in one section's text: at most `limit`, within Slack's 3000 characters, then "and N more"."""
    kept: list[str] = []
    size = 0
    for row in rows[:limit]:
        if size + len(row) + 1 > SECTION_LIMIT - 40:
            break
        kept.append(row)
        size += len(row) + 1
    if len(kept) < len(rows):
        kept.append(f"…and {len(rows) - len(kept)} more")
    return "\n".join(kept)


def subscription_rows(
    subscriptions: Sequence[SubscriptionLike], names: Mapping[str, str], broken: Mapping[str, str] | None = None
) -> list[str]:
    """One row a subscription; `broken` (channel -> Slack's error) marks those the bot cannot post in."""
    rows = []
    for sub in subscriptions:
        if sub.company_id is None:
            what = "every company"
        else:
            what = escape(names[sub.company_id]) if sub.company_id in names else "a company no longer in the practice"
        row = f"• {channel_mention(sub.channel)}: {what}"
        # A lapsed subscription (storage.alerts.Subscription.lapsed_at) sends no alerts until renewed.
        if getattr(sub, "lapsed_at", None):
            row += " (lapsed: you no longer have the Company settings permission; no alerts)"
        if broken and sub.channel in broken:
            row += f" :warning: I can't post there ({broken_reason(broken[sub.channel])}): invite me, or unsubscribe"
        rows.append(row)
    return rows


def snooze_rows(snoozes: Sequence[SnoozeLike], names: Mapping[str, str]) -> list[str]:
    rows = []
    for snooze in snoozes:
        name = escape(names[snooze.company_id]) if snooze.company_id in names else "a company no longer in the practice"
        rows.append(f"• {name} in {channel_mention(snooze.channel)} until {slack_time(snooze.until)}")
    return rows


def health_text(health: HomeHealth, now: datetime) -> str:
    if health.last_poll_at is None:
        return ":hourglass: The status feed has not been read yet."
    text = f"Last poll {slack_time(health.last_poll_at)} ({age_text(health.last_poll_at, now)})."
    if health.problem:
        text += (
            f" :warning: The status feed cannot be read right now ({escape(clip(health.problem, 300))}): "
            f"these are the statuses from {slack_time(health.checked_at)}."
        )
    elif health.healthy:
        text += " :large_green_circle: The status feed is healthy."
    else:
        text += " :warning: The status feed has not been read for a while."
    return text


def _state_button(text: str, action: str, state: HomeState, *, active: bool = False) -> Block:
    return button(text, action, state.encode(), style="primary" if active else None)


# --- the view ----------------------------------------------------------------------------------


def home_view(
    lines: Sequence[HomeLine],
    *,
    viewer_is_account_user: bool,
    subscriptions: Sequence[SubscriptionLike],
    snoozes: Sequence[SnoozeLike],
    names: Mapping[str, str],
    health: HomeHealth,
    state: HomeState,
    now: datetime,
    page_size: int = PAGE_SIZE,
    broken: Mapping[str, str] | None = None,
    connection: Sequence[Block] = (),
) -> dict[str, Any]:
    """The Home tab as a `views.publish` view: within 100 blocks whatever the size of the practice.
    `connection`: with many workspaces, the AutoEntry connection part (bot.workspaces.connection_blocks)."""
    blocks: list[Block] = [header("Integration status at a glance")]
    attention = [home for home in lines if home.needs_attention]
    blocks.append(section(f"*{escape(counts_text(lines))}*"))
    blocks.extend(_level_notes(lines, viewer_is_account_user))
    shown = attention if state.filter is HomeFilter.ATTENTION else list(lines)
    pages = max(1, -(-len(shown) // page_size))
    page = min(state.page, pages - 1)
    blocks.append(_filter_buttons(lines, attention, state))
    blocks.append({"type": "divider"})
    blocks.extend(_company_page(lines, shown, bool(attention), state.filter, page, pages, page_size))
    blocks.append({"type": "divider"})
    blocks.extend(_your_channels(subscriptions, snoozes, names, broken))
    blocks.append({"type": "divider"})
    if connection:
        blocks.extend(connection)
        blocks.append({"type": "divider"})
    blocks.append(context(health_text(health, now)))
    assert len(blocks) <= HOME_BLOCK_LIMIT, len(blocks)  # by construction: PAGE_SIZE + about 20
    # What was actually shown (the page clamped to the list), for the next refresh.
    # Within the text budget Slack enforces on a whole message (bot.render.MESSAGE_TEXT_BUDGET): long error
    # messages and lists lose their ends first.
    fitted = fit(Message(text="", blocks=blocks))
    blocks = fitted.blocks or [section(clip(fitted.text, SECTION_LIMIT))]
    return {"type": "home", "blocks": blocks, "private_metadata": HomeState(state.filter, page).encode()}


def _level_notes(lines: Sequence[HomeLine], viewer_is_account_user: bool) -> list[Block]:
    """What the viewer does not see, and why: the Home page level only, for them or some companies."""
    if not viewer_is_account_user:
        return [
            context(
                "You see the Home page level only: your Slack email is not one of this practice's AutoEntry users. "
                "A Desktop Sync App problem does not show at that level."
            )
        ]
    if not all(home.details for home in lines):
        return [
            context(
                "Some companies show the Home page level only: their details (the exact error, the Desktop Sync App) "
                "need the Company settings permission."
            )
        ]
    return []


def _filter_buttons(lines: Sequence[HomeLine], attention: Sequence[HomeLine], state: HomeState) -> Block:
    return actions(
        [
            _state_button(
                f"Needs attention ({len(attention)})",
                f"{HOME_FILTER_ACTION}:attention",
                HomeState(HomeFilter.ATTENTION, 0),
                active=state.filter is HomeFilter.ATTENTION,
            ),
            _state_button(
                f"All companies ({len(lines)})",
                f"{HOME_FILTER_ACTION}:all",
                HomeState(HomeFilter.ALL, 0),
                active=state.filter is HomeFilter.ALL,
            ),
        ],
        block_id="home_filters",
    )


def _company_page(
    lines: Sequence[HomeLine],
    shown: Sequence[HomeLine],
    any_attention: bool,
    home_filter: HomeFilter,
    page: int,
    pages: int,
    page_size: int,
) -> list[Block]:
    """One page of the shown companies, each with its Open card button, then where it is and the paging buttons."""
    blocks: list[Block] = []
    start = page * page_size
    on_page = shown[start : start + page_size]
    if not lines:
        blocks.append(section("No companies yet: the first poll of the status feed has not finished."))
    elif not shown:
        blocks.append(section(":white_check_mark: Nothing needs attention."))
    group: bool | None = None
    for index, home in enumerate(on_page):
        if home.needs_attention is not group:
            group = home.needs_attention
            title = "Needs attention" if group else ("Everything else" if any_attention else "All companies")
            blocks.append(section(f"*{title}*"))
        open_card = button("Open card", f"{OPEN_CARD_ACTION}:{index}", home.company_id)
        # Every button reads "Open card": a screen reader says which company it opens.
        open_card["accessibility_label"] = clip(f"Open the status card of {home.line.name}", BUTTON_TEXT_LIMIT)
        blocks.append(section(company_mrkdwn(home), accessory=open_card))
    if shown:
        more = len(shown) - (start + len(on_page))
        where = f"Showing {start + 1}–{start + len(on_page)} of {len(shown)}"
        if more:
            where += f", and {more} more"
        blocks.append(context(where + "."))
        paging = []
        if page > 0:
            paging.append(_state_button("Previous", f"{HOME_PAGE_ACTION}:prev", HomeState(home_filter, page - 1)))
        if page < pages - 1:
            paging.append(_state_button("Next", f"{HOME_PAGE_ACTION}:next", HomeState(home_filter, page + 1)))
        if paging:
            blocks.append(actions(paging, block_id="home_paging"))
    return blocks


def _your_channels(
    subscriptions: Sequence[SubscriptionLike],
    snoozes: Sequence[SnoozeLike],
    names: Mapping[str, str],
    broken: Mapping[str, str] | None,
) -> list[Block]:
    """The viewer's channel subscriptions (and channels the bot cannot post in) and snoozes."""
    blocks: list[Block] = [section("*Your channel subscriptions*")]
    subs = subscription_rows(subscriptions, names, broken)
    blocks.append(
        section(bounded_lines(subs))
        if subs
        else context("None. In a channel, `/integration-status subscribe Acme Ltd` (or `subscribe all`) sends alerts there.")
    )
    snoozed = snooze_rows(snoozes, names)
    if snoozed:
        blocks.append(section("*Your snoozes*\n" + bounded_lines(snoozed)))
    return blocks


def card_modal(message: Message) -> dict[str, Any]:
    """A status card in a modal (a Home tab button has no response_url to answer to)."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": clip("Integration status", MODAL_TITLE_LIMIT)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": message.blocks[:HOME_BLOCK_LIMIT],
    }
