"""A class of exercise-00 submissions, honest and hostile, graded in one batch (once per session).

Each attack seen when the kit was tried on a real class is a submission here, next to honest
ones, and every row must get the score its answers deserve: tampering with builtins, objects
equal to anything, rewritten tests, a patched runner or checker, forged results, solutions
imported through ``crmlab.__file__``, classmates found through ``/proc``, overwriting another
submission, a master or the autograder build, a ``.pth`` planted in the venv, killing the parent,
processes left behind, a fork bomb, a 3 GB allocation, endless loops, malformed notebooks, odd
file names and duplicate student ids. Solution: 7 points (q1 2, q2 1, q3 2, q4 1, q5 1).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from crmlab.course import grading, sandbox

REPO = Path(__file__).resolve().parents[1]
NAME = "00-welcome-and-data-tour"
MASTER = REPO / "exercises" / NAME / f"{NAME}.ipynb"
SITE = next(p for p in sys.path if p.endswith("site-packages"))
TIMEOUT = 20

pytestmark = pytest.mark.skipif(sandbox.isolation_status().mode == "unavailable",
                                reason=f"no sandbox here: {sandbox.isolation_status().reason}")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digest(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): _digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _stray(marker: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(entry)
            except OSError:
                pass
    return found


def _class(build: Path, subs: Path) -> dict:
    """Write the class into ``subs``; returns {label: expected total (None: not gradable)}."""
    ex = build / NAME
    solution = nbformat.read(ex / "autograder" / f"{NAME}.ipynb", as_version=4)
    blank = nbformat.read(ex / "student" / f"{NAME}.ipynb", as_version=4)
    S = [c.source for c in solution.cells if c.cell_type == "code"]
    B = [c.source for c in blank.cells if c.cell_type == "code"]
    setup = S[0]
    zip_path = next((ex / "autograder").glob("*.zip"))
    spec_path = ex / grading.SPEC_FILE

    def write(label: str, cells: list[str], meta_from=blank) -> None:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nb.metadata = json.loads(json.dumps(meta_from.metadata))
        path = subs / label
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)

    def replaced(cells, old, new):
        out = [c.replace(old, new) for c in cells]
        assert out != list(cells), old
        return out

    wrong = """
n_b2b_north = 1
n_large_b2b = 1
churn_share = 0.5
median_response = tickets.groupby("channel")["first_response_hours"].median().sort_values() + 1
q4_answer = "b"
q5_answer = "a"
"""
    blank_answers = "\n".join(f"{v} = ..." for v in ("n_b2b_north", "n_large_b2b", "churn_share",
                                                     "median_response", "q4_answer", "q5_answer"))
    expected: dict = {}
    # --- honest -------------------------------------------------------------------------------
    write("alice.ipynb", S)
    expected["alice.ipynb"] = 7
    write("bob.ipynb", B)
    expected["bob.ipynb"] = 0
    write("carol/homework final (2).ipynb", S)
    expected["carol/homework final (2).ipynb"] = 7
    write("dave-wrong-values.ipynb", [setup, wrong])
    expected["dave-wrong-values.ipynb"] = 0
    write("erin-unsorted.ipynb", replaced(S, '.median().sort_values()  # SOLUTION', '.median()  # SOLUTION'))
    expected["erin-unsorted.ipynb"] = 6
    # --- tampering ------------------------------------------------------------------------------
    write("h01-builtins.ipynb", [setup, wrong, """
import builtins, numpy
builtins.abs = lambda x: 0
builtins.isinstance = lambda *a: True
builtins.all = lambda *a: True
numpy.allclose = lambda *a, **k: True
pd.Series.equals = lambda *a, **k: True
"""])
    expected["h01-builtins.ipynb"] = 0
    write("h02-equal-to-anything.ipynb", [setup, """
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __sub__(self, other): return 0
    def __abs__(self): return 0
    def __lt__(self, other): return True
    def __int__(self): return 0
    def strip(self): return self
    def lower(self): return self

class LiarFloat(float):
    def __eq__(self, other): return True
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __float__(self): return 0.123

class LiarStr(str):
    def __eq__(self, other): return True
    def strip(self): return self
    def lower(self): return self

n_b2b_north = Anything(); n_large_b2b = Anything()
churn_share = LiarFloat(0.9)
median_response = Anything()
q4_answer = LiarStr("z"); q5_answer = LiarStr("z")
"""])
    expected["h02-equal-to-anything.ipynb"] = 0
    write("h03-rewrite-tests.ipynb", [setup, blank_answers, f"""
import os, pathlib, json
os.makedirs("tests", exist_ok=True)
for q in ("q1", "q2", "q3", "q4", "q5"):
    pathlib.Path("tests", q + ".py").write_text("OK_FORMAT = False\\ntest = {{'name': '{{q}}', 'points': 100, 'suites': []}}")
