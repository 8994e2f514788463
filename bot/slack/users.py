"""Slack user -> email, the key that ties a Slack person to an AutoEntry user. Cached in storage."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.practice.permissions import Viewer, viewer_for
from storage.ports import CompanyRecords, SlackUsers

log = logging.getLogger(__name__)


class ViewerStore(SlackUsers, CompanyRecords, Protocol):
    """What telling who is asking reads: Slack users' emails, and the account's users."""


# Emails rarely change; a day keeps users.info off the slash command's path almost always.
EMAIL_CACHE_AGE = timedelta(hours=24)


async def email_of(client: AsyncWebClient, store: SlackUsers, user_id: str, now: datetime) -> str | None:
    known, email = store.slack_user_email(user_id, now, EMAIL_CACHE_AGE)
    if known:
        return email
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        log.warning("users.info for %s failed: %s", user_id, data.get("error") or exc.response.status_code)
        return None
    except Exception as exc:  # network trouble must not break the answer; the viewer sees less
        log.warning("users.info for %s failed: %s", user_id, exc)
        return None
    user = response.get("user") or {}
    profile = user.get("profile") or {}
    email = profile.get("email")
    email = email.strip().casefold() if isinstance(email, str) and email.strip() else None
    store.remember_slack_user(user_id, email, user.get("real_name") or user.get("name"), now)
    return email


async def slack_viewer(client: AsyncWebClient, store: ViewerStore, user_id: str, now: datetime) -> Viewer:
    """Who is asking, as AutoEntry knows them: by the email on their Slack profile."""
    return viewer_for(store.account(), user_id, await email_of(client, store, user_id, now))


async def time_zone_of(client: AsyncWebClient, user_id: str) -> str | None:
    """The IANA time zone on a person's Slack profile (users.info `user.tz`, e.g. "Europe/London"), asked
    afresh (people travel; this is asked only when they set a digest); None when Slack does not say."""
    try:
        response = await client.users_info(user=user_id)
    except Exception as exc:  # the caller falls back to UTC and says so
        log.warning("users.info for %s failed: %s", user_id, exc)
        return None
    tz = (response.get("user") or {}).get("tz")
    return tz if isinstance(tz, str) and tz else None
