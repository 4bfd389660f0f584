"""Early warning: landmark features, the churn risk score, lift/gain, profit threshold, watch list."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..base import Fitter, summary_frame
from ..errors import DataValidationError, ParameterError
from ..validation import (
    check_array,
    check_binary,
    check_count,
    check_dates,
    check_frame,
    check_in_set,
    check_option,
    check_probability,
    check_same_length,
    check_scalar,
    check_timestamp,
    check_unique,
    require_columns,
)
from ._common import MONTH_DAYS, _binary_array, _days, _forget_on_error, _table_dates, _window
from .cox import ChurnCox

__all__ = ["LANDMARK_FEATURES", "landmark_frame", "time_split", "ChurnRiskScore", "lift_table", "plot_lift", "plot_gain", "profit_curve", "plot_profit_curve", "watch_list"]

LANDMARK_FEATURES = [
    "tenure_months", "plan_plus", "plan_premium", "loyalty_member", "complaints_3m",
    "complaints_12m", "tickets_6m", "crm_live", "purchases_180d", "days_since_purchase",
    "survey_satisfaction", "survey_missing",
]
"""Default features of :func:`landmark_frame` (what the CRM system knows at the landmark)."""


def landmark_frame(
    memberships: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    branches: pd.DataFrame | None = None,
    *,
    landmark,
    horizon_months: float = 6.0,
    window_start=None,
    as_of=None,
    survey_items: Sequence[str] = ("sat_overall", "sat_confirm_expectations", "sat_vs_ideal"),
) -> pd.DataFrame:
    """Members active at ``landmark``, their features then, and whether they churn soon after.

    A landmark analysis is the honest set-up of an early-warning score: features use only
    what the CRM system knows at the landmark date, the label is churn in the following
    ``horizon_months`` (``churn``; ``months_to_event``/``event`` for survival models,
    censored at the horizon). Fit a score at one landmark and test it at a later one (a
    time split) to measure how it would have worked in production.

    Features (:data:`LANDMARK_FEATURES`): tenure, plan dummies, loyalty programme,
    complaint tickets in the last 3 and 12 months, all tickets in the last 6 months, CRM
    live at the branch, purchases in the last 180 days and days since the last purchase
    (inside the window), the latest survey satisfaction (z-score against the answers given
    by the landmark; 0 with ``survey_missing = 1`` for non-respondents). Tables that are
    not passed give no features (and are left out of :data:`LANDMARK_FEATURES` in
    ``.attrs["features"]``).

    ``window_start`` (required: the date from which tickets, purchases and spells were
    recorded) and ``as_of`` (default: the day after the latest date in the tables given) are
    as in :func:`survival_frame`; landmark + horizon must lie inside that window.
    """
    L = check_timestamp(landmark, "landmark")
    check_scalar(horizon_months, "horizon_months", numbers.Real, 0, 1200, low_inclusive=False)
    check_frame(memberships, "memberships", required=["membership_id", "customer_id", "start_date",
                                                        "end_date"])
    check_unique(memberships, "membership_id", "memberships")
    ws, we = _window(window_start, as_of, _table_dates(
        memberships=(memberships, ["start_date", "end_date"]), tickets=(tickets, ["opened_at"]),
        transactions=(transactions, ["date"]), survey=(survey, ["response_date"])))
    horizon_end = L + pd.Timedelta(days=horizon_months * MONTH_DAYS)
    if not ws <= L or horizon_end > we + pd.Timedelta(days=1):
        raise ParameterError(
            f"landmark {L.date()} + {horizon_months:g} months must lie inside the window "
            f"{ws.date()} .. {we.date()}", fix="choose an earlier landmark or a shorter horizon")
    s = check_dates(memberships, "start_date", "memberships")
    e = check_dates(memberships, "end_date", "memberships", allow_nat=True)
    active = ((s < L) & (e.isna() | (e >= L))).to_numpy()
    if not active.any():
        raise DataValidationError(f"no membership is active at the landmark {L.date()}",
                                  fix="choose a landmark inside the membership history")
    m = memberships.loc[active]
    s, e = s[active], e[active]
    out = pd.DataFrame({"membership_id": m["membership_id"].to_numpy(),
                        "customer_id": m["customer_id"].to_numpy()})
    out["landmark"] = L
    out["tenure_months"] = _days(s, L) * -1 / MONTH_DAYS
    feats = ["tenure_months"]
    if "plan" in m:
        check_in_set(m, "plan", ["basic", "plus", "premium"], "memberships")
        out["plan"] = m["plan"].to_numpy()
        out["plan_plus"] = (out["plan"] == "plus").astype(int)
        out["plan_premium"] = (out["plan"] == "premium").astype(int)
        feats += ["plan_plus", "plan_premium"]
    if "monthly_fee" in m:
        check_frame(m, "memberships", numeric=["monthly_fee"])
        out["monthly_fee"] = m["monthly_fee"].to_numpy(dtype=float)
    cust = out["customer_id"].to_numpy()
    if customers is not None:
        check_frame(customers, "customers", required=["customer_id"])
        check_unique(customers, "customer_id", "customers")
        ci = customers.set_index("customer_id")
        if "loyalty_member" in ci:
            check_binary(customers, "loyalty_member", "customers")
            out["loyalty_member"] = ci["loyalty_member"].reindex(cust).fillna(False).astype(int).to_numpy()
            feats.append("loyalty_member")
        if "branch_id" in ci:
            out["branch_id"] = ci["branch_id"].reindex(cust).to_numpy()
    if tickets is not None:
        check_frame(tickets, "tickets", required=["customer_id", "opened_at", "type"])
        od = check_dates(tickets, "opened_at", "tickets")
        age = _days(od, L) * -1  # days before the landmark
        tk = pd.DataFrame({"customer_id": tickets["customer_id"].to_numpy(), "age": age,
                           "complaint": tickets["type"].to_numpy() == "complaint"})
        tk = tk[(tk["age"] > 0)]

        def count(mask):
            return tk.loc[mask].groupby("customer_id").size().reindex(cust).fillna(0).astype(int).to_numpy()

        out["complaints_3m"] = count(tk["complaint"] & (tk["age"] <= 3 * MONTH_DAYS))
        out["complaints_12m"] = count(tk["complaint"] & (tk["age"] <= 12 * MONTH_DAYS))
        out["tickets_6m"] = count(tk["age"] <= 6 * MONTH_DAYS)
        feats += ["complaints_3m", "complaints_12m", "tickets_6m"]
    if branches is not None and "branch_id" in out:
        check_frame(branches, "branches", required=["branch_id", "crm_golive_date"])
        check_unique(branches, "branch_id", "branches")
        gl = check_dates(branches, "crm_golive_date", "branches", allow_nat=True)
        live = pd.Series((gl <= L).fillna(False).to_numpy(), index=branches["branch_id"].to_numpy())
        out["crm_live"] = live.reindex(out["branch_id"].to_numpy()).fillna(False).astype(int).to_numpy()
        feats.append("crm_live")
    if transactions is not None:
        check_frame(transactions, "transactions", required=["customer_id", "date"])
        td = check_dates(transactions, "date", "transactions")
        age = _days(td, L) * -1
        tx = pd.DataFrame({"customer_id": transactions["customer_id"].to_numpy(), "age": age})
        tx = tx[tx["age"] > 0]
        out["purchases_180d"] = (tx[tx["age"] <= 180].groupby("customer_id").size()
                                 .reindex(cust).fillna(0).astype(int).to_numpy())
        cap = float(_days(pd.Series([ws]), L)[0] * -1)  # no history before the window start
        last = tx.groupby("customer_id")["age"].min().reindex(cust)
        out["days_since_purchase"] = last.fillna(cap).clip(upper=cap).to_numpy()
        feats += ["purchases_180d", "days_since_purchase"]
    if survey is not None:
        items = list(survey_items)
        check_frame(survey, "survey", required=["customer_id", "response_date", *items], numeric=items,
                    no_nan=items)
        rd = check_dates(survey, "response_date", "survey")
        score = survey[items].mean(axis=1)
        known = (rd <= L).to_numpy()
        # standardise with the answers known at the landmark only (no look-ahead)
        ref = score[known] if known.sum() > 1 else score
        z = (score - ref.mean()) / (ref.std(ddof=0) or 1.0)
        sv = pd.DataFrame({"customer_id": survey["customer_id"].to_numpy(), "date": rd.to_numpy(),
                           "z": z.to_numpy()})
        sv = sv[known].sort_values("date").groupby("customer_id")["z"].last()
        zz = sv.reindex(cust)
        out["survey_missing"] = zz.isna().astype(int).to_numpy()
        out["survey_satisfaction"] = zz.fillna(0.0).to_numpy()
        feats += ["survey_satisfaction", "survey_missing"]
    # outcome after the landmark
    edays = _days(e, L)
    stop = min(horizon_months, float(_days(pd.Series([we]), L)[0]) / MONTH_DAYS)
    t_ev = (edays + 0.5) / MONTH_DAYS
    ev = ~np.isnan(t_ev) & (t_ev <= stop)
    out["event"] = ev.astype(int)
    out["churn"] = out["event"]
    out["months_to_event"] = np.where(ev, t_ev, stop)
    out.attrs.update({"landmark": str(L.date()), "horizon_months": float(horizon_months),
                      "window_start": str(ws.date()), "as_of": str(we.date()),
                      "features": [f for f in LANDMARK_FEATURES if f in feats]})
    return out


def time_split(
    memberships: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    branches: pd.DataFrame | None = None,
    *,
    horizon_months: int = 6,
    test_landmark=None,
    train_landmarks=None,
    train_gaps_months: Sequence[int] = (18, 12),
    window_start=None,
    as_of=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test landmark frames for an early-warning score (a time split).

    The test landmark defaults to the last month start whose ``horizon_months`` still lie in
    the window (``as_of`` minus the horizon); the training landmarks default to
    ``train_gaps_months`` months before it. Every training label must be known by the test
    landmark (landmark + horizon <= test landmark), as it would be in production; a split
    that lets the model learn from outcomes after the test date is refused.
    Returns ``(train, test)``: the stacked training frames (a member active at several
    landmarks appears once per landmark) and the test frame, each with
    ``.attrs["landmarks"]``. Other arguments as :func:`landmark_frame`.

    >>> train, test = time_split(world.memberships, window_start=world.meta["window_start"])  # doctest: +SKIP
    >>> train.attrs["landmarks"], test.attrs["landmarks"]  # doctest: +SKIP
    (['2024-01-01', '2024-07-01'], ['2025-07-01'])
    """
    h = check_count(horizon_months, "horizon_months", 1, 120)
    gaps = ([train_gaps_months] if isinstance(train_gaps_months, (numbers.Integral, str))
            else list(train_gaps_months))
    gaps = [check_count(g, "train_gaps_months", 1, 1200) for g in gaps]
    check_frame(memberships, "memberships", required=["start_date", "end_date"])
    ws, we = _window(window_start, as_of, _table_dates(
        memberships=(memberships, ["start_date", "end_date"]), tickets=(tickets, ["opened_at"]),
        transactions=(transactions, ["date"]), survey=(survey, ["response_date"])))
    if test_landmark is None:
        test_landmark = (we - pd.Timedelta(days=h * MONTH_DAYS)).to_period("M").to_timestamp()
    T = check_timestamp(test_landmark, "test_landmark")
    if train_landmarks is None:
        train_landmarks = [T - pd.DateOffset(months=int(g)) for g in gaps]
    single = isinstance(train_landmarks, (str, pd.Timestamp)) or not np.iterable(train_landmarks)
    train_ts = sorted(check_timestamp(d, "train_landmarks")
                      for d in ([train_landmarks] if single else list(train_landmarks)))
    if not train_ts:
        raise ParameterError("train_landmarks is empty", fix="give at least one training landmark")
    if train_ts[0] < ws:
        raise ParameterError(
            f"training landmark {train_ts[0].date()} is before the window start {ws.date()}: "
            "no history to compute features from",
            fix="use smaller train_gaps_months (or later train_landmarks), or a longer window")
    late = [str(d.date()) for d in train_ts if d + pd.DateOffset(months=h) > T]
    if late:
        raise ParameterError(
            f"training landmark(s) {late} + {h} months end after the test landmark {T.date()}: the "
            "model would learn from outcomes that were unknown on the test date",
            fix=f"use training landmarks at least {h} months before the test landmark")
    kw = dict(customers=customers, tickets=tickets, transactions=transactions, survey=survey,
              branches=branches, horizon_months=h, window_start=ws, as_of=we)
    # landmarks as ISO dates: the same frames (and dtypes) as calling landmark_frame by hand
    train = pd.concat([landmark_frame(memberships, landmark=str(d.date()), **kw) for d in train_ts],
                      ignore_index=True)
    test = landmark_frame(memberships, landmark=str(T.date()), **kw)
    train.attrs = {"horizon_months": float(h), "features": test.attrs["features"],
                   "window_start": str(ws.date()), "as_of": str(we.date()),
                   "landmarks": [str(d.date()) for d in train_ts]}
    test.attrs["landmarks"] = [str(T.date())]
    return train, test


