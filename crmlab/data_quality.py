"""Customer data collection and quality (客户信息收集与管理): profiling, linkage, privacy, surveys.

The source texts ask a CRM team to collect customer information through several channels,
manage it centrally, keep it accurate and current, and protect it (S000 Ch3, §9.1-9.2), and
see the internet-era CRM as one integrated view of each customer across channels (S003 §2);
S003 §4(1) distinguishes explicit from implicit e-mail consent. They give no numbers: every
figure here comes from the SYNTHETIC world (``crmlab.synth``), whose silo extracts are
mangled copies of the master data with a known answer key (``world.silo_matches``).

* **profiling** (数据质量剖析): :func:`profile` (missingness, validity, distinct values per
  column), :func:`freshness` (age of ``last_updated``), :data:`VALIDATORS`;
* **normalisation** (数据标准化): :func:`normalize_name` (whitespace, full-width forms,
  traditional -> simplified characters via :data:`TRAD_TO_SIMP`), :func:`normalize_phone`,
  :func:`normalize_email`, :func:`normalize_city`;
* **record linkage into a single customer view** (记录链接 / 统一客户视图):
  :func:`standardize_records`, :func:`block_pairs` (blocking, 分块), :func:`compare_pairs`
  (comparison levels), :class:`RecordLinker` (Fellegi-Sunter match weights, with m
  probabilities estimated by EM or by counting on a labelled sample), :func:`cluster_pairs`
  (connected components above a threshold), :func:`linkage_metrics` (pairwise precision,
  recall, F1 against the true matches), :func:`single_customer_view` (golden records with
  survivorship rules), :func:`split_labelled` (labelled sample vs held-out customers);
* **privacy** (隐私保护): :func:`pseudonymize` (salted HMAC-SHA256, 假名化),
  :func:`k_anonymity` / :func:`equivalence_classes` (k-匿名), generalisation hierarchies
  (:func:`default_hierarchies`, :func:`generalize`) and the lattice search
  :func:`anonymity_search`, :func:`minimize` (data minimisation for a stated purpose, 数据最小化);
* **survey design** (调查设计): :func:`margin_of_error`, :func:`sample_size`,
  :func:`sampling_frame`, :func:`planted_survey_frame`, :func:`response_propensity` and :func:`simulate_nonresponse`
  (non-response bias, 无应答偏差, and an inverse-probability-weighted correction).

>>> normalize_phone(pd.Series(["(86)138 1234 5678", "138-1234-5678", ""])).tolist()
['13812345678', '13812345678', nan]
>>> normalize_name(pd.Series(["張 偉", "张伟"])).tolist()
['张伟', '张伟']
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import numbers
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, special

from .base import Fitter, normal_quantile, summary_frame
from .errors import ColumnError, ConvergenceError, DataValidationError, ParameterError
from .validation import (
    check_binary,
    check_ci_level,
    check_column_list,
    check_column_name,
    check_count,
    check_dates,
    check_frame,
    check_not_empty,
    check_option,
    check_probability,
    check_random_state,
    check_scalar,
    check_timestamp,
    check_unique,
    coding_advice,
    require_columns,
)

__all__ = [
    # profiling
    "VALIDATORS",
    "profile",
    "freshness",
    # normalisation
    "TRAD_TO_SIMP",
    "CITY_ALIASES",
    "normalize_name",
    "normalize_phone",
    "normalize_email",
    "normalize_city",
    # linkage
    "LINK_FIELDS",
    "BLOCKING_KEYS",
    "DEFAULT_BLOCKING",
    "standardize_records",
    "block_pairs",
    "compare_pairs",
    "RecordLinker",
    "cluster_pairs",
    "linkage_metrics",
    "single_customer_view",
    "split_labelled",
    # privacy
    "DIRECT_IDENTIFIERS",
    "pseudonymize",
    "equivalence_classes",
    "k_anonymity",
    "band",
    "default_hierarchies",
    "generalize",
    "anonymity_search",
    "minimize",
    # survey design
    "margin_of_error",
    "sample_size",
    "sampling_frame",
    "planted_survey_frame",
    "response_propensity",
    "simulate_nonresponse",
    "nonresponse_adjustment",
]


def _missing(s: pd.Series) -> pd.Series:
    """NaN/None and blank strings both count as missing (systems export '' for unknown)."""
    blank = s.astype("string").str.strip().eq("").fillna(False) if s.dtype == object else False
    return s.isna() | blank


def _keeps_index(name: str):
    """Run a normaliser on positions and give the result the caller's index back, so that
    duplicated index labels (concatenated extracts) cannot misplace values."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(values, *args, **kwargs):
            s = _as_series(values, name)
            out = fn(s.reset_index(drop=True), *args, **kwargs)
            out.index = s.index
            return out
        return inner
    return wrap


def _as_series(values, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, (list, tuple, np.ndarray, pd.Index)):
        return pd.Series(list(values), name=name, dtype=object)
    raise ParameterError(f"{name} must be a pandas Series or a list, got {type(values).__name__}",
                         fix=f"pass a column, e.g. df[{name!r}]")


# ====================================================================================
# normalisation
# ====================================================================================
# Traditional -> simplified characters common in Chinese personal and company names and
# addresses. Built by hand from the standard simplification table (通用规范汉字表 /
# 简化字总表) for frequent surname, given-name and general characters; it is deliberately
# general (several hundred characters) and knows nothing about how the synthetic names were
# drawn. Extend it for your own data with ``normalize_name(..., extra_map={...})``, or use a
# full converter such as OpenCC for production work.
_TRAD_SIMP_PAIRS = (
    # surnames
    "張张 劉刘 陳陈 楊杨 黃黄 趙赵 吳吴 孫孙 馬马 羅罗 鄭郑 謝谢 許许 韓韩 馮冯 鄧邓 蔣蒋 葉叶 蘇苏 "
    "盧卢 錢钱 湯汤 賈贾 龔龚 顧顾 閻阎 範范 鍾钟 譚谭 陸陆 萬万 嚴严 韋韦 鄒邹 龍龙 聶聂 賀贺 喬乔 "
    "魯鲁 鄺邝 歐欧 溫温 蕭萧 鄔邬 關关 單单 費费 紀纪 齊齐 鄺邝 龐庞 閔闵 鞏巩 "
    "衛卫 婁娄 藍蓝 蘆芦 駱骆 鮑鲍 鄔邬 湯汤 顏颜 "
    # given-name characters
    "偉伟 靜静 麗丽 強强 軍军 艷艳 豔艳 傑杰 濤涛 剛刚 華华 輝辉 國国 紅红 鵬鹏 飛飞 軒轩 曉晓 雲云 "
    "寧宁 凱凯 穎颖 詩诗 歡欢 東东 榮荣 賢贤 傳传 鳳凤 貴贵 紹绍 寶宝 慶庆 勝胜 瑩莹 瓊琼 嬌娇 儀仪 "
    "嵐岚 瀟潇 燁烨 煒炜 璽玺 銘铭 錦锦 鋒锋 鋼钢 鈞钧 鐵铁 銀银 鳴鸣 鴻鸿 鶴鹤 聰聪 誠诚 謙谦 語语 "
    "詠咏 譽誉 豐丰 達达 遠远 運运 進进 連连 選选 遙遥 陽阳 雙双 電电 靈灵 韻韵 順顺 頌颂 領领 頤颐 "
    "願愿 風风 飄飘 餘余 驊骅 騰腾 驍骁 驥骥 鮮鲜 鷹鹰 麥麦 齡龄 兒儿 興兴 億亿 優优 倫伦 儉俭 劍剑 "
    "勁劲 勳勋 啟启 堅坚 壯壮 壽寿 夢梦 奮奋 婭娅 嫻娴 嬋婵 寬宽 崗岗 嶺岭 帥帅 彥彦 徵征 恆恒 悅悦 "
    "愛爱 態态 憶忆 懷怀 戀恋 擁拥 暉晖 曆历 曄晔 權权 樂乐 樹树 橋桥 歲岁 歷历 潔洁 潤润 澤泽 濟济 "
    "濱滨 灣湾 燦灿 爾尔 獎奖 環环 瑋玮 瑤瑶 產产 畫画 碩硕 禮礼 禪禅 禎祯 稱称 穩稳 競竞 筆笔 "
    "節节 簡简 紀纪 約约 純纯 紛纷 細细 終终 結结 絲丝 綠绿 維维 綱纲 緒绪 練练 績绩 織织 繼继 續续 "
    "義义 習习 聖圣 聯联 聲声 肅肃 蓮莲 蘭兰 裝装 覺觉 親亲 觀观 評评 詞词 試试 話话 認认 誼谊 諾诺 "
    "謹谨 譯译 護护 讀读 變变 貝贝 財财 賓宾 賦赋 質质 賽赛 贏赢 趕赶 躍跃 輕轻 輪轮 轉转 農农 遷迁 "
    "邊边 醫医 釗钊 針针 鐘钟 錫锡 長长 門门 閃闪 閣阁 闊阔 陣阵 隨随 隱隐 雜杂 須须 頁页 "
    "項项 頻频 額额 顯显 飯饭 養养 驗验 驚惊 鬆松 點点 龜龟 瀾澜 灝灏 濤涛 淵渊 渾浑 滿满 漢汉 潛潜 "
    "熱热 燈灯 爐炉 爭争 爺爷 獨独 現现 瑪玛 當当 發发 盡尽 監监 盤盘 眾众 確确 窮穷 籃篮 級级 組组 "
    "絕绝 統统 網网 縣县 總总 舉举 藝艺 處处 術术 衝冲 製制 複复 計计 記记 設设 說说 課课 調调 談谈 "
    "請请 論论 證证 識识 議议 購购 車车 軟软 載载 辦办 這这 過过 遊游 適适 還还 釋释 開开 間间 隊队 "
    "際际 離离 難难 題题 類类 體体 魚鱼 鳥鸟 黨党 團团 園园 圖图 報报 場场 塊块 學学 實实 審审 寫写 "
    "對对 將将 層层 屬属 島岛 幣币 師师 帶带 幹干 廣广 廠厂 廳厅 彈弹 後后 從从 復复 惡恶 應应 戰战 "
    "戲戏 擇择 擊击 數数 斷断 時时 晉晋 書书 會会 條条 來来 極极 樓楼 標标 樣样 機机 歸归 殘残 氣气 "
    "為为 無无 煉炼 們们 個个 價价 備备 儲储 兩两 冊册 劇剧 務务 動动 勞劳 勢势 區区 協协 參参 號号 "
    "員员 問问 嗎吗 專专 業业 幾几 麼么 與与 裡里 蟲虫 業业 "
    # company-name and address characters
    "廈厦 貿贸 訊讯 飾饰 鋪铺 鎮镇 門门 灣湾 廟庙 鐵铁 銷销 術术 資资 產产 險险 證证 銀银 醫医 藥药 "
    "藥药 設设 運运 輸输 電电 氣气 廣广 東东 區区 縣县 莊庄 園园 館馆 樓楼 號号 義义 達达 寧宁 慶庆 "
    "陝陕 瀋沈 濟济 貴贵 蘇苏 漢汉 滬沪 "
)
TRAD_TO_SIMP: dict[str, str] = {pair[0]: pair[1] for pair in _TRAD_SIMP_PAIRS.split()}
_TRANS = str.maketrans(TRAD_TO_SIMP)

