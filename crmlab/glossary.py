"""The kit's one bilingual glossary: English and 中文 (simplified) CRM terms.

The course's source texts are Chinese, the notebooks English; every notebook gives the
中文 term beside the English one at first use and ends with a glossary table. All of
those come from here, so a term is translated the same way everywhere.

Each :class:`Term` carries its topic tag, a one-line definition and its anchor in the
source texts as ``shared/topics.md`` cites them (e.g. ``"S000 §8.1(4)"``), or ``"[EXT]"``
for standard textbook and method terms the texts do not name (NPS, Kaplan–Meier, ...).

>>> from crmlab import glossary
>>> glossary.bilingual("CLV")
'customer lifetime value (客户生命周期价值)'
>>> glossary.lookup("客户流失率").english
'churn rate'
>>> glossary.lookup("kaplan meier").source
'[EXT]'
>>> glossary.table(terms=["churn rate", "NPS"])[["English", "topic"]].values.tolist()
[['net promoter score', 'satisfaction'], ['churn rate', 'churn']]
>>> glossary.lookup("customer lifetime valeu")
Traceback (most recent call last):
...
crmlab.errors.ParameterError: unknown glossary term 'customer lifetime valeu'. Fix: did you mean one of 'customer lifetime value', 'customer delivered value', 'customer lifecycle'? Browse every term with crmlab.glossary.table()
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from .errors import ParameterError

__all__ = ["Term", "GLOSSARY", "TOPICS", "TOPIC_LABELS", "lookup", "bilingual", "table", "topics"]

# Topic tags in course order (notebooks 00-12); table() sorts by this order.
TOPIC_LABELS: dict[str, tuple[str, str]] = {
    "crm_basics": ("what CRM is", "客户关系管理基础"),
    "strategy": ("CRM strategy", "客户关系管理战略"),
    "data": ("customer data and privacy", "客户信息与隐私"),
    "segmentation": ("classification and segmentation", "客户分类与细分"),
    "value": ("customer value", "客户价值"),
    "satisfaction": ("customer satisfaction", "客户满意度"),
    "loyalty": ("customer loyalty", "客户忠诚度"),
    "churn": ("churn and retention", "客户流失与保留"),
    "service": ("customer service", "客户服务"),
    "supply_chain": ("supply-chain collaboration", "供应链协同"),
    "performance": ("CRM performance evaluation", "绩效评估"),
    "technology": ("CRM technology and implementation", "技术与实施"),
    "methods": ("analytic methods", "分析方法"),
}
TOPICS: tuple[str, ...] = tuple(TOPIC_LABELS)

EXT = "[EXT]"


@dataclass(frozen=True)
class Term:
    """One glossary entry (immutable).

    ``aliases`` are extra spellings :func:`lookup` accepts (abbreviations such as
    ``"CLV"``, American spellings, alternative 中文 names); they never appear in tables.

    >>> t = Term("churn rate", "客户流失率", "churn", "Share lost.", "S000 §2.2.2")
    >>> str(t)
    'churn rate (客户流失率)'
    """

    english: str
    chinese: str
    topic: str
    definition: str
    source: str
    aliases: tuple[str, ...] = ()

    @property
    def bilingual(self) -> str:
        """``"english (中文)"``, the form notebooks use at a term's first mention."""
        return f"{self.english} ({self.chinese})"

    def __str__(self) -> str:
        return self.bilingual


def _t(english, chinese, topic, definition, source, *aliases) -> Term:
    return Term(english, chinese, topic, definition, source, tuple(aliases))


