"""Benchmark: crmlab.scale on large transaction logs (DuckDB, pandas, Spark local[2]).

Not a test (performance targets live here). Targets (issue 14), on a 2-core machine:

* 100M transactions -> BTYD summary statistics + weighted BG/NBD fit via DuckDB in < 3 min
  and < 8 GB peak memory;
* 20M transactions: the pandas path (``summary_from_transactions`` + ``BetaGeoFitter`` on the
  per-customer summary) and the DuckDB path side by side, with the ratio;
* Spark ``local[2]`` on the same 20M rows, its start-up time reported separately.

The logs are streamed to Parquet once with ``crmlab.synth.parquet.stream_transactions_parquet``
(cached in ``--data``; the 20M log is the first blocks of the same stream). Every measured
run is a fresh child process; peak memory is the peak resident set of the child and all its
descendants (Spark's JVM included), sampled every 50 ms. The machine's load average is
printed: other processes sharing the cores slow every wall time down, so the CPU seconds of
the process tree are reported too.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--big 100000000] [--side 20000000] [--no-spark]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys, time
args = json.loads(sys.argv[1])
out = {}
t0 = time.perf_counter()
if args["path"] == "duckdb":
    from crmlab import scale
    eng = scale.connect(threads=2, memory_limit=args.get("memory_limit", "6GB"),
                        temp_directory=args["tmp"])
    stats = scale.bgnbd_statistics(args["tx"], as_of=args["as_of"], merge_same_day=False, engine=eng)
    out["summary_seconds"] = time.perf_counter() - t0
    out["stat_rows"] = len(stats)
    out["customers"] = int(stats["weight"].sum())
    t1 = time.perf_counter()
    bgf = scale.fit_weighted_bgnbd(stats)
    out["fit_seconds"] = time.perf_counter() - t1
elif args["path"] == "pandas":
    import inspect
    import pandas as pd
    from crmlab import clv
    tx = pd.read_parquet(args["tx"], columns=["customer_id", "date", "amount"])
    out["read_seconds"] = time.perf_counter() - t0
    summary = clv.summary_from_transactions(tx, merge_same_day=False, as_of=args["as_of"])
    del tx
    out["summary_seconds"] = time.perf_counter() - t0
    out["customers"] = len(summary)
    t1 = time.perf_counter()
    bgf = clv.BetaGeoFitter().fit(summary)
    out["fit_seconds"] = time.perf_counter() - t1
elif args["path"] == "spark":
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[2]").appName("crmlab-bench")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.memory", "4g").config("spark.sql.shuffle.partitions", "8")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()  # the JVM and the first job are up
    out["startup_seconds"] = time.perf_counter() - t0
    from crmlab import scale
    t1 = time.perf_counter()
    stats = scale.bgnbd_statistics(args["tx"], as_of=args["as_of"], merge_same_day=False, engine=spark)
    out["summary_seconds"] = time.perf_counter() - t1
    out["stat_rows"] = len(stats)
    out["customers"] = int(stats["weight"].sum())
    t2 = time.perf_counter()
    bgf = scale.fit_weighted_bgnbd(stats)
    out["fit_seconds"] = time.perf_counter() - t2
    spark.stop()
out["total_seconds"] = time.perf_counter() - t0
out["params"] = {k: float(v) for k, v in bgf.params_.items()}
print("RESULT " + json.dumps(out))
"""


