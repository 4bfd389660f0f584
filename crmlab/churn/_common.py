"""Shared pieces of :mod:`crmlab.churn`: the time unit, the observation window and the
bad-input checks every survival fit runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataValidationError, ParameterError
from ..validation import (
    check_binary,
    check_frame,
)

MONTH_DAYS = 30.4375
"""One tenure month in days (365.25 / 12), the generator's time unit."""

_PENALIZER_FIX = ("pass penalizer=0.1 (a ridge penalty on the standardised coefficients: it "
                  "shrinks them toward 0 so a finite estimate exists, at the price of a small "
                  "bias), merge rare categories, or drop the covariate")


def _window(window_start, window_end):
    """The observation window; ``None`` reads it from the shipped world's ``world.json``."""
    if window_start is None or window_end is None:
        from .. import datasets

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



def _at_risk_counts(entry, stop, times):
    """Number with entry < t <= stop at each t (sorted-array counts)."""
    s_stop = np.sort(stop)
    n = len(stop) - np.searchsorted(s_stop, times, side="left")
    if entry is not None:
        s_entry = np.sort(entry)
        n = n - (len(entry) - np.searchsorted(s_entry, times, side="left"))
    return n.astype(float)
