"""Every exercise master, discovered automatically: builds, solution full marks, blank copy zero,
student copy gives nothing away and is the one published, answers depend on the student's world,
multiple-choice keys are balanced.

One test class per master in ``exercises/*/*.ipynb`` is generated below, so a new exercise is
tested without editing this file. Each class is one xdist scope (``--dist loadscope``) that
builds its exercise once and grades, in one sandboxed batch, the solution and the blank copy on
the shipped world and the solution again on the world of another seed.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from crmlab.course import grading, sandbox
from crmlab.course.grading import (
    build_exercise,
    check_student_copy,
    discover_masters,
    grade_submissions,
    grading_spec,
    read_assignment_config,
)

REPO = Path(__file__).resolve().parents[1]
MASTERS = discover_masters(REPO / "exercises")
OTHER_SEED = 7
needs_sandbox = pytest.mark.skipif(sandbox.isolation_status().mode == "unavailable",
                                   reason=f"no sandbox here: {sandbox.isolation_status().reason}")


@pytest.fixture(scope="session")
def other_world(tmp_path_factory):
    """The default-size world of another seed (generated once per test worker)."""
    return grading.world_for_seed(OTHER_SEED, tmp_path_factory.mktemp("worlds"))


@pytest.fixture(scope="class")
def built(request, tmp_path_factory):
    """The exercise of the requesting class, built once into a temporary folder."""
    master = request.cls.master
    build_dir = tmp_path_factory.mktemp(f"build-{master.parent.name}")
    return build_exercise(master, build_dir / master.parent.name)


@pytest.fixture(scope="class")
def built_zh(request, tmp_path_factory):
    """The Chinese twin of the requesting class's master, built once (graded with the English build)."""
    master = request.cls.master
    if "zh" not in grading.twin_masters(master):
        pytest.fail(f"{master.relative_to(REPO)} has no Chinese twin: crmlab translate sync it and translate it")
    build_dir = tmp_path_factory.mktemp(f"build-zh-{master.parent.name}")
    return grading.build_twin(master, build_dir / master.parent.name)


@pytest.fixture(scope="class")
def graded(built, other_world, tmp_path_factory):
    """Solution and blank copy on the shipped world, the solution on another seed's world: one batch."""
    subs = tmp_path_factory.mktemp(f"subs-{built.name}")
    shutil.copy(built.autograder_notebook, subs / "solution.ipynb")
    shutil.copy(built.autograder_notebook, subs / "solution-other-seed.ipynb")
    shutil.copy(built.student_notebook, subs / "blank.ipynb")
    records: dict = {}
    table = grade_submissions(subs, build_dir=built.out_dir.parent, out_dir=None, timeout=600, jobs=1,
                              seed_map={"solution-other-seed.ipynb": OTHER_SEED},
                              worlds_dir=other_world.parent, on_result=lambda r: records.update({r["submission"]: r}))
    return table.set_index("submission"), records


