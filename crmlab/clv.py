"""Customer lifetime value (客户生命周期价值): the buy-till-you-die family on numpy/scipy.

Which model when (Fader & Hardie's map), and what crmlab offers in each cell:

===============  ===================================  =======================================
setting          discrete opportunities               continuous time
===============  ===================================  =======================================
contractual      :class:`ShiftedBetaGeometricFitter`  :mod:`crmlab.churn` (Kaplan-Meier,
                 (monthly or yearly renewals)         Cox; :func:`crmlab.churn.survival_clv`)
non-contractual  :class:`BetaGeoBetaBinomFitter`      :class:`BetaGeoFitter` (BG/NBD) or
                 (BG/BB: yearly donations, events)    :class:`ParetoNBDFitter`
===============  ===================================  =======================================

Contractual (合同型, e.g. 会员订阅 memberships) means the firm sees a customer leave; in the
non-contractual setting (非合同型) it does not. Add :class:`GammaGammaFitter` to a
non-contractual model to turn transactions into spend.

* :func:`summary_from_transactions` turns a transaction log into the per-customer
  frequency / recency / T / monetary_value summary (RFM for CLV models), optionally with
  a calibration/holdout split; :func:`contract_periods` turns contract start/end dates into
  the renewal periods of the sBG model;
* :class:`BetaGeoFitter` — BG/NBD (Fader, Hardie & Lee 2005): maximum likelihood with
  analytic gradients, standard errors from the Hessian, expected purchases, P(alive),
  model-check plots, :func:`tracking_table` / :func:`plot_tracking`;
* :class:`GammaGammaFitter` — spend per transaction (Fader, Hardie & Lee 2005b);
* :class:`ShiftedBetaGeometricFitter` — sBG retention for contracts (Fader & Hardie 2007),
  with the discounted expected residual lifetime (DERL) of Fader & Hardie (2010);
* :class:`BetaGeoBetaBinomFitter` — BG/BB for discrete transaction opportunities (Fader,
  Hardie & Shang 2010), replicated on their donation data (:func:`crmlab.datasets.load_donations`);
* :class:`ParetoNBDFitter` — Pareto/NBD (Schmittlein, Morrison & Colombo 1987), replicated on
  CDNOW (Fader, Hardie & Lee 2005);
* every fitter can also be built from published parameters without fitting
  (``BetaGeoFitter.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)``);
* :func:`customer_lifetime_value` = margin x discounted expected purchases x expected spend;
  :func:`oracle_customer_lifetime_value` is the same quantity for a forecaster who knows each
  customer's latent purchase rate, drop-out probability and spend (the synthetic world's
  ``latent`` table): the benchmark a fitted model is compared with;
  :func:`individual_expected_purchases` is its building block;
* :func:`simulate_bgnbd` / :func:`simulate_spend` / :func:`simulate_bgbb` /
  :func:`simulate_pareto_nbd` draw data from the models (for checks, teaching and the
  benchmarks).

The models are implemented here rather than taken from ``lifetimes`` (archived; breaks on
new pandas) and are tested against the published CDNOW estimates; the real CDNOW sample is
loaded with :func:`crmlab.datasets.load_cdnow`.

>>> import numpy as np, pandas as pd
>>> s = simulate_bgnbd(2000, T=52, r=0.5, alpha=5.0, a=0.8, b=2.5, seed=1)
>>> bgf = BetaGeoFitter().fit(s)
>>> bool(abs(bgf.params_["r"] - 0.5) < 0.15)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from ._bgbb import _hessian_covariance, _initial, _log_wald_interval, _minimise_log_params
from .base import Fitter, summary_frame
from .errors import ConvergenceError, DataValidationError, NotFittedError, ParameterError
from .validation import (
    _check_column_args,
    _check_scalar_option,
    _float_values,
    _tz_naive,
    check_binary,
    check_ci_level,
    check_count,
    check_dates,
    check_frame,
    check_random_state,
    check_scalar,
    check_timestamp,
    coding_advice,
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
    "BetaGeoBetaBinomFitter",
    "ParetoNBDFitter",
    "simulate_bgbb",
    "simulate_pareto_nbd",
]

TIME_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 30.4375}
"""Length of one model time unit in days (``M`` = an average month, 365.25 / 12 days)."""

_MAX_HORIZON = 1200  # periods of a CLV horizon (100 years of months): a typo guard
_MAX_PERIODS = 10_000_000  # renewal periods / periods survived: beyond this the dates are wrong


# ------------------------------------------------------------------------------------
# data preparation
# ------------------------------------------------------------------------------------
def _time_unit(time_unit: str) -> float:
    try:
        return TIME_UNIT_DAYS[_check_scalar_option(time_unit, "time_unit", list(TIME_UNIT_DAYS))]
    except ParameterError as err:
        close = str(time_unit).strip().upper()[:1]
        hint = f"did you mean time_unit={close!r}? " if close in TIME_UNIT_DAYS else ""
        raise ParameterError(err.problem, fix=f"{hint}use 'W' (weeks, as in the BG/NBD papers), 'D' (days) or "
                                                "'M' (months of 30.4375 days)") from None


def summary_from_transactions(
    transactions: pd.DataFrame,
    *,
    as_of,
    calibration_end=None,
    customer_id_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
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

    Times are in ``time_unit`` (weeks by default). ``as_of`` is the moment the log stops: a
    purchase dated after it is an error (a data-entry problem, a wrong as-of date, or a log
    that runs on into a holdout period, which ``calibration_end`` is for).

    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": ["2024-01-01", "2024-01-15", "2024-01-29", "2024-01-08"],
    ...                    "amount": [10.0, 20.0, 30.0, 5.0]})
    >>> summary_from_transactions(tx, as_of="2024-03-04")  # doctest: +NORMALIZE_WHITESPACE
                 frequency  recency    T  monetary_value
    customer_id
    1                    2      4.0  9.0            25.0
    2                    0      0.0  8.0             0.0
    """
    unit = _time_unit(time_unit)
    end = check_timestamp(as_of, "as_of")
    cal = check_timestamp(calibration_end, "calibration_end", allow_none=True)
    _check_scalar_option(merge_same_day, "merge_same_day", [True, False])
    _check_column_args(optional=("amount_col",), customer_id_col=customer_id_col, date_col=date_col,
                       amount_col=amount_col)
    if cal is not None and cal >= end:
        raise ParameterError(f"calibration_end ({cal.date()}) must be before as_of ({end.date()})",
                             fix="calibration_end splits the log into calibration and holdout; as_of is the "
                                 "end of the log: choose a calibration end inside the observation period")
    amount = [amount_col] if amount_col is not None else []
    check_frame(transactions, "transactions", required=[customer_id_col, date_col, *amount],
                no_nan=[customer_id_col, *amount], numeric=amount, non_negative=amount)
    when = _tz_naive(check_dates(transactions, date_col, "transactions"))
    _check_not_after(when, end, cal, date_col)
    day = when.dt.floor("D")
    df = pd.DataFrame({"cid": transactions[customer_id_col].to_numpy(), "day": day.to_numpy()})
    df["amt"] = transactions[amount_col].to_numpy(dtype=float) if amount else 0.0
    if merge_same_day:
        daily = df.groupby(["cid", "day"], sort=True, observed=True)["amt"].sum().reset_index()
    else:
        daily = df.sort_values(["cid", "day"], kind="stable").reset_index(drop=True)
    if cal is not None:
        in_cal = (daily["day"] <= cal).to_numpy()
        # customers whose first purchase falls after the calibration end are not in the sample
        daily = daily[daily["cid"].isin(daily.loc[in_cal, "cid"].unique())]
        if len(daily) == 0:
            first = when.min().date()
            raise DataValidationError(f"no customer bought on or before calibration_end ({cal.date()}); "
                                      f"the first purchase in the log is on {first}",
                                      fix=f"choose a calibration_end after {first}")
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
    out.index.name = customer_id_col
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


