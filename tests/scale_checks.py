"""Equivalence checks of crmlab.scale against the pandas path, shared by the DuckDB and Spark tests.

Each ``check_*`` runs one crmlab.scale function through ``run`` (which turns pandas tables
into the engine's input: the frame itself, a Parquet file, a Spark DataFrame...) and
compares it with the pandas function it replaces: counts exactly, sums and times to 1e-9.
``tests/test_scale.py`` runs them on DuckDB, ``tests/test_scale_spark.py`` on Spark.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from crmlab import churn, clv, kpi, scale, segmentation

RTOL = ATOL = 1e-9


# ------------------------------------------------------------------------------------------
# The pandas path that crmlab.scale must reproduce.
# ------------------------------------------------------------------------------------------
def pandas_summary(tx, *, as_of, calibration_end=None, merge_same_day=True, customer_id_col="customer_id",
                   date_col="date", amount_col="amount", time_unit="W"):
    return clv.summary_from_transactions(tx, as_of=as_of, calibration_end=calibration_end,
                                         customer_id_col=customer_id_col, date_col=date_col,
                                         amount_col=amount_col, time_unit=time_unit, merge_same_day=merge_same_day)


def pandas_rfm(tx, *, as_of, profit_col=None, monetary="sum", bins=5, thresholds=None):
    return segmentation.rfm_table(tx, as_of, profit_col=profit_col, monetary=monetary, bins=bins,
                                  thresholds=thresholds)


def pandas_spells(memberships, *, window_start, as_of):
    return churn.survival_frame(memberships, window_start=window_start, as_of=as_of)


def pandas_contract_periods(memberships, *, as_of):
    return clv.contract_periods(memberships, as_of=as_of)


# ------------------------------------------------------------------------------------------
# comparisons
# ------------------------------------------------------------------------------------------
def assert_same_frame(expected: pd.DataFrame, got: pd.DataFrame, *, what: str = "") -> None:
    """Same index, columns and dtypes; integers and booleans equal; floats to 1e-9."""
    assert list(got.columns) == list(expected.columns), (what, list(got.columns), list(expected.columns))
    pd.testing.assert_index_equal(got.index, expected.index, exact=False, obj=f"{what} index")
    for c in expected.columns:
        e, g = expected[c], got[c]
        if pd.api.types.is_float_dtype(e.dtype):
            assert pd.api.types.is_float_dtype(g.dtype), (what, c, g.dtype)
            np.testing.assert_allclose(g.to_numpy(float), e.to_numpy(float), rtol=RTOL, atol=ATOL,
                                       err_msg=f"{what}: column {c}")
        elif pd.api.types.is_datetime64_any_dtype(e.dtype):
            assert (pd.to_datetime(g).to_numpy() == e.to_numpy()).all() or (
                e.isna().to_numpy() == pd.to_datetime(g).isna().to_numpy()).all(), (what, c)
        else:
            assert g.dtype == e.dtype or (pd.api.types.is_integer_dtype(e) and pd.api.types.is_integer_dtype(g)), \
                (what, c, g.dtype, e.dtype)
            same = (g.to_numpy() == e.to_numpy()) | (pd.isna(g).to_numpy() & pd.isna(e).to_numpy())
            assert same.all(), (what, c, int((~same).sum()))


def check_btyd(run, tx, *, as_of, calibration_end=None, merge_same_day=True, order_col="transaction_id"):
    # pandas takes the first of several first-day purchases in row order: sort by the order column
    ordered = tx.sort_values(order_col, kind="stable") if order_col else tx
    expected = pandas_summary(ordered, as_of=as_of, calibration_end=calibration_end, merge_same_day=merge_same_day)
    got = run(scale.btyd_summary, tx, as_of=as_of, calibration_end=calibration_end,
              merge_same_day=merge_same_day, order_col=order_col)
    assert_same_frame(expected, got, what="btyd_summary")
    return expected


def check_weighted_statistics(run, tx, *, as_of, calibration_end=None):
    summary = pandas_summary(tx, as_of=as_of, calibration_end=calibration_end)
    stats = run(scale.bgnbd_statistics, tx, as_of=as_of, calibration_end=calibration_end)
    expected = (summary.groupby(["frequency", "recency", "T"]).size().rename("weight").reset_index())
    assert_same_frame(expected, stats, what="bgnbd_statistics")
    gg = run(scale.gamma_gamma_statistics, tx, as_of=as_of, calibration_end=calibration_end, order_col=None)
    rep = summary[summary["frequency"] > 0]
    exp_gg = rep.groupby(["frequency", "monetary_value"]).size().rename("weight").reset_index()
    # monetary values are sums in another order: equal to 1e-9, so compare the expanded rows
    assert int(gg["weight"].sum()) == len(rep)
    np.testing.assert_allclose(np.sort(np.repeat(gg["monetary_value"].to_numpy(), gg["weight"])),
                               np.sort(exp_gg.loc[exp_gg.index.repeat(exp_gg["weight"]), "monetary_value"]),
                               rtol=RTOL, atol=ATOL)
    return stats, gg


def check_rfm(run, tx, *, as_of, **kwargs):
    expected = pandas_rfm(tx, as_of=as_of, **kwargs)
    got = run(scale.rfm_scores, tx, as_of=as_of, **kwargs)
    assert_same_frame(expected, got, what="rfm_scores")


def check_kpi(run_tables, world, *, level="branch"):
    expected = kpi.indicator_system(world, freq="M", level=level)
    got = run_tables(level=level)
    cols = [c for c in expected.columns if c != "crm_live"]
    assert_same_frame(expected[cols].reset_index(drop=True), got[cols].reset_index(drop=True), what="kpi_counts")
    # the numerators and denominators behind the rates
    np.testing.assert_allclose(got["fcr_resolved"] / got["fcr_answered"], expected["fcr_rate"], rtol=RTOL)
    return got


def check_spells(run, memberships, *, window_start, as_of):
    expected = pandas_spells(memberships, window_start=window_start, as_of=as_of).reset_index(drop=True)
    expected.attrs = {}
    got = run(scale.survival_spells, memberships, window_start=window_start, as_of=as_of)
    assert_same_frame(expected[["entry", "duration", "event", "left_truncated"]],
                      got[["entry", "duration", "event", "left_truncated"]], what="survival_spells")
    for c in memberships.columns:
        assert c in got.columns
    return expected


def life_table_pandas(spells: pd.DataFrame, width: float, by: list[str]) -> pd.DataFrame:
    """The cells from crmlab.churn.split_spells, grouped: the pandas definition of life_table."""
    sp = churn.split_spells(spells[["entry", "duration", "event", *by]].reset_index(drop=True), width=width)
    sp["band"] = np.floor(sp["start"] / width).astype("int64")
    sp["exposure"] = sp["stop"] - sp["start"]
    return (sp.groupby([*by, "band"]).agg(at_risk=("event", "size"), events=("event", "sum"),
                                          exposure=("exposure", "sum")).reset_index())


def check_life_table(run, memberships, *, window_start, as_of, width=1.0, by=("plan",)):
    by = list(by)
    spells = pandas_spells(memberships, window_start=window_start, as_of=as_of)
    expected = life_table_pandas(spells, width, by)
    got = run(scale.life_table, memberships, window_start=window_start, as_of=as_of, band_months=width, by=by)
    assert_same_frame(expected, got[[*by, "band", "at_risk", "events", "exposure"]], what="life_table")
    np.testing.assert_allclose(got["tenure_start"], got["band"] * width)
    return got


def km_pandas(spells: pd.DataFrame, lifelines: bool = True) -> pd.DataFrame:
    """Kaplan-Meier on the spells: at risk (entry < t <= duration) counted directly, the product
    of (1 - events / at risk), and (``lifelines=True``) lifelines' curve at the same tenures."""
    times = np.sort(spells["duration"].unique())
    e, d = spells["entry"].to_numpy(), spells["duration"].to_numpy()
    at_risk = np.array([int(((e < t) & (d >= t)).sum()) for t in times])
    ev = spells.groupby("duration")["event"].sum().reindex(times).to_numpy()
    surv = np.cumprod(np.where(at_risk > 0, 1 - ev / np.maximum(at_risk, 1), 1.0))
    out = pd.DataFrame({"tenure": times, "at_risk": at_risk, "events": ev, "survival": surv})
    if lifelines:
        from lifelines import KaplanMeierFitter

        kmf = KaplanMeierFitter().fit(spells["duration"], spells["event"], entry=spells["entry"])
        out["survival"] = kmf.survival_function_.iloc[:, 0].reindex(times).to_numpy()
    return out


