"""``generate_world``: one seeded, causally linked synthetic company world.

The company is a fictional omnichannel retailer with a B2B distribution arm and 12
regional branches. One call returns every table plus ``truth``, the parameters the
generator planted, so that every estimate in the course can be checked.

Causal chain (all vectorised; the only Python loop runs over calendar months):

* expectations and six satisfaction drivers -> perceived quality -> perceived value
  -> satisfaction -> complaints intent -> loyalty (ACSI/ECSI form, SatisfactionParams);
  faster ticket responses (service experience) raise the service-efficiency driver;
* satisfaction -> survey answers, CSAT, effort and likelihood to recommend (NPS);
* satisfaction -> purchase dropout p (Gaussian copula, p stays Beta(a, b)); purchases
  follow BG/NBD and spend follows Gamma-Gamma (PurchaseParams, SpendParams);
* satisfaction -> complaint tickets; satisfaction, recent complaints, plan, loyalty
  programme, CRM go-live and the retention campaign -> membership churn hazard
  (Cox form, Weibull baseline; ChurnParams, CampaignParams);
* CRM go-live -> faster responses -> service satisfaction, and lower churn -> branch
  retention KPIs (difference-in-differences target);
* B2B supply-chain performance -> account satisfaction -> share of wallet and attrition;
* the sales, service and web systems each hold a mangled copy of the customers.
"""

from __future__ import annotations

import math
import zlib
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from .. import __version__
from ..errors import ParameterError
from ..validation import check_scalar
from . import names as nm
from .params import BRANCHES, CATEGORIES, CHANNELS, SEGMENTS, WorldParams, _check_params
from .world import World

__all__ = ["generate_world", "DEFAULT_SEED", "MONTH_DAYS", "acsi_structure", "SURVEY_ITEMS"]

DEFAULT_SEED = 2024
MONTH_DAYS = 30.4375  # one tenure month, in days
EXTRA_MONTHS = 120  # membership spells are followed this long past the window, for truth only
START_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-01"))  # allowed first days of the window
TICKET_CHANNELS = ("phone", "online_chat", "email", "app")
LATENTS = ("EXP", "product", "attitude", "efficiency", "purchase", "price", "emotion",
           "PQ", "PV", "SAT", "COMP", "LOY")
EXOGENOUS = LATENTS[:7]
DRIVERS = EXOGENOUS[1:]

# Survey items: name -> (latent weights, low, high, mean, sd, loading, reverse-keyed)
# Standardised loading = correlation of the item's continuous response with its latent.
SURVEY_ITEMS: dict[str, tuple[dict[str, float], int, int, float, float, float, bool]] = {
    # ACSI block, 1-10 scale
    "exp_overall": ({"EXP": 1}, 1, 10, 7.0, 1.6, 0.80, False),
    "exp_customization": ({"EXP": 1}, 1, 10, 6.8, 1.7, 0.75, False),
    "exp_reliability": ({"EXP": 1}, 1, 10, 7.1, 1.6, 0.78, False),
    "pq_overall": ({"PQ": 1}, 1, 10, 7.2, 1.6, 0.88, False),
    "pq_customization": ({"PQ": 1}, 1, 10, 6.9, 1.7, 0.80, False),
    "pq_reliability": ({"PQ": 1}, 1, 10, 7.1, 1.6, 0.84, False),
    "pv_price_given_quality": ({"PV": 1}, 1, 10, 6.6, 1.8, 0.85, False),
    "pv_quality_given_price": ({"PV": 1}, 1, 10, 6.8, 1.7, 0.82, False),
    "sat_overall": ({"SAT": 1}, 1, 10, 7.1, 1.7, 0.90, False),
    "sat_confirm_expectations": ({"SAT": 1}, 1, 10, 6.8, 1.7, 0.82, False),
    "sat_vs_ideal": ({"SAT": 1}, 1, 10, 6.5, 1.8, 0.85, False),
    "comp_voiced": ({"COMP": 1}, 1, 10, 3.5, 2.0, 0.80, False),
    "comp_problems": ({"COMP": 1}, 1, 10, 3.8, 2.0, 0.70, False),
    "loy_repurchase": ({"LOY": 1}, 1, 10, 7.3, 1.8, 0.85, False),
    "loy_price_tolerance": ({"LOY": 1}, 1, 10, 5.8, 2.0, 0.70, False),
    "recommend_0_10": ({"LOY": 1}, 0, 10, 7.6, 2.0, 0.85, False),
    # touchpoint / driver block, 1-5 Likert
    "q_product_quality": ({"product": 1}, 1, 5, 3.7, 0.9, 0.85, False),
    "q_product_reliability": ({"product": 1}, 1, 5, 3.6, 0.9, 0.80, False),
    "q_staff_attitude": ({"attitude": 1}, 1, 5, 3.8, 0.9, 0.85, False),
    "q_staff_courtesy": ({"attitude": 1}, 1, 5, 3.9, 0.9, 0.80, False),
    "q_service_efficiency": ({"efficiency": 1}, 1, 5, 3.5, 0.9, 0.85, False),
    "q_response_speed": ({"efficiency": 1}, 1, 5, 3.4, 1.0, 0.82, False),
    "q_wait_too_long": ({"efficiency": 1}, 1, 5, 2.5, 1.0, 0.75, True),
    "q_service_quality": ({"attitude": 0.45, "efficiency": 0.45}, 1, 5, 3.7, 0.9, 0.0, False),
    "q_purchase_experience": ({"purchase": 1}, 1, 5, 3.8, 0.9, 0.85, False),
    "q_checkout_ease": ({"purchase": 1}, 1, 5, 3.9, 0.9, 0.78, False),
    "q_hard_to_find": ({"purchase": 1}, 1, 5, 2.4, 1.0, 0.70, True),
    "q_price_fairness": ({"price": 1}, 1, 5, 3.3, 1.0, 0.85, False),
    "q_price_competitive": ({"price": 1}, 1, 5, 3.2, 1.0, 0.75, False),
    "q_trust": ({"emotion": 1}, 1, 5, 3.7, 0.9, 0.80, False),
    "q_emotional_connection": ({"emotion": 1}, 1, 5, 3.2, 1.0, 0.85, False),
    "q_positive_feelings": ({"emotion": 1}, 1, 5, 3.6, 0.9, 0.80, False),
    # single headline items
    "csat_1_5": ({"SAT": 1}, 1, 5, 3.9, 0.9, 0.85, False),
    "effort_1_7": ({"efficiency": -0.5, "purchase": -0.5}, 1, 7, 3.0, 1.3, 0.0, False),
}
# loading 0.0 above = the weights define the item (cross-loading); noise makes its
# variance 1 with CROSS_ITEM_R2 of it explained by the latents.
CROSS_ITEM_R2 = 0.55


def _rng(seed: int, part: str) -> np.random.Generator:
    """An independent stream per component, so changing one part leaves the others alone."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def _zfill(a: np.ndarray, width: int) -> np.ndarray:
    """np.strings.zfill that also takes an empty array (numpy 2.4 raises on one)."""
    return np.strings.zfill(a, width) if len(a) else np.asarray(a, dtype=(np.str_, width))


def _mean(x) -> float:
    """Mean of an array; NaN (null in truth.json) for an empty one, without a warning."""
    return float(np.mean(x)) if len(x) else math.nan


def _logistic(x):
    return special.expit(x)


def _labels(values) -> np.ndarray:
    """Object array of labels: indexing it shares one str object per label (cheap for pandas)."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr


def _pick(rng: np.random.Generator, group: np.ndarray, probs) -> np.ndarray:
    """One category index per row, drawn from ``probs[group[row]]`` (no n x k matrix)."""
    probs = np.asarray(probs, dtype=float)
    out = np.zeros(len(group), dtype=np.int64)
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        out[idx] = rng.choice(probs.shape[1], len(idx), p=probs[g] / probs[g].sum())
    return out


