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
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._threads import single_thread as _single_thread
from .base import Fitter, TestResult, summary_frame
from .errors import ColumnError, DataValidationError, ParameterError, SmallSampleWarning
from .validation import (
    check_array,
    check_ci_level,
    check_count,
    check_in_range,
    check_no_nan,
    check_not_empty,
    check_numeric,
    check_option,
    check_probability,
    check_random_state,
    check_same_length,
    check_scalar,
    coding_advice,
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
    "SATISFACTION_CLASSES",
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
    if isinstance(items, Mapping) or not isinstance(items, Iterable):
        raise ParameterError(f"{name} must be a list of column names, got {type(items).__name__}",
                             fix=f"pass {name} as a list such as ['q_trust', 'q_positive_feelings']")
    out = list(items)
    if not out:
        raise ParameterError(f"{name} is empty", fix=f"pass at least one column in {name}")
    odd = [c for c in out if not isinstance(c, (str, int, np.integer)) or isinstance(c, bool)]
    if odd:
        raise ParameterError(f"{name} must list column names, got {odd[0]!r}",
                             fix=f"pass {name} as a flat list of column names such as ['q_trust', 'q_positive_feelings']")
    dup = sorted({str(c) for c in out if out.count(c) > 1})
    if dup:
        raise ParameterError(f"{name} lists {dup} more than once", fix=f"list each column once in {name}")
    return out


def _check_frame_arg(df, name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        got = "None (did an earlier step return nothing?)" if df is None else type(df).__name__
        raise ParameterError(f"{name} must be a pandas DataFrame, got {got}",
                             fix="pass the survey table, e.g. crmlab.datasets.load('survey')")


def item_scale(item: str, item_scales: Mapping[str, tuple[float, float]] | None = None) -> tuple[float, float]:
    """The (low, high) answer range of ``item``: from ``item_scales`` if given, else ``QUESTIONNAIRE``.

    >>> item_scale("recommend_0_10")
    (0, 10)
    >>> item_scale("my_item", {"my_item": (1, 7)})
    (1, 7)
    """
    if item_scales is not None and not isinstance(item_scales, Mapping):
        raise ParameterError(f"item_scales must be a dict {{item: (low, high)}}, got {type(item_scales).__name__}",
                             fix="pass e.g. item_scales={'my_item': (1, 7)}")
    if item_scales is not None and item in item_scales:
        pair = item_scales[item]
    elif isinstance(item, str) and item in QUESTIONNAIRE.index:
        pair = tuple(QUESTIONNAIRE.loc[item, ["low", "high"]])
    else:
        raise ParameterError(
            f"the answer scale of {item!r} is unknown (it is not in crmlab.satisfaction.QUESTIONNAIRE)",
            fix=f"pass item_scales={{{item!r}: (low, high)}}, e.g. (1, 5) for a five-point item")
    try:
        lo, hi = pair
        lo, hi = (v.item() if isinstance(v, np.generic) else v for v in (lo, hi))
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)) \
            and bool(np.isfinite(lo) and np.isfinite(hi) and hi > lo)
    except (TypeError, ValueError):
        ok, lo, hi = False, pair, None
    if not ok:
        raise ParameterError(f"the scale of {item!r} must be two finite numbers (low, high) with low < high, "
                             f"got {pair!r}", fix=f"pass item_scales={{{item!r}: (1, 5)}} or similar")
    return lo, hi