# English / pinyin spellings of major mainland cities -> Chinese (general knowledge; pass
# ``aliases=`` to normalize_city for other places, e.g. from a branches reference table).
CITY_ALIASES: dict[str, str] = {
    "beijing": "北京", "peking": "北京", "shanghai": "上海", "tianjin": "天津", "chongqing": "重庆",
    "guangzhou": "广州", "canton": "广州", "shenzhen": "深圳", "hangzhou": "杭州", "nanjing": "南京",
    "suzhou": "苏州", "chengdu": "成都", "wuhan": "武汉", "xian": "西安", "xi'an": "西安",
    "changsha": "长沙", "zhengzhou": "郑州", "qingdao": "青岛", "shenyang": "沈阳", "dalian": "大连",
    "xiamen": "厦门", "fuzhou": "福州", "jinan": "济南", "harbin": "哈尔滨", "changchun": "长春",
    "kunming": "昆明", "hefei": "合肥", "nanning": "南宁", "ningbo": "宁波", "dongguan": "东莞",
    "foshan": "佛山", "wuxi": "无锡", "shijiazhuang": "石家庄", "taiyuan": "太原", "nanchang": "南昌",
    "guiyang": "贵阳", "lanzhou": "兰州", "urumqi": "乌鲁木齐", "hohhot": "呼和浩特", "haikou": "海口",
    "xining": "西宁", "yinchuan": "银川", "lhasa": "拉萨", "zhuhai": "珠海", "wenzhou": "温州",
}


@_keeps_index("name")
def normalize_name(values, extra_map: Mapping[str, str] | None = None) -> pd.Series:
    """Standard form of personal or company names for matching.

    Applies Unicode NFKC (full-width letters and digits -> ASCII), removes every kind of
    whitespace and the middle dot ``·``, maps traditional to simplified characters
    (:data:`TRAD_TO_SIMP`, plus ``extra_map``) and upper-cases Latin letters. Homophone typos
    (伟/玮) are *not* normalised away: the linker scores them as a one-character edit.
    Missing or blank values become NaN.

    >>> normalize_name(["劉 麗華", "ＡＢＣ公司", None]).tolist()
    ['刘丽华', 'ABC公司', nan]
    """
    s = _as_series(values, "name")
    trans = _TRANS if not extra_map else str.maketrans({**TRAD_TO_SIMP, **dict(extra_map)})
    miss = _missing(s)
    out = s.where(~miss).astype(object)
    txt = out.dropna().astype(str).map(lambda v: unicodedata.normalize("NFKC", v))
    txt = txt.str.replace(r"[\s·・.]+", "", regex=True).str.translate(trans).str.upper()
    out.loc[txt.index] = txt
    out[out.isna() | (out == "")] = np.nan
    return out.rename(s.name)


_PHONE_CLEAN = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


@_keeps_index("phone")
def normalize_phone(values, errors: str = "raise") -> pd.Series:
    """Mainland mobile numbers in any common format -> 11 digits (``13812345678``).

    Accepts ``138-1234-5678``, ``138 1234 5678``, ``+86 13812345678``, ``0086...``,
    ``(86)138 1234 5678``. Blank and missing values become NaN. A value that is not an
    11-digit mobile number after cleaning is *malformed*: ``errors="raise"`` (default) raises
    :class:`~crmlab.errors.DataValidationError` naming it; ``errors="coerce"`` turns it into NaN.

    >>> normalize_phone(["+86 13812345678", "0086-138-1234-5678"]).tolist()
    ['13812345678', '13812345678']
    >>> normalize_phone(["12345"])
    Traceback (most recent call last):
    ...
    crmlab.errors.DataValidationError: phone has 1 malformed number(s) that are not 11-digit mainland mobiles (first: '12345'). Fix: correct them at the source, drop them, or call normalize_phone(..., errors='coerce') to treat them as missing
    """
    check_option(errors, "errors", ["raise", "coerce"])
    s = _as_series(values, "phone")
    miss = _missing(s)
    raw = s.where(~miss).dropna()
    if len(raw) and not raw.map(lambda v: isinstance(v, (str, numbers.Integral))).all():
        bad = raw[~raw.map(lambda v: isinstance(v, (str, numbers.Integral)))].iloc[0]
        raise DataValidationError(
            f"phone values must be text, found {bad!r} ({type(bad).__name__})",
            fix="read phone columns as strings, e.g. pd.read_csv(..., dtype={'phone': str}); "
                "a float loses leading characters and formatting")
    txt = raw.astype(str).map(lambda v: unicodedata.normalize("NFKC", v)).str.replace(_PHONE_CLEAN, "", regex=True)
    txt = txt.str.replace(r"^(\+?0{0,2}86)(?=1\d{10}$)", "", regex=True)
    ok = txt.str.match(_MOBILE)
    if not ok.all() and errors == "raise":
        first = raw[~ok].iloc[0]
        raise DataValidationError(
            f"{s.name or 'phone'} has {int((~ok).sum())} malformed number(s) that are not 11-digit "
            f"mainland mobiles (first: {first!r})",
            fix="correct them at the source, drop them, or call normalize_phone(..., errors='coerce') "
                "to treat them as missing")
    out = pd.Series(np.nan, index=s.index, dtype=object, name=s.name)
    out.loc[txt.index[ok.to_numpy()]] = txt[ok]
    return out


_EMAIL = re.compile(r"^[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}$")


@_keeps_index("email")
def normalize_email(values, errors: str = "coerce") -> pd.Series:
    """Trim and lower-case e-mail addresses; blanks -> NaN.

    ``errors="coerce"`` (default) also turns syntactically invalid addresses into NaN;
    ``errors="raise"`` raises on them.

    >>> normalize_email([" Li.Wei@QQ.COM ", "", "not-an-email"]).tolist()
    ['li.wei@qq.com', nan, nan]
    """
    check_option(errors, "errors", ["raise", "coerce"])
    s = _as_series(values, "email")
    miss = _missing(s)
    txt = s.where(~miss).dropna().astype(str).str.strip().str.lower()
    ok = txt.str.match(_EMAIL)
    if not ok.all() and errors == "raise":
        raise DataValidationError(
            f"{s.name or 'email'} has {int((~ok).sum())} invalid address(es) (first: {txt[~ok].iloc[0]!r})",
            fix="correct them or pass errors='coerce' to treat them as missing")
    out = pd.Series(np.nan, index=s.index, dtype=object, name=s.name)
    out.loc[txt.index[ok.to_numpy()]] = txt[ok]
    return out


@_keeps_index("city")
def normalize_city(values, aliases: Mapping[str, str] | None = None) -> pd.Series:
    """City names to one spelling: strip the 市 suffix, map English/pinyin via :data:`CITY_ALIASES`.

    ``aliases`` adds or overrides spellings (keys are matched case-insensitively, ignoring
    spaces, hyphens and apostrophes), e.g. ``dict(zip(branches.city_en, branches.city))``.

    >>> normalize_city(["北京市", "Beijing", " 北京 ", "Xi'an"]).tolist()
    ['北京', '北京', '北京', '西安']
    """
    s = _as_series(values, "city")
    table = {re.sub(r"[\s'\-]", "", k).lower(): v for k, v in {**CITY_ALIASES, **dict(aliases or {})}.items()}
    miss = _missing(s)
    txt = s.where(~miss).dropna().astype(str).map(lambda v: unicodedata.normalize("NFKC", v).strip())
    key = txt.str.replace(r"[\s'\-]", "", regex=True).str.lower()
    mapped = key.map(table)
    txt = mapped.fillna(txt.str.translate(_TRANS).str.replace(r"市$", "", regex=True))
    out = pd.Series(np.nan, index=s.index, dtype=object, name=s.name)
    out.loc[txt.index] = txt
    return out


# ====================================================================================
# record linkage
# ====================================================================================
# field -> comparison levels (level code -> label). -1 = one side missing (no evidence).
LINK_FIELDS: dict[str, dict[int, str]] = {
    "name": {0: "different", 1: "one character differs (typo/homophone)", 2: "exact"},
    "phone": {0: "different", 1: "one digit or adjacent swap", 2: "exact"},
    "email": {0: "different", 1: "exact"},
    "city": {0: "different", 1: "exact"},
    "birth_year": {0: "different", 1: "exact"},
}
_OPTIONAL = ("email", "city", "birth_year", "last_updated")
BLOCKING_KEYS: dict[str, str] = {
    "phone": "same normalised phone",
    "email": "same normalised e-mail",
    "name": "same normalised name",
    "surname_birth_year": "same first character of the name and same birth year",
}
# surname + birth year finds the few pairs with a name typo AND a changed phone AND no
# e-mail, but proposes many times more non-matching pairs: opt in when you need it.
DEFAULT_BLOCKING = ("phone", "email", "name")


def standardize_records(extracts: Mapping[str, pd.DataFrame], *, id_col: str = "record_id",
                        city_aliases: Mapping[str, str] | None = None,
                        phone_errors: str = "raise") -> pd.DataFrame:
    """Stack several system extracts into one frame of normalised fields for linkage.

    ``extracts`` maps a system name to its table, which needs ``id_col``, ``name`` and
    ``phone``; ``email``, ``city``, ``birth_year`` and ``last_updated`` are used when
    present. Returns one row per record with ``system``, ``record_id``, the normalised
    ``name``, ``phone``, ``email``, ``city``, ``birth_year`` and ``last_updated``.
    Malformed phone numbers raise unless ``phone_errors="coerce"``.

    >>> a = pd.DataFrame({"record_id": ["S-1"], "name": ["張偉"], "phone": ["138-1234-5678"]})
    >>> b = pd.DataFrame({"record_id": ["W-1"], "name": ["张 伟"], "phone": ["+86 13812345678"]})
    >>> standardize_records({"sales": a, "web": b})[["system", "name", "phone"]].values.tolist()
    [['sales', '张伟', '13812345678'], ['web', '张伟', '13812345678']]
    """
    if not isinstance(extracts, Mapping) or not extracts:
        raise ParameterError("extracts must be a non-empty dict {system name: DataFrame}",
                             fix="e.g. {'sales': world.silo_sales, 'service': world.silo_service}")
    check_column_name(id_col, "id_col")
    check_option(phone_errors, "phone_errors", ["raise", "coerce"])
    parts = []
    for system, df in extracts.items():
        label = f"extract {system!r}"
        require_columns(df, [id_col, "name", "phone"], label)
        if len(df) == 0:
            raise DataValidationError(
                f"{label} is empty: there are no records to link",
                fix="check the export from that system, or leave it out of extracts")
        check_unique(df, id_col, label)
        part = pd.DataFrame({
            "system": str(system),
            "record_id": df[id_col].astype(str).to_numpy(),
            "name": normalize_name(df["name"].reset_index(drop=True)).to_numpy(),
            "phone": normalize_phone(df["phone"].reset_index(drop=True).rename(f"{system}.phone"),
                                     errors=phone_errors).to_numpy(),
        })
        part["email"] = (normalize_email(df["email"].reset_index(drop=True)).to_numpy()
                         if "email" in df else np.nan)
        part["city"] = (normalize_city(df["city"].reset_index(drop=True), city_aliases).to_numpy()
                        if "city" in df else np.nan)
        part["birth_year"] = (pd.to_numeric(df["birth_year"], errors="coerce").to_numpy(dtype=float)
                              if "birth_year" in df else np.nan)
        part["last_updated"] = (check_dates(df.reset_index(drop=True), "last_updated", label,
                                            allow_nat=True).to_numpy()
                                if "last_updated" in df else pd.NaT)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["last_updated"] = pd.to_datetime(out["last_updated"])
    return out


def _key(records: pd.DataFrame, key: str) -> pd.Series:
    if key in ("phone", "email", "name"):
        return records[key]
    if key == "surname_birth_year":
        by = records["birth_year"]
        return (records["name"].str[0] + "|" + by.map(lambda v: f"{v:.0f}", na_action="ignore")).where(by.notna())
    raise ParameterError(f"unknown blocking key {key!r}", fix=f"use some of {list(BLOCKING_KEYS)}")


