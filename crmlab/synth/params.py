"""Planted parameters of the synthetic company world.

Every number that shapes the world lives here, in one frozen dataclass per
mechanism, with its unit and meaning. ``generate_world`` copies them into
``world.truth`` so that every estimate in the course can be checked against the
value that made the data. All figures are SYNTHETIC: the Chinese source texts give
no numbers, so these are the kit authors' assumptions, chosen to be plausible for a
mid-sized omnichannel retailer (amounts in CNY).

Override any of them with :meth:`WorldParams.override`::

    >>> from crmlab.synth import WorldParams
    >>> p = WorldParams().override({"churn.log_hr.satisfaction": -0.8})
    >>> p.churn.log_hr["satisfaction"]
    -0.8
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import ParameterError
from ..validation import check_count, check_probability, check_scalar

__all__ = [
    "BRANCHES",
    "SEGMENTS",
    "CATEGORIES",
    "WorldParams",
    "CustomerParams",
    "PurchaseParams",
    "SpendParams",
    "SatisfactionParams",
    "SurveyParams",
    "ChurnParams",
    "ServiceParams",
    "CampaignParams",
    "GoLiveParams",
    "SupplyChainParams",
    "ReferralParams",
    "SiloParams",
]


def _frozen(d: dict) -> MappingProxyType:
    return MappingProxyType(dict(d))


# --- reference data -----------------------------------------------------------------
# 12 regional branches of the fictional retailer: id, city (中文), city (English),
# region, share of customers, CRM go-live cohort ("A" first ... "N" never in window).
BRANCHES: tuple[tuple[str, str, str, str, float, str], ...] = (
    ("B01", "北京", "Beijing", "North", 0.12, "A"),
    ("B02", "天津", "Tianjin", "North", 0.06, "C"),
    ("B03", "上海", "Shanghai", "East", 0.13, "B"),
    ("B04", "杭州", "Hangzhou", "East", 0.08, "N"),
    ("B05", "南京", "Nanjing", "East", 0.07, "N"),
    ("B06", "苏州", "Suzhou", "East", 0.06, "B"),
    ("B07", "广州", "Guangzhou", "South", 0.11, "A"),
    ("B08", "深圳", "Shenzhen", "South", 0.10, "C"),
    ("B09", "成都", "Chengdu", "Southwest", 0.08, "B"),
    ("B10", "重庆", "Chongqing", "Southwest", 0.07, "N"),
    ("B11", "武汉", "Wuhan", "Central", 0.07, "A"),
    ("B12", "西安", "Xi'an", "Northwest", 0.05, "C"),
)

# Needs-based latent segments of B2C customers (中文 name). They shape channel,
# category, discount and plan choices and the campaign response; they do NOT shape
# purchase rate, dropout or spend, which follow one BG/NBD and one Gamma-Gamma
# population so that those models' planted parameters stay exactly recoverable.
SEGMENTS: tuple[tuple[str, str], ...] = (
    ("online_bargain", "线上折扣型"),
    ("store_traditional", "门店传统型"),
    ("premium_quality", "高端品质型"),
    ("family_stockup", "家庭囤货型"),
)

# Product categories and their gross-margin rate (share of the sale price).
CATEGORIES: tuple[tuple[str, str, float], ...] = (
    ("grocery", "食品杂货", 0.18),
    ("household", "家居日用", 0.28),
    ("apparel", "服装", 0.45),
    ("beauty", "美妆个护", 0.50),
    ("electronics", "数码电器", 0.15),
    ("baby", "母婴", 0.30),
)
CHANNELS = ("store", "web", "app")


@dataclass(frozen=True)
class CustomerParams:
    """Who the customers are and how they were acquired."""

    share_b2b: float = 0.06
    """Share of customers that are business (B2B) accounts (企业客户)."""
    share_legacy: float = 0.30
    """Share of customers who signed up before the window (migrated from the old system)."""
    legacy_months: int = 24
    """Legacy sign-ups are spread over this many months before the window start."""
    signup_growth: float = 0.8
    """Sign-up intensity grows linearly over the window: last month = (1 + growth) x first."""
    segment_shares: tuple[float, ...] = (0.30, 0.25, 0.20, 0.25)
    """Shares of the B2C latent segments, in the order of SEGMENTS."""
    b2b_size_shares: tuple[float, float, float] = (0.15, 0.35, 0.50)
    """Shares of large / medium / small B2B accounts (大/中/小客户)."""
    b2b_industries: tuple[str, ...] = ("manufacturing", "retail", "services", "finance", "construction")
    b2c_channels: MappingProxyType = field(default_factory=lambda: _frozen({
        "search_ads": (0.25, 120.0), "social_media": (0.25, 90.0), "referral": (0.15, 40.0),
        "store_walk_in": (0.25, 30.0), "partner": (0.10, 70.0),
    }))
    """B2C acquisition channel -> (share, mean acquisition cost in CNY). Costs are Gamma(shape 4)."""
    b2b_channels: MappingProxyType = field(default_factory=lambda: _frozen({
        "b2b_sales": (0.60, 1500.0), "trade_fair": (0.25, 900.0), "referral": (0.15, 400.0),
    }))
    """B2B acquisition channel -> (share, mean acquisition cost in CNY)."""
    email_opt_in_shares: tuple[float, float, float] = (0.45, 0.30, 0.25)
    """explicit / implicit / none consent to e-mail marketing."""
    loyalty_member_rate: tuple[float, ...] = (0.55, 0.35, 0.60, 0.50)
    """P(loyalty-programme member 会员积分计划) by segment."""
    community_member_rate: tuple[float, ...] = (0.30, 0.05, 0.15, 0.12)
    """P(online-community member 网络社区) by segment."""


@dataclass(frozen=True)
class PurchaseParams:
    """BG/NBD purchase and dropout process of B2C customers (time unit: week).

    Purchase rate lambda ~ Gamma(shape r, rate alpha); dropout probability after each
    repeat purchase p ~ Beta(a, b). The first purchase happens at sign-up.
    """

    r: float = 0.75
    alpha: float = 7.5
    a: float = 0.85
    b: float = 3.5
    dropout_satisfaction_rho: float = -0.5
    """Gaussian-copula correlation between latent satisfaction and dropout p: satisfied
    customers drop out less, while p stays Beta(a, b) in the population."""
    channel_probs: tuple[tuple[float, float, float], ...] = (
        (0.15, 0.40, 0.45), (0.80, 0.10, 0.10), (0.35, 0.20, 0.45), (0.45, 0.40, 0.15))
    """P(store, web, app) of a purchase, by segment."""
    category_probs: tuple[tuple[float, ...], ...] = (
        (0.10, 0.25, 0.10, 0.10, 0.40, 0.05),
        (0.45, 0.30, 0.10, 0.05, 0.05, 0.05),
        (0.05, 0.10, 0.35, 0.35, 0.12, 0.03),
        (0.30, 0.25, 0.05, 0.05, 0.05, 0.30),
    )
    """P(category) of a purchase by segment, categories in the order of CATEGORIES."""
    discount_probs: tuple[float, ...] = (0.65, 0.20, 0.05, 0.40)
    """P(purchase used a discount or coupon) by segment."""


@dataclass(frozen=True)
class SpendParams:
    """Gamma-Gamma spend per transaction (CNY): z ~ Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate gamma).

    Mean spend per transaction in the population = p * gamma / (q - 1).
    """

    p: float = 5.0
    q: float = 4.0
    gamma: float = 120.0


@dataclass(frozen=True)
class SatisfactionParams:
    """ACSI/ECSI-style latent structure of B2C customers (standardised latent variables).

    Exogenous: expectations EXP and six drivers (product quality, service attitude,
    service efficiency, purchase experience, price fairness, emotional connection),
    drivers correlated ``driver_corr`` among themselves and uncorrelated with EXP.
    Structural paths (standardised coefficients; residual variances are set so that
    every latent has variance 1)::

        PQ   = EXP + product + attitude + efficiency + purchase
        PV   = EXP + PQ + price
        SAT  = EXP + PQ + PV
        COMP = SAT
        LOY  = SAT + COMP + emotion
    """

    driver_corr: float = 0.30
    paths: MappingProxyType = field(default_factory=lambda: _frozen({
        "EXP->PQ": 0.25, "product->PQ": 0.40, "attitude->PQ": 0.20, "efficiency->PQ": 0.30,
        "purchase->PQ": 0.10,
        "EXP->PV": 0.10, "PQ->PV": 0.40, "price->PV": 0.30,
        "EXP->SAT": 0.10, "PQ->SAT": 0.50, "PV->SAT": 0.30,
        "SAT->COMP": -0.45,
        "SAT->LOY": 0.55, "COMP->LOY": -0.15, "emotion->LOY": 0.20,
    }))
    service_experience_loading: float = 0.60
    """Service efficiency = this x service experience (faster ticket responses) + noise."""


@dataclass(frozen=True)
class SurveyParams:
    """Two survey waves (questionnaire 问卷调查) of active B2C customers."""

    wave_fractions: tuple[float, float] = (1 / 3, 5 / 6)
    """Waves are fielded at these fractions of the window."""
    invite_share: float = 1.0
    """Share of active B2C customers invited in each wave."""
    response_rate: float = 0.50
    """Response probability of an average customer."""
    response_satisfaction_logit: float = 0.35
    """Non-response bias: log-odds of responding rise by this per SD of satisfaction."""
    loading_scale: float = 1.0
    """Multiplies every item loading (lower it to make measurement noisier)."""
    mode_online_share: float = 0.7


@dataclass(frozen=True)
class ChurnParams:
    """Membership (paid subscription) churn: Cox proportional hazards, Weibull baseline.

    Baseline cumulative hazard H0(t) = (t / scale)^shape, t = tenure in months
    (1 month = 30.4375 days). Log hazard ratios (per unit of the covariate):
    ``satisfaction`` per SD of latent satisfaction; ``recent_complaint`` = a complaint
    ticket in the previous 3 calendar months (time-varying); ``plan_plus`` /
    ``plan_premium`` vs the basic plan; ``loyalty_member``; ``crm_live`` = the branch's
    CRM system is live (time-varying). Campaign effects are in CampaignParams.
    """

    membership_rate: float = 0.65
    """Share of B2C customers who hold a paid membership (会员订阅)."""
    plan_probs: tuple[tuple[float, float, float], ...] = (
        (0.60, 0.30, 0.10), (0.55, 0.35, 0.10), (0.20, 0.35, 0.45), (0.45, 0.40, 0.15))
    """P(basic, plus, premium) by segment."""
    plan_fees: tuple[float, float, float] = (19.0, 39.0, 69.0)
    """Monthly fee (CNY) of basic / plus / premium."""
    weibull_shape: float = 0.85
    weibull_scale_months: float = 26.0
    log_hr: MappingProxyType = field(default_factory=lambda: _frozen({
        "satisfaction": -0.50, "recent_complaint": 0.70, "plan_plus": -0.20,
        "plan_premium": -0.45, "loyalty_member": -0.30, "crm_live": -0.40,
    }))
    b2b_monthly_churn_logit: float = -4.6
    """B2B accounts: logit of monthly attrition at average account satisfaction."""
    b2b_churn_satisfaction_logit: float = -0.05
    """... changes by this per point (0-100) of account satisfaction above 72."""


@dataclass(frozen=True)
class ServiceParams:
    """Service tickets (服务工单): volumes, response times and post-ticket CSAT."""

    b2c_tickets_per_month: float = 0.12
    b2b_tickets_per_month: float = 0.40
    complaint_logit: float = -1.0
    """Logit of P(ticket is a complaint) at average satisfaction."""
    complaint_satisfaction_logit: float = -0.8
    """... changes by this per SD of satisfaction (unhappy customers complain more)."""
    channel_probs: tuple[float, float, float, float] = (0.35, 0.30, 0.20, 0.15)
    """phone, online_chat, email, app."""
    channel_log_response_hours: tuple[float, float, float, float] = (-2.3, -2.9, 1.8, 0.7)
    """Mean log first-response time (hours) by channel (about 6 min, 3 min, 6 h, 2 h)."""
    sla_hours: tuple[float, float, float, float] = (0.25, 0.1, 24.0, 4.0)
    """First-response SLA target (hours) by channel."""
    branch_sd: float = 0.25
    """SD of branch effects on log response time."""
    customer_sd: float = 0.35
    """SD of customer-level effects on log response time (who gets routed where)."""
    ticket_sd: float = 0.60
    """SD of ticket-level noise on log response time."""
    golive_log_response: float = -0.35
    """Change of log response time once the branch's CRM system is live."""
    digital_channel_probs: tuple[float, float, float, float] = (0.15, 0.40, 0.15, 0.30)
    """Channel mix of the digital segment's tickets (it uses chat and the app more)."""
    stage_probs: tuple[float, float, float] = (0.30, 0.25, 0.45)
    """pre_sale, in_sale, after_sale share of non-complaint tickets."""
    complaint_stage_probs: tuple[float, float, float] = (0.05, 0.20, 0.75)
    """... of complaints (most arise after the sale)."""
    other_type_probs: tuple[float, float, float] = (0.5, 0.25, 0.25)
    """inquiry, technical, return share of non-complaint tickets."""
    complaint_log_response: float = 0.2
    """Extra log first-response time of a complaint (complaints take longer to pick up)."""
    fcr_logit: float = 0.9
    """Logit of first-contact resolution for a non-complaint ticket."""
    fcr_complaint_logit: float = -0.8
    work_hours_fcr: float = 0.5
    """Median hours from first response to resolution when solved at first contact."""
    work_hours_no_fcr: float = 18.0
    """... when it was not."""
    complaint_log_work: float = 0.5
    """Extra log resolution work of a complaint."""
    work_sd: float = 0.7
    """SD of log resolution work."""
    csat_response_rate: float = 0.65
    """Share of tickets with a post-ticket CSAT answer (missing completely at random)."""
    csat_log_response: float = -0.55
    """Ordered-logit coefficient of post-ticket CSAT (1-5) on log first-response hours."""
    csat_fcr: float = 1.10
    """... on first-contact resolution (0/1)."""
    csat_complaint: float = -0.60
    """... on the ticket being a complaint (0/1)."""
    csat_cutpoints: tuple[float, float, float, float] = (-4.0, -2.8, -1.2, 0.6)
    cost_per_ticket: float = 25.0
    """Handling cost per ticket (CNY), used for relationship-maintenance cost."""


