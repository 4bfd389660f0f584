"""Customer lifetime value (客户生命周期价值): BG/NBD, Gamma-Gamma and sBG on numpy/scipy.

Which model when (Fader & Hardie's map):

=====================  ==================================  ===================================
setting                discrete opportunities              continuous time
=====================  ==================================  ===================================
contractual (会员订阅)  sBG: monthly renewals               exponential/Weibull survival (08)
non-contractual        BG/BB (fixed events)                BG/NBD (+ Gamma-Gamma for spend)
=====================  ==================================  ===================================

* :func:`summary_from_transactions` turns a transaction log into the per-customer
  frequency / recency / T / monetary_value summary (RFM for CLV models), optionally with
  a calibration/holdout split;
* :class:`BetaGeoFitter` — BG/NBD (Fader, Hardie & Lee 2005): maximum likelihood with
  analytic gradients, standard errors from the Hessian, expected purchases, P(alive),
  model-check plots;
* :class:`GammaGammaFitter` — spend per transaction (Fader, Hardie & Lee 2005b);
* :class:`ShiftedBetaGeometricFitter` — sBG retention for contracts (Fader & Hardie 2007);
* :func:`customer_lifetime_value` = margin x discounted expected purchases x expected spend;
  :func:`oracle_customer_lifetime_value` is the same quantity for a forecaster who knows each
  customer's latent purchase rate, drop-out probability and spend (the synthetic world's
  ``latent`` table): the benchmark a fitted model is compared with;
* :func:`simulate_bgnbd` / :func:`simulate_spend` draw data from the models (for checks,
  teaching and the benchmarks).

The models are implemented here rather than taken from ``lifetimes`` (archived; breaks on
new pandas) and are tested against the published CDNOW estimates (``datasets/real/cdnow``).

>>> import numpy as np, pandas as pd
>>> s = simulate_bgnbd(2000, T=52, r=0.5, alpha=5.0, a=0.8, b=2.5, seed=1)
>>> bgf = BetaGeoFitter().fit(s)
>>> bool(abs(bgf.params_["r"] - 0.5) < 0.15)
True
"""

from __future__ import annotations

import numbers
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ._threads import single_thread as _single_thread
from .errors import ConvergenceError, DatasetNotFoundError, DataValidationError, ParameterError
from .validation import (
    check_dates,
    check_fitted,
    check_frame,
    check_no_nan,
    check_probability,
    check_random_state,
    check_scalar,
    require_columns,
)

__all__ = [
    "TIME_UNIT_DAYS",
    "summary_from_transactions",
    "contract_periods",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ShiftedBetaGeometricFitter",
    "customer_lifetime_value",
    "individual_expected_purchases",
    "oracle_customer_lifetime_value",
    "tracking_table",
    "plot_tracking",
    "simulate_bgnbd",
    "simulate_spend",
    "CDNOW_DIR",
    "load_cdnow",
]

TIME_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 30.4375}
"""Length of one model time unit in days (``M`` = an average month, 365.25 / 12 days)."""

_LOG_BOUND = 12.0  # |log(parameter)| beyond this (x 1.6e5) = the parameter ran off


# ------------------------------------------------------------------------------------
# data preparation
# ------------------------------------------------------------------------------------
def _time_unit(time_unit: str) -> float:
    if time_unit not in TIME_UNIT_DAYS:
        raise ParameterError(f"time_unit must be one of {list(TIME_UNIT_DAYS)}, got {time_unit!r}",
                             fix="use 'W' (weeks, as in the BG/NBD papers), 'D' or 'M'")
    return TIME_UNIT_DAYS[time_unit]


def summary_from_transactions(
    transactions: pd.DataFrame,
    *,
    observation_end,
    calibration_end=None,
    customer_id: str = "customer_id",
    date: str = "date",
    amount: str | None = "amount",
    time_unit: str = "W",
    merge_same_day: bool = True,
) -> pd.DataFrame:
    """Per-customer ``frequency``, ``recency``, ``T`` (and ``monetary_value``) from a log.

    By default purchases on the same calendar day are merged into one (amounts summed), as
    in the CDNOW analyses, where one order may span several log lines. Pass
    ``merge_same_day=False`` when every row is a separate purchase event (as in the
    synthetic world, whose purchases happen in continuous time: merging there would drop
    about 1% of the purchases, mostly of the heaviest buyers, and bias the purchase rate).
    With ``calibration_end`` the summary describes the calibration period (customers whose
    first purchase is after it are left out) and gets holdout columns.

    * ``frequency`` — repeat purchases (purchases, or purchase days, after the first one);
    * ``recency`` — time from the first to the last purchase (0 if no repeat);
    * ``T`` — time from the first purchase to the end of the (calibration) period;
    * ``monetary_value`` — mean amount of the *repeat* purchases (0 if none), the input of
      the Gamma-Gamma model;
    * ``frequency_holdout``, ``monetary_value_holdout``, ``duration_holdout`` — purchase
      days, their mean amount and the holdout length (only with ``calibration_end``).

    Times are in ``time_unit`` (weeks by default); ``observation_end`` is the moment the
    log stops (a purchase dated after it is an error: a data-entry problem or a wrong
    as-of date).

    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": ["2024-01-01", "2024-01-15", "2024-01-29", "2024-01-08"],
    ...                    "amount": [10.0, 20.0, 30.0, 5.0]})
    >>> summary_from_transactions(tx, observation_end="2024-03-04")  # doctest: +NORMALIZE_WHITESPACE
                 frequency  recency    T  monetary_value
    customer_id
    1                    2      4.0  9.0            25.0
    2                    0      0.0  8.0             0.0
    """
    unit = _time_unit(time_unit)
    end = _timestamp(observation_end, "observation_end")
    cal = None if calibration_end is None else _timestamp(calibration_end, "calibration_end")
    if cal is not None and cal >= end:
        raise ParameterError(f"calibration_end ({cal.date()}) must be before observation_end ({end.date()})",
                             fix="choose a calibration end inside the observation period")
    cols = [customer_id, date] + ([amount] if amount else [])
    check_frame(transactions, "transactions", required=cols, no_nan=[customer_id],
                non_negative=[amount] if amount else (), numeric=[amount] if amount else ())
    if amount:
        check_no_nan(transactions, amount, "transactions")
    when = check_dates(transactions, date, "transactions", not_after=end)
    day = when.dt.floor("D")
    df = pd.DataFrame({"cid": transactions[customer_id].to_numpy(), "day": day.to_numpy()})
    df["amt"] = transactions[amount].to_numpy(dtype=float) if amount else 0.0
    if merge_same_day:
        daily = df.groupby(["cid", "day"], sort=True, observed=True)["amt"].sum().reset_index()
    else:
        daily = df.sort_values(["cid", "day"], kind="stable").reset_index(drop=True)
    if cal is not None:
        in_cal = (daily["day"] <= cal).to_numpy()
        # customers whose first purchase falls after the calibration end are not in the sample
        daily = daily[daily["cid"].isin(daily.loc[in_cal, "cid"].unique())]
        in_cal = (daily["day"] <= cal).to_numpy()
        period_end = cal
    else:
        in_cal = np.ones(len(daily), dtype=bool)
        period_end = end
    cal_rows = daily[in_cal]
    # rows are sorted by customer and day: each customer's first row is the first purchase
    is_repeat = cal_rows.groupby("cid", sort=False).cumcount().to_numpy() > 0
    g = cal_rows.groupby("cid", sort=True)
    out = pd.DataFrame(index=g.size().index)
    out.index.name = customer_id
    out["frequency"] = (g.size() - 1).astype("int64")
    last = g["day"].max()
    first_day = g["day"].min()
    out["recency"] = (last - first_day).dt.days.to_numpy() / unit
    out["T"] = (period_end - first_day).dt.days.to_numpy() / unit
    if amount:
        rep = cal_rows[is_repeat].groupby("cid")["amt"].mean()
        out["monetary_value"] = rep.reindex(out.index).fillna(0.0)
    if cal is not None:
        hold = daily[~in_cal].groupby("cid")
        out["frequency_holdout"] = hold.size().reindex(out.index).fillna(0).astype("int64")
        if amount:
            out["monetary_value_holdout"] = hold["amt"].mean().reindex(out.index).fillna(0.0)
        out["duration_holdout"] = (end - cal).days / unit
    return out


