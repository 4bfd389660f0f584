"""CRM performance evaluation (CRM绩效评估): indicators, weights, evaluation methods, DiD.

The source texts list a six-indicator system (S000 §8.1: satisfaction, loyalty, retention,
customer acquisition cost, customer profit contribution, relationship-maintenance cost) and
four evaluation methods (S000 §8.2: quantitative, qualitative, composite, benchmarking), and
ask for key indicators that are measurable, balanced and computed by a stated formula
(S002 Ch7). They give no numbers: every figure here comes from the SYNTHETIC world.

* :func:`indicator_system` computes every indicator per branch (or company) and period from
  the micro tables; :data:`INDICATORS` / :func:`indicator_catalogue` document each one once
  (formula, unit, direction, 中文 name, source section); :func:`check_against_branch_kpis`
  reconciles the result with the branch reports.
* weights: :class:`AHP` (principal eigenvector, Saaty's consistency ratio, enforced) and
  :func:`entropy_weights`;
* the four methods: :func:`quantitative_evaluation` (each trend tested by
  :func:`trend_test`), :func:`qualitative_evaluation` (on
  coded interviews, e.g. from :func:`simulate_interviews`), :func:`composite_index`
  (weighted sum or TOPSIS) and :func:`benchmark` (gap to the best branch);
* :class:`StaggeredDiD`: before/after, two-way fixed effects and the heterogeneity-robust
  imputation estimator for the staggered CRM go-live, with an event study;
* :func:`plot_scorecard` (balanced-scorecard dashboard) and :func:`benefits_calculator`
  (every assumption supplied by the user; nothing attributed to any source).

>>> import numpy as np
>>> ahp = AHP().fit([[1, 3, 5], [1/3, 1, 3], [1/5, 1/3, 1]], criteria=["satisfaction", "retention", "cost"])
>>> ahp.weights_.round(3).tolist(), round(ahp.cr_, 3)
([0.637, 0.258, 0.105], 0.033)
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .base import Fitter, TestResult, summary_frame
from .errors import ConvergenceError, DataValidationError, ParameterError
from .validation import (
    check_binary,
    check_ci_level,
    check_column_list,
    check_column_name,
    check_count,
    check_date_order,
    check_dates,
    check_frame,
    check_in_range,
    check_named_weights,
    check_numeric,
    check_option,
    check_random_state,
    check_scalar,
    check_timestamp,
    check_unique,
    coding_advice,
    require_columns,
)

__all__ = [
    "Indicator",
    "INDICATORS",
    "PERSPECTIVES",
    "indicator_catalogue",
    "indicator_system",
    "check_against_branch_kpis",
    "SAATY_RANDOM_INDEX",
    "AHP",
    "entropy_weights",
    "trend_test",
    "quantitative_evaluation",
    "simulate_interviews",
    "INTERVIEW_THEMES",
    "qualitative_evaluation",
    "composite_index",
    "benchmark",
    "plot_benchmark",
    "StaggeredDiD",
    "plot_scorecard",
    "BenefitsResult",
    "benefits_calculator",
    "benefits_scenarios",
]


# ------------------------------------------------------------------------------------
# the indicator catalogue
# ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    """One key indicator: how it is computed, its unit and which direction is better."""

    name: str
    chinese: str
    formula: str
    unit: str
    direction: int  # +1: higher is better, -1: lower is better
    perspective: str  # balanced-scorecard perspective
    source: str  # where the source texts name it ([EXT] = standard practice, not in them)


PERSPECTIVES = {
    "financial": "财务",
    "customer": "客户",
    "internal_process": "内部流程",
    "learning_growth": "学习与成长",
}

_I = Indicator
INDICATORS: dict[str, Indicator] = {i.name: i for i in [
    _I("satisfaction_ticket", "客户满意度(工单)", "mean post_ticket_csat of the answered tickets opened in the period",
       "1-5", +1, "customer", "S000 §8.1(1)"),
    _I("satisfaction_survey", "客户满意度(调查)", "mean survey csat_1_5 of responses dated in the period "
       "(missing in periods without a survey wave)", "1-5", +1, "customer", "S000 §8.1(1); S002 Ch1 §1"),
    _I("nps", "净推荐值", "% of survey respondents scoring recommend_0_10 9-10 minus % scoring 0-6",
       "points", +1, "customer", "S002 Ch1 §1 (willingness to recommend); NPS [EXT]"),
    _I("repeat_purchase_rate", "重复购买率", "buyers in the period with a purchase that is not their first-ever "
       "purchase / buyers in the period", "share", +1, "customer", "S000 §8.1(2)"),
    _I("referral_rate", "推荐率", "B2C customers with >= 1 referral / B2C customers active in the window "
       "(whole window only: customers.referrals is undated)", "share", +1, "customer", "S000 §8.1(2)"),
    _I("retention_rate", "客户保留率", "1 - members_churned / members_start (members active at the period start)",
       "share", +1, "customer", "S000 §8.1(3)"),
    _I("churn_rate", "客户流失率", "members_churned / members_start", "share", -1, "customer", "S000 §2.2.2"),
    _I("cac", "客户获得成本", "marketing_spend / new_customers (acquisition cost of customers who signed up "
       "in the period)", "CNY per new customer", -1, "financial", "S000 §8.1(4)"),
    _I("profit_contribution", "客户利润贡献", "gross_margin - service_cost", "CNY", +1, "financial",
       "S000 §8.1(5)"),
    _I("profit_per_customer", "单客利润贡献", "profit_contribution / active_customers", "CNY per active customer",
       +1, "financial", "S000 §8.1(5)"),
    _I("maintenance_cost_per_customer", "客户关系维护成本", "service_cost / active_customers, service_cost = "
       "tickets x cost_per_ticket", "CNY per active customer", -1, "financial", "S000 §8.1(6)"),
    _I("complaint_rate", "客户投诉率", "complaint tickets / active_customers", "complaints per active customer",
       -1, "internal_process", "S000 §8.3(2)"),
    _I("median_first_response_hours", "首次响应时长", "median first_response_hours of tickets opened in the period",
       "hours", -1, "internal_process", "S002 Ch1 §1, Ch7 §2 (response speed)"),
    _I("median_resolution_hours", "问题解决时效", "median resolution_hours of tickets opened in the period",
       "hours", -1, "internal_process", "S002 Ch1 §1, Ch7 §2 (resolution time)"),
    _I("fcr_rate", "首次接触解决率", "share of tickets resolved at the first contact", "share", +1,
       "internal_process", "S002 Ch7 §2 [EXT formula]"),
    _I("sla_met_rate", "服务水平达成率", "share of tickets whose first response met the channel SLA", "share",
       +1, "internal_process", "S000 §5.1(3) (service standards)"),
    _I("clv", "客户生命周期价值", "profit_per_customer_month x (1 + d) / (1 + d - r), r = monthly retention, "
       "d = monthly discount rate", "CNY per customer", +1, "financial", "S002 Ch2 §2, Ch7 §3 [EXT formula]"),
    _I("clv_cac", "客户生命周期价值与客户获得成本之比", "clv / cac", "ratio", +1, "financial", "[EXT] (S003 §1: keep the "
       "cost of acquiring and retaining customers low)"),
    _I("crm_live", "CRM系统上线", "share of the period's months in which the branch's CRM system was live",
       "share", +1, "learning_growth", "S000 §8.3(6) (improve the CRM information system)"),
]}
del _I

_COUNTS = ["active_customers", "members_start", "members_churned", "new_customers", "marketing_spend",
           "purchasing_customers", "revenue", "gross_margin", "tickets", "complaints", "service_cost"]


def indicator_catalogue() -> pd.DataFrame:
    """Every indicator of :func:`indicator_system`, documented once.

    >>> cat = indicator_catalogue()
    >>> cat.loc["cac", "chinese"], int(cat.loc["cac", "direction"])
    ('客户获得成本', -1)
    """
    rows = [{"indicator": i.name, "chinese": i.chinese, "formula": i.formula, "unit": i.unit,
             "direction": i.direction, "better": "higher" if i.direction > 0 else "lower",
             "perspective": i.perspective, "source": i.source} for i in INDICATORS.values()]
    return pd.DataFrame(rows).set_index("indicator")


# the range of each catalogue unit: a value outside it is a data error, not a finding
_UNIT_RANGES = {"share": (0.0, 1.0), "1-5": (1.0, 5.0), "points": (-100.0, 100.0)}
_NON_NEGATIVE_UNITS = ("CNY per new customer", "CNY per active customer", "hours",
                       "complaints per active customer")


def _check_indicator_ranges(table: pd.DataFrame, columns, name: str) -> None:
    """Catalogue indicators must lie in their unit's range (a retention rate of 1.5 is an error)."""
    for col in columns:
        ind = INDICATORS.get(col)
        if ind is None:
            continue
        if ind.unit in _UNIT_RANGES:
            lo, hi = _UNIT_RANGES[ind.unit]
            what = "rates" if ind.unit == "share" else f"values on the {ind.unit} scale"
            check_in_range(table, col, lo, hi, name, what=what)
        elif ind.unit in _NON_NEGATIVE_UNITS:
            check_in_range(table, col, 0, None, name, what=f"values in {ind.unit}")


def _is_label(value) -> bool:
    """A value that can name a row (a branch id): hashable and not a container."""
    try:
        hash(value)
    except TypeError:
        return False
    return not isinstance(value, (tuple, frozenset))


def _directions(columns, directions=None) -> dict[str, int]:
    """+1/-1 per column: user-supplied, else from the catalogue."""
    out = {}
    if directions is not None and not isinstance(directions, (dict, pd.Series)):
        raise ParameterError(f"directions must be a dict {{column: +1 or -1}}, got {type(directions).__name__}",
                             fix="e.g. directions={'interview_score': 1}")
    directions = dict(directions or {})
    for col in columns:
        if col in directions:
            d = directions[col]
        elif col in INDICATORS:
            d = INDICATORS[col].direction
        else:
            raise ParameterError(
                f"no direction known for column {col!r}",
                fix=f"pass directions={{{col!r}: 1}} (higher is better) or -1 (lower is better)")
        if isinstance(d, bool) or d not in (1, -1):
            raise ParameterError(f"direction of {col!r} must be +1 or -1, got {d!r}",
                                 fix="use +1 for higher-is-better and -1 for lower-is-better indicators")
        out[col] = int(d)
    return out


# ------------------------------------------------------------------------------------
# computing the indicator system from the micro tables
# ------------------------------------------------------------------------------------
_FREQS = {"M": "MS", "Q": "QS", "Y": "YS"}


def _get(world, name: str, required: bool = True):
    if isinstance(world, dict):
        table = world.get(name)
    else:
        tables = getattr(world, "tables", None)
        table = tables.get(name) if isinstance(tables, dict) else getattr(world, name, None)
    if table is None and required:
        raise ParameterError(
            f"world has no table {name!r}",
            fix="pass a World (crmlab.datasets.load_world() or generate_world()) or a dict of tables "
                "with customers, transactions, memberships, tickets, survey and branches")
    return table


