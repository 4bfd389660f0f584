"""The SQL of crmlab.scale: written once, run by DuckDB and by Spark.

Every statistic of :mod:`crmlab.scale` is one SQL statement built here from a
:class:`~crmlab.scale._engine.Dialect`. The statements use the subset of SQL the two
engines share (CTEs, GROUP BY, window functions, CASE, TRY_CAST, date_trunc); the dialect
spells only quoting, day differences, the exact median, arg-min and anonymous structs.
Arithmetic is in DOUBLE throughout and follows the pandas code it replaces operation by
operation, so that a day count divided by a time unit is the same IEEE number in all three
engines (float literals are cast to DOUBLE: both dialects read ``7.0`` as a DECIMAL).

Each builder documents the pandas function it reproduces; ``tests/test_scale.py`` checks
the results against that function.
"""

from __future__ import annotations

import pandas as pd

from ._engine import Dialect


def _cte(parts: list[tuple[str, str]], final: str) -> str:
    return "WITH " + ",\n".join(f"{name} AS (\n{body}\n)" for name, body in parts) + "\n" + final


def _as_double(d: Dialect, col: str) -> str:
    return d.nan_to_null(d.dbl(d.q(col)))


# ------------------------------------------------------------------------------------------
# validation: one pass that counts every kind of bad row
# ------------------------------------------------------------------------------------------
def profile_sql(d: Dialect, view: str, *, ids=(), dates=(), amounts=(), not_after=None) -> str:
    """Row count, missing ids/dates, missing/inf/negative amounts, dates after ``not_after``."""
    items = ["COUNT(*) AS n_rows"]
    for c in ids:
        items.append(f"SUM(CASE WHEN {d.q(c)} IS NULL THEN 1 ELSE 0 END) AS {d.q('null__' + c)}")
    for c in dates:
        t = f"TRY_CAST({d.q(c)} AS TIMESTAMP)"
        items.append(f"SUM(CASE WHEN {t} IS NULL THEN 1 ELSE 0 END) AS {d.q('null__' + c)}")
        items.append(f"SUM(CASE WHEN {d.q(c)} IS NOT NULL AND {t} IS NULL THEN 1 ELSE 0 END) AS {d.q('bad__' + c)}")
        items.append(f"MIN({t}) AS {d.q('min__' + c)}")
        items.append(f"MAX({t}) AS {d.q('max__' + c)}")
        if not_after is not None:
            items.append(f"SUM(CASE WHEN {t} > {d.ts(not_after)} THEN 1 ELSE 0 END) AS {d.q('late__' + c)}")
    for c in amounts:
        x = d.dbl(d.q(c))
        items.append(f"SUM(CASE WHEN {x} IS NULL OR isnan({x}) THEN 1 ELSE 0 END) AS {d.q('null__' + c)}")
        items.append(f"SUM(CASE WHEN abs({x}) = CAST('Infinity' AS DOUBLE) THEN 1 ELSE 0 END) AS {d.q('inf__' + c)}")
        items.append(f"SUM(CASE WHEN {x} < 0 THEN 1 ELSE 0 END) AS {d.q('neg__' + c)}")
    return f"SELECT {', '.join(items)} FROM {d.q(view)}"


