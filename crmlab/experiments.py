"""Retention campaigns as randomised experiments (客户挽留实验): effect, power, uplift, targeting.

The source texts ask firms to "act in time to win customers back" (挽回客户, S000 §9.2(4)) and
to keep relationships through care activities and personalised offers (S000 §9.3; S002 Ch6).
Whether an offer works, for whom, and whether it pays is an experimental question. The texts
give no numbers: every figure here comes from the SYNTHETIC world (a randomised retention
campaign with planted, segment-specific effects) or from assumptions the user supplies.

* :func:`retention_difference` - retention of treated vs control with a CI, overall or by
  segment (the per-segment version is a T-learner on segment dummies), in the kit's table
  layout (``estimate, std_error, ci_lower, ci_upper, p_value``);
* :func:`power_two_proportions`, :func:`sample_size_two_proportions`,
  :func:`minimum_detectable_uplift` - is the campaign big enough to see the effect?
* :func:`purchase_mix_features` - observable proxies of needs-based segments (channel,
  category and discount mix of past purchases, cut at a date);
* :class:`TLearner` and :func:`cross_fit_uplift` - uplift (增量响应) per customer: P(retained
  | offer) - P(retained | no offer) from two outcome models, predicted out of fold;
* :func:`targeting_table` / :func:`plot_targeting` - targeting by uplift vs by churn risk vs
  at random: incremental retentions and profit at each targeting depth.

>>> import pandas as pd
>>> camp = pd.DataFrame({"treatment": [1] * 100 + [0] * 100,
...                      "retained_6m": [1] * 95 + [0] * 5 + [1] * 88 + [0] * 12})
>>> retention_difference(camp).loc["all", ["rate_treated", "rate_control", "estimate"]].round(2).tolist()
[0.95, 0.88, 0.07]
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .base import Fitter, normal_quantile, summary_frame
from .churn._common import _binary_array, _forget_on_error
from .errors import DataValidationError, ParameterError
from .validation import (
    check_binary,
    check_ci_level,
    check_count,
    check_dates,
    check_frame,
    check_probability,
    check_random_state,
    check_same_length,
    check_scalar,
    check_timestamp,
    require_columns,
)

__all__ = [
    "retention_difference",
    "power_two_proportions",
    "sample_size_two_proportions",
    "minimum_detectable_uplift",
    "purchase_mix_features",
    "TLearner",
    "cross_fit_uplift",
    "targeting_table",
    "plot_targeting",
]


# ----------------------------------------------------------------------------------------------
# average and per-segment effect
# ----------------------------------------------------------------------------------------------
def retention_difference(
    campaigns: pd.DataFrame,
    outcome_col: str = "retained_6m",
    treatment_col: str = "treatment",
    by: str | None = None,
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Difference in retention between treated and control members, with a Wald CI.

    uplift = p_treated - p_control; se = sqrt(p_t (1 - p_t) / n_t + p_c (1 - p_c) / n_c);
    the z-test uses the same (unpooled) standard error. Randomisation makes the difference
    an unbiased estimate of the average effect of the offer on retention. With ``by`` the
    table has one row per group (the per-segment uplift; a T-learner whose only features
    are the group dummies).

    Returns one row per group (index ``group``: ``"all"``, or the levels of ``by``) with
    ``n_treated``, ``n_control``, ``rate_treated``, ``rate_control``, then the uplift in the
    kit's layout: ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``p_value``
    (``.attrs["ci_level"]``). A group whose arms are all retained (or all churned) has no
    standard error, so its interval and p-value are NaN.
    """
    check_ci_level(ci_level)
    req = [outcome_col, treatment_col] + ([by] if by is not None else [])
    check_frame(campaigns, "campaigns", required=req)
    check_binary(campaigns, outcome_col, "campaigns")
    check_binary(campaigns, treatment_col, "campaigns")
    if by is not None and campaigns[by].isna().any():
        raise DataValidationError(f"campaigns[{by!r}] has {int(campaigns[by].isna().sum())} missing value(s)",
                                  fix=f"drop them (df.dropna(subset=[{by!r}])) or give them their own label")
    z = normal_quantile(ci_level)
    groups = [("all", campaigns)] if by is None else list(campaigns.groupby(by, sort=True))
    rows = []
    for key, g in groups:
        t = g[treatment_col].astype(int).to_numpy()
        y = g[outcome_col].astype(int).to_numpy()
        n_t, n_c = int(t.sum()), int((1 - t).sum())
        if n_t == 0 or n_c == 0:
            raise DataValidationError(
                f"group {key!r} has {n_t} treated and {n_c} control member(s); both arms are needed",
                fix="check the treatment column (1 = offer, 0 = control) or merge small groups")
        p_t, p_c = y[t == 1].mean(), y[t == 0].mean()
        se = float(np.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c))
        rows.append({"n_treated": n_t, "n_control": n_c, "rate_treated": float(p_t),
                     "rate_control": float(p_c), "uplift": float(p_t - p_c), "se": se if se > 0 else np.nan})
    r = pd.DataFrame(rows)
    d, se = r["uplift"].to_numpy(), r["se"].to_numpy()
    est = summary_frame(d, se, d - z * se, d + z * se, ci_level=ci_level,
                        p_value=2 * stats.norm.sf(np.abs(d / se)),
                        index=pd.Index([k for k, _ in groups], name="group" if by is None else by))
    out = pd.concat([r[["n_treated", "n_control", "rate_treated", "rate_control"]].set_index(est.index), est],
                    axis=1)
    out.attrs = {"ci_level": ci_level, "estimate": "uplift = rate_treated - rate_control"}
    return out


