"""crmlab.scale on Spark: the same SQL, the same numbers as the pandas path (``make test-spark``).

Spark runs in ``local[2]`` bound to 127.0.0.1 with the UI off. The tests run only under
``make test-spark`` (which sets CRMLAB_TEST_SPARK=1): a JVM start costs tens of seconds,
so the main suite stays fast. They are skipped, with the reason, where PySpark or Java is
missing.
"""

from __future__ import annotations

import os
import runpy
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from crmlab import clv, scale
from crmlab.errors import ColumnError, DataValidationError, ParameterError

if os.environ.get("CRMLAB_TEST_SPARK") != "1":
    pytest.skip("Spark tests run in their own target: `make test-spark` (sets CRMLAB_TEST_SPARK=1)",
                allow_module_level=True)
pytest.importorskip("pyspark", reason="PySpark is not installed: pip install 'crmlab[spark]' (make test-spark does)")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed (Spark needs a JDK 17+ on the PATH or JAVA_HOME)", allow_module_level=True)

C = runpy.run_path(str(Path(__file__).with_name("scale_checks.py")))


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers (mapInPandas) must run this interpreter, the one with crmlab installed
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("crmlab-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.sql.shuffle.partitions", "4").config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def world(shipped):
    return shipped


@pytest.fixture(scope="module")
def dates(world):
    return {"as_of": world.meta["window_end"], "window_start": world.meta["window_start"]}


@pytest.fixture(scope="module")
def run(spark):
    def _run(fn, table, **kw):
        return fn(spark.createDataFrame(table), **kw)
    return _run


@pytest.mark.parametrize(("calibration_end", "merge_same_day"), [(None, True), ("2025-06-30", False)])
def test_btyd_summary(run, world, dates, calibration_end, merge_same_day):
    C["check_btyd"](run, world.transactions, as_of=dates["as_of"], calibration_end=calibration_end,
                    merge_same_day=merge_same_day)


def test_path_plus_session(spark, world, dates, tmp_path):
    """A Parquet path and the session as engine=, and a folder written by Spark itself."""
    # Spark reads micro-second timestamps only (pandas writes nanoseconds unless told)
    world.transactions.to_parquet(tmp_path / "tx.parquet", index=False, coerce_timestamps="us")
    expected = C["pandas_summary"](world.transactions, as_of=dates["as_of"])
    C["assert_same_frame"](expected, scale.btyd_summary(tmp_path / "tx.parquet", as_of=dates["as_of"], engine=spark))
    spark.createDataFrame(world.transactions).repartition(3).write.parquet(str(tmp_path / "spark_tx"))
    C["assert_same_frame"](expected, scale.btyd_summary(tmp_path / "spark_tx", as_of=dates["as_of"],
                                                        engine=scale.connect(spark)))


def test_weighted_statistics_and_fits(run, spark, world, dates):
    stats, _ = C["check_weighted_statistics"](run, world.transactions, as_of=dates["as_of"])
    ref = clv.BetaGeoFitter().fit(C["pandas_summary"](world.transactions, as_of=dates["as_of"]))
    bgf = scale.fit_bgnbd(spark.createDataFrame(world.transactions), as_of=dates["as_of"])
    np.testing.assert_allclose(bgf.params_, ref.params_, rtol=1e-6)
    sbg = scale.fit_sbg(world.memberships, as_of=dates["as_of"], engine=spark)
    ref_sbg = clv.ShiftedBetaGeometricFitter().fit(C["pandas_contract_periods"](world.memberships,
                                                                              as_of=dates["as_of"]))
    np.testing.assert_allclose(sbg.params_, ref_sbg.params_, rtol=1e-5)


def test_rfm(run, world, dates):
    C["check_rfm"](run, world.transactions, as_of=dates["as_of"], profit_col="gross_margin")


def test_kpi_counts(spark, world):
    def tables(level):
        f = {k: spark.createDataFrame(world[k]) for k in ("customers", "transactions", "memberships", "tickets",
                                                           "survey", "b2b_accounts")}
        return scale.kpi_counts(f["customers"], f["transactions"], f["memberships"], f["tickets"],
                                survey=f["survey"], b2b_accounts=f["b2b_accounts"], level=level)
    C["check_kpi"](tables, world, level="branch")


def test_survival(run, world, dates):
    kw = {"window_start": dates["window_start"], "as_of": dates["as_of"]}
    C["check_spells"](run, world.memberships, **kw)
    C["check_life_table"](run, world.memberships, width=1.0, by=["plan"], **kw)
    C["check_kaplan_meier"](run, world.memberships, **kw)
    C["check_contract_counts"](run, world.memberships, as_of=dates["as_of"])


def test_piecewise_exponential_same_on_both_engines(spark, world, dates):
    kw = {"window_start": dates["window_start"], "as_of": dates["as_of"], "by": "plan"}
    m = world.memberships.assign(plan=world.memberships["plan"].astype(str))
    a = scale.life_table(m, **kw)
    b = scale.life_table(spark.createDataFrame(m), **kw)
    C["assert_same_frame"](a, b, what="life_table")


def test_score_customers_on_spark(spark, world, dates, tmp_path):
    tx = world.transactions
    bgf = scale.fit_bgnbd(tx, as_of=dates["as_of"])
    ggf = scale.fit_gamma_gamma(tx, as_of=dates["as_of"])
    duck = scale.score_customers(tx, bgf, as_of=dates["as_of"], t=52, spend_model=ggf)
    sdf = spark.createDataFrame(tx)
    got = scale.score_customers(sdf, bgf, as_of=dates["as_of"], t=52, spend_model=ggf, batch_size=1_000)
    C["assert_same_frame"](duck, got, what="score_customers")
    n = scale.score_customers(sdf, bgf, as_of=dates["as_of"], t=52, out=tmp_path / "scores")
    assert n == len(duck)
    back = pd.read_parquet(tmp_path / "scores").sort_values("customer_id").reset_index(drop=True)
    np.testing.assert_allclose(back["p_alive"], duck["p_alive"], rtol=1e-12)


def test_bad_inputs_on_spark(spark):
    tx = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2], "date": ["2024-01-01", "later"],
                                             "amount": [1.0, -2.0]}))
    with pytest.raises(DataValidationError, match="not dates"):
        scale.btyd_summary(tx, as_of="2024-02-01")
    with pytest.raises(ColumnError, match="cust"):
        scale.btyd_summary(tx, as_of="2024-02-01", customer_id_col="cust")
    with pytest.raises(ParameterError, match="Spark DataFrame"):
        scale.btyd_summary(object(), as_of="2024-02-01", engine=spark)


AS_OF = C["DAY0"] + pd.Timedelta(days=150)
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                     HealthCheck.function_scoped_fixture])


@FEW
@given(tx=C["transaction_logs"]())
def test_random_logs_btyd_and_rfm(run, tx):
    C["check_btyd"](run, tx, as_of=AS_OF, merge_same_day=False)
    C["check_rfm"](run, tx, as_of=AS_OF, bins=3)


@FEW
@given(m=C["membership_logs"]())
def test_random_logs_survival(run, m):
    ws, as_of = C["DAY0"], C["DAY0"] + pd.Timedelta(days=182)
    if C["pandas_spells"](m, window_start=ws, as_of=as_of).empty:
        return
    C["check_spells"](run, m, window_start=ws, as_of=as_of)
    C["check_kaplan_meier"](run, m, window_start=ws, as_of=as_of, lifelines=False)
