"""Survival-based churn, retention curves and the churn early-warning mechanism (客户流失预警机制).

The source texts treat churn as a key risk (客户流失风险, S000 §9.1) to be caught early by "using
data analysis to spot signs of churn and act in time" (S000 §9.2(4)), and name customer
retention time (客户保持时间, S002 Ch8 §2) as a loyalty indicator. They give no numbers: every
figure here comes from the SYNTHETIC world (planted Cox model with a Weibull baseline) or from
assumptions the user supplies.

Data preparation

* :func:`survival_frame` - one row per membership spell: tenure, event, right-censoring at the
  window end, left truncation (``entry``) for spells already running at the window start;
* :func:`start_stop_frame` - the long (start-stop) format on the calendar-month grid, with
  time-varying ``recent_complaint``, ``crm_live``, ``campaign_offer`` and optional survey
  satisfaction; :func:`split_spells` cuts spells on a tenure grid and
  :func:`add_time_interaction` adds covariate x log(t) terms (a PH remedy).

Description and tests

* :class:`RetentionCurves` - Kaplan-Meier curves by segment (lifelines) with confidence bands,
  medians, survival at chosen tenures and restricted mean survival time (RMST);
* :func:`logrank_test` - the log-rank test, honouring delayed entry.

Models

* :class:`ChurnCox` - Cox proportional hazards for one-row-per-spell or start-stop data,
  with delayed entry, strata and time-varying covariates: hazard-ratio table with CIs,
  Schoenfeld proportional-hazards test, Breslow baseline, survival predictions;
* :func:`compare_with_truth` - estimated vs planted hazard ratios.

Value and evaluation

* :func:`expected_remaining_lifetime`, :func:`survival_clv`, :func:`discounted_survival_value`;
* :func:`concordance`, :func:`brier_score`, :func:`integrated_brier_score`,
  :func:`time_dependent_auc`, :func:`calibration_table` (+ :func:`plot_calibration`).

Early warning

* :func:`landmark_frame` (features at a landmark date, churn within a horizon),
  :class:`ChurnRiskScore` (scikit-learn classifier or Cox on a time split), :func:`lift_table`
  with :func:`plot_lift` / :func:`plot_gain`, :func:`profit_curve` (offer cost vs CLV saved) and
  :func:`watch_list`.

Why crmlab has its own Cox engine: lifelines' ``CoxTimeVaryingFitter`` (and ``CoxPHFitter``
with ``entry_col``) loops over death times, O(deaths x rows) per Newton step (about 15 s for
44,000 rows); and in lifelines 0.30 ``CoxPHFitter`` ignores ``entry_col`` when it computes the
baseline hazard and the Schoenfeld residuals. :class:`ChurnCox` maximises the same Efron
partial likelihood with sorted cumulative sums, O(rows log rows), honours delayed entry
everywhere, and is checked against lifelines in the tests (``engine="lifelines"`` runs
``CoxTimeVaryingFitter`` instead, for cross-checks).

>>> import pandas as pd
>>> ms = pd.DataFrame({"membership_id": [1, 2, 3], "customer_id": [1, 2, 3],
...                    "plan": ["basic", "plus", "basic"],
...                    "start_date": pd.to_datetime(["2022-06-01", "2023-03-01", "2023-05-01"]),
...                    "end_date": pd.to_datetime([None, "2023-09-15", None])})
>>> sf = survival_frame(ms, window_start="2023-01-01", window_end="2024-01-01")
>>> sf[["entry", "duration", "event"]].round(2)
   entry  duration  event
0   7.03     19.02      0
1   0.00      6.52      1
2   0.00      8.05      0
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .errors import ColumnError, ConvergenceError, DataValidationError, ParameterError
from .validation import (
    check_binary,
    check_date_order,
    check_dates,
    check_fitted,
    check_frame,
    check_in_set,
    check_no_nan,
    check_probability,
    check_scalar,
    require_columns,
)

__all__ = [
    "MONTH_DAYS",
    "survival_frame",
    "start_stop_frame",
    "split_spells",
    "add_time_interaction",
    "RetentionCurves",
    "logrank_test",
    "ChurnCox",
    "compare_with_truth",
    "expected_remaining_lifetime",
    "discounted_survival_value",
    "survival_clv",
    "concordance",
    "brier_score",
    "integrated_brier_score",
    "time_dependent_auc",
    "calibration_table",
    "plot_calibration",
    "landmark_frame",
    "time_split",
    "LANDMARK_FEATURES",
    "ChurnRiskScore",
    "lift_table",
    "plot_lift",
    "plot_gain",
    "profit_curve",
    "plot_profit_curve",
    "watch_list",
]

MONTH_DAYS = 30.4375
"""One tenure month in days (365.25 / 12), the generator's time unit."""

_PENALIZER_FIX = ("pass penalizer=0.1 (a ridge penalty on the standardised coefficients: it "
                  "shrinks them toward 0 so a finite estimate exists, at the price of a small "
                  "bias), merge rare categories, or drop the covariate")


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _window(window_start, window_end):
    """The observation window; ``None`` reads it from the shipped world's ``world.json``."""
    if window_start is None or window_end is None:
        from . import datasets

        meta = datasets.load_meta()
        window_start = meta["window_start"] if window_start is None else window_start
        window_end = meta["window_end"] if window_end is None else window_end
    try:
        ws, we = pd.Timestamp(window_start), pd.Timestamp(window_end)
    except (TypeError, ValueError):
        raise ParameterError(f"window_start/window_end must be dates, got {window_start!r}, {window_end!r}",
                             fix="pass ISO dates such as window_start='2023-01-01'") from None
    if not ws < we:
        raise ParameterError(f"window_start ({ws.date()}) must be before window_end ({we.date()})",
                             fix="swap them; window_end is the censoring date (world.meta['window_end'])")
    return ws, we


