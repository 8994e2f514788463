"""The App Home tab: read storage, render (bot/home/view.py), publish; refresh it after a changing poll, throttled."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from bot.health import health
from bot.home.view import (
    HomeFilter,
    HomeHealth,
    HomeState,
    home_lines,
    home_view,
)
from bot.practice.models import StoredCompany
from bot.practice.poller import PollOutcome
from bot.presses import press_key
from bot.slack.errors import slack_error
from bot.slack.users import slack_viewer

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

RECENT_VIEWER = timedelta(hours=24)  # who counts as having the Home tab open lately
PUBLISH_INTERVAL = timedelta(seconds=60)  # at most one poll-driven views.publish per viewer in this time
MAX_VIEWERS_PER_POLL = 50  # most recently opened first; the rest stay stale for the next poll or their next open
PARALLEL_PUBLISHES = 4
FORGET_EVERY = timedelta(hours=1)  # viewers not seen for RECENT_VIEWER are deleted this often, not at every poll


def health_of(services: "Services") -> HomeHealth:
    code, body = health(services)
    feed = services.status.feed_health()
    last = services.store.last_poll()
    return HomeHealth(
        last_poll_at=(last.finished_at or last.started_at) if last else None,
        checked_at=feed.checked_at,
        problem=feed.problem,
        # "degraded" with a readable feed: a channel the bot cannot post in, told in the subscriptions.
        healthy=code == 200 and body.get("status") in ("ok", "degraded"),
    )


async def build_home(
    services: "Services", user_id: str, state: HomeState, companies: dict[str, StoredCompany] | None = None
) -> dict[str, Any]:
    store = services.store
    now = services.clock()
    viewer = await slack_viewer(services.client, store, user_id, now)
    companies = store.companies() if companies is None else companies
    connection = await services.home_connection(user_id) if services.home_connection is not None else []
    return home_view(
        home_lines(companies.values(), viewer),
        viewer_is_account_user=viewer.is_account_user,
        subscriptions=store.subscriptions_created_by(user_id),
        broken=store.broken_channels(),
        snoozes=store.snoozes_created_by(user_id, now),
        names={company_id: company.status.name for company_id, company in companies.items()},
        health=health_of(services),
        state=state,
        now=now,
        connection=connection,
    )


async def publish_home(
    services: "Services", user_id: str, state: HomeState, companies: dict[str, StoredCompany] | None = None
) -> bool:
    view = await build_home(services, user_id, state, companies)
    try:
        await services.client.views_publish(user_id=user_id, view=view)
    except Exception as exc:  # Slack saying no, or network trouble: the next open or poll tries again
        log.warning("views.publish for %s failed: %s", user_id, slack_error(exc))
        return False
    shown = HomeState.decode(view.get("private_metadata"))
    services.store.home_published(user_id, shown.filter.value, shown.page, services.clock())
    return True


def stored_state(filter: str, page: int) -> HomeState:
    try:
        return HomeState(HomeFilter(filter), max(page, 0))
    except ValueError:
        return HomeState()


async def home_opened(services: "Services", event: dict[str, Any]) -> None:
    user_id = event.get("user")
    if event.get("tab") != "home" or not isinstance(user_id, str) or not user_id:
        return
    store = services.store
    now = services.clock()
    store.home_opened(user_id, now)
    known = store.home_viewer(user_id)
    view = event.get("view")
    empty = not isinstance(view, dict) or not view.get("blocks")
    if known and known.published_at and not known.stale and not empty and now - known.published_at < PUBLISH_INTERVAL:
        return  # published moments ago and nothing has changed since
    state = stored_state(known.filter, known.page) if known else HomeState()
    await publish_home(services, user_id, state)


class HomeRefresher:
    """Inside the poll (`mark`): marks recent Home tabs stale when something changed; after it (the hook
    itself): republishes a bounded few."""

    def __init__(self, services: "Services") -> None:
        self.services = services
        self.feed_ok: bool | None = None
        # When this process last marked Home tabs stale (a mark before its start counts as long ago: the first
        # poll looks once), and last forgot viewers gone a day. A poll looks for stale tabs only while some
        # may be left (see __call__).
        self.marked_at: datetime | None = datetime.min.replace(tzinfo=timezone.utc)
        self.forgot_at: datetime | None = None

    def mark(self, outcome: PollOutcome, now: datetime) -> None:
        """A reactor inside the poll's transaction (no transaction of its own): recent Home tabs are marked
        stale when the poll changed a company or the feed's health."""
        changed = bool(outcome.ok and (outcome.changes or outcome.removed))
        health_changed = self.feed_ok is not None and self.feed_ok != outcome.ok
        self.feed_ok = outcome.ok
        # A mark that found no recent tab left fresh (no viewer) leaves nothing new to look for after the poll.
        if (changed or health_changed) and self.services.store.mark_home_stale(now - RECENT_VIEWER):
            self.marked_at = now

    async def __call__(self, outcome: PollOutcome) -> None:
        """After the poll: republish a bounded few of the stale tabs."""
        store = self.services.store
        now = self.services.clock()
        if self.forgot_at is None or now - self.forgot_at >= FORGET_EVERY:
            store.forget_home_viewers(now - RECENT_VIEWER)
            self.forgot_at = now
        if self.marked_at is None:
            return  # every tab marked stale since has been published again: nothing to look for
        due = store.home_viewers_to_refresh(now - RECENT_VIEWER, now - PUBLISH_INTERVAL, MAX_VIEWERS_PER_POLL)
        if not due:
            # A stale tab is published at most PUBLISH_INTERVAL after its mark: none due past that, none is left.
            if now - self.marked_at >= PUBLISH_INTERVAL:
                self.marked_at = None
            return
        companies = store.companies()  # read once for every viewer
        limit = asyncio.Semaphore(PARALLEL_PUBLISHES)

        async def one(user_id: str) -> None:
            async with limit:
                # Read the viewer's page now, not before the wait: a press of Next or a filter in the meantime
                # has published a newer view, which this refresh must not overwrite with the old page.
                viewer = store.home_viewer(user_id)
                if viewer is None or (viewer.published_at is not None and viewer.published_at >= now):
                    return
                await publish_home(self.services, user_id, stored_state(viewer.filter, viewer.page), companies)

        await asyncio.gather(*(one(viewer.user_id) for viewer in due))


async def navigate(services: "Services", body: dict[str, Any], action: dict[str, Any]) -> None:
    """A press of a Home tab filter or page button: publish the view it asks for, once per press."""
    user_id = body["user"]["id"]
    now = services.clock()
    # One publish per press: the view's hash changes with each publish, so the same button on the same
    # view is the same press (a double click, Slack's retry); the next view's buttons are new presses.
    view = body.get("view") or {}
    target = f"{view.get('hash') or view.get('id') or ''}:{action.get('action_id')}:{action.get('value')}"
    press = press_key("home", target, user_id, now)
    if services.store.claim_press(press.key, user_id, now, press.until) is None:
        return
    services.store.home_opened(user_id, now)
    await publish_home(services, user_id, HomeState.decode(action.get("value")))