# ----------------------------------------------------------------------------------------------
# power and sample size (normal approximation, unpooled variance)
# ----------------------------------------------------------------------------------------------
def _check_rates(p_control, uplift):
    p0 = check_probability(p_control, "p_control", open_interval=True)
    check_scalar(uplift, "uplift", numbers.Real)
    p1 = p0 + float(uplift)
    if not 0 < p1 < 1:
        raise ParameterError(f"p_control + uplift = {p1:.4g} is not a probability",
                             fix="retention rates must stay inside (0, 1); use a smaller uplift")
    if uplift == 0:
        raise ParameterError("uplift must not be 0 (there is nothing to detect)",
                             fix="pass the smallest effect worth detecting, e.g. uplift=0.03")
    return p0, p1


def power_two_proportions(p_control: float, uplift: float, n_per_arm: int, ci_level: float = 0.95,
                          ratio: float = 1.0) -> float:
    """Power of the two-sided z-test to detect ``uplift`` with ``n_per_arm`` controls.

    The test is at the level 1 - ``ci_level`` (a test at 5% is ``ci_level=0.95``);
    ``ratio`` = treated / control sample sizes.

    >>> round(power_two_proportions(0.88, 0.035, 550), 2)
    0.48
    """
    p0, p1 = _check_rates(p_control, uplift)
    check_scalar(n_per_arm, "n_per_arm", numbers.Real, 1, 1e12)
    check_ci_level(ci_level)
    _check_ratio(ratio)
    return _power(p0, p1, n_per_arm, ci_level, ratio)


def _check_ratio(ratio):
    check_scalar(ratio, "ratio", numbers.Real, 1e-6, 1e6)


def _power(p0, p1, n_per_arm, ci_level, ratio) -> float:
    se = np.sqrt(p0 * (1 - p0) / n_per_arm + p1 * (1 - p1) / (n_per_arm * ratio))
    z = normal_quantile(ci_level)
    d = abs(p1 - p0) / se
    return float(stats.norm.cdf(d - z) + stats.norm.cdf(-d - z))


def sample_size_two_proportions(p_control: float, uplift: float, power: float = 0.8,
                                ci_level: float = 0.95, ratio: float = 1.0) -> int:
    """Control-arm size needed to detect ``uplift`` with the given power (treated = ratio x).

    n = (z_{(1+ci_level)/2} + z_{power})^2 (p0 (1 - p0) + p1 (1 - p1) / ratio) / uplift^2, for
    the two-sided test at the level 1 - ``ci_level``.

    >>> sample_size_two_proportions(0.88, 0.035)
    1175
    """
    p0, p1 = _check_rates(p_control, uplift)
    check_probability(power, "power", open_interval=True)
    check_ci_level(ci_level)
    _check_ratio(ratio)
    z = normal_quantile(ci_level) + stats.norm.ppf(power)
    n = z ** 2 * (p0 * (1 - p0) + p1 * (1 - p1) / ratio) / (p1 - p0) ** 2
    n = int(np.ceil(n))
    # the formula ignores the far tail; step up until the exact power is reached (a few steps)
    while _power(p0, p1, n, ci_level, ratio) < power:
        n += 1
    return n