def _timestamp(value, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} is not a date: {value!r}", fix=f"pass {name} like '2025-12-31'") from err
    if pd.isna(ts):
        raise ParameterError(f"{name} is missing", fix=f"pass {name} like '2025-12-31'")
    return ts


def contract_periods(
    contracts: pd.DataFrame,
    *,
    observation_end,
    start: str = "start_date",
    end: str = "end_date",
    period_days: float = TIME_UNIT_DAYS["M"],
) -> pd.DataFrame:
    """Discrete renewal periods of contracts, the input of :class:`ShiftedBetaGeometricFitter`.

    A contract that ended ``τ`` days after its start churned in period ``ceil(τ / period)``
    (``churned = True``); one still running at ``observation_end`` survived
    ``floor(τ / period)`` full periods (``churned = False``, right-censored).

    >>> m = pd.DataFrame({"start_date": ["2024-01-01", "2024-01-01"],
    ...                   "end_date": ["2024-02-15", None]})
    >>> contract_periods(m, observation_end="2024-07-01")
       periods  churned
    0        2     True
    1        5    False
    """
    obs = _timestamp(observation_end, "observation_end")
    check_frame(contracts, "contracts", required=[start, end])
    s = check_dates(contracts, start, "contracts", not_after=obs)
    e = check_dates(contracts, end, "contracts", allow_nat=True, not_after=obs)
    bad = (e < s).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        raise DataValidationError(f"contracts has {int(bad.sum())} row(s) where {end!r} is before {start!r}",
                                  fix="correct or drop those rows")
    churned = e.notna().to_numpy()
    days = (e.fillna(obs) - s).dt.total_seconds().to_numpy() / 86400.0
    tau = days / float(period_days)
    periods = np.where(churned, np.maximum(np.ceil(tau - 1e-9), 1), np.floor(tau + 1e-9)).astype("int64")
    return pd.DataFrame({"periods": periods, "churned": churned}, index=contracts.index)


def _summary_arrays(summary, cols: dict[str, str], name: str = "summary", weights_col=None):
    """Validate a summary frame and return float arrays (frequency, recency, T, weights)."""
    f, r, t = cols["frequency"], cols["recency"], cols["T"]
    need = [f, r, t] + ([weights_col] if weights_col else [])
    check_frame(summary, name, required=need, numeric=need, no_nan=need, non_negative=need)
    x = summary[f].to_numpy(dtype=float)
    tx = summary[r].to_numpy(dtype=float)
    T = summary[t].to_numpy(dtype=float)
    if np.any(np.abs(x - np.round(x)) > 1e-9):
        raise DataValidationError(f"{name}[{f!r}] must hold whole numbers of repeat purchases",
                                  fix="count repeat purchases (purchase days after the first one)")
    if np.any(tx > T + 1e-9):
        i = int(np.flatnonzero(tx > T + 1e-9)[0])
        raise DataValidationError(f"{name} has {int((tx > T + 1e-9).sum())} row(s) with {r!r} > {t!r} "
                                  f"(first: recency {tx[i]}, T {T[i]})",
                                  fix="recency is measured from the first purchase, T from the first "
                                      "purchase to the end of the period; rebuild with summary_from_transactions")
    if np.any((x == 0) & (tx > 0)):
        raise DataValidationError(f"{name} has customers with {f!r} == 0 but {r!r} > 0",
                                  fix="recency must be 0 for customers without repeat purchases")
    w = summary[weights_col].to_numpy(dtype=float) if weights_col else np.ones(len(x))
    return x, tx, T, w


def _ci(params: np.ndarray, se: np.ndarray, level: float):
    """Wald interval on the log scale (keeps positive parameters positive)."""
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.exp(z * se / params)
    return params / k, params * k


def _numeric_hessian(grad, theta: np.ndarray, g0: np.ndarray | None = None) -> np.ndarray:
    """Finite differences of an analytic gradient (natural-scale parameters).

    Forward differences from ``g0`` (the gradient at ``theta``) when given — one gradient per
    parameter, which matters on a million customers — else central differences.
    """
    k = len(theta)
    H = np.zeros((k, k))
    for i in range(k):
        h = 1e-5 * max(abs(theta[i]), 1e-3)
        up = theta.copy()
        up[i] += h
        if g0 is None:
            dn = theta.copy()
            dn[i] -= h
            H[:, i] = (grad(up) - grad(dn)) / (2 * h)
        else:
            H[:, i] = (grad(up) - g0) / h
    return (H + H.T) / 2


