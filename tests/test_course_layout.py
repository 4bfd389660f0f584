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
# the course and research notebooks; the student exercises and the Chinese twins are checked elsewhere
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if not {"exercises", "zh"} & set(p.relative_to(ROOT / "notebooks").parts))
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


def test_min_constraints_pin_exactly_the_floors_of_pyproject():
    """`make test-min` installs constraints-min.txt: it must hold each direct dependency's floor,
    so that the floors users install from are the versions the unit tests ran with."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] + [d for extra in ("dev", "grading", "scale")
                                       for d in project["optional-dependencies"][extra]]
    floors = {}
    for spec in specs:
        req = Requirement(spec)
        lower = [s.version for s in req.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{spec}: give every direct dependency one `>=` floor"
        floors[canonicalize_name(req.name)] = Version(lower[0])
    pins = {}
    for line in (ROOT / "constraints-min.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version.strip())
    assert pins == floors, "update constraints-min.txt to the floors of pyproject.toml (or the reverse)"


def _imported(node, package=("crmlab", "course")):
    """Absolute names an import statement inside ``package`` brings in."""
    import ast

    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = list(package[: len(package) - node.level + 1]) if node.level else []
    module = ".".join(base + ([node.module] if node.module else []))
    return [module] + [f"{module}.{a.name}" for a in node.names]


def test_course_machinery_does_not_import_the_topic_modules():
    """crmlab.course (grading, notebook maintenance) stays apart from the analytics library."""
    import ast

    topics = ("clv", "segmentation", "satisfaction", "satisfaction_index", "loyalty", "churn",
              "experiments", "strategy", "data_quality", "service", "kpi", "cases")

    def offending(node):
        return [n for n in _imported(node) if any(n == f"crmlab.{t}" or n.startswith(f"crmlab.{t}.")
                                                  for t in topics)]

    assert offending(ast.parse("from .. import churn").body[0]) == ["crmlab.churn"]
    assert offending(ast.parse("from ..clv import BetaGeoFitter").body[0]) == ["crmlab.clv", "crmlab.clv.BetaGeoFitter"]
    assert offending(ast.parse("from .notebooks import deterministic_env").body[0]) == []
    for path in sorted((ROOT / "crmlab" / "course").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                assert not offending(node), f"{path.name} imports a topic module: {ast.unparse(node)}"