def minimum_detectable_uplift(p_control: float, n_per_arm: int, power: float = 0.8,
                              ci_level: float = 0.95, ratio: float = 1.0) -> float:
    """Smallest positive uplift detected with ``power`` given ``n_per_arm`` controls.

    NaN when no uplift that keeps the treated rate below 1 reaches that power.

    >>> round(minimum_detectable_uplift(0.88, 550), 3)
    0.049
    """
    p0 = check_probability(p_control, "p_control", open_interval=True)
    check_scalar(n_per_arm, "n_per_arm", numbers.Real, 1, 1e12)
    check_probability(power, "power", open_interval=True)
    check_ci_level(ci_level)
    _check_ratio(ratio)
    hi = (1 - p0) * (1 - 1e-9)
    if _power(p0, p0 + hi, n_per_arm, ci_level, ratio) < power:
        return float("nan")
    return float(optimize.brentq(lambda u: _power(p0, p0 + u, n_per_arm, ci_level, ratio) - power,
                                 1e-9, hi, xtol=1e-10))


# ----------------------------------------------------------------------------------------------
# features and uplift models
# ----------------------------------------------------------------------------------------------
def purchase_mix_features(transactions: pd.DataFrame, customer_ids, as_of=None,
                          channels: Sequence[str] | None = None,
                          categories: Sequence[str] | None = None) -> pd.DataFrame:
    """Purchase-mix proxies of needs-based segments, from purchases before ``as_of``.

    Per customer: ``n_purchases``, shares of each channel (``share_store`` ...), of each
    category (``share_grocery`` ...), and ``share_discount``. Customers without purchases
    get the population shares (and ``n_purchases = 0``), so every row is usable.
    ``channels`` and ``categories`` are the levels to report (default: those that occur in
    ``transactions``, sorted), so the columns do not depend on which customers are asked
    for. ``as_of=None`` uses every purchase given.

    The shares are those of ``crmlab.segmentation.behaviour_features`` (built for
    clustering: all dates, customers with few purchases dropped); this one serves
    prediction, so it cuts the history at ``as_of`` (no look-ahead) and keeps every
    requested customer (one row per distinct id), with fixed columns whichever levels occur.

    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "date": pd.to_datetime(["2024-01-05"] * 3),
    ...                    "channel": ["web", "store", "web"], "category": ["baby"] * 3,
    ...                    "discount_used": [True, False, False]})
    >>> purchase_mix_features(tx, [1, 2], as_of="2024-02-01")[["customer_id", "share_web", "share_discount"]]
       customer_id  share_web  share_discount
    0            1        0.5             0.5
    1            2        1.0             0.0
    """
    check_frame(transactions, "transactions", required=["customer_id", "date", "channel", "category",
                                                          "discount_used"])
    check_binary(transactions, "discount_used", "transactions")
    try:
        arr = None if isinstance(customer_ids, (str, bytes, pd.DataFrame)) else np.asarray(customer_ids)
    except ValueError:  # ragged nested lists
        arr = None
    if customer_ids is None or arr is None or arr.ndim != 1:
        raise ParameterError(f"customer_ids must be a 1-D list, array or Series of ids, got "
                             f"{type(customer_ids).__name__}", fix="pass e.g. campaigns['customer_id']")
    ids = pd.Index(pd.unique(arr), name="customer_id")
    if len(ids) == 0:
        raise ParameterError("customer_ids is empty", fix="pass the customers to describe")
    if ids.hasnans:
        raise DataValidationError("customer_ids has missing values", fix="drop them before calling")
    levels = {}
    for col, given in (("channel", channels), ("category", categories)):
        if given is None:
            levels[col] = sorted(map(str, transactions[col].dropna().unique()))
        elif isinstance(given, str) or not all(isinstance(v, str) for v in given) or not len(given):
            raise ParameterError(f"{col} levels must be a non-empty list of names, got {given!r}",
                                 fix=f"pass e.g. {col}s={sorted(map(str, transactions[col].dropna().unique()))[:4]}, "
                                     "or leave it None to take the levels from the data")
        else:
            levels[col] = list(given)
    tx = transactions
    if as_of is not None:
        cut = check_timestamp(as_of, "as_of")
        d = check_dates(tx, "date", "transactions")
        tx = tx.loc[(d < cut).to_numpy()]
    tx = tx[tx["customer_id"].isin(ids)]
    out = pd.DataFrame(index=ids)
    n = tx.groupby("customer_id").size().reindex(ids).fillna(0)
    out["n_purchases"] = n.astype(int).to_numpy()
    for col in ("channel", "category"):
        tab = (pd.crosstab(tx["customer_id"], tx[col].astype(str)) if len(tx) else pd.DataFrame())
        tab = tab.reindex(index=ids, columns=levels[col]).fillna(0)
        pop = tab.sum(0) / max(tab.to_numpy().sum(), 1)
        share = tab.div(tab.sum(1).replace(0, np.nan), axis=0)
        for lev in levels[col]:
            out[f"share_{lev}"] = share[lev].fillna(pop[lev]).to_numpy()
    disc = tx["discount_used"].astype(float)
    mean_disc = disc.groupby(tx["customer_id"]).mean().reindex(ids)
    out["share_discount"] = mean_disc.fillna(disc.mean() if len(tx) else 0.0).to_numpy()
    return out.reset_index()


