"""Kaplan-Meier retention curves, the log-rank test with delayed entry, and RMST."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ColumnError, DataValidationError
from ..validation import (
    check_fitted,
    check_no_nan,
    check_probability,
    check_scalar,
    require_columns,
)
from ._common import _at_risk_counts, _check_survival_columns

__all__ = ["RetentionCurves", "logrank_test"]


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
        from .. import plots

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
