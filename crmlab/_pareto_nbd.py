"""Pareto/NBD: buy-till-you-die in continuous time (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys at rate ``λ ~ Gamma(r, alpha)``; her lifetime is exponential with
rate ``μ ~ Gamma(s, beta)`` (rates per time unit, alpha and beta are rate parameters of the
gamma mixing distributions). Unlike BG/NBD, a customer can die at any moment, not only just
after a purchase. The sufficient statistics are BG/NBD's: ``frequency`` x, ``recency`` t_x
and ``T``.

The likelihood (Fader, Hardie & Lee 2005, "A note on implementing the Pareto/NBD model in
MATLAB", eq. 2) needs ``A_0``, a difference of two Gaussian hypergeometric functions that
must be evaluated in two forms (alpha >= beta and alpha < beta) and that ``scipy.special.hyp2f1``
returns as ``inf`` for frequent buyers (large ``r + s + x``, argument near 1). crmlab uses
the integral that ``A_0`` stands for instead,

    s·A_0 = s ∫_{t_x}^{T} (alpha + τ)^-(r+x) (beta + τ)^-(s+1) dτ,

computed in log space with composite Gauss-Legendre quadrature on a log-time grid whose
panels double in width from t_x (the integrand is log-convex and steepest there). The same
nodes give the analytic gradient. One code path covers alpha >= beta, alpha < beta and
alpha = beta; ``tests/test_btyd.py`` checks it against ``mpmath.hyp2f1`` at 50 digits.

>>> from crmlab.datasets import load_cdnow
>>> m = ParetoNBDFitter().fit(load_cdnow("summary"))
>>> m.params_.round(2).tolist(), round(m.log_likelihood_, 2)
([0.55, 10.58, 0.61, 11.67], -9594.97)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ._bgbb import _BTYDFitter, _history_arrays, _initial, _weighted_negll
from .errors import DataValidationError, ParameterError
from .validation import check_count, check_frame, check_random_state, check_scalar

__all__ = ["ParetoNBDFitter", "simulate_pareto_nbd"]

# Gauss-Legendre nodes on [0, 1] for one panel
_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)
_GL_X = (_GL_X + 1) / 2
_GL_W = _GL_W / 2
_MAX_PANELS = 48


def _log_a0(r, alpha, s, beta, x, t0, t1, grad: bool = True):
    """log ∫_{t0}^{t1} (alpha+τ)^-(r+x) (beta+τ)^-(s+1) dτ per row, and d log/d(r, alpha, s, beta).

    Rows with t1 == t0 get -inf (and a zero gradient). The variable is u = log((A+τ)/(A+t0)),
    A = max(alpha, beta); in u the log-integrand is convex with its steepest slope at u = 0,
    so panels [h(2^j - 1), h(2^(j+1) - 1)] with h = 1/|slope at 0| resolve it everywhere.
    """
    A = max(alpha, beta)
    m = r + x                       # exponent of (alpha + τ)
    a0, b0, c0 = alpha + t0, beta + t0, A + t0
    U = np.log1p((t1 - t0) / c0)     # u at t1
    slope = m * c0 / a0 + (s + 1) * c0 / b0 - 1.0   # |d log integrand / du| at u = 0 (>= r + x + s > 0)
    h = 1.0 / slope
    with np.errstate(divide="ignore"):
        n_pan = np.clip(np.ceil(np.log2(U / h + 1.0)), 1, _MAX_PANELS)
    J = int(n_pan.max()) if len(n_pan) else 1
    j = np.arange(J + 1)
    edges = np.minimum(h[:, None] * (2.0 ** j[None, :] - 1.0), U[:, None])
    edges[:, -1] = U  # the last panel ends at t1 even if it was capped
    width = np.diff(edges, axis=1)                                   # rows x J
    u = edges[:, :-1, None] + width[:, :, None] * _GL_X[None, None, :]  # rows x J x P
    e = np.expm1(u)
    # α+τ and β+τ written as sums of positive terms: exact even when β+τ is tiny next to α+τ
    la = np.log(a0[:, None, None] + c0[:, None, None] * e)
    lb = np.log(b0[:, None, None] + c0[:, None, None] * e)
    with np.errstate(divide="ignore"):
        logw = np.log(width)[:, :, None] + np.log(_GL_W)[None, None, :]
    # integrand in u: (α+τ)^-m (β+τ)^-(s+1) (A+τ), and A+τ = c0 e^u
    lf = -m[:, None, None] * la - (s + 1) * lb + np.log(c0)[:, None, None] + u + logw
    flat = lf.reshape(len(x), -1)
    out = special.logsumexp(flat, axis=1)
    out = np.where(U > 0, out, -np.inf)
    if not grad:
        return out, None
    with np.errstate(invalid="ignore"):
        wts = np.where(np.isfinite(out)[:, None], np.exp(flat - out[:, None]), 0.0)
    ea = np.exp(-la).reshape(len(x), -1)
    eb = np.exp(-lb).reshape(len(x), -1)
    g = np.column_stack([
        -(wts * la.reshape(len(x), -1)).sum(1),           # d/dr
        -m * (wts * ea).sum(1),                           # d/dalpha
        -(wts * lb.reshape(len(x), -1)).sum(1),           # d/ds
        -(s + 1) * (wts * eb).sum(1),                     # d/dbeta
    ])
    return out, g


def _pnbd_loglik(theta, x, tx, T, grad: bool = True):
    """Per-row Pareto/NBD log-likelihood (FHL 2005 MATLAB note, eq. 2) and its gradient.

    L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s + s A_0 ].
    """
    r, alpha, s, beta = theta
    la_T, lb_T = np.log(alpha + T), np.log(beta + T)
    log_e1 = -(r + x) * la_T - s * lb_T
    log_a0, g0 = _log_a0(r, alpha, s, beta, x, tx, T, grad)
    log_sa0 = np.log(s) + log_a0
    bracket = np.logaddexp(log_e1, log_sa0)
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    ll = head + bracket
    if not grad:
        return ll, None
    w1 = np.exp(log_e1 - bracket)   # P(alive | x, t_x, T)
    w2 = 1.0 - w1
    G = np.empty((len(x), 4))
    G[:, 0] = special.digamma(r + x) - special.digamma(r) + np.log(alpha) + w1 * (-la_T) + w2 * g0[:, 0]
    G[:, 1] = r / alpha + w1 * (-(r + x) / (alpha + T)) + w2 * g0[:, 1]
    G[:, 2] = np.log(beta) + w1 * (-lb_T) + w2 * (1.0 / s + g0[:, 2])
    G[:, 3] = s / beta + w1 * (-s / (beta + T)) + w2 * g0[:, 3]
    return ll, G


_pnbd_negll = _weighted_negll(_pnbd_loglik)


def _rfm_logic(x, tx, T, cols: dict, name: str) -> None:
    f, r, t = cols["frequency"], cols["recency"], cols["T"]
    bad = np.abs(x - np.round(x)) > 1e-9
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(f"{name}[{f!r}] must hold whole numbers of repeat purchases; row {i} has {x[i]!r}",
                                  fix="count repeat purchases (purchase days after the first one)")
    over = tx > T + 1e-9
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise DataValidationError(f"{name} has {int(over.sum())} row(s) with {r!r} > {t!r} (first: row {i}, "
                                  f"recency {tx[i]:g}, T {T[i]:g})",
                                  fix="recency is the time from the first to the last purchase and T the time from "
                                      "the first purchase to the end of the period; rebuild the summary with "
                                      "clv.summary_from_transactions")
    zero = (x == 0) & (tx > 0)
    if zero.any():
        raise DataValidationError(f"{name} has {int(zero.sum())} customer(s) with {f!r} == 0 but {r!r} > 0",
                                  fix="recency must be 0 for customers without repeat purchases")


def _rfm_arrays(frequency, recency, T):
    arrays = _history_arrays("{label} must be >= 0", frequency=frequency, recency=recency, T=T)
    x, tx, T = (np.array(v, dtype=float) for v in arrays)
    _rfm_logic(np.atleast_1d(x), np.atleast_1d(tx), np.atleast_1d(T),
               {"frequency": "frequency", "recency": "recency", "T": "T"}, "inputs")
    return x, tx, T


def _time(t, name: str = "t") -> np.ndarray:
    arr = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ParameterError(f"{name} must be finite and >= 0, got {t!r}", fix=f"pass {name} in model time units")
    return arr


class ParetoNBDFitter(_BTYDFitter):
    """Pareto/NBD model of repeat purchases in continuous time (Schmittlein, Morrison & Colombo 1987).

    While alive a customer buys at rate ``λ ~ Gamma(r, alpha)``; she dies after an exponential
    lifetime with rate ``μ ~ Gamma(s, beta)``. ``fit`` maximises the likelihood of
    (frequency, recency, T), compressed to distinct rows, with analytic gradients; settings as
    :class:`crmlab.clv.BetaGeoFitter` plus ``se_method`` (``"hessian"`` or ``"bootstrap"``).

    >>> sim = simulate_pareto_nbd(2000, T=39, r=0.55, alpha=10.6, s=0.61, beta=11.7, seed=1)
    >>> m = ParetoNBDFitter().fit(sim)
    >>> list(m.summary.columns)
    ['estimate', 'std_error', 'ci_lower', 'ci_upper']
    >>> pub = ParetoNBDFitter.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> round(float(pub.expected_number_of_purchases_up_to_time(39)), 3)
    1.213
    """

    _params = ("r", "alpha", "s", "beta")
    _what = "Pareto/NBD"
    _data_hint = ("more customers or a longer calibration period, so that both repeat purchases and "
                  "long silences (drop-outs) are observed")

    def fit(self, summary: pd.DataFrame, frequency_col: str = "frequency", recency_col: str = "recency",
            T_col: str = "T", weights_col: str | None = None, customer_id_col: str | None = None,
            initial_params=None) -> ParetoNBDFitter:
        """Fit on a per-customer summary (see ``clv.summary_from_transactions``); returns self."""
        data, wc = self._summary_patterns(
            summary, {"frequency": frequency_col, "recency": recency_col, "T": T_col}, _rfm_logic,
            weights_col, customer_id_col, event="purchase",
            unobserved_fix="set the calibration end after the first purchases",
            no_repeat_fix="use a longer calibration period or more customers")
        if initial_params is None:
            rate = max((wc @ data[0]) / max(wc @ data[2], 1e-12), 1e-6)
            # start where purchase and drop-out rates have the observed scale
            x0 = np.array([1.0, 1.0 / rate, 1.0, float(np.average(data[2], weights=wc)) + 1.0])
        else:
            x0 = _initial(initial_params, 4, "r, alpha, s, beta", "[0.5, 10, 0.5, 10]")
        self._fit_compressed(_pnbd_negll, data, wc, x0)
        return self

    # -- predictions -----------------------------------------------------------------------
    def conditional_probability_alive(self, frequency, recency, T):
        """P(alive at T | x, t_x, T) (FHL 2005 note; Schmittlein et al. 1987, eq. 11)."""
        r, alpha, s, beta = self._theta()
        x, tx, T = _rfm_arrays(frequency, recency, T)
        shape = x.shape
        x, tx, T = (np.atleast_1d(v).ravel() for v in (x, tx, T))
        log_e1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_a0, _ = _log_a0(r, alpha, s, beta, x, tx, T, grad=False)
        p = np.exp(log_e1 - np.logaddexp(log_e1, np.log(s) + log_a0))
        return p.reshape(shape)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T):
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (Schmittlein et al. 1987, eq. 22).

        = P(alive) · (r + x)(β + T) / ((α + T)(s − 1)) · [1 − ((β + T)/(β + T + t))^(s−1)],
        computed stably at s = 1 (where it becomes a logarithm).
        """
        r, alpha, s, beta = self._theta()
        t = _time(t)
        x, tx, T = _rfm_arrays(frequency, recency, T)
        alive = self.conditional_probability_alive(x, tx, T)
        lam = (r + x) / (alpha + T)            # posterior mean purchase rate given alive
        return alive * lam * _survival_integral(s, beta + T, t)

    def expected_number_of_purchases_up_to_time(self, t):
        """E[X(t)]: expected repeat purchases of a new customer in (0, t] (Schmittlein et al. 1987, eq. 17)."""
        r, alpha, s, beta = self._theta()
        t = _time(t)
        return r / alpha * _survival_integral(s, beta, t)

    def probability_of_purchases(self, t, n):
        """P(X(t) = n): probability that a new customer makes ``n`` repeat purchases in (0, t].

        P = NB(n; t)·(β/(β+t))^s + ∫_0^t NB(n; τ) s β^s (β+τ)^-(s+1) dτ, where NB(n; τ) is the
        negative binomial count of an alive customer over τ; the integral is done by Gauss-Legendre.
        """
        r, alpha, s, beta = self._theta()
        t = float(check_scalar(t, "t", low=0))
        n = int(check_count(n, "n", 0))
        if t == 0:
            return float(n == 0)
        # 16 panels x 12 nodes on [0, t]: the integrand is smooth (a bump times a power)
        edges = np.linspace(0.0, t, 17)
        tau = (edges[:-1, None] + np.diff(edges)[:, None] * _GL_X[None, :]).ravel()
        wt = (np.diff(edges)[:, None] * _GL_W[None, :]).ravel()
        log_nb = lambda z: (special.gammaln(r + n) - special.gammaln(r) - special.gammaln(n + 1)  # noqa: E731
                            + r * np.log(alpha / (alpha + z)) + special.xlogy(n, z / (alpha + z)))
        alive_all = np.exp(log_nb(t) + s * np.log(beta / (beta + t)))
        dying = np.exp(log_nb(tau) + np.log(s) + s * np.log(beta) - (s + 1) * np.log(beta + tau)) @ wt
        return float(alive_all + dying)

    def discounted_expected_residual_transactions(self, discount_rate: float, frequency, recency, T):
        """DERT: ∫_0^∞ e^(−δt) E[purchase rate at T + t | x, t_x, T] dt (Fader, Hardie & Lee 2005, JMR).

        ``discount_rate`` δ is the continuously compounded rate per time unit (an annual rate
        d on weekly data: δ = log(1 + d) / 52). Computed as P(alive)·(r+x)/(α+T)·(β+T)·
        U(1, 2−s; δ(β+T)), U the confluent hypergeometric function of the second kind; by
        Kummer's transformation this is FHL's α^r β^s δ^(s−1) Γ(r+x+1) U(s, s; δ(β+T)) /
        (Γ(r) (α+T)^(r+x+1) L). Multiply by a value per purchase for a residual value.
        """
        r, alpha, s, beta = self._theta()
        delta = float(check_scalar(discount_rate, "discount_rate", low=0, low_inclusive=False))
        x, tx, T = _rfm_arrays(frequency, recency, T)
        alive = self.conditional_probability_alive(x, tx, T)
        z = delta * (beta + T)
        # given alive, μ ~ Gamma(s, β+T): ∫_0^∞ e^{-δt} ((β+T)/(β+T+t))^s dt = (β+T) U(1, 2-s, δ(β+T))
        integral = (beta + T) * special.hyperu(1.0, 2.0 - s, z)
        return alive * (r + x) / (alpha + T) * integral

    # -- tables on frames ------------------------------------------------------------------
    def predict_purchases(self, summary: pd.DataFrame, t: float, frequency_col: str = "frequency",
                          recency_col: str = "recency", T_col: str = "T") -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units (a Series)."""
        x, tx, T = self._frame_arrays(summary, frequency_col, recency_col, T_col)
        check_scalar(t, "t", low=0)
        return pd.Series(self.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T),
                         index=summary.index, name=f"expected_purchases_{t:g}")

    def predict_probability_alive(self, summary: pd.DataFrame, frequency_col: str = "frequency",
                                  recency_col: str = "recency", T_col: str = "T") -> pd.Series:
        """P(alive) of each customer at the end of the observation period (a Series)."""
        x, tx, T = self._frame_arrays(summary, frequency_col, recency_col, T_col)
        return pd.Series(self.conditional_probability_alive(x, tx, T), index=summary.index, name="p_alive")

    def _frame_arrays(self, summary, frequency_col, recency_col, T_col):
        cols = {"frequency": frequency_col, "recency": recency_col, "T": T_col}
        need = list(cols.values())
        check_frame(summary, "summary", required=need, numeric=need, no_nan=need, non_negative=need)
        x, tx, T = (summary[c].to_numpy(dtype=float) for c in need)
        _rfm_logic(x, tx, T, cols, "summary")
        return x, tx, T


def _survival_integral(s: float, b, t):
    """∫_0^t (b/(b+τ))^s dτ = b/(s−1)·[1 − (b/(b+t))^(s−1)]: expected time alive in (0, t] when μ ~ Gamma(s, b)."""
    L = np.log1p(np.asarray(t, dtype=float) / np.asarray(b, dtype=float))
    # b/(s−1)·(1 − e^{−(s−1)L}) = b·L·exprel(−(s−1)L): exact at s = 1
    return np.asarray(b, dtype=float) * L * special.exprel(-(s - 1.0) * L)


# ------------------------------------------------------------------------------------
# simulation
# ------------------------------------------------------------------------------------
def simulate_pareto_nbd(n_customers: int, T, r: float, alpha: float, s: float, beta: float, seed,
                        t_holdout: float = 0.0) -> pd.DataFrame:
    """Draw a frequency / recency / T summary of ``n_customers`` from Pareto/NBD.

    ``T`` is a scalar or one observation length per customer. Extra columns: ``alive`` (still
    alive at T, what :meth:`ParetoNBDFitter.conditional_probability_alive` estimates),
    ``purchase_rate`` (λ), ``dropout_rate`` (μ) and, with ``t_holdout > 0``,
    ``frequency_holdout`` (purchases in (T, T + t_holdout]).

    >>> simulate_pareto_nbd(3, T=10, r=1, alpha=2, s=1, beta=3, seed=0).columns.tolist()
    ['frequency', 'recency', 'T', 'alive', 'purchase_rate', 'dropout_rate']
    """
    N = check_count(n_customers, "n_customers", 1, 10_000_000)
    for label, v in (("r", r), ("alpha", alpha), ("s", s), ("beta", beta)):
        check_scalar(v, label, low=0, low_inclusive=False)
    check_scalar(t_holdout, "t_holdout", low=0)
    T = np.broadcast_to(_time(T, "T"), (N,)).astype(float)
    rng = check_random_state(seed)
    lam = rng.gamma(r, 1.0 / alpha, N)
    mu = rng.gamma(s, 1.0 / beta, N)
    life = rng.exponential(1.0 / np.maximum(mu, 1e-300))
    active = np.minimum(life, T)
    x = rng.poisson(lam * active)
    # the last of x uniform purchase times on (0, active]: active · U^(1/x)
    tx = np.where(x > 0, active * rng.random(N) ** (1.0 / np.maximum(x, 1)), 0.0)
    out = pd.DataFrame({"frequency": x.astype("int64"), "recency": tx, "T": T, "alive": life > T,
                        "purchase_rate": lam, "dropout_rate": mu})
    if t_holdout > 0:
        more = np.clip(np.minimum(life, T + t_holdout) - T, 0.0, None)
        out["frequency_holdout"] = rng.poisson(lam * more).astype("int64")
    return out

