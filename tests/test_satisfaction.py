"""Tests of crmlab.satisfaction: scoring, reliability, CSAT/CES/NPS with intervals, drivers, IPA."""

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from crmlab import satisfaction as S
from crmlab.errors import (
    ColumnError,
    CrmlabError,
    DataValidationError,
    NotFittedError,
    ParameterError,
    SmallSampleWarning,
)
from crmlab.satisfaction_index import latent_covariance
from crmlab.synth import generate_world

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def survey(shipped):
    return shipped.survey


def _likert(n=400, k=4, loading=0.7, seed=0, lo=1, hi=5):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    return pd.DataFrame({f"i{j}": np.clip(np.rint(3 + loading * f + np.sqrt(1 - loading ** 2)
                                                   * rng.normal(size=n)), lo, hi) for j in range(k)})


# ------------------------------------------------------------------------------------
# the questionnaire matches what the generator planted
# ------------------------------------------------------------------------------------
def test_questionnaire_matches_planted_items(world):
    items = world.truth["acsi"]["items"]
    assert set(S.QUESTIONNAIRE.index) == set(items)
    for it, spec in items.items():
        row = S.QUESTIONNAIRE.loc[it]
        assert (row["low"], row["high"]) == tuple(spec["scale"])
        assert bool(row["reverse"]) == spec["reverse_keyed"]
    assert set(S.QUESTIONNAIRE.index) <= set(world.survey.columns)


def test_construct_and_driver_items_load_on_their_latent(world):
    load = world.truth["acsi"]["loadings"]
    for c, its in {**S.CONSTRUCT_ITEMS, **S.DRIVER_ITEMS}.items():
        for it in its:
            assert load[it]["latent"] == c, it


def test_frameworks_map_onto_the_questionnaire():
    assert set(S.FRAMEWORKS) == {"S000 §5.3", "S000 §8.1", "S002 Ch2 §3"}
    for fw in S.FRAMEWORKS.values():
        assert len(fw["dimensions"]) == 3
        for its in fw["dimensions"].values():
            assert set(its) <= set(S.QUESTIONNAIRE.index)
    # the emotional dimension leaves loyalty out (it would make the model circular)
    emo = S.FRAMEWORKS["S002 Ch2 §3"]["dimensions"]["emotional factors"]
    assert not any(i.startswith("loy_") or i == "recommend_0_10" for i in emo)


# ------------------------------------------------------------------------------------
# validation and scoring
# ------------------------------------------------------------------------------------
def test_item_scale_and_unknown_item():
    assert S.item_scale("q_trust") == (1, 5)
    assert S.item_scale("x", {"x": (0, 7)}) == (0, 7)
    with pytest.raises(ParameterError, match="scale of 'x' is unknown.*Fix: pass item_scales="):
        S.item_scale("x")
    with pytest.raises(ParameterError, match="low < high"):
        S.item_scale("x", {"x": (5, 1)})


def test_validate_responses_bad_inputs():
    with pytest.raises(DataValidationError, match=r"'q_trust'.*1 answers outside \[1, 5\].*Fix: recode or drop"):
        S.validate_responses(pd.DataFrame({"q_trust": [1, 5, 9]}), ["q_trust"])
    with pytest.raises(DataValidationError, match="outside"):
        S.validate_responses(pd.DataFrame({"q_trust": [0, 3]}), ["q_trust"])
    with pytest.raises(ColumnError, match="missing required column"):
        S.validate_responses(pd.DataFrame({"a": [1]}), ["q_trust"])
    with pytest.raises(DataValidationError, match="no answers at all.*Fix: drop"):
        S.validate_responses(pd.DataFrame({"q_trust": [np.nan, np.nan]}), ["q_trust"])
    with pytest.raises(ColumnError, match="must be numeric"):
        S.validate_responses(pd.DataFrame({"q_trust": ["agree", "disagree"]}), ["q_trust"])
    with pytest.raises(DataValidationError, match="missing value"):
        S.validate_responses(pd.DataFrame({"q_trust": [1, np.nan]}), ["q_trust"], allow_nan=False)
    with pytest.raises(DataValidationError, match="empty"):
        S.validate_responses(pd.DataFrame({"q_trust": []}), ["q_trust"])


def test_reverse_code_flips_and_restores(survey):
    r = S.reverse_code(survey)
    assert (r["q_wait_too_long"] == 6 - survey["q_wait_too_long"]).all()
    assert (r["q_hard_to_find"] == 6 - survey["q_hard_to_find"]).all()
    assert (r["q_trust"] == survey["q_trust"]).all()
    back = S.reverse_code(r)
    pd.testing.assert_frame_equal(back, survey)
    # flipping makes the reverse-keyed item correlate positively with its scale
    assert survey["q_wait_too_long"].corr(survey["q_response_speed"]) < 0
    assert r["q_wait_too_long"].corr(r["q_response_speed"]) > 0


def test_scale_scores_mean_pomp_and_missing():
    d = pd.DataFrame({"q_trust": [5, 1, np.nan], "q_positive_feelings": [4, 1, np.nan],
                      "q_wait_too_long": [1, 5, 3], "q_response_speed": [5, 1, 3]})
    sc = S.scale_scores(d, {"emotion": ["q_trust", "q_positive_feelings"],
                            "eff": ["q_wait_too_long", "q_response_speed"]})
    assert sc["emotion"].tolist()[:2] == [4.5, 1.0] and np.isnan(sc["emotion"].iloc[2])
    assert sc["eff"].tolist() == [5.0, 1.0, 3.0]  # reverse item flipped before averaging
    p = S.scale_scores(d, {"eff": ["q_wait_too_long", "q_response_speed"]}, to_100=True)
    assert p["eff"].tolist() == [100.0, 0.0, 50.0]
    with pytest.raises(ParameterError, match="scales is empty"):
        S.scale_scores(d, {})


# ------------------------------------------------------------------------------------
# reliability
# ------------------------------------------------------------------------------------
def test_cronbach_alpha_formula_and_intervals():
    d = _likert()
    x = d.to_numpy(float)
    k = x.shape[1]
    expected = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    sc = {c: (1, 5) for c in d}
    r = S.cronbach_alpha(d, list(d), item_scales=sc)
    assert r["alpha"] == pytest.approx(expected)
    assert r["ci_lower"] < r["alpha"] < r["ci_upper"] and r["n"] == 400 and r["k"] == 4
    b1 = S.cronbach_alpha(d, list(d), item_scales=sc, method="bootstrap", n_boot=300, seed=5)
    b2 = S.cronbach_alpha(d, list(d), item_scales=sc, method="bootstrap", n_boot=300, seed=5)
    assert b1["ci_lower"] == b2["ci_lower"]  # seeded
    # the bootstrap and Feldt intervals agree roughly in width
    assert abs((b1["ci_upper"] - b1["ci_lower"]) - (r["ci_upper"] - r["ci_lower"])) < 0.04


def test_feldt_interval_covers_population_alpha():
    # parallel continuous items with loading l: population alpha = k l^2 / (1 + (k - 1) l^2)
    k, lam, n = 4, 0.6, 120
    true = k * lam ** 2 / (1 + (k - 1) * lam ** 2)
    rng = np.random.default_rng(42)
    hits = 0
    reps = 300
    for _ in range(reps):
        f = rng.normal(size=(n, 1))
        x = lam * f + np.sqrt(1 - lam ** 2) * rng.normal(size=(n, k))
        d = pd.DataFrame(x, columns=list("abcd"))
        r = S.cronbach_alpha(d, list(d), item_scales={c: (-10, 10) for c in d})
        hits += r["ci_lower"] <= true <= r["ci_upper"]
    # 300 replications: MC SE of the coverage is 0.013; allow 3 SE around 0.95
    assert abs(hits / reps - 0.95) < 0.04