def _default_estimator():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000))


def _check_xty(X, treatment, y):
    if not isinstance(X, pd.DataFrame):
        raise ParameterError(f"X must be a DataFrame of features, got {type(X).__name__}",
                             fix="pass campaign members' features as a DataFrame")
    check_frame(X, "X", numeric=list(X.columns), no_nan=list(X.columns), min_rows=4)
    if X.shape[1] == 0:
        raise ParameterError("X has no columns", fix="pass at least one feature")
    t = _binary_array(treatment, "treatment", "1 = offer, 0 = control")
    yv = _binary_array(y, "y", "1 = retained")
    check_same_length(X=X, treatment=t, y=yv)
    for arm in (0, 1):
        ya = yv[t == arm]
        if len(ya) < 2 or ya.min() == ya.max():
            raise DataValidationError(
                f"the {'treated' if arm else 'control'} arm has {len(ya)} row(s) and "
                f"{'one outcome class' if len(ya) else 'no rows'}: its outcome model cannot be fitted",
                fix="use more data (or fewer folds) so each arm has both retained and churned members")
    return t, yv


class TLearner(Fitter):
    """Two-model (T-learner) uplift: uplift(x) = P(y=1 | x, offer) - P(y=1 | x, no offer).

    One classifier per arm (default: standardised L2 logistic regression; any scikit-learn
    classifier with ``predict_proba`` works). Simple and unbiased under randomisation, but
    noisy when the arms are small: the difference of two noisy models is noisier still.
    ``fit(X, treatment, y)`` takes arrays scikit-learn style. ``summary`` compares the mean
    predictions on the training rows with the observed arm rates (it predicts per customer,
    so it has no parameter estimates).

    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.integers(0, 2, 2000)})
    >>> t = rng.integers(0, 2, 2000)
    >>> y = (rng.random(2000) < 0.7 + 0.2 * t * X["x"]).astype(int)
    >>> u = TLearner().fit(X, t, y).predict_uplift(X)
    >>> bool(u[X["x"] == 1].mean() > u[X["x"] == 0].mean() + 0.1)
    True
    """

    _unit = "campaign members"

    def __init__(self, estimator=None):
        if estimator is not None and not (hasattr(estimator, "fit") and hasattr(estimator, "predict_proba")):
            raise ParameterError(f"estimator must be a scikit-learn classifier with predict_proba, got "
                                 f"{type(estimator).__name__}",
                                 fix="pass e.g. sklearn.linear_model.LogisticRegression(), or None for the default")
        self.estimator = estimator

    def fit(self, X: pd.DataFrame, treatment, y) -> TLearner:
        """Fit one outcome model per arm; ``treatment`` and ``y`` are 0/1, one per row of X."""
        from sklearn.base import clone

        with _forget_on_error(self):
            t, yv = _check_xty(X, treatment, y)
            base = self.estimator if self.estimator is not None else _default_estimator()
            self.features_ = list(X.columns)
            Xv = X.to_numpy(dtype=float)
            self.model_control_ = clone(base).fit(Xv[t == 0], yv[t == 0])
            self.model_treated_ = clone(base).fit(Xv[t == 1], yv[t == 1])
            pc = self.model_control_.predict_proba(Xv)[:, 1]
            pt = self.model_treated_.predict_proba(Xv)[:, 1]
            self.n_obs_ = len(X)
            self._train = {"mean_predicted": [pc.mean(), pt.mean(), (pt - pc).mean()],
                           "observed": [yv[t == 0].mean(), yv[t == 1].mean(),
                                        yv[t == 1].mean() - yv[t == 0].mean()],
                           "n": [int((t == 0).sum()), int((t == 1).sum()), len(t)]}
        return self

    def _summary(self) -> pd.DataFrame:
        out = pd.DataFrame(self._train, index=pd.Index(["p_control", "p_treated", "uplift"], name="quantity"))
        return out

    def _repr_fitted(self) -> str:
        s = self._train
        return (f"fitted on {self.n_obs_:,} campaign members ({s['n'][1]:,} offered), {len(self.features_)} "
                f"features: mean predicted uplift {s['mean_predicted'][2]:.4g} (observed {s['observed'][2]:.4g})")

    def _X(self, X):
        self._check_fitted()
        check_frame(X, "X", required=self.features_, numeric=self.features_, no_nan=self.features_)
        return X[self.features_].to_numpy(dtype=float)

    def predict_control(self, X: pd.DataFrame) -> pd.Series:
        """P(y = 1 | x, no offer)."""
        Xv = self._X(X)
        return pd.Series(self.model_control_.predict_proba(Xv)[:, 1], index=X.index, name="p_control")

    def predict_treated(self, X: pd.DataFrame) -> pd.Series:
        """P(y = 1 | x, offer)."""
        Xv = self._X(X)
        return pd.Series(self.model_treated_.predict_proba(Xv)[:, 1], index=X.index, name="p_treated")

    def predict_uplift(self, X: pd.DataFrame) -> pd.Series:
        """Predicted uplift per row (in probability points)."""
        return (self.predict_treated(X) - self.predict_control(X)).rename("uplift")