def check_kaplan_meier(run, memberships, *, window_start, as_of, lifelines=True):
    spells = pandas_spells(memberships, window_start=window_start, as_of=as_of)
    expected = km_pandas(spells, lifelines=lifelines)
    got = run(scale.kaplan_meier, memberships, window_start=window_start, as_of=as_of)
    assert_same_frame(expected, got[["tenure", "at_risk", "events", "survival"]], what="kaplan_meier")


def check_contract_counts(run, memberships, *, as_of):
    cp = pandas_contract_periods(memberships, as_of=as_of)
    expected = (cp.groupby(["churned", "periods"]).size().rename("weight").reset_index()[["periods", "churned",
                                                                                           "weight"]])
    got = run(scale.contract_period_counts, memberships, as_of=as_of)
    assert_same_frame(expected, got, what="contract_period_counts")


# ------------------------------------------------------------------------------------------
# random small logs (hypothesis)
# ------------------------------------------------------------------------------------------
DAY0 = pd.Timestamp("2024-01-01")


@st.composite
def transaction_logs(draw, max_customers=8, max_rows=40):
    """A small log: ids, dates (ties on purpose), amounts in quarters (sums exact in any order)."""
    n = draw(st.integers(1, max_rows))
    cids = draw(st.lists(st.integers(1, max_customers), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 120), min_size=n, max_size=n))
    quarters = draw(st.lists(st.integers(0, 4000), min_size=n, max_size=n))
    tx = pd.DataFrame({"transaction_id": np.arange(1, n + 1, dtype="int64"),
                       "customer_id": np.asarray(cids, dtype="int64"),
                       "date": DAY0 + pd.to_timedelta(days, unit="D"),
                       "amount": np.asarray(quarters, dtype=float) / 4.0})
    # rows in a random order: the engines must not depend on it
    perm = draw(st.permutations(range(n)))
    return tx.iloc[list(perm)].reset_index(drop=True)


@st.composite
def membership_logs(draw, max_rows=30):
    """Spells starting before and inside a window [2024-01-01, 2024-07-01), some ended, some after."""
    n = draw(st.integers(1, max_rows))
    rows = []
    for i in range(n):
        start = draw(st.integers(-200, 170))
        length = draw(st.one_of(st.none(), st.integers(0, 400)))
        rows.append((i + 1, DAY0 + pd.Timedelta(days=start),
                     pd.NaT if length is None else DAY0 + pd.Timedelta(days=start + length)))
    df = pd.DataFrame(rows, columns=["membership_id", "start_date", "end_date"])
    df["plan"] = np.where(df["membership_id"] % 2 == 0, "basic", "plus")
    return df
