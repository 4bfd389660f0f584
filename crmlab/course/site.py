"""The course as a book: an offline HTML site built from the repository (``make site``).

:func:`build_site` assembles one Sphinx source tree per language under ``build/site-src/<lang>/``
and renders each into ``build/site/<lang>/`` (English ``en``, Chinese ``zh``), with a small
language chooser at ``build/site/index.html``. A tree holds

- the course notebooks ``notebooks/NN-*.ipynb`` and the research notebooks, rendered with the
  outputs stored in them (myst-nb, never re-executed); the Chinese tree takes the twins
  ``notebooks/zh/NN-*.ipynb`` and ``notebooks/zh/research/*.ipynb`` and lists the missing ones;
- the exercises as students receive them: the student copies that ``crmlab exercises check``
  builds (and checks) from the masters, never the masters with their solutions;
- the data dictionary (``datasets/README.md``) and the real datasets' READMEs;
- the bilingual glossary (generated from :mod:`crmlab.glossary`, one anchor per term), a sources
  page (the five source texts S000-S004 and the real datasets' citations);
- the API reference (English tree): one page per public module of the analytics library,
  from the numpy-style docstrings (Sphinx autodoc + napoleon).

Every page carries a language switch to the same page in the other tree, or to the nearest page
that exists there. Sphinx runs with warnings as errors; the only warnings tolerated are those
listed in the temporary allow-list ``crmlab/course/site_docstring_allowlist.txt`` (docstring
warnings only). Nothing is fetched from the network, neither when building nor when reading:
:func:`check_site` fails on a page that would load a script, style sheet, font or image from
another host, and on an internal link or anchor that does not resolve.

This module is also the Sphinx extension that ``conf.py`` loads (see :func:`setup`).

>>> glossary_anchor("churn rate")
'term-churn-rate'
>>> [m for m in public_modules() if m in ("crmlab.clv", "crmlab.cli")]
['crmlab.clv']
"""

from __future__ import annotations

import ast
import html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import CrmlabError, ParameterError
from .translation import twin_path

__all__ = ["build_site", "assemble", "check_site", "expected_pages", "public_modules",
           "glossary_anchor", "missing_twins", "SiteBuild", "SiteError", "LANGUAGES",
           "SOURCE_TEXTS", "ALLOWLIST"]

TEMPLATE_DIR = Path(__file__).with_name("site_template")
#: Temporary allow-list of docstring warnings the site build tolerates (see the file's header).
ALLOWLIST = Path(__file__).with_name("site_docstring_allowlist.txt")
REPO_ROOT = Path(__file__).resolve().parents[2]
# Modules of the crmlab package that are course machinery, not the analytics library: they get
# no API page.
COURSE_MACHINERY = frozenset({"cli", "course", "grading", "teaching"})

#: The course's five source texts, with their titles as the texts themselves give them. They are
#: anonymous online documents (no author, publisher or date), cited for their concepts only.
SOURCE_TEXTS: tuple[tuple[str, str, str, str], ...] = (
    ("S000", "供应链管理客户关系管理指南",
     "a guide to customer relationship management in supply-chain management", ""),
    ("S001", "客户关系管理战略及其实施",
     "CRM strategy and its implementation", "courseware, 30 slides"),
    ("S002", "客户满意度与忠诚度：客户关系管理的关键指标",
     "customer satisfaction and loyalty: the key indicators of CRM", ""),
    ("S003", "客户关系管理的论文", "papers on customer relationship management", ""),
    ("S004", "CRM是什么意思：客户关系管理如何影响企业绩效",
     "what CRM means: how customer relationship management affects firm performance", ""),
)


class SiteError(CrmlabError):
    """The course site could not be built or does not pass its checks."""


@dataclass(frozen=True)
class _Lang:
    code: str              # folder under build/site/ and build/site-src/
    sphinx_language: str   # Sphinx `language`: UI strings
    search_language: str   # Sphinx search splitter ("zh" uses jieba)
    hreflang: str
    name: str              # the language's name in itself, shown on the switch that leads to it
    title: str


LANGUAGES: dict[str, _Lang] = {
    "en": _Lang("en", "en", "en", "en", "English", "crmlab: a course in CRM analytics"),
    "zh": _Lang("zh", "zh_CN", "zh", "zh-CN", "中文", "crmlab：客户关系管理分析课程"),
}

_TEXT = {
    "en": {
        "notebooks": "Course notebooks",
        "exercises": "Exercises (student copies)",
        "research": "Research notebooks",
        "reference": "Reference",
        "footer": "All figures come from a SYNTHETIC company world unless a page says REAL data. "
                  "Code MIT; course text, notebooks and synthetic data CC BY 4.0.",
        "switch_exact": "Read this page in Chinese (中文)",
        "switch_fallback": "This page has no Chinese version yet: open the nearest Chinese page",
        "switch_aria": "Language",
    },
    "zh": {
        "notebooks": "课程笔记本",
        "exercises": "练习（学生版）",
        "research": "研究笔记本",
        "reference": "参考资料",
        "footer": "除标明“真实数据”（REAL）的页面外，所有数字均来自一个合成（SYNTHETIC）的公司世界。"
                  "代码采用 MIT 许可；课程文字、笔记本和合成数据采用 CC BY 4.0 许可。",
        "switch_exact": "阅读本页的英文版 (English)",
        "switch_fallback": "本页尚无英文版：打开英文版中最接近的页面",
        "switch_aria": "语言",
    },
}

# Pages every Sphinx HTML tree has besides the documents.
_BUILTIN_PAGES = ("search", "genindex")


# --------------------------------------------------------------------------------------------
# What goes into the site
# --------------------------------------------------------------------------------------------

def public_modules(root=None) -> list[str]:
    """Dotted names of the analytics library's public modules: one API page each.

    A module is public when its name has no leading underscore; the course machinery
    (``cli``, ``course``, ``grading``, ``teaching``) is left out.

    >>> "crmlab.synth" in public_modules() and "crmlab._bgbb" not in public_modules()
    True
    """
    package = Path(root or REPO_ROOT) / "crmlab"
    if not package.is_dir():
        raise ParameterError(f"no crmlab package under {package.parent}",
                             fix="pass root= the repository root (the folder holding crmlab/)")
    names = []
    for path in package.iterdir():
        name = path.stem if path.suffix == ".py" else path.name
        is_module = path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").is_file())
        if is_module and not name.startswith("_") and name not in COURSE_MACHINERY:
            names.append(f"crmlab.{name}")
    return sorted(names)


