"""Fitting on weighted statistics and scoring large customer bases (see :mod:`crmlab.scale`)."""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import Fitter, wald_summary
from ..errors import ConvergenceError, DataValidationError, ParameterError
from ..validation import check_ci_level, check_count, check_frame, check_scalar
from . import _logs
from ._engine import SparkEngine


# ------------------------------------------------------------------------------------------
# BTYD fits on the weighted statistics
# ------------------------------------------------------------------------------------------
def fit_bgnbd(transactions, *, as_of, calibration_end=None, customer_id_col: str = "customer_id",
              date_col: str = "date", time_unit: str = "W", merge_same_day: bool = True,
              penalizer_coef: float = 0.0, engine=None):
    """BG/NBD fitted on the weighted (frequency, recency, T) statistics of a log of any size.

    Same likelihood as ``BetaGeoFitter().fit(summary)`` on the per-customer summary, so the
    same estimates; only the distinct rows travel from the engine to Python.
    Returns the fitted :class:`crmlab.clv.BetaGeoFitter`.
    """

    stats = _logs.bgnbd_statistics(transactions, as_of=as_of, calibration_end=calibration_end,
                                   customer_id_col=customer_id_col, date_col=date_col, time_unit=time_unit,
                                   merge_same_day=merge_same_day, engine=engine)
    return fit_weighted_bgnbd(stats, penalizer_coef=penalizer_coef)


def fit_weighted_bgnbd(stats: pd.DataFrame, *, penalizer_coef: float = 0.0, weights_col: str = "weight"):
    """BG/NBD on weighted (frequency, recency, T) rows (:func:`bgnbd_statistics`), started well.

    ``BetaGeoFitter().fit(stats, weights_col="weight")`` with starting values from a fit on
    200,000 customers drawn in proportion to the weights when there are more distinct rows
    than that: the same estimates, in a few passes over millions of rows.
    """
    from ..clv import BetaGeoFitter

    check_frame(stats, "stats", required=[weights_col], numeric=[weights_col], no_nan=[weights_col],
                non_negative=[weights_col])
    start = _pilot_start(stats.rename(columns={weights_col: "weight"}), penalizer_coef)
    return BetaGeoFitter(penalizer_coef=penalizer_coef).fit(stats, weights_col=weights_col, initial_params=start)


def _pilot_start(stats: pd.DataFrame, penalizer_coef: float, n: int = 200_000, seed: int = 0):
    """Starting values from a fit on ``n`` customers drawn in proportion to the weights.

    On millions of distinct rows every likelihood evaluation is a pass over all of them;
    starting next to the optimum leaves the full fit a few polishing steps. The optimum, and
    so the estimates, do not depend on the start.
    """
    from ..clv import BetaGeoFitter

    w = stats["weight"].to_numpy(dtype=float)
    if len(stats) <= 2 * n:
        return None
    counts = np.random.default_rng(seed).multinomial(n, w / w.sum())
    keep = counts > 0
    sub = stats.loc[keep].assign(weight=counts[keep])
    if not (sub["frequency"] > 0).any():
        return None
    try:
        return BetaGeoFitter(penalizer_coef=penalizer_coef).fit(sub, weights_col="weight").params_.to_numpy()
    except ConvergenceError:
        return None


def fit_gamma_gamma(transactions, *, as_of, calibration_end=None, customer_id_col: str = "customer_id",
                    date_col: str = "date", amount_col: str = "amount", time_unit: str = "W",
                    merge_same_day: bool = True, order_col: str | None = None, penalizer_coef: float = 0.0,
                    engine=None):
    """Gamma-Gamma fitted on the weighted (frequency, monetary_value) of the repeat buyers."""
    from ..clv import GammaGammaFitter

    stats = _logs.gamma_gamma_statistics(transactions, as_of=as_of, calibration_end=calibration_end,
                                         customer_id_col=customer_id_col, date_col=date_col, amount_col=amount_col,
                                         time_unit=time_unit, merge_same_day=merge_same_day, order_col=order_col,
                                         engine=engine)
    return GammaGammaFitter(penalizer_coef=penalizer_coef).fit(stats, weights_col="weight")


def fit_sbg(memberships, *, as_of, start_col: str = "start_date", stop_col: str = "end_date",
            period_days: float = 30.4375, engine=None):
    """sBG fitted on the weighted (periods, churned) counts of a membership log of any size."""
    from ..clv import ShiftedBetaGeometricFitter

    counts = _logs.contract_period_counts(memberships, as_of=as_of, start_col=start_col, stop_col=stop_col,
                                          period_days=period_days, engine=engine)
    return ShiftedBetaGeometricFitter().fit(counts, duration_col="periods", event_col="churned",
                                            weights_col="weight")


