"""Offline exercise pipeline: build student copies and grading specs, check them, grade a class.

Each exercise is an otter-grader master notebook, ``exercises/NN-topic/NN-topic.ipynb``, that
holds the questions, the solutions and the tests (see ``exercises/README.md`` for the format).

- :func:`build_exercise` / :func:`build_all` run ``otter assign`` for the student copy (no
  solutions, no hidden tests) and write the grading spec (:func:`grading_spec`: set-up code,
  public and hidden tests, points) in ``build/exercises/NAME/``; :func:`publish_student_copy`
  copies a checked student copy to ``notebooks/exercises/``;
- :func:`check_student_copy` lists what a student copy must not contain: solution text or
  explanations, hidden test code (in the notebook or any file shipped beside it), otter markers
  left over, answers pre-filled outside the solution blocks, code that is not valid Python;
- :func:`grade_submissions` grades a folder of submitted notebooks: each runs in its own sandbox
  (:mod:`crmlab.course.sandbox`), its answers come out as plain data and the trusted checker
  (:mod:`crmlab.course.checker`) scores them against the build's hidden tests on the student's
  world; a crashing, foreign, garbage or hostile file costs only its own row. Results go to a
  resumable grades folder (:mod:`crmlab.course.gradebook`).

The notebook format needs nothing but the standard library to read:

>>> from crmlab.course.grading import read_assignment_config
>>> read_assignment_config("exercises/00-welcome-and-data-tour/00-welcome-and-data-tour.ipynb")["name"]
'00-welcome-and-data-tour'

Building needs otter-grader (``pip install 'crmlab[grading]'``); grading needs Linux with
util-linux ``unshare`` (or ``unsafe=True`` for trusted files) and takes a second or two a notebook::

    >>> from crmlab.course.grading import build_all, grade_submissions
    >>> builds = build_all()                                          # doctest: +SKIP
    >>> grades = grade_submissions("submissions", out_dir="grades")  # doctest: +SKIP
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
import threading
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import __version__
from ..errors import CrmlabError, DatasetNotFoundError, OutputExistsError, ParameterError
from ..validation import check_scalar
from .selfcheck import _strip_prompts

__all__ = [
    "ExerciseBuild",
    "read_assignment_config",
    "discover_masters",
    "build_exercise",
    "build_all",
    "build_twin",
    "twin_masters",
    "twin_spec_differences",
    "check_student_copy",
    "grade_submissions",
    "grading_spec",
    "load_spec",
    "publish_student_copy",
    "student_copy_text",
    "student_id",
    "same_student_key",
    "world_for_seed",
    "read_seed_map",
]

_OTTER_FIX = "install the grading extra: pip install 'crmlab[grading]' (otter-grader)"


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
    config: dict = field(default_factory=dict)              # the BEGIN QUESTION YAML
    hidden_configs: list[dict] = field(default_factory=list)  # TEST CONFIG of each hidden test
    cells: list[tuple[str, str, str]] = field(default_factory=list)  # (zone, cell_type, source)


@dataclass
class _Master:
    questions: list[_Question]
    setup_code: list[str]          # code outside any question
    text: list[str]                # markdown outside solution blocks


def _test_config(source: str) -> tuple[bool, str, dict]:
    """(hidden?, test body, TEST CONFIG) of a test cell, following otter's two conventions."""
    import yaml

    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("#"):
        return bool(re.search(r"\bhidden\b", lines[0], re.IGNORECASE)), "\n".join(lines[1:]), {}
    if lines and re.match(r'\s*"""\s*#\s*BEGIN\s+TEST\s+CONFIG', lines[0], re.IGNORECASE):
        for end, line in enumerate(lines[1:], start=1):
            if re.match(r'\s*"""\s*#\s*END\s+TEST\s+CONFIG', line, re.IGNORECASE):
                try:
                    config = yaml.safe_load("\n".join(lines[1:end])) or {}
                except yaml.YAMLError:
                    config = {}
                config = config if isinstance(config, dict) else {}
                return bool(config.get("hidden", False)), "\n".join(lines[end + 1:]), config
    return False, source, {}


def _parse_master(nb) -> _Master:
    import yaml

    questions: list[_Question] = []
    setup_code: list[str] = []
    text: list[str] = []
    question: _Question | None = None
    ended: _Question | None = None     # the question whose END QUESTION came last
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
                    config = config if isinstance(config, dict) else {}
                    qname = config.get("name")
                    question = _Question(name=str(qname or f"question at cell {index}"), config=config)
                    questions.append(question)
                    ended = None
                else:
                    ended, question, block = question, None, None
            else:
                block = name if edge == "begin" else None
            continue
        source = str(cell.get("source", ""))
        if kind == "raw":
            continue
        if question is not None:
            zone = block or ("after" if question.solution_cells else "prompt")
            question.cells.append((zone, kind, source))
        elif ended is not None:
            ended.cells.append(("after", kind, source))
        if question is not None and block == "solution":
            question.solution_cells.append((kind, source, list(cell.get("metadata", {}).get("tags", []))))
        elif question is not None and block == "tests" and kind == "code":
            hidden, body, config = _test_config(source)
            if hidden:
                question.hidden_tests.append(body)
                question.hidden_configs.append(config)
            else:
                question.public_tests.append(body)
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
# The grading spec: what the trusted checker needs, written by the build
# --------------------------------------------------------------------------------------------