def _validated_tables(world) -> dict[str, pd.DataFrame]:
    t = {}
    t["customers"] = check_frame(
        _get(world, "customers"), "customers",
        required=["customer_id", "branch_id", "customer_type", "referrals"],
        no_nan=["customer_id", "branch_id", "acquisition_cost", "signup_date"],
        non_negative=["acquisition_cost", "referrals"], dates=["signup_date"])
    check_unique(t["customers"], "customer_id", "customers")
    t["transactions"] = check_frame(
        _get(world, "transactions"), "transactions", required=["customer_id", "transaction_id"],
        no_nan=["customer_id", "amount", "gross_margin", "date"], non_negative=["amount"],
        numeric=["gross_margin"], dates=["date"], min_rows=0)
    mem = check_frame(_get(world, "memberships"), "memberships", required=["customer_id", "end_date"],
                      no_nan=["customer_id", "start_date"], dates=["start_date"], min_rows=0)
    check_date_order(mem, "start_date", "end_date", "memberships")
    t["memberships"] = mem
    t["tickets"] = check_frame(
        _get(world, "tickets"), "tickets",
        required=["customer_id", "type", "first_contact_resolution", "sla_met", "post_ticket_csat"],
        no_nan=["customer_id", "first_response_hours", "resolution_hours", "opened_at"],
        non_negative=["first_response_hours", "resolution_hours"], dates=["opened_at"], min_rows=0)
    t["survey"] = check_frame(_get(world, "survey"), "survey", required=["customer_id", "csat_1_5",
                              "recommend_0_10"], dates=["response_date"], min_rows=0)
    t["branches"] = check_frame(_get(world, "branches"), "branches",
                                required=["branch_id", "crm_golive_date"], no_nan=["branch_id"])
    check_unique(t["branches"], "branch_id", "branches")
    check_dates(t["branches"], "crm_golive_date", "branches", allow_nat=True)
    check_unique(t["transactions"], "transaction_id", "transactions")
    for name, cols in (("tickets", ["first_contact_resolution", "sla_met"]),):
        for col in cols:
            check_binary(t[name], col, name)
    b2b = _get(world, "b2b_accounts", required=False)
    if b2b is not None:
        t["b2b_accounts"] = check_frame(b2b, "b2b_accounts", required=["account_id", "month"],
                                        dates=["month"], min_rows=0)
    unknown = set(t["customers"]["branch_id"]) - set(t["branches"]["branch_id"])
    if unknown:
        raise DataValidationError(f"customers reference branch(es) {sorted(unknown)[:5]} missing from branches",
                                  fix="add them to the branches table or drop those customers")
    return t


def indicator_system(world, *, freq: str = "M", level: str = "branch", period_start=None, period_end=None,
                     branches=None, cost_per_ticket: float = 25.0,
                     annual_discount_rate: float = 0.10) -> pd.DataFrame:
    """Every CRM indicator of :data:`INDICATORS` per branch (or company) and period.

    Parameters
    ----------
    world : World or dict of DataFrames
        Needs ``customers``, ``transactions``, ``memberships``, ``tickets``, ``survey`` and
        ``branches`` (``b2b_accounts`` optional: its active accounts count as active customers).
    freq : {"M", "Q", "Y", "all"}
        Period length; ``"all"`` is one period from ``period_start`` to ``period_end`` (the only
        one with a ``referral_rate``, because referrals are not dated).
    level : {"branch", "company"}
        One row per branch and period, or per period for the whole company.
    period_start, period_end : date-like, optional
        The reporting window, both days inclusive (``"2025-01-01"``, ``"2025-12-31"``);
        defaults to the span of the ticket and transaction dates, whole months.
    branches : list of str, optional
        Restrict to these branches (each must have customers).
    cost_per_ticket : float
        Handling cost per ticket (CNY) behind ``service_cost``: an ASSUMPTION (the world uses 25).
    annual_discount_rate : float
        Discount rate of the CLV formula (an assumption, 10% by default).

    Returns
    -------
    DataFrame
        ``branch_id`` (``"ALL"`` at company level), ``period`` (first day), ``period_end`` (last
        day, inclusive), the
        count columns (``active_customers``, ``members_start`` ...) and one column per indicator.
        Active customers = customers with a purchase, a ticket, a membership active in the
        period, or an active B2B account month.

    Examples
    --------
    >>> from crmlab import datasets
    >>> kp = indicator_system(datasets.load_world(), freq="Y", level="company")
    >>> kp["retention_rate"].round(3).tolist(), kp["cac"].round(1).tolist()
    ([0.688, 0.784, 0.798], [164.1, 132.7, 134.8])
    """
    check_option(freq, "freq", ["M", "Q", "Y", "all"])
    check_option(level, "level", ["branch", "company"])
    check_scalar(cost_per_ticket, "cost_per_ticket", numbers.Real, 0)
    check_scalar(annual_discount_rate, "annual_discount_rate", numbers.Real, 0, 1)
    t = _validated_tables(world)
    cust, tx, mem, tk, sv, br = (t[k] for k in ("customers", "transactions", "memberships", "tickets",
                                                 "survey", "branches"))
    if branches is not None:
        branches = [branches] if isinstance(branches, str) else list(branches)
        if not branches:
            raise ParameterError("branches is empty", fix="pass None for every branch, or a list of branch ids")
        have = set(cust["branch_id"])
        empty = [b for b in branches if b not in have]
        if empty:
            raise DataValidationError(
                f"branch(es) {empty} have no data (no customers)",
                fix=f"choose among the branches with customers: {sorted(have)}")
    dates = pd.concat([pd.to_datetime(tx["date"]), pd.to_datetime(tk["opened_at"])])
    if dates.empty:
        raise DataValidationError("transactions and tickets are both empty, so there is no period to measure",
                                  fix="pass the full world's tables")
    rule = _FREQS.get(freq, "MS")
    lo = (check_timestamp(period_start, "period_start") if period_start is not None
          else dates.min().to_period("M").to_timestamp())
    # internally the window ends at midnight after its last day (exclusive)
    hi = (check_timestamp(period_end, "period_end").normalize() + pd.Timedelta(days=1) if period_end is not None
          else (dates.max().to_period("M") + 1).to_timestamp())
    if hi <= lo:
        raise ParameterError(f"period_end {(hi - pd.Timedelta(days=1)).date()} is before period_start {lo.date()}",
                             fix="swap the dates (both are inclusive), e.g. period_start='2025-01-01', "
                                 "period_end='2025-12-31'")
    if freq == "all":
        starts = pd.DatetimeIndex([lo])
        ends = pd.DatetimeIndex([hi])
    else:
        starts = pd.date_range(lo, hi, freq=rule, inclusive="left")
        if len(starts) == 0 or starts[0] != lo:
            starts = pd.DatetimeIndex([lo]).append(starts).unique()
        ends = starts[1:].append(pd.DatetimeIndex([hi]))
    if not len(starts):
        raise DataValidationError(f"the window {lo.date()} to {(hi - pd.Timedelta(days=1)).date()} is empty",
                                  fix="choose period_end after period_start")
    in_win = dates[(dates >= lo) & (dates < hi)]
    if in_win.empty:
        raise DataValidationError(
            f"no transactions or tickets between {lo.date()} and {(hi - pd.Timedelta(days=1)).date()}: the KPIs would be "
            "computed over an empty period",
            fix=f"choose a window inside the data, which runs from {dates.min().date()} to {dates.max().date()}")

    key = cust.set_index("customer_id")["branch_id"]
    if level == "company":
        key = pd.Series("ALL", index=key.index)
        groups = ["ALL"]
    else:
        groups = sorted(set(key)) if branches is None else sorted(branches)

    def period_of(ts: pd.Series) -> np.ndarray:
        ts = pd.to_datetime(ts).to_numpy()
        idx = np.searchsorted(starts.to_numpy(), ts, side="right") - 1
        ok = (ts >= lo.to_datetime64()) & (ts < hi.to_datetime64())
        return np.where(ok, idx, -1)

    n_p = len(starts)
    grid = pd.MultiIndex.from_product([groups, range(n_p)], names=["branch_id", "p"])

    def agg(df: pd.DataFrame, col_period: np.ndarray, **named) -> pd.DataFrame:
        d = df.assign(branch_id=key.reindex(df["customer_id"]).to_numpy(), p=col_period)
        d = d[(d["p"] >= 0) & d["branch_id"].isin(groups)]
        return d.groupby(["branch_id", "p"]).agg(**named).reindex(grid)

    out = pd.DataFrame(index=grid)
    # transactions: revenue, margin, buyers, repeat buyers
    tx = tx.sort_values(["customer_id", "date", "transaction_id"], kind="stable")
    first_tx = ~tx["customer_id"].duplicated()
    signup = cust.set_index("customer_id")["signup_date"].reindex(tx["customer_id"]).to_numpy()
    is_first = first_tx.to_numpy() & (pd.to_datetime(tx["date"]).to_numpy() == signup)
    tx = tx.assign(repeat_cust=np.where(~is_first, tx["customer_id"], -1))
    g = agg(tx, period_of(tx["date"]), purchasing_customers=("customer_id", "nunique"),
            repeat_buyers=("repeat_cust", lambda s: s[s >= 0].nunique()),
            revenue=("amount", "sum"), gross_margin=("gross_margin", "sum"))
    out = out.join(g.fillna(0))
    # tickets
    tk = tk.assign(complaint=(tk["type"] == "complaint").astype(int),
                   fcr=tk["first_contact_resolution"].astype(float), sla=tk["sla_met"].astype(float))
    g = agg(tk, period_of(tk["opened_at"]), tickets=("customer_id", "size"), complaints=("complaint", "sum"),
            median_first_response_hours=("first_response_hours", "median"),
            median_resolution_hours=("resolution_hours", "median"), fcr_rate=("fcr", "mean"),
            sla_met_rate=("sla", "mean"), satisfaction_ticket=("post_ticket_csat", "mean"))
    g[["tickets", "complaints"]] = g[["tickets", "complaints"]].fillna(0)
    out = out.join(g)
    # new customers and acquisition spend
    g = agg(cust, period_of(cust["signup_date"]), new_customers=("customer_id", "size"),
            marketing_spend=("acquisition_cost", "sum"))
    out = out.join(g.fillna(0).astype({"new_customers": int}))
    # survey
    sv = sv.assign(promoter=(sv["recommend_0_10"] >= 9).astype(float),
                   detractor=(sv["recommend_0_10"] <= 6).astype(float))
    g = agg(sv, period_of(sv["response_date"]), satisfaction_survey=("csat_1_5", "mean"),
            promoters=("promoter", "mean"), detractors=("detractor", "mean"))
    out["satisfaction_survey"] = g["satisfaction_survey"]
    out["nps"] = 100 * (g["promoters"] - g["detractors"])
    # memberships: active at each period start, churned inside the period; active any time
    m_key = key.reindex(mem["customer_id"]).to_numpy()
    m_start = pd.to_datetime(mem["start_date"]).to_numpy()
    m_end = pd.to_datetime(mem["end_date"]).to_numpy()
    no_end = np.isnat(m_end)
    active_sets: dict[tuple[str, int], set] = {}
    rows = []
    for p, (ps, pe) in enumerate(zip(starts.to_numpy(), ends.to_numpy(), strict=True)):
        alive = no_end | (m_end >= ps)
        at_start = (m_start <= ps) & alive
        churned = at_start & ~no_end & (m_end < pe)
        rows.append(pd.DataFrame({"branch_id": m_key, "p": p, "a": at_start, "c": churned}))
        during = (m_start < pe) & alive
        for b, ids in pd.Series(mem["customer_id"].to_numpy()[during]).groupby(m_key[during]):
            active_sets[(b, p)] = set(ids)
    mm = pd.concat(rows).groupby(["branch_id", "p"])[["a", "c"]].sum().reindex(grid).fillna(0)
    out["members_start"] = mm["a"].astype(int)
    out["members_churned"] = mm["c"].astype(int)
    # active customers: union over purchase, ticket, membership and B2B activity
    pieces = [tx[["customer_id"]].assign(p=period_of(tx["date"])),
              tk[["customer_id"]].assign(p=period_of(tk["opened_at"]))]
    if "b2b_accounts" in t:
        b2b = t["b2b_accounts"]
        pieces.append(pd.DataFrame({"customer_id": b2b["account_id"].to_numpy(), "p": period_of(b2b["month"])}))
    ev = pd.concat(pieces)
    ev = ev[ev["p"] >= 0].assign(branch_id=lambda d: key.reindex(d["customer_id"]).to_numpy())
    active = []
    for (b, p), ids in ev.groupby(["branch_id", "p"])["customer_id"]:
        active_sets[(b, p)] = active_sets.get((b, p), set()) | set(ids.to_numpy().tolist())
    for b, p in grid:
        active.append(len(active_sets.get((b, p), ())))
    out["active_customers"] = active
    # CRM go-live: share of the period's months live
    live_share = []
    glive = br.set_index("branch_id")["crm_golive_date"]
    for b, p in grid:
        months = pd.date_range(starts[p], ends[p], freq="MS", inclusive="left")
        if len(months) == 0:
            months = pd.DatetimeIndex([starts[p]])
        if b == "ALL":
            gl = pd.to_datetime(glive).to_numpy()
            share = np.mean([(np.where(np.isnat(gl), False, gl <= m.to_datetime64())).mean() for m in months])
        else:
            g_ = glive.get(b, pd.NaT)
            share = 0.0 if pd.isna(g_) else float(np.mean(months >= g_))
        live_share.append(share)
    out["crm_live"] = live_share
    # derived indicators
    act_ = out["active_customers"].where(out["active_customers"] > 0)
    out["service_cost"] = out["tickets"] * float(cost_per_ticket)
    out["retention_rate"] = 1 - out["members_churned"] / out["members_start"].where(out["members_start"] > 0)
    out["churn_rate"] = 1 - out["retention_rate"]
    out["repeat_purchase_rate"] = out["repeat_buyers"] / out["purchasing_customers"].where(
        out["purchasing_customers"] > 0)
    out["cac"] = out["marketing_spend"] / out["new_customers"].where(out["new_customers"] > 0)
    out["profit_contribution"] = out["gross_margin"] - out["service_cost"]
    out["profit_per_customer"] = out["profit_contribution"] / act_
    out["maintenance_cost_per_customer"] = out["service_cost"] / act_
    out["complaint_rate"] = out["complaints"] / act_
    months_in = np.array([max(len(pd.date_range(starts[p], ends[p], freq="MS", inclusive="left")), 1)
                          for _b, p in grid])
    d_m = (1 + annual_discount_rate) ** (1 / 12) - 1
    r_m = out["retention_rate"].clip(upper=0.999) ** (1 / months_in)
    out["clv"] = out["profit_per_customer"] / months_in * (1 + d_m) / (1 + d_m - r_m)
    out["clv_cac"] = out["clv"] / out["cac"]
    if freq == "all":
        b2c = cust[cust["customer_type"] == "B2C"]
        act_ids = set().union(*[s for (b, p), s in active_sets.items()]) if active_sets else set()
        b2c = b2c[b2c["customer_id"].isin(act_ids)]
        kb = key.reindex(b2c["customer_id"]).to_numpy()
        ref = (b2c["referrals"].to_numpy() > 0).astype(float)
        rr = pd.Series(ref).groupby(kb).mean()
        out["referral_rate"] = [rr.get(b, np.nan) for b, _p in grid]
    out = out.reset_index()
    out.insert(1, "period", starts[out["p"].to_numpy()])
    out.insert(2, "period_end", ends[out["p"].to_numpy()] - pd.Timedelta(days=1))  # last day, inclusive
    ind_cols = [c for c in INDICATORS if c in out.columns]
    out = out[["branch_id", "period", "period_end", *_COUNTS, *ind_cols]]
    return out.reset_index(drop=True)


