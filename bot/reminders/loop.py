"""Remind the account holder: the Slack I/O around bot.reminders.decide (the decisions) and .messages (the words)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Sequence

from slack_bolt.async_app import AsyncRespond

from bot.practice.models import MAX_ID_LENGTH, Person
from bot.practice.permissions import viewer_for
from bot.practice.poller import PollOutcome
from bot.presses import press_key
from bot.reminders import decide as r
from bot.reminders import messages as m
from bot.slack.actions import GRANTED_ACTION, REMIND_ACTION, parse_id
from bot.slack.blockkit import Message
from bot.slack.errors import is_retryable, slack_error
from bot.slack.users import slack_viewer

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


class Reminders:
    def __init__(self, services: "Services") -> None:
        self.services = services
        self.client = services.client
        self.store = services.store
        # Closing a loop (holder's press, poll hook) reads then writes around Slack calls: one at a time.
        self.lock = asyncio.Lock()

    # --- talking to Slack --------------------------------------------------------------------

    async def tell(self, body: dict[str, Any], respond: AsyncRespond | None, message: Message) -> None:
        """Privately to the person who pressed, under the message they pressed (any message, ephemeral or not)."""
        user_id = (body.get("user") or {}).get("id")
        try:
            if body.get("response_url") and respond is not None:
                await respond(replace_original=False, response_type="ephemeral", **message.as_kwargs())
                return
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
            if channel and user_id:
                await self.client.chat_postEphemeral(channel=channel, user=user_id, **message.as_kwargs())
            elif user_id:
                await self.client.chat_postMessage(channel=user_id, **message.as_kwargs())
        except Exception as exc:  # the answer is lost, but nothing else is
            log.warning("Could not answer %s about a reminder: %s", user_id, slack_error(exc))

    async def dm(self, user_id: str, message: Message) -> tuple[str, str]:
        opened = await self.client.conversations_open(users=user_id)
        channel = opened["channel"]["id"]
        posted = await self.client.chat_postMessage(channel=channel, **message.as_kwargs())
        return channel, str(posted["ts"])

    # --- the buttons ------------------------------------------------------------------------------

    async def press_remind(self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond | None) -> None:
        """ "Remind account holder to grant permission" pressed; whatever fails, the presser gets an answer."""
        try:
            await self.remind(body, action, respond)
        except Exception:
            log.exception("The remind button failed")
            await self.tell(body, respond, m.remind_failed())

    async def press_granted(self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond | None) -> None:
        """The account holder's "I've granted it" pressed."""
        try:
            await self.granted(body, action, respond)
        except Exception:
            log.exception("The granted button failed")
            await self.tell(body, respond, m.granted_failed())

    # --- "Remind account holder to grant permission" ----------------------------------------

    async def remind(self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond | None) -> None:
        services = self.services
        now = services.clock()
        user_id = str(body["user"]["id"])
        company_id = action.get("value")
        if not isinstance(company_id, str) or not company_id or len(company_id) > MAX_ID_LENGTH:
            return await self.tell(body, respond, m.unreadable_button(sent=True))
        press = press_key(REMIND_ACTION, company_id, user_id, now)
        if self.store.claim_press(press.key, user_id, now, press.until) is None:
            return  # the same press again, or Slack retrying it: it has its answer already
        try:
            sent = await self._remind(body, respond, user_id, company_id, now)
        except Exception:
            self.store.release_press(press.key)
            raise
        if not sent:  # Slack said no: pressing again may work
            self.store.release_press(press.key)

    async def _remind(
        self, body: dict[str, Any], respond: AsyncRespond | None, user_id: str, company_id: str, now: datetime
    ) -> bool:
        """False when a reminder was attempted and did not reach the holder."""
        services = self.services
        viewer = await slack_viewer(self.client, self.store, user_id, now)
        account = self.store.account()
        company = self.store.company(company_id) if company_id else None
        previous = self.store.recent_reminders(user_id, company_id, now - r.REMIND_INTERVAL)
        decision = r.decide(viewer, account, company, previous, now)

        if decision.verdict is r.Verdict.NO_PRACTICE:
            await self.tell(body, respond, m.no_practice_yet())
            return True
        if decision.verdict is r.Verdict.UNKNOWN_COMPANY or company is None or account is None:
            await self.tell(body, respond, m.company_gone())
            return True
        if decision.verdict is r.Verdict.ALREADY_PERMITTED:
            card = services.status.card(company.id, viewer)
            await self.tell(body, respond, m.already_permitted(company.name, card))
            return True
        if decision.verdict is r.Verdict.NOT_ACCOUNT_USER:
            await self.tell(body, respond, m.not_account_user(viewer))
            return True
        if decision.verdict is r.Verdict.REPEAT and decision.last is not None:
            await self.tell(body, respond, m.repeat(decision.last, now))
            return True
        if decision.verdict is r.Verdict.IN_FLIGHT:
            await self.tell(body, respond, m.in_flight(company.name))
            return True

        user = viewer.account_user
        requester = Person(user.name if user else "", viewer.email or "")
        holder = account.holder
        reminder_id = self.store.add_reminder(
            company_id=company.id,
            company_name=company.name,
            requester_user_id=user_id,
            requester=requester,
            holder=holder,
            now=now,
        )
        try:
            message = await self._send(reminder_id, user_id, requester, holder, company.name, account.name)
        except Exception as exc:  # a bug must not leave the reminder pending, nor the person without an answer
            log.exception("Sending reminder %s failed", reminder_id)
            self.store.reminder_failed(reminder_id, r.failed(slack_error(exc)))
            message = m.send_failed(holder, company.name, slack_error(exc))
        await self.tell(body, respond, message)
        sent = self.store.reminder(reminder_id)
        return sent is not None and sent.sent_at is not None

    async def _send(
        self, reminder_id: int, user_id: str, requester: Person, holder: Person, company_name: str, practice: str
    ) -> Message:
        try:
            found = await self.client.users_lookupByEmail(email=holder.email)
        except Exception as exc:
            error = slack_error(exc)
            if error == "users_not_found":
                self.store.reminder_failed(reminder_id, r.Outcome.HOLDER_NOT_IN_SLACK.value, error=error)
                return m.holder_not_in_slack(holder, requester, company_name)
            log.warning("users.lookupByEmail for the account holder failed: %s", error)
            self.store.reminder_failed(reminder_id, r.failed(error), error=error)
            return m.send_failed(holder, company_name, error)
        slack_user = found.get("user") or {}
        holder_id = str(slack_user.get("id") or "")
        if not holder_id or slack_user.get("deleted") or slack_user.get("is_bot"):
            self.store.reminder_failed(reminder_id, r.Outcome.HOLDER_NOT_IN_SLACK.value, error="holder deactivated")
            return m.holder_not_in_slack(holder, requester, company_name)
        request = m.holder_request(user_id, requester, company_name, practice, reminder_id)
        try:
            channel, ts = await self.dm(holder_id, request)
        except Exception as exc:
            error = slack_error(exc)
            log.warning("The reminder DM to the account holder failed: %s", error)
            self.store.reminder_failed(reminder_id, r.failed(error), holder_user_id=holder_id, error=error)
            return m.send_failed(holder, company_name, error)
        self.store.reminder_sent(reminder_id, holder_id, channel, ts, self.services.clock())
        return m.reminder_sent(holder, holder_id, company_name)

    # --- "I've granted it", and the feed --------------------------------------------------------

    async def granted(self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond | None) -> None:
        user_id = str(body["user"]["id"])
        reminder_id = parse_id(action.get("value"))
        if reminder_id is None:
            return await self.tell(body, respond, m.unreadable_button(sent=False))
        reminder = self.store.reminder(reminder_id)
        if reminder is None or reminder.sent_at is None:
            return await self.tell(body, respond, m.unknown_reminder())
        if user_id != reminder.holder_user_id:
            return await self.tell(body, respond, m.granted_by_someone_else())
        now = self.services.clock()
        press = press_key(GRANTED_ACTION, str(reminder.id), user_id, now)
        if self.store.claim_press(press.key, user_id, now, press.until) is None:
            return  # pressed already (or Slack retried the press): the loop is closing or closed
        async with self.lock:
            now = self.services.clock()
            reminder = self.store.reminder(reminder.id) or reminder
            if reminder.closed_at is not None:
                await self._update_holder([reminder], confirmed=reminder.confirmed_at is not None, now=now)
                return
            group = self.store.open_reminders_for(reminder.requester_email, reminder.company_id, now) or [reminder]
            already_claimed = any(x.claimed_at for x in group)
            self.store.reminders_claimed([x.id for x in group], now)
            group = [self.store.reminder(x.id) or x for x in group]
            if r.has_permission(self.store.account(), reminder.requester_email, reminder.company_id):
                if not await self._close(group, now=now):
                    await self.tell(body, respond, m.will_retry_telling())
            elif not already_claimed:
                # The holder's word is news, not a permission: the details wait until AutoEntry shows it.
                try:
                    await self.dm(reminder.requester_user_id, m.access_claimed(reminder))
                except Exception as exc:
                    self._note(group, f"claimed_dm:{slack_error(exc)}")
                await self._update_holder(group, confirmed=False, now=now)

    async def after_poll(self, outcome: PollOutcome) -> None:
        if not outcome.ok or (outcome.agenda is not None and not outcome.agenda.open_reminders):
            return  # no delivered reminder open, as the poll's transaction saw them
        async with self.lock:
            now = self.services.clock()
            for step in r.poll_steps(self.store.open_reminders(now), self.store.account()):
                ids = [x.id for x in step.reminders]
                if step.confirmed:
                    await self._close(step.reminders, now=now)
                elif step.count_poll:
                    self.store.reminders_poll_counted([x.id for x in step.reminders if x.claimed_at])
                    if step.tell_unconfirmed:
                        try:
                            await self.dm(step.first.requester_user_id, m.not_confirmed(step.first))
                            self.store.reminders_unconfirmed_told(ids, now)
                        except Exception as exc:
                            self._note(step.reminders, f"unconfirmed_dm:{slack_error(exc)}")
                            if not is_retryable(exc):  # it will never go: do not try at every poll
                                self.store.reminders_unconfirmed_told(ids, now)

    async def _close(self, group: Sequence[r.Reminder], *, now: datetime) -> bool:
        """AutoEntry shows the permission: tell the requester (once) with the full card, record it, update the
        holder's DMs. False: not told (the next poll tries again)."""
        ids = [x.id for x in group]
        first = group[0]
        told = any(x.access_told_at for x in group)
        gave_up = False
        if not told:
            # The card is built for the requester as the feed knows them: it shows what they may now see.
            viewer = viewer_for(self.store.account(), first.requester_user_id, first.requester_email)
            card = self.services.status.card(first.company_id, viewer)
            try:
                await self.dm(first.requester_user_id, m.access_granted(first, card, confirmed=True))
                self.store.reminders_access_told(ids, now)
                told = True
            except Exception as exc:
                error = slack_error(exc)
                gave_up = not is_retryable(exc)
                log.warning("The access DM to %s failed: %s", first.requester_user_id, error)
                self._note(group, f"access_dm:{error}")
        if told or gave_up:
            self.store.reminders_confirmed(ids, now)
        if told:
            await self._update_holder(group, confirmed=True, now=now)
        return told

    async def _update_holder(self, group: Sequence[r.Reminder], *, confirmed: bool, now: datetime) -> None:
        for reminder in group:
            if not (reminder.dm_channel and reminder.dm_ts):
                continue
            message = m.holder_done(reminder, confirmed=confirmed, now=now)
            try:
                await self.client.chat_update(channel=reminder.dm_channel, ts=reminder.dm_ts, **message.as_kwargs())
            except Exception as exc:
                self._note([reminder], f"holder_update:{slack_error(exc)}")

    def _note(self, group: Sequence[r.Reminder], error: str) -> None:
        for reminder in group:
            self.store.reminder_note(reminder.id, error)
