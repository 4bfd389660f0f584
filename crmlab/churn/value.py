"""Remaining lifetime and survival-based customer lifetime value."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..errors import DataValidationError, ParameterError
from ..validation import check_count, check_frame, check_scalar
from .cox import ChurnCox, _check_grid, _conditional_curves, _per_row

__all__ = ["expected_remaining_lifetime", "discounted_survival_value", "survival_clv"]

def _check_model_inputs(model, X, tenure):
    if not isinstance(model, ChurnCox):
        raise ParameterError(f"model must be a fitted ChurnCox, got {type(model).__name__}",
                             fix="fit one: ChurnCox().fit(frame, covariates)")
    model._check_fitted()
    cov = model.covariates_
    check_frame(X, "X", required=cov, numeric=cov, no_nan=cov)
    return _per_row(tenure, len(X), "tenure")


def _numbers(x, name) -> np.ndarray:
    try:
        out = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must hold numbers, got {type(x).__name__}",
                             fix=f"pass {name} as numbers (convert text with pd.to_numeric first)") from None
    if out.size == 0:
        raise ParameterError(f"{name} is empty", fix=f"pass {name}")
    if not np.all(np.isfinite(out)):
        raise DataValidationError(f"{name} has {int((~np.isfinite(out)).sum())} missing or infinite value(s)",
                                  fix=f"drop or fill them before calling; {name} must be finite")
    return out


def expected_remaining_lifetime(model: ChurnCox, X: pd.DataFrame, tenure, horizon: float = 120.0,
                                step: float = 0.25) -> pd.Series:
    """Expected further months of membership within ``horizon``, given survival so far.

    E[min(T, a + h) - a | T > a, x] = integral over (a, a + h] of S(t | x) / S(a | x) dt: a
    restricted mean residual lifetime (剩余生命周期). Beyond the last observed tenure the
    baseline follows a fitted Weibull tail (:meth:`ChurnCox.weibull_baseline`), so long
    horizons rest on that extrapolation; covariates are held at their current values.
    """
    a = _check_model_inputs(model, X, tenure)
    _check_grid(horizon, step)
    grid = np.arange(0.0, horizon + step / 2, step)
    S = _conditional_curves(model, X, a, grid)
    area = ((S[:, 1:] + S[:, :-1]) / 2 * np.diff(grid)).sum(1)
    return pd.Series(area, index=X.index, name="expected_remaining_months")



def discounted_survival_value(survival, margin, discount_rate: float) -> np.ndarray:
    """Present value of a monthly margin paid while the customer survives.

    ``survival[..., k-1]`` = P(still a member at the end of month k | alive now), k = 1..H
    (a 1-D curve or one row per customer); value = sum_k margin * S_k / (1 + d)^k with
    ``discount_rate`` d per month. This is the contractual CLV formula (合同型客户生命周期价值)
    with survival-based retention; the keyword names ``margin`` and ``discount_rate`` match
    ``crmlab.clv``. Timing convention: the margin of month k is earned at its end, if the
    customer is still a member. ``crmlab.clv.ShiftedBetaGeometricFitter.customer_lifetime_value``
    also counts the payment of the current period (k = 0, undiscounted), so with the same
    survival curve it equals ``margin + discounted_survival_value(...)`` (tested).

    >>> float(discounted_survival_value([0.9, 0.81], margin=10.0, discount_rate=0.0))
    17.1
    """
    S = _numbers(survival, "survival")
    if S.ndim not in (1, 2) or S.shape[-1] == 0:
        raise ParameterError("survival must be a 1-D curve or a 2-D array (customers x months)",
                             fix="pass S(1), S(2), ... for each customer")
    if S.shape[-1] > 12_000:
        raise ParameterError(f"survival has {S.shape[-1]:,} months", fix="pass at most 12,000 months (1,000 years)")
    if np.any((S < 0) | (S > 1)):
        raise DataValidationError("survival probabilities must lie in [0, 1]",
                                  fix="pass survival probabilities, not hazards or counts")
    if np.any(np.diff(S, axis=-1) > 1e-12):
        raise DataValidationError("survival must not increase with time",
                                  fix="pass a survival curve S(1) >= S(2) >= ...")
    d = float(check_scalar(discount_rate, "discount_rate", numbers.Real, 0, 1))
    m = _numbers(margin, "margin")
    if m.ndim > 1 or (S.ndim == 2 and m.ndim == 1 and len(m) != S.shape[0]):
        raise ParameterError(f"margin has shape {m.shape} for {S.shape[0] if S.ndim == 2 else 1} customer(s)",
                             fix="pass one margin per customer (row of survival) or a scalar")
    disc = (1 + d) ** -np.arange(1, S.shape[-1] + 1)
    pv = S @ disc
    return pv * m


def survival_clv(model: ChurnCox, X: pd.DataFrame, tenure, *, margin, discount_rate: float,
                 horizon: int = 60) -> pd.DataFrame:
    """Survival-based contractual CLV of active members, conditional on their tenure.

    CLV_i = sum_{k=1..horizon} margin_i * S(a_i + k | x_i) / S(a_i | x_i) / (1 + d)^k, with the
    conditional survival from a fitted :class:`ChurnCox` (covariates held at current values;
    Weibull tail beyond the observed tenures). ``margin`` (scalar or one per row, e.g.
    ``monthly_fee * margin_rate``) and ``discount_rate`` (per month) follow ``crmlab.clv``.
    Returns ``expected_months`` (within the horizon) and ``clv`` per row.
    """
    a = _check_model_inputs(model, X, tenure)
    check_count(horizon, "horizon", 1, 1200)
    m = _numbers(margin, "margin")
    if m.size not in (1, len(X)) or m.ndim > 1:
        raise ParameterError(f"margin has {m.size} values for {len(X)} rows of X",
                             fix="pass one monthly margin per row of X, or a single value for all")
    m = np.broadcast_to(m.ravel(), (len(X),))
    S = _conditional_curves(model, X, a, np.arange(1, horizon + 1, dtype=float))
    clv = discounted_survival_value(S, m, discount_rate)
    return pd.DataFrame({"tenure": a, "expected_months": S.sum(1), "clv": clv}, index=X.index)