SPEC_FILE = "grading.json"
SPEC_FORMAT = "crmlab-grading-1"
_OPTION = re.compile(r"^\s*[-*]\s*\*\*([a-h])\.\*\*\s?(.*)$")
_LETTER_ANSWER = re.compile(r"""^\s*(\w+)\s*=\s*["']([a-h])["']\s*#\s*SOLUTION\s*$""", re.MULTILINE)


def _grader_statement(node: ast.stmt) -> bool:
    """Statements of the set-up cell that belong to the student's self-check, not to the data."""
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "otter" or a.name.startswith("crmlab.course") for a in node.names)
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return module.split(".")[0] == "otter" or module.startswith("crmlab.course") or \
            (module == "crmlab" and any(a.name == "course" for a in node.names))
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == "grader" for t in node.targets)
    return False


def _trusted_setup(source: str) -> str:
    """The master's set-up code without the self-check lines and without IPython magics."""
    lines = source.split("\n")
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines]
    tree = _parse("\n".join(lines))
    if tree is None:
        return "\n".join(lines)
    for node in tree.body:
        if _grader_statement(node):
            for k in range(node.lineno - 1, (node.end_lineno or node.lineno)):
                lines[k] = ""
    return "\n".join(lines).strip("\n")


def _choice(question: _Question) -> dict | None:
    """``{"variable", "key", "options"}`` of a multiple-choice question (options `- **a.** text`
    in the prompt, the key stored as one letter by the solution; ``key`` is None when the
    solution computes the letter from the data), else None."""
    options: dict[str, str] = {}
    current = None
    for zone, kind, source in question.cells:
        if zone != "prompt" or kind != "markdown":
            continue
        for line in source.split("\n"):
            match = _OPTION.match(line)
            if match:
                current = match.group(1)
                options[current] = match.group(2).strip()
            elif current and line.startswith("  ") and line.strip():
                options[current] += " " + line.strip()
            else:
                current = None
    keys = [m.groups() for _, source, _ in question.solution_cells for m in _LETTER_ANSWER.finditer(source)]
    if len(options) < 2:
        return None
    if len(keys) == 1 and keys[0][1] in options:
        return {"variable": keys[0][0], "key": keys[0][1], "options": options}
    # a letter computed from the data (the right option depends on the world): no fixed key
    computed = [m.group(1) for _, source, _ in question.solution_cells
                for m in re.finditer(r"^\s*(q\d+_answer)\s*=", source, re.MULTILINE)]
    if len(set(computed)) == 1:
        return {"variable": computed[0], "key": None, "options": options}
    return None


