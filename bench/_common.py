"""Shared helpers for the benchmarks: a generated practice, signing, percentiles, a child-process FakeFeed.

Not a benchmark itself (run_all skips files starting with "_").
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.practice import company  # noqa: E402

SIGNING_SECRET = "bench-signing-secret"

# Users that send slash commands: the account holder, a permitted user, an unpermitted one, a stranger.
USERS = [
    ("U_HOLDER", "jane@smithco.example", "Jane Smith"),
    ("U_TOM", "tom@smithco.example", "Tom Brown"),
    ("U_PRIYA", "priya@smithco.example", "Priya Patel"),
    ("U_STRANGER", "guest@elsewhere.example", "Guest User"),
]

_SURNAMES = """Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White
Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Davis Rodriguez Cox Alexander
Morgan Moore Martin Harris Hughes Edwards Turner Hill Cooper Ward Morris King Watson Baker Harrison Young Allen Anderson
Scott Carter Murphy Campbell Kelly Lee Shaw Bennett Cook Bailey Parker Miller Price Ellis Richardson Russell Griffiths
Chapman Fletcher Dawson Knight Reid Hunt Palmer Gray Mills Holmes Barnes Lloyd Butler Owen Harvey Fox Stevens Andrews
Kennedy Ross Graham Pearson Webb Hudson Fraser Matthews Marshall Gibson Burton Spencer Ryan Bell Hamilton Wallace
Murray Dixon Grant Ali Ahmed Singh Kaur Nowak Kowalski Müller Schmidt Fernández Gómez Dubois O'Brien O'Neill McDonald
MacLeod Fenwick Hale Dunmore Evergreen Greenway Acme Bright Carter Lancaster Ashford Brampton Cheltenham Dorchester
Eastwood Fairfax Glenmore Harrow Ilford Kingsley Langford Marlow Newbury Oakley Penrose Queensbury Redhill Sandford
Thornbury Upton Ventnor Whitby Yarmouth Zetland Abbott Beaumont Castell Delaney Everett Finch Garrick Holloway""".split()
_TRADES = """Plumbing Dental Bakery Builders Electrical Motors Consulting Accountancy Architects Cafe Catering Cleaning
Construction Design Engineering Estates Farms Florists Garage Haulage Heating Hotels Interiors Joinery Landscaping
Legal Logistics Media Medical Opticians Pharmacy Photography Printing Properties Recruitment Roofing Salon Security
Solicitors Surveyors Tailoring Technology Textiles Timber Travel Vets Windows Wholesale Investments Holdings Trading
Ventures Partners Services Studio Group Foods Brewery Kitchens Fitness Nurseries Care Decorators Glazing Scaffolding
Tiling Flooring Removals Storage Couriers Butchers Greengrocers Jewellers Opticals Pets Toys Books Music Games Events
Marketing Software Analytics Solar Energy Recycling Waste Water Gas Pools Gardens Dairy Poultry Fisheries Vineyard""".split()
_SUFFIXES = ["Ltd", "Limited", "LLP", "& Sons", "& Co", "Ltd", "Ltd", "", "Holdings Ltd", "(UK) Ltd", "PLC", "& Daughters"]
_SOFTWARE = ["Xero", "QuickBooks Online", "QuickBooks Desktop", "Sage 50", "Sage Business Cloud", "FreeAgent", "KashFlow"]


def error_messages() -> list[str]:
    cases = json.loads((ROOT / "tests" / "helpcentre_cases.json").read_text(encoding="utf-8"))["cases"]
    messages = sorted({c["message"] for c in cases if isinstance(c.get("message"), str) and c["message"].strip()})
    return messages or ["Token Required", "Invoice/Bill Already Exists in Xero"]


def company_names(count: int, seed: int = 7) -> list[str]:
    """`count` distinct, realistic company names (a few with accents, apostrophes and `&`)."""
    rng = random.Random(seed)
    names: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        shape = rng.random()
        a, b = rng.choice(_SURNAMES), rng.choice(_SURNAMES)
        trade = rng.choice(_TRADES)
        suffix = rng.choice(_SUFFIXES)
        if shape < 0.45:
            name = f"{a} {trade} {suffix}"
        elif shape < 0.7:
            name = f"{a} & {b} {suffix}"
        elif shape < 0.9:
            name = f"{a} {b} {trade} {suffix}"
        else:
            name = f"{a}-{b} {trade} {rng.randint(1, 99)} {suffix}"
        name = " ".join(name.split())
        if name in names:
            continue
        names.add(name)
        out.append(name)
    return out


def account_document() -> dict[str, Any]:
    holder, tom, priya, _ = USERS
    return {
        "id": "acc_bench",
        "name": "Smith & Co Accountants",
        "account_holder": {"name": holder[2], "email": holder[1]},
        "users": [
            {"name": tom[2], "email": tom[1], "company_settings": [f"c_{i}" for i in range(0, 2000, 3)]},
            {"name": priya[2], "email": priya[1], "company_settings": []},
            {"name": holder[2], "email": holder[1], "company_settings": "all"},
        ],
    }


def company_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Companies in every state: integrated, not integrated, error (publication / synchronisation), with and
    without a Sync App (running / offline)."""
    rng = random.Random(seed + 1)
    messages = error_messages()
    records = []
    for i, name in enumerate(company_names(count, seed)):
        roll = rng.random()
        software = rng.choice(_SOFTWARE)
        record: dict[str, Any] = company(f"c_{i}", name, software)
        if roll < 0.12:
            record["integration_status"] = "error"
            record["error"] = {"kind": rng.choice(["publication", "synchronisation"]), "message": rng.choice(messages)}
            record["publication_errors"] = rng.randint(1, 9)
        elif roll < 0.25:
            record["integration_status"] = "not_integrated"
        if software in ("QuickBooks Desktop", "Sage 50"):
            record["sync_app"] = {
                "status": "offline" if rng.random() < 0.15 else "running",
                "location": f"OFFICE-PC-{rng.randint(1, 40)}",
                "last_seen_at": "2026-11-25T09:58:00Z",
            }
        records.append(record)
    return records


