"""The exercise pipeline itself: grading a class into a grades folder, per-student seeds, leak
detection, the students' self-check, `make lab`, the `crmlab exercises` command line and its errors.

Built on the welcome exercise (00); per-exercise checks are in test_exercises.py, the sandbox in
test_grading_sandbox.py and the hostile class in test_grading_hostile.py.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from crmlab import datasets
from crmlab.cli import main
from crmlab.course import grading
from crmlab.errors import CrmlabError, DatasetNotFoundError, OutputExistsError, ParameterError

REPO = Path(__file__).resolve().parents[1]
WELCOME = "00-welcome-and-data-tour"
MASTER = REPO / "exercises" / WELCOME / f"{WELCOME}.ipynb"


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())


@pytest.fixture(scope="module")
def build00(tmp_path_factory):
    """`crmlab exercises build --out DIR 00` (once per worker)."""
    out = tmp_path_factory.mktemp("build00")
    result = run_cli(["exercises", "build", "--exercises-dir", str(REPO / "exercises"), "--out", str(out), "00"])
    ex = out / WELCOME
    return SimpleNamespace(dir=out, cli=result, student=ex / "student" / f"{WELCOME}.ipynb",
                           solution=ex / "autograder" / f"{WELCOME}.ipynb")


def _answer_cell(nb, variable):
    return next(c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(f"{variable} ="))


def test_cli_build_writes_the_copies(build00):
    assert build00.cli.code == 0, build00.cli.err
    assert f"built {WELCOME}" in build00.cli.out and "7 auto-graded points" in build00.cli.out
    assert build00.student.is_file() and build00.solution.is_file()
    assert len(list((build00.dir / WELCOME / "autograder").glob("*-autograder_*.zip"))) == 1
    assert build00.cli.err == "", "a clean build reports no problem"


def test_chinese_copies_are_built_beside_and_graded_with_the_english_build(build00, tmp_path):
    """The Chinese master (exercises/NN/zh/) builds to BUILD/zh/NAME; its submissions carry the same
    assignment name, so the English build's spec grades them: full marks for the solution, zero blank."""
    zh = build00.dir / "zh" / WELCOME
    assert f"built {WELCOME} (zh)" in build00.cli.out, build00.cli.out
    student = nbformat.read(zh / "student" / f"{WELCOME}.ipynb", as_version=4)
    assert "第 1 题" in "".join(c.source for c in student.cells if c.cell_type == "markdown")
    assert grading.check_student_copy(zh / "student" / f"{WELCOME}.ipynb", grading.twin_masters(MASTER)["zh"]) == []
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(zh / "autograder" / f"{WELCOME}.ipynb", subs / "li.ipynb")
    shutil.copy(zh / "student" / f"{WELCOME}.ipynb", subs / "wang.ipynb")
    table = grading.grade_submissions(subs, build_dir=build00.dir, out_dir=None, timeout=300,
                                      jobs=1).set_index("submission")
    assert (table["status"] == "graded").all() and (table["exercise"] == WELCOME).all(), table["error"].tolist()
    assert table.loc["li.ipynb", "total"] == 7 and table.loc["wang.ipynb", "total"] == 0


def test_cli_check_existing_build(build00):
    result = run_cli(["exercises", "check", "--no-build", "--exercises-dir", str(REPO / "exercises"),
                      "--out", str(build00.dir), WELCOME])
    assert result.code == 0 and f"{WELCOME}: student copy clean" in result.out


def test_rebuild_replaces_previous_build(build00, tmp_path):
    out = tmp_path / WELCOME
    shutil.copytree(build00.dir / WELCOME, out)
    (out / "student" / "stale.txt").write_text("from an old build")
    (out / "autograder" / f"{WELCOME}-autograder_2000_01_01T00_00_00_000000.zip").write_bytes(b"old")
    assert (out / grading.MARKER).is_file(), "a build marks its folder as crmlab's"
    again = grading.build_exercise(MASTER, out)
    assert not (out / "student" / "stale.txt").exists()
    assert sorted((out / "autograder").glob("*.zip")) == [again.autograder_zip]
    assert again.points == {"q1": 2, "q2": 1, "q3": 2, "q4": 1, "q5": 1} and again.possible == 7


def test_cli_grade_writes_a_grades_folder(build00, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "notes.txt").write_text("not a notebook")
    (subs / "empty.ipynb").write_text("")
    out = tmp_path / "grades"
    result = run_cli(["exercises", "grade", str(subs), "--out", str(out), "--build", str(build00.dir),
                      "--jobs", "2", "--timeout", "60", "--memory", "1024"])
    assert result.code == 0 and "2 submission(s)" in result.out and "2 not gradable" in result.out
    table = pd.read_csv(out / "grades.csv", keep_default_na=False)
    assert table["submission"].tolist() == ["empty.ipynb", "notes.txt"]
    assert all("not a Jupyter notebook" in e for e in table["error"])
    for name in ("summary.csv", "gradebook-canvas.csv", "gradebook-moodle.csv"):
        assert (out / name).is_file(), name


