"""crmlab.service: service-process metrics, CSAT ordered logit, Erlang C, supply chain, partners."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from crmlab import service as sv
from crmlab.errors import (
    ColumnError,
    CrmlabError,
    DataValidationError,
    NotFittedError,
    ParameterError,
)

TICKET_CHANNELS = ("phone", "online_chat", "email", "app")  # order of ServiceParams tuples


@pytest.fixture(scope="module")
def csat_big(big_world):
    return sv.CsatOrderedLogit().fit(big_world.tickets)


@pytest.fixture(scope="module")
def rt_big(big_world):
    return sv.ResponseTimeModel().fit(big_world.tickets, big_world.customers, big_world.branches)


@pytest.fixture(scope="module")
def panel_big(big_world):
    return sv.SupplyChainPanel().fit(big_world.b2b_accounts)


def _fix_in(err):
    assert "Fix:" in str(err.value)


# --- service-process metrics ----------------------------------------------------------------
def test_service_metrics_by_channel_and_stage(world):
    tk = world.tickets
    m = sv.service_metrics(tk, by="channel")
    assert m["tickets"].sum() == len(tk)
    phone = tk[tk["channel"] == "phone"]
    assert m.loc["phone", "median_first_response_h"] == phone["first_response_hours"].median()
    assert m.loc["phone", "fcr_rate"] == pytest.approx(phone["first_contact_resolution"].mean())
    assert m.loc["phone", "sla_attainment"] == pytest.approx(phone["sla_met"].mean())
    assert m.loc["phone", "csat_response_rate"] == pytest.approx(phone["post_ticket_csat"].notna().mean())
    both = sv.service_metrics(tk, by=["channel", "stage"])
    assert len(both) == 12 and both["tickets"].sum() == len(tk)
    # complaints are mostly after sale (planted stage mix)
    st = sv.service_metrics(tk, by="stage")
    assert st["complaint_share"].idxmax() == "after_sale"


def test_sla_recomputed_from_the_planted_targets_matches_the_flag(world):
    targets = dict(zip(TICKET_CHANNELS, world.truth["params"]["service"]["sla_hours"], strict=True))
    a = sv.service_metrics(world.tickets, sla_hours=targets)["sla_attainment"]
    b = sv.service_metrics(world.tickets)["sla_attainment"]
    pd.testing.assert_series_equal(a, b)
    looser = sv.service_metrics(world.tickets, sla_hours={k: 2 * v for k, v in targets.items()})
    assert (looser["sla_attainment"] >= a).all()


def test_service_metrics_bad_input(world):
    tk = world.tickets.copy()
    tk.loc[tk.index[2], "first_response_hours"] = -0.5
    with pytest.raises(DataValidationError, match="first_response_hours.*negative") as err:
        sv.service_metrics(tk)
    _fix_in(err)
    tk = world.tickets.copy()
    tk.loc[tk.index[4], "resolution_hours"] = tk.loc[tk.index[4], "first_response_hours"] / 2
    with pytest.raises(DataValidationError, match="resolved before the first response") as err:
        sv.service_metrics(tk)
    _fix_in(err)
    with pytest.raises(ParameterError, match="no target for channel"):
        sv.service_metrics(world.tickets, sla_hours={"phone": 0.25})
    with pytest.raises(ParameterError, match="positive finite hours"):
        sv.service_metrics(world.tickets, sla_hours=dict.fromkeys(TICKET_CHANNELS, -1))
    with pytest.raises(DataValidationError, match="empty"):
        sv.service_metrics(world.tickets.iloc[:0])
    with pytest.raises(CrmlabError, match="missing required column"):
        sv.service_metrics(world.tickets.drop(columns="stage"))


# --- response-time drivers ------------------------------------------------------------------------
def test_response_time_model_recovers_golive_and_channel_effects(big_world, rt_big):
    """Recovery: the go-live cut in log first-response time and the channel gaps
    (truth: golive.log_response_time_effect and params.service.channel_log_response_hours)
    lie inside the 95% CIs on the 30,000-customer world."""
    s = rt_big.summary
    truth = big_world.truth["golive"]["log_response_time_effect"]
    assert s.loc["crm_live", "ci_lower"] < truth < s.loc["crm_live", "ci_upper"]
    means = dict(zip(TICKET_CHANNELS, big_world.truth["params"]["service"]["channel_log_response_hours"],
                     strict=True))
    base = rt_big.baseline_channel_
    for ch in TICKET_CHANNELS:
        if ch == base:
            continue
        row = s.loc[f"channel[{ch}]"]
        assert row["ci_lower"] < means[ch] - means[base] < row["ci_upper"], ch
    assert s.loc["complaint", "estimate"] > 0  # complaints wait longer
    assert s.loc["crm_live", "pct_change"] == pytest.approx(np.expm1(s.loc["crm_live", "estimate"]))


def test_response_time_model_bad_input(world):
    tk = world.tickets.copy()
    tk.loc[tk.index[0], "first_response_hours"] = 0.0
    with pytest.raises(DataValidationError, match="of 0 h") as err:
        sv.ResponseTimeModel().fit(tk, world.customers, world.branches)
    _fix_in(err)
    with pytest.raises(DataValidationError, match="not in customers"):
        sv.ResponseTimeModel().fit(world.tickets, world.customers.iloc[10:], world.branches)
    with pytest.raises(NotFittedError, match="not fitted"):
        _ = sv.ResponseTimeModel().summary


# --- service level -> satisfaction (ordered logit) ------------------------------------------------
def test_csat_ordered_logit_recovers_planted_coefficients(big_world, csat_big):
    """Recovery: coefficients of the planted ordered logit of post-ticket CSAT
    (truth.service.post_ticket_csat_ordered_logit) lie inside the 95% CIs; the cut points
    are estimated within 0.1 (their SEs are about 0.03-0.05 at 43,000 answered tickets)."""
    truth = big_world.truth["service"]["post_ticket_csat_ordered_logit"]
    s = csat_big.summary
    for term, key in (("log_first_response_hours", "log_first_response_hours"),
                      ("first_contact_resolution", "first_contact_resolution"), ("complaint", "complaint")):
        assert s.loc[term, "ci_lower"] < truth[key] < s.loc[term, "ci_upper"], term
    np.testing.assert_allclose(csat_big.cutpoints_, truth["cutpoints"], atol=0.1)


def test_csat_predictions(csat_big):
    X = pd.DataFrame({"log_first_response_hours": np.log([0.05, 1.0, 24.0]),
                      "first_contact_resolution": 1.0, "complaint": 0.0})
    p = csat_big.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    assert list(p.columns) == [1, 2, 3, 4, 5]
    top2 = csat_big.predict_top2(X)
    assert top2.is_monotonic_decreasing  # slower answers, fewer satisfied customers
    ax = csat_big.plot_response_curve()
    assert ax.get_xscale() == "log"
    plt.close("all")


def test_csat_ordered_logit_on_the_shipped_tickets(shipped):
    m = sv.CsatOrderedLogit().fit(shipped.tickets)
    assert m.n_obs_ == shipped.tickets["post_ticket_csat"].notna().sum()
    assert (np.diff(m.cutpoints_) > 0).all()


def test_csat_bad_input(world):
    with pytest.raises(DataValidationError, match="at least 50") as err:
        sv.CsatOrderedLogit().fit(world.tickets.head(40))
    _fix_in(err)
    tk = world.tickets.copy()
    i = tk.index[tk["post_ticket_csat"].notna()][0]
    tk.loc[i, "post_ticket_csat"] = 7
    with pytest.raises(DataValidationError, match="CSAT scores outside"):
        sv.CsatOrderedLogit().fit(tk)
    with pytest.raises(NotFittedError, match="not fitted"):
        sv.CsatOrderedLogit().predict_proba(pd.DataFrame())


# --- Erlang C staffing -----------------------------------------------------------------------------
def test_erlang_c_closed_forms():
    # M/M/1: P(wait) = rho, ASA = rho / (mu - lambda)
    r = sv.erlang_c(calls_per_hour=30, aht_seconds=60, agents=1)
    assert r["p_wait"] == pytest.approx(0.5)
    assert r["asa_seconds"] == pytest.approx(0.5 * 60 / (1 - 0.5))
    # M/M/2: P(wait) = 2 rho^2 / (1 + rho), rho = A / 2
    r = sv.erlang_c(calls_per_hour=60, aht_seconds=90, agents=2)
    rho = (60 * 90 / 3600) / 2
    assert r["p_wait"] == pytest.approx(2 * rho ** 2 / (1 + rho))
    assert r["service_level"] == pytest.approx(1 - r["p_wait"] * np.exp(-(2 - 1.5) * 20 / 90))
    # too few agents: the queue never clears
    r = sv.erlang_c(calls_per_hour=120, aht_seconds=180, agents=6)
    assert not r["stable"] and r["service_level"] == 0


def test_erlang_c_agrees_with_simulation():
    """Replication of the formula by discrete-event simulation: service level within 0.015
    (the simulation's standard error with 200,000 calls is about 0.003-0.005)."""
    for agents in (8, 9, 11):
        f = sv.erlang_c(120, 180, agents)
        s = sv.simulate_call_centre(120, 180, agents, n_calls=200_000, seed=agents)
        assert abs(f["service_level"] - s["service_level"]) < 0.015, agents
        assert abs(f["p_wait"] - s["p_wait"]) < 0.015, agents
        assert s["stable"] and s["traffic_erlangs"] == pytest.approx(6.0)


def test_simulated_unstable_queue_is_flagged_and_keeps_growing():
    """6 agents for 6 Erlangs: no steady state, so the average wait grows with the run length."""
    short = sv.simulate_call_centre(120, 180, 6, n_calls=2_000, seed=3)
    long = sv.simulate_call_centre(120, 180, 6, n_calls=40_000, seed=3)
    assert not short["stable"] and not long["stable"]
    assert long["asa_seconds"] > 3 * short["asa_seconds"]  # 7.1x with this seed; ~sqrt(20) expected
    # one more agent and the queue settles: the run's average wait is near Erlang C's
    stable = sv.simulate_call_centre(120, 180, 7, n_calls=40_000, seed=3)
    assert stable["stable"] and stable["asa_seconds"] < short["asa_seconds"] / 3
    assert stable["asa_seconds"] == pytest.approx(sv.erlang_c(120, 180, 7)["asa_seconds"], rel=0.25)


def test_staffing_table_and_required_agents():
    t = sv.staffing_table(360, 240, shrinkage=0.3)
    assert t["service_level"].is_monotonic_increasing and t["asa_seconds"].is_monotonic_decreasing
    n = sv.required_agents(360, 240)
    assert sv.erlang_c(360, 240, n)["service_level"] >= 0.8 > sv.erlang_c(360, 240, n - 1)["service_level"]
    assert t.loc[t["agents"] == n, "scheduled_agents"].item() == int(np.ceil(n / 0.7))
    assert int(t.loc[t["meets_target"], "agents"].min()) == n


def test_erlang_bad_input():
    with pytest.raises(ParameterError, match="calls_per_hour") as err:
        sv.erlang_c(-5, 180, 3)
    _fix_in(err)
    with pytest.raises(ParameterError, match="agents"):
        sv.erlang_c(100, 180, 0)
    with pytest.raises(ParameterError, match="aht_seconds"):
        sv.staffing_table(100, 0)
    with pytest.raises(ParameterError, match="shrinkage"):
        sv.staffing_table(100, 180, shrinkage=1.0)
    with pytest.raises(ParameterError, match="target_level"):
        sv.required_agents(100, 180, target_level=1.0)


# --- supply chain --------------------------------------------------------------------------------
def test_supply_chain_fixed_effects_recover_planted_effects(big_world, panel_big):
    """Recovery: account-FE coefficients of delivery performance on account satisfaction and of
    satisfaction on logit share of wallet (truth.supply_chain) lie inside the 95% CIs; pooled OLS,
    confounded by account size, misses the fill-rate effect."""
    t = big_world.truth["supply_chain"]
    truth = {"on_time_rate": t["satisfaction_per_point_on_time"], "fill_rate": t["satisfaction_per_point_fill_rate"],
             "lead_time_days": t["satisfaction_per_day_lead_time"],
             "defect_rate": t["satisfaction_per_point_defect_rate"]}
    s = panel_big.summary
    sat = s.loc["account_satisfaction"]
    for term, value in truth.items():
        assert sat.loc[term, "ci_lower"] < value < sat.loc[term, "ci_upper"], term
    sow = s.loc[("logit_share_of_wallet", "account_satisfaction")]
    assert sow["ci_lower"] < t["share_of_wallet_logit_per_satisfaction_point"] < sow["ci_upper"]
    assert sat.loc["fill_rate", "pooled_estimate"] > sat.loc["fill_rate", "ci_upper"]
    assert panel_big.satisfaction_change({"lead_time_days": -1}) == pytest.approx(
        -panel_big.coef_["lead_time_days"])


def test_supply_chain_metrics(world):
    b2b = world.b2b_accounts
    m = sv.supply_chain_metrics(b2b, by="month")
    first = b2b[b2b["month"] == b2b["month"].min()]
    row = m.iloc[0]
    assert row["accounts"] == first["account_id"].nunique()
    assert row["on_time_rate"] == pytest.approx(np.average(first["on_time_rate"], weights=first["orders"]))
    assert row["attrition_rate"] == pytest.approx(first["churned"].mean())


def test_supply_chain_bad_input(world):
    b2b = world.b2b_accounts.copy()
    b2b.loc[b2b.index[0], "on_time_rate"] = 130.0
    with pytest.raises(DataValidationError, match="on_time_rate.*outside") as err:
        sv.SupplyChainPanel().fit(b2b)
    _fix_in(err)
    b2b = world.b2b_accounts.copy()
    b2b.loc[b2b.index[0], "lead_time_days"] = -2.0
    with pytest.raises(DataValidationError, match="lead_time_days.*negative"):
        sv.supply_chain_metrics(b2b)
    few = world.b2b_accounts[world.b2b_accounts["account_id"].isin(world.b2b_accounts["account_id"].unique()[:5])]
    with pytest.raises(DataValidationError, match="fewer than 10 accounts"):
        sv.SupplyChainPanel().fit(few)
    fitted = sv.SupplyChainPanel().fit(world.b2b_accounts)
    with pytest.raises(ParameterError, match="unknown driver"):
        fitted.satisfaction_change({"price": 1})


# --- partner selection -------------------------------------------------------------------------
W = {"size": 0.2, "strength": 0.5, "reputation": 0.3}


def test_partner_scores():
    p = sv.example_partners(8, seed=3)
    pd.testing.assert_frame_equal(p, sv.example_partners(8, seed=3))
    s = sv.partner_scores(p, W)
    assert s["score"].between(0, 100).all() and s["rank"].tolist() == sorted(s["rank"])
    z = (p[list(W)] - p[list(W)].min()) / (p[list(W)].max() - p[list(W)].min())
    expected = 100 * (z * pd.Series(W)).sum(axis=1)
    np.testing.assert_allclose(s.set_index("partner_id")["score"].loc[p["partner_id"]], expected)
    dominant = pd.DataFrame({"partner_id": ["A", "B"], "size": [2, 1], "strength": [2, 1], "reputation": [2, 1]})
    assert sv.partner_scores(dominant, W)["score"].tolist() == [100, 0]


def test_partner_weight_sensitivity_and_acceptability():
    p = sv.example_partners(8, seed=3)
    sens = sv.partner_weight_sensitivity(p, W, "reputation", grid=[0, 0.3, 1])
    at_one = sens[sens["weight"] == 1].set_index("partner_id")["rank"]
    by_rep = p.set_index("partner_id")["reputation"].rank(ascending=False, method="min").astype(int)
    pd.testing.assert_series_equal(at_one.sort_index(), by_rep.sort_index(), check_names=False)
    base = sens[sens["weight"] == 0.3].set_index("partner_id")["score"]
    np.testing.assert_allclose(base.sort_index(), sv.partner_scores(p, W).set_index("partner_id")["score"].sort_index())
    ax = sv.plot_partner_sensitivity(sv.partner_weight_sensitivity(p, W, "reputation"), "reputation", 0.3)
    assert ax.get_xlabel() == "weight of reputation"
    plt.close("all")
    ra = sv.rank_acceptability(p, W, n_draws=500, seed=1)
    assert ra["p_first"].sum() == pytest.approx(1)
    assert ra.iloc[0]["partner_id"] == sv.partner_scores(p, W).iloc[0]["partner_id"]
    pd.testing.assert_frame_equal(ra, sv.rank_acceptability(p, W, n_draws=500, seed=1))


def test_partner_bad_input():
    p = sv.example_partners(5, seed=1)
    with pytest.raises(ParameterError, match="sum to 1") as err:
        sv.partner_scores(p, {"size": 0.5, "strength": 0.5, "reputation": 0.5})
    _fix_in(err)
    with pytest.raises(ParameterError, match=r"missing \['reputation'\]"):
        sv.partner_scores(p, {"size": 0.5, "strength": 0.5})
    with pytest.raises(DataValidationError, match="duplicated"):
        sv.partner_scores(pd.concat([p, p.head(1)]), W)
    with pytest.raises(ParameterError, match="not one of"):
        sv.partner_weight_sensitivity(p, W, "price")
    with pytest.raises(ParameterError, match="grid"):
        sv.partner_weight_sensitivity(p, W, "size", grid=[0.5, 2])
    nan = p.copy()
    nan.loc[0, "strength"] = np.nan
    with pytest.raises(DataValidationError, match="missing"):
        sv.partner_scores(nan, W)


@pytest.mark.parametrize("args,kwargs,match", [
    ((-5, 180, 10), {}, "calls_per_hour must be > 0"),
    ((120, 0, 10), {}, "aht_seconds"),
    ((120, 180, 0), {}, "agents"),
    ((120, 180, 2.5), {}, "agents"),
    ((120, 180, 8), {"n_calls": 10}, "n_calls"),
])
def test_simulate_call_centre_bad_input(args, kwargs, match):
    with pytest.raises(CrmlabError, match=match) as info:
        sv.simulate_call_centre(*args, **kwargs)
    assert "Fix:" in str(info.value)


# --- issue 10: results contract, vocabulary, finished validation, properties -------------------
def test_fitters_report_in_the_standard_layout(world):
    rt = sv.ResponseTimeModel().fit(world.tickets, world.customers, world.branches)
    s = rt.summary
    assert list(s.columns) == ["estimate", "std_error", "ci_lower", "ci_upper", "p_value", "pct_change"]
    assert s.attrs["ci_level"] == 0.95 and rt.n_obs_ == len(world.tickets)
    narrow = sv.ResponseTimeModel(ci_level=0.8).fit(world.tickets, world.customers, world.branches).summary
    assert ((narrow["ci_upper"] - narrow["ci_lower"]) < (s["ci_upper"] - s["ci_lower"])).all()
    pd.testing.assert_series_equal(narrow["estimate"], s["estimate"])
    assert repr(rt).startswith("ResponseTimeModel(), fitted on 11,059 tickets: ")
    assert repr(sv.ResponseTimeModel(ci_level=0.8)) == "ResponseTimeModel(ci_level=0.8) (not fitted)"
    cs = sv.CsatOrderedLogit().fit(world.tickets)
    assert list(cs.summary.columns) == ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]
    panel = sv.SupplyChainPanel().fit(world.b2b_accounts)
    ps = panel.summary
    assert ps.index.names == ["equation", "term"]
    assert list(ps.columns[:6]) == ["estimate", "std_error", "ci_lower", "ci_upper", "p_value", "pooled_estimate"]
    assert "account-months of" in repr(panel)


