"""A customer satisfaction index model (客户满意度指数模型) in the ACSI/ECSI tradition.

The American Customer Satisfaction Index (ACSI, Fornell et al. 1996) links customer
expectations (EXP, 客户期望), perceived quality (PQ, 感知质量) and perceived value (PV,
感知价值) to satisfaction (SAT, 客户满意度), which lowers complaints (COMP, 客户抱怨) and
raises loyalty (LOY, 客户忠诚度). :class:`SatisfactionIndexModel` estimates that structural
equation model (SEM, 结构方程模型) with semopy (maximum likelihood on the item covariances)
and reports

* the structural paths, standardised, with delta-method or bootstrap intervals;
* measurement quality (测量质量): standardised loadings, composite reliability (组合信度),
  average variance extracted (AVE, 平均方差抽取量), Cronbach's alpha, the Fornell-Larcker
  check and the heterotrait-monotrait ratio (HTMT);
* a 0-100 index per construct as ACSI reports it: each item is rescaled to 0-100 and
  the items are averaged with weights taken from the fitted model (see
  :meth:`SatisfactionIndexModel.index_weights`);
* total effects of each driver on satisfaction, and a path diagram drawn with matplotlib.

A model can say what the literature's models say: residual covariances between items
(``covariances=``), parameters fixed at a value (``fixed=``) and single-item constructs,
identified by fixing the item's error variance (``single_item_reliability=``). A solution a
careful researcher would not report (a standardised loading or path beyond +-1, R² = 1, a latent
correlation near 1, a zero or negative variance, a singular information matrix) is never returned
silently: it comes with an :class:`~crmlab.errors.ImproperSolutionWarning` (or, with
``strict=True``, an :class:`~crmlab.errors.ImproperSolutionError`) listing each problem and what
to do, and ``improper_`` holds the list.

Two specifications come with the kit: ``"acsi"`` (the six ACSI constructs) and
``"drivers"`` (ACSI plus the six touchpoint drivers of the questionnaire: product
quality, service attitude, service efficiency, purchase experience, price fairness and
emotional connection). Any other specification is two dicts.

Checking against the planted truth: :func:`latent_covariance` rebuilds the latent
covariance the generator implies from ``truth.json`` and :func:`population_paths` gives
the population coefficients of ANY (possibly reduced) model as Sigma_xx^-1 Sigma_xy; for
the full ``"drivers"`` model they equal the planted paths, for the core ``"acsi"`` model
some paths absorb omitted drivers (e.g. SAT -> LOY absorbs part of emotion -> LOY).
:func:`respondent_paths` gives the respondents' own target (who answers is selected on
satisfaction), which :func:`compare_with_truth` reports beside the population one.
All data the kit ships are SYNTHETIC.

>>> from crmlab import datasets
>>> m = SatisfactionIndexModel("acsi").fit(datasets.load("survey"))
>>> round(float(m.summary.loc[("SAT", "LOY"), "estimate"]), 2)
0.6
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
from scipy import stats

from ._threads import single_thread as _single_thread
from .base import Fitter, TestResult, summary_frame
from .errors import (
    ColumnError,
    ConvergenceError,
    DataValidationError,
    ImproperSolutionError,
    ImproperSolutionWarning,
    ParameterError,
)
from .satisfaction import (
    CONSTRUCT_ITEMS,
    DRIVER_ITEMS,
    QUESTIONNAIRE,
    item_scale,
    validate_responses,
)
from .validation import (
    check_ci_level,
    check_count,
    check_frame,
    check_no_nan,
    check_numeric,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = [
    "ACSI_MEASUREMENT",
    "ACSI_STRUCTURE",
    "DRIVER_MEASUREMENT",
    "DRIVER_STRUCTURE",
    "CONSTRUCT_NAMES",
    "model_spec",
    "model_description",
    "SatisfactionIndexModel",
    "htmt",
    "latent_covariance",
    "population_paths",
    "discretised_loading",
    "IMPROPER_LIMITS",
    "LATENT_COLUMNS",
    "respondent_paths",
    "compare_with_truth",
]

ACSI_MEASUREMENT: dict[str, list[str]] = {k: list(v) for k, v in CONSTRUCT_ITEMS.items()}
"""Items of the six ACSI constructs (reflective measurement)."""

ACSI_STRUCTURE: dict[str, list[str]] = {
    "PQ": ["EXP"],
    "PV": ["EXP", "PQ"],
    "SAT": ["EXP", "PQ", "PV"],
    "COMP": ["SAT"],
    "LOY": ["SAT", "COMP"],
}
"""The ACSI structural model: endogenous construct -> its predictors."""

DRIVER_MEASUREMENT: dict[str, list[str]] = {
    **ACSI_MEASUREMENT,
    **{k: list(v) for k, v in DRIVER_ITEMS.items()},
}
# the overall service-quality item was written to span attitude and efficiency
DRIVER_MEASUREMENT["attitude"] = DRIVER_MEASUREMENT["attitude"] + ["q_service_quality"]
DRIVER_MEASUREMENT["efficiency"] = DRIVER_MEASUREMENT["efficiency"] + ["q_service_quality"]

DRIVER_STRUCTURE: dict[str, list[str]] = {
    "PQ": ["EXP", "product", "attitude", "efficiency", "purchase"],
    "PV": ["EXP", "PQ", "price"],
    "SAT": ["EXP", "PQ", "PV"],
    "COMP": ["SAT"],
    "LOY": ["SAT", "COMP", "emotion"],
}
"""ACSI extended with the touchpoint drivers: drivers act on satisfaction through perceived
quality (product, attitude, efficiency, purchase) and value (price); emotional connection
acts on loyalty directly, not on satisfaction."""

CONSTRUCT_NAMES: dict[str, tuple[str, str]] = {
    "EXP": ("customer expectations", "客户期望"),
    "PQ": ("perceived quality", "感知质量"),
    "PV": ("perceived value", "感知价值"),
    "SAT": ("customer satisfaction", "客户满意度"),
    "COMP": ("customer complaints", "客户抱怨"),
    "LOY": ("customer loyalty", "客户忠诚度"),
    "product": ("product quality", "产品质量"),
    "attitude": ("service attitude", "服务态度"),
    "efficiency": ("service efficiency", "服务效率"),
    "purchase": ("purchase experience", "购买体验"),
    "price": ("price fairness", "价格合理性"),
    "emotion": ("emotional connection", "情感联系"),
}

_SPECS = {"acsi": (ACSI_MEASUREMENT, ACSI_STRUCTURE), "drivers": (DRIVER_MEASUREMENT, DRIVER_STRUCTURE)}

# fixed layout of the known constructs for the path diagram (x, y)
_LAYOUT = {
    "EXP": (0.0, 1.7), "PQ": (0.0, 0.0), "PV": (1.9, -1.4), "SAT": (3.8, 0.0),
    "COMP": (5.7, 1.4), "LOY": (5.7, -1.4),
    "product": (-2.3, 1.3), "attitude": (-2.3, 0.45), "efficiency": (-2.3, -0.4),
    "purchase": (-2.3, -1.25), "price": (1.9, -3.0), "emotion": (3.8, -2.8),
}


def _spec(spec, measurement, structure):
    """The (measurement, structure) dicts of a preset ``spec`` or of the two dicts given, checked."""
    if measurement is None and structure is None:
        if not isinstance(spec, str) or spec not in _SPECS:
            raise ParameterError(f"unknown model specification {spec!r}",
                                 fix=f"use one of {list(_SPECS)} or pass measurement= and structure= dicts")
        measurement, structure = _SPECS[spec]
    if measurement is None or structure is None:
        raise ParameterError("pass both measurement= and structure= (or neither, to use a preset)",
                             fix="e.g. measurement=ACSI_MEASUREMENT, structure=ACSI_STRUCTURE")
    for name, value in (("measurement", measurement), ("structure", structure)):
        if not isinstance(value, Mapping):
            raise ParameterError(f"{name} must be a dict, got {type(value).__name__}",
                                 fix='e.g. measurement={"SAT": ["sat_overall", "sat_vs_ideal"]}, structure={"LOY": ["SAT"]}')
    for c, its in dict(measurement).items():
        if isinstance(its, str) or not isinstance(its, Sequence) or not its:
            raise ParameterError(f"construct {c!r} has no items (give a list of item columns), got {its!r}",
                                 fix="give every construct a list of at least one item")
        if len(set(its)) < len(its):
            raise ParameterError(f"construct {c!r} lists an item twice: {list(its)}", fix="list each item once")
    for y, xs in dict(structure).items():
        if isinstance(xs, str) or not isinstance(xs, Sequence):
            raise ParameterError(f"structure[{y!r}] must be a list of predictor names, got {xs!r}",
                                 fix=f'write e.g. {{"{y}": ["SAT"]}}')
    measurement = {str(k): list(v) for k, v in dict(measurement).items()}
    structure = {str(k): list(v) for k, v in dict(structure).items()}
    for y, xs in structure.items():
        missing = [v for v in [y, *xs] if v not in measurement]
        if missing:
            raise ParameterError(f"structural model uses {missing} that have no items in measurement",
                                 fix="add them to measurement= or remove the paths")
        if y in xs:
            raise ParameterError(f"structure[{y!r}] lists {y!r} as its own predictor", fix="remove the self-loop")
    return measurement, structure


def model_spec(spec: str = "acsi", measurement: Mapping[str, Sequence[str]] | None = None,
               structure: Mapping[str, Sequence[str]] | None = None) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The checked (measurement, structure) dicts of a preset ("acsi", "drivers") or of your own dicts.

    The one description every satisfaction-index model of the kit reads (the SEM here and the
    PLS path model), so a student can fit both on the same specification.

    >>> meas, struct = model_spec("acsi")
    >>> struct["SAT"], meas["PV"]
    (['EXP', 'PQ', 'PV'], ['pv_price_given_quality', 'pv_quality_given_price'])
    """
    return _spec(spec, measurement, structure)


