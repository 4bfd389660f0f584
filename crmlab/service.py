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

from .base import Fitter, summary_frame
from .errors import ConvergenceError, DataValidationError, ParameterError
from .validation import (
    check_binary,
    check_ci_level,
    check_column_list,
    check_column_name,
    check_count,
    check_dates,
    check_frame,
    check_in_range,
    check_named_weights,
    check_no_nan,
    check_numeric,
    check_random_state,
    check_scalar,
    check_unique,
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
    for col in ("first_contact_resolution", "sla_met"):
        check_binary(tickets, col, "tickets")
    if "post_ticket_csat" in tickets:
        check_numeric(tickets, "post_ticket_csat", "tickets")
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

    Examples
    --------
    >>> from crmlab import datasets
    >>> m = service_metrics(datasets.load("tickets"), by="channel")
    >>> m.loc["email", "sla_attainment"] > m.loc["phone", "sla_attainment"]
    np.True_
    """
    _check_tickets(tickets)
    by = check_column_list(by, "by")
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
        bad = {k: v for k, v in sla_hours.items()
               if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v) or v <= 0}
        if bad:
            raise ParameterError(f"SLA targets must be positive finite hours, got {bad}", fix="use targets > 0 hours")
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


def _log_hours(tickets: pd.DataFrame) -> np.ndarray:
    zero = (tickets["first_response_hours"] <= 0).to_numpy()
    if zero.any():
        raise DataValidationError(f"tickets has {int(zero.sum())} first response time(s) of 0 h; "
                                  "the model uses their logarithm",
                                  fix="drop them or floor them at a small positive value (e.g. 0.001 h)")
    return np.log(tickets["first_response_hours"].to_numpy(dtype=float))


def _model_summary(res, names, *, ci_level: float, **extra) -> pd.DataFrame:
    """The kit's summary layout from a statsmodels result (its own intervals and p-values)."""
    params, bse, pv = (pd.Series(x)[names].to_numpy() for x in (res.params, res.bse, res.pvalues))
    ci = pd.DataFrame(res.conf_int(alpha=1 - ci_level)).loc[names].to_numpy()
    return summary_frame(params, bse, ci[:, 0], ci[:, 1], index=pd.Index(names, name="term"),
                         ci_level=ci_level, p_value=pv, **extra)


class ResponseTimeModel(Fitter):
    """Drivers of (log) first-response time: channel, complaint, CRM go-live.

    OLS of ``log(first_response_hours)`` on channel dummies, a complaint dummy and
    ``crm_live`` (the ticket's branch had its CRM system live in the ticket's month), with
    branch and calendar-month fixed effects; standard errors clustered by branch (t
    intervals with branches - 1 degrees of freedom). The ``crm_live`` coefficient is a
    two-way fixed-effects difference-in-differences estimate (the go-live effect is constant
    in the synthetic world, so TWFE is unbiased here); ``exp(estimate) - 1`` is the
    proportional change in response time.

    Parameters
    ----------
    ci_level : float
        Level of the confidence intervals (0.95).

    Notes
    -----
    Attributes: ``coef_`` (Series), ``baseline_channel_``, ``result_`` (statsmodels),
    ``n_obs_``; ``summary`` (estimate, std_error, ci_lower, ci_upper, p_value, then
    ``pct_change``).

    >>> from crmlab import datasets
    >>> w = datasets.load_world()
    >>> m = ResponseTimeModel().fit(w.tickets, w.customers, w.branches)
    >>> round(float(m.coef_["crm_live"]), 2)
    -0.35
    """

    _unit = "tickets"

    def __init__(self, ci_level: float = 0.95):
        check_ci_level(ci_level)
        self.ci_level = ci_level

    def fit(self, tickets: pd.DataFrame, customers: pd.DataFrame, branches: pd.DataFrame) -> ResponseTimeModel:
        """Fit the regression on ``tickets`` with each ticket's branch (from ``customers``) and
        that branch's ``crm_golive_date`` (from ``branches``); returns ``self``."""
        import statsmodels.api as sm

        _check_tickets(tickets, extra=["customer_id", "opened_at"])
        check_no_nan(tickets, "customer_id", "tickets")
        opened = check_dates(tickets, "opened_at", "tickets")
        check_frame(customers, "customers", required=["customer_id", "branch_id"], no_nan=["customer_id", "branch_id"])
        check_unique(customers, "customer_id", "customers")
        check_frame(branches, "branches", required=["branch_id", "crm_golive_date"], no_nan=["branch_id"])
        check_unique(branches, "branch_id", "branches")
        golive = check_dates(branches, "crm_golive_date", "branches", allow_nat=True)
        y = _log_hours(tickets)
        br = customers.set_index("customer_id")["branch_id"].reindex(tickets["customer_id"]).to_numpy()
        if pd.isna(br).any():
            raise DataValidationError("some tickets' customer_id are not in customers",
                                      fix="pass the customers table the tickets come from")
        unknown = sorted(set(br) - set(branches["branch_id"]))
        if unknown:
            raise DataValidationError(f"customers reference branch(es) {unknown[:5]} missing from branches",
                                      fix="pass the branches table of the same world")
        month = opened.dt.to_period("M").dt.to_timestamp()
        gl = pd.Series(golive.to_numpy(), index=branches["branch_id"].to_numpy()).reindex(br)
        live = (month.to_numpy() >= gl.to_numpy()) & gl.notna().to_numpy()
        chans = sorted(tickets["channel"].astype(str).unique())
        X = pd.DataFrame({f"channel[{c}]": (tickets["channel"].astype(str) == c).astype(float).to_numpy()
                          for c in chans[1:]})
        X["complaint"] = (tickets["type"] == "complaint").astype(float).to_numpy()
        X["crm_live"] = live.astype(float)
        flat = [c for c in X.columns if X[c].nunique() < 2]
        if flat:
            raise DataValidationError(
                f"regressor(s) {flat} never vary in these tickets, so their effect cannot be estimated",
                fix="pass tickets from before and after go-live, with complaints and several channels "
                    "(e.g. the full tickets table)")
        if len(set(br)) < 3:
            raise DataValidationError(f"the tickets come from {len(set(br))} branch(es); clustered standard "
                                      "errors need at least 3", fix="pass the tickets of every branch")
        fe = pd.get_dummies(pd.DataFrame({"branch": br, "month": month.dt.strftime("%Y-%m").to_numpy()}),
                            drop_first=True, dtype=float)
        X = sm.add_constant(pd.concat([X, fe], axis=1), has_constant="add")
        groups = pd.factorize(br)[0]
        try:
            res = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
        except Exception as err:  # noqa: BLE001
            raise ConvergenceError(f"the response-time regression failed: {err}",
                                   fix="use more tickets (at least a few per branch and month)") from err
        keep = [c for c in X.columns if c.startswith("channel[") or c in ("complaint", "crm_live")]
        if not np.all(np.isfinite(res.params[keep])) or not np.all(np.isfinite(res.bse[keep])):
            raise ConvergenceError("the response-time regression gave non-finite estimates",
                                   fix="use more tickets per branch and month, or fewer, larger groups")
        self.result_ = res
        self.terms_ = keep
        self.baseline_channel_ = chans[0]
        self.coef_ = res.params[keep].rename("coef")
        self.n_obs_ = int(len(y))
        return self

    def _summary(self) -> pd.DataFrame:
        return _model_summary(self.result_, self.terms_, ci_level=self.ci_level,
                              pct_change=np.expm1(self.result_.params[self.terms_].to_numpy()))


class CsatOrderedLogit(Fitter):
    """Ordered logit (有序Logit) of post-ticket CSAT (1-5) on service levels.

    ``P(CSAT <= k) = logistic(cut_k - x'beta)`` with ``x`` = log first-response hours,
    first-contact resolution (0/1) and complaint (0/1) by default; fitted by maximum
    likelihood with statsmodels' ``OrderedModel`` on the answered tickets. A coefficient is
    the change in the log-odds of a higher rating per unit of ``x`` (per log hour for
    response time: doubling the wait changes the log-odds by ``beta * ln 2``).

    Parameters
    ----------
    ci_level : float
        Level of the (Wald) confidence intervals (0.95).

    Notes
    -----
    Attributes: ``coef_`` (Series), ``cutpoints_`` (array), ``levels_``, ``result_``,
    ``n_obs_`` (answered tickets); ``summary`` (estimate, std_error, ci_lower, ci_upper,
    p_value); methods ``predict_proba(X)``, ``predict_top2(X)``, ``plot_response_curve()``.

    >>> from crmlab import datasets
    >>> m = CsatOrderedLogit().fit(datasets.load("tickets"))
    >>> bool(m.coef_["log_first_response_hours"] < 0)
    True
    """

    _unit = "answered tickets"

    def __init__(self, ci_level: float = 0.95):
        check_ci_level(ci_level)
        self.ci_level = ci_level

    @staticmethod
    def design(tickets: pd.DataFrame) -> pd.DataFrame:
        """The regressors built from a tickets table."""
        _check_tickets(tickets)
        return pd.DataFrame({
            "log_first_response_hours": _log_hours(tickets),
            "first_contact_resolution": tickets["first_contact_resolution"].astype(float).to_numpy(),
            "complaint": (tickets["type"] == "complaint").astype(float).to_numpy(),
        }, index=tickets.index)

    def fit(self, tickets: pd.DataFrame, outcome_col: str = "post_ticket_csat") -> CsatOrderedLogit:
        """Fit on the tickets whose ``outcome_col`` (CSAT 1-5) was answered; returns ``self``."""
        from statsmodels.miscmodels.ordinal_model import OrderedModel

        check_column_name(outcome_col, "outcome_col")
        require_columns(tickets, [outcome_col], "tickets")
        check_numeric(tickets, [outcome_col], "tickets")
        answered = tickets[tickets[outcome_col].notna()]
        if len(answered) < 50:
            raise DataValidationError(f"only {len(answered)} tickets have a {outcome_col!r} answer; the ordered "
                                      "logit needs at least 50",
                                      fix="use more tickets (a longer period or more branches)")
        check_in_range(answered, outcome_col, 1, 5, "tickets", what="CSAT scores")
        score = answered[outcome_col].to_numpy(dtype=float)
        frac = score != np.round(score)
        if frac.any():
            raise DataValidationError(
                f"tickets[{outcome_col!r}] has {int(frac.sum())} score(s) that are not whole numbers "
                f"(e.g. {score[frac][0]!r}); an ordered logit models the answer levels 1, 2, 3, 4, 5",
                fix="pass the raw 1-5 answers, not averages")
        y = answered[outcome_col].astype(int)
        if y.nunique() < 3:
            raise DataValidationError(f"{outcome_col!r} uses fewer than 3 of the 5 levels",
                                      fix="an ordered model needs several answer levels; pool more tickets")
        X = self.design(answered)
        flat = [c for c in X.columns if X[c].nunique() < 2]
        if flat:
            raise DataValidationError(f"regressor(s) {flat} never vary among the answered tickets",
                                      fix="pass tickets with and without complaints and first-contact resolution")
        try:
            res = OrderedModel(y.to_numpy(), X, distr="logit").fit(method="bfgs", disp=False, maxiter=500)
        except Exception as err:  # noqa: BLE001
            raise ConvergenceError(f"the ordered logit failed: {err}",
                                   fix="use more tickets or fewer regressors") from err
        k = X.shape[1]
        if not res.mle_retvals.get("converged", True) or not np.all(np.isfinite(np.asarray(res.bse)[:k])):
            raise ConvergenceError("the ordered logit did not converge",
                                   fix="use more tickets, or check for a level of CSAT with almost no answers")
        names = list(X.columns)
        self.result_ = res
        self.levels_ = np.sort(y.unique())
        self.coef_ = pd.Series(np.asarray(res.params)[:k], index=names, name="coef")
        self.cutpoints_ = np.asarray(res.model.transform_threshold_params(res.params))[1:-1]
        self.n_obs_ = int(len(answered))
        return self

    def _summary(self) -> pd.DataFrame:
        return _model_summary(self.result_, list(self.coef_.index), ci_level=self.ci_level)

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """P(CSAT = k) for rows of ``X`` (columns as in :meth:`design`)."""
        self._check_fitted()
        names = list(self.coef_.index)
        check_frame(X, "X", required=names, numeric=names, no_nan=names, min_rows=0)
        eta = X[names].to_numpy(dtype=float) @ self.coef_.to_numpy()
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

        self._check_fitted()
        if hours is None:
            hours = np.geomspace(0.02, 48, 60)
        else:
            try:
                hours = np.asarray(hours, dtype=float) if not isinstance(hours, (str, bytes)) else np.array([np.nan])
            except (TypeError, ValueError):
                hours = np.array([np.nan])
            if hours.ndim != 1 or hours.size == 0 or not np.all(np.isfinite(hours)) or np.any(hours <= 0):
                raise ParameterError("hours must be a non-empty list of positive, finite response times",
                                     fix="e.g. hours=np.geomspace(0.02, 48, 60)")
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
_MAX_AGENTS = 100_000


def _queue_args(calls_per_hour, aht_seconds, target_seconds):
    check_scalar(calls_per_hour, "calls_per_hour", numbers.Real, 0, low_inclusive=False)
    check_scalar(aht_seconds, "aht_seconds", numbers.Real, 0, low_inclusive=False)
    check_scalar(target_seconds, "target_seconds", numbers.Real, 0)
    traffic = calls_per_hour * aht_seconds / 3600.0  # offered traffic, Erlangs
    if traffic >= _MAX_AGENTS:
        raise ParameterError(f"the offered traffic is {traffic:,.0f} Erlangs, more than {_MAX_AGENTS:,} agents "
                             "could answer", fix="check the units: calls per HOUR and handling time in SECONDS")
    return traffic


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
    N = check_count(agents, "agents", 1, _MAX_AGENTS)
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
        agents = range(lo, min(lo + max(8, int(np.ceil(0.5 * A)) + 4), _MAX_AGENTS + 1))
    elif isinstance(agents, (str, bytes)) or not hasattr(agents, "__iter__"):
        raise ParameterError(f"agents must be a list of agent numbers, got {agents!r}", fix="e.g. agents=range(5, 15)")
    agents = list(agents)
    if not agents or len(agents) > 10_000:
        raise ParameterError(f"agents must list 1 to 10,000 agent numbers, got {len(agents)}",
                             fix="e.g. agents=range(5, 15)")
    rows = [erlang_c(calls_per_hour, aht_seconds, n, target_seconds) for n in agents]
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
    check_count(agents, "agents", 1, 10_000)
    check_count(n_calls, "n_calls", 100, 10_000_000)
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


_PERCENT_COLUMNS = ("on_time_rate", "fill_rate", "defect_rate", "account_satisfaction")


def _check_b2b(b2b: pd.DataFrame, id_col: str = "account_id", drivers=SUPPLY_CHAIN_DRIVERS) -> pd.DataFrame:
    cols = list(dict.fromkeys([*drivers, "account_satisfaction", "share_of_wallet"]))
    known = [c for c in cols if c in (*SUPPLY_CHAIN_DRIVERS, "account_satisfaction", "share_of_wallet")]
    check_frame(b2b, "b2b_accounts", required=[id_col, *cols], numeric=cols, no_nan=[id_col, *cols],
                non_negative=known)
    for col in _PERCENT_COLUMNS:
        if col in cols:
            check_in_range(b2b, col, 0, 100, "b2b_accounts", what="percent values")
    check_in_range(b2b, "share_of_wallet", 0, 1, "b2b_accounts", what="shares")
    if "month" in b2b.columns:  # one row per account and month
        check_unique(b2b, [id_col, "month"], "b2b_accounts")
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
    by = check_column_list(by, "by")
    require_columns(b2b, [*by, "orders", "churned"], "b2b_accounts")
    check_frame(b2b, "b2b_accounts", numeric=["orders"], no_nan=["orders"], non_negative=["orders"])
    check_binary(b2b, "churned", "b2b_accounts")
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


class SupplyChainPanel(Fitter):
    """Delivery performance -> account satisfaction -> share of wallet, with account fixed effects.

    Two within-account (fixed-effects) regressions on the monthly B2B panel:

    1. ``account_satisfaction ~ on_time_rate + fill_rate + lead_time_days + defect_rate``
       (the ``drivers`` given to :meth:`fit`);
    2. ``logit(share_of_wallet) ~ account_satisfaction``.

    Each account's own level (large accounts are happier AND better served) is absorbed by
    demeaning within the account, so the coefficients use only month-to-month changes; a
    pooled OLS (no account effects) is fitted too, to show the bias fixed effects remove.
    Standard errors are clustered by account (as Stata's ``xtreg, fe vce(cluster)``).

    Parameters
    ----------
    ci_level : float
        Level of the confidence intervals (0.95).

    Notes
    -----
    Attributes: ``satisfaction_``/``sow_`` (fixed-effects results), ``pooled_``,
    ``sow_pooled_``, ``coef_``, ``drivers_``, ``n_accounts_``, ``n_obs_``; ``summary``
    (one row per equation and term: estimate, std_error, ci_lower, ci_upper, p_value, then
    ``pooled_estimate`` and the term's Chinese name).

    >>> from crmlab import datasets
    >>> sc = SupplyChainPanel().fit(datasets.load("b2b_accounts"))
    >>> round(float(sc.coef_["lead_time_days"]), 1)
    -1.5
    """

    _unit = "account-months"

    def __init__(self, ci_level: float = 0.95):
        check_ci_level(ci_level)
        self.ci_level = ci_level

    @staticmethod
    def _within(df: pd.DataFrame, cols, id_col):
        return df[cols] - df.groupby(id_col)[cols].transform("mean")

    @staticmethod
    def _ols(y, X, groups, const=False):
        import statsmodels.api as sm

        if const:
            X = sm.add_constant(X, has_constant="add")
        try:
            res = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
        except Exception as err:  # noqa: BLE001
            raise ConvergenceError(f"the panel regression failed: {err}",
                                   fix="use more account-months, or drop a driver that never varies") from err
        if not np.all(np.isfinite(res.params)) or not np.all(np.isfinite(res.bse)):
            raise ConvergenceError("the panel regression gave non-finite estimates",
                                   fix="use more accounts, or fewer drivers that move together")
        return res

    def fit(self, b2b: pd.DataFrame, drivers=None, id_col: str = "account_id") -> SupplyChainPanel:
        """Fit both equations on the account-month panel ``b2b``; returns ``self``.

        ``drivers``: the delivery columns of equation 1 (default :data:`SUPPLY_CHAIN_DRIVERS`);
        ``id_col``: the account key whose fixed effects are absorbed.
        """
        drivers = list(SUPPLY_CHAIN_DRIVERS) if drivers is None else check_column_list(drivers, "drivers")
        check_column_name(id_col, "id_col")
        if "account_satisfaction" in drivers or id_col in drivers:
            raise ParameterError("drivers may not include the outcome account_satisfaction or the key id_col",
                                 fix=f"e.g. drivers={SUPPLY_CHAIN_DRIVERS}")
        _check_b2b(b2b, id_col, drivers)
        n_months = b2b.groupby(id_col)[id_col].transform("size")
        d = b2b[n_months >= 2].copy()  # one-month accounts carry no within-account information
        if d[id_col].nunique() < 10:
            raise DataValidationError("fewer than 10 accounts are observed in two or more months",
                                      fix="use the full b2b_accounts panel (fixed effects need repeated months)")
        flat = [c for c in drivers if self._within(d, [c], id_col)[c].abs().max() < 1e-12]
        if flat:
            raise DataValidationError(f"driver(s) {flat} never change within an account",
                                      fix="drop them: account fixed effects absorb anything constant per account")
        if self._within(d, ["account_satisfaction"], id_col)["account_satisfaction"].abs().max() < 1e-12:
            raise DataValidationError("account_satisfaction never changes within an account",
                                      fix="fixed effects need month-to-month variation in the outcome")
        sow = d["share_of_wallet"].clip(1e-4, 1 - 1e-4)
        d["logit_sow"] = np.log(sow / (1 - sow))
        groups = pd.factorize(d[id_col])[0]
        wx = self._within(d, drivers, id_col)
        wy = self._within(d, ["account_satisfaction"], id_col)["account_satisfaction"]
        self.satisfaction_ = self._ols(wy, wx, groups)
        self.pooled_ = self._ols(d["account_satisfaction"], d[drivers], groups, const=True)
        ws = self._within(d, ["logit_sow", "account_satisfaction"], id_col)
        self.sow_ = self._ols(ws["logit_sow"], ws[["account_satisfaction"]], groups)
        self.sow_pooled_ = self._ols(d["logit_sow"], d[["account_satisfaction"]], groups, const=True)
        self.drivers_ = drivers
        self.coef_ = pd.Series({**self.satisfaction_.params.to_dict(),
                                "sow_per_satisfaction_point": float(self.sow_.params["account_satisfaction"])})
        self.n_accounts_ = int(d[id_col].nunique())
        self.n_obs_ = int(len(d))
        return self

    def _summary(self) -> pd.DataFrame:
        parts = []
        for eq, fe, pooled, terms in (("account_satisfaction", self.satisfaction_, self.pooled_, self.drivers_),
                                      ("logit_share_of_wallet", self.sow_, self.sow_pooled_,
                                       ["account_satisfaction"])):
            part = _model_summary(fe, terms, ci_level=self.ci_level,
                                  pooled_estimate=pooled.params[terms].to_numpy(),
                                  chinese=[_SC_CHINESE.get(t, "") for t in terms])
            part.index = pd.MultiIndex.from_product([[eq], terms], names=["equation", "term"])
            parts.append(part)
        out = pd.concat(parts)
        out.attrs["ci_level"] = self.ci_level
        return out

    def _repr_fitted(self) -> str:
        eff = ", ".join(f"{k}={v:.3g}" for k, v in self.coef_.items())
        return f"fitted on {self.n_obs_:,} account-months of {self.n_accounts_:,} accounts: {eff}"

    def satisfaction_change(self, changes: dict) -> float:
        """Predicted change in account satisfaction (points) for changes in the drivers,
        e.g. ``{"lead_time_days": -1, "on_time_rate": 2}``."""
        self._check_fitted()
        if not isinstance(changes, dict) or not changes:
            raise ParameterError("changes must be a non-empty dict {driver: change}",
                                 fix="e.g. {'lead_time_days': -1}")
        unknown = [k for k in changes if k not in self.drivers_]
        if unknown:
            raise ParameterError(f"unknown driver(s) {unknown}", fix=f"use keys among {self.drivers_}")
        bad = {k: v for k, v in changes.items()
               if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.number)) or not np.isfinite(v)}
        if bad:
            raise ParameterError(f"changes must be finite numbers, got {bad}", fix="e.g. {'lead_time_days': -1}")
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
    check_count(n, "n", 2, 1000)
    rng = check_random_state(seed)
    z = rng.standard_normal(n)
    size = np.exp(np.log(300) + 0.8 * z)
    strength = np.clip(55 + 8 * z + rng.normal(0, 10, n), 0, 100)
    reputation = np.clip(6.5 + rng.normal(0, 1.3, n), 0, 10)
    return pd.DataFrame({"partner_id": [f"P{i + 1:02d}" for i in range(n)], "size": np.round(size, 1),
                         "strength": np.round(strength, 1), "reputation": np.round(reputation, 1)})


