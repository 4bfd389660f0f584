"""CRM strategy (客户关系管理战略): retention economics, growth matrix, relationship types,
software selection and strategy goals.

The source texts treat CRM as a management strategy rather than software (S001 §11.1):
a strategy states a value premise, a customer strategy and an enterprise change plan; it is
formulated from objectives, customer needs and key customers, and implemented and monitored
with KPIs (S000 Ch2). S001 §11.2 classifies customer relationships into five types (its table
is missing from the text), introduces a customer growth matrix (existing/new customers x
existing/new business) and four typical strategies, and S000 §7.1 lists five principles for
choosing CRM software. The texts give no numbers: every figure here is SYNTHETIC or an
assumption that the caller supplies.

* **retention economics** (客户保留经济学): :func:`customer_equity` (closed forms),
  :class:`RetentionEconomics` (customer equity under acquisition and retention spending,
  after Blattberg & Deighton 1996 [EXT]: expected cash-flow path, Monte-Carlo cohort
  simulation, optimum, sensitivity plots), :func:`retention_profit_effect`,
  :func:`economics_from_data` (inputs estimated from the world's tables);
* **customer growth matrix** (客户增长矩阵): :func:`growth_matrix` and :data:`GROWTH_STRATEGIES`
  (the cell -> strategy mapping is inferred, see there), :func:`plot_growth_matrix`;
* **relationship types** (客户关系类型): :data:`RELATIONSHIP_LEVELS` and :data:`KOTLER_GRID`
  (Kotler's five levels [EXT]), :func:`relationship_type_selection`,
  :func:`relationship_level_value`;
* **CRM software selection** (CRM软件选型): :class:`DecisionMatrix` on the five principles of
  S000 §7.1 (:data:`SELECTION_PRINCIPLES`) with Dirichlet weight sampling (rank
  acceptability, SMAA [EXT]) and one-weight sweeps;
* **strategy goals** (战略目标): :class:`GoalTree` links objectives to measurable KPI targets
  (names validated against a list you pass, e.g. ``crmlab.kpi.INDICATORS``).

>>> round(customer_equity(100, 0.8, 0.1), 2)  # m (1 + d) / (1 + d - r), d = the discount rate
366.67
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from .errors import ColumnError, DataValidationError, ParameterError
from .validation import (
    check_column_name,
    check_count,
    check_date_order,
    check_dates,
    check_frame,
    check_named_weights,
    check_no_nan,
    check_numeric,
    check_option,
    check_probability,
    check_random_state,
    check_scalar,
    check_timestamp,
    check_unique,
    require_columns,
)

__all__ = [
    "customer_equity",
    "RetentionEconomics",
    "retention_profit_effect",
    "plot_equity_sensitivity",
    "economics_from_data",
    "GROWTH_STRATEGIES",
    "growth_matrix",
    "plot_growth_matrix",
    "RELATIONSHIP_LEVELS",
    "KOTLER_GRID",
    "relationship_type_selection",
    "ILLUSTRATIVE_LEVEL_ASSUMPTIONS",
    "relationship_level_value",
    "SELECTION_PRINCIPLES",
    "DecisionMatrix",
    "GoalTree",
]


# ====================================================================================
# retention economics
# ====================================================================================
def _numbers(x, name: str) -> np.ndarray:
    """``x`` (a number or an array of them) as floats; text, None and dates are refused."""
    if x is None or isinstance(x, (str, bytes, bool, np.bool_)):
        raise ParameterError(f"{name} must be a number or an array of numbers, got {x!r}",
                             fix=f"pass {name} as a number, e.g. {name}=0.8")
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must hold numbers only, got {x!r}",
                             fix=f"convert {name} with pd.to_numeric first") from None


def _rate(x, name: str, *, high: int = 1) -> np.ndarray:
    arr = _numbers(x, name)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be finite numbers, got {x!r}", fix=f"pass {name} as a number")
    if np.any(arr < 0) or np.any(arr > high):
        raise ParameterError(f"{name} must lie in [0, {high}], got {x!r}",
                             fix=f"give {name} per period as a share, e.g. 0.8 for 80%")
    return arr


def customer_equity(margin, retention, discount_rate, horizon: int | None = None):
    """Discounted margin of one customer (客户资产): sum over t = 0 .. H-1 of m r^t / (1 + d)^t.

    The first margin arrives now (t = 0) and a customer is still there in period t with
    probability r^t (constant retention). Closed forms, with q = r / (1 + d):
    finite horizon m (1 - q^H) / (1 - q); infinite horizon (``horizon=None``)
    m (1 + d) / (1 + d - r), which exists when r < 1 + d. Works element-wise on arrays.
    ``discount_rate`` d is per period: period, retention and discount rate must use the same
    time unit (e.g. all monthly).

    >>> round(customer_equity(100, 0.8, 0.1, horizon=3), 4)  # 100 + 100*0.8/1.1 + 100*0.64/1.21
    225.6198
    """
    m = _numbers(margin, "margin")
    if not np.all(np.isfinite(m)):
        raise ParameterError("margin must be finite", fix="pass the margin per customer per period")
    r = _rate(retention, "retention")
    d = _numbers(discount_rate, "discount_rate")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ParameterError(f"discount_rate must be >= 0, got {discount_rate!r}",
                             fix="give the discount rate per period, e.g. 0.1 for 10% a year")
    try:
        np.broadcast_shapes(m.shape, r.shape, d.shape)
    except ValueError:
        raise ParameterError(f"margin, retention and discount_rate have shapes {m.shape}, {r.shape}, {d.shape} "
                             "that do not combine", fix="pass numbers, or arrays of one common length") from None
    q = r / (1 + d)
    if horizon is None:
        if np.any(q >= 1):
            raise ParameterError("the infinite-horizon customer equity diverges when retention = 1 and "
                                 "discount_rate = 0", fix="use a positive discount rate or a finite horizon=")
        out = m * (1 + d) / (1 + d - r)
    else:
        check_count(horizon, "horizon", 1, 100_000)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(q == 1, m * horizon, m * (1 - q ** horizon) / np.where(q == 1, 1, 1 - q))
    return float(out) if out.ndim == 0 else out


class RetentionEconomics:
    """Customer equity when a firm spends on acquisition and on retention (Blattberg & Deighton 1996 [EXT]).

    Per prospect the firm spends ``A`` on acquisition; the prospect becomes a customer with
    probability a(A) = ``acquisition_ceiling`` (1 - exp(-``acquisition_k`` A)) and pays margin
    ``margin`` at once. Each later period the firm spends ``R`` on every customer it still has
    and keeps each with probability r(R) = ``retention_ceiling`` (1 - exp(-``retention_k`` R));
    a kept customer pays ``margin`` again. Cash flows are discounted at ``discount_rate`` per period.
    Customer equity per prospect (infinite horizon):

        CE(A, R) = a m - A + a (m - R / r) r / (1 + d - r).

    The response curves and their parameters are ASSUMPTIONS the caller states; the source
    texts give none. With ``retention_k=None`` retention is fixed at ``retention_ceiling``
    whatever R (and likewise for acquisition), which reduces CE to :func:`customer_equity`.

    Methods: :meth:`equity` (closed form), :meth:`expected_path` (period-by-period expected
    cash flows that sum to it), :meth:`simulate` (Monte-Carlo cohort), :meth:`optimize`,
    :meth:`grid` and :meth:`plot_grid`.

    >>> econ = RetentionEconomics(margin=100, discount_rate=0.1, acquisition_ceiling=0.4, acquisition_k=0.02,
    ...                           retention_ceiling=0.85, retention_k=0.1)
    >>> round(econ.equity(acquisition_spend=50, retention_spend=20), 2)
    12.34
    """

    def __init__(self, *, margin: float, discount_rate: float, acquisition_ceiling: float = 1.0,
                 acquisition_k: float | None = None, retention_ceiling: float,
                 retention_k: float | None = None, horizon: int | None = None):
        check_scalar(margin, "margin", numbers.Real)
        check_scalar(discount_rate, "discount_rate", numbers.Real, 0)
        check_probability(acquisition_ceiling, "acquisition_ceiling")
        check_probability(retention_ceiling, "retention_ceiling")
        for name, k in (("acquisition_k", acquisition_k), ("retention_k", retention_k)):
            if k is not None:
                check_scalar(k, name, numbers.Real, 0, low_inclusive=False)
        if horizon is not None:
            check_count(horizon, "horizon", 1, 100_000)
        if horizon is None and retention_ceiling >= 1 and discount_rate == 0:
            raise ParameterError("retention_ceiling = 1 with discount_rate = 0 gives infinite equity",
                                 fix="use a discount rate > 0 or a finite horizon")
        self.margin, self.discount_rate = float(margin), float(discount_rate)
        self.acquisition_ceiling, self.acquisition_k = float(acquisition_ceiling), acquisition_k
        self.retention_ceiling, self.retention_k = float(retention_ceiling), retention_k
        self.horizon = horizon

    # -- response curves -----------------------------------------------------------------
    def acquisition_rate(self, acquisition_spend):
        """a(A): share of prospects acquired at spend A per prospect."""
        A = self._spend(acquisition_spend, "acquisition_spend")
        if self.acquisition_k is None:
            return np.full_like(A, self.acquisition_ceiling) if A.ndim else self.acquisition_ceiling
        out = self.acquisition_ceiling * (1 - np.exp(-self.acquisition_k * A))
        return float(out) if out.ndim == 0 else out

    def retention_rate(self, retention_spend):
        """r(R): share of customers kept each period at spend R per customer and period."""
        R = self._spend(retention_spend, "retention_spend")
        if self.retention_k is None:
            return np.full_like(R, self.retention_ceiling) if R.ndim else self.retention_ceiling
        out = self.retention_ceiling * (1 - np.exp(-self.retention_k * R))
        return float(out) if out.ndim == 0 else out

    @staticmethod
    def _spend(x, name, *, scalar: bool = False, grid: bool = False):
        arr = _numbers(x, name)
        if scalar and arr.ndim != 0:
            raise ParameterError(f"{name} must be one number here, got {x!r}",
                                 fix=f"pass a single {name}; use grid() for several spend levels")
        if grid and (arr.ndim != 1 or arr.size == 0):
            raise ParameterError(f"{name} must be a non-empty list of spend levels, got {x!r}",
                                 fix=f"e.g. {name}=np.linspace(0, 100, 21)")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ParameterError(f"{name} must be finite and >= 0, got {x!r}",
                                 fix=f"pass {name} in currency per prospect/customer and period")
        return arr

    # -- closed form -----------------------------------------------------------------
    def equity(self, acquisition_spend=0.0, retention_spend=0.0):
        """Customer equity per prospect, CE(A, R) (element-wise over arrays)."""
        A = self._spend(acquisition_spend, "acquisition_spend")
        R = self._spend(retention_spend, "retention_spend")
        a = np.asarray(self.acquisition_rate(A), dtype=float)
        r = np.asarray(self.retention_rate(R), dtype=float)
        delta = 1.0 / (1 + self.discount_rate)
        q = r * delta

        def G(n):  # sum_{s=0}^{n-1} q^s; n = None: infinite
            if n is None:
                return 1.0 / (1 - q)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(q == 1, float(n), (1 - q ** n) / np.where(q == 1, 1.0, 1 - q))

        H = self.horizon
        # margin m at t = 0 .. H-1 on the r^t customers alive; retention spend R at t = 1 .. H-1
        # on the r^(t-1) customers alive at t-1 (Blattberg-Deighton's R / r per survivor)
        per_customer = self.margin * G(H) - R * delta * (G(None) if H is None else G(H - 1))
        out = a * per_customer - A
        return float(out) if np.ndim(out) == 0 else out

    def expected_path(self, acquisition_spend=0.0, retention_spend=0.0, periods: int = 240) -> pd.DataFrame:
        """Expected cash flows per prospect, period by period (their sum is :meth:`equity`
        up to the truncation at ``periods``, or exactly with a finite ``horizon``)."""
        check_count(periods, "periods", 1, 100_000)
        A = float(self._spend(acquisition_spend, "acquisition_spend", scalar=True))
        R = float(self._spend(retention_spend, "retention_spend", scalar=True))
        a, r = float(self.acquisition_rate(A)), float(self.retention_rate(R))
        T = periods if self.horizon is None else self.horizon
        t = np.arange(T)
        alive = a * r ** t
        alive_before = np.r_[0.0, alive[:-1]]
        margin = self.margin * alive
        spend = np.where(t == 0, A, R * alive_before)
        df = (1 + self.discount_rate) ** -t
        out = pd.DataFrame({"period": t, "customers_alive": alive, "margin": margin, "spend": spend,
                            "net": margin - spend, "discount_factor": df, "discounted_net": (margin - spend) * df})
        out["cumulative_equity"] = out["discounted_net"].cumsum()
        return out

    def simulate(self, acquisition_spend=0.0, retention_spend=0.0, *, prospects: int = 100_000,
                 seed=0) -> pd.Series:
        """Monte-Carlo cohort: draw who is acquired and each customer's lifetime.

        Each acquired customer stays T periods, T ~ Geometric(1 - r) (alive at t = 0 .. T-1),
        truncated at the horizon; the discounted margin and retention spend of every
        prospect are summed in closed form over its own lifetime. Returns the mean equity
        per prospect, its Monte-Carlo standard error and the closed-form value, so the
        simulation can be checked against the formula.
        """
        check_count(prospects, "prospects", 1, 10_000_000)
        rng = check_random_state(seed)
        A = float(self._spend(acquisition_spend, "acquisition_spend", scalar=True))
        R = float(self._spend(retention_spend, "retention_spend", scalar=True))
        a, r = float(self.acquisition_rate(A)), float(self.retention_rate(R))
        delta = 1.0 / (1 + self.discount_rate)
        acquired = rng.random(prospects) < a
        life = rng.geometric(1 - r, size=prospects).astype(float) if r < 1 else np.full(prospects, np.inf)
        if self.horizon is not None:
            life = np.minimum(life, self.horizon)
        if np.isinf(life).any():
            raise ParameterError("retention of 1 with an infinite horizon never ends a lifetime",
                                 fix="use retention_ceiling < 1 or a finite horizon")

        def geo(n_terms):  # sum_{t=0}^{n-1} delta^t
            return n_terms if delta == 1 else (1 - delta ** n_terms) / (1 - delta)

        margin_pv = self.margin * geo(life)
        # retention spend at t = 1 .. T on customers alive at t-1 (within the horizon)
        last = life if self.horizon is None else np.minimum(life, self.horizon - 1)
        spend_pv = R * (geo(last + 1) - 1)
        value = np.where(acquired, margin_pv - spend_pv, 0.0) - A
        return pd.Series({"prospects": prospects, "acquisition_rate": a, "retention_rate": r,
                          "equity_simulated": float(value.mean()),
                          "standard_error": float(value.std(ddof=1) / np.sqrt(prospects)) if prospects > 1 else np.nan,
                          "equity_closed_form": float(self.equity(A, R)),
                          "customers_acquired": int(acquired.sum()),
                          "mean_lifetime_periods": float(life[acquired].mean()) if acquired.any() else np.nan})

    def optimize(self, max_spend: float | None = None) -> pd.Series:
        """Spend levels (A*, R*) that maximise customer equity per prospect, with the equity."""
        if self.acquisition_k is None and self.retention_k is None:
            raise ParameterError("no spend response is defined (acquisition_k and retention_k are None)",
                                 fix="give acquisition_k and/or retention_k to optimise spending")
        if max_spend is not None:
            check_scalar(max_spend, "max_spend", numbers.Real, 0, low_inclusive=False)
        hi = float(max_spend) if max_spend is not None else 20 * abs(self.margin)
        if hi <= 0:
            raise ParameterError("the margin is 0, so there is no natural spending range to search",
                                 fix="pass max_spend= (the largest spend per prospect/customer to consider)")

        def neg(x):
            return -self.equity(x[0], x[1])

        best = None
        for x0 in ([hi / 50, hi / 50], [hi / 5, hi / 20], [hi / 20, hi / 5]):
            res = optimize.minimize(neg, x0, bounds=[(0, hi if self.acquisition_k else 0),
                                                     (0, hi if self.retention_k else 0)], method="L-BFGS-B")
            if best is None or res.fun < best.fun:
                best = res
        A, R = best.x
        return pd.Series({"acquisition_spend": A, "retention_spend": R,
                          "acquisition_rate": float(self.acquisition_rate(A)),
                          "retention_rate": float(self.retention_rate(R)), "equity": -best.fun})

    def grid(self, acquisition_spend: Sequence[float], retention_spend: Sequence[float]) -> pd.DataFrame:
        """Customer equity per prospect over a grid (rows: retention spend, columns: acquisition spend)."""
        A = self._spend(acquisition_spend, "acquisition_spend", grid=True)
        R = self._spend(retention_spend, "retention_spend", grid=True)
        vals = self.equity(A[None, :], R[:, None])
        return pd.DataFrame(vals, index=pd.Index(R, name="retention_spend"),
                            columns=pd.Index(A, name="acquisition_spend"))

    def plot_grid(self, acquisition_spend, retention_spend, ax=None):
        """Contour plot of customer equity over acquisition and retention spending."""
        from . import plots

        g = self.grid(acquisition_spend, retention_spend)
        if ax is None:
            _, ax = plots.subplots()
        cs = ax.contourf(g.columns, g.index, g.to_numpy(), levels=15, cmap="viridis")
        ax.figure.colorbar(cs, ax=ax, label="customer equity per prospect")
        if self.acquisition_k is not None and self.retention_k is not None:
            opt = self.optimize(max_spend=float(max(np.max(acquisition_spend), np.max(retention_spend))))
            ax.plot(opt["acquisition_spend"], opt["retention_spend"], marker="*", color="white", mec="black",
                    ms=15, ls="none", label="optimum")
        return plots.finish(ax, title="Customer equity: acquisition vs retention spending",
                            xlabel="acquisition spend per prospect", ylabel="retention spend per customer-period",
                            legend=False)


def retention_profit_effect(margin: float, retention: float, discount_rate: float, *,
                            delta: Sequence[float] = (0.01, 0.02, 0.05), horizon: int | None = None) -> pd.DataFrame:
    """How much customer equity rises when retention rises by ``delta`` (shares, not %).

    Reichheld & Sasser (1990) [EXT] reported that 5 points more retention raised profits by
    25-95% in their service industries; here the effect follows from the inputs you give,
    and it grows with the retention level and shrinks with the discount rate.

    >>> retention_profit_effect(100, 0.8, 0.1, delta=[0.05])["equity_change_pct"].round(1).tolist()
    [20.0]
    """
    check_scalar(margin, "margin", numbers.Real)
    check_probability(retention, "retention")
    check_scalar(discount_rate, "discount_rate", numbers.Real, 0)
    base = customer_equity(margin, retention, discount_rate, horizon)
    if isinstance(delta, (str, bytes)) or not hasattr(delta, "__iter__") or len(list(delta)) == 0:
        raise ParameterError(f"delta must be a list of retention changes, got {delta!r}",
                             fix="e.g. delta=[0.01, 0.02, 0.05] (shares, not percent)")
    rows = []
    for dlt in delta:
        check_scalar(dlt, "delta", numbers.Real)
        r1 = retention + dlt
        if not 0 <= r1 <= 1:
            raise ParameterError(f"retention + delta = {r1:.3f} is outside [0, 1]",
                                 fix="choose smaller deltas")
        new = customer_equity(margin, r1, discount_rate, horizon)
        rows.append({"retention": retention, "delta": dlt, "new_retention": r1, "equity": base,
                     "new_equity": new, "equity_change_pct": 100 * (new - base) / base if base else np.nan})
    return pd.DataFrame(rows)


def plot_equity_sensitivity(margin: float, retention: float, discount_rate: float, *,
                            retention_range: Sequence[float] | None = None,
                            discount_rates: Sequence[float] | None = None, horizon: int | None = None, ax=None):
    """Customer equity against retention for several discount rates (a sensitivity plot).

    ``discount_rates`` defaults to half, one and two times ``discount_rate``.
    """
    from . import plots

    check_scalar(margin, "margin", numbers.Real)
    check_probability(retention, "retention")
    check_scalar(discount_rate, "discount_rate", numbers.Real, 0)
    rr = np.linspace(max(0.0, retention - 0.3), min(0.99, retention + 0.15), 60) if retention_range is None \
        else _rate(retention_range, "retention")
    ds = [discount_rate / 2, discount_rate, discount_rate * 2] if discount_rates is None \
        else _numbers(discount_rates, "discount_rates").ravel().tolist()
    for d in ds:  # raises on a bad rate before anything is drawn
        customer_equity(margin, rr, d, horizon)
    if ax is None:
        _, ax = plots.subplots()
    for d in ds:
        ax.plot(rr, customer_equity(margin, rr, d, horizon), label=f"discount rate {d:.2%} per period")
    ax.axvline(retention, color="#888888", ls=":", label="current retention")
    return plots.finish(ax, title="Customer equity is convex in retention",
                        xlabel="retention rate per period", ylabel="customer equity (currency)")


def economics_from_data(customers: pd.DataFrame, memberships: pd.DataFrame, transactions: pd.DataFrame, *,
                        by: str | None = "acquisition_channel", fee_margin: float = 1.0,
                        annual_discount_rate: float = 0.10, as_of=None) -> pd.DataFrame:
    """Inputs of the retention economics estimated from the tables, per group of customers.

    For the B2C members of each group: mean ``acquisition_cost`` (获客成本); monthly
    retention r = 1 - cancellations / member-months at risk inside the data window
    (a constant-hazard summary: it ignores how churn changes with tenure); monthly margin
    per member-month m = ``fee_margin`` x fee + gross margin of purchases made while a
    member; and the resulting customer lifetime value (客户生命周期价值)
    CLV = m (1 + d) / (1 + d - r) at the monthly discount rate d = (1 + annual)^(1/12) - 1
    (``annual_discount_rate``), with the ratio CLV / acquisition cost. ``fee_margin`` (share of
    the fee that is margin) is an ASSUMPTION. The window runs from the first transaction to
    ``as_of`` (inclusive; default: the last transaction date).

    >>> from crmlab import datasets
    >>> w = datasets.load_world()
    >>> eco = economics_from_data(w.customers, w.memberships, w.transactions, by=None, fee_margin=0.6)
    >>> round(float(eco["monthly_retention"].iloc[0]), 4)
    0.9747
    """
    if by is not None:
        check_column_name(by, "by")
    group_cols = [by] if by is not None else []
    check_frame(customers, "customers", required=["customer_id", "acquisition_cost", "customer_type", *group_cols],
                no_nan=["customer_id"], non_negative=["acquisition_cost"])
    check_unique(customers, "customer_id", "customers")
    b2c = customers[customers["customer_type"] == "B2C"]
    if b2c.empty:
        raise DataValidationError("customers has no B2C customers (customer_type == 'B2C')",
                                  fix="the membership economics are those of B2C members: pass the full customers table")
    check_no_nan(b2c, ["acquisition_cost", *group_cols], "customers (B2C rows)")
    check_frame(memberships, "memberships", required=["customer_id", "start_date", "end_date", "monthly_fee"],
                no_nan=["customer_id", "monthly_fee"], non_negative=["monthly_fee"])
    check_frame(transactions, "transactions", required=["customer_id", "date", "gross_margin"],
                numeric=["gross_margin"], no_nan=["customer_id", "gross_margin"], dates=["date"])
    check_scalar(fee_margin, "fee_margin", numbers.Real, 0, 1)
    check_scalar(annual_discount_rate, "annual_discount_rate", numbers.Real, 0, 1)
    tx_dates = check_dates(transactions, "date", "transactions")
    start = tx_dates.min()
    end = (tx_dates.max() if as_of is None else check_timestamp(as_of, "as_of")) + pd.Timedelta(days=1)
    if end <= start:
        raise ParameterError(f"as_of {(end - pd.Timedelta(days=1)).date()} is before the first transaction "
                             f"({start.date()})", fix="choose an as_of date inside the data window")
    transactions = transactions.assign(date=tx_dates)
    mem = memberships.copy()
    mem["start_date"], mem["end_date"] = check_date_order(mem, "start_date", "end_date", "memberships",
                                                          meaning="a membership that ends before it starts")
    lo = mem["start_date"].clip(lower=start)
    hi = mem["end_date"].fillna(end).clip(upper=end)
    mem["months"] = ((hi - lo).dt.days / 30.4375).clip(lower=0)
    mem["cancelled"] = (mem["end_date"].notna() & (mem["end_date"] >= start) & (mem["end_date"] < end)).astype(int)
    # purchases made while the membership was active
    tx = transactions.merge(mem[["customer_id", "start_date", "end_date"]], on="customer_id")
    tx = tx[(tx["date"] >= tx["start_date"]) & (tx["end_date"].isna() | (tx["date"] < tx["end_date"]))
            & (tx["date"] < end)]
    tx_margin = tx.groupby("customer_id")["gross_margin"].sum()
    mem["fee_margin"] = fee_margin * mem["monthly_fee"] * mem["months"]
    per = mem.groupby("customer_id").agg(months=("months", "sum"), cancelled=("cancelled", "sum"),
                                         fee_margin=("fee_margin", "sum"))
    per["purchase_margin"] = tx_margin.reindex(per.index).fillna(0.0)
    cust = b2c.set_index("customer_id")
    group = cust[by] if by is not None else pd.Series("all", index=cust.index)
    per = per.join(group.rename("group"), how="inner")
    acq = cust.groupby(group)["acquisition_cost"].agg(["size", "mean"])
    agg = per.groupby("group").agg(members=("months", "size"), member_months=("months", "sum"),
                                   cancellations=("cancelled", "sum"), fee_margin=("fee_margin", "sum"),
                                   purchase_margin=("purchase_margin", "sum"))
    if (agg["member_months"] <= 0).any():
        raise DataValidationError("a group has no member-months inside the window",
                                  fix="check the membership dates or use fewer groups (by=None)")
    out = pd.DataFrame({"customers": acq["size"], "acquisition_cost": acq["mean"]}).join(agg, how="inner")
    if out.empty:
        raise DataValidationError("no B2C customer of customers holds a membership in memberships",
                                  fix="pass the customers and memberships tables of the same world")
    out["monthly_retention"] = 1 - out["cancellations"] / out["member_months"]
    out["monthly_margin"] = (out["fee_margin"] + out["purchase_margin"]) / out["member_months"]
    d = (1 + annual_discount_rate) ** (1 / 12) - 1
    out["monthly_discount"] = d
    out["clv"] = customer_equity(out["monthly_margin"].to_numpy(), out["monthly_retention"].to_numpy(), d)
    out["clv_to_cac"] = out["clv"] / out["acquisition_cost"]
    out.index.name = by if by is not None else "group"
    return out.drop(columns=["fee_margin", "purchase_margin"])


# ====================================================================================
# customer growth matrix
# ====================================================================================
GROWTH_STRATEGIES = pd.DataFrame([
    ("existing", "existing", "loyalty", "客户忠诚战略", "keep existing customers buying what they already buy"),
    ("existing", "new", "expansion", "客户扩充战略", "sell new business (categories) to existing customers: cross-/up-selling"),
    ("new", "existing", "acquisition", "客户获得战略", "win new customers for the existing business"),
    ("new", "new", "diversification", "客户多样化战略", "win new customers with new business"),
], columns=["customers", "business", "strategy", "strategy_zh", "meaning"]).set_index(["customers", "business"])
"""The four typical strategies of S001 §11.2.3 mapped to the cells of the growth matrix of
S001 §11.2.2. The slide text names the matrix and the strategies but its diagram is missing:
the cell assignment is INFERRED [UNSURE] (it follows the Ansoff product-market matrix the
growth matrix resembles). S001 also mentions a combination (组合) of them."""


def growth_matrix(transactions: pd.DataFrame, period_start, period_end, *, customers: pd.DataFrame | None = None,
                  rule: str = "relationship", new_categories: Sequence[str] | None = None,
                  category_col: str = "category") -> pd.DataFrame:
    """Customer growth matrix (客户增长矩阵) of one period: existing/new customers x existing/new business.

    Purchases dated from ``period_start`` to ``period_end`` (both inclusive) are classified
    by the ``category_col`` of what was bought:

    * **customers**: *new* if the customer's first purchase (or, with ``customers``, its
      ``signup_date``) falls in the period, else *existing*;
    * **business**, ``rule="relationship"`` (default, computable from transactions alone): a
      purchase is *existing business* if its category is already part of the customer's
      relationship: bought before the period, or, for a new customer, a category of its
      first purchase (the offer that won it); any other category is *new business*
      (cross-buying). ``rule="firm"``: *new business* = categories the firm added: those in
      ``new_categories`` or, when it is None, categories first sold inside the period.

    The rule needs purchase history before the period: use a period after the first year of
    data. Returns one row per cell with customers, purchases, revenue, gross margin, their
    shares, and the mapped strategy (:data:`GROWTH_STRATEGIES`, mapping inferred).

    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2], "category": ["a", "a", "b", "a", "b"],
    ...     "date": pd.to_datetime(["2024-01-05", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"]),
    ...     "amount": [10.0, 20, 30, 40, 50], "gross_margin": [1.0, 2, 3, 4, 5]})
    >>> growth_matrix(tx, "2025-01-01", "2025-12-31")["revenue"].tolist()
    [20.0, 30.0, 40.0, 50.0]
    """
    category = check_column_name(category_col, "category_col")
    check_frame(transactions, "transactions", required=["customer_id", "date", category, "amount", "gross_margin"],
                numeric=["amount", "gross_margin"], no_nan=["customer_id", category, "amount", "gross_margin"],
                dates=["date"])
    check_option(rule, "rule", ["relationship", "firm"])
    lo = check_timestamp(period_start, "period_start")
    last = check_timestamp(period_end, "period_end")
    if last < lo:
        raise ParameterError(f"period_end {last.date()} is before period_start {lo.date()}",
                             fix="swap the dates (both are inclusive)")
    hi = last.normalize() + pd.Timedelta(days=1)  # the period includes the whole of its last day
    tx = transactions.copy()
    tx["date"] = check_dates(transactions, "date", "transactions")
    if not (tx["date"] < lo).any():
        raise DataValidationError(
            f"no purchase before period_start {lo.date()}: without history every customer and category looks new",
            fix="choose a later period (e.g. the last year of the data) so earlier purchases form the history")
    cur = tx[(tx["date"] >= lo) & (tx["date"] < hi)]
    if cur.empty:
        raise DataValidationError(f"no purchase in the period {lo.date()} to {last.date()}",
                                  fix="check the period dates against the data window")
    first = tx.groupby("customer_id")["date"].min()
    if customers is not None:
        check_frame(customers, "customers", required=["customer_id", "signup_date"], no_nan=["customer_id"],
                    dates=["signup_date"])
        check_unique(customers, "customer_id", "customers")
        since = pd.Series(check_dates(customers, "signup_date", "customers").to_numpy(),
                          index=customers["customer_id"].to_numpy())
        first = since.reindex(first.index).fillna(first)
    cur = cur.assign(customers=np.where(cur["customer_id"].map(first) >= lo, "new", "existing"))
    if rule == "relationship":
        hist = tx[tx["date"] < lo][["customer_id", category]].drop_duplicates()
        first_day = tx.groupby("customer_id")["date"].transform("min")
        entry = tx[(tx["date"] == first_day)][["customer_id", category]].drop_duplicates()
        known = pd.concat([hist, entry[entry["customer_id"].isin(cur.loc[cur["customers"] == "new", "customer_id"])]])
        known = set(map(tuple, known.drop_duplicates().to_numpy()))
        is_known = [(c, k) in known for c, k in zip(cur["customer_id"], cur[category], strict=True)]
        cur = cur.assign(business=np.where(is_known, "existing", "new"))
    else:
        if new_categories is None:
            launch = tx.groupby(category)["date"].min()
            new_categories = launch[launch >= lo].index.tolist()
            if not new_categories:
                raise DataValidationError(
                    "no category was first sold inside the period: the firm added no new business in these data",
                    fix="use rule='relationship' (new to each customer), or name the new lines with new_categories=")
        unknown = set(new_categories) - set(tx[category])
        if unknown:
            raise ParameterError(f"new_categories {sorted(unknown)} do not occur in transactions[{category!r}]",
                                 fix=f"choose among {sorted(tx[category].unique())}")
        cur = cur.assign(business=np.where(cur[category].isin(list(new_categories)), "new", "existing"))
    g = cur.groupby(["customers", "business"]).agg(customers_n=("customer_id", "nunique"),
                                                   purchases=("customer_id", "size"),
                                                   revenue=("amount", "sum"), gross_margin=("gross_margin", "sum"))
    g = g.reindex(GROWTH_STRATEGIES.index, fill_value=0)
    g = g.rename(columns={"customers_n": "n_customers"})
    g["revenue_share"] = g["revenue"] / g["revenue"].sum()
    g["margin_share"] = g["gross_margin"] / g["gross_margin"].sum()
    return g.join(GROWTH_STRATEGIES[["strategy", "strategy_zh"]])


def plot_growth_matrix(matrix: pd.DataFrame, value: str = "revenue_share", ax=None):
    """The 2 x 2 growth matrix as a heat map, each cell labelled with its strategy and value."""
    from . import plots

    check_column_name(value, "value")
    check_frame(matrix, "matrix", required=[value, "strategy"], numeric=[value])
    if ax is None:
        _, ax = plots.subplots()
    grid = np.zeros((2, 2))
    for (cu, bu), row in matrix.iterrows():
        grid[0 if cu == "existing" else 1, 0 if bu == "existing" else 1] = row[value]
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=max(grid.max(), 1e-9))
    for (cu, bu), row in matrix.iterrows():
        i, j = (0 if cu == "existing" else 1), (0 if bu == "existing" else 1)
        txt = f"{row['strategy']}\n{row[value]:.1%}" if "share" in value else f"{row['strategy']}\n{row[value]:,.0f}"
        dark = row[value] > 0.6 * grid.max()
        ax.text(j, i, txt, ha="center", va="center", color="white" if dark else "black", fontsize=11)
    ax.set_xticks([0, 1], ["existing business", "new business"])
    ax.set_yticks([0, 1], ["existing customers", "new customers"])
    ax.xaxis.tick_top()  # keeps the axis labels clear of the synthetic-data note
    ax.grid(False)
    return plots.finish(ax, title=f"Customer growth matrix ({value.replace('_', ' ')})")


# ====================================================================================
# relationship types
# ====================================================================================
RELATIONSHIP_LEVELS = pd.DataFrame([
    (1, "basic", "基本型", "sells the product and does not follow up"),
    (2, "reactive", "被动型", "sells and invites the customer to call with questions or problems"),
    (3, "accountable", "负责型", "calls the customer soon after the sale to check and collect suggestions"),
    (4, "proactive", "能动型", "contacts the customer regularly with improvements and new uses"),
    (5, "partnership", "伙伴型", "works continuously with the customer to find ways to deliver more value"),
], columns=["rank", "level", "level_zh", "what_the_firm_does"]).set_index("level")
"""Kotler's five levels of customer relationship [EXT, Kotler, Marketing Management]. S001
§11.2.1 refers to five relationship types and a selection diagram whose table is missing from
the text; this is the standard textbook framework it refers to, not the seed's own table."""

