"""PLS path modelling (PLS-PM, 偏最小二乘路径模型) for customer satisfaction indices.

The ACSI, the ECSI and the Chinese CSI are estimated in their literature with partial least
squares path modelling (Fornell et al. 1996; Tenenhaus, Esposito Vinzi, Chatelin & Lauro 2005,
"PLS path modeling", *Computational Statistics & Data Analysis* 48, 159-205).
:class:`PLSPathModel` implements that estimator on numpy and takes the same measurement /
structure description as the covariance-based :class:`~crmlab.satisfaction_index.SatisfactionIndexModel`
(``spec="acsi"`` or ``measurement=`` and ``structure=`` dicts), so both can be fitted on one
survey and compared.

The algorithm (Wold; Lohmöller 1989; Tenenhaus et al. 2005)
-----------------------------------------------------------
Items are standardised (mean 0, SD 1 with ``ddof=1``). Each construct j gets a score
``y_j = X_j w_j`` with variance 1. Starting from equal weights (every ``w`` = 1, as SmartPLS and
semPLS do), the Lohmöller iteration repeats

1. *inner estimate*: ``z_j = sum_i e_ij y_i`` over the constructs i linked to j by a path,
   with the inner weights ``e_ij`` of the ``scheme``: ``"centroid"`` sign(cor), ``"factorial"``
   cor, ``"path"`` (path weighting) the multiple-regression coefficient of y_j on its
   predecessors for a predecessor i, and cor(y_i, y_j) for a follower i;
2. *outer estimate*: mode A (reflective, 反映型) ``w_j = cov(X_j, z_j)``; mode B (formative,
   形成型) ``w_j = cov(X_j)^-1 cov(X_j, z_j)``; then ``w_j`` is rescaled so that var(y_j) = 1;

until no standardised weight changes by more than ``tol`` (default 1e-7; at most ``max_iter``
rounds, else :class:`~crmlab.errors.ConvergenceError`). Every step needs only the item
correlation matrix, which is how the estimator runs on a population matrix too
(:func:`compare_with_truth`). Paths are then ordinary least squares among the scores;
loadings are correlations of items with scores.

**Sign rule.** A score is only defined up to its sign. Each construct is oriented so that the
sum of its items' loadings is positive (its items, on balance, rise with it), in every
iteration and in every bootstrap resample, so bootstrap draws cannot flip. Reverse-keyed
items of the kit's questionnaire (``QUESTIONNAIRE.reverse``) are flipped first
(``low + high - answer``), as in ``SatisfactionIndexModel``.

**Missing answers.** ``missing="error"`` (default) refuses them and names the column and the
row; ``missing="drop"`` drops every respondent with a missing answer on a model item
(listwise deletion) and records how many in ``n_dropped_``. Nothing is imputed.

**Unstandardised results and the 0-100 index.** The raw weight of item h is
``w_h / sd_h``; normalised to sum to 1 within a construct they give the unstandardised score,
a weighted mean of the items *on the items' scale* (Fornell et al. 1996; Tenenhaus et al.
2005). The ACSI reports that score on 0-100: every item is rescaled to
``100 (x - low) / (high - low)`` and weighted by ``w_h (high_h - low_h) / sd_h``, normalised,
so that the index is 0 when every answer is the lowest and 100 when every answer is the highest
(:meth:`PLSPathModel.index_scores`). Unstandardised paths are the regressions among the
unstandardised scores.

**Uncertainty.** ``n_boot`` bootstrap resamples of respondents: percentile intervals at
``ci_level``, standard errors = SD of the draws, p-values from ``estimate / std_error`` on the
normal distribution (as SmartPLS reports them). Resamples in which an item is constant or the
algorithm does not converge are skipped and counted in ``n_boot_failed_``; PLSc resamples with a
reliability above 1 or a latent correlation of 1 or more are kept, counted in
``n_boot_inadmissible_`` and warned about when they exceed 5%.

**Consistency.** PLS scores are weighted sums of error-laden items, so PLS paths estimate the
relations among *composites*, not among the latent variables: standardised paths are biased
towards zero and loadings upwards even in infinite samples ("consistency at large"). With
``consistent=True`` the model applies Dijkstra & Henseler's (2015) PLSc correction: composite
correlations are divided by ``sqrt(rho_A,i rho_A,j)`` (reliabilities of mode-A blocks with two
or more items; 1 for single items and mode B) before the paths are computed, and loadings are
rescaled to ``c w``; those estimates converge to the latent-variable paths when every item
measures one construct with an error of its own (an item shared by two constructs breaks this;
:func:`compare_with_truth` shows by how much).

All data the kit ships in ``datasets/`` are SYNTHETIC, except ``datasets/real/``:
:func:`crmlab.datasets.load_ecsi_mobile` reads the ECSI mobile-phone survey (250 real
respondents) used by Tenenhaus et al. (2005) and Monecke & Leisch (2012), with their published estimates.

>>> from crmlab.datasets import load_ecsi_mobile
>>> m = PLSPathModel(measurement=ECSI_MOBILE_MEASUREMENT, structure=ECSI_MOBILE_STRUCTURE,
...                  scheme="centroid", n_boot=0).fit(load_ecsi_mobile(), item_scales=(1, 10))
>>> round(float(m.paths_.loc[("Image", "Expectation"), "estimate"]), 4)
0.5047
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._threads import single_thread
from .base import Fitter, summary_frame
from .errors import (
    ColumnError,
    ConvergenceError,
    DataValidationError,
    ParameterError,
)
from .satisfaction import QUESTIONNAIRE, item_scale
from .satisfaction_index import latent_covariance, model_description, model_spec, population_paths
from .validation import (
    check_ci_level,
    check_count,
    check_in_range,
    check_numeric,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = [
    "PLSPathModel",
    "ECSI_MOBILE_MEASUREMENT",
    "ECSI_MOBILE_STRUCTURE",
    "population_item_correlation",
    "respondent_latents",
    "compare_with_truth",
]

SCHEMES = ("path", "centroid", "factorial")
MODES = ("A", "B")


ECSI_MOBILE_MEASUREMENT: dict[str, list[str]] = {
    "Image": ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"],
    "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
    "Quality": ["PERQ1", "PERQ2", "PERQ3", "PERQ4", "PERQ5", "PERQ6", "PERQ7"],
    "Value": ["PERV1", "PERV2"],
    "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
    "Complaints": ["CUSCO"],
    "Loyalty": ["CUSL1", "CUSL2", "CUSL3"],
}
"""The ECSI measurement model of the mobile-phone survey (Tenenhaus et al. 2005): 24 items, 7 constructs."""

ECSI_MOBILE_STRUCTURE: dict[str, list[str]] = {
    "Expectation": ["Image"],
    "Quality": ["Expectation"],
    "Value": ["Expectation", "Quality"],
    "Satisfaction": ["Image", "Expectation", "Quality", "Value"],
    "Complaints": ["Satisfaction"],
    "Loyalty": ["Image", "Satisfaction", "Complaints"],
}
"""The ECSI structural model: ACSI plus corporate image acting on expectations, satisfaction and loyalty."""


# ------------------------------------------------------------------------------------
# the estimator on a correlation matrix
# ------------------------------------------------------------------------------------
class _Layout:
    """Blocks, modes and the path matrix of a model, as integer indices for the numerics."""

    def __init__(self, measurement, structure, modes, items):
        self.names = list(measurement)
        self.items = items
        pos = {it: k for k, it in enumerate(items)}
        self.blocks = [np.array([pos[i] for i in measurement[c]]) for c in self.names]
        self.grids = [np.ix_(b, b) for b in self.blocks]
        self.modes = [modes[c] for c in self.names]
        J = len(self.names)
        ix = {c: j for j, c in enumerate(self.names)}
        self.D = np.zeros((J, J), dtype=bool)  # D[i, j]: construct i -> construct j
        for y, xs in structure.items():
            for x in xs:
                self.D[ix[x], ix[y]] = True
        self.mask = np.zeros((len(items), J))  # mask[h, j] = 1: item h belongs to construct j
        for j, b in enumerate(self.blocks):
            self.mask[b, j] = 1.0
        self.preds = [np.flatnonzero(self.D[:, j]) for j in range(J)]
        self.endogenous = [j for j in range(J) if len(self.preds[j])]
        self.adjacent = self.D | self.D.T


def _weight_matrix(layout: _Layout, weights: list[np.ndarray], p: int) -> np.ndarray:
    W = np.zeros((p, len(layout.blocks)))
    for j, (b, w) in enumerate(zip(layout.blocks, weights, strict=True)):
        W[b, j] = w
    return W


def _normalise(S: np.ndarray, W: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rescale each column of the weight matrix so that its score has variance 1, and orient it
    (the sign rule: the loadings of a block sum to a positive number). NaN if a score is constant."""
    v = np.einsum("ij,ij->j", W, S @ W)  # diag(W' S W): variances of the scores
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        return np.full_like(W, np.nan)
    W = W / np.sqrt(v)
    flip = ((S @ W) * mask).sum(axis=0) < 0
    return W * np.where(flip, -1.0, 1.0)


