"""Customer service operations and supply-chain collaboration (客户服务与供应链协同).

The source texts ask for a service strategy covering pre-, in- and after-sale service and
complaints, with service standards and channels (S000 §5.1), a simpler, standardised,
automated and monitored service process (S000 §5.2), fast response (S002 Ch6 §3), call
centres with computer-telephony integration (CTI, S003 §1), and supply-chain collaboration
with partners chosen by size, strength and reputation (S000 Ch6). They give no numbers:
every figure here comes from the SYNTHETIC world or from assumptions the user supplies.

* process metrics: :func:`service_metrics` (first response, resolution, first-contact
  resolution, SLA attainment, CSAT by channel and stage) and :class:`ResponseTimeModel`
  (what drives response times, including the CRM go-live);
* the service-level -> satisfaction link: :class:`CsatOrderedLogit` (ordered logit of
  post-ticket CSAT on log response time, first-contact resolution and complaints);
* call-centre staffing what-if: :func:`erlang_c`, :func:`staffing_table`,
  :func:`required_agents` and a discrete-event check :func:`simulate_call_centre`;
* supply chain: :func:`supply_chain_metrics` and :class:`SupplyChainPanel` (account fixed
  effects: delivery performance -> account satisfaction -> share of wallet);
* partner selection: :func:`example_partners`, :func:`partner_scores`,
  :func:`partner_weight_sensitivity`, :func:`rank_acceptability`.

>>> round(erlang_c(calls_per_hour=120, aht_seconds=180, agents=9)["service_level"], 3)
0.86
"""

from __future__ import annotations

import heapq
import numbers

import numpy as np
import pandas as pd
from scipy import special, stats

from .errors import ConvergenceError, DataValidationError, ParameterError
from .validation import (
    check_fitted,
    check_frame,
    check_in_range,
    check_named_weights,
    check_random_state,
    check_scalar,
    require_columns,
)

__all__ = [
    "TICKET_COLUMNS",
    "service_metrics",
    "ResponseTimeModel",
    "CsatOrderedLogit",
    "erlang_c",
    "staffing_table",
    "required_agents",
    "simulate_call_centre",
    "SUPPLY_CHAIN_DRIVERS",
    "supply_chain_metrics",
    "SupplyChainPanel",
    "example_partners",
    "partner_scores",
    "partner_weight_sensitivity",
    "plot_partner_sensitivity",
    "rank_acceptability",
]

TICKET_COLUMNS = ["channel", "stage", "type", "first_response_hours", "resolution_hours",
                  "first_contact_resolution", "sla_met"]


def _check_tickets(tickets: pd.DataFrame, extra=()) -> pd.DataFrame:
    check_frame(tickets, "tickets", required=[*TICKET_COLUMNS, *extra],
                numeric=["first_response_hours", "resolution_hours"],
                no_nan=["channel", "stage", "type", "first_response_hours", "resolution_hours"],
                non_negative=["first_response_hours", "resolution_hours"])
    early = (tickets["resolution_hours"] < tickets["first_response_hours"]).to_numpy()
    if early.any():
        i = int(np.flatnonzero(early)[0])
        raise DataValidationError(
            f"tickets has {int(early.sum())} row(s) resolved before the first response "
            f"(first at row {tickets.index[i]!r}: resolution {tickets['resolution_hours'].iloc[i]} h < "
            f"first response {tickets['first_response_hours'].iloc[i]} h)",
            fix="resolution_hours counts from opening and includes the first response; correct those rows")
    return tickets