def test_alpha_bad_inputs():
    d = _likert()
    sc = {c: (1, 5) for c in d}
    with pytest.raises(ParameterError, match="at least 2 items"):
        S.cronbach_alpha(d, ["i0"], item_scales=sc)
    const = d.assign(i1=3.0)
    with pytest.raises(DataValidationError, match=r"\['i1'\] are constant.*undefined.*Fix: drop constant"):
        S.cronbach_alpha(const, list(d), item_scales=sc)
    with pytest.raises(DataValidationError, match="no answers at all"):
        S.cronbach_alpha(d.assign(i2=np.nan), list(d), item_scales=sc)
    with pytest.raises(DataValidationError, match="complete response"):
        S.cronbach_alpha(d.head(2), list(d), item_scales=sc)
    with pytest.raises(ParameterError, match="method"):
        S.cronbach_alpha(d, list(d), item_scales=sc, method="omega")
    with pytest.raises(DataValidationError, match="outside"):
        S.cronbach_alpha(d.assign(i0=d["i0"] + 10), list(d), item_scales=sc)


def test_item_analysis_flags_a_foreign_item():
    d = _likert()
    d["noise"] = np.random.default_rng(9).integers(1, 6, len(d))
    sc = {c: (1, 5) for c in d}
    ia = S.item_analysis(d, list(d), item_scales=sc)
    alpha = S.cronbach_alpha(d, list(d), item_scales=sc)["alpha"]
    assert ia.loc["noise", "item_total_r"] < 0.15 < ia.drop("noise")["item_total_r"].min()
    assert ia.loc["noise", "alpha_if_deleted"] > alpha


def test_item_analysis_uses_the_same_complete_cases_and_the_raw_scale(survey):
    """A missing answer drops the respondent from every column (as alpha does), and a
    reverse-keyed item's mean stays on the questionnaire's scale."""
    items = S.DRIVER_ITEMS["efficiency"]  # q_wait_too_long is reverse-keyed
    assert S.QUESTIONNAIRE.loc["q_wait_too_long", "reverse"]
    holes = survey[items].astype(float)
    holes.loc[holes.index[:40], "q_service_efficiency"] = np.nan
    ia = S.item_analysis(holes, items)
    kept = survey[items].iloc[40:].astype(float)
    np.testing.assert_allclose(ia["mean"], kept.mean().to_numpy())
    np.testing.assert_allclose(ia["sd"], kept.std().to_numpy())
    assert ia.loc["q_wait_too_long", "reverse_keyed"]
    assert ia.loc["q_wait_too_long", "item_total_r"] > 0.3  # flipped before correlating


def test_reliability_table_and_framework_summary(survey):
    rt = S.reliability_table(survey)
    assert list(rt.index) == [*S.CONSTRUCT_ITEMS, *S.DRIVER_ITEMS]
    assert (rt["alpha"] > 0.6).all() and (rt["ci_lower"] < rt["alpha"]).all()
    fs = S.framework_summary(survey)
    assert len(fs) == 9 and fs["mean_0_100"].between(0, 100).all()
    # S000's "service quality" mixes items of different drivers: lower alpha than a
    # single-driver dimension, which the questionnaire's planted structure implies
    assert fs.loc[("S000 §5.3", "service quality"), "alpha"] < fs.loc[("S000 §5.3", "service efficiency"), "alpha"]
    sc = S.framework_scores(survey, "S002 Ch2 §3")
    assert list(sc.columns) == ["service quality", "interaction experience", "emotional factors"]
    with pytest.raises(ParameterError, match="framework must be one of"):
        S.framework_scores(survey, "S009")


# ------------------------------------------------------------------------------------
# CSAT, effort
# ------------------------------------------------------------------------------------
def test_top_box_wilson():
    r = S.top_box(pd.Series([5, 4, 4, 3, 2, 5, 1, 4]), (1, 5))
    assert r["share"] == 0.625 and r["ci_lower"] == pytest.approx(0.3057, abs=1e-3)
    assert r["ci_upper"] == pytest.approx(0.8632, abs=1e-3)
    with pytest.raises(DataValidationError, match="outside"):
        S.top_box(pd.Series([6, 4]), (1, 5))
    with pytest.raises(ParameterError, match="top"):
        S.top_box(pd.Series([4, 4]), (1, 5), top=5)


def test_csat_and_effort_scores(survey):
    c = S.csat_score(survey, by="wave")
    assert list(c.index) == [1, 2] and c["n"].sum() == len(survey)
    w1 = survey[survey["wave"] == 1]["csat_1_5"]
    assert c.loc[1, "top2_share"] == pytest.approx((w1 >= 4).mean())
    e = S.effort_score(survey)
    assert e["mean"].iloc[0] == pytest.approx(survey["effort_1_7"].mean())
    assert e["ci_lower"].iloc[0] < e["mean"].iloc[0] < e["ci_upper"].iloc[0]
    assert e["high_effort_share"].iloc[0] == pytest.approx((survey["effort_1_7"] >= 5).mean())
    with pytest.raises(DataValidationError, match="outside"):
        S.csat_score(pd.DataFrame({"csat_1_5": [0, 5]}))
    with pytest.raises(ParameterError, match="high_from"):
        S.effort_score(survey, high_from=9)


# ------------------------------------------------------------------------------------
# NPS
# ------------------------------------------------------------------------------------
def test_nps_value_and_analytic_se():
    s = [10, 9, 8, 7, 3] * 40
    r = S.nps(s)
    assert r["nps"] == 20.0 and r["promoters"] == 40.0 and r["detractors"] == 20.0 and r["n"] == 200
    assert r["std_error"] == pytest.approx(100 * np.sqrt((0.4 + 0.2 - 0.2 ** 2) / 200))
    assert r["ci_lower"] == pytest.approx(20 - 1.959964 * r["std_error"])
    assert r.attrs["ci_level"] == 0.95
    assert S.nps_categories([10, 8, 3, 6, 7, 9]).tolist() == [
        "promoter", "passive", "detractor", "detractor", "passive", "promoter"]


def test_nps_bootstrap_is_seeded_and_close_to_analytic():
    s = np.random.default_rng(1).integers(0, 11, 600)
    a = S.nps(s)
    b1 = S.nps(s, method="bootstrap", seed=3)
    b2 = S.nps(s, method="bootstrap", seed=3)
    b3 = S.nps(s, method="bootstrap", seed=4)
    assert b1.equals(b2) and not b1.equals(b3)
    assert b1["std_error"] == pytest.approx(a["std_error"], rel=0.1)
    assert b1.attrs["method"] == "bootstrap"


@pytest.mark.parametrize("bad, msg", [
    ([3, 11], "outside \\[0, 10\\]"),
    ([-1, 5], "outside"),
    ([7.5, 9], "non-integer"),
    ([], "no answers"),
    ([np.nan, np.nan], "no answers"),
    (["nine", "ten"], "must be numeric"),
])
def test_nps_bad_scores(bad, msg):
    with pytest.raises(DataValidationError, match=msg) as e:
        S.nps(bad)
    assert "Fix:" in str(e.value)


def test_nps_bad_parameters():
    with pytest.raises(ParameterError, match="method"):
        S.nps([9, 10], method="wilson")
    with pytest.raises(ParameterError, match="ci"):
        S.nps([9, 10], ci_level=1.5)
    with pytest.raises(ParameterError, match="n_boot"):
        S.nps([9, 10], method="bootstrap", n_boot=10)