KOTLER_GRID = pd.DataFrame(
    [["accountable", "reactive", "basic"],
     ["proactive", "accountable", "reactive"],
     ["partnership", "proactive", "accountable"]],
    index=pd.Index(["many", "medium", "few"], name="number_of_customers"),
    columns=pd.Index(["high", "medium", "low"], name="margin"))
"""Relationship level by number of customers x margin per customer [EXT, Kotler]. (Kotler
gives "basic or reactive" for many customers with low margins; the grid keeps "basic".)"""


def _classify(x: pd.Series, cuts, labels, name: str) -> pd.Series:
    try:
        ok = len(cuts) == 2 and all(np.isfinite(float(c)) for c in cuts) and not isinstance(cuts, (str, bytes))
    except (TypeError, ValueError):
        ok = False
    if not ok or not cuts[0] < cuts[1]:
        raise ParameterError(f"{name} must be two increasing numbers (low, high), got {cuts!r}",
                             fix=f"e.g. {name}=(100, 1000)")
    return pd.Series(np.select([x <= cuts[0], x <= cuts[1]], labels[:2], labels[2]), index=x.index)


def relationship_type_selection(groups: pd.DataFrame, *, customers_col: str = "customers",
                                margin_col: str = "margin", count_cuts: Sequence[float],
                                margin_cuts: Sequence[float]) -> pd.DataFrame:
    """Suggest a relationship level for each customer group from :data:`KOTLER_GRID` [EXT].

    ``groups`` has one row per group with its number of customers (column ``customers_col``)
    and its margin per customer (``margin_col``). ``count_cuts=(a, b)``: up to a customers = "few", up to b = "medium", more =
    "many"; ``margin_cuts=(c, d)`` likewise for "low"/"medium"/"high" margins. The cut
    points are a management judgement the caller must state (the texts give none).

    >>> g = pd.DataFrame({"customers": [4700, 45], "margin": [90.0, 6000.0]}, index=["B2C", "B2B large"])
    >>> relationship_type_selection(g, count_cuts=(100, 1000), margin_cuts=(500, 3000))["level"].tolist()
    ['basic', 'partnership']
    """
    customers, margin = check_column_name(customers_col, "customers_col"), check_column_name(margin_col, "margin_col")
    check_frame(groups, "groups", required=[customers, margin], numeric=[customers, margin],
                no_nan=[customers, margin], non_negative=[customers])
    out = groups.copy()
    out["count_class"] = _classify(groups[customers], count_cuts, ["few", "medium", "many"], "count_cuts")
    out["margin_class"] = _classify(groups[margin], margin_cuts, ["low", "medium", "high"], "margin_cuts")
    out["level"] = [KOTLER_GRID.loc[c, m] for c, m in zip(out["count_class"], out["margin_class"], strict=True)]
    out["level_zh"] = out["level"].map(RELATIONSHIP_LEVELS["level_zh"])
    out["what_the_firm_does"] = out["level"].map(RELATIONSHIP_LEVELS["what_the_firm_does"])
    return out