def test_cli_grade_out_must_be_a_folder_and_never_a_submission(build00, tmp_path):
    """`grade --out subs/bob.ipynb` used to replace bob's notebook with the grades CSV."""
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(build00.student, subs / "bob.ipynb")
    before = (subs / "bob.ipynb").read_bytes()
    result = run_cli(["exercises", "grade", str(subs), "--out", str(subs / "bob.ipynb"), "--build", str(build00.dir)])
    assert result.code == 2 and "exists and is not a folder" in result.err and result.err.count("\n") == 1
    result = run_cli(["exercises", "grade", str(subs), "--out", str(tmp_path / "grades.csv"), "--build", str(build00.dir)])
    assert result.code == 2 and "grading now writes a folder" in result.err and "--out" in result.err
    assert (subs / "bob.ipynb").read_bytes() == before


def test_cli_grade_never_writes_into_a_folder_it_did_not_make(build00, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "notes.txt").write_text("not a notebook")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "spreadsheet.csv").write_text("my own spreadsheet\n")
    result = run_cli(["exercises", "grade", str(subs), "--out", str(out), "--build", str(build00.dir)])
    assert result.code == 2 and "was not written by crmlab as a grades folder" in result.err
    assert sorted(p.name for p in out.iterdir()) == ["spreadsheet.csv"]


def test_cli_grade_never_deletes_a_folder_in_the_worlds_dir(build00, tmp_path):
    """`grade --worlds DIR` used to delete a user's DIR/seed-3 and put a world there."""
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(build00.student, subs / "alice.ipynb")
    (tmp_path / "seeds.csv").write_text("submission,seed\nalice.ipynb,3\n")
    worlds = tmp_path / "mine"
    (worlds / "seed-3").mkdir(parents=True)
    (worlds / "seed-3" / "results.txt").write_text("three years of work")
    out = tmp_path / "g"
    result = run_cli(["exercises", "grade", str(subs), "--out", str(out), "--build", str(build00.dir),
                      "--seed-map", str(tmp_path / "seeds.csv"), "--worlds", str(worlds)])
    assert result.code == 2 and result.err.count("\n") == 1
    assert "was not written by crmlab as a cached world" in result.err and "--worlds" in result.err
    assert (worlds / "seed-3" / "results.txt").read_text() == "three years of work"
    assert sorted(p.name for p in worlds.iterdir()) == ["seed-3"] and not (out / "grades.csv").exists()
    with pytest.raises(OutputExistsError):
        grading.world_for_seed(3, worlds)