def _number(v: float) -> str:
    """A number in semopy's syntax (no exponent: '1e+05' would not parse)."""
    return np.format_float_positional(float(v), trim="-")


def _check_extras(measurement: Mapping[str, Sequence[str]], structure: Mapping[str, Sequence[str]],
                  covariances, fixed) -> tuple[list[tuple[str, str]], dict[tuple[str, str, str], float]]:
    """Check residual covariances and fixed parameters against a (checked) specification."""
    items = {i for its in measurement.values() for i in its}
    names = items | set(measurement)
    pairs: list[tuple[str, str]] = []
    if covariances is not None:
        if isinstance(covariances, (str, Mapping)) or not isinstance(covariances, Sequence):
            raise ParameterError(f"covariances must be a list of pairs of names, got {type(covariances).__name__}",
                                 fix='pass e.g. covariances=[("sat_overall", "sat_vs_ideal")]')
        for pair in covariances:
            if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise ParameterError(f"each covariance is a pair of names, got {pair!r}",
                                     fix='pass e.g. covariances=[("sat_overall", "sat_vs_ideal")]')
            a, b = pair
            unknown = [v for v in (a, b) if not isinstance(v, str) or v not in names]
            if unknown:
                raise ParameterError(f"covariance {pair!r} names {unknown} that are neither items nor constructs "
                                     "of the model", fix="use item columns of measurement= or construct names")
            if a == b:
                raise ParameterError(f"covariance {pair!r} pairs {a!r} with itself: that is a variance",
                                     fix=f"fix a variance with fixed={{({a!r}, '~~', {a!r}): value}}")
            if (a in items) != (b in items):
                raise ParameterError(f"covariance {pair!r} pairs an item with a construct",
                                     fix="pair two items (a residual covariance) or two constructs")
            if (a, b) in pairs or (b, a) in pairs:
                raise ParameterError(f"covariance {pair!r} is listed twice", fix="list each pair once")
            pairs.append((a, b))
    out: dict[tuple[str, str, str], float] = {}
    if fixed is not None:
        if not isinstance(fixed, Mapping):
            raise ParameterError(f"fixed must be a dict {{(lval, op, rval): value}}, got {type(fixed).__name__}",
                                 fix="pass e.g. fixed={('recommend_0_10', '~~', 'recommend_0_10'): 0.5}")
        for key, value in fixed.items():
            if not (isinstance(key, tuple) and len(key) == 3 and all(isinstance(k, str) for k in key)):
                raise ParameterError(f"fixed keys are (lval, op, rval) triples, got {key!r}",
                                     fix="e.g. ('SAT', '=~', 'sat_overall'), ('LOY', '~', 'SAT') or ('x', '~~', 'x')")
            lv, op, rv = key
            if op == "=~":
                ok = lv in measurement and rv in measurement[lv]
                what = f"{rv!r} is not an item of construct {lv!r}"
            elif op == "~":
                ok = lv in structure and rv in structure[lv]
                what = f"the structure has no path {rv} -> {lv}"
            elif op == "~~":
                ok = lv in names and rv in names and (lv in items) == (rv in items)
                what = f"{lv!r} ~~ {rv!r} is not a variance or covariance of two items or two constructs"
            else:
                ok, what = False, f"operator {op!r} is not one of '=~', '~', '~~'"
            if not ok:
                raise ParameterError(f"fixed parameter {key!r}: {what}",
                                     fix="fix loadings (construct, '=~', item), paths (target, '~', source) or "
                                         "(co)variances (a, '~~', b) of the model's own items and constructs")
            check_scalar(value, f"fixed[{key!r}]")
            if op == "~~" and lv == rv and value < 0:
                raise ParameterError(f"fixed variance {key!r} = {value} is negative", fix="fix variances at >= 0")
            out[key] = float(value)
    return pairs, out


def model_description(measurement: Mapping[str, Sequence[str]], structure: Mapping[str, Sequence[str]], *,
                      covariances: Sequence[tuple[str, str]] | None = None,
                      fixed: Mapping[tuple[str, str, str], float] | None = None) -> str:
    """The semopy (lavaan-like) model syntax for a measurement and a structural dict.

    ``covariances`` adds free (residual) covariances between pairs of items or constructs;
    ``fixed`` fixes parameters at a value: loadings ``(construct, "=~", item)``, paths
    ``(target, "~", source)`` and (co)variances ``(a, "~~", b)``. A construct whose loadings
    are all free is scaled by its first item (loading 1), as in lavaan.

    >>> print(model_description({"A": ["a1", "a2"], "B": ["b1", "b2"]}, {"B": ["A"]}))
    A =~ a1 + a2
    B =~ b1 + b2
    B ~ A
    >>> print(model_description({"A": ["a1", "a2"], "B": ["b1"]}, {"B": ["A"]}, covariances=[("a1", "a2")],
    ...                         fixed={("b1", "~~", "b1"): 0.25}))
    A =~ a1 + a2
    B =~ b1
    B ~ A
    a1 ~~ a2
    b1 ~~ 0.25*b1
    """
    if not isinstance(measurement, Mapping) or not measurement:
        raise ParameterError("measurement must be a non-empty dict {construct: [items]}",
                             fix='pass e.g. {"SAT": ["sat_overall", "sat_expectation"]}')
    if not isinstance(structure, Mapping):
        raise ParameterError("structure must be a dict {outcome: [predictors]}",
                             fix='pass e.g. {"LOY": ["SAT"]}, or {} for a measurement model only')
    for c, its in measurement.items():
        if isinstance(its, str) or not isinstance(its, Sequence) or not its or not all(isinstance(i, str) and i for i in its):
            raise ParameterError(f"construct {c!r} needs a list of item column names, got {its!r}",
                                 fix=f'list its items, e.g. {{"{c}": ["item_1", "item_2"]}}')
    for y, xs in structure.items():
        if isinstance(xs, str) or not isinstance(xs, Sequence) or not all(isinstance(x, str) and x for x in xs):
            raise ParameterError(f"structure[{y!r}] must be a list of predictor names, got {xs!r}",
                                 fix=f'write e.g. {{"{y}": ["SAT"]}}')
    pairs, fix = _check_extras(measurement, structure, covariances, fixed)

    def term(lv, op, rv):
        return f"{_number(fix[(lv, op, rv)])}*{rv}" if (lv, op, rv) in fix else rv

    lines = [f"{c} =~ {' + '.join(term(c, '=~', i) for i in its)}" for c, its in measurement.items()]
    lines += [f"{y} ~ {' + '.join(term(y, '~', x) for x in xs)}" for y, xs in structure.items() if xs]
    lines += [f"{a} ~~ {term(a, '~~', b)}" for a, b in pairs]
    listed = {(a, b) for a, b in pairs}
    lines += [f"{a} ~~ {_number(v)}*{b}" for (a, op, b), v in fix.items() if op == "~~" and (a, b) not in listed]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------
# truth helpers
# ------------------------------------------------------------------------------------
def latent_covariance(truth: Mapping) -> pd.DataFrame:
    """The latent covariance (correlation) matrix implied by the planted ACSI structure.

    Rebuilt from ``truth["acsi"]`` (paths, driver correlation, service-experience
    loading, residual SDs) exactly as the generator builds it: expectations independent
    of the drivers, drivers equicorrelated, service efficiency partly made of service
    experience, every latent with variance 1.

    >>> from crmlab import datasets
    >>> C = latent_covariance(datasets.load_truth())
    >>> round(float(C.loc["SAT", "SAT"]), 4), round(float(C.loc["EXP", "PQ"]), 2)
    (1.0, 0.25)
    """
    acsi = truth.get("acsi") if isinstance(truth, Mapping) else None
    if not acsi or "paths" not in acsi:
        raise ParameterError("truth must be the dict from datasets.load_truth() / world.truth with an 'acsi' entry",
                             fix="pass datasets.load_truth() or world.truth")
    exo = ["EXP", "product", "attitude", "efficiency", "purchase", "price", "emotion"]
    endo = ["PQ", "PV", "SAT", "COMP", "LOY"]
    names = exo + endo
    ix = {n: i for i, n in enumerate(names)}
    k = len(names)
    B = np.zeros((k, k))
    try:
        for key, v in acsi["paths"].items():
            src, dst = key.split("->")
            B[ix[dst], ix[src]] = v
        rho = acsi["driver_correlation"]
        scale = np.ones(6)
        scale[exo[1:].index("efficiency")] = np.sqrt(1 - acsi["service_experience_loading"] ** 2)
        resid = {n: acsi["residual_sd"][n] for n in endo}
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise ParameterError(f"truth['acsi'] is incomplete or malformed ({type(err).__name__}: {err})",
                             fix="pass the unchanged dict of datasets.load_truth() or world.truth") from None
    drv = (np.full((6, 6), rho) + (1 - rho) * np.eye(6)) * np.outer(scale, scale)
    np.fill_diagonal(drv, 1.0)
    psi = np.zeros((k, k))
    psi[0, 0] = 1.0
    psi[1:7, 1:7] = drv
    for n in endo:
        psi[ix[n], ix[n]] = resid[n] ** 2
    if not np.all(np.isfinite(psi)) or not np.all(np.isfinite(B)):
        raise ParameterError("truth['acsi'] holds missing or infinite values",
                             fix="pass the unchanged dict of datasets.load_truth() or world.truth")
    inv = np.linalg.inv(np.eye(k) - B)
    return pd.DataFrame(inv @ psi @ inv.T, index=names, columns=names)