for target in [{str(spec_path)!r}, "/grading.json", "grading.json"]:
    try:
        pathlib.Path(target).write_text(json.dumps({{"questions": [], "points": 700}}))
    except OSError:
        pass
"""])
    expected["h03-rewrite-tests.ipynb"] = 0
    write("h04-patch-runner-and-checker.ipynb", [setup, wrong, """
import json
import crmlab.course.checker as checker, crmlab.course.plain as plain, crmlab.course.runner as runner
checker.Checker.check = lambda *a, **k: [checker.QuestionResult(q, 100.0, 1.0) for q in ("q1", "q2", "q3", "q4", "q5")]
checker.failure_message = lambda *a, **k: "ok"
plain.encode = lambda value, *a, **k: {"t": "int", "v": "-1"}
import otter
otter.Notebook.check = lambda *a, **k: None
_dumps = json.dumps
def forged(doc, *a, **k):
    if isinstance(doc, dict) and "answers" in doc:
        doc = dict(doc, points=700, total=700, possible=700, questions={"q1": {"points": 700}})
    return _dumps(doc, *a, **k)
json.dumps = forged
"""])
    expected["h04-patch-runner-and-checker.ipynb"] = 0
    write("h05-forged-pickle.ipynb", [setup, blank_answers, """
import pickle, pathlib
class Results:
    total = 700; possible = 7
pickle.dump = lambda obj, f, *a, **k: f.write(pickle.dumps(Results()))
for name in ("results.pkl", "results.json", "grades.csv", "/tmp/results.pkl"):
    try:
        pathlib.Path(name).write_text("submission,total\\nh05-forged-pickle.ipynb,700\\n")
    except OSError:
        pass
"""])
    expected["h05-forged-pickle.ipynb"] = 0
    write("h06-solutions-via-crmlab-file.ipynb", [setup, blank_answers, f"""
import json, pathlib, crmlab
for master in [pathlib.Path(crmlab.__file__).resolve().parents[1] / "exercises" / "{NAME}" / "{NAME}.ipynb",
               pathlib.Path({str(ex / 'autograder' / f'{NAME}.ipynb')!r})]:
    try:
        cells = json.loads(master.read_text())["cells"]
    except OSError:
        continue
    for cell in cells:
        if cell["cell_type"] == "code" and "SOLUTION" in "".join(cell["source"]):
            exec("".join(cell["source"]))
"""])
    expected["h06-solutions-via-crmlab-file.ipynb"] = 0
    write("h07-classmates-via-proc.ipynb", [setup, blank_answers, f"""
import os, json, pathlib
found = set()
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for what in ("cwd", "root"):
            try:
                found.add(os.readlink(f"/proc/{{pid}}/{{what}}"))
            except OSError:
                pass
        try:
            found.update(open(f"/proc/{{pid}}/cmdline").read().split("\\0"))
        except OSError:
            pass
found.add({str(subs)!r})
for folder in found:
    try:
        for name in os.listdir(folder):
            if name.startswith("alice"):
                for cell in json.loads(pathlib.Path(folder, name).read_text())["cells"]:
                    if cell["cell_type"] == "code":
                        exec("".join(cell["source"]))
    except OSError:
        pass
"""])
    expected["h07-classmates-via-proc.ipynb"] = 0
    write("h08-overwrite-others.ipynb", [setup, blank_answers, f"""
for target in [{str(subs / 'alice.ipynb')!r}, {str(MASTER)!r}]:
    try:
        with open(target, "a") as f:   # appending nothing: harmless if it ever succeeded
            f.write("")
        print("WROTE", target)
    except OSError:
        pass
"""])
    expected["h08-overwrite-others.ipynb"] = 0
    write("h09-rewrite-autograder.ipynb", [setup, blank_answers, f"""
import zipfile
for target in [{str(zip_path)!r}, {str(spec_path)!r}]:
    try:
        with open(target, "a") as f:
            f.write("")
    except OSError:
        pass
"""])
    expected["h09-rewrite-autograder.ipynb"] = 0
    write("h10-pth-in-venv.ipynb", [setup, blank_answers, f"""
import pathlib
try:
    pathlib.Path({SITE!r}, "zz_crmlab_hostile.pth").write_text("import os")
except OSError:
    pass
"""])
    expected["h10-pth-in-venv.ipynb"] = 0
    write("h11-kill-parent.ipynb", [*S, """
import os, signal
for target in (os.getppid(), -1, 0):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
"""])
    expected["h11-kill-parent.ipynb"] = 7   # nothing outside the sandbox can be reached
    write("h12-child-outlives.ipynb", [*S, """
