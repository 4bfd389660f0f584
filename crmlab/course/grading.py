"""Offline exercise pipeline: build student copies and autograders, check them, grade a class.

Each exercise is an otter-grader master notebook, ``exercises/NN-topic/NN-topic.ipynb``, that
holds the questions, the solutions and the tests (see ``exercises/README.md`` for the format).
This module wraps otter-grader 7 without Docker:

- :func:`build_exercise` / :func:`build_all` run ``otter assign``: a student copy (no solutions,
  no hidden tests) and an autograder (notebook + zip) per exercise, in ``build/exercises/NAME/``;
- :func:`check_student_copy` lists what a student copy must not contain: solution text, hidden
  test code (in the notebook or any file shipped beside it), otter markers left over, answers
  pre-filled outside the solution blocks;
- :func:`grade_submissions` grades a folder of submitted notebooks into one tidy CSV row per
  submission; a crashing, foreign or garbage file gets a row with an error, it never stops the
  batch. With a seed map each submission is graded against the world of its own seed.

The notebook format needs nothing but the standard library to read:

>>> from crmlab.course.grading import read_assignment_config
>>> read_assignment_config("exercises/00-welcome-and-data-tour/00-welcome-and-data-tour.ipynb")["name"]
'00-welcome-and-data-tour'

Building and grading run otter-grader (``pip install 'crmlab[grading]'``) and take seconds each::

    >>> from crmlab.course.grading import build_all, grade_submissions
    >>> builds = build_all()                                    # doctest: +SKIP
    >>> grades = grade_submissions("submissions", out_csv="grades.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import ast
import builtins
import csv
import json
import numbers
import os
import re
import shutil
import sys
import tempfile
import textwrap
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import __version__
from ..errors import CrmlabError, DatasetNotFoundError, OutputExistsError, ParameterError
from ..validation import check_output_file, check_scalar
from .notebooks import deterministic_env

__all__ = [
    "ExerciseBuild",
    "read_assignment_config",
    "discover_masters",
    "build_exercise",
    "build_all",
    "check_student_copy",
    "grade_submissions",
    "world_for_seed",
    "read_seed_map",
]

_OTTER_FIX = "install the grading extra: pip install 'crmlab[grading]' (otter-grader)"
_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


# --------------------------------------------------------------------------------------------
# Reading master notebooks
# --------------------------------------------------------------------------------------------

def _read_notebook(path, what: str = "notebook"):
    """nbformat v4 node of ``path`` (or ``path`` itself if it already is a notebook node)."""
    import nbformat

    if isinstance(path, Mapping):
        return nbformat.from_dict(path)
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"{what} {path} does not exist", fix="pass the path of an existing .ipynb file")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises json, validation and reader errors
        raise ParameterError(f"{what} {path} is not a readable Jupyter notebook ({type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else ''})",
                             fix="pass an .ipynb file saved by Jupyter") from None


def _lines(cell) -> list[str]:
    return str(cell.get("source", "")).split("\n")


def _unfence(cell):
    """A markdown cell that holds only a ```otter fenced block counts as a raw cell (otter rule)."""
    if cell.get("cell_type") != "markdown":
        return cell
    lines = _lines(cell)
    if len(lines) >= 2 and lines[0].strip() == "```otter" and lines[-1].strip() == "```":
        return {"cell_type": "raw", "source": "\n".join(lines[1:-1]), "metadata": {}}
    return cell


_BOUNDARY = re.compile(r"#\s+(begin|end)\s+(question|prompt|solution|tests)\s*$", re.IGNORECASE)
_CONFIG_CELL = re.compile(r"#\s+assignment\s+config\s*$", re.IGNORECASE)


def _boundary(cell) -> tuple[str, str] | None:
    cell = _unfence(cell)
    if cell.get("cell_type") != "raw":
        return None
    match = _BOUNDARY.match(_lines(cell)[0].strip())
    return (match.group(1).lower(), match.group(2).lower()) if match else None


def read_assignment_config(master) -> dict:
    """The ``# ASSIGNMENT CONFIG`` raw cell of an otter master notebook, parsed as YAML.

    Raises :class:`~crmlab.errors.ParameterError` if ``master`` is not a notebook, has no
    config cell, or the config has no ``name`` (the pipeline identifies exercises by it).

    >>> read_assignment_config("exercises/00-welcome-and-data-tour/00-welcome-and-data-tour.ipynb")["run_tests"]
    False
    """
    import yaml

    nb = _read_notebook(master, "master notebook")
    where = master if not isinstance(master, Mapping) else "the master notebook"
    for cell in nb.cells:
        cell = _unfence(cell)
        lines = _lines(cell)
        if cell.get("cell_type") == "raw" and _CONFIG_CELL.match(lines[0].strip()):
            try:
                config = yaml.safe_load("\n".join(lines[1:])) or {}
            except yaml.YAMLError as err:
                raise ParameterError(f"the ASSIGNMENT CONFIG cell of {where} is not valid YAML: {err}",
                                     fix="indent the YAML keys consistently (see exercises/README.md)") from None
            if not isinstance(config, dict) or not config.get("name"):
                raise ParameterError(f"the ASSIGNMENT CONFIG cell of {where} has no `name:`",
                                     fix="add `name: NN-topic` (the exercise folder's name)")
            return config
    raise ParameterError(f"{where} is not an otter master notebook: no raw cell starting with "
                         "`# ASSIGNMENT CONFIG`",
                         fix="start the notebook with a raw cell `# ASSIGNMENT CONFIG` + YAML "
                             "(see exercises/README.md)")