def grading_spec(master) -> dict:
    """What the trusted checker needs to grade one exercise, from its master notebook.

    ``{"format", "name", "master_sha256", "setup", "answers", "questions": [...]}``; each question
    has ``name``, ``points``, ``manual``, ``seed_independent``, ``answers`` (the variables the
    student fills in and the tests read), ``public`` (format checks: feedback, 0 points),
    ``hidden`` (``{"code", "points"}``: the question's points, split equally unless a test's
    TEST CONFIG gives ``points``) and ``choice`` (multiple choice: key and options, or None).
    Raises :class:`~crmlab.errors.ParameterError` for a question whose points no test can earn.

    >>> spec = grading_spec("exercises/00-welcome-and-data-tour/00-welcome-and-data-tour.ipynb")
    >>> [(q["name"], q["points"], q["answers"]) for q in spec["questions"]][:2]
    [('q1', 2.0, ['n_b2b_north', 'n_large_b2b']), ('q2', 1.0, ['churn_share'])]
    """
    import hashlib

    path = Path(master)
    nb = _read_notebook(path, "master notebook")
    name = str(read_assignment_config(nb)["name"])
    parsed = _parse_master(nb)
    setup_names: set[str] = set()
    for code in parsed.setup_code:
        if (tree := _parse(code)) is not None:
            setup_names |= _bound_names(tree)
    filled: set[str] = set()   # names a student's cells bind: solutions and prompts
    for q in parsed.questions:
        for code in [src for kind, src, _ in q.solution_cells if kind == "code"] + q.other_code:
            body = "\n".join(_SOLUTION_TAIL.sub("", ln) for ln in code.split("\n")
                             if not ln.lstrip().startswith(("# BEGIN SOLUTION", "# END SOLUTION")))
            if (tree := _parse(body)) is not None:
                filled |= _bound_names(tree)
    questions, answers = [], []
    for q in parsed.questions:
        manual = bool(q.config.get("manual", False))
        try:
            points = float(q.config.get("points", 0 if manual else 1))
        except (TypeError, ValueError):
            raise ParameterError(f"{path}: {q.name} has points {q.config.get('points')!r}",
                                 fix="write `points: 2` in the BEGIN QUESTION cell") from None
        names = sorted(_tested_names(q, setup_names) & filled)
        hidden = []
        if not manual:
            if not q.hidden_tests:
                raise ParameterError(f"{path}: {q.name} has no hidden test, so its {points:g} point(s) cannot "
                                     "be earned (public tests check the format only and are worth 0 points)",
                                     fix="add a hidden test that checks the value (see exercises/README.md)")
            given = [c.get("points") for c in q.hidden_configs]
            if all(g is None for g in given):
                shares = [points / len(q.hidden_tests)] * len(q.hidden_tests)
            else:
                rest = [g for g in given if g is not None]
                left = points - sum(float(g) for g in rest)
                none = sum(1 for g in given if g is None)
                shares = [float(g) if g is not None else left / none for g in given]
            hidden = [{"code": code, "points": share} for code, share in zip(q.hidden_tests, shares, strict=True)]
        rubric = "\n\n".join(src for kind, src, _ in q.solution_cells if kind == "markdown") if manual else ""
        prompt = "\n\n".join(src for zone, kind, src in q.cells if zone == "prompt" and kind == "markdown")
        questions.append({"name": q.name, "points": points, "manual": manual,
                          "seed_independent": bool(q.config.get("seed_independent", False)),
                          "answers": names, "public": list(q.public_tests), "hidden": hidden,
                          "choice": _choice(q), "prompt": prompt, "rubric": rubric})
        answers += [n for n in names if n not in answers]
    return {"format": SPEC_FORMAT, "name": name,
            "master_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "setup": [code for code in (_trusted_setup(c) for c in parsed.setup_code) if code.strip()],
            "answers": answers, "questions": questions}


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


_EXPLANATION = re.compile(r"^\s*(?:#+\s*|\*\*?|_)?\s*(?:why|solution|answer|explanation)\b", re.IGNORECASE)


def _reveals(text: str, choice: dict | None) -> bool:
    """Whether a markdown cell reads as the explanation of an answer (or names the key)."""
    if _EXPLANATION.match(text):
        return True
    if choice and choice["key"]:
        key = re.escape(choice["key"])
        return bool(re.search(rf"\({key}\)|\*\*{key}\.?\*\*|\banswer\s+(?:is\s+)?\(?{key}\b", text,
                              re.IGNORECASE))
    return False


def _without_magics(source: str) -> str:
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.split("\n"))


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

        # explanations of the answer outside the solution block (after it, or after END QUESTION)
        # are shipped as they are: "Why (b)? ..." hands the key to every student
        choice = _choice(q)
        for zone, kind, source in q.cells:
            if zone == "after" and kind == "markdown" and _reveals(source, choice):
                lines = [n for line in source.split("\n") if (n := _norm_line(line))]
                if any(line in found for line in lines):
                    problems.append(f"{q.name}: an explanation of the answer sits outside the solution block and is "
                                    f"shipped to students: `{_short(source, 70)}` (move it between the raw "
                                    "BEGIN SOLUTION / END SOLUTION cells)")

    # a blanked solution line inside a multi-line statement leaves code that cannot run
    for where, source in shipped.code_cells:
        if _parse(_without_magics(source)) is None:
            try:
                compile(_without_magics(source), where, "exec")
            except SyntaxError as err:
                problems.append(f"the student copy's code is not valid Python ({where}, line {err.lineno}: "
                                f"{err.msg}): mark a multi-line solution with a `# BEGIN SOLUTION` / "
                                "`# END SOLUTION` comment block, not `# SOLUTION` on each line")
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
    manual_points: dict = field(default_factory=dict)
    spec_path: Path | None = None

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
    spec = grading_spec(master)   # a master whose points no test can earn stops here
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
    # what the trusted checker reads: tests and points come from here, never from a run
    (out_dir / SPEC_FILE).write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return ExerciseBuild(name=str(config["name"]), master=master.resolve(), out_dir=out_dir,
                         student_notebook=student, autograder_notebook=autograder,
                         autograder_zip=zips[-1],
                         points={q["name"]: q["points"] for q in spec["questions"] if not q["manual"]},
                         manual_points={q["name"]: q["points"] for q in spec["questions"] if q["manual"]},
                         spec_path=out_dir / SPEC_FILE)


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


