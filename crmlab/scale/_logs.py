"""Model inputs computed in SQL from logs of any size (see :mod:`crmlab.scale`)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..errors import ColumnError, DataValidationError, ParameterError
from ..validation import check_count, check_option, check_scalar, check_timestamp
from . import _sql
from ._engine import Engine, resolve_engine

TIME_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 30.4375}  # as crmlab.clv.TIME_UNIT_DAYS

_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT", "FLOAT", "REAL", "DOUBLE", "DECIMAL", "LONG", "SHORT", "BYTE")


def _is_numeric(sql_type: str) -> bool:
    return sql_type.upper().split("(")[0].strip() in _NUMERIC_TYPES


def _is_text(sql_type: str) -> bool:
    return sql_type.upper().split("(")[0].strip() in ("VARCHAR", "STRING", "TEXT", "CHAR")


class _Source:
    """A log registered with an engine, checked once: columns, types and bad rows."""

    def __init__(self, engine: Engine, source, what: str):
        self.engine, self.what = engine, what
        self.view = engine.view(source, what)
        self.types = engine.columns(self.view)

    def require(self, fix: str | None = None, **roles: str | None) -> None:
        """Each ``<role>_col=name`` must be a column (``fix`` replaces the default advice)."""
        have = list(self.types)
        for role, col in roles.items():
            if col is None:
                continue
            if not isinstance(col, str):
                raise ParameterError(f"{role} must be a column name (str), got {col!r}",
                                     fix=f"pass {role}='...' naming a column of {self.what}")
            if col not in self.types:
                shown = ", ".join(have[:12]) + (" ..." if len(have) > 12 else "")
                raise ColumnError(f"{self.what} has no column {col!r} (columns: {shown})",
                                  fix=fix or f"pass {role}= the name of the column that holds it")

    def check(self, *, ids=(), dates=(), amounts=(), not_after=None, min_rows: int = 1) -> dict:
        """One scan counting bad rows; raises the first problem found with a fix for it."""
        for c in dates:
            if _is_numeric(self.types[c]):
                raise DataValidationError(
                    f"{self.what}[{c!r}] holds numbers ({self.types[c]}), not dates: as dates they would "
                    "count seconds since 1970",
                    fix=f"convert it first, e.g. strptime/CAST of a yyyymmdd number, or pass the date column as {c!r}")
        for c in amounts:
            if not (_is_numeric(self.types[c]) or self.types[c].upper() == "BOOLEAN"):
                fix = ("it holds text: convert it to numbers (strip currency signs and thousands separators, "
                       "then CAST AS DOUBLE)" if _is_text(self.types[c]) else "pass a numeric column")
                raise DataValidationError(f"{self.what}[{c!r}] must be numeric, got {self.types[c]}", fix=fix)
        d = self.engine.dialect
        row = self.engine.df(_sql.profile_sql(d, self.view, ids=ids, dates=dates, amounts=amounts,
                                              not_after=not_after)).iloc[0]
        n = int(row["n_rows"])
        if n < min_rows:
            raise DataValidationError(f"{self.what} has {n} row(s); at least {min_rows} needed",
                                      fix="check the path or the filters applied before this call")
        for c in ids:
            k = int(row[f"null__{c}"] or 0)
            if k:
                raise DataValidationError(f"{self.what}[{c!r}] has {k} missing value(s)",
                                          fix=f"drop rows without a {c} before calling")
        for c in dates:
            bad, null = int(row[f"bad__{c}"] or 0), int(row[f"null__{c}"] or 0)
            if bad:
                raise DataValidationError(f"{self.what}[{c!r}] has {bad} value(s) that are not dates",
                                          fix="write dates as ISO 'YYYY-MM-DD' (or store a DATE/TIMESTAMP column)")
            if null:
                raise DataValidationError(f"{self.what}[{c!r}] has {null} missing date(s)",
                                          fix="drop or fill the rows without a date")
            late = int(row.get(f"late__{c}", 0) or 0)
            if late:
                raise DataValidationError(
                    f"{self.what}[{c!r}] has {late} date(s) after {pd.Timestamp(not_after).date()} "
                    f"(latest {pd.Timestamp(row[f'max__{c}']).date()})",
                    fix="filter the log to the analysis date, or move as_of later")
        for c in amounts:
            for kind, fix in (("null", f"drop or impute the rows with a missing {c}"),
                              ("inf", "fix the division by zero that made them, or drop those rows"),
                              ("neg", f"drop or correct refunds/negative rows first ({c} >= 0)")):
                k = int(row[f"{kind}__{c}"] or 0)
                if k:
                    word = {"null": "missing", "inf": "infinite", "neg": "negative"}[kind]
                    raise DataValidationError(f"{self.what}[{c!r}] has {k} {word} value(s)", fix=fix)
        return row.to_dict()

    def close(self) -> None:
        self.engine.drop(self.view)


def _unit(time_unit: str) -> float:
    check_option(time_unit, "time_unit", list(TIME_UNIT_DAYS))
    return TIME_UNIT_DAYS[time_unit]


def _frame(engine: Engine, sql: str) -> pd.DataFrame:
    out = engine.df(sql)
    # Spark and DuckDB give int32/int64/nullable ints; crmlab's frames use int64 and float64
    for c in out.columns:
        if pd.api.types.is_integer_dtype(out[c].dtype) and not pd.api.types.is_bool_dtype(out[c].dtype):
            if out[c].isna().any():
                out[c] = out[c].astype("float64")
            else:
                out[c] = out[c].astype("int64")
        elif pd.api.types.is_float_dtype(out[c].dtype):
            out[c] = out[c].astype("float64")
    return out


# ------------------------------------------------------------------------------------------
# BTYD
# ------------------------------------------------------------------------------------------
def _btyd_sql(transactions, *, as_of, calibration_end, customer_id_col, date_col, amount_col, time_unit,
              merge_same_day, order_col, engine):
    eng = resolve_engine(engine, transactions)
    unit = _unit(time_unit)
    end = check_timestamp(as_of, "as_of")
    cal = check_timestamp(calibration_end, "calibration_end", allow_none=True)
    if cal is not None and cal >= end:
        raise ParameterError(f"calibration_end ({cal.date()}) must be before as_of ({end.date()})",
                             fix="choose a calibration end inside the observation period")
    if not isinstance(merge_same_day, (bool, np.bool_)):
        raise ParameterError(f"merge_same_day must be True or False, got {merge_same_day!r}",
                             fix="pass merge_same_day=False when every row is a separate purchase")
    src = _Source(eng, transactions, "transactions")
    src.require(customer_id_col=customer_id_col, date_col=date_col, amount_col=amount_col, order_col=order_col)
    src.check(ids=[customer_id_col], dates=[date_col], amounts=[amount_col] if amount_col else [], not_after=end)
    sql = _sql.btyd_summary_sql(eng.dialect, src.view, customer_id_col=customer_id_col, date_col=date_col,
                                amount_col=amount_col, as_of=end, calibration_end=cal, unit_days=unit,
                                merge_same_day=bool(merge_same_day), order_col=order_col)
    return eng, src, sql


def btyd_summary(transactions, *, as_of, calibration_end=None, customer_id_col: str = "customer_id",
                 date_col: str = "date", amount_col: str | None = "amount", time_unit: str = "W",
                 merge_same_day: bool = True, order_col: str | None = None, engine=None) -> pd.DataFrame:
    """Per-customer ``frequency``, ``recency``, ``T`` (+ ``monetary_value``), computed in SQL.

    The same table as :func:`crmlab.clv.summary_from_transactions` (same definitions, same
    calibration/holdout split and columns), from a log of any size: ``transactions`` is a
    path to Parquet/CSV files (a file, a folder or a glob), a pandas DataFrame, a DuckDB
    relation or a Spark DataFrame. ``engine`` is ``None`` (DuckDB, or Spark for a Spark
    DataFrame), a ``duckdb`` connection, a ``SparkSession`` or :func:`crmlab.scale.connect`.

    One row per customer comes back to pandas: for tens of millions of customers use
    :func:`bgnbd_statistics` (identical rows collapsed) or :func:`score_customers` (batches).
    With ``merge_same_day=False`` the first of several first-day purchases is the one first
    in ``order_col`` (pandas takes the first in row order; pass the column that orders the
    log, e.g. ``order_col="transaction_id"``).

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-15", "2024-01-29", "2024-01-08"]),
    ...                    "amount": [10.0, 20.0, 30.0, 5.0]})
    >>> btyd_summary(tx, as_of="2024-03-04")  # doctest: +NORMALIZE_WHITESPACE
                 frequency  recency    T  monetary_value
    customer_id
    1                    2      4.0  9.0            25.0
    2                    0      0.0  8.0             0.0
    """
    eng, src, sql = _btyd_sql(transactions, as_of=as_of, calibration_end=calibration_end,
                              customer_id_col=customer_id_col, date_col=date_col, amount_col=amount_col,
                              time_unit=time_unit, merge_same_day=merge_same_day, order_col=order_col,
                              engine=engine)
    try:
        out = _frame(eng, sql + f" ORDER BY {eng.dialect.q(customer_id_col)}")
    finally:
        src.close()
    return out.set_index(customer_id_col)


def bgnbd_statistics(transactions, *, as_of, calibration_end=None, customer_id_col: str = "customer_id",
                     date_col: str = "date", time_unit: str = "W", merge_same_day: bool = True,
                     engine=None) -> pd.DataFrame:
    """The BG/NBD sufficient statistics: distinct (frequency, recency, T) rows with a ``weight``.

    The BG/NBD likelihood depends on a customer only through (x, t_x, T), so customers with
    the same three numbers are one row with weight = their count: a 100M-transaction log
    becomes a frame of a few hundred thousand rows that
    ``crmlab.clv.BetaGeoFitter().fit(stats, weights_col="weight")`` fits to the same
    estimates as the per-customer summary.

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 3, 3], "amount": 1.0,
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-08"])})
    >>> bgnbd_statistics(tx, as_of="2024-01-29")
       frequency  recency    T  weight
    0          0      0.0  4.0       2
    1          1      1.0  4.0       1
    """
    eng, src, sql = _btyd_sql(transactions, as_of=as_of, calibration_end=calibration_end,
                              customer_id_col=customer_id_col, date_col=date_col, amount_col=None,
                              time_unit=time_unit, merge_same_day=merge_same_day, order_col=None, engine=engine)
    try:
        return _frame(eng, _sql.weighted_sql(eng.dialect, sql, ["frequency", "recency", "T"]))
    finally:
        src.close()


def gamma_gamma_statistics(transactions, *, as_of, calibration_end=None, customer_id_col: str = "customer_id",
                           date_col: str = "date", amount_col: str = "amount", time_unit: str = "W",
                           merge_same_day: bool = True, order_col: str | None = None,
                           engine=None) -> pd.DataFrame:
    """Gamma-Gamma inputs: distinct (frequency, monetary_value) of repeat buyers with a ``weight``.

    Fit with ``crmlab.clv.GammaGammaFitter().fit(stats, weights_col="weight")``.

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2], "amount": [5.0, 8.0, 3.0, 8.0],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-03"] * 2)})
    >>> gamma_gamma_statistics(tx, as_of="2024-01-29")
       frequency  monetary_value  weight
    0          1             8.0       2
    """
    eng, src, sql = _btyd_sql(transactions, as_of=as_of, calibration_end=calibration_end,
                              customer_id_col=customer_id_col, date_col=date_col, amount_col=amount_col,
                              time_unit=time_unit, merge_same_day=merge_same_day, order_col=order_col,
                              engine=engine)
    try:
        return _frame(eng, _sql.weighted_sql(eng.dialect, sql, ["frequency", "monetary_value"],
                                             where=f"{eng.dialect.q('frequency')} > 0"))
    finally:
        src.close()


# ------------------------------------------------------------------------------------------
# RFM
# ------------------------------------------------------------------------------------------
def rfm_scores(transactions, *, as_of, customer_id_col: str = "customer_id", date_col: str = "date",
               amount_col: str = "amount", profit_col: str | None = None, monetary: str = "sum",
               bins: int = 5, thresholds: dict | None = None, engine=None) -> pd.DataFrame:
    """Recency, frequency, monetary and their 1..``bins`` scores per customer, in SQL.

    The table of :func:`crmlab.segmentation.rfm_table` (same columns ``recency_days``,
    ``frequency``, ``monetary`` [, ``profit``], ``R``, ``F``, ``M``, ``RFM``, ``score``; ties
    share the average percentile rank), computed where the log lives.

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3, 3],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-03-01", "2023-06-01",
    ...                                            "2024-02-01", "2024-02-20", "2024-03-20"]),
    ...                    "amount": [100.0, 50, 20, 300, 80, 120]})
    >>> rfm_scores(tx, as_of="2024-03-31", bins=3)[["recency_days", "frequency", "R", "F", "M", "RFM"]]
    ... # doctest: +NORMALIZE_WHITESPACE
                 recency_days  frequency  R  F  M  RFM
    customer_id
    1                      30          2  2  2  2  222
    2                     304          1  1  1  1  111
    3                      11          3  3  3  3  333
    """
    eng = resolve_engine(engine, transactions)
    when = check_timestamp(as_of, "as_of")
    bins = check_count(bins, "bins", 2, 10)
    check_option(monetary, "monetary", ["sum", "mean"])
    thresholds = dict(thresholds or {})
    unknown = set(thresholds) - {"recency_days", "frequency", "monetary"}
    if unknown:
        raise ParameterError(f"thresholds has unknown key(s) {sorted(unknown)}",
                             fix="use the keys 'recency_days', 'frequency' and 'monetary'")
    for key, edges in thresholds.items():
        e = np.asarray(edges, dtype=float)
        if e.ndim != 1 or len(e) != bins - 1 or np.any(np.diff(e) <= 0) or not np.all(np.isfinite(e)):
            raise ParameterError(f"thresholds[{key!r}] must be {bins - 1} increasing cut points, got {list(edges)}",
                                 fix=f"pass {bins - 1} cut points for {bins} scores")
        thresholds[key] = e.tolist()
    src = _Source(eng, transactions, "transactions")
    try:
        src.require(customer_id_col=customer_id_col, date_col=date_col, amount_col=amount_col, profit_col=profit_col)
        src.check(ids=[customer_id_col], dates=[date_col], amounts=[amount_col], not_after=when)
        if profit_col and not _is_numeric(src.types[profit_col]):
            raise DataValidationError(f"transactions[{profit_col!r}] must be numeric, got {src.types[profit_col]}",
                                      fix="pass a numeric profit column (e.g. gross_margin)")
        sql = _sql.rfm_sql(eng.dialect, src.view, customer_id_col=customer_id_col, date_col=date_col,
                           amount_col=amount_col, profit_col=profit_col, as_of=when, monetary=monetary,
                           bins=bins, thresholds=thresholds)
        out = _frame(eng, sql + f" ORDER BY {eng.dialect.q(customer_id_col)}")
    finally:
        src.close()
    out = out.set_index(customer_id_col)
    out["RFM"] = out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str)
    out["score"] = out["R"] + out["F"] + out["M"]
    return out


# ------------------------------------------------------------------------------------------
# KPI numerators and denominators
# ------------------------------------------------------------------------------------------
_KPI_COLUMNS = {
    "customers": ["customer_id", "branch_id", "signup_date", "acquisition_cost"],
    "transactions": ["customer_id", "date", "amount", "gross_margin"],
    "memberships": ["customer_id", "start_date", "end_date"],
    "tickets": ["customer_id", "opened_at", "type", "first_contact_resolution", "sla_met", "post_ticket_csat",
                "first_response_hours", "resolution_hours"],
    "survey": ["customer_id", "response_date", "csat_1_5", "recommend_0_10"],
    "b2b_accounts": ["account_id", "month"],
}


def _month_start(value, name: str) -> pd.Timestamp | None:
    ts = check_timestamp(value, name, allow_none=True)
    return None if ts is None else ts.to_period("M").to_timestamp()


def kpi_counts(customers, transactions, memberships, tickets, *, survey=None, b2b_accounts=None,
               period_start=None, period_end=None, level: str = "branch", cost_per_ticket: float = 25.0,
               annual_discount_rate: float = 0.10, engine=None) -> pd.DataFrame:
    """Monthly KPI numerators and denominators per branch, in SQL, and the indicators built from them.

    The monthly counts of :func:`crmlab.kpi.indicator_system` (``freq="M"``): active,
    purchasing and repeat-buying customers, members at the month start and those who
    churned, new customers and their acquisition spend, revenue, gross margin, tickets,
    complaints, the ticket medians, the numerators and denominators of the FCR, SLA and
    ticket-CSAT rates (and of survey CSAT and NPS with ``survey``), then the indicators
    ``indicator_system`` derives from them (``retention_rate``, ``cac``, ``complaint_rate`` ...).
    Tables use the world's column names. ``period_start``/``period_end`` pick whole calendar
    months (both inclusive); by default the months spanned by the transactions and tickets.
    ``level="company"`` sums over branches (distinct customers counted once).
    """
    check_option(level, "level", ["branch", "company"])
    check_scalar(cost_per_ticket, "cost_per_ticket", numbers.Real, 0)
    check_scalar(annual_discount_rate, "annual_discount_rate", numbers.Real, 0, 1)
    tables = {"customers": customers, "transactions": transactions, "memberships": memberships,
              "tickets": tickets}
    if survey is not None:
        tables["survey"] = survey
    if b2b_accounts is not None:
        tables["b2b_accounts"] = b2b_accounts
    eng = resolve_engine(engine, *tables.values())
    lo_arg, hi_arg = _month_start(period_start, "period_start"), _month_start(period_end, "period_end")
    if lo_arg is not None and hi_arg is not None and hi_arg < lo_arg:
        raise ParameterError(f"period_end ({hi_arg.date()}) is before period_start ({lo_arg.date()})",
                             fix="swap them")
    sources: dict[str, _Source] = {}
    try:
        for name, table in tables.items():
            s = _Source(eng, table, name)
            sources[name] = s
            s.require(fix=f"kpi_counts reads the world's column names: rename the {name} column to "
                          f"those of crmlab.datasets.load({name!r})", **{c: c for c in _KPI_COLUMNS[name]})
        ids = {"customers": ["customer_id", "branch_id"], "b2b_accounts": ["account_id"]}
        dates = {"customers": ["signup_date"], "transactions": ["date"], "memberships": ["start_date"],
                 "tickets": ["opened_at"], "survey": ["response_date"], "b2b_accounts": ["month"]}
        amounts = {"customers": ["acquisition_cost"], "transactions": ["amount"]}
        prof = {}
        for name, s in sources.items():
            prof[name] = s.check(ids=ids.get(name, ["customer_id"]), dates=dates[name], amounts=amounts.get(name, ()),
                                 min_rows=1 if name == "customers" else 0)
        d = eng.dialect
        bad = eng.df(f"SELECT COUNT(*) AS n FROM {d.q(sources['memberships'].view)} WHERE "
                     f"TRY_CAST({d.q('end_date')} AS TIMESTAMP) < TRY_CAST({d.q('start_date')} AS TIMESTAMP)")
        if int(bad.iloc[0, 0]):
            raise DataValidationError(f"memberships has {int(bad.iloc[0, 0])} row(s) where 'end_date' is before "
                                      "'start_date'", fix="swap or correct those dates")
        spans = [prof[t][f"{k}__{c}"] for t, c in (("transactions", "date"), ("tickets", "opened_at"))
                 for k in ("min", "max") if prof[t]["n_rows"]]
        spans = [pd.Timestamp(x) for x in spans if x is not None and not pd.isna(x)]
        if not spans and (lo_arg is None or hi_arg is None):
            raise DataValidationError("transactions and tickets are both empty, so there is no period to measure",
                                      fix="pass the full world's tables")
        lo = lo_arg if lo_arg is not None else min(spans).to_period("M").to_timestamp()
        hi = (hi_arg if hi_arg is not None else max(spans).to_period("M").to_timestamp()) + pd.offsets.MonthBegin(1)
        if hi <= lo:
            raise DataValidationError(f"the window {lo.date()} to {hi.date()} is empty", fix="choose end after start")
        starts = pd.date_range(lo, hi, freq="MS", inclusive="left")
        months = pd.DataFrame({"p": np.arange(len(starts), dtype="int64"), "ps": starts,
                               "pe": starts[1:].append(pd.DatetimeIndex([hi]))})
        mview = eng.view(months, "months")
        try:
            sql = _sql.kpi_sql(d, {k: v.view for k, v in sources.items()}, months_view=mview, level=level,
                               has_survey=survey is not None, has_b2b=b2b_accounts is not None)
            out = _frame(eng, sql)
        finally:
            eng.drop(mview)
    finally:
        for s in sources.values():
            s.close()
    for c in ("period", "period_end"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    return _derived_indicators(out, cost_per_ticket, annual_discount_rate, survey is not None)


def _derived_indicators(out: pd.DataFrame, cost_per_ticket: float, annual_discount_rate: float,
                        has_survey: bool) -> pd.DataFrame:
    """The ratios ``indicator_system`` builds from the counts (one period = one month)."""

    def ratio(num, den):
        den = out[den].astype(float)
        return out[num].astype(float) / den.where(den > 0)

    out["service_cost"] = out["tickets"] * float(cost_per_ticket)
    out["fcr_rate"] = ratio("fcr_resolved", "fcr_answered")
    out["sla_met_rate"] = ratio("sla_met", "sla_answered")
    out["satisfaction_ticket"] = ratio("csat_sum", "csat_responses")
    if has_survey:
        out["satisfaction_survey"] = ratio("survey_csat_sum", "survey_csat_responses")
        out["nps"] = 100 * (ratio("promoters", "survey_responses") - ratio("detractors", "survey_responses"))
    out["retention_rate"] = 1 - ratio("members_churned", "members_start")
    out["churn_rate"] = 1 - out["retention_rate"]
    out["repeat_purchase_rate"] = ratio("repeat_buyers", "purchasing_customers")
    out["cac"] = ratio("marketing_spend", "new_customers")
    act = out["active_customers"].where(out["active_customers"] > 0)
    out["profit_contribution"] = out["gross_margin"] - out["service_cost"]
    out["profit_per_customer"] = out["profit_contribution"] / act
    out["maintenance_cost_per_customer"] = out["service_cost"] / act
    out["complaint_rate"] = out["complaints"] / act
    d_m = (1 + annual_discount_rate) ** (1 / 12) - 1
    r_m = out["retention_rate"].clip(upper=0.999)
    out["clv"] = out["profit_per_customer"] * (1 + d_m) / (1 + d_m - r_m)
    out["clv_cac"] = out["clv"] / out["cac"]
    return out


# ------------------------------------------------------------------------------------------
# survival
# ------------------------------------------------------------------------------------------
def _window(window_start, as_of) -> tuple[pd.Timestamp, pd.Timestamp]:
    ws = check_timestamp(window_start, "window_start")
    we = check_timestamp(as_of, "as_of")
    if not ws < we:
        raise ParameterError(f"window_start ({ws.date()}) must be before as_of ({we.date()})",
                             fix="swap them; as_of is the censoring date (world.meta['window_end'])")
    return ws, we


def _spells(memberships, window_start, as_of, start_col, stop_col, columns, engine, what="memberships"):
    eng = resolve_engine(engine, memberships)
    ws, we = _window(window_start, as_of)
    src = _Source(eng, memberships, what)
    try:
        src.require(start_col=start_col, stop_col=stop_col)
        cols = [c for c in src.types if c not in ("entry", "duration", "event", "left_truncated")] \
            if columns is None else list(columns)
        src.require(**{f"columns[{i}]": c for i, c in enumerate(cols)})
        src.check(dates=[start_col])
        d = eng.dialect
        s = f"TRY_CAST({d.q(start_col)} AS TIMESTAMP)"
        e = f"TRY_CAST({d.q(stop_col)} AS TIMESTAMP)"
        bad = eng.df(f"SELECT COUNT(*) AS n, SUM(CASE WHEN {d.q(stop_col)} IS NOT NULL AND {e} IS NULL "
                     f"THEN 1 ELSE 0 END) AS unparsed FROM {d.q(src.view)} WHERE {e} < {s} OR "
                     f"({d.q(stop_col)} IS NOT NULL AND {e} IS NULL)")
        if int(bad.iloc[0, 0]):
            k, u = int(bad.iloc[0, 0]), int(bad.iloc[0, 1] or 0)
            if u:
                raise DataValidationError(f"{what}[{stop_col!r}] has {u} value(s) that are not dates",
                                          fix="write dates as ISO 'YYYY-MM-DD'; leave the end empty for running spells")
            raise DataValidationError(f"{what} has {k} row(s) where {stop_col!r} is before {start_col!r} "
                                      "(start after stop, a negative duration)",
                                      fix=f"swap or correct those dates; {stop_col!r} must come after {start_col!r}")
    except Exception:
        src.close()
        raise
    return eng, src, _sql.spells_sql(eng.dialect, src.view, window_start=ws, as_of=we, start_col=start_col,
                                     stop_col=stop_col, columns=cols)


def survival_spells(memberships, *, window_start, as_of, start_col: str = "start_date",
                    stop_col: str = "end_date", columns=None, engine=None) -> pd.DataFrame:
    """One row per spell with ``entry``, ``duration`` (months), ``event`` and ``left_truncated``, in SQL.

    The rows of :func:`crmlab.churn.survival_frame`: right-censoring at ``as_of``, delayed
    entry for spells running at ``window_start``, spells that ended before the window
    dropped, events mid-day. ``columns`` lists the input columns to keep (default: all).

    >>> import pandas as pd
    >>> ms = pd.DataFrame({"membership_id": [1, 2, 3],
    ...                    "start_date": pd.to_datetime(["2022-06-01", "2023-03-01", "2023-05-01"]),
    ...                    "end_date": pd.to_datetime([None, "2023-09-15", None])})
    >>> survival_spells(ms, window_start="2023-01-01", as_of="2024-01-01",
    ...                 columns=["membership_id"]).round(2)  # doctest: +NORMALIZE_WHITESPACE
       membership_id  entry  duration  event  left_truncated
    0              1   7.03     19.02      0            True
    1              2   0.00      6.52      1           False
    2              3   0.00      8.05      0           False
    """
    eng, src, sql = _spells(memberships, window_start, as_of, start_col, stop_col, columns, engine)
    try:
        return _frame(eng, sql)
    finally:
        src.close()


def _bands(band_months: float, max_tenure: float) -> pd.DataFrame:
    k = np.arange(int(np.ceil(max_tenure / band_months)) + 1, dtype="int64")
    return pd.DataFrame({"band": k, "lo": k * float(band_months), "hi": (k + 1) * float(band_months)})


def life_table(memberships, *, window_start, as_of, band_months: float = 1.0, by=None,
               start_col: str = "start_date", stop_col: str = "end_date", engine=None) -> pd.DataFrame:
    """Life-table cells by tenure band (and ``by``): spells at risk, churn events and exposure.

    Each spell of :func:`survival_spells` is cut on a grid of ``band_months``-month tenure
    bands (as :func:`crmlab.churn.split_spells`); a cell sums, over the spells of one group
    in one band, the events and the months at risk (``exposure``). These cells are the
    sufficient statistics of a piecewise-exponential hazard model, fitted by
    :class:`PiecewiseExponentialCox`; ``events / exposure`` is the band's churn hazard.
    """
    check_scalar(band_months, "band_months", numbers.Real, 0, low_inclusive=False)
    by = [by] if isinstance(by, str) else list(by or [])
    eng, src, spells = _spells(memberships, window_start, as_of, start_col, stop_col, by, engine)
    try:
        d = eng.dialect
        tmax = eng.df(f"SELECT MAX(duration) AS t FROM ({spells}) s").iloc[0, 0]
        if tmax is None or pd.isna(tmax):
            raise DataValidationError("no membership spell is observed inside the window",
                                      fix="check window_start and as_of against the membership dates")
        bands = eng.view(_bands(float(band_months), float(tmax)), "bands")
        try:
            out = _frame(eng, _sql.life_table_sql(d, spells, bands_view=bands, by=by))
        finally:
            eng.drop(bands)
    finally:
        src.close()
    out.attrs.update({"band_months": float(band_months), "window_start": str(pd.Timestamp(window_start).date()),
                      "as_of": str(pd.Timestamp(as_of).date())})
    return out


def kaplan_meier(memberships, *, window_start, as_of, by=None, start_col: str = "start_date",
                 stop_col: str = "end_date", engine=None) -> pd.DataFrame:
    """Kaplan-Meier retention curve(s) from a weighted life table computed in SQL.

    The SQL returns one row per distinct tenure with an exit: the number at risk (entered
    before it, not yet gone: delayed entry honoured), the churn events and the censorings.
    ``survival`` = the running product of (1 - events / at_risk), as lifelines'
    ``KaplanMeierFitter(...).fit(duration, event, entry=entry)`` on the spells; ``by`` gives
    one curve per group.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    eng, src, spells = _spells(memberships, window_start, as_of, start_col, stop_col, by, engine)
    try:
        tab = _frame(eng, _sql.km_table_sql(eng.dialect, spells, by=by))
    finally:
        src.close()
    if tab.empty:
        raise DataValidationError("no membership spell is observed inside the window",
                                  fix="check window_start and as_of against the membership dates")
    factor = 1 - tab["events"] / tab["at_risk"].where(tab["at_risk"] > 0)
    factor = factor.fillna(1.0)
    if by:
        tab["survival"] = factor.groupby([tab[c] for c in by], sort=False).cumprod()
    else:
        tab["survival"] = factor.cumprod()
    return tab