def test_nps_difference():
    a, b = [9, 10, 6, 7] * 50, [9, 10, 9, 7] * 50
    r = S.nps_difference(a, b)
    assert r.details["difference"] == 50.0
    se = 100 * np.sqrt((0.75 - 0.25 ** 2) / 200 + (0.75 - 0.75 ** 2) / 200)
    assert r.details["std_error"] == pytest.approx(se) and r.p_value < 1e-6
    rev = S.nps_difference(b, a)
    assert rev.details["difference"] == -50.0 and rev.p_value == pytest.approx(r.p_value)
    same = S.nps_difference(a, a, method="bootstrap", seed=1)
    assert same.details["difference"] == 0 and same.p_value > 0.5 and same.details["ci_lower"] < 0 < same.details["ci_upper"]
    with pytest.raises(DataValidationError, match="outside"):
        S.nps_difference(a, [12, 3])


def test_nps_difference_overlapping_samples_formula():
    a = [10, 9, 6, 3, 8, 10, 7, 2]
    b = [9, 9, 7, 5, 10, 10]
    ids_a = [1, 2, 3, 4, 5, 6, 7, 8]
    ids_b = [2, 1, 3, 4, 9, 10]  # customers 1-4 answer both samples (b lists them in another order)
    r = S.nps_difference(a, b, ids_a=ids_a, ids_b=ids_b)
    code = {k: np.where(np.array(v) >= 9, 1.0, np.where(np.array(v) <= 6, -1.0, 0.0)) for k, v in (("a", a), ("b", b))}
    ca, cb = code["a"], code["b"]
    pa = pd.Series(ca, index=ids_a).loc[[1, 2, 3, 4]].to_numpy()
    pb = pd.Series(cb, index=ids_b).loc[[1, 2, 3, 4]].to_numpy()
    cov = np.mean((pa - pa.mean()) * (pb - pb.mean())) * 4 / (8 * 6)
    se = 100 * np.sqrt(ca.var() / 8 + cb.var() / 6 - 2 * cov)
    assert r.details["difference"] == pytest.approx(100 * (cb.mean() - ca.mean()))
    assert r.details["std_error"] == pytest.approx(se) and r.details["n_overlap"] == 4
    assert r.details["overlap_corr"] == pytest.approx(np.corrcoef(pa, pb)[0, 1])
    assert r.details["design"] == "overlapping"
    # without overlap the ids change nothing
    ind = S.nps_difference(a, b)
    no = S.nps_difference(a, b, ids_a=ids_a, ids_b=[11, 12, 13, 14, 15, 16])
    assert no.details["std_error"] == pytest.approx(ind.details["std_error"]) and no.details["n_overlap"] == 0 and ind.details["design"] == "independent"
    # missing answers drop their id with them
    m = S.nps_difference([*a, np.nan], b, ids_a=[*ids_a, 99], ids_b=ids_b)
    assert m.details["std_error"] == pytest.approx(r.details["std_error"]) and m.details["n_a"] == 8
    boot = S.nps_difference(a * 30, b * 30, ids_a=list(range(240)), ids_b=list(range(0, 360, 2)),
                            method="bootstrap", seed=4)
    assert boot.details["design"] == "overlapping" and boot.details["ci_lower"] < boot.details["difference"] < boot.details["ci_upper"]


def test_nps_difference_overlapping_bad_inputs():
    a, b = [9, 10, 6, 7], [9, 10, 9, 7]
    with pytest.raises(ParameterError, match="both ids_a and ids_b.*Fix"):
        S.nps_difference(a, b, ids_a=[1, 2, 3, 4])
    with pytest.raises(ParameterError, match="ids_b has 3 entries but b has 4 scores.*Fix"):
        S.nps_difference(a, b, ids_a=[1, 2, 3, 4], ids_b=[1, 2, 3])
    with pytest.raises(DataValidationError, match="ids_a repeats 1 id.*only once.*Fix: keep one answer"):
        S.nps_difference(a, b, ids_a=[1, 1, 3, 4], ids_b=[1, 2, 3, 4])
    with pytest.raises(DataValidationError, match="missing id.*Fix"):
        S.nps_difference(a, b, ids_a=[1, np.nan, 3, 4], ids_b=[1, 2, 3, 4])
    with pytest.raises(DataValidationError, match="outside.*Fix"):
        S.nps_difference(a, [9, 10, 11, 7], ids_a=[1, 2, 3, 4], ids_b=[1, 2, 3, 4])


def _nps_var(x):
    p, d = np.mean(x >= 9), np.mean(x <= 6)
    return p + d - (p - d) ** 2


def test_nps_difference_overlap_keeps_its_nominal_size():
    """Seeded panel simulation, no change between the waves: 300 of the customers answer
    both waves (their answers share a latent loyalty). The overlap-aware standard error
    matches the actual spread of the difference and the test rejects at about 5%; the
    independent-samples test, applied to the same data, overstates the variance."""
    rng = np.random.default_rng(2024)
    n_sim, n_a, n_b, n_ab = 600, 600, 800, 300
    ids_a = np.arange(n_a)
    ids_b = np.r_[np.arange(n_ab), np.arange(n_a, n_a + n_b - n_ab)]  # first 300 also in a
    diffs, se_o, se_i, rej = [], [], [], []
    for _ in range(n_sim):
        u = rng.normal(size=n_a + n_b)  # each customer's latent loyalty, the same in both waves
        a, b = (np.clip(np.rint(7.4 + 2.0 * (0.75 * u[ids] + np.sqrt(1 - 0.75 ** 2) * rng.normal(size=len(ids)))), 0, 10)
                for ids in (ids_a, ids_b))
        r = S.nps_difference(a, b, ids_a=ids_a, ids_b=ids_b)
        diffs.append(r.details["difference"])
        se_o.append(r.details["std_error"])
        se_i.append(100 * np.sqrt(sum(_nps_var(x) / len(x) for x in (a, b))))  # independent samples
        rej.append(r.p_value < 0.05)
    sd = np.std(diffs, ddof=1)
    # MC SE of an SD from 600 draws is ~2.9%: allow 3 of them
    assert abs(np.mean(se_o) / sd - 1) < 0.09, (np.mean(se_o), sd)
    assert abs(np.mean(rej) - 0.05) < 3 * np.sqrt(0.05 * 0.95 / n_sim)
    assert np.mean(se_i) > 1.1 * sd  # ignoring the overlap: too wide, a conservative test


def test_nps_table_by_wave(survey):
    t = S.nps_table(survey, by="wave")
    for w in (1, 2):
        assert t.loc[w, "nps"] == pytest.approx(S.nps(survey.loc[survey["wave"] == w, "recommend_0_10"])["nps"])
    with pytest.raises(ColumnError):
        S.nps_table(survey, by="segment")


def test_nps_coverage_iid_is_nominal():
    p = np.array([0.02] * 7 + [0.12, 0.2, 0.25, 0.29])
    for method, n_sim in (("analytic", 2000), ("bootstrap", 300)):
        r = S.nps_coverage_simulation(p, 300, n_sims=n_sim, method=method, seed=7)
        assert r["true_nps"] == pytest.approx(40.0)
        # within 3 Monte-Carlo standard errors of the nominal 95%
        assert abs(r["coverage"] - 0.95) < 3 * np.sqrt(0.95 * 0.05 / n_sim) + 0.005, (method, r["coverage"])