def check_against_branch_kpis(indicators: pd.DataFrame, branch_kpis: pd.DataFrame) -> pd.DataFrame:
    """Largest absolute difference between :func:`indicator_system` (monthly, per branch)
    and the columns the branches report in ``branch_kpis``.

    Differences at rounding level (``branch_kpis`` rounds to 2-5 decimals) mean the micro
    tables and the reports agree.

    >>> from crmlab import datasets
    >>> w = datasets.load_world()
    >>> chk = check_against_branch_kpis(indicator_system(w), w.branch_kpis)
    >>> bool((chk["max_abs_diff"] < 0.01).all())
    True
    """
    pairs = {"members_start": "members_start", "members_churned": "members_churned",
             "retention_rate": "retention_rate", "new_customers": "new_customers",
             "marketing_spend": "marketing_spend", "cac": "cac", "purchasing_customers": "purchasing_customers",
             "revenue": "revenue", "gross_margin": "gross_margin", "tickets": "tickets",
             "complaints": "complaints", "median_first_response_hours": "median_first_response_hours",
             "sla_met_rate": "sla_met_rate", "satisfaction_ticket": "mean_post_ticket_csat",
             "service_cost": "service_cost", "crm_live": "crm_live"}
    check_frame(indicators, "indicators", required=["branch_id", "period"], dates=["period"])
    check_frame(branch_kpis, "branch_kpis", required=["branch_id", "month"], dates=["month"])
    check_unique(indicators, ["branch_id", "period"], "indicators")
    check_unique(branch_kpis, ["branch_id", "month"], "branch_kpis")
    if "period_end" in indicators:
        months = (pd.to_datetime(indicators["period"]) + pd.offsets.MonthEnd(0)) != check_dates(
            indicators, "period_end", "indicators")
        if months.any():
            raise DataValidationError("indicators are not monthly: branch_kpis reports calendar months",
                                      fix="compute them with indicator_system(world, freq='M', level='branch')")
    m = indicators.assign(period=pd.to_datetime(indicators["period"])).merge(
        branch_kpis.assign(month=pd.to_datetime(branch_kpis["month"])), left_on=["branch_id", "period"],
        right_on=["branch_id", "month"], suffixes=("", "_reported"))
    if m.empty:
        raise DataValidationError("no branch-month matches between indicators and branch_kpis",
                                  fix="compute the indicators with freq='M', level='branch'")
    pairs = {k: v for k, v in pairs.items() if k in indicators and v in branch_kpis}
    check_numeric(indicators, list(pairs), "indicators")
    check_numeric(branch_kpis, list(pairs.values()), "branch_kpis")
    rows = []
    for mine, theirs in pairs.items():
        rep = m[theirs + "_reported"] if theirs + "_reported" in m else m[theirs]
        diff = (m[mine].astype(float) - rep.astype(float)).abs()
        both_nan = m[mine].isna() & rep.isna()
        rows.append({"indicator": mine, "reported_as": theirs, "cells": int(len(m)),
                     "max_abs_diff": float(diff[~both_nan].max(skipna=True)) if (~both_nan).any() else 0.0,
                     "missing_mismatch": int((m[mine].isna() ^ rep.isna()).sum())})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------
# weights: AHP and entropy
# ------------------------------------------------------------------------------------
# Saaty's random consistency index RI(n): mean consistency index of random reciprocal
# matrices on the 1-9 scale (Saaty 1980, The Analytic Hierarchy Process, McGraw-Hill).
SAATY_RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45,
                      10: 1.49}


def _saaty_value(x: float) -> str:
    """Nearest judgement on Saaty's 1-9 scale, written as 'k' or '1/k'."""
    k = int(np.clip(np.rint(x if x >= 1 else 1 / x), 1, 9))
    return str(k) if x >= 1 else f"1/{k}"