@dataclass
class _Question:
    name: str
    solution_cells: list = field(default_factory=list)      # (cell_type, source, tags)
    public_tests: list[str] = field(default_factory=list)
    hidden_tests: list[str] = field(default_factory=list)
    other_code: list[str] = field(default_factory=list)     # prompts and scaffolds inside the question
    other_text: list[str] = field(default_factory=list)


@dataclass
class _Master:
    questions: list[_Question]
    setup_code: list[str]          # code outside any question
    text: list[str]                # markdown outside solution blocks


def _test_config(source: str) -> tuple[bool, str]:
    """(hidden?, test body) of a test cell, following otter's two conventions."""
    import yaml

    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("#"):
        return bool(re.search(r"\bhidden\b", lines[0], re.IGNORECASE)), "\n".join(lines[1:])
    if lines and re.match(r'\s*"""\s*#\s*BEGIN\s+TEST\s+CONFIG', lines[0], re.IGNORECASE):
        for end, line in enumerate(lines[1:], start=1):
            if re.match(r'\s*"""\s*#\s*END\s+TEST\s+CONFIG', line, re.IGNORECASE):
                try:
                    config = yaml.safe_load("\n".join(lines[1:end])) or {}
                except yaml.YAMLError:
                    config = {}
                hidden = bool(config.get("hidden", False)) if isinstance(config, dict) else False
                return hidden, "\n".join(lines[end + 1:])
    return False, source


def _parse_master(nb) -> _Master:
    import yaml

    questions: list[_Question] = []
    setup_code: list[str] = []
    text: list[str] = []
    question: _Question | None = None
    block: str | None = None
    for index, cell in enumerate(nb.cells):
        kind = cell.get("cell_type")
        mark = _boundary(cell)
        if mark is not None:
            edge, name = mark
            if name == "question":
                if edge == "begin":
                    try:
                        config = yaml.safe_load("\n".join(_lines(_unfence(cell))[1:])) or {}
                    except yaml.YAMLError:
                        config = {}
                    qname = config.get("name") if isinstance(config, dict) else None
                    question = _Question(name=str(qname or f"question at cell {index}"))
                    questions.append(question)
                else:
                    question, block = None, None
            else:
                block = name if edge == "begin" else None
            continue
        source = str(cell.get("source", ""))
        if kind == "raw":
            continue
        if question is not None and block == "solution":
            question.solution_cells.append((kind, source, list(cell.get("metadata", {}).get("tags", []))))
        elif question is not None and block == "tests" and kind == "code":
            hidden, body = _test_config(source)
            (question.hidden_tests if hidden else question.public_tests).append(body)
        elif kind == "code":
            (question.other_code if question is not None else setup_code).append(source)
        else:
            (question.other_text if question is not None else text).append(source)
    return _Master(questions, setup_code, text)


# --------------------------------------------------------------------------------------------
# Canonical code units: compare code by meaning, not by spacing or quote style (otter rewrites
# test code with ast.unparse before it ships it).
# --------------------------------------------------------------------------------------------

_SOLUTION_TAIL = re.compile(r"\s*#\s?SOLUTION\b.*$")


def _strip_prompts(text: str) -> str:
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(">>> ") or stripped == ">>>":
            out.append(stripped[4:])
        elif stripped.startswith("... ") or stripped == "...":
            out.append(stripped[4:] if stripped.startswith("... ") else "")
        else:
            out.append(line)
    return "\n".join(out)


def _norm_line(line: str) -> str:
    return " ".join(line.split())


def _line_unit(line: str) -> str | None:
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    try:
        body = ast.parse(line).body
    except SyntaxError:
        return _norm_line(line)
    return ast.unparse(body[0]) if len(body) == 1 else _norm_line(line)


def _code_units(source: str) -> set[str]:
    """Every statement of ``source`` (nested ones too) as ``ast.unparse`` text, plus each line."""
    units = {u for line in source.split("\n") if (u := _line_unit(line))}
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:  # magics, prose in a code cell, half a block
        return units
    units.update(ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.stmt))
    return units


def _trivial(unit: str) -> bool:
    """Units that give nothing away: `...`, `pass`, a bare name, imports, very short lines."""
    if len(unit) < 6:
        return True
    try:
        body = ast.parse(unit).body
    except SyntaxError:
        return False
    if len(body) != 1:
        return False
    node = body[0]
    if isinstance(node, ast.Import | ast.ImportFrom | ast.Pass):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Name | ast.Constant | ast.Attribute)


def _solution_units(source: str) -> tuple[set[str], bool]:
    """(solution units of a solution cell, whether it carries any solution marker)."""
    units: set[str] = set()
    marked = False
    block: list[str] | None = None
    for line in source.split("\n"):
        stripped = line.rstrip()
        if re.match(r"\s*# BEGIN SOLUTION", stripped):
            block, marked = [], True
            continue
        if stripped.endswith("# END SOLUTION") and block is not None:
            units |= _code_units("\n".join(block))
            block = None
            continue
        if block is not None:
            block.append(line)
        elif _SOLUTION_TAIL.search(stripped):
            marked = True
            if unit := _line_unit(_SOLUTION_TAIL.sub("", stripped)):
                units.add(unit)
    return units, marked


def _bound_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _parse(source: str) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None