def _days(dates: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    return ((dates - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


def _check_survival_columns(df, name, start, stop, event, covariates=(), min_events=1):
    """Shared bad-input checks of every survival fit: durations, events, order, variance."""
    cols = [c for c in (start, stop, event) if c is not None]
    check_frame(df, name, required=[*cols, *covariates], numeric=[*cols, *covariates],
                no_nan=[*cols, *covariates])
    check_binary(df, event, name)
    stop_v = df[stop].to_numpy(dtype=float)
    if not np.all(np.isfinite(stop_v)):
        raise DataValidationError(f"{name}[{stop!r}] has infinite values",
                                  fix="censor open-ended spells at the observation end")
    if (stop_v < 0).any():
        i = int(np.flatnonzero(stop_v < 0)[0])
        raise DataValidationError(
            f"{name}[{stop!r}] has {int((stop_v < 0).sum())} negative duration(s) "
            f"(first at row {df.index[i]!r}: {stop_v[i]!r})",
            fix="durations are time from the spell start to the event or censoring; check that "
                "end dates are not before start dates (survival_frame() computes them)")
    if start is not None:
        start_v = df[start].to_numpy(dtype=float)
        if (start_v < 0).any():
            raise DataValidationError(f"{name}[{start!r}] has negative entry/start times",
                                      fix="entry times are tenure at the window start, >= 0")
        bad = start_v >= stop_v
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{name} has {int(bad.sum())} row(s) whose start {start!r} is not before stop {stop!r} "
                f"(start after stop; first at row {df.index[i]!r}: {start_v[i]!r} >= {stop_v[i]!r})",
                fix="each row covers the interval (start, stop]; drop zero-length rows and swap "
                    "reversed ones")
    n_ev = int(df[event].sum())
    if n_ev < min_events:
        raise DataValidationError(
            f"{name}[{event!r}] has {n_ev} event(s): every row is censored, so there is nothing to "
            "estimate a churn hazard from" if n_ev == 0 else
            f"{name}[{event!r}] has only {n_ev} event(s); at least {min_events} are needed",
            fix="check that event = 1 marks churned spells (end date inside the window) and that "
                "the filters kept some churners")
    for c in covariates:
        v = df[c].to_numpy(dtype=float)
        if np.ptp(v) == 0:
            raise DataValidationError(
                f"{name}[{c!r}] has no variance (every value is {float(v[0]):g}), so its hazard ratio is "
                "not identified",
                fix=f"drop {c!r} from the covariates (or use it as a filter/stratum instead)")


# ----------------------------------------------------------------------------------------------
# survival frames
# ----------------------------------------------------------------------------------------------
def survival_frame(
    memberships: pd.DataFrame,
    window_start=None,
    window_end=None,
    *,
    start: str = "start_date",
    end: str = "end_date",
) -> pd.DataFrame:
    """One row per membership spell with tenure (months), event and delayed entry.

    Time is tenure since the spell start in months of 30.4375 days. A spell that ends
    inside the window is an event; its end date is a calendar day, so the event is placed
    in the middle of that day (``+ 0.5`` day), which also keeps same-day cancellations at a
    positive duration. A spell still running at ``window_end`` is right-censored there
    (右删失). A spell that started before ``window_start`` is only in the data because it
    survived to the window start: it is left-truncated (左截断) with ``entry`` = tenure at the
    window start, and a model must not count it at risk before that tenure. Spells that
    ended before the window start are dropped (they cannot be observed under truncation).
    ``window_end`` also works as an as-of date: spells starting on or after it are dropped
    and cancellations after it count as censored there (a time split for evaluation).

    Parameters
    ----------
    memberships : DataFrame
        ``datasets.load("memberships")`` or ``world.memberships``: one row per spell with
        ``start`` and ``end`` date columns (empty end = still active).
    window_start, window_end : date, optional
        Observation window; default: the shipped world's ``world.json`` (pass
        ``world.meta["window_start"]`` etc. for a generated world).

    Returns
    -------
    DataFrame
        The input columns plus ``entry``, ``duration``, ``event`` (0/1) and
        ``left_truncated``.
    """
    ws, we = _window(window_start, window_end)
    check_frame(memberships, "memberships", required=[start, end])
    s, e = check_date_order(memberships, start, end, "memberships",
                            meaning="start after stop, a negative duration")
    out = memberships.copy()
    ended_before = (e < ws).fillna(False).to_numpy(dtype=bool)
    not_yet = (s >= we).to_numpy(dtype=bool)
    sday = _days(s, ws)
    eday = _days(e, ws)
    # an end after window_end has not happened yet as of window_end: censored there
    eday = np.where(eday >= _days(pd.Series([we]), ws)[0], np.nan, eday)
    event = ~np.isnan(eday)
    stop_day = np.where(event, eday + 0.5, _days(pd.Series([we]), ws)[0])
    out["entry"] = np.maximum(-sday, 0.0) / MONTH_DAYS
    out["duration"] = (stop_day - sday) / MONTH_DAYS
    out["event"] = event.astype(int)
    out["left_truncated"] = sday < 0
    out = out.loc[~ended_before & ~not_yet].copy()
    out.attrs.update({"window_start": str(ws.date()), "window_end": str(we.date()),
                      "dropped_ended_before_window": int(ended_before.sum()),
                      "dropped_started_after_window": int(not_yet.sum())})
    return out


def _month_bounds(ws, we) -> np.ndarray:
    """Day offsets (from ws) of the calendar-month starts covering the window, plus the end."""
    b = pd.date_range(ws.to_period("M").to_timestamp(), we, freq="MS")
    if b[-1] < we:
        b = b.append(pd.DatetimeIndex([we]))
    return _days(pd.Series(b), ws)


def start_stop_frame(
    memberships: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    branches: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    *,
    window_start=None,
    window_end=None,
    complaint_months: int = 3,
    legacy_complaints: str = "delay",
    campaign_months: int = 6,
    survey_items: Sequence[str] = ("sat_overall", "sat_confirm_expectations", "sat_vs_ideal"),
    collapse: bool = True,
) -> pd.DataFrame:
    """Long (start-stop) format with time-varying covariates on the calendar-month grid.

    Each spell is cut at calendar-month boundaries (where the covariates can change);
    rows cover ``(start, stop]`` in tenure months and ``event`` is 1 only on the last row of
    a churned spell. The first row starts at ``entry`` (delayed entry). Covariates:

    * ``plan_plus``, ``plan_premium`` (vs basic) from ``memberships.plan``;
      ``loyalty_member`` from ``customers``;
    * ``recent_complaint`` (needs ``tickets``): 1 during calendar month m if the customer
      opened a complaint ticket in any of months m-1 ... m-``complaint_months``;
    * ``crm_live`` (needs ``customers`` and ``branches``): 1 from the branch's
      ``crm_golive_date``;
    * ``campaign_offer`` (needs ``campaigns``): 1 for treated customers during the
      ``campaign_months`` calendar months from ``assigned_date``;
    * ``survey_satisfaction`` (needs ``survey``): the z-scored mean of ``survey_items`` in
      the customer's latest answer, from its response date on. Rows before a customer's
      first answer are dropped (entry is delayed to the answer: counting the time before
      it would be immortal-time bias), so the frame then holds respondents only. The
      z-score uses the mean and SD of every answer in ``survey``: one fixed scale for a
      retrospective fit. A score for prediction must not use later answers; use
      :func:`landmark_frame`, which standardises with the answers known at the landmark.

    Tickets are recorded only inside the window, so complaints before the window start are
    unknown: with ``legacy_complaints="delay"`` (default) spells that started before the
    window enter ``complaint_months`` months after the window start, when their complaint
    history is complete (unbiased under delayed entry, costs the early events of those
    spells); ``"zero"`` treats the unknown months as complaint-free (keeps the events, but
    misclassifies a few, which attenuates the complaint hazard ratio slightly).

    With ``collapse=True`` consecutive rows whose covariates do not change are merged.
    Keep ``collapse=False`` (monthly rows) for :func:`add_time_interaction`.
    """
    ws, we = _window(window_start, window_end)
    check_scalar(complaint_months, "complaint_months", numbers.Integral, 1, 24)
    check_scalar(campaign_months, "campaign_months", numbers.Integral, 1, 120)
    if legacy_complaints not in ("delay", "zero"):
        raise ParameterError(f"legacy_complaints must be 'delay' or 'zero', got {legacy_complaints!r}",
                             fix="use 'delay' (enter legacy spells once their complaint history is "
                                 "complete) or 'zero'")
    require_columns(memberships, ["membership_id", "customer_id", "start_date", "end_date"], "memberships")
    sf = survival_frame(memberships, ws, we)
    bounds = _month_bounds(ws, we)
    n_months = len(bounds) - 1

    def month_of(day):
        return np.clip(np.searchsorted(bounds, day, side="right") - 1, 0, n_months - 1)

    sday = _days(pd.to_datetime(sf["start_date"]), ws)
    a = np.maximum(sday, 0.0)
    if tickets is not None and legacy_complaints == "delay":
        a = np.where(sday < 0, np.maximum(a, bounds[min(complaint_months, n_months)]), a)
    b = sday + sf["duration"].to_numpy() * MONTH_DAYS
    keep = b > a
    sf = sf.loc[keep]
    sday, a, b = sday[keep], a[keep], b[keep]
    m0, m1 = month_of(a), month_of(np.nextafter(b, -np.inf))
    reps = m1 - m0 + 1
    idx = np.repeat(np.arange(len(sf)), reps)
    first = np.concatenate([[0], np.cumsum(reps)[:-1]])
    m = m0[idx] + (np.arange(len(idx)) - np.repeat(first, reps))
    ra = np.maximum(bounds[m], a[idx])
    rb = np.minimum(bounds[m + 1], b[idx])
    last = np.zeros(len(idx), dtype=bool)
    last[np.cumsum(reps) - 1] = True
    long = pd.DataFrame({
        "membership_id": sf["membership_id"].to_numpy()[idx],
        "customer_id": sf["customer_id"].to_numpy()[idx],
        "start": (ra - sday[idx]) / MONTH_DAYS,
        "stop": (rb - sday[idx]) / MONTH_DAYS,
        "event": (sf["event"].to_numpy()[idx] * last).astype(int),
    })
    cust = long["customer_id"].to_numpy()
    tv = []
    if "plan" in sf:
        check_in_set(sf, "plan", ["basic", "plus", "premium"], "memberships")
        plan = sf["plan"].to_numpy()[idx]
        long["plan"] = plan
        long["plan_plus"] = (plan == "plus").astype(int)
        long["plan_premium"] = (plan == "premium").astype(int)
    if customers is not None:
        check_frame(customers, "customers", required=["customer_id"])
        cinfo = customers.drop_duplicates("customer_id").set_index("customer_id")
        missing = ~pd.Index(np.unique(cust)).isin(cinfo.index)
        if missing.any():
            raise DataValidationError(f"{int(missing.sum())} member(s) are not in customers",
                                      fix="pass the customers table of the same world")
        if "loyalty_member" in cinfo:
            long["loyalty_member"] = cinfo["loyalty_member"].reindex(cust).astype(int).to_numpy()
        if "branch_id" in cinfo:
            long["branch_id"] = cinfo["branch_id"].reindex(cust).to_numpy()
    if tickets is not None:
        check_frame(tickets, "tickets", required=["customer_id", "opened_at", "type"])
        opened = check_dates(tickets, "opened_at", "tickets")
        comp = tickets["type"].to_numpy() == "complaint"
        tday = _days(opened, ws)
        inside = comp & (tday >= 0) & (tday < bounds[-1])
        K = n_months + complaint_months + 2
        ckeys = np.unique(tickets["customer_id"].to_numpy()[inside].astype(np.int64) * K
                          + month_of(tday[inside]) + complaint_months)
        rc = np.zeros(len(long), dtype=bool)
        base = cust.astype(np.int64) * K + m + complaint_months
        for j in range(1, complaint_months + 1):
            rc |= np.isin(base - j, ckeys)
        long["recent_complaint"] = rc.astype(int)
        tv.append("recent_complaint")
    if branches is not None:
        if customers is None or "branch_id" not in long:
            raise ParameterError("crm_live needs customers (with branch_id) as well as branches",
                                 fix="pass customers=datasets.load('customers')")
        check_frame(branches, "branches", required=["branch_id", "crm_golive_date"])
        gl = check_dates(branches, "crm_golive_date", "branches", allow_nat=True)
        gday = _days(gl, ws)
        gm = np.where(np.isnan(gday), np.iinfo(np.int32).max,
                      np.searchsorted(bounds, np.nan_to_num(gday, nan=0.0), side="left"))
        gmap = pd.Series(gm, index=branches["branch_id"].to_numpy())
        gm_row = gmap.reindex(long["branch_id"].to_numpy()).fillna(np.iinfo(np.int32).max).to_numpy()
        long["crm_live"] = (m >= gm_row).astype(int)
        tv.append("crm_live")
    if campaigns is not None:
        check_frame(campaigns, "campaigns", required=["customer_id", "treatment", "assigned_date"])
        check_binary(campaigns, "treatment", "campaigns")
        ad = check_dates(campaigns, "assigned_date", "campaigns")
        treated = campaigns.loc[campaigns["treatment"].astype(int) == 1]
        aday = _days(ad, ws)
        am = np.where(aday < bounds[-1], month_of(aday), np.nan)  # offers after the window: none yet
        cm = pd.Series(am[campaigns["treatment"].astype(int).to_numpy() == 1],
                       index=treated["customer_id"].to_numpy())
        cm = cm[~cm.index.duplicated()]
        c_row = cm.reindex(cust).to_numpy(dtype=float)
        long["campaign_offer"] = ((m >= c_row) & (m < c_row + campaign_months)).astype(int)
        tv.append("campaign_offer")
    if survey is not None:
        items = list(survey_items)
        check_frame(survey, "survey", required=["customer_id", "response_date", *items],
                    numeric=items, no_nan=items)
        rd = check_dates(survey, "response_date", "survey")
        score = survey[items].mean(axis=1)
        z = (score - score.mean()) / score.std(ddof=0)
        sv = pd.DataFrame({"customer_id": survey["customer_id"].to_numpy(),
                           "month": month_of(_days(rd, ws)), "z": z.to_numpy()})
        sv = sv.sort_values(["customer_id", "month"]).drop_duplicates(["customer_id", "month"], keep="last")
        key = pd.DataFrame({"customer_id": cust, "month": m, "_row": np.arange(len(long))})
        merged = pd.merge_asof(key.sort_values("month"), sv.sort_values("month"), on="month",
                               by="customer_id", direction="backward").sort_values("_row")
        long["survey_satisfaction"] = merged["z"].to_numpy()
        tv.append("survey_satisfaction")
    month_starts = pd.date_range(ws.to_period("M").to_timestamp(), periods=n_months, freq="MS")
    long["month"] = month_starts[m]
    long["_m"] = m
    if survey is not None:
        long = long.loc[long["survey_satisfaction"].notna()].reset_index(drop=True)
    if collapse and len(long):
        spell = long["membership_id"].to_numpy()
        change = np.ones(len(long), dtype=bool)
        change[1:] = (spell[1:] != spell[:-1]) | (long["start"].to_numpy()[1:] != long["stop"].to_numpy()[:-1])
        for c in tv:
            v = long[c].to_numpy()
            change[1:] |= v[1:] != v[:-1]
        g_first = np.flatnonzero(change)
        g_last = np.concatenate([g_first[1:] - 1, [len(long) - 1]])
        stop_last = long["stop"].to_numpy()[g_last]
        ev_last = long["event"].to_numpy()[g_last]
        long = long.iloc[g_first].reset_index(drop=True)
        long["stop"] = stop_last
        long["event"] = ev_last
    long = long.drop(columns="_m")
    long.attrs.update({"window_start": str(ws.date()), "window_end": str(we.date()),
                       "time_varying": tv, "legacy_complaints": legacy_complaints})
    return long


def split_spells(frame: pd.DataFrame, width: float = 1.0, *, entry: str | None = "entry",
                 duration: str = "duration", event: str = "event") -> pd.DataFrame:
    """Cut one-row-per-spell data into ``(start, stop]`` rows on a tenure grid of ``width`` months.

    The episodic format that :func:`add_time_interaction` needs for a spell-level covariate
    (every other column is copied to each row; ``event`` is 1 only on a churned spell's last
    row). Entry (left truncation) is honoured: the first row starts at ``entry``.

    >>> d = pd.DataFrame({"entry": [0.0, 1.5], "duration": [2.5, 3.0], "event": [1, 0], "x": [1, 0]})
    >>> split_spells(d)[["start", "stop", "event", "x"]].values.tolist()
    [[0.0, 1.0, 0.0, 1.0], [1.0, 2.0, 0.0, 1.0], [2.0, 2.5, 1.0, 1.0], [1.5, 2.0, 0.0, 0.0], [2.0, 3.0, 0.0, 0.0]]
    """
    entry_col = entry if (entry is not None and entry in frame) else None
    _check_survival_columns(frame, "frame", entry_col, duration, event)
    check_scalar(width, "width", numbers.Real, 0, low_inclusive=False)
    t0 = frame[entry_col].to_numpy(dtype=float) if entry_col else np.zeros(len(frame))
    t1 = frame[duration].to_numpy(dtype=float)
    k0 = np.floor(t0 / width).astype(np.int64)
    k1 = np.ceil(t1 / width).astype(np.int64) - 1
    reps = k1 - k0 + 1
    idx = np.repeat(np.arange(len(frame)), reps)
    first = np.concatenate([[0], np.cumsum(reps)[:-1]])
    k = k0[idx] + (np.arange(len(idx)) - np.repeat(first, reps))
    start = np.maximum(k * width, t0[idx])
    stop = np.minimum((k + 1) * width, t1[idx])
    last = np.zeros(len(idx), dtype=bool)
    last[np.cumsum(reps) - 1] = True
    drop = [c for c in (entry_col, duration, event) if c]
    out = frame.drop(columns=drop).iloc[idx].reset_index(drop=True)
    out.insert(0, "start", start)
    out.insert(1, "stop", stop)
    out.insert(2, "event", (frame[event].to_numpy()[idx] * last).astype(int))
    return out


def add_time_interaction(long: pd.DataFrame, covariates, transform: str = "log",
                         time: str = "stop") -> pd.DataFrame:
    """Add ``<cov>_x_<transform>_t`` = covariate x f(tenure) columns (a PH remedy).

    A hazard ratio that drifts with tenure breaks proportional hazards; modelling
    ``beta(t) = beta + gamma * f(t)`` with f = log (or ``"linear"``) fixes it. The interaction
    is evaluated at each row's ``stop``, so keep the rows short: :func:`split_spells` or
    ``start_stop_frame(..., collapse=False)`` (monthly rows).

    >>> d = pd.DataFrame({"start": [0.0, 1.0], "stop": [1.0, 2.0], "plan_premium": [1, 1]})
    >>> add_time_interaction(d, "plan_premium")["plan_premium_x_log_t"].round(3).tolist()
    [0.0, 0.693]
    """
    covs = _as_list(covariates)
    check_frame(long, "long", required=[time, *covs], numeric=[time, *covs], no_nan=[time, *covs])
    funcs = {"log": np.log, "linear": lambda t: t}
    if transform not in funcs:
        raise ParameterError(f"transform must be 'log' or 'linear', got {transform!r}",
                             fix="use transform='log' (the usual choice) or 'linear'")
    t = long[time].to_numpy(dtype=float)
    if transform == "log" and (t <= 0).any():
        raise DataValidationError(f"long[{time!r}] has values <= 0; log(t) is undefined",
                                  fix="use transform='linear' or drop zero-length rows")
    out = long.copy()
    ft = funcs[transform](t)
    for c in covs:
        out[f"{c}_x_{transform}_t"] = out[c].to_numpy(dtype=float) * ft
    return out


# ----------------------------------------------------------------------------------------------
# Kaplan-Meier curves, log-rank test, RMST
# ----------------------------------------------------------------------------------------------
def _at_risk_counts(entry, stop, times):
    """Number with entry < t <= stop at each t (sorted-array counts)."""
    s_stop = np.sort(stop)
    n = len(stop) - np.searchsorted(s_stop, times, side="left")
    if entry is not None:
        s_entry = np.sort(entry)
        n = n - (len(entry) - np.searchsorted(s_entry, times, side="left"))
    return n.astype(float)


def logrank_test(
    frame: pd.DataFrame,
    by: str,
    *,
    duration: str = "duration",
    event: str = "event",
    entry: str | None = "entry",
) -> pd.DataFrame:
    """Log-rank test that the churn hazards of the ``by`` groups are equal (delayed entry).

    The risk set at each event time holds the spells with ``entry < t <= duration``, so
    left-truncated spells are at risk only after they entered observation (lifelines'
    log-rank functions have no entry argument). Without ``entry`` the result equals
    ``lifelines.statistics.multivariate_logrank_test``.

    Returns one row per group (``n``, ``observed``, ``expected`` events) with the test's
    ``chi2``, ``df`` and ``p_value`` in ``.attrs`` and repeated in every row.

    >>> d = pd.DataFrame({"duration": [1, 2, 3, 4, 5, 6], "event": [1, 1, 1, 0, 1, 0],
    ...                   "plan": ["a", "a", "a", "b", "b", "b"]})
    >>> round(logrank_test(d, "plan", entry=None).attrs["p_value"], 3)
    0.025
    """
    entry_col = entry if (entry is not None and entry in frame) else None
    if entry is not None and entry not in frame and entry != "entry":
        raise ColumnError(f"frame has no entry column {entry!r}", fix="pass entry=None for no truncation")
    _check_survival_columns(frame, "frame", entry_col, duration, event)
    require_columns(frame, [by], "frame")
    check_no_nan(frame, by, "frame")
    groups = frame[by].to_numpy()
    labels = pd.unique(groups)
    if len(labels) < 2:
        raise DataValidationError(f"frame[{by!r}] has a single group ({labels[0]!r}); a log-rank "
                                  "test compares at least two", fix="choose a column with 2+ groups")
    stop = frame[duration].to_numpy(dtype=float)
    ev = frame[event].to_numpy().astype(bool)
    ent = frame[entry_col].to_numpy(dtype=float) if entry_col else None
    times = np.unique(stop[ev])
    n_g, d_g = [], []
    for g in labels:
        sel = groups == g
        n_g.append(_at_risk_counts(None if ent is None else ent[sel], stop[sel], times))
        dd = np.zeros(len(times))
        np.add.at(dd, np.searchsorted(times, stop[sel & ev]), 1.0)
        d_g.append(dd)
    n_g, d_g = np.array(n_g), np.array(d_g)
    n, d = n_g.sum(0), d_g.sum(0)
    ok = n > 0
    n_g, d_g, n, d = n_g[:, ok], d_g[:, ok], n[ok], d[ok]
    expected = (d * n_g / n).sum(1)
    observed = d_g.sum(1)
    f = np.where(n > 1, d * (n - d) / np.maximum(n - 1, 1), 0.0) / n
    V = np.diag((f * n_g).sum(1)) - (f / n * n_g) @ n_g.T
    k = len(labels) - 1
    z = (observed - expected)[:k]
    chi2 = float(z @ np.linalg.solve(V[:k, :k], z))
    p = float(stats.chi2.sf(chi2, k))
    out = pd.DataFrame({by: labels, "n": [int((groups == g).sum()) for g in labels],
                        "observed": observed, "expected": expected,
                        "chi2": chi2, "df": k, "p_value": p})
    out.attrs.update({"chi2": chi2, "df": k, "p_value": p})
    return out


class RetentionCurves:
    """Kaplan-Meier retention curves (留存曲线) by segment, with confidence bands.

    Wraps ``lifelines.KaplanMeierFitter`` (which accepts delayed entry). After ``fit``:
    ``fitters_`` (group -> fitted KM), ``medians_`` (median tenure with CI per group),
    ``logrank_`` (log-rank test across groups, delayed entry honoured, or ``None``).

    >>> d = pd.DataFrame({"duration": [2.0, 3, 5, 8, 9, 12], "event": [1, 1, 0, 1, 1, 0]})
    >>> rc = RetentionCurves().fit(d, entry=None)
    >>> float(rc.medians_["median"].iloc[0])
    8.0
    """

    def __init__(self, alpha: float = 0.05):
        self.alpha = check_probability(alpha, "alpha", open_interval=True)

    def fit(self, frame: pd.DataFrame, by: str | None = None, *, duration: str = "duration",
            event: str = "event", entry: str | None = "entry") -> RetentionCurves:
        from lifelines import KaplanMeierFitter

        entry_col = entry if (entry is not None and entry in frame) else None
        if entry is not None and entry_col is None and entry != "entry":
            raise ColumnError(f"frame has no entry column {entry!r}", fix="pass entry=None")
        _check_survival_columns(frame, "frame", entry_col, duration, event)
        if by is not None:
            require_columns(frame, [by], "frame")
            check_no_nan(frame, by, "frame")
            keys = sorted(pd.unique(frame[by]), key=str)
        else:
            keys = ["all"]
        self.by_, self.duration_, self.event_, self.entry_ = by, duration, event, entry_col
        self.fitters_, rows = {}, []
        for key in keys:
            sub = frame if by is None else frame.loc[frame[by] == key]
            kmf = KaplanMeierFitter(alpha=self.alpha, label=str(key))
            kmf.fit(sub[duration], sub[event], entry=None if entry_col is None else sub[entry_col])
            self.fitters_[key] = kmf
            lo, hi = _km_median_ci(kmf)
            rows.append({"group": key, "n": len(sub), "events": int(sub[event].sum()),
                         "median": float(kmf.median_survival_time_), "median_lower": lo,
                         "median_upper": hi})
        self.medians_ = pd.DataFrame(rows).set_index("group")
        self.logrank_ = (logrank_test(frame, by, duration=duration, event=event, entry=entry_col)
                         if by is not None and len(keys) > 1 else None)
        return self

    def _check(self):
        check_fitted(self, "fitters_", "fit(frame)")

    def survival_at(self, times) -> pd.DataFrame:
        """Survival (retention) probability with CI at the given tenures, one row per group."""
        self._check()
        times = np.atleast_1d(np.asarray(times, dtype=float))
        rows = []
        for key, kmf in self.fitters_.items():
            ci = kmf.confidence_interval_survival_function_
            for t in times:
                rows.append({"group": key, "time": t, "survival": float(kmf.predict(t)),
                             "lower": float(ci.iloc[:, 0].asof(t)), "upper": float(ci.iloc[:, 1].asof(t))})
        return pd.DataFrame(rows)

    def rmst(self, tau: float) -> pd.DataFrame:
        """Restricted mean survival time (限制平均生存时间) up to ``tau`` months, with SE and CI.

        RMST(tau) = area under the KM curve from 0 to tau = expected months of membership
        within the first tau months. Variance by the Greenwood-type formula
        sum_k A_k^2 d_k / (n_k (n_k - d_k)), A_k = area under the curve from t_k to tau.
        """
        self._check()
        check_scalar(tau, "tau", numbers.Real, 0, low_inclusive=False)
        z = stats.norm.ppf(1 - self.alpha / 2)
        rows = []
        for key, kmf in self.fitters_.items():
            mean, var = _km_rmst(kmf, float(tau))
            se = np.sqrt(var)
            rows.append({"group": key, "tau": float(tau), "rmst": mean, "se": se,
                         "lower": mean - z * se, "upper": mean + z * se})
        return pd.DataFrame(rows).set_index("group")

    def plot(self, ax=None, ci: bool = True, title: str = "Retention curves (Kaplan-Meier)",
             at_risk: bool = False):
        """Retention curves with confidence bands; returns the Axes."""
        self._check()
        from . import plots

        if ax is None:
            _, ax = plots.subplots()
        for kmf in self.fitters_.values():
            kmf.plot_survival_function(ax=ax, ci_show=ci)
        ax.set_ylim(0, 1.02)
        plots.finish(ax, title=title, xlabel="tenure (months)", ylabel="share still a member")
        if at_risk:
            from lifelines.plotting import add_at_risk_counts

            add_at_risk_counts(*self.fitters_.values(), ax=ax)
        return ax


def _km_median_ci(kmf) -> tuple[float, float]:
    from lifelines.utils import median_survival_times

    ci = median_survival_times(kmf.confidence_interval_survival_function_)
    return float(ci.iloc[0, 0]), float(ci.iloc[0, 1])


def _km_rmst(kmf, tau: float) -> tuple[float, float]:
    sf = kmf.survival_function_.iloc[:, 0]
    t = sf.index.to_numpy(dtype=float)
    s = sf.to_numpy(dtype=float)
    keep = t < tau
    t, s = t[keep], s[keep]
    if len(t) == 0 or t[0] > 0:
        t, s = np.concatenate([[0.0], t]), np.concatenate([[1.0], s])
    widths = np.diff(np.concatenate([t, [tau]]))
    area = s * widths
    mean = float(area.sum())
    et = kmf.event_table
    ev_t = et.index.to_numpy(dtype=float)
    d = et["observed"].to_numpy(dtype=float)
    n = et["at_risk"].to_numpy(dtype=float)
    sel = (d > 0) & (ev_t < tau) & (n > d)
    # A_k: area under the curve from t_k to tau
    tail = np.cumsum(area[::-1])[::-1]
    pos = np.searchsorted(t, ev_t[sel], side="left")
    A = tail[pos]
    var = float(np.sum(A ** 2 * d[sel] / (n[sel] * (n[sel] - d[sel]))))
    return mean, var


# ----------------------------------------------------------------------------------------------
# Cox proportional hazards: a vectorised Efron engine with delayed entry and strata
# ----------------------------------------------------------------------------------------------
def _suffix(x: np.ndarray) -> np.ndarray:
    """Suffix sums with a trailing zero: out[j] = x[j:].sum(axis=0)."""
    cs = np.cumsum(x[::-1], axis=0)[::-1]
    return np.concatenate([cs, np.zeros((1,) + x.shape[1:])], axis=0)


class _Stratum:
    """Orderings of one stratum, fixed across Newton steps (rows cover (start, stop])."""

    def __init__(self, rows, start, stop, event):
        self.rows = rows
        self.start, self.stop = start, stop
        ev = np.flatnonzero(event)
        times, k, d = np.unique(stop[ev], return_inverse=True, return_counts=True)
        order = np.argsort(k, kind="stable")
        self.ev, self.k = ev[order], k[order]
        self.times, self.d = times, d
        self.grp = np.concatenate([[0], np.cumsum(d)[:-1]]).astype(np.int64)
        rank = np.arange(len(ev)) - np.repeat(self.grp, d)
        self.c = rank / d[self.k]  # Efron: share of the tied deaths already removed
        self.o_stop = np.argsort(stop, kind="stable")
        self.o_start = np.argsort(start, kind="stable")
        self.j_stop = np.searchsorted(stop[self.o_stop], times, side="left")
        self.j_start = np.searchsorted(start[self.o_start], times, side="left")
        self.i_stop = np.searchsorted(times, stop, side="right")
        self.i_start = np.searchsorted(times, start, side="right")

    def risk_sums(self, w):
        """Sum of ``w`` over the risk set {start < t_k <= stop} at every event time t_k."""
        return _suffix(w[self.o_stop])[self.j_stop] - _suffix(w[self.o_start])[self.j_start]

    def efron(self, X, beta, need_hess=True):
        eta = X @ beta
        r = np.exp(eta)
        ev, k, c = self.ev, self.k, self.c
        S0 = self.risk_sums(r)
        rev = r[ev]
        D0 = np.add.reduceat(rev, self.grp)
        den = S0[k] - c * D0[k]
        if np.any(den <= 0):
            raise FloatingPointError("empty risk set")
        ll = float(eta[ev].sum() - np.log(den).sum())
        K = len(self.times)
        a = np.bincount(k, 1.0 / den, minlength=K)
        b = np.bincount(k, c / den, minlength=K)
        ca = np.concatenate([[0.0], np.cumsum(a)])
        A = ca[self.i_stop] - ca[self.i_start]
        Xe = X[ev]
        wb = rev * b[k]
        grad = Xe.sum(0) - (X.T @ (r * A) - Xe.T @ wb)
        if not need_hess:
            return ll, grad, None
        rX = r[:, None] * X
        S1 = self.risk_sums(rX)
        D1 = np.add.reduceat(rX[ev], self.grp, axis=0)
        U = (S1[k] - c[:, None] * D1[k]) / den[:, None]
        hess = -((X * (r * A)[:, None]).T @ X - (Xe * wb[:, None]).T @ Xe - U.T @ U)
        return ll, grad, hess


def _newton(strata_list, X, penalty, max_iter=100, tol=1e-9):
    """Maximise the (penalised) Efron partial log-likelihood; returns beta, hessian, ll, iters."""
    p = X.shape[1]
    beta = np.zeros(p)

    def total(b, need_hess=True):
        ll, g, h = 0.0, np.zeros(p), np.zeros((p, p))
        for st in strata_list:
            l_, g_, h_ = st.efron(X[st.rows], b, need_hess)
            ll += l_
            g += g_
            if need_hess:
                h += h_
        ll -= 0.5 * penalty * float(b @ b)
        g = g - penalty * b
        if need_hess:
            h = h - penalty * np.eye(p)
        return ll, g, h

    ll, g, h = total(beta)
    ll0 = ll
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(-h, g)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError("singular information matrix") from None
        t = 1.0
        while True:
            nb = beta + t * step
            try:
                nll, ng, nh = total(nb)
                ok = np.isfinite(nll) and nll >= ll - 1e-10 * max(1.0, abs(ll))
            except FloatingPointError:
                ok = False
            if ok or t < 1e-6:
                break
            t /= 2
        if not ok:
            raise FloatingPointError("line search failed")
        delta = np.max(np.abs(nb - beta))
        dll = abs(nll - ll)
        beta, ll, g, h = nb, nll, ng, nh
        if np.max(np.abs(beta)) > 15:
            return beta, h, ll, ll0, it, False
        # a coefficient running off to infinity keeps taking steps of about 1 while the
        # log-likelihood barely moves, so convergence needs a small step, not just a flat ll
        if delta < tol or (dll < 1e-12 * max(1.0, abs(ll)) and delta < 1e-4):
            return beta, h, ll, ll0, it, True
    return beta, h, ll, ll0, max_iter, False


class ChurnCox:
    """Cox proportional hazards model of membership churn (delayed entry, strata, time-varying).

    h_i(t) = h0(t) exp(x_i(t)' beta): each hazard ratio exp(beta_j) multiplies the churn
    hazard per unit of covariate j, at every tenure (proportional hazards). Fit it on
    :func:`survival_frame` output (one row per spell; ``entry``/``duration`` detected) or on
    :func:`start_stop_frame` output (``start``/``stop`` rows with time-varying covariates).
    Ties use Efron's method; the baseline cumulative hazard is Breslow's, at x = 0 (so
    with dummies it is the reference group's).

    Parameters
    ----------
    penalizer : float
        L2 penalty ``0.5 * penalizer * n_spells * sum(beta_std**2)`` on the coefficients of the
        standardised covariates (same as lifelines' ``CoxTimeVaryingFitter`` on one row per
        spell). Use it when a coefficient runs off to infinity (e.g. no churner in a small
        category) or covariates are nearly collinear.
    strata : str or list, optional
        Columns whose groups get their own baseline hazard (a PH remedy for a covariate
        whose effect changes with tenure and that you need not estimate).
    engine : {"crmlab", "lifelines"}
        ``"lifelines"`` fits the coefficients with ``CoxTimeVaryingFitter`` (slow, for
        cross-checks); the baseline and residuals always come from crmlab.

    Attributes (after ``fit``): ``params_``, ``standard_errors_``, ``variance_matrix_``,
    ``summary`` (hazard-ratio table with CIs), ``log_likelihood_``,
    ``log_likelihood_ratio_test_``, ``baseline_cumulative_hazard_`` (DataFrame, a column per
    stratum), ``n_spells_``, ``n_rows_``, ``n_events_``, ``concordance_`` (one-row-per-spell
    fits only), ``schoenfeld_`` (scaled Schoenfeld residuals).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> t = rng.exponential(1 / np.exp(0.7 * x))
    >>> d = pd.DataFrame({"duration": np.minimum(t, 2.0), "event": (t < 2.0).astype(int), "x": x})
    >>> m = ChurnCox().fit(d, ["x"], entry=None)
    >>> bool(m.summary.loc["x", "hr_lower"] < np.exp(0.7) < m.summary.loc["x", "hr_upper"])
    True
    """

    def __init__(self, penalizer: float = 0.0, alpha: float = 0.05, strata=None,
                 engine: str = "crmlab", max_iter: int = 100):
        self.penalizer = float(check_scalar(penalizer, "penalizer", numbers.Real, 0))
        self.alpha = check_probability(alpha, "alpha", open_interval=True)
        self.strata = _as_list(strata)
        if engine not in ("crmlab", "lifelines"):
            raise ParameterError(f"engine must be 'crmlab' or 'lifelines', got {engine!r}",
                                 fix="use engine='crmlab' (fast) or 'lifelines' (cross-check)")
        self.engine = engine
        self.max_iter = int(check_scalar(max_iter, "max_iter", numbers.Integral, 1))

    # -- fitting ------------------------------------------------------------------------------
    def _columns(self, frame, start, stop, entry):
        if stop is None:
            if "stop" in frame and "start" in frame:
                start, stop = "start", "stop"
            elif "duration" in frame:
                stop = "duration"
                start = entry if entry is not None and entry in frame else None
                if entry is not None and entry != "entry" and entry not in frame:
                    raise ColumnError(f"frame has no entry column {entry!r}", fix="pass entry=None")
            else:
                raise ColumnError("frame has neither start/stop nor duration columns",
                                  fix="build it with survival_frame() or start_stop_frame(), or "
                                      "pass stop= (and start=) column names")
        return start, stop

    def fit(self, frame: pd.DataFrame, covariates: Sequence[str] | None = None, *,
            start: str | None = None, stop: str | None = None, event: str = "event",
            entry: str | None = "entry", id: str = "membership_id") -> ChurnCox:  # noqa: A002
        """Fit on ``frame``; ``covariates`` default to every numeric column not used otherwise."""
        start, stop = self._columns(frame, start, stop, entry)
        reserved = {c for c in (start, stop, event, id, "customer_id", *self.strata) if c}
        if covariates is None:
            covariates = [c for c in frame.columns if c not in reserved
                          and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
                          and c not in ("entry", "duration", "left_truncated")]
        covariates = _as_list(covariates)
        if not covariates:
            raise ParameterError("no covariates to fit", fix="pass covariates=[...] (numeric columns)")
        dup = [c for c in covariates if c in reserved]
        if dup:
            raise ParameterError(f"covariates {dup} are also the time/event/id/strata columns",
                                 fix="remove them from covariates")
        _check_survival_columns(frame, "frame", start, stop, event, covariates)
        if self.strata:
            require_columns(frame, self.strata, "frame")
            check_no_nan(frame, self.strata, "frame")
        n = len(frame)
        X = frame[covariates].to_numpy(dtype=float)
        t1 = frame[stop].to_numpy(dtype=float)
        t0 = frame[start].to_numpy(dtype=float) if start else np.zeros(n)
        ev = frame[event].to_numpy().astype(bool)
        self.n_spells_ = int(frame[id].nunique()) if id in frame else n
        self.n_rows_, self.n_events_ = n, int(ev.sum())
        mean, sd = X.mean(0), X.std(0, ddof=1) if n > 1 else np.ones(X.shape[1])
        sd = np.where(sd > 0, sd, 1.0)
        Xs = (X - mean) / sd
        codes = (frame.groupby(self.strata, sort=True).ngroup().to_numpy() if self.strata
                 else np.zeros(n, dtype=int))
        self._strata_keys = (list(frame.groupby(self.strata, sort=True).groups.keys())
                             if self.strata else ["baseline"])
        strata_list = []
        for g in range(codes.max() + 1):
            rows = np.flatnonzero(codes == g)
            strata_list.append(_Stratum(rows, t0[rows], t1[rows], ev[rows]))
        self.covariates_ = covariates
        self._mean, self._sd = mean, sd
        penalty = self.penalizer * self.n_spells_
        if self.engine == "lifelines":
            beta_s = self._fit_lifelines(frame, covariates, start, stop, event, Xs)
            ll, _, hess = _newton_eval(strata_list, Xs, beta_s, penalty)
            ll0, iters, converged = None, 0, True
        else:
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    beta_s, hess, ll, ll0, iters, converged = _newton(
                        strata_list, Xs, penalty, self.max_iter)
            except (np.linalg.LinAlgError, FloatingPointError) as err:
                raise ConvergenceError(
                    f"the Cox fit failed ({err}): covariates {covariates} may be collinear or "
                    "perfectly separate churners from stayers", fix=_PENALIZER_FIX) from None
            if not converged:
                worst = covariates[int(np.argmax(np.abs(beta_s)))]
                raise ConvergenceError(
                    f"the Cox fit did not converge: the coefficient of {worst!r} runs off to "
                    f"{'-' if beta_s[covariates.index(worst)] < 0 else '+'}infinity (monotone "
                    "likelihood: for example, no churn event in one of its categories)",
                    fix=_PENALIZER_FIX)
        info = -hess
        cond = np.linalg.cond(info)
        if not np.isfinite(cond) or cond > 1e12:
            raise ConvergenceError(
                f"the information matrix is singular (condition number {cond:.3g}): some of "
                f"{covariates} are (nearly) collinear, e.g. dummies of every category",
                fix="drop one dummy per categorical variable (a reference category) or "
                    + _PENALIZER_FIX)
        V_s = np.linalg.inv(info)
        beta = beta_s / sd
        V = V_s / np.outer(sd, sd)
        self.params_ = pd.Series(beta, index=covariates, name="coef")
        self.variance_matrix_ = pd.DataFrame(V, index=covariates, columns=covariates)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(V)), index=covariates, name="se")
        self.log_likelihood_ = float(ll + 0.5 * penalty * beta_s @ beta_s)
        null_ll = _newton_eval(strata_list, Xs, np.zeros(len(covariates)), 0)[0] if ll0 is None else ll0
        lr = 2 * (self.log_likelihood_ - null_ll)
        self.log_likelihood_ratio_test_ = {"statistic": float(lr), "df": len(covariates),
                                           "p_value": float(stats.chi2.sf(lr, len(covariates)))}
        self.n_iter_, self.converged_ = iters, converged
        self._fit_baseline_and_residuals(strata_list, Xs, beta_s, t1, ev, codes)
        # Harrell's C needs one row per spell; computed on first access (about 1 s per 100k rows)
        one_row = start is None or np.all(t0 == 0) or id not in frame or frame[id].is_unique
        self._concordance_data = (t1, X @ beta, ev) if one_row and ev.any() else None
        self._concordance = None
        self._cols = {"start": start, "stop": stop, "event": event}
        self._km_data = (t0, t1, ev)
        return self

    def _fit_lifelines(self, frame, covariates, start, stop, event, Xs):
        from lifelines import CoxTimeVaryingFitter
        from lifelines.exceptions import ConvergenceError as LLConvergenceError

        d = pd.DataFrame(Xs, columns=covariates)
        d["_start"] = frame[start].to_numpy(dtype=float) if start else 0.0
        d["_stop"] = frame[stop].to_numpy(dtype=float)
        d["_event"] = frame[event].to_numpy().astype(int)
        d["_id"] = np.arange(len(d))
        for col in self.strata:
            d[col] = frame[col].to_numpy()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # lifelines penalises n_rows * penalizer / 2 * |beta_std|^2; match ours
                ctv = CoxTimeVaryingFitter(penalizer=self.penalizer * self.n_spells_ / len(d))
                ctv.fit(d, id_col="_id", event_col="_event", start_col="_start", stop_col="_stop",
                        strata=self.strata or None)
        except (LLConvergenceError, np.linalg.LinAlgError) as err:
            raise ConvergenceError(f"lifelines' CoxTimeVaryingFitter did not converge ({err})",
                                   fix=_PENALIZER_FIX) from None
        return ctv.params_.reindex(covariates).to_numpy()

    def _fit_baseline_and_residuals(self, strata_list, Xs, beta_s, t1, ev, codes):
        offset = float(self._mean @ (beta_s / self._sd))  # x'beta = xs'beta_s + mean'beta
        cols, times_all = {}, []
        resid_rows, resid_times, resid_strata = [], [], []
        for key, st in zip(self._strata_keys, strata_list, strict=True):
            Xg = Xs[st.rows]
            r = np.exp(Xg @ beta_s)
            S0 = st.risk_sums(r)
            h = st.d / S0 * np.exp(-offset)  # Breslow increments at x = 0
            cols[key] = pd.Series(np.cumsum(h), index=st.times)
            times_all.append(st.times)
            S1 = st.risk_sums(r[:, None] * Xg)
            xbar = S1 / S0[:, None]
            resid_rows.append(Xg[st.ev] - xbar[st.k])
            resid_times.append(st.times[st.k])
            resid_strata.append(np.full(len(st.ev), len(resid_strata)))
        grid = np.unique(np.concatenate(times_all)) if times_all else np.array([])
        bch = pd.DataFrame({k: s.reindex(grid).ffill().fillna(0.0) for k, s in cols.items()},
                           index=grid)
        bch.index.name = "tenure"
        self.baseline_cumulative_hazard_ = bch
        # scaled Schoenfeld residuals on the original scale (Grambsch & Therneau)
        raw = np.concatenate(resid_rows)  # standardised units
        V_s = self.variance_matrix_.to_numpy() * np.outer(self._sd, self._sd)
        scaled_s = len(raw) * raw @ V_s + beta_s
        scaled = scaled_s / self._sd
        rt = np.concatenate(resid_times)
        order = np.argsort(rt, kind="stable")
        self.schoenfeld_ = pd.DataFrame(scaled[order], columns=self.covariates_)
        self.schoenfeld_.insert(0, "time", rt[order])
        self._raw_resid = raw[order]

    # -- results ----------------------------------------------------------------------------
    @property
    def concordance_(self) -> float:
        """Harrell's C-index of the fitted risk on the training spells (NaN for start-stop data)."""
        self._check()
        if self._concordance is None:
            d = self._concordance_data
            self._concordance = np.nan if d is None else concordance(*d)
        return self._concordance

    def _check(self):
        check_fitted(self, "params_", "fit(frame, covariates)")

    @property
    def summary(self) -> pd.DataFrame:
        """Hazard-ratio table: coef, hr = exp(coef), se, CI of the HR, z, p-value."""
        self._check()
        z = stats.norm.ppf(1 - self.alpha / 2)
        b, se = self.params_, self.standard_errors_
        out = pd.DataFrame({"coef": b, "hr": np.exp(b), "se": se,
                            "hr_lower": np.exp(b - z * se), "hr_upper": np.exp(b + z * se),
                            "z": b / se, "p_value": 2 * stats.norm.sf(np.abs(b / se))})
        out.index.name = "covariate"
        return out

    def check_proportional_hazards(self, transform: str = "rank") -> pd.DataFrame:
        """Schoenfeld-residual test of proportional hazards, one row per covariate.

        Regresses the scaled Schoenfeld residuals on a transform of event time (``"rank"``,
        ``"log"``, ``"identity"`` or ``"km"``), the Grambsch-Therneau approximation that
        lifelines' ``proportional_hazard_test`` uses; a small p-value says the covariate's
        hazard ratio drifts with tenure. Remedies: ``strata=[col]`` or a time interaction
        (:func:`add_time_interaction`).
        """
        self._check()
        t = self.schoenfeld_["time"].to_numpy()
        if transform == "rank":
            g = np.arange(1, len(t) + 1, dtype=float)
        elif transform == "log":
            g = np.log(t)
        elif transform == "identity":
            g = t.astype(float)
        elif transform == "km":
            from lifelines import KaplanMeierFitter

            t0, t1, ev = self._km_data
            km = KaplanMeierFitter().fit(t1, ev, entry=t0)
            g = 1 - km.predict(t).to_numpy()
        else:
            raise ParameterError(f"transform must be rank/log/identity/km, got {transform!r}",
                                 fix="use transform='rank' (lifelines' default)")
        gd = g - g.mean()
        resid = self.schoenfeld_[self.covariates_].to_numpy()
        T = (gd @ resid) ** 2 / (len(t) * self.standard_errors_.to_numpy() ** 2 * (gd ** 2).sum())
        p = stats.chi2.sf(T, 1)
        out = pd.DataFrame({"test_statistic": T, "p_value": p,
                            "ph_violated_5pct": p < 0.05}, index=pd.Index(self.covariates_, name="covariate"))
        out.attrs["transform"] = transform
        return out

    def plot_schoenfeld(self, covariate: str, ax=None, frac: float = 0.3):
        """Scaled Schoenfeld residuals of ``covariate`` against tenure with a lowess smooth.

        A flat smooth at the estimated coefficient supports proportional hazards; a trend
        shows how the log hazard ratio changes with tenure.
        """
        self._check()
        if covariate not in self.covariates_:
            raise ParameterError(f"{covariate!r} is not a covariate of this model",
                                 fix=f"choose one of {self.covariates_}")
        from statsmodels.nonparametric.smoothers_lowess import lowess

        from . import plots

        if ax is None:
            _, ax = plots.subplots()
        t = self.schoenfeld_["time"].to_numpy()
        y = self.schoenfeld_[covariate].to_numpy()
        ax.scatter(t, y, s=6, alpha=0.3, color=plots.PALETTE[0], label="scaled residual")
        sm = lowess(y, t, frac=frac, it=0, return_sorted=True)  # it=0: binary covariates are bimodal
        ax.plot(sm[:, 0], sm[:, 1], color=plots.PALETTE[1], lw=2, label="lowess smooth")
        ax.axhline(self.params_[covariate], color="k", ls="--", lw=1, label="estimated coef")
        lo, hi = np.quantile(y, [0.02, 0.98])
        ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        return plots.finish(ax, title=f"Schoenfeld residuals: {covariate}", xlabel="tenure (months)",
                            ylabel="beta(t) estimate")

    def plot_hazard_ratios(self, ax=None, truth: dict | None = None):
        """Forest plot of hazard ratios with CIs (log scale); ``truth`` = planted HRs."""
        self._check()
        import matplotlib.ticker

        from . import plots

        s = self.summary
        if ax is None:
            _, ax = plots.subplots()
        y = np.arange(len(s))[::-1]
        ax.errorbar(s["hr"], y, xerr=[s["hr"] - s["hr_lower"], s["hr_upper"] - s["hr"]], fmt="o",
                    color=plots.PALETTE[0], capsize=3, label="estimate (95% CI)")
        if truth:
            tv = [truth.get(c, np.nan) for c in s.index]
            ax.scatter(tv, y, marker="x", color=plots.PALETTE[3], zorder=3, s=50, label="planted")
        ax.axvline(1, color="k", lw=0.8)
        ax.set_xscale("log")
        lo = float(min(s["hr_lower"].min(), *(v for v in (truth or {}).values())) if truth else s["hr_lower"].min())
        hi = float(max(s["hr_upper"].max(), *(v for v in (truth or {}).values())) if truth else s["hr_upper"].max())
        ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10) if lo / 1.2 <= t <= hi * 1.2]
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_yticks(y)
        ax.set_yticklabels(s.index)
        return plots.finish(ax, title="Hazard ratios of churn", xlabel="hazard ratio (log scale)")

    # -- prediction -----------------------------------------------------------------------------
    def predict_log_hazard(self, X: pd.DataFrame) -> pd.Series:
        """x' beta (log hazard ratio relative to x = 0)."""
        self._check()
        check_frame(X, "X", required=self.covariates_, numeric=self.covariates_, no_nan=self.covariates_)
        return pd.Series(X[self.covariates_].to_numpy(dtype=float) @ self.params_.to_numpy(),
                         index=X.index, name="log_hazard")

    def predict_partial_hazard(self, X: pd.DataFrame) -> pd.Series:
        """exp(x' beta): the churn hazard relative to a customer with x = 0."""
        return np.exp(self.predict_log_hazard(X)).rename("partial_hazard")

    def baseline_cumulative_hazard_at(self, t, stratum=None) -> np.ndarray:
        """H0(t) at arbitrary tenures: Breslow steps, extended beyond the last event time by a
        Weibull tail fitted to the baseline (see :meth:`weibull_baseline`)."""
        self._check()
        key = self._strata_keys[0] if stratum is None else stratum
        if key not in self.baseline_cumulative_hazard_:
            raise ParameterError(f"unknown stratum {key!r}", fix=f"use one of {self._strata_keys}")
        H = self.baseline_cumulative_hazard_[key]
        t = np.asarray(t, dtype=float)
        idx = np.searchsorted(H.index.to_numpy(), t, side="right") - 1
        vals = np.where(idx >= 0, H.to_numpy()[np.clip(idx, 0, None)], 0.0)
        tmax = float(H.index[-1])
        beyond = t > tmax
        if beyond.any():
            shape = self.weibull_baseline(stratum=key)["shape"]
            vals = np.where(beyond, H.iloc[-1] * (np.maximum(t, tmax) / tmax) ** shape, vals)
        return vals

    def weibull_baseline(self, stratum=None, min_time: float = 1.0) -> dict:
        """Fit H0(t) = (t / scale)^shape to the Breslow baseline (least squares on log-log).

        With the planted Weibull baseline this recovers the generator's shape and scale.
        """
        self._check()
        key = self._strata_keys[0] if stratum is None else stratum
        H = self.baseline_cumulative_hazard_[key]
        H = H[(H.index >= min_time) & (H > 0)]
        if len(H) < 3:
            raise DataValidationError("too few event times to fit a Weibull baseline",
                                      fix="lower min_time or use more data")
        lt, lh = np.log(H.index.to_numpy(dtype=float)), np.log(H.to_numpy())
        shape, icpt = np.polyfit(lt, lh, 1)
        return {"shape": float(shape), "scale": float(np.exp(-icpt / shape))}

    def _strata_of(self, X):
        if not self.strata:
            return np.full(len(X), self._strata_keys[0], dtype=object)
        require_columns(X, self.strata, "X")
        keys = list(X[self.strata].itertuples(index=False, name=None))
        return np.array([k[0] if len(self.strata) == 1 else k for k in keys], dtype=object)

    def predict_survival(self, X: pd.DataFrame, times, conditional_after=None) -> pd.DataFrame:
        """S(t | x) at ``times`` (rows: X's index, columns: times), holding x fixed.

        ``conditional_after`` (scalar or one value per row) gives S(t | x, T > a) =
        S(t | x) / S(a | x) for t >= a: the retention outlook of a member who has already
        stayed a months. Time-varying covariates are held at their current values.
        """
        self._check()
        times = np.atleast_1d(np.asarray(times, dtype=float))
        if np.any(times < 0):
            raise ParameterError("times must be >= 0", fix="pass tenures in months, e.g. [6, 12, 24]")
        lp = self.predict_partial_hazard(X).to_numpy()
        strata = self._strata_of(X)
        out = np.empty((len(X), len(times)))
        a = None
        if conditional_after is not None:
            a = np.broadcast_to(np.asarray(conditional_after, dtype=float), (len(X),))
            if np.any(a < 0):
                raise ParameterError("conditional_after must be >= 0", fix="pass current tenures")
        for key in pd.unique(strata):
            sel = strata == key
            H = self.baseline_cumulative_hazard_at(times, key)
            Ht = np.outer(lp[sel], H)
            if a is not None:
                Ha = self.baseline_cumulative_hazard_at(a[sel], key) * lp[sel]
                Ht = np.maximum(Ht - Ha[:, None], 0.0)
            out[sel] = np.exp(-Ht)
        return pd.DataFrame(out, index=X.index, columns=times)

    def predict_survival_ahead(self, X: pd.DataFrame, tenure, months) -> pd.DataFrame:
        """P(still a member ``months`` from now | stayed ``tenure`` months so far, x).

        S(a + u | x) / S(a | x) for each row's own tenure a (scalar or one per row) and each
        u in ``months`` (columns). Covariates are held at their current values; beyond the
        last observed tenure the baseline follows the Weibull tail.
        """
        self._check()
        check_frame(X, "X", required=self.covariates_, numeric=self.covariates_, no_nan=self.covariates_)
        a = np.broadcast_to(np.asarray(tenure, dtype=float), (len(X),)).copy()
        if np.any(~np.isfinite(a)) or np.any(a < 0):
            raise ParameterError("tenure must be finite and >= 0 (months already stayed)",
                                 fix="pass each member's current tenure in months")
        u = np.atleast_1d(np.asarray(months, dtype=float))
        if np.any(u < 0):
            raise ParameterError("months must be >= 0", fix="pass months ahead, e.g. [3, 6, 12]")
        return pd.DataFrame(_conditional_curves(self, X, a, u), index=X.index, columns=u)

    def predict_median(self, X: pd.DataFrame, tenure=0.0, horizon: float = 240.0,
                       step: float = 0.25) -> pd.Series:
        """Median remaining months of membership given ``tenure`` (0: median tenure).

        ``inf`` when the predicted survival stays above one half within ``horizon``.
        """
        check_scalar(horizon, "horizon", numbers.Real, 0, low_inclusive=False)
        grid = np.arange(step, horizon + step / 2, step)
        S = self.predict_survival_ahead(X, tenure, grid).to_numpy()
        below = S <= 0.5
        med = np.where(below.any(1), grid[np.argmax(below, 1)], np.inf)
        return pd.Series(med, index=X.index, name="median_months")