def _module_summary(root: Path, module: str) -> str:
    """First sentence of a module's docstring, read without importing it."""
    rel = Path(*module.split("."))
    path = root / rel.with_suffix(".py")
    if not path.is_file():
        path = root / rel / "__init__.py"
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ")
    return re.sub(r"``([^`]+)``", r"\1", re.sub(r":\w+:`~?([^`]+)`", r"\1", first))


def glossary_anchor(english: str) -> str:
    """The HTML id of a glossary term on ``glossary.html`` (the same in both languages).

    >>> glossary_anchor("Kaplan–Meier estimator")
    'term-kaplan-meier-estimator'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", english.casefold()).strip("-")
    return f"term-{slug or 'x'}"


def _course_notebooks(root: Path, lang: str) -> list[tuple[str, Path]]:
    """(docname, source) of the course and research notebooks of one language, in course order.

    The English notebooks define the course; a Chinese twin has the same file name under
    ``notebooks/zh/`` (``notebooks/zh/research/`` for research notebooks).
    """
    out = []
    for path in sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        out.append((f"notebooks/{path.stem}", path if lang == "en" else twin_path(path)))
    for path in sorted((root / "notebooks" / "research").glob("*.ipynb")):
        out.append((f"notebooks/research/{path.stem}", path if lang == "en" else twin_path(path)))
    return out


def _exercise_names(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "exercises").glob("[0-9][0-9]-*/[0-9][0-9]-*.ipynb")
                  if p.stem == p.parent.name)


def missing_twins(root=None, lang: str = "zh") -> list[str]:
    """Notebooks (and exercise student copies) that have no version in ``lang`` yet.

    >>> "notebooks/00-welcome-and-data-tour.ipynb" in missing_twins(lang="en")
    False
    """
    root = Path(root or REPO_ROOT)
    _check_lang(lang)
    missing = [str(src.relative_to(root)) for _, src in _course_notebooks(root, lang) if not src.is_file()]
    if lang != "en":
        twins = [twin_path(root / "exercises" / name / f"{name}.ipynb") for name in _exercise_names(root)]
        missing += [str(t.relative_to(root)) for t in twins if not t.is_file()]
    return missing


def _find_root(root) -> Path:
    """The repository to build from: ``root``, else the working folder when it is a crmlab
    repository (``make site``), else the one this package was installed from (editable)."""
    if root is not None:
        found = Path(root).resolve()
    else:
        here = Path.cwd()
        found = here if (here / "notebooks").is_dir() and (here / "crmlab").is_dir() else REPO_ROOT
    if not (found / "notebooks").is_dir():
        raise ParameterError(f"{found} has no notebooks/ folder: the site is built from the "
                             "crmlab repository", fix="run from the repository root (make site)")
    return found


def _check_lang(lang) -> None:
    if lang not in LANGUAGES:
        raise ParameterError(f"unknown site language {lang!r}", fix=f"use one of {sorted(LANGUAGES)}")


def _student_copies(root: Path, tmp: Path, log: Callable[[str], None]) -> dict[str, Path]:
    """Build and check the exercises' student copies with the kit's own tool, in ``tmp``.

    ``crmlab exercises check`` builds every student copy from its master and fails if one
    holds a solution or a hidden test, so a leaky copy can never reach the site.
    """
    cmd = [sys.executable, "-m", "crmlab.cli", "exercises", "check", "--out", str(tmp),
           "--exercises-dir", str(root / "exercises")]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise SiteError(f"building the exercises' student copies failed:\n{done.stdout}{done.stderr}",
                        fix="run `crmlab exercises check` and fix what it reports")
    copies = {}
    for name in _exercise_names(root):
        student = tmp / name / "student" / f"{name}.ipynb"
        if not student.is_file():
            raise SiteError(f"crmlab exercises check wrote no student copy {student}",
                            fix="run `crmlab exercises build` and read its output")
        copies[name] = student
        for lang in LANGUAGES:
            # a translated master (exercises/NAME/<lang>/) is built by the same check to tmp/<lang>/NAME
            twin = tmp / lang / name / "student" / f"{name}.ipynb"
            if lang != "en" and twin.is_file():
                copies[f"{lang}/{name}"] = twin
    log(f"site: built and checked {len(copies)} exercise student copies")
    return copies


# --------------------------------------------------------------------------------------------
# Generated pages
# --------------------------------------------------------------------------------------------

def _toctree(caption: str, entries: Iterable[str], hidden: bool = False) -> str:
    entries = list(entries)
    if not entries:
        return ""
    opts = f":caption: {caption}\n:maxdepth: 1\n" + (":hidden:\n" if hidden else "")
    return "```{toctree}\n" + opts + "\n" + "\n".join(entries) + "\n```\n\n"


def _html_link(href: str, text: str) -> str:
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>'


def _up(docname: str) -> str:
    """Relative prefix from a page of one tree to build/site/ (the root of both trees)."""
    return "../" * (docname.count("/") + 1)


def _notebook_title(path: Path) -> str:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "markdown":
                for line in "".join(cell.get("source", "")).splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
    except (OSError, ValueError):
        pass
    return path.stem


def _index_page(lang: str, notebooks, research, exercises, reference, missing) -> str:
    t = _TEXT[lang]
    if lang == "en":
        head = """# crmlab: a course in CRM analytics

crmlab is a Jupyter course and a small, tested Python package for **customer relationship
management (CRM) analytics**: CRM strategy, customer data and its quality, segmentation,
customer lifetime value, satisfaction measurement and modelling, loyalty, churn and retention,
service and supply-chain collaboration, and CRM performance evaluation. The topics follow a set
of Chinese CRM texts (客户关系管理; see [the sources](sources.md)); every notebook gives the 中文
term beside the English one, and [the glossary](glossary.md) lists them all.

Everything runs on one **synthetic company world with planted truth**, so every estimate can be
checked against the value that made the data. **All figures are synthetic** unless a page says
that it uses one of the [real public datasets](datasets/real/README.md).

This site is the course as a book: the notebooks with the outputs stored in them, the exercises
as students receive them (no solutions), the data dictionary, the glossary, the sources and the
API reference. Every notebook page has a download button for its `.ipynb`; to run the code,
install the kit (`make lab` in the repository). 中文版：every page has a switch (top right) to
the Chinese edition.

