"""Survival data preparation: one row per spell, start-stop rows, tenure grids, time interactions."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DataValidationError, ParameterError
from ..validation import (
    check_binary,
    check_count,
    check_date_order,
    check_dates,
    check_frame,
    check_in_set,
    check_option,
    check_scalar,
    check_unique,
)
from ._common import (
    MONTH_DAYS,
    _as_list,
    _check_survival_columns,
    _days,
    _entry_column,
    _table_dates,
    _window,
)

__all__ = ["survival_frame", "start_stop_frame", "split_spells", "add_time_interaction"]

def survival_frame(
    memberships: pd.DataFrame,
    window_start=None,
    as_of=None,
    *,
    start_col: str = "start_date",
    end_col: str = "end_date",
) -> pd.DataFrame:
    """One row per membership spell with tenure (months), event and delayed entry.

    Time is tenure since the spell start in months of 30.4375 days. A spell that ends
    inside the window is an event; its end date is a calendar day, so the event is placed
    in the middle of that day (``+ 0.5`` day), which also keeps same-day cancellations at a
    positive duration. A spell still running at ``as_of`` is right-censored there
    (右删失). A spell that started before ``window_start`` is only in the data because it
    survived to the window start: it is left-truncated (左截断) with ``entry`` = tenure at the
    window start, and a model must not count it at risk before that tenure. Spells that
    ended before the window start are dropped (they cannot be observed under truncation).
    An ``as_of`` before the end of the data makes a time split: spells starting on or after
    it are dropped and cancellations after it count as censored there.

    Parameters
    ----------
    memberships : DataFrame
        ``datasets.load("memberships")`` or ``world.memberships``: one row per spell with
        ``start_col`` and ``end_col`` date columns (empty end = still active).
    window_start : date
        The date from which the data were recorded (required: it cannot be read off the
        data). For a crmlab world ``world.meta["window_start"]``; for a table holding every
        spell since the first began, ``memberships["start_date"].min()``.
    as_of : date, optional
        The censoring date (the window is ``[window_start, as_of)``). Default: the day after
        the latest start or end date in ``memberships``.

    Returns
    -------
    DataFrame
        The input columns plus ``entry``, ``duration``, ``event`` (0/1) and
        ``left_truncated``; ``.attrs`` holds the window and the dropped counts.
    """
    check_frame(memberships, "memberships", required=[start_col, end_col])
    s, e = check_date_order(memberships, start_col, end_col, "memberships",
                            meaning="start after stop, a negative duration")
    ws, we = _window(window_start, as_of, [s, e])
    out = memberships.copy()
    ended_before = (e < ws).fillna(False).to_numpy(dtype=bool)
    not_yet = (s >= we).to_numpy(dtype=bool)
    sday = _days(s, ws)
    eday = _days(e, ws)
    # an end on or after as_of has not happened yet as of that date: censored there
    we_day = _days(pd.Series([we]), ws)[0]
    eday = np.where(eday >= we_day, np.nan, eday)
    event = ~np.isnan(eday)
    stop_day = np.where(event, eday + 0.5, we_day)
    out["entry"] = np.maximum(-sday, 0.0) / MONTH_DAYS
    out["duration"] = (stop_day - sday) / MONTH_DAYS
    out["event"] = event.astype(int)
    out["left_truncated"] = sday < 0
    keep = ~ended_before & ~not_yet
    if not keep.any():
        raise DataValidationError(
            f"no membership spell is observed in the window {ws.date()} .. {we.date()} "
            f"({int(ended_before.sum())} ended before it, {int(not_yet.sum())} started after it)",
            fix="check window_start and as_of against the dates in memberships")
    out = out.loc[keep].copy()
    out.attrs.update({"window_start": str(ws.date()), "as_of": str(we.date()),
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
    as_of=None,
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

    ``window_start`` (required) and ``as_of`` are as in :func:`survival_frame`; ``as_of``
    defaults to the day after the latest date in the tables given.
    """
    check_count(complaint_months, "complaint_months", 1, 24)
    check_count(campaign_months, "campaign_months", 1, 120)
    check_option(legacy_complaints, "legacy_complaints", ["delay", "zero"])
    check_option(collapse, "collapse", [True, False])
    check_frame(memberships, "memberships", required=["membership_id", "customer_id", "start_date", "end_date"])
    check_unique(memberships, "membership_id", "memberships")
    ws, we = _window(window_start, as_of, _table_dates(
        memberships=(memberships, ["start_date", "end_date"]), tickets=(tickets, ["opened_at"]),
        campaigns=(campaigns, ["assigned_date"]), survey=(survey, ["response_date"])))
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
        check_unique(customers, "customer_id", "customers")
        cinfo = customers.set_index("customer_id")
        missing = ~pd.Index(pd.unique(cust)).isin(cinfo.index)
        if missing.any():
            raise DataValidationError(f"{int(missing.sum())} member(s) are not in customers",
                                      fix="pass the customers table of the same world")
        if "loyalty_member" in cinfo:
            check_binary(customers, "loyalty_member", "customers")
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
        # customer ids as codes, so text ids work too
        ids = pd.Index(pd.unique(cust))
        tcode = ids.get_indexer(tickets["customer_id"].to_numpy()[inside])
        ckeys = np.unique(tcode[tcode >= 0].astype(np.int64) * K
                          + month_of(tday[inside][tcode >= 0]) + complaint_months)
        rc = np.zeros(len(long), dtype=bool)
        base = ids.get_indexer(cust).astype(np.int64) * K + m + complaint_months
        for j in range(1, complaint_months + 1):
            rc |= np.isin(base - j, ckeys)
        long["recent_complaint"] = rc.astype(int)
        tv.append("recent_complaint")
    if branches is not None:
        if customers is None or "branch_id" not in long:
            raise ParameterError("crm_live needs customers (with branch_id) as well as branches",
                                 fix="pass customers=datasets.load('customers')")
        check_frame(branches, "branches", required=["branch_id", "crm_golive_date"])
        check_unique(branches, "branch_id", "branches")
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
        check_unique(campaigns, "customer_id", "campaigns")
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
        if not score.std(ddof=0) > 0:
            raise DataValidationError(f"survey{items} give every respondent the same score, so "
                                      "survey_satisfaction has no variance",
                                      fix="pass survey_items that vary across respondents, or leave survey out")
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
    long.attrs.update({"window_start": str(ws.date()), "as_of": str(we.date()),
                       "time_varying": tv, "legacy_complaints": legacy_complaints})
    return long


