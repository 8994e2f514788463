"""Who may see a company's details: the Company settings permission, as AutoEntry grants it."""

from __future__ import annotations

from dataclasses import dataclass

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