def cross_fit_uplift(X: pd.DataFrame, treatment, y, estimator=None, n_splits: int = 5,
                     seed: int = 0) -> pd.DataFrame:
    """Out-of-fold T-learner predictions: every customer is scored by models that never saw
    them, so targeting can be evaluated honestly on the same experiment.

    Returns ``uplift``, ``p_control`` (P(retained) without offer: 1 - churn risk) and
    ``p_treated`` per row of X. Folds are stratified by arm.
    """
    t, yv = _check_xty(X, treatment, y)
    check_count(n_splits, "n_splits", 2, 50)
    rng = check_random_state(seed)
    fold = np.empty(len(X), dtype=int)
    for arm in (0, 1):
        idx = np.flatnonzero(t == arm)
        fold[rng.permutation(idx)] = np.arange(len(idx)) % n_splits
    out = pd.DataFrame(index=X.index, columns=["uplift", "p_control", "p_treated"], dtype=float)
    for k in range(n_splits):
        tr, te = fold != k, fold == k
        m = TLearner(estimator).fit(X.loc[tr], t[tr], yv[tr])
        Xte = X.loc[te]
        pc, pt = m.predict_control(Xte), m.predict_treated(Xte)
        out.loc[te, "p_control"] = pc.to_numpy()
        out.loc[te, "p_treated"] = pt.to_numpy()
    out["uplift"] = out["p_treated"] - out["p_control"]
    return out