GLOSSARY: tuple[Term, ...] = (
    # ---- crm_basics: what CRM is (S004 §1 four perspectives, S002 Ch4 §1 core elements) ----
    _t("customer relationship management", "客户关系管理", "crm_basics",
       "A customer-centred way of running a firm: collect, analyse and use customer information "
       "to win, keep and grow profitable relationships.", "S000 §1.1; S004 §1", "CRM"),
    _t("customer-centred management philosophy", "以客户为中心的管理理念", "crm_basics",
       "Organising products, processes and culture around customers' needs rather than around "
       "products.", "S000 §1.1; S002 Ch4 §1–2; S003 §1; S004 §1(1)",
       "customer-centric philosophy", "customer centred philosophy"),
    _t("business philosophy perspective", "经营理念视角", "crm_basics",
       "CRM as a philosophy: long-term relationships build loyalty, and loyalty drives firm "
       "performance.", "S004 §1(1)"),
    _t("business process perspective", "业务流程视角", "crm_basics",
       "CRM as a hierarchy of activities that turn inputs (people, capital, technology) into "
       "outputs customers value.", "S004 §1(2)"),
    _t("enterprise strategy perspective", "企业战略视角", "crm_basics",
       "CRM as strategy: customers differ in value, so resources follow each relationship's "
       "value and relationships are managed as assets.", "S004 §1(3)"),
    _t("information technology perspective", "信息技术视角", "crm_basics",
       "CRM as systems that collect, track and analyse customer data and integrate channels "
       "with the back office.", "S004 §1(4)", "IT perspective"),
    _t("core elements of CRM", "客户关系管理核心要素", "crm_basics",
       "The three building blocks S002 names: customer data, customer communication and "
       "customer service.", "S002 Ch4 §1", "core elements"),
    _t("customer data", "客户数据", "crm_basics",
       "What a CRM system holds about customers: profile, purchase records, service needs, "
       "preferences and feedback.", "S002 Ch4 §1", "customer information", "客户信息"),
    _t("customer communication", "客户沟通", "crm_basics",
       "Two-way contact between firm and customer by phone, e-mail, social media and other "
       "channels.", "S000 §2.1.4; S002 Ch4 §1"),
    _t("customer service", "客户服务", "crm_basics",
       "Help given to customers before, during and after a sale, including complaint handling.",
       "S000 §5.1; S002 Ch4 §1"),
    _t("data-driven decision making", "数据驱动决策", "crm_basics",
       "Basing customer decisions on tracked behaviour and analysed data rather than on "
       "intuition.", "S002 Ch4 §2", "data-driven decisions"),
    _t("business customer", "企业客户", "crm_basics",
       "A firm that buys from the company (a B2B account), as opposed to a consumer.", EXT,
       "B2B", "B2B account", "business account"),
    _t("consumer customer", "个人客户", "crm_basics",
       "An individual shopper (B2C), as opposed to a business account.", EXT, "B2C", "consumer"),
    _t("e-commerce CRM", "电子商务客户关系管理", "crm_basics",
       "Internet-based CRM: one shared customer record, consistent answers from every "
       "department, multichannel contact and a full interaction history.", "S003 §2",
       "internet-based CRM"),

    # ---- strategy (S000 Ch2, S001 §11.1-11.3) ----
    _t("CRM strategy", "客户关系管理战略", "strategy",
       "The overall plan for building long-term, stable customer relationships and what it "
       "requires of organisation, technology, process and business model.",
       "S000 §2.1; S001 §11.1.1", "customer relationship management strategy", "CRM战略"),
    _t("value premise", "价值前提", "strategy",
       "The value the firm promises its target customers; the first content of a CRM strategy.",
       "S001 §11.1.1", "value proposition"),
    _t("customer strategy", "客户战略", "strategy",
       "Which customers the firm focuses on and how it wins, keeps and grows them; the second "
       "content of a CRM strategy.", "S001 §11.1.1"),
    _t("enterprise change plan", "企业变革计划", "strategy",
       "The changes to organisation, processes and systems a CRM strategy needs; its third "
       "content.", "S001 §11.1.1", "enterprise transformation plan"),
    _t("goal decomposition", "目标分解", "strategy",
       "Breaking the overall CRM goal into management goals for finance, customers, operations, "
       "organisation and people, and IT.", "S001 §11.1.2(3)", "goal tree", "KPI tree"),
    _t("CRM readiness", "准备度", "strategy",
       "How ready the firm is to do CRM (leadership, data, processes, skills); it shapes the "
       "working methods and principles.", "S001 §11.1.2(4)", "readiness", "CRM准备度"),
    _t("strategic objective", "战略目标", "strategy",
       "A CRM goal such as higher satisfaction, loyalty, customer value or market share; it "
       "must be measurable, specific and achievable.", "S000 §2.1.1", "CRM objective"),
    _t("customer needs analysis", "客户需求分析", "strategy",
       "Learning customers' needs, purchase behaviour and preferences through research, "
       "interviews and data mining.", "S000 §2.1.2", "needs analysis"),
    _t("key customer", "关键客户", "strategy",
       "A customer singled out by needs, purchasing power and loyalty as the firm's most "
       "precious resource, who gets personalised service.", "S000 §2.1.3"),
    _t("customer care", "客户关怀", "strategy",
       "Attention to customers' needs beyond the sale (greetings, check-ins, personalised "
       "service) to raise loyalty.", "S000 §2.1.4"),
    _t("customer incentive", "客户激励", "strategy",
       "Preferential policies and points redemption that encourage customers to buy.",
       "S000 §2.1.4"),
    _t("customer feedback mechanism", "客户反馈机制", "strategy",
       "A routine for collecting customers' opinions in time and acting on them.", "S000 §2.1.4",
       "feedback mechanism"),
    _t("strategy monitoring", "战略监控", "strategy",
       "Tracking key indicators such as satisfaction, loyalty and churn rate on periodic data to "
       "steer the strategy.", "S000 §2.2.2"),
    _t("customer growth matrix", "客户增长矩阵", "strategy",
       "A 2 x 2 of existing/new customers by existing/new business, used to choose a customer "
       "strategy for each cell.", "S001 §11.2.2", "growth matrix"),
    _t("customer loyalty strategy", "客户忠诚战略", "strategy",
       "Growth strategy that keeps existing customers buying existing offerings (cell mapping "
       "inferred: S001's figure is missing).", "S001 §11.2.3(1)"),
    _t("customer expansion strategy", "客户扩充战略", "strategy",
       "Growth strategy that sells new offerings to existing customers, i.e. cross- and "
       "up-selling (cell mapping inferred).", "S001 §11.2.3(2)"),
    _t("customer acquisition strategy", "客户获得战略", "strategy",
       "Growth strategy that wins new customers for existing offerings (cell mapping inferred).",
       "S001 §11.2.3(3)"),
    _t("customer diversification strategy", "客户多样化战略", "strategy",
       "Growth strategy that wins new customers with new offerings (cell mapping inferred).",
       "S001 §11.2.3(4)"),
    _t("customer relationship type", "客户关系类型", "strategy",
       "The kind of relationship a firm builds with a customer group; S001 names five types but "
       "its table is missing.", "S001 §11.2.1", "relationship type"),
    _t("basic relationship", "基本型关系", "strategy",
       "Kotler's lowest level: sell and do not follow up; fits many customers with low unit "
       "margins.", EXT),
    _t("reactive relationship", "被动型关系", "strategy",
       "Kotler's second level: sell and invite the customer to call with questions or "
       "complaints.", EXT),
    _t("accountable relationship", "负责型关系", "strategy",
       "Kotler's third level: call the customer soon after the sale to check that expectations "
       "were met.", EXT),
    _t("proactive relationship", "能动型关系", "strategy",
       "Kotler's fourth level: contact customers from time to time with improvements or new "
       "offers.", EXT),
    _t("partnership relationship", "伙伴型关系", "strategy",
       "Kotler's highest level: work continuously with the customer to create value; fits few "
       "customers with high margins.", EXT),
    _t("customer alliance", "客户联盟", "strategy",
       "A supplier-customer alliance built on trust, openness and common interests, in which "
       "both sides co-create customer value.", "S001 §11.3.1"),
    _t("customisation mode", "定制模式", "strategy",
       "An alliance operating mode in which supplier and customer tailor the offering together; "
       "the only mode S001's extract names.", "S001 §11.3.2", "customization mode"),
    _t("process re-engineering", "流程改造", "strategy",
       "Redesigning business processes around the customer; one of the ways CRM is realised.",
       "S001 case 11-0", "business process reengineering"),
    _t("function redesign", "职能重设", "strategy",
       "Redefining departments' roles and responsibilities for a customer-centred operation.",
       "S001 case 11-0"),

    # ---- data: collecting, managing, protecting customer information (S000 Ch3, S003 §2) ----
    _t("customer information collection", "客户信息收集", "data",
       "Gathering customer facts by direct inquiry, questionnaires, observation, data analysis "
       "and social-media monitoring.", "S000 §3.1", "data collection"),
    _t("direct inquiry", "直接询问法", "data",
       "Collecting information in face-to-face or telephone conversations.", "S000 §3.1(1)"),
    _t("questionnaire survey", "问卷调查法", "data",
       "Collecting ratings and suggestions with online or offline questionnaires.",
       "S000 §3.1(2)", "questionnaire", "survey"),
    _t("observation method", "观察法", "data",
       "Learning needs by watching how customers buy and use products, e.g. from click-streams.",
       "S000 §3.1(3)", "observation"),
    _t("data analysis method", "数据分析法", "data",
       "Learning about customers from the data they generate, such as purchase and browsing "
       "records.", "S000 §3.1(4)"),
    _t("social media monitoring", "社交媒体监测法", "data",
       "Following customers' posts and interactions on social media to learn their needs and "
       "opinions.", "S000 §3.1(5)"),
    _t("classification management", "分类管理", "data",
       "Organising customer information by features such as industry, region and needs.",
       "S000 §3.2(1)"),
    _t("real-time updating", "实时更新", "data",
       "Updating customer records promptly so that they stay accurate and valid.",
       "S000 §3.2(2)"),
    _t("data freshness", "数据新鲜度", "data",
       "Time since a record was last updated; stale records show where real-time updating "
       "fails.", "S000 §3.2(2)", "freshness", "staleness"),
    _t("confidentiality management", "保密性管理", "data",
       "Keeping customer information confidential to prevent privacy leaks.", "S000 §3.2(3)"),
    _t("information-sharing mechanism", "共享机制", "data",
       "Rules that let departments share customer information so that it is used more.",
       "S000 §3.2(4)", "sharing mechanism"),
    _t("data mining", "数据挖掘", "data",
       "Finding useful patterns (segments, rules, predictions) in customer data to support "
       "decisions.", "S000 §3.2(5)"),
    _t("single customer view", "统一客户视图", "data",
       "One correct, complete record per customer, merged from every system and shared by "
       "every department.", "S003 §2(1)–(4)", "unified customer view", "golden record"),
    _t("information silo", "信息孤岛", "data",
       "A system or department that keeps its own customer records which others cannot see or "
       "reconcile.", "S003 §2", "data silo", "silo"),
    _t("record linkage", "记录链接", "data",
       "Matching records that refer to the same customer across systems that share no key.",
       EXT, "entity resolution"),
    _t("deduplication", "去重", "data",
       "Finding and merging duplicate records of the same customer.", EXT, "dedup"),
    _t("data quality", "数据质量", "data",
       "How fit data are for use: complete, accurate, consistent, unique and up to date.", EXT),
    _t("data completeness", "数据完整性", "data",
       "Share of required fields that are actually filled in.", EXT, "completeness"),
    _t("e-mail marketing consent", "邮件营销授权", "data",
       "Whether a customer agreed to marketing e-mail: explicitly, implicitly (pre-ticked) or "
       "not at all.", "S003 §4(1)", "email opt-in", "opt-in", "email consent"),
    _t("pseudonymisation", "假名化", "data",
       "Replacing names, phones and other identifiers with keyed codes, so records cannot be "
       "tied to a person without extra information.", EXT, "pseudonymization"),
    _t("k-anonymity", "k-匿名", "data",
       "A release property: every combination of quasi-identifier values is shared by at least "
       "k records.", EXT, "k anonymity", "k-匿名性"),
    _t("quasi-identifier", "准标识符", "data",
       "An attribute such as birth year or city that is not unique alone but can identify a "
       "person in combination.", EXT),
    _t("data minimisation", "数据最小化", "data",
       "Collecting and keeping only the personal data a stated purpose needs.", EXT,
       "data minimization"),
    _t("customer information leak risk", "客户信息泄露风险", "data",
       "The risk that customer data reach competitors or criminals and cause a crisis of trust.",
       "S000 §9.1(1)", "information leak risk"),
    _t("Personal Information Protection Law", "个人信息保护法", "data",
       "China's 2021 law on processing personal information; context for consent and "
       "minimisation (not legal advice).", EXT, "PIPL"),
    _t("unified data standards", "统一数据标准", "data",
       "Shared formats and interface specifications so that partners' data can be exchanged "
       "and validated.", "S000 §6.3", "data standards"),

    # ---- segmentation (S000 Ch4) ----
    _t("customer classification", "客户分类", "segmentation",
       "Sorting customers into classes by size, industry, importance, satisfaction or loyalty.",
       "S000 §4.1"),
    _t("customer segmentation", "客户细分", "segmentation",
       "Dividing customers into groups with similar needs, behaviour or value so that each "
       "group can be served differently.", "S000 §8.3(5)", "segmentation"),
    _t("customer positioning", "客户定位", "segmentation",
       "Choosing how to serve a customer group: differentiated, concentrated, multichannel, "
       "high-end or loyalty positioning.", "S000 §4.2", "positioning"),
    _t("customer size class", "客户规模", "segmentation",
       "Large, medium or small customer, e.g. by revenue or employees (B2B accounts).",
       "S000 §4.1(1)", "size class"),
    _t("industry classification", "行业分类", "segmentation",
       "Grouping customers by industry: manufacturing, retail, services and so on.",
       "S000 §4.1(2)", "industry"),
    _t("priority customer", "重点客户", "segmentation",
       "The top class by importance (S000's 'key' customers): the highest-value customers, who "
       "get priority resources.", "S000 §4.1(3)", "key account"),
    _t("general customer", "一般客户", "segmentation",
       "The middle class by importance: buying customers outside the priority class.",
       "S000 §4.1(3)"),
    _t("potential customer", "潜在客户", "segmentation",
       "A prospect or lead who has not bought yet; the third class by importance.",
       "S000 §4.1(3)", "prospect", "lead"),
    _t("satisfaction class", "满意度分类", "segmentation",
       "High, moderate or low satisfaction (highly, moderately, lowly satisfied customers) from bins of an overall score; the cut-offs are "
       "assumptions.", "S000 §4.1(4)"),
    _t("differentiated positioning", "差异化定位", "segmentation",
       "Offering different products and services to different customer groups.",
       "S000 §4.2(1)"),
    _t("concentrated positioning", "集中定位", "segmentation",
       "Focusing resources on one customer group to raise market share there.", "S000 §4.2(2)"),
    _t("multichannel positioning", "多渠道定位", "segmentation",
       "Reaching more customers through many online and offline channels.", "S000 §4.2(3)"),
    _t("high-end positioning", "高端定位", "segmentation",
       "High-quality, high-value offerings for high-end customers.", "S000 §4.2(4)"),
    _t("loyalty positioning", "忠诚度定位", "segmentation",
       "Building loyal customers through quality service and promotions.", "S000 §4.2(5)"),
    _t("RFM analysis", "RFM分析", "segmentation",
       "Scoring customers on recency, frequency and monetary value of their purchases to rank "
       "and segment them.", EXT, "RFM"),
    _t("recency", "最近购买时间", "segmentation",
       "Time since a customer's last purchase; the R of RFM.", EXT),
    _t("monetary value", "消费金额", "segmentation",
       "A customer's total or average spend; the M of RFM.", EXT, "monetary"),
    _t("Pareto curve", "帕累托曲线", "segmentation",
       "Cumulative share of profit (or revenue) against cumulative share of customers, customers "
       "sorted from most to least valuable.", EXT, "concentration curve"),
    _t("ABC analysis", "ABC分析", "segmentation",
       "Ranking customers by value and splitting them into A, B and C classes by cumulative "
       "share (the Pareto principle).", EXT, "Pareto analysis", "ABC classification"),
    _t("precision marketing", "精准营销", "segmentation",
       "Targeting offers at customers selected by analysing their consumption behaviour.",
       "S000 §7.3 case 2; §8.3(5)", "targeted marketing"),
    _t("one-to-one service", "一对一服务", "segmentation",
       "Serving each customer individually from the needs recorded in the customer database.",
       "S003 §3(3); §4", "one-to-one marketing"),
    _t("customer tiering", "客户分级", "segmentation",
       "Giving customers levels with different service and benefits according to their "
       "transaction record.", "S002 Ch6 §3(4); S003 §3(3)", "tiering", "customer tiers"),

    # ---- value (S000 §3.3(4), §8.1; S002 Ch3 §2, Ch5 §2) ----
    _t("customer value", "客户价值", "value",
       "What a customer is worth to the firm, judged by purchasing power and purchase "
       "frequency, or by lifetime value.", "S000 §3.3(4); S004 §1(3)"),
    _t("customer lifetime value", "客户生命周期价值", "value",
       "The present value of the margins a customer will bring over the whole relationship.",
       "S002 Ch2 §2, Ch3 §2, Ch4 §2, Ch7 §3", "CLV", "lifetime value", "LTV", "CLTV",
       "客户终身价值", "终身价值"),
    _t("customer lifecycle", "客户生命周期", "value",
       "The stages of a relationship from acquisition through growth and maturity to decline "
       "or churn.", "S002 Ch7 §3(二)3", "customer life cycle", "lifecycle"),
    _t("customer equity", "客户资产", "value",
       "The sum of the lifetime values of the firm's current and future customers.", EXT),
    _t("purchasing power", "购买力", "value",
       "How much a customer is able to spend; with purchase frequency, S000's basis of customer "
       "value.", "S000 §3.3(4)"),
    _t("cost to serve", "服务成本", "value",
       "Service, care and handling costs a customer causes; subtracted from margin in customer "
       "profitability.", EXT, "cost-to-serve", "service cost"),
    _t("whale curve", "鲸鱼曲线", "value",
       "Cumulative profit against customers ranked by profit: it rises above 100% and falls as "
       "loss-making customers are added.", EXT),
    _t("customer delivered value", "顾客让渡价值", "value",
       "Total value the customer obtains minus the total cost the customer pays.", "S002 Ch5 §2",
       "delivered value"),
    _t("total customer value", "顾客总价值", "value",
       "Product, service, personnel and image value the customer receives (Kotler).", EXT),
    _t("total customer cost", "顾客总成本", "value",
       "Money, time, energy and psychic cost the customer pays (Kotler).", EXT),
    _t("gross margin", "毛利", "value",
       "Revenue minus the cost of goods sold.", EXT, "margin"),
    _t("gross-margin rate", "毛利率", "value",
       "Gross margin as a share of revenue; CLV multiplies expected spend by it.", EXT,
       "margin rate", "gross margin rate"),
    _t("dropout", "流失（非契约）", "value",
       "The unobserved moment a non-contractual customer becomes permanently inactive; BG/NBD "
       "lets it happen after any purchase with probability p.", EXT, "drop out", "dropping out"),
    _t("discrete time", "离散时间", "value",
       "Transactions or renewals can happen only at fixed occasions (a yearly renewal, a monthly "
       "bill), so retention is counted per period (sBG).", EXT, "discrete-time"),
    _t("continuous time", "连续时间", "value",
       "Purchases can happen at any moment, so the model describes rates (BG/NBD, Pareto/NBD).",
       EXT, "continuous-time"),
    _t("discount rate", "折现率", "value",
       "The rate that converts future cash flows into present value.", EXT),
    _t("cross-selling", "交叉销售", "value",
       "Selling customers products from other categories, found for example by mining "
       "purchase data.", "S003 §3(1)", "cross-sell"),
    _t("up-selling", "追加销售", "value",
       "Moving a customer to a higher-value product or plan.", EXT, "up-sell"),
    _t("non-contractual setting", "非契约型情境", "value",
       "A relationship whose end is not observed (e.g. retail purchases), so churn must be "
       "inferred from silence.", EXT, "non-contractual"),
    _t("contractual setting", "契约型情境", "value",
       "A relationship with an observed start and end, such as a subscription or membership.",
       EXT, "contractual"),
    _t("probability alive", "客户存活概率", "value",
       "The model probability that a non-contractual customer has not yet dropped out, given "
       "their purchase history.", EXT, "P(alive)", "p alive"),

    # ---- satisfaction (S002 Ch2, Ch7; S000 §5.3, §8.1) ----
    _t("customer satisfaction", "客户满意度", "satisfaction",
       "How far a product or service meets or exceeds the customer's expectations, and the "
       "feeling that results.", "S002 Ch2 §1", "satisfaction", "满意度"),
    _t("perceived quality", "感知质量", "satisfaction",
       "The customer's judgement of performance, reliability and fit from actual experience.",
       "S002 Ch2 §1(一)"),
    _t("customer expectations", "客户期望", "satisfaction",
       "What the customer expects before buying, shaped by advertising, past experience and "
       "word of mouth.", "S002 Ch2 §1(二)", "expectations", "expectation"),
    _t("expectancy disconfirmation", "期望不一致", "satisfaction",
       "The gap between perceived performance and expectations (P - E); positive gaps raise "
       "satisfaction.", "S002 Ch2 §1(二); Ch5 §2", "disconfirmation",
       "expectation versus reality", "期望与现实的对比"),
    _t("emotional response", "情感反应", "satisfaction",
       "Positive or negative feelings after consumption that signal high or low satisfaction.",
       "S002 Ch2 §1(三)", "emotional reaction"),
    _t("customer touchpoint", "客户接触点", "satisfaction",
       "A moment where the customer meets the firm (product, price, sales process, after-sales) "
       "and satisfaction is formed.", "S002 Ch2 §3(一)", "touchpoint", "service touchpoint"),
    _t("satisfaction model", "满意度模型", "satisfaction",
       "A model of how service quality, interaction experience and emotional factors drive "
       "satisfaction, with driver weights.", "S002 Ch2 §3"),
    _t("service quality", "服务质量", "satisfaction",
       "Performance, reliability and ease of use as the customer perceives them; an S002 model "
       "element and an S000 indicator.", "S002 Ch2 §3(二)1; S000 §5.3(2)"),
    _t("interaction experience", "互动体验", "satisfaction",
       "Communication efficiency, staff attitude and response speed during contact with the "
       "firm.", "S002 Ch2 §3(二)2"),
    _t("emotional factors", "情感因素", "satisfaction",
       "Trust, emotional connection and positive emotions during consumption.",
       "S002 Ch2 §3(二)3"),
    _t("satisfaction driver", "满意度驱动因素", "satisfaction",
       "A factor that moves satisfaction, such as product quality, staff attitude, response "
       "speed or price.", "S002 Ch1 §1–2, Ch5 §2–3, Ch8 §2; S000 §4.3(1)", "driver",
       "drivers of satisfaction"),
    _t("product quality", "产品质量", "satisfaction",
       "How well products perform and hold up; a direct driver of satisfaction and loyalty in "
       "S002's case.", "S002 Ch1 §1; Ch5 §3"),
    _t("price reasonableness", "价格合理性", "satisfaction",
       "Whether customers find prices fair for what they get; a satisfaction driver.",
       "S002 Ch1 §2", "price fairness"),
    _t("service attitude", "服务态度", "satisfaction",
       "Courtesy and helpfulness of staff; one of S000's three satisfaction indicators.",
       "S000 §5.3(2)", "staff attitude"),
    _t("service efficiency", "服务效率", "satisfaction",
       "How quickly and smoothly service gets things done; one of S000's three satisfaction "
       "indicators.", "S000 §5.3(2)"),
    _t("product satisfaction", "产品满意度", "satisfaction",
       "Satisfaction with the products themselves; part of S000's satisfaction KPI.",
       "S000 §8.1(1)"),
    _t("service satisfaction", "服务满意度", "satisfaction",
       "Satisfaction with the service received; part of S000's satisfaction KPI.",
       "S000 §8.1(1)"),
    _t("purchase-experience satisfaction", "购买体验满意度", "satisfaction",
       "Satisfaction with the buying process itself; part of S000's satisfaction KPI.",
       "S000 §8.1(1)", "purchase experience"),
    _t("perceived value", "感知价值", "satisfaction",
       "Quality received relative to price paid, as the customer sees it.", "S002 Ch5 §2",
       "perceived customer value", "顾客价值感知"),
    _t("customer satisfaction index", "客户满意度指数", "satisfaction",
       "A 0-100 weighted index of satisfaction items, with the weights estimated from a model.",
       "S002 Ch7 §2(四)", "CSI", "satisfaction index"),
    _t("American Customer Satisfaction Index", "美国顾客满意度指数", "satisfaction",
       "National index model: expectations, perceived quality and perceived value drive "
       "satisfaction, which drives complaints and loyalty.", EXT, "ACSI"),
    _t("European Customer Satisfaction Index", "欧洲顾客满意度指数", "satisfaction",
       "ACSI variant that adds corporate image as a driver of satisfaction and loyalty.", EXT,
       "ECSI"),
    _t("customer satisfaction score", "满意度得分", "satisfaction",
       "Mean rating on an overall satisfaction item, often reported with the top-2-box share.",
       "S000 §2.2.2, §8.1; S002 Ch1 §1", "CSAT", "satisfaction score", "顾客满意度评分"),
    _t("top-2-box share", "前两档占比", "satisfaction",
       "Share of answers in the two best categories of a rating scale (e.g. 4 or 5 of 5).",
       EXT, "top 2 box", "top-two-box", "top-2-box"),
    _t("customer effort score", "客户费力度", "satisfaction",
       "How much effort the customer needed to get something done; lower is better.", EXT,
       "CES", "effort score"),
    _t("net promoter score", "净推荐值", "satisfaction",
       "Percentage of promoters (9-10) minus percentage of detractors (0-6) on the 0-10 "
       "likelihood-to-recommend item.", EXT, "NPS"),
    _t("promoter", "推荐者", "satisfaction",
       "A respondent who answers 9 or 10 on the likelihood-to-recommend item.", EXT),
    _t("passive", "中立者", "satisfaction",
       "A respondent who answers 7 or 8 on the likelihood-to-recommend item.", EXT),
    _t("detractor", "贬损者", "satisfaction",
       "A respondent who answers 0 to 6 on the likelihood-to-recommend item.", EXT),
    _t("satisfaction-decline risk", "客户满意度降低风险", "satisfaction",
       "The risk that quality or communication problems lower satisfaction and then loyalty "
       "and reputation.", "S000 §9.1(3)"),

    # ---- loyalty (S002 Ch3, Ch5; S000 §4.1(5), §4.3) ----
    _t("customer loyalty", "客户忠诚度", "loyalty",
       "A customer's continuing, stable intention and behaviour to buy from a brand, with the "
       "trust and dependence built on it.", "S002 Ch3 §1(一)", "loyalty", "忠诚度"),
    _t("latent loyalty", "潜在忠诚度", "loyalty",
       "Liking and trust without sustained buying yet.", "S002 Ch3 §1(二)1", "potential loyalty"),
    _t("behavioural loyalty", "行为忠诚度", "loyalty",
       "Continued repeat purchasing of the same brand.", "S002 Ch3 §1(二)2",
       "behavioral loyalty"),
    _t("emotional loyalty", "情感忠诚度", "loyalty",
       "A deep emotional bond: the customer keeps buying, actively recommends and defends the "
       "brand.", "S002 Ch3 §1(二)3"),
    _t("attitudinal loyalty", "态度忠诚度", "loyalty",
       "Loyalty in attitudes (trust, preference, willingness to recommend), measured by survey.",
       EXT),
    _t("loyal customer", "忠诚客户", "loyalty",
       "A customer who keeps buying regularly; one of S000's three loyalty states.",
       "S000 §4.1(5)"),
    _t("floating customer", "游离客户", "loyalty",
       "A wavering customer whose buying has slowed; one of S000's three loyalty states.",
       "S000 §4.1(5)", "wavering customer"),
    _t("repeat-purchase rate", "重复购买率", "loyalty",
       "Customers with two or more orders in a window divided by customers with at least one.",
       "S000 §4.3, §8.1; S002 Ch1, Ch7, Ch8", "repurchase rate", "复购率"),
    _t("purchase frequency", "购买频率", "loyalty",
       "Orders per customer per period; the F of RFM.", "S000 §3.3(4), §4.3(2)", "frequency"),
    _t("referral rate", "推荐率", "loyalty",
       "Share of active customers who referred at least one new customer.", "S000 §8.1(2)"),
    _t("willingness to recommend", "推荐意愿", "loyalty",
       "The customer's stated likelihood of recommending the firm, usually a 0-10 item.",
       "S002 Ch1, Ch7, Ch8", "likelihood to recommend", "推荐度"),
    _t("word of mouth", "口碑传播", "loyalty",
       "Customers telling others about the firm through reviews and recommendations.",
       "S000 §4.3(2); S002 Ch3 §3", "WOM", "口碑"),
    _t("trust", "信任", "loyalty",
       "Confidence that the firm is consistent, responsible and transparent; the first "
       "mechanism that forms loyalty.", "S002 Ch3 §3"),
    _t("accumulated satisfaction", "累积满意度", "loyalty",
       "Satisfaction built up over repeated good experiences; the direct factor in forming "
       "loyalty.", "S002 Ch5 §1(2); Ch3 §3(2)", "cumulative satisfaction"),
    _t("emotional connection", "情感联系", "loyalty",
       "A sense of belonging built through communities, events and personalised service.",
       "S002 Ch3 §3"),
    _t("value identification", "价值认同", "loyalty",
       "The customer identifying with the brand's values and story.", "S002 Ch3 §3"),
    _t("satisfaction–loyalty link", "满意度与忠诚度的关系", "loyalty",
       "Satisfaction is the foundation of loyalty, builds it cumulatively, and is reinforced "
       "by it in turn.", "S000 §4.3(3); S002 Ch5 §1", "satisfaction loyalty relationship"),
    _t("repurchase intention", "再购意愿", "loyalty",
       "A customer's stated likelihood of buying again.", "S002 Ch5 §3", "repurchase intent"),
    _t("price tolerance", "价格容忍度", "loyalty",
       "Willingness to stay after a price rise; an attitudinal loyalty item.", EXT),
    _t("share of wallet", "钱包份额", "loyalty",
       "The firm's share of a customer's total spending in its category.", EXT, "SOW"),
    _t("customer stickiness", "客户粘性", "loyalty",
       "How habitually customers come back, e.g. share of active days or visit frequency.",
       "S000 §7.3; S002 Ch3 §2, Ch7 §3", "stickiness", "客户黏性"),
    _t("loyalty programme", "会员积分计划", "loyalty",
       "A scheme of points, member privileges, coupons and tiers that rewards repeat buying.",
       "S000 §2.1.4, §7.3 case 2; S002 Ch6 §1–3, Ch8 §2; S003 §3(3)", "loyalty program",
       "points programme", "忠诚度计划"),
    _t("points redemption", "积分兑换", "loyalty",
       "Customers exchanging accumulated points for goods or discounts.", "S000 §2.1.4"),
    _t("member privileges", "会员特权", "loyalty",
       "Benefits reserved for programme members, often graded by tier.", "S002 Ch6 §1–3"),
    _t("coupon", "优惠券", "loyalty",
       "A voucher for a discount on a future purchase.", "S000 §7.3 case 2"),
    _t("points liability", "积分负债", "loyalty",
       "Expected cost of outstanding points: points x cost per point x (1 - breakage).", EXT),
    _t("breakage", "积分未兑换率", "loyalty",
       "Share of issued points that are never redeemed.", EXT),
    _t("regular return visit", "定期回访", "loyalty",
       "Scheduled follow-up calls or visits to existing customers to maintain the relationship.",
       "S000 §4.3(4)(3), §8.3(3); S002 Ch6 §2(5), Ch8 §2", "return visit"),
    _t("relationship maintenance", "客户关系维护", "loyalty",
       "Keeping existing relationships healthy with personalised and value-added service.",
       "S000 §9.3"),
    _t("online community", "网络社区", "loyalty",
       "A forum or group where customers gather; belonging makes them less likely to leave.",
       "S003 §4(2)", "community"),
    _t("switching cost", "转换成本", "loyalty",
       "What a customer loses by moving to a competitor (money, effort, habit); it can keep "
       "dissatisfied customers.", EXT, "switching costs"),

    # ---- churn and retention (S000 §2.2.2, §8.1(3), §9.1-9.2; S002 Ch7-8) ----
    _t("customer churn", "客户流失", "churn",
       "A customer ending the relationship: cancelling a contract or stopping buying.",
       "S000 §9.1(4)", "churn", "attrition", "流失"),
    _t("churn rate", "客户流失率", "churn",
       "Customers lost in a period divided by customers active at its start.", "S000 §2.2.2",
       "attrition rate", "流失率"),
    _t("customer retention rate", "客户保留率", "churn",
       "Share of the customers at the start of a period who are still customers at its end.",
       "S000 §8.1(3)", "retention rate", "留存率"),
    _t("customer retention time", "客户保持时间", "churn",
       "How long a customer stays, from start to churn; censored while still active.",
       "S002 Ch8 §2", "retention time", "tenure"),
    _t("lost customer", "流失客户", "churn",
       "A customer who has stopped buying or cancelled; one of S000's three loyalty states.",
       "S000 §4.1(5)", "churned customer"),
    _t("churn risk", "客户流失风险", "churn",
       "The risk of losing customers and market share; the firm must find its causes and "
       "prevent it.", "S000 §9.1(4)"),
    _t("churn early-warning mechanism", "客户流失预警机制", "churn",
       "Spotting signs of churn in the data early and acting in time to keep the customer.",
       "S000 §9.2(4)", "churn early warning", "early warning", "流失预警"),
    _t("churn reason", "流失原因", "churn",
       "Why a customer left, as stated or coded: price, service, product, competitor and so on.",
       "S000 §9.1(4)", "cancel reason"),
    _t("win-back", "挽回客户", "churn",
       "Acting to recover customers who are leaving or have left.",
       "S000 §9.2(4); S002 Ch7 §3", "customer win-back"),
    _t("retention campaign", "客户挽留活动", "churn",
       "An offer or contact aimed at customers at risk of leaving, ideally tested against a "
       "control group.", EXT, "retention offer"),
    _t("churn risk score", "流失风险评分", "churn",
       "A model score that ranks customers by their predicted probability of churning.", EXT,
       "risk score", "churn score"),
    _t("cohort analysis", "同期群分析", "churn",
       "Following groups who joined in the same period to compare their retention over time.",
       EXT, "cohort"),

    # ---- service (S000 Ch5; S002 Ch1 §1, Ch7 §2) ----
    _t("service strategy", "服务策略", "service",
       "Service philosophy, scope, standards, channels and staff, aligned with the firm's "
       "strategy.", "S000 §5.1"),
    _t("customer first", "客户至上", "service",
       "The service philosophy that always puts customers' needs first.", "S000 §5.1(1)"),
    _t("pre-sale service", "售前服务", "service",
       "Advice and information before the purchase.", "S000 §5.1(2); S002 Ch4 §1", "pre-sales"),
    _t("in-sale service", "售中服务", "service",
       "Help during the purchase: ordering, payment and delivery questions.",
       "S000 §5.1(2); S002 Ch4 §1", "in-sales"),
    _t("after-sale service", "售后服务", "service",
       "Support after the purchase: returns, repairs, technical help and complaints.",
       "S000 §5.1(2); S002 Ch4 §1", "after-sales service", "after-sales"),
    _t("service standard", "服务标准", "service",
       "Uniform standards so that every touchpoint gives the same quality and speed.",
       "S000 §5.1(3)"),
    _t("service level agreement", "服务水平协议", "service",
       "A service target such as 'first response within 4 hours' against which each ticket is "
       "checked.", EXT, "SLA"),
    _t("service level", "服务水平", "service",
       "Share of contacts answered within a target time (e.g. 80% of calls within 20 seconds).",
       EXT),
    _t("service channel", "服务渠道", "service",
       "Phone, e-mail, online chat, app or social media through which customers get help.",
       "S000 §5.1(4); S002 Ch6 §1(3)", "channel"),
    _t("service ticket", "服务工单", "service",
       "The record of one customer request from opening to resolution.", EXT, "ticket"),
    _t("customer complaints", "客户抱怨", "satisfaction",
       "Voiced dissatisfaction, formal or informal; in the ACSI model a consequence of "
       "satisfaction and an antecedent of loyalty.", EXT, "customer complaint", "complaint behaviour"),
    _t("complaint handling", "投诉处理", "service",
       "Receiving, resolving and learning from customer complaints.", "S000 §5.1(2)",
       "complaint management"),
    _t("complaint rate", "客户投诉率", "service",
       "Complaints in a period divided by active customers (or per 1,000 orders).",
       "S000 §8.3(2)", "投诉率"),
    _t("complaint-resolution timeliness", "投诉解决时效", "service",
       "How fast complaints are resolved: median hours, or share resolved within the SLA.",
       "S002 Ch1 §1"),
    _t("service response speed", "服务响应速度", "service",
       "Time to the first response to a customer request, e.g. the median by channel.",
       "S002 Ch1 §1, Ch2 §3, Ch7 §2, Ch8 §2", "response speed", "first response time",
       "响应速度", "首次响应时长", "首次响应时间"),
    _t("problem-resolution time", "问题解决时效", "service",
       "Time from opening a request to solving it.", "S002 Ch7 §2", "resolution time", "解决时长"),
    _t("first-contact resolution", "首次接触解决率", "service",
       "Share of requests solved at the first contact.", EXT, "FCR", "首次解决"),
    _t("service process optimisation", "服务流程优化", "service",
       "Simplifying, standardising, automating and monitoring the service process.",
       "S000 §5.2", "service process optimization"),
    _t("process simplification", "流程简化", "service",
       "Removing unnecessary steps from the service process.", "S000 §5.2(1)"),
    _t("process standardisation", "流程标准化", "service",
       "One process for everyone, so that every customer gets a consistent experience.",
       "S000 §5.2(2)", "process standardization"),
    _t("process automation", "流程自动化", "service",
       "Using IT to automate service steps and cut labour cost.", "S000 §5.2(3)"),
    _t("rapid-response mechanism", "快速响应机制", "service",
       "Fast reaction to problems customers report, with periodic review of the process.",
       "S002 Ch6 §3(3)"),
    _t("self-service", "自助服务", "service",
       "Customers handle their own requests online, lowering the cost per contact.",
       "S000 §7.3 case 3"),
    _t("value-added service", "增值服务", "service",
       "Service beyond what the customer expects or pays for.", "S000 §9.3"),
    _t("personalised service", "个性化服务", "service",
       "Service tailored to the individual customer's needs and history.", "S000 §9.3",
       "personalized service"),
    _t("staff training", "员工培训", "service",
       "Training that raises staff's service awareness and skills.",
       "S002 Ch6 §1(6); S000 §5.1(5)"),

    # ---- supply_chain (S000 Ch1, Ch6) ----
    _t("supply chain management", "供应链管理", "supply_chain",
       "Integrating the logistics, information and funds flows from purchasing to after-sales "
       "to cut cost and delivery time.", "S000 §1.1", "SCM"),
    _t("logistics flow", "物流", "supply_chain",
       "Movement of goods along the supply chain.", "S000 §1.1", "logistics"),
    _t("information flow", "信息流", "supply_chain",
       "Movement of orders, forecasts and customer data along the supply chain.", "S000 §1.1"),
    _t("funds flow", "资金流", "supply_chain",
       "Movement of payments along the supply chain.", "S000 §1.1"),
    _t("delivery cycle", "交货周期", "supply_chain",
       "Days from order to delivery.", "S000 §1.1", "lead time", "order-to-delivery time"),
    _t("on-time delivery rate", "准时交付率", "supply_chain",
       "Share of orders delivered by the promised date.", EXT, "on-time rate", "OTD"),
    _t("fill rate", "订单满足率", "supply_chain",
       "Share of ordered lines or units shipped from stock.", EXT),
    _t("product defect rate", "产品缺陷率", "supply_chain",
       "Defective units divided by units shipped.", "S002 Ch7 §2", "defect rate"),
    _t("product performance stability", "产品性能稳定性", "supply_chain",
       "How steady product quality is over time, e.g. the coefficient of variation of the "
       "defect rate.", "S002 Ch7 §2"),
    _t("supply-chain collaboration", "供应链协同", "supply_chain",
       "Firms sharing resources, information, processes and risks so that the chain works as "
       "one.", "S000 §6.1", "collaboration"),
    _t("information sharing", "信息共享", "supply_chain",
       "Exchanging demand and customer information in real time between supply-chain partners.",
       "S000 §1.2"),
    _t("resource sharing", "资源共享", "supply_chain",
       "Partners sharing equipment, labour and technology.", "S000 §6.1"),
    _t("joint risk management", "风险共担", "supply_chain",
       "Partners sharing supply-chain risks so that the overall risk falls.", "S000 §6.1(4)",
       "risk sharing"),
    _t("partner selection", "合作伙伴选择", "supply_chain",
       "Choosing partners against criteria such as size (规模), strength (实力) and reputation "
       "(信誉).",
       "S000 §6.2(1)"),
    _t("win-win cooperation", "合作共赢", "supply_chain",
       "A partnership in which each side attends to the other's interests.", "S000 §6.2",
       "win-win"),
    _t("collaborative information platform", "协同信息平台", "supply_chain",
       "A shared system with unified data standards and security through which partners "
       "exchange information.", "S000 §6.3"),
    _t("customer-demand orientation", "客户需求导向", "supply_chain",
       "Adjusting the supply chain to customer demand so that supply matches demand.",
       "S000 §1.2", "demand orientation"),
    _t("demand forecasting", "需求预测", "supply_chain",
       "Predicting future customer demand for planning, e.g. with time-series models.",
       "S000 §3.3(2)", "demand forecast"),
    _t("customer demand change risk", "客户需求变化风险", "supply_chain",
       "The risk that diverse, uncertain needs make forecasts wrong and lower satisfaction.",
       "S000 §9.1(2)", "demand change risk"),
    _t("bullwhip effect", "牛鞭效应", "supply_chain",
       "Order variability growing upstream in a supply chain; information sharing dampens it.",
       EXT),

    # ---- performance (S000 Ch8; S002 Ch7; S004 §2-3) ----
    _t("CRM performance evaluation", "客户关系管理绩效评估", "performance",
       "Measuring what CRM achieves with a KPI system and evaluation methods.", "S000 Ch8",
       "performance evaluation", "CRM绩效评估"),
    _t("key performance indicator", "关键绩效指标", "performance",
       "A measured quantity, with a clear definition and calculation method, that tracks "
       "progress towards a goal.", "S000 §2.2.2; S002 Ch7 §1", "KPI", "key indicator",
       "关键指标"),
    _t("customer acquisition cost", "客户获得成本", "performance",
       "Marketing and advertising spend divided by the number of new customers it won.",
       "S000 §8.1(4)", "CAC", "acquisition cost", "获客成本"),
    _t("customer profit contribution", "客户利润贡献", "performance",
       "Revenue minus cost of goods and cost to serve, per customer.", "S000 §8.1(5)",
       "profit contribution"),
    _t("relationship-maintenance cost", "客户关系维护成本", "performance",
       "After-sales service and customer-care cost per active customer.", "S000 §8.1(6)",
       "maintenance cost"),
    _t("quantitative evaluation", "定量评估法", "performance",
       "Statistical analysis of satisfaction, loyalty and retention data.", "S000 §8.2(1)"),
    _t("qualitative evaluation", "定性评估法", "performance",
       "Interviews and open questions on how customers perceive CRM, coded into themes.",
       "S000 §8.2(2)"),
    _t("composite evaluation", "综合评估法", "performance",
       "Combining quantitative and qualitative results into one weighted score.",
       "S000 §8.2(3)", "comprehensive evaluation"),
    _t("benchmarking", "标杆比较法", "performance",
       "Comparing one's own KPIs with the best performers to find gaps.", "S000 §8.2(4)"),
    _t("benchmark gap", "标杆差距", "performance",
       "(best - own) / best, for each KPI.", "S000 §8.2(4)"),
    _t("balanced scorecard", "平衡计分卡", "performance",
       "A KPI set balanced across financial, customer, internal-process and learning "
       "perspectives.", EXT, "BSC"),
    _t("return on investment", "投资回报率", "performance",
       "Net benefit of an investment divided by its cost.", EXT, "ROI"),
    _t("net present value", "净现值", "performance",
       "Sum of discounted future cash flows minus the investment.", EXT, "NPV"),
    _t("payback period", "投资回收期", "performance",
       "Time until cumulative benefits repay an investment, e.g. months of margin to recover "
       "the acquisition cost.", EXT, "payback"),
    _t("market share", "市场份额", "performance",
       "Firm revenue divided by total market revenue.", "S000 §1.1, §2.1.1; S002 Ch4 §1"),
    _t("quantified benefits", "量化收益", "performance",
       "CRM benefits expressed in money: more revenue, lower cost, higher long-term profit.",
       "S004 §3(1)"),
    _t("non-quantified benefits", "非量化收益", "performance",
       "Benefits that are hard to price, such as richer data, better targeting and cross-unit "
       "insight.", "S004 §3(2)"),
    _t("tangible capability", "有形能力", "performance",
       "CRM capability embodied in systems, data and other assets (S004 names it without "
       "detail).", "S004 §2"),
    _t("intangible capability", "无形能力", "performance",
       "CRM capability embodied in culture, skills and relationships (S004 names it without "
       "detail).", "S004 §2"),
    _t("sales efficiency", "销售效率", "performance",
       "Sales output per unit of effort: opportunities closed per rep, cycle time, quota "
       "attainment.", "S000 §7.3 case 1; S003 §1"),
    _t("operating efficiency", "运营效率", "performance",
       "Cost and time per unit of work, e.g. cost per contact or order cycle time.",
       "S000 §7.3 case 3; S003 §3(2)", "operational efficiency"),
    _t("performance improvement strategy", "绩效改进策略", "performance",
       "S000's six levers: products and service, service level, maintenance, lower CAC, higher "
       "profit contribution, better CRM system.", "S000 §8.3"),
    _t("CRM go-live", "CRM上线", "performance",
       "The date a branch starts using the CRM system; staggered go-lives allow a "
       "difference-in-differences evaluation.", EXT, "go-live", "CRM上线日期"),

    # ---- technology and implementation (S000 Ch7; S002 Ch4 §3; S003 §1, §4) ----
    _t("sales force automation", "销售自动化", "technology",
       "Software for sales quotas, commissions, profit forecasts and coordinating sales staff.",
       "S003 §1; S004 §1(4)", "SFA"),
    _t("computer–telephony integration", "计算机电话集成", "technology",
       "Linking phones to computers: toll-free service, automatic menus, IVR routing and call "
       "records.", "S003 §1", "CTI"),
    _t("call centre", "呼叫中心", "technology",
       "A unit that handles customer calls at scale.", "S004 §1(4)", "call center"),
    _t("interactive voice response", "交互式语音应答", "technology",
       "Automated phone menus that route callers quickly to the right agent.", "S003 §1", "IVR"),
    _t("CRM software selection", "CRM软件选型", "technology",
       "Choosing a CRM system by functionality, flexibility, scalability, security and ease of "
       "use.", "S000 §7.1", "software selection"),
    _t("functionality", "功能性", "technology",
       "Selection principle: complete modules for customer information, sales, service, "
       "marketing and analysis.", "S000 §7.1.1(1)"),
    _t("flexibility", "灵活性", "technology",
       "Selection principle: the system can be customised to the business.", "S000 §7.1.1(2)"),
    _t("scalability", "可扩展性", "technology",
       "Selection principle: the system grows with the business.", "S000 §7.1.1(3)"),
    _t("data security", "数据安全", "technology",
       "Protection of customer data in transmission, storage and use; a software-selection "
       "principle.", "S000 §6.3(4), §7.1.1(4)", "security"),
    _t("ease of use", "易用性", "technology",
       "Selection principle: a clean interface and a low learning cost.", "S000 §7.1.1(5)",
       "usability"),
    _t("CRM implementation", "CRM实施", "technology",
       "Putting CRM into practice: needs analysis, market research, selection, deployment, "
       "training and ongoing optimisation.", "S000 §7.1.2; S003 §4", "implementation"),
    _t("CRM project team", "CRM项目团队", "technology",
       "Leaders, department representatives, consultants and customer representatives who run "
       "the CRM project.", "S003 §4", "project team"),
    _t("business requirements analysis", "业务需求分析", "technology",
       "Finding what customers and departments need from the CRM system.", "S003 §4",
       "requirements analysis"),
    _t("cloud CRM", "云CRM", "technology",
       "CRM delivered as an online service with elastic scaling.", "S002 Ch4 §3(二)"),
    _t("social CRM", "社交CRM", "technology",
       "CRM that uses social-media interactions as a channel and a data source.",
       "S002 Ch4 §3(二)"),
    _t("mobile CRM", "移动CRM", "technology",
       "CRM used on mobile devices by staff and customers.", "S002 Ch4 §3(二)"),
    _t("artificial intelligence", "人工智能", "technology",
       "Machine learning and language processing applied to CRM tasks such as churn "
       "prediction and sentiment analysis.", "S000 §7.2", "AI"),
    _t("big-data analytics", "大数据分析", "technology",
       "Analysis of large and varied customer data.", "S000 §7.2", "big data"),
    _t("enterprise resource planning", "企业资源计划", "technology",
       "The back-office system for orders, inventory and finance that CRM should integrate "
       "with.", "S000 §7.2", "ERP"),
    _t("sales forecasting", "销售预测", "technology",
       "Predicting future sales from the pipeline and history; a CRM sales-management function.",
       "S002 Ch4 §3(一)"),
    _t("opportunity tracking", "商机跟踪", "technology",
       "Following sales opportunities through the stages of the pipeline.", "S002 Ch4 §3(一)",
       "pipeline management"),
    _t("customer shopping area", "客户购物专区", "technology",
       "A per-customer web area for tracking orders, with transparent prices.", "S003 §4(3)"),
    _t("mailing list", "邮件列表", "technology",
       "A list of e-mail addresses used to send information to groups of customers.",
       "S003 §4(1)"),
    _t("total cost of ownership", "总拥有成本", "technology",
       "All costs of a system over its life: licences, hardware, implementation, training, "
       "support.", EXT, "TCO"),

    # ---- methods: the analytic techniques the course uses (standard literature, [EXT]) ----
    _t("synthetic data", "合成数据", "methods",
       "Data generated by a known random model rather than collected; every figure in crmlab "
       "is synthetic.", EXT, "simulated data"),
    _t("planted truth", "预设真值", "methods",
       "The parameter values a generator used to build synthetic data, against which "
       "estimates are checked.", EXT, "ground truth"),
    _t("BG/NBD model", "BG/NBD模型", "methods",
       "Beta-geometric/negative binomial model of repeat buying: Poisson purchases while "
       "alive, and a chance of dropping out after each purchase.", EXT, "BG/NBD", "BGNBD",
       "beta geometric negative binomial distribution model"),
    _t("Pareto/NBD model", "Pareto/NBD模型", "methods",
       "Repeat-buying model like BG/NBD, but dropout can happen at any time (exponential "
       "lifetimes).", EXT, "Pareto/NBD"),
    _t("Gamma-Gamma model", "Gamma-Gamma模型", "methods",
       "Spend model: a customer's transaction amounts are Gamma with a customer-specific scale "
       "that is itself Gamma across customers.", EXT, "Gamma-Gamma", "gamma gamma spend model"),
    _t("shifted-beta-geometric model", "移位贝塔几何模型", "methods",
       "Contractual retention model: each customer renews with a constant probability that "
       "varies across customers as a Beta distribution.", EXT, "sBG", "shifted beta geometric"),
    _t("maximum likelihood estimation", "最大似然估计", "methods",
       "Choosing parameter values that make the observed data most probable.", EXT, "MLE",
       "maximum likelihood"),
    _t("survival analysis", "生存分析", "methods",
       "Statistics of the time until an event (here churn) that uses customers still active at "
       "the end of observation.", EXT, "time-to-event analysis"),
    _t("survival function", "生存函数", "methods",
       "S(t): the probability that a customer is still retained after time t.", EXT,
       "survival curve"),
    _t("hazard function", "风险函数", "methods",
       "The instantaneous churn rate at time t among customers still retained.", EXT, "hazard",
       "hazard rate"),
    _t("hazard ratio", "风险比", "methods",
       "How many times higher the hazard is for one group, or per unit of a covariate, in a "
       "proportional-hazards model.", EXT, "HR"),
    _t("Kaplan–Meier estimator", "Kaplan-Meier估计", "methods",
       "Non-parametric estimate of the survival function from censored durations.", EXT,
       "Kaplan-Meier", "KM", "Kaplan-Meier curve", "卡普兰-迈耶估计"),
    _t("Cox proportional hazards model", "Cox比例风险模型", "methods",
       "Regression in which covariates multiply a baseline hazard; exponentiated coefficients "
       "are hazard ratios.", EXT, "Cox model", "Cox regression", "CoxPH"),
    _t("proportional hazards assumption", "比例风险假定", "methods",
       "The assumption that hazard ratios stay constant over time; checked with Schoenfeld "
       "residuals.", EXT, "PH assumption"),
    _t("censoring", "删失", "methods",
       "A duration is censored when observation ends before the event: the customer stayed at "
       "least that long.", EXT, "right censoring", "censored", "右删失"),
    _t("left truncation", "左截断", "methods",
       "Customers who started before observation began enter the data late, and only if they "
       "survived until then; use delayed entry.", EXT, "delayed entry", "truncation"),
    _t("time-varying covariate", "时变协变量", "methods",
       "A covariate whose value changes during follow-up, such as a recent complaint or the "
       "CRM go-live.", EXT, "time-dependent covariate"),
    _t("Weibull distribution", "威布尔分布", "methods",
       "A duration distribution whose hazard rises (shape > 1) or falls (shape < 1) over time.",
       EXT, "Weibull"),
    _t("restricted mean survival time", "限制平均生存时间", "methods",
       "Mean retained time up to a horizon: the area under the survival curve.", EXT, "RMST"),
    _t("log-rank test", "对数秩检验", "methods",
       "A test of whether the survival curves of groups differ.", EXT, "logrank test"),
    _t("concordance index", "一致性指数", "methods",
       "Share of customer pairs whose predicted risks order their observed churn times "
       "correctly (0.5 = random).", EXT, "C-index", "concordance"),
    _t("Likert scale", "李克特量表", "methods",
       "A rating scale of ordered agreement categories, e.g. 1 = strongly disagree to 5 = "
       "strongly agree.", EXT, "Likert"),
    _t("reverse-keyed item", "反向题", "methods",
       "A survey item worded so that a high score means less of the construct; recode it "
       "before summing.", EXT, "reverse-coded item", "reverse-scored item"),
    _t("Cronbach's alpha", "克朗巴哈α系数", "methods",
       "Internal-consistency reliability of a multi-item scale; 0.7 or more is usually "
       "acceptable.", EXT, "Cronbach alpha", "Cronbach's α", "coefficient alpha",
       "克朗巴哈系数"),
    _t("non-response bias", "无应答偏差", "methods",
       "Distortion when the customers who answer a survey differ from those who do not.", EXT,
       "nonresponse bias"),
    _t("importance–performance analysis", "重要性-绩效分析", "methods",
       "A quadrant plot of each attribute's importance (driver weight) against its performance "
       "(mean score), to set priorities.", EXT, "IPA", "importance-performance matrix"),
    _t("relative importance analysis", "相对重要性分析", "methods",
       "Splitting a model's R-squared among correlated drivers (Shapley/LMG) to rank them "
       "fairly.", EXT, "relative weights", "Shapley value decomposition", "LMG"),
    _t("structural equation model", "结构方程模型", "methods",
       "A model of paths between latent variables, each measured by several items, estimated "
       "together.", EXT, "SEM", "structural equation modelling"),
    _t("PLS path model", "偏最小二乘路径模型", "methods",
       "A component-based structural model (partial least squares) that estimates item weights "
       "and paths between constructs.", EXT, "PLS-SEM", "PLS-PM",
       "partial least squares path model"),
    _t("confirmatory factor analysis", "验证性因子分析", "methods",
       "Tests whether items load on the latent variables a measurement model specifies.", EXT,
       "CFA"),
    _t("latent variable", "潜变量", "methods",
       "An unobserved construct, such as satisfaction, measured through several survey items.",
       EXT, "construct", "latent construct"),
    _t("factor loading", "因子载荷", "methods",
       "The correlation-like strength with which an item reflects its latent variable.", EXT,
       "loading"),
    _t("path coefficient", "路径系数", "methods",
       "The effect of one variable on another in a path or structural model.", EXT),
    _t("mediation analysis", "中介分析", "methods",
       "Splitting an effect into a direct part and an indirect part through a mediator (e.g. "
       "perceived value).", EXT, "mediation"),
    _t("logistic regression", "逻辑回归", "methods",
       "Regression for a yes/no outcome (e.g. churned) on the log-odds scale.", EXT, "logit"),
    _t("A/B test", "A/B测试", "methods",
       "A randomised comparison of two versions (e.g. offer vs no offer) on an outcome.", EXT,
       "AB test", "split test"),
    _t("randomised controlled trial", "随机对照试验", "methods",
       "An experiment in which chance decides who is treated, so groups differ only by "
       "treatment.", EXT, "RCT", "randomized controlled trial", "randomised experiment"),
    _t("treatment group", "实验组", "methods",
       "Units that receive the intervention in an experiment.", EXT, "treated group"),
    _t("control group", "对照组", "methods",
       "Units that do not receive the intervention, for comparison.", EXT),
    _t("uplift", "增益", "methods",
       "The causal effect of a treatment on an outcome: outcome if treated minus outcome if "
       "not.", EXT, "treatment effect", "incremental effect", "增量响应"),
    _t("uplift model", "增益模型", "methods",
       "A model that predicts each customer's uplift, so that offers go to those they change.",
       EXT, "uplift modelling", "uplift modeling"),
    _t("Qini curve", "Qini曲线", "methods",
       "Cumulative incremental outcome when customers are targeted in order of predicted "
       "uplift.", EXT, "Qini"),
    _t("difference-in-differences", "双重差分", "methods",
       "Effect estimate: change in treated units minus change in untreated units over the same "
       "period.", EXT, "DiD", "diff in diff", "双重差分法"),
    _t("parallel trends assumption", "平行趋势假定", "methods",
       "The assumption behind difference-in-differences: without treatment, both groups would "
       "have moved alike.", EXT, "parallel trends"),
    _t("statistical power", "统计功效", "methods",
       "The probability that a test detects an effect of a given size.", EXT, "power"),
    _t("confidence interval", "置信区间", "methods",
       "A range that covers the true value in a stated share (e.g. 95%) of repeated samples.",
       EXT, "CI"),
    _t("bootstrap", "自助法", "methods",
       "Estimating uncertainty by refitting on many resamples drawn with replacement.", EXT,
       "bootstrapping"),
    _t("regression to the mean", "均值回归", "methods",
       "Extreme values tend to be followed by less extreme ones, which can fake a before/after "
       "effect.", EXT),
    _t("control chart", "控制图", "methods",
       "A time plot of a KPI with control limits that flag unusual periods.", EXT),
    _t("CUSUM chart", "累积和控制图", "methods",
       "A control chart of cumulative deviations that detects small, persistent shifts.", EXT,
       "CUSUM"),
    _t("k-means clustering", "K均值聚类", "methods",
       "Splits customers into k groups by minimising distances to the group means.", EXT,
       "k-means", "k均值"),
    _t("silhouette score", "轮廓系数", "methods",
       "How much closer points are to their own cluster than to the next; from -1 to 1.", EXT,
       "silhouette"),
    _t("Markov transition matrix", "马尔可夫转移矩阵", "methods",
       "Probabilities of moving between states (e.g. loyal, floating, lost) from one period to "
       "the next.", EXT, "transition matrix"),
    _t("market basket analysis", "购物篮分析", "methods",
       "Finding products bought together and rules such as 'if A then B' with support, "
       "confidence and lift.", EXT, "association rules", "basket analysis"),
    _t("lift", "提升度", "methods",
       "Ratio of a rate in a selected group to the base rate: rule confidence / consequent "
       "support, or top-decile rate / average.", EXT),
    _t("lift chart", "提升图", "methods",
       "Response or churn rate in each score decile relative to the average.", EXT,
       "gains chart"),
    _t("area under the ROC curve", "ROC曲线下面积", "methods",
       "Probability that a model scores a random churner above a random non-churner.", EXT,
       "AUC", "ROC AUC"),
    _t("probability calibration", "概率校准", "methods",
       "Agreement between predicted probabilities and observed rates.", EXT, "calibration"),
    _t("analytic hierarchy process", "层次分析法", "methods",
       "Derives criterion weights from pairwise comparison matrices (principal eigenvector), "
       "with a consistency check.", EXT, "AHP"),
    _t("consistency ratio", "一致性比率", "methods",
       "AHP check of pairwise judgements; below 0.1 is usually acceptable.", EXT),
    _t("entropy weight method", "熵权法", "methods",
       "Objective weights from data: indicators that vary more across units (lower entropy) "
       "get more weight.", EXT, "entropy weights", "entropy weighting"),
    _t("TOPSIS", "逼近理想解排序法", "methods",
       "Ranks alternatives by closeness to the ideal solution and distance from the anti-ideal "
       "one.", EXT, "technique for order preference by similarity to ideal solution"),
    _t("fuzzy comprehensive evaluation", "模糊综合评价", "methods",
       "Combines graded memberships on each criterion with weights into an overall grade.", EXT),
    _t("data envelopment analysis", "数据包络分析", "methods",
       "Linear-programming efficiency of units turning inputs into outputs, relative to the "
       "best.", EXT, "DEA"),
    _t("Cohen's kappa", "科恩卡帕系数", "methods",
       "Agreement between two coders beyond what chance would give.", EXT, "kappa",
       "Cohen kappa"),
    _t("weighted decision matrix", "加权决策矩阵", "methods",
       "Scores each option on weighted criteria and sums the scores.", EXT, "decision matrix",
       "weighted scoring"),
    _t("fuzzy matching", "模糊匹配", "methods",
       "Comparing strings by similarity rather than equality, to link records with typos or "
       "variants.", EXT, "approximate string matching"),
    _t("Erlang C model", "Erlang C模型", "methods",
       "Queueing formula for the probability that a caller waits; used to staff a call centre "
       "for a service level.", EXT, "Erlang C"),
    _t("mean absolute percentage error", "平均绝对百分比误差", "methods",
       "Average of |actual - forecast| / actual; a forecast accuracy measure.", EXT, "MAPE"),
    # ---- added with the service and performance modules (crmlab.service, crmlab.kpi) ----
    _t("ordered logit", "有序Logit模型", "methods",
       "Regression for ordered categories (e.g. a 1-5 CSAT answer): one latent index cut at "
       "estimated thresholds.", EXT, "ordinal logistic regression", "proportional odds model"),
    _t("fixed effects", "固定效应", "methods",
       "Per-unit intercepts that absorb everything constant about a unit (an account, a "
       "branch), so only within-unit variation identifies the effects.", EXT,
       "fixed-effects model"),
    _t("two-way fixed effects", "双向固定效应", "methods",
       "Unit and period fixed effects together; the classic difference-in-differences "
       "regression, biased under staggered adoption with changing effects.", EXT, "TWFE"),
    _t("event study", "事件研究", "methods",
       "Effects estimated separately for each period before and after an event; the leads "
       "check for pre-trends.", EXT, "event-study"),
    _t("staggered roll-out", "分批上线", "performance",
       "Introducing a system (e.g. CRM go-live) unit by unit at different dates.", EXT,
       "staggered adoption", "staggered rollout"),
    _t("imputation estimator", "插补估计量", "methods",
       "Difference-in-differences that fits untreated outcomes on never/not-yet-treated "
       "observations and averages treated minus imputed (Borusyak-Jaravel-Spiess).", EXT,
       "BJS estimator"),
    _t("average handling time", "平均处理时长", "service",
       "Mean agent time spent per contact, talk plus after-call work.", EXT, "AHT"),
    _t("shrinkage", "人员损耗率", "service",
       "Share of paid agent time not available for contacts (breaks, training, absence).", EXT,
       "staff shrinkage"),
    _t("sensitivity analysis", "敏感性分析", "methods",
       "Re-running a calculation over a range of assumptions to see which ones change the "
       "decision.", EXT),
    _t("inter-rater reliability", "评分者一致性", "methods",
       "Agreement between people who score the same items, e.g. Cohen's kappa.", EXT,
       "interrater reliability"),
    _t("performance indicator system", "绩效指标体系", "performance",
       "The organised set of indicators, with weights, by which CRM performance is evaluated.",
       "S000 §8.1", "KPI system", "indicator system"),
    _t("rank acceptability", "排序可接受度", "methods",
       "Share of weight draws under which an alternative takes a given rank; how robust a "
       "ranking is to uncertain weights.", EXT, "rank acceptability index"),
    _t("customer service strategy", "客户服务策略", "service",
       "The firm's choice of service levels, channels and standards for each customer group.",
       "S002 Ch1 §1"),
    # ---- added with the segmentation, CLV, satisfaction, loyalty, data and case modules ----
    _t("treemap", "树状图", "segmentation",
       "Nested rectangles whose areas show each segment's share, e.g. of customers or revenue.",
       EXT),
    _t("Gini coefficient", "基尼系数", "segmentation",
       "Concentration of value across customers: 0 if all are worth the same, near 1 if a few "
       "hold it all.", EXT, "Gini"),
    _t("value tier", "价值层级", "segmentation",
       "A band of customers by value (top, middle, bottom) used to set service levels.",
       "S000 §3.3", "value tiers"),
    _t("positioning map", "定位图", "segmentation",
       "A two-dimensional map of segments or brands on the dimensions customers care about.",
       "S000 Ch4", "perceptual map"),
    _t("elbow method", "肘部法则", "methods",
       "Choosing the number of clusters where adding another stops reducing within-cluster "
       "spread much.", EXT, "elbow"),
    _t("principal component", "主成分", "methods",
       "A direction of greatest variance in standardised data; the first two draw a 2-D map.",
       EXT, "PCA", "principal component analysis"),
    _t("adjusted Rand index", "调整兰德指数", "methods",
       "Agreement of two partitions corrected for chance: 0 for random labels, 1 for identical.",
       EXT, "ARI"),
    _t("calibration period", "校准期", "methods",
       "The time window a model is fitted on; its forecasts are checked on a later holdout.",
       EXT, "calibration window"),
    _t("holdout period", "验证期", "methods",
       "A later window kept out of fitting, on which forecasts are compared with what happened.",
       EXT, "holdout"),
    _t("standard error", "标准误", "methods",
       "The standard deviation of an estimate across repeated samples; the basis of its "
       "confidence interval.", EXT, "SE"),
    _t("conditional expectation", "条件期望", "methods",
       "The expected value given what is known, e.g. a customer's future purchases given "
       "their history.", EXT),
    _t("model check", "模型检验", "methods",
       "Comparing what a fitted model predicts with data it did not see (a holdout period), "
       "before anyone acts on its numbers.", EXT, "model checking"),
    _t("replication", "复现", "methods",
       "Re-estimating a published model on the same public data and matching the published "
       "numbers to their stated precision.", EXT, "replication on real data"),
    _t("tracking plot", "跟踪图", "value",
       "Cumulative or weekly purchases, actual against model, across calibration and holdout.",
       EXT, "tracking chart"),
    _t("oracle benchmark", "理想基准", "methods",
       "What a forecaster that knew the synthetic world's hidden parameters would predict; "
       "separates estimation error from luck.", EXT, "oracle"),
    _t("shrinkage estimate", "收缩估计", "methods",
       "An estimate pulled toward the population mean in proportion to how little data a unit "
       "has (BG/NBD and Gamma-Gamma do this per customer).", EXT, "statistical shrinkage"),
    _t("discounted expected residual lifetime", "折现期望剩余生命期", "value",
       "Expected number of future periods a subscriber stays, discounted; times the margin gives "
       "contractual CLV.", EXT, "DERL"),
    _t("BG/BB model", "BG/BB模型", "methods",
       "Beta-geometric/beta-Bernoulli model of repeat transactions in discrete opportunities.",
       EXT, "BGBB", "BG/BB", "beta-geometric/beta-Bernoulli model"),
    _t("internal consistency", "内部一致性", "satisfaction",
       "How strongly the items of one scale move together; Cronbach's alpha measures it.", EXT),
    _t("item-total correlation", "项目-总分相关", "satisfaction",
       "Correlation of an item with the sum of the scale's other items; low values flag a weak "
       "or reverse-keyed item.", EXT, "item total correlation"),
    _t("standardised regression coefficient", "标准化回归系数", "methods",
       "Slope in standard-deviation units, comparable across drivers on different scales.",
       EXT, "standardized regression coefficient", "beta weight"),
    _t("variance inflation factor", "方差膨胀因子", "methods",
       "How much correlated predictors inflate a coefficient's variance; above 5-10 warns of "
       "collinearity.", EXT, "VIF"),
    _t("composite reliability", "组合信度", "methods",
       "Reliability of a latent construct from its standardised loadings; above 0.7 is usually "
       "accepted.", EXT, "CR"),
    _t("average variance extracted", "平均方差抽取量", "methods",
       "Mean squared standardised loading of a construct's items; above 0.5 indicates "
       "convergent validity.", EXT, "AVE"),
    _t("discriminant validity", "区分效度", "methods",
       "Evidence that two constructs measure different things.", EXT),
    _t("heterotrait-monotrait ratio", "异质-单质比率", "methods",
       "Between-construct item correlations relative to within-construct ones; below 0.85-0.9 "
       "supports discriminant validity.", EXT, "HTMT"),
    _t("partially overlapping samples", "部分重叠样本", "methods",
       "Two survey waves sharing some respondents; their answers correlate, which a difference "
       "test must allow for.", EXT),
    _t("parametric bootstrap", "参数自助法", "methods",
       "Resampling from a fitted model rather than from the data, e.g. to calibrate a test "
       "whose parameter vanishes under the null.", EXT),
    _t("loyalty state", "忠诚状态", "loyalty",
       "Where a customer stands now: loyal, floating or lost (忠诚/游离/流失).", "S002 Ch3",
       "loyalty states"),
    _t("loyalty type", "忠诚类型", "loyalty",
       "Why a customer stays: latent, behavioural or emotional loyalty.", "S002 Ch3",
       "loyalty types"),
    _t("zone of indifference", "无差异区", "loyalty",
       "A range of satisfaction over which loyalty barely changes; loyalty rises only past a "
       "threshold.", EXT),
    _t("blocking", "分块", "data",
       "Comparing only records that share a key (postcode, name initial) so record linkage "
       "need not score every pair.", EXT),
    _t("match weight", "匹配权重", "data",
       "Evidence a field's agreement gives for a match (log-likelihood ratio, Fellegi-Sunter).",
       EXT, "match score"),
    _t("pairwise F1", "成对F1值", "data",
       "Harmonic mean of precision and recall over record pairs declared to be the same "
       "customer.", EXT),
    _t("salted hash", "加盐哈希", "data",
       "A one-way hash of an identifier with a secret added, so pseudonyms cannot be reversed "
       "by hashing guesses.", EXT, "salt"),
    _t("equivalence class", "等价类", "data",
       "Records sharing the same quasi-identifier values; k-anonymity needs each to hold at "
       "least k.", EXT),
    _t("generalisation", "泛化", "data",
       "Coarsening a quasi-identifier (exact age to age band) to reach k-anonymity.", EXT,
       "generalization"),
    _t("record suppression", "记录抑制", "data",
       "Dropping the records of too-small equivalence classes to reach k-anonymity.", EXT,
       "suppression"),
    _t("margin of error", "误差范围", "methods",
       "Half-width of a confidence interval; sets the survey's sample size.", EXT),
    _t("sample size", "样本量", "methods",
       "Number of observations needed for a given precision or power.", EXT),
    _t("response propensity", "应答倾向", "methods",
       "A person's probability of answering a survey; when it depends on satisfaction the "
       "respondents are biased.", EXT),
    _t("inverse-probability weighting", "逆概率加权", "methods",
       "Weighting each respondent by 1 / response propensity to undo non-response bias.", EXT,
       "IPW"),
    _t("minimum detectable effect", "最小可检测效应", "methods",
       "The smallest true effect a study of given size detects with the stated power.", EXT,
       "MDE", "minimum detectable uplift"),
    _t("break-even uplift", "盈亏平衡增益", "value",
       "The uplift at which a campaign's saved value just pays for its cost.", EXT),
    _t("case study", "案例研究", "crm_basics",
       "A firm's situation, question and decision, analysed as a whole.", "S000 §7.3; S001 §11",
       "case"),
    _t("synthetic replication", "合成复现", "methods",
       "Re-creating a case's setting in generated data with planted truth, so the analysis can "
       "be checked and re-run with other seeds.", EXT),
    _t("securities company", "证券公司", "crm_basics",
       "A broker-dealer; Securities Company A is the source texts' main CRM strategy case.",
       "S001 §11"),
    # ---- added with the churn and experiments modules (crmlab.churn, crmlab.experiments) ----
    _t("landmark analysis", "界标分析", "churn",
       "Predicting from a fixed date (the landmark) with only what was known then, among those "
       "still active; avoids looking ahead.", EXT, "landmarking"),
    _t("save rate", "挽留成功率", "churn",
       "Share of would-be churners an offer keeps.", EXT),
    _t("watch list", "流失预警名单", "churn",
       "The members an early-warning rule flags for a retention offer, with their risk and "
       "value.", "S000 §9.2", "churn watch list"),
    _t("profit curve", "利润曲线", "churn",
       "Expected campaign profit against the share of members targeted, in score order.", EXT),
    _t("break-even probability", "盈亏平衡概率", "churn",
       "The churn risk above which an offer's expected saved value exceeds its cost.", EXT),
    _t("expected remaining lifetime", "预期剩余生命周期", "value",
       "Expected further tenure of an active customer given the time already survived.", EXT,
       "residual lifetime"),
    _t("latent segment", "潜在细分", "segmentation",
       "The segment the generator assigned, unseen by the firm; the truth clustering is scored "
       "against.", EXT, "planted segment"),
    _t("time split", "时间切分", "methods",
       "Training on earlier periods and testing on later ones, as the model will be used.",
       EXT, "temporal split"),
    _t("cumulative gain", "累积增益", "methods",
       "Share of all churners captured by targeting the top x% by score.", EXT,
       "cumulative gains"),
    _t("T-learner", "双模型法", "methods",
       "Uplift from two outcome models, one fitted on treated and one on control; their "
       "difference is each person's predicted uplift.", EXT, "two-model approach"),
    _t("cross-fitting", "交叉拟合", "methods",
       "Predicting each fold with models fitted on the other folds, so no one is scored by a "
       "model that saw them.", EXT, "cross fitting"),
    _t("gradient boosting", "梯度提升", "methods",
       "An ensemble of shallow trees, each fitted to the previous ones' errors.", EXT,
       "gradient-boosted trees"),
    _t("Brier score", "Brier评分", "methods",
       "Mean squared difference between predicted probabilities and 0/1 outcomes; lower is "
       "better.", EXT),
    _t("time-dependent AUC", "时间依赖AUC", "methods",
       "AUC for separating those who churn by time t from those still active at t.", EXT),
    _t("Schoenfeld residuals", "Schoenfeld残差", "methods",
       "Per-event residuals of a Cox model whose trend over time reveals a non-proportional "
       "hazard.", EXT, "Schoenfeld residual"),
    _t("start-stop format", "起止格式", "methods",
       "Long survival data: one row per interval in which covariates are constant.", EXT,
       "counting-process format", "long format"),
    _t("immortal-time bias", "不朽时间偏倚", "methods",
       "Bias from classifying people by something that happens later during follow-up, which "
       "credits them with time they had to survive to get it.", EXT, "immortal time bias"),
    _t("stratification", "分层", "methods",
       "Separate baselines (or analyses) per group; in a Cox model, the remedy for a covariate "
       "that violates proportional hazards.", EXT, "stratified Cox"),
    _t("confounding", "混杂", "methods",
       "A third factor driving both the exposure and the outcome, so their association is not "
       "causal.", EXT, "confounder"),
    _t("improper solution", "不适当解", "methods",
       "SEM estimates no population can have: a zero or negative variance (Heywood case), a "
       "standardised path beyond +-1, R² of 1; a sign of misspecification.",
       EXT, "Heywood case", "inadmissible solution"),
    # ---- PLS path modelling (crmlab.pls) ----
    _t("outer weight", "外部权重", "methods",
       "The weight of an item in its construct's PLS score; rescaled to sum to 1, it gives the "
       "ACSI-style 0-100 index weights.", EXT, "outer weights", "PLS weight"),
    _t("reflective measurement", "反映型测量", "methods",
       "Items treated as effects of their construct, so they should correlate; PLS mode A "
       "weights each item by its covariance with the construct.", EXT, "mode A",
       "reflective indicators"),
    _t("formative measurement", "形成型测量", "methods",
       "Items treated as ingredients that form their construct; PLS mode B weights them by a "
       "multiple regression.", EXT, "mode B", "formative indicators"),
    _t("inner weighting scheme", "内部权重方案", "methods",
       "How PLS combines neighbouring construct scores in each iteration: centroid, factorial "
       "or path weighting.", EXT, "weighting scheme", "path weighting scheme", "centroid scheme"),
    _t("consistent PLS", "一致性偏最小二乘", "methods",
       "PLS with a reliability correction (Dijkstra-Henseler) so that paths estimate relations "
       "among latent variables, not among error-laden composites.", EXT, "PLSc"),
    _t("rho_A reliability", "ρA信度系数", "methods",
       "Dijkstra-Henseler reliability of a PLS composite, between Cronbach's alpha and composite "
       "reliability; PLSc divides correlations by it.", EXT, "rho_A", "rhoA", "Dijkstra-Henseler rho"),
    _t("cross-loading", "交叉载荷", "methods",
       "An item's correlation with a construct other than its own; it should stay below the "
       "item's loading on its own construct.", EXT, "cross loading", "cross-loadings"),
    # ---- terms the Chinese edition needed (renderings as the translators used them) ----
    _t("risk set", "风险集", "methods",
       "The members still under observation and not yet churned at a given tenure: the "
       "denominator of a hazard estimate.", EXT, "at risk"),
    _t("Wilson interval", "Wilson置信区间", "methods",
       "A confidence interval for a proportion that stays inside 0-1 and behaves well for small "
       "samples and rates near 0 or 1.", EXT, "Wilson score interval"),
    _t("profile likelihood", "剖面似然", "methods",
       "The likelihood maximised over the other parameters for each value of one parameter; "
       "its drop gives a confidence interval without a normal approximation.", EXT),
    _t("likelihood-ratio test", "似然比检验", "methods",
       "Compares nested models by twice the difference of their log-likelihoods, referred to a "
       "chi-square distribution.", EXT, "likelihood ratio test", "LR test"),
    _t("delta method", "delta法", "methods",
       "The standard error of a function of estimates from their covariance and the function's "
       "derivatives.", EXT),
    _t("omitted-variable bias", "遗漏变量偏差", "methods",
       "The bias in a coefficient when a cause of the outcome that is correlated with the "
       "regressor is left out of the model.", EXT, "omitted variable bias"),
    _t("pooled OLS", "混合OLS回归", "methods",
       "Ordinary least squares on panel data that ignores which unit each row belongs to.", EXT,
       "pooled regression"),
    _t("false discovery rate", "错误发现率", "methods",
       "The expected share of false positives among the findings declared significant "
       "(Benjamini-Hochberg).", EXT, "FDR", "false discovery"),
    _t("heatmap", "热力图", "methods",
       "A table drawn as coloured cells, so that large and small values stand out at a glance.",
       EXT, "heat map"),
    _t("sufficient statistics", "充分统计量", "methods",
       "Summaries of the data that carry everything the likelihood needs, e.g. (x, t_x, T) for "
       "BG/NBD: a fit on them is the fit on every transaction.", EXT, "sufficient statistic"),
    _t("measurement model", "测量模型", "methods",
       "The part of a structural equation or PLS model that links each construct to its survey "
       "items.", EXT, "outer model"),
    _t("structural model", "结构模型", "methods",
       "The part of a structural equation or PLS model that links the constructs to each other "
       "by paths.", EXT, "inner model"),
    _t("PLS composite", "组合变量", "methods",
       "A weighted sum of items standing for a construct, as PLS estimates it (as opposed to a "
       "common factor in covariance-based SEM).", EXT),
    _t("total effect", "总效应", "methods",
       "A construct's direct path plus all its indirect paths through mediators to an outcome.",
       EXT),
    _t("Fornell–Larcker criterion", "Fornell–Larcker准则", "methods",
       "Discriminant validity holds when each construct's AVE exceeds its squared correlations "
       "with the other constructs.", EXT, "Fornell-Larcker"),
    _t("corrected item-total correlation", "校正的项目-总分相关", "satisfaction",
       "An item's correlation with the sum of the scale's other items; a low value flags an item "
       "that measures something else.", EXT, "item-rest correlation"),
    _t("Chinese Customer Satisfaction Index", "中国顾客满意度指数", "satisfaction",
       "The national satisfaction index of China, estimated like the ACSI and ECSI with PLS path "
       "models.", EXT, "CCSI"),
    _t("buy-till-you-die model", "购买直至流失模型", "value",
       "The family of customer-base models (Pareto/NBD, BG/NBD, BG/BB) in which each customer "
       "buys at random until an unobserved drop-out.", EXT, "buy till you die", "BTYD"),
    _t("discounted expected residual transactions", "折现期望剩余交易次数", "value",
       "The expected number of a customer's future transactions, each discounted to today; "
       "times the value per transaction, it is residual CLV (BG/BB).", EXT, "DERT"),
    _t("transaction opportunity", "交易机会", "value",
       "One of the discrete occasions (a year's appeal, an event) at which a BG/BB customer may "
       "or may not transact.", EXT),
    _t("customer-base analysis", "客户群分析", "value",
       "Forecasting a base of customers' future purchases and their chance of still being "
       "active from their past transactions.", EXT, "customer base analysis"),
    _t("advocate", "拥护者", "loyalty",
       "A loyal customer who also recommends the firm to others (an 'apostle' in Jones & Sasser's "
       "terms).", EXT, "apostle"),
    _t("SLA attainment", "SLA达成率", "service",
       "The share of tickets or calls handled within the service-level agreement's target "
       "time.", EXT, "service level attainment"),
    _t("average speed of answer", "平均应答速度", "service",
       "The mean wait before a call-centre agent answers a call.", EXT, "ASA"),
    _t("occupancy", "坐席占用率", "service",
       "The share of agents' logged-in time spent handling contacts.", EXT, "agent occupancy"),

    _t("weighted likelihood", "加权似然", "methods",
       "A likelihood in which each distinct row counts as often as its weight: the same fit as on "
       "the uncompressed data, far faster.", EXT),
    _t("life table", "生命表", "methods",
       "Counts of members at risk, events and exposure per tenure band (and covariate pattern): "
       "what Kaplan–Meier and piecewise-exponential models need.", EXT, "actuarial table"),
    _t("piecewise-exponential model", "分段指数模型", "methods",
       "A proportional hazards model with a baseline hazard constant within each tenure band, "
       "fitted as a Poisson regression on life-table cells.", EXT, "piecewise exponential model"),
    _t("partial likelihood", "偏似然", "methods",
       "Cox's likelihood for the regression coefficients alone, leaving the baseline hazard "
       "unspecified.", EXT, "Cox partial likelihood"),
    _t("Poisson regression", "泊松回归", "methods",
       "A generalised linear model for counts with a log link, here with the log of exposure as "
       "an offset.", EXT),
    _t("non-collapsibility", "不可压缩性", "methods",
       "Leaving out a covariate that affects the outcome changes a hazard or odds ratio even when "
       "the covariate is independent of the others.", EXT, "non-collapsible"),
    _t("membership spell", "会员期", "churn",
       "One membership from its start to its end (or to the end of observation): the unit of a "
       "survival analysis of paid memberships.", EXT, "spell"),
    _t("record batch", "记录批次", "technology",
       "A block of rows handed over at once (Arrow), so that a table larger than memory is "
       "processed piece by piece.", EXT),
    _t("columnar storage format", "列式存储格式", "technology",
       "A file format that stores each column together and compressed (Parquet), so a query "
       "reads only the columns it needs.", EXT, "Parquet", "columnar file format"),
    _t("embedded analytical database", "嵌入式分析数据库", "technology",
       "An SQL engine that runs inside the analysis process with no server (DuckDB) and queries "
       "files where they lie.", EXT, "DuckDB"),
    _t("cross-buying", "交叉购买", "value",
       "A customer buying from categories new to the relationship.", EXT, "cross-selling uptake"),
    _t("survivorship rules", "存活规则", "data",
       "The rules that pick, field by field, which source's value goes into the merged customer "
       "record after linkage.", EXT, "survivorship"),
    _t("precision", "精确率", "methods",
       "Of the cases a rule flags, the share that are true (e.g. true duplicates among the pairs "
       "a linker merges).", EXT),
    _t("recall", "召回率", "methods",
       "Of the true cases, the share a rule flags.", EXT),
    _t("consistency index", "一致性指标", "methods",
       "(λmax − n)/(n − 1) of an AHP comparison matrix; divided by the random index it gives the "
       "consistency ratio.", EXT, "CI (AHP)"),
    _t("random index", "平均随机一致性指标", "methods",
       "Saaty's average consistency index of random comparison matrices of the same size.", EXT,
       "RI"),
    _t("average treatment effect on the treated", "处理组平均处理效应", "methods",
       "The mean effect of a treatment (e.g. the CRM go-live) on the units that received it.", EXT,
       "ATT"),
    _t("acquisition channel", "获客渠道", "value",
       "The channel through which a customer was first won (store, online, referral, ...).", EXT),

)