"""
    else:
        head = """# crmlab：客户关系管理分析课程

crmlab 是一门基于 Jupyter 的**客户关系管理（CRM）分析**课程，配有一个经过测试的 Python 软件包：
客户关系管理战略、客户数据及其质量、客户细分、客户生命周期价值、满意度的测量与建模、客户忠诚、
客户流失与保留、服务与供应链协同，以及客户关系管理绩效评估。课程主题依据一组中文客户关系管理文本
（见[资料来源](sources.md)），所有术语的中英文对照见[术语表](glossary.md)。

全部分析都在一个**带有预设真值的合成公司世界**上进行，因此每一个估计值都可以与生成数据时所用的
真实参数相比较。除使用[真实公开数据集](datasets/real/README.md)的页面外，**所有数字均为合成数据**。

本站是课程的网页版：笔记本连同其中保存的输出、学生版练习（不含答案）、数据字典、术语表、资料来源
和 API 参考。每个笔记本页面都有下载按钮（`.ipynb`）；要运行代码，请安装本工具包（在代码仓库中运行
`make lab`）。English edition: every page has a switch (top right) to the English version.

"""
    if lang == "zh":
        head = _unwrap_cjk(head)
    body = (_toctree(t["notebooks"], notebooks) + _toctree(t["exercises"], exercises)
            + _toctree(t["research"], research) + _toctree(t["reference"], reference))
    if missing:
        if lang == "zh":
            intro = ("中文版正在翻译中。以下页面尚无中文版，请先阅读英文版"
                     "（中文版完成后会自动出现在上面的目录中）：")
        else:
            intro = "These pages have no English version yet:"
        items = "".join(f"<li>{_html_link(_up('index') + other + '/' + doc + '.html', title)}</li>"
                        for doc, title, other in missing)
        body += (f'<div class="admonition note crmlab-untranslated">\n<p class="admonition-title">'
                 f'{"尚未翻译" if lang == "zh" else "Not yet translated"}</p>\n<p>{intro}</p>\n'
                 f"<ul>{items}</ul>\n</div>\n")
    return head + body


def _unwrap_cjk(text: str) -> str:
    """Joins lines that break between two Chinese characters: Markdown turns a line break into
    a space, which a browser shows as a gap in Chinese text."""
    return re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef])\n(?=[\u3000-\u9fff\uff00-\uffef`*\[（])|(?<=[）\]*`])\n(?=[\u3000-\u9fff])",
                  "", text)


def _unwrap_notebook(path: Path) -> bytes:
    """A Chinese notebook with its Markdown cells' lines joined between Chinese characters
    (see :func:`_unwrap_cjk`); code cells and outputs are untouched."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            cell["source"] = _unwrap_cjk("".join(source) if isinstance(source, list) else source)
    return json.dumps(nb, ensure_ascii=False, indent=1).encode()


def _source_links(text: str, prefix: str) -> str:
    return re.sub(r"\bS00[0-4]\b", lambda m: _html_link(f"{prefix}sources.html#{m.group(0).lower()}",
                                                        m.group(0)), html.escape(text))


def _glossary_page(lang: str) -> str:
    from .. import glossary

    table = glossary.table()
    anchors: dict[str, str] = {}
    for english in table["English"]:
        anchor = glossary_anchor(english)
        if anchor in anchors.values():
            raise SiteError(f"two glossary terms share the anchor {anchor!r}",
                            fix="give the terms English names that differ in more than punctuation")
        anchors[english] = anchor
    if lang == "en":
        out = [f"# Glossary · 术语表\n\nThe {len(table)} terms of `crmlab.glossary`, the kit's one "
               "bilingual glossary, by topic in course order. Every term has its own anchor: link "
               "to `glossary.html#term-churn-rate`. The source column gives the passage of a "
               "[source text](sources.md) that names the term; **[EXT]** marks a standard "
               "textbook or method term that the texts do not name. Search finds a term in "
               "either language.\n"]
        header = ("English", "中文", "Definition", "Source")
    else:
        out = [f"# 术语表 · Glossary\n\n`crmlab.glossary` 中的全部 {len(table)} 个术语，按课程顺序分主题"
               "排列。每个术语都有自己的锚点，例如 `glossary.html#term-churn-rate`。“出处”一栏给出命名该"
               "术语的[来源文本](sources.md)段落；**[EXT]** 表示来源文本未命名的标准教科书或方法术语。"
               "释义目前为英文，中文释义随中文版一起提供。中英文术语均可搜索。\n"]
        header = ("中文", "English", "释义（英文）", "出处")
    for topic, (label_en, label_zh) in glossary.TOPIC_LABELS.items():
        rows = table[table["topic"] == topic]
        if rows.empty:
            continue
        title = f"{label_en[0].upper()}{label_en[1:]} ({label_zh})" if lang == "en" else f"{label_zh}（{label_en}）"
        out.append(f"## {title}\n")
        cells = []
        for r in rows.itertuples(index=False):
            english, chinese, definition, source = r[0], r[1], r[3], r[4]
            anchor = anchors[english]
            en_cell = f'<a class="crmlab-term" href="#{anchor}">{html.escape(english)}</a>'
            zh_cell = f'<span lang="zh-CN">{html.escape(chinese)}</span>'
            first, second = (en_cell, zh_cell) if lang == "en" else (zh_cell, en_cell)
            cells.append(f'<tr id="{anchor}"><td>{first}</td><td>{second}</td>'
                         f"<td>{html.escape(definition)}</td><td>{_source_links(source, '')}</td></tr>")
        head = "".join(f"<th>{h}</th>" for h in header)
        out.append('<div class="crmlab-table-scroll"><table class="crmlab-glossary table">'
                   f"<thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(cells)
                   + "\n</tbody></table></div>\n")
    return "\n".join(out)


def _real_datasets(root: Path) -> list[tuple[str, str, list[str]]]:
    """(folder, title, cited papers) of every real dataset, read from its README."""
    out = []
    for readme in sorted((root / "datasets" / "real").glob("*/README.md")):
        lines = readme.read_text(encoding="utf-8").splitlines()
        title = next((x[2:].strip() for x in lines if x.startswith("# ")), readme.parent.name)
        papers: list[str] = []
        inside = False
        for line in lines:
            if re.match(r"^\s*[*-] \*\*Papers\*\*", line):
                inside = True
                continue
            if inside:
                item = re.match(r"^\s{2,}[*-] (.*)", line)
                if item:
                    papers.append(item.group(1).strip())
                elif line.startswith("    ") and papers:
                    papers[-1] += " " + line.strip()
                else:
                    inside = False
        out.append((readme.parent.name, title, papers))
    return out