def _tested_names(question: _Question, setup_names: set[str]) -> set[str]:
    """Variables a question's tests read from the student's namespace (the answers)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for test in question.public_tests + question.hidden_tests:
        tree = _parse(test)
        if tree is None:
            continue
        bound |= _bound_names(tree)
        loaded |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loaded - bound - setup_names - set(dir(builtins))


# --------------------------------------------------------------------------------------------
# What a student receives
# --------------------------------------------------------------------------------------------

_MARKER = re.compile(
    r'^\s*(?:"""\s*)?#\s*(?:BEGIN|END)\s+(?:SOLUTION|QUESTION|TESTS|TEST\s+CONFIG|PROMPT)\b'
    r"|^\s*#\s*ASSIGNMENT\s+CONFIG\b",
    re.IGNORECASE | re.MULTILINE,
)
_SOLUTION_MARK = re.compile(r"#\s?SOLUTION\b")


@dataclass
class _Shipped:
    """Everything a student receives, as (location, text, is_code) pieces."""

    pieces: list[tuple[str, str, bool]] = field(default_factory=list)
    code_cells: list[tuple[str, str]] = field(default_factory=list)
    hidden_flags: list[str] = field(default_factory=list)

    def add_notebook(self, nb, label: str) -> None:
        for i, cell in enumerate(nb.cells, start=1):
            where = f"{label}, cell {i}"
            source = str(cell.get("source", ""))
            kind = cell.get("cell_type")
            self.pieces.append((where, source, kind == "code"))
            if kind == "code":
                self.code_cells.append((where, source))
            elif kind == "raw":
                self.pieces.append((where + " (raw)", source, True))
        tests = (nb.metadata.get("otter") or {}).get("tests") or {}
        for qname, test in tests.items() if isinstance(tests, Mapping) else ():
            for suite in test.get("suites", []) if isinstance(test, Mapping) else ():
                for case in suite.get("cases", []):
                    code = _strip_prompts(str(case.get("code", "")))
                    self.pieces.append((f"{label}, metadata test {qname}", code, True))
                    if case.get("hidden"):
                        self.hidden_flags.append(f"{label}: test case of {qname} is marked hidden")

    def add_file(self, path: Path, label: str) -> None:
        if path.suffix == ".ipynb":
            try:
                self.add_notebook(_read_notebook(path), label)
                return
            except CrmlabError:
                pass
        if path.suffix == ".zip":
            try:
                with zipfile.ZipFile(path) as zf:
                    for member in zf.namelist():
                        if not member.endswith("/") and zf.getinfo(member).file_size < 5_000_000:
                            text = zf.read(member).decode("utf-8", errors="ignore")
                            self.pieces.append((f"{label}:{member}", text, member.endswith(".py")))
            except zipfile.BadZipFile:
                pass
            return
        if path.stat().st_size < 5_000_000:
            text = path.read_text(encoding="utf-8", errors="ignore")
            self.pieces.append((label, text, True))

    def units(self) -> dict[str, str]:
        """Canonical code units and normalised text lines -> first location."""
        found: dict[str, str] = {}
        for where, text, is_code in self.pieces:
            for unit in (_code_units(text) if is_code else set()):
                found.setdefault(unit, where)
            for line in text.split("\n"):
                if norm := _norm_line(line):
                    found.setdefault(norm, where)
        return found


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def check_student_copy(student_nb, master_nb, shipped_dir=None) -> list[str]:
    """Problems that make a student copy give answers away; ``[]`` when it is clean.

    ``student_nb`` is the student notebook written by ``otter assign`` (a path or a notebook
    node), ``master_nb`` its master. Every file under ``shipped_dir`` (default: the folder of
    ``student_nb``, i.e. ``build/exercises/NAME/student``) counts as shipped to students.
    Reported:

    - solution text in the copy: lines marked ``# SOLUTION``, ``# BEGIN/END SOLUTION`` blocks,
      markdown solution cells, and solution cells without any marker (otter ships them verbatim);
    - a question without a solution block, or a tested answer variable that the copy already
      assigns (anything but ``name = ...``): the answer sits outside the solution markers;
    - hidden test code in the notebook (cells or metadata) or in any shipped file;
    - otter markers left over (``# BEGIN SOLUTION``, ``# SOLUTION``, ``# ASSIGNMENT CONFIG`` ...).

    >>> import nbformat
    >>> from nbformat.v4 import new_code_cell, new_notebook, new_raw_cell
    >>> master = new_notebook(cells=[new_raw_cell("# BEGIN QUESTION\\nname: q1"),
    ...     new_raw_cell("# BEGIN SOLUTION"), new_code_cell("answer = 6 * 7  # SOLUTION"),
    ...     new_raw_cell("# END SOLUTION"), new_raw_cell("# BEGIN TESTS"),
    ...     new_code_cell("# HIDDEN\\nassert answer == 6 * 7"), new_raw_cell("# END TESTS"),
    ...     new_raw_cell("# END QUESTION")])
    >>> check_student_copy(new_notebook(cells=[new_code_cell("answer = ...")]), master)
    []
    >>> for problem in check_student_copy(new_notebook(cells=[new_code_cell("answer = 6*7")]), master):
    ...     print(problem)
    q1: solution text in the student copy (student notebook, cell 1): `answer = 6 * 7`
    q1: the student copy already assigns the tested variable `answer` (student notebook, cell 1): `answer = 6*7` (a blank copy reads `answer = ...`)
    """
    master = _parse_master(_read_notebook(master_nb, "master notebook"))
    shipped = _Shipped()
    if isinstance(student_nb, Mapping):
        shipped.add_notebook(_read_notebook(student_nb), "student notebook")
    else:
        student_path = Path(student_nb)
        student = _read_notebook(student_path, "student notebook")
        shipped.add_notebook(student, student_path.name)
        root = Path(shipped_dir) if shipped_dir is not None else student_path.parent
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.resolve() != student_path.resolve():
                shipped.add_file(path, str(path.relative_to(root)))
    found = shipped.units()
    problems: list[str] = []

    # Text a student may legitimately see: everything of the master outside solutions and hidden tests.
    open_units: set[str] = set()
    for code in master.setup_code + [c for q in master.questions for c in q.other_code + q.public_tests]:
        open_units |= _code_units(_SOLUTION_TAIL.sub("", code))
    open_lines = {_norm_line(line) for text in master.text + [t for q in master.questions for t in q.other_text]
                  for line in text.split("\n")}
    # Values the master hands out on purpose: setup code, and prompts of questions that do have a
    # solution block (a question without one is reported on its own below).
    provided: set[str] = set()
    for code in master.setup_code + [c for q in master.questions if q.solution_cells for c in q.other_code]:
        provided |= _code_units("\n".join(ln for ln in code.split("\n") if not _SOLUTION_TAIL.search(ln)))
    setup_names: set[str] = set()
    for code in master.setup_code:
        if (tree := _parse(code)) is not None:
            setup_names |= _bound_names(tree)

    for q in master.questions:
        secret: set[str] = set()
        for kind, source, tags in q.solution_cells:
            if kind == "code":
                units, marked = _solution_units(source)
                if not marked and source.strip():
                    problems.append(f"{q.name}: a solution cell has no `# SOLUTION` line and no "
                                    "`# BEGIN SOLUTION`/`# END SOLUTION` block, so otter ships it to "
                                    f"students unchanged: `{_short(source)}`")
                    units = _code_units(source)
                secret |= units
            elif "otter_include" not in tags:  # otter keeps markdown tagged otter_include
                secret |= {n for line in source.split("\n") if len(n := _norm_line(line)) >= 12}
        if not q.solution_cells and (q.public_tests or q.hidden_tests):
            problems.append(f"{q.name}: no solution block (raw `# BEGIN SOLUTION` / `# END SOLUTION` "
                            "cells), so any code that answers it is shipped to students")
        for unit in sorted(secret - open_units - open_lines):
            if not _trivial(unit) and unit in found:
                problems.append(f"{q.name}: solution text in the student copy ({found[unit]}): `{_short(unit)}`")

        hidden: set[str] = set()
        for test in q.hidden_tests:
            hidden |= _code_units(test)
        for unit in sorted(hidden - open_units):
            if not _trivial(unit) and unit in found:
                problems.append(f"{q.name}: hidden test code shipped to students ({found[unit]}): "
                                f"`{_short(unit)}`")

        tested = _tested_names(q, setup_names)
        for where, source in shipped.code_cells:
            tree = _parse(source)
            for node in getattr(tree, "body", []):
                if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                    value = node.value
                    if value is None or (isinstance(value, ast.Constant) and value.value is Ellipsis):
                        continue
                    if ast.unparse(node) in provided:
                        continue
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                    for name in sorted(names & tested):
                        problems.append(f"{q.name}: the student copy already assigns the tested variable "
                                        f"`{name}` ({where}): `{_short(ast.get_source_segment(textwrap.dedent(source), node) or ast.unparse(node))}` "
                                        f"(a blank copy reads `{name} = ...`)")

    problems.extend(shipped.hidden_flags)
    for where, text, is_code in shipped.pieces:
        if not is_code:
            continue
        for line in text.split("\n"):
            if _MARKER.search(line) or _SOLUTION_MARK.search(line):
                problems.append(f"otter marker left in the student copy ({where}): `{_short(line)}`")
    return list(dict.fromkeys(problems))


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExerciseBuild:
    """Paths written by :func:`build_exercise` for one exercise."""

    name: str
    master: Path
    out_dir: Path
    student_notebook: Path
    autograder_notebook: Path
    autograder_zip: Path
    points: dict = field(default_factory=dict)

    @property
    def possible(self) -> float:
        """Total points of the exercise's auto-graded questions."""
        return float(sum(self.points.values()))