# ------------------------------------------------------------------------------------
# service-process metrics
# ------------------------------------------------------------------------------------
def service_metrics(tickets: pd.DataFrame, by="channel", sla_hours: dict | None = None) -> pd.DataFrame:
    """Service-process KPIs (服务流程指标) per group of tickets.

    Columns: ``tickets``, ``complaint_share``, median and 90th-percentile first response
    (hours), median resolution (hours), ``fcr_rate`` (first-contact resolution),
    ``sla_attainment`` (share of first responses within the channel's SLA), ``csat_mean``
    (post-ticket CSAT, answered tickets) and ``csat_response_rate``.

    Parameters
    ----------
    tickets : DataFrame
        The ``tickets`` table (or a subset).
    by : str or list of str
        Grouping columns, e.g. ``"channel"``, ``"stage"``, ``["channel", "stage"]``.
    sla_hours : dict, optional
        First-response target (hours) per channel; when given, SLA attainment is recomputed
        against these targets (a what-if) instead of read from ``sla_met``.

    >>> from crmlab import datasets
    >>> m = service_metrics(datasets.load("tickets"), by="channel")
    >>> m.loc["email", "sla_attainment"] > m.loc["phone", "sla_attainment"]
    np.True_
    """
    _check_tickets(tickets)
    by = [by] if isinstance(by, str) else list(by)
    require_columns(tickets, by, "tickets")
    d = tickets.assign(
        complaint=(tickets["type"] == "complaint").astype(float),
        fcr=tickets["first_contact_resolution"].astype(float),
        answered=tickets["post_ticket_csat"].notna().astype(float) if "post_ticket_csat" in tickets else np.nan,
        csat=tickets["post_ticket_csat"] if "post_ticket_csat" in tickets else np.nan,
    )
    if sla_hours is not None:
        if not isinstance(sla_hours, dict):
            raise ParameterError("sla_hours must be a dict {channel: hours}",
                                 fix="e.g. sla_hours={'phone': 0.25, 'online_chat': 0.1, 'email': 24, 'app': 4}")
        missing = sorted(set(d["channel"]) - set(sla_hours))
        if missing:
            raise ParameterError(f"sla_hours has no target for channel(s) {missing}",
                                 fix="give a target (hours) for every channel in the tickets")
        bad = {k: v for k, v in sla_hours.items() if not isinstance(v, numbers.Real) or v <= 0}
        if bad:
            raise ParameterError(f"SLA targets must be positive hours, got {bad}", fix="use targets > 0 hours")
        d["sla"] = (d["first_response_hours"] <= d["channel"].map(sla_hours)).astype(float)
    else:
        d["sla"] = d["sla_met"].astype(float)
    out = d.groupby(by).agg(
        tickets=("type", "size"), complaint_share=("complaint", "mean"),
        median_first_response_h=("first_response_hours", "median"),
        p90_first_response_h=("first_response_hours", lambda s: s.quantile(0.9)),
        median_resolution_h=("resolution_hours", "median"), fcr_rate=("fcr", "mean"),
        sla_attainment=("sla", "mean"), csat_mean=("csat", "mean"), csat_response_rate=("answered", "mean"))
    return out


class ResponseTimeModel:
    """Drivers of (log) first-response time: channel, complaint, CRM go-live.

    OLS of ``log(first_response_hours)`` on channel dummies, a complaint dummy and
    ``crm_live`` (the ticket's branch had its CRM system live in the ticket's month), with
    branch and calendar-month fixed effects; standard errors clustered by branch. The
    ``crm_live`` coefficient is a two-way fixed-effects difference-in-differences estimate
    (the go-live effect is constant in the synthetic world, so TWFE is unbiased here);
    ``exp(coef) - 1`` is the proportional change in response time.

    Attributes: ``coef_`` (Series), ``summary`` (estimate, se, CI, ``pct_change``), ``result_``.

    >>> from crmlab import datasets
    >>> w = datasets.load_world()
    >>> m = ResponseTimeModel().fit(w.tickets, w.customers, w.branches)
    >>> round(float(m.coef_["crm_live"]), 2)
    -0.35
    """

    def __init__(self, alpha: float = 0.05):
        self.alpha = check_scalar(alpha, "alpha", numbers.Real, 0, 1, low_inclusive=False, high_inclusive=False)

    def fit(self, tickets: pd.DataFrame, customers: pd.DataFrame, branches: pd.DataFrame) -> ResponseTimeModel:
        import statsmodels.api as sm

        _check_tickets(tickets, extra=["customer_id", "opened_at"])
        check_frame(customers, "customers", required=["customer_id", "branch_id"], no_nan=["branch_id"])
        check_frame(branches, "branches", required=["branch_id", "crm_golive_date"])
        zero = (tickets["first_response_hours"] <= 0).to_numpy()
        if zero.any():
            raise DataValidationError(f"tickets has {int(zero.sum())} first response time(s) of 0 h; "
                                      "the model uses their logarithm",
                                      fix="drop them or floor them at a small positive value (e.g. 0.001 h)")
        br = customers.set_index("customer_id")["branch_id"].reindex(tickets["customer_id"]).to_numpy()
        if pd.isna(br).any():
            raise DataValidationError("some tickets' customer_id are not in customers",
                                      fix="pass the customers table the tickets come from")
        month = pd.to_datetime(tickets["opened_at"]).dt.to_period("M").dt.to_timestamp()
        gl = pd.to_datetime(branches.set_index("branch_id")["crm_golive_date"]).reindex(br)
        live = (month.to_numpy() >= gl.to_numpy()) & gl.notna().to_numpy()
        chans = sorted(tickets["channel"].unique())
        X = pd.DataFrame({f"channel[{c}]": (tickets["channel"] == c).astype(float).to_numpy() for c in chans[1:]})
        X["complaint"] = (tickets["type"] == "complaint").astype(float).to_numpy()
        X["crm_live"] = live.astype(float)
        fe = pd.get_dummies(pd.DataFrame({"branch": br, "month": month.dt.strftime("%Y-%m").to_numpy()}),
                            drop_first=True, dtype=float)
        X = sm.add_constant(pd.concat([X, fe], axis=1))
        y = np.log(tickets["first_response_hours"].to_numpy(dtype=float))
        groups = pd.factorize(br)[0]
        try:
            res = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
        except Exception as err:  # noqa: BLE001
            raise ConvergenceError(f"the response-time regression failed: {err}",
                                   fix="use more tickets (at least a few per branch and month)") from err
        keep = [c for c in X.columns if c.startswith("channel[") or c in ("complaint", "crm_live")]
        ci = res.conf_int(self.alpha).loc[keep]
        self.result_ = res
        self.baseline_channel_ = chans[0]
        self.coef_ = res.params[keep]
        self.summary_ = pd.DataFrame({"estimate": res.params[keep], "se": res.bse[keep], "ci_low": ci[0],
                                      "ci_high": ci[1], "pct_change": np.expm1(res.params[keep])})
        return self

    @property
    def summary(self) -> pd.DataFrame:
        check_fitted(self, "summary_", "fit(tickets, customers, branches)")
        return self.summary_


