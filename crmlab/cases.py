"""The source texts' five anonymous cases, rebuilt as SYNTHETIC replications (案例研究).

The Chinese source texts tell five short stories without a single number: Securities
Company A's CRM strategy (A证券公司, S001 case 11-0), a manufacturer, a retailer and a
financial firm that introduced CRM software (某制造业企业 / 某零售企业 / 某金融企业, S000 §7.3)
and an e-commerce firm fighting churn (某电商企业, S002 Ch8 §2, which says itself that the case
is hypothetical). None of them gives data, so the kit does not "reproduce" them: each case
here is a **synthetic replication**, a world variant generated with its own seed and planted
parameters (``WorldParams().override({...})``) in which the case's business question can be
asked, answered with crmlab's topic modules, and checked against the truth the generator
planted.

Every :class:`Case` holds

* the business context as the texts tell it (anonymous, as in the texts) and a question;
* a world variant: seed, number of customers and parameter overrides;
* stated business assumptions (costs, lever sizes) that the texts do not give;
* an analysis that calls the topic modules (``kpi``, ``strategy``, ``data_quality``,
  ``service``, ``experiments``, ``churn``) and a decision rule that turns the estimates
  into a recommendation; the same rule applied to the *planted* values shows whether the
  data led to the decision the truth implies.

:func:`run_case` regenerates the variant (any seed, any size) and returns a
:class:`CaseResult`: key figures, tables, estimate-vs-planted comparison and the decision.
:func:`seed_sweep` re-runs a case over many seeds (does the decision hold up?) and
:func:`plot_recovery` draws every estimate relative to its planted value. From the command
line: ``crmlab case --list`` and ``crmlab case retailer --seed 7``.

>>> list(CASES)
['securities_a', 'manufacturer', 'retailer', 'financial', 'ecommerce_churn']
>>> res = run_case("ecommerce_churn", n_customers=1000)
>>> res.choice in {"quality_and_training", "complaint_handling", "points_programme"}
True
"""

from __future__ import annotations

import difflib
import json
import numbers
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import special

from ._threads import single_thread
from .errors import DataValidationError, ParameterError

__all__ = ["Case", "CaseResult", "CASES", "SYNTHETIC_LABEL", "list_cases", "get_case", "run_case", "seed_sweep",
           "plot_recovery"]

SYNTHETIC_LABEL = ("SYNTHETIC replication: the source texts give no data for this case; every figure "
                   "comes from a generated world with planted parameters.")


# ====================================================================================
# containers
# ====================================================================================
@dataclass(frozen=True)
class Case:
    """One case: context, question, world variant, assumptions, analysis and decision rule."""

    name: str
    title: str
    title_zh: str
    source: str
    sector: str
    context: str
    question: str
    seed: int
    n_customers: int
    overrides: Mapping
    assumptions: Mapping
    rule: str
    analyse: Callable = field(repr=False)
    min_customers: int = 1000

    def params(self):
        """The variant's :class:`~crmlab.synth.WorldParams` (defaults + ``overrides``)."""
        from .synth import WorldParams

        return WorldParams().override(dict(self.overrides))

    def world(self, seed: int | None = None, n_customers: int | None = None):
        """Generate the variant's world (``seed``/``n_customers`` default to the case's)."""
        from .synth import generate_world

        seed, n = _check_run_args(self, seed, n_customers)
        return generate_world(seed=seed, n_customers=n, params=self.params())


@dataclass
class CaseResult:
    """What :func:`run_case` returns: the case, its world, figures, tables and the decision.

    ``figures`` (dict of numbers), ``tables`` (dict of DataFrames), ``recovery`` (one row per
    estimated quantity that the generator planted: estimate, CI, planted value,
    ``inside_ci``), ``choice``/``decision`` (the rule applied to the estimates) and
    ``choice_under_truth``/``decision_under_truth`` (the same rule applied to the planted
    values). ``str(result)`` is the printed report; :meth:`to_dict` and :meth:`save` export it.
    """

    case: Case
    seed: int
    n_customers: int
    figures: dict
    tables: dict
    recovery: pd.DataFrame
    choice: str
    decision: str
    choice_under_truth: str
    decision_under_truth: str
    world: object = field(repr=False, default=None)
    label: str = SYNTHETIC_LABEL

    @property
    def name(self) -> str:
        return self.case.name

    @property
    def question(self) -> str:
        return self.case.question

    @property
    def decision_matches_truth(self) -> bool:
        """Does the rule reach the same choice on the estimates as on the planted values?"""
        return self.choice == self.choice_under_truth

    def report(self) -> str:
        """The printed report: question, key figures, estimate vs planted, decision, re-run."""
        c = self.case
        lines = [f"{c.title} ({c.title_zh}) — {c.source}",
                 self.label,
                 f"World variant: seed {self.seed}, {self.n_customers:,} customers "
                 f"(overrides: {_fmt_overrides(c.overrides)})",
                 "", f"Question: {c.question}", "", "Key figures:"]
        width = max(len(k) for k in self.figures)
        for k, v in self.figures.items():
            lines.append(f"  {k:<{width}}  {_fmt(v)}")
        rec = self.recovery.dropna(subset=["planted"])
        if len(rec):
            lines += ["", "Estimate vs planted truth:"]
            w = max(len(str(q)) for q in rec.index)
            for q, r in rec.iterrows():
                ci = "" if pd.isna(r["ci_lower"]) else f" (95% CI {_fmt(r['ci_lower'])} to {_fmt(r['ci_upper'])})"
                inside = "" if pd.isna(r["inside_ci"]) else ("  inside CI" if r["inside_ci"] else "  OUTSIDE CI")
                lines.append(f"  {q:<{w}}  {_fmt(r['estimate'])}{ci}; planted {_fmt(r['planted'])}{inside}")
        lines += ["", f"Decision rule: {c.rule}", f"Decision: {self.decision}",
                  f"Under the planted truth the rule says: {self.decision_under_truth}"
                  + ("  [same choice]" if self.decision_matches_truth else "  [DIFFERENT choice]"),
                  "", f"Re-run with another seed: crmlab case {c.name} --seed 7"]
        return "\n".join(lines)

    __str__ = report

    def to_dict(self) -> dict:
        """JSON-serialisable summary (no tables)."""
        c = self.case
        rec = self.recovery.reset_index().rename(columns={"index": "quantity"})
        return _plain({
            "case": c.name, "title": c.title, "title_zh": c.title_zh, "source": c.source,
            "label": self.label, "seed": self.seed, "n_customers": self.n_customers,
            "overrides": dict(c.overrides), "assumptions": dict(c.assumptions), "question": c.question,
            "figures": self.figures, "recovery": rec.to_dict(orient="records"), "rule": c.rule,
            "choice": self.choice, "decision": self.decision, "choice_under_truth": self.choice_under_truth,
            "decision_under_truth": self.decision_under_truth,
        })

    def save(self, out) -> Path:
        """Write ``case.json``, ``report.txt``, ``recovery.csv`` and one CSV per table into ``out``."""
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise ParameterError(f"{out} exists and is not a folder", fix="choose a folder path for --out")
        out.mkdir(parents=True, exist_ok=True)
        (out / "case.json").write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
        (out / "report.txt").write_text(self.report() + "\n", encoding="utf-8")
        self.recovery.to_csv(out / "recovery.csv")
        for name, table in self.tables.items():
            table.to_csv(out / f"{name}.csv")
        return out


