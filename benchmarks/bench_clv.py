"""Benchmark: crmlab's BG/NBD against lifetimes 0.11.3 on CDNOW, and crmlab on 1M customers.

Not a test (pytest does not collect ``bench_*.py``; performance targets live here). Targets
(issue 3): the same CDNOW estimates as lifetimes (max abs difference < 1e-3), at least 2x
faster, and a fit on a 1,000,000-customer summary in under 10 s.

lifetimes is archived and is NOT a crmlab dependency (never add it to pyproject). It is a
dev-only comparison, run in a child process of the same benchmark run:

* if ``lifetimes`` is importable in the interpreter running this script, the child uses the same
  interpreter (same numpy/scipy, the fairest comparison). lifetimes 0.11.3 installs into the
  project's venv without touching other packages: ``.venv/bin/pip install --no-deps
  lifetimes==0.11.3`` (its dependencies numpy, scipy, pandas, autograd and dill are already there;
  it imports ``pkg_resources``, which setuptools < 81 provides);
* otherwise ``LIFETIMES_PYTHON`` (default ``/tmp/lifetimes-venv/bin/python``), a throw-away venv
  made with ``python3.11 -m venv /tmp/lifetimes-venv && /tmp/lifetimes-venv/bin/pip install
  "lifetimes==0.11.3" "numpy==1.26.4" "pandas==2.2.3" "scipy==1.13.1" "setuptools<70"``.

Without either, the lifetimes part is skipped.

Run: ``.venv/bin/python benchmarks/bench_clv.py [--repeats 30] [--n-big 1000000]``.
Both libraries fit the same input (the published CDNOW summary, 2,357 customers) and both
compute standard errors (lifetimes through autograd's Hessian, crmlab through central
differences of its analytic gradient). Times are the best of ``--repeats`` fits in one process
after a warm-up fit, so that import and first-call costs are excluded from both. On a shared or
busy machine run with ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``: multi-threaded BLAS then
competes with the other processes for the cores and makes both libraries slower and noisier.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crmlab import clv, datasets  # noqa: E402

CDNOW_SUMMARY = ROOT / "datasets" / "real" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"


def _lifetimes_python() -> str:
    if "LIFETIMES_PYTHON" in os.environ:
        return os.environ["LIFETIMES_PYTHON"]
    if importlib.util.find_spec("lifetimes") is not None:
        return sys.executable
    return "/tmp/lifetimes-venv/bin/python"


LIFETIMES_PYTHON = _lifetimes_python()

LIFETIMES_CHILD = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import lifetimes
df = pd.read_csv(sys.argv[1])
repeats = int(sys.argv[2])
def fit():
    return lifetimes.BetaGeoFitter().fit(df["x"], df["t_x"], df["T"])
fit()  # warm-up
times, cpu = [], []
for _ in range(repeats):
    t0, c0 = time.perf_counter(), time.process_time()
    bgf = fit()
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
rep = df[df["x"] > 0]
ggf = lifetimes.GammaGammaFitter().fit(rep["x"], rep["zbar"])
import numpy, scipy
print(json.dumps({"version": lifetimes.__version__, "params": [float(bgf.params_[k]) for k in ("r", "alpha", "a", "b")],
                  "gg_params": [float(ggf.params_[k]) for k in ("p", "q", "v")],
                  "numpy": numpy.__version__, "scipy": scipy.__version__, "python": sys.executable,
                  "best": min(times), "median": sorted(times)[len(times) // 2], "cpu_best": min(cpu),
                  "cpu_median": sorted(cpu)[len(cpu) // 2]}))
"""


def time_fits(fit, repeats: int) -> tuple[object, dict]:
    """Best and median wall-clock and CPU seconds (CPU time is robust to a busy machine)."""
    fit()  # warm-up
    times, cpu, model = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model = fit()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med = len(times) // 2
    return model, {"best": min(times), "median": sorted(times)[med], "cpu_best": min(cpu),
                   "cpu_median": sorted(cpu)[med]}