@pytest.mark.parametrize("argv,message", [
    (["exercises"], "required: ACTION"),
    (["exercises", "grade", "subs", "--timeout", "0"], "must be positive"),
    (["exercises", "grade", "subs", "--memory", "-5"], "must be positive"),
    (["exercises", "frobnicate"], "invalid choice"),
])
def test_cli_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_cli_bad_values_report_the_fix(build00, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.ipynb").write_text("{}")
    (tmp_path / "bad_seeds.csv").write_text("student,seed\na.ipynb,7\n")
    cases = [
        (["exercises", "build", "--out", str(tmp_path / "b"), "nope"], "no exercise named 'nope'"),
        (["exercises", "build", "--exercises-dir", str(tmp_path / "none")], "is not a folder"),
        (["exercises", "check", "--no-build", "--exercises-dir", str(REPO / "exercises"),
          "--out", str(tmp_path / "empty"), "00"], "does not exist"),
        (["exercises", "grade", str(tmp_path / "missing"), "--build", str(build00.dir)], "does not exist"),
        (["exercises", "grade", str(subs), "--build", str(tmp_path)], "no built exercises"),
        (["exercises", "grade", str(subs), "--build", str(build00.dir), "--out", str(tmp_path / "x.csv")],
         "grading now writes a folder"),
        (["exercises", "grade", str(subs), "--build", str(build00.dir), "--seed-map", str(tmp_path / "x.csv")],
         "seed map"),
        (["exercises", "grade", str(subs), "--build", str(build00.dir), "--seed-map",
          str(tmp_path / "bad_seeds.csv")], "needs the columns submission and seed"),
    ]
    for argv, message in cases:
        result = run_cli(argv)
        assert result.code == 2, argv
        assert message in result.err and "Fix:" in result.err, (argv, result.err)


def _make_class(build00, folder: Path):
    """A small class: perfect, blank, crashing, foreign and garbage submissions."""
    folder.mkdir()
    perfect = nbformat.read(build00.solution, as_version=4)
    # a kernel name the grading machine does not have: grading must not depend on it
    perfect.metadata["kernelspec"] = {"name": "students-laptop-env", "display_name": "x", "language": "python"}
    nbformat.write(perfect, folder / "alice.ipynb")
    shutil.copy(build00.student, folder / "bob.ipynb")
    crash = nbformat.read(build00.solution, as_version=4)
    setup = next(c for c in crash.cells if c.cell_type == "code")
    setup.source = 'raise RuntimeError("boom")\n' + setup.source
    (folder / "carol").mkdir()
    nbformat.write(crash, folder / "carol" / "homework final (2).ipynb")
    (folder / "dave.txt").write_text("I could not open Jupyter, here is my answer: 300")
    (folder / "erin.ipynb").write_text("{not json")
    foreign = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(foreign, folder / "frank.ipynb")
    (folder / "hal.ipynb").write_text('{"cells": [], "metadata": {"otter": "oops"}, "nbformat": 4, '
                                      '"nbformat_minor": 5}')
    (folder / "ida.ipynb").write_text("{}")
    with zipfile.ZipFile(folder / "jack.zip", "w") as zf:
        zf.write(build00.student, "a.ipynb")
        zf.write(build00.student, "b.ipynb")
    other = nbformat.read(build00.student, as_version=4)
    other.metadata["otter"]["assignment_name"] = "99-not-built"
    nbformat.write(other, folder / "gina.ipynb")
    (folder / ".ipynb_checkpoints").mkdir()
    shutil.copy(build00.student, folder / ".ipynb_checkpoints" / "bob-checkpoint.ipynb")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")


@pytest.fixture(scope="class")
def class_grades(build00, tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    _make_class(build00, root / "subs")
    out = root / "out" / "grades"
    table = grading.grade_submissions(root / "subs", build_dir=build00.dir, out_dir=out, jobs=2)
    return SimpleNamespace(table=table.set_index("submission"), csv=out / "grades.csv", out=out, root=root)


class TestGradeAClass:
    def test_one_row_per_submission_hidden_files_skipped(self, class_grades):
        assert sorted(class_grades.table.index) == [
            "alice.ipynb", "bob.ipynb", "carol/homework final (2).ipynb", "dave.txt", "erin.ipynb",
            "frank.ipynb", "gina.ipynb", "hal.ipynb", "ida.ipynb", "jack.zip"]

    def test_csv_columns_and_round_trip(self, class_grades):
        assert list(pd.read_csv(class_grades.csv).columns) == [
            "submission", "student", "exercise", "seed", "status", "q1", "q2", "q3", "q4", "q5",
            "total", "possible", "percent", "hand_pending", "error", "notes"]
        back = pd.read_csv(class_grades.csv, keep_default_na=False).set_index("submission")
        assert float(back.loc["alice.ipynb", "total"]) == 7
        assert back.loc["carol/homework final (2).ipynb", "student"] == "carol"

    def test_perfect_submission_full_marks_whatever_its_kernel(self, class_grades):
        alice = class_grades.table.loc["alice.ipynb"]
        assert alice["exercise"] == WELCOME and alice["error"] == "" and alice["status"] == "graded"
        assert (alice["total"], alice["possible"], alice["percent"]) == (7.0, 7.0, 100.0)
        assert [alice[q] for q in ("q1", "q2", "q3", "q4", "q5")] == [2, 1, 2, 1, 1]

    def test_blank_copy_zero(self, class_grades):
        bob = class_grades.table.loc["bob.ipynb"]
        assert (bob["total"], bob["possible"], bob["percent"], bob["error"]) == (0.0, 7.0, 0.0, "")

    def test_crashing_notebook_is_graded_and_explained(self, class_grades):
        carol = class_grades.table.loc["carol/homework final (2).ipynb"]
        assert carol["exercise"] == WELCOME, "the exercise comes from the metadata, not the file name"
        # the set-up cell raised, so nothing was loaded: only the letters of q4 and q5 are right
        assert carol["possible"] == 7 and carol["total"] == 2 and carol["q4"] == carol["q5"] == 1
        assert carol["notes"].startswith("code cell 1 raised RuntimeError: boom")
        text = (class_grades.out / "feedback" / "carol" / f"{WELCOME}.md").read_text()
        assert "code cell 1 raised RuntimeError: boom" in text

    @pytest.mark.parametrize("name,message", [
        ("dave.txt", "not a Jupyter notebook (a .txt file"),
        ("erin.ipynb", "not a Jupyter notebook (a .ipynb file"),
        ("frank.ipynb", "not an exercise notebook"),
        ("gina.ipynb", "exercise '99-not-built' is not built"),
        ("hal.ipynb", "not an exercise notebook"),
        ("ida.ipynb", "not a Jupyter notebook"),
        ("jack.zip", "zip file with 2 notebooks (expected exactly one)"),
    ])
    def test_ungradable_files_get_a_row_with_the_reason(self, class_grades, name, message):
        row = class_grades.table.loc[name]
        assert message in row["error"] and row["status"] == "not gradable"
        assert pd.isna(row["total"]) and pd.isna(row["percent"]) and pd.isna(row["q1"])

    def test_progress_bar_unless_tqdm_disabled(self, build00, tmp_path, monkeypatch, capsys):
        files = [tmp_path / "a.ipynb", tmp_path / "b.ipynb"]
        for f in files:
            shutil.copy(build00.student, f)
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
        grading.grade_submissions(files, build_dir=build00.dir, out_dir=None)
        assert "grading" in capsys.readouterr().err
        monkeypatch.setenv("TQDM_DISABLE", "1")
        grading.grade_submissions(files, build_dir=build00.dir, out_dir=None)
        assert "grading" not in capsys.readouterr().err

    def test_one_job_gives_the_same_rows(self, class_grades, build00, tmp_path):
        """jobs=2 runs two sandboxes at once; every row, score and message is the same as one at a time."""
        _make_class(build00, tmp_path / "subs")
        one = grading.grade_submissions(tmp_path / "subs", build_dir=build00.dir, out_dir=None, jobs=1)
        pd.testing.assert_frame_equal(one.set_index("submission"), class_grades.table)
        with pytest.raises(ParameterError, match="jobs must be >= 1"):
            grading.grade_submissions(tmp_path / "subs", build_dir=build00.dir, out_dir=None, jobs=0)

    def test_results_are_written_as_they_complete(self, class_grades):
        results = sorted((class_grades.out / "results").glob("*.json"))
        assert len(results) == len(class_grades.table)
        record = json.loads(next(p for p in results if p.name.startswith("alice")).read_text())
        assert record["status"] == "graded" and record["questions"]["q1"]["points"] == 2
        assert record["answers"]["q4_answer"] == {"t": "str", "v": "a"}, "the plain answers are kept for audits"

    def test_gradebooks(self, class_grades):
        canvas = pd.read_csv(class_grades.out / "gradebook-canvas.csv")
        assert list(canvas.columns) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", WELCOME]
        assert canvas.iloc[0]["Student"] == "Points Possible" and canvas.iloc[0][WELCOME] == 7
        rows = canvas.set_index("SIS User ID")
        assert rows.loc["alice", WELCOME] == 7 and rows.loc["bob", WELCOME] == 0
        moodle = pd.read_csv(class_grades.out / "gradebook-moodle.csv").set_index("ID number")
        assert moodle.loc["alice", WELCOME] == 7 and moodle.loc["carol", WELCOME] == 2

    def test_summary_says_which_questions_the_class_missed(self, class_grades):
        summary = pd.read_csv(class_grades.out / "summary.csv").set_index("question")
        assert summary.loc["q1", "graded"] == 3 and summary.loc["q1", "full_marks"] == pytest.approx(1 / 3, abs=1e-3)
        assert summary.loc["q4", "kind"] == "multiple choice" and summary.loc["q3", "kind"] == "value"
        assert "not answered" in summary.loc["q2", "most_common_problem"]


def test_grader_check_works_beside_other_notebooks(build00, tmp_path, monkeypatch):
    """`grader.check` used to crash when the folder held a second notebook (an executed copy)."""
    from crmlab.course.selfcheck import Notebook

    folder = tmp_path / "hw"
    folder.mkdir()
    shutil.copy(build00.student, folder / f"{WELCOME}.ipynb")
    shutil.copy(build00.student, folder / f"{WELCOME}.nbconvert.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), folder / "scratch.ipynb")
    monkeypatch.chdir(folder)
    monkeypatch.delenv("CRMLAB_GRADING", raising=False)
    grader = Notebook(WELCOME)
    passed = grader.check("q2", {"churn_share": 0.25})
    assert passed.passed and "This is not a score" in repr(passed)
    failed = grader.check("q2", {"churn_share": 25.0})
    assert not failed.passed and "not a percentage" in repr(failed)
    missing = grader.check("q1", {})
    assert not missing.passed and "run the cell that computes the answer first" in repr(missing)
    with pytest.raises(KeyError, match="no question 'q9'"):
        grader.check("q9", {})
    with pytest.raises(FileNotFoundError, match="found no notebook of exercise"):
        Notebook("99-other").check("q1", {})
    monkeypatch.setenv("CRMLAB_GRADING", "1")
    assert grader.check("q1", {}) is None, "while grading the self-check does nothing"


SEED = 7


@pytest.fixture(scope="class")
def seed_grades(build00, tmp_path_factory):
    root = tmp_path_factory.mktemp("seeds")
    subs = root / "subs"
    subs.mkdir()
    shutil.copy(build00.solution, subs / "alice.ipynb")
    # bob hands in one folder (the guide's layout) and typed in the shipped (seed 2024) world's number
    bob = nbformat.read(build00.solution, as_version=4)
    shipped_share = float(datasets.load("memberships")["churned"].mean())
    _answer_cell(bob, "churn_share").source = f"churn_share = {shipped_share!r}"
    (subs / "bob").mkdir()
    nbformat.write(bob, subs / "bob" / "exercise 00.ipynb")
    # dora tries to fall back to the shipped world from inside the notebook
    dora = nbformat.read(build00.solution, as_version=4)
    dora.cells.insert(0, nbformat.v4.new_code_cell('import os\nos.environ.pop("CRMLAB_DATA", None)'))
    nbformat.write(dora, subs / "dora.ipynb")
    shutil.copy(build00.student, subs / "carl.ipynb")
    seeds = root / "seeds.csv"
    seeds.write_text(f"submission,seed\nalice.ipynb,{SEED}\nbob,{SEED}\ndora,{SEED}\nghost.ipynb,9\n")
    worlds = root / "worlds"
    table = grading.grade_submissions(subs, build_dir=build00.dir, out_dir=root / "g",
                                      seed_map=seeds, worlds_dir=worlds, jobs=2)
    return SimpleNamespace(table=table.set_index("submission"), worlds=worlds, shipped_share=shipped_share)


class TestSeedMap:
    """An instructor gave alice and bob the world of seed 7: grade them against it."""

    def test_world_generated_and_cached_per_seed(self, seed_grades):
        assert sorted(p.name for p in seed_grades.worlds.iterdir()) == [f"seed-{SEED}"], \
            "only the seeds of actual submissions are generated"
        world = seed_grades.worlds / f"seed-{SEED}"
        assert datasets.load_meta(world)["seed"] == SEED
        stamp = (world / "customers.csv").stat().st_mtime_ns
        assert grading.world_for_seed(SEED, seed_grades.worlds) == world
        assert (world / "customers.csv").stat().st_mtime_ns == stamp, "a cached world is not regenerated"
        assert (world / grading.MARKER).is_file()

    def test_a_stale_cached_world_is_replaced(self, seed_grades, tmp_path):
        """A world crmlab cached (marked) but for another version or broken is regenerated."""
        worlds = tmp_path / "worlds"
        shutil.copytree(seed_grades.worlds / f"seed-{SEED}", worlds / f"seed-{SEED}")
        mark = worlds / f"seed-{SEED}" / grading.MARKER
        mark.write_text(mark.read_text().replace('"crmlab": "', '"crmlab": "0.0.0-old-'))
        (worlds / f"seed-{SEED}" / "customers.csv").write_text("truncated")
        world = grading.world_for_seed(SEED, worlds)
        assert len(datasets.load("customers", data_dir=world)) == 5000
        assert sorted(p.name for p in worlds.iterdir()) == [f"seed-{SEED}"], "no temporary folder left"

    def test_perfect_submission_full_marks_on_its_own_world(self, seed_grades):
        alice = seed_grades.table.loc["alice.ipynb"]
        assert alice["seed"] == SEED and alice["error"] == ""
        assert alice["total"] == alice["possible"] == 7

    def test_hard_coded_answer_fails_on_another_world(self, seed_grades):
        seed_share = datasets.load("memberships", data_dir=seed_grades.worlds / f"seed-{SEED}")["churned"].mean()
        assert abs(seed_share - seed_grades.shipped_share) > 1e-6, "the test needs a seed whose churn share differs"
        bob = seed_grades.table.loc["bob/exercise 00.ipynb"]
        assert bob["seed"] == SEED and bob["student"] == "bob", "the seed map's key `bob` names bob's folder"
        # the format check (a float between 0 and 1) passes but is worth nothing: the value is wrong
        assert bob["q2"] == 0, "grading used the shipped world, not the student's seed"
        assert bob["total"] == 6

    def test_the_world_cannot_be_bypassed_from_the_notebook(self, seed_grades):
        dora = seed_grades.table.loc["dora.ipynb"]
        assert dora["seed"] == SEED and dora["total"] == 7, "unsetting CRMLAB_DATA still reads the student's world"

    def test_unmapped_submission_is_flagged(self, seed_grades):
        carl = seed_grades.table.loc["carl.ipynb"]
        assert pd.isna(carl["seed"]) and "no seed for this submission in the seed map" in carl["notes"]


def test_read_seed_map_checks_its_input(tmp_path):
    assert grading.read_seed_map({"a.ipynb": 3}) == {"a.ipynb": 3}
    good = tmp_path / "s.csv"
    good.write_text("submission, seed\n alice.ipynb ,4\nbob,5\n", encoding="utf-8")
    assert grading.read_seed_map(good) == {"alice.ipynb": 4, "bob": 5}
    for content, message in [
        ("submission,seed\nalice,-1\n", "seed from 0 to"),
        ("submission,seed\nalice,seven\n", "seed from 0 to"),
        ("submission,seed\nalice,99999999999999999999999\n", "seed from 0 to 9223372036854775807"),
        ("submission,seed\n,3\n", "expected a submission name"),
        ("submission,seed\nalice,1\nalice,2\n", "two seeds"),
        ("name,seed\nalice,1\n", "needs the columns"),
    ]:
        good.write_text(content)
        with pytest.raises(CrmlabError, match=message) as err:
            grading.read_seed_map(good)
        assert "Fix:" in str(err.value)
    good.write_bytes(b"submission,seed\n\xff\xfe,3\n")
    with pytest.raises(CrmlabError, match="not a readable UTF-8 CSV file"):
        grading.read_seed_map(good)
    with pytest.raises(CrmlabError, match="seed must be a whole number"):
        grading.world_for_seed(-3, tmp_path)


def _write_master(path: Path, cells, kernel: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=cells)
    if kernel:
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_build_exercise_rejects_bad_masters(tmp_path):
    raw, code = nbformat.v4.new_raw_cell, nbformat.v4.new_code_cell
    with pytest.raises(CrmlabError, match="does not exist"):
        grading.build_exercise(tmp_path / "missing.ipynb", tmp_path / "out")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(CrmlabError, match="not an .ipynb file"):
        grading.build_exercise(tmp_path / "notes.txt", tmp_path / "out")
    (tmp_path / "broken.ipynb").write_text("{not json")
    with pytest.raises(CrmlabError, match="not a readable Jupyter notebook"):
        grading.build_exercise(tmp_path / "broken.ipynb", tmp_path / "out")
    plain = _write_master(tmp_path / "plain.ipynb", [code("x = 1")])
    with pytest.raises(CrmlabError, match="no raw cell starting with `# ASSIGNMENT CONFIG`") as err:
        grading.build_exercise(plain, tmp_path / "out")
    assert "Fix:" in str(err.value)
    nameless = _write_master(tmp_path / "nameless.ipynb", [raw("# ASSIGNMENT CONFIG\nrun_tests: false")])
    with pytest.raises(CrmlabError, match="has no `name:`"):
        grading.build_exercise(nameless, tmp_path / "out")
    bad_yaml = _write_master(tmp_path / "yaml.ipynb", [raw("# ASSIGNMENT CONFIG\nname: [x\n")])
    with pytest.raises(CrmlabError, match="not valid YAML"):
        grading.build_exercise(bad_yaml, tmp_path / "out")
    no_kernel = _write_master(tmp_path / "nk" / "nk.ipynb", [raw("# ASSIGNMENT CONFIG\nname: nk")], kernel=False)
    with pytest.raises(CrmlabError, match="has no kernelspec"):
        grading.build_exercise(no_kernel, tmp_path / "nk-out")
    hidden = '""" # BEGIN TEST CONFIG\nhidden: true\n""" # END TEST CONFIG\nassert x == 1'
    unbalanced = _write_master(tmp_path / "ub" / "ub.ipynb", [
        raw("# ASSIGNMENT CONFIG\nname: ub\nrun_tests: false\ngenerate:\n  pdf: false"),
        raw("# BEGIN QUESTION\nname: q1\npoints: 1"), raw("# BEGIN SOLUTION"), code("x = 1  # SOLUTION"),
        raw("# BEGIN TESTS"), code(hidden), raw("# END TESTS"), raw("# END QUESTION")])
    with pytest.raises(CrmlabError, match="otter assign failed"):
        grading.build_exercise(unbalanced, tmp_path / "ub-out")
    # public tests only: the question's points could never be earned
    public_only = _write_master(tmp_path / "po" / "po.ipynb", [
        raw("# ASSIGNMENT CONFIG\nname: po\nrun_tests: false\ngenerate:\n  pdf: false"),
        raw("# BEGIN QUESTION\nname: q1\npoints: 2"), raw("# BEGIN SOLUTION"), code("x = 1  # SOLUTION"),
        raw("# END SOLUTION"), raw("# BEGIN TESTS"), code("assert isinstance(x, int)"), raw("# END TESTS"),
        raw("# END QUESTION")])
    with pytest.raises(CrmlabError, match="q1 has no hidden test, so its 2 point"):
        grading.build_exercise(public_only, tmp_path / "po-out")
    assert not (tmp_path / "po-out").exists(), "a master that cannot be graded stops before anything is written"
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("do not delete")
    with pytest.raises(OutputExistsError, match="was not written by crmlab as an exercise build"):
        grading.build_exercise(MASTER, tmp_path / "precious")
    assert (tmp_path / "precious" / "thesis.tex").exists()
    # a folder shaped like a build (student/ only) but not made by crmlab is not deleted either
    (tmp_path / "lookalike" / "student").mkdir(parents=True)
    (tmp_path / "lookalike" / "student" / "alice.ipynb").write_text("{}")
    with pytest.raises(OutputExistsError, match="no .crmlab-made file"):
        grading.build_exercise(MASTER, tmp_path / "lookalike")
    assert (tmp_path / "lookalike" / "student" / "alice.ipynb").read_text() == "{}"


def test_zipped_submission_is_read_from_the_zip(build00, tmp_path):
    with zipfile.ZipFile(tmp_path / "sub.zip", "w") as zf:
        zf.write(build00.student, f"export/{WELCOME}.ipynb")
        zf.writestr("export/notes.txt", "extra files are ignored")
    nb = grading._submission_notebook(tmp_path / "sub.zip")
    assert nb.metadata["otter"]["assignment_name"] == WELCOME


def test_other_bad_inputs(build00, tmp_path):
    with pytest.raises(CrmlabError, match="timeout must be a positive number"):
        grading.grade_submissions(tmp_path, build_dir=build00.dir, timeout=0)
    with pytest.raises(CrmlabError, match="memory_mb must be >= 256"):
        grading.grade_submissions(tmp_path, build_dir=build00.dir, memory_mb=10)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CrmlabError, match="no submissions found"):
        grading.grade_submissions(tmp_path / "empty", build_dir=build00.dir, out_dir=None)
    with pytest.raises(CrmlabError, match="is not a file"):
        grading.grade_submissions([tmp_path / "nope.ipynb"], build_dir=build00.dir, out_dir=None)
    with pytest.raises(CrmlabError, match="student notebook .* does not exist"):
        grading.check_student_copy(tmp_path / "nope.ipynb", MASTER)
    with pytest.raises(CrmlabError, match="is not a folder"):
        grading.discover_masters(tmp_path / "nowhere")
    assert grading.discover_masters(REPO / "exercises", names=["00"]) == [MASTER]
    assert grading.discover_masters(REPO / "exercises", names=WELCOME) == [MASTER]


def _planted_master(path: Path) -> Path:
    """The welcome master with four classic mistakes.

    q1: the solution cell sits outside the raw BEGIN/END SOLUTION cells (they were deleted), so
    otter ships it, `# SOLUTION` marker and all. q2: the solution line lost its `# SOLUTION`
    marker, so otter copies it unchanged. q4: the explanation of the answer sits after END
    QUESTION (as 08/09's "Why (b)?" cells did), so otter ships it. q5: a multi-line solution
    marked `# SOLUTION` on each line (as 11 q7 was), so the student copy is not valid Python.
    q3 is left intact.
    """
    nb = nbformat.read(MASTER, as_version=4)
    cells = nb.cells

    def find(start, text):
        return next(k for k in range(start, len(cells)) if cells[k].cell_type == "raw" and cells[k].source.startswith(text))

    q1 = next(k for k, c in enumerate(cells) if c.cell_type == "raw" and "name: q1" in c.source)
    begin = find(q1, "# BEGIN SOLUTION")
    end = find(begin, "# END SOLUTION")
    del cells[end], cells[begin]
    q2 = next(k for k, c in enumerate(cells) if c.cell_type == "raw" and "name: q2" in c.source)
    answer = next(c for c in cells[q2:] if c.cell_type == "code")
    answer.source = answer.source.replace("  # SOLUTION", "")
    q4 = next(k for k, c in enumerate(cells) if c.cell_type == "raw" and "name: q4" in c.source)
    why = next(k for k in range(q4, len(cells)) if cells[k].cell_type == "markdown" and cells[k].source.startswith("*Solution.*"))
    end_q4 = find(why, "# END QUESTION")
    cells.insert(end_q4, cells.pop(why))   # right after END QUESTION (the pop shifted it)
    q5 = next(k for k, c in enumerate(cells) if c.cell_type == "raw" and "name: q5" in c.source)
    key = next(c for c in cells[q5:] if c.cell_type == "code" and c.source.startswith("q5_answer"))
    key.source = 'q5_answer = "".join([  # SOLUTION\n    "d",  # SOLUTION\n])  # SOLUTION'
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="class")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    _planted_master(root / "exercises" / WELCOME / f"{WELCOME}.ipynb")
    result = run_cli(["exercises", "check", "--exercises-dir", str(root / "exercises"),
                      "--out", str(root / "build")])
    ex = root / "build" / WELCOME
    return SimpleNamespace(cli=result, student=ex / "student" / f"{WELCOME}.ipynb",
                           master=root / "exercises" / WELCOME / f"{WELCOME}.ipynb")


class TestLeakDetection:
    def test_cli_check_fails_on_a_leaky_copy(self, planted):
        assert planted.cli.code == 1
        assert "give answers away" in planted.cli.err and "q1" in planted.cli.err

    def test_each_mistake_is_reported_and_nothing_else(self, planted):
        problems = grading.check_student_copy(planted.student, planted.master)
        text = "\n".join(problems)
        assert "q1: no solution block" in text
        assert "q1: the student copy already assigns the tested variable `n_b2b_north`" in text
        assert "otter marker left in the student copy" in text and "# SOLUTION" in text
        assert "q2: a solution cell has no `# SOLUTION` line" in text
        assert "q2: solution text in the student copy" in text and "churn_share = float(" in text
        assert "q4: an explanation of the answer sits outside the solution block" in text and "*Solution.* **a.**" in text
        assert "the student copy's code is not valid Python" in text and "unexpected indent" in text
        assert not [p for p in problems if p.startswith("q3")], text

    def test_hidden_tests_shipped_beside_the_notebook(self, planted, build00, tmp_path):
        student_dir = tmp_path / "student"
        shutil.copytree(build00.student.parent, student_dir)
        student = student_dir / build00.student.name
        assert grading.check_student_copy(student, MASTER) == []
        # otter's `tests: files: true` style: test files next to the notebook, hidden cases included
        (student_dir / "tests").mkdir()
        (student_dir / "tests" / "q3.py").write_text(
            "_expected = _datasets.load('tickets').groupby('channel')['first_response_hours'].median()\n")
        nb = nbformat.read(student, as_version=4)
        nb.metadata["otter"]["tests"]["q4"]["suites"][0]["cases"].append(
            {"code": ">>> assert isinstance(q4_answer, str) and q4_answer.strip().lower() == 'a'",
             "hidden": True, "locked": False})
        nb.cells.append(nbformat.v4.new_raw_cell("# BEGIN SOLUTION"))
        nbformat.write(nb, student)
        text = "\n".join(grading.check_student_copy(student, MASTER))
        assert "q3: hidden test code shipped to students (tests/q3.py)" in text
        assert "q4: hidden test code shipped to students" in text and "metadata test q4" in text
        assert "test case of q4 is marked hidden" in text
        assert "otter marker left in the student copy" in text and "(raw)" in text

    def test_solution_copy_is_recognised_as_leaky(self, build00):
        """The autograder notebook holds every solution and hidden test: a sanity check."""
        problems = grading.check_student_copy(build00.solution, MASTER)
        for q in ("q1", "q2", "q3", "q4", "q5"):
            assert any(p.startswith(f"{q}: solution text") for p in problems), q
            assert any(p.startswith(f"{q}: hidden test code") for p in problems), q
        assert any("*Solution.* **a.**" in p for p in problems), "markdown solution cells count too"


@pytest.mark.skipif(Path(sys.prefix).resolve() != (REPO / ".venv").resolve(),
                    reason="`make lab` runs the repository's .venv; this test runs in another environment")
def test_make_lab_opens_the_course_with_notebooks_and_student_exercises(tmp_path):
    """`make lab` failed as root ("Running as root is not recommended") and was rooted at
    notebooks/, where the exercises could not be reached."""
    import re
    import signal
    import subprocess
    import time
    import urllib.request

    log = tmp_path / "lab.log"
    args = "--no-browser --ServerApp.port=0 --ServerApp.ip=127.0.0.1 --IdentityProvider.token=crmlab-test"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["make", "-C", str(REPO), "lab", f"LAB_ARGS={args}"], stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text(errors="replace"))
            url = f"http://127.0.0.1:{found.group(1)}" if found else None
        assert url, f"JupyterLab did not start:\n{log.read_text(errors='replace')[-2000:]}"

        def get(path):
            with urllib.request.urlopen(f"{url}{path}?token=crmlab-test", timeout=30) as response:
                return response.status, response.read()

        status, body = get("/api/contents/notebooks/exercises")
        names = {item["name"] for item in json.loads(body)["content"]}
        assert status == 200 and f"{WELCOME}.ipynb" in names
        status, body = get("/api/contents/notebooks")
        assert status == 200 and f"{WELCOME}.ipynb" in {i["name"] for i in json.loads(body)["content"]}
        status, body = get("/api/kernelspecs")
        assert json.loads(body)["default"] == "crmlab"
        assert get(f"/lab/tree/notebooks/{WELCOME}.ipynb")[0] == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_hand_graded_questions_become_columns_to_fill_in(tmp_path):
    """Exercise 12's memos (q7-q9) were missing from the CSV: now a sheet to fill in, the
    answers with the rubric for reading, and the totals, feedback and gradebooks take them up."""
    name = "12-case-studies"
    built = grading.build_exercise(REPO / "exercises" / name / f"{name}.ipynb", tmp_path / "build" / name)
    assert built.manual_points == {"q7": 4, "q8": 3, "q9": 3}
    nb = nbformat.read(built.autograder_notebook, as_version=4)   # the solution: full auto-graded marks
    placeholder = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert len(placeholder) == 3 and all(c.cell_type == "markdown" for c in placeholder)
    placeholder[0].source = "Memo to Securities Company A: stage the roll-out (SYNTHETIC figures)."
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(nb, subs / "mei.ipynb")
    out = tmp_path / "grades"
    table = grading.grade_submissions(subs, build_dir=tmp_path / "build", out_dir=out).set_index("submission")
    mei = table.loc["mei.ipynb"]
    assert mei["hand_pending"] == 3 and mei["possible"] == 20 and pd.isna(mei["q7"])
    sheet = pd.read_csv(out / "hand-grading.csv", dtype=str, keep_default_na=False)
    assert list(sheet.columns) == ["submission", "student", "exercise", "q7 (/4)", "q8 (/3)", "q9 (/3)", "comment"]
    answers = (out / f"hand-grading-{name}.md").read_text()
    assert "Memo to Securities Company A" in answers and "Rubric (4 points)" in answers
    # the instructor fills in the sheet (one value out of range) and runs the grading again
    sheet.loc[0, ["q7 (/4)", "q8 (/3)", "q9 (/3)", "comment"]] = ["3.5", "2", "7", "good memo"]
    sheet.to_csv(out / "hand-grading.csv", index=False)
    auto = mei["total"]
    table = grading.grade_submissions(subs, build_dir=tmp_path / "build", out_dir=out).set_index("submission")
    mei = table.loc["mei.ipynb"]
    assert mei["q7"] == 3.5 and mei["q8"] == 2 and pd.isna(mei["q9"]) and mei["hand_pending"] == 1
    assert mei["total"] == auto + 5.5
    assert "q9 = '7' is not a number from 0 to 3; ignored" in mei["notes"]
    assert pd.read_csv(out / "hand-grading.csv").loc[0, "comment"] == "good memo", "filled values are kept"
    assert "| q7 | 3.5 | 4 | graded by hand |" in (out / "feedback" / "mei" / f"{name}.md").read_text()
    moodle = pd.read_csv(out / "gradebook-moodle.csv").set_index("ID number")
    assert moodle.loc["mei", name] == auto + 5.5


