"""Contract cases of crmlab.churn and crmlab.experiments: each fitter on a slice of the world.

The frames are built once per world (``_cached``) so the contract test stays fast.
"""

from crmlab import churn
from crmlab.churn import ChurnCox, ChurnRiskScore, RetentionCurves
from crmlab.experiments import TLearner

_CACHE: dict = {}


def _cached(name, world, build):
    key = (name, id(world))
    if key not in _CACHE:
        _CACHE[key] = build(world)
    return _CACHE[key]


def _window(world):
    return {"window_start": world.meta["window_start"], "as_of": world.meta["window_end"]}


def _spells(world):
    def build(w):
        sf = churn.survival_frame(w.memberships.head(1500), **_window(w))
        sf["plan_plus"] = (sf["plan"] == "plus").astype(int)
        sf["plan_premium"] = (sf["plan"] == "premium").astype(int)
        return sf

    return _cached("spells", world, build)


def _landmark(world):
    return _cached("landmark", world, lambda w: churn.landmark_frame(
        w.memberships, w.customers, w.tickets, landmark="2024-07-01", horizon_months=6, **_window(w)))


def _campaign(world):
    def build(w):
        c = w.campaigns.merge(w.customers[["customer_id", "loyalty_member", "community_member"]], on="customer_id")
        X = c[["loyalty_member", "community_member"]].astype(float)
        return X, c["treatment"].to_numpy(), c["retained_6m"].to_numpy()

    return _cached("campaign", world, build)


_FEATURES = ["tenure_months", "plan_plus", "plan_premium", "loyalty_member", "complaints_3m", "tickets_6m"]

CASES = {
    ChurnCox: lambda w: (ChurnCox(penalizer=0.01), (_spells(w), ["plan_plus", "plan_premium"]), {}),
    RetentionCurves: lambda w: (RetentionCurves(ci_level=0.9), (_spells(w),), {}),
    ChurnRiskScore: lambda w: (ChurnRiskScore(C=0.5), (_landmark(w),), {"features": _FEATURES}),
    TLearner: lambda w: (TLearner(), _campaign(w), {}),
}

CALLS = {
    ChurnCox: [
        ("check_proportional_hazards", (), {}),
        ("predict_survival", lambda w: (_spells(w).head(5), [6.0, 12.0]), {}),
        ("predict_survival_ahead", lambda w: (_spells(w).head(5), 3.0, [6.0]), {}),
        ("weibull_baseline", (), {}),
    ],
    RetentionCurves: [("survival_at", ([6.0, 12.0],), {}), ("rmst", (12.0,), {})],
    ChurnRiskScore: [("predict_risk", lambda w: (_landmark(w),), {})],
    TLearner: [("predict_uplift", lambda w: (_campaign(w)[0],), {}),
               ("predict_control", lambda w: (_campaign(w)[0],), {})],
}