def _plain(obj):
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return None if not np.isfinite(obj) else float(obj)
    return obj


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, numbers.Integral):
        return f"{int(v):,}"
    if isinstance(v, numbers.Real):
        v = float(v)
        if not np.isfinite(v):
            return "n/a"
        if v != 0 and abs(v) < 0.01:
            return f"{v:.4f}"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3f}"
    return str(v)


def _fmt_overrides(o: Mapping) -> str:
    return ", ".join(f"{k}={v}" for k, v in o.items()) or "none"


def _recovery(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["quantity", "estimate", "ci_lower", "ci_upper", "planted"]).set_index("quantity")
    df = df.astype(float)
    has_ci = df["ci_lower"].notna() & df["planted"].notna()
    inside = (df["ci_lower"] <= df["planted"]) & (df["planted"] <= df["ci_upper"])
    df["inside_ci"] = inside.where(has_ci).astype(object)
    return df


def _window(world) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(world.meta["window_start"]), pd.Timestamp(world.meta["window_end"])


# ====================================================================================
# CS1: Securities Company A — is the CRM programme worth rolling out?
# ====================================================================================
def _analyse_securities(world, a: Mapping) -> dict:
    from . import kpi, strategy

    panel = world.branch_kpis
    did = kpi.StaggeredDiD().fit(panel)
    att, (lo, hi) = float(did.att_), (float(did.ci_[0]), float(did.ci_[1]))
    untreated = panel[panel["crm_live"] == 0]
    r0 = 1 - untreated["members_churned"].sum() / untreated["members_start"].sum()
    eco = strategy.economics_from_data(world.customers, world.memberships, world.transactions, by=None,
                                       fee_margin=a["fee_margin"], annual_discount_rate=a["annual_discount"]).iloc[0]
    m, d = float(eco["monthly_margin"]), float(eco["monthly_discount"])

    def gain(effect):  # customer equity per member at the raised retention minus at the baseline
        return float(strategy.customer_equity(m, min(r0 + effect, 0.999), d) - strategy.customer_equity(m, r0, d))

    never = panel.groupby("branch_id")["crm_live"].max()
    never = never[never == 0].index
    last = panel["month"].max()
    n_target = int(panel.loc[panel["branch_id"].isin(never) & (panel["month"] == last), "members_start"].sum())
    cost = a["rollout_cost_per_member"]

    def rule(g_point, g_low=None):
        if g_low is not None and g_low > cost:
            return "roll_out", "roll the CRM programme out to all remaining branches now"
        if g_point > cost:
            if g_low is None:
                return "roll_out", "roll the CRM programme out to all remaining branches now"
            return "staged_roll_out", ("roll out in stages and keep measuring: the expected gain exceeds the cost, "
                                       "but the lower end of the estimate does not")
        return "stop", "do not roll out as it stands; redesign the programme first"

    g, g_lo, g_hi = gain(att), gain(lo), gain(hi)
    choice, text = rule(g, g_lo)
    planted = float(world.truth["golive"]["expected_att_retention"])
    g_true = gain(planted)
    t_choice, t_text = rule(g_true)
    ws, we = _window(world)
    growth = strategy.growth_matrix(world.transactions, we - pd.DateOffset(years=1), we - pd.Timedelta(days=1),
                                    customers=world.customers)
    value_table = pd.DataFrame({
        "att_monthly_retention": [lo, att, hi, planted],
        "equity_gain_per_member": [g_lo, g, g_hi, g_true],
    }, index=pd.Index(["ci_lower", "estimate", "ci_upper", "planted"], name="scenario"))
    value_table["value_remaining_branches"] = value_table["equity_gain_per_member"] * n_target
    value_table["rollout_cost"] = cost * n_target
    value_table["net_value"] = value_table["value_remaining_branches"] - value_table["rollout_cost"]
    figures = {
        "att_monthly_retention": att, "att_ci_lower": lo, "att_ci_upper": hi,
        "twfe_estimate": float(did.summary.loc["twfe", "estimate"]),
        "baseline_monthly_retention": float(r0), "monthly_margin_per_member": m,
        "equity_gain_per_member": g, "members_in_branches_not_live": n_target,
        "rollout_cost_per_member": float(cost), "net_value_of_rollout": (g - cost) * n_target,
        "revenue_share_loyalty_cell": float(growth.loc[("existing", "existing"), "revenue_share"]),
    }
    decision = (f"{text.capitalize()}. The imputation DiD puts the go-live effect at {att:+.4f} on monthly "
                f"retention (95% CI {lo:+.4f} to {hi:+.4f}), worth {g:,.0f} CNY of customer equity per member "
                f"against a roll-out cost of {cost:,.0f} CNY per member.")
    return {
        "figures": figures,
        "tables": {"did_estimators": did.summary, "rollout_value": value_table,
                   "group_att": did.group_att_, "growth_matrix": growth},
        "recovery": _recovery([{"quantity": "ATT on monthly retention (imputation DiD)", "estimate": att,
                                "ci_lower": lo, "ci_upper": hi, "planted": planted}]),
        "choice": choice, "decision": decision, "choice_under_truth": t_choice,
        "decision_under_truth": (f"{t_text} (planted ATT {planted:+.4f}, equity gain {g_true:,.0f} CNY per "
                                 f"member vs cost {cost:,.0f})"),
    }


