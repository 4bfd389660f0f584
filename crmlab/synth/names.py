"""Synthetic personal data (names, phones, e-mails) and their mangled silo copies.

Names are random combinations of common surnames and given-name characters, so they
belong to nobody. Phone numbers use the mainland mobile pattern 1[3-9]x-xxxx-xxxx.
Everything is vectorised with numpy string ufuncs: no per-customer Python loop.
"""

from __future__ import annotations

import numpy as np

# (simplified, pinyin, traditional or "" if the same)
SURNAMES: tuple[tuple[str, str, str], ...] = (
    ("王", "wang", ""), ("李", "li", ""), ("张", "zhang", "張"), ("刘", "liu", "劉"),
    ("陈", "chen", "陳"), ("杨", "yang", "楊"), ("黄", "huang", "黃"), ("赵", "zhao", "趙"),
    ("吴", "wu", "吳"), ("周", "zhou", ""), ("徐", "xu", ""), ("孙", "sun", "孫"),
    ("马", "ma", "馬"), ("朱", "zhu", ""), ("胡", "hu", ""), ("郭", "guo", ""),
    ("何", "he", ""), ("林", "lin", ""), ("罗", "luo", "羅"), ("高", "gao", ""),
    ("郑", "zheng", "鄭"), ("梁", "liang", ""), ("谢", "xie", "謝"), ("宋", "song", ""),
    ("唐", "tang", ""), ("许", "xu", "許"), ("韩", "han", "韓"), ("冯", "feng", "馮"),
    ("邓", "deng", "鄧"), ("曹", "cao", ""), ("彭", "peng", ""), ("曾", "zeng", ""),
    ("肖", "xiao", ""), ("田", "tian", ""), ("董", "dong", ""), ("潘", "pan", ""),
    ("袁", "yuan", ""), ("蔡", "cai", ""), ("蒋", "jiang", "蔣"), ("余", "yu", ""),
)
# (simplified, pinyin, traditional or "", homophone used as a typo or "")
GIVEN: tuple[tuple[str, str, str, str], ...] = (
    ("伟", "wei", "偉", "玮"), ("芳", "fang", "", "方"), ("娜", "na", "", ""), ("敏", "min", "", "民"),
    ("静", "jing", "靜", "靖"), ("丽", "li", "麗", "莉"), ("强", "qiang", "強", ""), ("磊", "lei", "", "蕾"),
    ("军", "jun", "軍", "君"), ("洋", "yang", "", "阳"), ("勇", "yong", "", "永"), ("艳", "yan", "艷", "燕"),
    ("杰", "jie", "傑", "洁"), ("娟", "juan", "", ""), ("涛", "tao", "濤", "韬"), ("明", "ming", "", "鸣"),
    ("超", "chao", "", ""), ("秀", "xiu", "", ""), ("霞", "xia", "", "侠"), ("平", "ping", "", "萍"),
    ("刚", "gang", "剛", "钢"), ("英", "ying", "", "莹"), ("华", "hua", "華", "桦"), ("玉", "yu", "", "钰"),
    ("文", "wen", "", "雯"), ("辉", "hui", "輝", "慧"), ("建", "jian", "", "健"), ("国", "guo", "國", ""),
    ("红", "hong", "紅", "虹"), ("宇", "yu", "", "语"), ("鹏", "peng", "鵬", ""), ("飞", "fei", "飛", "菲"),
    ("梅", "mei", "", "玫"), ("琳", "lin", "", "林"), ("晨", "chen", "", "辰"), ("欣", "xin", "", "鑫"),
    ("怡", "yi", "", "仪"), ("佳", "jia", "", "嘉"), ("浩", "hao", "", "皓"), ("子", "zi", "", ""),
    ("轩", "xuan", "軒", "宣"), ("雨", "yu", "", ""), ("博", "bo", "", "波"), ("婷", "ting", "", "亭"),
    ("思", "si", "", ""), ("俊", "jun", "", "骏"), ("晓", "xiao", "曉", "小"), ("海", "hai", "", ""),
    ("云", "yun", "雲", "芸"), ("峰", "feng", "", "锋"), ("宁", "ning", "寧", "凝"), ("凯", "kai", "凱", "恺"),
    ("颖", "ying", "穎", "影"), ("倩", "qian", "", "茜"), ("琪", "qi", "", "琦"), ("悦", "yue", "", "月"),
    ("诗", "shi", "詩", ""), ("然", "ran", "", ""), ("欢", "huan", "歡", ""), ("东", "dong", "東", "冬"),
)
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "outlook.com", "gmail.com")
MOBILE_PREFIX = ("13", "15", "17", "18", "19")


def _u(values) -> np.ndarray:
    return np.asarray(values, dtype=str)


