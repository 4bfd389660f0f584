"""Measuring customer satisfaction (客户满意度测量): scales, reliability, CSAT, effort, NPS, drivers.

The module works on a questionnaire table with one row per response and one column
per item (``crmlab.datasets.load("survey")`` has that shape). It covers

* **scoring**: validation of answers against each item's scale, reverse-keyed items
  (反向题), scale scores as item means or 0-100 "percent of maximum possible";
* **reliability** (信度): Cronbach's alpha with a Feldt or bootstrap confidence interval,
  item-total correlations and alpha-if-item-deleted;
* **headline indicators**: CSAT top-2-box share (前两档占比) with a Wilson interval,
  customer effort score (客户费力度), Net Promoter Score (净推荐值) with analytic and
  bootstrap intervals, a test of an NPS difference between segments or waves (independent
  or partially overlapping samples: customers who answer both waves), and a coverage
  simulation that checks the intervals keep their nominal rate;
* **the source texts' three satisfaction frameworks** mapped onto one questionnaire
  (``FRAMEWORKS``): S000 §5.3 service attitude / efficiency / quality, S000 §8.1
  product / service / purchase experience, S002 Ch2 §3 service quality / interaction
  experience / emotional factors;
* **driver analysis** (满意度驱动因素分析): standardised regression, relative weights
  (Johnson 2000) or Shapley / LMG decomposition of R², bootstrap intervals, and the
  importance-performance analysis (IPA, 重要性-绩效分析) quadrant plot.

Every figure the kit produces from the shipped data is SYNTHETIC (see ``crmlab.synth``).

>>> import pandas as pd
>>> from crmlab.satisfaction import nps
>>> r = nps(pd.Series([10, 9, 9, 8, 7, 6, 3, 10, 9, 5]))
>>> float(r["nps"]), int(r["n"])
(20.0, 10)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._threads import single_thread as _single_thread
from .errors import ColumnError, DataValidationError, ParameterError
from .validation import (
    check_fitted,
    check_in_range,
    check_no_nan,
    check_not_empty,
    check_numeric,
    check_probability,
    check_random_state,
    check_scalar,
    require_columns,
)

__all__ = [
    "QUESTIONNAIRE",
    "CONSTRUCT_ITEMS",
    "DRIVER_ITEMS",
    "FRAMEWORKS",
    "IPA_LABELS",
    "item_scale",
    "validate_responses",
    "reverse_code",
    "scale_scores",
    "cronbach_alpha",
    "item_analysis",
    "reliability_table",
    "top_box",
    "csat_score",
    "effort_score",
    "nps_categories",
    "nps",
    "nps_table",
    "nps_difference",
    "nps_item_probabilities",
    "nps_coverage_simulation",
    "classify_satisfaction",
    "framework_scores",
    "framework_summary",
    "relative_weights",
    "shapley_r2",
    "importance_performance",
    "DriverAnalysis",
]

# ------------------------------------------------------------------------------------
# The questionnaire
# ------------------------------------------------------------------------------------
# item -> (low, high, construct, reverse-keyed, English wording, 中文)
# The construct is the latent the item is designed to measure (ACSI block: EXP, PQ, PV,
# SAT, COMP, LOY; touchpoint block: the six drivers). "attitude+efficiency" marks an item
# written to span two drivers; "effort" is the customer effort score.
_Q = tuple[int, int, str, bool, str, str]
_QUESTIONNAIRE: dict[str, _Q] = {
    "exp_overall": (1, 10, "EXP", False, "Overall quality expected before buying", "总体期望"),
    "exp_customization": (1, 10, "EXP", False, "Expected fit to personal needs", "个性化期望"),
    "exp_reliability": (1, 10, "EXP", False, "Expected reliability", "可靠性期望"),
    "pq_overall": (1, 10, "PQ", False, "Perceived quality: overall", "总体感知质量"),
    "pq_customization": (1, 10, "PQ", False, "Perceived quality: fit to personal needs", "个性化感知质量"),
    "pq_reliability": (1, 10, "PQ", False, "Perceived quality: reliability", "可靠性感知质量"),
    "pv_price_given_quality": (1, 10, "PV", False, "Price given the quality", "给定质量的价格评价"),
    "pv_quality_given_price": (1, 10, "PV", False, "Quality given the price", "给定价格的质量评价"),
    "sat_overall": (1, 10, "SAT", False, "Overall satisfaction", "总体满意度"),
    "sat_confirm_expectations": (1, 10, "SAT", False, "Met expectations", "期望符合度"),
    "sat_vs_ideal": (1, 10, "SAT", False, "Close to the ideal retailer", "与理想对比"),
    "comp_voiced": (1, 10, "COMP", False, "Voiced dissatisfaction (high = more)", "抱怨表达"),
    "comp_problems": (1, 10, "COMP", False, "Problems experienced (high = more)", "问题经历"),
    "loy_repurchase": (1, 10, "LOY", False, "Likelihood to buy again", "再购意愿"),
    "loy_price_tolerance": (1, 10, "LOY", False, "Would stay after a price rise", "价格容忍度"),
    "recommend_0_10": (0, 10, "LOY", False, "Likelihood to recommend (NPS item)", "推荐意愿"),
    "q_product_quality": (1, 5, "product", False, "Product quality is good", "产品质量"),
    "q_product_reliability": (1, 5, "product", False, "Products work reliably", "产品可靠性"),
    "q_staff_attitude": (1, 5, "attitude", False, "Staff attitude is good", "服务态度"),
    "q_staff_courtesy": (1, 5, "attitude", False, "Staff are courteous", "员工礼貌"),
    "q_service_efficiency": (1, 5, "efficiency", False, "Service is efficient", "服务效率"),
    "q_response_speed": (1, 5, "efficiency", False, "Responses are fast", "响应速度"),
    "q_wait_too_long": (1, 5, "efficiency", True, "I wait too long for help", "等待时间过长(反向题)"),
    "q_service_quality": (1, 5, "attitude+efficiency", False, "Overall service quality", "服务质量"),
    "q_purchase_experience": (1, 5, "purchase", False, "Buying is a pleasant experience", "购买体验"),
    "q_checkout_ease": (1, 5, "purchase", False, "Checkout is easy", "结算便利"),
    "q_hard_to_find": (1, 5, "purchase", True, "Products are hard to find", "商品难找(反向题)"),
    "q_price_fairness": (1, 5, "price", False, "Prices are reasonable", "价格合理性"),
    "q_price_competitive": (1, 5, "price", False, "Prices are competitive", "价格竞争力"),
    "q_trust": (1, 5, "emotion", False, "I trust the company", "信任"),
    "q_emotional_connection": (1, 5, "emotion", False, "I feel connected to the brand", "情感联系"),
    "q_positive_feelings": (1, 5, "emotion", False, "Shopping here makes me feel good", "积极情绪"),
    "csat_1_5": (1, 5, "SAT", False, "Overall CSAT", "顾客满意度评分"),
    "effort_1_7": (1, 7, "effort", False, "Effort needed to get things done (high = more)", "客户费力度"),
}
QUESTIONNAIRE: pd.DataFrame = pd.DataFrame.from_dict(
    _QUESTIONNAIRE, orient="index",
    columns=["low", "high", "construct", "reverse", "wording", "chinese"]).rename_axis("item")
"""The kit's questionnaire: one row per item with its scale, construct and reverse keying."""

CONSTRUCT_ITEMS: dict[str, list[str]] = {
    # ACSI block (1-10; the recommend item is 0-10)
    "EXP": ["exp_overall", "exp_customization", "exp_reliability"],
    "PQ": ["pq_overall", "pq_customization", "pq_reliability"],
    "PV": ["pv_price_given_quality", "pv_quality_given_price"],
    "SAT": ["sat_overall", "sat_confirm_expectations", "sat_vs_ideal"],
    "COMP": ["comp_voiced", "comp_problems"],
    "LOY": ["loy_repurchase", "loy_price_tolerance", "recommend_0_10"],
}
"""Items of each ACSI construct (expectation, perceived quality and value, satisfaction,
complaints, loyalty)."""

DRIVER_ITEMS: dict[str, list[str]] = {
    "product": ["q_product_quality", "q_product_reliability"],
    "attitude": ["q_staff_attitude", "q_staff_courtesy"],
    "efficiency": ["q_service_efficiency", "q_response_speed", "q_wait_too_long"],
    "purchase": ["q_purchase_experience", "q_checkout_ease", "q_hard_to_find"],
    "price": ["q_price_fairness", "q_price_competitive"],
    "emotion": ["q_trust", "q_emotional_connection", "q_positive_feelings"],
}
"""Touchpoint items of each satisfaction driver. ``q_service_quality`` spans attitude and
efficiency, so it is left out of the driver scores (it is used by the S000 §5.3 framework)."""