# ====================================================================================
# CS2: the manufacturer — one customer view, and which delivery lever first
# ====================================================================================
_LEVERS = {  # driver -> (中文, direction of improvement, truth key)
    "on_time_rate": ("准时交付率", +1, "satisfaction_per_point_on_time"),
    "fill_rate": ("订单满足率", +1, "satisfaction_per_point_fill_rate"),
    "lead_time_days": ("交货周期", -1, "satisfaction_per_day_lead_time"),
    "defect_rate": ("产品缺陷率", -1, "satisfaction_per_point_defect_rate"),
}


def _analyse_manufacturer(world, a: Mapping) -> dict:
    from . import data_quality as dq
    from . import service

    extracts = {"sales": world.silo_sales, "service": world.silo_service, "web": world.silo_web}
    aliases = dict(zip(world.branches["city_en"], world.branches["city"], strict=True))
    records = dq.standardize_records(extracts, city_aliases=aliases)
    linker = dq.RecordLinker(threshold=a["link_threshold"], seed=0).fit(records)
    link = linker.evaluate(world.silo_matches)
    panel = service.SupplyChainPanel().fit(world.b2b_accounts)
    summ = panel.summary.droplevel("equation")
    b2b = world.b2b_accounts
    sc_truth = world.truth["supply_chain"]
    rows = []
    for drv, (zh, sign, key) in _LEVERS.items():
        step = float(b2b[drv].std()) * a["step_sd"]
        coef, lo, hi = (float(summ.loc[drv, c]) for c in ("estimate", "ci_lower", "ci_upper"))
        g = sorted([sign * lo * step, sign * hi * step])
        rows.append({"driver": drv, "driver_zh": zh, "improvement_step": sign * step, "coef": coef,
                     "satisfaction_gain": sign * coef * step, "gain_ci_lower": g[0], "gain_ci_upper": g[1],
                     "planted_coef": float(sc_truth[key]), "planted_gain": sign * float(sc_truth[key]) * step})
    levers = pd.DataFrame(rows).set_index("driver").sort_values("satisfaction_gain", ascending=False)
    sow = b2b["share_of_wallet"].mean()
    b_sow = float(panel.coef_["sow_per_satisfaction_point"])
    levers["share_of_wallet_gain_pts"] = 100 * sow * (1 - sow) * b_sow * levers["satisfaction_gain"]
    best = levers.index[0]
    best_true = levers["planted_gain"].idxmax()
    second = levers.index[1]
    n_rec, n_ent = int(link["records"]), int(link["entities_predicted"])
    figures = {
        "silo_records": n_rec, "customers_after_linkage": n_ent,
        "true_customers_in_silos": int(link["entities_true"]),
        "linkage_precision": float(link["precision"]), "linkage_recall": float(link["recall"]),
        "linkage_f1": float(link["f1"]), "link_threshold": float(a["link_threshold"]),
        "b2b_accounts": int(b2b["account_id"].nunique()),
        "best_lever_gain_points": float(levers.loc[best, "satisfaction_gain"]),
        "second_lever_gain_points": float(levers.loc[second, "satisfaction_gain"]),
    }
    step_txt = f"{levers.loc[best, 'improvement_step']:+.2f}"
    decision = (f"Improve {best} ({levers.loc[best, 'driver_zh']}) first: a one-SD improvement ({step_txt}) "
                f"raises account satisfaction by {levers.loc[best, 'satisfaction_gain']:.2f} points "
                f"(95% CI {levers.loc[best, 'gain_ci_lower']:.2f} to {levers.loc[best, 'gain_ci_upper']:.2f}) and "
                f"share of wallet by about {levers.loc[best, 'share_of_wallet_gain_pts']:.2f} points; next is "
                f"{second} ({levers.loc[second, 'satisfaction_gain']:.2f}). Run CRM on the unified view: "
                f"{n_ent:,} customers, not {n_rec:,} system records (pairwise F1 {link['f1']:.3f}).")
    recov = [{"quantity": f"satisfaction per unit of {drv}", "estimate": float(summ.loc[drv, "estimate"]),
              "ci_lower": float(summ.loc[drv, "ci_lower"]), "ci_upper": float(summ.loc[drv, "ci_upper"]),
              "planted": float(sc_truth[key])} for drv, (_, _, key) in _LEVERS.items()]
    recov.append({"quantity": "share-of-wallet logit per satisfaction point", "estimate": b_sow,
                  "ci_lower": float(summ.loc["account_satisfaction", "ci_lower"]),
                  "ci_upper": float(summ.loc["account_satisfaction", "ci_upper"]),
                  "planted": float(sc_truth["share_of_wallet_logit_per_satisfaction_point"])})
    recov.append({"quantity": "customers in the silos (linkage)", "estimate": n_ent, "ci_lower": np.nan,
                  "ci_upper": np.nan, "planted": int(link["entities_true"])})
    return {
        "figures": figures,
        "tables": {"levers": levers, "linkage": link.to_frame("vs true matches"),
                   "linkage_by_threshold": linker.threshold_curve(world.silo_matches, thresholds=(0.1, 0.5, 0.9, 0.99)),
                   "supply_chain_model": panel.summary},
        "recovery": _recovery(recov),
        "choice": best, "decision": decision, "choice_under_truth": best_true,
        "decision_under_truth": (f"improve {best_true} first (planted gain "
                                 f"{levers.loc[best_true, 'planted_gain']:.2f} points per one-SD step)"),
    }