def _newton_eval(strata_list, X, beta, penalty):
    p = X.shape[1]
    ll, g, h = 0.0, np.zeros(p), np.zeros((p, p))
    for st in strata_list:
        l_, g_, h_ = st.efron(X[st.rows], beta)
        ll, g, h = ll + l_, g + g_, h + h_
    return ll - 0.5 * penalty * float(beta @ beta), g - penalty * beta, h - penalty * np.eye(p)


def compare_with_truth(model: ChurnCox, truth: dict, names: dict | None = None) -> pd.DataFrame:
    """Estimated vs planted hazard ratios: one row per planted covariate in the model.

    ``truth`` is ``world.truth["membership"]["hazard_ratios"]`` (or any {covariate: HR});
    ``names`` maps model covariate names to truth keys if they differ.

    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=300); t = rng.exponential(1 / np.exp(-0.5 * x))
    >>> m = ChurnCox().fit(pd.DataFrame({"duration": t, "event": 1, "x": x}), ["x"], entry=None)
    >>> compare_with_truth(m, {"x": np.exp(-0.5)})["inside_ci"].item()
    True
    """
    if not isinstance(model, ChurnCox):
        raise ParameterError(f"model must be a fitted ChurnCox, got {type(model).__name__}",
                             fix="fit one: ChurnCox().fit(frame, covariates)")
    if not isinstance(truth, dict) or not truth:
        raise ParameterError("truth must be a non-empty dict {covariate: planted hazard ratio}",
                             fix="pass world.truth['membership']['hazard_ratios']")
    names = names or {}
    s = model.summary
    rows = []
    for cov in s.index:
        key = names.get(cov, cov)
        if key not in truth:
            continue
        hr = float(truth[key])
        rows.append({"covariate": cov, "planted_hr": hr, "estimated_hr": s.loc[cov, "hr"],
                     "hr_lower": s.loc[cov, "hr_lower"], "hr_upper": s.loc[cov, "hr_upper"],
                     "planted_log_hr": np.log(hr), "estimated_log_hr": s.loc[cov, "coef"],
                     "inside_ci": bool(s.loc[cov, "hr_lower"] <= hr <= s.loc[cov, "hr_upper"])})
    if not rows:
        raise ParameterError(f"none of the model covariates {list(s.index)} is in truth {list(truth)}",
                             fix="rename covariates to the truth keys or pass names={...}")
    return pd.DataFrame(rows).set_index("covariate")


