"""Tests of crmlab.satisfaction_index: the ACSI-style SEM, measurement quality, the 0-100 index,
recovery of the planted paths and loadings."""

import logging
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from crmlab import satisfaction_index as SI
from crmlab.base import TestResult
from crmlab.errors import (
    ColumnError,
    ConvergenceError,
    CrmlabError,
    DataValidationError,
    ImproperSolutionError,
    ImproperSolutionWarning,
    NotFittedError,
    ParameterError,
)
from crmlab.satisfaction import QUESTIONNAIRE
from crmlab.synth import generate_world
from crmlab.synth.generate import CROSS_ITEM_R2, LATENTS, SURVEY_ITEMS, acsi_structure
from crmlab.synth.params import WorldParams

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def survey(shipped):
    return shipped.survey


@pytest.fixture(scope="module")
def acsi(survey):
    return SI.SatisfactionIndexModel("acsi").fit(survey)


@pytest.fixture(scope="module")
def big_acsi(big_world):
    return SI.SatisfactionIndexModel("acsi").fit(big_world.survey)


@pytest.fixture(scope="module")
def big_drivers(big_world):
    return SI.SatisfactionIndexModel("drivers").fit(big_world.survey)


# ------------------------------------------------------------------------------------
# specification and truth helpers
# ------------------------------------------------------------------------------------
def test_model_description_and_presets():
    d = SI.model_description(SI.ACSI_MEASUREMENT, SI.ACSI_STRUCTURE)
    assert "SAT =~ sat_overall + sat_confirm_expectations + sat_vs_ideal" in d
    assert "LOY ~ SAT + COMP" in d
    assert "q_service_quality" in SI.DRIVER_MEASUREMENT["attitude"]
    assert "q_service_quality" in SI.DRIVER_MEASUREMENT["efficiency"]
    assert set(SI.CONSTRUCT_NAMES) == set(SI.DRIVER_MEASUREMENT)


def test_model_spec_is_the_one_description_of_a_model():
    assert SI.model_spec("acsi") == (SI.ACSI_MEASUREMENT, SI.ACSI_STRUCTURE)
    assert SI.model_spec("drivers") == SI._spec("drivers", None, None)
    own = SI.model_spec(measurement={"A": ("a1", "a2")}, structure={"A": []})
    assert own == ({"A": ["a1", "a2"]}, {"A": []})
    m = SI.SatisfactionIndexModel("drivers")
    assert (m._meas, m._struct) == SI.model_spec("drivers")
    with pytest.raises(ParameterError, match="unknown model specification 'ecsi'"):
        SI.model_spec("ecsi")


def test_specification_errors():
    with pytest.raises(ParameterError, match="unknown model specification"):
        SI.SatisfactionIndexModel("ecsi")
    with pytest.raises(ParameterError, match="pass both"):
        SI.SatisfactionIndexModel(measurement=SI.ACSI_MEASUREMENT)
    with pytest.raises(ParameterError, match=r"\['TRUST'\] that have no items"):
        SI.SatisfactionIndexModel(measurement=SI.ACSI_MEASUREMENT, structure={"LOY": ["SAT", "TRUST"]})
    with pytest.raises(ParameterError, match="has no items"):
        SI.SatisfactionIndexModel(measurement={"A": []}, structure={})
    with pytest.raises(ParameterError, match="index_weights"):
        SI.SatisfactionIndexModel(index_weights="pls")


def test_latent_covariance_matches_the_generator(world):
    C = SI.latent_covariance(world.truth)
    G = acsi_structure()["cov"]
    assert list(C.index) == list(LATENTS)
    # truth.json rounds residual SDs to 6 decimals
    assert np.allclose(C.to_numpy(), G, atol=1e-5)
    with pytest.raises(ParameterError, match="acsi"):
        SI.latent_covariance({"survey": {}})


def test_population_paths_full_and_reduced(world):
    C = SI.latent_covariance(world.truth)
    full = SI.population_paths(SI.DRIVER_STRUCTURE, C)
    for key, v in world.truth["acsi"]["paths"].items():
        src, dst = key.split("->")
        assert full.loc[(src, dst), "population"] == pytest.approx(v, abs=1e-5)
    red = SI.population_paths(SI.ACSI_STRUCTURE, C)
    # SAT's equation omits nothing: equal to the planted paths
    for src in ("EXP", "PQ", "PV"):
        assert red.loc[(src, "SAT"), "population"] == pytest.approx(world.truth["acsi"]["paths"][f"{src}->SAT"], abs=1e-5)
    # LOY's equation omits emotion, correlated with SAT through the drivers: SAT -> LOY absorbs part of it
    assert red.loc[("SAT", "LOY"), "population"] > world.truth["acsi"]["paths"]["SAT->LOY"] + 0.02
    with pytest.raises(ParameterError, match="not in cov"):
        SI.population_paths({"SAT": ["TRUST"]}, C)


def test_discretised_loading():
    # a fine scale barely attenuates; a coarse 1-5 scale does
    assert SI.discretised_loading(0.8, 50, 15, 0, 100) == pytest.approx(0.8, abs=0.002)
    assert SI.discretised_loading(0.85, 3.7, 0.9, 1, 5) < 0.82
    with pytest.raises(ParameterError, match="sd > 0"):
        SI.discretised_loading(0.8, 3, 0, 1, 5)


def test_htmt_simple_structure():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(2000, 2))
    f[:, 1] = 0.5 * f[:, 0] + np.sqrt(0.75) * f[:, 1]
    d = pd.DataFrame({f"a{i}": f[:, 0] + rng.normal(size=2000) for i in range(3)}
                     | {f"b{i}": f[:, 1] + rng.normal(size=2000) for i in range(3)})
    h = SI.htmt(d, {"A": ["a0", "a1", "a2"], "B": ["b0", "b1", "b2"]})
    # with parallel items HTMT estimates the latent correlation (0.5)
    assert h.loc["A", "B"] == pytest.approx(0.5, abs=0.05) and h.loc["A", "B"] == h.loc["B", "A"]
    assert np.isnan(h.loc["A", "A"])


# ------------------------------------------------------------------------------------
# the fitted model
# ------------------------------------------------------------------------------------
def test_fit_results(acsi, survey):
    assert acsi.n_obs_ == len(survey) and acsi.n_free_ == 41
    assert list(acsi.paths_.index) == [(x, y) for y, xs in SI.ACSI_STRUCTURE.items() for x in xs]
    p = acsi.paths_
    assert ((p["ci_lower"] < p["estimate"]) & (p["estimate"] < p["ci_upper"])).all()
    assert acsi.fit_indices_["cfi"] > 0.95 and acsi.fit_indices_["rmsea"] < 0.05
    assert list(acsi.summary.columns[:5]) == ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]
    assert acsi.summary.attrs["ci_level"] == 0.95 and {"raw_estimate", "raw_std_error"} <= set(acsi.summary.columns)
    # CFI is normed: capped at 1 even when chi2 < df
    assert 0 <= acsi.fit_indices_["cfi"] <= 1
    t = acsi.fit_test_
    assert isinstance(t, TestResult) and t.statistic == acsi.fit_indices_["chi2"] and t.df == acsi.fit_indices_["dof"]
    assert acsi.r2_.between(0, 1).all()
    assert list(acsi.latent_corr_.index) == list(SI.ACSI_MEASUREMENT)
    assert np.allclose(np.diag(acsi.latent_corr_), 1)