@dataclass(frozen=True)
class CampaignParams:
    """Randomised retention campaign (客户挽留活动) among active members."""

    fraction: float = 2 / 3
    """The campaign starts at the beginning of the calendar month at this fraction of the window."""
    duration_months: int = 6
    treated_share: float = 0.5
    min_tenure_months: float = 3.0
    offer_cost: float = 20.0
    """Cost of the offer per treated customer (CNY)."""
    log_hr_by_segment: tuple[float, ...] = (-0.90, -0.20, 0.0, -0.50)
    """Log hazard ratio of treatment during the campaign window, by segment."""


@dataclass(frozen=True)
class GoLiveParams:
    """Staggered go-live of the CRM system across branches (cohorts A, B, C; N = not in window)."""

    cohort_fractions: MappingProxyType = field(default_factory=lambda: _frozen(
        {"A": 1 / 3, "B": 1 / 2, "C": 2 / 3}))


@dataclass(frozen=True)
class SupplyChainParams:
    """B2B supply-chain performance and account outcomes (monthly panel).

    account_satisfaction (0-100) = account effect + on_time * (on_time_rate - 90)
    + fill * (fill_rate - 95) + lead_time * (lead_time_days - 5)
    + defect * (defect_rate - 1.5) + N(0, noise_sd); rates in percent.
    logit(share_of_wallet) = account effect + sow_per_sat_point * (satisfaction - 72) + N(0, 0.25).
    """

    base_satisfaction: float = 72.0
    size_satisfaction: tuple[float, float, float] = (4.0, 1.0, -2.0)
    """Account-level satisfaction shift of large / medium / small accounts."""
    account_sd: float = 5.0
    on_time: float = 0.60
    fill: float = 0.80
    lead_time: float = -1.50
    defect: float = -4.00
    noise_sd: float = 4.0
    sow_per_sat_point: float = 0.04
    sow_base_logit: float = -0.2