# ------------------------------------------------------------------------------------------
# BTYD summary (crmlab.clv.summary_from_transactions)
# ------------------------------------------------------------------------------------------
def btyd_summary_sql(d: Dialect, view: str, *, customer_id_col: str, date_col: str, amount_col: str | None,
                     as_of: pd.Timestamp, calibration_end: pd.Timestamp | None, unit_days: float,
                     merge_same_day: bool, order_col: str | None) -> str:
    """Per-customer frequency, recency, T (+ monetary_value, holdout columns), ordered by customer.

    As ``summary_from_transactions``: same-day purchases merged (amounts summed) unless
    ``merge_same_day`` is False; with ``calibration_end`` only customers with a purchase by
    then, described over the calibration period, plus holdout counts and mean amounts.
    ``monetary_value`` is the mean of the repeat purchases = (calibration total - first
    purchase) / frequency, computed in one aggregation without a window.
    """
    amt = f", {_as_double(d, amount_col)} AS amt" if amount_col else ""
    ordered = (f", {d.q(order_col)} AS ord" if order_col and amount_col else "")
    src = (f"SELECT {d.q(customer_id_col)} AS cid, CAST(TRY_CAST({d.q(date_col)} AS TIMESTAMP) AS DATE) AS day"
           f"{amt}{ordered} FROM {d.q(view)}")
    if merge_same_day:
        daily = ("SELECT cid, day, SUM(amt) AS amt FROM src GROUP BY cid, day" if amount_col
                 else "SELECT DISTINCT cid, day FROM src")
        key = "day"
    else:
        daily = "SELECT * FROM src"
        # the first purchase among several on the first day: the one first in order_col
        # (pandas: the one first in row order); without order_col the smallest amount
        key = d.row("day", "ord" if order_col and amount_col else "amt")
    period_end = calibration_end if calibration_end is not None else as_of
    in_cal = "TRUE" if calibration_end is None else f"day <= CAST({d.ts(calibration_end)} AS DATE)"
    items = [f"MIN(CASE WHEN {in_cal} THEN day END) AS first_day",
             f"MAX(CASE WHEN {in_cal} THEN day END) AS last_day",
             f"CAST(SUM(CASE WHEN {in_cal} THEN 1 ELSE 0 END) AS BIGINT) AS n_cal"]
    if amount_col:
        items += [f"SUM(CASE WHEN {in_cal} THEN amt ELSE CAST(0 AS DOUBLE) END) AS amt_cal",
                  f"{d.arg_min('amt', key)} AS first_amt"]
    if calibration_end is not None:
        items.append(f"CAST(SUM(CASE WHEN {in_cal} THEN 0 ELSE 1 END) AS BIGINT) AS n_hold")
        if amount_col:
            items.append(f"SUM(CASE WHEN {in_cal} THEN CAST(0 AS DOUBLE) ELSE amt END) AS amt_hold")
    # without amounts and without same-day merging every row is a purchase: no daily step
    table = "daily" if (merge_same_day or amount_col) else "src"
    per = "SELECT cid,\n  " + ",\n  ".join(items) + f"\nFROM {table} GROUP BY cid"
    unit = d.num(unit_days)
    cols = [f"cid AS {d.q(customer_id_col)}",
            f"n_cal - 1 AS {d.q('frequency')}",
            f"{d.dbl(d.days('first_day', 'last_day'))} / {unit} AS {d.q('recency')}",
            f"{d.dbl(d.days('first_day', d.ts(period_end)))} / {unit} AS {d.q('T')}"]
    if amount_col:
        cols.append(f"CASE WHEN n_cal > 1 THEN (amt_cal - first_amt) / {d.dbl('n_cal - 1')} "
                    f"ELSE CAST(0 AS DOUBLE) END AS {d.q('monetary_value')}")
    if calibration_end is not None:
        cols.append(f"n_hold AS {d.q('frequency_holdout')}")
        if amount_col:
            cols.append(f"CASE WHEN n_hold > 0 THEN amt_hold / {d.dbl('n_hold')} ELSE CAST(0 AS DOUBLE) END "
                        f"AS {d.q('monetary_value_holdout')}")
        hold_days = (as_of - calibration_end).days
        cols.append(f"{d.dbl(str(hold_days))} / {unit} AS {d.q('duration_holdout')}")
    final = f"SELECT {', '.join(cols)} FROM per WHERE n_cal > 0"
    parts = [("src", src)] + ([("daily", daily)] if table == "daily" else []) + [("per", per)]
    return _cte(parts, final)