def test_measurement_quality(acsi):
    rel = acsi.reliability_
    for c, its in SI.ACSI_MEASUREMENT.items():
        lam = acsi.loadings_.loc[c, "estimate"].to_numpy()
        th = 1 - lam ** 2  # single-loading items: standardised residual = 1 - loading^2
        assert rel.loc[c, "composite_reliability"] == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + th.sum()), abs=1e-3)
        assert rel.loc[c, "ave"] == pytest.approx(np.mean(lam ** 2))
        assert rel.loc[c, "k"] == len(its)
    # the planted measurement is good: CR > 0.7, AVE > 0.5, discriminant validity holds
    assert (rel["composite_reliability"] > 0.7).all() and (rel["ave"] > 0.5).all()
    assert rel["fornell_larcker_ok"].all()
    h = acsi.htmt_
    assert np.allclose(h.fillna(0), h.T.fillna(0)) and np.nanmax(h.to_numpy()) < 0.85


def test_index_weights_and_scores(acsi, survey):
    w = acsi.weights_
    assert np.allclose(w.groupby("construct")["weight"].sum(), 1.0)
    assert (w["weight"] > 0).all()
    # all-lowest answers -> 0, all-highest -> 100
    lo = survey.head(2).copy()
    hi = survey.head(2).copy()
    for it in acsi.items_:
        lo[it], hi[it] = QUESTIONNAIRE.loc[it, "low"], QUESTIONNAIRE.loc[it, "high"]
    assert np.allclose(acsi.index_scores(lo), 0) and np.allclose(acsi.index_scores(hi), 100)
    sc = acsi.index_scores(survey)
    assert acsi.index_.loc["SAT", "estimate"] == pytest.approx(sc["SAT"].mean())
    eq = SI.SatisfactionIndexModel("acsi", index_weights="equal").fit(survey)
    pomp = ((survey[SI.ACSI_MEASUREMENT["SAT"]] - 1) / 9 * 100).mean(axis=1)
    assert eq.index_.loc["SAT", "estimate"] == pytest.approx(pomp.mean())
    # the model weights follow the loadings: the best SAT item gets the largest weight
    best = acsi.loadings_.loc["SAT", "estimate"].idxmax()
    assert acsi.weights_.loc["SAT", "weight"].idxmax() == best
    t = acsi.index_table(survey, by="wave")
    assert set(t.index.get_level_values(0)) == {1, 2} and (t["ci_lower"] < t["estimate"]).all()
    with pytest.raises(ColumnError, match="no column"):
        acsi.index_table(survey, by="segment")


def test_bootstrap_is_seeded(acsi, survey):
    m = SI.SatisfactionIndexModel("acsi").fit(survey)
    a = m.bootstrap(survey, 25, seed=3)
    b = SI.SatisfactionIndexModel("acsi").fit(survey).bootstrap(survey, 25, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert {"boot_ci_lower", "boot_ci_upper"} <= set(m.summary.columns)
    # bootstrap and delta-method intervals agree in width (within a factor of 2; 25 resamples only)
    wb = m.paths_["boot_ci_upper"] - m.paths_["boot_ci_lower"]
    wd = m.paths_["ci_upper"] - m.paths_["ci_lower"]
    assert ((wb / wd).between(0.5, 1.5)).all()


def test_path_diagram_and_driver_importance(acsi):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse, FancyArrowPatch

    ax = acsi.plot_path_diagram()
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    nodes = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(arrows) == len(acsi.paths_) and len(nodes) == 6
    labels = [t.get_text() for t in ax.texts]
    assert any(t.startswith(f"{acsi.paths_.loc[('SAT', 'LOY'), 'estimate']:.2f}") for t in labels)
    te = acsi.driver_importance("SAT")
    assert list(te.index) == ["EXP"]
    # total effect of EXP on SAT = direct + via PQ + via PV + via PQ -> PV
    p = acsi.paths_["estimate"]
    total = (p[("EXP", "SAT")] + p[("EXP", "PQ")] * p[("PQ", "SAT")] + p[("EXP", "PV")] * p[("PV", "SAT")]
             + p[("EXP", "PQ")] * p[("PQ", "PV")] * p[("PV", "SAT")])
    assert te["EXP"] == pytest.approx(total)
    with pytest.raises(ParameterError, match="unknown construct"):
        acsi.driver_importance("NPS")
    plt.close("all")


def test_custom_model_layout(survey):
    m = SI.SatisfactionIndexModel(measurement={"Q": SI.ACSI_MEASUREMENT["PQ"], "S": SI.ACSI_MEASUREMENT["SAT"],
                                               "L": SI.ACSI_MEASUREMENT["LOY"]},
                                  structure={"S": ["Q"], "L": ["S"]}).fit(survey)
    assert m.spec == "acsi" and m.measurement is not None and len(m.paths_) == 2
    ax = m.plot_path_diagram()
    assert ax.get_title().startswith("Custom model")
    import matplotlib.pyplot as plt

    plt.close("all")


# ------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------
def test_bad_inputs(survey):
    m = SI.SatisfactionIndexModel("acsi")
    with pytest.raises(DataValidationError, match=r"'sat_overall'.*outside \[1, 10\].*Fix"):
        m.fit(survey.assign(sat_overall=survey["sat_overall"] + 1))
    with pytest.raises(DataValidationError, match="missing value.*Fix"):
        m.fit(survey.assign(pq_overall=survey["pq_overall"].where(survey.index != 5)))
    with pytest.raises(DataValidationError, match=r"constant.*Fix: drop constant items"):
        m.fit(survey.assign(exp_overall=7))
    with pytest.raises(DataValidationError, match="only 150 respondents.*41 free parameters.*Fix: pool waves"):
        m.fit(survey.head(150))
    with pytest.raises(ColumnError, match="missing item column"):
        m.fit(survey.drop(columns="comp_voiced"))
    with pytest.raises(ParameterError, match="DataFrame"):
        m.fit(survey.to_numpy())
    with pytest.raises(ConvergenceError, match="did not converge.*Fix: raise max_iter"):
        SI.SatisfactionIndexModel("acsi", max_iter=2).fit(survey)
    dup = survey.assign(pv_quality_given_price=survey["pv_price_given_quality"])
    with pytest.raises(DataValidationError, match="near-duplicate items: pv_price_given_quality ~ "
                                                  r"pv_quality_given_price \(r = 1.0000\).*Fix: keep one"):
        m.fit(dup)
    with pytest.raises(DataValidationError, match="near-duplicate"):  # a reverse-keyed copy is a duplicate too
        m.fit(survey.assign(comp_problems=11 - survey["sat_overall"]))
    with pytest.raises(NotFittedError, match="not fitted"):
        SI.SatisfactionIndexModel("acsi").index_scores(survey)
    with pytest.raises(ParameterError, match="max_iter"):
        SI.SatisfactionIndexModel(max_iter=0)


def test_linearly_dependent_items_are_refused(survey):
    """No pair duplicates, but one item is the sum of two others: the covariance matrix is singular."""
    cols = ["a", "b", "c", "d"]
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(size=(300, 3)), columns=cols[:3])
    x["d"] = x["a"] + x["b"] + x["c"]
    with pytest.raises(DataValidationError, match="linearly dependent.*Fix: drop derived items"):
        SI._check_not_collinear(x)
    SI._check_not_collinear(x[cols[:3]])  # independent items pass


