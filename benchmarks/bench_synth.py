"""Benchmark: wall time and peak memory of ``generate_world`` at 5k, 100k and 1M customers.

Not a test (performance targets live here, not in timed tests). Run with ``make bench`` or
``.venv/bin/python benchmarks/bench_synth.py [--sizes 5000 100000 1000000]``.
Targets (issue 2): default world < 5 s; 1M customers < 60 s and < 4 GB peak RSS.
Each size runs in a fresh subprocess so peak RSS is that run's alone.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, resource, sys, time
from crmlab.synth import generate_world
n = int(sys.argv[1])
t0 = time.perf_counter()
w = generate_world(n_customers=n)
secs = time.perf_counter() - t0
rows = sum(len(df) for df in w.tables.values())
print(json.dumps({"n_customers": n, "seconds": secs, "rows": rows,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
"""

TARGETS = {5_000: (5.0, None), 1_000_000: (60.0, 4.0)}


def run(n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 100_000, 1_000_000])
    parser.add_argument("--json", default="build/bench/synth.json", help="where to write the figures")
    args = parser.parse_args(argv)
    results = []
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    print("| customers | seconds | peak RSS (GB) | rows (all tables) | target |")
    print("|---:|---:|---:|---:|---|")
    for n in args.sizes:
        r = run(n)
        results.append(r)
        t_max, m_max = TARGETS.get(n, (None, None))
        verdict = []
        if t_max is not None:
            verdict.append(f"< {t_max:g} s: {'met' if r['seconds'] < t_max else 'MISSED'}")
        if m_max is not None:
            verdict.append(f"< {m_max:g} GB: {'met' if r['peak_rss_gb'] < m_max else 'MISSED'}")
        print(f"| {n:,} | {r['seconds']:.1f} | {r['peak_rss_gb']:.2f} | {r['rows']:,} | {'; '.join(verdict)} |")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