def _tree_sample(pid: int, cpu: dict) -> int:
    """Resident memory of a process tree now; records each process's CPU seconds in ``cpu``."""
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
            t = q.cpu_times()
            cpu[q.pid] = t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def run_child(args: dict) -> dict:
    """Run one measured path in a fresh process; add its peak tree RSS (GB)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
    peak = [0]
    cpu: dict = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_sample(proc.pid, cpu))
            time.sleep(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    stdout, stderr = proc.communicate()
    done.set()
    th.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{args['path']} run failed:\n{stderr[-3000:]}")
    lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(f"{args['path']} run printed no result:\n{stdout[-2000:]}\n{stderr[-3000:]}")
    line = lines[-1]
    out = json.loads(line[len("RESULT "):])
    out["peak_rss_gb"] = peak[0] / 1e9
    # CPU seconds of the whole tree (Spark's JVM included), last seen 50 ms or less before exit:
    # less sensitive than wall time to the other processes sharing the cores
    out["cpu_seconds"] = sum(cpu.values())
    return out


def ensure_log(folder: Path, n_rows: int, seed: int) -> dict:
    """Stream a log of >= n_rows transactions to folder once (reused when it is there)."""
    from crmlab.synth.parquet import stream_transactions_parquet

    meta_path = folder / "world.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("seed") == seed and meta["rows"]["transactions"] >= n_rows and meta.get("target") == n_rows:
            return meta
    t0 = time.perf_counter()
    meta = stream_transactions_parquet(folder, seed=seed, n_transactions=n_rows, months=36)
    meta["target"] = n_rows
    meta["generate_seconds"] = time.perf_counter() - t0
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True))
    return meta


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=100_000_000, help="rows of the DuckDB log (default 100M)")
    parser.add_argument("--side", type=int, default=20_000_000, help="rows of the side-by-side log (default 20M)")
    parser.add_argument("--data", default="build/bench/scale", help="where the Parquet logs are cached")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark run")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas run")
    parser.add_argument("--json", default="build/bench/scale.json", help="where to write the figures")
    args = parser.parse_args(argv)
    data = ROOT / args.data
    tmp = data / "duckdb_tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load average at start "
          f"{os.getloadavg()[0]:.1f}")
    results: dict = {"load_average_start": os.getloadavg()}

    big = ensure_log(data / f"tx{args.big // 1_000_000}m", args.big, args.seed)
    side = ensure_log(data / f"tx{args.side // 1_000_000}m", args.side, args.seed)
    for name, meta in (("big", big), ("side", side)):
        gen = f", streamed in {meta['generate_seconds']:.0f} s" if "generate_seconds" in meta else " (cached)"
        print(f"{name} log: {meta['rows']['transactions']:,} transactions of {meta['rows']['customers']:,} "
              f"customers{gen}")
    results["logs"] = {"big": big, "side": side}

    def tx(meta, name):
        return str(data / name / "transactions.parquet")

    base = {"as_of": big["window_end"], "tmp": str(tmp)}
    rows = []
    r = run_child({**base, "path": "duckdb", "tx": tx(big, f"tx{args.big // 1_000_000}m")})
    rows.append(("DuckDB", big["rows"]["transactions"], r))
    results["duckdb_big"] = r
    r_duck = run_child({**base, "path": "duckdb", "tx": tx(side, f"tx{args.side // 1_000_000}m")})
    rows.append(("DuckDB", side["rows"]["transactions"], r_duck))
    results["duckdb_side"] = r_duck
    if not args.no_pandas:
        r_pd = run_child({**base, "path": "pandas", "tx": tx(side, f"tx{args.side // 1_000_000}m")})
        rows.append(("pandas", side["rows"]["transactions"], r_pd))
        results["pandas_side"] = r_pd
    if not args.no_spark:
        r_sp = run_child({**base, "path": "spark", "tx": tx(side, f"tx{args.side // 1_000_000}m")})
        rows.append(("Spark local[2]", side["rows"]["transactions"], r_sp))
        results["spark_side"] = r_sp
    results["load_average_end"] = os.getloadavg()

    print("\n| engine | transactions | customers | summary (s) | fit (s) | total (s) | CPU (s) | peak RSS (GB) | extra |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, n, r in rows:
        extra = []
        if "startup_seconds" in r:
            extra.append(f"start-up {r['startup_seconds']:.1f} s (not in total)")
        if "stat_rows" in r:
            extra.append(f"{r['stat_rows']:,} weighted rows")
        if "read_seconds" in r:
            extra.append(f"read {r['read_seconds']:.1f} s")
        total = r["total_seconds"] - r.get("startup_seconds", 0.0)
        print(f"| {name} | {n:,} | {r['customers']:,} | {r['summary_seconds']:.1f} | {r['fit_seconds']:.1f} | "
              f"{total:.1f} | {r['cpu_seconds']:.0f} | {r['peak_rss_gb']:.2f} | {'; '.join(extra)} |")
    b = results["duckdb_big"]
    print(f"\n100M target (< 180 s, < 8 GB): {b['total_seconds']:.0f} s, {b['peak_rss_gb']:.2f} GB -> "
          f"{'met' if b['total_seconds'] < 180 and b['peak_rss_gb'] < 8 else 'MISSED'}")
    if "pandas_side" in results:
        p = results["pandas_side"]
        print(f"20M pandas / DuckDB: time x{p['total_seconds'] / r_duck['total_seconds']:.1f}, "
              f"memory x{p['peak_rss_gb'] / r_duck['peak_rss_gb']:.1f}; max |relative parameter difference| "
              f"{max(abs(p['params'][k] / r_duck['params'][k] - 1) for k in p['params']):.1e}")
    if "spark_side" in results:
        s = results["spark_side"]
        print(f"20M Spark / DuckDB (start-up excluded): time x"
              f"{(s['total_seconds'] - s['startup_seconds']) / r_duck['total_seconds']:.1f}")
    print(f"load average at end {results['load_average_end'][0]:.1f} (1 min), "
          f"{results['load_average_end'][1]:.1f} (5 min) on {os.cpu_count()} cores")
    Path(ROOT / args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(ROOT / args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
