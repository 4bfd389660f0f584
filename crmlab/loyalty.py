"""Customer loyalty (客户忠诚度): behaviour, attitude, one scheme of states and types, and the
satisfaction -> loyalty link.

The source texts describe loyalty in two incompatible ways. S000 §4.1(5) sorts customers
into **states**: loyal (忠诚), floating or wavering (游离) and lost (流失). S002 Ch3 §1
describes **types**: latent (潜在忠诚度: likes the brand but does not buy regularly yet),
behavioural (行为忠诚度: keeps buying) and emotional (情感忠诚度: keeps buying, feels attached
and actively recommends). The kit reconciles them in ONE scheme (:func:`classify_loyalty`)
built on two measured axes, behaviour and attitude (the attitude x behaviour grid is the
textbook framework of Dick & Basu 1994, an [EXT] addition):

==================  ===========================  ==============================
relationship        high behaviour               low behaviour
==================  ===========================  ==============================
active, attitude +  emotional (loyal state)      latent (floating state)
active, attitude -  behavioural (loyal state)    none (floating state)
ended               lost state (no type)         lost state (no type)
==================  ===========================  ==============================

"Attitude +" means a high attitudinal-loyalty score *and* advocacy (a promoter answer
or a referral) for the emotional type; a high score alone separates latent from none.
The states are the coarse view of the same grid: loyal = high behaviour (emotional or
behavioural type), floating = active but low behaviour (latent or none), lost = the
relationship has ended. Every threshold lives in :class:`LoyaltyRules`, documented and
adjustable; the defaults are the kit's assumptions (the sources give no numbers).

The satisfaction -> loyalty link is tested, not assumed: :class:`ThresholdPoisson` finds
a satisfaction threshold above which referrals rise (a "zone of indifference" below it,
"apostles" above) and tests it against a log-linear link (:meth:`ThresholdPoisson.linearity_test`),
and :func:`satisfaction_loyalty_hypothesis` confronts the claim of
S002 Ch9 §1 that satisfaction *directly determines* loyalty with the data (does anything
besides satisfaction predict loyalty; how many satisfied customers are not loyal).
All data the kit ships are SYNTHETIC.

>>> import pandas as pd
>>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "date": pd.to_datetime(
...     ["2025-01-05", "2025-06-01", "2025-11-20", "2024-02-01"])})
>>> b = purchase_behaviour(tx, as_of="2025-12-31")
>>> b[["orders_in_window", "recency_days"]].values.tolist()
[[3, 41], [0, 699]]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy import special, stats

from ._threads import single_thread as _single_thread
from .base import Fitter, TestResult, summary_frame
from .errors import ConvergenceError, DataValidationError, ParameterError
from .satisfaction import CONSTRUCT_ITEMS, _as_list, scale_scores, validate_responses
from .validation import (
    check_array,
    check_binary,
    check_ci_level,
    check_count,
    check_date_order,
    check_dates,
    check_frame,
    check_no_nan,
    check_non_negative,
    check_not_empty,
    check_numeric,
    check_random_state,
    check_same_length,
    check_scalar,
    check_timestamp,
    check_unique,
    coding_advice,
    require_columns,
)

__all__ = [
    "LOYALTY_STATES",
    "LOYALTY_TYPES",
    "LoyaltyRules",
    "purchase_behaviour",
    "repeat_purchase_rate",
    "share_of_wallet",
    "attitudinal_loyalty",
    "classify_loyalty",
    "loyalty_matrix",
    "binned_rate",
    "ThresholdPoisson",
    "satisfaction_loyalty_hypothesis",
]

LOYALTY_STATES: dict[str, tuple[str, str]] = {
    "loyal": ("忠诚客户", "active relationship with high (continuing) purchase behaviour"),
    "floating": ("游离客户", "active relationship but low purchase behaviour: wavering, at risk"),
    "lost": ("流失客户", "relationship ended: no purchase for too long and no active membership"),
}
"""The loyalty states of S000 §4.1(5) as the kit defines them."""

LOYALTY_TYPES: dict[str, tuple[str, str, str]] = {
    "emotional": ("情感忠诚度", "high behaviour, high attitude and advocacy (promoter or referral)",
                  "build deep ties and shared values; involve as advocates"),
    "behavioural": ("行为忠诚度", "high behaviour without the emotional bond (habit, convenience, inertia)",
                    "strengthen the purchase experience and identification with the brand's value"),
    "latent": ("潜在忠诚度", "high attitude but low behaviour: likes the brand, does not buy regularly yet",
               "raise perceived value and convert the attitude into purchases"),
    "none": ("无忠诚", "low behaviour and low attitude", "diagnose; win back only if the value justifies it"),
    "unknown": ("态度未知", "active customer without a survey answer: attitude not measured", "survey them"),
}
"""The loyalty types of S002 Ch3 §1 (+ 'none' and 'unknown'): (中文, rule, strategy from S002 Ch3 §1)."""


@dataclass(frozen=True)
class LoyaltyRules:
    """Adjustable thresholds of the loyalty scheme (all are the kit's assumptions).

    Attributes
    ----------
    lost_after_days : int
        A customer without a purchase for more than this many days *and* without an
        active membership is lost (流失).
    window_days : int
        Behaviour is measured over this many days before ``as_of``.
    high_behaviour_orders : int
        Orders inside the window that count as continuing purchase behaviour ...
    high_behaviour_member_months : float
        ... or months of an active paid membership (contractual loyalty).
    high_attitude : float
        Attitudinal-loyalty score (0-100) from which attitude counts as high.
    advocacy_recommend_from : int
        A likelihood-to-recommend answer of this or more (9 = NPS promoter) is advocacy ...
    advocacy_referrals : int
        ... and so is at least this many referrals.
    """

    lost_after_days: int = 365
    window_days: int = 365
    high_behaviour_orders: int = 2
    high_behaviour_member_months: float = 12.0
    high_attitude: float = 75.0
    advocacy_recommend_from: int = 9
    advocacy_referrals: int = 1

    def __post_init__(self):
        check_count(self.lost_after_days, "lost_after_days", 1, 36_500)
        check_count(self.window_days, "window_days", 1, 36_500)
        check_count(self.high_behaviour_orders, "high_behaviour_orders", 1, 1_000_000)
        check_scalar(self.high_behaviour_member_months, "high_behaviour_member_months", (int, float), 0, 1200)
        check_scalar(self.high_attitude, "high_attitude", (int, float), 0, 100)
        check_count(self.advocacy_recommend_from, "advocacy_recommend_from", 0, 10)
        check_count(self.advocacy_referrals, "advocacy_referrals", 1, 1_000_000)

    def as_table(self) -> pd.DataFrame:
        """The rules as a two-column table (for notebooks and reports)."""
        return pd.DataFrame({"value": [getattr(self, f.name) for f in fields(self)]},
                            index=pd.Index([f.name for f in fields(self)], name="rule"))


# ------------------------------------------------------------------------------------
# behavioural loyalty
# ------------------------------------------------------------------------------------
def _frame_arg(df, name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        got = "None (did an earlier step return nothing?)" if df is None else type(df).__name__
        raise ParameterError(f"{name} must be a pandas DataFrame, got {got}",
                             fix=f"pass the {name} table, e.g. crmlab.datasets.load({name!r})")


def purchase_behaviour(transactions: pd.DataFrame, *, as_of=None, customers: pd.DataFrame | None = None,
                       memberships: pd.DataFrame | None = None, window_days: int = 365,
                       amount_col: str | None = None, customer_id_col: str = "customer_id",
                       date_col: str = "date") -> pd.DataFrame:
    """Behavioural loyalty (行为忠诚度) per customer as of a date.

    Columns: orders (all purchases up to ``as_of``), orders_in_window (last
    ``window_days``), repeat_buyer (>= 2 orders), first_purchase, last_purchase,
    recency_days, tenure_years (from ``customers.signup_date`` when given, else from the
    first purchase), orders_per_year (orders / years observed), spend (if ``amount_col``),
    and, with ``memberships``, active_member and member_months (tenure of the active spell).

    ``as_of`` defaults to the last purchase date in ``transactions``. Customers in
    ``customers`` (one row per ``customer_id_col``, with ``signup_date``) without purchases
    get a row with zero orders. ``memberships`` needs ``customer_id_col``, ``start_date``
    and ``end_date`` (missing = still active). Purchases after ``as_of`` are ignored (no
    look-ahead).
    """
    check_frame(transactions, "transactions", required=[customer_id_col, date_col], no_nan=[customer_id_col])
    dates = check_dates(transactions, date_col, "transactions")
    check_count(window_days, "window_days", 1, 36_500)
    as_of = check_timestamp(as_of, "as_of", allow_none=True)
    if as_of is None:
        as_of = pd.Timestamp(dates.max())
    tx = pd.DataFrame({"customer_id": transactions[customer_id_col].to_numpy(), "date": dates.to_numpy()},
                      index=transactions.index)
    cols = {"orders": ("date", "size"), "first_purchase": ("date", "min"), "last_purchase": ("date", "max")}
    if amount_col is not None:
        require_columns(transactions, [amount_col], "transactions")
        check_numeric(transactions, [amount_col], "transactions")
        check_no_nan(transactions, [amount_col], "transactions")
        check_non_negative(transactions, [amount_col], "transactions")
        tx["spend"] = transactions[amount_col].to_numpy(dtype=float)
        cols["spend"] = ("spend", "sum")
    tx = tx[tx["date"] <= as_of]
    if customers is None and tx.empty:
        raise DataValidationError(f"no purchases on or before as_of={as_of.date()}",
                                  fix="move as_of later, or pass customers= to get a row per customer anyway")
    g = tx.groupby("customer_id").agg(**cols)
    recent = tx[tx["date"] > as_of - pd.Timedelta(days=window_days)].groupby("customer_id").size()
    g["orders_in_window"] = recent.reindex(g.index, fill_value=0)
    if customers is not None:
        check_frame(customers, "customers", required=[customer_id_col, "signup_date"], no_nan=[customer_id_col])
        check_unique(customers, customer_id_col, "customers")
        signup = check_dates(customers, "signup_date", "customers")
        base = pd.DataFrame({"signup_date": signup.to_numpy()},
                            index=pd.Index(customers[customer_id_col].to_numpy(), name="customer_id"))
        base = base[base["signup_date"] <= as_of]
        g = base.join(g, how="left")
        g["orders"] = g["orders"].fillna(0).astype(int)
        g["orders_in_window"] = g["orders_in_window"].fillna(0).astype(int)
        if "spend" in g:
            g["spend"] = g["spend"].fillna(0.0)
        start = g["signup_date"]
    else:
        start = g["first_purchase"]
    g["repeat_buyer"] = g["orders"] >= 2
    g["recency_days"] = (as_of - g["last_purchase"]).dt.days
    g["tenure_years"] = (as_of - start).dt.days / 365.25
    observed_from = start
    if customers is not None and len(tx):  # purchases are only observed from the first date in the data
        observed_from = start.clip(lower=tx["date"].min())
    years = ((as_of - observed_from).dt.days / 365.25).clip(lower=1 / 12)
    g["orders_per_year"] = g["orders"] / years
    if memberships is not None:
        check_frame(memberships, "memberships", required=[customer_id_col, "start_date", "end_date"],
                    no_nan=[customer_id_col])
        ms, me = check_date_order(memberships, "start_date", "end_date", "memberships",
                                  meaning="a spell that ends before it starts")
        active = (ms <= as_of) & (me.isna() | (me > as_of))
        act = pd.DataFrame({"customer_id": memberships[customer_id_col].to_numpy(),
                            "months": ((as_of - ms).dt.days / 30.4375).to_numpy()})
        act = act[active.to_numpy()].groupby("customer_id")["months"].max()
        g["active_member"] = g.index.isin(act.index)
        g["member_months"] = act.reindex(g.index).fillna(0.0)
    g["orders_in_window"] = g["orders_in_window"].astype(int)
    g.index.name = customer_id_col
    g.attrs["as_of"] = str(as_of.date())
    g.attrs["window_days"] = window_days
    return g


def repeat_purchase_rate(transactions: pd.DataFrame, period_start, period_end, *, by: pd.Series | None = None,
                         ci_level: float = 0.95, customer_id_col: str = "customer_id",
                         date_col: str = "date") -> pd.DataFrame:
    """Repeat-purchase rate (重复购买率): customers with >= 2 orders / customers with >= 1 in the period.

    The period runs from ``period_start`` to ``period_end``, both inclusive. ``by`` maps
    customer_id -> group (e.g. a segment) for a rate per group; buyers that ``by`` does not
    map form the group "(no group)". Columns: buyers, repeat_buyers, rate, ci_lower,
    ci_upper (Wilson interval; ``.attrs["ci_level"]``).

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3, 3], "date": pd.to_datetime(["2025-01-01"] * 6)})
    >>> float(repeat_purchase_rate(tx, "2025-01-01", "2025-12-31")["rate"].iloc[0])
    0.6666666666666666
    """
    from .satisfaction import _wilson

    check_frame(transactions, "transactions", required=[customer_id_col, date_col], no_nan=[customer_id_col])
    d = check_dates(transactions, date_col, "transactions")
    ci_level = check_ci_level(ci_level)
    s = check_timestamp(period_start, "period_start")
    e = check_timestamp(period_end, "period_end")
    if e < s:
        raise ParameterError(f"period_end {e.date()} is before period_start {s.date()}",
                             fix="swap period_start and period_end")
    inside = transactions[((d >= s) & (d <= e)).to_numpy()]
    counts = inside.groupby(customer_id_col).size()
    if len(counts) == 0:
        raise DataValidationError(f"no purchases between {s.date()} and {e.date()}",
                                  fix="widen the period or check the date column")
    frame = pd.DataFrame({"orders": counts})
    if by is None:
        frame["group"] = "all"
    else:
        groups = by if isinstance(by, pd.Series) else pd.Series(by) if isinstance(by, dict) else None
        if groups is None:
            raise ParameterError(f"by must map customer ids to groups (a Series or dict), got {type(by).__name__}",
                                 fix="pass e.g. customers.set_index('customer_id')['acquisition_channel']")
        if groups.index.duplicated().any():
            raise DataValidationError("by maps some customer ids more than once",
                                      fix="keep one group per customer, e.g. by[~by.index.duplicated()]")
        frame["group"] = groups.reindex(frame.index).astype(object).where(lambda v: v.notna(), "(no group)").to_numpy()
    rows = []
    for grp, f in frame.groupby("group", sort=True):
        k, n = int((f["orders"] >= 2).sum()), len(f)
        lo, hi = _wilson(k, n, ci_level)
        rows.append({"group": grp, "buyers": n, "repeat_buyers": k, "rate": k / n, "ci_lower": lo, "ci_upper": hi})
    out = pd.DataFrame(rows).set_index("group")
    out.attrs["ci_level"] = ci_level
    return out


def share_of_wallet(own_spend, category_spend) -> pd.Series:
    """Share of wallet (钱包份额) = own spend / the customer's total spend in the category.

    >>> share_of_wallet([30.0, 0.0], [100.0, 50.0]).tolist()
    [0.3, 0.0]
    """
    own = check_array(own_spend, "own_spend", non_negative=True)
    tot = check_array(category_spend, "category_spend", non_negative=True)
    check_same_length(own_spend=own, category_spend=tot)
    bad = (own > tot) | (tot == 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(f"{int(bad.sum())} customer(s) have own spend above (or a zero) category spend "
                                  f"(first at position {i})",
                                  fix="category_spend must include the firm's own spend and be positive")
    index = own_spend.index if isinstance(own_spend, pd.Series) else None
    return pd.Series(own / tot, index=index, name="share_of_wallet")


# ------------------------------------------------------------------------------------
# attitudinal loyalty
# ------------------------------------------------------------------------------------
def attitudinal_loyalty(survey: pd.DataFrame, *, items: Sequence[str] | None = None, as_of=None,
                        date_col: str = "response_date", customer_id_col: str = "customer_id") -> pd.DataFrame:
    """Attitudinal loyalty (态度忠诚度) per customer from the latest survey answer up to ``as_of``.

    Columns: repurchase_intent and recommend (0-100), attitude (0-100 mean of ``items``,
    default the LOY block: repurchase intent, price tolerance, likelihood to recommend),
    recommend_0_10 (raw), and the answer's date (``date_col``).
    """
    items = _as_list(CONSTRUCT_ITEMS["LOY"] if items is None else items, "items")
    need = [customer_id_col, "loy_repurchase", "recommend_0_10", *items]
    check_frame(survey, "survey", required=list(dict.fromkeys(need + [date_col])), no_nan=[customer_id_col])
    validate_responses(survey, list(dict.fromkeys(["loy_repurchase", "recommend_0_10", *items])))
    d = check_dates(survey, date_col, "survey")
    as_of = check_timestamp(as_of, "as_of", allow_none=True)
    s = survey.assign(**{date_col: d})
    if as_of is not None:
        s = s[(s[date_col] <= as_of).to_numpy()]
        check_not_empty(s, "survey answers before as_of")
    s = s.sort_values([date_col, customer_id_col], kind="stable").groupby(customer_id_col).tail(1)
    sc = scale_scores(s, {"repurchase_intent": ["loy_repurchase"], "recommend": ["recommend_0_10"],
                          "attitude": items}, to_100=True)
    out = pd.concat([sc, s[["recommend_0_10", date_col]]], axis=1)
    out.index = pd.Index(s[customer_id_col].to_numpy(), name=customer_id_col)
    return out.sort_index()


# ------------------------------------------------------------------------------------
# the loyalty scheme
# ------------------------------------------------------------------------------------
def _keyed_frame(df, name: str, columns: list[str]) -> None:
    _frame_arg(df, name)
    require_columns(df, columns, name)
    if df.index.duplicated().any():
        raise DataValidationError(f"{name} has {int(df.index.duplicated().sum())} duplicated customer id(s) in its "
                                  f"index (first: {df.index[df.index.duplicated()][0]!r})",
                                  fix=f"keep one row per customer, e.g. {name}[~{name}.index.duplicated(keep='last')]")
    check_numeric(df, columns, name)


def classify_loyalty(behaviour: pd.DataFrame, attitude: pd.DataFrame | None = None, *,
                     referrals: pd.Series | None = None, rules: LoyaltyRules | None = None) -> pd.DataFrame:
    """Loyalty state (loyal / floating / lost) and type (emotional / behavioural / latent / none).

    Parameters
    ----------
    behaviour : DataFrame
        From :func:`purchase_behaviour` (index customer_id; needs recency_days and
        orders_in_window; active_member and member_months if memberships were given).
    attitude : DataFrame, optional
        From :func:`attitudinal_loyalty` (index customer_id; attitude, recommend_0_10).
        Customers without an answer get type "unknown" (their state is still known).
    referrals : Series, optional
        customer_id -> number of referrals (advocacy behaviour).
    rules : LoyaltyRules

    Returns
    -------
    DataFrame indexed like ``behaviour`` with high_behaviour, high_attitude, advocate,
    state, type, state_zh, type_zh.
    """
    rules = LoyaltyRules() if rules is None else rules
    if not isinstance(rules, LoyaltyRules):
        raise ParameterError("rules must be a LoyaltyRules", fix="pass LoyaltyRules(...) with your thresholds")
    _keyed_frame(behaviour, "behaviour", ["recency_days", "orders_in_window"])
    check_not_empty(behaviour, "behaviour")
    check_no_nan(behaviour, ["orders_in_window"], "behaviour")
    check_non_negative(behaviour, ["recency_days", "orders_in_window"], "behaviour")
    if np.isinf(behaviour["recency_days"].to_numpy(dtype=float, na_value=np.nan)).any():
        raise DataValidationError("behaviour['recency_days'] has infinite values",
                                  fix="use NaN for customers who never bought (purchase_behaviour does)")
    win = behaviour.attrs.get("window_days")
    if win is not None and win != rules.window_days:
        raise ParameterError(f"behaviour was computed with window_days={win} but rules.window_days="
                             f"{rules.window_days}", fix="use the same window in purchase_behaviour and LoyaltyRules")
    b = behaviour
    never = b["recency_days"].isna()  # no purchase at all up to as_of
    stale = never | (b["recency_days"] > rules.lost_after_days)
    member = b["active_member"].astype(bool) if "active_member" in b else pd.Series(False, index=b.index)
    months = b["member_months"] if "member_months" in b else pd.Series(0.0, index=b.index)
    lost = stale & ~member
    high_beh = (b["orders_in_window"] >= rules.high_behaviour_orders) | (
        member & (months >= rules.high_behaviour_member_months))
    state = np.where(lost, "lost", np.where(high_beh, "loyal", "floating"))
    out = pd.DataFrame({"high_behaviour": high_beh.to_numpy()}, index=b.index)
    if attitude is not None:
        _keyed_frame(attitude, "attitude", ["attitude", "recommend_0_10"])
        att = attitude.reindex(b.index)
        has = att["attitude"].notna()
        high_att = att["attitude"] >= rules.high_attitude
        advocate = att["recommend_0_10"] >= rules.advocacy_recommend_from
    else:
        has = pd.Series(False, index=b.index)
        high_att = pd.Series(False, index=b.index)
        advocate = pd.Series(False, index=b.index)
    if referrals is not None:
        if not isinstance(referrals, pd.Series):
            raise ParameterError(f"referrals must be a Series indexed by customer id, got {type(referrals).__name__}",
                                 fix="pass e.g. customers.set_index('customer_id')['referrals']")
        if referrals.index.duplicated().any():
            raise DataValidationError("referrals has duplicated customer ids",
                                      fix="sum them per customer first: referrals.groupby(level=0).sum()")
        ref = referrals.reindex(b.index).to_frame("referrals")
        check_numeric(ref, ["referrals"], "referrals")
        ref = ref["referrals"].fillna(0)
        if (ref < 0).any():
            raise DataValidationError("referrals has negative counts", fix="pass counts >= 0")
        advocate = advocate | (ref >= rules.advocacy_referrals)
    typ = np.select(
        [lost.to_numpy(), ~has.to_numpy(),
         (high_beh & high_att & advocate).to_numpy(), high_beh.to_numpy(), high_att.to_numpy()],
        ["", "unknown", "emotional", "behavioural", "latent"], default="none")
    out["high_attitude"] = np.where(has, high_att, np.nan)
    out["advocate"] = advocate.to_numpy()
    out["state"] = pd.Categorical(state, categories=list(LOYALTY_STATES))
    out["type"] = pd.Categorical(np.where(typ == "", None, typ), categories=list(LOYALTY_TYPES))
    out["state_zh"] = out["state"].map({k: v[0] for k, v in LOYALTY_STATES.items()}).astype(object)
    out["type_zh"] = out["type"].map({k: v[0] for k, v in LOYALTY_TYPES.items()}).astype(object)
    out.attrs["rules"] = rules
    return out


def loyalty_matrix(classified: pd.DataFrame, *, normalize: bool = False) -> pd.DataFrame:
    """Cross-table of states x types: the nesting of the two source schemes in one view."""
    _frame_arg(classified, "classified")
    require_columns(classified, ["state", "type"], "classified")
    check_not_empty(classified, "classified")
    t = classified["type"].cat.add_categories(["(lost: no type)"]).fillna("(lost: no type)") \
        if isinstance(classified["type"].dtype, pd.CategoricalDtype) else classified["type"].fillna("(lost: no type)")
    tab = pd.crosstab(classified["state"], t, margins=True, dropna=False)
    tab = tab.loc[:, (tab != 0).any(axis=0)]
    return tab / tab.loc["All", "All"] if normalize else tab


# ------------------------------------------------------------------------------------
# satisfaction -> loyalty
# ------------------------------------------------------------------------------------
def _poisson_ci(k: np.ndarray, ci_level: float) -> tuple[np.ndarray, np.ndarray]:
    g = 1 - ci_level
    lo = np.where(k > 0, stats.chi2.ppf(g / 2, 2 * k) / 2, 0.0)
    hi = stats.chi2.ppf(1 - g / 2, 2 * (k + 1)) / 2
    return lo, hi


def _xy_frame(x, y, exposure) -> pd.DataFrame:
    xv, yv = check_array(x, "x"), check_array(y, "y")
    arrays = {"x": xv, "y": yv}
    if exposure is not None:
        arrays["exposure"] = check_array(exposure, "exposure")
    check_same_length(**arrays)
    return pd.DataFrame(arrays)


def binned_rate(x, y, exposure=None, *, bins: int = 10, ci_level: float = 0.95) -> pd.DataFrame:
    """Outcome rate by quantile bin of ``x``, with intervals: the shape of a link, no model assumed.

    With ``exposure`` (e.g. years), ``y`` are counts and the rate is events per unit of
    exposure (exact Poisson interval); without it ``y`` must be 0/1 and the rate is a
    proportion (Wilson interval). Columns: bin, x_mean, n, events, exposure, rate, ci_lower,
    ci_upper (``.attrs["ci_level"]``).

    >>> import numpy as np
    >>> binned_rate(np.arange(8.0), [0, 0, 0, 1, 0, 1, 1, 1], bins=2)["rate"].tolist()
    [0.25, 0.75]
    """
    from .satisfaction import _wilson

    check_count(bins, "bins", 2, 1000)
    ci_level = check_ci_level(ci_level)
    df = _xy_frame(x, y, exposure)
    check_not_empty(df, "data", bins)
    if exposure is None:
        check_binary(df, "y", "data")
    else:
        check_non_negative(df, ["y", "exposure"], "data")
    df["bin"] = pd.qcut(df["x"], bins, duplicates="drop")
    rows = []
    for b, g in df.groupby("bin", observed=True):
        k = g["y"].sum()
        if exposure is None:
            lo, hi = _wilson(k, len(g), ci_level)
            rate = k / len(g)
            expo = float(len(g))
        else:
            expo = g["exposure"].sum()
            rate = k / expo if expo > 0 else np.nan
            plo, phi = _poisson_ci(np.array([k]), ci_level)
            lo, hi = (plo[0] / expo, phi[0] / expo) if expo > 0 else (np.nan, np.nan)
        rows.append({"bin": str(b), "x_mean": g["x"].mean(), "n": len(g), "events": k, "exposure": expo,
                     "rate": rate, "ci_lower": lo, "ci_upper": hi})
    out = pd.DataFrame(rows)
    out.attrs["ci_level"] = ci_level
    return out


class ThresholdPoisson(Fitter):
    """Poisson regression with a satisfaction threshold ("zone of indifference", 无差异区).

    log E[y] = log(exposure) + a + b_below * x + b_above * max(x - tau, 0)

    The threshold tau is found by profile likelihood over a grid (``n_grid`` points evenly
    spaced between the ``grid_quantiles`` of x, so that discrete scores are searched between
    their values too, or your own ``thresholds``); its interval collects
    the grid points whose likelihood-ratio statistic against the best one is below the
    chi-square(1) quantile. The coefficients' intervals are conditional on the chosen
    tau (so a little too narrow). ``below_slope=False`` fixes b_below = 0 (flat below the
    threshold). The fit also reports a plain log-linear Poisson model in x and the
    likelihood-ratio test of the threshold model against it (``lr_test_``, a
    :class:`~crmlab.base.TestResult`): a test of non-linearity. The threshold is searched,
    so its p-value (chi-square with 2 df when below_slope is free) is only approximate
    (Davies 1987); the AIC comparison is in its details, and :meth:`linearity_test` gives a
    calibrated p-value by parametric bootstrap.

    ``summary``: the threshold (profile-likelihood interval, no standard error) and the
    coefficients (intercept, slope_below, slope_above) with Wald intervals and p-values.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=4000)
    >>> y = rng.poisson(0.2 * np.exp(1.5 * np.maximum(x - 0.3, 0)))
    >>> m = ThresholdPoisson().fit(x, y)
    >>> bool(abs(m.threshold_ - 0.3) < 0.3), bool(m.threshold_ci_[0] <= 0.3 <= m.threshold_ci_[1])
    (True, True)
    """

    def __init__(self, *, below_slope: bool = True, ci_level: float = 0.95, n_grid: int = 61,
                 grid_quantiles: tuple[float, float] = (0.05, 0.95)):
        if not isinstance(below_slope, (bool, np.bool_)):
            raise ParameterError(f"below_slope must be True or False, got {below_slope!r}",
                                 fix="pass below_slope=False to fix the slope below the threshold at 0")
        check_ci_level(ci_level)
        check_count(n_grid, "n_grid", 5, 2000)
        try:
            q0, q1 = grid_quantiles
            ok = all(isinstance(q, (int, float)) and not isinstance(q, bool) for q in (q0, q1)) and 0 <= q0 < q1 <= 1
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ParameterError(f"grid_quantiles must be two numbers with 0 <= low < high <= 1, got {grid_quantiles!r}",
                                 fix="use e.g. grid_quantiles=(0.05, 0.95)")
        self.below_slope, self.ci_level, self.n_grid, self.grid_quantiles = below_slope, ci_level, n_grid, grid_quantiles

    @staticmethod
    def _design(x, tau, below):
        cols = [np.ones_like(x)]
        if below:
            cols.append(x)
        cols.append(np.maximum(x - tau, 0.0))
        return np.column_stack(cols)

    @staticmethod
    def _loglik(y, X, offset, start=None):
        """Maximised Poisson log-likelihood by Newton's method (used for the threshold grid;
        the reported coefficients come from statsmodels at the chosen threshold)."""
        beta = np.zeros(X.shape[1]) if start is None else start.copy()
        if start is None:
            beta[0] = np.log(max(y.sum(), 0.5) / np.exp(offset).sum())
        const = special.gammaln(y + 1).sum()
        ll_old = -np.inf
        for _ in range(100):
            eta = X @ beta + offset
            mu = np.exp(eta)
            ll = float(y @ eta - mu.sum() - const)
            grad = X.T @ (y - mu)
            hess = (X * mu[:, None]).T @ X
            try:
                step = np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                raise ConvergenceError("the Poisson likelihood is flat at a candidate threshold",
                                       fix="narrow grid_quantiles so every candidate leaves data on both sides") from None
            t = 1.0
            while t > 1e-4:  # step halving keeps the likelihood increasing
                new = beta + t * step
                eta_n = X @ new + offset
                with np.errstate(over="ignore", invalid="ignore"):  # an overshooting step gives -inf: halve it
                    ll_n = float(y @ eta_n - np.exp(eta_n).sum() - const)
                if ll_n >= ll - 1e-9:
                    break
                t /= 2
            beta = new
            if not np.isfinite(ll_n):
                break
            if abs(ll_n - ll_old) < 1e-10 * (1 + abs(ll_n)):
                return ll_n, beta
            ll_old = ll_n
        raise ConvergenceError("Newton's method did not converge on the threshold grid",
                               fix="use more data or a narrower threshold grid (grid_quantiles)")

    @staticmethod
    def _glm(y, X, offset):
        import statsmodels.api as sm

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
        except (np.linalg.LinAlgError, ValueError) as err:
            raise ConvergenceError(f"the Poisson fit failed: {err}",
                                   fix="check that x varies and that there are events (y > 0)") from None
        if not (np.all(np.isfinite(res.params)) and np.all(np.isfinite(res.bse))):
            raise ConvergenceError("the Poisson fit gave non-finite coefficients or standard errors",
                                   fix="use more data or a narrower threshold grid (grid_quantiles)")
        return res

    def fit(self, x, y, exposure=None, *, thresholds=None) -> ThresholdPoisson:
        """Fit on arrays: ``x`` (e.g. satisfaction), counts ``y``, optional ``exposure`` (> 0)."""
        with _single_thread():
            return self._fit(x, y, exposure, thresholds)

    def _fit(self, x, y, exposure, thresholds):
        df = _xy_frame(x, y, exposure)
        check_not_empty(df, "data", 30)
        check_non_negative(df, ["y"], "data")
        if (df["y"] != np.round(df["y"])).any():
            raise DataValidationError("y must be counts (whole numbers)", fix="pass event counts, e.g. referrals")
        if exposure is not None and (df["exposure"] <= 0).any():
            raise DataValidationError(f"exposure has {int((df['exposure'] <= 0).sum())} value(s) <= 0",
                                      fix="drop customers with no exposure time (they cannot have events)")
        if df["y"].sum() < 10:
            raise DataValidationError(f"only {int(df['y'].sum())} events: too few to locate a threshold",
                                      fix="use more customers or a longer exposure window")
        if df["x"].std() == 0:
            raise DataValidationError("x is constant", fix="pass a varying predictor such as satisfaction")
        xv, yv = df["x"].to_numpy(), df["y"].to_numpy()
        off = np.log(df["exposure"].to_numpy()) if exposure is not None else np.zeros(len(df))
        if thresholds is None:
            lo_q, hi_q = np.quantile(xv, self.grid_quantiles)  # evenly spaced: also between tied values
            grid = np.linspace(lo_q, hi_q, self.n_grid)
        else:
            grid = np.sort(check_array(thresholds, "thresholds"))
            if len(grid) < 3:
                raise ParameterError(f"thresholds must be at least 3 candidate values, got {len(grid)}",
                                     fix="pass a grid, e.g. thresholds=np.linspace(-1, 1, 21), or leave it out")
        grid = np.unique(grid)
        if len(grid) < 3:
            raise DataValidationError("x takes too few distinct values between the grid quantiles to search a threshold",
                                      fix="widen grid_quantiles or pass thresholds= with at least 3 candidates")
        if (grid <= xv.min()).any() or (grid >= xv.max()).any():
            raise ParameterError("every candidate threshold must lie strictly inside the range of x",
                                 fix="pass thresholds between min(x) and max(x)")
        ll, start = np.empty(len(grid)), None
        for i, t in enumerate(grid):  # warm starts along the grid
            ll[i], start = self._loglik(yv, self._design(xv, t, self.below_slope), off, start)
        best = int(np.argmax(ll))
        tau = float(grid[best])
        crit = stats.chi2.ppf(self.ci_level, 1)
        inside = grid[2 * (ll[best] - ll) <= crit]
        res = self._glm(yv, self._design(xv, tau, self.below_slope), off)
        lin = self._glm(yv, np.column_stack([np.ones_like(xv), xv]), off)
        names = ["intercept"] + (["slope_below"] if self.below_slope else []) + ["slope_above"]
        conf = res.conf_int(alpha=1 - self.ci_level)
        self.params_ = summary_frame(res.params, res.bse, conf[:, 0], conf[:, 1], index=names,
                                     ci_level=self.ci_level, p_value=res.pvalues)
        self.threshold_ = tau
        self.threshold_ci_ = (float(inside.min()), float(inside.max()))
        self.profile_ = pd.DataFrame({"threshold": grid, "loglik": ll})
        lr = 2 * (res.llf - lin.llf)
        df_lr = (len(names) + 1) - 2  # the threshold itself counts as one parameter
        self.lr_test_ = TestResult(
            "threshold vs log-linear Poisson (approximate LR test)", statistic=float(lr), df=float(df_lr),
            p_value=float(stats.chi2.sf(max(lr, 0), max(df_lr, 1))), statistic_name="LR",
            null_hypothesis="the link is log-linear in x (no threshold); the chi-square p-value is only a guide "
                            "(the threshold is not identified under H0): use linearity_test()",
            details={"loglik_linear": float(lin.llf), "loglik_threshold": float(res.llf),
                     "aic_linear": float(lin.aic), "aic_threshold": float(res.aic + 2),
                     "slope_linear": float(lin.params[1])})
        self.n_obs_, self.events_ = len(df), float(yv.sum())
        self._data = (xv, yv, off, grid)
        self._lin_params = np.asarray(lin.params, dtype=float)
        return self

    def _lr_stat(self, x, y, off, grid) -> float:
        """2 x (best threshold log-likelihood on ``grid`` - log-linear log-likelihood)."""
        ll_lin, _ = self._loglik(y, np.column_stack([np.ones_like(x), x]), off)
        best, start = -np.inf, None
        for t in grid:
            ll, start = self._loglik(y, self._design(x, t, self.below_slope), off, start)
            best = max(best, ll)
        return 2 * (best - ll_lin)

    def linearity_test(self, n_boot: int = 199, *, seed=0) -> TestResult:
        """Parametric-bootstrap test of H0: the link is log-linear (no threshold, no zone of indifference).

        The likelihood-ratio statistic of the threshold model against the log-linear
        Poisson model has no chi-square distribution: under H0 the threshold is not
        identified (Davies 1987), so ``lr_test_``'s p-value is only a guide. Here the null
        distribution is simulated: counts are drawn from the fitted log-linear model (same x
        and exposure), both models are refitted with the threshold searched over the same
        grid, and p = (1 + #{LR* >= LR}) / (1 + successful resamples).

        Returns a :class:`~crmlab.base.TestResult` (statistic = LR; details: n_boot,
        failures, null_q95) and stores it in ``linearity_test_``.

        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=1500)
        >>> y = rng.poisson(0.2 * np.exp(1.5 * np.maximum(x - 0.3, 0)))
        >>> m = ThresholdPoisson(below_slope=False, n_grid=21).fit(x, y)
        >>> m.linearity_test(n_boot=19, seed=1).p_value
        0.05
        """
        self._check_fitted()
        check_count(n_boot, "n_boot", 19, 100_000)
        rng = check_random_state(seed)
        x, y, off, grid = self._data
        with _single_thread():
            observed = self._lr_stat(x, y, off, grid)
            mu = np.exp(self._lin_params[0] + self._lin_params[1] * x + off)
            null, fails = [], 0
            for _ in range(n_boot):
                ys = rng.poisson(mu).astype(float)
                try:
                    null.append(self._lr_stat(x, ys, off, grid))
                except ConvergenceError:
                    fails += 1
        if len(null) < max(19, n_boot // 2):
            raise ConvergenceError(f"{fails} of {n_boot} simulated data sets could not be fitted",
                                   fix="use more data (events) or a narrower threshold grid (grid_quantiles)")
        null = np.asarray(null)
        out = TestResult(
            "threshold vs log-linear Poisson (parametric bootstrap)", statistic=float(observed),
            p_value=float((1 + np.sum(null >= observed - 1e-9)) / (1 + len(null))), statistic_name="LR",
            null_hypothesis="the link is log-linear in x (no threshold, no zone of indifference)",
            details={"n_boot": len(null), "failures": fails, "null_q95": float(np.quantile(null, 0.95))})
        self.linearity_test_ = out
        return out

    def _summary(self) -> pd.DataFrame:
        thr = summary_frame([self.threshold_], None, [self.threshold_ci_[0]], [self.threshold_ci_[1]],
                            index=["threshold"], ci_level=self.ci_level, p_value=[np.nan])
        out = pd.concat([thr, self.params_])
        out.attrs["ci_level"] = self.ci_level
        return out

    def predict_rate(self, x) -> np.ndarray:
        """Expected events per unit of exposure at ``x``."""
        self._check_fitted()
        x = check_array(x, "x")
        X = self._design(x, self.threshold_, self.below_slope)
        return np.exp(X @ self.params_["estimate"].to_numpy())

    def plot(self, x, y, exposure=None, *, bins: int = 12, ax=None, xlabel: str = "satisfaction",
             ylabel: str = "events per unit of exposure"):
        """Binned observed rates (with intervals), the fitted curve and the threshold."""
        import matplotlib.pyplot as plt

        from . import plots

        self._check_fitted()
        x = check_array(x, "x")
        br = binned_rate(x, y, exposure if exposure is not None else np.ones(len(x)), bins=bins,
                         ci_level=self.ci_level)
        ax = ax or plt.subplots()[1]
        ax.errorbar(br["x_mean"], br["rate"], yerr=[br["rate"] - br["ci_lower"], br["ci_upper"] - br["rate"]],
                    fmt="o", color=plots.PALETTE[0], capsize=3, label="observed (binned)")
        grid = np.linspace(np.quantile(x, 0.01), np.quantile(x, 0.99), 200)
        ax.plot(grid, self.predict_rate(grid), color=plots.PALETTE[1], lw=2, label="threshold Poisson fit")
        ax.axvspan(*self.threshold_ci_, color=plots.PALETTE[1], alpha=0.12, label="threshold interval")
        ax.axvline(self.threshold_, color=plots.PALETTE[1], ls="--", lw=1)
        return plots.finish(ax, title=f"Threshold at {self.threshold_:.2f} "
                                      f"[{self.threshold_ci_[0]:.2f}, {self.threshold_ci_[1]:.2f}]",
                            xlabel=xlabel, ylabel=ylabel)


def satisfaction_loyalty_hypothesis(df: pd.DataFrame, satisfaction_col: str, loyalty_col: str, *,
                                    others: Sequence[str], satisfied_from: float | None = None,
                                    loyal_from: float | None = None) -> TestResult:
    """Confront "satisfaction directly determines loyalty" (S002 Ch9 §1) with data.

    If satisfaction alone determined loyalty, (1) satisfaction would explain loyalty and
    the ``others`` (other predictors: emotional connection, switching costs, programme
    membership...) would add nothing once satisfaction is known, and (2) satisfied
    customers would be loyal (and only they). The result is a
    :class:`~crmlab.base.TestResult` whose test is (1): the increment in fit from adding
    ``others`` (an F test for a continuous loyalty measure, OLS; a likelihood-ratio test
    for a 0/1 measure, logit) -- a small p-value means something besides satisfaction
    predicts loyalty. Its ``details`` report

    * ``r2_satisfaction`` / ``r2_full``: variance explained by satisfaction alone and with
      ``others`` (McFadden pseudo-R² for a 0/1 measure) and ``r2_increment``;
    * ``satisfaction_coef_full``: the satisfaction coefficient in the full model;
    * ``share_satisfied_not_loyal`` (satisfied customers who are not loyal) and
      ``share_loyal_not_satisfied`` (loyal customers who are not satisfied), using the
      cut-offs ``satisfied_from`` and ``loyal_from`` (defaults: the medians; a 0/1 loyalty
      measure needs no cut-off).

    Association is not causation: these checks can refute "satisfaction alone determines
    loyalty" but not prove that it causes it.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"sat": rng.normal(size=400), "emotion": rng.normal(size=400)})
    >>> d["loy"] = d["sat"] + d["emotion"] + rng.normal(size=400)
    >>> satisfaction_loyalty_hypothesis(d, "sat", "loy", others=["emotion"]).significant()
    True
    """
    import statsmodels.api as sm

    others = _as_list(others, "others")
    cols = [satisfaction_col, loyalty_col, *others]
    if len(set(cols)) < len(cols):
        raise ParameterError(f"satisfaction_col, loyalty_col and others must be different columns, got {cols}",
                             fix="list each column once; others are the predictors besides satisfaction")
    check_frame(df, "data", required=cols, numeric=cols, no_nan=cols, min_rows=20)
    y = df[loyalty_col].astype(float)
    for col in cols:
        if df[col].nunique() < 2:
            raise DataValidationError(f"data[{col!r}] is constant, so its link with loyalty cannot be estimated",
                                      fix="pass a column that varies across customers (check the filters)")
    values = set(pd.unique(y))
    binary = values <= {0.0, 1.0}
    if len(values) == 2 and not binary:
        raise DataValidationError(f"data[{loyalty_col!r}] has two values {sorted(values)}: a 0/1 outcome coded "
                                  "otherwise would be analysed as a continuous score",
                                  fix=coding_advice(df[loyalty_col], loyalty_col, "binary"))
    for name, v in (("satisfied_from", satisfied_from), ("loyal_from", loyal_from)):
        if v is not None:
            check_scalar(v, name)
    X1 = sm.add_constant(df[[satisfaction_col]].astype(float))
    X2 = sm.add_constant(df[[satisfaction_col, *others]].astype(float))
    if binary:
        fix = ("perfect separation or too few customers in one loyalty outcome: use a finer loyalty "
               "measure, more customers, or drop the predictor that separates the outcomes")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m1 = sm.Logit(y, X1).fit(disp=0, maxiter=100)
                m2 = sm.Logit(y, X2).fit(disp=0, maxiter=100)
        except Exception as err:  # noqa: BLE001 - statsmodels raises several types here
            raise ConvergenceError(f"the logit fit failed: {err}", fix=fix) from None
        bad = [m for m, fit in (("satisfaction only", m1), ("full", m2))
               if not fit.mle_retvals.get("converged", True) or not np.all(np.isfinite(fit.bse))]
        if bad:
            raise ConvergenceError(f"the logit model(s) {bad} did not converge", fix=fix)
        r2a, r2b = m1.prsquared, m2.prsquared
        stat = 2 * (m2.llf - m1.llf)
        dof = len(others)
        p = float(stats.chi2.sf(stat, dof))
        test = "likelihood-ratio test (logit)"
    else:
        m1 = sm.OLS(y, X1).fit()
        m2 = sm.OLS(y, X2).fit()
        if not np.isfinite(m2.ssr) or m2.df_resid < 1:
            raise DataValidationError(f"too few customers ({len(df)}) for {len(others) + 1} predictors",
                                      fix="use more customers or fewer predictors in others")
        r2a, r2b = m1.rsquared, m2.rsquared
        stat, p, dof = m2.compare_f_test(m1)
        test = "F test (OLS)"
    if not (np.isfinite(stat) and np.isfinite(p)):
        raise DataValidationError("the predictors are collinear: the increment test is undefined",
                                  fix="drop a predictor in others that duplicates satisfaction or another one")
    beta_sat = float(m2.params[satisfaction_col])
    s_cut = float(df[satisfaction_col].median()) if satisfied_from is None else float(satisfied_from)
    satisfied = df[satisfaction_col] >= s_cut
    if binary:
        loyal = y == 1
    else:
        loyal = y >= (float(y.median()) if loyal_from is None else float(loyal_from))
    details = {
        "n": len(df), "r2_satisfaction": float(r2a), "r2_full": float(r2b), "r2_increment": float(r2b - r2a),
        "satisfaction_coef_full": beta_sat,
        "share_satisfied_not_loyal": float((satisfied & ~loyal).sum() / max(satisfied.sum(), 1)),
        "share_loyal_not_satisfied": float((loyal & ~satisfied).sum() / max(loyal.sum(), 1)),
        "satisfied_from": s_cut, "test": test}
    return TestResult(
        f"does anything besides satisfaction predict loyalty? {test}", statistic=float(stat), p_value=float(p),
        df=float(dof), statistic_name="F" if test.startswith("F") else "LR",
        null_hypothesis=f"adding {', '.join(others)} to {satisfaction_col} does not improve the prediction of "
                        f"{loyalty_col} (satisfaction alone determines loyalty)", details=details)