def test_nps_coverage_simulation_bad_inputs():
    with pytest.raises(ParameterError, match="11 non-negative"):
        S.nps_coverage_simulation([0.5, 0.5], 100)
    with pytest.raises(ParameterError, match="summing to 1"):
        S.nps_coverage_simulation(np.full((5, 3), 0.5), 10)
    with pytest.raises(ParameterError, match="weights need n"):
        S.nps_coverage_simulation(np.full((5, 3), 1 / 3), None, weights=np.ones(5))
    with pytest.raises(ParameterError, match="weights must be"):
        S.nps_coverage_simulation(np.full((5, 3), 1 / 3), 10, weights=-np.ones(5))
    with pytest.raises(ParameterError, match="shape"):
        S.nps_coverage_simulation(np.ones((2, 2, 2)), 10)


def test_nps_item_probabilities_bad_inputs():
    with pytest.raises(DataValidationError, match="missing value"):
        S.nps_item_probabilities([0.1, np.nan], mean=7, sd=2, loading=0.8)
    with pytest.raises(ParameterError, match="loading"):
        S.nps_item_probabilities([0.1], mean=7, sd=2, loading=1.0)


def test_nps_interval_coverage_of_the_planted_customer_base(big_world):
    """Seeded simulation from the generator's item model: customers drawn at random from the
    B2C base (latent loyalty from world.latent), answers from the planted recommend item.
    The interval covers the true NPS of the base at its nominal rate; with the planted
    non-response (response odds rising with satisfaction) it covers the respondent
    population instead, and misses the base (non-response bias)."""
    from crmlab.synth.generate import SURVEY_ITEMS

    truth = big_world.truth
    lat = big_world.latent.dropna(subset=["loyalty"])
    _, _, _, mean, sd, _, _ = SURVEY_ITEMS["recommend_0_10"]  # the item's answer model (mean, SD)
    lam = truth["acsi"]["loadings"]["recommend_0_10"]["loading"]  # planted loading (x loading_scale)
    P = S.nps_item_probabilities(lat["loyalty"], mean=mean, sd=sd, loading=lam)
    n_sim = 1500
    mc = 3 * np.sqrt(0.95 * 0.05 / n_sim)
    r = S.nps_coverage_simulation(P, 800, n_sims=n_sim, seed=2024)
    assert abs(r["coverage"] - 0.95) < mc, r["coverage"]
    assert abs(r["bias"]) < 0.3
    sv = truth["params"]["survey"]
    w = expit(logit(sv["response_rate"]) + truth["survey"]["response_satisfaction_logit"] * lat["satisfaction"])
    nr = S.nps_coverage_simulation(P, 800, weights=w.to_numpy(), n_sims=n_sim, seed=2024)
    assert abs(nr["coverage_respondent"] - 0.95) < mc
    assert nr["bias"] > 3 and nr["coverage"] < 0.8
    # the item model reproduces the generator's own expected NPS of the respondents (truth):
    # wave-1 respondents' baseline latent loyalty; the go-live shift of live branches at the
    # wave (truth: < 0.1 SD of satisfaction) moves it by at most ~1.5 NPS points
    ids = big_world.survey.loc[big_world.survey["wave"] == 1, "customer_id"]
    Pw = S.nps_item_probabilities(big_world.latent.set_index("customer_id").loc[ids, "loyalty"],
                                  mean=mean, sd=sd, loading=lam)
    expected = 100 * (Pw["promoter"].mean() - Pw["detractor"].mean())
    assert abs(expected - truth["survey"]["nps"]["wave1"]["respondents_expected"]) < 1.5


def test_nps_intervals_across_generated_worlds():
    """Across 30 seeded worlds the respondent NPS interval covers the generator's expected NPS
    of the respondents (truth.survey.nps.waveK.respondents_expected) at least at the nominal
    rate (conditional on who responded, the interval is conservative), while it misses the
    NPS of all active customers more often: non-response bias, as planted."""
    hit_resp, hit_pop, bias = [], [], []
    hit_diff, corr, se_ratio = [], [], []
    for seed in range(300, 330):
        w = generate_world(seed=seed, n_customers=1200, months=24)
        for k in (1, 2):
            r = S.nps(w.survey.loc[w.survey["wave"] == k, "recommend_0_10"])
            t = w.truth["survey"]["nps"][f"wave{k}"]
            hit_resp.append(r["ci_lower"] <= t["respondents_expected"] <= r["ci_upper"])
            hit_pop.append(r["ci_lower"] <= t["population"] <= r["ci_upper"])
            bias.append(r["nps"] - t["population"])
        # the change between the waves, with the repeat respondents kept (overlapping samples)
        w1, w2 = (w.survey[w.survey["wave"] == k] for k in (1, 2))
        d = S.nps_difference(w1["recommend_0_10"], w2["recommend_0_10"], ids_a=w1["customer_id"], ids_b=w2["customer_id"])
        t = w.truth["survey"]["nps"]
        change = t["wave2"]["respondents_expected"] - t["wave1"]["respondents_expected"]
        hit_diff.append(d.details["ci_lower"] <= change <= d.details["ci_upper"])
        corr.append(d.details["overlap_corr"])
        se_ratio.append(d.details["std_error"] / S.nps_difference(w1["recommend_0_10"], w2["recommend_0_10"]).details["std_error"])
    # 60 intervals: 0.95 - 3 binomial SE = 0.865
    assert np.mean(hit_resp) >= 0.865
    assert np.mean(hit_pop) < np.mean(hit_resp)
    assert np.mean(bias) > 2  # respondents' NPS is biased upward
    # 30 intervals of the change: 0.95 - 3 binomial SE = 0.83
    assert np.mean(hit_diff) >= 0.83
    # repeat respondents share their planted latent loyalty: their answers correlate, and
    # accounting for it narrows the interval of the change
    assert np.nanmean(corr) > 0.3 and np.mean(se_ratio) < 0.97


# ------------------------------------------------------------------------------------
# classes
# ------------------------------------------------------------------------------------
def test_classify_satisfaction():
    c = S.classify_satisfaction(pd.Series([1, 4, 5, 7, 8, 10, np.nan], index=list("abcdefg")))
    assert c.tolist()[:6] == ["low", "low", "moderate", "moderate", "high", "high"] and pd.isna(c["g"])
    # S000 §4.1(4)'s three classes, in order, under one name; the Chinese terms come with them
    assert c.name == "satisfaction_class" and c.cat.ordered and list(c.cat.categories) == ["low", "moderate", "high"]
    assert list(c.index) == list("abcdefg") and c.cat.codes["a"] < c.cat.codes["c"] < c.cat.codes["e"]
    assert S.SATISFACTION_CLASSES["high"][0] == "高满意度" and S.SATISFACTION_CLASSES["low"][0] == "低满意度"
    assert S.classify_satisfaction([2, 4], cuts=(2, 4), scale=(1, 5)).tolist() == ["moderate", "high"]
    with pytest.raises(ParameterError, match="cuts"):
        S.classify_satisfaction([5], cuts=(8, 5))
    with pytest.raises(DataValidationError, match="outside"):
        S.classify_satisfaction([11])


