"""Tests of crmlab.glossary: content rules, lookup both ways, tables, bad input."""

import dataclasses
import re

import pandas as pd
import pytest

from crmlab import glossary
from crmlab.errors import CrmlabError
from crmlab.glossary import GLOSSARY, TOPICS, Term, bilingual, lookup, table, topics

CJK = re.compile(r"[\u4e00-\u9fff]")
# a source anchor: "[EXT]" or seed-cited pieces such as "S000 §8.1(4)", "S002 Ch4 §1", "§8.3(5)"
ANCHOR = re.compile(r"^(S00[0-4] (Ch\d+|§|case)|§|Ch\d)")


# ---------------------------------------------------------------- content rules

def test_at_least_120_terms():
    assert len(GLOSSARY) >= 120
    assert all(isinstance(t, Term) for t in GLOSSARY)


def test_english_and_chinese_keys_unique():
    english = [t.english.casefold() for t in GLOSSARY]
    chinese = [t.chinese for t in GLOSSARY]
    assert len(set(english)) == len(english), [e for e in english if english.count(e) > 1]
    assert len(set(chinese)) == len(chinese), [c for c in chinese if chinese.count(c) > 1]


def test_no_spelling_or_alias_collides_after_normalisation():
    seen = {}
    for term in GLOSSARY:
        for spelling in {glossary._norm(s) for s in (term.english, term.chinese, *term.aliases)}:
            assert seen.setdefault(spelling, term.english) == term.english, spelling


def test_every_chinese_field_has_cjk_and_english_has_none():
    for t in GLOSSARY:
        assert CJK.search(t.chinese), t
        assert not CJK.search(t.english), t
        assert t.chinese == t.chinese.strip() and t.english == t.english.strip()


def test_every_topic_valid_and_every_topic_used():
    assert set(t.topic for t in GLOSSARY) == set(TOPICS)
    assert topics() == TOPICS
    assert TOPICS[0] == "crm_basics" and TOPICS[-1] == "methods"
    assert len(TOPICS) == 13


def test_definitions_are_one_line_sentences():
    for t in GLOSSARY:
        assert "\n" not in t.definition and t.definition.endswith("."), t.english
        assert 15 <= len(t.definition) <= 170, t.english


def test_sources_are_anchors_or_ext():
    for t in GLOSSARY:
        if t.source == "[EXT]":
            continue
        for piece in t.source.split(";"):
            assert ANCHOR.match(piece.strip()), (t.english, t.source)


def test_source_texts_and_methods_both_covered():
    cited = [t for t in GLOSSARY if t.source != "[EXT]"]
    external = [t for t in GLOSSARY if t.source == "[EXT]"]
    assert len(cited) >= 120  # the seed texts' own concepts
    assert {s[:4] for t in cited for s in re.findall(r"S00\d", t.source)} == {
        "S000", "S001", "S002", "S003", "S004"}
    assert len(external) >= 30


@pytest.mark.parametrize("name", [
    "RFM analysis", "customer lifetime value", "BG/NBD model", "Gamma-Gamma model",
    "shifted-beta-geometric model", "Cronbach's alpha", "net promoter score",
    "customer satisfaction score", "customer effort score", "importance–performance analysis",
    "American Customer Satisfaction Index", "structural equation model", "PLS path model",
    "Kaplan–Meier estimator", "Cox proportional hazards model", "hazard ratio", "censoring",
    "left truncation", "uplift", "A/B test", "difference-in-differences",
    "analytic hierarchy process", "entropy weight method", "TOPSIS", "balanced scorecard",
    "Erlang C model", "record linkage", "k-anonymity", "pseudonymisation",
])
def test_course_method_terms_present(name):
    assert lookup(name).english == name


def test_four_perspectives_and_core_elements_from_source_texts():
    for name, anchor in [("business philosophy perspective", "S004 §1(1)"),
                         ("business process perspective", "S004 §1(2)"),
                         ("enterprise strategy perspective", "S004 §1(3)"),
                         ("information technology perspective", "S004 §1(4)"),
                         ("core elements of CRM", "S002 Ch4 §1")]:
        assert lookup(name).source == anchor


def test_known_pairs_from_topics_md():
    # spot checks of 中文 terms exactly as shared/topics.md gives them
    pairs = {"churn rate": "客户流失率", "customer retention rate": "客户保留率",
             "customer acquisition cost": "客户获得成本", "customer delivered value": "顾客让渡价值",
             "floating customer": "游离客户", "churn early-warning mechanism": "客户流失预警机制",
             "customer growth matrix": "客户增长矩阵", "benchmarking": "标杆比较法",
             "customer retention time": "客户保持时间", "value premise": "价值前提"}
    for en, zh in pairs.items():
        assert lookup(en).chinese == zh


def test_term_is_immutable():
    term = lookup("churn rate")
    with pytest.raises(dataclasses.FrozenInstanceError):
        term.chinese = "x"
    assert isinstance(GLOSSARY, tuple)
    assert str(term) == term.bilingual == "churn rate (客户流失率)"


# ---------------------------------------------------------------- lookup and bilingual

def test_lookup_english_case_hyphens_spaces():
    target = lookup("repeat-purchase rate")
    for spelling in ["Repeat-Purchase Rate", "repeat purchase rate", "  repeat   purchase-rate ",
                     "REPEAT–PURCHASE RATE", "repeat_purchase_rate"]:
        assert lookup(spelling) is target