def population_paths(structure: Mapping[str, Sequence[str]], cov: pd.DataFrame) -> pd.DataFrame:
    """Population (standardised) coefficients of a structural model: Sigma_xx^-1 Sigma_xy per equation.

    With the planted latent covariance (:func:`latent_covariance`), these are the values
    a consistent estimator of *this* model converges to, also when the model omits
    causes that the generator used (a reduced model).

    >>> from crmlab import datasets
    >>> C = latent_covariance(datasets.load_truth())
    >>> round(float(population_paths({"LOY": ["SAT", "COMP"]}, C).loc[("SAT", "LOY"), "population"]), 3)
    0.59
    """
    if not isinstance(cov, pd.DataFrame):
        raise ParameterError("cov must be a DataFrame with construct names as index and columns",
                             fix="build it with latent_covariance(truth)")
    if not isinstance(structure, Mapping):
        raise ParameterError(f"structure must be a dict {{outcome: [predictors]}}, got {type(structure).__name__}",
                             fix="pass e.g. ACSI_STRUCTURE")
    rows = []
    for y, xs in structure.items():
        if isinstance(xs, str) or not isinstance(xs, Sequence):
            raise ParameterError(f"structure[{y!r}] must be a list of predictor names, got {xs!r}",
                                 fix=f'write e.g. {{"{y}": ["SAT"]}}')
        xs = list(xs)
        if not xs:
            continue
        missing = [v for v in [y, *xs] if v not in cov.index or v not in cov.columns]
        if missing:
            raise ParameterError(f"constructs {missing} are not in cov", fix=f"use constructs of {list(cov.index)}")
        try:
            b = np.linalg.solve(cov.loc[xs, xs].to_numpy(dtype=float), cov.loc[xs, y].to_numpy(dtype=float))
        except np.linalg.LinAlgError:
            raise DataValidationError(f"the predictors {xs} of {y!r} are collinear in cov (singular matrix)",
                                      fix="check cov, or drop a predictor that duplicates another") from None
        sd_y = np.sqrt(cov.loc[y, y])
        for x, v in zip(xs, b, strict=True):
            rows.append({"source": x, "target": y, "population": float(v * np.sqrt(cov.loc[x, x]) / sd_y)})
    return pd.DataFrame(rows).set_index(["source", "target"])


def discretised_loading(loading: float, mean: float, sd: float, low: int, high: int) -> float:
    """Standardised loading of an item after rounding to whole answers and clipping to the scale.

    An item recorded as ``clip(round(mean + sd * x*), low, high)`` with
    ``corr(x*, latent) = loading`` correlates ``loading * E[g(Z) Z] / SD(g(Z))`` with its
    latent (Z standard normal, g the rounding and clipping): coarse scales attenuate
    loadings. Computed by quadrature.

    >>> round(discretised_loading(0.85, 3.7, 0.9, 1, 5), 3)
    0.798
    """
    for v, nm in ((loading, "loading"), (mean, "mean"), (sd, "sd")):
        check_scalar(v, nm)
    if sd <= 0 or high <= low:
        raise ParameterError("need sd > 0 and high > low", fix="pass the item's answer-model mean, SD and scale")
    z = np.linspace(-8, 8, 16001)
    w = stats.norm.pdf(z)
    w /= w.sum()
    g = np.clip(np.rint(mean + sd * z), low, high)
    m = (g * w).sum()
    v = ((g - m) ** 2 * w).sum()
    if v <= 0:
        return float("nan")
    return float(loading * (g * z * w).sum() / np.sqrt(v))


