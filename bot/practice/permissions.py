"""Who may see a company's details: the Company settings permission, as AutoEntry grants it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol

from bot.practice.models import Account, AccountUser


@dataclass(frozen=True, slots=True)
class Viewer:
    slack_user_id: str | None
    email: str | None
    account_user: AccountUser | None
    is_holder: bool

    def has_company_settings(self, company_id: str) -> bool:
        if self.is_holder:
            return True
        return self.account_user is not None and self.account_user.has_company_settings(company_id)

    @property
    def is_account_user(self) -> bool:
        return self.is_holder or self.account_user is not None


def viewer_for(account: Account | None, slack_user_id: str | None, email: str | None) -> Viewer:
    if account is None:
        return Viewer(slack_user_id, email, None, False)
    return Viewer(slack_user_id, email, account.user_by_email(email), account.is_holder(email))


def holder_viewer(account: Account | None) -> Viewer:
    """How the account holder sees things: the terminal's `status` answers as them."""
    email = account.holder.email if account else None
    return Viewer(None, email, account.user_by_email(email) if account else None, account is not None)


class SubscriptionLike(Protocol):
    @property
    def company_id(self) -> str | None: ...  # None: every company
    @property
    def created_by(self) -> str: ...


def may_not_silence(viewer: Viewer, company_ids: Iterable[str], subscriptions: Iterable[SubscriptionLike]) -> list[str]:
    """The companies (of `company_ids`) whose alerts this viewer may not silence in a channel.

    Silencing (unsubscribing, snoozing) takes what the product contract asks for unsubscribing: the Company
    settings permission on the company, or being the person who subscribed the channel to it (or to every
    company). `subscriptions` are the channel's."""
    own = [s for s in subscriptions if viewer.slack_user_id and s.created_by == viewer.slack_user_id]
    everything = any(s.company_id is None for s in own)
    mine = {s.company_id for s in own}
    return [c for c in company_ids if not (viewer.has_company_settings(c) or everything or c in mine)]
