"""Tests of crmlab.cases: the five synthetic case replications.

Recovery: each case estimates something its world variant planted (the go-live effect on
retention, supply-chain coefficients and the silo matches, campaign uplift, the go-live effect
on response times and the CSAT model, churn hazard ratios). On the case's own seed every
planted value must lie inside the estimate's 95% CI; on another seed (7, the seed the CLI
examples use) within 3.5 standard errors, so that a single 95% CI missing by chance among the
~20 intervals does not fail the suite while a biased analysis still does.
"""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from crmlab import cases
from crmlab.errors import CrmlabError, ParameterError
from crmlab.synth.world import World

NAMES = ["securities_a", "manufacturer", "retailer", "financial", "ecommerce_churn"]


@pytest.fixture(scope="module")
def results():
    return {name: cases.run_case(name) for name in NAMES}


@pytest.fixture(scope="module")
def seed7():
    return {name: cases.run_case(name, seed=7) for name in NAMES}


# ------------------------------------------------------------------------------------
# registry
# ------------------------------------------------------------------------------------
def test_registry_lists_the_five_cases_of_the_texts():
    assert list(cases.CASES) == NAMES
    table = cases.list_cases()
    assert list(table.index) == NAMES
    assert table.loc["securities_a", "title_zh"].startswith("A证券公司")
    assert table.loc["securities_a", "source"] == "S001 slide 3 (case 11-0)"
    assert set(table.loc[["manufacturer", "retailer", "financial"], "source"]) == {
        "S000 §7.3 case 1", "S000 §7.3 case 2", "S000 §7.3 case 3"}
    assert "S002 Ch8 §2" in table.loc["ecommerce_churn", "source"]
    assert table["seed"].is_unique  # every case is its own world variant
    assert (table["n_customers"].between(2000, 5000)).all()


@pytest.mark.parametrize("name", NAMES)
def test_case_variant_applies_its_overrides(name):
    case = cases.get_case(name)
    assert case.overrides, "each case changes some planted parameter"
    params = case.params().to_dict()
    for key, value in case.overrides.items():
        node = params
        for part in key.split("."):
            node = node[part]
        assert node == pytest.approx(value)


# ------------------------------------------------------------------------------------
# each case runs and reports
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_case_runs_and_reports(results, name):
    res = results[name]
    case = cases.get_case(name)
    assert res.seed == case.seed and res.n_customers == case.n_customers
    assert res.world.meta["seed"] == case.seed and res.world.meta["n_customers"] == case.n_customers
    assert "SYNTHETIC" in res.label
    assert res.figures and all(np.isfinite(float(v)) for v in res.figures.values())
    assert res.tables and all(isinstance(t, pd.DataFrame) and len(t) for t in res.tables.values())
    assert res.choice and res.decision and res.choice_under_truth and res.decision_under_truth
    text = res.report()
    for part in (case.question, "SYNTHETIC", "Decision:", f"crmlab case {name} --seed", case.source):
        assert part in text
    assert str(res) == text
    assert json.loads(json.dumps(res.to_dict()))["case"] == name


@pytest.mark.parametrize("name", NAMES)
def test_recovery_inside_ci_on_the_case_seed(results, name):
    rec = results[name].recovery
    with_ci = rec.dropna(subset=["ci_lower", "planted"])
    assert len(with_ci) >= 1
    assert with_ci["inside_ci"].all(), with_ci


@pytest.mark.parametrize("name", NAMES)
def test_recovery_on_another_seed(results, seed7, name):
    rec = seed7[name].recovery.dropna(subset=["ci_lower", "planted"])
    se = (rec["ci_upper"] - rec["ci_lower"]) / (2 * 1.959964)
    z = (rec["estimate"] - rec["planted"]).abs() / se
    assert (z < 3.5).all(), rec.assign(z=z)
    # another seed is another world: the figures change
    assert seed7[name].figures != results[name].figures


def test_planted_values_come_from_the_variant_truth(results):
    """The 'planted' column is the variant's truth, not the default world's."""
    eco = results["ecommerce_churn"]
    assert eco.recovery.loc["log HR satisfaction", "planted"] == -0.7
    assert eco.world.truth["membership"]["log_hazard_ratios"]["satisfaction"] == -0.7
    sec = results["securities_a"]
    assert sec.recovery.iloc[0]["planted"] == sec.world.truth["golive"]["expected_att_retention"]
    man = results["manufacturer"]
    assert man.recovery.loc["satisfaction per unit of lead_time_days", "planted"] == -3.0
    fin = results["financial"]
    assert fin.recovery.loc["go-live effect on log first-response time", "planted"] == -0.6
    ret = results["retailer"]
    assert ret.recovery.loc["uplift, all members", "planted"] == ret.world.truth["campaign"]["expected_uplift"]