def _check_not_after(when: pd.Series, end: pd.Timestamp, cal, date_col: str) -> None:
    """Purchases after as_of: say how to keep them as a holdout (calibration_end) or drop them."""
    late = (when > end).to_numpy()
    if not late.any():
        return
    last = when.max()
    what = (f"transactions[{date_col!r}] has {int(late.sum())} date(s) after as_of={str(end.date())!r} "
            f"(the log runs to {last.date()})")
    drop = f"transactions[transactions[{date_col!r}] <= {str(end.date())!r}]"
    if cal is None:
        fix = (f"if {end.date()} is meant to end the calibration period, pass calibration_end="
               f"{str(end.date())!r} and as_of={str(last.date())!r} (the later purchases become the "
               f"holdout); otherwise drop the later rows ({drop}) or move as_of to {last.date()}")
    else:
        fix = (f"as_of is the end of the whole log (calibration plus holdout); calibration_end="
               f"{str(cal.date())!r} already splits it: pass as_of={str(last.date())!r} or drop the later "
               f"rows ({drop})")
    raise DataValidationError(what, fix=fix)


def contract_periods(
    contracts: pd.DataFrame,
    *,
    as_of,
    start_col: str = "start_date",
    end_col: str = "end_date",
    period_days: float = TIME_UNIT_DAYS["M"],
) -> pd.DataFrame:
    """Discrete renewal periods of contracts, the input of :class:`ShiftedBetaGeometricFitter`.

    A contract that ended ``τ`` days after its start churned in period ``ceil(τ / period)``
    (``churned = True``); one still running at ``as_of`` (end date missing) survived
    ``floor(τ / period)`` full periods (``churned = False``, right-censored).
    ``period_days`` is the length of one renewal period (an average month by default).

    >>> m = pd.DataFrame({"start_date": ["2024-01-01", "2024-01-01"],
    ...                   "end_date": ["2024-02-15", None]})
    >>> contract_periods(m, as_of="2024-07-01")
       periods  churned
    0        2     True
    1        5    False
    """
    obs = check_timestamp(as_of, "as_of")
    period = float(check_scalar(period_days, "period_days", low=0, low_inclusive=False))
    _check_column_args(start_col=start_col, end_col=end_col)
    check_frame(contracts, "contracts", required=[start_col, end_col])
    s = _tz_naive(check_dates(contracts, start_col, "contracts"))
    e = _tz_naive(check_dates(contracts, end_col, "contracts", allow_nat=True))
    for col, dates in ((start_col, s), (end_col, e)):
        late = (dates > obs).fillna(False).to_numpy(dtype=bool)
        if late.any():
            i = int(np.flatnonzero(late)[0])
            raise DataValidationError(f"contracts[{col!r}] has {int(late.sum())} date(s) after as_of={str(obs.date())!r} "
                                      f"(first at row {contracts.index[i]!r}: {dates.iloc[i].date()})",
                                      fix="move as_of to the date the data were extracted, or drop the later rows")
    bad = (e < s).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(f"contracts has {int(bad.sum())} row(s) where {end_col!r} is before {start_col!r} "
                                  f"(a contract that ended before it started; first at row {contracts.index[i]!r})",
                                  fix="swap or correct those dates, or drop the rows")
    churned = e.notna().to_numpy()
    days = (e.fillna(obs) - s).dt.total_seconds().to_numpy() / 86400.0
    tau = days / period
    if tau.max(initial=0.0) > _MAX_PERIODS:
        raise ParameterError(f"period_days={period_days!r} cuts the contracts into up to {tau.max():.3g} periods",
                             fix="period_days is the length of one renewal period in days: e.g. 30.4375 "
                                 "(a month), 7 (a week) or 365.25 (a year)")
    periods = np.where(churned, np.maximum(np.ceil(tau - 1e-9), 1), np.floor(tau + 1e-9)).astype("int64")
    return pd.DataFrame({"periods": periods, "churned": churned}, index=contracts.index)


def _check_unique_index(summary: pd.DataFrame, name: str) -> None:
    dup = summary.index.duplicated(keep=False)
    if dup.any():
        ids = summary.index[dup].unique()
        first = ids[0].item() if isinstance(ids[0], np.generic) else ids[0]
        raise DataValidationError(
            f"{name} has {len(ids)} customer id(s) on more than one row of its index (first: {first!r}); "
            "a summary has one row per customer",
            fix="rebuild it with summary_from_transactions, or remove the repeated rows "
                "(e.g. summary[~summary.index.duplicated()] after checking why they repeat)")


def _summary_arrays(summary, cols: dict[str, str], name: str = "summary", weights_col=None):
    """Validate a summary frame and return float arrays (frequency, recency, T, weights)."""
    f, r, t = cols["frequency"], cols["recency"], cols["T"]
    _check_column_args(optional=("weights_col",), frequency_col=f, recency_col=r, T_col=t, weights_col=weights_col)
    need = [f, r, t] + ([weights_col] if weights_col else [])
    check_frame(summary, name, required=need, numeric=need, no_nan=need, non_negative=need)
    _check_unique_index(summary, name)
    x = summary[f].to_numpy(dtype=float)
    tx = summary[r].to_numpy(dtype=float)
    T = summary[t].to_numpy(dtype=float)
    _check_history(x, tx, T, name, f, r, t)
    w = summary[weights_col].to_numpy(dtype=float) if weights_col else np.ones(len(x))
    if weights_col and not w.sum() > 0:
        raise DataValidationError(f"{name}[{weights_col!r}] sums to 0: no customer carries any weight",
                                  fix="weights count customers per row: use positive numbers")
    return x, tx, T, w


def _check_history(x, tx, T, name="summary", f="frequency", r="recency", t="T") -> None:
    """frequency whole; recency <= T; recency 0 without repeat purchases."""
    if np.any(np.abs(x - np.round(x)) > 1e-9):
        raise DataValidationError(f"{name}[{f!r}] must hold whole numbers of repeat purchases",
                                  fix="count repeat purchases (purchase days after the first one)")
    over = tx > T + 1e-9
    if np.any(over):
        i = int(np.flatnonzero(over.ravel())[0])
        raise DataValidationError(f"{name} has {int(over.sum())} row(s) with {r!r} > {t!r} "
                                  f"(first: recency {tx.ravel()[i]}, T {T.ravel()[i]})",
                                  fix="recency is measured from the first purchase, T from the first "
                                      "purchase to the end of the period; rebuild with summary_from_transactions")
    if np.any((x == 0) & (tx > 0)):
        raise DataValidationError(f"{name} has customers with {f!r} == 0 but {r!r} > 0",
                                  fix="recency must be 0 for customers without repeat purchases")