# ====================================================================================
# CS3: the retailer — send the retention coupon to everyone, or only to coupon users?
# ====================================================================================
def _analyse_retailer(world, a: Mapping) -> dict:
    from . import experiments as ex
    from . import strategy

    camp = world.campaigns.copy()
    if camp.empty:
        raise DataValidationError("the world has no campaign members",
                                  fix="use more customers (n_customers) so the campaign has members")
    start = pd.Timestamp(camp["assigned_date"].min())
    tx = world.transactions[world.transactions["date"] < start]
    share = tx.groupby("customer_id")["discount_used"].mean()
    camp["coupon_share"] = camp["customer_id"].map(share).fillna(0.0).to_numpy()
    camp["tier"] = np.where(camp["coupon_share"] >= a["coupon_user_threshold"], "coupon_users", "other_members")
    names = {"estimate": "uplift"}  # the estimate is the uplift in 6-month retention
    overall = ex.retention_difference(camp).rename(columns=names).iloc[0]
    tiers = ex.retention_difference(camp, by="tier").rename(columns=names).rename_axis("tier")
    lat = world.latent.set_index("customer_id")["campaign_expected_uplift"]
    camp["planted_uplift"] = camp["customer_id"].map(lat).to_numpy()
    tiers["planted_uplift"] = camp.groupby("tier")["planted_uplift"].mean()
    tiers["members"] = camp.groupby("tier").size()
    tiers["min_detectable_uplift"] = [
        ex.minimum_detectable_uplift(float(r["rate_control"]), int(min(r["n_treated"], r["n_control"])))
        for _, r in tiers.iterrows()]
    eco = strategy.economics_from_data(world.customers, world.memberships, world.transactions, by=None,
                                       fee_margin=a["fee_margin"], annual_discount_rate=a["annual_discount"]).iloc[0]
    value = float(eco["clv"])
    cost = float(camp.loc[camp["treatment"] == 1, "offer_cost"].mean())
    breakeven = cost / value
    tiers["profit_per_member_offered"] = tiers["uplift"] * value - cost
    tiers["planted_profit_per_member"] = tiers["planted_uplift"] * value - cost

    def rule(uplifts: pd.Series) -> tuple[str, str]:
        pay = [t for t in ("coupon_users", "other_members") if t in uplifts and uplifts[t] > breakeven]
        if len(pay) == 2:
            return "all_members", "send the coupon to all members"
        if pay == ["coupon_users"]:
            return "coupon_users", "send the coupon only to members who already use coupons (precision marketing)"
        if pay == ["other_members"]:
            return "other_members", "send the coupon only to members who do not use coupons yet"
        return "no_one", "do not send the coupon: it costs more than the retention it buys"

    choice, text = rule(tiers["uplift"])
    t_choice, t_text = rule(tiers["planted_uplift"])
    planted_all = float(world.truth["campaign"]["expected_uplift"])
    figures = {
        "campaign_members": len(camp), "uplift_all": float(overall["uplift"]),
        "uplift_all_ci_lower": float(overall["ci_lower"]), "uplift_all_ci_upper": float(overall["ci_upper"]),
        "uplift_coupon_users": float(tiers.loc["coupon_users", "uplift"]),
        "uplift_other_members": float(tiers.loc["other_members", "uplift"]),
        "share_coupon_users": float((camp["tier"] == "coupon_users").mean()),
        "value_per_retained_member": value, "offer_cost": cost, "breakeven_uplift": breakeven,
    }
    decision = (f"{text.capitalize()}. Uplift in 6-month retention: coupon users "
                f"{tiers.loc['coupon_users', 'uplift']:+.3f}, other members {tiers.loc['other_members', 'uplift']:+.3f}"
                f" (all {overall['uplift']:+.3f}); the coupon pays where the uplift exceeds {breakeven:.3f} "
                f"(= offer cost {cost:.0f} / value of a retained member {value:,.0f} CNY). With 80% power the tiers "
                f"can only detect uplifts of {tiers.loc['coupon_users', 'min_detectable_uplift']:.3f} (coupon users) "
                f"and {tiers.loc['other_members', 'min_detectable_uplift']:.3f} (other members), so treat the "
                f"split as a pilot result.")
    recov = [{"quantity": "uplift, all members", "estimate": float(overall["uplift"]),
              "ci_lower": float(overall["ci_lower"]), "ci_upper": float(overall["ci_upper"]), "planted": planted_all}]
    for t in ("coupon_users", "other_members"):
        recov.append({"quantity": f"uplift, {t.replace('_', ' ')}", "estimate": float(tiers.loc[t, "uplift"]),
                      "ci_lower": float(tiers.loc[t, "ci_lower"]), "ci_upper": float(tiers.loc[t, "ci_upper"]),
                      "planted": float(tiers.loc[t, "planted_uplift"])})
    cols = ["members", "n_treated", "n_control", "rate_treated", "rate_control", "uplift", "ci_lower", "ci_upper",
            "planted_uplift", "min_detectable_uplift", "profit_per_member_offered", "planted_profit_per_member"]
    return {
        "figures": figures, "tables": {"tiers": tiers[cols]},
        "recovery": _recovery(recov), "choice": choice, "decision": decision,
        "choice_under_truth": t_choice,
        "decision_under_truth": (f"{t_text} (planted uplift: coupon users "
                                 f"{tiers.loc['coupon_users', 'planted_uplift']:.3f}, others "
                                 f"{tiers.loc['other_members', 'planted_uplift']:.3f}; break-even {breakeven:.3f})"),
    }


# ====================================================================================
# CS4: the financial firm — does automated, intelligent service pay off in service quality?
# ====================================================================================
def _top2_shift(coef: pd.Series, cutpoints, X: pd.DataFrame, shift: float) -> tuple[float, float]:
    """Mean P(CSAT >= 4) of the tickets X before and after log response time moves by ``shift``."""
    def top2(XX):
        eta = XX[list(coef.index)].to_numpy(dtype=float) @ coef.to_numpy()
        # P(y >= 4) = 1 - P(y <= 3) = 1 - expit(cut_3 - eta); cut_3 is the third cutpoint
        return float(np.mean(1 - special.expit(np.asarray(cutpoints)[2] - eta)))

    after = X.assign(log_first_response_hours=X["log_first_response_hours"] + shift)
    return top2(X), top2(after)