class CsatOrderedLogit:
    """Ordered logit (有序Logit) of post-ticket CSAT (1-5) on service levels.

    ``P(CSAT <= k) = logistic(cut_k - x'beta)`` with ``x`` = log first-response hours,
    first-contact resolution (0/1) and complaint (0/1) by default; fitted by maximum
    likelihood with statsmodels' ``OrderedModel`` on the answered tickets. A coefficient is
    the change in the log-odds of a higher rating per unit of ``x`` (per log hour for
    response time: doubling the wait changes the log-odds by ``beta * ln 2``).

    Attributes: ``coef_`` (Series), ``cutpoints_`` (array), ``summary`` (estimate, se, CI),
    ``result_``; methods ``predict_proba(X)``, ``predict_top2(X)``, ``plot_response_curve()``.

    >>> from crmlab import datasets
    >>> m = CsatOrderedLogit().fit(datasets.load("tickets"))
    >>> bool(m.coef_["log_first_response_hours"] < 0)
    True
    """

    def __init__(self, alpha: float = 0.05):
        self.alpha = check_scalar(alpha, "alpha", numbers.Real, 0, 1, low_inclusive=False, high_inclusive=False)

    @staticmethod
    def design(tickets: pd.DataFrame) -> pd.DataFrame:
        """The regressors built from a tickets table."""
        _check_tickets(tickets)
        zero = (tickets["first_response_hours"] <= 0).to_numpy()
        if zero.any():
            raise DataValidationError(f"tickets has {int(zero.sum())} first response time(s) of 0 h; "
                                      "the model uses their logarithm",
                                      fix="drop them or floor them at a small positive value (e.g. 0.001 h)")
        return pd.DataFrame({
            "log_first_response_hours": np.log(tickets["first_response_hours"].to_numpy(dtype=float)),
            "first_contact_resolution": tickets["first_contact_resolution"].astype(float).to_numpy(),
            "complaint": (tickets["type"] == "complaint").astype(float).to_numpy(),
        }, index=tickets.index)

    def fit(self, tickets: pd.DataFrame, csat: str = "post_ticket_csat") -> CsatOrderedLogit:
        from statsmodels.miscmodels.ordinal_model import OrderedModel

        require_columns(tickets, csat, "tickets")
        answered = tickets[tickets[csat].notna()]
        if len(answered) < 50:
            raise DataValidationError(f"only {len(answered)} tickets have a {csat!r} answer; the ordered logit "
                                      "needs at least 50", fix="use more tickets (a longer period or more branches)")
        check_in_range(answered, csat, 1, 5, "tickets", what="CSAT scores")
        y = answered[csat].astype(int)
        if y.nunique() < 3:
            raise DataValidationError(f"{csat!r} uses fewer than 3 of the 5 levels",
                                      fix="an ordered model needs several answer levels; pool more tickets")
        X = self.design(answered)
        try:
            res = OrderedModel(y.to_numpy(), X, distr="logit").fit(method="bfgs", disp=False, maxiter=500)
        except Exception as err:  # noqa: BLE001
            raise ConvergenceError(f"the ordered logit failed: {err}",
                                   fix="use more tickets or fewer regressors") from err
        if not res.mle_retvals.get("converged", True):
            raise ConvergenceError("the ordered logit did not converge",
                                   fix="use more tickets, or check for a level of CSAT with almost no answers")
        k = X.shape[1]
        ci = np.asarray(res.conf_int(self.alpha))
        names = list(X.columns)
        self.result_ = res
        self.levels_ = np.sort(y.unique())
        self.coef_ = pd.Series(np.asarray(res.params)[:k], index=names, name="coef")
        self.cutpoints_ = np.asarray(res.model.transform_threshold_params(res.params))[1:-1]
        self.n_ = int(len(answered))
        self.summary_ = pd.DataFrame({"estimate": np.asarray(res.params)[:k], "se": np.asarray(res.bse)[:k],
                                      "ci_low": ci[:k, 0], "ci_high": ci[:k, 1]}, index=names)
        return self

    @property
    def summary(self) -> pd.DataFrame:
        self._check()
        return self.summary_

    def _check(self):
        check_fitted(self, "coef_", "fit(tickets)")

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """P(CSAT = k) for rows of ``X`` (columns as in :meth:`design`)."""
        self._check()
        require_columns(X, list(self.coef_.index), "X")
        eta = X[list(self.coef_.index)].to_numpy(dtype=float) @ self.coef_.to_numpy()
        cdf = special.expit(self.cutpoints_[None, :] - eta[:, None])
        cdf = np.column_stack([np.zeros(len(eta)), cdf, np.ones(len(eta))])
        return pd.DataFrame(np.diff(cdf, axis=1), index=X.index, columns=[int(v) for v in self.levels_])

    def predict_top2(self, X: pd.DataFrame) -> pd.Series:
        """P(CSAT >= 4) (top-two box)."""
        p = self.predict_proba(X)
        return p[[c for c in p.columns if c >= 4]].sum(axis=1)

    def plot_response_curve(self, hours=None, ax=None):
        """Predicted top-two-box CSAT against first-response time, with and without FCR."""
        from . import plots

        self._check()
        hours = np.geomspace(0.02, 48, 60) if hours is None else np.asarray(hours, dtype=float)
        if ax is None:
            _fig, ax = plots.subplots()
        for fcr, style in ((1.0, "-"), (0.0, "--")):
            X = pd.DataFrame({"log_first_response_hours": np.log(hours), "first_contact_resolution": fcr,
                              "complaint": 0.0})
            ax.plot(hours, self.predict_top2(X), style, lw=2,
                    label=f"{'resolved' if fcr else 'not resolved'} at first contact")
        ax.set_xscale("log")
        plots.finish(ax, title="Service level and post-ticket satisfaction (non-complaint tickets)",
                     xlabel="first response time (hours, log scale)", ylabel="P(CSAT 4 or 5)")
        return ax