def validate_responses(df: pd.DataFrame, items: Sequence[str], *, item_scales=None, name: str = "survey",
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
    _check_frame_arg(df, name)
    items = _as_list(items, "items")
    require_columns(df, items, name)
    check_not_empty(df, name, min_rows)
    check_numeric(df, items, name)
    for it in items:
        lo, hi = item_scale(it, item_scales)
        check_in_range(df, it, lo, hi, name=name, what="answers")
        if df[it].isna().all():
            raise DataValidationError(f"{name}[{it!r}] has no answers at all (every value is missing)",
                                      fix=f"drop {it!r} from the items or check how the survey was merged")
    if not allow_nan:
        check_no_nan(df, items, name)


def reverse_code(df: pd.DataFrame, items: Sequence[str] | None = None, *, item_scales=None,
                 name: str = "survey") -> pd.DataFrame:
    """Return a copy with reverse-keyed items flipped: ``low + high - answer``.

    ``items`` defaults to the reverse-keyed items of ``QUESTIONNAIRE`` present in ``df``.
    Call it once: flipping twice restores the original answers.

    >>> import pandas as pd
    >>> reverse_code(pd.DataFrame({"q_wait_too_long": [1, 2, 5]}))["q_wait_too_long"].tolist()
    [5, 4, 1]
    """
    _check_frame_arg(df, name)
    if items is None:
        rev = QUESTIONNAIRE.index[QUESTIONNAIRE["reverse"]]
        items = [c for c in rev if c in df.columns]
    else:
        items = _as_list(items, "items")
    out = df.copy()
    if not items:
        return out
    validate_responses(df, items, item_scales=item_scales, name=name)
    for it in items:
        lo, hi = item_scale(it, item_scales)
        out[it] = lo + hi - df[it]
    return out


def _pomp(df: pd.DataFrame, items: Sequence[str], item_scales) -> pd.DataFrame:
    """Percent of maximum possible: each item rescaled to 0-100."""
    out = {}
    for it in items:
        lo, hi = item_scale(it, item_scales)
        out[it] = 100.0 * (df[it] - lo) / (hi - lo)
    return pd.DataFrame(out, index=df.index)


def _scale_dict(scales, name: str = "scales") -> dict[str, list[str]]:
    if not isinstance(scales, Mapping):
        raise ParameterError(f"{name} must be a dict {{scale name: [items]}}, got {type(scales).__name__}",
                             fix=f"pass e.g. {name}={{'emotion': ['q_trust', 'q_positive_feelings']}}")
    if not scales:
        raise ParameterError(f"{name} is empty", fix="pass {scale name: [items]}")
    return {k: _as_list(v, f"{name}[{k!r}]") for k, v in scales.items()}


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

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"q_trust": [5, 1], "q_positive_feelings": [4, 1]})
    >>> scale_scores(d, {"emotion": ["q_trust", "q_positive_feelings"]}, to_100=True)["emotion"].tolist()
    [87.5, 0.0]
    """
    scales = _scale_dict(DRIVER_ITEMS if scales is None else scales)
    check_probability(min_answered, "min_answered")
    all_items = list(dict.fromkeys(it for its in scales.values() for it in its))
    validate_responses(df, all_items, item_scales=item_scales, name=name)
    data = df[all_items]
    if reverse:
        rev = [c for c in all_items if c in QUESTIONNAIRE.index and QUESTIONNAIRE.loc[c, "reverse"]]
        data = reverse_code(data, rev, item_scales=item_scales, name=name) if rev else data
    if to_100:
        data = _pomp(data, all_items, item_scales)
    out = {}
    for sc, its in scales.items():
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


def _reliability_block(df: pd.DataFrame, items, item_scales, reverse: bool, name: str) -> pd.DataFrame:
    items = _as_list(items, "items")
    if len(items) < 2:
        raise ParameterError(f"Cronbach's alpha needs at least 2 items, got {items}",
                             fix="pass two or more items that measure the same construct")
    validate_responses(df, items, item_scales=item_scales, name=name)
    block = df[items]
    if reverse:
        rev = [c for c in items if c in QUESTIONNAIRE.index and QUESTIONNAIRE.loc[c, "reverse"]]
        if rev:
            block = reverse_code(block, rev, item_scales=item_scales, name=name)
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


def cronbach_alpha(df: pd.DataFrame, items: Sequence[str], *, ci_level: float = 0.95, method: str = "feldt",
                   n_boot: int = 1000, seed=0, reverse: bool = True, item_scales=None,
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
    Series with alpha, ci_lower, ci_upper, n (respondents), k (items);
    ``.attrs["method"]`` and ``.attrs["ci_level"]``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=300)
    >>> d = pd.DataFrame({f"i{j}": np.clip(np.rint(3 + f + rng.normal(size=300)), 1, 5) for j in range(4)})
    >>> r = cronbach_alpha(d, list(d), item_scales={c: (1, 5) for c in d})
    >>> round(float(r["alpha"]), 2), bool(r["ci_lower"] < r["alpha"] < r["ci_upper"])
    (0.7, True)
    """
    ci_level = check_ci_level(ci_level)
    check_option(method, "method", ["feldt", "bootstrap"])
    if method == "bootstrap":
        check_count(n_boot, "n_boot", 50, 100_000)
        rng = check_random_state(seed)
    block = _reliability_block(df, items, item_scales, reverse, name)
    x = block.to_numpy()
    n, k = x.shape
    alpha = _alpha_from_cov(np.cov(x, rowvar=False))
    g = 1 - ci_level
    if method == "feldt":
        df1, df2 = n - 1, (n - 1) * (k - 1)
        lo = 1 - (1 - alpha) * stats.f.ppf(1 - g / 2, df1, df2)
        hi = 1 - (1 - alpha) * stats.f.ppf(g / 2, df1, df2)
    else:
        boots = np.empty(n_boot)
        for b in range(n_boot):
            xb = x[rng.integers(0, n, n)]
            c = np.cov(xb, rowvar=False)
            boots[b] = _alpha_from_cov(c) if c.sum() > 0 else np.nan
        lo, hi = np.nanquantile(boots, [g / 2, 1 - g / 2])
    out = pd.Series({"alpha": alpha, "ci_lower": float(lo), "ci_upper": float(hi), "n": n, "k": k},
                    name="cronbach_alpha")
    out.attrs.update(method=method, ci_level=ci_level)
    return out


def item_analysis(df: pd.DataFrame, items: Sequence[str], *, reverse: bool = True, item_scales=None,
                  name: str = "survey") -> pd.DataFrame:
    """Per-item statistics of a scale: mean, SD, corrected item-total correlation, alpha if deleted.

    The corrected item-total correlation (校正的项目-总分相关) correlates an item with the sum
    of the *other* items; values below about 0.3 flag an item that does not fit the scale.
    Every column uses the same complete cases (listwise, like alpha); ``mean`` and ``sd`` are
    of the answers as given, before reverse-keying, so they read on the questionnaire's scale.

    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [1, 3, 3, 5, 5], "c": [2, 2, 3, 4, 4]})
    >>> item_analysis(d, ["a", "b", "c"], item_scales={c: (1, 5) for c in "abc"})["item_total_r"].round(2).tolist()
    [0.97, 0.94, 0.93]
    """
    block = _reliability_block(df, items, item_scales, reverse, name)
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
                      ci_level: float = 0.95, item_scales=None, name: str = "survey") -> pd.DataFrame:
    """Cronbach's alpha (Feldt interval) of several scales; scales with one item get NaN.

    ``scales`` ({scale: [items]}) defaults to ``CONSTRUCT_ITEMS`` plus ``DRIVER_ITEMS``.
    Columns: k, n, alpha, ci_lower, ci_upper (``.attrs["ci_level"]``).
    """
    ci_level = check_ci_level(ci_level)
    scales = _scale_dict({**CONSTRUCT_ITEMS, **DRIVER_ITEMS} if scales is None else scales)
    rows = []
    for sc, its in scales.items():
        if len(its) < 2:
            validate_responses(df, its, item_scales=item_scales, name=name)
            rows.append({"scale": sc, "k": len(its), "n": int(df[its].dropna().shape[0]),
                         "alpha": np.nan, "ci_lower": np.nan, "ci_upper": np.nan})
            continue
        r = cronbach_alpha(df, its, ci_level=ci_level, item_scales=item_scales, name=name)
        rows.append({"scale": sc, "k": int(r["k"]), "n": int(r["n"]), "alpha": r["alpha"],
                     "ci_lower": r["ci_lower"], "ci_upper": r["ci_upper"]})
    out = pd.DataFrame(rows).set_index("scale")
    out.attrs["ci_level"] = ci_level
    return out


