"""The daily digest at 1,000 companies: render time, blocks and text size.

Run from the repository root:  python bench/bench_digest.py

Two practices of 1,000 companies (bench/_common.py's generated practice: every state, about a third needing
attention; and the worst case, all 1,000 in error with long names). For each, 200 times:

1. render: bot.alerting.digest.digest_facts + digest_bodies + messages.digest_message, and every thread part
   (digest_list_reply): everything the digest costs beyond reading storage;
2. queue: DigestQueue.queue_due on a real SQLite store holding the practice and `subscribe all` (read the
   companies and acknowledgements, decide, write the outbox rows), against a fresh outbox each time.

Targets (SPEC.md "Daily digest"; Slack's Block Kit limits): render under 50 ms (p99), the digest under 50
blocks and within MESSAGE_TEXT_BUDGET, every thread part too. Exits 1 when a target is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, datetime, timedelta, timezone  # noqa: E402
from datetime import time as clock_time  # noqa: E402
from typing import Any  # noqa: E402

from bench._common import company_records, summary  # noqa: E402
from bot.alerting.digest import DigestSchedule, digest_bodies, digest_facts  # noqa: E402
from bot.alerting.digest_messages import DIGEST_LINES_SHOWN, digest_list_reply, digest_message  # noqa: E402
from bot.alerting.digest_queue import DigestQueue  # noqa: E402
from bot.alerting.messages import COMPANIES_PER_REPLY  # noqa: E402
from bot.practice.models import StoredCompany, parse_company  # noqa: E402
from bot.slack.blockkit import MESSAGE_TEXT_BUDGET, text_size  # noqa: E402
from storage.sqlite.db import Store, company_to_row  # noqa: E402

COMPANIES = 1_000
RUNS = 200
TARGET_MS = 50.0
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
SCHEDULE = DigestSchedule("C_BENCH", clock_time(9, 0), "Europe/London", False, "U1", NOW - timedelta(days=1))


def practices() -> dict[str, list[dict[str, Any]]]:
    mixed = company_records(COMPANIES)
    broken = company_records(COMPANIES, seed=5)
    for n, record in enumerate(broken):
        record.update(
            name=f"{record['name']} & Partners Holdings International Group Limited {n:04d}"[:120],
            integration_status="error",
            error={"kind": "synchronisation", "message": "Token Required " + "x" * 300},
        )
    return {"mixed practice": mixed, "all 1,000 in error": broken}


def stored(records: list[dict[str, Any]]) -> list[StoredCompany]:
    return [
        StoredCompany(parse_company(r), NOW - timedelta(minutes=7 * n), NOW - timedelta(minutes=5 * n))
        for n, r in enumerate(records)
    ]


def render(companies: list[StoredCompany]) -> tuple[Any, list[Any]]:
    facts = digest_facts(companies, {})
    main, parts = digest_bodies(facts, SCHEDULE, date(2026, 11, 30), NOW, shown=DIGEST_LINES_SHOWN, per_reply=COMPANIES_PER_REPLY)
    return digest_message(main), [digest_list_reply(body) for body in parts]


def queue_store(records: list[dict[str, Any]], path: str) -> Store:
    store = Store.open(path)
    rows = []
    for n, record in enumerate(records):
        row = company_to_row(parse_company(record))
        row.update(status_since=(NOW - timedelta(minutes=7 * n)).isoformat(), first_seen_at=NOW.isoformat())
        rows.append(row)
    store.save_companies(rows, [])
    store.subscribe("C_BENCH", None, "U1", NOW)
    store.set_digest(SCHEDULE)
    return store


def main() -> int:
    ok = True
    print(f"{'practice':<22} {'step':<7} {'median ms':>10} {'p99 ms':>8} {'max ms':>8} {'blocks':>7} {'text':>7} {'parts':>6}")
    for label, records in practices().items():
        companies = stored(records)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            message, parts = render(companies)
            times.append((time.perf_counter() - started) * 1000)
        stats = summary(times)
        size = text_size(message.text, message.blocks)
        parts_ok = all(len(p.blocks) < 50 and text_size(p.text, p.blocks) <= MESSAGE_TEXT_BUDGET for p in parts)
        fits = len(message.blocks) < 50 and size <= MESSAGE_TEXT_BUDGET and parts_ok
        ok &= fits and stats["p99"] < TARGET_MS
        print(
            f"{label:<22} {'render':<7} {stats['median']:>10.2f} {stats['p99']:>8.2f} {stats['max']:>8.2f}"
            f" {len(message.blocks):>7} {size:>7} {len(parts):>6}{'' if fits else '  OVER A LIMIT'}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            store = queue_store(records, str(Path(tmp) / "bench.db"))
            queue = DigestQueue(store, lambda: NOW, alert_channel=None)
            times = []
            for _ in range(RUNS // 4):
                store.db.execute("delete from outbox")
                started = time.perf_counter()
                assert queue.queue_due() == 1
                times.append((time.perf_counter() - started) * 1000)
            store.close()
        stats = summary(times)
        print(f"{label:<22} {'queue':<7} {stats['median']:>10.2f} {stats['p99']:>8.2f} {stats['max']:>8.2f}")
    print(
        f"\ntarget: render p99 < {TARGET_MS:.0f} ms, < 50 blocks, <= {MESSAGE_TEXT_BUDGET} characters of text: {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