def _inner_weights(layout: _Layout, R: np.ndarray, scheme: str) -> np.ndarray:
    """E[i, j]: weight of score i in the inner estimate of construct j."""
    A = layout.adjacent
    if scheme == "centroid":
        return np.sign(R) * A
    if scheme == "factorial":
        return R * A
    E = np.where(layout.D.T, R, 0.0)  # followers k of j (j -> k): cor(y_j, y_k)
    for j in layout.endogenous:
        P = layout.preds[j]
        E[P, j] = np.linalg.solve(R[np.ix_(P, P)], R[P, j])
    return E


def _pls_weights(S: np.ndarray, layout: _Layout, scheme: str, tol: float, max_iter: int):
    """Outer weights of standardised items from the item correlation matrix ``S``.

    Returns (list of weight vectors, one per block; iterations used); raises ConvergenceError.
    """
    mask = layout.mask
    W = _normalise(S, mask.copy(), mask)  # equal weights to start
    mode_b = [j for j, m in enumerate(layout.modes) if m == "B"]
    for it in range(1, max_iter + 1):
        R = W.T @ S @ W
        E = _inner_weights(layout, R, scheme)
        C = (S @ W @ E) * mask  # mode A: cov(item, inner estimate of its construct)
        for j in mode_b:  # mode B: multiple regression of the inner estimate on the block
            b = layout.blocks[j]
            C[b, j] = np.linalg.solve(S[layout.grids[j]], C[b, j])
        new = _normalise(S, C, mask)
        if not np.all(np.isfinite(new)):
            raise ConvergenceError("the PLS iteration broke down (a construct's inner estimate is zero)",
                                   fix="check that every construct correlates with its neighbours, or try "
                                       "scheme='path' or 'factorial'")
        delta = float(np.max(np.abs(new - W)))
        W = new
        if delta < tol:
            return [W[b, j] for j, b in enumerate(layout.blocks)], it
    raise ConvergenceError(f"the PLS weights did not converge in {max_iter} iterations (last change {delta:.2g})",
                           fix="raise max_iter=, loosen tol=, or use scheme='path' (centroid weights can "
                               "oscillate); weak or wrongly keyed items slow convergence too")