def test_lookup_chinese_and_aliases():
    assert lookup("客户生命周期价值").english == "customer lifetime value"
    assert lookup(" 客户 生命周期 价值 ").english == "customer lifetime value"
    assert lookup("CLV") is lookup("customer lifetime value") is lookup("客户终身价值")
    assert lookup("复购率") is lookup("repeat-purchase rate")
    assert lookup("Kaplan-Meier") is lookup("kaplan meier estimator")
    assert lookup("cronbachs alpha") is lookup("Cronbach’s α")


def test_lookup_round_trip_every_term():
    for t in GLOSSARY:
        assert lookup(t.english) is t
        assert lookup(t.chinese) is t
        assert lookup(t.english.upper()) is t
        for alias in t.aliases:
            assert lookup(alias) is t


def test_lookup_accepts_bilingual_form():
    for t in GLOSSARY[:40]:
        assert lookup(bilingual(t.english)) is t


def test_bilingual_format():
    assert bilingual("customer lifetime value") == "customer lifetime value (客户生命周期价值)"
    assert bilingual("客户流失率") == "churn rate (客户流失率)"
    assert bilingual("nps") == "net promoter score (净推荐值)"
    for t in GLOSSARY:
        assert bilingual(t.chinese) == f"{t.english} ({t.chinese})"


# ---------------------------------------------------------------- table

def test_table_full():
    df = table()
    assert list(df.columns) == ["English", "中文", "topic", "definition", "source"]
    assert len(df) == len(GLOSSARY)
    assert df.index.tolist() == list(range(len(df)))
    order = {t: i for i, t in enumerate(TOPICS)}
    keys = list(zip(df["topic"].map(order), df["English"].str.casefold(), strict=True))
    assert keys == sorted(keys)
    assert df.notna().all().all()


def test_table_topic_filter():
    churn = table(topic="churn")
    assert len(churn) == sum(t.topic == "churn" for t in GLOSSARY)
    assert set(churn["topic"]) == {"churn"}
    both = table(topic=["methods", "churn"])
    assert list(pd.unique(both["topic"])) == ["churn", "methods"]  # course order, not given order
    assert len(both) == len(churn) + len(table("methods"))


def test_table_terms_filter_any_spelling_and_dedup():
    df = table(terms=["CLV", "客户流失率", "churn rate", "Kaplan-Meier"])
    assert df["English"].tolist() == ["customer lifetime value", "churn rate",
                                      "Kaplan–Meier estimator"]
    assert table(terms="NPS")["中文"].tolist() == ["净推荐值"]


def test_table_topic_and_terms_intersect():
    df = table(topic="churn", terms=["churn rate", "CLV"])
    assert df["English"].tolist() == ["churn rate"]
    assert table(topic="value", terms=["churn rate"]).empty


# ---------------------------------------------------------------- bad input

def test_unknown_term_suggests_close_matches():
    with pytest.raises(CrmlabError, match=r"unknown glossary term 'customer lifetime valeu'.*"
                                          r"Fix: did you mean one of 'customer lifetime value'"):
        lookup("customer lifetime valeu")
    with pytest.raises(CrmlabError, match=r"did you mean .*'客户流失率'"):
        lookup("客户流失律")
    with pytest.raises(CrmlabError, match="Browse every term with crmlab.glossary.table"):
        bilingual("xyzzy")


def test_at_most_three_suggestions():
    with pytest.raises(CrmlabError) as info:
        lookup("rate")
    hint = str(info.value).split("did you mean", 1)[1].split("?")[0]
    assert 1 <= hint.count("'") // 2 <= 3


@pytest.mark.parametrize("bad", [None, 42, 3.5, ["churn rate"], b"churn rate"])
def test_lookup_wrong_type(bad):
    with pytest.raises(CrmlabError, match=r"lookup\(\) needs a term as a string.*Fix: pass"):
        lookup(bad)
    with pytest.raises(CrmlabError, match="needs a term as a string"):
        bilingual(bad)


@pytest.mark.parametrize("bad", ["", "   "])
def test_lookup_empty(bad):
    with pytest.raises(CrmlabError, match="empty term"):
        lookup(bad)


def test_table_unknown_topic_lists_valid_topics():
    with pytest.raises(CrmlabError, match=r"unknown glossary topic\(s\) \['churning'\].*"
                                          r"Fix: use one of \['crm_basics', 'strategy'"):
        table(topic="churning")
    with pytest.raises(CrmlabError, match=r"unknown glossary topic\(s\) \[7\]"):
        table(topic=["churn", 7])


def test_table_bad_terms():
    with pytest.raises(CrmlabError, match="unknown glossary term 'no such term'"):
        table(terms=["churn rate", "no such term"])
    with pytest.raises(CrmlabError, match=r"table\(\) needs a term as a string, got int"):
        table(terms=["churn rate", 5])
    with pytest.raises(CrmlabError, match=r"table\(terms=\.\.\.\) needs a string or a list"):
        table(terms=5)
    with pytest.raises(CrmlabError, match=r"table\(topic=\.\.\.\) got an empty list"):
        table(topic=[])
    with pytest.raises(CrmlabError, match=r"table\(terms=\.\.\.\) got an empty list"):
        table(terms=())


def test_index_rejects_collisions_and_bad_topics():
    a = Term("churn rate", "客户流失率", "churn", "Share lost.", "S000 §2.2.2")
    b = Term("attrition", "流失比例", "churn", "Share lost.", "[EXT]", ("churn rate",))
    with pytest.raises(CrmlabError, match="'churn rate' of 'attrition' collides with 'churn rate'"):
        glossary._build_index((a, b))
    c = Term("x", "叉", "nope", "Nothing.", "[EXT]")
    with pytest.raises(CrmlabError, match="unknown topic 'nope'"):
        glossary._build_index((c,))