# ------------------------------------------------------------------------------------
# driver analysis
# ------------------------------------------------------------------------------------
def test_relative_weights_and_shapley_sum_to_r2():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    z = rng.normal(size=(800, 1))
    X = pd.DataFrame(0.6 * z + 0.8 * rng.normal(size=(800, 4)), columns=list("abcd"))
    y = X @ np.array([0.5, 0.3, 0.1, 0.0]) + rng.normal(size=800)
    r2 = sm.OLS(y, sm.add_constant(X)).fit().rsquared
    rw, sh = S.relative_weights(X, y), S.shapley_r2(X, y)
    assert rw.sum() == pytest.approx(r2) and sh.sum() == pytest.approx(r2)
    assert list(rw.sort_values(ascending=False).index) == list("abcd")
    assert np.allclose(rw, sh, atol=0.01)
    # orthogonal drivers: both equal the squared correlations
    raw = rng.normal(size=(500, 3))
    Xo = pd.DataFrame(np.linalg.qr(raw - raw.mean(axis=0))[0], columns=list("xyz"))  # centred, orthogonal
    yo = Xo @ np.array([3.0, 2.0, 1.0]) + 0.05 * rng.normal(size=500)
    r = Xo.corrwith(yo) ** 2
    assert np.allclose(S.relative_weights(Xo, yo), r, atol=1e-6)
    assert np.allclose(S.shapley_r2(Xo, yo), r, atol=1e-6)


def test_relative_weights_bad_inputs():
    X = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 4, 6, 8]})
    with pytest.raises(DataValidationError, match="collinear"):
        S.relative_weights(X, [1, 2, 3, 5])
    with pytest.raises(DataValidationError, match="constant"):
        S.relative_weights(X.assign(b=1.0), [1, 2, 3, 5])
    with pytest.raises(ParameterError, match="different lengths: X has 4, y has 2"):
        S.relative_weights(X, [1, 2])
    with pytest.raises(ParameterError, match="too many"):
        S.shapley_r2(pd.DataFrame(np.ones((5, 13))), np.ones(5))


def test_importance_performance_quadrants():
    t = S.importance_performance(pd.Series({"a": .4, "b": .1, "c": .3, "d": .2}),
                                 pd.Series({"a": 50, "b": 80, "c": 75, "d": 40}))
    assert t["action"].tolist() == ["Concentrate here", "Possible overkill", "Keep up the good work", "Low priority"]
    t2 = S.importance_performance(pd.Series({"a": .4, "b": .1}), pd.Series({"a": 50, "b": 80}), crosshair=(0.5, 60))
    assert t2["action"].tolist() == ["Low priority", "Possible overkill"]
    with pytest.raises(ParameterError, match="crosshair"):
        S.importance_performance(pd.Series({"a": 1, "b": 2}), pd.Series({"a": 1, "b": 2}), crosshair="mode")
    with pytest.raises(DataValidationError, match="at least 2"):
        S.importance_performance(pd.Series({"a": 1}), pd.Series({"a": 1}))


@pytest.fixture(scope="module")
def drivers(survey):
    return S.DriverAnalysis(n_boot=200, seed=1).fit(survey)


def test_driver_analysis_summary(drivers, survey):
    s = drivers.summary
    assert set(s.index) == set(S.DRIVER_ITEMS)
    assert s["importance"].sum() == pytest.approx(drivers.r2_)
    assert s["importance_share"].sum() == pytest.approx(1.0)
    assert (s["share_ci_lower"] <= s["importance_share"]).all() and (s["importance_share"] <= s["share_ci_upper"]).all()
    assert list(s["rank"]) == list(range(1, 7))
    # standardised betas = OLS on z-scores of the driver scale scores
    X = S.scale_scores(survey)
    y = S.scale_scores(survey, {"SAT": S.CONSTRUCT_ITEMS["SAT"]})["SAT"]
    Z, zy = (X - X.mean()) / X.std(), (y - y.mean()) / y.std()
    beta = np.linalg.lstsq(Z.to_numpy(), zy.to_numpy(), rcond=None)[0]
    assert np.allclose(s.loc[list(X.columns), "estimate"], beta, atol=1e-8)
    assert list(s.columns[:5]) == ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]
    assert s.attrs["ci_level"] == 0.95
    assert s["performance"].between(0, 100).all()
    again = S.DriverAnalysis(n_boot=200, seed=1).fit(survey)
    pd.testing.assert_frame_equal(again.summary, s)
    ipa = drivers.ipa()
    assert set(ipa["action"]) <= set(S.IPA_LABELS.values())


def test_driver_analysis_options_and_plots(drivers, survey):
    sh = S.DriverAnalysis(method="shapley", n_boot=0).fit(survey, outcome="csat_1_5")
    assert sh.outcome_ == "csat_1_5" and "share_ci_lower" not in sh.summary
    cols = S.scale_scores(survey).add_prefix("d_").assign(y=survey["sat_overall"])
    own = S.DriverAnalysis(n_boot=0).fit(cols, outcome="y", drivers=list(cols.columns[:-1]))
    assert own.summary.index.str.startswith("d_").all()
    ax = drivers.plot_ipa()
    assert "Concentrate here" in [t.get_text() for t in ax.texts]
    assert drivers.plot_importance().get_xlabel().startswith("share of R²")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_driver_analysis_bad_inputs(survey):
    with pytest.raises(ParameterError, match="method"):
        S.DriverAnalysis(method="lasso")
    with pytest.raises(ParameterError, match="n_boot"):
        S.DriverAnalysis(n_boot=10)
    with pytest.raises(ParameterError, match="n_boot"):
        S.DriverAnalysis(n_boot=10**9)
    with pytest.raises(DataValidationError, match="only 7 complete responses for 6 drivers.*at least 8.*Fix: use fewer"):
        S.DriverAnalysis(n_boot=0).fit(survey.head(7))
    with pytest.raises(ColumnError, match="neither a column"):
        S.DriverAnalysis(n_boot=0).fit(survey, outcome="happiness")
    with pytest.raises(DataValidationError, match="missing"):
        S.DriverAnalysis(n_boot=0).fit(survey.assign(q_trust=np.where(survey.index == 3, np.nan, survey["q_trust"])))
    with pytest.raises(DataValidationError, match="outside"):
        S.DriverAnalysis(n_boot=0).fit(survey.assign(q_trust=survey["q_trust"] + 1))
    with pytest.raises(NotFittedError, match="not fitted"):
        S.DriverAnalysis().ipa()
    with pytest.raises(ParameterError, match="DataFrame"):
        S.DriverAnalysis().fit([1, 2, 3])


def _sixteen_rows():
    """A 16-row data set the size of a small published example: two drivers and an outcome."""
    rng = np.random.default_rng(16)
    x = rng.normal(size=(16, 2))
    return pd.DataFrame({"quality": 5 + x[:, 0], "price": 3 + x[:, 1],
                         "overall": 2 + 0.8 * x[:, 0] + 0.4 * x[:, 1] + 0.5 * rng.normal(size=16)})