def _month_bounds(start_ts: pd.Timestamp, months: int, legacy_months: int):
    """Month starts from ``legacy_months`` before ``start_ts`` to the window end (timestamps, days from start)."""
    bounds_ts = pd.date_range(start_ts - pd.DateOffset(months=legacy_months), periods=legacy_months + months + 1,
                              freq="MS")
    return bounds_ts, ((bounds_ts - start_ts) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _repeat_times(rng: np.random.Generator, x: np.ndarray, N: np.ndarray, T: np.ndarray):
    """The first ``x`` of ``N`` Poisson event times on [0, T] of each customer (BG/NBD repeat purchases).

    Sorted uniforms are cumulative Exp(1) spacings over their total S_{N+1}. Returns the times
    (customer by customer, in order), the customer of each time and where each customer's run starts.
    """
    m = len(x)
    tot = int(x.sum())
    owner = np.repeat(np.arange(m), x)
    cs = np.cumsum(rng.exponential(size=tot))
    starts = np.concatenate([[0], np.cumsum(x)[:-1]])
    has = x > 0
    before = np.zeros(m)  # cumulative sum before each customer's block
    before[has & (starts > 0)] = cs[starts[has & (starts > 0)] - 1]
    s_k = cs - np.repeat(before, x)
    s_x = np.zeros(m)
    s_x[has] = cs[starts[has] + x[has] - 1] - before[has]
    total = s_x + rng.gamma(N - x + 1.0)
    return T[owner] * s_k / total[owner], owner, starts


# ------------------------------------------------------------------------------------
# ACSI structure
# ------------------------------------------------------------------------------------
def acsi_structure(params: WorldParams | None = None) -> dict:
    """Coefficient matrix, residual SDs and implied covariance of the latent model.

    Returns ``{"names", "B", "exo_cov", "resid_sd", "cov", "total_effects"}`` where
    ``latent = B @ latent + residual`` (B strictly lower-triangular in LATENTS order)
    and every latent has variance 1.
    """
    p = (params or WorldParams()).satisfaction
    k = len(LATENTS)
    idx = {n: i for i, n in enumerate(LATENTS)}
    B = np.zeros((k, k))
    for key, value in p.paths.items():
        src, dst = key.split("->")
        if src not in idx or dst not in idx or idx[src] >= idx[dst]:
            raise ParameterError(f"satisfaction path {key!r} is not allowed",
                                 fix=f"paths must run forward through {LATENTS}")
        B[idx[dst], idx[src]] = value
    # exogenous covariance: EXP independent; drivers equicorrelated, efficiency partly
    # made of service experience (independent of the other drivers' common part)
    nd = len(DRIVERS)
    rho = p.driver_corr
    xi = np.full((nd, nd), rho) + (1 - rho) * np.eye(nd)
    scale = np.ones(nd)
    scale[DRIVERS.index("efficiency")] = np.sqrt(1 - p.service_experience_loading ** 2)
    drv = xi * np.outer(scale, scale)
    np.fill_diagonal(drv, 1.0)
    exo = np.eye(len(EXOGENOUS))
    exo[1:, 1:] = drv
    # propagate: Cov = (I-B)^-1 Psi (I-B)^-T, choosing Psi's endogenous diagonal so diag(Cov)=1
    psi = np.zeros((k, k))
    psi[:7, :7] = exo
    inv = np.linalg.inv(np.eye(k) - B)
    resid_sd = np.zeros(k)
    for j in range(7, k):  # recursive: each equation only uses earlier latents
        cov = inv @ psi @ inv.T
        explained = cov[j, j]
        if explained >= 1:
            raise ParameterError(
                f"satisfaction paths into {LATENTS[j]} explain {explained:.2f} > 1 of its variance",
                fix="shrink the standardised paths into that latent")
        psi[j, j] = 1 - explained
        resid_sd[j] = np.sqrt(1 - explained)
    cov = inv @ psi @ inv.T
    total = inv - np.eye(k)  # total effect of column on row
    return {"names": LATENTS, "B": B, "exo_cov": exo, "resid_sd": resid_sd, "cov": cov,
            "total_effects": total}


def _endogenous(exo: np.ndarray, zeta: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Fill the endogenous columns of ``exo`` (n x 12) in order."""
    lat = exo.copy()
    for j in range(7, len(LATENTS)):
        lat[:, j] = lat[:, :j] @ B[j, :j] + zeta[:, j]
    return lat


# ------------------------------------------------------------------------------------
# main entry point
# ------------------------------------------------------------------------------------
@dataclass
class _Calendar:
    start: pd.Timestamp
    end: pd.Timestamp
    months: int
    legacy_months: int
    bounds: np.ndarray  # day offsets (from start) of month starts, index m + legacy_months

    def month_index(self, day: np.ndarray) -> np.ndarray:
        """Calendar month (relative to start, may be negative) containing each day offset."""
        return np.searchsorted(self.bounds, day, side="right") - 1 - self.legacy_months

    def day_of_month_start(self, m: int) -> float:
        return float(self.bounds[m + self.legacy_months])

    def dates(self, day: np.ndarray) -> np.ndarray:
        return (self.start + pd.to_timedelta(np.floor(day).astype("int64"), unit="D")).to_numpy()


def _check_args(seed, n_customers, months, start) -> pd.Timestamp:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}",
                             fix="pass e.g. seed=2024 (the default world's seed)")
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)):
        raise ParameterError(f"n_customers must be an integer, got {n_customers!r}",
                             fix="pass e.g. n_customers=5000")
    check_scalar(int(n_customers), "n_customers", int, 200, 20_000_000)
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)):
        raise ParameterError(f"months must be an integer, got {months!r}", fix="pass e.g. months=36")
    check_scalar(int(months), "months", int, 12, 240)
    if isinstance(start, (bool, np.bool_, int, float, np.number)):  # pd.Timestamp(20230101) is in 1970
        raise ParameterError(f"start must be a date like '2023-01-01', got {start!r} ({type(start).__name__})",
                             fix="pass an ISO date string for the first day of a month")
    try:
        ts = pd.Timestamp(start)
    except (ValueError, TypeError, OverflowError):
        raise ParameterError(f"start must be a date like '2023-01-01', got {start!r}",
                             fix="pass an ISO date string for the first day of a month") from None
    if pd.isna(ts):
        raise ParameterError("start is missing (NaT)", fix="pass e.g. start='2023-01-01'")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    if not START_RANGE[0] <= ts <= START_RANGE[1]:
        # the generator works in nanosecond timestamps (years 1677-2262), sign-ups reach two
        # years back and membership truth ten years past the window
        raise ParameterError(f"start must lie between {START_RANGE[0].date()} and {START_RANGE[1].date()}, "
                             f"got {ts.date()}", fix="pass a start date in that range, e.g. '2023-01-01'")
    if ts.day != 1 or ts != ts.normalize():
        raise ParameterError(f"start must be the first day of a month, got {ts.date()}",
                             fix=f"use {ts.replace(day=1).date()}")
    return ts


def generate_world(
    seed: int = DEFAULT_SEED,
    n_customers: int = 5000,
    months: int = 36,
    start: str = "2023-01-01",
    params: WorldParams | None = None,
    progress: bool = False,
) -> World:
    """Generate the synthetic company world.

    Parameters
    ----------
    seed : int
        Seed of every random stream; the same seed gives byte-identical tables.
    n_customers : int
        Number of customers (B2C and B2B), 200 to 20 million.
    months : int
        Length of the observation window in months (12 to 240).
    start : str
        First day of the window: the first day of a month between 1900-01-01 and 2100-12-01.
    params : WorldParams, optional
        Planted parameters; defaults to ``WorldParams()``.
    progress : bool
        Show a tqdm progress bar (useful for large worlds).

    Returns
    -------
    World
        Tables as attributes (``world.customers`` ...), ``world.truth`` (planted
        parameters and implied quantities), ``world.latent`` (per-customer latent
        truth) and ``world.silo_matches`` (true record links).

    Examples
    --------
    >>> from crmlab.synth import generate_world
    >>> w = generate_world(seed=1, n_customers=500, months=24)
    >>> sorted(w.tables)[:3]
    ['b2b_accounts', 'branch_kpis', 'branches']
    """
    start_ts = _check_args(seed, n_customers, months, start)
    p = params if params is not None else WorldParams()
    _check_params(p)
    seed, n, months = int(seed), int(n_customers), int(months)
    n_b2b = int(round(n * p.customers.share_b2b))
    # the B2B panel and the supply-chain truth need accounts, the B2C tables need consumers
    if n_b2b < 10 or n - n_b2b < 100:
        raise ParameterError(
            f"customers.share_b2b={p.customers.share_b2b} with n_customers={n} gives {n_b2b} B2B "
            f"and {n - n_b2b} B2C customers; the world needs at least 10 and 100",
            fix="raise n_customers or choose share_b2b so that both groups are that large")
    L = p.customers.legacy_months
    bounds_ts, bounds = _month_bounds(start_ts, months, L)
    cal = _Calendar(start_ts, bounds_ts[-1], months, L, bounds)

    steps = ["customers", "satisfaction", "purchases", "b2b panel", "monthly simulation",
             "tickets", "survey", "campaign", "silo extracts", "kpis"]
    if progress:
        from tqdm.auto import tqdm
        bar_ctx = tqdm(total=len(steps), desc="generate_world", unit="step")
    else:
        bar_ctx = nullcontext()
    with bar_ctx as bar:
        def done(step):
            if bar is not None:
                bar.set_postfix_str(step)
                bar.update(1)

        g = _Generator(seed, n, cal, p)
        # order matters: each step reads what the previous ones drew
        steps = [("customers", g.customers), ("satisfaction", g.satisfaction),
                 ("purchases", g.purchases), ("b2b panel", g.b2b_panel),
                 ("monthly simulation", g.monthly), ("tickets", g.tickets_table),
                 ("survey", g.survey), ("campaign", g.campaign_table),
                 ("silo extracts", g.silos), ("kpis", g.kpis)]
        for name, step in steps:
            step()
            done(name)
    return g.world()


class _Generator:
    """Holds the state of one generation run (internal)."""

    def __init__(self, seed: int, n: int, cal: _Calendar, p: WorldParams):
        self.seed, self.n, self.cal, self.p = seed, n, cal, p
        self.window_days = float(cal.bounds[-1])
        self.tables: dict[str, pd.DataFrame] = {}
        self.truth: dict = {}

    # -- customers ---------------------------------------------------------------
    def customers(self):
        rng = _rng(self.seed, "customers")
        n, p, cal = self.n, self.p.customers, self.cal
        legacy = rng.random(n) < p.share_legacy
        legacy_days = -cal.bounds[0]
        # sign-up intensity grows linearly over the window: invert its CDF
        v = rng.random(n)
        gr = p.signup_growth
        u = v if gr == 0 else (-1 + np.sqrt(1 + 2 * gr * (1 + gr / 2) * v)) / gr
        day = np.where(legacy, -1 - np.floor(rng.random(n) * legacy_days), np.floor(u * self.window_days))
        order = np.lexsort((rng.random(n), day))  # customer_id follows sign-up order
        day = day[order]
        legacy = legacy[order]
        is_b2b = np.zeros(n, dtype=bool)
        is_b2b[rng.choice(n, int(round(n * p.share_b2b)), replace=False)] = True
        seg = np.where(is_b2b, -1, rng.choice(len(SEGMENTS), n, p=p.segment_shares))
        br_share = np.array([b[4] for b in BRANCHES])
        branch = rng.choice(len(BRANCHES), n, p=br_share / br_share.sum())

        ch_b2c = list(p.b2c_channels)
        ch_b2b = list(p.b2b_channels)
        sh_c = np.array([p.b2c_channels[c][0] for c in ch_b2c])
        sh_b = np.array([p.b2b_channels[c][0] for c in ch_b2b])
        c_idx = rng.choice(len(ch_b2c), n, p=sh_c / sh_c.sum())
        b_idx = rng.choice(len(ch_b2b), n, p=sh_b / sh_b.sum())
        channel = np.where(is_b2b, _labels(ch_b2b)[b_idx], _labels(ch_b2c)[c_idx])
        mean_cost = np.where(is_b2b, np.array([p.b2b_channels[c][1] for c in ch_b2b])[b_idx],
                             np.array([p.b2c_channels[c][1] for c in ch_b2c])[c_idx])
        acq_cost = np.round(rng.gamma(4.0, mean_cost / 4.0), 2)

        size = np.where(is_b2b, _labels(["large", "medium", "small"])[
            rng.choice(3, n, p=p.b2b_size_shares)], None)
        industry = np.where(is_b2b, _labels(p.b2b_industries)[rng.integers(0, len(p.b2b_industries), n)], None)
        opt_in = _labels(["explicit", "implicit", "none"])[rng.choice(3, n, p=p.email_opt_in_shares)]
        seg0 = np.maximum(seg, 0)
        loyal = ~is_b2b & (rng.random(n) < np.asarray(p.loyalty_member_rate)[seg0])
        community = ~is_b2b & (rng.random(n) < np.asarray(p.community_member_rate)[seg0])
        people = nm.make_people(rng, n)
        # B2B accounts are companies, named after their branch city and a number
        b2b_i = np.flatnonzero(is_b2b)
        company = np.empty(n, dtype=object)
        company[b2b_i] = np.strings.add(np.strings.add(
            np.asarray([b[1] for b in BRANCHES])[branch[b2b_i]],
            _zfill((b2b_i + 1).astype(str), 6)), "号企业").astype(object)
        self.c = {
            "day": day, "legacy": legacy, "is_b2b": is_b2b, "seg": seg, "branch": branch,
            "channel": channel, "acq_cost": acq_cost, "size": size, "industry": industry,
            "opt_in": opt_in, "loyal": loyal, "community": community, "people": people,
            "company": company,
        }

    # -- latent satisfaction (B2C) ------------------------------------------------------
    def satisfaction(self):
        rng = _rng(self.seed, "satisfaction")
        n, sp, sv = self.n, self.p.satisfaction, self.p.service
        st = acsi_structure(self.p)
        self.acsi = st
        # service experience: branch and customer effects on log response time
        br_eff = rng.normal(0, sv.branch_sd, len(BRANCHES))
        share = np.array([b[4] for b in BRANCHES])
        br_eff -= br_eff @ share / share.sum()  # centre, so service experience has mean 0
        cust_eff = rng.normal(0, sv.customer_sd, n)
        se_sd = np.sqrt(sv.branch_sd ** 2 + sv.customer_sd ** 2)
        service_exp = -(br_eff[self.c["branch"]] + cust_eff) / se_sd
        # exogenous latents
        nd = len(DRIVERS)
        xi_cov = np.full((nd, nd), sp.driver_corr) + (1 - sp.driver_corr) * np.eye(nd)
        xi = rng.standard_normal((n, nd)) @ np.linalg.cholesky(xi_cov).T
        exo = np.zeros((n, len(LATENTS)))
        exo[:, 0] = rng.standard_normal(n)
        exo[:, 1:7] = xi
        l_se = sp.service_experience_loading
        e = 1 + DRIVERS.index("efficiency")
        exo[:, e] = l_se * service_exp + np.sqrt(1 - l_se ** 2) * xi[:, e - 1]
        zeta = rng.standard_normal((n, len(LATENTS))) * st["resid_sd"]
        lat = _endogenous(exo, zeta, st["B"])
        self.s = {"br_eff": br_eff, "cust_eff": cust_eff, "se_sd": se_sd, "service_exp": service_exp,
                  "exo": exo, "zeta": zeta, "lat": lat, "l_se": l_se}
        self.sat = lat[:, LATENTS.index("SAT")]

    # -- purchases (BG/NBD + Gamma-Gamma), B2C only -----------------------------------
    def purchases(self):
        rng = _rng(self.seed, "purchases")
        pp, gg = self.p.purchase, self.p.spend
        c = self.c
        b2c = np.flatnonzero(~c["is_b2b"])
        m = len(b2c)
        lam = rng.gamma(pp.r, 1 / pp.alpha, m)  # per week
        rho = pp.dropout_satisfaction_rho
        z = rho * self.sat[b2c] + np.sqrt(1 - rho ** 2) * rng.standard_normal(m)
        pdrop = stats.beta.ppf(stats.norm.cdf(z), pp.a, pp.b)
        pdrop = np.clip(pdrop, 1e-12, 1 - 1e-12)
        nu = rng.gamma(gg.q, 1 / gg.gamma, m)
        J = rng.geometric(pdrop)  # dropout after the J-th repeat purchase
        signup = c["day"][b2c]
        T = (self.window_days - signup) / 7.0  # weeks from sign-up to window end
        N = rng.poisson(lam * T)  # repeat purchases if nobody ever dropped out
        x = np.minimum(J, N)
        t_rep, owner, starts = _repeat_times(rng, x, N, T)  # weeks after sign-up
        has = x > 0
        died = J <= N
        death = np.full(m, np.inf)
        last = np.zeros(m)
        last[has] = t_rep[starts[has] + x[has] - 1]
        death[died] = last[died]
        not_yet = ~died
        death[not_yet] = T[not_yet] + rng.gamma(J[not_yet] - N[not_yet], 1 / lam[not_yet])
        # all purchases: first at sign-up (t=0), then the repeats
        own_all = np.concatenate([np.arange(m), owner])
        t_all = np.concatenate([np.zeros(m), t_rep])
        day_all = signup[own_all] + t_all * 7.0
        keep = day_all >= 0  # legacy customers' pre-window purchases are not recorded
        own_all, day_all = own_all[keep], day_all[keep]
        amount = rng.gamma(gg.p, 1 / nu[own_all])
        amount = np.maximum(np.round(amount, 2), 0.01)
        seg = c["seg"][b2c][own_all]
        chan = _pick(rng, seg, pp.channel_probs)
        cat = _pick(rng, seg, pp.category_probs)
        disc = rng.random(len(seg)) < np.asarray(pp.discount_probs)[seg]
        margin = np.array([cg[2] for cg in CATEGORIES])[cat]
        day_i = np.floor(day_all).astype(int)
        cust_id = b2c[own_all] + 1
        order = np.lexsort((cust_id, day_i))
        self.tx = pd.DataFrame({
            "transaction_id": np.arange(1, len(order) + 1),
            "customer_id": cust_id[order],
            "date": self.cal.dates(day_i[order]),
            "amount": amount[order],
            "gross_margin": np.round(amount[order] * margin[order], 2),
            "channel": _labels(CHANNELS)[chan[order]],
            "category": _labels([cg[0] for cg in CATEGORIES])[cat[order]],
            "discount_used": disc[order],
        })
        death_day = signup + death * 7.0
        self.pur = {"b2c": b2c, "lam": lam, "p": pdrop, "nu": nu, "J": J,
                    "death_day": death_day, "x_window": x}
        # purchase-alive end (day offset) for every customer: B2B = never purchase-alive
        self.purchase_end = np.full(self.n, -np.inf)
        self.purchase_end[b2c] = death_day

    # -- B2B supply-chain panel --------------------------------------------------------
    def b2b_panel(self):
        rng = _rng(self.seed, "b2b")
        sc, ch = self.p.supply_chain, self.p.churn
        c, cal = self.c, self.cal
        acc = np.flatnonzero(c["is_b2b"])
        k, M = len(acc), cal.months
        size = c["size"][acc]
        size_i = np.select([size == "large", size == "medium"], [0, 1], 2)
        size_eff = np.array([0.3, 0.0, -0.3])[size_i]
        region_of = np.array([b[3] for b in BRANCHES])[c["branch"][acc]]
        regions, reg_i = np.unique(region_of, return_inverse=True)
        shock = rng.standard_normal((len(regions), M))
        shock2 = rng.standard_normal((len(regions), M))
        sh = shock[reg_i]  # k x M
        sh2 = shock2[reg_i]
        noise = lambda: rng.standard_normal((k, M))  # noqa: E731
        on_time = 100 * _logistic(special.logit(0.90) + 0.35 * size_eff[:, None] + 0.25 * sh + 0.35 * noise())
        fill = 100 * _logistic(special.logit(0.95) + 0.30 * size_eff[:, None] + 0.20 * sh + 0.30 * noise())
        lead = np.exp(np.log(5.0) - 0.10 * size_eff[:, None] + 0.10 * sh2 + 0.20 * noise())
        defect = 100 * _logistic(special.logit(0.015) - 0.20 * size_eff[:, None] + 0.30 * noise())
        on_time, fill, lead, defect = (np.round(a, 2) for a in (on_time, fill, lead, defect))
        alpha = sc.base_satisfaction + np.asarray(sc.size_satisfaction)[size_i] + rng.normal(0, sc.account_sd, k)
        sat = (alpha[:, None] + sc.on_time * (on_time - 90) + sc.fill * (fill - 95)
               + sc.lead_time * (lead - 5) + sc.defect * (defect - 1.5)
               + rng.normal(0, sc.noise_sd, (k, M)))
        sat = np.round(np.clip(sat, 0, 100), 1)
        theta = sc.sow_base_logit + rng.normal(0, 0.5, k)
        sow = np.round(_logistic(theta[:, None] + sc.sow_per_sat_point * (sat - sc.base_satisfaction)
                                 + rng.normal(0, 0.25, (k, M))), 4)
        orders = rng.poisson(np.array([20.0, 8.0, 3.0])[size_i][:, None] * np.ones((1, M)))
        value = np.round(orders * rng.gamma(6.0, np.array([5000.0, 3000.0, 1500.0])[size_i][:, None] / 6.0, (k, M)), 2)
        # active months: from sign-up month (or window start) until attrition
        first = np.maximum(cal.month_index(c["day"][acc]), 0)
        hazard = _logistic(ch.b2b_monthly_churn_logit + ch.b2b_churn_satisfaction_logit * (sat - sc.base_satisfaction))
        churn_draw = rng.random((k, M)) < hazard
        months_idx = np.arange(M)[None, :]
        eligible = months_idx >= first[:, None]
        churn_draw &= eligible
        churn_month = np.where(churn_draw.any(1), churn_draw.argmax(1), M)
        active = eligible & (months_idx <= churn_month[:, None])
        ii, mm = np.nonzero(active)
        self.b2b = pd.DataFrame({
            "account_id": acc[ii] + 1,
            "month": cal.start + pd.to_timedelta(cal.bounds[mm + cal.legacy_months], unit="D"),
            "orders": orders[ii, mm],
            "order_value": value[ii, mm],
            "on_time_rate": on_time[ii, mm],
            "fill_rate": fill[ii, mm],
            "lead_time_days": lead[ii, mm],
            "defect_rate": defect[ii, mm],
            "account_satisfaction": sat[ii, mm],
            "share_of_wallet": sow[ii, mm],
            "churned": (mm == churn_month[ii]),
        })
        # end of relationship (day offset): end of churn month, or never
        self.b2b_end = np.full(self.n, -np.inf)
        end_day = np.where(churn_month < M, cal.bounds[np.minimum(churn_month + 1, M) + cal.legacy_months], np.inf)
        self.b2b_end[acc] = end_day

    # -- the monthly loop: memberships, tickets, campaign, go-live -------------------
    def monthly(self):
        rng = _rng(self.seed, "monthly")
        ch, sv, cp = self.p.churn, self.p.service, self.p.campaign
        c, cal, n = self.c, self.cal, self.n
        L, M = cal.legacy_months, cal.months
        b2c = ~c["is_b2b"]
        seg0 = np.maximum(c["seg"], 0)
        # who holds a membership, which plan
        member = b2c & (rng.random(n) < ch.membership_rate)
        plan = _pick(rng, seg0, ch.plan_probs).astype(np.int8)
        beta = ch.log_hr
        eta_static = (beta["satisfaction"] * self.sat + beta["plan_plus"] * (plan == 1)
                      + beta["plan_premium"] * (plan == 2) + beta["loyalty_member"] * c["loyal"])
        k_w, lam_w = ch.weibull_shape, ch.weibull_scale_months
        H0 = lambda t: (np.maximum(t, 0) / lam_w) ** k_w  # noqa: E731
        H0inv = lambda h: lam_w * h ** (1 / k_w)  # noqa: E731
        mem_start = c["day"]  # membership starts at sign-up
        E = rng.exponential(size=n)  # remaining unit-exponential budget of each spell
        mem_end = np.full(n, np.inf)
        mem_alive = member.copy()
        golive_m = self.golive_month_of_branch()[c["branch"]]
        # campaign
        cm = int(np.floor(M * cp.fraction))
        dur = max(1, min(cp.duration_months, M - cm))
        cday = cal.day_of_month_start(cm)
        eligible = np.zeros(n, dtype=bool)
        self.campaign = {"month": cm, "duration": dur, "day": cday}
        treated = np.zeros(n, dtype=bool)
        lam_T = np.zeros(n)
        lam_C = np.zeros(n)
        camp_lhr = np.asarray(cp.log_hr_by_segment)[seg0]
        # latent tickets of every customer from sign-up to the window end (a Poisson
        # process); complaints among them feed the churn hazard, and the tickets are
        # realised (recorded) only while the relationship is active inside the window
        rate = np.where(b2c, sv.b2c_tickets_per_month, sv.b2b_tickets_per_month)
        p_comp = np.where(b2c, _logistic(sv.complaint_logit + sv.complaint_satisfaction_logit * self.sat), 0.25)
        span = self.window_days - c["day"]
        who = np.repeat(np.arange(n), rng.poisson(rate * span / MONTH_DAYS))
        t_day = c["day"][who] + rng.random(len(who)) * span[who]
        is_comp = rng.random(len(who)) < p_comp[who]
        comp_mat = np.zeros((L + M, n), dtype=bool)  # any complaint, by calendar month
        comp_mat[cal.month_index(t_day[is_comp]) + L, who[is_comp]] = True
        p_month_comp = 1 - np.exp(-rate * p_comp)  # beyond the window: P(complaint in a month)
        # go-live counterfactual accumulators per branch x window month
        nb = len(BRANCHES)
        gl_diff = np.zeros((nb, M))
        gl_n = np.zeros((nb, M))
        mstart_active = np.zeros((nb, M))
        mstart_churned = np.zeros((nb, M))
        ext_comp = np.zeros((3, n), dtype=bool)  # rolling complaint flags past the window
        for m in range(-L, M + EXTRA_MONTHS):
            in_window = m < M
            if in_window:
                a_day, b_day = cal.bounds[m + L], cal.bounds[m + L + 1]
            else:
                a_day = cal.bounds[-1] + (m - M) * MONTH_DAYS
                b_day = a_day + MONTH_DAYS
            if m == cm:
                idx = np.flatnonzero(member & mem_alive & (mem_start <= cday - cp.min_tenure_months * MONTH_DAYS))
                eligible[idx] = True
                treated[rng.permutation(idx)[:int(round(len(idx) * cp.treated_share))]] = True
            in_campaign = cm <= m < cm + dur
            mask = mem_alive & (mem_start < b_day)
            if in_campaign:
                mask |= eligible  # the counterfactuals need every eligible spell
            act = np.flatnonzero(mask)
            if len(act) == 0:
                if in_window:
                    continue
                break
            lo = m + L
            if in_window:
                recent = comp_mat[max(lo - 3, 0):lo].any(0)[act]
            else:
                recent = ext_comp.any(0)
                if m - M < 3:  # the last window months still count
                    recent |= comp_mat[max(lo - 3, 0):L + M].any(0)
                recent = recent[act]
            live = m >= golive_m[act]  # past the window, branches stay as they ended
            eta = eta_static[act] + beta["recent_complaint"] * recent + beta["crm_live"] * live
            camp = camp_lhr[act] * treated[act] if in_campaign else 0.0
            ms = mem_start[act]
            ta = (np.maximum(a_day, ms) - ms) / MONTH_DAYS
            tb = (b_day - ms) / MONTH_DAYS
            h0a = H0(ta)
            dH = H0(tb) - h0a
            if in_campaign:
                el = eligible[act]
                base = dH[el] * np.exp(eta[el])  # control-arm hazard along the same path
                lam_C[act[el]] += base
                lam_T[act[el]] += base * np.exp(camp_lhr[act[el]])
            alive = mem_alive[act]
            act, eta, h0a, dH, ms, live = act[alive], eta[alive], h0a[alive], dH[alive], ms[alive], live[alive]
            if in_campaign:
                camp = camp[alive]
            risk = np.exp(eta + camp)
            dL = dH * risk
            e_act = E[act]
            ev = e_act <= dL
            t_ev = H0inv(h0a[ev] + e_act[ev] / risk[ev])
            ev_idx = act[ev]
            mem_end[ev_idx] = ms[ev] + t_ev * MONTH_DAYS
            mem_alive[ev_idx] = False
            E[act[~ev]] = e_act[~ev] - dL[~ev]
            if in_window and m >= 0:
                full = ms <= a_day  # active at the month start
                br = c["branch"][act[full]]
                mstart_active[:, m] = np.bincount(br, minlength=nb)
                mstart_churned[:, m] = np.bincount(br, weights=ev[full], minlength=nb)
                lv = live[full]
                if lv.any():
                    fdL = dL[full][lv]
                    gl_diff[:, m] = np.bincount(br[lv], minlength=nb, weights=np.exp(-fdL)
                                                - np.exp(-fdL * np.exp(-beta["crm_live"])))
                    gl_n[:, m] = np.bincount(br[lv], minlength=nb)
            if not in_window:
                still = act[~ev]
                flags = np.zeros(n, dtype=bool)
                flags[still] = rng.random(len(still)) < p_month_comp[still]
                ext_comp[(m - M) % 3] = flags
        # realise the tickets that fall inside the window while the relationship is active
        keep = (t_day >= 0) & ((t_day < self.purchase_end[who])
                               | member[who] & (t_day < mem_end[who])
                               | c["is_b2b"][who] & (t_day < self.b2b_end[who]))
        self.mem = {"member": member, "plan": plan, "start": mem_start, "end": mem_end,
                    "eta_static": eta_static, "golive_m": golive_m}
        self.camp = {"eligible": eligible, "treated": treated, "lam_T": lam_T, "lam_C": lam_C}
        self.gl = {"diff": gl_diff, "n": gl_n, "active": mstart_active, "churned": mstart_churned}
        self.tk = {"who": who[keep], "day": t_day[keep], "complaint": is_comp[keep]}

    def golive_month_of_branch(self) -> np.ndarray:
        M = self.cal.months
        fr = self.p.golive.cohort_fractions
        big = 10 ** 6
        return np.array([int(np.floor(M * fr[b[5]])) if b[5] in fr else big for b in BRANCHES])

    # -- tickets table ----------------------------------------------------------------
    def tickets_table(self):
        rng = _rng(self.seed, "tickets")
        sv, c, cal = self.p.service, self.c, self.cal
        who, day, comp = self.tk["who"], self.tk["day"], self.tk["complaint"]
        order = np.lexsort((who, day))
        who, day, comp = who[order], day[order], comp[order]
        k = len(who)
        seg = c["seg"][who]
        # digital segment uses chat/app more
        chan = _pick(rng, (seg == 0).astype(int), [sv.channel_probs, sv.digital_channel_probs])
        stage = _pick(rng, comp.astype(int), [sv.stage_probs, sv.complaint_stage_probs])
        other = _labels(["inquiry", "technical", "return"])[rng.choice(3, k, p=list(sv.other_type_probs))]
        ttype = np.where(comp, "complaint", other)
        month = cal.month_index(day)
        live = month >= self.mem["golive_m"][who]
        log_rt = (np.asarray(sv.channel_log_response_hours)[chan] + self.s["br_eff"][c["branch"][who]]
                  + self.s["cust_eff"][who] + sv.golive_log_response * live
                  + sv.complaint_log_response * comp + rng.normal(0, sv.ticket_sd, k))
        first_resp = np.round(np.exp(log_rt), 3)
        first_resp = np.maximum(first_resp, 0.001)
        fcr = rng.random(k) < _logistic(sv.fcr_logit + sv.fcr_complaint_logit * comp)
        work = np.exp(np.where(fcr, np.log(sv.work_hours_fcr), np.log(sv.work_hours_no_fcr))
                      + sv.complaint_log_work * comp + rng.normal(0, sv.work_sd, k))
        resolution = np.round(first_resp + work, 2)
        sla = first_resp <= np.asarray(sv.sla_hours)[chan]
        lat = sv.csat_log_response * np.log(first_resp) + sv.csat_fcr * fcr + sv.csat_complaint * comp
        lat = lat + rng.logistic(size=k)
        csat = 1 + (lat[:, None] > np.asarray(sv.csat_cutpoints)[None, :]).sum(1)
        answered = rng.random(k) < sv.csat_response_rate
        opened = cal.start + pd.to_timedelta(np.floor(day * 1440).astype("int64"), unit="min")
        self.tickets = pd.DataFrame({
            "ticket_id": np.arange(1, k + 1),
            "customer_id": who + 1,
            "opened_at": opened,
            "channel": _labels(TICKET_CHANNELS)[chan],
            "stage": _labels(["pre_sale", "in_sale", "after_sale"])[stage],
            "type": ttype,
            "first_response_hours": first_resp,
            "resolution_hours": resolution,
            "first_contact_resolution": fcr,
            "sla_met": sla,
            "post_ticket_csat": np.where(answered, csat, np.nan),
        })

    # -- survey (two waves) --------------------------------------------------------
    def survey(self):
        rng = _rng(self.seed, "survey")
        sp, cal, c = self.p.survey, self.cal, self.c
        st = self.acsi
        rows = []
        nps_truth = {}
        lat_names = list(LATENTS)
        for w, frac in enumerate(sp.wave_fractions, start=1):
            wm = int(np.floor(cal.months * frac))
            wday = cal.day_of_month_start(wm)
            b2c = ~c["is_b2b"]
            active = b2c & (c["day"] < wday) & (
                (self.purchase_end > wday) | (self.mem["member"] & (self.mem["end"] > wday)))
            frame = np.flatnonzero(active)
            # latents at wave time: CRM go-live has shifted service experience in live branches
            exo = self.s["exo"][frame].copy()
            live = wm >= self.mem["golive_m"][frame]
            shift = -self.p.service.golive_log_response / self.s["se_sd"] * live
            e = lat_names.index("efficiency")
            exo[:, e] += self.s["l_se"] * shift
            lat = _endogenous(exo, self.s["zeta"][frame], st["B"])
            sat = lat[:, lat_names.index("SAT")]
            invited = rng.random(len(frame)) < sp.invite_share
            p_resp = _logistic(special.logit(sp.response_rate) + sp.response_satisfaction_logit * sat)
            responded = invited & (rng.random(len(frame)) < p_resp)
            # expected NPS (population of active customers vs respondents), from the item model
            _, lo, hi, mu, sd, lam, _ = SURVEY_ITEMS["recommend_0_10"]
            lam = lam * sp.loading_scale
            loy = lat[:, lat_names.index("LOY")]
            res_sd = sd * np.sqrt(1 - lam ** 2)
            p_pro = 1 - stats.norm.cdf((8.5 - mu - sd * lam * loy) / res_sd)
            p_det = stats.norm.cdf((6.5 - mu - sd * lam * loy) / res_sd)
            nps_truth[f"wave{w}"] = {
                "population": 100 * (_mean(p_pro) - _mean(p_det)),
                "respondents_expected": 100 * (_mean(p_pro[responded]) - _mean(p_det[responded])),
                "population_mean_satisfaction_latent": _mean(sat),
                "date": str((cal.start + pd.Timedelta(days=wday)).date()),
                "frame_size": int(len(frame)),
            }
            idx = np.flatnonzero(responded)
            L_r = lat[idx]
            items = {}
            for name, (weights, lo_, hi_, mu_, sd_, lam_, rev) in SURVEY_ITEMS.items():
                items[name] = self._item(rng, L_r, weights, lo_, hi_, mu_, sd_, lam_ * sp.loading_scale, rev)
            k = len(idx)
            rdays = wday + rng.integers(0, 21, k)
            df = pd.DataFrame({
                "customer_id": frame[idx] + 1,
                "wave": w,
                "response_date": cal.dates(rdays),
                "mode": np.where(rng.random(k) < sp.mode_online_share, "online", "phone"),
                **items,
            })
            rows.append(df)
            self.__dict__.setdefault("survey_latent", {})[w] = pd.DataFrame(
                L_r, columns=[f"{x}" for x in LATENTS]).assign(customer_id=frame[idx] + 1)
        survey = pd.concat(rows, ignore_index=True)
        survey = survey.sort_values(["wave", "response_date", "customer_id"], kind="stable").reset_index(drop=True)
        survey.insert(0, "response_id", np.arange(1, len(survey) + 1))
        self.survey_df = survey
        self.nps_truth = nps_truth

    def _item(self, rng, L_r, weights, lo, hi, mu, sd, lam, reverse):
        idx = {n: i for i, n in enumerate(LATENTS)}
        w = np.zeros(len(LATENTS))
        for k_, v in weights.items():
            w[idx[k_]] = v
        cov = self.acsi["cov"]
        if lam > 0:  # single latent with a standardised loading
            signal = lam * (L_r @ w)
            noise_var = 1 - lam ** 2
        else:  # weighted combination explaining CROSS_ITEM_R2 of the variance
            v = float(w @ cov @ w)
            signal = (L_r @ w) * np.sqrt(CROSS_ITEM_R2 / v)
            noise_var = 1 - CROSS_ITEM_R2
        xstar = signal + np.sqrt(noise_var) * rng.standard_normal(len(L_r))
        if reverse:
            xstar = -xstar
        return np.clip(np.rint(mu + sd * xstar), lo, hi).astype(int)

    # -- campaign table -------------------------------------------------------------
    def campaign_table(self):
        rng = _rng(self.seed, "campaign")
        cal, c, cp = self.cal, self.c, self.p.campaign
        el = np.flatnonzero(self.camp["eligible"])
        cm, dur = self.campaign["month"], self.campaign["duration"]
        end_day = cal.day_of_month_start(cm + dur)
        retained = self.mem["end"][el] >= end_day
        treated = self.camp["treated"][el]
        opt = c["opt_in"][el]
        offer_channel = np.where(opt == "explicit", "email", np.where(rng.random(len(el)) < 0.5, "sms", "app_push"))
        self.campaigns = pd.DataFrame({
            "campaign_id": f"RET-{(cal.start + pd.Timedelta(days=self.campaign['day'])).strftime('%Y-%m')}",
            "customer_id": el + 1,
            "assigned_date": cal.dates(np.full(len(el), self.campaign["day"])),
            "treatment": treated.astype(int),
            "offer_channel": np.where(treated, offer_channel, "none"),
            "offer_cost": np.where(treated, cp.offer_cost, 0.0),
            "retained_6m": retained.astype(int),
        })

    # -- silo extracts -------------------------------------------------------------
    def silos(self):
        rng = _rng(self.seed, "silos")
        sp, c, n, cal = self.p.silo, self.c, self.n, self.cal
        ppl = c["people"]
        has_tx = np.zeros(n, dtype=bool)
        has_tx[self.tx["customer_id"].to_numpy() - 1] = True
        has_tx |= c["is_b2b"]
        has_tk = np.zeros(n, dtype=bool)
        has_tk[self.tk["who"]] = True
        digital = np.zeros(n, dtype=bool)
        dig_ids = self.tx.loc[self.tx["channel"] != "store", "customer_id"].to_numpy() - 1
        digital[dig_ids] = True
        old_phone = nm.unique_phones(rng, n)  # number used before a change
        changed = rng.random(n) < sp.stale_phone_rate
        city = np.array([b[1] for b in BRANCHES])[c["branch"]]
        city_en = np.array([b[2] for b in BRANCHES])[c["branch"]]
        cov = sp.coverage
        holds = {
            "sales": has_tx & (rng.random(n) < cov["sales"] / max(has_tx.mean(), 1e-9)),
            "service": has_tk & (rng.random(n) < min(1.0, cov["service"] / max(has_tk.mean(), 1e-9))),
            "web": (rng.random(n) < np.where(digital, 0.85, 0.15)) & (rng.random(n) < cov["web"] / 0.6),
        }
        stale_share = {"sales": 0.5, "service": 0.3, "web": 0.2}
        prefix = {"sales": "S", "service": "K", "web": "W"}
        self.silo_tables, matches = {}, []
        for sys_name, mask in holds.items():
            base = np.flatnonzero(mask)
            dup = rng.choice(base, int(round(len(base) * sp.duplicate_rate)), replace=True) if len(base) else base
            ids = np.concatenate([base, dup])
            ids = ids[rng.permutation(len(ids))]
            k = len(ids)
            name = nm.mangle_names(rng, ppl["_s_idx"][ids], ppl["_g1"][ids], ppl["_g2"][ids],
                                   sp.traditional_rate, sp.homophone_rate)
            phone = np.where(changed[ids] & (rng.random(k) < stale_share[sys_name]), old_phone[ids], ppl["phone"][ids])
            typo = rng.random(k) < sp.phone_typo_rate
            phone = np.where(typo, nm.swap_digits(rng, phone), phone)
            phone = nm.format_phone(rng, phone)
            phone = np.where(rng.random(k) < 0.03, "", phone)
            email = ppl["email"][ids].astype(object)
            up = np.flatnonzero(rng.random(k) < 0.2)
            email[up] = np.strings.upper(ppl["email"][ids[up]])
            email[rng.random(k) < sp.missing_email_rate] = ""
            cty = np.select([rng.random(k) < 0.3, rng.random(k) < 0.1],
                            [np.strings.add(city[ids], "市"), city_en[ids]], city[ids])
            by = np.where(rng.random(k) < (0.05 if sys_name == "sales" else 0.25), -1, ppl["birth_year"][ids])
            signup = cal.dates(np.maximum(c["day"][ids], cal.bounds[0]))
            upd_day = np.minimum(self.window_days - 1,
                                 np.maximum(c["day"][ids], 0) + rng.random(k) * (self.window_days - np.maximum(c["day"][ids], 0)))
            rec = _zfill(np.arange(1, k + 1).astype(str), 7)
            record_id = np.strings.add(prefix[sys_name] + "-", rec)
            df = pd.DataFrame({
                "record_id": record_id,
                "name": np.where(c["is_b2b"][ids], c["company"][ids], name),
                "phone": phone,
                "email": email,
                "city": cty,
                "birth_year": np.where(by < 0, np.nan, by),
                "last_updated": cal.dates(upd_day),
            })
            if sys_name == "sales":
                df["customer_since"] = signup
            elif sys_name == "service":
                df["vip"] = c["loyal"][ids]
            else:
                df["username"] = np.strings.add("u", _zfill(rng.integers(0, 10 ** 8, k).astype(str), 8))
            df["birth_year"] = df["birth_year"].astype("float")
            self.silo_tables[f"silo_{sys_name}"] = df
            matches.append(pd.DataFrame({"system": sys_name, "record_id": record_id, "customer_id": ids + 1}))
        self.silo_matches = pd.concat(matches, ignore_index=True)

    # -- branch KPIs and the rest ----------------------------------------------------
    def kpis(self):
        cal, c, M, L = self.cal, self.c, self.cal.months, self.cal.legacy_months
        nb = len(BRANCHES)
        months_ts = cal.start + pd.to_timedelta(cal.bounds[L:L + M], unit="D")
        gm = self.golive_month_of_branch()
        grid = pd.MultiIndex.from_product([range(nb), range(M)], names=["b", "m"])
        out = pd.DataFrame(index=grid).reset_index()
        out["branch_id"] = _labels([b[0] for b in BRANCHES])[out["b"]]
        out["month"] = months_ts[out["m"]]
        out["crm_live"] = (out["m"].to_numpy() >= gm[out["b"]]).astype(int)
        act = self.gl["active"][out["b"], out["m"]]
        chd = self.gl["churned"][out["b"], out["m"]]
        out["members_start"] = act.astype(int)
        out["members_churned"] = chd.astype(int)
        out["retention_rate"] = np.round(np.where(act > 0, 1 - chd / np.maximum(act, 1), np.nan), 5)
        # new customers and marketing spend (acquisition cost) by sign-up month
        sm = cal.month_index(c["day"])
        inwin = sm >= 0
        key = c["branch"][inwin] * M + sm[inwin]
        new = np.bincount(key, minlength=nb * M)
        spend = np.bincount(key, weights=c["acq_cost"][inwin], minlength=nb * M)
        flat = out["b"].to_numpy() * M + out["m"].to_numpy()
        out["new_customers"] = new[flat]
        out["marketing_spend"] = np.round(spend[flat], 2)
        out["cac"] = np.round(np.where(new[flat] > 0, spend[flat] / np.maximum(new[flat], 1), np.nan), 2)
        # revenue by customer branch and purchase month
        tx = self.tx
        tb = c["branch"][tx["customer_id"].to_numpy() - 1]
        tm = cal.month_index(((tx["date"] - cal.start) / pd.Timedelta(days=1)).to_numpy())
        tkey = tb * M + tm
        pair = np.sort(tkey * (self.n + 1) + tx["customer_id"].to_numpy())
        first_of_pair = np.concatenate([[True], pair[1:] != pair[:-1]])
        out["purchasing_customers"] = np.bincount(pair[first_of_pair] // (self.n + 1), minlength=nb * M)[flat]
        out["revenue"] = np.round(np.bincount(tkey, weights=tx["amount"].to_numpy(), minlength=nb * M)[flat], 2)
        out["gross_margin"] = np.round(np.bincount(tkey, weights=tx["gross_margin"].to_numpy(), minlength=nb * M)[flat], 2)
        tk = self.tickets
        kb = c["branch"][tk["customer_id"].to_numpy() - 1]
        km = cal.month_index(((tk["opened_at"] - cal.start) / pd.Timedelta(days=1)).to_numpy())
        kkey = kb * M + km
        out["tickets"] = np.bincount(kkey, minlength=nb * M)[flat]
        out["complaints"] = np.bincount(kkey, weights=(tk["type"] == "complaint").to_numpy(), minlength=nb * M)[flat].astype(int)
        g = pd.DataFrame({"k": kkey, "rt": tk["first_response_hours"], "sla": tk["sla_met"],
                          "csat": tk["post_ticket_csat"]}).groupby("k")
        out["median_first_response_hours"] = np.round(g["rt"].median().reindex(flat).to_numpy(), 3)
        out["sla_met_rate"] = np.round(g["sla"].mean().reindex(flat).to_numpy(), 4)
        out["mean_post_ticket_csat"] = np.round(g["csat"].mean().reindex(flat).to_numpy(), 3)
        out["service_cost"] = np.round(out["tickets"] * self.p.service.cost_per_ticket, 2)
        self.branch_kpis = out.drop(columns=["b", "m"])

    # -- assemble ---------------------------------------------------------------------
    def world(self) -> World:
        c, cal, n = self.c, self.cal, self.n
        ppl = c["people"]
        mem = self.mem
        # referrals: zone of indifference below the threshold, rising above it
        rf = self.p.referral
        rel_end = np.where(c["is_b2b"], self.b2b_end,
                           np.maximum(self.purchase_end, np.where(mem["member"], mem["end"], -np.inf)))
        expo = np.clip(np.minimum(rel_end, self.window_days) - np.maximum(c["day"], 0), 0, None) / 365.25
        rrate = rf.base_per_year * np.exp(rf.slope * np.maximum(self.sat - rf.threshold, 0))
        rng = _rng(self.seed, "referrals")
        referrals = np.where(c["is_b2b"], 0, rng.poisson(rrate * expo))
        customers = pd.DataFrame({
            "customer_id": np.arange(1, n + 1),
            "name": np.where(c["is_b2b"], c["company"], ppl["name"]),
            "gender": np.where(c["is_b2b"], None, ppl["gender"].astype(object)),
            "birth_year": np.where(c["is_b2b"], np.nan, ppl["birth_year"]).astype(float),
            "phone": ppl["phone"],
            "email": ppl["email"],
            "branch_id": _labels([b[0] for b in BRANCHES])[c["branch"]],
            "city": _labels([b[1] for b in BRANCHES])[c["branch"]],
            "region": _labels([b[3] for b in BRANCHES])[c["branch"]],
            "signup_date": cal.dates(c["day"]),
            "customer_type": np.where(c["is_b2b"], "B2B", "B2C"),
            "size_class": c["size"],
            "industry": c["industry"],
            "acquisition_channel": c["channel"],
            "acquisition_cost": c["acq_cost"],
            "email_opt_in": c["opt_in"],
            "loyalty_member": c["loyal"],
            "community_member": c["community"],
            "referrals": referrals,
        })
        # memberships: spells active at or after the window start (left-truncated)
        mm = mem["member"] & (mem["end"] > 0)
        ids = np.flatnonzero(mm)
        end = mem["end"][ids]
        churned = end < self.window_days
        reasons = self._cancel_reasons(ids)
        memberships = pd.DataFrame({
            "membership_id": np.arange(1, len(ids) + 1),
            "customer_id": ids + 1,
            "plan": _labels(["basic", "plus", "premium"])[mem["plan"][ids]],
            "monthly_fee": np.asarray(self.p.churn.plan_fees)[mem["plan"][ids]],
            "start_date": cal.dates(mem["start"][ids]),
            "end_date": pd.Series(cal.dates(np.where(churned, end, 0))).where(churned),
            "churned": churned,
            "cancel_reason": pd.Series(reasons).where(churned),
        })
        branches = pd.DataFrame({
            "branch_id": [b[0] for b in BRANCHES],
            "city": [b[1] for b in BRANCHES],
            "city_en": [b[2] for b in BRANCHES],
            "region": [b[3] for b in BRANCHES],
            "crm_cohort": [b[5] for b in BRANCHES],
            "crm_golive_date": [
                (cal.start + pd.Timedelta(days=cal.day_of_month_start(int(gmv)))) if gmv < cal.months else pd.NaT
                for gmv in self.golive_month_of_branch()],
        })
        branches["crm_golive_date"] = pd.to_datetime(branches["crm_golive_date"])
        tables = {
            "customers": customers,
            "transactions": self.tx,
            "memberships": memberships,
            "survey": self.survey_df,
            "tickets": self.tickets,
            "campaigns": self.campaigns,
            "branches": branches,
            "branch_kpis": self.branch_kpis,
            "b2b_accounts": self.b2b,
            **self.silo_tables,
        }
        for df in tables.values():  # one missing-value marker for strings: NaN (as read back from CSV)
            for col in df.select_dtypes(include="object").columns:
                vals = df[col]
                df[col] = vals.where(vals.notna() & (vals != ""), np.nan)
        latent = self._latent_table(expo, rel_end)
        truth = self._truth(latent)
        meta = {
            "seed": self.seed, "n_customers": n, "months": cal.months,
            "window_start": str(cal.start.date()), "window_end": str(cal.end.date()),
            "observation_end": str((cal.end - pd.Timedelta(days=1)).date()),
            "survey_wave_dates": [self.nps_truth[f"wave{w}"]["date"] for w in (1, 2)],
            "campaign_date": str((cal.start + pd.Timedelta(days=self.campaign["day"])).date()),
            "campaign_months": self.campaign["duration"],
            "crmlab_version": __version__,
            "synthetic": True,
            "rows": {k: int(len(v)) for k, v in tables.items()},
        }
        return World(tables=tables, truth=truth, latent=latent, silo_matches=self.silo_matches, meta=meta)

    def _cancel_reasons(self, ids):
        """Stated reason of a cancellation: driven by the weakest driver (multinomial logit)."""
        rng = _rng(self.seed, "reasons")
        ex = self.s["exo"][ids]
        lat = self.s["lat"][ids]
        di = {n: i for i, n in enumerate(LATENTS)}
        util = np.column_stack([
            -1.0 * ex[:, di["price"]],                                   # price
            -0.8 * ex[:, di["efficiency"]] - 0.8 * ex[:, di["attitude"]],  # service
            -1.0 * ex[:, di["product"]],                                 # product
            -0.6 * lat[:, di["LOY"]],                                    # competitor
            np.zeros(len(ids)),                                          # moved / no need
        ])
        prob = np.exp(util - util.max(1, keepdims=True))
        prob /= prob.sum(1, keepdims=True)
        k = np.minimum((rng.random(len(ids))[:, None] > np.cumsum(prob, 1)).sum(1), 4)
        return _labels(["price", "service", "product", "competitor", "moved_or_no_need"])[k]

    def _latent_table(self, expo, rel_end) -> pd.DataFrame:
        c, n = self.c, self.n
        lat = self.s["lat"]
        seg_names = _labels([s for s, _ in SEGMENTS] + ["b2b"])
        out = pd.DataFrame({"customer_id": np.arange(1, n + 1),
                            "latent_segment": seg_names[np.where(c["seg"] < 0, len(SEGMENTS), c["seg"])]})
        for i, name in enumerate(LATENTS):
            col = {"EXP": "expectation", "PQ": "perceived_quality", "PV": "perceived_value",
                   "SAT": "satisfaction", "COMP": "complaint_intent", "LOY": "loyalty"}.get(name, f"driver_{name}")
            out[col] = np.where(c["is_b2b"], np.nan, np.round(lat[:, i], 6))
        out["service_experience"] = np.round(self.s["service_exp"], 6)
        pur = self.pur
        for key, col in (("lam", "purchase_rate_per_week"), ("p", "dropout_probability"), ("nu", "spend_rate_nu")):
            v = np.full(n, np.nan)
            v[pur["b2c"]] = pur[key]
            out[col] = np.round(v, 8)
        dd = np.full(n, np.nan)
        dd[pur["b2c"]] = pur["death_day"]
        within = np.isfinite(dd) & (dd < self.window_days)
        out["purchase_dropout_date"] = pd.Series(self.cal.dates(np.where(within, dd, 0))).where(within)
        out["dropout_weeks_after_signup"] = np.round((dd - c["day"]) / 7.0, 4)
        out["alive_at_window_end"] = np.where(c["is_b2b"], np.nan, (dd >= self.window_days).astype(float))
        mem = self.mem
        out["member"] = mem["member"]
        me = np.where(mem["member"] & np.isfinite(mem["end"]), mem["end"], np.nan)
        out["membership_latent_months"] = np.round((me - mem["start"]) / MONTH_DAYS, 4)
        out["membership_followed_to_horizon"] = mem["member"] & ~np.isfinite(me)
        out["membership_linear_predictor"] = np.where(mem["member"], np.round(mem["eta_static"], 6), np.nan)
        camp = self.camp
        up = np.where(camp["eligible"], np.exp(-camp["lam_T"]) - np.exp(-camp["lam_C"]), np.nan)
        out["campaign_expected_uplift"] = np.round(up, 6)
        out["relationship_exposure_years"] = np.round(expo, 6)
        return out

    def _truth(self, latent: pd.DataFrame) -> dict:
        p, cal = self.p, self.cal
        st = self.acsi
        b2c_new = (~self.c["is_b2b"]) & (self.c["day"] >= 0)
        # membership: implied survival of spells that started inside the window
        lm = latent.loc[b2c_new & self.mem["member"], "membership_latent_months"].fillna(np.inf).to_numpy()
        grid = [6, 12, 24, 36]
        surv = {str(t): _mean(lm > t) for t in grid}
        camp = latent["campaign_expected_uplift"]
        segs = latent["latent_segment"]
        el = camp.notna()
        gl_mask = self.gl["n"] > 0
        att_cells = (self.gl["diff"][gl_mask] / self.gl["n"][gl_mask])
        sd = self.s["se_sd"]
        tot = st["total_effects"]
        ix = {n_: i for i, n_ in enumerate(LATENTS)}
        drivers_on_sat = {d: float(tot[ix["SAT"], ix[d]]) for d in DRIVERS}
        paths = dict(p.satisfaction.paths)
        ls = p.survey.loading_scale
        loadings = {name: {"latent": next(iter(w)), "loading": (-lam if rev else lam) * ls}
                    for name, (w, _lo, _hi, _mu, _sd, lam, rev) in SURVEY_ITEMS.items() if lam > 0}
        return _round({
            "synthetic": True,
            "note": "Planted by crmlab.synth.generate_world; all figures are synthetic assumptions.",
            "generator": {"seed": self.seed, "n_customers": self.n, "months": cal.months,
                          "window_start": str(cal.start.date()), "window_end": str(cal.end.date()),
                          "crmlab_version": __version__},
            "params": p.to_dict(),
            "bgnbd": {"r": p.purchase.r, "alpha": p.purchase.alpha, "a": p.purchase.a, "b": p.purchase.b,
                      "time_unit": "week",
                      "population": "B2C customers who signed up on or after window_start (first purchase = sign-up)"},
            "gamma_gamma": {"p": p.spend.p, "q": p.spend.q, "gamma": p.spend.gamma,
                            "mean_spend": p.spend.p * p.spend.gamma / (p.spend.q - 1), "currency": "CNY"},
            "membership": {
                "weibull_shape": p.churn.weibull_shape,
                "weibull_scale_months": p.churn.weibull_scale_months,
                "log_hazard_ratios": dict(p.churn.log_hr),
                "hazard_ratios": {k: float(np.exp(v)) for k, v in p.churn.log_hr.items()},
                "covariates": {
                    "satisfaction": "latent satisfaction, per SD (survey scores are noisy proxies)",
                    "recent_complaint": "complaint ticket in the previous 3 calendar months (time-varying)",
                    "plan_plus": "plan == 'plus' vs basic", "plan_premium": "plan == 'premium' vs basic",
                    "loyalty_member": "customers.loyalty_member", "crm_live": "branch CRM live (time-varying)"},
                "implied_survival_new_members": surv,
                "implied_median_tenure_months_new_members": float(np.median(lm)) if len(lm) else None,
                "month_days": MONTH_DAYS,
            },
            "campaign": {
                "start_date": str((cal.start + pd.Timedelta(days=self.campaign["day"])).date()),
                "duration_months": self.campaign["duration"],
                "log_hr_by_segment": dict(zip([s for s, _ in SEGMENTS], p.campaign.log_hr_by_segment, strict=True)),
                "expected_uplift": float(camp[el].mean()) if el.any() else None,
                "expected_uplift_by_segment": {s: _mean(camp[el & (segs == s)])
                                               for s, _ in SEGMENTS if (el & (segs == s)).any()},
                "definition": "expected P(retained 6 months | treated) - P(... | control), same covariate path",
            },
            "golive": {
                "log_hr_churn": p.churn.log_hr["crm_live"],
                "log_response_time_effect": p.service.golive_log_response,
                "cohort_month": {k: int(np.floor(cal.months * v)) for k, v in p.golive.cohort_fractions.items()},
                "expected_att_retention": float(att_cells.mean()) if att_cells.size else None,
                "definition": "mean over live branch-months of the expected change in monthly retention rate "
                              "(members active at month start) caused by go-live",
            },
            "acsi": {
                "paths": paths,
                "residual_sd": {n_: float(st["resid_sd"][i]) for i, n_ in enumerate(LATENTS) if i >= 7},
                "driver_correlation": p.satisfaction.driver_corr,
                "service_experience_loading": p.satisfaction.service_experience_loading,
                "loadings": loadings,
                "driver_total_effects_on_satisfaction": drivers_on_sat,
                "driver_rank": sorted(drivers_on_sat, key=lambda d: -drivers_on_sat[d]),
                "items": {k: {"latents": v[0], "scale": [v[1], v[2]], "reverse_keyed": v[6]}
                          for k, v in SURVEY_ITEMS.items()},
            },
            "survey": {"nps": self.nps_truth,
                       "response_satisfaction_logit": p.survey.response_satisfaction_logit,
                       "wave2_live_branch_satisfaction_shift_sd": float(
                           -p.service.golive_log_response / sd * self.s["l_se"]
                           * tot[ix["SAT"], ix["efficiency"]])},
            "purchase_dropout": {"satisfaction_copula_rho": p.purchase.dropout_satisfaction_rho},
            "service": {
                "post_ticket_csat_ordered_logit": {
                    "log_first_response_hours": p.service.csat_log_response,
                    "first_contact_resolution": p.service.csat_fcr,
                    "complaint": p.service.csat_complaint,
                    "cutpoints": list(p.service.csat_cutpoints)},
                "complaint_logit": {"intercept": p.service.complaint_logit,
                                    "satisfaction": p.service.complaint_satisfaction_logit},
                "satisfaction_per_sd_service_experience": float(
                    self.s["l_se"] * tot[ix["SAT"], ix["efficiency"]]),
                "satisfaction_per_log_hour_response": float(
                    -self.s["l_se"] * tot[ix["SAT"], ix["efficiency"]] / sd),
                "golive_log_response_time": p.service.golive_log_response,
                "log_first_response_hours": {
                    "by_channel": dict(zip(TICKET_CHANNELS, p.service.channel_log_response_hours, strict=True)),
                    "complaint": p.service.complaint_log_response,
                    "crm_live": p.service.golive_log_response,
                    "sd_branch": p.service.branch_sd, "sd_customer": p.service.customer_sd,
                    "sd_ticket": p.service.ticket_sd},
                "first_contact_resolution_logit": {"intercept": p.service.fcr_logit,
                                                   "complaint": p.service.fcr_complaint_logit},
                "log_resolution_work_hours": {
                    "fcr": float(np.log(p.service.work_hours_fcr)),
                    "no_fcr": float(np.log(p.service.work_hours_no_fcr)),
                    "complaint": p.service.complaint_log_work, "sd": p.service.work_sd},
            },
            "supply_chain": {
                "satisfaction_per_point_on_time": p.supply_chain.on_time,
                "satisfaction_per_point_fill_rate": p.supply_chain.fill,
                "satisfaction_per_day_lead_time": p.supply_chain.lead_time,
                "satisfaction_per_point_defect_rate": p.supply_chain.defect,
                "share_of_wallet_logit_per_satisfaction_point": p.supply_chain.sow_per_sat_point,
                "size_satisfaction_shift": dict(zip(["large", "medium", "small"],
                                                    p.supply_chain.size_satisfaction, strict=True)),
            },
            "referrals": {"base_per_year": p.referral.base_per_year, "threshold_sd": p.referral.threshold,
                          "slope_above_threshold": p.referral.slope},
            "segments": {s: {"chinese": zh, "share": sh} for (s, zh), sh in
                         zip(SEGMENTS, p.customers.segment_shares, strict=True)},
        })


def _round(obj, nd=6):
    """Rounded plain-Python copy of the truth; a quantity the world leaves undefined (a mean
    over no one, e.g. survey respondents when nobody answered) becomes None (JSON null),
    never NaN, which strict JSON readers refuse."""
    if isinstance(obj, (float, np.floating)) and math.isnan(obj):
        return None
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, dict):
        return {k: _round(v, nd) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v, nd) for v in obj]
    if isinstance(obj, (np.floating,)):
        return round(float(obj), nd)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