def cdnow_comparison(repeats: int) -> dict:
    summary = datasets.load_cdnow("summary")
    bgf, t = time_fits(lambda: clv.BetaGeoFitter().fit(summary), repeats)
    ggf = clv.GammaGammaFitter().fit(summary)
    out = {"crmlab": {"params": bgf.params_.round(6).tolist(), "gg_params": ggf.params_.round(6).tolist(), **t}}
    if not Path(LIFETIMES_PYTHON).exists():
        out["lifetimes"] = None
        print(f"lifetimes interpreter {LIFETIMES_PYTHON} not found: comparison skipped (see the docstring)")
        return out
    proc = subprocess.run([LIFETIMES_PYTHON, "-c", LIFETIMES_CHILD,
                           str(CDNOW_SUMMARY), str(repeats)],
                          capture_output=True, text=True, check=True)
    lt = json.loads(proc.stdout.strip().splitlines()[-1])
    out["lifetimes"] = lt
    out["max_abs_param_diff"] = float(np.max(np.abs(np.array(lt["params"]) - bgf.params_.to_numpy())))
    out["max_abs_gg_param_diff"] = float(np.max(np.abs(np.array(lt["gg_params"]) - ggf.params_.to_numpy())))
    for key in ("best", "median", "cpu_best", "cpu_median"):
        out[f"speedup_{key}"] = lt[key] / t[key]
    return out


def big_fit(n: int, repeats: int, seed: int = 2024) -> dict:
    """A 1M-customer summary simulated from the planted BG/NBD parameters of the shipped world,
    with observation lengths T of whole days spread over the 36-month window."""
    truth = datasets.load_truth()["bgnbd"]
    rng = np.random.default_rng(seed)
    T = np.floor(rng.uniform(1, 1096, n)) / 7.0
    s = clv.simulate_bgnbd(n, T=T, r=truth["r"], alpha=truth["alpha"], a=truth["a"], b=truth["b"], seed=seed)
    bgf, t = time_fits(lambda: clv.BetaGeoFitter().fit(s), repeats)
    ci = bgf.summary
    inside = {k: bool(ci.loc[k, "ci_lower"] <= truth[k] <= ci.loc[k, "ci_upper"]) for k in ("r", "alpha", "a", "b")}
    return {"n_customers": n, **t, "params": bgf.params_.round(4).to_dict(),
            "truth": {k: truth[k] for k in ("r", "alpha", "a", "b")}, "truth_inside_95ci": inside}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed CDNOW fits per library")
    parser.add_argument("--n-big", type=int, default=1_000_000, help="customers in the big summary")
    parser.add_argument("--big-repeats", type=int, default=3)
    parser.add_argument("--json", default="build/bench/clv.json", help="where to write the figures")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    cd = cdnow_comparison(args.repeats)
    print("\nBG/NBD on CDNOW (2,357 customers), best / median of", args.repeats, "fits, milliseconds")
    print("| library | r | alpha | a | b | wall best | wall median | CPU best | CPU median |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")

    def row(name, d):
        times = " | ".join(f"{1e3 * d[k]:.1f}" for k in ("best", "median", "cpu_best", "cpu_median"))
        print(f"| {name} | {' | '.join(f'{v:.4f}' for v in d['params'])} | {times} |")

    row("crmlab", cd["crmlab"])
    if cd.get("lifetimes"):
        row(f"lifetimes {cd['lifetimes']['version']}", cd["lifetimes"])
        ok = cd["max_abs_param_diff"] < 1e-3
        print(f"lifetimes ran with {cd['lifetimes']['python']} (numpy {cd['lifetimes']['numpy']}, "
              f"scipy {cd['lifetimes']['scipy']})")
        print(f"\nmax |difference| of the BG/NBD estimates: {cd['max_abs_param_diff']:.2e} (target < 1e-3: "
              f"{'met' if ok else 'MISSED'}); Gamma-Gamma (p, q, gamma): "
              f"{cd['max_abs_gg_param_diff']:.2e}")
        print(f"speed-up (lifetimes / crmlab): CPU best {cd['speedup_cpu_best']:.1f}x, CPU median "
              f"{cd['speedup_cpu_median']:.1f}x, wall best {cd['speedup_best']:.1f}x, wall median "
              f"{cd['speedup_median']:.1f}x (target >= 2x on CPU median: "
              f"{'met' if cd['speedup_cpu_median'] >= 2 else 'MISSED'})")
    big = big_fit(args.n_big, args.big_repeats)
    print(f"\nBG/NBD on a simulated summary of {big['n_customers']:,} customers, best / median of "
          f"{args.big_repeats}: wall {big['best']:.2f} s / {big['median']:.2f} s, CPU {big['cpu_best']:.2f} s / "
          f"{big['cpu_median']:.2f} s (target < 10 s wall: {'met' if big['median'] < 10 else 'MISSED'})")
    print("estimates", big["params"], "planted", big["truth"], "truth inside 95% CI", big["truth_inside_95ci"])
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cdnow": cd, "big": big}, indent=2), encoding="utf-8")
    print(f"\nfigures written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
