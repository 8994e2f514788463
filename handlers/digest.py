"""`digest HH:MM [daily]` / `digest off`: a channel's daily summary, in the time zone of whoever sets it."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Any

from bot.alerting.digest import DigestSchedule, next_send, zone
from bot.alerting.subscriptions import digest_off_answer, digest_set_answer
from bot.answers.grammar import Request
from bot.answers.render import Message, notice
from bot.slack.users import time_zone_of

if TYPE_CHECKING:
    from bot.services import Services


async def digest_answer(services: "Services", request: Request, body: dict[str, Any]) -> Message:
    store = services.store
    channel = str(body.get("channel_id") or "")
    if not channel or channel.startswith("D"):
        return notice("The digest goes to a channel: run this in the channel that should get it (and invite me there).")
    if request.argument == "off":
        return digest_off_answer(store.remove_digest(channel))
    user_id = str(body.get("user_id") or "")
    tz = await time_zone_of(services.client, user_id)
    zone_known = zone(tz) is not None
    now = services.clock()
    schedule = DigestSchedule(
        channel=channel,
        at=time.fromisoformat(request.argument),
        tz=tz if zone_known and tz else "UTC",
        every_day=request.every_day,
        created_by=user_id,
        created_at=now,
    )
    store.set_digest(schedule)
    companies = sum(1 for _ in services.digests.companies_for(channel))
    return digest_set_answer(schedule, next_send(schedule, now), zone_known=zone_known, companies=companies)
