"""Sending one outbox row to Slack: its message rendered, posted, threaded or edited in place, sent
smaller when Slack refuses it as too big, and found again after a crash (bot/alerting/delivery.py runs it)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerting.compose import AlertRenderer
from bot.alerting.outbox import Kind
from bot.slack.blockkit import MESSAGE_TEXT_BUDGET, TOO_BIG_ERRORS, Message, fit, plain_version
from bot.slack.errors import slack_error
from storage.ports import IncidentRecords, OutboxQueue
from storage.records import OutboxItem

log = logging.getLogger("bot.alerting.delivery")

METADATA_EVENT = "integration_status_alert"
MESSAGE_GONE = frozenset({"message_not_found", "cant_update_message", "thread_not_found"})


class SendingStore(OutboxQueue, IncidentRecords, Protocol):
    """What sending an outbox row reads and writes: the row, and the alert message or group it posts."""


class Postpone(Exception):
    """The row cannot go yet (its parent message is not posted): try again shortly, not an error."""


class ParentLost(Exception):
    """The message this row belongs to was never delivered (its post failed for good)."""


class OutboxSender:
    """The `Deliverer` mixin that turns one outbox row into Slack Web API calls."""

    store: SendingStore
    client: AsyncWebClient
    renderer: AlertRenderer

    # --- what each kind of row does ------------------------------------------------------------

    def _parent_ts(self, item: OutboxItem) -> str:
        if item.kind == Kind.DIGEST_LIST.value:
            parent = self.store.outbox_row(str(item.body.get("parent")))
            if parent is not None and parent.ts:
                return parent.ts
            if parent is not None and parent.state == "pending":
                raise Postpone()
            raise ParentLost()
        if item.group_id is not None:
            group = self.store.group(item.group_id)
            ts = group.ts if group else None
        else:
            message = self.store.alert_message(item.channel, item.incident_id or 0)
            ts = message.ts if message else None
        if ts is not None:
            return ts
        if self.store.parent_post_pending(item.channel, item.incident_id, item.group_id):
            raise Postpone()
        raise ParentLost()

    def _record_ts(self, item: OutboxItem, ts: str | None) -> None:
        if ts is None:
            return
        if item.kind in (Kind.POST, Kind.UPDATE) and item.incident_id is not None:
            self.store.set_alert_ts(item.channel, item.incident_id, ts)
        elif item.kind in (Kind.GROUP_POST, Kind.GROUP_UPDATE) and item.group_id is not None:
            self.store.set_group_ts(item.group_id, ts)

    def _message(self, item: OutboxItem) -> Message | None:
        renderer = self.renderer
        kind = Kind(item.kind)
        if kind in (Kind.POST, Kind.UPDATE):
            return renderer.incident_message(item.channel, item.incident_id or 0)
        if kind is Kind.REPLY:
            return renderer.incident_reply(item.incident_id or 0, item.body)
        if kind in (Kind.GROUP_POST, Kind.GROUP_UPDATE):
            return renderer.group_message(item.group_id or 0)
        if kind is Kind.GROUP_LIST:
            # Rows queued before parts were sized to the text budget held 100 companies each.
            return renderer.group_list(item.group_id or 0, item.body["part"], item.body["parts"], item.body.get("per", 100))
        if kind is Kind.GROUP_REPLY:
            return renderer.group_reply(item.group_id or 0, item.body)
        if kind is Kind.DIGEST:
            return renderer.digest(item.body)
        if kind is Kind.DIGEST_LIST:
            return renderer.digest_list(item.body)
        return renderer.notice(item.body)

    async def _smaller_if_refused(self, item: OutboxItem, message: Message, call: Callable[[Message], Awaitable[Any]]) -> Any:
        """call(message) within the text budget; when Slack refuses it as too big or its blocks as invalid
        (TOO_BIG_ERRORS), again smaller: within half the budget, then plain text. Never dropped for size."""
        tries = [fit(message), fit(message, MESSAGE_TEXT_BUDGET // 2), plain_version(message)]
        for attempt, smaller in enumerate(tries):
            try:
                return await call(smaller)
            except SlackApiError as exc:
                error = slack_error(exc)
                if error not in TOO_BIG_ERRORS or attempt == len(tries) - 1:
                    raise
                log.warning("Slack refused %s to %s (%s); sending it smaller", item.key, item.channel, error)
        raise AssertionError("unreachable")

    async def _post(self, item: OutboxItem, message: Message, thread_ts: str | None = None) -> str | None:
        async def post(smaller: Message) -> Any:
            return await self.client.chat_postMessage(
                channel=item.channel,
                text=smaller.text,
                blocks=smaller.blocks or None,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                # The outbox key travels with the message, so a restart can tell a sent row from an unsent one.
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": item.key}},
            )

        response = await self._smaller_if_refused(item, message, post)
        return response.get("ts")

    async def _send(self, item: OutboxItem) -> str | None:
        message = self._message(item)
        if message is None:
            return None
        kind = Kind(item.kind)
        if kind.posts_new_message:
            return await self._post(item, message)
        if kind.in_thread:
            return await self._post(item, message, thread_ts=self._parent_ts(item))
        # An update: edit the message in place, or post it anew when it is gone (or never arrived).
        try:
            ts = self._parent_ts(item)
        except ParentLost:
            return await self._post(item, message)

        async def update(smaller: Message) -> Any:
            # blocks=[] (not None) so that a plain-text edit removes the old blocks.
            return await self.client.chat_update(channel=item.channel, ts=ts, text=smaller.text, blocks=smaller.blocks)

        try:
            await self._smaller_if_refused(item, message, update)
            return ts
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            if data.get("error") not in MESSAGE_GONE:
                raise
            log.info("Alert message %s in %s is gone (%s); posting it anew", ts, item.channel, data.get("error"))
            return await self._post(item, message)

    async def _find_sent(self, item: OutboxItem) -> str | None:
        """After a crash mid-send: did Slack get the message? Its metadata carries the row's key.

        Needs the channels:history (groups:history for private channels) scope; without it the answer
        is "unknown" and the row is sent again: at least once, never lost.
        """
        kind = Kind(item.kind)
        if kind.edits:
            return None  # an update is idempotent: doing it again is harmless
        oldest = f"{item.created_at.timestamp() - 60:.6f}"
        try:
            if kind.in_thread:
                response = await self.client.conversations_replies(
                    channel=item.channel, ts=self._parent_ts(item), oldest=oldest, include_all_metadata=True, limit=200
                )
            else:
                response = await self.client.conversations_history(
                    channel=item.channel, oldest=oldest, include_all_metadata=True, limit=200
                )
        except (SlackApiError, Postpone, ParentLost, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("Could not check whether %s reached Slack (%s); sending it again", item.key, exc)
            return None
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and (metadata.get("event_payload") or {}).get("key") == item.key:
                return message.get("ts")
        return None