# ------------------------------------------------------------------------------------
# measurement quality
# ------------------------------------------------------------------------------------
def htmt(df: pd.DataFrame, measurement: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations (Henseler, Ringle & Sarstedt 2015).

    HTMT(i, j) = mean ``|r|`` between the items of i and of j, divided by the geometric mean
    of the average ``|r|`` among the items within i and within j. Values above 0.85 (strict)
    or 0.90 (lenient) question the discriminant validity (区分效度) of the pair.
    Reverse-keyed items should be flipped first; absolute correlations make the ratio
    independent of the sign of a construct (complaints correlate negatively with
    satisfaction). Constructs with a single item get NaN.
    """
    if not isinstance(measurement, Mapping) or len(measurement) < 2:
        raise ParameterError("measurement must map at least two constructs to their items",
                             fix="pass e.g. {'SAT': [...items...], 'LOY': [...items...]}")
    items = list(dict.fromkeys(i for its in measurement.values() for i in its))
    check_frame(df, "survey", required=items, numeric=items, no_nan=items, min_rows=3)
    const = [i for i in items if df[i].nunique() < 2]
    if const:
        raise DataValidationError(f"item(s) {const} are constant: their correlations are undefined",
                                  fix="drop constant items from measurement")
    R = df[items].astype(float).corr().abs()
    names = list(measurement)

    def mono(c):
        its = list(measurement[c])
        if len(its) < 2:
            return np.nan
        sub = R.loc[its, its].to_numpy()
        return sub[np.triu_indices(len(its), 1)].mean()

    monos = {c: mono(c) for c in names}
    out = pd.DataFrame(np.nan, index=names, columns=names)
    for a in names:
        for b in names:
            if a == b:
                continue
            ia = [i for i in measurement[a] if i not in measurement[b]]
            ib = [i for i in measurement[b] if i not in measurement[a]]
            if not ia or not ib:
                continue
            hetero = R.loc[ia, ib].to_numpy().mean()
            out.loc[a, b] = hetero / np.sqrt(monos[a] * monos[b])
    return out


# ------------------------------------------------------------------------------------
# the model
# ------------------------------------------------------------------------------------
def _stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


#: two items correlating at least this strongly are treated as one item asked twice
DUPLICATE_R = 0.999


def _check_not_collinear(data: pd.DataFrame) -> None:
    """Refuse duplicated or linearly dependent items before the optimiser sees them.

    With such items the sample covariance matrix is singular, and whether the optimiser
    then stops, fails or lands on a boundary solution depends on floating-point detail
    (BLAS, CPU): the fault is the data's, so it is reported as one, the same on every machine.
    """
    r = data.corr().to_numpy()
    iu = np.triu_indices_from(r, k=1)
    hits = np.abs(r[iu]) >= DUPLICATE_R
    if hits.any():
        pairs = [f"{data.columns[i]} ~ {data.columns[j]} (r = {r[i, j]:.4f})"
                 for i, j in zip(iu[0][hits], iu[1][hits], strict=True)]
        raise DataValidationError(
            f"near-duplicate items: {', '.join(pairs)}; the same answer twice adds no information "
            "and makes the covariance matrix singular",
            fix="keep one item of each pair (or check that a column was not copied by mistake)")
    ev = np.linalg.eigvalsh(r)
    if ev.min() < 1e-8 * ev.max():
        raise DataValidationError(
            "the items are linearly dependent (one is a weighted sum of others), so the "
            "covariance matrix is singular",
            fix="drop derived items such as totals or averages of other items from measurement=")


def improper_estimates(inspect: pd.DataFrame, latents) -> list[str]:
    """Variables with an improper estimate in a semopy ``inspect(std_est=True)`` table.

    Improper ("Heywood case") means a non-positive variance, or a standardised loading
    whose absolute value exceeds 1. Returns the offending variable names, [] if none.

    >>> t = pd.DataFrame({"lval": ["x1", "x1", "x2", "x2", "F"], "op": ["~", "~~", "~", "~~", "~~"],
    ...                   "rval": ["F", "x1", "F", "x2", "F"], "Estimate": [1.0, 0.5, 1.2, -0.1, 1.0],
    ...                   "Est. Std": [0.8, 0.36, 1.03, -0.06, 1.0]})
    >>> improper_estimates(t, ["F"])
    ['x2']
    """
    check_frame(inspect, "inspect", required=["lval", "op", "rval", "Estimate", "Est. Std"])
    lat = set(latents)
    est = pd.to_numeric(inspect["Estimate"], errors="coerce")
    std = pd.to_numeric(inspect["Est. Std"], errors="coerce")
    var = (inspect["op"] == "~~") & (inspect["lval"] == inspect["rval"])
    bad = inspect.loc[var & (est <= 0), "lval"].tolist()
    meas = (inspect["op"] == "~") & ~inspect["lval"].isin(lat) & inspect["rval"].isin(lat)
    bad += inspect.loc[meas & (std.abs() > 1), "lval"].tolist()
    return list(dict.fromkeys(bad))


@contextmanager
def _semopy_log():
    """Catch what semopy logs on the root logger ("Fisher Information Matrix is not PD",
    "Solver didn't converge") instead of letting it escape as bare ``WARNING:root:`` lines.

    Yields the list the messages are collected in. A NullHandler keeps ``logging.warning``
    from installing a stderr handler (``basicConfig``) while semopy runs.
    """
    root = logging.getLogger()
    caught: list[str] = []

    class _Catch(logging.Filter):
        def filter(self, record):
            if record.levelno >= logging.WARNING:
                caught.append(record.getMessage())
                return False
            return True

    catcher, null, level = _Catch(), logging.NullHandler(), root.level
    root.addFilter(catcher)
    root.addHandler(null)
    if level > logging.WARNING:
        root.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield caught
    finally:
        root.removeFilter(catcher)
        root.removeHandler(null)
        root.setLevel(level)


def _fit_statistics(model, data: pd.DataFrame) -> pd.Series:
    """semopy's fit statistics; when its baseline (independence) model cannot be fitted (e.g. a
    model of single-item constructs only), the baseline chi-square is computed in closed form."""
    import semopy
    from semopy import stats as sst

    try:
        return semopy.calc_stats(model).T["Value"]
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        pass
    dof = sst.calc_dof(model)
    chi2, p_value = sst.calc_chi2(model, dof)
    cov = np.cov(data.to_numpy(dtype=float), rowvar=False, ddof=0)
    sign, logdet = np.linalg.slogdet(cov)
    # the independence model reproduces the variances exactly: F = sum(log diag S) - log|S|
    chi2_base = model.n_samples * (np.log(np.diag(cov)).sum() - logdet) if sign > 0 else np.nan
    dof_base = cov.shape[0] * (cov.shape[0] - 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        cfi = 1 - max(chi2 - dof, 0) / max(chi2_base - dof_base, chi2 - dof, 0) if dof > 0 and dof_base > 0 else np.nan
        tli = ((chi2_base / dof_base - chi2 / dof) / (chi2_base / dof_base - 1)) if dof > 0 and dof_base > 0 else np.nan
        rmsea = np.sqrt(max(chi2 / dof - 1, 0) / (model.n_samples - 1)) if dof > 0 else np.nan
    try:
        lh = sst.calc_likelihood(model)
    except np.linalg.LinAlgError:
        lh = np.nan
    return pd.Series({"DoF": dof, "chi2": chi2, "chi2 p-value": p_value if dof > 0 else np.nan, "CFI": cfi,
                      "TLI": tli, "RMSEA": rmsea, "AIC": sst.calc_aic(model, lh), "BIC": sst.calc_bic(model, lh)})


#: limits of a proper solution (Kline 2016, ch. 9; Chen et al. 2001 on Heywood cases)
IMPROPER_LIMITS = {"std_loading": 1.0, "std_path": 1.0, "r2": 0.999, "latent_corr": 0.98, "std_variance": 1e-3,
                   "fim_ratio": 1e-10}

_ADVICE = {
    "heywood": "a Heywood case: the item carries (almost) all of its construct's variance. Check that it is not a "
               "copy or a sum of other items, give the construct at least three items, or, if you know the "
               "item's reliability, fix its error variance (fixed={(item, '~~', item): value})",
    "path": "the predictors of {target} are nearly collinear (see latent_corr_ and htmt_): the model splits one "
            "effect into large parts of opposite sign. Merge those constructs into one, drop one of them from "
            "structure=, or collect items that tell them apart",
    "r2": "{target} is (almost) an exact linear function of its predictors: in these data they measure the same "
          "thing. Merge the constructs, or drop a path",
    "corr": "{a} and {b} are empirically the same construct (discriminant validity fails; HTMT {htmt}): merge "
            "them into one construct or revise their items",
    "latent_var": "construct {c} has (almost) no variance: its items barely covary. Check them (an unflipped "
                  "reverse-keyed item?) or drop the construct",
    "fim": "the information matrix is singular at this solution: the model is empirically under-identified here, "
           "so its standard errors and p-values cannot be trusted. Simplify the model (fewer constructs or "
           "paths), fix a parameter, or use more respondents",
    "se": "the standard errors of {n} free parameter(s) are undefined: treat every test of this fit as unreliable "
          "and simplify the model",
}


class SatisfactionIndexModel(Fitter):
    """ACSI/ECSI-style structural equation model of satisfaction, estimated with semopy.

    Parameters
    ----------
    spec : {"acsi", "drivers"}
        Preset specification (ignored when ``measurement`` and ``structure`` are given).
    measurement : dict, optional
        Construct -> items (reflective). An item may load on two constructs. A construct
        may have a single item; it is identified by fixing the item's error variance (see
        ``single_item_reliability``).
    structure : dict, optional
        Endogenous construct -> predictor constructs.
    covariances : list of pairs, optional
        Free covariances to add: residual covariances between items (e.g. two items with
        the same wording, or the same item in two waves) or covariances between constructs.
    fixed : dict, optional
        Parameters fixed at a value, as the literature's models state them: loadings
        ``(construct, "=~", item)``, paths ``(target, "~", source)``, (co)variances
        ``(a, "~~", b)``. A construct with all loadings free is scaled by its first item.
    single_item_reliability : float
        Assumed reliability r of the item of a single-item construct (Hayduk & Littvay
        2012): its error variance is fixed at (1 - r) x its sample variance, which identifies
        the construct. The default 1.0 treats the item as error-free (the construct is the
        item); 0.8-0.9 are common for well-worded global items. A ``fixed`` error variance
        of that item takes precedence.
    index_weights : {"model", "equal"}
        How items are weighted in the 0-100 index: ``"model"`` uses the fitted loadings
        (see ``weights_``), ``"equal"`` a plain mean of the rescaled items.
    ci_level : float
        Level of the intervals.
    min_ratio : float
        Respondents needed per free parameter (the 5:1 rule of Bentler & Chou 1987);
        together with ``min_respondents`` it guards against unstable fits on tiny samples.
        Both can be lowered knowingly (the error message says how).
    min_respondents : int
    max_iter : int
        Iterations allowed to the optimiser (SLSQP).
    strict : bool
        What an improper solution does: ``False`` (default) returns the estimates with an
        :class:`~crmlab.errors.ImproperSolutionWarning` and lists the problems in
        ``improper_``; ``True`` raises :class:`~crmlab.errors.ImproperSolutionError`.

    Notes
    -----
    An improper solution is one a careful researcher would not report as it stands: a
    standardised loading or path whose absolute value exceeds 1, an R² of .999 or more
    (a disturbance variance near zero), a latent correlation of .98 or more, a negative or
    near-zero (standardised < .001) variance, or a singular information matrix (semopy's
    "Fisher Information Matrix is not PD"; standard errors then come from a pseudo-inverse).
    Each problem comes with what to do about it.

    Notes
    -----
    Fitted attributes: ``paths_`` (= ``summary``): the standardised structural paths (``estimate``, ``std_error``,
    ``ci_lower``, ``ci_upper``, ``p_value``, then the unstandardised ``raw_estimate``,
    ``raw_std_error`` and ``z``); ``loadings_`` (standardised loadings in the same layout, plus
    residual variances); ``covariances_`` (the ``covariances`` and fixed covariances, the
    estimate being the correlation); ``improper_`` (one row per problem of the solution, empty
    when it is proper); ``reliability_``, ``htmt_``, ``latent_corr_``, ``fit_indices_`` (CFI capped at 1),
    ``fit_test_`` (the chi-square test of exact fit, a TestResult), ``total_effects_``, ``r2_``,
    ``weights_`` (the 0-100 index's item weights), ``index_``, ``n_obs_``, ``n_free_``, ``measurement_``,
    ``structure_``, ``description_``, ``semopy_model_``

    Examples
    --------
    >>> from crmlab import datasets
    >>> m = SatisfactionIndexModel("acsi").fit(datasets.load("survey"))
    >>> round(float(m.index_.loc["SAT", "estimate"]), 1), len(m.improper_)
    (69.8, 0)
    """

    _unit = "respondents"

    def __init__(self, spec: str = "acsi", *, measurement=None, structure=None, covariances=None, fixed=None,
                 single_item_reliability: float = 1.0, index_weights: str = "model", ci_level: float = 0.95,
                 min_ratio: float = 5.0, min_respondents: int = 200, max_iter: int = 10_000, strict: bool = False):
        self._meas, self._struct = _spec(spec, measurement, structure)
        self._cov_pairs, self._fixed = _check_extras(self._meas, self._struct, covariances, fixed)
        self._items = list(dict.fromkeys(i for its in self._meas.values() for i in its))
        check_scalar(single_item_reliability, "single_item_reliability", (int, float), 0, 1, low_inclusive=False)
        check_option(index_weights, "index_weights", ["model", "equal"])
        check_ci_level(ci_level)
        check_scalar(min_ratio, "min_ratio", (int, float), 0, 1000)
        check_count(min_respondents, "min_respondents", 1, 10**8)
        check_count(max_iter, "max_iter", 1, 1_000_000)
        if not isinstance(strict, (bool, np.bool_)):
            raise ParameterError(f"strict must be True or False, got {strict!r}",
                                 fix="strict=True raises on an improper solution; False warns")
        self.spec, self.measurement, self.structure = spec, measurement, structure
        self.covariances, self.fixed, self.single_item_reliability = covariances, fixed, single_item_reliability
        self.index_weights, self.ci_level = index_weights, ci_level
        self.min_ratio, self.min_respondents, self.max_iter, self.strict = min_ratio, min_respondents, max_iter, strict

    @property
    def _label(self) -> str:
        if self.measurement is not None:
            return "Custom"
        return {"acsi": "ACSI", "drivers": "ACSI + drivers"}[self.spec]

    # -- data ----------------------------------------------------------------------------
    def _prepare(self, df: pd.DataFrame, item_scales, check_constant: bool = True) -> pd.DataFrame:
        if not isinstance(df, pd.DataFrame):
            got = "None" if df is None else type(df).__name__
            raise ParameterError(f"df must be a DataFrame, got {got}",
                                 fix="pass the survey table, e.g. datasets.load('survey')")
        if item_scales is not None and not isinstance(item_scales, Mapping):
            raise ParameterError(f"item_scales must be a dict {{item: (low, high)}}, got {type(item_scales).__name__}",
                                 fix="pass e.g. item_scales={'extra': (1, 7)}")
        known = [i for i in self._items if i in QUESTIONNAIRE.index or (item_scales and i in item_scales)]
        missing = [i for i in self._items if i not in df.columns]
        if missing:
            raise ColumnError(f"survey is missing item column(s) {missing}",
                              fix="pass the full questionnaire or drop those items from measurement=")
        if df.columns.duplicated().any():
            dup = sorted(set(df.columns[df.columns.duplicated()]))
            raise ColumnError(f"survey has duplicated column names {dup}", fix="rename or drop the duplicated columns")
        if known:
            validate_responses(df, known, item_scales=item_scales, allow_nan=False)
        other = [i for i in self._items if i not in known]
        if other:  # items of unknown scale: numeric and complete; the 0-100 index needs item_scales=
            check_numeric(df, other, "survey")
            check_no_nan(df, other, "survey")
        data = df[self._items].astype(float).copy()
        for it in self._items:  # reverse-keyed items are flipped so that every loading is positive
            if it in QUESTIONNAIRE.index and QUESTIONNAIRE.loc[it, "reverse"]:
                lo, hi = item_scale(it, item_scales)
                data[it] = lo + hi - data[it]
        sd = data.std()
        const = sd.index[sd.to_numpy() == 0].tolist() if check_constant else []
        if const:
            raise DataValidationError(f"item(s) {const} are constant: a constant item has no covariance with "
                                      "anything, so its loading is undefined",
                                      fix="drop constant items from measurement= (or check the data filter)")
        if check_constant:
            _check_not_collinear(data)
        return data

    # -- fitting -------------------------------------------------------------------------
    def _fixed_for(self, data: pd.DataFrame) -> dict[tuple[str, str, str], float]:
        """The fixed parameters of a fit on ``data``: the user's, plus the error variance of the
        item of each single-item construct (which identifies it)."""
        fixed = dict(self._fixed)
        for its in self._meas.values():
            if len(its) == 1 and (its[0], "~~", its[0]) not in fixed:
                fixed[(its[0], "~~", its[0])] = (1 - self.single_item_reliability) * float(data[its[0]].var(ddof=1))
        return fixed

    def _description(self, data: pd.DataFrame) -> str:
        return model_description(self._meas, self._struct, covariances=self._cov_pairs, fixed=self._fixed_for(data))

    def _fit_semopy(self, data: pd.DataFrame, log: list[str] | None = None):
        import semopy

        model = semopy.Model(self._description(data))
        with _semopy_log() as caught:
            try:
                res = model.fit(data, solver="SLSQP", options={"maxiter": self.max_iter})
            except np.linalg.LinAlgError as err:
                raise ConvergenceError(
                    f"the model could not be estimated: {err}",
                    fix="check for items that duplicate each other, use more respondents, or simplify the model") from None
        if log is not None:
            log.extend(caught)
        if not res.success or not np.all(np.isfinite(model.param_vals)):
            raise ConvergenceError(
                f"semopy did not converge after {res.n_it} iterations ({res.message})",
                fix="raise max_iter, pool more respondents, drop weak items (loading < 0.4) or simplify the "
                    "structural model")
        return model

    def _n_free(self, data: pd.DataFrame) -> int:
        import semopy

        model = semopy.Model(self._description(data))
        with _semopy_log():
            model.load(data)
        return int(len(model.param_vals))

    def fit(self, df: pd.DataFrame, *, item_scales=None) -> SatisfactionIndexModel:
        """Estimate the model on a survey table (one row per respondent, no missing answers).

        ``item_scales``: ``{item: (low, high)}`` for items that are not in the kit's
        ``QUESTIONNAIRE`` (needed for the 0-100 index).

        Raises
        ------
        DataValidationError
            Answers outside the scale, missing answers, constant items, too few respondents.
        ConvergenceError
            The optimiser did not converge.
        ImproperSolutionError
            With ``strict=True``, an improper solution (see the class docstring); otherwise an
            :class:`~crmlab.errors.ImproperSolutionWarning` and ``improper_`` report it.
        """
        with _single_thread():
            return self._fit(df, item_scales)

    def _fit(self, df, item_scales):
        data = self._prepare(df, item_scales)
        n = len(data)
        q = self._n_free(data)
        need = int(max(self.min_respondents, np.ceil(self.min_ratio * q)))
        if n < need:
            raise DataValidationError(
                f"only {n} respondents for a model with {q} free parameters; the sample-size guard asks for at "
                f"least {need} ({self.min_ratio:g} per free parameter, Bentler & Chou 1987, and at least "
                f"{self.min_respondents}). Below that, maximum-likelihood SEM often fails to converge or lands on "
                "an improper solution (negative variances, standardised paths above 1), and its chi-square test "
                "and standard errors are unreliable",
                fix=f"pool waves or segments, or simplify the model (fewer constructs or items); or lower the guard "
                    f"knowingly, e.g. SatisfactionIndexModel(..., min_ratio={max(1.0, np.floor(n / q)):g}, "
                    f"min_respondents={n}), and read the ImproperSolutionWarning if one comes")
        log: list[str] = []
        model = self._fit_semopy(data, log)
        self._item_scales = item_scales
        self._fixed_fit = self._fixed_for(data)
        self.measurement_, self.structure_, self.items_ = self._meas, self._struct, self._items
        self.semopy_model_, self.n_obs_, self.n_free_ = model, n, q
        self.description_ = self._description(data)
        try:
            self._collect(model, data, log)
        except ImproperSolutionError:
            for k in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, k)  # a refused solution leaves the model unfitted
            raise
        return self

    def _collect(self, model, data: pd.DataFrame, log: list[str]) -> None:
        with _semopy_log() as caught:
            ins = model.inspect(std_est=True)
            st = _fit_statistics(model, data)
            try:
                ev = np.linalg.eigvalsh(model.calc_fim())
                fim_ratio = float(ev.min() / ev.max()) if ev.max() > 0 else -1.0
            except (np.linalg.LinAlgError, ValueError, AttributeError):
                fim_ratio = -1.0
        log = [*log, *caught]
        # semopy falls back to a pseudo-inverse (and logs it) when Cholesky fails on the information
        # matrix; a condition ratio below 1e-10 is singular in all but floating-point luck (the shipped
        # ACSI and drivers models are near 1e-3)
        fim_singular = (bool(getattr(model, "_fim_warn", False)) or any("Information Matrix" in m for m in log)
                        or not fim_ratio > IMPROPER_LIMITS["fim_ratio"])
        for col in ("Estimate", "Est. Std", "Std. Err", "z-value", "p-value"):
            ins[col] = pd.to_numeric(ins[col], errors="coerce")
        z = stats.norm.ppf(0.5 + self.ci_level / 2)
        lat = set(self._meas)
        var = ins[(ins["op"] == "~~") & (ins["lval"] == ins["rval"])].set_index("lval")
        reg = ins[ins["op"] == "~"].copy()
        # standardised SE: the unstandardised SE scaled like the estimate (delta method, scale fixed)
        ratio = (reg["Est. Std"] / reg["Estimate"]).where(reg["Estimate"] != 0).abs()
        reg["std_se"] = reg["Std. Err"] * ratio
        struct = reg[reg["lval"].isin(lat) & reg["rval"].isin(lat)]
        meas = reg[~reg["lval"].isin(lat) & reg["rval"].isin(lat)]

        def layout(rows, index):
            est, se = rows["Est. Std"].to_numpy(), rows["std_se"].to_numpy()
            return summary_frame(est, se, est - z * se, est + z * se, index=index, ci_level=self.ci_level,
                                 p_value=rows["p-value"].to_numpy(), raw_estimate=rows["Estimate"].to_numpy(),
                                 raw_std_error=rows["Std. Err"].to_numpy())

        self.paths_ = layout(struct, pd.MultiIndex.from_arrays([struct["rval"], struct["lval"]],
                                                               names=["source", "target"]))
        self.paths_["z"] = struct["z-value"].to_numpy()
        resid_std = var["Est. Std"]
        self.loadings_ = layout(meas, pd.MultiIndex.from_arrays([meas["rval"], meas["lval"]],
                                                               names=["construct", "item"]))
        self.loadings_["residual_variance"] = var.loc[meas["lval"], "Estimate"].to_numpy()
        self.loadings_["std_residual_variance"] = resid_std.loc[meas["lval"]].to_numpy()
        cov = ins[(ins["op"] == "~~") & (ins["lval"] != ins["rval"])].copy()
        wanted = {frozenset(p) for p in self._cov_pairs} | {frozenset((a, b)) for (a, op, b) in self._fixed_fit
                                                          if op == "~~" and a != b}
        cov = cov.loc[np.array([frozenset((a, b)) in wanted for a, b in zip(cov["lval"], cov["rval"], strict=True)],
                               dtype=bool)]
        cov["std_se"] = cov["Std. Err"] * (cov["Est. Std"] / cov["Estimate"]).where(cov["Estimate"] != 0).abs()
        self.covariances_ = layout(cov, pd.MultiIndex.from_arrays([cov["lval"], cov["rval"]], names=["a", "b"]))
        endo = list(self._struct)
        self.r2_ = pd.Series({c: 1 - float(resid_std.loc[c]) for c in endo}, name="r2")
        # latent covariance implied by the model, then correlations
        _, (_, cmat) = model.calc_sigma()
        inner = list(model.vars["inner"])
        lc = cmat @ model.mx_psi @ cmat.T
        idx = [inner.index(c) for c in self._meas]
        lcov = lc[np.ix_(idx, idx)]
        with np.errstate(invalid="ignore"):  # a negative latent variance has no SD: flagged as improper below
            sd = np.sqrt(np.diag(lcov))
            self.latent_corr_ = pd.DataFrame(lcov / np.outer(sd, sd), index=list(self._meas),
                                             columns=list(self._meas))
        # standardised total effects (effect of column on row): (I - B)^-1 - I on the std paths
        names = list(self._meas)
        Bs = pd.DataFrame(0.0, index=names, columns=names)
        for (src, dst), row in self.paths_.iterrows():
            Bs.loc[dst, src] = row["estimate"]
        try:
            T = np.linalg.inv(np.eye(len(names)) - Bs.to_numpy()) - np.eye(len(names))
        except np.linalg.LinAlgError:
            T = np.full((len(names), len(names)), np.nan)
        self.total_effects_ = pd.DataFrame(T, index=names, columns=names)
        # measurement quality
        rows = []
        from .satisfaction import _alpha_from_cov

        for c, its in self._meas.items():
            lam = self.loadings_.loc[c, "estimate"].to_numpy()
            theta = self.loadings_.loc[c, "std_residual_variance"].to_numpy()
            cr = lam.sum() ** 2 / (lam.sum() ** 2 + theta.sum())
            ave = float(np.mean(lam ** 2))
            alpha = _alpha_from_cov(np.cov(data[its].to_numpy(), rowvar=False)) if len(its) > 1 else np.nan
            others = self.latent_corr_.loc[c].drop(c).abs()
            rows.append({"construct": c, "k": len(its), "min_loading": float(lam.min()), "alpha": alpha,
                         "composite_reliability": float(cr), "ave": ave, "sqrt_ave": float(np.sqrt(ave)),
                         "max_latent_corr": float(others.max()) if len(others) else np.nan})
        rel = pd.DataFrame(rows).set_index("construct")
        rel["fornell_larcker_ok"] = rel["sqrt_ave"] > rel["max_latent_corr"]
        self.reliability_ = rel
        self.htmt_ = htmt(data, self._meas) if len(self._meas) > 1 else pd.DataFrame()
        # CFI is a normed index (Bentler 1990): a chi-square below its df gives 1, not 1.001
        self.fit_indices_ = pd.Series({
            "n": float(len(data)), "chi2": float(st["chi2"]), "dof": float(st["DoF"]),
            "p_value": float(st["chi2 p-value"]), "cfi": float(np.clip(st["CFI"], 0.0, 1.0)), "tli": float(st["TLI"]),
            "rmsea": float(st["RMSEA"]), "aic": float(st["AIC"]), "bic": float(st["BIC"])}, name="fit")
        fi = self.fit_indices_
        details = {"n": len(data), "cfi": fi["cfi"], "tli": fi["tli"], "rmsea": fi["rmsea"]}
        if fi["dof"] <= 0:
            details["note"] = "saturated model (0 degrees of freedom): it reproduces the data exactly, no test of fit"
        self.fit_test_ = TestResult(
            "chi-square test of exact fit", statistic=fi["chi2"], df=fi["dof"], p_value=fi["p_value"],
            statistic_name="chi2",
            null_hypothesis="the model reproduces the population covariance matrix of the items exactly",
            details=details)
        self.improper_ = self._improper(ins, data, fim_singular)
        if len(self.improper_):
            lines = [f"  - {r.problem}: {r.where}" + ("" if np.isnan(r.value) else f" = {r.value:.4g}")
                     + f" (proper: {r.limit}). What to do: {r.advice}" for r in self.improper_.itertuples()]
            text = (f"improper solution, {len(lines)} problem(s); its estimates do not describe the data as they "
                    "stand:\n" + "\n".join(lines))
            if self.strict:
                raise ImproperSolutionError(text, fix="act on the list above; with strict=False the fit returns "
                                                      "the estimates with a warning and lists the problems in improper_")
            warnings.warn(ImproperSolutionWarning(
                text + "\nThe estimates are returned (model.improper_ lists the problems); pass strict=True to make "
                       "this an error."), stacklevel=4)
        self.weights_ = self._index_weights()
        self.index_ = self.index_table(data, _flipped=True)

    def _improper(self, ins: pd.DataFrame, data: pd.DataFrame, fim_singular: bool) -> pd.DataFrame:
        """One row per problem that makes the solution improper (see the class docstring)."""
        lim = IMPROPER_LIMITS
        lat, fixed, tol = set(self._meas), self._fixed_fit, 1e-6
        rows = []

        def add(problem, where, value, limit, advice):
            rows.append({"problem": problem, "where": where, "value": float(value), "limit": limit, "advice": advice})

        for _, r in ins[(ins["op"] == "~") & ins["rval"].isin(lat)].iterrows():
            v, src, dst = r["Est. Std"], r["rval"], r["lval"]
            if dst in lat and abs(v) > lim["std_path"] + tol:
                add("standardised path above 1", f"{src} -> {dst}", v, "|path| <= 1", _ADVICE["path"].format(target=dst))
            elif dst not in lat and abs(v) > lim["std_loading"] + tol:
                add("standardised loading above 1", f"{src} =~ {dst}", v, "|loading| <= 1", _ADVICE["heywood"])
        negative_disturbance = set()
        for _, r in ins[(ins["op"] == "~~") & (ins["lval"] == ins["rval"])].iterrows():
            name, est, std = r["lval"], r["Estimate"], r["Est. Std"]
            if (name, "~~", name) in fixed:
                continue  # fixed by design (a single-item construct, or the user's choice)
            if name in self._struct:
                if est < 0:
                    negative_disturbance.add(name)
                    add("negative disturbance variance", f"{name} (disturbance)", est, "> 0",
                        _ADVICE["r2"].format(target=name))
            elif name in lat:
                marker = self._meas[name][0]
                if est <= lim["std_variance"] * float(data[marker].var(ddof=1)):
                    add("construct variance negative or near zero", name, est, f"> {lim['std_variance']} x the "
                        "variance of its first item", _ADVICE["latent_var"].format(c=name))
            elif est < 0:
                add("negative residual variance", f"{name} (error)", est, "> 0", _ADVICE["heywood"])
            elif std < lim["std_variance"]:
                add("residual variance near zero (item reliability ~1)", f"{name} (error)", std,
                    f"standardised >= {lim['std_variance']}", _ADVICE["heywood"])
        for c, v in self.r2_.items():
            if v >= lim["r2"] and c not in negative_disturbance:
                add("R² of (almost) 1, disturbance variance near zero", c, v, f"< {lim['r2']}",
                    _ADVICE["r2"].format(target=c))
        names = list(self._meas)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                r = self.latent_corr_.loc[a, b]
                if np.isfinite(r) and abs(r) >= lim["latent_corr"]:
                    h = self.htmt_.loc[a, b] if a in self.htmt_.index and b in self.htmt_.columns else np.nan
                    add("latent correlation near 1", f"{a} ~~ {b}", r, f"|r| < {lim['latent_corr']}",
                        _ADVICE["corr"].format(a=a, b=b, htmt="n/a" if not np.isfinite(h) else f"{h:.2f}"))
        if fim_singular:
            add("information matrix not positive definite (singular)", "the whole model", np.nan,
                "positive definite", _ADVICE["fim"])
        scaled = sum(1 for c, its in self._meas.items() if not any((c, "=~", i) in fixed for i in its))
        n_undefined = int(ins["Std. Err"].isna().sum()) - scaled - len(fixed)
        if n_undefined > 0 and not fim_singular:
            add("standard errors undefined", f"{n_undefined} free parameter(s)", np.nan, "finite",
                _ADVICE["se"].format(n=n_undefined))
        return pd.DataFrame(rows, columns=["problem", "where", "value", "limit", "advice"])

    def _repr_fitted(self) -> str:
        fi = self.fit_indices_
        state = "proper solution" if self.improper_.empty else f"IMPROPER solution ({len(self.improper_)} problems)"
        return (f"fitted on {self.n_obs_:,} respondents ({self._label}, {self.n_free_} free parameters): "
                f"CFI={fi['cfi']:.3f}, RMSEA={fi['rmsea']:.3f}, {state}")

    def _summary(self) -> pd.DataFrame:
        out = self.paths_.copy()
        out.attrs["ci_level"] = self.ci_level
        return out

    # -- the 0-100 index -----------------------------------------------------------------------
    def _index_weights(self) -> pd.DataFrame:
        """Item weights of each construct's 0-100 index (``weights_``).

        ``"model"``: an item's raw-scale weight is its loading divided by its residual
        variance (the factor-score weight of a one-construct block, Bartlett 1937); that
        weight is multiplied by the item's answer range so that it applies to the item
        rescaled to 0-100, and the weights of a construct are normalised to sum to 1. The
        index is then 100 * sum(w * (x - low) / (high - low)): 0 when every answer is the
        lowest, 100 when every answer is the highest, proportional to the factor score in
        between. This is the covariance-based counterpart of the ACSI, which takes the
        weights from PLS outer weights. ``"equal"``: 1/k per item. A single-item construct's
        item has weight 1; a construct with a residual variance <= 0 (an improper solution)
        falls back to equal weights.
        """
        scales = self._item_scales
        rows = []
        for c, its in self._meas.items():
            for it in its:
                lo, hi = item_scale(it, scales) if (it in QUESTIONNAIRE.index or (
                    scales and it in scales)) else (np.nan, np.nan)
                lrow = self.loadings_.loc[(c, it)]
                with np.errstate(divide="ignore", invalid="ignore"):
                    raw = lrow["raw_estimate"] / lrow["residual_variance"] * (hi - lo)
                rows.append({"construct": c, "item": it, "raw_weight": raw, "low": lo, "high": hi})
        w = pd.DataFrame(rows)
        if w[["low", "high"]].isna().any().any():
            bad = w.loc[w["low"].isna(), "item"].tolist()
            raise ParameterError(f"the answer scale of {bad} is unknown, so the 0-100 index is undefined",
                                 fix="pass item_scales={item: (low, high)} to fit()")
        equal = 1.0 / w.groupby("construct")["item"].transform("size")
        if self.index_weights == "equal":
            w["weight"] = equal
        else:
            # a single item, or an item with a residual variance <= 0 (fixed at 0, or a Heywood case):
            # factor-score weights are undefined, so the construct's items are weighted equally
            bad = ~np.isfinite(w["raw_weight"]) | (w["raw_weight"] <= 0)
            undefined = bad.groupby(w["construct"]).transform("any") | (w.groupby("construct")["item"].transform("size") == 1)
            w["weight"] = (w["raw_weight"] / w["raw_weight"].where(~undefined).groupby(w["construct"]).transform("sum")
                           ).where(~undefined, equal)
        return w.set_index(["construct", "item"])[["weight", "raw_weight", "low", "high"]]

    def index_scores(self, df: pd.DataFrame, *, _flipped: bool = False) -> pd.DataFrame:
        """0-100 index of every construct for every respondent (items rescaled, weighted)."""
        self._check_fitted()
        data = df[self._items].astype(float) if _flipped else self._prepare(df, self._item_scales,
                                                                            check_constant=False)
        out = {}
        for c, its in self._meas.items():
            w = self.weights_.loc[c]
            rescaled = (data[its] - w["low"].to_numpy()) / (w["high"] - w["low"]).to_numpy()
            out[c] = 100 * rescaled.to_numpy() @ w["weight"].to_numpy()
        return pd.DataFrame(out, index=df.index)

    def index_table(self, df: pd.DataFrame, by=None, *, _flipped: bool = False) -> pd.DataFrame:
        """Mean 0-100 index per construct (optionally per group of ``by``) with a t interval.

        Columns: index, ci_lower, ci_upper, n (``.attrs["ci_level"]``).
        """
        scores = self.index_scores(df, _flipped=_flipped)
        if by is not None:
            if isinstance(by, str):
                if by not in df.columns:
                    raise ColumnError(f"survey has no column {by!r}", fix="pass an existing column as by=")
                keys = df[by]
            else:
                if isinstance(by, (pd.DataFrame, Mapping)) or not hasattr(by, "__len__"):
                    raise ParameterError(f"by must be a column name or one label per row, got {type(by).__name__}",
                                         fix="pass a column name, e.g. by='wave'")
                if len(by) != len(df):
                    raise ParameterError(f"by has {len(by)} entries but the survey has {len(df)} rows",
                                         fix="pass a column name, or one group label per survey row")
                keys = pd.Series(np.asarray(by), index=df.index)
            if keys.isna().any():
                raise DataValidationError(f"by has {int(keys.isna().sum())} missing group label(s)",
                                          fix="fill or drop the rows without a group first")

        def summarise(s: pd.DataFrame) -> pd.DataFrame:
            n = len(s)
            m, sd = s.mean(), s.std(ddof=1)
            half = stats.t.ppf(0.5 + self.ci_level / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan * sd
            se = sd / np.sqrt(n) if n > 1 else np.nan * sd
            return pd.DataFrame({"estimate": m, "std_error": se, "ci_lower": m - half, "ci_upper": m + half,
                                 "n": n})

        if by is None:
            out = summarise(scores).rename_axis("construct")
        else:
            parts = {k: summarise(g) for k, g in scores.groupby(keys.to_numpy(), sort=True)}
            out = pd.concat(parts, names=[keys.name or "group", "construct"])
        out.attrs["ci_level"] = self.ci_level
        return out

    # -- uncertainty -----------------------------------------------------------------------
    def bootstrap(self, df: pd.DataFrame, n_boot: int = 200, *, seed=0) -> pd.DataFrame:
        """Percentile bootstrap intervals of the standardised paths (resampling respondents).

        Adds ``boot_ci_lower`` / ``boot_ci_upper`` to ``paths_`` (and so to ``summary``) and
        returns the draws (one row per successful resample); resamples that do not converge
        are skipped and counted in ``bootstrap_failures_``.
        """
        self._check_fitted()
        check_count(n_boot, "n_boot", 20, 10_000)
        rng = check_random_state(seed)
        with _single_thread():
            return self._bootstrap(df, n_boot, rng)

    def _bootstrap(self, df, n_boot, rng):
        data = self._prepare(df, self._item_scales)
        n = len(data)
        draws, fails = [], 0
        for _ in range(n_boot):
            sample = data.iloc[rng.integers(0, n, n)].reset_index(drop=True)
            try:
                m = self._fit_semopy(sample)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ins = m.inspect(std_est=True, information=None)
            except ConvergenceError:
                fails += 1
                continue
            st = ins[(ins["op"] == "~") & ins["lval"].isin(self._struct)]
            draws.append(pd.Series(pd.to_numeric(st["Est. Std"]).to_numpy(),
                                   index=pd.MultiIndex.from_arrays([st["rval"], st["lval"]])))
        if not draws:
            raise ConvergenceError("no bootstrap resample converged",
                                   fix="use more respondents or a simpler model")
        B = pd.DataFrame(draws)
        g = 1 - self.ci_level
        self.paths_["boot_ci_lower"] = B.quantile(g / 2).reindex(self.paths_.index).to_numpy()
        self.paths_["boot_ci_upper"] = B.quantile(1 - g / 2).reindex(self.paths_.index).to_numpy()
        self.bootstrap_failures_ = fails
        self.bootstrap_draws_ = B
        return B

    # -- summaries -------------------------------------------------------------------------
    def driver_importance(self, target: str = "SAT") -> pd.Series:
        """Standardised total effects of the exogenous constructs on ``target``, largest first."""
        self._check_fitted()
        if not isinstance(target, str) or target not in self.total_effects_.index:
            raise ParameterError(f"unknown construct {target!r}", fix=f"use one of {list(self.total_effects_.index)}")
        endo = set(self._struct)
        exo = [c for c in self._meas if c not in endo]
        return self.total_effects_.loc[target, exo].sort_values(ascending=False).rename(f"total_effect_on_{target}")

    # -- plotting --------------------------------------------------------------------------
    def _positions(self) -> dict[str, tuple[float, float]]:
        names = list(self._meas)
        if all(n in _LAYOUT for n in names):
            return {n: _LAYOUT[n] for n in names}
        # generic layered layout: endogenous by longest path, exogenous one layer before their first child
        layer = {}
        endo = list(self._struct)

        def depth(c, seen=()):
            if c in layer:
                return layer[c]
            if c not in self._struct or not self._struct[c]:
                return 0
            if c in seen:
                raise ParameterError(f"the structural model has a cycle through {c!r}",
                                     fix="SatisfactionIndexModel supports recursive models only")
            d = 1 + max(depth(x, (*seen, c)) for x in self._struct[c])
            layer[c] = d
            return d

        for c in endo:
            depth(c)
        for c in names:
            if c not in layer:
                kids = [layer[y] for y, xs in self._struct.items() if c in xs and y in layer]
                layer[c] = (min(kids) - 1) if kids else 0
        pos = {}
        for lv in sorted(set(layer.values())):
            members = [c for c in names if layer[c] == lv]
            for i, c in enumerate(members):
                pos[c] = (2.0 * lv, (len(members) - 1) / 2 - i * 1.1)
        return pos

    def plot_path_diagram(self, ax=None, *, show_r2: bool = True, decimals: int = 2):
        """Path diagram: constructs as ellipses, arrows labelled with standardised paths (stars = p)."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import Ellipse, FancyArrowPatch

        from . import plots

        self._check_fitted()
        check_count(decimals, "decimals", 0, 6)
        pos = self._positions()
        xs, ys = zip(*pos.values(), strict=True)
        if ax is None:
            w = max(6.0, 1.25 * (max(xs) - min(xs)) + 2.5)
            h = max(3.5, 1.25 * (max(ys) - min(ys)) + 1.8)
            ax = plt.subplots(figsize=(min(w, 12), min(h, 8)))[1]
        rx, ry = 0.72, 0.36
        endo = set(self._struct)
        for c, (x, y) in pos.items():
            face = "#dbe8f3" if c in endo else "#f4f4f4"
            ax.add_patch(Ellipse((x, y), 2 * rx, 2 * ry, facecolor=face, edgecolor=plots.PALETTE[0], lw=1.4))
            label = c if not (show_r2 and c in self.r2_) else f"{c}\nR²={self.r2_[c]:.2f}"
            ax.text(x, y, label, ha="center", va="center", fontsize=9, fontweight="bold")

        def edge_point(x0, y0, x1, y1):
            dx, dy = x1 - x0, y1 - y0
            t = 1.0 / np.sqrt((dx / rx) ** 2 + (dy / ry) ** 2)
            return x0 + t * dx, y0 + t * dy

        for (src, dst), row in self.paths_.iterrows():
            (x0, y0), (x1, y1) = pos[src], pos[dst]
            a = edge_point(x0, y0, x1, y1)
            b = edge_point(x1, y1, x0, y0)
            est = row["estimate"]
            color = plots.PALETTE[0] if est >= 0 else plots.PALETTE[3]
            ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, lw=0.8 + 3 * min(abs(est), 1),
                                         color=color, alpha=0.85))
            mx, my = a[0] + 0.45 * (b[0] - a[0]), a[1] + 0.45 * (b[1] - a[1])
            ax.text(mx, my, f"{est:.{decimals}f}{_stars(row['p_value'])}", ha="center", va="center", fontsize=8,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9})
        ax.set_xlim(min(xs) - rx - 0.3, max(xs) + rx + 0.3)
        ax.set_ylim(min(ys) - ry - 0.4, max(ys) + ry + 0.4)
        ax.set_aspect("equal")
        ax.axis("off")
        cfi = self.fit_indices_["cfi"]
        rmsea = self.fit_indices_["rmsea"]
        title = (f"{self._label} model: standardised paths "
                 f"(n={self.n_obs_}, CFI={cfi:.3f}, RMSEA={rmsea:.3f})")
        ax.set_title(title, fontsize=10)
        ax.text(0.0, 0.0, "* p<.05  ** p<.01  *** p<.001", transform=ax.transAxes,
                ha="left", va="bottom", fontsize=7, color="#888888")
        plots.mark_synthetic(ax.figure)
        return ax