def test_manufacturer_linkage_and_levers(results):
    res = results["manufacturer"]
    f = res.figures
    # stated target at threshold 0.5: pairwise F1 >= 0.98 against world.silo_matches
    assert f["link_threshold"] == 0.5
    assert f["linkage_f1"] >= 0.98 and f["linkage_precision"] >= 0.98 and f["linkage_recall"] >= 0.98
    assert abs(f["customers_after_linkage"] - f["true_customers_in_silos"]) / f["true_customers_in_silos"] < 0.02
    assert f["silo_records"] > 1.5 * f["customers_after_linkage"]
    levers = res.tables["levers"]
    assert list(levers.index) == list(levers.sort_values("satisfaction_gain", ascending=False).index)
    assert (levers["satisfaction_gain"] > 0).all()  # each lever improves satisfaction
    # with the planted lead-time effect raised to -3 points per day, lead time wins by a margin
    # far beyond the estimates' uncertainty (gain CIs about +-0.05 points)
    assert res.choice == res.choice_under_truth == "lead_time_days"
    assert levers["gain_ci_lower"].iloc[0] > levers["gain_ci_upper"].iloc[1]


def test_securities_value_is_consistent(results):
    res = results["securities_a"]
    v = res.tables["rollout_value"]
    f = res.figures
    assert v.loc["estimate", "equity_gain_per_member"] == pytest.approx(f["equity_gain_per_member"])
    assert v.loc["ci_lower", "equity_gain_per_member"] < f["equity_gain_per_member"] < v.loc["ci_upper",
                                                                                            "equity_gain_per_member"]
    # the DiD sees a positive effect, as planted (crm_live lowers churn)
    assert f["att_ci_lower"] > 0
    assert f["net_value_of_rollout"] == pytest.approx((f["equity_gain_per_member"] - f["rollout_cost_per_member"])
                                                      * f["members_in_branches_not_live"])
    assert res.choice in {"roll_out", "staged_roll_out", "stop"}


def test_retailer_tiers(results):
    res = results["retailer"]
    tiers = res.tables["tiers"]
    camp = res.world.campaigns
    assert tiers["members"].sum() == len(camp) == res.figures["campaign_members"]
    # the planted uplift is larger for coupon users: the heterogeneity the rule is meant to find
    assert tiers.loc["coupon_users", "planted_uplift"] > tiers.loc["other_members", "planted_uplift"]
    assert res.figures["breakeven_uplift"] == pytest.approx(res.figures["offer_cost"]
                                                            / res.figures["value_per_retained_member"])


def test_retailer_decision_converges_with_more_members():
    """With four times the customers, the estimate-based decision matches the planted one."""
    res = cases.run_case("retailer", n_customers=20000)
    assert res.decision_matches_truth
    assert res.recovery.dropna(subset=["ci_lower"])["inside_ci"].all()


def test_ecommerce_levers(results):
    res = results["ecommerce_churn"]
    lev = res.tables["levers"]
    assert set(lev.index) == {"quality_and_training", "complaint_handling", "points_programme"}
    assert (lev["ci_lower"] <= lev["hazard_reduction"]).all() and (lev["hazard_reduction"] <= lev["ci_upper"]).all()
    assert lev["share_of_draws_best"].sum() == pytest.approx(1)
    # the satisfaction lever: 1 - HR^0.25 exactly
    beta = np.log(res.figures["hr_satisfaction_per_sd"])
    assert lev.loc["quality_and_training", "hazard_reduction"] == pytest.approx(1 - np.exp(0.25 * beta))
    assert res.choice == res.choice_under_truth


def test_financial_rollout(results):
    res = results["financial"]
    f = res.figures
    assert f["golive_effect_ci_upper"] < 0 and f["top2_csat_gain"] > 0
    assert f["response_time_change_pct"] == pytest.approx(100 * np.expm1(f["golive_log_response_effect"]))
    assert res.choice == res.choice_under_truth == "roll_out"


# ------------------------------------------------------------------------------------
# decision rules respond to the assumptions
# ------------------------------------------------------------------------------------
def _rerun(result, **assumptions):
    case = result.case
    return case.analyse(result.world, {**case.assumptions, **assumptions})


def test_decision_rules_follow_the_assumptions(results):
    sec = results["securities_a"]
    assert _rerun(sec, rollout_cost_per_member=0.0)["choice"] == "roll_out"
    assert _rerun(sec, rollout_cost_per_member=1e9)["choice"] == "stop"
    fin = results["financial"]
    assert _rerun(fin, min_top2_gain=0.9)["choice"] == "review"
    eco = results["ecommerce_churn"]
    assert _rerun(eco, satisfaction_shift_sd=0.0)["choice"] != "quality_and_training"


def test_retailer_rule_follows_the_offer_cost(results):
    res = results["retailer"]
    w = res.world

    def with_cost(cost):
        camp = w.campaigns.assign(offer_cost=np.where(w.campaigns["treatment"] == 1, cost, 0.0))
        world = World(tables={**w.tables, "campaigns": camp}, truth=w.truth, latent=w.latent, meta=w.meta)
        return res.case.analyse(world, res.case.assumptions)

    assert with_cost(1e6)["choice"] == "no_one"
    free = with_cost(0.0)
    tiers = free["tables"]["tiers"]
    expected = {(True, True): "all_members", (True, False): "coupon_users", (False, True): "other_members",
                (False, False): "no_one"}[(bool(tiers.loc["coupon_users", "uplift"] > 0),
                                           bool(tiers.loc["other_members", "uplift"] > 0))]
    assert free["choice"] == expected


