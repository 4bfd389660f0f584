"""The course holds together: notebooks are stored executed and clean, names stay parallel
across notebooks/, exercises/ and tests/, and the README's links resolve.

nbval re-runs each notebook against its stored outputs; these checks catch what nbval cannot:
a notebook saved without outputs passes nbval trivially, and a warning that quotes an install
path only fails on another machine.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
COURSE = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
ABSOLUTE_PATH = re.compile(r"(/work/|/home/|/tmp/|/Users/|[A-Z]:\\\\)")


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_there_is_a_notebook_per_topic():
    assert [p.name[:2] for p in COURSE] == [f"{i:02d}" for i in range(13)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_executed_and_clean(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert code, "no code cells"
    unexecuted = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not unexecuted, f"code cells {unexecuted} have no stored run: run `crmlab notebooks {path.name}`"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "not executed top to bottom in one fresh kernel"
    for i, c in enumerate(code):
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"cell {i} stores an error"
            assert out.get("name") != "stderr", f"cell {i} stores stderr (a warning?): fix its cause"
            text = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not ABSOLUTE_PATH.search(text), f"cell {i} prints a machine-specific path"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_notebook_teaches_with_synthetic_label_and_course_style(path):
    cells = _cells(path)
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert cells[0]["cell_type"] == "markdown", "start with narrative, not code"
    assert "plots.course_style()" in code
    assert re.search(r"synthetic", markdown, re.IGNORECASE), "say that the data are synthetic"
    assert re.search(r"[\u4e00-\u9fff]", markdown), "give the 中文 terms at first use"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_glossary_comes_from_the_one_glossary(path):
    """Each notebook shows its terms through crmlab.glossary.table, never a hand-typed copy
    that can drift from the glossary (executing the cell checks that every term exists)."""
    cells = _cells(path)
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "glossary.table(" in code, "end with a glossary cell: display(glossary.table(terms=[...]))"
    assert not re.search(r"^\|\s*English\s*\|\s*中文\s*\|", markdown, re.MULTILINE), \
        "a hand-written English/中文 table: list the terms in a glossary.table cell instead"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_names_are_parallel_across_the_tree(path):
    exercise = ROOT / "exercises" / path.stem / f"{path.stem}.ipynb"
    assert exercise.exists(), f"missing exercise master {exercise.relative_to(ROOT)}"


def test_readme_links_resolve():
    for readme in (ROOT / "README.md", ROOT / "exercises" / "README.md", ROOT / "datasets" / "real" / "README.md"):
        text = readme.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if "://" in target:
                continue
            assert (readme.parent / target).exists(), f"{readme.relative_to(ROOT)} links to missing {target}"
