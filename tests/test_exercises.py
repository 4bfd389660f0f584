"""Every exercise master, discovered automatically: builds, solution full marks, blank copy zero,
student copy gives nothing away.

One test class per master in ``exercises/*/*.ipynb`` is generated below, so a new exercise is
tested without editing this file. Each class is one xdist scope (``--dist loadscope``) that
builds its exercise once and grades both copies in one batch.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from crmlab.course.grading import (
    build_exercise,
    check_student_copy,
    discover_masters,
    grade_submissions,
    read_assignment_config,
)

REPO = Path(__file__).resolve().parents[1]
MASTERS = discover_masters(REPO / "exercises")


@pytest.fixture(scope="class")
def built(request, tmp_path_factory):
    """The exercise of the requesting class, built once into a temporary folder."""
    master = request.cls.master
    build_dir = tmp_path_factory.mktemp(f"build-{master.parent.name}")
    return build_exercise(master, build_dir / master.parent.name)


@pytest.fixture(scope="class")
def grades(built, tmp_path_factory):
    """The solution (autograder notebook) and the blank student copy, graded in one batch."""
    subs = tmp_path_factory.mktemp(f"subs-{built.name}")
    shutil.copy(built.autograder_notebook, subs / "solution.ipynb")
    shutil.copy(built.student_notebook, subs / "blank.ipynb")
    table = grade_submissions(subs, build_dir=built.out_dir.parent, out_csv=None, timeout=120)
    return table.set_index("submission")


class _ExerciseChecks:
    """The checks every master must pass; subclassed once per master (``master`` set)."""

    master: Path

    def test_config_name_is_the_folder_name(self):
        config = read_assignment_config(self.master)
        assert config["name"] == self.master.parent.name == self.master.stem, (
            f"{self.master}: ASSIGNMENT CONFIG name {config['name']!r} must equal the folder name")

    def test_build_writes_copies_and_autograder(self, built):
        assert built.student_notebook.is_file() and built.autograder_notebook.is_file()
        assert built.autograder_zip.is_file() and built.autograder_zip.suffix == ".zip"
        assert built.points and built.possible > 0, "the exercise has no auto-graded question"

    def test_solution_scores_full_marks(self, built, grades):
        row = grades.loc["solution.ipynb"]
        assert row["exercise"] == built.name
        assert row["error"] == "", f"the solution notebook raised or failed to grade: {row['error']}"
        assert row["possible"] == pytest.approx(built.possible)
        missed = {q: row[q] for q in built.points if row[q] != pytest.approx(built.points[q])}
        assert not missed, f"solution loses points on {missed} (of {built.points})"
        assert row["total"] == pytest.approx(built.possible) and row["percent"] == pytest.approx(100)

    def test_blank_copy_scores_zero_without_crashing(self, built, grades):
        row = grades.loc["blank.ipynb"]
        for failure in ("grading failed", "grading stopped", "autograder error"):
            assert failure not in row["error"], f"grading the blank copy crashed: {row['error']}"
        assert row["possible"] == pytest.approx(built.possible)
        scored = {q: row[q] for q in built.points if row[q] != 0}
        assert not scored, f"the blank student copy scores points on {scored}: a test passes on `...`"
        assert row["total"] == 0

    def test_student_copy_gives_nothing_away(self, built):
        problems = check_student_copy(built.student_notebook, self.master)
        assert problems == [], "\n".join(problems)


for _master in MASTERS:
    _cls = "TestExercise_" + re.sub(r"\W", "_", _master.parent.name)
    globals()[_cls] = type(_cls, (_ExerciseChecks,), {"master": _master, "__module__": __name__})


def test_masters_are_discovered():
    """Every exercise folder holds exactly one master named like the folder; 00 is among them."""
    folders = sorted(p for p in (REPO / "exercises").iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in folders:
        notebooks = [p.name for p in folder.glob("*.ipynb")]
        assert notebooks == [f"{folder.name}.ipynb"], f"{folder}: expected one master {folder.name}.ipynb, found {notebooks}"
    assert [m.parent for m in MASTERS] == folders
    assert any(m.stem == "00-welcome-and-data-tour" for m in MASTERS)
    assert len([name for name in globals() if name.startswith("TestExercise_")]) == len(MASTERS)