def block_pairs(records: pd.DataFrame, keys: Sequence[str] = tuple(BLOCKING_KEYS),
                max_block_size: int = 500) -> pd.DataFrame:
    """Candidate record pairs that share at least one blocking key (分块).

    Comparing every pair of 10,000 records means 50 million comparisons; blocking keeps
    only pairs that agree on a cheap key (:data:`BLOCKING_KEYS`). Blocks larger than
    ``max_block_size`` (a default phone such as 13800000000, a common name) are skipped:
    their pairs are almost all non-matches. Returns columns ``i``, ``j`` (row positions in
    ``records``, ``i < j``) and ``key`` (the first key that proposed the pair).

    >>> recs = pd.DataFrame({"name": ["张伟", "张伟", "李娜"], "phone": ["1", "2", "1"],
    ...                      "email": [np.nan] * 3, "birth_year": [1980.0, 1980.0, np.nan]})
    >>> block_pairs(recs, keys=["phone", "name"]).values.tolist()
    [[0, 2, 'phone'], [0, 1, 'name']]
    """
    check_frame(records, "records", required=["name", "phone", "email", "birth_year"], numeric=["birth_year"],
                min_rows=2)
    keys = list(keys)
    if not keys:
        raise ParameterError("keys is empty", fix=f"pass at least one of {list(BLOCKING_KEYS)}")
    check_count(max_block_size, "max_block_size", 2, 10_000_000)
    rec = records.reset_index(drop=True)
    frames, seen = [], None
    for key in keys:
        k = _key(rec, key)
        codes, _ = pd.factorize(k, use_na_sentinel=True)
        pos = np.flatnonzero(codes >= 0)
        order = pos[np.argsort(codes[pos], kind="stable")]
        c = codes[order]
        if len(c) == 0:
            continue
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        sizes = np.diff(np.r_[starts, len(c)])
        ii, jj = [], []
        for size in np.unique(sizes[(sizes >= 2) & (sizes <= max_block_size)]):
            st = starts[sizes == size]
            a, b = np.triu_indices(size, 1)
            members = order[st[:, None] + np.arange(size)]  # blocks x size
            ii.append(members[:, a].ravel())
            jj.append(members[:, b].ravel())
        if not ii:
            continue
        i, j = np.concatenate(ii), np.concatenate(jj)
        i, j = np.minimum(i, j), np.maximum(i, j)
        code = i.astype(np.int64) * len(rec) + j
        if seen is not None:
            new = ~np.isin(code, seen)
            i, j, code = i[new], j[new], code[new]
        code, first = np.unique(code, return_index=True)
        i, j = i[first], j[first]
        seen = code if seen is None else np.union1d(seen, code)
        frames.append(pd.DataFrame({"i": i, "j": j, "key": key}))
    if not frames:
        return pd.DataFrame({"i": pd.Series(dtype=np.int64), "j": pd.Series(dtype=np.int64),
                             "key": pd.Series(dtype=object)})
    return pd.concat(frames, ignore_index=True)


def _codes(values: np.ndarray, width: int) -> np.ndarray:
    """Strings as an (n, width) array of code points, zero-padded (vectorised comparisons)."""
    arr = np.asarray(values, dtype=f"<U{width}")
    return arr.view(np.uint32).reshape(len(arr), width)


