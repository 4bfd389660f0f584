"""Load the shipped synthetic world (and real datasets) offline, with the right dtypes.

The default world lives in the repository's ``datasets/`` folder; set the environment
variable ``CRMLAB_DATA`` (or pass ``data_dir=``) to read another world written by
``crmlab generate --out DIR``. Installed without the repository (``pip install crmlab``), the
kit reads the copy of ``datasets/`` that its wheel carries as package data (``crmlab/_data``,
the same bytes). Nothing is ever downloaded.

>>> from crmlab import datasets
>>> customers = datasets.load("customers")
>>> customers["signup_date"].dtype
dtype('<M8[ns]')
>>> datasets.load_meta()["synthetic"]
True

``SCHEMA`` documents every column (type, unit, meaning, 中文 name, how it was
generated); ``datasets/README.md`` is written from it by ``make data``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ColumnError, DatasetNotFoundError, DataValidationError, ParameterError

__all__ = [
    "SCHEMA",
    "TABLE_INFO",
    "find_data_dir",
    "load",
    "load_world",
    "load_truth",
    "load_meta",
    "load_latent",
    "load_silo_matches",
    "list_tables",
    "data_dictionary_markdown",
    "load_cdnow",
    "load_donations",
    "load_ecsi_mobile",
]

# column -> (dtype, unit, meaning, 中文, how generated)
# dtype is one of: int, float, bool, str, date, datetime
_C = tuple[str, str, str, str, str]

TABLE_INFO: dict[str, tuple[str, str, str]] = {
    # table -> (中文, one-line description, grain)
    "customers": ("客户主数据", "Every customer (B2C shoppers and B2B accounts) as the master record holds them.",
                  "one row per customer"),
    "transactions": ("交易记录", "Non-contractual purchases of B2C customers inside the window.",
                     "one row per purchase"),
    "memberships": ("会员订阅", "Paid membership spells (contractual relationship) active at or after the window start.",
                    "one row per membership spell"),
    "survey": ("满意度调查", "Two waves of a customer questionnaire: ACSI block (1-10), touchpoint block (1-5), "
               "CSAT, effort and likelihood to recommend.", "one row per response"),
    "tickets": ("服务工单", "Customer service tickets with response and resolution times and post-ticket CSAT.",
                "one row per ticket"),
    "campaigns": ("客户挽留活动", "A randomised retention campaign among active members.",
                  "one row per eligible member"),
    "branches": ("分支机构", "The 12 regional branches and their CRM go-live dates.", "one row per branch"),
    "branch_kpis": ("分支机构月度指标", "Monthly KPIs each branch reports.", "one row per branch and month"),
    "b2b_accounts": ("企业客户月度面板", "Monthly supply-chain performance and outcomes of B2B accounts.",
                     "one row per account and active month"),
    "silo_sales": ("销售系统客户档案", "The customers as the sales system holds them (mangled copies).",
                   "one row per record"),
    "silo_service": ("客服系统客户档案", "The customers as the service system holds them (mangled copies).",
                     "one row per record"),
    "silo_web": ("网站系统客户档案", "The customers as the web shop holds them (mangled copies).",
                 "one row per record"),
}

_SILO_COMMON: dict[str, _C] = {
    "record_id": ("str", "", "Record key inside this system (S-/K-/W- prefix)", "记录编号", "sequence after shuffling"),
    "name": ("str", "", "Name as keyed in: traditional characters, homophone typos and spaces occur", "姓名",
             "customers.name mangled: ~5% traditional, ~3% homophone typo, ~5% space"),
    "phone": ("str", "", "Phone in one of five formats; sometimes an old number, a typo, or empty", "电话",
              "customers.phone; ~10% of customers changed number and some systems kept the old one; 2% digit swaps"),
    "email": ("str", "", "E-mail, sometimes upper-case or empty", "电子邮箱", "customers.email; 20% upper-cased, 15% missing"),
    "city": ("str", "", "City written as 北京, 北京市 or Beijing", "城市", "branch city with spelling variants"),
    "birth_year": ("float", "year", "Birth year (empty when unknown)", "出生年份", "customers.birth_year, partly missing"),
    "last_updated": ("date", "", "When the record was last edited", "最后更新", "uniform between sign-up and window end"),
}

SCHEMA: dict[str, dict[str, _C]] = {
    "customers": {
        "customer_id": ("int", "", "Customer key (increasing with sign-up date)", "客户编号", "sequence"),
        "name": ("str", "", "Synthetic Chinese name (B2C) or company name (B2B); belongs to nobody", "姓名/企业名称",
                 "random surname + given-name characters"),
        "gender": ("str", "", "F or M (empty for B2B)", "性别", "Bernoulli(0.52 female)"),
        "birth_year": ("float", "year", "Birth year (empty for B2B)", "出生年份", "uniform 1955-2005"),
        "phone": ("str", "", "Current 11-digit mobile number (unique)", "手机号码", "random 1[3-9]x numbers"),
        "email": ("str", "", "E-mail address", "电子邮箱", "pinyin of the name or a QQ number"),
        "branch_id": ("str", "", "Branch that serves the customer (join to branches)", "所属分支机构",
                      "categorical, branch shares"),
        "city": ("str", "", "Branch city", "城市", "from branch"),
        "region": ("str", "", "Sales region of the branch", "大区", "from branch"),
        "signup_date": ("date", "", "First purchase / account opening; before the window for migrated customers",
                        "注册日期", "30% spread over the 24 months before the window, the rest over the window "
                        "with linearly growing intensity"),
        "customer_type": ("str", "", "B2C (consumer) or B2B (business account)", "客户类型", "6% B2B"),
        "size_class": ("str", "", "B2B account size: large / medium / small (empty for B2C)", "客户规模(大/中/小)",
                       "15% / 35% / 50%"),
        "industry": ("str", "", "B2B industry (empty for B2C)", "行业", "uniform over five industries"),
        "acquisition_channel": ("str", "", "How the customer was acquired", "获客渠道",
                                "B2C: search_ads, social_media, referral, store_walk_in, partner; "
                                "B2B: b2b_sales, trade_fair, referral"),
        "acquisition_cost": ("float", "CNY", "Marketing and advertising cost of acquiring this customer", "获客成本",
                             "Gamma(shape 4) around the channel's mean cost"),
        "email_opt_in": ("str", "", "Consent to e-mail marketing: explicit / implicit / none", "邮件营销授权",
                         "45% / 30% / 25%"),
        "loyalty_member": ("bool", "", "Member of the points-based loyalty programme", "会员积分计划成员",
                           "probability depends on the latent segment; lowers churn hazard"),
        "community_member": ("bool", "", "Member of the online community", "网络社区成员",
                             "probability depends on the latent segment"),
        "referrals": ("int", "count", "New customers this customer referred inside the window", "推荐新客户数",
                      "Poisson; flat below a satisfaction threshold, rising above it (ReferralParams)"),
    },
    "transactions": {
        "transaction_id": ("int", "", "Purchase key", "交易编号", "sequence in date order"),
        "customer_id": ("int", "", "Buyer (join to customers)", "客户编号", ""),
        "date": ("date", "", "Purchase date", "交易日期",
                 "first purchase at sign-up, repeats from a Poisson process until BG/NBD dropout"),
        "amount": ("float", "CNY", "Amount paid", "交易金额", "Gamma(p, nu_i), nu_i ~ Gamma(q, gamma) (Gamma-Gamma)"),
        "gross_margin": ("float", "CNY", "Amount x category margin rate", "毛利", "category margin rates in CATEGORIES"),
        "channel": ("str", "", "store / web / app", "购买渠道", "probabilities by latent segment"),
        "category": ("str", "", "Product category", "商品品类", "probabilities by latent segment"),
        "discount_used": ("bool", "", "A discount or coupon was used", "使用优惠", "probability by latent segment"),
    },
    "memberships": {
        "membership_id": ("int", "", "Membership spell key", "会员编号", "sequence"),
        "customer_id": ("int", "", "Member (join to customers)", "客户编号", "65% of B2C customers hold one"),
        "plan": ("str", "", "basic / plus / premium", "会员等级", "probabilities by latent segment"),
        "monthly_fee": ("float", "CNY/month", "Subscription fee", "月费", "19 / 39 / 69"),
        "start_date": ("date", "", "Start of the spell (= sign-up); before the window start = left-truncated",
                       "开始日期", ""),
        "end_date": ("date", "", "Cancellation date; empty if still active at the observation end (right-censored)",
                     "结束日期", "Cox hazard with Weibull baseline and time-varying covariates (ChurnParams)"),
        "churned": ("bool", "", "Cancelled inside the window", "是否流失", "end_date is set"),
        "cancel_reason": ("str", "", "Stated reason: price / service / product / competitor / moved_or_no_need",
                          "流失原因", "multinomial logit on the customer's weakest driver"),
    },
    "survey": {
        "response_id": ("int", "", "Response key", "问卷编号", "sequence"),
        "customer_id": ("int", "", "Respondent (join to customers)", "客户编号",
                        "all active B2C customers invited; response more likely when satisfied (non-response bias)"),
        "wave": ("int", "", "Survey wave 1 or 2", "调查轮次", "wave dates in world.json"),
        "response_date": ("date", "", "Date answered", "回答日期", "within 3 weeks of the wave start"),
        "mode": ("str", "", "online / phone", "调查方式", "70% online"),
        **{k: ("int", "1-10", v, z, "ACSI-style item: rounded, clipped linear function of its latent (see truth.json acsi.loadings)")
           for k, v, z in (
               ("exp_overall", "Expectation: overall quality expected before buying", "总体期望"),
               ("exp_customization", "Expectation: fit to personal needs", "个性化期望"),
               ("exp_reliability", "Expectation: how often things would go wrong", "可靠性期望"),
               ("pq_overall", "Perceived quality: overall", "总体感知质量"),
               ("pq_customization", "Perceived quality: fit to personal needs", "个性化感知质量"),
               ("pq_reliability", "Perceived quality: reliability", "可靠性感知质量"),
               ("pv_price_given_quality", "Perceived value: price given the quality", "给定质量的价格评价"),
               ("pv_quality_given_price", "Perceived value: quality given the price", "给定价格的质量评价"),
               ("sat_overall", "Satisfaction: overall", "总体满意度"),
               ("sat_confirm_expectations", "Satisfaction: met expectations", "期望符合度"),
               ("sat_vs_ideal", "Satisfaction: close to the ideal retailer", "与理想对比"),
               ("comp_voiced", "Complaints: voiced dissatisfaction (high = more)", "抱怨表达"),
               ("comp_problems", "Complaints: problems experienced (high = more)", "问题经历"),
               ("loy_repurchase", "Loyalty: likelihood to buy again", "再购意愿"),
               ("loy_price_tolerance", "Loyalty: would stay after a price rise", "价格容忍度"),
           )},
        "recommend_0_10": ("int", "0-10", "Likelihood to recommend (NPS item: 9-10 promoter, 0-6 detractor)",
                           "推荐意愿", "loads on latent loyalty"),
        **{k: ("int", "1-5", v, z, g) for k, v, z, g in (
            ("q_product_quality", "Product quality is good", "产品质量", "driver: product quality"),
            ("q_product_reliability", "Products work reliably", "产品可靠性", "driver: product quality"),
            ("q_staff_attitude", "Staff attitude is good", "服务态度", "driver: service attitude"),
            ("q_staff_courtesy", "Staff are courteous", "员工礼貌", "driver: service attitude"),
            ("q_service_efficiency", "Service is efficient", "服务效率", "driver: service efficiency"),
            ("q_response_speed", "Responses are fast", "响应速度", "driver: service efficiency"),
            ("q_wait_too_long", "I wait too long for help (REVERSE-KEYED)", "等待时间过长(反向题)",
             "driver: service efficiency, negative loading"),
            ("q_service_quality", "Overall service quality", "服务质量", "cross-loads on attitude and efficiency"),
            ("q_purchase_experience", "Buying is a pleasant experience", "购买体验", "driver: purchase experience"),
            ("q_checkout_ease", "Checkout is easy", "结算便利", "driver: purchase experience"),
            ("q_hard_to_find", "Products are hard to find (REVERSE-KEYED)", "商品难找(反向题)",
             "driver: purchase experience, negative loading"),
            ("q_price_fairness", "Prices are reasonable", "价格合理性", "driver: price fairness"),
            ("q_price_competitive", "Prices are competitive", "价格竞争力", "driver: price fairness"),
            ("q_trust", "I trust the company", "信任", "driver: emotional connection"),
            ("q_emotional_connection", "I feel connected to the brand", "情感联系", "driver: emotional connection"),
            ("q_positive_feelings", "Shopping here makes me feel good", "积极情绪", "driver: emotional connection"),
        )},
        "csat_1_5": ("int", "1-5", "Overall CSAT (top-2-box = 4 or 5)", "顾客满意度评分", "loads on latent satisfaction"),
        "effort_1_7": ("int", "1-7", "Customer effort score (high = more effort)", "客户费力度",
                       "minus efficiency and purchase-experience drivers"),
    },
    "tickets": {
        "ticket_id": ("int", "", "Ticket key", "工单编号", "sequence in time order"),
        "customer_id": ("int", "", "Customer (join to customers)", "客户编号",
                        "Poisson process while the relationship is active"),
        "opened_at": ("datetime", "", "When the ticket was opened (minute)", "创建时间", ""),
        "channel": ("str", "", "phone / online_chat / email / app", "服务渠道", "digital segment uses chat/app more"),
        "stage": ("str", "", "pre_sale / in_sale / after_sale", "服务阶段(售前/售中/售后)", "complaints mostly after sale"),
        "type": ("str", "", "complaint / inquiry / technical / return", "工单类型",
                 "P(complaint) falls with satisfaction (logit)"),
        "first_response_hours": ("float", "hours", "Time to first response", "首次响应时长",
                                 "log-normal: channel + branch + customer effects, faster after CRM go-live"),
        "resolution_hours": ("float", "hours", "Time to resolution", "解决时长", "first response + work time"),
        "first_contact_resolution": ("bool", "", "Solved at the first contact", "首次解决", "logit, lower for complaints"),
        "sla_met": ("bool", "", "First response within the channel's SLA target", "达到服务水平协议",
                    "targets: phone 0.25 h, chat 0.1 h, email 24 h, app 4 h"),
        "post_ticket_csat": ("float", "1-5", "Satisfaction with this ticket (empty = not answered)", "工单满意度",
                             "ordered logit on log response time, FCR and complaint; 35% missing at random"),
    },
    "campaigns": {
        "campaign_id": ("str", "", "Campaign key", "活动编号", ""),
        "customer_id": ("int", "", "Eligible member (join to customers)", "客户编号",
                        "members active at the campaign date with >= 3 months tenure"),
        "assigned_date": ("date", "", "Randomisation date", "分组日期", ""),
        "treatment": ("int", "0/1", "1 = received the retention offer", "实验组", "complete randomisation, 50%"),
        "offer_channel": ("str", "", "email / sms / app_push (none for control)", "触达渠道", "e-mail if explicit opt-in"),
        "offer_cost": ("float", "CNY", "Cost of the offer", "活动成本", "20 per treated member"),
        "retained_6m": ("int", "0/1", "Membership still active 6 months later", "6个月留存",
                        "treatment lowers the churn hazard by a segment-specific ratio"),
    },
    "branches": {
        "branch_id": ("str", "", "Branch key", "分支编号", ""),
        "city": ("str", "", "City (中文)", "城市", ""),
        "city_en": ("str", "", "City (English)", "城市(英文)", ""),
        "region": ("str", "", "Sales region", "大区", ""),
        "crm_cohort": ("str", "", "Go-live cohort A/B/C, N = not in the window", "上线批次", ""),
        "crm_golive_date": ("date", "", "When the branch's CRM system went live (empty = not yet)", "CRM上线日期",
                            "staggered: 1/3, 1/2 and 2/3 through the window"),
    },
    "branch_kpis": {
        "branch_id": ("str", "", "Branch", "分支编号", ""),
        "month": ("date", "", "First day of the month", "月份", ""),
        "crm_live": ("int", "0/1", "CRM system live this month", "CRM已上线", ""),
        "members_start": ("int", "count", "Members active at the month start", "月初会员数", ""),
        "members_churned": ("int", "count", "... of whom cancelled during the month", "当月流失会员数", ""),
        "retention_rate": ("float", "share", "1 - members_churned / members_start", "会员留存率",
                           "go-live lowers the churn hazard (DiD target in truth.json golive)"),
        "new_customers": ("int", "count", "Customers who signed up in the month", "新增客户数", ""),
        "marketing_spend": ("float", "CNY", "Acquisition spend on the month's new customers", "营销投入", ""),
        "cac": ("float", "CNY", "marketing_spend / new_customers", "客户获得成本", ""),
        "purchasing_customers": ("int", "count", "Customers with a purchase in the month", "购买客户数", ""),
        "revenue": ("float", "CNY", "Sales revenue", "销售收入", ""),
        "gross_margin": ("float", "CNY", "Gross margin", "毛利", ""),
        "tickets": ("int", "count", "Service tickets opened", "工单数", ""),
        "complaints": ("int", "count", "Complaint tickets opened", "投诉数", ""),
        "median_first_response_hours": ("float", "hours", "Median first response time", "首次响应时长中位数", ""),
        "sla_met_rate": ("float", "share", "Share of tickets meeting the SLA", "服务水平达成率", ""),
        "mean_post_ticket_csat": ("float", "1-5", "Mean post-ticket CSAT", "工单满意度均值", ""),
        "service_cost": ("float", "CNY", "tickets x handling cost per ticket (25 CNY)", "服务成本", ""),
    },
    "b2b_accounts": {
        "account_id": ("int", "", "B2B customer (join to customers.customer_id)", "企业客户编号", ""),
        "month": ("date", "", "First day of the month", "月份", ""),
        "orders": ("int", "count", "Orders placed", "订单数", "Poisson by size class"),
        "order_value": ("float", "CNY", "Value of the orders", "订单金额", ""),
        "on_time_rate": ("float", "%", "Orders delivered on time", "准时交付率", "logit-normal: size + regional shock"),
        "fill_rate": ("float", "%", "Order lines filled from stock", "订单满足率", "logit-normal"),
        "lead_time_days": ("float", "days", "Order-to-delivery time", "交货周期", "log-normal around 5 days"),
        "defect_rate": ("float", "%", "Defective units", "产品缺陷率", "logit-normal around 1.5%"),
        "account_satisfaction": ("float", "0-100", "Account satisfaction score", "客户满意度",
                                 "linear in the four supply-chain metrics + account effect (SupplyChainParams)"),
        "share_of_wallet": ("float", "share", "Our share of the account's purchases", "钱包份额",
                            "logit linear in account satisfaction"),
        "churned": ("bool", "", "Account left at the end of this month", "是否流失", "logit in satisfaction"),
    },
    "silo_sales": {**_SILO_COMMON,
                   "customer_since": ("date", "", "Customer since (sales system)", "客户起始日", "sign-up date")},
    "silo_service": {**_SILO_COMMON,
                     "vip": ("bool", "", "Flagged VIP by service", "VIP标识", "loyalty-programme membership")},
    "silo_web": {**_SILO_COMMON,
                 "username": ("str", "", "Web shop user name", "用户名", "random")},
}

_DTYPES = {"int": "int64", "float": "float64", "bool": "bool", "str": "object"}


# the repository's datasets/ (a clone, an editable install) and the copy a built wheel carries
# (setup.py copies datasets/ to crmlab/_data at build time)
_REPO_DATA = Path(__file__).resolve().parent.parent / "datasets"
_PACKAGE_DATA = Path(__file__).resolve().parent / "_data"


def _shipped_dir(*parts: str, marker: str | None = None) -> Path:
    """``datasets/<parts>`` of the repository if it is there, else the installed package's copy.

    ``marker`` is a file that must exist in the folder (default: the folder itself). When
    neither holds it, the repository path is returned, for the caller's error message.
    """
    for root in (_REPO_DATA, _PACKAGE_DATA):
        folder = root.joinpath(*parts)
        if (folder / marker).is_file() if marker else folder.is_dir():
            return folder
    return _REPO_DATA.joinpath(*parts)


def find_data_dir(data_dir: str | Path | None = None) -> Path:
    """The folder a world is read from.

    In this order: the argument ``data_dir``; the environment variable ``CRMLAB_DATA``; the
    repository's ``datasets/`` (a clone or an editable install); the copy of ``datasets/``
    installed with the package (``crmlab/_data``, byte-identical, when crmlab was installed
    from a wheel without the repository). An argument or ``CRMLAB_DATA`` naming a folder
    without a world is an error, never a silent fall-back to the default world.

    >>> (find_data_dir() / "customers.csv").is_file()
    True
    """
    if data_dir is not None:
        path = Path(data_dir)
    elif os.environ.get("CRMLAB_DATA"):
        path = Path(os.environ["CRMLAB_DATA"])
    else:
        path = _shipped_dir(marker="customers.csv")
        if not (path / "customers.csv").exists():
            raise DatasetNotFoundError(
                f"no crmlab world found: neither {_REPO_DATA} (a repository checkout) nor {_PACKAGE_DATA} "
                "(the copy installed with the package) holds customers.csv",
                fix="in the repository run `make data`; for an installed package reinstall it "
                    "(`pip install --force-reinstall crmlab`), or write a world with `crmlab generate --out DIR` "
                    "and pass data_dir=DIR (or set CRMLAB_DATA=DIR)")
        return path
    if not (path / "customers.csv").exists():
        raise DatasetNotFoundError(
            f"no crmlab world found in {path}",
            fix="run `make data` in the repository, or `crmlab generate --out DIR` and pass data_dir=DIR "
                "(or set CRMLAB_DATA=DIR)")
    return path


def list_tables() -> list[str]:
    """Names of the shipped tables."""
    return list(SCHEMA)


# the spellings of a boolean cell that load() accepts (compared case-insensitively)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
# (table, column) pairs whose data dictionary entry allows a missing boolean (none so far)
_NULLABLE_BOOL: frozenset[tuple[str, str]] = frozenset()

_REGENERATE = "regenerate the world with `make data` (or `crmlab generate --out DIR --force` for another world)"


def _fail(path: Path, problem: str, fix: str = _REGENERATE) -> DataValidationError:
    return DataValidationError(f"{path} {problem}", fix=fix)


def _check_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise DatasetNotFoundError(f"{what} {path} is missing" + (" (it is a folder)" if path.is_dir() else ""),
                                   fix=_REGENERATE)


def _read_text(path: Path, what: str) -> str:
    """The text of a world file, or a DatasetNotFoundError / DataValidationError with a fix."""
    _check_file(path, what)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise _fail(path, f"is not UTF-8 text (byte {err.start})") from None


def _read_csv(path: Path, what: str, **kwargs) -> pd.DataFrame:
    """``pd.read_csv`` of a world file; a missing, empty or garbled file gets a crmlab error.

    A typed column that does not parse propagates pandas' ``ValueError`` for the caller to
    locate (see :func:`load`).
    """
    _check_file(path, what)
    try:
        return pd.read_csv(path, encoding="utf-8", **kwargs)
    except pd.errors.EmptyDataError:
        raise _fail(path, "is empty (no header line)") from None
    except pd.errors.ParserError as err:
        raise _fail(path, f"is not a well-formed CSV table ({str(err).strip().splitlines()[0]})") from None
    except UnicodeDecodeError as err:
        raise _fail(path, f"is not UTF-8 text (byte {err.start})") from None


def _bad_cell(path: Path, raw: pd.Series, ok: pd.Series, col: str, expected: str) -> DataValidationError:
    """Name the first cell of ``col`` that ``ok`` rejects (line numbers count the header as 1)."""
    i = int(np.flatnonzero(~ok.to_numpy(dtype=bool))[0])
    value = raw.iloc[i]
    shown = "an empty cell" if pd.isna(value) or value == "" else repr(value)
    return _fail(path, f"column {col!r} has {shown} on line {i + 2} (row {i}); expected {expected}",
                 fix=f"correct or remove that row, or {_REGENERATE}")


def _parse_bool(path: Path, raw: pd.Series, col: str, nullable: bool) -> pd.Series:
    """True/False, true/false, 1/0, yes/no (any case); anything else is an error, never True."""
    text = raw.astype("string").str.strip().str.lower()
    is_true, is_false = text.isin(_TRUE).fillna(False), text.isin(_FALSE).fillna(False)
    ok = is_true | is_false | (text.isna() if nullable else False)
    if not ok.all():
        raise _bad_cell(path, raw, ok, col, "True/False, 1/0 or yes/no" + (" or empty" if nullable else ""))
    if nullable:
        return pd.Series(pd.array(np.where(text.isna(), None, is_true), dtype="boolean"), index=raw.index)
    return is_true.astype(bool)


def load(table: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Read one table with the documented dtypes (dates parsed, booleans as bool).

    Booleans are read strictly: ``True``/``False``, ``true``/``false``, ``1``/``0`` or
    ``yes``/``no`` in any case; any other value, or an empty cell, raises
    :class:`~crmlab.errors.DataValidationError` naming the column and the line, as does a
    number or date that does not parse. A missing file raises
    :class:`~crmlab.errors.DatasetNotFoundError`.

    >>> load("branches").shape
    (12, 6)
    """
    if table not in SCHEMA:
        raise ParameterError(f"unknown table {table!r}", fix=f"use one of {list(SCHEMA)}")
    folder = find_data_dir(data_dir)
    path = folder / f"{table}.csv"
    cols = SCHEMA[table]
    read_types = {c: ("object" if t in ("str", "date", "datetime", "bool") else _DTYPES[t])
                  for c, (t, *_rest) in cols.items()}
    # nullable ints are stored as floats; missing strings stay NaN
    options = {"keep_default_na": False, "na_values": [""]}
    what = f"table file for {table!r}"
    try:
        df = _read_csv(path, what, dtype={c: t for c, t in read_types.items() if t != "int64"}, **options)
    except DataValidationError:
        raise
    except ValueError:  # a number column holds text: find the cell
        df = _read_csv(path, what, dtype=str, **options)
        for col, (kind, *_rest) in cols.items():
            if kind in ("int", "float") and col in df.columns:
                parsed = pd.to_numeric(df[col], errors="coerce")
                ok = parsed.notna() | df[col].isna()
                if not ok.all():
                    raise _bad_cell(path, df[col], ok, col, "a number") from None
        raise
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ColumnError(f"{path.name} lacks documented column(s) {missing}",
                          fix="the file is from another crmlab version; regenerate it with `make data`")
    for col, (kind, *_rest) in cols.items():
        raw = df[col]
        if kind in ("date", "datetime"):
            fmt = "%Y-%m-%d %H:%M" if kind == "datetime" else "%Y-%m-%d"
            parsed = pd.to_datetime(raw, format=fmt, errors="coerce")
            ok = parsed.notna() | raw.isna()
            if not ok.all():
                raise _bad_cell(path, raw, ok, col, f"a date like {pd.Timestamp('2024-03-31 09:30').strftime(fmt)!r}")
            df[col] = parsed
        elif kind == "bool":
            df[col] = _parse_bool(path, raw, col, (table, col) in _NULLABLE_BOOL)
        elif kind == "int":
            if not pd.api.types.is_integer_dtype(raw):
                parsed = pd.to_numeric(raw, errors="coerce")
                ok = parsed.notna() & (parsed == np.round(parsed))
                if not ok.all():
                    raise _bad_cell(path, raw, ok, col, "a whole number")
                raw = parsed
            df[col] = raw.astype("int64")
    return df[list(cols)]