def test_driver_analysis_on_a_small_sample_warns_and_goes_on():
    """Issue 12 (4): a 16-row data set is analysed with a SmallSampleWarning that says how to
    silence it; min_respondents= silences it knowingly; the raw coefficients, their standard
    errors and R² sit beside the standardised weights and match an OLS fit by hand."""
    import statsmodels.api as sm

    d = _sixteen_rows()
    with pytest.warns(SmallSampleWarning, match=r"only 16 complete responses for 2 drivers.*min_respondents=16"):
        da = S.DriverAnalysis(n_boot=200, seed=3).fit(d, outcome="overall", drivers=["quality", "price"])
    assert da.n_obs_ == 16 and np.isfinite(da.summary["estimate"]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = S.DriverAnalysis(n_boot=0, min_respondents=16).fit(d, outcome="overall", drivers=["quality", "price"])
    ols = sm.OLS(d["overall"], sm.add_constant(d[["quality", "price"]])).fit()
    c = quiet.coefficients_
    assert list(c.index) == ["intercept", "quality", "price"]
    np.testing.assert_allclose(c["estimate"], ols.params.to_numpy())
    np.testing.assert_allclose(c["std_error"], ols.bse.to_numpy())
    np.testing.assert_allclose(c[["ci_lower", "ci_upper"]], ols.conf_int().to_numpy())
    assert quiet.r2_ == pytest.approx(ols.rsquared) and quiet.adj_r2_ == pytest.approx(ols.rsquared_adj)
    s = quiet.summary
    np.testing.assert_allclose(s.loc[["quality", "price"], "raw_estimate"], ols.params[["quality", "price"]])
    np.testing.assert_allclose(s.loc[["quality", "price"], "raw_std_error"], ols.bse[["quality", "price"]])
    # standardised = raw x SD(x) / SD(y)
    sd = d.std()
    np.testing.assert_allclose(s.loc[["quality", "price"], "estimate"],
                               ols.params[["quality", "price"]] * sd[["quality", "price"]] / sd["overall"])


def _observed_score_target(truth) -> pd.Series:
    """Population relative-weight shares of the observed driver scores on the SAT score.

    Built from the planted latent covariance and the planted (continuous) loadings: each
    scale score is the mean of its items, item = loading x latent + noise (unit variance).
    """
    C = latent_covariance(truth)
    load = truth["acsi"]["loadings"]
    scales = {**S.DRIVER_ITEMS, "SAT": S.CONSTRUCT_ITEMS["SAT"]}
    items = [i for its in scales.values() for i in its]
    L = np.array([[abs(load[i]["loading"]) if load[i]["latent"] == c else 0.0 for c in C.index] for i in items])
    Sig = L @ C.to_numpy() @ L.T
    np.fill_diagonal(Sig, 1.0)
    A = np.array([[1 / len(its) if i in its else 0.0 for i in items] for its in scales.values()])
    V = A @ Sig @ A.T
    d = np.sqrt(np.diag(V))
    R = V / np.outer(d, d)
    w = S._rw_from_corr(R[:-1, :-1], R[:-1, -1])
    return pd.Series(w / w.sum(), index=list(S.DRIVER_ITEMS))


def test_driver_importance_recovers_planted_structure(big_world):
    """Relative weights of observed scale scores recover their population target (planted
    latent covariance + planted loadings); the top two drivers and the irrelevant one
    (emotion: planted effect on satisfaction 0) come out as planted.

    Tolerance: 3 bootstrap SE + 0.02; the 0.02 covers the rounding of 1-5 answers (it
    attenuates every driver score by a similar factor, ~0.95) and the planted non-response
    and go-live shift, which the population target ignores."""
    da = S.DriverAnalysis(n_boot=200, seed=0).fit(big_world.survey)
    target = _observed_score_target(big_world.truth)
    se = da.bootstrap_shares_.std().reindex(target.index)
    est = da.summary["importance_share"].reindex(target.index)
    assert ((est - target).abs() <= 3 * se + 0.02).all(), pd.DataFrame({"est": est, "target": target, "se": se})
    planted = big_world.truth["acsi"]["driver_rank"]
    assert list(da.summary.index[:2]) == planted[:2]
    assert da.summary.index[-1] == "emotion" == planted[-1]
    # the target keeps the planted order, and every pair of drivers whose target shares are
    # more than 3 bootstrap SE (of the estimated difference) apart is ranked as planted
    assert list(target.sort_values(ascending=False).index) == planted
    boot = da.bootstrap_shares_
    checked = 0
    for i, hi_d in enumerate(planted):
        for lo_d in planted[i + 1:]:
            if target[hi_d] - target[lo_d] > 3 * (boot[hi_d] - boot[lo_d]).std():
                assert est[hi_d] > est[lo_d], (hi_d, lo_d)
                checked += 1
    assert checked >= 12  # of the 15 pairs; the others are too close to call at this n
    # naive regression gives emotion a small but non-zero weight: measurement error in
    # the correlated drivers leaks into it (why the SEM in satisfaction_index is needed)
    assert 0 < est["emotion"] < 0.1


def test_all_errors_are_crmlab_errors():
    with pytest.raises(CrmlabError):
        S.nps([11])
    with pytest.raises(ValueError):  # CrmlabError subclasses ValueError
        S.cronbach_alpha(pd.DataFrame({"a": [1, 2]}), ["a"])


# ------------------------------------------------------------------------------------
# bad input of the remaining public functions: a CrmlabError naming the problem, with a fix
# ------------------------------------------------------------------------------------
_SV = pd.DataFrame({"q_trust": [4, 5, 3, 2], "q_emotional_connection": [3, 5, 2, 2], "wave": [1, 1, 2, 2],
                    "recommend_0_10": [9, 10, 3, 7], "effort_1_7": [2, 3, 6, 1], "csat_1_5": [4, 5, 2, 3]})


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: S.reverse_code(_SV, ["mystery"]), ColumnError, "missing required column"),
    (lambda: S.reverse_code(_SV, ["wave"]), ParameterError, "scale of 'wave' is unknown"),
    (lambda: S.scale_scores(_SV, {"emotion": ["q_trust"]}, min_answered=1.5), ParameterError, "min_answered"),
    (lambda: S.scale_scores(_SV.assign(q_trust=6), {"emotion": ["q_trust"]}), DataValidationError, "outside"),
    (lambda: S.item_analysis(_SV, ["q_trust"]), ParameterError, "at least 2 items"),
    (lambda: S.item_analysis(_SV.assign(q_trust=3), ["q_trust", "q_emotional_connection"]),
     DataValidationError, "constant"),
    (lambda: S.reliability_table(_SV.assign(q_trust=0), {"emotion": ["q_trust", "q_emotional_connection"]}),
     DataValidationError, "outside"),
    (lambda: S.framework_summary(_SV, ["S000 §9"]), ParameterError, "framework must be one of"),
    (lambda: S.framework_scores(_SV), ColumnError, "missing required column"),
    (lambda: S.csat_score(_SV, by="segment"), ColumnError, "segment"),
    (lambda: S.csat_score(_SV.assign(csat_1_5=np.nan)), DataValidationError, "no answers at all"),
    (lambda: S.effort_score(_SV.assign(effort_1_7=8)), DataValidationError, "outside"),
    (lambda: S.effort_score(_SV, ci_level=0), ParameterError, "ci"),
    (lambda: S.top_box(pd.Series([4, 5]), (1, 5), ci_level=1.2), ParameterError, "ci"),
    (lambda: S.nps_categories([10, 12]), DataValidationError, "outside"),
    (lambda: S.nps_table(_SV.iloc[:0]), DataValidationError, "empty"),
    (lambda: S.nps_table(_SV, item_col="nps"), ColumnError, "nps"),
    (lambda: S.nps_table(_SV.assign(recommend_0_10=-1)), DataValidationError, "outside"),
    (lambda: S.nps_difference([9, 10], [9, 10], method="exact"), ParameterError, "method"),
    (lambda: S.nps_coverage_simulation([1 / 11] * 11, 1), ParameterError, "n must be"),
    (lambda: S.nps_coverage_simulation([1 / 11] * 11, 100, method="wald"), ParameterError, "method"),
    (lambda: S.nps_item_probabilities([0.0], mean=7, sd=-1, loading=0.8), ParameterError, "sd"),
    (lambda: S.classify_satisfaction(["high"]), DataValidationError, "must be numeric"),
    (lambda: S.relative_weights(np.ones((5, 2)), np.ones(5)), ParameterError, "DataFrame"),
    (lambda: S.relative_weights(pd.DataFrame({"a": [1.0, np.nan, 3, 4], "b": [1.0, 2, 2, 4]}), [1, 2, 3, 4]),
     DataValidationError, "missing"),
    (lambda: S.relative_weights(pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [1.0, 3, 2, 4]}), [1, np.nan, 3, 4]),
     DataValidationError, "y has 1 missing"),
    (lambda: S.importance_performance(pd.Series({"a": 1, "b": 2}), pd.Series({"c": 1, "d": 2})),
     ParameterError, "same drivers"),
    (lambda: S.importance_performance(pd.Series({"a": "high", "b": "low"}), pd.Series({"a": 1, "b": 2})),
     DataValidationError, "must be numbers"),
])
def test_bad_inputs_name_the_problem_and_the_fix(call, exc, msg):
    with pytest.raises(exc, match=msg) as e:
        call()
    if isinstance(e.value, CrmlabError):
        assert "Fix:" in str(e.value)


