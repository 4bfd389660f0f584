"""Customer classification, segmentation and positioning (客户分类与定位).

The source texts classify customers five ways (S000 §4.1: size, industry, importance,
satisfaction, loyalty state), identify key customers by needs, purchasing power and
loyalty (S000 §2.1.3), value them by purchasing power and frequency (S000 §3.3(4)) and
choose one of five positioning strategies per group (S000 §4.2). They give no rules or
numbers: every cut-off below is a stated, adjustable assumption, and every figure the
course shows comes from the SYNTHETIC world.

* value: :func:`rfm_table` (recency, frequency, monetary + quantile scores),
  :func:`rfm_segments` (named segments, two documented rule sets), :func:`plot_rfm_heatmap`,
  :func:`plot_rfm_treemap`;
  :func:`pareto_table`, :func:`pareto_summary`, :func:`abc_classes`, :func:`value_tiers`,
  :func:`plot_pareto`;
* the source texts' classifications: :func:`classify_by_size`, :func:`industry_profile`,
  :func:`classify_importance` (重点/一般/潜在), :func:`classify_loyalty_state`
  (忠诚/游离/流失) and its quarterly dynamics :func:`loyalty_transitions` /
  :func:`project_state_shares`; satisfaction classes (高/中/低满意度) are
  :func:`crmlab.satisfaction.classify_satisfaction`;
* needs-based clustering: :func:`behaviour_features`, :func:`choose_k` (+ plot),
  :class:`SegmentClusterer` (scaling, optional PCA, k-means, profile table, 2-D positioning
  map, adjusted Rand index against known segments), :func:`segment_agreement`;
* positioning: :data:`POSITIONING_STRATEGIES`, :func:`positioning_table` (segment → strategy
  → action, filled from the segment profiles by stated rules).

>>> import pandas as pd
>>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3, 3],
...                    "date": pd.to_datetime(["2024-01-05", "2024-03-01", "2023-06-01",
...                                            "2024-02-01", "2024-02-20", "2024-03-20"]),
...                    "amount": [100.0, 50, 20, 300, 80, 120]})
>>> rfm = rfm_table(tx, as_of="2024-03-31", bins=3)
>>> rfm[["recency_days", "frequency", "monetary", "R", "F", "M"]]  # doctest: +NORMALIZE_WHITESPACE
             recency_days  frequency  monetary  R  F  M
customer_id
1                      30          2     150.0  2  2  2
2                     304          1      20.0  1  1  1
3                      11          3     500.0  3  3  3
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._threads import single_thread as _single_thread
from .base import Fitter
from .errors import ColumnError, DataValidationError, ParameterError
from .validation import (
    _check_column_args,
    _check_scalar_option,
    _tz_naive,
    check_count,
    check_dates,
    check_frame,
    check_in_range,
    check_no_nan,
    check_numeric,
    check_probability,
    check_scalar,
    check_timestamp,
    coding_advice,
    require_columns,
)

__all__ = [
    "RFM_GRID_SEGMENTS",
    "RFM_CN8_SEGMENTS",
    "rfm_table",
    "rfm_segments",
    "rfm_segment_summary",
    "plot_rfm_heatmap",
    "plot_rfm_treemap",
    "pareto_table",
    "pareto_summary",
    "abc_classes",
    "value_tiers",
    "plot_pareto",
    "classify_by_size",
    "industry_profile",
    "classify_importance",
    "classify_loyalty_state",
    "loyalty_transitions",
    "project_state_shares",
    "behaviour_features",
    "choose_k",
    "plot_choose_k",
    "SegmentClusterer",
    "describe_clusters",
    "segment_agreement",
    "IMPORTANCE_CHINESE",
    "LOYALTY_CHINESE",
    "LOYALTY_STATES",
    "POSITIONING_STRATEGIES",
    "PositioningRule",
    "DEFAULT_POSITIONING_RULES",
    "positioning_table",
]


# ------------------------------------------------------------------------------------
# RFM
# ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _GridSegment:
    name: str
    chinese: str
    r: tuple[int, int]
    f: tuple[int, int]
    action: str


RFM_GRID_SEGMENTS: tuple[_GridSegment, ...] = (
    _GridSegment("champions", "冠军客户", (5, 5), (4, 5), "reward; early access; ask for referrals"),
    _GridSegment("loyal", "忠诚客户", (3, 4), (4, 5), "loyalty programme tiers; cross-sell"),
    _GridSegment("potential_loyalists", "潜在忠诚客户", (4, 5), (2, 3), "membership offer; recommendations"),
    _GridSegment("new_customers", "新客户", (5, 5), (1, 1), "onboarding; a second-purchase incentive"),
    _GridSegment("promising", "有潜力客户", (4, 4), (1, 1), "brand awareness; a trial offer"),
    _GridSegment("need_attention", "需关注客户", (3, 3), (3, 3), "limited-time offer based on past purchases"),
    _GridSegment("about_to_sleep", "即将沉睡客户", (3, 3), (1, 2), "reactivation with popular products"),
    _GridSegment("cannot_lose", "不能失去的客户", (1, 2), (5, 5), "personal win-back contact; find out what went wrong"),
    _GridSegment("at_risk", "流失风险客户", (1, 2), (3, 4), "personalised win-back offer"),
    _GridSegment("hibernating", "沉睡客户", (1, 2), (1, 2), "low-cost reactivation, or stop spending on them"),
)
"""The common R x F grid (5-point scores): every (R, F) cell belongs to exactly one segment.

