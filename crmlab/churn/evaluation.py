"""Evaluation of survival predictions: concordance, Brier score, time-dependent AUC, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataValidationError, ParameterError
from ..validation import check_array, check_count, check_same_length, require_columns
from ._common import _at_risk_counts, _binary_array

__all__ = ["concordance", "brier_score", "integrated_brier_score", "time_dependent_auc", "calibration_table", "plot_calibration"]

def _eval_inputs(durations, events, name="durations"):
    t = check_array(durations, name, non_negative=True)
    e = _binary_array(events, "events" if name == "durations" else name.replace("durations", "events"))
    check_same_length(**{name: t, "events": e})
    return t, e.astype(bool)


def _times(times) -> np.ndarray:
    out = check_array(times, "times", non_negative=True)
    if out.size > 10_000:
        raise ParameterError(f"times has {out.size:,} values", fix="evaluate at most 10,000 times")
    return out


def _scores(x, name) -> np.ndarray:
    """A 1-D or 2-D array of finite numbers."""
    try:
        out = np.asarray(x.to_numpy(dtype=float) if isinstance(x, (pd.DataFrame, pd.Series)) else x, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must hold numbers, got {type(x).__name__}",
                             fix=f"pass {name} as numbers (the model's predictions)") from None
    if not np.all(np.isfinite(out)):
        raise DataValidationError(f"{name} has {int((~np.isfinite(out)).sum())} missing or infinite value(s)",
                                  fix=f"score every customer with a finite {name}")
    return out


def concordance(durations, risk, events) -> float:
    """Harrell's concordance index (C-index) of a risk score (higher = churns sooner).

    0.5 = random ranking, 1 = perfect. Wraps ``lifelines.utils.concordance_index`` (which
    expects higher = survives longer, hence the sign flip).

    >>> concordance([1, 2, 3, 4], [4, 3, 2, 1], [1, 1, 1, 1])
    1.0
    """
    from lifelines.utils import concordance_index

    t, e = _eval_inputs(durations, events)
    r = check_array(risk, "risk")
    check_same_length(durations=t, risk=r)
    if not e.any():
        raise DataValidationError("every row is censored: the C-index needs at least one event",
                                  fix="evaluate on data that contains churners")
    try:
        return float(concordance_index(t, -r, e))
    except ZeroDivisionError:  # lifelines: "No admissable pairs in the dataset"
        raise DataValidationError("no pair of customers can be compared: a pair needs one churn before the "
                                  "other's churn or censoring time", fix="evaluate on more customers with "
                                  "different durations") from None


def _censoring_km(t, e):
    """G(u) = P(C > u): Kaplan-Meier of the censoring times (events count as censored)."""
    times = np.unique(t[~e])
    if len(times) == 0:
        return lambda u, left=False: np.ones_like(np.asarray(u, dtype=float))
    n = _at_risk_counts(None, t, times)
    dd = np.zeros(len(times))
    np.add.at(dd, np.searchsorted(times, t[~e]), 1.0)
    surv = np.cumprod(1 - dd / n)

    def G(u, left=False):
        u = np.asarray(u, dtype=float)
        idx = np.searchsorted(times, u, side="left" if left else "right") - 1
        return np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)

    return G


def _censoring_weights(t, e, train_durations, train_events):
    """Censoring survival G (Kaplan-Meier of the censoring times, from the training data when
    given) and G(t-) at each test duration: the IPCW weights of the Brier score and the AUC."""
    if (train_durations is None) != (train_events is None):
        raise ParameterError("train_durations and train_events go together",
                             fix="pass both (the training data's censoring pattern) or neither")
    if train_durations is not None:
        tt, te = _eval_inputs(train_durations, train_events, "train_durations")
    else:
        tt, te = t, e
    G = _censoring_km(tt, te)
    return G, G(t, left=True)


def _surv_matrix(surv, n, times):
    S = _scores(surv, "surv")
    if S.ndim == 1:
        S = S[:, None]
    if S.shape != (n, len(times)):
        raise ParameterError(f"surv has shape {S.shape}, expected ({n}, {len(times)}) = (customers, times)",
                             fix="pass model.predict_survival(X, times) for the same customers and times")
    if np.any((S < 0) | (S > 1)):
        raise DataValidationError("surv must hold probabilities in [0, 1]", fix="pass survival probabilities")
    return S


def brier_score(durations, events, surv, times, *, train_durations=None, train_events=None) -> pd.DataFrame:
    """Time-dependent Brier score with inverse-probability-of-censoring weights (Graf et al. 1999).

    BS(t) = mean_i [ S_i(t)^2 1(T_i <= t, event) / G(T_i-) + (1 - S_i(t))^2 1(T_i >= t, alive) / G(t-) ],
    G = Kaplan-Meier of the censoring distribution (of the training data if given, else of
    these data); a member censored exactly at t (e.g. at the end of a landmark horizon)
    counts as alive at t. Without censoring it is the mean squared error of S_i(t) against the
    survival indicator. Lower is better; 0.25 is what a constant 0.5 forecast scores.

    >>> brier_score([1, 3], [1, 1], [[0.2], [0.9]], [2])["brier"].round(3).tolist()
    [0.025]
    """
    t, e = _eval_inputs(durations, events)
    times = _times(times)
    S = _surv_matrix(surv, len(t), times)
    G, g_t = _censoring_weights(t, e, train_durations, train_events)
    out = []
    for j, u in enumerate(times):
        died = (t <= u) & e
        alive = (t > u) | ((t == u) & ~e)  # censored exactly at u: known to be alive at u
        gu = float(G(np.array([u]), left=True)[0])  # P(C >= u): chance to be seen alive at u
        w_d = np.where(died, 1.0 / np.where(g_t > 0, g_t, np.inf), 0.0)
        w_a = np.where(alive, 1.0 / gu if gu > 0 else 0.0, 0.0)
        bs = np.mean(S[:, j] ** 2 * w_d + (1 - S[:, j]) ** 2 * w_a)
        out.append({"time": u, "brier": float(bs)})
    return pd.DataFrame(out)


def integrated_brier_score(durations, events, surv, times, *, train_durations=None,
                           train_events=None) -> float:
    """Brier score averaged over ``times`` (trapezoid rule, divided by the time span)."""
    times = _times(times)
    if len(times) < 2:
        raise ParameterError("integrated_brier_score needs at least two times", fix="pass a grid of times")
    if np.any(np.diff(times) <= 0):
        raise ParameterError("times must increase strictly for the integral over them",
                             fix="pass a sorted grid without repeats, e.g. np.arange(1, 13)")
    bs = brier_score(durations, events, surv, times, train_durations=train_durations,
                     train_events=train_events)["brier"].to_numpy()
    return float(np.sum((bs[1:] + bs[:-1]) / 2 * np.diff(times)) / (times[-1] - times[0]))


def time_dependent_auc(durations, events, risk, times, *, train_durations=None,
                       train_events=None) -> pd.DataFrame:
    """Cumulative/dynamic AUC(t) with IPCW (Uno et al. 2007): can the score tell who churns by t?

    Cases: churned at or before t (weight 1/G(T_i-)); controls: still members at t (later
    event or censoring, or censored exactly at t).
    AUC(t) = weighted share of (case, control) pairs where the case has the higher risk
    (ties count one half). ``risk`` is one score per customer, or one column per time.

    >>> time_dependent_auc([1, 2, 5, 6], [1, 1, 0, 1], [0.9, 0.8, 0.1, 0.3], [3])["auc"].tolist()
    [1.0]
    """
    t, e = _eval_inputs(durations, events)
    times = _times(times)
    R = _scores(risk, "risk")
    R = np.repeat(R[:, None], len(times), axis=1) if R.ndim == 1 else R
    if R.shape != (len(t), len(times)):
        raise ParameterError(f"risk has shape {R.shape}, expected ({len(t)},) or ({len(t)}, {len(times)})",
                             fix="pass one finite risk score per customer (or per customer and time)")
    G, g_t = _censoring_weights(t, e, train_durations, train_events)
    out = []
    for j, u in enumerate(times):
        case = (t <= u) & e & (g_t > 0)
        ctrl = (t > u) | ((t == u) & ~e)
        if not case.any() or not ctrl.any():
            out.append({"time": u, "auc": np.nan, "cases": int(case.sum()), "controls": int(ctrl.sum())})
            continue
        w = 1.0 / g_t[case]
        rc = np.sort(R[ctrl, j])
        below = np.searchsorted(rc, R[case, j], side="left")
        ties = np.searchsorted(rc, R[case, j], side="right") - below
        conc = (below + 0.5 * ties) / len(rc)
        out.append({"time": u, "auc": float(np.sum(w * conc) / np.sum(w)),
                    "cases": int(case.sum()), "controls": int(ctrl.sum())})
    return pd.DataFrame(out)


def calibration_table(durations, events, surv, times, n_groups: int = 5) -> pd.DataFrame:
    """Calibration over time: predicted vs Kaplan-Meier observed survival by risk group.

    At each time the customers are cut into ``n_groups`` groups by predicted survival;
    ``predicted`` is the group's mean predicted S(t), ``observed`` its KM estimate at t (which
    handles censoring), with a 95% CI. A calibrated model has observed ~ predicted.
    """
    from lifelines import KaplanMeierFitter

    t, e = _eval_inputs(durations, events)
    times = _times(times)
    S = _surv_matrix(surv, len(t), times)
    check_count(n_groups, "n_groups", 1, 50)
    rows = []
    for j, u in enumerate(times):
        ranks = pd.Series(S[:, j]).rank(method="first").to_numpy()
        grp = np.minimum(((ranks - 1) * n_groups / len(t)).astype(int), n_groups - 1)
        for g in range(n_groups):
            sel = grp == g
            if not sel.any():
                continue
            kmf = KaplanMeierFitter().fit(t[sel], e[sel])
            ci = kmf.confidence_interval_survival_function_
            rows.append({"time": u, "group": g + 1, "n": int(sel.sum()),
                         "predicted": float(S[sel, j].mean()), "observed": float(kmf.predict(u)),
                         "lower": float(ci.iloc[:, 0].asof(u)), "upper": float(ci.iloc[:, 1].asof(u))})
    return pd.DataFrame(rows)


def plot_calibration(table: pd.DataFrame, ax=None):
    """Observed (KM, with CI) against predicted survival, one colour per time; returns Axes."""
    from .. import plots

    require_columns(table, ["time", "predicted", "observed", "lower", "upper"], "table")
    if ax is None:
        _, ax = plots.subplots()
    for i, (u, g) in enumerate(table.groupby("time")):
        col = plots.PALETTE[i % len(plots.PALETTE)]
        ax.errorbar(g["predicted"], g["observed"], yerr=[g["observed"] - g["lower"], g["upper"] - g["observed"]],
                    fmt="o", color=col, capsize=2, label=f"t = {u:g} months")
    lo = float(min(table["predicted"].min(), table["lower"].min()))
    ax.plot([lo, 1], [lo, 1], color="k", lw=0.8, ls="--", label="perfect calibration")
    return plots.finish(ax, title="Calibration over time", xlabel="predicted survival",
                        ylabel="observed survival (Kaplan-Meier)")