def _sources_page(lang: str, root: Path) -> str:
    from .. import glossary

    counts = {code: sum(code in t.source for t in glossary.GLOSSARY) for code, *_ in SOURCE_TEXTS}
    if lang == "en":
        out = ["# Sources · 资料来源\n",
               "## The source texts (来源文本)\n",
               "The course follows five Chinese texts on customer relationship management. They are "
               "**anonymous online documents**: none names an author, a publisher or a date. The kit "
               "cites them for their **concepts only** (what CRM is, how satisfaction, loyalty, churn "
               "or performance are defined and measured, the cases they describe); they give no data, "
               "and every number in the course is synthetic or comes from the real datasets below. "
               "Notebooks, the glossary and the README cite them by code and section, e.g. "
               "*S000 §8.1*. The titles are given as the texts themselves give them; the English "
               "glosses are ours.\n"]
        header = ("Code", "Title", "English gloss", "Glossary terms citing it")
    else:
        out = ["# 资料来源 · Sources\n",
               "## 来源文本\n",
               "本课程依据五份中文客户关系管理文本。它们都是**匿名的网络文档**：没有署名作者、出版者或日期。"
               "本工具包**只引用其中的概念**（客户关系管理是什么，满意度、忠诚度、客户流失和绩效如何定义和"
               "测量，文中描述的案例）；这些文本没有提供数据，课程中的所有数字要么是合成数据，要么来自下面的"
               "真实数据集。笔记本、术语表和 README 以编号和章节引用它们，例如 *S000 §8.1*。标题照录文本"
               "本身的写法；英文释义为本工具包所加。\n"]
        header = ("编号", "标题", "英文释义", "引用该文本的术语数")
    rows = []
    for code, title, gloss, form in SOURCE_TEXTS:
        note = f" ({form})" if form and lang == "en" else ("（课件，30 张幻灯片）" if form else "")
        rows.append(f'<tr id="{code.lower()}"><td><b>{code}</b></td><td lang="zh-CN">《{html.escape(title)}》'
                    f"{html.escape(note)}</td><td>{html.escape(gloss)}</td>"
                    f"<td>{_html_link('glossary.html', str(counts[code]))}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in header)
    out.append('<div class="crmlab-table-scroll"><table class="table crmlab-sources">'
               f"<thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table></div>\n")
    if lang == "en":
        out.append("## Real datasets and their citations (真实数据集)\n\n"
                   "The kit ships a few real public datasets so that its methods can be checked "
                   "against published results. Cite the papers below when you use them; each "
                   "dataset's page gives its provenance, licence and terms.\n")
    else:
        out.append("## 真实数据集及其引用文献\n\n本工具包附带少量真实公开数据集，用来对照已发表的结果检验"
                   "方法。使用这些数据时请引用下列文献；每个数据集的页面给出其来源、许可和使用条件（英文）。\n")
    for folder, title, papers in _real_datasets(root):
        out.append(f"### [{title}](datasets/real/{folder}/README.md)\n")
        if papers:
            out.extend(f"- {p}" for p in papers)
            out.append("")
        else:
            out.append("See the dataset's page for its provenance.\n" if lang == "en"
                       else "来源见该数据集的页面。\n")
    return "\n".join(out)


def _api_pages(root: Path, modules: list[str]) -> dict[str, str]:
    pages = {}
    rows = "\n".join(f"   * - :mod:`{m}`\n     - {_module_summary(root, m)}" for m in modules)
    toc = "\n".join(f"   {m}" for m in modules)
    pages["api/index.rst"] = f"""API reference
=============

One page per public module of the analytics library ``crmlab``, generated from the docstrings
(numpy style: parameters, returns, attributes, examples). The course machinery (the command
line, exercise building and grading, this site) is not part of the library and has no page here.

.. list-table::
   :header-rows: 1
   :widths: 25 75
   :class: crmlab-api-modules

   * - Module
     - What it does
{rows}

.. toctree::
   :hidden:
   :maxdepth: 1

{toc}
"""
    for m in modules:
        pages[f"api/{m}.rst"] = f"{m}\n{'=' * len(m)}\n\n.. automodule:: {m}\n"
    return pages


def _api_stub_page(root: Path, modules: list[str]) -> str:
    """Chinese tree: the API reference exists in English only (docstrings are English)."""
    items = "\n".join(f"<li>{_html_link(_up('api/index') + 'en/api/' + m + '.html', m)}：{html.escape(_module_summary(root, m))}</li>"
                      for m in modules)
    return ("# API 参考\n\nAPI 参考由代码中的英文文档字符串（docstring）自动生成，目前只有英文版。"
            "每个公开模块一页：\n\n<ul>\n" + items + "\n</ul>\n")


# --------------------------------------------------------------------------------------------
# Assembling the source trees
# --------------------------------------------------------------------------------------------

@dataclass
class _Tree:
    lang: str
    files: dict[str, bytes | Path] = field(default_factory=dict)   # relative path -> content
    missing: list[str] = field(default_factory=list)               # repository paths not found

    @property
    def docnames(self) -> list[str]:
        return sorted(re.sub(r"\.(md|ipynb|rst)$", "", f) for f in self.files
                      if re.search(r"\.(md|ipynb|rst)$", f) and "/_" not in "/" + f)


def _untranslated_note(lang: str, text: str) -> str:
    if lang != "zh":
        return text
    note = ("\n```{note}\n本页尚未翻译，以下为英文原文。\n```\n")
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return "".join(lines[: i + 1]) + note + "".join(lines[i + 1:])
    return note + text


def _tree(root: Path, lang: str, copies: dict[str, Path], modules: list[str]) -> _Tree:
    tree = _Tree(lang)
    for item in TEMPLATE_DIR.rglob("*"):
        if item.is_file() and "__pycache__" not in item.parts:
            # conf.py.in: not a module of the package (pytest's doctest collection would run it)
            tree.files[item.relative_to(TEMPLATE_DIR).as_posix().removesuffix(".in")] = item
    notebooks, research, missing_pages = [], [], []
    for docname, src in _course_notebooks(root, lang):
        if src.is_file():
            tree.files[docname + ".ipynb"] = src if lang == "en" else _unwrap_notebook(src)
            (research if "/research/" in docname else notebooks).append(docname)
        else:
            tree.missing.append(str(src.relative_to(root)))
            english = [p for d, p in _course_notebooks(root, "en") if d == docname][0]
            missing_pages.append((docname, _notebook_title(english), "en"))
    exercises = []
    for name in _exercise_names(root):
        docname = f"exercises/{name}/{name}"
        if lang == "en" and name in copies:
            tree.files[docname + ".ipynb"] = copies[name]
            exercises.append(docname)
        elif lang != "en" and f"{lang}/{name}" in copies:
            # the student copy built from the translated master (exercises/NAME/<lang>/NAME.ipynb)
            tree.files[docname + ".ipynb"] = _unwrap_notebook(copies[f"{lang}/{name}"])
            exercises.append(docname)
        elif lang != "en" and name in copies:
            # no translated master yet: readers are sent to the English student copy
            tree.missing.append(f"exercises/{name}/{lang}/{name}.ipynb")
            missing_pages.append((docname, _notebook_title(copies[name]), "en"))
    datasets = root / "datasets"
    tree.files["datasets/README.md"] = _untranslated_note(lang, (datasets / "README.md").read_text(encoding="utf-8")).encode()
    real = _real_datasets(root)
    children = "\n".join(f"{folder}/README" for folder, _, _ in real)
    real_index = (datasets / "real" / "README.md").read_text(encoding="utf-8")
    real_index += f"\n```{{toctree}}\n:hidden:\n\n{children}\n```\n"
    tree.files["datasets/real/README.md"] = _untranslated_note(lang, real_index).encode()
    for folder, _, _ in real:
        text = (datasets / "real" / folder / "README.md").read_text(encoding="utf-8")
        tree.files[f"datasets/real/{folder}/README.md"] = _untranslated_note(lang, text).encode()
    tree.files["glossary.md"] = _glossary_page(lang).encode()
    tree.files["sources.md"] = _sources_page(lang, root).encode()
    if lang == "en":
        for path, text in _api_pages(root, modules).items():
            tree.files[path] = text.encode()
    else:
        tree.files["api/index.md"] = _api_stub_page(root, modules).encode()
    reference = ["datasets/README", "datasets/real/README", "glossary", "sources", "api/index"]
    tree.files["index.md"] = _index_page(lang, notebooks, research, exercises, reference,
                                         missing_pages).encode()
    return tree


def _sync(files: dict[str, bytes | Path], dest: Path) -> int:
    """Make ``dest`` hold exactly ``files``; unchanged files keep their mtime (Sphinx then
    rebuilds only what changed). Returns the number of files written."""
    dest.mkdir(parents=True, exist_ok=True)
    written = 0
    for rel, content in files.items():
        data = content.read_bytes() if isinstance(content, Path) else content
        target = dest / rel
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written += 1
    wanted = {dest / rel for rel in files}
    for path in sorted(dest.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return written


def assemble(root=None, src_dir="build/site-src", *, languages: Iterable[str] = ("en", "zh"),
             student_copies: dict[str, Path] | None = None) -> dict[str, _Tree]:
    """Write the Sphinx source tree of each language into ``src_dir/<lang>/``.

    ``student_copies`` maps exercise names to built student notebooks (see ``build_site``);
    without it the trees have no exercise pages. Returns the trees (files, missing twins).
    """
    root = _find_root(root)
    languages = list(languages)
    for lang in languages:
        _check_lang(lang)
    src_dir = Path(src_dir)
    if not src_dir.is_absolute():
        src_dir = root / src_dir
    modules = public_modules(root)
    trees = {lang: _tree(root, lang, student_copies or {}, modules) for lang in LANGUAGES}
    for lang in languages:
        tree, other = trees[lang], trees[_other(lang)]
        site = {
            "lang": lang,
            "sphinx_language": LANGUAGES[lang].sphinx_language,
            "search_language": LANGUAGES[lang].search_language,
            "title": LANGUAGES[lang].title,
            "footer": _TEXT[lang]["footer"],
            "other": _other(lang),
            "other_name": LANGUAGES[_other(lang)].name,
            "other_hreflang": LANGUAGES[_other(lang)].hreflang,
            "other_docs": other.docnames + list(_BUILTIN_PAGES),
            "switch_exact": _TEXT[lang]["switch_exact"],
            "switch_fallback": _TEXT[lang]["switch_fallback"],
            "switch_aria": _TEXT[lang]["switch_aria"],
            "allowlist": str(ALLOWLIST),
            "work_dir": (src_dir / ".work" / lang).as_posix(),
        }
        tree.files["_site.json"] = json.dumps(site, ensure_ascii=False, indent=1).encode()
        _sync(tree.files, src_dir / lang)
    return {lang: trees[lang] for lang in languages}


def _other(lang: str) -> str:
    return "zh" if lang == "en" else "en"


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------

@dataclass
class SiteBuild:
    """What :func:`build_site` did."""

    out: Path
    languages: list[str]
    seconds: float
    pages: dict[str, int]                       # language -> HTML pages written
    missing: dict[str, list[str]]               # language -> repository files with no page yet
    allowed_warnings: list[dict] = field(default_factory=list)
    stale_allowlist: list[str] = field(default_factory=list)


def _run_sphinx(src: Path, out: Path, doctrees: Path, log: Callable[[str], None]) -> dict:
    report = doctrees / "crmlab-warnings.json"
    report.unlink(missing_ok=True)
    # -E: a fresh environment, so every warning (and so every allow-list entry) shows each time
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-W", "--keep-going", "-q",
           "-d", str(doctrees), str(src), str(out)]
    env = dict(os.environ, PYTHONHASHSEED="0", CRMLAB_SITE_REPORT=str(report))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    for line in proc.stdout:  # stream, so a long build shows its progress and its warnings
        line = line.rstrip("\n")
        lines.append(line)
        log(line)
    if proc.wait() != 0:
        problems = [x for x in lines if "WARNING" in x or "ERROR" in x] or lines[-20:]
        raise SiteError(f"sphinx-build {src.name} failed with {len(problems)} warning(s)/error(s) "
                        "(warnings are errors):\n  " + "\n  ".join(problems[:60]),
                        fix="fix the page or docstring named in each warning; a docstring warning "
                            f"that cannot be fixed now may go, temporarily, into {ALLOWLIST}")
    return json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {}


_CHOOSER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>crmlab: a course in CRM analytics · 客户关系管理分析课程</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, "Noto Sans CJK SC",
  "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 40rem;
  margin: 12vh auto; padding: 0 1.2rem; line-height: 1.5; color: #222; }
a.lang { display: block; font-size: 1.35rem; padding: 0.8rem 1rem; margin: 0.8rem 0;
  border: 1px solid #bbb; border-radius: 0.4rem; text-decoration: none; color: #0a58ca; }
a.lang:hover { background: #f3f6fb; }
</style></head>
<body>
<h1>crmlab</h1>
<p>A course in customer relationship management (CRM) analytics, on a synthetic company world
with planted truth. 基于带有预设真值的合成公司世界的客户关系管理分析课程。</p>
<a class="lang" href="en/index.html" hreflang="en">English edition</a>
<a class="lang" href="zh/index.html" hreflang="zh-CN" lang="zh-CN">中文版</a>
</body></html>
"""


def build_site(out="build/site", *, root=None, src_dir="build/site-src",
               languages: Iterable[str] = ("en", "zh"), fast: bool = False,
               log: Callable[[str], None] = print) -> SiteBuild:
    """Build the course site into ``out`` (``make site``; ``crmlab site build``).

    ``fast`` leaves out the exercises' student copies (their build runs otter-grader for every
    exercise); everything else is the same. Relative ``out``/``src_dir`` are taken from
    ``root``, the repository root. Raises :class:`SiteError` on any Sphinx warning not in the
    allow-list, and on a broken internal link or an external fetch (:func:`check_site`).
    """
    start = time.perf_counter()
    root = _find_root(root)
    languages = list(languages)
    if not languages:
        raise ParameterError("languages is empty", fix=f"pass some of {sorted(LANGUAGES)}")
    for lang in languages:
        _check_lang(lang)
    out, src_dir = (Path(p) if Path(p).is_absolute() else root / p for p in (out, src_dir))
    with tempfile.TemporaryDirectory(prefix="crmlab-site-") as tmp:
        copies = {} if fast else _student_copies(root, Path(tmp), log)
        trees = assemble(root, src_dir, languages=languages, student_copies=copies)
    missing = {lang: tree.missing for lang, tree in trees.items() if tree.missing}
    for lang, files in missing.items():
        log(f"site: {lang}: {len(files)} page(s) have no {LANGUAGES[lang].name} version yet and are "
            f"skipped (readers are sent to the other edition): " + ", ".join(files))
    allowed, stale_sets = [], []
    pages = {}
    for lang in languages:
        log(f"site: sphinx-build {lang} -> {out / lang}")
        # Sphinx writes into a staging folder beside the sources: myst-nb puts the figures it
        # extracts into <output>/../jupyter_execute, which must not end up in the site.
        staging = src_dir / ".work" / lang / "html"
        shutil.rmtree(staging, ignore_errors=True)
        report = _run_sphinx(src_dir / lang, staging, src_dir / ".work" / lang / "doctrees", log)
        shutil.rmtree(out / lang, ignore_errors=True)  # no page left over from an earlier build
        out.mkdir(parents=True, exist_ok=True)
        shutil.move(staging, out / lang)
        allowed += report.get("allowed", [])
        stale_sets.append(set(report.get("stale", [])))
        pages[lang] = sum(1 for _ in (out / lang).rglob("*.html"))
    (out / "index.html").write_text(_CHOOSER, encoding="utf-8")
    (out / ".nojekyll").write_text("", encoding="utf-8")  # GitHub Pages: serve _static/ as is
    problems = check_site(out, require_languages=languages)
    if problems:
        raise SiteError(f"the built site in {out} has {len(problems)} problem(s):\n  "
                        + "\n  ".join(problems[:60]),
                        fix="fix the page that links to a missing target, or the asset fetched "
                            "from the network (the site must work offline)")
    stale = sorted(set.intersection(*stale_sets)) if stale_sets and "en" in languages else []
    if allowed:
        log(f"site: {len(allowed)} docstring warning(s) tolerated by the TEMPORARY allow-list "
            f"{ALLOWLIST.name} (fix the docstrings, then empty the list)")
    for entry in stale:
        log(f"site: allow-list entry matched no warning (remove it): {entry}")
    return SiteBuild(out, languages, time.perf_counter() - start, pages, missing, allowed, stale)


# --------------------------------------------------------------------------------------------
# Checking the built site: internal links, anchors, nothing fetched from the network
# --------------------------------------------------------------------------------------------

# (tag, attribute) pairs whose URL the browser loads by itself, as opposed to a link the reader
# may follow.
_FETCHED = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"),
            ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data"),
            ("video", "poster"), ("input", "src")}
_FETCHED_REL = {"stylesheet", "preload", "icon", "shortcut", "modulepreload", "prefetch",
                "apple-touch-icon", "manifest", "preconnect", "dns-prefetch"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, bool]] = []   # (tag, url, fetched by the browser)
        self._open_a: int | None = None                # index in urls of the <a> being read

    def handle_endtag(self, tag):
        if tag == "a":
            self._open_a = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "span" and "problematic" in (a.get("class") or "").split() and self._open_a is not None:
            # docutils' link from a markup error to its (removed) message: it exists only
            # because of a warning, which the build already reported or allow-listed.
            self.urls.pop(self._open_a)
            self._open_a = None
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "link" and a.get("href"):
            rel = set((a.get("rel") or "").lower().split())
            self.urls.append((tag, a["href"], bool(rel & _FETCHED_REL)))
        elif tag in ("a", "area") and a.get("href"):
            self.urls.append((tag, a["href"], False))
            self._open_a = len(self.urls) - 1 if tag == "a" else None
        for t, attr in _FETCHED:
            if tag == t and a.get(attr):
                self.urls.append((tag, a[attr], True))
        if a.get("srcset"):
            for part in a["srcset"].split(","):
                if part.strip():
                    self.urls.append((tag, part.split()[0], True))
        if a.get("style") and "url(" in a["style"]:
            for url in re.findall(r"url\(['\"]?([^'\")]+)", a["style"]):
                self.urls.append((tag, url, True))


def _parse(path: Path, cache: dict) -> _Page:
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


def check_site(site, require_languages: Iterable[str] = ("en", "zh")) -> list[str]:
    """Problems of a built site (empty when it is fine).

    Every page of every language tree is parsed: an internal link, image or script that
    points to no file, a ``#fragment`` that names no element of its page, and anything the
    browser would fetch from another host (scripts, style sheets, fonts, images; also
    ``url(...)`` and ``@import`` in the CSS) is a problem. Links the reader may follow to
    other sites are allowed.
    """
    site = Path(site)
    problems = []
    for lang in require_languages:
        if not (site / lang / "index.html").is_file():
            problems.append(f"{lang}/index.html is missing (was the {lang} tree built?)")
    cache: dict[Path, _Page] = {}
    for page_path in sorted(site.rglob("*.html")):
        rel = page_path.relative_to(site).as_posix()
        page = _parse(page_path, cache)
        for tag, url, fetched in page.urls:
            parts = urlsplit(url)
            if parts.scheme in ("mailto", "javascript", "data", "tel") or url.startswith("{"):
                continue
            if parts.scheme or url.startswith("//"):
                if fetched:
                    problems.append(f"{rel}: <{tag}> loads {url} from the network")
                continue
            if not parts.path:
                target = page_path
            else:
                target = (page_path.parent / unquote(parts.path)).resolve()
                if target.is_dir():
                    target = target / "index.html"
            if not target.exists():
                problems.append(f"{rel}: <{tag}> {url} points to no file")
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html" and frag not in _parse(target, cache).ids:
                problems.append(f"{rel}: {url}: no element with id {frag!r} in "
                                f"{target.relative_to(site.resolve()) if target.is_relative_to(site.resolve()) else target}")
    for css in sorted(site.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        for url in re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)", text):
            problems.append(f"{css.relative_to(site).as_posix()}: loads {url} from the network")
    return problems


def expected_pages(root=None, *, exercises: bool = True) -> list[str]:
    """HTML pages, relative to the site folder, that a complete English build must have.

    Every course and research notebook, every exercise (when built), every API module, and
    the glossary, sources, data dictionary and real datasets' pages, in both trees where the
    page exists in the language.
    """
    root = Path(root or REPO_ROOT)
    pages = ["index.html", "en/index.html", "zh/index.html", "en/glossary.html", "zh/glossary.html",
             "en/sources.html", "zh/sources.html", "en/datasets/README.html", "en/search.html",
             "en/api/index.html", "zh/api/index.html"]
    for lang in LANGUAGES:
        pages += [f"{lang}/{doc}.html" for doc, src in _course_notebooks(root, lang) if src.is_file()]
    pages += [f"en/api/{m}.html" for m in public_modules(root)]
    pages += [f"en/datasets/real/{folder}/README.html" for folder, _, _ in _real_datasets(root)]
    if exercises:
        pages += [f"en/exercises/{n}/{n}.html" for n in _exercise_names(root)]
        pages += [f"zh/exercises/{n}/{n}.html" for n in _exercise_names(root)
                  if twin_path(root / "exercises" / n / f"{n}.ipynb").is_file()]
    return pages


# --------------------------------------------------------------------------------------------
# The Sphinx extension (loaded by conf.py as "crmlab.course.site")
# --------------------------------------------------------------------------------------------

def _site_config(app) -> dict:
    if not hasattr(app, "_crmlab_site"):
        app._crmlab_site = json.loads((Path(app.srcdir) / "_site.json").read_text(encoding="utf-8"))
    return app._crmlab_site


def _nearest(docname: str, available: set[str]) -> tuple[str, bool]:
    """The page of the other tree that the switch on ``docname`` leads to, and whether it is
    the same page: the same docname, else the index of the nearest folder, else the home page."""
    if docname in available:
        return docname, True
    parts = docname.split("/")[:-1]
    while parts:
        for candidate in ("/".join(parts) + "/index", "/".join(parts) + "/README"):
            if candidate in available:
                return candidate, False
        parts.pop()
    return "index", False


def _page_context(app, pagename, templatename, context, doctree) -> None:
    site = _site_config(app)
    target, exact = _nearest(pagename, set(site["other_docs"]))
    context["crmlab_switch"] = {
        "href": _up(pagename) + site["other"] + "/" + target + ".html",
        "label": site["other_name"],
        "hreflang": site["other_hreflang"],
        "title": site["switch_exact" if exact else "switch_fallback"],
        "aria": site["switch_aria"],
        "exact": exact,
    }


def _mathml(latex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    return convert(latex, display="block" if display else "inline")


def _visit_math(self, node) -> None:
    from docutils import nodes

    latex = node.astext()
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    try:
        self.body.append(_mathml(latex, False))
    except Exception as err:  # latex2mathml raises plain exceptions on TeX it does not know
        _sphinx_logger().warning("cannot convert math %r to MathML: %s", latex, err, location=node)
        self.body.append(self.encode(latex))
    self.body.append("</span>")
    raise nodes.SkipNode


def _visit_displaymath(self, node) -> None:
    from docutils import nodes
    from sphinx.util.math import get_node_equation_number

    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node.get("number"):
        self.body.append(f'<span class="eqno">({get_node_equation_number(self, node)})')
        self.add_permalink_ref(node, "Link to this equation")
        self.body.append("</span>")
    for part in (p for p in node.astext().split("\n\n") if p.strip()):
        try:
            self.body.append(_mathml(part, True))
        except Exception as err:  # see _visit_math
            _sphinx_logger().warning("cannot convert math %r to MathML: %s", part, err, location=node)
            self.body.append(f"<pre>{self.encode(part)}</pre>")
    self.body.append("</div>\n")
    raise nodes.SkipNode


def _sphinx_logger():
    from sphinx.util import logging as sphinx_logging

    return sphinx_logging.getLogger("crmlab.course.site")


def read_allowlist(path=ALLOWLIST) -> list[tuple[str, str]]:
    """Entries ``(object, message text)`` of the docstring-warning allow-list."""
    entries = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if " | " not in line:
            raise SiteError(f"{path}, line {number}: expected 'object | message text', got {line!r}",
                            fix="write the dotted object name, ' | ', then part of the warning text")
        obj, text = (x.strip() for x in line.split(" | ", 1))
        entries.append((obj, text))
    return entries


class _AllowList(logging.Filter):
    """Drops a warning located in a docstring when the allow-list names its object and text.

    Installed in front of Sphinx's own warning filters, so an allowed warning is neither
    counted (-W) nor printed as a warning; it is printed as 'allowed' and written to the build
    report instead.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.entries = read_allowlist(path) if path.is_file() else []
        self.used: set[int] = set()
        self.allowed: list[dict] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        location = _location_text(getattr(record, "location", None))
        # A docstring's own location, or (module docstrings) the module's API page.
        match = (re.search(r"docstring of ([\w.]+)", location)
                 or re.search(r"\bapi/(crmlab[\w.]*)\.rst:", location))
        if not match:
            return True
        obj, message = match.group(1), record.getMessage()
        for i, (entry_obj, text) in enumerate(self.entries):
            if obj == entry_obj and text in message:
                self.used.add(i)
                self.allowed.append({"module": obj.rsplit(".", 1)[0] if obj.count(".") > 1 else obj,
                                     "object": obj, "warning": message.strip()})
                first = message.strip().splitlines()[0]
                print(f"allowed (temporary allow-list): {location}: {first}", file=sys.stderr)
                return False
        return True

    def stale(self) -> list[str]:
        return [f"{o} | {t}" for i, (o, t) in enumerate(self.entries) if i not in self.used]


def _location_text(location) -> str:
    if location is None:
        return ""
    if isinstance(location, str):
        return location
    if isinstance(location, tuple):
        return ":".join(str(x) for x in location if x is not None)
    from sphinx.util.logging import get_node_location

    return get_node_location(location) or ""


def _install_allowlist(app) -> _AllowList:
    from sphinx.util.logging import NAMESPACE, WarningStreamHandler

    path = Path(_site_config(app).get("allowlist", ALLOWLIST))
    allow = _AllowList(path)
    for handler in logging.getLogger(NAMESPACE).handlers:
        if isinstance(handler, WarningStreamHandler):
            handler.filters.insert(0, allow)
    return allow


_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


def _search_languages() -> list[type]:
    """Search splitters of both trees, so that a 中文 query finds its words in either edition.

    Sphinx's JavaScript splits a query only at spaces and punctuation, so 客户流失 typed
    without spaces is one query term; it finds pages through Sphinx's partial matching when
    the index holds whole runs of Chinese characters besides the jieba words. The English tree
    (English splitter) gains the jieba words inside its 中文 terms, so 流失 finds 客户流失率.
    """
    from sphinx.search.en import SearchEnglish
    from sphinx.search.zh import SearchChinese

    try:
        from jieba import cut_for_search
    except ImportError:  # without jieba: whole runs only (the Chinese tree needs jieba)
        def cut_for_search(text):
            return []

    class SearchEnglishCJK(SearchEnglish):
        def split(self, input: str) -> list[str]:
            words = super().split(input)
            return words + [w for word in words if _CJK_RUN.search(word)
                            for w in cut_for_search(word) if w != word]

    class SearchChineseRuns(SearchChinese):
        # Sphinx 9.0 ships the English stemmer for Chinese but names it "ChineseStemmer" in the
        # page's JavaScript, which then fails ("ChineseStemmer is not defined") and search finds
        # nothing; the name below makes it load the English stemmer it ships.
        language_name = "English"

        def split(self, input: str) -> list[str]:
            return super().split(input) + [r for r in _CJK_RUN.findall(input) if len(r) > 2]

    return [SearchEnglishCJK, SearchChineseRuns]


def _plain_defaults(app, what, name, obj, options, signature, return_annotation):
    """Shows a default computed by a comprehension as ``...``: Sphinx cannot parse one in a
    signature (``autodoc_preserve_defaults`` keeps defaults as written in the source)."""
    if not signature or " for " not in signature:
        return None
    source = f"def _f{signature}: pass"
    try:
        func = ast.parse(source).body[0]
    except SyntaxError:
        return None
    comprehensions = (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)
    defaults = [d for d in [*func.args.defaults, *func.args.kw_defaults] if d is not None]
    for node in sorted(defaults, key=lambda n: n.col_offset, reverse=True):
        if node.lineno == node.end_lineno == 1 and any(isinstance(n, comprehensions) for n in ast.walk(node)):
            source = source[:node.col_offset] + "..." + source[node.end_col_offset:]
    return source[len("def _f"):-len(": pass")], return_annotation


# numpy sections whose body napoleon parses as "name : type" entries.
_ENTRY_SECTIONS = frozenset({"Parameters", "Other Parameters", "Returns", "Yields", "Receives",
                             "Attributes", "Raises", "Warns", "Keyword Arguments", "Methods"})


def _examples_heading(app, what, name, obj, options, lines) -> None:
    """Doctest lines left inside a Parameters/Returns/... section render as bogus entries
    ("pd (>>> import pandas as)"): warn (a docstring warning, so -W fails unless allow-listed)
    and put the numpy 'Examples' heading above them so the page reads right meanwhile."""
    section = None
    for i, line in enumerate(lines):
        text = line.strip()
        if i + 1 < len(lines) and text and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            section = text
        elif text.startswith(">>>") and section in _ENTRY_SECTIONS:
            _sphinx_logger().warning(
                "doctest lines inside the numpy section %r (they render as its entries): put them "
                "under an 'Examples' heading", section, location=f"docstring of {name}")
            indent = line[: len(line) - len(line.lstrip())]
            blank = [""] if i and lines[i - 1].strip() else []
            lines[i:i] = [*blank, indent + "Examples", indent + "--------"]
            return


def setup(app) -> dict:
    """Sphinx extension: MathML math, the language switch, the allow-list, CJK-aware search."""
    from pygments.lexers.special import TextLexer

    # Mermaid diagrams (JupyterLab draws them) are shown as their text: no mermaid.js from a CDN.
    app.add_lexer("mermaid", TextLexer)
    app.connect("autodoc-process-signature", _plain_defaults)
    app.connect("autodoc-process-docstring", _examples_heading, priority=400)  # before napoleon
    app.add_html_math_renderer("crmlab_mathml", (_visit_math, None), (_visit_displaymath, None))
    app.connect("html-page-context", _page_context)
    for language in _search_languages():
        app.add_search_language(language)
    try:  # jieba announces its dictionary on stderr at every build
        import jieba

        jieba.setLogLevel(logging.WARNING)
    except ImportError:
        pass
    allow = _install_allowlist(app)

    def _report(app, exception) -> None:
        target = os.environ.get("CRMLAB_SITE_REPORT")
        if target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(json.dumps({"allowed": allow.allowed, "stale": allow.stale()},
                                               ensure_ascii=False, indent=1), encoding="utf-8")

    app.connect("build-finished", _report)
    # Not parallel-safe: the allow-list collects warnings in this process.
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}