An [EXT] convention from direct marketing, not from the source texts; pass your own
``rules`` to :func:`rfm_segments` to change it."""

RFM_CN8_SEGMENTS: dict[tuple[bool, bool, bool], tuple[str, str, str]] = {
    # (recent, frequent, high monetary) -> (name, 中文, action)
    (True, True, True): ("important_value", "重要价值客户", "keep: VIP service, priority resources"),
    (True, False, True): ("important_develop", "重要发展客户", "develop: raise purchase frequency"),
    (False, True, True): ("important_keep", "重要保持客户", "retain: contact before they drift away"),
    (False, False, True): ("important_winback", "重要挽留客户", "win back: find out why they left"),
    (True, True, False): ("general_value", "一般价值客户", "raise basket value: up-sell"),
    (True, False, False): ("general_develop", "一般发展客户", "nurture: a second purchase"),
    (False, True, False): ("general_keep", "一般保持客户", "low-cost retention"),
    (False, False, False): ("general_winback", "一般挽留客户", "low priority"),
}
"""The eight RFM types common in Chinese CRM practice: each of R, F, M is "high" or "low"
against the population mean (recent = recency below the mean). [EXT] convention."""


def _score(values: pd.Series, bins: int, higher_is_better: bool, edges=None) -> pd.Series:
    """1..bins scores: by percentile rank (ties share a score) or by explicit ``edges``."""
    if edges is not None:
        e = np.asarray(edges, dtype=float)
        if e.ndim != 1 or len(e) != bins - 1 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
            raise ParameterError(f"thresholds must be {bins - 1} increasing cut points, got {list(edges)}",
                                 fix=f"pass {bins - 1} cut points for {bins} scores")
        s = np.searchsorted(e, values.to_numpy(dtype=float), side="right") + 1
        s = s if higher_is_better else bins + 1 - s
        return pd.Series(s.astype("int64"), index=values.index)
    v = values if higher_is_better else -values
    pct = v.rank(method="average", pct=True)
    return np.ceil(pct * bins).clip(1, bins).astype("int64")


def rfm_table(
    transactions: pd.DataFrame,
    as_of,
    *,
    customer_id_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    profit_col: str | None = None,
    monetary: str = "sum",
    bins: int = 5,
    thresholds: dict | None = None,
) -> pd.DataFrame:
    """Recency, frequency, monetary value and their 1..``bins`` scores per customer at ``as_of``.

    * ``recency_days`` — days from the last purchase to ``as_of`` (smaller is better);
    * ``frequency`` — number of purchases (rows) up to ``as_of``;
    * ``monetary`` — total (``monetary="sum"``) or mean (``"mean"``) amount;
    * ``profit`` — sum of the ``profit_col`` column, if given (e.g. ``"gross_margin"``);
    * ``R``, ``F``, ``M`` — scores: percentile rank cut into ``bins`` equal bands, ties sharing
      a score (so heavily tied frequencies skip some scores), 5 = best; or explicit cut
      points ``thresholds={"recency_days": [...], "frequency": [...], "monetary": [...]}``;
    * ``RFM`` — the three scores as a code ("545") and ``score`` = R + F + M.

    Purchases dated after ``as_of`` are an error (filter them first).
    """
    check_count(bins, "bins", 2, 10)
    _check_scalar_option(monetary, "monetary", ["sum", "mean"])
    when = check_timestamp(as_of, "as_of")
    _check_column_args(optional=("profit_col",), customer_id_col=customer_id_col, date_col=date_col,
                       amount_col=amount_col, profit_col=profit_col)
    profit = [profit_col] if profit_col is not None else []
    cols = [customer_id_col, date_col, amount_col, *profit]
    check_frame(transactions, "transactions", required=cols, no_nan=[customer_id_col, amount_col, *profit],
                numeric=[amount_col, *profit], non_negative=[amount_col])
    d = _tz_naive(check_dates(transactions, date_col, "transactions"))
    _check_not_after(d, when, date_col)
    df = pd.DataFrame({"cid": transactions[customer_id_col].to_numpy(), "d": d.to_numpy(),
                       "amt": transactions[amount_col].to_numpy(dtype=float)})
    if profit:
        df["profit"] = transactions[profit_col].to_numpy(dtype=float)
    g = df.groupby("cid", sort=True)
    out = pd.DataFrame({"recency_days": (when - g["d"].max()).dt.days.astype("int64"),
                        "frequency": g.size().astype("int64"),
                        "monetary": g["amt"].sum() if monetary == "sum" else g["amt"].mean()})
    if profit:
        out["profit"] = g["profit"].sum()
    out.index.name = customer_id_col
    thresholds = {} if thresholds is None else thresholds
    if not isinstance(thresholds, dict):
        raise ParameterError(f"thresholds must be a dict, got {type(thresholds).__name__}",
                             fix="e.g. thresholds={'recency_days': [30, 90, 180, 365]} for bins=5")
    unknown = set(thresholds) - {"recency_days", "frequency", "monetary"}
    if unknown:
        raise ParameterError(f"thresholds has unknown key(s) {sorted(unknown)}",
                             fix="use the keys 'recency_days', 'frequency' and 'monetary'")
    out["R"] = _score(out["recency_days"], bins, False, thresholds.get("recency_days"))
    out["F"] = _score(out["frequency"], bins, True, thresholds.get("frequency"))
    out["M"] = _score(out["monetary"], bins, True, thresholds.get("monetary"))
    out["RFM"] = out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str)
    out["score"] = out["R"] + out["F"] + out["M"]
    return out


def _check_not_after(dates: pd.Series, as_of: pd.Timestamp, date_col: str) -> None:
    late = (dates > as_of).to_numpy()
    if late.any():
        first = dates[late].iloc[0]
        raise DataValidationError(
            f"transactions[{date_col!r}] has {int(late.sum())} date(s) after {as_of.date()} "
            f"(first at row {dates.index[np.flatnonzero(late)[0]]!r}: {first.date()})",
            fix=f"score the customers as of a later date, or drop the later rows first: "
                f"transactions[transactions[{date_col!r}] <= {str(as_of.date())!r}]")


def rfm_segments(rfm: pd.DataFrame, scheme: str = "grid", rules=None, reference: str = "mean") -> pd.Series:
    """Named segment of every customer of an :func:`rfm_table`.

    ``scheme="grid"``: :data:`RFM_GRID_SEGMENTS` on the R and F scores (5-point scores
    required); ``rules`` may replace it with objects having ``name``, ``r`` and ``f`` ranges.
    ``scheme="cn8"``: :data:`RFM_CN8_SEGMENTS`, each of recency, frequency and monetary
    compared with its population ``reference`` ("mean" or "median").

    >>> rfm = pd.DataFrame({"R": [5, 1, 3], "F": [5, 1, 3], "M": [4, 1, 3]})
    >>> rfm_segments(rfm).tolist()
    ['champions', 'hibernating', 'need_attention']
    """
    _check_scalar_option(scheme, "scheme", ["grid", "cn8"])
    _check_scalar_option(reference, "reference", ["mean", "median"])
    if scheme == "grid":
        check_frame(rfm, "rfm", required=["R", "F"], numeric=["R", "F"], no_nan=["R", "F"])
        rules = RFM_GRID_SEGMENTS if rules is None else rules
        if not all(hasattr(r, "name") and hasattr(r, "r") and hasattr(r, "f") for r in rules):
            raise ParameterError("every rule needs a name and r and f ranges (like RFM_GRID_SEGMENTS)",
                                 fix="pass objects with .name, .r=(low, high) and .f=(low, high)")
        if rules is RFM_GRID_SEGMENTS:
            check_in_range(rfm, "R", 1, 5, "rfm", "scores")
            check_in_range(rfm, "F", 1, 5, "rfm", "scores")
        out = pd.Series(pd.NA, index=rfm.index, dtype="object", name="segment")
        for rule in rules:
            hit = rfm["R"].between(*rule.r) & rfm["F"].between(*rule.f) & out.isna()
            out[hit] = rule.name
        if out.isna().any():
            raise ParameterError(f"{int(out.isna().sum())} customer(s) match no rule (e.g. R={rfm.loc[out.isna(), 'R'].iloc[0]}, "
                                 f"F={rfm.loc[out.isna(), 'F'].iloc[0]})",
                                 fix="make the rules cover every (R, F) cell, or score with bins=5")
        return out
    need = ["recency_days", "frequency", "monetary"]
    check_frame(rfm, "rfm", required=need, numeric=need, no_nan=need)
    ref = rfm[need].agg(reference)
    recent = rfm["recency_days"] < ref["recency_days"]
    frequent = rfm["frequency"] > ref["frequency"]
    high = rfm["monetary"] > ref["monetary"]
    names = [RFM_CN8_SEGMENTS[(bool(a), bool(b), bool(c))][0] for a, b, c in zip(recent, frequent, high, strict=True)]
    return pd.Series(names, index=rfm.index, name="segment", dtype="object")


def rfm_segment_summary(rfm: pd.DataFrame, segments: pd.Series, value_col: str = "monetary") -> pd.DataFrame:
    """Customers, share of customers, mean R/F/M and share of the ``value_col`` column by segment."""
    _check_column_args(value_col=value_col)
    need = list(dict.fromkeys(["recency_days", "frequency", "monetary", value_col]))
    check_frame(rfm, "rfm", required=need, numeric=need, no_nan=need)
    if not isinstance(segments, pd.Series) or not segments.index.equals(rfm.index):
        raise ParameterError("segments must be a Series with the same index as rfm",
                             fix="pass rfm_segments(rfm)")
    check_no_nan(segments.rename("segment").to_frame(), "segment", "segments")
    if not rfm[value_col].sum() > 0:
        raise DataValidationError(f"rfm[{value_col!r}] sums to {rfm[value_col].sum():.6g}; value shares need a "
                                  "positive total", fix="use revenue or profit with a positive total")
    value = value_col
    chinese = {s.name: s.chinese for s in RFM_GRID_SEGMENTS} | {v[0]: v[1] for v in RFM_CN8_SEGMENTS.values()}
    actions = {s.name: s.action for s in RFM_GRID_SEGMENTS} | {v[0]: v[2] for v in RFM_CN8_SEGMENTS.values()}
    g = rfm.groupby(segments.rename("segment"))
    out = pd.DataFrame({
        "customers": g.size(),
        "customer_share": g.size() / len(rfm),
        "mean_recency_days": g["recency_days"].mean(),
        "mean_frequency": g["frequency"].mean(),
        "mean_monetary": g["monetary"].mean(),
        f"{value}_share": g[value].sum() / rfm[value].sum(),
    })
    out.insert(0, "chinese", [chinese.get(s, "") for s in out.index])
    out["action"] = [actions.get(s, "") for s in out.index]
    return out.sort_values(f"{value}_share", ascending=False)


def plot_rfm_heatmap(rfm: pd.DataFrame, value_col: str | None = None, ax=None, annotate: bool = True):
    """Heatmap of the R x F grid: number of customers (``value_col=None``), or the mean of a
    column (e.g. ``value_col="monetary"``)."""
    from . import plots

    _check_column_args(optional=("value_col",), value_col=value_col)
    check_frame(rfm, "rfm", required=["R", "F"], numeric=["R", "F"], no_nan=["R", "F"])
    if value_col is None:
        grid = pd.crosstab(rfm["R"], rfm["F"])
        label, fmt = "customers", "{:.0f}"
    else:
        check_frame(rfm, "rfm", required=[value_col], numeric=[value_col])
        grid = rfm.pivot_table(index="R", columns="F", values=value_col, aggfunc="mean")
        label, fmt = f"mean {plots.label(value_col)}", "{:.0f}"
    grid = grid.sort_index(ascending=False)
    if ax is None:
        _, ax = plots.subplots()
    im = ax.imshow(grid.to_numpy(dtype=float), cmap="Blues", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns)
    ax.set_yticks(range(grid.shape[0]), grid.index)
    ax.figure.colorbar(im, ax=ax, label=label)
    ax.grid(False)
    if annotate:
        vals = grid.to_numpy(dtype=float)
        hi = np.nanmax(vals) if np.isfinite(vals).any() else 1
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):
                if np.isfinite(vals[i, j]):
                    ax.text(j, i, fmt.format(vals[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if vals[i, j] > 0.6 * hi else "black")
    return plots.finish(ax, title=f"RFM grid: {label}", xlabel="F score (frequency)",
                        ylabel="R score (recency, 5 = recent)")


def _squarify(sizes, x: float, y: float, w: float, h: float) -> list[tuple[float, float, float, float]]:
    """Squarified treemap layout (Bruls, Huizing & van Wijk 2000) of ``sizes`` (descending, sum = w*h).

    Boxes are laid in rows along the shorter side of the remaining rectangle; a box joins
    the current row while that does not worsen the row's worst aspect ratio.

    >>> [tuple(round(v, 2) for v in r) for r in _squarify([6.0, 2.0], 0.0, 0.0, 4.0, 2.0)]
    [(0.0, 0.0, 3.0, 2.0), (3.0, 0.0, 1.0, 2.0)]
    """
    rects: list[tuple[float, float, float, float]] = []
    rest = [float(v) for v in sizes]

    def worst(row, side):
        s = sum(row)
        return max(max(side * side * r / (s * s), s * s / (side * side * r)) for r in row)

    while rest:
        side = min(w, h)
        row, i = [rest[0]], 1
        while i < len(rest) and worst(row + [rest[i]], side) <= worst(row, side):
            row.append(rest[i])
            i += 1
        s = sum(row)
        if w >= h:  # the row is a column at the left
            cw = s / h
            yy = y
            for r in row:
                rects.append((x, yy, cw, r / cw))
                yy += r / cw
            x, w = x + cw, w - cw
        else:  # the row is a band at the bottom
            rh = s / w
            xx = x
            for r in row:
                rects.append((xx, y, r / rh, rh))
                xx += r / rh
            y, h = y + rh, h - rh
        rest = rest[i:]
    return rects


def plot_rfm_treemap(segments: pd.Series, value: pd.Series | None = None, ax=None, synthetic: bool = True):
    """Treemap of named segments: box area = number of customers, colour = value index.

    With ``value`` (e.g. ``rfm["profit"]``) each box is coloured by the segment's share of
    value divided by its share of customers (1 = average; 2 = brings twice its "fair
    share") and labelled with both shares; without it boxes are coloured by size.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> seg = pd.Series(["a", "a", "b", "c"]); val = pd.Series([5.0, 3, 1, 1])
    >>> plot_rfm_treemap(seg, val).get_title()
    'RFM segments: area = customers, colour = value index'
    """
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap, TwoSlopeNorm
    from matplotlib.patches import Rectangle

    from . import plots

    if not isinstance(segments, pd.Series):
        raise ParameterError("segments must be a pandas Series (one segment name per customer)",
                             fix="pass rfm_segments(rfm)")
    check_frame(segments.rename("segment").to_frame(), "segments", no_nan=["segment"])
    counts = segments.value_counts()
    cust_share = counts / counts.sum()
    if value is not None:
        v = _values(value, "value")
        if not v.index.equals(segments.index):
            raise ParameterError("value must have the same index as segments",
                                 fix="align them, e.g. value.reindex(segments.index)")
        if v.sum() <= 0:
            raise DataValidationError(f"value sums to {v.sum():.6g}; value shares need a positive total",
                                      fix="use revenue or profit with a positive total")
        val_share = (v.groupby(segments).sum() / v.sum()).reindex(counts.index)
        index = val_share / cust_share
        norm = TwoSlopeNorm(vcenter=1.0, vmin=min(float(index.min()), 0.99), vmax=max(float(index.max()), 1.01))
        # the middle of RdYlGn only, so that the black labels stay readable on every box
        cmap = ListedColormap(colormaps["RdYlGn"](np.linspace(0.2, 0.8, 256)))
        colours = cmap(norm(index.to_numpy(dtype=float)))
    else:
        val_share = None
        colours = colormaps["Blues"](0.35 + 0.5 * cust_share.to_numpy() / cust_share.max())
    if ax is None:
        _, ax = plots.subplots(figsize=(9, 5))
    rects = _squarify(cust_share.to_numpy() * 100.0, 0.0, 0.0, 10.0, 10.0)
    for (x, y, w, h), name, colour in zip(rects, counts.index, colours, strict=True):
        ax.add_patch(Rectangle((x, y), w, h, facecolor=colour, edgecolor="white", lw=2))
        text = f"{plots.label(name)}\n{cust_share[name]:.0%} of customers"
        if val_share is not None:
            text += f"\n{val_share[name]:.0%} of value"
        if w * h >= 2.0:  # too small boxes stay unlabelled: the legend is the summary table
            ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=8 if w * h >= 6 else 6.5)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if val_share is not None:
        from matplotlib.cm import ScalarMappable

        ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                           label="value share / customer share")
    return plots.finish(ax, title="RFM segments: area = customers, colour = value index",
                        xlabel="box area proportional to the number of customers", synthetic=synthetic)


# ------------------------------------------------------------------------------------
# Pareto / ABC / tiers
# ------------------------------------------------------------------------------------
def _values(values, name: str = "values") -> pd.Series:
    if isinstance(values, pd.DataFrame) or not hasattr(values, "__len__"):
        raise ParameterError(f"{name} must be a Series (one value per customer)",
                             fix="pass e.g. rfm['profit'] or a groupby(...).sum() Series")
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if len(s) == 0:
        raise DataValidationError(f"{name} is empty", fix="check the filters applied before this call")
    if not pd.api.types.is_numeric_dtype(s):
        raise ColumnError(f"{name} must be numeric, got dtype {s.dtype}", fix=coding_advice(s, name, "numeric"))
    frame = s.rename("value").to_frame()
    check_no_nan(frame, "value", name)
    if s.index.has_duplicates:
        first = s.index[s.index.duplicated()][0]
        first = first.item() if isinstance(first, np.generic) else first
        raise DataValidationError(f"{name} has a customer id on more than one row (first: {first!r})",
                                  fix="one value per customer: aggregate first, e.g. values.groupby(level=0).sum()")
    return s.astype(float)


def pareto_table(values) -> pd.DataFrame:
    """Customers sorted by value (descending) with cumulative customer and value shares.

    Negative values (loss-making customers) are allowed: the cumulative value share then
    rises above 1 before it falls back (the "whale curve").

    >>> pareto_table(pd.Series([10.0, 60, 30], index=["a", "b", "c"]))
       value  rank  cum_customer_share  cum_value_share
    b   60.0     1            0.333333              0.6
    c   30.0     2            0.666667              0.9
    a   10.0     3            1.000000              1.0
    """
    s = _values(values)
    total = s.sum()
    if total <= 0:
        raise DataValidationError(f"values sum to {total:.6g}; value shares need a positive total",
                                  fix="use revenue or profit with a positive total")
    out = s.sort_values(ascending=False, kind="stable").rename("value").to_frame()
    out["rank"] = np.arange(1, len(out) + 1)
    out["cum_customer_share"] = out["rank"] / len(out)
    out["cum_value_share"] = out["value"].cumsum() / total
    return out


def pareto_summary(values, top_shares=(0.01, 0.05, 0.1, 0.2, 0.5)) -> pd.DataFrame:
    """Share of total value held by the top x% of customers, plus the Gini coefficient.

    >>> pareto_summary(pd.Series([1.0] * 8 + [46.0, 46.0]), top_shares=(0.2,))
             value_share
    top 20%         0.92
    gini            0.72
    """
    tab = pareto_table(values)
    rows = {}
    if isinstance(top_shares, (str, bytes)) or not hasattr(top_shares, "__iter__"):
        raise ParameterError(f"top_shares must be a list of shares in (0, 1), got {top_shares!r}",
                             fix="e.g. top_shares=(0.2,) for the top 20%")
    for x in top_shares:
        check_probability(x, "top_shares", open_interval=True)
        k = max(int(np.ceil(x * len(tab) - 1e-9)), 1)
        rows[f"top {x:.0%}"] = tab["cum_value_share"].iloc[k - 1]
    v = np.sort(tab["value"].to_numpy())
    n = len(v)
    rows["gini"] = float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))
    return pd.DataFrame({"value_share": rows})


def abc_classes(values, cutoffs=(0.8, 0.95)) -> pd.Series:
    """ABC class by cumulative value share: A up to ``cutoffs[0]`` of value, B up to ``cutoffs[1]``, C the rest.

    A customer belongs to A if the value of the customers ranked above her is below the
    first cut-off (so the customer who crosses 80% is still A).

    >>> abc_classes(pd.Series([50.0, 30, 10, 6, 4], index=list("vwxyz"))).tolist()
    ['A', 'A', 'B', 'B', 'C']
    """
    if isinstance(cutoffs, (str, bytes)) or not hasattr(cutoffs, "__len__") or len(cutoffs) != 2:
        raise ParameterError(f"cutoffs must be two shares (A up to, B up to), got {cutoffs!r}",
                             fix="use e.g. cutoffs=(0.8, 0.95)")
    lo, hi = (check_probability(c, "cutoffs", open_interval=True) for c in cutoffs)
    if not lo < hi:
        raise ParameterError(f"cutoffs must be increasing, got {cutoffs}", fix="use e.g. cutoffs=(0.8, 0.95)")
    tab = pareto_table(values)
    before = tab["cum_value_share"] - tab["value"] / tab["value"].sum()
    cls = np.where(before < lo - 1e-12, "A", np.where(before < hi - 1e-12, "B", "C"))
    return pd.Series(cls, index=tab.index, name="abc_class").reindex(_values(values).index)


def value_tiers(values, shares=(0.2, 0.3, 0.5), labels=("top", "middle", "bottom")) -> pd.Series:
    """Tiers by rank: the top ``shares[0]`` of customers, the next ``shares[1]``, ... (ties broken by order).

    >>> value_tiers(pd.Series([5.0, 1, 3, 4, 2]), shares=(0.4, 0.6), labels=("high", "low")).tolist()
    ['high', 'low', 'low', 'high', 'low']
    """
    s = _values(values)
    if isinstance(shares, (str, bytes)) or not hasattr(shares, "__len__") or isinstance(labels, (str, bytes)) \
            or not hasattr(labels, "__len__"):
        raise ParameterError(f"shares and labels must be lists of the same length, got {shares!r} and {labels!r}",
                             fix="e.g. shares=(0.2, 0.3, 0.5), labels=('top', 'middle', 'bottom')")
    try:
        w = np.asarray(shares, dtype=float).ravel()
    except (TypeError, ValueError):
        w = np.array([np.nan])
    if len(w) != len(labels) or not np.all(np.isfinite(w)) or np.any(w <= 0) or abs(w.sum() - 1) > 1e-9:
        raise ParameterError(f"shares must be positive, one per label, and sum to 1; got {list(shares)}",
                             fix="e.g. shares=(0.2, 0.3, 0.5), labels=('top', 'middle', 'bottom')")
    rank = s.rank(method="first", ascending=False)
    edges = np.concatenate([[0], np.cumsum(w)]) * len(s)
    idx = np.searchsorted(edges[1:-1], rank.to_numpy() - 0.5)
    return pd.Series(np.asarray(labels, dtype=object)[idx], index=s.index, name="tier")


def plot_pareto(values, ax=None, label: str = "customers", synthetic: bool = True):
    """Cumulative value share against cumulative customer share (Lorenz / whale curve)."""
    from . import plots

    tab = pareto_table(values)
    if ax is None:
        _, ax = plots.subplots()
    x = np.concatenate([[0], tab["cum_customer_share"].to_numpy()])
    y = np.concatenate([[0], tab["cum_value_share"].to_numpy()])
    line, = ax.plot(x, y, label=label)
    first = not any(ln.get_label() == "equal value" for ln in ax.get_lines())
    if first:  # a second curve on the same axes shares the diagonal and the 20% line
        ax.plot([0, 1], [0, 1], ls=":", color="0.5", label="equal value")
        ax.axvline(0.2, color="0.7", lw=0.8)
    k = max(int(np.ceil(0.2 * len(tab))), 1)
    top = tab["cum_value_share"].iloc[k - 1]
    # one annotation per curve, stacked so that two curves' notes do not overlap
    n_notes = sum(1 for t in ax.texts if t.get_text().startswith("top 20%"))
    ax.annotate(f"top 20% hold {top:.0%}", (0.2, top), xytext=(0.32, 0.45 - 0.1 * n_notes),
                arrowprops={"arrowstyle": "->", "color": line.get_color()}, fontsize=9, color=line.get_color())
    return plots.finish(ax, title="Pareto curve of customer value", xlabel="cumulative share of customers",
                        ylabel="cumulative share of value", synthetic=synthetic)


# ------------------------------------------------------------------------------------
# the source texts' classifications (S000 §4.1)
# ------------------------------------------------------------------------------------
def classify_by_size(values, thresholds=None, shares=(0.15, 0.35, 0.5)) -> pd.Series:
    """Large / medium / small (大/中/小客户) by a size measure such as annual order value.

    With ``thresholds=(medium_from, large_from)`` the cut-offs are absolute; otherwise the
    largest ``shares[0]`` are large, the next ``shares[1]`` medium, the rest small.

    >>> classify_by_size(pd.Series([900.0, 50, 300, 10]), thresholds=(100, 500)).tolist()
    ['large', 'small', 'medium', 'small']
    """
    s = _values(values)
    if thresholds is None:
        return value_tiers(s, shares, ("large", "medium", "small")).rename("size_class")
    if isinstance(thresholds, (str, bytes)) or not hasattr(thresholds, "__len__") or len(thresholds) != 2:
        raise ParameterError(f"thresholds must be two numbers (medium_from, large_from), got {thresholds!r}",
                             fix="e.g. thresholds=(100_000, 1_000_000)")
    lo, hi = (float(check_scalar(t, "thresholds")) for t in thresholds)
    if not lo < hi:
        raise ParameterError(f"thresholds must be (medium_from, large_from) with medium_from < large_from, got {thresholds}",
                             fix="e.g. thresholds=(100_000, 1_000_000)")
    cls = np.where(s >= hi, "large", np.where(s >= lo, "medium", "small"))
    return pd.Series(cls, index=s.index, name="size_class", dtype=object)


def industry_profile(accounts: pd.DataFrame, industry_col: str = "industry", value_col: str = "value",
                     columns: list[str] | None = None) -> pd.DataFrame:
    """Accounts, value, value share and mean value by industry (行业), plus the means of ``columns``.

    >>> acc = pd.DataFrame({"industry": ["retail", "retail", "logistics"], "value": [10.0, 30, 60]})
    >>> industry_profile(acc)["value_share"].tolist()
    [0.6, 0.4]
    """
    _check_column_args(industry_col=industry_col, value_col=value_col)
    extra = [columns] if isinstance(columns, str) else list(columns or [])
    check_frame(accounts, "accounts", required=[industry_col, value_col, *extra], numeric=[value_col, *extra],
                no_nan=[industry_col, value_col])
    if not accounts[value_col].sum() > 0:
        raise DataValidationError(f"accounts[{value_col!r}] sums to {accounts[value_col].sum():.6g}; value shares "
                                  "need a positive total", fix="use order value or revenue with a positive total")
    industry, value = industry_col, value_col
    g = accounts.groupby(industry)
    out = pd.DataFrame({"accounts": g.size(), "value": g[value].sum()})
    out["value_share"] = out["value"] / out["value"].sum()
    out["mean_value"] = out["value"] / out["accounts"]
    for col in extra:
        out[f"mean_{col}"] = g[col].mean()
    return out.sort_values("value", ascending=False)


IMPORTANCE_CHINESE = {"key": "重点客户", "general": "一般客户", "potential": "潜在客户"}


def classify_importance(value, potential_value=None, key_share: float = 0.2,
                        potential_share: float | None = None) -> pd.Series:
    """Key / general / potential customers (重点/一般/潜在客户), S000 §4.1(3).

    Rules (adjustable): *key* = the top ``key_share`` of customers by current ``value``;
    *potential* = customers outside the key group who have not bought yet (value 0) or,
    when ``potential_value`` (e.g. predicted CLV) is given, whose potential value would put
    them in the top ``potential_share`` (default ``key_share``); *general* = the rest.

    >>> v = pd.Series([500.0, 40, 0, 30, 60])
    >>> classify_importance(v, key_share=0.2).tolist()
    ['key', 'general', 'potential', 'general', 'general']
    >>> classify_importance(v, potential_value=pd.Series([600.0, 10, 5, 400, 20]), key_share=0.2,
    ...                     potential_share=0.4).tolist()
    ['key', 'general', 'potential', 'potential', 'general']
    """
    s = _values(value, "value")
    check_probability(key_share, "key_share", open_interval=True)
    key = value_tiers(s, (key_share, 1 - key_share), ("key", "rest")) == "key"
    key &= s > 0
    potential = (s <= 0) & ~key
    if potential_value is not None:
        pv = _values(potential_value, "potential_value")
        if not pv.index.equals(s.index):
            raise ParameterError("potential_value must have the same index as value",
                                 fix="align them, e.g. potential_value.reindex(value.index)")
        ps = key_share if potential_share is None else check_probability(potential_share, "potential_share",
                                                                         open_interval=True)
        top_pv = value_tiers(pv, (ps, 1 - ps), ("top", "rest")) == "top"
        potential |= top_pv & ~key
    cls = np.where(key, "key", np.where(potential, "potential", "general"))
    return pd.Series(cls, index=s.index, name="importance", dtype=object)


LOYALTY_CHINESE = {"loyal": "忠诚客户", "floating": "游离客户", "lost": "流失客户"}


def classify_loyalty_state(rfm: pd.DataFrame, *, loyal_within_days: int = 90, loyal_min_frequency: int = 3,
                           lost_after_days: int = 180, p_alive: pd.Series | None = None,
                           lost_below: float = 0.5, loyal_from: float = 0.8) -> pd.Series:
    """Loyal / floating / lost (忠诚/游离/流失客户), S000 §4.1(5), from recency and frequency.

    Default rules (adjustable, [EXT] cut-offs): *lost* = no purchase for more than
    ``lost_after_days``; *loyal* = bought within ``loyal_within_days`` and at least
    ``loyal_min_frequency`` times; *floating* = the rest. With ``p_alive`` (BG/NBD,
    :mod:`crmlab.clv`) the model replaces the day rules: *lost* = P(alive) < ``lost_below``,
    *loyal* = P(alive) >= ``loyal_from`` and frequency >= ``loyal_min_frequency``.

    >>> rfm = pd.DataFrame({"recency_days": [20, 400, 100, 30], "frequency": [6, 5, 2, 1]})
    >>> classify_loyalty_state(rfm).tolist()
    ['loyal', 'lost', 'floating', 'floating']
    """
    need = ["recency_days", "frequency"]
    check_frame(rfm, "rfm", required=need, numeric=need, no_nan=need, non_negative=need)
    check_scalar(loyal_min_frequency, "loyal_min_frequency", numbers.Integral, low=1)
    freq = rfm["frequency"]
    if p_alive is None:
        check_scalar(loyal_within_days, "loyal_within_days", numbers.Integral, low=0)
        check_scalar(lost_after_days, "lost_after_days", numbers.Integral, low=0)
        if loyal_within_days > lost_after_days:
            raise ParameterError("loyal_within_days must not exceed lost_after_days",
                                 fix="e.g. loyal_within_days=90, lost_after_days=180")
        lost = rfm["recency_days"] > lost_after_days
        loyal = ~lost & (rfm["recency_days"] <= loyal_within_days) & (freq >= loyal_min_frequency)
    else:
        pa = _values(p_alive, "p_alive")
        if not pa.index.equals(rfm.index):
            raise ParameterError("p_alive must have the same index as rfm", fix="use p_alive.reindex(rfm.index)")
        check_in_range(pa.rename("p").to_frame(), "p", 0, 1, "p_alive", "probabilities")
        lo = check_probability(lost_below, "lost_below")
        hi = check_probability(loyal_from, "loyal_from")
        if lo > hi:
            raise ParameterError("lost_below must not exceed loyal_from", fix="e.g. lost_below=0.5, loyal_from=0.8")
        lost = pa < lo
        loyal = ~lost & (pa >= hi) & (freq >= loyal_min_frequency)
    cls = np.where(lost, "lost", np.where(loyal, "loyal", "floating"))
    return pd.Series(cls, index=rfm.index, name="loyalty_state", dtype=object)


LOYALTY_STATES = ("loyal", "floating", "lost")
_LOYALTY_RULES = {"loyal_within_days", "loyal_min_frequency", "lost_after_days", "p_alive", "lost_below", "loyal_from"}


def loyalty_transitions(transactions: pd.DataFrame, period_ends, *, customer_id_col: str = "customer_id",
                        date_col: str = "date", amount_col: str = "amount",
                        **rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Loyalty state of every customer at each of ``period_ends`` and the transition matrix.

    A customer enters at the first period end after her first purchase. Returns
    ``(states, matrix)``: ``states`` has one column per period end; ``matrix`` is the pooled
    row-normalised transition matrix between consecutive period ends (rows = from).
    ``rules`` are passed to :func:`classify_loyalty_state`.
    """
    unknown = sorted(set(rules) - _LOYALTY_RULES)
    if unknown:
        raise ParameterError(f"unknown loyalty rule(s) {unknown}", fix=f"use {sorted(_LOYALTY_RULES)}")
    if isinstance(period_ends, (str, pd.Timestamp)) or not hasattr(period_ends, "__iter__"):
        raise ParameterError("period_ends must be a list of dates",
                             fix="e.g. pd.date_range('2024-03-31', '2025-12-31', freq='QE')")
    ends = pd.DatetimeIndex([check_timestamp(e, "period_ends") for e in period_ends])
    if len(ends) < 2 or not ends.is_monotonic_increasing or ends.has_duplicates:
        raise ParameterError("period_ends must hold at least two increasing dates",
                             fix="e.g. pd.date_range('2024-03-31', '2025-12-31', freq='QE')")
    if len(ends) > 400:
        raise ParameterError(f"period_ends holds {len(ends)} dates; each one scores the whole log",
                             fix="use monthly or quarterly period ends (at most 400)")
    _check_column_args(customer_id_col=customer_id_col, date_col=date_col, amount_col=amount_col)
    check_frame(transactions, "transactions", required=[customer_id_col, date_col, amount_col])
    d = _tz_naive(check_dates(transactions, date_col, "transactions"))
    states = {}
    for end in ends:
        sub = transactions[(d <= end).to_numpy()]
        if len(sub) == 0:
            continue
        rfm = rfm_table(sub, end, customer_id_col=customer_id_col, date_col=date_col, amount_col=amount_col)
        states[end] = classify_loyalty_state(rfm, **rules)
    if len(states) < 2:
        raise DataValidationError("fewer than two period ends have purchases before them",
                                  fix="choose period ends inside the transaction window")
    st = pd.DataFrame(states)
    counts = pd.DataFrame(0, index=list(LOYALTY_STATES), columns=list(LOYALTY_STATES), dtype=float)
    cols = list(st.columns)
    for a, b in zip(cols[:-1], cols[1:], strict=True):
        pair = st[[a, b]].dropna()
        counts = counts.add(pd.crosstab(pair[a], pair[b]).reindex(index=counts.index, columns=counts.columns,
                                                                    fill_value=0), fill_value=0)
    matrix = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    matrix.index.name, matrix.columns.name = "from", "to"
    return st, matrix


def project_state_shares(matrix: pd.DataFrame, start, steps: int = 4) -> pd.DataFrame:
    """Markov projection of state shares: row ``k`` = ``start @ matrix^k`` (no new customers).

    >>> P = pd.DataFrame([[0.8, 0.2, 0.0], [0.3, 0.5, 0.2], [0.0, 0.1, 0.9]],
    ...                  index=["loyal", "floating", "lost"], columns=["loyal", "floating", "lost"])
    >>> project_state_shares(P, {"loyal": 0.5, "floating": 0.5, "lost": 0.0}, steps=1).round(2)  # doctest: +NORMALIZE_WHITESPACE
          loyal  floating  lost
    step
    0      0.50      0.50   0.0
    1      0.55      0.35   0.1
    """
    if not isinstance(matrix, pd.DataFrame) or list(matrix.index) != list(matrix.columns):
        raise ParameterError("matrix must be a square DataFrame with the same states as index and columns",
                             fix="pass the matrix returned by loyalty_transitions")
    M = matrix.to_numpy(dtype=float)
    if np.any(~np.isfinite(M)) or np.any(M < 0) or np.any(np.abs(M.sum(axis=1) - 1) > 1e-6):
        raise DataValidationError("every row of matrix must be a probability distribution (no NaN, sums to 1)",
                                  fix="drop states never observed as 'from', or fill their rows")
    steps = check_count(steps, "steps", 1, 1000)
    if not isinstance(start, (dict, pd.Series)):
        raise ParameterError("start must be a dict (or Series) of state shares",
                             fix=f"pass a dict with keys {list(matrix.index)}")
    try:
        v = pd.Series(start, dtype=float)
    except (TypeError, ValueError) as err:
        raise ParameterError("start must map states to numbers", fix=f"pass a dict with keys {list(matrix.index)}") from err
    unknown = [k for k in v.index if k not in matrix.index]
    if unknown:
        raise ParameterError(f"start has unknown state(s) {unknown}", fix=f"use the states {list(matrix.index)}")
    v = v.reindex(matrix.index)
    if v.isna().any() or not np.all(np.isfinite(v)) or np.any(v < 0) or abs(v.sum() - 1) > 1e-6:
        raise ParameterError("start must give a share for every state, and the shares must sum to 1",
                             fix=f"pass a dict with keys {list(matrix.index)}")
    rows = [v.to_numpy()]
    for _ in range(steps):
        rows.append(rows[-1] @ M)
    return pd.DataFrame(rows, columns=matrix.columns, index=pd.RangeIndex(steps + 1, name="step"))


# ------------------------------------------------------------------------------------
# needs-based clustering
# ------------------------------------------------------------------------------------
def behaviour_features(transactions: pd.DataFrame, *, customer_id_col: str = "customer_id",
                       channel_col: str | None = "channel", category_col: str | None = "category",
                       discount_col: str | None = "discount_used", min_transactions: int = 3) -> pd.DataFrame:
    """Per-customer purchase-mix features: channel shares, category shares, discount share.

    These describe *what and how* a customer buys (needs), not how much. Customers with
    fewer than ``min_transactions`` purchases are left out: one or two purchases reveal
    the mix too noisily to cluster on. Columns: ``ch_<channel>``, ``cat_<category>``,
    ``discount_share`` and ``n_transactions``.
    """
    check_count(min_transactions, "min_transactions", 1, 100_000)
    _check_column_args(optional=("channel_col", "category_col", "discount_col"), customer_id_col=customer_id_col,
                       channel_col=channel_col, category_col=category_col, discount_col=discount_col)
    customer_id, channel, category, discount = customer_id_col, channel_col, category_col, discount_col
    parts = [c for c in (channel, category, discount) if c is not None]
    if not parts:
        raise ParameterError("give at least one of channel_col, category_col, discount_col",
                             fix="e.g. channel_col='channel'")
    check_frame(transactions, "transactions", required=[customer_id, *parts], no_nan=[customer_id, *parts])
    n = transactions.groupby(customer_id).size()
    keep = n.index[n >= min_transactions]
    if len(keep) == 0:
        raise DataValidationError(f"no customer has {min_transactions} or more transactions",
                                  fix="lower min_transactions or use a longer window")
    tx = transactions[transactions[customer_id].isin(keep)]
    out = []
    if channel is not None:
        out.append(pd.crosstab(tx[customer_id], tx[channel], normalize="index").add_prefix("ch_"))
    if category is not None:
        out.append(pd.crosstab(tx[customer_id], tx[category], normalize="index").add_prefix("cat_"))
    if discount is not None:
        check_numeric(tx, discount, "transactions")
        check_in_range(tx, discount, 0, 1, "transactions", "flags")
        out.append(tx.groupby(customer_id)[discount].mean().astype(float).rename("discount_share").to_frame())
    feats = pd.concat(out, axis=1)
    feats.columns.name = None
    feats["n_transactions"] = n.loc[feats.index]
    feats.index.name = customer_id
    return feats


def _feature_matrix(features: pd.DataFrame, name: str = "features") -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise ParameterError(f"{name} must be a DataFrame", fix="pass behaviour_features(transactions)")
    X = features.drop(columns=[c for c in ("n_transactions",) if c in features.columns])
    num = X.select_dtypes("number")
    if num.shape[1] != X.shape[1]:
        bad = [c for c in X.columns if c not in num.columns]
        raise ColumnError(f"{name} has non-numeric column(s) {bad}", fix="drop or encode them before clustering")
    if X.shape[1] == 0:
        raise ColumnError(f"{name} has no feature columns", fix="pass behaviour_features(transactions)")
    check_frame(X, name, no_nan=list(X.columns), min_rows=2)
    if np.any(~np.isfinite(X.to_numpy(dtype=float))):
        raise DataValidationError(f"{name} has infinite values", fix="replace them before clustering")
    if X.index.has_duplicates:
        dup = X.index[X.index.duplicated()].unique()
        first = dup[0].item() if isinstance(dup[0], np.generic) else dup[0]
        raise DataValidationError(f"{name} has {len(dup)} customer id(s) on more than one row (first: {first!r})",
                                  fix="one row per customer: build the features with behaviour_features")
    return X


def _check_seed(seed) -> int:
    """scikit-learn's k-means needs an int seed."""
    return check_count(seed, "seed", 0, 2**32 - 1)


def _pipeline(n_clusters, n_components, seed, n_init):
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [StandardScaler()]
    if n_components is not None:
        steps.append(PCA(n_components=n_components, random_state=seed))
    steps.append(KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed))
    return make_pipeline(*steps)