STUDENT_COPIES = "notebooks/exercises"
def twin_masters(master) -> dict[str, Path]:
    """The translated masters of an English master that exist, by language: the Chinese twin
    (:func:`crmlab.course.translation.twin_path`, ``exercises/NN-topic/zh/NN-topic.ipynb``),
    built to ``BUILD/zh/NAME`` and published to ``notebooks/exercises/zh/``.

    >>> sorted(twin_masters("exercises/00-welcome-and-data-tour/00-welcome-and-data-tour.ipynb"))
    ['zh']
    """
    from .translation import twin_path

    twin = twin_path(master)
    return {"zh": twin} if twin.is_file() else {}


def twin_spec_differences(spec: dict, twin: dict) -> list[str]:
    """What a translated master changes in grading; it must change nothing but the prose.

    A twin's submissions are graded with the English build (same assignment name), so names,
    points, answer variables, setup, tests and multiple-choice keys must be identical.
    """
    problems = [f"{key} differs" for key in ("name", "setup", "answers") if spec.get(key) != twin.get(key)]
    en_q, zh_q = spec["questions"], twin["questions"]
    if [q["name"] for q in en_q] != [q["name"] for q in zh_q]:
        return problems + [f"questions differ: {[q['name'] for q in en_q]} vs {[q['name'] for q in zh_q]}"]
    for a, b in zip(en_q, zh_q, strict=True):
        for key in ("points", "manual", "seed_independent", "answers", "public", "hidden"):
            if a.get(key) != b.get(key):
                problems.append(f"{a['name']}: {key} differs")
        ca, cb = a.get("choice"), b.get("choice")
        def shape(c):
            return None if c is None else (c["variable"], c["key"], sorted(c["options"]))

        if shape(ca) != shape(cb):
            problems.append(f"{a['name']}: multiple-choice variable, key or option letters differ "
                            f"({shape(ca)} vs {shape(cb)})")
    return problems


def build_twin(master, out_dir, lang: str = "zh") -> ExerciseBuild:
    """Build the ``lang`` twin of an English master into ``out_dir`` (as :func:`build_exercise`),
    after checking that it grades exactly like the English one (:func:`twin_spec_differences`).

    >>> b = build_twin("exercises/00-welcome-and-data-tour/00-welcome-and-data-tour.ipynb",
    ...                "build/exercises/zh/00-welcome-and-data-tour")      # doctest: +SKIP
    """
    twins = twin_masters(master)
    if lang not in twins:
        raise DatasetNotFoundError(f"{master} has no {lang} twin ({Path(master).parent / lang / Path(master).name})",
                                   fix="crmlab translate sync the master, then translate its prompts")
    problems = twin_spec_differences(grading_spec(master), grading_spec(twins[lang]))
    if problems:
        raise ParameterError(f"{twins[lang]} does not grade like {master}: " + "; ".join(problems),
                             fix=f"crmlab translate sync {master} (code, tests and option letters come from the English)")
    return build_exercise(twins[lang], out_dir)