def weighted_sql(d: Dialect, inner: str, columns: list[str], where: str | None = None) -> str:
    """Identical rows of ``inner`` over ``columns`` collapsed into one row with a ``weight``."""
    cols = ", ".join(d.q(c) for c in columns)
    cond = f" WHERE {where}" if where else ""
    return (f"SELECT {cols}, COUNT(*) AS {d.q('weight')} FROM (\n{inner}\n) summary{cond} "
            f"GROUP BY {cols} ORDER BY {cols}")


# ------------------------------------------------------------------------------------------
# RFM (crmlab.segmentation.rfm_table)
# ------------------------------------------------------------------------------------------
def _score_sql(d: Dialect, col: str, bins: int, higher_is_better: bool, edges) -> str:
    """segmentation._score: percentile rank with ties averaged, cut into ``bins`` bands, or cut points."""
    v = d.q(col)
    if edges is not None:
        s = "1 + " + " + ".join(f"(CASE WHEN {d.dbl(v)} >= {d.num(e)} THEN 1 ELSE 0 END)" for e in edges)
        return f"({s})" if higher_is_better else f"({bins + 1} - ({s}))"
    order = "ASC" if higher_is_better else "DESC"
    avg_rank = (f"({d.dbl(f'RANK() OVER (ORDER BY {v} {order})')} + "
                f"{d.dbl(f'COUNT(*) OVER (PARTITION BY {v}) - 1')} / {d.num(2.0)})")
    pct = f"({avg_rank} / {d.dbl('COUNT(*) OVER ()')})"
    return f"LEAST(GREATEST(CAST(ceil({pct} * {d.num(bins)}) AS BIGINT), 1), {bins})"


def rfm_sql(d: Dialect, view: str, *, customer_id_col: str, date_col: str, amount_col: str,
            profit_col: str | None, as_of: pd.Timestamp, monetary: str, bins: int, thresholds: dict) -> str:
    """recency_days, frequency, monetary (+ profit) and R, F, M scores per customer."""
    src = (f"SELECT {d.q(customer_id_col)} AS cid, TRY_CAST({d.q(date_col)} AS TIMESTAMP) AS ts, "
           f"{_as_double(d, amount_col)} AS amt"
           + (f", {_as_double(d, profit_col)} AS profit" if profit_col else "") + f" FROM {d.q(view)}")
    agg = "SUM(amt)" if monetary == "sum" else "AVG(amt)"
    per = (f"SELECT cid, MAX(ts) AS last_ts, COUNT(*) AS frequency, {agg} AS monetary"
           + (", SUM(profit) AS profit" if profit_col else "") + " FROM src GROUP BY cid")
    secs = d.seconds("last_ts", d.ts(as_of))
    rec = (f"SELECT cid, CAST(floor({d.dbl(secs)} / {d.num(86400.0)}) AS BIGINT) AS recency_days, frequency, "
           "monetary" + (", profit" if profit_col else "") + " FROM per")
    scores = [("R", "recency_days", False), ("F", "frequency", True), ("M", "monetary", True)]
    cols = [f"cid AS {d.q(customer_id_col)}", "recency_days", "frequency", "monetary"]
    if profit_col:
        cols.append("profit")
    for name, col, better in scores:
        cols.append(f"{_score_sql(d, col, bins, better, thresholds.get(col))} AS {d.q(name)}")
    return _cte([("src", src), ("per", per), ("rec", rec)], f"SELECT {', '.join(cols)} FROM rec")