#: the generator's latent variable (a column of ``world.latent``) behind each construct of the kit
LATENT_COLUMNS: dict[str, str] = {
    "EXP": "expectation", "PQ": "perceived_quality", "PV": "perceived_value", "SAT": "satisfaction",
    "COMP": "complaint_intent", "LOY": "loyalty", "product": "driver_product", "attitude": "driver_attitude",
    "efficiency": "driver_efficiency", "purchase": "driver_purchase", "price": "driver_price",
    "emotion": "driver_emotion",
}


def respondent_paths(structure: Mapping[str, Sequence[str]], latent: pd.DataFrame, survey: pd.DataFrame, *,
                     customer_id_col: str = "customer_id") -> pd.DataFrame:
    """The respondents' target of each standardised path: the same regressions on the TRUE latent scores
    of the customers who answered (``latent`` = ``world.latent``, one row per answer of ``survey``).

    Unlike :func:`population_paths`, this target contains who answered: respondents are selected on
    satisfaction (the planted non-response), so their latent covariance, and with it the path of a
    model that omits causes, differs a little from the customer base's. Constructs without a latent
    column in ``LATENT_COLUMNS`` get NaN. (The baseline latents are used: the wave-2 go-live shift of
    live branches is not in ``world.latent`` and moves no ACSI path by more than 0.01.)

    >>> from crmlab import datasets
    >>> w = datasets.load_world()
    >>> t = respondent_paths({"LOY": ["SAT", "COMP"]}, w.latent, w.survey)
    >>> round(float(t.loc[("SAT", "LOY"), "respondent_target"]), 2)
    0.56
    """
    if not isinstance(structure, Mapping):
        raise ParameterError(f"structure must be a dict {{outcome: [predictors]}}, got {type(structure).__name__}",
                             fix="pass e.g. model.structure_")
    check_frame(latent, "latent", required=[customer_id_col])
    check_frame(survey, "survey", required=[customer_id_col], no_nan=[customer_id_col])
    if latent[customer_id_col].duplicated().any():
        raise DataValidationError("latent has duplicated customer ids", fix="pass world.latent (one row per customer)")
    lat = latent.set_index(customer_id_col)
    ids = survey[customer_id_col]
    unknown = ~ids.isin(lat.index)
    if unknown.any():
        raise DataValidationError(f"{int(unknown.sum())} respondent(s) of survey are not in latent "
                                  f"(first: {ids[unknown].iloc[0]!r})",
                                  fix="pass the latent table of the world the survey comes from (world.latent)")
    rows = []
    for y, xs in structure.items():
        xs = list(xs)
        cols = [LATENT_COLUMNS.get(v) for v in [y, *xs]]
        if not xs:
            continue
        if None in cols or any(c not in lat.columns for c in cols):
            rows += [{"source": x, "target": y, "respondent_target": np.nan} for x in xs]
            continue
        z = lat.loc[ids.to_numpy(), cols].astype(float)
        z = (z - z.mean()) / z.std()
        if z.isna().any().any():
            raise DataValidationError(f"latent scores of {[y, *xs]} are missing for some respondents",
                                      fix="pass the survey of B2C respondents (B2B customers have no ACSI latents)")
        b = np.linalg.lstsq(z.iloc[:, 1:].to_numpy(), z.iloc[:, 0].to_numpy(), rcond=None)[0]
        rows += [{"source": x, "target": y, "respondent_target": float(v)} for x, v in zip(xs, b, strict=True)]
    return pd.DataFrame(rows, columns=["source", "target", "respondent_target"]).set_index(["source", "target"])


