"""Contract cases for crmlab.clv and crmlab.segmentation (run by tests/test_api_contract.py).

Each fitter is fitted on a small slice of the shipped world so the contract test stays fast:
the BG/NBD and Gamma-Gamma on the summary of 1,500 consumers who signed up inside the window,
the sBG on the memberships started inside it, the clusterer on 800 customers' purchase mix.
"""

import pandas as pd

from crmlab import clv, segmentation

_CACHE: dict = {}


def _once(name, world, make):
    key = (name, id(world))
    if key not in _CACHE:
        _CACHE[key] = make(world)
    return _CACHE[key]


def _summary(world):
    def make(w):
        c = w.customers
        start = pd.Timestamp(w.meta["window_start"])
        ids = c.loc[(c["customer_type"] == "B2C") & (c["signup_date"] >= start), "customer_id"].head(1500)
        tx = w.transactions[w.transactions["customer_id"].isin(ids)]
        return clv.summary_from_transactions(tx, as_of=w.meta["window_end"], merge_same_day=False)

    return _once("summary", world, make)


def _periods(world):
    def make(w):
        m = w.memberships[w.memberships["start_date"] >= pd.Timestamp(w.meta["window_start"])]
        return clv.contract_periods(m, as_of=w.meta["window_end"])

    return _once("periods", world, make)


def _features(world):
    def make(w):
        ids = w.transactions["customer_id"].drop_duplicates().head(800)
        return segmentation.behaviour_features(w.transactions[w.transactions["customer_id"].isin(ids)])

    return _once("features", world, make)


CASES = {
    clv.BetaGeoFitter: lambda w: (clv.BetaGeoFitter(ci_level=0.9), (_summary(w),), {}),
    clv.GammaGammaFitter: lambda w: (clv.GammaGammaFitter(), (_summary(w),), {}),
    clv.ShiftedBetaGeometricFitter: lambda w: (clv.ShiftedBetaGeometricFitter(), (_periods(w),), {}),
    segmentation.SegmentClusterer: lambda w: (segmentation.SegmentClusterer(n_clusters=4, n_components=3, seed=0),
                                              (_features(w),), {}),
}

CALLS = {
    clv.BetaGeoFitter: [
        ("predict_probability_alive", lambda w: (_summary(w),), {}),
        ("predict_purchases", lambda w: (_summary(w), 26.0), {}),
        ("conditional_expected_number_of_purchases_up_to_time", (10.0, 2, 5.0, 20.0), {}),
        ("expected_purchases", (10.0,), {}),
        ("expected_frequency_table", lambda w: (_summary(w),), {}),
    ],
    clv.GammaGammaFitter: [
        ("predict_spend", lambda w: (_summary(w),), {}),
        ("conditional_expected_average_profit", (3, 150.0), {}),
    ],
    clv.ShiftedBetaGeometricFitter: [
        ("survival_function_at_times", ([1, 6, 12],), {}),
        ("retention_rate", ([1, 12],), {}),
        ("discounted_expected_residual_lifetime", (0.01, 6), {}),
        ("customer_lifetime_value", (30.0, 0.01), {}),
    ],
    segmentation.SegmentClusterer: [
        ("profile", (), {}),
        ("agreement", lambda w: (w.latent.set_index("customer_id")["latent_segment"],), {}),
    ],
}