# ----------------------------------------------------------------------------------------------
# targeting: by uplift vs by risk vs at random
# ----------------------------------------------------------------------------------------------
def targeting_table(
    treatment,
    y,
    scores: Mapping[str, Sequence[float]],
    *,
    value: float,
    offer_cost: float,
    fractions: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    true_uplift=None,
) -> pd.DataFrame:
    """What each targeting rule earns: offer to the top share of members by each score.

    For policy ``name`` and share f, the targeted set is the top f of members by
    ``scores[name]`` (higher = target first: predicted uplift, or churn risk). Because the
    experiment randomised the offer independently of the score, the retention difference
    between treated and control members *inside* the targeted set estimates its average
    uplift: ``est_incremental`` = n_targeted x (p_treated - p_control) retained members, and
    ``est_profit`` = est_incremental x ``value`` - n_targeted x ``offer_cost`` (value = margin
    kept per retained member, e.g. its CLV). A ``random`` policy (f x the overall effect) is
    added. With ``true_uplift`` (the generator's per-customer expected uplift) the table also
    shows ``true_incremental`` and ``true_profit``.
    """
    t = _binary_array(treatment, "treatment", "1 = offer, 0 = control")
    yv = _binary_array(y, "y", "1 = retained")
    check_same_length(treatment=t, y=yv)
    check_scalar(value, "value", numbers.Real, 0)
    check_scalar(offer_cost, "offer_cost", numbers.Real, 0)
    if not isinstance(scores, Mapping) or not scores:
        raise ParameterError("scores must be a non-empty dict {policy name: score per member}",
                             fix="e.g. scores={'uplift': u, 'risk': 1 - p_control}")
    try:
        fr = np.atleast_1d(np.asarray(fractions, dtype=float))
    except (TypeError, ValueError):
        fr = np.array([np.nan])
    if fr.ndim != 1 or fr.size > 1000 or not np.all(np.isfinite(fr)) or np.any((fr <= 0) | (fr > 1)):
        raise ParameterError("fractions must be up to 1,000 shares in (0, 1]",
                             fix="e.g. fractions=[0.1, 0.2, ..., 1.0]")
    tu = None
    if true_uplift is not None:
        try:
            tu = np.asarray(true_uplift, dtype=float)
        except (TypeError, ValueError):
            tu = np.array([np.nan])
        if tu.shape != t.shape or np.any(~np.isfinite(tu)):
            raise ParameterError("true_uplift needs one finite value per member", fix="align it with treatment")
    n = len(t)
    ate = yv[t == 1].mean() - yv[t == 0].mean() if (t == 1).any() and (t == 0).any() else np.nan
    rows = []
    for name, sc in scores.items():
        try:
            s = np.asarray(sc, dtype=float)
        except (TypeError, ValueError):
            s = np.array([np.nan])
        if s.shape != t.shape or np.any(~np.isfinite(s)):
            raise ParameterError(f"scores[{name!r}] needs one finite value per member", fix="align it with treatment")
        order = np.argsort(-s, kind="stable")
        for f in fr:
            k = max(1, int(round(f * n)))
            sel = order[:k]
            ts, ys = t[sel], yv[sel]
            if ts.min() == ts.max():
                diff = np.nan
            else:
                diff = ys[ts == 1].mean() - ys[ts == 0].mean()
            row = {"policy": name, "fraction": float(f), "n_targeted": k, "est_uplift": float(diff),
                   "est_incremental": float(k * diff), "est_profit": float(k * diff * value - k * offer_cost)}
            if tu is not None:
                inc = float(tu[sel].sum())
                row.update({"true_incremental": inc, "true_profit": inc * value - k * offer_cost})
            rows.append(row)
    for f in fr:
        k = max(1, int(round(f * n)))
        row = {"policy": "random", "fraction": float(f), "n_targeted": k, "est_uplift": float(ate),
               "est_incremental": float(k * ate), "est_profit": float(k * ate * value - k * offer_cost)}
        if tu is not None:
            inc = float(k * tu.mean())
            row.update({"true_incremental": inc, "true_profit": inc * value - k * offer_cost})
        rows.append(row)
    return pd.DataFrame(rows)


def plot_targeting(table: pd.DataFrame, metric: str = "est_profit", ax=None):
    """Curves of ``metric`` (``est_*`` / ``true_*`` incremental or profit) by targeting share, one per policy."""
    from . import plots

    require_columns(table, ["policy", "fraction", metric], "table")
    if ax is None:
        _, ax = plots.subplots()
    for i, (name, g) in enumerate(table.groupby("policy", sort=False)):
        ax.plot(g["fraction"], g[metric], marker="o", color=plots.PALETTE[i % len(plots.PALETTE)],
                ls="--" if name == "random" else "-", label=name)
    ax.axhline(0, color="k", lw=0.6)
    label = metric.replace("_", " ").replace("est ", "estimated ")
    unit = " (CNY)" if "profit" in metric else ""
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.35 * (hi - lo))  # head room: the legend sits above the curves
    plots.finish(ax, title=f"Targeting the retention offer: {label}",
                 xlabel="share of members targeted (highest score first)", ylabel=label + unit, legend=False)
    ax.legend(frameon=False, ncol=2, loc="upper center", fontsize=8)
    return ax