# ------------------------------------------------------------------------------------------
# KPI numerators and denominators (crmlab.kpi.indicator_system, freq="M")
# ------------------------------------------------------------------------------------------
def kpi_sql(d: Dialect, views: dict[str, str], *, months_view: str, level: str, has_survey: bool,
            has_b2b: bool) -> str:
    """Counts and sums per branch (or company) and calendar month, as ``indicator_system``.

    ``months_view`` holds the periods (``p``, ``ps``, ``pe``: month start, next month start).
    Periods are found by ``date_trunc('month', ...)``, equal to pandas' search in the
    month starts because every period is a whole calendar month.
    """
    q = d.q
    branch = "'ALL'" if level == "company" else f"CAST({q('branch_id')} AS STRING)"
    parts = [
        ("cust", f"SELECT {q('customer_id')} AS cid, {branch} AS branch, "
                 f"TRY_CAST({q('signup_date')} AS TIMESTAMP) AS signup, "
                 f"{_as_double(d, 'acquisition_cost')} AS acq FROM {q(views['customers'])}"),
        ("months", f"SELECT p, CAST(ps AS TIMESTAMP) AS ps, CAST(pe AS TIMESTAMP) AS pe FROM {q(months_view)}"),
        ("branches", "SELECT DISTINCT branch FROM cust"),
        ("grid", "SELECT b.branch, m.p, m.ps, m.pe FROM branches b CROSS JOIN months m"),
        # transactions: whole log for the first purchase, window rows for the period sums
        ("tx_all", f"SELECT {q('customer_id')} AS cid, TRY_CAST({q('date')} AS TIMESTAMP) AS ts, "
                   f"{_as_double(d, 'amount')} AS amount, {_as_double(d, 'gross_margin')} AS gm "
                   f"FROM {q(views['transactions'])}"),
        ("tx_first", "SELECT t.cid, MIN(t.ts) AS first_ts FROM tx_all t GROUP BY t.cid"),
        # the customer's first-ever purchase is not a repeat purchase when it is on the sign-up
        # day (kpi: is_first); it is the row with the smallest date, whatever the tie-break
        ("tx_cp", "SELECT c.branch, m.p, t.cid, COUNT(*) AS n, SUM(t.amount) AS revenue, SUM(t.gm) AS gm, "
                  "MAX(CASE WHEN f.first_ts = c.signup AND date_trunc('month', f.first_ts) = m.ps THEN 1 "
                  "ELSE 0 END) AS first_here "
                  "FROM tx_all t JOIN cust c ON t.cid = c.cid JOIN tx_first f ON t.cid = f.cid "
                  "JOIN months m ON date_trunc('month', t.ts) = m.ps GROUP BY c.branch, m.p, t.cid"),
        ("tx_bp", "SELECT branch, p, COUNT(*) AS purchasing_customers, "
                  "CAST(SUM(CASE WHEN n > first_here THEN 1 ELSE 0 END) AS BIGINT) AS repeat_buyers, "
                  "SUM(revenue) AS revenue, SUM(gm) AS gross_margin FROM tx_cp GROUP BY branch, p"),
        ("tk", f"SELECT {q('customer_id')} AS cid, TRY_CAST({q('opened_at')} AS TIMESTAMP) AS ts, "
               f"CAST({q('type')} AS STRING) AS type, "
               f"{d.dbl(q('first_contact_resolution'))} AS fcr, {d.dbl(q('sla_met'))} AS sla, "
               f"{_as_double(d, 'post_ticket_csat')} AS csat, {_as_double(d, 'first_response_hours')} AS frh, "
               f"{_as_double(d, 'resolution_hours')} AS rh FROM {q(views['tickets'])}"),
        ("tk_bp", "SELECT c.branch, m.p, COUNT(*) AS tickets, "
                  "CAST(SUM(CASE WHEN t.type = 'complaint' THEN 1 ELSE 0 END) AS BIGINT) AS complaints, "
                  f"{d.median('t.frh')} AS median_first_response_hours, "
                  f"{d.median('t.rh')} AS median_resolution_hours, "
                  "SUM(t.fcr) AS fcr_resolved, COUNT(t.fcr) AS fcr_answered, "
                  "SUM(t.sla) AS sla_met, COUNT(t.sla) AS sla_answered, "
                  "SUM(t.csat) AS csat_sum, COUNT(t.csat) AS csat_responses "
                  "FROM tk t JOIN cust c ON t.cid = c.cid JOIN months m ON date_trunc('month', t.ts) = m.ps "
                  "GROUP BY c.branch, m.p"),
        ("new_bp", "SELECT c.branch, m.p, COUNT(*) AS new_customers, SUM(c.acq) AS marketing_spend "
                   "FROM cust c JOIN months m ON date_trunc('month', c.signup) = m.ps GROUP BY c.branch, m.p"),
        ("mem", f"SELECT {q('customer_id')} AS cid, TRY_CAST({q('start_date')} AS TIMESTAMP) AS s, "
                f"TRY_CAST({q('end_date')} AS TIMESTAMP) AS e FROM {q(views['memberships'])}"),
        # members active at the period start, and those of them who ended inside the period
        ("mem_bp", "SELECT c.branch, m.p, "
                   "CAST(SUM(CASE WHEN x.s <= m.ps AND (x.e IS NULL OR x.e >= m.ps) THEN 1 ELSE 0 END) AS BIGINT) AS members_start, "
                   "CAST(SUM(CASE WHEN x.s <= m.ps AND x.e >= m.ps AND x.e < m.pe THEN 1 ELSE 0 END) AS BIGINT) AS members_churned "
                   "FROM mem x JOIN cust c ON x.cid = c.cid JOIN months m "
                   "ON x.s <= m.ps AND (x.e IS NULL OR x.e >= m.ps) GROUP BY c.branch, m.p"),
    ]
    # active customers: a purchase, a ticket, a membership active in the period, a B2B month
    active = ["SELECT t.cid, m.p FROM tx_all t JOIN months m ON date_trunc('month', t.ts) = m.ps",
              "SELECT t.cid, m.p FROM tk t JOIN months m ON date_trunc('month', t.ts) = m.ps",
              "SELECT x.cid, m.p FROM mem x JOIN months m ON x.s < m.pe AND (x.e IS NULL OR x.e >= m.ps)"]
    if has_b2b:
        parts.append(("b2b", f"SELECT {q('account_id')} AS cid, TRY_CAST({q('month')} AS TIMESTAMP) AS ts "
                             f"FROM {q(views['b2b_accounts'])}"))
        active.append("SELECT b.cid, m.p FROM b2b b JOIN months m ON date_trunc('month', b.ts) = m.ps")
    parts.append(("act", "\nUNION\n".join(active)))
    parts.append(("act_bp", "SELECT c.branch, a.p, COUNT(*) AS active_customers FROM act a "
                            "JOIN cust c ON a.cid = c.cid GROUP BY c.branch, a.p"))
    if has_survey:
        parts.append(("sv", f"SELECT {q('customer_id')} AS cid, TRY_CAST({q('response_date')} AS TIMESTAMP) AS ts, "
                            f"{_as_double(d, 'csat_1_5')} AS csat, {_as_double(d, 'recommend_0_10')} AS rec "
                            f"FROM {q(views['survey'])}"))
        parts.append(("sv_bp", "SELECT c.branch, m.p, COUNT(*) AS survey_responses, "
                               "SUM(s.csat) AS survey_csat_sum, COUNT(s.csat) AS survey_csat_responses, "
                               "CAST(SUM(CASE WHEN s.rec >= 9 THEN 1 ELSE 0 END) AS BIGINT) AS promoters, "
                               "CAST(SUM(CASE WHEN s.rec <= 6 THEN 1 ELSE 0 END) AS BIGINT) AS detractors "
                               "FROM sv s JOIN cust c ON s.cid = c.cid "
                               "JOIN months m ON date_trunc('month', s.ts) = m.ps GROUP BY c.branch, m.p"))
    zero = ["purchasing_customers", "repeat_buyers", "tickets", "complaints", "new_customers",
            "members_start", "members_churned", "active_customers"]
    zero_f = ["revenue", "gross_margin", "marketing_spend"]
    sel = ["g.branch AS branch_id", "g.ps AS period", "g.pe AS period_end"]
    sel += [f"COALESCE({c}, 0) AS {c}" for c in zero]
    sel += [f"COALESCE({c}, CAST(0 AS DOUBLE)) AS {c}" for c in zero_f]
    sel += ["median_first_response_hours", "median_resolution_hours", "COALESCE(fcr_resolved, 0) AS fcr_resolved",
            "COALESCE(fcr_answered, 0) AS fcr_answered", "COALESCE(sla_met, 0) AS sla_met",
            "COALESCE(sla_answered, 0) AS sla_answered", "COALESCE(csat_sum, 0) AS csat_sum",
            "COALESCE(csat_responses, 0) AS csat_responses"]
    joins = ["tx_bp", "tk_bp", "new_bp", "mem_bp", "act_bp"]
    if has_survey:
        sel += [f"COALESCE({c}, 0) AS {c}" for c in ("survey_responses", "survey_csat_sum", "survey_csat_responses",
                                                     "promoters", "detractors")]
        joins.append("sv_bp")
    final = (f"SELECT {', '.join(sel)} FROM grid g "
             + " ".join(f"LEFT JOIN {j} USING (branch, p)" for j in joins)
             + " ORDER BY g.branch, g.p")
    return _cte(parts, final)