def _one_edit_codes(ca: np.ndarray, cb: np.ndarray, la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """Row-wise Levenshtein distance == 1 for zero-padded code-point matrices."""
    out = np.zeros(len(ca), dtype=bool)
    if len(ca) == 0:
        return out
    width = ca.shape[1]
    same = la == lb
    out[same] = (ca[same] != cb[same]).sum(axis=1) == 1
    # lengths differ by one: after the common prefix, the shorter string must equal the
    # longer one shifted by one character
    diff = np.flatnonzero(np.abs(la - lb) == 1)
    if len(diff):
        swap = (la < lb)[diff, None]
        short = np.where(swap, ca[diff], cb[diff])
        long_ = np.where(swap, cb[diff], ca[diff])
        prefix = np.cumprod(short == long_, axis=1).sum(axis=1)  # length of the common prefix
        shifted = np.concatenate([short[:, :-1] == long_[:, 1:], np.ones((len(diff), 1), dtype=bool)], axis=1)
        tail_ok = np.flip(np.cumprod(np.flip(shifted, axis=1), axis=1), axis=1).astype(bool)
        out[diff] = tail_ok[np.arange(len(diff)), np.minimum(prefix, width - 1)]
    return out


def _one_edit(a, b) -> np.ndarray:
    """Element-wise: do strings ``a`` and ``b`` differ by exactly one insertion, deletion or
    substitution (Levenshtein distance 1)?"""
    a, b = np.asarray(a, dtype=str), np.asarray(b, dtype=str)
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    la, lb = np.strings.str_len(a), np.strings.str_len(b)
    width = int(max(la.max(), lb.max())) + 1
    return _one_edit_codes(_codes(a, width), _codes(b, width), la, lb)


def _phone_near_codes(ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """Row-wise: one substituted digit or one adjacent transposition (keying errors)."""
    out = np.zeros(len(ca), dtype=bool)
    if len(ca) == 0:
        return out
    mism = ca != cb
    n = mism.sum(axis=1)
    out[n == 1] = True
    two = np.flatnonzero(n == 2)
    if len(two):
        first = np.argmax(mism[two], axis=1)
        nxt = np.minimum(first + 1, ca.shape[1] - 1)
        out[two] = mism[two, nxt] & (ca[two, first] == cb[two, nxt]) & (ca[two, nxt] == cb[two, first])
    return out


def _phone_near(a, b) -> np.ndarray:
    """Element-wise :func:`_phone_near_codes` on 11-digit strings."""
    a, b = np.asarray(a, dtype=str), np.asarray(b, dtype=str)
    return _phone_near_codes(_codes(a, 11), _codes(b, 11))


def _pair_positions(pairs: pd.DataFrame, n: int, score=None) -> tuple[np.ndarray, np.ndarray]:
    """The ``i``/``j`` columns of ``pairs`` as row positions in a records frame of ``n`` rows."""
    cols = ["i", "j", *([score] if score is not None else [])]
    check_frame(pairs, "pairs", required=cols, numeric=cols, no_nan=cols, min_rows=0)
    i, j = pairs["i"].to_numpy(dtype=float), pairs["j"].to_numpy(dtype=float)
    if len(i) and (np.any(i != np.round(i)) or np.any(j != np.round(j))
                   or min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= n):
        raise DataValidationError("pairs['i'] and pairs['j'] must be row positions (0 .. len(records) - 1) "
                                  "of the records frame", fix="build pairs with block_pairs(records) on the same records frame")
    return i.astype(np.int64), j.astype(np.int64)


def compare_pairs(records: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Comparison levels of each candidate pair on every field of :data:`LINK_FIELDS`.

    Returns ``pairs`` with one integer column per field: the level code (see
    :data:`LINK_FIELDS`), or -1 when either record lacks the value.

    >>> recs = pd.DataFrame({"name": ["张伟", "张玮"], "phone": ["13812345678", "13812345687"],
    ...                      "email": [np.nan, "a@b.cn"], "city": ["北京", "北京"],
    ...                      "birth_year": [1980.0, 1980.0]})
    >>> compare_pairs(recs, pd.DataFrame({"i": [0], "j": [1]})).iloc[0].tolist()
    [0, 1, 1, 1, -1, 1, 1]
    """
    check_frame(records, "records", required=list(LINK_FIELDS), min_rows=0)
    rec = records.reset_index(drop=True)
    i, j = _pair_positions(pairs, len(rec))
    out = pairs.copy()
    for field in LINK_FIELDS:
        codes, uniques = pd.factorize(rec[field], use_na_sentinel=True)
        a, b = codes[i], codes[j]
        miss = (a < 0) | (b < 0)
        eq = (a == b) & ~miss
        level = np.where(eq, max(LINK_FIELDS[field]), 0)
        if field in ("name", "phone") and len(uniques):
            # near-agreement on the distinct values' code points (computed once per value)
            txt = np.asarray(uniques, dtype=str)
            lens = np.strings.str_len(txt)
            mat = _codes(txt, int(lens.max()) + 1 if field == "name" else max(11, int(lens.max())))
            cand = np.flatnonzero(~miss & ~eq)
            ai, bi = a[cand], b[cand]
            hit = (_one_edit_codes(mat[ai], mat[bi], lens[ai], lens[bi]) if field == "name"
                   else (lens[ai] == lens[bi]) & _phone_near_codes(mat[ai], mat[bi]))
            level[cand[hit]] = 1
        level[miss] = -1
        out[field] = level.astype(np.int64)
    return out


def _levels_matrix(cmp: pd.DataFrame) -> dict[str, np.ndarray]:
    return {f: cmp[f].to_numpy() for f in LINK_FIELDS}


def _level_probs(levels: np.ndarray, n_levels: int, weights: np.ndarray | None = None,
                 smoothing: float = 0.5) -> np.ndarray:
    """Share of each level among non-missing comparisons (optionally weighted), smoothed."""
    ok = levels >= 0
    w = np.ones(len(levels)) if weights is None else weights
    counts = np.bincount(levels[ok], weights=w[ok], minlength=n_levels)[:n_levels] + smoothing
    return counts / counts.sum()


class RecordLinker(Fitter):
    """Link records of several systems into entities: blocking, Fellegi-Sunter scores, clusters.

    The Fellegi-Sunter model (1969) scores a candidate pair by summing, over fields, the
    match weight log2(m / u) of its comparison level, where ``m`` is how often the level
    occurs among true matches and ``u`` how often among non-matches (chance agreement); a
    missing value contributes nothing, and fields are assumed conditionally independent
    given the match status. The posterior match probability combines the weight with the
    prior share of matches among *all* record pairs. ``fit`` estimates (as Splink does):

    * ``u`` from ``n_random_pairs`` random record pairs (almost all non-matches), seeded;
    * ``labels=None`` (unsupervised, the usual situation): ``m`` and the number of matches by
      the EM algorithm on the candidate pairs (a two-class mixture started from the rule
      "same phone or e-mail and a similar name"); blocking finds almost every true pair
      (see :meth:`blocking_recall`), so candidate matches stand for all matches;
    * ``labels`` = a labelled sample (``system``, ``record_id``, ``entity``: e.g. the answer
      key for some customers, or clerical review): ``m`` and the prior are counted on the
      candidate pairs whose two records are both labelled. Evaluate on the other records
      (:func:`split_labelled`, ``linkage_metrics(..., subset=)``).

    Pairs whose posterior match probability is at least ``threshold`` are joined and the
    connected components become entities (:func:`cluster_pairs`).

    Attributes after ``fit``: ``records_`` (with ``entity_id``), ``pairs_`` (candidate pairs
    with levels, ``weight`` in bits and ``probability``), ``m_``, ``u_``, ``prior_``,
    ``n_iter_``, ``n_obs_`` (records); ``summary`` (m, u and weight of every field level: a
    table of model probabilities, not of estimates with intervals).

    >>> a = pd.DataFrame({"record_id": ["S1", "S2"], "name": ["張偉", "李娜"],
    ...                   "phone": ["13812345678", "13900001111"]})
    >>> b = pd.DataFrame({"record_id": ["W1", "W2"], "name": ["张伟", "王芳"],
    ...                   "phone": ["138 1234 5678", "13711112222"]})
    >>> recs = standardize_records({"sales": a, "web": b})
    >>> RecordLinker().fit(recs).records_["entity_id"].tolist()
    [1, 2, 1, 3]
    """

    _unit = "records"

    def __init__(self, *, blocking: Sequence[str] = DEFAULT_BLOCKING, threshold: float = 0.5,
                 max_block_size: int = 500, n_random_pairs: int = 300_000, max_iter: int = 500,
                 tol: float = 1e-8, seed=0):
        self.blocking = blocking
        self.threshold = threshold
        self.max_block_size = max_block_size
        self.n_random_pairs = n_random_pairs
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed

    # -- fitting ---------------------------------------------------------------------
    def _check(self) -> tuple:
        check_probability(self.threshold, "threshold", open_interval=True)
        check_count(self.max_iter, "max_iter", 1, 100_000)
        check_scalar(self.tol, "tol", numbers.Real, 0, 1, low_inclusive=False)
        check_count(self.max_block_size, "max_block_size", 2, 100_000)
        check_count(self.n_random_pairs, "n_random_pairs", 100, 50_000_000)
        check_random_state(self.seed)
        blocking = (self.blocking,) if isinstance(self.blocking, str) else tuple(self.blocking)
        if not blocking:
            raise ParameterError("blocking is empty", fix=f"pass some of {list(BLOCKING_KEYS)}")
        for key in blocking:
            check_option(key, "blocking key", list(BLOCKING_KEYS))
        return blocking

    def fit(self, records: pd.DataFrame, labels: pd.DataFrame | None = None) -> RecordLinker:
        """Block, compare, estimate m/u and cluster ``records`` (from :func:`standardize_records`)."""
        blocking = self._check()
        check_frame(records, "records", required=["system", "record_id", *LINK_FIELDS], min_rows=2,
                    no_nan=["system", "record_id"])
        check_unique(records, ["system", "record_id"], "records")
        check_frame(records, "records", numeric=["birth_year"])
        rec = records.reset_index(drop=True).copy()
        pairs = block_pairs(rec, blocking, self.max_block_size)
        if len(pairs) == 0:
            raise DataValidationError("blocking produced no candidate pairs: no two records share a key",
                                      fix="add blocking keys (e.g. 'name') or check that the fields were normalised")
        cmp = compare_pairs(rec, pairs)
        lv = _levels_matrix(cmp)
        n_lv = {f: len(v) for f, v in LINK_FIELDS.items()}
        if labels is not None:
            m, prior = self._fit_labelled(rec, cmp, labels, n_lv)
            self.n_iter_ = 0
        else:
            m, expected_matches = self._fit_em(lv, n_lv)
            prior = expected_matches / (len(rec) * (len(rec) - 1) / 2)
        self.u_ = self._random_u(rec, n_lv)
        self.m_ = m
        self.prior_ = float(np.clip(prior, 1e-12, 0.5))
        cmp["weight"] = self._weights(lv)
        cmp["probability"] = special.expit(np.log(2.0) * cmp["weight"] + special.logit(self.prior_))
        self.pairs_ = cmp
        rec["entity_id"] = cluster_pairs(rec, cmp, threshold=self.threshold).to_numpy()
        self.records_ = rec
        self.n_obs_ = int(len(rec))
        return self

    def _fit_labelled(self, rec, cmp, labels, n_lv):
        check_frame(labels, "labels", required=["system", "record_id", "entity"],
                    no_nan=["system", "record_id"])
        check_unique(labels.assign(system=labels["system"].astype(str), record_id=labels["record_id"].astype(str)),
                     ["system", "record_id"], "labels")
        lab = labels.assign(system=labels["system"].astype(str), record_id=labels["record_id"].astype(str))
        key = rec[["system", "record_id"]].merge(lab, how="left", on=["system", "record_id"])["entity"]
        ent = key.to_numpy()
        i, j = cmp["i"].to_numpy(), cmp["j"].to_numpy()
        both = pd.notna(ent[i]) & pd.notna(ent[j])
        match = both & (ent[i] == ent[j])
        if match.sum() < 5:
            raise DataValidationError(
                f"the labelled sample gives {int(match.sum())} matching candidate pairs; at least 5 are needed",
                fix="label more records (a larger sample of customers) or fit without labels (EM)")
        m = {f: _level_probs(cmp[f].to_numpy()[match], n_lv[f]) for f in LINK_FIELDS}
        n_lab = int(pd.notna(ent).sum())
        return m, float(match.sum() / (n_lab * (n_lab - 1) / 2))

    def _random_u(self, rec, n_lv):
        # chance agreement: random record pairs are almost all non-matches
        rng = check_random_state(self.seed)
        n = len(rec)
        a = rng.integers(0, n, int(self.n_random_pairs))
        b = rng.integers(0, n, int(self.n_random_pairs))
        keep = a != b
        rnd = compare_pairs(rec, pd.DataFrame({"i": a[keep], "j": b[keep]}))
        return {f: _level_probs(rnd[f].to_numpy(), n_lv[f]) for f in LINK_FIELDS}

    def _fit_em(self, lv, n_lv):
        # Start from a deterministic rule (same phone or e-mail and a similar name = match).
        # EM started from "agrees on everything" can settle on the wrong split ("same name"
        # vs "different name") when blocking proposes many same-name non-matches.
        strong = (lv["phone"] == 2) | (lv["email"] == 1)
        g = np.where(strong & (lv["name"] >= 1), 0.95, np.where(lv["name"] == 0, 0.02, 0.2))
        ll_old = -np.inf
        for it in range(1, int(self.max_iter) + 1):
            # M-step: u is estimated among candidates too, because blocking makes
            # non-matching candidates agree far more often than random record pairs do
            prior = float(np.clip(g.mean(), 1e-9, 1 - 1e-9))
            m = {f: _level_probs(lv[f], n_lv[f], g) for f in LINK_FIELDS}
            u = {f: _level_probs(lv[f], n_lv[f], 1 - g) for f in LINK_FIELDS}
            # E-step
            log_m = sum(np.where(lv[f] >= 0, np.log(m[f][np.maximum(lv[f], 0)]), 0.0) for f in LINK_FIELDS)
            log_u = sum(np.where(lv[f] >= 0, np.log(u[f][np.maximum(lv[f], 0)]), 0.0) for f in LINK_FIELDS)
            a1 = np.log(prior) + log_m
            a0 = np.log1p(-prior) + log_u
            norm = np.logaddexp(a1, a0)
            ll = float(norm.sum())
            g = np.exp(a1 - norm)
            if abs(ll - ll_old) < self.tol * max(1.0, abs(ll)):
                self.n_iter_ = it
                return m, float(g.sum())
            ll_old = ll
        raise ConvergenceError(
            f"EM for the match probabilities did not converge in {self.max_iter} iterations",
            fix="raise max_iter, or fit on a labelled sample with fit(records, labels=...)")

    def _weights(self, lv: dict[str, np.ndarray]) -> np.ndarray:
        w = np.zeros(len(next(iter(lv.values()))))
        for f in LINK_FIELDS:
            ratio = np.log2(self.m_[f] / self.u_[f])
            w += np.where(lv[f] >= 0, ratio[np.maximum(lv[f], 0)], 0.0)
        return w

    # -- results ---------------------------------------------------------------------
    def _summary(self) -> pd.DataFrame:
        """m, u and match weight (bits, log2 m/u) of every comparison level."""
        rows = []
        for f, levels in LINK_FIELDS.items():
            for code, label in levels.items():
                m, u = self.m_[f][code], self.u_[f][code]
                rows.append({"field": f, "level": code, "meaning": label, "m": m, "u": u,
                             "weight_bits": np.log2(m / u)})
        return pd.DataFrame(rows).set_index(["field", "level"])

    def _repr_fitted(self) -> str:
        return (f"fitted on {self.n_obs_:,} records: {len(self.pairs_):,} candidate pairs, "
                f"{self.records_['entity_id'].nunique():,} entities at threshold {self.threshold:g}")

    def predict(self, threshold: float | None = None) -> pd.DataFrame:
        """Records with the ``entity_id`` they get at ``threshold`` (default: the fitted one)."""
        self._check_fitted()
        thr = self.threshold if threshold is None else check_probability(threshold, "threshold",
                                                                         open_interval=True)
        out = self.records_.drop(columns="entity_id").copy()
        out["entity_id"] = cluster_pairs(out, self.pairs_, threshold=thr).to_numpy()
        return out

    def blocking_recall(self, truth: pd.DataFrame, entity_col: str = "customer_id") -> pd.Series:
        """Share of the true matching pairs that blocking proposed (pair completeness), by key."""
        self._check_fitted()
        ent = _truth_entities(self.records_, truth, entity_col)
        true_pairs = _n_pairs(pd.Series(ent).value_counts().to_numpy())
        i, j = self.pairs_["i"].to_numpy(), self.pairs_["j"].to_numpy()
        hit = ent[i] == ent[j]
        by_key = pd.Series(hit).groupby(self.pairs_["key"].to_numpy()).sum()
        out = {f"found_by_{k}": int(by_key.get(k, 0)) for k in self.blocking}
        out.update({"true_pairs": int(true_pairs), "candidate_pairs": int(len(i)),
                    "true_pairs_in_candidates": int(hit.sum()),
                    "pair_completeness": float(hit.sum() / true_pairs) if true_pairs else np.nan})
        return pd.Series(out)

    def evaluate(self, truth: pd.DataFrame, threshold: float | None = None, subset=None,
                 entity_col: str = "customer_id") -> pd.Series:
        """:func:`linkage_metrics` of the clusters at ``threshold`` against ``truth``."""
        return linkage_metrics(self.predict(threshold), truth, subset=subset, entity_col=entity_col)

    def threshold_curve(self, truth: pd.DataFrame, thresholds=(0.05, 0.2, 0.5, 0.8, 0.95, 0.99),
                        subset=None, entity_col: str = "customer_id") -> pd.DataFrame:
        """Precision, recall and F1 of the clusters over a range of thresholds."""
        self._check_fitted()
        if isinstance(thresholds, (str, bytes)) or not hasattr(thresholds, "__iter__"):
            raise ParameterError(f"thresholds must be a list of probabilities, got {thresholds!r}",
                                 fix="e.g. thresholds=[0.05, 0.5, 0.95]")
        thresholds = list(thresholds)
        if not thresholds or len(thresholds) > 1000:
            raise ParameterError(f"thresholds must list 1 to 1,000 probabilities, got {len(thresholds)}",
                                 fix="e.g. thresholds=[0.05, 0.5, 0.95]")
        for t in thresholds:
            check_probability(t, "threshold", open_interval=True)
        rows = {float(t): self.evaluate(truth, float(t), subset, entity_col) for t in thresholds}
        return pd.DataFrame(rows).T.rename_axis("threshold")

    def plot_weights(self, ax=None):
        """Histogram of candidate-pair match weights (matches sit to the right)."""
        from . import plots

        self._check_fitted()
        if ax is None:
            _, ax = plots.subplots()
        w = self.pairs_["weight"]
        ax.hist(w, bins=60, color=plots.PALETTE[0])
        cut = np.log2(self.threshold / (1 - self.threshold)) - np.log2(self.prior_ / (1 - self.prior_))
        ax.axvline(cut, color=plots.PALETTE[3], ls="--", label=f"threshold p={self.threshold:g}")
        ax.set_yscale("log")
        return plots.finish(ax, title="Fellegi-Sunter match weights of candidate pairs",
                            xlabel="match weight (bits)", ylabel="pairs (log scale)")


def cluster_pairs(records: pd.DataFrame, pairs: pd.DataFrame, threshold: float = 0.5,
                  score_col: str = "probability") -> pd.Series:
    """Entities as connected components of the pairs whose ``score_col`` is at least ``threshold``.

    Returns an ``entity_id`` per record (1, 2, ... in order of first appearance). Connected
    components are transitive: a chain A-B, B-C puts A and C together even if A-C scored
    low, so a too-low threshold merges different customers.

    >>> recs = pd.DataFrame({"x": range(4)})
    >>> pairs = pd.DataFrame({"i": [0, 1], "j": [1, 2], "probability": [0.9, 0.2]})
    >>> cluster_pairs(recs, pairs).tolist()
    [1, 1, 2, 3]
    """
    check_not_empty(records, "records")
    score = check_column_name(score_col, "score_col")
    check_probability(threshold, "threshold")
    n = len(records)
    ii, jj = _pair_positions(pairs, n, score)
    keep = pairs[score].to_numpy() >= threshold
    i, j = ii[keep], jj[keep]
    graph = sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, comp = sparse.csgraph.connected_components(graph, directed=False)
    labels, _ = pd.factorize(comp)
    return pd.Series(labels + 1, index=records.index, name="entity_id")


def _n_pairs(sizes) -> int:
    sizes = np.asarray(sizes, dtype=np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def _truth_entities(records: pd.DataFrame, truth: pd.DataFrame, entity_col: str) -> np.ndarray:
    check_column_name(entity_col, "entity_col")
    check_frame(truth, "truth", required=["system", "record_id", entity_col], min_rows=1)
    t = truth.assign(system=truth["system"].astype(str), record_id=truth["record_id"].astype(str))
    check_unique(t, ["system", "record_id"], "truth")
    merged = records[["system", "record_id"]].merge(t[["system", "record_id", entity_col]],
                                                    how="left", on=["system", "record_id"])
    if merged[entity_col].isna().any():
        miss = merged.loc[merged[entity_col].isna(), ["system", "record_id"]].iloc[0].tolist()
        raise DataValidationError(
            f"truth has no entity for {int(merged[entity_col].isna().sum())} record(s) (first: {miss})",
            fix="pass the answer key of the same extracts, e.g. world.silo_matches")
    return merged[entity_col].to_numpy()


def linkage_metrics(entities: pd.DataFrame, truth: pd.DataFrame, subset=None,
                    entity_col: str = "customer_id") -> pd.Series:
    """Pairwise precision, recall and F1 of predicted entities against true matches.

    A *pair* is two records put in the same entity. Precision = true pairs found / pairs
    predicted, recall = true pairs found / true pairs, F1 their harmonic mean. ``subset``
    (a boolean mask or a list of true entity ids) restricts the evaluation to those records,
    e.g. the held-out customers of :func:`split_labelled`. Also reports entity counts and
    the share of true customers whose records form exactly one predicted entity.

    >>> ent = pd.DataFrame({"system": ["a", "a", "b"], "record_id": ["1", "2", "3"], "entity_id": [1, 1, 2]})
    >>> tru = pd.DataFrame({"system": ["a", "a", "b"], "record_id": ["1", "2", "3"], "customer_id": [7, 7, 7]})
    >>> linkage_metrics(ent, tru)[["precision", "recall", "f1"]].round(3).tolist()
    [1.0, 0.333, 0.5]
    """
    check_frame(entities, "entities", required=["system", "record_id", "entity_id"])
    true_ent = _truth_entities(entities.assign(record_id=entities["record_id"].astype(str),
                                               system=entities["system"].astype(str)), truth, entity_col)
    df = pd.DataFrame({"pred": entities["entity_id"].to_numpy(), "true": true_ent})
    if subset is not None:
        if isinstance(subset, (pd.Series, np.ndarray)) and np.asarray(subset).dtype == bool:
            mask = np.asarray(subset)
            if len(mask) != len(df):
                raise ParameterError("a boolean subset must have one value per entity row",
                                     fix="pass a mask aligned with entities, or a list of true entity ids")
        else:
            mask = np.isin(df["true"].to_numpy(), np.asarray(list(subset)))
        df = df[mask]
        if df.empty:
            raise DataValidationError("subset selects no records", fix="check the ids passed as subset")
    pred_pairs = _n_pairs(df.groupby("pred").size())
    true_pairs = _n_pairs(df.groupby("true").size())
    tp = _n_pairs(df.groupby(["pred", "true"]).size())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # a customer is resolved exactly when its records form one predicted entity holding nothing else
    pred_size = df.groupby("pred")["true"].transform("size")
    cell = df.groupby(["pred", "true"])["true"].transform("size")
    true_size = df.groupby("true")["true"].transform("size")
    exact = (cell == pred_size) & (cell == true_size)
    return pd.Series({
        "precision": precision, "recall": recall, "f1": f1,
        "true_pairs": true_pairs, "predicted_pairs": pred_pairs, "true_positive_pairs": tp,
        "records": len(df), "entities_true": df["true"].nunique(), "entities_predicted": df["pred"].nunique(),
        "customers_resolved_exactly": float(df.loc[exact.to_numpy(), "true"].nunique() / df["true"].nunique()),
    })


def split_labelled(truth: pd.DataFrame, share: float = 0.3, seed=0,
                   entity_col: str = "customer_id") -> tuple[pd.DataFrame, np.ndarray]:
    """Split the answer key by *customer* into a labelled sample and held-out customers.

    Returns ``(labels, held_out_ids)``: ``labels`` has ``system``, ``record_id`` and
    ``entity`` for a random ``share`` of the customers (all of their records), to pass to
    ``RecordLinker.fit(..., labels=labels)``; evaluate with
    ``linkage_metrics(..., subset=held_out_ids)``. Splitting by customer, not by record,
    keeps every true pair on one side.

    >>> tru = pd.DataFrame({"system": ["a"] * 4, "record_id": list("1234"), "customer_id": [1, 1, 2, 3]})
    >>> lab, held = split_labelled(tru, share=0.5, seed=1)
    >>> sorted(set(lab["entity"]) | set(held.tolist()))
    [1, 2, 3]
    """
    check_column_name(entity_col, "entity_col")
    check_frame(truth, "truth", required=["system", "record_id", entity_col], no_nan=[entity_col])
    check_probability(share, "share", open_interval=True)
    rng = check_random_state(seed)
    ids = truth[entity_col].unique()
    try:
        ids = np.sort(ids)
    except TypeError:  # ids of mixed types (numbers and text): a stable order all the same
        ids = np.array(sorted(ids, key=lambda v: (type(v).__name__, str(v))), dtype=object)
    lab_ids = rng.choice(ids, size=max(1, int(round(share * len(ids)))), replace=False)
    labelled = truth[truth[entity_col].isin(lab_ids)]
    labels = pd.DataFrame({"system": labelled["system"].astype(str).to_numpy(),
                           "record_id": labelled["record_id"].astype(str).to_numpy(),
                           "entity": labelled[entity_col].to_numpy()})
    chosen = set(lab_ids.tolist())
    return labels, np.array([i for i in ids if i not in chosen], dtype=ids.dtype)


def single_customer_view(entities: pd.DataFrame) -> pd.DataFrame:
    """One golden record per entity (统一客户视图) by survivorship rules.

    ``entities`` is :meth:`RecordLinker.predict` output (normalised fields + ``entity_id``).
    Rules: each field takes the value of the most recently updated record that has one
    (freshness wins, ``last_updated``); the name takes the most frequent normalised spelling
    (ties: the most recent). Also lists the systems and record ids merged.

    >>> ent = pd.DataFrame({"system": ["sales", "web"], "record_id": ["S1", "W1"], "entity_id": [1, 1],
    ...     "name": ["张伟", "张伟"], "phone": ["13800000000", np.nan], "email": [np.nan, "z@qq.com"],
    ...     "city": ["北京", "北京"], "birth_year": [1980.0, np.nan],
    ...     "last_updated": pd.to_datetime(["2024-01-01", "2025-01-01"])})
    >>> single_customer_view(ent)[["phone", "email", "systems", "n_records"]].values.tolist()
    [['13800000000', 'z@qq.com', 'sales+web', 2]]
    """
    check_frame(entities, "entities", required=["system", "record_id", "entity_id", *LINK_FIELDS],
                no_nan=["entity_id"])
    df = entities.copy()
    if "last_updated" not in df:
        df["last_updated"] = pd.NaT
    df = df.sort_values(["entity_id", "last_updated"], ascending=[True, False], na_position="last",
                        kind="stable")
    g = df.groupby("entity_id", sort=True)
    out = g[["phone", "email", "city", "birth_year"]].first()  # first non-missing = most recent
    name_counts = df.dropna(subset=["name"]).groupby(["entity_id", "name"], sort=False).size()
    best = name_counts.reset_index(name="n").sort_values(["entity_id", "n"], ascending=[True, False],
                                                          kind="stable").drop_duplicates("entity_id")
    out["name"] = best.set_index("entity_id")["name"]
    out["systems"] = g["system"].agg(lambda s: "+".join(sorted(set(s))))
    out["n_records"] = g.size()
    out["record_ids"] = g["record_id"].agg(lambda s: ",".join(sorted(s)))
    out["last_updated"] = g["last_updated"].max()
    return out[["name", "phone", "email", "city", "birth_year", "systems", "n_records", "record_ids",
                "last_updated"]].reset_index()


# ====================================================================================
# profiling
# ====================================================================================
def _valid_year(s: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    y = pd.to_numeric(s, errors="coerce")
    return y.between(1900, as_of.year) & (y == np.floor(y))


def _valid_name(s: pd.Series, as_of=None) -> pd.Series:
    return s.astype(str).str.contains(r"[\u4e00-\u9fffA-Za-z]", regex=True)


def _std_name(s: pd.Series) -> pd.Series:
    return s.astype(str) == normalize_name(s).astype(str)


def _valid_phone(s: pd.Series, as_of=None) -> pd.Series:
    return normalize_phone(s, errors="coerce").notna()


def _std_phone(s: pd.Series) -> pd.Series:
    return s.astype(str).str.match(_MOBILE)


def _valid_email(s: pd.Series, as_of=None) -> pd.Series:
    return normalize_email(s, errors="coerce").notna()


def _std_email(s: pd.Series) -> pd.Series:
    return s.astype(str).str.match(_EMAIL)


def _valid_city(s: pd.Series, as_of=None) -> pd.Series:
    return s.astype(str).str.strip().str.len() > 0


def _std_city(s: pd.Series) -> pd.Series:
    return s.astype(str).str.match(r"^[\u4e00-\u9fff]+$") & ~s.astype(str).str.endswith("市")


def _valid_date(s: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    d = pd.to_datetime(s, errors="coerce")
    return d.notna() & (d <= as_of)


# column -> (rule in words, validity check, standard-form check or None)
VALIDATORS: dict[str, tuple[str, Callable, Callable | None]] = {
    "name": ("contains Chinese characters or letters; standard = normalize_name form",
             _valid_name, _std_name),
    "phone": ("an 11-digit mainland mobile after cleaning; standard = 11 digits, no separators",
              _valid_phone, _std_phone),
    "email": ("a syntactically valid address; standard = trimmed lower case", _valid_email, _std_email),
    "city": ("non-empty; standard = Chinese name without the 市 suffix", _valid_city, _std_city),
    "birth_year": ("a whole year between 1900 and the as-of date", _valid_year, None),
    "last_updated": ("a date not after the as-of date", _valid_date, None),
    "signup_date": ("a date not after the as-of date", _valid_date, None),
    "customer_since": ("a date not after the as-of date", _valid_date, None),
}


def profile(df: pd.DataFrame, name: str = "data", *, validators: Mapping | None = None,
            as_of=None) -> pd.DataFrame:
    """Data-quality profile (数据质量剖析) of every column of ``df``.

    Per column: dtype, missing values (NaN *and* blank strings) and their share, distinct
    non-missing values, and, where a rule applies (:data:`VALIDATORS` by column name, or
    ``validators={column: (description, valid_fn, standard_fn_or_None)}``), the share of
    non-missing values that are **valid** (usable at all) and that are already in the
    **standard form** (no cleaning needed). ``as_of`` bounds plausible dates and years; it
    defaults to the latest date found in the table (never today's date, so results are
    reproducible).

    >>> df = pd.DataFrame({"phone": ["138-1234-5678", "13812345678", "12", ""]})
    >>> profile(df).loc["phone", ["missing_share", "valid_share", "standard_share"]].astype(float).round(3).tolist()
    [0.25, 0.667, 0.333]
    """
    check_frame(df, name)
    df = df.reset_index(drop=True)  # the profile does not depend on the index; duplicated labels would
    rules = dict(VALIDATORS)
    for col, rule in dict(validators or {}).items():
        if not (isinstance(rule, tuple) and len(rule) == 3 and callable(rule[1])):
            raise ParameterError(f"validators[{col!r}] must be (description, valid_fn, standard_fn or None)",
                                 fix="e.g. validators={'vip': ('boolean', lambda s, as_of: s.isin([True, False]), None)}")
        rules[col] = rule
    if as_of is None:
        dates = [pd.to_datetime(df[c], errors="coerce").max() for c in df.columns
                 if pd.api.types.is_datetime64_any_dtype(df[c])]
        dates = [d for d in dates if pd.notna(d)]
        as_of = max(dates) if dates else pd.Timestamp("2100-01-01")
    as_of = check_timestamp(as_of, "as_of")
    rows = []
    for col in df.columns:
        s = df[col]
        miss = _missing(s)
        present = s[~miss]
        row = {"column": col, "dtype": str(s.dtype), "rows": len(s), "missing": int(miss.sum()),
               "missing_share": float(miss.mean()) if len(s) else np.nan,
               "distinct": int(present.nunique()), "rule": "", "valid_share": np.nan,
               "standard_share": np.nan}
        if col in rules and len(present):
            desc, valid_fn, std_fn = rules[col]
            row["rule"] = desc
            row["valid_share"] = float(np.asarray(valid_fn(present, as_of), dtype=bool).mean())
            if std_fn is not None:
                row["standard_share"] = float(np.asarray(std_fn(present), dtype=bool).mean())
        rows.append(row)
    return pd.DataFrame(rows).set_index("column")


def freshness(df: pd.DataFrame, date_col: str = "last_updated", *, as_of=None,
              stale_after_days: int = 365, by: str | None = None) -> pd.DataFrame:
    """Timeliness (数据新鲜度) of records: age of ``date_col`` at ``as_of`` and the stale share.

    ``as_of`` defaults to the latest date in the column. A record is *stale* when it was
    last updated more than ``stale_after_days`` ago. ``by`` groups the result (e.g. by
    system after stacking extracts).

    >>> df = pd.DataFrame({"last_updated": pd.to_datetime(["2025-01-01", "2023-01-01"])})
    >>> freshness(df, as_of="2025-12-31").loc["all", ["median_age_days", "stale_share"]].tolist()
    [729.5, 0.5]
    """
    check_column_name(date_col, "date_col")
    if by is not None:
        check_column_name(by, "by")
    require_columns(df, [date_col] + ([by] if by is not None else []), "data")
    check_not_empty(df, "data")
    check_count(stale_after_days, "stale_after_days", 1, 36_500)
    d = check_dates(df, date_col, "data", allow_nat=True)
    if d.isna().all():
        raise DataValidationError(f"data[{date_col!r}] has no dates at all", fix=f"check the {date_col!r} column")
    as_of = d.max() if as_of is None else check_timestamp(as_of, "as_of")
    age = (as_of - d).dt.days.astype(float)
    if (age < 0).any():
        raise DataValidationError(f"data[{date_col!r}] has {int((age < 0).sum())} date(s) after as_of {as_of.date()}",
                                  fix="move as_of later or correct the future-dated records")
    frame = pd.DataFrame({"group": df[by].to_numpy() if by else "all", "age": age.to_numpy()})
    out = frame.groupby("group").agg(
        records=("age", "size"), missing_dates=("age", lambda a: int(a.isna().sum())),
        median_age_days=("age", "median"), p90_age_days=("age", lambda a: a.quantile(0.9)),
        stale_share=("age", lambda a: float((a > stale_after_days).sum() / a.notna().sum()) if a.notna().any() else np.nan))
    out.index.name = by or "group"
    return out


# ====================================================================================
# privacy
# ====================================================================================
DIRECT_IDENTIFIERS = ("name", "phone", "email", "username", "address", "id_number")
"""Columns that identify a person on their own (直接标识符); quasi-identifiers such as birth
year, gender and city identify people in combination (准标识符, see :func:`k_anonymity`)."""

_MIN_SALT = 16


def _check_salt(salt) -> bytes:
    if salt is None or (isinstance(salt, (str, bytes)) and len(salt) == 0):
        raise ParameterError(
            "salt is missing: an unsalted hash of a phone number or e-mail can be reversed by "
            "hashing every possible value (there are only ~10^10 mobile numbers)",
            fix="generate a secret once, e.g. salt = secrets.token_hex(16), store it apart from the "
                "data (key vault, not the notebook) and pass salt=salt; reuse it to keep tokens linkable")
    if not isinstance(salt, (str, bytes)):
        raise ParameterError(f"salt must be a str or bytes, got {type(salt).__name__}",
                             fix="pass salt=secrets.token_hex(16)")
    if len(salt) < _MIN_SALT:
        raise ParameterError(
            f"salt has {len(salt)} characters; at least {_MIN_SALT} are required so it cannot be guessed",
            fix="use salt = secrets.token_hex(16) (32 hex characters)")
    return salt.encode("utf-8") if isinstance(salt, str) else salt


def pseudonymize(df: pd.DataFrame, columns: str | Sequence[str], salt, *, length: int = 16,
                 name: str = "data") -> pd.DataFrame:
    """Replace identifier columns by keyed hashes (假名化): HMAC-SHA256(salt, value).

    The same value and salt always give the same token, so pseudonymised tables still join;
    without the salt the tokens cannot be reversed by hashing candidate values. Keep the
    salt secret and apart from the data. Missing values stay missing. Pseudonymised data
    are still personal data (GDPR Recital 26 [EXT]; PIPL art. 73 [EXT]) — a safeguard, not
    anonymisation. ``length`` hex characters are kept (16 = 64 bits).

    >>> df = pd.DataFrame({"customer_id": [1, 2, 1]})
    >>> out = pseudonymize(df, "customer_id", salt="a-very-secret-salt")
    >>> out["customer_id"].nunique(), len(out["customer_id"].iloc[0])
    (2, 16)
    """
    key = _check_salt(salt)
    cols = check_column_list(columns, "columns")
    check_frame(df, name, required=cols)
    check_count(length, "length", 8, 64)
    out = df.copy()
    for col in cols:
        s = df[col]
        miss = _missing(s)
        uniq = pd.unique(s[~miss].astype(str))
        table = {v: hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()[:length] for v in uniq}
        out[col] = s.astype(str).map(table).where(~miss)
    return out


def _qi_frame(df: pd.DataFrame, qi: Sequence[str]) -> pd.DataFrame:
    return df[list(qi)].astype(object).where(df[list(qi)].notna(), "(missing)").astype(str)


def equivalence_classes(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.DataFrame:
    """The equivalence classes (等价类) of ``df``: each combination of quasi-identifier values
    and how many records share it, smallest first. Missing values form their own class.

    >>> df = pd.DataFrame({"gender": ["F", "F", "M"], "city": ["北京", "北京", "上海"]})
    >>> equivalence_classes(df, ["gender", "city"])["records"].tolist()
    [1, 2]
    """
    qi = check_column_list(quasi_identifiers, "quasi_identifiers")
    check_frame(df, "data", required=qi)
    g = _qi_frame(df, qi).value_counts(sort=False).rename("records").reset_index()
    return g.sort_values(["records", *qi], kind="stable").reset_index(drop=True)


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5) -> pd.Series:
    """Check k-anonymity (k-匿名): every record shares its quasi-identifiers with >= k-1 others.

    Returns the k the data achieve (smallest class size), the number of classes, the records
    in classes smaller than ``k`` (re-identification risk) and whether ``k`` is met. A record
    alone in its class can be singled out by anyone who knows those attributes.

    >>> df = pd.DataFrame({"gender": ["F", "F", "M"], "city": ["北京", "北京", "上海"]})
    >>> k_anonymity(df, ["gender", "city"], k=2)[["k_achieved", "records_below_k", "satisfied"]].tolist()
    [1, 1, False]
    """
    check_scalar(k, "k", numbers.Integral, 2)
    cls = equivalence_classes(df, quasi_identifiers)
    small = cls["records"] < k
    return pd.Series({
        "k": int(k), "k_achieved": int(cls["records"].min()), "classes": len(cls), "records": len(df),
        "records_below_k": int(cls.loc[small, "records"].sum()),
        "share_below_k": float(cls.loc[small, "records"].sum() / len(df)),
        "unique_records": int((cls["records"] == 1).sum()), "satisfied": bool(not small.any()),
    }, dtype=object)


def band(width: int, *, start: int = 1900) -> Callable[[pd.Series], pd.Series]:
    """A generalisation step: numbers -> bands of ``width`` ("1980-1984"); NaN stays NaN.

    >>> band(10)(pd.Series([1983.0, 1979.0, np.nan])).tolist()
    ['1980-1989', '1970-1979', nan]
    """
    check_count(width, "width", 1, 10_000)

    def step(s: pd.Series) -> pd.Series:
        x = pd.to_numeric(s, errors="coerce")
        lo = start + np.floor((x - start) / width) * width
        lab = lo.map(lambda v: f"{v:.0f}-{v + width - 1:.0f}", na_action="ignore")
        return lab.astype(object)

    step.__name__ = f"band{width}"
    return step


def _suppress(s: pd.Series) -> pd.Series:
    return pd.Series("*", index=s.index, dtype=object)


def _mapping(table: Mapping, label: str) -> Callable[[pd.Series], pd.Series]:
    def step(s: pd.Series) -> pd.Series:
        return s.map(table).astype(object).where(s.notna())

    step.__name__ = label
    return step


def default_hierarchies(df: pd.DataFrame) -> dict[str, list[Callable]]:
    """Generalisation hierarchies (泛化层级) for the quasi-identifiers of a customers table.

    ``birth_year``: 5-, 10-, 20-year bands, then suppressed; ``city``: region (from the
    table's own ``city``/``region`` columns), then suppressed; ``gender``, ``branch_id``,
    ``acquisition_channel``, ``customer_type``: suppressed. Level 0 is the original value;
    level L applies the L-th step to the original.

    >>> h = default_hierarchies(pd.DataFrame({"city": ["北京"], "region": ["North"]}))
    >>> [f.__name__ for f in h["city"]]
    ['region', 'suppress']
    """
    check_frame(df, "data")
    h: dict[str, list[Callable]] = {
        "birth_year": [band(5), band(10), band(20), _suppress],
        "gender": [_suppress], "customer_type": [_suppress], "acquisition_channel": [_suppress],
    }
    if {"city", "region"} <= set(df.columns):
        pairs = df[["city", "region"]].dropna().drop_duplicates()
        if pairs["city"].duplicated().any():
            raise DataValidationError("a city maps to more than one region, so it cannot be generalised to one",
                                      fix="clean the city/region columns or pass your own hierarchies")
        h["city"] = [_mapping(dict(zip(pairs["city"], pairs["region"], strict=True)), "region"), _suppress]
    if {"branch_id", "region"} <= set(df.columns):
        pairs = df[["branch_id", "region"]].dropna().drop_duplicates()
        h["branch_id"] = [_mapping(dict(zip(pairs["branch_id"], pairs["region"], strict=True)), "region"),
                          _suppress]
    for steps in h.values():
        for f in steps:
            if f is _suppress:
                f.__name__ = "suppress"
    return h


def _check_levels(levels: Mapping[str, int], hierarchies: Mapping[str, Sequence[Callable]]) -> None:
    for col, lev in levels.items():
        if col not in hierarchies:
            raise ParameterError(f"no generalisation hierarchy for {col!r}",
                                 fix=f"pass hierarchies={{{col!r}: [step1, step2, ...]}} "
                                     "(see default_hierarchies and band)")
        top = len(hierarchies[col])
        if not isinstance(lev, (numbers.Integral, np.integer)) or not 0 <= lev <= top:
            raise ParameterError(f"level of {col!r} must be an integer in [0, {top}], got {lev!r}",
                                 fix=f"0 keeps {col!r} as it is, {top} is the most general step")


def generalize(df: pd.DataFrame, levels: Mapping[str, int], hierarchies: Mapping | None = None, *,
               k: int | None = None) -> pd.DataFrame:
    """Apply generalisation ``levels`` ({column: level}) and, with ``k``, suppress (drop) the
    records that are still in classes smaller than ``k``.

    >>> df = pd.DataFrame({"birth_year": [1981.0, 1983.0, 1990.0], "gender": ["F", "F", "M"]})
    >>> generalize(df, {"birth_year": 2}, k=2)["birth_year"].tolist()
    ['1980-1989', '1980-1989']
    """
    if not isinstance(levels, Mapping) or not levels:
        raise ParameterError(f"levels must be a non-empty dict {{column: level}}, got {levels!r}",
                             fix="e.g. levels={'birth_year': 2, 'city': 1}")
    check_column_list(list(levels), "levels")
    check_frame(df, "data", required=list(levels))
    hierarchies = default_hierarchies(df) if hierarchies is None else hierarchies
    _check_levels(levels, hierarchies)
    out = df.copy()
    for col, lev in levels.items():
        if lev > 0:
            out[col] = hierarchies[col][lev - 1](df[col])
    if k is not None:
        check_scalar(k, "k", numbers.Integral, 2)
        qi = list(levels)
        size = _qi_frame(out, qi).groupby(qi, sort=False)[qi[0]].transform("size")
        out = out[size.to_numpy() >= k]
    return out


def anonymity_search(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5, *,
                     hierarchies: Mapping | None = None, max_suppression: float = 0.01) -> pd.DataFrame:
    """Search the generalisation lattice for the least generalisation that reaches k-anonymity.

    Every combination of levels of the quasi-identifiers is tried (Samarati 2001's lattice;
    exhaustive, so keep to a few quasi-identifiers). A node is *feasible* when at most
    ``max_suppression`` of the records must be suppressed (their class is still smaller than
    ``k``). ``information_loss`` is the mean generalisation height (level / top level,
    0 = original, 1 = all suppressed). Rows come sorted: feasible first, then least loss,
    then least suppression, so the first row is the suggestion.

    >>> df = pd.DataFrame({"birth_year": [1981.0, 1983.0, 1986.0, 1990.0], "gender": ["F", "F", "M", "M"]})
    >>> best = anonymity_search(df, ["birth_year", "gender"], k=2, max_suppression=0).iloc[0]
    >>> int(best["birth_year"]), int(best["gender"])  # 20-year bands, gender kept
    (3, 0)
    """
    qi = check_column_list(quasi_identifiers, "quasi_identifiers")
    check_frame(df, "data", required=qi)
    check_scalar(k, "k", numbers.Integral, 2)
    check_probability(max_suppression, "max_suppression")
    hierarchies = default_hierarchies(df) if hierarchies is None else hierarchies
    _check_levels(dict.fromkeys(qi, 0), hierarchies)
    tops = [len(hierarchies[c]) for c in qi]
    n_nodes = int(np.prod([t + 1 for t in tops]))
    if n_nodes > 5000:
        raise ParameterError(f"the lattice has {n_nodes} nodes; exhaustive search is limited to 5000",
                             fix="use fewer quasi-identifiers or shorter hierarchies")
    cache = {(c, lev): (df[c] if lev == 0 else hierarchies[c][lev - 1](df[c])) for c, t in zip(qi, tops, strict=True)
             for lev in range(t + 1)}
    rows = []
    for node in itertools.product(*[range(t + 1) for t in tops]):
        g = pd.DataFrame({c: cache[(c, lev)].to_numpy() for c, lev in zip(qi, node, strict=True)})
        sizes = _qi_frame(g, qi).value_counts(sort=False).to_numpy()
        below = int(sizes[sizes < k].sum())
        kept = sizes[sizes >= k]
        rows.append({**dict(zip(qi, node, strict=True)),
                     "k_achieved": int(sizes.min()), "k_after_suppression": int(kept.min()) if len(kept) else 0,
                     "classes": int(len(sizes)), "suppressed": below, "suppressed_share": below / len(df),
                     "information_loss": float(np.mean([lev / t for lev, t in zip(node, tops, strict=True)]))})
    out = pd.DataFrame(rows)
    out["feasible"] = out["suppressed_share"] <= max_suppression + 1e-12
    return out.sort_values(["feasible", "information_loss", "suppressed"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def minimize(df: pd.DataFrame, needed: Sequence[str], *, purpose: str, id_col: str | None = None,
             salt=None, direct_identifiers: Sequence[str] = DIRECT_IDENTIFIERS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Data minimisation (数据最小化) for a stated analysis purpose.

    Keeps only the ``needed`` columns; the record key ``id_col`` (if given) is kept as a
    salted pseudonym so results can still be joined back by whoever holds the salt. Returns
    ``(minimised_frame, report)``; the report gives every original column's action and why.
    A direct identifier listed in ``needed`` is refused: say why the analysis cannot work
    on a pseudonym instead, and pass a narrower ``direct_identifiers``.

    >>> df = pd.DataFrame({"customer_id": [1], "name": ["张伟"], "phone": ["13800000000"], "city": ["北京"]})
    >>> out, rep = minimize(df, ["city"], purpose="sales by city", id_col="customer_id",
    ...                     salt="a-very-secret-salt")
    >>> list(out.columns), rep.loc["phone", "action"]
    (['customer_id', 'city'], 'drop')
    """
    if not isinstance(purpose, str) or not purpose.strip():
        raise ParameterError("purpose is empty: minimisation is defined relative to a stated purpose",
                             fix="say what the analysis is for, e.g. purpose='churn model by branch'")
    needed = check_column_list(needed, "needed")
    if id_col is not None:
        check_column_name(id_col, "id_col")
    id_column = id_col
    check_frame(df, "data", required=needed + ([id_column] if id_column else []))
    clash = [c for c in needed if c in direct_identifiers]
    if clash:
        raise ParameterError(
            f"needed columns {clash} are direct identifiers; purpose {purpose!r} should not need them",
            fix="analyse a pseudonym (id_col= with salt=) or a derived field instead; if the purpose "
                "truly needs them, document why and pass direct_identifiers without them")
    out = pd.DataFrame(index=df.index)
    rows = []
    if id_column:
        out[id_column] = pseudonymize(df[[id_column]], id_column, salt)[id_column]
    for col in df.columns:
        if col == id_column:
            rows.append((col, "pseudonymise", "record key kept as a salted hash for joins"))
        elif col in needed:
            out[col] = df[col]
            rows.append((col, "keep", f"needed for: {purpose}"))
        elif col in direct_identifiers:
            rows.append((col, "drop", "direct identifier not needed for the purpose"))
        else:
            rows.append((col, "drop", "not needed for the purpose"))
    report = pd.DataFrame(rows, columns=["column", "action", "reason"]).set_index("column")
    return out, report


# ====================================================================================
# survey design
# ====================================================================================
def _z(ci_level: float) -> float:
    return normal_quantile(check_ci_level(ci_level))


def margin_of_error(n: int, *, p: float = 0.5, sd: float | None = None, ci_level: float = 0.95,
                    population: int | None = None) -> float:
    """Half-width of the confidence interval of a proportion (or of a mean, with ``sd``)
    from a simple random sample of ``n``, with the finite-population correction when
    ``population`` is given.

    >>> round(margin_of_error(385), 4)
    0.0499
    """
    check_count(n, "n", 1, 10**12)
    z = _z(ci_level)
    if sd is None:
        check_probability(p, "p")
        var = p * (1 - p)
    else:
        check_scalar(sd, "sd", numbers.Real, 0, low_inclusive=False)
        var = sd ** 2
    fpc = 1.0
    if population is not None:
        check_count(population, "population", 2, 10**12)
        if n > population:
            raise ParameterError(f"n = {n} exceeds the population of {population}",
                                 fix="a sample cannot be larger than the population it is drawn from")
        fpc = np.sqrt((population - n) / (population - 1))
    return float(z * np.sqrt(var / n) * fpc)


def sample_size(margin: float, *, p: float = 0.5, sd: float | None = None, ci_level: float = 0.95,
                population: int | None = None, response_rate: float = 1.0) -> pd.Series:
    """Completed responses needed for a margin of error, and invitations to send.

    Proportion: n0 = z^2 p(1-p) / margin^2 (p = 0.5 is the conservative worst case); mean:
    n0 = z^2 sd^2 / margin^2 with ``margin`` in the units of ``sd``. With a finite
    ``population``: n = n0 / (1 + (n0 - 1) / N). Invitations = n / ``response_rate``.
    Note that more invitations fix the *precision*, not the non-response *bias*
    (:func:`simulate_nonresponse`).

    >>> sample_size(0.05, response_rate=0.4)[["n_required", "invitations"]].tolist()
    [385, 963]
    """
    check_scalar(margin, "margin", numbers.Real, 0, low_inclusive=False)
    check_probability(response_rate, "response_rate", open_interval=False)
    if response_rate == 0:
        raise ParameterError("response_rate is 0: no number of invitations yields a response",
                             fix="use the expected response rate of past surveys, e.g. 0.3")
    z = _z(ci_level)
    if sd is None:
        check_probability(p, "p")
        if margin >= 1:
            raise ParameterError(f"margin {margin} is not a proportion", fix="give it as a share, e.g. 0.03 for ±3 points")
        var = p * (1 - p)
    else:
        check_scalar(sd, "sd", numbers.Real, 0, low_inclusive=False)
        var = sd ** 2
    n0 = z ** 2 * var / margin ** 2
    n = n0
    if population is not None:
        check_count(population, "population", 2, 10**12)
        n = n0 / (1 + (n0 - 1) / population)
    n_req = int(np.ceil(n - 1e-9))
    return pd.Series({"z": z, "n_infinite": int(np.ceil(n0 - 1e-9)), "n_required": n_req,
                      "response_rate": float(response_rate),
                      "invitations": int(np.ceil(n_req / response_rate - 1e-9))}, dtype=object)


def sampling_frame(customers: pd.DataFrame, transactions: pd.DataFrame, memberships: pd.DataFrame,
                   as_of, *, active_months: int = 12, customer_type: str | None = "B2C") -> pd.DataFrame:
    """The firm's survey frame (抽样框) at ``as_of``: customers who signed up before it and
    either hold an active membership or bought in the last ``active_months`` months.

    Returns one row per customer in the frame with ``active_member``, ``purchases_12m``
    (purchases in the look-back window), ``tenure_months`` and ``loyalty_member`` — the
    auxiliary variables a non-response adjustment can use because they are known for
    respondents and non-respondents alike.
    """
    check_frame(customers, "customers", required=["customer_id", "signup_date", "customer_type",
                                                  "loyalty_member"], no_nan=["customer_id"], dates=["signup_date"])
    check_unique(customers, "customer_id", "customers")
    check_binary(customers, "loyalty_member", "customers")
    check_frame(transactions, "transactions", required=["customer_id", "date"], dates=["date"], min_rows=0)
    check_frame(memberships, "memberships", required=["customer_id", "start_date", "end_date"],
                dates=["start_date"], min_rows=0)
    check_count(active_months, "active_months", 1, 1200)
    as_of = check_timestamp(as_of, "as_of")
    look = as_of - pd.DateOffset(months=active_months)
    customers = customers.assign(signup_date=check_dates(customers, "signup_date", "customers"))
    c = customers[customers["signup_date"] < as_of]
    if customer_type is not None:
        c = c[c["customer_type"] == customer_type]
    tx_date = check_dates(transactions, "date", "transactions")
    tx = transactions[((tx_date < as_of) & (tx_date >= look)).to_numpy()]
    n_tx = tx.groupby("customer_id").size()
    start = check_dates(memberships, "start_date", "memberships")
    end = check_dates(memberships, "end_date", "memberships", allow_nat=True)
    act = memberships[((start <= as_of) & (end.isna() | (end > as_of))).to_numpy()]["customer_id"].unique()
    out = pd.DataFrame({"customer_id": c["customer_id"].to_numpy(),
                        "active_member": c["customer_id"].isin(act).to_numpy(),
                        "purchases_12m": c["customer_id"].map(n_tx).fillna(0).astype(int).to_numpy(),
                        "tenure_months": ((as_of - c["signup_date"]).dt.days / 30.4375).round(2).to_numpy(),
                        "loyalty_member": c["loyalty_member"].astype(bool).to_numpy()})
    out = out[out["active_member"] | (out["purchases_12m"] > 0)].reset_index(drop=True)
    if out.empty:
        raise DataValidationError(f"no customer is active at {as_of.date()}",
                                  fix="check as_of against the data window, or raise active_months")
    return out


def planted_survey_frame(world, wave: int) -> pd.DataFrame:
    """The survey frame the generator actually invited in ``wave``, rebuilt from the planted truth.

    The synthetic firm invited every *active* B2C customer (still buying, or holding a
    membership) at the wave date; which customers were active is latent truth a real firm
    would not know exactly (compare :func:`sampling_frame`). With it, non-response can be
    studied in isolation: one row per invited customer with ``responded`` (0/1), the latent
    ``satisfaction`` at the wave date (the planted response driver, including the CRM
    go-live shift in live branches) and observable covariates known for everyone:
    ``loyalty_member``, ``active_member``, ``purchases_12m``, ``tenure_months``.
    The frame size equals ``truth["survey"]["nps"][f"wave{wave}"]["frame_size"]``.
    """
    if isinstance(wave, bool) or not isinstance(wave, (numbers.Integral, np.integer)):
        raise ParameterError(f"wave must be a whole number (1 or 2), got {wave!r}", fix="use wave=1 or wave=2")
    for attr in ("truth", "latent", "meta"):
        if getattr(world, attr, None) is None:
            raise ParameterError(f"world has no {attr!r}: the planted frame needs the generator's truth",
                                 fix="pass crmlab.datasets.load_world() or crmlab.synth.generate_world(...)")
    waves = world.truth.get("survey", {}).get("nps", {})
    if f"wave{wave}" not in waves:
        raise ParameterError(f"wave must be one of {sorted(int(k[4:]) for k in waves)}, got {wave!r}",
                             fix="use wave=1 or wave=2")
    info = waves[f"wave{wave}"]
    c = world.customers.set_index("customer_id")
    lat = world.latent.set_index("customer_id")
    start = pd.Timestamp(world.meta["window_start"])
    wdate = pd.Timestamp(info["date"])
    wday = (wdate - start).days
    day = (c["signup_date"] - start).dt.days.astype(float)
    buying = day + lat["dropout_weeks_after_signup"] * 7 > wday
    member = lat["member"].astype(bool) & (day + lat["membership_latent_months"].fillna(np.inf) * 30.4375 > wday)
    invited = c["customer_type"].eq("B2C") & (day < wday) & (buying | member)
    ids = invited[invited].index
    golive = c["branch_id"].map(world.branches.set_index("branch_id")["crm_golive_date"])
    shift = world.truth["survey"]["wave2_live_branch_satisfaction_shift_sd"]
    live = (golive.loc[ids] <= wdate).to_numpy()
    resp = world.survey.loc[world.survey["wave"] == wave, "customer_id"]
    tx = world.transactions
    n12 = tx[(tx["date"] < wdate) & (tx["date"] >= wdate - pd.DateOffset(months=12))].groupby("customer_id").size()
    end = pd.to_datetime(world.memberships["end_date"])
    mem = world.memberships
    act = mem[(mem["start_date"] <= wdate) & (end.isna() | (end > wdate))]["customer_id"].unique()
    return pd.DataFrame({
        "customer_id": ids.to_numpy(),
        "responded": np.isin(ids, resp).astype(int),
        "satisfaction": lat.loc[ids, "satisfaction"].to_numpy() + shift * live,
        "loyalty_member": c.loc[ids, "loyalty_member"].astype(bool).to_numpy(),
        "active_member": np.isin(ids, act),
        "purchases_12m": n12.reindex(ids).fillna(0).astype(int).to_numpy(),
        "tenure_months": ((wdate - c.loc[ids, "signup_date"]).dt.days / 30.4375).round(2).to_numpy(),
    })


def _logit_fit(X: pd.DataFrame, y: np.ndarray):
    import statsmodels.api as sm

    Xc = sm.add_constant(X.astype(float), has_constant="add")
    try:
        res = sm.Logit(y, Xc).fit(disp=0, maxiter=200)
    except Exception as err:  # noqa: BLE001 - statsmodels raises several error types here
        raise ConvergenceError(f"the response-propensity logit failed: {err}",
                               fix="drop covariates that perfectly predict response, or merge rare categories") from None
    if not res.mle_retvals.get("converged", True):
        raise ConvergenceError("the response-propensity logit did not converge",
                               fix="drop or rescale covariates, or use fewer of them")
    return res


_MAX_LEVELS = 30  # a categorical covariate with more labels is almost always an identifier or a numeric typo


def _design(frame: pd.DataFrame, covariates: Sequence[str], name: str) -> pd.DataFrame:
    """Design matrix: numeric covariates as they are, categorical ones as indicator columns.

    Text in a column that is mostly numbers, and categorical columns with many labels, are
    refused *before* ``pd.get_dummies``: one stray text value turns a numeric column into
    thousands of indicator columns and the logit never returns.
    """
    covariates = check_column_list(covariates, "covariates")
    check_frame(frame, name, required=covariates, no_nan=covariates)
    for col in covariates:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        values = pd.unique(s)
        as_num = pd.to_numeric(pd.Series(values).astype(str).str.strip(), errors="coerce")
        bad = [v for v, x in zip(values, as_num, strict=True) if pd.isna(x)]
        # mostly numbers with a few text values (a typo, "n/a"), or numbers with too many levels to be codes;
        # a handful of numeric-looking codes ("01", "02") stays a categorical covariate
        if len(values) > 2 and as_num.notna().mean() >= 0.5 and (bad or len(values) > _MAX_LEVELS):
            which = f"; not numbers: {bad[:3]}" if bad else ""
            raise ColumnError(f"{name}[{col!r}] holds numbers stored as text (dtype {s.dtype}{which})",
                              fix=coding_advice(s, col, "numeric"))
        if len(values) > _MAX_LEVELS:
            raise ColumnError(
                f"{name}[{col!r}] has {len(values):,} distinct labels: as a categorical covariate it would need "
                f"{len(values) - 1:,} indicator columns",
                fix=f"merge rare labels into 'other' (keep at most {_MAX_LEVELS}), or drop {col!r} from the "
                    "covariates if it is an identifier")
    X = pd.get_dummies(frame[covariates], drop_first=True, dtype=float)
    flat = [c for c in X.columns if X[c].nunique() < 2]
    if flat:
        raise DataValidationError(f"covariate(s) {flat} take a single value in {name}, so they explain nothing",
                                  fix=f"drop {flat} from the covariates")
    return X


def _responded(frame: pd.DataFrame, responded_col: str) -> np.ndarray:
    check_column_name(responded_col, "responded_col")
    check_frame(frame, "frame", required=[responded_col], min_rows=10)
    check_binary(frame, responded_col, "frame")
    y = frame[responded_col].astype(int).to_numpy()
    if y.min() == y.max():
        raise DataValidationError(f"frame[{responded_col!r}] is constant: everybody or nobody responded",
                                  fix="the frame must contain both respondents and non-respondents")
    return y


def response_propensity(frame: pd.DataFrame, responded_col: str, covariates: Sequence[str], *,
                        ci_level: float = 0.95) -> pd.DataFrame:
    """Logistic model of who responds (应答倾向): log-odds of ``responded_col`` on ``covariates``.

    ``frame`` holds every *invited* person (respondents and non-respondents) with a 0/1
    column ``responded_col``. Returns one row per term (the intercept ``const`` first) with
    the coefficient (``estimate``), ``std_error``, the ``ci_level`` Wald interval and the
    p-value. A covariate that predicts response is a source of non-response bias for any
    outcome it is related to. Text covariates become indicator columns; numbers stored as
    text are refused with the conversion to apply.

    >>> fr = pd.DataFrame({"responded": [0, 1] * 20, "x": np.r_[np.linspace(0, 1, 20), np.linspace(0.5, 1.5, 20)]})
    >>> response_propensity(fr, "responded", ["x"]).columns.tolist()
    ['estimate', 'std_error', 'ci_lower', 'ci_upper', 'p_value']
    """
    check_ci_level(ci_level)
    y = _responded(frame, responded_col)
    res = _logit_fit(_design(frame, covariates, "frame"), y)
    ci = np.asarray(res.conf_int(alpha=1 - ci_level))
    return summary_frame(res.params, res.bse, ci[:, 0], ci[:, 1], index=pd.Index(res.params.index, name="term"),
                         ci_level=ci_level, p_value=res.pvalues)


def _ipw_mean(y: np.ndarray, resp: np.ndarray, X: pd.DataFrame) -> float:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, solver="newton-cholesky", max_iter=200).fit(X.to_numpy(), resp)
    p = model.predict_proba(X.to_numpy()[resp])[:, 1]
    w = 1.0 / np.clip(p, 1e-3, None)
    return float(np.sum(w * y[resp]) / np.sum(w))


def simulate_nonresponse(frame: pd.DataFrame, outcome_col: str, driver_col: str, *, slope: float,
                         response_rate: float = 0.5, n_sims: int = 200, seed=0,
                         adjust: Sequence[str] | None = None, standardize: bool = True) -> pd.DataFrame:
    """Simulate surveys in which the chance to respond rises with ``driver_col`` (无应答偏差).

    Each of ``n_sims`` replications invites the whole ``frame``; person i responds with
    probability expit(logit(response_rate) + slope * z_i), z = standardised ``driver_col``
    (``standardize=False`` uses the driver as it is, e.g. a latent already on an SD scale).
    Reported per replication: respondents, the population mean of ``outcome_col`` (the truth,
    known here because the frame is simulated), the respondent mean, its bias and, with
    ``adjust`` (columns observed for everybody), an inverse-probability-weighted mean whose
    weights come from a logistic model of response on those columns. The expected
    respondent mean sum(p*y)/sum(p) is given as ``expected_respondent_mean``.

    >>> fr = pd.DataFrame({"sat": np.linspace(-2, 2, 200)}).assign(y=lambda d: d["sat"] > 0)
    >>> sim = simulate_nonresponse(fr, "y", "sat", slope=1.0, n_sims=50, seed=1)
    >>> bool(sim["bias"].mean() > 0.1)
    True
    """
    outcome, driver = check_column_name(outcome_col, "outcome_col"), check_column_name(driver_col, "driver_col")
    check_frame(frame, "frame", required=[outcome, driver], numeric=[outcome, driver], no_nan=[outcome, driver],
                min_rows=10)
    check_scalar(slope, "slope", numbers.Real, -50, 50)
    check_probability(response_rate, "response_rate", open_interval=True)
    check_count(n_sims, "n_sims", 1, 100_000)
    rng = check_random_state(seed)
    y = frame[outcome].astype(float).to_numpy()
    x = frame[driver].to_numpy(dtype=float)
    sd = x.std()
    if sd == 0:
        raise DataValidationError(f"frame[{driver!r}] is constant", fix="the driver must vary across people")
    z = (x - x.mean()) / sd if standardize else x
    p = special.expit(special.logit(response_rate) + slope * z)
    X = _design(frame, adjust, "frame") if adjust is not None else None
    pop = float(y.mean())
    expected = float(np.sum(p * y) / np.sum(p))
    rows = []
    for s in range(int(n_sims)):
        resp = rng.random(len(y)) < p
        k = int(resp.sum())
        row = {"sim": s, "respondents": k, "population_mean": pop,
               "respondent_mean": float(y[resp].mean()) if k else np.nan}
        if X is not None:
            row["ipw_mean"] = _ipw_mean(y, resp, X) if 0 < k < len(y) else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    out["bias"] = out["respondent_mean"] - pop
    if X is not None:
        out["ipw_bias"] = out["ipw_mean"] - pop
    out["expected_respondent_mean"] = expected
    return out


def nonresponse_adjustment(frame: pd.DataFrame, responded_col: str, outcomes: Sequence[str],
                           covariates: Sequence[str]) -> pd.DataFrame:
    """How far respondents differ from the frame, before and after weighting.

    For each outcome known for the whole frame (e.g. later purchases or retention from the
    transaction tables): the frame mean (truth), the respondent mean (what a survey
    reports), and the inverse-probability-weighted respondent mean with response
    propensities from ``covariates``. Weighting removes the part of the bias the covariates
    explain, never the part driven by what only respondents reveal.
    """
    outcomes = check_column_list(outcomes, "outcomes")
    check_column_name(responded_col, "responded_col")
    check_frame(frame, "frame", required=[responded_col, *outcomes], numeric=outcomes, no_nan=outcomes, min_rows=10)
    resp = _responded(frame, responded_col).astype(bool)
    X = _design(frame, covariates, "frame")
    rows = {}
    for col in outcomes:
        y = frame[col].astype(float).to_numpy()
        ipw = _ipw_mean(y, resp, X)
        rows[col] = {"frame_mean": y.mean(), "respondent_mean": y[resp].mean(),
                     "bias": y[resp].mean() - y.mean(), "ipw_mean": ipw, "ipw_bias": ipw - y.mean()}
    out = pd.DataFrame(rows).T.rename_axis("outcome")
    out["response_rate"] = resp.mean()
    return out