def make_people(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw names, gender, birth year, unique phones and e-mails for ``n`` people.

    Returns arrays plus the index arrays (surname, given chars) the silo mangler needs.
    """
    s_idx = rng.integers(0, len(SURNAMES), n)
    two = rng.random(n) < 0.7  # 70% two-character given names
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = np.where(two, rng.integers(0, len(GIVEN), n), -1)
    sur = _u([s[0] for s in SURNAMES])[s_idx]
    giv = _u([g[0] for g in GIVEN])
    name = np.strings.add(np.strings.add(sur, giv[g1]), np.where(two, giv[np.maximum(g2, 0)], ""))
    gender = np.where(rng.random(n) < 0.52, "F", "M")
    birth_year = rng.integers(1955, 2006, n)
    phone = unique_phones(rng, n)
    # e-mail local part: pinyin of the given name + surname + 2 digits, or a random handle
    py_s = _u([s[1] for s in SURNAMES])[s_idx]
    py_g = np.strings.add(_u([g[1] for g in GIVEN])[g1],
                          np.where(two, _u([g[1] for g in GIVEN])[np.maximum(g2, 0)], ""))
    num = np.strings.zfill(rng.integers(0, 1000, n).astype(str), 3)
    local = np.where(rng.random(n) < 0.6,
                     np.strings.add(np.strings.add(np.strings.add(py_g, "."), py_s), num),
                     np.strings.add(np.strings.add(py_s, py_g), np.strings.zfill(rng.integers(0, 100000, n).astype(str), 5)))
    domain = _u(EMAIL_DOMAINS)[rng.choice(len(EMAIL_DOMAINS), n, p=[0.3, 0.25, 0.1, 0.1, 0.15, 0.1])]
    # QQ mail often uses the QQ number instead of a name
    qq = domain == "qq.com"
    local = np.where(qq, rng.integers(10_000_000, 3_000_000_000, n).astype(str), local)
    email = np.strings.add(np.strings.add(local, "@"), domain)
    return {"name": name, "gender": gender, "birth_year": birth_year, "phone": phone,
            "email": email, "_s_idx": s_idx, "_g1": g1, "_g2": g2}


def unique_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct 11-digit mobile numbers as strings."""
    pre = np.asarray([int(p) for p in MOBILE_PREFIX], dtype=np.int64)
    space = len(MOBILE_PREFIX) * 1_000_000_000
    k = rng.choice(space, n, replace=False)  # distinct draws from all numbers
    return (pre[k // 1_000_000_000] * 1_000_000_000 + k % 1_000_000_000).astype(str)


def _substr(a: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``[s[start:stop] for s in a]`` on a str array, vectorised (np.strings.slice needs numpy 2.3).

    >>> _substr(np.array(["13812345678", "1390000"]), 3, 7)
    array(['1234', '0000'], dtype='<U4')
    """
    a = np.asarray(a, dtype=str)
    width = a.dtype.itemsize // np.dtype((np.str_, 1)).itemsize
    stop = min(stop, width)
    if stop <= start:
        return np.full(a.shape, "", dtype=(np.str_, 1))
    # fixed-width unicode is width code points per string, padded with NUL: a char matrix
    chars = np.ascontiguousarray(a).view((np.str_, 1)).reshape(len(a), width)
    return np.ascontiguousarray(chars[:, start:stop]).view((np.str_, stop - start)).ravel()


def format_phone(rng: np.random.Generator, phone: np.ndarray) -> np.ndarray:
    """Write each 11-digit number in one of the formats people and systems use."""
    out = phone.astype(object)
    style = rng.integers(0, 5, len(phone))
    for s, sep_pre, sep in ((1, "", "-"), (2, "", " "), (3, "+86 ", None), (4, "(86)", " ")):
        idx = np.flatnonzero(style == s)
        ph = phone[idx]
        if sep is None:
            out[idx] = np.strings.add(sep_pre, ph)
            continue
        a, b, c = _substr(ph, 0, 3), _substr(ph, 3, 7), _substr(ph, 7, 11)
        out[idx] = np.strings.add(sep_pre, np.strings.add(np.strings.add(np.strings.add(np.strings.add(a, sep), b), sep), c))
    return out


def swap_digits(rng: np.random.Generator, phone: np.ndarray) -> np.ndarray:
    """Swap two adjacent digits in positions 3-10 of each 11-digit string."""
    n = len(phone)
    if n == 0:
        return phone.astype(str)
    pos = rng.integers(3, 10, n)
    digits = np.frombuffer(phone.astype("S11").tobytes(), dtype=np.uint8).reshape(n, 11).copy()
    rows = np.arange(n)
    tmp = digits[rows, pos].copy()
    digits[rows, pos] = digits[rows, pos + 1]
    digits[rows, pos + 1] = tmp
    return np.frombuffer(digits.tobytes(), dtype="S11").astype(str)


def mangle_names(rng: np.random.Generator, s_idx, g1, g2, traditional_rate, homophone_rate) -> np.ndarray:
    """Rebuild names with some characters written in traditional form or as a homophone typo."""
    n = len(s_idx)
    sur_s = _u([s[0] for s in SURNAMES])
    sur_t = _u([s[2] or s[0] for s in SURNAMES])
    giv_s = _u([g[0] for g in GIVEN])
    giv_t = _u([g[2] or g[0] for g in GIVEN])
    giv_h = _u([g[3] or g[0] for g in GIVEN])
    trad = rng.random(n) < traditional_rate
    homo = rng.random(n) < homophone_rate
    sur = np.where(trad, sur_t[s_idx], sur_s[s_idx])
    first = np.where(trad, giv_t[g1], giv_s[g1])
    has2 = g2 >= 0
    g2c = np.maximum(g2, 0)
    second = np.where(trad, giv_t[g2c], giv_s[g2c])
    # a homophone typo hits the last given character
    second = np.where(homo & has2, giv_h[g2c], second)
    first = np.where(homo & ~has2, giv_h[g1], first)
    second = np.where(has2, second, "")
    name = np.strings.add(np.strings.add(sur, first), second)
    # some systems store a space between surname and given name
    spaced = rng.random(n) < 0.05
    return np.where(spaced, np.strings.add(np.strings.add(sur, " "), np.strings.add(first, second)), name)