# ------------------------------------------------------------------------------------------
# survival spells, life tables (crmlab.churn.survival_frame, split_spells)
# ------------------------------------------------------------------------------------------
MONTH_DAYS = 30.4375


def spells_sql(d: Dialect, view: str, *, window_start: pd.Timestamp, as_of: pd.Timestamp, start_col: str,
               stop_col: str, columns: list[str]) -> str:
    """One row per spell: entry, duration (months), event, left_truncated, as ``survival_frame``.

    Day offsets from the window start are wall-clock seconds / 86400, the same doubles as
    pandas' ``(dates - window_start) / Timedelta(days=1)``; the event sits mid-day (+ 0.5).
    """
    ws, we = d.ts(window_start), d.ts(as_of)
    s = f"TRY_CAST({d.q(start_col)} AS TIMESTAMP)"
    e = f"TRY_CAST({d.q(stop_col)} AS TIMESTAMP)"
    keep = "".join(f"{d.q(c)}, " for c in columns)
    day = d.num(86400.0)
    we_day = f"({d.dbl(d.seconds(ws, we))} / {day})"
    raw = (f"SELECT {keep}{d.dbl(d.seconds(ws, s))} / {day} AS sday, "
           f"CASE WHEN {e} IS NULL THEN NULL ELSE {d.dbl(d.seconds(ws, e))} / {day} END AS eday_raw "
           f"FROM {d.q(view)}")
    # an end on or after the as-of date has not happened yet: censored there
    mid = (f"SELECT *, CASE WHEN eday_raw >= {we_day} THEN NULL ELSE eday_raw END AS eday FROM raw "
           f"WHERE NOT (eday_raw IS NOT NULL AND eday_raw < 0) AND sday < {we_day}")
    md = d.num(MONTH_DAYS)
    keep2 = "".join(f"{d.q(c)}, " for c in columns)
    final = (f"SELECT {keep2}GREATEST(-sday, CAST(0 AS DOUBLE)) / {md} AS entry, "
             f"(CASE WHEN eday IS NULL THEN {we_day} ELSE eday + {d.num(0.5)} END - sday) / {md} AS duration, "
             f"CASE WHEN eday IS NULL THEN 0 ELSE 1 END AS event, sday < 0 AS left_truncated FROM mid")
    return _cte([("raw", raw), ("mid", mid)], final)