def _non_negative_array(t, name: str) -> np.ndarray:
    """A finite, non-negative number or array of numbers (any shape) as floats."""
    arr = _float_values(t, name, "a number or an array of numbers",
                        f"pass {name} as a number, a list, a numpy array or a Series")
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        n_nan, n_inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
        n_neg = int((arr < 0).sum())
        raise ParameterError(f"{name} must be finite and >= 0 (found {n_nan} missing, {n_inf} infinite and "
                             f"{n_neg} negative value(s))", fix=f"pass a non-negative {name}; drop or correct those values")
    return arr


def _broadcast(**arrays) -> list[np.ndarray]:
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError as err:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise ParameterError(f"the inputs have shapes that do not match: {shapes}",
                             fix="pass one value per customer in each argument, in the same order "
                                 "(or a single number for all)") from err


def _history(frequency, recency, T, t=None):
    """Validated (t,) frequency, recency, T arrays, broadcast against each other."""
    arrays = {"frequency": _non_negative_array(frequency, "frequency"),
              "recency": _non_negative_array(recency, "recency"), "T": _non_negative_array(T, "T")}
    if t is not None:
        arrays = {"t": _non_negative_array(t, "t"), **arrays}
    out = _broadcast(**arrays)
    _check_history(*out[-3:], name="the purchase history")
    return out


class _BTYDFitter(Fitter):
    """Shared plumbing of the buy-till-you-die fitters: optimiser, standard errors, summary.

    ``_model_params`` are the model's own parameter names (published letters), not the
    constructor's settings.
    """

    _model_params: tuple[str, ...] = ()
    _example_params = ""
    _what = "model"
    _data_hint = "more customers"
    _unit = "customers"

    def __init__(self, penalizer_coef: float = 0.0, ci_level: float = 0.95):
        self.penalizer_coef = penalizer_coef
        self.ci_level = ci_level
        self._check_settings()

    def _check_settings(self) -> None:
        check_scalar(self.penalizer_coef, "penalizer_coef", low=0)
        check_ci_level(self.ci_level)

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            name = type(self).__name__
            raise NotFittedError(f"this {name} is not fitted yet",
                                 fix=f"call .fit(...) first, or build it from published parameters with "
                                     f"{name}.from_params({self._example_params})")

    # -- a model from given parameters ----------------------------------------------------
    @classmethod
    def from_params(cls, params=None, /, **values):
        """A model with the given parameters, ready to predict without fitting.

        Pass the parameters as keywords (their published names) or as one mapping, e.g. a
        published table or another model's ``params_``. Such a model has no data behind it:
        its ``summary`` has NaN standard errors and intervals, and its repr says the
        parameters were given.
        """
        names = list(cls._model_params)
        if params is not None:
            if values:
                raise ParameterError("pass the parameters either as one mapping or as keywords, not both",
                                     fix=f"e.g. {cls.__name__}.from_params({cls._example_params})")
            if isinstance(params, pd.Series):
                params = params.to_dict()
            if not isinstance(params, Mapping):
                raise ParameterError(f"params must be a mapping of {names} to numbers, got {type(params).__name__}",
                                     fix=f"e.g. {cls.__name__}.from_params({cls._example_params})")
            values = dict(params)
        missing = [n for n in names if n not in values]
        unknown = [k for k in values if k not in names]
        if missing or unknown:
            raise ParameterError(f"{cls.__name__}.from_params needs exactly the parameters {names} "
                                 f"(missing {missing}, unknown {unknown})",
                                 fix=f"e.g. {cls.__name__}.from_params({cls._example_params})")
        theta = np.array([float(check_scalar(values[n], n, low=0, low_inclusive=False)) for n in names])
        model = cls()
        model.params_ = pd.Series(theta, index=names, name="estimate")
        model.standard_errors_ = pd.Series(np.nan, index=names, name="std_error")
        model._given = True
        return model

    # -- fitting ---------------------------------------------------------------------------
    def _optimise(self, negll, x0: np.ndarray, n_obs: float):
        """Minimise the mean negative log-likelihood over log-parameters; returns natural params."""
        theta, res, self._fix = _minimise_log_params(
            negll, x0, n_obs, penalizer_coef=self.penalizer_coef, names=self._model_params, what=self._what,
            data_hint=self._data_hint, maxiter=2000, ftol=1e-13)
        return theta, res

    def _finish(self, theta, negll, n_rows: int, w: np.ndarray):
        names = list(self._model_params)
        nll, _ = negll(theta)
        n_obs = float(w.sum())

        def grad(th):  # gradient of the penalised total negative log-likelihood
            g = negll(th)[1]
            return g + n_obs * float(self.penalizer_coef) * 2 * np.log(th) / th

        cov = _hessian_covariance(grad, theta, self._what, self._fix, forward=n_obs > 50_000)
        self.params_ = pd.Series(theta, index=names, name="estimate")
        self.log_likelihood_ = float(-nll)
        self.n_customers_ = n_obs
        # weights count customers (fit_survivors, weights_col): report the customers they stand for
        self.n_obs_ = int(round(n_obs)) if np.allclose(w, np.round(w)) else int(n_rows)
        self.aic_ = 2 * len(theta) - 2 * self.log_likelihood_
        self.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, name="std_error")
        self._given = False

    # -- results ---------------------------------------------------------------------------
    def _summary(self) -> pd.DataFrame:
        """Estimates, standard errors and Wald intervals on the log scale (positive parameters
        keep positive bounds); NaN errors and bounds for a model built by :meth:`from_params`."""
        est = self.params_.to_numpy(dtype=float)
        se = self.standard_errors_.to_numpy(dtype=float)
        lo, hi = _log_wald_interval(est, se, self.ci_level)
        return summary_frame(est, se, lo, hi, index=list(self.params_.index), ci_level=self.ci_level)

    def _repr_fitted(self) -> str:
        if getattr(self, "_given", False):
            pairs = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"with given parameters (not fitted to data): {pairs}"
        return super()._repr_fitted()

    def _theta(self) -> np.ndarray:
        self._check_fitted()
        return self.params_.to_numpy(dtype=float)


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


def _away_from_one(f, a: float):
    """BG/NBD's closed forms divide by (a − 1); at a = 1 take the mean of both sides (the limit)."""
    if abs(a - 1.0) > 1e-7:
        return f(a)
    return (f(1.0 + 1e-7) + f(1.0 - 1e-7)) / 2


_MP_LIMIT = 10_000  # customers whose expectation needs the arbitrary-precision fallback