FRAMEWORKS: dict[str, dict] = {
    "S000 §5.3": {
        "title": "Service attitude / efficiency / quality (服务态度 / 服务效率 / 服务质量)",
        "dimensions": {
            "service attitude": ["q_staff_attitude", "q_staff_courtesy"],
            "service efficiency": ["q_service_efficiency", "q_response_speed", "q_wait_too_long"],
            # the source's "quality" covers what is delivered: the overall service-quality
            # item plus the product items (the only quality items on the questionnaire)
            "service quality": ["q_service_quality", "q_product_quality", "q_product_reliability"],
        },
    },
    "S000 §8.1": {
        "title": "Product / service / purchase-experience satisfaction (产品 / 服务 / 购买体验满意度)",
        "dimensions": {
            "product": ["q_product_quality", "q_product_reliability"],
            "service": ["q_staff_attitude", "q_staff_courtesy", "q_service_efficiency",
                        "q_response_speed", "q_wait_too_long", "q_service_quality"],
            "purchase experience": ["q_purchase_experience", "q_checkout_ease", "q_hard_to_find"],
        },
    },
    "S002 Ch2 §3": {
        "title": "Service quality / interaction experience / emotional factors (服务质量 / 互动体验 / 情感因素)",
        "dimensions": {
            # product performance, reliability and ease of use
            "service quality": ["q_product_quality", "q_product_reliability", "q_checkout_ease"],
            # communication efficiency, staff attitude, response speed
            "interaction experience": ["q_staff_attitude", "q_staff_courtesy", "q_service_efficiency",
                                       "q_response_speed", "q_wait_too_long"],
            # trust, connection and positive emotions; S002 also lists loyalty here, which
            # would make the model circular (loyalty is an outcome), so it is left out
            "emotional factors": ["q_trust", "q_emotional_connection", "q_positive_feelings"],
        },
    },
}
"""The three satisfaction frameworks of the source texts, each mapped onto the one
questionnaire (``QUESTIONNAIRE``): framework -> {"title", "dimensions": {name: items}}."""

IPA_LABELS: dict[tuple[bool, bool], str] = {
    # (high importance, high performance) -> action (Martilla & James 1977)
    (True, False): "Concentrate here",
    (True, True): "Keep up the good work",
    (False, False): "Low priority",
    (False, True): "Possible overkill",
}
"""The four IPA actions: 重点改进 / 继续保持 / 低优先级 / 可能过度投入."""

_NPS_ITEM = "recommend_0_10"


# ------------------------------------------------------------------------------------
# validation and scoring
# ------------------------------------------------------------------------------------
def _as_list(items, name: str) -> list[str]:
    if isinstance(items, str):
        return [items]
    if items is None:
        raise ParameterError(f"{name} is required", fix=f"pass {name} as a list of column names")
    out = list(items)
    if not out:
        raise ParameterError(f"{name} is empty", fix=f"pass at least one column in {name}")
    return out


def item_scale(item: str, scales: Mapping[str, tuple[float, float]] | None = None) -> tuple[float, float]:
    """The (low, high) answer range of ``item``: from ``scales`` if given, else ``QUESTIONNAIRE``.

    >>> item_scale("recommend_0_10")
    (0, 10)
    """
    if scales is not None and item in scales:
        lo, hi = scales[item]
    elif item in QUESTIONNAIRE.index:
        lo, hi = QUESTIONNAIRE.loc[item, ["low", "high"]]
    else:
        raise ParameterError(
            f"the answer scale of {item!r} is unknown (it is not in crmlab.satisfaction.QUESTIONNAIRE)",
            fix=f"pass scales={{{item!r}: (low, high)}}, e.g. (1, 5) for a five-point item")
    lo, hi = (v.item() if isinstance(v, np.generic) else v for v in (lo, hi))
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ParameterError(f"scale of {item!r} must satisfy low < high, got ({lo}, {hi})",
                             fix="pass scales={item: (low, high)} with low < high")
    return lo, hi


def validate_responses(df: pd.DataFrame, items: Sequence[str], *, scales=None, name: str = "survey",
                       allow_nan: bool = True, min_rows: int = 1) -> None:
    """Check that ``items`` exist, are numeric and every answer lies on the item's scale.

    Answers outside the scale (a "99 = don't know" code, a 0 on a 1-5 item) raise
    :class:`~crmlab.errors.DataValidationError`; so does NaN when ``allow_nan=False``.

    >>> import pandas as pd
    >>> validate_responses(pd.DataFrame({"q_trust": [1, 5, 9]}), ["q_trust"])
    Traceback (most recent call last):
    ...
    crmlab.errors.DataValidationError: survey['q_trust'] has 1 answers outside [1, 5] (first at row 2: 9). Fix: recode or drop them; answers must lie in [1, 5]
    """
    items = _as_list(items, "items")
    require_columns(df, items, name)
    check_not_empty(df, name, min_rows)
    check_numeric(df, items, name)
    for it in items:
        lo, hi = item_scale(it, scales)
        check_in_range(df, it, lo, hi, name=name, what="answers")
        if df[it].isna().all():
            raise DataValidationError(f"{name}[{it!r}] has no answers at all (every value is missing)",
                                      fix=f"drop {it!r} from the items or check how the survey was merged")
    if not allow_nan:
        check_no_nan(df, items, name)


def reverse_code(df: pd.DataFrame, items: Sequence[str] | None = None, *, scales=None,
                 name: str = "survey") -> pd.DataFrame:
    """Return a copy with reverse-keyed items flipped: ``low + high - answer``.

    ``items`` defaults to the reverse-keyed items of ``QUESTIONNAIRE`` present in ``df``.
    Call it once: flipping twice restores the original answers.

    >>> import pandas as pd
    >>> reverse_code(pd.DataFrame({"q_wait_too_long": [1, 2, 5]}))["q_wait_too_long"].tolist()
    [5, 4, 1]
    """
    if items is None:
        rev = QUESTIONNAIRE.index[QUESTIONNAIRE["reverse"]]
        items = [c for c in rev if isinstance(df, pd.DataFrame) and c in df.columns]
    else:
        items = _as_list(items, "items")
    out = df.copy()
    if not items:
        return out
    validate_responses(df, items, scales=scales, name=name)
    for it in items:
        lo, hi = item_scale(it, scales)
        out[it] = lo + hi - df[it]
    return out


def _pomp(df: pd.DataFrame, items: Sequence[str], scales) -> pd.DataFrame:
    """Percent of maximum possible: each item rescaled to 0-100."""
    out = {}
    for it in items:
        lo, hi = item_scale(it, scales)
        out[it] = 100.0 * (df[it] - lo) / (hi - lo)
    return pd.DataFrame(out, index=df.index)


def scale_scores(df: pd.DataFrame, scales: Mapping[str, Sequence[str]] | None = None, *,
                 item_scales=None, to_100: bool = False, reverse: bool = True,
                 min_answered: float = 0.5, name: str = "survey") -> pd.DataFrame:
    """One score per respondent and scale: the mean of its items (reverse-keyed items flipped).

    Parameters
    ----------
    df : DataFrame
        One row per response.
    scales : dict, optional
        Scale name -> items; default ``DRIVER_ITEMS``.
    item_scales : dict, optional
        ``{item: (low, high)}`` for items not in ``QUESTIONNAIRE``.
    to_100 : bool
        Rescale every item to 0-100 before averaging (percent of maximum possible), so
        scales with different answer ranges are comparable.
    reverse : bool
        Flip reverse-keyed items (``QUESTIONNAIRE.reverse``) first.
    min_answered : float
        A score is computed only when at least this share of the scale's items is answered.

    >>> import pandas as pd
    >>> d = pd.DataFrame({"q_trust": [5, 1], "q_positive_feelings": [4, 1]})
    >>> scale_scores(d, {"emotion": ["q_trust", "q_positive_feelings"]}, to_100=True)["emotion"].tolist()
    [87.5, 0.0]
    """
    scales = dict(DRIVER_ITEMS if scales is None else scales)
    if not scales:
        raise ParameterError("scales is empty", fix="pass {scale name: [items]}")
    check_probability(min_answered, "min_answered")
    all_items = list(dict.fromkeys(it for its in scales.values() for it in _as_list(its, "scale items")))
    validate_responses(df, all_items, scales=item_scales, name=name)
    data = df[all_items]
    if reverse:
        rev = [c for c in all_items if c in QUESTIONNAIRE.index and QUESTIONNAIRE.loc[c, "reverse"]]
        data = reverse_code(data, rev, scales=item_scales, name=name) if rev else data
    if to_100:
        data = _pomp(data, all_items, item_scales)
    out = {}
    for sc, its in scales.items():
        its = _as_list(its, "scale items")
        block = data[its]
        answered = block.notna().mean(axis=1)
        out[sc] = block.mean(axis=1).where(answered >= min_answered)
    return pd.DataFrame(out, index=df.index)