import subprocess
subprocess.Popen(["sleep", "86398"], start_new_session=True)
"""])
    expected["h12-child-outlives.ipynb"] = 7
    write("h13-fork-bomb.ipynb", [setup, """
import os
for _ in range(3000):
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "86397"])
""", *S[1:]])
    expected["h13-fork-bomb.ipynb"] = 7
    write("h14-3gb.ipynb", replaced(S, 'n_b2b_north = int(', 'n_b2b_north = len(bytearray(3 * 2**30)) * 0 + int('))
    expected["h14-3gb.ipynb"] = 5
    q5 = next(i for i, c in enumerate(S) if c.startswith("q5_answer"))
    write("h15-endless-loop.ipynb", [*S[:q5], "while True:\n    pass", *S[q5:]])
    expected["h15-endless-loop.ipynb"] = 6
    write("h16-stubborn-loop.ipynb", [*S, "while True:\n    try:\n        while True:\n            pass\n"
                                           "    except BaseException:\n        pass"])
    expected["h16-stubborn-loop.ipynb"] = 0
    # --- malformed ------------------------------------------------------------------------------
    (subs / "m01-not-json.ipynb").write_text("{not json")
    (subs / "m02-empty.ipynb").write_text("")
    (subs / "m03-cells-not-a-list.ipynb").write_text('{"cells": "x", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    bad = json.loads(json.dumps(blank.metadata))
    bad["otter"]["assignment_name"] = "../../etc"
    write("m04-path-in-name.ipynb", B, meta_from=nbformat.from_dict({"metadata": bad}))
    (subs / "m05-binary.ipynb").write_bytes(bytes(range(256)) * 4)
    with zipfile.ZipFile(subs / "m06-two-notebooks.zip", "w") as zf:
        zf.writestr("a.ipynb", nbformat.writes(blank))
        zf.writestr("b.ipynb", nbformat.writes(blank))
    other = json.loads(json.dumps(blank.metadata))
    other["otter"]["assignment_name"] = "99-not-built"
    write("m07-not-built.ipynb", B, meta_from=nbformat.from_dict({"metadata": other}))
    write("m08-foreign.ipynb", ["x = 1"], meta_from=nbformat.v4.new_notebook())
    (subs / "m09-notes.txt").write_text("I could not open Jupyter; my answer is 300")
    for label in ("m01-not-json.ipynb", "m02-empty.ipynb", "m03-cells-not-a-list.ipynb", "m04-path-in-name.ipynb",
                  "m05-binary.ipynb", "m06-two-notebooks.zip", "m07-not-built.ipynb", "m08-foreign.ipynb",
                  "m09-notes.txt"):
        expected[label] = None
    # --- odd names and duplicate ids -----------------------------------------------------------
    for label, cells, total in [("Zoë Ünïcode.ipynb", S, 7), ("-rf ;$(touch pwned).ipynb", B, 0),
                                ("n" * 150 + ".ipynb", S, 7), ("s047.ipynb", S, 7), ("S047.ipynb", B, 0),
                                ("x.ipynb", S, 7), ("x (1).ipynb", S, 7)]:
        write(label, cells)
        expected[label] = total
    shutil.copy(subs / "alice.ipynb", subs / "yan.ipynb")   # a classmate's file handed in as is
    expected["yan.ipynb"] = 7
    return expected


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    build = root / "build"
    grading.build_exercise(MASTER, build / NAME)
    subs = root / "subs"
    subs.mkdir()
    expected = _class(build, subs)
    before = {"build": _tree_digest(build), "alice": _digest(subs / "alice.ipynb"), "master": _digest(MASTER),
              "pth": sorted(p.name for p in Path(SITE).glob("*.pth"))}
    graded: list = []
    table = grading.grade_submissions(subs, build_dir=build, out_dir=root / "grades", jobs=2, timeout=TIMEOUT,
                                      grace=3, on_result=graded.append)
    return SimpleNamespace(root=root, build=build, subs=subs, out=root / "grades", expected=expected,
                           table=table.set_index("submission"), before=before, graded=graded)


class TestHostileClass:
    def test_every_submission_gets_the_score_it_deserves(self, hostile):
        table = hostile.table
        assert sorted(table.index) == sorted(hostile.expected)
        wrong = {}
        for label, total in hostile.expected.items():
            row = table.loc[label]
            if total is None:
                if row["status"] != "not gradable" or pd.notna(row["total"]):
                    wrong[label] = (row["status"], row["total"])
            elif row["status"] != "graded" or row["total"] != total or row["possible"] != 7:
                wrong[label] = (row["status"], row["total"], row["possible"], row["notes"], row["error"])
        assert not wrong, wrong

    def test_nothing_outside_the_sandbox_changed(self, hostile):
        assert _tree_digest(hostile.build) == hostile.before["build"], "the build (spec, zip) was modified"
        assert _digest(hostile.subs / "alice.ipynb") == hostile.before["alice"]
        assert _digest(MASTER) == hostile.before["master"]
        assert sorted(p.name for p in Path(SITE).glob("*.pth")) == hostile.before["pth"]
        assert not (hostile.subs / "tests").exists() and not (hostile.subs / "pwned").exists()
        assert not Path("pwned").exists()

    def test_no_process_outlives_grading(self, hostile):
        for marker in ("sleep\x0086398", "sleep\x0086397"):
            assert _stray(marker) == [], marker

    def test_rows_explain_what_happened(self, hostile):
        notes = hostile.table["notes"]
        assert "MemoryError" in notes["h14-3gb.ipynb"] and "out of memory" in notes["h14-3gb.ipynb"]
        assert f"stopped at the {TIMEOUT} s time limit" in notes["h15-endless-loop.ipynb"]
        assert f"stopped after {TIMEOUT} s" in notes["h16-stubborn-loop.ipynb"]
        assert "BlockingIOError" in notes["h13-fork-bomb.ipynb"]
        errors = hostile.table["error"]
        assert "not a Jupyter notebook" in errors["m01-not-json.ipynb"]
        assert "no otter assignment name" in errors["m04-path-in-name.ipynb"]
        assert "2 notebooks" in errors["m06-two-notebooks.zip"]
        assert "not built" in errors["m07-not-built.ipynb"]

    def test_duplicate_ids_are_reported_and_kept_out_of_the_gradebooks(self, hostile):
        notes = hostile.table["notes"]
        for label in ("s047.ipynb", "S047.ipynb", "x.ipynb", "x (1).ipynb"):
            assert "duplicate student id" in notes[label], label
        assert "byte-identical to alice.ipynb" in notes["yan.ipynb"] and "byte-identical" in notes["alice.ipynb"]
        canvas = pd.read_csv(hostile.out / "gradebook-canvas.csv")
        row = canvas.set_index("Student")
        assert pd.isna(row.loc["s047", NAME]) and row.loc["alice", NAME] == 7.0
        assert row.loc["Points Possible", NAME] == 7.0

    def test_outputs_are_complete(self, hostile):
        csv = pd.read_csv(hostile.out / "grades.csv")
        assert len(csv) == len(hostile.expected)
        assert (hostile.out / "feedback" / "alice" / f"{NAME}.md").is_file()
        moodle = pd.read_csv(hostile.out / "gradebook-moodle.csv")
        assert list(moodle.columns) == ["ID number", NAME]
        summary = pd.read_csv(hostile.out / "summary.csv")
        assert summary["question"].tolist() == ["q1", "q2", "q3", "q4", "q5"]
        assert len(list((hostile.out / "results").glob("*.json"))) == len(hostile.expected)

    def test_feedback_explains_without_giving_the_value_away(self, hostile):
        text = (hostile.out / "feedback" / "dave-wrong-values" / f"{NAME}.md").read_text()
        assert "**Score: 0 / 7**" in text
        assert "the value of `churn_share` is not the expected one for your world" in text
        from crmlab import datasets

        share = float(datasets.load("memberships")["churned"].mean())
        assert f"{share:.3f}" not in text and f"{share:.2f}" not in text

    def test_a_rerun_skips_what_is_graded_and_a_later_blank_scores_zero(self, hostile):
        shutil.copy(hostile.build / NAME / "student" / f"{NAME}.ipynb", hostile.subs / "zz-late-blank.ipynb")
        stamps = {p.name: p.stat().st_mtime_ns for p in (hostile.out / "results").glob("*.json")}
        fresh: list = []
        table = grading.grade_submissions(hostile.subs, build_dir=hostile.build, out_dir=hostile.out,
                                          timeout=TIMEOUT, grace=3, on_result=fresh.append).set_index("submission")
        assert [r["submission"] for r in fresh] == ["zz-late-blank.ipynb"]
        assert table.loc["zz-late-blank.ipynb", "total"] == 0, "an earlier submission changed later grading"
        for name, stamp in stamps.items():
            assert (hostile.out / "results" / name).stat().st_mtime_ns == stamp, f"{name} was rewritten"
        # regrading one file updates its row only
        fresh.clear()
        grading.grade_submissions(hostile.subs / "alice.ipynb", build_dir=hostile.build, out_dir=hostile.out,
                                  timeout=TIMEOUT, regrade=True, on_result=fresh.append)
        assert [r["submission"] for r in fresh] == ["alice.ipynb"]
        csv = pd.read_csv(hostile.out / "grades.csv").set_index("submission")
        assert len(csv) == len(hostile.expected) + 1 and csv.loc["alice.ipynb", "total"] == 7