def _alive_expectation(t, x, T, r: float, alpha: float, a: float, b: float) -> np.ndarray:
    """E[purchases in (T, T + t] | alive, x repeat purchases, observed for T] under BG/NBD.

    With x = T = 0 it is a new customer's E[X(t)] (FHL 2005, eq. 9); times P(alive) it is
    eq. 10. The closed form multiplies a vanishing power by a huge ₂F₁ when histories are
    long (hundreds of repeat purchases) or t is far out; where scipy's ₂F₁ overflows there,
    the same closed form is evaluated in arbitrary precision (mpmath, 30 digits) instead of
    returning inf/NaN (Fader & Hardie's "#NUM! error" of the BG/NBD).
    """
    t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, T)))

    def closed(a_):
        with np.errstate(all="ignore"):
            hyp = special.hyp2f1(r + x, b + x, a_ + b + x - 1, t / (alpha + T + t))
            return (a_ + b + x - 1) / (a_ - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)

    out = np.array(_away_from_one(closed, a), dtype=float)
    bad = ~np.isfinite(out) | (out < -1e-9)
    if bad.any():
        idx = np.flatnonzero(bad.ravel())
        if len(idx) > _MP_LIMIT:
            raise ConvergenceError(f"the BG/NBD expectation overflows for {len(idx):,} inputs (extreme histories "
                                   "or horizons)", fix="use a shorter horizon t or a coarser time unit")
        flat = out.ravel()
        for i in idx:
            flat[i] = _away_from_one(lambda a_, i=i: _mp_expectation(t.flat[i], x.flat[i], T.flat[i], r, alpha, a_, b),
                                     a)
        out = flat.reshape(out.shape)
    return np.maximum(out, 0.0)  # rounding can leave -1e-16 at t = 0


def _mp_expectation(t, x, T, r, alpha, a, b) -> float:
    import mpmath

    try:
        with mpmath.workdps(30):
            c = mpmath.mpf(alpha) + T
            hyp = mpmath.hyp2f1(r + x, b + x, a + b + x - 1, mpmath.mpf(t) / (c + t))
            value = float((a + b + x - 1) / (a - 1) * (1 - (c / (c + t)) ** (r + x) * hyp))
    except (mpmath.libmp.NoConvergence, ZeroDivisionError, OverflowError, ValueError) as err:
        raise ConvergenceError(f"the BG/NBD expectation could not be evaluated (x={x:g}, T={T:g}, t={t:g}: {err})",
                               fix="use a shorter horizon t or a coarser time unit") from err
    if not np.isfinite(value):
        raise ConvergenceError(f"the BG/NBD expectation is not finite (x={x:g}, T={T:g}, t={t:g})",
                               fix="use a shorter horizon t or a coarser time unit")
    return value


class BetaGeoFitter(_BTYDFitter):
    """BG/NBD model of repeat purchases in a non-contractual setting (Fader, Hardie & Lee 2005).

    While alive, a customer buys at rate ``λ ~ Gamma(r, α)`` (rate α, per time unit); after
    every repeat purchase she drops out for good with probability ``p ~ Beta(a, b)``.
    ``fit`` maximises the likelihood of (frequency, recency, T); standard errors come
    from the inverse Hessian, intervals are Wald intervals on the log scale.
    ``penalizer_coef`` adds ``c * sum(log(θ)²)`` to the mean negative log-likelihood
    (``lifetimes`` penalises ``θ²`` instead). :meth:`from_params` builds the model from
    published parameters instead.

    >>> s = simulate_bgnbd(3000, T=39, r=0.25, alpha=4.4, a=0.8, b=2.4, seed=7)
    >>> bgf = BetaGeoFitter().fit(s)
    >>> list(bgf.summary.columns)
    ['estimate', 'std_error', 'ci_lower', 'ci_upper']
    >>> cdnow = BetaGeoFitter.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)  # FHL (2005)
    >>> cdnow
    BetaGeoFitter(), with given parameters (not fitted to data): r=0.243, alpha=4.414, a=0.793, b=2.426
    >>> round(float(cdnow.conditional_probability_alive(2, 30.43, 38.86)), 3)
    0.727
    """

    _model_params = ("r", "alpha", "a", "b")
    _example_params = "r=0.243, alpha=4.414, a=0.793, b=2.426"
    _what = "BG/NBD"
    _data_hint = ("more customers or a longer calibration period, so that both repeat purchases and "
                  "long silences (drop-outs) are observed")

    def fit(self, summary: pd.DataFrame, frequency_col: str = "frequency", recency_col: str = "recency",
            T_col: str = "T", weights_col: str | None = None, initial_params=None) -> BetaGeoFitter:
        """Fit on a per-customer summary (see :func:`summary_from_transactions`); returns self.

        ``weights_col`` (optional) counts the customers each row stands for (a summary
        aggregated by identical histories).
        """
        self._check_settings()
        x, tx, T, w = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col,
                                                "T": T_col}, weights_col=weights_col)
        if np.all(T == 0):
            raise DataValidationError("every customer has T == 0: nobody was observed after the first purchase",
                                      fix="set as_of (or calibration_end) after the first purchases")
        if not np.any(x > 0):
            raise DataValidationError(
                "no customer made a repeat purchase, so the drop-out process (a, b) cannot be estimated",
                fix="use a longer calibration period or more customers")
        negll = _bgnbd_negll(x, tx, T, w)
        if initial_params is None:
            rate = max((w @ x) / max(w @ T, 1e-12), 1e-6)
            x0 = np.array([1.0, 1.0 / rate, 1.0, 1.0])
        else:
            x0 = _initial(initial_params, 4, "r, alpha, a, b", "[1, 5, 1, 1]")
        if initial_params is None and len(x) > 200_000:
            # on big data, start from a fit on a seeded subsample: the full-data polish then
            # needs only a few passes over the million rows
            sub = np.random.default_rng(0).choice(len(x), 50_000, replace=False)
            if np.any(x[sub] > 0):
                x0, _ = self._optimise(_bgnbd_negll(x[sub], tx[sub], T[sub], w[sub]), x0, w[sub].sum())
        theta, _ = self._optimise(negll, x0, w.sum())
        self._finish(theta, negll, len(x), w)
        self._T_max = float(T.max())
        return self

    # -- predictions ---------------------------------------------------------------------
    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)]: expected repeat purchases of a new customer in (0, t] (FHL 2005, eq. 9)."""
        r, alpha, a, b = self._theta()
        t = _non_negative_array(t, "t")
        return _alive_expectation(t, 0.0, 0.0, r, alpha, a, b)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] of customers with this history (eq. 10)."""
        r, alpha, a, b = self._theta()
        t, x, tx, T = _history(frequency, recency, T, t=_non_negative_array(t, "t"))
        return _alive_expectation(t, x, T, r, alpha, a, b) * self._p_alive(x, tx, T)

    def conditional_probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive | x, t_x, T) (FHL 2005, eq. 11): 1 for customers without repeat purchases.

        ``frequency``, ``recency`` and ``T`` are numbers or arrays of the same length (a
        customer's history); NaN, inf, negative values, recency > T and fractional
        frequencies are refused.
        """
        self._check_fitted()
        x, tx, T = _history(frequency, recency, T)
        return self._p_alive(x, tx, T)

    def _p_alive(self, x, tx, T) -> np.ndarray:
        r, alpha, a, b = self._theta()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(x > 0, special.expit(-log_odds), 1.0)

    def probability_of_purchases(self, t, n) -> np.ndarray:
        """P(X(t) = n): probability that a new customer makes ``n`` repeat purchases in (0, t] (eq. 8)."""
        r, alpha, a, b = self._theta()
        t = _non_negative_array(t, "t")
        n = check_count(n, "n", low=0, high=10**9)
        lb = special.betaln(a, b)
        q = alpha / (alpha + t)
        with np.errstate(divide="ignore"):
            log_nb = (special.gammaln(r + n) - special.gammaln(r) - special.gammaln(n + 1)
                      + r * np.log(q) + special.xlog1py(n, -q))  # 0 * log(0) = 0 when t = 0
        first = np.exp(special.betaln(a, b + n) - lb + log_nb)
        if n == 0:
            return first
        # P(NBD(r, q) <= n - 1) is the regularised incomplete beta function I_q(r, n)
        cum = special.betainc(r, n, q)
        return first + np.exp(special.betaln(a + 1, b + n - 1) - lb) * (1 - cum)

    def predict_purchases(self, summary: pd.DataFrame, t: float, frequency_col: str = "frequency",
                          recency_col: str = "recency", T_col: str = "T") -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units (a Series)."""
        self._check_fitted()
        check_scalar(t, "t", low=0)
        x, tx, T, _ = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col, "T": T_col})
        return pd.Series(self.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T),
                         index=summary.index, name=f"expected_purchases_{t:g}")

    def predict_probability_alive(self, summary: pd.DataFrame, frequency_col: str = "frequency",
                                  recency_col: str = "recency", T_col: str = "T") -> pd.Series:
        """P(alive) of each customer at the end of the observation period (a Series)."""
        self._check_fitted()
        x, tx, T, _ = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col, "T": T_col})
        return pd.Series(self._p_alive(x, tx, T), index=summary.index, name="p_alive")

    def expected_frequency_table(self, summary: pd.DataFrame, max_frequency: int = 7,
                                 frequency_col: str = "frequency", T_col: str = "T") -> pd.DataFrame:
        """Observed vs expected number of customers by repeat frequency (the last row is "max+")."""
        self._check_fitted()
        max_frequency = check_count(max_frequency, "max_frequency", 1, 1000)
        _check_column_args(frequency_col=frequency_col, T_col=T_col)
        need = [frequency_col, T_col]
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
        _check_unique_index(summary, "summary")
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
        self._check_fitted()
        max_frequency = check_count(max_frequency, "max_frequency", 1, 1000)
        x, tx, T, _ = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col, "T": T_col})
        _check_column_args(holdout_col=holdout_col, duration_col=duration_col)
        need = [holdout_col, duration_col]
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
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
        """P(alive) for a customer observed for ``T`` on a grid of frequency x recency.

        ``T`` defaults to the longest observation of the fitted summary (a model built by
        :meth:`from_params` needs it given).
        """
        self._check_fitted()
        if T is None:
            T = getattr(self, "_T_max", None)
            if T is None:
                raise ParameterError("T is needed: this model was built from given parameters, not fitted to a "
                                     "summary", fix="pass T=, the length of the observation period in model units")
        T = float(check_scalar(T, "T", low=0, low_inclusive=False))
        max_frequency = 20 if max_frequency is None else check_count(max_frequency, "max_frequency", 1, 1000)
        n_recency = check_count(n_recency, "n_recency", 2, 10_000)
        max_recency = T if max_recency is None else min(float(check_scalar(max_recency, "max_recency", low=0)), T)
        rec = np.linspace(0, max_recency, n_recency)
        freq = np.arange(max_frequency + 1)
        X, R = np.meshgrid(freq, rec, indexing="ij")
        pa = self._p_alive(X.astype(float), np.where(X > 0, R, 0.0), np.full_like(R, T))
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