@dataclass(frozen=True)
class ReferralParams:
    """Referrals made by B2C customers: Poisson with a satisfaction threshold ("apostles").

    rate per active year = base_per_year * exp(slope * max(SAT - threshold, 0)):
    flat below the threshold (a zone of indifference), rising above it.
    """

    base_per_year: float = 0.12
    threshold: float = 0.5
    slope: float = 1.2


@dataclass(frozen=True)
class SiloParams:
    """How the sales, service and web systems hold (mangled) copies of customers."""

    coverage: MappingProxyType = field(default_factory=lambda: _frozen(
        {"sales": 0.95, "service": 0.60, "web": 0.55}))
    """Share of customers each system holds (service: customers with tickets are favoured)."""
    duplicate_rate: float = 0.04
    """Share of extra duplicate records inside a system."""
    traditional_rate: float = 0.05
    homophone_rate: float = 0.03
    stale_phone_rate: float = 0.10
    missing_email_rate: float = 0.15
    phone_typo_rate: float = 0.02


@dataclass(frozen=True)
class WorldParams:
    """All planted parameters of the world. Immutable; use :meth:`override`."""

    customers: CustomerParams = field(default_factory=CustomerParams)
    purchase: PurchaseParams = field(default_factory=PurchaseParams)
    spend: SpendParams = field(default_factory=SpendParams)
    satisfaction: SatisfactionParams = field(default_factory=SatisfactionParams)
    survey: SurveyParams = field(default_factory=SurveyParams)
    churn: ChurnParams = field(default_factory=ChurnParams)
    service: ServiceParams = field(default_factory=ServiceParams)
    campaign: CampaignParams = field(default_factory=CampaignParams)
    golive: GoLiveParams = field(default_factory=GoLiveParams)
    supply_chain: SupplyChainParams = field(default_factory=SupplyChainParams)
    referral: ReferralParams = field(default_factory=ReferralParams)
    silo: SiloParams = field(default_factory=SiloParams)

    def to_dict(self) -> dict:
        """Plain nested dict (JSON-serialisable)."""
        return json.loads(json.dumps(_plain(self)))

    def override(self, changes: dict) -> WorldParams:
        """Return a copy with dotted-path changes applied.

        Keys look like ``"purchase.r"`` or ``"churn.log_hr.satisfaction"``; values are
        numbers, lists or strings. Unknown keys raise ParameterError.
        """
        new = self
        for key, value in changes.items():
            new = _set_path(new, key.split("."), value, key)
        _check_params(new)
        return new


