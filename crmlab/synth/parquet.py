"""Worlds as Parquet: the in-memory world table by table, or a transaction log streamed to disk.

* :func:`write_world_parquet` writes a generated :class:`~crmlab.synth.World` as one Parquet
  file per table (plus ``world.json``, ``truth.json`` and ``truth/``). Read back with
  :func:`load_parquet` / :func:`load_world_parquet`, the tables equal those that
  :func:`crmlab.datasets.load` reads from the CSV world of the same seed (same columns,
  dtypes and values; the CSV stays the default and is untouched).
* :func:`stream_transactions_parquet` writes the customers, the transaction log and the
  membership spells of a world too large for memory (tens of millions of customers, hundreds
  of millions of purchases) block by block: one block of 100,000 customers in memory at a time.
* :func:`generate_world_parquet` picks between the two (``crmlab generate --format parquet``).

Timestamps are written in microseconds, the unit Spark reads (pandas would write nanoseconds).
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DatasetNotFoundError, ParameterError
from ..validation import check_count
from .generate import _check_args, _labels, _month_bounds, _pick, _repeat_times
from .params import BRANCHES, CATEGORIES, CHANNELS, WorldParams, _check_params
from .world import DATETIME_COLUMNS, World

__all__ = ["write_world_parquet", "load_parquet", "load_world_parquet", "stream_transactions_parquet",
           "generate_world_parquet", "STREAM_BLOCK"]

STREAM_BLOCK = 100_000
"""Customers per block of :func:`stream_transactions_parquet` (one random stream per block)."""


def _schema():
    from ..datasets import SCHEMA

    return SCHEMA


def _typed(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """The table with the documented dtypes and the CSV's resolution (dates to the day,
    ``opened_at`` to the minute, missing text as NaN), as ``crmlab.datasets.load`` returns it."""
    cols = _schema().get(table)
    out = df.copy()
    if cols is None:
        return out
    for col, (kind, *_rest) in cols.items():
        if col not in out:
            continue
        if kind in ("date", "datetime"):
            out[col] = pd.to_datetime(out[col]).dt.floor("min" if col in DATETIME_COLUMNS else "D")
            out[col] = out[col].astype("datetime64[ns]")
        elif kind == "bool":
            out[col] = out[col].astype(bool)
        elif kind == "int":
            out[col] = out[col].astype("int64")
        elif kind == "float":
            out[col] = out[col].astype("float64")
        elif kind == "str":
            s = out[col].astype(object)
            out[col] = s.where(s.notna() & (s != ""), np.nan)
    return out[[c for c in cols if c in out.columns]]


def _write(df: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, str(path), coerce_timestamps="us", allow_truncated_timestamps=False)


def _folder(out_dir) -> Path:
    """The output folder, created if needed (a file at that path is refused)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out} exists and is not a folder", fix="choose a folder path")
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_world_parquet(world: World, out_dir) -> Path:
    """Write every table of ``world`` as ``<table>.parquet`` plus its meta data and truth.

    The tables hold what the CSV world of :meth:`World.save` holds, typed: read them with
    :func:`load_parquet`.

    >>> import tempfile
    >>> from crmlab.synth import generate_world
    >>> w = generate_world(seed=1, n_customers=300, months=12)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     load_parquet("customers", write_world_parquet(w, folder)).shape == w.customers.shape
    True
    """
    if not isinstance(world, World):
        raise ParameterError(f"world must be a crmlab World, got {type(world).__name__}",
                             fix="pass crmlab.synth.generate_world(...) or crmlab.datasets.load_world()")
    out = _folder(out_dir)
    for name, df in world.tables.items():
        _write(_typed(df, name), out / f"{name}.parquet")
    meta = {**world.meta, "format": "parquet"}
    (out / "world.json").write_text(json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(world.truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    tdir = out / "truth"
    tdir.mkdir(exist_ok=True)
    if world.latent is not None:
        lat = world.latent.copy()
        if "purchase_dropout_date" in lat:
            lat["purchase_dropout_date"] = pd.to_datetime(lat["purchase_dropout_date"]).dt.floor("D")
        _write(lat, tdir / "customers_latent.parquet")
    if world.silo_matches is not None:
        _write(world.silo_matches, tdir / "silo_matches.parquet")
    return out


def load_parquet(table: str, data_dir) -> pd.DataFrame:
    """One table of a Parquet world, with the dtypes of :func:`crmlab.datasets.load`."""
    path = Path(data_dir) / f"{table}.parquet"
    if not path.exists():
        raise DatasetNotFoundError(f"no Parquet table {path}",
                                   fix="write the world with write_world_parquet or `crmlab generate --format parquet`")
    return _typed(pd.read_parquet(path), table)


def load_world_parquet(data_dir) -> World:
    """Every table, truth and meta data of a world written by :func:`write_world_parquet`."""
    d = Path(data_dir)
    meta = json.loads((d / "world.json").read_text(encoding="utf-8"))
    tables = {p.stem: load_parquet(p.stem, d) for p in sorted(d.glob("*.parquet"))}
    latent = pd.read_parquet(d / "truth" / "customers_latent.parquet") if (d / "truth" / "customers_latent.parquet").exists() else None
    links = pd.read_parquet(d / "truth" / "silo_matches.parquet") if (d / "truth" / "silo_matches.parquet").exists() else None
    truth = json.loads((d / "truth.json").read_text(encoding="utf-8")) if (d / "truth.json").exists() else {}
    return World(tables=tables, truth=truth, latent=latent, silo_matches=links, meta=meta)


# ------------------------------------------------------------------------------------------
# streaming: customers and transactions block by block
# ------------------------------------------------------------------------------------------
def _stream_block(seed: int, block: int, n: int, id0: int, tx0: int, m0: int, start: pd.Timestamp,
                  bounds: np.ndarray, p: WorldParams) -> dict[str, pd.DataFrame]:
    """Customers ``id0 + 1 .. id0 + n``, their purchases and memberships, and their latent truth."""
    rng = np.random.default_rng([seed, zlib.crc32(b"crmlab-parquet-stream"), block])
    cp, pp, gg = p.customers, p.purchase, p.spend
    window_days = float(bounds[-1])
    legacy = rng.random(n) < cp.share_legacy
    v = rng.random(n)
    gr = cp.signup_growth
    u = v if gr == 0 else (-1 + np.sqrt(1 + 2 * gr * (1 + gr / 2) * v)) / gr
    day = np.where(legacy, -1 - np.floor(rng.random(n) * -bounds[0]), np.floor(u * window_days))
    day = np.sort(day)  # customer ids follow sign-up order inside a block
    is_b2b = rng.random(n) < cp.share_b2b
    seg = rng.choice(len(cp.segment_shares), n, p=cp.segment_shares)
    share = np.array([b[4] for b in BRANCHES])
    branch = rng.choice(len(BRANCHES), n, p=share / share.sum())
    ch_c, ch_b = list(cp.b2c_channels), list(cp.b2b_channels)
    c_idx = rng.choice(len(ch_c), n, p=np.array([cp.b2c_channels[c][0] for c in ch_c]) / sum(
        cp.b2c_channels[c][0] for c in ch_c))
    b_idx = rng.choice(len(ch_b), n, p=np.array([cp.b2b_channels[c][0] for c in ch_b]) / sum(
        cp.b2b_channels[c][0] for c in ch_b))
    channel = np.where(is_b2b, _labels(ch_b)[b_idx], _labels(ch_c)[c_idx])
    mean_cost = np.where(is_b2b, np.array([cp.b2b_channels[c][1] for c in ch_b])[b_idx],
                         np.array([cp.b2c_channels[c][1] for c in ch_c])[c_idx])
    ids = id0 + 1 + np.arange(n, dtype=np.int64)
    customers = pd.DataFrame({
        "customer_id": ids,
        "branch_id": _labels([b[0] for b in BRANCHES])[branch],
        "signup_date": start + pd.to_timedelta(day.astype("int64"), unit="D"),
        "customer_type": np.where(is_b2b, "B2B", "B2C").astype(object),
        "acquisition_channel": channel,
        "acquisition_cost": np.round(rng.gamma(4.0, mean_cost / 4.0), 2),
    })
    # purchases of the B2C customers: BG/NBD + Gamma-Gamma as _Generator.purchases, with the
    # drop-out probability drawn from its Beta marginal (no satisfaction table to couple it to)
    b2c = np.flatnonzero(~is_b2b)
    m = len(b2c)
    lam = rng.gamma(pp.r, 1 / pp.alpha, m)
    pdrop = np.clip(rng.beta(pp.a, pp.b, m), 1e-12, 1 - 1e-12)
    nu = rng.gamma(gg.q, 1 / gg.gamma, m)
    J = rng.geometric(pdrop)
    signup = day[b2c]
    T = (window_days - signup) / 7.0
    N = rng.poisson(lam * T)
    x = np.minimum(J, N)
    t_rep, owner, _ = _repeat_times(rng, x, N, T)
    own_all = np.concatenate([np.arange(m), owner])
    day_all = signup[own_all] + np.concatenate([np.zeros(m), t_rep]) * 7.0
    keep = day_all >= 0  # legacy customers' purchases before the window are not in the log
    own_all, day_all = own_all[keep], day_all[keep]
    amount = np.maximum(np.round(rng.gamma(gg.p, 1 / nu[own_all]), 2), 0.01)
    s = seg[b2c][own_all]
    chan = _pick(rng, s, pp.channel_probs)
    cat = _pick(rng, s, pp.category_probs)
    disc = rng.random(len(s)) < np.asarray(pp.discount_probs)[s]
    margin = np.array([c[2] for c in CATEGORIES])[cat]
    day_i = np.floor(day_all).astype(np.int64)
    cust_id = ids[b2c][own_all]
    order = np.lexsort((cust_id, day_i))
    tx = pd.DataFrame({
        "transaction_id": tx0 + 1 + np.arange(len(order), dtype=np.int64),
        "customer_id": cust_id[order],
        "date": start + pd.to_timedelta(day_i[order], unit="D"),
        "amount": amount[order],
        "gross_margin": np.round(amount[order] * margin[order], 2),
        "channel": _labels(CHANNELS)[chan[order]],
        "category": _labels([c[0] for c in CATEGORIES])[cat[order]],
        "discount_used": disc[order],
    })
    # memberships: Cox-Weibull spells from sign-up with the world's static effects (latent
    # satisfaction, plan, loyalty programme); the time-varying ones (complaints, CRM go-live,
    # the campaign) need the monthly simulation and are left out of the stream
    ch = p.churn
    loyal = ~is_b2b & (rng.random(n) < np.asarray(cp.loyalty_member_rate)[seg])
    member = ~is_b2b & (rng.random(n) < ch.membership_rate)
    plan = _pick(rng, seg, ch.plan_probs)
    sat = rng.standard_normal(n)
    beta = ch.log_hr
    eta = (beta["satisfaction"] * sat + beta["plan_plus"] * (plan == 1) + beta["plan_premium"] * (plan == 2)
           + beta["loyalty_member"] * loyal)
    tenure = ch.weibull_scale_months * (rng.exponential(size=n) / np.exp(eta)) ** (1 / ch.weibull_shape)
    end_day = day + tenure * 30.4375
    # spells active at or after the window start, as in the world's memberships table
    keep = member & (end_day >= 0)
    ended = keep & (end_day < window_days)
    k = np.flatnonzero(keep)
    end_date = pd.Series(start + pd.to_timedelta(np.floor(np.where(ended, end_day, 0)).astype("int64"), unit="D"))
    memberships = pd.DataFrame({
        "membership_id": m0 + 1 + np.arange(len(k), dtype=np.int64),
        "customer_id": ids[k],
        "plan": _labels(["basic", "plus", "premium"])[plan[k]],
        "monthly_fee": np.asarray(ch.plan_fees)[plan[k]],
        "start_date": customers["signup_date"].to_numpy()[k],
        "end_date": end_date.where(ended).to_numpy()[k],
        "churned": ended[k],
    })
    customers["loyalty_member"] = loyal
    latent = pd.DataFrame({"customer_id": ids, "satisfaction": sat, "membership_tenure_months": tenure})
    return {"customers": customers, "transactions": tx, "memberships": memberships, "customers_latent": latent}


def stream_transactions_parquet(out_dir, *, seed: int, n_customers: int | None = None,
                                n_transactions: int | None = None, months: int = 36, start: str = "2023-01-01",
                                params: WorldParams | None = None, progress: bool = False) -> dict:
    """Write the customers, transactions and memberships of a large world, block by block.

    Customers are drawn in blocks of :data:`STREAM_BLOCK` with the world's customer and
    purchase models (sign-up timing with legacy customers and growth, B2B share, segments,
    branches, acquisition channels, loyalty programme; BG/NBD purchases and Gamma-Gamma
    spend, channel, category and discount by segment) and membership spells (Cox hazard
    with the Weibull baseline and the static effects of ``ChurnParams``: latent
    satisfaction, plan, loyalty programme; the time-varying complaint, go-live and campaign
    effects are not simulated). Each block is appended to ``customers.parquet``,
    ``transactions.parquet``, ``memberships.parquet`` and ``truth/customers_latent.parquet``
    (latent satisfaction, uncensored membership tenure) as one Parquet row group: memory
    holds one block, whatever the size of the log. Give either
    ``n_customers`` or ``n_transactions`` (blocks are added until the log has at least that
    many rows).

    This is **its own deterministic random stream**, not the in-memory generator's: block
    ``k`` draws from ``numpy.random.default_rng([seed, crc32("crmlab-parquet-stream"), k])``,
    so the same seed and arguments give the same files, but not the rows of
    ``generate_world(seed)`` (which draws every customer at once and couples drop-out to
    latent satisfaction; here drop-out is drawn from its Beta marginal). Customer ids follow
    sign-up order within a block; transaction ids run in (block, date, customer) order.
    Returns the meta data also written to ``world.json``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     meta = stream_transactions_parquet(folder, seed=1, n_customers=2_000, months=12)
    >>> meta["rows"]["customers"], meta["mode"]
    (2000, 'stream')
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if (n_customers is None) == (n_transactions is None):
        raise ParameterError("give exactly one of n_customers and n_transactions",
                             fix="e.g. n_transactions=100_000_000 for a 100M-row log")
    limit = check_count(n_customers if n_customers is not None else n_transactions,
                        "n_customers" if n_customers is not None else "n_transactions", 1, 10_000_000_000)
    start_ts = _check_args(seed, 200, months, start)
    p = params if params is not None else WorldParams()
    _check_params(p)
    bounds_ts, bounds = _month_bounds(start_ts, months, p.customers.legacy_months)
    out = _folder(out_dir)
    writers: dict[str, pq.ParquetWriter] = {}
    (out / "truth").mkdir(exist_ok=True)
    n_cust = n_tx = n_mem = block = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=limit, desc="stream", unit=" customers" if n_customers is not None else " rows")
    try:
        while (n_cust < limit) if n_customers is not None else (n_tx < limit):
            n = min(STREAM_BLOCK, limit - n_cust) if n_customers is not None else STREAM_BLOCK
            parts = _stream_block(int(seed), block, n, n_cust, n_tx, n_mem, start_ts, bounds, p)
            for name, df in parts.items():
                table = pa.Table.from_pandas(df, preserve_index=False)
                if name not in writers:
                    path = out / ("truth" if name == "customers_latent" else "") / f"{name}.parquet"
                    writers[name] = pq.ParquetWriter(str(path), table.schema,
                                                     coerce_timestamps="us", allow_truncated_timestamps=False)
                writers[name].write_table(table)
            cust, tx = parts["customers"], parts["transactions"]
            n_cust += len(cust)
            n_tx += len(tx)
            n_mem += len(parts["memberships"])
            block += 1
            if bar is not None:
                bar.update(len(cust) if n_customers is not None else len(tx))
    finally:
        for w in writers.values():
            w.close()
        if bar is not None:
            bar.close()
    meta = {"seed": int(seed), "n_customers": n_cust, "months": int(months), "mode": "stream",
            "stream": "crmlab.synth.parquet.stream_transactions_parquet v1 (its own random stream)",
            "window_start": str(start_ts.date()), "window_end": str(bounds_ts[-1].date()),
            "observation_end": str((bounds_ts[-1] - pd.Timedelta(days=1)).date()),
            "rows": {"customers": n_cust, "transactions": n_tx, "memberships": n_mem}, "synthetic": True,
            "format": "parquet"}
    (out / "world.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return meta


def generate_world_parquet(out_dir, *, seed: int, n_customers: int = 5000, months: int = 36,
                           start: str = "2023-01-01", params: WorldParams | None = None, mode: str = "auto",
                           progress: bool = False) -> dict:
    """``crmlab generate --format parquet``: the whole world in memory, or the large logs streamed.

    ``mode="memory"`` generates the world with :func:`crmlab.synth.generate_world` and writes
    every table (equal to the CSV world of the same seed); ``"stream"`` writes customers,
    transactions and memberships with :func:`stream_transactions_parquet` (its own random stream);
    ``"auto"`` streams above 2 million customers (a 1M-customer world takes about 4 GB in
    memory). Returns the world's meta data.
    """
    from ..validation import check_option
    from .generate import generate_world

    check_option(mode, "mode", ["auto", "memory", "stream"])
    if mode == "stream" or (mode == "auto" and n_customers > 2_000_000):
        return stream_transactions_parquet(out_dir, seed=seed, n_customers=n_customers, months=months, start=start,
                                           params=params, progress=progress)
    world = generate_world(seed=seed, n_customers=n_customers, months=months, start=start, params=params,
                           progress=progress)
    write_world_parquet(world, out_dir)
    return {**world.meta, "format": "parquet"}