class GammaGammaFitter(_BTYDFitter):
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
    >>> round(GammaGammaFitter.from_params(p=6.25, q=3.74, gamma=15.44).mean_spend_, 2)  # CDNOW
    35.22
    """

    _model_params = ("p", "q", "gamma")
    _example_params = "p=6.25, q=3.74, gamma=15.44"
    _what = "Gamma-Gamma"
    _data_hint = ("more customers with repeat purchases; with few customers the spread of average "
                  "spend between customers cannot be told apart from noise (q and gamma run off together)")

    def fit(self, summary: pd.DataFrame, frequency_col: str = "frequency",
            monetary_value_col: str = "monetary_value", weights_col: str | None = None,
            initial_params=None) -> GammaGammaFitter:
        """Fit on customers with ``frequency > 0``; returns self."""
        self._check_settings()
        _check_column_args(optional=("weights_col",), frequency_col=frequency_col,
                           monetary_value_col=monetary_value_col, weights_col=weights_col)
        need = [frequency_col, monetary_value_col] + ([weights_col] if weights_col else [])
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
        _check_unique_index(summary, "summary")
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
        if not w.sum() > 0:
            raise DataValidationError(f"summary[{weights_col!r}] sums to 0 among customers with repeat purchases",
                                      fix="weights count customers per row: use positive numbers")
        negll = _gg_negll(x, z, w)
        if initial_params is None:
            m, v = np.average(z, weights=w), np.average((z - np.average(z, weights=w)) ** 2, weights=w)
            x0 = np.array([max(m ** 2 / max(v, 1e-12), 0.5), 3.0, 2.0 * m / max(m ** 2 / max(v, 1e-12), 0.5)])
        else:
            x0 = _initial(initial_params, 3, "p, q, gamma", "[5, 3, 20]")
        theta, _ = self._optimise(negll, x0, w.sum())
        self._finish(theta, negll, len(x), w)
        with np.errstate(all="ignore"):
            corr = float(np.corrcoef(x, z)[0, 1]) if len(x) > 2 and x.std() > 0 and z.std() > 0 else np.nan
        self.frequency_spend_correlation_ = corr
        return self

    @property
    def mean_spend_(self) -> float:
        """Population mean spend per transaction, p γ / (q − 1) (infinite when q <= 1)."""
        p, q, g = self._theta()
        return float(p * g / (q - 1)) if q > 1 else np.inf

    def conditional_expected_average_profit(self, frequency, monetary_value) -> np.ndarray:
        """E[spend | x, z̄] = p (γ + x z̄) / (p x + q − 1): shrinks z̄ towards the population mean.

        ``monetary_value`` of customers without repeat purchases (``frequency == 0``) is
        ignored: they get the population mean.
        """
        p, q, g = self._theta()
        if q <= 1:
            if getattr(self, "_given", False):
                raise ParameterError(f"q = {q:.3f} <= 1: this spend distribution has no finite mean",
                                     fix="check the given parameters: the Gamma-Gamma q must exceed 1")
            raise ConvergenceError(f"q = {q:.3f} <= 1: the fitted spend distribution has no finite mean",
                                   fix="use more customers, or penalizer_coef=0.001")
        x, z = _broadcast(frequency=_non_negative_array(frequency, "frequency"),
                          monetary_value=_non_negative_array(monetary_value, "monetary_value"))
        z = np.where(x > 0, z, 0.0)
        return p * (g + x * z) / (p * x + q - 1)

    def predict_spend(self, summary: pd.DataFrame, frequency_col: str = "frequency",
                      monetary_value_col: str = "monetary_value") -> pd.Series:
        """Expected spend per future transaction of each customer (a Series)."""
        self._check_fitted()
        _check_column_args(frequency_col=frequency_col, monetary_value_col=monetary_value_col)
        need = [frequency_col, monetary_value_col]
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
        _check_unique_index(summary, "summary")
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


class ShiftedBetaGeometricFitter(_BTYDFitter):
    """Shifted-beta-geometric (sBG) retention model for contracts (Fader & Hardie 2007).

    At the end of every period a customer with churn probability ``θ ~ Beta(alpha, beta)``
    cancels with probability ``θ``. Heterogeneity makes the *aggregate* retention rate
    rise with tenure (the survivors are the loyal ones), which is why a constant-churn
    projection underestimates long-run survival.

    Fit on individual contracts (:meth:`fit`, periods + churned flag, e.g. from
    :func:`contract_periods`) or on a cohort's survivor counts (:meth:`fit_survivors`), or
    build the model from published parameters with :meth:`from_params`.

    **DERL: two ways of counting.** Fader & Hardie (2010, eq. 6) index the discounted
    expected residual lifetime by *renewals made*: DERL(d | n − 1 renewals) values, at the
    end of period n just before the customer's renewal decision, the payments of periods
    n + 1, n + 2, ..., the first of them undiscounted:
    ``(beta + n − 1) / (alpha + beta + n − 1) · ₂F₁(1, beta + n; alpha + beta + n; 1/(1+d))``.
    crmlab's default (:meth:`discounted_expected_residual_lifetime`, ``periods_survived = m``
    renewals made) stands one step earlier, at the *start* of period m + 1, and counts that
    period's payment too. With the same m the two differ by exactly that payment and one
    period of discounting: ``crmlab = 1 + fader_hardie / (1 + d)``. Pass
    ``convention="fader_hardie"`` to get the published quantity.

    Worked example: the high-end cohort of Fader & Hardie (2007), d = 10% a year, a customer
    who has renewed 7 times (491 of the 1,000 did):

    >>> sbg = ShiftedBetaGeometricFitter().fit_survivors([1000, 869, 743, 653, 593, 551, 517, 491])
    >>> sbg.params_.round(3).tolist()
    [0.668, 3.806]
    >>> given = ShiftedBetaGeometricFitter.from_params(alpha=0.668, beta=3.806)
    >>> round(given.discounted_expected_residual_lifetime(0.1, 7, convention="fader_hardie"), 3)
    7.53
    >>> round(given.discounted_expected_residual_lifetime(0.1, 7), 3)  # = 1 + 7.530 / 1.1
    7.845
    """

    _model_params = ("alpha", "beta")
    _example_params = "alpha=0.668, beta=3.806"
    _what = "sBG"
    _unit = "contracts"
    _data_hint = "more contracts or a longer follow-up, so that renewals and cancellations are both observed"

    def fit(self, data: pd.DataFrame, duration_col: str = "periods", event_col: str = "churned",
            weights_col: str | None = None) -> ShiftedBetaGeometricFitter:
        """``duration_col`` = period of churn (>= 1) if ``event_col`` else periods survived (>= 0)."""
        self._check_settings()
        _check_column_args(optional=("weights_col",), duration_col=duration_col, event_col=event_col,
                           weights_col=weights_col)
        num = [duration_col] + ([weights_col] if weights_col else [])
        check_frame(data, "data", required=[*num, event_col], numeric=num, no_nan=num, non_negative=num)
        check_binary(data, event_col, "data")
        t = data[duration_col].to_numpy(dtype=float)
        if np.any(np.abs(t - np.round(t)) > 1e-9):
            raise DataValidationError(f"data[{duration_col!r}] must hold whole numbers of periods",
                                      fix="count renewal periods, e.g. with crmlab.clv.contract_periods")
        churned = data[event_col].to_numpy().astype(bool)
        if np.any(churned & (t < 1)):
            raise DataValidationError(f"churned contracts need {duration_col!r} >= 1 (churn happens in period 1 "
                                      "or later)", fix="count the period in which the contract ended, starting at 1")
        w = data[weights_col].to_numpy(dtype=float) if weights_col else np.ones(len(t))
        return self._fit_arrays(t, churned, w)

    def fit_survivors(self, survivors) -> ShiftedBetaGeometricFitter:
        """Fit on counts alive at the start and after each period: ``[n0, n1, ..., nk]``."""
        self._check_settings()
        s = _survivor_counts(survivors)
        lost = -np.diff(s)
        k = len(s) - 1
        t = np.concatenate([np.arange(1, k + 1), [k]]).astype(float)
        churned = np.concatenate([np.ones(k, bool), [False]])
        w = np.concatenate([lost, [s[-1]]])
        keep = w > 0
        return self._fit_arrays(t[keep], churned[keep], w[keep])

    def _fit_arrays(self, t, churned, w):
        if not w.sum() > 0:
            raise DataValidationError("the weights sum to 0: no contract carries any weight",
                                      fix="weights count contracts per row: use positive numbers")
        if not np.any(churned & (w > 0)):
            raise DataValidationError("no contract churned, so the churn distribution cannot be estimated",
                                      fix="observe the cohort for longer or add more contracts")
        if churned.all() and np.all(t == 1):
            raise DataValidationError("every contract churned in period 1; alpha and beta are not identified",
                                      fix="add contracts that renewed at least once")
        negll = _sbg_negll(t, churned, w)
        theta, _ = self._optimise(negll, np.array([1.0, 1.0]), w.sum())
        self._finish(theta, negll, len(t), w)
        self.n_churned_ = float(w[churned].sum())
        return self

    def survival_function_at_times(self, t) -> np.ndarray:
        """S(t) = B(alpha, beta + t) / B(alpha, beta): share still subscribed after ``t`` periods."""
        al, be = self._theta()
        t = _non_negative_array(t, "t")
        return np.exp(special.betaln(al, be + t) - special.betaln(al, be))

    def churn_probability(self, t) -> np.ndarray:
        """P(T = t): probability of cancelling in period ``t`` (t >= 1)."""
        al, be = self._theta()
        t = _periods(t)
        return np.exp(special.betaln(al + 1, be + t - 1) - special.betaln(al, be))

    def retention_rate(self, t) -> np.ndarray:
        """r(t) = S(t) / S(t − 1) = (beta + t − 1) / (alpha + beta + t − 1) (t >= 1): it rises with tenure."""
        al, be = self._theta()
        t = _periods(t)
        return (be + t - 1) / (al + be + t - 1)

    @property
    def expected_lifetime_(self) -> float:
        """Mean number of periods a new customer stays, (alpha + beta − 1) / (alpha − 1).

        Infinite when alpha <= 1: the churn probabilities of the most loyal customers are
        then so close to 0 that the mean lifetime diverges (the median stays finite).
        """
        al, be = self._theta()
        return float((al + be - 1) / (al - 1)) if al > 1 else np.inf

    def discounted_expected_residual_lifetime(self, discount_rate: float, periods_survived: int = 0, *,
                                              convention: str = "crmlab") -> float:
        """Discounted expected number of payments of an active customer who has renewed
        ``periods_survived`` times.

        ``convention="crmlab"`` (default): valued at the start of period n + 1 (n =
        ``periods_survived``), the payment for that period included:
        Σ_{k>=0} S(n+k)/S(n) / (1+d)^k = ₂F₁(1, beta+n; alpha+beta+n; 1/(1+d)); with d = 0
        and n = 0 it is the expected lifetime. ``convention="fader_hardie"``: Fader & Hardie's
        (2010) DERL(d | n renewals), valued just before the next renewal decision, the
        current period's payment excluded; it equals (crmlab − 1)(1 + d). The class docstring
        has a worked example. ``discount_rate`` is per period (0.01 = 1% a month for monthly
        contracts).
        """
        al, be = self._theta()
        d = float(check_scalar(discount_rate, "discount_rate", low=0, high=1))
        n = check_count(periods_survived, "periods_survived", 0, _MAX_PERIODS)
        _check_scalar_option(convention, "convention", ["crmlab", "fader_hardie"])
        if d == 0 and al <= 1:
            raise ParameterError(f"with alpha = {al:.3g} <= 1 the undiscounted expected lifetime is infinite",
                                 fix="pass a discount rate > 0 (a per-period rate, e.g. 0.01 for monthly contracts)")
        z = 1 / (1 + d)
        if convention == "crmlab":
            return float(special.hyp2f1(1, be + n, al + be + n, z))
        return float((be + n) / (al + be + n) * special.hyp2f1(1, be + n + 1, al + be + n + 1, z))

    def customer_lifetime_value(self, value_per_period: float, discount_rate: float,
                                periods_survived: int = 0) -> float:
        """Expected discounted value of an active contract: ``value_per_period`` x
        :meth:`discounted_expected_residual_lifetime` (crmlab's convention: the payment for
        the period now starting included)."""
        check_scalar(value_per_period, "value_per_period", low=0)
        return float(value_per_period) * self.discounted_expected_residual_lifetime(discount_rate, periods_survived)

    def plot_survival(self, t_max: int, observed=None, ax=None, truth: dict | None = None,
                      synthetic: bool = True):
        """Fitted survival curve, with observed (e.g. Kaplan-Meier) and true points if given."""
        from . import plots

        self._check_fitted()
        t_max = check_count(t_max, "t_max", 1, 10_000)
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


def _periods(t) -> np.ndarray:
    arr = _non_negative_array(t, "t")
    if np.any(arr < 1):
        raise ParameterError("t must be >= 1: the first renewal decision is at the end of period 1",
                             fix="pass periods 1, 2, ...")
    return arr


def _survivor_counts(survivors) -> np.ndarray:
    s = _non_negative_array(survivors, "survivors")
    if s.ndim != 1 or len(s) < 2:
        raise DataValidationError("survivors must be a list of at least 2 non-negative counts",
                                  fix="pass the cohort size followed by the survivors after each period")
    if s[0] <= 0:
        raise DataValidationError("the cohort size (survivors[0]) must be > 0",
                                  fix="pass the cohort size followed by the survivors after each period")
    if np.any(np.diff(s) > 0):
        raise DataValidationError("survivor counts must not increase over time",
                                  fix="check the cohort counts (a cohort can only shrink)")
    return s


# ------------------------------------------------------------------------------------
# CLV
# ------------------------------------------------------------------------------------
def _check_horizon(horizon, period_length, discount_rate) -> tuple[int, float, float]:
    h = check_count(horizon, "horizon", 1, _MAX_HORIZON)
    pl = float(check_scalar(period_length, "period_length", low=0, low_inclusive=False))
    d = float(check_scalar(discount_rate, "discount_rate", low=0, high=1))
    return h, pl, d


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
    horizon, period_length, discount_rate = _check_horizon(horizon, period_length, discount_rate)
    x, tx, T, _ = _summary_arrays(summary, {"frequency": frequency_col, "recency": recency_col, "T": T_col})
    spend = spend_model.predict_spend(summary, frequency_col, monetary_value_col).to_numpy()
    if isinstance(margin, pd.Series):
        if not (pd.api.types.is_numeric_dtype(margin) and not pd.api.types.is_bool_dtype(margin)):
            raise ParameterError(f"margin must hold numbers, got dtype {margin.dtype}",
                                 fix=coding_advice(margin, "margin", "numeric"))
        if margin.index.has_duplicates:
            raise DataValidationError("margin has a duplicated customer id in its index",
                                      fix="pass one margin rate per customer")
        m = margin.reindex(summary.index)
        if m.isna().any():
            raise DataValidationError(f"margin has no value for {int(m.isna().sum())} customer(s) of summary",
                                      fix="pass a margin rate for every customer (same index as summary)")
        m = m.to_numpy(dtype=float)
    else:
        m = np.full(len(x), float(check_scalar(margin, "margin", low=0, high=1)))
    if np.any(~np.isfinite(m)) or np.any((m < 0) | (m > 1)):
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
    p = _probabilities(dropout_probability, "dropout_probability", "must lie in (0, 1]",
                       "pass per-purchase drop-out probabilities")
    a = _probabilities(alive, "alive", "must be 0/1 or a probability in [0, 1]", "pass the alive flag (1/0) or P(alive)")
    if np.any(p <= 0):
        raise ParameterError("dropout_probability must lie in (0, 1]", fix="pass per-purchase drop-out probabilities")
    t, lam, p, a = _broadcast(t=t, purchase_rate=lam, dropout_probability=p, alive=a)
    return a * -np.expm1(-lam * p * t) / p


def _probabilities(v, name: str, rule: str, fix: str) -> np.ndarray:
    if v is None or isinstance(v, (str, bytes)):
        raise ParameterError(f"{name} must be a number or an array of numbers, got {type(v).__name__}", fix=fix)
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must hold numbers only", fix=fix) from err
    if np.any(~np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ParameterError(f"{name} {rule}", fix=fix)
    return arr


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
    horizon, period_length, discount_rate = _check_horizon(horizon, period_length, discount_rate)
    args = {"purchase_rate": purchase_rate, "dropout_probability": dropout_probability, "mean_spend": mean_spend,
            "alive": alive, "margin": margin}
    index = next((v.index for v in args.values() if isinstance(v, pd.Series)), None)
    arrays = {}
    for name, v in args.items():
        if isinstance(v, pd.Series) and not v.index.equals(index):
            raise ParameterError(f"{name} is not aligned with the other Series arguments",
                                 fix="reindex every Series on the same customer index")
        if v is None or isinstance(v, (str, bytes)):
            raise ParameterError(f"{name} must be a number or an array of numbers, got {type(v).__name__}",
                                 fix=f"pass {name} as numbers, one per customer")
        try:
            arr = np.asarray(v, dtype=float)
        except (TypeError, ValueError) as err:
            raise ParameterError(f"{name} must hold numbers only", fix=f"convert {name} with pd.to_numeric") from err
        if np.any(~np.isfinite(arr)):
            raise DataValidationError(f"{name} has missing or infinite values",
                                      fix="drop customers without latent parameters (e.g. B2B accounts)")
        arrays[name] = arr
    lam, p, spend, a, m = _broadcast(**arrays)
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
    out = pd.DataFrame({"expected_purchases": np.atleast_1d(cum_prev), "discounted_purchases": np.atleast_1d(disc),
                        "expected_spend": np.atleast_1d(spend), "margin": np.atleast_1d(m),
                        "clv": np.atleast_1d(m * disc * spend)})
    if index is not None:
        out.index = index
    return out


def tracking_table(
    model: BetaGeoFitter,
    transactions: pd.DataFrame,
    *,
    as_of,
    calibration_end=None,
    customer_id_col: str = "customer_id",
    date_col: str = "date",
    time_unit: str = "W",
    merge_same_day: bool = True,
) -> pd.DataFrame:
    """Cumulative repeat purchases of a cohort, actual vs BG/NBD-expected, period by period.

    The "tracking plot" of Fader, Hardie & Lee (2005): customers are those whose first
    purchase is on or before ``calibration_end`` (all, if None); each period end ``t`` up to
    ``as_of`` gets the actual number of repeat purchases made by then and
    ``Σ_i E[X(t − first_i)]``. Counting follows :func:`summary_from_transactions`
    (same-day merging by default).
    """
    if not isinstance(model, BetaGeoFitter):
        raise ParameterError(f"expected a fitted BetaGeoFitter, got {type(model).__name__}",
                             fix="pass crmlab.clv.BetaGeoFitter().fit(summary)")
    model._check_fitted()
    unit = _time_unit(time_unit)
    end = check_timestamp(as_of, "as_of")
    cal = check_timestamp(calibration_end, "calibration_end", allow_none=True)
    _check_scalar_option(merge_same_day, "merge_same_day", [True, False])
    _check_column_args(customer_id_col=customer_id_col, date_col=date_col)
    if cal is not None and cal >= end:
        raise ParameterError(f"calibration_end ({cal.date()}) must be before as_of ({end.date()})",
                             fix="choose a calibration end inside the observation period")
    check_frame(transactions, "transactions", required=[customer_id_col, date_col], no_nan=[customer_id_col])
    when = _tz_naive(check_dates(transactions, date_col, "transactions"))
    _check_not_after(when, end, cal, date_col)
    day = when.dt.floor("D")
    df = pd.DataFrame({"cid": transactions[customer_id_col].to_numpy(), "day": day.to_numpy()})
    if merge_same_day:
        df = df.drop_duplicates()
    first = df.groupby("cid")["day"].transform("min")
    if cal is not None:
        keep = first <= cal
        if not keep.any():
            raise DataValidationError(f"no customer bought on or before calibration_end ({cal.date()})",
                                      fix="choose a later calibration_end")
        df, first = df[keep], first[keep]
    start = first.min()
    n_periods = int(np.floor((end - start).days / unit))
    if n_periods < 1:
        raise DataValidationError("the observation period is shorter than one time unit",
                                  fix="use a later as_of or a smaller time_unit")
    if n_periods > 20_000:
        raise ParameterError(f"the log spans {n_periods:,} periods of time_unit={time_unit!r}",
                             fix="use a coarser time_unit ('W' or 'M')")
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
    cal = check_timestamp(calibration_end, "calibration_end", allow_none=True)
    if ax is None:
        _, ax = plots.subplots()
    ax.plot(table.index, table["actual"], label="actual")
    ax.plot(table.index, table["expected"], ls="--", label="BG/NBD expected")
    if cal is not None:
        cut = table.index[table["period_end"] <= cal]
        if len(cut):
            ax.axvline(cut[-1], color="0.5", ls=":", lw=1)
            ax.text(cut[-1], ax.get_ylim()[1] * 0.95, " holdout ->", fontsize=8, color="0.4", va="top")
    days = table["period_end"].diff().dt.days.median() if len(table) > 1 else np.nan
    unit = {1: "days", 7: "weeks"}.get(int(days), "months" if 28 <= days <= 31 else "periods") \
        if np.isfinite(days) else "periods"
    return plots.finish(ax, title="Tracking cumulative repeat purchases",
                        xlabel=f"{unit} since the cohort's first purchase",
                        ylabel="cumulative repeat purchases", synthetic=synthetic)


# ------------------------------------------------------------------------------------
# simulation
# ------------------------------------------------------------------------------------
def simulate_bgnbd(n: int, T, r: float, alpha: float, a: float, b: float, seed) -> pd.DataFrame:
    """Draw a frequency / recency / T summary of ``n`` customers from BG/NBD.

    ``T`` is a scalar or an array of ``n`` observation lengths. The extra column ``alive``
    says whether the customer is still active at ``T`` (the truth P(alive) estimates).

    >>> simulate_bgnbd(3, T=10, r=1, alpha=2, a=1, b=3, seed=0).columns.tolist()
    ['frequency', 'recency', 'T', 'alive']
    """
    n = check_count(n, "n", 1, 10_000_000)
    for name, v in (("r", r), ("alpha", alpha), ("a", a), ("b", b)):
        check_scalar(v, name, low=0, low_inclusive=False)
    rng = check_random_state(seed)
    T = _non_negative_array(T, "T")
    if T.ndim > 1 or (T.ndim == 1 and len(T) not in (1, n)):
        raise ParameterError(f"T must be one number or one value per customer ({n}), got shape {T.shape}",
                             fix="pass T as a number or an array of length n")
    T = np.broadcast_to(T, (n,)).astype(float)
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
    """Mean spend of ``frequency`` transactions per customer under Gamma-Gamma (0 if frequency is 0).

    >>> simulate_spend([0, 3], p=5, q=4, gamma=120, seed=1)[0]
    np.float64(0.0)
    """
    for name, v in (("p", p), ("q", q), ("gamma", gamma)):
        check_scalar(v, name, low=0, low_inclusive=False)
    rng = check_random_state(seed)
    x = np.atleast_1d(_non_negative_array(frequency, "frequency"))
    if x.ndim != 1:
        raise ParameterError(f"frequency must be 1-D, got shape {x.shape}", fix="pass one count per customer")
    nu = rng.gamma(q, 1 / gamma, len(x))
    # the sum of x Gamma(p, nu) draws is Gamma(p x, nu)
    total = rng.gamma(np.maximum(p * x, 1e-300), 1 / nu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.where(x > 0, total / np.maximum(x, 1), 0.0)


# BG/BB and Pareto/NBD live in their own private modules (one model family each) and are
# part of this module's public API; imported last because they reuse nothing from above.
from ._bgbb import BetaGeoBetaBinomFitter, simulate_bgbb  # noqa: E402
from ._pareto_nbd import ParetoNBDFitter, simulate_pareto_nbd  # noqa: E402