# ----------------------------------------------------------------------------------------------
# remaining lifetime, RMST and survival-based CLV
# ----------------------------------------------------------------------------------------------
def _check_model_inputs(model, X, tenure):
    if not isinstance(model, ChurnCox):
        raise ParameterError(f"model must be a fitted ChurnCox, got {type(model).__name__}",
                             fix="fit one: ChurnCox().fit(frame, covariates)")
    model._check()
    a = np.broadcast_to(np.asarray(tenure, dtype=float), (len(X),)).copy()
    if np.any(~np.isfinite(a)) or np.any(a < 0):
        raise ParameterError("tenure must be finite and >= 0 (months already stayed)",
                             fix="pass each member's current tenure in months")
    return a


def expected_remaining_lifetime(model: ChurnCox, X: pd.DataFrame, tenure, horizon: float = 120.0,
                                step: float = 0.25) -> pd.Series:
    """Expected further months of membership within ``horizon``, given survival so far.

    E[min(T, a + h) - a | T > a, x] = integral over (a, a + h] of S(t | x) / S(a | x) dt: a
    restricted mean residual lifetime (剩余生命周期). Beyond the last observed tenure the
    baseline follows a fitted Weibull tail (:meth:`ChurnCox.weibull_baseline`), so long
    horizons rest on that extrapolation; covariates are held at their current values.
    """
    a = _check_model_inputs(model, X, tenure)
    check_scalar(horizon, "horizon", numbers.Real, 0, low_inclusive=False)
    check_scalar(step, "step", numbers.Real, 0, horizon, low_inclusive=False)
    grid = np.arange(0.0, horizon + step / 2, step)
    S = _conditional_curves(model, X, a, grid)
    area = ((S[:, 1:] + S[:, :-1]) / 2 * np.diff(grid)).sum(1)
    return pd.Series(area, index=X.index, name="expected_remaining_months")


