"""Answers about the practice, read from storage: shared by the slash command, buttons and the terminal."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable, Protocol

from bot.answers.overview import OverviewLine, practice_overview
from bot.answers.pages import PageAt
from bot.answers.render import CardFacts, card_facts, help_topic, status_card
from bot.heap import keep_long_lived
from bot.helpcentre.matching import ArticleMatch, HelpCentre
from bot.practice.devices import location_key
from bot.practice.lookup import LookupResult, NameIndex
from bot.practice.models import StoredCompany, SyncAppStatus
from bot.practice.permissions import Viewer
from bot.slack.blockkit import Message, age_text
from storage.ports import CompanyRecords, PollRuns

OVERVIEW_CACHE_SIZE = 64  # kept answers to `list` and its pages, cleared when full


class StatusStore(CompanyRecords, PollRuns, Protocol):
    """What the answers read: the companies and the latest polls."""


@dataclass(frozen=True, slots=True)
class FeedHealth:
    checked_at: datetime | None  # the end of the last good poll
    problem: str | None  # why the latest poll failed, when it did
    failing_polls: int


class StatusService:
    def __init__(self, store: StatusStore, help_centre: HelpCentre, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.help_centre = help_centre
        self.clock = clock
        self._index: NameIndex | None = None
        self._index_version = -1
        self._computers_by_key: dict[str | None, list[tuple[str, str]]] | None = None
        self._computers_version = -1
        # `list` over 10,000 companies takes ~35 ms of the event loop; its answer only changes with the
        # companies, what the viewer may see, and the "last checked" note, so it is kept until one changes.
        self._overviews: dict[tuple[object, ...], Message] = {}
        self._all_lines: list[tuple[str, OverviewLine]] | None = None
        self._all_lines_version = -1
        self._health: FeedHealth | None = None
        self._health_version = -1
        self._overviews_version = -1

    def name_index(self) -> NameIndex:
        if self._index is None or self._index_version != self.store.companies_version:
            self._index = NameIndex(self.store.company_names())
            self._index_version = self.store.companies_version
            # The index is hundreds of thousands of long-lived objects: keep the cyclic garbage collector
            # from walking them again and again while requests wait.
            keep_long_lived()
        return self._index

    def find(self, query: str) -> LookupResult:
        return self.name_index().find(query)

    def feed_health(self) -> FeedHealth:
        # It changes only when a poll is recorded; every card and listing asks for it.
        if self._health is None or self._health_version != self.store.polls_version:
            last = self.store.last_poll()
            good = self.store.last_good_poll()
            self._health = FeedHealth(
                checked_at=(good.finished_at if good else None),
                problem=last.error if last is not None and not last.ok else None,
                failing_polls=self.store.failing_polls_since_last_good(),
            )
            self._health_version = self.store.polls_version
        return self._health

    def _computers(self) -> dict[str | None, list[tuple[str, str]]]:
        """(id, name) of the listed companies on each computer (bot.practice.devices.location_key), names in
        order; rebuilt once per change of the practice, not per card (a scan of every company otherwise)."""
        if self._computers_by_key is None or self._computers_version != self.store.companies_version:
            grouped: dict[str | None, list[tuple[str, str]]] = {}
            for company in self.store.companies().values():
                sync = company.status.sync_app
                key = location_key(sync.location) if sync is not None else None
                if key is not None:
                    grouped.setdefault(key, []).append((company.id, company.status.name))
            for members in grouped.values():
                members.sort(key=lambda member: member[1].casefold())
            self._computers_by_key, self._computers_version = grouped, self.store.companies_version
        return self._computers_by_key

    def has_companies(self) -> bool:
        return len(self.name_index()) > 0

    def article_for(self, company: StoredCompany, details: bool = True) -> ArticleMatch:
        """The exact article for the exact message; without the permission, the state's general article,
        since a specific article (and why it matched) would give the hidden message away."""
        status = company.status
        if not details:
            return self.help_centre.match(None, help_topic(status, home_page_only=True))
        return self.help_centre.match(status.error.message if status.error else None, help_topic(status))

    def card_facts(self, company: StoredCompany, viewer: Viewer) -> CardFacts:
        health = self.feed_health()
        details = viewer.has_company_settings(company.id)
        same_computer: list[str] = []
        if details and company.status.sync_app is not None:
            key = location_key(company.status.sync_app.location)
            same_computer = [name for company_id, name in self._computers().get(key, ()) if company_id != company.id]
        return card_facts(
            company,
            details=details,
            same_computer=same_computer,
            known_user=viewer.is_account_user,
            article=self.article_for(company, details),
            checked_at=health.checked_at,
            feed_problem=health.problem,
            now=self.clock(),
        )

    def card(self, company_id: str, viewer: Viewer) -> Message | None:
        company = self.store.company(company_id)
        if company is None:
            return None
        details = viewer.has_company_settings(company.id)
        # A Slack user who is not one of the account's users cannot be granted anything by a reminder.
        remind = not details and viewer.is_account_user
        return status_card(self.card_facts(company, viewer), company.id, remind_button=remind)

    def overview(self, viewer: Viewer, errors_only: bool, at: PageAt | None = None) -> Message:
        health = self.feed_health()
        now = self.clock()
        if self._overviews_version != self.store.companies_version:
            self._overviews.clear()
            self._overviews_version = self.store.companies_version
        # Everything the message depends on; age_text is in the key, so a cached answer is the same text.
        key = (
            viewer.is_holder,
            viewer.account_user,
            errors_only,
            at,
            health.checked_at,
            health.problem,
            age_text(health.checked_at, now),
        )
        cached = self._overviews.get(key)
        if cached is None:
            if len(self._overviews) >= OVERVIEW_CACHE_SIZE:  # page buttons carry any start a client sends
                self._overviews.clear()
            cached = self._overviews[key] = self._overview(viewer, errors_only, health, now, at)
        return cached

    def _overview_lines(self) -> list[tuple[str, OverviewLine]]:
        """Every listed company as the account holder sees it, read once per change of the company list."""
        if self._all_lines is None or self._all_lines_version != self.store.companies_version:
            offline = SyncAppStatus.OFFLINE
            self._all_lines = [
                (company_id, OverviewLine(name, status, since, (location or "") if sync is offline else None, company_id))
                for company_id, name, status, since, sync, location in self.store.company_lines()
            ]
            self._all_lines_version = self.store.companies_version
        return self._all_lines

    def _overview(self, viewer: Viewer, errors_only: bool, health: FeedHealth, now: datetime, at: PageAt | None) -> Message:
        # A viewer without the permission on a company does not see its Sync App (the Home page does not).
        lines = [
            line
            if line.sync_offline_at is None or viewer.has_company_settings(company_id)
            else replace(line, sync_offline_at=None)
            for company_id, line in self._overview_lines()
        ]
        return practice_overview(
            lines,
            errors_only=errors_only,
            checked_at=health.checked_at,
            feed_problem=health.problem,
            now=now,
            at=at,
        )
