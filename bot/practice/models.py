"""The practice as the status feed describes it, and the one place its records are validated."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Mapping


class FeedRecordError(ValueError):
    """A record from the status feed that cannot be trusted; the message says which field."""


class IntegrationStatus(StrEnum):
    NOT_INTEGRATED = "not_integrated"
    INTEGRATED = "integrated"
    ERROR = "error"

    @property
    def label(self) -> str:
        """The words on AutoEntry's Home page."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    IntegrationStatus.NOT_INTEGRATED: "Not integrated",
    IntegrationStatus.INTEGRATED: "Integrated",
    IntegrationStatus.ERROR: "Error",
}


class ErrorKind(StrEnum):
    PUBLICATION = "publication"
    SYNCHRONISATION = "synchronisation"


class SyncAppStatus(StrEnum):
    RUNNING = "running"
    OFFLINE = "offline"


MAX_NAME_LENGTH = 200
MAX_MESSAGE_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class CompanyError:
    kind: ErrorKind
    message: str


@dataclass(frozen=True, slots=True)
class SyncApp:
    status: SyncAppStatus
    location: str | None
    last_seen_at: datetime | None

    @property
    def offline(self) -> bool:
        return self.status is SyncAppStatus.OFFLINE


@dataclass(frozen=True, slots=True)
class CompanyStatus:
    id: str
    name: str
    software: str
    integration_status: IntegrationStatus
    error: CompanyError | None
    sync_app: SyncApp | None
    publication_errors: int
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class AccountUser:
    name: str
    email: str
    all_companies: bool
    company_ids: frozenset[str] = field(default_factory=frozenset)

    def has_company_settings(self, company_id: str) -> bool:
        return self.all_companies or company_id in self.company_ids


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    holder: Person
    users: tuple[AccountUser, ...]

    def user_by_email(self, email: str | None) -> AccountUser | None:
        if not email:
            return None
        wanted = email.strip().casefold()
        for user in self.users:
            if user.email == wanted:
                return user
        return None

    def is_holder(self, email: str | None) -> bool:
        return bool(email) and email.strip().casefold() == self.holder.email


# --- parsing -----------------------------------------------------------------------------


def _text(record: Mapping[str, Any], key: str, *, limit: int = MAX_NAME_LENGTH, required: bool = True) -> str | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise FeedRecordError(f"{key!r} must be a non-empty string")
    value = " ".join(value.split())
    if len(value) > limit:
        raise FeedRecordError(f"{key!r} is longer than {limit} characters")
    return value


def _enum(record: Mapping[str, Any], key: str, enum: type[StrEnum]) -> Any:
    value = record.get(key)
    try:
        return enum(value)
    except ValueError:
        allowed = " | ".join(member.value for member in enum)
        raise FeedRecordError(f"{key!r} is {value!r}, expected {allowed}") from None


def parse_timestamp(value: Any, key: str = "timestamp") -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FeedRecordError(f"{key!r} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FeedRecordError(f"{key!r} is not an ISO 8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_company(record: Any) -> CompanyStatus:
    """Validate one company record from the feed; anything doubtful raises FeedRecordError."""
    if not isinstance(record, Mapping):
        raise FeedRecordError("company record is not an object")
    company_id = _text(record, "id", limit=100)
    status = _enum(record, "integration_status", IntegrationStatus)

    error: CompanyError | None = None
    raw_error = record.get("error")
    if raw_error is not None:
        if not isinstance(raw_error, Mapping):
            raise FeedRecordError("'error' must be an object or null")
        error = CompanyError(
            kind=_enum(raw_error, "kind", ErrorKind),
            message=_text(raw_error, "message", limit=MAX_MESSAGE_LENGTH) or "",
        )
    if status is IntegrationStatus.ERROR and error is None:
        raise FeedRecordError("'integration_status' is error but 'error' is null")

    sync_app: SyncApp | None = None
    raw_sync = record.get("sync_app")
    if raw_sync is not None:
        if not isinstance(raw_sync, Mapping):
            raise FeedRecordError("'sync_app' must be an object or null")
        sync_app = SyncApp(
            status=_enum(raw_sync, "status", SyncAppStatus),
            location=_text(raw_sync, "location", required=False),
            last_seen_at=parse_timestamp(raw_sync.get("last_seen_at"), "last_seen_at"),
        )

    publication_errors = record.get("publication_errors", 0)
    if publication_errors is None:
        publication_errors = 0
    if isinstance(publication_errors, bool) or not isinstance(publication_errors, (int, float)):
        raise FeedRecordError("'publication_errors' must be a whole number")
    if isinstance(publication_errors, float) and (not math.isfinite(publication_errors) or not publication_errors.is_integer()):
        raise FeedRecordError("'publication_errors' must be a whole number")
    if publication_errors < 0:
        raise FeedRecordError("'publication_errors' must not be negative")

    return CompanyStatus(
        id=company_id or "",
        name=_text(record, "name") or "",
        software=_text(record, "software", limit=100) or "",
        integration_status=status,
        # An error object on a company that is not in error is stale detail, not a fault.
        error=error if status is IntegrationStatus.ERROR else None,
        sync_app=sync_app,
        publication_errors=int(publication_errors),
        updated_at=parse_timestamp(record.get("updated_at"), "updated_at"),
    )


def _person(raw: Any, what: str) -> Person:
    if not isinstance(raw, Mapping):
        raise FeedRecordError(f"{what} is not an object")
    email = _text(raw, "email", limit=320) or ""
    if "@" not in email:
        raise FeedRecordError(f"{what} email {email[:60]!r} is not an email address")
    return Person(name=_text(raw, "name") or "", email=email.casefold())


def parse_account(document: Any) -> tuple[Account, list[str]]:
    """Validate the account; a bad user is dropped (and reported), a bad holder rejects the account."""
    if not isinstance(document, Mapping):
        raise FeedRecordError("account is not an object")
    holder = _person(document.get("account_holder"), "account_holder")
    raw_users = document.get("users", [])
    if not isinstance(raw_users, list):
        raise FeedRecordError("'users' must be a list")
    users: list[AccountUser] = []
    problems: list[str] = []
    for index, raw in enumerate(raw_users):
        try:
            person = _person(raw, f"users[{index}]")
            grants = raw.get("company_settings", [])
            if grants == "all":
                users.append(AccountUser(person.name, person.email, True))
            elif isinstance(grants, list) and all(isinstance(g, str) for g in grants):
                users.append(AccountUser(person.name, person.email, False, frozenset(grants)))
            else:
                raise FeedRecordError(f"users[{index}] 'company_settings' must be \"all\" or a list of company ids")
        except FeedRecordError as exc:
            problems.append(str(exc))
    if not any(user.email == holder.email for user in users):
        # The account holder has the permission everywhere, listed or not.
        users.append(AccountUser(holder.name, holder.email, True))
    account = Account(
        id=_text(document, "id", limit=100) or "",
        name=_text(document, "name") or "",
        holder=holder,
        users=tuple(users),
    )
    return account, problems


@dataclass(frozen=True, slots=True)
class StoredCompany:
    """A company's last known status and the times the bot keeps about it."""

    status: CompanyStatus
    status_since: datetime | None
    sync_since: datetime | None

    @property
    def id(self) -> str:
        return self.status.id

    @property
    def name(self) -> str:
        return self.status.name

    @property
    def needs_attention(self) -> bool:
        status = self.status
        return status.integration_status is not IntegrationStatus.INTEGRATED or bool(
            status.sync_app and status.sync_app.offline
        )
