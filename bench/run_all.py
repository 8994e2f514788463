"""Every benchmark in bench/, one after the other: one command for everything.

Run from the repository root:  python bench/run_all.py
Runs bench_helpcentre, bench_lookup, bench_poll, bench_slash and bench_storm (each only if present), each in
its own interpreter, prints their tables, and ends with one line per benchmark. Exits 1 if any missed a target.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ORDER = ["bench_helpcentre.py", "bench_lookup.py", "bench_poll.py", "bench_slash.py", "bench_storm.py"]
TIMEOUT_S = 300


def main() -> int:
    here = Path(__file__).resolve().parent
    scripts = [here / name for name in ORDER if (here / name).is_file()]
    scripts += sorted(p for p in here.glob("bench_*.py") if p.name not in ORDER)  # any added later
    results = []
    for script in scripts:
        print(f"\n===== {script.name} =====", flush=True)
        started = time.perf_counter()
        try:
            code = subprocess.run([sys.executable, str(script)], cwd=ROOT, timeout=TIMEOUT_S).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        results.append((script.name, code, time.perf_counter() - started))
    print("\n===== summary =====")
    for name, code, seconds in results:
        verdict = "targets met" if code == 0 else ("TIMED OUT" if code == "timeout" else f"TARGETS MISSED (exit {code})")
        print(f"{name:<22} {seconds:>6.0f} s  {verdict}")
    missing = [name for name in ORDER if not (Path(__file__).resolve().parent / name).is_file()]
    if missing:
        print("not present, skipped: " + ", ".join(missing))
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