def _conditional_curves(model, X, a, offsets):
    """S(a + u | x) / S(a | x) for each row and offset u (rows x offsets)."""
    lp = model.predict_partial_hazard(X).to_numpy()
    strata = model._strata_of(X)
    out = np.empty((len(X), len(offsets)))
    for key in pd.unique(strata):
        sel = np.flatnonzero(strata == key)
        tt = a[sel][:, None] + offsets[None, :]
        H = model.baseline_cumulative_hazard_at(tt.ravel(), key).reshape(tt.shape)
        Ha = model.baseline_cumulative_hazard_at(a[sel], key)
        out[sel] = np.exp(-lp[sel][:, None] * np.maximum(H - Ha[:, None], 0.0))
    return out


def discounted_survival_value(survival, margin, discount_rate: float) -> np.ndarray:
    """Present value of a monthly margin paid while the customer survives.

    ``survival[..., k-1]`` = P(still a member at the end of month k | alive now), k = 1..H
    (a 1-D curve or one row per customer); value = sum_k margin * S_k / (1 + d)^k with
    ``discount_rate`` d per month. This is the contractual CLV formula (合同型客户生命周期价值)
    with survival-based retention; the keyword names ``margin`` and ``discount_rate`` match
    ``crmlab.clv``. Timing convention: the margin of month k is earned at its end, if the
    customer is still a member. ``crmlab.clv.ShiftedBetaGeometricFitter.customer_lifetime_value``
    also counts the payment of the current period (k = 0, undiscounted), so with the same
    survival curve it equals ``margin + discounted_survival_value(...)`` (tested).

    >>> float(discounted_survival_value([0.9, 0.81], margin=10.0, discount_rate=0.0))
    17.1
    """
    S = np.asarray(survival, dtype=float)
    if S.ndim not in (1, 2) or S.shape[-1] == 0:
        raise ParameterError("survival must be a 1-D curve or a 2-D array (customers x months)",
                             fix="pass S(1), S(2), ... for each customer")
    if np.any(~np.isfinite(S)) or np.any((S < 0) | (S > 1)):
        raise DataValidationError("survival probabilities must lie in [0, 1]",
                                  fix="pass survival probabilities, not hazards or counts")
    if np.any(np.diff(S, axis=-1) > 1e-12):
        raise DataValidationError("survival must not increase with time",
                                  fix="pass a survival curve S(1) >= S(2) >= ...")
    d = float(check_scalar(discount_rate, "discount_rate", numbers.Real, 0, 1))
    m = np.asarray(margin, dtype=float)
    if np.any(~np.isfinite(m)):
        raise ParameterError("margin must be finite", fix="pass the monthly margin per customer")
    if S.ndim == 2 and m.ndim == 1 and len(m) != S.shape[0]:
        raise ParameterError(f"margin has {len(m)} values for {S.shape[0]} customers",
                             fix="pass one margin per customer (row of survival) or a scalar")
    disc = (1 + d) ** -np.arange(1, S.shape[-1] + 1)
    pv = S @ disc
    return pv * m


