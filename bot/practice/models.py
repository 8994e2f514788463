"""The practice as the status feed describes it, and the one place its records are validated."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Mapping

from bot.practice.record_values import number, shown, unexpected_as


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


# --- limits on what the feed may hand us -------------------------------------------------------
# The one place they are defined. Text over its limit is shortened (start kept, "…" at the end) and the
# record still counts: a long message is no reason to miss a company's error. Identifiers are not shortened
# (two ids cut to the same start would merge two companies): an over-long id makes its record bad.
#
# Company, account and person names: 200 characters. Slack's header block holds 150 and a card's fields
# 2,000; no real practice or client name comes near 200.
MAX_NAME_LENGTH = 200
# Accounting software names ("QuickBooks Desktop", "Sage 50"): 100, room for any product and edition.
MAX_SOFTWARE_LENGTH = 100
# Sync App locations (a computer's name, "RECEPTION-PC"): 200; Windows names are at most 63.
MAX_LOCATION_LENGTH = 200
# Error messages: 2,000. Xero puts every validation error of a document in one message (2,400 characters
# seen); the card shows the message in one section block, which Slack caps at 3,000 with its label.
MAX_MESSAGE_LENGTH = 2000
# Emails: 320, the longest address RFC 3696 allows.
MAX_EMAIL_LENGTH = 320
# Company and account ids: 100, then the record is bad (see above).
MAX_ID_LENGTH = 100
# Triangles in a company's inbox: counts above this are stored as this. SQLite's INTEGER holds up to
# 2**63 - 1 and Python's json reads 1e300 or 10**30 happily; no inbox holds a billion documents.
MAX_PUBLICATION_ERRORS = 1_000_000_000

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, keeping its start (which says most) and ending in "…"."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def storable_text(text: str) -> str:
    """Text both databases can store: lone UTF-16 surrogates (valid in JSON as "\\ud800"; not UTF-8) and NUL
    ("\\u0000"; PostgreSQL's text refuses it) become U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


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
        return email is not None and bool(email) and email.strip().casefold() == self.holder.email


# --- parsing -----------------------------------------------------------------------------


def _text(
    record: Mapping[str, Any],
    key: str,
    *,
    limit: int = MAX_NAME_LENGTH,
    required: bool = True,
    notes: list[str] | None = None,
) -> str | None:
    """A text field with its white space collapsed, shortened to `limit` (noted in `notes`), never refused
    for its length; FeedRecordError when it is missing (and required), empty or not a string."""
    value = record.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise FeedRecordError(f"{key!r} must be a non-empty string")
    value = storable_text(" ".join(value.split()))
    if len(value) > limit:
        if notes is not None:
            notes.append(f"{key!r} of {len(value)} characters shortened to {limit}")
        value = shorten(value, limit)
    return value


def _error(raw: Any, notes: list[str] | None) -> CompanyError:
    """The error of a company in error. Missing or odd details are noted and read as far as they go: an
    unknown kind is read as a synchronisation error (the general "check the integration status" article
    fits it), a missing message as none given."""
    if not isinstance(raw, Mapping):
        _note(notes, "'integration_status' is error but 'error' is missing: no details")
        return CompanyError(ErrorKind.SYNCHRONISATION, "")
    kind_text = raw.get("kind")
    try:
        if not isinstance(kind_text, str):
            raise ValueError(kind_text)
        kind = ErrorKind(kind_text.strip().casefold())
    except ValueError:
        _note(notes, f"error 'kind' {shown(kind_text)} unknown: read as synchronisation")
        kind = ErrorKind.SYNCHRONISATION
    message = raw.get("message")
    if not isinstance(message, str) or not message.strip():
        _note(notes, "error 'message' missing or empty")
        return CompanyError(kind, "")
    return CompanyError(kind, _text(raw, "message", limit=MAX_MESSAGE_LENGTH, notes=notes) or "")


def _name(record: Mapping[str, Any], company_id: str, notes: list[str] | None) -> str:
    """The company's name; a record without one is still a company (it is shown by its id)."""
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        _note(notes, "'name' missing or empty: shown by its id")
        return company_id
    return _text(record, "name", notes=notes) or company_id


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None:
        notes.append(text)


def _identifier(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FeedRecordError(f"{key!r} must be a non-empty string")
    value = normal_id(value)
    if len(value) > MAX_ID_LENGTH:
        raise FeedRecordError(f"{key!r} is longer than {MAX_ID_LENGTH} characters")
    return value


def normal_id(value: str) -> str:
    """An id as stored: white space collapsed, storable."""
    return storable_text(" ".join(value.split()))


def _enum(record: Mapping[str, Any], key: str, enum: type[StrEnum]) -> Any:
    value = record.get(key)
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum(value.strip().casefold())
    except ValueError:
        allowed = " | ".join(member.value for member in enum)
        raise FeedRecordError(f"{key!r} is {shown(value)}, expected {allowed}") from None


def parse_timestamp(value: Any, key: str = "timestamp") -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FeedRecordError(f"{key!r} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved across a UTC offset
        raise FeedRecordError(f"{key!r} is not an ISO 8601 time: {storable_text(value[:40])!r}") from None


def _count(record: Mapping[str, Any], key: str, limit: int, notes: list[str] | None) -> int:
    """A whole, non-negative number; one above `limit` (1e300, 10**30: more than SQLite's INTEGER holds)
    is clamped to `limit` and noted. Negative, fractional, NaN, infinite, true/false or text: FeedRecordError."""
    value = record.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FeedRecordError(f"{key!r} must be a whole number")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise FeedRecordError(f"{key!r} must be a whole number")
    if value < 0:
        raise FeedRecordError(f"{key!r} must not be negative")
    if value > limit:
        if notes is not None:
            notes.append(f"{key!r} of {number(value)} stored as {limit:,}")
        return limit
    return int(value)


@unexpected_as(FeedRecordError)
def parse_company(record: Any, notes: list[str] | None = None) -> CompanyStatus:
    """Validate one company record from the feed; anything doubtful raises FeedRecordError.

    Over-long text is shortened and an out-of-range count clamped (see the limits above): each is
    appended to `notes`, so the caller can log it, and the record counts."""
    if not isinstance(record, Mapping):
        raise FeedRecordError("company record is not an object")
    company_id = _identifier(record, "id")
    status = _enum(record, "integration_status", IntegrationStatus)
    # The Home page status is what an alert hangs on: a company in error whose error details are missing or
    # odd still counts, with what can be read of them (noted), rather than being skipped and never alerted.
    error = _error(record.get("error"), notes) if status is IntegrationStatus.ERROR else None

    sync_app: SyncApp | None = None
    raw_sync = record.get("sync_app")
    if raw_sync is not None:
        if not isinstance(raw_sync, Mapping):
            raise FeedRecordError("'sync_app' must be an object or null")
        location = raw_sync.get("location")
        sync_app = SyncApp(
            status=_enum(raw_sync, "status", SyncAppStatus),
            # An empty location is an unknown one, not a bad record.
            location=_text(raw_sync, "location", limit=MAX_LOCATION_LENGTH, required=False, notes=notes)
            if not (isinstance(location, str) and not location.strip())
            else None,
            last_seen_at=parse_timestamp(raw_sync.get("last_seen_at"), "last_seen_at"),
        )

    publication_errors = _count(record, "publication_errors", MAX_PUBLICATION_ERRORS, notes)

    return CompanyStatus(
        id=company_id,
        name=_name(record, company_id, notes),
        software=_text(record, "software", limit=MAX_SOFTWARE_LENGTH, notes=notes) or "",
        integration_status=status,
        # An error object on a company that is not in error is stale detail, not a fault.
        error=error,
        sync_app=sync_app,
        publication_errors=publication_errors,
        updated_at=parse_timestamp(record.get("updated_at"), "updated_at"),
    )


def _person(raw: Any, what: str) -> Person:
    if not isinstance(raw, Mapping):
        raise FeedRecordError(f"{what} is not an object")
    try:
        email = _text(raw, "email", limit=MAX_EMAIL_LENGTH) or ""
        name = _text(raw, "name") or ""
    except FeedRecordError as exc:  # say whose field it is: "users[2] 'name' must be..."
        raise FeedRecordError(f"{what} {exc}") from None
    if "@" not in email or email.endswith(ELLIPSIS):
        raise FeedRecordError(f"{what} email {email[:60]!r} is not an email address")
    return Person(name=name, email=email.casefold())


@unexpected_as(FeedRecordError)
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
        id=_identifier(document, "id"),
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
    # Since when the feed's complete listings leave it out (it keeps its last known state for a day).
    missing_since: datetime | None = None

    @property
    def id(self) -> str:
        return self.status.id

    @property
    def name(self) -> str:
        return self.status.name

    @property
    def needs_attention(self) -> bool:
        status = self.status
        return status.integration_status is not IntegrationStatus.INTEGRATED or bool(status.sync_app and status.sync_app.offline)