# ------------------------------------------------------------------------------------------
# Cox as a piecewise-exponential Poisson model on life-table cells
# ------------------------------------------------------------------------------------------
class PiecewiseExponentialCox(Fitter):
    """Proportional hazards with a piecewise-constant baseline, fitted on life-table cells.

    h(t | x) = h_k exp(x' beta) for tenure t in band k. The likelihood of the spells is, up
    to a constant, the Poisson likelihood of each cell's event count with mean
    exposure x h_k exp(x' beta) (Holford 1980; Laird & Olivier 1981), so the model is a
    Poisson GLM with one dummy per band, the covariates and log(exposure) as offset, fitted
    on the cells of :func:`life_table` whatever the number of spells. ``beta`` estimates
    the log hazard ratios of the Cox model; with narrow bands it approaches Cox's partial
    likelihood estimate (Breslow 1974), and band-level hazards replace the Breslow baseline.
    How close, on the shipped world (2,779 spells; plan and loyalty-programme covariates,
    tested): monthly bands give log hazard ratios within 0.0004 of
    :class:`crmlab.churn.ChurnCox` (0.006 of a standard error) and standard errors within
    2%; 3-month bands within 0.002 (0.025 SE), 6-month bands within 0.004 (0.05 SE).

    Parameters
    ----------
    ci_level : float
        Level of the Wald intervals of the summary.

    Notes
    -----
    Attributes (after ``fit``): ``params_`` (log hazard ratios), ``standard_errors_``,
    ``variance_matrix_``, ``baseline_hazard_`` (per band, per month, at x = 0),
    ``log_likelihood_``, ``n_obs_`` (cells), ``n_events_``, ``exposure_``.

    >>> import pandas as pd
    >>> cells = pd.DataFrame({"band": [0, 0, 1, 1], "plan_plus": [0, 1, 0, 1],
    ...                       "events": [30, 15, 20, 10], "exposure": [300.0, 300.0, 250.0, 250.0]})
    >>> m = PiecewiseExponentialCox().fit(cells, ["plan_plus"])
    >>> round(float(m.summary.loc["plan_plus", "hazard_ratio"]), 3)
    0.5
    """

    _unit = "life-table cells"

    def __init__(self, ci_level: float = 0.95):
        self.ci_level = check_ci_level(ci_level)

    def fit(self, cells: pd.DataFrame, covariates, *, band_col: str = "band", event_col: str = "events",
            exposure_col: str = "exposure") -> PiecewiseExponentialCox:
        """Fit on cells with a band, numeric covariates, event counts and exposure; returns self."""
        import statsmodels.api as sm

        covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
        if not covariates:
            raise ParameterError("no covariates to fit", fix="pass covariates=[...] (numeric columns of the cells)")
        need = [band_col, event_col, exposure_col, *covariates]
        check_frame(cells, "cells", required=need, numeric=[event_col, exposure_col, *covariates],
                    no_nan=need, non_negative=[event_col, exposure_col])
        cells = cells[cells[exposure_col] > 0]
        if cells.empty or cells[event_col].sum() == 0:
            raise DataValidationError("the cells hold no churn event (or no exposure)",
                                      fix="check the window and that events mark churned spells")
        for c in covariates:
            if np.ptp(cells[c].to_numpy(dtype=float)) == 0:
                raise DataValidationError(f"cells[{c!r}] has no variance, so its hazard ratio is not identified",
                                          fix=f"drop {c!r} from the covariates")
        bands = np.sort(cells[band_col].unique())
        # bands without an event have hazard 0 (log = -inf): they carry no information on beta
        has_event = cells.groupby(band_col)[event_col].sum()
        keep_bands = has_event.index[has_event > 0]
        data = cells[cells[band_col].isin(keep_bands)]
        B = pd.get_dummies(data[band_col].astype("category").cat.set_categories(sorted(keep_bands)),
                           prefix="band", dtype=float)
        X = pd.concat([B.reset_index(drop=True), data[covariates].reset_index(drop=True).astype(float)], axis=1)
        y = data[event_col].to_numpy(dtype=float)
        offset = np.log(data[exposure_col].to_numpy(dtype=float))
        try:
            res = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(method="newton", maxiter=100,
                                                                                 tol=1e-12)
        except (np.linalg.LinAlgError, ValueError) as err:
            raise ConvergenceError(f"the piecewise-exponential fit failed ({err})",
                                   fix="drop collinear covariates (one dummy per category is the reference)") from None
        if not np.all(np.isfinite(res.bse)):
            raise ConvergenceError("the piecewise-exponential fit has no standard errors (collinear covariates?)",
                                   fix="drop one dummy per categorical variable, or merge rare categories")
        self.params_ = pd.Series(res.params[covariates].to_numpy(), index=covariates, name="coef")
        self.standard_errors_ = pd.Series(res.bse[covariates].to_numpy(), index=covariates, name="se")
        self.variance_matrix_ = pd.DataFrame(res.cov_params().loc[covariates, covariates])
        hz = pd.Series(0.0, index=pd.Index(bands, name=band_col), name="hazard")
        hz.loc[list(keep_bands)] = np.exp(res.params[B.columns].to_numpy())
        self.baseline_hazard_ = hz
        self.log_likelihood_ = float(res.llf)
        self.n_obs_ = int(len(cells))
        self.n_events_ = float(cells[event_col].sum())
        self.exposure_ = float(cells[exposure_col].sum())
        self.covariates_ = covariates
        if {"tenure_start", "tenure_end"} <= set(cells.columns):
            edges = cells.groupby(band_col)[["tenure_start", "tenure_end"]].min().reindex(bands)
            self._edges = (edges["tenure_start"].to_numpy(float), edges["tenure_end"].to_numpy(float))
        else:  # bands numbered in months
            self._edges = (bands.astype(float), bands.astype(float) + 1.0)
        return self

    def _summary(self) -> pd.DataFrame:
        est, se = self.params_.to_numpy(), self.standard_errors_.to_numpy()
        out = wald_summary(est, se, index=self.params_.index, ci_level=self.ci_level)
        out["hazard_ratio"] = np.exp(out["estimate"])
        out["hr_lower"] = np.exp(out["ci_lower"])
        out["hr_upper"] = np.exp(out["ci_upper"])
        return out

    def survival_function(self, X: pd.DataFrame, tenure) -> pd.DataFrame:
        """S(t | x) = exp(-H0(t) exp(x' beta)) at the given tenures (months), one row per row of ``X``."""
        self._check_fitted()
        check_frame(X, "X", required=self.covariates_, numeric=self.covariates_, no_nan=self.covariates_)
        t = np.atleast_1d(np.asarray(tenure, dtype=float))
        if np.any(~np.isfinite(t)) or np.any(t < 0):
            raise ParameterError("tenure must be finite and >= 0", fix="pass tenures in months")
        lo, hi = self._edges
        h = self.baseline_hazard_.to_numpy()
        # cumulative baseline hazard: the overlap of (0, t] with each band times its hazard
        H0 = (np.clip(t[:, None], lo, hi) - lo) @ h
        eta = X[self.covariates_].to_numpy(dtype=float) @ self.params_.to_numpy()
        return pd.DataFrame(np.exp(-np.outer(np.exp(eta), H0)), index=X.index, columns=t)


