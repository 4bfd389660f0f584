"""The Chinese twins (中文版): the machinery that keeps them in step with the English notebooks,
and (once a twin exists) the check that its code and outputs equal the English notebook's and
every markdown cell is translated against the current English text."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from crmlab.cli import main
from crmlab.course import translation as tr
from crmlab.errors import DatasetNotFoundError, ParameterError

REPO = Path(__file__).resolve().parents[1]


def _notebook(path: Path, prose=("# Title", "Some text."), code=("x = 1\nx",)) -> Path:
    nb = nbformat.v4.new_notebook()
    cells = []
    for k, text in enumerate(prose):
        cells.append(nbformat.v4.new_markdown_cell(text, id=f"md{k}"))
        if k < len(code):
            c = nbformat.v4.new_code_cell(code[k], id=f"code{k}")
            c.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"}, execution_count=1)]
            c.execution_count = 1
            cells.append(c)
    nb.cells = cells
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def en(tmp_path):
    return _notebook(tmp_path / "notebooks" / "03-topic.ipynb")


def test_sync_copies_code_and_outputs_and_marks_prose(en):
    twin = tr.sync_twin(en)
    assert tr.twin_path(en) == en.parent / "zh" / en.name and tr.twin_path(en).is_file()
    assert [c.get("id") for c in twin.cells] == ["md0", "code0", "md1"]
    problems = tr.check_twin(en)
    assert len(problems) == 2 and all("untranslated" in p for p in problems)


def test_import_translates_and_check_passes(en):
    tr.sync_twin(en)
    assert tr.import_markdown(en, {"md0": "# 标题", "md1": "一些说明文字。"}) == 2
    assert tr.check_twin(en) == []
    # a translation must read as Chinese
    tr.import_markdown(en, {"md1": "Some text, still in English."})
    assert any("does not read as Chinese" in p for p in tr.check_twin(en))


def test_english_edits_make_translations_stale_and_code_drift_is_caught(en):
    tr.sync_twin(en)
    tr.import_markdown(en, {"md0": "# 标题", "md1": "一些说明文字。"})
    nb = nbformat.read(en, 4)
    nb.cells[2].source = "Some text, edited."
    nb.cells[1].outputs[0]["data"]["text/plain"] = "2"  # re-executed English notebook
    nbformat.write(nb, en)
    assert any("outputs differ" in p for p in tr.check_twin(en))
    assert any("stale" in p for p in tr.check_twin(en))
    twin = tr.sync_twin(en)
    assert twin.cells[1].outputs == nb.cells[1].outputs  # outputs copied
    assert twin.cells[2].source == "一些说明文字。"  # the old translation is kept, marked stale
    assert twin.cells[2].metadata["crmlab"]["en_source"] == "Some text, edited."
    assert tr.check_twin(en) == [f"{tr.twin_path(en)} cell 2: markdown stale"]
    todo = tr.export_markdown(en)
    assert [r["id"] for r in todo] == ["md1"] and todo[0]["en"] == "Some text, edited."
    tr.import_markdown(en, {"md1": "一些修改过的说明文字。"})
    assert tr.check_twin(en) == []


def test_a_code_edit_in_the_twin_is_caught(en):
    tr.sync_twin(en)
    tr.import_markdown(en, {"md0": "# 标题", "md1": "一些说明文字。"})
    zh = nbformat.read(tr.twin_path(en), 4)
    zh.cells[1].source = "x = 2\nx"
    nbformat.write(zh, tr.twin_path(en))
    assert any("code differs" in p for p in tr.check_twin(en))


def test_new_english_cells_arrive_untranslated(en):
    tr.sync_twin(en)
    tr.import_markdown(en, {"md0": "# 标题", "md1": "一些说明文字。"})
    nb = nbformat.read(en, 4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A new conclusion.", id="md9"))
    nbformat.write(nb, en)
    assert "not the English notebook's cells" in tr.check_twin(en)[0]
    tr.sync_twin(en)
    assert tr.check_twin(en) == [f"{tr.twin_path(en)} cell 3: markdown untranslated"]


def test_paths_and_bad_input(tmp_path, en):
    assert tr.twin_path("notebooks/research/x.ipynb").as_posix() == "notebooks/zh/research/x.ipynb"
    assert tr.twin_path("exercises/05-x/05-x.ipynb").as_posix() == "exercises/05-x/zh/05-x.ipynb"
    with pytest.raises(ParameterError, match="already a Chinese twin"):
        tr.twin_path("notebooks/zh/03-topic.ipynb")
    assert "missing" in tr.check_twin(en)[0]
    with pytest.raises(DatasetNotFoundError, match="crmlab translate sync"):
        tr.export_markdown(en)
    tr.sync_twin(en)
    with pytest.raises(ParameterError, match="no markdown cells"):
        tr.import_markdown(en, {"code0": "代码"})
    with pytest.raises(DatasetNotFoundError):
        tr.sync_twin(tmp_path / "nope.ipynb")


def test_cli_round_trip(en, tmp_path, capsys):
    assert main(["translate", "sync", str(en)]) == 0
    assert main(["translate", "status", str(en)]) == 1
    cells = tmp_path / "cells.json"
    assert main(["translate", "export", str(en), "--json", str(cells)]) == 0
    rows = json.loads(cells.read_text(encoding="utf-8"))
    for r in rows:
        r["zh"] = "# 标题" if r["id"] == "md0" else "一些说明文字。"
    cells.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    assert main(["translate", "import", str(en), "--json", str(cells)]) == 0
    assert main(["translate", "status", str(en)]) == 0
    assert main(["translate", "export", str(en)]) == 2  # no --json: one clear line, exit 2
    assert "--json" in capsys.readouterr().err


# ------------------------------------------------------------------------------------
# the real twins: every one that exists is in step with its English notebook
# ------------------------------------------------------------------------------------
ENGLISH = tr.english_notebooks(REPO)


def _id(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.parametrize("path", ENGLISH, ids=[_id(p) for p in ENGLISH])
def test_every_notebook_has_a_chinese_twin_in_step(path):
    """The Chinese edition is whole: every course notebook, research notebook and exercise master
    has a twin whose code and outputs equal the English and whose prose is translated from the
    current English text (crmlab translate status lists what to do)."""
    assert tr.twin_path(path).is_file(), f"no Chinese twin of {_id(path)}: crmlab translate sync {_id(path)}"
    assert tr.check_twin(path) == []


def test_the_twins_are_all_there_and_nothing_else():
    twins = {_id(tr.twin_path(p)) for p in ENGLISH}
    found = {_id(p) for p in (REPO / "notebooks" / "zh").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}
    found |= {_id(p) for p in (REPO / "exercises").glob("*/zh/*.ipynb")}
    assert found == twins, f"twins without an English notebook: {sorted(found - twins)}"
    assert len(ENGLISH) == 13 + 4 + 13, [_id(p) for p in ENGLISH]


# ------------------------------------------------------------------------------------
# Chinese typography: CommonMark emphasis next to full-width punctuation
# ------------------------------------------------------------------------------------
def _all_notebooks() -> list[Path]:
    found = [p for en in ENGLISH for p in (en, tr.twin_path(en)) if p.is_file()]
    return found + sorted((REPO / "notebooks" / "exercises").rglob("*.ipynb"))


def test_emphasis_renders_next_to_chinese_punctuation():
    """`**客户资产（customer equity）**的` does not render as bold: CommonMark does not close
    emphasis after a punctuation mark that a letter follows (full-width brackets and quotes count
    as punctuation). Write `**客户资产**（customer equity）的` instead. Checked in every notebook,
    twin and student copy, as JupyterLab and the site (markdown-it) render them."""
    import re

    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark")
    bad = []
    for path in _all_notebooks():
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            html = md.render("".join(cell["source"]))
            text = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", html, flags=re.S)
            if "**" in text:
                bad.append(f"{_id(path)} cell {cell.get('id')}: "
                           + re.search(r".{0,15}\*\*.{0,15}", text).group(0).replace("\n", " "))
    assert not bad, "emphasis that renders as literal **:\n" + "\n".join(bad)
