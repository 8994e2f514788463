"""Name lookup among 100,000 companies: NameIndex build time, then find() latency over a query mix.

Run from the repository root:  python bench/bench_lookup.py [--companies 100000] [--queries 5000]

Queries: exact names (half of them lower-cased), prefixes (first word or two) and one-typo misspellings.
Exits 1 when a target is missed (find() p99 < 5 ms).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402

from bench._common import company_names, lookup_queries, summary  # noqa: E402
from bot.practice.lookup import NameIndex  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=5000)
    args = parser.parse_args(argv)

    names = company_names(args.companies)
    companies = [(f"c_{i}", name) for i, name in enumerate(names)]
    t0 = time.perf_counter()
    index = NameIndex(companies)
    build_ms = (time.perf_counter() - t0) * 1000

    queries = lookup_queries(names, args.queries)
    for _, query in queries[:200]:  # warm-up
        index.find(query)
    by_kind: dict[str, list[float]] = defaultdict(list)
    outcomes: Counter[tuple[str, str]] = Counter()
    for kind, query in queries:
        t0 = time.perf_counter_ns()
        result = index.find(query)
        by_kind[kind].append((time.perf_counter_ns() - t0) / 1e6)
        outcomes[(kind, result.outcome.value)] += 1

    print(f"Name lookup: NameIndex over {len(index):,} companies, {len(queries):,} find() calls")
    print(f"index build: {build_ms:.0f} ms")
    header = f"{'queries':<10} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}  outcomes"
    print(header)
    print("-" * len(header))
    everything = [v for values in by_kind.values() for v in values]
    for kind in ("exact", "prefix", "typo"):
        s = summary(by_kind[kind])
        seen = ", ".join(f"{o} {n}" for (k, o), n in sorted(outcomes.items()) if k == kind)
        print(f"{kind:<10} {s['n']:>5} {s['median']:>8.3f} {s['p90']:>8.3f} {s['p99']:>8.3f} {s['max']:>8.3f}  {seen}")
    s = summary(everything)
    print(f"{'all':<10} {s['n']:>5} {s['median']:>8.3f} {s['p90']:>8.3f} {s['p99']:>8.3f} {s['max']:>8.3f}")
    ok = s["p99"] < 5.0
    print(f"target: find() p99 under 5 ms: {s['p99']:.2f} ms: {'met' if ok else 'MISSED'}")
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
