"""Benchmark: Cox fit time of crmlab.churn.ChurnCox at 100k and 1M memberships.

Not a test. Run ``.venv/bin/python benchmarks/bench_churn.py [--sizes 100000 1000000]
[--lifelines] [--lifelines-ctv] [--world 1000000]``.

* ``spells`` mode simulates one row per membership spell directly from the planted model
  (ChurnParams: Weibull baseline H0(t) = (t/26)^0.85, log HRs for latent satisfaction, plan,
  loyalty programme), with the window's left truncation (30% of spells started up to 24
  months before the window and enter at their tenure then) and administrative censoring
  after 36 months; tenure is on a half-day grid as in ``survival_frame`` (so ties occur).
* ``--lifelines`` also times lifelines' ``CoxPHFitter`` on the same data: with
  ``entry_col`` (the same estimator as crmlab, at sizes <= 100k: its delayed-entry path
  loops over event times) and without the entry at every size (its fast batch path; it
  ignores the left truncation, so it is biased and shown for speed only).
  ``--lifelines-ctv`` adds ``CoxTimeVaryingFitter`` at sizes <= 100k (O(deaths x rows) per
  Newton step: expect minutes).
* ``--world N`` generates an N-customer world and times the full time-varying pipeline:
  ``start_stop_frame`` (complaints, CRM go-live, campaign) and the Cox fit.

Each case runs in a fresh subprocess so that peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, os, resource, sys, time, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
from crmlab.churn import ChurnCox, MONTH_DAYS
from crmlab.synth.params import WorldParams

mode, n, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load_before = os.getloadavg()[0]
p = WorldParams().churn
beta = p.log_hr
out = {"mode": mode, "n": n}
if mode.startswith("spells"):
    rng = np.random.default_rng(2024)
    sat = rng.normal(size=n)
    plan = rng.choice(3, n, p=[0.45, 0.35, 0.20])
    loyal = rng.random(n) < 0.5
    eta = (beta["satisfaction"] * sat + beta["plan_plus"] * (plan == 1) + beta["plan_premium"] * (plan == 2)
           + beta["loyalty_member"] * loyal)
    T = p.weibull_scale_months * (rng.exponential(size=n) / np.exp(eta)) ** (1 / p.weibull_shape)
    legacy = rng.random(n) < 0.30
    entry = np.where(legacy, rng.uniform(0, 24, n), 0.0)
    start_cal = np.where(legacy, -entry, rng.uniform(0, 36, n))  # calendar month of the start
    cens = 36 - start_cal  # tenure at the window end
    keep = T > entry
    T = np.floor(T * MONTH_DAYS) / MONTH_DAYS + 0.5 / MONTH_DAYS
    d = pd.DataFrame({"satisfaction": sat, "plan_plus": (plan == 1).astype(int),
                      "plan_premium": (plan == 2).astype(int), "loyalty_member": loyal.astype(int),
                      "entry": entry, "duration": np.minimum(T, cens), "event": (T <= cens).astype(int)})
    d = d[keep & (d["duration"] > d["entry"])].reset_index(drop=True)
    covs = ["satisfaction", "plan_plus", "plan_premium", "loyalty_member"]
    out.update(rows=len(d), events=int(d["event"].sum()), unique_event_times=int(d.loc[d.event == 1, "duration"].nunique()))
    from lifelines import CoxPHFitter, CoxTimeVaryingFitter
    d["id"] = np.arange(len(d))

    def fit():
        if mode == "spells":
            return ChurnCox().fit(d, covs).params_
        if mode == "spells_lifelines_coxph_entry":
            return CoxPHFitter().fit(d[covs + ["entry", "duration", "event"]], "duration", "event",
                                     entry_col="entry").params_
        if mode == "spells_lifelines_ctv":
            return CoxTimeVaryingFitter().fit(d[covs + ["id", "entry", "duration", "event"]], id_col="id",
                                              event_col="event", start_col="entry", stop_col="duration").params_
        # lifelines CoxPHFitter without entry (fast path, but ignores the truncation)
        return CoxPHFitter().fit(d[covs + ["duration", "event"]], "duration", "event").params_

    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        est = fit()
        times.append(time.perf_counter() - t0)
    out["fit_seconds_all"] = times
    out["fit_seconds"] = min(times)
    out["estimates"] = {k: round(float(v), 4) for k, v in est.items()}
    out["planted"] = {k: beta[k] for k in covs}
else:  # world
    from crmlab.churn import start_stop_frame
    from crmlab.synth import generate_world
    t0 = time.perf_counter()
    w = generate_world(seed=2024, n_customers=n)
    out["generate_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    long = start_stop_frame(w.memberships, w.customers, w.tickets, w.branches, w.campaigns,
                            window_start=w.meta["window_start"], as_of=w.meta["window_end"])
    long = long.merge(w.latent[["customer_id", "satisfaction", "latent_segment"]], on="customer_id")
    segs = list(w.truth["campaign"]["log_hr_by_segment"])
    for sg in segs:  # the campaign effect by latent segment (omitting it biases crm_live)
        long[f"campaign_{sg}"] = long["campaign_offer"] * (long["latent_segment"] == sg).to_numpy()
    out["frame_seconds"] = time.perf_counter() - t0
    covs = ["satisfaction", "recent_complaint", "plan_plus", "plan_premium", "loyalty_member", "crm_live"]
    beta = {**beta, **{f"campaign_{sg}": v for sg, v in w.truth["campaign"]["log_hr_by_segment"].items()}}
    covs += [f"campaign_{sg}" for sg in segs]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        m = ChurnCox().fit(long, covs)
        times.append(time.perf_counter() - t0)
    out["fit_seconds_all"] = times
    out["fit_seconds"] = min(times)
    out.update(rows=len(long), memberships=int(long["membership_id"].nunique()), events=int(long["event"].sum()))
    out["estimates"] = {k: round(float(v), 4) for k, v in m.params_.items()}
    out["planted"] = {k: beta[k] for k in covs}
out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
out["load_1min_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
print(json.dumps(out))
"""