# ------------------------------------------------------------------------------------------
# scoring in record batches
# ------------------------------------------------------------------------------------------
def _score_batch(df: pd.DataFrame, model, spend_model, t: float, customer_id_col: str) -> pd.DataFrame:
    x = df["frequency"].to_numpy(dtype=float)
    tx = df["recency"].to_numpy(dtype=float)
    T = df["T"].to_numpy(dtype=float)
    out = pd.DataFrame({customer_id_col: df[customer_id_col].to_numpy(),
                        "frequency": df["frequency"].to_numpy(dtype="int64"), "recency": tx, "T": T})
    out["p_alive"] = model.conditional_probability_alive(x, tx, T)
    out["expected_purchases"] = model.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    if spend_model is not None:
        out["monetary_value"] = df["monetary_value"].to_numpy(dtype=float)
        out["expected_spend"] = spend_model.conditional_expected_average_profit(x, out["monetary_value"].to_numpy())
        out["expected_revenue"] = out["expected_purchases"] * out["expected_spend"]
    return out


def score_customers(transactions, model, *, as_of, t: float, spend_model=None, out=None,
                    customer_id_col: str = "customer_id", date_col: str = "date", amount_col: str = "amount",
                    time_unit: str = "W", merge_same_day: bool = True, order_col: str | None = None,
                    batch_size: int = 500_000, engine=None):
    """P(alive) and expected purchases in the next ``t`` time units for every customer, batch by batch.

    The BTYD summary is computed in SQL and streamed in record batches of ``batch_size``
    customers (DuckDB) or scored partition by partition with ``mapInPandas`` (Spark), so the
    customer base is never one frame in Python. With a fitted ``spend_model``
    (:class:`crmlab.clv.GammaGammaFitter`) also the expected spend per purchase and expected
    revenue. ``out`` = a Parquet path (a file for DuckDB, a folder for Spark) to write the
    scores to and return the number of rows; without it a pandas frame is returned.
    """
    from ..clv import BetaGeoFitter, GammaGammaFitter

    if not isinstance(model, BetaGeoFitter):
        raise ParameterError(f"model must be a fitted crmlab.clv.BetaGeoFitter, got {type(model).__name__}",
                             fix="fit one first, e.g. crmlab.scale.fit_bgnbd(transactions, as_of=...)")
    model._check_fitted()
    if spend_model is not None:
        if not isinstance(spend_model, GammaGammaFitter):
            raise ParameterError(f"spend_model must be a fitted GammaGammaFitter, got {type(spend_model).__name__}",
                                 fix="pass crmlab.scale.fit_gamma_gamma(transactions, as_of=...)")
        spend_model._check_fitted()
    check_scalar(t, "t", numbers.Real, 0)
    batch_size = check_count(batch_size, "batch_size", 1_000, 50_000_000)
    if out is not None and not isinstance(out, (str, Path)):
        raise ParameterError(f"out must be a path or None, got {type(out).__name__}",
                             fix="pass out='scores.parquet' or leave out=None to get a DataFrame")
    eng, src, sql = _logs._btyd_sql(transactions, as_of=as_of, calibration_end=None,
                                    customer_id_col=customer_id_col, date_col=date_col,
                                    amount_col=amount_col if spend_model is not None else None,
                                    time_unit=time_unit, merge_same_day=merge_same_day, order_col=order_col,
                                    engine=engine)
    sql += f" ORDER BY {eng.dialect.q(customer_id_col)}"
    try:
        if isinstance(eng, SparkEngine):
            return _score_spark(eng, sql, model, spend_model, float(t), customer_id_col, out, batch_size)
        return _score_duckdb(eng, sql, model, spend_model, float(t), customer_id_col, out, batch_size)
    finally:
        src.close()