def contract_period_counts(memberships, *, as_of, start_col: str = "start_date", stop_col: str = "end_date",
                           period_days: float = 30.4375, engine=None) -> pd.DataFrame:
    """The sBG input in SQL: (``periods``, ``churned``) pairs of :func:`crmlab.clv.contract_periods` with a ``weight``.

    Fit with ``crmlab.clv.ShiftedBetaGeometricFitter().fit(counts, weights_col="weight")``.

    >>> import pandas as pd
    >>> m = pd.DataFrame({"start_date": pd.to_datetime(["2024-01-01"] * 3),
    ...                   "end_date": pd.to_datetime(["2024-02-15", None, None])})
    >>> contract_period_counts(m, as_of="2024-07-01")
       periods  churned  weight
    0        5    False       2
    1        2     True       1
    """
    eng = resolve_engine(engine, memberships)
    obs = check_timestamp(as_of, "as_of")
    check_scalar(period_days, "period_days", numbers.Real, 0, low_inclusive=False)
    src = _Source(eng, memberships, "memberships")
    try:
        src.require(start_col=start_col, stop_col=stop_col)
        src.check(dates=[start_col], not_after=obs)
        d = eng.dialect
        s = f"TRY_CAST({d.q(start_col)} AS TIMESTAMP)"
        e = f"TRY_CAST({d.q(stop_col)} AS TIMESTAMP)"
        bad = eng.df(f"SELECT SUM(CASE WHEN {e} > {d.ts(obs)} THEN 1 ELSE 0 END) AS late, "
                     f"SUM(CASE WHEN {e} < {s} THEN 1 ELSE 0 END) AS rev FROM {d.q(src.view)}").iloc[0]
        if int(bad["late"] or 0):
            raise DataValidationError(f"memberships[{stop_col!r}] has {int(bad['late'])} date(s) after "
                                      f"{obs.date()}", fix="filter the log to the analysis date, or move as_of later")
        if int(bad["rev"] or 0):
            raise DataValidationError(f"memberships has {int(bad['rev'])} row(s) where {stop_col!r} is before "
                                      f"{start_col!r}", fix="correct or drop those rows")
        out = _frame(eng, _sql.contract_periods_sql(d, src.view, as_of=obs, start_col=start_col,
                                                    stop_col=stop_col, period_days=float(period_days)))
    finally:
        src.close()
    out["churned"] = out["churned"].astype(bool)
    return out