# ------------------------------------------------------------------------------------
# CSAT, effort
# ------------------------------------------------------------------------------------
def _wilson(k: float, n: int, ci_level: float) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + ci_level / 2)
    p = k / n
    den = 1 + z ** 2 / n
    centre = (p + z ** 2 / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / den
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def _grouped(df: pd.DataFrame, by, fn, ci_level: float) -> pd.DataFrame:
    if by is None:
        out = fn(df).to_frame().T.reset_index(drop=True)
    else:
        keys = _as_list(by, "by")
        require_columns(df, keys, "survey")
        # dropna=False: answers whose group is missing form their own (NaN) row instead of vanishing
        parts = {key: fn(g) for key, g in df.groupby(by, observed=True, sort=True, dropna=False)}
        out = pd.DataFrame(parts).T
        out.index.names = keys
    for col in ("n", "k"):
        if col in out:
            out[col] = out[col].astype(int)
    out.attrs["ci_level"] = ci_level
    return out


def _answers(answers, name: str = "answers") -> pd.Series:
    if isinstance(answers, pd.DataFrame) or answers is None or isinstance(answers, (str, bytes)):
        got = "None" if answers is None else type(answers).__name__
        raise ParameterError(f"{name} must be one column of answers (a Series or list), got {got}",
                             fix="pass one column, e.g. survey['csat_1_5']")
    if isinstance(answers, pd.Series):
        return answers
    if isinstance(answers, Mapping):
        return pd.Series(answers)
    arr = np.asarray(answers, dtype=object)
    if arr.ndim != 1:
        raise ParameterError(f"{name} must be one column of answers, got an array of shape {arr.shape}",
                             fix="pass one column, e.g. survey['csat_1_5'], or flatten it first")
    return pd.Series(list(arr))


def top_box(answers: pd.Series, scale: tuple[int, int] = (1, 5), *, top: int = 2,
            ci_level: float = 0.95) -> pd.Series:
    """Share of answers in the top ``top`` boxes of ``scale`` with a Wilson interval.

    Returns a Series: share, ci_lower, ci_upper, n (``.attrs["ci_level"]``).

    >>> import pandas as pd
    >>> r = top_box(pd.Series([5, 4, 4, 3, 2, 5, 1, 4]), (1, 5))
    >>> float(r["share"]), int(r["n"])
    (0.625, 8)
    """
    ci_level = check_ci_level(ci_level)
    lo, hi = item_scale("answers", {"answers": scale})
    check_count(top, "top", 1, max(1, int(hi - lo)))
    frame = _answers(answers).to_frame("answers")
    validate_responses(frame, ["answers"], item_scales={"answers": (lo, hi)}, name="answers")
    s = frame["answers"].dropna()
    n = len(s)
    k = int((s >= hi - top + 1).sum())
    low, high = _wilson(k, n, ci_level)
    out = pd.Series({"share": k / n, "ci_lower": low, "ci_upper": high, "n": n}, name="top_box")
    out.attrs["ci_level"] = ci_level
    return out


def csat_score(df: pd.DataFrame, item_col: str = "csat_1_5", *, by=None, top: int = 2, ci_level: float = 0.95,
               item_scales=None) -> pd.DataFrame:
    """CSAT (满意度得分): mean answer and top-box share (Wilson interval), optionally by group.

    Columns: mean, top{top}_share, ci_lower, ci_upper (the interval of the top-box share), n.

    >>> import pandas as pd
    >>> csat_score(pd.DataFrame({"csat_1_5": [5, 4, 3, 4]}))[["mean", "top2_share"]].round(3).values.tolist()
    [[4.0, 0.75]]
    """
    ci_level = check_ci_level(ci_level)
    _check_frame_arg(df, "survey")
    lo, hi = item_scale(item_col, item_scales)
    validate_responses(df, [item_col], item_scales=item_scales)

    def one(g):
        tb = top_box(g[item_col], (lo, hi), top=top, ci_level=ci_level)
        return pd.Series({"mean": float(g[item_col].mean()), f"top{top}_share": tb["share"],
                          "ci_lower": tb["ci_lower"], "ci_upper": tb["ci_upper"], "n": int(tb["n"])})
    return _grouped(df, by, one, ci_level)


def effort_score(df: pd.DataFrame, item_col: str = "effort_1_7", *, by=None, high_from: int = 5,
                 ci_level: float = 0.95, item_scales=None) -> pd.DataFrame:
    """Customer effort score (客户费力度, CES): mean with a t interval and the high-effort share.

    High effort = an answer of ``high_from`` or more (on the default 1-7 item: 5, 6 or 7).
    Lower is better: effort is a cost the customer pays (S002 Ch5 §2, delivered value).
    Columns: mean, ci_lower, ci_upper (the interval of the mean), high_effort_share, n.

    >>> import pandas as pd
    >>> effort_score(pd.DataFrame({"effort_1_7": [2, 3, 6, 1]}))[["mean", "high_effort_share"]].values.tolist()
    [[3.0, 0.25]]
    """
    ci_level = check_ci_level(ci_level)
    _check_frame_arg(df, "survey")
    lo, hi = item_scale(item_col, item_scales)
    check_scalar(high_from, "high_from", (int, float), lo, hi)
    validate_responses(df, [item_col], item_scales=item_scales)

    def one(g):
        s = g[item_col].dropna().astype(float)
        n = len(s)
        if n == 0:
            raise DataValidationError(f"a group of by={by!r} has no {item_col} answers",
                                      fix="drop groups without answers before calling")
        m = float(s.mean())
        half = float(stats.t.ppf(0.5 + ci_level / 2, n - 1) * s.std(ddof=1) / math.sqrt(n)) if n > 1 else np.nan
        return pd.Series({"mean": m, "ci_lower": m - half, "ci_upper": m + half,
                          "high_effort_share": float((s >= high_from).mean()), "n": n})
    return _grouped(df, by, one, ci_level)


# ------------------------------------------------------------------------------------
# NPS
# ------------------------------------------------------------------------------------
def _nps_scores(scores, name: str = "scores") -> np.ndarray:
    s = _answers(scores, name)
    if pd.api.types.is_bool_dtype(s):
        raise DataValidationError(f"{name} holds True/False values, not 0-10 answers",
                                  fix="pass the likelihood-to-recommend answers (0-10), not a yes/no column")
    if not (pd.api.types.is_numeric_dtype(s) or s.isna().all()):
        raise DataValidationError(f"{name} must be numeric 0-10 answers, got dtype {s.dtype}",
                                  fix=coding_advice(s, name, "numeric"))
    s = s.dropna()
    if len(s) == 0:
        raise DataValidationError(f"{name} has no answers (empty or all missing)",
                                  fix="pass the likelihood-to-recommend column of at least one respondent")
    frame = s.astype(float).to_frame(name)
    check_in_range(frame, name, 0, 10, name="nps", what="likelihood-to-recommend scores")
    s = frame[name]
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


def _nps_options(ci_level, method, n_boot, seed):
    ci_level = check_ci_level(ci_level)
    check_option(method, "method", ["analytic", "bootstrap"])
    rng = None
    if method == "bootstrap":
        check_count(n_boot, "n_boot", 100, 1_000_000)
        rng = check_random_state(seed)
    return ci_level, rng


def nps(scores, *, ci_level: float = 0.95, method: str = "analytic", n_boot: int = 2000, seed=0) -> pd.Series:
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
    Series: nps, promoters, passives, detractors (shares in %), n, std_error, ci_lower,
    ci_upper; ``.attrs["method"]`` names the interval, ``.attrs["ci_level"]`` its level.

    Examples
    --------
    >>> r = nps([10, 9, 8, 7, 3] * 40, method="bootstrap", seed=1)
    >>> float(r["nps"]), round(float(r["std_error"]), 1)
    (20.0, 5.4)
    """
    ci_level, rng = _nps_options(ci_level, method, n_boot, seed)
    s = _nps_scores(scores)
    p, d, n = _nps_parts(s)
    value = 100.0 * (p - d)
    g = 1 - ci_level
    if method == "analytic":
        se = 100.0 * _nps_se(p, d, n)
        z = stats.norm.ppf(1 - g / 2)
        lo, hi = value - z * se, value + z * se
    else:
        boots = _nps_boot(p, d, n, n_boot, rng)
        se = float(boots.std(ddof=1))
        lo, hi = np.quantile(boots, [g / 2, 1 - g / 2])
    out = pd.Series({"nps": value, "promoters": 100 * p, "passives": 100 * (1 - p - d),
                     "detractors": 100 * d, "n": n, "std_error": se, "ci_lower": max(float(lo), -100.0),
                     "ci_upper": min(float(hi), 100.0)}, name="nps")
    out.attrs.update(method=method, ci_level=ci_level)
    return out


def nps_table(df: pd.DataFrame, item_col: str = _NPS_ITEM, *, by=None, ci_level: float = 0.95,
              method: str = "analytic", n_boot: int = 2000, seed=0) -> pd.DataFrame:
    """NPS with its interval for the whole table or for each group of ``by`` (columns as :func:`nps`).

    >>> import pandas as pd
    >>> d = pd.DataFrame({"recommend_0_10": [10, 9, 3, 8, 10, 6], "wave": [1, 1, 1, 2, 2, 2]})
    >>> nps_table(d, by="wave")["nps"].round(1).tolist()
    [33.3, 0.0]
    """
    ci_level, _ = _nps_options(ci_level, method, n_boot, seed)
    _check_frame_arg(df, "survey")
    require_columns(df, [item_col], "survey")
    check_not_empty(df, "survey")
    return _grouped(df, by, lambda g: nps(g[item_col], ci_level=ci_level, method=method, n_boot=n_boot, seed=seed),
                    ci_level)


def _nps_keyed(scores, ids, name: str) -> pd.Series:
    """Scores indexed by respondent id (missing answers dropped), ids checked."""
    s = _answers(scores, name).reset_index(drop=True)
    keys = _answers(ids, f"ids_{name}").reset_index(drop=True)
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


def nps_difference(a, b, *, ids_a=None, ids_b=None, ci_level: float = 0.95, method: str = "analytic",
                   n_boot: int = 2000, seed=0) -> TestResult:
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
    TestResult: ``statistic`` (z = difference / std_error), ``p_value``; ``table`` with
    the rows a, b and "b - a" (estimate, std_error, ci_lower, ci_upper, n; the a and b rows
    use the analytic interval); ``details``: nps_a, nps_b, difference, std_error, ci_lower,
    ci_upper (of the difference, by ``method``), n_a, n_b, n_overlap, overlap_corr
    (correlation of the repeat customers' codes; NaN without ids), method, design, ci_level.

    Examples
    --------
    >>> r = nps_difference([9, 10, 6, 7] * 50, [9, 10, 9, 7] * 50)
    >>> r.details["difference"], r.significant()
    (50.0, True)
    >>> p = nps_difference([9, 6, 10, 3], [10, 6, 9, 8], ids_a=[1, 2, 3, 4], ids_b=[1, 2, 3, 5])
    >>> p.details["n_overlap"], p.details["design"]
    (3, 'overlapping')
    """
    ci_level, rng = _nps_options(ci_level, method, n_boot, seed)
    if (ids_a is None) != (ids_b is None):
        raise ParameterError("pass both ids_a and ids_b (overlapping samples) or neither (independent samples)",
                             fix="give the respondent ids of both samples, e.g. the customer_id of each answer")
    g = 1 - ci_level
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
        if n_ab == 0:
            boots = _nps_boot(pb, db, nb, n_boot, rng) - _nps_boot(pa, da, na, n_boot, rng)
        else:
            boots = _nps_boot_overlap(sa, sb, n_ab, n_boot, rng)
        se = float(boots.std(ddof=1))
        lo, hi = np.quantile(boots, [g / 2, 1 - g / 2])
    if se > 0:
        z = diff / se
        p_value = float(2 * stats.norm.sf(abs(z)))
    else:  # every answer in both samples in one category: no sampling variation at all
        z, p_value = (0.0, 1.0) if diff == 0 else (math.copysign(math.inf, diff), 0.0)
    design = "independent" if ids_a is None else "overlapping"
    se_a, se_b = 100 * _nps_se(pa, da, na), 100 * _nps_se(pb, db, nb)
    ests = [100 * (pa - da), 100 * (pb - db), diff]
    table = summary_frame(ests, [se_a, se_b, se],
                          [ests[0] - z_crit * se_a, ests[1] - z_crit * se_b, float(lo)],
                          [ests[0] + z_crit * se_a, ests[1] + z_crit * se_b, float(hi)],
                          index=["a", "b", "b - a"], ci_level=ci_level, n=[na, nb, na + nb - n_ab])
    details = {"nps_a": ests[0], "nps_b": ests[1], "difference": diff, "std_error": se, "ci_lower": float(lo),
               "ci_upper": float(hi), "n_a": na, "n_b": nb, "n_overlap": n_ab, "overlap_corr": corr,
               "method": method, "design": design, "ci_level": ci_level}
    if se == 0:
        details["note"] = "no variation: every answer of both samples falls in one NPS category"
    return TestResult(f"NPS difference b - a ({design} samples, {method})", statistic=float(z), p_value=p_value,
                      table=table, statistic_name="z", details=details,
                      null_hypothesis="the two samples come from populations with the same NPS")


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
    try:
        eta = check_array(latent, "latent")
    except DataValidationError as err:
        raise DataValidationError(f"{err.problem}", fix="drop missing latent values first (e.g. B2B customers)") from None
    check_scalar(sd, "sd", (int, float), 0, low_inclusive=False)
    check_scalar(loading, "loading", (int, float), -1, 1, low_inclusive=False, high_inclusive=False)
    check_scalar(mean, "mean", (int, float))
    res = sd * math.sqrt(1 - loading ** 2)
    centre = mean + sd * loading * eta
    pro = stats.norm.sf((8.5 - centre) / res)
    det = stats.norm.cdf((6.5 - centre) / res)
    return pd.DataFrame({"promoter": pro, "passive": 1 - pro - det, "detractor": det})


#: most random numbers one coverage simulation may draw (n_sims x respondents), ~0.4 GB of floats
_MAX_SIM_DRAWS = 50_000_000


def nps_coverage_simulation(probabilities, n: int | None = None, *, weights=None, n_sims: int = 1000,
                            ci_level: float = 0.95, method: str = "analytic", n_boot: int = 1000,
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
    n_sims : int
        Simulated surveys (``n_sims`` x respondents is capped at 50 million draws).
    method : {"analytic", "bootstrap"}
    keep_intervals : bool
        Keep every simulated estimate and interval in ``result.attrs["intervals"]``
        (a DataFrame with estimate, ci_lower, ci_upper), e.g. to draw them.

    Returns
    -------
    Series: true_nps (population), respondent_nps (what a respondent sample estimates),
    mean_estimate, bias (mean estimate - true), coverage (of true_nps),
    coverage_respondent (of respondent_nps), coverage_mc_se, mean_width, nominal, n, n_sims.

    Examples
    --------
    >>> p = [0.02] * 7 + [0.12, 0.2, 0.25, 0.29]   # answers 0..10
    >>> r = nps_coverage_simulation(p, 400, n_sims=400, seed=3)
    >>> round(float(r["true_nps"]), 1), bool(abs(r["coverage"] - 0.95) < 0.04)
    (40.0, True)
    """
    ci_level = check_ci_level(ci_level)
    check_count(n_sims, "n_sims", 10, 1_000_000)
    check_option(method, "method", ["analytic", "bootstrap"])
    if method == "bootstrap":
        check_count(n_boot, "n_boot", 100, 100_000)
    rng = check_random_state(seed)
    if probabilities is None or isinstance(probabilities, (str, bytes)):
        raise ParameterError(f"probabilities must be numbers, got {type(probabilities).__name__}",
                             fix="pass 11 answer probabilities or an (m, 3) array of category probabilities")
    try:
        P = np.asarray(probabilities, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError("probabilities must hold numbers only",
                             fix="pass 11 answer probabilities or an (m, 3) array of category probabilities") from None
    if not np.all(np.isfinite(P)):
        raise DataValidationError(f"probabilities has {int((~np.isfinite(P)).sum())} missing or infinite value(s)",
                                  fix="drop the customers with missing probabilities first")
    if P.ndim == 1:
        if P.shape[0] != 11 or np.any(P < 0) or not np.isclose(P.sum(), 1):
            raise ParameterError("probabilities must be 11 non-negative numbers (answers 0..10) summing to 1",
                                 fix="pass e.g. survey['recommend_0_10'].value_counts(normalize=True)"
                                     ".reindex(range(11), fill_value=0)")
        if weights is not None:
            raise ParameterError("weights need a finite population", fix="pass an (m, 3) array of probabilities")
        check_count(n, "n", 2, 10_000_000)
        pro, det = P[9:].sum(), P[:7].sum()
        cat_p = np.array([pro, 1 - pro - det, det])
        counts = rng.multinomial(n, cat_p / cat_p.sum(), size=n_sims)
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
            size = m
        else:
            size = check_count(n, "n", 2, 10_000_000)
        if n_sims * size > _MAX_SIM_DRAWS:
            raise ParameterError(f"n_sims x respondents = {n_sims * size:,} draws is too much work for one call",
                                 fix=f"use at most n_sims={max(10, _MAX_SIM_DRAWS // size):,} for {size:,} respondents")
        if n is None:
            rows = np.broadcast_to(np.arange(m), (n_sims, m))
            resp_true = true
        else:
            if weights is None:
                w = np.full(m, 1.0 / m)
            else:
                try:
                    w = np.asarray(weights, dtype=float) if not isinstance(weights, (str, bytes)) else np.array([np.nan])
                except (TypeError, ValueError):
                    w = np.array([np.nan])
                if w.shape != (m,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
                    raise ParameterError("weights must be m finite non-negative numbers, not all zero",
                                         fix="pass one response propensity per customer")
                w = w / w.sum()
            rows = rng.choice(m, size=(n_sims, n), p=w)
            resp_true = 100 * (w @ P[:, 0] - w @ P[:, 2])
        cum = np.cumsum(P, axis=1)[:, :2]
        u = rng.random((n_sims, size))
        cat = (u[:, :, None] > cum[rows]).sum(axis=2)  # 0 promoter, 1 passive, 2 detractor
        counts = np.stack([(cat == j).sum(axis=1) for j in range(3)], axis=1)
    else:
        raise ParameterError(f"probabilities must have shape (11,) or (m, 3), got {P.shape}",
                             fix="pass answer probabilities over 0..10 or per-customer category probabilities")
    p_hat, d_hat = counts[:, 0] / size, counts[:, 2] / size
    est = 100 * (p_hat - d_hat)
    g = 1 - ci_level
    if method == "analytic":
        se = 100 * np.sqrt(np.maximum(p_hat + d_hat - (p_hat - d_hat) ** 2, 0) / size)
        z = stats.norm.ppf(1 - g / 2)
        lo, hi = est - z * se, est + z * se
    else:
        lo, hi = np.empty(n_sims), np.empty(n_sims)
        for i in range(n_sims):
            b = _nps_boot(p_hat[i], d_hat[i], size, n_boot, rng)
            lo[i], hi[i] = np.quantile(b, [g / 2, 1 - g / 2])
    cov = float(((lo <= true) & (true <= hi)).mean())
    cov_r = float(((lo <= resp_true) & (resp_true <= hi)).mean())
    out = pd.Series({"true_nps": float(true), "respondent_nps": float(resp_true),
                     "mean_estimate": float(est.mean()), "bias": float(est.mean() - true),
                     "coverage": cov, "coverage_respondent": cov_r,
                     "coverage_mc_se": math.sqrt(max(cov_r * (1 - cov_r), 1e-12) / n_sims),
                     "mean_width": float(np.mean(hi - lo)), "nominal": ci_level, "n": size, "n_sims": n_sims},
                    name="nps_coverage")
    out.attrs.update(method=method, ci_level=ci_level)
    if keep_intervals:
        out.attrs["intervals"] = pd.DataFrame({"estimate": est, "ci_lower": lo, "ci_upper": hi})
    return out


# ------------------------------------------------------------------------------------
# satisfaction classes and frameworks
# ------------------------------------------------------------------------------------
SATISFACTION_CLASSES: dict[str, tuple[str, str]] = {
    "low": ("低满意度", "lowly satisfied"),
    "moderate": ("中满意度", "moderately satisfied"),
    "high": ("高满意度", "highly satisfied"),
}
"""The three satisfaction classes of S000 §4.1(4): label -> (中文, English)."""


def _pair(value, name: str) -> tuple[float, float]:
    try:
        a, b = value
        a, b = (v.item() if isinstance(v, np.generic) else v for v in (a, b))
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (a, b))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ParameterError(f"{name} must be two finite numbers, got {value!r}", fix=f"pass e.g. {name}=(5, 8)")
    return a, b


def classify_satisfaction(scores, *, cuts: tuple[float, float] = (5, 8),
                          scale: tuple[float, float] = (1, 10)) -> pd.Series:
    """Satisfaction class of each score: low, moderate or high (S000 §4.1(4)).

    S000 §4.1(4) sorts customers by satisfaction into highly, moderately and lowly
    satisfied customers (高满意度 / 中满意度 / 低满意度客户). A score below ``cuts[0]`` is
    "low", a score of ``cuts[1]`` or more is "high", anything between is "moderate". The
    source names the classes but gives no cut-offs: the defaults (on a 1-10 item: 1-4 low,
    5-7 moderate, 8-10 high) are the kit's assumption, so pass your own ``cuts`` (and the
    item's ``scale``) when your survey or your firm defines them. Missing scores stay
    missing.

    Returns an ordered categorical Series named ``satisfaction_class`` (low < moderate <
    high) with the index of ``scores``; ``SATISFACTION_CLASSES`` gives the Chinese terms.

    >>> classify_satisfaction([2, 6, 9]).tolist()
    ['low', 'moderate', 'high']
    >>> classify_satisfaction([2, 4], cuts=(2, 4), scale=(1, 5)).tolist()
    ['moderate', 'high']
    """
    s = _answers(scores, "scores")
    if pd.api.types.is_bool_dtype(s) or not (pd.api.types.is_numeric_dtype(s) or s.isna().all()):
        raise DataValidationError(f"scores must be numeric answers, got dtype {s.dtype}",
                                  fix=coding_advice(s, "scores", "numeric"))
    s = s.astype(float)
    lo, hi = _pair(scale, "scale")
    c0, c1 = _pair(cuts, "cuts")
    if not (lo <= c0 < c1 <= hi):
        raise ParameterError(f"cuts must satisfy {lo} <= cuts[0] < cuts[1] <= {hi}, got {cuts}",
                             fix="pass two increasing cut-offs inside the scale, e.g. cuts=(5, 8)")
    check_in_range(s.to_frame("score"), "score", lo, hi, name="scores", what="scores")
    labels = list(SATISFACTION_CLASSES)
    out = np.where(s < c0, labels[0], np.where(s >= c1, labels[2], labels[1]))
    return pd.Series(pd.Categorical(np.where(s.isna(), None, out), categories=labels, ordered=True),
                     index=s.index, name="satisfaction_class")


def _framework(framework: str) -> dict:
    return FRAMEWORKS[check_option(framework, "framework", list(FRAMEWORKS))]


def framework_scores(df: pd.DataFrame, framework: str = "S000 §8.1", *, to_100: bool = True) -> pd.DataFrame:
    """Per-respondent scores of one framework's dimensions (reverse-keyed items flipped)."""
    return scale_scores(df, _framework(framework)["dimensions"], to_100=to_100)


def framework_summary(df: pd.DataFrame, frameworks: Iterable[str] | None = None, *, ci_level: float = 0.95,
                      top: int = 2) -> pd.DataFrame:
    """Each framework's dimensions on one questionnaire: items, mean 0-100, top-box share, alpha [CI].

    The top-box share is the share of respondents whose mean item answer (after reverse
    keying) reaches the top ``top`` boxes of the 1-5 scale, i.e. is at least 4. The alpha
    interval is Feldt's (columns alpha_ci_lower, alpha_ci_upper; ``.attrs["ci_level"]``).
    """
    ci_level = check_ci_level(ci_level)
    check_count(top, "top", 1, 4)
    frameworks = list(FRAMEWORKS) if frameworks is None else _as_list(frameworks, "frameworks")
    rows = []
    for fw in frameworks:
        dims = _framework(fw)["dimensions"]
        raw = scale_scores(df, dims, to_100=False)
        pomp = scale_scores(df, dims, to_100=True)
        for dim, its in dims.items():
            hi = max(item_scale(i)[1] for i in its)
            a = cronbach_alpha(df, its, ci_level=ci_level) if len(its) > 1 else None
            rows.append({"framework": fw, "dimension": dim, "k": len(its), "items": ", ".join(its),
                         "mean_0_100": float(pomp[dim].mean()),
                         "top_box_share": float((raw[dim] >= hi - top + 1).mean()),
                         "alpha": np.nan if a is None else a["alpha"],
                         "alpha_ci_lower": np.nan if a is None else a["ci_lower"],
                         "alpha_ci_upper": np.nan if a is None else a["ci_upper"]})
    out = pd.DataFrame(rows).set_index(["framework", "dimension"])
    out.attrs["ci_level"] = ci_level
    return out


# ------------------------------------------------------------------------------------
# driver analysis
# ------------------------------------------------------------------------------------
def _check_corr_inputs(X: pd.DataFrame, y) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(X, pd.DataFrame):
        raise ParameterError(f"X must be a DataFrame of driver scores, got {type(X).__name__}",
                             fix="pass one column per driver, e.g. scale_scores(survey, DRIVER_ITEMS)")
    if X.columns.duplicated().any():
        raise ParameterError(f"X has duplicated column names {sorted(set(X.columns[X.columns.duplicated()]))}",
                             fix="give every driver its own column name")
    if X.shape[1] < 1:
        raise ParameterError("X has no driver columns", fix="pass one column per driver")
    check_not_empty(X, "X", 3)
    check_numeric(X, list(X.columns), "X")
    check_no_nan(X, list(X.columns), "X")
    yv = check_array(y, "y")
    check_same_length(X=X, y=yv)
    const = [c for c in X.columns if X[c].std() == 0]
    if const or yv.std() == 0:
        what = const if const else ["y"]
        raise DataValidationError(f"{what} are constant, so their importance is undefined",
                                  fix="drop constant drivers (or check the outcome column)")
    c = np.corrcoef(np.column_stack([X.to_numpy(float), yv]), rowvar=False)
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
    if np.linalg.eigvalsh(Rxx).min() <= 1e-10:
        raise DataValidationError("the drivers are perfectly collinear (singular correlation matrix)",
                                  fix="drop a driver that is a combination of the others")
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

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(500, 2)), columns=["a", "b"])
    >>> w = shapley_r2(X, 2 * X["a"] + X["b"] + rng.normal(size=500))
    >>> bool(w["a"] > w["b"])
    True
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

    Examples
    --------
    >>> import pandas as pd
    >>> t = importance_performance(pd.Series({"a": .4, "b": .1, "c": .3, "d": .2}),
    ...                            pd.Series({"a": 50, "b": 80, "c": 75, "d": 40}))
    >>> t["action"].tolist()
    ['Concentrate here', 'Possible overkill', 'Keep up the good work', 'Low priority']
    """
    fix = "pass two numeric Series indexed by driver, e.g. from DriverAnalysis().fit(survey).summary"
    if not isinstance(importance, pd.Series) or not isinstance(performance, pd.Series):
        raise ParameterError("importance and performance must be Series indexed by driver", fix=fix)
    try:
        imp, perf = importance.astype(float), performance.astype(float)
    except (TypeError, ValueError):
        raise DataValidationError("importance and performance must be numbers indexed by driver", fix=fix) from None
    if imp.index.duplicated().any() or perf.index.duplicated().any():
        raise DataValidationError("importance and performance must name each driver once",
                                  fix="aggregate or de-duplicate the drivers first")
    if set(imp.index) != set(perf.index):
        raise ParameterError("importance and performance must be indexed by the same drivers",
                             fix="build both from the same driver list")
    perf = perf.reindex(imp.index)
    if not (np.isfinite(imp).all() and np.isfinite(perf).all()) or len(imp) < 2:
        raise DataValidationError("IPA needs at least 2 drivers with finite (non-missing) importance and performance",
                                  fix="drop drivers with missing or infinite values")
    if isinstance(crosshair, str):
        check_option(crosshair, "crosshair", ["mean", "median"])
        ci, cp = getattr(imp, crosshair)(), getattr(perf, crosshair)()
    else:
        ci, cp = _pair(crosshair, "crosshair")
    hi_i, hi_p = imp >= ci, perf >= cp
    action = [IPA_LABELS[(bool(a), bool(b))] for a, b in zip(hi_i, hi_p, strict=True)]
    return pd.DataFrame({"importance": imp, "performance": perf, "high_importance": hi_i,
                         "high_performance": hi_p, "action": action,
                         "crosshair_importance": ci, "crosshair_performance": cp})


class DriverAnalysis(Fitter):
    """Key-driver analysis of satisfaction (满意度驱动因素分析) with bootstrap uncertainty.

    Regresses an outcome (default: the satisfaction scale SAT) on driver scores and
    reports, per driver (``summary``, sorted by importance):

    * ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``p_value``: the
      standardised regression coefficient (beta, OLS on z-scores) with its t interval;
    * ``raw_estimate``, ``raw_std_error``: the same coefficient on the drivers' and
      outcome's own scales (the full raw-scale regression, intercept included, is
      ``coefficients_``; R² and adjusted R² are ``r2_`` and ``adj_r2_``);
    * ``r`` (zero-order correlation), ``vif`` (variance inflation factor);
    * ``importance`` (the driver's part of R², ``method="relative_weights"`` or
      ``"shapley"``), ``importance_share`` (its share of R²) with a percentile bootstrap
      interval ``share_ci_lower``/``share_ci_upper`` and ``p_rank_as_estimated`` (how
      often the bootstrap reproduces the driver's rank), ``rank``;
    * ``performance``: the driver's mean score (0-100) for IPA.

    Parameters
    ----------
    method : {"relative_weights", "shapley"}
    n_boot : int
        Bootstrap resamples of respondents for the importance intervals (0 = none).
    ci_level : float
    seed : int or numpy Generator
    min_respondents : int, optional
        Complete responses below which the fit warns (:class:`~crmlab.errors.SmallSampleWarning`)
        and goes on; default max(30, 5 x drivers), a rule of thumb for stable importance
        ranks. Pass a lower number to silence the warning knowingly (e.g. for a 16-row
        published data set); fewer than drivers + 2 responses cannot be fitted at all.

    Examples
    --------
    >>> from crmlab import datasets
    >>> da = DriverAnalysis(n_boot=0).fit(datasets.load("survey"))
    >>> da.summary.index[0], round(da.r2_, 3)
    ('product', 0.162)
    """

    _unit = "respondents"

    def __init__(self, method: str = "relative_weights", n_boot: int = 500, ci_level: float = 0.95, seed=0,
                 min_respondents: int | None = None):
        check_option(method, "method", ["relative_weights", "shapley"])
        check_count(n_boot, "n_boot", 0, 100_000)
        if 0 < n_boot < 50:
            raise ParameterError(f"n_boot={n_boot} is too few for percentile intervals",
                                 fix="use n_boot=0 (no intervals) or n_boot >= 200")
        check_ci_level(ci_level)
        check_random_state(seed)
        if min_respondents is not None:
            check_count(min_respondents, "min_respondents", 1, 10**9)
        self.method, self.n_boot, self.ci_level, self.seed = method, n_boot, ci_level, seed
        self.min_respondents = min_respondents

    # -- inputs ---------------------------------------------------------------------------
    @staticmethod
    def _outcome(df, outcome, item_scales):
        if isinstance(outcome, str) and outcome in df.columns:
            if outcome in QUESTIONNAIRE.index or (item_scales and outcome in item_scales):
                validate_responses(df, [outcome], item_scales=item_scales)
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

        ``outcome``: a column, a construct of ``CONSTRUCT_ITEMS`` (scored as the mean of its
        items) or a list of items. ``drivers``: ``{driver: [items]}`` (scored with
        :func:`scale_scores`; default ``DRIVER_ITEMS``) or a list of columns that already hold
        driver scores (their performance is then reported on their own scale, rescaled 0-100
        only if the column is a questionnaire item or ``item_scales`` gives its range).
        """
        _check_frame_arg(df, "survey")
        check_not_empty(df, "survey", 3)
        drivers = DRIVER_ITEMS if drivers is None else drivers
        if isinstance(drivers, Mapping):
            drivers = _scale_dict(drivers, "drivers")
            items = list(dict.fromkeys(i for its in drivers.values() for i in its))
            validate_responses(df, items, item_scales=item_scales, allow_nan=False)
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
        if n < p + 2:
            raise DataValidationError(
                f"only {n} complete responses for {p} drivers: a regression on {p} drivers and an intercept "
                f"needs at least {p + 2} (one more than its coefficients) to estimate anything",
                fix="use fewer drivers (merge related ones) or more responses (pool waves or segments)")
        need = max(30, 5 * p) if self.min_respondents is None else self.min_respondents
        if n < need:
            warnings.warn(SmallSampleWarning(
                f"only {n} complete responses for {p} drivers (the rule of thumb asks for {need}): the estimates "
                f"are returned, but importance shares and ranks are unstable, so read the intervals, not the "
                f"ranks. To silence this knowingly: DriverAnalysis(min_respondents={n})"), stacklevel=2)
        Rxx, rxy = _check_corr_inputs(X, y)
        imp_fn = _rw_from_corr if self.method == "relative_weights" else _shapley_from_corr
        raw = imp_fn(Rxx, rxy)
        r2 = float(raw.sum())
        import statsmodels.api as sm

        # standardised OLS (coefficients = Rxx^-1 rxy) with classical t intervals, and the raw-scale fit
        Z = (X - X.mean()) / X.std(ddof=1)
        zy = (y - y.mean()) / y.std(ddof=1)
        std = sm.OLS(zy.to_numpy(), sm.add_constant(Z.to_numpy())).fit()
        ols = sm.OLS(y.to_numpy(), sm.add_constant(X.to_numpy())).fit()
        g = 1 - self.ci_level
        ci_std = std.conf_int(alpha=g)[1:]
        vif = np.diag(np.linalg.inv(Rxx))
        out = summary_frame(std.params[1:], std.bse[1:], ci_std[:, 0], ci_std[:, 1], index=X.columns,
                            ci_level=self.ci_level, p_value=std.pvalues[1:],
                            raw_estimate=ols.params[1:], raw_std_error=ols.bse[1:], r=rxy, vif=vif,
                            importance=raw, importance_share=raw / r2)
        self.bootstrap_failures_ = 0
        if self.n_boot:
            with _single_thread():
                self._bootstrap(X, y, raw, imp_fn, out)
        out["rank"] = (-out["importance"]).rank(method="first").astype(int)
        out["performance"] = perf.reindex(X.columns).to_numpy()
        self.drivers_ = out.sort_values("rank")
        ci_raw = ols.conf_int(alpha=g)
        self.coefficients_ = summary_frame(ols.params, ols.bse, ci_raw[:, 0], ci_raw[:, 1],
                                           index=["intercept", *X.columns], ci_level=self.ci_level,
                                           p_value=ols.pvalues, std_estimate=[np.nan, *std.params[1:]])
        self.r2_, self.adj_r2_ = r2, float(ols.rsquared_adj)
        self.n_obs_, self.outcome_ = n, yname
        self.ols_ = ols
        return self

    def _bootstrap(self, X, y, raw, imp_fn, out):
        n, p = X.shape
        rng = check_random_state(self.seed)
        data = np.column_stack([X.to_numpy(float), y.to_numpy(float)])
        boots, ranks, fails = [], [], 0
        for _ in range(self.n_boot):
            with np.errstate(divide="ignore", invalid="ignore"):
                c = np.corrcoef(data[rng.integers(0, n, n)], rowvar=False)
            try:  # a resample of a small survey can repeat rows until a driver is constant or collinear
                if not np.all(np.isfinite(c)):
                    raise DataValidationError("degenerate resample")
                w = imp_fn(c[:-1, :-1], c[:-1, -1])
            except (DataValidationError, np.linalg.LinAlgError):
                fails += 1
                continue
            boots.append(w / w.sum())
            ranks.append((-w).argsort().argsort() + 1)
        self.bootstrap_failures_ = fails
        if len(boots) < max(20, self.n_boot // 2):
            warnings.warn(SmallSampleWarning(
                f"{fails} of {self.n_boot} bootstrap resamples had a constant or collinear driver: no importance "
                "intervals are reported"), stacklevel=3)
            return
        boots, ranks = np.asarray(boots), np.asarray(ranks)
        g = 1 - self.ci_level
        out["share_ci_lower"] = np.quantile(boots, g / 2, axis=0)
        out["share_ci_upper"] = np.quantile(boots, 1 - g / 2, axis=0)
        out["p_rank_as_estimated"] = (ranks == (-raw).argsort().argsort() + 1).mean(axis=0)
        self.bootstrap_shares_ = pd.DataFrame(boots, columns=X.columns)

    def _summary(self) -> pd.DataFrame:
        out = self.drivers_.copy()
        out.attrs["ci_level"] = self.ci_level
        return out

    def _repr_fitted(self) -> str:
        top = ", ".join(f"{k}={v:.0%}" for k, v in self.drivers_["importance_share"].head(3).items())
        return f"fitted on {self.n_obs_:,} respondents, R²={self.r2_:.3f} for {self.outcome_}; top shares: {top}"

    def ipa(self, crosshair="mean") -> pd.DataFrame:
        """The IPA table: importance share vs performance (0-100) with the action per driver."""
        self._check_fitted()
        return importance_performance(self.drivers_["importance_share"], self.drivers_["performance"],
                                      crosshair=crosshair)

    def plot_importance(self, ax=None):
        """Horizontal bars of importance shares with bootstrap intervals."""
        import matplotlib.pyplot as plt

        from . import plots

        self._check_fitted()
        s = self.drivers_.iloc[::-1]
        ax = ax or plt.subplots(figsize=(6.5, 3.6))[1]
        err = None
        if "share_ci_lower" in s:
            err = np.vstack([s["importance_share"] - s["share_ci_lower"], s["share_ci_upper"] - s["importance_share"]])
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