def compare_with_truth(model: SatisfactionIndexModel, truth: Mapping, *, latent: pd.DataFrame | None = None,
                       survey: pd.DataFrame | None = None) -> pd.DataFrame:
    """Estimated standardised paths next to the planted paths and this model's targets.

    ``planted`` is the generator's path (NaN when the generator has no such path);
    ``population`` is Sigma_xx^-1 Sigma_xy for this model's equations under the planted
    latent covariance of the customer base, the value the estimate approaches when the model
    omits planted causes; ``covered`` says whether the interval contains it.

    So ``covered`` is not a 95% coverage flag. Respondents are not the customer base: the
    generator makes satisfied customers answer more often
    (``truth["survey"]["response_satisfaction_logit"]``) and shifts satisfaction in live
    branches in wave 2, so the respondents' latent covariance is a little off the population's
    (paths move by up to ~0.01). Measured over fresh seeds, the 95% intervals cover
    ``population`` 93.9% of the time (ACSI model, 100 default worlds of ~2,200 responses;
    93.1% for the "drivers" model; single paths 87-98%) and 91.9% with 15,000-customer worlds
    (~6,800 responses): the target's offset stays while the intervals shrink. That is a bias of
    the target, not of the estimator. Pass ``latent`` (``world.latent``) and ``survey`` (the
    table the model was fitted on) to add the respondents' target (:func:`respondent_paths`:
    the same regressions on the respondents' true latent scores) as ``respondent_target``,
    with ``respondent_difference`` and ``covered_respondent``: that target is what the sample
    estimates (covered 99.4-99.7% in the same runs, conservatively, because it conditions on
    the respondents' latent scores).

    >>> from crmlab import datasets
    >>> w = datasets.load_world()
    >>> m = SatisfactionIndexModel("acsi").fit(w.survey)
    >>> c = compare_with_truth(m, w.truth, latent=w.latent, survey=w.survey)
    >>> c.loc[("SAT", "LOY"), ["population", "respondent_target"]].round(2).tolist()
    [0.59, 0.56]
    """
    if not isinstance(model, SatisfactionIndexModel):
        raise ParameterError(f"model must be a fitted SatisfactionIndexModel, got {type(model).__name__}",
                             fix="fit one first: SatisfactionIndexModel('acsi').fit(survey)")
    model._check_fitted()
    if (latent is None) != (survey is None):
        raise ParameterError("pass both latent= and survey= (for the respondents' target) or neither",
                             fix="e.g. compare_with_truth(model, world.truth, latent=world.latent, survey=world.survey)")
    cov = latent_covariance(truth)
    pop = population_paths(model.structure_, cov)
    planted = {tuple(k.split("->")): v for k, v in truth["acsi"]["paths"].items()}
    out = model.paths_[["estimate", "ci_lower", "ci_upper"]].copy()
    out["planted"] = [planted.get(k, np.nan) for k in out.index]
    out["population"] = pop["population"].reindex(out.index).to_numpy()
    out["difference"] = out["estimate"] - out["population"]
    out["covered"] = (out["ci_lower"] <= out["population"]) & (out["population"] <= out["ci_upper"])
    if latent is not None:
        if len(survey) != model.n_obs_:
            raise ParameterError(f"survey has {len(survey)} rows but the model was fitted on {model.n_obs_}",
                                 fix="pass the table the model was fitted on")
        resp = respondent_paths(model.structure_, latent, survey)["respondent_target"].reindex(out.index)
        out["respondent_target"] = resp.to_numpy()
        out["respondent_difference"] = out["estimate"] - out["respondent_target"]
        out["covered_respondent"] = (out["ci_lower"] <= out["respondent_target"]) & (
            out["respondent_target"] <= out["ci_upper"])
    out.attrs["ci_level"] = model.ci_level
    return out
