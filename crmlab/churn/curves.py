"""Kaplan-Meier retention curves, the log-rank test with delayed entry, and RMST."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..base import Fitter, TestResult, normal_quantile, summary_frame
from ..errors import DataValidationError
from ..validation import check_array, check_ci_level, check_frame, check_option, check_scalar
from ._common import _at_risk_counts, _check_group_column, _check_survival_columns, _entry_column

__all__ = ["RetentionCurves", "logrank_test"]

_MAX_GROUPS = 100  # more groups than this is a continuous column passed as `by` by mistake


def _groups(frame, by, name="frame"):
    _check_group_column(frame, by, name)
    keys = sorted(pd.unique(frame[by]), key=str)
    if len(keys) > _MAX_GROUPS:
        raise DataValidationError(f"{name}[{by!r}] has {len(keys):,} distinct values; a retention comparison "
                                  f"takes at most {_MAX_GROUPS} groups",
                                  fix=f"group a continuous column first, e.g. pd.qcut(df[{by!r}], 4)")
    return keys


def logrank_test(
    frame: pd.DataFrame,
    by: str,
    *,
    duration_col: str = "duration",
    event_col: str = "event",
    entry_col: str | None = "entry",
) -> TestResult:
    """Log-rank test that the churn hazards of the ``by`` groups are equal (delayed entry).

    The risk set at each event time holds the spells with ``entry < t <= duration``, so
    left-truncated spells are at risk only after they entered observation (lifelines'
    log-rank functions have no entry argument). Without ``entry_col`` the result equals
    ``lifelines.statistics.multivariate_logrank_test``. The default ``"entry"`` is used
    where the frame has it.

    Returns a :class:`~crmlab.base.TestResult`: the chi-square statistic on (groups - 1) df,
    and as ``table`` one row per group with ``n`` spells and ``observed`` / ``expected`` events.

    >>> d = pd.DataFrame({"duration": [1, 2, 3, 4, 5, 6], "event": [1, 1, 1, 0, 1, 0],
    ...                   "plan": ["a", "a", "a", "b", "b", "b"]})
    >>> round(logrank_test(d, "plan", entry_col=None).p_value, 3)
    0.025
    """
    check_frame(frame, "frame")
    entry_col = _entry_column(frame, entry_col)
    _check_survival_columns(frame, "frame", entry_col, duration_col, event_col)
    labels = _groups(frame, by)
    if len(labels) < 2:
        raise DataValidationError(f"frame[{by!r}] has a single group ({labels[0]!r}); a log-rank "
                                  "test compares at least two", fix="choose a column with 2+ groups")
    groups = frame[by].to_numpy()
    stop = frame[duration_col].to_numpy(dtype=float)
    ev = frame[event_col].to_numpy().astype(int).astype(bool)
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
    never = [lab for lab, row in zip(labels, n_g, strict=True) if not row.any()]
    if never:
        raise DataValidationError(
            f"group(s) {never} of frame[{by!r}] have no spell at risk at any churn time, so the test "
            "has nothing to compare them on", fix="drop those groups or merge them with a neighbour")
    expected = (d * n_g / n).sum(1)
    observed = d_g.sum(1)
    f = np.where(n > 1, d * (n - d) / np.maximum(n - 1, 1), 0.0) / n
    V = np.diag((f * n_g).sum(1)) - (f / n * n_g) @ n_g.T
    k = len(labels) - 1
    z = (observed - expected)[:k]
    try:
        chi2 = float(z @ np.linalg.solve(V[:k, :k], z))
    except np.linalg.LinAlgError:
        raise DataValidationError(
            f"the log-rank variance is singular: some groups of frame[{by!r}] share no churn time "
            "at which both have spells at risk", fix="merge small groups before testing") from None
    p = float(stats.chi2.sf(chi2, k))
    table = pd.DataFrame({"n": [int((groups == g).sum()) for g in labels], "observed": observed,
                          "expected": expected}, index=pd.Index(labels, name=by))
    return TestResult("log-rank test", statistic=chi2, p_value=p, df=k, table=table, statistic_name="chi2",
                      null_hypothesis=f"the groups of {by!r} have the same churn hazard",
                      details={"delayed entry": entry_col is not None})


class RetentionCurves(Fitter):
    """Kaplan-Meier retention curves (留存曲线) by segment, with confidence bands.

    Wraps ``lifelines.KaplanMeierFitter`` (which accepts delayed entry). After ``fit``:
    ``fitters_`` (group -> fitted KM), ``medians_`` (= ``summary``: median tenure per group
    with its CI, ``n`` spells and ``events``), ``logrank_`` (the log-rank test across groups
    with delayed entry honoured, a :class:`~crmlab.base.TestResult`, or ``None``).
    A median that is not reached (retention stays above one half) is ``inf``; ``summary`` then
    warns.

    >>> d = pd.DataFrame({"duration": [2.0, 3, 5, 8, 9, 12], "event": [1, 1, 0, 1, 1, 0]})
    >>> rc = RetentionCurves().fit(d, entry_col=None)
    >>> float(rc.summary.loc["all", "estimate"])
    8.0
    """

    _unit = "spells"

    def __init__(self, ci_level: float = 0.95):
        check_ci_level(ci_level)
        self.ci_level = ci_level

    def fit(self, frame: pd.DataFrame, by: str | None = None, *, duration_col: str = "duration",
            event_col: str = "event", entry_col: str | None = "entry") -> RetentionCurves:
        """Fit one Kaplan-Meier curve per group of ``by`` (one curve, "all", without it)."""
        from lifelines import KaplanMeierFitter

        check_frame(frame, "frame")
        entry_col = _entry_column(frame, entry_col)
        _check_survival_columns(frame, "frame", entry_col, duration_col, event_col)
        keys = ["all"] if by is None else _groups(frame, by)
        self.by_, self.duration_col_, self.event_col_, self.entry_col_ = by, duration_col, event_col, entry_col
        self.fitters_, rows = {}, []
        for key in keys:
            sub = frame if by is None else frame.loc[frame[by] == key]
            kmf = KaplanMeierFitter(alpha=1 - self.ci_level, label=str(key))
            _km_fit(kmf, sub[duration_col].astype(float), sub[event_col].astype(int),
                    None if entry_col is None else sub[entry_col].astype(float), f"group {key!r}")
            self.fitters_[key] = kmf
            lo, hi = _km_median_ci(kmf)
            rows.append({"median": float(kmf.median_survival_time_), "lower": lo, "upper": hi,
                         "n": len(sub), "events": int(sub[event_col].astype(int).sum())})
        r = pd.DataFrame(rows)
        self.medians_ = summary_frame(r["median"], None, r["lower"], r["upper"], ci_level=self.ci_level,
                                      index=pd.Index(keys, name="group"), n=r["n"], events=r["events"])
        self.n_obs_ = len(frame)
        self.logrank_ = (logrank_test(frame, by, duration_col=duration_col, event_col=event_col,
                                      entry_col=entry_col)
                         if by is not None and len(keys) > 1 else None)
        return self

    def _summary(self) -> pd.DataFrame:
        out = self.medians_.copy()
        not_reached = out.index[~np.isfinite(out["estimate"].to_numpy())].tolist()
        if not_reached:
            warnings.warn(f"RetentionCurves: the median tenure of {not_reached} is not reached (retention "
                          "stays above one half to the last tenure observed), so its estimate is inf; "
                          "compare those groups with survival_at() or rmst()", UserWarning, stacklevel=3)
        return out

    def _repr_fitted(self) -> str:
        meds = ", ".join(f"{k}={v:.3g}" for k, v in self.medians_["estimate"].head(6).items())
        more = " ..." if len(self.medians_) > 6 else ""
        return (f"fitted on {self.n_obs_:,} spells, {int(self.medians_['events'].sum()):,} churn events: "
                f"median tenure {meds}{more}")

    def survival_at(self, times) -> pd.DataFrame:
        """Survival (retention) probability at the given tenures, one row per group and time.

        ``estimate`` is the Kaplan-Meier S(t), ``std_error`` its Greenwood standard error and
        ``ci_lower``/``ci_upper`` lifelines' log-log interval at ``ci_level``. Under delayed entry a
        tenure before a group's first entry has no spell at risk: NaN there, with a warning.
        """
        self._check_fitted()
        times = check_array(times, "times", non_negative=True)
        if times.size > 10_000:
            raise DataValidationError(f"times has {times.size:,} values", fix="pass at most 10,000 tenures")
        rows = []
        for key, kmf in self.fitters_.items():
            ci = kmf.confidence_interval_survival_function_
            se = _km_greenwood_se(kmf, times)
            for j, t in enumerate(times):
                rows.append({"group": key, "time": t, "estimate": float(kmf.predict(t)), "std_error": se[j],
                             "ci_lower": float(ci.iloc[:, 0].asof(t)), "ci_upper": float(ci.iloc[:, 1].asof(t))})
        out = pd.DataFrame(rows)
        out.attrs["ci_level"] = self.ci_level
        gone = out.loc[out["estimate"].isna()]
        if len(gone):
            warnings.warn(f"RetentionCurves.survival_at: no spell of group(s) {sorted(set(gone['group']), key=str)} "
                          f"is at risk at tenure(s) {sorted(set(gone['time']))} (before their first entry), so "
                          "S(t) is not estimated there (NaN); ask for tenures after the first entry",
                          UserWarning, stacklevel=2)
        return out

    def rmst(self, tau: float) -> pd.DataFrame:
        """Restricted mean survival time (限制平均生存时间) up to ``tau`` months, with SE and CI.

        RMST(tau) = area under the KM curve from 0 to tau = expected months of membership
        within the first tau months. Variance by the Greenwood-type formula
        sum_k A_k^2 d_k / (n_k (n_k - d_k)), A_k = area under the curve from t_k to tau.
        One row per group: ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``tau``.
        """
        self._check_fitted()
        check_scalar(tau, "tau", numbers.Real, 0, 1e6, low_inclusive=False)
        z = normal_quantile(self.ci_level)
        est, se = [], []
        for kmf in self.fitters_.values():
            mean, var = _km_rmst(kmf, float(tau))
            est.append(mean)
            se.append(np.sqrt(var))
        est, se = np.array(est), np.array(se)
        return summary_frame(est, se, est - z * se, est + z * se, ci_level=self.ci_level,
                             index=pd.Index(list(self.fitters_), name="group"), tau=np.full(len(est), float(tau)))

    def plot(self, ax=None, show_ci: bool = True, title: str = "Retention curves (Kaplan-Meier)",
             at_risk: bool = False):
        """Retention curves, with confidence bands when ``show_ci``; returns the Axes."""
        self._check_fitted()
        check_option(show_ci, "show_ci", [True, False])
        check_option(at_risk, "at_risk", [True, False])
        from .. import plots

        if ax is None:
            _, ax = plots.subplots()
        for kmf in self.fitters_.values():
            kmf.plot_survival_function(ax=ax, ci_show=show_ci)
        ax.set_ylim(0, 1.02)
        plots.finish(ax, title=title, xlabel="tenure (months)", ylabel="share still a member")
        if at_risk:
            from lifelines.plotting import add_at_risk_counts

            add_at_risk_counts(*self.fitters_.values(), ax=ax)
        return ax


def _km_fit(kmf, durations, events, entry, what="the spells"):
    """Fit a Kaplan-Meier curve; an emptied risk set under delayed entry is a named error."""
    from lifelines.exceptions import StatError

    try:
        return kmf.fit(durations, events, entry=entry)
    except StatError:
        raise DataValidationError(
            f"the risk set of {what} empties early: under delayed entry too few spells are at risk at "
            "the first tenures, so the Kaplan-Meier curve would drop to 0 for good",
            fix="fit on more spells, or keep the spells that entered early (e.g. frame[frame['entry'] < 12]); "
                "entry_col=None instead would ignore the left truncation and bias the curve upwards") from None


def _km_greenwood_se(kmf, times) -> np.ndarray:
    """Greenwood's SE of S(t): S(t) sqrt(sum over event times <= t of d / (n (n - d)))."""
    et = kmf.event_table
    ev_t = et.index.to_numpy(dtype=float)
    d = et["observed"].to_numpy(dtype=float)
    n = et["at_risk"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where((d > 0) & (n > d), d / (n * (n - d)), 0.0)
    cum = np.cumsum(terms)
    idx = np.searchsorted(ev_t, times, side="right") - 1
    var = np.where(idx >= 0, cum[np.clip(idx, 0, None)], 0.0)
    s = np.atleast_1d(np.asarray(kmf.predict(times), dtype=float))
    return s * np.sqrt(var)


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