def test_supply_chain_panel_drivers_and_key_in_fit(world):
    b2b = world.b2b_accounts.rename(columns={"account_id": "acct"})
    two = sv.SupplyChainPanel().fit(b2b, drivers=["on_time_rate", "lead_time_days"], id_col="acct")
    assert two.drivers_ == ["on_time_rate", "lead_time_days"]
    assert list(two.summary.loc["account_satisfaction"].index) == ["on_time_rate", "lead_time_days"]
    with pytest.raises(ParameterError, match="unknown driver"):
        two.satisfaction_change({"fill_rate": 1})
    with pytest.raises(ParameterError, match="more than once"):
        sv.SupplyChainPanel().fit(world.b2b_accounts, drivers=["fill_rate", "fill_rate"])
    with pytest.raises(ParameterError, match="may not include the outcome"):
        sv.SupplyChainPanel().fit(world.b2b_accounts, drivers=["account_satisfaction"])


def _tk(world):
    return world.tickets


SERVICE_BAD = [
    ("alpha passed as ci_level", lambda w: sv.ResponseTimeModel(ci_level=0.05), ParameterError,
     r"did you mean ci_level=0.95"),
    ("ci_level of 1", lambda w: sv.CsatOrderedLogit(ci_level=1.0), ParameterError, "ci_level"),
    ("tickets None", lambda w: sv.service_metrics(None), ParameterError, "tickets must be a pandas DataFrame"),
    ("FCR coded Yes/No", lambda w: sv.service_metrics(_tk(w).assign(
        first_contact_resolution=_tk(w)["first_contact_resolution"].map({True: "Yes", False: "No"}))),
     DataValidationError, r"map\(\{'Yes': 1, 'No': 0\}\)"),
    ("SLA flag coded 1/2", lambda w: sv.service_metrics(_tk(w).assign(sla_met=_tk(w)["sla_met"].astype(int) + 1)),
     DataValidationError, "== 2"),
    ("inf response time", lambda w: sv.service_metrics(_tk(w).assign(
        first_response_hours=np.r_[np.inf, _tk(w)["first_response_hours"][1:]])), DataValidationError, "infinite"),
    ("inf SLA target", lambda w: sv.service_metrics(_tk(w), sla_hours={"phone": np.inf, "online_chat": 0.1,
                                                                        "email": 24, "app": 4}),
     ParameterError, "positive finite hours"),
    ("numbers as opened_at", lambda w: sv.ResponseTimeModel().fit(
        _tk(w).assign(opened_at=_tk(w)["opened_at"].dt.strftime("%Y%m%d").astype(int)), w.customers, w.branches),
     DataValidationError, "holds numbers"),
    ("unparseable opened_at", lambda w: sv.ResponseTimeModel().fit(
        _tk(w).assign(opened_at=np.where(np.arange(len(_tk(w))) == 3, "yesterday",
                                         _tk(w)["opened_at"].dt.strftime("%Y-%m-%d"))), w.customers, w.branches),
     DataValidationError, "not dates"),
    ("duplicated customers", lambda w: sv.ResponseTimeModel().fit(
        _tk(w), pd.concat([w.customers, w.customers.head(2)]), w.branches), DataValidationError, "duplicated key"),
    ("duplicated branches", lambda w: sv.ResponseTimeModel().fit(
        _tk(w), w.customers, pd.concat([w.branches, w.branches.head(1)])), DataValidationError, "duplicated key"),
    ("no go-live in the tickets", lambda w: sv.ResponseTimeModel().fit(
        _tk(w), w.customers, w.branches.assign(crm_golive_date=pd.NaT)), DataValidationError, "never vary"),
    ("branch missing from branches", lambda w: sv.ResponseTimeModel().fit(
        _tk(w), w.customers, w.branches.iloc[1:]), DataValidationError, "missing from branches"),
    ("CSAT averages", lambda w: sv.CsatOrderedLogit().fit(_tk(w).assign(
        post_ticket_csat=_tk(w)["post_ticket_csat"].where(_tk(w)["post_ticket_csat"] < 5, 4.5))),
     DataValidationError, "not whole numbers"),
    ("CSAT as text", lambda w: sv.CsatOrderedLogit().fit(_tk(w).assign(
        post_ticket_csat=_tk(w)["post_ticket_csat"].astype(str))), ColumnError, "must be numeric"),
    ("CSAT column missing", lambda w: sv.CsatOrderedLogit().fit(_tk(w), outcome_col="csat"), ColumnError, "csat"),
    ("predict with NaN", lambda w: sv.CsatOrderedLogit().fit(_tk(w)).predict_proba(pd.DataFrame(
        {"log_first_response_hours": [np.nan], "first_contact_resolution": [1.0], "complaint": [0.0]})),
     DataValidationError, "missing"),
    ("curve hours <= 0", lambda w: sv.CsatOrderedLogit().fit(_tk(w)).plot_response_curve(hours=[0, 1]),
     ParameterError, "positive"),
    ("duplicated account-months", lambda w: sv.SupplyChainPanel().fit(pd.concat([w.b2b_accounts,
                                                                                w.b2b_accounts.head(3)])),
     DataValidationError, "duplicated key"),
    ("inf on-time rate", lambda w: sv.SupplyChainPanel().fit(w.b2b_accounts.assign(
        on_time_rate=np.r_[np.inf, w.b2b_accounts["on_time_rate"][1:]])), DataValidationError,
     "on_time_rate.*infinite"),
    ("share of wallet in percent", lambda w: sv.SupplyChainPanel().fit(w.b2b_accounts.assign(
        share_of_wallet=100 * w.b2b_accounts["share_of_wallet"])), DataValidationError, "share_of_wallet"),
    ("churned coded Yes/No", lambda w: sv.supply_chain_metrics(w.b2b_accounts.assign(
        churned=w.b2b_accounts["churned"].astype(bool).map({True: "Yes", False: "No"}))),
     DataValidationError, "churned"),
    ("change is text", lambda w: sv.SupplyChainPanel().fit(w.b2b_accounts).satisfaction_change(
        {"lead_time_days": "one"}), ParameterError, "finite numbers"),
    ("direction as text", lambda w: sv.partner_scores(sv.example_partners(4), {"size": 0.2, "strength": 0.5,
                                                                             "reputation": 0.3},
                                                      directions={"size": "up"}),
     ParameterError, r"\+1 or -1"),
    ("direction for an unknown criterion", lambda w: sv.partner_scores(
        sv.example_partners(4), {"size": 0.2, "strength": 0.5, "reputation": 0.3}, directions={"price": -1}),
     ParameterError, "unknown criteria"),
    ("missing partner id", lambda w: sv.partner_scores(sv.example_partners(4).assign(partner_id=[None, "a", "b", "c"]),
                                                       {"size": 0.2, "strength": 0.5, "reputation": 0.3}),
     DataValidationError, "partner_id.*missing"),
    ("duplicated partner ids", lambda w: sv.rank_acceptability(
        sv.example_partners(4).assign(partner_id=["a", "a", "b", "c"]),
        {"size": 0.2, "strength": 0.5, "reputation": 0.3}), DataValidationError, "duplicated 'partner_id'"),
    ("n_draws huge", lambda w: sv.rank_acceptability(sv.example_partners(4), {"size": 0.2, "strength": 0.5,
                                                                            "reputation": 0.3}, n_draws=10**9),
     ParameterError, "n_draws must be <="),
    ("traffic beyond any call centre", lambda w: sv.required_agents(1e9, 3600), ParameterError, "Erlangs"),
    ("agents not a list", lambda w: sv.staffing_table(120, 180, agents="many"), ParameterError,
     "agents must be a list"),
    ("agents numpy int accepted, float refused", lambda w: sv.erlang_c(120, 180, np.float64(9.0)), ParameterError,
     "whole number"),
]