# ------------------------------------------------------------------------------------
# call-centre staffing (Erlang C)
# ------------------------------------------------------------------------------------
def _queue_args(calls_per_hour, aht_seconds, target_seconds):
    check_scalar(calls_per_hour, "calls_per_hour", numbers.Real, 0, low_inclusive=False)
    check_scalar(aht_seconds, "aht_seconds", numbers.Real, 0, low_inclusive=False)
    check_scalar(target_seconds, "target_seconds", numbers.Real, 0)
    return calls_per_hour * aht_seconds / 3600.0  # offered traffic, Erlangs


def erlang_c(calls_per_hour: float, aht_seconds: float, agents: int, target_seconds: float = 20) -> dict:
    """Erlang C queue (M/M/N): waiting probability, service level, speed of answer.

    Calls arrive at random (Poisson, ``calls_per_hour``), handling times are exponential
    with mean ``aht_seconds``, ``agents`` answer in first-come order and nobody hangs up.
    With offered traffic ``A = calls_per_hour * aht / 3600`` Erlangs and ``N`` agents
    (``N > A``): ``P(wait) = C(N, A)`` (Erlang's C formula, computed from the Erlang B
    recursion), service level ``= 1 - C * exp(-(N - A) * t / aht)`` for answer target ``t``,
    average speed of answer ``ASA = C * aht / (N - A)`` and occupancy ``A / N``. With
    ``N <= A`` the queue grows without bound: P(wait) = 1, service level 0, ASA infinite.

    >>> r = erlang_c(calls_per_hour=120, aht_seconds=180, agents=8)
    >>> round(r["traffic_erlangs"], 1), round(r["p_wait"], 3), round(r["asa_seconds"], 1)
    (6.0, 0.357, 32.1)
    """
    A = _queue_args(calls_per_hour, aht_seconds, target_seconds)
    check_scalar(agents, "agents", numbers.Integral, 1, 100_000)
    N = int(agents)
    if N <= A:
        return {"agents": N, "traffic_erlangs": A, "p_wait": 1.0, "service_level": 0.0,
                "asa_seconds": np.inf, "occupancy": 1.0, "stable": False}
    b = 1.0
    for k in range(1, N + 1):  # Erlang B recursion, stable for large N
        b = A * b / (k + A * b)
    c = N * b / (N - A * (1 - b))
    sl = 1 - c * np.exp(-(N - A) * target_seconds / aht_seconds)
    return {"agents": N, "traffic_erlangs": A, "p_wait": float(c), "service_level": float(sl),
            "asa_seconds": float(c * aht_seconds / (N - A)), "occupancy": A / N, "stable": True}