# ------------------------------------------------------------------------------------
# reliability
# ------------------------------------------------------------------------------------
def _alpha_from_cov(cov: np.ndarray) -> float:
    k = cov.shape[0]
    total = cov.sum()
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def _reliability_block(df: pd.DataFrame, items, scales, reverse: bool, name: str) -> pd.DataFrame:
    items = _as_list(items, "items")
    if len(items) < 2:
        raise ParameterError(f"Cronbach's alpha needs at least 2 items, got {items}",
                             fix="pass two or more items that measure the same construct")
    validate_responses(df, items, scales=scales, name=name)
    block = df[items]
    if reverse:
        rev = [c for c in items if c in QUESTIONNAIRE.index and QUESTIONNAIRE.loc[c, "reverse"]]
        if rev:
            block = reverse_code(block, rev, scales=scales, name=name)
    block = block.dropna().astype(float)  # listwise deletion
    if len(block) < 3:
        raise DataValidationError(
            f"{name} has only {len(block)} complete response(s) on {items}; alpha needs at least 3",
            fix="use more responses or drop the item with most missing answers")
    sd = block.std(ddof=1)
    const = sd.index[sd.to_numpy() == 0].tolist()
    if const:
        raise DataValidationError(
            f"{name} item(s) {const} are constant (every respondent gave the same answer): alpha and "
            "item-total correlations are undefined for them",
            fix="drop constant items before computing reliability; they carry no information")
    return block


def cronbach_alpha(df: pd.DataFrame, items: Sequence[str], *, ci: float = 0.95, method: str = "feldt",
                   n_boot: int = 1000, seed=0, reverse: bool = True, scales=None,
                   name: str = "survey") -> pd.Series:
    """Cronbach's alpha (内部一致性信度) with a confidence interval.

    alpha = k/(k-1) * (1 - sum of item variances / variance of the total). Rows with a
    missing answer on any item are dropped (listwise). Reverse-keyed items are flipped
    first (``reverse=True``); a negative alpha usually means an unflipped item.

    Parameters
    ----------
    method : {"feldt", "bootstrap"}
        ``"feldt"``: exact F-distribution interval (Feldt 1965) under normality;
        ``"bootstrap"``: percentile interval over ``n_boot`` resamples of respondents.

    Returns
    -------
    Series with alpha, ci_low, ci_high, n (respondents), k (items); ``.attrs["method"]``.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=300)
    >>> d = pd.DataFrame({f"i{j}": np.clip(np.rint(3 + f + rng.normal(size=300)), 1, 5) for j in range(4)})
    >>> r = cronbach_alpha(d, list(d), scales={c: (1, 5) for c in d})
    >>> round(float(r["alpha"]), 2), bool(r["ci_low"] < r["alpha"] < r["ci_high"])
    (0.7, True)
    """
    check_probability(ci, "ci", open_interval=True)
    if method not in ("feldt", "bootstrap"):
        raise ParameterError(f"method must be 'feldt' or 'bootstrap', got {method!r}",
                             fix="use method='feldt' (fast, exact under normality) or 'bootstrap'")
    block = _reliability_block(df, items, scales, reverse, name)
    x = block.to_numpy()
    n, k = x.shape
    alpha = _alpha_from_cov(np.cov(x, rowvar=False))
    g = 1 - ci
    if method == "feldt":
        df1, df2 = n - 1, (n - 1) * (k - 1)
        lo = 1 - (1 - alpha) * stats.f.ppf(1 - g / 2, df1, df2)
        hi = 1 - (1 - alpha) * stats.f.ppf(g / 2, df1, df2)
    else:
        check_scalar(n_boot, "n_boot", int, 50)
        rng = check_random_state(seed)
        boots = np.empty(n_boot)
        for b in range(n_boot):
            xb = x[rng.integers(0, n, n)]
            c = np.cov(xb, rowvar=False)
            boots[b] = _alpha_from_cov(c) if c.sum() > 0 else np.nan
        lo, hi = np.nanquantile(boots, [g / 2, 1 - g / 2])
    out = pd.Series({"alpha": alpha, "ci_low": float(lo), "ci_high": float(hi), "n": n, "k": k},
                    name="cronbach_alpha")
    out.attrs["method"] = method
    return out


def item_analysis(df: pd.DataFrame, items: Sequence[str], *, reverse: bool = True, scales=None,
                  name: str = "survey") -> pd.DataFrame:
    """Per-item statistics of a scale: mean, SD, corrected item-total correlation, alpha if deleted.

    The corrected item-total correlation (校正的项目-总分相关) correlates an item with the sum
    of the *other* items; values below about 0.3 flag an item that does not fit the scale.
    Every column uses the same complete cases (listwise, like alpha); ``mean`` and ``sd`` are
    of the answers as given, before reverse-keying, so they read on the questionnaire's scale.

    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [1, 3, 3, 5, 5], "c": [2, 2, 3, 4, 4]})
    >>> item_analysis(d, ["a", "b", "c"], scales={c: (1, 5) for c in "abc"})["item_total_r"].round(2).tolist()
    [0.97, 0.94, 0.93]
    """
    block = _reliability_block(df, items, scales, reverse, name)
    raw = df.loc[block.index, list(block.columns)].astype(float)
    x = block.to_numpy()
    total = x.sum(axis=1)
    rows = []
    for j, it in enumerate(block.columns):
        rest = total - x[:, j]
        r = float(np.corrcoef(x[:, j], rest)[0, 1]) if np.std(rest) > 0 else np.nan
        others = np.delete(x, j, axis=1)
        a_del = _alpha_from_cov(np.cov(others, rowvar=False)) if others.shape[1] >= 2 else np.nan
        rows.append({"item": it, "reverse_keyed": bool(it in QUESTIONNAIRE.index and QUESTIONNAIRE.loc[it, "reverse"]),
                     "mean": float(raw[it].mean()), "sd": float(raw[it].std()),
                     "item_total_r": r, "alpha_if_deleted": a_del})
    return pd.DataFrame(rows).set_index("item")


