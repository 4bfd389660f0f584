"""The synthetic world: shapes, keys, dates, censoring, determinism, and sanity against truth."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from crmlab.datasets import SCHEMA
from crmlab.errors import CrmlabError, ParameterError
from crmlab.synth import SEGMENTS, TABLE_NAMES, WorldParams, acsi_structure, generate_world

WINDOW_START = pd.Timestamp("2023-01-01")
WINDOW_END = pd.Timestamp("2026-01-01")


# --- shapes, dtypes, keys --------------------------------------------------------------------
def test_every_table_is_there_with_documented_columns(world):
    assert tuple(world.tables) == TABLE_NAMES
    for name, df in world.tables.items():
        assert list(df.columns) == list(SCHEMA[name]), name
        assert len(df) > 0, name


def test_default_world_size(world):
    assert len(world.customers) == 5000
    assert world.customers["customer_type"].value_counts()["B2B"] == 300
    assert len(world.branches) == 12
    assert len(world.branch_kpis) == 12 * 36
    assert 15_000 < len(world.transactions) < 25_000
    assert 1_500 < len(world.survey) < 3_000


def test_dtypes_follow_the_schema(world):
    kinds = {"int": "i", "float": "f", "bool": "b", "str": "O", "date": "M", "datetime": "M"}
    for name, df in world.tables.items():
        for col, (kind, *_rest) in SCHEMA[name].items():
            assert df[col].dtype.kind == kinds[kind], (name, col, df[col].dtype)


@pytest.mark.parametrize("table,key", [("customers", "customer_id"), ("transactions", "transaction_id"),
                                       ("memberships", "membership_id"), ("survey", "response_id"),
                                       ("tickets", "ticket_id"), ("branches", "branch_id")])
def test_primary_keys_are_unique(world, table, key):
    assert world[table][key].is_unique


def test_keys_join_with_no_orphans(world):
    ids = set(world.customers["customer_id"])
    for table in ("transactions", "memberships", "survey", "tickets", "campaigns"):
        assert set(world[table]["customer_id"]) <= ids, table
    assert set(world.b2b_accounts["account_id"]) <= set(
        world.customers.loc[world.customers["customer_type"] == "B2B", "customer_id"])
    assert set(world.customers["branch_id"]) == set(world.branches["branch_id"])
    assert set(world.branch_kpis["branch_id"]) == set(world.branches["branch_id"])
    # transactions and memberships belong to consumers only
    b2c = set(world.customers.loc[world.customers["customer_type"] == "B2C", "customer_id"])
    assert set(world.transactions["customer_id"]) <= b2c
    assert set(world.memberships["customer_id"]) <= b2c
    assert set(world.campaigns["customer_id"]) <= set(world.memberships["customer_id"])
    m = world.silo_matches
    assert set(m["customer_id"]) <= ids
    for system in ("sales", "service", "web"):
        assert set(m.loc[m["system"] == system, "record_id"]) == set(world[f"silo_{system}"]["record_id"])


def test_dates_in_range(world):
    legacy_start = WINDOW_START - pd.DateOffset(months=24)
    s = world.customers["signup_date"]
    assert s.min() >= legacy_start and s.max() < WINDOW_END
    for table, col in (("transactions", "date"), ("tickets", "opened_at"), ("survey", "response_date")):
        d = world[table][col]
        assert d.min() >= WINDOW_START and d.max() < WINDOW_END, table
    tx = world.transactions.merge(world.customers[["customer_id", "signup_date"]], on="customer_id")
    assert (tx["date"] >= tx["signup_date"]).all()
    tk = world.tickets.merge(world.customers[["customer_id", "signup_date"]], on="customer_id")
    assert (tk["opened_at"] >= tk["signup_date"]).all()


def test_censoring_is_consistent(world):
    m = world.memberships
    assert (m["churned"] == m["end_date"].notna()).all()
    assert (m["cancel_reason"].notna() == m["churned"]).all()
    ended = m[m["churned"]]
    assert (ended["end_date"] >= ended["start_date"]).all()
    assert ended["end_date"].min() >= WINDOW_START and ended["end_date"].max() < WINDOW_END
    # left truncation: spells that started before the window were still active at its start
    assert (m["start_date"] < WINDOW_START).any()
    # the campaign outcome agrees with the membership table
    c = world.campaigns.merge(m[["customer_id", "end_date"]], on="customer_id")
    horizon = pd.Timestamp(world.truth["campaign"]["start_date"]) + pd.DateOffset(months=6)
    retained = c["end_date"].isna() | (c["end_date"] >= horizon - pd.Timedelta(days=1))
    assert (retained.astype(int) == c["retained_6m"]).mean() > 0.995


def test_value_ranges(world):
    s = world.survey
    for col, (_kind, unit, *_rest) in SCHEMA["survey"].items():
        if unit in ("1-10", "1-5", "1-7", "0-10"):
            lo, hi = map(int, unit.split("-"))
            assert s[col].between(lo, hi).all(), col
    assert (world.transactions["amount"] > 0).all()
    tk = world.tickets
    assert (tk["first_response_hours"] > 0).all()
    assert (tk["resolution_hours"] >= tk["first_response_hours"]).all()
    assert tk["post_ticket_csat"].dropna().between(1, 5).all()
    b = world.b2b_accounts
    assert b["share_of_wallet"].between(0, 1).all() and b["account_satisfaction"].between(0, 100).all()
    assert world.branch_kpis["retention_rate"].between(0, 1).all()


# --- determinism ---------------------------------------------------------------------------
def test_same_seed_gives_identical_tables(world):
    again = generate_world()
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(world[name], again[name])
    assert world.truth == again.truth


def test_other_seed_gives_other_data(world):
    other = generate_world(seed=2025)
    assert not world.customers["name"].equals(other.customers["name"])
    assert world.transactions["amount"].sum() != other.transactions["amount"].sum()
    assert world.truth["bgnbd"] == other.truth["bgnbd"]  # same planted parameters


def test_small_and_long_worlds_work():
    w = generate_world(seed=1, n_customers=300, months=12)
    assert len(w.branch_kpis) == 12 * 12 and len(w.customers) == 300
    w = generate_world(seed=1, n_customers=500, months=60, start="2020-07-01")
    assert w.meta["window_end"] == "2025-07-01"


# --- sanity against the planted truth -----------------------------------------------------
def test_purchases_match_bgnbd_expectation(big_world):
    """Mean repeat purchases of the in-window cohort = BG/NBD E[X(T)] under the planted (r, alpha, a, b)."""
    t = big_world.truth["bgnbd"]
    r, al, a, b = t["r"], t["alpha"], t["a"], t["b"]
    cu = big_world.customers
    coh = cu[(cu["customer_type"] == "B2C") & (cu["signup_date"] >= WINDOW_START)]
    T = ((WINDOW_END - coh["signup_date"]).dt.days / 7).to_numpy()
    n = big_world.transactions.groupby("customer_id").size().reindex(coh["customer_id"], fill_value=0)
    x = n.to_numpy() - 1
    expected = (a + b - 1) / (a - 1) * (1 - (al / (al + T)) ** r * hyp2f1(r, b, a + b - 1, T / (al + T)))
    se = x.std() / np.sqrt(len(x))
    assert abs(x.mean() - expected.mean()) < 3 * se


def test_spend_matches_gamma_gamma_mean(big_world):
    g = big_world.truth["gamma_gamma"]
    amounts = big_world.transactions["amount"]
    assert amounts.mean() == pytest.approx(g["p"] * g["gamma"] / (g["q"] - 1), rel=0.05)


def test_observed_membership_survival_matches_latent_durations(big_world):
    """Kaplan-Meier on the observed (censored) spells of new members agrees with the uncensored truth."""
    from lifelines import KaplanMeierFitter

    m = big_world.memberships
    new = m[m["start_date"] >= WINDOW_START]
    stop = new["end_date"].fillna(WINDOW_END)
    dur = (stop - new["start_date"]).dt.days / 30.4375
    km = KaplanMeierFitter().fit(dur, new["churned"])
    truth = big_world.truth["membership"]["implied_survival_new_members"]
    for months in (6, 12, 24):
        assert km.predict(months) == pytest.approx(truth[str(months)], abs=0.02)


def test_complaints_follow_satisfaction(big_world):
    tk = big_world.tickets.merge(big_world.latent[["customer_id", "satisfaction"]], on="customer_id")
    tk = tk[tk["satisfaction"].notna()]
    c = big_world.truth["service"]["complaint_logit"]
    expected = 1 / (1 + np.exp(-(c["intercept"] + c["satisfaction"] * tk["satisfaction"])))
    assert (tk["type"] == "complaint").mean() == pytest.approx(expected.mean(), abs=0.01)


def test_survey_items_load_on_their_latents(big_world):
    s = big_world.survey[big_world.survey["wave"] == 1]
    lat = s[["customer_id"]].merge(big_world.latent, on="customer_id")
    assert np.corrcoef(s["sat_overall"], lat["satisfaction"])[0, 1] == pytest.approx(0.90, abs=0.05)
    assert np.corrcoef(s["q_wait_too_long"], lat["driver_efficiency"])[0, 1] < -0.5  # reverse-keyed


def test_nps_matches_expected_for_respondents(big_world):
    s = big_world.survey[big_world.survey["wave"] == 1]["recommend_0_10"]
    nps = 100 * ((s >= 9).mean() - (s <= 6).mean())
    se = 100 * np.sqrt(((s >= 9).mean() + (s <= 6).mean() - ((s >= 9).mean() - (s <= 6).mean()) ** 2) / len(s))
    assert abs(nps - big_world.truth["survey"]["nps"]["wave1"]["respondents_expected"]) < 3.5 * se


def test_campaign_difference_matches_planted_uplift(big_world):
    c = big_world.campaigns
    diff = c.loc[c["treatment"] == 1, "retained_6m"].mean() - c.loc[c["treatment"] == 0, "retained_6m"].mean()
    p = c["retained_6m"].mean()
    se = np.sqrt(p * (1 - p) * (1 / (c["treatment"] == 1).sum() + 1 / (c["treatment"] == 0).sum()))
    assert abs(diff - big_world.truth["campaign"]["expected_uplift"]) < 3 * se
    assert big_world.truth["campaign"]["expected_uplift_by_segment"]["premium_quality"] == 0


def test_golive_raises_branch_retention(big_world):
    k = big_world.branch_kpis
    assert k.loc[k["crm_live"] == 1, "retention_rate"].mean() > k.loc[k["crm_live"] == 0, "retention_rate"].mean()
    assert big_world.truth["golive"]["expected_att_retention"] > 0


def test_acsi_structure_standardises_every_latent():
    st = acsi_structure()
    assert np.allclose(np.diag(st["cov"]), 1)
    assert (st["resid_sd"][7:] > 0).all()


def test_truth_is_complete_and_marked_synthetic(world):
    t = world.truth
    assert t["synthetic"] is True
    for key in ("bgnbd", "gamma_gamma", "membership", "campaign", "golive", "acsi", "survey", "service",
                "supply_chain", "referrals", "segments"):
        assert key in t, key
    assert set(t["campaign"]["expected_uplift_by_segment"]) == {s for s, _ in SEGMENTS}
    assert t["acsi"]["driver_rank"][0] == "product"
    assert world.latent["latent_segment"].isin([s for s, _ in SEGMENTS] + ["b2b"]).all()


# --- bad arguments --------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"seed": True}, "seed"),
    ({"n_customers": 10}, "n_customers"), ({"n_customers": "5000"}, "n_customers"),
    ({"months": 6}, "months"), ({"months": 36.0}, "months"),
    ({"start": "2023-02-15"}, "first day of a month"), ({"start": "not a date"}, "start"),
    ({"params": {"purchase": 1}}, "WorldParams"),
])
def test_bad_arguments_raise_crmlab_error(kwargs, match):
    with pytest.raises(CrmlabError, match=match):
        generate_world(**kwargs)


@pytest.mark.parametrize("changes,match", [
    ({"purchase.rr": 1}, "unknown world parameter"),
    ({"purchase.r": -1}, "purchase.r must be > 0"),
    ({"spend.q": 0.5}, "spend.q must be > 1"),
    ({"customers.segment_shares": [0.5, 0.5, 0.5, 0.5]}, "sum to 1"),
    ({"customers.segment_shares": [1, 0]}, "list of 4"),
    ({"purchase.r": "abc"}, "must be a number"),
    ({"satisfaction.paths.PQ->SAT": 1.5}, "explain"),
    ({"customers.share_b2b": 0}, "at least 10 and 100"),
    ({"customers.share_b2b": 0.99}, "at least 10 and 100"),
    ({"service.stage_probs": [0.5, 0.5, 0.5]}, "sum to 1"),
])
def test_bad_parameter_overrides_raise(changes, match):
    with pytest.raises(ParameterError, match=match):
        p = WorldParams().override(changes)
        generate_world(n_customers=300, months=12, params=p)


def test_override_changes_the_truth():
    p = WorldParams().override({"churn.log_hr.satisfaction": -0.9, "purchase.r": 0.5})
    w = generate_world(n_customers=400, months=12, params=p)
    assert w.truth["membership"]["log_hazard_ratios"]["satisfaction"] == -0.9
    assert w.truth["bgnbd"]["r"] == 0.5


# --- every parameter is checked before anything is generated or written ---------------------
from crmlab.synth.params import _parameters, _rule_for  # noqa: E402

PARAMETERS = dict(_parameters(WorldParams()))


def test_every_parameter_has_a_validation_rule():
    assert len(PARAMETERS) > 100
    assert [name for name in PARAMETERS if _rule_for(name) is None] == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")], ids=["nan", "inf", "-inf"])
def test_no_parameter_accepts_a_non_finite_value(bad):
    for name, value in PARAMETERS.items():
        if isinstance(value, str) or not isinstance(value, (int, float, tuple)) or \
                (isinstance(value, tuple) and isinstance(value[0], str)):
            continue
        flat = bad if not isinstance(value, tuple) else \
            [[bad] * len(v) if isinstance(v, tuple) else bad for v in value]
        with pytest.raises(ParameterError, match="finite"):
            WorldParams().override({name: flat})


@pytest.mark.parametrize("changes,match", [
    ({"campaign.fraction": 1.5}, "campaign.fraction must be < 1"),
    ({"campaign.fraction": 0}, "campaign.fraction must be > 0"),
    ({"campaign.treated_share": 1.0}, "campaign.treated_share must be < 1"),
    ({"campaign.duration_months": 0}, "campaign.duration_months must be >= 1"),
    ({"campaign.duration_months": 2.0**64}, "campaign.duration_months must be <= 240"),  # found by hypothesis
    ({"supply_chain.noise_sd": -1}, "supply_chain.noise_sd must be >= 0"),
    ({"service.b2c_tickets_per_month": -0.1}, "must be >= 0"),
    ({"customers.legacy_months": 0}, "customers.legacy_months must be >= 1"),
    ({"purchase.channel_probs": [[1, 0, 0]] * 3 + [[0.5, 0.6, 0]]}, r"purchase.channel_probs\[3\] must be non-negative and sum to 1"),
    ({"customers.b2c_channels.referral": [0.5, 40]}, "channel shares must sum to 1"),
    ({"customers.b2c_channels.referral": [0.15, -40]}, "cost must be > 0"),
    ({"survey.wave_fractions": [0.8, 0.2]}, "must increase strictly"),
    ({"service.csat_cutpoints": [1, 1, 2, 3]}, "must increase strictly"),
    ({"survey.loading_scale": 1.2}, "stays below 1"),
    ({"satisfaction.driver_corr": -0.5}, "driver_corr must be > -0.2"),
    ({"golive.cohort_fractions.A": 1}, "golive.cohort_fractions.A must be < 1"),
    ({"silo.coverage.web": 2}, "silo.coverage.web must be <= 1"),
    ({"customers.b2b_industries": ["a", "a", "b", "c", "d"]}, "distinct non-empty names"),
    ({"churn": 1}, "is a group of parameters"),
    ({"purchase.r": True}, "must be a number"),
])
def test_out_of_range_parameters_are_refused(changes, match):
    with pytest.raises(ParameterError, match=match):
        WorldParams().override(changes)


def test_directly_built_parameters_are_checked_too():
    import dataclasses

    bad = dataclasses.replace(WorldParams(), campaign=dataclasses.replace(WorldParams().campaign, fraction=1.5))
    with pytest.raises(ParameterError, match="campaign.fraction must be < 1"):
        generate_world(n_customers=300, months=12, params=bad)
    short = dataclasses.replace(WorldParams(), customers=dataclasses.replace(
        WorldParams().customers, segment_shares=(1.0,)))
    with pytest.raises(ParameterError, match="list of 4 values"):
        generate_world(n_customers=300, months=12, params=short)


@pytest.mark.parametrize("start,match", [
    ("1500-01-01", "between 1900-01-01 and 2100-12-01"), ("2262-01-01", "between"),
    (20230101, "must be a date"), (None, "start"), ("NaT", "start"),
])
def test_start_outside_the_supported_range(start, match):
    with pytest.raises(ParameterError, match=match):
        generate_world(n_customers=300, months=12, start=start)


def test_save_refuses_non_finite_truth_before_writing(tmp_path):
    from crmlab.errors import DataValidationError
    from crmlab.synth import World

    w = World(tables={"branches": pd.DataFrame({"branch_id": ["B01"]})},
              truth={"bgnbd": {"r": float("nan")}}, meta={"seed": 1})
    with pytest.raises(DataValidationError, match=r"truth.json would hold a non-finite number at bgnbd\.r"):
        w.save(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    w.truth = {"x": [1.0, float("inf")]}
    with pytest.raises(DataValidationError, match=r"x\[1\]"):
        w.save(tmp_path / "out")


# --- property tests (hypothesis; deterministic profile in tests/conftest.py) -----------------
from hypothesis import given  # noqa: E402
from hypothesis import settings as hsettings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ANY_VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9), st.booleans(),
    st.text(max_size=6), st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=7),
    st.none())


@hsettings(max_examples=400)
@given(name=st.sampled_from(sorted(PARAMETERS)), value=_ANY_VALUE)
def test_any_override_is_refused_or_valid(name, value):
    """Whatever a user types after --set NAME=, the result is a clear ParameterError or a
    parameter set whose every number is finite and in range (never a crash)."""
    import math

    try:
        p = WorldParams().override({name: value})
    except ParameterError:
        return
    for _name, v in _parameters(p):
        for x in np.ravel(np.asarray(v, dtype=object)):
            if isinstance(x, float):
                assert math.isfinite(x), (name, value)


_VALID = {
    "campaign.fraction": st.floats(0.05, 0.95), "campaign.treated_share": st.floats(0.01, 0.99),
    "survey.response_rate": st.floats(0.0005, 0.9995), "churn.membership_rate": st.floats(0.01, 1.0),
    "customers.share_legacy": st.floats(0.0, 1.0), "silo.coverage.web": st.floats(0.0, 1.0),
    "service.b2c_tickets_per_month": st.floats(0.0, 2.0), "supply_chain.noise_sd": st.floats(0.0, 20.0),
    "spend.q": st.floats(1.01, 10.0), "purchase.r": st.floats(0.05, 5.0),
    "referral.slope": st.floats(0.0, 10.0), "survey.loading_scale": st.floats(0.1, 1.1),
}


@hsettings(max_examples=12, deadline=None)
@given(changes=st.fixed_dictionaries({}, optional=_VALID), seed=st.integers(0, 2**31))
def test_random_valid_worlds_save_strict_json(changes, seed):
    """Random in-range parameters generate a world whose saved truth.json and world.json are
    strict JSON: an undefined quantity is null, never NaN or Infinity."""
    import json
    import tempfile

    world = generate_world(seed=seed, n_customers=300, months=12, params=WorldParams().override(changes))
    with tempfile.TemporaryDirectory() as tmp:
        out = world.save(tmp)
        for name in ("truth.json", "world.json"):
            def refuse(token, name=name):
                pytest.fail(f"{name} holds {token} for {changes}")

            json.loads((out / name).read_text(encoding="utf-8"), parse_constant=refuse)