def staffing_table(calls_per_hour: float, aht_seconds: float, agents=None, target_seconds: float = 20,
                   target_level: float = 0.80, shrinkage: float = 0.0) -> pd.DataFrame:
    """Erlang C what-if over a range of agent numbers (the CTI call centre of S003 §1).

    ``shrinkage`` (breaks, training, absence) converts agents on the phones into agents to
    schedule: ``ceil(N / (1 - shrinkage))``. ``meets_target``: service level >= target_level
    (80% of calls answered within 20 s is a common industry target [EXT], not a source figure).

    >>> t = staffing_table(120, 180)
    >>> int(t.loc[t["meets_target"], "agents"].min())
    9
    """
    A = _queue_args(calls_per_hour, aht_seconds, target_seconds)
    check_scalar(target_level, "target_level", numbers.Real, 0, 1, low_inclusive=False, high_inclusive=False)
    check_scalar(shrinkage, "shrinkage", numbers.Real, 0, 1, high_inclusive=False)
    if agents is None:
        lo = max(1, int(np.floor(A)))
        agents = range(lo, lo + max(8, int(np.ceil(0.5 * A)) + 4))
    rows = [erlang_c(calls_per_hour, aht_seconds, int(n), target_seconds) for n in agents]
    out = pd.DataFrame(rows)
    out["scheduled_agents"] = np.ceil(out["agents"] / (1 - shrinkage)).astype(int)
    out["meets_target"] = out["service_level"] >= target_level
    return out


def required_agents(calls_per_hour: float, aht_seconds: float, target_seconds: float = 20,
                    target_level: float = 0.80) -> int:
    """Fewest agents whose Erlang C service level reaches ``target_level``.

    >>> required_agents(120, 180)
    9
    """
    A = _queue_args(calls_per_hour, aht_seconds, target_seconds)
    check_scalar(target_level, "target_level", numbers.Real, 0, 1, low_inclusive=False, high_inclusive=False)
    n = int(np.floor(A)) + 1
    while erlang_c(calls_per_hour, aht_seconds, n, target_seconds)["service_level"] < target_level:
        n += 1
    return n