def _analyse_financial(world, a: Mapping) -> dict:
    from . import service

    tickets = world.tickets
    _, we = _window(world)
    golive = pd.to_datetime(world.branches.set_index("branch_id")["crm_golive_date"])
    not_live = golive[golive.isna() | (golive >= we)].index
    branch = world.customers.set_index("customer_id")["branch_id"]
    target = tickets[tickets["customer_id"].map(branch).isin(not_live).to_numpy()]
    if target.empty:
        raise DataValidationError("every branch is live by the end of the window: nobody is left to roll out to",
                                  fix="use a world with branches that never go live (crm cohort N)")
    rt = service.ResponseTimeModel().fit(tickets, world.customers, world.branches)
    live = rt.summary.loc["crm_live"]
    cs = service.CsatOrderedLogit().fit(tickets)
    b = cs.summary.loc["log_first_response_hours"]
    X = service.CsatOrderedLogit.design(target)
    before, after = _top2_shift(cs.coef_, cs.cutpoints_, X, float(live["estimate"]))
    truth_s = world.truth["service"]
    tl = truth_s["post_ticket_csat_ordered_logit"]
    t_coef = pd.Series({"log_first_response_hours": tl["log_first_response_hours"],
                        "first_contact_resolution": tl["first_contact_resolution"], "complaint": tl["complaint"]})
    t_before, t_after = _top2_shift(t_coef, tl["cutpoints"], X, float(truth_s["golive_log_response_time"]))
    gain, t_gain = after - before, t_after - t_before
    min_gain = a["min_top2_gain"]

    def rule(effect_upper, g):
        if effect_upper < 0 and g >= min_gain:
            return "roll_out", "roll automated service out to the branches that are not live yet"
        return "review", "review the service process redesign before rolling out further"

    choice, text = rule(float(live["ci_upper"]), gain)
    t_choice, t_text = rule(float(truth_s["golive_log_response_time"]), t_gain)
    month = pd.to_datetime(tickets["opened_at"]).dt.to_period("M").dt.to_timestamp()
    gl = golive.reindex(tickets["customer_id"].map(branch)).to_numpy()
    status = np.where(pd.isna(gl), "never live", np.where(month.to_numpy() >= gl, "after go-live", "before go-live"))
    by_status = service.service_metrics(tickets.assign(status=status), by="status")
    figures = {
        "tickets": len(tickets), "golive_log_response_effect": float(live["estimate"]),
        "golive_effect_ci_lower": float(live["ci_lower"]), "golive_effect_ci_upper": float(live["ci_upper"]),
        "response_time_change_pct": 100 * float(np.expm1(live["estimate"])),
        "csat_log_response_coef": float(b["estimate"]),
        "tickets_in_branches_not_live": len(target), "top2_csat_now": before, "top2_csat_after_rollout": after,
        "top2_csat_gain": gain, "min_top2_gain": float(min_gain),
    }
    decision = (f"{text.capitalize()}. Go-live cut first-response times by {-figures['response_time_change_pct']:.0f}% "
                f"(log effect {live['estimate']:+.3f}, 95% CI {live['ci_lower']:+.3f} to {live['ci_upper']:+.3f}); "
                f"through the CSAT model that lifts the predicted top-2-box CSAT of the not-yet-live branches' "
                f"tickets from {before:.3f} to {after:.3f} ({100 * gain:+.1f} points; threshold "
                f"{100 * min_gain:.1f}).")
    recov = [{"quantity": "go-live effect on log first-response time", "estimate": float(live["estimate"]),
              "ci_lower": float(live["ci_lower"]), "ci_upper": float(live["ci_upper"]),
              "planted": float(truth_s["golive_log_response_time"])}]
    for term in ("log_first_response_hours", "first_contact_resolution", "complaint"):
        r = cs.summary.loc[term]
        recov.append({"quantity": f"CSAT ordered logit: {term}", "estimate": float(r["estimate"]),
                      "ci_lower": float(r["ci_lower"]), "ci_upper": float(r["ci_upper"]), "planted": float(tl[term])})
    return {
        "figures": figures,
        "tables": {"response_time_model": rt.summary, "csat_model": cs.summary, "service_by_status": by_status},
        "recovery": _recovery(recov), "choice": choice, "decision": decision,
        "choice_under_truth": t_choice,
        "decision_under_truth": f"{t_text} (planted effects give a top-2-box gain of {100 * t_gain:+.1f} points)",
    }


# ====================================================================================
# CS5: the e-commerce firm — which lever cuts churn most?
# ====================================================================================
_CHURN_COVS = ["satisfaction", "recent_complaint", "plan_plus", "plan_premium", "loyalty_member", "crm_live"]


def _lever_reductions(long: pd.DataFrame, betas: pd.DataFrame, a: Mapping) -> pd.DataFrame:
    """Exposure-weighted reduction of the members' churn hazard under each lever (shares).

    One row per coefficient vector in ``betas`` (columns = covariates), so the planted
    values, the estimates and every draw of the estimates are evaluated in one pass.
    """
    B = betas.to_numpy(dtype=float)
    cols = list(betas.columns)
    w = (long["stop"] - long["start"]).to_numpy(dtype=float)
    eta = long[cols].to_numpy(dtype=float) @ B.T  # rows x vectors
    r = np.exp(eta - eta.max(axis=0)) * w[:, None]  # rescaled per vector: only ratios matter
    total = r.sum(axis=0)
    comp = long["recent_complaint"].to_numpy() == 1
    non_member = long["loyalty_member"].to_numpy() == 0
    b = {c: B[:, cols.index(c)] for c in ("satisfaction", "recent_complaint", "loyalty_member")}
    return pd.DataFrame({
        "quality_and_training": 1 - np.exp(b["satisfaction"] * a["satisfaction_shift_sd"]),
        "complaint_handling": a["complaints_prevented"] * r[comp].sum(axis=0)
        * (1 - np.exp(-b["recent_complaint"])) / total,
        "points_programme": a["enrol_share"] * r[non_member].sum(axis=0)
        * (1 - np.exp(b["loyalty_member"])) / total,
    }, index=betas.index)