# ------------------------------------------------------------------------------------
# every bad input ends in a CrmlabError with a fix (None, empty, wrong type, NaN, inf, -1,
# huge counts, text for numbers, nested lists, duplicated ids)
# ------------------------------------------------------------------------------------
_ITEMS2 = ["q_trust", "q_emotional_connection"]
_BAD_CALLS = {
    "validate_responses(None)": lambda: S.validate_responses(None, ["q_trust"]),
    "validate_responses(empty frame)": lambda: S.validate_responses(pd.DataFrame(), ["q_trust"]),
    "validate_responses(inf answer)": lambda: S.validate_responses(_SV.assign(q_trust=[1.0, np.inf, 3, 4]), ["q_trust"]),
    "validate_responses(items=None)": lambda: S.validate_responses(_SV, None),
    "validate_responses(nested items)": lambda: S.validate_responses(_SV, [["q_trust"]]),
    "validate_responses(duplicated items)": lambda: S.validate_responses(_SV, ["q_trust", "q_trust"]),
    "item_scale(text scale)": lambda: S.item_scale("x", {"x": ("low", "high")}),
    "item_scale(inf scale)": lambda: S.item_scale("x", {"x": (1, np.inf)}),
    "item_scale(item_scales not a dict)": lambda: S.item_scale("x", [(1, 5)]),
    "reverse_code(None)": lambda: S.reverse_code(None),
    "scale_scores(None)": lambda: S.scale_scores(None),
    "scale_scores(scales a list)": lambda: S.scale_scores(_SV, ["q_trust"]),
    "scale_scores(text answers)": lambda: S.scale_scores(_SV.assign(q_trust="agree"), {"e": ["q_trust"]}),
    "cronbach_alpha(None)": lambda: S.cronbach_alpha(None, _ITEMS2),
    "cronbach_alpha(empty frame)": lambda: S.cronbach_alpha(_SV.iloc[:0], _ITEMS2),
    "cronbach_alpha(inf answer)": lambda: S.cronbach_alpha(_SV.assign(q_trust=[1.0, np.inf, 3, 4]), _ITEMS2),
    "cronbach_alpha(ci_level=0.05)": lambda: S.cronbach_alpha(_SV, _ITEMS2, ci_level=0.05),
    "cronbach_alpha(n_boot huge)": lambda: S.cronbach_alpha(_SV, _ITEMS2, method="bootstrap", n_boot=10**9),
    "cronbach_alpha(seed=None)": lambda: S.cronbach_alpha(_SV, _ITEMS2, method="bootstrap", seed=None),
    "reliability_table(ci_level=95)": lambda: S.reliability_table(_SV, {"e": _ITEMS2}, ci_level=95),
    "reliability_table(one item, off scale)": lambda: S.reliability_table(_SV.assign(q_trust=9), {"e": ["q_trust"]}),
    "top_box(None)": lambda: S.top_box(None),
    "top_box(a frame)": lambda: S.top_box(_SV),
    "top_box(text scale)": lambda: S.top_box([4, 5], scale=("a", "b")),
    "top_box(top=-1)": lambda: S.top_box([4, 5], top=-1),
    "csat_score(None)": lambda: S.csat_score(None),
    "csat_score(item_col missing)": lambda: S.csat_score(_SV, item_col="nps"),
    "csat_score(text answers)": lambda: S.csat_score(_SV.assign(csat_1_5=["4", "5", "x", "3"])),
    "effort_score(inf)": lambda: S.effort_score(_SV.assign(effort_1_7=[1.0, np.inf, 2, 3])),
    "effort_score(high_from text)": lambda: S.effort_score(_SV, high_from="5"),
    "nps(None)": lambda: S.nps(None),
    "nps(text)": lambda: S.nps("nine"),
    "nps(True/False)": lambda: S.nps([True, False]),
    "nps(2-d)": lambda: S.nps([[9, 10], [3, 4]]),
    "nps(inf)": lambda: S.nps([9.0, np.inf]),
    "nps(n_boot=-1)": lambda: S.nps([9, 10], method="bootstrap", n_boot=-1),
    "nps(n_boot huge)": lambda: S.nps([9, 10], method="bootstrap", n_boot=10**12),
    "nps(seed=-1)": lambda: S.nps([9, 10], method="bootstrap", seed=-1),
    "nps(ci_level=nan)": lambda: S.nps([9, 10], ci_level=np.nan),
    "nps_table(None)": lambda: S.nps_table(None),
    "nps_table(by nested)": lambda: S.nps_table(_SV, by=[["wave"]]),
    "nps_difference(b=None)": lambda: S.nps_difference([9, 10], None),
    "nps_difference(ids None in a)": lambda: S.nps_difference([9, 10], [9, 10], ids_a=[1, None], ids_b=[1, 2]),
    "nps_difference(duplicated ids)": lambda: S.nps_difference([9, 10], [9, 10], ids_a=[1, 1], ids_b=[1, 2]),
    "nps_difference(ids of other length)": lambda: S.nps_difference([9, 10], [9, 10], ids_a=[1], ids_b=[1, 2]),
    "nps_difference(ci_level=0.05)": lambda: S.nps_difference([9, 10], [9, 10], ci_level=0.05),
    "nps_item_probabilities(None)": lambda: S.nps_item_probabilities(None, mean=7, sd=2, loading=0.8),
    "nps_item_probabilities(inf)": lambda: S.nps_item_probabilities([0.0, np.inf], mean=7, sd=2, loading=0.8),
    "nps_item_probabilities(text)": lambda: S.nps_item_probabilities(["a"], mean=7, sd=2, loading=0.8),
    "nps_coverage_simulation(None)": lambda: S.nps_coverage_simulation(None, 100),
    "nps_coverage_simulation(text)": lambda: S.nps_coverage_simulation(["a"] * 11, 100),
    "nps_coverage_simulation(NaN)": lambda: S.nps_coverage_simulation([np.nan] * 11, 100),
    "nps_coverage_simulation(n_sims huge)": lambda: S.nps_coverage_simulation([1 / 11] * 11, 100, n_sims=10**9),
    "nps_coverage_simulation(n huge)": lambda: S.nps_coverage_simulation(np.full((5, 3), 1 / 3), 10**7, n_sims=1000),
    "nps_coverage_simulation(n text)": lambda: S.nps_coverage_simulation([1 / 11] * 11, "100"),
    "nps_coverage_simulation(weights text)": lambda: S.nps_coverage_simulation(np.full((2, 3), 1 / 3), 10,
                                                                                 weights=["a", "b"]),
    "classify_satisfaction(None)": lambda: S.classify_satisfaction(None),
    "classify_satisfaction(inf)": lambda: S.classify_satisfaction([5.0, np.inf]),
    "classify_satisfaction(True/False)": lambda: S.classify_satisfaction([True, False]),
    "classify_satisfaction(cuts text)": lambda: S.classify_satisfaction([5], cuts=("a", "b")),
    "classify_satisfaction(cuts one number)": lambda: S.classify_satisfaction([5], cuts=5),
    "classify_satisfaction(scale NaN)": lambda: S.classify_satisfaction([5], scale=(np.nan, 10)),
    "framework_scores(None)": lambda: S.framework_scores(None),
    "framework_summary(top=0)": lambda: S.framework_summary(_SV, top=0),
    "relative_weights(y None)": lambda: S.relative_weights(pd.DataFrame({"a": [1.0, 2, 3], "b": [3.0, 1, 2]}), None),
    "relative_weights(y text)": lambda: S.relative_weights(pd.DataFrame({"a": [1.0, 2, 3], "b": [3.0, 1, 2]}), ["a", "b", "c"]),
    "relative_weights(y inf)": lambda: S.relative_weights(pd.DataFrame({"a": [1.0, 2, 3], "b": [3.0, 1, 2]}), [1, np.inf, 2]),
    "relative_weights(X inf)": lambda: S.relative_weights(pd.DataFrame({"a": [1.0, np.inf, 3], "b": [3.0, 1, 2]}), [1, 3, 2]),
    "relative_weights(duplicated columns)": lambda: S.relative_weights(
        pd.DataFrame([[1.0, 2], [2, 1], [3, 5]], columns=["a", "a"]), [1, 3, 2]),
    "shapley_r2(empty X)": lambda: S.shapley_r2(pd.DataFrame({"a": [], "b": []}), []),
    "importance_performance(inf)": lambda: S.importance_performance(pd.Series({"a": 1.0, "b": np.inf}),
                                                                    pd.Series({"a": 1.0, "b": 2.0})),
    "importance_performance(None)": lambda: S.importance_performance(None, pd.Series({"a": 1.0})),
    "importance_performance(crosshair text)": lambda: S.importance_performance(
        pd.Series({"a": 1.0, "b": 2.0}), pd.Series({"a": 1.0, "b": 2.0}), crosshair=("a", "b")),
    "importance_performance(duplicated drivers)": lambda: S.importance_performance(
        pd.Series([1.0, 2.0], index=["a", "a"]), pd.Series([1.0, 2.0], index=["a", "a"])),
    "DriverAnalysis(ci_level=0.05)": lambda: S.DriverAnalysis(ci_level=0.05),
    "DriverAnalysis(seed=None)": lambda: S.DriverAnalysis(seed=None),
    "DriverAnalysis(n_boot text)": lambda: S.DriverAnalysis(n_boot="500"),
    "DriverAnalysis(min_respondents=0)": lambda: S.DriverAnalysis(min_respondents=0),
    "DriverAnalysis.fit(None)": lambda: S.DriverAnalysis(n_boot=0).fit(None),
    "DriverAnalysis.fit(empty frame)": lambda: S.DriverAnalysis(n_boot=0).fit(pd.DataFrame()),
    "DriverAnalysis.fit(drivers a dict of one)": lambda: S.DriverAnalysis(n_boot=0).fit(_SV, drivers={"e": _ITEMS2}),
    "DriverAnalysis.fit(driver column of text)": lambda: S.DriverAnalysis(n_boot=0).fit(
        _SV.assign(d1=["a", "b", "c", "d"], d2=1.0), outcome="csat_1_5", drivers=["d1", "d2"]),
    "DriverAnalysis.fit(outcome inf)": lambda: S.DriverAnalysis(n_boot=0).fit(
        pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 1, 4, 3, 5], "y": [1.0, 2, np.inf, 4, 5]}),
        outcome="y", drivers=["a", "b"]),
}