def choose_k(features: pd.DataFrame, k_values=range(2, 9), *, n_components: int | None = None, seed: int = 0,
             n_init: int = 10, silhouette_sample: int = 3000) -> pd.DataFrame:
    """Elbow and validity indices for k-means with each k in ``k_values``.

    Features are standardised (and projected on ``n_components`` principal components if
    given). Columns: ``inertia`` (within-cluster sum of squares, the elbow), ``silhouette``
    (higher is better; computed on a seeded sample of ``silhouette_sample`` customers),
    ``calinski_harabasz`` (higher is better), ``davies_bouldin`` (lower is better).
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    X = _feature_matrix(features)
    seed = _check_seed(seed)
    n_init = check_count(n_init, "n_init", 1, 1000)
    silhouette_sample = check_count(silhouette_sample, "silhouette_sample", 2, 1_000_000)
    if n_components is not None:
        check_count(n_components, "n_components", 1, X.shape[1])
    if isinstance(k_values, (str, bytes)) or not hasattr(k_values, "__iter__"):
        raise ParameterError("k_values must be a list or range of whole numbers", fix="e.g. k_values=range(2, 9)")
    ks = [check_count(k, "k", 2, 200) for k in k_values]
    if not ks or max(ks) >= len(X) or len(ks) > 50:
        raise ParameterError(f"k_values must hold 1 to 50 values between 2 and the number of customers - 1 "
                             f"({len(X) - 1})", fix="e.g. k_values=range(2, 9)")
    rows = []
    with _single_thread(user_api=None):
        for k in ks:
            pipe = _pipeline(k, n_components, seed, n_init).fit(X.to_numpy(dtype=float))
            Z = pipe[:-1].transform(X.to_numpy(dtype=float))
            lab = pipe[-1].labels_
            rows.append({"k": k, "inertia": pipe[-1].inertia_,
                         "silhouette": silhouette_score(Z, lab, sample_size=min(silhouette_sample, len(Z)),
                                                        random_state=seed),
                         "calinski_harabasz": calinski_harabasz_score(Z, lab),
                         "davies_bouldin": davies_bouldin_score(Z, lab)})
    return pd.DataFrame(rows).set_index("k")


def plot_choose_k(table: pd.DataFrame, ax=None):
    """Elbow (inertia) and silhouette against k, on two y axes; the best silhouette is marked."""
    from . import plots

    require_columns(table, ["inertia", "silhouette"], "table")
    if ax is None:
        _, ax = plots.subplots()
    k = table.index.to_numpy()
    ax.plot(k, table["inertia"], marker="o", color=plots.PALETTE[0], label="inertia (elbow)")
    ax.set_ylabel("within-cluster sum of squares")
    ax2 = ax.twinx()
    ax2.plot(k, table["silhouette"], marker="s", color=plots.PALETTE[1], label="silhouette")
    best = int(table["silhouette"].idxmax())
    ax2.axvline(best, color=plots.PALETTE[1], ls=":", lw=1)
    ax2.set_ylabel("silhouette")
    ax2.grid(False)
    lines = ax.get_lines()[:1] + ax2.get_lines()[:1]
    ax.legend(lines, [ln.get_label() for ln in lines], frameon=False, loc="upper right")
    return plots.finish(ax, title=f"Choosing k (best silhouette at k = {best})", xlabel="number of clusters k",
                        legend=False)


class SegmentClusterer(Fitter):
    """k-means segmentation: standardise, optionally project on principal components, cluster.

    ``fit(features)`` sets ``labels_`` (a Series, clusters numbered 0..k-1 by decreasing
    size), ``silhouette_``, ``pipeline_`` (the fitted scikit-learn pipeline) and ``map_``
    (every customer's coordinates on the first two principal components of the
    standardised features: the positioning map). ``summary`` (= ``profile()``) describes
    the clusters, ``plot_positioning_map()`` draws them, ``agreement(truth)`` scores them
    against known segments.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(6, 1, (30, 2))]), columns=["a", "b"])
    >>> seg = SegmentClusterer(n_clusters=2, seed=0).fit(X)
    >>> seg.labels_.value_counts().tolist()
    [30, 30]
    >>> seg
    SegmentClusterer(n_clusters=2), fitted on 60 customers: 2 clusters of 30/30 customers, silhouette 0.796
    """

    _unit = "customers"

    def __init__(self, n_clusters: int = 4, *, n_components: int | None = None, seed: int = 0, n_init: int = 10):
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.seed = seed
        self.n_init = n_init
        self._check_settings()

    def _check_settings(self) -> None:
        check_count(self.n_clusters, "n_clusters", 2, 200)
        if self.n_components is not None:
            check_count(self.n_components, "n_components", 1, 10_000)
        _check_seed(self.seed)
        check_count(self.n_init, "n_init", 1, 1000)

    def fit(self, features: pd.DataFrame) -> SegmentClusterer:
        """Cluster the customers (rows) of ``features``; ``n_transactions`` is left out."""
        from sklearn.decomposition import PCA
        from sklearn.metrics import silhouette_score

        self._check_settings()
        k, n_comp, seed, n_init = int(self.n_clusters), self.n_components, int(self.seed), int(self.n_init)
        X = _feature_matrix(features)
        if k >= len(X):
            raise ParameterError(f"n_clusters={k} needs more than {len(X)} customers",
                                 fix="lower n_clusters or pass more customers")
        if n_comp is not None and n_comp > X.shape[1]:
            raise ParameterError(f"n_components={n_comp} exceeds the {X.shape[1]} features",
                                 fix=f"choose n_components <= {X.shape[1]}")
        A = X.to_numpy(dtype=float)
        with _single_thread(user_api=None), warnings.catch_warnings():
            # too few distinct points: said below as a named error instead
            warnings.filterwarnings("ignore", message="Number of distinct clusters")
            pipeline = _pipeline(k, None if n_comp is None else int(n_comp), seed, n_init).fit(A)
        raw = pipeline[-1].labels_
        found = len(np.unique(raw))
        if found < k:
            raise DataValidationError(f"k-means found only {found} distinct cluster(s) for n_clusters={k}: "
                                      "too few distinct customers", fix="lower n_clusters or pass more varied features")
        # number clusters by decreasing size (ties by label) so that output is stable
        sizes = np.bincount(raw, minlength=k)
        order = np.lexsort((np.arange(k), -sizes))
        relabel = np.empty(k, dtype=int)
        relabel[order] = np.arange(k)
        Z = pipeline[:-1].transform(A)
        scaled = pipeline[0].transform(A)
        pca = PCA(n_components=min(2, X.shape[1]), random_state=seed).fit(scaled)
        coords = pca.transform(scaled)
        if coords.shape[1] == 1:  # one feature: the map's second axis is flat
            coords = np.column_stack([coords, np.zeros(len(coords))])
        self.pipeline_ = pipeline
        self.labels_ = pd.Series(relabel[raw], index=X.index, name="cluster")
        self.silhouette_ = float(silhouette_score(Z, raw, sample_size=min(3000, len(Z)), random_state=seed))
        self.pca_ = pca
        self.map_ = pd.DataFrame(coords, index=X.index, columns=["pc1", "pc2"])
        self.loadings_ = pd.DataFrame(np.pad(pca.components_.T, ((0, 0), (0, 2 - pca.n_components_))),
                                      index=X.columns, columns=["pc1", "pc2"])
        self.feature_names_ = list(X.columns)
        self.n_obs_ = len(X)
        self._features = X
        return self

    def _summary(self) -> pd.DataFrame:
        """The clusters' profile (no estimates: a clusterer describes, it does not estimate)."""
        return self.profile()

    def _repr_fitted(self) -> str:
        sizes = "/".join(f"{n:,}" for n in self.labels_.value_counts().sort_index())
        return (f"fitted on {self.n_obs_:,} customers: {self.n_clusters} clusters of {sizes} customers, "
                f"silhouette {self.silhouette_:.3f}")

    def profile(self, extra: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per cluster: customers, share, feature means, and means of ``extra`` columns (same index)."""
        self._check_fitted()
        df = self._features.copy()
        if extra is not None:
            if not isinstance(extra, pd.DataFrame):
                raise ParameterError("extra must be a DataFrame indexed by customer", fix="e.g. rfm[['monetary']]")
            if extra.index.has_duplicates:
                raise DataValidationError("extra has a customer id on more than one row",
                                          fix="pass one row per customer (e.g. an rfm_table)")
            ext = extra.reindex(df.index)
            df = df.join(ext.select_dtypes("number"), rsuffix="_extra")
        g = df.groupby(self.labels_)
        out = g.mean()
        out.insert(0, "customer_share", g.size() / len(df))
        out.insert(0, "customers", g.size())
        out.index.name = "cluster"
        out["label"] = describe_clusters(out, self.feature_names_)
        return out

    def plot_positioning_map(self, ax=None, names: dict | None = None, arrows: int = 5):
        """Customers and cluster centres on the first two principal components, with the
        ``arrows`` strongest feature loadings drawn as arrows (a biplot)."""
        from . import plots

        self._check_fitted()
        arrows = check_count(arrows, "arrows", 0, 100)
        if ax is None:
            _, ax = plots.subplots(figsize=(7.5, 5.5))
        for c in range(self.n_clusters):
            pts = self.map_[self.labels_ == c]
            label = names.get(c, f"cluster {c}") if names else f"cluster {c}"
            ax.scatter(pts["pc1"], pts["pc2"], s=6, alpha=0.35, color=plots.PALETTE[c % len(plots.PALETTE)],
                       label=label)
            ctr = pts.mean()
            ax.scatter([ctr["pc1"]], [ctr["pc2"]], s=120, marker="X", color=plots.PALETTE[c % len(plots.PALETTE)],
                       edgecolor="black", zorder=5)
        strength = (self.loadings_ ** 2).sum(axis=1).sort_values(ascending=False)
        scale = 0.9 * np.abs(self.map_.to_numpy()).max() / max(np.abs(self.loadings_.to_numpy()).max(), 1e-12)
        placed: list[tuple[float, float]] = []
        step = 0.05 * float(np.ptp(self.map_["pc2"].to_numpy()))  # about one line of text
        for feat in strength.index[:arrows]:
            lx, ly = self.loadings_.loc[feat] * scale * 0.6
            ax.annotate("", xy=(lx, ly), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "0.3"})
            tx, ty = lx * 1.1, ly * 1.1
            while any(abs(tx - px) < 4 * step and abs(ty - py) < step for px, py in placed):
                ty += step if ly >= 0 else -step  # move a label off one it would overlap
            placed.append((tx, ty))
            ax.text(tx, ty, plots.label(feat), fontsize=8, color="0.2",
                    ha="left" if lx >= 0 else "right", va="bottom" if ly >= 0 else "top",
                    bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "alpha": 0.7, "edgecolor": "none"})
        ev = np.append(self.pca_.explained_variance_ratio_, 0.0)
        return plots.finish(ax, title="Positioning map of the segments", xlabel=f"PC1 ({ev[0]:.0%} of variance)",
                            ylabel=f"PC2 ({ev[1]:.0%} of variance)")

    def agreement(self, truth: pd.Series) -> dict:
        """Adjusted Rand index, normalised mutual information and cross-table against ``truth``."""
        self._check_fitted()
        return segment_agreement(self.labels_, truth)


def describe_clusters(profile: pd.DataFrame, features: list[str], top: int = 2, min_lift: float = 1.2) -> list[str]:
    """Short names from the features a cluster over-indexes on (mean / overall mean >= ``min_lift``).

    >>> prof = pd.DataFrame({"customers": [10, 10], "ch_web": [0.9, 0.1], "ch_store": [0.1, 0.9]})
    >>> describe_clusters(prof, ["ch_web", "ch_store"])
    ['web', 'store']
    """
    if isinstance(features, (str, bytes)) or not isinstance(features, (list, tuple, pd.Index)):
        raise ParameterError(f"features must be a list of column names, got {type(features).__name__}",
                             fix="e.g. features=model.feature_names_")
    features = list(features)
    check_frame(profile, "profile", required=["customers", *features], numeric=["customers", *features],
                no_nan=["customers", *features], non_negative=["customers"])
    check_count(top, "top", 1, 100)
    check_scalar(min_lift, "min_lift", low=0, low_inclusive=False)
    w = profile["customers"] / profile["customers"].sum()
    overall = (profile[features].mul(w, axis=0)).sum()
    lift = profile[features] / overall.replace(0, np.nan)
    labels = []
    for _, row in lift.iterrows():
        best = row[row >= min_lift].sort_values(ascending=False).index[:top]
        labels.append(" + ".join(b.replace("ch_", "").replace("cat_", "") for b in best) or "average mix")
    return labels


def segment_agreement(labels: pd.Series, truth: pd.Series) -> dict:
    """ARI and NMI between two partitions of the same customers, with their cross-table.

    >>> a = pd.Series([0, 0, 1, 1]); b = pd.Series(["x", "x", "y", "y"])
    >>> segment_agreement(a, b)["ari"]
    1.0
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    for s, name in ((labels, "labels"), (truth, "truth")):
        if not isinstance(s, pd.Series):
            raise ParameterError(f"{name} must be a pandas Series indexed by customer", fix="pass a Series")
    for s, name in ((labels, "labels"), (truth, "truth")):
        if s.index.has_duplicates:
            raise DataValidationError(f"{name} has a customer id on more than one row",
                                      fix="pass one label per customer, indexed by customer_id")
    common = labels.index.intersection(truth.index)
    if len(common) < 2:
        raise DataValidationError("labels and truth share fewer than 2 customers",
                                  fix="index both by customer_id")
    a, b = labels.loc[common], truth.loc[common]
    if a.isna().any() or b.isna().any():
        raise DataValidationError("labels or truth have missing values for shared customers",
                                  fix="drop customers without a label first")
    return {"ari": float(adjusted_rand_score(b, a)), "nmi": float(normalized_mutual_info_score(b, a)),
            "n": int(len(common)), "crosstab": pd.crosstab(a.rename("label"), b.rename("truth"))}


# ------------------------------------------------------------------------------------
# positioning (S000 §4.2)
# ------------------------------------------------------------------------------------
POSITIONING_STRATEGIES: dict[str, tuple[str, str]] = {
    "differentiated": ("差异化定位", "different products and services for different groups, to meet individual needs"),
    "concentrated": ("集中定位", "concentrate resources on one group to raise market share there"),
    "multichannel": ("多渠道定位", "widen reach and coverage through many online and offline channels"),
    "premium": ("高端定位", "high-quality, high-value offerings for high-end customers"),
    "loyalty": ("忠诚度定位", "build loyal customers through quality service and promotions"),
}
"""The five positioning strategies of S000 §4.2: name -> (中文, what the text says)."""


@dataclass(frozen=True)
class PositioningRule:
    """Recommend ``strategy`` when the segment's mean of ``features`` (summed) is at least
    ``min_lift`` times the population's; ``action`` is the suggested move."""

    strategy: str
    features: tuple[str, ...]
    min_lift: float
    action: str


DEFAULT_POSITIONING_RULES: tuple[PositioningRule, ...] = (
    PositioningRule("premium", ("cat_apparel", "cat_beauty"), 1.5,
                    "premium assortment and brands, quality guarantees, personal advice; avoid blanket discounts"),
    PositioningRule("multichannel", ("ch_store",), 1.5,
                    "bring store shoppers online: click-and-collect, app sign-up at the till, one price everywhere"),
    PositioningRule("concentrated", ("cat_baby", "cat_grocery"), 1.4,
                    "concentrate on the family basket: bulk packs, a baby club, scheduled home delivery"),
    PositioningRule("differentiated", ("discount_share",), 1.3,
                    "price-tiered offers and targeted app coupons; an own-label value range"),
)
"""Default rules (an [EXT] teaching device, adjustable): they read the purchase-mix
features of :func:`behaviour_features`. A segment that triggers none gets *loyalty*
positioning (service and rewards rather than a distinct offer)."""


def positioning_table(profile: pd.DataFrame, rules=DEFAULT_POSITIONING_RULES, overall: pd.Series | None = None,
                      fallback_action: str = "loyalty programme: points, member service, regular care contacts"
                      ) -> pd.DataFrame:
    """Segment → positioning strategy → action, filled from segment profiles by ``rules``.

    For each segment every rule's lift (segment mean of its features ÷ ``overall``; by
    default the customer-weighted mean of the profile) is computed; the rule with the
    largest lift relative to its ``min_lift`` wins; if none reaches its ``min_lift`` the
    segment gets loyalty positioning. ``evidence`` shows the numbers behind the choice.
    """
    if not isinstance(profile, pd.DataFrame) or len(profile) == 0:
        raise ParameterError("profile must be a non-empty DataFrame, one row per segment",
                             fix="pass SegmentClusterer(...).fit(features).profile()")
    feats = sorted({f for r in rules for f in r.features})
    require_columns(profile, feats, "profile")
    for r in rules:
        if r.strategy not in POSITIONING_STRATEGIES:
            raise ParameterError(f"unknown strategy {r.strategy!r}", fix=f"use one of {list(POSITIONING_STRATEGIES)}")
        check_scalar(r.min_lift, "min_lift", low=0, low_inclusive=False)
    if overall is None:
        require_columns(profile, "customers", "profile")
        w = profile["customers"] / profile["customers"].sum()
        overall = profile[feats].mul(w, axis=0).sum()
    rows = []
    for seg, row in profile.iterrows():
        best, best_ratio, evidence = None, 1.0, []
        for r in rules:
            base = float(sum(overall[f] for f in r.features))
            val = float(sum(row[f] for f in r.features))
            lift = val / base if base > 0 else np.nan
            if np.isfinite(lift) and lift / r.min_lift >= best_ratio:
                best, best_ratio = r, lift / r.min_lift
                evidence = [f"{'+'.join(r.features)} {val:.2f} vs {base:.2f} overall (x{lift:.2f})"]
        strategy = best.strategy if best else "loyalty"
        rows.append({"segment": seg, "label": row.get("label", ""),
                     "customer_share": row.get("customer_share", np.nan),
                     "strategy": strategy, "chinese": POSITIONING_STRATEGIES[strategy][0],
                     "evidence": evidence[0] if evidence else "no distinctive purchase mix",
                     "action": best.action if best else fallback_action})
    return pd.DataFrame(rows).set_index("segment")
