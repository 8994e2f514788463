"""The daily digest: when each channel's is due, and what it says. Pure.

Source: SPEC.md "Daily digest": `digest 09:00` sends each working day (Monday to Friday; `digest 09:00 daily`
every day) at that time in the time zone of the person who set it; counts per state, then the subscribed
companies that need attention, longest-broken first, with how long and whether someone acknowledged it; sent
when all is well too. Local times go through `zoneinfo` (the IANA database), so 09:00 stays 09:00 across
daylight-saving changes; a time that does not exist on a spring-forward day is read as the same wall time
before the change (fold=0), i.e. it goes out an hour later by the clock, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.practice.models import IntegrationStatus, StoredCompany

WORKING_DAYS = frozenset(range(5))  # Monday to Friday (date.weekday())


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA time zone `name` (Slack's `users.info` `tz`, e.g. "Europe/London"), or None if unknown."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """A channel's digest: local time `at` in zone `tz`, working days or `every_day`, set at `created_at`."""

    channel: str
    at: time
    tz: str
    every_day: bool
    created_by: str
    created_at: datetime

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz) or ZoneInfo("UTC")

    def runs_on(self, day: date) -> bool:
        return self.every_day or day.weekday() in WORKING_DAYS


def send_time(schedule: DigestSchedule, day: date) -> datetime:
    """The instant (UTC) of the digest of local date `day`."""
    local = datetime.combine(day, schedule.at, tzinfo=schedule.zone)
    return local.astimezone(timezone.utc)


def due_date(schedule: DigestSchedule, now: datetime) -> date | None:
    """The local date whose digest is due at `now`, or None.

    Due from its time until the end of that local day (a bot that was down at 09:00 sends it when it is
    back, the same day); never for a day whose time was before the digest was set, and never twice: the
    outbox's dedup key holds the channel and this date."""
    today = now.astimezone(schedule.zone).date()
    if not schedule.runs_on(today):
        return None
    instant = send_time(schedule, today)
    if instant <= now and instant >= schedule.created_at:
        return today
    return None


def next_send(schedule: DigestSchedule, now: datetime) -> datetime:
    """The next instant (UTC) a digest is sent, after `now`."""
    day = now.astimezone(schedule.zone).date()
    for offset in range(8):
        candidate = day + timedelta(days=offset)
        instant = send_time(schedule, candidate)
        if schedule.runs_on(candidate) and instant > now and instant >= schedule.created_at:
            return instant
    raise AssertionError("a schedule runs at least once a week")


# --- what it says ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One company that needs attention: what is wrong, since when, who acknowledged its alert here."""

    company_id: str
    name: str
    problems: tuple[str, ...]  # "Error", "Not integrated", "Sync App offline on RECEPTION-PC"
    since: datetime | None
    acked_by: str | None


@dataclass(frozen=True, slots=True)
class DigestFacts:
    total: int
    integrated: int
    error: int
    not_integrated: int
    sync_offline: int
    lines: tuple[DigestLine, ...]  # longest-broken first

    @property
    def all_fine(self) -> bool:
        return not self.lines


def _since(company: StoredCompany) -> datetime | None:
    status = company.status
    moments = []
    if status.integration_status is not IntegrationStatus.INTEGRATED and company.status_since:
        moments.append(company.status_since)
    if status.sync_app and status.sync_app.offline and company.sync_since:
        moments.append(company.sync_since)
    return min(moments) if moments else None


def digest_facts(companies: Iterable[StoredCompany], acked_by: Mapping[str, str]) -> DigestFacts:
    """The digest of `companies` (the channel's subscribed ones); `acked_by`: company id -> who acknowledged
    an open alert of it in the channel. Longest-broken first; those with no known start last, by name."""
    counts = {status: 0 for status in IntegrationStatus}
    offline = 0
    lines: list[DigestLine] = []
    total = 0
    for company in companies:
        total += 1
        status = company.status
        counts[status.integration_status] += 1
        problems: list[str] = []
        if status.integration_status is not IntegrationStatus.INTEGRATED:
            problems.append(status.integration_status.label)
        if status.sync_app and status.sync_app.offline:
            offline += 1
            where = (status.sync_app.location or "").strip()
            problems.append(f"Sync App offline on {where}" if where else "Sync App offline")
        if problems:
            lines.append(DigestLine(company.id, company.name, tuple(problems), _since(company), acked_by.get(company.id)))
    far = datetime.max.replace(tzinfo=timezone.utc)
    lines.sort(key=lambda line: (line.since or far, line.name.casefold()))
    return DigestFacts(
        total=total,
        integrated=counts[IntegrationStatus.INTEGRATED],
        error=counts[IntegrationStatus.ERROR],
        not_integrated=counts[IntegrationStatus.NOT_INTEGRATED],
        sync_offline=offline,
        lines=tuple(lines),
    )


def _line_body(line: DigestLine) -> dict[str, object]:
    return {
        "id": line.company_id,
        "name": line.name,
        "problems": list(line.problems),
        "since": line.since.isoformat() if line.since else None,
        "acked_by": line.acked_by,
    }


def digest_bodies(
    facts: DigestFacts, schedule: DigestSchedule, day: date, now: datetime, *, shown: int, per_reply: int
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The digest as it is at `now`, for the outbox: the message's body (counts and the first `shown` lines)
    and, when more companies need attention than that, the full list in parts of `per_reply` for its thread.
    A snapshot: a digest says how things stood when it was due, whenever Slack takes it."""
    lines = [_line_body(line) for line in facts.lines]
    parts = [lines[start : start + per_reply] for start in range(0, len(lines), per_reply)] if len(lines) > shown else []
    main: dict[str, object] = {
        "event": "digest",
        "date": day.isoformat(),
        "at": now.isoformat(),
        "time": schedule.at.strftime("%H:%M"),
        "tz": schedule.tz,
        "every_day": schedule.every_day,
        "counts": {
            "total": facts.total,
            "integrated": facts.integrated,
            "error": facts.error,
            "not_integrated": facts.not_integrated,
            "sync_offline": facts.sync_offline,
        },
        "attention": len(lines),
        "lines": lines[:shown],
        "parts": len(parts),
    }
    return main, [
        {"at": now.isoformat(), "part": number, "parts": len(parts), "lines": chunk}
        for number, chunk in enumerate(parts, start=1)
    ]