def run(mode: str, n: int, repeat: int) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, mode, str(n), str(repeat)], capture_output=True, text=True, check=True,
                         env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                              "PATH": "/usr/bin:/bin", "TQDM_DISABLE": "1"})
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--lifelines", action="store_true", help="also time lifelines' CoxPHFitter")
    parser.add_argument("--lifelines-ctv", action="store_true",
                        help="also time lifelines' CoxTimeVaryingFitter at sizes <= 100k (slow)")
    parser.add_argument("--world", type=int, nargs="*", default=[], help="customers of generated worlds to time")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fits per case (the table shows the fastest; lifelines fits >= 100k run once)")
    parser.add_argument("--json", default="build/bench/churn.json", help="where to write the figures")
    args = parser.parse_args(argv)
    cases = [("spells", n) for n in args.sizes]
    if args.lifelines:
        cases += [("spells_lifelines_coxph_entry", n) for n in args.sizes if n <= 100_000]
        cases += [("spells_lifelines_coxph_no_entry", n) for n in args.sizes]
    if args.lifelines_ctv:
        cases += [("spells_lifelines_ctv", n) for n in args.sizes if n <= 100_000]
    cases += [("world", n) for n in args.world]
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, one BLAS thread; "
          "fit (s) = fastest of the repeats; load = 1-minute load average before/after the case")
    print("| case | memberships simulated / customers | rows | events | fit (s) | all fits (s) | load | "
          "peak RSS (GB) | estimates (planted) |")
    print("|---|---:|---:|---:|---:|---|---|---:|---|")
    results = []
    for mode, n in cases:
        slow = mode.startswith("spells_lifelines") and n >= 100_000
        r = run(mode, n, 1 if slow else max(1, args.repeat))
        results.append(r)
        est = ", ".join(f"{k} {v:+.3f} ({r['planted'][k]:+.2f})" for k, v in r["estimates"].items())
        extra = (f" (+ generate {r['generate_seconds']:.1f} s, frame {r['frame_seconds']:.1f} s)"
                 if mode == "world" else "")
        fits = ", ".join(f"{t:.2f}" for t in r["fit_seconds_all"])
        load = "/".join(f"{x:.1f}" for x in r["load_1min_before_after"])
        print(f"| {mode} | {n:,} | {r['rows']:,} | {r['events']:,} | {r['fit_seconds']:.2f}{extra} | {fits} | "
              f"{load} | {r['peak_rss_gb']:.2f} | {est} |")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