def test_improper_estimates_flags_heywood_cases():
    """The Heywood detector on a hand-made semopy inspect table (a fitted Heywood case depends on
    the optimiser's path, so the rule itself is tested here, and the fit path by the test above)."""
    t = pd.DataFrame({
        "lval": ["x1", "x2", "x3", "x1", "x2", "x3", "F", "G"],
        "op": ["~", "~", "~", "~~", "~~", "~~", "~~", "~"],
        "rval": ["F", "F", "F", "x1", "x2", "x3", "F", "F"],
        "Estimate": [1.0, 0.9, 1.1, 0.4, 0.3, 0.2, 1.0, 2.0],
        "Est. Std": [0.8, 0.7, 0.9, 0.36, 0.51, 0.19, 1.0, 1.5],  # G ~ F is structural: not a loading
    })
    assert SI.improper_estimates(t, ["F", "G"]) == []
    neg = t.assign(Estimate=t["Estimate"].where(t.index != 5, -0.01))
    assert SI.improper_estimates(neg, ["F", "G"]) == ["x3"]
    over = t.assign(**{"Est. Std": t["Est. Std"].where(t.index != 1, -1.02)})
    assert SI.improper_estimates(over, ["F", "G"]) == ["x2"]
    both = neg.assign(**{"Est. Std": over["Est. Std"]})
    assert SI.improper_estimates(both, ["F", "G"]) == ["x3", "x2"]
    with pytest.raises(ColumnError, match=r"'Est. Std'.*Fix"):  # inspect() without std_est=True
        SI.improper_estimates(t.drop(columns="Est. Std"), ["F", "G"])
    with pytest.raises(ParameterError, match="DataFrame"):
        SI.improper_estimates(t.to_numpy(), ["F", "G"])


@pytest.mark.parametrize("call, exc, msg", [
    (lambda s, m: SI.htmt(s, {"SAT": SI.ACSI_MEASUREMENT["SAT"]}), ParameterError, "at least two constructs"),
    (lambda s, m: SI.htmt(s.drop(columns="sat_overall"), SI.ACSI_MEASUREMENT), ColumnError, "sat_overall"),
    (lambda s, m: SI.htmt(s.assign(sat_overall=np.nan), SI.ACSI_MEASUREMENT), DataValidationError, "missing"),
    (lambda s, m: SI.htmt(s.assign(sat_overall=5), SI.ACSI_MEASUREMENT), DataValidationError, "constant"),
    (lambda s, m: SI.htmt(s.assign(sat_overall="high"), SI.ACSI_MEASUREMENT), ColumnError, "numeric"),
    (lambda s, m: SI.compare_with_truth("acsi", {}), ParameterError, "fitted SatisfactionIndexModel"),
    (lambda s, m: SI.compare_with_truth(m, {"survey": {}}), ParameterError, "acsi"),
    (lambda s, m: SI.population_paths(SI.ACSI_STRUCTURE, np.eye(6)), ParameterError, "DataFrame"),
    (lambda s, m: SI.discretised_loading(0.8, 3, 1, 5, 1), ParameterError, "high > low"),
    (lambda s, m: SI.discretised_loading(float("nan"), 3, 1, 1, 5), ParameterError, "finite"),
    (lambda s, m: m.index_table(s, by=[1, 2]), ParameterError, "by has 2 entries"),
    (lambda s, m: m.index_scores(s.drop(columns="loy_repurchase")), ColumnError, "loy_repurchase"),
    (lambda s, m: m.index_scores(s.assign(loy_repurchase=11)), DataValidationError, "outside"),
    (lambda s, m: m.bootstrap(s, n_boot=5), ParameterError, "n_boot"),
    (lambda s, m: SI.SatisfactionIndexModel().plot_path_diagram(), NotFittedError, "not fitted"),
    (lambda s, m: SI.SatisfactionIndexModel(measurement={"A": ["x1", "x2"]}, structure={}).fit(s),
     ColumnError, "missing item column"),
    (lambda s, m: SI.SatisfactionIndexModel(measurement={"A": ["age", "wave"], "B": ["sat_overall", "sat_vs_ideal"]},
                                            structure={"B": ["A"]}, min_respondents=10).fit(
        s.assign(age=np.where(s.index == 0, np.nan, 30.0))), DataValidationError, "missing"),
    (lambda s, m: SI.SatisfactionIndexModel(min_ratio=-1), ParameterError, "min_ratio"),
    (lambda s, m: SI.SatisfactionIndexModel(ci_level=95), ParameterError, "ci_level"),
])
def test_bad_inputs_name_the_problem_and_the_fix(call, exc, msg, survey, acsi):
    with pytest.raises(exc, match=msg) as e:
        call(survey, acsi)
    assert "Fix:" in str(e.value)


def test_custom_items_without_a_scale_need_scales_for_the_index(survey):
    noise = np.random.default_rng(3).integers(-2, 3, len(survey))
    d = survey.assign(extra=np.clip(2.0 * survey["sat_overall"] + noise, 2, 20))  # a 2-20 item
    spec = {"measurement": {"Q": SI.ACSI_MEASUREMENT["PQ"], "S": [*SI.ACSI_MEASUREMENT["SAT"], "extra"]},
            "structure": {"S": ["Q"]}}
    with pytest.raises(ParameterError, match=r"scale of \['extra'\] is unknown.*Fix: pass item_scales="):
        SI.SatisfactionIndexModel(**spec).fit(d)
    m = SI.SatisfactionIndexModel(**spec).fit(d, item_scales={"extra": (2, 20)})
    assert m.index_.loc["S", "estimate"] == pytest.approx(m.index_scores(d)["S"].mean())


# ------------------------------------------------------------------------------------
# recovery of the planted truth (30,000-customer world, ~13,700 responses)
# ------------------------------------------------------------------------------------
# Tolerance for standardised paths: 3 standard errors + 0.02. The 0.02 allows for what the
# population target ignores: respondents are selected on satisfaction (non-response,
# truth.survey.response_satisfaction_logit) and wave 2 shifts service efficiency in live
# branches; regressing the respondents' TRUE latents shows these move the coefficients by
# up to ~0.015 (seeds 11-13).
def _tol(se):
    return 3 * se + 0.02