def _otter():
    """Import otter-grader (an optional extra), quietly: its traitlets use a deprecated form."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import otter.api  # noqa: F401
            import otter.assign  # noqa: F401
    except ImportError:
        raise CrmlabError("otter-grader is not installed", fix=_OTTER_FIX) from None


# Folders this module creates carry a marker file; only marked folders are ever replaced, so a
# user's folder that happens to sit where a build or a world would go is never deleted.
MARKER = ".crmlab-made"


def _mark(folder: Path, what: str, **key) -> None:
    note = (f"Written by crmlab {__version__} ({what}). crmlab deletes and rewrites this folder "
            "when it rebuilds it: keep nothing of yours here.")
    (folder / MARKER).write_text(json.dumps({"what": what, **key, "note": note}, indent=1, sort_keys=True) + "\n",
                                 encoding="utf-8")


def _marker(folder: Path) -> dict | None:
    """The marker of ``folder`` (None if it has none or it is not crmlab's)."""
    try:
        mark = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return mark if isinstance(mark, dict) and "what" in mark else None


def _not_ours(folder: Path, what: str, fix: str) -> OutputExistsError:
    entries = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    shown = ", ".join(entries[:3]) + (" ..." if len(entries) > 3 else "")
    return OutputExistsError(f"{folder} exists and was not written by crmlab as {what} (no {MARKER} "
                             f"file{'; it holds ' + shown if shown else ''}), so it is left alone", fix=fix)


def _clear_build_dir(out_dir: Path) -> None:
    """Make room for a build: an empty folder is used, a previous (marked) build is replaced,
    anything else is refused."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ParameterError(f"out_dir {out_dir} exists and is not a folder", fix="choose a folder path")
    if not any(out_dir.iterdir()):
        return
    if (_marker(out_dir) or {}).get("what") != "exercise build":
        raise _not_ours(out_dir, "an exercise build",
                        fix="build into a new or empty folder, e.g. build/exercises/NAME (an old build made "
                            "before crmlab marked its builds: delete it yourself)")
    shutil.rmtree(out_dir)


def _points(student_nb: Path) -> dict:
    import nbformat

    tests = (nbformat.read(student_nb, as_version=4).metadata.get("otter") or {}).get("tests") or {}
    return {name: float(test.get("points") or 0) for name, test in tests.items()}


def build_exercise(master, out_dir) -> ExerciseBuild:
    """Run ``otter assign`` on one master notebook: student copy + autograder in ``out_dir``.

    ``out_dir`` must be new, empty or a previous build (marked by a ``.crmlab-made`` file),
    which is replaced; any other folder is refused with
    :class:`~crmlab.errors.OutputExistsError` and left alone. Tests are not run here (the
    test suite grades both copies instead).

    >>> b = build_exercise("exercises/00-welcome-and-data-tour/00-welcome-and-data-tour.ipynb",
    ...                    "build/exercises/00-welcome-and-data-tour")   # doctest: +SKIP
    >>> b.student_notebook.name                                           # doctest: +SKIP
    '00-welcome-and-data-tour.ipynb'
    """
    master = Path(master)
    if master.suffix != ".ipynb":
        raise ParameterError(f"master {master} is not an .ipynb file",
                             fix="pass exercises/NN-topic/NN-topic.ipynb")
    config = read_assignment_config(master)
    if not (_read_notebook(master).metadata.get("kernelspec") or {}).get("name"):
        raise ParameterError(f"master {master} has no kernelspec in its metadata (otter needs it)",
                             fix="open the master in Jupyter with the Python 3 kernel and save it")
    _otter()
    from otter.assign import main as otter_assign

    out_dir = Path(out_dir).resolve()
    _clear_build_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # marked before otter runs, so that a failed build can be replaced by the next one
    _mark(out_dir, "exercise build", exercise=str(config["name"]))
    cwd = os.getcwd()
    try:
        otter_assign(str(master.resolve()), str(out_dir), no_pdfs=True, no_run_tests=True)
    except Exception as err:
        raise CrmlabError(f"otter assign failed on {master}: {type(err).__name__}: {err}",
                          fix="check the raw BEGIN/END cells and the YAML of the master "
                              "(format in exercises/README.md)") from err
    finally:
        os.chdir(cwd)
    stem = master.stem
    student = out_dir / "student" / f"{stem}.ipynb"
    autograder = out_dir / "autograder" / f"{stem}.ipynb"
    zips = sorted((out_dir / "autograder").glob(f"{stem}-autograder_*.zip"))
    if not (student.exists() and autograder.exists() and zips):
        raise CrmlabError(f"otter assign did not write the expected files for {master} in {out_dir}",
                          fix="check the ASSIGNMENT CONFIG (generate: must be set)")
    return ExerciseBuild(name=str(config["name"]), master=master.resolve(), out_dir=out_dir,
                         student_notebook=student, autograder_notebook=autograder,
                         autograder_zip=zips[-1], points=_points(student))


def discover_masters(exercises_dir="exercises", names=None) -> list[Path]:
    """Master notebooks ``exercises_dir/*/*.ipynb``, optionally only ``names`` (folder name or
    its ``NN`` prefix).

    >>> [p.name for p in discover_masters(names=["00"])]
    ['00-welcome-and-data-tour.ipynb']
    """
    root = Path(exercises_dir)
    if not root.is_dir():
        raise ParameterError(f"exercises_dir {root} is not a folder",
                             fix="run from the repository root or pass exercises_dir=")
    masters = sorted(p for p in root.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if names is None:
        return masters
    if isinstance(names, str):
        names = [names]
    chosen = []
    for name in names:
        hits = [p for p in masters if name in (p.parent.name, p.stem, p.parent.name.split("-")[0])]
        if not hits:
            available = ", ".join(p.parent.name for p in masters) or "none"
            raise ParameterError(f"no exercise named {name!r} in {root} (available: {available})",
                                 fix="pass a folder name such as 00-welcome-and-data-tour, or its number 00")
        chosen.extend(h for h in hits if h not in chosen)
    return chosen


def build_all(exercises_dir="exercises", out_dir="build/exercises", names=None,
              progress: bool | None = None) -> list[ExerciseBuild]:
    """Build every master (or ``names``) into ``out_dir/NAME/{student,autograder}``.

    >>> builds = build_all(names=["00"])          # doctest: +SKIP
    >>> builds[0].autograder_zip.suffix           # doctest: +SKIP
    '.zip'
    """
    masters = discover_masters(exercises_dir, names)
    if not masters:
        raise ParameterError(f"no master notebooks in {exercises_dir}/*/",
                             fix="add exercises/NN-topic/NN-topic.ipynb (see exercises/README.md)")
    seen: dict[str, Path] = {}
    for master in masters:
        name = str(read_assignment_config(master)["name"])
        if name in seen:
            raise ParameterError(f"{master} and {seen[name]} both use the assignment name {name!r}",
                                 fix="give each master its own folder name as `name:`")
        seen[name] = master
    builds = []
    for name, master in _progress(list(seen.items()), progress, "building", "exercise"):
        builds.append(build_exercise(master, Path(out_dir) / name))
    return builds


