"""The test practice: every state the product knows, and the people who look at it."""

from __future__ import annotations

import copy
from typing import Any

HOLDER = ("U_HOLDER", "jane@smithco.example", "Jane Smith")
PERMITTED = ("U_TOM", "tom@smithco.example", "Tom Brown")  # Company settings on c_1 and c_7
UNPERMITTED = ("U_PRIYA", "priya@smithco.example", "Priya Patel")  # an account user with no permission
STRANGER = ("U_STRANGER", "guest@elsewhere.example", "Guest User")  # in Slack, not in AutoEntry

ALERTS = "C_ALERTS"  # the ALERT_CHANNEL of the `alerting` fixture (tests/conftest.py)

ACCOUNT: dict[str, Any] = {
    "id": "acc_1",
    "name": "Smith & Co Accountants",
    "account_holder": {"name": "Jane Smith", "email": "jane@smithco.example"},
    "users": [
        {"name": "Tom Brown", "email": "tom@smithco.example", "company_settings": ["c_1", "c_7"]},
        {"name": "Priya Patel", "email": "priya@smithco.example", "company_settings": []},
        {"name": "Jane Smith", "email": "jane@smithco.example", "company_settings": "all"},
    ],
}


def company(company_id: str, name: str, software: str = "Xero", **fields: Any) -> dict[str, Any]:
    record = {
        "id": company_id,
        "name": name,
        "software": software,
        "integration_status": "integrated",
        "error": None,
        "sync_app": None,
        "publication_errors": 0,
        "updated_at": "2026-11-25T10:00:00Z",
    }
    record.update(fields)
    return record


COMPANIES: list[dict[str, Any]] = [
    company(
        "c_1",
        "Acme Ltd",
        "Sage 50",
        integration_status="error",
        error={"kind": "synchronisation", "message": "Token Required"},
        sync_app={"status": "offline", "location": "RECEPTION-PC", "last_seen_at": "2026-11-25T09:58:00Z"},
        publication_errors=2,
    ),
    company("c_2", "Bright & Sons"),
    company(
        "c_3",
        "Carter Plumbing Ltd",
        integration_status="error",
        error={"kind": "publication", "message": "Invoice/Bill Already Exists in Xero"},
        publication_errors=3,
    ),
    company("c_4", "Dunmore Dental Practice", "QuickBooks Online", integration_status="not_integrated"),
    company(
        "c_5",
        "Evergreen Gardens Limited",
        "Sage 50",
        sync_app={"status": "running", "location": "OFFICE-PC-2", "last_seen_at": "2026-11-25T09:59:00Z"},
    ),
    company(
        "c_6",
        "Fenwick & Hale LLP",
        "QuickBooks Desktop",
        sync_app={"status": "offline", "location": "JOHN-LAPTOP", "last_seen_at": "2026-11-24T17:00:00Z"},
    ),
    company("c_7", "Greenway Cafe", "QuickBooks Online", publication_errors=1),
    company("c_8", "Acme Holdings Ltd"),
    company(
        "c_9",
        "<!channel> Evil & Co",
        integration_status="error",
        error={"kind": "publication", "message": "<@U_HOLDER> <!here> click <http://evil.example|here>"},
    ),
    company("c_10", "List Brothers Ltd"),
]


def practice() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return copy.deepcopy(ACCOUNT), copy.deepcopy(COMPANIES)