def test_acsi_paths_recover_population_targets(big_acsi, big_world):
    cmp = SI.compare_with_truth(big_acsi, big_world.truth)
    se = big_acsi.paths_["std_error"]
    bad = cmp[(cmp["difference"].abs() > _tol(se))]
    assert bad.empty, cmp
    # the reduced model's SAT -> LOY is above the planted 0.55 (absorbs emotion), as the target says
    assert cmp.loc[("SAT", "LOY"), "estimate"] > cmp.loc[("SAT", "LOY"), "planted"]


def _loading_targets(model, truth) -> pd.DataFrame:
    """Estimated standardised loadings next to the planted ones (truth.acsi.loadings, which
    already include params.survey.loading_scale) attenuated by rounding to whole answers
    (``discretised_loading`` with the generator's item means and SDs)."""
    planted = truth["acsi"]["loadings"]
    rows = []
    for (_c, it), row in model.loadings_.iterrows():
        if it not in planted:  # the cross-loading item has no single planted loading
            continue
        _, lo, hi, mean, sd, _, _ = SURVEY_ITEMS[it]
        lam = abs(planted[it]["loading"])
        rows.append((it, row["estimate"], lam, SI.discretised_loading(lam, mean, sd, lo, hi)))
    return pd.DataFrame(rows, columns=["item", "estimate", "planted", "target"])


def test_loadings_recover_planted_loadings(big_acsi, big_drivers, big_world):
    """Tolerance 0.03: 3 SE of a loading at n = 13,700 is ~0.015, plus selection on
    satisfaction (respondents have a narrower range of satisfaction, which lowers
    standardised loadings a little)."""
    t = pd.concat([_loading_targets(m, big_world.truth) for m in (big_acsi, big_drivers)])
    assert (t["estimate"] - t["target"]).abs().max() < 0.03, t
    assert len(t) == 16 + 31  # 16 ACSI items, then 31 items of the driver model
    # the item written to span two drivers: x* = sum_k w_k * latent_k * sqrt(R2 / w'Cw) + noise,
    # so its standardised loadings are w_k * sqrt(R2 / w'Cw), attenuated by rounding like the others
    spec = big_world.truth["acsi"]["items"]["q_service_quality"]["latents"]
    names = list(spec)
    w = np.array([spec[k] for k in names])
    C = SI.latent_covariance(big_world.truth).loc[names, names].to_numpy()
    _, lo, hi, mean, sd, _, _ = SURVEY_ITEMS["q_service_quality"]
    target = w * np.sqrt(CROSS_ITEM_R2 / (w @ C @ w)) * SI.discretised_loading(1.0, mean, sd, lo, hi)
    est = big_drivers.loadings_.xs("q_service_quality", level="item").loc[names, "estimate"].to_numpy()
    assert np.abs(est - target).max() < 0.03, (est, target)


def test_driver_model_recovers_planted_paths_and_ranks(big_drivers, big_world):
    cmp = SI.compare_with_truth(big_drivers, big_world.truth)
    assert cmp["planted"].notna().all()
    assert np.allclose(cmp["planted"], cmp["population"], atol=1e-5)  # the full model = the planted one
    se = big_drivers.paths_["std_error"]
    assert (cmp["difference"].abs() <= _tol(se)).all(), cmp
    te = big_drivers.driver_importance("SAT")
    truth = big_world.truth["acsi"]
    planted = pd.Series(truth["driver_total_effects_on_satisfaction"])
    drivers = [d for d in te.index if d in planted.index]
    assert list(te[drivers].sort_values(ascending=False).index) == truth["driver_rank"]
    assert (te[drivers] - planted[drivers]).abs().max() < 0.03


# the generator's latent names (world.latent columns) of the model's constructs
_LATENT_COLUMNS = {"EXP": "expectation", "product": "driver_product", "attitude": "driver_attitude",
                   "efficiency": "driver_efficiency", "purchase": "driver_purchase", "price": "driver_price",
                   "emotion": "driver_emotion", "PQ": "perceived_quality", "PV": "perceived_value",
                   "SAT": "satisfaction", "COMP": "complaint_intent", "LOY": "loyalty"}


@pytest.mark.parametrize("spec", ["acsi", "drivers"])
def test_paths_recover_the_respondents_true_latent_regression(spec, big_acsi, big_drivers, big_world):
    """A sharper target with no allowance: the standardised regressions of the respondents'
    TRUE latent scores (world.latent, one row per response). This target already contains
    what the population target ignores (selection of respondents on satisfaction, which
    customers were sampled), so the SEM estimate, which sees only the noisy 1-10 and 1-5
    answers, must land within 3 of its standard errors of it. (Baseline latents: the
    go-live shift of wave 2 is left out; it moves no path by more than 0.01.)"""
    model = big_acsi if spec == "acsi" else big_drivers
    sv = big_world.survey
    lat = big_world.latent.set_index("customer_id").loc[sv["customer_id"], list(_LATENT_COLUMNS.values())]
    lat.columns = list(_LATENT_COLUMNS)
    z = (lat - lat.mean()) / lat.std()
    target = {}
    for y, xs in model.structure_.items():
        b = np.linalg.lstsq(z[xs].to_numpy(), z[y].to_numpy(), rcond=None)[0]
        target.update({(x, y): v for x, v in zip(xs, b, strict=True)})
    target = pd.Series(target).reindex(model.paths_.index)
    dev = (model.paths_["estimate"] - target) / model.paths_["std_error"]
    assert dev.abs().max() < 3, pd.DataFrame({"estimate": model.paths_["estimate"], "target": target, "z": dev})
    # compare_with_truth reports the same target beside the population one (issue 12, item 6)
    cmp = SI.compare_with_truth(model, big_world.truth, latent=big_world.latent, survey=sv)
    np.testing.assert_allclose(cmp["respondent_target"], target, atol=1e-10)
    np.testing.assert_allclose(cmp["respondent_difference"], model.paths_["estimate"] - target, atol=1e-10)
    assert cmp["covered_respondent"].all() and list(cmp.columns[-3:]) == ["respondent_target", "respondent_difference",
                                                                          "covered_respondent"]