# ---------------------------------------------------------------------------- lookup index

_DASHES = re.compile(r"[-\u2010-\u2015\u2212_/]")
_QUOTES = re.compile(r"['\u2018\u2019`\u00b4]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PAREN = re.compile(r"^(?P<outer>.*?)\s*[(（](?P<inner>[^()（）]*)[)）]\s*$")


def _has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def _norm(text: str) -> str:
    """Lookup key: NFKC, lower case, dashes/underscores/slashes as spaces, no apostrophes,
    single spaces; text with 中文 characters also loses its spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _QUOTES.sub("", _DASHES.sub(" ", text))
    text = " ".join(text.split())
    return text.replace(" ", "") if _has_cjk(text) else text


def _build_index(terms: tuple[Term, ...]) -> dict[str, Term]:
    index: dict[str, Term] = {}
    for term in terms:
        if term.topic not in TOPIC_LABELS:
            raise ParameterError(f"glossary term {term.english!r} has unknown topic {term.topic!r}",
                                 fix=f"use one of {list(TOPICS)}")
        for spelling in (term.english, term.chinese, *term.aliases):
            key = _norm(spelling)
            other = index.get(key)
            if other is not None and other is not term:
                raise ParameterError(
                    f"glossary spelling {spelling!r} of {term.english!r} collides with "
                    f"{other.english!r}", fix="give each term and alias a distinct spelling")
            index[key] = term
    return index


_INDEX: dict[str, Term] = _build_index(GLOSSARY)


def _check_text(text, func: str) -> str:
    if not isinstance(text, str):
        raise ParameterError(
            f"{func}() needs a term as a string, got {type(text).__name__} {text!r}",
            fix="pass an English or 中文 term, e.g. 'churn rate' or '客户流失率'")
    if not text.strip():
        raise ParameterError(f"{func}() got an empty term",
                             fix="pass an English or 中文 term, e.g. 'churn rate' or '客户流失率'")
    return text


def _suggest(text: str, n: int = 3) -> list[str]:
    """Up to ``n`` close terms, shown in the query's script: spellings that contain the
    query (shortest first), then difflib's closest matches (typos)."""
    key = _norm(text)
    cjk = _has_cjk(key)
    candidates = [k for k in _INDEX if _has_cjk(k) == cjk]
    keys = sorted((k for k in candidates if key in k), key=len) if len(key) >= 3 - cjk else []
    keys += difflib.get_close_matches(key, candidates, n=12, cutoff=0.6)
    out: list[str] = []
    for k in keys:
        term = _INDEX[k]
        label = term.chinese if cjk else term.english
        if label not in out:
            out.append(label)
        if len(out) == n:
            break
    return out


def lookup(text: str) -> Term:
    """The :class:`Term` for an English term, a 中文 term or an alias (e.g. ``"CLV"``).

    English matching ignores case, hyphens/dashes, apostrophes and extra spaces; a
    ``"english (中文)"`` string as :func:`bilingual` writes it is accepted too. Unknown
    terms raise :class:`~crmlab.errors.ParameterError` with up to three suggestions.

    >>> lookup("Repeat purchase  RATE").chinese
    '重复购买率'
    >>> lookup("复购率").english
    'repeat-purchase rate'
    """
    text = _check_text(text, "lookup")
    term = _INDEX.get(_norm(text))
    if term is None:
        match = _PAREN.match(text.strip())
        if match:
            for part in (match["outer"], match["inner"]):
                if part.strip() and _norm(part) in _INDEX:
                    return _INDEX[_norm(part)]
        hints = _suggest(text)
        if len(hints) == 1:
            fix = f"did you mean {hints[0]!r}? "
        elif hints:
            fix = f"did you mean one of {', '.join(repr(h) for h in hints)}? "
        else:
            fix = ""
        raise ParameterError(f"unknown glossary term {text!r}",
                             fix=f"{fix}Browse every term with crmlab.glossary.table()")
    return term


def bilingual(text: str) -> str:
    """``"english (中文)"`` for a term given in either language or by an alias.

    >>> bilingual("客户流失率")
    'churn rate (客户流失率)'
    """
    return lookup(text).bilingual


def topics() -> tuple[str, ...]:
    """The topic tags, in course order.

    >>> topics()[:3]
    ('crm_basics', 'strategy', 'data')
    """
    return TOPICS


_COLUMNS = ["English", "中文", "topic", "definition", "source"]


def table(topic: str | Iterable[str] | None = None,
          terms: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Glossary rows as a DataFrame (columns English, 中文, topic, definition, source).

    ``topic`` keeps one topic tag (or several); ``terms`` keeps the listed terms (any
    spelling :func:`lookup` accepts). Rows are sorted by topic, in course order (see
    :func:`topics`), then by English term.

    >>> table("churn")["English"].head(3).tolist()
    ['break-even probability', 'churn early-warning mechanism', 'churn rate']
    >>> len(table()) == len(GLOSSARY)
    True
    """
    selected = list(GLOSSARY)
    if topic is not None:
        wanted = _as_list(topic, "topic")
        bad = [t for t in wanted if not isinstance(t, str) or t not in TOPIC_LABELS]
        if bad:
            raise ParameterError(f"unknown glossary topic(s) {bad}",
                                 fix=f"use one of {list(TOPICS)}")
        selected = [t for t in selected if t.topic in wanted]
    if terms is not None:
        chosen = {id(lookup(_check_text(x, "table"))) for x in _as_list(terms, "terms")}
        selected = [t for t in selected if id(t) in chosen]
    order = {name: i for i, name in enumerate(TOPICS)}
    selected.sort(key=lambda t: (order[t.topic], t.english.casefold()))
    rows = [(t.english, t.chinese, t.topic, t.definition, t.source) for t in selected]
    return pd.DataFrame(rows, columns=_COLUMNS)


def _as_list(value, name: str) -> list:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Iterable):
        raise ParameterError(f"table({name}=...) needs a string or a list of strings, "
                             f"got {type(value).__name__} {value!r}",
                             fix=f"pass e.g. {name}={'churn' if name == 'topic' else ['churn rate']!r}")
    values = list(value)
    if not values:
        raise ParameterError(f"table({name}=...) got an empty list",
                             fix=f"leave {name}=None for every row, or list at least one")
    return values