def _read_json(data_dir, name: str) -> dict:
    path = find_data_dir(data_dir) / name
    text = _read_text(path, name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise _fail(path, f"is not valid JSON (line {err.lineno}: {err.msg})") from None


def load_meta(data_dir: str | Path | None = None) -> dict:
    """Window dates, seed, survey and campaign dates of the world (``world.json``)."""
    return _read_json(data_dir, "world.json")


def load_truth(data_dir: str | Path | None = None) -> dict:
    """The planted parameters (``truth.json``). For checking estimates, not for fitting."""
    return _read_json(data_dir, "truth.json")


def load_latent(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Per-customer latent truth (segment, latent satisfaction, BG/NBD draws...)."""
    path = find_data_dir(data_dir) / "truth" / "customers_latent.csv"
    df = _read_csv(path, "latent truth")
    if "purchase_dropout_date" not in df.columns:
        raise ColumnError(f"{path} lacks the column 'purchase_dropout_date'", fix=_REGENERATE)
    raw = df["purchase_dropout_date"]
    parsed = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
    ok = parsed.notna() | raw.isna()
    if not ok.all():
        raise _bad_cell(path, raw, ok, "purchase_dropout_date", "a date like '2024-03-31'")
    df["purchase_dropout_date"] = parsed
    return df


def load_silo_matches(data_dir: str | Path | None = None) -> pd.DataFrame:
    """True links between silo records and customers (the record-linkage answer key)."""
    return _read_csv(find_data_dir(data_dir) / "truth" / "silo_matches.csv", "record-link truth")


def load_world(data_dir: str | Path | None = None):
    """Every table, the truth and the meta data as a :class:`crmlab.synth.World`."""
    from .synth.world import World

    return World(tables={t: load(t, data_dir) for t in SCHEMA}, truth=load_truth(data_dir),
                 latent=load_latent(data_dir), silo_matches=load_silo_matches(data_dir),
                 meta=load_meta(data_dir))


def data_dictionary_markdown(meta: dict | None = None) -> str:
    """The data dictionary as Markdown (written to ``datasets/README.md`` by ``make data``)."""
    lines = []
    for table, cols in SCHEMA.items():
        zh, desc, grain = TABLE_INFO[table]
        rows = f" ({meta['rows'][table]:,} rows in the shipped world)" if meta and table in meta.get("rows", {}) else ""
        lines += [f"### `{table}` — {zh}", "", f"{desc} Grain: {grain}{rows}.", "",
                  "| column | type | unit | meaning | 中文 | how it was generated |",
                  "|---|---|---|---|---|---|"]
        for col, (kind, unit, meaning, zh_c, gen) in cols.items():
            lines.append(f"| `{col}` | {kind} | {unit} | {meaning} | {zh_c} | {gen} |")
        lines.append("")
    return "\n".join(lines)


_CDNOW_FILES = {"transactions": "CDNOW_sample.txt", "summary": "cdnow_customers_summary_with_transactions.csv"}


def _real_file(folder: str, name: str, path, what: str) -> Path:
    """The file ``name`` of the real data set ``datasets/real/<folder>``, or of ``path`` (the
    folder holding it, or the file itself), with one error wording for all real-data loaders."""
    if path is None:
        path = _shipped_dir("real", folder)
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"path must be a folder or a file name, got {type(path).__name__}",
                             fix=f"pass e.g. path='data/{folder}' (the folder) or the file itself")
    path = Path(path)
    file = path / name if path.is_dir() else path
    if not file.is_file():
        raise DatasetNotFoundError(
            f"{what} file {file} is missing",
            fix=f"pass path= the folder holding {name!r} (or the file itself); the shipped copy lives in "
                f"datasets/real/{folder} (restore it from the repository, see its README.md; an installed "
                f"package carries it as crmlab/_data/real/{folder}: reinstall crmlab)")
    return file


def load_cdnow(kind: str = "transactions", path: str | Path | None = None) -> pd.DataFrame:
    """The CDNOW sample of Fader & Hardie: REAL data (2,357 customers, 1997-01 to 1998-06).

    ``kind="transactions"``: one row per log line — ``master_id``, ``customer_id`` (1-2357),
    ``date``, ``cds`` (number of CDs), ``amount`` (US dollars).
    ``kind="summary"``: the published calibration summary (x, t_x, T in weeks, zbar in
    dollars), renamed to ``frequency``, ``recency``, ``T``, ``monetary_value`` and indexed by
    ``customer_id``.

    ``path`` is a folder holding the files under their published names
    (``CDNOW_sample.txt``, ``cdnow_customers_summary_with_transactions.csv``) or the file
    itself; by default the copy shipped in ``datasets/real/cdnow`` (installed with the package
    as ``crmlab/_data/real/cdnow``; see its README for provenance and terms). Nothing is
    downloaded.

    >>> load_cdnow().shape
    (6919, 5)
    >>> load_cdnow("summary")["frequency"].sum()
    np.int64(2457)
    """
    from .errors import DataValidationError
    from .validation import check_option

    check_option(kind, "kind", list(_CDNOW_FILES))
    file = _real_file("cdnow", _CDNOW_FILES[kind], path, "CDNOW")
    try:
        if kind == "transactions":
            tx = pd.read_csv(file, sep=r"\s+", header=None,
                             names=["master_id", "customer_id", "date", "cds", "amount"],
                             dtype={"master_id": str, "customer_id": "int64", "date": str, "cds": "int64",
                                    "amount": float})
            tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
            return tx
        df = pd.read_csv(file)
        if df.shape[1] != 5:
            raise ValueError(f"{df.shape[1]} columns")
        df.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
        df = df.astype({"customer_id": "int64", "frequency": "int64", "recency": float, "T": float,
                        "monetary_value": float})
        return df.set_index("customer_id")
    except (ValueError, TypeError, pd.errors.ParserError) as err:
        layout = ("5 whitespace-separated columns without a header: master id, customer id, date as YYYYMMDD, "
                  "number of CDs, dollars" if kind == "transactions"
                  else "a CSV with the header ID,x,t_x,T,zbar and one row per customer")
        raise DataValidationError(f"{file} is not the CDNOW {kind} file ({err})",
                                  fix=f"the {kind} file has {layout}; check kind= and path=") from err


def load_donations(path: str | Path | None = None) -> pd.DataFrame:
    """The 1995 donor cohort of Fader, Hardie & Shang (2010): REAL data, 22 patterns of 11,104 donors.

    One row per (x, t_x) pattern over the 6 yearly opportunities 1996-2001: ``frequency``
    (repeat donations), ``recency`` (the year of the last one, 1-6; 0 if none), ``n_periods``
    (6) and ``weights`` (number of donors with that pattern). ``path`` is the folder holding
    ``donations.csv`` or the file itself; by default the copy shipped in
    ``datasets/real/donations`` (see its README for provenance and terms).

    >>> d = load_donations()
    >>> d.shape, int(d["weights"].sum())
    ((22, 4), 11104)
    """
    file = _real_file("donations", "donations.csv", path, "donation")
    df = pd.read_csv(file)
    need = {"frequency", "recency", "periods", "weights"}
    if not need <= set(df.columns):
        from .errors import DataValidationError

        raise DataValidationError(f"{file} does not have the columns {sorted(need)}",
                                  fix="restore the shipped file or pass the right one")
    return df.rename(columns={"periods": "n_periods"})[["frequency", "recency", "n_periods", "weights"]]


def load_ecsi_mobile(kind: str = "survey", path: str | Path | None = None) -> pd.DataFrame:
    """The ECSI mobile-phone survey: REAL data, 250 respondents, 24 items on 1-10.

    ``kind="survey"``: one row per respondent, the items of
    :data:`crmlab.pls.ECSI_MOBILE_MEASUREMENT`. ``kind="published"``: the published PLS
    estimates on these data, one row per number (columns ``source, scheme, quantity,
    source_var, target_var, value, decimals``): path coefficients, loadings, outer weights and
    total effects of Monecke & Leisch (2012) and the SmartPLS 2.0 tables for the three
    weighting schemes. ``path`` is the folder holding the files or the file itself; by default
    the copy in ``datasets/real/ecsi_mobile`` (see its README for provenance and terms).

    >>> load_ecsi_mobile().shape
    (250, 24)
    """
    from .validation import check_option

    check_option(kind, "kind", ["survey", "published"])
    files = {"survey": "mobi_250.txt", "published": "published_estimates.csv"}
    file = _real_file("ecsi_mobile", files[kind], path, "ECSI mobile")
    if kind == "survey":
        return pd.read_csv(file, sep="\t", dtype="int64")
    return pd.read_csv(file)