def _partner_matrix(partners, criteria, directions, id_col):
    check_column_name(id_col, "id_col")
    check_frame(partners, "partners", required=[id_col, *criteria], numeric=list(criteria),
                no_nan=[id_col, *criteria])
    if partners[id_col].duplicated().any():
        dup = partners.loc[partners[id_col].duplicated(), id_col].iloc[0]
        raise DataValidationError(f"partners has duplicated {id_col!r} values (first: {dup!r})",
                                  fix=f"keep one row per candidate partner, e.g. partners.drop_duplicates({id_col!r})")
    if directions is not None and not isinstance(directions, dict):
        raise ParameterError(f"directions must be a dict {{criterion: +1 or -1}}, got {type(directions).__name__}",
                             fix="e.g. directions={'lead_time_days': -1}")
    unknown = sorted(set(directions or {}) - set(criteria), key=str)
    if unknown:
        raise ParameterError(f"directions names unknown criteria {unknown}", fix=f"use keys among {list(criteria)}")
    dirs = {c: (directions or {}).get(c, 1) for c in criteria}
    if any(isinstance(v, bool) or v not in (1, -1) for v in dirs.values()):
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
    criteria = check_column_list(criteria, "criteria")
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
    criteria = check_column_list(criteria, "criteria")
    if not isinstance(criterion, str) or criterion not in criteria:
        raise ParameterError(f"criterion {criterion!r} is not one of {criteria}", fix="pick one of the criteria")
    w0 = pd.Series(check_named_weights(weights, criteria, tol=1e-4), index=criteria)
    try:
        grid = np.linspace(0, 1, 21) if grid is None else np.asarray(grid, dtype=float)
    except (TypeError, ValueError):
        grid = np.array([np.nan])
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any((grid < 0) | (grid > 1)):
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

    check_column_name(id_col, "id_col")
    check_frame(sensitivity, "sensitivity", required=["weight", id_col, "score"], numeric=["weight", "score"])
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
    criteria = check_column_list(criteria, "criteria")
    w0 = check_named_weights(weights, criteria, tol=1e-4)
    check_scalar(concentration, "concentration", numbers.Real, 0, low_inclusive=False)
    check_count(n_draws, "n_draws", 10, 1_000_000)
    rng = check_random_state(seed)
    z = _partner_matrix(partners, criteria, directions, id_col).to_numpy()
    W = rng.dirichlet(np.maximum(w0, 1e-6) * concentration, int(n_draws))
    scores = z @ W.T  # partners x draws
    ranks = stats.rankdata(-scores, axis=0, method="min")
    out = pd.DataFrame({id_col: partners[id_col].to_numpy(), "p_first": (ranks == 1).mean(axis=1),
                        "mean_rank": ranks.mean(axis=1)})
    out["p_first"] = out["p_first"] / out["p_first"].sum()  # ties share first place
    return out.sort_values(["mean_rank", id_col]).reset_index(drop=True)