@pytest.mark.parametrize("label,call,error,match", SERVICE_BAD, ids=[c[0] for c in SERVICE_BAD])
def test_service_bad_input(world, label, call, error, match):
    with pytest.raises(error, match=match) as err:
        call(world)
    _fix_in(err)


def test_erlang_c_accepts_numpy_integers():
    assert sv.erlang_c(120, 180, np.int64(9)) == sv.erlang_c(120, 180, 9)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402


@settings(max_examples=25, deadline=None, derandomize=True)
@given(calls=hs.floats(1, 2000), aht=hs.floats(10, 1200), extra=hs.integers(-3, 30),
       target=hs.floats(0, 120))
def test_erlang_c_gives_valid_probabilities(calls, aht, extra, target):
    traffic = calls * aht / 3600
    agents = max(1, int(np.floor(traffic)) + extra)
    r = sv.erlang_c(calls, aht, agents, target_seconds=target)
    assert 0 <= r["p_wait"] <= 1 and 0 <= r["service_level"] <= 1
    assert r["stable"] == (agents > traffic)
    assert np.isfinite(r["asa_seconds"]) or not r["stable"]


@settings(max_examples=8, deadline=None, derandomize=True)
@given(n=hs.integers(150, 1500), seed=hs.integers(0, 10_000))
def test_ticket_models_on_random_subsets_are_finite_or_refused(shipped, n, seed):
    """Random valid subsets of the tickets: finite estimates and intervals, or a named CrmlabError."""
    tk = shipped.tickets.sample(n, random_state=seed)
    for fit in (lambda: sv.ResponseTimeModel().fit(tk, shipped.customers, shipped.branches),
                lambda: sv.CsatOrderedLogit().fit(tk)):
        try:
            s = fit().summary
        except CrmlabError:
            continue
        assert np.isfinite(s[["estimate", "std_error", "ci_lower", "ci_upper"]].to_numpy()).all()