ILLUSTRATIVE_LEVEL_ASSUMPTIONS = pd.DataFrame({
    "retention_uplift": [0.0, 0.01, 0.03, 0.05, 0.08],
    "cost_per_period": [0.0, 0.5, 2.0, 6.0, 20.0],
}, index=RELATIONSHIP_LEVELS.index)
"""ASSUMED retention gain (share points per period) and cost per customer and period of each
relationship level, for :func:`relationship_level_value`. Invented for teaching: no source
gives them. Replace them with your own estimates."""


def relationship_level_value(margins: Sequence[float], *, retention: float, discount_rate: float,
                             assumptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Net customer equity of each relationship level at each margin, and the best level.

    Level L raises retention by ``retention_uplift`` and costs ``cost_per_period`` per
    customer and period (``assumptions``, default :data:`ILLUSTRATIVE_LEVEL_ASSUMPTIONS`);
    its value per customer is the customer equity of (margin - cost) at the raised
    retention. Higher margins make the retention gain worth more, so the best level rises
    with the margin: the economic logic behind the margin axis of :data:`KOTLER_GRID`.

    >>> v = relationship_level_value([10, 500], retention=0.8, discount_rate=0.01)
    >>> v["best_level"].tolist()
    ['basic', 'partnership']
    """
    a = ILLUSTRATIVE_LEVEL_ASSUMPTIONS if assumptions is None else assumptions
    check_frame(a, "assumptions", required=["retention_uplift", "cost_per_period"],
                no_nan=["retention_uplift", "cost_per_period"], non_negative=["cost_per_period"])
    check_probability(retention, "retention")
    check_numeric(a, ["retention_uplift", "cost_per_period"], "assumptions")
    margins = _numbers(list(margins) if not isinstance(margins, (str, bytes)) and hasattr(margins, "__iter__")
                       else margins, "margins").ravel()
    if margins.size == 0 or not np.all(np.isfinite(margins)):
        raise ParameterError("margins must be a non-empty list of finite numbers", fix="e.g. margins=[10, 50, 200]")
    r = retention + a["retention_uplift"].to_numpy()
    if np.any(r >= 1) or np.any(r < 0):
        raise ParameterError("retention + retention_uplift leaves [0, 1) for some level",
                             fix="lower the uplifts or the base retention")
    vals = customer_equity(margins[:, None] - a["cost_per_period"].to_numpy()[None, :], r[None, :], discount_rate)
    out = pd.DataFrame(vals, index=pd.Index(margins, name="margin"), columns=a.index)
    out["best_level"] = out[a.index].idxmax(axis=1)
    return out


# ====================================================================================
# CRM software selection
# ====================================================================================
SELECTION_PRINCIPLES = pd.DataFrame([
    ("functionality", "功能性", "covers the business processes and analyses the firm needs"),
    ("flexibility", "灵活性", "can be configured and adapted as processes change"),
    ("scalability", "可扩展性", "grows with customers, data volume, users and new modules"),
    ("security", "安全性", "protects customer data: access control, encryption, compliance"),
    ("usability", "易用性", "staff can learn and use it without friction"),
], columns=["criterion", "criterion_zh", "meaning"]).set_index("criterion")
"""The five principles for choosing CRM software in S000 §7.1.1."""


class DecisionMatrix:
    """Weighted decision matrix (加权决策矩阵) for choosing among alternatives, e.g. CRM vendors.

    ``scores``: one row per alternative, one column per criterion (any common scale, higher =
    better); ``weights``: one per criterion (dict or Series), non-negative, summing to 1. The
    weighted sum ranks the alternatives. Because weights are judgements, check how stable
    the choice is: :meth:`rank_acceptability` samples weights from a Dirichlet distribution
    (around the stated weights, or uniformly over all weights when ``concentration=None``)
    and reports how often each alternative takes each rank (SMAA [EXT], Lahdelma et al. 1998);
    :meth:`weight_sweep` moves one weight and rescales the others.

    >>> s = pd.DataFrame({"functionality": [8, 6], "security": [5, 9]}, index=["A", "B"])
    >>> DecisionMatrix(s, {"functionality": 0.6, "security": 0.4}).ranking()["score"].round(2).tolist()
    [6.8, 7.2]
    """

    def __init__(self, scores: pd.DataFrame, weights, *, scale: tuple[float, float] | None = None):
        check_frame(scores, "scores", numeric=list(scores.columns) if isinstance(scores, pd.DataFrame) else (),
                    no_nan=list(scores.columns) if isinstance(scores, pd.DataFrame) else (), min_rows=2)
        if scores.index.duplicated().any():
            raise DataValidationError("scores has duplicated alternative names in its index",
                                      fix="give every alternative (row) a unique name")
        if scores.columns.duplicated().any():
            raise DataValidationError("scores has duplicated criterion names in its columns",
                                      fix="give every criterion (column) a unique name")
        criteria = list(scores.columns)
        w = check_named_weights(weights, criteria)
        if scale is not None:
            try:
                lo, hi = (float(v) for v in scale)
                ok = np.isfinite(lo) and np.isfinite(hi) and lo < hi
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ParameterError(f"scale must be two increasing finite numbers (low, high), got {scale!r}",
                                     fix="e.g. scale=(1, 10)")
            bad = (scores < lo) | (scores > hi)
            if bad.to_numpy().any():
                raise DataValidationError(f"scores has {int(bad.to_numpy().sum())} value(s) outside the scale [{lo}, {hi}]",
                                          fix="rescore them on the stated scale")
        self.scores = scores.astype(float)
        self.weights = pd.Series(w, index=criteria, name="weight")

    def ranking(self, weights=None) -> pd.DataFrame:
        """Weighted score and rank (1 = best) of every alternative."""
        w = self.weights if weights is None else DecisionMatrix(self.scores, weights).weights
        score = self.scores.to_numpy() @ w.to_numpy()
        out = pd.DataFrame({"score": score}, index=self.scores.index)
        out["rank"] = out["score"].rank(ascending=False, method="min").astype(int)
        return out

    @property
    def winner(self) -> str:
        """The alternative with the highest weighted score."""
        r = self.ranking()
        return r["score"].idxmax()

    def _sample_weights(self, n_draws, concentration, rng):
        k = len(self.weights)
        shape = np.ones(k) if concentration is None else np.maximum(concentration * self.weights.to_numpy(), 1e-3)
        return rng.dirichlet(shape, size=n_draws)

    def rank_acceptability(self, n_draws: int = 10_000, *, concentration: float | None = None,
                           seed=0) -> pd.DataFrame:
        """Share of sampled weight vectors under which each alternative takes each rank.

        ``concentration=None``: weights uniform over all vectors summing to 1 (no preference
        information); a number c: Dirichlet(c x stated weights), centred on the stated
        weights, tighter for larger c. Adds each alternative's *central weights* (mean
        weights of the draws it wins) as extra columns.

        >>> s = pd.DataFrame({"price": [8, 6], "service": [5, 9]}, index=["A", "B"])
        >>> acc = DecisionMatrix(s, {"price": 0.5, "service": 0.5}).rank_acceptability(n_draws=1000, seed=1)
        >>> float(acc[["rank_1", "rank_2"]].sum(axis=1).iloc[0])
        1.0
        """
        n_samples = check_count(n_draws, "n_draws", 10, 1_000_000)
        if concentration is not None:
            check_scalar(concentration, "concentration", numbers.Real, 0, low_inclusive=False)
        rng = check_random_state(seed)
        W = self._sample_weights(n_samples, concentration, rng)
        S = W @ self.scores.to_numpy().T  # draws x alternatives
        # rank 1 = best; ties broken by the order of the rows (stable)
        order = np.argsort(-S, axis=1, kind="stable")
        ranks = np.empty_like(order)
        rows = np.arange(n_samples)[:, None]
        ranks[rows, order] = np.arange(1, S.shape[1] + 1)[None, :]
        alts = self.scores.index
        acc = pd.DataFrame({f"rank_{r}": (ranks == r).mean(axis=0) for r in range(1, len(alts) + 1)}, index=alts)
        wins = ranks == 1
        central = np.array([W[wins[:, i]].mean(axis=0) if wins[:, i].any() else np.full(W.shape[1], np.nan)
                            for i in range(len(alts))])
        for j, c in enumerate(self.weights.index):
            acc[f"central_w_{c}"] = central[:, j]
        return acc.rename_axis("alternative")

    def weight_sweep(self, criterion: str, grid: Sequence[float] | None = None) -> pd.DataFrame:
        """Scores and winner as the weight of ``criterion`` moves from 0 to 1, the other
        weights keeping their stated proportions."""
        try:
            known = criterion in self.weights.index
        except TypeError:  # a list or another unhashable value
            known = False
        if not known:
            raise ParameterError(f"unknown criterion {criterion!r}", fix=f"use one of {list(self.weights.index)}")
        grid = np.linspace(0, 1, 21) if grid is None else _numbers(
            list(grid) if hasattr(grid, "__iter__") and not isinstance(grid, (str, bytes)) else grid, "grid").ravel()
        if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any((grid < 0) | (grid > 1)):
            raise ParameterError("grid weights must lie in [0, 1]", fix="e.g. grid=np.linspace(0, 1, 21)")
        others = self.weights.drop(criterion)
        rows = []
        for g in grid:
            w = others / others.sum() * (1 - g) if others.sum() > 0 else others * 0 + (1 - g) / len(others)
            w[criterion] = g
            w = w.reindex(self.weights.index)
            sc = self.scores.to_numpy() @ w.to_numpy()
            rows.append({"weight": g, **dict(zip(self.scores.index, sc, strict=True)),
                         "winner": self.scores.index[int(np.argmax(sc))]})
        return pd.DataFrame(rows).set_index("weight")

    def plot_rank_acceptability(self, acceptability: pd.DataFrame, ax=None):
        """Stacked bars of rank acceptability per alternative."""
        from . import plots

        check_frame(acceptability, "acceptability")
        cols = [c for c in acceptability.columns if str(c).startswith("rank_")]
        if not cols:
            raise ColumnError("acceptability has no rank_1, rank_2, ... columns",
                              fix="pass the output of DecisionMatrix.rank_acceptability(...)")
        check_frame(acceptability, "acceptability", numeric=cols, no_nan=cols)
        if ax is None:
            _, ax = plots.subplots()
        bottom = np.zeros(len(acceptability))
        for k, c in enumerate(cols):
            ax.bar(acceptability.index.astype(str), acceptability[c], bottom=bottom,
                   label=c.replace("_", " "), color=plots.PALETTE[k % len(plots.PALETTE)])
            bottom += acceptability[c].to_numpy()
        ax.set_ylim(0, 1)
        ax.tick_params(axis="x", labelrotation=20)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        plots.finish(ax, title="Rank acceptability under sampled weights", xlabel="alternative",
                     ylabel="share of weight draws", legend=False)
        ax.legend(frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
        return ax


# ====================================================================================
# strategy goals
# ====================================================================================
class GoalTree:
    """Strategy goals as a tree (目标树): objectives -> sub-objectives -> measurable KPI targets.

    ``kpis`` lists the indicator names a target may use: a list of names, a dict
    ``{name: direction}`` (+1 higher is better, -1 lower is better), or a DataFrame indexed by
    name with a ``direction`` column (e.g. ``crmlab.kpi.indicator_catalogue()``). A target is
    measurable when it names a known KPI, a baseline, a target value and a deadline; when the
    direction is known, the target must improve on the baseline. :meth:`validate` lists
    structural problems (objectives without targets); :meth:`progress` scores current
    values against the targets.

    >>> tree = GoalTree({"retention_rate": 1, "cac": -1}, name="Grow customer equity")
    >>> _ = tree.add_objective("Keep members longer").add_target(
    ...     "Keep members longer", "retention_rate", baseline=0.78, target=0.82, deadline="2025-12-31")
    >>> tree.progress({"retention_rate": 0.80})["gap_closed"].round(2).tolist()
    [0.5]
    """

    def __init__(self, kpis, name: str = "CRM strategy"):
        if isinstance(kpis, pd.DataFrame):
            require_columns(kpis, ["direction"], "kpis")
            kpis = kpis["direction"].to_dict()
        if isinstance(kpis, Mapping):
            bad = {k: v for k, v in kpis.items() if v is not None and not (
                isinstance(v, (numbers.Real, np.number)) and not isinstance(v, bool) and np.isfinite(v))}
            if bad:
                raise ParameterError(f"KPI directions must be +1 (higher is better), -1 (lower is better) or None, "
                                     f"got {bad}", fix="e.g. GoalTree({'retention_rate': 1, 'cac': -1})")
            self.kpis = {str(k): (int(np.sign(v)) if v is not None else 0) for k, v in kpis.items()}
        elif isinstance(kpis, (list, tuple, set, pd.Index)):
            self.kpis = {str(k): 0 for k in kpis}
        else:
            raise ParameterError(f"kpis must be a list of names, a dict name -> direction or a DataFrame, "
                                 f"got {type(kpis).__name__}",
                                 fix="e.g. GoalTree(list(crmlab.kpi.INDICATORS)) or GoalTree(kpi.indicator_catalogue())")
        if not self.kpis:
            raise ParameterError("kpis is empty", fix="pass the names of the indicators targets may use")
        if not isinstance(name, str) or not name.strip():
            raise ParameterError("name must be a non-empty string", fix="name the strategy, e.g. 'CRM strategy 2025'")
        self.name = name
        self._objectives: dict[str, dict] = {}
        self._targets: list[dict] = []

    def add_objective(self, objective: str, parent: str | None = None, *, description: str = "",
                      source: str = "") -> GoalTree:
        """Add an objective under ``parent`` (None = directly under the strategy). Returns self."""
        if not isinstance(objective, str) or not objective.strip():
            raise ParameterError("objective must be a non-empty string", fix="name the objective")
        if objective in self._objectives:
            raise ParameterError(f"objective {objective!r} already exists", fix="use a unique name")
        if parent is not None and parent not in self._objectives:
            raise ParameterError(f"parent {parent!r} is not an objective of this tree",
                                 fix=f"add it first; objectives: {list(self._objectives)}")
        self._objectives[objective] = {"parent": parent, "description": description, "source": source}
        return self

    def add_target(self, objective: str, kpi: str, *, baseline: float, target: float, deadline,
                   owner: str = "") -> GoalTree:
        """Attach a measurable KPI target to an objective. Returns self."""
        if objective not in self._objectives:
            raise ParameterError(f"objective {objective!r} is not in the tree",
                                 fix=f"add_objective({objective!r}) first; objectives: {list(self._objectives)}")
        if kpi not in self.kpis:
            close = [k for k in self.kpis if kpi.lower() in k.lower() or k.lower() in kpi.lower()]
            raise ParameterError(f"unknown KPI {kpi!r}: a target must use a defined indicator",
                                 fix=f"use one of {sorted(self.kpis)}" + (f" (did you mean {close}?)" if close else ""))
        check_scalar(baseline, "baseline", numbers.Real)
        check_scalar(target, "target", numbers.Real)
        due = check_timestamp(deadline, "deadline")
        direction = self.kpis[kpi]
        if direction == 0:
            direction = 1 if target >= baseline else -1
        if (target - baseline) * direction <= 0:
            better = "higher" if direction > 0 else "lower"
            raise ParameterError(
                f"target {target} for {kpi!r} does not improve on the baseline {baseline} ({better} is better)",
                fix=f"set a target {better} than the baseline")
        self._targets.append({"objective": objective, "kpi": kpi, "baseline": float(baseline),
                              "target": float(target), "deadline": due, "direction": direction, "owner": owner})
        return self

    @classmethod
    def from_dict(cls, spec: Mapping, kpis, name: str = "CRM strategy") -> GoalTree:
        """Build a tree from ``{objective: {"targets": [{kpi, baseline, target, deadline}], "children": {...}}}``."""
        tree = cls(kpis, name)

        def walk(d, parent):
            for obj, body in d.items():
                body = body or {}
                tree.add_objective(obj, parent, description=body.get("description", ""),
                                   source=body.get("source", ""))
                for t in body.get("targets", []):
                    tree.add_target(obj, **t)
                walk(body.get("children", {}), obj)

        if not isinstance(spec, Mapping) or not spec:
            raise ParameterError("spec must be a non-empty dict of objectives", fix="see the GoalTree docstring")
        walk(spec, None)
        return tree

    @property
    def objectives(self) -> pd.DataFrame:
        """One row per objective with its parent, description, source and number of targets."""
        n = pd.Series([t["objective"] for t in self._targets], dtype=object).value_counts()
        df = pd.DataFrame.from_dict(self._objectives, orient="index")
        df.index.name = "objective"
        df["targets"] = n.reindex(df.index).fillna(0).astype(int) if len(df) else []
        return df

    @property
    def targets(self) -> pd.DataFrame:
        """One row per KPI target."""
        return pd.DataFrame(self._targets, columns=["objective", "kpi", "baseline", "target", "deadline",
                                                    "direction", "owner"])

    def validate(self) -> list[str]:
        """Structural problems: objectives that neither have targets nor sub-objectives with them."""
        problems = []
        if not self._objectives:
            return ["the tree has no objectives"]
        children = {o: [c for c, v in self._objectives.items() if v["parent"] == o] for o in self._objectives}
        has_target = {t["objective"] for t in self._targets}

        def measured(o):
            return o in has_target or any(measured(c) for c in children[o])

        for o in self._objectives:
            if not measured(o):
                problems.append(f"objective {o!r} has no KPI target (nor any sub-objective with one)")
        return problems

    def progress(self, current: Mapping[str, float], as_of=None) -> pd.DataFrame:
        """Share of the baseline-to-target gap closed by ``current`` values, per target.

        ``gap_closed`` = (current - baseline) / (target - baseline): 1 = target met, 0 = no
        change, negative = worse than the baseline. Status: achieved / on track (>= 0.5) /
        behind; with ``as_of`` after the deadline, unmet targets are "missed".
        """
        if not self._targets:
            raise ParameterError("the tree has no targets", fix="add targets with add_target(...)")
        if not isinstance(current, Mapping):
            raise ParameterError("current must be a dict {kpi: value}", fix="e.g. {'retention_rate': 0.8}")
        for k in self.targets["kpi"].unique():
            v = current.get(k, np.nan)
            if v is not None and not (isinstance(v, (numbers.Real, np.number)) and not isinstance(v, bool)):
                raise ParameterError(f"current[{k!r}] must be a number, got {v!r}",
                                     fix="pass the KPI's current value as a number (NaN if unknown)")
            if v is not None and np.isinf(v):
                raise ParameterError(f"current[{k!r}] is infinite",
                                     fix="an inf usually comes from a division by zero: fix the KPI computation")
        as_of = None if as_of is None else check_timestamp(as_of, "as_of")
        t = self.targets
        t["current"] = t["kpi"].map(lambda k: np.nan if current.get(k) is None else current.get(k)).astype(float)
        t["gap_closed"] = (t["current"] - t["baseline"]) / (t["target"] - t["baseline"])
        status = np.select([t["current"].isna(), t["gap_closed"] >= 1, t["gap_closed"] >= 0.5],
                           ["no data", "achieved", "on track"], "behind")
        if as_of is not None:
            late = (as_of > t["deadline"]) & ~np.isin(status, ["achieved", "no data"])
            status = np.where(late, "missed", status)
        t["status"] = status
        return t

    def render(self) -> str:
        """The tree as indented text."""
        lines = [self.name]
        by_obj: dict[str, list[dict]] = {}
        for t in self._targets:
            by_obj.setdefault(t["objective"], []).append(t)

        def walk(parent, depth):
            for o, v in self._objectives.items():
                if v["parent"] != parent:
                    continue
                src = f"  [{v['source']}]" if v["source"] else ""
                lines.append("  " * depth + f"- {o}{src}")
                for t in by_obj.get(o, []):
                    lines.append("  " * (depth + 1) + f"* KPI {t['kpi']}: {t['baseline']:g} -> {t['target']:g} "
                                 f"by {t['deadline'].date()}")
                walk(o, depth + 1)

        walk(None, 1)
        return "\n".join(lines)
