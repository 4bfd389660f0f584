"""From a laptop to a cluster: crmlab's model inputs computed in SQL on logs of any size.

The pandas path of crmlab reads whole CSVs into memory (about 170 bytes per transaction
row). ``crmlab.scale`` computes the same model inputs where the log lives — Parquet or CSV
files of any size read by DuckDB (embedded, the default: ``pip install "crmlab[scale]"``),
or Spark DataFrames on a cluster (``pip install "crmlab[spark]"``) — and returns small
pandas frames that crmlab's fitters take:

* :func:`btyd_summary` (the table of :func:`crmlab.clv.summary_from_transactions`, with the
  calibration/holdout split), :func:`bgnbd_statistics` and :func:`gamma_gamma_statistics`
  (identical rows collapsed into a ``weight`` column: the compressed sufficient statistics);
* :func:`rfm_scores` (the table of :func:`crmlab.segmentation.rfm_table`);
* :func:`kpi_counts` (the monthly numerators and denominators of
  :func:`crmlab.kpi.indicator_system` per branch, and the indicators built from them);
* :func:`survival_spells` (the rows of :func:`crmlab.churn.survival_frame`),
  :func:`life_table` (cells by tenure band: at risk, events, exposure),
  :func:`kaplan_meier` (the weighted life table at each distinct tenure) and
  :func:`contract_period_counts` (the sBG input of :func:`crmlab.clv.contract_periods`).

Fitting at scale: :func:`fit_bgnbd` (or :func:`fit_weighted_bgnbd` on statistics already
computed), :func:`fit_gamma_gamma` and :func:`fit_sbg` fit crmlab's BG/NBD, Gamma-Gamma and
sBG on the weighted statistics (same likelihood, same estimates); :class:`PiecewiseExponentialCox` is Cox's model with a piecewise-constant
baseline, a Poisson GLM on the life-table cells; :func:`score_customers` computes P(alive)
and expected purchases batch by batch and writes them to Parquet.

Every function takes ``engine=``: ``None`` (DuckDB, or Spark when a source is a Spark
DataFrame), a ``duckdb`` connection, a ``SparkSession`` (with paths or DataFrames), or
:func:`connect`. **One source of truth**: each statistic is one SQL statement, written once
in ``crmlab/scale/_sql.py`` and run unchanged by both engines; the two dialects differ only
in five spellings (identifier quotes, day differences, exact median, arg-min and struct).
The tests check DuckDB and Spark against the pandas functions on the shipped world and on
random logs.

>>> import pandas as pd
>>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 20.0, 5.0],
...                    "date": pd.to_datetime(["2024-01-01", "2024-01-15", "2024-01-08"])})
>>> btyd_summary(tx, as_of="2024-02-05").round(2)  # doctest: +NORMALIZE_WHITESPACE
             frequency  recency    T  monetary_value
customer_id
1                    1      2.0  5.0            20.0
2                    0      0.0  4.0             0.0
"""

from __future__ import annotations

from ._engine import DuckDBEngine, SparkEngine
from ._logs import (
    bgnbd_statistics,
    btyd_summary,
    contract_period_counts,
    gamma_gamma_statistics,
    kaplan_meier,
    kpi_counts,
    life_table,
    rfm_scores,
    survival_spells,
)
from ._models import (
    PiecewiseExponentialCox,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_sbg,
    fit_weighted_bgnbd,
    score_customers,
)

__all__ = [
    "connect",
    "btyd_summary",
    "bgnbd_statistics",
    "gamma_gamma_statistics",
    "rfm_scores",
    "kpi_counts",
    "survival_spells",
    "life_table",
    "kaplan_meier",
    "contract_period_counts",
    "fit_bgnbd",
    "fit_weighted_bgnbd",
    "fit_gamma_gamma",
    "fit_sbg",
    "PiecewiseExponentialCox",
    "score_customers",
]


def connect(spark=None, *, threads: int | None = None, memory_limit: str | None = None,
            temp_directory: str | None = None):
    """An engine to pass as ``engine=``: DuckDB (default) with its settings, or a SparkSession.

    ``memory_limit`` (e.g. ``"6GB"``) caps DuckDB's memory; beyond it DuckDB spills to
    ``temp_directory``. ``spark`` = a ``pyspark.sql.SparkSession`` runs the same SQL on Spark.

    >>> connect(threads=2)
    DuckDBEngine()
    """
    if spark is not None:
        if threads is not None or memory_limit is not None or temp_directory is not None:
            from ..errors import ParameterError

            raise ParameterError("threads/memory_limit/temp_directory are DuckDB settings",
                                 fix="configure Spark through its SparkSession.builder instead")
        return SparkEngine(spark)
    return DuckDBEngine(threads=threads, memory_limit=memory_limit, temp_directory=temp_directory)