def test_recovery_checks_fail_against_a_wrong_truth(world):
    """The recovery checks read the truth of the world they are given and can fail: a world
    planted with other paths and weaker loadings passes them against its own truth and
    fails them against the default world's truth."""
    p = WorldParams().override({"satisfaction.paths.SAT->LOY": 0.35, "satisfaction.paths.PQ->SAT": 0.30,
                                "satisfaction.paths.PV->SAT": 0.50, "survey.loading_scale": 0.9})
    other = generate_world(seed=7, n_customers=12_000, params=p)
    m = SI.SatisfactionIndexModel("acsi").fit(other.survey)
    tol = _tol(m.paths_["std_error"])
    own = SI.compare_with_truth(m, other.truth)
    assert (own["difference"].abs() <= tol).all(), own
    wrong = SI.compare_with_truth(m, world.truth)
    off = wrong.index[wrong["difference"].abs() > tol]
    assert set(off) == {("PQ", "SAT"), ("PV", "SAT"), ("SAT", "LOY")}, wrong
    # loadings: 5,600 responses, so 0.04 (3 SE ~ 0.025 plus selection)
    assert (_loading_targets(m, other.truth).eval("estimate - target").abs() < 0.04).all()
    assert (_loading_targets(m, world.truth).eval("estimate - target").abs() > 0.04).sum() >= 10


def test_shipped_world_intervals_cover_most_targets(acsi, shipped):
    cmp = SI.compare_with_truth(acsi, shipped.truth)
    # 9 paths, 95% intervals: at least 7 should cover (P(<= 6 of 9) < 0.01)
    assert cmp["covered"].sum() >= 7


@pytest.mark.parametrize("measurement,structure,match", [
    ({}, {}, "non-empty dict"),
    ({"SAT": []}, {}, "construct 'SAT' needs a list"),
    ({"SAT": "sat_overall"}, {}, "construct 'SAT' needs a list"),
    ({"SAT": ["a", "b"]}, {"LOY": "SAT"}, r"structure\['LOY'\]"),
    ({"SAT": ["a", "b"]}, [("LOY", ["SAT"])], "structure must be a dict"),
])
def test_model_description_bad_input(measurement, structure, match):
    with pytest.raises(CrmlabError, match=match) as info:
        SI.model_description(measurement, structure)
    assert "Fix:" in str(info.value)


# ------------------------------------------------------------------------------------
# every bad input ends in a CrmlabError with a fix
# ------------------------------------------------------------------------------------
_BAD_CALLS = {
    "SatisfactionIndexModel(spec a list)": lambda s, m: SI.SatisfactionIndexModel(["acsi"]),
    "SatisfactionIndexModel(measurement a list)": lambda s, m: SI.SatisfactionIndexModel(
        measurement=[("SAT", ["sat_overall"])], structure={}),
    "SatisfactionIndexModel(items a number)": lambda s, m: SI.SatisfactionIndexModel(measurement={"SAT": 3}, structure={}),
    "SatisfactionIndexModel(self-loop)": lambda s, m: SI.SatisfactionIndexModel(
        measurement={"A": ["a1", "a2"]}, structure={"A": ["A"]}),
    "SatisfactionIndexModel(item twice)": lambda s, m: SI.SatisfactionIndexModel(
        measurement={"A": ["a1", "a1"]}, structure={}),
    "SatisfactionIndexModel(ci_level=0.05)": lambda s, m: SI.SatisfactionIndexModel(ci_level=0.05),
    "SatisfactionIndexModel(min_ratio inf)": lambda s, m: SI.SatisfactionIndexModel(min_ratio=np.inf),
    "SatisfactionIndexModel(min_respondents text)": lambda s, m: SI.SatisfactionIndexModel(min_respondents="200"),
    "SatisfactionIndexModel(max_iter huge)": lambda s, m: SI.SatisfactionIndexModel(max_iter=10**12),
    "SatisfactionIndexModel(index_weights typo)": lambda s, m: SI.SatisfactionIndexModel(index_weights="models"),
    "fit(None)": lambda s, m: SI.SatisfactionIndexModel().fit(None),
    "fit(empty frame)": lambda s, m: SI.SatisfactionIndexModel().fit(s.iloc[:0]),
    "fit(inf answer)": lambda s, m: SI.SatisfactionIndexModel().fit(s.assign(sat_overall=np.where(s.index == 4, np.inf, s["sat_overall"]))),
    "fit(text answers)": lambda s, m: SI.SatisfactionIndexModel().fit(s.assign(sat_overall=s["sat_overall"].astype(str))),
    "fit(item_scales a list)": lambda s, m: SI.SatisfactionIndexModel().fit(s, item_scales=[(1, 10)]),
    "fit(duplicated column names)": lambda s, m: SI.SatisfactionIndexModel().fit(
        pd.concat([s, s[["sat_overall"]]], axis=1)),
    "index_table(by NaN labels)": lambda s, m: m.index_table(s, by=np.where(s.index == 0, np.nan, 1.0)),
    "index_table(by a dict)": lambda s, m: m.index_table(s, by={"wave": 1}),
    "index_scores(None)": lambda s, m: m.index_scores(None),
    "bootstrap(n_boot huge)": lambda s, m: m.bootstrap(s, n_boot=10**9),
    "bootstrap(seed=None)": lambda s, m: m.bootstrap(s, n_boot=20, seed=None),
    "driver_importance(a list)": lambda s, m: m.driver_importance(["SAT"]),
    "plot_path_diagram(decimals=-1)": lambda s, m: m.plot_path_diagram(decimals=-1),
    "compare_with_truth(truth None)": lambda s, m: SI.compare_with_truth(m, None),
    "latent_covariance(truncated truth)": lambda s, m: SI.latent_covariance({"acsi": {"paths": {"EXP->PQ": 0.2}}}),
    "latent_covariance(malformed path)": lambda s, m: SI.latent_covariance({"acsi": {"paths": {"EXP PQ": 0.2}}}),
    "population_paths(structure a list)": lambda s, m: SI.population_paths([("SAT", ["PQ"])], m.latent_corr_),
    "population_paths(predictors a number)": lambda s, m: SI.population_paths({"SAT": 1}, m.latent_corr_),
    "population_paths(singular cov)": lambda s, m: SI.population_paths(
        {"C": ["A", "B"]}, pd.DataFrame(np.ones((3, 3)), index=list("ABC"), columns=list("ABC"))),
    "model_description(items a number)": lambda s, m: SI.model_description({"A": 1}, {}),
    "discretised_loading(inf)": lambda s, m: SI.discretised_loading(np.inf, 3, 1, 1, 5),
    "htmt(None)": lambda s, m: SI.htmt(None, SI.ACSI_MEASUREMENT),
    "htmt(inf)": lambda s, m: SI.htmt(s.assign(sat_overall=np.inf), SI.ACSI_MEASUREMENT),
}


@pytest.mark.parametrize("call", list(_BAD_CALLS.values()), ids=list(_BAD_CALLS))
def test_bad_inputs_end_in_a_crmlab_error_with_a_fix(call, survey, acsi):
    with pytest.raises(CrmlabError) as e:
        call(survey, acsi)
    assert "Fix:" in str(e.value)


def test_unfitted_model_raises_not_fitted(survey):
    m = SI.SatisfactionIndexModel()
    for call in (lambda: m.summary, lambda: m.index_scores(survey), lambda: m.index_table(survey),
                 lambda: m.bootstrap(survey, 20), lambda: m.driver_importance(), lambda: SI.compare_with_truth(m, {})):
        with pytest.raises(NotFittedError, match="SatisfactionIndexModel is not fitted"):
            call()
    assert "not fitted" in repr(m)