_LEVER_TEXT = {
    "quality_and_training": "quality control and service-team training (raise satisfaction)",
    "complaint_handling": "faster complaint resolution (prevent complaints)",
    "points_programme": "points redemption and return visits (enrol non-members in the loyalty programme)",
}


def _analyse_ecommerce(world, a: Mapping) -> dict:
    from . import churn as ch

    ws, we = _window(world)
    long = ch.start_stop_frame(world.memberships, world.customers, world.tickets, world.branches,
                               window_start=ws, as_of=we)
    # the firm's satisfaction index, taken here as measured without error (world.latent):
    # noisy survey scores would attenuate its hazard ratio (notebook 08)
    sat = world.latent.set_index("customer_id")["satisfaction"]
    long["satisfaction"] = long["customer_id"].map(sat).to_numpy()
    model = ch.ChurnCox().fit(long, _CHURN_COVS)
    cmp = ch.compare_with_truth(model, world.truth["membership"]["hazard_ratios"])
    beta = model.params_[_CHURN_COVS]
    planted = pd.Series({c: float(world.truth["membership"]["log_hazard_ratios"][c]) for c in _CHURN_COVS})
    est = _lever_reductions(long, beta.to_frame().T, a).iloc[0]
    true = _lever_reductions(long, planted.to_frame().T, a).iloc[0]
    rng = np.random.default_rng(a["interval_seed"])
    draws = rng.multivariate_normal(beta.to_numpy(), model.variance_matrix_.loc[_CHURN_COVS, _CHURN_COVS].to_numpy(),
                                    size=int(a["interval_draws"]))
    sims = _lever_reductions(long, pd.DataFrame(draws, columns=_CHURN_COVS), a)
    levers = pd.DataFrame({"lever": [_LEVER_TEXT[k] for k in est.index], "hazard_reduction": est,
                           "ci_lower": sims.quantile(0.025), "ci_upper": sims.quantile(0.975),
                           "share_of_draws_best": sims.idxmax(axis=1).value_counts(normalize=True)
                           .reindex(est.index).fillna(0.0),
                           "planted_hazard_reduction": true})
    levers = levers.rename_axis("lever_id").sort_values("hazard_reduction", ascending=False)
    best, best_true = str(levers.index[0]), str(true.idxmax())
    second = str(levers.index[1])
    figures = {
        "members": int(long["membership_id"].nunique()), "churn_events": int(model.n_events_),
        "hr_satisfaction_per_sd": float(np.exp(beta["satisfaction"])),
        "hr_recent_complaint": float(np.exp(beta["recent_complaint"])),
        "hr_loyalty_member": float(np.exp(beta["loyalty_member"])),
        "share_member_months_with_recent_complaint": float(
            np.average(long["recent_complaint"], weights=long["stop"] - long["start"])),
        "best_lever_hazard_reduction": float(levers.loc[best, "hazard_reduction"]),
        "second_lever_hazard_reduction": float(levers.loc[second, "hazard_reduction"]),
    }
    decision = (f"Invest first in {_LEVER_TEXT[best]}: it cuts the members' churn hazard by "
                f"{100 * levers.loc[best, 'hazard_reduction']:.1f}% (95% interval "
                f"{100 * levers.loc[best, 'ci_lower']:.1f}-{100 * levers.loc[best, 'ci_upper']:.1f}%, best in "
                f"{100 * levers.loc[best, 'share_of_draws_best']:.0f}% of draws), against "
                f"{100 * levers.loc[second, 'hazard_reduction']:.1f}% for {_LEVER_TEXT[second]}. Track churn, "
                f"complaints and satisfaction monthly and compare survey waves before and after (S002 Ch8 §2).")
    recov = [{"quantity": f"log HR {c}", "estimate": float(beta[c]),
              "ci_lower": float(np.log(cmp.loc[c, "hr_lower"])), "ci_upper": float(np.log(cmp.loc[c, "hr_upper"])),
              "planted": float(planted[c])} for c in _CHURN_COVS]
    return {
        "figures": figures, "tables": {"hazard_ratios": cmp, "levers": levers},
        "recovery": _recovery(recov), "choice": best, "decision": decision, "choice_under_truth": best_true,
        "decision_under_truth": (f"invest first in {_LEVER_TEXT[best_true]} (planted reduction "
                                 f"{100 * true[best_true]:.1f}%)"),
    }


# ====================================================================================
# the registry
# ====================================================================================
def _frozen(d: dict) -> MappingProxyType:
    return MappingProxyType(dict(d))