def survival_clv(model: ChurnCox, X: pd.DataFrame, tenure, *, margin, discount_rate: float,
                 horizon: int = 60) -> pd.DataFrame:
    """Survival-based contractual CLV of active members, conditional on their tenure.

    CLV_i = sum_{k=1..horizon} margin_i * S(a_i + k | x_i) / S(a_i | x_i) / (1 + d)^k, with the
    conditional survival from a fitted :class:`ChurnCox` (covariates held at current values;
    Weibull tail beyond the observed tenures). ``margin`` (scalar or one per row, e.g.
    ``monthly_fee * margin_rate``) and ``discount_rate`` (per month) follow ``crmlab.clv``.
    Returns ``expected_months`` (within the horizon) and ``clv`` per row.
    """
    a = _check_model_inputs(model, X, tenure)
    check_scalar(horizon, "horizon", numbers.Integral, 1, 1200)
    m = np.broadcast_to(np.asarray(margin, dtype=float), (len(X),))
    S = _conditional_curves(model, X, a, np.arange(1, horizon + 1, dtype=float))
    clv = discounted_survival_value(S, m, discount_rate)
    return pd.DataFrame({"tenure": a, "expected_months": S.sum(1), "clv": clv}, index=X.index)


# ----------------------------------------------------------------------------------------------
# evaluation: concordance, Brier score, time-dependent AUC, calibration over time
# ----------------------------------------------------------------------------------------------
def _eval_inputs(durations, events, name="durations"):
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events)
    if t.ndim != 1 or len(t) == 0:
        raise ParameterError(f"{name} must be a non-empty 1-D array", fix="pass one value per customer")
    if len(e) != len(t):
        raise ParameterError(f"events has {len(e)} values for {len(t)} durations",
                             fix="pass one event flag per duration")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise DataValidationError(f"{name} must be finite and >= 0 (negative durations found)"
                                  if np.any(t < 0) else f"{name} must be finite",
                                  fix="durations are times from the prediction origin to churn/censoring")
    if not np.isin(e, [0, 1, True, False]).all():
        raise DataValidationError(f"events must be 0/1, found {sorted(set(np.unique(e).tolist()) - {0, 1})[:5]}",
                                  fix="recode: 1 = churned, 0 = censored")
    return t, e.astype(bool)


def concordance(durations, risk, events) -> float:
    """Harrell's concordance index (C-index) of a risk score (higher = churns sooner).

    0.5 = random ranking, 1 = perfect. Wraps ``lifelines.utils.concordance_index`` (which
    expects higher = survives longer, hence the sign flip).

    >>> concordance([1, 2, 3, 4], [4, 3, 2, 1], [1, 1, 1, 1])
    1.0
    """
    from lifelines.utils import concordance_index

    t, e = _eval_inputs(durations, events)
    r = np.asarray(risk, dtype=float)
    if r.shape != t.shape or np.any(~np.isfinite(r)):
        raise ParameterError("risk must be finite, one value per duration", fix="pass model risk scores")
    if not e.any():
        raise DataValidationError("every row is censored: the C-index needs at least one event",
                                  fix="evaluate on data that contains churners")
    return float(concordance_index(t, -r, e))


def _censoring_km(t, e):
    """G(u) = P(C > u): Kaplan-Meier of the censoring times (events count as censored)."""
    times = np.unique(t[~e])
    if len(times) == 0:
        return lambda u, left=False: np.ones_like(np.asarray(u, dtype=float))
    n = _at_risk_counts(None, t, times)
    dd = np.zeros(len(times))
    np.add.at(dd, np.searchsorted(times, t[~e]), 1.0)
    surv = np.cumprod(1 - dd / n)

    def G(u, left=False):
        u = np.asarray(u, dtype=float)
        idx = np.searchsorted(times, u, side="left" if left else "right") - 1
        return np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)

    return G


def _censoring_weights(t, e, train_durations, train_events):
    """Censoring survival G (Kaplan-Meier of the censoring times, from the training data when
    given) and G(t-) at each test duration: the IPCW weights of the Brier score and the AUC."""
    if train_durations is not None:
        tt, te = _eval_inputs(train_durations, train_events, "train_durations")
    else:
        tt, te = t, e
    G = _censoring_km(tt, te)
    return G, G(t, left=True)


def _surv_matrix(surv, n, times):
    S = surv.to_numpy(dtype=float) if isinstance(surv, pd.DataFrame) else np.asarray(surv, dtype=float)
    if S.ndim == 1:
        S = S[:, None]
    if S.shape != (n, len(times)):
        raise ParameterError(f"surv has shape {S.shape}, expected ({n}, {len(times)}) = (customers, times)",
                             fix="pass model.predict_survival(X, times) for the same customers and times")
    if np.any(~np.isfinite(S)) or np.any((S < 0) | (S > 1)):
        raise DataValidationError("surv must hold probabilities in [0, 1]", fix="pass survival probabilities")
    return S


def brier_score(durations, events, surv, times, *, train_durations=None, train_events=None) -> pd.DataFrame:
    """Time-dependent Brier score with inverse-probability-of-censoring weights (Graf et al. 1999).

    BS(t) = mean_i [ S_i(t)^2 1(T_i <= t, event) / G(T_i-) + (1 - S_i(t))^2 1(T_i >= t, alive) / G(t-) ],
    G = Kaplan-Meier of the censoring distribution (of the training data if given, else of
    these data); a member censored exactly at t (e.g. at the end of a landmark horizon)
    counts as alive at t. Without censoring it is the mean squared error of S_i(t) against the
    survival indicator. Lower is better; 0.25 is what a constant 0.5 forecast scores.

    >>> brier_score([1, 3], [1, 1], [[0.2], [0.9]], [2])["brier"].round(3).tolist()
    [0.025]
    """
    t, e = _eval_inputs(durations, events)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    S = _surv_matrix(surv, len(t), times)
    G, g_t = _censoring_weights(t, e, train_durations, train_events)
    out = []
    for j, u in enumerate(times):
        died = (t <= u) & e
        alive = (t > u) | ((t == u) & ~e)  # censored exactly at u: known to be alive at u
        gu = float(G(np.array([u]), left=True)[0])  # P(C >= u): chance to be seen alive at u
        w_d = np.where(died, 1.0 / np.where(g_t > 0, g_t, np.inf), 0.0)
        w_a = np.where(alive, 1.0 / gu if gu > 0 else 0.0, 0.0)
        bs = np.mean(S[:, j] ** 2 * w_d + (1 - S[:, j]) ** 2 * w_a)
        out.append({"time": u, "brier": float(bs)})
    return pd.DataFrame(out)


def integrated_brier_score(durations, events, surv, times, **kwargs) -> float:
    """Brier score averaged over ``times`` (trapezoid rule, divided by the time span)."""
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if len(times) < 2:
        raise ParameterError("integrated_brier_score needs at least two times", fix="pass a grid of times")
    bs = brier_score(durations, events, surv, times, **kwargs)["brier"].to_numpy()
    return float(np.sum((bs[1:] + bs[:-1]) / 2 * np.diff(times)) / (times[-1] - times[0]))


def time_dependent_auc(durations, events, risk, times, *, train_durations=None,
                       train_events=None) -> pd.DataFrame:
    """Cumulative/dynamic AUC(t) with IPCW (Uno et al. 2007): can the score tell who churns by t?

    Cases: churned at or before t (weight 1/G(T_i-)); controls: still members at t (later
    event or censoring, or censored exactly at t).
    AUC(t) = weighted share of (case, control) pairs where the case has the higher risk
    (ties count one half). ``risk`` is one score per customer, or one column per time.

    >>> time_dependent_auc([1, 2, 5, 6], [1, 1, 0, 1], [0.9, 0.8, 0.1, 0.3], [3])["auc"].tolist()
    [1.0]
    """
    t, e = _eval_inputs(durations, events)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    R = np.asarray(risk, dtype=float)
    R = np.repeat(R[:, None], len(times), axis=1) if R.ndim == 1 else R
    if R.shape != (len(t), len(times)) or np.any(~np.isfinite(R)):
        raise ParameterError(f"risk has shape {R.shape}, expected ({len(t)},) or ({len(t)}, {len(times)})",
                             fix="pass one finite risk score per customer (or per customer and time)")
    G, g_t = _censoring_weights(t, e, train_durations, train_events)
    out = []
    for j, u in enumerate(times):
        case = (t <= u) & e & (g_t > 0)
        ctrl = (t > u) | ((t == u) & ~e)
        if not case.any() or not ctrl.any():
            out.append({"time": u, "auc": np.nan, "cases": int(case.sum()), "controls": int(ctrl.sum())})
            continue
        w = 1.0 / g_t[case]
        rc = np.sort(R[ctrl, j])
        below = np.searchsorted(rc, R[case, j], side="left")
        ties = np.searchsorted(rc, R[case, j], side="right") - below
        conc = (below + 0.5 * ties) / len(rc)
        out.append({"time": u, "auc": float(np.sum(w * conc) / np.sum(w)),
                    "cases": int(case.sum()), "controls": int(ctrl.sum())})
    return pd.DataFrame(out)


def calibration_table(durations, events, surv, times, n_groups: int = 5) -> pd.DataFrame:
    """Calibration over time: predicted vs Kaplan-Meier observed survival by risk group.

    At each time the customers are cut into ``n_groups`` groups by predicted survival;
    ``predicted`` is the group's mean predicted S(t), ``observed`` its KM estimate at t (which
    handles censoring), with a 95% CI. A calibrated model has observed ~ predicted.
    """
    from lifelines import KaplanMeierFitter

    t, e = _eval_inputs(durations, events)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    S = _surv_matrix(surv, len(t), times)
    check_scalar(n_groups, "n_groups", numbers.Integral, 1, 50)
    rows = []
    for j, u in enumerate(times):
        ranks = pd.Series(S[:, j]).rank(method="first").to_numpy()
        grp = np.minimum(((ranks - 1) * n_groups / len(t)).astype(int), n_groups - 1)
        for g in range(n_groups):
            sel = grp == g
            if not sel.any():
                continue
            kmf = KaplanMeierFitter().fit(t[sel], e[sel])
            ci = kmf.confidence_interval_survival_function_
            rows.append({"time": u, "group": g + 1, "n": int(sel.sum()),
                         "predicted": float(S[sel, j].mean()), "observed": float(kmf.predict(u)),
                         "lower": float(ci.iloc[:, 0].asof(u)), "upper": float(ci.iloc[:, 1].asof(u))})
    return pd.DataFrame(rows)


def plot_calibration(table: pd.DataFrame, ax=None):
    """Observed (KM, with CI) against predicted survival, one colour per time; returns Axes."""
    from . import plots

    require_columns(table, ["time", "predicted", "observed", "lower", "upper"], "table")
    if ax is None:
        _, ax = plots.subplots()
    for i, (u, g) in enumerate(table.groupby("time")):
        col = plots.PALETTE[i % len(plots.PALETTE)]
        ax.errorbar(g["predicted"], g["observed"], yerr=[g["observed"] - g["lower"], g["upper"] - g["observed"]],
                    fmt="o", color=col, capsize=2, label=f"t = {u:g} months")
    lo = float(min(table["predicted"].min(), table["lower"].min()))
    ax.plot([lo, 1], [lo, 1], color="k", lw=0.8, ls="--", label="perfect calibration")
    return plots.finish(ax, title="Calibration over time", xlabel="predicted survival",
                        ylabel="observed survival (Kaplan-Meier)")


