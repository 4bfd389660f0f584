"""Shared pieces of :mod:`crmlab.churn`: the time unit, the observation window and the
bad-input checks every survival fit runs."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from ..errors import ColumnError, DataValidationError, ParameterError
from ..validation import (
    check_binary,
    check_dates,
    check_frame,
    check_timestamp,
    coding_advice,
    require_columns,
)

MONTH_DAYS = 30.4375
"""One tenure month in days (365.25 / 12), the generator's time unit."""

_PENALIZER_FIX = ("pass penalizer=0.1 (a ridge penalty on the standardised coefficients: it "
                  "shrinks them toward 0 so a finite estimate exists, at the price of a small "
                  "bias), merge rare categories, or drop the covariate")

# dates outside these bounds are typos (1500-01-01, 20230101 read as a year): refused early
_EARLIEST, _LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")

_WINDOW_START_FIX = ("pass window_start=, the date from which the data were recorded (spells that "
                     "ended before it are missing, so spells running then are left-truncated); for a "
                     "crmlab world: window_start=world.meta['window_start'] (shipped data: "
                     "datasets.load_meta()['window_start']); if the table holds every spell since "
                     "the first one began: window_start=memberships['start_date'].min()")


def _window(window_start, as_of, dates=()) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The observation window ``[window_start, as_of)`` of the data given.

    ``window_start`` cannot be read off the data (a table without the spells that ended
    before it looks like any other), so it is required. ``as_of`` defaults to the day after
    the latest date in ``dates`` (parsed date Series of the tables given): the data then
    cover whole days up to and including that date, and every end date seen is an event.
    """
    if window_start is None:
        raise ParameterError("window_start is missing: survival data need the date the observation "
                             "window began", fix=_WINDOW_START_FIX)
    ws = check_timestamp(window_start, "window_start")
    if as_of is None:
        seen = [d.max() for d in dates if d is not None and len(d) and d.notna().any()]
        if not seen:
            raise ParameterError("as_of is missing and the data hold no dates to take it from",
                                 fix="pass as_of=, the date the analysis is run as of (the censoring date)")
        ae = max(seen).normalize() + pd.Timedelta(days=1)
    else:
        ae = check_timestamp(as_of, "as_of")
    for name, ts in (("window_start", ws), ("as_of", ae)):
        if not _EARLIEST <= ts <= _LATEST:
            raise ParameterError(f"{name} {ts.date()} is outside {_EARLIEST.year}-{_LATEST.year}: a typo?",
                                 fix=f"pass {name} as a date like '2023-01-01'")
    if not ws < ae:
        raise ParameterError(f"window_start ({ws.date()}) must be before as_of ({ae.date()})",
                             fix="swap them: window_start opens the observation window, as_of (the "
                                 "censoring date) closes it")
    return ws, ae


@contextlib.contextmanager
def _forget_on_error(model):
    """A fit that fails leaves the model unfitted, not half-fitted (so results raise NotFittedError)."""
    try:
        yield
    except BaseException:
        for k in [k for k in vars(model) if k.endswith("_") and not k.startswith("__")]:
            delattr(model, k)
        raise


def _table_dates(**tables) -> list[pd.Series]:
    """Parsed date columns of the tables given (``name=(frame or None, [columns])``)."""
    out = []
    for name, (frame, cols) in tables.items():
        if frame is None:
            continue
        check_frame(frame, name, required=cols, min_rows=0)
        out += [check_dates(frame, c, name, allow_nat=True) for c in cols]
    return out


def _days(dates: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    return ((dates - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _as_list(x, name: str = "covariates") -> list:
    """Column names: None, one name, or a list of names (each hashable)."""
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    try:
        out = list(x)
        set(out)  # names must be hashable
    except TypeError:
        raise ParameterError(f"{name} must be a column name or a list of column names, got {x!r}",
                             fix=f"pass e.g. {name}=['plan_plus', 'loyalty_member']") from None
    return out


def _entry_column(frame, entry_col, name="frame"):
    """The entry column to use: the default ``"entry"`` only where the frame has it."""
    if entry_col is None:
        return None
    if not isinstance(entry_col, str):
        raise ParameterError(f"entry_col must be a column name or None, got {entry_col!r}",
                             fix="pass entry_col='entry' (delayed entry) or entry_col=None (none)")
    if entry_col in frame:
        return entry_col
    if entry_col != "entry":
        raise ColumnError(f"{name} has no entry column {entry_col!r}",
                          fix="pass the name of the entry-time column, or entry_col=None for no left truncation")
    return None


def _check_survival_columns(df, name, start_col, stop_col, event_col, covariates=(), min_events=1):
    """Shared bad-input checks of every survival fit: durations, events, order, variance."""
    times = [c for c in (start_col, stop_col) if c is not None]
    check_frame(df, name, required=[*times, event_col, *covariates])
    # the event column first: "Yes"/"No" or 1/2 codes get a recoding that works for them
    check_binary(df, event_col, name)
    check_frame(df, name, numeric=[*times, *covariates], no_nan=[*times, *covariates])
    stop_v = df[stop_col].to_numpy(dtype=float)
    if (stop_v < 0).any():
        i = int(np.flatnonzero(stop_v < 0)[0])
        raise DataValidationError(
            f"{name}[{stop_col!r}] has {int((stop_v < 0).sum())} negative duration(s) "
            f"(first at row {df.index[i]!r}: {stop_v[i]!r})",
            fix="durations are time from the spell start to the event or censoring; check that "
                "end dates are not before start dates (survival_frame() computes them)")
    if start_col is not None:
        start_v = df[start_col].to_numpy(dtype=float)
        if (start_v < 0).any():
            raise DataValidationError(f"{name}[{start_col!r}] has negative entry/start times",
                                      fix="entry times are tenure at the window start, >= 0")
        bad = start_v >= stop_v
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{name} has {int(bad.sum())} row(s) whose start {start_col!r} is not before stop {stop_col!r} "
                f"(start after stop; first at row {df.index[i]!r}: {start_v[i]!r} >= {stop_v[i]!r})",
                fix="each row covers the interval (start, stop]; drop zero-length rows and swap "
                    "reversed ones")
    n_ev = int(df[event_col].astype(int).sum())
    if n_ev < min_events:
        raise DataValidationError(
            f"{name}[{event_col!r}] has {n_ev} event(s): every row is censored, so there is nothing to "
            "estimate a churn hazard from" if n_ev == 0 else
            f"{name}[{event_col!r}] has only {n_ev} event(s); at least {min_events} are needed",
            fix="check that event = 1 marks churned spells (end date inside the window) and that "
                "the filters kept some churners")
    for c in covariates:
        v = df[c].to_numpy(dtype=float)
        if np.ptp(v) == 0:
            raise DataValidationError(
                f"{name}[{c!r}] has no variance (every value is {float(v[0]):g}), so its hazard ratio is "
                "not identified",
                fix=f"drop {c!r} from the covariates (or use it as a filter/stratum instead)")


def _check_group_column(df, by, name="frame"):
    if isinstance(by, (list, tuple, dict, set, pd.DataFrame, pd.Series, np.ndarray)):
        raise ParameterError(f"by must be one column name, got {type(by).__name__}",
                             fix="pass the name of the grouping column, e.g. by='plan'")
    require_columns(df, [by], name)
    if df[by].isna().any():
        raise DataValidationError(f"{name}[{by!r}] has {int(df[by].isna().sum())} missing value(s)",
                                  fix=f"drop them (df.dropna(subset=[{by!r}])) or give them their own label")


def _binary_array(x, name: str, meaning: str = "1 = churned") -> np.ndarray:
    """A 1-D 0/1 array; labels such as "Yes"/"No" or 1/2 get a recoding that fits them."""
    if x is None or isinstance(x, (str, bytes, pd.DataFrame)):
        raise ParameterError(f"{name} must be a 1-D list, array or Series of 0/1, got {type(x).__name__}",
                             fix=f"pass one 0/1 value per customer as {name}")
    try:
        arr = x.to_numpy() if isinstance(x, pd.Series) else np.asarray(x, dtype=object)
    except ValueError:  # ragged nested lists
        arr = None
    if arr is None or arr.ndim != 1:
        shape = "ragged" if arr is None else f"shape {arr.shape}"
        raise ParameterError(f"{name} must be 1-D, got {shape}", fix="pass one value per customer")
    s = x if isinstance(x, pd.Series) else pd.Series(arr)
    if s.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))).any():
        raise ParameterError(f"{name} holds lists, not single 0/1 values", fix="pass one value per customer")
    if len(s) == 0:
        raise DataValidationError(f"{name} is empty", fix="check the filters applied before this call")
    if s.isna().any():
        raise DataValidationError(f"{name} has {int(s.isna().sum())} missing value(s)",
                                  fix="drop those customers or fill the outcome before calling")
    ok = s.isin([0, 1, True, False]).to_numpy() & ~s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if not ok.all():
        bad = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(s[~ok])[:5]]
        raise DataValidationError(f"{name} must be 0/1 ({meaning}), found {bad}",
                                  fix=coding_advice(s, name, "binary"))
    return s.to_numpy().astype(int)


def _at_risk_counts(entry, stop, times):
    """Number with entry < t <= stop at each t (sorted-array counts)."""
    s_stop = np.sort(stop)
    n = len(stop) - np.searchsorted(s_stop, times, side="left")
    if entry is not None:
        s_entry = np.sort(entry)
        n = n - (len(entry) - np.searchsorted(s_entry, times, side="left"))
    return n.astype(float)