def life_table_sql(d: Dialect, spells: str, *, bands_view: str, by: list[str]) -> str:
    """Life-table cells by tenure band (and ``by``): spells at risk, events, exposure (months).

    Band k covers (lo, hi] in tenure months; a spell contributes the overlap of
    (entry, duration] with it, and its event to the band that holds its duration (as
    ``split_spells``).
    """
    keys = "".join(f"s.{d.q(c)}, " for c in by)
    groups = "".join(f"{d.q(c)}, " for c in by)
    cells = (f"SELECT {keys}b.band, b.lo, b.hi, "
             f"LEAST(s.duration, b.hi) - GREATEST(s.entry, b.lo) AS exposure, "
             f"CASE WHEN s.event = 1 AND s.duration <= b.hi THEN 1 ELSE 0 END AS event "
             f"FROM spells s JOIN {d.q(bands_view)} b ON b.hi > s.entry AND b.lo < s.duration")
    final = (f"SELECT {groups}band, MIN(lo) AS tenure_start, MIN(hi) AS tenure_end, COUNT(*) AS at_risk, "
             f"CAST(SUM(event) AS BIGINT) AS events, SUM(exposure) AS exposure FROM cells "
             f"GROUP BY {groups}band ORDER BY {groups}band")
    return _cte([("spells", spells), ("cells", cells)], final)