def change_some(records: list[dict[str, Any]], share: float, seed: int = 11) -> int:
    """Change about `share` of the companies (status flips, new errors, Sync App going offline)."""
    rng = random.Random(seed)
    changed = 0
    for record in records:
        if rng.random() >= share:
            continue
        changed += 1
        if record["integration_status"] == "error":
            record.update(integration_status="integrated", error=None, publication_errors=0)
        elif record["sync_app"] and record["sync_app"]["status"] == "running":
            record["sync_app"] = dict(record["sync_app"], status="offline")
        else:
            record.update(
                integration_status="error",
                error={"kind": "synchronisation", "message": "Token Required"},
                publication_errors=1,
            )
    return changed


def misspell(name: str, rng: random.Random) -> str:
    """One typo (swap, drop, double or replace a letter) in the first word long enough to have one."""
    words = name.split()
    for w, word in enumerate(words):
        if len(word) >= 5 and word.isalpha():
            i = rng.randrange(1, len(word) - 1)
            kind = rng.randrange(4)
            if kind == 0:
                word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            elif kind == 1:
                word = word[:i] + word[i + 1 :]
            elif kind == 2:
                word = word[:i] + word[i] + word[i:]
            else:
                word = word[:i] + rng.choice("aeioustrnl") + word[i + 1 :]
            words[w] = word
            break
    return " ".join(words)


def lookup_queries(names: Sequence[str], count: int, seed: int = 3) -> list[tuple[str, str]]:
    """(kind, query): exact names (odd case), prefixes (first word or two) and misspellings."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        name = rng.choice(names)
        roll = rng.random()
        if roll < 0.45:
            out.append(("exact", name.lower() if rng.random() < 0.5 else name))
        elif roll < 0.7:
            words = name.split()
            out.append(("prefix", " ".join(words[: rng.choice([1, 2])]).lower()))
        else:
            out.append(("typo", misspell(name, rng)))
    return out


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    s = sorted(values_ms)
    return {
        "n": len(s),
        "median": statistics.median(s),
        "p90": percentile(s, 90),
        "p99": percentile(s, 99),
        "max": s[-1],
    }


def sign(body: str, secret: str = SIGNING_SECRET) -> dict[str, str]:
    from slack_sdk.signature import SignatureVerifier

    timestamp = str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body),
    }


def recv(conn: Any, proc: Any, timeout: float = 170.0) -> Any:
    """conn.recv(), but fail (instead of hanging) when the child process died or took too long."""
    deadline = time.monotonic() + timeout
    while not conn.poll(0.2):
        if not proc.is_alive():
            raise RuntimeError(f"the benchmark's child process {proc.pid} exited with code {proc.exitcode}")
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError(f"the benchmark's child process {proc.pid} gave no answer in {timeout:.0f} s")
    return conn.recv()


# --- a FakeFeed in its own process ------------------------------------------------------------


def _feed_process(count: int, page_size: int, conn: Any, change_share: float) -> None:
    from tests.fakes.feed_server import FakeFeed

    async def main() -> None:
        feed = FakeFeed(account_document(), company_records(count), page_size=page_size)
        feed.token = "feed-token"
        await feed.start()
        conn.send(feed.base_url)
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "change":
                conn.send(change_some(feed.companies, change_share))
            elif command == "stop":
                break
        await feed.stop()
        conn.send("stopped")

    asyncio.run(main())


class FeedProcess:
    """FakeFeed (tests/fakes/feed_server.py) served from a child process, so its CPU is not the poller's."""

    def __init__(self, count: int, page_size: int = 500, change_share: float = 0.01) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_feed_process, args=(count, page_size, child, change_share), daemon=True)
        self.base_url = ""

    def __enter__(self) -> "FeedProcess":
        self._proc.start()
        self.base_url = recv(self._conn, self._proc)
        return self

    def change(self) -> int:
        self._conn.send("change")
        return recv(self._conn, self._proc)

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send("stop")
            recv(self._conn, self._proc, 10)
        except (OSError, EOFError, RuntimeError):
            pass
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()


async def serve_workspace_feeds(account: Any, listing: Any, backlog: int) -> tuple[str, Any]:
    """Serves `/w/<n>/account` and `/w/<n>/companies` (aiohttp handlers) on a free loopback port: its base URL,
    and the aiohttp AppRunner to clean up when done."""
    from aiohttp import web

    app = web.Application()
    app.router.add_get("/w/{n}/account", account)
    app.router.add_get("/w/{n}/companies", listing)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=backlog)
    await site.start()
    return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}", runner  # type: ignore[union-attr]


def verdict(missed: list[str]) -> int:
    """The benchmark's exit code: 1, after listing each missed target, when any was missed; else 0."""
    if missed:
        print("MISSED:")
        for line in missed:
            print("  - " + line)
        return 1
    print("all targets met")
    return 0
