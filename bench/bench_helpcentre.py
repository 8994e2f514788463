"""Accuracy and speed of the Help Centre matcher on the labelled set.

Run from the repository root:  python bench/bench_helpcentre.py [--verbose]
Exits 1 when a target is missed (top-1 >= 95%, no wrong specific article, < 1 ms a match).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.helpcentre.matching import HelpCentre  # noqa: E402

CASES = ROOT / "tests" / "helpcentre_cases.json"
ROUNDS = 20


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv or "-v" in argv
    started = time.perf_counter()
    hc = HelpCentre.load()
    load_ms = (time.perf_counter() - started) * 1000
    cases = json.loads(CASES.read_text(encoding="utf-8"))["cases"]

    right = 0
    wrong_specific_unrelated = 0
    wrong_specific_labelled = 0
    missed_to_general = 0
    for case in cases:
        got = hc.match(case["message"], case.get("topic", "publication"))
        expect = case["expect"]
        if expect == "general":
            ok = not got.specific
            if not ok:
                wrong_specific_unrelated += 1
        else:
            ok = got.specific and got.article.id == expect
            if not ok:
                if got.specific:
                    wrong_specific_labelled += 1
                else:
                    missed_to_general += 1
        right += ok
        if verbose and not ok:
            print(f"MISS {case['message']!r}: expected {expect}, got {got.article.id} {got.how} {got.score} ({got.reason})")

    timings: list[float] = []
    for _ in range(ROUNDS):
        for case in cases:
            t0 = time.perf_counter_ns()
            hc._match(case["message"], case.get("topic", "publication"))  # the matching itself, not its cache
            timings.append((time.perf_counter_ns() - t0) / 1000)
    timings.sort()
    median = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]

    n_unrelated = sum(1 for c in cases if c["expect"] == "general")
    accuracy = right / len(cases)
    print(f"articles: {len(hc.articles)}, load: {load_ms:.1f} ms")
    print(f"cases: {len(cases)} ({len(cases) - n_unrelated} labelled with an article, {n_unrelated} unrelated)")
    print(f"top-1 accuracy: {accuracy:.1%} ({right}/{len(cases)})")
    print(f"wrong specific article, unrelated messages: {wrong_specific_unrelated}")
    print(f"wrong specific article, labelled messages: {wrong_specific_labelled}")
    print(f"labelled messages that fell back to the general article: {missed_to_general}")
    print(f"time per match: median {median:.1f} us, p99 {p99:.1f} us, max {timings[-1]:.1f} us ({len(timings)} matches)")

    ok = accuracy >= 0.95 and wrong_specific_unrelated == 0 and p99 < 1000
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