# ----------------------------------------------------------------------------------------------
# early warning: landmark features, risk score, lift/gain, profit threshold, watch list
# ----------------------------------------------------------------------------------------------
LANDMARK_FEATURES = [
    "tenure_months", "plan_plus", "plan_premium", "loyalty_member", "complaints_3m",
    "complaints_12m", "tickets_6m", "crm_live", "purchases_180d", "days_since_purchase",
    "survey_satisfaction", "survey_missing",
]
"""Default features of :func:`landmark_frame` (what the CRM system knows at the landmark)."""


def landmark_frame(
    memberships: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    branches: pd.DataFrame | None = None,
    *,
    landmark,
    horizon_months: float = 6.0,
    window_start=None,
    window_end=None,
    survey_items: Sequence[str] = ("sat_overall", "sat_confirm_expectations", "sat_vs_ideal"),
) -> pd.DataFrame:
    """Members active at ``landmark``, their features then, and whether they churn soon after.

    A landmark analysis is the honest set-up of an early-warning score: features use only
    what the CRM system knows at the landmark date, the label is churn in the following
    ``horizon_months`` (``churn``; ``months_to_event``/``event`` for survival models,
    censored at the horizon). Fit a score at one landmark and test it at a later one (a
    time split) to measure how it would have worked in production.

    Features (:data:`LANDMARK_FEATURES`): tenure, plan dummies, loyalty programme,
    complaint tickets in the last 3 and 12 months, all tickets in the last 6 months, CRM
    live at the branch, purchases in the last 180 days and days since the last purchase
    (inside the window), the latest survey satisfaction (z-score against the answers given
    by the landmark; 0 with ``survey_missing = 1`` for non-respondents). Tables that are
    not passed give no features (and are left out of :data:`LANDMARK_FEATURES` in
    ``.attrs["features"]``).
    """
    ws, we = _window(window_start, window_end)
    try:
        L = pd.Timestamp(landmark)
    except (TypeError, ValueError):
        raise ParameterError(f"landmark must be a date, got {landmark!r}", fix="pass e.g. '2024-07-01'") from None
    check_scalar(horizon_months, "horizon_months", numbers.Real, 0, low_inclusive=False)
    horizon_end = L + pd.Timedelta(days=horizon_months * MONTH_DAYS)
    if not ws <= L or horizon_end > we + pd.Timedelta(days=1):
        raise ParameterError(
            f"landmark {L.date()} + {horizon_months:g} months must lie inside the window "
            f"{ws.date()} .. {we.date()}", fix="choose an earlier landmark or a shorter horizon")
    check_frame(memberships, "memberships", required=["membership_id", "customer_id", "start_date",
                                                        "end_date"])
    s = check_dates(memberships, "start_date", "memberships")
    e = check_dates(memberships, "end_date", "memberships", allow_nat=True)
    active = ((s < L) & (e.isna() | (e >= L))).to_numpy()
    if not active.any():
        raise DataValidationError(f"no membership is active at the landmark {L.date()}",
                                  fix="choose a landmark inside the membership history")
    m = memberships.loc[active]
    s, e = s[active], e[active]
    out = pd.DataFrame({"membership_id": m["membership_id"].to_numpy(),
                        "customer_id": m["customer_id"].to_numpy()})
    out["landmark"] = L
    out["tenure_months"] = _days(s, L) * -1 / MONTH_DAYS
    feats = ["tenure_months"]
    if "plan" in m:
        out["plan"] = m["plan"].to_numpy()
        out["plan_plus"] = (out["plan"] == "plus").astype(int)
        out["plan_premium"] = (out["plan"] == "premium").astype(int)
        feats += ["plan_plus", "plan_premium"]
    if "monthly_fee" in m:
        out["monthly_fee"] = m["monthly_fee"].to_numpy(dtype=float)
    cust = out["customer_id"].to_numpy()
    if customers is not None:
        check_frame(customers, "customers", required=["customer_id"])
        ci = customers.drop_duplicates("customer_id").set_index("customer_id")
        if "loyalty_member" in ci:
            out["loyalty_member"] = ci["loyalty_member"].reindex(cust).fillna(False).astype(int).to_numpy()
            feats.append("loyalty_member")
        if "branch_id" in ci:
            out["branch_id"] = ci["branch_id"].reindex(cust).to_numpy()
    if tickets is not None:
        check_frame(tickets, "tickets", required=["customer_id", "opened_at", "type"])
        od = check_dates(tickets, "opened_at", "tickets")
        age = _days(od, L) * -1  # days before the landmark
        tk = pd.DataFrame({"customer_id": tickets["customer_id"].to_numpy(), "age": age,
                           "complaint": tickets["type"].to_numpy() == "complaint"})
        tk = tk[(tk["age"] > 0)]

        def count(mask):
            return tk.loc[mask].groupby("customer_id").size().reindex(cust).fillna(0).astype(int).to_numpy()

        out["complaints_3m"] = count(tk["complaint"] & (tk["age"] <= 3 * MONTH_DAYS))
        out["complaints_12m"] = count(tk["complaint"] & (tk["age"] <= 12 * MONTH_DAYS))
        out["tickets_6m"] = count(tk["age"] <= 6 * MONTH_DAYS)
        feats += ["complaints_3m", "complaints_12m", "tickets_6m"]
    if branches is not None and "branch_id" in out:
        check_frame(branches, "branches", required=["branch_id", "crm_golive_date"])
        gl = check_dates(branches, "crm_golive_date", "branches", allow_nat=True)
        live = pd.Series((gl <= L).fillna(False).to_numpy(), index=branches["branch_id"].to_numpy())
        out["crm_live"] = live.reindex(out["branch_id"].to_numpy()).fillna(False).astype(int).to_numpy()
        feats.append("crm_live")
    if transactions is not None:
        check_frame(transactions, "transactions", required=["customer_id", "date"])
        td = check_dates(transactions, "date", "transactions")
        age = _days(td, L) * -1
        tx = pd.DataFrame({"customer_id": transactions["customer_id"].to_numpy(), "age": age})
        tx = tx[tx["age"] > 0]
        out["purchases_180d"] = (tx[tx["age"] <= 180].groupby("customer_id").size()
                                 .reindex(cust).fillna(0).astype(int).to_numpy())
        cap = float(_days(pd.Series([ws]), L)[0] * -1)  # no history before the window start
        last = tx.groupby("customer_id")["age"].min().reindex(cust)
        out["days_since_purchase"] = last.fillna(cap).clip(upper=cap).to_numpy()
        feats += ["purchases_180d", "days_since_purchase"]
    if survey is not None:
        items = list(survey_items)
        check_frame(survey, "survey", required=["customer_id", "response_date", *items], numeric=items,
                    no_nan=items)
        rd = check_dates(survey, "response_date", "survey")
        score = survey[items].mean(axis=1)
        known = (rd <= L).to_numpy()
        # standardise with the answers known at the landmark only (no look-ahead)
        ref = score[known] if known.sum() > 1 else score
        z = (score - ref.mean()) / (ref.std(ddof=0) or 1.0)
        sv = pd.DataFrame({"customer_id": survey["customer_id"].to_numpy(), "date": rd.to_numpy(),
                           "z": z.to_numpy()})
        sv = sv[known].sort_values("date").groupby("customer_id")["z"].last()
        zz = sv.reindex(cust)
        out["survey_missing"] = zz.isna().astype(int).to_numpy()
        out["survey_satisfaction"] = zz.fillna(0.0).to_numpy()
        feats += ["survey_satisfaction", "survey_missing"]
    # outcome after the landmark
    edays = _days(e, L)
    stop = min(horizon_months, float(_days(pd.Series([we]), L)[0]) / MONTH_DAYS)
    t_ev = (edays + 0.5) / MONTH_DAYS
    ev = ~np.isnan(t_ev) & (t_ev <= stop)
    out["event"] = ev.astype(int)
    out["churn"] = out["event"]
    out["months_to_event"] = np.where(ev, t_ev, stop)
    out.attrs.update({"landmark": str(L.date()), "horizon_months": float(horizon_months),
                      "features": [f for f in LANDMARK_FEATURES if f in feats]})
    return out


