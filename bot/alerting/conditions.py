"""What a condition is: one spec per kind of problem, and the one place a company's conditions are read off.

A condition is a problem a company can have (in error, disconnected, Sync App offline). Each has one
`ConditionSpec`: how it is observed on a company's status, whether it waits out a grace period, which
changes of its detail are news, and which Help Centre topic explains it. What people read about it lives
in `bot.alerting.messages` (`CONDITION_TEXT`), keyed by the same enum; tests check both tables are complete.
Source of the rules: SPEC.md "Alerts" (a Sync App problem counts even when the Home page says Integrated).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Callable

from bot.practice.models import CompanyStatus, ErrorKind, IntegrationStatus


class Condition(StrEnum):
    ERROR = "error"
    DISCONNECTED = "disconnected"
    SYNC_OFFLINE = "sync_offline"


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    # The condition's detail when the company shows it (the error message, the Sync App's location), else None.
    observe: Callable[[CompanyStatus], str | None]
    # Alerted only once it has lasted OFFLINE_GRACE_SECONDS (PCs reboot).
    uses_grace: bool
    # A new detail is a new problem: alerted even if the old one never was, and told when it changes.
    new_detail_is_news: bool
    # Seen on a company the bot has just met: the state it was set up in, not news.
    quiet_on_new_company: bool
    # The Help Centre topic for it, given the error's kind (bot.helpcentre.matching topics).
    help_topic: Callable[[str | None], str]


def _error(status: CompanyStatus) -> str | None:
    if status.integration_status is IntegrationStatus.ERROR and status.error is not None:
        return status.error.message
    return None


def _disconnected(status: CompanyStatus) -> str | None:
    return "" if status.integration_status is IntegrationStatus.NOT_INTEGRATED else None


def _sync_offline(status: CompanyStatus) -> str | None:
    if status.sync_app is not None and status.sync_app.offline:
        return status.sync_app.location or ""
    return None


SPECS: dict[Condition, ConditionSpec] = {
    Condition.ERROR: ConditionSpec(
        observe=_error,
        uses_grace=False,
        new_detail_is_news=True,
        quiet_on_new_company=False,
        help_topic=lambda kind: "publication" if kind == ErrorKind.PUBLICATION.value else "status",
    ),
    Condition.DISCONNECTED: ConditionSpec(
        observe=_disconnected,
        uses_grace=False,
        new_detail_is_news=False,
        # A new company that has never been connected is not "disconnected".
        quiet_on_new_company=True,
        help_topic=lambda kind: "not_integrated",
    ),
    Condition.SYNC_OFFLINE: ConditionSpec(
        observe=_sync_offline,
        uses_grace=True,
        new_detail_is_news=False,
        quiet_on_new_company=False,
        help_topic=lambda kind: "sync_app",
    ),
}


def observe(status: CompanyStatus) -> dict[Condition, str]:
    """The conditions a company shows now, each with the detail that makes it a new problem when it changes."""
    present: dict[Condition, str] = {}
    for condition, spec in SPECS.items():
        detail = spec.observe(status)
        if detail is not None:
            present[condition] = detail
    return present