def split_spells(frame: pd.DataFrame, width: float = 1.0, *, entry_col: str | None = "entry",
                 duration_col: str = "duration", event_col: str = "event",
                 max_rows: int = 20_000_000) -> pd.DataFrame:
    """Cut one-row-per-spell data into ``(start, stop]`` rows on a tenure grid of ``width`` months.

    The episodic format that :func:`add_time_interaction` needs for a spell-level covariate
    (every other column is copied to each row; ``event`` is 1 only on a churned spell's last
    row). Entry (left truncation) is honoured: the first row starts at ``entry_col`` (the
    default ``"entry"`` is used where the frame has it). ``max_rows`` guards against a
    ``width`` so small that the result would not fit in memory.

    >>> d = pd.DataFrame({"entry": [0.0, 1.5], "duration": [2.5, 3.0], "event": [1, 0], "x": [1, 0]})
    >>> split_spells(d)[["start", "stop", "event", "x"]].values.tolist()
    [[0.0, 1.0, 0.0, 1.0], [1.0, 2.0, 0.0, 1.0], [2.0, 2.5, 1.0, 1.0], [1.5, 2.0, 0.0, 0.0], [2.0, 3.0, 0.0, 0.0]]
    """
    check_frame(frame, "frame")
    entry_col = _entry_column(frame, entry_col)
    _check_survival_columns(frame, "frame", entry_col, duration_col, event_col)
    check_scalar(width, "width", numbers.Real, 0, low_inclusive=False)
    check_count(max_rows, "max_rows", 1, 10**9)
    t0 = frame[entry_col].to_numpy(dtype=float) if entry_col else np.zeros(len(frame))
    t1 = frame[duration_col].to_numpy(dtype=float)
    k0 = np.floor(t0 / width)
    k1 = np.ceil(t1 / width) - 1
    total = float(np.sum(k1 - k0 + 1))
    if total > max_rows:
        raise ParameterError(f"width={width:g} months would cut {len(frame):,} spells into {total:,.0f} rows",
                             fix=f"use a wider grid, e.g. width={max(width, float(np.max(t1)) / 100):.3g} "
                                 "(monthly rows: width=1), or raise max_rows if you have the memory")
    k0, k1 = k0.astype(np.int64), k1.astype(np.int64)
    reps = k1 - k0 + 1
    idx = np.repeat(np.arange(len(frame)), reps)
    first = np.concatenate([[0], np.cumsum(reps)[:-1]])
    k = k0[idx] + (np.arange(len(idx)) - np.repeat(first, reps))
    start = np.maximum(k * width, t0[idx])
    stop = np.minimum((k + 1) * width, t1[idx])
    last = np.zeros(len(idx), dtype=bool)
    last[np.cumsum(reps) - 1] = True
    drop = [c for c in (entry_col, duration_col, event_col) if c]
    out = frame.drop(columns=drop).iloc[idx].reset_index(drop=True)
    out.insert(0, "start", start)
    out.insert(1, "stop", stop)
    out.insert(2, "event", (frame[event_col].to_numpy().astype(int)[idx] * last).astype(int))
    return out


def add_time_interaction(long: pd.DataFrame, covariates, transform: str = "log",
                         time_col: str = "stop") -> pd.DataFrame:
    """Add ``<cov>_x_<transform>_t`` = covariate x f(tenure) columns (a PH remedy).

    A hazard ratio that drifts with tenure breaks proportional hazards; modelling
    ``beta(t) = beta + gamma * f(t)`` with f = log (or ``"linear"``) fixes it. The interaction
    is evaluated at each row's ``time_col`` (``stop``), so keep the rows short:
    :func:`split_spells` or ``start_stop_frame(..., collapse=False)`` (monthly rows).

    >>> d = pd.DataFrame({"start": [0.0, 1.0], "stop": [1.0, 2.0], "plan_premium": [1, 1]})
    >>> add_time_interaction(d, "plan_premium")["plan_premium_x_log_t"].round(3).tolist()
    [0.0, 0.693]
    """
    covs = _as_list(covariates)
    if not covs:
        raise ParameterError("covariates is empty", fix="name the covariate(s) whose effect drifts with tenure")
    check_option(transform, "transform", ["log", "linear"])
    check_frame(long, "long", required=[time_col, *covs], numeric=[time_col, *covs], no_nan=[time_col, *covs])
    t = long[time_col].to_numpy(dtype=float)
    if transform == "log" and (t <= 0).any():
        raise DataValidationError(f"long[{time_col!r}] has values <= 0; log(t) is undefined",
                                  fix="use transform='linear' or drop zero-length rows")
    out = long.copy()
    ft = np.log(t) if transform == "log" else t
    for c in covs:
        out[f"{c}_x_{transform}_t"] = out[c].to_numpy(dtype=float) * ft
    return out