class ChurnRiskScore(Fitter):
    """Churn risk score for early warning: P(churn within the horizon | features).

    ``method="logistic"`` (standardised L2 logistic regression, penalty ``1 / C``), ``"gbm"``
    (scikit-learn histogram gradient boosting, seeded by ``seed``) or ``"cox"``
    (:class:`ChurnCox` on ``months_to_event``; risk = 1 - S(horizon | x), the horizon being
    ``horizon_months`` or the longest follow-up in the training frame). Fit on one landmark,
    score a later one: ``fit(frame, features=..., label_col="churn")``.

    ``summary``: the standardised log-odds per feature (logistic; no standard errors under
    the penalty), :class:`ChurnCox`'s table (cox), or the training mean and SD of each
    feature (gbm, which has no coefficients).

    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"x": rng.normal(size=300)})
    >>> d["churn"] = (rng.random(300) < 1 / (1 + np.exp(-2 * d["x"]))).astype(int)
    >>> s = ChurnRiskScore().fit(d, features=["x"])
    >>> bool(s.predict_risk(d).corr(d["x"]) > 0.9)
    True
    """

    _unit = "members"

    def __init__(self, method: str = "logistic", seed: int = 0, C: float = 1.0,
                 horizon_months: float | None = None):
        check_option(method, "method", ["logistic", "gbm", "cox"])
        check_count(seed, "seed", 0, 2**32 - 1)
        check_scalar(C, "C", numbers.Real, 0, 1e12, low_inclusive=False)
        if horizon_months is not None:
            check_scalar(horizon_months, "horizon_months", numbers.Real, 0, 1200, low_inclusive=False)
        self.method = method
        self.seed = seed
        self.C = C
        self.horizon_months = horizon_months

    def fit(self, frame: pd.DataFrame, features: Sequence[str] | None = None, *, label_col: str = "churn",
            duration_col: str = "months_to_event", event_col: str = "event") -> ChurnRiskScore:
        """Fit on ``frame`` (e.g. :func:`time_split`'s training frame).

        ``features`` default to the frame's ``.attrs["features"]`` (set by
        :func:`landmark_frame`) or the :data:`LANDMARK_FEATURES` it has. ``label_col`` is the
        0/1 churn label of the classifiers; ``duration_col``/``event_col`` the follow-up of
        ``method="cox"``.
        """
        with _forget_on_error(self):
            return self._fit(frame, features, label_col, duration_col, event_col)

    def _fit(self, frame, features, label_col, duration_col, event_col):
        check_frame(frame, "frame", min_rows=10)
        if features is None:
            feats = list(frame.attrs.get("features") or [f for f in LANDMARK_FEATURES if f in frame])
        else:
            feats = [features] if isinstance(features, str) else list(features)
        if not feats:
            raise ParameterError("no features given", fix="pass features=[...] or a landmark_frame() output")
        if len(set(feats)) != len(feats):
            raise ParameterError(f"features lists a column more than once: {feats}", fix="list each feature once")
        check_frame(frame, "frame", required=feats, numeric=feats, no_nan=feats, min_rows=10)
        self.features_ = feats
        self.n_obs_ = len(frame)
        if self.method == "cox":
            varying = [f for f in feats if np.ptp(frame[f].to_numpy(dtype=float)) > 0]
            if not varying:
                raise DataValidationError(f"none of the features {feats} varies in frame",
                                          fix="train on more members or other features")
            self.features_ = varying
            self.model_ = ChurnCox(penalizer=0.01).fit(frame, varying, stop_col=duration_col,
                                                       event_col=event_col, entry_col=None)
            self.horizon_ = float(self.horizon_months or frame[duration_col].max())
            self.base_rate_ = float(frame[event_col].astype(int).mean())
            return self
        check_binary(frame, label_col, "frame")
        y = frame[label_col].to_numpy().astype(int)
        if y.min() == y.max():
            raise DataValidationError(f"frame[{label_col!r}] has a single class",
                                      fix="train on data with churners and stayers")
        X = frame[feats].to_numpy(dtype=float)
        if self.method == "logistic":
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            self.model_ = make_pipeline(StandardScaler(), LogisticRegression(C=float(self.C), max_iter=1000))
        else:
            from sklearn.ensemble import HistGradientBoostingClassifier

            self.model_ = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_depth=3,
                                                         l2_regularization=1.0, random_state=int(self.seed))
            self._train_stats = (X.mean(0), X.std(0, ddof=1) if len(X) > 1 else np.zeros(X.shape[1]))
        self.model_.fit(X, y)
        self.base_rate_ = float(y.mean())
        return self

    def _summary(self) -> pd.DataFrame:
        idx = pd.Index(self.features_, name="feature")
        if self.method == "logistic":
            return summary_frame(self.model_[-1].coef_[0], index=idx)
        if self.method == "cox":
            return self.model_.summary
        mean, sd = self._train_stats
        return pd.DataFrame({"train_mean": mean, "train_sd": sd}, index=idx)

    def _repr_fitted(self) -> str:
        return (f"fitted on {self.n_obs_:,} members ({100 * self.base_rate_:.1f}% churned), "
                f"{len(self.features_)} features")

    @property
    def coefficients_(self) -> pd.Series:
        """Standardised log-odds (logistic) or log hazard ratios (cox) per feature."""
        self._check_fitted()
        if self.method == "logistic":
            return pd.Series(self.model_[-1].coef_[0], index=self.features_, name="coef_per_sd")
        if self.method == "cox":
            return self.model_.params_.rename("log_hr")
        raise ParameterError("a gradient-boosting score has no coefficients",
                             fix="use method='logistic' to read coefficients")

    def predict_risk(self, frame: pd.DataFrame) -> pd.Series:
        """Predicted probability of churn within the horizon, one per row."""
        self._check_fitted()
        check_frame(frame, "frame", required=self.features_, numeric=self.features_, no_nan=self.features_)
        if self.method == "cox":
            S = self.model_.predict_survival(frame, [self.horizon_]).iloc[:, 0].to_numpy()
            p = 1 - S
        else:
            p = self.model_.predict_proba(frame[self.features_].to_numpy(dtype=float))[:, 1]
        return pd.Series(p, index=frame.index, name="churn_risk")