def _plain(obj):
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (dict, MappingProxyType)):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return [_plain(v) for v in obj]
    return obj


def _set_path(obj, parts: list[str], value, full_key: str):
    head, rest = parts[0], parts[1:]
    if dataclasses.is_dataclass(obj):
        names = [f.name for f in dataclasses.fields(obj)]
        if head not in names:
            raise ParameterError(f"unknown world parameter {full_key!r} (no field {head!r})",
                                 fix=f"use one of {names} at this level; see crmlab.synth.params")
        current = getattr(obj, head)
        new_value = _set_path(current, rest, value, full_key) if rest else _coerce(current, value, full_key)
        return dataclasses.replace(obj, **{head: new_value})
    if isinstance(obj, MappingProxyType):
        if head not in obj:
            raise ParameterError(f"unknown world parameter {full_key!r} (no key {head!r})",
                                 fix=f"use one of {sorted(obj)}")
        d = dict(obj)
        d[head] = _set_path(d[head], rest, value, full_key) if rest else _coerce(d[head], value, full_key)
        return MappingProxyType(d)
    raise ParameterError(f"world parameter {full_key!r} goes too deep",
                         fix="stop the dotted path at a number or list")


def _coerce(current, value, key):
    """``value`` converted to the type of the parameter it replaces, or a ParameterError."""
    if dataclasses.is_dataclass(current) or isinstance(current, MappingProxyType):
        names = ([f.name for f in dataclasses.fields(current)] if dataclasses.is_dataclass(current)
                 else list(current))
        raise ParameterError(f"world parameter {key!r} is a group of parameters, not one value",
                             fix=f"set one of its members, e.g. --set {key}.{names[0]}=... "
                                 f"(members: {', '.join(names)})")
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ParameterError(f"world parameter {key!r} must be true or false, got {value!r}",
                                 fix=f"pass --set {key}=true or {key}=false")
        return value
    if isinstance(current, str):
        if not isinstance(value, str) or not value.strip():
            raise ParameterError(f"world parameter {key!r} must be a non-empty text, got {value!r}",
                                 fix=f"pass a name like {current!r}")
        return value
    if isinstance(current, (int, float)):
        number = value
        if isinstance(value, str):
            try:
                number = float(value) if isinstance(current, float) else int(value.replace("_", ""))
            except ValueError:
                number = None
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            kind = "a whole number" if isinstance(current, int) else "a number"
            raise ParameterError(f"world parameter {key!r} must be {kind}, got {value!r}",
                                 fix=f"pass {kind}, e.g. --set {key}={current!r}")
        if not math.isfinite(number):
            raise ParameterError(f"world parameter {key!r} must be finite, got {value!r}",
                                 fix=f"pass a finite number, e.g. --set {key}={current!r}")
        if isinstance(current, int) and number != int(number):
            raise ParameterError(f"world parameter {key!r} must be a whole number, got {value!r}",
                                 fix=f"pass e.g. --set {key}={current!r}")
        return type(current)(number)
    if isinstance(current, tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(current):
            raise ParameterError(f"world parameter {key!r} must be a list of {len(current)} values",
                                 fix=f"pass e.g. {_plain(current)}")
        return tuple(_coerce(c, v, key) for c, v in zip(current, value, strict=True))
    raise ParameterError(f"world parameter {key!r} cannot be set from the command line",
                         fix="build the parameters in Python: WorldParams(...)")


# --- validation ------------------------------------------------------------------------------
# Every numeric parameter gets a rule below; the test suite checks that none is missing, so a
# new parameter cannot slip through unchecked. Rules take (value, dotted name) and raise.

def _each(x):
    """The numbers inside a (possibly nested) tuple, or the number itself."""
    if isinstance(x, (tuple, list)):
        for v in x:
            yield from _each(v)
    else:
        yield x


def _real(low=None, high=None, low_inclusive=True, high_inclusive=True):
    def rule(x, name):
        for v in _each(x):
            check_scalar(v, name, numbers.Real, low, high,
                         low_inclusive=low_inclusive, high_inclusive=high_inclusive)
    return rule


def _whole(low, high):
    def rule(x, name):
        for v in _each(x):
            check_count(v, name, low, high)
    return rule


_FINITE = _real()
_POSITIVE = _real(0, low_inclusive=False)
_NON_NEGATIVE = _real(0)
_SHARE = _real(0, 1)
_OPEN_SHARE = _real(0, 1, low_inclusive=False, high_inclusive=False)


def _probs(x, name):
    """One probability vector, or a tuple of them (one row per segment): each >= 0, sums to 1."""
    nested = bool(x) and isinstance(x[0], (tuple, list))
    for i, row in enumerate(x if nested else (x,)):
        label = f"{name}[{i}]" if nested else name
        for v in row:
            check_probability(v, label)
        total = sum(row)
        if abs(total - 1) > 1e-6:
            shares = [round(v / total, 6) for v in row] if total > 0 else None
            raise ParameterError(f"world parameter {label} must be non-negative and sum to 1, got {list(row)}",
                                 fix=f"normalise the shares, e.g. {shares}" if shares else "give some share > 0")


def _channel_table(x, name):
    """channel -> (share, mean cost): shares sum to 1, costs > 0."""
    for channel, pair in x.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ParameterError(f"world parameter {name}.{channel} must be [share, mean cost], got {pair!r}",
                                 fix=f"pass e.g. --set {name}.{channel}=[0.25,90]")
        share, cost = pair
        check_probability(share, f"{name}.{channel} share")
        check_scalar(cost, f"{name}.{channel} cost", numbers.Real, 0, low_inclusive=False)
    total = sum(pair[0] for pair in x.values())
    if abs(total - 1) > 1e-6:
        raise ParameterError(f"world parameter {name}: the channel shares must sum to 1, they sum to {total:.6g}",
                             fix="normalise the shares")


def _increasing(inner):
    def rule(x, name):
        inner(x, name)
        if any(b <= a for a, b in zip(x, x[1:], strict=False)):
            raise ParameterError(f"world parameter {name} must increase strictly, got {list(x)}",
                                 fix="sort the values and drop repeats")
    return rule


def _names(x, name):
    if not x or not all(isinstance(v, str) and v.strip() for v in x) or len(set(x)) != len(x):
        raise ParameterError(f"world parameter {name} must be distinct non-empty names, got {list(x)}",
                             fix="pass e.g. ['retail', 'services']")


def _loading_scale(x, name):
    # every item's loading times the scale must stay below 1 (its residual variance 1 - l^2 > 0)
    check_scalar(x, name, numbers.Real)
    if not 0 < x < _MAX_LOADING_SCALE:
        raise ParameterError(f"world parameter {name} must lie in (0, {_MAX_LOADING_SCALE:.3f}) so that every "
                             f"item loading (up to 0.90) times it stays below 1, got {x!r}",
                             fix="choose e.g. 0.8 for noisier items, 1.0 for the default")


_MAX_LOADING_SCALE = 1 / 0.90  # the largest item loading is 0.90 (crmlab.synth.generate.SURVEY_ITEMS)

# dotted parameter path -> rule; a MappingProxyType's keys are matched with "*"
_RULES = {
    "customers.share_b2b": _SHARE, "customers.share_legacy": _SHARE,
    "customers.legacy_months": _whole(1, 120),
    "customers.signup_growth": _real(-1, 100, low_inclusive=False),
    "customers.segment_shares": _probs, "customers.b2b_size_shares": _probs,
    "customers.b2b_industries": _names,
    "customers.b2c_channels": _channel_table, "customers.b2b_channels": _channel_table,
    "customers.email_opt_in_shares": _probs,
    "customers.loyalty_member_rate": _SHARE, "customers.community_member_rate": _SHARE,
    "purchase.r": _POSITIVE, "purchase.alpha": _POSITIVE, "purchase.a": _POSITIVE, "purchase.b": _POSITIVE,
    "purchase.dropout_satisfaction_rho": _real(-1, 1, low_inclusive=False, high_inclusive=False),
    "purchase.channel_probs": _probs, "purchase.category_probs": _probs, "purchase.discount_probs": _SHARE,
    "spend.p": _POSITIVE, "spend.q": _real(1, low_inclusive=False), "spend.gamma": _POSITIVE,
    # six equicorrelated drivers: positive definite for -1/5 < rho < 1
    "satisfaction.driver_corr": _real(-0.2, 1, low_inclusive=False, high_inclusive=False),
    "satisfaction.paths.*": _FINITE,  # acsi_structure refuses paths that explain > 1 of a variance
    "satisfaction.service_experience_loading": _SHARE,
    "survey.wave_fractions": _increasing(_OPEN_SHARE),
    "survey.invite_share": _real(0, 1, low_inclusive=False), "survey.response_rate": _OPEN_SHARE,
    "survey.response_satisfaction_logit": _real(-10, 10), "survey.loading_scale": _loading_scale,
    "survey.mode_online_share": _SHARE,
    "churn.membership_rate": _real(0, 1, low_inclusive=False), "churn.plan_probs": _probs,
    "churn.plan_fees": _NON_NEGATIVE, "churn.weibull_shape": _real(0, 20, low_inclusive=False),
    "churn.weibull_scale_months": _POSITIVE, "churn.log_hr.*": _real(-10, 10),
    "churn.b2b_monthly_churn_logit": _real(-20, 20), "churn.b2b_churn_satisfaction_logit": _real(-10, 10),
    "service.b2c_tickets_per_month": _real(0, 50), "service.b2b_tickets_per_month": _real(0, 50),
    "service.complaint_logit": _real(-20, 20), "service.complaint_satisfaction_logit": _real(-10, 10),
    "service.channel_probs": _probs, "service.channel_log_response_hours": _real(-10, 10),
    "service.sla_hours": _POSITIVE, "service.branch_sd": _NON_NEGATIVE, "service.customer_sd": _NON_NEGATIVE,
    "service.ticket_sd": _NON_NEGATIVE, "service.golive_log_response": _real(-10, 10),
    "service.digital_channel_probs": _probs, "service.stage_probs": _probs,
    "service.complaint_stage_probs": _probs, "service.other_type_probs": _probs,
    "service.complaint_log_response": _real(-10, 10), "service.fcr_logit": _real(-20, 20),
    "service.fcr_complaint_logit": _real(-20, 20), "service.work_hours_fcr": _POSITIVE,
    "service.work_hours_no_fcr": _POSITIVE, "service.complaint_log_work": _real(-10, 10),
    "service.work_sd": _NON_NEGATIVE, "service.csat_response_rate": _SHARE,
    "service.csat_log_response": _real(-10, 10), "service.csat_fcr": _real(-10, 10),
    "service.csat_complaint": _real(-10, 10), "service.csat_cutpoints": _increasing(_real(-20, 20)),
    "service.cost_per_ticket": _NON_NEGATIVE,
    "campaign.fraction": _OPEN_SHARE, "campaign.duration_months": _whole(1, 240),
    "campaign.treated_share": _OPEN_SHARE, "campaign.min_tenure_months": _real(0, 240),
    "campaign.offer_cost": _NON_NEGATIVE, "campaign.log_hr_by_segment": _real(-10, 10),
    "golive.cohort_fractions.*": _OPEN_SHARE,
    "supply_chain.base_satisfaction": _real(0, 100), "supply_chain.size_satisfaction": _real(-100, 100),
    "supply_chain.account_sd": _NON_NEGATIVE, "supply_chain.on_time": _FINITE, "supply_chain.fill": _FINITE,
    "supply_chain.lead_time": _FINITE, "supply_chain.defect": _FINITE, "supply_chain.noise_sd": _NON_NEGATIVE,
    "supply_chain.sow_per_sat_point": _real(-10, 10), "supply_chain.sow_base_logit": _real(-20, 20),
    "referral.base_per_year": _real(0, 50), "referral.threshold": _real(-10, 10), "referral.slope": _real(0, 10),
    "silo.coverage.*": _SHARE, "silo.duplicate_rate": _SHARE, "silo.traditional_rate": _SHARE,
    "silo.homophone_rate": _SHARE, "silo.stale_phone_rate": _SHARE, "silo.missing_email_rate": _SHARE,
    "silo.phone_typo_rate": _SHARE,
}


def _parameters(obj, path: str = ""):
    """(dotted path, value) of every parameter; a mapping of channel tables counts as one."""
    for f in dataclasses.fields(obj):
        value, name = getattr(obj, f.name), f"{path}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from _parameters(value, name + ".")
        elif isinstance(value, (MappingProxyType, dict)) and name not in _RULES:
            for k, v in value.items():
                yield f"{name}.{k}", v
        else:
            yield name, value


def _rule_for(name: str):
    if name in _RULES:
        return _RULES[name]
    return _RULES.get(name.rsplit(".", 1)[0] + ".*")


def _check_params(p: WorldParams) -> None:
    """Refuse parameter sets the generator cannot honour (before anything is generated)."""
    default = WorldParams()
    if not isinstance(p, WorldParams):
        raise ParameterError(f"params must be a WorldParams, got {type(p).__name__}",
                             fix="build one with crmlab.synth.WorldParams().override({...})")
    shapes = {name: value for name, value in _parameters(default)}
    for name, value in _parameters(p):
        ref = shapes.get(name)
        if isinstance(ref, tuple) and (not isinstance(value, tuple) or len(value) != len(ref)
                                       or any(isinstance(r, tuple) and len(r) != len(v)
                                              for r, v in zip(ref, value, strict=False))):
            raise ParameterError(f"world parameter {name} must be a list of {len(ref)} values shaped like "
                                 f"{_plain(ref)}, got {_plain(value)}", fix=f"pass e.g. {_plain(ref)}")
        rule = _rule_for(name)
        if rule is None:  # a parameter without a rule is a bug in this file, not in the input
            raise ParameterError(f"world parameter {name} has no validation rule",
                                 fix="add one to crmlab.synth.params._RULES")
        try:
            rule(value, name)
        except ParameterError as err:
            if err.problem.startswith("world parameter"):
                raise
            raise ParameterError(f"world parameter {err.problem}",
                                 fix=f"{err.fix} (the default is {name}={_short(shapes.get(name))})") from None
    for group in ("satisfaction.paths", "churn.log_hr", "golive.cohort_fractions", "silo.coverage",
                  "customers.b2c_channels", "customers.b2b_channels"):
        got = set(_get(p, group))
        want = set(_get(default, group))
        if group != "satisfaction.paths" and got != want:
            raise ParameterError(f"world parameter {group} must have the keys {sorted(want)}, got {sorted(got)}",
                                 fix="change the values of the existing keys only")


def _get(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _short(value):
    """A parameter value as a person writes it (0.6667, not 0.6666666666666666)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(str(_short(v)) for v in value) + "]"
    return value