def time_split(
    memberships: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    branches: pd.DataFrame | None = None,
    *,
    horizon_months: int = 6,
    test_landmark=None,
    train_landmarks=None,
    train_gaps_months: Sequence[int] = (18, 12),
    window_start=None,
    window_end=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test landmark frames for an early-warning score (a time split).

    The test landmark defaults to the last month start whose ``horizon_months`` still lie in
    the window (window end minus the horizon); the training landmarks default to
    ``train_gaps_months`` months before it. Every training label must be known by the test
    landmark (landmark + horizon <= test landmark), as it would be in production; a split
    that lets the model learn from outcomes after the test date is refused.
    Returns ``(train, test)``: the stacked training frames (a member active at several
    landmarks appears once per landmark) and the test frame, each with
    ``.attrs["landmarks"]``. Other arguments as :func:`landmark_frame`.

    >>> train, test = time_split(datasets.load("memberships"))  # doctest: +SKIP
    >>> train.attrs["landmarks"], test.attrs["landmarks"]  # doctest: +SKIP
    (['2024-01-01', '2024-07-01'], ['2025-07-01'])
    """
    ws, we = _window(window_start, window_end)
    check_scalar(horizon_months, "horizon_months", numbers.Integral, 1, 120)
    h = int(horizon_months)
    if test_landmark is None:
        test_landmark = (we - pd.Timedelta(days=h * MONTH_DAYS)).to_period("M").to_timestamp()
    gaps = [train_gaps_months] if isinstance(train_gaps_months, numbers.Integral) else list(train_gaps_months)
    gaps = [check_scalar(g, "train_gaps_months", numbers.Integral, 1, 1200) for g in gaps]
    try:
        T = pd.Timestamp(test_landmark)
        if train_landmarks is None:
            train_landmarks = [T - pd.DateOffset(months=int(g)) for g in gaps]
        single = isinstance(train_landmarks, (str, pd.Timestamp))
        train_ts = sorted(pd.Timestamp(d) for d in ([train_landmarks] if single else list(train_landmarks)))
    except (TypeError, ValueError):
        raise ParameterError(f"landmarks must be dates, got test {test_landmark!r}, train {train_landmarks!r}",
                             fix="pass ISO dates such as test_landmark='2025-07-01'") from None
    if not train_ts:
        raise ParameterError("train_landmarks is empty", fix="give at least one training landmark")
    if train_ts[0] < ws:
        raise ParameterError(
            f"training landmark {train_ts[0].date()} is before the window start {ws.date()}: "
            "no history to compute features from",
            fix="use smaller train_gaps_months (or later train_landmarks), or a longer window")
    late = [str(d.date()) for d in train_ts if d + pd.DateOffset(months=h) > T]
    if late:
        raise ParameterError(
            f"training landmark(s) {late} + {h} months end after the test landmark {T.date()}: the "
            "model would learn from outcomes that were unknown on the test date",
            fix=f"use training landmarks at least {h} months before the test landmark")
    kw = dict(customers=customers, tickets=tickets, transactions=transactions, survey=survey,
              branches=branches, horizon_months=h, window_start=ws, window_end=we)
    # landmarks as ISO dates: the same frames (and dtypes) as calling landmark_frame by hand
    train = pd.concat([landmark_frame(memberships, landmark=str(d.date()), **kw) for d in train_ts],
                      ignore_index=True)
    test = landmark_frame(memberships, landmark=str(T.date()), **kw)
    train.attrs = {"horizon_months": float(h), "features": test.attrs["features"],
                   "landmarks": [str(d.date()) for d in train_ts]}
    test.attrs["landmarks"] = [str(T.date())]
    return train, test


class ChurnRiskScore:
    """Churn risk score for early warning: P(churn within the horizon | features).

    ``method="logistic"`` (standardised L2 logistic regression), ``"gbm"`` (scikit-learn
    histogram gradient boosting) or ``"cox"`` (:class:`ChurnCox` on ``months_to_event``;
    risk = 1 - S(horizon | x)). Fit on one landmark, score a later one.

    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"x": rng.normal(size=300)})
    >>> d["churn"] = (rng.random(300) < 1 / (1 + np.exp(-2 * d["x"]))).astype(int)
    >>> s = ChurnRiskScore(features=["x"]).fit(d)
    >>> bool(s.predict_risk(d).corr(d["x"]) > 0.9)
    True
    """

    def __init__(self, method: str = "logistic", features: Sequence[str] | None = None,
                 seed: int = 0, C: float = 1.0, horizon_months: float | None = None):
        if method not in ("logistic", "gbm", "cox"):
            raise ParameterError(f"method must be 'logistic', 'gbm' or 'cox', got {method!r}",
                                 fix="use method='logistic' (transparent) or 'gbm' (flexible)")
        self.method, self.features, self.seed = method, features, seed
        self.C = float(check_scalar(C, "C", numbers.Real, 0, low_inclusive=False))
        if horizon_months is not None:
            check_scalar(horizon_months, "horizon_months", numbers.Real, 0, low_inclusive=False)
        self.horizon_months = horizon_months

    def fit(self, frame: pd.DataFrame, label: str = "churn") -> ChurnRiskScore:
        feats = list(self.features) if self.features is not None else frame.attrs.get("features")
        if not feats:  # e.g. landmark frames joined with pd.concat lose their attrs
            feats = [f for f in LANDMARK_FEATURES if f in frame]
        if not feats:
            raise ParameterError("no features given", fix="pass features=[...] or a landmark_frame() output")
        check_frame(frame, "frame", required=feats, numeric=feats, no_nan=feats, min_rows=10)
        self.features_ = feats
        if self.method == "cox":
            require_columns(frame, ["months_to_event", "event"], "frame")
            varying = [f for f in feats if np.ptp(frame[f].to_numpy(dtype=float)) > 0]
            self.features_ = varying
            self.model_ = ChurnCox(penalizer=0.01).fit(frame, varying, stop="months_to_event",
                                                       event="event", entry=None)
            self.horizon_ = float(self.horizon_months or frame["months_to_event"].max())
            return self
        check_binary(frame, label, "frame")
        y = frame[label].to_numpy().astype(int)
        if y.min() == y.max():
            raise DataValidationError(f"frame[{label!r}] has a single class", fix="train on data with churners and stayers")
        X = frame[feats].to_numpy(dtype=float)
        if self.method == "logistic":
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            self.model_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=1000))
        else:
            from sklearn.ensemble import HistGradientBoostingClassifier

            self.model_ = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_depth=3,
                                                         l2_regularization=1.0, random_state=self.seed)
        self.model_.fit(X, y)
        return self

    @property
    def coefficients_(self) -> pd.Series:
        """Standardised log-odds (logistic) or log hazard ratios (cox) per feature."""
        if self.method == "logistic":
            return pd.Series(self.model_[-1].coef_[0], index=self.features_, name="coef_per_sd")
        if self.method == "cox":
            return self.model_.params_.rename("log_hr")
        raise ParameterError("a gradient-boosting score has no coefficients",
                             fix="use method='logistic' to read coefficients")

    def predict_risk(self, frame: pd.DataFrame) -> pd.Series:
        """Predicted probability of churn within the horizon, one per row."""
        check_fitted(self, "model_", "fit(train_frame)")
        check_frame(frame, "frame", required=self.features_, numeric=self.features_, no_nan=self.features_)
        if self.method == "cox":
            S = self.model_.predict_survival(frame, [self.horizon_]).iloc[:, 0].to_numpy()
            p = 1 - S
        else:
            p = self.model_.predict_proba(frame[self.features_].to_numpy(dtype=float))[:, 1]
        return pd.Series(p, index=frame.index, name="churn_risk")


def _check_scores(y, score, name="score"):
    yv = np.asarray(y)
    sv = np.asarray(score, dtype=float)
    if yv.ndim != 1 or len(yv) == 0 or sv.shape != yv.shape:
        raise ParameterError(f"y and {name} must be 1-D and of equal, non-zero length",
                             fix="pass one outcome and one score per customer")
    if not np.isin(yv, [0, 1, True, False]).all():
        raise DataValidationError("y must be 0/1 (1 = churned)", fix="recode the outcome as 0/1")
    if np.any(~np.isfinite(sv)):
        raise DataValidationError(f"{name} has missing or infinite values", fix="score every customer")
    return yv.astype(int), sv


def lift_table(y, score, n_bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gain by score decile (bin 1 = highest risk).

    ``lift`` = churn rate in the bin / overall churn rate; ``cum_gain`` = share of all
    churners found by contacting bins 1..k; ``cum_lift`` = cum_gain / share contacted.

    >>> t = lift_table([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], np.arange(10)[::-1], n_bins=5)
    >>> t["lift"].tolist()
    [5.0, 0.0, 0.0, 0.0, 0.0]
    """
    yv, sv = _check_scores(y, score)
    check_scalar(n_bins, "n_bins", numbers.Integral, 2, len(yv))
    if yv.sum() == 0:
        raise DataValidationError("y has no churners, so lift is undefined", fix="evaluate on data with churners")
    order = np.argsort(-sv, kind="stable")
    bins = (np.arange(len(yv)) * n_bins // len(yv)) + 1
    d = pd.DataFrame({"bin": bins, "y": yv[order], "score": sv[order]})
    t = d.groupby("bin").agg(n=("y", "size"), churners=("y", "sum"), min_score=("score", "min"),
                             mean_score=("score", "mean"))
    base = yv.mean()
    t["churn_rate"] = t["churners"] / t["n"]
    t["lift"] = t["churn_rate"] / base
    t["cum_share_contacted"] = t["n"].cumsum() / len(yv)
    t["cum_gain"] = t["churners"].cumsum() / yv.sum()
    t["cum_lift"] = t["cum_gain"] / t["cum_share_contacted"]
    return t.reset_index()


def plot_lift(table: pd.DataFrame, ax=None):
    """Bar chart of lift by bin with the random-targeting line at 1; returns Axes."""
    from . import plots

    require_columns(table, ["bin", "lift"], "table")
    if ax is None:
        _, ax = plots.subplots()
    ax.bar(table["bin"].astype(str), table["lift"], color=plots.PALETTE[0])
    ax.axhline(1, color="k", lw=0.8, ls="--", label="random targeting")
    return plots.finish(ax, title="Lift by risk decile", xlabel="risk decile (1 = highest score)",
                        ylabel="lift (churn rate / average)")


def plot_gain(table: pd.DataFrame, ax=None, label: str = "model"):
    """Cumulative gain chart: share of churners found vs share of members contacted."""
    from . import plots

    require_columns(table, ["cum_share_contacted", "cum_gain"], "table")
    if ax is None:
        _, ax = plots.subplots()
    x = np.concatenate([[0], table["cum_share_contacted"]])
    y = np.concatenate([[0], table["cum_gain"]])
    ax.plot(x, y, marker="o", label=label)
    ax.plot([0, 1], [0, 1], color="k", lw=0.8, ls="--", label="random targeting")
    return plots.finish(ax, title="Cumulative gain", xlabel="share of members contacted",
                        ylabel="share of churners reached")


def profit_curve(y, score, *, value_saved, offer_cost: float, save_rate: float,
                 rank_by: str = "risk") -> pd.DataFrame:
    """Profit of contacting the top-k members, for every k (offer cost vs CLV saved).

    Contacting a member costs ``offer_cost``; a would-be churner who gets the offer stays
    with probability ``save_rate`` (from a retention experiment: uplift / control churn
    rate) and is then worth ``value_saved`` (e.g. their survival CLV). Members are ranked by
    ``rank_by``: ``"risk"`` (the score) or ``"expected_value"`` (the expected net value of an
    offer, score x save_rate x value - cost: the profit rule "contact when p x save x CLV >
    cost"). Per depth k: ``realised_profit`` = sum over the top k of y * save_rate * value -
    k * cost (what the policy would have earned on these outcomes) and ``expected_profit``
    with the score as the churn probability; ``threshold`` is the ranking key of the k-th
    member (its risk, or its expected net value). ``.attrs`` holds the best depths and their
    thresholds, and the break-even churn probability cost / (save_rate * value) of the
    average member.

    >>> c = profit_curve([1, 0, 1, 0], [0.9, 0.6, 0.4, 0.1], value_saved=[100, 100, 400, 100],
    ...                  offer_cost=10.0, save_rate=0.5, rank_by="expected_value")
    >>> c["threshold"].round(1).tolist(), c.attrs["best_expected_contacted"]
    ([70.0, 35.0, 20.0, -5.0], 3)
    """
    yv, sv = _check_scores(y, score)
    check_scalar(offer_cost, "offer_cost", numbers.Real, 0)
    check_probability(save_rate, "save_rate")
    if rank_by not in ("risk", "expected_value"):
        raise ParameterError(f"rank_by must be 'risk' or 'expected_value', got {rank_by!r}",
                             fix="use rank_by='expected_value' to contact by expected net value of the offer")
    v = np.asarray(value_saved, dtype=float)
    if v.ndim > 1 or (v.ndim == 1 and v.shape != yv.shape):
        raise ParameterError(f"value_saved has shape {v.shape}; pass a scalar or one value per member",
                             fix="pass CLV per customer (aligned with y) or a scalar")
    v = np.broadcast_to(v, yv.shape)
    if np.any(~np.isfinite(v)) or np.any(v < 0):
        raise ParameterError("value_saved must be finite and >= 0", fix="pass CLV per customer or a scalar")
    p = np.clip(sv, 0, 1)
    net = p * save_rate * v - offer_cost
    key = sv if rank_by == "risk" else net
    order = np.argsort(-key, kind="stable")
    gain_real = np.cumsum(yv[order] * save_rate * v[order])
    gain_exp = np.cumsum(p[order] * save_rate * v[order])
    k = np.arange(1, len(yv) + 1)
    out = pd.DataFrame({"contacted": k, "share_contacted": k / len(yv), "threshold": key[order],
                        "churners_reached": np.cumsum(yv[order]),
                        "realised_profit": gain_real - k * offer_cost,
                        "expected_profit": gain_exp - k * offer_cost})
    best = int(np.argmax(out["realised_profit"].to_numpy()))
    best_exp = int(np.argmax(out["expected_profit"].to_numpy()))
    out.attrs.update({
        "rank_by": rank_by,
        "best_contacted": int(out["contacted"].iloc[best]),
        "best_threshold": float(out["threshold"].iloc[best]),
        "best_profit": float(out["realised_profit"].iloc[best]),
        "best_expected_contacted": int(out["contacted"].iloc[best_exp]),
        "best_expected_threshold": float(out["threshold"].iloc[best_exp]),
        "best_expected_profit": float(out["expected_profit"].iloc[best_exp]),
        "break_even_probability": float(offer_cost / (save_rate * v.mean())) if save_rate * v.mean() > 0 else np.inf,
        "contact_all_profit": float(out["realised_profit"].iloc[-1]),
    })
    return out


def plot_profit_curve(curve: pd.DataFrame, ax=None, title: str | None = None):
    """Realised and expected profit against the share of members contacted; returns Axes."""
    from . import plots

    require_columns(curve, ["share_contacted", "realised_profit", "expected_profit"], "curve")
    if ax is None:
        _, ax = plots.subplots()
    ax.plot(curve["share_contacted"], curve["realised_profit"], label="realised (test outcomes)")
    ax.plot(curve["share_contacted"], curve["expected_profit"], ls="--", label="expected (model)")
    if "best_expected_contacted" in curve.attrs:
        b = curve.attrs["best_expected_contacted"] / len(curve)
        ax.axvline(b, color="k", lw=0.8, ls=":", label="best depth (expected)")
    ax.axhline(0, color="k", lw=0.6)
    if title is None:
        by = {"risk": "highest risk first", "expected_value": "highest expected net value first"}
        title = f"Retention-offer profit ({by.get(curve.attrs.get('rank_by', 'risk'), 'ranked')})"
    return plots.finish(ax, title=title, xlabel="share of members contacted", ylabel="profit (CNY)")


def watch_list(frame: pd.DataFrame, risk, *, threshold: float | None = None, value=None,
               save_rate: float = 1.0, offer_cost: float = 0.0, min_net_value: float | None = None,
               columns: Sequence[str] = ("customer_id",), top: int | None = None) -> pd.DataFrame:
    """The early-warning watch list (流失预警名单): the members worth an intervention.

    Keeps the members whose risk is at least ``threshold`` (if given) and, with ``value``,
    whose expected net value of an offer, risk x save_rate x value - offer_cost, is at least
    ``min_net_value`` (if given; 0 = the profit rule "contact when p x save x CLV > cost").
    Sorted by expected net value when ``value`` is given, else by risk; keeps ``columns`` of
    ``frame`` for the account team; ``top`` caps the list (e.g. the team's capacity).

    >>> f = pd.DataFrame({"customer_id": [1, 2, 3]})
    >>> watch_list(f, [0.5, 0.2, 0.1], value=[100, 400, 50], save_rate=0.5, offer_cost=10,
    ...            min_net_value=0)["customer_id"].tolist()
    [2, 1]
    """
    check_frame(frame, "frame", required=list(columns))
    r = np.asarray(risk, dtype=float)
    if r.shape != (len(frame),) or np.any(~np.isfinite(r)):
        raise ParameterError("risk must be one finite score per row of frame", fix="pass score.predict_risk(frame)")
    if threshold is not None:
        check_scalar(threshold, "threshold", numbers.Real)
    check_probability(save_rate, "save_rate")
    check_scalar(offer_cost, "offer_cost", numbers.Real, 0)
    if min_net_value is not None:
        check_scalar(min_net_value, "min_net_value", numbers.Real)
        if value is None:
            raise ParameterError("min_net_value needs value (the worth of a saved member)",
                                 fix="pass value=clv (one per row or a scalar) or drop min_net_value")
    out = frame[list(columns)].copy()
    out["churn_risk"] = r
    keep = np.ones(len(frame), dtype=bool) if threshold is None else r >= threshold
    if value is not None:
        v = np.asarray(value, dtype=float)
        if v.ndim > 1 or (v.ndim == 1 and len(v) != len(frame)) or np.any(~np.isfinite(v)) or np.any(v < 0):
            raise ParameterError("value must be a finite value >= 0, scalar or one per row of frame",
                                 fix="pass each member's CLV (e.g. survival_clv(...)['clv']) or a scalar")
        out["value_at_risk"] = np.broadcast_to(v, r.shape)
        out["expected_net_value"] = r * save_rate * out["value_at_risk"] - offer_cost
        if min_net_value is not None:
            keep &= (out["expected_net_value"] >= min_net_value).to_numpy()
        key = "expected_net_value"
    else:
        key = "churn_risk"
    out = out.loc[keep].sort_values(key, ascending=False, kind="stable")
    if top is not None:
        check_scalar(top, "top", numbers.Integral, 1)
        out = out.head(top)
    return out