CASES: dict[str, Case] = {c.name: c for c in (
    Case(
        name="securities_a", title="Securities Company A: planning and implementing a CRM strategy",
        title_zh="A证券公司客户关系管理战略", source="S001 slide 3 (case 11-0)", sector="securities brokerage",
        context=("The lead-in case of S001 Ch11 (details 'in the textbook, p. 289'). Its commentary: CRM is a "
                 "business-management strategy and a new service philosophy, not merely an IT system or "
                 "installed software; it is realised through strategy formulation, process re-engineering "
                 "(流程改造), function redesign (职能重设), personnel adjustment and technical means."),
        question=("The CRM programme (system, process change and training) went live branch by branch. Has it "
                  "raised client retention enough to pay for rolling it out to the branches that are not live?"),
        seed=101, n_customers=5000,
        overrides=_frozen({"churn.log_hr.crm_live": -0.6, "churn.membership_rate": 0.85,
                           "customers.share_b2b": 0.02}),
        assumptions=_frozen({"rollout_cost_per_member": 250.0, "fee_margin": 0.8, "annual_discount": 0.10}),
        rule=("value = members in not-live branches x gain in customer equity per member (retention raised by "
              "the DiD effect); roll out if even the lower CI bound pays the one-off cost per member, roll out "
              "in stages if only the point estimate does, otherwise stop"),
        analyse=_analyse_securities, min_customers=2000),
    Case(
        name="manufacturer", title="A manufacturer: unified customer information and targeted improvement",
        title_zh="某制造业企业", source="S000 §7.3 case 1", sector="manufacturing (B2B)",
        context=("The manufacturer introduced CRM software, managed its customer information in one place, made "
                 "its sales department more efficient, and analysed customer data to understand needs, market "
                 "in a targeted way and raise satisfaction. No metric is given."),
        question=("How many distinct customers does the firm have once its sales, service and web records are "
                  "linked, and which delivery lever should it improve first to raise business customers' "
                  "satisfaction?"),
        seed=102, n_customers=3000,
        overrides=_frozen({"customers.share_b2b": 0.4, "supply_chain.lead_time": -3.0}),
        assumptions=_frozen({"step_sd": 1.0, "link_threshold": 0.5}),
        rule=("compare levers on the same footing: the satisfaction gain of a one-SD improvement of each "
              "delivery driver (fixed-effects estimate x SD across account-months); improve the largest first"),
        analyse=_analyse_manufacturer),
    Case(
        name="retailer", title="A retailer: precision marketing with points and coupons",
        title_zh="某零售企业", source="S000 §7.3 case 2", sector="retail",
        context=("The retailer used CRM software to analyse consumption behaviour for precision marketing; a "
                 "membership points system and coupon distribution raised customer stickiness and sales. No "
                 "metric is given."),
        question=("A randomised retention coupon went to half of the paying members. Should the retailer send it "
                  "to every member, or only to the members whose past behaviour (coupon use) says it works?"),
        seed=103, n_customers=5000,
        overrides=_frozen({"campaign.log_hr_by_segment": [-1.6, -0.2, 0.0, -0.8], "campaign.offer_cost": 60.0,
                           "churn.membership_rate": 0.85}),
        assumptions=_frozen({"coupon_user_threshold": 0.4, "fee_margin": 0.8, "annual_discount": 0.10}),
        rule=("a tier gets the coupon when its estimated uplift in 6-month retention x the value of a retained "
              "member (CLV) exceeds the offer cost, i.e. uplift > cost / CLV"),
        analyse=_analyse_retailer, min_customers=2000),
    Case(
        name="financial", title="A financial firm: automated, intelligent customer service",
        title_zh="某金融企业", source="S000 §7.3 case 3", sector="financial services",
        context=("CRM made the financial firm's customer service automated and intelligent: customers handle "
                 "business themselves online, efficiency rose and operating costs fell; data analysis detects "
                 "potential risks in time. No metric is given."),
        question=("Did the CRM go-live make service faster, does faster service raise satisfaction, and should "
                  "the firm roll it out to the branches that are not live yet?"),
        seed=104, n_customers=3000,
        overrides=_frozen({"service.golive_log_response": -0.6, "service.b2c_tickets_per_month": 0.2,
                           "customers.share_b2b": 0.03}),
        assumptions=_frozen({"min_top2_gain": 0.01}),
        rule=("roll out if the go-live significantly shortens first-response times (CI below 0) and the CSAT "
              "model predicts at least min_top2_gain more top-2-box ratings for the not-yet-live branches"),
        analyse=_analyse_financial),
    Case(
        name="ecommerce_churn", title="An e-commerce firm facing churn: using key indicators",
        title_zh="某电商企业客户流失", source="S002 Ch8 §2 (hypothetical in the text)", sector="e-commerce",
        context=("'Suppose an e-commerce enterprise faces customer churn': unstable product quality and slow "
                 "service responses drove dissatisfaction, and some customers left for lack of long-term value "
                 "and trust. The firm tightened quality control and trained its service team, added points "
                 "redemption, return visits and exclusive offers, and tracked repeat purchase, retention time "
                 "and recommendation before and after."),
        question=("Which lever cuts membership churn most: higher satisfaction (quality control, training), fewer "
                  "complaints (faster complaint handling), or the loyalty programme (points, return visits)?"),
        seed=105, n_customers=4000,
        overrides=_frozen({"churn.log_hr.satisfaction": -0.7, "churn.log_hr.recent_complaint": 0.9,
                           "service.complaint_logit": -0.6, "churn.membership_rate": 0.8}),
        assumptions=_frozen({"satisfaction_shift_sd": 0.25, "complaints_prevented": 0.5, "enrol_share": 0.5,
                             "interval_draws": 400, "interval_seed": 0}),
        rule=("fit a Cox model of churn; apply each lever's assumed size (satisfaction +0.25 SD; half of the "
              "complaints prevented; half of the non-members enrolled) to the members' exposure and invest "
              "first in the lever with the largest reduction of the churn hazard"),
        analyse=_analyse_ecommerce),
)}


_FIGURE_NAMES = {  # the key figures each analysis returns (kept in sync by the tests)
    "securities_a": ["att_monthly_retention", "att_ci_lower", "att_ci_upper", "twfe_estimate",
                     "baseline_monthly_retention", "monthly_margin_per_member", "equity_gain_per_member",
                     "members_in_branches_not_live", "rollout_cost_per_member", "net_value_of_rollout",
                     "revenue_share_loyalty_cell"],
    "manufacturer": ["silo_records", "customers_after_linkage", "true_customers_in_silos", "linkage_precision",
                     "linkage_recall", "linkage_f1", "link_threshold", "b2b_accounts", "best_lever_gain_points",
                     "second_lever_gain_points"],
    "retailer": ["campaign_members", "uplift_all", "uplift_all_ci_lower", "uplift_all_ci_upper",
                 "uplift_coupon_users", "uplift_other_members", "share_coupon_users", "value_per_retained_member",
                 "offer_cost", "breakeven_uplift"],
    "financial": ["tickets", "golive_log_response_effect", "golive_effect_ci_lower", "golive_effect_ci_upper",
                  "response_time_change_pct", "csat_log_response_coef", "tickets_in_branches_not_live",
                  "top2_csat_now", "top2_csat_after_rollout", "top2_csat_gain", "min_top2_gain"],
    "ecommerce_churn": ["members", "churn_events", "hr_satisfaction_per_sd", "hr_recent_complaint",
                        "hr_loyalty_member", "share_member_months_with_recent_complaint",
                        "best_lever_hazard_reduction", "second_lever_hazard_reduction"],
}