class AHP(Fitter):
    """Analytic hierarchy process (层次分析法) weights from a pairwise comparison matrix.

    ``a[i, j]`` says how much more important criterion ``i`` is than ``j`` on Saaty's 1-9
    scale; the matrix must be positive and reciprocal (``a[j, i] = 1 / a[i, j]``). The
    weights are the principal right eigenvector (normalised to sum to one), the
    consistency index is ``CI = (lambda_max - n) / (n - 1)`` and the consistency ratio
    ``CR = CI / RI(n)`` with Saaty's random index :data:`SAATY_RANDOM_INDEX`. Judgements
    with ``CR >= max_cr`` (0.10, Saaty's rule) are refused with the judgement that
    contributes most to the inconsistency and a value that would fit the others.

    Parameters
    ----------
    max_cr : float
        Largest acceptable consistency ratio.
    enforce : bool
        Raise on ``CR >= max_cr`` (default). ``False`` only reports it (``consistent_``),
        e.g. to show students an inconsistent matrix.

    Notes
    -----
    The criterion names go to :meth:`fit` with the judgements (``criteria=``; taken from a
    DataFrame's index, or a dict's keys, when omitted).

    Attributes
    ----------
    weights_ : Series
        The criteria's weights (sum to one).
    lambda_max_, ci_, ri_, cr_ : float
        Principal eigenvalue, consistency index, random index and consistency ratio.
    consistent_ : bool
        Whether ``cr_ < max_cr``.
    matrix_ : DataFrame
        The judgement matrix, labelled by criterion.
    n_obs_ : int
        Number of criteria.
    summary : DataFrame
        Weight and rank per criterion; the consistency statistics in ``summary.attrs``.

    Examples
    --------
    Saaty (2008, Int. J. Services Sciences 1(1), 83-98) estimates relative drink
    consumption in the US from judgements alone:

    >>> drinks = ["coffee", "wine", "tea", "beer", "sodas", "milk", "water"]
    >>> upper = {("coffee", "wine"): 9, ("coffee", "tea"): 5, ("coffee", "beer"): 2,
    ...          ("coffee", "sodas"): 1, ("coffee", "milk"): 1, ("coffee", "water"): 1/2,
    ...          ("wine", "tea"): 1/3, ("wine", "beer"): 1/9, ("wine", "sodas"): 1/9,
    ...          ("wine", "milk"): 1/9, ("wine", "water"): 1/9, ("tea", "beer"): 1/3,
    ...          ("tea", "sodas"): 1/4, ("tea", "milk"): 1/3, ("tea", "water"): 1/9,
    ...          ("beer", "sodas"): 1/2, ("beer", "milk"): 1, ("beer", "water"): 1/3,
    ...          ("sodas", "milk"): 2, ("sodas", "water"): 1/2, ("milk", "water"): 1/3}
    >>> ahp = AHP().fit(upper, criteria=drinks)
    >>> ahp.weights_.round(3).tolist()
    [0.177, 0.019, 0.042, 0.116, 0.19, 0.129, 0.327]
    >>> round(ahp.cr_, 3)
    0.022
    """

    _unit = "criteria"

    def __init__(self, max_cr: float = 0.10, enforce: bool = True):
        check_scalar(max_cr, "max_cr", numbers.Real, 0, 1, low_inclusive=False)
        if not isinstance(enforce, (bool, np.bool_)):
            raise ParameterError(f"enforce must be True or False, got {enforce!r}",
                                 fix="enforce=False only reports an inconsistent matrix instead of refusing it")
        self.max_cr = max_cr
        self.enforce = enforce

    @staticmethod
    def _names(criteria):
        if criteria is None:
            return None
        if isinstance(criteria, str) or not hasattr(criteria, "__iter__"):
            raise ParameterError(f"criteria must be a list of names, got {criteria!r}",
                                 fix="e.g. criteria=['satisfaction', 'retention', 'cost']")
        names = [str(c) for c in criteria]
        if len(set(names)) != len(names) or not names:
            raise ParameterError(f"criteria must be distinct names, got {names}", fix="give each criterion once")
        return names

    def _matrix(self, matrix, criteria) -> pd.DataFrame:
        if isinstance(matrix, dict):
            if not matrix:
                raise ParameterError("the judgements dict is empty",
                                     fix="give {(a, b): value} for every pair of criteria")
            names = criteria or list(dict.fromkeys(x for pair in matrix
                                                   for x in (pair if isinstance(pair, tuple) else (pair,))))
            n = len(names)
            pos = {c: i for i, c in enumerate(names)}
            a = np.full((n, n), np.nan)
            np.fill_diagonal(a, 1.0)
            for pair, v in matrix.items():
                if not (isinstance(pair, tuple) and len(pair) == 2) or pair[0] not in pos or pair[1] not in pos:
                    raise ParameterError(f"judgement key {pair!r} is not a pair of known criteria",
                                         fix=f"use keys like ({names[0]!r}, {names[-1]!r}) with criteria {names}")
                i, j = pos[pair[0]], pos[pair[1]]
                if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.number)):
                    raise ParameterError(f"judgement {pair} must be a number on Saaty's scale, got {v!r}",
                                         fix="use 1/9 ... 1 ... 9, e.g. 3 or 1/3")
                if not np.isnan(a[i, j]) and i != j and not np.isclose(a[i, j], v):
                    raise ParameterError(f"judgement {pair} is given twice with different values",
                                         fix="give each pair once (the reciprocal is filled in)")
                a[i, j] = v
                if v > 0 and np.isnan(a[j, i]):
                    a[j, i] = 1 / v
            missing = [(names[i], names[j]) for i, j in zip(*np.nonzero(np.isnan(a)), strict=True) if i < j]
            if missing:
                raise ParameterError(f"{len(missing)} pairwise judgement(s) are missing, e.g. {missing[0]}",
                                     fix="give a value for every pair of criteria (n(n-1)/2 judgements)")
            return pd.DataFrame(a, index=names, columns=names)
        if isinstance(matrix, pd.DataFrame):
            names = criteria or [str(c) for c in matrix.index]
            if list(map(str, matrix.index)) != list(map(str, matrix.columns)) and criteria is None:
                raise ParameterError("the comparison matrix's rows and columns name different criteria",
                                     fix="use the same criteria, in the same order, for rows and columns")
        if matrix is None or isinstance(matrix, (str, bytes)):
            raise ParameterError(f"the comparison matrix must be a square array, DataFrame or dict, got {matrix!r}",
                                 fix="pass a square list of lists, array or DataFrame of numbers")
        try:
            a = np.asarray(matrix, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError("the comparison matrix must be numeric",
                                 fix="pass a square list of lists, array or DataFrame of numbers") from None
        if not isinstance(matrix, pd.DataFrame):
            names = criteria or [f"c{i + 1}" for i in range(a.shape[0] if a.ndim else 0)]
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 1:
            raise ParameterError(f"the comparison matrix must be square, got shape {a.shape}",
                                 fix="pass an n x n matrix, one row and column per criterion")
        if len(names) != a.shape[0]:
            raise ParameterError(f"{len(names)} criteria names for a {a.shape[0]} x {a.shape[0]} matrix",
                                 fix="give one name per row of the matrix")
        return pd.DataFrame(a, index=names, columns=names)

    def fit(self, matrix, criteria=None) -> AHP:
        """Compute the weights and the consistency ratio; returns ``self``.

        ``matrix``: n x n array/DataFrame, or a dict ``{(a, b): value}`` of the upper triangle;
        ``criteria``: the criterion names in the matrix's order (optional).
        """
        m = self._matrix(matrix, self._names(criteria))
        a = m.to_numpy()
        names = list(m.index)
        n = a.shape[0]
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ParameterError("the comparison matrix must hold positive finite judgements",
                                 fix="use Saaty's scale 1/9 ... 1 ... 9; 'equal importance' is 1, not 0")
        if not np.allclose(np.diag(a), 1.0):
            raise ParameterError("the diagonal of the comparison matrix must be 1 (a criterion vs itself)",
                                 fix="set a[i, i] = 1")
        recip = np.abs(a * a.T - 1)
        if np.any(recip > 1e-3):
            i, j = np.unravel_index(np.argmax(recip), a.shape)
            raise ParameterError(
                f"the comparison matrix is not reciprocal: a[{names[i]!r}, {names[j]!r}] = {a[i, j]:.4g} but "
                f"a[{names[j]!r}, {names[i]!r}] = {a[j, i]:.4g} (their product should be 1)",
                fix=f"set a[{names[j]!r}, {names[i]!r}] = 1 / a[{names[i]!r}, {names[j]!r}] = {1 / a[i, j]:.4g}, "
                    "or give only the upper triangle as a dict")
        if n > max(SAATY_RANDOM_INDEX):
            raise ParameterError(
                f"{n} criteria: Saaty's random index is tabulated for n <= {max(SAATY_RANDOM_INDEX)}",
                fix="group the criteria into a hierarchy of at most 7-9 elements per comparison matrix")
        vals, vecs = np.linalg.eig(a)
        k = int(np.argmax(vals.real))
        w = np.abs(vecs[:, k].real)
        w = w / w.sum()
        lam = float(vals[k].real)
        ci = (lam - n) / (n - 1) if n > 2 else 0.0
        ri = SAATY_RANDOM_INDEX[n]
        cr = ci / ri if ri > 0 else 0.0
        cr = float(max(cr, 0.0))
        if cr >= self.max_cr and self.enforce:
            # the judgement furthest from what the OTHER judgements imply through a third
            # criterion k: geometric mean over k of a[i, k] * a[k, j]
            la = np.log(a)
            # indirect[i, k, j] = log a[i, k] + log a[k, j]
            indirect = la[:, :, None] + la[None, :, :]
            mask = np.ones((n, n, n), dtype=bool)
            idx = np.arange(n)
            mask[idx, idx, :] = False
            mask[:, idx, idx] = False
            implied_log = (indirect * mask).sum(1) / np.maximum(mask.sum(1), 1)
            dev = np.abs(la - implied_log)
            np.fill_diagonal(dev, 0)
            i, j = np.unravel_index(np.argmax(np.triu(dev)), a.shape)
            implied = float(np.exp(implied_log[i, j]))
            raise DataValidationError(
                f"the judgements are inconsistent: consistency ratio CR = {cr:.3f} >= {self.max_cr} "
                f"(lambda_max = {lam:.3f}, n = {n}); the least consistent judgement is "
                f"a[{names[i]!r}, {names[j]!r}] = {_saaty_value(a[i, j])}",
                fix=f"revisit that judgement: the other judgements imply about {_saaty_value(implied)} "
                    f"({implied:.2f}); or use AHP(enforce=False) to inspect the matrix")
        # set only after the consistency check, so a refused matrix leaves the model unfitted
        self.matrix_ = m
        self.weights_ = pd.Series(w, index=names, name="weight")
        self.lambda_max_, self.ci_, self.ri_, self.cr_ = lam, float(ci), float(ri), cr
        self.consistent_ = self.cr_ < self.max_cr
        self.n_obs_ = n
        return self

    def _summary(self) -> pd.DataFrame:
        """Weights, rank and the consistency statistics (in ``.attrs``)."""
        rank = self.weights_.round(10).rank(ascending=False, method="min").astype(int)
        out = pd.DataFrame({"weight": self.weights_, "rank": rank})
        out.attrs.update(lambda_max=self.lambda_max_, ci=self.ci_, ri=self.ri_, cr=self.cr_,
                         consistent=self.consistent_)
        return out

    def _repr_fitted(self) -> str:
        w = ", ".join(f"{k}={v:.3f}" for k, v in self.weights_.items())
        if len(w) > 300:
            w = w[:297] + "..."
        ok = "" if self.consistent_ else " (inconsistent)"
        return f"fitted on {self.n_obs_} criteria: CR={self.cr_:.3f}{ok}; weights {w}"


def entropy_weights(table: pd.DataFrame, columns=None, directions=None) -> pd.Series:
    """Entropy-weight method (熵权法): more weight to indicators that vary more across units.

    Each column is min-max normalised (reversed for lower-is-better indicators), turned
    into shares ``p_ij = x_ij / sum_i x_ij``, and its entropy ``e_j = -sum_i p_ij ln p_ij /
    ln m`` computed; the weight is ``(1 - e_j) / sum_k (1 - e_k)``.

    >>> t = pd.DataFrame({"retention_rate": [0.9, 0.95, 0.97], "cac": [150, 120, 140]})
    >>> entropy_weights(t).round(3).to_dict()
    {'retention_rate': 0.439, 'cac': 0.561}
    """
    x, dirs = _criteria_matrix(table, columns, directions, "entropy_weights")
    if len(x) < 2:
        raise DataValidationError("entropy weights need at least two units (rows)",
                                  fix="pass one row per branch (or other unit) to compare")
    z = _minmax(x, dirs).to_numpy()
    constant = (x.max() == x.min()).to_numpy()
    col_sum = z.sum(axis=0)
    p = z / np.where(col_sum > 0, col_sum, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(len(x))
    d = 1 - e
    d[constant] = 0.0  # an indicator that does not vary cannot discriminate
    if d.sum() <= 0:
        raise DataValidationError("no indicator varies across the units, so entropy weights are undefined",
                                  fix="use more units or other indicators, or supply weights yourself")
    return pd.Series(d / d.sum(), index=x.columns, name="weight")


def _criteria_matrix(table, columns, directions, who: str):
    if not isinstance(table, pd.DataFrame):
        raise ParameterError(f"{who} needs a DataFrame, got {type(table).__name__}",
                             fix="pass e.g. indicator_system(world, freq='all')")
    columns = (check_column_list(columns, "columns", allow_empty=True) if columns is not None
               else [c for c in table.columns if c in INDICATORS])
    if not columns:
        raise ParameterError(f"{who}: no indicator columns to use", fix="pass columns=[...]")
    check_frame(table, "table", required=columns, numeric=columns, no_nan=columns)
    _check_indicator_ranges(table, columns, "table")
    return table[columns].astype(float), _directions(columns, directions)


def _minmax(x: pd.DataFrame, dirs: dict) -> pd.DataFrame:
    lo, hi = x.min(), x.max()
    span = (hi - lo).replace(0, np.nan)
    z = (x - lo) / span
    for c, d in dirs.items():
        if d < 0:
            z[c] = 1 - z[c]
    return z.fillna(1.0)  # a constant column: every unit is as good as the best


# ------------------------------------------------------------------------------------
# the four evaluation methods of S000 §8.2
# ------------------------------------------------------------------------------------
def trend_test(dates, values, *, ci_level: float = 0.95, direction: int | None = None,
               name: str = "the indicator") -> TestResult:
    """t-test of a linear trend: OLS of ``values`` on time (in years) and H0 slope = 0.

    Missing values (periods without data) are dropped; at least three periods are needed.
    The result's ``table`` has the slope per year in the kit's layout (``estimate``,
    ``std_error``, ``ci_lower``, ``ci_upper``, ``p_value``); with ``direction`` (+1 higher is
    better, -1 lower is better) ``details["verdict"]`` reads improving / worsening / no
    clear trend at the level ``1 - ci_level``.

    >>> r = trend_test(pd.date_range("2024-01-01", periods=6, freq="MS"), [0.90, 0.91, 0.93, 0.92, 0.95, 0.96],
    ...                direction=1, name="retention_rate")
    >>> round(float(r.table.loc["slope_per_year", "estimate"]), 3), r.df, r.details["verdict"]
    (0.141, 4, 'improving')
    """
    check_ci_level(ci_level)
    if direction is not None and (isinstance(direction, bool) or direction not in (1, -1)):
        raise ParameterError(f"direction must be +1, -1 or None, got {direction!r}",
                             fix="+1 = higher is better, -1 = lower is better")
    frame = pd.DataFrame({"date": pd.Series(dates).to_numpy() if not np.isscalar(dates) else [dates]})
    t = check_dates(frame, "date", "dates")
    y = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float) if not np.isscalar(values) \
        else np.array([np.nan])
    if len(y) != len(t):
        raise ParameterError(f"dates has {len(t)} values and values {len(y)}",
                             fix="pass one value per period, aligned with the dates")
    raw = pd.Series(values) if not np.isscalar(values) else pd.Series([values])
    if (np.isnan(y) & raw.notna().to_numpy()).any():
        raise DataValidationError(f"values of {name} holds text that is not a number",
                                  fix=coding_advice(raw, name, "numeric"))
    if np.isinf(y).any():
        raise DataValidationError(f"values of {name} has {int(np.isinf(y).sum())} infinite value(s)",
                                  fix="an inf usually comes from a division by zero upstream: fix it there")
    years = ((t - t.min()).dt.days.to_numpy() / 365.25)
    ok = np.isfinite(y)
    n = int(ok.sum())
    if n < 3 or np.ptp(years[ok]) == 0:
        raise DataValidationError(f"{name} has {n} period(s) with data on {len(np.unique(years[ok]))} distinct "
                                  "date(s); a trend test needs at least 3 periods", fix="use a longer series")
    res = stats.linregress(years[ok], y[ok])
    slope, se = float(res.slope), float(res.stderr)
    if se > 0:
        tstat, p = slope / se, float(res.pvalue)
    else:  # an exact line: the slope is known without error
        tstat, p = (0.0, 1.0) if slope == 0 else (float(np.copysign(np.inf, slope)), 0.0)
    tcrit = stats.t.ppf(0.5 + ci_level / 2, n - 2)
    table = summary_frame([slope], [se], [slope - tcrit * se], [slope + tcrit * se], index=["slope_per_year"],
                          ci_level=ci_level, p_value=[p])
    details = {"n_periods": n}
    if direction is not None:
        good = np.sign(slope) == direction
        details["verdict"] = ("improving" if good else "worsening") if p < 1 - ci_level else "no clear trend"
    return TestResult("linear trend test", statistic=float(tstat), p_value=p, df=n - 2, table=table,
                      null_hypothesis=f"{name} has no linear trend (slope = 0)", statistic_name="t",
                      details=details)


def quantitative_evaluation(indicators: pd.DataFrame, columns=None, by: str = "branch_id",
                            time_col: str = "period", ci_level: float = 0.95) -> pd.DataFrame:
    """Quantitative evaluation (定量评估法): level and linear trend of each indicator per unit.

    Returns one row per unit and indicator: mean, first and last value, the OLS slope per
    year (``estimate``) with its ``std_error``, ``ci_level`` interval and p-value
    (:func:`trend_test`), and the direction-aware verdict ``improving`` / ``worsening`` /
    ``no clear trend`` (``too few periods`` below three periods with data).

    >>> t = pd.DataFrame({"branch_id": "B01", "period": pd.date_range("2024-01-01", periods=6, freq="MS"),
    ...                   "retention_rate": [0.90, 0.91, 0.93, 0.92, 0.95, 0.96]})
    >>> quantitative_evaluation(t, ["retention_rate"])[["estimate", "verdict"]].round(3).values.tolist()
    [[0.141, 'improving']]
    """
    check_ci_level(ci_level)
    check_frame(indicators, "indicators")
    check_column_name(by, "by")
    check_column_name(time_col, "time_col")
    columns = (check_column_list(columns, "columns", allow_empty=True) if columns is not None
               else [c for c in indicators.columns if c in INDICATORS])
    if not columns:
        raise ParameterError("no indicator columns to evaluate", fix="pass columns=[...]")
    check_frame(indicators, "indicators", required=[by, time_col, *columns], numeric=columns,
                no_nan=[by, time_col], dates=[time_col])
    check_unique(indicators, [by, time_col], "indicators")
    _check_indicator_ranges(indicators, columns, "indicators")
    dirs = _directions(columns)
    d_all = indicators.assign(**{time_col: check_dates(indicators, time_col, "indicators")})
    rows = []
    for unit, d in d_all.sort_values(time_col).groupby(by, sort=True):
        for col in columns:
            y = d[col].to_numpy(dtype=float)
            ok = np.isfinite(y)
            row = {by: unit, "indicator": col, "n_periods": int(ok.sum()),
                   "mean": float(np.mean(y[ok])) if ok.any() else np.nan,
                   "first": float(y[ok][0]) if ok.any() else np.nan,
                   "last": float(y[ok][-1]) if ok.any() else np.nan}
            if ok.sum() >= 3 and d.loc[ok, time_col].nunique() >= 2:
                test = trend_test(d[time_col], y, ci_level=ci_level, direction=dirs[col], name=col)
                row.update(test.table.iloc[0].to_dict(), verdict=test.details["verdict"])
            else:
                row.update(estimate=np.nan, std_error=np.nan, ci_lower=np.nan, ci_upper=np.nan, p_value=np.nan,
                           verdict="too few periods")
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(ci_level=ci_level, estimate="OLS slope per year")
    return out


# Themes coded from (synthetic) interviews with branch managers and frontline staff about
# what the CRM system changed; scores 1-5 (1 = much worse ... 3 = no change ... 5 = much better).
INTERVIEW_THEMES = {
    "information_sharing": "信息共享",
    "service_responsiveness": "服务响应速度",
    "customer_insight": "客户洞察",
    "process_efficiency": "流程效率",
}


def simulate_interviews(branches: pd.DataFrame, *, n_per_branch: int = 6, as_of="2025-12-31",
                        live_effect: float = 0.8, branch_sd: float = 0.3, interview_sd: float = 0.6,
                        coder_sd: float = 0.45, seed: int = 0) -> pd.DataFrame:
    """A seeded, SYNTHETIC coded-interview dataset for qualitative evaluation (定性评估法).

    Generator (documented so that results can be checked): for interview ``k`` in branch
    ``b`` and theme ``t`` the perceived change is
    ``3 + live_effect * months_live_b / 12 (capped at 1 year) + u_b + e_bt + v_k``
    with ``u_b ~ N(0, branch_sd)``, ``e_bt ~ N(0, 0.2)``, ``v_k ~ N(0, interview_sd)``; two
    coders each read the transcript and score it as ``round(perceived + N(0, coder_sd))``
    clipped to 1-5. The source texts describe interviews (S000 §8.2(2)) but give no data.

    Returns one row per interview and theme: ``interview_id, branch_id, theme, theme_zh,
    coder_a, coder_b``.

    >>> br = pd.DataFrame({"branch_id": ["B01", "B02"],
    ...                    "crm_golive_date": pd.to_datetime(["2024-01-01", None])})
    >>> simulate_interviews(br, n_per_branch=2, seed=1).shape
    (16, 6)
    """
    check_frame(branches, "branches", required=["branch_id", "crm_golive_date"], no_nan=["branch_id"])
    check_unique(branches, "branch_id", "branches")
    gl = check_dates(branches, "crm_golive_date", "branches", allow_nat=True)
    check_count(n_per_branch, "n_per_branch", 1, 1000)
    for nm, v in (("branch_sd", branch_sd), ("interview_sd", interview_sd), ("coder_sd", coder_sd)):
        check_scalar(v, nm, numbers.Real, 0)
    check_scalar(live_effect, "live_effect", numbers.Real)
    rng = check_random_state(seed)
    as_of = check_timestamp(as_of, "as_of")
    months_live = ((as_of - gl).dt.days / 30.4375).clip(lower=0).fillna(0).to_numpy()
    nb, nt, k = len(branches), len(INTERVIEW_THEMES), int(n_per_branch)
    u = rng.normal(0, branch_sd, nb)
    e = rng.normal(0, 0.2, (nb, nt))
    v = rng.normal(0, interview_sd, (nb, k))
    base = 3 + live_effect * np.minimum(months_live / 12, 1.0)
    perceived = base[:, None, None] + u[:, None, None] + e[:, None, :] + v[:, :, None]  # b x k x t
    score = lambda: np.clip(np.rint(perceived + rng.normal(0, coder_sd, perceived.shape)), 1, 5)  # noqa: E731
    a, b = score().astype(int), score().astype(int)
    bi, ki, ti = np.meshgrid(np.arange(nb), np.arange(k), np.arange(nt), indexing="ij")
    themes = list(INTERVIEW_THEMES)
    return pd.DataFrame({
        "interview_id": (bi * k + ki + 1).ravel(),
        "branch_id": branches["branch_id"].to_numpy()[bi.ravel()],
        "theme": np.array(themes)[ti.ravel()],
        "theme_zh": np.array([INTERVIEW_THEMES[t] for t in themes])[ti.ravel()],
        "coder_a": a.ravel(),
        "coder_b": b.ravel(),
    })


def qualitative_evaluation(interviews: pd.DataFrame, by: str = "branch_id") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Qualitative evaluation (定性评估法) from coded interview scores.

    Returns ``(scores, agreement)``: mean score per unit and theme (the two coders averaged)
    with an ``overall`` column, and per theme the coders' exact agreement and Cohen's
    quadratic-weighted kappa (inter-rater reliability; > 0.6 is usually read as substantial).

    >>> br = pd.DataFrame({"branch_id": ["B01", "B02"],
    ...                    "crm_golive_date": pd.to_datetime(["2024-01-01", None])})
    >>> scores, agree = qualitative_evaluation(simulate_interviews(br, seed=1))
    >>> list(scores.columns)[-1], list(agree.columns)
    ('overall', ['theme', 'n', 'exact_agreement', 'weighted_kappa'])
    """
    from sklearn.metrics import cohen_kappa_score

    check_column_name(by, "by")
    check_frame(interviews, "interviews", required=[by, "theme", "coder_a", "coder_b"],
                numeric=["coder_a", "coder_b"], no_nan=["coder_a", "coder_b", by, "theme"])
    if "interview_id" in interviews:
        check_unique(interviews, ["interview_id", "theme"], "interviews")
    for col in ("coder_a", "coder_b"):
        bad = ~interviews[col].isin([1, 2, 3, 4, 5])
        if bad.any():
            raise DataValidationError(f"interviews[{col!r}] has scores outside 1-5, e.g. "
                                      f"{interviews.loc[bad, col].iloc[0]!r}",
                                      fix="code every interview on the 1-5 scale")
    d = interviews.assign(score=(interviews["coder_a"] + interviews["coder_b"]) / 2)
    scores = d.pivot_table(index=by, columns="theme", values="score", aggfunc="mean")
    scores["overall"] = scores.mean(axis=1)
    rows = []
    for theme, g in d.groupby("theme"):
        a, b = g["coder_a"].astype(int), g["coder_b"].astype(int)
        kappa = cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5]) if len(g) > 1 else np.nan
        rows.append({"theme": theme, "n": int(len(g)), "exact_agreement": float((a == b).mean()),
                     "weighted_kappa": float(kappa)})
    scores.columns.name = None
    return scores, pd.DataFrame(rows)


def composite_index(table: pd.DataFrame, weights, columns=None, directions=None, method: str = "weighted_sum",
                    id_col: str | None = "branch_id") -> pd.DataFrame:
    """Composite evaluation (综合评估法): one score per unit from weighted indicators.

    ``method="weighted_sum"``: min-max normalise each indicator to 0-1 (1 = best unit,
    direction-aware) and take ``100 * sum_j w_j z_ij``. ``method="topsis"``: vector-normalise,
    weight, and score each unit by its relative closeness to the ideal best unit,
    ``d- / (d+ + d-)`` (x 100). ``weights`` (Series/dict by column, or a list in column order)
    must be non-negative and sum to one; AHP or entropy weights do.

    >>> t = pd.DataFrame({"branch_id": ["B01", "B02", "B03"], "retention_rate": [0.9, 0.95, 0.97],
    ...                   "cac": [150.0, 120.0, 140.0]})
    >>> composite_index(t, {"retention_rate": 0.6, "cac": 0.4})[["branch_id", "score", "rank"]].round(1).values.tolist()
    [['B02', 82.9, 1], ['B03', 73.3, 2], ['B01', 0.0, 3]]
    """
    check_option(method, "method", ["weighted_sum", "topsis"])
    if columns is None and isinstance(weights, (dict, pd.Series)):
        columns = list(weights.keys())
    x, dirs = _criteria_matrix(table, columns, directions, "composite_index")
    if id_col is not None:
        check_column_name(id_col, "id_col")
    if id_col is not None and id_col in table:
        check_frame(table, "table", no_nan=[id_col])
        if table[id_col].duplicated().any():
            dup = table.loc[table[id_col].duplicated(), id_col].iloc[0]
            raise DataValidationError(
                f"table has duplicated {id_col!r} values (first: {dup!r}): one score per unit needs one row per unit",
                fix="aggregate to one row per unit first, e.g. indicator_system(world, freq='all')")
    w = check_named_weights(weights, list(x.columns), what="indicator column",
                            plural="indicator columns", tol=1e-4)
    if method == "weighted_sum":
        z = _minmax(x, dirs)
        score = 100 * (z.to_numpy() @ w)
    else:
        norm = np.sqrt((x ** 2).sum()).replace(0, np.nan)
        v = (x / norm).fillna(0).to_numpy() * w
        sign = np.array([dirs[c] for c in x.columns])
        best = np.where(sign > 0, v.max(0), v.min(0))
        worst = np.where(sign > 0, v.min(0), v.max(0))
        d_plus = np.sqrt(((v - best) ** 2).sum(1))
        d_minus = np.sqrt(((v - worst) ** 2).sum(1))
        score = 100 * d_minus / np.where(d_plus + d_minus > 0, d_plus + d_minus, 1)
    out = table[[id_col]].copy() if id_col is not None and id_col in table else pd.DataFrame(index=table.index)
    out["score"] = score
    out["rank"] = pd.Series(score, index=out.index).rank(ascending=False, method="min").astype(int)
    return out.sort_values(["rank", *([id_col] if id_col in out else [])]).reset_index(drop=True)


def benchmark(table: pd.DataFrame, columns=None, directions=None, id_col: str = "branch_id") -> pd.DataFrame:
    """Benchmarking (标杆比较法): each unit against the best unit on every indicator.

    For a higher-is-better indicator the gap is ``(best - own) / |best|``; for a
    lower-is-better one ``(own - best) / |best|``: 0 = the unit is the benchmark, 0.25 = 25%
    behind it. Returns a long table (unit, indicator, value, best, best_unit, gap, rank)
    sorted by unit and gap; ``table.attrs['mean_gap']`` ranks units by their mean gap.

    >>> t = pd.DataFrame({"branch_id": ["B01", "B02"], "retention_rate": [0.90, 0.96], "cac": [150.0, 120.0]})
    >>> benchmark(t).query("branch_id == 'B01'")[["indicator", "gap"]].round(3).values.tolist()
    [['cac', 0.25], ['retention_rate', 0.062]]
    """
    x, dirs = _criteria_matrix(table, columns, directions, "benchmark")
    check_column_name(id_col, "id_col")
    require_columns(table, [id_col], "table")
    check_frame(table, "table", no_nan=[id_col])
    if table[id_col].duplicated().any():
        raise DataValidationError(f"table has duplicated {id_col!r} values",
                                  fix="benchmark one row per unit, e.g. indicator_system(world, freq='all')")
    ids = table[id_col].to_numpy()
    rows = []
    for c in x.columns:
        v = x[c].to_numpy()
        i_best = int(np.argmax(v) if dirs[c] > 0 else np.argmin(v))
        best = v[i_best]
        denom = abs(best) if best != 0 else np.nan
        gap = (best - v) / denom if dirs[c] > 0 else (v - best) / denom
        rank = pd.Series(v).rank(ascending=dirs[c] < 0, method="min").astype(int).to_numpy()
        for k in range(len(v)):
            rows.append({id_col: ids[k], "indicator": c, "value": v[k], "best": best,
                         "best_unit": ids[i_best], "gap": gap[k], "rank": int(rank[k])})
    out = pd.DataFrame(rows).sort_values([id_col, "gap"], ascending=[True, False]).reset_index(drop=True)
    out.attrs["mean_gap"] = out.groupby(id_col)["gap"].mean().sort_values()
    return out


def plot_benchmark(table: pd.DataFrame, branch, columns=None, directions=None, id_col: str = "branch_id",
                   ax=None):
    """Radar chart: one ``branch``'s normalised indicators (1 = best unit) against the best and median.

    ``branch`` is a value of ``table[id_col]`` (a branch id such as ``"B07"``, or any other unit).
    """
    import matplotlib.pyplot as plt

    from . import plots

    x, dirs = _criteria_matrix(table, columns, directions, "plot_benchmark")
    check_column_name(id_col, "id_col")
    require_columns(table, [id_col], "table")
    check_unique(table, id_col, "table")
    unit = branch
    if not _is_label(unit) or unit not in set(table[id_col]):
        raise ParameterError(f"branch {unit!r} is not in table[{id_col!r}]",
                             fix=f"choose one of {sorted(map(str, table[id_col].unique()))[:20]}")
    z = _minmax(x, dirs)
    own = z[(table[id_col] == unit).to_numpy()].iloc[0].to_numpy()
    med = z.median().to_numpy()
    ang = np.linspace(0, 2 * np.pi, len(x.columns), endpoint=False)
    close = lambda v: np.append(v, v[0])  # noqa: E731
    if ax is None:
        _fig, ax = plt.subplots(figsize=(5.5, 5), subplot_kw={"projection": "polar"})
    ax.plot(close(ang), close(np.ones_like(own)), color="#3a9e5a", lw=1.5, label="best unit (benchmark)")
    ax.plot(close(ang), close(med), color="#6b6b6b", lw=1, ls="--", label="median unit")
    ax.plot(close(ang), close(own), color="#1f5f8b", lw=2, label=str(unit))
    ax.fill(close(ang), close(own), color="#1f5f8b", alpha=0.15)
    import textwrap

    ax.set_xticks(ang)
    # the indicators in words, without units (every spoke is scaled 0-1), wrapped to stay clear
    names = [textwrap.fill(re.sub(r" \([^)]*\)$", "", plots.label(c)), 18) for c in x.columns]
    ax.set_xticklabels(names, fontsize=8)
    ax.tick_params(axis="x", pad=10)
    ax.set_ylim(0, 1.05)
    ax.set_yticks([0.25, 0.5, 0.75, 1.0])
    # radial labels half-way between two spokes, where no indicator name sits
    ax.set_rlabel_position(float(np.degrees(ang[1] / 2)) if len(ang) > 1 else 90.0)
    ax.tick_params(axis="y", labelsize=7, labelcolor="#666666")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False, fontsize=8)
    plots.finish(ax, title=f"Benchmarking {unit} (1 = best unit)", legend=False)
    ax.set_title(ax.get_title(), pad=24)
    return ax


# ------------------------------------------------------------------------------------
# before/after and difference-in-differences for a staggered roll-out
# ------------------------------------------------------------------------------------
class StaggeredDiD(Fitter):
    """Effect of a staggered roll-out (e.g. the branches' CRM go-live) on a panel outcome.

    Three estimators on a unit x period panel with an absorbing 0/1 treatment:

    * ``before_after``: mean over treated units of (mean after - mean before). Biased by
      anything else that changed over time (S002 Ch8 §2 compares before and after);
    * ``twfe``: two-way fixed effects, ``y_it = a_i + b_t + tau * D_it + e_it``, standard
      errors clustered by unit. With staggered timing and effects that change over time it
      can weight cells negatively (Goodman-Bacon 2021), so it is reported for comparison;
    * ``imputation`` (the headline ``att_``): Borusyak, Jaravel & Spiess (2024). Unit and
      period effects are fitted on the untreated cells only (never-treated and
      not-yet-treated), the untreated outcome of every treated cell is imputed, and the
      ATT is the mean of ``y - y_hat(0)`` over treated cells (each cell weighted equally).
      Robust to heterogeneous and dynamic effects. Its standard error is BJS's
      conservative cluster formula (Theorem 3), treated-cell residuals taken within
      cohort x period groups.

    Confidence intervals use a t distribution with (number of units - 1) degrees of freedom,
    because the units (12 branches) are few clusters. ``event_study_`` holds the imputation
    ATT by periods since treatment (h >= 0) and pre-trend coefficients (h < 0, BJS's test:
    leads added to the untreated-cell regression; they should be near zero);
    :meth:`pretrend_test` tests them jointly.

    Parameters
    ----------
    ci_level : float
        Level of the confidence intervals (0.95).
    pre_periods : int
        Number of leads in the pre-trend test / event-study plot.

    Notes
    -----
    The time column may hold dates or ordered period numbers (1, 2, 3...); every unit is
    observed at most once per period.

    Examples
    --------
    >>> from crmlab import datasets
    >>> did = StaggeredDiD().fit(datasets.load("branch_kpis"), outcome_col="retention_rate")
    >>> did.summary.index.tolist()
    ['before_after', 'twfe', 'imputation']
    >>> bool(did.ci_[0] < did.att_ < did.ci_[1])
    True
    """

    _unit = "unit-periods"

    def __init__(self, ci_level: float = 0.95, pre_periods: int = 6):
        check_ci_level(ci_level)
        check_count(pre_periods, "pre_periods", 0, 120)
        self.ci_level = ci_level
        self.pre_periods = pre_periods

    # -- validation ---------------------------------------------------------------
    def _prepare(self, panel, outcome, unit, time, treated):
        for arg, col in (("outcome_col", outcome), ("unit_col", unit), ("time_col", time), ("treated_col", treated)):
            check_column_name(col, arg)
        if len({outcome, unit, time, treated}) < 4:
            raise ParameterError(f"outcome_col, unit_col, time_col and treated_col must be four different columns, "
                                 f"got {[outcome, unit, time, treated]}", fix="name each role's own column")
        check_frame(panel, "panel", required=[unit, time, treated, outcome], numeric=[outcome],
                    no_nan=[unit, time, treated])
        _check_indicator_ranges(panel, [outcome], "panel")
        if not (pd.api.types.is_numeric_dtype(panel[time]) and not pd.api.types.is_bool_dtype(panel[time])):
            # dates (as read by pd.read_csv: text) must parse; ordered period numbers are kept as they are
            panel = panel.assign(**{time: check_dates(panel, time, "panel")})
        nan = panel[outcome].isna()
        if nan.any():
            raise DataValidationError(
                f"panel[{outcome!r}] is missing in {int(nan.sum())} cell(s) (e.g. unit "
                f"{panel.loc[nan, unit].iloc[0]!r}, {time} {panel.loc[nan, time].iloc[0]!r})",
                fix=f"drop those cells first (panel.dropna(subset=[{outcome!r}])) or fill them")
        check_binary(panel, treated, "panel")
        check_unique(panel, [unit, time], "panel")
        d = panel[[unit, time, treated, outcome]].sort_values([unit, time]).reset_index(drop=True)
        d[outcome] = d[outcome].astype(float)
        units, ui = np.unique(d[unit].astype(str), return_inverse=True)
        times, ti = np.unique(d[time], return_inverse=True)
        if len(units) < 2:
            raise DataValidationError("the panel has fewer than two units", fix="pass every branch, treated or not")
        D = d[treated].astype(int).to_numpy()
        first = pd.Series(np.where(D == 1, ti, np.iinfo(np.int64).max)).groupby(ui).transform("min").to_numpy()
        if np.any((ti >= first) != (D == 1)):
            bad = units[ui[np.flatnonzero((ti >= first) != (D == 1))[0]]]
            raise DataValidationError(
                f"treatment of unit {bad!r} switches off again: a staggered roll-out must be absorbing "
                "(once live, live in every later period)",
                fix=f"check {treated!r} for that unit, or analyse switch-off designs with another method")
        never_untreated = [units[u] for u in np.unique(ui) if np.all(D[ui == u] == 1)]
        if never_untreated:
            raise DataValidationError(
                f"unit(s) {never_untreated[:5]} are treated in every period, so their untreated level "
                "cannot be estimated", fix="drop them, or start the panel before their go-live")
        no_control = sorted(set(ti[D == 1]) - set(ti[D == 0]))
        if no_control:
            raise DataValidationError(
                f"in {len(no_control)} period(s) (first {pd.Timestamp(times[no_control[0]]).date() if np.issubdtype(np.asarray(times).dtype, np.datetime64) else times[no_control[0]]}) "
                "every unit is treated: there is no never-treated or not-yet-treated comparison",
                fix="end the panel before the last cohort goes live, or add never-treated units")
        if D.sum() == 0:
            raise DataValidationError(f"no treated cells: panel[{treated!r}] is always 0",
                                      fix="check the treatment column")
        return d, units, ui, times, ti, D, first

    def fit(self, panel: pd.DataFrame, outcome_col: str = "retention_rate", unit_col: str = "branch_id",
            time_col: str = "month", treated_col: str = "crm_live") -> StaggeredDiD:
        """Fit all three estimators on ``panel``; returns ``self``.

        ``panel`` has one row per unit (``unit_col``) and period (``time_col``) with the outcome
        (``outcome_col``) and the absorbing 0/1 treatment (``treated_col``).
        """
        import statsmodels.api as sm

        outcome, unit, time, treated = outcome_col, unit_col, time_col, treated_col
        d, units, ui, times, ti, D, first = self._prepare(panel, outcome, unit, time, treated)
        y = d[outcome].to_numpy(dtype=float)
        nU, nT, n = len(units), len(times), len(d)
        G = nU
        tcrit = stats.t.ppf(0.5 + self.ci_level / 2, G - 1)
        Z = np.zeros((n, nU + nT - 1))
        Z[np.arange(n), ui] = 1
        late = ti > 0
        Z[np.flatnonzero(late), nU + ti[late] - 1] = 1
        tr = D == 1
        rel = np.where(first < np.iinfo(np.int64).max, ti - first, np.iinfo(np.int64).min)
        self.outcome_, self.unit_, self.time_ = outcome, unit, time

        n_cells = int(tr.sum())

        def row(est, se, df=G - 1, n_units=nU, cells=n_cells, note=""):
            tt = est / se if se and se > 0 else np.nan
            p = 2 * stats.t.sf(abs(tt), df) if np.isfinite(tt) else np.nan
            q = stats.t.ppf(0.5 + self.ci_level / 2, df)
            return {"estimate": est, "std_error": se, "ci_lower": est - q * se, "ci_upper": est + q * se,
                    "p_value": p, "n_units": n_units, "n_treated_cells": cells, "note": note}

        rows = {}
        # before/after among eventually-treated units
        ever = np.unique(ui[tr])
        diffs = np.array([y[(ui == u) & tr].mean() - y[(ui == u) & ~tr].mean() for u in ever])
        se_ba = diffs.std(ddof=1) / np.sqrt(len(diffs)) if len(diffs) > 1 else np.nan
        rows["before_after"] = row(float(diffs.mean()), float(se_ba), df=max(len(diffs) - 1, 1),
                                   n_units=len(ever), note="treated units only; ignores common trends")
        # TWFE with unit-clustered errors
        X = np.column_stack([D.astype(float), Z])
        try:
            res = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": ui}, use_t=True)
        except Exception as err:  # noqa: BLE001 - statsmodels raises several types
            raise ConvergenceError(f"the two-way fixed-effects regression failed: {err}",
                                   fix="check that the panel has variation in treatment timing") from err
        self.twfe_ = res
        rows["twfe"] = row(float(res.params[0]), float(res.bse[0]), note="unit and period FE; cluster by unit")
        # imputation estimator
        Z0, Z1 = Z[~tr], Z[tr]
        A = np.linalg.pinv(Z0.T @ Z0)
        beta = A @ (Z0.T @ y[~tr])
        tau = y[tr] - Z1 @ beta
        resid0 = y[~tr] - Z0 @ beta
        coh_t = pd.Series(list(zip(first[tr], ti[tr], strict=True)))
        coh = pd.Series(first[tr])
        hh = pd.Series(rel[tr])
        eps1 = np.zeros(tr.sum())
        for key_s in (coh_t, coh, hh):  # finest partition with >= 2 cells per group
            size = key_s.map(key_s.value_counts()).to_numpy()
            todo = (size >= 2) & (eps1 == 0)
            if todo.any():
                mean = pd.Series(tau).groupby(key_s.to_numpy()).transform("mean").to_numpy()
                eps1[todo] = ((tau - mean) * np.sqrt(size / np.maximum(size - 1, 1)))[todo]

        def imputed(wt: np.ndarray):
            v = np.zeros(n)
            v[tr] = wt
            v[~tr] = -(Z0 @ (A @ (Z1.T @ wt)))
            e = np.zeros(n)
            e[~tr] = resid0
            e[tr] = eps1
            s = np.bincount(ui, weights=v * e, minlength=nU)
            return float(wt @ tau), float(np.sqrt((s ** 2).sum()))

        est, se = imputed(np.full(tr.sum(), 1 / tr.sum()))
        rows["imputation"] = row(est, se, note="Borusyak-Jaravel-Spiess; never- and not-yet-treated controls")
        if not np.isfinite(est):
            raise ConvergenceError("the imputation estimate is not finite",
                                   fix="check the panel: every unit needs untreated periods and the outcome must vary")
        table = pd.DataFrame(rows).T
        self.estimates_ = table.astype({c: float for c in ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]})
        self.att_, self.se_ = est, se
        self.ci_ = (est - tcrit * se, est + tcrit * se)
        self.cell_effects_ = pd.DataFrame({unit: units[ui[tr]], time: times[ti[tr]],
                                           "rel_time": rel[tr], "effect": tau})
        # cohorts
        grp = []
        for g in np.unique(first[tr]):
            wt = np.where(first[tr] == g, 1.0, 0.0)
            wt /= wt.sum()
            e_, s_ = imputed(wt)
            grp.append({"cohort_start": times[g], "n_units": int(len(np.unique(ui[first == g]))),
                        "n_cells": int((first[tr] == g).sum()), "estimate": e_, "std_error": s_,
                        "ci_lower": e_ - tcrit * s_, "ci_upper": e_ + tcrit * s_})
        self.group_att_ = pd.DataFrame(grp)
        # event study: post = imputation by horizon; pre = leads on untreated cells
        es = []
        for h in np.unique(rel[tr]):
            wt = np.where(rel[tr] == h, 1.0, 0.0)
            wt /= wt.sum()
            e_, s_ = imputed(wt)
            es.append({"rel_time": int(h), "estimate": e_, "std_error": s_, "n_cells": int((rel[tr] == h).sum())})
        self.pretrend_ = None  # the TestResult, or None with the reason in _pretrend_note
        self._pretrend_note = "pre_periods=0 or no untreated cell lies before a go-live"
        K = int(self.pre_periods)
        if K > 0:
            leads = np.column_stack([((rel == -k) & ~tr).astype(float) for k in range(1, K + 1)])
            keep = leads[~tr].sum(0) > 0
            Xp = np.column_stack([leads[~tr][:, keep], Z0])
            # leads that the unit and period effects already span are not identified: no test then
            identified = keep.any() and (np.linalg.matrix_rank(Xp) == np.linalg.matrix_rank(Z0) + int(keep.sum()))
            if keep.any() and not identified:
                self._pretrend_note = ("the leads are not identified (too few untreated periods before go-live "
                                       "to separate them from the unit and period effects)")
            # as many untreated cells as coefficients leave no residual to cluster on
            if identified and Xp.shape[0] <= Xp.shape[1]:
                identified = False
                self._pretrend_note = (f"{Xp.shape[0]} untreated cells for {Xp.shape[1]} coefficients: no residual "
                                       "variation to test the leads on")
            rp = None
            if identified:
                try:
                    rp = sm.OLS(y[~tr], Xp).fit(cov_type="cluster", cov_kwds={"groups": ui[~tr]}, use_t=True)
                except (ZeroDivisionError, np.linalg.LinAlgError, ValueError) as err:
                    self._pretrend_note = f"the pre-trend regression failed ({err}): no lead test"
            if rp is not None:
                lags = np.arange(1, K + 1)[keep]
                for j, k in enumerate(lags):
                    es.append({"rel_time": -int(k), "estimate": float(rp.params[j]), "std_error": float(rp.bse[j]),
                               "n_cells": int(leads[:, k - 1].sum())})
                test = self._joint_lead_test(rp, lags, G)
                if isinstance(test, str):
                    self._pretrend_note = test
                else:
                    self.pretrend_ = test
        es = pd.DataFrame(es).sort_values("rel_time").reset_index(drop=True)
        es["ci_lower"] = es["estimate"] - tcrit * es["std_error"]
        es["ci_upper"] = es["estimate"] + tcrit * es["std_error"]
        es["kind"] = np.where(es["rel_time"] < 0, "pre-trend", "effect")
        self.event_study_ = es[["rel_time", "estimate", "std_error", "ci_lower", "ci_upper", "n_cells", "kind"]]
        self.n_obs_ = int(n)
        return self

    def _joint_lead_test(self, res, lags, n_clusters: int) -> TestResult | str:
        """Wald test that every lead is zero with the unit-clustered covariance (BJS's pre-trend test).

        With G clusters and k leads the Wald statistic W is referred to Hotelling's T^2
        distribution, F = W (G - k) / (k (G - 1)) on (k, G - k) df: the plain F(k, G - 1) form
        over-rejects with a dozen clusters (3 of 16 null worlds at 5%, against 0 of 16 here).
        Returns the reason as text when the leads cannot be tested jointly (G <= k).
        """
        k = len(lags)
        if n_clusters <= k:
            return (f"{k} leads cannot be tested jointly with {n_clusters} units (the clustered covariance "
                    f"has rank below {k})")
        b = np.asarray(res.params)[:k]
        V = np.asarray(res.cov_params())[:k, :k]
        wald = float(b @ np.linalg.pinv(V) @ b)
        df_denom = n_clusters - k
        f = wald * df_denom / (k * (n_clusters - 1))
        p = float(stats.f.sf(f, k, df_denom)) if np.isfinite(f) else np.nan
        if not np.isfinite(f):
            return "the pre-trend Wald statistic is not finite"
        q = stats.t.ppf(0.5 + self.ci_level / 2, n_clusters - 1)
        se = np.sqrt(np.diag(V))
        with np.errstate(divide="ignore", invalid="ignore"):
            pv = 2 * stats.t.sf(np.abs(b / se), n_clusters - 1)
        table = summary_frame(b, se, b - q * se, b + q * se, index=pd.Index(-lags, name="rel_time"),
                              ci_level=self.ci_level, p_value=pv)
        return TestResult("pre-trend test (joint Wald test of the leads)", statistic=f, p_value=p, df=k,
                          table=table, statistic_name="F",
                          null_hypothesis="before go-live, treated and untreated units follow the same trend "
                                          "(every lead is 0)",
                          details={"df_denominator": df_denom, "leads": k, "units": n_clusters,
                                   "wald_chi2": wald})

    def pretrend_test(self) -> TestResult:
        """The joint test that the pre-treatment leads are zero (Borusyak, Jaravel & Spiess's
        pre-trend test: leads added to the untreated-cell regression, unit-clustered F test).

        A small p-value warns that treated units were already drifting away before go-live,
        which the imputation estimator would then read as an effect.
        """
        self._check_fitted()
        if self.pretrend_ is None:
            raise ParameterError(f"no pre-trend test: {self._pretrend_note}",
                                 fix="fit with StaggeredDiD(pre_periods=...) between 1 and the number of units - 1, "
                                     "on a panel that starts before the first go-live")
        return self.pretrend_

    def _summary(self) -> pd.DataFrame:
        """The three estimates with standard errors, confidence intervals and p-values."""
        out = self.estimates_.copy()
        out.attrs["ci_level"] = self.ci_level
        return out

    def _repr_fitted(self) -> str:
        lo, hi = self.ci_
        return (f"fitted on {self.n_obs_:,} {self.unit_}-{self.time_} cells of {self.outcome_!r}: "
                f"ATT={self.att_:.4g} ({self.ci_level:.0%} CI {lo:.4g} to {hi:.4g}, imputation)")

    def plot_event_study(self, ax=None, truth: float | None = None, max_rel: int | None = 12):
        """Event-study plot: pre-trend leads and the effect by periods since go-live."""
        from . import plots

        self._check_fitted()
        if truth is not None:
            check_scalar(truth, "truth", numbers.Real)
        if max_rel is not None:
            check_count(max_rel, "max_rel", 0, 10_000)
        es = self.event_study_
        if max_rel is not None:
            es = es[es["rel_time"] <= max_rel]
        # a share (retention, churn, SLA attainment, ...) is shown in percentage points, as the
        # tables of the course report it; other outcomes keep their own unit
        indicator = INDICATORS.get(self.outcome_)
        scale = 100.0 if indicator is not None and indicator.unit == "share" else 1.0
        unit = " (percentage points)" if scale == 100.0 else ""
        es = es.assign(**{c: scale * es[c] for c in ("estimate", "ci_lower", "ci_upper")})
        if truth is not None:
            truth = scale * float(truth)
        if ax is None:
            _fig, ax = plots.subplots()
        for kind, color in (("pre-trend", "#6b6b6b"), ("effect", "#1f5f8b")):
            e = es[es["kind"] == kind]
            ax.errorbar(e["rel_time"], e["estimate"], yerr=[e["estimate"] - e["ci_lower"], e["ci_upper"] - e["estimate"]],
                        fmt="o", color=color, ms=4, capsize=2, lw=1,
                        label="pre-trend test (leads)" if kind == "pre-trend" else "imputation ATT by horizon")
        from matplotlib.ticker import MaxNLocator

        ax.axhline(0, color="black", lw=0.8)
        ax.axvline(-0.5, color="#c4413c", lw=0.8, ls=":")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if truth is not None:
            ax.hlines(truth, 0, es["rel_time"].max(), color="#e07a1f", ls="--", lw=1.5, label="planted effect")
        plots.finish(ax, title=f"Event study: {self.outcome_}", xlabel="periods since go-live",
                     ylabel=f"effect on {self.outcome_}{unit}")
        return ax


# ------------------------------------------------------------------------------------
# balanced-scorecard dashboard
# ------------------------------------------------------------------------------------
SCORECARD = {
    "financial": ["profit_per_customer", "cac", "maintenance_cost_per_customer"],
    "customer": ["retention_rate", "satisfaction_ticket", "repeat_purchase_rate"],
    "internal_process": ["median_first_response_hours", "sla_met_rate", "complaint_rate"],
    "learning_growth": ["crm_live"],
}


def plot_scorecard(indicators: pd.DataFrame, branch: str = "ALL", panels: dict | None = None,
                   window: int = 3, base_periods: int = 12, id_col: str = "branch_id"):
    """Balanced-scorecard style dashboard (平衡计分卡): four perspectives, one panel each.

    Each indicator is shown as a ``window``-period rolling mean indexed to its mean over the
    first ``base_periods`` periods (= 100), so that indicators in different units share an
    axis; the legend says which direction is better. Indicators whose base is zero (e.g. the
    share of months with the CRM system live) are shown in percent instead. Pass the output
    of ``indicator_system(world, level="company")`` (``branch="ALL"``) or pick one branch.
    Returns the 2 x 2 array of Axes.
    """
    import matplotlib.dates as mdates

    from . import plots

    panels = panels or SCORECARD
    if not isinstance(panels, dict) or not all(isinstance(v, (list, tuple)) and v for v in panels.values()):
        raise ParameterError("panels must be a dict {perspective: [indicator columns]}", fix="e.g. kpi.SCORECARD")
    check_column_name(id_col, "id_col")
    check_frame(indicators, "indicators", required=[id_col, "period"], dates=["period"])
    unit = branch
    if not _is_label(unit) or unit not in set(indicators[id_col]):
        raise ParameterError(f"branch {unit!r} is not in indicators[{id_col!r}]",
                             fix="use indicator_system(world, level='company') for 'ALL', or pick one of "
                                 f"{sorted(map(str, indicators[id_col].unique()))[:12]}")
    d = indicators[indicators[id_col] == unit]
    check_unique(d, "period", f"indicators of {unit!r}")
    d = d.assign(period=check_dates(d, "period", "indicators")).sort_values("period").set_index("period")
    cols = [c for cs in panels.values() for c in cs]
    check_frame(d, "indicators", required=cols, numeric=cols)
    _check_indicator_ranges(d, cols, "indicators")
    check_count(window, "window", 1, 1000)
    check_count(base_periods, "base_periods", 1, 10_000)
    fig, axes = plots.subplots(2, 2, figsize=(11, 6.5), sharex=True)
    for ax, (persp, cs) in zip(axes.ravel(), panels.items(), strict=False):
        percent = False
        for c in cs:
            s = d[c].astype(float).rolling(window, min_periods=1).mean()
            base = d[c].astype(float).iloc[:base_periods].mean()
            better = "higher" if INDICATORS.get(c, None) is None or INDICATORS[c].direction > 0 else "lower"
            # the indicator in words; no unit, since the panel shows an index or a percentage
            name = re.sub(r" \([^)]*\)$", "", plots.label(c))
            if np.isfinite(base) and base != 0:
                ax.plot(s.index, 100 * s / base, lw=1.6, label=f"{name} ({better} is better)")
            else:
                percent = True
                ax.plot(s.index, 100 * s, lw=1.6, label=f"{name}, % ({better} is better)")
        title = {"learning_growth": "learning & growth"}.get(persp, persp.replace("_", " "))
        plots.finish(ax, title=f"{title} perspective",
                     ylabel="percent" if percent else f"index (first {base_periods} periods = 100)")
        ax.legend(frameon=False, fontsize=7, loc="best")
        # a fixed half-year locator: AutoDateLocator warns on shared axes over 2-4 years
        locator = mdates.MonthLocator(bymonth=(1, 7))
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    fig.suptitle("CRM balanced scorecard: " + ("whole company" if unit == "ALL" else f"branch {unit}"), fontsize=12)
    return axes


# ------------------------------------------------------------------------------------
# benefits calculator: every assumption is the user's
# ------------------------------------------------------------------------------------
@dataclass
class BenefitsResult:
    """Output of :func:`benefits_calculator`: the yearly table, a summary and the inputs."""

    table: pd.DataFrame
    summary: pd.Series
    assumptions: dict


def benefits_calculator(*, customers: float, annual_margin_per_customer: float, retention_rate: float,
                        retention_uplift_pts: float, annual_discount_rate: float, horizon_years: int,
                        investment: float, annual_running_cost: float, margin_uplift_pct: float = 0.0,
                        cost_saving_per_customer: float = 0.0) -> BenefitsResult:
    """Quantified CRM benefits (S004 §3(1)) from assumptions YOU supply.

    S004 says CRM raises revenue, cuts cost and raises long-term profitability and cites a
    table of quantified benefits that is missing from the text; the kit therefore takes every
    figure from the user and attributes none to any source.

    Model: an existing base of ``customers`` earns ``annual_margin_per_customer`` per year
    and a share ``retention_rate`` stays each year. With CRM, retention rises by
    ``retention_uplift_pts`` percentage points, margin per customer by ``margin_uplift_pct``
    percent, and serving a customer costs ``cost_saving_per_customer`` less per year.
    Year ``t`` (1 ... horizon) has ``customers * r**(t-1)`` customers, cash flows arrive at
    the year end, and the CRM costs ``investment`` up front plus ``annual_running_cost``.

    Returns a :class:`BenefitsResult`; ``summary`` holds the customer equity (客户资产) with
    and without CRM, NPV, ROI (= NPV / investment) and the discounted payback year.

    >>> r = benefits_calculator(customers=200_000, annual_margin_per_customer=300, retention_rate=0.75,
    ...                         retention_uplift_pts=3, annual_discount_rate=0.10, horizon_years=5,
    ...                         investment=5_000_000, annual_running_cost=1_000_000, margin_uplift_pct=2)
    >>> r.summary[["npv", "roi", "payback_year"]].round(2).to_dict()
    {'npv': 2004677.22, 'roi': 0.4, 'payback_year': 4.0}
    """
    check_scalar(customers, "customers", numbers.Real, 0, low_inclusive=False)
    check_scalar(annual_margin_per_customer, "annual_margin_per_customer", numbers.Real)
    check_scalar(retention_rate, "retention_rate", numbers.Real, 0, 1, high_inclusive=False)
    check_scalar(retention_uplift_pts, "retention_uplift_pts", numbers.Real, -100, 100)
    check_scalar(annual_discount_rate, "annual_discount_rate", numbers.Real, 0, 1)
    check_scalar(horizon_years, "horizon_years", numbers.Integral, 1, 100)
    check_scalar(investment, "investment", numbers.Real, 0, low_inclusive=False)
    check_scalar(annual_running_cost, "annual_running_cost", numbers.Real, 0)
    check_scalar(margin_uplift_pct, "margin_uplift_pct", numbers.Real, -100)
    check_scalar(cost_saving_per_customer, "cost_saving_per_customer", numbers.Real)
    r0 = float(retention_rate)
    r1 = r0 + retention_uplift_pts / 100
    if not 0 <= r1 < 1:
        raise ParameterError(
            f"retention with CRM would be {r1:.3f} (retention_rate {r0} + {retention_uplift_pts} points), "
            "outside [0, 1)", fix="choose a smaller retention_uplift_pts so that retention stays below 1")
    t = np.arange(1, int(horizon_years) + 1)
    disc = (1 + annual_discount_rate) ** -t
    base_n = customers * r0 ** (t - 1)
    crm_n = customers * r1 ** (t - 1)
    m0 = float(annual_margin_per_customer)
    m1 = m0 * (1 + margin_uplift_pct / 100)
    base_margin = base_n * m0
    crm_margin = crm_n * m1
    from_retention = (crm_n - base_n) * m0
    from_margin = crm_n * (m1 - m0)
    savings = crm_n * cost_saving_per_customer
    net = from_retention + from_margin + savings - annual_running_cost
    table = pd.DataFrame({
        "year": t, "customers_without_crm": base_n, "customers_with_crm": crm_n,
        "benefit_retention": from_retention, "benefit_margin": from_margin, "benefit_cost_saving": savings,
        "running_cost": float(annual_running_cost), "net_benefit": net, "discount_factor": disc,
        "discounted_net_benefit": net * disc,
    })
    table["cumulative_discounted"] = table["discounted_net_benefit"].cumsum() - investment
    npv = float(table["discounted_net_benefit"].sum() - investment)
    paid = table.loc[table["cumulative_discounted"] >= 0, "year"]
    summary = pd.Series({
        "customer_equity_without_crm": float((base_margin * disc).sum()),
        "customer_equity_with_crm": float((crm_margin * disc).sum()),
        "pv_benefits": float(((from_retention + from_margin + savings) * disc).sum()),
        "pv_running_costs": float((annual_running_cost * disc).sum()),
        "investment": float(investment), "npv": npv, "roi": npv / investment,
        "payback_year": float(paid.iloc[0]) if len(paid) else np.nan,
    })
    assumptions = {k: v for k, v in locals().items() if k in (
        "customers", "annual_margin_per_customer", "retention_rate", "retention_uplift_pts",
        "annual_discount_rate", "horizon_years", "investment", "annual_running_cost",
        "margin_uplift_pct", "cost_saving_per_customer")}
    return BenefitsResult(table=table, summary=summary, assumptions=assumptions)


def benefits_scenarios(scenarios: dict[str, dict]) -> pd.DataFrame:
    """Run :func:`benefits_calculator` for named assumption sets (e.g. pessimistic / base /
    optimistic) and return one summary row per scenario.

    >>> base = dict(customers=100_000, annual_margin_per_customer=300, retention_rate=0.75,
    ...             annual_discount_rate=0.1, horizon_years=5, investment=2_000_000, annual_running_cost=500_000)
    >>> benefits_scenarios({"low": {**base, "retention_uplift_pts": 1},
    ...                     "high": {**base, "retention_uplift_pts": 5}})["npv"].round(0).tolist()
    [-2636023.0, 2673760.0]
    """
    if not isinstance(scenarios, dict) or not scenarios:
        raise ParameterError("scenarios must be a non-empty dict {name: assumptions}",
                             fix="e.g. {'base': dict(customers=..., ...), 'optimistic': {...}}")
    rows = {}
    for name, a in scenarios.items():
        if not isinstance(a, dict):
            raise ParameterError(f"scenario {name!r} must be a dict of assumptions",
                                 fix="pass keyword arguments of benefits_calculator as a dict")
        try:
            rows[name] = benefits_calculator(**a).summary
        except TypeError as err:
            raise ParameterError(f"scenario {name!r}: {err}",
                                 fix="give every required assumption of benefits_calculator") from None
    return pd.DataFrame(rows).T