# ------------------------------------------------------------------------------------
# property-based: random valid surveys give finite estimates or a named error
# ------------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _two_construct_survey(n, loadings, path, seed):
    """Items on a 1-7 scale from X -> Y with the given standardised loadings and path."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = path * x + np.sqrt(1 - path ** 2) * rng.normal(size=n)
    cols = {}
    for name, f in (("x", x), ("y", y)):
        for j, lam in enumerate(loadings):
            cols[f"{name}{j}"] = np.clip(np.rint(4 + 1.3 * (lam * f + np.sqrt(1 - lam ** 2) * rng.normal(size=n))), 1, 7)
    return pd.DataFrame(cols)


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(60, 400), st.lists(st.floats(0.3, 0.99), min_size=1, max_size=4), st.floats(-0.9, 0.9),
       st.integers(0, 10_000))
def test_property_sem_finite_or_named_error(n, loadings, path, seed):
    d = _two_construct_survey(n, loadings, path, seed)
    k = len(loadings)
    meas = {"X": [f"x{j}" for j in range(k)], "Y": [f"y{j}" for j in range(k)]}
    scales = {c: (1, 7) for c in d}
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            m = SI.SatisfactionIndexModel(measurement=meas, structure={"Y": ["X"]}, min_respondents=50,
                                          min_ratio=2).fit(d, item_scales=scales)
        except CrmlabError:
            return
    warned = any(issubclass(w.category, ImproperSolutionWarning) for w in rec)
    assert warned == (not m.improper_.empty)  # an improper solution always comes with the warning
    fi = m.fit_indices_
    if fi["dof"] > 0:
        assert 0 <= fi["cfi"] <= 1 and 0 <= m.fit_test_.p_value <= 1
    else:  # a saturated model (two single items) has no test of fit, and says so
        assert np.isnan(fi["cfi"]) and "saturated" in m.fit_test_.details["note"]
    if warned:
        return
    s = m.summary
    assert np.isfinite(s["estimate"]).all() and np.isfinite(m.loadings_["estimate"]).all()
    assert (s["estimate"].abs() <= 1).all() and (m.loadings_["estimate"].abs() <= 1).all()
    assert np.isfinite(m.index_["estimate"]).all() and m.index_["estimate"].between(0, 100).all()


# ------------------------------------------------------------------------------------
# issue 12 (2): an improper solution is never returned silently
# ------------------------------------------------------------------------------------
def _halo_survey(seed: int, n: int = 250) -> pd.DataFrame:
    """A deliberately degenerate, real-like ACSI survey of n = 250 respondents with a halo effect:
    one general impression drives perceived quality, perceived value and satisfaction (latent
    correlations about .998 and .995), and the loyalty answers repeat satisfaction (.999). Items
    are 1-10 answers (0-10 for the recommend item) with loadings .78-.88, as in a real ACSI
    questionnaire. Such data reproduce the symptoms of issue 12: standardised paths beyond +-1 of
    opposite sign, R² = 1, latent correlations of 1 and a singular information matrix."""
    rng = np.random.default_rng(seed)

    def noise(r):
        return np.sqrt(1 - r ** 2) * rng.normal(size=n)

    exp_ = rng.normal(size=n)
    g = 0.3 * exp_ + np.sqrt(0.91) * rng.normal(size=n)
    pq, pv = 0.998 * g + noise(0.998), 0.998 * g + noise(0.998)
    sat = 0.995 * g + noise(0.995)
    lat = {"EXP": exp_, "PQ": pq, "PV": pv, "SAT": sat, "COMP": -0.4 * sat + noise(0.4), "LOY": 0.999 * sat + noise(0.999)}
    cols = {}
    for c, items in SI.ACSI_MEASUREMENT.items():
        for lam, it in zip((0.88, 0.82, 0.78), items, strict=False):
            x = lam * lat[c] + np.sqrt(1 - lam ** 2) * rng.normal(size=n)
            cols[it] = np.clip(np.rint(7 + 1.8 * x), 0 if it == "recommend_0_10" else 1, 10)
    return pd.DataFrame(cols)


def _problems(model) -> dict:
    return {(r.problem, r.where): r.value for r in model.improper_.itertuples()}


def test_improper_solution_of_a_halo_survey_warns_with_what_to_do():
    d = _halo_survey(seed=2)
    with pytest.warns(ImproperSolutionWarning, match=r"(?s)improper solution.*What to do:.*strict=True") as rec:
        m = SI.SatisfactionIndexModel("acsi").fit(d)
    assert len(rec) == 1
    p = _problems(m)
    # the symptoms: two standardised paths beyond +-1 of opposite sign, R² = 1, latent r ~ 1
    assert p[("standardised path above 1", "PQ -> SAT")] > 1.5 and p[("standardised path above 1", "PV -> SAT")] < -1
    assert m.paths_.loc[("PQ", "SAT"), "estimate"] == p[("standardised path above 1", "PQ -> SAT")]
    assert p[("R² of (almost) 1, disturbance variance near zero", "SAT")] >= 0.999
    assert p[("latent correlation near 1", "SAT ~~ LOY")] >= 0.99
    assert set(m.improper_.columns) == {"problem", "where", "value", "limit", "advice"}
    assert m.improper_["advice"].str.len().min() > 40  # each problem says what to do
    assert "nearly collinear" in m.improper_.set_index("where").loc["PQ -> SAT", "advice"]
    # the warning lists the same problems
    text = str(rec[0].message)
    assert "PQ -> SAT = 2." in text and "PV -> SAT = -1." in text and "SAT ~~ LOY" in text
    assert "IMPROPER solution (8 problems)" in repr(m)


def test_strict_turns_an_improper_solution_into_an_error():
    d = _halo_survey(seed=2)
    m = SI.SatisfactionIndexModel("acsi", strict=True)
    with pytest.raises(ImproperSolutionError, match=r"(?s)standardised path above 1: PQ -> SAT.*Fix: act on the list"):
        m.fit(d)
    assert isinstance(ImproperSolutionError("x"), ConvergenceError)
    assert "not fitted" in repr(m) and not hasattr(m, "summary")
    with pytest.raises(ParameterError, match="strict must be True or False"):
        SI.SatisfactionIndexModel(strict="yes")


@pytest.mark.parametrize("seed, why", [
    (8, "semopy's Cholesky fails: it logs 'Fisher Information Matrix is not PD' and uses a pseudo-inverse"),
    (13, "Cholesky succeeds on a numerically singular matrix (condition ~1e-17): standard errors in the millions"),
])
def test_a_singular_information_matrix_is_caught_not_logged(seed, why, capfd):
    d = _halo_survey(seed=seed)
    root = logging.getLogger()
    before = (list(root.handlers), list(root.filters), root.level)
    with pytest.warns(ImproperSolutionWarning, match="information matrix not positive definite"):
        m = SI.SatisfactionIndexModel("acsi").fit(d)
    assert ("information matrix not positive definite (singular)", "the whole model") in _problems(m), why
    assert "WARNING:root" not in capfd.readouterr().err  # semopy's bare log line no longer escapes
    assert (list(root.handlers), list(root.filters), root.level) == before


def test_proper_solutions_raise_no_warning(survey):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImproperSolutionWarning)
        for spec in ("acsi", "drivers"):
            m = SI.SatisfactionIndexModel(spec).fit(survey)
            assert m.improper_.empty and list(m.improper_.columns) == ["problem", "where", "value", "limit", "advice"]


def test_the_sample_size_guard_explains_itself_and_can_be_lowered(survey):
    small = survey.head(150)
    with pytest.raises(DataValidationError, match=r"only 150 respondents.*41 free parameters.*Bentler & Chou.*"
                                                  r"improper solution.*Fix: pool waves.*min_ratio=3, "
                                                  r"min_respondents=150"):
        SI.SatisfactionIndexModel("acsi").fit(small)
    m = SI.SatisfactionIndexModel("acsi", min_ratio=3, min_respondents=150).fit(small)
    assert m.n_obs_ == 150 and np.isfinite(m.summary["estimate"]).all()


# ------------------------------------------------------------------------------------
# issue 12 (2): what the literature's models say - residual covariances, fixed parameters,
# single-item constructs
# ------------------------------------------------------------------------------------
def _two_factor_world(n, seed, resid_r=0.0, path=0.6):
    """Six 1-7 items, X -> Y (standardised path), with a planted residual correlation between x1 and
    y1 (the same wording asked about two things: shared method variance)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = path * x + np.sqrt(1 - path ** 2) * rng.normal(size=n)
    lam = 0.8
    e = rng.normal(size=(n, 6)) * np.sqrt(1 - lam ** 2)
    shared = rng.normal(size=n)
    e[:, 0] = np.sqrt(1 - lam ** 2) * (np.sqrt(1 - resid_r) * e[:, 0] / np.sqrt(1 - lam ** 2) + np.sqrt(resid_r) * shared)
    e[:, 3] = np.sqrt(1 - lam ** 2) * (np.sqrt(1 - resid_r) * e[:, 3] / np.sqrt(1 - lam ** 2) + np.sqrt(resid_r) * shared)
    f = np.column_stack([x, x, x, y, y, y])
    return pd.DataFrame(lam * f + e, columns=["x1", "x2", "x3", "y1", "y2", "y3"])


