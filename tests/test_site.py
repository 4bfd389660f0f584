"""The course site (issue 13 items 1-2): builds offline with warnings as errors, every notebook and
API page exists, internal links and anchors resolve, nothing is fetched from the network.

One module-scoped build of the FAST subset (``build_site(fast=True)``: both language trees, every
course and research notebook, every API page, the data dictionary, glossary and sources; no
exercise student copies, whose build runs otter-grader): about 30 s of CPU. The student copies'
place in the tree is checked without a build (``test_exercise_pages_are_student_copies``).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")
pytest.importorskip("sphinx_book_theme")
pytest.importorskip("latex2mathml")

from crmlab import glossary  # noqa: E402
from crmlab.course import site  # noqa: E402
from crmlab.errors import CrmlabError, ParameterError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("site")
    lines: list[str] = []
    result = site.build_site(work / "site", root=ROOT, src_dir=work / "src", fast=True, log=lines.append)
    result.log = lines
    return result


def _html(built, rel: str) -> str:
    return (built.out / rel).read_text(encoding="utf-8")


def test_every_notebook_and_api_page_exists(built):
    pages = site.expected_pages(ROOT, exercises=False)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    research = sorted((ROOT / "notebooks" / "research").glob("*.ipynb"))
    assert len(notebooks) >= 13 and research
    for nb in notebooks:
        assert f"en/notebooks/{nb.stem}.html" in pages
    for nb in research:
        assert f"en/notebooks/research/{nb.stem}.html" in pages
    modules = site.public_modules(ROOT)
    assert {"crmlab.clv", "crmlab.churn", "crmlab.glossary", "crmlab.synth"} <= set(modules)
    assert not {"crmlab.cli", "crmlab.grading", "crmlab.teaching", "crmlab._bgbb"} & set(modules)
    for m in modules:
        assert f"en/api/{m}.html" in pages
    missing = [p for p in pages if not (built.out / p).is_file()]
    assert missing == []


def test_links_anchors_and_offline(built):
    # build_site already refuses a site with problems; check again, on every page of both trees
    assert site.check_site(built.out) == []
    # and by hand: no page loads a script, style sheet or image from another host
    fetched = re.compile(r'<(?:script|img|iframe)[^>]+src="(?:https?:)?//|<link[^>]+rel="(?:stylesheet|preload|icon)"[^>]+href="(?:https?:)?//')
    offenders = [p for p in built.out.rglob("*.html") if fetched.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    assert not list(built.out.rglob("*mathjax*")), "math is MathML: no MathJax is shipped or loaded"
    # the published folder holds the two editions and the chooser, nothing of the build's own
    assert sorted(p.name for p in built.out.iterdir()) == [".nojekyll", "en", "index.html", "zh"]


def test_check_site_finds_broken_links_and_network_fetches(tmp_path):
    page = tmp_path / "en" / "index.html"
    page.parent.mkdir(parents=True)
    (tmp_path / "en" / "other.html").write_text('<p id="here">x</p>', encoding="utf-8")
    page.write_text(
        '<html><head><script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/f.css"></head><body id="top">'
        '<a href="other.html#here">ok</a> <a href="other.html#gone">bad anchor</a>'
        '<a href="missing.html">bad file</a> <img src="_images/none.png">'
        '<a href="https://example.org/">a link a reader may follow: fine</a></body></html>',
        encoding="utf-8")
    (tmp_path / "en" / "style.css").write_text("@import url(https://fonts.example.org/x.css);", encoding="utf-8")
    problems = site.check_site(tmp_path, require_languages=["en", "zh"])
    joined = "\n".join(problems)
    assert "zh/index.html is missing" in joined
    assert "cdn.example.org/x.js from the network" in joined
    assert "fonts.example.org/f.css from the network" in joined
    assert "'gone'" in joined and "missing.html points to no file" in joined
    assert "_images/none.png points to no file" in joined
    assert "style.css: loads https://fonts.example.org/x.css" in joined
    assert "example.org/\"" not in joined and len(problems) == 7


def test_notebook_pages_render_stored_outputs_and_math(built):
    nb08 = _html(built, "en/notebooks/08-churn-survival-analysis.html")
    assert '<img alt="' in nb08 and "_images/" in nb08          # stored figures
    assert 'class="dataframe' in nb08                           # stored pandas tables
    nb05 = _html(built, "en/notebooks/05-measuring-satisfaction.html")
    assert "<math" in nb05 and "\\frac" not in nb05.split("<math", 1)[1][:2000]  # TeX -> MathML
    for img in re.findall(r'src="(\.\./_images/[^"]+)"', nb08):
        assert (built.out / "en" / "notebooks" / img).resolve().is_file()


def test_language_switch_on_every_page(built):
    for lang, other in (("en", "zh"), ("zh", "en")):
        for page in (built.out / lang).rglob("*.html"):
            if page.name == "genindex.html" or "_static" in page.parts:
                continue
            text = page.read_text(encoding="utf-8")
            hrefs = re.findall(r'class="crmlab-lang-switch".*?href="([^"]+)"', text, re.S)
            assert len(hrefs) == 1, f"{page}: no language switch"
            target = (page.parent / hrefs[0]).resolve()
            assert target.is_file() and f"/{other}/" in target.as_posix(), (page, hrefs[0])
    # the same page where the other edition has it (the glossary), its home page where not yet
    glossary_switch = re.search(r'crmlab-lang-switch.*?href="([^"]+)"', _html(built, "en/glossary.html"), re.S)
    assert glossary_switch.group(1) == "../zh/glossary.html"
    nb = "en/notebooks/00-welcome-and-data-tour.html"
    expected = ("../../zh/notebooks/00-welcome-and-data-tour.html"
                if (ROOT / "notebooks" / "zh" / "00-welcome-and-data-tour.ipynb").is_file() else "../../zh/index.html")
    assert re.search(r'crmlab-lang-switch.*?href="([^"]+)"', _html(built, nb), re.S).group(1) == expected
    api = re.search(r'crmlab-lang-switch.*?href="([^"]+)"', _html(built, "en/api/crmlab.clv.html"), re.S)
    assert api.group(1) == "../../zh/api/index.html"     # the API reference exists in English only


def test_glossary_page_has_every_term_with_its_anchor(built):
    for lang in ("en", "zh"):
        text = _html(built, f"{lang}/glossary.html")
        ids = set(re.findall(r'<tr id="([^"]+)"', text))
        assert len(ids) == len(glossary.GLOSSARY)
        for term in glossary.GLOSSARY:
            assert site.glossary_anchor(term.english) in ids
        assert "客户流失率" in text and "churn rate" in text
        assert 'href="sources.html#s000"' in text


def test_sources_page_names_the_texts_and_the_real_datasets(built):
    for lang in ("en", "zh"):
        text = _html(built, f"{lang}/sources.html")
        for code, title, _, _ in site.SOURCE_TEXTS:
            assert f'id="{code.lower()}"' in text and f"《{title}》" in text
        for folder in ("cdnow", "donations", "ecsi_mobile"):
            assert f"datasets/real/{folder}/README.html" in text
        assert "Fader" in text and "Tenenhaus" in text     # the papers to cite
    assert "anonymous online documents" in _html(built, "en/sources.html")
    assert "课件，30 张幻灯片" in _html(built, "zh/sources.html")


def test_search_finds_chinese_words_in_both_editions(built):
    def terms(lang):
        text = (built.out / lang / "searchindex.js").read_text(encoding="utf-8")
        return json.loads(text[text.index("(") + 1: text.rindex(")")])["terms"]

    en, zh = terms("en"), terms("zh")
    assert {"churn", "客户流失率", "流失"} <= set(en)
    assert {"流失", "客户"} <= set(zh)
    language_data = (built.out / "zh" / "_static" / "language_data.js").read_text(encoding="utf-8")
    assert "ChineseStemmer" not in language_data        # Sphinx 9.0's broken name (search fails)


def test_chinese_tree_skips_missing_twins_and_says_so(built):
    missing = site.missing_twins(ROOT, "zh")
    assert site.missing_twins(ROOT, "en") == []
    if missing:
        # the fast build has no exercise pages in either language, so no missing Chinese ones
        assert built.missing.get("zh", []) == [m for m in missing if not m.startswith("exercises/")]
        assert any("no 中文 version yet" in line for line in built.log)
        home = _html(built, "zh/index.html")
        assert "尚未翻译" in home
        first = Path(missing[0]).stem
        assert f'href="../en/notebooks/{first}.html"' in home or "exercises/" in missing[0]


def test_exercise_pages_are_student_copies(tmp_path):
    # The tree takes the student copies it is given (built by `crmlab exercises check`), never
    # the masters: a master's solution text must not reach the site.
    master = ROOT / "exercises" / "05-measuring-satisfaction" / "05-measuring-satisfaction.ipynb"
    student = tmp_path / "student.ipynb"
    student.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {},
                                              "source": "# Exercise 05 (student copy)"}],
                                   "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    trees = site.assemble(ROOT, tmp_path / "src", languages=["en"],
                          student_copies={"05-measuring-satisfaction": student})
    tree = trees["en"]
    written = tmp_path / "src" / "en" / "exercises" / "05-measuring-satisfaction" / "05-measuring-satisfaction.ipynb"
    assert written.read_bytes() == student.read_bytes() != master.read_bytes()
    assert "exercises/05-measuring-satisfaction/05-measuring-satisfaction" in tree.docnames
    assert "exercises/05-measuring-satisfaction/05-measuring-satisfaction" in \
        (tmp_path / "src" / "en" / "index.md").read_text(encoding="utf-8")


def test_allowlist_tolerates_only_listed_docstring_warnings(tmp_path):
    path = tmp_path / "allow.txt"
    path.write_text("# comment\ncrmlab.clv.fit | Unexpected indentation.\ncrmlab.kpi | Unknown target\n"
                    "crmlab.gone | never seen\n", encoding="utf-8")
    allow = site._AllowList(path)

    def record(message, location):
        rec = logging.LogRecord("sphinx.x", logging.WARNING, "", 0, message, None, None)
        rec.location = location
        return rec

    assert not allow.filter(record("Unexpected indentation.", "/r/crmlab/clv.py:docstring of crmlab.clv.fit:3"))
    assert not allow.filter(record('Unknown target name: "ci".', "/r/build/site-src/en/api/crmlab.kpi.rst:2"))
    # another object, another message, or no docstring location: still a warning (fails -W)
    assert allow.filter(record("Unexpected indentation.", "/r/crmlab/clv.py:docstring of crmlab.clv.other:3"))
    assert allow.filter(record("Malformed table.", "/r/crmlab/clv.py:docstring of crmlab.clv.fit:3"))
    assert allow.filter(record("Unexpected indentation.", "/r/notebooks/00.ipynb:12"))
    assert [a["object"] for a in allow.allowed] == ["crmlab.clv.fit", "crmlab.kpi"]
    assert allow.stale() == ["crmlab.gone | never seen"]
    path.write_text("crmlab.clv.fit Unexpected indentation.\n", encoding="utf-8")
    with pytest.raises(CrmlabError, match="expected 'object | message text'"):
        site.read_allowlist(path)


def test_shipped_allowlist_is_well_formed():
    entries = site.read_allowlist()
    for obj, text in entries:
        assert obj.startswith("crmlab.") and text


def test_bad_input():
    with pytest.raises(ParameterError, match="unknown site language 'fr'"):
        site.build_site(languages=["fr"])
    with pytest.raises(ParameterError, match="languages is empty"):
        site.build_site(languages=[])
    with pytest.raises(ParameterError, match="no crmlab package"):
        site.public_modules(ROOT / "notebooks")
    with pytest.raises(ParameterError, match="unknown site language"):
        site.missing_twins(ROOT, "de")


def test_screenshot_check_says_when_it_skips(tmp_path, monkeypatch):
    from crmlab.course import site_check

    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "index.html").write_text("<p>x</p>", encoding="utf-8")
    monkeypatch.setenv("CRMLAB_CHROMIUM", str(tmp_path / "no-such-chromium"))
    said = []
    seen = site_check.take_screenshots(tmp_path, tmp_path / "shots", log=said.append)
    assert seen.screenshots == [] and "NO screenshots" in seen.skipped and said
    with pytest.raises(ParameterError, match="make site"):
        site_check.take_screenshots(tmp_path / "nothing", tmp_path / "shots")


def _fake_repo(root: Path, zh_twin: bool) -> Path:
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# 00 — Welcome"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    for rel in ("notebooks/00-welcome.ipynb", "notebooks/01-strategy.ipynb", "notebooks/research/r.ipynb"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(nb), encoding="utf-8")
    if zh_twin:
        (root / "notebooks" / "zh").mkdir()
        zh = json.loads(json.dumps(nb))
        zh["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["客户流失率是一个\n", "重要指标。\n", "\n", "Cox 模型"]})
        (root / "notebooks" / "zh" / "00-welcome.ipynb").write_text(json.dumps(zh), encoding="utf-8")
    (root / "datasets" / "real" / "toy").mkdir(parents=True)
    (root / "datasets" / "README.md").write_text("# Data dictionary\n", encoding="utf-8")
    (root / "datasets" / "real" / "README.md").write_text("# Real data\n", encoding="utf-8")
    (root / "datasets" / "real" / "toy" / "README.md").write_text(
        "# Toy (REAL data)\n\n## Provenance\n\n* **Papers**:\n  * Doe, J. (2001). A paper.\n    *Journal* 1.\n",
        encoding="utf-8")
    (root / "crmlab").mkdir()
    (root / "crmlab" / "clv.py").write_text('"""Customer value."""\n', encoding="utf-8")
    (root / "crmlab" / "cli.py").write_text('"""Command line."""\n', encoding="utf-8")
    (root / "exercises").mkdir()
    return root


def test_chinese_twins_join_the_chinese_tree_and_the_switch(tmp_path):
    root = _fake_repo(tmp_path / "repo", zh_twin=True)
    assert site.missing_twins(root, "zh") == ["notebooks/zh/01-strategy.ipynb", "notebooks/zh/research/r.ipynb"]
    trees = site.assemble(root, tmp_path / "src")
    assert "notebooks/00-welcome" in trees["zh"].docnames
    # a line break between Chinese characters would show as a gap: joined in the site's copy
    copy = json.loads((tmp_path / "src" / "zh" / "notebooks" / "00-welcome.ipynb").read_text(encoding="utf-8"))
    assert copy["cells"][-1]["source"] == "客户流失率是一个重要指标。\n\nCox 模型"
    assert "notebooks/01-strategy" not in trees["zh"].docnames
    assert trees["zh"].missing == ["notebooks/zh/01-strategy.ipynb", "notebooks/zh/research/r.ipynb"]
    en_site = json.loads((tmp_path / "src" / "en" / "_site.json").read_text(encoding="utf-8"))
    zh_home = (tmp_path / "src" / "zh" / "index.md").read_text(encoding="utf-8")
    assert "notebooks/00-welcome" in en_site["other_docs"] and "\nnotebooks/00-welcome\n" in zh_home
    assert 'href="../en/notebooks/01-strategy.html"' in zh_home
    other = set(en_site["other_docs"])
    assert site._nearest("notebooks/00-welcome", other) == ("notebooks/00-welcome", True)
    assert site._nearest("notebooks/01-strategy", other) == ("index", False)
    assert site._nearest("api/crmlab.clv", other) == ("api/index", False)
    assert site._nearest("datasets/real/toy/README", other) == ("datasets/real/toy/README", True)
    assert site.public_modules(root) == ["crmlab.clv"]
    sources = (tmp_path / "src" / "en" / "sources.md").read_text(encoding="utf-8")
    assert "- Doe, J. (2001). A paper. *Journal* 1." in sources
    # a second assembly without the twin removes its page from the tree on disk
    (root / "notebooks" / "zh" / "00-welcome.ipynb").unlink()
    site.assemble(root, tmp_path / "src")
    assert not (tmp_path / "src" / "zh" / "notebooks" / "00-welcome.ipynb").exists()


def test_docstring_examples_left_in_a_section_are_flagged_and_moved():
    warned = []

    class Logger:
        def warning(self, *args, **kwargs):
            warned.append((args, kwargs))

    lines = ["Do it.", "", "Parameters", "----------", "x : int", "    A number.", "",
             ">>> f(1)", "2"]
    original = site._sphinx_logger
    site._sphinx_logger = lambda: Logger()
    try:
        site._examples_heading(None, "function", "crmlab.x.f", None, {}, lines)
        fine = ["Do it.", "", "Examples", "--------", ">>> f(1)", "2"]
        site._examples_heading(None, "function", "crmlab.x.g", None, {}, fine)
    finally:
        site._sphinx_logger = original
    assert lines[6:10] == ["", "Examples", "--------", ">>> f(1)"]
    assert len(warned) == 1 and warned[0][1]["location"] == "docstring of crmlab.x.f"
    assert fine == ["Do it.", "", "Examples", "--------", ">>> f(1)", "2"]


def test_signature_defaults_sphinx_cannot_parse_are_shortened():
    sig = "(transactions, as_of=None, categories=tuple(c for c, _, _ in CATEGORIES))"
    assert site._plain_defaults(None, "function", "f", None, {}, sig, None) == \
        ("(transactions, as_of=None, categories=...)", None)
    assert site._plain_defaults(None, "function", "f", None, {}, "(a, b=1)", None) is None