# ------------------------------------------------------------------------------------
# determinism
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["retailer", "ecommerce_churn"])
def test_deterministic_per_seed(results, name):
    again = cases.run_case(name)
    assert again.figures == results[name].figures
    pd.testing.assert_frame_equal(again.recovery, results[name].recovery)
    assert again.decision == results[name].decision


def test_world_of_a_case_is_the_one_run_case_uses(results):
    w = cases.get_case("ecommerce_churn").world()
    pd.testing.assert_frame_equal(w.memberships, results["ecommerce_churn"].world.memberships)


# ------------------------------------------------------------------------------------
# export
# ------------------------------------------------------------------------------------
def test_save_writes_the_result(results, tmp_path):
    res = results["manufacturer"]
    out = res.save(tmp_path / "m")
    doc = json.loads((out / "case.json").read_text(encoding="utf-8"))
    assert doc["seed"] == res.seed and doc["choice"] == res.choice and "SYNTHETIC" in doc["label"]
    assert doc["overrides"] == {k: v for k, v in res.case.overrides.items()}
    assert (out / "report.txt").read_text(encoding="utf-8").startswith(res.case.title)
    assert len(pd.read_csv(out / "recovery.csv")) == len(res.recovery)
    assert {f"{k}.csv" for k in res.tables} <= {p.name for p in out.iterdir()}
    clash = tmp_path / "file"
    clash.write_text("x")
    with pytest.raises(ParameterError, match="not a folder"):
        res.save(clash)


# ------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------
def test_unknown_case_name():
    with pytest.raises(ParameterError, match="unknown case 'retail'.*did you mean 'retailer'") as err:
        cases.run_case("retail")
    assert "Fix:" in str(err.value) and "crmlab case --list" in str(err.value)
    with pytest.raises(ParameterError, match="unknown case"):
        cases.get_case(3)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "7"])
def test_bad_seed(seed):
    with pytest.raises(CrmlabError, match="seed must be a whole number >= 0") as err:
        cases.run_case("retailer", seed=seed)
    assert "Fix:" in str(err.value)


@pytest.mark.parametrize("n", [500, 0, 2.5, "3000"])
def test_bad_size(n):
    with pytest.raises(ParameterError, match="n_customers must be a whole number >= 2000") as err:
        cases.run_case("retailer", n_customers=n)
    assert "Fix: use at least 2000" in str(err.value)


def test_case_without_branches_left_to_roll_out(results):
    """A world whose every branch goes live has no one to roll out to: said, with the fix."""
    fin = results["financial"]
    w = fin.world
    branches = w.branches.assign(crm_golive_date=pd.Timestamp(w.meta["window_start"]) + pd.DateOffset(months=6))
    world = World(tables={**w.tables, "branches": branches}, truth=w.truth, latent=w.latent, meta=w.meta)
    with pytest.raises(CrmlabError, match="nobody is left to roll out to"):
        fin.case.analyse(world, fin.case.assumptions)


def test_case_is_immutable():
    case = cases.get_case("retailer")
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.seed = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        case.overrides["campaign.offer_cost"] = 1.0  # type: ignore[index]


# ------------------------------------------------------------------------------------
# seed sweep and recovery plot
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_figure_names_are_documented(results, name):
    assert list(results[name].figures) == cases._FIGURE_NAMES[name]


def test_seed_sweep():
    sweep = cases.seed_sweep("ecommerce_churn", [3, 4], n_customers=1000, figures=["hr_satisfaction_per_sd"])
    assert list(sweep["seed"]) == [3, 4]
    assert sweep["match"].tolist() == (sweep["choice"] == sweep["choice_under_truth"]).tolist()
    assert sweep["share_inside_ci"].between(0, 1).all()
    one = cases.run_case("ecommerce_churn", seed=4, n_customers=1000)
    assert sweep.loc[1, "hr_satisfaction_per_sd"] == one.figures["hr_satisfaction_per_sd"]
    with pytest.raises(ParameterError, match="unknown figure") as err:
        cases.seed_sweep("ecommerce_churn", [1], figures=["nps"])
    assert "hr_recent_complaint" in str(err.value)
    with pytest.raises(ParameterError, match="seeds is empty"):
        cases.seed_sweep("ecommerce_churn", [])
    with pytest.raises(ParameterError, match="seed must be"):
        cases.seed_sweep("ecommerce_churn", [-2])


def test_plot_recovery(results):
    import matplotlib.pyplot as plt

    ax = cases.plot_recovery(list(results.values()))
    n_rows = sum(len(r.recovery.dropna(subset=["ci_lower", "planted"]).query("planted != 0")) for r in results.values())
    assert len(ax.get_yticklabels()) == n_rows
    assert ax.get_xlabel() == "estimate / planted value"
    assert cases.plot_recovery(results["retailer"]).get_title().startswith("Estimates relative")
    with pytest.raises(ParameterError, match="CaseResult"):
        cases.plot_recovery([])
    plt.close("all")