class _ExerciseChecks:
    """The checks every master must pass; subclassed once per master (``master`` set)."""

    master: Path

    def test_config_name_is_the_folder_name(self):
        config = read_assignment_config(self.master)
        assert config["name"] == self.master.parent.name == self.master.stem, (
            f"{self.master}: ASSIGNMENT CONFIG name {config['name']!r} must equal the folder name")

    def test_build_writes_copies_and_grading_spec(self, built):
        assert built.student_notebook.is_file() and built.autograder_notebook.is_file()
        assert built.spec_path.is_file()
        assert built.points and built.possible > 0, "the exercise has no auto-graded question"
        spec = json.loads(built.spec_path.read_text())
        for q in spec["questions"]:
            if not q["manual"]:
                assert q["hidden"] and q["answers"], f"{q['name']}: no hidden test or no answer variable"
                assert sum(t["points"] for t in q["hidden"]) == pytest.approx(q["points"]), \
                    f"{q['name']}: the hidden tests must carry all of its points (format checks are worth 0)"

    @needs_sandbox
    def test_solution_scores_full_marks(self, built, graded):
        table, _ = graded
        for label in ("solution.ipynb", "solution-other-seed.ipynb"):
            row = table.loc[label]
            assert row["status"] == "graded" and row["error"] == "", row["error"]
            assert row["exercise"] == built.name
            assert "raised" not in row["notes"] and "stopped" not in row["notes"], row["notes"]
            missed = {q: row[q] for q in built.points if row[q] != pytest.approx(built.points[q])}
            assert not missed, f"{label} loses points on {missed} (of {built.points})"
            assert row["total"] == pytest.approx(built.possible)
        assert table.loc["solution-other-seed.ipynb", "seed"] == OTHER_SEED

    @needs_sandbox
    def test_blank_copy_scores_zero_without_crashing(self, built, graded):
        table, _ = graded
        row = table.loc["blank.ipynb"]
        assert row["status"] == "graded" and row["error"] == ""
        scored = {q: row[q] for q in built.points if row[q] != 0}
        assert not scored, f"the blank student copy scores points on {scored}: a test passes on `...`"
        assert row["total"] == 0

    @needs_sandbox
    def test_every_auto_graded_number_depends_on_the_world(self, built, graded):
        """A question whose answer is the same on every seed can be copied from a classmate: it
        must be marked `seed_independent: true` (multiple choice is by nature)."""
        _, records = graded
        spec = json.loads(built.spec_path.read_text())
        here, there = records["solution.ipynb"]["answers"], records["solution-other-seed.ipynb"]["answers"]
        same = [q["name"] for q in spec["questions"]
                if not q["manual"] and not q["choice"] and not q["seed_independent"]
                and all(here.get(n) == there.get(n) for n in q["answers"])]
        assert not same, (f"{built.name}: {same} have the same answer on seeds 2024 and {OTHER_SEED}; make them "
                          "depend on the student's world or mark them `seed_independent: true`")
        marked = [q["name"] for q in spec["questions"] if q["seed_independent"]
                  and any(here.get(n) != there.get(n) for n in q["answers"])]
        assert not marked, f"{built.name}: {marked} are marked seed-independent but their answers change"

    def test_student_copy_gives_nothing_away(self, built):
        problems = check_student_copy(built.student_notebook, self.master)
        assert problems == [], "\n".join(problems)

    def test_published_student_copy_is_current(self, built):
        name, text = grading.student_copy_text(built.student_notebook)
        published = REPO / grading.STUDENT_COPIES / f"{name}.ipynb"
        assert published.is_file() and published.read_text(encoding="utf-8") == text, (
            f"{published.relative_to(REPO)} is not the student copy of the current master: run "
            "`make student-copies` (crmlab exercises publish) and commit the result")

    def test_chinese_twin_grades_like_the_english(self):
        twin = grading.twin_masters(self.master).get("zh")
        assert twin is not None, f"{self.master.relative_to(REPO)} has no Chinese twin"
        assert grading.twin_spec_differences(grading_spec(self.master), grading_spec(twin)) == []
        assert read_assignment_config(twin)["name"] == read_assignment_config(self.master)["name"]

    def test_chinese_student_copy_gives_nothing_away_and_is_published(self, built_zh):
        assert check_student_copy(built_zh.student_notebook, built_zh.master) == []
        name, text = grading.student_copy_text(built_zh.student_notebook)
        published = REPO / grading.STUDENT_COPIES / "zh" / f"{name}.ipynb"
        assert published.is_file() and published.read_text(encoding="utf-8") == text, (
            f"{published.relative_to(REPO)} is not the student copy of the current Chinese master: run "
            "`make student-copies` and commit the result")
        prose = "".join(c.source for c in nbformat.read(published, 4).cells if c.cell_type == "markdown")
        assert len(re.findall(r"[\u4e00-\u9fff]", prose)) > 200, "the Chinese student copy is not in Chinese"


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
    published = sorted(p.stem for p in (REPO / grading.STUDENT_COPIES).glob("*.ipynb"))
    assert published == [f.name for f in folders], "notebooks/exercises/ must hold one copy per exercise, no more"


def test_multiple_choice_keys_are_balanced_and_lengths_give_nothing_away():
    """Over the course, each letter is the key about equally often, and the key is not the
    longest option more often than chance would make it."""
    questions = [q["choice"] for m in MASTERS for q in grading_spec(m)["questions"]
                 if q["choice"] and q["choice"]["key"] is not None]
    assert len(questions) >= 20
    keys = Counter(c["key"] for c in questions)
    letters = sorted({letter for c in questions for letter in c["options"]})
    fair = len(questions) / len(letters)
    assert all(abs(keys[letter] - fair) <= max(2, 0.35 * fair) for letter in letters), dict(keys)
    longest = sum(len(c["options"][c["key"]]) >= max(len(t) for t in c["options"].values()) for c in questions)
    assert longest <= 0.4 * len(questions), f"the key is the longest option in {longest} of {len(questions)}"
    ratios = [len(c["options"][c["key"]]) / statistics.mean(len(t) for k, t in c["options"].items() if k != c["key"])
              for c in questions]
    assert 0.75 <= statistics.median(ratios) <= 1.3, f"key length / other options' mean length: {statistics.median(ratios):.2f}"
