"""The Cox proportional hazards model of churn: a vectorised Efron engine with delayed entry,
strata and time-varying covariates."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..base import Fitter, TestResult, normal_quantile, wald_summary
from ..errors import ColumnError, ConvergenceError, DataValidationError, ParameterError
from ..validation import (
    check_array,
    check_ci_level,
    check_count,
    check_frame,
    check_no_nan,
    check_option,
    check_scalar,
    require_columns,
)
from ._common import (
    _PENALIZER_FIX,
    _as_list,
    _check_survival_columns,
    _entry_column,
    _forget_on_error,
)
from .evaluation import concordance

__all__ = ["ChurnCox", "compare_with_truth"]

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


class ChurnCox(Fitter):
    """Cox proportional hazards model of membership churn (delayed entry, strata, time-varying).

    h_i(t) = h0(t) exp(x_i(t)' beta): each hazard ratio exp(beta_j) multiplies the churn
    hazard per unit of covariate j, at every tenure (proportional hazards). Fit it on
    :func:`survival_frame` output (one row per spell; ``entry``/``duration`` detected) or on
    :func:`start_stop_frame` output (``start``/``stop`` rows with time-varying covariates);
    name other columns with ``fit(..., start_col=, stop_col=, event_col=, entry_col=)``.
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
    ci_level : float
        Level of the intervals in ``summary`` (0.95).
    engine : {"crmlab", "lifelines"}
        ``"lifelines"`` fits the coefficients with ``CoxTimeVaryingFitter`` (slow, for
        cross-checks); the baseline and residuals always come from crmlab.
    max_iter : int
        Newton steps before the fit gives up (at most 10,000).

    Notes
    -----
    Attributes (after ``fit``): ``params_`` (log hazard ratios), ``standard_errors_``,
    ``variance_matrix_``, ``summary`` (``estimate`` = log hazard ratio with its SE, CI and
    p-value, then ``hazard_ratio``, ``hr_lower``, ``hr_upper``), ``log_likelihood_``,
    ``log_likelihood_ratio_test_`` (a :class:`~crmlab.base.TestResult`),
    ``baseline_cumulative_hazard_`` (DataFrame, a column per stratum), ``n_spells_``
    (= ``n_obs_``), ``n_rows_``, ``n_events_``, ``concordance_`` (one-row-per-spell fits only),
    ``schoenfeld_`` (scaled Schoenfeld residuals).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> t = rng.exponential(1 / np.exp(0.7 * x))
    >>> d = pd.DataFrame({"duration": np.minimum(t, 2.0), "event": (t < 2.0).astype(int), "x": x})
    >>> m = ChurnCox().fit(d, ["x"], entry_col=None)
    >>> bool(m.summary.loc["x", "hr_lower"] < np.exp(0.7) < m.summary.loc["x", "hr_upper"])
    True
    >>> m.summary.columns.tolist()
    ['estimate', 'std_error', 'ci_lower', 'ci_upper', 'p_value', 'hazard_ratio', 'hr_lower', 'hr_upper']
    """

    _unit = "spells"

    def __init__(self, penalizer: float = 0.0, ci_level: float = 0.95, strata=None,
                 engine: str = "crmlab", max_iter: int = 100):
        check_scalar(penalizer, "penalizer", numbers.Real, 0, 1e6)
        check_ci_level(ci_level)
        if strata is not None and not isinstance(strata, str) and not (
                isinstance(strata, (list, tuple)) and all(isinstance(s, str) for s in strata)):
            raise ParameterError(f"strata must be a column name or a list of them, got {strata!r}",
                                 fix="pass e.g. strata='plan' or strata=['plan', 'region']")
        check_option(engine, "engine", ["crmlab", "lifelines"])
        check_count(max_iter, "max_iter", 1, 10_000)
        self.penalizer = penalizer
        self.ci_level = ci_level
        self.strata = strata
        self.engine = engine
        self.max_iter = max_iter

    # -- fitting ------------------------------------------------------------------------------
    def _columns(self, frame, start_col, stop_col, entry_col):
        if stop_col is None:
            if "stop" in frame and "start" in frame:
                start_col, stop_col = "start", "stop"
            elif "duration" in frame:
                stop_col = "duration"
                start_col = _entry_column(frame, entry_col)
            else:
                raise ColumnError("frame has neither start/stop nor duration columns",
                                  fix="build it with survival_frame() or start_stop_frame(), or "
                                      "pass stop_col= (and start_col=) column names")
        return start_col, stop_col

    def fit(self, frame: pd.DataFrame, covariates: Sequence[str] | None = None, *,
            start_col: str | None = None, stop_col: str | None = None, event_col: str = "event",
            entry_col: str | None = "entry", id_col: str = "membership_id") -> ChurnCox:
        """Fit on ``frame``; ``covariates`` default to every numeric column not used otherwise.

        Time columns: ``start_col``/``stop_col`` if given, else ``start``/``stop`` (start-stop
        rows) or ``entry_col``/``duration`` (one row per spell) when the frame has them.
        ``id_col`` counts the spells of start-stop data.
        """
        with _forget_on_error(self):
            return self._fit(frame, covariates, start_col, stop_col, event_col, entry_col, id_col)

    def _fit(self, frame, covariates, start_col, stop_col, event_col, entry_col, id_col):
        check_frame(frame, "frame")
        strata = _as_list(self.strata, "strata")
        start, stop = self._columns(frame, start_col, stop_col, entry_col)
        event, id = event_col, id_col  # noqa: A001
        reserved = {c for c in (start, stop, event, id, "customer_id", *strata) if c}
        if covariates is None:
            covariates = [c for c in frame.columns if c not in reserved
                          and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
                          and c not in ("entry", "duration", "left_truncated")]
        covariates = _as_list(covariates)
        if not covariates:
            raise ParameterError("no covariates to fit", fix="pass covariates=[...] (numeric columns)")
        twice = sorted({c for c in covariates if covariates.count(c) > 1})
        if twice:
            raise ParameterError(f"covariates {twice} are listed more than once", fix="list each covariate once")
        dup = [c for c in covariates if c in reserved]
        if dup:
            raise ParameterError(f"covariates {dup} are also the time/event/id/strata columns",
                                 fix="remove them from covariates")
        _check_survival_columns(frame, "frame", start, stop, event, covariates)
        if strata:
            require_columns(frame, strata, "frame")
            check_no_nan(frame, strata, "frame")
        n = len(frame)
        X = frame[covariates].to_numpy(dtype=float)
        t1 = frame[stop].to_numpy(dtype=float)
        t0 = frame[start].to_numpy(dtype=float) if start else np.zeros(n)
        ev = frame[event].to_numpy().astype(int).astype(bool)
        self.n_spells_ = int(frame[id].nunique()) if id in frame else n
        self.n_rows_, self.n_events_ = n, int(ev.sum())
        self.n_obs_ = self.n_spells_
        self._strata = strata
        mean, sd = X.mean(0), X.std(0, ddof=1) if n > 1 else np.ones(X.shape[1])
        sd = np.where(sd > 0, sd, 1.0)
        Xs = (X - mean) / sd
        codes = (frame.groupby(strata, sort=True).ngroup().to_numpy() if strata
                 else np.zeros(n, dtype=int))
        self._strata_keys = (list(frame.groupby(strata, sort=True).groups.keys())
                             if strata else ["baseline"])
        strata_list = []
        for g in range(codes.max() + 1):
            rows = np.flatnonzero(codes == g)
            strata_list.append(_Stratum(rows, t0[rows], t1[rows], ev[rows]))
        self.covariates_ = covariates
        self._mean, self._sd = mean, sd
        penalty = float(self.penalizer) * self.n_spells_
        if self.engine == "lifelines":
            beta_s = self._fit_lifelines(frame, covariates, start, stop, event, Xs)
            ll, _, hess = _newton_eval(strata_list, Xs, beta_s, penalty)
            ll0, iters, converged = None, 0, True
        else:
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    beta_s, hess, ll, ll0, iters, converged = _newton(
                        strata_list, Xs, penalty, int(self.max_iter))
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
        self.log_likelihood_ratio_test_ = TestResult(
            "likelihood-ratio test", statistic=float(lr), df=len(covariates),
            p_value=float(stats.chi2.sf(lr, len(covariates))), statistic_name="chi2",
            null_hypothesis="every coefficient is 0 (no covariate changes the churn hazard)")
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
        for col in self._strata:
            d[col] = frame[col].to_numpy()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # lifelines penalises n_rows * penalizer / 2 * |beta_std|^2; match ours
                ctv = CoxTimeVaryingFitter(penalizer=float(self.penalizer) * self.n_spells_ / len(d))
                ctv.fit(d, id_col="_id", event_col="_event", start_col="_start", stop_col="_stop",
                        strata=self._strata or None)
        except (LLConvergenceError, np.linalg.LinAlgError) as err:
            raise ConvergenceError(f"lifelines' CoxTimeVaryingFitter did not converge ({err})",
                                   fix=_PENALIZER_FIX) from None
        return ctv.params_.reindex(covariates).to_numpy()

    def _fit_baseline_and_residuals(self, strata_list, Xs, beta_s, t1, ev, codes):
        offset = float(self._mean @ (beta_s / self._sd))  # x'beta = xs'beta_s + mean'beta
        cols, times_all, last_event = {}, [], {}
        resid_rows, resid_times, resid_strata = [], [], []
        for key, st in zip(self._strata_keys, strata_list, strict=True):
            Xg = Xs[st.rows]
            r = np.exp(Xg @ beta_s)
            S0 = st.risk_sums(r)
            h = st.d / S0 * np.exp(-offset)  # Breslow increments at x = 0
            cols[key] = pd.Series(np.cumsum(h), index=st.times)
            last_event[key] = float(st.times[-1]) if len(st.times) else np.nan
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
        self._last_event = last_event
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
        self._check_fitted()
        if self._concordance is None:
            d = self._concordance_data
            self._concordance = np.nan if d is None else concordance(*d)
        return self._concordance

    def _summary(self) -> pd.DataFrame:
        """Log hazard ratios with SEs, CIs and p-values, then the hazard ratio and its CI."""
        b, se = self.params_.to_numpy(), self.standard_errors_.to_numpy()
        z = normal_quantile(self.ci_level)
        return wald_summary(b, se, index=pd.Index(self.covariates_, name="covariate"), ci_level=self.ci_level,
                            hazard_ratio=np.exp(b), hr_lower=np.exp(b - z * se), hr_upper=np.exp(b + z * se))

    def _repr_fitted(self) -> str:
        hr = ", ".join(f"{c}={np.exp(v):.3g}" for c, v in self.params_.head(6).items())
        more = " ..." if len(self.params_) > 6 else ""
        rows = f" ({self.n_rows_:,} rows)" if self.n_rows_ != self.n_spells_ else ""
        return f"fitted on {self.n_spells_:,} spells{rows}, {self.n_events_:,} churn events: HR {hr}{more}"

    def check_proportional_hazards(self, transform: str = "rank") -> TestResult:
        """Schoenfeld-residual test of proportional hazards (Grambsch & Therneau 1994).

        Regresses the scaled Schoenfeld residuals on a transform of event time (``"rank"``,
        ``"log"``, ``"identity"`` or ``"km"``), the approximation that lifelines'
        ``proportional_hazard_test`` and R's ``cox.zph`` (before survival 3.0) use. Returns a
        :class:`~crmlab.base.TestResult` whose statistic is the global test (all covariates,
        df = their number) and whose ``table`` has one row per covariate (``test_statistic``
        on 1 df, ``p_value``, ``ph_rejected`` at the level 1 - ``ci_level``). A small p-value
        says a hazard ratio drifts with tenure. Remedies: ``strata=[col]`` or a time
        interaction (:func:`add_time_interaction`).
        """
        self._check_fitted()
        check_option(transform, "transform", ["rank", "log", "identity", "km"])
        t = self.schoenfeld_["time"].to_numpy()
        if len(t) < 3:
            raise DataValidationError(f"the fit has {len(t)} churn event(s); the proportional-hazards test "
                                      "needs at least 3", fix="fit on more data")
        if transform == "rank":
            g = np.arange(1, len(t) + 1, dtype=float)
        elif transform == "log":
            g = np.log(t)
        elif transform == "identity":
            g = t.astype(float)
        else:
            from lifelines import KaplanMeierFitter

            from .curves import _km_fit

            t0, t1, ev = self._km_data
            km = _km_fit(KaplanMeierFitter(), t1, ev, t0, "the fitted spells")
            g = 1 - km.predict(t).to_numpy()
        gd = g - g.mean()
        ss = float((gd ** 2).sum())
        if not ss > 0:
            raise DataValidationError("every churn event happens at the same tenure, so a drift of the "
                                      "hazard ratio with tenure cannot be tested", fix="fit on more varied data")
        resid = self.schoenfeld_[self.covariates_].to_numpy()
        T = (gd @ resid) ** 2 / (len(t) * self.standard_errors_.to_numpy() ** 2 * ss)
        p = stats.chi2.sf(T, 1)
        table = pd.DataFrame({"test_statistic": T, "p_value": p, "ph_rejected": p < 1 - self.ci_level},
                             index=pd.Index(self.covariates_, name="covariate"))
        # global test: u' V u * d / sum(g^2) with the unscaled residuals (cox.zph, survival < 3.0);
        # both in standardised units, where the result is the same
        u = gd @ self._raw_resid
        V_s = self.variance_matrix_.to_numpy() * np.outer(self._sd, self._sd)
        glob = float(u @ V_s @ u * len(t) / ss)
        k = len(self.covariates_)
        return TestResult("proportional-hazards test (scaled Schoenfeld residuals)", statistic=glob, df=k,
                          p_value=float(stats.chi2.sf(glob, k)), table=table, statistic_name="chi2",
                          null_hypothesis="every hazard ratio is constant over tenure",
                          details={"time transform": transform})

    def plot_schoenfeld(self, covariate: str, ax=None, frac: float = 0.3):
        """Scaled Schoenfeld residuals of ``covariate`` against tenure with a lowess smooth.

        A flat smooth at the estimated coefficient supports proportional hazards; a trend
        shows how the log hazard ratio changes with tenure.
        """
        self._check_fitted()
        check_scalar(frac, "frac", numbers.Real, 0, 1, low_inclusive=False)
        if covariate not in self.covariates_:
            raise ParameterError(f"{covariate!r} is not a covariate of this model",
                                 fix=f"choose one of {self.covariates_}")
        from statsmodels.nonparametric.smoothers_lowess import lowess

        from .. import plots

        if ax is None:
            _, ax = plots.subplots()
        t = self.schoenfeld_["time"].to_numpy()
        y = self.schoenfeld_[covariate].to_numpy()
        ax.scatter(t, y, s=6, alpha=0.3, color=plots.PALETTE[0], label="scaled residual")
        sm = lowess(y, t, frac=frac, it=0, return_sorted=True)  # it=0: binary covariates are bimodal
        ax.plot(sm[:, 0], sm[:, 1], color=plots.PALETTE[1], lw=2, label="lowess smooth")
        ax.axhline(self.params_[covariate], color="k", ls="--", lw=1, label="estimated coefficient")
        lo, hi = np.quantile(y, [0.02, 0.98])
        ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        return plots.finish(ax, title=f"Schoenfeld residuals: {covariate}", xlabel="tenure (months)",
                            ylabel="β(t): log hazard ratio at tenure t")

    def plot_hazard_ratios(self, ax=None, truth: dict | None = None):
        """Forest plot of hazard ratios with CIs (log scale); ``truth`` = planted HRs."""
        self._check_fitted()
        if truth is not None:
            truth = _check_truth(truth)
        import matplotlib.ticker

        from .. import plots

        s = self.summary
        if ax is None:
            _, ax = plots.subplots()
        y = np.arange(len(s))[::-1]
        hr = s["hazard_ratio"]
        ax.errorbar(hr, y, xerr=[hr - s["hr_lower"], s["hr_upper"] - hr], fmt="o",
                    color=plots.PALETTE[0], capsize=3, label=f"estimate ({100 * self.ci_level:g}% CI)")
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
        self._check_fitted()
        check_frame(X, "X", required=self.covariates_, numeric=self.covariates_, no_nan=self.covariates_)
        return pd.Series(X[self.covariates_].to_numpy(dtype=float) @ self.params_.to_numpy(),
                         index=X.index, name="log_hazard")

    def predict_partial_hazard(self, X: pd.DataFrame) -> pd.Series:
        """exp(x' beta): the churn hazard relative to a customer with x = 0."""
        return np.exp(self.predict_log_hazard(X)).rename("partial_hazard")

    def baseline_cumulative_hazard_at(self, t, stratum=None) -> np.ndarray:
        """H0(t) at arbitrary tenures: Breslow steps, extended beyond the last event time by a
        Weibull tail fitted to the baseline (see :meth:`weibull_baseline`)."""
        self._check_fitted()
        key = self._stratum_key(stratum)
        self._last_event_time(key)
        H = self.baseline_cumulative_hazard_[key]
        t = check_array(t, "t", non_negative=True, min_size=0)
        idx = np.searchsorted(H.index.to_numpy(), t, side="right") - 1
        vals = np.where(idx >= 0, H.to_numpy()[np.clip(idx, 0, None)], 0.0)
        tmax = float(H.index[-1])
        beyond = t > tmax
        if beyond.any():
            try:
                shape = self.weibull_baseline(stratum=key)["shape"]
            except DataValidationError:
                raise DataValidationError(
                    f"tenures beyond the last churn time ({tmax:.3g} months) need the Weibull tail of the "
                    "baseline, and the fit has too few churn times after 1 month to estimate it",
                    fix=f"predict at tenures up to {tmax:.3g} months, or fit on more churn events") from None
            vals = np.where(beyond, H.iloc[-1] * (np.maximum(t, tmax) / tmax) ** shape, vals)
        return vals

    def _stratum_key(self, stratum):
        key = self._strata_keys[0] if stratum is None else stratum
        try:
            known = key in self.baseline_cumulative_hazard_
        except TypeError:  # unhashable
            known = False
        if not known:
            raise ParameterError(f"unknown stratum {key!r}", fix=f"use one of {self._strata_keys}")
        return key

    def _last_event_time(self, key) -> float:
        """The last churn time of a stratum; a stratum without churn has no baseline to predict from."""
        last = self._last_event.get(key, np.nan)
        if not np.isfinite(last):
            raise DataValidationError(f"stratum {key!r} has no churn event, so its baseline hazard is not "
                                      "estimated", fix="merge it with another stratum or drop it before fitting")
        return last

    def weibull_baseline(self, stratum=None, min_time: float = 1.0) -> dict:
        """Fit H0(t) = (t / scale)^shape to the Breslow baseline (least squares on log-log).

        With the planted Weibull baseline this recovers the generator's shape and scale.
        """
        self._check_fitted()
        check_scalar(min_time, "min_time", numbers.Real, 0)
        key = self._stratum_key(stratum)
        self._last_event_time(key)
        H = self.baseline_cumulative_hazard_[key]
        H = H[(H.index >= min_time) & (H > 0)]
        if len(H) < 3:
            raise DataValidationError("too few event times to fit a Weibull baseline",
                                      fix="lower min_time or use more data")
        lt, lh = np.log(H.index.to_numpy(dtype=float)), np.log(H.to_numpy())
        shape, icpt = np.polyfit(lt, lh, 1)
        return {"shape": float(shape), "scale": float(np.exp(-icpt / shape))}

    def _strata_of(self, X):
        if not self._strata:
            return np.full(len(X), self._strata_keys[0], dtype=object)
        require_columns(X, self._strata, "X")
        keys = list(X[self._strata].itertuples(index=False, name=None))
        out = np.array([k[0] if len(self._strata) == 1 else k for k in keys] + [None], dtype=object)[:-1]
        unknown = [k for k in pd.unique(out) if k not in self.baseline_cumulative_hazard_]
        if unknown:
            raise DataValidationError(f"X has strata {unknown[:5]} that the model was not fitted on",
                                      fix=f"predict only for the fitted strata {self._strata_keys}")
        return out

    def predict_survival(self, X: pd.DataFrame, times, conditional_after=None) -> pd.DataFrame:
        """S(t | x) at ``times`` (rows: X's index, columns: times), holding x fixed.

        ``conditional_after`` (scalar or one value per row) gives S(t | x, T > a) =
        S(t | x) / S(a | x) for t >= a: the retention outlook of a member who has already
        stayed a months. Time-varying covariates are held at their current values.
        """
        self._check_fitted()
        times = _months(times, "times")
        lp = self.predict_partial_hazard(X).to_numpy()
        strata = self._strata_of(X)
        out = np.empty((len(X), len(times)))
        a = None
        if conditional_after is not None:
            a = _per_row(conditional_after, len(X), "conditional_after")
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
        self._check_fitted()
        check_frame(X, "X", required=self.covariates_, numeric=self.covariates_, no_nan=self.covariates_)
        a = _per_row(tenure, len(X), "tenure")
        u = _months(months, "months")
        return pd.DataFrame(_conditional_curves(self, X, a, u), index=X.index, columns=u)

    def predict_median(self, X: pd.DataFrame, tenure=0.0, horizon: float = 240.0,
                       step: float = 0.25) -> pd.Series:
        """Median remaining months of membership given ``tenure`` (0: median tenure).

        ``inf`` when the predicted survival stays above one half within ``horizon`` (months,
        searched in steps of ``step`` months).
        """
        self._check_fitted()
        _check_grid(horizon, step)
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
    >>> m = ChurnCox().fit(pd.DataFrame({"duration": t, "event": 1, "x": x}), ["x"], entry_col=None)
    >>> compare_with_truth(m, {"x": np.exp(-0.5)})["inside_ci"].item()
    True
    """
    if not isinstance(model, ChurnCox):
        raise ParameterError(f"model must be a fitted ChurnCox, got {type(model).__name__}",
                             fix="fit one: ChurnCox().fit(frame, covariates)")
    model._check_fitted()
    truth = _check_truth(truth)
    if names is not None and not isinstance(names, Mapping):
        raise ParameterError(f"names must be a dict {{model covariate: truth key}}, got {type(names).__name__}",
                             fix="pass e.g. names={'plan_plus': 'plus'}")
    names = names or {}
    s = model.summary
    rows = []
    for cov in s.index:
        key = names.get(cov, cov)
        if key not in truth:
            continue
        hr = float(truth[key])
        rows.append({"covariate": cov, "planted_hr": hr, "estimated_hr": s.loc[cov, "hazard_ratio"],
                     "hr_lower": s.loc[cov, "hr_lower"], "hr_upper": s.loc[cov, "hr_upper"],
                     "planted_log_hr": np.log(hr), "estimated_log_hr": s.loc[cov, "estimate"],
                     "inside_ci": bool(s.loc[cov, "hr_lower"] <= hr <= s.loc[cov, "hr_upper"])})
    if not rows:
        raise ParameterError(f"none of the model covariates {list(s.index)} is in truth {list(truth)}",
                             fix="rename covariates to the truth keys or pass names={...}")
    return pd.DataFrame(rows).set_index("covariate")



def _check_truth(truth) -> dict:
    if not isinstance(truth, Mapping) or not truth:
        raise ParameterError("truth must be a non-empty dict {covariate: planted hazard ratio}",
                             fix="pass world.truth['membership']['hazard_ratios']")
    bad = {k: v for k, v in truth.items()
           if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v) or v <= 0}
    if bad:
        raise ParameterError(f"truth holds hazard ratios that are not positive finite numbers: {bad}",
                             fix="pass hazard ratios (exp of the log hazard ratios), e.g. {'plan_plus': 0.8}")
    return {k: float(v) for k, v in truth.items()}


_MONTHS_FIX = {"times": "pass tenures in months, e.g. [6, 12, 24]",
               "months": "pass months ahead, e.g. [3, 6, 12]",
               "tenure": "pass each member's current tenure in months (months already stayed)",
               "conditional_after": "pass each member's current tenure in months (months already stayed)"}


def _non_negative_months(x, name) -> np.ndarray:
    out = check_array(x, name)
    if (out < 0).any():
        i = int(np.flatnonzero(out < 0)[0])
        raise DataValidationError(f"{name} has {int((out < 0).sum())} negative value(s) (first at position "
                                  f"{i}: {out[i]:g}); it must be >= 0",
                                  fix=_MONTHS_FIX.get(name, f"pass {name} in months, >= 0"))
    return out


def _months(x, name) -> np.ndarray:
    """Tenures or months ahead: finite, >= 0, at most 100,000 of them."""
    out = _non_negative_months(x, name)
    if out.size > 100_000:
        raise ParameterError(f"{name} has {out.size:,} values", fix=f"pass at most 100,000 {name}")
    return out


def _per_row(x, n, name) -> np.ndarray:
    """A scalar or one value per row, finite and >= 0 (months already stayed)."""
    arr = _non_negative_months(x, name)
    if arr.size not in (1, n):
        raise ParameterError(f"{name} has {arr.size} values for {n} rows",
                             fix=f"pass one {name} per row of X, or a single value for all")
    return np.broadcast_to(arr, (n,)).copy()


def _check_grid(horizon, step, max_points: int = 4_800):
    """A horizon in months and an integration step, with a bounded number of grid points."""
    check_scalar(horizon, "horizon", numbers.Real, 0, 1_200, low_inclusive=False)
    check_scalar(step, "step", numbers.Real, 0, horizon, low_inclusive=False)
    if horizon / step > max_points:
        raise ParameterError(f"horizon={horizon:g} in steps of {step:g} months is {horizon / step:,.0f} grid points",
                             fix=f"use step >= {horizon / max_points:.3g} (at most {max_points:,} points)")


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