@pytest.mark.parametrize("call", list(_BAD_CALLS.values()), ids=list(_BAD_CALLS))
def test_bad_inputs_end_in_a_crmlab_error_with_a_fix(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        with pytest.raises(CrmlabError) as e:
            call()
    assert "Fix:" in str(e.value)


def test_text_answers_get_advice_that_fits_their_coding():
    with pytest.raises(ColumnError, match=r"numbers are stored as text.*pd.to_numeric"):
        S.csat_score(_SV.assign(csat_1_5=["4", "5", "2", "3"]))
    with pytest.raises(DataValidationError, match="holds labels.*not numbers"):
        S.nps(pd.Series(["promoter", "detractor"]))


# ------------------------------------------------------------------------------------
# property-based: random valid inputs give finite estimates or a named error/warning
# ------------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PROP = settings(max_examples=25, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@_PROP
@given(st.lists(st.integers(0, 10), min_size=1, max_size=300), st.sampled_from(["analytic", "bootstrap"]),
       st.floats(0.5, 0.999))
def test_property_nps_is_finite_and_bounded(scores, method, level):
    r = S.nps(scores, method=method, ci_level=level, n_boot=200, seed=1)
    assert np.isfinite(r.to_numpy(dtype=float)).all()
    assert -100 <= r["ci_lower"] <= r["nps"] <= r["ci_upper"] <= 100 or method == "bootstrap"
    assert -100 <= r["ci_lower"] <= r["ci_upper"] <= 100


@_PROP
@given(st.lists(st.integers(0, 10), min_size=1, max_size=200), st.lists(st.integers(0, 10), min_size=1, max_size=200))
def test_property_nps_difference_is_a_test_result(a, b):
    t = S.nps_difference(a, b)
    assert 0 <= t.p_value <= 1 and not np.isnan(t.statistic)
    assert np.isfinite(t.details["difference"]) and np.isfinite(t.details["std_error"])


@_PROP
@given(st.integers(3, 60), st.integers(2, 6), st.integers(0, 10_000))
def test_property_cronbach_alpha_finite_or_named_error(n, k, seed):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame(rng.integers(1, 6, size=(n, k)), columns=[f"i{j}" for j in range(k)])
    try:
        r = S.cronbach_alpha(d, list(d), item_scales={c: (1, 5) for c in d})
    except CrmlabError:
        return
    assert np.isfinite(r[["alpha", "ci_lower", "ci_upper"]].to_numpy(dtype=float)).all()
    assert r["ci_lower"] <= r["alpha"] <= r["ci_upper"]


@_PROP
@given(st.integers(4, 80), st.integers(2, 4), st.integers(0, 10_000), st.sampled_from(["relative_weights", "shapley"]))
def test_property_driver_analysis_finite_or_named_error(n, p, seed, method):
    rng = np.random.default_rng(seed)
    X = rng.integers(1, 6, size=(n, p)).astype(float)
    d = pd.DataFrame(X, columns=[f"d{j}" for j in range(p)]).assign(y=X.sum(axis=1) + rng.normal(size=n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        try:
            da = S.DriverAnalysis(method=method, n_boot=50, seed=seed).fit(d, outcome="y", drivers=list(d.columns[:-1]))
        except CrmlabError:
            return
    s = da.summary
    assert np.isfinite(s[["estimate", "importance", "importance_share", "raw_estimate"]].to_numpy()).all()
    assert np.isfinite(da.r2_) and 0 <= da.r2_ <= 1 + 1e-9
    assert s["importance_share"].sum() == pytest.approx(1.0)


@_PROP
@given(st.lists(st.floats(1, 10, allow_nan=False), min_size=1, max_size=50))
def test_property_classify_satisfaction_keeps_order(scores):
    c = S.classify_satisfaction(scores)
    codes = c.cat.codes.to_numpy()
    order = np.argsort(scores, kind="stable")
    assert (np.diff(codes[order]) >= 0).all() and (codes >= 0).all()