def test_a_chinese_master_that_would_grade_differently_is_refused(tmp_path):
    """The twin is graded with the English build, so only its prose may differ; a missing twin, or
    one whose points, tests or answer key were changed, is refused before otter runs."""
    import copy

    folder = tmp_path / WELCOME
    (folder / "zh").mkdir(parents=True)
    master = folder / f"{WELCOME}.ipynb"
    shutil.copy(MASTER, master)
    with pytest.raises(DatasetNotFoundError, match=r"has no zh twin.*Fix: crmlab translate sync"):
        grading.build_twin(master, tmp_path / "out")
    twin = nbformat.read(grading.twin_masters(MASTER)["zh"], as_version=4)
    hidden = next(c for c in twin.cells if c.cell_type == "code" and "hidden: true" in c.source)
    hidden.source += "\nassert True  # a changed hidden test"
    nbformat.write(twin, folder / "zh" / f"{WELCOME}.ipynb")
    with pytest.raises(ParameterError, match=r"does not grade like .*q\d: hidden differs.*Fix: crmlab translate sync"):
        grading.build_twin(master, tmp_path / "out")
    assert not (tmp_path / "out").exists(), "nothing is built from a refused twin"
    spec = grading.grading_spec(MASTER)
    other = copy.deepcopy(spec)
    other["questions"][0]["points"] += 1
    choice = next(q for q in other["questions"] if q["choice"])
    choice["choice"]["key"] = "a" if choice["choice"]["key"] != "a" else "b"
    problems = grading.twin_spec_differences(spec, other)
    assert problems[0] == f"{spec['questions'][0]['name']}: points differs"
    assert any(f"{choice['name']}: multiple-choice" in p for p in problems)
    assert grading.twin_spec_differences(spec, {**spec, "questions": spec["questions"][:-1]})[0].startswith("questions differ")
    assert grading.twin_spec_differences(spec, grading.grading_spec(grading.twin_masters(MASTER)["zh"])) == []