def student_copy_text(student_nb) -> tuple[str, str]:
    """(exercise name, the text to publish) of a built student copy: sorted keys, no volatile
    metadata, so publishing an unchanged master leaves the file byte-identical."""
    import nbformat

    nb = _read_notebook(student_nb, "student notebook")
    name = _assignment_name(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata.get("language_info", {}).pop("version", None)
    import hashlib

    for index, cell in enumerate(nb.cells):
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            cell.metadata.pop(key, None)
        # otter gives the cells it adds random ids; stable ones keep the published file stable
        cell["id"] = hashlib.sha1(f"{name}/{index}/{cell.cell_type}/{cell.source}".encode()).hexdigest()[:8]
    return name, nbformat.writes(nb) + "\n"


def publish_student_copy(student_nb, to=STUDENT_COPIES) -> Path:
    """Copy a built (and checked) student copy to ``to/NAME.ipynb``, the folder students open.

    Only the notebook is published: its format checks travel in its metadata.
    """
    name, text = student_copy_text(student_nb)
    target = Path(to) / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return target


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
        # readable by the sandbox's unprivileged user (mkdtemp makes the folder private)
        for path in [tmp, *tmp.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
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


# --------------------------------------------------------------------------------------------
# Grading a class: sandboxed runs, trusted checks, a resumable results store
# --------------------------------------------------------------------------------------------

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
RESULT_FORMAT = "crmlab-result-1"
GRADES_WHAT = "grades"
_COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|[\s_-]+copy(\s*\d+)?)$", re.IGNORECASE)


def student_id(label: str) -> str:
    """The student a submission belongs to: its top folder when the class hands in one folder
    per student (``bob/ex03.ipynb`` -> ``bob``), else the file name without extension.

    >>> student_id("bob/ex03.ipynb"), student_id("s047.ipynb"), student_id("x (1).ipynb")
    ('bob', 's047', 'x (1)')
    """
    parts = Path(label).parts
    return parts[0] if len(parts) > 1 else Path(label).stem


def same_student_key(student: str) -> str:
    """Key under which two ids are probably the same student: case, spaces and a download
    copy suffix (``x (1)``, ``x-copy``) do not count.

    >>> same_student_key("S047 "), same_student_key("x (1)"), same_student_key("Alice_copy")
    ('s047', 'x', 'alice')
    """
    return _COPY_SUFFIX.sub("", student.strip()).strip().casefold()


def _list_submissions(submissions, skip: Iterable[Path]) -> tuple[Path | None, list[tuple[Path, str]]]:
    """(root folder or None, [(path, label)]) of what to grade."""
    skip = {p.resolve() for p in skip}
    if isinstance(submissions, str | os.PathLike):
        root = Path(submissions)
        if not root.exists():
            raise ParameterError(f"submissions {root} does not exist",
                                 fix="pass a folder of submitted notebooks (or a list of files)")
        if root.is_file():
            return None, [(root, root.name)]
        files = []
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if p.is_symlink() or not p.is_file() or any(part.startswith(".") for part in rel.parts):
                continue
            if p.resolve() in skip or any(part in ("__pycache__",) for part in rel.parts):
                continue
            files.append((p, rel.as_posix()))
        return root, files
    out = []
    for item in submissions:
        p = Path(item)
        if not p.is_file():
            raise ParameterError(f"submission {p} is not a file", fix="pass existing notebook files")
        out.append((p, p.name))
    return None, out


def _submission_notebook(path: Path):
    """The submitted notebook (a .ipynb, or the single .ipynb inside a .zip), parsed as data."""
    import nbformat

    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise _NotGradable(f"file larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                inner = [i for i in zf.infolist() if i.filename.endswith(".ipynb") and "checkpoint" not in i.filename]
                if len(inner) != 1:
                    raise _NotGradable(f"zip file with {len(inner)} notebooks (expected exactly one)")
                if inner[0].file_size > MAX_NOTEBOOK_BYTES:
                    raise _NotGradable(f"notebook in the zip larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
                text = zf.read(inner[0]).decode("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("no cells")
        return nb
    except _NotGradable:
        raise
    except Exception as err:
        kind = f"a {path.suffix} file" if path.suffix else "a file without extension"
        raise _NotGradable(f"not a Jupyter notebook ({kind}; {type(err).__name__})") from None


def _code_cells(nb) -> list[str]:
    return [str(c.get("source", "")) for c in nb.cells if isinstance(c, Mapping) and c.get("cell_type") == "code"]


def _assignment_name(nb) -> str:
    meta = nb.metadata.get("otter") if isinstance(nb.metadata, Mapping) else None
    name = meta.get("assignment_name") if isinstance(meta, Mapping) else None
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][\w.-]{0,99}", name) or ".." in name:
        raise _NotGradable("not an exercise notebook: no otter assignment name in its metadata "
                           "(was it started from a student copy?)")
    return name


def load_spec(build_dir, name: str) -> dict:
    """The grading spec the build wrote for exercise ``name`` (``BUILD/NAME/grading.json``)."""
    path = Path(build_dir) / name / SPEC_FILE
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise _NotGradable(f"exercise {name!r} is not built in {build_dir} (no {SPEC_FILE}); run "
                           f"`crmlab exercises build --out {build_dir} {name}`") from None
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT or spec.get("name") != name:
        raise _NotGradable(f"{path} is not a grading spec of this crmlab version; rebuild the exercise "
                           f"(`crmlab exercises build {name}`)")
    return spec


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _result_key(label: str) -> str:
    import hashlib

    safe = re.sub(r"[^\w.-]+", "_", label)[-60:].strip("._") or "submission"
    return f"{safe}-{hashlib.sha1(label.encode('utf-8')).hexdigest()[:10]}"


def _describe_cell_errors(errors: list, cells: int) -> str:
    shown = []
    for e in errors[:3]:
        if not isinstance(e, Mapping):
            continue
        cell = e.get("cell") if isinstance(e.get("cell"), int) else "?"
        shown.append(f"code cell {cell} raised {_short(str(e.get('ename', '?')), 40)}: "
                     f"{_short(str(e.get('evalue', '')), 100)}")
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(shown) + more


def _grade_item(item: dict, spec: dict, checker, limits, slot: int, mode: str, result=None) -> dict:
    """Run one submission in its sandbox (unless its ``result`` is given) and check its answers:
    the result record."""
    from . import sandbox

    if result is None:
        result = sandbox.run_notebook_cells(item["cells"], spec["answers"], item["world"], limits=limits,
                                            slot=slot, mode=mode)
    record = {"status": "graded", "seconds": round(result.elapsed, 2)}
    notes: list[str] = []
    document = None
    if result.status == "setup":
        record.update(status="grader error", error=f"the sandbox could not be built: {result.detail}")
        return record
    if result.export:
        try:
            document = json.loads(result.export.decode("utf-8"))
            if not isinstance(document, dict) or document.get("format") != "crmlab-answers-1" \
                    or document.get("complete") is not True or not isinstance(document.get("answers"), dict):
                document = None
        except (UnicodeDecodeError, ValueError, RecursionError):
            document = None
    if result.status == "too_large":
        notes.append(f"the notebook's answers passed the {limits.output_mb} MB export limit: none were graded")
    elif result.status == "timeout" and document is None:
        notes.append(f"the notebook was stopped after {limits.timeout:g} s (endless loop?) and exported no "
                     "answers: every question scores 0")
    elif result.status == "killed" and document is None:
        notes.append(f"the notebook's process was {result.detail} before its answers were read: every "
                     "question scores 0")
    elif document is None:
        notes.append("the notebook ended the grading process before its answers were read (os._exit, "
                     f"exit status {result.returncode}): every question scores 0")
    answers = {}
    if document is not None:
        answers = document["answers"]
        errors = document.get("errors") if isinstance(document.get("errors"), list) else []
        if errors:
            notes.append(_describe_cell_errors(errors, len(item["cells"])))
        if document.get("deadline") is True:
            executed = document.get("executed") if isinstance(document.get("executed"), int) else "?"
            notes.append(f"stopped at the {limits.timeout:g} s time limit in code cell {executed}; the answers "
                         "computed until then were graded")
        if any(isinstance(e, Mapping) and e.get("ename") == "MemoryError" for e in errors):
            notes.append(f"a cell ran out of memory (limit {limits.memory_mb} MB)")
    questions = checker.check(spec, item["world"], answers)
    # the plain answers are kept for audits (what did the student hand in?), large ones as a digest
    record["answers"] = {k: (v if len(json.dumps(v)) <= 20_000 else {"t": "digest", "chars": len(json.dumps(v))})
                         for k, v in answers.items() if k in spec["answers"]}
    record["questions"] = {q.name: {"points": q.points, "possible": q.possible, "manual": q.manual,
                                    "format_ok": q.format_ok, "messages": q.messages} for q in questions}
    record["notes"] = notes
    return record


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _prepare_out_dir(out_dir: Path, root: Path | None) -> dict:
    """Create or resume a grades folder (marked); refuse a folder crmlab did not write."""
    if out_dir.suffix.lower() == ".csv":
        raise ParameterError(f"--out {out_dir} names a .csv file; grading now writes a folder (the class CSV, "
                             "feedback files, gradebook exports and a resumable results store)",
                             fix=f"pass a folder, e.g. --out {out_dir.with_suffix('')} (the class CSV is then "
                                 f"{out_dir.with_suffix('') / 'grades.csv'})")
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"--out {out_dir} exists and is not a folder", fix="pass a folder path")
    mark = _marker(out_dir) if out_dir.is_dir() else None
    if out_dir.is_dir() and any(out_dir.iterdir()) and (mark or {}).get("what") != GRADES_WHAT:
        raise _not_ours(out_dir, "a grades folder", fix="grade into a new or empty folder, e.g. --out grades")
    recorded = (mark or {}).get("submissions")
    if root is not None and recorded and Path(recorded) != root.resolve():
        raise ParameterError(f"{out_dir} holds the grades of {recorded}, not of {root}",
                             fix="grade each folder of submissions into its own --out folder")
    (out_dir / "results").mkdir(parents=True, exist_ok=True)
    if mark is None or (root is not None and not recorded):
        _mark(out_dir, GRADES_WHAT, submissions=str(root.resolve()) if root is not None else recorded)
        mark = _marker(out_dir)
    return mark or {}


def grade_submissions(submissions, build_dir="build/exercises", out_dir="grades", seed_map=None, *,
                      worlds_dir="build/worlds", timeout: float = 120, memory_mb: int = 2048, jobs: int = 1,
                      regrade: bool = False, unsafe: bool = False, progress: bool | None = None,
                      on_result=None, grace: float = 10) -> pd.DataFrame:
    """Grade submitted notebooks, each in its own sandbox, into a folder of grades.

    ``submissions`` is a folder (searched recursively; hidden files skipped; one sub-folder
    per student is fine), one file in it, or a list of files. The exercise is read from the
    notebook's metadata. Each notebook runs in an isolated sandbox
    (:mod:`crmlab.course.sandbox`: no access to the other submissions, the masters, the builds,
    the grades or the network; capped time ``timeout`` seconds for the whole notebook, memory
    ``memory_mb``, processes); its answers come back as plain data and are checked by the
    trusted checker (:mod:`crmlab.course.checker`) against the hidden tests of the build,
    with expected values computed on the student's world. Points possible come from the build.

    ``out_dir`` (default ``grades``) receives, as results complete: ``results/*.json`` (one per
    submission: the resumable store), ``grades.csv`` (one row per submission), and at the end
    ``summary.csv`` (per question: how the class did), ``feedback/STUDENT/EXERCISE.md``,
    ``gradebook-canvas.csv``, ``gradebook-moodle.csv`` and ``hand-grading.csv`` (hand-graded
    questions: fill in, re-run to merge). A re-run skips submissions already graded with the
    same file, build and seed (``regrade=True`` grades them again); grading one file of the
    folder updates its row only. ``out_dir=None`` writes nothing.

    ``seed_map`` (CSV ``submission,seed`` or a mapping): the key may be the submission's path in
    the folder, its file name, its name without extension, or the student's folder (one folder
    per student). Each such submission is run and checked on the world of its seed, generated
    once into ``worlds_dir/seed-N``; others use the default world (flagged when a map is given).

    Refuses to run (:class:`~crmlab.course.sandbox.SandboxUnavailableError`) where no isolation
    works, unless ``unsafe=True``. Returns the class table (the rows of ``grades.csv``).

    >>> grades = grade_submissions("submissions", out_dir="grades")   # doctest: +SKIP
    >>> grades[["submission", "student", "exercise", "total", "possible"]]  # doctest: +SKIP
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from . import gradebook, sandbox
    from .checker import Checker

    build_dir = Path(build_dir)
    if not build_dir.is_dir() or not any(build_dir.glob(f"*/{SPEC_FILE}")):
        raise ParameterError(f"no built exercises in {build_dir}",
                             fix="run `crmlab exercises build` (make exercises) first, or pass build_dir=")
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise ParameterError(f"timeout must be a positive number of seconds, got {timeout!r}", fix="e.g. timeout=120")
    check_scalar(memory_mb, "memory_mb", numbers.Integral, 256, 1 << 20)
    check_scalar(jobs, "jobs", numbers.Integral, 1, 256)
    mode = "unsafe" if unsafe else sandbox.isolation_status().mode
    if mode == "unavailable":
        raise sandbox.SandboxUnavailableError(
            f"cannot grade safely here: {sandbox.isolation_status().reason}", fix=sandbox._FIX)
    limits = sandbox.SandboxLimits(timeout=float(timeout), memory_mb=int(memory_mb), grace=float(grace))
    seeds = read_seed_map(seed_map) if seed_map is not None else {}
    skip = [Path(seed_map)] if seed_map is not None and not isinstance(seed_map, Mapping) else []
    root, items = _list_submissions(submissions, skip)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        skip.append(out)
        if root is None and isinstance(submissions, str | os.PathLike):
            mark = _marker(out) if out.is_dir() else None
            recorded = Path(mark["submissions"]) if mark and mark.get("submissions") else None
            one = Path(submissions).resolve()
            if recorded is not None and one.is_relative_to(recorded):
                items = [(Path(submissions), one.relative_to(recorded).as_posix())]
            root_for_mark = recorded
        else:
            root_for_mark = root
        items = [(p, lab) for p, lab in items if not p.resolve().is_relative_to(out.resolve())]
        _prepare_out_dir(out, root_for_mark)
    if not items:
        raise ParameterError(f"no submissions found in {submissions}",
                             fix="put the submitted notebooks (.ipynb) in the folder")

    def seed_of(path: Path, label: str) -> int | None:
        keys = (label, path.name, path.stem, Path(label).with_suffix("").as_posix(), student_id(label),
                Path(label).parts[0])
        for key in keys:
            if key in seeds:
                return seeds[key]
        return None

    for seed in sorted({s for s in (seed_of(p, lab) for p, lab in items) if s is not None}):
        _world_target(seed, worlds_dir)
    from ..datasets import find_data_dir

    try:
        default_world = find_data_dir()
    except CrmlabError:
        default_world = None
    worlds: dict = {}
    specs: dict = {}
    results_dir = out / "results" if out is not None else None
    todo, records = [], {}
    for path, label in items:
        item = {"path": path, "label": label, "student": student_id(label), "notes": []}
        record = {"format": RESULT_FORMAT, "submission": label, "student": item["student"],
                  "exercise": None, "seed": None, "status": "not gradable", "error": "", "notes": []}
        try:
            item["sha256"] = record["sha256"] = _sha256(path)
            nb = _submission_notebook(path)
            name = _assignment_name(nb)
            record["exercise"] = name
            if name not in specs:
                try:
                    specs[name] = load_spec(build_dir, name)
                except _NotGradable as err:
                    specs[name] = err
            if isinstance(specs[name], _NotGradable):
                raise specs[name]
            spec = specs[name]
            record["build"] = spec["master_sha256"]
            item["cells"] = _code_cells(nb)
            item["manual_text"] = gradebook.manual_answers(nb, spec)
            seed = seed_of(path, label)
            record["seed"] = seed
            if seeds and seed is None:
                record["notes"].append("no seed for this submission in the seed map: graded on the default world")
            if seed is not None:
                if seed not in worlds:
                    try:
                        worlds[seed] = world_for_seed(seed, worlds_dir)
                    except Exception as err:
                        worlds[seed] = _NotGradable(f"could not generate the world of seed {seed}: "
                                                    f"{type(err).__name__}: {_short(str(err), 120)}")
                world = worlds[seed]
                if isinstance(world, _NotGradable):
                    raise world
            else:
                world = default_world
                if world is None:
                    raise _NotGradable("no default world to grade on (run `make data` or set CRMLAB_DATA)")
            item["world"] = world
        except _NotGradable as err:
            record["error"] = str(err)
        except OSError as err:
            record["error"] = f"could not read the file: {err.strerror or err}"
        key = _result_key(label)
        record["limits"] = {"timeout": float(timeout), "memory_mb": int(memory_mb)}
        previous = None
        if results_dir is not None and (results_dir / f"{key}.json").is_file():
            try:
                previous = json.loads((results_dir / f"{key}.json").read_text(encoding="utf-8"))
            except ValueError:
                previous = None
        if not record["error"]:
            same = previous is not None and previous.get("status") == "graded" and all(
                previous.get(k) == record.get(k) for k in ("sha256", "build", "seed", "exercise"))
            if same and not regrade:
                records[key] = previous
                continue
            todo.append((key, item, record))
        else:
            records[key] = record

    checker = Checker()
    lock = threading.Lock()
    # `jobs` sandboxes run at once; a sandbox's slot is freed as soon as the notebook has run, so
    # the next one starts while this one's answers are checked (in this process)
    sandboxes = threading.BoundedSemaphore(jobs)
    free_slots = list(range(jobs))
    store = {_result_key(str(r.get("submission", ""))): r
             for r in _all_records(results_dir, {})} if results_dir is not None else {}

    def save(key: str, record: dict) -> None:
        with lock:
            records[key] = record
            store[key] = record
            if results_dir is not None:
                _write_json(results_dir / f"{key}.json", record)
                gradebook.write_class_csv(out, sorted(store.values(), key=lambda r: _natural(str(r.get("submission")))),
                                          specs_for(out))
            if on_result is not None:
                on_result(record)

    def specs_for(_out):
        return {n: s for n, s in specs.items() if isinstance(s, dict)}

    def work(key: str, item: dict, record: dict) -> None:
        from . import sandbox

        spec = specs[record["exercise"]]
        try:
            with sandboxes:
                with lock:
                    slot = free_slots.pop()
                try:
                    ran = sandbox.run_notebook_cells(item["cells"], spec["answers"], item["world"], limits=limits,
                                                     slot=slot, mode=mode)
                finally:
                    with lock:
                        free_slots.append(slot)
            outcome = _grade_item(item, spec, checker, limits, slot, mode, result=ran)
        except Exception as err:  # a grader fault: this row only, retried by the next run
            outcome = {"status": "grader error", "error": f"{type(err).__name__}: {_short(str(err), 200)}"}
        notes = record["notes"] + outcome.pop("notes", [])
        record.update(outcome)
        record["notes"] = notes
        record["manual_text"] = item.get("manual_text", {})
        save(key, record)

    # results already on disk (and files that cannot be graded) are written first
    for key, record in list(records.items()):
        target = results_dir / f"{key}.json" if results_dir is not None else None
        if target is not None and record.get("status") != "graded":
            try:
                unchanged = json.loads(target.read_text(encoding="utf-8")) == json.loads(json.dumps(record))
            except (OSError, ValueError):
                unchanged = False
            if not unchanged:
                _write_json(target, record)
    bar = _progress(None, progress, "grading", "submission", total=len(todo))
    if jobs == 1 or len(todo) <= 1:
        for key, item, record in todo:
            work(key, item, record)
            bar.update(1)
    else:
        with ThreadPoolExecutor(max_workers=min(jobs + 2, len(todo))) as pool:
            futures = [pool.submit(work, key, item, record) for key, item, record in todo]
            for future in as_completed(futures):
                future.result()
                bar.update(1)
    bar.close()
    everything = _all_records(results_dir, records) if results_dir is not None else \
        sorted(records.values(), key=lambda r: _natural(str(r.get("submission", ""))))
    gradebook.flag_duplicates(everything)
    all_specs = {n: s for n, s in specs.items() if isinstance(s, dict)}
    for record in everything:
        name = record.get("exercise")
        if name and name not in all_specs:
            try:
                all_specs[name] = load_spec(build_dir, name)
            except _NotGradable:
                pass
    if out is not None:
        gradebook.write_all(out, everything, all_specs)
    return gradebook.class_table(everything, all_specs, out)


def _all_records(results_dir: Path | None, fresh: dict) -> list[dict]:
    """Every result in the store (those of earlier runs too), this run's taking precedence."""
    merged: dict = {}
    if results_dir is not None:
        for path in sorted(results_dir.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("format") == RESULT_FORMAT:
                merged[path.stem] = data
    merged.update(fresh)
    return sorted(merged.values(), key=lambda r: _natural(str(r.get("submission", ""))))


def _natural(name: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name)]