def simulate_call_centre(calls_per_hour: float, aht_seconds: float, agents: int, *, n_calls: int = 20_000,
                         target_seconds: float = 20, seed: int = 0) -> dict:
    """Discrete-event simulation of the same M/M/N queue (first come, first served).

    Checks the Erlang C formulas, and is the starting point for what Erlang C leaves out
    (abandonment, non-exponential handling times). The first 10% of calls are a warm-up
    and are not counted. ``stable`` is False when the offered traffic is at least the
    number of agents: the queue then has no steady state, waits grow with every call, and
    the figures describe only this many calls (they worsen as ``n_calls`` grows), which is
    the point to show, not a service level to plan with.

    >>> r = simulate_call_centre(120, 180, 8, n_calls=5000, seed=1)
    >>> 0.64 < r["service_level"] < 0.78
    True
    """
    A = _queue_args(calls_per_hour, aht_seconds, target_seconds)
    check_scalar(agents, "agents", numbers.Integral, 1, 10_000)
    check_scalar(n_calls, "n_calls", numbers.Integral, 100, 10_000_000)
    rng = check_random_state(seed)
    arrivals = np.cumsum(rng.exponential(3600.0 / calls_per_hour, n_calls))
    service = rng.exponential(aht_seconds, n_calls)
    free = [0.0] * int(agents)  # heap of the times agents become free
    heapq.heapify(free)
    wait = np.empty(n_calls)
    for i in range(n_calls):
        t_free = heapq.heappop(free)
        start = max(arrivals[i], t_free)
        wait[i] = start - arrivals[i]
        heapq.heappush(free, start + service[i])
    w = wait[n_calls // 10:]
    return {"agents": int(agents), "calls": int(len(w)), "p_wait": float(np.mean(w > 0)),
            "service_level": float(np.mean(w <= target_seconds)), "asa_seconds": float(w.mean()),
            "traffic_erlangs": A, "stable": bool(agents > A)}


# ------------------------------------------------------------------------------------
# supply-chain collaboration: B2B accounts
# ------------------------------------------------------------------------------------
SUPPLY_CHAIN_DRIVERS = ["on_time_rate", "fill_rate", "lead_time_days", "defect_rate"]
_SC_CHINESE = {"on_time_rate": "准时交付率", "fill_rate": "订单满足率", "lead_time_days": "交货周期",
               "defect_rate": "产品缺陷率", "account_satisfaction": "客户满意度", "share_of_wallet": "钱包份额"}


def _check_b2b(b2b: pd.DataFrame, entity: str = "account_id") -> pd.DataFrame:
    cols = [*SUPPLY_CHAIN_DRIVERS, "account_satisfaction", "share_of_wallet"]
    check_frame(b2b, "b2b_accounts", required=[entity, *cols], numeric=cols, no_nan=[entity, *cols],
                non_negative=cols)
    for col in ("on_time_rate", "fill_rate", "defect_rate", "account_satisfaction"):
        check_in_range(b2b, col, 0, 100, "b2b_accounts", what="percent values")
    check_in_range(b2b, "share_of_wallet", 0, 1, "b2b_accounts", what="shares")
    return b2b


def supply_chain_metrics(b2b: pd.DataFrame, by="month") -> pd.DataFrame:
    """Supply-chain collaboration metrics (供应链协同指标) per group of account-months.

    Order-weighted on-time and fill rates (%), mean lead time (days) and defect rate (%),
    mean account satisfaction (0-100) and share of wallet, accounts, and the attrition rate
    (accounts that left / accounts active).

    >>> from crmlab import datasets
    >>> m = supply_chain_metrics(datasets.load("b2b_accounts"), by="month")
    >>> list(m.columns)[:4]
    ['accounts', 'orders', 'on_time_rate', 'fill_rate']
    """
    _check_b2b(b2b)
    by = [by] if isinstance(by, str) else list(by)
    require_columns(b2b, [*by, "orders", "churned"], "b2b_accounts")
    w = b2b["orders"].astype(float).clip(lower=0)
    d = b2b.assign(_w=w, _ot=b2b["on_time_rate"] * w, _fr=b2b["fill_rate"] * w,
                   _churn=b2b["churned"].astype(float))
    g = d.groupby(by)
    out = pd.DataFrame({
        "accounts": g["account_id"].nunique(), "orders": g["orders"].sum(),
        "on_time_rate": g["_ot"].sum() / g["_w"].sum().replace(0, np.nan),
        "fill_rate": g["_fr"].sum() / g["_w"].sum().replace(0, np.nan),
        "lead_time_days": g["lead_time_days"].mean(), "defect_rate": g["defect_rate"].mean(),
        "account_satisfaction": g["account_satisfaction"].mean(), "share_of_wallet": g["share_of_wallet"].mean(),
        "attrition_rate": g["_churn"].mean(),
    })
    return out


class SupplyChainPanel:
    """Delivery performance -> account satisfaction -> share of wallet, with account fixed effects.

    Two within-account (fixed-effects) regressions on the monthly B2B panel:

    1. ``account_satisfaction ~ on_time_rate + fill_rate + lead_time_days + defect_rate``;
    2. ``logit(share_of_wallet) ~ account_satisfaction``.

    Each account's own level (large accounts are happier AND better served) is absorbed by
    demeaning within the account, so the coefficients use only month-to-month changes; a
    pooled OLS (no account effects) is fitted too, to show the bias fixed effects remove.
    Standard errors are clustered by account (as Stata's ``xtreg, fe vce(cluster)``).

    Attributes: ``satisfaction_``/``sow_`` (fixed-effects results), ``pooled_``,
    ``summary`` (both equations, FE and pooled estimates), ``coef_``.

    >>> from crmlab import datasets
    >>> sc = SupplyChainPanel().fit(datasets.load("b2b_accounts"))
    >>> round(float(sc.coef_["lead_time_days"]), 1)
    -1.5
    """

    def __init__(self, drivers=None, entity: str = "account_id", alpha: float = 0.05):
        self.drivers = list(drivers) if drivers is not None else list(SUPPLY_CHAIN_DRIVERS)
        self.entity = entity
        self.alpha = check_scalar(alpha, "alpha", numbers.Real, 0, 1, low_inclusive=False, high_inclusive=False)

    @staticmethod
    def _within(df: pd.DataFrame, cols, entity):
        return df[cols] - df.groupby(entity)[cols].transform("mean")

    def _ols(self, y, X, groups, const=False):
        import statsmodels.api as sm

        if const:
            X = sm.add_constant(X)
        try:
            return sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
        except Exception as err:  # noqa: BLE001
            raise ConvergenceError(f"the panel regression failed: {err}",
                                   fix="use more account-months, or drop a driver that never varies") from err

    def fit(self, b2b: pd.DataFrame) -> SupplyChainPanel:
        _check_b2b(b2b, self.entity)
        require_columns(b2b, self.drivers, "b2b_accounts")
        n_months = b2b.groupby(self.entity)[self.entity].transform("size")
        d = b2b[n_months >= 2].copy()  # one-month accounts carry no within-account information
        if d[self.entity].nunique() < 10:
            raise DataValidationError("fewer than 10 accounts are observed in two or more months",
                                      fix="use the full b2b_accounts panel (fixed effects need repeated months)")
        flat = [c for c in self.drivers if self._within(d, [c], self.entity)[c].abs().max() == 0]
        if flat:
            raise DataValidationError(f"driver(s) {flat} never change within an account",
                                      fix="drop them: account fixed effects absorb anything constant per account")
        sow = d["share_of_wallet"].clip(1e-4, 1 - 1e-4)
        d["logit_sow"] = np.log(sow / (1 - sow))
        groups = pd.factorize(d[self.entity])[0]
        wx = self._within(d, self.drivers, self.entity)
        wy = self._within(d, ["account_satisfaction"], self.entity)["account_satisfaction"]
        self.satisfaction_ = self._ols(wy, wx, groups)
        self.pooled_ = self._ols(d["account_satisfaction"], d[self.drivers], groups, const=True)
        ws = self._within(d, ["logit_sow", "account_satisfaction"], self.entity)
        self.sow_ = self._ols(ws["logit_sow"], ws[["account_satisfaction"]], groups)
        self.sow_pooled_ = self._ols(d["logit_sow"], d[["account_satisfaction"]], groups, const=True)
        rows = []
        for eq, fe, pooled, terms in (("account_satisfaction", self.satisfaction_, self.pooled_, self.drivers),
                                      ("logit_share_of_wallet", self.sow_, self.sow_pooled_,
                                       ["account_satisfaction"])):
            ci = fe.conf_int(self.alpha)
            for t in terms:
                rows.append({"equation": eq, "term": t, "chinese": _SC_CHINESE.get(t, ""),
                             "estimate": fe.params[t], "se": fe.bse[t], "ci_low": ci.loc[t, 0],
                             "ci_high": ci.loc[t, 1], "pooled_estimate": pooled.params[t]})
        self.summary_ = pd.DataFrame(rows)
        self.coef_ = pd.Series({**self.satisfaction_.params.to_dict(),
                                "sow_per_satisfaction_point": float(self.sow_.params["account_satisfaction"])})
        self.n_accounts_ = int(d[self.entity].nunique())
        self.n_obs_ = int(len(d))
        return self

    @property
    def summary(self) -> pd.DataFrame:
        check_fitted(self, "summary_", "fit(b2b_accounts)")
        return self.summary_

    def satisfaction_change(self, changes: dict) -> float:
        """Predicted change in account satisfaction (points) for changes in the drivers,
        e.g. ``{"lead_time_days": -1, "on_time_rate": 2}``."""
        self.summary  # noqa: B018 - raises if unfitted
        unknown = [k for k in changes if k not in self.drivers]
        if unknown:
            raise ParameterError(f"unknown driver(s) {unknown}", fix=f"use keys among {self.drivers}")
        return float(sum(self.satisfaction_.params[k] * float(v) for k, v in changes.items()))


# ------------------------------------------------------------------------------------
# partner selection (S000 §6.2: size, strength, reputation)
# ------------------------------------------------------------------------------------
PARTNER_CRITERIA = {"size": "规模", "strength": "实力", "reputation": "信誉"}


def example_partners(n: int = 8, seed: int = 0) -> pd.DataFrame:
    """A seeded, SYNTHETIC list of candidate supply-chain partners.

    Generator: ``size`` = annual revenue (million CNY) ~ LogNormal(log 300, 0.8);
    ``strength`` = capability-audit score 0-100 ~ 55 + 8 * z_size + N(0, 10) (bigger firms
    audit a little better); ``reputation`` = 0-10 rating ~ 6.5 + N(0, 1.3), independent of
    size. All clipped to their ranges and rounded. The source texts name the criteria
    (S000 §6.2) but give no data.

    >>> example_partners(3, seed=1).columns.tolist()
    ['partner_id', 'size', 'strength', 'reputation']
    """
    check_scalar(n, "n", numbers.Integral, 2, 1000)
    rng = check_random_state(seed)
    z = rng.standard_normal(n)
    size = np.exp(np.log(300) + 0.8 * z)
    strength = np.clip(55 + 8 * z + rng.normal(0, 10, n), 0, 100)
    reputation = np.clip(6.5 + rng.normal(0, 1.3, n), 0, 10)
    return pd.DataFrame({"partner_id": [f"P{i + 1:02d}" for i in range(n)], "size": np.round(size, 1),
                         "strength": np.round(strength, 1), "reputation": np.round(reputation, 1)})


def _partner_matrix(partners, criteria, directions, id_col):
    check_frame(partners, "partners", required=[id_col, *criteria], numeric=list(criteria), no_nan=list(criteria))
    if partners[id_col].duplicated().any():
        raise DataValidationError(f"partners has duplicated {id_col!r}", fix="one row per candidate partner")
    dirs = {c: int((directions or {}).get(c, 1)) for c in criteria}
    if any(v not in (1, -1) for v in dirs.values()):
        raise ParameterError(f"directions must be +1 or -1, got {dirs}", fix="+1 = higher is better")
    x = partners[list(criteria)].astype(float)
    lo, hi = x.min(), x.max()
    z = (x - lo) / (hi - lo).replace(0, np.nan)
    for c, dd in dirs.items():
        if dd < 0:
            z[c] = 1 - z[c]
    return z.fillna(1.0)


def partner_scores(partners: pd.DataFrame, weights, criteria=("size", "strength", "reputation"),
                   directions: dict | None = None, id_col: str = "partner_id") -> pd.DataFrame:
    """Weighted partner-selection score (合作伙伴选择): 0-100, 100 = best on every criterion.

    Each criterion is min-max normalised across the candidates (direction-aware), then
    weighted; ``weights`` (dict by criterion or list) must sum to one, e.g. from AHP.

    >>> p = example_partners(4, seed=1)
    >>> partner_scores(p, {"size": 0.2, "strength": 0.5, "reputation": 0.3})["rank"].tolist()
    [1, 2, 3, 4]
    """
    criteria = list(criteria)
    z = _partner_matrix(partners, criteria, directions, id_col)
    w = check_named_weights(weights, criteria, tol=1e-4)
    out = partners[[id_col, *criteria]].copy()
    out["score"] = 100 * z.to_numpy() @ w
    out["rank"] = out["score"].rank(ascending=False, method="min").astype(int)
    return out.sort_values(["rank", id_col]).reset_index(drop=True)


def partner_weight_sensitivity(partners: pd.DataFrame, weights, criterion: str, grid=None,
                               criteria=("size", "strength", "reputation"), directions: dict | None = None,
                               id_col: str = "partner_id") -> pd.DataFrame:
    """Scores and ranks as one criterion's weight moves over ``grid`` (0-1), the other
    weights keeping their proportions. Returns a long table (weight, partner, score, rank).

    >>> p = example_partners(4, seed=1)
    >>> s = partner_weight_sensitivity(p, {"size": 0.2, "strength": 0.5, "reputation": 0.3}, "size",
    ...                                grid=[0, 0.5, 1])
    >>> s.shape
    (12, 4)
    """
    criteria = list(criteria)
    if criterion not in criteria:
        raise ParameterError(f"criterion {criterion!r} is not one of {criteria}", fix="pick one of the criteria")
    w0 = pd.Series(check_named_weights(weights, criteria, tol=1e-4), index=criteria)
    grid = np.linspace(0, 1, 21) if grid is None else np.asarray(grid, dtype=float)
    if grid.ndim != 1 or grid.size == 0 or np.any((grid < 0) | (grid > 1)):
        raise ParameterError("grid must be a 1-D list of weights in [0, 1]", fix="e.g. np.linspace(0, 1, 21)")
    others = w0.drop(criterion)
    rest = others / others.sum() if others.sum() > 0 else pd.Series(1 / len(others), index=others.index)
    rows = []
    for g in grid:
        w = rest * (1 - g)
        w[criterion] = g
        s = partner_scores(partners, w[criteria].to_dict(), criteria, directions, id_col)
        rows.append(pd.DataFrame({"weight": g, id_col: s[id_col], "score": s["score"], "rank": s["rank"]}))
    return pd.concat(rows, ignore_index=True)


def plot_partner_sensitivity(sensitivity: pd.DataFrame, criterion: str, base_weight: float | None = None,
                             id_col: str = "partner_id", ax=None):
    """Line plot of each partner's score against one criterion's weight."""
    from . import plots

    require_columns(sensitivity, ["weight", id_col, "score"], "sensitivity")
    if ax is None:
        _fig, ax = plots.subplots()
    for pid, g in sensitivity.groupby(id_col):
        ax.plot(g["weight"], g["score"], lw=1.6, label=str(pid))
    if base_weight is not None:
        ax.axvline(base_weight, color="black", ls=":", lw=1, label="chosen weight")
    plots.finish(ax, title=f"Partner scores as the weight of {criterion} changes",
                 xlabel=f"weight of {criterion}", ylabel="partner score (0-100)")
    ax.legend(frameon=False, fontsize=7, ncol=2)
    return ax


def rank_acceptability(partners: pd.DataFrame, weights, concentration: float = 50.0, n_draws: int = 2000,
                       seed: int = 0, criteria=("size", "strength", "reputation"),
                       directions: dict | None = None, id_col: str = "partner_id") -> pd.DataFrame:
    """How often each partner ranks first when the weights are uncertain.

    Weights are drawn from a Dirichlet distribution centred on ``weights`` (larger
    ``concentration`` = more confidence in them); returns, per partner, the share of draws
    in which it is ranked first and its mean rank.

    >>> p = example_partners(4, seed=1)
    >>> r = rank_acceptability(p, {"size": 0.2, "strength": 0.5, "reputation": 0.3}, n_draws=200, seed=2)
    >>> round(float(r["p_first"].sum()), 6)
    1.0
    """
    criteria = list(criteria)
    w0 = check_named_weights(weights, criteria, tol=1e-4)
    check_scalar(concentration, "concentration", numbers.Real, 0, low_inclusive=False)
    check_scalar(n_draws, "n_draws", numbers.Integral, 10, 1_000_000)
    rng = check_random_state(seed)
    z = _partner_matrix(partners, criteria, directions, id_col).to_numpy()
    W = rng.dirichlet(np.maximum(w0, 1e-6) * concentration, int(n_draws))
    scores = z @ W.T  # partners x draws
    ranks = stats.rankdata(-scores, axis=0, method="min")
    out = pd.DataFrame({id_col: partners[id_col].to_numpy(), "p_first": (ranks == 1).mean(axis=1),
                        "mean_rank": ranks.mean(axis=1)})
    out["p_first"] = out["p_first"] / out["p_first"].sum()  # ties share first place
    return out.sort_values(["mean_rank", id_col]).reset_index(drop=True)