def km_table_sql(d: Dialect, spells: str, *, by: list[str]) -> str:
    """Distinct tenures with events, censorings and the number at risk (entry < t <= duration).

    The weighted form of the spells that Kaplan-Meier needs: one row per distinct
    (group, duration) plus the entries, whatever the number of spells.
    """
    g = "".join(f"{d.q(c)}, " for c in by)
    part = f"PARTITION BY {', '.join(d.q(c) for c in by)} " if by else ""
    exits = (f"SELECT {g}duration AS t, CAST(SUM(event) AS BIGINT) AS events, CAST(SUM(1 - event) AS BIGINT) AS censored, COUNT(*) AS exits "
             f"FROM spells GROUP BY {g}duration")
    entries = f"SELECT {g}entry AS t, COUNT(*) AS entries FROM spells GROUP BY {g}entry"
    using = ", ".join([*(d.q(c) for c in by), "t"])
    both = (f"SELECT {g}t, COALESCE(events, 0) AS events, COALESCE(censored, 0) AS censored, "
            f"COALESCE(exits, 0) AS exits, COALESCE(entries, 0) AS entries "
            f"FROM exits FULL OUTER JOIN entries USING ({using})")
    # at risk at t: entered strictly before t, not yet exited before t
    run = (f"SELECT {g}t, events, censored, "
           f"CAST(SUM(entries) OVER ({part}ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - entries "
           f"- (SUM(exits) OVER ({part}ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - exits) "
           f"AS BIGINT) AS at_risk, exits FROM both_")
    final = f"SELECT {g}t AS tenure, at_risk, events, censored FROM run WHERE exits > 0 ORDER BY {g}t"
    return _cte([("spells", spells), ("exits", exits), ("entries", entries), ("both_", both), ("run", run)], final)


# ------------------------------------------------------------------------------------------
# contract periods (crmlab.clv.contract_periods), weighted
# ------------------------------------------------------------------------------------------
def contract_periods_sql(d: Dialect, view: str, *, as_of: pd.Timestamp, start_col: str, stop_col: str,
                         period_days: float) -> str:
    """(periods, churned, weight): renewal periods survived or the period of churn, collapsed."""
    s = f"TRY_CAST({d.q(start_col)} AS TIMESTAMP)"
    e = f"TRY_CAST({d.q(stop_col)} AS TIMESTAMP)"
    obs = d.ts(as_of)
    days = f"({d.dbl(d.seconds(s, f'COALESCE({e}, {obs})'))} / {d.num(86400.0)})"
    tau = f"({days} / {d.num(period_days)})"
    eps = d.num(1e-9)
    inner = (f"SELECT CASE WHEN {e} IS NOT NULL THEN GREATEST(CAST(ceil({tau} - {eps}) AS BIGINT), 1) "
             f"ELSE CAST(floor({tau} + {eps}) AS BIGINT) END AS periods, {e} IS NOT NULL AS churned "
             f"FROM {d.q(view)}")
    return (f"SELECT periods, churned, COUNT(*) AS weight FROM ({inner}) c "
            f"GROUP BY periods, churned ORDER BY churned, periods")