def reliability_table(df: pd.DataFrame, scales: Mapping[str, Sequence[str]] | None = None, *,
                      ci: float = 0.95, scales_of_items=None, name: str = "survey") -> pd.DataFrame:
    """Cronbach's alpha (Feldt interval) of several scales; scales with one item get NaN.

    ``scales`` defaults to ``CONSTRUCT_ITEMS`` plus ``DRIVER_ITEMS``.
    """
    scales = dict(scales) if scales is not None else {**CONSTRUCT_ITEMS, **DRIVER_ITEMS}
    rows = []
    for sc, its in scales.items():
        its = _as_list(its, "scale items")
        if len(its) < 2:
            rows.append({"scale": sc, "k": len(its), "n": int(df[its].dropna().shape[0]),
                         "alpha": np.nan, "ci_low": np.nan, "ci_high": np.nan})
            continue
        r = cronbach_alpha(df, its, ci=ci, scales=scales_of_items, name=name)
        rows.append({"scale": sc, "k": int(r["k"]), "n": int(r["n"]), "alpha": r["alpha"],
                     "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
    return pd.DataFrame(rows).set_index("scale")


# ------------------------------------------------------------------------------------
# CSAT, effort
# ------------------------------------------------------------------------------------
def _wilson(k: float, n: int, ci: float) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + ci / 2)
    p = k / n
    den = 1 + z ** 2 / n
    centre = (p + z ** 2 / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / den
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def _grouped(df: pd.DataFrame, by, fn) -> pd.DataFrame:
    if by is None:
        out = fn(df).to_frame().T.reset_index(drop=True)
    else:
        require_columns(df, by, "survey")
        parts = {key: fn(g) for key, g in df.groupby(by, observed=True, sort=True)}
        out = pd.DataFrame(parts).T
        out.index.names = [by] if isinstance(by, str) else list(by)
    for col in ("n", "k"):
        if col in out:
            out[col] = out[col].astype(int)
    return out


def top_box(answers: pd.Series, scale: tuple[int, int] = (1, 5), *, top: int = 2,
            ci: float = 0.95) -> pd.Series:
    """Share of answers in the top ``top`` boxes of ``scale`` with a Wilson interval.

    >>> import pandas as pd
    >>> r = top_box(pd.Series([5, 4, 4, 3, 2, 5, 1, 4]), (1, 5))
    >>> float(r["share"]), int(r["n"])
    (0.625, 8)
    """
    check_probability(ci, "ci", open_interval=True)
    s = pd.Series(answers)
    lo, hi = scale
    check_scalar(top, "top", int, 1, hi - lo)
    frame = s.to_frame("answer")
    validate_responses(frame, ["answer"], scales={"answer": (lo, hi)}, name="answers")
    s = s.dropna()
    n = len(s)
    k = int((s >= hi - top + 1).sum())
    low, high = _wilson(k, n, ci)
    return pd.Series({"share": k / n, "ci_low": low, "ci_high": high, "n": n}, name="top_box")


def csat_score(df: pd.DataFrame, column: str = "csat_1_5", *, by=None, top: int = 2, ci: float = 0.95,
               scales=None) -> pd.DataFrame:
    """CSAT (满意度得分): mean answer and top-box share (Wilson interval), optionally by group.

    >>> import pandas as pd
    >>> csat_score(pd.DataFrame({"csat_1_5": [5, 4, 3, 4]}))[["mean", "top2_share"]].round(3).values.tolist()
    [[4.0, 0.75]]
    """
    lo, hi = item_scale(column, scales)
    validate_responses(df, [column], scales=scales)

    def one(g):
        tb = top_box(g[column], (lo, hi), top=top, ci=ci)
        return pd.Series({"mean": float(g[column].mean()), f"top{top}_share": tb["share"],
                          "ci_low": tb["ci_low"], "ci_high": tb["ci_high"], "n": int(tb["n"])})
    return _grouped(df, by, one)


def effort_score(df: pd.DataFrame, column: str = "effort_1_7", *, by=None, high_from: int = 5,
                 ci: float = 0.95, scales=None) -> pd.DataFrame:
    """Customer effort score (客户费力度, CES): mean with a t interval and the high-effort share.

    High effort = an answer of ``high_from`` or more (on the default 1-7 item: 5, 6 or 7).
    Lower is better: effort is a cost the customer pays (S002 Ch5 §2, delivered value).
    """
    lo, hi = item_scale(column, scales)
    check_scalar(high_from, "high_from", (int, float), lo, hi)
    check_probability(ci, "ci", open_interval=True)
    validate_responses(df, [column], scales=scales)

    def one(g):
        s = g[column].dropna().astype(float)
        n = len(s)
        m = float(s.mean())
        half = float(stats.t.ppf(0.5 + ci / 2, n - 1) * s.std(ddof=1) / math.sqrt(n)) if n > 1 else np.nan
        return pd.Series({"mean": m, "ci_low": m - half, "ci_high": m + half,
                          "high_effort_share": float((s >= high_from).mean()), "n": n})
    return _grouped(df, by, one)


# ------------------------------------------------------------------------------------
# NPS
# ------------------------------------------------------------------------------------
def _nps_scores(scores, name: str = "scores") -> np.ndarray:
    s = pd.Series(scores)
    if not (pd.api.types.is_numeric_dtype(s) or s.isna().all()):
        raise DataValidationError(f"{name} must be numeric 0-10 answers, got dtype {s.dtype}",
                                  fix="convert with pd.to_numeric(...) first")
    s = s.dropna()
    if len(s) == 0:
        raise DataValidationError(f"{name} has no answers (empty or all missing)",
                                  fix="pass the likelihood-to-recommend column of at least one respondent")
    frame = s.to_frame(name)
    check_in_range(frame, name, 0, 10, name="nps", what="likelihood-to-recommend scores")
    frac = (s != np.round(s)).to_numpy()
    if frac.any():
        raise DataValidationError(
            f"{name} has {int(frac.sum())} non-integer score(s) (first: {s[frac].iloc[0]!r}); "
            "NPS needs whole-number answers on 0-10",
            fix="pass the raw 0-10 answers, not averages; round them only if the survey recorded them so")
    return s.to_numpy(dtype=float)


def nps_categories(scores) -> pd.Series:
    """Promoter (9-10, 推荐者), passive (7-8, 中立者) or detractor (0-6, 贬损者) for each answer.

    >>> nps_categories([10, 8, 3]).tolist()
    ['promoter', 'passive', 'detractor']
    """
    s = _nps_scores(scores)
    cat = np.where(s >= 9, "promoter", np.where(s >= 7, "passive", "detractor"))
    return pd.Series(pd.Categorical(cat, categories=["detractor", "passive", "promoter"]), name="nps_category")


def _nps_parts(s: np.ndarray) -> tuple[float, float, int]:
    n = len(s)
    return float((s >= 9).mean()), float((s <= 6).mean()), n


def _nps_se(p: float, d: float, n: int) -> float:
    """SE of NPS/100 = p - d under multinomial sampling: var = (p + d - (p - d)^2) / n."""
    return math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)


def _nps_boot(p: float, d: float, n: int, n_boot: int, rng) -> np.ndarray:
    """NPS (0-100 scale) of ``n_boot`` resamples; resampling respondents = multinomial counts."""
    probs = np.array([p, max(1 - p - d, 0.0), d])
    counts = rng.multinomial(n, probs / probs.sum(), size=n_boot)
    return 100.0 * (counts[:, 0] - counts[:, 2]) / n


def nps(scores, *, ci: float = 0.95, method: str = "analytic", n_boot: int = 2000, seed=0) -> pd.Series:
    """Net Promoter Score (净推荐值): % promoters (9-10) minus % detractors (0-6), with an interval.

    Parameters
    ----------
    scores : array-like
        0-10 likelihood-to-recommend answers (missing values are dropped).
    method : {"analytic", "bootstrap"}
        ``"analytic"``: normal interval with the multinomial standard error
        ``100 * sqrt((p + d - (p - d)^2) / n)``; ``"bootstrap"``: percentile interval of
        ``n_boot`` resamples of respondents (seeded).

    Returns
    -------
    Series: nps, promoters, passives, detractors (shares in %), n, se, ci_low, ci_high;
    ``.attrs["method"]`` names the interval.

    >>> r = nps([10, 9, 8, 7, 3] * 40, method="bootstrap", seed=1)
    >>> float(r["nps"]), round(float(r["se"]), 1)
    (20.0, 5.4)
    """
    check_probability(ci, "ci", open_interval=True)
    if method not in ("analytic", "bootstrap"):
        raise ParameterError(f"method must be 'analytic' or 'bootstrap', got {method!r}",
                             fix="use method='analytic' (fast) or method='bootstrap' with n_boot and seed")
    s = _nps_scores(scores)
    p, d, n = _nps_parts(s)
    value = 100.0 * (p - d)
    g = 1 - ci
    if method == "analytic":
        se = 100.0 * _nps_se(p, d, n)
        z = stats.norm.ppf(1 - g / 2)
        lo, hi = value - z * se, value + z * se
    else:
        check_scalar(n_boot, "n_boot", int, 100)
        boots = _nps_boot(p, d, n, n_boot, check_random_state(seed))
        se = float(boots.std(ddof=1))
        lo, hi = np.quantile(boots, [g / 2, 1 - g / 2])
    out = pd.Series({"nps": value, "promoters": 100 * p, "passives": 100 * (1 - p - d),
                     "detractors": 100 * d, "n": n, "se": se, "ci_low": max(float(lo), -100.0),
                     "ci_high": min(float(hi), 100.0)}, name="nps")
    out.attrs["method"] = method
    return out


def nps_table(df: pd.DataFrame, column: str = _NPS_ITEM, *, by=None, ci: float = 0.95,
              method: str = "analytic", n_boot: int = 2000, seed=0) -> pd.DataFrame:
    """NPS with its interval for the whole table or for each group of ``by``."""
    require_columns(df, [column], "survey")
    check_not_empty(df, "survey")
    return _grouped(df, by, lambda g: nps(g[column], ci=ci, method=method, n_boot=n_boot, seed=seed))


def _nps_keyed(scores, ids, name: str) -> pd.Series:
    """Scores indexed by respondent id (missing answers dropped), ids checked."""
    s = pd.Series(scores).reset_index(drop=True)
    keys = pd.Series(ids).reset_index(drop=True)
    if len(keys) != len(s):
        raise ParameterError(f"ids_{name} has {len(keys)} entries but {name} has {len(s)} scores",
                             fix=f"pass one respondent id per score in {name} (e.g. survey['customer_id'])")
    if keys.isna().any():
        raise DataValidationError(f"ids_{name} has {int(keys.isna().sum())} missing id(s)",
                                  fix="drop the responses without a customer id, or do not pass ids")
    keep = s.notna().to_numpy()
    keys = keys[keep]
    if keys.duplicated().any():
        raise DataValidationError(
            f"ids_{name} repeats {int(keys.duplicated().sum())} id(s) (first: {keys[keys.duplicated()].iloc[0]!r}): "
            "a respondent may answer only once per sample",
            fix="keep one answer per customer and sample, e.g. the latest: df.drop_duplicates('customer_id', keep='last')")
    vals = _nps_scores(s, name)
    return pd.Series(vals, index=pd.Index(keys.to_numpy(), name="id"))


def _nps_code(x: np.ndarray) -> np.ndarray:
    """Promoter +1, passive 0, detractor -1: NPS / 100 is the mean of this code."""
    return np.where(x >= 9, 1.0, np.where(x <= 6, -1.0, 0.0))


def nps_difference(a, b, *, ids_a=None, ids_b=None, ci: float = 0.95, method: str = "analytic",
                   n_boot: int = 2000, seed=0) -> pd.Series:
    """Test whether NPS differs between two samples (waves, segments): b - a.

    Two designs:

    * **independent samples** (two segments, or two waves with different respondents):
      the analytic test is a two-sample z test with the multinomial variances; the
      bootstrap resamples each sample independently;
    * **partially overlapping samples** (a panel: some customers answer both waves): pass
      ``ids_a`` and ``ids_b`` (e.g. ``customer_id``). With each answer coded +1 / 0 / -1
      (promoter / passive / detractor), Var(NPS_b - NPS_a) = Var_a + Var_b - 2 Cov with
      Cov = n_ab * cov(code_a, code_b) / (n_a * n_b) over the n_ab customers in both
      samples (the partially-overlapping-samples z test). Repeat respondents answer
      alike, so the covariance is positive and the test is more powerful than dropping
      them; ignoring the overlap overstates the variance. The bootstrap resamples the
      repeat customers (keeping their two answers together) and the one-sample customers
      separately.

    Returns
    -------
    Series: nps_a, nps_b, difference, se, z, p_value, ci_low, ci_high, n_a, n_b,
    n_overlap, overlap_corr (correlation of the repeat customers' codes; NaN without
    ids); ``.attrs["method"]`` and ``.attrs["design"]``.

    >>> r = nps_difference([9, 10, 6, 7] * 50, [9, 10, 9, 7] * 50)
    >>> float(r["difference"]), bool(r["p_value"] < 0.05)
    (50.0, True)
    >>> p = nps_difference([9, 6, 10, 3], [10, 6, 9, 8], ids_a=[1, 2, 3, 4], ids_b=[1, 2, 3, 5])
    >>> int(p["n_overlap"]), p.attrs["design"]
    (3, 'overlapping')
    """
    check_probability(ci, "ci", open_interval=True)
    if method not in ("analytic", "bootstrap"):
        raise ParameterError(f"method must be 'analytic' or 'bootstrap', got {method!r}",
                             fix="use method='analytic' or method='bootstrap'")
    if (ids_a is None) != (ids_b is None):
        raise ParameterError("pass both ids_a and ids_b (overlapping samples) or neither (independent samples)",
                             fix="give the respondent ids of both samples, e.g. the customer_id of each answer")
    g = 1 - ci
    z_crit = stats.norm.ppf(1 - g / 2)
    if ids_a is None:
        sa, sb = _nps_scores(a, "a"), _nps_scores(b, "b")
        n_ab, corr = 0, np.nan
    else:
        ka, kb = _nps_keyed(a, ids_a, "a"), _nps_keyed(b, ids_b, "b")
        both = ka.index.intersection(kb.index)
        n_ab = len(both)
        # order: the repeat customers first (aligned), then the one-sample customers
        sa = np.concatenate([ka.loc[both].to_numpy(), ka.drop(both).to_numpy()])
        sb = np.concatenate([kb.loc[both].to_numpy(), kb.drop(both).to_numpy()])
        corr = np.nan
    pa, da, na = _nps_parts(sa)
    pb, db, nb = _nps_parts(sb)
    diff = 100.0 * ((pb - db) - (pa - da))
    cov = 0.0
    if n_ab >= 2:
        ca, cb = _nps_code(sa[:n_ab]), _nps_code(sb[:n_ab])
        cov = float(np.mean((ca - ca.mean()) * (cb - cb.mean()))) * n_ab / (na * nb)
        if ca.std() > 0 and cb.std() > 0:
            corr = float(np.corrcoef(ca, cb)[0, 1])
    if method == "analytic":
        var = _nps_se(pa, da, na) ** 2 + _nps_se(pb, db, nb) ** 2 - 2 * cov
        se = 100.0 * math.sqrt(max(var, 0.0))
        lo, hi = diff - z_crit * se, diff + z_crit * se
    else:
        check_scalar(n_boot, "n_boot", int, 100)
        rng = check_random_state(seed)
        if n_ab == 0:
            boots = _nps_boot(pb, db, nb, n_boot, rng) - _nps_boot(pa, da, na, n_boot, rng)
        else:
            boots = _nps_boot_overlap(sa, sb, n_ab, n_boot, rng)
        se = float(boots.std(ddof=1))
        lo, hi = np.quantile(boots, [g / 2, 1 - g / 2])
    z = diff / se if se > 0 else np.nan
    p_value = float(2 * stats.norm.sf(abs(z))) if se > 0 else np.nan
    out = pd.Series({"nps_a": 100 * (pa - da), "nps_b": 100 * (pb - db), "difference": diff, "se": se,
                     "z": z, "p_value": p_value, "ci_low": float(lo), "ci_high": float(hi),
                     "n_a": na, "n_b": nb, "n_overlap": n_ab, "overlap_corr": corr}, name="nps_difference")
    out.attrs["method"] = method
    out.attrs["design"] = "independent" if ids_a is None else "overlapping"
    return out


def _nps_boot_overlap(sa: np.ndarray, sb: np.ndarray, n_ab: int, n_boot: int, rng) -> np.ndarray:
    """NPS_b - NPS_a of ``n_boot`` stratified resamples: repeat customers (the first ``n_ab``
    entries of both arrays, aligned) keep their pair of answers; the others are resampled
    within their own sample. Multinomial counts of the 9 joint categories = resampling."""
    na, nb = len(sa), len(sb)
    ca, cb = _nps_code(sa) + 1, _nps_code(sb) + 1  # 0 detractor, 1 passive, 2 promoter
    joint = np.bincount((3 * ca[:n_ab] + cb[:n_ab]).astype(int), minlength=9) / n_ab
    pair = rng.multinomial(n_ab, joint, size=n_boot).reshape(n_boot, 3, 3)  # [a category, b category]
    net_a = pair[:, 2, :].sum(axis=1) - pair[:, 0, :].sum(axis=1)
    net_b = pair[:, :, 2].sum(axis=1) - pair[:, :, 0].sum(axis=1)
    for codes, n_one, net in ((ca[n_ab:], na - n_ab, net_a), (cb[n_ab:], nb - n_ab, net_b)):
        if n_one:
            f = np.bincount(codes.astype(int), minlength=3) / n_one
            c = rng.multinomial(n_one, f, size=n_boot)
            net += c[:, 2] - c[:, 0]
    return 100.0 * (net_b / nb - net_a / na)


def nps_item_probabilities(latent, *, mean: float, sd: float, loading: float) -> pd.DataFrame:
    """P(promoter), P(passive), P(detractor) of each customer under a latent item model.

    The model (the one the kit's generator uses): the 0-10 answer is
    ``clip(round(mean + sd * (loading * latent + sqrt(1 - loading^2) * e)))`` with e
    standard normal, so P(promoter) = P(answer >= 9) = P(mean + sd * x > 8.5) and
    P(detractor) = P(answer <= 6) = P(mean + sd * x < 6.5).

    >>> nps_item_probabilities([0.0], mean=7.6, sd=2.0, loading=0.85).round(3).values.tolist()
    [[0.196, 0.655, 0.148]]
    """
    eta = np.asarray(latent, dtype=float)
    if eta.ndim != 1 or not np.all(np.isfinite(eta)):
        raise DataValidationError("latent must be a 1-D array of finite numbers",
                                  fix="drop missing latent values first (e.g. B2B customers)")
    check_scalar(sd, "sd", (int, float), 0, low_inclusive=False)
    check_scalar(loading, "loading", (int, float), -1, 1, low_inclusive=False, high_inclusive=False)
    check_scalar(mean, "mean", (int, float))
    res = sd * math.sqrt(1 - loading ** 2)
    centre = mean + sd * loading * eta
    pro = stats.norm.sf((8.5 - centre) / res)
    det = stats.norm.cdf((6.5 - centre) / res)
    return pd.DataFrame({"promoter": pro, "passive": 1 - pro - det, "detractor": det})


def nps_coverage_simulation(probabilities, n: int | None = None, *, weights=None, n_sim: int = 1000,
                            ci: float = 0.95, method: str = "analytic", n_boot: int = 1000,
                            seed=0, keep_intervals: bool = False) -> pd.Series:
    """How often does the NPS interval cover the true NPS? A seeded Monte-Carlo check.

    Parameters
    ----------
    probabilities : array-like
        Either 11 probabilities of the answers 0..10 (an infinite population: each
        simulated survey draws ``n`` answers), or an ``(m, 3)`` array (or DataFrame from
        :func:`nps_item_probabilities`) of each customer's (promoter, passive, detractor)
        probabilities: a finite population of m customers.
    n : int, optional
        Respondents per simulated survey. For the ``(m, 3)`` form, ``n=None`` keeps the
        same m respondents in every simulation (only their answers are random), which
        removes the between-customer variance: the usual interval then over-covers the
        expected NPS of *these* respondents. With ``n``, each survey draws n customers at
        random (with replacement), the design the interval assumes.
    weights : array-like, optional
        Response propensities of the m customers (``(m, 3)`` form with ``n``): customers
        are drawn with probability proportional to them, as when satisfied customers
        answer more often. The interval then targets the *respondent* population
        (``respondent_nps``), not the customer base (``true_nps``): non-response bias.
    method : {"analytic", "bootstrap"}
    keep_intervals : bool
        Keep every simulated estimate and interval in ``result.attrs["intervals"]``
        (a DataFrame with estimate, ci_low, ci_high), e.g. to draw them.

    Returns
    -------
    Series: true_nps (population), respondent_nps (what a respondent sample estimates),
    mean_estimate, bias (mean estimate - true), coverage (of true_nps),
    coverage_respondent (of respondent_nps), coverage_mc_se, mean_width, nominal, n, n_sim.

    >>> p = [0.02] * 7 + [0.12, 0.2, 0.25, 0.29]   # answers 0..10
    >>> r = nps_coverage_simulation(p, 400, n_sim=400, seed=3)
    >>> round(float(r["true_nps"]), 1), bool(abs(r["coverage"] - 0.95) < 0.04)
    (40.0, True)
    """
    check_probability(ci, "ci", open_interval=True)
    check_scalar(n_sim, "n_sim", int, 10)
    if method not in ("analytic", "bootstrap"):
        raise ParameterError(f"method must be 'analytic' or 'bootstrap', got {method!r}",
                             fix="use method='analytic' or method='bootstrap'")
    rng = check_random_state(seed)
    P = np.asarray(probabilities, dtype=float)
    if P.ndim == 1:
        if P.shape[0] != 11 or np.any(P < 0) or not np.isclose(P.sum(), 1):
            raise ParameterError("probabilities must be 11 non-negative numbers (answers 0..10) summing to 1",
                                 fix="pass e.g. survey['recommend_0_10'].value_counts(normalize=True)"
                                     ".reindex(range(11), fill_value=0)")
        if weights is not None:
            raise ParameterError("weights need a finite population", fix="pass an (m, 3) array of probabilities")
        check_scalar(n, "n", int, 2)
        pro, det = P[9:].sum(), P[:7].sum()
        cat_p = np.array([pro, 1 - pro - det, det])
        counts = rng.multinomial(n, cat_p / cat_p.sum(), size=n_sim)
        true = resp_true = 100 * (pro - det)
        size = n
    elif P.ndim == 2 and P.shape[1] == 3:
        if np.any(P < 0) or not np.allclose(P.sum(axis=1), 1):
            raise ParameterError("each row of probabilities must be (promoter, passive, detractor) summing to 1",
                                 fix="normalise the rows: P / P.sum(axis=1, keepdims=True)")
        m = P.shape[0]
        if m < 2:
            raise ParameterError("need at least 2 customers", fix="pass one row per customer")
        true = 100 * (P[:, 0].mean() - P[:, 2].mean())
        if n is None:
            if weights is not None:
                raise ParameterError("weights need n (respondents are drawn from the population)",
                                     fix="pass n, the number of respondents per simulated survey")
            rows = np.broadcast_to(np.arange(m), (n_sim, m))
            resp_true, size = true, m
        else:
            check_scalar(n, "n", int, 2)
            if weights is None:
                w = np.full(m, 1.0 / m)
            else:
                w = np.asarray(weights, dtype=float)
                if w.shape != (m,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
                    raise ParameterError("weights must be m finite non-negative numbers, not all zero",
                                         fix="pass one response propensity per customer")
                w = w / w.sum()
            rows = rng.choice(m, size=(n_sim, n), p=w)
            resp_true = 100 * (w @ P[:, 0] - w @ P[:, 2])
            size = n
        cum = np.cumsum(P, axis=1)[:, :2]
        u = rng.random((n_sim, size))
        cat = (u[:, :, None] > cum[rows]).sum(axis=2)  # 0 promoter, 1 passive, 2 detractor
        counts = np.stack([(cat == j).sum(axis=1) for j in range(3)], axis=1)
    else:
        raise ParameterError(f"probabilities must have shape (11,) or (m, 3), got {P.shape}",
                             fix="pass answer probabilities over 0..10 or per-customer category probabilities")
    p_hat, d_hat = counts[:, 0] / size, counts[:, 2] / size
    est = 100 * (p_hat - d_hat)
    g = 1 - ci
    if method == "analytic":
        se = 100 * np.sqrt(np.maximum(p_hat + d_hat - (p_hat - d_hat) ** 2, 0) / size)
        z = stats.norm.ppf(1 - g / 2)
        lo, hi = est - z * se, est + z * se
    else:
        check_scalar(n_boot, "n_boot", int, 100)
        lo, hi = np.empty(n_sim), np.empty(n_sim)
        for i in range(n_sim):
            b = _nps_boot(p_hat[i], d_hat[i], size, n_boot, rng)
            lo[i], hi[i] = np.quantile(b, [g / 2, 1 - g / 2])
    cov = float(((lo <= true) & (true <= hi)).mean())
    cov_r = float(((lo <= resp_true) & (resp_true <= hi)).mean())
    out = pd.Series({"true_nps": float(true), "respondent_nps": float(resp_true),
                     "mean_estimate": float(est.mean()), "bias": float(est.mean() - true),
                     "coverage": cov, "coverage_respondent": cov_r,
                     "coverage_mc_se": math.sqrt(max(cov_r * (1 - cov_r), 1e-12) / n_sim),
                     "mean_width": float(np.mean(hi - lo)), "nominal": ci, "n": size, "n_sim": n_sim},
                    name="nps_coverage")
    out.attrs["method"] = method
    if keep_intervals:
        out.attrs["intervals"] = pd.DataFrame({"estimate": est, "ci_low": lo, "ci_high": hi})
    return out


# ------------------------------------------------------------------------------------
# satisfaction classes and frameworks
# ------------------------------------------------------------------------------------
def classify_satisfaction(scores, *, cuts: tuple[float, float] = (5, 8), scale: tuple[float, float] = (1, 10),
                          labels: tuple[str, str, str] = ("low", "medium", "high")) -> pd.Series:
    """Low / medium / high satisfaction classes (S000 §4.1(4)): ``< cuts[0]``, between, ``>= cuts[1]``.

    The source names the three classes but gives no cut-offs; the defaults (1-4 low,
    5-7 medium, 8-10 high on a 1-10 item) are the kit's assumption: pass your own.

    >>> classify_satisfaction([2, 6, 9]).tolist()
    ['low', 'medium', 'high']
    """
    s = pd.Series(scores)
    if not (pd.api.types.is_numeric_dtype(s) or s.isna().all()):
        raise DataValidationError(f"scores must be numeric answers, got dtype {s.dtype}",
                                  fix="convert them with pd.to_numeric(...) first")
    s = s.astype(float)
    lo, hi = scale
    if not (lo <= cuts[0] < cuts[1] <= hi):
        raise ParameterError(f"cuts must satisfy {lo} <= cuts[0] < cuts[1] <= {hi}, got {cuts}",
                             fix="pass two increasing cut-offs inside the scale, e.g. cuts=(5, 8)")
    check_in_range(s.to_frame("score"), "score", lo, hi, name="scores", what="scores")
    out = np.where(s < cuts[0], labels[0], np.where(s >= cuts[1], labels[2], labels[1]))
    return pd.Series(pd.Categorical(np.where(s.isna(), None, out), categories=list(labels), ordered=True),
                     index=s.index, name="satisfaction_class")


def _framework(framework: str) -> dict:
    if framework not in FRAMEWORKS:
        raise ParameterError(f"unknown framework {framework!r}", fix=f"use one of {list(FRAMEWORKS)}")
    return FRAMEWORKS[framework]


def framework_scores(df: pd.DataFrame, framework: str = "S000 §8.1", *, to_100: bool = True) -> pd.DataFrame:
    """Per-respondent scores of one framework's dimensions (reverse-keyed items flipped)."""
    return scale_scores(df, _framework(framework)["dimensions"], to_100=to_100)


def framework_summary(df: pd.DataFrame, frameworks: Iterable[str] | None = None, *, ci: float = 0.95,
                      top: int = 2) -> pd.DataFrame:
    """Each framework's dimensions on one questionnaire: items, mean 0-100, top-box share, alpha [CI].

    The top-box share is the share of respondents whose mean item answer (after reverse
    keying) reaches the top ``top`` boxes of the 1-5 scale, i.e. is at least 4.
    """
    frameworks = list(FRAMEWORKS) if frameworks is None else list(frameworks)
    rows = []
    for fw in frameworks:
        dims = _framework(fw)["dimensions"]
        raw = scale_scores(df, dims, to_100=False)
        pomp = scale_scores(df, dims, to_100=True)
        for dim, its in dims.items():
            hi = max(item_scale(i)[1] for i in its)
            a = cronbach_alpha(df, its, ci=ci) if len(its) > 1 else None
            rows.append({"framework": fw, "dimension": dim, "k": len(its), "items": ", ".join(its),
                         "mean_0_100": float(pomp[dim].mean()),
                         "top_box_share": float((raw[dim] >= hi - top + 1).mean()),
                         "alpha": np.nan if a is None else a["alpha"],
                         "alpha_ci_low": np.nan if a is None else a["ci_low"],
                         "alpha_ci_high": np.nan if a is None else a["ci_high"]})
    return pd.DataFrame(rows).set_index(["framework", "dimension"])


# ------------------------------------------------------------------------------------
# driver analysis
# ------------------------------------------------------------------------------------
def _check_corr_inputs(X: pd.DataFrame, y: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(X, pd.DataFrame):
        raise ParameterError("X must be a DataFrame of driver scores", fix="pass one column per driver")
    check_not_empty(X, "X", 3)
    check_numeric(X, list(X.columns), "X")
    check_no_nan(X, list(X.columns), "X")
    y = pd.Series(y)
    if len(y) != len(X):
        raise ParameterError(f"y has {len(y)} rows but X has {len(X)}", fix="pass y aligned with X")
    if y.isna().any():
        raise DataValidationError("y has missing values", fix="drop those rows from X and y first")
    const = [c for c in X.columns if X[c].std() == 0]
    if const or y.std() == 0:
        what = const if const else ["y"]
        raise DataValidationError(f"{what} are constant, so their importance is undefined",
                                  fix="drop constant drivers (or check the outcome column)")
    c = np.corrcoef(np.column_stack([X.to_numpy(float), y.to_numpy(float)]), rowvar=False)
    return c[:-1, :-1], c[:-1, -1]


def _rw_from_corr(Rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights from correlations; they sum to R²."""
    evals, evecs = np.linalg.eigh(Rxx)
    if evals.min() <= 1e-10:
        raise DataValidationError("the drivers are perfectly collinear (singular correlation matrix)",
                                  fix="drop a driver that is a combination of the others")
    lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T  # correlations of X with its orthogonal twins
    beta = np.linalg.solve(lam, rxy)
    return (lam ** 2) @ (beta ** 2)


def _r2(Rxx, rxy, idx) -> float:
    if not idx:
        return 0.0
    idx = list(idx)
    return float(rxy[idx] @ np.linalg.solve(Rxx[np.ix_(idx, idx)], rxy[idx]))


def _shapley_from_corr(Rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    p = len(rxy)
    r2 = {}
    for size in range(p + 1):
        for sub in itertools.combinations(range(p), size):
            r2[sub] = _r2(Rxx, rxy, sub)
    phi = np.zeros(p)
    fact = math.factorial
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            w = fact(size) * fact(p - size - 1) / fact(p)
            for sub in itertools.combinations(others, size):
                with_j = tuple(sorted((*sub, j)))
                phi[j] += w * (r2[with_j] - r2[sub])
    return phi


def relative_weights(X: pd.DataFrame, y) -> pd.Series:
    """Relative weights (相对权重, Johnson 2000): each driver's share of R², robust to collinearity.

    The drivers are replaced by their closest orthogonal counterparts, y is regressed on
    those, and the explained variance is allocated back to the original drivers. The
    weights are non-negative and sum to R².

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(500, 2)), columns=["a", "b"])
    >>> w = relative_weights(X, 2 * X["a"] + X["b"] + rng.normal(size=500))
    >>> bool(w["a"] > w["b"])
    True
    """
    Rxx, rxy = _check_corr_inputs(X, y)
    return pd.Series(_rw_from_corr(Rxx, rxy), index=X.columns, name="relative_weight")


def shapley_r2(X: pd.DataFrame, y) -> pd.Series:
    """Shapley / LMG decomposition of R² (each driver's average gain in R² over all orders).

    Exact over all 2^p subsets, so at most 12 drivers.
    """
    if isinstance(X, pd.DataFrame) and X.shape[1] > 12:
        raise ParameterError(f"Shapley decomposition needs 2^p regressions; p = {X.shape[1]} is too many",
                             fix="use relative_weights (same ranking in practice) or group the drivers")
    Rxx, rxy = _check_corr_inputs(X, y)
    return pd.Series(_shapley_from_corr(Rxx, rxy), index=X.columns, name="shapley_r2")


def importance_performance(importance: pd.Series, performance: pd.Series, *,
                           crosshair: str | tuple[float, float] = "mean") -> pd.DataFrame:
    """Importance-performance analysis (IPA): place each driver in one of four action quadrants.

    Parameters
    ----------
    importance, performance : Series indexed by driver
    crosshair : "mean", "median" or (importance, performance)
        Where the quadrant lines cross (the data-centred version of Martilla & James 1977).

    >>> import pandas as pd
    >>> t = importance_performance(pd.Series({"a": .4, "b": .1, "c": .3, "d": .2}),
    ...                            pd.Series({"a": 50, "b": 80, "c": 75, "d": 40}))
    >>> t["action"].tolist()
    ['Concentrate here', 'Possible overkill', 'Keep up the good work', 'Low priority']
    """
    try:
        imp, perf = pd.Series(importance).astype(float), pd.Series(performance).astype(float)
    except (TypeError, ValueError):
        raise DataValidationError("importance and performance must be numbers indexed by driver",
                                  fix="pass two numeric Series, e.g. DriverAnalysis().fit(survey).summary columns") from None
    if not imp.index.equals(perf.index) and set(imp.index) != set(perf.index):
        raise ParameterError("importance and performance must be indexed by the same drivers",
                             fix="build both from the same driver list")
    perf = perf.reindex(imp.index)
    if imp.isna().any() or perf.isna().any() or len(imp) < 2:
        raise DataValidationError("IPA needs at least 2 drivers with non-missing importance and performance",
                                  fix="drop drivers with missing values")
    if isinstance(crosshair, str):
        if crosshair not in ("mean", "median"):
            raise ParameterError(f"crosshair must be 'mean', 'median' or a pair, got {crosshair!r}",
                                 fix="use crosshair='mean'")
        ci, cp = getattr(imp, crosshair)(), getattr(perf, crosshair)()
    else:
        ci, cp = (float(v) for v in crosshair)
    hi_i, hi_p = imp >= ci, perf >= cp
    action = [IPA_LABELS[(bool(a), bool(b))] for a, b in zip(hi_i, hi_p, strict=True)]
    return pd.DataFrame({"importance": imp, "performance": perf, "high_importance": hi_i,
                         "high_performance": hi_p, "action": action,
                         "crosshair_importance": ci, "crosshair_performance": cp})


class DriverAnalysis:
    """Key-driver analysis of satisfaction (满意度驱动因素分析) with bootstrap uncertainty.

    Regresses an outcome (default: the satisfaction scale SAT) on driver scores and
    reports, per driver, the standardised regression coefficient (with its OLS interval),
    the zero-order correlation, the variance inflation factor, the relative importance
    (``method="relative_weights"`` or ``"shapley"``) as a share of R² with a percentile
    bootstrap interval, its rank, and the driver's performance (mean, 0-100) for IPA.

    Parameters
    ----------
    method : {"relative_weights", "shapley"}
    n_boot : int
        Bootstrap resamples of respondents for the importance intervals (0 = none).
    ci : float
    seed : int

    Examples
    --------
    >>> from crmlab import datasets
    >>> da = DriverAnalysis(n_boot=0).fit(datasets.load("survey"))
    >>> da.summary.index[0]
    'product'
    """

    def __init__(self, method: str = "relative_weights", n_boot: int = 500, ci: float = 0.95, seed=0):
        if method not in ("relative_weights", "shapley"):
            raise ParameterError(f"method must be 'relative_weights' or 'shapley', got {method!r}",
                                 fix="use method='relative_weights' (fast) or 'shapley' (exact LMG)")
        check_scalar(n_boot, "n_boot", int, 0)
        if 0 < n_boot < 50:
            raise ParameterError(f"n_boot={n_boot} is too few for percentile intervals",
                                 fix="use n_boot=0 (no intervals) or n_boot >= 200")
        self.method, self.n_boot, self.ci, self.seed = method, n_boot, check_probability(ci, "ci", open_interval=True), seed
        check_random_state(seed)

    # -- inputs ---------------------------------------------------------------------------
    @staticmethod
    def _outcome(df, outcome, item_scales):
        if isinstance(outcome, str) and outcome in df.columns:
            if outcome in QUESTIONNAIRE.index or (item_scales and outcome in item_scales):
                validate_responses(df, [outcome], scales=item_scales)
            else:
                check_numeric(df, [outcome], "survey")
            return df[outcome].astype(float), outcome
        if isinstance(outcome, str) and outcome in CONSTRUCT_ITEMS:
            return scale_scores(df, {outcome: CONSTRUCT_ITEMS[outcome]}, item_scales=item_scales)[outcome], outcome
        if isinstance(outcome, (list, tuple)):
            return scale_scores(df, {"outcome": list(outcome)}, item_scales=item_scales)["outcome"], "outcome"
        raise ColumnError(f"outcome {outcome!r} is neither a column of the survey nor a construct "
                          f"in CONSTRUCT_ITEMS ({list(CONSTRUCT_ITEMS)})",
                          fix="pass a column name, a construct such as 'SAT', or a list of items")

    def fit(self, df: pd.DataFrame, outcome="SAT", drivers: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
            *, item_scales=None) -> DriverAnalysis:
        """Fit on a survey table.

        ``drivers``: ``{driver: [items]}`` (scored with :func:`scale_scores`; default
        ``DRIVER_ITEMS``) or a list of columns that already hold driver scores (their
        performance is then reported on their own scale, rescaled 0-100 only if the
        column is a questionnaire item or ``item_scales`` gives its range).
        """
        if not isinstance(df, pd.DataFrame):
            raise ParameterError(f"df must be a DataFrame, got {type(df).__name__}",
                                 fix="pass the survey table, e.g. datasets.load('survey')")
        check_not_empty(df, "survey", 10)
        drivers = DRIVER_ITEMS if drivers is None else drivers
        if isinstance(drivers, Mapping):
            items = [i for its in drivers.values() for i in its]
            validate_responses(df, items, scales=item_scales, allow_nan=False)
            X = scale_scores(df, drivers, item_scales=item_scales)
            perf = scale_scores(df, drivers, item_scales=item_scales, to_100=True).mean()
        else:
            cols = _as_list(drivers, "drivers")
            require_columns(df, cols, "survey")
            check_numeric(df, cols, "survey")
            check_no_nan(df, cols, "survey")
            X = df[cols].astype(float)
            perf = pd.Series({c: (float(_pomp(df, [c], item_scales)[c].mean())
                                  if (c in QUESTIONNAIRE.index or (item_scales and c in item_scales))
                                  else float(df[c].mean())) for c in cols})
        if X.shape[1] < 2:
            raise ParameterError("driver analysis needs at least 2 drivers", fix="pass two or more drivers")
        y, yname = self._outcome(df, outcome, item_scales)
        ok = X.notna().all(axis=1) & y.notna()
        X, y = X[ok], y[ok]
        n, p = X.shape
        if n < max(30, 5 * p):
            raise DataValidationError(
                f"only {n} complete responses for {p} drivers; the importance estimates would be unstable",
                fix=f"use at least {max(30, 5 * p)} responses (pool waves or segments) or fewer drivers")
        Rxx, rxy = _check_corr_inputs(X, y)
        imp_fn = _rw_from_corr if self.method == "relative_weights" else _shapley_from_corr
        raw = imp_fn(Rxx, rxy)
        r2 = float(raw.sum())
        # standardised OLS (coefficients = Rxx^-1 rxy) with classical intervals
        import statsmodels.api as sm

        Z = (X - X.mean()) / X.std(ddof=1)
        zy = (y - y.mean()) / y.std(ddof=1)
        ols = sm.OLS(zy.to_numpy(), sm.add_constant(Z.to_numpy())).fit()
        ci_ols = ols.conf_int(alpha=1 - self.ci)[1:]
        vif = np.diag(np.linalg.inv(Rxx))
        out = pd.DataFrame({
            "beta": ols.params[1:], "beta_ci_low": ci_ols[:, 0], "beta_ci_high": ci_ols[:, 1],
            "beta_p": ols.pvalues[1:], "r": rxy, "vif": vif,
            "importance": raw, "importance_share": raw / r2,
        }, index=X.columns)
        if self.n_boot:
            with _single_thread():
                self._bootstrap(X, y, raw, imp_fn, out)
        out["rank"] = (-out["importance"]).rank(method="first").astype(int)
        out["performance"] = perf.reindex(X.columns).to_numpy()
        self.summary = out.sort_values("rank")
        self.r2_, self.n_, self.outcome_ = r2, n, yname
        self.ols_ = ols
        return self

    def _bootstrap(self, X, y, raw, imp_fn, out):
        n, p = X.shape
        rng = check_random_state(self.seed)
        data = np.column_stack([X.to_numpy(float), y.to_numpy(float)])
        boots = np.empty((self.n_boot, p))
        ranks = np.empty((self.n_boot, p))
        for b in range(self.n_boot):
            c = np.corrcoef(data[rng.integers(0, n, n)], rowvar=False)
            w = imp_fn(c[:-1, :-1], c[:-1, -1])
            boots[b] = w / w.sum()
            ranks[b] = (-w).argsort().argsort() + 1
        g = 1 - self.ci
        out["share_ci_low"] = np.quantile(boots, g / 2, axis=0)
        out["share_ci_high"] = np.quantile(boots, 1 - g / 2, axis=0)
        out["p_rank_as_estimated"] = (ranks == (-raw).argsort().argsort() + 1).mean(axis=0)
        self.bootstrap_shares_ = pd.DataFrame(boots, columns=X.columns)

    def _check_fitted(self):
        check_fitted(self, "summary", "fit(survey)")

    def ipa(self, crosshair="mean") -> pd.DataFrame:
        """The IPA table: importance share vs performance (0-100) with the action per driver."""
        self._check_fitted()
        return importance_performance(self.summary["importance_share"], self.summary["performance"],
                                      crosshair=crosshair)

    def plot_importance(self, ax=None):
        """Horizontal bars of importance shares with bootstrap intervals."""
        import matplotlib.pyplot as plt

        from . import plots

        self._check_fitted()
        s = self.summary.iloc[::-1]
        ax = ax or plt.subplots(figsize=(6.5, 3.6))[1]
        err = None
        if "share_ci_low" in s:
            err = np.vstack([s["importance_share"] - s["share_ci_low"], s["share_ci_high"] - s["importance_share"]])
        ax.barh(s.index, 100 * s["importance_share"], xerr=None if err is None else 100 * err,
                color=plots.PALETTE[0], capsize=3)
        label = "relative weight" if self.method == "relative_weights" else "Shapley (LMG)"
        return plots.finish(ax, title=f"Driver importance for {self.outcome_} (R² = {self.r2_:.2f})",
                            xlabel=f"share of R² (%), {label}", ylabel="driver")

    def plot_ipa(self, ax=None, crosshair="mean"):
        """Importance-performance quadrant plot with the four action labels."""
        import matplotlib.pyplot as plt

        from . import plots

        t = self.ipa(crosshair)
        ax = ax or plt.subplots(figsize=(6.5, 4.8))[1]
        x, y = 100 * t["importance"], t["performance"]
        ax.scatter(x, y, s=60, color=plots.PALETTE[0], zorder=3)
        for name, xi, yi in zip(t.index, x, y, strict=True):
            ax.annotate(name, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=9)
        cx, cy = 100 * t["crosshair_importance"].iloc[0], t["crosshair_performance"].iloc[0]
        ax.axvline(cx, color="grey", lw=1, ls="--")
        ax.axhline(cy, color="grey", lw=1, ls="--")
        xr = max(x.max() - cx, cx - x.min()) * 1.35 + 1e-9
        yr = max(y.max() - cy, cy - y.min()) * 1.35 + 1e-9
        ax.set_xlim(cx - xr, cx + xr)
        ax.set_ylim(cy - yr, cy + yr)
        corners = {(True, False): (0.98, 0.03, "right", "bottom"), (True, True): (0.98, 0.97, "right", "top"),
                   (False, False): (0.02, 0.03, "left", "bottom"), (False, True): (0.02, 0.97, "left", "top")}
        for key, (tx, ty, ha, va) in corners.items():
            ax.text(tx, ty, IPA_LABELS[key], transform=ax.transAxes, ha=ha, va=va, fontsize=9,
                    color=plots.PALETTE[3] if key == (True, False) else "#555555", fontweight="bold")
        return plots.finish(ax, title="Importance-performance analysis (IPA)",
                            xlabel="importance (share of R², %)", ylabel="performance (mean, 0-100)")