# ====================================================================================
# public API
# ====================================================================================
def list_cases() -> pd.DataFrame:
    """The registry as a table: name, title, 中文, source, sector, default seed and size, question.

    >>> list_cases().loc["retailer", "source"]
    'S000 §7.3 case 2'
    """
    rows = [{"name": c.name, "title": c.title, "title_zh": c.title_zh, "source": c.source, "sector": c.sector,
             "seed": c.seed, "n_customers": c.n_customers, "question": c.question} for c in CASES.values()]
    return pd.DataFrame(rows).set_index("name")


def get_case(name: str) -> Case:
    """The :class:`Case` called ``name``; unknown names raise ParameterError listing the cases."""
    if not isinstance(name, str) or name not in CASES:
        close = difflib.get_close_matches(str(name), list(CASES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParameterError(f"unknown case {name!r}{hint}", fix=f"use one of {list(CASES)}; see crmlab case --list")
    return CASES[name]


def _check_run_args(case: Case, seed, n_customers) -> tuple[int, int]:
    if seed is None:
        seed = case.seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParameterError(f"seed must be a whole number >= 0, got {seed!r}",
                             fix=f"e.g. seed=7 (the case's own seed is {case.seed})")
    if n_customers is None:
        n_customers = case.n_customers
    if isinstance(n_customers, bool) or not isinstance(n_customers, numbers.Integral) \
            or n_customers < case.min_customers:
        raise ParameterError(f"n_customers must be a whole number >= {case.min_customers} for case "
                             f"{case.name!r}, got {n_customers!r}",
                             fix=f"use at least {case.min_customers} customers (default {case.n_customers})")
    return int(seed), int(n_customers)


def _blas_threads(n_customers: int):
    """The case worlds are small: their regressions use matrices of a few hundred columns, for
    which multi-threaded BLAS only adds overhead (and stalls on a busy machine). One BLAS
    thread below 100,000 customers; the library default above."""
    return nullcontext() if n_customers >= 100_000 else single_thread()


def run_case(name: str, seed: int | None = None, n_customers: int | None = None) -> CaseResult:
    """Regenerate case ``name``'s world variant and run its analysis and decision rule.

    ``seed`` and ``n_customers`` default to the case's own; pass another seed to see how
    much the estimates and the decision depend on the draw. Deterministic: the same
    arguments give the same result.
    """
    case = get_case(name)
    seed, n = _check_run_args(case, seed, n_customers)
    with _blas_threads(n):
        world = case.world(seed, n)
        out = case.analyse(world, case.assumptions)
    return CaseResult(case=case, seed=seed, n_customers=n, figures=out["figures"], tables=out["tables"],
                      recovery=out["recovery"], choice=out["choice"], decision=out["decision"],
                      choice_under_truth=out["choice_under_truth"],
                      decision_under_truth=out["decision_under_truth"], world=world)


def seed_sweep(name: str, seeds, n_customers: int | None = None, figures=()) -> pd.DataFrame:
    """Run case ``name`` once per seed: does the decision hold up, and does recovery?

    One row per seed with the rule's ``choice`` on the estimates, ``choice_under_truth``,
    whether they ``match``, the share of planted values inside their 95% CI
    (``share_inside_ci``) and any ``figures`` you name. A researcher's check of how much a
    case's conclusion depends on the draw (and, with ``n_customers``, on the sample size).

    >>> sweep = seed_sweep("ecommerce_churn", [1], n_customers=1000)
    >>> list(sweep.columns[:4])
    ['seed', 'choice', 'choice_under_truth', 'match']
    """
    case = get_case(name)
    seeds = [seeds] if isinstance(seeds, numbers.Integral) else list(seeds)
    if not seeds:
        raise ParameterError("seeds is empty", fix="pass a list of seeds, e.g. range(1, 11)")
    figures = [figures] if isinstance(figures, str) else list(figures)
    unknown = [f for f in figures if f not in _FIGURE_NAMES[case.name]]
    if unknown:
        raise ParameterError(f"unknown figure(s) {unknown} for case {name!r}",
                             fix=f"use some of {_FIGURE_NAMES[case.name]}")
    rows = []
    for seed in seeds:
        res = run_case(name, seed=seed, n_customers=n_customers)
        inside = res.recovery["inside_ci"].dropna()
        rows.append({"seed": res.seed, "choice": res.choice, "choice_under_truth": res.choice_under_truth,
                     "match": res.decision_matches_truth,
                     "share_inside_ci": float(inside.astype(bool).mean()) if len(inside) else np.nan,
                     **{f: res.figures[f] for f in figures}})
    return pd.DataFrame(rows)


def plot_recovery(results, ax=None):
    """Forest plot of every estimate (with its 95% CI) divided by its planted value.

    ``results`` is one :class:`CaseResult` or a list of them; rows whose planted value is 0
    or that have no CI are left out. Points on the dashed line at 1 recover the truth exactly.
    """
    from . import plots

    results = [results] if isinstance(results, CaseResult) else list(results)
    if not results or not all(isinstance(r, CaseResult) for r in results):
        raise ParameterError("results must be a CaseResult or a non-empty list of them",
                             fix="pass run_case(...) output")
    rows = []
    for res in results:
        rec = res.recovery.dropna(subset=["ci_lower", "planted"])
        rec = rec[rec["planted"] != 0]
        for q, r in rec.iterrows():
            p = r["planted"]
            lo, hi = sorted([r["ci_lower"] / p, r["ci_upper"] / p])
            rows.append((f"{res.name}: {q}", r["estimate"] / p, lo, hi))
    if ax is None:
        _, ax = plots.subplots(figsize=(9.5, 0.36 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    for yi, (_, est, lo, hi) in zip(y, rows, strict=True):
        inside = lo <= 1 <= hi
        color = plots.PALETTE[0] if inside else plots.PALETTE[3]
        ax.plot([lo, hi], [yi, yi], color=color, lw=2)
        ax.plot([est], [yi], "o", color=color)
    ax.axvline(1.0, color="#555555", ls="--", lw=1)
    ax.set_yticks(y, [r[0] for r in rows])
    return plots.finish(ax, title="Estimates relative to the planted truth (95% CI)",
                        xlabel="estimate / planted value", legend=False)