_XY = {"X": ["x1", "x2", "x3"], "Y": ["y1", "y2", "y3"]}
_SCALES = {c: (-10.0, 10.0) for c in ["x1", "x2", "x3", "y1", "y2", "y3"]}


def test_residual_covariance_recovers_the_planted_method_effect():
    """Planted: a residual correlation of 0.4 between x1 and y1 (continuous items, n = 4,000).
    Without it the model misfits and overstates X -> Y; with covariances=[("x1", "y1")] the fit is
    exact, the residual correlation is recovered, and the path comes back to the planted 0.6."""
    d = _two_factor_world(4000, seed=5, resid_r=0.4)
    plain = SI.SatisfactionIndexModel(measurement=_XY, structure={"Y": ["X"]}).fit(d, item_scales=_SCALES)
    withcov = SI.SatisfactionIndexModel(measurement=_XY, structure={"Y": ["X"]},
                                        covariances=[("x1", "y1")]).fit(d, item_scales=_SCALES)
    assert plain.fit_test_.p_value < 1e-6 and withcov.fit_test_.p_value > 0.01
    assert withcov.n_free_ == plain.n_free_ + 1 and withcov.fit_test_.df == plain.fit_test_.df - 1
    assert "x1 ~~ y1" in withcov.description_
    r = withcov.covariances_.loc[("x1", "y1")]
    assert abs(r["estimate"] - 0.4 * (1 - 0.8 ** 2)) < 3 * r["std_error"] + 0.01  # planted covariance of the errors
    assert r["ci_lower"] < r["estimate"] < r["ci_upper"] and r["p_value"] < 1e-6
    path = withcov.paths_.loc[("X", "Y")]
    assert abs(path["estimate"] - 0.6) < 3 * path["std_error"]
    assert plain.paths_.loc[("X", "Y"), "estimate"] > path["estimate"] + 0.02


def test_fixed_parameters_are_held_at_their_values():
    d = _two_factor_world(1500, seed=6)
    free = SI.SatisfactionIndexModel(measurement=_XY, structure={"Y": ["X"]}).fit(d, item_scales=_SCALES)
    zero = SI.SatisfactionIndexModel(measurement=_XY, structure={"Y": ["X"]},
                                     fixed={("Y", "~", "X"): 0.0}).fit(d, item_scales=_SCALES)
    assert zero.n_free_ == free.n_free_ - 1 and "Y ~ 0*X" in zero.description_
    p = zero.paths_.loc[("X", "Y")]
    assert p["raw_estimate"] == 0.0 and np.isnan(p["raw_std_error"])
    assert zero.fit_test_.statistic > free.fit_test_.statistic + 100  # a wrong constraint is rejected
    # a fixed loading sets the construct's scale instead of the first item
    scaled = SI.SatisfactionIndexModel(measurement=_XY, structure={"Y": ["X"]},
                                       fixed={("X", "=~", "x2"): 0.5}).fit(d, item_scales=_SCALES)
    assert scaled.loadings_.loc[("X", "x2"), "raw_estimate"] == 0.5
    assert scaled.fit_test_.statistic == pytest.approx(free.fit_test_.statistic, rel=1e-4)  # same model, rescaled
    assert scaled.paths_.loc[("X", "Y"), "estimate"] == pytest.approx(free.paths_.loc[("X", "Y"), "estimate"], abs=2e-3)


@pytest.mark.parametrize("kwargs, match", [
    ({"covariances": [("x1", "nope")]}, "neither items nor constructs"),
    ({"covariances": [("x1", "x1")]}, "with itself"),
    ({"covariances": [("x1", "Y")]}, "an item with a construct"),
    ({"covariances": [("x1", "y1"), ("y1", "x1")]}, "listed twice"),
    ({"covariances": "x1 ~~ y1"}, "list of pairs"),
    ({"fixed": {("Y", "~", "Z"): 0.0}}, "no path Z -> Y"),
    ({"fixed": {("X", "=~", "y1"): 1.0}}, "not an item of construct 'X'"),
    ({"fixed": {("x1", "~~", "x1"): -0.1}}, "negative"),
    ({"fixed": {("x1", "~~", "x1"): np.inf}}, "finite"),
    ({"fixed": {("x1", "<-", "X"): 1.0}}, "operator"),
    ({"fixed": {"x1": 1.0}}, "triples"),
    ({"single_item_reliability": 0.0}, "single_item_reliability"),
    ({"single_item_reliability": 1.5}, "single_item_reliability"),
])
def test_bad_covariances_and_fixed_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match) as e:
        SI.SatisfactionIndexModel(measurement=_XY, structure={"Y": ["X"]}, **kwargs)
    assert "Fix:" in str(e.value)