def _score_duckdb(eng, sql, model, spend_model, t, cid, out, batch_size):
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, parts, n = None, [], 0
    try:
        for batch in eng.batches(sql, batch_size):
            scored = _score_batch(batch.to_pandas(), model, spend_model, t, cid)
            n += len(scored)
            if out is None:
                parts.append(scored)
                continue
            table = pa.Table.from_pandas(scored, preserve_index=False)
            if writer is None:
                Path(out).parent.mkdir(parents=True, exist_ok=True)
                writer = pq.ParquetWriter(str(out), table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    if out is not None:
        return n
    if not parts:
        return _score_batch(pd.DataFrame({cid: [], "frequency": [], "recency": [], "T": [], "monetary_value": []}),
                            model, spend_model, t, cid)
    return pd.concat(parts, ignore_index=True)


def _score_spark(eng, sql, model, spend_model, t, cid, out, batch_size):
    from pyspark.sql import types as T

    frame = eng.frame(sql)
    id_type = frame.schema[cid].dataType
    fields = [T.StructField(cid, id_type), T.StructField("frequency", T.LongType()),
              T.StructField("recency", T.DoubleType()), T.StructField("T", T.DoubleType()),
              T.StructField("p_alive", T.DoubleType()), T.StructField("expected_purchases", T.DoubleType())]
    if spend_model is not None:
        fields += [T.StructField(c, T.DoubleType()) for c in ("monetary_value", "expected_spend", "expected_revenue")]

    def score(batches):
        for pdf in batches:
            yield _score_batch(pdf, model, spend_model, t, cid)

    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    old = eng.spark.conf.get(key, None)
    eng.spark.conf.set(key, str(batch_size))  # the batch size of mapInPandas
    try:
        scored = frame.mapInPandas(score, T.StructType(fields))
        if out is not None:
            scored.write.mode("overwrite").parquet(str(out))
            return int(eng.spark.read.parquet(str(out)).count())
        res = scored.toPandas()
    finally:
        if old is None:
            eng.spark.conf.unset(key)
        else:
            eng.spark.conf.set(key, old)
    res = res.sort_values(cid, kind="stable").reset_index(drop=True)
    res["frequency"] = res["frequency"].astype("int64")
    return res
