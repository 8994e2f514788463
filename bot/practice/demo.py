"""A built-in sample practice, so the bot runs with nothing else set up and shows alerts as it goes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

DEMO_ACCOUNT: dict[str, Any] = {
    "id": "acc_demo",
    "name": "Smith & Co Accountants",
    "account_holder": {"name": "Jane Smith", "email": "jane@smithco.example"},
    "users": [
        {"name": "Jane Smith", "email": "jane@smithco.example", "company_settings": "all"},
        {"name": "Tom Brown", "email": "tom@smithco.example", "company_settings": ["c_1", "c_3", "c_7"]},
        {"name": "Priya Patel", "email": "priya@smithco.example", "company_settings": []},
        {"name": "Sam Okafor", "email": "sam@smithco.example", "company_settings": ["c_2", "c_5", "c_9", "c_11"]},
    ],
}

# The demo's statuses move through phases of this length, so a running demo shows alerts and recoveries.
PHASE = timedelta(minutes=5)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _company(
    company_id: str,
    name: str,
    software: str,
    status: str = "integrated",
    error: tuple[str, str] | None = None,
    sync: tuple[str, str] | None = None,
    triangles: int = 0,
    last_seen: str | None = None,
) -> dict[str, Any]:
    return {
        "id": company_id,
        "name": name,
        "software": software,
        "integration_status": status,
        "error": {"kind": error[0], "message": error[1]} if error else None,
        "sync_app": {"status": sync[0], "location": sync[1], "last_seen_at": last_seen} if sync else None,
        "publication_errors": triangles,
        "updated_at": None,
    }


def demo_companies(now: datetime) -> list[dict[str, Any]]:
    """The practice as it stands at `now`; the phase number decides which problems are current."""
    phase = int(now.timestamp() // PHASE.total_seconds()) % 4
    phase_start = datetime.fromtimestamp(now.timestamp() - now.timestamp() % PHASE.total_seconds(), tz=timezone.utc)
    just_now = _stamp(now - timedelta(seconds=30))
    this_morning = _stamp(now.replace(hour=8, minute=55, second=0, microsecond=0) - timedelta(days=0 if now.hour >= 9 else 1))
    companies = [
        _company(
            "c_1",
            "Acme Ltd",
            "Sage 50",
            "error",
            ("synchronisation", "Token Required"),
            ("offline", "RECEPTION-PC"),
            triangles=2,
            last_seen=this_morning,
        ),
        _company("c_2", "Bright & Sons", "Xero"),
        _company(
            "c_3",
            "Carter Plumbing Ltd",
            "Xero",
            "error",
            ("publication", "Invoice/Bill Already Exists in Xero"),
            triangles=3,
        ),
        _company("c_4", "Dunmore Dental Practice", "QuickBooks Online", "not_integrated"),
        _company("c_5", "Evergreen Gardens Limited", "Sage 50", sync=("running", "OFFICE-PC-2"), last_seen=just_now),
        _company("c_6", "Fenwick & Hale LLP", "QuickBooks Desktop", sync=("offline", "JOHN-LAPTOP"), last_seen=this_morning),
        _company(
            "c_7",
            "Greenway Cafe",
            "QuickBooks Online",
            "error",
            (
                "publication",
                "The account period has closed and the account books cannot be updated through the QBO "
                "Services API. Please use the QBO website to make these changes.",
            ),
            triangles=1,
        ),
        _company("c_8", "Harbour View Hotel Ltd", "Sage Accounting"),
        _company("c_9", "Ironbridge Motors", "Xero", triangles=0),
        _company("c_10", "Juniper Yoga Studio", "FreeAgent"),
        _company("c_11", "Kestrel Logistics Ltd", "Sage 50", sync=("running", "ACCOUNTS-PC"), last_seen=just_now),
        _company("c_12", "Acme Holdings Ltd", "Xero"),
        _company("c_13", "Larch & Lime Florists", "Sage Accounting", "not_integrated"),
    ]
    _apply_phase({company["id"]: company for company in companies}, phase, phase_start)
    return companies


def _apply_phase(by_id: dict[str, dict[str, Any]], phase: int, phase_start: datetime) -> None:
    """The problems that come and go: an invalid account code (phases 1-2, its wording changing in 2), a Sync
    App offline (2-3), an integration lost (3)."""
    if phase in (1, 2):
        by_id["c_9"].update(
            integration_status="error",
            error={"kind": "publication", "message": "Account Code 4010 is not a valid code for this document"},
            publication_errors=4,
        )
    if phase == 2:
        by_id["c_9"]["error"] = {
            "kind": "publication",
            "message": "Invalid Account Code - Department entered for Invoice and/orLine Item. Account Code 4010",
        }
    if phase in (2, 3):
        went_offline = phase_start - (PHASE if phase == 3 else timedelta(0))
        by_id["c_11"]["sync_app"] = {"status": "offline", "location": "ACCOUNTS-PC", "last_seen_at": _stamp(went_offline)}
    if phase == 3:
        by_id["c_2"].update(integration_status="not_integrated")