@settings(max_examples=15, deadline=None, derandomize=True)
@given(n_acc=hs.integers(3, 40), n_months=hs.integers(1, 8), beta=hs.floats(-3, 3), noise=hs.floats(0, 5),
       seed=hs.integers(0, 1000))
def test_supply_chain_panel_on_random_panels(n_acc, n_months, beta, noise, seed):
    rng = np.random.default_rng(seed)
    rows = n_acc * n_months
    acc = np.repeat(np.arange(n_acc), n_months)
    b2b = pd.DataFrame({"account_id": acc, "month": np.tile(np.arange(n_months), n_acc),
                        "on_time_rate": rng.uniform(60, 100, rows), "fill_rate": rng.uniform(60, 100, rows),
                        "lead_time_days": rng.uniform(1, 20, rows), "defect_rate": rng.uniform(0, 5, rows)})
    sat = 50 + beta * b2b["lead_time_days"] + rng.normal(0, noise + 1e-3, rows) + 3 * acc % 7
    b2b["account_satisfaction"] = np.clip(sat, 0, 100)
    b2b["share_of_wallet"] = np.clip(0.3 + 0.004 * (b2b["account_satisfaction"] - 50) + rng.normal(0, 0.05, rows),
                                     0.01, 0.99)
    try:
        model = sv.SupplyChainPanel().fit(b2b)
    except CrmlabError:
        return
    s = model.summary
    assert np.isfinite(s[["estimate", "std_error", "ci_lower", "ci_upper"]].to_numpy()).all()