class _Fitter:
    """Shared plumbing: parameter table, standard errors, repr."""

    _param_names: tuple[str, ...] = ()
    _what = "model"
    _data_hint = "more customers"

    def __init__(self, penalizer_coef: float = 0.0, ci_level: float = 0.95):
        self.penalizer_coef = float(check_scalar(penalizer_coef, "penalizer_coef", low=0))
        self.ci_level = check_probability(ci_level, "ci_level", open_interval=True)

    def _check_fitted(self):
        check_fitted(self, "params_", "fit(...)")

    def _optimise(self, negll, x0: np.ndarray, n_obs: float):
        """Minimise the mean negative log-likelihood over log-parameters; returns natural params."""
        pen = self.penalizer_coef

        def obj(z):
            value, grad = negll(np.exp(z))
            # the penalty pulls log-parameters towards 0 (parameters towards 1)
            return value / n_obs + pen * np.sum(z ** 2), grad * np.exp(z) / n_obs + 2 * pen * z

        with np.errstate(all="ignore"), _single_thread():
            res = optimize.minimize(obj, np.log(x0), jac=True, method="L-BFGS-B",
                                    bounds=[(-2 * _LOG_BOUND, 2 * _LOG_BOUND)] * len(x0),
                                    options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
        fix = ("add a small penalty, e.g. penalizer_coef=0.001 (it pulls the parameters towards 1), "
               f"or fit on more data: {self._data_hint}")
        if not np.all(np.isfinite(res.x)) or not np.isfinite(res.fun):
            raise ConvergenceError(f"the {self._what} fit produced non-finite values", fix=fix)
        runaway = [n for n, z in zip(self._param_names, res.x, strict=True) if abs(z) > _LOG_BOUND]
        if runaway:
            vals = ", ".join(f"{n}={np.exp(z):.3g}" for n, z in zip(self._param_names, res.x, strict=True))
            raise ConvergenceError(
                f"the {self._what} fit did not converge: parameter(s) {runaway} ran off to the boundary "
                f"({vals}); the data cannot identify them", fix=fix)
        gnorm = float(np.max(np.abs(res.jac))) if res.jac is not None else 0.0
        if not res.success and gnorm > 1e-4:
            raise ConvergenceError(f"the {self._what} fit did not converge ({res.message}; max |gradient| "
                                   f"{gnorm:.2g})", fix=fix)
        self._fix = fix
        return np.exp(res.x), res

    def _finish(self, theta, negll, n_obs, weights_sum):
        names = list(self._param_names)
        self.params_ = pd.Series(theta, index=names, name="coef")
        nll, _ = negll(theta)
        self.log_likelihood_ = float(-nll)
        self.n_customers_ = float(weights_sum)
        self.aic_ = 2 * len(theta) - 2 * self.log_likelihood_

        def grad(th):  # gradient of the penalised total negative log-likelihood
            g = negll(th)[1]
            return g + n_obs * self.penalizer_coef * 2 * np.log(th) / th

        with _single_thread():
            H = _numeric_hessian(grad, theta, grad(theta) if n_obs > 50_000 else None)
        try:
            cov = np.linalg.inv(H)
            ok = np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0)
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            raise ConvergenceError(f"the {self._what} fit converged to a point where the information matrix "
                                   "is singular, so no standard errors exist", fix=self._fix)
        self.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, name="se(coef)")
        lo, hi = _ci(theta, self.standard_errors_.to_numpy(), self.ci_level)
        pct = f"{self.ci_level:g}"
        self.confidence_intervals_ = pd.DataFrame({f"lower {pct}": lo, f"upper {pct}": hi}, index=names)

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and (log-scale Wald) confidence intervals."""
        self._check_fitted()
        return pd.concat([self.params_, self.standard_errors_, self.confidence_intervals_], axis=1)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"<crmlab.clv.{type(self).__name__}: not fitted>"
        p = ", ".join(f"{k}: {v:.3f}" for k, v in self.params_.items())
        return f"<crmlab.clv.{type(self).__name__}: fitted with {self.n_customers_:,.0f} customers, {p}>"


# ------------------------------------------------------------------------------------
# BG/NBD
# ------------------------------------------------------------------------------------
def _bgnbd_negll(x, tx, T, w):
    """Closure: total weighted negative log-likelihood and gradient of BG/NBD.

    Terms that depend on ``x`` only are evaluated once per distinct ``x`` (fast on big data).
    """
    xs, inv = np.unique(x, return_inverse=True)
    nx = np.bincount(inv, weights=w)
    pos = x > 0
    xp, txp, Tp, wp, invp = x[pos], tx[pos], T[pos], w[pos], inv[pos]
    T0, w0 = T[~pos], w[~pos]
    xs_pos = np.maximum(xs - 1, 0)

    def f(theta):
        r, alpha, a, b = theta
        # log A1 A2 summed by distinct x
        ll_x = (special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha)
                + special.gammaln(a + b) + special.gammaln(b + xs) - special.gammaln(b)
                - special.gammaln(a + b + xs))
        d_r = special.digamma(r + xs) - special.digamma(r) + np.log(alpha)
        d_al = np.full_like(xs, r / alpha)
        d_a = special.digamma(a + b) - special.digamma(a + b + xs)
        d_b = special.digamma(a + b) + special.digamma(b + xs) - special.digamma(b) - special.digamma(a + b + xs)
        total = nx @ ll_x
        g = np.array([nx @ d_r, nx @ d_al, nx @ d_a, nx @ d_b])
        # x = 0: D = -r log(alpha + T)
        l0 = np.log(alpha + T0)
        total += -r * (w0 @ l0)
        g[0] += -(w0 @ l0)
        g[1] += -r * (w0 @ (1.0 / (alpha + T0)))
        # x > 0: D = log(A3 + A4) = u + softplus(z), u = log A3, z = log A4 - log A3
        rx = r + xp
        lT = np.log(alpha + Tp)
        lt = np.log(alpha + txp)
        c = (np.log(a) - np.log(b + xs_pos))[invp]
        z = c + rx * (lT - lt)
        e = np.exp(-np.abs(z))
        D = -rx * lT + np.maximum(z, 0.0) + np.log1p(e)
        wt = np.where(z >= 0, 1.0, e) / (1.0 + e)  # weight of "dropped out after the last purchase"
        total += wp @ D
        g[0] += wp @ (-(1 - wt) * lT - wt * lt)
        g[1] += wp @ (-rx * ((1 - wt) / (alpha + Tp) + wt / (alpha + txp)))
        g[2] += (wp @ wt) / a
        g[3] += -(wp @ (wt / (b + xp - 1)))
        return -total, -g

    return f


class BetaGeoFitter(_Fitter):
    """BG/NBD model of repeat purchases in a non-contractual setting (Fader, Hardie & Lee 2005).

    While alive, a customer buys at rate ``λ ~ Gamma(r, α)`` (rate α, per time unit); after
    every repeat purchase she drops out for good with probability ``p ~ Beta(a, b)``.
    ``fit`` maximises the likelihood of (frequency, recency, T); standard errors come
    from the inverse Hessian. ``penalizer_coef`` adds ``c * sum(log(θ)²)`` to the mean
    negative log-likelihood (``lifetimes`` penalises ``θ²`` instead).

    >>> s = simulate_bgnbd(3000, T=39, r=0.25, alpha=4.4, a=0.8, b=2.4, seed=7)
    >>> bgf = BetaGeoFitter().fit(s)
    >>> list(bgf.summary.columns)
    ['coef', 'se(coef)', 'lower 0.95', 'upper 0.95']
    >>> float(bgf.expected_purchases(39)) > 0
    True
    """

    _param_names = ("r", "alpha", "a", "b")
    _what = "BG/NBD"
    _data_hint = ("more customers or a longer calibration period, so that both repeat purchases and "
                  "long silences (drop-outs) are observed")

    def fit(self, summary: pd.DataFrame, frequency_col: str = "frequency", recency_col: str = "recency",
            T_col: str = "T", weights_col: str | None = None, initial_params=None) -> BetaGeoFitter:
        """Fit on a per-customer summary (see :func:`summary_from_transactions`); returns self."""
        x, tx, T, w = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col,
                                                "T": T_col}, weights_col=weights_col)
        if np.all(T == 0):
            raise DataValidationError("every customer has T == 0: nobody was observed after the first purchase",
                                      fix="set observation_end (or calibration_end) after the first purchases")
        if not np.any(x > 0):
            raise DataValidationError(
                "no customer made a repeat purchase, so the drop-out process (a, b) cannot be estimated",
                fix="use a longer calibration period or more customers")
        negll = _bgnbd_negll(x, tx, T, w)
        if initial_params is None:
            rate = max((w @ x) / max(w @ T, 1e-12), 1e-6)
            x0 = np.array([1.0, 1.0 / rate, 1.0, 1.0])
        else:
            x0 = np.asarray(initial_params, dtype=float)
            if x0.shape != (4,) or np.any(~np.isfinite(x0)) or np.any(x0 <= 0):
                raise ParameterError("initial_params must be 4 positive numbers (r, alpha, a, b)",
                                     fix="pass e.g. initial_params=[1, 5, 1, 1]")
        if initial_params is None and len(x) > 200_000:
            # on big data, start from a fit on a seeded subsample: the full-data polish then
            # needs only a few passes over the million rows
            sub = np.random.default_rng(0).choice(len(x), 50_000, replace=False)
            if np.any(x[sub] > 0):
                x0, _ = self._optimise(_bgnbd_negll(x[sub], tx[sub], T[sub], w[sub]), x0, w[sub].sum())
        theta, res = self._optimise(negll, x0, w.sum())
        self._finish(theta, negll, w.sum(), w.sum())
        self._T_max = float(T.max())
        return self

    # -- predictions ---------------------------------------------------------------------
    def _p(self):
        self._check_fitted()
        return self.params_.to_numpy()

    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)]: expected repeat purchases of a new customer in (0, t] (FHL 2005, eq. 9)."""
        r, alpha, a, b = self._p()
        t = _non_negative_array(t, "t")
        z = t / (alpha + t)
        hyp = special.hyp2f1(r, b, a + b - 1, z)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] of customers with this history (eq. 10)."""
        r, alpha, a, b = self._p()
        t = _non_negative_array(t, "t")
        x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        z = t / (alpha + T + t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
            num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
        return num * self.conditional_probability_alive(x, tx, T)

    def conditional_probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive | x, t_x, T) (FHL 2005, eq. 11): 1 for customers without repeat purchases."""
        r, alpha, a, b = self._p()
        x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(x > 0, special.expit(-log_odds), 1.0)

    def probability_of_purchases(self, t, n) -> np.ndarray:
        """P(X(t) = n): probability that a new customer makes ``n`` repeat purchases in (0, t] (eq. 8)."""
        r, alpha, a, b = self._p()
        t = _non_negative_array(t, "t")
        n = int(check_scalar(n, "n", numbers.Integral, low=0))
        lb = special.betaln(a, b)
        q = alpha / (alpha + t)
        with np.errstate(divide="ignore"):
            log_nb = (special.gammaln(r + n) - special.gammaln(r) - special.gammaln(n + 1)
                      + r * np.log(q) + special.xlog1py(n, -q))  # 0 * log(0) = 0 when t = 0
        first = np.exp(special.betaln(a, b + n) - lb + log_nb)
        if n == 0:
            return first
        cum = np.zeros_like(np.asarray(t, dtype=float))
        for j in range(n):
            with np.errstate(divide="ignore"):
                cum = cum + np.exp(special.gammaln(r + j) - special.gammaln(r) - special.gammaln(j + 1)
                                   + r * np.log(q) + special.xlog1py(j, -q))
        return first + np.exp(special.betaln(a + 1, b + n - 1) - lb) * (1 - cum)

    def predict_purchases(self, summary: pd.DataFrame, t: float, frequency_col: str = "frequency",
                          recency_col: str = "recency", T_col: str = "T") -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units (a Series)."""
        x, tx, T, _ = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col, "T": T_col})
        check_scalar(t, "t", low=0)
        return pd.Series(self.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T),
                         index=summary.index, name=f"expected_purchases_{t:g}")

    def predict_probability_alive(self, summary: pd.DataFrame, frequency_col: str = "frequency",
                                  recency_col: str = "recency", T_col: str = "T") -> pd.Series:
        """P(alive) of each customer at the end of the observation period (a Series)."""
        x, tx, T, _ = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col, "T": T_col})
        return pd.Series(self.conditional_probability_alive(x, tx, T), index=summary.index, name="p_alive")

    def expected_frequency_table(self, summary: pd.DataFrame, max_frequency: int = 7,
                                 frequency_col: str = "frequency", T_col: str = "T") -> pd.DataFrame:
        """Observed vs expected number of customers by repeat frequency (the last row is "max+")."""
        check_scalar(max_frequency, "max_frequency", numbers.Integral, low=1)
        require_columns(summary, [frequency_col, T_col], "summary")
        x = summary[frequency_col].to_numpy(dtype=float)
        T = summary[T_col].to_numpy(dtype=float)
        exp = np.array([self.probability_of_purchases(T, n).sum() for n in range(max_frequency)])
        exp = np.append(exp, len(T) - exp.sum())
        obs = np.array([np.sum(x == n) for n in range(max_frequency)] + [np.sum(x >= max_frequency)])
        labels = [str(n) for n in range(max_frequency)] + [f"{max_frequency}+"]
        return pd.DataFrame({"observed": obs, "expected": exp}, index=pd.Index(labels, name="frequency"))

    def calibration_holdout_table(self, summary: pd.DataFrame, max_frequency: int = 7,
                                  frequency_col: str = "frequency", recency_col: str = "recency",
                                  T_col: str = "T", holdout_col: str = "frequency_holdout",
                                  duration_col: str = "duration_holdout") -> pd.DataFrame:
        """Mean actual vs predicted holdout purchases, by calibration frequency (last row "max+")."""
        check_scalar(max_frequency, "max_frequency", numbers.Integral, low=1)
        x, tx, T, _ = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col, "T": T_col})
        check_frame(summary, "summary", required=[holdout_col, duration_col], no_nan=[holdout_col, duration_col],
                    non_negative=[holdout_col, duration_col])
        pred = self.conditional_expected_number_of_purchases_up_to_time(
            summary[duration_col].to_numpy(dtype=float), x, tx, T)
        grp = np.minimum(x, max_frequency).astype(int)
        df = pd.DataFrame({"group": grp, "actual": summary[holdout_col].to_numpy(dtype=float), "predicted": pred})
        out = df.groupby("group").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                      predicted=("predicted", "mean"))
        out.index = [f"{g}+" if g == max_frequency else str(g) for g in out.index]
        out.index.name = "calibration_frequency"
        return out

    # -- plots ------------------------------------------------------------------------------
    def plot_period_transactions(self, summary: pd.DataFrame, max_frequency: int = 7, ax=None,
                                 synthetic: bool = True, **kwargs):
        """Bar chart: customers by repeat frequency, observed vs expected under the fitted model."""
        from . import plots

        tab = self.expected_frequency_table(summary, max_frequency, **kwargs)
        if ax is None:
            _, ax = plots.subplots()
        pos = np.arange(len(tab))
        ax.bar(pos - 0.2, tab["observed"], width=0.4, label="observed")
        ax.bar(pos + 0.2, tab["expected"], width=0.4, label="BG/NBD expected")
        ax.set_xticks(pos, tab.index)
        return plots.finish(ax, title="Repeat purchases in the calibration period",
                            xlabel="repeat purchases", ylabel="customers", synthetic=synthetic)

    def plot_calibration_purchases_vs_holdout_purchases(self, summary: pd.DataFrame, max_frequency: int = 7,
                                                        ax=None, synthetic: bool = True, **kwargs):
        """Line chart: mean holdout purchases, actual vs predicted, by calibration frequency."""
        from . import plots

        tab = self.calibration_holdout_table(summary, max_frequency, **kwargs)
        if ax is None:
            _, ax = plots.subplots()
        ax.plot(tab.index, tab["actual"], marker="o", label="actual")
        ax.plot(tab.index, tab["predicted"], marker="s", ls="--", label="BG/NBD predicted")
        return plots.finish(ax, title="Conditional expectations in the holdout period",
                            xlabel="repeat purchases in calibration", ylabel="mean purchases in holdout",
                            synthetic=synthetic)

    def probability_alive_matrix(self, max_frequency: int | None = None, max_recency: float | None = None,
                                 T: float | None = None, n_recency: int = 40) -> pd.DataFrame:
        """P(alive) for a customer observed for ``T`` on a grid of frequency x recency."""
        self._check_fitted()
        T = self._T_max if T is None else float(check_scalar(T, "T", low=0, low_inclusive=False))
        max_frequency = 20 if max_frequency is None else int(check_scalar(max_frequency, "max_frequency",
                                                                          numbers.Integral, low=1))
        max_recency = T if max_recency is None else min(float(max_recency), T)
        rec = np.linspace(0, max_recency, n_recency)
        freq = np.arange(max_frequency + 1)
        X, R = np.meshgrid(freq, rec, indexing="ij")
        pa = self.conditional_probability_alive(X, np.where(X > 0, R, 0.0), np.full_like(R, T))
        return pd.DataFrame(pa, index=pd.Index(freq, name="frequency"), columns=np.round(rec, 2))

    def plot_probability_alive_matrix(self, max_frequency: int | None = None, max_recency: float | None = None,
                                      T: float | None = None, ax=None, synthetic: bool = True):
        """Heatmap of P(alive) by frequency (rows) and recency (columns)."""
        from . import plots

        m = self.probability_alive_matrix(max_frequency, max_recency, T)
        if ax is None:
            _, ax = plots.subplots()
        rec = m.columns.to_numpy(dtype=float)
        im = ax.imshow(m.to_numpy(), origin="lower", aspect="auto", cmap="RdYlGn", vmin=0, vmax=1,
                       extent=[rec[0], rec[-1], -0.5, len(m) - 0.5])
        ax.figure.colorbar(im, ax=ax, label="P(alive)")
        return plots.finish(ax, title="Probability alive by frequency and recency",
                            xlabel="recency (time of last purchase)", ylabel="repeat purchases",
                            synthetic=synthetic)


def _non_negative_array(t, name):
    arr = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ParameterError(f"{name} must be finite and >= 0", fix=f"pass a non-negative {name}")
    return arr


# ------------------------------------------------------------------------------------
# Gamma-Gamma
# ------------------------------------------------------------------------------------
def _gg_negll(x, z, w):
    lx = np.log(x)
    lz = np.log(z)

    def f(theta):
        p, q, g = theta
        px = p * x
        lgz = np.log(g + x * z)
        ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(g)
              + (px - 1) * lz + px * lx - (px + q) * lgz)
        psi = special.digamma(px + q)
        d_p = x * (psi - special.digamma(px) + lz + lx - lgz)
        d_q = psi - special.digamma(q) + np.log(g) - lgz
        d_g = q / g - (px + q) / (g + x * z)
        return -(w @ ll), -np.array([w @ d_p, w @ d_q, w @ d_g])

    return f


class GammaGammaFitter(_Fitter):
    """Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

    Each transaction's value is ``Gamma(p, ν)``; the customer's rate ``ν ~ Gamma(q, γ)``.
    Fitted on customers with at least one repeat purchase, using the mean repeat spend.
    It assumes spend is independent of purchase frequency: ``frequency_spend_correlation_``
    reports the check the authors recommend.

    >>> s = simulate_bgnbd(2000, T=52, r=0.5, alpha=5.0, a=0.8, b=2.5, seed=3)
    >>> s["monetary_value"] = simulate_spend(s["frequency"], p=5, q=4, gamma=120, seed=3)
    >>> ggf = GammaGammaFitter().fit(s)
    >>> ggf.params_.index.tolist(), bool(150 < ggf.mean_spend_ < 250)
    (['p', 'q', 'gamma'], True)
    """

    _param_names = ("p", "q", "gamma")
    _what = "Gamma-Gamma"
    _data_hint = ("more customers with repeat purchases; with few customers the spread of average "
                  "spend between customers cannot be told apart from noise (q and gamma run off together)")

    def fit(self, summary: pd.DataFrame, frequency_col: str = "frequency",
            monetary_value_col: str = "monetary_value", weights_col: str | None = None,
            initial_params=None) -> GammaGammaFitter:
        """Fit on customers with ``frequency > 0``; returns self."""
        need = [frequency_col, monetary_value_col] + ([weights_col] if weights_col else [])
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
        rep = summary[summary[frequency_col] > 0]
        if len(rep) < 3:
            raise DataValidationError(f"only {len(rep)} customer(s) with repeat purchases; the Gamma-Gamma "
                                      "model needs repeat spend of several customers",
                                      fix="use a longer calibration period or more customers")
        x = rep[frequency_col].to_numpy(dtype=float)
        z = rep[monetary_value_col].to_numpy(dtype=float)
        if np.any(z <= 0):
            raise DataValidationError(f"summary[{monetary_value_col!r}] must be > 0 for customers with repeat "
                                      f"purchases ({int((z <= 0).sum())} are not)",
                                      fix="drop zero-value purchases (returns, free samples) before summarising")
        w = rep[weights_col].to_numpy(dtype=float) if weights_col else np.ones(len(x))
        negll = _gg_negll(x, z, w)
        if initial_params is None:
            m, v = np.average(z, weights=w), np.average((z - np.average(z, weights=w)) ** 2, weights=w)
            x0 = np.array([max(m ** 2 / max(v, 1e-12), 0.5), 3.0, 2.0 * m / max(m ** 2 / max(v, 1e-12), 0.5)])
        else:
            x0 = np.asarray(initial_params, dtype=float)
            if x0.shape != (3,) or np.any(~np.isfinite(x0)) or np.any(x0 <= 0):
                raise ParameterError("initial_params must be 3 positive numbers (p, q, gamma)",
                                     fix="pass e.g. initial_params=[5, 3, 20]")
        theta, _ = self._optimise(negll, x0, w.sum())
        self._finish(theta, negll, w.sum(), w.sum())
        self.frequency_spend_correlation_ = float(np.corrcoef(x, z)[0, 1]) if len(x) > 2 else np.nan
        return self

    @property
    def mean_spend_(self) -> float:
        """Population mean spend per transaction, p γ / (q − 1) (infinite when q <= 1)."""
        self._check_fitted()
        p, q, g = self.params_.to_numpy()
        return p * g / (q - 1) if q > 1 else np.inf

    def conditional_expected_average_profit(self, frequency, monetary_value) -> np.ndarray:
        """E[spend | x, z̄] = p (γ + x z̄) / (p x + q − 1): shrinks z̄ towards the population mean."""
        self._check_fitted()
        p, q, g = self.params_.to_numpy()
        if q <= 1:
            raise ConvergenceError(f"q = {q:.3f} <= 1: the fitted spend distribution has no finite mean",
                                   fix="use more customers, or penalizer_coef=0.001")
        x = np.asarray(frequency, dtype=float)
        z = np.where(x > 0, np.asarray(monetary_value, dtype=float), 0.0)
        return p * (g + x * z) / (p * x + q - 1)

    def predict_spend(self, summary: pd.DataFrame, frequency_col: str = "frequency",
                      monetary_value_col: str = "monetary_value") -> pd.Series:
        """Expected spend per future transaction of each customer (a Series)."""
        need = [frequency_col, monetary_value_col]
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
        return pd.Series(self.conditional_expected_average_profit(summary[frequency_col], summary[monetary_value_col]),
                         index=summary.index, name="expected_spend")


# ------------------------------------------------------------------------------------
# sBG
# ------------------------------------------------------------------------------------
def _sbg_negll(t, churned, w):
    tc, wc = t[churned], w[churned]
    ts, ws = t[~churned], w[~churned]

    def f(theta):
        al, be = theta
        lb = special.betaln(al, be)
        # churn in period t: B(α+1, β+t−1)/B(α, β); survive c periods: B(α, β+c)/B(α, β)
        ll_c = special.betaln(al + 1, be + tc - 1) - lb
        ll_s = special.betaln(al, be + ts) - lb
        dlb_a = special.digamma(al) - special.digamma(al + be)
        dlb_b = special.digamma(be) - special.digamma(al + be)
        dc_a = special.digamma(al + 1) - special.digamma(al + be + tc) - dlb_a
        dc_b = special.digamma(be + tc - 1) - special.digamma(al + be + tc) - dlb_b
        ds_a = special.digamma(al) - special.digamma(al + be + ts) - dlb_a
        ds_b = special.digamma(be + ts) - special.digamma(al + be + ts) - dlb_b
        total = wc @ ll_c + ws @ ll_s
        g = np.array([wc @ dc_a + ws @ ds_a, wc @ dc_b + ws @ ds_b])
        return -total, -g

    return f


class ShiftedBetaGeometricFitter(_Fitter):
    """Shifted-beta-geometric (sBG) retention model for contracts (Fader & Hardie 2007).

    At the end of every period a customer with churn probability ``θ ~ Beta(alpha, beta)``
    cancels with probability ``θ``. Heterogeneity makes the *aggregate* retention rate
    rise with tenure (the survivors are the loyal ones), which is why a constant-churn
    projection underestimates long-run survival.

    Fit on individual contracts (:meth:`fit`, periods + churned flag, e.g. from
    :func:`contract_periods`) or on a cohort's survivor counts (:meth:`fit_survivors`).

    >>> sbg = ShiftedBetaGeometricFitter().fit_survivors([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> sbg.params_.round(3).tolist()
    [0.704, 1.182]
    """

    _param_names = ("alpha", "beta")
    _what = "sBG"
    _data_hint = "more contracts or a longer follow-up, so that renewals and cancellations are both observed"

    def fit(self, data: pd.DataFrame, duration_col: str = "periods", event_col: str = "churned",
            weights_col: str | None = None) -> ShiftedBetaGeometricFitter:
        """``duration_col`` = period of churn (>= 1) if ``event_col`` else periods survived (>= 0)."""
        need = [duration_col, event_col] + ([weights_col] if weights_col else [])
        check_frame(data, "data", required=need, no_nan=need, non_negative=[duration_col] + (
            [weights_col] if weights_col else []))
        t = data[duration_col].to_numpy(dtype=float)
        if np.any(np.abs(t - np.round(t)) > 1e-9):
            raise DataValidationError(f"data[{duration_col!r}] must hold whole numbers of periods",
                                      fix="count renewal periods, e.g. with crmlab.clv.contract_periods")
        ev = data[event_col]
        if not ev.isin([0, 1, True, False]).all():
            raise DataValidationError(f"data[{event_col!r}] must be True/False (churned or still active)",
                                      fix="recode it, e.g. data['churned'] = data['end_date'].notna()")
        churned = ev.to_numpy().astype(bool)
        if np.any(churned & (t < 1)):
            raise DataValidationError(f"churned contracts need {duration_col!r} >= 1 (churn happens in period 1 "
                                      "or later)", fix="count the period in which the contract ended, starting at 1")
        w = data[weights_col].to_numpy(dtype=float) if weights_col else np.ones(len(t))
        return self._fit_arrays(t, churned, w)

    def fit_survivors(self, survivors) -> ShiftedBetaGeometricFitter:
        """Fit on counts alive at the start and after each period: ``[n0, n1, ..., nk]``."""
        s = np.asarray(survivors, dtype=float)
        if s.ndim != 1 or len(s) < 2 or np.any(~np.isfinite(s)) or np.any(s < 0):
            raise DataValidationError("survivors must be a list of at least 2 non-negative counts",
                                      fix="pass the cohort size followed by the survivors after each period")
        lost = -np.diff(s)
        if np.any(lost < 0):
            raise DataValidationError("survivor counts must not increase over time",
                                      fix="check the cohort counts (a cohort can only shrink)")
        k = len(s) - 1
        t = np.concatenate([np.arange(1, k + 1), [k]]).astype(float)
        churned = np.concatenate([np.ones(k, bool), [False]])
        w = np.concatenate([lost, [s[-1]]])
        keep = w > 0
        return self._fit_arrays(t[keep], churned[keep], w[keep])

    def _fit_arrays(self, t, churned, w):
        if not churned.any():
            raise DataValidationError("no contract churned, so the churn distribution cannot be estimated",
                                      fix="observe the cohort for longer or add more contracts")
        if churned.all() and np.all(t == 1):
            raise DataValidationError("every contract churned in period 1; alpha and beta are not identified",
                                      fix="add contracts that renewed at least once")
        negll = _sbg_negll(t, churned, w)
        theta, _ = self._optimise(negll, np.array([1.0, 1.0]), w.sum())
        self._finish(theta, negll, w.sum(), w.sum())
        self.n_churned_ = float(w[churned].sum())
        return self

    def survival_function_at_times(self, t) -> np.ndarray:
        """S(t) = B(alpha, beta + t) / B(alpha, beta): share still subscribed after ``t`` periods."""
        self._check_fitted()
        al, be = self.params_.to_numpy()
        t = _non_negative_array(t, "t")
        return np.exp(special.betaln(al, be + t) - special.betaln(al, be))

    def churn_probability(self, t) -> np.ndarray:
        """P(T = t): probability of cancelling in period ``t`` (t >= 1)."""
        self._check_fitted()
        al, be = self.params_.to_numpy()
        t = _non_negative_array(t, "t")
        return np.exp(special.betaln(al + 1, be + t - 1) - special.betaln(al, be))

    def retention_rate(self, t) -> np.ndarray:
        """r(t) = S(t) / S(t − 1) = (beta + t − 1) / (alpha + beta + t − 1): it rises with tenure."""
        self._check_fitted()
        al, be = self.params_.to_numpy()
        t = _non_negative_array(t, "t")
        return (be + t - 1) / (al + be + t - 1)

    @property
    def expected_lifetime_(self) -> float:
        """Mean number of periods a new customer stays, (alpha + beta − 1) / (alpha − 1) (inf if alpha <= 1)."""
        self._check_fitted()
        al, be = self.params_.to_numpy()
        return (al + be - 1) / (al - 1) if al > 1 else np.inf

    def discounted_expected_residual_lifetime(self, discount_rate: float, periods_survived: int = 0) -> float:
        """Discounted expected number of payments of an active customer, the current one included.

        For a customer who has stayed ``n = periods_survived`` periods and now pays for
        period n + 1: Σ_{k>=0} S(n+k)/S(n) / (1+d)^k = ₂F₁(1, beta+n; alpha+beta+n; 1/(1+d)).
        With ``d = 0`` and ``n = 0`` it is the expected lifetime. (Fader & Hardie's 2010 DERL
        counts from the next renewal on: it equals (this − 1)(1 + d).)
        """
        self._check_fitted()
        d = float(check_scalar(discount_rate, "discount_rate", low=0))
        n = int(check_scalar(periods_survived, "periods_survived", numbers.Integral, low=0))
        al, be = self.params_.to_numpy()
        if d == 0 and al <= 1:
            return np.inf
        return float(special.hyp2f1(1, be + n, al + be + n, 1 / (1 + d)))

    def customer_lifetime_value(self, value_per_period: float, discount_rate: float,
                                periods_survived: int = 0) -> float:
        """Expected discounted value of an active contract: ``value_per_period`` x
        :meth:`discounted_expected_residual_lifetime`."""
        check_scalar(value_per_period, "value_per_period", low=0)
        return float(value_per_period) * self.discounted_expected_residual_lifetime(discount_rate, periods_survived)

    def plot_survival(self, t_max: int, observed=None, ax=None, truth: dict | None = None,
                      synthetic: bool = True):
        """Fitted survival curve, with observed (e.g. Kaplan-Meier) and true points if given."""
        from . import plots

        check_scalar(t_max, "t_max", numbers.Integral, low=1)
        if ax is None:
            _, ax = plots.subplots()
        t = np.arange(t_max + 1)
        ax.plot(t, self.survival_function_at_times(t), label="sBG fit")
        if observed is not None:
            obs = pd.Series(observed)
            ax.step(obs.index.to_numpy(dtype=float), obs.to_numpy(dtype=float), where="post", color="0.4",
                    label="observed")
        if truth:
            tt = np.array([float(k) for k in truth])
            ax.scatter(tt, list(truth.values()), color="#c4413c", zorder=5, label="planted truth")
        ax.set_ylim(0, 1.02)
        return plots.finish(ax, title="Share of a cohort still subscribed", xlabel="periods since start",
                            ylabel="survival S(t)", synthetic=synthetic)


# ------------------------------------------------------------------------------------
# CLV
# ------------------------------------------------------------------------------------
def customer_lifetime_value(
    transaction_model: BetaGeoFitter,
    spend_model: GammaGammaFitter,
    summary: pd.DataFrame,
    *,
    margin=1.0,
    horizon: int = 12,
    period_length: float = TIME_UNIT_DAYS["M"] / 7,
    discount_rate: float = 0.01,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    monetary_value_col: str = "monetary_value",
) -> pd.DataFrame:
    """CLV per customer = margin x Σ_k E[purchases in period k] / (1 + d)^k x E[spend].

    ``horizon`` periods of ``period_length`` model time units each (default: 12 months of
    4.35 weeks); ``discount_rate`` per period (1% a month ≈ 12.7% a year); ``margin`` is a
    rate in [0, 1] or a Series of per-customer rates aligned on ``summary.index``.
    Returns expected purchases, their discounted sum, expected spend and ``clv``.

    >>> s = simulate_bgnbd(500, T=52, r=0.5, alpha=5.0, a=0.8, b=2.5, seed=1)
    >>> s["monetary_value"] = simulate_spend(s["frequency"], p=5, q=4, gamma=120, seed=1)
    >>> bgf, ggf = BetaGeoFitter().fit(s), GammaGammaFitter().fit(s)
    >>> out = customer_lifetime_value(bgf, ggf, s, margin=0.3)
    >>> list(out.columns)
    ['expected_purchases', 'discounted_purchases', 'expected_spend', 'margin', 'clv']
    """
    for model, kind in ((transaction_model, BetaGeoFitter), (spend_model, GammaGammaFitter)):
        if not isinstance(model, kind):
            raise ParameterError(f"expected a fitted {kind.__name__}, got {type(model).__name__}",
                                 fix=f"pass crmlab.clv.{kind.__name__}().fit(summary)")
        model._check_fitted()
    check_scalar(horizon, "horizon", numbers.Integral, low=1)
    check_scalar(period_length, "period_length", low=0, low_inclusive=False)
    check_scalar(discount_rate, "discount_rate", low=0)
    x, tx, T, _ = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col, "T": T_col})
    spend = spend_model.predict_spend(summary, frequency_col, monetary_value_col).to_numpy()
    if isinstance(margin, pd.Series):
        m = margin.reindex(summary.index)
        if m.isna().any():
            raise DataValidationError(f"margin has no value for {int(m.isna().sum())} customer(s) of summary",
                                      fix="pass a margin rate for every customer (same index as summary)")
        m = m.to_numpy(dtype=float)
    else:
        m = np.full(len(x), float(check_scalar(margin, "margin", low=0, high=1)))
    if np.any((m < 0) | (m > 1)):
        raise DataValidationError("margin rates must lie in [0, 1]", fix="pass gross margin as a share of revenue")
    cum_prev = np.zeros(len(x))
    disc = np.zeros(len(x))
    for k in range(1, horizon + 1):
        cum = transaction_model.conditional_expected_number_of_purchases_up_to_time(k * period_length, x, tx, T)
        disc += (cum - cum_prev) / (1 + discount_rate) ** k
        cum_prev = cum
    return pd.DataFrame({"expected_purchases": cum_prev, "discounted_purchases": disc, "expected_spend": spend,
                         "margin": m, "clv": m * disc * spend}, index=summary.index)


def individual_expected_purchases(t, purchase_rate, dropout_probability, alive=1.0) -> np.ndarray:
    """E[purchases in the next ``t`` | λ, p, alive] = alive x (1 − exp(−λ p t)) / p.

    The BG/NBD individual-level result (Fader, Hardie & Lee 2005, eq. 6): a customer who is
    alive buys at rate λ and drops out after each purchase with probability p. Because both
    processes are memoryless, the same formula holds for the future of anyone alive today.
    ``alive`` is 1/0 (or a probability); averaging over λ ~ Gamma(r, α), p ~ Beta(a, b)
    gives :meth:`BetaGeoFitter.expected_purchases`.

    >>> round(float(individual_expected_purchases(52, 0.1, 0.2)), 3)
    3.233
    """
    t = _non_negative_array(t, "t")
    lam = _non_negative_array(purchase_rate, "purchase_rate")
    p = np.asarray(dropout_probability, dtype=float)
    if np.any(~np.isfinite(p)) or np.any(p <= 0) or np.any(p > 1):
        raise ParameterError("dropout_probability must lie in (0, 1]", fix="pass per-purchase drop-out probabilities")
    a = np.asarray(alive, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a < 0) or np.any(a > 1):
        raise ParameterError("alive must be 0/1 or a probability in [0, 1]", fix="pass the alive flag or P(alive)")
    return a * -np.expm1(-lam * p * t) / p


def oracle_customer_lifetime_value(
    purchase_rate,
    dropout_probability,
    mean_spend,
    *,
    alive=1.0,
    margin=1.0,
    horizon: int = 12,
    period_length: float = TIME_UNIT_DAYS["M"] / 7,
    discount_rate: float = 0.01,
) -> pd.DataFrame:
    """CLV of customers whose latent λ (per time unit), p, mean spend and alive state are known.

    The same quantity as :func:`customer_lifetime_value` (margin x discounted expected
    purchases x expected spend, ``horizon`` periods of ``period_length``), computed with
    :func:`individual_expected_purchases` instead of a fitted model. On the synthetic world
    it is the *truth* a fitted BG/NBD + Gamma-Gamma CLV should approach: no model can know
    more than λ, p and the spend rate (``mean_spend`` = p_GG / ν for Gamma-Gamma spend).
    The index is taken from the first Series argument.

    >>> out = oracle_customer_lifetime_value([0.1, 0.5], [0.2, 0.05], [200.0, 80.0], alive=[1, 0],
    ...                                      margin=0.3, horizon=12, discount_rate=0.0)
    >>> out["clv"].round(1).tolist()
    [194.3, 0.0]
    """
    check_scalar(horizon, "horizon", numbers.Integral, low=1)
    check_scalar(period_length, "period_length", low=0, low_inclusive=False)
    check_scalar(discount_rate, "discount_rate", low=0)
    index = next((v.index for v in (purchase_rate, dropout_probability, mean_spend, alive, margin)
                  if isinstance(v, pd.Series)), None)
    arrays = []
    for name, v in (("purchase_rate", purchase_rate), ("dropout_probability", dropout_probability),
                    ("mean_spend", mean_spend), ("alive", alive), ("margin", margin)):
        if isinstance(v, pd.Series) and index is not None and not v.index.equals(index):
            raise ParameterError(f"{name} is not aligned with the other Series arguments",
                                 fix="reindex every Series on the same customer index")
        arr = np.asarray(v, dtype=float)
        if np.any(~np.isfinite(arr)):
            raise DataValidationError(f"{name} has missing or infinite values",
                                      fix="drop customers without latent parameters (e.g. B2B accounts)")
        arrays.append(arr)
    lam, p, spend, a, m = np.broadcast_arrays(*arrays)
    if np.any(spend < 0):
        raise DataValidationError("mean_spend must be >= 0", fix="pass mean spend per purchase")
    if np.any((m < 0) | (m > 1)):
        raise DataValidationError("margin rates must lie in [0, 1]", fix="pass gross margin as a share of revenue")
    cum_prev = np.zeros(lam.shape)
    disc = np.zeros(lam.shape)
    for k in range(1, horizon + 1):
        cum = individual_expected_purchases(k * period_length, lam, p, a)
        disc += (cum - cum_prev) / (1 + discount_rate) ** k
        cum_prev = cum
    out = pd.DataFrame({"expected_purchases": cum_prev, "discounted_purchases": disc, "expected_spend": spend,
                        "margin": m, "clv": m * disc * spend})
    if index is not None:
        out.index = index
    return out


def tracking_table(
    model: BetaGeoFitter,
    transactions: pd.DataFrame,
    *,
    observation_end,
    calibration_end=None,
    customer_id: str = "customer_id",
    date: str = "date",
    time_unit: str = "W",
    merge_same_day: bool = True,
) -> pd.DataFrame:
    """Cumulative repeat purchases of a cohort, actual vs BG/NBD-expected, period by period.

    The "tracking plot" of Fader, Hardie & Lee (2005): customers are those whose first
    purchase is on or before ``calibration_end`` (all, if None); each period end ``t`` gets
    the actual number of repeat purchases made by then and ``Σ_i E[X(t − first_i)]``.
    Counting follows :func:`summary_from_transactions` (same-day merging by default).
    """
    if not isinstance(model, BetaGeoFitter):
        raise ParameterError(f"expected a fitted BetaGeoFitter, got {type(model).__name__}",
                             fix="pass crmlab.clv.BetaGeoFitter().fit(summary)")
    model._check_fitted()
    unit = _time_unit(time_unit)
    end = _timestamp(observation_end, "observation_end")
    check_frame(transactions, "transactions", required=[customer_id, date], no_nan=[customer_id])
    day = check_dates(transactions, date, "transactions", not_after=end).dt.floor("D")
    df = pd.DataFrame({"cid": transactions[customer_id].to_numpy(), "day": day.to_numpy()})
    if merge_same_day:
        df = df.drop_duplicates()
    first = df.groupby("cid")["day"].transform("min")
    if calibration_end is not None:
        keep = first <= _timestamp(calibration_end, "calibration_end")
        df, first = df[keep], first[keep]
    start = first.min()
    n_periods = int(np.floor((end - start).days / unit))
    if n_periods < 1:
        raise DataValidationError("the observation period is shorter than one time unit",
                                  fix="use a later observation_end or a smaller time_unit")
    t = np.arange(1, n_periods + 1) * unit  # period ends, days after the first first purchase
    rep_days = (df.loc[df["day"] > first, "day"] - start).dt.days.to_numpy()
    actual = np.searchsorted(np.sort(rep_days), t, side="right")
    births = (df.groupby("cid")["day"].min() - start).dt.days.value_counts()
    b, nb = births.index.to_numpy(dtype=float), births.to_numpy(dtype=float)
    expected = np.array([nb @ model.expected_purchases(np.maximum(tk - b, 0) / unit) for tk in t])
    return pd.DataFrame({"period_end": start + pd.to_timedelta(t, unit="D"), "actual": actual,
                         "expected": expected}, index=pd.RangeIndex(1, n_periods + 1, name="period"))


def plot_tracking(table: pd.DataFrame, calibration_end=None, ax=None, synthetic: bool = True):
    """Cumulative repeat purchases, actual vs expected (a :func:`tracking_table`)."""
    from . import plots

    require_columns(table, ["period_end", "actual", "expected"], "table")
    if ax is None:
        _, ax = plots.subplots()
    ax.plot(table.index, table["actual"], label="actual")
    ax.plot(table.index, table["expected"], ls="--", label="BG/NBD expected")
    if calibration_end is not None:
        cut = table.index[table["period_end"] <= pd.Timestamp(calibration_end)]
        if len(cut):
            ax.axvline(cut[-1], color="0.5", ls=":", lw=1)
            ax.text(cut[-1], ax.get_ylim()[1] * 0.95, " holdout ->", fontsize=8, color="0.4", va="top")
    return plots.finish(ax, title="Tracking cumulative repeat purchases", xlabel="period since the first purchase",
                        ylabel="cumulative repeat purchases", synthetic=synthetic)


# ------------------------------------------------------------------------------------
# simulation
# ------------------------------------------------------------------------------------
def simulate_bgnbd(n: int, T, r: float, alpha: float, a: float, b: float, seed) -> pd.DataFrame:
    """Draw a frequency / recency / T summary of ``n`` customers from BG/NBD.

    ``T`` is a scalar or an array of observation lengths. The extra column ``alive`` says
    whether the customer is still active at ``T`` (the truth P(alive) estimates).

    >>> simulate_bgnbd(3, T=10, r=1, alpha=2, a=1, b=3, seed=0).columns.tolist()
    ['frequency', 'recency', 'T', 'alive']
    """
    n = int(check_scalar(n, "n", numbers.Integral, low=1))
    for name, v in (("r", r), ("alpha", alpha), ("a", a), ("b", b)):
        check_scalar(v, name, low=0, low_inclusive=False)
    rng = check_random_state(seed)
    T = np.broadcast_to(_non_negative_array(T, "T"), (n,)).astype(float)
    lam = rng.gamma(r, 1 / alpha, n)
    p = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    J = rng.geometric(p)  # drop out right after the J-th repeat purchase
    N = rng.poisson(lam * T)  # purchases in (0, T] had nobody dropped out
    x = np.minimum(J, N)
    # the x-th of N uniform order statistics on [0, T] ~ T * Beta(x, N - x + 1)
    tx = np.zeros(n)
    has = x > 0
    tx[has] = T[has] * rng.beta(x[has], N[has] - x[has] + 1)
    return pd.DataFrame({"frequency": x.astype("int64"), "recency": tx, "T": T, "alive": J > N})


def simulate_spend(frequency, p: float, q: float, gamma: float, seed) -> np.ndarray:
    """Mean spend of ``frequency`` transactions per customer under Gamma-Gamma (0 if frequency is 0)."""
    for name, v in (("p", p), ("q", q), ("gamma", gamma)):
        check_scalar(v, name, low=0, low_inclusive=False)
    rng = check_random_state(seed)
    x = np.asarray(frequency, dtype=float)
    if np.any(x < 0) or np.any(~np.isfinite(x)):
        raise ParameterError("frequency must be finite and >= 0", fix="pass repeat-purchase counts")
    nu = rng.gamma(q, 1 / gamma, len(x))
    # the sum of x Gamma(p, nu) draws is Gamma(p x, nu)
    total = rng.gamma(np.maximum(p * x, 1e-300), 1 / nu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.where(x > 0, total / np.maximum(x, 1), 0.0)


# ------------------------------------------------------------------------------------
# real data: the CDNOW sample (Fader & Hardie)
# ------------------------------------------------------------------------------------
CDNOW_DIR = Path(__file__).resolve().parent.parent / "datasets" / "real" / "cdnow"
"""Folder of the shipped CDNOW sample (see its README.md for provenance and terms)."""


def load_cdnow(kind: str = "transactions") -> pd.DataFrame:
    """The public CDNOW sample of Fader & Hardie: REAL data (2,357 customers, 1997-01 to 1998-06).

    ``kind="transactions"``: one row per log line — ``master_id``, ``customer_id`` (1-2357),
    ``date``, ``cds`` (number of CDs), ``amount`` (US dollars).
    ``kind="summary"``: the published calibration summary (x, t_x, T in weeks, zbar in
    dollars), renamed to ``frequency``, ``recency``, ``T``, ``monetary_value`` and indexed by
    ``customer_id``.

    >>> load_cdnow().shape
    (6919, 5)
    >>> load_cdnow("summary")["frequency"].sum()
    np.int64(2457)
    """
    files = {"transactions": "CDNOW_sample.txt", "summary": "cdnow_customers_summary_with_transactions.csv"}
    if kind not in files:
        raise ParameterError(f"kind must be one of {list(files)}, got {kind!r}", fix="use 'transactions' or 'summary'")
    path = CDNOW_DIR / files[kind]
    if not path.exists():
        raise DatasetNotFoundError(f"CDNOW file {path} is missing",
                                   fix="restore datasets/real/cdnow from the repository (see its README.md)")
    if kind == "transactions":
        tx = pd.read_csv(path, sep=r"\s+", header=None, names=["master_id", "customer_id", "date", "cds", "amount"],
                         dtype={"master_id": str, "customer_id": "int64", "date": str, "cds": "int64",
                                "amount": float})
        tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
        return tx
    df = pd.read_csv(path)
    df.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    return df.set_index("customer_id")