def _check_scores(y, score, name="score"):
    yv = _binary_array(y, "y")
    sv = check_array(score, name)
    check_same_length(y=yv, **{name: sv})
    return yv, sv


def _values(x, name, n) -> np.ndarray:
    """A value per member (or one for all): finite and >= 0."""
    try:
        v = np.asarray(x.to_numpy(dtype=float) if isinstance(x, pd.Series) else x, dtype=float)
    except (TypeError, ValueError):
        v = None
    if v is None or v.ndim > 1 or (v.ndim == 1 and len(v) != n) or np.any(~np.isfinite(v)) or np.any(v < 0):
        raise ParameterError(f"{name} must be a finite value >= 0, scalar or one per member ({n})",
                             fix="pass each member's CLV (e.g. survival_clv(...)['clv'], aligned with the "
                                 "members) or a scalar")
    return np.broadcast_to(v, (n,)).astype(float)


def lift_table(y, score, n_bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gain by score decile (bin 1 = highest risk).

    ``lift`` = churn rate in the bin / overall churn rate; ``cum_gain`` = share of all
    churners found by contacting bins 1..k; ``cum_lift`` = cum_gain / share contacted.

    >>> t = lift_table([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], np.arange(10)[::-1], n_bins=5)
    >>> t["lift"].tolist()
    [5.0, 0.0, 0.0, 0.0, 0.0]
    """
    yv, sv = _check_scores(y, score)
    check_count(n_bins, "n_bins", 2, max(2, min(len(yv), 1000)))
    if len(yv) < n_bins:
        raise DataValidationError(f"{len(yv)} customer(s) cannot fill {n_bins} bins",
                                  fix=f"use n_bins <= {len(yv)} or more customers")
    if yv.sum() == 0:
        raise DataValidationError("y has no churners, so lift is undefined", fix="evaluate on data with churners")
    order = np.argsort(-sv, kind="stable")
    bins = (np.arange(len(yv)) * n_bins // len(yv)) + 1
    d = pd.DataFrame({"bin": bins, "y": yv[order], "score": sv[order]})
    t = d.groupby("bin").agg(n=("y", "size"), churners=("y", "sum"), min_score=("score", "min"),
                             mean_score=("score", "mean"))
    base = yv.mean()
    t["churn_rate"] = t["churners"] / t["n"]
    t["lift"] = t["churn_rate"] / base
    t["cum_share_contacted"] = t["n"].cumsum() / len(yv)
    t["cum_gain"] = t["churners"].cumsum() / yv.sum()
    t["cum_lift"] = t["cum_gain"] / t["cum_share_contacted"]
    return t.reset_index()


def plot_lift(table: pd.DataFrame, ax=None):
    """Bar chart of lift by bin with the random-targeting line at 1; returns Axes."""
    from .. import plots

    require_columns(table, ["bin", "lift"], "table")
    if ax is None:
        _, ax = plots.subplots()
    ax.bar(table["bin"].astype(str), table["lift"], color=plots.PALETTE[0])
    ax.axhline(1, color="k", lw=0.8, ls="--", label="random targeting")
    return plots.finish(ax, title="Lift by risk decile", xlabel="risk decile (1 = highest score)",
                        ylabel="lift (churn rate / average)")


def plot_gain(table: pd.DataFrame, ax=None, label: str = "model"):
    """Cumulative gain chart: share of churners found vs share of members contacted."""
    from .. import plots

    require_columns(table, ["cum_share_contacted", "cum_gain"], "table")
    if ax is None:
        _, ax = plots.subplots()
    x = np.concatenate([[0], table["cum_share_contacted"]])
    y = np.concatenate([[0], table["cum_gain"]])
    ax.plot(x, y, marker="o", label=label)
    ax.plot([0, 1], [0, 1], color="k", lw=0.8, ls="--", label="random targeting")
    return plots.finish(ax, title="Cumulative gain", xlabel="share of members contacted",
                        ylabel="share of churners reached")


def profit_curve(y, score, *, value_saved, offer_cost: float, save_rate: float,
                 rank_by: str = "risk") -> pd.DataFrame:
    """Profit of contacting the top-k members, for every k (offer cost vs CLV saved).

    Contacting a member costs ``offer_cost``; a would-be churner who gets the offer stays
    with probability ``save_rate`` (from a retention experiment: uplift / control churn
    rate) and is then worth ``value_saved`` (e.g. their survival CLV). Members are ranked by
    ``rank_by``: ``"risk"`` (the score) or ``"expected_value"`` (the expected net value of an
    offer, score x save_rate x value - cost: the profit rule "contact when p x save x CLV >
    cost"). Per depth k: ``realised_profit`` = sum over the top k of y * save_rate * value -
    k * cost (what the policy would have earned on these outcomes) and ``expected_profit``
    with the score as the churn probability; ``threshold`` is the ranking key of the k-th
    member (its risk, or its expected net value). ``.attrs`` holds the best depths and their
    thresholds, and the break-even churn probability cost / (save_rate * value) of the
    average member.

    >>> c = profit_curve([1, 0, 1, 0], [0.9, 0.6, 0.4, 0.1], value_saved=[100, 100, 400, 100],
    ...                  offer_cost=10.0, save_rate=0.5, rank_by="expected_value")
    >>> c["threshold"].round(1).tolist(), c.attrs["best_expected_contacted"]
    ([70.0, 35.0, 20.0, -5.0], 3)
    """
    yv, sv = _check_scores(y, score)
    check_scalar(offer_cost, "offer_cost", numbers.Real, 0)
    check_probability(save_rate, "save_rate")
    check_option(rank_by, "rank_by", ["risk", "expected_value"])
    v = _values(value_saved, "value_saved", len(yv))
    p = np.clip(sv, 0, 1)
    net = p * save_rate * v - offer_cost
    key = sv if rank_by == "risk" else net
    order = np.argsort(-key, kind="stable")
    gain_real = np.cumsum(yv[order] * save_rate * v[order])
    gain_exp = np.cumsum(p[order] * save_rate * v[order])
    k = np.arange(1, len(yv) + 1)
    out = pd.DataFrame({"contacted": k, "share_contacted": k / len(yv), "threshold": key[order],
                        "churners_reached": np.cumsum(yv[order]),
                        "realised_profit": gain_real - k * offer_cost,
                        "expected_profit": gain_exp - k * offer_cost})
    best = int(np.argmax(out["realised_profit"].to_numpy()))
    best_exp = int(np.argmax(out["expected_profit"].to_numpy()))
    out.attrs.update({
        "rank_by": rank_by,
        "best_contacted": int(out["contacted"].iloc[best]),
        "best_threshold": float(out["threshold"].iloc[best]),
        "best_profit": float(out["realised_profit"].iloc[best]),
        "best_expected_contacted": int(out["contacted"].iloc[best_exp]),
        "best_expected_threshold": float(out["threshold"].iloc[best_exp]),
        "best_expected_profit": float(out["expected_profit"].iloc[best_exp]),
        "break_even_probability": float(offer_cost / (save_rate * v.mean())) if save_rate * v.mean() > 0 else np.inf,
        "contact_all_profit": float(out["realised_profit"].iloc[-1]),
    })
    return out


def plot_profit_curve(curve: pd.DataFrame, ax=None, title: str | None = None):
    """Realised and expected profit against the share of members contacted; returns Axes."""
    from .. import plots

    require_columns(curve, ["share_contacted", "realised_profit", "expected_profit"], "curve")
    if ax is None:
        _, ax = plots.subplots()
    ax.plot(curve["share_contacted"], curve["realised_profit"], label="realised (test outcomes)")
    ax.plot(curve["share_contacted"], curve["expected_profit"], ls="--", label="expected (model)")
    if "best_expected_contacted" in curve.attrs:
        b = curve.attrs["best_expected_contacted"] / len(curve)
        ax.axvline(b, color="k", lw=0.8, ls=":", label="best depth (expected)")
    ax.axhline(0, color="k", lw=0.6)
    if title is None:
        by = {"risk": "highest risk first", "expected_value": "highest expected net value first"}
        title = f"Retention-offer profit ({by.get(curve.attrs.get('rank_by', 'risk'), 'ranked')})"
    return plots.finish(ax, title=title, xlabel="share of members contacted", ylabel="profit (CNY)")


def watch_list(frame: pd.DataFrame, risk, *, threshold: float | None = None, value=None,
               save_rate: float = 1.0, offer_cost: float = 0.0, min_net_value: float | None = None,
               columns: Sequence[str] = ("customer_id",), top: int | None = None) -> pd.DataFrame:
    """The early-warning watch list (流失预警名单): the members worth an intervention.

    Keeps the members whose risk is at least ``threshold`` (if given) and, with ``value``,
    whose expected net value of an offer, risk x save_rate x value - offer_cost, is at least
    ``min_net_value`` (if given; 0 = the profit rule "contact when p x save x CLV > cost").
    Sorted by expected net value when ``value`` is given, else by risk; keeps ``columns`` of
    ``frame`` for the account team; ``top`` caps the list (e.g. the team's capacity).

    >>> f = pd.DataFrame({"customer_id": [1, 2, 3]})
    >>> watch_list(f, [0.5, 0.2, 0.1], value=[100, 400, 50], save_rate=0.5, offer_cost=10,
    ...            min_net_value=0)["customer_id"].tolist()
    [2, 1]
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    check_frame(frame, "frame", required=columns)
    r = check_array(risk, "risk")
    if r.shape != (len(frame),):
        raise ParameterError(f"risk has {r.size} values for {len(frame)} rows of frame: it must be one finite "
                             "score per row of frame", fix="pass score.predict_risk(frame)")
    if threshold is not None:
        check_scalar(threshold, "threshold", numbers.Real)
    check_probability(save_rate, "save_rate")
    check_scalar(offer_cost, "offer_cost", numbers.Real, 0)
    if min_net_value is not None:
        check_scalar(min_net_value, "min_net_value", numbers.Real)
        if value is None:
            raise ParameterError("min_net_value needs value (the worth of a saved member)",
                                 fix="pass value=clv (one per row or a scalar) or drop min_net_value")
    out = frame[columns].copy()
    out["churn_risk"] = r
    keep = np.ones(len(frame), dtype=bool) if threshold is None else r >= threshold
    if value is not None:
        out["value_at_risk"] = _values(value, "value", len(frame))
        out["expected_net_value"] = r * save_rate * out["value_at_risk"] - offer_cost
        if min_net_value is not None:
            keep &= (out["expected_net_value"] >= min_net_value).to_numpy()
        key = "expected_net_value"
    else:
        key = "churn_risk"
    out = out.loc[keep].sort_values(key, ascending=False, kind="stable")
    if top is not None:
        check_count(top, "top", 1, 10**9)
        out = out.head(top)
    return out
