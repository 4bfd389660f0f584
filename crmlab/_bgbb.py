"""BG/BB: buy-till-you-die in discrete time (Fader, Hardie & Shang 2010), and the shared plumbing
of crmlab's BTYD fitters (optimiser, Hessian or bootstrap standard errors, ``from_params``).

The beta-geometric/beta-Bernoulli model is the discrete-time, non-contractual member of the
family: a customer has a fixed number of *transaction opportunities* (a yearly appeal, an
annual event, a weekly draw). While alive she transacts at each opportunity with probability
``p ~ Beta(alpha, beta)``; at the start of every opportunity she dies for good with probability
``theta ~ Beta(gamma, delta)``. The sufficient statistics of a customer are ``(x, t_x, n)``:
transactions after the first one (``frequency``), the opportunity of the last of them
(``recency``, 0 if none) and the number of opportunities observed (``n_periods``).

:mod:`crmlab.clv` re-exports :class:`BetaGeoBetaBinomFitter` and :func:`simulate_bgbb`; the
donation data load with :func:`crmlab.datasets.load_donations`.

>>> from crmlab.datasets import load_donations
>>> d = load_donations()
>>> m = BetaGeoBetaBinomFitter().fit(d, weights_col="weights")
>>> m.params_.round(3).tolist()
[1.204, 0.75, 0.657, 2.783]
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize, special

from ._threads import single_thread as _single_thread
from .base import Fitter, normal_quantile, summary_frame
from .errors import ConvergenceError, DataValidationError, ParameterError
from .validation import (
    check_ci_level,
    check_count,
    check_frame,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = ["BetaGeoBetaBinomFitter", "simulate_bgbb"]

_LOG_BOUND = 12.0  # |log(parameter)| beyond this (x 1.6e5) = the parameter ran off to a boundary
_MAX_BOOT = 10_000


# ------------------------------------------------------------------------------------
# shared plumbing of the BTYD fitters (also used by crmlab._pareto_nbd and crmlab.clv)
# ------------------------------------------------------------------------------------
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


def _minimise_log_params(negll, x0: np.ndarray, n_obs: float, *, penalizer_coef: float, names, what: str,
                         data_hint: str, maxiter: int, ftol: float):
    """Minimise the mean negative log-likelihood over log-parameters (L-BFGS-B).

    ``negll(theta)`` returns the total negative log-likelihood and its gradient at natural-scale
    ``theta``; ``penalizer_coef`` adds ``c * sum(log(θ)²)``. Returns the natural-scale estimates,
    scipy's result and the fix later errors should suggest; raises :class:`ConvergenceError`
    (naming ``what`` and the parameter ``names``) when the fit fails or runs off to a boundary.
    """
    pen = float(penalizer_coef)

    def obj(z):
        value, grad = negll(np.exp(z))
        # the penalty pulls log-parameters towards 0 (parameters towards 1)
        return value / n_obs + pen * np.sum(z ** 2), grad * np.exp(z) / n_obs + 2 * pen * z

    with np.errstate(all="ignore"), _single_thread():
        res = optimize.minimize(obj, np.log(x0), jac=True, method="L-BFGS-B",
                                bounds=[(-2 * _LOG_BOUND, 2 * _LOG_BOUND)] * len(x0),
                                options={"maxiter": maxiter, "ftol": ftol, "gtol": 1e-9})
    fix = ("add a small penalty, e.g. penalizer_coef=0.001 (it pulls the parameters towards 1), "
           f"or fit on more data: {data_hint}")
    if not np.all(np.isfinite(res.x)) or not np.isfinite(res.fun):
        raise ConvergenceError(f"the {what} fit produced non-finite values", fix=fix)
    runaway = [n for n, z in zip(names, res.x, strict=True) if abs(z) > _LOG_BOUND]
    if runaway:
        vals = ", ".join(f"{n}={np.exp(z):.3g}" for n, z in zip(names, res.x, strict=True))
        raise ConvergenceError(f"the {what} fit did not converge: parameter(s) {runaway} ran off to "
                               f"the boundary ({vals}); the data cannot identify them", fix=fix)
    gnorm = float(np.max(np.abs(res.jac))) if res.jac is not None else 0.0
    if not res.success and gnorm > 1e-4:
        raise ConvergenceError(f"the {what} fit did not converge ({res.message}; max |gradient| "
                               f"{gnorm:.2g})", fix=fix)
    return np.exp(res.x), res, fix


def _hessian_covariance(grad, theta: np.ndarray, what: str, fix: str, forward: bool = False) -> np.ndarray:
    """Inverse numeric Hessian of the penalised negative log-likelihood whose gradient is ``grad``.

    ``forward`` uses forward differences (one gradient per parameter, for big data). Raises
    :class:`ConvergenceError` when the information matrix is singular.
    """
    with _single_thread():
        H = _numeric_hessian(grad, theta, grad(theta) if forward else None)
    try:
        with np.errstate(all="ignore"):
            cov = np.linalg.inv(H)
        ok = np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0)
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        raise ConvergenceError(f"the {what} fit converged to a point where the information matrix "
                               "is singular, so no standard errors exist", fix=fix)
    return cov


def _log_wald_interval(est: np.ndarray, se: np.ndarray, ci_level: float):
    """Wald interval on the log scale: keeps positive parameters positive (an unidentified one gets inf)."""
    z = normal_quantile(ci_level)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        k = np.exp(z * se / est)
    return est / k, est * k


def _whole(values: np.ndarray, col: str, name: str, what: str) -> None:
    bad = np.abs(values - np.round(values)) > 1e-9
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(f"{name}[{col!r}] must hold whole numbers ({what}); row {i} has {values[i]!r}",
                                  fix=f"count {what} as integers, e.g. df[{col!r}] = df[{col!r}].round().astype(int)")


def _check_ids(summary: pd.DataFrame, customer_id_col: str | None, name: str) -> None:
    """One row per customer: a duplicated id would count a customer twice."""
    if customer_id_col is not None:
        check_frame(summary, name, required=[customer_id_col], no_nan=[customer_id_col])
        ids = summary[customer_id_col]
        label = repr(customer_id_col)
    elif summary.index.name is not None:  # a named index is a customer key (summary_from_transactions)
        ids = summary.index.to_series()
        label = f"index {summary.index.name!r}"
    else:
        return
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = ids[dup].iloc[0]
        raise DataValidationError(
            f"{name} has {int(dup.sum())} rows with a duplicated customer id in {label} (first: {first!r})",
            fix="keep one row per customer (summary_from_transactions builds it that way); if the rows are "
                "compressed patterns rather than customers, drop the id and pass their counts as weights_col")


def _check_weights(summary: pd.DataFrame, weights_col: str | None, name: str) -> np.ndarray:
    if weights_col is None:
        return np.ones(len(summary))
    w = summary[weights_col].to_numpy(dtype=float)
    if not (w > 0).any():
        raise DataValidationError(f"{name}[{weights_col!r}] is zero for every row, so there is nothing to fit",
                                  fix="weights are the number of customers with each pattern; pass positive counts")
    return w


def _initial(values, k: int, names: str, example: str) -> np.ndarray:
    """``initial_params``: ``k`` finite positive numbers (``names`` and ``example`` word the error)."""
    try:
        x0 = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        x0 = np.array([])
    if x0.shape != (k,) or np.any(~np.isfinite(x0)) or np.any(x0 <= 0):
        raise ParameterError(f"initial_params must be {k} positive numbers ({names})",
                             fix=f"pass e.g. initial_params={example}")
    return x0


def _history_arrays(negative_fix: str, **values) -> list[np.ndarray]:
    """A customer history given as numbers or 1-D arrays (prediction calls), broadcast together.

    Each value must be finite and >= 0; ``negative_fix`` words the fix for negative values,
    with ``{label}`` standing for the argument's name.
    """
    out = []
    for label, v in values.items():
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise DataValidationError(f"{label} must hold numbers, got {type(v).__name__} with non-numeric values",
                                      fix=f"convert {label} with pd.to_numeric(..., errors='coerce') and drop "
                                          "the customers it cannot read") from None
        if a.ndim > 1:
            raise ParameterError(f"{label} must be a number or a 1-D array", fix=f"pass {label} as a list or Series")
        if np.any(~np.isfinite(a)):
            raise DataValidationError(f"{label} has missing or infinite values", fix="drop those customers first")
        if np.any(a < 0):
            raise DataValidationError(f"{label} has negative values", fix=negative_fix.format(label=label))
        out.append(a)
    try:
        return np.broadcast_arrays(*out)
    except ValueError:
        sizes = ", ".join(f"{label} {a.size}" for label, a in zip(values, out, strict=True))
        raise ParameterError(f"the history arrays have different lengths ({sizes})",
                             fix="pass one value per customer in each, or a single number for all") from None


class _BTYDFitter(Fitter):
    """Shared plumbing: log-parameter optimisation, Hessian/bootstrap errors, summary, from_params."""

    _params: tuple[str, ...] = ()
    _what = "model"
    _data_hint = "more customers"
    _unit = "customers"

    def __init__(self, penalizer_coef: float = 0.0, ci_level: float = 0.95, se_method: str = "hessian",
                 n_boot: int = 200, seed=0):
        check_scalar(penalizer_coef, "penalizer_coef", low=0)
        check_ci_level(ci_level)
        check_option(se_method, "se_method", ["hessian", "bootstrap"])
        check_count(n_boot, "n_boot", 2, _MAX_BOOT)
        check_random_state(seed)
        self.penalizer_coef = penalizer_coef
        self.ci_level = ci_level
        self.se_method = se_method
        self.n_boot = n_boot
        self.seed = seed

    # -- building from published parameters ---------------------------------------------
    @classmethod
    def from_params(cls, *args, ci_level: float = 0.95, **params):
        """A model with given (e.g. published) parameters, ready to predict without fitting.

        Pass the parameters by name or in the model's order; ``summary`` then shows them with
        no standard errors (nothing was estimated).
        """
        names = list(cls._params)
        if args:
            if len(args) != len(names) or params:
                raise ParameterError(f"{cls.__name__}.from_params takes {len(names)} parameters {names}",
                                     fix=f"pass them by name, e.g. {cls.__name__}.from_params("
                                         + ", ".join(f"{n}=..." for n in names) + ")")
            params = dict(zip(names, args, strict=True))
        missing = [n for n in names if n not in params]
        extra = [n for n in params if n not in names]
        if missing or extra:
            raise ParameterError(f"{cls.__name__}.from_params needs exactly {names}; missing {missing}, "
                                 f"unknown {extra}", fix="pass each model parameter once, by its published name")
        values = []
        for n in names:
            check_scalar(params[n], n, low=0, low_inclusive=False)
            values.append(float(params[n]))
        model = cls(ci_level=ci_level)
        model.params_ = pd.Series(values, index=names, name="estimate")
        model.standard_errors_ = pd.Series(np.nan, index=names, name="std_error")
        model.variance_matrix_ = pd.DataFrame(np.nan, index=names, columns=names)
        model.from_params_ = True
        return model

    # -- fitting ---------------------------------------------------------------------------
    def _optimise(self, negll, x0: np.ndarray, n_obs: float) -> np.ndarray:
        """Minimise the mean negative log-likelihood over log-parameters; returns natural params."""
        theta, _, self._fix = _minimise_log_params(
            negll, x0, n_obs, penalizer_coef=self.penalizer_coef, names=self._params, what=self._what,
            data_hint=self._data_hint, maxiter=3000, ftol=1e-14)
        return theta

    def _summary_patterns(self, summary: pd.DataFrame, cols: dict, check_logic, weights_col, customer_id_col, *,
                          event: str, unobserved_fix: str, no_repeat_fix: str):
        """Check a one-row-per-customer summary and compress it to distinct rows with summed weights.

        ``cols`` maps frequency, recency and the observation length (in that order) to their
        columns and ``check_logic`` checks how they fit together; ``event`` ("purchase",
        "transaction") and the two fixes word the errors for data that identify nothing.
        Returns the distinct rows and their weights, as :meth:`_fit_compressed` takes them.
        """
        need = list(cols.values()) + ([weights_col] if weights_col else [])
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
        _check_ids(summary, customer_id_col, "summary")
        x, tx, n = (summary[c].to_numpy(dtype=float) for c in cols.values())
        check_logic(x, tx, n, cols, "summary")
        w = _check_weights(summary, weights_col, "summary")
        pos = w > 0
        if not np.any(n[pos] > 0):
            raise DataValidationError(f"every customer has {list(cols.values())[-1]!r} == 0: nobody was observed "
                                      f"after the first {event}", fix=unobserved_fix)
        if not np.any((x > 0) & pos):
            params = ", ".join(self._params[:-1]) + f" and {self._params[-1]}"
            raise DataValidationError(f"no customer made a repeat {event}, so {params} cannot be estimated",
                                      fix=no_repeat_fix)
        return _compress(x[pos], tx[pos], n[pos], w=w[pos])

    def _fit_compressed(self, make_negll, data: tuple, w: np.ndarray, x0: np.ndarray):
        """Fit on compressed rows ``data`` with counts ``w``; set every learned attribute."""
        names = list(self._params)
        negll = make_negll(*data, w)
        theta = self._optimise(negll, x0, w.sum())
        nll, _ = negll(theta)
        self.params_ = pd.Series(theta, index=names, name="estimate")
        self.log_likelihood_ = float(-nll)
        self.aic_ = 2 * len(theta) - 2 * self.log_likelihood_
        total = float(w.sum())
        self.n_customers_ = total
        self.n_obs_ = int(round(total)) if abs(total - round(total)) < 1e-9 else total
        if self.se_method == "hessian":
            pen = float(self.penalizer_coef)

            def grad(th):  # gradient of the penalised total negative log-likelihood, natural scale
                return negll(th)[1] + total * pen * 2 * np.log(th) / th

            cov = _hessian_covariance(grad, theta, self._what, self._fix)
        else:
            cov = self._bootstrap(make_negll, data, w, theta)
        self.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, name="std_error")
        weak = [n for n, se, th in zip(names, self.standard_errors_, theta, strict=True) if se > 10 * th]
        if weak:
            # a finite estimate whose interval spans many orders of magnitude: say so, do not hide it
            warnings.warn(f"the {self._what} fit is weakly identified: the standard error of {weak} is more than "
                          f"10 times the estimate, so the interval(s) are unbounded. Fix: {self._fix}",
                          UserWarning, stacklevel=3)
        return self

    def _bootstrap(self, make_negll, data: tuple, w: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Resample customers (multinomial counts over the compressed rows) and refit from the MLE."""
        rng = check_random_state(self.seed)
        total = int(round(w.sum()))
        prob = w / w.sum()
        draws, failures = [], 0
        for _ in range(self.n_boot):
            wb = rng.multinomial(total, prob).astype(float)
            keep = wb > 0
            sub = tuple(a[keep] for a in data)
            try:
                draws.append(self._optimise(make_negll(*sub, wb[keep]), theta, wb.sum()))
            except ConvergenceError:
                failures += 1
        self.bootstrap_failures_ = failures
        if len(draws) < max(2, self.n_boot // 2):
            raise ConvergenceError(f"{failures} of {self.n_boot} bootstrap refits of the {self._what} failed",
                                   fix="use se_method='hessian', or more data: " + self._data_hint)
        if failures:
            warnings.warn(f"{failures} of {self.n_boot} bootstrap refits failed and were left out", stacklevel=3)
        self.bootstrap_params_ = pd.DataFrame(np.array(draws), columns=list(self._params))
        return np.atleast_2d(np.cov(self.bootstrap_params_.to_numpy().T))

    # -- results ---------------------------------------------------------------------------
    def _intervals(self):
        est = self.params_.to_numpy()
        se = self.standard_errors_.to_numpy()
        if self.se_method == "bootstrap" and hasattr(self, "bootstrap_params_"):
            tail = 100 * (1 - self.ci_level) / 2
            lo, hi = np.percentile(self.bootstrap_params_.to_numpy(), [tail, 100 - tail], axis=0)
            return lo, hi
        return _log_wald_interval(est, se, self.ci_level)

    def _summary(self) -> pd.DataFrame:
        lo, hi = self._intervals()
        return summary_frame(self.params_.to_numpy(), self.standard_errors_.to_numpy(), lo, hi,
                             index=list(self._params), ci_level=self.ci_level)

    def _repr_fitted(self) -> str:
        pairs = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        if getattr(self, "from_params_", False):
            return f"built from given parameters: {pairs}"
        n = self.n_customers_
        return f"fitted on {n:,.0f} {self._unit}: {pairs}"

    def _theta(self) -> np.ndarray:
        self._check_fitted()
        return self.params_.to_numpy()


# ------------------------------------------------------------------------------------
# BG/BB
# ------------------------------------------------------------------------------------
def _bgbb_arrays(frequency, recency, n_periods, name: str = "inputs"):
    """Validate (x, t_x, n) given as arrays (prediction calls); returns float arrays."""
    x, tx, n = _history_arrays("{label} counts opportunities: >= 0", frequency=frequency, recency=recency,
                               n_periods=n_periods)
    _check_bgbb_logic(x, tx, n, {"frequency": "frequency", "recency": "recency", "n_periods": "n_periods"}, name)
    return x.astype(float), tx.astype(float), n.astype(float)


def _check_bgbb_logic(x, tx, n, cols: dict, name: str) -> None:
    f, r, p = cols["frequency"], cols["recency"], cols["n_periods"]
    for values, col, what in ((x, f, "repeat transactions"), (tx, r, "the opportunity of the last transaction"),
                              (n, p, "transaction opportunities")):
        _whole(np.atleast_1d(values), col, name, what)
    rules = [
        (x > n, f"{f!r} > {p!r}", "a customer cannot transact more often than she had opportunities; "
                                  f"check that {p!r} counts the opportunities after the first transaction"),
        (tx > n, f"{r!r} > {p!r}", f"{r!r} is the opportunity (1..n) of the last repeat transaction, "
                                   f"so it cannot exceed {p!r}"),
        ((x > 0) & (tx == 0), f"{f!r} > 0 but {r!r} == 0", f"{r!r} is the opportunity of the last repeat "
                                                           "transaction (1..n) for customers with one"),
        (x > tx, f"{f!r} > {r!r}", f"x transactions need at least x opportunities, so {r!r} >= {f!r}; "
                                   f"{r!r} must be the index of the last transaction, not the time since it"),
        ((x == 0) & (tx > 0), f"{f!r} == 0 but {r!r} > 0", f"{r!r} must be 0 for customers without repeat "
                                                           "transactions"),
    ]
    for mask, what, fix in rules:
        mask = np.atleast_1d(mask)
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            xi, ti, ni = (float(np.atleast_1d(v)[i]) for v in (x, tx, n))
            raise DataValidationError(f"{name} has {int(mask.sum())} row(s) with {what} (first: row {i}, "
                                      f"x={xi:g}, t_x={ti:g}, n={ni:g})", fix=fix)


def _bgbb_loglik(theta, x, tx, n, grad: bool = True):
    """Per-row log-likelihood of BG/BB (FHS 2010, eq. 5) and its gradient (rows x 4).

    L = B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d)
        + sum_{i=0}^{n-t_x-1} B(a+x, b+t_x-x+i)/B(a,b) B(g+1, d+t_x+i)/B(g,d),
    summed as log-sum-exp over its terms, so nothing underflows for long histories.
    """
    a, b, g, d = theta
    lb_ab, lb_gd = special.betaln(a, b), special.betaln(g, d)
    gap = (n - tx).astype(int)
    G = int(gap.max()) if len(gap) else 0
    i = np.arange(G)[None, :]
    valid = i < gap[:, None]
    xi, txi = x[:, None], tx[:, None] + i
    with np.errstate(invalid="ignore"):
        terms = np.empty((len(x), G + 1))
        terms[:, 0] = special.betaln(a + x, b + n - x) + special.betaln(g, d + n)
        terms[:, 1:] = np.where(valid, special.betaln(a + xi, b + txi - xi) + special.betaln(g + 1, d + txi), -np.inf)
    terms -= lb_ab + lb_gd
    ll = special.logsumexp(terms, axis=1)
    if not grad:
        return ll, None
    wgt = np.exp(terms - ll[:, None])  # share of each term in L
    psi = special.digamma
    d_ab = (psi(a) - psi(a + b), psi(b) - psi(a + b))
    d_gd = (psi(g) - psi(g + d), psi(d) - psi(g + d))
    G0 = np.empty((len(x), 4))
    with np.errstate(invalid="ignore"):
        ga = np.column_stack([psi(a + x) - psi(a + b + n),
                              np.where(valid, psi(a + xi) - psi(a + b + txi), 0.0)])
        gb = np.column_stack([psi(b + n - x) - psi(a + b + n),
                              np.where(valid, psi(b + txi - xi) - psi(a + b + txi), 0.0)])
        gg = np.column_stack([psi(g) - psi(g + d + n),
                              np.where(valid, psi(g + 1) - psi(g + d + 1 + txi), 0.0)])
        gd = np.column_stack([psi(d + n) - psi(g + d + n),
                              np.where(valid, psi(d + txi) - psi(g + d + 1 + txi), 0.0)])
    G0[:, 0] = (wgt * ga).sum(1) - d_ab[0]
    G0[:, 1] = (wgt * gb).sum(1) - d_ab[1]
    G0[:, 2] = (wgt * gg).sum(1) - d_gd[0]
    G0[:, 3] = (wgt * gd).sum(1) - d_gd[1]
    return ll, G0


def _weighted_negll(loglik):
    """``make_negll`` for :meth:`_BTYDFitter._fit_compressed` from a per-row log-likelihood and gradient."""

    def make(x, tx, n, w):
        def f(theta):
            ll, g = loglik(theta, x, tx, n)
            return -(w @ ll), -(w @ g)

        return f

    return make


_bgbb_negll = _weighted_negll(_bgbb_loglik)


def _compress(*columns, w):
    """Unique rows of the columns with summed weights (the likelihood only needs patterns)."""
    stacked = np.column_stack(columns)
    uniq, inv = np.unique(stacked, axis=0, return_inverse=True)
    counts = np.bincount(inv.ravel(), weights=w, minlength=len(uniq))
    keep = counts > 0
    return tuple(uniq[keep, j] for j in range(uniq.shape[1])), counts[keep]


class BetaGeoBetaBinomFitter(_BTYDFitter):
    """BG/BB model of repeat transactions at discrete opportunities (Fader, Hardie & Shang 2010).

    The discrete-time analogue of Pareto/NBD for non-contractual settings where transactions can
    only happen at fixed occasions (yearly donations, annual events, weekly draws). While
    alive a customer transacts at each opportunity with probability ``p ~ Beta(alpha, beta)``;
    at the start of each opportunity she dies with probability ``theta ~ Beta(gamma, delta)``.

    ``fit`` maximises the likelihood of each customer's ``(frequency, recency, n_periods)``:
    repeat transactions ``x``, the opportunity ``t_x`` of the last one (0 if none) and the
    number of opportunities ``n`` after the first transaction (lifetimes' convention). Rows may
    be customers or compressed patterns with their counts in ``weights_col``.

    Settings: ``penalizer_coef`` adds ``c * sum(log(θ)²)`` to the mean negative log-likelihood;
    ``se_method="hessian"`` (inverse Hessian, log-scale Wald intervals) or ``"bootstrap"``
    (``n_boot`` resamples of customers, percentile intervals, seeded by ``seed``).

    >>> sim = simulate_bgbb(3000, n_periods=6, alpha=1.2, beta=0.75, gamma=0.66, delta=2.8, seed=1)
    >>> m = BetaGeoBetaBinomFitter().fit(sim)
    >>> list(m.summary.columns)
    ['estimate', 'std_error', 'ci_lower', 'ci_upper']
    >>> pub = BetaGeoBetaBinomFitter.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> round(float(pub.conditional_probability_alive(6, 6, 6)), 2)  # FHS 2010, Table 6
    0.93
    """

    _params = ("alpha", "beta", "gamma", "delta")
    _what = "BG/BB"
    _data_hint = ("more customers or more transaction opportunities, so that both repeat transactions and "
                  "long silences (drop-outs) are observed")

    def fit(self, summary: pd.DataFrame, frequency_col: str = "frequency", recency_col: str = "recency",
            n_periods_col: str = "n_periods", weights_col: str | None = None, customer_id_col: str | None = None,
            initial_params=None) -> BetaGeoBetaBinomFitter:
        """Fit on one row per customer (or per pattern, with ``weights_col``); returns self."""
        data, wc = self._summary_patterns(
            summary, {"frequency": frequency_col, "recency": recency_col, "n_periods": n_periods_col},
            _check_bgbb_logic, weights_col, customer_id_col, event="transaction",
            unobserved_fix="observe the customers for at least one opportunity",
            no_repeat_fix="use more opportunities or more customers")
        if initial_params is None:
            x0 = np.array([1.0, 1.0, 1.0, 1.0])
        else:
            x0 = _initial(initial_params, 4, "alpha, beta, gamma, delta", "[1, 1, 1, 1]")
        self._fit_compressed(_bgbb_negll, data, wc, x0)
        return self

    # -- predictions -----------------------------------------------------------------------
    def _loglik_at(self, x, tx, n):
        return _bgbb_loglik(self._theta(), x.ravel(), tx.ravel(), n.ravel(), grad=False)[0].reshape(x.shape)

    def conditional_probability_alive(self, frequency, recency, n_periods, m_periods_in_future: int = 1):
        """P(alive at opportunity n + m | x, t_x, n) (FHS 2010, eq. 11 for m = 1).

        With the default ``m_periods_in_future=1`` it is the paper's P(alive in the next
        period), e.g. P(alive in 2002) for donors observed 1996-2001. (lifetimes puts ``m``
        first; here it is a keyword, as the kit's other P(alive) methods take x, t_x, T.)
        """
        a, b, g, d = self._theta()
        m = check_count(m_periods_in_future, "m_periods_in_future", 0)
        x, tx, n = _bgbb_arrays(frequency, recency, n_periods)
        num = (special.betaln(a + x, b + n - x) - special.betaln(a, b)
               + special.betaln(g, d + n + m) - special.betaln(g, d))
        return np.exp(num - self._loglik_at(x, tx, n))

    def conditional_expected_number_of_purchases_up_to_time(self, m_periods_in_future, frequency, recency,
                                                             n_periods):
        """E[X(n, n + n*) | x, t_x, n]: expected transactions in the next ``n*`` opportunities (eq. 13)."""
        a, b, g, d = self._theta()
        m = self._future(m_periods_in_future)
        x, tx, n = _bgbb_arrays(frequency, recency, n_periods)
        x, tx, n, m = np.broadcast_arrays(x, tx, n, m)
        log_p = special.betaln(a + x + 1, b + n - x) - special.betaln(a, b)
        return np.exp(log_p - self._loglik_at(x, tx, n)) * _alive_sum(g, d, n, m)

    def expected_number_of_purchases_up_to_time(self, n_periods):
        """E[X(n)]: expected repeat transactions of a new customer in her first ``n`` opportunities (eq. 8)."""
        a, b, g, d = self._theta()
        n = self._future(n_periods, "n_periods")
        return a / (a + b) * _alive_sum(g, d, np.zeros_like(n), n)

    def probability_of_purchases(self, n_periods, x):
        """P(X(n) = x): probability that a new customer makes ``x`` repeat transactions in ``n`` opportunities (eq. 7)."""
        a, b, g, d = self._theta()
        n = int(check_count(n_periods, "n_periods", 0))
        xs = np.atleast_1d(np.asarray(x, dtype=float))
        if np.any(xs < 0) or np.any(np.abs(xs - np.round(xs)) > 0):
            raise ParameterError("x must hold whole numbers >= 0", fix="pass transaction counts 0..n_periods")
        lb_ab, lb_gd = special.betaln(a, b), special.betaln(g, d)
        out = np.zeros(xs.shape)
        ok = xs <= n
        xv = xs[ok]
        first = (_log_binom(n, xv) + special.betaln(a + xv, b + n - xv) - lb_ab + special.betaln(g, d + n) - lb_gd)
        i = np.arange(n)[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            rest = np.where(i >= xv[:, None], _log_binom(i, xv[:, None]) + special.betaln(a + xv[:, None], b + i - xv[:, None])
                            - lb_ab + special.betaln(g + 1, d + i) - lb_gd, -np.inf)
        out[ok] = np.exp(np.logaddexp(first, special.logsumexp(rest, axis=1) if n > 0 else -np.inf))
        return out if np.ndim(x) else float(out[0])

    def discounted_expected_residual_transactions(self, discount_rate: float, frequency, recency, n_periods):
        """DERT: Σ_{k>=1} E[transaction at opportunity n + k | x, t_x, n] / (1 + d)^k (FHS 2010, eq. 14).

        ``discount_rate`` is per opportunity (per year for yearly appeals). The first future
        opportunity is discounted once, as in the paper; multiply by a value per transaction
        for a residual value.
        """
        a, b, g, d = self._theta()
        rate = float(check_scalar(discount_rate, "discount_rate", low=0, low_inclusive=False))
        x, tx, n = _bgbb_arrays(frequency, recency, n_periods)
        log_p = special.betaln(a + x + 1, b + n - x) - special.betaln(a, b)
        log_s = special.betaln(g, d + n + 1) - special.betaln(g, d)
        hyp = special.hyp2f1(1.0, d + n + 1, g + d + n + 1, 1.0 / (1.0 + rate))
        return np.exp(log_p + log_s - self._loglik_at(x, tx, n)) * hyp / (1.0 + rate)

    def conditional_expected_transaction_probability(self, frequency, recency, n_periods):
        """E[p | x, t_x, n]: posterior mean of the transaction probability (FHS 2010, appendix)."""
        a, b, g, d = self._theta()
        x, tx, n = _bgbb_arrays(frequency, recency, n_periods)
        # posterior over p mixes the same terms as the likelihood; E[p] = L(a+1) B(a+1,b)/B(a,b) / L(a)
        up = _bgbb_loglik(np.array([a + 1, b, g, d]), x.ravel(), tx.ravel(), n.ravel(), grad=False)[0]
        shift = special.betaln(a + 1, b) - special.betaln(a, b)
        return np.exp(up.reshape(x.shape) + shift - self._loglik_at(x, tx, n))

    # -- tables on frames ------------------------------------------------------------------
    def predict_purchases(self, summary: pd.DataFrame, m_periods_in_future: int, frequency_col: str = "frequency",
                          recency_col: str = "recency", n_periods_col: str = "n_periods") -> pd.Series:
        """Expected transactions of each row in the next ``m_periods_in_future`` opportunities (a Series)."""
        x, tx, n = self._frame_arrays(summary, frequency_col, recency_col, n_periods_col)
        return pd.Series(self.conditional_expected_number_of_purchases_up_to_time(m_periods_in_future, x, tx, n),
                         index=summary.index, name=f"expected_purchases_{m_periods_in_future}")

    def predict_probability_alive(self, summary: pd.DataFrame, frequency_col: str = "frequency",
                                  recency_col: str = "recency", n_periods_col: str = "n_periods") -> pd.Series:
        """P(alive at the next opportunity) of each row (a Series)."""
        x, tx, n = self._frame_arrays(summary, frequency_col, recency_col, n_periods_col)
        return pd.Series(self.conditional_probability_alive(x, tx, n), index=summary.index, name="p_alive")

    def expected_frequency_table(self, summary: pd.DataFrame, frequency_col: str = "frequency",
                                 n_periods_col: str = "n_periods", weights_col: str | None = None) -> pd.DataFrame:
        """Observed vs expected number of customers by repeat transactions (the paper's in-sample fit).

        Expected counts sum P(X(n_i) = x) over the customers, so cohorts with different
        ``n_periods`` are handled.
        """
        need = [frequency_col, n_periods_col] + ([weights_col] if weights_col else [])
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
        x = summary[frequency_col].to_numpy(dtype=float)
        n = summary[n_periods_col].to_numpy(dtype=float)
        _whole(n, n_periods_col, "summary", "transaction opportunities")
        w = _check_weights(summary, weights_col, "summary")
        top = int(n.max())
        grid = np.arange(top + 1)
        exp = np.zeros(top + 1)
        for nv in np.unique(n):
            exp += w[n == nv].sum() * np.where(grid <= nv, self.probability_of_purchases(int(nv), grid), 0.0)
        obs = np.array([w[x == k].sum() for k in grid])
        return pd.DataFrame({"observed": obs, "expected": exp}, index=pd.Index(grid, name="frequency"))

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _future(m, name: str = "m_periods_in_future") -> np.ndarray:
        arr = np.asarray(m, dtype=float)
        if np.any(~np.isfinite(arr)) or np.any(arr < 0) or np.any(np.abs(arr - np.round(arr)) > 1e-9):
            raise ParameterError(f"{name} must be a whole number of opportunities >= 0, got {m!r}",
                                 fix=f"pass e.g. {name}=5 for the next five opportunities")
        return arr

    def _frame_arrays(self, summary, frequency_col, recency_col, n_periods_col):
        cols = {"frequency": frequency_col, "recency": recency_col, "n_periods": n_periods_col}
        need = list(cols.values())
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
        x, tx, n = (summary[c].to_numpy(dtype=float) for c in need)
        _check_bgbb_logic(x, tx, n, cols, "summary")
        return x, tx, n


def _log_binom(n, k):
    return special.gammaln(np.asarray(n, float) + 1) - special.gammaln(np.asarray(k, float) + 1) \
        - special.gammaln(np.asarray(n, float) - k + 1)


def _alive_sum(g, d, n, m):
    """Σ_{k=1}^{m} B(γ, δ + n + k) / B(γ, δ) = Σ_k E[(1 − θ)^(n+k)], in closed form (FHS 2010, eqs. 8, 13):
    δ/(γ−1)·Γ(γ+δ)/Γ(1+δ)·[Γ(1+δ+n)/Γ(γ+δ+n) − Γ(1+δ+n+m)/Γ(γ+δ+n+m)], written so that it
    stays exact at γ = 1 (where the closed form is 0/0).
    """
    n = np.asarray(n, dtype=float)
    m = np.asarray(m, dtype=float)
    c = special.gammaln(g + d) - special.gammaln(d)
    u0 = special.gammaln(d + n + 1) - special.gammaln(g + d + n)          # log Γ(1+δ+n)/Γ(γ+δ+n)
    u1 = special.gammaln(d + n + m + 1) - special.gammaln(g + d + n + m)
    # (e^{u0} − e^{u1}) / (γ − 1) = e^{u0} · (1 − e^{u1−u0}) / (γ − 1); u1 − u0 → (1−γ)·log(...) as γ → 1
    diff = u1 - u0
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.abs(g - 1) > 1e-8, -np.expm1(diff) / (g - 1),
                         special.digamma(d + n + m + 1) - special.digamma(d + n + 1))
    # at γ = 1 the sum is Σ_k 1/(δ+n+k) = ψ(δ+n+m+1) − ψ(δ+n+1), the limit of the ratio
    return np.exp(c + u0) * ratio


# ------------------------------------------------------------------------------------
# simulation
# ------------------------------------------------------------------------------------
def simulate_bgbb(n_customers: int, n_periods, alpha: float, beta: float, gamma: float, delta: float, seed,
                  n_periods_holdout: int = 0) -> pd.DataFrame:
    """Draw ``frequency``, ``recency``, ``n_periods`` of customers from BG/BB (one row each).

    ``n_periods`` is a whole number or one per customer. Extra columns: ``alive`` (alive at
    the next opportunity n + 1, what :meth:`BetaGeoBetaBinomFitter.conditional_probability_alive`
    estimates), ``p`` and ``theta`` (the latent probabilities) and, with ``n_periods_holdout``,
    ``frequency_holdout`` (transactions in the next opportunities).

    >>> simulate_bgbb(3, n_periods=6, alpha=1, beta=1, gamma=1, delta=3, seed=0).columns.tolist()
    ['frequency', 'recency', 'n_periods', 'alive', 'p', 'theta']
    """
    N = check_count(n_customers, "n_customers", 1, 10_000_000)
    for label, v in (("alpha", alpha), ("beta", beta), ("gamma", gamma), ("delta", delta)):
        check_scalar(v, label, low=0, low_inclusive=False)
    hold = check_count(n_periods_holdout, "n_periods_holdout", 0, 10_000)
    n = np.broadcast_to(np.asarray(n_periods), (N,))
    if np.any(n < 0) or np.any(np.abs(n - np.round(n)) > 0):
        raise ParameterError("n_periods must be whole numbers >= 0", fix="pass e.g. n_periods=6")
    n = n.astype(int)
    rng = check_random_state(seed)
    p = rng.beta(alpha, beta, N)
    theta = np.clip(rng.beta(gamma, delta, N), 1e-300, 1.0)
    death = rng.geometric(theta)  # dies at the start of this opportunity: alive at 1..death-1
    horizon = int(n.max()) + hold
    t = np.arange(1, horizon + 1)[None, :]
    buys = (rng.random((N, horizon)) < p[:, None]) & (t < death[:, None])
    cal = buys & (t <= n[:, None])
    x = cal.sum(axis=1)
    tx = np.where(x > 0, np.max(np.where(cal, t, 0), axis=1), 0)
    out = pd.DataFrame({"frequency": x.astype("int64"), "recency": tx.astype("int64"), "n_periods": n.astype("int64"),
                        "alive": death > n + 1, "p": p, "theta": theta})
    if hold:
        out["frequency_holdout"] = (buys & (t > n[:, None]) & (t <= n[:, None] + hold)).sum(axis=1).astype("int64")
    return out
