"""What the subscription commands say. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Collection, Mapping, Sequence

from bot.alerting.digest import DigestSchedule
from bot.alerting.messages import broken_reason
from bot.answers.overview import OverviewLine, attention_order
from bot.answers.render import plural
from bot.practice.permissions import Viewer
from bot.slack.blockkit import Message, context, escape, section, slack_time
from storage.records import Subscription

PROBLEMS_SHOWN = 30


def current_problems(lines: Sequence[OverviewLine]) -> list[OverviewLine]:
    return sorted((line for line in lines if line.needs_attention), key=attention_order)


def subscribed_answer(company_name: str, created: bool, problems: Sequence[OverviewLine]) -> Message:
    scope = escape(company_name)
    head = f":bell: This channel now gets alerts for {scope}." if created else f"This channel was already subscribed to {scope}."
    blocks = [section(head)]
    if problems:
        rows = [f"• *{escape(line.name)}*: {escape(line.describe())}" for line in problems[:PROBLEMS_SHOWN]]
        more = f"\n…and {len(problems) - PROBLEMS_SHOWN} more." if len(problems) > PROBLEMS_SHOWN else ""
        blocks.append(section(f"*Problems right now ({len(problems)})*\n" + "\n".join(rows) + more))
    else:
        blocks.append(section(":white_check_mark: No problems right now."))
    blocks.append(
        context(
            "Alerts follow changes from now on: a new error or a changed message, a disconnection, a Sync App "
            "offline past its grace period, and each recovery. If I'm not in this channel yet, /invite me."
        )
    )
    return Message(text=escape(head), blocks=blocks)


def subscriptions_answer(
    channel: str,
    subscriptions: Sequence[Subscription],
    names: dict[str, str],
    snoozes: dict[tuple[str, str], datetime],
    *,
    everything_channel: str | None,
    broken_error: str | None = None,
    digest: DigestSchedule | None = None,
    digest_next: datetime | None = None,
) -> Message:
    """What `subscriptions` answers in `channel`; broken_error: Slack's error when the bot cannot post there;
    `digest` the channel's daily digest and `digest_next` when it is next sent."""
    message = _subscriptions_answer(channel, subscriptions, names, snoozes, everything_channel, broken_error)
    if digest is not None:
        message.blocks.append(section(f"*Daily digest*\n{digest_text(digest, digest_next)}"))
    return message


def digest_text(digest: DigestSchedule, next_send: datetime | None) -> str:
    days = "every day" if digest.every_day else "Monday to Friday"
    text = f"at {digest.at.strftime('%H:%M')} {escape(digest.tz)}, {days}"
    if digest.created_by:
        text += f" (set by <@{digest.created_by}>)"
    if next_send is not None:
        text += f"; next {slack_time(next_send)}"
    return text


def digest_set_answer(digest: DigestSchedule, next_send: datetime, *, zone_known: bool, companies: int) -> Message:
    head = f":sunrise: This channel gets a daily digest {digest_text(digest, next_send)}."
    blocks = [section(head)]
    notes = []
    if not zone_known:
        notes.append("Slack did not tell me your time zone, so the time is in UTC.")
    if companies == 0:
        notes.append("This channel is subscribed to no companies yet: the digest will say so. `subscribe all` or a company.")
    notes.append("It is sent when all is well too, so its silence means something is wrong with me. `digest off` stops it.")
    blocks.append(context(" ".join(notes)))
    return Message(text=head, blocks=blocks)


def digest_off_answer(removed: bool) -> Message:
    text = "This channel no longer gets a daily digest." if removed else "This channel had no daily digest; nothing changed."
    return Message(text=text, blocks=[section(text)])


def _subscriptions_answer(
    channel: str,
    subscriptions: Sequence[Subscription],
    names: dict[str, str],
    snoozes: dict[tuple[str, str], datetime],
    everything_channel: str | None,
    broken_error: str | None,
) -> Message:
    lines: list[str] = []
    if everything_channel and channel == everything_channel:
        lines.append("• every company (this is the alert channel set in ALERT_CHANNEL)")
    for subscription in subscriptions:
        what = (
            "every company"
            if subscription.company_id is None
            else escape(names.get(subscription.company_id, subscription.company_id))
        )
        line = f"• {what} (subscribed by <@{subscription.created_by}> {slack_time(subscription.created_at)})"
        if subscription.lapsed_at is not None:
            line += (
                f": *lapsed* {slack_time(subscription.lapsed_at)}, no alerts; someone with the Company settings "
                "permission can renew it by subscribing again"
            )
        lines.append(line)
    if not lines:
        text = "This channel gets no alerts. Subscribe with `/integration-status subscribe Acme Ltd` or `subscribe all`."
        return Message(text=text, blocks=[section(text)])
    blocks = [section(f"*This channel gets alerts for {plural(len(lines), 'subscription')}*\n" + "\n".join(lines))]
    if broken_error:
        blocks.insert(
            0,
            section(
                f":warning: *I can't post here*: {broken_reason(broken_error)}. Invite me (`/invite @` me), or "
                "unsubscribe. The alerts wait and go out as soon as I'm in."
            ),
        )
    snoozed = [(company_id, until) for (snoozed_channel, company_id), until in snoozes.items() if snoozed_channel == channel]
    if snoozed:
        rows = [
            f"• {escape(names.get(company_id, company_id))} until {slack_time(until)}" for company_id, until in sorted(snoozed)
        ]
        blocks.append(section("*Snoozed here*\n" + "\n".join(rows)))
    return Message(text="This channel's alert subscriptions", blocks=blocks)


def lapsing(
    subscriptions: Sequence[Subscription], viewers: Mapping[str, Viewer], company_ids: Collection[str]
) -> list[Subscription]:
    """The active subscriptions whose subscriber no longer has what subscribing takes.

    `viewers`: subscriber's Slack user id -> how AutoEntry sees them now (a subscriber missing from it is not
    judged: their email could not be read). A company's subscription needs the Company settings permission on
    it; `all` needs it on every company in `company_ids` (the same rule as `subscribe`)."""
    found: list[Subscription] = []
    for subscription in subscriptions:
        viewer = viewers.get(subscription.created_by)
        if subscription.lapsed_at is not None or viewer is None:
            continue
        scope = company_ids if subscription.company_id is None else [subscription.company_id]
        if not all(viewer.has_company_settings(company_id) for company_id in scope):
            found.append(subscription)
    return found


def lapsed_notice(subscription: Subscription, company_name: str | None) -> Message:
    """Told once in the channel when its subscription lapses."""
    what = "every company" if subscription.company_id is None else escape(company_name or subscription.company_id)
    command = "subscribe all" if subscription.company_id is None else f"subscribe {escape(company_name or '')}".strip()
    text = (
        f":warning: This channel no longer gets alerts for {what}: <@{subscription.created_by}>, who subscribed it, "
        f"no longer has AutoEntry's Company settings permission on {'all of them' if subscription.company_id is None else 'it'}. "
        f"Anyone who has it can renew the alerts with `/integration-status {command}`."
    )
    return Message(text=text, blocks=[section(text)])