def _rho_a(Sb: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Dijkstra-Henseler rho_A and the PLSc loading factor c (w scaled to var 1)."""
    if len(w) < 2:
        return 1.0, 1.0
    ww = np.outer(w, w)
    num = float(w @ (Sb - np.diag(np.diag(Sb))) @ w)
    den = float(w @ (ww - np.diag(np.diag(ww))) @ w)
    if den <= 0:
        return float("nan"), float("nan")
    c2 = num / den
    return float((w @ w) ** 2 * c2), float(np.sqrt(c2)) if c2 > 0 else float("nan")


def _structural(layout: _Layout, R: np.ndarray):
    """Standardised path coefficients (dict (i, j) -> b) and R² per endogenous construct."""
    paths, r2 = {}, {}
    for j in layout.endogenous:
        P = layout.preds[j]
        b = np.linalg.solve(R[np.ix_(P, P)], R[P, j])
        r2[j] = float(b @ R[P, j])
        for i, v in zip(P, b, strict=True):
            paths[(i, j)] = float(v)
    return paths, r2


def _estimate(S: np.ndarray, layout: _Layout, scheme: str, tol: float, max_iter: int, consistent: bool) -> dict:
    """Everything that depends on the item correlations only (also used for the population target)."""
    w, n_iter = _pls_weights(S, layout, scheme, tol, max_iter)
    p = S.shape[0]
    W = _weight_matrix(layout, w, p)
    R = W.T @ S @ W
    rho_a, cfac = [], []
    for j, grid in enumerate(layout.grids):
        ra, c = _rho_a(S[grid], w[j]) if layout.modes[j] == "A" else (1.0, 1.0)
        rho_a.append(ra)
        cfac.append(c)
    rho_a = np.array(rho_a)
    Rs = R
    if consistent:
        bad = [layout.names[j] for j, v in enumerate(rho_a) if not v > 0]
        if bad:
            raise ConvergenceError(f"PLSc needs a positive reliability rho_A for every block, not for {bad}: "
                                   "their items hardly correlate (or their weights differ in sign)",
                                   fix="check the items' keying, drop items unrelated to the others, or use "
                                       "classic PLS (consistent=False)")
        # PLSc: correct composite correlations for the unreliability of mode-A composites
        q = np.sqrt(rho_a)
        Rs = R / np.outer(q, q)
        np.fill_diagonal(Rs, 1.0)
    paths, r2 = _structural(layout, Rs)
    L = S @ W  # cor(item, score): loadings and cross-loadings
    if consistent:
        loadings = [cfac[j] * w[j] if layout.modes[j] == "A" else L[b, j] for j, b in enumerate(layout.blocks)]
    else:
        loadings = [L[b, j] for j, b in enumerate(layout.blocks)]
    off = Rs[~np.eye(len(Rs), dtype=bool)]
    # PLSc can return a reliability above 1 or a latent correlation of 1 or more: not a solution
    admissible = not consistent or (bool(np.all(rho_a[np.isfinite(rho_a)] <= 1)) and bool(np.all(np.abs(off) < 1)))
    return {"w": w, "W": W, "R": R, "R_struct": Rs, "paths": paths, "r2": r2, "loadings": loadings,
            "admissible": admissible, "cross": L, "rho_a": rho_a, "n_iter": n_iter}


# ------------------------------------------------------------------------------------
# specification
# ------------------------------------------------------------------------------------
def _resolve_spec(spec, measurement, structure, modes):
    """The model as SatisfactionIndexModel reads it (presets, checks), plus what PLS needs."""
    if measurement is not None and structure is not None:
        model_description(measurement, structure)  # type checks: a string is not a list of items
    measurement, structure = model_spec(spec, measurement, structure)
    structure = {y: xs for y, xs in structure.items() if xs}
    for c, its in measurement.items():
        if len(set(its)) != len(its):
            raise ParameterError(f"construct {c!r} lists an item twice: {its}", fix="list each item once")
    for y, xs in structure.items():
        if y in xs or len(set(xs)) != len(xs):
            raise ParameterError(f"structure[{y!r}] = {xs} repeats a construct or points {y!r} at itself",
                                 fix="list each predictor once and never the outcome itself")
    linked = set(structure) | {x for xs in structure.values() for x in xs}
    lonely = [c for c in measurement if c not in linked]
    if lonely:
        raise ParameterError(f"construct(s) {lonely} have no path: PLS estimates a construct from its neighbours",
                             fix="add a path to or from them in structure=, or drop them from measurement=")
    _check_recursive(structure)
    if modes is None:
        modes = {}
    if isinstance(modes, str):
        check_option(modes, "modes", MODES)
        modes = {c: modes for c in measurement}
    if not isinstance(modes, Mapping):
        raise ParameterError(f"modes must be 'A', 'B' or a dict {{construct: 'A' or 'B'}}, got {modes!r}",
                             fix='e.g. modes={"Image": "B"} for a formative image block (others stay "A")')
    unknown = [c for c in modes if c not in measurement]
    if unknown:
        raise ParameterError(f"modes names construct(s) {unknown} that are not in measurement",
                             fix=f"use constructs of {list(measurement)}")
    out = {}
    for c in measurement:
        out[c] = check_option(modes.get(c, "A"), f"modes[{c!r}]", MODES)
    return measurement, structure, out


def _check_recursive(structure):
    state = {}

    def visit(c, trail):
        if state.get(c) == "done":
            return
        if state.get(c) == "open":
            raise ParameterError(f"the structural model has a cycle: {' -> '.join([*trail, c])}",
                                 fix="PLS path models here must be recursive: remove one path of the cycle")
        state[c] = "open"
        for x in structure.get(c, []):
            visit(x, [*trail, c])
        state[c] = "done"

    for c in structure:
        visit(c, [])


def _scales_dict(scales, items):
    if scales is None:
        return None
    if isinstance(scales, Mapping):
        return dict(scales)
    try:
        lo, hi = scales
        float(lo), float(hi)
    except (TypeError, ValueError):
        raise ParameterError(f"item_scales must be a dict {{item: (low, high)}} or one (low, high) pair, got {scales!r}",
                             fix="pass e.g. item_scales=(1, 10) when every item is answered on 1-10") from None
    return {it: (lo, hi) for it in items}


# ------------------------------------------------------------------------------------
# the model
# ------------------------------------------------------------------------------------
class PLSPathModel(Fitter):
    """PLS path model (PLS-PM) of a satisfaction index, estimated with the Lohmöller/Wold algorithm.

    Parameters
    ----------
    spec : {"acsi", "drivers"}
        Preset specification, the same as ``SatisfactionIndexModel`` (ignored when
        ``measurement`` and ``structure`` are given).
    measurement : dict, optional
        Construct -> items. An item may belong to two constructs.
    structure : dict, optional
        Endogenous construct -> predictor constructs (a recursive model; every construct needs
        a path).
    modes : "A", "B" or dict, optional
        Measurement mode per construct: ``"A"`` reflective (default), ``"B"`` formative.
    scheme : {"path", "centroid", "factorial"}
        Inner weighting scheme (see the module docstring).
    consistent : bool
        Apply the PLSc correction (Dijkstra & Henseler 2015) so paths estimate latent paths.
    ci_level : float
        Level of the bootstrap percentile intervals.
    n_boot : int
        Bootstrap resamples of respondents (0 = no intervals).
    seed : int or numpy Generator
        Seed of the bootstrap.
    tol, max_iter :
        Convergence tolerance on the standardised outer weights, and iterations allowed.
    missing : {"error", "drop"}
        Refuse missing answers, or drop respondents with any missing model item.

    Notes
    -----
    Fitted attributes: ``paths_`` (= ``summary``), ``loadings_``, ``weights_``, ``cross_loadings_``, ``quality_``, ``r2_``, ``htmt_``,
    ``latent_corr_``, ``total_effects_``, ``scores_``, ``unstd_scores_``, ``index_``, ``bootstrap_paths_``,
    ``n_boot_failed_``, ``n_boot_inadmissible_`` (PLSc), ``n_iter_``, ``n_obs_``, ``n_dropped_``, ``measurement_``,
    ``structure_``, ``modes_``, ``description_``

    Examples
    --------
    >>> from crmlab import datasets
    >>> m = PLSPathModel("acsi", n_boot=50).fit(datasets.load("survey"))
    >>> round(float(m.paths_.loc[("SAT", "LOY"), "estimate"]), 2)
    0.51
    >>> round(float(m.index_.loc["SAT", "estimate"]), 1)
    69.4
    """

    _unit = "respondents"

    def __init__(self, spec: str = "acsi", *, measurement=None, structure=None, modes=None, scheme: str = "path",
                 consistent: bool = False, ci_level: float = 0.95, n_boot: int = 500, seed=0, tol: float = 1e-7,
                 max_iter: int = 300, missing: str = "error"):
        self.spec = spec
        self.measurement = measurement
        self.structure = structure
        self.modes = modes
        self.scheme = scheme
        self.consistent = consistent
        self.ci_level = ci_level
        self.n_boot = n_boot
        self.seed = seed
        self.tol = tol
        self.max_iter = max_iter
        self.missing = missing
        self._validate_settings()

    def _validate_settings(self):
        self._measurement, self._structure, self._modes = _resolve_spec(
            self.spec, self.measurement, self.structure, self.modes)
        check_option(self.scheme, "scheme", SCHEMES)
        check_option(self.missing, "missing", ["error", "drop"])
        if not isinstance(self.consistent, (bool, np.bool_)):
            raise ParameterError(f"consistent must be True or False, got {self.consistent!r}",
                                 fix="consistent=True for PLSc (latent-variable paths), False for classic PLS")
        check_ci_level(self.ci_level)
        check_count(self.n_boot, "n_boot", 0, 100_000)
        check_random_state(self.seed)
        check_scalar(self.tol, "tol", (int, float), 0)
        if not 0 < self.tol < 1e-2:
            raise ParameterError(f"tol must be in (0, 0.01), got {self.tol!r}",
                                 fix="keep the default tol=1e-7 (changes in standardised weights)")
        check_count(self.max_iter, "max_iter", 1, 100_000)
        self._items = list(dict.fromkeys(i for its in self._measurement.values() for i in its))

    # -- data ----------------------------------------------------------------------------
    def _prepare(self, df, scales, *, missing: str, for_fit: bool = True) -> tuple[pd.DataFrame, int, dict]:
        if not isinstance(df, pd.DataFrame):
            raise ParameterError(f"survey must be a DataFrame, got {type(df).__name__}",
                                 fix="pass the survey table, e.g. datasets.load('survey') or datasets.load_ecsi_mobile()")
        items = self._items
        absent = [i for i in items if i not in df.columns]
        if absent:
            raise ColumnError(f"survey is missing item column(s) {absent}",
                              fix="pass the full questionnaire, or drop those items from measurement=")
        scales = _scales_dict(scales, items)
        check_numeric(df, items, "survey")
        for it in items:  # answers must lie on the item's scale, where the scale is known
            if it in QUESTIONNAIRE.index or (scales and it in scales):
                lo, hi = item_scale(it, scales)
                check_in_range(df, it, lo, hi, name="survey", what="answers")
            if df[it].isna().all():
                raise DataValidationError(f"survey[{it!r}] has no answers at all (every value is missing)",
                                          fix=f"drop {it!r} from measurement= or check how the survey was merged")
        data = df[items].astype(float)
        incomplete = data.isna().any(axis=1).to_numpy()
        n_dropped = 0
        if incomplete.any():
            if missing == "error":
                cols = [c for c in items if data[c].isna().any()]
                first = df.index[np.flatnonzero(incomplete)[0]]
                raise DataValidationError(
                    f"survey has missing answers in {cols} ({int(incomplete.sum())} respondent(s), first at row "
                    f"{first!r})",
                    fix="drop incomplete respondents with PLSPathModel(..., missing='drop'), or impute them first"
                    if for_fit else f"scores need every item: drop or impute those respondents first "
                                    f"(survey.dropna(subset={cols}))")
            n_dropped = int(incomplete.sum())
            data = data.loc[~incomplete]
        data = data.copy()
        for it in items:  # reverse-keyed questionnaire items are flipped so that every loading is positive
            if it in QUESTIONNAIRE.index and QUESTIONNAIRE.loc[it, "reverse"]:
                lo, hi = item_scale(it, scales)
                data[it] = lo + hi - data[it]
        if not for_fit:
            return data, n_dropped, scales or {}
        need = max(10, max(len(b) for b in self._measurement.values()) + 2)
        if len(data) < need:
            raise DataValidationError(
                f"only {len(data)} complete respondents; PLS needs at least {need} for this model",
                fix="pool waves or segments, or use fewer items per construct")
        sd = data.std()
        const = sd.index[~(sd.to_numpy() > 0)].tolist()
        if const:
            raise DataValidationError(f"item(s) {const} are constant: a constant item has no correlation with "
                                      "anything, so its weight is undefined",
                                      fix="drop constant items from measurement= (or check the data filter)")
        return data, n_dropped, scales or {}

    def _mode_b_rank(self, S):
        for c, b in zip(self._layout.names, self._layout.blocks, strict=True):
            if self._modes[c] == "B" and len(b) > 1:
                ev = np.linalg.eigvalsh(S[np.ix_(b, b)])
                if ev.min() < 1e-10 * ev.max():
                    raise DataValidationError(
                        f"the items of formative construct {c!r} are linearly dependent, so mode B weights "
                        "(a multiple regression) are undefined",
                        fix=f"drop duplicated or derived items of {c!r}, or estimate it in mode A")

    # -- fitting -------------------------------------------------------------------------
    def fit(self, survey: pd.DataFrame, *, item_scales=None) -> PLSPathModel:
        """Estimate the model on a survey table (one row per respondent).

        Parameters
        ----------
        survey : DataFrame
            One column per item of the model.
        item_scales : dict or (low, high), optional
            Answer range of items that are not in the kit's questionnaire, for the 0-100 index:
            ``{item: (low, high)}``, or one pair for every item (``item_scales=(1, 10)``). Without it,
            such items get no index (``index_`` is None) but every other result is there.

        Raises
        ------
        DataValidationError
            Answers outside their scale, missing answers (with ``missing="error"``), constant
            items, too few respondents, linearly dependent items in a mode-B block.
        ConvergenceError
            The iteration did not converge in ``max_iter`` rounds.
        """
        self._validate_settings()
        with single_thread():
            return self._fit(survey, item_scales)

    def _fit(self, survey, scales):
        data, n_dropped, scales = self._prepare(survey, scales, missing=self.missing)
        items = self._items
        self._layout = layout = _Layout(self._measurement, self._structure, self._modes, items)
        X = data.to_numpy()
        n = len(X)
        arrows = [int(layout.D[:, j].sum()) for j in range(len(layout.names))]
        arrows += [len(b) for b, mode in zip(layout.blocks, layout.modes, strict=True) if mode == "B"]
        if n < 10 * max(arrows):
            warnings.warn(f"{n} respondents is fewer than 10 times the largest number of arrows into one construct "
                          "(paths, or items of a mode-B block: the 'ten-times rule' of Barclay et al. 1995): estimates will be imprecise; the "
                          "bootstrap intervals show how much", UserWarning, stacklevel=3)
        mean, sd = X.mean(axis=0), X.std(axis=0, ddof=1)
        S = np.corrcoef(X, rowvar=False)
        self._mode_b_rank(S)
        est = _estimate(S, layout, self.scheme, self.tol, self.max_iter, self.consistent)
        names = layout.names
        lows, highs = self._item_ranges(scales)

        self.measurement_, self.structure_, self.modes_ = self._measurement, self._structure, dict(self._modes)
        self.description_ = model_description(self._measurement, self._structure)
        self.n_obs_, self.n_dropped_, self.n_iter_ = n, n_dropped, est["n_iter"]
        self._scales, self._X = scales, X
        self._center, self._sd = pd.Series(mean, index=items), pd.Series(sd, index=items)
        Z = (X - mean) / sd
        self.scores_ = pd.DataFrame(Z @ est["W"], index=data.index, columns=names)
        raw = self._raw_weights(est["w"], sd, lows, highs)
        self._raw = raw
        self.unstd_scores_ = pd.DataFrame({c: X[:, b] @ raw["mean_weight"][j]
                                           for j, (c, b) in enumerate(zip(names, layout.blocks, strict=True))},
                                          index=data.index)
        boot = self._bootstrap(X, lows, highs) if self.n_boot else None
        self._collect(est, X, raw, lows, highs, boot)
        return self

    def _item_ranges(self, scales):
        lows, highs = [], []
        for it in self._items:
            if it in scales or it in QUESTIONNAIRE.index:
                lo, hi = item_scale(it, scales)
            else:
                lo, hi = np.nan, np.nan
            lows.append(float(lo))
            highs.append(float(hi))
        return np.array(lows), np.array(highs)

    def _raw_weights(self, w, sd, lows, highs) -> dict:
        """Raw, mean (sum-to-1) and index (0-100) weights per block."""
        out = {"raw": [], "mean_weight": [], "index_weight": []}
        for j, b in enumerate(self._layout.blocks):
            r = w[j] / sd[b]
            out["raw"].append(r)
            out["mean_weight"].append(r / r.sum())
            iw = r * (highs[b] - lows[b])
            out["index_weight"].append(iw / iw.sum())
        return out

    def _index_means(self, mean, raw, lows, highs) -> np.ndarray:
        """Mean 0-100 index per construct: the index is linear in the items, so item means suffice."""
        return np.array([100 * float(raw["index_weight"][j] @ ((mean[b] - lows[b]) / (highs[b] - lows[b])))
                         for j, b in enumerate(self._layout.blocks)])

    # -- bootstrap ---------------------------------------------------------------------------
    def _bootstrap(self, X, lows, highs) -> dict:
        layout = self._layout
        rng = check_random_state(self.seed)
        n = len(X)
        draws = {"paths": [], "loadings": [], "weights": [], "r2": [], "index": [], "unstd": []}
        failed = inadmissible = 0
        for _ in range(self.n_boot):
            Xb = X[rng.integers(0, n, n)]
            sd = Xb.std(axis=0, ddof=1)
            if not np.all(sd > 0):
                failed += 1
                continue
            S = np.corrcoef(Xb, rowvar=False)
            try:
                est = _estimate(S, layout, self.scheme, self.tol, self.max_iter, self.consistent)
            except (ConvergenceError, np.linalg.LinAlgError):
                failed += 1
                continue
            inadmissible += not est["admissible"]
            raw = self._raw_weights(est["w"], sd, lows, highs)
            draws["paths"].append([est["paths"][k] for k in self._path_keys])
            draws["unstd"].append(self._unstd_paths(est["paths"], raw))
            draws["loadings"].append(np.concatenate(est["loadings"]))
            draws["weights"].append(np.concatenate(est["w"]))
            draws["r2"].append([est["r2"][j] for j in layout.endogenous])
            draws["index"].append(self._index_means(Xb.mean(axis=0), raw, lows, highs))
        self.n_boot_failed_, self.n_boot_inadmissible_ = failed, inadmissible
        if inadmissible > 0.05 * self.n_boot:
            warnings.warn(f"PLSc was inadmissible in {inadmissible} of {self.n_boot} bootstrap resamples (a "
                          "reliability above 1 or a latent correlation of 1 or more): the constructs are barely "
                          "distinguishable in these data and the intervals are unreliable; check the HTMT "
                          "ratios, or use classic PLS (consistent=False)", UserWarning, stacklevel=4)
        if failed > 0.1 * self.n_boot:
            warnings.warn(f"{failed} of {self.n_boot} bootstrap resamples failed (constant item or no convergence); "
                          "the intervals rest on the others", UserWarning, stacklevel=4)
        if len(draws["paths"]) < 2:
            raise ConvergenceError("fewer than two bootstrap resamples could be estimated",
                                   fix="use more respondents, or n_boot=0 to fit without intervals")
        return {k: np.asarray(v, dtype=float) for k, v in draws.items()}

    @property
    def _path_keys(self):
        return sorted(((i, j) for j in self._layout.endogenous for i in self._layout.preds[j]),
                      key=lambda k: (self._layout.endogenous.index(k[1]), list(self._layout.preds[k[1]]).index(k[0])))

    @staticmethod
    def _unstd_sds(raw) -> np.ndarray:
        """SD of each construct's unstandardised score.

        That score is ``sum(r_h x_h) / sum(r_h)`` with the raw weights ``r = w / sd``, i.e. the
        standardised score divided by ``sum(r)`` plus a constant: its SD is ``1 / |sum(r)|``.
        """
        return np.array([1 / abs(float(r.sum())) for r in raw["raw"]])

    def _unstd_paths(self, paths, raw) -> list[float]:
        """Paths among the unstandardised (items' scale) scores: b_std * sd(target) / sd(source)."""
        sds = self._unstd_sds(raw)
        return [paths[(i, j)] * sds[j] / sds[i] for i, j in self._path_keys]

    def _interval(self, est, draws):
        """std_error, ci_lower, ci_upper and p_value arrays from bootstrap draws (NaN without)."""
        est = np.asarray(est, dtype=float)
        if draws is None:
            nan = np.full(est.shape, np.nan)
            return nan, nan, nan, nan
        g = (1 - self.ci_level) / 2
        se = draws.std(axis=0, ddof=1)
        lo, hi = np.quantile(draws, [g, 1 - g], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(se > 0, 2 * stats.norm.sf(np.abs(est / se)), np.nan)
        return se, lo, hi, p

    # -- results ---------------------------------------------------------------------------
    def _collect(self, est, X, raw, lows, highs, boot) -> None:
        layout = self._layout
        names, items = layout.names, self._items
        keys = self._path_keys
        b = np.array([est["paths"][k] for k in keys])
        unstd = np.array(self._unstd_paths(est["paths"], raw))
        idx = pd.MultiIndex.from_tuples([(names[i], names[j]) for i, j in keys], names=["source", "target"])
        se, lo, hi, p = self._interval(b, None if boot is None else boot["paths"])
        useb = None if boot is None else boot["unstd"]
        uq = (np.full(len(keys), np.nan),) * 2 if useb is None else np.quantile(
            useb, [(1 - self.ci_level) / 2, (1 + self.ci_level) / 2], axis=0)
        self.paths_ = summary_frame(b, se, lo, hi, index=idx, ci_level=self.ci_level, p_value=p,
                                    unstandardised=unstd, unstd_ci_lower=uq[0], unstd_ci_upper=uq[1])
        self.bootstrap_paths_ = None if boot is None else pd.DataFrame(boot["paths"], columns=idx)
        if boot is None:
            self.n_boot_failed_ = self.n_boot_inadmissible_ = 0

        # outer model: loadings and weights, one row per (construct, item)
        rows = [(c, items[k]) for c, bl in zip(names, layout.blocks, strict=True) for k in bl]
        oidx = pd.MultiIndex.from_tuples(rows, names=["construct", "item"])
        lam = np.concatenate(est["loadings"])
        item_pos = np.concatenate(layout.blocks)
        sd_items = X.std(axis=0, ddof=1)[item_pos]
        unstd_sd = np.repeat(self._unstd_sds(raw), [len(bl) for bl in layout.blocks])
        se, lo, hi, p = self._interval(lam, None if boot is None else boot["loadings"])
        self.loadings_ = summary_frame(lam, se, lo, hi, index=oidx, ci_level=self.ci_level, p_value=p,
                                       unstandardised=lam * sd_items / unstd_sd, communality=lam ** 2)
        wv = np.concatenate(est["w"])
        se, lo, hi, p = self._interval(wv, None if boot is None else boot["weights"])
        self.weights_ = summary_frame(
            wv, se, lo, hi, index=oidx, ci_level=self.ci_level, p_value=p,
            raw_weight=np.concatenate(raw["raw"]), mean_weight=np.concatenate(raw["mean_weight"]),
            index_weight=np.concatenate(raw["index_weight"]), low=lows[item_pos], high=highs[item_pos],
            mode=np.concatenate([[layout.modes[j]] * len(bl) for j, bl in enumerate(layout.blocks)]))
        negative = self.weights_.index[self.weights_["mean_weight"] < 0].tolist()
        if negative:
            warnings.warn(f"negative outer weights for {negative}: the unstandardised score is then not a weighted "
                          "mean of the items and the 0-100 index can leave [0, 100] (common in mode B with "
                          "collinear items)", UserWarning, stacklevel=4)
        self.cross_loadings_ = pd.DataFrame(est["cross"], index=items, columns=names)

        # structural results and quality
        R = est["R_struct"]
        self.latent_corr_ = pd.DataFrame(R, index=names, columns=names)
        endo = [names[j] for j in layout.endogenous]
        self.r2_ = pd.Series([est["r2"][j] for j in layout.endogenous], index=endo, name="r2")
        Bm = np.zeros((len(names), len(names)))
        for (i, j), v in est["paths"].items():
            Bm[j, i] = v
        self.total_effects_ = pd.DataFrame(np.linalg.inv(np.eye(len(names)) - Bm) - np.eye(len(names)),
                                           index=names, columns=names)
        S = np.corrcoef(X, rowvar=False)
        self.quality_ = self._quality(est, S, boot)
        self.htmt_ = _htmt(S, layout)
        if self.consistent:
            improper = [c for c, v in self.quality_["rho_a"].items() if v > 1] + [
                f"{a}~{c}" for ai, a in enumerate(names) for c in names[ai + 1:] if abs(R[ai, names.index(c)]) >= 1]
            if improper:
                warnings.warn(f"PLSc gave an inadmissible solution ({improper}: reliability above 1 or a latent "
                              "correlation of 1 or more); use more respondents or classic PLS (consistent=False)",
                              UserWarning, stacklevel=4)

        # the 0-100 index
        if np.isnan(lows).any():
            self.index_ = None
        else:
            vals = self._index_means(X.mean(axis=0), raw, lows, highs)
            if boot is not None:
                se, lo, hi, _ = self._interval(vals, boot["index"])
            else:  # weights held fixed: a t interval of each mean
                sc = self._index_frame(X, self.scores_.index)
                se = (sc.std(ddof=1) / np.sqrt(len(sc))).to_numpy()
                t = stats.t.ppf(0.5 + self.ci_level / 2, len(sc) - 1)
                lo, hi = vals - t * se, vals + t * se
            self.index_ = summary_frame(vals, se, lo, hi, index=pd.Index(names, name="construct"),
                                        ci_level=self.ci_level, n=np.full(len(names), len(X)))

    def _quality(self, est, S, boot) -> pd.DataFrame:
        layout = self._layout
        rows = []
        r2_boot = {}
        if boot is not None:
            lo, hi = np.quantile(boot["r2"], [(1 - self.ci_level) / 2, (1 + self.ci_level) / 2], axis=0)
            r2_boot = {j: (lo[k], hi[k]) for k, j in enumerate(layout.endogenous)}
        for j, (c, b) in enumerate(zip(layout.names, layout.blocks, strict=True)):
            lam = est["loadings"][j]
            reflective = layout.modes[j] == "A"
            k = len(b)
            Sb = S[np.ix_(b, b)]
            alpha = k / (k - 1) * (1 - k / Sb.sum()) if k > 1 else np.nan
            s = lam.sum()
            rho_c = s ** 2 / (s ** 2 + (1 - lam ** 2).sum()) if reflective else np.nan
            ave = float(np.mean(lam ** 2)) if reflective else np.nan
            others = np.abs(np.delete(est["R_struct"][j], j))
            r2 = est["r2"].get(j, np.nan)
            npred = len(layout.preds[j])
            n = self.n_obs_
            rows.append({"construct": c, "mode": layout.modes[j], "k": k, "r2": r2,
                         "r2_ci_lower": r2_boot.get(j, (np.nan,))[0], "r2_ci_upper": r2_boot.get(j, (np.nan, np.nan))[1],
                         "r2_adjusted": 1 - (1 - r2) * (n - 1) / (n - npred - 1) if npred else np.nan,
                         "alpha": alpha if reflective else np.nan, "rho_c": rho_c,
                         "rho_a": est["rho_a"][j] if reflective else np.nan, "ave": ave,
                         "sqrt_ave": np.sqrt(ave), "max_latent_corr": float(others.max()) if len(others) else np.nan})
        q = pd.DataFrame(rows).set_index("construct")
        q["fornell_larcker_ok"] = (q["sqrt_ave"] > q["max_latent_corr"]).where(q["mode"] == "A")
        return q

    # -- scores ----------------------------------------------------------------------------
    def _check_scored(self):
        self._check_fitted()
        if self.index_ is None:
            lows = self._item_ranges(self._scales)[0]
            unknown = [it for it, lo in zip(self._items, lows, strict=True) if np.isnan(lo)]
            raise ParameterError(f"the answer scale of {unknown} is unknown, so the 0-100 index is undefined",
                                 fix="refit with item_scales={item: (low, high)} (or item_scales=(low, high) for all items)")

    def _new_data(self, df) -> np.ndarray:
        if df is None:
            return None
        data, _, _ = self._prepare(df, self._scales or None, missing="error", for_fit=False)
        return data.to_numpy()

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Standardised construct scores of new respondents (fitted means, SDs and weights)."""
        self._check_fitted()
        X = self._new_data(df)
        Z = (X - self._center.to_numpy()) / self._sd.to_numpy()
        W = _weight_matrix(self._layout, [self.weights_.loc[c, "estimate"].to_numpy() for c in self._layout.names],
                           len(self._items))
        return pd.DataFrame(Z @ W, index=df.index, columns=self._layout.names)

    def index_scores(self, df: pd.DataFrame | None = None) -> pd.DataFrame:
        """0-100 index of every construct for every respondent (the fitted survey when ``df`` is None).

        ``100 * sum(index_weight * (x - low) / (high - low))`` with the ``index_weight`` column of
        ``weights_``: 0 when every answer is the lowest, 100 when every answer is the highest.
        """
        self._check_scored()
        X = self._X if df is None else self._new_data(df)
        return self._index_frame(X, self.scores_.index if df is None else df.index)

    def _index_frame(self, X, index) -> pd.DataFrame:
        lows, highs = self._item_ranges(self._scales)
        out = {}
        for j, (c, b) in enumerate(zip(self._layout.names, self._layout.blocks, strict=True)):
            out[c] = 100 * (X[:, b] - lows[b]) / (highs[b] - lows[b]) @ self._raw["index_weight"][j]
        return pd.DataFrame(out, index=index)

    # -- summary ---------------------------------------------------------------------------
    def _summary(self) -> pd.DataFrame:
        return self.paths_


# ------------------------------------------------------------------------------------
# measurement quality helpers
# ------------------------------------------------------------------------------------
def _htmt(S: np.ndarray, layout: _Layout) -> pd.DataFrame:
    """HTMT (Henseler, Ringle & Sarstedt 2015) from absolute item correlations; NaN for single items.

    Items shared by two constructs are left out of that pair (as in ``satisfaction_index.htmt``).
    """
    A = np.abs(S)
    names = layout.names
    mono = []
    for b in layout.blocks:
        k = len(b)
        mono.append((A[np.ix_(b, b)].sum() - k) / (k * (k - 1)) if k > 1 else np.nan)
    out = np.full((len(names), len(names)), np.nan)
    for i, bi in enumerate(layout.blocks):
        for j, bj in enumerate(layout.blocks):
            if i == j:
                continue
            a = np.setdiff1d(bi, bj)
            c = np.setdiff1d(bj, bi)
            if len(a) and len(c):
                out[i, j] = A[np.ix_(a, c)].mean() / np.sqrt(mono[i] * mono[j])
    return pd.DataFrame(out, index=names, columns=names)


# ------------------------------------------------------------------------------------
# the planted truth of the synthetic world
# ------------------------------------------------------------------------------------
def _hermite_coefficients(mean: float, sd: float, low: int, high: int, terms: int) -> tuple[np.ndarray, float]:
    """Mehler-series coefficients of an answer recorded as clip(rint(mean + sd * Z), low, high).

    The answer is ``low + sum_t 1{Z > t}`` over the thresholds ``t`` between answers, and
    ``E[1{Z > t} He_k(Z)] = phi(t) He_(k-1)(t)``; so with normalised Hermite polynomials
    ``h_k = He_k / sqrt(k!)`` the coefficient ``d_k = sum_t phi(t) h_(k-1)(t) / sqrt(k)`` and two
    such answers whose underlying normals correlate ``r`` have covariance ``sum_k d_k d'_k r^k``.
    Returns (d_1..d_terms, exact variance of the answer).
    """
    t = (np.arange(low, high) + 0.5 - mean) / sd
    phi = stats.norm.pdf(t)
    d = np.empty(terms)
    h_prev, h = np.zeros_like(t), np.ones_like(t)
    for k in range(1, terms + 1):
        d[k - 1] = float(phi @ h) / np.sqrt(k)
        h_prev, h = h, (t * h - np.sqrt(k - 1) * h_prev) / np.sqrt(k)
    cdf = np.concatenate([[0.0], stats.norm.cdf(t), [1.0]])
    prob = np.diff(cdf)
    values = np.arange(low, high + 1)
    var = float(prob @ values ** 2 - (prob @ values) ** 2)
    return d, var


def population_item_correlation(truth: Mapping, items: Sequence[str], *, latents: pd.DataFrame | None = None,
                                terms: int = 200) -> pd.DataFrame:
    """Correlations of the kit's survey items implied by the planted truth, after rounding to answers.

    The generator records item h as ``clip(rint(mean_h + sd_h * x_h), low, high)`` with
    ``x_h = lambda_h' eta + noise`` standard normal (``truth["acsi"]``: loadings, cross-item
    weights, latent covariance; the answer means and SDs of ``crmlab.synth.generate.SURVEY_ITEMS``).
    The continuous responses correlate ``lambda_i' Phi lambda_j``; rounding and clipping change
    that, and the exact correlation of the recorded answers is computed by the Mehler (Hermite)
    series of :func:`_hermite_coefficients`. Reverse-keyed items are returned flipped
    (``low + high - answer``), as :class:`PLSPathModel` uses them.

    Without ``latents`` this is the matrix of the whole customer population. Respondents are
    selected on satisfaction: pass their true latent scores (:func:`respondent_latents`) and
    the latent means and covariance are taken from them instead (treated as normal).

    >>> from crmlab import datasets
    >>> C = population_item_correlation(datasets.load_truth(), ["sat_overall", "sat_vs_ideal"])
    >>> round(float(C.iloc[0, 1]), 3)
    0.741
    """
    from .synth.generate import CROSS_ITEM_R2, SURVEY_ITEMS

    acsi = truth.get("acsi") if isinstance(truth, Mapping) else None
    if not acsi or "loadings" not in acsi:
        raise ParameterError("truth must be the dict from datasets.load_truth() / world.truth with an 'acsi' entry",
                             fix="pass datasets.load_truth() or world.truth")
    items = list(items)
    unknown = [i for i in items if i not in SURVEY_ITEMS]
    if unknown:
        raise ParameterError(f"items {unknown} are not survey items of the synthetic world",
                             fix="compare with the truth only models of the kit's questionnaire items")
    cov = latent_covariance(truth)
    names = list(cov.index)
    Phi = cov.to_numpy()
    mu = np.zeros(len(names))
    if latents is not None:
        if not isinstance(latents, pd.DataFrame) or [c for c in names if c not in latents.columns]:
            raise ParameterError(f"latents must be a DataFrame with the columns {names}",
                                 fix="build it with respondent_latents(world)")
        mu = latents[names].mean().to_numpy()
        S_resp = latents[names].cov().to_numpy()
    lam, coef, var = [], [], []
    for it in items:
        weights, lo, hi, mean, sd, planted, reverse = SURVEY_ITEMS[it]
        v = np.zeros(len(names))
        if planted > 0:
            spec = acsi["loadings"][it]
            v[names.index(spec["latent"])] = abs(spec["loading"])
        else:  # an item written as a weighted mix of latents, explaining CROSS_ITEM_R2 of its variance
            for k, wk in acsi["items"][it]["latents"].items():
                v[names.index(k)] = wk
            v *= np.sqrt(CROSS_ITEM_R2 / float(v @ Phi @ v))
        lam.append(v)
        # x = lambda' eta + noise, with var 1 in the population; among respondents its mean and
        # variance move with the latents': an answer clip(rint(mean + sd * x)) is then one of
        # mean + sd * m and SD sd * s on a standard normal
        noise = 1 - float(v @ Phi @ v)
        m = float(v @ mu)
        s_x = np.sqrt(float(v @ (S_resp if latents is not None else Phi) @ v) + noise)
        centre = mean + sd * (-m if reverse else m)
        # a reverse-keyed answer, flipped, is clip(rint(low + high - mean + sd * x)): mean mirrored
        d, s2 = _hermite_coefficients(lo + hi - centre if reverse else centre, sd * s_x, lo, hi, terms)
        coef.append(d)
        var.append((s2, s_x))
    L = np.array(lam)
    C = L @ (S_resp if latents is not None else Phi) @ L.T
    k = np.arange(1, terms + 1)
    out = np.eye(len(items))
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            r = C[i, j] / (var[i][1] * var[j][1])
            c = float(np.sum(coef[i] * coef[j] * r ** k))
            out[i, j] = out[j, i] = c / np.sqrt(var[i][0] * var[j][0])
    return pd.DataFrame(out, index=items, columns=items)


# the generator's latent columns (world.latent) of the model's constructs
_WORLD_LATENTS = {"EXP": "expectation", "product": "driver_product", "attitude": "driver_attitude",
                  "efficiency": "driver_efficiency", "purchase": "driver_purchase", "price": "driver_price",
                  "emotion": "driver_emotion", "PQ": "perceived_quality", "PV": "perceived_value",
                  "SAT": "satisfaction", "COMP": "complaint_intent", "LOY": "loyalty"}


def respondent_latents(latent: pd.DataFrame, survey: pd.DataFrame) -> pd.DataFrame:
    """The true latent scores behind each survey response (one row per response, construct names).

    ``latent`` is the world's per-customer latent table (``world.latent`` or
    ``datasets.load_latent()``), ``survey`` its survey. Baseline latents: the go-live shift of
    service efficiency in wave 2 is not in them (it moves no path by more than 0.01).
    """
    cols = list(_WORLD_LATENTS.values())
    if not isinstance(latent, pd.DataFrame) or not isinstance(survey, pd.DataFrame):
        raise ParameterError("latent and survey must be DataFrames",
                             fix="pass world.latent and world.survey (or datasets.load_latent(), datasets.load('survey'))")
    for frame, name, need in ((latent, "latent", ["customer_id", *cols]), (survey, "survey", ["customer_id"])):
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise ColumnError(f"{name} is missing column(s) {missing}",
                              fix="pass world.latent and world.survey of one synthetic world")
    lat = latent.set_index("customer_id")
    absent = ~survey["customer_id"].isin(lat.index)
    if absent.any():
        raise DataValidationError(f"{int(absent.sum())} survey customer(s) have no latent row "
                                  f"(first {survey.loc[absent, 'customer_id'].iloc[0]!r})",
                                  fix="pass the latent table of the world the survey comes from")
    out = lat.loc[survey["customer_id"], cols].set_axis(list(_WORLD_LATENTS), axis=1)
    return out.reset_index(drop=True)


def compare_with_truth(model: PLSPathModel, truth: Mapping, *, latents: pd.DataFrame | None = None) -> pd.DataFrame:
    """Estimated standardised paths next to the planted paths and this estimator's population value.

    ``planted`` is the generator's path (NaN when it has none). ``population`` is the
    latent-variable path of this model's equations under the planted latent covariance
    (``satisfaction_index.population_paths``): what covariance SEM approaches. ``pls_population``
    is what *this* estimator approaches: the same algorithm with the same settings run on the
    population correlations of the recorded answers (:func:`population_item_correlation`). For
    classic PLS it lies below ``population`` in absolute value, because PLS relates composites
    that still carry measurement error; PLSc (``consistent=True``) removes most of that gap, and
    what remains shows where PLSc's assumptions fail (an item shared by two constructs, as
    ``q_service_quality`` in the ``"drivers"`` model, correlates their errors).
    ``target = pls_population``; ``difference = estimate - target``; ``covered`` says whether the
    bootstrap interval contains the target.

    Respondents are selected on satisfaction (``truth["survey"]["response_satisfaction_logit"]``),
    which the population values ignore: over fresh worlds intervals cover them less often than
    ``ci_level`` says. Pass the respondents' true latent scores
    (``latents=respondent_latents(world.latent, world.survey)``) to add the same values for the
    respondents (``respondents``, ``pls_respondents``, ``respondents_target = pls_respondents``).
    """
    if not isinstance(model, PLSPathModel):
        raise ParameterError(f"model must be a fitted PLSPathModel, got {type(model).__name__}",
                             fix="fit one first: PLSPathModel('acsi').fit(survey)")
    model._check_fitted()
    cov = latent_covariance(truth)
    outside = [c for c in model.measurement_ if c not in cov.index]
    if outside:
        raise ParameterError(f"constructs {outside} are not latents of the synthetic world",
                             fix=f"name constructs as the world does: {list(cov.index)}")
    names = model._layout.names

    def composite(lat):
        S = population_item_correlation(truth, model._items, latents=lat).to_numpy()
        est = _estimate(S, model._layout, model.scheme, min(model.tol, 1e-9), max(model.max_iter, 1000),
                        model.consistent)
        return pd.Series({(names[i], names[j]): v for (i, j), v in est["paths"].items()})

    planted = {tuple(k.split("->")): v for k, v in truth["acsi"]["paths"].items()}
    out = model.paths_[["estimate", "std_error", "ci_lower", "ci_upper"]].copy()
    out["planted"] = [planted.get(k, np.nan) for k in out.index]
    out["population"] = population_paths(model.structure_, cov)["population"].reindex(out.index).to_numpy()
    out["pls_population"] = composite(None).reindex(out.index).to_numpy()
    out["target"] = out["pls_population"]
    if latents is not None:
        comp = composite(latents)  # validates latents
        rcov = latents[list(cov.index)].corr()
        out["respondents"] = population_paths(model.structure_, rcov)["population"].reindex(out.index).to_numpy()
        out["pls_respondents"] = comp.reindex(out.index).to_numpy()
        out["respondents_target"] = out["pls_respondents"]
    out["difference"] = out["estimate"] - out["target"]
    out["covered"] = (out["ci_lower"] <= out["target"]) & (out["target"] <= out["ci_upper"])
    return out