# --------------------------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------------------------

class _NotGradable(Exception):
    pass


def _progress(items, progress: bool | None, desc: str, unit: str, total: int | None = None):
    from tqdm import tqdm

    total = len(items) if total is None else total
    show = total > 1 if progress is None else bool(progress)
    if os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false"):
        show = False
    return tqdm(items, desc=desc, unit=unit, total=total, disable=not show, file=sys.stderr)


MAX_SEED = 2**63 - 1  # seeds are stored in an Int64 column of the grades
_SEED_WORLD = {"n_customers": 5000, "months": 36}  # what `crmlab generate --seed N` writes


def _world_target(seed: int, worlds_dir) -> Path:
    """``worlds_dir/seed-SEED``; refuses a folder there that crmlab did not write."""
    target = Path(worlds_dir) / f"seed-{seed}"
    if (target.exists() or target.is_symlink()) and (
            target.is_symlink() or (_marker(target) or {}).get("what") != "world"):
        raise _not_ours(target, "a cached world",
                        fix="move that folder away, or pass another worlds_dir= (--worlds DIR)")
    return target


def world_for_seed(seed: int, worlds_dir="build/worlds") -> Path:
    """Folder of the default-size world with ``seed``, generated once and cached.

    The world is what ``crmlab generate --seed SEED --out DIR`` writes (5,000 customers,
    36 months), so it matches what a student received. Cached in ``worlds_dir/seed-SEED``
    with a ``.crmlab-made`` marker: a cached world of another crmlab version is regenerated;
    a folder without the marker is never used nor replaced
    (:class:`~crmlab.errors.OutputExistsError`).

    >>> world_for_seed(7).name      # doctest: +SKIP
    'seed-7'
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ParameterError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}", fix="e.g. seed=7")
    from ..datasets import load_meta
    from ..synth import generate_world

    target = _world_target(seed, worlds_dir)
    key = {"seed": seed, **_SEED_WORLD, "crmlab": __version__}
    if target.exists():
        try:
            if _marker(target).get("world") == key and load_meta(target).get("seed") == seed:
                return target
        except (DatasetNotFoundError, OSError, ValueError):
            pass  # a broken or older cached world: replaced below
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".seed-{seed}-", dir=target.parent))
    try:
        generate_world(seed=seed, **_SEED_WORLD).save(tmp)
        _mark(tmp, "world", world=key)
        if target.exists():
            shutil.rmtree(target)  # marked by _mark above in an earlier run: ours to replace
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def read_seed_map(seed_map) -> dict[str, int]:
    """``{submission: seed}`` from a CSV with columns ``submission,seed`` (or a mapping).

    >>> read_seed_map({"alice.ipynb": 7, "bob": "8"})
    {'alice.ipynb': 7, 'bob': 8}
    """
    if isinstance(seed_map, Mapping):
        rows = list(seed_map.items())
        where = "seed_map"
    else:
        path = Path(seed_map)
        if not path.is_file():
            raise ParameterError(f"seed map {path} does not exist",
                                 fix="write a CSV with a header `submission,seed` and one row per student")
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.DictReader(f)
                header = [h.strip() for h in reader.fieldnames or []]
                if not {"submission", "seed"} <= set(header):
                    raise ParameterError(f"seed map {path} needs the columns submission and seed, has {header}",
                                         fix="first line: submission,seed")
                rows = [({k.strip(): v for k, v in r.items() if k}["submission"],
                         {k.strip(): v for k, v in r.items() if k}["seed"]) for r in reader]
        except (UnicodeDecodeError, csv.Error) as err:
            raise ParameterError(f"seed map {path} is not a readable UTF-8 CSV file ({type(err).__name__})",
                                 fix="save it as CSV (UTF-8) with a header `submission,seed`") from None
        where = str(path)
    out: dict[str, int] = {}
    for number, (sub, seed) in enumerate(rows, start=1):
        sub = str(sub or "").strip()
        try:
            value = int(str(seed).strip())
        except ValueError:
            value = -1
        if not sub or not 0 <= value <= MAX_SEED:
            raise ParameterError(f"{where} row {number}: expected a submission name and a seed from 0 to "
                                 f"{MAX_SEED}, got {sub!r}, {seed!r}", fix="e.g. `alice.ipynb,7`")
        if out.get(sub, value) != value:
            raise ParameterError(f"{where} gives {sub!r} two seeds ({out[sub]} and {value})",
                                 fix="keep one row per submission")
        out[sub] = value
    return out


def _list_submissions(submissions, skip: Iterable[Path]) -> list[tuple[Path, str]]:
    skip = {p.resolve() for p in skip}
    if isinstance(submissions, str | os.PathLike):
        root = Path(submissions)
        if not root.exists():
            raise ParameterError(f"submissions {root} does not exist",
                                 fix="pass a folder of submitted notebooks (or a list of files)")
        if root.is_file():
            return [(root, root.name)]
        files = [p for p in sorted(root.rglob("*")) if p.is_file()
                 and not any(part.startswith(".") for part in p.relative_to(root).parts)
                 and p.resolve() not in skip]
        return [(p, p.relative_to(root).as_posix()) for p in files]
    out = []
    for item in submissions:
        p = Path(item)
        if not p.is_file():
            raise ParameterError(f"submission {p} is not a file", fix="pass existing notebook files")
        out.append((p, p.name))
    return out


def _submission_notebook(path: Path):
    """The submitted notebook (a .ipynb, or the single .ipynb inside a .zip)."""
    import nbformat

    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                inner = [n for n in zf.namelist() if n.endswith(".ipynb") and "checkpoint" not in n]
                if len(inner) != 1:
                    raise _NotGradable(f"zip file with {len(inner)} notebooks (expected exactly one)")
                text = zf.read(inner[0]).decode("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        return nbformat.reads(text, as_version=4)
    except _NotGradable:
        raise
    except Exception as err:
        kind = f"a {path.suffix} file" if path.suffix else "a file without extension"
        raise _NotGradable(f"not a Jupyter notebook ({kind}; {type(err).__name__})") from None


def _find_build(build_dir: Path, name: str, cache: dict) -> tuple[Path, dict]:
    if name not in cache:
        ag = build_dir / name / "autograder"
        zips = sorted(ag.glob(f"{name}-autograder_*.zip"))
        if not zips:
            cache[name] = None
        else:
            points = {}
            student = build_dir / name / "student" / f"{name}.ipynb"
            if student.exists():
                points = _points(student)
            cache[name] = (zips[-1], points)
    if cache[name] is None:
        raise _NotGradable(f"exercise {name!r} is not built in {build_dir}; run "
                           f"`crmlab exercises build --out {build_dir} {name}`")
    return cache[name]


@contextmanager
def _quiet_stderr(enabled: bool):
    """Silence fd 2 (the grading kernel's start-up warnings) while one notebook is graded."""
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextmanager
def _cell_timeout(seconds: float | None):
    """Give otter's notebook executor a per-cell timeout (otter 7 builds its config internally)."""
    import otter.execute as otter_execute

    original = getattr(otter_execute, "Config", None)
    if seconds is None or original is None:
        yield
        return

    def config_with_timeout(*args, **kwargs):
        config = original(*args, **kwargs)
        config.ExecutePreprocessor.timeout = int(seconds)
        return config

    otter_execute.Config = config_with_timeout
    try:
        yield
    finally:
        otter_execute.Config = original


def _cell_errors(submitted, executed) -> str:
    """Which of the submission's own cells raised, as one readable sentence."""
    own = [str(c.source) for c in submitted.cells if c.get("cell_type") == "code"]
    errors = []
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                source = str(cell.source)
                label = f"code cell {own.index(source) + 1}" if source in own else "an autograder cell"
                errors.append(f"{label} (`{_short(source, 40)}`) raised {out.get('ename')}: "
                              f"{_short(str(out.get('evalue', '')), 80)}")
                break
    if not errors:
        return ""
    more = f"; {len(errors) - 1} more cell(s) raised errors" if len(errors) > 1 else ""
    return errors[0] + more


def _grade_one(row: dict, path: Path, build_dir: Path, cache: dict, data_dir: Path | None,
               timeout: float | None, quiet: bool) -> list[str]:
    """Fill ``row`` with the grading of ``path``; returns the question names graded."""
    import nbformat
    from otter.api import grade_submission

    nb = _submission_notebook(path)
    meta = nb.metadata.get("otter")
    name = meta.get("assignment_name") if isinstance(meta, Mapping) else None
    if not name:
        raise _NotGradable("not an exercise notebook: no otter assignment name in its metadata "
                           "(was it started from a student copy?)")
    row["exercise"] = str(name)
    zip_path, points = _find_build(build_dir, str(name), cache)
    row["possible"] = float(sum(points.values())) if points else None
    nb.metadata["kernelspec"] = dict(_KERNELSPEC)  # students' kernel names vary; grade in this env
    with tempfile.TemporaryDirectory(prefix="crmlab-grade-") as tmp:
        copy = Path(tmp) / f"{name}.ipynb"
        nbformat.write(nb, copy)
        # the student's world: a seed-map world, else whatever CRMLAB_DATA the grader set
        data = str(data_dir.resolve()) if data_dir is not None else os.environ.get("CRMLAB_DATA")
        try:
            with deterministic_env(CRMLAB_DATA=data), _quiet_stderr(quiet), _cell_timeout(timeout):
                results = grade_submission(str(copy), str(zip_path), quiet=True)
        except Exception as err:
            if type(err).__name__ == "CellTimeoutError":
                raise _NotGradable(f"grading stopped: a cell ran longer than {timeout:g} s") from None
            raise _NotGradable(f"grading failed: {type(err).__name__}: {_short(str(err), 160)}") from None
    row.update({q: float(r.score) for q, r in results.results.items()})
    row["total"] = float(results.total)
    row["possible"] = float(results.possible)
    messages = []
    if getattr(results, "catastrophic_error", None) is not None:
        messages.append(f"autograder error: {_short(str(results.catastrophic_error), 160)}")
    if results.notebook is not None and (crashed := _cell_errors(nb, results.notebook)):
        messages.append(crashed)
    row["error"] = "; ".join(messages)
    return list(results.results)


# builds read by this process (one per worker when grading in parallel)
_BUILD_CACHE: dict = {}


def _grade_row(task: tuple) -> tuple[dict, list[str]]:
    """Grade one submission into its CSV row; never raises (a module-level function, so that
    worker processes can run it)."""
    path, label, seed, data_dir, failure, note, build_dir, timeout, quiet = task
    row: dict = {"submission": label, "exercise": None, "seed": seed, "error": failure}
    graded: list[str] = []
    try:
        if not failure:
            graded = _grade_one(row, path, build_dir, _BUILD_CACHE, data_dir, timeout, quiet)
    except _NotGradable as err:
        row["error"] = str(err)
    except Exception as err:  # one odd file must not stop the batch
        row["error"] = f"could not grade: {type(err).__name__}: {_short(str(err), 160)}"
    row["error"] = "; ".join(m for m in (row["error"], note) if m)
    return row, graded


def _natural(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def grade_submissions(submissions, build_dir="build/exercises", out_csv="grades.csv", seed_map=None,
                      *, worlds_dir="build/worlds", timeout: float | None = 300,
                      progress: bool | None = None, quiet: bool = True, jobs: int = 1,
                      force: bool = False) -> pd.DataFrame:
    """Grade submitted notebooks offline (no Docker) into one tidy row per submission.

    ``submissions`` is a folder (searched recursively; hidden files skipped) or a list of
    files. The exercise is read from the notebook's otter metadata, so file names do not
    matter; its autograder must be in ``build_dir/NAME`` (``crmlab exercises build``).
    Columns: ``submission, exercise, seed, <question scores...>, total, possible, percent,
    error``. A notebook whose cells raise is still graded (the error names the first failing
    cell); a file that is no exercise notebook, or grading that fails or passes ``timeout``
    seconds in one cell, gives a row with empty scores and the reason in ``error``.

    ``seed_map`` (CSV ``submission,seed`` or a mapping; ``submission`` = the file's path
    relative to the folder, its name, or its name without extension): each listed submission
    is graded against the world of its seed, generated once into ``worlds_dir/seed-N`` and
    passed to the grading kernel as ``CRMLAB_DATA``. Without a seed the grading kernel
    reads the world that ``CRMLAB_DATA`` names, or the shipped one.

    ``jobs`` grades that many submissions at once, each in its own worker process (every
    submission already runs in its own kernel, so the rows are the same as with ``jobs=1``;
    seed-map worlds are generated first, once each). Use up to the number of CPU cores.

    Writes ``out_csv`` (a ``.csv`` path) unless it is None; an existing file is replaced only
    with ``force=True`` (:class:`~crmlab.errors.OutputExistsError` otherwise, raised before
    anything is graded). Returns the table.

    >>> grades = grade_submissions("submissions", out_csv="grades.csv")   # doctest: +SKIP
    >>> grades[["submission", "exercise", "total", "possible", "percent"]]  # doctest: +SKIP
    """
    _otter()
    build_dir = Path(build_dir)
    if not build_dir.is_dir() or not any(build_dir.glob("*/autograder/*-autograder_*.zip")):
        raise ParameterError(f"no built exercises in {build_dir}",
                             fix="run `crmlab exercises build` (make exercises) first, or pass build_dir=")
    if timeout is not None and not timeout > 0:
        raise ParameterError(f"timeout must be a positive number of seconds or None, got {timeout!r}",
                             fix="e.g. timeout=300")
    check_scalar(jobs, "jobs", numbers.Integral, 1, 256)
    if out_csv is not None:
        check_output_file(out_csv, "out_csv", force=force, suffix=".csv")
    seeds = read_seed_map(seed_map) if seed_map is not None else {}
    skip = [Path(out_csv)] if out_csv is not None else []
    if seed_map is not None and not isinstance(seed_map, Mapping):
        skip.append(Path(seed_map))
    items = _list_submissions(submissions, skip)
    if not items:
        raise ParameterError(f"no submissions found in {submissions}",
                             fix="put the submitted notebooks (.ipynb) in the folder")

    def seed_of(path: Path, label: str) -> int | None:
        for key in (label, path.name, path.stem, Path(label).with_suffix("").as_posix()):
            if key in seeds:
                return seeds[key]
        return None

    # a folder in the way of a seed's world stops the run before any world is generated
    for seed in sorted({s for s in (seed_of(p, lab) for p, lab in items) if s is not None}):
        _world_target(seed, worlds_dir)
    tasks, worlds = [], {}
    for path, label in items:
        seed = seed_of(path, label)
        note = ""
        if seeds and seed is None:
            note = "no seed for this submission in the seed map: graded against the default world"
        if seed is not None and seed not in worlds:  # each world once, before any worker reads it
            try:
                worlds[seed] = (world_for_seed(seed, worlds_dir), "")
            except Exception as err:  # the submissions of this seed get a row with the reason
                worlds[seed] = (None, f"could not grade: {type(err).__name__}: {_short(str(err), 160)}")
        data_dir, failure = worlds[seed] if seed is not None else (None, "")
        tasks.append((path, label, seed, data_dir, failure, note, build_dir, timeout, quiet))

    if jobs == 1 or len(tasks) == 1:
        done = [_grade_row(t) for t in _progress(tasks, progress, "grading", "submission")]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: workers start clean, not as copies of a process with threads and open kernels
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            done = list(_progress(pool.map(_grade_row, tasks), progress, "grading", "submission",
                                  total=len(tasks)))
    rows, questions = [], []
    for row, graded in done:
        rows.append(row)
        questions.extend(q for q in graded if q not in questions)

    columns = ["submission", "exercise", "seed", *sorted(questions, key=_natural),
               "total", "possible", "percent", "error"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    table["seed"] = table["seed"].astype("Int64")
    for col in ["total", "possible", *questions]:
        table[col] = pd.to_numeric(table[col], errors="coerce")
    graded = table["total"].notna() & (table["possible"] > 0)
    table["percent"] = (100 * table["total"] / table["possible"]).where(graded).round(2)
    table["error"] = table["error"].fillna("")
    if out_csv is not None:
        out_csv = Path(out_csv)
        out_csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out_csv, index=False)
    return table