def test_single_item_construct_is_identified_by_its_fixed_error_variance(survey):
    """A one-item construct (the NPS question) is identified by fixing its error variance at
    (1 - r) x its variance. r = 1 makes the construct the item; a lower r disattenuates its paths
    by 1 / sqrt(r), as classical test theory says."""
    meas = {"PQ": SI.ACSI_MEASUREMENT["PQ"], "SAT": SI.ACSI_MEASUREMENT["SAT"], "NPS": ["recommend_0_10"]}
    struct = {"SAT": ["PQ"], "NPS": ["SAT"]}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImproperSolutionWarning)
        one = SI.SatisfactionIndexModel(measurement=meas, structure=struct).fit(survey)
        r8 = SI.SatisfactionIndexModel(measurement=meas, structure=struct, single_item_reliability=0.8).fit(survey)
    var = survey["recommend_0_10"].var()
    assert "recommend_0_10 ~~ 0*recommend_0_10" in one.description_
    assert one.loadings_.loc[("NPS", "recommend_0_10"), "residual_variance"] == 0.0
    assert r8.loadings_.loc[("NPS", "recommend_0_10"), "residual_variance"] == pytest.approx(0.2 * var)
    b1, b8 = one.paths_.loc[("SAT", "NPS"), "estimate"], r8.paths_.loc[("SAT", "NPS"), "estimate"]
    assert b8 == pytest.approx(b1 / np.sqrt(0.8), rel=0.01)
    # with r = 1 the path is the correlation of SAT with the item itself (up to the model's fit)
    assert abs(b1 - np.corrcoef(survey[SI.ACSI_MEASUREMENT["SAT"]].mean(axis=1), survey["recommend_0_10"])[0, 1]) < 0.1
    assert one.reliability_.loc["NPS", "k"] == 1 and np.isnan(one.htmt_.loc["NPS", "SAT"])
    assert one.weights_.loc[("NPS", "recommend_0_10"), "weight"] == 1.0
    assert one.index_.loc["NPS", "estimate"] == pytest.approx(10 * survey["recommend_0_10"].mean())
    # the user's own fixed error variance takes precedence
    own = SI.SatisfactionIndexModel(measurement=meas, structure=struct,
                                    fixed={("recommend_0_10", "~~", "recommend_0_10"): 0.5}).fit(survey)
    assert own.loadings_.loc[("NPS", "recommend_0_10"), "residual_variance"] == 0.5


def test_single_item_loyalty_recovers_the_planted_path_with_the_true_reliability(big_world):
    """Recovery: LOY measured by the recommend item alone, its reliability set to the planted one
    (the planted loading squared, attenuated by rounding to 0-10 answers): SAT -> LOY and
    COMP -> LOY land on the same population targets as the three-item ACSI model."""
    truth = big_world.truth
    _, lo, hi, mean, sd, _, _ = SURVEY_ITEMS["recommend_0_10"]
    lam = SI.discretised_loading(abs(truth["acsi"]["loadings"]["recommend_0_10"]["loading"]), mean, sd, lo, hi)
    meas = {**SI.ACSI_MEASUREMENT, "LOY": ["recommend_0_10"]}
    m = SI.SatisfactionIndexModel(measurement=meas, structure=SI.ACSI_STRUCTURE,
                                  single_item_reliability=lam ** 2).fit(big_world.survey)
    cmp = SI.compare_with_truth(m, truth)
    for key in [("SAT", "LOY"), ("COMP", "LOY")]:
        assert abs(cmp.loc[key, "difference"]) <= _tol(m.paths_.loc[key, "std_error"]), cmp
    # treating the item as error-free (r = 1) attenuates SAT -> LOY by about the loading
    naive = SI.SatisfactionIndexModel(measurement=meas, structure=SI.ACSI_STRUCTURE).fit(big_world.survey)
    assert naive.paths_.loc[("SAT", "LOY"), "estimate"] < cmp.loc[("SAT", "LOY"), "population"] - 0.05


def test_compare_with_truth_respondent_target_arguments(acsi, shipped):
    sv = shipped.survey
    plain = SI.compare_with_truth(acsi, shipped.truth)
    assert "respondent_target" not in plain
    both = SI.compare_with_truth(acsi, shipped.truth, latent=shipped.latent, survey=sv)
    pd.testing.assert_frame_equal(both[plain.columns], plain)
    # respondents are selected on satisfaction: their target differs from the population one
    assert (both["respondent_target"] - both["population"]).abs().max() > 0.01
    with pytest.raises(ParameterError, match="both latent= and survey="):
        SI.compare_with_truth(acsi, shipped.truth, latent=shipped.latent)
    with pytest.raises(ParameterError, match="fitted on 2197"):
        SI.compare_with_truth(acsi, shipped.truth, latent=shipped.latent, survey=sv.head(10))
    with pytest.raises(DataValidationError, match="not in latent.*Fix: pass the latent table"):
        SI.respondent_paths(SI.ACSI_STRUCTURE, shipped.latent.iloc[5:], sv)
    with pytest.raises(DataValidationError, match="duplicated customer ids"):
        SI.respondent_paths(SI.ACSI_STRUCTURE, pd.concat([shipped.latent, shipped.latent.head(1)]), sv)
    custom = SI.respondent_paths({"Z": ["SAT"]}, shipped.latent, sv)
    assert custom["respondent_target"].isna().all()  # no generator latent behind Z


@pytest.mark.slow
def test_intervals_cover_the_respondents_target_not_quite_the_population_one():
    """Issue 12 (6), measured over fresh seeds: respondents are selected on satisfaction (and wave 2
    shifts live branches), so the ACSI intervals cover the population target less often than 95%
    (measured for the report: 93.9% over 100 default worlds, 91.9% over 40 worlds of 15,000
    customers), while the respondents' target, which contains the selection, is covered at least
    at the nominal rate (99.7%: conservative, since it conditions on the respondents' latent scores)."""
    rows = []
    for seed in range(3000, 3024):
        w = generate_world(seed=seed)
        m = SI.SatisfactionIndexModel("acsi").fit(w.survey)
        rows.append(SI.compare_with_truth(m, w.truth, latent=w.latent, survey=w.survey))
    d = pd.concat(rows)
    assert len(d) == 24 * 9
    assert d["covered_respondent"].mean() >= 0.95
    assert d["covered_respondent"].mean() >= d["covered"].mean() + 0.02, d[["covered", "covered_respondent"]].mean()
    # the population target sits off the respondents' by a small but systematic amount
    gap = (d["respondent_target"] - d["population"]).groupby(level=[0, 1]).mean()
    assert gap.abs().max() > 0.01
